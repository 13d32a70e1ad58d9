//! Landmarks on a photo: found by the face model on request, kept when the practitioner saves
//! them (after dragging them into place, or placing them by hand).

use axum::Json;
use axum::extract::State;
#[allow(unused_imports)]
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Id, JsonBody, SignedIn};
use crate::state::AppState;
use crate::wire::{DetectedLandmarksAnswer, LandmarksAnswer, LandmarksInput};

/// Finds the landmarks on a stored photo with the face model built into the server (no
/// network): glabella, the outer eye corners, the ears where visible, and the face outline, in
/// the upright photo's pixels. Nothing is stored. No face, several faces, a face too small or
/// an unreadable photo: 422 on `photo`, and the practitioner places the points by hand.
#[utoipa::path(post, path = "/photos/{id}/landmarks/detect", tag = "photos",
    params(("id" = Uuid, Path, description = "The photo")),
    responses((status = 200, body = DetectedLandmarksAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn detect(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
) -> ApiResult<Json<DetectedLandmarksAnswer>> {
    me.actor.require(follicle_store::Action::EditClinicalRecords)?;
    let (record, bytes) = state.store().photo(&me.actor, id).await?;
    let orientation = record.orientation.and_then(|o| u8::try_from(o).ok());
    let found = crate::landmarks::find(bytes, orientation).await?;
    Ok(Json(DetectedLandmarksAnswer::new(id, found)))
}

/// The landmarks kept with a photo; 404 when none were saved.
#[utoipa::path(get, path = "/photos/{id}/landmarks", tag = "photos",
    params(("id" = Uuid, Path, description = "The photo")),
    responses((status = 200, body = LandmarksAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn landmarks(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
) -> ApiResult<Json<LandmarksAnswer>> {
    let kept = state
        .store()
        .photo_landmarks(&me.actor, id)
        .await?
        .ok_or_else(|| ApiError::not_found("landmarks"))?;
    Ok(Json(kept.try_into()?))
}

/// Keeps the landmarks with a photo, replacing those kept before. Each name once, every point
/// inside the upright photo (422 naming the point otherwise).
#[utoipa::path(put, path = "/photos/{id}/landmarks", tag = "photos", request_body = LandmarksInput,
    params(("id" = Uuid, Path, description = "The photo")),
    responses((status = 200, body = LandmarksAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn save(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
    JsonBody(input): JsonBody<LandmarksInput>,
) -> ApiResult<Json<LandmarksAnswer>> {
    let saved = state
        .store()
        .save_photo_landmarks(&me.actor, &input.into_new(id))
        .await?;
    Ok(Json(saved.try_into()?))
}
