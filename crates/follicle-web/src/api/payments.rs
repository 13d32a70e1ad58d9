//! Payments and their receipts (issues 14 and 15): the same as the studio's payments page —
//! a client's payments, one taken or recorded as due, a due one taken or cancelled, and a
//! receipt's PDF as handed over.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use follicle_store::{NewPayment, receipt_label};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Id, JsonBody, SignedIn};
use crate::state::AppState;
use crate::wire::{PaymentAnswer, PaymentKind, PaymentMethod};

fn yes() -> bool {
    true
}

/// A payment to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPaymentBody {
    /// What it is for.
    pub kind: PaymentKind,
    /// The amount in the currency's minor units (pence, cents): 1 to 100,000,000.
    #[schema(minimum = 1, maximum = 100_000_000)]
    pub amount_minor: i64,
    /// How it was paid; absent or null: recorded as due (a refund is always given at once).
    #[serde(default)]
    pub method: Option<PaymentMethod>,
    /// The visit it is for (one of the client's).
    #[serde(default)]
    pub appointment_id: Option<Uuid>,
    /// Whether it counts towards the client's latest quote (when they have one; its currency
    /// is the payment's, otherwise the clinic's `pricing.currency`).
    #[serde(default = "yes")]
    pub towards_quote: bool,
    /// A note printed on the receipt, one line.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub note: String,
    /// Email the receipt to the client once taken (when they have an email address).
    #[serde(default)]
    pub email_receipt: bool,
}

/// Taking a payment that was due.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettleBody {
    /// How it was paid.
    pub method: PaymentMethod,
    /// Email the receipt to the client (when they have an email address).
    #[serde(default)]
    pub email_receipt: bool,
}

/// Cancelling a payment that was due.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    /// Why it will not be taken.
    #[schema(min_length = 1, max_length = 200)]
    pub reason: String,
}

/// A client's payments, latest first.
#[utoipa::path(get, path = "/clients/{id}/payments", tag = "payments",
    params(("id" = Uuid, Path, description = "The client")),
    responses((status = 200, body = Vec<PaymentAnswer>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn payments(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
) -> ApiResult<Json<Vec<PaymentAnswer>>> {
    let found = state.store().client_payments(&me.actor, id).await?;
    Ok(Json(found.into_iter().map(Into::into).collect()))
}

/// Takes a payment (with its method) or records it as due. Taking one issues its numbered
/// receipt, kept byte for byte. Refused by field: an amount out of range, a visit or quote not
/// the client's, a refund of more than the client has paid.
#[utoipa::path(post, path = "/clients/{id}/payments", tag = "payments", request_body = NewPaymentBody,
    params(("id" = Uuid, Path, description = "The client")),
    responses((status = 201, body = PaymentAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn take(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
    JsonBody(body): JsonBody<NewPaymentBody>,
) -> ApiResult<(StatusCode, Json<PaymentAnswer>)> {
    let store = state.store();
    let client = store.client(&me.actor, id).await?;
    let settings = state.clinic_settings(&me.actor).await?;
    let quote = if body.towards_quote {
        store.latest_quote(&me.actor, id).await?
    } else {
        None
    };
    let new = NewPayment {
        client_id: client.id,
        appointment_id: body.appointment_id,
        kind: body.kind.into(),
        amount: body.amount_minor,
        currency: quote
            .as_ref()
            .map_or_else(|| settings.pricing.currency.clone(), |(_, q)| q.currency.clone()),
        quote: quote.as_ref().map(|(n, q)| (*n, q.total * 100)),
        note: body.note,
        paid: body.method.map(Into::into),
    };
    let (issuer, render) = crate::documents::receipt_maker(&state, &me.actor).await?;
    let taken = store.take_payment(&me.actor, &new, &issuer, render).await?;
    if body.email_receipt && taken.receipt.is_some() && !client.email.trim().is_empty() {
        crate::jobs::queue_receipt(&state, &me.actor, client.id, taken.id).await?;
    }
    Ok((StatusCode::CREATED, Json(taken.into())))
}

/// Takes a payment that was due, issuing its receipt.
#[utoipa::path(post, path = "/payments/{id}/settle", tag = "payments", request_body = SettleBody,
    params(("id" = Uuid, Path, description = "The payment")),
    responses((status = 200, body = PaymentAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn settle(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
    JsonBody(body): JsonBody<SettleBody>,
) -> ApiResult<Json<PaymentAnswer>> {
    let store = state.store();
    let (issuer, render) = crate::documents::receipt_maker(&state, &me.actor).await?;
    let taken = store
        .settle_payment(&me.actor, id, body.method.into(), &issuer, render)
        .await?;
    if body.email_receipt {
        let client = store.client(&me.actor, taken.client_id).await?;
        if !client.email.trim().is_empty() {
            crate::jobs::queue_receipt(&state, &me.actor, client.id, taken.id).await?;
        }
    }
    Ok(Json(taken.into()))
}

/// Cancels a payment that was due, with the reason (a payment taken is put right by a refund).
#[utoipa::path(post, path = "/payments/{id}/cancel", tag = "payments", request_body = CancelBody,
    params(("id" = Uuid, Path, description = "The payment")),
    responses((status = 200, body = PaymentAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
    JsonBody(body): JsonBody<CancelBody>,
) -> ApiResult<Json<PaymentAnswer>> {
    Ok(Json(
        state
            .store()
            .cancel_payment(&me.actor, id, &body.reason)
            .await?
            .into(),
    ))
}

/// A payment's receipt as handed over (the PDF kept byte for byte); a payment not taken has
/// none.
#[utoipa::path(get, path = "/payments/{id}/receipt", tag = "payments",
    params(("id" = Uuid, Path, description = "The payment")),
    responses((status = 200, description = "The receipt", content_type = "application/pdf", body = crate::wire::Binary),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn receipt(State(state): State<AppState>, me: SignedIn, Id(id): Id) -> ApiResult<Response> {
    let (payment, pdf) = state.store().receipt_pdf(&me.actor, id).await?;
    let label = payment
        .receipt
        .as_ref()
        .map(|r| receipt_label(r.number))
        .unwrap_or_default();
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"receipt-{label}.pdf\""),
            ),
        ],
        pdf,
    )
        .into_response())
}
