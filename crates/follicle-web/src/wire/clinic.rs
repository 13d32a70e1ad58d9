//! The clinic, its users, clients, consents, photos, the audit log and a client's export.

use follicle_store as store;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{AppointmentAnswer, ConsultationAnswer, DesignAnswer, SessionLogAnswer};

mirror_enum!(
    /// A user's role in their clinic.
    Role = store::Role {
        /// Runs the clinic: everything, including users and settings.
        Owner,
        /// Treats clients: clinical records, pigments, recalls.
        Practitioner,
        /// Books and greets: clients' contact details and appointments.
        FrontDesk,
    }
);
mirror_enum!(
    /// What a consent covers. Photo and marketing consent are separate from the procedure.
    ConsentKind = store::ConsentKind {
        /// The procedure itself.
        Procedure,
        /// Taking and keeping photos.
        Photos,
        /// Using photos or contact details for marketing.
        Marketing,
    }
);
mirror_enum!(
    /// The standard angle of a photo.
    PhotoAngle = store::PhotoAngle {
        /// From the front.
        Front,
        /// From above.
        Top,
        /// The left side.
        Left,
        /// The right side.
        Right,
        /// From behind.
        Back,
        /// Anything else (a close-up of a scar, a reaction).
        Other,
    }
);
mirror_enum!(
    /// What a user did, as the audit log says it.
    AuditAction = store::AuditAction {
        /// Read it.
        Viewed,
        /// Created it or added to it.
        Created,
        /// Changed it.
        Changed,
        /// Deleted it.
        Deleted,
        /// Exported it.
        Exported,
        /// Erased a client's record on request.
        Erased,
        /// Signed in (the detail says how).
        SignedIn,
        /// A sign-in to this account failed.
        SignInFailed,
        /// Signed out, or ended sessions.
        SignedOut,
        /// Changed their password, or set one through a reset link.
        PasswordChanged,
        /// Asked for a reset link, or an owner reset a colleague's password.
        PasswordReset,
        /// Turned two-factor sign-in on or off.
        SecondFactor,
        /// Added a user.
        UserAdded,
        /// Changed a user's role or active flag.
        UserChanged,
        /// Changed the clinic's settings or account rules.
        SettingsChanged,
        /// Searched the clients.
        Searched,
        /// Read the diary.
        DiaryRead,
        /// Read the audit log.
        AuditRead,
    }
);

/// A clinic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ClinicAnswer {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// How long records are kept after the last visit, in years.
    pub retention_years: i64,
    /// The clinic's settings file (TOML over the defaults); empty for none.
    pub settings_toml: String,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<store::Clinic> for ClinicAnswer {
    fn from(c: store::Clinic) -> ClinicAnswer {
        let store::Clinic {
            id,
            name,
            retention_years,
            settings_toml,
            created_at,
        } = c;
        ClinicAnswer {
            id,
            name,
            retention_years,
            settings_toml,
            created_at,
        }
    }
}

/// A user of the clinic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UserAnswer {
    /// Their id.
    pub id: Uuid,
    /// Their clinic.
    pub clinic_id: Uuid,
    /// Their email, lower-cased (the login name).
    pub email: String,
    /// Their name.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// Whether they may sign in.
    pub active: bool,
    /// Whether they sign in with a second factor.
    pub two_factor: bool,
    /// When they were added.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<store::User> for UserAnswer {
    fn from(u: store::User) -> UserAnswer {
        let store::User {
            id,
            clinic_id,
            email,
            name,
            role,
            active,
            created_at,
            two_factor,
        } = u;
        UserAnswer {
            id,
            clinic_id,
            email,
            name,
            role: role.into(),
            active,
            two_factor,
            created_at,
        }
    }
}

/// A user to add. The password is hashed with argon2id and never stored.
#[derive(Clone, PartialEq, Eq, Deserialize, ToSchema)]
pub struct NewUser {
    /// Email (the login name).
    #[schema(min_length = 1, max_length = 200)]
    pub email: String,
    /// Name.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Role.
    pub role: Role,
    /// Password: 8 characters to 1,024 bytes, not a common one, a repetition or a sequence,
    /// nor the user's email or name (NIST SP 800-63B).
    #[schema(min_length = 8, max_length = 1024)]
    pub password: String,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("email", &self.email)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("password", &"[redacted]")
            .finish()
    }
}

impl From<NewUser> for store::NewUser {
    fn from(u: NewUser) -> store::NewUser {
        store::NewUser {
            email: u.email,
            name: u.name,
            role: u.role.into(),
            password: u.password,
        }
    }
}

/// A client: who they are and how to reach them. Health data lives in consultations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ClientAnswer {
    /// Their id.
    pub id: Uuid,
    /// Full name.
    pub name: String,
    /// Date of birth, when known.
    pub date_of_birth: Option<Date>,
    /// Age in years, when the date of birth is not given.
    pub age_years: Option<i64>,
    /// Phone number, as typed.
    pub phone: String,
    /// Email, lower-cased.
    pub email: String,
    /// Free notes.
    pub notes: String,
    /// When the record was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<store::Client> for ClientAnswer {
    fn from(c: store::Client) -> ClientAnswer {
        let store::Client {
            id,
            name,
            date_of_birth,
            age_years,
            phone,
            email,
            notes,
            created_at,
            updated_at,
        } = c;
        ClientAnswer {
            id,
            name,
            date_of_birth,
            age_years,
            phone,
            email,
            notes,
            created_at,
            updated_at,
        }
    }
}

/// A client to add, or the new values of one to change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, ToSchema)]
pub struct NewClient {
    /// Full name (required).
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Date of birth, years 1900–2999.
    pub date_of_birth: Option<Date>,
    /// Age in years, 0–130.
    #[schema(minimum = 0, maximum = 130)]
    pub age_years: Option<i64>,
    /// Phone number (may be empty).
    #[schema(max_length = 200)]
    pub phone: String,
    /// Email (may be empty).
    #[schema(max_length = 200)]
    pub email: String,
    /// Free notes.
    #[schema(max_length = 100000)]
    pub notes: String,
}

impl From<NewClient> for store::NewClient {
    fn from(c: NewClient) -> store::NewClient {
        store::NewClient {
            name: c.name,
            date_of_birth: c.date_of_birth,
            age_years: c.age_years,
            phone: c.phone,
            email: c.email,
            notes: c.notes,
        }
    }
}

/// A signed consent, kept unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ConsentAnswer {
    /// Its id.
    pub id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// What it covers.
    pub kind: ConsentKind,
    /// The version of the clinic's consent template.
    pub template_version: String,
    /// The text the client signed.
    pub text: String,
    /// The name the client signed with.
    pub signed_by: String,
    /// When they signed.
    #[serde(with = "time::serde::rfc3339")]
    pub signed_at: OffsetDateTime,
    /// The user who recorded it.
    pub recorded_by: Uuid,
}

impl From<store::Consent> for ConsentAnswer {
    fn from(c: store::Consent) -> ConsentAnswer {
        let store::Consent {
            id,
            client_id,
            kind,
            template_version,
            text,
            signed_by,
            signed_at,
            recorded_by,
        } = c;
        ConsentAnswer {
            id,
            client_id,
            kind: kind.into(),
            template_version,
            text,
            signed_by,
            signed_at,
            recorded_by,
        }
    }
}

/// A photo's record, without its image (`GET /photos/{id}`) and without where the store
/// keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PhotoAnswer {
    /// Its id.
    pub id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// The session it was taken at, if any.
    pub session_id: Option<Uuid>,
    /// The photo consent it was taken under, if recorded.
    pub consent_id: Option<Uuid>,
    /// The consultation it was taken at, if any.
    pub consultation_id: Option<Uuid>,
    /// Whether the client agreed to this photo.
    pub consented: bool,
    /// The angle.
    pub angle: PhotoAngle,
    /// When it was taken.
    #[serde(with = "time::serde::rfc3339")]
    pub taken_at: OffsetDateTime,
    /// `image/jpeg` or `image/png`.
    pub content_type: String,
    /// Size of the stored (stripped) bytes.
    pub byte_size: i64,
    /// Width in pixels.
    pub width: i64,
    /// Height in pixels.
    pub height: i64,
    /// The EXIF orientation (1–8) the camera recorded, kept because EXIF is stripped.
    pub orientation: Option<i64>,
    /// When it was uploaded.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The staff member who uploaded it (none: the client took it in their own pages).
    pub created_by: Option<Uuid>,
    /// Whether the client took it themselves, in their pages.
    pub taken_by_client: bool,
}

impl From<store::Photo> for PhotoAnswer {
    fn from(p: store::Photo) -> PhotoAnswer {
        let store::Photo {
            id,
            client_id,
            session_id,
            consent_id,
            consultation_id,
            consented,
            angle,
            taken_at,
            content_type,
            byte_size,
            width,
            height,
            orientation,
            blob_key: _,
            created_at,
            created_by,
        } = p;
        PhotoAnswer {
            id,
            client_id,
            session_id,
            consent_id,
            consultation_id,
            consented,
            angle: angle.into(),
            taken_at,
            content_type,
            byte_size,
            width,
            height,
            orientation,
            created_at,
            taken_by_client: created_by.is_none(),
            created_by,
        }
    }
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AuditEntryAnswer {
    /// Its number (increasing).
    pub id: i64,
    /// Who.
    pub user_id: Uuid,
    /// Whose record, if a client's.
    pub client_id: Option<Uuid>,
    /// What they did.
    pub action: AuditAction,
    /// To what: "client", "consultation v2", "photo 3f…".
    pub detail: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// From which address (empty when unknown).
    pub ip: String,
    /// In which session: 16 hex digits (empty for the command line).
    pub session: String,
}

impl From<store::AuditEntry> for AuditEntryAnswer {
    fn from(a: store::AuditEntry) -> AuditEntryAnswer {
        let store::AuditEntry {
            id,
            user_id,
            client_id,
            action,
            detail,
            at,
            ip,
            session,
        } = a;
        AuditEntryAnswer {
            id,
            user_id,
            client_id,
            action: action.into(),
            detail,
            at,
            ip,
            session,
        }
    }
}

/// A client's whole record, for export on request (GDPR articles 15 and 20).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ClientExportAnswer {
    /// The client.
    pub client: ClientAnswer,
    /// Every consultation version, as issued.
    pub consultations: Vec<ConsultationAnswer>,
    /// Every design version.
    pub designs: Vec<DesignAnswer>,
    /// Appointments.
    pub appointments: Vec<AppointmentAnswer>,
    /// Session logs.
    pub sessions: Vec<SessionLogAnswer>,
    /// Consents recorded by the clinic.
    pub consents: Vec<ConsentAnswer>,
    /// Consents the client signed with a drawn signature, with their evidence.
    pub signed_consents: Vec<SignedConsentAnswer>,
    /// The pre-visit intakes the client sent from their pages, latest first.
    pub intakes: Vec<IntakeAnswer>,
    /// The client's requests to move a visit, from their pages, latest first.
    pub move_requests: Vec<MoveRequestAnswer>,
    /// Payments taken, due and cancelled, with their receipts, latest first.
    pub payments: Vec<PaymentAnswer>,
    /// Photo records (the images one by one at `/photos/{id}`).
    pub photos: Vec<PhotoAnswer>,
    /// The landmarks placed on its photos (those that have them).
    pub landmarks: Vec<super::LandmarksAnswer>,
    /// The messages sent to the client, as sent.
    pub messages: Vec<MessageAnswer>,
}

/// A consent the client signed with a drawn signature, with the evidence kept with it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SignedConsentAnswer {
    /// Its id.
    pub id: Uuid,
    /// What it covers: `procedure`, `photos`, `marketing_email`, `marketing_sms`.
    pub kind: String,
    /// The consent text's version.
    pub template_version: String,
    /// The title shown.
    pub title: String,
    /// The text shown and signed.
    pub text: String,
    /// The design it was given for.
    pub design_id: Option<Uuid>,
    /// That design's version.
    pub design_version: Option<i64>,
    /// The quote agreed, or empty.
    pub quote_number: String,
    /// The name signed with.
    pub signer_name: String,
    /// The drawn strokes (`x,y x,y;x,y`, a 600 × 200 box), or `typed:` and the name typed.
    pub signature: String,
    /// `drawn` or `typed` (the signer typed their full name instead of drawing).
    pub signature_method: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub signed_at: OffsetDateTime,
    /// `portal` or `chair`.
    pub signed_in: String,
    /// The staff member present at the chair.
    pub witnessed_by: Option<Uuid>,
    /// The network address it came from.
    pub address: String,
    /// The browser.
    pub user_agent: String,
    /// SHA-256 of what was signed.
    pub document_sha256: String,
    /// SHA-256 of the PDF sent to the client.
    pub pdf_sha256: String,
    /// When it was withdrawn, if it was.
    #[serde(with = "time::serde::rfc3339::option")]
    pub withdrawn_at: Option<OffsetDateTime>,
}

impl From<store::SignedConsent> for SignedConsentAnswer {
    fn from(c: store::SignedConsent) -> SignedConsentAnswer {
        let s = c.signed;
        let signature_method = s.method().as_str().to_owned();
        SignedConsentAnswer {
            signature_method,
            id: c.id,
            kind: s.kind.as_str().to_owned(),
            template_version: s.template_version,
            title: s.title,
            text: s.text,
            design_id: s.design_id,
            design_version: s.design_version,
            quote_number: s.quote_number,
            signer_name: s.signer_name,
            signature: s.signature,
            signed_at: s.signed_at,
            signed_in: s.signed_in.as_str().to_owned(),
            witnessed_by: c.witnessed_by,
            address: s.address,
            user_agent: s.user_agent,
            document_sha256: c.document_sha256,
            pdf_sha256: c.pdf_sha256,
            withdrawn_at: c.withdrawal.map(|w| w.at),
        }
    }
}

/// A pre-visit intake, as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct IntakeAnswer {
    /// Its id.
    pub id: Uuid,
    /// Conditions ticked (the clinic's vocabulary).
    pub conditions: Vec<String>,
    /// Medication groups ticked (the clinic's vocabulary).
    pub medications: Vec<String>,
    /// Allergies, in the client's words.
    pub allergies: String,
    /// Anything else, in the client's words.
    pub notes: String,
    /// When it was sent.
    #[serde(with = "time::serde::rfc3339")]
    pub submitted_at: OffsetDateTime,
}

impl From<store::Intake> for IntakeAnswer {
    fn from(i: store::Intake) -> IntakeAnswer {
        IntakeAnswer {
            id: i.id,
            conditions: i.answers.conditions,
            medications: i.answers.medications,
            allergies: i.answers.allergies,
            notes: i.answers.notes,
            submitted_at: i.submitted_at,
        }
    }
}

mirror_enum!(
    /// What a payment is for.
    PaymentKind = store::PaymentKind {
        /// The deposit that books a plan (part of the quote's total).
        Deposit,
        /// Paid towards a treatment session: the balance, or part of it.
        Session,
        /// A touch-up.
        TouchUp,
        /// A patch test.
        PatchTest,
        /// Anything else the clinic sells.
        Other,
        /// Money given back.
        Refund,
    }
);

mirror_enum!(
    /// How a payment was made.
    PaymentMethod = store::PaymentMethod {
        /// A debit or credit card.
        Card,
        /// Cash.
        Cash,
        /// A bank transfer.
        BankTransfer,
        /// Anything else.
        Other,
    }
);

/// A payment taken at the desk, or due, with its receipt's number and fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PaymentAnswer {
    /// Its id.
    pub id: Uuid,
    /// The visit it was taken for.
    pub appointment_id: Option<Uuid>,
    /// What it is for.
    pub kind: PaymentKind,
    /// The amount in the currency's minor units (pence, cents).
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// The quote it counts towards (`Q-00002`).
    pub quote: Option<String>,
    /// The desk's note.
    pub note: String,
    /// When it was recorded.
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
    /// `paid`, `due` or `cancelled`.
    pub state: String,
    /// How it was paid, once it is.
    pub method: Option<PaymentMethod>,
    /// When it was taken.
    #[serde(with = "time::serde::rfc3339::option")]
    pub paid_at: Option<OffsetDateTime>,
    /// Its receipt's number (`R-00001`), once taken.
    pub receipt: Option<String>,
    /// The SHA-256 of the receipt's PDF as handed over.
    pub receipt_sha256: Option<String>,
    /// Why a due payment was cancelled.
    pub cancel_reason: Option<String>,
}

impl From<store::Payment> for PaymentAnswer {
    fn from(p: store::Payment) -> PaymentAnswer {
        let state = match p.state() {
            store::PaymentState::Paid => "paid",
            store::PaymentState::Due => "due",
            store::PaymentState::Cancelled => "cancelled",
        };
        PaymentAnswer {
            id: p.id,
            appointment_id: p.appointment_id,
            kind: p.kind.into(),
            amount_minor: p.amount,
            currency: p.currency,
            quote: p.quote_number.map(super::quote_label),
            note: p.note,
            recorded_at: p.recorded_at,
            state: state.to_owned(),
            method: p.method.map(Into::into),
            paid_at: p.paid_at,
            receipt: p.receipt.as_ref().map(|r| store::receipt_label(r.number)),
            receipt_sha256: p.receipt_sha256,
            cancel_reason: p.cancel_reason,
        }
    }
}

/// A client's request to move one of their visits, made in their pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MoveRequestAnswer {
    /// Its id.
    pub id: Uuid,
    /// The visit (an appointment of the client).
    pub appointment_id: Uuid,
    /// When suits them, in their words.
    pub suits: String,
    /// Up to three days they would prefer (YYYY-MM-DD), in order.
    pub preferred_days: Vec<String>,
    /// When they asked.
    #[serde(with = "time::serde::rfc3339")]
    pub asked_at: OffsetDateTime,
    /// When it was closed, if it is.
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
    /// How: `moved` (the clinic moved the visit), `dismissed` (by staff) or `replaced` (the
    /// client asked again).
    pub closed_how: Option<String>,
    /// The staff member who closed it.
    pub closed_by: Option<Uuid>,
}

impl From<store::MoveRequest> for MoveRequestAnswer {
    fn from(m: store::MoveRequest) -> MoveRequestAnswer {
        let store::MoveRequest {
            id,
            client_id: _,
            appointment_id,
            suits,
            preferred_days,
            asked_at,
            closed_at,
            closed_how,
            closed_by,
        } = m;
        MoveRequestAnswer {
            id,
            appointment_id,
            suits,
            preferred_days: preferred_days.iter().map(ToString::to_string).collect(),
            asked_at,
            closed_at,
            closed_how: closed_how.map(|h| h.as_str().to_owned()),
            closed_by,
        }
    }
}

/// A message sent to a client, as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MessageAnswer {
    /// Its id.
    pub id: Uuid,
    /// `email` or `sms`.
    pub channel: String,
    /// What it was: `booking_confirmation`, `reminder`, `aftercare`, `no_show`.
    pub kind: String,
    /// The address or number it went to.
    pub recipient: String,
    /// The subject (empty for SMS).
    pub subject: String,
    /// The text, as sent.
    pub body: String,
    /// The relay's id of it (the email's Message-ID).
    pub provider_id: String,
    /// When it was handed over.
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: OffsetDateTime,
}

impl From<store::SentMessage> for MessageAnswer {
    fn from(m: store::SentMessage) -> MessageAnswer {
        let store::SentMessage {
            id,
            client_id: _,
            job_id: _,
            channel,
            kind,
            recipient,
            subject,
            body,
            provider_id,
            sent_at,
        } = m;
        MessageAnswer {
            id,
            channel,
            kind,
            recipient,
            subject,
            body,
            provider_id,
            sent_at,
        }
    }
}

impl TryFrom<store::ClientExport> for ClientExportAnswer {
    type Error = crate::error::ApiError;

    fn try_from(e: store::ClientExport) -> Result<ClientExportAnswer, Self::Error> {
        fn all<A, B: From<A>>(rows: Vec<A>) -> Vec<B> {
            rows.into_iter().map(Into::into).collect()
        }
        let store::ClientExport {
            client,
            consultations,
            designs,
            appointments,
            sessions,
            consents,
            signed_consents,
            intakes,
            move_requests,
            payments,
            photos,
            landmarks,
            messages,
        } = e;
        Ok(ClientExportAnswer {
            client: client.into(),
            consultations: all(consultations),
            designs: all(designs),
            appointments: all(appointments),
            sessions: all(sessions),
            consents: all(consents),
            signed_consents: all(signed_consents),
            intakes: all(intakes),
            move_requests: all(move_requests),
            payments: all(payments),
            photos: all(photos),
            landmarks: landmarks
                .into_iter()
                .map(TryInto::try_into)
                .collect::<Result<_, _>>()?,
            messages: all(messages),
        })
    }
}
