//! The pattern on the client's own photo.
//!
//! The user places a few landmarks on the photo (glabella, the outer eye corners, the ear
//! canals, the vertex …). The same landmarks exist on the head model; projected into the
//! view the photo was taken from, they give pairs of points, and a thin-plate spline through
//! the pairs maps every photo pixel to the model (and back): exact at the landmarks, smooth
//! between them. Each photo pixel that lands on the scalp gets the pattern's ink composited
//! over the photo's own colour there (so the client's real skin tone and lighting carry
//! through); everything else — background, face, eyes, and existing hair when asked — stays
//! as it was.
//!
//! Photos are untrusted input: the byte size and the pixel dimensions (read from the header)
//! are checked before anything is decoded, and decoding runs under `image`'s allocation limits.

use follicle_pattern::Head;
use image::{ImageReader, Limits, RgbImage};
use serde::{Deserialize, Serialize};

use crate::color::{linear_to_srgb, luminance, srgb_to_linear};
use crate::error::RenderError;
use crate::head::{Camera, hit};
use crate::moment::Moment;
use crate::scene::{ChartFrame, PolarOutline, Scene, View};

/// Largest photo file accepted, bytes.
pub const MAX_PHOTO_BYTES: usize = 25 << 20;
/// Largest photo accepted, pixels (about 40 megapixels).
pub const MAX_PHOTO_PIXELS: u64 = 40_000_000;

/// Decodes a PNG or JPEG photo, refusing anything else, anything too large and anything broken.
pub fn decode_photo(bytes: &[u8]) -> Result<RgbImage, RenderError> {
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(RenderError::Photo(format!(
            "{} bytes; at most {MAX_PHOTO_BYTES} are allowed",
            bytes.len()
        )));
    }
    let format = match bytes {
        [0x89, b'P', b'N', b'G', ..] => image::ImageFormat::Png,
        [0xFF, 0xD8, 0xFF, ..] => image::ImageFormat::Jpeg,
        _ => return Err(RenderError::Photo("not a PNG or JPEG image".into())),
    };
    let mut reader = ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(512 << 20);
    limits.max_image_width = Some(20_000);
    limits.max_image_height = Some(20_000);
    reader.limits(limits);
    let (w, h) = reader
        .into_dimensions()
        .map_err(|e| RenderError::Photo(format!("unreadable header: {e}")))?;
    if u64::from(w) * u64::from(h) > MAX_PHOTO_PIXELS || w == 0 || h == 0 {
        return Err(RenderError::Photo(format!(
            "{w} × {h} pixels; at most {MAX_PHOTO_PIXELS} pixels are allowed"
        )));
    }
    let mut reader = ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(512 << 20);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| RenderError::Photo(format!("cannot decode: {e}")))?;
    Ok(img.to_rgb8())
}

/// A landmark the user can place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LandmarkName {
    /// Between the brows.
    Glabella,
    /// Outer corner of the right eye.
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

/// A landmark placed on the photo, in photo pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Landmark {
    /// Which one.
    pub name: LandmarkName,
    /// Photo x, pixels from the left.
    pub x_px: f64,
    /// Photo y, pixels from the top.
    pub y_px: f64,
}

/// How to lay the pattern over a photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overlay {
    /// The angle the photo was taken from (not `chart`).
    pub view: View,
    /// At least three landmarks, not in a line, inside the photo.
    pub landmarks: Vec<Landmark>,
    /// Leave pixels darker than this relative luminance (0–1) untouched: existing hair.
    #[serde(default)]
    pub keep_hair_darker_than: Option<f32>,
}

fn model_point(scene: &Scene<'_>, name: LandmarkName) -> [f64; 3] {
    let l = &scene.pattern.landmarks;
    match name {
        LandmarkName::Glabella => l.glabella.surface_mm,
        LandmarkName::LateralCanthusRight => l.lateral_canthus_right.surface_mm,
        LandmarkName::LateralCanthusLeft => l.lateral_canthus_left.surface_mm,
        LandmarkName::EarRight => l.ear_canal_right.surface_mm,
        LandmarkName::EarLeft => l.ear_canal_left.surface_mm,
        LandmarkName::Vertex => l.vertex.surface_mm,
        LandmarkName::CrownWhorl => l.crown_whorl.surface_mm,
        LandmarkName::OccipitalFringe => l.occipital_fringe.surface_mm,
    }
}

/// A 2-D thin-plate spline: exact at its control points, smooth between.
#[derive(Debug, Clone)]
pub struct ThinPlate {
    from: Vec<[f64; 2]>,
    /// Per output coordinate: n radial weights then the affine part (a0, ax, ay).
    coeffs: [Vec<f64>; 2],
    scale: f64,
}

fn tps_kernel(r2: f64) -> f64 {
    if r2 <= 1e-18 { 0.0 } else { 0.5 * r2 * r2.ln() }
}

impl ThinPlate {
    /// Fits the spline taking `from[i]` to `to[i]`. Fails when the points are degenerate.
    pub fn fit(from: &[[f64; 2]], to: &[[f64; 2]]) -> Option<ThinPlate> {
        let n = from.len();
        if n < 3 || n != to.len() {
            return None;
        }
        // Normalise lengths so the system is well conditioned whatever the pixel scale.
        let scale = from
            .iter()
            .flat_map(|p| p.iter())
            .fold(1.0f64, |m, v| m.max(v.abs()));
        let pts: Vec<[f64; 2]> = from.iter().map(|p| [p[0] / scale, p[1] / scale]).collect();
        let size = n + 3;
        let mut a = vec![0.0f64; size * size];
        for i in 0..n {
            for j in 0..n {
                let (dx, dy) = (pts[i][0] - pts[j][0], pts[i][1] - pts[j][1]);
                a[i * size + j] = tps_kernel(dx * dx + dy * dy);
            }
            for (k, v) in [1.0, pts[i][0], pts[i][1]].into_iter().enumerate() {
                a[i * size + n + k] = v;
                a[(n + k) * size + i] = v;
            }
        }
        let mut coeffs: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        for (c, out) in coeffs.iter_mut().enumerate() {
            let mut b = vec![0.0; size];
            for i in 0..n {
                b[i] = to[i][c];
            }
            *out = solve(a.clone(), b, size)?;
        }
        Some(ThinPlate {
            from: pts,
            coeffs,
            scale,
        })
    }

    /// Maps a point.
    pub fn apply(&self, p: [f64; 2]) -> [f64; 2] {
        let q = [p[0] / self.scale, p[1] / self.scale];
        let n = self.from.len();
        std::array::from_fn(|c| {
            let w = &self.coeffs[c];
            let mut v = w[n] + w[n + 1] * q[0] + w[n + 2] * q[1];
            for (i, f) in self.from.iter().enumerate() {
                let (dx, dy) = (q[0] - f[0], q[1] - f[1]);
                v += w[i] * tps_kernel(dx * dx + dy * dy);
            }
            v
        })
    }
}

/// Gaussian elimination with partial pivoting; `None` when singular.
fn solve(mut a: Vec<f64>, mut b: Vec<f64>, n: usize) -> Option<Vec<f64>> {
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i * n + col].abs().total_cmp(&a[j * n + col].abs()))?;
        if a[pivot * n + col].abs() < 1e-12 {
            return None;
        }
        if pivot != col {
            for k in 0..n {
                a.swap(col * n + k, pivot * n + k);
            }
            b.swap(col, pivot);
        }
        for row in col + 1..n {
            let f = a[row * n + col] / a[col * n + col];
            for k in col..n {
                a[row * n + k] -= f * a[col * n + k];
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row * n + k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row * n + row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// The fitted warp between a photo and the model's view.
#[derive(Debug, Clone)]
pub struct PhotoWarp {
    camera: Camera,
    /// Photo pixel → model view pixel.
    pub to_model: ThinPlate,
    /// Model view pixel → photo pixel.
    pub to_photo: ThinPlate,
    /// The model landmarks, in view pixels, in the order given.
    pub model_px: Vec<[f64; 2]>,
}

impl PhotoWarp {
    /// Fits the warp for `overlay` on a `width × height` photo.
    pub fn fit(
        scene: &Scene<'_>,
        overlay: &Overlay,
        width: u32,
        height: u32,
    ) -> Result<PhotoWarp, RenderError> {
        if overlay.view == View::Chart {
            return Err(RenderError::invalid(
                "overlay.view",
                "expected front, top, left, right or back, got chart",
            ));
        }
        let camera = Camera::new(&scene.pattern.head, overlay.view, width, height)
            .ok_or_else(|| RenderError::invalid("overlay.view", "no camera for this view"))?;
        if overlay.landmarks.len() < 3 {
            return Err(RenderError::invalid(
                "overlay.landmarks",
                format!("expected at least 3 landmarks, got {}", overlay.landmarks.len()),
            ));
        }
        let mut photo_px = Vec::new();
        let mut model_px = Vec::new();
        for (i, l) in overlay.landmarks.iter().enumerate() {
            let field = format!("overlay.landmarks[{i}]");
            if !(l.x_px.is_finite() && l.y_px.is_finite())
                || l.x_px < 0.0
                || l.y_px < 0.0
                || l.x_px > f64::from(width)
                || l.y_px > f64::from(height)
            {
                return Err(RenderError::invalid(
                    &field,
                    format!("({}, {}) is outside the {width} × {height} photo", l.x_px, l.y_px),
                ));
            }
            if overlay.landmarks[..i].iter().any(|o| o.name == l.name) {
                return Err(RenderError::invalid(
                    &field,
                    format!("{:?} is placed twice", l.name),
                ));
            }
            photo_px.push([l.x_px, l.y_px]);
            model_px.push(camera.project(model_point(scene, l.name)));
        }
        // Not in a line: the largest triangle must have a real area (relative to the spread).
        let spread = photo_px
            .iter()
            .map(|p| (p[0] - photo_px[0][0]).hypot(p[1] - photo_px[0][1]))
            .fold(0.0, f64::max);
        let mut area = 0.0f64;
        for a in 0..photo_px.len() {
            for b in a + 1..photo_px.len() {
                for c in b + 1..photo_px.len() {
                    let (p, q, r) = (photo_px[a], photo_px[b], photo_px[c]);
                    area =
                        area.max(((q[0] - p[0]) * (r[1] - p[1]) - (r[0] - p[0]) * (q[1] - p[1])).abs() / 2.0);
                }
            }
        }
        if spread < 10.0 || area < 0.02 * spread * spread {
            return Err(RenderError::invalid(
                "overlay.landmarks",
                "the landmarks are (nearly) in one line or on one spot: place at least three spread across the head",
            ));
        }
        // The arrangement must agree with the model's: no mirror image, no folding.
        let orient = |pts: &[[f64; 2]]| {
            let (p, q, r) = (pts[0], pts[1], pts[2]);
            ((q[0] - p[0]) * (r[1] - p[1]) - (r[0] - p[0]) * (q[1] - p[1])).signum()
        };
        if orient(&photo_px) != orient(&model_px) {
            return Err(RenderError::invalid(
                "overlay.landmarks",
                "the landmarks are mirrored against this view (left and right swapped?)",
            ));
        }
        let impossible = || {
            RenderError::invalid(
                "overlay.landmarks",
                "these landmarks cannot be matched to the head model",
            )
        };
        let to_model = ThinPlate::fit(&photo_px, &model_px).ok_or_else(impossible)?;
        let to_photo = ThinPlate::fit(&model_px, &photo_px).ok_or_else(impossible)?;
        Ok(PhotoWarp {
            camera,
            to_model,
            to_photo,
            model_px,
        })
    }
}

/// The warp as maps between photo pixels and the chart (mm), for a page that draws the dots
/// on the photo itself: fitted once per photo and landmarks, then every dot of every edit is
/// placed by these maps (or a grid sampled from them) without fitting again.
impl PhotoWarp {
    /// The chart point (mm) under photo pixel `p`, or `None` off the head.
    pub fn photo_to_chart(&self, head: &Head, p: [f64; 2]) -> Option<[f64; 2]> {
        let m = self.to_model.apply(p);
        let (o, d) = self.camera.ray(m[0], m[1]);
        let (s, _) = hit(head, o, d)?;
        Some(head.chart_from_surface(s))
    }

    /// The photo pixel of chart point `q` (mm), or `None` when that part of the head faces
    /// away from the camera.
    pub fn chart_to_photo(&self, head: &Head, q: [f64; 2]) -> Option<[f64; 2]> {
        let p = head.surface_from_chart(q);
        if !facing(head, &self.camera, p) {
            return None;
        }
        Some(self.to_photo.apply(self.camera.project(p)))
    }
}

/// Whether surface point `p` faces the camera (its outward normal points back at it).
fn facing(head: &Head, camera: &Camera, p: [f64; 3]) -> bool {
    let n = [
        p[0] / (head.a_mm * head.a_mm),
        p[1] / (head.b_mm * head.b_mm),
        p[2] / (head.c_mm * head.c_mm),
    ];
    let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt().max(1e-12);
    (n[0] * camera.forward[0] + n[1] * camera.forward[1] + n[2] * camera.forward[2]) / len < -0.05
}

/// Where the model's landmarks fall in a `width × height` picture of `view`: a starting point
/// for the user to drag onto the photo. Only landmarks facing the camera are listed.
pub fn suggested_landmarks(scene: &Scene<'_>, view: View, width: u32, height: u32) -> Vec<Landmark> {
    let Some(camera) = Camera::new(&scene.pattern.head, view, width, height) else {
        return Vec::new();
    };
    let head = &scene.pattern.head;
    [
        LandmarkName::Glabella,
        LandmarkName::LateralCanthusRight,
        LandmarkName::LateralCanthusLeft,
        LandmarkName::EarRight,
        LandmarkName::EarLeft,
        LandmarkName::Vertex,
        LandmarkName::CrownWhorl,
        LandmarkName::OccipitalFringe,
    ]
    .into_iter()
    .filter_map(|name| {
        let p = model_point(scene, name);
        let n = [
            p[0] / (head.a_mm * head.a_mm),
            p[1] / (head.b_mm * head.b_mm),
            p[2] / (head.c_mm * head.c_mm),
        ];
        let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt().max(1e-12);
        let facing =
            (n[0] * camera.forward[0] + n[1] * camera.forward[1] + n[2] * camera.forward[2]) / len < -0.05;
        let [x, y] = camera.project(p);
        let inside = x >= 0.0 && y >= 0.0 && x <= f64::from(width) && y <= f64::from(height);
        (facing && inside).then_some(Landmark {
            name,
            x_px: x,
            y_px: y,
        })
    })
    .collect()
}

/// The photo with the pattern on it, and the warp used.
pub fn overlay(
    scene: &Scene<'_>,
    photo: &RgbImage,
    overlay: &Overlay,
    moment: &Moment,
) -> Result<(RgbImage, PhotoWarp), RenderError> {
    scene.validate(moment)?;
    if let Some(t) = overlay.keep_hair_darker_than
        && !(t.is_finite() && (0.0..=1.0).contains(&t))
    {
        return Err(RenderError::invalid(
            "overlay.keep_hair_darker_than",
            format!("expected 0–1, got {t}"),
        ));
    }
    let (w, h) = photo.dimensions();
    let warp = PhotoWarp::fit(scene, overlay, w, h)?;
    let head = &scene.pattern.head;
    let frame = ChartFrame::with_scale(&scene.pattern.outline, 1.0 / warp.camera.mm_per_px);
    let layers = scene.layers(moment, frame, crate::splat::default_threads());
    let outline = PolarOutline::new(&scene.pattern.outline);
    let mut out = photo.clone();
    for (x, y, pixel) in out.enumerate_pixels_mut() {
        let m = warp.to_model.apply([f64::from(x) + 0.5, f64::from(y) + 0.5]);
        let (o, d) = warp.camera.ray(m[0], m[1]);
        let Some((p, _)) = hit(head, o, d) else { continue };
        let q = head.chart_from_surface(p);
        if p[2] < -0.2 * head.c_mm || !outline.contains(q[0] as f32, q[1] as f32) {
            continue;
        }
        let skin = srgb_to_linear(pixel.0);
        if overlay.keep_hair_darker_than.is_some_and(|t| luminance(skin) < t) {
            continue;
        }
        let (cx, cy) = frame.to_px(q[0], q[1]);
        let ink = layers.ink.sample(cx, cy);
        if ink <= 1e-4 {
            continue;
        }
        // The photo's own pixel is the skin: its tone and lighting carry through.
        pixel.0 = linear_to_srgb(scene.optics(skin, moment).composite(skin, ink));
    }
    Ok((out, warp))
}

/// The photo and the preview side by side (before | after).
pub fn before_after(before: &RgbImage, after: &RgbImage) -> RgbImage {
    crate::sheet::side_by_side(&[before, after], &["BEFORE", "AFTER"], [255, 255, 255])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thin_plate_is_exact_at_its_points() {
        let from = [[10.0, 10.0], [200.0, 30.0], [120.0, 180.0], [60.0, 90.0]];
        let to = [[12.0, 8.0], [210.0, 40.0], [118.0, 170.0], [70.0, 85.0]];
        let tps = ThinPlate::fit(&from, &to).unwrap();
        for (f, t) in from.iter().zip(&to) {
            let g = tps.apply(*f);
            assert!(
                (g[0] - t[0]).abs() < 1e-6 && (g[1] - t[1]).abs() < 1e-6,
                "{g:?} vs {t:?}"
            );
        }
        assert!(
            ThinPlate::fit(&[[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]], &[[0.0, 0.0]; 3]).is_none(),
            "collinear"
        );
    }

    #[test]
    fn refuses_what_is_not_an_image() {
        assert!(
            decode_photo(b"GIF89a....")
                .unwrap_err()
                .to_string()
                .contains("not a PNG or JPEG")
        );
        assert!(
            decode_photo(&[0x89, b'P', b'N', b'G', 0, 0])
                .unwrap_err()
                .to_string()
                .contains("unreadable")
        );
        assert!(
            decode_photo(&vec![0u8; MAX_PHOTO_BYTES + 1])
                .unwrap_err()
                .to_string()
                .contains("at most")
        );
    }
}
