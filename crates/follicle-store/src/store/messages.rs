//! What the server's message planner and sender read, and the client's channels: the contact
//! details and opt-outs a message is checked against when it is sent, the unsubscribe token of
//! a client's links, and the visits and sessions messages are planned from.
//!
//! The planner and the sender are the server's own (no user acts), so these reads take a clinic
//! id, not an [`Actor`]; what a user does (an opt-out at the front desk) takes one and is audited.

use serde::Serialize;
use serde_json::json;
use sqlx::types::Json;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use super::desk::phone_digits_sql;
use super::{Store, audit_insert, now, on_db};
use crate::auth::Actor;
use crate::error::{StoreError, StoreResult};
use crate::model::{AppointmentStatus, AuditAction};
use crate::record::AftercareRecord;
use crate::role::Action;

/// A channel a client can be reached on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Email, over the clinic's SMTP relay.
    Email,
    /// Text messages, through the SMS provider.
    Sms,
}

impl Channel {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }

    /// Parses a typed name; the error lists the allowed values.
    pub fn parse(text: &str) -> StoreResult<Channel> {
        match text {
            "email" => Ok(Channel::Email),
            "sms" => Ok(Channel::Sms),
            _ => Err(StoreError::invalid(
                "channel",
                format!("expected email or sms, got {text:?}"),
            )),
        }
    }

    fn column(self) -> &'static str {
        match self {
            Channel::Email => "email_opt_out_at",
            Channel::Sms => "sms_opt_out_at",
        }
    }
}

/// How a client is reached, as a message is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    /// The client.
    pub client_id: Uuid,
    /// Their name.
    pub name: String,
    /// Their email address (may be empty).
    pub email: String,
    /// Their phone number (may be empty).
    pub phone: String,
    /// When they stopped email, if they did.
    #[serde(with = "time::serde::rfc3339::option")]
    pub email_opt_out_at: Option<OffsetDateTime>,
    /// When they stopped text messages, if they did.
    #[serde(with = "time::serde::rfc3339::option")]
    pub sms_opt_out_at: Option<OffsetDateTime>,
    /// The token of their unsubscribe links.
    pub unsubscribe_token: String,
}

impl Contact {
    /// Whether they opted out of `channel`.
    pub fn opted_out(&self, channel: Channel) -> bool {
        match channel {
            Channel::Email => self.email_opt_out_at.is_some(),
            Channel::Sms => self.sms_opt_out_at.is_some(),
        }
    }
}

/// A visit as the message planner reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitForMessages {
    /// The appointment.
    pub id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// When it starts.
    pub starts_at: OffsetDateTime,
    /// How long, minutes.
    pub duration_minutes: i64,
    /// Where it stands.
    pub status: AppointmentStatus,
    /// When it was booked.
    pub created_at: OffsetDateTime,
}

/// A session as the message planner reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionForMessages {
    /// The session log.
    pub id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// The day it was performed.
    pub performed_on: Date,
}

/// What an unsubscribe link did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptedOut {
    /// The clinic's name, for the page.
    pub clinic_name: String,
    /// The channel stopped.
    pub channel: Channel,
}

const VISIT_COLS: &str = "id, client_id, starts_at, duration_minutes, status, created_at";

type VisitRow = (Uuid, Uuid, OffsetDateTime, i64, String, OffsetDateTime);

fn visit_from_row(r: VisitRow) -> StoreResult<VisitForMessages> {
    Ok(VisitForMessages {
        id: r.0,
        client_id: r.1,
        starts_at: r.2,
        duration_minutes: r.3,
        status: AppointmentStatus::parse(&r.4)?,
        created_at: r.5,
    })
}

fn session_from_row((id, client_id, performed_on): (Uuid, Uuid, Date)) -> SessionForMessages {
    SessionForMessages {
        id,
        client_id,
        performed_on,
    }
}

/// Most visits or sessions read per clinic and planner run.
const MAX_PLANNED: i64 = 5000;

/// A client's touch-up forecast, as the recall planner reads it: their latest plan's and their
/// last session's.
#[derive(Debug, Clone, PartialEq)]
pub struct TouchUpForecast {
    /// The client.
    pub client_id: Uuid,
    /// When the latest plan's quote says the touch-up falls due.
    pub planned_due_on: Option<Date>,
    /// Years after the last session that it falls due (the plan's fading forecast).
    pub years_after_last_session: Option<f64>,
    /// The day of the client's last session logged.
    pub last_session_on: Option<Date>,
}

/// Days in a year, for the plan's years after the last session (the pricing's unit too).
const DAYS_PER_YEAR: f64 = 365.25;

impl TouchUpForecast {
    /// When the touch-up falls due: the plan's date, or the plan's years after the last session
    /// logged when the sessions came later than planned; none before any session is logged (no
    /// treatment yet, nothing to touch up).
    pub fn due_on(&self) -> Option<Date> {
        let last = self.last_session_on?;
        let from_last = self
            .years_after_last_session
            .filter(|y| y.is_finite() && *y > 0.0 && *y < 100.0)
            .map(|y| last + Duration::days((y * DAYS_PER_YEAR).round() as i64));
        match (self.planned_due_on, from_last) {
            (Some(planned), Some(actual)) => Some(planned.max(actual)),
            (planned, actual) => planned.or(actual),
        }
    }
}

/// What a client's STOP or START reply did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsReplied {
    /// The clients of the clinic with that number (a family may share one), each changed.
    pub clients: Vec<Uuid>,
    /// Whether this reply had been taken already (the provider sent it again).
    pub repeated: bool,
}

/// The SQL of the forecasts: the latest consultation of each client with a session logged,
/// its quote's touch-up (a schema-version 0 plan calls the date `due_date`) and the last
/// session's day, as text on both backends.
const FORECAST_SQLITE: &str = "SELECT c.client_id, \
       CAST(COALESCE(json_extract(c.plan, '$.quote.touch_up.due_on'), json_extract(c.plan, '$.quote.touch_up.due_date')) AS TEXT), \
       CAST(json_extract(c.plan, '$.quote.touch_up.years_after_last_session') AS TEXT), \
       CAST((SELECT MAX(s.performed_on) FROM session_logs s WHERE s.client_id = c.client_id) AS TEXT) \
     FROM consultations c \
     WHERE c.clinic_id = $1 AND ($2 IS NULL OR c.client_id = $2) \
       AND c.version = (SELECT MAX(v.version) FROM consultations v WHERE v.client_id = c.client_id) \
       AND EXISTS (SELECT 1 FROM session_logs s WHERE s.client_id = c.client_id) \
     ORDER BY c.client_id LIMIT $3";
const FORECAST_POSTGRES: &str = "SELECT c.client_id, \
       COALESCE(c.plan->'quote'->'touch_up'->>'due_on', c.plan->'quote'->'touch_up'->>'due_date'), \
       c.plan->'quote'->'touch_up'->>'years_after_last_session', \
       CAST((SELECT MAX(s.performed_on) FROM session_logs s WHERE s.client_id = c.client_id) AS TEXT) \
     FROM consultations c \
     WHERE c.clinic_id = $1 AND ($2::uuid IS NULL OR c.client_id = $2) \
       AND c.version = (SELECT MAX(v.version) FROM consultations v WHERE v.client_id = c.client_id) \
       AND EXISTS (SELECT 1 FROM session_logs s WHERE s.client_id = c.client_id) \
     ORDER BY c.client_id LIMIT $3";

type ForecastRow = (Uuid, Option<String>, Option<String>, Option<String>);

fn forecast_from_row((client_id, due, years, last): ForecastRow) -> TouchUpForecast {
    let day = |text: Option<String>| {
        text.and_then(|t| {
            Date::parse(
                t.trim(),
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .ok()
        })
    };
    TouchUpForecast {
        client_id,
        planned_due_on: day(due),
        years_after_last_session: years.and_then(|y| y.trim().parse().ok()),
        last_session_on: day(last),
    }
}

impl Store {
    /// Every clinic: id, name and settings file (for the server's planner).
    pub async fn clinics_for_jobs(&self) -> StoreResult<Vec<(Uuid, String, String)>> {
        Ok(on_db!(self, pool => {
            sqlx::query_as("SELECT id, name, settings_toml FROM clinics ORDER BY created_at, id")
                .fetch_all(pool).await?
        }))
    }

    /// A clinic's visits starting in `[from, to)`, or booked since `booked_since` and starting
    /// after `from`, by start.
    pub async fn visits_for_messages(
        &self,
        clinic_id: Uuid,
        from: OffsetDateTime,
        to: OffsetDateTime,
        booked_since: OffsetDateTime,
    ) -> StoreResult<Vec<VisitForMessages>> {
        let rows: Vec<VisitRow> = on_db!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {VISIT_COLS} FROM appointments \
                 WHERE clinic_id = $1 AND ((starts_at >= $2 AND starts_at < $3) OR (created_at >= $4 AND starts_at >= $2)) \
                 ORDER BY starts_at, id LIMIT $5",
            )))
            .bind(clinic_id).bind(from).bind(to).bind(booked_since).bind(MAX_PLANNED).fetch_all(pool).await?
        });
        rows.into_iter().map(visit_from_row).collect()
    }

    /// One visit of a clinic, as the sender checks it still holds.
    pub async fn visit_for_messages(
        &self,
        clinic_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<VisitForMessages>> {
        let row: Option<VisitRow> = on_db!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {VISIT_COLS} FROM appointments WHERE clinic_id = $1 AND id = $2"
            )))
            .bind(clinic_id).bind(id).fetch_optional(pool).await?
        });
        row.map(visit_from_row).transpose()
    }

    /// A clinic's sessions performed on or after `since`.
    pub async fn sessions_for_messages(
        &self,
        clinic_id: Uuid,
        since: Date,
    ) -> StoreResult<Vec<SessionForMessages>> {
        let rows: Vec<(Uuid, Uuid, Date)> = on_db!(self, pool => {
            sqlx::query_as(
                "SELECT id, client_id, performed_on FROM session_logs WHERE clinic_id = $1 AND performed_on >= $2 \
                 ORDER BY performed_on, id LIMIT $3",
            )
            .bind(clinic_id).bind(since).bind(MAX_PLANNED).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(session_from_row).collect())
    }

    /// One session of a clinic, as the sender checks it is still there.
    pub async fn session_for_messages(
        &self,
        clinic_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<SessionForMessages>> {
        let row: Option<(Uuid, Uuid, Date)> = on_db!(self, pool => {
            sqlx::query_as("SELECT id, client_id, performed_on FROM session_logs WHERE clinic_id = $1 AND id = $2")
                .bind(clinic_id).bind(id).fetch_optional(pool).await?
        });
        Ok(row.map(session_from_row))
    }

    /// The touch-up forecasts of a clinic's treated clients (those with a session logged and a
    /// plan), or of one client, by client id (at most 5,000 a run).
    pub async fn touch_up_forecasts(
        &self,
        clinic_id: Uuid,
        client_id: Option<Uuid>,
    ) -> StoreResult<Vec<TouchUpForecast>> {
        let rows: Vec<ForecastRow> = match &self.db {
            super::Db::Sqlite(pool) => {
                sqlx::query_as(FORECAST_SQLITE)
                    .bind(clinic_id)
                    .bind(client_id)
                    .bind(MAX_PLANNED)
                    .fetch_all(pool)
                    .await?
            }
            super::Db::Postgres(pool) => {
                sqlx::query_as(FORECAST_POSTGRES)
                    .bind(clinic_id)
                    .bind(client_id)
                    .bind(MAX_PLANNED)
                    .fetch_all(pool)
                    .await?
            }
        };
        Ok(rows.into_iter().map(forecast_from_row).collect())
    }

    /// Whether a client has a touch-up visit booked (or confirmed) starting after `after`.
    pub async fn touch_up_booked(
        &self,
        clinic_id: Uuid,
        client_id: Uuid,
        after: OffsetDateTime,
    ) -> StoreResult<bool> {
        let row: Option<(Uuid,)> = on_db!(self, pool => {
            sqlx::query_as(
                "SELECT id FROM appointments WHERE clinic_id = $1 AND client_id = $2 AND kind = 'touch_up' \
                 AND status IN ('booked', 'confirmed') AND starts_at > $3 LIMIT 1",
            )
            .bind(clinic_id).bind(client_id).bind(after).fetch_optional(pool).await?
        });
        Ok(row.is_some())
    }

    /// A client's reply to a text message asked to stop (`stop`) or start them again: every
    /// client of the clinic whose phone number is `from` (E.164, as the provider gives it;
    /// each client's number read with `calling_code`) is changed, and the reply goes on each
    /// one's message log (channel `sms`, kind `sms_stop` or `sms_start`, the provider's id),
    /// all in one transaction. A reply the provider sends again (same `provider_id`) changes
    /// nothing more. `None` when the clinic does not exist.
    pub async fn sms_reply(
        &self,
        clinic_id: Uuid,
        from: &str,
        calling_code: u32,
        stop: bool,
        reply: &str,
        provider_id: &str,
    ) -> StoreResult<Option<SmsReplied>> {
        let exists: Option<(Uuid,)> = on_db!(self, pool => {
            sqlx::query_as("SELECT id FROM clinics WHERE id = $1").bind(clinic_id).fetch_optional(pool).await?
        });
        if exists.is_none() {
            return Ok(None);
        }
        let digits = crate::validate::phone_digits(from);
        let (min, _) = crate::validate::PHONE_DIGITS;
        if digits.len() < min || provider_id.is_empty() || provider_id.chars().count() > 64 {
            return Ok(Some(SmsReplied {
                clients: Vec::new(),
                repeated: false,
            }));
        }
        // Numbers are kept as typed: find the few whose digits end like this one, then compare
        // each in E.164 form.
        let tail = &digits[digits.len() - min..];
        let candidates: Vec<(Uuid, String)> = on_db!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT id, phone FROM clients WHERE clinic_id = $1 AND {} LIKE $2 ORDER BY id LIMIT 100",
                phone_digits_sql!()
            )))
            .bind(clinic_id).bind(format!("%{tail}")).fetch_all(pool).await?
        });
        let clients: Vec<Uuid> = candidates
            .into_iter()
            .filter(|(_, phone)| follicle_core::messages::e164(phone, calling_code).is_ok_and(|p| p == from))
            .map(|(id, _)| id)
            .collect();
        let at = now();
        let kind = if stop { "sms_stop" } else { "sms_start" };
        let reply: String = reply.trim().chars().take(160).collect();
        let mut repeated = false;
        on_db!(self, pool => {
            let mut tx = super::begin_write(pool).await?;
            for client_id in &clients {
                // The reply is logged as a finished job of its own, keyed by the provider's id:
                // the provider's retries of one reply are one.
                let job_id = Uuid::new_v4();
                let new = sqlx::query(
                    "INSERT INTO jobs (id, clinic_id, kind, dedupe_key, client_id, payload, run_at, state, attempts, \
                     max_attempts, last_error, created_at, finished_at) \
                     VALUES ($1, $2, 'sms_reply', $3, $4, $5, $6, 'done', 1, 1, '', $6, $6) \
                     ON CONFLICT (clinic_id, dedupe_key) DO NOTHING",
                )
                .bind(job_id).bind(clinic_id).bind(format!("reply:{provider_id}:{client_id}")).bind(client_id)
                .bind(Json(json!({ "kind": kind }))).bind(at)
                .execute(&mut *tx).await?.rows_affected();
                if new == 0 {
                    repeated = true;
                    continue;
                }
                if stop {
                    sqlx::query(
                        "UPDATE clients SET sms_opt_out_at = $1 WHERE clinic_id = $2 AND id = $3 AND sms_opt_out_at IS NULL",
                    )
                    .bind(at).bind(clinic_id).bind(client_id).execute(&mut *tx).await?;
                } else {
                    sqlx::query("UPDATE clients SET sms_opt_out_at = NULL WHERE clinic_id = $1 AND id = $2")
                        .bind(clinic_id).bind(client_id).execute(&mut *tx).await?;
                }
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO messages (clinic_id, {}) VALUES ($1, $2, $3, $4, 'sms', $5, $6, '', $7, $8, $9)",
                    super::jobs::MESSAGE_COLS
                )))
                .bind(clinic_id).bind(Uuid::new_v4()).bind(client_id).bind(job_id).bind(kind).bind(from)
                .bind(&reply).bind(provider_id).bind(at)
                .execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(Some(SmsReplied { clients, repeated }))
    }

    /// The aftercare of a client's latest plan (their newest consultation), if they have one.
    pub async fn plan_aftercare(
        &self,
        clinic_id: Uuid,
        client_id: Uuid,
    ) -> StoreResult<Option<Vec<AftercareRecord>>> {
        let row: Option<(i64, sqlx::types::Json<serde_json::Value>)> = on_db!(self, pool => {
            sqlx::query_as(
                "SELECT schema_version, plan FROM consultations WHERE clinic_id = $1 AND client_id = $2 \
                 ORDER BY version DESC LIMIT 1",
            )
            .bind(clinic_id).bind(client_id).fetch_optional(pool).await?
        });
        row.map(|(version, plan)| Ok(crate::record::read_plan(version, plan.0)?.aftercare))
            .transpose()
    }

    /// How a client of a clinic is reached (their unsubscribe token made on first use), or
    /// `None` when the client is gone.
    pub async fn contact(&self, clinic_id: Uuid, client_id: Uuid) -> StoreResult<Option<Contact>> {
        type Row = (
            String,
            String,
            String,
            Option<OffsetDateTime>,
            Option<OffsetDateTime>,
            Option<String>,
        );
        let row: Option<Row> = on_db!(self, pool => {
            sqlx::query_as(
                "SELECT name, email, phone, email_opt_out_at, sms_opt_out_at, unsubscribe_token FROM clients \
                 WHERE clinic_id = $1 AND id = $2",
            )
            .bind(clinic_id).bind(client_id).fetch_optional(pool).await?
        });
        let Some((name, email, phone, email_opt_out_at, sms_opt_out_at, token)) = row else {
            return Ok(None);
        };
        let unsubscribe_token = match token {
            Some(token) => token,
            None => {
                let fresh = crate::auth::SessionToken::generate()?.as_str().to_owned();
                on_db!(self, pool => {
                    sqlx::query(
                        "UPDATE clients SET unsubscribe_token = $1 WHERE clinic_id = $2 AND id = $3 AND unsubscribe_token IS NULL",
                    )
                    .bind(&fresh).bind(clinic_id).bind(client_id).execute(pool).await?;
                });
                // Another server may have made it first: read back the one that counts.
                let (token,): (Option<String>,) = on_db!(self, pool => {
                    sqlx::query_as("SELECT unsubscribe_token FROM clients WHERE clinic_id = $1 AND id = $2")
                        .bind(clinic_id).bind(client_id).fetch_one(pool).await?
                });
                token.unwrap_or(fresh)
            }
        };
        Ok(Some(Contact {
            client_id,
            name,
            email,
            phone,
            email_opt_out_at,
            sms_opt_out_at,
            unsubscribe_token,
        }))
    }

    /// An unsubscribe link followed: the client of `token` gets no more messages on `channel`
    /// from now on. `None` for a token nobody has (the page says so; nothing changes). A second
    /// use keeps the first time.
    pub async fn opt_out_by_token(&self, token: &str, channel: Channel) -> StoreResult<Option<OptedOut>> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        let row: Option<(Uuid, Uuid, String)> = on_db!(self, pool => {
            sqlx::query_as(
                "SELECT c.clinic_id, c.id, k.name FROM clients c JOIN clinics k ON k.id = c.clinic_id \
                 WHERE c.unsubscribe_token = $1",
            )
            .bind(token).fetch_optional(pool).await?
        });
        let Some((clinic_id, client_id, clinic_name)) = row else {
            return Ok(None);
        };
        let column = channel.column();
        on_db!(self, pool => {
            // The time on the client's row is the record of it (the audit log is of users).
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE clients SET {column} = $1 WHERE clinic_id = $2 AND id = $3 AND {column} IS NULL"
            )))
            .bind(now()).bind(clinic_id).bind(client_id).execute(pool).await?;
        });
        Ok(Some(OptedOut { clinic_name, channel }))
    }

    /// The front desk records a client's choice of a channel: `opted_out` stops messages on it,
    /// `false` starts them again.
    pub async fn set_opt_out(
        &self,
        actor: &Actor,
        client_id: Uuid,
        channel: Channel,
        opted_out: bool,
    ) -> StoreResult<()> {
        actor.require(Action::EditClients)?;
        self.ensure_client(actor, client_id).await?;
        let column = channel.column();
        let value = opted_out.then(now);
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE clients SET {column} = $1 WHERE clinic_id = $2 AND id = $3"
            )))
            .bind(value).bind(actor.clinic_id).bind(client_id).execute(&mut *tx).await?;
            let detail = if opted_out {
                format!("stopped {} messages", channel.as_str())
            } else {
                format!("started {} messages again", channel.as_str())
            };
            audit_insert!(actor, Some(client_id), AuditAction::Changed, detail).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }
}
