//! Follicle's clinic server: the JSON API (with its OpenAPI document), sign-in with sessions,
//! CSRF protection and roles, and the demo clinic — over [`follicle_store`] for the records
//! and the core, pattern and render crates for the calculations.
//!
//! ```no_run
//! # async fn run() -> Result<(), follicle_web::ServeError> {
//! let config = follicle_web::ServerConfig::load(None, std::env::vars())?;
//! follicle_web::init_logging(&config.log);
//! follicle_web::serve(config, /* demo */ true).await
//! # }
//! ```
//!
//! Tests build the same router over a store of their own and call it without a socket:
//!
//! ```no_run
//! # async fn run(store: follicle_store::Store) {
//! use tower::ServiceExt;
//! let app = follicle_web::router(follicle_web::AppState::new(store, Default::default()));
//! let request = axum::http::Request::get("/api/v1/health").body(axum::body::Body::empty()).unwrap();
//! let response = app.oneshot(request).await.unwrap();
//! # }
//! ```
//!
//! # Layout
//!
//! - [`api`]: the routes, one module per kind of record, each handler with its OpenAPI
//!   description beside it (utoipa), collected into one document at `/api/v1/openapi.json`.
//! - [`extract`]: extractors that turn every kind of bad input into a JSON 4xx naming the
//!   field, and the signed-in user with the CSRF check.
//! - [`error`]: the one error type, [`ApiError`], and how store and core errors map to it.
//! - [`compute`]: the planner, pattern engine and renderer as the API calls them.
//! - [`binary`]: the compact binary pattern format and its deltas.
//! - [`designer`]: the designer's edit sessions (drag updates as deltas, the newest edit
//!   superseding older ones, the plan's figures in the same answer).
//! - [`studio`]: the pages people use at the clinic.
//! - [`config`], [`serve`](mod@serve), [`demo`]: running it; [`health`]: the health
//!   check's view of the database; [`limits`]: the limits on expensive work.
//! - [`jobs`], [`mail`], [`sms`]: the job queue's messages to clients, by email and text
//!   message, and the provider's webhook of replies (STOP, START).
#![deny(missing_docs)]

pub mod api;
pub mod binary;
pub mod compute;
pub mod config;
pub mod demo;
pub mod designer;
pub mod documents;
pub mod error;
pub mod estimate;
pub mod extract;
pub mod health;
pub mod idempotency;
pub mod jobs;
pub mod landmarks;
pub mod limits;
pub mod mail;
pub mod photo_view;
pub mod portal;
pub mod relay;
pub mod serve;
pub mod sms;
pub mod state;
pub mod studio;
pub mod usecase;
pub mod wire;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};

pub use config::ServerConfig;
pub use error::{ApiError, ApiResult};
pub use serve::{ServeError, init_logging, serve};
pub use state::AppState;

/// The whole application: the API under `/api/v1`, its OpenAPI document, request logs,
/// timeouts, body limits, security headers, and JSON answers for unknown routes and panics.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = api::routes();
    let openapi_json = serde_json::to_vec_pretty(&openapi).unwrap_or_default();
    let timeout = Duration::from_secs(state.config().server.request_timeout_seconds.max(1));
    let body_timeout = Duration::from_secs(state.config().server.body_read_timeout_seconds.max(1));
    // The largest body any route takes is a photo; JSON routes enforce their own smaller limit.
    let body_limit = follicle_store::PhotoLimits::default().max_bytes + 64 * 1024;
    let api = api.layer(axum::middleware::from_fn_with_state(
        state.clone(),
        idempotency::idempotency,
    ));
    Router::new()
        .nest(api::PREFIX, api)
        .merge(studio::routes())
        .merge(portal::routes())
        .merge(estimate::routes())
        .merge(sms::routes())
        .route(
            "/api/v1/openapi.json",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], openapi_json) }),
        )
        .fallback(|| async { ApiError::not_found("page") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::heavy_per_user,
        ))
        .with_state(state.clone())
        .layer(axum::middleware::map_response_with_state(
            state.clone(),
            security_headers,
        ))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(body_timeout))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal("a request handler panicked").into_response()
        }))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
}

/// The Content-Security-Policy of every answer: scripts, styles, images and requests from this
/// server only (the studio has no inline scripts, handlers or style attributes), no plugins,
/// no framing, forms posted here only. `blob:` images are the designer's previews.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' blob: data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
    frame-ancestors 'none'; form-action 'self'";

/// Headers on every answer: no sniffing, no framing, the CSP, HSTS when configured (behind
/// TLS), and `Cache-Control: no-store` on anything that did not say how it may be cached —
/// pages and answers carry health data, which must not stay in a shared or browser cache.
async fn security_headers(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut response: Response,
) -> Response {
    let hsts = state.config().server.hsts_seconds;
    let h = response.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    // A page that set its own policy (the public estimator, which the clinic's website may
    // frame) keeps it; every other answer may be framed by nobody.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if hsts > 0
        && let Ok(v) = HeaderValue::from_str(&format!("max-age={hsts}; includeSubDomains"))
    {
        h.insert(header::STRICT_TRANSPORT_SECURITY, v);
    }
    response
}
