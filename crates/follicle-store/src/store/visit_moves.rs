//! A client asks to move a visit from their pages (issue 15): when suits them, in their words,
//! and up to three preferred days. The request stays open until the clinic moves the visit
//! (closed in the move's own transaction, [`Store::move_appointment`], whatever moved it: the
//! appointment's form, the diary's drag or the API), a staff member dismisses it, or the client
//! asks again (the earlier one is closed as replaced). Only the visit's client may ask, and
//! only for a visit still to come that is booked or confirmed.

use serde::Serialize;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use super::portal::PortalClient;
use super::{Store, audit_insert, now, on_db};
use crate::auth::Actor;
use crate::error::{StoreError, StoreResult};
use crate::model::{AppointmentStatus, AuditAction};
use crate::role::Action;

/// The most characters a client may write of when suits them.
pub const MOVE_WORDS_CHARS: usize = 300;
/// The most preferred days a request names.
pub const MOVE_DAYS: usize = 3;
/// A preferred day may be at most this far ahead (the diary is not kept further).
const MOVE_DAYS_AHEAD: i64 = 366;

/// How a move request was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MoveClosed {
    /// The clinic moved the visit.
    Moved,
    /// A staff member dismissed it (the clinic called the client, or the visit stays).
    Dismissed,
    /// The client asked again; the newer request is the open one.
    Replaced,
}

impl MoveClosed {
    /// Its stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            MoveClosed::Moved => "moved",
            MoveClosed::Dismissed => "dismissed",
            MoveClosed::Replaced => "replaced",
        }
    }

    fn parse(text: &str) -> StoreResult<MoveClosed> {
        match text {
            "moved" => Ok(MoveClosed::Moved),
            "dismissed" => Ok(MoveClosed::Dismissed),
            "replaced" => Ok(MoveClosed::Replaced),
            other => Err(StoreError::Internal(format!(
                "a move request closed as {other:?}"
            ))),
        }
    }
}

/// A client's request to move one of their visits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MoveRequest {
    /// Its id.
    pub id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// The visit.
    pub appointment_id: Uuid,
    /// When suits them, in their words (may be empty when they named days).
    pub suits: String,
    /// Up to three days they would prefer, in order.
    pub preferred_days: Vec<Date>,
    /// When they asked.
    #[serde(with = "time::serde::rfc3339")]
    pub asked_at: OffsetDateTime,
    /// When it was closed, if it is.
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
    /// How it was closed.
    pub closed_how: Option<MoveClosed>,
    /// The staff member who closed it (moved or dismissed).
    pub closed_by: Option<Uuid>,
}

impl MoveRequest {
    /// Still waiting for the clinic.
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }
}

type MoveRow = (
    Uuid,
    Uuid,
    Uuid,
    String,
    sqlx::types::Json<Vec<String>>,
    OffsetDateTime,
    Option<OffsetDateTime>,
    Option<String>,
    Option<Uuid>,
);

const MOVE_COLS: &str =
    "id, client_id, appointment_id, suits, preferred_days, asked_at, closed_at, closed_how, closed_by";

fn move_from_row(row: MoveRow) -> StoreResult<MoveRequest> {
    let (id, client_id, appointment_id, suits, days, asked_at, closed_at, closed_how, closed_by) = row;
    let preferred_days = days
        .0
        .iter()
        .map(|d| {
            Date::parse(d, time::macros::format_description!("[year]-[month]-[day]"))
                .map_err(|e| StoreError::Internal(format!("a move request's day {d:?}: {e}")))
        })
        .collect::<StoreResult<_>>()?;
    Ok(MoveRequest {
        id,
        client_id,
        appointment_id,
        suits,
        preferred_days,
        asked_at,
        closed_at,
        closed_how: closed_how.as_deref().map(MoveClosed::parse).transpose()?,
        closed_by,
    })
}

/// Closes the open requests of an appointment as moved, by `$2` at `$1` (run in the move's
/// transaction).
pub(super) const CLOSE_ON_MOVE: &str = "UPDATE move_requests SET closed_at = $1, closed_how = 'moved', closed_by = $2 \
     WHERE clinic_id = $3 AND appointment_id = $4 AND closed_at IS NULL";

/// The client's words and days, checked: the words at most [`MOVE_WORDS_CHARS`] characters on
/// one line or a few, the days at most [`MOVE_DAYS`], distinct, from `today` to a year ahead;
/// at least one of them given.
fn check_ask(suits: &str, days: &[Date], today: Date) -> StoreResult<(String, Vec<Date>)> {
    let suits = crate::validate::text("suits", suits.trim())?;
    let count = suits.chars().count();
    if count > MOVE_WORDS_CHARS {
        return Err(StoreError::invalid(
            "suits",
            format!("at most {MOVE_WORDS_CHARS} characters, got {count}; say it in fewer words"),
        ));
    }
    if days.len() > MOVE_DAYS {
        return Err(StoreError::invalid(
            "preferred_days",
            format!("at most {MOVE_DAYS} days, got {}", days.len()),
        ));
    }
    let mut seen = Vec::new();
    for &d in days {
        if d < today {
            return Err(StoreError::invalid(
                "preferred_days",
                format!("{d} has passed; choose a day from {today} on"),
            ));
        }
        if d > today + Duration::days(MOVE_DAYS_AHEAD) {
            return Err(StoreError::invalid(
                "preferred_days",
                format!(
                    "{d} is more than a year ahead; choose a day before {}",
                    today + Duration::days(MOVE_DAYS_AHEAD)
                ),
            ));
        }
        if !seen.contains(&d) {
            seen.push(d);
        }
    }
    if suits.is_empty() && seen.is_empty() {
        return Err(StoreError::invalid(
            "suits",
            "say when suits you, or choose at least one day",
        ));
    }
    Ok((suits, seen))
}

impl Store {
    /// The client asks to move one of their visits (`diary_now`: now on the diary's wall
    /// clock). Refused, naming why: another client's visit (not found), a visit that has begun
    /// or passed, or one that is not booked or confirmed (cancelled, done). An open request of
    /// the same visit is closed as replaced; the new one is kept.
    pub async fn ask_to_move_own_visit(
        &self,
        me: &PortalClient,
        appointment_id: Uuid,
        suits: &str,
        days: &[Date],
        diary_now: OffsetDateTime,
    ) -> StoreResult<MoveRequest> {
        let a = self
            .appointment_of(me.clinic_id, me.client_id, appointment_id)
            .await?
            .ok_or_else(|| StoreError::not_found("appointment"))?;
        if !matches!(a.status, AppointmentStatus::Booked | AppointmentStatus::Confirmed) {
            return Err(StoreError::invalid(
                "visit",
                format!(
                    "this visit is {}; only a booked or confirmed visit can be moved",
                    a.status.to_string().replace('_', " ")
                ),
            ));
        }
        if a.starts_at <= diary_now {
            return Err(StoreError::invalid(
                "visit",
                "this visit has begun or passed; to book another, call the clinic",
            ));
        }
        let (suits, days) = check_ask(suits, days, diary_now.date())?;
        let request = MoveRequest {
            id: Uuid::new_v4(),
            client_id: me.client_id,
            appointment_id: a.id,
            suits,
            preferred_days: days,
            asked_at: now(),
            closed_at: None,
            closed_how: None,
            closed_by: None,
        };
        let days: Vec<String> = request.preferred_days.iter().map(Date::to_string).collect();
        on_db!(self, pool => {
            let mut tx = super::begin_write(pool).await?;
            sqlx::query(
                "UPDATE move_requests SET closed_at = $1, closed_how = 'replaced' \
                 WHERE clinic_id = $2 AND appointment_id = $3 AND closed_at IS NULL",
            )
            .bind(request.asked_at).bind(me.clinic_id).bind(a.id).execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO move_requests (id, clinic_id, client_id, appointment_id, suits, preferred_days, asked_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(request.id).bind(me.clinic_id).bind(me.client_id).bind(a.id).bind(&request.suits)
            .bind(sqlx::types::Json(&days)).bind(request.asked_at)
            .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(request)
    }

    /// The signed-in client's open move requests (one a visit at most), by visit.
    pub async fn own_move_requests(&self, me: &PortalClient) -> StoreResult<Vec<MoveRequest>> {
        let rows: Vec<MoveRow> = on_db!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {MOVE_COLS} FROM move_requests WHERE clinic_id = $1 AND client_id = $2 AND closed_at IS NULL \
                 ORDER BY asked_at, id LIMIT 100"
            )))
            .bind(me.clinic_id).bind(me.client_id).fetch_all(pool).await?
        });
        rows.into_iter().map(move_from_row).collect()
    }

    /// An appointment's move requests, latest first (open and closed).
    pub async fn move_requests_of(
        &self,
        actor: &Actor,
        appointment_id: Uuid,
    ) -> StoreResult<Vec<MoveRequest>> {
        actor.require(Action::ManageAppointments)?;
        let rows: Vec<MoveRow> = on_db!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {MOVE_COLS} FROM move_requests WHERE clinic_id = $1 AND appointment_id = $2 \
                 ORDER BY asked_at DESC, id LIMIT 50"
            )))
            .bind(actor.clinic_id).bind(appointment_id).fetch_all(pool).await?
        });
        rows.into_iter().map(move_from_row).collect()
    }

    /// The clinic's open move requests, oldest first, each with its visit's start (the Today
    /// page), at most 50.
    pub async fn open_move_requests(&self, actor: &Actor) -> StoreResult<Vec<(MoveRequest, OffsetDateTime)>> {
        actor.require(Action::ManageAppointments)?;
        type OpenRow = (
            Uuid,
            Uuid,
            Uuid,
            String,
            sqlx::types::Json<Vec<String>>,
            OffsetDateTime,
            Option<OffsetDateTime>,
            Option<String>,
            Option<Uuid>,
            OffsetDateTime,
        );
        let rows: Vec<OpenRow> = on_db!(self, pool => {
            sqlx::query_as(
                "SELECT r.id, r.client_id, r.appointment_id, r.suits, r.preferred_days, r.asked_at, r.closed_at, \
                 r.closed_how, r.closed_by, a.starts_at FROM move_requests r \
                 JOIN appointments a ON a.clinic_id = r.clinic_id AND a.id = r.appointment_id \
                 WHERE r.clinic_id = $1 AND r.closed_at IS NULL ORDER BY r.asked_at, r.id LIMIT 50",
            )
            .bind(actor.clinic_id).fetch_all(pool).await?
        });
        rows.into_iter()
            .map(
                |(a, b, c, d, e, f, g, h, i, starts_at)| -> StoreResult<(MoveRequest, OffsetDateTime)> {
                    Ok((move_from_row((a, b, c, d, e, f, g, h, i))?, starts_at))
                },
            )
            .collect()
    }

    /// A staff member dismisses an open move request (the clinic called the client, or the
    /// visit stays where it is). Audited. A closed request is refused, naming how it closed.
    pub async fn dismiss_move_request(&self, actor: &Actor, request_id: Uuid) -> StoreResult<MoveRequest> {
        actor.require(Action::ManageAppointments)?;
        let row: Option<MoveRow> = on_db!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {MOVE_COLS} FROM move_requests WHERE clinic_id = $1 AND id = $2"
            )))
            .bind(actor.clinic_id).bind(request_id).fetch_optional(pool).await?
        });
        let mut request = move_from_row(row.ok_or_else(|| StoreError::not_found("move request"))?)?;
        if let Some(how) = request.closed_how {
            return Err(StoreError::invalid(
                "move_request",
                format!("this request was closed already ({})", how.as_str()),
            ));
        }
        let at = now();
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            let done = sqlx::query(
                "UPDATE move_requests SET closed_at = $1, closed_how = 'dismissed', closed_by = $2 \
                 WHERE clinic_id = $3 AND id = $4 AND closed_at IS NULL",
            )
            .bind(at).bind(actor.user_id).bind(actor.clinic_id).bind(request.id)
            .execute(&mut *tx).await?.rows_affected();
            if done == 0 {
                return Err(StoreError::Conflict { message: "the request changed meanwhile; reload the page".to_owned() });
            }
            audit_insert!(actor, Some(request.client_id), AuditAction::Changed, "a request to move a visit dismissed")
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        request.closed_at = Some(at);
        request.closed_how = Some(MoveClosed::Dismissed);
        request.closed_by = Some(actor.user_id);
        Ok(request)
    }

    /// A client's move requests, latest first (their record, for export).
    pub async fn client_move_requests(
        &self,
        actor: &Actor,
        client_id: Uuid,
    ) -> StoreResult<Vec<MoveRequest>> {
        actor.require(Action::ViewClients)?;
        self.ensure_client(actor, client_id).await?;
        let rows: Vec<MoveRow> = on_db!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {MOVE_COLS} FROM move_requests WHERE clinic_id = $1 AND client_id = $2 \
                 ORDER BY asked_at DESC, id LIMIT 1000"
            )))
            .bind(actor.clinic_id).bind(client_id).fetch_all(pool).await?
        });
        rows.into_iter().map(move_from_row).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn an_ask_is_checked_by_field() {
        let today = date!(2026 - 12 - 03);
        let field = |r: StoreResult<(String, Vec<Date>)>| match r {
            Err(StoreError::Invalid { field, message }) => (field, message),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            check_ask(" mornings ", &[], today).unwrap(),
            ("mornings".to_owned(), vec![])
        );
        assert_eq!(field(check_ask("  ", &[], today)).0, "suits");
        let long = "x".repeat(MOVE_WORDS_CHARS + 1);
        assert!(
            field(check_ask(&long, &[], today))
                .1
                .contains("at most 300 characters, got 301")
        );
        let four = [
            today,
            today + Duration::days(1),
            today + Duration::days(2),
            today + Duration::days(3),
        ];
        assert_eq!(field(check_ask("", &four, today)).0, "preferred_days");
        let (_, m) = field(check_ask("", &[date!(2026 - 12 - 02)], today));
        assert_eq!(m, "2026-12-02 has passed; choose a day from 2026-12-03 on");
        assert!(
            field(check_ask("", &[date!(2028 - 01 - 01)], today))
                .1
                .contains("more than a year ahead")
        );
        // The same day twice is one day.
        assert_eq!(check_ask("", &[today, today], today).unwrap().1, vec![today]);
    }
}
