//! The plan as an iCalendar file (RFC 5545): sessions as timed events with a reminder the day
//! before, aftercare milestones and the touch-up as all-day events.
//!
//! Output is deterministic for the same plan: UIDs derive from the client and the date, and
//! DTSTAMP is the assessment date, so a re-import replaces events instead of doubling them.

use follicle_core::Settings;
use follicle_core::plan::Plan;
use follicle_core::settings::AftercareKind;
use icalendar::{Alarm, Calendar, Component, Event, EventLike, Trigger};
use time::{Date, Duration, PrimitiveDateTime};

fn all_day(date: Date, summary: &str, description: &str, uid: String, stamp: &str) -> Event {
    let next = date.next_day().unwrap_or(date);
    Event::new()
        .summary(summary)
        .description(description)
        .starts(date)
        .ends(next)
        .uid(&uid)
        .add_property("DTSTAMP", stamp)
        .add_property("TRANSP", "TRANSPARENT")
        .done()
}

/// Writes the calendar.
pub fn ics(plan: &Plan, settings: &Settings) -> String {
    let a = &plan.assessment;
    let who = a.client.name.clone().unwrap_or_else(|| "client".into());
    let slug: String = who
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let stamp = format!("{}T000000Z", a.assessed_on.to_string().replace('-', ""));
    let uid = |what: &str| format!("{slug}-{}-{what}@follicle", a.assessed_on);
    let mut cal = Calendar::new();
    cal.name(&format!("SMP treatment: {who}"));
    let start_time =
        follicle_core::plan::parse_clock(&settings.sessions.start_time).unwrap_or(time::Time::MIDNIGHT);
    let n = plan.sessions.len();
    for (i, s) in plan.sessions.iter().enumerate() {
        // A milestone on or after the next session is superseded by that session's aftercare.
        let next_session = plan.sessions.get(i + 1).map(|n| n.date);
        let start = PrimitiveDateTime::new(s.date, start_time);
        let end = start + Duration::minutes((s.duration_hours * 60.0).round() as i64);
        let zones: Vec<String> = s.zones.iter().map(|z| z.label.clone()).collect();
        let description = format!(
            "{}\nZones: {}\nAbout {} dots, needle {}, mix {:.0}% water ({}).\nBefore: no minoxidil for 3 days, no alcohol the day before; wash the scalp the morning of the session.",
            s.purpose_text,
            zones.join(", "),
            s.estimated_dots,
            s.needle,
            s.pigment_dilution * 100.0,
            s.pigment_shade
        );
        cal.push(
            Event::new()
                .summary(&format!("SMP session {} of {n}", s.index))
                .description(&description)
                .starts(start)
                .ends(end)
                .uid(&uid(&format!("session-{}", s.index)))
                .add_property("DTSTAMP", &stamp)
                .alarm(
                    Alarm::display(
                        &format!("SMP session {} tomorrow", s.index),
                        Trigger::before_start(chrono::Duration::days(1)),
                    )
                    .uid(&uid(&format!("session-{}-alarm", s.index)))
                    .add_property("DTSTAMP", &stamp)
                    .done(),
                )
                .done(),
        );
        // Milestones: the single-day "do" items (first wash, back to the gym, swimming again …).
        for item in plan
            .aftercare
            .items
            .iter()
            .filter(|i| i.kind == AftercareKind::Do && i.from_day == i.to_day)
        {
            let Some(date) = s.date.checked_add(Duration::days(i64::from(item.from_day))) else {
                continue;
            };
            if next_session.is_some_and(|next| date >= next) {
                continue;
            }
            cal.push(all_day(
                date,
                &format!(
                    "Aftercare (session {}, day {}): {}",
                    s.index, item.from_day, item.text
                ),
                &format!("{} — source: {}", item.text, item.source),
                uid(&format!("session-{}-{}", s.index, item.id)),
                &stamp,
            ));
        }
    }
    if let Some(q) = &plan.quote {
        cal.push(all_day(
            q.touch_up.due_date,
            "SMP touch-up due",
            &format!(
                "About {:.1} years after the last session the dots have faded to the touch-up threshold. Book a touch-up ({} {}).",
                q.touch_up.years_after_last_session, q.currency, q.touch_up.price
            ),
            uid("touch-up"),
            &stamp,
        ));
    }
    cal.done().to_string()
}
