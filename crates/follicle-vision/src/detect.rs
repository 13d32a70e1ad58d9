//! The short-range face detector's answer, decoded as MediaPipe's graph does
//! (`face_detection_short_range_common.pbtxt`: SSD anchors, sigmoid scores, weighted
//! non-maximum suppression).

use tract_onnx::prelude::{TValue, TVec};

use crate::VisionError;
use crate::sample::{Letterbox, Roi};

/// The detector's input side, pixels.
pub(crate) const INPUT_PX: u32 = 128;
/// Anchor layers' strides; layers of one stride share a grid (two anchors a cell each).
const STRIDES: [u32; 4] = [8, 16, 16, 16];
/// Raw scores are clipped to ±this before the sigmoid (MediaPipe uses 100, which overflows
/// `exp` in single precision; 80 gives the same scores).
const RAW_SCORE_LIMIT: f32 = 80.0;
/// Detections overlapping more than this (intersection over union) are one face.
const SAME_FACE_IOU: f32 = 0.3;
/// Scores below this are not even considered (the caller applies its own threshold above it).
const LEAST_SCORE: f32 = 0.1;
/// The mesh's crop is this many times the detector's box (MediaPipe's `scale_x`/`scale_y`).
const ROI_SCALE: f64 = 1.5;
/// Six key points a face: two eyes, nose tip, mouth, two ear tragions.
pub(crate) const KEYPOINTS: usize = 6;

/// The SSD anchor centres (0–1 each way), in the model's output order.
pub(crate) fn anchors() -> Vec<[f32; 2]> {
    let mut out = Vec::new();
    let mut layer = 0;
    while layer < STRIDES.len() {
        let stride = STRIDES[layer];
        let mut repeats = 0;
        while layer < STRIDES.len() && STRIDES[layer] == stride {
            // Each layer adds two anchors a cell (aspect ratio 1 and the interpolated scale).
            repeats += 2;
            layer += 1;
        }
        let cells = INPUT_PX / stride;
        for y in 0..cells {
            for x in 0..cells {
                let centre = [(x as f32 + 0.5) / cells as f32, (y as f32 + 0.5) / cells as f32];
                out.extend(std::iter::repeat_n(centre, repeats));
            }
        }
    }
    out
}

/// One face found, in photo pixels.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Face {
    pub score: f32,
    /// xmin, ymin, xmax, ymax.
    pub bbox: [f64; 4],
    /// Key points: 0 the eye on the photo's left (the client's right), 1 the other eye, 2 nose
    /// tip, 3 mouth, 4 the tragion on the photo's left (client's right ear), 5 the other.
    pub keypoints: [[f64; 2]; KEYPOINTS],
}

impl Face {
    /// The face's width, photo pixels.
    pub fn width_px(&self) -> f64 {
        self.bbox[2] - self.bbox[0]
    }

    /// The mesh's crop: the box's centre, 1.5 times its longer side, turned so the eyes are
    /// level.
    pub fn roi(&self) -> Roi {
        let [x0, y0, x1, y1] = self.bbox;
        let [a, b] = [self.keypoints[0], self.keypoints[1]];
        Roi {
            centre: [(x0 + x1) / 2.0, (y0 + y1) / 2.0],
            size: (x1 - x0).max(y1 - y0) * ROI_SCALE,
            angle: (b[1] - a[1]).atan2(b[0] - a[0]),
        }
    }
}

/// A raw detection, 0–1 in the detector's square.
#[derive(Debug, Clone, Copy)]
struct Raw {
    score: f32,
    bbox: [f32; 4],
    keypoints: [[f32; 2]; KEYPOINTS],
}

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

/// Decodes the detector's outputs (regressors `[1, 896, 16]`, scores `[1, 896, 1]`) into faces.
pub(crate) fn decode(
    outputs: &TVec<TValue>,
    anchors: &[[f32; 2]],
    letterbox: &Letterbox,
    photo: (u32, u32),
) -> Result<Vec<Face>, VisionError> {
    let shape_error = || VisionError::Model("face detector: unexpected outputs".into());
    let mut regressors = None;
    let mut scores = None;
    for o in outputs.iter() {
        let view = o
            .try_as_plain_ram()
            .and_then(|v| v.as_slice::<f32>())
            .map_err(|_| shape_error())?;
        match o.shape() {
            [1, n, 16] if *n == anchors.len() => regressors = Some(view),
            [1, n, 1] if *n == anchors.len() => scores = Some(view),
            _ => {}
        }
    }
    let (regressors, scores) = (
        regressors.ok_or_else(shape_error)?,
        scores.ok_or_else(shape_error)?,
    );
    let side = INPUT_PX as f32;
    let mut raw: Vec<Raw> = Vec::new();
    for (i, anchor) in anchors.iter().enumerate() {
        let score = 1.0 / (1.0 + (-scores[i].clamp(-RAW_SCORE_LIMIT, RAW_SCORE_LIMIT)).exp());
        if score.is_nan() || score < LEAST_SCORE {
            continue;
        }
        let r = &regressors[i * 16..i * 16 + 16];
        let (cx, cy) = (r[0] / side + anchor[0], r[1] / side + anchor[1]);
        let (w, h) = (r[2] / side, r[3] / side);
        if !(w > 0.0 && h > 0.0) {
            continue;
        }
        let keypoints =
            std::array::from_fn(|k| [r[4 + 2 * k] / side + anchor[0], r[5 + 2 * k] / side + anchor[1]]);
        raw.push(Raw {
            score,
            bbox: [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0],
            keypoints,
        });
    }
    raw.sort_by(|a, b| b.score.total_cmp(&a.score));
    // Weighted non-maximum suppression: overlapping detections are averaged by score.
    let mut faces = Vec::new();
    while let Some(best) = raw.first().copied() {
        let (same, rest): (Vec<Raw>, Vec<Raw>) = raw
            .into_iter()
            .partition(|d| iou(&d.bbox, &best.bbox) > SAME_FACE_IOU);
        raw = rest;
        let total: f32 = same.iter().map(|d| d.score).sum();
        let mean = |f: &dyn Fn(&Raw) -> f32| same.iter().map(|d| f(d) * d.score).sum::<f32>() / total;
        let bbox: [f32; 4] = std::array::from_fn(|k| mean(&|d: &Raw| d.bbox[k]));
        let keypoints: [[f32; 2]; KEYPOINTS] = std::array::from_fn(|k| {
            [
                mean(&|d: &Raw| d.keypoints[k][0]),
                mean(&|d: &Raw| d.keypoints[k][1]),
            ]
        });
        let lo = letterbox.to_photo([bbox[0], bbox[1]], photo);
        let hi = letterbox.to_photo([bbox[2], bbox[3]], photo);
        faces.push(Face {
            score: best.score,
            bbox: [lo[0], lo[1], hi[0], hi[1]],
            keypoints: keypoints.map(|p| letterbox.to_photo(p, photo)),
        });
    }
    Ok(faces)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_match_the_models_896_outputs() {
        let a = anchors();
        assert_eq!(a.len(), 896);
        // First grid: 16 × 16 cells at stride 8, two anchors each.
        assert_eq!(a[0], [0.5 / 16.0, 0.5 / 16.0]);
        assert_eq!(a[1], a[0]);
        // Second grid: 8 × 8 cells at stride 16, six anchors each.
        assert_eq!(a[512], [0.5 / 8.0, 0.5 / 8.0]);
        assert_eq!(a[517], a[512]);
        assert_eq!(a[518], [1.5 / 8.0, 0.5 / 8.0]);
    }

    #[test]
    fn iou_of_a_box_with_itself_is_one() {
        let b = [0.1, 0.2, 0.5, 0.6];
        assert!((iou(&b, &b) - 1.0).abs() < 1e-6);
        assert_eq!(iou(&b, &[0.6, 0.6, 0.7, 0.7]), 0.0);
    }
}
