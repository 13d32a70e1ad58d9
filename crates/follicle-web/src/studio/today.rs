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

pub(super) async fn today(State(state): State<AppState>, page: Page) -> PageResult {
    let store = state.store();
    let now = OffsetDateTime::now_utc();
    let today = now.date();
    let start = today.midnight().assume_utc();
    let clients = store.search_clients(&page.actor, "", 500).await?;
    let names: HashMap<Uuid, String> = clients.iter().map(|c| (c.id, c.name.clone())).collect();
    let name = |id: &Uuid| names.get(id).cloned().unwrap_or_else(|| "(client)".into());
    let line = |a: &follicle_store::Appointment| DiaryLine {
        when: when(a.starts_at),
        client_id: a.client_id,
        client: name(&a.client_id),
        minutes: a.duration_minutes,
        status: a.status.as_str(),
        notes: a.notes.clone(),
    };
    // One read of the diary: six years back for the reminders, a week ahead for the sessions.
    let tomorrow = start + Duration::days(1);
    let diary = store
        .appointments_between(
            &page.actor,
            start - Duration::days(366 * 6),
            start + Duration::days(7),
        )
        .await?;
    let (todays, later): (Vec<_>, Vec<_>) = diary
        .iter()
        .filter(|a| a.starts_at >= start)
        .partition(|a| a.starts_at < tomorrow);
    // Reminders come from completed sessions: aftercare items that begin today, and
    // touch-ups falling due within 30 days of the typical fading forecast.
    let settings = state.clinic_settings(&page.actor).await?;
    let mut reminders = Vec::new();
    let mut last_session: HashMap<Uuid, Date> = HashMap::new();
    let completed = diary
        .iter()
        .filter(|a| a.starts_at < tomorrow && a.status == AppointmentStatus::Completed);
    for a in completed {
        let day_n = (today - a.starts_at.date()).whole_days();
        for item in &settings.aftercare.items {
            if item.only_if.is_none() && i64::from(item.from_day) == day_n && day_n > 0 {
                reminders.push(Reminder {
                    client_id: a.client_id,
                    client: name(&a.client_id),
                    text: format!("Day {day_n} after the session: {}", item.text),
                });
            }
        }
        let last = last_session.entry(a.client_id).or_insert(a.starts_at.date());
        *last = (*last).max(a.starts_at.date());
    }
    let years = FadingModel::typical(&settings.fading).years_to_touch_up();
    let mut touch_ups = Vec::new();
    for (client_id, last) in &last_session {
        let due = *last + Duration::days((years * 365.25).round() as i64);
        if due <= today + Duration::days(30) {
            touch_ups.push(Reminder {
                client_id: *client_id,
                client: name(client_id),
                text: format!(
                    "Touch-up due {} (last session {})",
                    self::day(due),
                    self::day(*last)
                ),
            });
        }
    }
    let mut recent = clients;
    recent.sort_by_key(|c| std::cmp::Reverse(c.updated_at));
    recent.truncate(8);
    render(&TodayPage {
        nav: Nav::new(&page, "today"),
        date: format!("{}, {}", today.weekday(), day(today)),
        today: todays.into_iter().map(line).collect(),
        week: later.into_iter().map(line).collect(),
        reminders,
        touch_ups,
        recent,
    })
}
