//! Test stores: a SQLite file in a fresh folder, or a fresh PostgreSQL schema; both removed
//! when the test ends, even when it fails.

use follicle_store::{Actor, Blobs, NewUser, Role, Store, StoreOptions};
use uuid::Uuid;

/// The PostgreSQL server the tests use.
pub fn postgres_url() -> String {
    std::env::var("FOLLICLE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A store for one test, and what to clean up after it.
pub struct TestStore {
    pub store: Store,
    cleanup: Cleanup,
}

enum Cleanup {
    Folder(std::path::PathBuf),
    Schema { url: String, schema: String },
}

impl TestStore {
    /// A SQLite store in a fresh temporary folder.
    pub async fn sqlite() -> TestStore {
        let dir = temp_dir();
        let url = format!("sqlite://{}", dir.join("data/follicle.db").display());
        let store = Store::open_with(&url, Blobs::in_memory(), options())
            .await
            .expect("open SQLite store");
        TestStore {
            store,
            cleanup: Cleanup::Folder(dir),
        }
    }

    /// A PostgreSQL store in a fresh schema (`follicle_test_<random>`), so parallel tests
    /// and repeated runs never meet.
    pub async fn postgres() -> TestStore {
        let url = postgres_url();
        let schema = format!("follicle_test_{}", Uuid::new_v4().simple());
        admin(&url, &format!("CREATE SCHEMA {schema}")).await;
        let separator = if url.contains('?') { '&' } else { '?' };
        // The application name marks this test's connections, so the clean-up can end them.
        let store_url = format!("{url}{separator}options[search_path]={schema}&application_name={schema}");
        let cleanup = Cleanup::Schema { url, schema };
        let store = Store::open_with(&store_url, Blobs::in_memory(), options())
            .await
            .expect("open PostgreSQL store");
        TestStore { store, cleanup }
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
            "PostgreSQL is needed for the store's contract tests and is not reachable at {url}: {e}. \
             Start PostgreSQL or set FOLLICLE_TEST_POSTGRES_URL."
        )
    });
    connection
        .execute(sqlx::AssertSqlSafe(sql.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = connection.close().await;
}

fn options() -> StoreOptions {
    StoreOptions {
        max_connections: 3,
        ..StoreOptions::default()
    }
}

/// A fresh temporary folder.
pub fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("follicle-store-test-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The password every test user has.
pub const PASSWORD: &str = "correct horse battery staple";

/// A clinic with one user of each role.
pub struct Clinic {
    pub owner: Actor,
    pub practitioner: Actor,
    pub front_desk: Actor,
    pub owner_email: String,
}

/// Creates a clinic named `name` with an owner, a practitioner and a front-desk user, whose
/// emails are unique to this call.
pub async fn clinic(store: &Store, name: &str) -> Clinic {
    let tag = Uuid::new_v4().simple().to_string();
    let user = |role: Role, who: &str| NewUser {
        email: format!("{who}.{tag}@clinic.example"),
        name: format!("{who} of {name}"),
        role,
        password: PASSWORD.to_owned(),
    };
    let owner_user = user(Role::Owner, "owner");
    let owner_email = owner_user.email.clone();
    let (_, owner) = store.create_clinic_with_owner(name, owner_user).await.unwrap();
    let practitioner = store
        .add_user(&owner, user(Role::Practitioner, "practitioner"))
        .await
        .unwrap();
    let front_desk = store
        .add_user(&owner, user(Role::FrontDesk, "desk"))
        .await
        .unwrap();
    Clinic {
        owner,
        practitioner: store.actor(practitioner.id).await.unwrap(),
        front_desk: store.actor(front_desk.id).await.unwrap(),
        owner_email,
    }
}
