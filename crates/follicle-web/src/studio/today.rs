//! Today: the day's and the week's sessions, aftercare and touch-up reminders due, and the
//! clients seen most recently.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use follicle_core::fading::FadingModel;
use follicle_store::{AppointmentStatus, Client};
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use super::{Nav, Page, PageResult, render};
use crate::state::AppState;

/// One line of the diary.
#[derive(Debug)]
pub struct DiaryLine {
    /// "Mon 23 Nov 10:00".
    pub when: String,
    /// Client id.
    pub client_id: Uuid,
    /// Client name.
    pub client: String,
    /// Minutes.
    pub minutes: i64,
    /// Status.
    pub status: &'static str,
    /// Notes.
    pub notes: String,
    /// What the client has due at the desk (`£250.50 due`), or empty.
    pub due: String,
}

/// A reminder due today.
#[derive(Debug)]
pub struct Reminder {
    /// Client id.
    pub client_id: Uuid,
    /// Client name.
    pub client: String,
    /// What to remind them of.
    pub text: String,
}

#[derive(Template)]
#[template(path = "today.html")]
struct TodayPage {
    nav: Nav,
    date: String,
    today: Vec<DiaryLine>,
    week: Vec<DiaryLine>,
    reminders: Vec<Reminder>,
    touch_ups: Vec<Reminder>,
    recent: Vec<Client>,
    /// Clients' open requests to move a visit: (appointment id, client, visit, their words).
    move_requests: Vec<(Uuid, String, String, String)>,
}

/// `Mon 23 Nov 10:00`.
pub fn when(t: OffsetDateTime) -> String {
    format!(
        "{} {} {} {:02}:{:02}",
        &t.weekday().to_string()[..3],
        t.day(),
        &t.month().to_string()[..3],
        t.hour(),
        t.minute()
    )
}

/// `23 Nov 2026`.
pub fn day(d: Date) -> String {
    format!("{} {} {}", d.day(), &d.month().to_string()[..3], d.year())
}

/// A touch-up is listed from 30 days before it falls due…
const TOUCH_UP_NOTICE_DAYS: i64 = 30;
/// …until it is this many days overdue (a client not called back by then is no longer
/// "today's" work; the client's record keeps the forecast).
const TOUCH_UP_OVERDUE_DAYS: i64 = 90;
/// Clients on the "seen most recently" list.
const RECENT_CLIENTS: i64 = 8;

pub(super) async fn today(State(state): State<AppState>, page: Page) -> PageResult {
    let store = state.store();
    let now = OffsetDateTime::now_utc();
    let today = now.date();
    let start = today.midnight().assume_utc();
    let tomorrow = start + Duration::days(1);
    // Each read is a window (issue 16): the week ahead; the days whose sessions have an
    // aftercare item beginning today; the sessions whose touch-up falls due about now.
    let week = store
        .appointments_between(&page.actor, start, start + Duration::days(7))
        .await?;
    let settings = state.clinic_settings(&page.actor).await?;
    let mut days: Vec<i64> = settings
        .aftercare
        .items
        .iter()
        .filter(|item| item.only_if.is_none() && item.from_day > 0)
        .map(|item| i64::from(item.from_day))
        .collect();
    days.sort_unstable();
    days.dedup();
    let mut aftercare = Vec::new();
    for day_n in days {
        let day = start - Duration::days(day_n);
        let sessions = store
            .appointments_between(&page.actor, day, day + Duration::days(1))
            .await?;
        for a in sessions
            .into_iter()
            .filter(|a| a.status == AppointmentStatus::Completed)
        {
            for item in &settings.aftercare.items {
                if item.only_if.is_none() && i64::from(item.from_day) == day_n {
                    aftercare.push((
                        a.client_id,
                        format!("Day {day_n} after the session: {}", item.text),
                    ));
                }
            }
        }
    }
    // Touch-ups due from `TOUCH_UP_OVERDUE_DAYS` ago to `TOUCH_UP_NOTICE_DAYS` ahead, from the
    // typical fading forecast: the clients whose last completed session is that long ago.
    let years = FadingModel::typical(&settings.fading).years_to_touch_up();
    let touch_up_days = (years * 365.25).round() as i64;
    let last_sessions = store
        .last_completed_between(
            &page.actor,
            start - Duration::days(touch_up_days + TOUCH_UP_OVERDUE_DAYS),
            tomorrow - Duration::days(touch_up_days - TOUCH_UP_NOTICE_DAYS),
        )
        .await?;
    let move_requests = store.open_move_requests(&page.actor).await?;
    let mut ids: Vec<Uuid> = week.iter().map(|a| a.client_id).collect();
    ids.extend(move_requests.iter().map(|(r, _)| r.client_id));
    ids.extend(aftercare.iter().map(|(id, _)| *id));
    ids.extend(last_sessions.iter().map(|(id, _)| *id));
    let names: HashMap<Uuid, String> = store.client_names(&page.actor, &ids).await?;
    let week_clients: Vec<Uuid> = week.iter().map(|a| a.client_id).collect();
    let due = store.due_payments(&page.actor, &week_clients).await?;
    let name = |id: &Uuid| names.get(id).cloned().unwrap_or_else(|| "(client)".into());
    let line = |a: &follicle_store::Appointment| DiaryLine {
        when: when(a.starts_at),
        client_id: a.client_id,
        client: name(&a.client_id),
        minutes: a.duration_minutes,
        status: a.status.as_str(),
        notes: a.notes.clone(),
        due: due
            .get(&a.client_id)
            .map(|sums| {
                sums.iter()
                    .map(|(currency, amount)| crate::documents::money_minor(currency, *amount))
                    .collect::<Vec<_>>()
                    .join(" + ")
                    + " due"
            })
            .unwrap_or_default(),
    };
    let (todays, later): (Vec<_>, Vec<_>) = week.iter().partition(|a| a.starts_at < tomorrow);
    let reminders = aftercare
        .into_iter()
        .map(|(client_id, text)| Reminder {
            client_id,
            client: name(&client_id),
            text,
        })
        .collect();
    let touch_ups = last_sessions
        .iter()
        .map(|(client_id, at)| {
            let last = at.date();
            let due = last + Duration::days(touch_up_days);
            Reminder {
                client_id: *client_id,
                client: name(client_id),
                text: format!(
                    "Touch-up due {} (last session {})",
                    self::day(due),
                    self::day(last)
                ),
            }
        })
        .collect();
    let recent = store.recent_clients(&page.actor, RECENT_CLIENTS).await?;
    render(&TodayPage {
        nav: Nav::new(&page, "today"),
        date: format!("{}, {}", today.weekday(), day(today)),
        today: todays.into_iter().map(line).collect(),
        week: later.into_iter().map(line).collect(),
        reminders,
        touch_ups,
        recent,
        move_requests: move_requests
            .iter()
            .map(|(r, starts_at)| {
                (
                    r.appointment_id,
                    name(&r.client_id),
                    when(*starts_at),
                    super::diary::move_request_words(r),
                )
            })
            .collect(),
    })
}
