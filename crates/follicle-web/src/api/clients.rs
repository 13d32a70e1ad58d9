//! Clients and their contact details.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use follicle_store::{Client, NewClient};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Id, JsonBody, QueryArgs, SignedIn};
use crate::state::AppState;

/// A search.
#[derive(Debug, Deserialize, IntoParams, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientSearch {
    /// Part of a name, phone number or email; empty for the most recent clients.
    #[serde(default)]
    pub q: String,
    /// At most this many, 1–200 (default 50).
    #[serde(default)]
    pub limit: Option<i64>,
}

/// Clients matching a name, phone or email.
#[utoipa::path(get, path = "/clients", tag = "clients", params(ClientSearch),
    responses((status = 200, body = Vec<Client>), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    me: SignedIn,
    QueryArgs(q): QueryArgs<ClientSearch>,
) -> ApiResult<Json<Vec<Client>>> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(crate::error::ApiError::invalid(
            "limit",
            format!("expected 1–200, got {limit}"),
        ));
    }
    Ok(Json(state.store().search_clients(&me.actor, &q.q, limit).await?))
}

/// Adds a client.
#[utoipa::path(post, path = "/clients", tag = "clients", request_body = NewClient,
    responses((status = 201, body = Client), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    me: SignedIn,
    JsonBody(body): JsonBody<NewClient>,
) -> ApiResult<(StatusCode, Json<Client>)> {
    Ok((
        StatusCode::CREATED,
        Json(state.store().create_client(&me.actor, &body).await?),
    ))
}

/// A client's contact details (audited as a view).
#[utoipa::path(get, path = "/clients/{id}", tag = "clients",
    params(("id" = uuid::Uuid, Path, description = "The client")),
    responses((status = 200, body = Client), (status = 404, body = ErrorBody)))]
pub async fn get(State(state): State<AppState>, me: SignedIn, Id(id): Id) -> ApiResult<Json<Client>> {
    Ok(Json(state.store().client(&me.actor, id).await?))
}

/// Changes a client's contact details.
#[utoipa::path(put, path = "/clients/{id}", tag = "clients", request_body = NewClient,
    params(("id" = uuid::Uuid, Path, description = "The client")),
    responses((status = 200, body = Client), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
    JsonBody(body): JsonBody<NewClient>,
) -> ApiResult<Json<Client>> {
    Ok(Json(state.store().update_client(&me.actor, id, &body).await?))
}

/// Deletes a client who has no clinical records (owner); one with records is a 409.
#[utoipa::path(delete, path = "/clients/{id}", tag = "clients",
    params(("id" = uuid::Uuid, Path, description = "The client")),
    responses((status = 204, description = "Deleted"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(State(state): State<AppState>, me: SignedIn, Id(id): Id) -> ApiResult<StatusCode> {
    state.store().delete_client(&me.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
