//! Payments at the desk (issue 14, item 1) and their receipts (issue 15, item 4): a client's
//! payments page with the quote they count towards, taking a payment now or recording it as
//! due, taking a due one later, cancelling it, each receipt's PDF as handed over, and emailing
//! it to the client.
//!
//! The form prefills what the desk most often takes: the quote's deposit while none is paid,
//! then what is left of the quote. A refund is a payment of its own (the receipt it answers
//! never changes).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use follicle_core::messages::local;
use follicle_store::{
    Action, Client, NewPayment, Payment, PaymentKind, PaymentMethod, PaymentState, QuoteRecord, StoreError,
    receipt_label,
};
use serde::Deserialize;
use uuid::Uuid;

use super::diary::clock;
use super::today::day;
use super::{FieldErrors, Nav, Page, PageError, PageResult, render_status};
use crate::documents::{method_words, money_minor, payment_words};
use crate::extract::{Id, QueryArgs};
use crate::state::AppState;

/// The choices of "how", in the form's order: a method, or not yet.
const METHODS: [(&str, &str); 5] = [
    ("card", "Card"),
    ("cash", "Cash"),
    ("bank_transfer", "Bank transfer"),
    ("other", "Other"),
    ("due", "Not paid yet: record it as due"),
];

/// The quote a client's payments count towards, in words.
struct QuoteShown {
    label: String,
    total: String,
    deposit: String,
    paid: String,
    left: String,
}

/// One payment, in words.
struct PaymentRow {
    id: Uuid,
    recorded: String,
    what: String,
    amount: String,
    state: &'static str,
    detail: String,
    receipt: String,
}

#[derive(Template)]
#[template(path = "client_payments.html")]
struct PaymentsPage {
    nav: Nav,
    client: Client,
    quote: Option<QuoteShown>,
    rows: Vec<PaymentRow>,
    form: PaymentForm,
    errors: FieldErrors,
    visits: Vec<(String, String)>,
    kinds: Vec<(&'static str, &'static str)>,
    methods: Vec<(&'static str, &'static str)>,
    done: String,
    has_email: bool,
}

/// The form that takes a payment.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct PaymentForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    appointment_id: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    towards_quote: Option<String>,
    #[serde(default)]
    email_receipt: Option<String>,
}

/// The page's query: a visit to take the payment for, and what was just done.
#[derive(Debug, Default, Deserialize)]
pub(super) struct PaymentsQuery {
    #[serde(default)]
    visit: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

/// Reads an amount as typed at a desk (`300`, `249.50`, `£1,250`, `1 250.5`) into minor units.
pub fn parse_amount(text: &str) -> Result<i64, String> {
    let cleaned: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | ' ' | '£' | '€' | '$' | '\u{a0}'))
        .collect();
    let wrong = || format!("expected an amount such as 300 or 249.50, got {:?}", text.trim());
    if cleaned.is_empty() {
        return Err("enter the amount, such as 300 or 249.50".to_owned());
    }
    let (whole, cents) = match cleaned.split_once('.') {
        Some((w, c)) => (w, c),
        None => (cleaned.as_str(), ""),
    };
    if whole.is_empty()
        || whole.len() > 9
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || cents.len() > 2
        || !cents.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(wrong());
    }
    let whole: i64 = whole.parse().map_err(|_| wrong())?;
    let cents: i64 = match cents.len() {
        0 => 0,
        1 => cents.parse::<i64>().map_err(|_| wrong())? * 10,
        _ => cents.parse().map_err(|_| wrong())?,
    };
    Ok(whole * 100 + cents)
}

/// Minor units as the form shows them again: `300` or `249.50`.
fn amount_field(minor: i64) -> String {
    if minor % 100 == 0 {
        (minor / 100).to_string()
    } else {
        format!("{}.{:02}", minor / 100, minor % 100)
    }
}

/// What the client has paid towards a quote (refunds taken off), minor units.
fn paid_towards(payments: &[Payment], number: i64) -> i64 {
    payments
        .iter()
        .filter(|p| p.quote_number == Some(number))
        .map(Payment::taken)
        .sum()
}

fn kinds() -> Vec<(&'static str, &'static str)> {
    PaymentKind::ALL
        .iter()
        .map(|k| (k.as_str(), payment_words(*k)))
        .collect()
}

fn forbidden() -> PageError {
    PageError {
        status: StatusCode::FORBIDDEN,
        message: "Your role does not allow taking payments.".to_owned(),
    }
}

/// The form as the desk most often fills it: the deposit while none is paid, then what is
/// left of the quote; for `visit`, that visit.
fn prefilled(quote: Option<&(i64, QuoteRecord)>, payments: &[Payment], visit: Option<Uuid>) -> PaymentForm {
    let mut form = PaymentForm {
        kind: PaymentKind::Session.as_str().to_owned(),
        method: "card".to_owned(),
        appointment_id: visit.map(|v| v.to_string()).unwrap_or_default(),
        email_receipt: Some("on".to_owned()),
        ..PaymentForm::default()
    };
    if let Some((number, q)) = quote {
        form.towards_quote = Some("on".to_owned());
        let deposit_taken = payments.iter().any(|p| {
            p.kind == PaymentKind::Deposit
                && p.quote_number == Some(*number)
                && p.state() == PaymentState::Paid
        });
        let left = q.total * 100 - paid_towards(payments, *number);
        match q.deposit {
            Some(d) if !deposit_taken && d > 0 => {
                form.kind = PaymentKind::Deposit.as_str().to_owned();
                form.amount = amount_field(d * 100);
            }
            _ if left > 0 => form.amount = amount_field(left),
            _ => {}
        }
    }
    form
}

async fn payments_page(
    state: &AppState,
    page: &Page,
    id: Uuid,
    form: Option<PaymentForm>,
    errors: FieldErrors,
    done: String,
    visit: Option<Uuid>,
) -> PageResult {
    if !page.may(Action::TakePayments) {
        return Err(forbidden());
    }
    let store = state.store();
    let client = store.client(&page.actor, id).await?;
    let payments = store.client_payments(&page.actor, id).await?;
    let quote = store.latest_quote(&page.actor, id).await?;
    let mut appointments = store.client_appointments(&page.actor, id).await?;
    appointments.sort_by_key(|a| a.starts_at);
    let settings = state.clinic_settings(&page.actor).await?;
    let visit_words = |a: &follicle_store::Appointment| {
        let what = match (a.kind, a.session_index) {
            (follicle_store::AppointmentKind::Session, Some(n)) => format!("session {n}"),
            (kind, _) => kind.as_str().replace('_', " "),
        };
        format!(
            "{} {} · {what}",
            day(a.starts_at.date()),
            clock(a.starts_at.time())
        )
    };
    let rows = payments
        .iter()
        .map(|p| {
            let at = local(&settings, p.recorded_at);
            let mut what = payment_words(p.kind).to_owned();
            if let Some(a) = p
                .appointment_id
                .and_then(|v| appointments.iter().find(|a| a.id == v))
            {
                what.push_str(&format!(" · {}", visit_words(a)));
            }
            if !p.note.is_empty() {
                what.push_str(&format!(" · {}", p.note));
            }
            let (state, detail) = match p.state() {
                PaymentState::Paid => ("paid", p.method.map(method_words).unwrap_or_default().to_owned()),
                PaymentState::Due => ("due", String::new()),
                PaymentState::Cancelled => ("cancelled", p.cancel_reason.clone().unwrap_or_default()),
            };
            PaymentRow {
                id: p.id,
                recorded: format!("{} {}", day(at.date()), clock(at.time())),
                what,
                amount: money_minor(
                    &p.currency,
                    if p.kind == PaymentKind::Refund {
                        -p.amount
                    } else {
                        p.amount
                    },
                ),
                state,
                detail,
                receipt: p
                    .receipt
                    .as_ref()
                    .map(|r| receipt_label(r.number))
                    .unwrap_or_default(),
            }
        })
        .collect();
    let shown = quote.as_ref().map(|(number, q)| {
        let paid = paid_towards(&payments, *number);
        QuoteShown {
            label: crate::wire::quote_label(*number),
            total: crate::wire::money(&q.currency, q.total),
            deposit: q
                .deposit
                .map(|d| crate::wire::money(&q.currency, d))
                .unwrap_or_else(|| "none".to_owned()),
            paid: money_minor(&q.currency, paid),
            left: money_minor(&q.currency, (q.total * 100 - paid).max(0)),
        }
    });
    let form = form.unwrap_or_else(|| prefilled(quote.as_ref(), &payments, visit));
    let status = errors.status();
    render_status(
        status,
        &PaymentsPage {
            nav: Nav::new(page, "clients"),
            has_email: !client.email.trim().is_empty(),
            client,
            quote: shown,
            rows,
            form,
            errors,
            visits: appointments
                .iter()
                .map(|a| (a.id.to_string(), visit_words(a)))
                .collect(),
            kinds: kinds(),
            methods: METHODS.to_vec(),
            done,
        },
    )
}

/// The page again with one refusal beside its field (a payment taken twice, a cancel without
/// a reason…).
async fn refused(state: &AppState, page: &Page, client_id: Uuid, field: &str, message: String) -> PageResult {
    let mut errors = FieldErrors::default();
    errors.add(field, message);
    payments_page(state, page, client_id, None, errors, String::new(), None).await
}

/// The CSRF token and the role's permission, checked first by every form here.
fn check(page: &Page, csrf: &str) -> Result<(), PageError> {
    page.check_csrf(csrf)?;
    if page.may(Action::TakePayments) {
        Ok(())
    } else {
        Err(forbidden())
    }
}

/// A client's payments page.
pub(super) async fn page(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
    QueryArgs(q): QueryArgs<PaymentsQuery>,
) -> PageResult {
    let visit = q.visit.as_deref().and_then(|v| Uuid::parse_str(v).ok());
    let done = match q.done.as_deref() {
        Some("taken") => "Payment taken; its receipt is below.",
        Some("taken-mailed") => "Payment taken; its receipt is below and on its way to the client.",
        Some("due") => "Recorded as due.",
        Some("cancelled") => "The payment due is cancelled.",
        Some("mailed") => "The receipt is on its way to the client.",
        _ => "",
    };
    payments_page(
        &state,
        &page,
        id,
        None,
        FieldErrors::default(),
        done.to_owned(),
        visit,
    )
    .await
}

/// Takes a payment (or records it as due); mistakes are shown beside their fields (422) and
/// nothing is recorded.
pub(super) async fn take(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
    axum::Form(form): axum::Form<PaymentForm>,
) -> PageResult {
    check(&page, &form._csrf)?;
    let store = state.store();
    let client = store.client(&page.actor, id).await?;
    let settings = state.clinic_settings(&page.actor).await?;
    let mut errors = FieldErrors::default();
    let kind = PaymentKind::parse(form.kind.trim())
        .map_err(|_| {
            errors.add(
                "kind",
                format!(
                    "choose what the payment is for: {}",
                    PaymentKind::ALL
                        .iter()
                        .map(|k| payment_words(*k).to_lowercase())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
        .ok();
    let amount = parse_amount(&form.amount)
        .map_err(|e| errors.add("amount", e))
        .ok();
    let paid = match form.method.trim() {
        "due" => Some(None),
        m => PaymentMethod::parse(m)
            .map(Some)
            .map_err(|_| {
                errors.add(
                    "method",
                    "choose card, cash, bank transfer, other, or not paid yet",
                )
            })
            .ok(),
    };
    let appointment_id = match form.appointment_id.trim() {
        "" => Some(None),
        v => Uuid::parse_str(v)
            .map(Some)
            .map_err(|_| errors.add("appointment_id", "choose one of the client's visits, or none"))
            .ok(),
    };
    let quote = if form.towards_quote.is_some() {
        store.latest_quote(&page.actor, id).await?
    } else {
        None
    };
    let currency = quote
        .as_ref()
        .map_or_else(|| settings.pricing.currency.clone(), |(_, q)| q.currency.clone());
    if let (Some(kind), Some(amount), Some(paid), Some(appointment_id)) = (kind, amount, paid, appointment_id)
    {
        let new = NewPayment {
            client_id: client.id,
            appointment_id,
            kind,
            amount,
            currency,
            quote: quote.as_ref().map(|(n, q)| (*n, q.total * 100)),
            note: form.note.clone(),
            paid,
        };
        let (issuer, render) = crate::documents::receipt_maker(&state, &page.actor).await?;
        match store.take_payment(&page.actor, &new, &issuer, render).await {
            Ok(p) => {
                let mail = p.state() == PaymentState::Paid
                    && form.email_receipt.is_some()
                    && !client.email.trim().is_empty();
                if mail {
                    crate::jobs::queue_receipt(&state, &page.actor, client.id, p.id).await?;
                }
                let done = match (p.state(), mail) {
                    (PaymentState::Paid, true) => "taken-mailed",
                    (PaymentState::Paid, false) => "taken",
                    _ => "due",
                };
                return Ok(Redirect::to(&format!("/clients/{id}/payments?done={done}")).into_response());
            }
            Err(StoreError::Invalid { field, message }) => errors.add(field, message),
            Err(e) => return Err(e.into()),
        }
    }
    payments_page(&state, &page, id, Some(form), errors, String::new(), None).await
}

/// The form that takes a due payment.
#[derive(Debug, Deserialize)]
pub(super) struct SettleForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    email_receipt: Option<String>,
}

/// Takes a payment that was due.
pub(super) async fn settle(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
    axum::Form(form): axum::Form<SettleForm>,
) -> PageResult {
    check(&page, &form._csrf)?;
    let store = state.store();
    let payment = store.payment(&page.actor, id).await?;
    let method = match PaymentMethod::parse(form.method.trim()) {
        Ok(m) => m,
        Err(_) => {
            return refused(
                &state,
                &page,
                payment.client_id,
                "method",
                "choose how it was paid: card, cash, bank transfer or other".to_owned(),
            )
            .await;
        }
    };
    let (issuer, render) = crate::documents::receipt_maker(&state, &page.actor).await?;
    match store
        .settle_payment(&page.actor, id, method, &issuer, render)
        .await
    {
        Ok(p) => {
            let client = store.client(&page.actor, p.client_id).await?;
            let mail = form.email_receipt.is_some() && !client.email.trim().is_empty();
            if mail {
                crate::jobs::queue_receipt(&state, &page.actor, p.client_id, p.id).await?;
            }
            let done = if mail { "taken-mailed" } else { "taken" };
            Ok(Redirect::to(&format!("/clients/{}/payments?done={done}", p.client_id)).into_response())
        }
        Err(StoreError::Invalid { field, message }) => {
            refused(&state, &page, payment.client_id, field, message).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The form that cancels a due payment.
#[derive(Debug, Deserialize)]
pub(super) struct CancelForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    reason: String,
}

/// Cancels a payment that was due, with the reason.
pub(super) async fn cancel(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
    axum::Form(form): axum::Form<CancelForm>,
) -> PageResult {
    check(&page, &form._csrf)?;
    let store = state.store();
    let payment = store.payment(&page.actor, id).await?;
    match store.cancel_payment(&page.actor, id, &form.reason).await {
        Ok(p) => {
            Ok(Redirect::to(&format!("/clients/{}/payments?done=cancelled", p.client_id)).into_response())
        }
        Err(StoreError::Invalid { field, message }) => {
            let (field, message) = if field == "reason" {
                (
                    "cancel_reason",
                    "say why the payment will not be taken".to_owned(),
                )
            } else {
                (field, message)
            };
            refused(&state, &page, payment.client_id, field, message).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A receipt's PDF, as handed over.
pub(super) async fn receipt_pdf(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
) -> Result<Response, PageError> {
    if !page.may(Action::TakePayments) {
        return Err(forbidden());
    }
    let (payment, pdf) = state.store().receipt_pdf(&page.actor, id).await?;
    let label = payment
        .receipt
        .as_ref()
        .map(|r| receipt_label(r.number))
        .unwrap_or_else(|| "receipt".to_owned());
    Ok(crate::portal::pdf_answer(&format!("receipt-{label}.pdf"), pdf))
}

/// The CSRF-only form of the email button.
#[derive(Debug, Deserialize)]
pub(super) struct MailForm {
    #[serde(default)]
    _csrf: String,
}

/// Emails a receipt to the client (again).
pub(super) async fn email(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
    axum::Form(form): axum::Form<MailForm>,
) -> PageResult {
    check(&page, &form._csrf)?;
    let store = state.store();
    let payment = store.payment(&page.actor, id).await?;
    let client = store.client(&page.actor, payment.client_id).await?;
    if payment.receipt.is_none() {
        return Err(PageError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: "This payment is not taken yet: it has no receipt to send.".to_owned(),
        });
    }
    if client.email.trim().is_empty() {
        return Err(PageError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: format!(
                "{} has no email address: add one before sending the receipt.",
                client.name
            ),
        });
    }
    crate::jobs::queue_receipt(&state, &page.actor, client.id, payment.id).await?;
    Ok(Redirect::to(&format!("/clients/{}/payments?done=mailed", client.id)).into_response())
}

/// The payments of one visit, for its page: (what, amount, state, receipt label, id).
pub(super) async fn of_visit(
    state: &AppState,
    page: &Page,
    appointment_id: Uuid,
) -> Result<Vec<(String, String, &'static str, String, Uuid)>, PageError> {
    if !page.may(Action::TakePayments) {
        return Ok(Vec::new());
    }
    let payments = state
        .store()
        .appointment_payments(&page.actor, appointment_id)
        .await?;
    Ok(payments
        .iter()
        .map(|p| {
            (
                payment_words(p.kind).to_owned(),
                money_minor(&p.currency, p.amount),
                match p.state() {
                    PaymentState::Paid => "paid",
                    PaymentState::Due => "due",
                    PaymentState::Cancelled => "cancelled",
                },
                p.receipt
                    .as_ref()
                    .map(|r| receipt_label(r.number))
                    .unwrap_or_default(),
                p.id,
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_as_a_desk_types_them() {
        assert_eq!(parse_amount("300"), Ok(30_000));
        assert_eq!(parse_amount(" 249.50 "), Ok(24_950));
        assert_eq!(parse_amount("249.5"), Ok(24_950));
        assert_eq!(parse_amount("£1,250"), Ok(125_000));
        assert_eq!(parse_amount("1 250.05"), Ok(125_005));
        assert_eq!(
            parse_amount("12,5"),
            Ok(12_500),
            "a comma is a thousands separator"
        );
        assert_eq!(
            parse_amount("abc"),
            Err("expected an amount such as 300 or 249.50, got \"abc\"".to_owned())
        );
        assert!(parse_amount("1.234").is_err());
        assert!(parse_amount("-5").is_err());
        assert!(parse_amount("").unwrap_err().starts_with("enter the amount"));
        assert!(parse_amount("1e9").is_err());
        assert_eq!(amount_field(30_000), "300");
        assert_eq!(amount_field(24_950), "249.50");
    }
}
