//! The records the store keeps and the inputs that create them.
//!
//! Inputs (`New…`) are plain structs a web form or JSON body fills in; the store checks
//! them and answers [`StoreError::Invalid`](crate::StoreError::Invalid) naming the field.
//! Records come back with their ids and times. Every record belongs to one clinic; the
//! clinic is never an input, it is the acting user's.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use follicle_core::ZoneKind;

use crate::error::{StoreError, StoreResult};
use crate::record::PlanRecord;
use crate::role::Role;

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident, $field:literal { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses a stored or typed name; the error lists the allowed values.
            pub fn parse(text: &str) -> StoreResult<$name> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(StoreError::invalid(
                        $field,
                        format!("expected one of {}, got {text:?}", [$($text),+].join(", ")),
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// Where an appointment stands.
    AppointmentStatus, "status" {
        /// Booked, not yet confirmed.
        Booked = "booked",
        /// Confirmed by the client.
        Confirmed = "confirmed",
        /// The client is in the clinic.
        Arrived = "arrived",
        /// Took place.
        Completed = "completed",
        /// Called off.
        Cancelled = "cancelled",
        /// The client did not come.
        NoShow = "no_show",
    }
);
text_enum!(
    /// What an appointment is for.
    AppointmentKind, "kind" {
        /// A treatment session of a plan.
        Session = "session",
        /// A patch test: a few dots of the chosen ink, read at session 1.
        PatchTest = "patch_test",
        /// A touch-up recall, years after the course.
        TouchUp = "touch_up",
        /// A consultation.
        Consultation = "consultation",
    }
);

impl AppointmentKind {
    /// Whether the visit puts needles in the scalp: such visits keep the healing interval and
    /// count towards the yearly cap.
    pub fn is_treatment(self) -> bool {
        matches!(self, AppointmentKind::Session | AppointmentKind::TouchUp)
    }
}

impl AppointmentStatus {
    /// Whether the appointment still holds its time (not cancelled, not a no-show).
    pub fn holds_time(self) -> bool {
        !matches!(self, AppointmentStatus::Cancelled | AppointmentStatus::NoShow)
    }

    /// Whether nothing follows this status (completed, cancelled, no-show).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            AppointmentStatus::Completed | AppointmentStatus::Cancelled | AppointmentStatus::NoShow
        )
    }
}

text_enum!(
    /// What a payment is for.
    PaymentKind, "kind" {
        /// The deposit that books a plan (part of the quote's total).
        Deposit = "deposit",
        /// Paid towards a treatment session: the balance, or part of it.
        Session = "session",
        /// A touch-up, years after the course.
        TouchUp = "touch_up",
        /// A patch test.
        PatchTest = "patch_test",
        /// Anything else the clinic sells (aftercare products, a consultation fee).
        Other = "other",
        /// Money given back: puts a mistake or a cancellation right.
        Refund = "refund",
    }
);
text_enum!(
    /// How a payment was made.
    PaymentMethod, "method" {
        /// A debit or credit card.
        Card = "card",
        /// Cash.
        Cash = "cash",
        /// A bank transfer.
        BankTransfer = "bank_transfer",
        /// Anything else (a voucher, a payment link).
        Other = "other",
    }
);
text_enum!(
    /// The standard angle of a photo.
    PhotoAngle, "angle" {
        /// From the front.
        Front = "front",
        /// From above.
        Top = "top",
        /// The left side.
        Left = "left",
        /// The right side.
        Right = "right",
        /// From behind.
        Back = "back",
        /// Anything else (a close-up of a scar, a reaction).
        Other = "other",
    }
);
text_enum!(
    /// What a consent covers. Photo and marketing consent are separate from the procedure.
    ConsentKind, "kind" {
        /// The procedure itself.
        Procedure = "procedure",
        /// Taking and keeping photos.
        Photos = "photos",
        /// Using photos or contact details for marketing.
        Marketing = "marketing",
    }
);
text_enum!(
    /// What a user did, as the audit log says it: to a client's record, or to the clinic's
    /// accounts and settings.
    AuditAction, "action" {
        /// Read it.
        Viewed = "viewed",
        /// Created it or added to it.
        Created = "created",
        /// Changed it.
        Changed = "changed",
        /// Deleted it.
        Deleted = "deleted",
        /// Exported it.
        Exported = "exported",
        /// Erased a client's record on request.
        Erased = "erased",
        /// Signed in (the detail says how: password, code, recovery code, reset link).
        SignedIn = "signed_in",
        /// A sign-in to this account failed (wrong password or code).
        SignInFailed = "sign_in_failed",
        /// Signed out, or ended sessions.
        SignedOut = "signed_out",
        /// Changed their password, or set one through a reset link.
        PasswordChanged = "password_changed",
        /// Asked for a reset link, or an owner reset a colleague's password.
        PasswordReset = "password_reset",
        /// Turned two-factor sign-in on or off.
        SecondFactor = "second_factor",
        /// Added a user.
        UserAdded = "user_added",
        /// Changed a user's role or active flag.
        UserChanged = "user_changed",
        /// Changed the clinic's settings or account rules.
        SettingsChanged = "settings_changed",
        /// Searched the clients.
        Searched = "searched",
        /// Read the diary.
        DiaryRead = "diary_read",
        /// Read the audit log.
        AuditRead = "audit_read",
    }
);

/// A clinic: the owner of every other record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clinic {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// How long records are kept after the last visit, in years (a per-clinic rule: 2 in
    /// New York City, 7–8 recommended in the UK and Australia).
    pub retention_years: i64,
    /// The clinic's settings file (TOML over `follicle_core`'s defaults); empty for none.
    pub settings_toml: String,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A user of a clinic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Their id.
    pub id: Uuid,
    /// Their clinic.
    pub clinic_id: Uuid,
    /// Their email, lower-cased; unique in their clinic (it is the login name).
    pub email: String,
    /// Their name.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// Whether they may sign in.
    pub active: bool,
    /// Whether they sign in with a second factor (an authenticator app's code).
    pub two_factor: bool,
    /// When they were added.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A user to add. The password is hashed with argon2id and never stored.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct NewUser {
    /// Email (the login name).
    pub email: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Password: see [`password::check`](crate::password::check) (8 characters to 1,024 bytes, not a common one).
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

/// A client: who they are and how to reach them. Health data lives in consultations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
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

/// A client to add, or the new values of one to change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewClient {
    /// Full name (required).
    pub name: String,
    /// Date of birth, years 1900–2999.
    pub date_of_birth: Option<Date>,
    /// Age in years, 0–130.
    pub age_years: Option<i64>,
    /// Phone number (may be empty).
    pub phone: String,
    /// Email (may be empty).
    pub email: String,
    /// Free notes.
    pub notes: String,
}

/// One version of a client's consultation: the client file, the clinic's settings it was
/// planned with, and the plan and quote as issued. Versions are never overwritten; a
/// re-plan with today's settings is a new version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Consultation {
    /// Its id.
    pub id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// 1 for the first consultation of this client, then 2, 3, …
    pub version: i64,
    /// The schema version of the stored record (0: written before records were versioned).
    pub schema_version: i64,
    /// The client file as written (TOML), if kept.
    pub profile_toml: Option<String>,
    /// The clinic's settings file (TOML over the defaults) the plan was made with; `None`
    /// for records of schema version 0, which kept the merged settings only as JSON.
    pub settings_toml: Option<String>,
    /// The plan and quote as issued.
    pub plan: PlanRecord,
    /// The quote's number, unique in the clinic; `None` without a quote (and for schema
    /// version 0).
    pub quote_number: Option<i64>,
    /// The consultation this one re-planned with newer settings, if it is a re-plan.
    pub replanned_from: Option<Uuid>,
    /// When it was recorded.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Who recorded it.
    pub created_by: Uuid,
}

/// A consultation to record as the client's next version.
#[derive(Debug, Clone, PartialEq)]
pub struct NewConsultation {
    /// The client.
    pub client_id: Uuid,
    /// The client file as written.
    pub profile_toml: String,
    /// The clinic's settings file in force (empty for the defaults).
    pub settings_toml: String,
    /// The plan and quote (the store gives the quote its number).
    pub plan: PlanRecord,
    /// The consultation this one re-plans, if any (of the same client).
    pub replanned_from: Option<Uuid>,
}

/// One version of a client's design: hairline, zones, the pattern seed and settings, and
/// the plan and quote that go with it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Design {
    /// Its id.
    pub id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// 1, 2, 3, … per client.
    pub version: i64,
    /// The consultation it was drawn for, if any.
    pub consultation_id: Option<Uuid>,
    /// The hairline (JSON of the pattern engine's hairline).
    pub hairline: Value,
    /// The zones (JSON).
    pub zones: Value,
    /// The pattern seed: the same seed gives the same dots.
    pub seed: u64,
    /// The pattern settings (JSON).
    pub settings: Value,
    /// Notes.
    pub notes: String,
    /// The schema version of `plan` (0: saved before designs kept a plan).
    pub schema_version: i64,
    /// The plan and quote for this design, as issued; `None` for designs saved before
    /// designs kept one.
    pub plan: Option<PlanRecord>,
    /// The quote's number, unique in the clinic, when the plan has a quote.
    pub quote_number: Option<i64>,
    /// When it was saved.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Who saved it.
    pub created_by: Uuid,
}

/// A design to save as the client's next version.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDesign {
    /// The client.
    pub client_id: Uuid,
    /// The consultation it was drawn for, if any (of the same client).
    pub consultation_id: Option<Uuid>,
    /// The hairline (JSON).
    pub hairline: Value,
    /// The zones (JSON).
    pub zones: Value,
    /// The pattern seed.
    pub seed: u64,
    /// The pattern settings (JSON).
    pub settings: Value,
    /// Notes.
    pub notes: String,
    /// The plan and quote that go with it (the store gives the quote its number).
    pub plan: Option<PlanRecord>,
}

/// An appointment in the diary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    /// Its id.
    pub id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// The practitioner booked, if any yet.
    pub practitioner_id: Option<Uuid>,
    /// The room (or chair) booked, by its name in `diary.rooms`, if any.
    #[serde(default)]
    pub room: Option<String>,
    /// When it starts (UTC, to the second).
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    /// How long, in minutes.
    pub duration_minutes: i64,
    /// Where it stands.
    pub status: AppointmentStatus,
    /// Notes.
    pub notes: String,
    /// When it was booked.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// What it is for.
    pub kind: AppointmentKind,
    /// The consultation whose plan it was booked from, if any.
    pub consultation_id: Option<Uuid>,
    /// The plan's session number (1, 2, …), if booked from a plan.
    pub session_index: Option<i64>,
    /// Every change: booked, each status, each move, each override, with who and when.
    pub history: Vec<AppointmentChange>,
}

/// One change of an appointment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentChange {
    /// What changed: `booked`, `confirmed`, …, `moved from … to …`, `override: …`.
    pub what: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who.
    pub by: Uuid,
}

/// An appointment to book (status `booked`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAppointment {
    /// The client.
    pub client_id: Uuid,
    /// The practitioner, if known (a user of the clinic).
    pub practitioner_id: Option<Uuid>,
    /// When it starts.
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    /// How long, 1–1,440 minutes.
    pub duration_minutes: i64,
    /// Notes.
    pub notes: String,
}

/// A pigment product (an ink) the clinic uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PigmentProduct {
    /// Its id.
    pub id: Uuid,
    /// Product name.
    pub name: String,
    /// Maker.
    pub maker: String,
    /// Ingredient list from the label (EU REACH Annex XVII entry 75 requires it).
    pub ingredients: String,
    /// When it was added.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A pigment product to add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPigmentProduct {
    /// Product name.
    pub name: String,
    /// Maker.
    pub maker: String,
    /// Ingredient list.
    pub ingredients: String,
}

/// A batch (lot) of a pigment product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PigmentBatch {
    /// Its id.
    pub id: Uuid,
    /// The product.
    pub product_id: Uuid,
    /// The batch or lot number on the label.
    pub lot: String,
    /// The expiry date on the label: from this day on the batch counts as expired.
    pub expires_on: Date,
    /// Units in stock (bottles or cartridges, as the clinic counts).
    pub quantity: i64,
    /// When it was added.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The day the batch was put under recall, if it is.
    pub recalled_on: Option<Date>,
    /// Why (the maker's notice), when recalled.
    pub recall_reason: String,
}

/// A batch to add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPigmentBatch {
    /// The product (of this clinic).
    pub product_id: Uuid,
    /// The batch or lot number.
    pub lot: String,
    /// The expiry date.
    pub expires_on: Date,
    /// Units in stock, 0 or more.
    pub quantity: i64,
}

/// What was done in one treatment session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionLog {
    /// Its id.
    pub id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// The appointment it took place in, if recorded.
    pub appointment_id: Option<Uuid>,
    /// The day of the session.
    pub performed_on: Date,
    /// Who treated.
    pub practitioner_id: Uuid,
    /// The zones worked on.
    pub zones: Vec<ZoneKind>,
    /// The pigment batch used.
    pub batch_id: Uuid,
    /// Pigment share of the mix, 0–1 (1 = undiluted).
    pub dilution: f64,
    /// Needle (cartridge) type, e.g. "1RL 0.25 mm".
    pub needle: String,
    /// The needle cartridge's lot.
    pub needle_lot: String,
    /// Needle depth in millimetres.
    pub depth_mm: f64,
    /// Machine settings (voltage, stroke, speed) as the practitioner writes them.
    pub machine_settings: String,
    /// How long the session took, in minutes.
    pub duration_minutes: i64,
    /// Anaesthetic used, if any (empty for none).
    pub anaesthetic: String,
    /// Notes (reactions, client feedback).
    pub notes: String,
    /// When it was logged.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Pigment units taken off the batch's stock.
    pub pigment_units: i64,
    /// Why an expired or recalled batch was used all the same (empty: it was not).
    pub batch_override: String,
}

/// At the chair: what a logged session takes off the batch's stock, and the reason to use a
/// batch past its expiry or under recall (refused without one).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AtTheChair {
    /// Pigment units (as the stock counts) taken off the batch, 0–1,000.
    pub pigment_units: i64,
    /// Why an expired or recalled batch is used all the same; empty for none.
    pub batch_override: String,
}

/// A session to log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewSessionLog {
    /// The client.
    pub client_id: Uuid,
    /// The appointment, if any (of the same client).
    pub appointment_id: Option<Uuid>,
    /// The day of the session.
    pub performed_on: Date,
    /// Who treated (a user of the clinic).
    pub practitioner_id: Uuid,
    /// Zones worked on (at least one, no repeats).
    pub zones: Vec<ZoneKind>,
    /// The pigment batch used (of the clinic).
    pub batch_id: Uuid,
    /// Pigment share of the mix, above 0 and at most 1.
    pub dilution: f64,
    /// Needle type.
    pub needle: String,
    /// Needle lot.
    pub needle_lot: String,
    /// Needle depth, above 0 and at most 5 mm (SMP works in the upper dermis, about 0.5–1.5).
    pub depth_mm: f64,
    /// Machine settings.
    pub machine_settings: String,
    /// 1–1,440 minutes.
    pub duration_minutes: i64,
    /// Anaesthetic, empty for none.
    pub anaesthetic: String,
    /// Notes.
    pub notes: String,
    /// At the chair: stock used and any override of the batch checks.
    #[serde(default)]
    pub chair: AtTheChair,
}

/// Something to look at after a write that succeeded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Warning {
    /// The pigment batch had expired on the session date.
    BatchExpired {
        /// The batch.
        batch_id: Uuid,
        /// Its lot number.
        lot: String,
        /// Its expiry date.
        expired_on: Date,
    },
}

/// A logged session's id and any warnings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedSession {
    /// The new session log's id.
    pub id: Uuid,
    /// Warnings (an expired batch); the session is logged all the same.
    pub warnings: Vec<Warning>,
}

/// One client session that used a recalled batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecallEntry {
    /// The client.
    pub client_id: Uuid,
    /// Their name.
    pub client_name: String,
    /// Their phone.
    pub phone: String,
    /// Their email.
    pub email: String,
    /// The session.
    pub session_id: Uuid,
    /// Its day.
    pub performed_on: Date,
    /// Who treated.
    pub practitioner_id: Uuid,
}

/// A page of a batch's recall, by client name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecallPage {
    /// The batch recalled.
    pub batch: PigmentBatch,
    /// The sessions of this page, by client name, then day.
    pub entries: Vec<RecallEntry>,
    /// Pass as `after` for the next page; `None` on the last one.
    pub next: Option<String>,
    /// Sessions that used the batch, on every page.
    pub sessions: i64,
    /// Clients who received it, on every page.
    pub clients: i64,
}

/// A signed consent, kept unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
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

/// A consent to record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewConsent {
    /// The client.
    pub client_id: Uuid,
    /// What it covers.
    pub kind: ConsentKind,
    /// Template version.
    pub template_version: String,
    /// The text signed.
    pub text: String,
    /// The name signed with.
    pub signed_by: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub signed_at: OffsetDateTime,
}

/// A stored photo's record; the bytes are in the blob store under `blob_key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Photo {
    /// Its id.
    pub id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// The session it was taken at, if any.
    pub session_id: Option<Uuid>,
    /// The photo consent it was taken under, if recorded.
    pub consent_id: Option<Uuid>,
    /// The consultation it was taken at (a photo before treatment), if any.
    #[serde(default)]
    pub consultation_id: Option<Uuid>,
    /// Whether the client agreed to this photo being taken and kept (asked at every capture).
    #[serde(default)]
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
    /// Where the bytes are in the blob store.
    pub blob_key: String,
    /// When it was uploaded.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The staff member who uploaded it; `None`: the client, in their own pages (issue 15).
    pub created_by: Option<Uuid>,
}

impl Photo {
    /// Whether the client took it themselves, in their pages.
    pub fn taken_by_client(&self) -> bool {
        self.created_by.is_none()
    }
}

/// A photo's details to upload with its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPhoto {
    /// The client.
    pub client_id: Uuid,
    /// The angle.
    pub angle: PhotoAngle,
    /// When it was taken.
    #[serde(with = "time::serde::rfc3339")]
    pub taken_at: OffsetDateTime,
    /// The session, if any (of the same client).
    pub session_id: Option<Uuid>,
    /// The consent, if any (of the same client).
    pub consent_id: Option<Uuid>,
    /// The consultation, if any (of the same client).
    #[serde(default)]
    pub consultation_id: Option<Uuid>,
    /// Whether the client agreed to this photo.
    #[serde(default)]
    pub consented: bool,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
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
    /// From which address (empty when unknown, as for the CLI).
    pub ip: String,
    /// In which session: 16 hex digits (see [`Actor::session_id`](crate::Actor::session_id)).
    pub session: String,
}

/// What to pick from the clinic's audit log; every filter optional. Newest first, a page at a
/// time: pass the last entry's id as `before` for the next page (keyset pagination, so a page
/// costs the same however deep).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this user's actions.
    pub user_id: Option<Uuid>,
    /// Only what touched this client.
    pub client_id: Option<Uuid>,
    /// Only this action.
    pub action: Option<AuditAction>,
    /// From this moment on.
    pub from: Option<OffsetDateTime>,
    /// Before this moment.
    pub until: Option<OffsetDateTime>,
    /// Entries older than this id (the previous page's `next_before`).
    pub before: Option<i64>,
    /// Entries per page: 1–500 (50 when zero).
    pub limit: i64,
}

/// A page of the clinic's audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPage {
    /// The entries, newest first.
    pub entries: Vec<AuditEntry>,
    /// Pass as [`AuditFilter::before`] for the next page; `None` on the last one.
    pub next_before: Option<i64>,
}

/// The clinic's account rules, set by the owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRules {
    /// Everyone signs in with a second factor: a user without one can only set it up.
    /// Default off (turning it on before the staff have enrolled would lock the owner's
    /// colleagues out of everything but enrolment).
    pub require_mfa: bool,
    /// Minutes without a request after which a session ends: 5–720, default 30. NIST SP
    /// 800-63B rev. 3 §4.2.3 (AAL2): reauthenticate after 30 minutes of inactivity; HIPAA
    /// §164.312(a)(2)(iii) asks for an automatic logoff without naming a time.
    pub idle_timeout_minutes: i64,
    /// Years the audit log is kept, then deleted by the daily purge: 1–100, default 6. HIPAA
    /// §164.316(b)(2)(i) keeps required documentation six years; the rule does not name audit
    /// logs, but auditors commonly hold them to it. UK guidance (the NHS Records Management
    /// Code of Practice 2021) names no single period for audit trails: a UK clinic may match
    /// its record retention (`retention_years`) instead.
    pub audit_retention_years: i64,
}

/// One of a user's open sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionInfo {
    /// Its id (16 hex digits; opens nothing).
    pub id: String,
    /// When it was opened.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it was last used (to the minute).
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: OffsetDateTime,
    /// When it ends at the latest.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// The address it was opened from.
    pub ip: String,
    /// The browser or program that opened it, as it named itself.
    pub user_agent: String,
    /// Whether it is the session asking.
    pub current: bool,
}

/// A second factor being set up: show the secret (and its QR code) to the user, then confirm
/// with a code from their app.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpEnrolment {
    /// The secret, base32, for typing into an app.
    pub secret: String,
    /// The `otpauth://` link the QR code holds.
    pub otpauth_url: String,
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrolment([redacted])")
    }
}

/// A password-reset link to send: who to, and the secret token for the link. The store makes
/// it; the caller mails it and never shows it to whoever asked.
#[derive(Clone, PartialEq, Eq)]
pub struct ResetMail {
    /// The account's email.
    pub to: String,
    /// The account holder's name.
    pub name: String,
    /// The clinic's name.
    pub clinic_name: String,
    /// The token (single use), for the link.
    pub token: String,
    /// When the link stops working.
    pub expires_at: OffsetDateTime,
}

impl std::fmt::Debug for ResetMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResetMail")
            .field("to", &self.to)
            .finish_non_exhaustive()
    }
}

/// A client's whole record, for export on request (GDPR article 15 and 20).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClientExport {
    /// The client.
    pub client: Client,
    /// Every consultation version.
    pub consultations: Vec<Consultation>,
    /// Every design version.
    pub designs: Vec<Design>,
    /// Appointments.
    pub appointments: Vec<Appointment>,
    /// Session logs.
    pub sessions: Vec<SessionLog>,
    /// Consents recorded by the clinic.
    pub consents: Vec<Consent>,
    /// Consents the client signed with a drawn signature, with their evidence and withdrawal.
    pub signed_consents: Vec<crate::store::SignedConsent>,
    /// The pre-visit intakes the client sent from their pages, latest first.
    pub intakes: Vec<crate::store::Intake>,
    /// The client's requests to move a visit, latest first.
    pub move_requests: Vec<crate::store::MoveRequest>,
    /// Payments (taken, due and cancelled) with what each receipt said, latest first.
    pub payments: Vec<crate::store::Payment>,
    /// Photo records (the bytes are fetched one by one).
    pub photos: Vec<Photo>,
    /// The landmarks placed on its photos (those that have them).
    pub landmarks: Vec<crate::landmarks::PhotoLandmarks>,
    /// The messages sent to the client, as sent.
    pub messages: Vec<crate::store::SentMessage>,
}
