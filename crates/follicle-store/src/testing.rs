//! Test fixtures for this crate's tests and for crates built on it (the `testing` feature):
//! a store in a fresh SQLite folder or a fresh PostgreSQL schema, both removed when the test
//! ends, even when it fails, and a JPEG that carries EXIF with a GPS position.

use uuid::Uuid;

use crate::{Actor, Blobs, Store, StoreOptions};

pub use crate::store::plans::{BIG_TABLES, QueryPlan};

/// The plan of each hot query of the clinics' day (issue 16) on this store, for `actor`'s
/// clinic and one of its clients: the SQL the store runs, explained by the database.
pub async fn query_plans(store: &Store, actor: &Actor, client_id: Uuid) -> Vec<QueryPlan> {
    store
        .hot_query_plans(actor, client_id)
        .await
        .expect("explain the hot queries")
}

/// Gathers the planner's statistics (`ANALYZE`), as a live database has them (PostgreSQL's
/// autovacuum; SQLite's `PRAGMA optimize`), so that a plan is the one real data would get.
pub async fn analyze(store: &Store) {
    store.analyze().await.expect("ANALYZE");
}

/// The storage options of PostgreSQL's index `name` (`["fastupdate=off"]`); `None` on SQLite.
pub async fn index_options(store: &Store, name: &str) -> Option<Vec<String>> {
    store.index_options(name).await.expect("read the index's options")
}

/// Deletes the audit rows past each clinic's retention as the daily purge does, in statements
/// of at most `batch` rows; gives how many.
pub async fn purge_old_audit_in(store: &Store, now: time::OffsetDateTime, batch: i64) -> u64 {
    store
        .purge_old_audit_in(now, batch)
        .await
        .expect("purge the audit log")
}

/// SQLite's filings of audit rows by client and the rows filed in them (`store::filing`);
/// `(0, 0)` on PostgreSQL, which has none.
pub async fn audit_filings(store: &Store) -> (i64, i64) {
    store.audit_filings().await.expect("count the audit filings")
}

/// The tables `audit_log`'s foreign keys check each new row against, sorted (none on
/// PostgreSQL since migration 0024).
pub async fn audit_log_references(store: &Store) -> Vec<String> {
    store
        .audit_log_references()
        .await
        .expect("read audit_log's foreign keys")
}

/// Makes the database refuse every new audit row (`true`), as a full disk or a revoked
/// permission would, or take them again (`false`).
pub async fn refuse_audit_rows(store: &Store, refuse: bool) {
    store
        .refuse_audit_rows(refuse)
        .await
        .expect("add or remove the refusing trigger");
}

/// Waits until no batch of read-audit rows is being written behind a read (a failed write has
/// put its rows back by then). The deadline only turns a hung writer into a failure.
pub async fn wait_for_audit_written_behind(store: &Store) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while store.audit_writing_behind() {
        assert!(
            std::time::Instant::now() < deadline,
            "a batch of audit rows is still being written after 30 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// Makes a queued job due now, so that a test need not wait out its backoff.
pub async fn make_job_due(store: &Store, job_id: Uuid) {
    store.make_job_due(job_id).await.expect("make the job due");
}

/// The worker that last worked a job, as the job's row keeps it after a try.
pub async fn job_worker(store: &Store, job_id: Uuid) -> Option<String> {
    store.job_worker(job_id).await.expect("read the job's worker")
}

/// Tries to change a signed consent's text through SQL, as a program or person with access to
/// the database might: the error the database answers (its trigger refuses), or `None` if the
/// change went through.
pub async fn try_to_change_consent(store: &Store, consent_id: Uuid) -> Option<String> {
    store
        .change_consent_text(consent_id, false)
        .await
        .err()
        .map(|e| e.to_string())
}

/// Changes one byte of a signed consent's text behind Follicle's back (the trigger dropped
/// first, as someone with full access to the database could), for the tests that show the
/// change is detected.
pub async fn forge_consent(store: &Store, consent_id: Uuid) {
    store
        .change_consent_text(consent_id, true)
        .await
        .expect("change the consent behind the store's back");
}

/// Changes one byte of a signed consent's stored PDF behind Follicle's back.
pub async fn forge_consent_pdf(store: &Store, consent_id: Uuid) {
    store
        .change_consent_pdf(consent_id)
        .await
        .expect("change the PDF");
}

/// Tries to change a payment's amount through SQL: the error the database answers (its trigger
/// refuses once the receipt is issued), or `None` if the change went through.
pub async fn try_to_change_payment(store: &Store, payment_id: Uuid) -> Option<String> {
    store
        .change_payment_amount(payment_id)
        .await
        .err()
        .map(|e| e.to_string())
}

/// The PostgreSQL server the tests use.
pub fn postgres_url() -> String {
    std::env::var("FOLLICLE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A store for one test, and what to clean up after it.
#[allow(missing_debug_implementations)]
pub struct TestStore {
    /// The store.
    pub store: Store,
    /// The URL the store was opened with (to open it again).
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Folder(std::path::PathBuf),
    Schema { url: String, schema: String },
}

impl TestStore {
    /// A SQLite store in a fresh temporary folder.
    pub async fn sqlite() -> TestStore {
        TestStore::sqlite_with(options()).await
    }

    /// A SQLite store in a fresh temporary folder, with these options.
    pub async fn sqlite_with(options: StoreOptions) -> TestStore {
        let dir = temp_dir();
        let url = format!("sqlite://{}", dir.join("data/follicle.db").display());
        let store = Store::open_with(&url, Blobs::in_memory(), options)
            .await
            .expect("open SQLite store");
        TestStore {
            store,
            url,
            cleanup: Cleanup::Folder(dir),
        }
    }

    /// The same database opened again (as a restarted server would), with these options.
    pub async fn reopen(&self, options: StoreOptions) -> Store {
        Store::open_with(&self.url, Blobs::in_memory(), options)
            .await
            .expect("open the store again")
    }

    /// A PostgreSQL store in a fresh schema (`follicle_test_<random>`), so parallel tests
    /// and repeated runs never meet.
    pub async fn postgres() -> TestStore {
        TestStore::postgres_with(options()).await
    }

    /// A PostgreSQL store in a fresh schema, with these options.
    pub async fn postgres_with(options: StoreOptions) -> TestStore {
        let url = postgres_url();
        let schema = format!("follicle_test_{}", Uuid::new_v4().simple());
        admin(&url, &format!("CREATE SCHEMA {schema}")).await;
        let separator = if url.contains('?') { '&' } else { '?' };
        // The application name marks this test's connections, so the clean-up can end them.
        let store_url = format!("{url}{separator}options[search_path]={schema}&application_name={schema}");
        let cleanup = Cleanup::Schema { url, schema };
        let store = Store::open_with(&store_url, Blobs::in_memory(), options)
            .await
            .expect("open PostgreSQL store");
        TestStore {
            store,
            url: store_url,
            cleanup,
        }
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Folder(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Schema { url, schema } => {
                // Drop runs inside the test's runtime, which cannot block on itself: a thread
                // with its own runtime drops the schema, also after a failed test.
                // Connections still open (the test's runtime is stopping) are ended first, so
                // that no lock they hold keeps the schema.
                let url = url.clone();
                let sql = format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{schema}'; \
                     DROP SCHEMA IF EXISTS {schema} CASCADE"
                );
                let _ = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    runtime.block_on(admin(&url, &sql));
                })
                .join();
            }
        }
    }
}

/// Runs one statement on the PostgreSQL server, failing the test with a clear message when
/// the server cannot be reached.
async fn admin(url: &str, sql: &str) {
    use sqlx::{Connection, Executor};
    let mut connection = sqlx::PgConnection::connect(url).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL is needed for these tests and is not reachable at {url}: {e}. \
             Start PostgreSQL or set FOLLICLE_TEST_POSTGRES_URL."
        )
    });
    connection
        .execute(sqlx::AssertSqlSafe(sql.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = connection.close().await;
}

/// The options the test stores use unless given others: a small pool.
pub fn options() -> StoreOptions {
    StoreOptions {
        max_connections: 4,
        ..StoreOptions::default()
    }
}

/// A fresh temporary folder.
pub fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("follicle-test-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A small real JPEG with an EXIF segment carrying a GPS position and an orientation.
pub fn jpeg_with_gps() -> Vec<u8> {
    let mut jpeg = Vec::new();
    let image = image::RgbImage::from_fn(32, 24, |x, y| image::Rgb([(x * 8) as u8, (y * 10) as u8, 90]));
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
        .encode_image(&image)
        .unwrap();
    let mut tiff: Vec<u8> = b"II\x2a\x00\x08\x00\x00\x00".to_vec();
    // IFD0 at 8: orientation 6, GPS IFD pointer to 38.
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]);
    tiff.extend_from_slice(&[0x25, 0x88, 4, 0, 1, 0, 0, 0, 38, 0, 0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes());
    // GPS IFD at 38: latitude reference "N", latitude at 68 (3 rationals).
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&[0x01, 0x00, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0]);
    tiff.extend_from_slice(&[0x02, 0x00, 5, 0, 3, 0, 0, 0, 68, 0, 0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes());
    for (num, den) in [(51u32, 1u32), (30, 1), (2664, 100)] {
        tiff.extend_from_slice(&num.to_le_bytes());
        tiff.extend_from_slice(&den.to_le_bytes());
    }
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&u16::try_from(2 + 6 + tiff.len()).unwrap().to_be_bytes());
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A consultation row as Follicle wrote it before records were versioned (schema version 0):
/// the client file, and core's profile, assessment, plan and settings as untyped JSON, in the
/// columns of the first migration only (the later columns keep their defaults). With
/// `schema_version` other than 0, the row claims that version (a row from a newer Follicle).
pub async fn insert_old_consultation(
    store: &Store,
    actor: &crate::Actor,
    client_id: Uuid,
    profile_toml: &str,
    plan: &serde_json::Value,
    schema_version: i64,
) -> Uuid {
    use sqlx::types::Json;
    let id = Uuid::new_v4();
    let empty = serde_json::json!({});
    crate::store::on_db!(store, pool => {
        sqlx::query(
            "INSERT INTO consultations (id, clinic_id, client_id, version, profile_toml, profile, assessment, plan, settings, created_at, created_by) \
             VALUES ($1, $2, $3, (SELECT COALESCE(MAX(version), 0) + 1 FROM consultations WHERE client_id = $3), $4, NULL, $5, $6, $5, $7, $8)",
        )
        .bind(id).bind(actor.clinic_id).bind(client_id).bind(profile_toml).bind(Json(&empty)).bind(Json(plan))
        .bind(time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap()).bind(actor.user_id)
        .execute(pool).await.expect("insert an old consultation row");
        if schema_version != 0 {
            sqlx::query("UPDATE consultations SET schema_version = $1 WHERE id = $2")
                .bind(schema_version).bind(id).execute(pool).await.expect("set the schema version");
        }
    });
    id
}

/// The code an authenticator app shows for a base32 secret at a time (tests of two-factor
/// sign-in play the app with it).
pub fn totp_code(secret: &str, at: time::OffsetDateTime) -> String {
    crate::totp::code_at(secret, crate::totp::step_of(at.unix_timestamp())).unwrap_or_default()
}
