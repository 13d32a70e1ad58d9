//! The server's part in the job queue (`follicle_store`'s `jobs`): the **planner**, which finds the
//! messages that have come due and queues each once, and the **worker**, which takes due jobs,
//! writes each message from the records as they are when it goes, and hands it to the SMTP relay
//! or, for a text message, to the SMS provider (`crate::sms`).
//!
//! Every server of a chain may run both (`[jobs] run`): the planner's jobs have keys the
//! database keeps unique per clinic, and a job is taken by one worker at a time, for a lease. A
//! server killed mid-send leaves its jobs `running`; when their lease runs out another server
//! takes them up. What a message says is decided when it is sent, so a visit moved or cancelled
//! after its reminder was queued gets no stale reminder (the job is skipped, and says why).
//!
//! | kind | queued | goes | key |
//! | --- | --- | --- | --- |
//! | booking confirmation | a visit booked in the last day, still ahead | at once | `confirm:<visit>` |
//! | reminder | a visit ahead, booked before its reminder time | `reminder_hours_before` | `remind:<visit>:<start>` |
//! | aftercare | a session in the last `aftercare_last_day` days | day N at `aftercare_hour`, on each day the aftercare changes | `aftercare:<session>:<N>` |
//! | missed visit | a visit marked no-show in the last 7 days | `no_show_follow_up_hours` after its start | `noshow:<visit>` |
//! | touch-up recall | a treated client whose touch-up falls due within `touch_up_recall_days_before` days (and a day); looked for once an hour | that many days before, at `touch_up_recall_hour` | `recall:<client>:<due date>` |
//!
//! All at the clinic's local time (`[clinic] time_zone`) and outside its quiet hours. A kind the
//! clinic also sends by text message (`messages.sms_send`) gets a second job, keyed
//! `sms:<key>`, when the server has an SMS provider (`[sms]`): each channel is tried, retried
//! and recorded on its own, and a client without a phone number, or who replied STOP, gets a
//! skipped job that says so.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use follicle_core::Settings;
use follicle_core::messages::{
    AftercareLine, MessageKind, SmsLength, aftercare_days, aftercare_sms_text, aftercare_text, e164, local,
    local_time, outside_quiet_hours, render, retry_delay, sms_length, sms_text, wall_clock,
};
use follicle_store::{
    AppointmentStatus, Channel, Job, JobOutcome, NewJob, SentMessage, Store, StoreResult, VisitForMessages,
};
use futures_util::StreamExt;
use serde_json::json;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::config::ServerConfig;
use crate::mail::{Mail, Mailer};
use crate::relay::HandOver;
use crate::sms::SmsSender;

/// The job kind of a message to a client.
pub const MESSAGE_JOB: &str = "message";

/// How far back the planner looks for missed visits.
const NO_SHOW_LOOKBACK: Duration = Duration::days(7);
/// How far back it looks for new bookings to confirm.
const BOOKED_LOOKBACK: Duration = Duration::days(1);
/// How far ahead of a recall's day it is queued (like the coming day's aftercare).
const RECALL_LOOKAHEAD: Duration = Duration::days(1);
/// How often a server reads a clinic's touch-up forecasts (every treated client's latest plan):
/// recalls go by the day, so once an hour finds each in time without reading every plan each
/// minute.
const RECALL_PLAN_EVERY: Duration = Duration::hours(1);

/// When each clinic's recalls were last planned by this server, by the planner's `now`.
static RECALLS_PLANNED: std::sync::LazyLock<std::sync::Mutex<HashMap<Uuid, OffsetDateTime>>> =
    std::sync::LazyLock::new(Default::default);

/// Whether to read a clinic's forecasts at `now` (and, if so, it counts as read).
fn recalls_due(clinic_id: Uuid, now: OffsetDateTime) -> bool {
    let mut planned = RECALLS_PLANNED.lock().unwrap_or_else(|e| e.into_inner());
    let recent = planned
        .get(&clinic_id)
        .is_some_and(|at| *at <= now && now - *at < RECALL_PLAN_EVERY);
    if !recent {
        planned.insert(clinic_id, now);
    }
    !recent
}

/// A clinic as the planner and the worker need it.
#[derive(Debug, Clone)]
struct ClinicInfo {
    name: String,
    settings: Arc<Settings>,
}

/// Every clinic's parsed settings by the text they were parsed from: a settings file is parsed
/// once, not once per batch of jobs.
type Parsed = HashMap<Uuid, (String, Arc<Settings>)>;
static PARSED: std::sync::LazyLock<std::sync::Mutex<Parsed>> = std::sync::LazyLock::new(Default::default);

/// Every clinic's name and settings (a file that does not read gives the defaults, and says so).
async fn clinics(store: &Store) -> StoreResult<HashMap<Uuid, ClinicInfo>> {
    let rows = store.clinics_for_jobs().await?;
    let mut parsed = PARSED.lock().unwrap_or_else(|e| e.into_inner());
    parsed.retain(|id, _| rows.iter().any(|(row, _, _)| row == id));
    let mut out = HashMap::new();
    for (id, name, toml) in rows {
        let settings = match parsed.get(&id) {
            Some((text, settings)) if *text == toml => settings.clone(),
            _ => {
                let settings = Arc::new(Settings::with_overrides(&toml).unwrap_or_else(|e| {
                    tracing::warn!(clinic = %id, error = %e, "the clinic's settings do not read; messages use the defaults");
                    Settings::default()
                }));
                parsed.insert(id, (toml, settings.clone()));
                settings
            }
        };
        out.insert(id, ClinicInfo { name, settings });
    }
    Ok(out)
}

fn message_job(
    settings: &Settings,
    kind: MessageKind,
    key: String,
    client_id: Uuid,
    run_at: OffsetDateTime,
    payload: serde_json::Value,
) -> NewJob {
    let mut payload = payload;
    payload["kind"] = json!(kind.as_str());
    NewJob {
        kind: MESSAGE_JOB.to_owned(),
        dedupe_key: key,
        client_id: Some(client_id),
        payload,
        run_at: outside_quiet_hours(settings, run_at),
        max_attempts: i64::from(settings.messages.max_attempts),
    }
}

/// The messages of one clinic that are due by `now` or soon, as jobs (with their text-message
/// twins when `sms`: the server has an SMS provider).
async fn plan_clinic(
    store: &Store,
    clinic_id: Uuid,
    settings: &Settings,
    now: OffsetDateTime,
    sms: bool,
) -> StoreResult<Vec<NewJob>> {
    let m = &settings.messages;
    let reminder = Duration::hours(i64::from(m.reminder_hours_before));
    let mut jobs = Vec::new();
    let visits = store
        .visits_for_messages(
            clinic_id,
            now - NO_SHOW_LOOKBACK,
            now + reminder + Duration::days(1),
            now - BOOKED_LOOKBACK,
        )
        .await?;
    for v in &visits {
        // The diary keeps the clinic's wall clock: the visit's real instant, for timing.
        let starts = wall_clock(settings, v.starts_at);
        let ahead = starts > now;
        let active = matches!(v.status, AppointmentStatus::Booked | AppointmentStatus::Confirmed);
        let visit = json!({ "visit_id": v.id, "starts_at": v.starts_at.unix_timestamp() });
        if m.sends(MessageKind::BookingConfirmation)
            && ahead
            && active
            && v.created_at >= now - BOOKED_LOOKBACK
        {
            jobs.push(message_job(
                settings,
                MessageKind::BookingConfirmation,
                format!("confirm:{}", v.id),
                v.client_id,
                now,
                visit.clone(),
            ));
        }
        let remind_at = starts - reminder;
        // A visit booked within its reminder time has just had its confirmation.
        if m.sends(MessageKind::Reminder)
            && ahead
            && active
            && remind_at <= now + Duration::days(1)
            && v.created_at < remind_at
        {
            jobs.push(message_job(
                settings,
                MessageKind::Reminder,
                format!("remind:{}:{}", v.id, v.starts_at.unix_timestamp()),
                v.client_id,
                remind_at.max(now),
                visit.clone(),
            ));
        }
        if m.sends(MessageKind::NoShow) && !ahead && v.status == AppointmentStatus::NoShow {
            let at = starts + Duration::hours(i64::from(m.no_show_follow_up_hours));
            jobs.push(message_job(
                settings,
                MessageKind::NoShow,
                format!("noshow:{}", v.id),
                v.client_id,
                at.max(now),
                visit,
            ));
        }
    }
    if m.sends(MessageKind::Aftercare) {
        let today = local(settings, now).date();
        let since = today - Duration::days(i64::from(m.aftercare_last_day));
        let mut plans: HashMap<Uuid, Option<Vec<follicle_store::record::AftercareRecord>>> = HashMap::new();
        for s in store.sessions_for_messages(clinic_id, since).await? {
            let records = match plans.entry(s.client_id) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(store.plan_aftercare(clinic_id, s.client_id).await?)
                }
            };
            let Some(records) = records else {
                continue;
            };
            let lines = lines(records);
            for day in aftercare_days(&lines, m.aftercare_last_day) {
                let date = s.performed_on + Duration::days(i64::from(day));
                // Today's and the coming days' messages; a day gone by is not sent late.
                if date < today {
                    continue;
                }
                jobs.push(message_job(
                    settings,
                    MessageKind::Aftercare,
                    format!("aftercare:{}:{day}", s.id),
                    s.client_id,
                    local_time(settings, date, m.aftercare_hour),
                    json!({ "session_id": s.id, "day": day }),
                ));
            }
        }
    }
    if m.sends(MessageKind::TouchUpRecall) && recalls_due(clinic_id, now) {
        let today = local(settings, now).date();
        let before = Duration::days(i64::from(m.touch_up_recall_days_before));
        for forecast in store.touch_up_forecasts(clinic_id, None).await? {
            let Some(due) = forecast.due_on() else {
                continue;
            };
            // From its day (and the day before) until the touch-up falls due: a plan made
            // late, or a server that was off, still recalls in time; a due date gone by is
            // the Today page's list, not a message.
            let on = due - before;
            if on > today + RECALL_LOOKAHEAD || due < today {
                continue;
            }
            jobs.push(message_job(
                settings,
                MessageKind::TouchUpRecall,
                format!("recall:{}:{due}", forecast.client_id),
                forecast.client_id,
                local_time(settings, on, m.touch_up_recall_hour).max(now),
                json!({ "due_on": due.to_string() }),
            ));
        }
    }
    if sms {
        let texts: Vec<NewJob> = jobs
            .iter()
            .filter(|j| {
                j.payload["kind"]
                    .as_str()
                    .and_then(MessageKind::parse)
                    .is_some_and(|k| m.sends_sms(k))
            })
            .map(|j| {
                let mut text = j.clone();
                text.dedupe_key = format!("sms:{}", j.dedupe_key);
                text.payload["channel"] = json!(Channel::Sms.as_str());
                text
            })
            .collect();
        jobs.extend(texts);
    }
    Ok(jobs)
}

fn lines(records: &[follicle_store::record::AftercareRecord]) -> Vec<AftercareLine<'_>> {
    records
        .iter()
        .map(|r| AftercareLine {
            from_day: r.from_day,
            to_day: r.to_day,
            text: &r.text,
        })
        .collect()
}

/// Queues every clinic's messages due by `now` (or within a day, for reminders, aftercare and
/// recalls), text messages too when `config` has an SMS provider; answers how many were new.
pub async fn plan_all(store: &Store, config: &ServerConfig, now: OffsetDateTime) -> StoreResult<u64> {
    let mut new = 0;
    for (clinic_id, clinic) in clinics(store).await? {
        let jobs = plan_clinic(store, clinic_id, &clinic.settings, now, config.sms.enabled()).await?;
        if !jobs.is_empty() {
            new += store.enqueue_jobs(clinic_id, &jobs).await?;
        }
    }
    Ok(new)
}

/// Queues the mail of a receipt to its client (the stored PDF attached when it goes).
pub async fn queue_receipt(
    state: &crate::state::AppState,
    actor: &follicle_store::Actor,
    client_id: Uuid,
    payment_id: Uuid,
) -> crate::error::ApiResult<()> {
    let settings = state.clinic_settings(actor).await?;
    let now = OffsetDateTime::now_utc();
    let job = NewJob {
        kind: MESSAGE_JOB.to_owned(),
        // One mail a minute at most for the same receipt (a double click sends one).
        dedupe_key: format!("receipt:{payment_id}:{}", now.unix_timestamp() / 60),
        client_id: Some(client_id),
        payload: serde_json::json!({ "kind": MessageKind::Receipt.as_str(), "payment_id": payment_id }),
        run_at: now,
        max_attempts: i64::from(settings.messages.max_attempts),
    };
    state.store().enqueue_jobs(actor.clinic_id(), &[job]).await?;
    Ok(())
}

/// One worker's identity: host, process and a random part (a restarted process is a new worker).
pub fn worker_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let random = Uuid::new_v4().simple().to_string();
    format!("{}:{}:{}", host.trim(), std::process::id(), &random[..8])
}

/// A message ready to go, by its channel.
enum Outgoing {
    /// An email.
    Mail(Mail),
    /// A text message: the number (E.164) and the words.
    Text {
        /// The number.
        to: String,
        /// The words.
        body: String,
    },
}

/// What a message says and where it goes, or why it does not go.
enum Composed {
    /// The message, its kind, and its text as the message log keeps it.
    Send(Outgoing, MessageKind, String),
    Skip(String),
}

/// The channel of a message job (a job of before text messages has none: email).
fn channel_of(job: &Job) -> Channel {
    match job.payload["channel"].as_str() {
        Some("sms") => Channel::Sms,
        _ => Channel::Email,
    }
}

/// "1 June 2027".
fn day_words(day: time::Date) -> String {
    format!("{} {} {}", day.day(), day.month(), day.year())
}

/// The words of a visit's length: `3 h`, `2 h 30 min`, `45 min`.
fn length(minutes: i64) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

async fn compose(
    store: &Store,
    config: &ServerConfig,
    job: &Job,
    clinic: &ClinicInfo,
    now: OffsetDateTime,
) -> StoreResult<Composed> {
    let m = &clinic.settings.messages;
    let Some(kind) = job.payload["kind"].as_str().and_then(MessageKind::parse) else {
        return Ok(Composed::Skip(format!(
            "not a message this server knows: {}",
            job.payload
        )));
    };
    let Some(client_id) = job.client_id else {
        return Ok(Composed::Skip("no client".to_owned()));
    };
    let Some(contact) = store.contact(job.clinic_id, client_id).await? else {
        return Ok(Composed::Skip("the client's record is gone".to_owned()));
    };
    let channel = channel_of(job);
    // The number a text goes to, checked; `None` for an email.
    let mut number = None;
    match channel {
        Channel::Email => {
            if contact.email.trim().is_empty() {
                return Ok(Composed::Skip("the client has no email address".to_owned()));
            }
            if let Some(at) = contact.email_opt_out_at
                && !kind.always_sent()
            {
                return Ok(Composed::Skip(format!(
                    "the client stopped email on {}",
                    at.date()
                )));
            }
        }
        Channel::Sms => {
            if contact.phone.trim().is_empty() {
                return Ok(Composed::Skip(
                    "the client has no phone number for text messages".to_owned(),
                ));
            }
            if let Some(at) = contact.sms_opt_out_at {
                return Ok(Composed::Skip(format!(
                    "the client stopped text messages on {}",
                    at.date()
                )));
            }
            if !m.sends_sms(kind) {
                return Ok(Composed::Skip(format!(
                    "the clinic no longer sends {} messages by text",
                    kind.as_str()
                )));
            }
            match e164(&contact.phone, clinic.settings.clinic.calling_code) {
                Ok(to) => number = Some(to),
                Err(why) => {
                    return Ok(Composed::Skip(format!(
                        "the client's phone number cannot take a text message: {why}"
                    )));
                }
            }
        }
    }
    if !m.sends(kind) {
        return Ok(Composed::Skip(format!(
            "the clinic no longer sends {} messages",
            kind.as_str()
        )));
    }
    let public = config.mail.public_url.trim_end_matches('/');
    let link = format!(
        "{public}/unsubscribe?t={}&c={}",
        contact.unsubscribe_token,
        channel.as_str()
    );
    let first_name = contact
        .name
        .split_whitespace()
        .next()
        .unwrap_or(&contact.name)
        .to_owned();
    let mut values: BTreeMap<&str, String> = BTreeMap::from([
        ("client_name", first_name),
        ("clinic_name", clinic.name.clone()),
        ("unsubscribe_link", link.clone()),
    ]);
    // What the message log keeps of the text (a sign-in link is a secret: not kept), and files.
    let mut secret: Option<String> = None;
    let mut attachments = Vec::new();
    match kind {
        MessageKind::PortalLink => {
            let portal = &clinic.settings.portal;
            let Some((token, expires)) = store
                .issue_portal_link(
                    job.clinic_id,
                    client_id,
                    Duration::minutes(i64::from(portal.link_minutes)),
                    portal.links_per_day,
                )
                .await?
            else {
                return Ok(Composed::Skip(format!(
                    "the client was sent {} sign-in links in the last day already",
                    portal.links_per_day
                )));
            };
            let link = format!("{public}/portal/enter?t={}", token.as_str());
            let at = local(&clinic.settings, expires);
            values.insert("link", link.clone());
            values.insert(
                "expires",
                format!(
                    "{:02}:{:02} on {} {} {}",
                    at.hour(),
                    at.minute(),
                    at.day(),
                    at.month(),
                    at.year()
                ),
            );
            secret = Some(link);
        }
        MessageKind::SignedConsent => {
            let consent_id = job.payload["consent_id"]
                .as_str()
                .and_then(|t| t.parse::<Uuid>().ok());
            let copy = match consent_id {
                Some(id) => store.signed_consent_copy(job.clinic_id, client_id, id).await?,
                None => None,
            };
            let Some((consent, pdf)) = copy else {
                return Ok(Composed::Skip("the consent is gone".to_owned()));
            };
            let at = local(&clinic.settings, consent.signed.signed_at);
            values.insert("title", consent.signed.title.clone());
            values.insert(
                "signed_at",
                format!(
                    "{} {} {} at {:02}:{:02}",
                    at.day(),
                    at.month(),
                    at.year(),
                    at.hour(),
                    at.minute()
                ),
            );
            attachments.push((
                format!("consent-{}-{}.pdf", consent.signed.kind.as_str(), at.date()),
                "application/pdf".to_owned(),
                pdf,
            ));
        }
        MessageKind::Receipt => {
            let payment_id = job.payload["payment_id"]
                .as_str()
                .and_then(|t| t.parse::<Uuid>().ok());
            let copy = match payment_id {
                Some(id) => store.receipt_copy(job.clinic_id, client_id, id).await?,
                None => None,
            };
            let Some((receipt, pdf)) = copy else {
                return Ok(Composed::Skip("the receipt is gone".to_owned()));
            };
            let at = local(&clinic.settings, receipt.issued_at);
            let label = follicle_store::receipt_label(receipt.number);
            values.insert("receipt_number", label.clone());
            values.insert(
                "amount",
                crate::documents::money_minor(&receipt.currency, receipt.amount),
            );
            values.insert("paid_on", format!("{} {} {}", at.day(), at.month(), at.year()));
            attachments.push((format!("receipt-{label}.pdf"), "application/pdf".to_owned(), pdf));
        }
        MessageKind::BookingConfirmation | MessageKind::Reminder | MessageKind::NoShow => {
            let visit_id = job.payload["visit_id"]
                .as_str()
                .and_then(|t| t.parse::<Uuid>().ok());
            let starts = job.payload["starts_at"].as_i64();
            let visit: Option<VisitForMessages> = match visit_id {
                Some(id) => store.visit_for_messages(job.clinic_id, id).await?,
                None => None,
            };
            let Some(visit) = visit else {
                return Ok(Composed::Skip("the visit is gone".to_owned()));
            };
            if Some(visit.starts_at.unix_timestamp()) != starts {
                return Ok(Composed::Skip("the visit was moved".to_owned()));
            }
            let holds = match kind {
                MessageKind::NoShow => visit.status == AppointmentStatus::NoShow,
                _ => {
                    matches!(
                        visit.status,
                        AppointmentStatus::Booked | AppointmentStatus::Confirmed
                    ) && wall_clock(&clinic.settings, visit.starts_at) > now
                }
            };
            if !holds {
                return Ok(Composed::Skip(format!("the visit is now {}", visit.status)));
            }
            // The diary's time is the clinic's wall clock already.
            let at = visit.starts_at;
            values.insert(
                "visit_date",
                format!("{} {} {} {}", at.weekday(), at.day(), at.month(), at.year()),
            );
            values.insert("visit_time", format!("{:02}:{:02}", at.hour(), at.minute()));
            values.insert("visit_length", length(visit.duration_minutes));
        }
        MessageKind::Aftercare => {
            let session_id = job.payload["session_id"]
                .as_str()
                .and_then(|t| t.parse::<Uuid>().ok());
            let day = job.payload["day"]
                .as_u64()
                .and_then(|d| u32::try_from(d).ok())
                .unwrap_or(0);
            let session = match session_id {
                Some(id) => store.session_for_messages(job.clinic_id, id).await?,
                None => None,
            };
            let Some(session) = session else {
                return Ok(Composed::Skip("the session is gone".to_owned()));
            };
            let date = session.performed_on + Duration::days(i64::from(day));
            if local(&clinic.settings, now).date() > date {
                return Ok(Composed::Skip(format!("day {day} ({date}) has passed")));
            }
            let Some(records) = store.plan_aftercare(job.clinic_id, client_id).await? else {
                return Ok(Composed::Skip("the client has no plan".to_owned()));
            };
            let text = match channel {
                Channel::Email => aftercare_text(&lines(&records), day),
                Channel::Sms => aftercare_sms_text(&lines(&records), day),
            };
            if text.is_empty() {
                return Ok(Composed::Skip(format!("no aftercare for day {day}")));
            }
            values.insert("day", day.to_string());
            values.insert("aftercare", text);
        }
        MessageKind::TouchUpRecall => {
            let planned = job.payload["due_on"].as_str().unwrap_or_default();
            let forecast = store
                .touch_up_forecasts(job.clinic_id, Some(client_id))
                .await?
                .into_iter()
                .next()
                .and_then(|f| f.due_on());
            let Some(due) = forecast else {
                return Ok(Composed::Skip(
                    "the client has no touch-up forecast now (no plan, or no session logged)".to_owned(),
                ));
            };
            if due.to_string() != planned {
                return Ok(Composed::Skip(format!(
                    "the touch-up forecast changed: now due on {due}"
                )));
            }
            // The diary keeps the clinic's wall clock.
            let diary_now = local(&clinic.settings, now).replace_offset(time::UtcOffset::UTC);
            if store.touch_up_booked(job.clinic_id, client_id, diary_now).await? {
                return Ok(Composed::Skip("a touch-up visit is booked already".to_owned()));
            }
            values.insert("due_date", day_words(due));
        }
    }
    if let Some(to) = number {
        let Some(text) = text_words(&clinic.settings, kind, &values) else {
            return Ok(Composed::Skip(format!(
                "no text message words for {} (messages.templates, sms)",
                kind.as_str()
            )));
        };
        return Ok(Composed::Send(
            Outgoing::Text {
                to,
                body: text.clone(),
            },
            kind,
            text,
        ));
    }
    let Some((subject, body)) = words(&clinic.settings, kind, &values) else {
        return Ok(Composed::Skip(format!("no template for {}", kind.as_str())));
    };
    let host = public
        .split("://")
        .nth(1)
        .unwrap_or("localhost")
        .split(['/', ':'])
        .next()
        .unwrap_or("localhost");
    let logged = match &secret {
        Some(link) => body.replace(link, "[the sign-in link, not kept]"),
        None => body.clone(),
    };
    Ok(Composed::Send(
        Outgoing::Mail(Mail {
            to: contact.email.trim().to_owned(),
            subject,
            body,
            // The same for every try, so a receiving system can tell a repeat.
            message_id: Some(format!("<{}@{host}>", job.id)),
            // Messages the client asked for or is owed cannot be stopped.
            unsubscribe: (!kind.always_sent()).then_some(link),
            attachments,
        }),
        kind,
        logged,
    ))
}

/// A text message's words: the clinic's template of the kind (its `sms`) with the values filled
/// in, at most `messages.sms_max_parts` parts long; `None` when the kind has none.
fn text_words(settings: &Settings, kind: MessageKind, values: &BTreeMap<&str, String>) -> Option<String> {
    let template = settings.messages.template(kind)?;
    if template.sms.trim().is_empty() {
        return None;
    }
    Some(sms_text(&template.sms, values, settings.messages.sms_max_parts))
}

/// A message's subject and text: the clinic's template of the kind with the values filled in.
fn words(
    settings: &Settings,
    kind: MessageKind,
    values: &BTreeMap<&str, String>,
) -> Option<(String, String)> {
    let template = settings.messages.template(kind)?;
    Some((
        render(&template.subject, values).trim().to_owned(),
        render(&template.body, values).trim_start().to_owned(),
    ))
}

/// One kind of message as the clinic's templates write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// The kind.
    pub kind: MessageKind,
    /// The email's subject.
    pub subject: String,
    /// The email's text.
    pub body: String,
    /// The text message and its length, for a kind that can go by text.
    pub sms: Option<(String, SmsLength)>,
}

/// Every kind of message as the clinic's templates write it, for a made-up client ("Sam") with a
/// visit next Tuesday at 10:00, day 4 after a session of the default aftercare, and a touch-up
/// due in four weeks: the preview of the clinic's messages page.
pub fn previews(settings: &Settings, clinic_name: &str, public_url: &str) -> Vec<Preview> {
    let today = local(settings, OffsetDateTime::now_utc()).date();
    let mut tuesday = today.next_day().unwrap_or(today);
    while tuesday.weekday() != time::Weekday::Tuesday {
        tuesday = tuesday.next_day().unwrap_or(tuesday);
    }
    let lines: Vec<AftercareLine<'_>> = settings
        .aftercare
        .items
        .iter()
        .filter(|i| i.only_if.is_none() && !i.disabled)
        .map(|i| AftercareLine {
            from_day: i.from_day,
            to_day: i.to_day,
            text: &i.text,
        })
        .collect();
    MessageKind::ALL
        .into_iter()
        .filter_map(|kind| {
            let mut values: BTreeMap<&str, String> = BTreeMap::from([
                ("client_name", "Sam".to_owned()),
                ("clinic_name", clinic_name.to_owned()),
                (
                    "unsubscribe_link",
                    format!("{}/unsubscribe?t=…&c=email", public_url.trim_end_matches('/')),
                ),
                (
                    "visit_date",
                    format!(
                        "{} {} {} {}",
                        tuesday.weekday(),
                        tuesday.day(),
                        tuesday.month(),
                        tuesday.year()
                    ),
                ),
                ("visit_time", "10:00".to_owned()),
                ("visit_length", length(180)),
                ("day", "4".to_owned()),
                ("aftercare", aftercare_text(&lines, 4)),
                (
                    "due_date",
                    day_words(
                        today + Duration::days(i64::from(settings.messages.touch_up_recall_days_before)),
                    ),
                ),
                (
                    "link",
                    format!("{}/portal/enter?t=…", public_url.trim_end_matches('/')),
                ),
                (
                    "expires",
                    format!(
                        "10:30 on {} {} {}",
                        tuesday.day(),
                        tuesday.month(),
                        tuesday.year()
                    ),
                ),
                (
                    "title",
                    settings
                        .consent
                        .template(follicle_core::settings::ConsentKind::Procedure)
                        .map(|t| t.title.clone())
                        .unwrap_or_default(),
                ),
                (
                    "signed_at",
                    format!(
                        "{} {} {} at 10:00",
                        tuesday.day(),
                        tuesday.month(),
                        tuesday.year()
                    ),
                ),
                ("receipt_number", follicle_store::receipt_label(1)),
                (
                    "amount",
                    crate::documents::money_minor(&settings.pricing.currency, 30_000),
                ),
                (
                    "paid_on",
                    format!("{} {} {}", tuesday.day(), tuesday.month(), tuesday.year()),
                ),
            ]);
            values.retain(|name, _| kind.variables().contains(name));
            let (subject, body) = words(settings, kind, &values)?;
            if kind == MessageKind::Aftercare {
                values.insert("aftercare", aftercare_sms_text(&lines, 4));
            }
            values.insert(
                "unsubscribe_link",
                format!("{}/unsubscribe?t=…&c=sms", public_url.trim_end_matches('/')),
            );
            let sms = (!kind.always_sent())
                .then(|| text_words(settings, kind, &values))
                .flatten()
                .map(|text| {
                    let length = sms_length(&text);
                    (text, length)
                });
            Some(Preview {
                kind,
                subject,
                body,
                sms,
            })
        })
        .collect()
}

/// Works one job to its end (or leaves it, when another worker took it over).
async fn work(
    store: &Store,
    config: &ServerConfig,
    senders: &Senders,
    worker: &str,
    clinics: &HashMap<Uuid, ClinicInfo>,
    job: Job,
) -> StoreResult<()> {
    let now = OffsetDateTime::now_utc();
    let Some(clinic) = clinics.get(&job.clinic_id) else {
        return Ok(());
    };
    let outcome = if job.kind != MESSAGE_JOB {
        JobOutcome::Skipped(format!("a job of kind {:?} this server does not know", job.kind))
    } else {
        match compose(store, config, &job, clinic, now).await? {
            Composed::Skip(why) => JobOutcome::Skipped(why),
            Composed::Send(Outgoing::Mail(mail), kind, logged) => match &senders.mail {
                Err(e) => failure(clinic, &job, Channel::Email, e.message.clone(), e.permanent),
                Ok(mailer) => {
                    // Recorded as sent at the gate, before the relay can accept it: see crate::relay.
                    let commit = |provider_id: String| {
                        let message = sent_message(
                            &job,
                            Channel::Email,
                            kind,
                            &mail.to,
                            &mail.subject,
                            logged,
                            provider_id,
                        );
                        let job = &job;
                        async move {
                            match store
                                .finish_job(job, worker, &JobOutcome::Done(Some(message)))
                                .await
                            {
                                Ok(held) => held,
                                Err(e) => {
                                    tracing::error!(job = %job.id, error = %e, "a mail could not be recorded as sent; not sent");
                                    false
                                }
                            }
                        }
                    };
                    return match mailer.hand_over(&mail, commit).await {
                        Ok(HandOver::Accepted) => Ok(()),
                        Ok(HandOver::NotOurs) => {
                            tracing::warn!(job = %job.id, "the job is no longer this worker's; its mail was held back");
                            Ok(())
                        }
                        Ok(HandOver::Unconfirmed(why)) => {
                            tracing::warn!(job = %job.id, error = %why, "a mail was handed to the relay and its answer not received; kept as sent");
                            Ok(())
                        }
                        Ok(HandOver::Refused { message, permanent }) => {
                            let outcome = failure(clinic, &job, Channel::Email, message, permanent);
                            store.reopen_job(&job, &outcome).await.map(|_| ())
                        }
                        Err(e) => {
                            let outcome = failure(clinic, &job, Channel::Email, e.message, e.permanent);
                            finish(store, worker, &job, &outcome).await
                        }
                    };
                }
            },
            Composed::Send(Outgoing::Text { to, body }, kind, logged) => {
                // Hand over only with time to spare on the lease: a send never overlaps another
                // worker's try of the same job. (A text is sent, then recorded: at least once.)
                let margin = Duration::seconds(i64::try_from(config.sms.timeout_seconds).unwrap_or(i64::MAX))
                    + Duration::seconds(1);
                if !store.still_holds(&job, worker, margin).await? {
                    tracing::warn!(job = %job.id, "lease too short to send; left for the next try");
                    return Ok(());
                }
                let sent = match &senders.sms {
                    Ok(sender) => sender.send(&to, &body).await,
                    Err(e) => Err(e.clone()),
                };
                match sent {
                    Ok(provider_id) => JobOutcome::Done(Some(sent_message(
                        &job,
                        Channel::Sms,
                        kind,
                        &to,
                        "",
                        logged,
                        provider_id,
                    ))),
                    Err(e) => failure(clinic, &job, Channel::Sms, e.message, e.permanent),
                }
            }
        }
    };
    finish(store, worker, &job, &outcome).await
}

/// Records the end of a try (nothing, when another worker took the job over meanwhile).
async fn finish(store: &Store, worker: &str, job: &Job, outcome: &JobOutcome) -> StoreResult<()> {
    if !store.finish_job(job, worker, outcome).await? {
        tracing::warn!(job = %job.id, "another worker took the job over; its outcome was not recorded here");
    }
    Ok(())
}

/// A message as it goes, for the client's message log.
fn sent_message(
    job: &Job,
    channel: Channel,
    kind: MessageKind,
    recipient: &str,
    subject: &str,
    body: String,
    provider_id: String,
) -> SentMessage {
    SentMessage {
        id: Uuid::new_v4(),
        client_id: job.client_id.unwrap_or_default(),
        job_id: job.id,
        channel: channel.as_str().to_owned(),
        kind: kind.as_str().to_owned(),
        recipient: recipient.to_owned(),
        subject: subject.to_owned(),
        body,
        provider_id,
        sent_at: OffsetDateTime::now_utc(),
    }
}

/// A try that failed (logged): retried after the clinic's backoff (outside its quiet hours)
/// while tries remain and trying again can help, else dead.
fn failure(clinic: &ClinicInfo, job: &Job, channel: Channel, error: String, permanent: bool) -> JobOutcome {
    tracing::warn!(job = %job.id, channel = channel.as_str(), error = %error, permanent, "a message did not go");
    let settings = &clinic.settings;
    let attempts = u32::try_from(job.attempts).unwrap_or(u32::MAX);
    JobOutcome::Failed {
        error,
        retry_at: (!permanent).then(|| {
            outside_quiet_hours(
                settings,
                OffsetDateTime::now_utc() + retry_delay(settings, attempts),
            )
        }),
    }
}

/// A worker's ways out: the SMTP relay and the SMS provider (each an error that every message
/// of its channel records, when it is not set up).
#[derive(Debug)]
struct Senders {
    mail: Result<Mailer, crate::mail::MailError>,
    sms: Result<SmsSender, crate::sms::SmsError>,
}

/// A worker of the queue: this server's identity in it and its connections to the relay.
#[derive(Debug)]
pub struct Worker {
    store: Store,
    config: Arc<ServerConfig>,
    senders: Senders,
    id: String,
}

impl Worker {
    /// A worker named `id` (see [`worker_id`]), with up to `jobs.sends_at_once` connections to
    /// the relay, and the SMS provider of `[sms]`.
    pub fn new(store: Store, config: Arc<ServerConfig>, id: String) -> Worker {
        let connections = u32::try_from(config.jobs.sends_at_once).unwrap_or(1);
        Worker {
            senders: Senders {
                mail: Mailer::new(&config.mail, connections),
                sms: SmsSender::new(&config.sms),
            },
            store,
            config,
            id,
        }
    }

    /// Takes one batch of due jobs and works them, `sends_at_once` at a time; answers how many.
    pub async fn work_once(&self) -> StoreResult<usize> {
        let (store, config, worker) = (&self.store, &*self.config, self.id.as_str());
        let lease = Duration::seconds(i64::try_from(config.jobs.lease_seconds).unwrap_or(i64::MAX));
        let batch = i64::try_from(config.jobs.batch).unwrap_or(1);
        let jobs = store.claim_jobs(worker, lease, batch).await?;
        if jobs.is_empty() {
            return Ok(0);
        }
        let clinics = clinics(store).await?;
        let n = jobs.len();
        let results: Vec<StoreResult<()>> = futures_util::stream::iter(jobs)
            .map(|job| work(store, config, &self.senders, worker, &clinics, job))
            .buffer_unordered(config.jobs.sends_at_once.max(1))
            .collect()
            .await;
        for r in results {
            if let Err(e) = r {
                tracing::error!(error = %e, "a job could not be worked");
            }
        }
        Ok(n)
    }
}

/// The planner and the worker, until the task is dropped: plans every `plan_every_seconds`,
/// works batches back to back while there are due jobs and looks again every `poll_seconds`.
pub async fn run(store: Store, config: Arc<ServerConfig>) {
    let worker = Worker::new(store.clone(), config.clone(), worker_id());
    tracing::info!(worker = %worker.id, "job queue worker started");
    let plan_every = std::time::Duration::from_secs(config.jobs.plan_every_seconds.max(1));
    let poll = std::time::Duration::from_secs(config.jobs.poll_seconds.max(1));
    let mut next_plan = tokio::time::Instant::now();
    let sends = !config.mail.smtp_host.is_empty() || config.sms.enabled();
    if !sends {
        tracing::warn!("mail.smtp_host is not set: messages to clients are planned and wait until it is");
    } else if config.mail.smtp_host.is_empty() {
        tracing::warn!(
            "mail.smtp_host is not set: emails to clients fail and wait among the failed messages"
        );
    }
    if !config.sms.enabled() {
        tracing::info!("sms.account_sid is not set: no text messages are planned");
    }
    loop {
        if tokio::time::Instant::now() >= next_plan {
            match plan_all(&store, &config, OffsetDateTime::now_utc()).await {
                Ok(0) => {}
                Ok(new) => tracing::info!(new, "messages queued"),
                Err(e) => tracing::error!(error = %e, "planning messages failed"),
            }
            next_plan = tokio::time::Instant::now() + plan_every;
        }
        if !sends {
            tokio::time::sleep(plan_every).await;
            continue;
        }
        match worker.work_once().await {
            Ok(0) => {
                tokio::time::sleep(poll.min(next_plan - tokio::time::Instant::now().min(next_plan))).await
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "taking jobs failed");
                tokio::time::sleep(poll).await;
            }
        }
    }
}
