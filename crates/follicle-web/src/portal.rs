//! The client's own pages (`/portal`): signed in with a link sent by email — no password — and
//! kept signed in on that device for the clinic's `portal.remember_days`.
//!
//! - `/portal/sign-in`: a client types their email; every record with that address gets a
//!   sign-in link through the job queue (the same answer whether or not the address is known;
//!   a honeypot field, a per-minute job key and `portal.links_per_day` bound a flood).
//! - `/portal/enter?t=…`: the link's page, with a button: only posting it uses the link (a mail
//!   scanner that opens links does not), once, before it runs out.
//! - `/portal`: the client's plan and quote as issued, visits, today's aftercare and the
//!   pre-care, the ink passport, consents to sign or signed (PDF, withdrawal), messages, and a
//!   download of their record.
//! - `/portal/consents/{kind}`: a consent's text and a signature pad, or the name typed instead
//!   (it must be the name on the client's record); signing keeps the consent with its evidence
//!   and mails the signed PDF.
//! - `/portal/visits/{id}/move`: ask to move a visit (`portal/moves.rs`).
//! - `/portal/photos/{angle}`: photos by angle with the capture guide (`portal/photos.rs`).
//! - `/portal/logo`: the clinic's logo, for the letterhead of the client's pages.
//!
//! Every page takes the client from the portal cookie alone and every read is of that client
//! (see [`follicle_store::PortalClient`]): there is no address of another client's record to try.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use follicle_core::Settings;
use follicle_core::messages::{MessageKind, local};
use follicle_core::settings::ConsentKind;
use follicle_store::{
    AppointmentStatus, LinkState, NewJob, OwnRecord, PortalClient, SignedConsent, SignedIn,
};
use serde::Deserialize;
use serde_json::json;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

mod moves;
mod photos;

use crate::documents::{ConsentWords, clinic_name, consent_for, consent_pdf, when};
use crate::extract::{PeerAddr, cookie, csrf_matches, csrf_token};
use crate::jobs::MESSAGE_JOB;
use crate::state::AppState;
use crate::studio::{PageError, PageResult, render, render_status};

/// The portal's session cookie (its own: a client is never a staff member).
pub const PORTAL_COOKIE: &str = "follicle_portal";

/// The portal's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/portal", get(home))
        .route("/portal/sign-in", get(sign_in_page).post(sign_in_submit))
        .route("/portal/enter", get(enter_page).post(enter_submit))
        .route("/portal/sign-out", post(sign_out))
        .route("/portal/visits/{id}", post(visit_change))
        .route(
            "/portal/visits/{id}/move",
            get(moves::move_page).post(moves::move_submit),
        )
        .route(
            "/portal/photos/{angle}",
            get(photos::capture).post(photos::upload),
        )
        .route("/portal/photos/{id}/image", get(photos::image))
        .route("/portal/logo", get(logo))
        .route("/portal/intake", get(intake_page).post(intake_submit))
        .route("/portal/record.json", get(own_data))
        .route("/portal/plan.pdf", get(plan_pdf))
        .route("/portal/passport.pdf", get(passport_pdf))
        .route("/portal/consents/{kind}", get(consent_page).post(consent_submit))
        .route("/portal/signed/{id}/pdf", get(signed_pdf))
        .route("/portal/receipts/{id}", get(receipt_page))
        .route("/portal/receipts/{id}/pdf", get(receipt_pdf))
        .route("/portal/signed/{id}/withdraw", post(withdraw))
        .route(
            "/static/signature.js",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/javascript"),
                        (header::CACHE_CONTROL, "public, max-age=300"),
                    ],
                    include_str!("../static/signature.js"),
                )
            }),
        )
}

/// The signed-in client of a portal page, with their clinic. Not signed in: to the sign-in page.
#[derive(Debug, Clone)]
pub struct Me {
    client: PortalClient,
    /// The clinic's name as its clients see it.
    clinic: String,
    /// The name the clinic was created with (documents' letterhead falls back to it).
    registered: String,
    settings: Arc<Settings>,
    token: String,
}

impl FromRequestParts<AppState> for Me {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Me, Response> {
        let to_sign_in = || Redirect::to("/portal/sign-in").into_response();
        let token = cookie(parts, PORTAL_COOKIE)
            .filter(|t| !t.is_empty())
            .ok_or_else(to_sign_in)?;
        let client = state
            .store()
            .portal_client(&token)
            .await
            .map_err(|e| PageError::from(e).into_response())?
            .ok_or_else(to_sign_in)?;
        let (registered, settings) = state
            .clinic_for_clients(client.clinic_id)
            .await
            .map_err(|e| PageError::from(e).into_response())?;
        Ok(Me {
            clinic: clinic_name(&settings, &registered),
            registered,
            client,
            settings,
            token,
        })
    }
}

impl Me {
    fn csrf(&self) -> String {
        csrf_token(&self.token)
    }

    fn check(&self, sent: &str) -> Result<(), PageError> {
        if csrf_matches(&self.token, sent) {
            Ok(())
        } else {
            Err(PageError {
                status: StatusCode::FORBIDDEN,
                message: "This form is out of date. Go back, reload the page and send it again.".into(),
            })
        }
    }
}

fn portal_cookie(state: &AppState, token: &str, max_age: i64) -> HeaderMap {
    let secure = if state.config().server.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let mut headers = HeaderMap::new();
    let value = format!(
        "{PORTAL_COOKIE}={token}; Path=/portal; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
        max_age.max(0)
    );
    if let Ok(v) = HeaderValue::from_str(&value) {
        headers.append(header::SET_COOKIE, v);
    }
    headers
}

/// Queues a sign-in link to a client (at most one job a client a minute; the worker makes the
/// link when it sends, within `portal.links_per_day`).
pub async fn queue_link(state: &AppState, clinic_id: Uuid, client_id: Uuid) -> Result<(), PageError> {
    let now = OffsetDateTime::now_utc();
    let job = NewJob {
        kind: MESSAGE_JOB.to_owned(),
        dedupe_key: format!("portal:{client_id}:{}", now.unix_timestamp() / 60),
        client_id: Some(client_id),
        payload: json!({ "kind": MessageKind::PortalLink.as_str() }),
        run_at: now,
        max_attempts: 3,
    };
    state.store().enqueue_jobs(clinic_id, &[job]).await?;
    Ok(())
}

/// Queues the mail of a signed consent's PDF to the client.
pub async fn queue_copy(
    state: &AppState,
    clinic_id: Uuid,
    client_id: Uuid,
    consent_id: Uuid,
    settings: &Settings,
) -> Result<(), PageError> {
    let job = NewJob {
        kind: MESSAGE_JOB.to_owned(),
        dedupe_key: format!("consent:{consent_id}"),
        client_id: Some(client_id),
        payload: json!({ "kind": MessageKind::SignedConsent.as_str(), "consent_id": consent_id }),
        run_at: OffsetDateTime::now_utc(),
        max_attempts: i64::from(settings.messages.max_attempts),
    };
    state.store().enqueue_jobs(clinic_id, &[job]).await?;
    Ok(())
}

// ----- signing in -----

#[derive(Template)]
#[template(path = "portal_sign_in.html")]
struct SignInPage {
    sent: bool,
    error: String,
    email: String,
}

async fn sign_in_page() -> PageResult {
    render(&SignInPage {
        sent: false,
        error: String::new(),
        email: String::new(),
    })
}

#[derive(Debug, Deserialize)]
struct SignInForm {
    #[serde(default)]
    email: String,
    /// A field people do not see (hidden by the style sheet): a bot that fills it is ignored.
    #[serde(default)]
    website: String,
}

async fn sign_in_submit(State(state): State<AppState>, Form(form): Form<SignInForm>) -> PageResult {
    let email = form.email.trim().to_owned();
    let looks_right = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(a, b)| !a.is_empty() && b.contains('.') && !b.contains('@'));
    if !looks_right {
        return render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SignInPage {
                sent: false,
                error: format!(
                    "{email:?} is not an email address; type the one the clinic has for you, like name@example.com."
                ),
                email,
            },
        );
    }
    if form.website.is_empty() {
        for (clinic_id, client_id) in state.store().clients_with_email(&email).await? {
            queue_link(&state, clinic_id, client_id).await?;
        }
    }
    // The same answer whether or not the address is known.
    render(&SignInPage {
        sent: true,
        error: String::new(),
        email,
    })
}

#[derive(Template)]
#[template(path = "portal_enter.html")]
struct EnterPage {
    token: String,
    clinic: String,
    name: String,
    problem: String,
}

#[derive(Debug, Deserialize)]
struct EnterQuery {
    #[serde(default)]
    t: String,
}

fn link_problem(state: &LinkState) -> &'static str {
    match state {
        LinkState::Valid(_) => "",
        LinkState::Used => "This link was used already: each link works once. Ask for a new one below.",
        LinkState::Expired => "This link has run out. Ask for a new one below; it works for a short while.",
        LinkState::Unknown => {
            "This link is not valid (it may be incomplete: copy the whole link from the email). Ask for a new one below."
        }
    }
}

async fn enter_page(State(state): State<AppState>, Query(q): Query<EnterQuery>) -> PageResult {
    let link = state.store().portal_link(&q.t).await?;
    match link {
        LinkState::Valid(client) => {
            let (registered, settings) = state.clinic_for_clients(client.clinic_id).await?;
            render(&EnterPage {
                token: q.t,
                clinic: clinic_name(&settings, &registered),
                name: client.name,
                problem: String::new(),
            })
        }
        other => render_status(
            StatusCode::GONE,
            &EnterPage {
                token: String::new(),
                clinic: String::new(),
                name: String::new(),
                problem: link_problem(&other).to_owned(),
            },
        ),
    }
}

async fn enter_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(q): Form<EnterQuery>,
) -> Result<Response, PageError> {
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let client = match state.store().portal_link(&q.t).await? {
        LinkState::Valid(client) => client,
        other => {
            return render_status(
                StatusCode::GONE,
                &EnterPage {
                    token: String::new(),
                    clinic: String::new(),
                    name: String::new(),
                    problem: link_problem(&other).to_owned(),
                },
            );
        }
    };
    let (_, settings) = state.clinic_for_clients(client.clinic_id).await?;
    let remember = Duration::days(i64::from(settings.portal.remember_days));
    match state.store().redeem_portal_link(&q.t, remember, agent).await? {
        Ok(session) => {
            let age = (session.expires_at - OffsetDateTime::now_utc()).whole_seconds();
            Ok((
                portal_cookie(&state, session.token.as_str(), age),
                Redirect::to("/portal"),
            )
                .into_response())
        }
        Err(other) => render_status(
            StatusCode::GONE,
            &EnterPage {
                token: String::new(),
                clinic: String::new(),
                name: String::new(),
                problem: link_problem(&other).to_owned(),
            },
        ),
    }
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    reason: String,
}

async fn sign_out(
    State(state): State<AppState>,
    me: Me,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    me.check(&form._csrf)?;
    state.store().end_portal_session(&me.token).await?;
    Ok((portal_cookie(&state, "", 0), Redirect::to("/portal/sign-in")).into_response())
}

// ----- the client's pages -----

/// A visit as the client reads it, with what they may do.
struct Visit {
    id: String,
    when: String,
    length: String,
    status: String,
    may_confirm: bool,
    may_cancel: bool,
    may_move: bool,
    /// "You asked to move it on …", while the clinic has not answered.
    move_asked: String,
}

/// A consent the client can sign, or has signed.
struct ConsentRow {
    title: String,
    state: String,
    sign_link: String,
    pdf_link: String,
    withdraw_id: String,
}

#[derive(Template)]
#[template(path = "portal_home.html")]
struct HomePage {
    clinic: String,
    name: String,
    csrf: String,
    notice: String,
    cancel_hours: u32,
    visits: Vec<Visit>,
    plan: Vec<(String, String)>,
    sessions: Vec<(String, String, String)>,
    quote: Vec<(String, String)>,
    aftercare_today: Vec<String>,
    precare: Vec<String>,
    passport: Vec<(String, String, String, String, String)>,
    consents: Vec<ConsentRow>,
    messages: Vec<(String, String)>,
    /// Each angle: (path word, words, how many photos of it).
    photos: Vec<(&'static str, &'static str, usize)>,
    /// Whether a photographs consent stands (photos can be sent).
    photos_consented: bool,
    /// Whether the clinic has a logo (shown on the letterhead of the page).
    logo: bool,
    /// Payments: (when, what, amount, state, payment id with a receipt or "", receipt label).
    payments: Vec<(String, String, String, &'static str, String, String)>,
}

#[derive(Debug, Deserialize)]
struct HomeQuery {
    #[serde(default)]
    done: String,
}

fn money(currency: &str, amount: i64) -> String {
    crate::wire::money(currency, amount)
}

fn day(d: time::Date) -> String {
    format!("{} {} {} {}", d.weekday(), d.day(), d.month(), d.year())
}

async fn home(State(state): State<AppState>, me: Me, Query(q): Query<HomeQuery>) -> PageResult {
    let record = state.store().own_record(&me.client).await?;
    let consents = state.store().own_consents(&me.client).await?;
    let asked_to_move = state.store().own_move_requests(&me.client).await?;
    let now = OffsetDateTime::now_utc();
    let settings = &me.settings;
    // The diary keeps the clinic's wall clock: now, on that clock.
    let diary_now = diary_clock(settings, now);
    let notice = Duration::hours(i64::from(settings.pricing.cancellation_hours));
    let visits = record
        .appointments
        .iter()
        .filter(|a| a.starts_at + Duration::minutes(a.duration_minutes) > now - Duration::days(1))
        .map(|a| Visit {
            id: a.id.to_string(),
            may_confirm: a.status == AppointmentStatus::Booked && a.starts_at > diary_now,
            may_cancel: matches!(a.status, AppointmentStatus::Booked | AppointmentStatus::Confirmed)
                && a.starts_at - diary_now >= notice,
            may_move: moves::may_move(a, diary_now),
            move_asked: asked_to_move
                .iter()
                .find(|m| m.appointment_id == a.id)
                .map(moves::asked_words)
                .unwrap_or_default(),
            when: format!(
                "{} at {:02}:{:02}",
                day(a.starts_at.date()),
                a.starts_at.hour(),
                a.starts_at.minute()
            ),
            length: format!("{} min", a.duration_minutes),
            status: a.status.to_string().replace('_', " "),
        })
        .collect();
    let design = record.designs.last();
    let plan_record = design
        .and_then(|d| d.plan.as_ref())
        .or_else(|| record.consultations.last().map(|c| &c.plan));
    let quote_number = design
        .and_then(|d| d.quote_number)
        .or_else(|| record.consultations.last().and_then(|c| c.quote_number));
    let mut plan = Vec::new();
    let mut sessions = Vec::new();
    let mut quote = Vec::new();
    let mut precare = Vec::new();
    let mut aftercare_today = Vec::new();
    if let Some(p) = plan_record {
        plan.push(("Sessions".to_owned(), p.sessions.len().to_string()));
        plan.push((
            "Time in the chair".to_owned(),
            format!("about {:.0} hours in all", p.total_hours),
        ));
        sessions = p
            .sessions
            .iter()
            .map(|s| {
                (
                    format!("Session {}", s.index),
                    s.date.map_or_else(|| "date to be agreed".to_owned(), day),
                    format!("about {:.1} hours", s.duration_hours),
                )
            })
            .collect();
        if let Some(qr) = &p.quote {
            if let Some(n) = quote_number {
                quote.push(("Quote".to_owned(), crate::wire::quote_label(n)));
            }
            quote.push(("Issued".to_owned(), day(qr.issued_on)));
            quote.push(("Valid until".to_owned(), day(qr.valid_until)));
            for line in &qr.lines {
                quote.push((
                    format!("Session {}", line.session),
                    money(&qr.currency, line.amount),
                ));
            }
            quote.push(("Total".to_owned(), money(&qr.currency, qr.total)));
            if let Some(d) = qr.deposit {
                quote.push(("Deposit to book".to_owned(), money(&qr.currency, d)));
            }
            quote.push((
                "Cancellation".to_owned(),
                format!("free until {} hours before a visit", qr.cancellation_hours),
            ));
        }
        precare = p
            .precare
            .iter()
            .map(|x| format!("{}: {}", crate::documents::precare_when(x.hours_before), x.text))
            .collect();
        // Today's aftercare, counted from the latest session.
        if let Some(last) = record.sessions.last() {
            let today = local(settings, now).date();
            let days = (today - last.performed_on).whole_days();
            if (0..=60).contains(&days) {
                let days = u32::try_from(days).unwrap_or(0);
                aftercare_today = p
                    .aftercare
                    .iter()
                    .filter(|a| a.from_day <= days && days <= a.to_day)
                    .map(|a| a.text.clone())
                    .collect();
                if !aftercare_today.is_empty() {
                    aftercare_today.insert(
                        0,
                        format!("Day {days} after your session on {}:", day(last.performed_on)),
                    );
                }
            }
        }
    }
    let passport = record
        .passport
        .iter()
        .map(|i| {
            (
                day(i.performed_on),
                format!("{} ({})", i.product, i.maker),
                format!("lot {}, use by {}", i.lot, day(i.expires_on)),
                i.ingredients.clone(),
                format!("{}, lot {}", i.needle, i.needle_lot),
            )
        })
        .collect();
    let photos_consented = consents
        .iter()
        .any(|c| c.signed.kind == ConsentKind::Photos && c.stands());
    let photos = photos::ANGLES
        .iter()
        .map(|(a, words)| {
            (
                a.as_str(),
                *words,
                record.photos.iter().filter(|p| p.angle == *a).count(),
            )
        })
        .collect();
    let consents = consent_rows(&consents);
    let messages = record
        .messages
        .iter()
        .take(20)
        .map(|m| {
            // An email by its subject; a text (which has none) by its words.
            let what = match (m.channel.as_str(), m.kind.as_str()) {
                (_, "sms_stop" | "sms_start") => format!("Your reply by text: {}", m.body),
                ("sms", _) => format!("Text message: {}", m.body),
                _ => m.subject.clone(),
            };
            (when(settings, m.sent_at), what)
        })
        .collect();
    render(&HomePage {
        clinic: me.clinic.clone(),
        name: me.client.name.clone(),
        csrf: me.csrf(),
        notice: match q.done.as_str() {
            "signed" => "Signed. A copy is on its way to your email.".to_owned(),
            "withdrawn" => "Withdrawn. The clinic sees it at once.".to_owned(),
            "confirmed" => "Thank you: your visit is confirmed.".to_owned(),
            "intake" => "Thank you: your answers are with the clinic.".to_owned(),
            "move" => {
                "Your request to move the visit is with the clinic; it stays booked until they move it."
                    .to_owned()
            }
            "cancelled" => {
                "Your visit is cancelled. The clinic sees it at once; call them to book another.".to_owned()
            }
            _ => String::new(),
        },
        cancel_hours: me.settings.pricing.cancellation_hours,
        visits,
        plan,
        sessions,
        quote,
        aftercare_today,
        precare,
        passport,
        consents,
        messages,
        photos,
        photos_consented,
        logo: state.store().clinic_logo_of(me.client.clinic_id).await?.is_some(),
        payments: state
            .store()
            .own_payments(&me.client)
            .await?
            .into_iter()
            .map(|p| {
                let at = local(settings, p.paid_at.unwrap_or(p.recorded_at));
                let refund = p.kind == follicle_store::PaymentKind::Refund;
                (
                    format!("{} {} {}", at.day(), at.month(), at.year()),
                    crate::documents::payment_words(p.kind).to_owned(),
                    crate::documents::money_minor(&p.currency, if refund { -p.amount } else { p.amount }),
                    match p.state() {
                        follicle_store::PaymentState::Paid if refund => "refunded",
                        follicle_store::PaymentState::Paid => "paid",
                        _ => "to pay",
                    },
                    if p.receipt.is_some() {
                        p.id.to_string()
                    } else {
                        String::new()
                    },
                    p.receipt
                        .as_ref()
                        .map(|r| follicle_store::receipt_label(r.number))
                        .unwrap_or_default(),
                )
            })
            .collect(),
    })
}

/// The logo of the signed-in client's clinic, for the letterhead of their pages (not found when
/// the clinic has none).
async fn logo(State(state): State<AppState>, me: Me) -> Result<Response, PageError> {
    let Some(logo) = state.store().clinic_logo_of(me.client.clinic_id).await? else {
        return Err(PageError {
            status: StatusCode::NOT_FOUND,
            message: "The clinic has no logo.".into(),
        });
    };
    Ok((
        [
            (header::CONTENT_TYPE, logo.content_type),
            (header::CACHE_CONTROL, "private, max-age=300".to_owned()),
        ],
        logo.bytes,
    )
        .into_response())
}

/// A path's id among the client's own records: anything else is not found, in words.
fn own_id(id: &str, what: &str) -> Result<Uuid, PageError> {
    id.parse().map_err(|_| PageError {
        status: StatusCode::NOT_FOUND,
        message: format!("There is no such {what} among yours."),
    })
}

/// A moment on the diary's clock (the clinic's wall clock, kept as if UTC).
fn diary_clock(settings: &Settings, at: OffsetDateTime) -> OffsetDateTime {
    local(settings, at).replace_offset(time::UtcOffset::UTC)
}

#[derive(Debug, Deserialize)]
struct VisitForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    to: String,
}

/// The client confirms a visit, or cancels it within the clinic's cancellation window.
async fn visit_change(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
    Form(form): Form<VisitForm>,
) -> Result<Response, PageError> {
    me.check(&form._csrf)?;
    let id = own_id(&id, "visit")?;
    let to = match form.to.as_str() {
        "confirmed" => AppointmentStatus::Confirmed,
        "cancelled" => AppointmentStatus::Cancelled,
        other => {
            return Err(PageError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                message: format!("A visit can be confirmed or cancelled here, not {other:?}."),
            });
        }
    };
    let notice = Duration::hours(i64::from(me.settings.pricing.cancellation_hours));
    let now = diary_clock(&me.settings, OffsetDateTime::now_utc());
    state
        .store()
        .change_own_visit(&me.client, id, to, now, notice)
        .await?;
    Ok(Redirect::to(&format!("/portal?done={}", to.as_str())).into_response())
}

fn consent_rows(signed: &[SignedConsent]) -> Vec<ConsentRow> {
    ConsentKind::ALL
        .iter()
        .map(|&kind| {
            let standing = signed.iter().find(|c| c.signed.kind == kind && c.stands());
            match standing {
                Some(c) => ConsentRow {
                    title: kind.label().to_owned(),
                    state: format!("signed ({})", c.signed.template_version),
                    sign_link: String::new(),
                    pdf_link: format!("/portal/signed/{}/pdf", c.id),
                    withdraw_id: c.id.to_string(),
                },
                None => ConsentRow {
                    title: kind.label().to_owned(),
                    state: if signed.iter().any(|c| c.signed.kind == kind) {
                        "withdrawn".to_owned()
                    } else {
                        "not signed".to_owned()
                    },
                    sign_link: format!("/portal/consents/{}", kind.as_str()),
                    pdf_link: String::new(),
                    withdraw_id: String::new(),
                },
            }
        })
        .collect()
}

async fn own_data(State(state): State<AppState>, me: Me) -> Result<Response, PageError> {
    #[derive(serde::Serialize)]
    struct Download {
        record: OwnRecord,
        consents: Vec<SignedConsent>,
    }
    let download = Download {
        record: state.store().own_record(&me.client).await?,
        consents: state.store().own_consents(&me.client).await?,
    };
    let body = serde_json::to_vec_pretty(&download)
        .map_err(|e| PageError::from(crate::error::ApiError::internal(e)))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"my-record.json\"".to_owned(),
            ),
        ],
        body,
    )
        .into_response())
}

/// A PDF, shown in the browser, saved under `name`.
pub(crate) fn pdf_answer(name: &str, pdf: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}\""),
            ),
        ],
        pdf,
    )
        .into_response()
}

/// The plan and quote as issued, as a PDF.
async fn plan_pdf(State(state): State<AppState>, me: Me) -> Result<Response, PageError> {
    let record = state.store().own_record(&me.client).await?;
    let design = record.designs.last();
    let (plan, number) = match (design.and_then(|d| d.plan.as_ref()), record.consultations.last()) {
        (Some(plan), _) => (plan, design.and_then(|d| d.quote_number)),
        (None, Some(c)) => (&c.plan, c.quote_number),
        (None, None) => {
            return Err(PageError {
                status: StatusCode::NOT_FOUND,
                message: "Your plan appears here after your consultation.".into(),
            });
        }
    };
    let mut doc =
        crate::documents::plan_document(&me.settings, &me.registered, &me.client.name, plan, number);
    doc.letterhead.logo = crate::documents::logo_of(state.store(), me.client.clinic_id).await?;
    let pdf = follicle_docs::pdf(&doc).map_err(|e| PageError::from(crate::error::ApiError::internal(e)))?;
    Ok(pdf_answer("plan-and-quote.pdf", pdf))
}

/// The ink passport, as a PDF.
async fn passport_pdf(State(state): State<AppState>, me: Me) -> Result<Response, PageError> {
    let record = state.store().own_record(&me.client).await?;
    let mut doc =
        crate::documents::passport_document(&me.settings, &me.registered, &me.client.name, &record.passport);
    doc.letterhead.logo = crate::documents::logo_of(state.store(), me.client.clinic_id).await?;
    let pdf = follicle_docs::pdf(&doc).map_err(|e| PageError::from(crate::error::ApiError::internal(e)))?;
    Ok(pdf_answer("ink-passport.pdf", pdf))
}

// ----- the intake -----

#[derive(Template)]
#[template(path = "portal_intake.html")]
struct IntakePage {
    clinic: String,
    csrf: String,
    sent: String,
    error: String,
    conditions: Vec<(String, String, bool)>,
    medications: Vec<(String, String, bool)>,
    allergies: String,
    notes: String,
}

/// A vocabulary word as a client reads it: `blood_thinners` → `Blood thinners`.
fn words(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn intake_page_for(
    me: &Me,
    answers: &follicle_store::IntakeAnswers,
    sent: String,
    error: String,
) -> IntakePage {
    let e = &me.settings.eligibility;
    let choice = |known: &[String], given: &[String]| {
        known
            .iter()
            .map(|k| (k.clone(), words(k), given.contains(k)))
            .collect::<Vec<_>>()
    };
    IntakePage {
        clinic: me.clinic.clone(),
        csrf: me.csrf(),
        sent,
        error,
        conditions: choice(&e.known_conditions, &answers.conditions),
        medications: choice(&e.known_medications, &answers.medications),
        allergies: answers.allergies.clone(),
        notes: answers.notes.clone(),
    }
}

async fn intake_page(State(state): State<AppState>, me: Me) -> PageResult {
    let last = state.store().own_intake(&me.client).await?;
    let (answers, sent) = match last {
        Some(i) => (i.answers, when(&me.settings, i.submitted_at)),
        None => (Default::default(), String::new()),
    };
    render(&intake_page_for(&me, &answers, sent, String::new()))
}

async fn intake_submit(
    State(state): State<AppState>,
    me: Me,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).map_err(|_| PageError {
        status: StatusCode::BAD_REQUEST,
        message: "The form did not come through; reload the page and send it again.".into(),
    })?;
    let one = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let all = |name: &str| {
        pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
    };
    me.check(&one("_csrf"))?;
    let answers = follicle_store::IntakeAnswers {
        conditions: all("conditions"),
        medications: all("medications"),
        allergies: one("allergies"),
        notes: one("notes"),
    };
    let e = &me.settings.eligibility;
    match state
        .store()
        .submit_own_intake(&me.client, &answers, &e.known_conditions, &e.known_medications)
        .await
    {
        Ok(_) => Ok(Redirect::to("/portal?done=intake").into_response()),
        Err(follicle_store::StoreError::Invalid { field, message }) => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &intake_page_for(&me, &answers, String::new(), format!("{field}: {message}")),
        ),
        Err(e) => Err(e.into()),
    }
}

// ----- consents -----

/// A consent to read and sign, in the client's pages or on the clinic's device at the chair.
#[derive(Template)]
#[template(path = "portal_consent.html")]
pub(crate) struct ConsentPage {
    pub(crate) clinic: String,
    pub(crate) csrf: String,
    pub(crate) action: String,
    pub(crate) back: String,
    pub(crate) back_words: String,
    pub(crate) title: String,
    pub(crate) paragraphs: Vec<String>,
    pub(crate) version: String,
    pub(crate) name: String,
    /// The signer chose to type their name instead of drawing.
    pub(crate) typed: bool,
    pub(crate) error: String,
}

async fn words_for(state: &AppState, me: &Me, kind: &str) -> Result<ConsentWords, PageError> {
    let Some(kind) = ConsentKind::parse(kind) else {
        return Err(PageError {
            status: StatusCode::NOT_FOUND,
            message: "There is no such consent.".into(),
        });
    };
    let design = state.store().own_latest_design(&me.client).await?;
    consent_for(&me.settings, &me.clinic, &me.client.name, kind, design.as_ref()).map_err(|message| {
        PageError {
            status: StatusCode::CONFLICT,
            message,
        }
    })
}

pub(crate) fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

async fn consent_page(State(state): State<AppState>, me: Me, Path(kind): Path<String>) -> PageResult {
    let words = words_for(&state, &me, &kind).await?;
    render(&ConsentPage {
        clinic: me.clinic.clone(),
        csrf: me.csrf(),
        action: format!("/portal/consents/{}", words.kind.as_str()),
        back: "/portal".to_owned(),
        back_words: format!("Your pages at {}", me.clinic),
        title: words.title,
        paragraphs: paragraphs(&words.text),
        version: words.version,
        name: me.client.name.clone(),
        typed: false,
        error: String::new(),
    })
}

/// A consent form as sent, in the client's pages or at the chair.
#[derive(Debug, Deserialize)]
pub(crate) struct SignForm {
    #[serde(default)]
    pub(crate) _csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    signature: String,
    #[serde(default)]
    agree: String,
    /// `typed`: the name typed is the signature (for a person who cannot draw with a
    /// pointer); anything else: the drawn strokes are.
    #[serde(default)]
    method: String,
}

impl SignForm {
    /// The name typed, to show the form again.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Whether the signer chose to sign by typing their name.
    pub(crate) fn is_typed(&self) -> bool {
        self.method == "typed"
    }
}

/// Who signs: the refusals are worded for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signer {
    /// The client, in their own pages.
    Client,
    /// The client at the chair, the staff member beside them.
    AtChair,
}

/// Where a consent is signed and what goes into its record of signing.
#[derive(Debug)]
pub(crate) struct Signing<'a> {
    pub(crate) signer: Signer,
    pub(crate) clinic_id: Uuid,
    pub(crate) client_id: Uuid,
    /// The client's name as on their record (a typed signature must match it).
    pub(crate) client_name: &'a str,
    pub(crate) settings: &'a Settings,
    pub(crate) registered: &'a str,
    pub(crate) peer: &'a str,
    pub(crate) headers: &'a HeaderMap,
    /// The staff member present, at the chair.
    pub(crate) witness: Option<&'a str>,
    /// The clinic's logo for the signed copy's letterhead.
    pub(crate) logo: Option<follicle_docs::Logo>,
}

/// A consent form checked and made into the consent as signed with its PDF, or the refusal in
/// the signer's words (the box not ticked, no signature, no name), before anything is kept.
pub(crate) fn signed_from_form(
    words: &ConsentWords,
    form: &SignForm,
    at: &Signing<'_>,
) -> Result<Result<(follicle_store::NewSignedConsent, Vec<u8>), String>, PageError> {
    let chair = at.signer == Signer::AtChair;
    if form.agree != "yes" {
        return Ok(Err(if chair {
            "The client ticks the box to say they have read the text and agree to it."
        } else {
            "Tick the box to say you have read the text and agree to it."
        }
        .to_owned()));
    }
    let agent = at
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let place = if chair { SignedIn::Chair } else { SignedIn::Portal };
    if form.name.trim().is_empty() {
        return Ok(Err(if chair {
            "Type the client's full name as they sign."
        } else {
            "Type your full name as you sign."
        }
        .to_owned()));
    }
    // Typed: the name is the signature, and it must be the name on the client's record (case
    // and spacing do not matter); the strokes of the pad, if any, are not kept.
    let signature = if form.is_typed() {
        if !follicle_store::same_name(&form.name, at.client_name) {
            return Ok(Err(if chair {
                format!(
                    "The name typed, “{}”, is not the client's name on their record (“{}”). Type it as it is \
                     there (capitals and spaces do not matter), or draw the signature instead.",
                    form.name.trim(),
                    at.client_name
                )
            } else {
                format!(
                    "The name typed, “{}”, is not your name as the clinic has it (“{}”). Type it as it is \
                     there (capitals and spaces do not matter), or draw your signature instead; if the clinic \
                     has your name wrong, ask them to correct it.",
                    form.name.trim(),
                    at.client_name
                )
            }));
        }
        follicle_store::typed_signature(&form.name)
    } else {
        form.signature.clone()
    };
    let signed = words.signed(at.client_id, &form.name, &signature, place, at.peer, agent);
    if let Err(e) = follicle_store::read_signature(&signed.signature) {
        return Ok(Err(PageError::from(e).message));
    }
    let pdf = consent_pdf(
        at.settings,
        at.registered,
        at.clinic_id,
        &signed,
        at.witness,
        at.logo.clone(),
    )
    .map_err(|e| PageError::from(crate::error::ApiError::internal(e)))?;
    Ok(Ok((signed, pdf)))
}

async fn consent_submit(
    State(state): State<AppState>,
    me: Me,
    Path(kind): Path<String>,
    PeerAddr(peer): PeerAddr,
    headers: HeaderMap,
    Form(form): Form<SignForm>,
) -> Result<Response, PageError> {
    me.check(&form._csrf)?;
    let words = words_for(&state, &me, &kind).await?;
    let again = |error: String| {
        render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ConsentPage {
                clinic: me.clinic.clone(),
                csrf: me.csrf(),
                action: format!("/portal/consents/{}", words.kind.as_str()),
                back: "/portal".to_owned(),
                back_words: format!("Your pages at {}", me.clinic),
                title: words.title.clone(),
                paragraphs: paragraphs(&words.text),
                version: words.version.clone(),
                name: form.name.clone(),
                typed: form.is_typed(),
                error,
            },
        )
    };
    let signing = Signing {
        signer: Signer::Client,
        clinic_id: me.client.clinic_id,
        client_id: me.client.client_id,
        client_name: &me.client.name,
        settings: &me.settings,
        registered: &me.registered,
        peer: &peer,
        headers: &headers,
        witness: None,
        logo: crate::documents::logo_of(state.store(), me.client.clinic_id).await?,
    };
    let (signed, pdf) = match signed_from_form(&words, &form, &signing)? {
        Ok(signed) => signed,
        Err(refusal) => return again(refusal),
    };
    let kept = match state.store().sign_own_consent(&me.client, &signed, &pdf).await {
        Ok(kept) => kept,
        Err(follicle_store::StoreError::Invalid { message, .. }) => return again(message),
        Err(e) => return Err(e.into()),
    };
    queue_copy(
        &state,
        me.client.clinic_id,
        me.client.client_id,
        kept.id,
        &me.settings,
    )
    .await?;
    Ok(Redirect::to("/portal?done=signed").into_response())
}

#[derive(Template)]
#[template(path = "portal_receipt.html")]
struct ReceiptPage {
    clinic: String,
    title: String,
    id: Uuid,
    document: String,
}

/// One of the client's receipts, as a page: the same words as its PDF.
async fn receipt_page(State(state): State<AppState>, me: Me, Path(id): Path<String>) -> PageResult {
    let id = own_id(&id, "receipt")?;
    let (receipt, _) = state.store().own_receipt(&me.client, id).await?;
    let mut doc = crate::documents::receipt_document(&receipt, local(&me.settings, receipt.issued_at));
    doc.letterhead.logo = crate::documents::logo_of(state.store(), me.client.clinic_id).await?;
    render(&ReceiptPage {
        clinic: me.clinic.clone(),
        title: doc.title.clone(),
        id,
        document: follicle_docs::html(&doc),
    })
}

/// One of the client's receipts as handed over (the PDF kept byte for byte).
async fn receipt_pdf(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = own_id(&id, "receipt")?;
    let (receipt, pdf) = state.store().own_receipt(&me.client, id).await?;
    Ok(pdf_answer(
        &format!("receipt-{}.pdf", follicle_store::receipt_label(receipt.number)),
        pdf,
    ))
}

async fn signed_pdf(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = own_id(&id, "document")?;
    let (consent, pdf) = state.store().own_consent(&me.client, id).await?;
    Ok(pdf_answer(
        &format!("consent-{}.pdf", consent.signed.kind.as_str()),
        pdf,
    ))
}

async fn withdraw(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    me.check(&form._csrf)?;
    let id = own_id(&id, "consent")?;
    state
        .store()
        .withdraw_own_consent(&me.client, id, &form.reason)
        .await?;
    Ok(Redirect::to("/portal?done=withdrawn").into_response())
}
