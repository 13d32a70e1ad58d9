//! Text messages through a real HTTP exchange: a local server that speaks Twilio's Messages
//! API (an axum server in the test, on a port of its own) records every request, and answers
//! as the test scripts it. The job queue sends a booking confirmation by text with the exact
//! To, From, Body and basic authentication; a 500 is tried again and the message goes once; a
//! 400 for a number that cannot be right lands among the failed messages with the provider's
//! words; a client with no phone, or who stopped texts, gets none and their record says why.
//! The provider's webhook of replies: STOP with a true signature stops texts (once, however
//! often the provider repeats it), START starts them again, a forged signature changes
//! nothing, and too many replies a minute are refused. The touch-up recall goes once per due
//! date, by email and text, and not to a client with a touch-up booked.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use follicle_store::{JobState, Store};
use follicle_web::ServerConfig;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::mail_catcher::{MailCatcher, cookie, drain, form, mails_to, text, unfolded};
use crate::support::{App, Auth, Backend, Demo, TestStore, id_of};

both_stores!(
    a_confirmation_goes_by_text_once_after_a_server_error,
    a_refused_number_lands_among_the_failed_with_the_providers_words,
    a_silent_or_endless_answer_is_tried_again,
    no_phone_or_stopped_texts_gets_none_and_the_record_says_why,
    stop_with_a_true_signature_stops_texts_and_a_forged_one_changes_nothing,
    the_touch_up_recall_goes_once_per_due_date_by_email_and_text,
);

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "test-auth-token-7c1e";
const FROM: &str = "+447700900000";
/// Sam's number, as the provider is given it.
const SAM: &str = "+447700900123";
/// The day of the visits the tests book, as a message writes it.
const VISIT_DAY: &str = "6 January 2031";

/// One request the provider received.
#[derive(Debug, Clone)]
struct Received {
    account: String,
    authorization: String,
    form: Vec<(String, String)>,
}

impl Received {
    fn field(&self, name: &str) -> &str {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// What the provider has received, and its scripted answers to the messages a test is about:
/// those to a number, or with words, `matching` (the demo clinic's visits get their
/// confirmations too, answered 201).
#[derive(Default)]
struct Script {
    received: Vec<Received>,
    matching: String,
    answers: VecDeque<(u16, String)>,
}

impl Received {
    fn matches(&self, matching: &str) -> bool {
        self.field("To") == matching || self.field("Body").contains(matching)
    }
}

/// A local server speaking Twilio's Messages API: records each request and answers with the
/// next scripted answer, or 201 with a message id.
struct FakeProvider {
    base_url: String,
    script: Arc<Mutex<Script>>,
    task: tokio::task::JoinHandle<()>,
}

async fn messages(
    State(script): State<Arc<Mutex<Script>>>,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, [(&'static str, &'static str); 1], String) {
    let (n, scripted) = {
        let mut script = script.lock().unwrap();
        script.received.push(Received {
            account,
            authorization: headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
            form: serde_urlencoded::from_bytes(&body).unwrap(),
        });
        let n = script.received.len();
        let scripted = if script.received[n - 1].matches(&script.matching) {
            script.answers.pop_front()
        } else {
            None
        };
        (n, scripted)
    };
    let json = [("content-type", "application/json")];
    // Status 0: no answer for longer than the sender waits.
    if let Some((0, _)) = scripted {
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        return (StatusCode::CREATED, json, "{}".into());
    }
    let (status, body) = scripted.unwrap_or_else(|| {
        (
            201,
            json!({"sid": format!("SM{n:032}"), "status": "queued"}).to_string(),
        )
    });
    (StatusCode::from_u16(status).unwrap(), json, body)
}

impl FakeProvider {
    /// A provider that answers the messages `matching` (a number, or words) as `answers` say,
    /// in turn.
    async fn start(matching: &str, answers: &[(u16, &str)]) -> FakeProvider {
        let script = Arc::new(Mutex::new(Script {
            received: Vec::new(),
            matching: matching.to_owned(),
            answers: answers.iter().map(|(s, b)| (*s, b.to_string())).collect(),
        }));
        let router = axum::Router::new()
            .route(
                "/2010-04-01/Accounts/{account}/Messages.json",
                axum::routing::post(messages),
            )
            .with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        FakeProvider {
            base_url,
            script,
            task,
        }
    }

    /// The requests for messages `matching` (a number, or words).
    fn received_for(&self, matching: &str) -> Vec<Received> {
        let script = self.script.lock().unwrap();
        script
            .received
            .iter()
            .filter(|r| r.matches(matching))
            .cloned()
            .collect()
    }

    /// A server configuration that sends text messages here.
    fn config(&self, mut config: ServerConfig) -> ServerConfig {
        config.sms.account_sid = ACCOUNT.into();
        config.sms.auth_token = TOKEN.into();
        config.sms.from = FROM.into();
        config.sms.base_url = self.base_url.clone();
        config.sms.timeout_seconds = 5;
        config.mail.public_url = "https://studio.clinic.example".into();
        config
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn basic_auth() -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT}:{TOKEN}"))
    )
}

/// Booking confirmations only, by text too; no quiet hours, so they go whenever the test runs.
const CONFIRM_BY_TEXT: &str = "[messages]\nsend = [\"booking_confirmation\"]\nsms_send = [\"booking_confirmation\"]\nquiet_from_hour = 0\nquiet_to_hour = 0\n";

/// Touch-up recalls only, by text too, at any hour.
const RECALL_BY_TEXT: &str = "[messages]\nsend = [\"touch_up_recall\"]\nsms_send = [\"touch_up_recall\"]\nquiet_from_hour = 0\nquiet_to_hour = 0\n";

async fn set_settings(store: &Store, demo: &Demo, toml: &str) {
    let owner = store.actor(demo.owner_id).await.unwrap();
    store.update_clinic_settings(&owner, toml, 8).await.unwrap();
}

/// Changes a client's phone and email through the API.
async fn set_contact(demo: &Demo, client: &Value, phone: &str, email: &str) {
    let mut body = json!({});
    for key in ["name", "date_of_birth", "age_years", "notes"] {
        body[key] = client[key].clone();
    }
    body["phone"] = json!(phone);
    body["email"] = json!(email);
    demo.app
        .put(&format!("/api/v1/clients/{}", id_of(client)), &demo.owner, body)
        .await
        .expect(StatusCode::OK);
}

/// Books a visit for a client on Monday 6 January 2031 at `time` (the diary's wall clock).
async fn book(demo: &Demo, client: &Value, time: &str, kind: &str) -> Value {
    demo.app
        .post(
            "/api/v1/appointments",
            &demo.front_desk,
            json!({"client_id": client["id"], "practitioner_id": demo.practitioner_id,
                   "starts_at": format!("2031-01-06T{time}:00Z"), "duration_minutes": 150,
                   "kind": kind, "notes": ""}),
        )
        .await
        .expect(StatusCode::CREATED)
}

async fn clinic_name(store: &Store, demo: &Demo) -> String {
    let owner = store.actor(demo.owner_id).await.unwrap();
    store.clinic(&owner).await.unwrap().name
}

async fn a_confirmation_goes_by_text_once_after_a_server_error(test: &TestStore, backend: Backend) {
    let provider = FakeProvider::start(
        VISIT_DAY,
        &[(
            500,
            r#"{"code": 20500, "message": "Internal Server Error", "status": 500}"#,
        )],
    )
    .await;
    let config = provider.config(ServerConfig::default());
    let app = App::with_config(&test.store, backend, config.clone());
    let demo = Demo::seed(&app).await;
    set_settings(&test.store, &demo, CONFIRM_BY_TEXT).await;
    let sam = &demo.consented_clients().await[0];
    // A national number, read with the clinic's calling code (44); no email: text only.
    set_contact(&demo, sam, "07700 900123", "").await;
    let visit = id_of(&book(&demo, sam, "10:30", "consultation").await);

    drain(&test.store, &config).await;
    let owner = test.store.actor(demo.owner_id).await.unwrap();
    let jobs = test.store.client_jobs(&owner, id_of(sam)).await.unwrap();
    let text_job = jobs
        .iter()
        .find(|j| j.dedupe_key == format!("sms:confirm:{visit}"))
        .unwrap_or_else(|| panic!("a text job: {jobs:?}"));
    assert_eq!(
        (text_job.state, text_job.attempts),
        (JobState::Queued, 1),
        "{text_job:?}"
    );
    assert!(
        text_job.last_error.contains("500") && text_job.last_error.contains("Internal Server Error"),
        "{}",
        text_job.last_error
    );
    assert!(
        text_job.run_at > OffsetDateTime::now_utc(),
        "waits before the next try"
    );
    let email_job = jobs
        .iter()
        .find(|j| j.dedupe_key == format!("confirm:{visit}"))
        .unwrap();
    assert_eq!(email_job.state, JobState::Skipped);
    assert_eq!(email_job.last_error, "the client has no email address");

    follicle_store::testing::make_job_due(&test.store, text_job.id).await;
    drain(&test.store, &config).await;
    // Planning and working again sends nothing more.
    drain(&test.store, &config).await;

    let received = provider.received_for(VISIT_DAY);
    assert_eq!(received.len(), 2, "one failed try and one send: {received:?}");
    let expected = format!(
        "{}: your visit is booked for Monday 6 January 2031 at 10:30 (2 h 30 min). To move it, call us. \
         Reply STOP to opt out.",
        clinic_name(&test.store, &demo).await
    );
    for r in &received {
        assert_eq!(r.account, ACCOUNT);
        assert_eq!(r.authorization, basic_auth());
        assert_eq!(r.field("To"), "+447700900123");
        assert_eq!(r.field("From"), FROM);
        assert_eq!(r.field("Body"), expected);
        assert_eq!(r.form.len(), 3, "To, From and Body only: {:?}", r.form);
    }
    let sent = test.store.client_messages(&owner, id_of(sam)).await.unwrap();
    let sent: Vec<_> = sent.iter().filter(|m| m.job_id == text_job.id).collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let m = sent[0];
    assert_eq!(
        (
            m.channel.as_str(),
            m.kind.as_str(),
            m.recipient.as_str(),
            m.body.as_str()
        ),
        ("sms", "booking_confirmation", "+447700900123", expected.as_str())
    );
    assert!(
        m.provider_id.starts_with("SM") && m.provider_id.len() == 34,
        "{}",
        m.provider_id
    );

    // The client's page shows the text message and the channel.
    let page = text(
        &app.get(
            &format!("/clients/{}/messages", id_of(sam)),
            &cookie(&demo.front_desk),
        )
        .await,
    );
    for needle in [
        "Text message: Booking confirmation",
        "to +447700900123",
        "Text messages: 07700 900123",
    ] {
        assert!(page.contains(needle), "{needle:?} not in {page}");
    }
}

async fn a_refused_number_lands_among_the_failed_with_the_providers_words(
    test: &TestStore,
    backend: Backend,
) {
    let refusal = r#"{"code": 21211, "message": "The 'To' number +447700900999 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}"#;
    let provider = FakeProvider::start(VISIT_DAY, &[(400, refusal)]).await;
    let config = provider.config(ServerConfig::default());
    let app = App::with_config(&test.store, backend, config.clone());
    let demo = Demo::seed(&app).await;
    set_settings(&test.store, &demo, CONFIRM_BY_TEXT).await;
    let sam = &demo.consented_clients().await[0];
    set_contact(&demo, sam, "+44 7700 900999", "").await;
    book(&demo, sam, "10:30", "consultation").await;
    drain(&test.store, &config).await;

    assert_eq!(
        provider.received_for(VISIT_DAY).len(),
        1,
        "a 400 is not tried again"
    );
    let owner = test.store.actor(demo.owner_id).await.unwrap();
    let dead = test.store.dead_jobs(&owner).await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].attempts, 1);
    assert!(
        dead[0].last_error.contains("400")
            && dead[0].last_error.contains("is not a valid phone number")
            && dead[0].last_error.contains("21211"),
        "{}",
        dead[0].last_error
    );
    let failed = text(&app.get("/messages/failed", &cookie(&demo.front_desk)).await);
    assert!(
        failed.contains("Booking confirmation (text message)")
            && failed.contains("is not a valid phone number"),
        "{failed}"
    );
    let sent = test.store.client_messages(&owner, id_of(sam)).await.unwrap();
    assert!(sent.iter().all(|m| !m.body.contains(VISIT_DAY)), "{sent:?}");
}

async fn a_silent_or_endless_answer_is_tried_again(test: &TestStore, backend: Backend) {
    // No answer within the timeout, then an answer far longer than any of the API's, then 201.
    let endless = format!("{{\"sid\": \"SM1\", \"pad\": \"{}\"}}", "x".repeat(100 * 1024));
    let provider = FakeProvider::start(VISIT_DAY, &[(0, ""), (201, &endless)]).await;
    let mut config = provider.config(ServerConfig::default());
    config.sms.timeout_seconds = 1;
    let app = App::with_config(&test.store, backend, config.clone());
    let demo = Demo::seed(&app).await;
    set_settings(&test.store, &demo, CONFIRM_BY_TEXT).await;
    let sam = &demo.consented_clients().await[0];
    set_contact(&demo, sam, "07700 900123", "").await;
    let visit = id_of(&book(&demo, sam, "10:30", "consultation").await);
    let owner = test.store.actor(demo.owner_id).await.unwrap();
    let text_job = || {
        let store = test.store.clone();
        async move {
            store
                .client_jobs(&owner, id_of(sam))
                .await
                .unwrap()
                .into_iter()
                .find(|j| j.dedupe_key == format!("sms:confirm:{visit}"))
        }
    };
    drain(&test.store, &config).await;
    let job = text_job().await.expect("the text job");
    assert_eq!((job.state, job.attempts), (JobState::Queued, 1), "{job:?}");
    assert!(
        job.last_error
            .contains("no answer within 1 s (sms.timeout_seconds)"),
        "{}",
        job.last_error
    );
    follicle_store::testing::make_job_due(&test.store, job.id).await;
    drain(&test.store, &config).await;
    let job = text_job().await.expect("the text job");
    assert_eq!((job.state, job.attempts), (JobState::Queued, 2), "{job:?}");
    assert!(
        job.last_error.contains("more than 65536 bytes"),
        "{}",
        job.last_error
    );
    follicle_store::testing::make_job_due(&test.store, job.id).await;
    drain(&test.store, &config).await;
    assert!(text_job().await.is_none(), "done: no longer listed as to come");
    assert_eq!(provider.received_for(VISIT_DAY).len(), 3);
}

async fn no_phone_or_stopped_texts_gets_none_and_the_record_says_why(test: &TestStore, backend: Backend) {
    let provider = FakeProvider::start(SAM, &[]).await;
    let config = provider.config(ServerConfig::default());
    let app = App::with_config(&test.store, backend, config.clone());
    let demo = Demo::seed(&app).await;
    set_settings(&test.store, &demo, CONFIRM_BY_TEXT).await;
    let clients = demo.consented_clients().await;
    let (sam, kim) = (&clients[0], &clients[1]);
    set_contact(&demo, sam, "", "").await;
    set_contact(&demo, kim, "+44 7700 900456", "").await;
    // The front desk stops Kim's texts at her word.
    let desk = cookie(&demo.front_desk);
    let stopped = app
        .send(
            axum::http::Method::POST,
            &format!("/clients/{}/messages/channel", id_of(kim)),
            &desk,
            form(&[
                ("_csrf", &crate::mail_catcher::csrf(&demo.front_desk)),
                ("channel", "sms"),
                ("action", "stop"),
            ]),
            &[],
        )
        .await;
    assert_eq!(stopped.status, StatusCode::OK);
    assert!(
        text(&stopped).contains("No more text messages will go to this client."),
        "{}",
        text(&stopped)
    );
    book(&demo, sam, "10:30", "consultation").await;
    book(&demo, kim, "14:00", "consultation").await;
    drain(&test.store, &config).await;

    assert!(
        provider.received_for("+447700900456").is_empty(),
        "{:?}",
        provider.received_for("+447700900456")
    );
    // Sam's record has no number: nothing goes to any number of the demo's others for him.
    let owner = test.store.actor(demo.owner_id).await.unwrap();
    let sam_sent = test.store.client_messages(&owner, id_of(sam)).await.unwrap();
    assert!(sam_sent.is_empty(), "{sam_sent:?}");
    let owner = test.store.actor(demo.owner_id).await.unwrap();
    for (client, why) in [
        (sam, "the client has no phone number for text messages"),
        (kim, "the client stopped text messages on"),
    ] {
        let jobs = test.store.client_jobs(&owner, id_of(client)).await.unwrap();
        let text_job = jobs
            .iter()
            .find(|j| j.dedupe_key.starts_with("sms:confirm:"))
            .unwrap_or_else(|| panic!("{jobs:?}"));
        assert_eq!(text_job.state, JobState::Skipped);
        assert!(text_job.last_error.starts_with(why), "{}", text_job.last_error);
        let page = text(
            &app.get(&format!("/clients/{}/messages", id_of(client)), &desk)
                .await,
        );
        assert!(
            page.contains(why) && page.contains("Booking confirmation (text message)"),
            "{page}"
        );
    }
}

/// Posts a reply as the provider would, signed with `token`.
async fn reply(
    app: &App,
    clinic: Uuid,
    token: &str,
    from: &str,
    body: &str,
    sid: &str,
) -> crate::support::Answer {
    let path = format!("/sms/inbound/{clinic}");
    let params: Vec<(String, String)> = [
        ("AccountSid", ACCOUNT),
        ("ApiVersion", "2010-04-01"),
        ("Body", body),
        ("From", from),
        ("MessageSid", sid),
        ("NumMedia", "0"),
        ("To", FROM),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let signature =
        follicle_web::sms::twilio_signature(token, &format!("https://studio.clinic.example{path}"), &params);
    let fields: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    app.send(
        axum::http::Method::POST,
        &path,
        &Auth::None,
        form(&fields),
        &[("X-Twilio-Signature", signature.as_str())],
    )
    .await
}

async fn stop_with_a_true_signature_stops_texts_and_a_forged_one_changes_nothing(
    test: &TestStore,
    backend: Backend,
) {
    let provider = FakeProvider::start(SAM, &[]).await;
    let mut config = provider.config(ServerConfig::default());
    config.sms.inbound_per_minute = 4;
    let app = App::with_config(&test.store, backend, config.clone());
    let demo = Demo::seed(&app).await;
    let clients = demo.consented_clients().await;
    let (sam, kim) = (&clients[0], &clients[1]);
    // A family sharing one phone, written two ways; another client with another number.
    set_contact(&demo, sam, "07700 900123", "").await;
    set_contact(&demo, kim, "+44 (0)7700-900 123", "").await;
    let owner = test.store.actor(demo.owner_id).await.unwrap();
    let clinic = owner.clinic_id();
    let stopped = |id: Uuid| {
        let store = test.store.clone();
        async move {
            store
                .contact(clinic, id)
                .await
                .unwrap()
                .unwrap()
                .sms_opt_out_at
                .is_some()
        }
    };

    // A forged signature: 403, nothing changes.
    let forged = reply(&app, clinic, "not-the-token", "+447700900123", "STOP", "SM1").await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", text(&forged));
    assert!(text(&forged).contains("X-Twilio-Signature"), "{}", text(&forged));
    assert!(!stopped(id_of(sam)).await);
    let unsigned = app
        .send(
            axum::http::Method::POST,
            &format!("/sms/inbound/{clinic}"),
            &Auth::None,
            form(&[("From", "+447700900123"), ("Body", "STOP")]),
            &[],
        )
        .await;
    assert_eq!(unsigned.status, StatusCode::FORBIDDEN);

    // " stop " from the family's phone: both clients stopped, once however often it comes.
    let ok = reply(&app, clinic, TOKEN, "+447700900123", " stop ", "SM2").await;
    assert_eq!(ok.status, StatusCode::OK, "{}", text(&ok));
    assert!(text(&ok).contains("<Response></Response>"), "{}", text(&ok));
    assert!(stopped(id_of(sam)).await && stopped(id_of(kim)).await);
    let again = reply(&app, clinic, TOKEN, "+447700900123", " stop ", "SM2").await;
    assert_eq!(again.status, StatusCode::OK);
    let log = test.store.client_messages(&owner, id_of(sam)).await.unwrap();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(
        (
            log[0].channel.as_str(),
            log[0].kind.as_str(),
            log[0].body.as_str(),
            log[0].provider_id.as_str()
        ),
        ("sms", "sms_stop", "stop", "SM2")
    );
    let page = text(
        &app.get(
            &format!("/clients/{}/messages", id_of(sam)),
            &cookie(&demo.front_desk),
        )
        .await,
    );
    assert!(
        page.contains("Reply by text: stop") && page.contains("stopped on"),
        "{page}"
    );

    // Anything but a keyword changes nothing; START starts texts again.
    let chat = reply(&app, clinic, TOKEN, "+447700900123", "Stop by at 10?", "SM3").await;
    assert_eq!(chat.status, StatusCode::OK);
    assert!(stopped(id_of(sam)).await);
    let start = reply(&app, clinic, TOKEN, "+447700900123", "START", "SM4").await;
    assert_eq!(start.status, StatusCode::OK);
    assert!(!stopped(id_of(sam)).await && !stopped(id_of(kim)).await);

    // Four replies a minute for this clinic (sms.inbound_per_minute), then 429 (counted in
    // fixed minutes: a new minute starting mid-test resets the count once).
    let mut refused = None;
    for n in 0..10 {
        let flood = reply(&app, clinic, TOKEN, "+447700900777", "hello", &format!("SM1{n}")).await;
        if flood.status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(text(&flood));
            break;
        }
        assert_eq!(flood.status, StatusCode::OK, "{}", text(&flood));
    }
    let refused = refused.expect("a 429 within ten replies");
    assert!(refused.contains("sms.inbound_per_minute"), "{refused}");

    // A clinic that does not exist is not found.
    let nowhere = reply(&app, Uuid::new_v4(), TOKEN, "+447700900123", "STOP", "SM6").await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
}

async fn the_touch_up_recall_goes_once_per_due_date_by_email_and_text(test: &TestStore, backend: Backend) {
    let provider = FakeProvider::start(SAM, &[]).await;
    let smtp = MailCatcher::start();
    let mut config = provider.config(smtp.config());
    // The settings change under the app (through the store): read them afresh each time.
    config.server.settings_cache_seconds = 0;
    let app = App::with_config(&test.store, backend, config.clone());
    let demo = Demo::seed(&app).await;
    set_settings(
        &test.store,
        &demo,
        "[messages]\nsend = [\"reminder\"]\nquiet_from_hour = 0\nquiet_to_hour = 0\n",
    )
    .await;
    let clients = demo.consented_clients().await;
    let (sam, kim) = (&clients[0], &clients[1]);
    set_contact(&demo, sam, "07700 900123", sam["email"].as_str().unwrap()).await;
    crate::messages::log_session(&demo, sam, 0).await;
    crate::messages::log_session(&demo, kim, 0).await;
    let owner = test.store.actor(demo.owner_id).await.unwrap();
    let due_of = |client: Uuid| {
        let (store, clinic) = (test.store.clone(), owner.clinic_id());
        async move {
            let forecast = store.touch_up_forecasts(clinic, Some(client)).await.unwrap();
            assert_eq!(forecast.len(), 1, "{forecast:?}");
            forecast[0].due_on().expect("a due date after a session")
        }
    };
    let (due, kim_due) = (due_of(id_of(sam)).await, due_of(id_of(kim)).await);
    assert!(
        due > OffsetDateTime::now_utc().date() + Duration::days(180),
        "{due}"
    );
    // Kim has her touch-up booked already.
    book(&demo, kim, "14:00", "touch_up").await;

    // The planner, run as if 20 days before each touch-up falls due (inside the default 28)…
    let before = |day: time::Date| day.midnight().assume_utc() - Duration::days(20);
    let recall_keys = |client: Uuid| {
        let (store, owner) = (test.store.clone(), owner);
        async move {
            store
                .client_jobs(&owner, client)
                .await
                .unwrap()
                .into_iter()
                .filter(|j| j.dedupe_key.contains("recall:"))
                .map(|j| (j.dedupe_key, j.id))
                .collect::<Vec<_>>()
        }
    };
    // …by a clinic that does not send recalls: none.
    follicle_web::jobs::plan_all(&test.store, &config, before(due))
        .await
        .unwrap();
    assert!(recall_keys(id_of(sam)).await.is_empty());
    set_settings(&test.store, &demo, RECALL_BY_TEXT).await;
    follicle_web::jobs::plan_all(&test.store, &config, before(due))
        .await
        .unwrap();
    follicle_web::jobs::plan_all(&test.store, &config, before(kim_due))
        .await
        .unwrap();
    let sam_keys = recall_keys(id_of(sam)).await;
    let recall = format!("recall:{}:{due}", id_of(sam));
    let keys: Vec<&str> = sam_keys.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(
        keys.contains(&recall.as_str()) && keys.contains(&format!("sms:{recall}").as_str()),
        "{keys:?}"
    );
    assert_eq!(
        follicle_web::jobs::plan_all(&test.store, &config, before(due) + Duration::hours(6))
            .await
            .unwrap(),
        0,
        "once per due date"
    );
    let kim_keys = recall_keys(id_of(kim)).await;
    assert_eq!(kim_keys.len(), 2, "{kim_keys:?}");
    for (_, job) in sam_keys.iter().chain(&kim_keys) {
        follicle_store::testing::make_job_due(&test.store, *job).await;
    }
    // Worked now (the planner's own run at the real time plans no recall: none is near).
    drain(&test.store, &config).await;

    let due_words = format!("{} {} {}", due.day(), due.month(), due.year());
    let name = clinic_name(&test.store, &demo).await;
    let texts = provider.received_for(SAM);
    assert_eq!(texts.len(), 1, "Sam's only: {texts:?}");
    assert_eq!(texts[0].field("To"), "+447700900123");
    assert_eq!(
        texts[0].field("Body"),
        format!(
            "{name}: your SMP touch-up is due around {due_words}. Call us to book. Reply STOP to opt out."
        )
    );
    let mails = mails_to(&smtp, sam["email"].as_str().unwrap());
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = unfolded(&mails[0]);
    assert!(
        mail.contains(&format!("Subject: Time to book your touch-up at {name}"))
            && mail.contains(&format!("due a touch-up around {due_words}")),
        "{mail}"
    );
    // The preview writes the recall both ways, and says how long the text is.
    let preview = text(&app.get("/messages/preview", &cookie(&demo.front_desk)).await);
    for needle in [
        "Touch-up recall",
        "Time to book your touch-up at",
        "your SMP touch-up is due around",
        "1 part, ",
        "By text message too: Touch-up recall.",
    ] {
        assert!(preview.contains(needle), "{needle:?} not in {preview}");
    }
    let kim_jobs = test.store.client_jobs(&owner, id_of(kim)).await.unwrap();
    let kim_recalls: Vec<_> = kim_jobs
        .iter()
        .filter(|j| j.dedupe_key.contains("recall:"))
        .collect();
    assert_eq!(kim_recalls.len(), 2, "{kim_jobs:?}");
    for job in kim_recalls {
        assert_eq!(job.state, JobState::Skipped);
        assert_eq!(job.last_error, "a touch-up visit is booked already");
    }
}
