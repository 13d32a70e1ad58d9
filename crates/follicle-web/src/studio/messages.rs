//! Messages in the studio: a client's messages (sent, coming, not sent and why) with their
//! channels, the clinic's failed messages with a button to send again, and the public pages of
//! an unsubscribe link (the only studio pages without a sign-in: the link's token is the key).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use follicle_core::messages::MessageKind;
use follicle_store::{Action, Channel, Client, Job, JobState, SentMessage};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Nav, Page, PageResult, render, render_status};
use crate::extract::Id;
use crate::state::AppState;

/// A message still to come, or one that did not go, as the page lists it.
#[derive(Debug)]
pub struct JobRow {
    /// The job.
    pub job: Job,
    /// What kind of message, in words.
    pub what: String,
    /// Where it stands, in words.
    pub state: &'static str,
    /// When it goes (or went), clinic time.
    pub when: String,
}

fn job_row(job: Job) -> JobRow {
    let what = job.payload["kind"]
        .as_str()
        .and_then(MessageKind::parse)
        .map_or_else(|| job.kind.clone(), |k| k.label().to_owned());
    let what = match job.payload["day"].as_u64() {
        Some(day) => format!("{what}, day {day}"),
        None => what,
    };
    let what = match job.payload["channel"].as_str() {
        Some("sms") => format!("{what} (text message)"),
        _ => what,
    };
    let state = match job.state {
        JobState::Queued if job.attempts > 0 => "to be tried again",
        JobState::Queued => "to be sent",
        JobState::Running => "being sent",
        JobState::Done => "sent",
        JobState::Skipped => "not sent",
        JobState::Dead => "failed",
    };
    JobRow {
        when: stamp(job.finished_at.unwrap_or(job.run_at)),
        what,
        state,
        job,
    }
}

/// "2026-12-03 09:00 UTC".
fn stamp(at: OffsetDateTime) -> String {
    format!("{} {:02}:{:02} UTC", at.date(), at.hour(), at.minute())
}

/// A message of the log as the page lists it.
pub struct SentRow {
    /// When, clinic time.
    pub when: String,
    /// What it was, in words ("Text message: Visit reminder", "Reply: STOP").
    pub what: String,
    /// The message.
    pub message: SentMessage,
}

fn sent_row(message: SentMessage) -> SentRow {
    let label = MessageKind::parse(&message.kind).map(MessageKind::label);
    let what = match (message.channel.as_str(), message.kind.as_str(), label) {
        (_, "sms_stop" | "sms_start", _) => format!("Reply by text: {}", message.body),
        ("sms", _, Some(label)) => format!("Text message: {label}"),
        (_, _, Some(_)) if !message.subject.is_empty() => message.subject.clone(),
        (_, _, Some(label)) => label.to_owned(),
        (_, kind, None) => kind.to_owned(),
    };
    SentRow {
        when: stamp(message.sent_at),
        what,
        message,
    }
}

#[derive(Template)]
#[template(path = "client_messages.html")]
struct ClientMessagesPage {
    nav: Nav,
    client: Client,
    email_stopped: Option<String>,
    sms_stopped: Option<String>,
    sms_ready: bool,
    may_edit: bool,
    jobs: Vec<JobRow>,
    sent: Vec<SentRow>,
    notice: String,
}

/// A client's messages.
pub(super) async fn client_messages(State(state): State<AppState>, page: Page, Id(id): Id) -> PageResult {
    messages_page(&state, &page, id, String::new()).await
}

async fn messages_page(state: &AppState, page: &Page, id: Uuid, notice: String) -> PageResult {
    let store = state.store();
    let client = store.client(&page.actor, id).await?;
    let contact = store.contact(page.actor.clinic_id(), id).await?;
    let jobs = store.client_jobs(&page.actor, id).await?;
    let sent = store.client_messages(&page.actor, id).await?;
    render(&ClientMessagesPage {
        nav: Nav::new(page, "clients"),
        email_stopped: contact
            .as_ref()
            .and_then(|c| c.email_opt_out_at)
            .map(|at| at.date().to_string()),
        sms_stopped: contact
            .and_then(|c| c.sms_opt_out_at)
            .map(|at| at.date().to_string()),
        sms_ready: state.config().sms.enabled(),
        may_edit: page.may(Action::EditClients),
        client,
        jobs: jobs.into_iter().map(job_row).collect(),
        sent: sent.into_iter().map(sent_row).collect(),
        notice,
    })
}

#[derive(Debug, Deserialize)]
pub(super) struct ChannelForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    channel: String,
    /// `stop` or `start`.
    #[serde(default)]
    action: String,
}

/// The front desk stops or starts a channel for a client.
pub(super) async fn set_channel(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
    axum::Form(form): axum::Form<ChannelForm>,
) -> PageResult {
    page.check_csrf(&form._csrf)?;
    let channel = Channel::parse(&form.channel)?;
    let stop = match form.action.as_str() {
        "stop" => true,
        "start" => false,
        other => {
            return Err(super::PageError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                message: format!("action: expected stop or start, got {other:?}"),
            });
        }
    };
    state.store().set_opt_out(&page.actor, id, channel, stop).await?;
    let words = match channel {
        Channel::Email => "email",
        Channel::Sms => "text",
    };
    let notice = if stop {
        format!("No more {words} messages will go to this client.")
    } else {
        format!("{words} messages will go to this client again.")
    };
    messages_page(&state, &page, id, notice).await
}

#[derive(Template)]
#[template(path = "failed_messages.html")]
struct FailedPage {
    nav: Nav,
    jobs: Vec<JobRow>,
}

/// The clinic's failed messages.
pub(super) async fn failed(State(state): State<AppState>, page: Page) -> PageResult {
    let jobs = state.store().dead_jobs(&page.actor).await?;
    render(&FailedPage {
        nav: Nav::new(&page, "messages"),
        jobs: jobs.into_iter().map(job_row).collect(),
    })
}

/// One kind as the preview page shows it.
struct PreviewRow {
    what: &'static str,
    subject: String,
    body: String,
    /// The text message, and its length in words ("1 part, 128 of 160 GSM characters").
    sms: Option<(String, String)>,
    /// Whether the clinic sends it by text.
    by_text: bool,
}

#[derive(Template)]
#[template(path = "message_preview.html")]
struct PreviewPage {
    nav: Nav,
    previews: Vec<PreviewRow>,
    sends: Vec<&'static str>,
    texts: Vec<&'static str>,
    sms_ready: bool,
}

/// A text message's length in words.
fn length_words(length: follicle_core::messages::SmsLength) -> String {
    let alphabet = if length.gsm {
        "GSM characters"
    } else {
        "UCS-2 units (a character outside the GSM alphabet)"
    };
    let room = follicle_core::messages::sms_capacity(length.gsm, length.parts);
    let parts = if length.parts == 1 { "part" } else { "parts" };
    format!("{} {parts}, {} of {room} {alphabet}", length.parts, length.units)
}

/// Every kind of message as the clinic's templates write it now, for a made-up client.
pub(super) async fn preview(State(state): State<AppState>, page: Page) -> PageResult {
    let settings = state.clinic_settings(&page.actor).await?;
    let clinic = state.store().clinic(&page.actor).await?;
    let previews = crate::jobs::previews(&settings, &clinic.name, &state.config().mail.public_url);
    let m = &settings.messages;
    render(&PreviewPage {
        nav: Nav::new(&page, "messages"),
        sends: previews
            .iter()
            .filter(|p| !p.kind.always_sent() && m.sends(p.kind))
            .map(|p| p.kind.label())
            .collect(),
        texts: previews
            .iter()
            .filter(|p| m.sends_sms(p.kind))
            .map(|p| p.kind.label())
            .collect(),
        sms_ready: state.config().sms.enabled(),
        previews: previews
            .into_iter()
            .map(|p| PreviewRow {
                what: p.kind.label(),
                by_text: m.sends_sms(p.kind),
                subject: p.subject,
                body: p.body,
                sms: p.sms.map(|(text, length)| (text, length_words(length))),
            })
            .collect(),
    })
}

#[derive(Debug, Deserialize)]
pub(super) struct RetryForm {
    #[serde(default)]
    _csrf: String,
}

/// Sends a failed (or skipped) message again.
pub(super) async fn retry(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
    axum::Form(form): axum::Form<RetryForm>,
) -> PageResult {
    page.check_csrf(&form._csrf)?;
    let job = state.store().retry_job(&page.actor, id).await?;
    Ok(match job.client_id {
        Some(client) => Redirect::to(&format!("/clients/{client}/messages")).into_response(),
        None => Redirect::to("/messages/failed").into_response(),
    })
}

// ----- the unsubscribe link -----

#[derive(Debug, Deserialize)]
pub(super) struct UnsubscribeQuery {
    #[serde(default)]
    t: String,
    #[serde(default)]
    c: String,
}

#[derive(Template)]
#[template(path = "unsubscribe.html")]
struct UnsubscribePage {
    token: String,
    channel: String,
    /// Done: the clinic's name.
    done: Option<String>,
    error: String,
}

fn channel_words(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "emails",
        Channel::Sms => "text messages",
    }
}

/// The page of an unsubscribe link: a button, so that a link scanner opening it stops nothing.
pub(super) async fn unsubscribe_page(Query(q): Query<UnsubscribeQuery>) -> PageResult {
    let channel = Channel::parse(&q.c).unwrap_or(Channel::Email);
    render(&UnsubscribePage {
        token: q.t,
        channel: channel.as_str().to_owned(),
        done: None,
        error: String::new(),
    })
}

/// The button of that page, and a mail program's one-click unsubscribe (RFC 8058: a POST to
/// the link with `List-Unsubscribe=One-Click`). The token is the proof; no sign-in, no form
/// token.
pub(super) async fn unsubscribe(
    State(state): State<AppState>,
    Query(q): Query<UnsubscribeQuery>,
) -> PageResult {
    let channel = Channel::parse(&q.c).unwrap_or(Channel::Email);
    match state.store().opt_out_by_token(&q.t, channel).await? {
        Some(done) => render(&UnsubscribePage {
            token: String::new(),
            channel: channel_words(channel).to_owned(),
            done: Some(done.clinic_name),
            error: String::new(),
        }),
        None => render_status(
            StatusCode::NOT_FOUND,
            &UnsubscribePage {
                token: String::new(),
                channel: channel.as_str().to_owned(),
                done: None,
                error: "This unsubscribe link is not valid (it may be incomplete: copy the whole link from the email), \
                        or the clinic no longer has your details."
                    .to_owned(),
            },
        ),
    }
}
