//! The documents a client receives, built from the records as [`follicle_docs::Document`]s (one
//! model, written as PDF for email and download and as HTML for the portal), with the clinic's
//! profile (`[clinic]` in its settings) at the top of each page.

use std::collections::BTreeMap;

use follicle_core::Settings;
use follicle_core::messages::{local, render};
use follicle_docs::{Block, Document, Letterhead, Signature};
use follicle_store::{NewSignedConsent, SIGNATURE_BOX, SignedIn};
use time::OffsetDateTime;

/// The clinic's name as its clients see it: the profile's display name, or the name it was
/// created with.
pub fn clinic_name(settings: &Settings, registered: &str) -> String {
    let shown = settings.clinic.display_name.trim();
    if shown.is_empty() {
        registered.to_owned()
    } else {
        shown.to_owned()
    }
}

/// The letterhead of a clinic: its name, address, contact line and registration.
pub fn letterhead(settings: &Settings, registered: &str) -> Letterhead {
    let c = &settings.clinic;
    let contact: Vec<&str> = [c.phone.trim(), c.email.trim(), c.website.trim()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    let mut lines: Vec<String> = c
        .address
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if !contact.is_empty() {
        lines.push(contact.join(" · "));
    }
    if !c.registration.trim().is_empty() {
        lines.push(format!("Registration {}", c.registration.trim()));
    }
    Letterhead {
        name: clinic_name(settings, registered),
        lines,
    }
}

/// A moment in the clinic's time zone, in words: `3 December 2026, 10:15`.
pub fn when(settings: &Settings, at: OffsetDateTime) -> String {
    let at = local(settings, at);
    format!(
        "{} {} {}, {:02}:{:02}",
        at.day(),
        at.month(),
        at.year(),
        at.hour(),
        at.minute()
    )
}

/// A consent template's words for one client: `{client_name}`, `{clinic_name}`, `{design}`
/// and `{quote}` filled in.
pub fn consent_words(template: &str, client: &str, clinic: &str, design: &str, quote: &str) -> String {
    let values = BTreeMap::from([
        ("client_name", client.to_owned()),
        ("clinic_name", clinic.to_owned()),
        ("design", design.to_owned()),
        ("quote", quote.to_owned()),
    ]);
    render(template, &values).trim().to_owned()
}

/// The strokes of a stored signature (already checked when signed; anything unreadable is
/// left out of the drawing).
fn strokes(signature: &str) -> Vec<Vec<(f32, f32)>> {
    follicle_store::parse_signature(signature).unwrap_or_default()
}

/// A signed consent as a document: the text as signed, the signature, and the evidence with
/// the record's digest.
pub fn consent_document(
    settings: &Settings,
    registered: &str,
    consent: &NewSignedConsent,
    witness: Option<&str>,
    digest: &str,
) -> Document {
    let head = letterhead(settings, registered);
    let mut reference = vec![
        ("Client".to_owned(), consent.signer_name.clone()),
        ("Text version".to_owned(), consent.template_version.clone()),
    ];
    if let Some(v) = consent.design_version {
        reference.push(("Design".to_owned(), format!("version {v}")));
    }
    if !consent.quote_number.is_empty() {
        reference.push(("Quote".to_owned(), consent.quote_number.clone()));
    }
    reference.push(("Signed".to_owned(), when(settings, consent.signed_at)));
    let mut blocks: Vec<Block> = consent
        .text
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .map(Block::Paragraph)
        .collect();
    let place = match (consent.signed_in, witness) {
        (SignedIn::Portal, _) => "in the client's own pages, on their device".to_owned(),
        (SignedIn::Chair, Some(w)) => format!("at the clinic, with {w} present"),
        (SignedIn::Chair, None) => "at the clinic".to_owned(),
    };
    blocks.push(Block::Heading("Signature".to_owned()));
    blocks.push(Block::Signature(Signature {
        strokes: strokes(&consent.signature),
        width: SIGNATURE_BOX.0,
        height: SIGNATURE_BOX.1,
        caption: vec![
            format!("Signed by {}", consent.signer_name),
            format!("{} ({place})", when(settings, consent.signed_at)),
        ],
    }));
    blocks.push(Block::Heading("Record of signing".to_owned()));
    blocks.push(Block::Facts(vec![
        ("Network address".to_owned(), consent.address.clone()),
        ("Browser".to_owned(), consent.user_agent.clone()),
        ("Fingerprint (SHA-256)".to_owned(), digest.to_owned()),
    ]));
    blocks.push(Block::Paragraph(format!(
        "{} keeps this consent exactly as signed. The fingerprint is computed from everything above; \
         any change to the record would change it. You can withdraw this consent at any time.",
        head.name
    )));
    Document {
        footer: format!(
            "{} · {} · version {}",
            head.name, consent.title, consent.template_version
        ),
        letterhead: head,
        title: consent.title.clone(),
        reference,
        blocks,
    }
}
