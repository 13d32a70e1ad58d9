//! `Idempotency-Key` on creating requests (issue 11): a signed-in `POST` under `/api/v1` with
//! the header is answered once; a retry with the same key and the same request (method, path,
//! query and body) gets the first answer again, marked `Idempotent-Replayed: true`, instead of
//! making a second record. A key is 1–255 visible ASCII characters, per user, kept a day
//! (`follicle_store::IDEMPOTENCY_WINDOW`); reused for another request it is a 409, and so is
//! a retry while the first request still runs. Only successful answers are kept: after an
//! error (or a request that was dropped) the key can be used again.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use follicle_store::{Actor, Idempotent};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::extract::{SESSION_COOKIE, bearer, cookie};
use crate::state::AppState;

/// The request header.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The header on a replayed answer.
pub const REPLAYED: &str = "idempotent-replayed";

/// Answers kept at most this large; a larger one (a computed pattern) is sent but not kept,
/// and the key is freed.
const MAX_KEPT_BYTES: usize = 1 << 20;
/// Every answer fits in this (they are in memory already).
const MAX_ANSWER_BYTES: usize = 1 << 30;

/// Frees the key when the request's future is dropped before it answered.
struct Unfinished {
    state: AppState,
    actor: Actor,
    key: String,
    armed: bool,
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        if self.armed {
            let (state, actor, key) = (self.state.clone(), self.actor, std::mem::take(&mut self.key));
            tokio::spawn(async move {
                let _ = state.store().idempotency_abandon(&actor, &key).await;
            });
        }
    }
}

/// Middleware: see the [module](self) documentation.
pub async fn idempotency(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(key) = request.headers().get(IDEMPOTENCY_KEY) else {
        return next.run(request).await;
    };
    let key = match key.to_str() {
        Ok(k) if (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()) => k.to_owned(),
        _ => {
            return ApiError::invalid("Idempotency-Key", "expected 1 to 255 visible ASCII characters")
                .into_response();
        }
    };
    let (parts, body) = request.into_parts();
    let token = bearer(&parts).or_else(|| cookie(&parts, SESSION_COOKIE));
    let actor = match token {
        Some(t) => state
            .store()
            .authenticate(&t, time::OffsetDateTime::now_utc())
            .await
            .ok(),
        None => None,
    };
    let Some(actor) = actor else {
        // Not signed in: the handler answers 401 and nothing is kept.
        return next.run(Request::from_parts(parts, body)).await;
    };
    let limit = follicle_store::PhotoLimits::default().max_bytes + 64 * 1024;
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            let mut e = ApiError::invalid("body", format!("larger than {limit} bytes, or cut short"));
            e.status = StatusCode::PAYLOAD_TOO_LARGE;
            e.detail.code = "payload_too_large";
            return e.into_response();
        }
    };
    let mut hash = Sha256::new();
    hash.update(parts.method.as_str().as_bytes());
    hash.update(b" ");
    hash.update(parts.uri.path_and_query().map_or("", |p| p.as_str()).as_bytes());
    hash.update(b"\n");
    hash.update(&bytes);
    let digest: [u8; 32] = hash.finalize().into();
    match state.store().idempotency_begin(&actor, &key, &digest).await {
        Err(e) => return ApiError::from(e).into_response(),
        Ok(Idempotent::Replay {
            status,
            content_type,
            body,
        }) => {
            let mut response = (
                StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
                Bytes::from(body),
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&content_type) {
                response.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            response
                .headers_mut()
                .insert(REPLAYED, HeaderValue::from_static("true"));
            return response;
        }
        Ok(Idempotent::Run) => {}
    }
    let mut unfinished = Unfinished {
        state: state.clone(),
        actor,
        key: key.clone(),
        armed: true,
    };
    let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    if !response.status().is_success() {
        // Freed before the answer goes, so a retry that follows at once may use the key (the
        // drop guard's background task would race it).
        unfinished.armed = false;
        if let Err(e) = state.store().idempotency_abandon(&actor, &key).await {
            tracing::warn!("freeing an idempotency key: {e}");
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ANSWER_BYTES).await else {
        return ApiError::internal("an answer under an idempotency key could not be read").into_response();
    };
    if bytes.len() > MAX_KEPT_BYTES {
        return Response::from_parts(parts, Body::from(bytes));
    }
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    match state
        .store()
        .idempotency_finish(&actor, &key, parts.status.as_u16(), &content_type, &bytes)
        .await
    {
        Ok(()) => unfinished.armed = false,
        Err(e) => tracing::warn!(error = %e, "could not keep an answer under its idempotency key"),
    }
    Response::from_parts(parts, Body::from(bytes))
}
