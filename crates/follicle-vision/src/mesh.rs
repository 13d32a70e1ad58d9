//! The 468-point face mesh: decoding its answer and mapping its points to Follicle's landmarks.
//!
//! Point numbers are MediaPipe's canonical face mesh
//! (`mediapipe/modules/face_geometry/data/canonical_face_model_uv_visualization.png`); "right"
//! is the client's right, on the photo's left.

use follicle_render::photo::{Landmark, LandmarkName};
use tract_onnx::prelude::{TValue, TVec};

use crate::detect::Face;
use crate::sample::Roi;
use crate::{FaceLandmarks, VisionError};

/// The mesh's input side, pixels.
pub(crate) const INPUT_PX: u32 = 192;
/// Points in the mesh.
pub(crate) const POINTS: usize = 468;
/// The mesh's crop from its own points is this many times their extent (MediaPipe's tracking).
const ROI_SCALE: f64 = 1.5;
/// The mesh's answer counts pixels from the first pixel's *centre*: MediaPipe samples its crop
/// with OpenCV's warp, which puts the crop's pixel `i` at `i / n` of the region, while
/// [`crate::sample::Cutout::sample`] puts it at `(i + 0.5) / n`. Without this half pixel every
/// point lands half a crop pixel (about 0.7 % of the eye distance) up and to the left; the
/// check: on a mirrored crop the face's midline points came back 1.0–2.0 crop pixels off the
/// unmirrored crop's, with it 0.3 on average (four photos).
const PIXEL_CENTRE: f64 = 0.5;
/// How many shifted crops the final look takes (test-time augmentation). One look at one crop
/// moves by 1–2 % of the eye distance when the crop moves by a pixel (over 48 randomly shifted
/// crops of each shipped photo, a standard deviation of 0.9–1.8 % a point); the median of
/// several looks is steadier. On the four shipped photos' seven points marked sure, against the
/// first hand's marks, this pipeline gives a worst point of 3.05 % and a mean of 1.94 % (before:
/// one second look, 3.8 % and 2.35 % on three photos). Alternatives, tried in a Python copy of
/// the pipeline over seven slightly different starting crops (worst point, the worst of the
/// seven): one look 3.7 %, eight on a ring 3.6 %, 12 or 16 on a ring 3.7 % and 3.6 % (more
/// cost, no gain), a 3 × 3 grid 3.9 %, rings with the crop also scaled by ±6 % 4.0 %, and a
/// mirrored crop (with MediaPipe's left/right point map) 4.8 %: the model's two eyes are not
/// mirror images of each other.
pub(crate) const SHIFTED_CROPS: usize = 8;
/// How far each shifted crop is moved, as a fraction of the crop's side (2.5 % ≈ 5 of the
/// model's 192 pixels, a few times the distance over which a single look wanders): 4 % made
/// the worst point worse (4.0 % in the same trial).
pub(crate) const SHIFT_FRACTION: f64 = 0.025;

/// Outer corner of the right eye.
const CANTHUS_RIGHT: usize = 33;
/// Outer corner of the left eye.
const CANTHUS_LEFT: usize = 263;
/// The inner ends of the eyebrows, lower and upper edge: right 55 and 107, left 285 and 336.
/// The glabella is their mean: between the brows, at their height.
const BROWS_INNER: [usize; 4] = [55, 107, 285, 336];
/// The nose tip.
const NOSE_TIP: usize = 1;
/// The outline's widest points, right and left, at the height of the ears (in front of the
/// ear canals).
const CHEEK_RIGHT: usize = 234;
const CHEEK_LEFT: usize = 454;
/// The face oval, clockwise on the photo from the top of the forehead.
const FACE_OVAL: [usize; 36] = [
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176,
    149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
];

/// The mesh's answer, in photo pixels (z in the same scale, towards the camera negative).
#[derive(Debug, Clone)]
pub(crate) struct MeshPoints {
    pub points: Vec<[f64; 3]>,
    /// The mesh's own "there is a face" score, 0–1.
    pub score: f32,
}

/// Decodes the mesh's outputs (points `[1, 1404, 1, 1]`, face flag `[1, 1, 1, 1]`) for a crop.
pub(crate) fn decode(outputs: &TVec<TValue>, roi: &Roi) -> Result<MeshPoints, VisionError> {
    let shape_error = || VisionError::Model("face mesh: unexpected outputs".into());
    let mut raw = None;
    let mut flag = None;
    for o in outputs.iter() {
        let view = o
            .try_as_plain_ram()
            .and_then(|v| v.as_slice::<f32>())
            .map_err(|_| shape_error())?;
        match view.len() {
            n if n == POINTS * 3 => raw = Some(view),
            1 => flag = Some(view[0]),
            _ => {}
        }
    }
    let (raw, flag) = (raw.ok_or_else(shape_error)?, flag.ok_or_else(shape_error)?);
    let side = f64::from(INPUT_PX);
    let points = raw
        .chunks_exact(3)
        .map(|p| {
            let [x, y] = roi.to_photo(
                (f64::from(p[0]) + PIXEL_CENTRE) / side,
                (f64::from(p[1]) + PIXEL_CENTRE) / side,
            );
            [x, y, f64::from(p[2]) / side * roi.size]
        })
        .collect();
    Ok(MeshPoints {
        points,
        score: 1.0 / (1.0 + (-flag.clamp(-80.0, 80.0)).exp()),
    })
}

/// The crops of the final look: `roi` moved by [`SHIFT_FRACTION`] of its side in
/// [`SHIFTED_CROPS`] directions evenly round a circle, in the crop's own (turned) frame.
pub(crate) fn shifted_rois(roi: &Roi) -> Vec<Roi> {
    let (s, c) = roi.angle.sin_cos();
    (0..SHIFTED_CROPS)
        .map(|k| {
            let turn = std::f64::consts::TAU * k as f64 / SHIFTED_CROPS as f64;
            let (dy, dx) = turn.sin_cos();
            let (dx, dy) = (dx * SHIFT_FRACTION * roi.size, dy * SHIFT_FRACTION * roi.size);
            Roi {
                centre: [roi.centre[0] + c * dx - s * dy, roi.centre[1] + s * dx + c * dy],
                ..*roi
            }
        })
        .collect()
}

/// Each point's median over several looks, coordinate by coordinate (a look that slipped on
/// one feature does not pull the answer, as a mean would); the score is the looks' median.
/// `None` without looks.
pub(crate) fn median(looks: &[MeshPoints]) -> Option<MeshPoints> {
    let first = looks.first()?;
    let mut column = Vec::with_capacity(looks.len());
    let points = (0..first.points.len())
        .map(|i| {
            std::array::from_fn(|k| {
                column.clear();
                column.extend(looks.iter().map(|l| l.points[i][k]));
                middle(&mut column)
            })
        })
        .collect();
    column.clear();
    column.extend(looks.iter().map(|l| f64::from(l.score)));
    let score = middle(&mut column) as f32;
    Some(MeshPoints { points, score })
}

/// The middle value (the mean of the two middle ones for an even count); sorts `values`.
/// The pipeline's looks are combined by it, and the tests' hand marks too.
pub fn middle(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// The crop for a second look: the points' extent, 1.5 times, turned by the eyes' line.
pub(crate) fn roi_from_points(points: &[[f64; 3]]) -> Roi {
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for p in points {
        for i in 0..2 {
            lo[i] = lo[i].min(p[i]);
            hi[i] = hi[i].max(p[i]);
        }
    }
    let (a, b) = (points[CANTHUS_RIGHT], points[CANTHUS_LEFT]);
    Roi {
        centre: [(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0],
        size: (hi[0] - lo[0]).max(hi[1] - lo[1]) * ROI_SCALE,
        angle: (b[1] - a[1]).atan2(b[0] - a[0]),
    }
}

/// Follicle's landmarks from the mesh. The mesh has no points on the ears: an ear is the
/// outline's point at the ear's height (234, 454), just in front of the ear canal. (The
/// detector's tragion points were tried first; on a tall photo the detector sees the face at a
/// few dozen pixels and they were up to 19 % of the eye distance off, the mesh's points at most
/// 12 %.)
pub(crate) fn landmarks(
    mesh: &MeshPoints,
    face: &Face,
    width: u32,
    height: u32,
    ear_ratio: f64,
) -> FaceLandmarks {
    let p = &mesh.points;
    let xy = |i: usize| [p[i][0], p[i][1]];
    let glabella = BROWS_INNER
        .iter()
        .fold([0.0, 0.0], |s, &i| [s[0] + p[i][0] / 4.0, s[1] + p[i][1] / 4.0]);
    // How far each side of the face reaches from the nose, along the eyes' line: turned away,
    // a side shrinks and its ear goes behind the head.
    let (r, l) = (xy(CANTHUS_RIGHT), xy(CANTHUS_LEFT));
    let len = (l[0] - r[0]).hypot(l[1] - r[1]).max(1e-9);
    let along =
        |a: [f64; 2], b: [f64; 2]| ((b[0] - a[0]) * (l[0] - r[0]) + (b[1] - a[1]) * (l[1] - r[1])) / len;
    let right_side = along(xy(CHEEK_RIGHT), xy(NOSE_TIP));
    let left_side = along(xy(NOSE_TIP), xy(CHEEK_LEFT));
    let mut points = vec![
        (LandmarkName::Glabella, glabella),
        (LandmarkName::LateralCanthusRight, r),
        (LandmarkName::LateralCanthusLeft, l),
    ];
    if right_side >= ear_ratio * left_side {
        points.push((LandmarkName::EarRight, xy(CHEEK_RIGHT)));
    }
    if left_side >= ear_ratio * right_side {
        points.push((LandmarkName::EarLeft, xy(CHEEK_LEFT)));
    }
    let inside = |q: &[f64; 2]| {
        q[0].is_finite()
            && q[1].is_finite()
            && (0.0..=f64::from(width)).contains(&q[0])
            && (0.0..=f64::from(height)).contains(&q[1])
    };
    FaceLandmarks {
        points: points
            .into_iter()
            .filter(|(_, q)| inside(q))
            .map(|(name, q)| Landmark {
                name,
                x_px: q[0],
                y_px: q[1],
            })
            .collect(),
        outline: FACE_OVAL.iter().map(|&i| xy(i)).collect(),
        score: face.score,
        width,
        height,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn look(x: f64, score: f32) -> MeshPoints {
        MeshPoints {
            points: vec![[x, -x, 2.0 * x]; 3],
            score,
        }
    }

    #[test]
    fn the_median_of_looks_ignores_one_that_slipped() {
        let looks = [look(10.0, 0.9), look(11.0, 0.8), look(500.0, 0.7)];
        let m = median(&looks).unwrap();
        assert_eq!(m.points, vec![[11.0, -11.0, 22.0]; 3]);
        assert_eq!(m.score, 0.8);
        // An even count: the mean of the two middle values.
        let m = median(&looks[..2]).unwrap();
        assert_eq!(m.points[0], [10.5, -10.5, 21.0]);
        assert!(median(&[]).is_none());
    }

    #[test]
    fn shifted_crops_ring_the_crop_in_its_own_frame() {
        let roi = Roi {
            centre: [100.0, 50.0],
            size: 200.0,
            angle: std::f64::consts::FRAC_PI_2,
        };
        let rois = shifted_rois(&roi);
        assert_eq!(rois.len(), SHIFTED_CROPS);
        let reach = SHIFT_FRACTION * roi.size;
        for r in &rois {
            let d = (r.centre[0] - roi.centre[0]).hypot(r.centre[1] - roi.centre[1]);
            assert!((d - reach).abs() < 1e-9, "{r:?}");
            assert_eq!((r.size, r.angle), (roi.size, roi.angle));
        }
        // The first moves along the crop's x axis, which a quarter turn points down the photo.
        assert!(
            (rois[0].centre[1] - (roi.centre[1] + reach)).abs() < 1e-9,
            "{:?}",
            rois[0]
        );
        // Evenly round: the shifts cancel.
        let sum = rois.iter().fold([0.0, 0.0], |s, r| {
            [
                s[0] + r.centre[0] - roi.centre[0],
                s[1] + r.centre[1] - roi.centre[1],
            ]
        });
        assert!(sum[0].abs() < 1e-9 && sum[1].abs() < 1e-9, "{sum:?}");
    }
}
