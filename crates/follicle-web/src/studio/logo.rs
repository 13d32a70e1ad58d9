//! The clinic's logo on its documents (issue 15), set on the settings page by the owner: a PNG
//! or JPEG checked by decoding it (the header first: at most [`LOGO_MAX_PIXELS`] pixels; then
//! the whole image, under a memory limit) before the store keeps it within
//! [`follicle_store::LOGO_MAX_BYTES`]. A file that is not an image, or too large, is shown
//! again on the settings page with the error beside the `logo` field; nothing is kept.

use axum::extract::{Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use follicle_store::{Action, LOGO_MAX_BYTES, LOGO_MAX_PIXELS, StoreError};
use serde::Deserialize;

use super::settings::{UserForm, show};
use super::{FieldErrors, Page, PageError, PageResult};
use crate::state::AppState;

/// Decodes a logo and gives its size, or why it is refused (in words, for the `logo` field).
pub fn decode_logo(bytes: &[u8]) -> Result<(u32, u32), String> {
    let format = match follicle_store::logo_content_type(bytes) {
        Some("image/png") => image::ImageFormat::Png,
        Some(_) => image::ImageFormat::Jpeg,
        None => return Err("the file is not a PNG or JPEG image".to_owned()),
    };
    let reader = |bytes: &[u8]| {
        let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes.to_vec()), format);
        let mut limits = image::Limits::default();
        // 4 megapixels of 16-bit RGBA is 32 MiB.
        limits.max_alloc = Some(64 << 20);
        reader.limits(limits);
        reader
    };
    let (w, h) = reader(bytes)
        .into_dimensions()
        .map_err(|e| format!("the image could not be read ({e})"))?;
    if w == 0 || h == 0 || u64::from(w) * u64::from(h) > LOGO_MAX_PIXELS {
        return Err(format!(
            "the image is {w} × {h} pixels; a logo may have at most {LOGO_MAX_PIXELS} pixels (2000 × 2000)"
        ));
    }
    reader(bytes)
        .decode()
        .map_err(|e| format!("the image could not be decoded ({e})"))?;
    Ok((w, h))
}

async fn refused(state: &AppState, page: &Page, message: String) -> PageResult {
    let mut errors = FieldErrors::default();
    errors.add("logo", format!("logo: {message}"));
    show(state, page, None, None, UserForm::default(), errors, false).await
}

/// Uploads the logo (multipart: `_csrf`, `logo`).
pub(super) async fn upload(
    State(state): State<AppState>,
    page: Page,
    mut multipart: Multipart,
) -> PageResult {
    page.actor.require(Action::EditSettings)?;
    let (mut csrf, mut bytes) = (String::new(), Vec::new());
    let mut too_large = false;
    while let Some(field) = multipart.next_field().await.map_err(|e| PageError {
        status: StatusCode::BAD_REQUEST,
        message: format!("The upload could not be read: {e}"),
    })? {
        match field.name().unwrap_or("") {
            "_csrf" => csrf = field.text().await.unwrap_or_default(),
            "logo" => match field.bytes().await {
                Ok(b) => bytes = b.to_vec(),
                Err(_) => too_large = true,
            },
            _ => {}
        }
    }
    page.check_csrf(&csrf)?;
    if too_large || bytes.len() > LOGO_MAX_BYTES {
        let size = if too_large {
            "larger than the upload allows".to_owned()
        } else {
            format!("{} bytes", bytes.len())
        };
        return refused(
            &state,
            &page,
            format!("the file is {size}; a logo may be at most {LOGO_MAX_BYTES} bytes (512 KiB)"),
        )
        .await;
    }
    if bytes.is_empty() {
        return refused(&state, &page, "choose a PNG or JPEG file".to_owned()).await;
    }
    let checked = {
        let bytes = bytes.clone();
        tokio::task::spawn_blocking(move || decode_logo(&bytes))
            .await
            .map_err(|e| PageError::from(crate::ApiError::internal(e)))?
    };
    let (w, h) = match checked {
        Ok(size) => size,
        Err(message) => return refused(&state, &page, message).await,
    };
    match state.store().set_clinic_logo(&page.actor, &bytes, w, h).await {
        Ok(_) => Ok(Redirect::to("/settings?saved=logo#h-logo").into_response()),
        Err(StoreError::Invalid { message, .. }) => refused(&state, &page, message).await,
        Err(e) => Err(e.into()),
    }
}

/// The removal form.
#[derive(Debug, Deserialize)]
pub(super) struct RemoveForm {
    #[serde(default)]
    _csrf: String,
}

/// Removes the logo: documents show the clinic's name alone again.
pub(super) async fn remove(
    State(state): State<AppState>,
    page: Page,
    axum::Form(form): axum::Form<RemoveForm>,
) -> PageResult {
    page.check_csrf(&form._csrf)?;
    state.store().remove_clinic_logo(&page.actor).await?;
    Ok(Redirect::to("/settings?saved=logo#h-logo").into_response())
}

/// The logo as kept (the settings page shows it).
pub(super) async fn image(State(state): State<AppState>, page: Page) -> Result<Response, PageError> {
    let Some(logo) = state.store().clinic_logo(&page.actor).await? else {
        return Err(PageError {
            status: StatusCode::NOT_FOUND,
            message: "The clinic has no logo.".into(),
        });
    };
    Ok((
        [
            (header::CONTENT_TYPE, logo.content_type),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        logo.bytes,
    )
        .into_response())
}
