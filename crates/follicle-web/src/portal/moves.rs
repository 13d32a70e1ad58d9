//! "Ask to move" a visit (`/portal/visits/{id}/move`): the client says when suits them (at
//! most [`MOVE_WORDS_CHARS`] characters) and may choose up to [`MOVE_DAYS`] days; the request
//! is kept ([`follicle_store::MoveRequest`]) and shown beside the visit until the clinic moves
//! the visit or dismisses it. A visit of another client is not found; one that has begun,
//! passed, or is cancelled or done is refused with a page saying why.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use follicle_store::{AppointmentStatus, MOVE_DAYS, MOVE_WORDS_CHARS, MoveRequest, StoreError};
use serde::Deserialize;
use time::{Date, OffsetDateTime};

use super::{Me, day, diary_clock, own_id};
use crate::state::AppState;
use crate::studio::{PageError, PageResult, render, render_status};

#[derive(Template)]
#[template(path = "portal_move.html")]
struct MovePage {
    clinic: String,
    csrf: String,
    id: String,
    when: String,
    asked: String,
    error: String,
    suits: String,
    days: Vec<String>,
    today: String,
    max_chars: usize,
}

/// "You asked to move it on Thursday 3 December 2026: mornings; preferred: …".
pub(super) fn asked_words(r: &MoveRequest) -> String {
    let mut words = format!("You asked to move it on {}", day(r.asked_at.date()));
    if !r.suits.is_empty() {
        words.push_str(&format!(": “{}”", r.suits));
    }
    if !r.preferred_days.is_empty() {
        let days: Vec<String> = r.preferred_days.iter().map(|d| day(*d)).collect();
        words.push_str(&format!("; days you prefer: {}", days.join(", ")));
    }
    words.push('.');
    words
}

/// The client's visit, or a page saying why it cannot be moved from here.
async fn movable(
    state: &AppState,
    me: &Me,
    id: &str,
) -> Result<(follicle_store::Appointment, Option<MoveRequest>), PageError> {
    let id = own_id(id, "visit")?;
    let record = state.store().own_record(&me.client).await?;
    let Some(a) = record.appointments.into_iter().find(|a| a.id == id) else {
        return Err(not_yours());
    };
    let now = diary_clock(&me.settings, OffsetDateTime::now_utc());
    refusal(&a, now)?;
    let open = state
        .store()
        .own_move_requests(&me.client)
        .await?
        .into_iter()
        .find(|r| r.appointment_id == a.id);
    Ok((a, open))
}

fn not_yours() -> PageError {
    PageError {
        status: StatusCode::NOT_FOUND,
        message: "There is no such visit among yours.".into(),
    }
}

/// Why a visit cannot be moved from the client's pages (the store checks the same again).
fn refusal(a: &follicle_store::Appointment, diary_now: OffsetDateTime) -> Result<(), PageError> {
    let message = if !matches!(a.status, AppointmentStatus::Booked | AppointmentStatus::Confirmed) {
        format!(
            "This visit is {}, so it cannot be moved. To book another, call the clinic.",
            a.status.to_string().replace('_', " ")
        )
    } else if a.starts_at <= diary_now {
        "This visit has begun or passed, so it cannot be moved. To book another, call the clinic.".to_owned()
    } else {
        return Ok(());
    };
    Err(PageError {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        message,
    })
}

fn page(
    me: &Me,
    a: &follicle_store::Appointment,
    open: Option<&MoveRequest>,
    form: &MoveForm,
    error: String,
) -> MovePage {
    let today = diary_clock(&me.settings, OffsetDateTime::now_utc()).date();
    MovePage {
        clinic: me.clinic.clone(),
        csrf: me.csrf(),
        id: a.id.to_string(),
        when: format!(
            "{} at {:02}:{:02}",
            day(a.starts_at.date()),
            a.starts_at.hour(),
            a.starts_at.minute()
        ),
        asked: open.map(asked_words).unwrap_or_default(),
        error,
        suits: form.suits.clone(),
        days: vec![form.day1.clone(), form.day2.clone(), form.day3.clone()],
        today: today.to_string(),
        max_chars: MOVE_WORDS_CHARS,
    }
}

/// The move request form, as typed.
#[derive(Debug, Default, Deserialize)]
pub(super) struct MoveForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    suits: String,
    #[serde(default)]
    day1: String,
    #[serde(default)]
    day2: String,
    #[serde(default)]
    day3: String,
}

/// The page to ask to move a visit.
pub(super) async fn move_page(State(state): State<AppState>, me: Me, Path(id): Path<String>) -> PageResult {
    let (a, open) = movable(&state, &me, &id).await?;
    render(&page(&me, &a, open.as_ref(), &MoveForm::default(), String::new()))
}

/// The days typed, read; a day that is not a date is named.
fn read_days(form: &MoveForm) -> Result<Vec<Date>, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let mut days = Vec::new();
    for (n, text) in [&form.day1, &form.day2, &form.day3].into_iter().enumerate() {
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let d = Date::parse(text, format).map_err(|_| {
            format!(
                "Choice {}: {:?} is not a day; write it as YYYY-MM-DD, like 2027-01-15.",
                n + 1,
                text.chars().take(20).collect::<String>()
            )
        })?;
        days.push(d);
    }
    debug_assert!(days.len() <= MOVE_DAYS);
    Ok(days)
}

/// The client sends the request: kept, and the visit shows it in their pages.
pub(super) async fn move_submit(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
    Form(form): Form<MoveForm>,
) -> Result<Response, PageError> {
    me.check(&form._csrf)?;
    let (a, open) = movable(&state, &me, &id).await?;
    let again = |error: String| {
        render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page(&me, &a, open.as_ref(), &form, error),
        )
    };
    let days = match read_days(&form) {
        Ok(days) => days,
        Err(e) => return again(e),
    };
    let now = diary_clock(&me.settings, OffsetDateTime::now_utc());
    match state
        .store()
        .ask_to_move_own_visit(&me.client, a.id, &form.suits, &days, now)
        .await
    {
        Ok(_) => Ok(Redirect::to("/portal?done=move").into_response()),
        Err(StoreError::NotFound { .. }) => Err(not_yours()),
        Err(StoreError::Invalid { field, message }) => {
            let label = match field {
                "suits" => "When suits you",
                "preferred_days" => "Days you would prefer",
                _ => "This visit",
            };
            again(format!("{label}: {message}."))
        }
        Err(e) => Err(e.into()),
    }
}

/// Whether a visit may be asked to move from the client's pages now.
pub(super) fn may_move(a: &follicle_store::Appointment, diary_now: OffsetDateTime) -> bool {
    refusal(a, diary_now).is_ok()
}
