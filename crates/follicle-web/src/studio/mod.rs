//! The studio: server-rendered pages for the people at the clinic — today's diary, clients and
//! their record, the consultation wizard, the designer, the session log, pigments and
//! settings. Small scripts (no bundler) add the designer's live dots, the wizard's steps and
//! the before/after slider; every page works with the keyboard and has a label on every
//! control.
//!
//! Pages sign in with the same session cookie as the API. A form carries the session's CSRF
//! token in a hidden `_csrf` field; a form that fails its checks is shown again with the
//! values typed and the error beside the field.

mod account;
mod clients;
mod consents;
mod consult;
mod consult_form;
mod designer;
mod desk;
mod diary;
mod feeds;
mod landmarks;
mod logo;
mod messages;
mod payments;
mod photos;
mod pigments;
mod reports;
mod requests;
mod rights;
mod settings;
mod settings_form;
mod today;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use follicle_store::{Actor, StoreError, User};
use serde::Deserialize;

use crate::extract::{PeerAddr, SESSION_COOKIE, cookie, csrf_token};
use crate::state::AppState;

/// A calendar feed's address for its secret (the API's answer shows it as the studio does).
pub(crate) fn feeds_address(state: &AppState, token: &str) -> String {
    feeds::address(state, token)
}

/// The studio's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route("/login/code", post(account::login_code))
        .route("/forgot", get(account::forgot_page).post(account::forgot_submit))
        .route("/reset", get(account::reset_page).post(account::reset_submit))
        .route("/account", get(account::account))
        .route("/account/password", post(account::change_password))
        .route("/account/two-factor", post(account::begin_two_factor))
        .route("/account/two-factor/confirm", post(account::confirm_two_factor))
        .route("/account/two-factor/disable", post(account::disable_two_factor))
        .route("/account/recovery-codes", post(account::new_recovery_codes))
        .route("/account/sessions/end-all", post(account::end_all_sessions))
        .route("/account/sessions/{session}/end", post(account::end_session))
        .route("/staff", get(account::staff))
        .route("/staff/rules", post(account::save_rules))
        .route("/staff/{id}/reset", post(account::reset_staff))
        .route("/staff/{id}/active", post(account::set_active))
        .route("/audit", get(account::audit))
        .route("/", get(today::today))
        .route("/clients", get(clients::list))
        .route("/clients/new", get(clients::new_form).post(clients::create))
        .route("/clients/{id}", get(clients::record))
        .route("/clients/{id}/edit", get(desk::edit_form).post(desk::edit_submit))
        .route(
            "/clients/{id}/merge",
            get(desk::merge_form).post(desk::merge_submit),
        )
        .route(
            "/clients/{id}/calendar-feed",
            get(feeds::client_page).post(feeds::client_submit),
        )
        .route(
            "/account/calendar-feed",
            get(feeds::own_page).post(feeds::own_submit),
        )
        .route(
            "/staff/{id}/calendar-feed",
            get(feeds::staff_page).post(feeds::staff_submit),
        )
        .route("/calendar/{file}", get(feeds::feed))
        .route("/reports", get(reports::page))
        .route("/requests", get(requests::inbox))
        .route("/requests/{id}/photo", get(requests::photo))
        .route("/requests/{id}/accept", post(requests::accept))
        .route("/requests/{id}/decline", post(requests::decline))
        .route("/reports/{file}", get(reports::csv))
        .route("/clients/{id}/photos", post(photos::upload))
        .route("/clients/{id}/photos/new", get(photos::capture))
        .route("/clients/{id}/consult", get(consult::form).post(consult::submit))
        .route(
            "/clients/{id}/sessions/new",
            get(clients::session_form).post(clients::session_submit),
        )
        .route("/diary", get(diary::diary))
        .route("/appointments/{id}", get(diary::appointment))
        .route("/appointments/{id}/status", post(diary::set_status))
        .route("/appointments/{id}/move", post(diary::move_submit))
        .route("/move-requests/{id}/dismiss", post(diary::dismiss_move_request))
        .route(
            "/appointments/{id}/session",
            get(clients::appointment_session_form).post(clients::appointment_session_submit),
        )
        .route("/sessions/{id}/logged", get(diary::logged))
        .route("/clients/{id}/book-plan", post(diary::book_plan))
        .route("/clients/{id}/book-visit", post(diary::book_visit))
        .route("/consultations/{id}/print", get(consult::print))
        .route("/consultations/{id}/plan.pdf", get(consult::plan_pdf))
        .route("/consultations/{id}/replan", post(consult::replan))
        .route("/designs/{id}", get(designer::designer))
        .route("/photos/{id}/landmarks", get(landmarks::page))
        .route("/pigments", get(pigments::page))
        .route("/pigments/products", post(pigments::add_product))
        .route("/pigments/batches", post(pigments::add_batch))
        .route("/pigments/batches/{id}", get(pigments::recall))
        .route("/pigments/batches/{id}/recall.csv", get(pigments::recall_csv))
        .route("/settings", get(settings::page).post(settings::save))
        .route("/settings/users", post(settings::add_user))
        .route("/settings/logo", get(logo::image).post(logo::upload))
        .route("/settings/logo/remove", post(logo::remove))
        .route(
            "/clients/{id}/erase",
            get(rights::erase_form).post(rights::erase_submit),
        )
        .route("/data", get(rights::data))
        .route("/data/import", post(rights::import))
        .route("/clients/{id}/consents", get(consents::page))
        .route("/clients/{id}/portal-link", post(consents::send_link))
        .route(
            "/clients/{id}/consents/{kind}/sign",
            get(consents::chair_form).post(consents::chair_submit),
        )
        .route("/clients/{id}/payments", get(payments::page).post(payments::take))
        .route("/payments/{id}/settle", post(payments::settle))
        .route("/payments/{id}/cancel", post(payments::cancel))
        .route("/payments/{id}/email", post(payments::email))
        .route("/payments/{id}/receipt.pdf", get(payments::receipt_pdf))
        .route("/consents/{id}/pdf", get(consents::pdf))
        .route("/consents/{id}/withdraw", post(consents::withdraw))
        .route("/clients/{id}/messages", get(messages::client_messages))
        .route("/clients/{id}/messages/channel", post(messages::set_channel))
        .route("/messages/failed", get(messages::failed))
        .route("/messages/preview", get(messages::preview))
        .route("/messages/{id}/retry", post(messages::retry))
        .route(
            "/unsubscribe",
            get(messages::unsubscribe_page).post(messages::unsubscribe),
        )
        .route(
            "/static/studio.css",
            get(|| asset("text/css", include_str!("../../static/studio.css"))),
        )
        .route(
            "/static/studio.js",
            get(|| asset("text/javascript", include_str!("../../static/studio.js"))),
        )
        .route(
            "/static/diary.js",
            get(|| asset("text/javascript", include_str!("../../static/diary.js"))),
        )
        .route(
            "/static/capture.js",
            get(|| asset("text/javascript", include_str!("../../static/capture.js"))),
        )
        .route(
            "/static/photo-view.js",
            get(|| asset("text/javascript", include_str!("../../static/photo-view.js"))),
        )
        .route(
            "/static/landmarks.js",
            get(|| asset("text/javascript", include_str!("../../static/landmarks.js"))),
        )
        .route(
            "/static/designer.js",
            get(|| asset("text/javascript", include_str!("../../static/designer.js"))),
        )
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// The signed-in user of a page. Not signed in: a redirect to the sign-in page.
#[derive(Debug, Clone)]
pub struct Page {
    /// Who.
    pub actor: Actor,
    /// Their user record.
    pub user: User,
    token: String,
}

impl FromRequestParts<AppState> for Page {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let to_login = || Redirect::to("/login").into_response();
        let token = cookie(parts, SESSION_COOKIE)
            .filter(|t| !t.is_empty())
            .ok_or_else(to_login)?;
        let now = time::OffsetDateTime::now_utc();
        let PeerAddr(peer) = PeerAddr::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let actor = state
            .store()
            .authenticate(&token, now)
            .await
            .map_err(|_| to_login())?
            .at_address(&peer);
        // A clinic that requires two-factor sign-in: its users set it up before anything else.
        if actor.enrolment_required() && !parts.uri.path().starts_with("/account") {
            return Err(Redirect::to("/account").into_response());
        }
        let user = state
            .store()
            .user(&actor, actor.user_id())
            .await
            .map_err(|e| PageError::from(e).into_response())?;
        Ok(Page { actor, user, token })
    }
}

impl Page {
    /// Checks a form's `_csrf` field.
    pub fn check_csrf(&self, sent: &str) -> Result<(), PageError> {
        if crate::extract::csrf_matches(&self.token, sent) {
            Ok(())
        } else {
            Err(PageError {
                status: StatusCode::FORBIDDEN,
                message: "This form is out of date or did not come from the studio. Go back, reload the page and send it again.".into(),
            })
        }
    }

    /// Whether the user's role allows this.
    pub fn may(&self, action: follicle_store::Action) -> bool {
        self.actor.role().may(action)
    }
}

/// What the layout needs to know about the user.
#[derive(Debug, Clone)]
pub struct Nav {
    /// Their name.
    pub user_name: String,
    /// Their role, in words.
    pub role: &'static str,
    /// The CSRF token (for the sign-out form).
    pub csrf: String,
    /// Which tab is open.
    pub tab: &'static str,
    /// Whether to show clinical tabs (pigments).
    pub clinical: bool,
    /// Whether to show the settings tab.
    pub owner: bool,
}

impl Nav {
    /// The layout's view of a page.
    pub fn new(page: &Page, tab: &'static str) -> Nav {
        Nav {
            user_name: page.user.name.clone(),
            role: match page.user.role {
                follicle_store::Role::Owner => "owner",
                follicle_store::Role::Practitioner => "practitioner",
                follicle_store::Role::FrontDesk => "front desk",
            },
            csrf: csrf_token(&page.token),
            tab,
            clinical: page.may(follicle_store::Action::ViewClinicalRecords),
            owner: page.may(follicle_store::Action::EditSettings),
        }
    }
}

/// A page that could not be shown: a status and a message for a person.
#[derive(Debug)]
pub struct PageError {
    /// The status.
    pub status: StatusCode,
    /// What to tell the user.
    pub message: String,
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> PageError {
        let api = crate::error::ApiError::from(e);
        let message = match api.status {
            StatusCode::NOT_FOUND => "There is no such record in your clinic.".to_owned(),
            StatusCode::FORBIDDEN => format!("Your role does not allow this: {}.", api.detail.message),
            s if s.is_server_error() => {
                "The server failed to answer; nothing was changed. The fault is in the server's log."
                    .to_owned()
            }
            _ => api.detail.message,
        };
        PageError {
            status: api.status,
            message,
        }
    }
}

impl From<crate::error::ApiError> for PageError {
    fn from(e: crate::error::ApiError) -> PageError {
        PageError {
            status: e.status,
            message: match e.detail.field {
                Some(f) => format!("{f}: {}", e.detail.message),
                None => e.detail.message,
            },
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    message: &'a str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let body = ErrorPage {
            status: self.status.as_u16(),
            message: &self.message,
        }
        .render()
        .unwrap_or_else(|_| self.message.clone());
        (self.status, Html(body)).into_response()
    }
}

/// A page's result.
pub type PageResult = Result<Response, PageError>;

/// Renders a template as a page.
pub fn render(t: &impl Template) -> PageResult {
    t.render()
        .map(|html| Html(html).into_response())
        .map_err(|e| PageError::from(crate::error::ApiError::internal(e)))
}

/// Renders a template as a page with a status (a form shown again with its errors: 422).
pub fn render_status(status: StatusCode, t: &impl Template) -> PageResult {
    render(t).map(|r| (status, r).into_response())
}

/// One field's error, for the templates.
#[derive(Debug, Clone, Default)]
pub struct FieldErrors(pub Vec<(String, String)>);

impl FieldErrors {
    /// The error of a field, or "".
    pub fn get(&self, field: &str) -> &str {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map_or("", |(_, m)| m.as_str())
    }

    /// Adds one.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push((field.into(), message.into()));
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The status of a form page: 200, or 422 when it is shown again with mistakes.
    pub fn status(&self) -> StatusCode {
        if self.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    email: String,
    error: String,
    notice: String,
}

#[derive(Debug, Deserialize)]
struct LoginQuery {
    #[serde(default)]
    reset: String,
}

async fn login_page(crate::extract::QueryArgs(q): crate::extract::QueryArgs<LoginQuery>) -> PageResult {
    let notice = if q.reset == "done" {
        "Your new password is set. Sign in with it."
    } else {
        ""
    };
    render(&LoginPage {
        email: String::new(),
        error: String::new(),
        notice: notice.to_owned(),
    })
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

async fn login_submit(
    State(state): State<AppState>,
    PeerAddr(peer): PeerAddr,
    headers: axum::http::HeaderMap,
    axum::Form(form): axum::Form<LoginForm>,
) -> PageResult {
    // Sign-in has no session yet, so no CSRF token: refuse a form posted from another site
    // (which would sign the browser into the other site's account).
    if !same_origin(&headers) {
        return Err(PageError {
            status: StatusCode::FORBIDDEN,
            message: "This sign-in form was sent from another site.".into(),
        });
    }
    let _gate = crate::limits::signins()
        .acquire()
        .await
        .map_err(crate::ApiError::from)?;
    let now = time::OffsetDateTime::now_utc();
    let device = crate::api::auth::device_cookie(&headers);
    match state
        .store()
        .login_from(&form.email, &form.password, &peer, device.as_deref(), now)
        .await
    {
        Err(StoreError::SecondFactorRequired { challenge }) => render(&account::CodePage {
            challenge,
            error: String::new(),
        }),
        Ok(session) => {
            state
                .store()
                .describe_session(session.token.as_str(), &crate::api::account::user_agent(&headers))
                .await?;
            let cookies = crate::api::auth::signed_in_cookies(&state, &session, now, device.as_deref()).await;
            Ok((cookies, Redirect::to("/")).into_response())
        }
        Err(e) => {
            let (status, error) = match e {
                StoreError::RateLimited { retry_after_seconds } => (
                    StatusCode::TOO_MANY_REQUESTS,
                    if retry_after_seconds < 60 {
                        format!("Too many sign-in attempts. Try again in {retry_after_seconds} seconds.")
                    } else {
                        format!(
                            "Too many sign-in attempts. Try again in {} minutes.",
                            (retry_after_seconds + 59) / 60
                        )
                    },
                ),
                StoreError::Busy { retry_after_seconds } => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("The server is busy with sign-ins. Try again in {retry_after_seconds} seconds."),
                ),
                StoreError::Unauthenticated | StoreError::Invalid { .. } => {
                    (StatusCode::UNAUTHORIZED, "Wrong email or password.".to_owned())
                }
                other => return Err(other.into()),
            };
            render_status(
                status,
                &LoginPage {
                    email: form.email,
                    error,
                    notice: String::new(),
                },
            )
        }
    }
}

/// Whether the request's `Origin` (when the browser sends one) is this server's `Host`.
pub(crate) fn same_origin(headers: &axum::http::HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin.split_once("://").is_some_and(|(_, rest)| rest == host)
}

#[derive(Debug, Deserialize)]
pub(super) struct CsrfForm {
    #[serde(default)]
    pub(super) _csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    page: Page,
    axum::Form(form): axum::Form<CsrfForm>,
) -> PageResult {
    page.check_csrf(&form._csrf)?;
    state.store().sign_out(&page.actor, &page.token).await?;
    let cleared = crate::api::auth::session_cookies(&state, "", 0);
    Ok((cleared, Redirect::to("/login")).into_response())
}
