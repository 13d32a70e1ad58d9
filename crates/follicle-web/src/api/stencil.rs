//! The printable 1:1 stencil of a stored design version: PDF (every page) or SVG (one page).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Id, QueryArgs, SignedIn};
use crate::state::AppState;

/// Which form of the stencil.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StencilQuery {
    /// `pdf` (default: every page) or `svg` (one page).
    #[param(pattern = "^(pdf|svg)$")]
    pub format: Option<String>,
    /// With `svg`: the page, 1 (hairline and zones, the default) to 1 + the sessions (each
    /// session's dots).
    #[param(minimum = 1)]
    pub page: Option<usize>,
}

/// The design's stencil at 1:1 on the clinic's paper (`render.stencil`): the hairline and
/// zone outlines developed from the mid-frontal point with a scale bar to check the print,
/// then a page of dots per session.
#[utoipa::path(get, path = "/designs/{id}/stencil", tag = "designs",
    params(("id" = Uuid, Path, description = "The design version"), StencilQuery),
    responses(
        (status = 200, description = "The stencil", content(
            (crate::wire::Binary = "application/pdf"), (String = "image/svg+xml"))),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn design_stencil(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
    QueryArgs(q): QueryArgs<StencilQuery>,
) -> ApiResult<Response> {
    let svg = match q.format.as_deref() {
        None | Some("pdf") => false,
        Some("svg") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                "format",
                format!("expected pdf or svg, got {other:?}"),
            ));
        }
    };
    if q.page.is_some() && !svg {
        return Err(ApiError::invalid(
            "page",
            "a page is chosen only with format=svg (the PDF holds every page)",
        ));
    }
    let d = state.store().design(&me.actor, id).await?;
    let settings = state.clinic_settings(&me.actor).await?;
    let pattern = state.pattern(super::records::design_request(&d)?).await?;
    let title = format!("Design version {}", d.version);
    let render = settings.render;
    let page = q.page.unwrap_or(1);
    let body = tokio::task::spawn_blocking(move || {
        let stencil = follicle_render::stencil::stencil(&pattern, &render, &title)
            .map_err(|e| ApiError::invalid("render.stencil", e.to_string()))?;
        if svg {
            if page == 0 || page > stencil.pages.len() {
                return Err(ApiError::invalid(
                    "page",
                    format!("expected 1–{}, got {page}", stencil.pages.len()),
                ));
            }
            stencil
                .to_svg(page - 1)
                .map(String::into_bytes)
                .map_err(|e| ApiError::invalid("page", e.to_string()))
        } else {
            Ok(stencil.to_pdf())
        }
    })
    .await
    .map_err(ApiError::internal)??;
    let (kind, name) = if svg {
        ("image/svg+xml", format!("stencil-v{}-page-{page}.svg", d.version))
    } else {
        ("application/pdf", format!("stencil-v{}.pdf", d.version))
    };
    Ok((
        [
            (header::CONTENT_TYPE, kind.to_string()),
            (header::CACHE_CONTROL, "private, max-age=0".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response())
}
