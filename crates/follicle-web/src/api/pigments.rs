//! Pigment products, batches and stock, and the recall query.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Id, JsonBody, QueryArgs, SignedIn};
use crate::state::AppState;
use crate::wire::{
    NewPigmentBatch, NewPigmentProduct, PigmentBatchAnswer, PigmentProductAnswer, RecallEntryAnswer,
};

/// The clinic's pigment products.
#[utoipa::path(get, path = "/pigments/products", tag = "pigments",
    responses((status = 200, body = Vec<PigmentProductAnswer>), (status = 401, body = ErrorBody)))]
pub async fn products(
    State(state): State<AppState>,
    me: SignedIn,
) -> ApiResult<Json<Vec<PigmentProductAnswer>>> {
    let found = state.store().pigment_products(&me.actor).await?;
    Ok(Json(found.into_iter().map(Into::into).collect()))
}

/// Adds a pigment product.
#[utoipa::path(post, path = "/pigments/products", tag = "pigments", request_body = NewPigmentProduct,
    responses((status = 201, body = PigmentProductAnswer), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_product(
    State(state): State<AppState>,
    me: SignedIn,
    JsonBody(body): JsonBody<NewPigmentProduct>,
) -> ApiResult<(StatusCode, Json<PigmentProductAnswer>)> {
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .store()
                .add_pigment_product(&me.actor, &body.into())
                .await?
                .into(),
        ),
    ))
}

/// The clinic's pigment batches.
#[utoipa::path(get, path = "/pigments/batches", tag = "pigments",
    responses((status = 200, body = Vec<PigmentBatchAnswer>), (status = 403, body = ErrorBody)))]
pub async fn batches(
    State(state): State<AppState>,
    me: SignedIn,
) -> ApiResult<Json<Vec<PigmentBatchAnswer>>> {
    let found = state.store().pigment_batches(&me.actor).await?;
    Ok(Json(found.into_iter().map(Into::into).collect()))
}

/// Adds a batch (lot) of a product.
#[utoipa::path(post, path = "/pigments/batches", tag = "pigments", request_body = NewPigmentBatch,
    responses((status = 201, body = PigmentBatchAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_batch(
    State(state): State<AppState>,
    me: SignedIn,
    JsonBody(body): JsonBody<NewPigmentBatch>,
) -> ApiResult<(StatusCode, Json<PigmentBatchAnswer>)> {
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .store()
                .add_pigment_batch(&me.actor, &body.into())
                .await?
                .into(),
        ),
    ))
}

/// One batch.
#[utoipa::path(get, path = "/pigments/batches/{id}", tag = "pigments",
    params(("id" = Uuid, Path, description = "The batch")),
    responses((status = 200, body = PigmentBatchAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn batch(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
) -> ApiResult<Json<PigmentBatchAnswer>> {
    Ok(Json(state.store().pigment_batch(&me.actor, id).await?.into()))
}

/// A change of stock.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockChange {
    /// Units added (positive) or used or discarded (negative); stock never goes below 0.
    pub delta: i64,
}

/// Changes a batch's stock.
#[utoipa::path(post, path = "/pigments/batches/{id}/stock", tag = "pigments", request_body = StockChange,
    params(("id" = Uuid, Path, description = "The batch")),
    responses((status = 200, body = PigmentBatchAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn adjust_stock(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
    JsonBody(body): JsonBody<StockChange>,
) -> ApiResult<Json<PigmentBatchAnswer>> {
    Ok(Json(
        state
            .store()
            .adjust_batch_quantity(&me.actor, id, body.delta)
            .await?
            .into(),
    ))
}

/// A page of a batch's recall.
#[derive(Debug, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RecallArgs {
    /// Sessions a page, 1–500 (default 100).
    #[serde(default)]
    #[param(minimum = 1, maximum = 500)]
    #[schema(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// The page after this one, as given in the previous page's `Link` header (`rel="next"`).
    #[serde(default)]
    #[param(max_length = 2000)]
    #[schema(max_length = 2000)]
    pub cursor: Option<String>,
}

/// The recall: every client who received this batch, with how to reach them, by name and
/// day, a page at a time (the next page's address in the `Link` header; audited).
#[utoipa::path(get, path = "/pigments/batches/{id}/recall", tag = "pigments",
    params(("id" = Uuid, Path, description = "The batch"), RecallArgs),
    responses(
        (status = 200, body = Vec<RecallEntryAnswer>, headers(
            ("Link" = String, description = "With more sessions to list: `</api/v1/pigments/batches/…/recall?limit=…&cursor=…>; rel=\"next\"`, the next page"))),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn recall(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
    QueryArgs(q): QueryArgs<RecallArgs>,
) -> ApiResult<(HeaderMap, Json<Vec<RecallEntryAnswer>>)> {
    let limit = q.limit.unwrap_or(100);
    let page = state
        .store()
        .recall_page(&me.actor, id, q.cursor.as_deref(), limit)
        .await?;
    let headers = super::next_page_link(
        &format!("/api/v1/pigments/batches/{id}/recall"),
        limit,
        page.next.as_deref(),
    );
    Ok((headers, Json(page.entries.into_iter().map(Into::into).collect())))
}
