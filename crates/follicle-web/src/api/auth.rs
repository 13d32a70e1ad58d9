//! Signing in and out, and who is signed in.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{CSRF_COOKIE, DEVICE_COOKIE, JsonBody, PeerAddr, SESSION_COOKIE, SignedIn, csrf_token};
use crate::state::AppState;
use crate::wire::{ClinicAnswer, UserAnswer};

/// An email and password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The user's email.
    #[schema(max_length = 320)]
    pub email: String,
    /// Their password.
    #[schema(max_length = 1024)]
    pub password: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// A new session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignedInResponse {
    /// The session token, for `Authorization: Bearer` (a browser uses the cookie instead).
    pub token: String,
    /// Send this in the `X-CSRF-Token` header with cookie-authenticated changes.
    pub csrf_token: String,
    /// When the session ends.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Who signed in.
    pub user: UserAnswer,
}

/// Who is signed in, and their clinic.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// The user.
    pub user: UserAnswer,
    /// Their clinic.
    pub clinic: ClinicAnswer,
    /// This session's CSRF token.
    pub csrf_token: String,
}

/// The `Set-Cookie` headers of a session: the token (`HttpOnly`, `SameSite=Lax`, `Secure`
/// unless turned off) and the CSRF token (readable by the page's scripts). An empty token with
/// age 0 clears both.
pub fn session_cookies(state: &AppState, token: &str, max_age_seconds: i64) -> HeaderMap {
    let secure = if state.config().server.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let max_age = max_age_seconds.max(0);
    let csrf = if token.is_empty() {
        String::new()
    } else {
        csrf_token(token)
    };
    let mut headers = HeaderMap::new();
    for cookie in [
        format!("{SESSION_COOKIE}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"),
        format!("{CSRF_COOKIE}={csrf}; Path=/; Max-Age={max_age}; SameSite=Lax{secure}"),
    ] {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            headers.append(header::SET_COOKIE, v);
        }
    }
    headers
}

/// The device cookie a request carries, if any.
pub fn device_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == DEVICE_COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// The cookies of a completed sign-in (password, or password and code; API or studio): the
/// session's, and this browser's device cookie (`device` is the one it showed).
pub async fn signed_in_cookies(
    state: &AppState,
    session: &follicle_store::LoginSession,
    now: OffsetDateTime,
    device: Option<&str>,
) -> HeaderMap {
    let mut cookies = session_cookies(
        state,
        session.token.as_str(),
        (session.expires_at - now).whole_seconds(),
    );
    remember_device(state, &session.actor, device, &mut cookies).await;
    cookies
}

/// Adds the device cookie of this browser for `actor` (a year; `HttpOnly`): the one it
/// showed if it is theirs, else a new one. A failure only loses the convenience.
async fn remember_device(
    state: &AppState,
    actor: &follicle_store::Actor,
    current: Option<&str>,
    headers: &mut HeaderMap,
) {
    let secure = if state.config().server.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    match state.store().remember_device(actor, current).await {
        Ok(token) => {
            let cookie =
                format!("{DEVICE_COOKIE}={token}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax{secure}");
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                headers.append(header::SET_COOKIE, v);
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not remember the device"),
    }
}

/// The password was right; the account signs in with a second factor too.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecondFactorChallenge {
    /// Always true.
    pub second_factor_required: bool,
    /// Send it with the code to `POST /auth/second-factor` within 5 minutes.
    pub challenge: String,
}

/// Signs in. Sets the session cookie and answers the token (for programs) and CSRF token.
///
/// Attempts are counted before the password is checked, per account, per address and for
/// everyone: over a limit the answer is 429 (this account or address: its next attempt is
/// checked after `Retry-After` seconds, a delay that grows with each attempt) or 503 (the
/// server is busy with sign-ins). A browser that signed in before sends its device cookie
/// (`follicle_device`, set here) and is not slowed down by others guessing its account.
/// An account with two-factor sign-in answers 202 with a challenge instead: send it with the
/// app's code to `POST /auth/second-factor`.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest, security(()),
    responses(
        (status = 200, description = "Signed in", body = SignedInResponse),
        (status = 202, description = "Password right; the second factor is asked", body = SecondFactorChallenge),
        (status = 401, description = "Wrong email or password", body = ErrorBody),
        (status = 413, description = "The body is larger than `server.max_json_bytes`", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`", body = ErrorBody),
        (status = 422, description = "The body does not fit the schema", body = ErrorBody),
        (status = 429, description = "Too many attempts on this account or from this address; see Retry-After", body = ErrorBody),
        (status = 503, description = "Too many sign-ins at once; see Retry-After", body = ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    PeerAddr(peer): PeerAddr,
    headers: HeaderMap,
    JsonBody(body): JsonBody<LoginRequest>,
) -> ApiResult<axum::response::Response> {
    let _gate = crate::limits::signins().acquire().await?;
    let now = OffsetDateTime::now_utc();
    let device = device_cookie(&headers);
    let session = match state
        .store()
        .login_from(&body.email, &body.password, &peer, device.as_deref(), now)
        .await
    {
        Ok(session) => session,
        Err(follicle_store::StoreError::SecondFactorRequired { challenge }) => {
            return Ok((
                StatusCode::ACCEPTED,
                Json(SecondFactorChallenge {
                    second_factor_required: true,
                    challenge,
                }),
            )
                .into_response());
        }
        Err(e) => return Err(e.into()),
    };
    state
        .store()
        .describe_session(session.token.as_str(), &crate::api::account::user_agent(&headers))
        .await?;
    Ok(signed_in(&state, session, now, device.as_deref())
        .await?
        .into_response())
}

/// The answer of a completed sign-in: the cookies (the session's, and this browser's device
/// cookie: `device` is the one it showed) and the token.
pub async fn signed_in(
    state: &AppState,
    session: follicle_store::LoginSession,
    now: OffsetDateTime,
    device: Option<&str>,
) -> ApiResult<impl IntoResponse + use<>> {
    let user = state
        .store()
        .user(&session.actor, session.actor.user_id())
        .await?;
    let token = session.token.as_str().to_owned();
    tracing::info!(user = %user.id, clinic = %user.clinic_id, "signed in");
    let cookies = signed_in_cookies(state, &session, now, device).await;
    Ok((
        cookies,
        Json(SignedInResponse {
            csrf_token: csrf_token(&token),
            token,
            expires_at: session.expires_at,
            user: user.into(),
        }),
    ))
}

/// Signs out: ends the session and clears the cookies.
#[utoipa::path(post, path = "/auth/logout", tag = "auth",
    responses((status = 204, description = "Signed out"), (status = 401, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, me: SignedIn) -> ApiResult<impl IntoResponse> {
    state.store().sign_out(&me.actor, &me.token).await?;
    Ok((session_cookies(&state, "", 0), StatusCode::NO_CONTENT))
}

/// Who is signed in.
#[utoipa::path(get, path = "/me", tag = "auth",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, me: SignedIn) -> ApiResult<Json<Me>> {
    let user = state.store().user(&me.actor, me.actor.user_id()).await?;
    let clinic = state.store().clinic(&me.actor).await?;
    Ok(Json(Me {
        user: user.into(),
        clinic: clinic.into(),
        csrf_token: csrf_token(&me.token),
    }))
}
