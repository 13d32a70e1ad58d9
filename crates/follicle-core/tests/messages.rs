//! Messages to clients: templates and their variables, the aftercare days and words, the
//! clinic's time zone and quiet hours, and the retry backoff, from the default settings.

use std::collections::BTreeMap;

use follicle_core::Settings;
use follicle_core::messages::{
    AftercareLine, MessageKind, aftercare_days, aftercare_text, check_template, local, local_time,
    outside_quiet_hours, render, retry_delay, wall_clock,
};
use time::macros::{date, datetime};

/// The default aftercare, as lines (what a plan without conditions gives).
fn default_lines(settings: &Settings) -> Vec<AftercareLine<'_>> {
    settings
        .aftercare
        .items
        .iter()
        .filter(|i| i.only_if.is_none())
        .map(|i| AftercareLine {
            from_day: i.from_day,
            to_day: i.to_day,
            text: &i.text,
        })
        .collect()
}

#[test]
fn an_unknown_variable_is_named_with_the_allowed_ones() {
    let err = check_template("Hello {client_nme}", MessageKind::Reminder).unwrap_err();
    assert!(err.contains("{client_nme}"), "{err}");
    assert!(
        err.contains("{client_name}") && err.contains("{visit_time}"),
        "{err}"
    );
    // A visit's variables are not an aftercare message's.
    let err = check_template("{visit_date}", MessageKind::Aftercare).unwrap_err();
    assert!(err.contains("{visit_date}") && err.contains("{day}"), "{err}");
    assert!(check_template("{day} {{literal}}", MessageKind::Aftercare).is_ok());
    assert!(
        check_template("open {client_name", MessageKind::Aftercare)
            .unwrap_err()
            .contains("not closed")
    );
    assert!(check_template("a } alone", MessageKind::Aftercare).is_err());
}

#[test]
fn templates_are_filled_and_braces_kept() {
    let values = BTreeMap::from([("client_name", "Sam".to_owned()), ("day", "4".to_owned())]);
    assert_eq!(
        render("Hi {client_name}, day { day } {{x}}", &values),
        "Hi Sam, day 4 {x}"
    );
}

#[test]
fn a_settings_file_with_a_wrong_template_or_zone_is_refused_by_name() {
    let err = Settings::with_overrides(
        "[[messages.templates]]\nid = \"aftercare\"\nsubject = \"Day {dya}\"\nbody = \"x\"\n",
    )
    .unwrap_err();
    // Named by its place in the clinic's own file.
    assert_eq!(err.field, "messages.templates[0].subject", "{err}");
    assert!(err.message.contains("{dya}"), "{err}");
    let err = Settings::with_overrides("[clinic]\ntime_zone = \"Mars/Olympus\"\n").unwrap_err();
    assert_eq!(err.field, "clinic.time_zone");
    assert!(err.message.contains("Mars/Olympus") && err.message.contains("Europe/London"));
    let err = Settings::with_overrides("[messages]\nsend = [\"birthday\"]\n").unwrap_err();
    assert_eq!(err.field, "messages.send[0]");
    let err = Settings::with_overrides("[messages]\nquiet_from_hour = 24\n").unwrap_err();
    assert_eq!(err.field, "messages.quiet_from_hour");
    let err = Settings::with_overrides("[messages]\nretry_first_minutes = 60\nretry_max_minutes = 5\n")
        .unwrap_err();
    assert_eq!(err.field, "messages.retry_max_minutes");
}

#[test]
fn aftercare_messages_go_on_the_days_it_changes_and_day_4_is_the_first_wash() {
    let settings = Settings::default();
    let lines = default_lines(&settings);
    let days = aftercare_days(&lines, settings.messages.aftercare_last_day);
    assert_eq!(
        days,
        vec![4, 5, 7, 14, 28],
        "the days the default aftercare changes"
    );
    let day4 = aftercare_text(&lines, 4);
    let (from_today, rest) = day4.split_once("Still for now:").expect("sections");
    assert!(from_today.contains("First gentle wash"), "{day4}");
    assert!(rest.contains("No direct sun"), "{day4}");
    let over = day4.split_once("Over from today").expect("an ended section").1;
    assert!(over.contains("Do not wash or wet the scalp"), "{day4}");
    assert!(!over.contains("No direct sun"), "{day4}");
    assert_eq!(aftercare_text(&lines, 60), "");
}

#[test]
fn times_are_the_clinics_and_quiet_hours_hold() {
    let settings = Settings::default();
    let m = &settings;
    assert_eq!(m.clinic.time_zone, "Europe/London");
    // 09:00 in London is 09:00 UTC in winter and 08:00 UTC in summer.
    assert_eq!(
        local_time(m, date!(2026 - 12 - 07), 9),
        datetime!(2026-12-07 09:00 UTC)
    );
    assert_eq!(
        local_time(m, date!(2026 - 07 - 07), 9),
        datetime!(2026-07-07 08:00 UTC)
    );
    assert_eq!(local(m, datetime!(2026-07-07 08:00 UTC)).hour(), 9);
    // 21:30 in July (20:30 UTC) is quiet: it waits until 08:00 the next morning.
    assert_eq!(
        outside_quiet_hours(m, datetime!(2026-07-07 20:30 UTC)),
        datetime!(2026-07-08 07:00 UTC)
    );
    // 03:00 waits until 08:00 the same day; 12:00 goes.
    assert_eq!(
        outside_quiet_hours(m, datetime!(2026-12-07 03:00 UTC)),
        datetime!(2026-12-07 08:00 UTC)
    );
    // The diary's 10:00 (the clinic's wall clock, stored as 10:00 UTC) is 09:00 UTC in a London
    // summer and 15:00 UTC in a New York winter.
    assert_eq!(
        wall_clock(m, datetime!(2026-07-07 10:00 UTC)),
        datetime!(2026-07-07 09:00 UTC)
    );
    assert_eq!(
        wall_clock(m, datetime!(2026-12-07 10:00 UTC)),
        datetime!(2026-12-07 10:00 UTC)
    );
    let new_york = Settings::with_overrides("[clinic]\ntime_zone = \"America/New_York\"\n").unwrap();
    assert_eq!(
        wall_clock(&new_york, datetime!(2026-12-07 10:00 UTC)),
        datetime!(2026-12-07 15:00 UTC)
    );
    let noon = datetime!(2026-12-07 12:00 UTC);
    assert_eq!(outside_quiet_hours(m, noon), noon);
    let none = Settings::with_overrides("[messages]\nquiet_from_hour = 0\nquiet_to_hour = 0\n").unwrap();
    assert_eq!(
        outside_quiet_hours(&none, datetime!(2026-12-07 03:00 UTC)),
        datetime!(2026-12-07 03:00 UTC)
    );
}

#[test]
fn a_failed_message_waits_longer_each_time_up_to_the_cap() {
    let m = &Settings::default();
    let minutes: Vec<i64> = (1..=10).map(|n| retry_delay(m, n).whole_minutes()).collect();
    assert_eq!(minutes, vec![1, 2, 4, 8, 16, 32, 64, 128, 240, 240]);
}
