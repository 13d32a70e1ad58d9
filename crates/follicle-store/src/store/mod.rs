//! The [`Store`]: opening a database by URL, migrations, the dispatch to the backend, and
//! the clinic, user, login and audit records. Client records are in [`records`].
//!
//! Every method is written once. `on_db!` expands its body twice, once with a
//! `&SqlitePool` and once with a `&PgPool`, so the same runtime query (`$1`-style
//! parameters, which SQLite reads too) is type-checked against each driver. Portable SQL is
//! the rule; where the backends differ (types in the migrations, `VACUUM INTO`), the code
//! says so.

mod accounts;
mod backup;
mod booking;
mod consents;
mod desk;
mod diary;
mod feeds;
mod filing;
mod idempotency;
mod jobs;
mod landmarks;
mod logos;
mod memory;
mod messages;
mod payments;
#[cfg(feature = "testing")]
pub(crate) mod plans;
mod portable;
mod portal;
mod records;
mod reports;
mod rights;
mod search;
mod throttle;
mod today;
mod visit_moves;

pub use backup::{BackupManifest, TableDigest};
pub use booking::{
    BookingRequest, MAX_REQUEST_PHOTO_BYTES, NewBookingRequest, RequestLimits, RequestOutcome, RequestStatus,
};
pub use consents::{
    ConsentCheck, NewSignedConsent, SIGNATURE_BOX, SignedConsent, SignedIn, Withdrawal, consent_digest,
    parse_signature,
};
pub use consents::{
    GivenSignature, SignatureMethod, TYPED_SIGNATURE_PREFIX, read_signature, same_name, typed_signature,
};
pub use desk::{LikelyDuplicate, MergeReport};
pub use diary::{
    AppointmentMove, DiaryRules, NewBooking, PlanBooking, PlanToBook, Practitioner, ROOM_CLASH, may_become,
};
pub use feeds::{FEED_DAYS_BACK, FeedContent, FeedEvent, FeedOwner};
pub use idempotency::{IDEMPOTENCY_WINDOW, Idempotent};
pub use jobs::{Job, JobOutcome, JobState, NewJob, QueueCounts, SentMessage};
pub use logos::{ClinicLogo, LOGO_MAX_BYTES, LOGO_MAX_PIXELS, check_logo, logo_content_type};
pub use messages::{
    Channel, Contact, OptedOut, SessionForMessages, SmsReplied, TouchUpForecast, VisitForMessages,
};
pub use payments::{
    NewPayment, PAYMENT_MAX_MINOR, PAYMENT_NOTE_CHARS, Payment, PaymentState, Receipt, ReceiptIssuer,
    minor_decimal, receipt_label,
};
pub use portable::{ImportReport, ImportRowError};
pub use portal::{InkEntry, Intake, IntakeAnswers, LinkState, OwnRecord, PortalClient, PortalSession};
pub use reports::{BatchUsage, DepositDue, MonthRow, OwnerReport};
pub use rights::{ErasureReport, LegalHold, RetentionEntry, RetentionReport};
pub use search::{ClientPage, INDEXED_QUERY_CHARS, SHORT_QUERY_SCAN};
pub use throttle::{Backoff, SigninAlert, SigninLimits};
pub use visit_moves::{MOVE_DAYS, MOVE_WORDS_CHARS, MoveClosed, MoveRequest};

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use object_store::{ObjectStore, ObjectStoreExt};
use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::auth::{self, Actor, LoginSession, SessionToken};
use crate::error::{StoreError, StoreResult};
use crate::model::{AuditAction, AuditEntry, Clinic, NewUser, User};
use crate::photo::PhotoLimits;
use crate::role::{Action, Role};
use crate::validate;

/// Expands `$body` once per backend with `$pool` bound to that backend's pool.
macro_rules! on_db {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.db {
            crate::store::Db::Sqlite($pool) => $body,
            crate::store::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_db;

/// The audit-log insert, bound and ready to run on a pool or in a transaction.
macro_rules! audit_insert {
    ($actor:expr, $client:expr, $action:expr, $detail:expr) => {
        sqlx::query(
            "INSERT INTO audit_log (clinic_id, user_id, client_id, action, detail, at, ip, session) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind($actor.clinic_id)
        .bind($actor.user_id)
        .bind($client)
        .bind($action.as_str())
        .bind($detail)
        .bind(crate::store::now())
        .bind($actor.ip_text())
        .bind($actor.session_id())
    };
}
pub(crate) use audit_insert;

macro_rules! user_cols {
    () => {
        "id, clinic_id, email, name, role, active, created_at, totp_secret IS NOT NULL"
    };
}

#[derive(Debug, Clone)]
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Where photo bytes go: any `object_store` (a local folder by default, memory in tests,
/// S3 with the `s3` feature). A local folder and the files in it are private to the
/// server's user (`0700`/`0600`, see [`crate::private`]).
#[derive(Debug, Clone)]
pub struct Blobs(pub(crate) Arc<dyn ObjectStore>, pub(crate) Option<PathBuf>);

impl Blobs {
    /// A folder on disk (created `0700` if missing).
    pub fn local(dir: impl AsRef<Path>) -> StoreResult<Blobs> {
        crate::private::create_dir_all(dir.as_ref()).map_err(|e| {
            StoreError::invalid(
                "photo_dir",
                format!("cannot create {}: {e}", dir.as_ref().display()),
            )
        })?;
        let root = std::fs::canonicalize(dir.as_ref()).unwrap_or_else(|_| dir.as_ref().to_path_buf());
        Ok(Blobs(
            Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir)?),
            Some(root),
        ))
    }

    /// In memory: gone when the process ends. For tests.
    pub fn in_memory() -> Blobs {
        Blobs(Arc::new(object_store::memory::InMemory::new()), None)
    }

    /// An S3 bucket, configured from the `AWS_*` environment variables.
    #[cfg(feature = "s3")]
    pub fn s3_from_env(bucket: &str) -> StoreResult<Blobs> {
        // reqwest is built without a crypto provider of its own (see Cargo.toml): ring, as
        // everywhere else in the server. Already installed is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let s3 = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()?;
        Ok(Blobs(Arc::new(s3), None))
    }

    /// Any other object store.
    pub fn from_object_store(store: Arc<dyn ObjectStore>) -> Blobs {
        Blobs(store, None)
    }

    /// Stores bytes under a key; in a local folder, the file and the folders made for it
    /// are made private.
    pub(crate) async fn put(&self, key: &object_store::path::Path, bytes: Vec<u8>) -> StoreResult<()> {
        self.0.put(key, bytes.into()).await?;
        if let Some(root) = &self.1 {
            let mut path = root.clone();
            for part in key.parts() {
                path.push(part.as_ref());
                crate::private::restrict(&path)
                    .map_err(|e| StoreError::Internal(format!("{}: {e}", path.display())))?;
            }
        }
        Ok(())
    }

    /// The bytes under a key.
    pub(crate) async fn get(&self, key: &str) -> StoreResult<Vec<u8>> {
        let path = object_store::path::Path::from(key);
        Ok(self.0.get(&path).await?.bytes().await?.to_vec())
    }

    /// Deletes the bytes under a key; a key already gone is no error.
    pub(crate) async fn delete(&self, key: &str) -> StoreResult<()> {
        let path = object_store::path::Path::from(key);
        match self.0.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Every key stored, sorted.
    pub(crate) async fn keys(&self) -> StoreResult<Vec<String>> {
        use futures_util::TryStreamExt;
        let mut keys: Vec<String> = self
            .0
            .list(None)
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await?;
        keys.sort();
        Ok(keys)
    }
}

/// Tunables of a store, with defaults a clinic rarely needs to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// How long a login session lasts: 12 hours (a clinic day), then sign in again.
    pub session_ttl: Duration,
    /// Sign-in throttling per account, address and device, and for everyone together.
    pub signin: SigninLimits,
    /// argon2 checks and hashes running at once in this process: 2 (each holds ~19 MiB).
    /// The first store opened in a process sets it.
    pub password_checks_at_once: usize,
    /// …and waiting for one: 32; more are [`StoreError::Busy`] at once.
    pub password_checks_waiting: usize,
    /// Limits on uploaded photos.
    pub photo_limits: PhotoLimits,
    /// Connections in the pool: 5.
    pub max_connections: u32,
    /// With SQLite, how long a session found valid is answered from memory without asking
    /// the database: 5 seconds; zero for never. A sign-out or revocation takes effect at once
    /// (a SQLite file has one server process). With PostgreSQL, which several app servers
    /// may share, sessions are not cached: a sign-out through any of them ends the session
    /// on all at once.
    pub session_cache_ttl: std::time::Duration,
    /// Sessions kept in that cache at most: 10,000 (about 100 bytes each).
    pub session_cache_entries: usize,
    /// How often the rows of audited reads are written, in one batch: every 250 ms.
    pub audit_flush_interval: std::time::Duration,
    /// Read-audit rows waiting that make the next read write the batch itself (and bound
    /// the buffer): 512.
    pub audit_batch_rows: usize,
    /// SQLite: audit rows written since the last filing by client that make the background
    /// task file them (see `store::filing`): 10,000. One client's audit view reads the rows
    /// not yet filed in id order, so this bounds that read; a filing costs a few dozen pages
    /// whatever its size, and each filing is one more lookup for a client's rows.
    pub audit_filing_rows: u64,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions {
            session_ttl: Duration::hours(12),
            signin: SigninLimits::default(),
            password_checks_at_once: 2,
            password_checks_waiting: 32,
            photo_limits: PhotoLimits::default(),
            max_connections: 5,
            session_cache_ttl: std::time::Duration::from_secs(5),
            session_cache_entries: 10_000,
            audit_flush_interval: std::time::Duration::from_millis(250),
            audit_batch_rows: 512,
            audit_filing_rows: 10_000,
        }
    }
}

/// The clinic's records in SQLite or PostgreSQL, and photo bytes in an object store.
///
/// Cheap to clone (pools and the blob store are shared): give each request handler one.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) db: Db,
    pub(crate) blobs: Blobs,
    pub(crate) options: Arc<StoreOptions>,
    /// Sessions seen valid lately (see [`memory`]).
    pub(crate) sessions: Arc<memory::SessionCache>,
    /// Read-audit rows waiting to be written (see [`memory`]).
    pub(crate) audit: Arc<memory::AuditBuffer>,
    /// Who hears that an account's sign-ins are being slowed down, and the checks made
    /// (see [`throttle`]).
    pub(crate) signin: Arc<throttle::SigninState>,
    /// The key of public form stamps, once read (see [`booking`]): it never changes.
    pub(crate) form_key: Arc<std::sync::OnceLock<Vec<u8>>>,
}

/// Which database a store uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, one file.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres`.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Now, in UTC, to the second (what both backends store alike).
pub(crate) fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

fn embedded_migrations(backend: Backend) -> Migrator {
    // Embedded rather than read from disk at run time, so the binary carries its schema.
    let files: &[(i64, &str, &'static str)] = match backend {
        Backend::Sqlite => &[
            (
                1,
                "clinic records",
                include_str!("../../migrations/sqlite/0001_clinic_records.sql"),
            ),
            (
                2,
                "records that hold",
                include_str!("../../migrations/sqlite/0002_records_that_hold.sql"),
            ),
            (
                3,
                "photos to compare",
                include_str!("../../migrations/sqlite/0003_photos_to_compare.sql"),
            ),
            (
                4,
                "signin throttle",
                include_str!("../../migrations/sqlite/0004_signin_throttle.sql"),
            ),
            (
                5,
                "accounts and audit",
                include_str!("../../migrations/sqlite/0005_accounts_and_audit.sql"),
            ),
            (
                6,
                "data rights",
                include_str!("../../migrations/sqlite/0006_data_rights.sql"),
            ),
            (
                7,
                "photo landmarks",
                include_str!("../../migrations/sqlite/0007_photo_landmarks.sql"),
            ),
            (
                8,
                "search and lists",
                include_str!("../../migrations/sqlite/0008_search_and_lists.sql"),
            ),
            (
                9,
                "jobs and messages",
                include_str!("../../migrations/sqlite/0009_jobs_and_messages.sql"),
            ),
            (
                10,
                "diary",
                include_str!("../../migrations/sqlite/0010_diary.sql"),
            ),
            (
                11,
                "calendar feeds",
                include_str!("../../migrations/sqlite/0011_calendar_feeds.sql"),
            ),
            (
                12,
                "portal and signed consents",
                include_str!("../../migrations/sqlite/0012_portal_and_signed_consents.sql"),
            ),
            (
                13,
                "intakes",
                include_str!("../../migrations/sqlite/0013_intakes.sql"),
            ),
            (
                14,
                "booking requests",
                include_str!("../../migrations/sqlite/0014_booking_requests.sql"),
            ),
        ],
        Backend::Postgres => &[
            (
                1,
                "clinic records",
                include_str!("../../migrations/postgres/0001_clinic_records.sql"),
            ),
            (
                2,
                "records that hold",
                include_str!("../../migrations/postgres/0002_records_that_hold.sql"),
            ),
            (
                3,
                "photos to compare",
                include_str!("../../migrations/postgres/0003_photos_to_compare.sql"),
            ),
            (
                4,
                "signin throttle",
                include_str!("../../migrations/postgres/0004_signin_throttle.sql"),
            ),
            (
                5,
                "accounts and audit",
                include_str!("../../migrations/postgres/0005_accounts_and_audit.sql"),
            ),
            (
                6,
                "data rights",
                include_str!("../../migrations/postgres/0006_data_rights.sql"),
            ),
            (
                7,
                "photo landmarks",
                include_str!("../../migrations/postgres/0007_photo_landmarks.sql"),
            ),
            (
                8,
                "search and lists",
                include_str!("../../migrations/postgres/0008_search_and_lists.sql"),
            ),
            (
                9,
                "jobs and messages",
                include_str!("../../migrations/postgres/0009_jobs_and_messages.sql"),
            ),
            (
                10,
                "diary",
                include_str!("../../migrations/postgres/0010_diary.sql"),
            ),
            (
                11,
                "calendar feeds",
                include_str!("../../migrations/postgres/0011_calendar_feeds.sql"),
            ),
            (
                12,
                "portal and signed consents",
                include_str!("../../migrations/postgres/0012_portal_and_signed_consents.sql"),
            ),
            (
                13,
                "intakes",
                include_str!("../../migrations/postgres/0013_intakes.sql"),
            ),
            (
                14,
                "booking requests",
                include_str!("../../migrations/postgres/0014_booking_requests.sql"),
            ),
        ],
    };
    // Issue 15's portal items (ask to move a visit, typed signatures, the client's photos, the
    // clinic's logo), listed apart from the list above so that branches adding migrations meet
    // in no line.
    let portal_files: &[(i64, &str, &'static str)] = match backend {
        Backend::Sqlite => &[
            (
                15,
                "visit moves and typed signatures",
                include_str!("../../migrations/sqlite/0015_visit_moves_and_typed_signatures.sql"),
            ),
            (
                16,
                "client photos and logos",
                include_str!("../../migrations/sqlite/0016_client_photos_and_logos.sql"),
            ),
            (
                17,
                "payments and receipts",
                include_str!("../../migrations/sqlite/0017_payments_and_receipts.sql"),
            ),
        ],
        Backend::Postgres => &[
            (
                15,
                "visit moves and typed signatures",
                include_str!("../../migrations/postgres/0015_visit_moves_and_typed_signatures.sql"),
            ),
            (
                16,
                "client photos and logos",
                include_str!("../../migrations/postgres/0016_client_photos_and_logos.sql"),
            ),
            (
                17,
                "payments and receipts",
                include_str!("../../migrations/postgres/0017_payments_and_receipts.sql"),
            ),
        ],
    };
    // Issue 14's rooms (0018 is another change's), apart for the same reason.
    let diary_files: &[(i64, &str, &'static str)] = match backend {
        Backend::Sqlite => &[(
            19,
            "appointment rooms",
            include_str!("../../migrations/sqlite/0019_appointment_rooms.sql"),
        )],
        Backend::Postgres => &[(
            19,
            "appointment rooms",
            include_str!("../../migrations/postgres/0019_appointment_rooms.sql"),
        )],
    };
    // Issue 16's recall index, apart for the same reason.
    let recall_files: &[(i64, &str, &'static str)] = match backend {
        Backend::Sqlite => &[(
            20,
            "recall by clinic and batch",
            include_str!("../../migrations/sqlite/0020_recall_by_clinic_and_batch.sql"),
        )],
        Backend::Postgres => &[(
            20,
            "recall by clinic and batch",
            include_str!("../../migrations/postgres/0020_recall_by_clinic_and_batch.sql"),
        )],
    };
    // Issue 16's search index written at once, then scoped by clinic: PostgreSQL's only
    // (SQLite's FTS5 has no pending list, and a file holds one clinic), apart for the same reason.
    let search_files: &[(i64, &str, &'static str)] = match backend {
        Backend::Sqlite => &[],
        Backend::Postgres => &[
            (
                21,
                "search index written at once",
                include_str!("../../migrations/postgres/0021_search_index_written_at_once.sql"),
            ),
            (
                22,
                "search scoped by clinic",
                include_str!("../../migrations/postgres/0022_search_scoped_by_clinic.sql"),
            ),
            (
                23,
                "search planned once",
                include_str!("../../migrations/postgres/0023_search_planned_once.sql"),
            ),
        ],
    };
    // Issue 16's audit rows written more cheaply: filed by client on SQLite (PostgreSQL keeps
    // its index by client; see `filing`), without a foreign-key check per row on PostgreSQL;
    // apart for the same reason.
    let audit_files: &[(i64, &str, &'static str)] = match backend {
        Backend::Sqlite => &[(
            24,
            "audit filed by client",
            include_str!("../../migrations/sqlite/0024_audit_filed_by_client.sql"),
        )],
        Backend::Postgres => &[(
            24,
            "audit rows unchecked",
            include_str!("../../migrations/postgres/0024_audit_rows_unchecked.sql"),
        )],
    };
    Migrator::with_migrations(
        files
            .iter()
            .chain(portal_files)
            .chain(diary_files)
            .chain(recall_files)
            .chain(search_files)
            .chain(audit_files)
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    description.into(),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    // SQLite's 0005 rebuilds `users`, 0010 `appointments` and 0016 `photos` with
                    // foreign keys off, which only works outside a transaction; each opens its own.
                    backend == Backend::Sqlite && (version == 5 || version == 10 || version == 16),
                )
            })
            .collect(),
    )
}

/// One client's whole audit trail (`$2`), oldest first (their audit log, their record's
/// archive): `audit_log_client` on PostgreSQL.
pub(crate) const CLIENT_TRAIL: &str = "SELECT id, user_id, client_id, action, detail, at, ip, session FROM audit_log \
     WHERE clinic_id = $1 AND client_id = $2 ORDER BY id";

/// The same on SQLite, whose rows are filed by client (`filing`).
pub(crate) const CLIENT_TRAIL_SQLITE: &str = concat!(
    "SELECT id, user_id, client_id, action, detail, at, ip, session FROM audit_log WHERE id IN (",
    filing::client_audit_ids!("$2"),
    ") AND clinic_id = $1 AND client_id = $2 ORDER BY id"
);

impl Store {
    /// Opens (and migrates) the database at `url` with default options: `sqlite://path`
    /// (the file and its folder are created if missing) or `postgres://…`.
    pub async fn open(url: &str, blobs: Blobs) -> StoreResult<Store> {
        Store::open_with(url, blobs, StoreOptions::default()).await
    }

    /// Opens (and migrates) the database at `url` with the given options.
    pub async fn open_with(url: &str, blobs: Blobs, options: StoreOptions) -> StoreResult<Store> {
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        let db = match scheme {
            "sqlite" => {
                let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
                let path = path.split('?').next().unwrap_or(path);
                if path.is_empty() || path == ":memory:" {
                    return Err(StoreError::invalid(
                        "database_url",
                        "expected sqlite://path/to/follicle.db (a file, not memory)",
                    ));
                }
                if let Some(dir) = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
                    crate::private::create_dir_all(dir).map_err(|e| {
                        StoreError::invalid("database_url", format!("cannot create {}: {e}", dir.display()))
                    })?;
                }
                // A new database file is made private before SQLite opens it; SQLite gives
                // its -wal and -shm files the database file's mode.
                if !Path::new(path).exists() {
                    crate::private::create_new_file(Path::new(path)).map_err(|e| {
                        StoreError::invalid("database_url", format!("cannot create {path}: {e}"))
                    })?;
                }
                let connect = SqliteConnectOptions::from_str(url)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(std::time::Duration::from_secs(10));
                let pool = SqlitePoolOptions::new()
                    .max_connections(options.max_connections)
                    .connect_with(connect)
                    .await?;
                embedded_migrations(Backend::Sqlite).run(&pool).await?;
                Db::Sqlite(pool)
            }
            "postgres" | "postgresql" => {
                let connect = PgConnectOptions::from_str(url)?;
                let pool = PgPoolOptions::new()
                    .max_connections(options.max_connections)
                    .acquire_timeout(std::time::Duration::from_secs(10))
                    .connect_with(connect)
                    .await?;
                embedded_migrations(Backend::Postgres).run(&pool).await?;
                Db::Postgres(pool)
            }
            // Only the scheme is echoed: the rest of a URL may hold a password.
            _ => {
                return Err(StoreError::invalid(
                    "database_url",
                    format!("expected sqlite://… or postgres://…, got scheme {scheme:?}"),
                ));
            }
        };
        // Several app servers may share a PostgreSQL database, and a session cached in one
        // would outlive its sign-out through another: there every request asks the database
        // (see `memory`). A SQLite file has one server process.
        let session_cache_ttl = match db {
            Db::Sqlite(_) => options.session_cache_ttl,
            Db::Postgres(_) => std::time::Duration::ZERO,
        };
        let sessions = Arc::new(memory::SessionCache::new(
            session_cache_ttl,
            options.session_cache_entries,
        ));
        let audit = Arc::new(memory::AuditBuffer::new(options.audit_batch_rows));
        // The task ends when the store is closed or its last clone dropped.
        let interval = options
            .audit_flush_interval
            .max(std::time::Duration::from_millis(1));
        tokio::spawn(memory::flush_every(
            Arc::downgrade(&audit),
            db.clone(),
            interval,
            options.audit_filing_rows,
        ));
        auth::set_hasher_limits(options.password_checks_at_once, options.password_checks_waiting);
        Ok(Store {
            db,
            blobs,
            options: Arc::new(options),
            sessions,
            audit,
            signin: Arc::default(),
            form_key: Arc::default(),
        })
    }

    /// Which database this store uses.
    pub fn backend(&self) -> Backend {
        match self.db {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Checks that the database answers (for a health check).
    pub async fn ping(&self) -> StoreResult<()> {
        on_db!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Writes the waiting read-audit rows, then closes the connections (waits for running
    /// queries). Reads audited after this fail rather than go unrecorded.
    pub async fn close(&self) {
        self.audit.close();
        if let Err(e) = self.audit.flush(&self.db).await {
            tracing::error!(error = %e, lost = self.audit.len(), "could not write the read audit rows at shutdown");
        }
        on_db!(self, pool => pool.close().await)
    }

    /// Writes the read-audit rows waiting in memory now (a background task does it every
    /// [`StoreOptions::audit_flush_interval`]); gives how many were written.
    pub async fn flush_audit(&self) -> StoreResult<usize> {
        self.audit.flush(&self.db).await
    }

    /// Read-audit rows waiting in memory to be written.
    pub fn pending_audit_rows(&self) -> usize {
        self.audit.len()
    }

    /// SQLite: files by client every audit row written since the last filing, however few
    /// (the background task files them once there are [`StoreOptions::audit_filing_rows`]);
    /// gives how many rows naming a client were filed. Nothing to do on PostgreSQL (0). A
    /// client's audit rows are found whether filed or not: filing only makes it quicker.
    pub async fn file_audit_rows(&self) -> StoreResult<u64> {
        self.flush_audit().await?;
        filing::file(&self.db, 1).await
    }

    /// Begins the transaction of an audited write, after writing the waiting read-audit
    /// rows, so that the trail stays in the order things happened.
    pub(crate) async fn begin_audited<DB: sqlx::Database>(
        &self,
        pool: &sqlx::Pool<DB>,
    ) -> StoreResult<sqlx::Transaction<'static, DB>> {
        self.flush_audit().await?;
        begin_write(pool).await
    }

    /// Copies the SQLite database, consistent and online, to a new file with
    /// `VACUUM INTO`. The file must not exist yet. PostgreSQL is backed up with `pg_dump`:
    /// there this is an [`StoreError::Invalid`].
    ///
    /// Takes no [`Actor`]: it is for the operator (the CLI, a cron job) who owns the files;
    /// a web route offering it checks [`Action::Backup`] first.
    pub async fn backup_to(&self, path: impl AsRef<Path>) -> StoreResult<PathBuf> {
        let path = path.as_ref().to_path_buf();
        let Db::Sqlite(pool) = &self.db else {
            return Err(StoreError::invalid(
                "backup",
                "online backup copies a SQLite file; back up PostgreSQL with pg_dump",
            ));
        };
        if path.exists() {
            return Err(StoreError::Conflict {
                message: format!("{} already exists", path.display()),
            });
        }
        let text = path
            .to_str()
            .ok_or_else(|| StoreError::invalid("backup", "the path must be valid UTF-8"))?;
        // Made private and empty first: VACUUM INTO writes into an empty file and keeps its mode.
        crate::private::create_new_file(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => StoreError::Conflict {
                message: format!("{} already exists", path.display()),
            },
            _ => StoreError::invalid("backup", format!("cannot create {}: {e}", path.display())),
        })?;
        if let Err(e) = sqlx::query("VACUUM INTO $1").bind(text).execute(pool).await {
            let _ = std::fs::remove_file(&path);
            return Err(e.into());
        }
        Ok(path)
    }

    // ----- clinics and users -----

    /// Creates a clinic and its first user, who must be an owner. Returns the clinic and
    /// the owner, signed in as an [`Actor`].
    pub async fn create_clinic_with_owner(
        &self,
        clinic_name: &str,
        owner: NewUser,
    ) -> StoreResult<(Clinic, Actor)> {
        let name = validate::line("clinic.name", clinic_name, false)?;
        if owner.role != Role::Owner {
            return Err(StoreError::invalid(
                "role",
                "the first user of a clinic is its owner",
            ));
        }
        let (email, user_name, hash) = Self::prepare_user(&owner).await?;
        let clinic = Clinic {
            id: Uuid::new_v4(),
            name,
            retention_years: 8,
            settings_toml: String::new(),
            created_at: now(),
        };
        let actor = Actor::new(Uuid::new_v4(), clinic.id, Role::Owner);
        on_db!(self, pool => {
            let mut tx = begin_write(pool).await?;
            sqlx::query("INSERT INTO clinics (id, name, retention_years, settings_toml, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(clinic.id).bind(&clinic.name).bind(clinic.retention_years).bind(&clinic.settings_toml).bind(clinic.created_at)
                .execute(&mut *tx).await?;
            sqlx::query("INSERT INTO users (id, clinic_id, email, name, role, password_hash, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(actor.user_id).bind(clinic.id).bind(&email).bind(&user_name).bind(Role::Owner.as_str()).bind(&hash).bind(true).bind(clinic.created_at)
                .execute(&mut *tx).await.map_err(email_taken)?;
            tx.commit().await?;
        });
        Ok((clinic, actor))
    }

    async fn prepare_user(user: &NewUser) -> StoreResult<(String, String, String)> {
        let email = validate::email("email", &user.email, false)?;
        let name = validate::line("name", &user.name, false)?;
        crate::password::check(&user.password, &[&email, &name])?;
        let hash = auth::hash_password(user.password.clone()).await?;
        Ok((email, name, hash))
    }

    /// The acting user's clinic.
    pub async fn clinic(&self, actor: &Actor) -> StoreResult<Clinic> {
        let row: Option<(Uuid, String, i64, String, OffsetDateTime)> = on_db!(self, pool => {
            sqlx::query_as("SELECT id, name, retention_years, settings_toml, created_at FROM clinics WHERE id = $1")
                .bind(actor.clinic_id).fetch_optional(pool).await?
        });
        let (id, name, retention_years, settings_toml, created_at) =
            row.ok_or_else(|| StoreError::not_found("clinic"))?;
        Ok(Clinic {
            id,
            name,
            retention_years,
            settings_toml,
            created_at,
        })
    }

    /// Changes the clinic's settings file (checked by `follicle_core`: errors name the
    /// field and line) and how many years records are kept (1–100). Owners only.
    pub async fn update_clinic_settings(
        &self,
        actor: &Actor,
        settings_toml: &str,
        retention_years: i64,
    ) -> StoreResult<Clinic> {
        actor.require(Action::EditSettings)?;
        let text = validate::text("settings", settings_toml)?;
        let retention_years = validate::int_range("retention_years", retention_years, 1, 100)?;
        if !text.trim().is_empty() {
            follicle_core::Settings::from_toml(follicle_core::settings::DEFAULT_SETTINGS_TOML, Some(&text))
                .map_err(|e| StoreError::invalid("settings", e.to_string()))?;
        }
        let before = self.clinic(actor).await?;
        let mut changed = Vec::new();
        if before.settings_toml != text {
            changed.push("settings file".to_owned());
        }
        if before.retention_years != retention_years {
            changed.push(format!(
                "retention_years {} → {retention_years}",
                before.retention_years
            ));
        }
        let detail = if changed.is_empty() {
            "saved unchanged".to_owned()
        } else {
            changed.join("; ")
        };
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            sqlx::query("UPDATE clinics SET settings_toml = $1, retention_years = $2 WHERE id = $3")
                .bind(&text).bind(retention_years).bind(actor.clinic_id).execute(&mut *tx).await?;
            audit_insert!(actor, None::<Uuid>, AuditAction::SettingsChanged, &detail).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        self.clinic(actor).await
    }

    /// Adds a user to the acting owner's clinic.
    pub async fn add_user(&self, actor: &Actor, user: NewUser) -> StoreResult<User> {
        actor.require(Action::ManageUsers)?;
        let (email, name, hash) = Self::prepare_user(&user).await?;
        let created = User {
            id: Uuid::new_v4(),
            clinic_id: actor.clinic_id,
            email,
            name,
            role: user.role,
            active: true,
            created_at: now(),
            two_factor: false,
        };
        let detail = format!("{} <{}> as {}", created.name, created.email, created.role);
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            sqlx::query("INSERT INTO users (id, clinic_id, email, name, role, password_hash, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(created.id).bind(created.clinic_id).bind(&created.email).bind(&created.name).bind(created.role.as_str()).bind(&hash).bind(true).bind(created.created_at)
                .execute(&mut *tx).await.map_err(email_taken)?;
            audit_insert!(actor, None::<Uuid>, AuditAction::UserAdded, &detail).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(created)
    }

    /// The users of the acting user's clinic, by name.
    pub async fn list_users(&self, actor: &Actor) -> StoreResult<Vec<User>> {
        actor.require(Action::ViewUsers)?;
        let rows: Vec<UserRow> = on_db!(self, pool => {
            sqlx::query_as(concat!("SELECT ", user_cols!(), " FROM users WHERE clinic_id = $1 ORDER BY name, id"))
                .bind(actor.clinic_id).fetch_all(pool).await?
        });
        rows.into_iter().map(user_from_row).collect()
    }

    /// One user of the acting user's clinic.
    pub async fn user(&self, actor: &Actor, user_id: Uuid) -> StoreResult<User> {
        let row: Option<UserRow> = on_db!(self, pool => {
            sqlx::query_as(concat!("SELECT ", user_cols!(), " FROM users WHERE clinic_id = $1 AND id = $2"))
                .bind(actor.clinic_id).bind(user_id).fetch_optional(pool).await?
        });
        user_from_row(row.ok_or_else(|| StoreError::not_found("user"))?)
    }

    /// Changes a user's role or active flag; deactivating ends their sessions. A clinic
    /// keeps at least one active owner ([`StoreError::Conflict`] otherwise).
    pub async fn update_user(
        &self,
        actor: &Actor,
        user_id: Uuid,
        role: Role,
        active: bool,
    ) -> StoreResult<User> {
        actor.require(Action::ManageUsers)?;
        let user = self.user(actor, user_id).await?;
        if user.role == Role::Owner && user.active && (role != Role::Owner || !active) {
            let owners: Vec<(Uuid,)> = on_db!(self, pool => {
                sqlx::query_as("SELECT id FROM users WHERE clinic_id = $1 AND role = 'owner' AND active = $2")
                    .bind(actor.clinic_id).bind(true).fetch_all(pool).await?
            });
            if owners.len() <= 1 {
                return Err(StoreError::Conflict {
                    message: "a clinic keeps at least one active owner".to_owned(),
                });
            }
        }
        let detail = format!(
            "{} <{}>: role {} → {}, active {} → {}",
            user.name, user.email, user.role, role, user.active, active
        );
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            sqlx::query("UPDATE users SET role = $1, active = $2 WHERE clinic_id = $3 AND id = $4")
                .bind(role.as_str()).bind(active).bind(actor.clinic_id).bind(user_id).execute(&mut *tx).await?;
            audit_insert!(actor, None::<Uuid>, AuditAction::UserChanged, &detail).execute(&mut *tx).await?;
            if !active {
                sqlx::query("UPDATE login_sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
                    .bind(now()).bind(user_id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        // Its sessions carry the old role or flag: they are looked up again.
        self.sessions.forget_user(user_id);
        self.user(actor, user_id).await
    }

    /// The [`Actor`] for a user id, for trusted callers that already know who acts (the CLI's
    /// admin commands, tests). A web server uses [`Store::authenticate`] instead.
    pub async fn actor(&self, user_id: Uuid) -> StoreResult<Actor> {
        let row: Option<(Uuid, String, bool)> = on_db!(self, pool => {
            sqlx::query_as("SELECT clinic_id, role, active FROM users WHERE id = $1")
                .bind(user_id).fetch_optional(pool).await?
        });
        match row {
            Some((clinic_id, role, true)) => Ok(Actor::new(user_id, clinic_id, Role::parse(&role)?)),
            _ => Err(StoreError::not_found("user")),
        }
    }

    // ----- logins and sessions -----

    /// Signs a user in from an address, without a device cookie: [`Store::login_from`].
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        ip: &str,
        now: OffsetDateTime,
    ) -> StoreResult<LoginSession> {
        self.login_from(email, password, ip, None, now).await
    }

    /// Opens a session for an actor (after another way of signing in, or to act in the CLI).
    pub async fn open_session(&self, actor: Actor, now: OffsetDateTime) -> StoreResult<LoginSession> {
        self.open_session_from(actor, now, "", "").await
    }

    /// Opens a session, noting the address and the browser it was opened from (the sessions
    /// list shows them).
    pub async fn open_session_from(
        &self,
        actor: Actor,
        now: OffsetDateTime,
        ip: &str,
        user_agent: &str,
    ) -> StoreResult<LoginSession> {
        let token = SessionToken::generate()?;
        let now = validate::moment("now", now)?;
        let expires_at = now + self.options.session_ttl;
        let digest = auth::token_sha256(token.as_str());
        let user_agent: String = user_agent.chars().filter(|&c| c != '\0').take(200).collect();
        on_db!(self, pool => {
            sqlx::query("INSERT INTO login_sessions (token_sha256, user_id, created_at, expires_at, ip, user_agent, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $3)")
                .bind(&digest[..]).bind(actor.user_id).bind(now).bind(expires_at).bind(rate_key(ip)).bind(&user_agent)
                .execute(pool).await?;
        });
        let mut actor = actor;
        actor.session = Some(auth::session_prefix(&digest));
        Ok(LoginSession {
            token,
            expires_at,
            actor,
        })
    }

    /// The signed-in user of a session token: [`StoreError::Unauthenticated`] when the
    /// token is unknown, expired, revoked, or its user deactivated.
    pub async fn authenticate(&self, token: &str, now: OffsetDateTime) -> StoreResult<Actor> {
        if token.len() != 64 {
            return Err(StoreError::Unauthenticated);
        }
        let digest = auth::token_sha256(token);
        if let Some(actor) = self.sessions.get(&digest, now) {
            return Ok(actor);
        }
        let row: Option<SessionRow> = on_db!(self, pool => {
            sqlx::query_as(
                "SELECT u.id, u.clinic_id, u.role, u.active, s.expires_at, s.revoked_at, s.created_at, s.last_seen_at, \
                 c.idle_timeout_minutes, c.require_mfa, u.totp_secret IS NOT NULL \
                 FROM login_sessions s JOIN users u ON u.id = s.user_id JOIN clinics c ON c.id = u.clinic_id \
                 WHERE s.token_sha256 = $1",
            )
            .bind(&digest[..]).fetch_optional(pool).await?
        });
        let Some((
            user_id,
            clinic_id,
            role,
            true,
            expires_at,
            None,
            created_at,
            last_seen_at,
            idle_minutes,
            require_mfa,
            two_factor,
        )) = row
        else {
            return Err(StoreError::Unauthenticated);
        };
        let last_seen = last_seen_at.unwrap_or(created_at);
        if now >= expires_at || now - last_seen > Duration::minutes(idle_minutes) {
            return Err(StoreError::Unauthenticated);
        }
        // The idle clock is kept to the minute: one write a minute per busy session, not one
        // a request.
        if now - last_seen >= Duration::minutes(1) {
            on_db!(self, pool => {
                sqlx::query("UPDATE login_sessions SET last_seen_at = $1 WHERE token_sha256 = $2")
                    .bind(validate::moment("now", now)?).bind(&digest[..]).execute(pool).await?;
            });
        }
        let mut actor = Actor::new(user_id, clinic_id, Role::parse(&role)?);
        actor.session = Some(auth::session_prefix(&digest));
        actor.enrolment_required = require_mfa && !two_factor;
        // A cached session is trusted until its TTL, so it never outlives the idle timeout
        // by more than that.
        self.sessions.insert(
            digest,
            actor,
            expires_at.min(last_seen + Duration::minutes(idle_minutes)),
        );
        Ok(actor)
    }

    /// Ends a session (signing out). Unknown tokens are fine: signing out twice is no error.
    pub async fn revoke_session(&self, token: &str) -> StoreResult<()> {
        self.sessions.forget(&auth::token_sha256(token));
        on_db!(self, pool => {
            sqlx::query("UPDATE login_sessions SET revoked_at = $1 WHERE token_sha256 = $2 AND revoked_at IS NULL")
                .bind(now()).bind(&auth::token_sha256(token)[..]).execute(pool).await?;
        });
        Ok(())
    }

    /// Ends every session of a user: their own (sign out everywhere) or, for an owner, a
    /// colleague's.
    pub async fn revoke_user_sessions(&self, actor: &Actor, user_id: Uuid) -> StoreResult<u64> {
        if user_id != actor.user_id {
            actor.require(Action::ManageUsers)?;
            self.user(actor, user_id).await?;
        }
        self.sessions.forget_user(user_id);
        let done = on_db!(self, pool => {
            sqlx::query("UPDATE login_sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
                .bind(now()).bind(user_id).execute(pool).await?.rows_affected()
        });
        // A lookup that began before the update may have put a session back meanwhile.
        self.sessions.forget_user(user_id);
        Ok(done)
    }

    /// Deletes expired or revoked sessions and sign-in counters that no longer slow anything
    /// down; run it daily.
    pub async fn purge_expired(&self, now: OffsetDateTime) -> StoreResult<u64> {
        let throttle = self.purge_throttle(now).await? + self.purge_idempotency(now).await?;
        let now = validate::moment("now", now)?;
        let done = on_db!(self, pool => {
            let sessions = sqlx::query("DELETE FROM login_sessions WHERE expires_at <= $1 OR revoked_at IS NOT NULL")
                .bind(now).execute(pool).await?.rows_affected();
            let challenges = sqlx::query("DELETE FROM login_challenges WHERE expires_at <= $1 OR used_at IS NOT NULL")
                .bind(now).execute(pool).await?.rows_affected();
            let resets = sqlx::query("DELETE FROM password_resets WHERE expires_at <= $1 OR used_at IS NOT NULL")
                .bind(now).execute(pool).await?.rows_affected();
            sessions + challenges + resets
        });
        Ok(done + throttle + self.purge_old_audit(now).await?)
    }

    // ----- audit -----

    pub(crate) async fn audit(
        &self,
        actor: &Actor,
        client_id: Option<Uuid>,
        action: AuditAction,
        detail: &str,
    ) -> StoreResult<()> {
        // Reads of records, searches and the diary are many: batched. A reading of the audit
        // log itself is rare and written at once, like a write.
        let read = matches!(
            action,
            AuditAction::Viewed | AuditAction::Searched | AuditAction::DiaryRead
        );
        if read && !self.audit.is_closed() {
            // Batched (see [`memory`]): a full batch is written behind this read, which does
            // not wait for it; a read that finds two batches waiting (the writes are falling
            // behind, or failing) writes them itself first, and is refused if it cannot.
            if self.audit.len() >= 2 * self.audit.batch_rows {
                self.flush_audit().await?;
            }
            let full = self.audit.push(memory::PendingAudit {
                clinic_id: actor.clinic_id,
                user_id: actor.user_id,
                client_id,
                action,
                detail: detail.to_owned(),
                at: now(),
                ip: actor.ip_text(),
                session: actor.session_id(),
            });
            if full {
                memory::flush_behind(&self.audit, &self.db);
            }
            return Ok(());
        }
        self.flush_audit().await?;
        on_db!(self, pool => {
            audit_insert!(actor, client_id, action, detail).execute(pool).await?;
        });
        Ok(())
    }

    #[cfg(feature = "testing")]
    /// For tests: whether a batch of read-audit rows is being written behind a read.
    pub(crate) fn audit_writing_behind(&self) -> bool {
        self.audit.is_writing_behind()
    }

    #[cfg(feature = "testing")]
    /// For tests: the tables `audit_log`'s foreign keys check each row against, sorted.
    pub(crate) async fn audit_log_references(&self) -> StoreResult<Vec<String>> {
        let mut tables: Vec<String> = match &self.db {
            Db::Sqlite(pool) => {
                sqlx::query_scalar("SELECT \"table\" FROM pragma_foreign_key_list('audit_log')")
                    .fetch_all(pool)
                    .await?
            }
            Db::Postgres(pool) => {
                sqlx::query_scalar(
                    "SELECT confrelid::regclass::text FROM pg_constraint \
                     WHERE conrelid = 'audit_log'::regclass AND contype = 'f'",
                )
                .fetch_all(pool)
                .await?
            }
        };
        tables.sort();
        Ok(tables)
    }

    #[cfg(feature = "testing")]
    /// For tests: makes the database refuse (`true`) or take again (`false`) every new audit
    /// row, with a trigger, as a full disk or a broken permission would.
    pub(crate) async fn refuse_audit_rows(&self, refuse: bool) -> StoreResult<()> {
        match &self.db {
            Db::Sqlite(pool) => {
                let sql = if refuse {
                    "CREATE TRIGGER audit_refused BEFORE INSERT ON audit_log \
                     BEGIN SELECT RAISE(ABORT, 'audit rows refused by a test'); END"
                } else {
                    "DROP TRIGGER IF EXISTS audit_refused"
                };
                sqlx::query(sql).execute(pool).await?;
            }
            Db::Postgres(pool) => {
                let statements: &[&'static str] = if refuse {
                    &[
                        "CREATE FUNCTION audit_refused() RETURNS trigger LANGUAGE plpgsql AS \
                         $$ BEGIN RAISE EXCEPTION 'audit rows refused by a test'; END $$",
                        "CREATE TRIGGER audit_refused BEFORE INSERT ON audit_log \
                         FOR EACH STATEMENT EXECUTE FUNCTION audit_refused()",
                    ]
                } else {
                    &[
                        "DROP TRIGGER IF EXISTS audit_refused ON audit_log",
                        "DROP FUNCTION IF EXISTS audit_refused()",
                    ]
                };
                for &sql in statements {
                    sqlx::query(sql).execute(pool).await?;
                }
            }
        }
        Ok(())
    }

    /// Who viewed, changed or exported a client's record, oldest first. Owners only. The
    /// reading is itself audited (after the trail is read, so it is not in this answer).
    pub async fn audit_log(&self, actor: &Actor, client_id: Uuid) -> StoreResult<Vec<AuditEntry>> {
        actor.require(Action::ViewAuditLog)?;
        self.flush_audit().await?;
        let rows: Vec<AuditRow> = on_db!(self, pool => {
            sqlx::query_as(filing::client_trail(&self.db))
                .bind(actor.clinic_id).bind(client_id).fetch_all(pool).await?
        });
        if rows.is_empty() {
            // No trail: a client of this clinic with none yet, or not this clinic's client.
            self.ensure_client(actor, client_id).await?;
        }
        let entries = rows
            .into_iter()
            .map(audit_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        self.audit(
            actor,
            Some(client_id),
            AuditAction::AuditRead,
            "client's audit trail",
        )
        .await?;
        Ok(entries)
    }
}

/// Rate-limit keys: anything, cut to a sane length and stripped of NULs, so a hostile login
/// form cannot make the counter fail.
fn rate_key(text: &str) -> String {
    text.chars()
        .filter(|&c| c != '\0')
        .take(validate::MAX_LINE_CHARS)
        .collect()
}

fn email_taken(error: sqlx::Error) -> StoreError {
    match StoreError::from(error) {
        StoreError::Conflict { .. } => StoreError::Conflict {
            message: "email: already in use".to_owned(),
        },
        other => other,
    }
}

type UserRow = (Uuid, Uuid, String, String, String, bool, OffsetDateTime, bool);

fn user_from_row(
    (id, clinic_id, email, name, role, active, created_at, two_factor): UserRow,
) -> StoreResult<User> {
    Ok(User {
        id,
        clinic_id,
        email,
        name,
        role: Role::parse(&role)?,
        active,
        created_at,
        two_factor,
    })
}

type SessionRow = (
    Uuid,
    Uuid,
    String,
    bool,
    OffsetDateTime,
    Option<OffsetDateTime>,
    OffsetDateTime,
    Option<OffsetDateTime>,
    i64,
    bool,
    bool,
);

pub(crate) type AuditRow = (
    i64,
    Uuid,
    Option<Uuid>,
    String,
    String,
    OffsetDateTime,
    String,
    String,
);

pub(crate) fn audit_from_row(
    (id, user_id, client_id, action, detail, at, ip, session): AuditRow,
) -> StoreResult<AuditEntry> {
    Ok(AuditEntry {
        id,
        user_id,
        client_id,
        action: AuditAction::parse(&action)?,
        detail,
        at,
        ip,
        session,
    })
}

/// Begins a transaction that will write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`), waiting up to the busy timeout for another writer to finish: a
/// deferred transaction that has read takes it only at its first write, and if another
/// connection wrote in between, SQLite refuses at once with "database is locked" without
/// waiting, because the reads the transaction made may be stale. PostgreSQL begins as usual.
pub(crate) async fn begin_write<DB: sqlx::Database>(
    pool: &sqlx::Pool<DB>,
) -> StoreResult<sqlx::Transaction<'static, DB>> {
    if DB::NAME == <sqlx::Sqlite as sqlx::Database>::NAME {
        Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
    } else {
        Ok(pool.begin().await?)
    }
}

#[cfg(test)]
mod write_lock_tests {
    use super::begin_write;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
    use std::str::FromStr;
    use std::time::Duration;

    async fn pool(dir: &std::path::Path) -> sqlx::SqlitePool {
        let url = format!("sqlite://{}", dir.join("lock.db").display());
        let options = SqliteConnectOptions::from_str(&url)
            .unwrap()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&pool)
            .await
            .unwrap();
        pool
    }

    /// A transaction reads, another connection writes and commits, then the first writes.
    /// Begun the default way, SQLite refuses the write at once ("database is locked"), the
    /// busy timeout notwithstanding; begun by `begin_write`, the other writer waits instead.
    async fn read_then_write(pool: &sqlx::SqlitePool, immediate: bool) -> Result<(), sqlx::Error> {
        let mut tx = if immediate {
            begin_write(pool)
                .await
                .map_err(|e| sqlx::Error::Protocol(e.to_string()))?
        } else {
            pool.begin().await?
        };
        let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM t")
            .fetch_one(&mut *tx)
            .await?;
        let other = pool.clone();
        let writer =
            tokio::spawn(async move { sqlx::query("INSERT INTO t VALUES (1)").execute(&other).await });
        let waited = if immediate {
            // The other connection tries to write meanwhile, and waits for this transaction.
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            Some(writer)
        } else {
            // The other connection commits before this transaction writes.
            writer.await.unwrap()?;
            None
        };
        sqlx::query("INSERT INTO t VALUES ($1)")
            .bind(n + 10)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        if let Some(writer) = waited {
            writer.await.unwrap()?;
        }
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_transaction_holds_the_lock_from_its_first_read() {
        let dir = crate::testing::temp_dir();
        let pool = pool(&dir).await;
        let deferred = read_then_write(&pool, false).await;
        assert!(
            matches!(&deferred, Err(e) if e.to_string().contains("locked")),
            "a deferred transaction's late write is refused: {deferred:?}"
        );
        read_then_write(&pool, true).await.unwrap();
        let (rows,): (i64,) = sqlx::query_as("SELECT count(*) FROM t")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(
            rows, 3,
            "the deferred run's other writer, then both writes of the immediate run"
        );
        pool.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
