//! The client's photos (`/portal/photos/{angle}`): the same capture guide as the studio's
//! (framing marks, the previous photo of that angle as a ghost, the checks' hint before the
//! upload, [`crate::photo_view`]'s checks after it) and the upload. A photo is kept only with a
//! signed photographs consent that stands; without one the page says to sign it first, with
//! the link. A file that is not a JPEG or PNG photo, too large or too small is refused with a
//! page naming the problem, and nothing is kept; too dark, too bright or blurred is kept with a
//! plain warning, as at the clinic. The images are read through the portal cookie alone
//! (`/portal/photos/{id}/image`): a client can only ever fetch their own.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use follicle_core::settings::ConsentKind;
use follicle_store::{Photo, PhotoAngle, StoreError};

use super::{Me, day, own_id};
use crate::photo_view;
use crate::state::AppState;
use crate::studio::{PageError, PageResult, render_status};

/// The angles a client is asked for, in order, with their words.
pub(super) const ANGLES: [(PhotoAngle, &str); 5] = [
    (PhotoAngle::Front, "Front"),
    (PhotoAngle::Top, "Top of the head"),
    (PhotoAngle::Left, "Left side"),
    (PhotoAngle::Right, "Right side"),
    (PhotoAngle::Back, "Back"),
];

/// An angle's words for a client.
pub(super) fn angle_words(angle: PhotoAngle) -> &'static str {
    ANGLES
        .iter()
        .find(|(a, _)| *a == angle)
        .map_or("Other", |(_, w)| w)
}

#[derive(Template)]
#[template(path = "portal_photos.html")]
struct PhotosPage {
    clinic: String,
    csrf: String,
    angle: &'static str,
    angle_words: &'static str,
    angles: Vec<(&'static str, &'static str)>,
    consented: bool,
    ghost: Option<String>,
    earlier: Vec<(String, String, &'static str)>,
    guide: &'static str,
    kept: bool,
    notices: Vec<String>,
    error: String,
    min_side_px: u32,
    min_brightness: f64,
    max_brightness: f64,
    min_sharpness: f64,
    check_side_px: u32,
    max_mb: usize,
}

fn angle_of(text: &str) -> Result<PhotoAngle, PageError> {
    ANGLES
        .iter()
        .find(|(a, _)| a.as_str() == text)
        .map(|(a, _)| *a)
        .ok_or_else(|| PageError {
            status: StatusCode::NOT_FOUND,
            message: format!(
                "There is no such side to photograph; choose one of: {}.",
                ANGLES.iter().map(|(_, w)| *w).collect::<Vec<_>>().join(", ")
            ),
        })
}

/// Whether the client has a signed photographs consent that stands.
async fn photos_consented(state: &AppState, me: &Me) -> Result<bool, PageError> {
    Ok(state
        .store()
        .own_consents(&me.client)
        .await?
        .iter()
        .any(|c| c.signed.kind == ConsentKind::Photos && c.stands()))
}

/// What the page shows after an upload.
#[derive(Debug, Default)]
struct Outcome {
    kept: Option<uuid::Uuid>,
    notices: Vec<String>,
    error: String,
}

async fn page(
    state: &AppState,
    me: &Me,
    angle: PhotoAngle,
    outcome: Outcome,
    status: StatusCode,
) -> PageResult {
    let consented = photos_consented(state, me).await?;
    let record = state.store().own_record(&me.client).await?;
    let mut of_angle: Vec<Photo> = record.photos.into_iter().filter(|p| p.angle == angle).collect();
    of_angle.sort_by_key(|p| p.taken_at);
    let ghost = of_angle
        .iter()
        .rev()
        .find(|p| Some(p.id) != outcome.kept)
        .map(|p| p.id.to_string());
    let s = &me.settings.photos;
    render_status(
        status,
        &PhotosPage {
            clinic: me.clinic.clone(),
            csrf: me.csrf(),
            angle: angle.as_str(),
            angle_words: angle_words(angle),
            angles: ANGLES.iter().map(|(a, w)| (a.as_str(), *w)).collect(),
            consented,
            ghost,
            earlier: of_angle
                .iter()
                .rev()
                .map(|p| {
                    (
                        p.id.to_string(),
                        day(p.taken_at.date()),
                        if p.taken_by_client() {
                            "taken by you"
                        } else {
                            "taken at the clinic"
                        },
                    )
                })
                .collect(),
            guide: if angle == PhotoAngle::Top {
                "Hold the camera straight above the crown (or ask someone to), the head filling the oval, the forehead at the top."
            } else {
                "Your head inside the oval, the top of the head on the upper line, the eyes on the middle line, the nose on the centre line; the same light and distance as last time, in daylight if you can."
            },
            kept: outcome.kept.is_some(),
            notices: outcome.notices,
            error: outcome.error,
            min_side_px: s.min_side_px,
            min_brightness: s.min_brightness,
            max_brightness: s.max_brightness,
            min_sharpness: s.min_sharpness,
            check_side_px: photo_view::CHECK_SIDE_PX,
            max_mb: follicle_store::PhotoLimits::default().max_bytes / (1024 * 1024),
        },
    )
}

/// The capture page of one angle.
pub(super) async fn capture(State(state): State<AppState>, me: Me, Path(angle): Path<String>) -> PageResult {
    let angle = angle_of(&angle)?;
    page(&state, &me, angle, Outcome::default(), StatusCode::OK).await
}

/// The upload (multipart: `_csrf`, `photo`).
pub(super) async fn upload(
    State(state): State<AppState>,
    me: Me,
    Path(angle): Path<String>,
    mut multipart: Multipart,
) -> PageResult {
    let angle = angle_of(&angle)?;
    let limit = follicle_store::PhotoLimits::default().max_bytes;
    // Read under the heavy-work limit, as the studio's uploads are.
    let _permit = crate::limits::heavy()
        .acquire()
        .await
        .map_err(crate::ApiError::from)?;
    let too_large = || PageError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        message: format!(
            "The photo is too large: at most {} MB ({limit} bytes) is kept. Nothing was saved; take it again at a smaller size.",
            limit / (1024 * 1024)
        ),
    };
    let (mut csrf, mut bytes) = (String::new(), Vec::new());
    while let Some(field) = multipart.next_field().await.map_err(|_| too_large())? {
        match field.name().unwrap_or("") {
            "_csrf" => csrf = field.text().await.unwrap_or_default(),
            "photo" => bytes = field.bytes().await.map_err(|_| too_large())?.to_vec(),
            _ => {}
        }
    }
    me.check(&csrf)?;
    let refused = |message: String| Outcome {
        error: message,
        ..Outcome::default()
    };
    if !photos_consented(&state, &me).await? {
        return page(&state, &me, angle, Outcome::default(), StatusCode::CONFLICT).await;
    }
    if bytes.is_empty() {
        let outcome = refused("Choose a photo to send.".into());
        return page(&state, &me, angle, outcome, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    if bytes.len() > limit {
        return Err(too_large());
    }
    let notices = match check_for_client(&bytes, &me.settings.photos).await? {
        Ok(warnings) => warnings,
        Err(refusal) => {
            let outcome = refused(format!("{refusal} Nothing was saved."));
            return page(&state, &me, angle, outcome, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let kept = match state.store().upload_own_photo(&me.client, angle, &bytes).await {
        Ok(p) => p,
        Err(StoreError::Photo(e)) => {
            let outcome = refused(format!(
                "This photo cannot be kept ({e}); take it again or send another. Nothing was saved."
            ));
            return page(&state, &me, angle, outcome, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(StoreError::Conflict { .. }) => {
            return page(&state, &me, angle, Outcome::default(), StatusCode::CONFLICT).await;
        }
        Err(e) => return Err(e.into()),
    };
    let outcome = Outcome {
        kept: Some(kept.id),
        notices,
        error: String::new(),
    };
    page(&state, &me, angle, outcome, StatusCode::OK).await
}

/// The studio's photo checks ([`photo_view::measure`], the clinic's `[photos]` settings) in
/// words for the client, off the async threads: `Err` with why it is refused (not a photo, too
/// small), or the warnings (too dark, too bright, blurred: kept all the same).
async fn check_for_client(
    bytes: &[u8],
    s: &follicle_core::settings::PhotoCheckSettings,
) -> Result<Result<Vec<String>, String>, PageError> {
    let (bytes, s) = (bytes.to_vec(), s.clone());
    tokio::task::spawn_blocking(move || {
        let img = match follicle_render::photo::decode_photo(&bytes) {
            Ok(img) => img,
            Err(e) if e.to_string().contains("not a PNG or JPEG") => {
                return Err(
                    "This file is not a photo: send a JPEG or PNG picture (what phones and cameras take)."
                        .to_owned(),
                );
            }
            Err(e) => {
                return Err(format!(
                    "This photo cannot be read ({e}); take it again or send another."
                ));
            }
        };
        let q = photo_view::measure(&img);
        if q.width.min(q.height) < s.min_side_px {
            return Err(format!(
                "This photo is {} × {} pixels, too small to compare with others: its shorter side must be at \
                 least {} pixels. Take it with the camera's full size.",
                q.width, q.height, s.min_side_px
            ));
        }
        let mut warnings = Vec::new();
        if q.brightness < s.min_brightness {
            warnings.push(
                "The photo is rather dark: next time, take it in more light (by a window in daylight)."
                    .to_owned(),
            );
        }
        if q.brightness > s.max_brightness {
            warnings.push(
                "The photo is very bright: next time, move out of direct light so the skin's tone shows."
                    .to_owned(),
            );
        }
        if q.sharpness < s.min_sharpness {
            warnings.push(
                "The photo looks blurred: next time, hold the camera still and let it focus.".to_owned(),
            );
        }
        Ok(warnings)
    })
    .await
    .map_err(|e| PageError::from(crate::ApiError::internal(e)))
}

/// One of the client's own photos (the client from the portal cookie; another's is not found).
pub(super) async fn image(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = own_id(&id, "photo")?;
    let (photo, bytes) = match state.store().own_photo(&me.client, id).await {
        Ok(found) => found,
        Err(StoreError::NotFound { .. }) => {
            return Err(PageError {
                status: StatusCode::NOT_FOUND,
                message: "There is no such photo among yours.".into(),
            });
        }
        Err(e) => return Err(e.into()),
    };
    Ok((
        [
            (header::CONTENT_TYPE, photo.content_type),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}
