//! Test stores (a SQLite file in a fresh folder, or a fresh PostgreSQL schema; both removed
//! when the test ends, even when it fails), the router called without a socket, and the demo
//! clinic signed in as each of its users.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use follicle_store::{NewUser, Role, Store};
use follicle_web::{AppState, ServerConfig};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tower::ServiceExt;
use uuid::Uuid;

pub use follicle_store::testing::TestStore;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
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
    /// The demo clients with a design (who signed its treatment consent when the demo was
    /// seeded, so sessions can be logged for them), with an email address.
    pub async fn consented_clients(&self) -> Vec<Value> {
        let owner = self.app.store.actor(self.owner_id).await.unwrap();
        let mut out = Vec::new();
        for c in self.clients().await {
            let id: Uuid = c["id"].as_str().unwrap().parse().unwrap();
            let designed = !self.app.store.designs(&owner, id).await.unwrap().is_empty();
            if designed && !c["email"].as_str().unwrap_or("").is_empty() {
                out.push(c);
            }
        }
        out
    }

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

pub use follicle_store::testing::jpeg_with_gps;

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
