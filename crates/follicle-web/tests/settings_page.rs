//! The studio's settings page is generated from the settings schema: every setting but the
//! lists of tables is a field with its default and allowed values; a bad value is answered
//! beside its field in plain words and saves nothing; a good one is saved as the clinic's own.

use axum::http::StatusCode;
use follicle_core::settings::{SettingKind, schema};

use crate::support::{App, Auth, Backend, Demo, Payload, TestStore};

async fn post_form(app: &App, auth: &Auth, fields: &[(&str, &str)]) -> crate::support::Answer {
    let body = serde_urlencoded::to_string(fields).unwrap();
    app.send(
        axum::http::Method::POST,
        "/settings",
        auth,
        Payload::Raw(
            Some("application/x-www-form-urlencoded".into()),
            body.into_bytes(),
        ),
        &[],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_settings_page_is_the_schema() {
    let test = TestStore::sqlite().await;
    let app = &App::new(&test.store, Backend::Sqlite);
    let demo = Demo::seed(app).await;
    let token = demo.owner_login["token"].as_str().unwrap().to_owned();
    let csrf = demo.owner_login["csrf_token"].as_str().unwrap().to_owned();
    let browser = Auth::Cookie { token, csrf: None };

    let page = app.get("/settings", &browser).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = String::from_utf8(page.body).unwrap();
    let mut fields = 0;
    for setting in schema() {
        let id = format!("id=\"fig-{}\"", setting.path.replace('.', "-"));
        if matches!(setting.kind, SettingKind::TableList { .. }) {
            assert!(!html.contains(&id), "{} stays in the file", setting.path);
            continue;
        }
        assert!(html.contains(&id), "{} has a field", setting.path);
        fields += 1;
    }
    assert!(fields > 50, "{fields}");
    assert!(
        html.contains("<select id=\"fig-pricing-mode\""),
        "a choice is a select"
    );
    assert!(
        html.contains("a whole number from 1 to 365 days"),
        "the range is shown"
    );

    let clinic_settings = || async {
        app.get("/api/v1/clinic", &demo.owner)
            .await
            .expect(StatusCode::OK)["settings_toml"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let before = clinic_settings().await;
    let bad = post_form(
        app,
        &browser,
        &[
            ("_csrf", &csrf),
            ("form", "figures"),
            ("retention_years", "8"),
            ("intervals.default_days", "three weeks"),
            ("sessions.max_hours", "40"),
            ("intervals.minimum_days", "12"),
        ],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = String::from_utf8(bad.body).unwrap();
    assert!(html.contains("id=\"fig-intervals-default_days-error\""), "{html}");
    assert!(html.contains("Enter a whole number, such as 14"));
    assert!(html.contains("id=\"fig-sessions-max_hours-error\""));
    assert!(html.contains("between 0.5 and 12 h"));
    assert!(html.contains("value=\"three weeks\""), "what was typed is kept");
    assert_eq!(clinic_settings().await, before, "nothing saved");

    let good = post_form(
        app,
        &browser,
        &[
            ("_csrf", &csrf),
            ("form", "figures"),
            ("retention_years", "8"),
            ("intervals.default_days", "21"),
            ("pricing.mode", "per_session"),
        ],
    )
    .await;
    assert_eq!(
        good.status,
        StatusCode::SEE_OTHER,
        "{}",
        String::from_utf8_lossy(&good.body)
    );
    // Saved beside the demo clinic's rooms, which the form left as they were.
    assert_eq!(
        clinic_settings().await,
        "[diary]\nrooms = [\"Room 1\", \"Room 2\"]\n\n[intervals]\ndefault_days = 21\n"
    );
}
