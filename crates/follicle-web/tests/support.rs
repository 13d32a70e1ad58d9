//! Test stores (a SQLite file in a fresh folder, or a fresh PostgreSQL schema; both removed
//! when the test ends, even when it fails), the router called without a socket, and the demo
//! clinic signed in as each of its users.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use follicle_store::{Blobs, NewUser, Role, Store, StoreOptions};
use follicle_web::{AppState, ServerConfig};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tower::ServiceExt;
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

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
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

    /// A PostgreSQL store in a fresh schema (`follicle_webtest_<random>`), so parallel tests
    /// and repeated runs never meet.
    pub async fn postgres() -> TestStore {
        let url = postgres_url();
        let schema = format!("follicle_webtest_{}", Uuid::new_v4().simple());
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
                // with its own runtime drops the schema, also after a failed test. Connections
                // still open are ended first, so that no lock they hold keeps the schema.
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
            "PostgreSQL is needed for the web tests and is not reachable at {url}: {e}. \
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
        max_connections: 4,
        ..StoreOptions::default()
    }
}

/// A fresh temporary folder.
pub fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("follicle-web-test-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

// ----- calling the router -----

/// How a request proves who sends it.
#[derive(Debug, Clone)]
pub enum Auth {
    /// Nobody.
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// The session cookie, and the `X-CSRF-Token` header when given.
    Cookie { token: String, csrf: Option<String> },
}

/// A request's body.
#[derive(Debug, Clone)]
pub enum Payload {
    None,
    Json(Value),
    /// Bytes with a content type (or none).
    Raw(Option<String>, Vec<u8>),
}

/// An answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{}: body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body[..self.body.len().min(2000)])
            )
        })
    }

    /// The `Content-Type`.
    pub fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts the status, and returns the JSON body.
    #[track_caller]
    pub fn expect(&self, status: StatusCode) -> Value {
        assert_eq!(
            self.status,
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body[..self.body.len().min(2000)])
        );
        self.json()
    }

    /// Asserts an error answer: the status, `{"error": {"code", "message"}}` with this code
    /// and a message, and a JSON content type. Returns the error object.
    #[track_caller]
    pub fn expect_error(&self, status: StatusCode, code: &str) -> Value {
        let body = self.expect(status);
        assert!(
            self.content_type().starts_with("application/json"),
            "{}",
            self.content_type()
        );
        let error = &body["error"];
        assert_eq!(error["code"], code, "{body}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
        error.clone()
    }
}

/// The application over a test store.
#[derive(Clone)]
pub struct App {
    pub router: Router,
    pub store: Store,
    pub backend: Backend,
}

impl App {
    pub fn new(store: &Store, backend: Backend) -> App {
        App::with_config(store, backend, ServerConfig::default())
    }

    pub fn with_config(store: &Store, backend: Backend, config: ServerConfig) -> App {
        App {
            router: follicle_web::router(AppState::new(store.clone(), config)),
            store: store.clone(),
            backend,
        }
    }

    /// Sends a request; `extra` headers are added last.
    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        auth: &Auth,
        payload: Payload,
        extra: &[(&str, &str)],
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(uri);
        match auth {
            Auth::None => {}
            Auth::Bearer(token) => {
                request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
            }
            Auth::Cookie { token, csrf } => {
                request = request.header(
                    header::COOKIE,
                    format!("theme=dark; follicle_session={token}; other=1"),
                );
                if let Some(csrf) = csrf {
                    request = request.header("x-csrf-token", csrf.as_str());
                }
            }
        }
        let body = match payload {
            Payload::None => Body::empty(),
            Payload::Json(value) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(serde_json::to_vec(&value).unwrap())
            }
            Payload::Raw(content_type, bytes) => {
                if let Some(ct) = content_type {
                    request = request.header(header::CONTENT_TYPE, ct);
                }
                Body::from(bytes)
            }
        };
        for (name, value) in extra {
            request = request.header(*name, HeaderValue::from_str(value).unwrap());
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, uri: &str, auth: &Auth) -> Answer {
        self.send(Method::GET, uri, auth, Payload::None, &[]).await
    }

    pub async fn post(&self, uri: &str, auth: &Auth, body: Value) -> Answer {
        self.send(Method::POST, uri, auth, Payload::Json(body), &[]).await
    }

    pub async fn put(&self, uri: &str, auth: &Auth, body: Value) -> Answer {
        self.send(Method::PUT, uri, auth, Payload::Json(body), &[]).await
    }

    pub async fn delete(&self, uri: &str, auth: &Auth) -> Answer {
        self.send(Method::DELETE, uri, auth, Payload::None, &[]).await
    }

    /// Signs in through the API, checking the answer's shape; returns the whole answer.
    pub async fn login(&self, email: &str, password: &str) -> Answer {
        self.post(
            "/api/v1/auth/login",
            &Auth::None,
            json!({"email": email, "password": password}),
        )
        .await
    }

    /// A bearer credential for a user, opened by the store directly (no password hashing).
    pub async fn session_for(&self, user_id: Uuid) -> Auth {
        let actor = self.store.actor(user_id).await.unwrap();
        let session = self
            .store
            .open_session(actor, OffsetDateTime::now_utc())
            .await
            .unwrap();
        Auth::Bearer(session.token.as_str().to_owned())
    }

    /// Creates another clinic with an owner (one password hash) and returns the owner's
    /// bearer credential and user id.
    pub async fn other_clinic(&self, name: &str) -> (Auth, Uuid) {
        let tag = Uuid::new_v4().simple().to_string();
        let (_, owner) = self
            .store
            .create_clinic_with_owner(
                name,
                NewUser {
                    email: format!("owner.{tag}@other.example"),
                    name: format!("Owner of {name}"),
                    role: Role::Owner,
                    password: "another clinic's password".into(),
                },
            )
            .await
            .unwrap();
        (self.session_for(owner.user_id()).await, owner.user_id())
    }
}

/// Today, as the server sees it.
pub fn today() -> time::Date {
    OffsetDateTime::now_utc().date()
}

/// An id from a JSON record.
#[track_caller]
pub fn id_of(value: &Value) -> Uuid {
    value["id"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .unwrap_or_else(|| panic!("no id in {value}"))
}

// ----- the demo clinic -----

/// The demo clinic (`follicle_web::demo::seed`), signed in as each of its users.
pub struct Demo {
    pub app: App,
    /// The owner, signed in through the API (bearer).
    pub owner: Auth,
    pub practitioner: Auth,
    pub front_desk: Auth,
    pub owner_id: Uuid,
    pub practitioner_id: Uuid,
    pub front_desk_id: Uuid,
    /// The owner's sign-in answer.
    pub owner_login: Value,
}

impl Demo {
    /// Seeds the demo clinic into the store, signs the owner in through the API and opens
    /// sessions for the others.
    pub async fn seed(app: &App) -> Demo {
        let seeded = follicle_web::demo::seed(&app.store, today()).await.unwrap();
        assert_eq!(seeded, follicle_web::demo::Seeded::Created { clients: 8 });
        let answer = app
            .login(follicle_web::demo::DEMO_OWNER, follicle_web::demo::DEMO_PASSWORD)
            .await;
        let owner_login = answer.expect(StatusCode::OK);
        let owner = Auth::Bearer(owner_login["token"].as_str().unwrap().to_owned());
        let users = app.get("/api/v1/users", &owner).await.expect(StatusCode::OK);
        let user_id = |email: &str| {
            users
                .as_array()
                .unwrap()
                .iter()
                .find(|u| u["email"] == email)
                .map(id_of)
                .unwrap_or_else(|| panic!("no user {email} in {users}"))
        };
        let owner_id = user_id(follicle_web::demo::DEMO_OWNER);
        let practitioner_id = user_id(follicle_web::demo::DEMO_PRACTITIONER);
        let front_desk_id = user_id(follicle_web::demo::DEMO_FRONT_DESK);
        Demo {
            app: app.clone(),
            practitioner: app.session_for(practitioner_id).await,
            front_desk: app.session_for(front_desk_id).await,
            owner,
            owner_id,
            practitioner_id,
            front_desk_id,
            owner_login,
        }
    }

    /// Every client of the clinic (up to 200), newest first.
    pub async fn clients(&self) -> Vec<Value> {
        self.app
            .get("/api/v1/clients?limit=200", &self.owner)
            .await
            .expect(StatusCode::OK)
            .as_array()
            .unwrap()
            .clone()
    }

    /// The one client whose name contains `name`.
    pub async fn client_named(&self, name: &str) -> Value {
        let found = self
            .app
            .get(
                &format!("/api/v1/clients?q={}", name.replace(' ', "%20")),
                &self.owner,
            )
            .await
            .expect(StatusCode::OK);
        let found = found.as_array().unwrap();
        assert_eq!(found.len(), 1, "clients named {name}: {found:?}");
        found[0].clone()
    }

    /// The batches, as (fresh, expired).
    pub async fn batches(&self) -> (Value, Value) {
        let batches = self
            .app
            .get("/api/v1/pigments/batches", &self.practitioner)
            .await
            .expect(StatusCode::OK);
        let find = |lot: &str| {
            batches
                .as_array()
                .unwrap()
                .iter()
                .find(|b| b["lot"] == lot)
                .cloned()
                .unwrap_or_else(|| panic!("no batch {lot} in {batches}"))
        };
        (find("SB1-2026-031"), find("SB1-2025-007"))
    }
}

// ----- test files -----

/// A 32×24 JPEG with EXIF: orientation 6 and a GPS latitude (as the store's tests make it).
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

/// The EXIF an independent reader finds in the bytes, if any.
pub fn exif_of(bytes: &[u8]) -> Option<exif::Exif> {
    exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(bytes))
        .ok()
}

/// Whether an independent EXIF reader finds a GPS latitude in the bytes.
pub fn has_gps(bytes: &[u8]) -> bool {
    exif_of(bytes).is_some_and(|e| e.get_field(exif::Tag::GPSLatitude, exif::In::PRIMARY).is_some())
}

/// A PNG header whose IHDR claims `width`×`height` pixels, with a little data after it.
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(b"IHDR");
    png.extend_from_slice(&width.to_be_bytes());
    png.extend_from_slice(&height.to_be_bytes());
    png.extend_from_slice(&[8, 2, 0, 0, 0]);
    png.extend_from_slice(&[0, 0, 0, 0]);
    png.extend_from_slice(&[0, 0, 0, 10]);
    png.extend_from_slice(b"IDAT");
    png.extend_from_slice(&[0x78, 0x9c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    png
}

/// The example client files.
pub const NORWOOD_3: &str = include_str!("../../../examples/clients/norwood-3-hairline.toml");
pub const KELOID: &str = include_str!("../../../examples/clients/keloid-not-suitable.toml");
