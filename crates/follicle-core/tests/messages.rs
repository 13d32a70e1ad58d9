//! Messages to clients: templates and their variables, the aftercare days and words, the
//! clinic's time zone and quiet hours, and the retry backoff, from the default settings.

use std::collections::BTreeMap;

use follicle_core::Settings;
use follicle_core::messages::{
    AftercareLine, MessageKind, SmsLength, aftercare_days, aftercare_sms_text, aftercare_text,
    check_template, e164, local, local_time, outside_quiet_hours, render, retry_delay, sms_keyword,
    sms_length, sms_text, wall_clock,
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

// ----- text messages -----

/// One phone number as typed, read with a calling code: its E.164 form, or a piece of the error.
fn check_e164(typed: &str, calling_code: u32, expected: Result<&str, &str>) {
    match (e164(typed, calling_code), expected) {
        (Ok(got), Ok(want)) => assert_eq!(got, want, "{typed:?}"),
        (Err(got), Err(want)) => assert!(got.contains(want), "{typed:?}: {got}"),
        (got, want) => panic!("{typed:?} with +{calling_code}: got {got:?}, expected {want:?}"),
    }
}

#[test]
fn phone_numbers_become_e164_with_the_clinics_calling_code() {
    check_e164("07700 900123", 44, Ok("+447700900123"));
    check_e164("+44 7700 900123", 44, Ok("+447700900123"));
    check_e164("+44 (0)7700-900 123", 44, Ok("+447700900123"));
    check_e164("0044 7700 900123", 1, Ok("+447700900123"));
    check_e164("(212) 555-0100", 1, Ok("+12125550100"));
    check_e164("06 1234 5678", 39, Ok("+390612345678"));
    check_e164("030 1234567", 49, Ok("+49301234567"));
    check_e164("", 44, Err("no phone number"));
    check_e164("0770 ext 12", 44, Err("'e' at character 6"));
    check_e164("44+7700", 44, Err("'+' at character 3"));
    check_e164("+44 7700 900123 4567 89", 44, Err("E.164"));
    check_e164("+0 7700 900123", 44, Err("not starting with 0"));
}

#[test]
fn stop_and_start_are_whole_replies_in_any_case() {
    for (reply, expected) in [
        ("STOP", Some(true)),
        (" stop\n", Some(true)),
        ("Unsubscribe", Some(true)),
        ("stopall", Some(true)),
        ("cancel", Some(true)),
        ("END", Some(true)),
        ("quit", Some(true)),
        ("start", Some(false)),
        ("Unstop", Some(false)),
        ("Stop by at 10?", None),
        ("yes", None),
        ("", None),
    ] {
        assert_eq!(sms_keyword(reply), expected, "{reply:?}");
    }
}

#[test]
fn a_text_is_counted_in_gsm_parts_or_ucs2_parts() {
    let length = |units: usize, gsm: bool, parts: usize| SmsLength { gsm, units, parts };
    assert_eq!(sms_length(&"a".repeat(160)), length(160, true, 1));
    assert_eq!(sms_length(&"a".repeat(161)), length(161, true, 2));
    assert_eq!(sms_length(&"a".repeat(306)), length(306, true, 2));
    assert_eq!(sms_length(&"a".repeat(307)), length(307, true, 3));
    // € and [ take two units in the GSM alphabet; é and £ one.
    assert_eq!(sms_length("€[é£"), length(6, true, 1));
    // One character outside it and the whole goes in UCS-2: 70 alone, 67 a part.
    assert_eq!(
        sms_length(&format!("Łukasz {}", "a".repeat(63))),
        length(70, false, 1)
    );
    assert_eq!(
        sms_length(&format!("Łukasz {}", "a".repeat(64))),
        length(71, false, 2)
    );
}

#[test]
fn a_long_text_is_shortened_in_its_longest_value_and_keeps_the_stop_words() {
    let template = "{clinic_name}, day {day}: {aftercare} Reply STOP to opt out.";
    let values = |aftercare: &str| {
        BTreeMap::from([
            ("clinic_name", "Northside SMP".to_owned()),
            ("day", "4".to_owned()),
            ("aftercare", aftercare.to_owned()),
        ])
    };
    // Short: as it is, curly quotes and dashes put in GSM form, spaces run together.
    let short = sms_text(template, &values("Don\u{2019}t   wash \u{2013} yet."), 2);
    assert_eq!(
        short,
        "Northside SMP, day 4: Don't wash - yet. Reply STOP to opt out."
    );
    assert!(sms_length(&short).gsm);
    // Long: the aftercare is cut at a word's end with "...", the ending stays, within 2 parts.
    let long_text = "word ".repeat(200);
    let long = sms_text(template, &values(&long_text), 2);
    let length = sms_length(&long);
    assert!(length.parts <= 2 && length.units > 250, "{length:?}: {long}");
    assert!(long.ends_with("word... Reply STOP to opt out."), "{long}");
    assert!(long.starts_with("Northside SMP, day 4: word word"), "{long}");
    // One part allowed: still ends with the way out.
    let one = sms_text(template, &values(&long_text), 1);
    assert_eq!(sms_length(&one).parts, 1, "{one}");
    assert!(one.ends_with("Reply STOP to opt out."), "{one}");
    // A template too long in itself is cut at its end.
    let own = sms_text(&"Long words here. ".repeat(30), &BTreeMap::new(), 1);
    assert!(own.ends_with("...") && sms_length(&own).parts == 1, "{own}");
}

#[test]
fn the_text_of_an_aftercare_day_is_one_line() {
    let settings = Settings::default();
    let lines = default_lines(&settings);
    let text = aftercare_sms_text(&lines, 4);
    assert!(!text.contains('\n'), "{text}");
    assert!(text.starts_with("From today: "), "{text}");
    assert!(text.contains(" Still: ") || text.contains(" Over: "), "{text}");
    // The same instructions as the email's.
    let email = aftercare_text(&lines, 4);
    for line in email.lines().filter_map(|l| l.strip_prefix("- ")) {
        assert!(
            text.contains(line.trim_end_matches('.')),
            "{line:?} not in {text}"
        );
    }
}

#[test]
fn every_kind_the_clinic_may_text_has_default_words_that_fit() {
    let settings = Settings::default();
    for kind in MessageKind::OPTIONAL {
        let template = settings.messages.template(kind).expect("a template");
        assert!(!template.sms.is_empty(), "{kind:?}");
        assert!(check_template(&template.sms, kind).is_ok(), "{kind:?}");
    }
    for kind in [MessageKind::PortalLink, MessageKind::SignedConsent] {
        assert!(
            settings.messages.template(kind).unwrap().sms.is_empty(),
            "{kind:?}: email only"
        );
    }
    assert!(settings.messages.sends_sms(MessageKind::Reminder));
    assert!(settings.messages.sends_sms(MessageKind::TouchUpRecall));
    assert!(!settings.messages.sends_sms(MessageKind::PortalLink));
    // A text for a kind by email only, or an unknown kind to text, is refused by name.
    let e = Settings::with_overrides("[[messages.templates]]\nid = \"portal_link\"\nsms = \"{link}\"\n")
        .unwrap_err();
    assert!(
        e.message.contains("email only") && e.to_string().contains("sms"),
        "{e}"
    );
    let e = Settings::with_overrides("[messages]\nsms_send = [\"portal_link\"]\n").unwrap_err();
    assert!(e.to_string().contains("messages.sms_send[0]"), "{e}");
    let e = Settings::with_overrides("[messages]\nsms_max_parts = 0\n").unwrap_err();
    assert!(e.to_string().contains("messages.sms_max_parts"), "{e}");
    let e = Settings::with_overrides("[clinic]\ncalling_code = 0\n").unwrap_err();
    assert!(e.to_string().contains("clinic.calling_code"), "{e}");
}
