//! Consents signed with a drawn signature, in the client's portal or at the chair, kept with their
//! evidence: the exact title and text of the template version shown, the design and quote they
//! were given for, the signer's name and strokes, when, from which address and browser, a SHA-256
//! of all of it ([`consent_digest`]) and the PDF the client was sent (with its own SHA-256).
//!
//! A signed consent is never changed: the database refuses updates (a trigger), a withdrawal is
//! a record of its own, and [`Store::check_consent`] recomputes both digests, so a byte changed
//! behind Follicle's back (in the database or in a PDF someone presents) is detected.

use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use follicle_core::settings::ConsentKind;

use super::portal::PortalClient;
use super::{Store, audit_insert, now, on_db};
use crate::auth::{Actor, hex};
use crate::error::{StoreError, StoreResult};
use crate::model::AuditAction;
use crate::role::Action;

/// Where a consent was signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignedIn {
    /// In the client's portal, on their own device.
    Portal,
    /// At the clinic, on the clinic's device, with a staff member present.
    Chair,
}

impl SignedIn {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SignedIn::Portal => "portal",
            SignedIn::Chair => "chair",
        }
    }
}

/// A consent about to be signed: everything its digest covers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewSignedConsent {
    /// The client.
    pub client_id: Uuid,
    /// What it covers.
    pub kind: ConsentKind,
    /// The template's version.
    pub template_version: String,
    /// The title shown.
    pub title: String,
    /// The text shown, variables filled in.
    pub text: String,
    /// The design it is given for (the procedure consent).
    pub design_id: Option<Uuid>,
    /// That design's version.
    pub design_version: Option<i64>,
    /// The quote agreed (`Q-000042`), or empty.
    pub quote_number: String,
    /// The name the client signed with.
    pub signer_name: String,
    /// The drawn signature: strokes separated by `;`, points `x,y` separated by spaces, in a
    /// 600 × 200 box.
    pub signature: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub signed_at: OffsetDateTime,
    /// Where.
    pub signed_in: SignedIn,
    /// The network address the signature came from.
    pub address: String,
    /// The browser's user agent.
    pub user_agent: String,
}

/// A signed consent as kept (its PDF is read separately).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignedConsent {
    /// Its id.
    pub id: Uuid,
    /// What was signed.
    #[serde(flatten)]
    pub signed: NewSignedConsent,
    /// The staff member present, when signed at the chair.
    pub witnessed_by: Option<Uuid>,
    /// SHA-256 of what was signed ([`consent_digest`]).
    pub document_sha256: String,
    /// SHA-256 of the PDF sent to the client.
    pub pdf_sha256: String,
    /// Its withdrawal, if it was withdrawn.
    pub withdrawal: Option<Withdrawal>,
}

impl SignedConsent {
    /// Whether it stands (signed and not withdrawn).
    pub fn stands(&self) -> bool {
        self.withdrawal.is_none()
    }
}

/// A consent withdrawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Withdrawal {
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Whether the client withdrew it in their portal (otherwise the clinic recorded it).
    pub by_client: bool,
    /// The staff member who recorded it.
    pub recorded_by: Option<Uuid>,
    /// Why, as given.
    pub reason: String,
}

/// What a check of a signed consent found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ConsentCheck {
    /// The stored record still gives its digest.
    pub document_intact: bool,
    /// The stored PDF still gives its digest.
    pub pdf_intact: bool,
}

/// The longest signature kept (characters): about 2,000 points.
const MAX_SIGNATURE: usize = 24_000;
/// The fewest points a signature has (a tap is not a signature).
const MIN_POINTS: usize = 5;
/// The signature box.
pub const SIGNATURE_BOX: (f32, f32) = (600.0, 200.0);

/// The strokes of a signature's text, checked: points inside the box, enough of them, not too
/// many. The error is in words for the signer.
pub fn parse_signature(text: &str) -> StoreResult<Vec<Vec<(f32, f32)>>> {
    let bad = |message: &str| Err(StoreError::invalid("signature", message.to_owned()));
    if text.len() > MAX_SIGNATURE {
        return bad("the signature is too long; clear it and sign once");
    }
    let mut strokes = Vec::new();
    for stroke in text.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let mut points = Vec::new();
        for point in stroke.split_whitespace() {
            let Some((x, y)) = point.split_once(',') else {
                return bad("the signature did not come through; clear it and sign again");
            };
            let (Ok(x), Ok(y)) = (x.parse::<f32>(), y.parse::<f32>()) else {
                return bad("the signature did not come through; clear it and sign again");
            };
            if !(0.0..=SIGNATURE_BOX.0).contains(&x) || !(0.0..=SIGNATURE_BOX.1).contains(&y) {
                return bad("the signature goes outside its box; clear it and sign again");
            }
            points.push((x, y));
        }
        strokes.push(points);
    }
    if strokes.iter().map(Vec::len).sum::<usize>() < MIN_POINTS {
        return bad("please sign in the box with your finger, pen or mouse");
    }
    Ok(strokes)
}

/// How a consent was signed: a signature drawn with a finger, pen or mouse, or — for a person
/// who cannot draw with a pointer — their full name typed with the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureMethod {
    /// Strokes drawn in the signature box.
    Drawn,
    /// The signer's full name typed, matching the name on the client's record.
    Typed,
}

impl SignatureMethod {
    /// The name used in records and exports.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureMethod::Drawn => "drawn",
            SignatureMethod::Typed => "typed",
        }
    }
}

/// How a typed signature is kept in the `signature` field: this prefix, then the name as
/// typed. A drawn signature is digits, commas, spaces and semicolons, so the two never meet,
/// and the method is part of what [`consent_digest`] covers without a new column or a new
/// digest version (the consents signed before keep their fingerprints).
pub const TYPED_SIGNATURE_PREFIX: &str = "typed:";

/// A signature as given: strokes, or a name typed.
#[derive(Debug, Clone, PartialEq)]
pub enum GivenSignature {
    /// Strokes of points in the [`SIGNATURE_BOX`].
    Drawn(Vec<Vec<(f32, f32)>>),
    /// The name typed, as typed (trimmed).
    Typed(String),
}

/// The stored text of a signature made by typing `name`.
pub fn typed_signature(name: &str) -> String {
    format!("{TYPED_SIGNATURE_PREFIX}{}", name.trim())
}

/// A signature's stored text, read and checked: a typed name (1 to 200 characters, no control
/// characters) or drawn strokes ([`parse_signature`]).
pub fn read_signature(text: &str) -> StoreResult<GivenSignature> {
    match text.strip_prefix(TYPED_SIGNATURE_PREFIX) {
        Some(name) => {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
                return Err(StoreError::invalid(
                    "signature",
                    "type your full name (1 to 200 characters) to sign".to_owned(),
                ));
            }
            Ok(GivenSignature::Typed(name.to_owned()))
        }
        None => parse_signature(text).map(GivenSignature::Drawn),
    }
}

/// Whether two names are the same name, case and spacing ignored (`"sam  ólafsson"` is
/// `"Sam Ólafsson"`): how a typed signature is matched to the name on the client's record.
pub fn same_name(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    let (a, b) = (norm(a), norm(b));
    !a.is_empty() && a == b
}

impl NewSignedConsent {
    /// How it was signed.
    pub fn method(&self) -> SignatureMethod {
        if self.signature.starts_with(TYPED_SIGNATURE_PREFIX) {
            SignatureMethod::Typed
        } else {
            SignatureMethod::Drawn
        }
    }
}

/// The SHA-256 (hex) of a signed consent's content in one canonical form: a version line, then
/// the clinic and every field of [`NewSignedConsent`] but the client's id (two records of one
/// person may be merged) as JSON in a fixed order, times in RFC 3339 UTC.
pub fn consent_digest(clinic_id: Uuid, c: &NewSignedConsent) -> String {
    let signed_at = c
        .signed_at
        .to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default();
    let fields = serde_json::json!([
        clinic_id,
        c.kind.as_str(),
        c.template_version,
        c.title,
        c.text,
        c.design_id,
        c.design_version,
        c.quote_number,
        c.signer_name,
        c.signature,
        signed_at,
        c.signed_in.as_str(),
        c.address,
        c.user_agent,
    ]);
    let mut hasher = Sha256::new();
    hasher.update(b"follicle signed consent v1\n");
    hasher.update(fields.to_string().as_bytes());
    hex(&hasher.finalize())
}

const COLS: &str = "c.id, c.client_id, c.kind, c.template_version, c.title, c.text, c.design_id, c.design_version, \
     c.quote_number, c.signer_name, c.signature, c.signed_at, c.signed_in, c.witnessed_by, c.address, c.user_agent, \
     c.document_sha256, c.pdf_sha256, w.withdrawn_at, w.by_client, w.recorded_by, w.reason";
const FROM: &str = "FROM signed_consents c LEFT JOIN consent_withdrawals w ON w.clinic_id = c.clinic_id AND w.consent_id = c.id";

/// A signed consent's row, read column by column (more than 16 columns).
macro_rules! consent_row {
    ($r:expr) => {{
        use sqlx::Row;
        let r = $r;
        let kind: String = r.try_get(2)?;
        let signed_in: String = r.try_get(12)?;
        let withdrawn_at: Option<OffsetDateTime> = r.try_get(18)?;
        Ok::<_, sqlx::Error>((
            SignedConsent {
                id: r.try_get(0)?,
                signed: NewSignedConsent {
                    client_id: r.try_get(1)?,
                    kind: ConsentKind::Procedure,
                    template_version: r.try_get(3)?,
                    title: r.try_get(4)?,
                    text: r.try_get(5)?,
                    design_id: r.try_get(6)?,
                    design_version: r.try_get(7)?,
                    quote_number: r.try_get(8)?,
                    signer_name: r.try_get(9)?,
                    signature: r.try_get(10)?,
                    signed_at: r.try_get(11)?,
                    signed_in: if signed_in == "chair" {
                        SignedIn::Chair
                    } else {
                        SignedIn::Portal
                    },
                    address: r.try_get(14)?,
                    user_agent: r.try_get(15)?,
                },
                witnessed_by: r.try_get(13)?,
                document_sha256: r.try_get(16)?,
                pdf_sha256: r.try_get(17)?,
                withdrawal: match withdrawn_at {
                    Some(at) => Some(Withdrawal {
                        at,
                        by_client: r.try_get(19)?,
                        recorded_by: r.try_get(20)?,
                        reason: r.try_get(21)?,
                    }),
                    None => None,
                },
            },
            kind,
        ))
    }};
}

fn with_kind((mut consent, kind): (SignedConsent, String)) -> StoreResult<SignedConsent> {
    consent.signed.kind = ConsentKind::parse(&kind)
        .ok_or_else(|| StoreError::Internal(format!("a stored consent of kind {kind:?}")))?;
    Ok(consent)
}

impl Store {
    async fn insert_signed_consent(
        &self,
        clinic_id: Uuid,
        c: &NewSignedConsent,
        witnessed_by: Option<Uuid>,
        pdf: &[u8],
    ) -> StoreResult<SignedConsent> {
        let given = read_signature(&c.signature)?;
        let name = c.signer_name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(StoreError::invalid(
                "signer_name",
                format!(
                    "expected your full name (1 to 200 characters), got {:?}",
                    c.signer_name
                ),
            ));
        }
        if let GivenSignature::Typed(typed) = &given {
            // A typed signature is the client's own name as the clinic has it, and the name
            // signed with: anything else is not their signature.
            let on_record: Option<(String,)> = on_db!(self, pool => {
                sqlx::query_as("SELECT name FROM clients WHERE clinic_id = $1 AND id = $2")
                    .bind(clinic_id).bind(c.client_id).fetch_optional(pool).await?
            });
            let on_record = on_record.ok_or_else(|| StoreError::not_found("client"))?.0;
            if !same_name(typed, &on_record) || !same_name(typed, name) {
                return Err(StoreError::invalid(
                    "signature",
                    format!(
                        "the name typed, {typed:?}, is not the name on the client's record ({on_record:?}); \
                         type it as it is there (capitals and spaces do not matter), or draw the signature"
                    ),
                ));
            }
        }
        if c.kind == ConsentKind::Procedure && c.design_id.is_none() {
            return Err(StoreError::invalid(
                "design",
                "a treatment consent is signed for a design; the client has none yet".to_owned(),
            ));
        }
        if let Some(design) = c.design_id {
            let found: Option<(Uuid,)> = on_db!(self, pool => {
                sqlx::query_as("SELECT id FROM designs WHERE clinic_id = $1 AND client_id = $2 AND id = $3")
                    .bind(clinic_id).bind(c.client_id).bind(design).fetch_optional(pool).await?
            });
            if found.is_none() {
                return Err(StoreError::not_found("design"));
            }
        }
        let id = Uuid::new_v4();
        let digest = consent_digest(clinic_id, c);
        let pdf_digest = hex(&Sha256::digest(pdf));
        let agent: String = c.user_agent.chars().take(300).collect();
        on_db!(self, pool => {
            sqlx::query(
                "INSERT INTO signed_consents (id, clinic_id, client_id, kind, template_version, title, text, design_id, \
                 design_version, quote_number, signer_name, signature, signed_at, signed_in, witnessed_by, address, \
                 user_agent, document_sha256, pdf, pdf_sha256) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
            )
            .bind(id).bind(clinic_id).bind(c.client_id).bind(c.kind.as_str()).bind(&c.template_version)
            .bind(&c.title).bind(&c.text).bind(c.design_id).bind(c.design_version).bind(&c.quote_number)
            .bind(name).bind(&c.signature).bind(c.signed_at).bind(c.signed_in.as_str()).bind(witnessed_by)
            .bind(&c.address).bind(&agent).bind(&digest).bind(pdf).bind(&pdf_digest)
            .execute(pool).await?;
        });
        self.consent_of(clinic_id, Some(c.client_id), id)
            .await?
            .ok_or_else(|| StoreError::Internal("a consent just signed does not read".into()))
    }

    async fn consent_of(
        &self,
        clinic_id: Uuid,
        client_id: Option<Uuid>,
        id: Uuid,
    ) -> StoreResult<Option<SignedConsent>> {
        let row = on_db!(self, pool => {
            match sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLS} {FROM} WHERE c.clinic_id = $1 AND c.id = $2 AND ($3 IS NULL OR c.client_id = $3)"
            )))
            .bind(clinic_id).bind(id).bind(client_id).fetch_optional(pool).await?
            {
                Some(r) => Some(consent_row!(&r)?),
                None => None,
            }
        });
        row.map(with_kind).transpose()
    }

    async fn consents_of(&self, clinic_id: Uuid, client_id: Uuid) -> StoreResult<Vec<SignedConsent>> {
        let rows = on_db!(self, pool => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLS} {FROM} WHERE c.clinic_id = $1 AND c.client_id = $2 ORDER BY c.signed_at DESC, c.id"
            )))
            .bind(clinic_id).bind(client_id).fetch_all(pool).await?
            .iter().map(|r| consent_row!(r)).collect::<Result<Vec<_>, _>>()?
        });
        rows.into_iter().map(with_kind).collect()
    }

    async fn pdf_of(&self, clinic_id: Uuid, client_id: Option<Uuid>, id: Uuid) -> StoreResult<Vec<u8>> {
        let row: Option<(Vec<u8>,)> = on_db!(self, pool => {
            sqlx::query_as("SELECT pdf FROM signed_consents WHERE clinic_id = $1 AND id = $2 AND ($3 IS NULL OR client_id = $3)")
                .bind(clinic_id).bind(id).bind(client_id).fetch_optional(pool).await?
        });
        row.map(|r| r.0).ok_or_else(|| StoreError::not_found("consent"))
    }

    async fn insert_withdrawal(
        &self,
        clinic_id: Uuid,
        consent: &SignedConsent,
        by_client: bool,
        recorded_by: Option<Uuid>,
        reason: &str,
    ) -> StoreResult<()> {
        if consent.withdrawal.is_some() {
            return Err(StoreError::Conflict {
                message: format!("{} was already withdrawn", consent.signed.title),
            });
        }
        let reason: String = reason.trim().chars().take(1000).collect();
        on_db!(self, pool => {
            sqlx::query(
                "INSERT INTO consent_withdrawals (consent_id, clinic_id, withdrawn_at, by_client, recorded_by, reason) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (consent_id) DO NOTHING",
            )
            .bind(consent.id).bind(clinic_id).bind(now()).bind(by_client).bind(recorded_by).bind(reason)
            .execute(pool).await?;
        });
        Ok(())
    }

    /// A signed consent and its PDF, for the copy mailed to the client (the server's worker,
    /// no user acting).
    pub async fn signed_consent_copy(
        &self,
        clinic_id: Uuid,
        client_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<(SignedConsent, Vec<u8>)>> {
        match self.consent_of(clinic_id, Some(client_id), id).await? {
            Some(consent) => Ok(Some((
                consent,
                self.pdf_of(clinic_id, Some(client_id), id).await?,
            ))),
            None => Ok(None),
        }
    }

    // ----- the client, in their portal -----

    /// The client signs a consent in their portal.
    pub async fn sign_own_consent(
        &self,
        me: &PortalClient,
        consent: &NewSignedConsent,
        pdf: &[u8],
    ) -> StoreResult<SignedConsent> {
        if consent.client_id != me.client_id || consent.signed_in != SignedIn::Portal {
            return Err(StoreError::not_found("client"));
        }
        self.insert_signed_consent(me.clinic_id, consent, None, pdf).await
    }

    /// The client's signed consents, latest first.
    pub async fn own_consents(&self, me: &PortalClient) -> StoreResult<Vec<SignedConsent>> {
        self.consents_of(me.clinic_id, me.client_id).await
    }

    /// One of the client's signed consents with its PDF.
    pub async fn own_consent(&self, me: &PortalClient, id: Uuid) -> StoreResult<(SignedConsent, Vec<u8>)> {
        let consent = self
            .consent_of(me.clinic_id, Some(me.client_id), id)
            .await?
            .ok_or_else(|| StoreError::not_found("consent"))?;
        Ok((consent, self.pdf_of(me.clinic_id, Some(me.client_id), id).await?))
    }

    /// The client withdraws one of their consents.
    pub async fn withdraw_own_consent(&self, me: &PortalClient, id: Uuid, reason: &str) -> StoreResult<()> {
        let consent = self
            .consent_of(me.clinic_id, Some(me.client_id), id)
            .await?
            .ok_or_else(|| StoreError::not_found("consent"))?;
        self.insert_withdrawal(me.clinic_id, &consent, true, None, reason)
            .await
    }

    // ----- the clinic -----

    /// A client signs a consent at the chair, on the clinic's device, with `actor` present.
    pub async fn sign_consent_at_chair(
        &self,
        actor: &Actor,
        consent: &NewSignedConsent,
        pdf: &[u8],
    ) -> StoreResult<SignedConsent> {
        actor.require(Action::EditClinicalRecords)?;
        if consent.signed_in != SignedIn::Chair {
            return Err(StoreError::invalid("signed_in", "expected chair".to_owned()));
        }
        self.ensure_client(actor, consent.client_id).await?;
        let signed = self
            .insert_signed_consent(actor.clinic_id, consent, Some(actor.user_id), pdf)
            .await?;
        self.audit(
            actor,
            Some(consent.client_id),
            AuditAction::Created,
            &format!("{} consent signed at the chair", consent.kind.as_str()),
        )
        .await?;
        Ok(signed)
    }

    /// A client's signed consents, latest first.
    pub async fn signed_consents(&self, actor: &Actor, client_id: Uuid) -> StoreResult<Vec<SignedConsent>> {
        actor.require(Action::ViewClinicalRecords)?;
        self.ensure_client(actor, client_id).await?;
        let consents = self.consents_of(actor.clinic_id, client_id).await?;
        self.audit(actor, Some(client_id), AuditAction::Viewed, "signed consents")
            .await?;
        Ok(consents)
    }

    /// One signed consent with its PDF.
    pub async fn signed_consent(&self, actor: &Actor, id: Uuid) -> StoreResult<(SignedConsent, Vec<u8>)> {
        actor.require(Action::ViewClinicalRecords)?;
        let consent = self
            .consent_of(actor.clinic_id, None, id)
            .await?
            .ok_or_else(|| StoreError::not_found("consent"))?;
        let pdf = self.pdf_of(actor.clinic_id, None, id).await?;
        self.audit(
            actor,
            Some(consent.signed.client_id),
            AuditAction::Viewed,
            &format!("signed consent {id}"),
        )
        .await?;
        Ok((consent, pdf))
    }

    /// The clinic records that a client withdrew a consent (by phone, in person), with why.
    pub async fn record_consent_withdrawal(&self, actor: &Actor, id: Uuid, reason: &str) -> StoreResult<()> {
        actor.require(Action::EditClinicalRecords)?;
        let consent = self
            .consent_of(actor.clinic_id, None, id)
            .await?
            .ok_or_else(|| StoreError::not_found("consent"))?;
        self.insert_withdrawal(actor.clinic_id, &consent, false, Some(actor.user_id), reason)
            .await?;
        on_db!(self, pool => {
            audit_insert!(actor, Some(consent.signed.client_id), AuditAction::Changed, format!("consent {id} withdrawn"))
                .execute(pool).await?;
        });
        Ok(())
    }

    /// Recomputes a signed consent's digests from what is stored: a byte changed in the record or
    /// in its PDF shows.
    pub async fn check_consent(&self, actor: &Actor, id: Uuid) -> StoreResult<ConsentCheck> {
        actor.require(Action::ViewClinicalRecords)?;
        let consent = self
            .consent_of(actor.clinic_id, None, id)
            .await?
            .ok_or_else(|| StoreError::not_found("consent"))?;
        let pdf = self.pdf_of(actor.clinic_id, None, id).await?;
        Ok(ConsentCheck {
            document_intact: consent_digest(actor.clinic_id, &consent.signed) == consent.document_sha256,
            pdf_intact: hex(&Sha256::digest(&pdf)) == consent.pdf_sha256,
        })
    }

    /// The signed consent a PDF is a true copy of, if any: a PDF someone presents is checked
    /// byte for byte against the copies the clinic sent.
    pub async fn consent_of_pdf(&self, actor: &Actor, pdf: &[u8]) -> StoreResult<Option<SignedConsent>> {
        actor.require(Action::ViewClinicalRecords)?;
        let digest = hex(&Sha256::digest(pdf));
        let id: Option<(Uuid,)> = on_db!(self, pool => {
            sqlx::query_as("SELECT id FROM signed_consents WHERE clinic_id = $1 AND pdf_sha256 = $2")
                .bind(actor.clinic_id).bind(digest).fetch_optional(pool).await?
        });
        match id {
            Some((id,)) => self.consent_of(actor.clinic_id, None, id).await,
            None => Ok(None),
        }
    }

    /// Refuses a session for a client without a standing treatment consent for their latest
    /// design, naming what to do.
    pub(crate) async fn consent_gate(&self, actor: &Actor, client_id: Uuid) -> StoreResult<()> {
        let latest = self
            .latest_design_of(actor.clinic_id, client_id)
            .await?
            .map(|d| (d.id, d.version));
        let name: Option<(String,)> = on_db!(self, pool => {
            sqlx::query_as("SELECT name FROM clients WHERE clinic_id = $1 AND id = $2")
                .bind(actor.clinic_id).bind(client_id).fetch_optional(pool).await?
        });
        let name = name.map(|n| n.0).unwrap_or_default();
        let Some((design, version)) = latest else {
            return Err(StoreError::Conflict {
                message: format!(
                    "{name} has no design yet: a session is logged under the treatment consent signed for a \
                     design (the clinic can turn this off: consent.required_for_session)"
                ),
            });
        };
        if self
            .has_procedure_consent(actor.clinic_id, client_id, design)
            .await?
        {
            return Ok(());
        }
        Err(StoreError::Conflict {
            message: format!(
                "{name} has not signed the treatment consent for design version {version}: send a sign-in link \
                 from Pages and consents, or have them sign it at the chair, before the session"
            ),
        })
    }

    /// Whether a client has a standing (signed, not withdrawn) treatment consent for a design.
    pub async fn has_procedure_consent(
        &self,
        clinic_id: Uuid,
        client_id: Uuid,
        design_id: Uuid,
    ) -> StoreResult<bool> {
        let row: Option<(Uuid,)> = on_db!(self, pool => {
            sqlx::query_as(
                "SELECT c.id FROM signed_consents c LEFT JOIN consent_withdrawals w ON w.clinic_id = c.clinic_id AND w.consent_id = c.id \
                 WHERE c.clinic_id = $1 AND c.client_id = $2 AND c.design_id = $3 AND c.kind = 'procedure' AND w.consent_id IS NULL",
            )
            .bind(clinic_id).bind(client_id).bind(design_id).fetch_optional(pool).await?
        });
        Ok(row.is_some())
    }

    #[cfg(feature = "testing")]
    /// For tests (`testing`): changes the text's first character through SQL; with
    /// `drop_guard` the refusing trigger is dropped first.
    pub(crate) async fn change_consent_text(&self, id: Uuid, drop_guard: bool) -> StoreResult<()> {
        let sql = "UPDATE signed_consents SET text = 'X' || substr(text, 2) WHERE id = $1";
        match &self.db {
            super::Db::Sqlite(pool) => {
                if drop_guard {
                    sqlx::query("DROP TRIGGER IF EXISTS signed_consents_unchanged")
                        .execute(pool)
                        .await?;
                }
                sqlx::query(sql).bind(id).execute(pool).await?;
            }
            super::Db::Postgres(pool) => {
                if drop_guard {
                    sqlx::query("DROP TRIGGER IF EXISTS signed_consents_unchanged ON signed_consents")
                        .execute(pool)
                        .await?;
                }
                sqlx::query(sql).bind(id).execute(pool).await?;
            }
        }
        Ok(())
    }

    #[cfg(feature = "testing")]
    /// For tests: flips a bit in the middle of a consent's stored PDF (trigger dropped first).
    pub(crate) async fn change_consent_pdf(&self, id: Uuid) -> StoreResult<()> {
        let row: Option<(Vec<u8>,)> = on_db!(self, pool => {
            sqlx::query_as("SELECT pdf FROM signed_consents WHERE id = $1").bind(id).fetch_optional(pool).await?
        });
        let mut pdf = row.ok_or_else(|| StoreError::not_found("consent"))?.0;
        let middle = pdf.len() / 2;
        if let Some(b) = pdf.get_mut(middle) {
            *b ^= 1;
        }
        match &self.db {
            super::Db::Sqlite(pool) => {
                sqlx::query("DROP TRIGGER IF EXISTS signed_consents_unchanged")
                    .execute(pool)
                    .await?;
                sqlx::query("UPDATE signed_consents SET pdf = $1 WHERE id = $2")
                    .bind(pdf)
                    .bind(id)
                    .execute(pool)
                    .await?;
            }
            super::Db::Postgres(pool) => {
                sqlx::query("DROP TRIGGER IF EXISTS signed_consents_unchanged ON signed_consents")
                    .execute(pool)
                    .await?;
                sqlx::query("UPDATE signed_consents SET pdf = $1 WHERE id = $2")
                    .bind(pdf)
                    .bind(id)
                    .execute(pool)
                    .await?;
            }
        }
        Ok(())
    }
}
