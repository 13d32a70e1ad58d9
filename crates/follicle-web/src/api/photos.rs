//! The design on a client's photo: the warp grids the designer's photo view draws the dots
//! with while the hairline is dragged, and the healed look drawn on the photo by the server;
//! the client sheet: [`super::client_sheet`]. See [`crate::photo_view`].

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use uuid::Uuid;

use super::records::png;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Id, JsonBody, SignedIn};
use crate::photo_view::{self, PhotoDesignInput, PhotoJob, WarpGrids};
use crate::state::AppState;
use crate::usecase::pattern_request;

/// Gathers a photo route's inputs: the photo (decoded), its view, the design's pattern.
async fn job(state: &AppState, me: &SignedIn, id: Uuid, input: PhotoDesignInput) -> ApiResult<PhotoJob> {
    let (record, bytes) = state.store().photo(&me.actor, id).await?;
    let view = photo_view::view_for(input.view.as_deref(), record.angle.as_str())?;
    let settings = state.clinic_settings(&me.actor).await?;
    let look = crate::compute::typical_look(input.fitzpatrick.as_deref(), &settings)?;
    let pattern = state.pattern(pattern_request(input.design, "design")?).await?;
    // Upright, as the landmarks are kept (the stored bytes have no EXIF; the store kept the
    // camera's orientation).
    let orientation = record.orientation.and_then(|o| u8::try_from(o).ok());
    let photo = tokio::task::spawn_blocking(move || follicle_vision::decode_upright(&bytes, orientation))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::invalid("photo", e.to_string()))?;
    Ok(PhotoJob {
        pattern,
        look,
        photo,
        view,
        landmarks: input.landmarks.into_iter().map(Into::into).collect(),
        moment: input.moment,
    })
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> ApiResult<T> + Send + 'static) -> ApiResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(ApiError::internal)?
}

/// The warp between the photo and the design's head, fitted through the landmarks and
/// sampled as two grids (photo px → chart mm, chart mm → photo px). It depends on the photo,
/// the landmarks and the head only: a page fetches it once and draws every edit's dots with it.
#[utoipa::path(post, path = "/photos/{id}/warp", tag = "photos", request_body = PhotoDesignInput,
    params(("id" = Uuid, Path, description = "The photo")),
    responses((status = 200, body = WarpGrids), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn warp(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
    JsonBody(input): JsonBody<PhotoDesignInput>,
) -> ApiResult<Json<WarpGrids>> {
    let job = job(&state, &me, id, input).await?;
    let (w, h) = job.photo.dimensions();
    Ok(Json(
        blocking(move || photo_view::warp_grids(&job.pattern, &job.look, job.view, &job.landmarks, w, h))
            .await?,
    ))
}

/// The healed look of the design on the photo at a moment (after a session, years later,
/// after a touch-up), PNG, the photo reduced to at most 900 px on its long side.
#[utoipa::path(post, path = "/photos/{id}/overlay", tag = "photos", request_body = PhotoDesignInput,
    params(("id" = Uuid, Path, description = "The photo")),
    responses((status = 200, description = "PNG", content_type = "image/png", body = crate::wire::Binary), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn overlay(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
    JsonBody(input): JsonBody<PhotoDesignInput>,
) -> ApiResult<Response> {
    let job = job(&state, &me, id, input).await?;
    Ok(png(blocking(move || photo_view::overlay_png(&job)).await?))
}
