//! Photos taken to be compared: the capture page of one standard angle (the previous photo
//! of that angle as a ghost over the new one, with adjustable opacity, and framing marks),
//! the upload with its checks (size refused; too dark, too bright or blurred kept with a
//! plain warning, see [`crate::photo_view`]), each photo tied to a session or a consultation
//! and carrying the client's consent to it.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use follicle_store::{Client, NewPhoto, Photo, PhotoAngle, StoreError};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::today::day;
use super::{Nav, Page, PageError, PageResult, render_status};
use crate::extract::{Id, QueryArgs};
use crate::photo_view;
use crate::state::AppState;

/// The five standard angles, in the order they are taken.
pub const STANDARD_ANGLES: [PhotoAngle; 5] = [
    PhotoAngle::Front,
    PhotoAngle::Top,
    PhotoAngle::Left,
    PhotoAngle::Right,
    PhotoAngle::Back,
];

/// A choice in the "taken for" list.
#[derive(Debug)]
pub struct TakenFor {
    /// `session:<id>`, `consultation:<id>` or empty.
    pub value: String,
    /// What the practitioner reads.
    pub label: String,
}

#[derive(Template)]
#[template(path = "photo_capture.html")]
struct CapturePage {
    nav: Nav,
    client: Client,
    angle: &'static str,
    angles: Vec<&'static str>,
    ghost: Option<Photo>,
    timeline: Vec<(String, Photo)>,
    taken_for: Vec<TakenFor>,
    chosen_for: String,
    consented: bool,
    error: String,
    notices: Vec<String>,
    kept: Option<Uuid>,
    min_side_px: u32,
    min_brightness: f64,
    max_brightness: f64,
    min_sharpness: f64,
    check_side_px: u32,
}

#[derive(Debug, Deserialize)]
pub(super) struct CaptureQuery {
    #[serde(default)]
    angle: Option<String>,
    /// What the photo is for, chosen in advance (`session:<id>`, from the logged session).
    #[serde(default, rename = "for")]
    taken_for: Option<String>,
}

/// What the capture page shows after an upload.
#[derive(Debug, Default)]
struct Outcome {
    error: String,
    notices: Vec<String>,
    kept: Option<Uuid>,
    chosen_for: String,
    consented: bool,
}

pub(super) async fn capture(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
    QueryArgs(q): QueryArgs<CaptureQuery>,
) -> PageResult {
    let angle = match q.angle.as_deref() {
        None => PhotoAngle::Front,
        Some(a) => PhotoAngle::parse(a)?,
    };
    let outcome = Outcome {
        chosen_for: q.taken_for.unwrap_or_default(),
        ..Outcome::default()
    };
    capture_page(&state, &page, id, angle, outcome, StatusCode::OK).await
}

async fn capture_page(
    state: &AppState,
    page: &Page,
    id: Uuid,
    angle: PhotoAngle,
    outcome: Outcome,
    status: StatusCode,
) -> PageResult {
    let store = state.store();
    let client = store.client(&page.actor, id).await?;
    let photos = store.photos(&page.actor, id).await?;
    let sessions = store.session_logs(&page.actor, id).await?;
    let consultations = store.consultations(&page.actor, id).await?;
    let settings = state.clinic_settings(&page.actor).await?;
    let mut of_angle: Vec<Photo> = photos.into_iter().filter(|p| p.angle == angle).collect();
    of_angle.sort_by_key(|p| p.taken_at);
    // The ghost is the latest photo of this angle before the one just kept.
    let ghost = of_angle
        .iter()
        .rev()
        .find(|p| Some(p.id) != outcome.kept)
        .cloned();
    let mut taken_for = vec![TakenFor {
        value: String::new(),
        label: "Before the next session".into(),
    }];
    let mut logged: Vec<_> = sessions.iter().collect();
    logged.sort_by_key(|s| std::cmp::Reverse(s.performed_on));
    taken_for.extend(logged.into_iter().map(|s| TakenFor {
        value: format!("session:{}", s.id),
        label: format!("Session of {}", day(s.performed_on)),
    }));
    let mut consults: Vec<_> = consultations.iter().collect();
    consults.sort_by_key(|c| std::cmp::Reverse(c.version));
    taken_for.extend(consults.into_iter().map(|c| TakenFor {
        value: format!("consultation:{}", c.id),
        label: format!("Consultation v{} ({})", c.version, day(c.created_at.date())),
    }));
    let p = &settings.photos;
    let body = CapturePage {
        nav: Nav::new(page, "clients"),
        client,
        angle: angle.as_str(),
        angles: STANDARD_ANGLES.iter().map(|a| a.as_str()).collect(),
        ghost,
        timeline: of_angle
            .into_iter()
            .rev()
            .map(|p| (day(p.taken_at.date()), p))
            .collect(),
        taken_for,
        chosen_for: outcome.chosen_for,
        consented: outcome.consented,
        error: outcome.error,
        notices: outcome.notices,
        kept: outcome.kept,
        min_side_px: p.min_side_px,
        min_brightness: p.min_brightness,
        max_brightness: p.max_brightness,
        min_sharpness: p.min_sharpness,
        check_side_px: photo_view::CHECK_SIDE_PX,
    };
    render_status(status, &body)
}

/// The upload form's fields.
#[derive(Debug, Default)]
struct UploadForm {
    csrf: String,
    angle: String,
    taken_for: String,
    consented: bool,
    from: String,
    bytes: Vec<u8>,
}

/// Uploads a photo (multipart form: `_csrf`, `angle`, `taken_for`, `consented`, `from`,
/// `photo`) from the capture page or the client page.
pub(super) async fn upload(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
    mut multipart: Multipart,
) -> PageResult {
    let limit = follicle_store::PhotoLimits::default().max_bytes;
    let mut form = UploadForm::default();
    // Read under the heavy-work limit (see `api::records::upload_photo`).
    let _permit = crate::limits::heavy()
        .acquire()
        .await
        .map_err(crate::ApiError::from)?;
    while let Some(field) = multipart.next_field().await.map_err(|e| PageError {
        status: StatusCode::BAD_REQUEST,
        message: format!("The upload could not be read: {e}"),
    })? {
        match field.name().unwrap_or("") {
            "_csrf" => form.csrf = field.text().await.unwrap_or_default(),
            "angle" => form.angle = field.text().await.unwrap_or_default(),
            "taken_for" => form.taken_for = field.text().await.unwrap_or_default(),
            "consented" => form.consented = !field.text().await.unwrap_or_default().is_empty(),
            "from" => form.from = field.text().await.unwrap_or_default(),
            "photo" => {
                let data = field.bytes().await.map_err(|_| PageError {
                    status: StatusCode::PAYLOAD_TOO_LARGE,
                    message: format!("The photo is larger than the {limit} bytes allowed."),
                })?;
                form.bytes = data.to_vec();
            }
            _ => {}
        }
    }
    page.check_csrf(&form.csrf)?;
    let angle = match PhotoAngle::parse(&form.angle) {
        Ok(a) => a,
        Err(StoreError::Invalid { message, .. }) => {
            return failed(
                &state,
                &page,
                id,
                PhotoAngle::Front,
                &form,
                format!("angle: {message}"),
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    };
    let (session_id, consultation_id) = match form.taken_for.split_once(':') {
        None if form.taken_for.is_empty() => (None, None),
        Some(("session", s)) => match Uuid::parse_str(s) {
            Ok(s) => (Some(s), None),
            Err(_) => (None, None),
        },
        Some(("consultation", c)) => match Uuid::parse_str(c) {
            Ok(c) => (None, Some(c)),
            Err(_) => (None, None),
        },
        _ => {
            let message = format!(
                "taken for: expected a session or a consultation of this client, got {:?}",
                form.taken_for
            );
            return failed(&state, &page, id, angle, &form, message).await;
        }
    };
    if form.bytes.is_empty() {
        return failed(
            &state,
            &page,
            id,
            angle,
            &form,
            "Choose a photo to upload.".into(),
        )
        .await;
    }
    let settings = state.clinic_settings(&page.actor).await?;
    let notices = match photo_view::check_upload(&form.bytes, &settings.photos).await {
        Ok(w) => w,
        Err(e) => return failed(&state, &page, id, angle, &form, e.detail.message).await,
    };
    let new = NewPhoto {
        client_id: id,
        angle,
        taken_at: OffsetDateTime::now_utc(),
        session_id,
        consent_id: None,
        consultation_id,
        consented: form.consented,
    };
    let kept = match state.store().upload_photo(&page.actor, &new, &form.bytes).await {
        Ok(p) => p,
        Err(StoreError::Photo(e)) => return failed(&state, &page, id, angle, &form, e.to_string()).await,
        Err(StoreError::Invalid { field, message }) => {
            return failed(&state, &page, id, angle, &form, format!("{field}: {message}")).await;
        }
        Err(StoreError::NotFound { what }) => {
            let message = format!("taken for: no {what} of this client");
            return failed(&state, &page, id, angle, &form, message).await;
        }
        Err(e) => return Err(e.into()),
    };
    if notices.is_empty() && form.from == "client" {
        return Ok(Redirect::to(&format!("/clients/{id}#photos")).into_response());
    }
    let outcome = Outcome {
        notices,
        kept: Some(kept.id),
        chosen_for: form.taken_for,
        consented: form.consented,
        ..Outcome::default()
    };
    capture_page(&state, &page, id, angle, outcome, StatusCode::OK).await
}

/// The form shown again with the error beside the photo field: on the page it came from.
async fn failed(
    state: &AppState,
    page: &Page,
    id: Uuid,
    angle: PhotoAngle,
    form: &UploadForm,
    error: String,
) -> PageResult {
    if form.from == "client" {
        return super::clients::client_page(state, page, id, error, String::new())
            .await
            .map(|r| (StatusCode::UNPROCESSABLE_ENTITY, r).into_response());
    }
    let outcome = Outcome {
        error,
        chosen_for: form.taken_for.clone(),
        consented: form.consented,
        ..Outcome::default()
    };
    capture_page(state, page, id, angle, outcome, StatusCode::UNPROCESSABLE_ENTITY).await
}
