//! The diary (issue 14): the day and week views with a column per practitioner (or, with
//! `?by=room` where the clinic has rooms, a column per room), an appointment's page (its
//! history, its room, status changes, a move), booking a plan's sessions and a single visit
//! from the client's page (in a room, where the clinic has rooms), and the session log opened
//! from an appointment.
//!
//! Every page works without a script: an appointment is moved with its page's form. With
//! `static/diary.js`, an appointment is dragged to another slot of the week view and the move
//! is sent to `PUT /api/v1/appointments/{id}/time`; a refusal is shown above the diary.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use follicle_store::{
    Action, Appointment, AppointmentKind, AppointmentMove, AppointmentStatus, NewAppointment, NewBooking,
    PlanBooking, Practitioner, StoreError, may_become,
};
use serde::Deserialize;
use time::{Date, Duration, OffsetDateTime, Time};
use uuid::Uuid;

use super::today::day;
use super::{FieldErrors, Nav, Page, PageError, PageResult, render, render_status};
use crate::api::diary::rules;
use crate::extract::{Id, QueryArgs};
use crate::state::AppState;

/// `10:00`.
pub fn clock(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// `Mon 7 Dec`.
fn day_label(d: Date) -> String {
    format!(
        "{} {} {}",
        &d.weekday().to_string()[..3],
        d.day(),
        &d.month().to_string()[..3]
    )
}

/// An appointment as a cell of the diary shows it.
#[derive(Debug)]
pub struct Cell {
    /// The appointment.
    pub id: Uuid,
    /// Its client's name.
    pub client: String,
    /// `10:00–12:30`.
    pub time: String,
    /// `session 1`, `patch test`, …
    pub kind: String,
    /// Its status.
    pub status: &'static str,
    /// How many rows it spans.
    pub rows: usize,
    /// Whether it may be moved (booked or confirmed).
    pub movable: bool,
    /// Other appointments starting in the same slot (a double booking allowed by override).
    pub also: Vec<String>,
}

/// One cell of a row: an appointment starting here, a free slot, or covered by one above.
#[derive(Debug)]
pub enum Slot {
    /// An appointment starts here.
    Starts(Cell),
    /// Nothing: a drop target.
    Free(FreeSlot),
    /// Covered by an appointment that started above.
    Covered,
}

/// A free slot of the diary: where an appointment may be dropped.
#[derive(Debug)]
pub struct FreeSlot {
    /// When the slot starts (RFC 3339, UTC).
    pub starts_at: String,
    /// Whose column (empty in the room view).
    pub practitioner: String,
    /// Which room's column (empty in the practitioner view).
    pub room: String,
    /// A label for screen readers.
    pub label: String,
}

/// A column of a day: a practitioner, or a room.
#[derive(Debug, Clone)]
pub struct Column {
    /// Its heading.
    pub name: String,
    /// The practitioner, in the practitioner view.
    pub practitioner: Option<Uuid>,
    /// The room, in the room view.
    pub room: Option<String>,
}

impl Column {
    /// Whether the appointment is in this column.
    fn holds(&self, a: &Appointment) -> bool {
        match (&self.practitioner, &self.room) {
            (Some(p), _) => a.practitioner_id == Some(*p),
            (None, Some(r)) => a.room.as_deref() == Some(r.as_str()),
            (None, None) => false,
        }
    }
}

/// A row of the diary.
#[derive(Debug)]
pub struct Row {
    /// `09:15`.
    pub time: String,
    /// Whether it is on the hour.
    pub hour: bool,
    /// One slot per day and practitioner.
    pub slots: Vec<Slot>,
}

/// A day's heading.
#[derive(Debug)]
pub struct DayHead {
    /// `Mon 7 Dec`.
    pub label: String,
    /// `2026-12-07`.
    pub date: String,
    /// Open that day.
    pub open: bool,
}

#[derive(Template)]
#[template(path = "diary.html")]
struct DiaryPage {
    nav: Nav,
    view: &'static str,
    title: String,
    date: String,
    previous: String,
    next: String,
    days: Vec<DayHead>,
    columns: Vec<Column>,
    /// `room` in the room view, empty in the practitioner view.
    by: &'static str,
    /// Whether the clinic has rooms (the view may be by room).
    has_rooms: bool,
    rows: Vec<Row>,
    hours: String,
    unassigned: Vec<(String, Cell)>,
    message: String,
    step_minutes: u32,
}

#[derive(Debug, Deserialize)]
pub(super) struct DiaryQuery {
    #[serde(default)]
    view: Option<String>,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    moved: Option<String>,
    #[serde(default)]
    by: Option<String>,
}

fn kind_label(a: &Appointment) -> String {
    match (a.kind, a.session_index) {
        (AppointmentKind::Session, Some(n)) => format!("session {n}"),
        (kind, _) => kind.as_str().replace('_', " "),
    }
}

/// The diary: `?view=day|week&date=YYYY-MM-DD` (default: this week), a column per
/// practitioner, or per room with `&by=room` (where the clinic has rooms).
pub(super) async fn diary(
    State(state): State<AppState>,
    page: Page,
    QueryArgs(q): QueryArgs<DiaryQuery>,
) -> PageResult {
    page.actor.require(Action::ManageAppointments)?;
    let today = OffsetDateTime::now_utc().date();
    let date = match q.date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => today,
        Some(text) => follicle_core::profile::parse_date(text).map_err(|e| PageError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: format!("date: {e}"),
        })?,
    };
    let week = !matches!(q.view.as_deref(), Some("day"));
    let first = if week {
        date - Duration::days(i64::from(date.weekday().number_days_from_monday()))
    } else {
        date
    };
    let span = if week { 7 } else { 1 };
    let settings = state.clinic_settings(&page.actor).await?;
    let rules = rules(&state, &page.actor).await?;
    let store = state.store();
    let by_room = match q.by.as_deref().map(str::trim) {
        None | Some("" | "practitioner") => false,
        Some("room") => true,
        Some(other) => {
            return Err(PageError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                message: format!("by: expected practitioner or room, got {other:?}"),
            });
        }
    };
    let by_room = by_room && !rules.rooms.is_empty();
    let columns: Vec<Column> = if by_room {
        rules
            .rooms
            .iter()
            .map(|r| Column {
                name: r.clone(),
                practitioner: None,
                room: Some(r.clone()),
            })
            .collect()
    } else {
        store
            .practitioners(&page.actor)
            .await?
            .into_iter()
            .map(|p| Column {
                name: p.name,
                practitioner: Some(p.id),
                room: None,
            })
            .collect()
    };
    let from = first.midnight().assume_utc();
    let appointments = store
        .appointments_between(&page.actor, from, from + Duration::days(span))
        .await?;
    let ids: Vec<Uuid> = appointments.iter().map(|a| a.client_id).collect();
    let names: HashMap<Uuid, String> = store.client_names(&page.actor, &ids).await?;
    let name = |id: &Uuid| names.get(id).cloned().unwrap_or_else(|| "(client)".into());
    let step = i64::from(settings.diary.step_minutes.max(1));
    let (opens, closes) = (settings.diary.opens_at(), settings.diary.closes_at());
    // The grid runs from the opening to the closing time, widened to show any appointment
    // outside them (booked before the hours changed).
    let minute_of = |t: Time| i64::from(t.hour()) * 60 + i64::from(t.minute());
    let mut start_min = minute_of(opens);
    let mut end_min = minute_of(closes);
    for a in appointments.iter().filter(|a| a.status.holds_time()) {
        let s = minute_of(a.starts_at.time());
        start_min = start_min.min(s - s % step);
        end_min = end_min.max((s + a.duration_minutes).min(24 * 60));
    }
    let days: Vec<Date> = (0..span).map(|n| first + Duration::days(n)).collect();
    let row_count = usize::try_from((end_min - start_min + step - 1) / step).unwrap_or(0);
    let width = days.len() * columns.len();
    // grid[row][column]
    let mut grid: Vec<Vec<Option<Slot>>> = (0..row_count)
        .map(|_| (0..width).map(|_| None).collect())
        .collect();
    let mut unassigned = Vec::new();
    let cell = |a: &Appointment, rows: usize| Cell {
        id: a.id,
        client: name(&a.client_id),
        time: format!(
            "{}–{}",
            clock(a.starts_at.time()),
            clock((a.starts_at + Duration::minutes(a.duration_minutes)).time())
        ),
        kind: kind_label(a),
        status: a.status.as_str(),
        rows,
        movable: matches!(a.status, AppointmentStatus::Booked | AppointmentStatus::Confirmed),
        also: Vec::new(),
    };
    for a in &appointments {
        let column = days.iter().position(|d| *d == a.starts_at.date()).and_then(|d| {
            columns
                .iter()
                .position(|p| p.holds(a))
                .map(|p| d * columns.len() + p)
        });
        let (Some(column), true) = (column, a.status.holds_time()) else {
            unassigned.push((
                format!("{} {}", day_label(a.starts_at.date()), clock(a.starts_at.time())),
                cell(a, 1),
            ));
            continue;
        };
        let first_row = usize::try_from((minute_of(a.starts_at.time()) - start_min) / step).unwrap_or(0);
        let rows = usize::try_from((a.duration_minutes + step - 1) / step)
            .unwrap_or(1)
            .max(1);
        let rows = rows.min(row_count.saturating_sub(first_row)).max(1);
        match grid.get_mut(first_row).and_then(|r| r.get_mut(column)) {
            Some(slot @ None) => {
                *slot = Some(Slot::Starts(cell(a, rows)));
                for r in first_row + 1..first_row + rows {
                    match grid.get_mut(r).and_then(|row| row.get_mut(column)) {
                        Some(covered @ None) => *covered = Some(Slot::Covered),
                        _ => break,
                    }
                }
            }
            _ => {
                // The slot is taken (a double booking allowed by override): shown inside the
                // appointment that holds it.
                let text = format!(
                    "also {} ({}, {})",
                    name(&a.client_id),
                    kind_label(a),
                    clock(a.starts_at.time())
                );
                let holder = (0..=first_row).rev().find(|r| {
                    matches!(
                        grid.get(*r).and_then(|row| row.get(column)),
                        Some(Some(Slot::Starts(_)))
                    )
                });
                match holder
                    .and_then(|r| grid.get_mut(r))
                    .and_then(|row| row.get_mut(column))
                    .and_then(Option::as_mut)
                {
                    Some(Slot::Starts(c)) => c.also.push(text),
                    _ => unassigned.push((day_label(a.starts_at.date()), cell(a, 1))),
                }
            }
        }
    }
    let rows = grid
        .into_iter()
        .enumerate()
        .map(|(r, slots)| {
            let minute = start_min + step * r as i64;
            let time = Time::from_hms((minute / 60) as u8, (minute % 60) as u8, 0).unwrap_or(Time::MIDNIGHT);
            Row {
                time: clock(time),
                hour: minute % 60 == 0,
                slots: slots
                    .into_iter()
                    .enumerate()
                    .map(|(c, slot)| {
                        slot.unwrap_or_else(|| {
                            let d = days[c / columns.len().max(1)];
                            let p = &columns[c % columns.len().max(1)];
                            let at = d.with_time(time).assume_utc();
                            Slot::Free(FreeSlot {
                                starts_at: at
                                    .format(&time::format_description::well_known::Rfc3339)
                                    .unwrap_or_default(),
                                practitioner: p.practitioner.map(|id| id.to_string()).unwrap_or_default(),
                                room: p.room.clone().unwrap_or_default(),
                                label: if p.room.is_some() {
                                    format!("{} {} in {}", day_label(d), clock(time), p.name)
                                } else {
                                    format!("{} {} with {}", day_label(d), clock(time), p.name)
                                },
                            })
                        })
                    })
                    .collect(),
            }
        })
        .collect();
    let shift = if week { 7 } else { 1 };
    let title = if week {
        format!("Week of {}", day(first))
    } else {
        format!("{}, {}", date.weekday(), day(date))
    };
    render(&DiaryPage {
        nav: Nav::new(&page, "diary"),
        view: if week { "week" } else { "day" },
        title,
        date: date.to_string(),
        previous: (date - Duration::days(shift)).to_string(),
        next: (date + Duration::days(shift)).to_string(),
        days: days
            .iter()
            .map(|d| DayHead {
                label: day_label(*d),
                date: d.to_string(),
                open: rules.is_open_on(*d),
            })
            .collect(),
        columns,
        by: if by_room { "room" } else { "" },
        has_rooms: !rules.rooms.is_empty(),
        rows,
        hours: format!("{}–{}", settings.diary.opens, settings.diary.closes),
        unassigned,
        message: match q.moved.as_deref() {
            Some("1") => "The appointment is moved.".into(),
            _ => String::new(),
        },
        step_minutes: settings.diary.step_minutes,
    })
}

/// A user's name for a history line.
async fn user_names(state: &AppState, page: &Page) -> HashMap<Uuid, String> {
    let mut names: HashMap<Uuid, String> = HashMap::new();
    if let Ok(users) = state.store().list_users(&page.actor).await {
        names.extend(users.into_iter().map(|u| (u.id, u.name)));
    } else if let Ok(ps) = state.store().practitioners(&page.actor).await {
        names.extend(ps.into_iter().map(|p| (p.id, p.name)));
    }
    names.insert(page.user.id, page.user.name.clone());
    names
}

/// The move form's fields, as typed.
#[derive(Debug, Default, Deserialize)]
pub(super) struct MoveForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    time: String,
    #[serde(default)]
    practitioner_id: String,
    #[serde(default)]
    room: String,
    /// The room as booked when the form was shown: a choice left at it keeps it (a room renamed
    /// in the settings since is no longer one of `diary.rooms`, and is kept as booked).
    #[serde(default)]
    booked_room: String,
    #[serde(default)]
    override_reason: String,
}

#[derive(Template)]
#[template(path = "appointment.html")]
struct AppointmentPage {
    nav: Nav,
    a: Appointment,
    client: String,
    kind: String,
    when: String,
    practitioner: String,
    /// The room booked (empty: none).
    room: String,
    /// The clinic's rooms (the move form's choice; empty: no choice).
    rooms: Vec<String>,
    /// The room booked is no longer one of the clinic's rooms (renamed or removed since).
    room_renamed: bool,
    history: Vec<(String, String, String)>,
    next: Vec<&'static str>,
    practitioners: Vec<Practitioner>,
    form: MoveForm,
    errors: FieldErrors,
    clinical: bool,
    loggable: bool,
    /// The client's requests to move this visit: (id, asked, words, state; empty while open).
    move_requests: Vec<(String, String, String, String)>,
    payments: Vec<(String, String, &'static str, String, Uuid)>,
}

async fn appointment_page(
    state: &AppState,
    page: &Page,
    id: Uuid,
    form: Option<MoveForm>,
    errors: FieldErrors,
) -> PageResult {
    let store = state.store();
    let a = store.appointment(&page.actor, id).await?;
    let client = store.client(&page.actor, a.client_id).await?;
    let practitioners = store.practitioners(&page.actor).await?;
    let rooms = rules(state, &page.actor).await?.rooms;
    let move_requests = store.move_requests_of(&page.actor, a.id).await?;
    let payments = super::payments::of_visit(state, page, a.id).await?;
    let mut names = user_names(state, page).await;
    // A change the client made in their own pages.
    names.insert(client.id, format!("{} (client)", client.name));
    let who = |id: &Uuid| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let form = form.unwrap_or_else(|| MoveForm {
        date: a.starts_at.date().to_string(),
        time: clock(a.starts_at.time()),
        practitioner_id: a.practitioner_id.map(|p| p.to_string()).unwrap_or_default(),
        room: a.room.clone().unwrap_or_default(),
        booked_room: a.room.clone().unwrap_or_default(),
        ..MoveForm::default()
    });
    let room_renamed = a.room.as_ref().is_some_and(|r| !rooms.contains(r));
    let status = errors.status();
    render_status(
        status,
        &AppointmentPage {
            nav: Nav::new(page, "diary"),
            client: client.name,
            kind: kind_label(&a),
            when: format!(
                "{}, {} {}–{}",
                a.starts_at.weekday(),
                day(a.starts_at.date()),
                clock(a.starts_at.time()),
                clock((a.starts_at + Duration::minutes(a.duration_minutes)).time())
            ),
            practitioner: a
                .practitioner_id
                .map(|p| who(&p))
                .unwrap_or_else(|| "anyone".into()),
            room: a.room.clone().unwrap_or_default(),
            rooms,
            room_renamed,
            history: a
                .history
                .iter()
                .map(|h| {
                    (
                        h.what.clone(),
                        format!("{} {}", day(h.at.date()), clock(h.at.time())),
                        who(&h.by),
                    )
                })
                .collect(),
            next: AppointmentStatus::ALL
                .iter()
                .filter(|s| may_become(a.status, **s))
                .map(|s| s.as_str())
                .collect(),
            practitioners,
            form,
            errors,
            clinical: page.may(Action::EditClinicalRecords),
            loggable: a.kind.is_treatment() && !a.status.is_final(),
            payments,
            move_requests: move_requests
                .iter()
                .map(|r| {
                    (
                        r.id.to_string(),
                        format!("{} {}", day(r.asked_at.date()), clock(r.asked_at.time())),
                        move_request_words(r),
                        match (r.closed_how, r.closed_at) {
                            (Some(how), Some(at)) => format!(
                                "{} {} {}{}",
                                how.as_str(),
                                day(at.date()),
                                clock(at.time()),
                                r.closed_by
                                    .map(|b| format!(" by {}", who(&b)))
                                    .unwrap_or_default()
                            ),
                            _ => String::new(),
                        },
                    )
                })
                .collect(),
            a,
        },
    )
}

/// An appointment's page.
pub(super) async fn appointment(State(state): State<AppState>, page: Page, Id(id): Id) -> PageResult {
    appointment_page(&state, &page, id, None, FieldErrors::default()).await
}

/// A client's request to move a visit, in the clinic's words: what they wrote and the days
/// they chose.
pub(super) fn move_request_words(r: &follicle_store::MoveRequest) -> String {
    let mut words = if r.suits.is_empty() {
        String::new()
    } else {
        format!("“{}”", r.suits)
    };
    if !r.preferred_days.is_empty() {
        let days: Vec<String> = r.preferred_days.iter().map(|d| day(*d)).collect();
        if !words.is_empty() {
            words.push_str("; ");
        }
        words.push_str(&format!("prefers {}", days.join(", ")));
    }
    words
}

/// The dismiss form.
#[derive(Debug, Deserialize)]
pub(super) struct DismissForm {
    #[serde(default)]
    _csrf: String,
}

/// Dismisses a client's request to move a visit (the clinic called them, or the visit stays),
/// back to the appointment's page.
pub(super) async fn dismiss_move_request(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
    axum::Form(form): axum::Form<DismissForm>,
) -> PageResult {
    page.check_csrf(&form._csrf)?;
    let request = state.store().dismiss_move_request(&page.actor, id).await?;
    Ok(Redirect::to(&format!("/appointments/{}", request.appointment_id)).into_response())
}

/// The status form.
#[derive(Debug, Deserialize)]
pub(super) struct StatusForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    status: String,
}

/// Changes an appointment's status from its page.
pub(super) async fn set_status(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
    axum::Form(form): axum::Form<StatusForm>,
) -> PageResult {
    page.check_csrf(&form._csrf)?;
    let status = AppointmentStatus::parse(&form.status)?;
    match state
        .store()
        .set_appointment_status(&page.actor, id, status)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/appointments/{id}")).into_response()),
        Err(StoreError::Invalid { field, message }) => {
            let mut errors = FieldErrors::default();
            errors.add(field, message);
            appointment_page(&state, &page, id, None, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Parses a date and a time typed in a form into the moment they name, errors beside `date`
/// and `time`.
fn parse_when(errors: &mut FieldErrors, date: &str, time: &str) -> Option<OffsetDateTime> {
    let d = follicle_core::profile::parse_date(date.trim())
        .map_err(|e| errors.add("date", e))
        .ok();
    let t = follicle_core::plan::parse_clock(time.trim())
        .map_err(|e| errors.add("time", e))
        .ok();
    Some(d?.with_time(t?).assume_utc())
}

fn parse_practitioner(errors: &mut FieldErrors, text: &str) -> Option<Uuid> {
    match text.trim() {
        "" => None,
        t => Uuid::parse_str(t)
            .map_err(|_| {
                errors.add(
                    "practitioner_id",
                    format!("expected a practitioner of the clinic, got {t:?}"),
                )
            })
            .ok(),
    }
}

/// Where a store error of a booking goes on a form: `starts_at` beside the date, a room's
/// clash beside the room, another clash beside the practitioner.
fn place_error(errors: &mut FieldErrors, e: StoreError) -> Result<(), PageError> {
    match e {
        StoreError::Invalid { field, message } => {
            let field = match field {
                "starts_at" => "date",
                other => other,
            };
            errors.add(field, message);
            Ok(())
        }
        StoreError::Conflict { message } => {
            let field = if message.contains(follicle_store::ROOM_CLASH) {
                "room"
            } else {
                "practitioner_id"
            };
            errors.add(field, message);
            Ok(())
        }
        other => Err(other.into()),
    }
}

/// Moves an appointment with its page's form (the way without the drag).
pub(super) async fn move_submit(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
    axum::Form(form): axum::Form<MoveForm>,
) -> PageResult {
    page.check_csrf(&form._csrf)?;
    let mut errors = FieldErrors::default();
    let starts_at = parse_when(&mut errors, &form.date, &form.time);
    let practitioner_id = parse_practitioner(&mut errors, &form.practitioner_id);
    if let (true, Some(starts_at)) = (errors.is_empty(), starts_at) {
        let rules = rules(&state, &page.actor).await?;
        let to = AppointmentMove {
            starts_at,
            practitioner_id,
            // Left as booked: the same room (even one renamed since); else the one chosen, or
            // none for the empty choice (the store trims it).
            room: (form.room != form.booked_room).then(|| form.room.clone()),
            override_reason: form.override_reason.trim().to_owned(),
        };
        match state.store().move_appointment(&page.actor, id, &to, &rules).await {
            Ok(a) => {
                return Ok(
                    Redirect::to(&format!("/diary?date={}&moved=1", a.starts_at.date())).into_response(),
                );
            }
            Err(e) => place_error(&mut errors, e)?,
        }
    }
    appointment_page(&state, &page, id, Some(form), errors).await
}

/// The client page's booking forms, as typed, with their errors.
#[derive(Debug, Default, Deserialize)]
pub struct BookForm {
    #[serde(default)]
    _csrf: String,
    /// The consultation whose plan is booked (the plan form).
    #[serde(default)]
    pub consultation_id: String,
    /// What for (the single visit form).
    #[serde(default)]
    pub kind: String,
    /// Day.
    #[serde(default)]
    pub date: String,
    /// Start time.
    #[serde(default)]
    pub time: String,
    /// Minutes (the single visit form).
    #[serde(default)]
    pub minutes: String,
    /// Who.
    #[serde(default)]
    pub practitioner_id: String,
    /// Where (a room's name; empty: none).
    #[serde(default)]
    pub room: String,
    /// A reason to double-book.
    #[serde(default)]
    pub override_reason: String,
    /// Notes (the single visit form).
    #[serde(default)]
    pub notes: String,
}

/// What the client page shows of booking: the plan to book, the forms and their errors.
#[derive(Debug, Default)]
pub struct Booking {
    /// `Plan v2: 3 sessions (…)`, empty without a plan.
    pub plan: String,
    /// The plan's sessions, one line each.
    pub sessions: Vec<String>,
    /// The plan form.
    pub plan_form: BookForm,
    /// The plan form's errors.
    pub plan_errors: FieldErrors,
    /// The visit form.
    pub visit_form: BookForm,
    /// The visit form's errors.
    pub visit_errors: FieldErrors,
    /// The practitioners.
    pub practitioners: Vec<Practitioner>,
    /// The clinic's rooms (empty: no room to choose).
    pub rooms: Vec<String>,
    /// The kinds of visit.
    pub kinds: Vec<&'static str>,
}

/// The client page's booking part: the latest plan's sessions, the forms prefilled (session 1
/// on the plan's day when it is still ahead and open, otherwise the next open day, at the
/// plan's start time).
pub async fn booking(
    state: &AppState,
    page: &Page,
    client_id: Uuid,
    plan_form: Option<(BookForm, FieldErrors)>,
    visit_form: Option<(BookForm, FieldErrors)>,
) -> Result<Booking, PageError> {
    if !page.may(Action::ManageAppointments) {
        return Ok(Booking::default());
    }
    let store = state.store();
    let rules = rules(state, &page.actor).await?;
    let settings = state.clinic_settings(&page.actor).await?;
    let plan = store.plan_to_book(&page.actor, client_id).await?;
    let practitioners = store.practitioners(&page.actor).await?;
    let default_practitioner = practitioners
        .iter()
        .find(|p| p.id == page.user.id)
        .or(practitioners.first())
        .map(|p| p.id.to_string())
        .unwrap_or_default();
    let tomorrow = rules.now.date() + Duration::days(1);
    let mut b = Booking {
        practitioners,
        rooms: rules.rooms.clone(),
        kinds: AppointmentKind::ALL.iter().map(|k| k.as_str()).collect(),
        ..Booking::default()
    };
    if let Some(p) = plan.filter(|p| !p.sessions.is_empty()) {
        b.plan = format!(
            "Plan of consultation v{}: {} sessions",
            p.version,
            p.sessions.len()
        );
        b.sessions = p
            .sessions
            .iter()
            .map(|(n, date, start, hours, purpose)| {
                format!(
                    "Session {n}: {} {start}, {hours} h — {purpose}",
                    date.map(day).unwrap_or_else(|| "not dated".into())
                )
            })
            .collect();
        if let Some(days) = p.patch_test_days_before {
            b.sessions
                .insert(0, format!("Patch test {days} days before session 1"));
        }
        let (_, planned_day, start, _, _) = &p.sessions[0];
        let earliest = tomorrow + Duration::days(i64::from(p.patch_test_days_before.unwrap_or(0)));
        let first = planned_day
            .filter(|d| *d >= earliest && rules.is_open_on(*d))
            .unwrap_or_else(|| rules.next_open_day(earliest));
        b.plan_form = BookForm {
            consultation_id: p.consultation_id.to_string(),
            date: first.to_string(),
            time: start.clone(),
            practitioner_id: default_practitioner.clone(),
            ..BookForm::default()
        };
    }
    if let Some((form, errors)) = plan_form {
        b.plan_form = form;
        b.plan_errors = errors;
    }
    b.visit_form = BookForm {
        kind: AppointmentKind::Session.as_str().into(),
        date: rules.next_open_day(tomorrow).to_string(),
        time: settings.sessions.start_time.clone(),
        minutes: "60".into(),
        practitioner_id: default_practitioner,
        ..BookForm::default()
    };
    if let Some((form, errors)) = visit_form {
        b.visit_form = form;
        b.visit_errors = errors;
    }
    Ok(b)
}

/// Books the client's plan from their page.
pub(super) async fn book_plan(
    State(state): State<AppState>,
    page: Page,
    Id(client_id): Id,
    axum::Form(form): axum::Form<BookForm>,
) -> PageResult {
    page.check_csrf(&form._csrf)?;
    let mut errors = FieldErrors::default();
    let starts_at = parse_when(&mut errors, &form.date, &form.time);
    let practitioner_id = parse_practitioner(&mut errors, &form.practitioner_id);
    let consultation_id = Uuid::parse_str(form.consultation_id.trim())
        .map_err(|_| errors.add("consultation_id", "the client has no plan to book"))
        .ok();
    if let (true, Some(starts_at), Some(consultation_id)) = (errors.is_empty(), starts_at, consultation_id) {
        let rules = rules(&state, &page.actor).await?;
        let booking = PlanBooking {
            consultation_id,
            practitioner_id,
            // The store trims it and takes an empty choice for none.
            room: Some(form.room.clone()),
            first_starts_at: starts_at,
            override_reason: form.override_reason.trim().to_owned(),
        };
        match state.store().book_plan(&page.actor, &booking, &rules).await {
            Ok(booked) => {
                return Ok(Redirect::to(&format!(
                    "/clients/{client_id}?booked={}#appointments",
                    booked.len()
                ))
                .into_response());
            }
            Err(e) => place_error(&mut errors, e)?,
        }
    }
    super::clients::client_page_with(&state, &page, client_id, Some((form, errors)), None).await
}

/// Books one visit (a session, a patch test, a touch-up, a consultation) from the client's
/// page.
pub(super) async fn book_visit(
    State(state): State<AppState>,
    page: Page,
    Id(client_id): Id,
    axum::Form(form): axum::Form<BookForm>,
) -> PageResult {
    page.check_csrf(&form._csrf)?;
    let mut errors = FieldErrors::default();
    let starts_at = parse_when(&mut errors, &form.date, &form.time);
    let practitioner_id = parse_practitioner(&mut errors, &form.practitioner_id);
    let kind = AppointmentKind::parse(form.kind.trim())
        .map_err(|e| {
            if let StoreError::Invalid { message, .. } = e {
                errors.add("kind", message)
            }
        })
        .ok();
    let minutes = form
        .minutes
        .trim()
        .parse::<i64>()
        .map_err(|_| {
            errors.add(
                "minutes",
                format!("expected whole minutes, 1–1440, got {:?}", form.minutes.trim()),
            )
        })
        .ok();
    if let (true, Some(starts_at), Some(kind), Some(minutes)) = (errors.is_empty(), starts_at, kind, minutes)
    {
        let rules = rules(&state, &page.actor).await?;
        let booking = NewBooking {
            appointment: NewAppointment {
                client_id,
                practitioner_id,
                starts_at,
                duration_minutes: minutes,
                notes: form.notes.clone(),
            },
            kind,
            // The store trims it and takes an empty choice for none.
            room: Some(form.room.clone()),
            override_reason: form.override_reason.trim().to_owned(),
        };
        match state.store().book(&page.actor, &booking, &rules).await {
            Ok(_) => {
                return Ok(
                    Redirect::to(&format!("/clients/{client_id}?booked=1#appointments")).into_response(),
                );
            }
            Err(StoreError::Invalid {
                field: "duration_minutes",
                message,
            }) => errors.add("minutes", message),
            Err(e) => place_error(&mut errors, e)?,
        }
    }
    super::clients::client_page_with(&state, &page, client_id, None, Some((form, errors))).await
}

#[derive(Template)]
#[template(path = "session_logged.html")]
struct LoggedPage {
    nav: Nav,
    client_id: Uuid,
    client: String,
    session_id: Uuid,
    angles: Vec<&'static str>,
    stock: String,
    warning: String,
}

/// After a session is logged from its appointment: what was done, and the five standard photos
/// to take, each a link to the capture page for this session.
pub(super) async fn logged(
    State(state): State<AppState>,
    page: Page,
    Id(session_id): Id,
    QueryArgs(q): QueryArgs<LoggedQuery>,
) -> PageResult {
    let store = state.store();
    let session = store.session_log(&page.actor, session_id).await?;
    let client = store.client(&page.actor, session.client_id).await?;
    let batch = store.pigment_batch(&page.actor, session.batch_id).await?;
    render(&LoggedPage {
        nav: Nav::new(&page, "diary"),
        client_id: client.id,
        client: client.name,
        session_id,
        angles: super::photos::STANDARD_ANGLES
            .iter()
            .map(|a| a.as_str())
            .collect(),
        stock: format!(
            "{} taken off lot {}: {} left in stock.",
            session.pigment_units, batch.lot, batch.quantity
        ),
        warning: if q.warning.as_deref() == Some("expired-batch") {
            "The batch had expired on the session date; it was used with the reason recorded.".into()
        } else {
            String::new()
        },
    })
}

/// The logged page's query.
#[derive(Debug, Deserialize)]
pub(super) struct LoggedQuery {
    #[serde(default)]
    warning: Option<String>,
}
