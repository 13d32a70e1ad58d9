//! Limits on expensive work in this process (issue 11): pattern generations, previews and
//! renders run at most `limits.heavy_at_once` at a time with `limits.heavy_waiting` waiting,
//! sign-ins at most `limits.signins_at_once` with `limits.signins_waiting` waiting (argon2
//! has its own limiter in the store), and one user may have at most `limits.heavy_per_user`
//! heavy requests running or waiting. Beyond: 503 `busy` (the server) or 429 `rate_limited`
//! (this user), with `Retry-After`, answered at once without queueing.
//!
//! The limiters are per process, like the CPU and memory they protect, and set by the first
//! [`AppState`] made (from its configuration). A heavy permit moves into the blocking closure
//! that does the work, so work that goes on after its request was dropped (a timeout, a
//! closed connection) still counts; a preview also stops early when its request is gone
//! ([`Cancelled`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use follicle_store::limit::Limiter;
use uuid::Uuid;

use crate::config::LimitsConfig;
use crate::error::ApiError;
use crate::extract::{SESSION_COOKIE, bearer, cookie};
use crate::state::AppState;

struct Limits {
    heavy: Limiter,
    signins: Limiter,
    per_user: usize,
    users: Mutex<HashMap<Uuid, usize>>,
}

static LIMITS: OnceLock<Limits> = OnceLock::new();

/// Sets the process's limits (the first call wins: one process, one CPU and memory budget).
pub fn configure(config: &LimitsConfig) {
    let _ = LIMITS.set(Limits {
        heavy: Limiter::new(
            "previews and patterns",
            config.heavy_at_once,
            config.heavy_waiting,
            2,
        ),
        signins: Limiter::new("sign-ins", config.signins_at_once, config.signins_waiting, 1),
        per_user: config.heavy_per_user,
        users: Mutex::new(HashMap::new()),
    });
}

fn limits() -> &'static Limits {
    if LIMITS.get().is_none() {
        configure(&LimitsConfig::default());
    }
    LIMITS.get().expect("configured above")
}

/// The limiter of pattern generation, previews and renders.
pub fn heavy() -> &'static Limiter {
    &limits().heavy
}

/// The limiter of sign-in requests.
pub fn signins() -> &'static Limiter {
    &limits().signins
}

/// One of a user's heavy requests; gives the slot back when dropped.
#[derive(Debug)]
pub struct UserSlot(Uuid);

impl Drop for UserSlot {
    fn drop(&mut self) {
        let mut users = limits().users.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = users.get_mut(&self.0) {
            *n -= 1;
            if *n == 0 {
                users.remove(&self.0);
            }
        }
    }
}

/// A slot for one of `user`'s heavy requests, or `None` when they have `heavy_per_user`.
pub fn user_slot(user: Uuid) -> Option<UserSlot> {
    let l = limits();
    let mut users = l.users.lock().unwrap_or_else(|e| e.into_inner());
    let n = users.entry(user).or_insert(0);
    if *n >= l.per_user {
        return None;
    }
    *n += 1;
    Some(UserSlot(user))
}

/// The answer to a user who has `heavy_per_user` heavy requests running: 429.
pub fn user_busy() -> ApiError {
    ApiError::rate_limited(
        format!(
            "you have {} previews, patterns or plans running; wait for one to finish",
            limits().per_user
        ),
        1,
    )
}

/// Whether a request asks for heavy work: a preview, pattern or client sheet (any method), or a change
/// that plans, draws or stores a photo. `POST /plan` and `POST /assess` are not: they draw only
/// a design not measured before, and take the user's slot for that drawing alone
/// ([`AppState::plan`]), so a plan from a kept measurement (microseconds) is never refused.
pub fn is_heavy(method: &Method, path: &str) -> bool {
    let last = last_segment(path);
    matches!(last, "preview" | "pattern" | "client-sheet")
        || (*method != Method::GET
            && matches!(
                last,
                "edits" | "design-plan" | "replan" | "designer-sessions" | "consult" | "photos"
            ))
}

/// Whether a request can be refused for heavy work (429, 503): a heavy one, or `POST /plan` and
/// `POST /assess`, which draw a design not measured before.
fn may_draw(method: &Method, path: &str) -> bool {
    is_heavy(method, path) || (*method == Method::POST && matches!(last_segment(path), "plan" | "assess"))
}

/// The last segment of a path (`/api/v1/plan/` → `plan`).
fn last_segment(path: &str) -> &str {
    path.trim_end_matches('/').rsplit('/').next().unwrap_or("")
}

/// Middleware: a signed-in user's heavy requests beyond `heavy_per_user` at once are 429.
/// (Requests that are not signed in pass; their handler answers 401.)
pub async fn heavy_per_user(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !is_heavy(request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let token = bearer(&parts).or_else(|| cookie(&parts, SESSION_COOKIE));
    let request = Request::from_parts(parts, body);
    let Some(token) = token else {
        return next.run(request).await;
    };
    let Ok(actor) = state
        .store()
        .authenticate(&token, time::OffsetDateTime::now_utc())
        .await
    else {
        return next.run(request).await;
    };
    let Some(slot) = user_slot(actor.user_id()) else {
        return user_busy().into_response();
    };
    let response = next.run(request).await;
    drop(slot);
    response
}

/// Set when the request a piece of work is for has gone (its future was dropped): long work
/// checks it and stops.
#[derive(Debug, Clone, Default)]
pub struct Cancelled(Arc<AtomicBool>);

impl Cancelled {
    /// Whether the request is gone.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// The flag itself, for work that checks it as it goes
    /// ([`follicle_render::Scene::render_until`]).
    pub fn flag(&self) -> &AtomicBool {
        &self.0
    }

    /// A guard that sets the flag when dropped: keep it in the request's future.
    pub fn on_drop(&self) -> CancelOnDrop {
        CancelOnDrop(self.clone())
    }
}

/// Renders stopped part-way because their request was gone, since the process started.
static STOPPED: AtomicU64 = AtomicU64::new(0);

/// Counts a render stopped part-way because its request was gone.
pub(crate) fn count_stopped() {
    STOPPED.fetch_add(1, Ordering::Relaxed);
    tracing::debug!("a preview was stopped: its request is gone");
}

/// How many renders stopped part-way because their request was gone (a closed connection,
/// a timeout), since the process started.
pub fn renders_stopped() -> u64 {
    STOPPED.load(Ordering::Relaxed)
}

/// Sets its [`Cancelled`] when dropped.
#[derive(Debug)]
pub struct CancelOnDrop(Cancelled);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.0.store(true, Ordering::Relaxed);
    }
}

/// The signed-in reads that no role is refused and that need no second factor: one's own
/// account and clinic (a user who must set up two-factor sign-in reads them to do so).
const READS_OF_ONES_OWN: [&str; 4] = ["/me", "/me/sessions", "/clinic", "/clinic/account-rules"];

/// Documents in every operation the statuses the layers around the handlers can answer, which
/// the handlers' own annotations do not list: 401 (not signed in) where a credential is
/// needed; 403 where a role, a missing second factor or a missing CSRF header can refuse
/// (every signed-in operation but the reads of `READS_OF_ONES_OWN`); 400, 408, 413, 415 and
/// 422 where there is a body (not JSON, too slow, larger than the limit, another media type,
/// not the schema); the `Idempotency-Key` header with its 409 (reused) and 422 (malformed) on
/// signed-in POSTs; 429 and 503 with `Retry-After` for heavy work (this user's limit, the
/// server's) — see [`is_heavy`], and `POST /plan` and `/assess`, which may draw.
pub fn document_statuses(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::header::HeaderBuilder;
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    use utoipa::openapi::{HttpMethod, Required};

    let answer = |description: &str, retry: bool| {
        let mut b = ResponseBuilder::new().description(description).content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        );
        if retry {
            b = b.header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)))
                    .description(Some("Seconds to wait before trying again"))
                    .build(),
            );
        }
        b.build()
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, op) in [
            (HttpMethod::Get, item.get.as_mut()),
            (HttpMethod::Post, item.post.as_mut()),
            (HttpMethod::Put, item.put.as_mut()),
            (HttpMethod::Patch, item.patch.as_mut()),
            (HttpMethod::Delete, item.delete.as_mut()),
        ] {
            let Some(op) = op else { continue };
            let public = op.security.as_ref().is_some_and(|s| {
                s.iter().all(|r| {
                    serde_json::to_value(r).is_ok_and(|v| v.as_object().is_some_and(|o| o.is_empty()))
                })
            });
            let axum_method = match method {
                HttpMethod::Get => Method::GET,
                HttpMethod::Post => Method::POST,
                HttpMethod::Put => Method::PUT,
                HttpMethod::Patch => Method::PATCH,
                _ => Method::DELETE,
            };
            let mut statuses: Vec<(&str, &str, bool)> = Vec::new();
            if !public {
                statuses.push(("401", "Not signed in, or the session has ended", false));
                if axum_method != Method::GET || !READS_OF_ONES_OWN.contains(&path.as_str()) {
                    statuses.push((
                        "403",
                        "Refused: this user's role may not do it, the clinic requires two-factor sign-in and this user has not set it up, or a change signed in by cookie lacks the `X-CSRF-Token` header",
                        false,
                    ));
                }
            }
            if op.request_body.is_some() {
                statuses.extend([
                    ("400", "The body cannot be read (not JSON, or broken)", false),
                    (
                        "408",
                        "The body did not arrive within `server.body_read_timeout_seconds`",
                        false,
                    ),
                    (
                        "413",
                        "The body is larger than the limit (`server.max_json_bytes`, or the photo limit)",
                        false,
                    ),
                    (
                        "415",
                        "The body's Content-Type is not one this operation takes",
                        false,
                    ),
                    (
                        "422",
                        "The body does not fit the schema; `field` names what",
                        false,
                    ),
                ]);
            }
            if method == HttpMethod::Post && !public {
                statuses.push((
                    "409",
                    "The Idempotency-Key was used for another request, or its first request is still running",
                    false,
                ));
                statuses.push((
                    "422",
                    "The Idempotency-Key is not 1–255 visible ASCII characters",
                    false,
                ));
                let params = op.parameters.get_or_insert_with(Vec::new);
                if !params.iter().any(|p| p.name == "Idempotency-Key") {
                    params.push(
                        ParameterBuilder::new()
                            .name("Idempotency-Key")
                            .parameter_in(ParameterIn::Header)
                            .required(Required::False)
                            .description(Some(
                                "Send the same key with a retry to get the first answer back (marked `Idempotent-Replayed: true`) instead of a second record; per user, kept a day",
                            ))
                            .schema(Some(
                                ObjectBuilder::new()
                                    .schema_type(Type::String)
                                    .min_length(Some(1))
                                    .max_length(Some(255))
                                    .pattern(Some("^[!-~]+$")),
                            ))
                            .build(),
                    );
                }
            }
            if may_draw(&axum_method, path) {
                statuses.push((
                    "429",
                    "This user has `limits.heavy_per_user` heavy requests running; see Retry-After",
                    true,
                ));
                statuses.push((
                    "503",
                    "The server's heavy work and its queue are full; see Retry-After",
                    true,
                ));
            }
            for (status, description, retry) in statuses {
                op.responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| answer(description, retry).into());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heavy_requests_are_recognised() {
        for (method, path, heavy) in [
            (Method::GET, "/api/v1/designs/1/preview", true),
            (Method::POST, "/api/v1/preview", true),
            (Method::POST, "/api/v1/pattern", true),
            (Method::POST, "/api/v1/designer-sessions/3/edits", true),
            (Method::GET, "/api/v1/clients/1/photos", false),
            (Method::POST, "/api/v1/clients/1/photos", true),
            (Method::GET, "/api/v1/health", false),
            (Method::POST, "/api/v1/auth/login", false),
            // A slot only while they draw (`AppState::measured`), but refusable all the same.
            (Method::POST, "/api/v1/plan", false),
            (Method::POST, "/api/v1/assess", false),
        ] {
            assert_eq!(is_heavy(&method, path), heavy, "{method} {path}");
        }
        assert!(may_draw(&Method::POST, "/api/v1/plan"));
        assert!(may_draw(&Method::POST, "/api/v1/assess"));
        assert!(may_draw(&Method::POST, "/api/v1/pattern"));
        assert!(!may_draw(&Method::GET, "/api/v1/health"));
    }

    #[test]
    fn a_user_gets_so_many_slots() {
        let user = Uuid::new_v4();
        let per_user = limits().per_user;
        let slots: Vec<UserSlot> = (0..per_user).map(|_| user_slot(user).unwrap()).collect();
        assert!(user_slot(user).is_none());
        assert!(user_slot(Uuid::new_v4()).is_some());
        drop(slots);
        assert!(user_slot(user).is_some());
    }

    #[test]
    fn a_dropped_request_cancels_its_work() {
        let flag = Cancelled::default();
        let guard = flag.on_drop();
        assert!(!flag.is_set());
        drop(guard);
        assert!(flag.is_set());
    }
}
