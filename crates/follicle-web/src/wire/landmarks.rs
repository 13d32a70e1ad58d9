//! Landmarks on a photo: what the face model found, and what the practitioner keeps.

use follicle_render::photo::LandmarkName;
use follicle_store::{LandmarkSource, NewPhotoLandmarks, PhotoLandmarks, PlacedLandmark};
use follicle_vision::FaceLandmarks;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::ApiError;

/// A landmark's name (the renderer's photo landmarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Landmark {
    /// Between the brows.
    Glabella,
    /// Outer corner of the right eye (on a front photo, the eye on the photo's left).
    LateralCanthusRight,
    /// Outer corner of the left eye.
    LateralCanthusLeft,
    /// Right ear canal.
    EarRight,
    /// Left ear canal.
    EarLeft,
    /// Top of the head.
    Vertex,
    /// Centre of the crown whorl.
    CrownWhorl,
    /// Lowest point of the fringe at the nape.
    OccipitalFringe,
}

impl From<LandmarkName> for Landmark {
    fn from(n: LandmarkName) -> Landmark {
        match n {
            LandmarkName::Glabella => Landmark::Glabella,
            LandmarkName::LateralCanthusRight => Landmark::LateralCanthusRight,
            LandmarkName::LateralCanthusLeft => Landmark::LateralCanthusLeft,
            LandmarkName::EarRight => Landmark::EarRight,
            LandmarkName::EarLeft => Landmark::EarLeft,
            LandmarkName::Vertex => Landmark::Vertex,
            LandmarkName::CrownWhorl => Landmark::CrownWhorl,
            LandmarkName::OccipitalFringe => Landmark::OccipitalFringe,
        }
    }
}

impl From<Landmark> for LandmarkName {
    fn from(n: Landmark) -> LandmarkName {
        match n {
            Landmark::Glabella => LandmarkName::Glabella,
            Landmark::LateralCanthusRight => LandmarkName::LateralCanthusRight,
            Landmark::LateralCanthusLeft => LandmarkName::LateralCanthusLeft,
            Landmark::EarRight => LandmarkName::EarRight,
            Landmark::EarLeft => LandmarkName::EarLeft,
            Landmark::Vertex => LandmarkName::Vertex,
            Landmark::CrownWhorl => LandmarkName::CrownWhorl,
            Landmark::OccipitalFringe => LandmarkName::OccipitalFringe,
        }
    }
}

impl Landmark {
    /// The stored word (snake_case, as in JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Landmark::Glabella => "glabella",
            Landmark::LateralCanthusRight => "lateral_canthus_right",
            Landmark::LateralCanthusLeft => "lateral_canthus_left",
            Landmark::EarRight => "ear_right",
            Landmark::EarLeft => "ear_left",
            Landmark::Vertex => "vertex",
            Landmark::CrownWhorl => "crown_whorl",
            Landmark::OccipitalFringe => "occipital_fringe",
        }
    }

    /// Reads a stored word.
    pub fn parse(text: &str) -> Option<Landmark> {
        [
            Landmark::Glabella,
            Landmark::LateralCanthusRight,
            Landmark::LateralCanthusLeft,
            Landmark::EarRight,
            Landmark::EarLeft,
            Landmark::Vertex,
            Landmark::CrownWhorl,
            Landmark::OccipitalFringe,
        ]
        .into_iter()
        .find(|l| l.as_str() == text)
    }
}

/// A landmark on the photo, in the upright photo's pixels (x right, y down).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LandmarkPoint {
    /// Which landmark.
    pub name: Landmark,
    /// Pixels from the left.
    pub x_px: f64,
    /// Pixels from the top.
    pub y_px: f64,
}

/// How the points came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LandmarkOrigin {
    /// As the face model placed them.
    Detected,
    /// Placed by the model, then moved by the practitioner.
    Adjusted,
    /// Placed by hand.
    Manual,
}

impl From<LandmarkSource> for LandmarkOrigin {
    fn from(s: LandmarkSource) -> LandmarkOrigin {
        match s {
            LandmarkSource::Detected => LandmarkOrigin::Detected,
            LandmarkSource::Adjusted => LandmarkOrigin::Adjusted,
            LandmarkSource::Manual => LandmarkOrigin::Manual,
        }
    }
}

impl From<LandmarkOrigin> for LandmarkSource {
    fn from(s: LandmarkOrigin) -> LandmarkSource {
        match s {
            LandmarkOrigin::Detected => LandmarkSource::Detected,
            LandmarkOrigin::Adjusted => LandmarkSource::Adjusted,
            LandmarkOrigin::Manual => LandmarkSource::Manual,
        }
    }
}

/// What the face model found on a photo: the points to drag into place, and the face outline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DetectedLandmarksAnswer {
    /// The photo.
    pub photo_id: Uuid,
    /// The upright photo's width, pixels.
    pub width: u32,
    /// The upright photo's height, pixels.
    pub height: u32,
    /// Glabella, both lateral canthi, and each ear where visible.
    pub points: Vec<LandmarkPoint>,
    /// The face outline, 36 points clockwise from the top of the forehead, `[x, y]` pixels.
    pub outline: Vec<[f64; 2]>,
    /// The detector's score for the face (0–1).
    pub score: f32,
}

impl DetectedLandmarksAnswer {
    /// The answer for a photo.
    pub fn new(photo_id: Uuid, found: FaceLandmarks) -> DetectedLandmarksAnswer {
        let FaceLandmarks {
            points,
            outline,
            score,
            width,
            height,
        } = found;
        DetectedLandmarksAnswer {
            photo_id,
            width,
            height,
            points: points
                .into_iter()
                .map(|p| LandmarkPoint {
                    name: p.name.into(),
                    x_px: p.x_px,
                    y_px: p.y_px,
                })
                .collect(),
            outline,
            score,
        }
    }
}

/// The landmarks to keep with a photo.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LandmarksInput {
    /// The points, each name once, inside the upright photo.
    pub points: Vec<LandmarkPoint>,
    /// The face outline to keep with them (as found; may be left out).
    #[serde(default)]
    pub outline: Vec<[f64; 2]>,
    /// How the points came to be.
    pub source: LandmarkOrigin,
}

impl LandmarksInput {
    /// The store's input for a photo.
    pub fn into_new(self, photo_id: Uuid) -> NewPhotoLandmarks {
        NewPhotoLandmarks {
            photo_id,
            points: self
                .points
                .into_iter()
                .map(|p| PlacedLandmark {
                    name: p.name.as_str().to_owned(),
                    x_px: p.x_px,
                    y_px: p.y_px,
                })
                .collect(),
            outline: self.outline,
            source: self.source.into(),
        }
    }
}

/// The landmarks kept with a photo.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LandmarksAnswer {
    /// The photo.
    pub photo_id: Uuid,
    /// The photo's client.
    pub client_id: Uuid,
    /// The points, upright photo pixels.
    pub points: Vec<LandmarkPoint>,
    /// The face outline kept with them, `[x, y]` pixels.
    pub outline: Vec<[f64; 2]>,
    /// How the points came to be.
    pub source: LandmarkOrigin,
    /// When they were saved.
    #[serde(with = "time::serde::rfc3339")]
    pub saved_at: OffsetDateTime,
    /// Who saved them.
    pub saved_by: Uuid,
}

impl TryFrom<PhotoLandmarks> for LandmarksAnswer {
    type Error = ApiError;

    fn try_from(row: PhotoLandmarks) -> Result<LandmarksAnswer, ApiError> {
        let PhotoLandmarks {
            photo_id,
            client_id,
            points,
            outline,
            source,
            saved_at,
            saved_by,
        } = row;
        let points = points
            .into_iter()
            .map(|p| {
                Landmark::parse(&p.name)
                    .map(|name| LandmarkPoint {
                        name,
                        x_px: p.x_px,
                        y_px: p.y_px,
                    })
                    .ok_or_else(|| ApiError::internal(format!("stored landmark {:?} is not known", p.name)))
            })
            .collect::<Result<_, _>>()?;
        Ok(LandmarksAnswer {
            photo_id,
            client_id,
            points,
            outline,
            source: source.into(),
            saved_at,
            saved_by,
        })
    }
}
