//! The inbox of booking requests from the clinic's public estimator (issue 15): who asked,
//! what they answered, the estimate they saw, their photo if they sent it; one click makes
//! them a client (and sends them the link to their own pages), another declines. The page
//! also gives the estimator's address and the code to show it on the clinic's own website.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use follicle_store::{Action, BookingRequest, NewPhoto, PhotoAngle, RequestStatus, StoreError};
use serde::Deserialize;

use super::{CsrfForm, Nav, Page, PageError, PageResult, render};
use crate::estimate::{answer_lines, request_lines};
use crate::extract::Id;
use crate::state::AppState;

/// A request as the inbox shows it.
struct Shown {
    id: String,
    when: String,
    name: String,
    email: String,
    phone: String,
    contact_by: &'static str,
    message: String,
    answers: Vec<(String, String)>,
    estimate: Vec<(String, String)>,
    has_photo: bool,
    status: &'static str,
    client: String,
}

fn shown(r: BookingRequest) -> Shown {
    let at = r.created_at;
    Shown {
        id: r.id.to_string(),
        when: format!(
            "{} {} {} {:02}:{:02} UTC",
            at.day(),
            at.month(),
            at.year(),
            at.hour(),
            at.minute()
        ),
        name: r.name,
        email: r.email,
        phone: r.phone,
        contact_by: if r.contact_by == "phone" {
            "by phone"
        } else {
            "by email"
        },
        message: r.message,
        answers: answer_lines(&r.answers),
        estimate: request_lines(&r.estimate),
        has_photo: r.has_photo,
        status: match r.status {
            RequestStatus::New => "new",
            RequestStatus::Accepted => "made a client",
            RequestStatus::Declined => "declined",
        },
        client: r.client_id.map(|c| c.to_string()).unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "requests.html")]
struct InboxPage {
    nav: Nav,
    requests: Vec<Shown>,
    all: bool,
    refused_today: i64,
    per_day: u32,
    address: String,
    embed: String,
    done: String,
    may_edit: bool,
}

#[derive(Debug, Deserialize)]
pub(super) struct InboxQuery {
    #[serde(default)]
    all: String,
    #[serde(default)]
    done: String,
}

/// The inbox.
pub(super) async fn inbox(
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<InboxQuery>,
) -> PageResult {
    let all = !q.all.is_empty();
    let requests = state.store().booking_requests(&page.actor, all).await?;
    let settings = state.clinic_settings(&page.actor).await?;
    let address = format!(
        "{}/estimate/{}",
        state.config().mail.public_url.trim_end_matches('/'),
        page.actor.clinic_id()
    );
    render(&InboxPage {
        nav: Nav::new(&page, "requests"),
        requests: requests.into_iter().map(shown).collect(),
        all,
        refused_today: state.store().refused_requests_today(&page.actor).await?,
        per_day: settings.estimator.requests_per_day,
        embed: format!(
            "<iframe src=\"{address}\" title=\"What would SMP mean for you?\" style=\"width:100%;min-height:1400px;border:0\"></iframe>"
        ),
        address,
        done: match q.done.as_str() {
            "declined" => "The request was declined. It is deleted with the others after the days your settings keep them.".into(),
            _ => String::new(),
        },
        may_edit: page.may(Action::EditClients),
    })
}

/// The photo sent with a request.
pub(super) async fn photo(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
) -> Result<Response, PageError> {
    let bytes = state
        .store()
        .booking_request_photo(&page.actor, id)
        .await?
        .ok_or(PageError {
        status: StatusCode::NOT_FOUND,
        message:
            "This request has no photo (any sent is kept with the client's photos once they are a client)."
                .into(),
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        bytes,
    )
        .into_response())
}

/// Makes the person of a request a client: the client record, their photo (when one came
/// and the user may add clinical records), and the link to their own pages by email.
pub(super) async fn accept(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    page.check_csrf(&form._csrf)?;
    let (client, request) = state.store().accept_booking_request(&page.actor, id).await?;
    if request.has_photo
        && page.may(Action::EditClinicalRecords)
        && let Some(bytes) = state.store().booking_request_photo(&page.actor, id).await?
    {
        let photo = NewPhoto {
            client_id: client.id,
            angle: PhotoAngle::Front,
            taken_at: request.created_at,
            session_id: None,
            consent_id: None,
            consultation_id: None,
            // They ticked the box to send it for their consultation.
            consented: true,
        };
        match state.store().upload_photo(&page.actor, &photo, &bytes).await {
            Ok(_) => state.store().drop_booking_photo(&page.actor, id).await?,
            Err(StoreError::Invalid { .. } | StoreError::Photo(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if !client.email.trim().is_empty() {
        crate::portal::queue_link(&state, page.actor.clinic_id(), client.id).await?;
    }
    Ok(Redirect::to(&format!("/clients/{}", client.id)).into_response())
}

/// Declines a request.
pub(super) async fn decline(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    page.check_csrf(&form._csrf)?;
    state.store().decline_booking_request(&page.actor, id).await?;
    Ok(Redirect::to("/requests?done=declined").into_response())
}
