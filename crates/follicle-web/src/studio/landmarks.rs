//! A photo's landmarks: "Find landmarks" asks the face model
//! (`POST /api/v1/photos/{id}/landmarks/detect`) and shows the points over the photo as
//! markers to drag (or move with the arrow keys); when no face is found the page says why and
//! the practitioner places the points by clicking; "Save" keeps them
//! (`PUT /api/v1/photos/{id}/landmarks`). The script is `static/landmarks.js`.

use askama::Template;
use axum::extract::State;
use follicle_store::{Client, PhotoAngle, upright_size};

use super::{Nav, Page, PageResult, render};
use crate::extract::Id;
use crate::state::AppState;
use crate::wire::{Landmark, LandmarksAnswer};

#[derive(Template)]
#[template(path = "landmarks.html")]
struct LandmarksPage {
    nav: Nav,
    client: Client,
    photo_id: String,
    angle: String,
    taken: String,
    width: i64,
    height: i64,
    orientation: i64,
    saved_json: String,
    names: Vec<(&'static str, &'static str)>,
}

/// The names a practitioner places on a photo of this angle, with their labels.
fn names_for(angle: PhotoAngle) -> Vec<(&'static str, &'static str)> {
    let front = [
        (Landmark::Glabella, "Glabella (between the brows)"),
        (Landmark::LateralCanthusRight, "Right eye, outer corner"),
        (Landmark::LateralCanthusLeft, "Left eye, outer corner"),
        (Landmark::EarRight, "Right ear canal"),
        (Landmark::EarLeft, "Left ear canal"),
    ];
    let top = [
        (Landmark::Glabella, "Glabella (between the brows)"),
        (Landmark::Vertex, "Vertex (top of the head)"),
        (Landmark::CrownWhorl, "Crown whorl"),
        (Landmark::EarRight, "Right ear canal"),
        (Landmark::EarLeft, "Left ear canal"),
        (Landmark::OccipitalFringe, "Fringe at the nape"),
    ];
    let chosen: Vec<(Landmark, &'static str)> = match angle {
        PhotoAngle::Front => front.to_vec(),
        PhotoAngle::Top | PhotoAngle::Back => top.to_vec(),
        _ => front.iter().chain(top.iter().skip(1)).copied().collect(),
    };
    chosen.into_iter().map(|(l, label)| (l.as_str(), label)).collect()
}

pub(super) async fn page(State(state): State<AppState>, page: Page, Id(id): Id) -> PageResult {
    let (photo, _) = state.store().photo(&page.actor, id).await?;
    let client = state.store().client(&page.actor, photo.client_id).await?;
    let saved = state.store().photo_landmarks(&page.actor, id).await?;
    let saved_json = match saved {
        Some(s) => {
            let answer: LandmarksAnswer = s.try_into()?;
            serde_json::to_string(&answer).map_err(crate::error::ApiError::internal)?
        }
        None => String::new(),
    };
    let (width, height) = upright_size(photo.width, photo.height, photo.orientation);
    render(&LandmarksPage {
        nav: Nav::new(&page, "clients"),
        client,
        photo_id: photo.id.to_string(),
        angle: photo.angle.as_str().to_owned(),
        taken: photo.taken_at.date().to_string(),
        width,
        height,
        orientation: photo.orientation.unwrap_or(1),
        saved_json,
        names: names_for(photo.angle),
    })
}
