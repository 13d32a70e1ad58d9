//! The client's own door: sign-in links sent by email (single use, expiring, a few a day), the
//! devices a client stays signed in on, and what a signed-in client reads of their own record.
//!
//! No staff member acts here, so these take ids, not an [`crate::Actor`]: a [`PortalClient`] is
//! made only from a portal session's token ([`Store::portal_client`]), and every read of the
//! portal takes one, so a client can only ever name their own records.

use serde::Serialize;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use super::jobs::{MESSAGE_COLS, MessageRow, message_from_row};
use super::{Store, now, on_db};
use crate::auth::{SessionToken, token_sha256};
use crate::error::{StoreError, StoreResult};
use follicle_core::ZoneKind;

use sqlx::types::Json;

use crate::model::{
    Appointment, AppointmentChange, AppointmentStatus, Client, Consultation, Design, Photo, SessionLog,
};
use crate::store::SentMessage;

/// A client signed in to their portal (made only from a live portal session).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortalClient {
    /// The clinic.
    pub clinic_id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// Their name.
    pub name: String,
    /// Their email.
    pub email: String,
}

/// What a sign-in link is, as its page is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// It works: whose it is.
    Valid(PortalClient),
    /// It was used already.
    Used,
    /// It ran out.
    Expired,
    /// No such link (mistyped, or from another server).
    Unknown,
}

/// A portal sign-in: the token for the browser's cookie, and until when.
#[derive(Debug, Clone)]
pub struct PortalSession {
    /// The secret token (kept in the database as its SHA-256 only).
    pub token: SessionToken,
    /// When the device must sign in again.
    pub expires_at: OffsetDateTime,
    /// Who signed in.
    pub client: PortalClient,
}

/// One line of a client's ink passport: what went into their skin at a session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InkEntry {
    /// The session.
    pub session_id: Uuid,
    /// Its day.
    pub performed_on: Date,
    /// The pigment product.
    pub product: String,
    /// Its maker.
    pub maker: String,
    /// Its ingredients, as labelled (EU REACH Annex XVII entry 75).
    pub ingredients: String,
    /// The batch's lot.
    pub lot: String,
    /// The batch's expiry.
    pub expires_on: Date,
    /// Share of water in the mix (0–1).
    pub dilution: f64,
    /// The needle.
    pub needle: String,
    /// The needle cartridge's lot.
    pub needle_lot: String,
    /// The zones treated.
    pub zones: Vec<ZoneKind>,
}

/// A client's record as their portal shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OwnRecord {
    /// Their details (the clinic's notes left out).
    pub client: Client,
    /// Consultations, oldest first, with their plans and quotes as issued.
    pub consultations: Vec<Consultation>,
    /// Designs, oldest first, with their plans and quotes as issued.
    pub designs: Vec<Design>,
    /// Appointments, by start.
    pub appointments: Vec<Appointment>,
    /// Sessions done, oldest first.
    pub sessions: Vec<SessionLog>,
    /// The ink passport, one line a session.
    pub passport: Vec<InkEntry>,
    /// Photo records (the images are fetched one by one).
    pub photos: Vec<Photo>,
    /// Messages sent to them, latest first.
    pub messages: Vec<SentMessage>,
}

/// What a client answered before their first visit (the clinic's own vocabulary).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
pub struct IntakeAnswers {
    /// Conditions they have (`eligibility.known_conditions`).
    pub conditions: Vec<String>,
    /// Medication groups they take or took in the last 30 days (`eligibility.known_medications`).
    pub medications: Vec<String>,
    /// Allergies, in their words.
    pub allergies: String,
    /// Anything else the clinic should know.
    pub notes: String,
}

/// An intake as submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Intake {
    /// Its id.
    pub id: Uuid,
    /// The answers.
    pub answers: IntakeAnswers,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub submitted_at: OffsetDateTime,
}

/// How long a portal session's last use is kept fresh before being written again.
const SEEN_EVERY: Duration = Duration::minutes(5);
/// At most this many clinics' records answer one email address asking for a link.
const MAX_CLIENTS_PER_EMAIL: i64 = 5;

impl Store {
    /// Makes a sign-in link for a client, working once for `ttl`: its secret token and when it
    /// runs out, or `None` when `per_day` links were made for the client in the last day (a
    /// flood of requests reaches nobody's inbox).
    pub async fn issue_portal_link(
        &self,
        clinic_id: Uuid,
        client_id: Uuid,
        ttl: Duration,
        per_day: u32,
    ) -> StoreResult<Option<(SessionToken, OffsetDateTime)>> {
        let at = now();
        let (recent,): (i64,) = on_db!(self, pool => {
            sqlx::query_as("SELECT COUNT(*) FROM portal_links WHERE clinic_id = $1 AND client_id = $2 AND created_at > $3")
                .bind(clinic_id).bind(client_id).bind(at - Duration::days(1)).fetch_one(pool).await?
        });
        if recent >= i64::from(per_day) {
            return Ok(None);
        }
        let token = SessionToken::generate()?;
        let expires = at + ttl;
        on_db!(self, pool => {
            sqlx::query("INSERT INTO portal_links (token_sha256, clinic_id, client_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(&token_sha256(token.as_str())[..]).bind(clinic_id).bind(client_id).bind(at).bind(expires)
                .execute(pool).await?;
        });
        Ok(Some((token, expires)))
    }

    /// What a sign-in link is now (its page shows a button; only posting it signs in, so a mail
    /// scanner that opens links does not use it up).
    pub async fn portal_link(&self, token: &str) -> StoreResult<LinkState> {
        type Row = (Uuid, Uuid, OffsetDateTime, Option<OffsetDateTime>, String, String);
        let row: Option<Row> = on_db!(self, pool => {
            sqlx::query_as(
                "SELECT l.clinic_id, l.client_id, l.expires_at, l.used_at, c.name, c.email FROM portal_links l \
                 JOIN clients c ON c.clinic_id = l.clinic_id AND c.id = l.client_id WHERE l.token_sha256 = $1",
            )
            .bind(&token_sha256(token)[..]).fetch_optional(pool).await?
        });
        Ok(match row {
            None => LinkState::Unknown,
            Some((.., Some(_), _, _)) => LinkState::Used,
            Some((_, _, expires, None, ..)) if expires <= now() => LinkState::Expired,
            Some((clinic_id, client_id, _, None, name, email)) => LinkState::Valid(PortalClient {
                clinic_id,
                client_id,
                name,
                email,
            }),
        })
    }

    /// Uses a sign-in link (once: of two tries at the same moment one wins) and starts a portal
    /// session on this device for `remember`; answers why not when the link does not work.
    pub async fn redeem_portal_link(
        &self,
        token: &str,
        remember: Duration,
        user_agent: &str,
    ) -> StoreResult<Result<PortalSession, LinkState>> {
        let at = now();
        let digest = token_sha256(token);
        let taken: Option<(Uuid, Uuid)> = on_db!(self, pool => {
            sqlx::query_as(
                "UPDATE portal_links SET used_at = $1 WHERE token_sha256 = $2 AND used_at IS NULL AND expires_at > $1 \
                 RETURNING clinic_id, client_id",
            )
            .bind(at).bind(&digest[..]).fetch_optional(pool).await?
        });
        let Some((clinic_id, client_id)) = taken else {
            return Ok(Err(match self.portal_link(token).await? {
                LinkState::Valid(_) => LinkState::Used,
                other => other,
            }));
        };
        let session = SessionToken::generate()?;
        let expires = at + remember.max(Duration::hours(1));
        let agent: String = user_agent.chars().take(300).collect();
        on_db!(self, pool => {
            sqlx::query(
                "INSERT INTO portal_sessions (token_sha256, clinic_id, client_id, created_at, last_seen_at, expires_at, user_agent) \
                 VALUES ($1, $2, $3, $4, $4, $5, $6)",
            )
            .bind(&token_sha256(session.as_str())[..]).bind(clinic_id).bind(client_id).bind(at).bind(expires).bind(agent)
            .execute(pool).await?;
        });
        let client = self
            .portal_client(session.as_str())
            .await?
            .ok_or_else(|| StoreError::Internal("a portal session just made does not read".into()))?;
        Ok(Ok(PortalSession {
            token: session,
            expires_at: expires,
            client,
        }))
    }

    /// The client of a live portal session, or `None` (unknown, ended or run out).
    pub async fn portal_client(&self, token: &str) -> StoreResult<Option<PortalClient>> {
        type Row = (Uuid, Uuid, OffsetDateTime, String, String);
        let at = now();
        let digest = token_sha256(token);
        let row: Option<Row> = on_db!(self, pool => {
            sqlx::query_as(
                "SELECT s.clinic_id, s.client_id, s.last_seen_at, c.name, c.email FROM portal_sessions s \
                 JOIN clients c ON c.clinic_id = s.clinic_id AND c.id = s.client_id \
                 WHERE s.token_sha256 = $1 AND s.expires_at > $2",
            )
            .bind(&digest[..]).bind(at).fetch_optional(pool).await?
        });
        let Some((clinic_id, client_id, seen, name, email)) = row else {
            return Ok(None);
        };
        if at - seen > SEEN_EVERY {
            on_db!(self, pool => {
                sqlx::query("UPDATE portal_sessions SET last_seen_at = $1 WHERE token_sha256 = $2")
                    .bind(at).bind(&digest[..]).execute(pool).await?;
            });
        }
        Ok(Some(PortalClient {
            clinic_id,
            client_id,
            name,
            email,
        }))
    }

    /// A clinic's name and settings file, for the pages its clients see.
    pub async fn clinic_for_clients(&self, clinic_id: Uuid) -> StoreResult<(String, String)> {
        let row: Option<(String, String)> = on_db!(self, pool => {
            sqlx::query_as("SELECT name, settings_toml FROM clinics WHERE id = $1")
                .bind(clinic_id).fetch_optional(pool).await?
        });
        row.ok_or_else(|| StoreError::not_found("clinic"))
    }

    /// The client confirms or cancels one of their visits in their pages. A cancellation closer
    /// to the visit than `notice` (the clinic's cancellation window) is refused: the client is
    /// asked to call. `diary_now` is now on the diary's clock (the clinic's wall clock). The
    /// change is kept in the visit's history, by the client.
    pub async fn change_own_visit(
        &self,
        me: &PortalClient,
        appointment_id: Uuid,
        to: AppointmentStatus,
        diary_now: OffsetDateTime,
        notice: Duration,
    ) -> StoreResult<Appointment> {
        if !matches!(to, AppointmentStatus::Confirmed | AppointmentStatus::Cancelled) {
            return Err(StoreError::invalid(
                "status",
                format!("a client may confirm or cancel a visit, not mark it {to}"),
            ));
        }
        let mut a = self
            .appointment_of(me.clinic_id, me.client_id, appointment_id)
            .await?
            .ok_or_else(|| StoreError::not_found("appointment"))?;
        if a.starts_at <= diary_now {
            return Err(StoreError::invalid(
                "status",
                "this visit has begun or passed".to_owned(),
            ));
        }
        if to == AppointmentStatus::Cancelled && a.starts_at - diary_now < notice {
            return Err(StoreError::invalid(
                "status",
                format!(
                    "a visit can be cancelled here until {} hours before it; please call the clinic",
                    notice.whole_hours()
                ),
            ));
        }
        let from = a.status;
        if from == to {
            return Ok(a);
        }
        super::diary::check_transition(from, to)?;
        a.history.push(AppointmentChange {
            what: format!("{} by the client in their pages", to.as_str()),
            at: now(),
            by: me.client_id,
        });
        let changed = on_db!(self, pool => {
            sqlx::query(
                "UPDATE appointments SET status = $1, history = $2 \
                 WHERE clinic_id = $3 AND client_id = $4 AND id = $5 AND status = $6",
            )
            .bind(to.as_str()).bind(Json(&a.history)).bind(me.clinic_id).bind(me.client_id).bind(a.id).bind(from.as_str())
            .execute(pool).await?.rows_affected()
        });
        if changed == 0 {
            return Err(StoreError::Conflict {
                message: "the visit changed meanwhile; reload the page".to_owned(),
            });
        }
        a.status = to;
        Ok(a)
    }

    /// The client submits their intake. Every condition and medication must be one of the
    /// clinic's (`known_conditions`, `known_medications`), the free text bounded.
    pub async fn submit_own_intake(
        &self,
        me: &PortalClient,
        answers: &IntakeAnswers,
        known_conditions: &[String],
        known_medications: &[String],
    ) -> StoreResult<Intake> {
        for (field, given, known) in [
            ("conditions", &answers.conditions, known_conditions),
            ("medications", &answers.medications, known_medications),
        ] {
            if let Some(odd) = given.iter().find(|g| !known.contains(g)) {
                return Err(StoreError::invalid(
                    field,
                    format!("{odd:?} is not one of the clinic's questions; choose from the list"),
                ));
            }
        }
        let answers = IntakeAnswers {
            conditions: answers.conditions.clone(),
            medications: answers.medications.clone(),
            allergies: crate::validate::text("allergies", &answers.allergies)?,
            notes: crate::validate::text("notes", &answers.notes)?,
        };
        let intake = Intake {
            id: Uuid::new_v4(),
            answers,
            submitted_at: now(),
        };
        on_db!(self, pool => {
            sqlx::query("INSERT INTO intakes (id, clinic_id, client_id, answers, submitted_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(intake.id).bind(me.clinic_id).bind(me.client_id).bind(Json(&intake.answers)).bind(intake.submitted_at)
                .execute(pool).await?;
        });
        Ok(intake)
    }

    /// A client's intakes, latest first.
    pub(crate) async fn intakes_of(&self, clinic_id: Uuid, client_id: Uuid) -> StoreResult<Vec<Intake>> {
        let rows: Vec<(Uuid, Json<IntakeAnswers>, OffsetDateTime)> = on_db!(self, pool => {
            sqlx::query_as(
                "SELECT id, answers, submitted_at FROM intakes WHERE clinic_id = $1 AND client_id = $2 \
                 ORDER BY submitted_at DESC, id LIMIT 100",
            )
            .bind(clinic_id).bind(client_id).fetch_all(pool).await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, answers, submitted_at)| Intake {
                id,
                answers: answers.0,
                submitted_at,
            })
            .collect())
    }

    /// A client's latest intake, if they sent one.
    pub(crate) async fn latest_intake_of(
        &self,
        clinic_id: Uuid,
        client_id: Uuid,
    ) -> StoreResult<Option<Intake>> {
        Ok(self.intakes_of(clinic_id, client_id).await?.into_iter().next())
    }

    /// A client's intakes, latest first (clinical records).
    pub async fn intakes(&self, actor: &crate::Actor, client_id: Uuid) -> StoreResult<Vec<Intake>> {
        actor.require(crate::role::Action::ViewClinicalRecords)?;
        self.ensure_client(actor, client_id).await?;
        self.intakes_of(actor.clinic_id, client_id).await
    }

    /// The signed-in client's latest intake.
    pub async fn own_intake(&self, me: &PortalClient) -> StoreResult<Option<Intake>> {
        self.latest_intake_of(me.clinic_id, me.client_id).await
    }

    /// A client's latest intake, for the consultation (clinical records).
    pub async fn latest_intake(&self, actor: &crate::Actor, client_id: Uuid) -> StoreResult<Option<Intake>> {
        actor.require(crate::role::Action::ViewClinicalRecords)?;
        self.ensure_client(actor, client_id).await?;
        self.latest_intake_of(actor.clinic_id, client_id).await
    }

    /// Signs a device out of the portal.
    pub async fn end_portal_session(&self, token: &str) -> StoreResult<()> {
        on_db!(self, pool => {
            sqlx::query("DELETE FROM portal_sessions WHERE token_sha256 = $1")
                .bind(&token_sha256(token)[..]).execute(pool).await?;
        });
        Ok(())
    }

    /// The clients with this email address (a few at most, across clinics), for a client who
    /// asks for a sign-in link themselves: (clinic, client).
    pub async fn clients_with_email(&self, email: &str) -> StoreResult<Vec<(Uuid, Uuid)>> {
        let email = email.trim().to_lowercase();
        if email.is_empty() {
            return Ok(Vec::new());
        }
        Ok(on_db!(self, pool => {
            sqlx::query_as("SELECT clinic_id, id FROM clients WHERE lower(email) = $1 ORDER BY created_at LIMIT $2")
                .bind(email).bind(MAX_CLIENTS_PER_EMAIL).fetch_all(pool).await?
        }))
    }

    /// The signed-in client's latest design (what a treatment consent is signed for).
    pub async fn own_latest_design(&self, me: &PortalClient) -> StoreResult<Option<Design>> {
        self.latest_design_of(me.clinic_id, me.client_id).await
    }

    /// The signed-in client's own record.
    pub async fn own_record(&self, me: &PortalClient) -> StoreResult<OwnRecord> {
        let parts = self.record_of(me.clinic_id, me.client_id).await?;
        let mut client = parts.client;
        client.notes = String::new();
        type Ink = (Uuid, String, String, String, String, Date);
        let inks: Vec<Ink> = on_db!(self, pool => {
            sqlx::query_as(
                "SELECT s.id, p.name, p.maker, p.ingredients, b.lot, b.expires_on FROM session_logs s \
                 JOIN pigment_batches b ON b.clinic_id = s.clinic_id AND b.id = s.batch_id \
                 JOIN pigment_products p ON p.clinic_id = b.clinic_id AND p.id = b.product_id \
                 WHERE s.clinic_id = $1 AND s.client_id = $2",
            )
            .bind(me.clinic_id).bind(me.client_id).fetch_all(pool).await?
        });
        let mut sessions = parts.sessions;
        for s in &mut sessions {
            // The practitioner's working notes stay at the clinic, as the client's notes do.
            s.notes = String::new();
        }
        let passport = sessions
            .iter()
            .filter_map(|s| {
                let ink = inks.iter().find(|i| i.0 == s.id)?;
                Some(InkEntry {
                    session_id: s.id,
                    performed_on: s.performed_on,
                    product: ink.1.clone(),
                    maker: ink.2.clone(),
                    ingredients: ink.3.clone(),
                    lot: ink.4.clone(),
                    expires_on: ink.5,
                    dilution: s.dilution,
                    needle: s.needle.clone(),
                    needle_lot: s.needle_lot.clone(),
                    zones: s.zones.clone(),
                })
            })
            .collect();
        let messages: Vec<MessageRow> = on_db!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {MESSAGE_COLS} FROM messages WHERE clinic_id = $1 AND client_id = $2 ORDER BY sent_at DESC, id LIMIT 200"
            )))
            .bind(me.clinic_id).bind(me.client_id).fetch_all(pool).await?
        });
        Ok(OwnRecord {
            client,
            consultations: parts.consultations,
            designs: parts.designs,
            appointments: parts.appointments,
            sessions,
            passport,
            photos: parts.photos,
            messages: messages.into_iter().map(message_from_row).collect(),
        })
    }
}
