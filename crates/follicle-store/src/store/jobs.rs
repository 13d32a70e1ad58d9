//! The durable job queue: scheduled work (the messages to clients first) kept in the clinic's
//! own database, so that it survives a restart or a `kill -9` and is shared by every app server
//! of a chain on one PostgreSQL.
//!
//! - **Queued once.** A job has a `dedupe_key` unique within its clinic (`aftercare:<session>:4`);
//!   whoever finds the work due — any server, any minute — inserts it, and only the first insert
//!   counts ([`Store::enqueue_jobs`]).
//! - **Claimed for a lease.** A worker takes due jobs ([`Store::claim_jobs`]) for `lease`; with
//!   PostgreSQL under `FOR UPDATE SKIP LOCKED`, so two servers never take the same one; with
//!   SQLite (one server, one writer) in one `UPDATE … RETURNING`. A job whose lease ran out
//!   while `running` (its worker died) is due again: nothing is lost.
//! - **Finished by its holder.** [`Store::finish_job`] changes a job only while the caller still
//!   holds it (same worker, lease not run out), and records a sent message in the same
//!   transaction, so a message is logged exactly when its job is done. A failure goes back to
//!   the queue with a later `run_at` (the caller's backoff), or to the dead letters after the
//!   last try, where the clinic sees it and can queue it again ([`Store::retry_job`]).
//!
//! The guarantee is the one any mail relay allows: at least once, and twice only if a server
//! dies in the moment between the relay accepting a message and the commit that marks it sent
//! (the worker sends only while its lease has time left, so a slow send is never taken over).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::types::Json;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{Store, audit_insert, now, on_db};
use crate::auth::Actor;
use crate::error::{StoreError, StoreResult};
use crate::model::AuditAction;
use crate::role::Action;

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for its `run_at`.
    Queued,
    /// Taken by a worker (or abandoned by a dead one, until its lease runs out).
    Running,
    /// Done.
    Done,
    /// Nothing to do when it came due (the client opted out, the visit was cancelled).
    Skipped,
    /// Failed on every try; waits for someone to look.
    Dead,
}

impl JobState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Skipped => "skipped",
            JobState::Dead => "dead",
        }
    }

    fn parse(text: &str) -> StoreResult<JobState> {
        Ok(match text {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "done" => JobState::Done,
            "skipped" => JobState::Skipped,
            "dead" => JobState::Dead,
            other => return Err(StoreError::Internal(format!("job state {other:?}"))),
        })
    }
}

/// A job to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// What it does (`message`).
    pub kind: String,
    /// Unique within the clinic: the same work is queued once.
    pub dedupe_key: String,
    /// The client it is for, if any (it shows on their record and goes with an erasure).
    pub client_id: Option<Uuid>,
    /// What the worker needs (ids, not copies of records).
    pub payload: Value,
    /// When it is due.
    pub run_at: OffsetDateTime,
    /// Tries before it is dead.
    pub max_attempts: i64,
}

/// A job in the queue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    /// Its id.
    pub id: Uuid,
    /// Its clinic.
    pub clinic_id: Uuid,
    /// What it does.
    pub kind: String,
    /// Its key within the clinic.
    pub dedupe_key: String,
    /// The client it is for.
    pub client_id: Option<Uuid>,
    /// What the worker needs.
    pub payload: Value,
    /// When it is (next) due.
    #[serde(with = "time::serde::rfc3339")]
    pub run_at: OffsetDateTime,
    /// Where it stands.
    pub state: JobState,
    /// Tries so far (a claim is a try).
    pub attempts: i64,
    /// Tries allowed.
    pub max_attempts: i64,
    /// Why the last try failed, or why it was skipped.
    pub last_error: String,
    /// When it was queued.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it was done, skipped or given up.
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
}

/// A message as it was sent to a client: the message log on their record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentMessage {
    /// Its id.
    pub id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// The job that sent it.
    pub job_id: Uuid,
    /// `email` or `sms`.
    pub channel: String,
    /// What it was (`aftercare`, `reminder`, …).
    pub kind: String,
    /// The address or number it went to.
    pub recipient: String,
    /// The subject (empty for SMS).
    pub subject: String,
    /// The text, as sent.
    pub body: String,
    /// The relay's or provider's id of it (the email's Message-ID).
    pub provider_id: String,
    /// When it was handed over.
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: OffsetDateTime,
}

/// How a try of a job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum JobOutcome {
    /// Done; the message it sent, if any, goes on the client's record.
    Done(Option<SentMessage>),
    /// Nothing to do, and why (for the client's record).
    Skipped(String),
    /// Failed: tried again at `retry_at`, or dead when that is `None` or the tries are used up.
    Failed {
        /// What went wrong, in words for the clinic.
        error: String,
        /// When to try again.
        retry_at: Option<OffsetDateTime>,
    },
}

/// Queue counts, for the health page and the tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct QueueCounts {
    /// Waiting (due or not).
    pub queued: i64,
    /// Taken by a worker.
    pub running: i64,
    /// Done.
    pub done: i64,
    /// Skipped.
    pub skipped: i64,
    /// Dead.
    pub dead: i64,
}

const JOB_COLS: &str = "id, clinic_id, kind, dedupe_key, client_id, payload, run_at, state, attempts, \
     max_attempts, last_error, created_at, finished_at";

type JobRow = (
    Uuid,
    Uuid,
    String,
    String,
    Option<Uuid>,
    Json<Value>,
    OffsetDateTime,
    String,
    i64,
    i64,
    String,
    OffsetDateTime,
    Option<OffsetDateTime>,
);

fn job_from_row(r: JobRow) -> StoreResult<Job> {
    Ok(Job {
        id: r.0,
        clinic_id: r.1,
        kind: r.2,
        dedupe_key: r.3,
        client_id: r.4,
        payload: r.5.0,
        run_at: r.6,
        state: JobState::parse(&r.7)?,
        attempts: r.8,
        max_attempts: r.9,
        last_error: r.10,
        created_at: r.11,
        finished_at: r.12,
    })
}

pub(super) const MESSAGE_COLS: &str =
    "id, client_id, job_id, channel, kind, recipient, subject, body, provider_id, sent_at";

pub(super) type MessageRow = (
    Uuid,
    Uuid,
    Uuid,
    String,
    String,
    String,
    String,
    String,
    String,
    OffsetDateTime,
);

pub(super) fn message_from_row(r: MessageRow) -> SentMessage {
    SentMessage {
        id: r.0,
        client_id: r.1,
        job_id: r.2,
        channel: r.3,
        kind: r.4,
        recipient: r.5,
        subject: r.6,
        body: r.7,
        provider_id: r.8,
        sent_at: r.9,
    }
}

/// A stored time: UTC, to the second (so that SQLite's text comparisons order them).
fn second(at: OffsetDateTime) -> OffsetDateTime {
    let at = at.to_offset(time::UtcOffset::UTC);
    at.replace_nanosecond(0).unwrap_or(at)
}

/// Longest dedupe key and kind, characters.
const MAX_KEY_CHARS: usize = 200;
/// Rows in one insert of [`Store::enqueue_jobs`] (12 binds each, far under either backend's limit).
const JOBS_PER_STATEMENT: usize = 200;
/// Most jobs claimed at once.
const MAX_CLAIM: i64 = 1000;
/// Most jobs or messages listed at once.
const MAX_LISTED: i64 = 500;

/// Where a failed try leaves a job: queued again at `retry_at` while tries remain, else dead
/// (where it stood).
fn after_failure(job: &Job, retry_at: Option<OffsetDateTime>) -> (JobState, OffsetDateTime) {
    match retry_at {
        Some(when) if job.attempts < job.max_attempts => (JobState::Queued, second(when)),
        _ => (JobState::Dead, job.run_at),
    }
}

impl Store {
    /// Queues jobs of a clinic; a job whose key the clinic already has is left as it is.
    /// Answers how many were new. For the server's planner (no user acts).
    pub async fn enqueue_jobs(&self, clinic_id: Uuid, jobs: &[NewJob]) -> StoreResult<u64> {
        for job in jobs {
            for (field, value) in [("kind", &job.kind), ("dedupe_key", &job.dedupe_key)] {
                if value.is_empty() || value.chars().count() > MAX_KEY_CHARS {
                    return Err(StoreError::invalid(
                        field,
                        format!("expected 1–{MAX_KEY_CHARS} characters, got {value:?}"),
                    ));
                }
            }
            if !(1..=100).contains(&job.max_attempts) {
                return Err(StoreError::invalid(
                    "max_attempts",
                    format!("expected 1–100, got {}", job.max_attempts),
                ));
            }
        }
        let created_at = now();
        let mut new = 0;
        on_db!(self, pool => {
            let mut tx = super::begin_write(pool).await?;
            // A planner run re-offers every job it finds due: a few statements of many rows each.
            for chunk in jobs.chunks(JOBS_PER_STATEMENT) {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO jobs (id, clinic_id, kind, dedupe_key, client_id, payload, run_at, state, attempts, \
                     max_attempts, last_error, created_at) ",
                );
                insert.push_values(chunk, |mut b, job| {
                    b.push_bind(Uuid::new_v4())
                        .push_bind(clinic_id)
                        .push_bind(job.kind.as_str())
                        .push_bind(job.dedupe_key.as_str())
                        .push_bind(job.client_id)
                        .push_bind(Json(job.payload.clone()))
                        .push_bind(second(job.run_at))
                        .push_bind("queued")
                        .push_bind(0_i64)
                        .push_bind(job.max_attempts)
                        .push_bind("")
                        .push_bind(created_at);
                });
                insert.push(" ON CONFLICT (clinic_id, dedupe_key) DO NOTHING");
                new += insert.build().execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
        });
        Ok(new)
    }

    /// Takes up to `limit` due jobs, of every clinic, for `worker` until `lease` from now: the
    /// queued ones whose time has come and the running ones whose worker's lease ran out,
    /// earliest first. Each claim counts as a try.
    pub async fn claim_jobs(&self, worker: &str, lease: Duration, limit: i64) -> StoreResult<Vec<Job>> {
        let at = now();
        let until = at + lease;
        let limit = limit.clamp(1, MAX_CLAIM);
        let due = "(state = 'queued' AND run_at <= $3) OR (state = 'running' AND locked_until < $3)";
        let rows: Vec<JobRow> = match &self.db {
            super::Db::Postgres(pool) => {
                let sql = format!(
                    "UPDATE jobs SET state = 'running', locked_by = $1, locked_until = $2, attempts = attempts + 1 \
                     WHERE id IN (SELECT id FROM jobs WHERE {due} ORDER BY run_at LIMIT $4 FOR UPDATE SKIP LOCKED) \
                     RETURNING {JOB_COLS}"
                );
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(worker)
                    .bind(until)
                    .bind(at)
                    .bind(limit)
                    .fetch_all(pool)
                    .await?
            }
            super::Db::Sqlite(pool) => {
                let sql = format!(
                    "UPDATE jobs SET state = 'running', locked_by = $1, locked_until = $2, attempts = attempts + 1 \
                     WHERE id IN (SELECT id FROM jobs WHERE {due} ORDER BY run_at LIMIT $4) \
                     RETURNING {JOB_COLS}"
                );
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(worker)
                    .bind(until)
                    .bind(at)
                    .bind(limit)
                    .fetch_all(pool)
                    .await?
            }
        };
        let mut jobs = rows
            .into_iter()
            .map(job_from_row)
            .collect::<StoreResult<Vec<Job>>>()?;
        jobs.sort_by_key(|j| (j.run_at, j.id));
        Ok(jobs)
    }

    /// Whether `worker` still holds `job` with at least `margin` of its lease left: a worker
    /// asks before it hands anything over, so that a job is never worked by two at once.
    pub async fn still_holds(&self, job: &Job, worker: &str, margin: Duration) -> StoreResult<bool> {
        let row: Option<(Uuid,)> = on_db!(self, pool => {
            sqlx::query_as(
                "SELECT id FROM jobs WHERE id = $1 AND state = 'running' AND locked_by = $2 AND locked_until > $3",
            )
            .bind(job.id).bind(worker).bind(now() + margin).fetch_optional(pool).await?
        });
        Ok(row.is_some())
    }

    /// Ends a try of a job `worker` holds. Answers false, changing nothing, when the job is no
    /// longer the worker's (its lease ran out and another took it). A message sent is logged
    /// on the client's record in the same transaction. The lease ends; `locked_by` keeps the
    /// worker that made the try, so that a job says which server last worked it (a job is
    /// held only while it is `running` with a lease: see `claim_jobs` and `still_holds`).
    pub async fn finish_job(&self, job: &Job, worker: &str, outcome: &JobOutcome) -> StoreResult<bool> {
        let at = now();
        let (state, error, run_at) = match outcome {
            JobOutcome::Done(_) => (JobState::Done, String::new(), job.run_at),
            JobOutcome::Skipped(why) => (JobState::Skipped, why.clone(), job.run_at),
            JobOutcome::Failed { error, retry_at } => {
                let (state, run_at) = after_failure(job, *retry_at);
                (state, error.clone(), run_at)
            }
        };
        let finished = matches!(state, JobState::Done | JobState::Skipped | JobState::Dead).then_some(at);
        let mut held = false;
        on_db!(self, pool => {
            let mut tx = super::begin_write(pool).await?;
            if matches!(self.db, super::Db::Postgres(_)) {
                // Final once PostgreSQL has it, without waiting for its disk: a worker killed
                // after this cannot take it back, and the mail relay waits on it (the gate of
                // crate follicle-web's relay). Lost only if PostgreSQL itself crashes within
                // its WAL writer's delay: then the job runs again (at least once still holds).
                sqlx::query("SET LOCAL synchronous_commit = off").execute(&mut *tx).await?;
            }
            let changed = sqlx::query(
                "UPDATE jobs SET state = $1, last_error = $2, run_at = $3, finished_at = $4, locked_until = NULL \
                 WHERE id = $5 AND state = 'running' AND locked_by = $6 AND locked_until > $7",
            )
            .bind(state.as_str()).bind(&error).bind(run_at).bind(finished).bind(job.id).bind(worker).bind(at)
            .execute(&mut *tx).await?.rows_affected();
            if changed == 1 {
                held = true;
                if let JobOutcome::Done(Some(m)) = outcome {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "INSERT INTO messages (clinic_id, {MESSAGE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                    )))
                    .bind(job.clinic_id).bind(m.id).bind(m.client_id).bind(job.id).bind(&m.channel).bind(&m.kind)
                    .bind(&m.recipient).bind(&m.subject).bind(&m.body).bind(&m.provider_id).bind(second(m.sent_at))
                    .execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
        });
        Ok(held)
    }

    /// Takes back a job recorded as done that was not delivered after all (the mail relay
    /// refused the mail after the gate's commit, or the mail's end never left the server):
    /// `outcome` (a failure) is recorded instead, and the message is struck from the client's
    /// log. Answers false, changing nothing, when the job is not done.
    pub async fn reopen_job(&self, job: &Job, outcome: &JobOutcome) -> StoreResult<bool> {
        let JobOutcome::Failed { error, retry_at } = outcome else {
            return Err(StoreError::invalid(
                "outcome",
                "a job is taken back only with a failure",
            ));
        };
        let (state, run_at) = after_failure(job, *retry_at);
        let finished = (state == JobState::Dead).then(now);
        let mut reopened = false;
        on_db!(self, pool => {
            let mut tx = super::begin_write(pool).await?;
            let changed = sqlx::query(
                "UPDATE jobs SET state = $1, last_error = $2, run_at = $3, finished_at = $4 WHERE id = $5 AND state = 'done'",
            )
            .bind(state.as_str()).bind(error).bind(run_at).bind(finished).bind(job.id)
            .execute(&mut *tx).await?.rows_affected();
            if changed == 1 {
                reopened = true;
                sqlx::query("DELETE FROM messages WHERE clinic_id = $1 AND job_id = $2")
                    .bind(job.clinic_id).bind(job.id).execute(&mut *tx).await?;
                tx.commit().await?;
            }
        });
        Ok(reopened)
    }

    /// How many jobs stand where, over every clinic (for the server's own checks).
    pub async fn queue_counts(&self) -> StoreResult<QueueCounts> {
        let rows: Vec<(String, i64)> = on_db!(self, pool => {
            sqlx::query_as("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetch_all(pool).await?
        });
        let mut counts = QueueCounts::default();
        for (state, n) in rows {
            match JobState::parse(&state)? {
                JobState::Queued => counts.queued = n,
                JobState::Running => counts.running = n,
                JobState::Done => counts.done = n,
                JobState::Skipped => counts.skipped = n,
                JobState::Dead => counts.dead = n,
            }
        }
        Ok(counts)
    }

    /// A client's jobs not yet done — queued, being sent, skipped or dead — newest first (the
    /// messages still to come and those that did not go, beside the message log).
    pub async fn client_jobs(&self, actor: &Actor, client_id: Uuid) -> StoreResult<Vec<Job>> {
        actor.require(Action::ViewClients)?;
        self.ensure_client(actor, client_id).await?;
        let rows: Vec<JobRow> = on_db!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {JOB_COLS} FROM jobs WHERE clinic_id = $1 AND client_id = $2 AND state <> 'done' \
                 ORDER BY run_at DESC, id LIMIT $3"
            )))
            .bind(actor.clinic_id).bind(client_id).bind(MAX_LISTED).fetch_all(pool).await?
        });
        rows.into_iter().map(job_from_row).collect()
    }

    /// The messages sent to a client, newest first.
    pub async fn client_messages(&self, actor: &Actor, client_id: Uuid) -> StoreResult<Vec<SentMessage>> {
        actor.require(Action::ViewClients)?;
        self.ensure_client(actor, client_id).await?;
        let rows: Vec<MessageRow> = on_db!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {MESSAGE_COLS} FROM messages WHERE clinic_id = $1 AND client_id = $2 ORDER BY sent_at DESC, id LIMIT $3"
            )))
            .bind(actor.clinic_id).bind(client_id).bind(MAX_LISTED).fetch_all(pool).await?
        });
        self.audit(actor, Some(client_id), AuditAction::Viewed, "messages")
            .await?;
        Ok(rows.into_iter().map(message_from_row).collect())
    }

    /// The clinic's dead letters: jobs that failed on every try, latest first.
    pub async fn dead_jobs(&self, actor: &Actor) -> StoreResult<Vec<Job>> {
        actor.require(Action::ManageAppointments)?;
        let rows: Vec<JobRow> = on_db!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {JOB_COLS} FROM jobs WHERE clinic_id = $1 AND state = 'dead' ORDER BY finished_at DESC, id LIMIT $2"
            )))
            .bind(actor.clinic_id).bind(MAX_LISTED).fetch_all(pool).await?
        });
        rows.into_iter().map(job_from_row).collect()
    }

    /// Queues a dead (or skipped) job of the clinic again, due now, with its tries anew.
    pub async fn retry_job(&self, actor: &Actor, job_id: Uuid) -> StoreResult<Job> {
        actor.require(Action::ManageAppointments)?;
        let at = now();
        let row: Option<JobRow> = on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            let row: Option<JobRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $1, finished_at = NULL \
                 WHERE clinic_id = $2 AND id = $3 AND state IN ('dead', 'skipped') RETURNING {JOB_COLS}"
            )))
            .bind(at).bind(actor.clinic_id).bind(job_id).fetch_optional(&mut *tx).await?;
            if let Some(r) = &row {
                audit_insert!(actor, r.4, AuditAction::Changed, format!("queued again: {}", r.3))
                    .execute(&mut *tx).await?;
                tx.commit().await?;
            }
            row
        });
        match row {
            Some(r) => job_from_row(r),
            None => {
                let exists: Option<(String,)> = on_db!(self, pool => {
                    sqlx::query_as("SELECT state FROM jobs WHERE clinic_id = $1 AND id = $2")
                        .bind(actor.clinic_id).bind(job_id).fetch_optional(pool).await?
                });
                match exists {
                    None => Err(StoreError::not_found("job")),
                    Some((state,)) => Err(StoreError::invalid(
                        "job",
                        format!("only a dead or skipped job can be queued again; this one is {state}"),
                    )),
                }
            }
        }
    }

    /// A queued job made due now (tests, through `testing::make_job_due`).
    #[cfg(feature = "testing")]
    pub(crate) async fn make_job_due(&self, job_id: Uuid) -> StoreResult<()> {
        on_db!(self, pool => {
            sqlx::query("UPDATE jobs SET run_at = $1 WHERE id = $2 AND state = 'queued'")
                .bind(now()).bind(job_id).execute(pool).await?;
        });
        Ok(())
    }

    /// The worker that last worked a job (tests, through `testing::job_worker`).
    #[cfg(feature = "testing")]
    pub(crate) async fn job_worker(&self, job_id: Uuid) -> StoreResult<Option<String>> {
        let row: Option<(Option<String>,)> = on_db!(self, pool => {
            sqlx::query_as("SELECT locked_by FROM jobs WHERE id = $1").bind(job_id).fetch_optional(pool).await?
        });
        Ok(row.and_then(|r| r.0))
    }
}
