//! What the server's message planner and sender read, and the client's channels: the contact
//! details and opt-outs a message is checked against when it is sent, the unsubscribe token of
//! a client's links, and the visits and sessions messages are planned from.
//!
//! The planner and the sender are the server's own (no user acts), so these reads take a clinic
//! id, not an [`Actor`]; what a user does (an opt-out at the front desk) takes one and is audited.

use serde::Serialize;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

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
