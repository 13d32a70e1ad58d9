//! Accounts in the studio: one's own account page (password, two-factor sign-in with a QR
//! code and recovery codes, sessions), the second step of a sign-in, the forgotten-password
//! pages, the owner's staff page (reset, deactivate, the clinic's account rules) and the
//! clinic's audit log.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use follicle_store::{AccountRules, Action, AuditEntry, SessionInfo, StoreError, User};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{FieldErrors, Nav, Page, PageError, PageResult, render, render_status};
use crate::api::account::{AuditQuery, RESET_REQUESTED, qr_svg, reset_in_background, user_agent};
use crate::extract::{PeerAddr, QueryArgs};
use crate::state::AppState;

// ----- the account page -----

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    nav: Nav,
    user: User,
    errors: FieldErrors,
    notice: String,
    /// Set up in progress: the secret and its QR code.
    enrolment: Option<(String, String, String)>,
    recovery_codes: Vec<String>,
    codes_left: i64,
    sessions: Vec<SessionInfo>,
    must_enrol: bool,
}

#[derive(Default)]
struct Shown {
    errors: FieldErrors,
    notice: String,
    enrolment: Option<(String, String, String)>,
    recovery_codes: Vec<String>,
}

async fn show(state: &AppState, page: &Page, shown: Shown) -> PageResult {
    let user = state.store().user(&page.actor, page.actor.user_id()).await?;
    let sessions = state
        .store()
        .list_sessions(&page.actor, OffsetDateTime::now_utc())
        .await?;
    let codes_left = state.store().recovery_codes_left(&page.actor).await?;
    let status = shown.errors.status();
    render_status(
        status,
        &AccountPage {
            nav: Nav::new(page, "account"),
            must_enrol: page.actor.enrolment_required(),
            user,
            errors: shown.errors,
            notice: shown.notice,
            enrolment: shown.enrolment,
            recovery_codes: shown.recovery_codes,
            codes_left,
            sessions,
        },
    )
}

pub(super) async fn account(State(state): State<AppState>, page: Page) -> PageResult {
    show(&state, &page, Shown::default()).await
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct AccountForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    otpauth_url: String,
}

/// A store refusal as the error beside a field; anything else as the page's error.
fn beside(errors: &mut FieldErrors, e: StoreError) -> Result<(), PageError> {
    match e {
        StoreError::Invalid { field, message } => {
            errors.add(field, capitalise(&message));
            Ok(())
        }
        StoreError::Conflict { message } => {
            errors.add("form", capitalise(&message));
            Ok(())
        }
        other => Err(other.into()),
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => format!(
            "{}{}.",
            first.to_uppercase(),
            chars.as_str().trim_end_matches('.')
        ),
        None => String::new(),
    }
}

pub(super) async fn change_password(
    State(state): State<AppState>,
    page: Page,
    axum::Form(form): axum::Form<AccountForm>,
) -> PageResult {
    page.check_csrf(&form._csrf)?;
    let mut shown = Shown::default();
    match state
        .store()
        .change_password(&page.actor, &form.current_password, &form.new_password)
        .await
    {
        Ok(()) => shown.notice = "Password changed. Your other sessions have been signed out.".into(),
        Err(e) => beside(&mut shown.errors, e)?,
    }
    show(&state, &page, shown).await
}

pub(super) async fn begin_two_factor(
    State(state): State<AppState>,
    page: Page,
    axum::Form(form): axum::Form<AccountForm>,
) -> PageResult {
    page.check_csrf(&form._csrf)?;
    let enrolment = state.store().begin_totp(&page.actor).await?;
    let qr = qr_svg(&enrolment.otpauth_url).map_err(PageError::from)?;
    let shown = Shown {
        enrolment: Some((enrolment.secret.clone(), enrolment.otpauth_url.clone(), qr)),
        ..Shown::default()
    };
    show(&state, &page, shown).await
}

pub(super) async fn confirm_two_factor(
    State(state): State<AppState>,
    page: Page,
    axum::Form(form): axum::Form<AccountForm>,
) -> PageResult {
    page.check_csrf(&form._csrf)?;
    let mut shown = Shown::default();
    match state
        .store()
        .confirm_totp(&page.actor, &form.code, OffsetDateTime::now_utc())
        .await
    {
        Ok(codes) => {
            shown.notice = "Two-factor sign-in is on. Keep these recovery codes somewhere safe: each signs you in once if you lose your phone. They are shown only now.".into();
            shown.recovery_codes = codes;
        }
        Err(e) => {
            beside(&mut shown.errors, e)?;
            // Shown again as it was (the secret is only for display; the store checks the code
            // against the one it keeps).
            if !form.otpauth_url.starts_with("otpauth://") {
                return Err(PageError {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    message: "Start setting up two-factor sign-in again.".into(),
                });
            }
            let qr = qr_svg(&form.otpauth_url).map_err(PageError::from)?;
            shown.enrolment = Some((form.secret, form.otpauth_url, qr));
        }
    }
    show(&state, &page, shown).await
}

pub(super) async fn disable_two_factor(
    State(state): State<AppState>,
    page: Page,
    axum::Form(form): axum::Form<AccountForm>,
) -> PageResult {
    page.check_csrf(&form._csrf)?;
    let mut shown = Shown::default();
    match state.store().disable_totp(&page.actor, &form.password).await {
        Ok(()) => shown.notice = "Two-factor sign-in is off.".into(),
        Err(e) => beside(&mut shown.errors, e)?,
    }
    show(&state, &page, shown).await
}

pub(super) async fn new_recovery_codes(
    State(state): State<AppState>,
    page: Page,
    axum::Form(form): axum::Form<AccountForm>,
) -> PageResult {
    page.check_csrf(&form._csrf)?;
    let mut shown = Shown::default();
    match state.store().regenerate_recovery_codes(&page.actor).await {
        Ok(codes) => {
            shown.notice = "New recovery codes; the old ones no longer work.".into();
            shown.recovery_codes = codes;
        }
        Err(e) => beside(&mut shown.errors, e)?,
    }
    show(&state, &page, shown).await
}

pub(super) async fn end_session(
    State(state): State<AppState>,
    page: Page,
    Path(session): Path<String>,
    axum::Form(form): axum::Form<AccountForm>,
) -> PageResult {
    page.check_csrf(&form._csrf)?;
    state.store().end_session(&page.actor, &session).await?;
    if session == page.actor.session_id() {
        let cleared = crate::api::auth::session_cookies(&state, "", 0);
        return Ok((cleared, Redirect::to("/login")).into_response());
    }
    let shown = Shown {
        notice: "That session is signed out.".into(),
        ..Shown::default()
    };
    show(&state, &page, shown).await
}

pub(super) async fn end_all_sessions(
    State(state): State<AppState>,
    page: Page,
    axum::Form(form): axum::Form<AccountForm>,
) -> PageResult {
    page.check_csrf(&form._csrf)?;
    state.store().sign_out_everywhere(&page.actor).await?;
    let cleared = crate::api::auth::session_cookies(&state, "", 0);
    Ok((cleared, Redirect::to("/login")).into_response())
}

// ----- the second step of a sign-in -----

#[derive(Template)]
#[template(path = "login_code.html")]
pub(super) struct CodePage {
    pub(super) challenge: String,
    pub(super) error: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct CodeForm {
    #[serde(default)]
    challenge: String,
    #[serde(default)]
    code: String,
}

pub(super) async fn login_code(
    State(state): State<AppState>,
    PeerAddr(peer): PeerAddr,
    headers: HeaderMap,
    axum::Form(form): axum::Form<CodeForm>,
) -> PageResult {
    if !super::same_origin(&headers) {
        return Err(PageError {
            status: StatusCode::FORBIDDEN,
            message: "This sign-in form was sent from another site.".into(),
        });
    }
    let now = OffsetDateTime::now_utc();
    match state
        .store()
        .complete_sign_in(&form.challenge, &form.code, &peer, &user_agent(&headers), now)
        .await
    {
        Ok(session) => {
            let device = crate::api::auth::device_cookie(&headers);
            let cookies = crate::api::auth::signed_in_cookies(&state, &session, now, device.as_deref()).await;
            Ok((cookies, Redirect::to("/")).into_response())
        }
        Err(StoreError::Unauthenticated) => render_status(
            StatusCode::UNAUTHORIZED,
            &CodePage {
                challenge: form.challenge,
                error: "That code is not right. Type the 6 digits your app shows now, or a recovery code. After five tries, sign in with your password again.".into(),
            },
        ),
        Err(e) => Err(e.into()),
    }
}

// ----- a forgotten password -----

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    email: String,
    notice: String,
}

pub(super) async fn forgot_page() -> PageResult {
    render(&ForgotPage {
        email: String::new(),
        notice: String::new(),
    })
}

#[derive(Debug, Deserialize)]
pub(super) struct ForgotForm {
    #[serde(default)]
    email: String,
}

pub(super) async fn forgot_submit(
    State(state): State<AppState>,
    PeerAddr(peer): PeerAddr,
    headers: HeaderMap,
    axum::Form(form): axum::Form<ForgotForm>,
) -> PageResult {
    if !super::same_origin(&headers) {
        return Err(PageError {
            status: StatusCode::FORBIDDEN,
            message: "This form was sent from another site.".into(),
        });
    }
    reset_in_background(&state, form.email.clone(), peer);
    render(&ForgotPage {
        email: form.email,
        notice: RESET_REQUESTED.into(),
    })
}

#[derive(Template)]
#[template(path = "reset.html")]
struct ResetPage {
    token: String,
    valid: bool,
    errors: FieldErrors,
}

#[derive(Debug, Deserialize)]
pub(super) struct ResetQuery {
    #[serde(default)]
    token: String,
}

pub(super) async fn reset_page(
    State(state): State<AppState>,
    QueryArgs(q): QueryArgs<ResetQuery>,
) -> PageResult {
    let valid = state
        .store()
        .reset_token_valid(&q.token, OffsetDateTime::now_utc())
        .await?;
    render(&ResetPage {
        token: q.token,
        valid,
        errors: FieldErrors::default(),
    })
}

#[derive(Debug, Deserialize)]
pub(super) struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    new_password: String,
}

pub(super) async fn reset_submit(
    State(state): State<AppState>,
    PeerAddr(peer): PeerAddr,
    headers: HeaderMap,
    axum::Form(form): axum::Form<ResetForm>,
) -> PageResult {
    if !super::same_origin(&headers) {
        return Err(PageError {
            status: StatusCode::FORBIDDEN,
            message: "This form was sent from another site.".into(),
        });
    }
    match state
        .store()
        .reset_password(&form.token, &form.new_password, &peer, OffsetDateTime::now_utc())
        .await
    {
        Ok(()) => Ok(Redirect::to("/login?reset=done").into_response()),
        Err(e) => {
            let mut errors = FieldErrors::default();
            beside(&mut errors, e)?;
            let valid = errors.get("token").is_empty();
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ResetPage {
                    token: form.token,
                    valid,
                    errors,
                },
            )
        }
    }
}

// ----- the owner's staff page -----

#[derive(Template)]
#[template(path = "staff.html")]
struct StaffPage {
    nav: Nav,
    me: Uuid,
    users: Vec<User>,
    rules: RulesForm,
    errors: FieldErrors,
    notice: String,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RulesForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    require_mfa: Option<String>,
    #[serde(default)]
    idle_timeout_minutes: String,
    #[serde(default)]
    audit_retention_years: String,
}

async fn show_staff(
    state: &AppState,
    page: &Page,
    rules: Option<RulesForm>,
    errors: FieldErrors,
    notice: String,
) -> PageResult {
    page.actor.require(Action::ManageUsers)?;
    let users = state.store().list_users(&page.actor).await?;
    let rules = match rules {
        Some(r) => r,
        None => {
            let r = state.store().account_rules(&page.actor).await?;
            RulesForm {
                _csrf: String::new(),
                require_mfa: r.require_mfa.then(|| "on".to_owned()),
                idle_timeout_minutes: r.idle_timeout_minutes.to_string(),
                audit_retention_years: r.audit_retention_years.to_string(),
            }
        }
    };
    let status = errors.status();
    render_status(
        status,
        &StaffPage {
            nav: Nav::new(page, "staff"),
            me: page.actor.user_id(),
            users,
            rules,
            errors,
            notice,
        },
    )
}

pub(super) async fn staff(State(state): State<AppState>, page: Page) -> PageResult {
    show_staff(&state, &page, None, FieldErrors::default(), String::new()).await
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct StaffForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    second_factor: Option<String>,
    #[serde(default)]
    active: String,
}

pub(super) async fn reset_staff(
    State(state): State<AppState>,
    page: Page,
    crate::extract::Id(id): crate::extract::Id,
    axum::Form(form): axum::Form<StaffForm>,
) -> PageResult {
    page.check_csrf(&form._csrf)?;
    let mut errors = FieldErrors::default();
    let mut notice = String::new();
    match state
        .store()
        .reset_user_password(
            &page.actor,
            id,
            form.second_factor.is_some(),
            OffsetDateTime::now_utc(),
        )
        .await
    {
        Ok(mail) => {
            notice = match crate::mail::send_reset(&state.config().mail, &mail).await {
                Ok(()) => format!(
                    "{}'s password is reset and their sessions are signed out. A link to choose a new one went to {}.",
                    mail.name, mail.to
                ),
                Err(e) => {
                    tracing::error!(error = %e, "could not send a password reset link");
                    format!(
                        "{}'s password is reset, but the mail to {} could not be sent (the server's log says why). Reset again once mail works.",
                        mail.name, mail.to
                    )
                }
            }
        }
        Err(e) => beside(&mut errors, e)?,
    }
    show_staff(&state, &page, None, errors, notice).await
}

pub(super) async fn set_active(
    State(state): State<AppState>,
    page: Page,
    crate::extract::Id(id): crate::extract::Id,
    axum::Form(form): axum::Form<StaffForm>,
) -> PageResult {
    page.check_csrf(&form._csrf)?;
    let user = state.store().user(&page.actor, id).await?;
    let active = form.active == "true";
    let mut errors = FieldErrors::default();
    let mut notice = String::new();
    match state
        .store()
        .update_user(&page.actor, id, user.role, active)
        .await
    {
        Ok(u) if u.active => notice = format!("{} may sign in again.", u.name),
        Ok(u) => notice = format!("{} is deactivated and signed out everywhere.", u.name),
        Err(e) => beside(&mut errors, e)?,
    }
    show_staff(&state, &page, None, errors, notice).await
}

pub(super) async fn save_rules(
    State(state): State<AppState>,
    page: Page,
    axum::Form(form): axum::Form<RulesForm>,
) -> PageResult {
    page.check_csrf(&form._csrf)?;
    let mut errors = FieldErrors::default();
    let number = |errors: &mut FieldErrors, field: &str, text: &str| match text.trim().parse::<i64>() {
        Ok(n) => n,
        Err(_) => {
            errors.add(field, format!("Type a whole number, not {text:?}."));
            0
        }
    };
    let idle = number(&mut errors, "idle_timeout_minutes", &form.idle_timeout_minutes);
    let years = number(&mut errors, "audit_retention_years", &form.audit_retention_years);
    if errors.is_empty() {
        let rules = AccountRules {
            require_mfa: form.require_mfa.is_some(),
            idle_timeout_minutes: idle,
            audit_retention_years: years,
        };
        match state.store().update_account_rules(&page.actor, rules).await {
            Ok(_) => return show_staff(&state, &page, None, errors, "Account rules saved.".into()).await,
            Err(e) => beside(&mut errors, e)?,
        }
    }
    show_staff(&state, &page, Some(form), errors, String::new()).await
}

// ----- the audit log -----

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    nav: Nav,
    users: Vec<User>,
    entries: Vec<AuditEntry>,
    q: AuditForm,
    next: String,
    error: String,
}

/// The audit page's filters as typed (dates, not times).
#[derive(Debug, Default, Deserialize)]
pub(super) struct AuditForm {
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    before: String,
}

impl AuditPage {
    fn user_name(&self, id: &Uuid) -> String {
        self.users
            .iter()
            .find(|u| u.id == *id)
            .map_or_else(|| id.to_string(), |u| u.name.clone())
    }

    fn actions(&self) -> Vec<&'static str> {
        follicle_store::AuditAction::ALL
            .iter()
            .map(|a| a.as_str())
            .collect()
    }
}

impl AuditForm {
    fn query(&self) -> Result<AuditQuery, String> {
        let blank = |t: &str| !t.trim().is_empty();
        let uuid = |field: &str, t: &str| {
            Uuid::parse_str(t.trim()).map_err(|_| format!("{field}: expected an id such as 3f2a…, got {t:?}"))
        };
        let date = |field: &str, t: &str| {
            time::Date::parse(
                t.trim(),
                &time::macros::format_description!("[year]-[month]-[day]"),
            )
            .map(|d| format!("{d}T00:00:00Z"))
            .map_err(|_| format!("{field}: expected a date such as 2026-11-21, got {t:?}"))
        };
        Ok(AuditQuery {
            user_id: Some(&self.user_id)
                .filter(|t| blank(t))
                .map(|t| uuid("user", t))
                .transpose()?,
            client_id: Some(&self.client_id)
                .filter(|t| blank(t))
                .map(|t| uuid("client", t))
                .transpose()?,
            action: Some(&self.action)
                .filter(|t| blank(t))
                .map(|t| {
                    follicle_store::AuditAction::parse(t)
                        .map(Into::into)
                        .map_err(|e| e.to_string())
                })
                .transpose()?,
            from: Some(&self.from)
                .filter(|t| blank(t))
                .map(|t| date("from", t))
                .transpose()?,
            until: Some(&self.until)
                .filter(|t| blank(t))
                .map(|t| date("until", t))
                .transpose()?,
            before: Some(&self.before)
                .filter(|t| blank(t))
                .and_then(|t| t.trim().parse().ok()),
            limit: Some(100),
        })
    }

    /// The query string of the next page.
    fn next(&self, before: i64) -> String {
        serde_urlencoded::to_string([
            ("user_id", self.user_id.as_str()),
            ("action", self.action.as_str()),
            ("client_id", self.client_id.as_str()),
            ("from", self.from.as_str()),
            ("until", self.until.as_str()),
            ("before", before.to_string().as_str()),
        ])
        .unwrap_or_default()
    }
}

pub(super) async fn audit(
    State(state): State<AppState>,
    page: Page,
    QueryArgs(q): QueryArgs<AuditForm>,
) -> PageResult {
    page.actor.require(Action::ViewAuditLog)?;
    let users = state.store().list_users(&page.actor).await?;
    let (entries, next, error) = match q.query() {
        Err(message) => (Vec::new(), String::new(), message),
        Ok(query) => {
            let filter = query.filter().map_err(PageError::from)?;
            let found = state.store().audit_trail(&page.actor, &filter).await?;
            let next = found.next_before.map(|b| q.next(b)).unwrap_or_default();
            (found.entries, next, String::new())
        }
    };
    let status = if error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render_status(
        status,
        &AuditPage {
            nav: Nav::new(&page, "audit"),
            users,
            entries,
            q,
            next,
            error,
        },
    )
}
