//! Calendar feeds (issue 14, item 5): a private, revocable subscription address for the
//! appointments of a client or of a practitioner, which calendar programs poll.
//!
//! The address holds a secret (32 random bytes, hex); the database keeps only its SHA-256, as
//! for login sessions, so the address is shown once, when it is made. Making a feed again
//! replaces the secret (the old address stops at once); revoking deletes it. A client's feed is
//! made by anyone who may change the client's details; a user's by the user or the owner.
//! Reading a feed takes no actor (a calendar program has no session): the secret is the
//! credential, and what it reads is only what the feed shows — visits' times, kinds and names,
//! never notes or clinical records. A deactivated user's feed answers nothing.

use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{Store, audit_insert, now, on_db};
use crate::auth::{self, Actor, SessionToken};
use crate::error::{StoreError, StoreResult};
use crate::model::{AppointmentKind, AppointmentStatus, AuditAction};
use crate::role::Action;

/// Whose appointments a feed lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedOwner {
    /// A client's visits.
    Client(Uuid),
    /// A practitioner's (a user's) visits.
    User(Uuid),
}

/// One visit in a feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEvent {
    /// The appointment's id (the event's UID).
    pub id: Uuid,
    /// Its start, the clinic's wall clock stored as UTC (as the diary keeps it).
    pub starts_at: OffsetDateTime,
    /// Its length.
    pub duration_minutes: i64,
    /// Its status (cancelled visits are left out).
    pub status: AppointmentStatus,
    /// What it is for.
    pub kind: AppointmentKind,
    /// The client's name.
    pub client_name: String,
    /// The practitioner's name, when one is booked.
    pub practitioner_name: Option<String>,
    /// The room (one of `diary.rooms` when it was booked), when one is booked.
    pub room: Option<String>,
}

/// What a feed's address shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedContent {
    /// Whose feed.
    pub owner: FeedOwner,
    /// The clinic's name.
    pub clinic_name: String,
    /// The clinic's settings file (for its time zone).
    pub settings_toml: String,
    /// The visits from [`FEED_DAYS_BACK`] days ago on, by start.
    pub events: Vec<FeedEvent>,
}

/// A feed lists visits from this many days ago on.
pub const FEED_DAYS_BACK: i64 = 365;

/// At most this many visits in a feed.
const MAX_FEED_EVENTS: i64 = 2000;

const FEED_EVENTS: &str = "SELECT a.id, a.starts_at, a.duration_minutes, a.status, a.kind, c.name, u.name, a.room \
     FROM appointments a JOIN clients c ON c.clinic_id = a.clinic_id AND c.id = a.client_id \
     LEFT JOIN users u ON u.clinic_id = a.clinic_id AND u.id = a.practitioner_id \
     WHERE a.clinic_id = $1 AND ($2 IS NULL OR a.client_id = $2) AND ($3 IS NULL OR a.practitioner_id = $3) \
     AND a.starts_at >= $4 AND a.status <> 'cancelled' ORDER BY a.starts_at, a.id LIMIT $5";

type EventRow = (
    Uuid,
    OffsetDateTime,
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);
/// A feed's row: clinic, client or user, the clinic's name and settings, whether the user is active.
type FeedRow = (Uuid, Option<Uuid>, Option<Uuid>, String, String, Option<bool>);

impl FeedOwner {
    fn ids(self) -> (Option<Uuid>, Option<Uuid>) {
        match self {
            FeedOwner::Client(id) => (Some(id), None),
            FeedOwner::User(id) => (None, Some(id)),
        }
    }

    fn column(self) -> &'static str {
        match self {
            FeedOwner::Client(_) => "client_id",
            FeedOwner::User(_) => "user_id",
        }
    }

    fn id(self) -> Uuid {
        match self {
            FeedOwner::Client(id) | FeedOwner::User(id) => id,
        }
    }
}

impl Store {
    /// Checks the actor may manage this feed, and that its owner is in the actor's clinic.
    async fn feed_allowed(&self, actor: &Actor, owner: FeedOwner) -> StoreResult<()> {
        match owner {
            FeedOwner::Client(id) => {
                actor.require(Action::EditClients)?;
                self.ensure_client(actor, id).await
            }
            FeedOwner::User(id) => {
                if id != actor.user_id() {
                    actor.require(Action::ManageUsers)?;
                }
                let found: Option<(Uuid,)> = on_db!(self, pool => {
                    sqlx::query_as("SELECT id FROM users WHERE clinic_id = $1 AND id = $2")
                        .bind(actor.clinic_id).bind(id).fetch_optional(pool).await?
                });
                found.map(|_| ()).ok_or_else(|| StoreError::not_found("user"))
            }
        }
    }

    /// When the feed's current address was made, if it has one.
    pub async fn calendar_feed(
        &self,
        actor: &Actor,
        owner: FeedOwner,
    ) -> StoreResult<Option<OffsetDateTime>> {
        self.feed_allowed(actor, owner).await?;
        let sql = format!(
            "SELECT created_at FROM calendar_feeds WHERE clinic_id = $1 AND {} = $2",
            owner.column()
        );
        let row: Option<(OffsetDateTime,)> = on_db!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(actor.clinic_id).bind(owner.id()).fetch_optional(pool).await?
        });
        Ok(row.map(|r| r.0))
    }

    /// Makes the feed's address, or a new one in place of the old (which stops at once).
    /// Gives the secret, shown once: only its SHA-256 is kept.
    pub async fn make_calendar_feed(&self, actor: &Actor, owner: FeedOwner) -> StoreResult<SessionToken> {
        self.feed_allowed(actor, owner).await?;
        let token = SessionToken::generate()?;
        let digest = auth::token_sha256(token.as_str()).to_vec();
        let (client_id, user_id) = owner.ids();
        let delete = format!(
            "DELETE FROM calendar_feeds WHERE clinic_id = $1 AND {} = $2",
            owner.column()
        );
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            let renewed = sqlx::query(sqlx::AssertSqlSafe(delete)).bind(actor.clinic_id).bind(owner.id())
                .execute(&mut *tx).await?.rows_affected() > 0;
            sqlx::query(
                "INSERT INTO calendar_feeds (id, clinic_id, client_id, user_id, token_sha256, created_at, created_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(Uuid::new_v4()).bind(actor.clinic_id).bind(client_id).bind(user_id).bind(&digest).bind(now())
            .bind(actor.user_id())
            .execute(&mut *tx).await?;
            let what = if renewed { "calendar feed renewed (the old address stopped)" } else { "calendar feed made" };
            let detail = match owner {
                FeedOwner::Client(_) => what.to_owned(),
                FeedOwner::User(id) => format!("{what} for user {id}"),
            };
            let action = if renewed { AuditAction::Changed } else { AuditAction::Created };
            audit_insert!(actor, client_id, action, detail).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(token)
    }

    /// Revokes the feed's address (it answers nothing from now on). Whether there was one.
    pub async fn revoke_calendar_feed(&self, actor: &Actor, owner: FeedOwner) -> StoreResult<bool> {
        self.feed_allowed(actor, owner).await?;
        let (client_id, _) = owner.ids();
        let delete = format!(
            "DELETE FROM calendar_feeds WHERE clinic_id = $1 AND {} = $2",
            owner.column()
        );
        let done = on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            let done = sqlx::query(sqlx::AssertSqlSafe(delete)).bind(actor.clinic_id).bind(owner.id())
                .execute(&mut *tx).await?.rows_affected() > 0;
            if done {
                let detail = match owner {
                    FeedOwner::Client(_) => "calendar feed revoked".to_owned(),
                    FeedOwner::User(id) => format!("calendar feed revoked for user {id}"),
                };
                audit_insert!(actor, client_id, AuditAction::Deleted, detail).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            done
        });
        Ok(done)
    }

    /// What the feed with this secret shows; `None` for a secret nobody has (revoked, renewed,
    /// mistyped) or a deactivated user's. No actor: the secret is the credential.
    pub async fn calendar_feed_by_token(&self, token: &str) -> StoreResult<Option<FeedContent>> {
        if token.is_empty() || token.len() > 128 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let digest = auth::token_sha256(token).to_vec();
        let row: Option<FeedRow> = on_db!(self, pool => {
            sqlx::query_as(
                "SELECT f.clinic_id, f.client_id, f.user_id, k.name, k.settings_toml, u.active \
                 FROM calendar_feeds f JOIN clinics k ON k.id = f.clinic_id \
                 LEFT JOIN users u ON u.clinic_id = f.clinic_id AND u.id = f.user_id \
                 WHERE f.token_sha256 = $1",
            )
            .bind(&digest).fetch_optional(pool).await?
        });
        let Some((clinic_id, client_id, user_id, clinic_name, settings_toml, active)) = row else {
            return Ok(None);
        };
        let owner = match (client_id, user_id) {
            (Some(id), _) => FeedOwner::Client(id),
            (None, Some(id)) if active == Some(true) => FeedOwner::User(id),
            _ => return Ok(None),
        };
        let since = now() - Duration::days(FEED_DAYS_BACK);
        let rows: Vec<EventRow> = on_db!(self, pool => {
            sqlx::query_as(FEED_EVENTS)
                .bind(clinic_id).bind(client_id).bind(user_id).bind(since).bind(MAX_FEED_EVENTS)
                .fetch_all(pool).await?
        });
        let events = rows
            .into_iter()
            .map(|r| {
                Ok(FeedEvent {
                    id: r.0,
                    starts_at: r.1,
                    duration_minutes: r.2,
                    status: AppointmentStatus::parse(&r.3)?,
                    kind: AppointmentKind::parse(&r.4)?,
                    client_name: r.5,
                    practitioner_name: r.6,
                    room: r.7,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Some(FeedContent {
            owner,
            clinic_name,
            settings_toml,
            events,
        }))
    }
}
