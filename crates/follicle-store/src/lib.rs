//! Follicle's clinic records: clients, consultations and designs (versioned), appointments,
//! treatment session logs with pigment batches and recalls, consents, photos without their
//! metadata, users with roles, login sessions, and an audit log — in SQLite (one file, the
//! default) or PostgreSQL, behind one [`Store`].
//!
//! ```no_run
//! # async fn example() -> Result<(), follicle_store::StoreError> {
//! use follicle_store::{Blobs, NewClient, NewUser, Role, Store};
//! use time::OffsetDateTime;
//!
//! let store = Store::open("sqlite://data/follicle.db", Blobs::local("data/photos")?).await?;
//! let owner = NewUser {
//!     email: "ana@clinic.example".into(),
//!     name: "Ana".into(),
//!     role: Role::Owner,
//!     password: "correct horse battery".into(),
//! };
//! store.create_clinic_with_owner("Northside SMP", owner).await?;
//!
//! // A web server: sign in once, then act as the session's user on every request.
//! let session = store.login("ana@clinic.example", "correct horse battery", "203.0.113.9", OffsetDateTime::now_utc()).await?;
//! let actor = store.authenticate(session.token.as_str(), OffsetDateTime::now_utc()).await?;
//! let client = store.create_client(&actor, &NewClient { name: "Sam Lee".into(), ..NewClient::default() }).await?;
//! assert_eq!(store.search_clients(&actor, "sam", 20).await?[0].id, client.id);
//! # Ok(()) }
//! ```
//!
//! # Design
//!
//! **One `Store`, enum dispatch.** The backend is picked from the URL (`sqlite://…` or
//! `postgres://…`) and held in a private enum; every method is written once and a macro
//! expands its body for each backend's pool, so both run the same SQL text (`$1`
//! parameters, which SQLite also reads). Rather than an async trait with two
//! implementations: there are exactly two backends, both known at compile time, so a
//! closed enum needs no boxed futures or `dyn`, `Store` is a plain `Clone` value a web
//! server keeps in its state, and one body per method means the backends cannot drift
//! apart. The schema is the one place they differ: `migrations/sqlite/` and
//! `migrations/postgres/`, embedded in the binary and applied at [`Store::open`].
//!
//! **Clinic scoping.** Every method that touches records takes an [`Actor`] — the
//! signed-in user, obtained only from the store — and every query filters by the actor's
//! clinic. A record of another clinic is [`StoreError::NotFound`], exactly as an unknown
//! id. Child rows reference their parents by `(clinic_id, id)`, so the database refuses
//! cross-clinic links too.
//!
//! **Roles.** [`Role::may`] is the permission table (see [`role`] for who may do what and
//! why); a refused action is [`StoreError::Forbidden`].
//!
//! **Passwords and sessions.** argon2id hashes, computed on a blocking thread; session
//! tokens are 256 random bits, and only their SHA-256 is stored. Sign-in attempts are
//! counted in the database, per account, per address and in all, before the password is
//! checked, with growing delays rather than a lock (see [`SigninLimits`]); argon2 runs
//! under a process-wide [`limit::Limiter`].
//!
//! **Records are kept.** Consultations and designs are versioned (a new version never
//! overwrites an old one); consents are never changed; every read or write of a client's
//! record through an acting user is written to the audit log ([`AuditAction`]: viewed,
//! created, changed, deleted, exported), in the same transaction as a write. Lists that
//! show many clients at once (a search, the day's diary, the users) are not audited per
//! client; opening a client, their clinical records or photos, a recall and an export are.
//!
//! # Calling it from a web server
//!
//! Open one [`Store`] at start-up and keep it in the router's state. The login route calls
//! [`Store::login`] with the form's email and password and the peer's address, and sets
//! the [`SessionToken`] as an `HttpOnly` cookie; every other route calls
//! [`Store::authenticate`] with the cookie to get the [`Actor`], then the method it needs
//! (`search_clients`, `add_consultation`, `upload_photo`, …) with that actor. Errors map to
//! statuses as [`StoreError`]'s documentation says.
//!
//! **Photos** are checked and stripped of EXIF/GPS and other metadata before they are
//! stored ([`strip_metadata`]); the bytes go to an `object_store` ([`Blobs`]: a local
//! folder, memory for tests, S3 with the `s3` feature), the record to the database.
//!
//! **Times** are stored in UTC to the second and dates as dates, so both backends store,
//! sort and return them alike.
#![deny(missing_docs)]

mod auth;
mod error;
mod landmarks;
pub mod limit;
mod model;
pub mod password;
mod photo;
pub mod private;
pub mod record;
pub mod role;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod totp;
mod validate;

pub use auth::{Actor, LoginSession, SessionToken};
pub use error::{StoreError, StoreResult};
pub use landmarks::{
    LandmarkSource, MAX_LANDMARKS, MAX_OUTLINE_POINTS, NewPhotoLandmarks, PhotoLandmarks, PlacedLandmark,
    upright_size,
};
pub use model::*;
pub use photo::{ImageFormat, PhotoError, PhotoLimits, Stripped, strip_metadata, strip_metadata_with};
pub use record::{Difference, PLAN_SCHEMA_VERSION, PlanRecord, QuoteRecord};
pub use role::{Action, Role};
pub use store::{
    AppointmentMove, DiaryRules, NewBooking, PlanBooking, PlanToBook, Practitioner, ROOM_CLASH, may_become,
};
pub use store::{
    Backend, Backoff, BackupManifest, Blobs, Channel, ClientPage, Contact, ErasureReport, IDEMPOTENCY_WINDOW,
    INDEXED_QUERY_CHARS, Idempotent, ImportReport, ImportRowError, Job, JobOutcome, JobState, LegalHold,
    NewJob, OptedOut, QueueCounts, RetentionEntry, RetentionReport, SHORT_QUERY_SCAN, SentMessage,
    SessionForMessages, SigninAlert, SigninLimits, SmsReplied, Store, StoreOptions, TableDigest,
    TouchUpForecast, VisitForMessages,
};
pub use store::{BatchUsage, DepositDue, MonthRow, OwnerReport};
pub use store::{
    BookingRequest, MAX_REQUEST_PHOTO_BYTES, NewBookingRequest, RequestLimits, RequestOutcome, RequestStatus,
};
pub use store::{ClinicLogo, LOGO_MAX_BYTES, LOGO_MAX_PIXELS, check_logo, logo_content_type};
pub use store::{
    ConsentCheck, InkEntry, Intake, IntakeAnswers, LinkState, NewSignedConsent, OwnRecord, PortalClient,
    PortalSession, SIGNATURE_BOX, SignedConsent, SignedIn, Withdrawal, consent_digest, parse_signature,
};
pub use store::{FEED_DAYS_BACK, FeedContent, FeedEvent, FeedOwner, LikelyDuplicate, MergeReport};
pub use store::{
    GivenSignature, SignatureMethod, TYPED_SIGNATURE_PREFIX, read_signature, same_name, typed_signature,
};
pub use store::{MOVE_DAYS, MOVE_WORDS_CHARS, MoveClosed, MoveRequest};
pub use store::{
    NewPayment, PAYMENT_MAX_MINOR, PAYMENT_NOTE_CHARS, Payment, PaymentState, Receipt, ReceiptIssuer,
    minor_decimal, receipt_label,
};
pub use validate::{MAX_LINE_CHARS, MAX_TEXT_CHARS, PHONE_DIGITS, phone_digits};
