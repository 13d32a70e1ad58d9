//! Booking requests from a clinic's public estimator (issue 15), and the counters that bound
//! public requests.
//!
//! A request holds what the person told the estimator (their answers, the estimate they saw,
//! optionally their photo) and how to reach them. It waits in the studio's inbox; nothing is
//! made in the clinic's records until someone makes the person a client
//! ([`Store::accept_booking_request`]: one click, the client made from the request's details
//! in the same step) or declines it. A request that did not become a client is erased
//! `keep_days` after it came (storage limitation).
//!
//! Floods: every request is counted per address an hour and per clinic a day, in the database
//! (several servers share the counts). Beyond a limit the request is refused and nothing is
//! written but the counter; the first refusal of a clinic's day says so
//! ([`RequestOutcome::ClinicLimit`]), so the caller can tell the clinic once.

use serde_json::Value;
use sqlx::types::Json;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{Store, audit_insert, now, on_db, rate_key};
use crate::auth::Actor;
use crate::error::{StoreError, StoreResult};
use crate::model::{AuditAction, Client, NewClient};
use crate::role::Action;
use crate::validate;

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestStatus {
    /// Waiting in the inbox.
    New,
    /// The person was made a client.
    Accepted,
    /// The clinic said no.
    Declined,
}

impl RequestStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::New => "new",
            RequestStatus::Accepted => "accepted",
            RequestStatus::Declined => "declined",
        }
    }

    fn parse(text: &str) -> StoreResult<RequestStatus> {
        match text {
            "new" => Ok(RequestStatus::New),
            "accepted" => Ok(RequestStatus::Accepted),
            "declined" => Ok(RequestStatus::Declined),
            other => Err(StoreError::Internal(format!(
                "a booking request has the status {other:?}"
            ))),
        }
    }
}

/// A request as the estimator sends it.
#[derive(Debug, Clone)]
pub struct NewBookingRequest {
    /// The person's name.
    pub name: String,
    /// Their email (required when they want to be contacted by email).
    pub email: String,
    /// Their phone number (required when they want to be called).
    pub phone: String,
    /// `email` or `phone`.
    pub contact_by: String,
    /// What they wrote.
    pub message: String,
    /// Their answers to the estimator (a JSON object).
    pub answers: Value,
    /// The estimate they were shown (a JSON object).
    pub estimate: Value,
    /// Their photo (metadata already stripped), when they chose to send it.
    pub photo: Option<Vec<u8>>,
    /// The address it came from (counted, never shown).
    pub address: String,
}

/// The limits a request is held to (the clinic's `[estimator]` settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    /// Requests one address may send the clinic in an hour.
    pub per_address_per_hour: u32,
    /// Requests the clinic takes in a day.
    pub per_day: u32,
    /// Days a request that did not become a client is kept.
    pub keep_days: u32,
}

/// What became of a request sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestOutcome {
    /// Kept, with its id.
    Saved(Uuid),
    /// Refused: this address sent its hour's requests.
    AddressLimit,
    /// Refused: the clinic had its day's requests; `first_today` for the day's first refusal.
    ClinicLimit {
        /// Whether this is the first request refused today (tell the clinic).
        first_today: bool,
    },
}

/// A request in the inbox.
#[derive(Debug, Clone, PartialEq)]
pub struct BookingRequest {
    /// Its id.
    pub id: Uuid,
    /// When it came.
    pub created_at: OffsetDateTime,
    /// The person's name.
    pub name: String,
    /// Their email.
    pub email: String,
    /// Their phone number.
    pub phone: String,
    /// How they want to be contacted: `email` or `phone`.
    pub contact_by: String,
    /// What they wrote.
    pub message: String,
    /// Their answers to the estimator.
    pub answers: Value,
    /// The estimate they were shown.
    pub estimate: Value,
    /// Whether a photo came with it (and is still with it).
    pub has_photo: bool,
    /// Where it stands.
    pub status: RequestStatus,
    /// When it was accepted or declined.
    pub handled_at: Option<OffsetDateTime>,
    /// The client it became.
    pub client_id: Option<Uuid>,
}

/// At most this many requests are listed.
const MAX_LISTED: i64 = 200;
/// Longest message kept, characters.
const MAX_MESSAGE_CHARS: usize = 2000;
/// Largest photo kept with a request, bytes.
pub const MAX_REQUEST_PHOTO_BYTES: usize = 8 << 20;

const REQUEST_COLS: &str = "id, created_at, name, email, phone, contact_by, message, answers, estimate, \
     photo IS NOT NULL, status, handled_at, client_id";

type RequestRow = (
    Uuid,
    OffsetDateTime,
    String,
    String,
    String,
    String,
    String,
    Json<Value>,
    Json<Value>,
    bool,
    String,
    Option<OffsetDateTime>,
    Option<Uuid>,
);

fn request_from_row(r: RequestRow) -> StoreResult<BookingRequest> {
    Ok(BookingRequest {
        id: r.0,
        created_at: r.1,
        name: r.2,
        email: r.3,
        phone: r.4,
        contact_by: r.5,
        message: r.6,
        answers: r.7.0,
        estimate: r.8.0,
        has_photo: r.9,
        status: RequestStatus::parse(&r.10)?,
        handled_at: r.11,
        client_id: r.12,
    })
}

/// The request's fields, checked: the field, the value and what is allowed.
fn check(req: &NewBookingRequest) -> StoreResult<NewBookingRequest> {
    let name = validate::line("name", &req.name, false)?;
    let contact_by = match req.contact_by.as_str() {
        "email" | "phone" => req.contact_by.clone(),
        other => {
            return Err(StoreError::invalid(
                "contact_by",
                format!("expected email or phone, got {other:?}"),
            ));
        }
    };
    let email = validate::email("email", &req.email, contact_by != "email")?;
    let phone = validate::phone("phone", &req.phone, contact_by != "phone")?;
    let message = validate::text("message", &req.message)?;
    if message.chars().count() > MAX_MESSAGE_CHARS {
        return Err(StoreError::invalid(
            "message",
            format!(
                "expected at most {MAX_MESSAGE_CHARS} characters, got {}",
                message.chars().count()
            ),
        ));
    }
    validate::json("answers", &req.answers)?;
    validate::json("estimate", &req.estimate)?;
    if req
        .photo
        .as_ref()
        .is_some_and(|p| p.len() > MAX_REQUEST_PHOTO_BYTES)
    {
        return Err(StoreError::invalid(
            "photo",
            format!("expected at most {} MB", MAX_REQUEST_PHOTO_BYTES >> 20),
        ));
    }
    Ok(NewBookingRequest {
        name,
        email,
        phone,
        contact_by,
        message,
        answers: req.answers.clone(),
        estimate: req.estimate.clone(),
        photo: req.photo.clone(),
        address: rate_key(&req.address),
    })
}

impl Store {
    /// Counts one hit on `subject` in the current window of `window_seconds` and returns the
    /// window's hits, this one included. Windows older than two days are dropped when a new
    /// window starts.
    pub async fn count_public_hit(&self, subject: &str, window_seconds: i64) -> StoreResult<i64> {
        let at = now().unix_timestamp();
        let window = at - at.rem_euclid(window_seconds.max(1));
        let subject = rate_key(subject);
        let (hits,): (i64,) = on_db!(self, pool => {
            sqlx::query_as(
                "INSERT INTO public_counters (subject, window_start, hits) VALUES ($1, $2, 1) \
                 ON CONFLICT (subject, window_start) DO UPDATE SET hits = public_counters.hits + 1 RETURNING hits",
            )
            .bind(&subject).bind(window).fetch_one(pool).await?
        });
        if hits == 1 {
            on_db!(self, pool => {
                sqlx::query("DELETE FROM public_counters WHERE window_start < $1")
                    .bind(at - 2 * 86_400).execute(pool).await?;
            });
        }
        Ok(hits)
    }

    /// The hits on `subject` in the current window of `window_seconds`, without counting one.
    pub async fn public_hits(&self, subject: &str, window_seconds: i64) -> StoreResult<i64> {
        let at = now().unix_timestamp();
        let window = at - at.rem_euclid(window_seconds.max(1));
        let row: Option<(i64,)> = on_db!(self, pool => {
            sqlx::query_as("SELECT hits FROM public_counters WHERE subject = $1 AND window_start = $2")
                .bind(rate_key(subject)).bind(window).fetch_optional(pool).await?
        });
        Ok(row.map_or(0, |r| r.0))
    }

    /// Keeps a booking request for `clinic_id`'s inbox, within `limits`; a refused request
    /// writes nothing but its count. Requests older than `keep_days` that did not become a
    /// client are erased first.
    pub async fn submit_booking_request(
        &self,
        clinic_id: Uuid,
        request: &NewBookingRequest,
        limits: RequestLimits,
    ) -> StoreResult<RequestOutcome> {
        let req = check(request)?;
        let at = now();
        on_db!(self, pool => {
            sqlx::query("DELETE FROM booking_requests WHERE clinic_id = $1 AND status <> 'accepted' AND created_at < $2")
                .bind(clinic_id).bind(at - Duration::days(i64::from(limits.keep_days))).execute(pool).await?;
        });
        let from_address = self
            .count_public_hit(&format!("request:{clinic_id}:{}", req.address), 3600)
            .await?;
        if from_address > i64::from(limits.per_address_per_hour) {
            return Ok(RequestOutcome::AddressLimit);
        }
        let (today,): (i64,) = on_db!(self, pool => {
            sqlx::query_as("SELECT COUNT(*) FROM booking_requests WHERE clinic_id = $1 AND created_at > $2")
                .bind(clinic_id).bind(at - Duration::days(1)).fetch_one(pool).await?
        });
        if today >= i64::from(limits.per_day) {
            let refused = self
                .count_public_hit(&format!("refused:{clinic_id}"), 86_400)
                .await?;
            return Ok(RequestOutcome::ClinicLimit {
                first_today: refused == 1,
            });
        }
        let id = Uuid::new_v4();
        on_db!(self, pool => {
            sqlx::query(
                "INSERT INTO booking_requests (id, clinic_id, created_at, name, email, phone, contact_by, message, answers, estimate, photo, address_key) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(id).bind(clinic_id).bind(at).bind(&req.name).bind(&req.email).bind(&req.phone).bind(&req.contact_by)
            .bind(&req.message).bind(Json(&req.answers)).bind(Json(&req.estimate)).bind(req.photo.as_deref()).bind(&req.address)
            .execute(pool).await?;
        });
        Ok(RequestOutcome::Saved(id))
    }

    /// The requests refused today because the clinic had its day's requests.
    pub async fn refused_requests_today(&self, actor: &Actor) -> StoreResult<i64> {
        actor.require(Action::ViewClients)?;
        self.public_hits(&format!("refused:{}", actor.clinic_id), 86_400)
            .await
    }

    /// The inbox: requests waiting (and with `handled`, those accepted or declined too), newest
    /// first, at most 200.
    pub async fn booking_requests(&self, actor: &Actor, handled: bool) -> StoreResult<Vec<BookingRequest>> {
        actor.require(Action::ViewClients)?;
        let sql = format!(
            "SELECT {REQUEST_COLS} FROM booking_requests WHERE clinic_id = $1 AND ($2 OR status = 'new') \
             ORDER BY created_at DESC, id LIMIT $3"
        );
        let rows: Vec<RequestRow> = on_db!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(actor.clinic_id).bind(handled).bind(MAX_LISTED).fetch_all(pool).await?
        });
        rows.into_iter().map(request_from_row).collect()
    }

    /// The number of requests waiting.
    pub async fn new_booking_requests(&self, actor: &Actor) -> StoreResult<i64> {
        actor.require(Action::ViewClients)?;
        let (n,): (i64,) = on_db!(self, pool => {
            sqlx::query_as("SELECT COUNT(*) FROM booking_requests WHERE clinic_id = $1 AND status = 'new'")
                .bind(actor.clinic_id).fetch_one(pool).await?
        });
        Ok(n)
    }

    /// One request of the actor's clinic.
    pub async fn booking_request(&self, actor: &Actor, id: Uuid) -> StoreResult<BookingRequest> {
        actor.require(Action::ViewClients)?;
        let sql = format!("SELECT {REQUEST_COLS} FROM booking_requests WHERE clinic_id = $1 AND id = $2");
        let row: Option<RequestRow> = on_db!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(actor.clinic_id).bind(id).fetch_optional(pool).await?
        });
        request_from_row(row.ok_or(StoreError::NotFound {
            what: "booking request",
        })?)
    }

    /// The request a client was made from (the latest accepted one naming them), for the
    /// consultation to start from its answers; `None` for a client who did not come that way.
    pub async fn request_of_client(
        &self,
        actor: &Actor,
        client_id: Uuid,
    ) -> StoreResult<Option<BookingRequest>> {
        actor.require(Action::ViewClients)?;
        let sql = format!(
            "SELECT {REQUEST_COLS} FROM booking_requests WHERE clinic_id = $1 AND client_id = $2 \
             AND status = 'accepted' ORDER BY handled_at DESC LIMIT 1"
        );
        let row: Option<RequestRow> = on_db!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(actor.clinic_id).bind(client_id).fetch_optional(pool).await?
        });
        row.map(request_from_row).transpose()
    }

    /// The photo sent with a request, if it is still with it.
    pub async fn booking_request_photo(&self, actor: &Actor, id: Uuid) -> StoreResult<Option<Vec<u8>>> {
        actor.require(Action::ViewClients)?;
        let row: Option<(Option<Vec<u8>>,)> = on_db!(self, pool => {
            sqlx::query_as("SELECT photo FROM booking_requests WHERE clinic_id = $1 AND id = $2")
                .bind(actor.clinic_id).bind(id).fetch_optional(pool).await?
        });
        Ok(row
            .ok_or(StoreError::NotFound {
                what: "booking request",
            })?
            .0)
    }

    /// Removes the photo from a request (once it is kept with the client's photos).
    pub async fn drop_booking_photo(&self, actor: &Actor, id: Uuid) -> StoreResult<()> {
        actor.require(Action::EditClients)?;
        on_db!(self, pool => {
            sqlx::query("UPDATE booking_requests SET photo = NULL WHERE clinic_id = $1 AND id = $2")
                .bind(actor.clinic_id).bind(id).execute(pool).await?;
        });
        Ok(())
    }

    /// Claims a waiting request for `status`: a request already handled is a conflict that
    /// says how (two people clicking at once make one client).
    async fn claim_request(
        &self,
        actor: &Actor,
        id: Uuid,
        status: RequestStatus,
    ) -> StoreResult<BookingRequest> {
        let request = self.booking_request(actor, id).await?;
        let at = now();
        let claimed = on_db!(self, pool => {
            sqlx::query(
                "UPDATE booking_requests SET status = $3, handled_at = $4, handled_by = $5 \
                 WHERE clinic_id = $1 AND id = $2 AND status = 'new'",
            )
            .bind(actor.clinic_id).bind(id).bind(status.as_str()).bind(at).bind(actor.user_id)
            .execute(pool).await?.rows_affected()
        });
        if claimed == 0 {
            let now_is = self.booking_request(actor, id).await?.status;
            return Err(StoreError::Conflict {
                message: format!(
                    "this request was {} already",
                    match now_is {
                        RequestStatus::Accepted => "made a client",
                        RequestStatus::Declined => "declined",
                        RequestStatus::New => "changed",
                    }
                ),
            });
        }
        Ok(request)
    }

    /// Makes the person of a waiting request a client (name, email, phone, and a note of what
    /// they asked), and marks the request accepted with the client it became. Returns the
    /// client and the request as it was claimed.
    pub async fn accept_booking_request(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> StoreResult<(Client, BookingRequest)> {
        actor.require(Action::EditClients)?;
        let request = self.claim_request(actor, id, RequestStatus::Accepted).await?;
        let day = request.created_at.date();
        let mut notes = format!(
            "Booking request from the estimator, {} {} {}; wants to be contacted by {}.",
            day.day(),
            day.month(),
            day.year(),
            request.contact_by
        );
        if !request.message.trim().is_empty() {
            notes.push_str("\nTheir message: ");
            notes.push_str(request.message.trim());
        }
        let made = self
            .create_client(
                actor,
                &NewClient {
                    name: request.name.clone(),
                    date_of_birth: None,
                    age_years: None,
                    phone: request.phone.clone(),
                    email: request.email.clone(),
                    notes,
                },
            )
            .await;
        let client = match made {
            Ok(client) => client,
            Err(e) => {
                // Back in the inbox, as it was: nothing half done.
                on_db!(self, pool => {
                    sqlx::query("UPDATE booking_requests SET status = 'new', handled_at = NULL, handled_by = NULL WHERE clinic_id = $1 AND id = $2")
                        .bind(actor.clinic_id).bind(id).execute(pool).await?;
                });
                return Err(e);
            }
        };
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            sqlx::query("UPDATE booking_requests SET client_id = $3 WHERE clinic_id = $1 AND id = $2")
                .bind(actor.clinic_id).bind(id).bind(client.id).execute(&mut *tx).await?;
            audit_insert!(actor, Some(client.id), AuditAction::Created, "client from a booking request").execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok((client, request))
    }

    /// Declines a waiting request (it is erased with the others after `keep_days`).
    pub async fn decline_booking_request(&self, actor: &Actor, id: Uuid) -> StoreResult<()> {
        actor.require(Action::EditClients)?;
        self.claim_request(actor, id, RequestStatus::Declined).await?;
        Ok(())
    }
}

/// What a form stamp signs: the purpose, the clinic and the second it was made.
fn stamp_mac(key: &[u8], purpose: &str, clinic_id: Uuid, at: i64) -> StoreResult<String> {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key)
        .map_err(|e| StoreError::Internal(format!("form key: {e}")))?;
    mac.update(format!("{purpose}\0{clinic_id}\0{at}").as_bytes());
    Ok(mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

impl Store {
    /// The key of form stamps, made on first use (every server reads the same one) and kept in
    /// memory once read.
    async fn form_key(&self) -> StoreResult<Vec<u8>> {
        if let Some(key) = self.form_key.get() {
            return Ok(key.clone());
        }
        let mut fresh = [0u8; 32];
        rand::TryRngCore::try_fill_bytes(&mut rand::rngs::OsRng, &mut fresh)
            .map_err(|e| StoreError::Internal(format!("no randomness for a form key: {e}")))?;
        let (key,): (Vec<u8>,) = on_db!(self, pool => {
            sqlx::query("INSERT INTO form_keys (name, key) VALUES ('public forms', $1) ON CONFLICT (name) DO NOTHING")
                .bind(&fresh[..]).execute(pool).await?;
            sqlx::query_as("SELECT key FROM form_keys WHERE name = 'public forms'").fetch_one(pool).await?
        });
        // Two first reads at once read the same row: either may stay.
        let _ = self.form_key.set(key.clone());
        Ok(key)
    }

    /// A stamp for a public form of `clinic_id` shown now: the time, signed. The form sends it
    /// back; [`Store::form_age`] says how long ago it was shown.
    pub async fn form_stamp(&self, purpose: &str, clinic_id: Uuid) -> StoreResult<String> {
        let at = now().unix_timestamp();
        let mac = stamp_mac(&self.form_key().await?, purpose, clinic_id, at)?;
        Ok(format!("{at}.{mac}"))
    }

    /// Seconds since the form of this stamp was shown, or `None` when the stamp is not one of
    /// ours for this purpose and clinic (forged, changed, or from another clinic's form).
    pub async fn form_age(&self, purpose: &str, clinic_id: Uuid, stamp: &str) -> StoreResult<Option<i64>> {
        let Some((at, mac)) = stamp.split_once('.') else {
            return Ok(None);
        };
        let Ok(at) = at.parse::<i64>() else {
            return Ok(None);
        };
        let want = stamp_mac(&self.form_key().await?, purpose, clinic_id, at)?;
        let same = want.len() == mac.len()
            && want
                .bytes()
                .zip(mac.bytes())
                .fold(0u8, |acc, (x, y)| acc | (x ^ y))
                == 0;
        Ok(same.then(|| now().unix_timestamp() - at))
    }
}

impl Store {
    /// The email addresses of a clinic's active owners (to tell them of a flood).
    pub async fn owner_emails(&self, clinic_id: Uuid) -> StoreResult<Vec<String>> {
        let rows: Vec<(String,)> = on_db!(self, pool => {
            sqlx::query_as("SELECT email FROM users WHERE clinic_id = $1 AND role = 'owner' AND active = $2 ORDER BY email")
                .bind(clinic_id).bind(true).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(|r| r.0).collect())
    }
}
