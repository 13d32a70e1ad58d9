//! The designer: the head chart with the dots, the hairline's control points to drag, zones to
//! paint or erase, style and density, sessions and "in N years", undo/redo, and saving as a
//! new design version with the plan and quote that go with it. The page gives the script the
//! design; the script opens an edit session and sends every edit to it
//! (`POST /api/v1/designer-sessions/{id}/edits`, see [`crate::designer`]), which answers the
//! tiles of dots that changed and the hours, sessions and price of the design as it stands;
//! previews come from `POST /api/v1/preview`. Beside the chart, the photo view
//! (`static/photo-view.js`) shows the design on the client's photos, on the landmarks kept with
//! each photo (found by the face model when none are kept, or placed by hand; saved as they
//! are moved), and links the client sheet of the version as saved: see [`crate::photo_view`].

use askama::Template;
use axum::extract::State;
use follicle_store::Client;

use super::{Nav, Page, PageResult, render};
use crate::api::records::design_request;
use crate::extract::Id;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "designer.html")]
struct DesignerPage {
    nav: Nav,
    client: Client,
    design_id: String,
    version: i64,
    consultation_id: String,
    request_json: String,
    plan_summary: String,
    zone_names: Vec<&'static str>,
    /// The client's photos of the standard angles, newest first, as JSON for the photo view.
    photos_json: String,
    has_photos: bool,
}

/// A photo the designer's photo view can show the design on.
#[derive(serde::Serialize)]
struct PhotoChoice {
    id: String,
    angle: &'static str,
    date: String,
    /// The upright photo's size (width and height swap for orientations 5–8).
    width: i64,
    height: i64,
    /// The EXIF orientation the store kept (1–8): the page turns the photo upright by it, as
    /// the landmarks are kept in the upright photo's pixels.
    orientation: i64,
}

pub(super) async fn designer(State(state): State<AppState>, page: Page, Id(id): Id) -> PageResult {
    let design = state.store().design(&page.actor, id).await?;
    let client = state.store().client(&page.actor, design.client_id).await?;
    let request = design_request(&design)?;
    let request_json = serde_json::to_string(&request).map_err(crate::error::ApiError::internal)?;
    let mut photos = state.store().photos(&page.actor, design.client_id).await?;
    photos.retain(|p| super::photos::STANDARD_ANGLES.contains(&p.angle));
    photos.sort_by_key(|p| std::cmp::Reverse(p.taken_at));
    let choices: Vec<PhotoChoice> = photos
        .iter()
        .map(|p| {
            let (width, height) = follicle_store::upright_size(p.width, p.height, p.orientation);
            PhotoChoice {
                id: p.id.to_string(),
                angle: p.angle.as_str(),
                date: p.taken_at.date().to_string(),
                width,
                height,
                orientation: p.orientation.unwrap_or(1),
            }
        })
        .collect();
    let photos_json = serde_json::to_string(&choices).map_err(crate::error::ApiError::internal)?;
    render(&DesignerPage {
        nav: Nav::new(&page, "clients"),
        client,
        design_id: design.id.to_string(),
        version: design.version,
        consultation_id: design.consultation_id.map(|c| c.to_string()).unwrap_or_default(),
        request_json,
        plan_summary: design.plan.as_ref().map(plan_summary).unwrap_or_default(),
        zone_names: follicle_core::ZoneKind::ALL.iter().map(|z| z.as_str()).collect(),
        has_photos: !choices.is_empty(),
        photos_json,
    })
}

/// The designer's figures for a stored plan (the script shows the same after every edit).
fn plan_summary(plan: &follicle_store::PlanRecord) -> String {
    let price = plan.quote.as_ref().map_or_else(
        || "no quote".to_owned(),
        |q| format!("{} {}", q.currency, q.total),
    );
    format!(
        "{} sessions · {:.2} h · {} dots · {price}",
        plan.sessions.len(),
        plan.total_hours,
        plan.total_dots
    )
}
