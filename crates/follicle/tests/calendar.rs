//! The `.ics` output, read back by an independent parser (the `ical` crate).

use std::io::BufReader;

use serde_json::Value;

use super::{DATES, examples, follicle, stderr, stdout};

fn property<'a>(props: &'a [ical::property::Property], name: &str) -> Option<&'a str> {
    props
        .iter()
        .find(|p| p.name == name)
        .and_then(|p| p.value.as_deref())
}

#[test]
fn calendars_parse_back_with_every_session_and_reminder() {
    let dir = std::env::temp_dir().join(format!("follicle-ics-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for path in examples() {
        let ics = dir.join(format!("{}.ics", path.file_stem().unwrap().to_str().unwrap()));
        let mut args = vec![
            "plan",
            path.to_str().unwrap(),
            "--format",
            "json",
            "--ics",
            ics.to_str().unwrap(),
        ];
        args.extend(DATES);
        let out = follicle(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        let plan: Value = serde_json::from_str(&stdout(&out)).unwrap();
        // A plan that cannot be booked yet has undated sessions, and they are not in the calendar.
        let sessions: Vec<&Value> = plan["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["date"].is_string())
            .collect();

        let reader = ical::IcalParser::new(BufReader::new(std::fs::File::open(&ics).unwrap()));
        let calendars: Vec<_> = reader
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("{}: {e}", ics.display()));
        assert_eq!(calendars.len(), 1);
        let cal = &calendars[0];
        assert_eq!(property(&cal.properties, "VERSION"), Some("2.0"));

        let session_events: Vec<_> = cal
            .events
            .iter()
            .filter(|e| property(&e.properties, "SUMMARY").is_some_and(|s| s.starts_with("SMP session")))
            .collect();
        assert_eq!(session_events.len(), sessions.len(), "{}", ics.display());
        for (event, session) in session_events.iter().zip(&sessions) {
            let date = session["date"].as_str().unwrap().replace('-', "");
            let start = property(&event.properties, "DTSTART").unwrap();
            assert!(start.starts_with(&format!("{date}T")), "{start} vs {date}");
            let end = property(&event.properties, "DTEND").unwrap();
            assert!(end > start);
            assert_eq!(event.alarms.len(), 1, "a reminder the day before");
            // The settings' pre-care is in the session's description (the wash item is on every plan).
            // Compared without spaces: the parser's unfolding of long lines can drop one.
            let description = property(&event.properties, "DESCRIPTION")
                .unwrap()
                .replace(' ', "");
            assert!(description.contains("Washthescalpthatmorning"), "{description}");
        }
        // Pre-care starts 14 days before each session (the sunburn item), as an all-day event.
        let precare = cal.events.iter().filter(|e| {
            property(&e.properties, "SUMMARY").is_some_and(|s| s.starts_with("Pre-care for SMP session"))
        });
        assert_eq!(precare.count(), sessions.len(), "{}", ics.display());
        // The patch-test visit, when the plan has one with a date, before session 1.
        let patch = cal
            .events
            .iter()
            .find(|e| property(&e.properties, "SUMMARY") == Some("SMP patch test"));
        match plan["patch_test"]["date"].as_str() {
            Some(day) => {
                let start = property(&patch.unwrap().properties, "DTSTART").unwrap();
                assert!(start.starts_with(&format!("{}T", day.replace('-', ""))));
                let first = sessions[0]["date"].as_str().unwrap();
                assert!(day < first, "{day} before {first}");
            }
            None => assert!(patch.is_none()),
        }
        let mut uids: Vec<&str> = cal
            .events
            .iter()
            .map(|e| property(&e.properties, "UID").unwrap())
            .collect();
        let count = uids.len();
        uids.sort_unstable();
        uids.dedup();
        assert_eq!(uids.len(), count, "UIDs are unique");
        for e in &cal.events {
            assert!(
                property(&e.properties, "DTSTAMP").is_some(),
                "DTSTAMP is required by RFC 5545"
            );
        }
        if let Some(due) = plan["quote"]["touch_up"]["due_date"].as_str() {
            let touch = cal
                .events
                .iter()
                .find(|e| property(&e.properties, "SUMMARY") == Some("SMP touch-up due"))
                .unwrap();
            assert_eq!(
                property(&touch.properties, "DTSTART"),
                Some(due.replace('-', "").as_str())
            );
            let first_wash = cal.events.iter().filter(|e| {
                property(&e.properties, "SUMMARY").is_some_and(|s| s.contains("First gentle wash"))
            });
            assert_eq!(
                first_wash.count(),
                sessions.len(),
                "a first-wash reminder after every session"
            );
        } else {
            assert!(cal.events.is_empty(), "no plan or no dates, no events");
        }
    }
}

#[test]
fn the_same_plan_gives_the_same_calendar() {
    let dir = std::env::temp_dir().join(format!("follicle-ics-same-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let run = |name: &str| {
        let path = dir.join(name);
        let mut args = vec![
            "plan",
            "examples/clients/blood-thinners.toml",
            "--ics",
            path.to_str().unwrap(),
        ];
        args.extend(DATES);
        assert!(follicle(&args).status.success());
        std::fs::read_to_string(path).unwrap()
    };
    assert_eq!(run("a.ics"), run("b.ics"));
}
