//! The job queue: a job queued once per key, claimed by one worker at a time for a lease,
//! taken up again when its worker dies, retried with the caller's backoff and dead after the
//! last try; the message a job sent logged with it; a client's opt-out and erasure.

use std::collections::HashSet;

use follicle_store::{Channel, Job, JobOutcome, JobState, NewClient, NewJob, SentMessage, Store};
use serde_json::json;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::support::clinic;

fn client(name: &str) -> NewClient {
    NewClient {
        name: name.into(),
        date_of_birth: None,
        age_years: Some(40),
        phone: "+44 7700 900123".into(),
        email: format!("{}@example.com", name.to_lowercase().replace(' ', ".")),
        notes: String::new(),
    }
}

fn job(key: &str, client_id: Uuid, run_at: OffsetDateTime) -> NewJob {
    NewJob {
        kind: "message".into(),
        dedupe_key: key.into(),
        client_id: Some(client_id),
        payload: json!({ "kind": "aftercare", "day": 4 }),
        run_at,
        max_attempts: 3,
    }
}

/// The email a worker sent for `job`, as the store logs it.
fn sent_message(job: &Job, to: &str, subject: &str, body: &str) -> SentMessage {
    SentMessage {
        id: Uuid::new_v4(),
        client_id: job.client_id.expect("a client's job"),
        job_id: job.id,
        channel: "email".into(),
        kind: "aftercare".into(),
        recipient: to.into(),
        subject: subject.into(),
        body: body.into(),
        provider_id: format!("<{}@clinic.example>", job.id),
        sent_at: OffsetDateTime::now_utc().replace_nanosecond(0).unwrap(),
    }
}

fn past() -> OffsetDateTime {
    OffsetDateTime::now_utc() - Duration::minutes(5)
}

pub async fn a_job_is_queued_once_per_key(store: &Store) {
    let c = clinic(store, "Queue").await;
    let other = clinic(store, "Other queue").await;
    let sam = store
        .create_client(&c.front_desk, &client("Sam Queue"))
        .await
        .unwrap();
    let alex = store
        .create_client(&other.front_desk, &client("Alex Other"))
        .await
        .unwrap();
    let jobs = [
        job("aftercare:s1:4", sam.id, past()),
        job("aftercare:s1:5", sam.id, past()),
    ];
    assert_eq!(store.enqueue_jobs(c.owner.clinic_id(), &jobs).await.unwrap(), 2);
    // The planner of every server queues the same work again: nothing new.
    assert_eq!(store.enqueue_jobs(c.owner.clinic_id(), &jobs).await.unwrap(), 0);
    // The same key in another clinic is another job.
    assert_eq!(
        store
            .enqueue_jobs(other.owner.clinic_id(), &[job("aftercare:s1:4", alex.id, past())])
            .await
            .unwrap(),
        1
    );
    let counts = store.queue_counts().await.unwrap();
    assert_eq!(counts.queued, 3);
    // A job in the future is not due.
    store
        .enqueue_jobs(
            c.owner.clinic_id(),
            &[job(
                "later",
                sam.id,
                OffsetDateTime::now_utc() + Duration::hours(1),
            )],
        )
        .await
        .unwrap();
    let taken = store.claim_jobs("w1", Duration::minutes(2), 100).await.unwrap();
    let keys: HashSet<String> = taken.iter().map(|j| j.dedupe_key.clone()).collect();
    assert_eq!(taken.len(), 3, "{keys:?}");
    assert!(!keys.contains("later"));
    assert!(
        taken
            .iter()
            .all(|j| j.state == JobState::Running && j.attempts == 1)
    );
    // Bad input is refused by name.
    let mut bad = job("", sam.id, past());
    let err = store
        .enqueue_jobs(c.owner.clinic_id(), &[bad.clone()])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("dedupe_key"), "{err}");
    bad.dedupe_key = "x".into();
    bad.max_attempts = 0;
    let err = store.enqueue_jobs(c.owner.clinic_id(), &[bad]).await.unwrap_err();
    assert!(err.to_string().contains("max_attempts"), "{err}");
}

pub async fn two_workers_never_take_the_same_job(store: &Store) {
    let c = clinic(store, "Race").await;
    let sam = store
        .create_client(&c.front_desk, &client("Sam Race"))
        .await
        .unwrap();
    let jobs: Vec<NewJob> = (0..200).map(|i| job(&format!("k{i}"), sam.id, past())).collect();
    store.enqueue_jobs(c.owner.clinic_id(), &jobs).await.unwrap();
    // Four workers take small batches at the same time until nothing is left.
    let mut handles = Vec::new();
    for w in 0..4 {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = store
                    .claim_jobs(&format!("w{w}"), Duration::minutes(2), 7)
                    .await
                    .unwrap();
                if batch.is_empty() {
                    break;
                }
                mine.extend(batch.into_iter().map(|j| j.id));
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    let distinct: HashSet<Uuid> = all.iter().copied().collect();
    assert_eq!(all.len(), 200, "every job taken once");
    assert_eq!(distinct.len(), 200, "no job taken twice");
}

pub async fn a_dead_workers_job_is_taken_up_after_its_lease(store: &Store) {
    let c = clinic(store, "Lease").await;
    let sam = store
        .create_client(&c.front_desk, &client("Sam Lease"))
        .await
        .unwrap();
    store
        .enqueue_jobs(c.owner.clinic_id(), &[job("k", sam.id, past())])
        .await
        .unwrap();
    // Worker 1 takes it for two seconds and dies.
    let taken = store.claim_jobs("w1", Duration::seconds(2), 10).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert!(store.still_holds(&taken[0], "w1", Duration::ZERO).await.unwrap());
    assert!(!store.still_holds(&taken[0], "w2", Duration::ZERO).await.unwrap());
    assert!(
        !store
            .still_holds(&taken[0], "w1", Duration::seconds(10))
            .await
            .unwrap(),
        "not with 10 s to spare"
    );
    assert!(
        store
            .claim_jobs("w2", Duration::minutes(2), 10)
            .await
            .unwrap()
            .is_empty(),
        "held"
    );
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let again = store.claim_jobs("w2", Duration::minutes(2), 10).await.unwrap();
    assert_eq!(again.len(), 1, "taken up after the lease");
    assert_eq!(again[0].attempts, 2);
    // The dead worker's late finish changes nothing; the new holder's does.
    let done = JobOutcome::Done(None);
    assert!(!store.finish_job(&taken[0], "w1", &done).await.unwrap());
    assert!(store.finish_job(&again[0], "w2", &done).await.unwrap());
    let counts = store.queue_counts().await.unwrap();
    assert_eq!((counts.done, counts.running, counts.queued), (1, 0, 0));
    // The row says which worker finished it (scripts/queue-out reads it after a kill).
    assert_eq!(
        follicle_store::testing::job_worker(store, again[0].id)
            .await
            .as_deref(),
        Some("w2")
    );
}

pub async fn failures_back_off_then_die_and_can_be_sent_again(store: &Store) {
    let c = clinic(store, "Retry").await;
    let sam = store
        .create_client(&c.front_desk, &client("Sam Retry"))
        .await
        .unwrap();
    store
        .enqueue_jobs(c.owner.clinic_id(), &[job("k", sam.id, past())])
        .await
        .unwrap();
    let mut last_error = String::new();
    for attempt in 1..=3 {
        let taken = store.claim_jobs("w", Duration::minutes(2), 10).await.unwrap();
        assert_eq!(taken.len(), 1, "try {attempt}");
        assert_eq!(taken[0].attempts, attempt);
        last_error = format!("SMTP: connection refused ({attempt})");
        // Retry "now" so the next claim finds it; the backoff is the caller's.
        let retry_at = Some(OffsetDateTime::now_utc() - Duration::seconds(1));
        let outcome = JobOutcome::Failed {
            error: last_error.clone(),
            retry_at,
        };
        assert!(store.finish_job(&taken[0], "w", &outcome).await.unwrap());
        let jobs = store.client_jobs(&c.front_desk, sam.id).await.unwrap();
        let expected = if attempt < 3 {
            JobState::Queued
        } else {
            JobState::Dead
        };
        assert_eq!(jobs[0].state, expected, "after try {attempt}");
        assert_eq!(jobs[0].last_error, last_error);
    }
    assert!(
        store
            .claim_jobs("w", Duration::minutes(2), 10)
            .await
            .unwrap()
            .is_empty(),
        "dead is not taken"
    );
    let dead = store.dead_jobs(&c.front_desk).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].last_error, last_error);
    // The front desk sends it again: queued, due now, tries anew.
    let again = store.retry_job(&c.front_desk, dead[0].id).await.unwrap();
    assert_eq!((again.state, again.attempts), (JobState::Queued, 0));
    let err = store.retry_job(&c.front_desk, dead[0].id).await.unwrap_err();
    assert!(err.to_string().contains("only a dead or skipped job"), "{err}");
    let other = clinic(store, "Not theirs").await;
    assert!(
        store.retry_job(&other.front_desk, dead[0].id).await.is_err(),
        "another clinic's job"
    );
    assert!(store.dead_jobs(&other.front_desk).await.unwrap().is_empty());
    let taken = store.claim_jobs("w", Duration::minutes(2), 10).await.unwrap();
    assert_eq!(taken.len(), 1);
    // A permanent failure (no retry time) is dead at once.
    let outcome = JobOutcome::Failed {
        error: "550 no such user".into(),
        retry_at: None,
    };
    assert!(store.finish_job(&taken[0], "w", &outcome).await.unwrap());
    assert_eq!(store.dead_jobs(&c.front_desk).await.unwrap()[0].attempts, 1);
    // A retry later than now is not due yet.
    let again = store.retry_job(&c.owner, taken[0].id).await.unwrap();
    let taken = store.claim_jobs("w", Duration::minutes(2), 10).await.unwrap();
    assert_eq!(taken[0].id, again.id);
    let later = OffsetDateTime::now_utc() + Duration::hours(1);
    let outcome = JobOutcome::Failed {
        error: "timeout".into(),
        retry_at: Some(later),
    };
    assert!(store.finish_job(&taken[0], "w", &outcome).await.unwrap());
    assert!(
        store
            .claim_jobs("w", Duration::minutes(2), 10)
            .await
            .unwrap()
            .is_empty(),
        "waits for its time"
    );
    let jobs = store.client_jobs(&c.front_desk, sam.id).await.unwrap();
    assert_eq!(jobs[0].run_at.unix_timestamp(), later.unix_timestamp());
}

pub async fn a_message_is_logged_with_its_job_and_opt_outs_hold(store: &Store) {
    let c = clinic(store, "Log").await;
    let sam = store
        .create_client(&c.front_desk, &client("Sam Log"))
        .await
        .unwrap();
    store
        .enqueue_jobs(c.owner.clinic_id(), &[job("k", sam.id, past())])
        .await
        .unwrap();
    let taken = store.claim_jobs("w", Duration::minutes(2), 10).await.unwrap();
    let sent = sent_message(
        &taken[0],
        &sam.email,
        "Day 4 after your session",
        "First gentle wash",
    );
    assert!(
        store
            .finish_job(&taken[0], "w", &JobOutcome::Done(Some(sent.clone())))
            .await
            .unwrap()
    );
    assert_eq!(
        store.client_messages(&c.front_desk, sam.id).await.unwrap(),
        vec![sent]
    );
    assert!(
        store.client_jobs(&c.front_desk, sam.id).await.unwrap().is_empty(),
        "a done job is in the log, not the list"
    );
    let other = clinic(store, "Stranger").await;
    assert!(store.client_messages(&other.owner, sam.id).await.is_err());
    // The unsubscribe link's token: made once, and it stops email from then on.
    let contact = store.contact(c.owner.clinic_id(), sam.id).await.unwrap().unwrap();
    assert!(!contact.opted_out(Channel::Email));
    let token = contact.unsubscribe_token.clone();
    assert!(token.len() >= 32);
    assert_eq!(
        store
            .contact(c.owner.clinic_id(), sam.id)
            .await
            .unwrap()
            .unwrap()
            .unsubscribe_token,
        token
    );
    assert!(
        store
            .opt_out_by_token("not-a-token", Channel::Email)
            .await
            .unwrap()
            .is_none()
    );
    let done = store
        .opt_out_by_token(&token, Channel::Email)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.clinic_name, "Log");
    let contact = store.contact(c.owner.clinic_id(), sam.id).await.unwrap().unwrap();
    assert!(contact.opted_out(Channel::Email) && !contact.opted_out(Channel::Sms));
    let first = contact.email_opt_out_at;
    store.opt_out_by_token(&token, Channel::Email).await.unwrap();
    assert_eq!(
        store
            .contact(c.owner.clinic_id(), sam.id)
            .await
            .unwrap()
            .unwrap()
            .email_opt_out_at,
        first,
        "the first time kept"
    );
    // The front desk starts email again at the client's word (audited); the practitioner cannot.
    store
        .set_opt_out(&c.front_desk, sam.id, Channel::Email, false)
        .await
        .unwrap();
    assert!(
        !store
            .contact(c.owner.clinic_id(), sam.id)
            .await
            .unwrap()
            .unwrap()
            .opted_out(Channel::Email)
    );
    let trail = store.audit_log(&c.owner, sam.id).await.unwrap();
    assert!(
        trail.iter().any(|e| e.detail == "started email messages again"),
        "{trail:?}"
    );
}

pub async fn erasure_takes_the_clients_messages(store: &Store) {
    let c = clinic(store, "Erase").await;
    let sam = store
        .create_client(&c.front_desk, &client("Sam Erase"))
        .await
        .unwrap();
    store
        .enqueue_jobs(
            c.owner.clinic_id(),
            &[job("a", sam.id, past()), job("b", sam.id, past())],
        )
        .await
        .unwrap();
    let taken = store.claim_jobs("w", Duration::minutes(2), 1).await.unwrap();
    let sent = sent_message(&taken[0], &sam.email, "Reminder", "See you");
    store
        .finish_job(&taken[0], "w", &JobOutcome::Done(Some(sent)))
        .await
        .unwrap();
    store
        .erase_client(&c.owner, sam.id, OffsetDateTime::now_utc().date())
        .await
        .unwrap();
    // The client's record may be gone, or kept under the legal hold without messages.
    if let Ok(messages) = store.client_messages(&c.owner, sam.id).await {
        assert!(messages.is_empty(), "{messages:?}");
    }
    assert_eq!(
        store.queue_counts().await.unwrap(),
        Default::default(),
        "no job left, done or not"
    );
}

/// A client with this phone number, as typed.
fn with_phone(name: &str, phone: &str) -> NewClient {
    NewClient {
        phone: phone.into(),
        ..client(name)
    }
}

pub async fn a_stop_reply_stops_every_client_with_the_number_once(store: &Store) {
    let c = clinic(store, "Replies").await;
    let other = clinic(store, "Other replies").await;
    let clinic_id = c.owner.clinic_id();
    let mut ids = Vec::new();
    // One number written three ways (a family's phone), one that only ends alike, one of
    // another clinic.
    for (name, phone) in [
        ("Sam Reply", "07700 900123"),
        ("Kim Reply", "+44 (0)7700 900123"),
        ("Lee Reply", "0044-7700-900-123"),
        ("Ana Reply", "+33 7700 900123"),
    ] {
        ids.push(
            store
                .create_client(&c.front_desk, &with_phone(name, phone))
                .await
                .unwrap()
                .id,
        );
    }
    let stranger = store
        .create_client(&other.front_desk, &with_phone("Zed Reply", "07700 900123"))
        .await
        .unwrap()
        .id;
    let stopped = |clinic: Uuid, id: Uuid| async move {
        store
            .contact(clinic, id)
            .await
            .unwrap()
            .unwrap()
            .sms_opt_out_at
            .is_some()
    };

    let replied = store
        .sms_reply(clinic_id, "+447700900123", 44, true, " STOP ", "SM0001")
        .await
        .unwrap()
        .expect("the clinic");
    let mut changed = replied.clients.clone();
    changed.sort();
    let mut family = ids[..3].to_vec();
    family.sort();
    assert_eq!(changed, family);
    assert!(!replied.repeated);
    for id in &ids[..3] {
        assert!(stopped(clinic_id, *id).await);
    }
    assert!(!stopped(clinic_id, ids[3]).await, "+33 is another number");
    assert!(
        !stopped(other.owner.clinic_id(), stranger).await,
        "another clinic's client"
    );
    let log = store.client_messages(&c.owner, ids[0]).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (
            log[0].channel.as_str(),
            log[0].kind.as_str(),
            log[0].recipient.as_str(),
            log[0].body.as_str()
        ),
        ("sms", "sms_stop", "+447700900123", "STOP")
    );

    // The provider sends the same reply again: nothing more.
    let again = store
        .sms_reply(clinic_id, "+447700900123", 44, true, "STOP", "SM0001")
        .await
        .unwrap()
        .unwrap();
    assert!(again.repeated);
    assert_eq!(store.client_messages(&c.owner, ids[0]).await.unwrap().len(), 1);

    // START starts them again; an unknown number changes nobody; an unknown clinic is None.
    store
        .sms_reply(clinic_id, "+447700900123", 44, false, "start", "SM0002")
        .await
        .unwrap();
    assert!(!stopped(clinic_id, ids[1]).await);
    let nobody = store
        .sms_reply(clinic_id, "+447700900999", 44, true, "STOP", "SM0003")
        .await
        .unwrap()
        .unwrap();
    assert!(nobody.clients.is_empty());
    assert!(
        store
            .sms_reply(Uuid::new_v4(), "+447700900123", 44, true, "STOP", "SM0004")
            .await
            .unwrap()
            .is_none()
    );
    let log = store.client_messages(&c.owner, ids[1]).await.unwrap();
    let mut kinds: Vec<&str> = log.iter().map(|m| m.kind.as_str()).collect();
    kinds.sort();
    assert_eq!(kinds, ["sms_start", "sms_stop"]);
}

pub async fn a_client_without_a_session_has_no_touch_up_due(store: &Store) {
    let c = clinic(store, "Forecasts").await;
    let sam = store
        .create_client(&c.front_desk, &client("Sam Forecast"))
        .await
        .unwrap();
    let forecasts = store
        .touch_up_forecasts(c.owner.clinic_id(), Some(sam.id))
        .await
        .unwrap();
    assert!(forecasts.is_empty(), "no plan, no session: {forecasts:?}");
    let none = follicle_store::TouchUpForecast {
        client_id: sam.id,
        planned_due_on: Some(time::macros::date!(2028 - 06 - 01)),
        years_after_last_session: Some(2.0),
        last_session_on: None,
    };
    assert_eq!(none.due_on(), None, "no session logged: nothing to touch up");
    let late = follicle_store::TouchUpForecast {
        last_session_on: Some(time::macros::date!(2026 - 12 - 01)),
        ..none.clone()
    };
    assert_eq!(
        late.due_on(),
        Some(time::macros::date!(2028 - 12 - 01)),
        "sessions later than planned move the touch-up"
    );
    let early = follicle_store::TouchUpForecast {
        last_session_on: Some(time::macros::date!(2026 - 01 - 01)),
        ..none
    };
    assert_eq!(early.due_on(), Some(time::macros::date!(2028 - 06 - 01)));
}

/// A mail recorded as sent at the relay's gate and then refused by the relay (or never
/// finished) is taken back: retried while tries remain, else dead; struck from the log.
pub async fn a_job_recorded_as_sent_and_not_delivered_is_taken_back(store: &Store) {
    let c = clinic(store, "Taken back").await;
    let sam = store
        .create_client(&c.front_desk, &client("Sam Takenback"))
        .await
        .unwrap();
    store
        .enqueue_jobs(c.owner.clinic_id(), &[job("k", sam.id, past())])
        .await
        .unwrap();
    let taken = store.claim_jobs("w", Duration::minutes(2), 10).await.unwrap();
    let message = sent_message(&taken[0], "sam@example.com", "Your visit", "See you");
    assert!(
        store
            .finish_job(&taken[0], "w", &JobOutcome::Done(Some(message)))
            .await
            .unwrap()
    );
    assert_eq!(
        store.client_messages(&c.front_desk, sam.id).await.unwrap().len(),
        1
    );
    // Only a failure takes a job back.
    let err = store
        .reopen_job(&taken[0], &JobOutcome::Done(None))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("only with a failure"), "{err}");
    let retry = JobOutcome::Failed {
        error: "SMTP, after the text: 451 try later".into(),
        retry_at: Some(OffsetDateTime::now_utc() - Duration::seconds(1)),
    };
    assert!(store.reopen_job(&taken[0], &retry).await.unwrap());
    let jobs = store.client_jobs(&c.front_desk, sam.id).await.unwrap();
    assert_eq!(jobs[0].state, JobState::Queued);
    assert_eq!(jobs[0].last_error, "SMTP, after the text: 451 try later");
    assert!(
        store
            .client_messages(&c.front_desk, sam.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        !store.reopen_job(&taken[0], &retry).await.unwrap(),
        "a job not done is left as it is"
    );
    // Taken again, sent, refused for good: dead.
    let again = store.claim_jobs("w2", Duration::minutes(2), 10).await.unwrap();
    assert_eq!((again.len(), again[0].attempts), (1, 2));
    let message = sent_message(&again[0], "sam@example.com", "Your visit", "See you");
    assert!(
        store
            .finish_job(&again[0], "w2", &JobOutcome::Done(Some(message)))
            .await
            .unwrap()
    );
    let refused = JobOutcome::Failed {
        error: "SMTP, after the text: 554 rejected".into(),
        retry_at: None,
    };
    assert!(store.reopen_job(&again[0], &refused).await.unwrap());
    let dead = store.dead_jobs(&c.front_desk).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].last_error, "SMTP, after the text: 554 rejected");
    assert!(
        store
            .client_messages(&c.front_desk, sam.id)
            .await
            .unwrap()
            .is_empty()
    );
    let counts = store.queue_counts().await.unwrap();
    assert_eq!((counts.dead, counts.done, counts.running), (1, 0, 0));
}
