//! The documents a client receives, built from the records as [`follicle_docs::Document`]s (one
//! model, written as PDF for email and download and as HTML for the portal), with the clinic's
//! profile (`[clinic]` in its settings) at the top of each page.

use std::collections::BTreeMap;

use follicle_core::Settings;
use follicle_core::messages::{local, render};
use follicle_docs::{Block, Document, Letterhead, Logo, Signature};
use follicle_store::{GivenSignature, NewSignedConsent, SIGNATURE_BOX, SignatureMethod, SignedIn};
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
        logo: None,
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

/// What a client is asked to sign: a consent template's words for them, and the design and quote
/// a treatment consent is given for.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsentWords {
    /// The kind.
    pub kind: follicle_core::settings::ConsentKind,
    /// The template's version.
    pub version: String,
    /// The title, filled in.
    pub title: String,
    /// The text, filled in.
    pub text: String,
    /// The design (id, version) a treatment consent is for.
    pub design: Option<(uuid::Uuid, i64)>,
    /// The quote agreed with it (`Q-00002`), or empty.
    pub quote: String,
}

impl ConsentWords {
    /// The consent as signed now by `signer`, with `signature` strokes.
    pub fn signed(
        &self,
        client_id: uuid::Uuid,
        signer: &str,
        signature: &str,
        signed_in: SignedIn,
        address: &str,
        user_agent: &str,
    ) -> NewSignedConsent {
        let now = OffsetDateTime::now_utc();
        NewSignedConsent {
            client_id,
            kind: self.kind,
            template_version: self.version.clone(),
            title: self.title.clone(),
            text: self.text.clone(),
            design_id: self.design.map(|d| d.0),
            design_version: self.design.map(|d| d.1),
            quote_number: self.quote.clone(),
            signer_name: signer.trim().to_owned(),
            signature: signature.to_owned(),
            signed_at: now.replace_nanosecond(0).unwrap_or(now),
            signed_in,
            address: address.to_owned(),
            user_agent: user_agent.chars().take(300).collect(),
        }
    }
}

/// The words of a consent for a client whose latest design is `design`; a treatment consent
/// without a design is refused, in words for the client.
pub fn consent_for(
    settings: &Settings,
    clinic: &str,
    client_name: &str,
    kind: follicle_core::settings::ConsentKind,
    design: Option<&follicle_store::Design>,
) -> Result<ConsentWords, String> {
    let template = settings
        .consent
        .template(kind)
        .ok_or_else(|| "The clinic has no such consent.".to_owned())?;
    if kind == follicle_core::settings::ConsentKind::Procedure && design.is_none() {
        return Err(
            "The treatment consent is signed for a design, and none is drawn yet. \
                    It can be signed after the consultation."
                .to_owned(),
        );
    }
    let quote = design
        .and_then(|d| d.quote_number)
        .map(crate::wire::quote_label)
        .unwrap_or_default();
    let design_words = design.map_or_else(String::new, |d| format!("version {}", d.version));
    Ok(ConsentWords {
        kind,
        version: template.version.clone(),
        title: consent_words(&template.title, client_name, clinic, &design_words, &quote),
        text: consent_words(&template.text, client_name, clinic, &design_words, &quote),
        design: design.map(|d| (d.id, d.version)),
        quote,
    })
}

/// A consent signed, as its PDF: the document with the record's fingerprint, on the clinic's
/// letterhead with its logo (if it has one).
pub fn consent_pdf(
    settings: &Settings,
    registered: &str,
    clinic_id: uuid::Uuid,
    consent: &NewSignedConsent,
    witness: Option<&str>,
    logo: Option<Logo>,
) -> Result<Vec<u8>, follicle_docs::DocError> {
    let digest = follicle_store::consent_digest(clinic_id, consent);
    let mut doc = consent_document(settings, registered, consent, witness, &digest);
    doc.letterhead.logo = logo;
    follicle_docs::pdf(&doc)
}

/// A clinic's logo as the documents draw it.
pub fn docs_logo(logo: &follicle_store::ClinicLogo) -> Logo {
    Logo {
        bytes: logo.bytes.clone(),
        jpeg: logo.content_type == "image/jpeg",
        width: logo.width,
        height: logo.height,
    }
}

/// A clinic's logo for its documents, or `None` when it has none.
pub async fn logo_of(
    store: &follicle_store::Store,
    clinic_id: uuid::Uuid,
) -> Result<Option<Logo>, follicle_store::StoreError> {
    Ok(store.clinic_logo_of(clinic_id).await?.as_ref().map(docs_logo))
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
    let (strokes, typed, signed_by) = match follicle_store::read_signature(&consent.signature) {
        Ok(GivenSignature::Typed(name)) => (
            Vec::new(),
            Some(name),
            format!("{} signed by typing their name", consent.signer_name),
        ),
        Ok(GivenSignature::Drawn(strokes)) => (strokes, None, format!("Signed by {}", consent.signer_name)),
        // Checked when signed; anything unreadable is left out of the drawing.
        Err(_) => (Vec::new(), None, format!("Signed by {}", consent.signer_name)),
    };
    blocks.push(Block::Signature(Signature {
        strokes,
        typed,
        width: SIGNATURE_BOX.0,
        height: SIGNATURE_BOX.1,
        caption: vec![
            signed_by,
            format!("{} ({place})", when(settings, consent.signed_at)),
        ],
    }));
    blocks.push(Block::Heading("Record of signing".to_owned()));
    blocks.push(Block::Facts(vec![
        (
            "Signed with".to_owned(),
            match consent.method() {
                SignatureMethod::Drawn => "a signature drawn on the screen".to_owned(),
                SignatureMethod::Typed => "their full name, typed".to_owned(),
            },
        ),
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

/// When a pre-care instruction starts, in words: `On the day`, `From 2 days before`, `From 12 h before`.
pub fn precare_when(hours_before: u32) -> String {
    match hours_before {
        0 => "On the day".to_owned(),
        h if h % 24 == 0 => format!("From {} days before", h / 24),
        h => format!("From {h} h before"),
    }
}

/// A day in words: `Tuesday 3 March 2027`.
pub fn day(d: time::Date) -> String {
    format!("{} {} {} {}", d.weekday(), d.day(), d.month(), d.year())
}

/// The plan and quote as issued, for the client: sessions, price, deposit and cancellation,
/// touch-up, pre-care and the aftercare by day (in order).
pub fn plan_document(
    settings: &Settings,
    registered: &str,
    client_name: &str,
    plan: &follicle_store::record::PlanRecord,
    quote_number: Option<i64>,
) -> Document {
    use crate::wire::money;
    let head = letterhead(settings, registered);
    let mut reference = vec![("Client".to_owned(), client_name.to_owned())];
    let mut blocks = vec![Block::Heading("Your sessions".to_owned())];
    blocks.push(Block::Table {
        columns: vec![
            "Session".into(),
            "Date".into(),
            "Time in the chair".into(),
            "What it does".into(),
        ],
        rows: plan
            .sessions
            .iter()
            .map(|s| {
                vec![
                    format!("{}", s.index),
                    s.date.map_or_else(
                        || "to be agreed".to_owned(),
                        |d| format!("{}, {}", day(d), s.start_time),
                    ),
                    format!("about {:.1} hours", s.duration_hours),
                    s.purpose.clone(),
                ]
            })
            .collect(),
        widths: vec![0.8, 2.6, 1.5, 3.0],
    });
    if let Some(q) = &plan.quote {
        if let Some(n) = quote_number {
            reference.push(("Quote".to_owned(), crate::wire::quote_label(n)));
        }
        reference.push(("Issued".to_owned(), day(q.issued_on)));
        reference.push(("Valid until".to_owned(), day(q.valid_until)));
        blocks.push(Block::Heading("Price".to_owned()));
        let mut rows: Vec<Vec<String>> = q
            .lines
            .iter()
            .map(|l| vec![format!("Session {}", l.session), money(&q.currency, l.amount)])
            .collect();
        rows.push(vec!["Total".into(), money(&q.currency, q.total)]);
        blocks.push(Block::Table {
            columns: vec!["".into(), "Amount".into()],
            rows,
            widths: vec![3.0, 1.0],
        });
        let mut terms = Vec::new();
        match q.deposit {
            Some(d) => terms.push(format!(
                "A deposit of {} books your sessions; it is part of the total, and {} is paid over the sessions.",
                money(&q.currency, d),
                money(&q.currency, q.balance)
            )),
            None => terms.push("No deposit is taken until the plan can be booked.".to_owned()),
        }
        terms.push(format!(
            "You can move or cancel a visit free of charge until {} hours before it; after that the deposit may be kept.",
            q.cancellation_hours
        ));
        terms.push(format!(
            "This quote holds until {}. The prices of a booked plan do not change.",
            day(q.valid_until)
        ));
        blocks.push(Block::Bullets(terms));
        blocks.push(Block::Heading("Touch-up".to_owned()));
        blocks.push(Block::Paragraph(format!(
            "SMP fades slowly. A touch-up is likely due about {} ({:.1} years after your last session), at about {}.",
            q.touch_up.due_on.map_or_else(|| "a few years after your last session".to_owned(), day),
            q.touch_up.years_after_last_session,
            money(&q.currency, q.touch_up.price)
        )));
    }
    if !plan.precare.is_empty() {
        blocks.push(Block::Heading("Before each session".to_owned()));
        blocks.push(Block::Bullets(
            plan.precare
                .iter()
                .map(|p| format!("{}: {}", precare_when(p.hours_before), p.text))
                .collect(),
        ));
    }
    if let Some(v) = &plan.patch_test {
        blocks.push(Block::Heading("Patch test before session 1".to_owned()));
        blocks.push(Block::Paragraph(format!(
            "{}, {}: {}",
            v.date.map_or_else(|| "to be agreed".to_owned(), day),
            v.start_time,
            v.text
        )));
    }
    if !plan.aftercare.is_empty() {
        let mut aftercare = plan.aftercare.clone();
        aftercare.sort_by_key(|a| (a.from_day, a.to_day));
        blocks.push(Block::Heading(
            "Aftercare, day by day after each session".to_owned(),
        ));
        blocks.push(Block::Table {
            columns: vec!["Days".into(), "What to do".into()],
            rows: aftercare
                .iter()
                .map(|a| {
                    let days = if a.from_day == a.to_day {
                        format!("day {}", a.from_day)
                    } else {
                        format!("days {}–{}", a.from_day, a.to_day)
                    };
                    vec![days, a.text.clone()]
                })
                .collect(),
            widths: vec![1.0, 4.0],
        });
    }
    Document {
        footer: format!(
            "{} · {}",
            head.name,
            quote_number.map_or_else(|| "plan".to_owned(), crate::wire::quote_label)
        ),
        letterhead: head,
        title: "Your plan and quote".to_owned(),
        reference,
        blocks,
    }
}

/// The ink passport: what went into the client's skin at each session, with the label
/// information EU REACH (Annex XVII entry 75) asks the clinic to give them.
pub fn passport_document(
    settings: &Settings,
    registered: &str,
    client_name: &str,
    passport: &[follicle_store::InkEntry],
) -> Document {
    let head = letterhead(settings, registered);
    let mut blocks = vec![Block::Paragraph(
        "Each line is one session: the pigment used, its batch and expiry, its ingredients as labelled, \
         and the needle. Keep it with your records; show it to any doctor or later practitioner."
            .to_owned(),
    )];
    if passport.is_empty() {
        blocks.push(Block::Paragraph("No session is recorded yet.".to_owned()));
    } else {
        blocks.push(Block::Table {
            columns: vec![
                "Session".into(),
                "Pigment".into(),
                "Batch".into(),
                "Ingredients".into(),
                "Needle".into(),
            ],
            rows: passport
                .iter()
                .map(|i| {
                    vec![
                        day(i.performed_on),
                        format!("{} ({})", i.product, i.maker),
                        format!("lot {}, use by {}", i.lot, day(i.expires_on)),
                        i.ingredients.clone(),
                        format!("{}, lot {}", i.needle, i.needle_lot),
                    ]
                })
                .collect(),
            widths: vec![1.6, 1.6, 1.6, 2.4, 1.4],
        });
    }
    Document {
        footer: format!("{} · ink passport", head.name),
        letterhead: head,
        title: "Your ink passport".to_owned(),
        reference: vec![("Client".to_owned(), client_name.to_owned())],
        blocks,
    }
}

/// An amount in minor units (pence, cents) as clients read money: whole amounts as the quotes
/// write them (`£2,400`), others with their pence (`£249.50`).
pub fn money_minor(currency: &str, amount: i64) -> String {
    let whole = crate::wire::money(currency, amount / 100);
    match (amount % 100).unsigned_abs() {
        0 => whole,
        cents if amount < 0 && amount > -100 => {
            format!("-{}.{cents:02}", crate::wire::money(currency, 0))
        }
        cents => format!("{whole}.{cents:02}"),
    }
}

/// What a payment was for, in the client's words.
pub fn payment_words(kind: follicle_store::PaymentKind) -> &'static str {
    use follicle_store::PaymentKind as K;
    match kind {
        K::Deposit => "Deposit",
        K::Session => "Payment for a session",
        K::TouchUp => "Touch-up",
        K::PatchTest => "Patch test",
        K::Other => "Other",
        K::Refund => "Refund",
    }
}

/// How it was paid, in words.
pub fn method_words(method: follicle_store::PaymentMethod) -> &'static str {
    use follicle_store::PaymentMethod as M;
    match method {
        M::Card => "card",
        M::Cash => "cash",
        M::BankTransfer => "bank transfer",
        M::Other => "other",
    }
}

/// A receipt as handed over: everything it says comes from the stored [`follicle_store::Receipt`]
/// (the letterhead as it was that day too), so the same receipt prints the same words.
pub fn receipt_document(r: &follicle_store::Receipt, at: OffsetDateTime) -> Document {
    let label = follicle_store::receipt_label(r.number);
    let refund = r.kind == follicle_store::PaymentKind::Refund;
    let title = if refund { "Refund receipt" } else { "Receipt" };
    let mut reference = vec![
        ("Receipt".to_owned(), label.clone()),
        (
            "Date".to_owned(),
            format!(
                "{} {} {}, {:02}:{:02}",
                at.day(),
                at.month(),
                at.year(),
                at.hour(),
                at.minute()
            ),
        ),
        ("Client".to_owned(), r.client_name.clone()),
    ];
    if let Some(q) = r.quote_number {
        reference.push(("Quote".to_owned(), crate::wire::quote_label(q)));
    }
    let mut what = payment_words(r.kind).to_owned();
    if let Some(v) = r.visit {
        what.push_str(&format!(" — visit on {} {} {}", v.day(), v.month(), v.year()));
    }
    if !r.note.is_empty() {
        what.push_str(&format!(" ({})", r.note));
    }
    let amount = money_minor(&r.currency, r.amount);
    let mut blocks = vec![
        Block::Table {
            columns: vec!["".into(), "Amount".into()],
            rows: vec![
                vec![what, amount.clone()],
                vec![
                    if refund { "Total refunded" } else { "Total paid" }.to_owned(),
                    amount.clone(),
                ],
            ],
            widths: vec![3.0, 1.0],
        },
        Block::Facts(vec![
            (
                if refund { "Refunded with" } else { "Paid with" }.to_owned(),
                method_words(r.method).to_owned(),
            ),
            (
                if refund { "Given back by" } else { "Received by" }.to_owned(),
                if r.taken_by.is_empty() {
                    r.issuer.clinic.clone()
                } else {
                    format!("{} for {}", r.taken_by, r.issuer.clinic)
                },
            ),
        ]),
    ];
    if let (Some(q), Some(total), Some(paid)) = (r.quote_number, r.quote_total, r.paid_towards_quote) {
        let left = total - paid;
        blocks.push(Block::Heading("Your quote".to_owned()));
        blocks.push(Block::Facts(vec![
            (
                format!("Quote {}", crate::wire::quote_label(q)),
                money_minor(&r.currency, total),
            ),
            (
                "Paid so far, with this receipt".to_owned(),
                money_minor(&r.currency, paid),
            ),
            ("Still to pay".to_owned(), money_minor(&r.currency, left.max(0))),
        ]));
    }
    blocks.push(Block::Paragraph(if refund {
        format!("{amount} has been given back to you. Keep this receipt with your records.")
    } else {
        format!("{amount} received with thanks. Keep this receipt with your records.")
    }));
    Document {
        footer: format!("{} · {title} {label}", r.issuer.clinic),
        letterhead: Letterhead {
            name: r.issuer.clinic.clone(),
            lines: r.issuer.lines.clone(),
            logo: None,
        },
        title: title.to_owned(),
        reference,
        blocks,
    }
}

/// The issuer of a clinic's receipts today: its name and letterhead lines from its profile.
fn receipt_issuer(settings: &Settings, registered: &str) -> follicle_store::ReceiptIssuer {
    let head = letterhead(settings, registered);
    follicle_store::ReceiptIssuer {
        clinic: head.name,
        lines: head.lines,
    }
}

/// Renders a receipt's PDF with the clinic's logo (the closure the store calls as it issues
/// the receipt, inside the payment's transaction).
fn receipt_renderer(
    settings: std::sync::Arc<follicle_core::Settings>,
    logo: Option<follicle_docs::Logo>,
) -> impl FnOnce(&follicle_store::Receipt) -> Result<Vec<u8>, String> + Send {
    move |r: &follicle_store::Receipt| {
        let mut doc = receipt_document(r, local(&settings, r.issued_at));
        doc.letterhead.logo = logo;
        follicle_docs::pdf(&doc).map_err(|e| e.to_string())
    }
}

/// What taking a payment needs to issue its receipt, for the acting user's clinic today: the
/// issuer (the letterhead's name and lines) and the renderer of the PDF (with the logo).
pub async fn receipt_maker(
    state: &crate::state::AppState,
    actor: &follicle_store::Actor,
) -> crate::error::ApiResult<(
    follicle_store::ReceiptIssuer,
    impl FnOnce(&follicle_store::Receipt) -> Result<Vec<u8>, String> + Send,
)> {
    let settings = state.clinic_settings(actor).await?;
    let registered = state.store().clinic(actor).await?.name;
    let logo = logo_of(state.store(), actor.clinic_id()).await?;
    Ok((
        receipt_issuer(&settings, &registered),
        receipt_renderer(settings, logo),
    ))
}
