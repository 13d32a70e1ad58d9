//! Clients and their contact details.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Id, JsonBody, QueryArgs, SignedIn};
use crate::state::AppState;
use crate::wire::{ClientAnswer, NewClient};

/// A search, or a page of the clients list.
#[derive(Debug, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ClientSearch {
    /// Part of a name, phone number or email (at most 200 characters); empty for the clients
    /// list, by name, a page at a time. Matches are ranked: a word of the name equal to the
    /// query, then names beginning with it, then a word beginning with it ("gar" finds Garcia
    /// before Edgar), then phones ending with its digits and emails beginning with it, then
    /// anything containing it; then by name.
    #[serde(default)]
    #[param(max_length = 200)]
    #[schema(max_length = 200)]
    pub q: String,
    /// At most this many, 1–200 (default 50).
    #[serde(default)]
    #[param(minimum = 1, maximum = 200)]
    #[schema(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// With an empty `q`: the page after this one, as given in the previous page's `Link`
    /// header (`rel="next"`). Not with a search, which answers its best matches at once.
    #[serde(default)]
    #[param(max_length = 2000)]
    #[schema(max_length = 2000)]
    pub cursor: Option<String>,
}

/// Clients matching a name, phone or email, best first; with no query, the clients by name,
/// a page at a time (the next page's address in the `Link` header).
#[utoipa::path(get, path = "/clients", tag = "clients", params(ClientSearch),
    responses(
        (status = 200, body = Vec<ClientAnswer>, headers(
            ("Link" = String, description = "With an empty `q` and more clients to list: `</api/v1/clients?limit=…&cursor=…>; rel=\"next\"`, the next page"))),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    me: SignedIn,
    QueryArgs(q): QueryArgs<ClientSearch>,
) -> ApiResult<(HeaderMap, Json<Vec<ClientAnswer>>)> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(crate::error::ApiError::invalid(
            "limit",
            format!("expected 1–200, got {limit}"),
        ));
    }
    if q.q.is_empty() {
        let page = state
            .store()
            .list_clients(&me.actor, q.cursor.as_deref(), limit)
            .await?;
        let headers = super::next_page_link("/api/v1/clients", limit, page.next.as_deref());
        return Ok((headers, Json(page.clients.into_iter().map(Into::into).collect())));
    }
    if q.cursor.is_some() {
        return Err(crate::error::ApiError::invalid(
            "cursor",
            "pages are for the clients list (an empty q); a search answers its best matches at once",
        ));
    }
    let found = state.store().search_clients(&me.actor, &q.q, limit).await?;
    Ok((
        HeaderMap::new(),
        Json(found.into_iter().map(Into::into).collect()),
    ))
}

/// Adds a client.
#[utoipa::path(post, path = "/clients", tag = "clients", request_body = NewClient,
    responses((status = 201, body = ClientAnswer), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    me: SignedIn,
    JsonBody(body): JsonBody<NewClient>,
) -> ApiResult<(StatusCode, Json<ClientAnswer>)> {
    Ok((
        StatusCode::CREATED,
        Json(state.store().create_client(&me.actor, &body.into()).await?.into()),
    ))
}

/// A client's contact details (audited as a view).
#[utoipa::path(get, path = "/clients/{id}", tag = "clients",
    params(("id" = uuid::Uuid, Path, description = "The client")),
    responses((status = 200, body = ClientAnswer), (status = 404, body = ErrorBody)))]
pub async fn get(State(state): State<AppState>, me: SignedIn, Id(id): Id) -> ApiResult<Json<ClientAnswer>> {
    Ok(Json(state.store().client(&me.actor, id).await?.into()))
}

/// Changes a client's contact details.
#[utoipa::path(put, path = "/clients/{id}", tag = "clients", request_body = NewClient,
    params(("id" = uuid::Uuid, Path, description = "The client")),
    responses((status = 200, body = ClientAnswer), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
    JsonBody(body): JsonBody<NewClient>,
) -> ApiResult<Json<ClientAnswer>> {
    Ok(Json(
        state
            .store()
            .update_client(&me.actor, id, &body.into())
            .await?
            .into(),
    ))
}

/// Deletes a client who has no clinical records (owner); one with records is a 409.
#[utoipa::path(delete, path = "/clients/{id}", tag = "clients",
    params(("id" = uuid::Uuid, Path, description = "The client")),
    responses((status = 204, description = "Deleted"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(State(state): State<AppState>, me: SignedIn, Id(id): Id) -> ApiResult<StatusCode> {
    state.store().delete_client(&me.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Which client to merge into the one in the path.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// The client whose records move to the one in the path; it is deleted afterwards.
    pub merge_id: uuid::Uuid,
}

/// What a merge did.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct MergeAnswer {
    /// The client kept, after the merge (empty contact fields filled from the merged one).
    pub client: ClientAnswer,
    /// Rows moved from the merged client, by kind of record (kinds with none left out).
    pub moved: std::collections::BTreeMap<String, u64>,
}

/// Merges another client into this one (owner): every record of `merge_id` — consultations,
/// designs, appointments, session logs, consents, photos, messages — moves here in one
/// transaction, and `merge_id` is deleted; both audit trails say what moved. A client of another
/// clinic is a 404, the same client twice a 422, a client whose erasure was asked for a 409.
#[utoipa::path(post, path = "/clients/{id}/merge", tag = "clients", request_body = MergeBody,
    params(("id" = uuid::Uuid, Path, description = "The client kept")),
    responses((status = 200, body = MergeAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn merge(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
    JsonBody(body): JsonBody<MergeBody>,
) -> ApiResult<Json<MergeAnswer>> {
    let report = state.store().merge_clients(&me.actor, id, body.merge_id).await?;
    let client = match report.kept {
        Some(c) => c,
        None => state.store().client(&me.actor, id).await?,
    };
    Ok(Json(MergeAnswer {
        client: client.into(),
        moved: report
            .moved
            .into_iter()
            .map(|(table, n)| (table.to_owned(), n))
            .collect(),
    }))
}

/// A client that may be the same person, and why.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct DuplicateAnswer {
    /// The other client.
    pub client: ClientAnswer,
    /// What they share: `email`, `phone`, `name and date of birth`.
    pub same: Vec<String>,
}

/// The clients who may be the person described (same email, same phone number's digits, or
/// same name and date of birth), at most 20: what to ask the front desk before `POST /clients`.
#[utoipa::path(post, path = "/clients/duplicates", tag = "clients", request_body = NewClient,
    responses((status = 200, body = Vec<DuplicateAnswer>), (status = 422, body = ErrorBody)))]
pub async fn duplicates(
    State(state): State<AppState>,
    me: SignedIn,
    JsonBody(body): JsonBody<NewClient>,
) -> ApiResult<Json<Vec<DuplicateAnswer>>> {
    let found = state
        .store()
        .likely_duplicates(&me.actor, &body.into(), None)
        .await?;
    Ok(Json(
        found
            .into_iter()
            .map(|d| DuplicateAnswer {
                client: d.client.into(),
                same: d.same.into_iter().map(str::to_owned).collect(),
            })
            .collect(),
    ))
}
