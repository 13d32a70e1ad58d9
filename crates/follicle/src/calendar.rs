//! The plan as an iCalendar file (RFC 5545): the patch-test visit and the sessions as timed
//! events with a reminder the day before, pre-care (from the settings) as an all-day event on
//! the day it starts before each session, aftercare milestones and the touch-up as all-day
//! events. A plan that cannot be booked yet (no dates) gives an empty calendar.
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
    if let Some(v) = &plan.patch_test
        && let Some(date) = v.date
    {
        let start = PrimitiveDateTime::new(date, start_time);
        let end = start + Duration::minutes((v.duration_hours * 60.0).round() as i64);
        cal.push(
            Event::new()
                .summary("SMP patch test")
                .description(&format!(
                    "{}. Session 1 is at least {} days later. Asked for by: {}. Source: {}.",
                    v.text,
                    v.days_before_first_session,
                    v.rules.join(", "),
                    v.source
                ))
                .starts(start)
                .ends(end)
                .uid(&uid("patch-test"))
                .add_property("DTSTAMP", &stamp)
                .alarm(
                    Alarm::display(
                        "SMP patch test tomorrow",
                        Trigger::before_start(chrono::Duration::days(1)),
                    )
                    .uid(&uid("patch-test-alarm"))
                    .add_property("DTSTAMP", &stamp)
                    .done(),
                )
                .done(),
        );
    }
    let precare_lines: Vec<String> = plan
        .precare
        .iter()
        .map(|i| match i.hours_before {
            0 => format!("That day: {}", i.text),
            h => format!("From {h} h before: {}", i.text),
        })
        .collect();
    for (i, s) in plan.sessions.iter().enumerate() {
        let Some(date) = s.date else { continue };
        // A milestone on or after the next session is superseded by that session's aftercare.
        let next_session = plan.sessions.get(i + 1).and_then(|n| n.date);
        let start = PrimitiveDateTime::new(date, start_time);
        let end = start + Duration::minutes((s.duration_hours * 60.0).round() as i64);
        let zones: Vec<String> = s.zones.iter().map(|z| z.label.clone()).collect();
        let mut description = format!(
            "{}\nZones: {}\nAbout {} dots, needle {}, mix {:.0}% water ({}).",
            s.purpose_text,
            zones.join(", "),
            s.estimated_dots,
            s.needle,
            s.pigment_dilution * 100.0,
            s.pigment_shade
        );
        if !precare_lines.is_empty() {
            description.push_str("\nBefore the session:\n");
            description.push_str(&precare_lines.join("\n"));
            // Pre-care starts on the day of its earliest item; one all-day event says what from when.
            let days = plan.precare.iter().map(|p| p.days_before()).max().unwrap_or(0);
            if let Some(from) = date.checked_sub(Duration::days(i64::from(days)))
                && days > 0
            {
                cal.push(all_day(
                    from,
                    &format!("Pre-care for SMP session {} ({})", s.index, date),
                    &precare_lines.join("\n"),
                    uid(&format!("session-{}-precare", s.index)),
                    &stamp,
                ));
            }
        }
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
            let Some(date) = date.checked_add(Duration::days(i64::from(item.from_day))) else {
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
    if let Some(q) = &plan.quote
        && let Some(due) = q.touch_up.due_date
    {
        cal.push(all_day(
            due,
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
