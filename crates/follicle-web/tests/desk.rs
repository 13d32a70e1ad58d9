//! The front desk's clients and the calendar feeds in the studio and the API (issue 14, items 5
//! and 6): a client's details changed with mistakes named beside their field, a likely duplicate
//! flagged at creation and created only when confirmed, a merge by the owner (not across
//! clinics), and calendar feeds read back by an independent iCalendar parser, with a 404 page
//! once revoked.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use time::macros::datetime;

use crate::mail_catcher::{cookie, csrf, form, text};
use crate::support::{Answer, App, Auth, Demo, id_of};

fn api(path: &str) -> String {
    format!("/api/v1{path}")
}

async fn post_form(app: &App, uri: &str, auth: &Auth, fields: &[(&str, &str)]) -> Answer {
    app.send(Method::POST, uri, &cookie(auth), form(fields), &[])
        .await
}

/// The client's contact details as the API answers them.
async fn client(demo: &Demo, id: &str) -> Value {
    demo.app
        .get(&api(&format!("/clients/{id}")), &demo.owner)
        .await
        .expect(StatusCode::OK)
}

pub async fn studio_edits_a_client_and_flags_a_duplicate(app: &App) {
    let demo = Demo::seed(app).await;
    let desk = &demo.front_desk;
    let token = csrf(desk);
    let first = demo.clients().await[0].clone();
    let id = first["id"].as_str().unwrap().to_owned();
    let name = first["name"].as_str().unwrap().to_owned();

    // The form shows the details as they are; the client's page links to it.
    let page = app.get(&format!("/clients/{id}"), &cookie(desk)).await;
    assert!(text(&page).contains(&format!("href=\"/clients/{id}/edit\"")));
    let page = app.get(&format!("/clients/{id}/edit"), &cookie(desk)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = text(&page);
    assert!(
        html.contains(&format!("value=\"{}\"", first["phone"].as_str().unwrap())),
        "{html}"
    );
    assert!(html.contains("<label for=\"phone\">"), "a label per control");
    assert!(
        !html.contains("id=\"notes\""),
        "the front desk does not see the notes"
    );

    // A phone number that cannot be right: named beside the field, nothing changed.
    let edit = format!("/clients/{id}/edit");
    let send = |phone: &'static str, email: &'static str| {
        let (edit, token, name) = (edit.clone(), token.clone(), name.clone());
        async move {
            let fields = [
                ("_csrf", token.as_str()),
                ("name", name.as_str()),
                ("phone", phone),
                ("email", email),
            ];
            post_form(app, &edit, desk, &fields).await
        }
    };
    let bad = send("call me", "new@example.com").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = text(&bad);
    assert!(html.contains("id=\"phone-error\""), "{html}");
    assert!(html.contains("expected a phone number of 7–15 digits"), "{html}");
    assert!(
        html.contains("got &#34;call me&#34;") || html.contains("got &quot;call me&quot;"),
        "{html}"
    );
    assert_eq!(client(&demo, &id).await["phone"], first["phone"]);
    let bad = send("+1 555 0199", "new@example").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(&bad).contains("id=\"email-error\""));
    // Without the CSRF token: refused.
    let forged = post_form(app, &format!("/clients/{id}/edit"), desk, &[("name", "Forged")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let saved = send("+1 555 0199", "New@Example.com").await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", text(&saved));
    let now = client(&demo, &id).await;
    assert_eq!(now["phone"], "+1 555 0199");
    assert_eq!(now["email"], "new@example.com");
    assert_eq!(
        now["notes"], first["notes"],
        "the notes the front desk could not see are kept"
    );

    // A new client with that email: flagged with a link to the other record, not created.
    let count = demo.clients().await.len();
    let duplicate = [
        ("_csrf", token.as_str()),
        ("name", "Someone Else"),
        ("email", "NEW@example.com"),
    ];
    let flagged = post_form(app, "/clients/new", desk, &duplicate).await;
    assert_eq!(flagged.status, StatusCode::CONFLICT);
    let html = text(&flagged);
    assert!(
        html.contains(&format!("href=\"/clients/{id}\" class=\"duplicate-link\"")),
        "{html}"
    );
    assert!(html.contains("same email"), "{html}");
    assert!(
        html.contains("value=\"Someone Else\""),
        "the values typed are kept"
    );
    assert!(
        html.contains("<label class=\"check\" for=\"confirm_duplicate\">"),
        "{html}"
    );
    assert_eq!(demo.clients().await.len(), count);
    // The same phone's digits, grouped otherwise, also flag.
    let by_phone = [
        ("_csrf", token.as_str()),
        ("name", "Third"),
        ("phone", "(1) 555-0199"),
    ];
    let flagged = post_form(app, "/clients/new", desk, &by_phone).await;
    assert_eq!(flagged.status, StatusCode::CONFLICT);
    assert!(text(&flagged).contains("same phone"));
    // The API asks the same question.
    let found = app
        .post(
            &api("/clients/duplicates"),
            desk,
            json!({"name": "X", "date_of_birth": null, "age_years": null,
            "phone": "", "email": "new@EXAMPLE.com", "notes": ""}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["client"]["id"], id.as_str());

    // Changing another client's email to that one is flagged the same way, and saved only
    // when the desk confirms it is a different person.
    let second = demo.clients().await[1].clone();
    let second_id = second["id"].as_str().unwrap().to_owned();
    let second_name = second["name"].as_str().unwrap().to_owned();
    let edit_second = format!("/clients/{second_id}/edit");
    let mut fields = vec![
        ("_csrf", token.as_str()),
        ("name", second_name.as_str()),
        ("email", "new@example.COM"),
    ];
    let flagged = post_form(app, &edit_second, desk, &fields).await;
    assert_eq!(flagged.status, StatusCode::CONFLICT);
    let html = text(&flagged);
    assert!(
        html.contains(&format!("href=\"/clients/{id}\" class=\"duplicate-link\"")),
        "{html}"
    );
    assert!(
        html.contains("same email") && html.contains("save the changes anyway"),
        "{html}"
    );
    assert_eq!(
        client(&demo, &second_id).await["email"],
        second["email"],
        "not saved"
    );
    fields.push(("confirm_duplicate", "yes"));
    let saved = post_form(app, &edit_second, desk, &fields).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", text(&saved));
    assert_eq!(client(&demo, &second_id).await["email"], "new@example.com");
    assert_eq!(found[0]["same"], json!(["email"]));
    // Confirmed: created.
    let mut confirmed = duplicate.to_vec();
    confirmed.push(("confirm_duplicate", "yes"));
    let created = post_form(app, "/clients/new", desk, &confirmed).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", text(&created));
    assert_eq!(demo.clients().await.len(), count + 1);
    // A bad email at creation is named, with the value and the rule.
    let bad = post_form(
        app,
        "/clients/new",
        desk,
        &[
            ("_csrf", token.as_str()),
            ("name", "Typo"),
            ("email", "typo@example"),
        ],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(&bad).contains("expected an address like name@example.com"),
        "{}",
        text(&bad)
    );
}

pub async fn the_owner_merges_a_duplicate_not_across_clinics(app: &App) {
    let demo = Demo::seed(app).await;
    let first = demo.clients().await[0].clone();
    let kept = first["id"].as_str().unwrap().to_owned();
    let appointments = |id: String| {
        let demo = &demo;
        async move {
            demo.app
                .get(&api(&format!("/clients/{id}/appointments")), &demo.owner)
                .await
                .expect(StatusCode::OK)
                .as_array()
                .unwrap()
                .len()
        }
    };
    let before = appointments(kept.clone()).await;
    // A second record of the same person, with a visit of its own.
    let copy = app
        .post(
            &api("/clients"),
            &demo.front_desk,
            json!({"name": first["name"], "date_of_birth": null,
            "age_years": null, "phone": first["phone"], "email": "", "notes": "second record"}),
        )
        .await
        .expect(StatusCode::CREATED);
    let copy_id = id_of(&copy).to_string();
    app.store
        .book_appointment(
            &app.store.actor(demo.front_desk_id).await.unwrap(),
            &follicle_store::NewAppointment {
                client_id: id_of(&copy),
                practitioner_id: Some(demo.practitioner_id),
                starts_at: datetime!(2030-01-15 10:00 UTC),
                duration_minutes: 60,
                notes: String::new(),
            },
        )
        .await
        .unwrap();

    // The front desk may not merge, in the studio or the API.
    let page = app
        .get(&format!("/clients/{kept}/merge"), &cookie(&demo.front_desk))
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.content_type().starts_with("text/html"));
    app.post(
        &api(&format!("/clients/{kept}/merge")),
        &demo.front_desk,
        json!({"merge_id": copy_id}),
    )
    .await
    .expect_error(StatusCode::FORBIDDEN, "forbidden");
    // Another clinic finds neither.
    let (other, _) = app.other_clinic("Elsewhere").await;
    app.post(
        &api(&format!("/clients/{kept}/merge")),
        &other,
        json!({"merge_id": copy_id}),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found");

    // The owner's merge page lists the likely duplicate.
    let owner = &demo.owner;
    let page = app.get(&format!("/clients/{kept}/merge"), &cookie(owner)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = text(&page);
    assert!(
        html.contains(&format!("name=\"merge_id\" value=\"{copy_id}\"")),
        "{html}"
    );
    assert!(html.contains("same phone"), "{html}");
    // A typo in the id: named.
    let token = csrf(owner);
    let typo = post_form(
        app,
        &format!("/clients/{kept}/merge"),
        owner,
        &[("_csrf", &token), ("merge_id", "12")],
    )
    .await;
    assert_eq!(typo.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(&typo).contains("merge_id: expected the other client&#39;s id")
            || text(&typo).contains("merge_id: expected the other client"),
        "{}",
        text(&typo)
    );
    let merged = post_form(
        app,
        &format!("/clients/{kept}/merge"),
        owner,
        &[("_csrf", &token), ("merge_id", &copy_id)],
    )
    .await;
    assert_eq!(merged.status, StatusCode::OK, "{}", text(&merged));
    assert!(
        text(&merged).contains("Merged: 1 appointments moved to this record"),
        "{}",
        text(&merged)
    );
    assert_eq!(appointments(kept.clone()).await, before + 1);
    app.get(&api(&format!("/clients/{copy_id}")), owner)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    // Merged into itself: refused, naming the field.
    let error = app
        .post(
            &api(&format!("/clients/{kept}/merge")),
            owner,
            json!({"merge_id": kept}),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(error["field"], "merge_id");
    // Through the API: the answer says what moved.
    let third = app
        .post(
            &api("/clients"),
            &demo.front_desk,
            json!({"name": "Third Copy", "date_of_birth": null,
            "age_years": 50, "phone": "", "email": "third@example.com", "notes": ""}),
        )
        .await
        .expect(StatusCode::CREATED);
    let answer = app
        .post(
            &api(&format!("/clients/{kept}/merge")),
            owner,
            json!({"merge_id": id_of(&third)}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(answer["client"]["id"], kept.as_str());
    assert_eq!(answer["moved"], json!({}));
}

/// A TEXT value as a calendar program shows it (RFC 5545 §3.3.11: `\,` `\;` `\\` `\n`; the
/// `ical` crate leaves them escaped).
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// The calendar's events, read by the `ical` crate: (UID, SUMMARY, DESCRIPTION, DTSTART,
/// LOCATION), the text unescaped.
fn events(ics: &str) -> Vec<[String; 5]> {
    let mut parser = ical::IcalParser::new(ics.as_bytes());
    let calendar = parser.next().expect("a calendar").expect("it parses");
    assert!(parser.next().is_none(), "one calendar");
    calendar
        .events
        .iter()
        .map(|e| {
            let get = |name: &str| {
                e.properties
                    .iter()
                    .find(|p| p.name == name)
                    .and_then(|p| p.value.as_deref().map(unescape))
                    .unwrap_or_default()
            };
            [
                get("UID"),
                get("SUMMARY"),
                get("DESCRIPTION"),
                get("DTSTART"),
                get("LOCATION"),
            ]
        })
        .collect()
}

/// The address on a feed page, as a path.
fn feed_path(html: &str) -> String {
    let start = html
        .find("/calendar/")
        .unwrap_or_else(|| panic!("no address in {html}"));
    let end = start + html[start..].find(".ics").unwrap() + 4;
    html[start..end].to_owned()
}

pub async fn calendar_feeds_are_read_by_a_calendar_and_revocable(app: &App) {
    let demo = Demo::seed(app).await;
    let owner = app.store.actor(demo.owner_id).await.unwrap();
    let settings = "[clinic]\ntime_zone = \"America/New_York\"\n[diary]\nrooms = [\"Room 1\", \"Room 2\"]\n";
    app.store
        .update_clinic_settings(&owner, settings, 8)
        .await
        .unwrap();
    let rules = follicle_store::DiaryRules::from_settings(
        &follicle_core::Settings::with_overrides(settings).unwrap(),
        datetime!(2029-12-01 08:00 UTC),
    );
    let sam = demo.clients().await[0].clone();
    let desk = app.store.actor(demo.front_desk_id).await.unwrap();
    // Two visits at 10:00 on the clinic's clock: winter (UTC−5) and summer (UTC−4), the
    // summer one in a room.
    let mut booked = Vec::new();
    for (at, room) in [
        (datetime!(2030-01-15 10:00 UTC), None),
        (datetime!(2030-07-16 10:00 UTC), Some("Room 2")),
    ] {
        let appointment = follicle_store::NewAppointment {
            client_id: id_of(&sam),
            practitioner_id: Some(demo.practitioner_id),
            starts_at: at,
            duration_minutes: 90,
            notes: "Allergic to latex; nervous about needles".into(),
        };
        let a = app
            .store
            .book(
                &desk,
                &follicle_store::NewBooking {
                    appointment,
                    kind: follicle_store::AppointmentKind::Session,
                    room: room.map(str::to_owned),
                    override_reason: String::new(),
                },
                &rules,
            )
            .await
            .unwrap();
        booked.push(a.id);
    }

    // The front desk makes the client's address; it is shown once.
    let id = sam["id"].as_str().unwrap();
    let page = app
        .get(&format!("/clients/{id}/calendar-feed"), &cookie(&demo.front_desk))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(text(&page).contains("No address yet."));
    let token = csrf(&demo.front_desk);
    let made = post_form(
        app,
        &format!("/clients/{id}/calendar-feed"),
        &demo.front_desk,
        &[("_csrf", &token), ("action", "make")],
    )
    .await;
    assert_eq!(made.status, StatusCode::OK, "{}", text(&made));
    let html = text(&made);
    assert!(html.contains("<label for=\"feed-address\">"));
    assert!(html.contains("webcal://localhost:8080/calendar/"), "{html}");
    let path = feed_path(&html);
    let again = app
        .get(&format!("/clients/{id}/calendar-feed"), &cookie(&demo.front_desk))
        .await;
    assert!(
        !text(&again).contains("/calendar/"),
        "the address is not shown again"
    );

    // Anyone with the address reads it, without signing in: a calendar.
    let feed = app.get(&path, &Auth::None).await;
    assert_eq!(feed.status, StatusCode::OK);
    assert_eq!(feed.content_type(), "text/calendar; charset=utf-8");
    let ics = text(&feed);
    assert!(ics.contains("X-WR-TIMEZONE:America/New_York"), "{ics}");
    let found = events(&ics);
    let appointments = app
        .get(&api(&format!("/clients/{id}/appointments")), &demo.owner)
        .await
        .expect(StatusCode::OK);
    let listed: Vec<String> = appointments
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["status"] != "cancelled")
        .map(|a| format!("{}@follicle", a["id"].as_str().unwrap()))
        .collect();
    let uids: Vec<String> = found.iter().map(|e| e[0].clone()).collect();
    assert_eq!(uids, listed, "every visit of the client's, in order");
    let winter = found
        .iter()
        .find(|e| e[0] == format!("{}@follicle", booked[0]))
        .unwrap();
    assert_eq!(winter[3], "20300115T150000Z", "10:00 in New York in January");
    assert_eq!(winter[1], format!("SMP session at {}", clinic_name(&demo).await));
    assert!(winter[2].starts_with("With "), "{winter:?}");
    let clinic = clinic_name(&demo).await;
    assert_eq!(winter[4], clinic, "where: the clinic, no room booked");
    let summer = found
        .iter()
        .find(|e| e[0] == format!("{}@follicle", booked[1]))
        .unwrap();
    assert_eq!(summer[3], "20300716T140000Z", "10:00 in New York in July");
    assert_eq!(
        summer[4],
        format!("{clinic}, Room 2"),
        "where: the clinic and the room"
    );
    // Nothing a stranger should not see.
    for secret in [
        "latex",
        "needles",
        sam["email"].as_str().unwrap(),
        sam["phone"].as_str().unwrap(),
        "Demo client",
    ] {
        assert!(!ics.contains(secret), "{secret:?} in the feed");
    }

    // The practitioner's own feed names clients by first name and initial.
    let token_p = csrf(&demo.practitioner);
    let mine = post_form(
        app,
        "/account/calendar-feed",
        &demo.practitioner,
        &[("_csrf", &token_p), ("action", "make")],
    )
    .await;
    assert_eq!(mine.status, StatusCode::OK);
    let own = text(&app.get(&feed_path(&text(&mine)), &Auth::None).await);
    let name = sam["name"].as_str().unwrap();
    let short = format!(
        "{} {}.",
        name.split_whitespace().next().unwrap(),
        name.split_whitespace().last().unwrap().chars().next().unwrap()
    );
    assert!(
        events(&own)
            .iter()
            .any(|e| e[1] == format!("SMP session: {short}")),
        "{own}"
    );
    assert!(!own.contains(name), "no full names in a practitioner's feed");
    // A colleague's feed is the owner's to make.
    let other = post_form(
        app,
        &format!("/staff/{}/calendar-feed", demo.practitioner_id),
        &demo.front_desk,
        &[("_csrf", &token), ("action", "make")],
    )
    .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    let by_owner = post_form(
        app,
        &format!("/staff/{}/calendar-feed", demo.practitioner_id),
        &demo.owner,
        &[("_csrf", &csrf(&demo.owner)), ("action", "make")],
    )
    .await;
    assert_eq!(by_owner.status, StatusCode::OK);
    // Renewed by the owner: the practitioner's earlier address stopped.
    let stale = app.get(&feed_path(&text(&mine)), &Auth::None).await;
    assert_eq!(stale.status, StatusCode::NOT_FOUND);

    // Revoked: a 404 page, not JSON.
    let revoked = post_form(
        app,
        &format!("/clients/{id}/calendar-feed"),
        &demo.front_desk,
        &[("_csrf", &token), ("action", "revoke")],
    )
    .await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert!(text(&revoked).contains("Revoked"));
    for gone in [
        path.clone(),
        "/calendar/00ff.ics".to_owned(),
        "/calendar/not-a-token".to_owned(),
    ] {
        let answer = app.get(&gone, &Auth::None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{gone}");
        assert!(
            answer.content_type().starts_with("text/html"),
            "{gone}: {}",
            answer.content_type()
        );
        assert!(text(&answer).contains("This calendar address is not valid"));
    }
    // A form without its token, or an unknown action: refused.
    let forged = post_form(
        app,
        &format!("/clients/{id}/calendar-feed"),
        &demo.front_desk,
        &[("action", "make")],
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let odd = post_form(
        app,
        &format!("/clients/{id}/calendar-feed"),
        &demo.front_desk,
        &[("_csrf", &token), ("action", "delete")],
    )
    .await;
    assert_eq!(odd.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(&odd).contains("action: expected make or revoke, got &#34;delete&#34;")
            || text(&odd).contains("expected make or revoke")
    );
}

async fn clinic_name(demo: &Demo) -> String {
    demo.app
        .get(&api("/clinic"), &demo.owner)
        .await
        .expect(StatusCode::OK)["name"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub async fn the_owners_reports_have_tables_charts_and_csv(app: &App) {
    let demo = Demo::seed(app).await;
    // The owner's; the others are refused with a page.
    for who in [&demo.front_desk, &demo.practitioner] {
        let refused = app.get("/reports", &cookie(who)).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(refused.content_type().starts_with("text/html"));
        let refused = app.get("/reports/months.csv", &cookie(who)).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }
    let owner = cookie(&demo.owner);
    let page = app.get("/reports", &owner).await;
    assert_eq!(page.status, StatusCode::OK, "{}", text(&page));
    let html = text(&page);
    for part in [
        "id=\"months-table\"",
        "id=\"deposits-report\"",
        "id=\"touch-ups-report\"",
        "id=\"batches-table\"",
        "<svg",
        "<title>Sessions by month</title>",
        "href=\"/reports/months.csv?months=12\"",
        "SB1-2026-031",
    ] {
        assert!(html.contains(part), "{part} missing from the page");
    }
    // The charts need no script: the page loads no more scripts than the layout does.
    let layout = text(&app.get("/account", &owner).await);
    assert_eq!(html.matches("<script").count(), layout.matches("<script").count());

    // The months as CSV: a header and twelve months; the demo's two sessions logged, priced.
    let csv = app.get("/reports/months.csv", &owner).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.content_type(), "text/csv; charset=utf-8");
    let body = text(&csv);
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(
        lines[0],
        "month,sessions,revenue,taken,currency,sessions unpriced,visits completed,no-shows,no-show %"
    );
    assert_eq!(lines.len(), 13, "{body}");
    let column = |i: usize| {
        lines[1..]
            .iter()
            .map(|l| l.split(',').nth(i).unwrap().parse::<i64>().unwrap())
            .sum::<i64>()
    };
    assert_eq!(column(1), 2, "{body}");
    assert!(column(2) > 0, "{body}");
    let three = text(&app.get("/reports/months.csv?months=3", &owner).await);
    assert_eq!(three.lines().count(), 4);
    let batches = text(&app.get("/reports/batches.csv", &owner).await);
    assert!(
        batches.starts_with("product,lot,expires on,recalled,sessions,units used,units in stock\r\n"),
        "{batches}"
    );
    assert!(batches.contains(",SB1-2026-031,"), "{batches}");
    // Deposits: the demo's clients booked ahead with no session yet (not the two treated).
    let deposits = text(&app.get("/reports/deposits.csv", &owner).await);
    assert!(
        deposits.starts_with("client,quote number,deposit,currency,first visit\r\n"),
        "{deposits}"
    );
    assert!(deposits.lines().count() >= 2, "{deposits}");
    // A touch-up falling due in 30 days: the last session that long before, by the forecast.
    let settings = follicle_core::Settings::default();
    let years = follicle_core::fading::FadingModel::typical(&settings.fading).years_to_touch_up();
    let touch_up_days = (years * 365.25).round() as i64;
    let today = time::OffsetDateTime::now_utc().date();
    let last = today + time::Duration::days(30 - touch_up_days);
    let ben = app
        .post(
            &api("/clients"),
            &demo.front_desk,
            json!({"name": "Ben Recall", "date_of_birth": null,
            "age_years": 50, "phone": "", "email": "", "notes": ""}),
        )
        .await
        .expect(StatusCode::CREATED);
    let desk = app.store.actor(demo.front_desk_id).await.unwrap();
    let visit = app
        .store
        .book_appointment(
            &desk,
            &follicle_store::NewAppointment {
                client_id: id_of(&ben),
                practitioner_id: Some(demo.practitioner_id),
                starts_at: last.with_hms(10, 0, 0).unwrap().assume_utc(),
                duration_minutes: 120,
                notes: String::new(),
            },
        )
        .await
        .unwrap();
    app.store
        .set_appointment_status(&desk, visit.id, follicle_store::AppointmentStatus::Completed)
        .await
        .unwrap();
    let touch_ups = text(&app.get("/reports/touch-ups.csv", &owner).await);
    assert_eq!(
        touch_ups,
        format!(
            "client,last session,touch-up due\r\nBen Recall,{last},{}\r\n",
            today + time::Duration::days(30)
        )
    );
    // Bad input: a clear page, not a 500.
    let unknown = app.get("/reports/everything.csv", &owner).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(text(&unknown).contains("months.csv, deposits.csv, touch-ups.csv and batches.csv"));
    for months in ["0", "121", "twelve"] {
        let bad = app.get(&format!("/reports?months={months}"), &owner).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{months}");
        assert!(text(&bad).contains("months: expected a whole number of months, 1–120"));
    }
}

/// The demo clinic's diary looks like a real week: each client's consultation is a visit before
/// their sessions, and no practitioner or room is booked twice at once.
pub async fn the_demo_week_is_staggered_with_consultations_first(app: &App) {
    let demo = Demo::seed(app).await;
    let moment = |v: &Value| {
        time::OffsetDateTime::parse(
            v.as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    let mut all = Vec::new();
    for client in demo.clients().await {
        let visits = app
            .get(
                &api(&format!("/clients/{}/appointments", id_of(&client))),
                &demo.owner,
            )
            .await
            .expect(StatusCode::OK);
        let visits = visits.as_array().unwrap().clone();
        let consultations: Vec<&Value> = visits.iter().filter(|a| a["kind"] == "consultation").collect();
        assert_eq!(consultations.len(), 1, "{}: {visits:?}", client["name"]);
        let consulted = moment(&consultations[0]["starts_at"]);
        for session in visits.iter().filter(|a| a["kind"] == "session") {
            assert!(
                moment(&session["starts_at"]) > consulted,
                "{}: a session before the consultation",
                client["name"]
            );
            assert!(
                session["consultation_id"].is_string(),
                "booked from the plan: {session}"
            );
        }
        all.extend(visits);
    }
    // No practitioner twice at once.
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            if a["practitioner_id"] != b["practitioner_id"] {
                continue;
            }
            let (sa, sb) = (moment(&a["starts_at"]), moment(&b["starts_at"]));
            let ea = sa + time::Duration::minutes(a["duration_minutes"].as_i64().unwrap());
            let eb = sb + time::Duration::minutes(b["duration_minutes"].as_i64().unwrap());
            assert!(ea <= sb || eb <= sa, "overlap: {a} and {b}");
        }
    }
    // Every visit in one of the clinic's two rooms, both used, no room twice at once.
    for a in &all {
        assert!(
            follicle_web::demo::DEMO_ROOMS.contains(&a["room"].as_str().unwrap_or_default()),
            "{a}"
        );
    }
    for room in follicle_web::demo::DEMO_ROOMS {
        assert!(all.iter().any(|a| a["room"] == room), "nothing in {room}");
    }
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            if a["room"] != b["room"] {
                continue;
            }
            let (sa, sb) = (moment(&a["starts_at"]), moment(&b["starts_at"]));
            let ea = sa + time::Duration::minutes(a["duration_minutes"].as_i64().unwrap());
            let eb = sb + time::Duration::minutes(b["duration_minutes"].as_i64().unwrap());
            assert!(ea <= sb || eb <= sa, "one room twice at once: {a} and {b}");
        }
    }
    // Not all at one time of day.
    let mut starts: Vec<String> = all
        .iter()
        .map(|a| a["starts_at"].as_str().unwrap()[11..16].to_owned())
        .collect();
    starts.sort();
    starts.dedup();
    assert!(starts.len() >= 3, "{starts:?}");
}

/// The calendar feeds through the API: made (the address once), looked at, revoked; a user's
/// own, and a colleague's only for the owner.
pub async fn calendar_feeds_through_the_api(app: &App) {
    let demo = Demo::seed(app).await;
    let sam = demo.clients().await[0].clone();
    let path = api(&format!("/clients/{}/calendar-feed", sam["id"].as_str().unwrap()));
    let none = app.get(&path, &demo.front_desk).await.expect(StatusCode::OK);
    assert!(none["made_at"].is_null() && none["address"].is_null(), "{none}");
    let made = app
        .post(&path, &demo.front_desk, json!({}))
        .await
        .expect(StatusCode::CREATED);
    let address = made["address"].as_str().unwrap().to_owned();
    assert!(
        address.ends_with(".ics") && address.contains("/calendar/"),
        "{made}"
    );
    let feed_path = &address[address.find("/calendar/").unwrap()..];
    let feed = app.get(feed_path, &Auth::None).await;
    assert_eq!(feed.status, StatusCode::OK);
    assert!(text(&feed).starts_with("BEGIN:VCALENDAR"));
    let shown = app.get(&path, &demo.front_desk).await.expect(StatusCode::OK);
    assert!(
        shown["made_at"].is_string() && shown["address"].is_null(),
        "shown once: {shown}"
    );
    let gone = app.delete(&path, &demo.front_desk).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(feed_path, &Auth::None).await.status,
        StatusCode::NOT_FOUND
    );

    // A user's own feed; a colleague's is the owner's to make.
    let own = api(&format!("/users/{}/calendar-feed", demo.practitioner_id));
    app.post(&own, &demo.practitioner, json!({}))
        .await
        .expect(StatusCode::CREATED);
    let colleague = api(&format!("/users/{}/calendar-feed", demo.front_desk_id));
    let refused = app.post(&colleague, &demo.practitioner, json!({})).await;
    assert!(
        matches!(refused.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "{}",
        text(&refused)
    );
    app.post(&colleague, &demo.owner, json!({}))
        .await
        .expect(StatusCode::CREATED);
    // Another clinic's owner finds neither.
    let (other, _) = app.other_clinic("Elsewhere").await;
    app.get(&path, &other)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.post(&own, &other, json!({}))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
}

/// The diary's rooms (issue 14): a room double-booked is refused as a 409 naming the
/// appointment there (in the API, and beside the room on the studio's form), a room not of the
/// clinic is a 422 naming its rooms, a move into a busy room is refused; the day view has a
/// column per room with `?by=room`, a column per practitioner by default, and the appointment's
/// page shows its room.
pub async fn the_diary_has_a_column_per_room(app: &App) {
    let demo = Demo::seed(app).await;
    let desk = &demo.front_desk;
    let amara = demo.client_named("Amara Okafor").await;
    let daniel = demo.client_named("Daniel Reyes").await;
    // Monday 6 January 2031.
    let first = app
        .post(
            &api("/appointments"),
            desk,
            json!({"client_id": amara["id"], "practitioner_id": demo.practitioner_id, "room": "Room 1",
                   "starts_at": "2031-01-06T10:00:00Z", "duration_minutes": 60, "notes": "", "kind": "consultation"}),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(first["room"], "Room 1");
    let clash = json!({"client_id": daniel["id"], "practitioner_id": null, "room": "Room 1",
        "starts_at": "2031-01-06T10:30:00Z", "duration_minutes": 30, "notes": "", "kind": "consultation"});
    let error = app
        .post(&api("/appointments"), desk, clash.clone())
        .await
        .expect_error(StatusCode::CONFLICT, "conflict");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "Room 1 is already booked then: Amara Okafor's consultation on 2031-01-06 10:00–11:00"
        ) && message.contains(first["id"].as_str().unwrap()),
        "{error}"
    );
    let mut unknown = clash.clone();
    unknown["room"] = json!("Room 3");
    let error = app
        .post(&api("/appointments"), desk, unknown)
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(error["field"], "room");
    assert_eq!(
        error["message"],
        "\"Room 3\" is not a room of the clinic; choose one of Room 1, Room 2 (diary.rooms)"
    );
    let mut other_room = clash.clone();
    other_room["room"] = json!("Room 2");
    let second = app
        .post(&api("/appointments"), desk, other_room)
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(second["room"], "Room 2");
    let moves = api(&format!("/appointments/{}/time", id_of(&second)));
    let error = app
        .put(
            &moves,
            desk,
            json!({"starts_at": "2031-01-06T10:45:00Z", "room": "Room 1"}),
        )
        .await
        .expect_error(StatusCode::CONFLICT, "conflict");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("Room 1 is already booked then"),
        "{error}"
    );
    let move_to = |body: serde_json::Value| {
        let moves = &moves;
        async move { app.put(moves, desk, body).await.expect(StatusCode::OK) }
    };
    let moved = move_to(json!({"starts_at": "2031-01-06T11:00:00Z", "room": "Room 1"})).await;
    assert_eq!(moved["room"], "Room 1");
    // A move that names no room keeps it; an empty room clears it.
    let kept = move_to(json!({"starts_at": "2031-01-06T11:15:00Z"})).await;
    assert_eq!(kept["room"], "Room 1");
    let cleared = move_to(json!({"starts_at": "2031-01-06T11:00:00Z", "room": ""})).await;
    assert!(cleared["room"].is_null(), "{cleared}");
    let back = move_to(json!({"starts_at": "2031-01-06T11:00:00Z", "room": "Room 1"})).await;
    assert_eq!(back["room"], "Room 1");

    // The studio's visit form: the clash beside the room, nothing booked.
    let token = csrf(desk);
    let daniel_id = daniel["id"].as_str().unwrap();
    let refused = post_form(
        app,
        &format!("/clients/{daniel_id}/book-visit"),
        desk,
        &[
            ("_csrf", token.as_str()),
            ("kind", "consultation"),
            ("date", "2031-01-06"),
            ("time", "10:15"),
            ("minutes", "30"),
            ("practitioner_id", ""),
            ("room", "Room 1"),
            ("override_reason", ""),
            ("notes", ""),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = text(&refused);
    assert!(html.contains("id=\"visit-room-error\""), "{html}");
    assert!(
        html.contains("Room 1 is already booked then: Amara Okafor"),
        "{html}"
    );
    assert!(
        html.contains("<option value=\"Room 2\">Room 2</option>"),
        "{html}"
    );

    // The day by room: a column per room, the visits in theirs.
    let by_room = app
        .get("/diary?view=day&date=2031-01-06&by=room", &cookie(desk))
        .await;
    assert_eq!(by_room.status, StatusCode::OK);
    let html = text(&by_room);
    for room in ["Room 1", "Room 2"] {
        assert!(
            html.contains(&format!("<th scope=\"col\" class=\"room\">{room}</th>")),
            "{html}"
        );
    }
    assert!(!html.contains("class=\"practitioner\""), "{html}");
    assert!(html.contains("data-room=\"Room 2\""), "{html}");
    assert!(html.contains("Appointments by day and room"), "{html}");
    assert!(html.contains("id=\"diary-by-practitioner\""), "{html}");
    assert!(
        html.contains("&amp;by=room\" id=\"diary-next\""),
        "the view kept: {html}"
    );
    // Both visits in Room 1's column: its cell holds the first, and the second (moved there)
    // follows it; the row of 10:00 has Room 1's visit then Room 2's free slot.
    let at_ten = &html[html.find("<th scope=\"row\">10:00</th>").unwrap()..];
    let at_ten = &at_ten[..at_ten.find("</tr>").unwrap()];
    assert!(
        at_ten.contains(&format!("data-id=\"{}\"", first["id"].as_str().unwrap())),
        "{at_ten}"
    );
    assert!(at_ten.contains("data-room=\"Room 2\""), "{at_ten}");
    let at_eleven = &html[html.find("<th scope=\"row\">11:00</th>").unwrap()..];
    let at_eleven = &at_eleven[..at_eleven.find("</tr>").unwrap()];
    assert!(
        at_eleven.contains(&format!("data-id=\"{}\"", second["id"].as_str().unwrap())),
        "{at_eleven}"
    );
    // By practitioner, the default: no room columns, a link to them.
    let html = text(&app.get("/diary?view=day&date=2031-01-06", &cookie(desk)).await);
    assert!(
        html.contains("<th scope=\"col\" class=\"practitioner\">Sam Rivera</th>"),
        "{html}"
    );
    assert!(!html.contains("class=\"room\""), "{html}");
    assert!(html.contains("id=\"diary-by-room\""), "{html}");
    let bad = app
        .get("/diary?view=day&date=2031-01-06&by=chair", &cookie(desk))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(&bad).contains("by: expected practitioner or room, got &#34;chair&#34;"),
        "{}",
        text(&bad)
    );

    // The appointment's page: its room, and the move form's choice of room.
    let html = text(
        &app.get(&format!("/appointments/{}", id_of(&first)), &cookie(desk))
            .await,
    );
    assert!(
        html.contains("<p id=\"appointment-room\">In Room 1</p>"),
        "{html}"
    );
    assert!(html.contains("<select id=\"room\" name=\"room\""), "{html}");
    assert!(
        html.contains("<option value=\"Room 1\" selected>Room 1</option>"),
        "{html}"
    );
    assert!(
        html.contains("<input type=\"hidden\" name=\"booked_room\" value=\"Room 1\">"),
        "{html}"
    );
    // The form sent with the room as booked keeps it; with "No room" it clears it.
    let first_id = id_of(&first);
    let move_form = |room: &'static str| {
        let token = csrf(desk);
        async move {
            post_form(
                app,
                &format!("/appointments/{first_id}/move"),
                desk,
                &[
                    ("_csrf", token.as_str()),
                    ("date", "2031-01-06"),
                    ("time", "10:00"),
                    ("practitioner_id", &demo.practitioner_id.to_string()),
                    ("room", room),
                    ("booked_room", "Room 1"),
                    ("override_reason", ""),
                ],
            )
            .await
        }
    };
    let room_of = || async {
        app.get(&api(&format!("/appointments/{first_id}")), desk)
            .await
            .expect(StatusCode::OK)["room"]
            .clone()
    };
    assert_eq!(move_form("Room 1").await.status, StatusCode::SEE_OTHER);
    assert_eq!(room_of().await, "Room 1");
    assert_eq!(move_form("").await.status, StatusCode::SEE_OTHER);
    assert!(room_of().await.is_null());
    let html = text(&app.get(&format!("/appointments/{first_id}"), &cookie(desk)).await);
    assert!(
        html.contains("<option value=\"\" selected>No room</option>"),
        "{html}"
    );
}
