//! The client sheet of a stored design version, on the client's own photos: PNG to look at,
//! PDF to hand over. See [`crate::photo_view::client_sheet`].

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use follicle_render::View;
use follicle_render::client_sheet::SheetSession;
use follicle_render::photo::Landmark;
use follicle_store::{Design, Photo, PhotoAngle};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Id, QueryArgs, SignedIn};
use crate::photo_view::{self, SheetJob, SheetPhoto};
use crate::state::AppState;

/// Which form of the client sheet, and on which photo.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ClientSheetQuery {
    /// `png` (to look at) or `pdf` (one A4 page, to hand over). Without it, `Accept:
    /// application/pdf` gives the PDF and anything else the PNG.
    #[param(pattern = "^(png|pdf)$")]
    pub format: Option<String>,
    /// The front photo to draw on: a front photo of the design's client with landmarks kept
    /// (default: the newest such photo).
    pub photo: Option<Uuid>,
}

/// The client sheet of a design version on the client's photos: their name, the front photo
/// before and healed after the last session, the healed look on the front photo after each
/// session, when the touch-up falls due and just after it (and the same on the newest top photo
/// that has landmarks), and the plan's sessions with their dates. On the client's skin and hair
/// when the design was drawn for a consultation, on a typical type III skin otherwise.
///
/// 422 on `photo` when the client has no front photo with landmarks, or the photo given is not
/// a front photo of this client or has no landmarks; 404 on `photo` for a photo not in the
/// clinic; 422 on `photo.landmarks…` or `top_photo.landmarks…` when the kept landmarks do not
/// fit the head.
#[utoipa::path(get, path = "/designs/{id}/client-sheet", tag = "designs",
    params(("id" = Uuid, Path, description = "The design version"), ClientSheetQuery),
    responses(
        (status = 200, description = "The client sheet", content(
            (crate::wire::Binary = "image/png"), (crate::wire::Binary = "application/pdf"))),
        (status = 403, description = "The user may not see clinical records", body = ErrorBody),
        (status = 404, description = "No such design, or no such photo (`photo`) in the clinic", body = ErrorBody),
        (status = 422, description = "The format, or the photo: not a front photo of this client, no landmarks, landmarks that do not fit", body = ErrorBody),
        (status = 429, description = "Too much heavy work of this user at once", body = ErrorBody),
        (status = 503, description = "The server is busy; try again after Retry-After", body = ErrorBody)))]
pub async fn client_sheet(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
    headers: HeaderMap,
    QueryArgs(q): QueryArgs<ClientSheetQuery>,
) -> ApiResult<Response> {
    let pdf = match q.format.as_deref() {
        Some("pdf") => true,
        Some("png") => false,
        None => headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains("application/pdf")),
        Some(other) => {
            return Err(ApiError::invalid(
                "format",
                format!("expected png or pdf, got {other:?}"),
            ));
        }
    };
    let d = state.store().design(&me.actor, id).await?;
    let client = state.store().client(&me.actor, d.client_id).await?;
    let settings = state.clinic_settings(&me.actor).await?;
    let look = super::records::design_look(&state, &me, &d, &settings).await?;
    let front = match q.photo {
        Some(pid) => given_front(&state, &me, &d, pid).await?,
        None => newest_with_landmarks(&state, &me, &d, PhotoAngle::Front)
            .await?
            .ok_or_else(|| {
                ApiError::invalid(
                    "photo",
                    format!(
                        "{} has no front photo with landmarks: take a front photo, then place its landmarks (the designer's photo view finds them)",
                        client.name
                    ),
                )
            })?,
    };
    let top = newest_with_landmarks(&state, &me, &d, PhotoAngle::Top).await?;
    let front = sheet_photo(front, View::Front, "photo").await?;
    let top = match top {
        Some(t) => Some(sheet_photo(t, View::Top, "top_photo").await?),
        None => None,
    };
    let pattern = state.pattern(super::records::design_request(&d)?).await?;
    let registered = state.store().clinic(&me.actor).await?.name;
    let mut letterhead = crate::documents::letterhead(&settings, &registered);
    letterhead.logo = crate::documents::logo_of(state.store(), me.actor.clinic_id()).await?;
    let job = SheetJob {
        pattern,
        look,
        client_name: client.name.clone(),
        title: format!(
            "Scalp micropigmentation: design version {}, healed, on your photo",
            d.version
        ),
        front,
        top,
        sessions: sessions(&d),
        letterhead,
    };
    let permit = crate::limits::heavy().acquire().await?;
    let body = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        if pdf {
            photo_view::client_sheet_pdf(&job)
        } else {
            photo_view::client_sheet_png(&job)
        }
    })
    .await
    .map_err(ApiError::internal)??;
    let (kind, disposition) = if pdf {
        (
            "application/pdf",
            format!("attachment; filename=\"client-sheet-v{}.pdf\"", d.version),
        )
    } else {
        (
            "image/png",
            format!("inline; filename=\"client-sheet-v{}.png\"", d.version),
        )
    };
    Ok((
        [
            (header::CONTENT_TYPE, kind.to_string()),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// A stored photo and the landmarks kept with it.
type WithLandmarks = (Photo, Vec<u8>, Vec<Landmark>);

/// The landmarks kept with a photo, as the renderer takes them; `None` when none were kept.
async fn kept_landmarks(state: &AppState, me: &SignedIn, photo: Uuid) -> ApiResult<Option<Vec<Landmark>>> {
    let Some(kept) = state.store().photo_landmarks(&me.actor, photo).await? else {
        return Ok(None);
    };
    let answer: crate::wire::LandmarksAnswer = kept.try_into()?;
    Ok(Some(
        answer
            .points
            .into_iter()
            .map(|p| Landmark {
                name: p.name.into(),
                x_px: p.x_px,
                y_px: p.y_px,
            })
            .collect(),
    ))
}

/// The front photo asked for: in the clinic (404 on `photo`), of the design's client, a front
/// photo, with landmarks (422 on `photo`).
async fn given_front(state: &AppState, me: &SignedIn, d: &Design, pid: Uuid) -> ApiResult<WithLandmarks> {
    let (record, bytes) = state
        .store()
        .photo(&me.actor, pid)
        .await
        .map_err(|e| ApiError::from(e).on_field("photo"))?;
    if record.client_id != d.client_id {
        return Err(ApiError::invalid(
            "photo",
            format!("photo {pid} is of another client than the design's"),
        ));
    }
    if record.angle != PhotoAngle::Front {
        return Err(ApiError::invalid(
            "photo",
            format!(
                "photo {pid} is a {} photo; the client sheet is drawn on a front photo",
                record.angle.as_str()
            ),
        ));
    }
    let marks = kept_landmarks(state, me, pid).await?.ok_or_else(|| {
        ApiError::invalid(
            "photo",
            format!("no landmarks kept with photo {pid}: place them on the photo first (the designer's photo view finds them)"),
        )
    })?;
    Ok((record, bytes, marks))
}

/// The client's newest photo of `angle` that has landmarks kept, if any.
async fn newest_with_landmarks(
    state: &AppState,
    me: &SignedIn,
    d: &Design,
    angle: PhotoAngle,
) -> ApiResult<Option<WithLandmarks>> {
    let mut photos = state.store().photos(&me.actor, d.client_id).await?;
    photos.retain(|p| p.angle == angle);
    photos.sort_by_key(|p| std::cmp::Reverse(p.taken_at));
    for p in photos {
        if let Some(marks) = kept_landmarks(state, me, p.id).await? {
            let (record, bytes) = state.store().photo(&me.actor, p.id).await?;
            return Ok(Some((record, bytes, marks)));
        }
    }
    Ok(None)
}

/// The photo decoded upright (the landmarks are in the upright photo's pixels).
async fn sheet_photo(
    (record, bytes, landmarks): WithLandmarks,
    view: View,
    field: &'static str,
) -> ApiResult<SheetPhoto> {
    let orientation = record.orientation.and_then(|o| u8::try_from(o).ok());
    let photo = tokio::task::spawn_blocking(move || follicle_vision::decode_upright(&bytes, orientation))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::invalid(field, e.to_string()))?;
    Ok(SheetPhoto {
        photo,
        view,
        landmarks,
    })
}

/// The plan's sessions as the sheet lists them.
fn sessions(d: &Design) -> Vec<SheetSession> {
    d.plan
        .as_ref()
        .map(|plan| {
            plan.sessions
                .iter()
                .map(|s| SheetSession {
                    label: format!("Session {}", s.index),
                    date: s
                        .date
                        .map_or_else(|| "to be booked".to_owned(), |d| d.to_string()),
                    note: format!("{}, {} mix", s.purpose, s.pigment_shade),
                })
                .collect()
        })
        .unwrap_or_default()
}
