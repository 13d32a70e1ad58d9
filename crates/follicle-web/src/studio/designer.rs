//! The designer: the head chart with the dots, the hairline's control points to drag, zones to
//! paint or erase, style and density, sessions and "in N years", undo/redo, and saving as a
//! new design version. The page gives the script the design; the script asks the API for the
//! dots (`POST /api/v1/pattern`, binary) after every change and for previews
//! (`POST /api/v1/preview`).

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
    zone_names: Vec<&'static str>,
}

pub(super) async fn designer(State(state): State<AppState>, page: Page, Id(id): Id) -> PageResult {
    let design = state.store().design(&page.actor, id).await?;
    let client = state.store().client(&page.actor, design.client_id).await?;
    let request = design_request(&design)?;
    let request_json = serde_json::to_string(&request).map_err(crate::error::ApiError::internal)?;
    render(&DesignerPage {
        nav: Nav::new(&page, "clients"),
        client,
        design_id: design.id.to_string(),
        version: design.version,
        consultation_id: design.consultation_id.map(|c| c.to_string()).unwrap_or_default(),
        request_json,
        zone_names: follicle_core::ZoneKind::ALL.iter().map(|z| z.as_str()).collect(),
    })
}
