//! Messages to clients through a real SMTP conversation: the day-4 aftercare email of a
//! session, planned and sent by the job queue, with the client's own plan's words and an
//! unsubscribe link that works; a client who stopped email gets none; a relay that refuses is
//! tried again later and the clinic sees why.

use axum::http::{Method, StatusCode};
use follicle_core::Settings;
use follicle_store::{JobState, Store};
use follicle_web::ServerConfig;
use follicle_web::config::MailTls;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::mail_catcher::{MailCatcher, cookie, csrf, drain, form, mails_to, post_form, text, unfolded};
use crate::support::{App, Auth, Backend, Demo, TestStore, id_of};

both_stores!(
    the_day_4_aftercare_email_arrives_and_an_opted_out_client_gets_none,
    a_refusing_relay_is_tried_again_and_the_clinic_sees_why,
);

fn api(path: &str) -> String {
    format!("/api/v1{path}")
}

/// Aftercare only, at local midnight, no quiet hours: the day's message is due whenever the
/// test runs.
const AFTERCARE_NOW: &str =
    "[messages]\nsend = [\"aftercare\"]\naftercare_hour = 0\nquiet_from_hour = 0\nquiet_to_hour = 0\n";

async fn set_settings(store: &Store, demo: &Demo, toml: &str) {
    let owner = store.actor(demo.owner_id).await.unwrap();
    store.update_clinic_settings(&owner, toml, 8).await.unwrap();
}

/// Today in the clinic's time zone.
fn clinic_today() -> time::Date {
    follicle_core::messages::local(&Settings::default(), OffsetDateTime::now_utc()).date()
}

/// Logs a session for a demo client `days_ago` (clinic time), with the demo's fresh batch.
pub(crate) async fn log_session(demo: &Demo, client: &Value, days_ago: i64) -> Value {
    let (fresh, _) = demo.batches().await;
    let body = json!({"client_id": client["id"], "appointment_id": null,
        "performed_on": (clinic_today() - Duration::days(days_ago)).to_string(),
        "practitioner_id": demo.practitioner_id, "zones": ["hairline"], "batch_id": fresh["id"],
        "dilution": 0.6, "needle": "0603RL", "needle_lot": "RL3-24-1187", "depth_mm": 0.8,
        "machine_settings": "7.5 V", "duration_minutes": 180, "anaesthetic": "", "notes": "Foundation."});
    demo.app
        .post(&api("/sessions"), &demo.practitioner, body)
        .await
        .expect(StatusCode::CREATED)
}

async fn the_day_4_aftercare_email_arrives_and_an_opted_out_client_gets_none(
    test: &TestStore,
    backend: Backend,
) {
    let smtp = MailCatcher::start();
    let config = smtp.config();
    let app = App::with_config(&test.store, backend, config.clone());
    let demo = Demo::seed(&app).await;
    set_settings(&test.store, &demo, AFTERCARE_NOW).await;
    let clients = demo.consented_clients().await;
    let (sam, kim) = (&clients[0], &clients[1]);
    let (sam_email, kim_email) = (sam["email"].as_str().unwrap(), kim["email"].as_str().unwrap());
    log_session(&demo, sam, 4).await;
    log_session(&demo, kim, 4).await;

    // Kim follows the unsubscribe link of an earlier mail: the page asks, the button stops email.
    let token = test
        .store
        .contact(
            test.store.actor(demo.owner_id).await.unwrap().clinic_id(),
            id_of(kim),
        )
        .await
        .unwrap()
        .unwrap()
        .unsubscribe_token;
    let link = format!("/unsubscribe?t={token}&c=email");
    let page = app.get(&link, &Auth::None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(text(&page).contains("Stop them"), "{}", text(&page));
    let stopped = post_form(&app, &link, &Auth::None, &[("List-Unsubscribe", "One-Click")]).await;
    assert_eq!(stopped.status, StatusCode::OK);
    assert!(
        text(&stopped).contains("You will get no more emails from"),
        "{}",
        text(&stopped)
    );
    let forged = post_form(&app, "/unsubscribe?t=0000&c=email", &Auth::None, &[]).await;
    assert_eq!(forged.status, StatusCode::NOT_FOUND);
    assert!(
        text(&forged).contains("not valid"),
        "a page, not JSON: {}",
        text(&forged)
    );

    let worked = drain(&test.store, &config).await;
    assert!(worked >= 2, "worked {worked}");
    let to_sam = mails_to(&smtp, sam_email);
    let day4: Vec<&String> = to_sam
        .iter()
        .filter(|m| m.contains("Subject: Day 4 after your session"))
        .collect();
    assert_eq!(day4.len(), 1, "one day-4 mail to {sam_email}: {to_sam:?}");
    let mail = unfolded(day4[0]);
    for needle in [
        "First gentle wash with lukewarm water",
        "Over from today (no longer needed):",
        "Do not wash or wet the scalp",
        "https://studio.clinic.example/unsubscribe?t=",
        "List-Unsubscribe: <https://studio.clinic.example/unsubscribe?t=",
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        "Message-ID: <",
    ] {
        assert!(mail.contains(needle), "{needle:?} not in {mail}");
    }
    assert!(
        mail.contains(&format!(
            "Hello {}",
            sam["name"].as_str().unwrap().split(' ').next().unwrap()
        )),
        "{mail}"
    );
    assert!(
        mails_to(&smtp, kim_email).is_empty(),
        "an opted-out client gets no mail"
    );

    // The clinic sees both on the clients' message pages: sent with its words, and not sent with why.
    let desk = cookie(&demo.front_desk);
    let sam_page = app.get(&format!("/clients/{}/messages", id_of(sam)), &desk).await;
    assert_eq!(sam_page.status, StatusCode::OK);
    assert!(
        text(&sam_page).contains("Day 4 after your session"),
        "{}",
        text(&sam_page)
    );
    let kim_page = text(&app.get(&format!("/clients/{}/messages", id_of(kim)), &desk).await);
    assert!(kim_page.contains("the client stopped email on"), "{kim_page}");
    assert!(kim_page.contains("Aftercare, day 4"), "{kim_page}");

    // The preview writes every kind the clinic's way, for a made-up client.
    let preview = text(&app.get("/messages/preview", &desk).await);
    for needle in [
        "Booking confirmation",
        "Visit reminder",
        "Day 4 after your session",
        "First gentle wash",
        "Hello Sam",
    ] {
        assert!(preview.contains(needle), "{needle:?} not in {preview}");
    }
    assert!(
        preview.contains("Sent: Aftercare."),
        "only aftercare is sent here: {preview}"
    );

    // Planning and working again sends nothing twice.
    let before = smtp.messages().len();
    assert_eq!(
        follicle_web::jobs::plan_all(&test.store, &config, OffsetDateTime::now_utc())
            .await
            .unwrap(),
        0
    );
    assert_eq!(drain(&test.store, &config).await, 0);
    assert_eq!(smtp.messages().len(), before);

    // The front desk starts Kim's email again at her word: the page says so.
    let restarted = app
        .send(
            Method::POST,
            &format!("/clients/{}/messages/channel", id_of(kim)),
            &desk,
            form(&[
                ("_csrf", &csrf(&demo.front_desk)),
                ("channel", "email"),
                ("action", "start"),
            ]),
            &[],
        )
        .await;
    assert_eq!(restarted.status, StatusCode::OK);
    assert!(
        text(&restarted).contains("email messages will go to this client again"),
        "{}",
        text(&restarted)
    );
    let bad = app
        .send(
            Method::POST,
            &format!("/clients/{}/messages/channel", id_of(kim)),
            &desk,
            form(&[
                ("_csrf", &csrf(&demo.front_desk)),
                ("channel", "pigeon"),
                ("action", "start"),
            ]),
            &[],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(&bad).contains("pigeon"), "{}", text(&bad));
}

async fn a_refusing_relay_is_tried_again_and_the_clinic_sees_why(test: &TestStore, backend: Backend) {
    // A relay address where nothing answers.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = ServerConfig::default();
    config.mail.smtp_host = "127.0.0.1".into();
    config.mail.smtp_port = port;
    config.mail.tls = MailTls::None;
    config.mail.timeout_seconds = 2;
    let app = App::with_config(&test.store, backend, config.clone());
    let demo = Demo::seed(&app).await;
    set_settings(&test.store, &demo, &format!("{AFTERCARE_NOW}max_attempts = 2\n")).await;
    let clients = demo.consented_clients().await;
    let sam = &clients[0];
    log_session(&demo, sam, 4).await;
    drain(&test.store, &config).await;
    let owner = test.store.actor(demo.owner_id).await.unwrap();
    let jobs = test.store.client_jobs(&owner, id_of(sam)).await.unwrap();
    let failed = jobs
        .iter()
        .find(|j| j.payload["day"] == 4)
        .expect("the day-4 job");
    assert_eq!(failed.state, JobState::Queued, "{failed:?}");
    assert_eq!(failed.attempts, 1);
    assert!(failed.last_error.contains("SMTP"), "{}", failed.last_error);
    assert!(
        failed.run_at > OffsetDateTime::now_utc(),
        "waits (1 minute) before the next try"
    );
    let page = text(
        &app.get(
            &format!("/clients/{}/messages", id_of(sam)),
            &cookie(&demo.front_desk),
        )
        .await,
    );
    assert!(
        page.contains("to be tried again") && page.contains("SMTP"),
        "{page}"
    );

    // The second and last try fails too: the message is dead, on the failed page, and can be sent again.
    let job = test.store.retry_job(&owner, failed.id).await.err();
    assert!(job.is_some(), "a queued job is not 'sent again'");
    force_due(&test.store, failed.id).await;
    drain(&test.store, &config).await;
    let dead = test.store.dead_jobs(&owner).await.unwrap();
    assert!(dead.iter().any(|j| j.id == failed.id), "{dead:?}");
    let desk = cookie(&demo.front_desk);
    let failed_page = text(&app.get("/messages/failed", &desk).await);
    assert!(
        failed_page.contains("Aftercare, day 4") && failed_page.contains("SMTP"),
        "{failed_page}"
    );
    let again = app
        .send(
            Method::POST,
            &format!("/messages/{}/retry", failed.id),
            &desk,
            form(&[("_csrf", &csrf(&demo.front_desk))]),
            &[],
        )
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", text(&again));
    let jobs = test.store.client_jobs(&owner, id_of(sam)).await.unwrap();
    let queued = jobs.iter().find(|j| j.id == failed.id).unwrap();
    assert_eq!((queued.state, queued.attempts), (JobState::Queued, 0));
}

/// Makes a queued job due now (the test does not wait out the backoff).
async fn force_due(store: &Store, job: uuid::Uuid) {
    follicle_store::testing::make_job_due(store, job).await;
}
