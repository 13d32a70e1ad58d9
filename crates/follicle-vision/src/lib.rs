//! Face landmarks on the client's photo, found inside Follicle: no network, no Python.
//!
//! Two of Google's MediaPipe models (Apache-2.0, see `assets/models/ORIGIN.md`), converted to
//! ONNX and run with `tract-onnx`:
//!
//! 1. the short-range **face detector** (BlazeFace) on the whole photo, letterboxed to
//!    128 × 128: a box and six key points per face (eyes, nose tip, mouth, both ear tragions);
//! 2. the **face mesh** (468 points) on a 192 × 192 crop around the face, turned so the eyes
//!    are level, then again on the crop its own points give (MediaPipe's tracking step):
//!    eight times, that crop shifted by a few pixels each time, taking each point's median —
//!    one look wanders by 1–2 % of the eye distance with the crop, the median much less.
//!
//! The 468 points are mapped to Follicle's landmark vocabulary
//! ([`follicle_render::photo::LandmarkName`]): the glabella, the two lateral canthi and, where
//! visible, the two ears; the face outline is returned too so the studio can draw it. Anything
//! that stops this — not an image, no face, several faces, a face too small — is a
//! [`VisionError`] whose message tells the practitioner to place the points by hand.
//!
//! ```
//! use follicle_vision::{FaceLandmarker, VisionError};
//!
//! let landmarker = FaceLandmarker::new().unwrap();
//! // A grey wall has no face in it: a clear error, not a guess.
//! let wall = image::RgbImage::from_pixel(320, 240, image::Rgb([128, 128, 128]));
//! let err = landmarker.find(&wall).unwrap_err();
//! assert!(matches!(err, VisionError::NoFace));
//! assert!(err.to_string().contains("by hand"));
//! ```
//!
//! Memory is bounded: the detector sees a 128-pixel thumbnail, the mesh a crop of the face
//! reduced to at most [`DetectOptions::crop_max_px`] before sampling; photos are decoded under
//! `follicle_render::photo`'s limits. [`decode_upright`] turns a photo upright from its EXIF
//! orientation (or the one the store kept when it stripped EXIF).
#![deny(missing_docs)]

mod detect;
mod mesh;
mod orient;
mod sample;

use std::io::Cursor;

use follicle_render::photo::{Landmark, LandmarkName};
use image::RgbImage;
use serde::{Deserialize, Serialize};
use tract_onnx::prelude::*;

pub use mesh::middle;
pub use orient::{decode_upright, exif_orientation, orient};

/// The detector, as shipped (see `assets/models/ORIGIN.md`).
static DETECTOR_ONNX: &[u8] = include_bytes!("../../../assets/models/face_detection_short_range.onnx");
/// The 468-point face mesh, as shipped.
static MESH_ONNX: &[u8] = include_bytes!("../../../assets/models/face_landmark.onnx");

/// Why landmarks could not be found. Every message ends by telling the practitioner to place
/// the points by hand, which always works.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum VisionError {
    /// The bytes are not a usable PNG or JPEG photo.
    #[error("photo: {0}; place the landmarks by hand on another photo")]
    NotAnImage(String),
    /// No face was found.
    #[error(
        "no face found in this photo (it needs the whole face, from the front, lit, not too far away); place the landmarks by hand"
    )]
    NoFace,
    /// More than one face of similar size.
    #[error(
        "{count} faces found in this photo, expected one; crop it to the client or place the landmarks by hand"
    )]
    SeveralFaces {
        /// How many.
        count: usize,
    },
    /// The face is there but too small to place points on reliably.
    #[error(
        "the face is {width_px} px wide in this photo, at least {min_px} px are needed; take it closer or place the landmarks by hand"
    )]
    FaceTooSmall {
        /// The face's width (the detector's box), photo pixels.
        width_px: u32,
        /// The least width accepted.
        min_px: u32,
    },
    /// A model could not be loaded or run (a damaged model file).
    #[error("the face model cannot be used ({0}); place the landmarks by hand")]
    Model(String),
}

/// What the detector and the mesh must see before their answer is used. These are properties
/// of the models (MediaPipe's own thresholds) and of the photo's size, not clinical figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectOptions {
    /// A detection counts as a face above this score (0–1); MediaPipe's short-range graph uses
    /// 0.5.
    pub min_face_score: f32,
    /// The mesh's own face-presence score must exceed this (0–1); MediaPipe uses 0.5.
    pub min_mesh_score: f32,
    /// Faces narrower than this, in photo pixels, are refused: the mesh sees the face at 192
    /// pixels across 1.5 face widths, and a face much smaller than 128 px is upsampled blur.
    pub min_face_px: u32,
    /// Other faces count as "several" when at least this fraction of the largest face's width
    /// (a portrait on the wall behind the client does not).
    pub other_face_fraction: f32,
    /// An ear is listed only when the face is turned so little that the ear's side of the face
    /// is at least this fraction of the other side's width (measured from the nose to the face
    /// outline); turned further, that ear is behind the head.
    pub ear_visible_ratio: f64,
    /// The face crop is reduced to at most this many pixels across before the 192-pixel
    /// sample, so a 40-megapixel photo costs no more than a small one and is not aliased.
    pub crop_max_px: u32,
}

impl Default for DetectOptions {
    fn default() -> DetectOptions {
        DetectOptions {
            min_face_score: 0.5,
            min_mesh_score: 0.5,
            min_face_px: 80,
            other_face_fraction: 0.5,
            ear_visible_ratio: 0.45,
            crop_max_px: 384,
        }
    }
}

/// The landmarks found on one face, in photo pixels (x right, y down).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceLandmarks {
    /// Glabella, both lateral canthi, and each ear where visible.
    pub points: Vec<Landmark>,
    /// The face outline (MediaPipe's face oval, 36 points), clockwise from the top of the
    /// forehead, for the studio to draw.
    pub outline: Vec<[f64; 2]>,
    /// The detector's score for this face (0–1).
    pub score: f32,
    /// The photo's width, pixels.
    pub width: u32,
    /// The photo's height, pixels.
    pub height: u32,
}

impl FaceLandmarks {
    /// The point of this name, if found.
    pub fn point(&self, name: LandmarkName) -> Option<&Landmark> {
        self.points.iter().find(|p| p.name == name)
    }
}

type Plan = std::sync::Arc<TypedRunnableModel>;

/// The two models, loaded once (tens of milliseconds) and shared: `find` takes `&self`, so one
/// landmarker serves every thread.
#[derive(Debug)]
pub struct FaceLandmarker {
    detector: Plan,
    mesh: Plan,
    anchors: Vec<[f32; 2]>,
}

fn load(bytes: &[u8], what: &str) -> Result<Plan, VisionError> {
    let model_error = |e: TractError| VisionError::Model(format!("{what}: {e}"));
    tract_onnx::onnx()
        .model_for_read(&mut Cursor::new(bytes))
        .map_err(model_error)?
        .into_optimized()
        .map_err(model_error)?
        .into_runnable()
        .map_err(model_error)
}

impl FaceLandmarker {
    /// Loads the models built into Follicle.
    pub fn new() -> Result<FaceLandmarker, VisionError> {
        FaceLandmarker::from_onnx(DETECTOR_ONNX, MESH_ONNX)
    }

    /// Loads the models from ONNX bytes (the detector, then the mesh); a damaged model is a
    /// [`VisionError::Model`].
    pub fn from_onnx(detector: &[u8], mesh: &[u8]) -> Result<FaceLandmarker, VisionError> {
        let landmarker = FaceLandmarker {
            detector: load(detector, "face detector")?,
            mesh: load(mesh, "face mesh")?,
            anchors: detect::anchors(),
        };
        // A model that loads but answers in another shape is as unusable as a broken one.
        let probe = RgbImage::new(8, 8);
        landmarker.detect(&probe)?;
        landmarker.run_mesh(
            &sample::Roi {
                centre: [4.0, 4.0],
                size: 8.0,
                angle: 0.0,
            },
            &probe,
            192,
        )?;
        Ok(landmarker)
    }

    /// Finds the landmarks on an upright photo with the default [`DetectOptions`].
    pub fn find(&self, photo: &RgbImage) -> Result<FaceLandmarks, VisionError> {
        self.find_with(photo, &DetectOptions::default())
    }

    /// Finds the landmarks on an upright photo.
    pub fn find_with(&self, photo: &RgbImage, options: &DetectOptions) -> Result<FaceLandmarks, VisionError> {
        let (width, height) = photo.dimensions();
        if width == 0 || height == 0 {
            return Err(VisionError::NotAnImage("the photo has no pixels".into()));
        }
        let faces = self.detect(photo)?;
        let faces: Vec<detect::Face> = faces
            .into_iter()
            .filter(|f| f.score > options.min_face_score)
            .collect();
        let Some(largest) = faces.iter().max_by(|a, b| a.width_px().total_cmp(&b.width_px())) else {
            return Err(VisionError::NoFace);
        };
        let count = faces
            .iter()
            .filter(|f| f.width_px() >= f64::from(options.other_face_fraction) * largest.width_px())
            .count();
        if count > 1 {
            return Err(VisionError::SeveralFaces { count });
        }
        let face_px = largest.width_px();
        if face_px < f64::from(options.min_face_px) {
            return Err(VisionError::FaceTooSmall {
                width_px: face_px.round() as u32,
                min_px: options.min_face_px,
            });
        }
        // First look: the crop from the detector's box. Then the crop from the mesh's own points
        // (a tighter, better-turned crop, as MediaPipe's tracking does), looked at several
        // times, slightly shifted each time, and the median taken (`mesh::SHIFTED_CROPS`).
        let first = self.run_mesh(&largest.roi(), photo, options.crop_max_px)?;
        if first.score <= options.min_mesh_score {
            return Err(VisionError::NoFace);
        }
        let rois = mesh::shifted_rois(&mesh::roi_from_points(&first.points));
        let looks = match sample::Cutout::new(photo, &rois, mesh::INPUT_PX, options.crop_max_px) {
            Some(cutout) => rois
                .iter()
                .map(|roi| self.look(&cutout, roi))
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        let looks: Vec<mesh::MeshPoints> = looks
            .into_iter()
            .filter(|l| l.score > options.min_mesh_score)
            .collect();
        let found = mesh::median(&looks).unwrap_or(first);
        Ok(mesh::landmarks(
            &found,
            largest,
            width,
            height,
            options.ear_visible_ratio,
        ))
    }

    #[inline(never)] // a stage of its own in scripts/callgrind-vision
    fn detect(&self, photo: &RgbImage) -> Result<Vec<detect::Face>, VisionError> {
        let (input, letterbox) = sample::letterbox(photo, detect::INPUT_PX);
        let outputs = self
            .detector
            .run(tvec!(input.into_tvalue()))
            .map_err(|e| VisionError::Model(format!("face detector: {e}")))?;
        detect::decode(&outputs, &self.anchors, &letterbox, photo.dimensions())
    }

    fn run_mesh(
        &self,
        roi: &sample::Roi,
        photo: &RgbImage,
        crop_max_px: u32,
    ) -> Result<mesh::MeshPoints, VisionError> {
        self.mesh_on(sample::crop(photo, roi, mesh::INPUT_PX, crop_max_px), roi)
    }

    /// One look of the mesh at `roi`, sampled from a cut-out already made.
    fn look(&self, cutout: &sample::Cutout, roi: &sample::Roi) -> Result<mesh::MeshPoints, VisionError> {
        self.mesh_on(cutout.sample(roi, mesh::INPUT_PX), roi)
    }

    #[inline(never)] // a stage of its own in scripts/callgrind-vision
    fn mesh_on(&self, input: Tensor, roi: &sample::Roi) -> Result<mesh::MeshPoints, VisionError> {
        let outputs = self
            .mesh
            .run(tvec!(input.into_tvalue()))
            .map_err(|e| VisionError::Model(format!("face mesh: {e}")))?;
        mesh::decode(&outputs, roi)
    }
}
