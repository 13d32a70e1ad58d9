//! Records that hold: a printed plan and quote stays as issued whatever the clinic's settings
//! become; "re-plan with today's settings" is a new version with the differences listed; bad
//! re-plans answer a 4xx naming the field and change nothing.

use axum::http::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{App, Auth, Demo, NORWOOD_3, id_of};

fn api(path: &str) -> String {
    format!("/api/v1{path}")
}

/// A studio session (cookie and CSRF token) for a user.
async fn studio(app: &App, user_id: Uuid) -> Auth {
    match app.session_for(user_id).await {
        Auth::Bearer(token) => Auth::Cookie {
            csrf: Some(follicle_web::extract::csrf_token(&token)),
            token,
        },
        other => other,
    }
}

/// The printed plan of a consultation, as the studio serves it.
async fn print(app: &App, who: &Auth, consultation: &Value) -> Vec<u8> {
    let answer = app
        .get(&format!("/consultations/{}/print", id_of(consultation)), who)
        .await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    answer.body
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn whats(differences: &Value) -> Vec<String> {
    differences
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["what"].as_str().unwrap().to_owned())
        .collect()
}

pub async fn printed_plan_holds_and_replan_lists_differences(app: &App) {
    let demo = Demo::seed(app).await;
    let practitioner = studio(app, demo.practitioner_id).await;
    let client = app
        .post(
            &api("/clients"),
            &demo.front_desk,
            json!({"name": "Ray Record", "date_of_birth": null, "age_years": 41, "phone": "", "email": "", "notes": ""}),
        )
        .await
        .expect(StatusCode::CREATED);
    let cid = id_of(&client);
    let first = app
        .post(
            &api(&format!("/clients/{cid}/consultations")),
            &demo.practitioner,
            json!({"client_toml": NORWOOD_3, "date": "2031-03-03", "start": "2031-03-10"}),
        )
        .await
        .expect(StatusCode::CREATED);
    let total = first["plan"]["quote"]["total"].as_i64().unwrap();
    let currency = first["plan"]["quote"]["currency"].as_str().unwrap().to_owned();
    let printed = print(app, &practitioner, &first).await;
    let page = text(&printed);
    let written = follicle_web::wire::money(&currency, total);
    assert!(page.contains(&written), "the total is printed as {written}");
    assert!(
        page.contains(first["quote_number"].as_str().unwrap()),
        "the quote number is printed"
    );
    // The pre-care issued with the plan is printed from the record, every item of it.
    let precare = first["plan"]["precare"].as_array().unwrap();
    assert!(!precare.is_empty(), "the default settings give pre-care");
    assert!(page.contains("Before each session"));
    for item in precare {
        let words = item["text"].as_str().unwrap();
        assert!(page.contains(&html_escape(words)), "pre-care printed: {words}");
    }
    let timeline = text(&app.get(&format!("/clients/{cid}"), &practitioner).await.body);
    assert!(
        timeline.contains(&follicle_web::wire::money(&currency, total)),
        "the timeline shows the issued total"
    );

    // The clinic changes its prices and intervals.
    let settings = "[pricing]\nsession_fee = 400\nhourly_rate = 320\n\n[intervals]\ndefault_days = 28\nminimum_days = 21\n";
    app.put(
        &api("/clinic/settings"),
        &demo.owner,
        json!({"settings_toml": settings, "retention_years": 8}),
    )
    .await
    .expect(StatusCode::OK);
    // Today's plan of the same file is different…
    let today = app
        .post(
            &api("/plan"),
            &demo.practitioner,
            json!({"client_toml": NORWOOD_3, "date": "2031-03-03", "start": "2031-03-10"}),
        )
        .await
        .expect(StatusCode::OK);
    assert_ne!(today["quote"]["total"].as_i64().unwrap(), total);
    // …but the issued plan prints the same bytes, and the API answers it as issued.
    assert_eq!(print(app, &practitioner, &first).await, printed);
    let again = app
        .get(&api(&format!("/consultations/{}", id_of(&first))), &demo.owner)
        .await
        .expect(StatusCode::OK);
    assert_eq!(again, first);
    let timeline = text(&app.get(&format!("/clients/{cid}"), &practitioner).await.body);
    assert!(timeline.contains(&follicle_web::wire::money(&currency, total)));

    // Re-plan with today's settings: version 2, the differences listed.
    let replanned = app
        .post(
            &api(&format!("/consultations/{}/replan", id_of(&first))),
            &demo.practitioner,
            json!(null),
        )
        .await
        .expect(StatusCode::CREATED);
    let second = &replanned["consultation"];
    assert_eq!(second["version"], 2);
    assert_eq!(replanned["replanned"], first["id"]);
    assert_eq!(second["replanned_from"], first["id"]);
    assert_eq!(second["settings_toml"], settings);
    assert_eq!(second["plan"]["quote"]["total"], today["quote"]["total"]);
    assert_ne!(second["quote_number"], first["quote_number"]);
    let listed = whats(&replanned["differences"]);
    for expected in ["total", "price session 1", "session 2 date", "session 3 date"] {
        assert!(
            listed.iter().any(|w| w == expected),
            "{expected} missing from {listed:?}"
        );
    }
    let total_line = replanned["differences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["what"] == "total")
        .unwrap();
    assert_eq!(total_line["before"], format!("{currency} {total}"));
    assert_eq!(
        total_line["after"],
        format!("{currency} {}", today["quote"]["total"])
    );
    // Version 1 still prints as it was issued; version 2 prints the new quote.
    assert_eq!(print(app, &practitioner, &first).await, printed);
    let page = text(&print(app, &practitioner, second).await);
    let new_total = follicle_web::wire::money(&currency, today["quote"]["total"].as_i64().unwrap());
    assert!(page.contains(&new_total), "{new_total}");
    assert!(page.contains("re-planned from v1"));
    // A re-plan under unchanged settings lists no differences.
    let same = app
        .post(
            &api(&format!("/clients/{cid}/replan")),
            &demo.practitioner,
            json!(null),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(same["consultation"]["version"], 3);
    assert_eq!(same["differences"], json!([]));

    // The studio's button does the same and shows what changed.
    app.put(
        &api("/clinic/settings"),
        &demo.owner,
        json!({"settings_toml": "", "retention_years": 8}),
    )
    .await
    .expect(StatusCode::OK);
    let form = format!(
        "_csrf={}",
        match &practitioner {
            Auth::Cookie { csrf: Some(c), .. } => c.clone(),
            _ => unreachable!("a studio session has a CSRF token"),
        }
    );
    let answer = app
        .send(
            axum::http::Method::POST,
            &format!("/consultations/{}/replan", id_of(&first)),
            &practitioner,
            crate::support::Payload::Raw(
                Some("application/x-www-form-urlencoded".to_owned()),
                form.into_bytes(),
            ),
            &[],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let page = text(&answer.body);
    assert!(page.contains("id=\"differences\""), "{page}");
    assert!(page.contains("version 4"), "{page}");
}

pub async fn bad_replans_name_the_field_and_change_nothing(app: &App) {
    let demo = Demo::seed(app).await;
    let client = app
        .post(
            &api("/clients"),
            &demo.front_desk,
            json!({"name": "Nobody Yet", "date_of_birth": null, "age_years": 30, "phone": "", "email": "", "notes": ""}),
        )
        .await
        .expect(StatusCode::CREATED);
    let cid = id_of(&client);
    let (reader, owner) = (app.clone(), demo.owner.clone());
    let count = move |cid: Uuid| {
        let (app, owner) = (reader.clone(), owner.clone());
        async move {
            let all = app
                .get(&api(&format!("/clients/{cid}/consultations")), &owner)
                .await
                .expect(StatusCode::OK);
            all.as_array().unwrap().len()
        }
    };

    // An unknown (or deleted) client.
    let ghost = Uuid::new_v4();
    let error = app
        .post(
            &api(&format!("/clients/{ghost}/replan")),
            &demo.practitioner,
            json!(null),
        )
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(error["field"], "id");
    assert!(
        error["message"].as_str().unwrap().contains(&ghost.to_string()),
        "{error}"
    );
    // A client deleted after it was created is no different.
    let deleted = app.delete(&api(&format!("/clients/{cid}")), &demo.owner).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let error = app
        .post(
            &api(&format!("/clients/{cid}/replan")),
            &demo.practitioner,
            json!(null),
        )
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    assert!(
        error["message"].as_str().unwrap().contains(&cid.to_string()),
        "{error}"
    );
    // An unknown consultation.
    let error = app
        .post(
            &api(&format!("/consultations/{ghost}/replan")),
            &demo.practitioner,
            json!(null),
        )
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(error["field"], "id");

    // A client on file without a consultation: nothing to re-plan.
    let client = app
        .post(
            &api("/clients"),
            &demo.front_desk,
            json!({"name": "Still New", "date_of_birth": null, "age_years": 30, "phone": "", "email": "", "notes": ""}),
        )
        .await
        .expect(StatusCode::CREATED);
    let cid = id_of(&client);
    let error = app
        .post(
            &api(&format!("/clients/{cid}/replan")),
            &demo.practitioner,
            json!(null),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(error["field"], "client_id");
    assert_eq!(count(cid).await, 0);
    // The front desk may not re-plan.
    let first = app
        .post(
            &api(&format!("/clients/{cid}/consultations")),
            &demo.practitioner,
            json!({"client_toml": NORWOOD_3}),
        )
        .await
        .expect(StatusCode::CREATED);
    app.post(
        &api(&format!("/consultations/{}/replan", id_of(&first))),
        &demo.front_desk,
        json!(null),
    )
    .await
    .expect_error(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(count(cid).await, 1);
}

/// Text as askama escapes it in a page.
fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}
