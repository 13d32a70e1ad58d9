//! The owner's reports (issue 14, item 7): sessions and revenue by month, deposits
//! outstanding, the no-show rate, and pigment batch usage. (Touch-ups falling due are the
//! Today page's query, [`Store::last_completed_between`], over a longer window.)
//!
//! Money comes from the quotes as issued: a session logged from an appointment booked from a
//! plan is priced by that plan's line for its session; any other session by the line of the
//! client's latest quote for its place among the client's sessions (the third session logged,
//! line 3), or not at all when there is none. "Deposits outstanding" are the deposits quoted
//! to clients with a treatment visit booked ahead, no session logged yet and no deposit taken
//! at the desk: what the front desk should take before session 1. "Taken" is the money the
//! desk recorded as paid in the month (refunds taken off), in the report's currency.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;
use sqlx::types::Json;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::{Store, on_db};
use crate::auth::Actor;
use crate::error::StoreResult;
use crate::model::AuditAction;
use crate::record::{PlanRecord, read_plan};
use crate::role::Action;
use crate::validate;

/// One month of sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthRow {
    /// The month's first day.
    pub month: Date,
    /// Sessions logged in it.
    pub sessions: i64,
    /// Their price as quoted, in [`OwnerReport::currency`].
    pub revenue: i64,
    /// Sessions without a quote line to price them (or priced in another currency).
    pub unpriced: i64,
    /// Money taken at the desk in the month, refunds taken off, in minor units of
    /// [`OwnerReport::currency`] (payments in other currencies are left out).
    pub taken: i64,
    /// Visits that ended completed in it.
    pub completed: i64,
    /// Visits missed in it.
    pub no_shows: i64,
}

impl MonthRow {
    /// No-shows among the visits that ended (completed or missed), in per cent; none without
    /// such visits.
    pub fn no_show_percent(&self) -> Option<f64> {
        let ended = self.completed + self.no_shows;
        (ended > 0).then(|| self.no_shows as f64 * 100.0 / ended as f64)
    }
}

/// A deposit quoted and not yet due to be spent: see the module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepositDue {
    /// The client.
    pub client_id: Uuid,
    /// Their name.
    pub client_name: String,
    /// The quote's number.
    pub quote_number: Option<i64>,
    /// The deposit.
    pub deposit: i64,
    /// Its currency.
    pub currency: String,
    /// The first treatment visit booked ahead.
    pub first_visit: OffsetDateTime,
}

/// What one pigment batch was used for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchUsage {
    /// The product's name.
    pub product: String,
    /// The lot.
    pub lot: String,
    /// Its expiry.
    pub expires_on: Date,
    /// Whether it is under recall.
    pub recalled: bool,
    /// Sessions logged with it.
    pub sessions: i64,
    /// Units taken off its stock by those sessions.
    pub units_used: i64,
    /// Units in stock now.
    pub in_stock: i64,
}

/// The owner's report over a window of months.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerReport {
    /// The currency of the revenue (the quotes'; the most used when they differ).
    pub currency: String,
    /// Each month of the window, oldest first (months without sessions included).
    pub months: Vec<MonthRow>,
    /// Deposits outstanding, by first visit.
    pub deposits: Vec<DepositDue>,
    /// Every batch of the clinic, by product and lot.
    pub batches: Vec<BatchUsage>,
}

/// Most rows read for a report, per query.
const MAX_REPORT_ROWS: i64 = 100_000;

/// Sessions logged in `[$2, $3)`, with the plan session their appointment was booked from and
/// their place among the client's sessions.
const SESSIONS: &str = "SELECT s.client_id, s.performed_on, a.consultation_id, a.session_index, \
     (SELECT COUNT(*) FROM session_logs e WHERE e.clinic_id = s.clinic_id AND e.client_id = s.client_id \
        AND (e.performed_on < s.performed_on OR (e.performed_on = s.performed_on AND e.created_at < s.created_at))) + 1 \
     FROM session_logs s LEFT JOIN appointments a ON a.clinic_id = s.clinic_id AND a.id = s.appointment_id \
     WHERE s.clinic_id = $1 AND s.performed_on >= $2 AND s.performed_on < $3 ORDER BY s.performed_on LIMIT $4";

/// The plans that price those sessions: the ones booked from, and each client's latest.
const PLANS: &str = "SELECT c.id, c.client_id, c.schema_version, c.plan, c.quote_number FROM consultations c \
     WHERE c.clinic_id = $1 AND (c.id IN (SELECT a.consultation_id FROM session_logs s JOIN appointments a \
        ON a.clinic_id = s.clinic_id AND a.id = s.appointment_id \
        WHERE s.clinic_id = $1 AND s.performed_on >= $2 AND s.performed_on < $3) \
     OR (c.client_id IN (SELECT s.client_id FROM session_logs s WHERE s.clinic_id = $1 AND s.performed_on >= $2 AND s.performed_on < $3) \
        AND c.version = (SELECT MAX(m.version) FROM consultations m WHERE m.client_id = c.client_id))) LIMIT $4";

/// Visits that ended, completed or missed, starting in `[$2, $3)`.
const ENDED: &str = "SELECT starts_at, status FROM appointments WHERE clinic_id = $1 AND starts_at >= $2 \
     AND starts_at < $3 AND status IN ('completed', 'no_show') LIMIT $4";

/// The latest plan of each client with a treatment visit booked from `$2` on and no session
/// logged, with that visit's start.
const DEPOSITS: &str = "SELECT c.client_id, k.name, c.schema_version, c.plan, c.quote_number, \
     (SELECT MIN(a.starts_at) FROM appointments a WHERE a.clinic_id = c.clinic_id AND a.client_id = c.client_id \
        AND a.starts_at >= $2 AND a.kind IN ('session', 'touch_up') AND a.status IN ('booked', 'confirmed', 'arrived')) \
     FROM consultations c JOIN clients k ON k.clinic_id = c.clinic_id AND k.id = c.client_id \
     WHERE c.clinic_id = $1 AND c.version = (SELECT MAX(m.version) FROM consultations m WHERE m.client_id = c.client_id) \
     AND EXISTS (SELECT 1 FROM appointments a WHERE a.clinic_id = c.clinic_id AND a.client_id = c.client_id \
        AND a.starts_at >= $2 AND a.kind IN ('session', 'touch_up') AND a.status IN ('booked', 'confirmed', 'arrived')) \
     AND NOT EXISTS (SELECT 1 FROM session_logs s WHERE s.clinic_id = c.clinic_id AND s.client_id = c.client_id) \
     AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.clinic_id = c.clinic_id AND p.client_id = c.client_id \
        AND p.kind = 'deposit' AND p.paid_at IS NOT NULL) \
     LIMIT $3";

/// Payments taken in `[$2, $3)`.
const TAKEN: &str = "SELECT paid_at, kind, amount, currency FROM payments WHERE clinic_id = $1 \
     AND paid_at IS NOT NULL AND paid_at >= $2 AND paid_at < $3 LIMIT $4";

const BATCHES: &str = "SELECT p.name, b.lot, b.expires_on, b.recalled_on IS NOT NULL, b.quantity, \
     (SELECT COUNT(*) FROM session_logs s WHERE s.clinic_id = b.clinic_id AND s.batch_id = b.id), \
     (SELECT CAST(COALESCE(SUM(s.pigment_units), 0) AS BIGINT) FROM session_logs s WHERE s.clinic_id = b.clinic_id AND s.batch_id = b.id) \
     FROM pigment_batches b JOIN pigment_products p ON p.clinic_id = b.clinic_id AND p.id = b.product_id \
     WHERE b.clinic_id = $1 ORDER BY p.name, b.lot LIMIT $2";

type SessionRow = (Uuid, Date, Option<Uuid>, Option<i64>, i64);
type PlanRow = (Uuid, Uuid, i64, Json<Value>, Option<i64>);
type DepositRow = (
    Uuid,
    String,
    i64,
    Json<Value>,
    Option<i64>,
    Option<OffsetDateTime>,
);
type BatchRow = (String, String, Date, bool, i64, i64, i64);
type TakenRow = (OffsetDateTime, String, i64, String);
/// Everything a report reads.
type Rows = (
    Vec<SessionRow>,
    Vec<PlanRow>,
    Vec<(OffsetDateTime, String)>,
    Vec<DepositRow>,
    Vec<BatchRow>,
    Vec<TakenRow>,
);

/// The first day of the month `n` months after `month` (which is a first day).
fn add_months(month: Date, n: i32) -> Date {
    let index = month.year() * 12 + i32::from(u8::from(month.month())) - 1 + n;
    let (year, month0) = (index.div_euclid(12), index.rem_euclid(12));
    let month = time::Month::try_from(u8::try_from(month0 + 1).unwrap_or(1)).unwrap_or(time::Month::January);
    Date::from_calendar_date(year, month, 1).unwrap_or(Date::MIN)
}

fn first_of_month(day: Date) -> Date {
    day.replace_day(1).unwrap_or(day)
}

impl Store {
    /// The owner's report for the `months` (1–120) months ending with the one holding `today`,
    /// and the deposits outstanding from `today` on. Audited as a read of the clinic's records.
    pub async fn owner_report(&self, actor: &Actor, today: Date, months: i64) -> StoreResult<OwnerReport> {
        actor.require(Action::ViewReports)?;
        let months = validate::int_range("months", months, 1, 120)?;
        let today = validate::date("today", today)?;
        let last = first_of_month(today);
        let first = add_months(last, 1 - months as i32);
        let end = add_months(last, 1);
        let (from_at, end_at) = (first.midnight().assume_utc(), end.midnight().assume_utc());
        let (sessions, plans, ended, deposits, batches, taken): Rows = on_db!(self, pool => {
            let sessions = sqlx::query_as(SESSIONS)
                .bind(actor.clinic_id).bind(first).bind(end).bind(MAX_REPORT_ROWS).fetch_all(pool).await?;
            let plans = sqlx::query_as(PLANS)
                .bind(actor.clinic_id).bind(first).bind(end).bind(MAX_REPORT_ROWS).fetch_all(pool).await?;
            let ended = sqlx::query_as(ENDED)
                .bind(actor.clinic_id).bind(from_at).bind(end_at).bind(MAX_REPORT_ROWS).fetch_all(pool).await?;
            let deposits = sqlx::query_as(DEPOSITS)
                .bind(actor.clinic_id).bind(today.midnight().assume_utc()).bind(MAX_REPORT_ROWS).fetch_all(pool).await?;
            let batches = sqlx::query_as(BATCHES)
                .bind(actor.clinic_id).bind(MAX_REPORT_ROWS).fetch_all(pool).await?;
            let taken = sqlx::query_as(TAKEN)
                .bind(actor.clinic_id).bind(from_at).bind(end_at).bind(MAX_REPORT_ROWS).fetch_all(pool).await?;
            (sessions, plans, ended, deposits, batches, taken)
        });

        // The plans, by id; and each client's latest.
        let mut by_id: HashMap<Uuid, PlanRecord> = HashMap::new();
        let mut clients: Vec<Uuid> = Vec::new();
        for (id, client_id, schema, plan, _) in plans {
            if let Ok(record) = read_plan(schema, plan.0) {
                by_id.insert(id, record);
            }
            clients.push(client_id);
        }
        clients.sort();
        clients.dedup();
        let latest_ids = self.latest_consultations(actor, clients).await?;
        let price = |consultation: Option<Uuid>, index: Option<i64>| -> Option<(String, i64)> {
            let plan = by_id.get(&consultation?)?;
            let quote = plan.quote.as_ref()?;
            let line = quote.lines.iter().find(|l| Some(i64::from(l.session)) == index)?;
            Some((quote.currency.clone(), line.amount))
        };
        let mut priced: Vec<(Date, Option<(String, i64)>)> = Vec::new();
        for (client_id, on, consultation, index, ordinal) in sessions {
            let linked = price(consultation, index);
            let value = linked.or_else(|| price(latest_ids.get(&client_id).copied(), Some(ordinal)));
            priced.push((on, value));
        }
        let mut currencies: BTreeMap<String, usize> = BTreeMap::new();
        for (_, value) in &priced {
            if let Some((currency, _)) = value {
                *currencies.entry(currency.clone()).or_default() += 1;
            }
        }
        if currencies.is_empty() {
            // No session priced: the currency the desk takes most.
            for (_, _, _, currency) in &taken {
                *currencies.entry(currency.clone()).or_default() += 1;
            }
        }
        let currency = currencies
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(c, _)| c.clone())
            .unwrap_or_default();
        let mut rows: Vec<MonthRow> = (0..months as i32)
            .map(|n| MonthRow {
                month: add_months(first, n),
                sessions: 0,
                revenue: 0,
                unpriced: 0,
                taken: 0,
                completed: 0,
                no_shows: 0,
            })
            .collect();
        let slot = |day: Date| -> usize {
            let m = first_of_month(day);
            let index = (m.year() - first.year()) * 12 + i32::from(u8::from(m.month()))
                - i32::from(u8::from(first.month()));
            usize::try_from(index).unwrap_or(0)
        };
        for (on, value) in priced {
            let Some(row) = rows.get_mut(slot(on)) else {
                continue;
            };
            row.sessions += 1;
            match value {
                Some((c, amount)) if c == currency => row.revenue += amount,
                _ => row.unpriced += 1,
            }
        }
        for (at, kind, amount, in_currency) in taken {
            let Some(row) = rows.get_mut(slot(at.date())) else {
                continue;
            };
            if in_currency == currency {
                row.taken += if kind == "refund" { -amount } else { amount };
            }
        }
        for (at, status) in ended {
            let Some(row) = rows.get_mut(slot(at.date())) else {
                continue;
            };
            if status == "no_show" {
                row.no_shows += 1;
            } else {
                row.completed += 1;
            }
        }
        let mut due: Vec<DepositDue> = deposits
            .into_iter()
            .filter_map(
                |(client_id, client_name, schema, plan, quote_number, first_visit)| {
                    let quote = read_plan(schema, plan.0).ok()?.quote?;
                    Some(DepositDue {
                        client_id,
                        client_name,
                        quote_number,
                        deposit: quote.deposit?,
                        currency: quote.currency,
                        first_visit: first_visit?,
                    })
                },
            )
            .filter(|d| d.deposit > 0)
            .collect();
        due.sort_by(|a, b| (a.first_visit, &a.client_name).cmp(&(b.first_visit, &b.client_name)));
        let batches = batches
            .into_iter()
            .map(
                |(product, lot, expires_on, recalled, in_stock, sessions, units_used)| BatchUsage {
                    product,
                    lot,
                    expires_on,
                    recalled,
                    sessions,
                    units_used,
                    in_stock,
                },
            )
            .collect();
        self.audit(
            actor,
            None,
            AuditAction::Viewed,
            &format!("owner's report, {first} to {last}"),
        )
        .await?;
        Ok(OwnerReport {
            currency,
            months: rows,
            deposits: due,
            batches,
        })
    }

    /// Each of these clients' latest consultation id.
    async fn latest_consultations(
        &self,
        actor: &Actor,
        clients: Vec<Uuid>,
    ) -> StoreResult<HashMap<Uuid, Uuid>> {
        let mut out = HashMap::new();
        for chunk in clients.chunks(500) {
            macro_rules! latest_on {
                ($pool:expr) => {{
                    let mut query = sqlx::QueryBuilder::new(
                        "SELECT c.client_id, c.id FROM consultations c WHERE c.clinic_id = ",
                    );
                    query.push_bind(actor.clinic_id).push(
                        " AND c.version = (SELECT MAX(m.version) FROM consultations m WHERE m.client_id = c.client_id) \
                         AND c.client_id IN (",
                    );
                    let mut list = query.separated(", ");
                    for id in chunk {
                        list.push_bind(*id);
                    }
                    query.push(")");
                    let rows: Vec<(Uuid, Uuid)> = query.build_query_as().fetch_all($pool).await?;
                    rows
                }};
            }
            let rows = match &self.db {
                super::Db::Sqlite(pool) => latest_on!(pool),
                super::Db::Postgres(pool) => latest_on!(pool),
            };
            out.extend(rows);
        }
        Ok(out)
    }
}
