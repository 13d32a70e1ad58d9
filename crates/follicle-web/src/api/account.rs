//! One's own account (password, two-factor sign-in, sessions), password resets by mail, the
//! owner's resets of colleagues, the clinic's account rules and its audit log.

use std::sync::OnceLock;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use follicle_store::{AccountRules, AuditFilter, SessionInfo};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::Semaphore;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Id, JsonBody, PeerAddr, QueryArgs, SignedIn};
use crate::state::AppState;
use crate::wire::{AuditAction, AuditEntryAnswer};

/// The browser's name for itself, cut short, for the sessions list.
pub fn user_agent(headers: &HeaderMap) -> String {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(200)
        .collect()
}

/// A password change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The password now.
    pub current_password: String,
    /// The new one: 8 characters to 1,024 bytes, not a common password, a repetition or a
    /// sequence, nor your email or name.
    #[schema(min_length = 8, max_length = 1024)]
    pub new_password: String,
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordChange([redacted])")
    }
}

/// Changes the caller's password; their other sessions end.
#[utoipa::path(put, path = "/me/password", tag = "auth", request_body = PasswordChange,
    responses((status = 204, description = "Changed"), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    me: SignedIn,
    JsonBody(body): JsonBody<PasswordChange>,
) -> ApiResult<StatusCode> {
    state
        .store()
        .change_password(&me.actor, &body.current_password, &body.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An email that forgot its password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    /// The account's email.
    pub email: String,
}

/// What a reset request is answered, whatever the email.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResetRequested {
    /// The same words for every email.
    pub message: &'static str,
}

/// The one answer to a reset request.
pub const RESET_REQUESTED: &str =
    "If an account uses this email, a link to set a new password is on its way. It works once, for an hour.";

/// Reset requests being handled at once; more are answered alike and dropped (logged).
const RESETS_AT_ONCE: usize = 16;

/// Handles a reset request in the background: the answer and its timing do not depend on
/// whether the email has an account.
pub fn reset_in_background(state: &AppState, email: String, peer: String) {
    static PERMITS: OnceLock<std::sync::Arc<Semaphore>> = OnceLock::new();
    let permits = PERMITS.get_or_init(|| std::sync::Arc::new(Semaphore::new(RESETS_AT_ONCE)));
    let Ok(permit) = permits.clone().try_acquire_owned() else {
        tracing::warn!("too many password reset requests at once: one was dropped");
        return;
    };
    let state = state.clone();
    tokio::spawn(async move {
        let _permit = permit;
        match state
            .store()
            .request_password_reset(&email, &peer, OffsetDateTime::now_utc())
            .await
        {
            Ok(mails) => {
                for mail in mails {
                    if let Err(e) = crate::mail::send_reset(&state.config().mail, &mail).await {
                        tracing::error!(error = %e, "could not send a password reset link");
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "a password reset request failed"),
        }
    });
}

/// Asks for a password-reset link by mail. The answer is the same for every email (202), and
/// the mail goes after it.
#[utoipa::path(post, path = "/auth/password-reset", tag = "auth", request_body = ResetRequest, security(()),
    responses((status = 202, body = ResetRequested), (status = 422, body = ErrorBody)))]
pub async fn request_reset(
    State(state): State<AppState>,
    PeerAddr(peer): PeerAddr,
    JsonBody(body): JsonBody<ResetRequest>,
) -> (StatusCode, Json<ResetRequested>) {
    reset_in_background(&state, body.email, peer);
    (
        StatusCode::ACCEPTED,
        Json(ResetRequested {
            message: RESET_REQUESTED,
        }),
    )
}

/// A new password with the token of a reset link.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetCompletion {
    /// The `token` of the link.
    pub token: String,
    /// The new password (the same rules as a change).
    #[schema(min_length = 8, max_length = 1024)]
    pub new_password: String,
}

impl std::fmt::Debug for ResetCompletion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResetCompletion([redacted])")
    }
}

/// Sets a new password with a reset link (once, within the hour). Every session of the
/// account ends; sign in with the new password.
#[utoipa::path(post, path = "/auth/password-reset/complete", tag = "auth", request_body = ResetCompletion, security(()),
    responses((status = 204, description = "Password set"), (status = 422, description = "Used or expired link, or a password the rules refuse", body = ErrorBody)))]
pub async fn complete_reset(
    State(state): State<AppState>,
    PeerAddr(peer): PeerAddr,
    JsonBody(body): JsonBody<ResetCompletion>,
) -> ApiResult<StatusCode> {
    state
        .store()
        .reset_password(&body.token, &body.new_password, &peer, OffsetDateTime::now_utc())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The second step of a sign-in with two factors.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecondFactor {
    /// The `challenge` from the sign-in's 202 answer.
    pub challenge: String,
    /// The 6 digits the authenticator app shows, or a recovery code.
    pub code: String,
}

impl std::fmt::Debug for SecondFactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecondFactor([redacted])")
    }
}

/// Completes a sign-in with the code from the authenticator app (or a recovery code). Five
/// wrong codes spend the challenge: sign in with the password again.
#[utoipa::path(post, path = "/auth/second-factor", tag = "auth", request_body = SecondFactor, security(()),
    responses(
        (status = 200, description = "Signed in", body = crate::api::auth::SignedInResponse),
        (status = 401, description = "Wrong code, or the challenge is spent or expired", body = ErrorBody),
    ))]
pub async fn second_factor(
    State(state): State<AppState>,
    PeerAddr(peer): PeerAddr,
    headers: HeaderMap,
    JsonBody(body): JsonBody<SecondFactor>,
) -> ApiResult<impl IntoResponse> {
    let now = OffsetDateTime::now_utc();
    let session = state
        .store()
        .complete_sign_in(&body.challenge, &body.code, &peer, &user_agent(&headers), now)
        .await?;
    let device = crate::api::auth::device_cookie(&headers);
    crate::api::auth::signed_in(&state, session, now, device.as_deref()).await
}

/// Two-factor sign-in being set up.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpEnrolmentAnswer {
    /// The secret, base32, to type into an authenticator app.
    pub secret: String,
    /// The `otpauth://` link (what the QR code holds).
    pub otpauth_url: String,
    /// The link as a QR code, an SVG image.
    pub qr_svg: String,
}

/// Starts setting up two-factor sign-in: a secret for the app. Confirm with a code.
#[utoipa::path(post, path = "/me/two-factor", tag = "auth",
    responses((status = 200, body = TotpEnrolmentAnswer), (status = 401, body = ErrorBody)))]
pub async fn begin_two_factor(
    State(state): State<AppState>,
    me: SignedIn,
) -> ApiResult<Json<TotpEnrolmentAnswer>> {
    let enrolment = state.store().begin_totp(&me.actor).await?;
    Ok(Json(TotpEnrolmentAnswer {
        qr_svg: qr_svg(&enrolment.otpauth_url)?,
        secret: enrolment.secret.clone(),
        otpauth_url: enrolment.otpauth_url.clone(),
    }))
}

/// A QR code of `text`, as an SVG image.
pub fn qr_svg(text: &str) -> ApiResult<String> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| ApiError::internal(format!("QR code: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

/// A code from the authenticator app.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpCode {
    /// The 6 digits the app shows.
    pub code: String,
}

impl std::fmt::Debug for TotpCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpCode([redacted])")
    }
}

/// Recovery codes: each signs in once instead of an app's code. Shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// The codes (`ABCD-EFGH-IJKL-MNOP`).
    pub recovery_codes: Vec<String>,
}

/// Turns two-factor sign-in on with the app's first code; answers the recovery codes.
#[utoipa::path(post, path = "/me/two-factor/confirm", tag = "auth", request_body = TotpCode,
    responses((status = 200, body = RecoveryCodes), (status = 422, body = ErrorBody)))]
pub async fn confirm_two_factor(
    State(state): State<AppState>,
    me: SignedIn,
    JsonBody(body): JsonBody<TotpCode>,
) -> ApiResult<Json<RecoveryCodes>> {
    let recovery_codes = state
        .store()
        .confirm_totp(&me.actor, &body.code, OffsetDateTime::now_utc())
        .await?;
    Ok(Json(RecoveryCodes { recovery_codes }))
}

/// The password, to confirm a change that weakens the account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordConfirmation {
    /// The current password.
    pub password: String,
}

impl std::fmt::Debug for PasswordConfirmation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordConfirmation([redacted])")
    }
}

/// Turns two-factor sign-in off (not while the clinic requires it).
#[utoipa::path(post, path = "/me/two-factor/disable", tag = "auth", request_body = PasswordConfirmation,
    responses((status = 204, description = "Off"), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn disable_two_factor(
    State(state): State<AppState>,
    me: SignedIn,
    JsonBody(body): JsonBody<PasswordConfirmation>,
) -> ApiResult<StatusCode> {
    state.store().disable_totp(&me.actor, &body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// New recovery codes, replacing the old ones.
#[utoipa::path(post, path = "/me/recovery-codes", tag = "auth",
    responses((status = 200, body = RecoveryCodes), (status = 422, body = ErrorBody)))]
pub async fn new_recovery_codes(
    State(state): State<AppState>,
    me: SignedIn,
) -> ApiResult<Json<RecoveryCodes>> {
    let recovery_codes = state.store().regenerate_recovery_codes(&me.actor).await?;
    Ok(Json(RecoveryCodes { recovery_codes }))
}

/// One of the caller's sessions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignInSessionAnswer {
    /// Its id (16 hex digits).
    pub id: String,
    /// Opened.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last used (to the minute).
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: OffsetDateTime,
    /// Ends at the latest.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Opened from this address.
    pub ip: String,
    /// By this browser or program.
    pub user_agent: String,
    /// The session asking.
    pub current: bool,
}

impl From<SessionInfo> for SignInSessionAnswer {
    fn from(s: SessionInfo) -> SignInSessionAnswer {
        let SessionInfo {
            id,
            created_at,
            last_seen_at,
            expires_at,
            ip,
            user_agent,
            current,
        } = s;
        SignInSessionAnswer {
            id,
            created_at,
            last_seen_at,
            expires_at,
            ip,
            user_agent,
            current,
        }
    }
}

/// The caller's open sessions, the newest first.
#[utoipa::path(get, path = "/me/sessions", tag = "auth",
    responses((status = 200, body = Vec<SignInSessionAnswer>), (status = 401, body = ErrorBody)))]
pub async fn sessions(
    State(state): State<AppState>,
    me: SignedIn,
) -> ApiResult<Json<Vec<SignInSessionAnswer>>> {
    let list = state
        .store()
        .list_sessions(&me.actor, OffsetDateTime::now_utc())
        .await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Signs out everywhere: ends every session of the caller, this one included.
#[utoipa::path(delete, path = "/me/sessions", tag = "auth",
    responses((status = 204, description = "Every session ended"), (status = 401, body = ErrorBody)))]
pub async fn end_all_sessions(State(state): State<AppState>, me: SignedIn) -> ApiResult<impl IntoResponse> {
    state.store().sign_out_everywhere(&me.actor).await?;
    Ok((
        crate::api::auth::session_cookies(&state, "", 0),
        StatusCode::NO_CONTENT,
    ))
}

/// Ends one of the caller's sessions.
#[utoipa::path(delete, path = "/me/sessions/{session}", tag = "auth",
    params(("session" = String, Path, description = "The session's id, from the list")),
    responses((status = 204, description = "Ended"), (status = 404, body = ErrorBody)))]
pub async fn end_session(
    State(state): State<AppState>,
    me: SignedIn,
    Path(session): Path<String>,
) -> ApiResult<StatusCode> {
    if session.len() != 16 || !session.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::not_found("session"));
    }
    state.store().end_session(&me.actor, &session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What an owner's reset of a colleague does besides the password.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserReset {
    /// Also remove their two-factor sign-in (a lost phone); they set it up again.
    #[serde(default)]
    pub second_factor: bool,
}

/// The answer to an owner's reset.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserResetDone {
    /// Where the link went.
    pub sent_to: String,
    /// Whether the mail was handed to the relay (if not, the server's log says why; reset
    /// again once mail works).
    pub mailed: bool,
}

/// Resets a colleague's password (owner): their password stops working, their sessions
/// end, and a link to choose a new one is mailed to them.
#[utoipa::path(post, path = "/users/{id}/reset", tag = "clinic", request_body = UserReset,
    params(("id" = uuid::Uuid, Path, description = "The user")),
    responses((status = 200, body = UserResetDone), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reset_user(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
    JsonBody(body): JsonBody<UserReset>,
) -> ApiResult<Json<UserResetDone>> {
    let mail = state
        .store()
        .reset_user_password(&me.actor, id, body.second_factor, OffsetDateTime::now_utc())
        .await?;
    let mailed = match crate::mail::send_reset(&state.config().mail, &mail).await {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(error = %e, "could not send a password reset link");
            false
        }
    };
    Ok(Json(UserResetDone {
        sent_to: mail.to.clone(),
        mailed,
    }))
}

/// The clinic's account rules.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountRulesBody {
    /// Everyone signs in with a second factor (default off).
    pub require_mfa: bool,
    /// Minutes without a request after which a session ends: 5–720, default 30 (NIST SP
    /// 800-63B rev. 3 §4.2.3, AAL2).
    #[schema(minimum = 5, maximum = 720)]
    pub idle_timeout_minutes: i64,
    /// Years the audit log is kept: 1–100, default 6 (HIPAA §164.316(b)(2)(i)).
    #[schema(minimum = 1, maximum = 100)]
    pub audit_retention_years: i64,
}

impl From<AccountRules> for AccountRulesBody {
    fn from(r: AccountRules) -> AccountRulesBody {
        let AccountRules {
            require_mfa,
            idle_timeout_minutes,
            audit_retention_years,
        } = r;
        AccountRulesBody {
            require_mfa,
            idle_timeout_minutes,
            audit_retention_years,
        }
    }
}

/// The clinic's account rules.
#[utoipa::path(get, path = "/clinic/account-rules", tag = "clinic",
    responses((status = 200, body = AccountRulesBody), (status = 401, body = ErrorBody)))]
pub async fn account_rules(State(state): State<AppState>, me: SignedIn) -> ApiResult<Json<AccountRulesBody>> {
    Ok(Json(state.store().account_rules(&me.actor).await?.into()))
}

/// Changes the clinic's account rules (owner; audited).
#[utoipa::path(put, path = "/clinic/account-rules", tag = "clinic", request_body = AccountRulesBody,
    responses((status = 200, body = AccountRulesBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_account_rules(
    State(state): State<AppState>,
    me: SignedIn,
    JsonBody(body): JsonBody<AccountRulesBody>,
) -> ApiResult<Json<AccountRulesBody>> {
    let rules = AccountRules {
        require_mfa: body.require_mfa,
        idle_timeout_minutes: body.idle_timeout_minutes,
        audit_retention_years: body.audit_retention_years,
    };
    Ok(Json(
        state.store().update_account_rules(&me.actor, rules).await?.into(),
    ))
}

/// Filters of the audit log.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this user's actions.
    pub user_id: Option<Uuid>,
    /// Only what touched this client.
    pub client_id: Option<Uuid>,
    /// Only this action.
    pub action: Option<AuditAction>,
    /// From (RFC 3339).
    pub from: Option<String>,
    /// Until, not included (RFC 3339).
    pub until: Option<String>,
    /// Entries older than this id: the previous page's `next_before`.
    pub before: Option<i64>,
    /// Entries per page, 1–500 (50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// A page of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPageAnswer {
    /// Newest first.
    pub entries: Vec<AuditEntryAnswer>,
    /// Pass as `before` for the next page; absent on the last.
    pub next_before: Option<i64>,
}

/// Parses an RFC 3339 time of a query.
pub fn moment(field: &str, text: &str) -> ApiResult<OffsetDateTime> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).map_err(|e| {
        ApiError::invalid(
            field,
            format!("expected an RFC 3339 time such as 2026-11-21T09:00:00Z, got {text:?}: {e}"),
        )
    })
}

impl AuditQuery {
    /// The store's filter.
    pub fn filter(&self) -> ApiResult<AuditFilter> {
        // The store reads a limit of 0 as "the default"; asked for, it is out of range.
        if let Some(limit) = self.limit
            && !(1..=500).contains(&limit)
        {
            return Err(ApiError::invalid("limit", format!("expected 1–500, got {limit}")));
        }
        Ok(AuditFilter {
            user_id: self.user_id,
            client_id: self.client_id,
            action: self.action.map(Into::into),
            from: self.from.as_deref().map(|t| moment("from", t)).transpose()?,
            until: self.until.as_deref().map(|t| moment("until", t)).transpose()?,
            before: self.before,
            limit: self.limit.unwrap_or(50),
        })
    }
}

/// The clinic's audit log (owner), newest first, a page at a time: sign-ins and failures,
/// user, role and settings changes, reads and changes of records, exports, searches, diary
/// reads and reads of this log, each with its address and session. Reading it is audited.
#[utoipa::path(get, path = "/audit", tag = "clinic", params(AuditQuery),
    responses((status = 200, body = AuditPageAnswer), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn audit_log(
    State(state): State<AppState>,
    me: SignedIn,
    QueryArgs(q): QueryArgs<AuditQuery>,
) -> ApiResult<Json<AuditPageAnswer>> {
    let page = state.store().audit_trail(&me.actor, &q.filter()?).await?;
    Ok(Json(AuditPageAnswer {
        entries: page.entries.into_iter().map(Into::into).collect(),
        next_before: page.next_before,
    }))
}
