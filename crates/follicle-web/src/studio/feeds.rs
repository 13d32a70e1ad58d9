//! Calendar feeds (issue 14, item 5): the page of a client's or a practitioner's feed (make,
//! renew, revoke; the address shown once, when made) and the feed itself, an iCalendar file
//! (RFC 5545) that calendar programs subscribe to.
//!
//! The feed's times are real instants in UTC: the diary keeps the clinic's wall clock, and
//! `follicle_core::messages::wall_clock` reads it in the clinic's `[clinic] time_zone`, so a
//! 10:00 visit in New York shows at 10:00 in a calendar set to New York and at 16:00 in one
//! set to Berlin. The calendar names the clinic's zone (`X-WR-TIMEZONE`). An event says what
//! the visit is, when and with whom, and nothing else: no notes, no clinical record, no
//! phone or email. A practitioner's feed names the client by first name and initial.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use follicle_store::{AppointmentKind, AppointmentStatus, FeedContent, FeedEvent, FeedOwner};
use icalendar::{Calendar, Component, Event, EventLike, EventStatus, Parameter, Property};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Nav, Page, PageError, PageResult, render};
use crate::extract::Id;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "calendar_feed.html")]
struct FeedPage {
    nav: Nav,
    /// "Sam Ólafsson's appointments".
    title: String,
    /// Where the forms post.
    action: String,
    /// Where to go back to.
    back: String,
    /// When the current address was made ("" for none).
    made: String,
    /// The address, right after it was made (shown once).
    address: String,
    /// The same as a `webcal://` link.
    webcal: String,
    /// What was done.
    notice: String,
}

/// The feed form's action.
#[derive(Debug, Deserialize)]
pub(super) struct FeedForm {
    #[serde(default)]
    _csrf: String,
    /// `make` (or renew) or `revoke`.
    #[serde(default)]
    action: String,
}

/// Whose feed a page is about, with its title and addresses.
struct Subject {
    owner: FeedOwner,
    title: String,
    action: String,
    back: String,
}

async fn client_subject(state: &AppState, page: &Page, id: Uuid) -> Result<Subject, PageError> {
    let client = state.store().client(&page.actor, id).await?;
    Ok(Subject {
        owner: FeedOwner::Client(id),
        title: format!("{}'s appointments", client.name),
        action: format!("/clients/{id}/calendar-feed"),
        back: format!("/clients/{id}"),
    })
}

async fn user_subject(state: &AppState, page: &Page, id: Uuid, own: bool) -> Result<Subject, PageError> {
    let user = state.store().user(&page.actor, id).await?;
    Ok(if own {
        Subject {
            owner: FeedOwner::User(id),
            title: "Your appointments".to_owned(),
            action: "/account/calendar-feed".to_owned(),
            back: "/account".to_owned(),
        }
    } else {
        Subject {
            owner: FeedOwner::User(id),
            title: format!("{}'s appointments", user.name),
            action: format!("/staff/{id}/calendar-feed"),
            back: "/staff".to_owned(),
        }
    })
}

/// The feed's address for its secret.
pub(crate) fn address(state: &AppState, token: &str) -> String {
    format!(
        "{}/calendar/{token}.ics",
        state.config().mail.public_url.trim_end_matches('/')
    )
}

async fn show(
    state: &AppState,
    page: &Page,
    subject: Subject,
    token: Option<String>,
    notice: String,
) -> PageResult {
    let made = state
        .store()
        .calendar_feed(&page.actor, subject.owner)
        .await?
        .map(super::today::when)
        .unwrap_or_default();
    let address = token.map(|t| address(state, &t)).unwrap_or_default();
    let webcal = match address.split_once("://") {
        Some((_, rest)) => format!("webcal://{rest}"),
        None => String::new(),
    };
    render(&FeedPage {
        nav: Nav::new(
            page,
            if matches!(subject.owner, FeedOwner::Client(_)) {
                "clients"
            } else {
                "account"
            },
        ),
        title: subject.title,
        action: subject.action,
        back: subject.back,
        made,
        address,
        webcal,
        notice,
    })
}

async fn act(state: &AppState, page: &Page, subject: Subject, form: FeedForm) -> PageResult {
    page.check_csrf(&form._csrf)?;
    match form.action.as_str() {
        "make" => {
            let token = state
                .store()
                .make_calendar_feed(&page.actor, subject.owner)
                .await?;
            let notice =
                "A new address is made; an older one has stopped. Copy it now: it is shown only this once."
                    .to_owned();
            show(state, page, subject, Some(token.as_str().to_owned()), notice).await
        }
        "revoke" => {
            let had = state
                .store()
                .revoke_calendar_feed(&page.actor, subject.owner)
                .await?;
            let notice = if had {
                "Revoked: the address answers nothing from now on, and calendars subscribed to it stop updating."
            } else {
                "There was no address to revoke."
            };
            show(state, page, subject, None, notice.to_owned()).await
        }
        other => Err(PageError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: format!("action: expected make or revoke, got {other:?}"),
        }),
    }
}

pub(super) async fn client_page(State(state): State<AppState>, page: Page, Id(id): Id) -> PageResult {
    let subject = client_subject(&state, &page, id).await?;
    show(&state, &page, subject, None, String::new()).await
}

pub(super) async fn client_submit(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
    axum::Form(form): axum::Form<FeedForm>,
) -> PageResult {
    let subject = client_subject(&state, &page, id).await?;
    act(&state, &page, subject, form).await
}

pub(super) async fn own_page(State(state): State<AppState>, page: Page) -> PageResult {
    let subject = user_subject(&state, &page, page.actor.user_id(), true).await?;
    show(&state, &page, subject, None, String::new()).await
}

pub(super) async fn own_submit(
    State(state): State<AppState>,
    page: Page,
    axum::Form(form): axum::Form<FeedForm>,
) -> PageResult {
    let subject = user_subject(&state, &page, page.actor.user_id(), true).await?;
    act(&state, &page, subject, form).await
}

pub(super) async fn staff_page(State(state): State<AppState>, page: Page, Id(id): Id) -> PageResult {
    let own = id == page.actor.user_id();
    let subject = user_subject(&state, &page, id, own).await?;
    show(&state, &page, subject, None, String::new()).await
}

pub(super) async fn staff_submit(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
    axum::Form(form): axum::Form<FeedForm>,
) -> PageResult {
    let own = id == page.actor.user_id();
    let subject = user_subject(&state, &page, id, own).await?;
    act(&state, &page, subject, form).await
}

/// `GET /calendar/{secret}.ics`: the feed, or a 404 page for a secret nobody has.
pub(super) async fn feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, PageError> {
    let not_found = || {
        PageError {
        status: StatusCode::NOT_FOUND,
        message: "This calendar address is not valid (it may have been revoked or renewed). Ask the clinic for a new one."
            .to_owned(),
    }
    };
    let token = file.strip_suffix(".ics").ok_or_else(not_found)?;
    let content = state
        .store()
        .calendar_feed_by_token(token)
        .await?
        .ok_or_else(not_found)?;
    let body = ics(&content, OffsetDateTime::now_utc());
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "inline; filename=\"appointments.ics\"",
            ),
        ],
        body,
    )
        .into_response())
}

/// What a visit is called in a calendar.
fn kind_words(kind: AppointmentKind) -> &'static str {
    match kind {
        AppointmentKind::Session => "SMP session",
        AppointmentKind::PatchTest => "SMP patch test",
        AppointmentKind::TouchUp => "SMP touch-up",
        AppointmentKind::Consultation => "SMP consultation",
    }
}

/// "Sam Ólafsson" → "Sam Ó.": enough for a practitioner's phone, less for a stranger.
fn short_name(name: &str) -> String {
    let mut words = name.split_whitespace();
    let first = words.next().unwrap_or("");
    match words.last().and_then(|w| w.chars().next()) {
        Some(initial) => format!("{first} {initial}."),
        None => first.to_owned(),
    }
}

fn utc_stamp(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

fn event(content: &FeedContent, settings: &follicle_core::Settings, e: &FeedEvent, stamp: &str) -> Event {
    let starts = follicle_core::messages::wall_clock(settings, e.starts_at);
    let ends = starts + time::Duration::minutes(e.duration_minutes);
    let (summary, mut description) = match content.owner {
        FeedOwner::Client(_) => (
            format!("{} at {}", kind_words(e.kind), content.clinic_name),
            match &e.practitioner_name {
                Some(p) => format!("With {p}."),
                None => String::new(),
            },
        ),
        FeedOwner::User(_) => (
            format!("{}: {}", kind_words(e.kind), short_name(&e.client_name)),
            String::new(),
        ),
    };
    let status = match e.status {
        AppointmentStatus::Booked => "booked",
        AppointmentStatus::Confirmed => "confirmed",
        AppointmentStatus::Arrived => "arrived",
        AppointmentStatus::Completed => "completed",
        AppointmentStatus::Cancelled => "cancelled",
        AppointmentStatus::NoShow => "missed",
    };
    if !description.is_empty() {
        description.push(' ');
    }
    description.push_str(&format!("Status: {status}."));
    // Where to go: the clinic, and the room when the visit has one.
    let location = match &e.room {
        Some(room) => format!("{}, {room}", content.clinic_name),
        None => content.clinic_name.clone(),
    };
    Event::new()
        .uid(&format!("{}@follicle", e.id))
        .summary(&summary)
        .description(&description)
        .location(&location)
        .add_property("DTSTAMP", stamp)
        .add_property("DTSTART", utc_stamp(starts))
        .add_property("DTEND", utc_stamp(ends))
        .status(if e.status == AppointmentStatus::Booked {
            EventStatus::Tentative
        } else {
            EventStatus::Confirmed
        })
        .done()
}

/// The feed as an iCalendar file.
pub fn ics(content: &FeedContent, now: OffsetDateTime) -> String {
    let settings = crate::state::parse_settings(&content.settings_toml).unwrap_or_default();
    let stamp = utc_stamp(now);
    let mut cal = Calendar::new();
    cal.name(&match content.owner {
        FeedOwner::Client(_) => format!("{}: your appointments", content.clinic_name),
        FeedOwner::User(_) => format!("{}: your diary", content.clinic_name),
    });
    cal.timezone(settings.clinic.time_zone.as_str());
    // Calendar programs poll a subscription at their own pace; this asks for hourly.
    cal.append_property(
        Property::new("REFRESH-INTERVAL", "PT1H")
            .append_parameter(Parameter::new("VALUE", "DURATION"))
            .done(),
    );
    cal.append_property(Property::new("X-PUBLISHED-TTL", "PT1H"));
    for e in &content.events {
        cal.push(event(content, &settings, e, &stamp));
    }
    cal.done().to_string()
}
