//! The web layer's one error type, [`ApiError`]: every handler returns it, and it becomes a
//! JSON body `{"error": {"code", "field", "message", …}}` with the matching status.
//!
//! Which to use where: a handler turns a store error with `?` ([`From<StoreError>`]); an
//! input error of the core (a client file) with `?` as well ([`From<InputError>`], 422 with
//! the field and line); anything the user can fix and the store or core do not check is
//! [`ApiError::invalid`] naming the field. Server faults (database, blob store, a worker
//! that died) are logged with their cause and shown as a generic 500 message: the user
//! never sees an internal one.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use follicle_core::InputError;
use follicle_store::{PhotoError, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong, for a person and for a program.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// The kind, for programs: `bad_request`, `invalid`, `unauthenticated`, `csrf`,
    /// `forbidden`, `not_found`, `method_not_allowed`, `conflict`, `payload_too_large`, `unsupported_media_type`,
    /// `rate_limited`, `superseded` (a newer designer edit replaced this one), `internal`.
    pub code: &'static str,
    /// The field at fault, as a path into the input (`zones[1]`, `skin.fitzpatrick`), if one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What was wrong: the value given and what is allowed.
    pub message: String,
    /// Line in the submitted text (a client file, a settings file, a JSON body), from 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// Column in that line, from 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// With `rate_limited`: seconds to wait.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<i64>,
}

/// An error answer: a status and what to tell the caller.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body.
    pub detail: ErrorDetail,
}

/// A `Result` whose error is an [`ApiError`].
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            detail: ErrorDetail {
                code,
                field: None,
                message: message.into(),
                line: None,
                column: None,
                retry_after_seconds: None,
            },
        }
    }

    /// 422: `field` cannot be `value`; the message says what is allowed.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        let mut e = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message);
        e.detail.field = Some(field.into());
        e
    }

    /// 400: the request cannot be read at all (not JSON, a broken query string).
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 404: no such record in the caller's clinic.
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }

    /// 401: not signed in.
    pub fn unauthenticated(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    /// 403: the cross-site request forgery check failed.
    pub fn csrf(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "csrf", message)
    }

    /// 405: the route exists, but not for this method.
    pub fn method_not_allowed() -> ApiError {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this address does not take this method; the API's methods are in /api/v1/openapi.json",
        )
    }

    /// 413: the body is larger than allowed.
    pub fn too_large(limit_bytes: usize) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than the {limit_bytes} bytes allowed"),
        )
    }

    /// 415: the body is not of a type this endpoint takes.
    pub fn unsupported_media_type(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            message,
        )
    }

    /// 500: a server fault. The cause is logged here; the caller sees a generic message.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server failed to answer; nothing was changed by this request, and the fault is in the server's log",
        )
    }

    /// The same error, naming the field it is about (a 404 for a record given by id in a
    /// query parameter, say).
    pub fn on_field(mut self, field: impl Into<String>) -> ApiError {
        self.detail.field = Some(field.into());
        self
    }

    fn at(mut self, line: usize, column: usize) -> ApiError {
        self.detail.line = Some(line);
        self.detail.column = Some(column);
        self
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            StoreError::NotFound { what } => ApiError::not_found(what),
            StoreError::Conflict { message } => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            StoreError::Invalid { field, message } => ApiError::invalid(field, message),
            e @ StoreError::Forbidden { .. } => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", e.to_string())
            }
            e @ StoreError::Unauthenticated => ApiError::unauthenticated(e.to_string()),
            StoreError::RateLimited { retry_after_seconds } => {
                let mut e = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!("too many sign-in attempts; the next one is checked in {retry_after_seconds} s"),
                );
                e.detail.retry_after_seconds = Some(retry_after_seconds);
                e
            }
            e @ StoreError::EnrolmentRequired => {
                ApiError::new(StatusCode::FORBIDDEN, "enrolment_required", e.to_string())
            }
            // The sign-in routes answer this one themselves; anywhere else it is a 401.
            StoreError::SecondFactorRequired { .. } => {
                ApiError::unauthenticated("a second factor is required: POST /auth/second-factor")
            }
            StoreError::Busy { retry_after_seconds } => {
                ApiError::busy("the server is busy; try again shortly", retry_after_seconds)
            }
            StoreError::Photo(e @ PhotoError::TooLarge { .. }) => {
                let mut e = ApiError::invalid("photo", e.to_string());
                e.status = StatusCode::PAYLOAD_TOO_LARGE;
                e.detail.code = "payload_too_large";
                e
            }
            StoreError::Photo(e) => ApiError::invalid("photo", e.to_string()),
            other => ApiError::internal(other),
        }
    }
}

impl ApiError {
    /// 503 `busy` with `Retry-After`: too much of this work is running and waiting.
    pub fn busy(message: impl Into<String>, retry_after_seconds: i64) -> ApiError {
        let mut e = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", message);
        e.detail.retry_after_seconds = Some(retry_after_seconds);
        e
    }

    /// 429 `rate_limited` with `Retry-After`: this caller has too much going on.
    pub fn rate_limited(message: impl Into<String>, retry_after_seconds: i64) -> ApiError {
        let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message);
        e.detail.retry_after_seconds = Some(retry_after_seconds);
        e
    }
}

impl From<follicle_store::limit::Busy> for ApiError {
    fn from(busy: follicle_store::limit::Busy) -> ApiError {
        ApiError::busy(busy.to_string(), busy.retry_after_seconds)
    }
}

impl From<InputError> for ApiError {
    fn from(error: InputError) -> ApiError {
        let field = if error.field.is_empty() {
            "client_toml".to_owned()
        } else {
            error.field.clone()
        };
        let e = ApiError::invalid(field, error.message.clone());
        match error.location {
            Some(l) => e.at(l.line, l.column),
            None => e,
        }
    }
}

impl From<serde_json::Error> for ApiError {
    /// A JSON body that is not JSON (400) or does not fit the type (422); both with the line
    /// and column.
    fn from(error: serde_json::Error) -> ApiError {
        let (line, column) = (error.line(), error.column());
        match error.classify() {
            serde_json::error::Category::Data => ApiError::invalid("body", error.to_string()),
            _ => ApiError::bad_request(format!("the body is not valid JSON: {error}")),
        }
        .at(line, column)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry = self.detail.retry_after_seconds;
        let mut response = (self.status, axum::Json(ErrorBody { error: self.detail })).into_response();
        if let Some(seconds) = retry
            && let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}
