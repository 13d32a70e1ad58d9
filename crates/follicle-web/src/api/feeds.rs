//! Calendar feeds (issue 14, item 5) through the API, as the studio's feed pages: a client's
//! and a user's private subscription address, made (or made again, which stops the old one),
//! looked at, and revoked. The secret is in the answer once, when made; only its SHA-256 is
//! kept.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use follicle_store::FeedOwner;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Id, SignedIn};
use crate::state::AppState;

/// A calendar feed: when its address was made, and the address itself when it was just made.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedAnswer {
    /// When the current address was made; null: no feed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub made_at: Option<OffsetDateTime>,
    /// The subscription address (`https://…/calendar/<secret>.ics`), only in the answer that
    /// made it: it is not kept, and cannot be read again.
    pub address: Option<String>,
}

async fn made(
    state: &AppState,
    me: &SignedIn,
    owner: FeedOwner,
) -> ApiResult<(StatusCode, Json<FeedAnswer>)> {
    let token = state.store().make_calendar_feed(&me.actor, owner).await?;
    let made_at = state.store().calendar_feed(&me.actor, owner).await?;
    Ok((
        StatusCode::CREATED,
        Json(FeedAnswer {
            made_at,
            address: Some(crate::studio::feeds_address(state, token.as_str())),
        }),
    ))
}

async fn shown(state: &AppState, me: &SignedIn, owner: FeedOwner) -> ApiResult<Json<FeedAnswer>> {
    Ok(Json(FeedAnswer {
        made_at: state.store().calendar_feed(&me.actor, owner).await?,
        address: None,
    }))
}

async fn revoked(state: &AppState, me: &SignedIn, owner: FeedOwner) -> ApiResult<StatusCode> {
    state.store().revoke_calendar_feed(&me.actor, owner).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether a client's feed exists, and since when.
#[utoipa::path(get, path = "/clients/{id}/calendar-feed", tag = "appointments",
    params(("id" = Uuid, Path, description = "The client")),
    responses((status = 200, body = FeedAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn client_feed(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
) -> ApiResult<Json<FeedAnswer>> {
    shown(&state, &me, FeedOwner::Client(id)).await
}

/// Makes a client's feed address (a new one in place of the old, which stops at once).
#[utoipa::path(post, path = "/clients/{id}/calendar-feed", tag = "appointments",
    params(("id" = Uuid, Path, description = "The client")),
    responses((status = 201, body = FeedAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn make_client_feed(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
) -> ApiResult<(StatusCode, Json<FeedAnswer>)> {
    made(&state, &me, FeedOwner::Client(id)).await
}

/// Revokes a client's feed: its address answers nothing from now on.
#[utoipa::path(delete, path = "/clients/{id}/calendar-feed", tag = "appointments",
    params(("id" = Uuid, Path, description = "The client")),
    responses((status = 204, description = "Revoked (or there was none)"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_client_feed(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    revoked(&state, &me, FeedOwner::Client(id)).await
}

/// Whether a user's feed (their appointments) exists, and since when: one's own, or (owner) a
/// colleague's.
#[utoipa::path(get, path = "/users/{id}/calendar-feed", tag = "appointments",
    params(("id" = Uuid, Path, description = "The user")),
    responses((status = 200, body = FeedAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn user_feed(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
) -> ApiResult<Json<FeedAnswer>> {
    shown(&state, &me, FeedOwner::User(id)).await
}

/// Makes a user's feed address (a new one in place of the old).
#[utoipa::path(post, path = "/users/{id}/calendar-feed", tag = "appointments",
    params(("id" = Uuid, Path, description = "The user")),
    responses((status = 201, body = FeedAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn make_user_feed(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
) -> ApiResult<(StatusCode, Json<FeedAnswer>)> {
    made(&state, &me, FeedOwner::User(id)).await
}

/// Revokes a user's feed.
#[utoipa::path(delete, path = "/users/{id}/calendar-feed", tag = "appointments",
    params(("id" = Uuid, Path, description = "The user")),
    responses((status = 204, description = "Revoked (or there was none)"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_user_feed(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    revoked(&state, &me, FeedOwner::User(id)).await
}
