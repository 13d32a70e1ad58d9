//! Payments at the front desk (issue 14, item 1) and the receipts handed over for them
//! (issue 15, item 4).
//!
//! A payment is recorded as taken (with its method) or as due (a deposit asked for, a balance
//! to take at the next visit); a due one is later taken or cancelled. Amounts are in the
//! currency's minor units (pence, cents), so £249.50 is 24950.
//!
//! Taking a payment issues its receipt in the same transaction: the clinic's next receipt
//! number (one running sequence per clinic, no gaps), what the receipt says as handed over
//! ([`Receipt`]: the letterhead, the client, the money, the quote it counts towards and what
//! is paid of it so far) and its PDF, byte for byte, with the PDF's SHA-256. From then on the
//! payment never changes (a database trigger refuses it); a mistake is put right by a refund,
//! which is a payment of its own with its own receipt. A refund may not give back more than
//! the client has paid.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::portal::PortalClient;
use super::{Store, audit_insert, now, on_db};
use crate::auth::Actor;
use crate::error::{StoreError, StoreResult};
use crate::model::{AuditAction, PaymentKind, PaymentMethod};
use crate::role::Action;

/// The most a single payment may be, in minor units (1,000,000.00): a typo guard, far above
/// any SMP course.
pub const PAYMENT_MAX_MINOR: i64 = 100_000_000;
/// The most characters of a payment's note (one line, as every one-line field).
pub const PAYMENT_NOTE_CHARS: usize = crate::validate::MAX_LINE_CHARS;

/// Who issues a receipt: the clinic's name and the lines under it (address, contact,
/// registration), as printed on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptIssuer {
    /// The clinic's name as its clients see it.
    pub clinic: String,
    /// The lines under it.
    pub lines: Vec<String>,
}

/// What a receipt says, kept as handed over: everything printed on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// The clinic's running number (printed `R-00001`).
    pub number: i64,
    /// When the money was taken.
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    /// The clinic, as printed.
    pub issuer: ReceiptIssuer,
    /// The client's name.
    pub client_name: String,
    /// What it was for.
    pub kind: PaymentKind,
    /// The amount, minor units.
    pub amount: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// How it was paid.
    pub method: PaymentMethod,
    /// The start of the visit it was taken for (the diary's wall clock), if any.
    #[serde(with = "time::serde::rfc3339::option")]
    pub visit: Option<OffsetDateTime>,
    /// The quote it counts towards, if any.
    pub quote_number: Option<i64>,
    /// That quote's total, minor units.
    pub quote_total: Option<i64>,
    /// What the client has paid towards that quote with this payment (refunds taken off),
    /// minor units.
    pub paid_towards_quote: Option<i64>,
    /// The note the desk wrote.
    pub note: String,
    /// Who took it.
    pub taken_by: String,
}

/// A payment to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayment {
    /// The client.
    pub client_id: Uuid,
    /// The visit it is for, if any (one of the client's).
    pub appointment_id: Option<Uuid>,
    /// What for.
    pub kind: PaymentKind,
    /// The amount, minor units (1 to [`PAYMENT_MAX_MINOR`]).
    pub amount: i64,
    /// ISO 4217 code (three capital letters).
    pub currency: String,
    /// The quote it counts towards (one of the client's) and that quote's total, minor units.
    pub quote: Option<(i64, i64)>,
    /// A note (at most [`PAYMENT_NOTE_CHARS`] characters, one line).
    pub note: String,
    /// Taken now, by this method; `None`: recorded as due.
    pub paid: Option<PaymentMethod>,
}

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentState {
    /// Taken, with a receipt.
    Paid,
    /// Still to take.
    Due,
    /// Was due, and will not be taken.
    Cancelled,
}

/// A payment, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Payment {
    /// Its id.
    pub id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// The visit it is for.
    pub appointment_id: Option<Uuid>,
    /// What for.
    pub kind: PaymentKind,
    /// The amount, minor units.
    pub amount: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// The quote it counts towards.
    pub quote_number: Option<i64>,
    /// That quote's total, minor units.
    pub quote_total: Option<i64>,
    /// The desk's note.
    pub note: String,
    /// When it was recorded.
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
    /// Who recorded it.
    pub recorded_by: Uuid,
    /// How it was paid, once it is.
    pub method: Option<PaymentMethod>,
    /// When it was taken.
    #[serde(with = "time::serde::rfc3339::option")]
    pub paid_at: Option<OffsetDateTime>,
    /// Who took it.
    pub paid_by: Option<Uuid>,
    /// Its receipt, once taken.
    pub receipt: Option<Receipt>,
    /// The SHA-256 of the receipt's PDF, hex.
    pub receipt_sha256: Option<String>,
    /// When a due payment was cancelled.
    #[serde(with = "time::serde::rfc3339::option")]
    pub cancelled_at: Option<OffsetDateTime>,
    /// Who cancelled it.
    pub cancelled_by: Option<Uuid>,
    /// Why.
    pub cancel_reason: Option<String>,
}

impl Payment {
    /// Where it stands.
    pub fn state(&self) -> PaymentState {
        if self.paid_at.is_some() {
            PaymentState::Paid
        } else if self.cancelled_at.is_some() {
            PaymentState::Cancelled
        } else {
            PaymentState::Due
        }
    }

    /// The money it moves towards the clinic: the amount, negative for a refund, nothing
    /// until paid.
    pub fn taken(&self) -> i64 {
        match (self.state(), self.kind) {
            (PaymentState::Paid, PaymentKind::Refund) => -self.amount,
            (PaymentState::Paid, _) => self.amount,
            _ => 0,
        }
    }
}

/// A receipt number as printed: `R-` and the clinic's running number.
pub fn receipt_label(number: i64) -> String {
    format!("R-{number:05}")
}

const PAYMENT_COLS: &str = "id, client_id, appointment_id, kind, amount, currency, quote_number, note, recorded_at, \
     recorded_by, method, paid_at, paid_by, receipt, receipt_sha256, cancelled_at, cancelled_by, cancel_reason, quote_total";

/// A client's payments, latest first (the client's record, the payments page).
pub(super) const CLIENT_PAYMENTS: &str = "SELECT id, client_id, appointment_id, kind, amount, currency, quote_number, note, \
     recorded_at, recorded_by, method, paid_at, paid_by, receipt, receipt_sha256, cancelled_at, cancelled_by, \
     cancel_reason, quote_total FROM payments WHERE clinic_id = $1 AND client_id = $2 \
     ORDER BY recorded_at DESC, id LIMIT 500";
/// A visit's payments, latest first.
const VISIT_PAYMENTS: &str = "SELECT id, client_id, appointment_id, kind, amount, currency, quote_number, note, \
     recorded_at, recorded_by, method, paid_at, paid_by, receipt, receipt_sha256, cancelled_at, cancelled_by, \
     cancel_reason, quote_total FROM payments WHERE clinic_id = $1 AND appointment_id = $2 \
     ORDER BY recorded_at DESC, id LIMIT 500";
/// The payments due of a clinic, summed by client and currency (the Today page).
pub(super) const DUE_PAYMENTS: &str = "SELECT client_id, currency, CAST(SUM(amount) AS BIGINT) FROM payments \
     WHERE clinic_id = $1 AND paid_at IS NULL AND cancelled_at IS NULL \
     GROUP BY client_id, currency LIMIT $2";

/// A payment's row (19 columns: more than sqlx's tuples), read column by column on either
/// backend.
macro_rules! payment_row {
    ($r:expr) => {{
        use sqlx::Row;
        let r = $r;
        let kind: String = r.try_get(3)?;
        let method: Option<String> = r.try_get(10)?;
        let receipt: Option<Json<Receipt>> = r.try_get(13)?;
        Ok::<(Payment, String, Option<String>), sqlx::Error>((
            Payment {
                id: r.try_get(0)?,
                client_id: r.try_get(1)?,
                appointment_id: r.try_get(2)?,
                kind: PaymentKind::Other,
                amount: r.try_get(4)?,
                currency: r.try_get(5)?,
                quote_number: r.try_get(6)?,
                note: r.try_get(7)?,
                recorded_at: r.try_get(8)?,
                recorded_by: r.try_get(9)?,
                method: None,
                paid_at: r.try_get(11)?,
                paid_by: r.try_get(12)?,
                receipt: receipt.map(|j| j.0),
                receipt_sha256: r.try_get(14)?,
                cancelled_at: r.try_get(15)?,
                cancelled_by: r.try_get(16)?,
                cancel_reason: r.try_get(17)?,
                quote_total: r.try_get(18)?,
            },
            kind,
            method,
        ))
    }};
}

/// The stored words of a row, parsed.
fn finish(row: (Payment, String, Option<String>)) -> StoreResult<Payment> {
    let (mut p, kind, method) = row;
    p.kind = PaymentKind::parse(&kind).map_err(|e| StoreError::Internal(format!("stored payment: {e}")))?;
    p.method = method
        .as_deref()
        .map(PaymentMethod::parse)
        .transpose()
        .map_err(|e| StoreError::Internal(format!("stored payment: {e}")))?;
    Ok(p)
}

/// Checks a payment's amount, currency and note, naming the field.
fn check_new(p: &NewPayment) -> StoreResult<(String, String)> {
    if !(1..=PAYMENT_MAX_MINOR).contains(&p.amount) {
        return Err(StoreError::invalid(
            "amount",
            format!(
                "must be more than 0 and at most {}, got {}",
                PAYMENT_MAX_MINOR / 100,
                minor_decimal(p.amount)
            ),
        ));
    }
    let currency = p.currency.trim().to_owned();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(StoreError::invalid(
            "currency",
            format!("expected a three-letter ISO 4217 code such as GBP or EUR, got {currency:?}"),
        ));
    }
    let note = crate::validate::line("note", &p.note, true)?;
    if p.kind == PaymentKind::Refund && p.paid.is_none() {
        return Err(StoreError::invalid(
            "method",
            "a refund is recorded as it is given: choose how the money went back",
        ));
    }
    if let Some((number, total)) = p.quote
        && (number < 1 || total < 0)
    {
        return Err(StoreError::invalid(
            "quote",
            format!("quote {number} with total {total} cannot be right"),
        ));
    }
    Ok((currency, note))
}

/// Minor units as a plain decimal (`249.50`, `-25.50`): error messages and spreadsheets.
pub fn minor_decimal(amount: i64) -> String {
    let sign = if amount < 0 { "-" } else { "" };
    format!(
        "{sign}{}.{:02}",
        (amount / 100).unsigned_abs(),
        (amount % 100).unsigned_abs()
    )
}

/// Hex SHA-256.
fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The facts of a receipt the transaction looks up: the client's name, the taker's name, the
/// visit's start, and what the client has paid towards the quote before this payment.
type ReceiptFacts = (String, String, Option<OffsetDateTime>, i64);

/// Reads, inside a transaction, what a receipt needs besides the payment; allocates the
/// receipt number; renders the receipt. Gives the receipt, its PDF and the PDF's digest, for
/// the caller to write with the payment in one statement (the table's checks want a payment
/// taken and its receipt together).
macro_rules! issue_receipt {
    ($tx:expr, $actor:expr, $payment:expr, $issuer:expr, $render:expr, $at:expr) => {{
        let p: &Payment = $payment;
        // The counter first: the transaction's first statement writes, so two desks taking a
        // payment at once queue on SQLite's write lock instead of failing to upgrade a read.
        let (number,): (i64,) = sqlx::query_as(
            "INSERT INTO receipt_numbers (clinic_id, last_number) VALUES ($1, 1) \
             ON CONFLICT (clinic_id) DO UPDATE SET last_number = receipt_numbers.last_number + 1 \
             RETURNING last_number",
        )
        .bind($actor.clinic_id)
        .fetch_one(&mut *$tx)
        .await?;
        let (client_name,): (String,) =
            sqlx::query_as("SELECT name FROM clients WHERE clinic_id = $1 AND id = $2")
                .bind($actor.clinic_id)
                .bind(p.client_id)
                .fetch_one(&mut *$tx)
                .await?;
        let taker: Option<(String,)> =
            sqlx::query_as("SELECT name FROM users WHERE clinic_id = $1 AND id = $2")
                .bind($actor.clinic_id)
                .bind($actor.user_id)
                .fetch_optional(&mut *$tx)
                .await?;
        let visit: Option<(OffsetDateTime,)> = match p.appointment_id {
            Some(a) => {
                sqlx::query_as("SELECT starts_at FROM appointments WHERE clinic_id = $1 AND id = $2")
                    .bind($actor.clinic_id)
                    .bind(a)
                    .fetch_optional(&mut *$tx)
                    .await?
            }
            None => None,
        };
        let before: i64 = match p.quote_number {
            Some(q) => {
                let (sum,): (Option<i64>,) = sqlx::query_as(
                    "SELECT CAST(SUM(CASE WHEN kind = 'refund' THEN -amount ELSE amount END) AS BIGINT) \
                     FROM payments WHERE clinic_id = $1 AND client_id = $2 AND quote_number = $3 \
                     AND paid_at IS NOT NULL AND id <> $4",
                )
                .bind($actor.clinic_id)
                .bind(p.client_id)
                .bind(q)
                .bind(p.id)
                .fetch_one(&mut *$tx)
                .await?;
                sum.unwrap_or(0)
            }
            None => 0,
        };
        let facts: ReceiptFacts = (
            client_name,
            taker.map(|t| t.0).unwrap_or_default(),
            visit.map(|v| v.0),
            before,
        );
        let receipt = Store::receipt_of(p, number, $at, $issuer, facts)?;
        let pdf =
            ($render)(&receipt).map_err(|e: String| StoreError::Internal(format!("the receipt: {e}")))?;
        let digest = sha256_hex(&pdf);
        (receipt, pdf, digest)
    }};
}

impl Store {
    fn receipt_of(
        p: &Payment,
        number: i64,
        at: OffsetDateTime,
        issuer: &ReceiptIssuer,
        facts: ReceiptFacts,
    ) -> StoreResult<Receipt> {
        let (client_name, taken_by, visit, before) = facts;
        let method = p
            .method
            .ok_or_else(|| StoreError::Internal("a receipt for a payment not taken".to_owned()))?;
        let this = match p.kind {
            PaymentKind::Refund => -p.amount,
            _ => p.amount,
        };
        Ok(Receipt {
            number,
            issued_at: at,
            issuer: issuer.clone(),
            client_name,
            kind: p.kind,
            amount: p.amount,
            currency: p.currency.clone(),
            method,
            visit,
            quote_number: p.quote_number,
            quote_total: p.quote_total,
            paid_towards_quote: p.quote_number.map(|_| before + this),
            note: p.note.clone(),
            taken_by,
        })
    }

    /// The desk records a payment for a client: taken now (its receipt issued, rendered by
    /// `render` from what it says, in the same transaction) or due. Refused, naming the field:
    /// an amount out of range, a currency that is not a code, a visit or quote that is not the
    /// client's, a refund of more than the client has paid. Audited.
    pub async fn take_payment<F>(
        &self,
        actor: &Actor,
        new: &NewPayment,
        issuer: &ReceiptIssuer,
        render: F,
    ) -> StoreResult<Payment>
    where
        F: FnOnce(&Receipt) -> Result<Vec<u8>, String> + Send,
    {
        actor.require(Action::TakePayments)?;
        let (currency, note) = check_new(new)?;
        self.ensure_client(actor, new.client_id).await?;
        if let Some(a) = new.appointment_id {
            let found: Option<(Uuid,)> = on_db!(self, pool => {
                sqlx::query_as("SELECT id FROM appointments WHERE clinic_id = $1 AND client_id = $2 AND id = $3")
                    .bind(actor.clinic_id).bind(new.client_id).bind(a).fetch_optional(pool).await?
            });
            if found.is_none() {
                return Err(StoreError::invalid(
                    "appointment",
                    "not one of this client's visits",
                ));
            }
        }
        if let Some((number, _)) = new.quote {
            let found: Option<(i64,)> = on_db!(self, pool => {
                sqlx::query_as(
                    "SELECT quote_number FROM consultations WHERE clinic_id = $1 AND client_id = $2 AND quote_number = $3 \
                     UNION SELECT quote_number FROM designs WHERE clinic_id = $1 AND client_id = $2 AND quote_number = $3",
                )
                .bind(actor.clinic_id).bind(new.client_id).bind(number).fetch_optional(pool).await?
            });
            if found.is_none() {
                return Err(StoreError::invalid(
                    "quote",
                    format!("quote {number} is not one of this client's quotes"),
                ));
            }
        }
        let at = now();
        let mut payment = Payment {
            id: Uuid::new_v4(),
            client_id: new.client_id,
            appointment_id: new.appointment_id,
            kind: new.kind,
            amount: new.amount,
            currency,
            quote_number: new.quote.map(|q| q.0),
            quote_total: new.quote.map(|q| q.1),
            note,
            recorded_at: at,
            recorded_by: actor.user_id,
            method: new.paid,
            paid_at: new.paid.map(|_| at),
            paid_by: new.paid.map(|_| actor.user_id),
            receipt: None,
            receipt_sha256: None,
            cancelled_at: None,
            cancelled_by: None,
            cancel_reason: None,
        };
        let detail = format!(
            "payment recorded: {} {} {}",
            payment.kind,
            minor_decimal(payment.amount),
            if payment.paid_at.is_some() { "taken" } else { "due" }
        );
        let issued = on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            let issued = if payment.paid_at.is_some() {
                Some(issue_receipt!(tx, actor, &payment, issuer, render, at))
            } else {
                None
            };
            if payment.kind == PaymentKind::Refund {
                let (paid,): (Option<i64>,) = sqlx::query_as(
                    "SELECT CAST(SUM(CASE WHEN kind = 'refund' THEN -amount ELSE amount END) AS BIGINT) \
                     FROM payments WHERE clinic_id = $1 AND client_id = $2 AND paid_at IS NOT NULL AND currency = $3",
                )
                .bind(actor.clinic_id).bind(payment.client_id).bind(&payment.currency)
                .fetch_one(&mut *tx).await?;
                let paid = paid.unwrap_or(0);
                if payment.amount > paid {
                    return Err(StoreError::invalid(
                        "amount",
                        format!(
                            "a refund of {} is more than the {} this client has paid",
                            minor_decimal(payment.amount),
                            minor_decimal(paid)
                        ),
                    ));
                }
            }
            let (number, receipt, pdf, digest) = match &issued {
                Some((r, pdf, digest)) => (Some(r.number), Some(Json(r)), Some(pdf.as_slice()), Some(digest.as_str())),
                None => (None, None, None, None),
            };
            sqlx::query(
                "INSERT INTO payments (id, clinic_id, client_id, appointment_id, kind, amount, currency, quote_number, \
                 quote_total, note, recorded_at, recorded_by, method, paid_at, paid_by, receipt_number, receipt, \
                 receipt_pdf, receipt_sha256) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
            )
            .bind(payment.id).bind(actor.clinic_id).bind(payment.client_id).bind(payment.appointment_id)
            .bind(payment.kind.as_str()).bind(payment.amount).bind(&payment.currency).bind(payment.quote_number)
            .bind(payment.quote_total).bind(&payment.note).bind(at).bind(actor.user_id)
            .bind(payment.method.map(PaymentMethod::as_str)).bind(payment.paid_at).bind(payment.paid_by)
            .bind(number).bind(receipt).bind(pdf).bind(digest)
            .execute(&mut *tx).await?;
            let issued = issued.map(|(r, _, digest)| (r, digest));
            audit_insert!(actor, Some(payment.client_id), AuditAction::Created, &detail)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            issued
        });
        if let Some((receipt, digest)) = issued {
            payment.receipt = Some(receipt);
            payment.receipt_sha256 = Some(digest);
        }
        Ok(payment)
    }

    /// A due payment is taken (by `method`): its receipt is issued as in
    /// [`Store::take_payment`]. A payment taken or cancelled already is refused. Audited.
    pub async fn settle_payment<F>(
        &self,
        actor: &Actor,
        payment_id: Uuid,
        method: PaymentMethod,
        issuer: &ReceiptIssuer,
        render: F,
    ) -> StoreResult<Payment>
    where
        F: FnOnce(&Receipt) -> Result<Vec<u8>, String> + Send,
    {
        actor.require(Action::TakePayments)?;
        let mut payment = self.payment(actor, payment_id).await?;
        match payment.state() {
            PaymentState::Due => {}
            PaymentState::Paid => {
                return Err(StoreError::invalid("payment", "this payment was taken already"));
            }
            PaymentState::Cancelled => {
                return Err(StoreError::invalid("payment", "this payment was cancelled"));
            }
        }
        let at = now();
        payment.method = Some(method);
        payment.paid_at = Some(at);
        payment.paid_by = Some(actor.user_id);
        let detail = format!(
            "payment taken: {} {}",
            payment.kind,
            minor_decimal(payment.amount)
        );
        let (receipt, digest) = on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            let (receipt, pdf, digest) = issue_receipt!(tx, actor, &payment, issuer, render, at);
            let done = sqlx::query(
                "UPDATE payments SET method = $1, paid_at = $2, paid_by = $3, receipt_number = $4, receipt = $5, \
                 receipt_pdf = $6, receipt_sha256 = $7 \
                 WHERE clinic_id = $8 AND id = $9 AND paid_at IS NULL AND cancelled_at IS NULL",
            )
            .bind(method.as_str()).bind(at).bind(actor.user_id).bind(receipt.number).bind(Json(&receipt))
            .bind(&pdf).bind(&digest).bind(actor.clinic_id).bind(payment.id)
            .execute(&mut *tx).await?.rows_affected();
            if done == 0 {
                return Err(StoreError::Conflict { message: "the payment changed meanwhile; reload the page".to_owned() });
            }
            let issued = (receipt, digest);
            audit_insert!(actor, Some(payment.client_id), AuditAction::Changed, &detail)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            issued
        });
        payment.receipt = Some(receipt);
        payment.receipt_sha256 = Some(digest);
        Ok(payment)
    }

    /// A due payment will not be taken (the visit was called off, the deposit waived), with
    /// the reason. A payment taken already is refused: a refund puts it right. Audited.
    pub async fn cancel_payment(
        &self,
        actor: &Actor,
        payment_id: Uuid,
        reason: &str,
    ) -> StoreResult<Payment> {
        actor.require(Action::TakePayments)?;
        let reason = crate::validate::line("reason", reason, false)?;
        let mut payment = self.payment(actor, payment_id).await?;
        if payment.state() != PaymentState::Due {
            return Err(StoreError::invalid(
                "payment",
                "only a payment still due can be cancelled; a payment taken is put right with a refund",
            ));
        }
        let at = now();
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            let done = sqlx::query(
                "UPDATE payments SET cancelled_at = $1, cancelled_by = $2, cancel_reason = $3 \
                 WHERE clinic_id = $4 AND id = $5 AND paid_at IS NULL AND cancelled_at IS NULL",
            )
            .bind(at).bind(actor.user_id).bind(&reason).bind(actor.clinic_id).bind(payment.id)
            .execute(&mut *tx).await?.rows_affected();
            if done == 0 {
                return Err(StoreError::Conflict { message: "the payment changed meanwhile; reload the page".to_owned() });
            }
            audit_insert!(actor, Some(payment.client_id), AuditAction::Changed, &format!("payment cancelled: {reason}"))
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        payment.cancelled_at = Some(at);
        payment.cancelled_by = Some(actor.user_id);
        payment.cancel_reason = Some(reason);
        Ok(payment)
    }

    /// One payment of the actor's clinic.
    pub async fn payment(&self, actor: &Actor, payment_id: Uuid) -> StoreResult<Payment> {
        actor.require(Action::TakePayments)?;
        let row = on_db!(self, pool => {
            match sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {PAYMENT_COLS} FROM payments WHERE clinic_id = $1 AND id = $2"
            )))
            .bind(actor.clinic_id).bind(payment_id).fetch_optional(pool).await? {
                Some(r) => Some(payment_row!(r)?),
                None => None,
            }
        });
        finish(row.ok_or_else(|| StoreError::not_found("payment"))?)
    }

    /// A client's payments, latest first (at most 500).
    pub async fn client_payments(&self, actor: &Actor, client_id: Uuid) -> StoreResult<Vec<Payment>> {
        actor.require(Action::TakePayments)?;
        self.ensure_client(actor, client_id).await?;
        self.payments_where(actor.clinic_id, "client_id", client_id).await
    }

    /// The payments taken for one visit, latest first.
    pub async fn appointment_payments(
        &self,
        actor: &Actor,
        appointment_id: Uuid,
    ) -> StoreResult<Vec<Payment>> {
        actor.require(Action::TakePayments)?;
        self.payments_where(actor.clinic_id, "appointment_id", appointment_id)
            .await
    }

    async fn payments_where(
        &self,
        clinic_id: Uuid,
        column: &'static str,
        id: Uuid,
    ) -> StoreResult<Vec<Payment>> {
        let sql = if column == "client_id" {
            CLIENT_PAYMENTS
        } else {
            VISIT_PAYMENTS
        };
        let rows = on_db!(self, pool => {
            let rows = sqlx::query(sql).bind(clinic_id).bind(id).fetch_all(pool).await?;
            rows.into_iter().map(|r| payment_row!(r)).collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        rows.into_iter().map(finish).collect()
    }

    /// A payment's receipt PDF as handed over (a payment not taken has none: not found).
    pub async fn receipt_pdf(&self, actor: &Actor, payment_id: Uuid) -> StoreResult<(Payment, Vec<u8>)> {
        let payment = self.payment(actor, payment_id).await?;
        let pdf = self
            .stored_receipt(actor.clinic_id, payment.client_id, payment_id)
            .await?;
        Ok((payment, pdf.ok_or_else(|| StoreError::not_found("receipt"))?))
    }

    async fn stored_receipt(
        &self,
        clinic_id: Uuid,
        client_id: Uuid,
        payment_id: Uuid,
    ) -> StoreResult<Option<Vec<u8>>> {
        let row: Option<(Option<Vec<u8>>,)> = on_db!(self, pool => {
            sqlx::query_as("SELECT receipt_pdf FROM payments WHERE clinic_id = $1 AND client_id = $2 AND id = $3")
                .bind(clinic_id).bind(client_id).bind(payment_id).fetch_optional(pool).await?
        });
        Ok(row.and_then(|r| r.0))
    }

    /// A payment and its receipt PDF, for the copy mailed to the client (the server's worker,
    /// no user acting); `None` when it is gone or has no receipt.
    pub async fn receipt_copy(
        &self,
        clinic_id: Uuid,
        client_id: Uuid,
        payment_id: Uuid,
    ) -> StoreResult<Option<(Receipt, Vec<u8>)>> {
        type ReceiptRow = (Option<Json<Receipt>>, Option<Vec<u8>>);
        let row: Option<ReceiptRow> = on_db!(self, pool => {
            sqlx::query_as(
                "SELECT receipt, receipt_pdf FROM payments WHERE clinic_id = $1 AND client_id = $2 AND id = $3",
            )
            .bind(clinic_id).bind(client_id).bind(payment_id).fetch_optional(pool).await?
        });
        Ok(match row {
            Some((Some(receipt), Some(pdf))) => Some((receipt.0, pdf)),
            _ => None,
        })
    }

    /// The client's latest quote (the newest design or consultation that has one): its
    /// number and the quote as issued, for the desk that takes the payments (money only, no
    /// clinical detail).
    pub async fn latest_quote(
        &self,
        actor: &Actor,
        client_id: Uuid,
    ) -> StoreResult<Option<(i64, crate::record::QuoteRecord)>> {
        actor.require(Action::TakePayments)?;
        self.ensure_client(actor, client_id).await?;
        type QuoteRow = (OffsetDateTime, i64, i64, Json<serde_json::Value>);
        let (design, consultation): (Option<QuoteRow>, Option<QuoteRow>) = on_db!(self, pool => {
            let design = sqlx::query_as(
                "SELECT created_at, quote_number, schema_version, plan FROM designs \
                 WHERE clinic_id = $1 AND client_id = $2 AND quote_number IS NOT NULL AND plan IS NOT NULL \
                 ORDER BY created_at DESC, version DESC LIMIT 1",
            )
            .bind(actor.clinic_id).bind(client_id).fetch_optional(pool).await?;
            let consultation = sqlx::query_as(
                "SELECT created_at, quote_number, schema_version, plan FROM consultations \
                 WHERE clinic_id = $1 AND client_id = $2 AND quote_number IS NOT NULL \
                 ORDER BY created_at DESC, version DESC LIMIT 1",
            )
            .bind(actor.clinic_id).bind(client_id).fetch_optional(pool).await?;
            (design, consultation)
        });
        let newest = match (design, consultation) {
            (Some(d), Some(c)) => Some(if d.0 >= c.0 { d } else { c }),
            (d, c) => d.or(c),
        };
        let Some((_, number, version, plan)) = newest else {
            return Ok(None);
        };
        let plan = crate::record::read_plan(version, plan.0)?;
        Ok(plan.quote.map(|q| (number, q)))
    }

    #[cfg(feature = "testing")]
    /// For tests (`testing`): tries to change a payment's amount through SQL, as someone with
    /// access to the database might.
    pub(crate) async fn change_payment_amount(&self, id: Uuid) -> StoreResult<()> {
        on_db!(self, pool => {
            sqlx::query("UPDATE payments SET amount = amount + 1 WHERE id = $1").bind(id).execute(pool).await?;
        });
        Ok(())
    }

    /// What these clients have due (recorded, not taken, not cancelled), by client and
    /// currency, minor units: the Today page's "due" beside a visit. One grouped read over the
    /// due payments' index, however long the clinic's history.
    pub async fn due_payments(
        &self,
        actor: &Actor,
        client_ids: &[Uuid],
    ) -> StoreResult<std::collections::HashMap<Uuid, Vec<(String, i64)>>> {
        actor.require(Action::TakePayments)?;
        let mut out: std::collections::HashMap<Uuid, Vec<(String, i64)>> = std::collections::HashMap::new();
        if client_ids.is_empty() {
            return Ok(out);
        }
        let rows: Vec<(Uuid, String, i64)> = on_db!(self, pool => {
            sqlx::query_as(DUE_PAYMENTS).bind(actor.clinic_id).bind(10_000_i64).fetch_all(pool).await?
        });
        for (client, currency, amount) in rows {
            if client_ids.contains(&client) {
                out.entry(client).or_default().push((currency, amount));
            }
        }
        Ok(out)
    }

    // ----- the client, in their portal -----

    /// The signed-in client's payments that are taken or due (not cancelled), latest first.
    pub async fn own_payments(&self, me: &PortalClient) -> StoreResult<Vec<Payment>> {
        let all = self
            .payments_where(me.clinic_id, "client_id", me.client_id)
            .await?;
        Ok(all
            .into_iter()
            .filter(|p| p.state() != PaymentState::Cancelled)
            .collect())
    }

    /// One of the signed-in client's receipts and its PDF; another client's is not found.
    pub async fn own_receipt(&self, me: &PortalClient, payment_id: Uuid) -> StoreResult<(Receipt, Vec<u8>)> {
        self.receipt_copy(me.clinic_id, me.client_id, payment_id)
            .await?
            .ok_or_else(|| StoreError::not_found("receipt"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(amount: i64, currency: &str, kind: PaymentKind, paid: Option<PaymentMethod>) -> NewPayment {
        NewPayment {
            client_id: Uuid::nil(),
            appointment_id: None,
            kind,
            amount,
            currency: currency.to_owned(),
            quote: None,
            note: String::new(),
            paid,
        }
    }

    fn field(r: StoreResult<(String, String)>) -> (&'static str, String) {
        match r {
            Err(StoreError::Invalid { field, message }) => (field, message),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_payment_is_checked_by_field() {
        let card = Some(PaymentMethod::Card);
        assert_eq!(
            check_new(&new(50_000, "GBP", PaymentKind::Deposit, card)).unwrap(),
            ("GBP".to_owned(), String::new())
        );
        assert_eq!(
            field(check_new(&new(0, "GBP", PaymentKind::Deposit, card))),
            (
                "amount",
                "must be more than 0 and at most 1000000, got 0.00".to_owned()
            )
        );
        assert_eq!(
            field(check_new(&new(-2_550, "GBP", PaymentKind::Deposit, card))).1,
            "must be more than 0 and at most 1000000, got -25.50"
        );
        assert_eq!(
            field(check_new(&new(
                PAYMENT_MAX_MINOR + 1,
                "GBP",
                PaymentKind::Deposit,
                card
            )))
            .0,
            "amount"
        );
        assert_eq!(
            field(check_new(&new(100, "gbp", PaymentKind::Deposit, card))),
            (
                "currency",
                "expected a three-letter ISO 4217 code such as GBP or EUR, got \"gbp\"".to_owned()
            )
        );
        assert_eq!(
            field(check_new(&new(100, "GBP", PaymentKind::Refund, None))).0,
            "method"
        );
        let mut long = new(100, "GBP", PaymentKind::Other, card);
        long.note = "x".repeat(PAYMENT_NOTE_CHARS + 1);
        assert_eq!(
            field(check_new(&long)).1,
            format!(
                "at most {PAYMENT_NOTE_CHARS} characters, got {}",
                PAYMENT_NOTE_CHARS + 1
            )
        );
    }

    #[test]
    fn a_payment_states_and_money_taken() {
        let mut p = Payment {
            id: Uuid::nil(),
            client_id: Uuid::nil(),
            appointment_id: None,
            kind: PaymentKind::Deposit,
            amount: 30_000,
            currency: "GBP".into(),
            quote_number: None,
            quote_total: None,
            note: String::new(),
            recorded_at: OffsetDateTime::UNIX_EPOCH,
            recorded_by: Uuid::nil(),
            method: None,
            paid_at: None,
            paid_by: None,
            receipt: None,
            receipt_sha256: None,
            cancelled_at: None,
            cancelled_by: None,
            cancel_reason: None,
        };
        assert_eq!((p.state(), p.taken()), (PaymentState::Due, 0));
        p.paid_at = Some(OffsetDateTime::UNIX_EPOCH);
        assert_eq!((p.state(), p.taken()), (PaymentState::Paid, 30_000));
        p.kind = PaymentKind::Refund;
        assert_eq!(p.taken(), -30_000);
        assert_eq!(receipt_label(7), "R-00007");
        assert_eq!(minor_decimal(24_950), "249.50");
    }
}
