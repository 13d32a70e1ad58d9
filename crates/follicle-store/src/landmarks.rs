//! Landmarks kept with a photo (issue 12): where the practitioner left the points after the
//! face model placed them, or after placing them by hand.
//!
//! Points are in the *upright* photo's pixels (the stored bytes turned by the photo's EXIF
//! orientation, which the store keeps beside them), x to the right and y down. Their names
//! are the renderer's landmark vocabulary (`follicle_render::photo::LandmarkName`, in
//! snake_case); the web layer parses them, the store checks only that each is a short
//! identifier, given once, inside the photo.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::{StoreError, StoreResult};

/// At most this many named points a photo.
pub const MAX_LANDMARKS: usize = 32;
/// At most this many outline points a photo.
pub const MAX_OUTLINE_POINTS: usize = 256;

/// How the points came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LandmarkSource {
    /// As the face model placed them.
    Detected,
    /// Placed by the model, then moved by the practitioner.
    Adjusted,
    /// Placed by hand.
    Manual,
}

impl LandmarkSource {
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            LandmarkSource::Detected => "detected",
            LandmarkSource::Adjusted => "adjusted",
            LandmarkSource::Manual => "manual",
        }
    }

    /// Reads the stored word.
    pub fn parse(text: &str) -> StoreResult<LandmarkSource> {
        match text {
            "detected" => Ok(LandmarkSource::Detected),
            "adjusted" => Ok(LandmarkSource::Adjusted),
            "manual" => Ok(LandmarkSource::Manual),
            other => Err(StoreError::invalid(
                "source",
                format!("expected detected, adjusted or manual, got {other:?}"),
            )),
        }
    }
}

/// One named point on the photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacedLandmark {
    /// Which landmark (`glabella`, `lateral_canthus_right`, …).
    pub name: String,
    /// Pixels from the left of the upright photo.
    pub x_px: f64,
    /// Pixels from the top of the upright photo.
    pub y_px: f64,
}

/// The landmarks to keep with a photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewPhotoLandmarks {
    /// The photo.
    pub photo_id: Uuid,
    /// The named points.
    pub points: Vec<PlacedLandmark>,
    /// The face outline as found (may be empty), upright photo pixels.
    pub outline: Vec<[f64; 2]>,
    /// How the points came to be.
    pub source: LandmarkSource,
}

/// The landmarks kept with a photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoLandmarks {
    /// The photo.
    pub photo_id: Uuid,
    /// The photo's client.
    pub client_id: Uuid,
    /// The named points.
    pub points: Vec<PlacedLandmark>,
    /// The face outline, upright photo pixels.
    pub outline: Vec<[f64; 2]>,
    /// How the points came to be.
    pub source: LandmarkSource,
    /// When they were saved.
    #[serde(with = "time::serde::rfc3339")]
    pub saved_at: OffsetDateTime,
    /// Who saved them.
    pub saved_by: Uuid,
}

/// The upright size of a stored photo: width and height swap for EXIF orientations 5–8.
pub fn upright_size(width: i64, height: i64, orientation: Option<i64>) -> (i64, i64) {
    match orientation {
        Some(5..=8) => (height, width),
        _ => (width, height),
    }
}

fn inside(field: &'static str, what: &str, x: f64, y: f64, size: (i64, i64)) -> StoreResult<()> {
    let (w, h) = (size.0 as f64, size.1 as f64);
    if x.is_finite() && y.is_finite() && (0.0..=w).contains(&x) && (0.0..=h).contains(&y) {
        Ok(())
    } else {
        Err(StoreError::invalid(
            field,
            format!(
                "{what} at ({x}, {y}) is outside the {} × {} photo",
                size.0, size.1
            ),
        ))
    }
}

/// Checks the points against the upright photo's size.
pub(crate) fn validate(new: &NewPhotoLandmarks, size: (i64, i64)) -> StoreResult<()> {
    if new.points.len() > MAX_LANDMARKS {
        return Err(StoreError::invalid(
            "points",
            format!("at most {MAX_LANDMARKS} points, got {}", new.points.len()),
        ));
    }
    if new.outline.len() > MAX_OUTLINE_POINTS {
        return Err(StoreError::invalid(
            "outline",
            format!("at most {MAX_OUTLINE_POINTS} points, got {}", new.outline.len()),
        ));
    }
    for (i, p) in new.points.iter().enumerate() {
        let well_formed = !p.name.is_empty()
            && p.name.len() <= 64
            && p.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        if !well_formed {
            return Err(StoreError::invalid(
                "points",
                format!(
                    "point {i}: expected a landmark name such as glabella, got {:?}",
                    p.name
                ),
            ));
        }
        if new.points[..i].iter().any(|o| o.name == p.name) {
            return Err(StoreError::invalid(
                "points",
                format!("point {i}: {} is placed twice", p.name),
            ));
        }
        inside("points", &format!("point {i} ({})", p.name), p.x_px, p.y_px, size)?;
    }
    for (i, p) in new.outline.iter().enumerate() {
        inside("outline", &format!("outline point {i}"), p[0], p[1], size)?;
    }
    Ok(())
}
