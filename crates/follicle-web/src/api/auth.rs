//! Signing in and out, and who is signed in.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{CSRF_COOKIE, JsonBody, PeerAddr, SESSION_COOKIE, SignedIn, csrf_token};
use crate::state::AppState;
use crate::wire::{ClinicAnswer, UserAnswer};

/// An email and password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The user's email.
    pub email: String,
    /// Their password.
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

/// The password was right; the account signs in with a second factor too.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecondFactorChallenge {
    /// Always true.
    pub second_factor_required: bool,
    /// Send it with the code to `POST /auth/second-factor` within 5 minutes.
    pub challenge: String,
}

/// Signs in. Sets the session cookie and answers the token (for programs) and CSRF token.
/// Failed attempts are counted per email and address: too many in the window answer 429.
/// An account with two-factor sign-in answers 202 with a challenge instead: send it with the
/// app's code to `POST /auth/second-factor`.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest, security(()),
    responses(
        (status = 200, description = "Signed in", body = SignedInResponse),
        (status = 202, description = "Password right; the second factor is asked", body = SecondFactorChallenge),
        (status = 401, description = "Wrong email or password", body = ErrorBody),
        (status = 429, description = "Too many failed attempts", body = ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    PeerAddr(peer): PeerAddr,
    headers: HeaderMap,
    JsonBody(body): JsonBody<LoginRequest>,
) -> ApiResult<axum::response::Response> {
    let now = OffsetDateTime::now_utc();
    let session = match state.store().login(&body.email, &body.password, &peer, now).await {
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
    Ok(signed_in(&state, session, now).await?.into_response())
}

/// The answer of a completed sign-in: the cookies and the token.
pub async fn signed_in(
    state: &AppState,
    session: follicle_store::LoginSession,
    now: OffsetDateTime,
) -> ApiResult<impl IntoResponse + use<>> {
    let user = state
        .store()
        .user(&session.actor, session.actor.user_id())
        .await?;
    let token = session.token.as_str().to_owned();
    tracing::info!(user = %user.id, clinic = %user.clinic_id, "signed in");
    let cookies = session_cookies(state, &token, (session.expires_at - now).whole_seconds());
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
