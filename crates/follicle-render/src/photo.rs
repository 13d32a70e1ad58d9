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

use crate::color::{Linear, linear_to_srgb, luminance, srgb_to_linear};
use crate::error::RenderError;
use crate::head::{Camera, hit};
use crate::moment::Moment;
use crate::scene::{ChartFrame, Scene, View, Window};
use crate::splat::{Binned, InkBuffer, Kernel, NEVER, default_threads, par_bands};

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

/// Grid step, photo pixels, at which the warp is evaluated exactly; pixels between are
/// interpolated (the warp is smooth at this scale).
const GRID_PX: usize = 8;

/// A client's photo prepared for the pattern: where each pixel lies on the scalp chart, the
/// photo's own illumination, the client's skin and fringe tone as the photo shows them.
/// Prepared once per photo and landmarks; [`PhotoCanvas::render`] then draws any moment.
///
/// The ink changes the skin *under the photo's own light*: each scalp pixel is split into
/// shine (light above its illumination by more than `[render.photo] shine_threshold`, which
/// the ink under the skin does not touch) and the rest, which the ink darkens as
/// transmittance in linear light (`[render.optics]`), with the optics of the client's skin
/// as sampled from the photo — not of each pixel, so a shadow is not taken for darker skin.
/// Shading, highlights and shine stay where the photo has them; on dark skin the optics'
/// surface share keeps the contrast as low as it really is (DOMAIN §5).
#[derive(Debug, Clone)]
pub struct PhotoCanvas {
    photo: RgbImage,
    warp: PhotoWarp,
    /// Chart position (mm) of each pixel that takes ink; NaN where the photo stays as it is.
    chart_mm: Vec<[f32; 2]>,
    /// Illumination (luminance of a wide blur) at each pixel.
    light: Vec<f32>,
    /// Scalp pixels: bounding box (x0, y0, x1, y1), for crops.
    scalp_box: [u32; 4],
    /// The pixels that take ink, as runs `[x0, x1)` row by row: the runs of row `y` are
    /// `runs[row_runs[y]..row_runs[y + 1]]`. A preview visits these and nothing else.
    runs: Vec<[u32; 2]>,
    row_runs: Vec<u32>,
    /// The chart's box (x0, y0, x1, y1, mm) round every pixel that takes ink; `None` when none
    /// does. A preview splats only the part of the chart raster under it.
    chart_box_mm: Option<[f32; 4]>,
    /// The last preview's ink raster, for the next one to reuse.
    scratch: Scratch,
    /// Photo pixels per mm on the head: the chart raster is splatted at this scale, so each
    /// photo pixel samples ink at its own resolution (no aliasing of dots finer than a pixel).
    px_per_mm: f64,
    /// The scalp skin's colour on the photo (linear, at the photo's mean light there).
    skin: Linear,
    /// The fringe's colour where the pattern meets existing hair (linear), if the photo shows one.
    fringe: Option<Linear>,
}

impl PhotoCanvas {
    /// Prepares `photo` for the pattern of `scene` laid over it as `overlay` says.
    pub fn new(scene: &Scene<'_>, photo: &RgbImage, overlay: &Overlay) -> Result<PhotoCanvas, RenderError> {
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
        let settings = &scene.settings.photo;
        let (wu, hu) = (w as usize, h as usize);
        // Photo pixels per mm on the head: the landmarks' spread on the photo against the model's.
        let spread = |pts: &[[f64; 2]]| {
            let n = pts.len() as f64;
            let c = [
                pts.iter().map(|p| p[0]).sum::<f64>() / n,
                pts.iter().map(|p| p[1]).sum::<f64>() / n,
            ];
            pts.iter().map(|p| (p[0] - c[0]).hypot(p[1] - c[1])).sum::<f64>() / n
        };
        let photo_px: Vec<[f64; 2]> = overlay.landmarks.iter().map(|l| [l.x_px, l.y_px]).collect();
        let px_per_mm = spread(&photo_px) / spread(&warp.model_px).max(f64::EPSILON) / warp.camera.mm_per_px;

        // Where each pixel lies on the chart: exact on a grid, interpolated between.
        let head = &scene.pattern.head;
        // The face below the brow takes no ink, whatever the warp does at the head's edge.
        let brow = scene.pattern.landmarks.glabella.surface_mm[2];
        let (gw, gh) = (wu.div_ceil(GRID_PX) + 1, hu.div_ceil(GRID_PX) + 1);
        let exact = |x: f64, y: f64| -> [f32; 2] {
            let m = warp.to_model.apply([x, y]);
            let (o, d) = warp.camera.ray(m[0], m[1]);
            match hit(head, o, d) {
                Some((p, _)) if p[2] >= brow.min(-0.2 * head.c_mm) && (p[1] < 0.0 || p[2] >= brow) => {
                    let q = head.chart_from_surface(p);
                    [q[0] as f32, q[1] as f32]
                }
                _ => [f32::NAN; 2],
            }
        };
        let grid: Vec<[f32; 2]> = (0..gw * gh)
            .map(|i| {
                exact(
                    ((i % gw) * GRID_PX) as f64 + 0.5,
                    ((i / gw) * GRID_PX) as f64 + 0.5,
                )
            })
            .collect();
        let mut chart_mm = vec![[f32::NAN; 2]; wu * hu];
        par_bands(
            &mut chart_mm,
            wu,
            default_threads(),
            &NEVER,
            || (),
            |_, y0, band| {
                for (r, row) in band.chunks_exact_mut(wu).enumerate() {
                    let y = y0 + r;
                    let (gy, fy) = (y / GRID_PX, (y % GRID_PX) as f32 / GRID_PX as f32);
                    for (x, out) in row.iter_mut().enumerate() {
                        let (gx, fx) = (x / GRID_PX, (x % GRID_PX) as f32 / GRID_PX as f32);
                        let c = [
                            grid[gy * gw + gx],
                            grid[gy * gw + gx + 1],
                            grid[(gy + 1) * gw + gx],
                            grid[(gy + 1) * gw + gx + 1],
                        ];
                        *out = if c.iter().all(|p| p[0].is_finite()) {
                            std::array::from_fn(|k| {
                                let top = c[0][k] + (c[1][k] - c[0][k]) * fx;
                                let bottom = c[2][k] + (c[3][k] - c[2][k]) * fx;
                                top + (bottom - top) * fy
                            })
                        } else if c.iter().any(|p| p[0].is_finite()) {
                            exact(x as f64 + 0.5, y as f64 + 0.5)
                        } else {
                            [f32::NAN; 2]
                        };
                    }
                }
            },
        );

        let lum: Vec<f32> = photo.pixels().map(|p| luminance(srgb_to_linear(p.0))).collect();
        let light = illumination(
            &lum,
            wu,
            hu,
            f64::from(settings.illumination_radius_mm) * px_per_mm,
        );

        // The treated area and the band round it, on a coarse chart grid.
        let cells = TreatedCells::new(scene, settings.fringe_band_mm);
        // The scalp skin: pixels in the treated area, not hair, normalised to their light.
        let mut scalp: Vec<usize> = (0..wu * hu)
            .filter(|&i| chart_mm[i][0].is_finite() && cells.treated(chart_mm[i]))
            .collect();
        let relative = |i: usize| lum[i] / light[i].max(1e-4);
        let mut rel: Vec<f32> = scalp.iter().map(|&i| relative(i)).collect();
        rel.sort_by(f32::total_cmp);
        let median_rel = rel.get(rel.len() / 2).copied().unwrap_or(1.0);
        let is_hair = |i: usize| relative(i) < settings.hair_luminance_share * median_rel;
        scalp.retain(|&i| !is_hair(i));
        let mean = |ids: &[usize]| -> Option<Linear> {
            (!ids.is_empty()).then(|| {
                let mut sum = [0.0f64; 3];
                for &i in ids {
                    let p = srgb_to_linear(photo.as_raw()[3 * i..3 * i + 3].try_into().expect("3 bytes"));
                    for c in 0..3 {
                        sum[c] += f64::from(p[c]);
                    }
                }
                sum.map(|v| (v / ids.len() as f64) as f32)
            })
        };
        // The middle half by brightness: robust to shine, shadow, and the backdrop where the
        // model's head is wider than the photo's (along the silhouette).
        let mut by_light = scalp.clone();
        by_light.sort_by(|&a, &b| lum[a].total_cmp(&lum[b]));
        let middle = &by_light[by_light.len() / 4..by_light.len() - by_light.len() / 4];
        let skin = mean(middle).unwrap_or_else(|| scene.skin.linear_or_typical(scene.settings));
        let fringe_px: Vec<usize> = (0..wu * hu)
            .filter(|&i| chart_mm[i][0].is_finite() && cells.in_band(chart_mm[i]) && is_hair(i))
            .collect();
        let fringe = (fringe_px.len() * 200 >= scalp.len().max(1))
            .then(|| mean(&fringe_px))
            .flatten();

        // Pixels that stay as they are: existing hair (the pattern blends into it), and what
        // the caller marks as hair.
        let mut scalp_box = [u32::MAX, u32::MAX, 0, 0];
        for (i, c) in chart_mm.iter_mut().enumerate() {
            if !c[0].is_finite() {
                continue;
            }
            let keep = overlay.keep_hair_darker_than.is_some_and(|t| lum[i] < t)
                || (cells.treated(*c) || cells.in_band(*c)) && is_hair(i);
            if keep {
                *c = [f32::NAN; 2];
                continue;
            }
            let (x, y) = ((i % wu) as u32, (i / wu) as u32);
            if cells.treated(*c) {
                scalp_box = [
                    scalp_box[0].min(x),
                    scalp_box[1].min(y),
                    scalp_box[2].max(x),
                    scalp_box[3].max(y),
                ];
            }
        }
        if scalp_box[0] > scalp_box[2] {
            scalp_box = [0, 0, w - 1, h - 1];
        }
        let (runs, row_runs) = ink_runs(&chart_mm, wu);
        let chart_box_mm =
            chart_mm
                .iter()
                .filter(|c| c[0].is_finite())
                .fold(None, |b: Option<[f32; 4]>, c| {
                    Some(b.map_or([c[0], c[1], c[0], c[1]], |b| {
                        [b[0].min(c[0]), b[1].min(c[1]), b[2].max(c[0]), b[3].max(c[1])]
                    }))
                });
        Ok(PhotoCanvas {
            photo: photo.clone(),
            warp,
            chart_mm,
            light,
            scalp_box,
            runs,
            row_runs,
            chart_box_mm,
            scratch: Scratch::default(),
            px_per_mm,
            skin,
            fringe,
        })
    }

    /// The warp between the photo and the model.
    pub fn warp(&self) -> &PhotoWarp {
        &self.warp
    }

    /// The photo as it was.
    pub fn photo(&self) -> &RgbImage {
        &self.photo
    }

    /// The scalp skin's colour as the photo shows it (sRGB).
    pub fn skin_srgb(&self) -> [u8; 3] {
        linear_to_srgb(self.skin)
    }

    /// The fringe's colour (sRGB) where the pattern meets existing hair, if the photo shows
    /// hair there: the tone the pattern's shade is matched to, and the stubble colour to draw
    /// in the other views.
    pub fn fringe_srgb(&self) -> Option<[u8; 3]> {
        self.fringe.map(linear_to_srgb)
    }

    /// The box (x0, y0, x1, y1, inclusive) round the treated scalp on the photo.
    pub fn scalp_box(&self) -> [u32; 4] {
        self.scalp_box
    }

    /// The photo with the pattern at `moment`, on the machine's cores.
    pub fn render(&self, scene: &Scene<'_>, moment: &Moment) -> Result<RgbImage, RenderError> {
        self.render_threads(scene, moment, default_threads())
    }

    /// The photo with the pattern at `moment`, on up to `threads` threads (the same image on any).
    pub fn render_threads(
        &self,
        scene: &Scene<'_>,
        moment: &Moment,
        threads: usize,
    ) -> Result<RgbImage, RenderError> {
        scene.validate(moment)?;
        let mut raw = self.photo.as_raw().clone();
        let (w, h) = self.photo.dimensions();
        let frame = ChartFrame::with_scale(&scene.pattern.outline, self.px_per_mm);
        let Some(window) = self.window(frame) else {
            return Ok(RgbImage::from_raw(w, h, raw).expect("the photo's own size"));
        };
        // Only the part of the chart raster the scalp pixels sample: the dots in it, splatted
        // band by band.
        let dots = scene.chart_dots_in(moment, frame, window, threads);
        // Each band is cleared just before its dots are splatted into it (it is then in cache),
        // in storage kept from the last preview (no page faults).
        let splat = |layer: &[(Kernel, Binned)], storage: Vec<f32>| {
            InkBuffer::splatted(window.width, window.height, layer, threads, &NEVER, storage)
        };
        let ink = splat(&dots.ink, self.scratch.take());
        let fresh = dots
            .fresh
            .map(|group| splat(std::slice::from_ref(&group), Vec::new()));
        let table = scene.optics(self.skin, moment).table(12.0, 4096);
        let shine = 1.0 + scene.settings.photo.shine_threshold;
        // A pixel's chart position (mm) to its place in the window's raster, less half a pixel
        // (the bilinear sample's corner): `q·scale − origin`, with y down the raster.
        let scale = frame.px_per_mm as f32;
        let origin = [
            (frame.x_min * frame.px_per_mm + 0.5 + window.x0 as f64) as f32,
            (-frame.y_max * frame.px_per_mm + 0.5 + window.y0 as f64) as f32,
        ];
        // Samples whose 2 × 2 cells lie inside the window; the window holds every scalp
        // pixel's with a margin (where it is not cut by the frame, outside which there is no ink).
        let limit = [(window.width - 1) as f32, (window.height - 1) as f32];
        let to_linear = crate::color::srgb_to_linear_table();
        let encoder = crate::color::Encoder::new();
        let wu = w as usize;
        par_bands(
            &mut raw,
            3 * wu,
            threads,
            &NEVER,
            || (),
            |_, y0, band| {
                for (r, line) in band.chunks_exact_mut(3 * wu).enumerate() {
                    let y = y0 + r;
                    let runs = &self.runs[self.row_runs[y] as usize..self.row_runs[y + 1] as usize];
                    let row = y * wu;
                    for &[a, b] in runs {
                        let (a, b) = (a as usize, b as usize);
                        let pixels = line[3 * a..3 * b].chunks_exact_mut(3);
                        let at = self.chart_mm[row + a..row + b]
                            .iter()
                            .zip(&self.light[row + a..row + b]);
                        for (px, (q, &light)) in pixels.zip(at) {
                            let xy = [q[0] * scale - origin[0], -q[1] * scale - origin[1]];
                            if !(xy[0] >= 0.0 && xy[1] >= 0.0 && xy[0] < limit[0] && xy[1] < limit[1]) {
                                continue;
                            }
                            let ink = ink.bilinear(xy);
                            let fresh = fresh.as_ref().map_or(0.0, |f| f.bilinear(xy));
                            if ink <= 1e-4 && fresh <= 1e-4 {
                                continue;
                            }
                            let p = [
                                to_linear[usize::from(px[0])],
                                to_linear[usize::from(px[1])],
                                to_linear[usize::from(px[2])],
                            ];
                            // Shine: light above the illumination, reflected at the surface, untouched.
                            let spec = (luminance(p) - shine * light)
                                .max(0.0)
                                .min(p[0].min(p[1]).min(p[2]));
                            let base = p.map(|c| c - spec);
                            let out = crate::scene::shade_sampled(base, 1.0, ink, fresh, 0.0, &table, None);
                            px.copy_from_slice(&encoder.srgb(out.map(|c| c + spec)));
                        }
                    }
                }
            },
        );
        self.scratch.keep(ink.data);
        Ok(RgbImage::from_raw(w, h, raw).expect("the photo's own size"))
    }

    /// The part of `frame`'s raster that the pixels taking ink sample, with a margin of two
    /// pixels (a bilinear sample reaches one beyond its pixel), cut to the frame (outside
    /// which the raster holds no ink); `None` when no pixel takes ink or none samples the frame.
    fn window(&self, frame: ChartFrame) -> Option<Window> {
        let [x0, y0, x1, y1] = self.chart_box_mm?;
        let (left, top) = frame.to_px(f64::from(x0), f64::from(y1));
        let (right, bottom) = frame.to_px(f64::from(x1), f64::from(y0));
        // Whole pixels, so the dots keep their sub-pixel offsets. `as isize` saturates (NaN to
        // 0) and truncates towards 0, which the margin covers.
        let last = |len: usize| len as isize - 1;
        let wx0 = (left as isize - 2).clamp(0, last(frame.width));
        let wy0 = (top as isize - 2).clamp(0, last(frame.height));
        let wx1 = (right as isize + 2).clamp(0, last(frame.width));
        let wy1 = (bottom as isize + 2).clamp(0, last(frame.height));
        (wx1 > wx0 && wy1 > wy0).then(|| Window {
            x0: wx0 as usize,
            y0: wy0 as usize,
            width: (wx1 - wx0 + 1) as usize,
            height: (wy1 - wy0 + 1) as usize,
        })
    }

    /// A crop round the treated scalp, `margin` of its size added on each side, of `img` (the
    /// photo or a render of it).
    pub fn crop(&self, img: &RgbImage, margin: f32) -> RgbImage {
        let [x0, y0, x1, y1] = self.scalp_box;
        let (bw, bh) = ((x1 - x0 + 1) as f32, (y1 - y0 + 1) as f32);
        let side = bw.max(bh) * (1.0 + 2.0 * margin);
        let (cx, cy) = ((x0 + x1) as f32 / 2.0, (y0 + y1) as f32 / 2.0 + bh * margin);
        let (w, h) = img.dimensions();
        let left = (cx - side / 2.0).clamp(0.0, w as f32 - 1.0) as u32;
        let top = (cy - side / 2.0).clamp(0.0, h as f32 - 1.0) as u32;
        let cw = (side as u32).min(w - left).max(1);
        let ch = (side as u32).min(h - top).max(1);
        image::imageops::crop_imm(img, left, top, cw, ch).to_image()
    }
}

/// Storage kept from one preview of a photo to the next (a 2048-px photo's ink raster is
/// tens of megabytes, which a fresh allocation would fault in page by page). A preview takes it
/// if no other preview of the same photo holds it, and gives it back; a clone starts empty.
#[derive(Debug, Default)]
struct Scratch(std::sync::Mutex<Vec<f32>>);

impl Scratch {
    fn take(&self) -> Vec<f32> {
        self.0
            .try_lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }

    fn keep(&self, data: Vec<f32>) {
        if let Ok(mut v) = self.0.try_lock() {
            *v = data;
        }
    }
}

impl Clone for Scratch {
    fn clone(&self) -> Scratch {
        Scratch::default()
    }
}

/// The runs of pixels with a chart position (finite `chart_mm`) in each row of a `width`-wide
/// image: the runs, and where each row's begin (one more entry than rows).
fn ink_runs(chart_mm: &[[f32; 2]], width: usize) -> (Vec<[u32; 2]>, Vec<u32>) {
    let mut runs = Vec::new();
    let mut row_runs = vec![0u32];
    for row in chart_mm.chunks_exact(width.max(1)) {
        let mut start = None;
        for (x, c) in row.iter().enumerate() {
            match (c[0].is_finite(), start) {
                (true, None) => start = Some(x),
                (false, Some(a)) => {
                    runs.push([a as u32, x as u32]);
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(a) = start {
            runs.push([a as u32, row.len() as u32]);
        }
        row_runs.push(runs.len() as u32);
    }
    (runs, row_runs)
}

/// The treated area of a pattern and the band round it, on a chart grid of 2 mm cells.
struct TreatedCells {
    origin: [f32; 2],
    cols: usize,
    rows: usize,
    /// Distance in cells to the nearest cell with dots (0: treated).
    distance: Vec<u16>,
    band_cells: u16,
}

impl TreatedCells {
    const CELL_MM: f32 = 2.0;

    fn new(scene: &Scene<'_>, band_mm: f32) -> TreatedCells {
        let band_cells = (band_mm / Self::CELL_MM).ceil() as u16;
        let margin = (f32::from(band_cells) + 2.0) * Self::CELL_MM;
        let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        for d in &scene.pattern.dots {
            let (x, y) = (d.x_mm as f32, d.y_mm as f32);
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        }
        if x0 > x1 {
            (x0, y0, x1, y1) = (0.0, 0.0, 0.0, 0.0);
        }
        let origin = [x0 - margin, y0 - margin];
        let cols = ((x1 - x0 + 2.0 * margin) / Self::CELL_MM).ceil() as usize + 1;
        let rows = ((y1 - y0 + 2.0 * margin) / Self::CELL_MM).ceil() as usize + 1;
        let far = u16::MAX / 2;
        let mut distance = vec![far; cols * rows];
        for d in &scene.pattern.dots {
            let c = ((d.x_mm as f32 - origin[0]) / Self::CELL_MM) as usize;
            let r = ((d.y_mm as f32 - origin[1]) / Self::CELL_MM) as usize;
            distance[r.min(rows - 1) * cols + c.min(cols - 1)] = 0;
        }
        // Two-pass chamfer distance (cells, 8-connected).
        for r in 0..rows {
            for c in 0..cols {
                let mut v = distance[r * cols + c];
                if c > 0 {
                    v = v.min(distance[r * cols + c - 1] + 1);
                }
                if r > 0 {
                    v = v.min(distance[(r - 1) * cols + c] + 1);
                    if c > 0 {
                        v = v.min(distance[(r - 1) * cols + c - 1] + 1);
                    }
                    if c + 1 < cols {
                        v = v.min(distance[(r - 1) * cols + c + 1] + 1);
                    }
                }
                distance[r * cols + c] = v;
            }
        }
        for r in (0..rows).rev() {
            for c in (0..cols).rev() {
                let mut v = distance[r * cols + c];
                if c + 1 < cols {
                    v = v.min(distance[r * cols + c + 1] + 1);
                }
                if r + 1 < rows {
                    v = v.min(distance[(r + 1) * cols + c] + 1);
                    if c + 1 < cols {
                        v = v.min(distance[(r + 1) * cols + c + 1] + 1);
                    }
                    if c > 0 {
                        v = v.min(distance[(r + 1) * cols + c - 1] + 1);
                    }
                }
                distance[r * cols + c] = v;
            }
        }
        TreatedCells {
            origin,
            cols,
            rows,
            distance,
            band_cells,
        }
    }

    fn distance(&self, q: [f32; 2]) -> u16 {
        let c = (q[0] - self.origin[0]) / Self::CELL_MM;
        let r = (q[1] - self.origin[1]) / Self::CELL_MM;
        if c < 0.0 || r < 0.0 || c >= self.cols as f32 || r >= self.rows as f32 {
            return u16::MAX;
        }
        self.distance[r as usize * self.cols + c as usize]
    }

    fn treated(&self, q: [f32; 2]) -> bool {
        self.distance(q) == 0
    }

    fn in_band(&self, q: [f32; 2]) -> bool {
        (1..=self.band_cells).contains(&self.distance(q))
    }
}

/// The photo's illumination: its luminance blurred over `radius_px` (three box blurs, close to
/// a Gaussian), worked at a reduced size so the cost does not grow with the radius.
fn illumination(lum: &[f32], w: usize, h: usize, radius_px: f64) -> Vec<f32> {
    let step = ((radius_px / 4.0).floor() as usize).clamp(1, w.min(h).max(1));
    let (sw, sh) = (w.div_ceil(step), h.div_ceil(step));
    let mut small = vec![0.0f32; sw * sh];
    let mut count = vec![0.0f32; sw * sh];
    for y in 0..h {
        for x in 0..w {
            let i = (y / step) * sw + x / step;
            small[i] += lum[y * w + x];
            count[i] += 1.0;
        }
    }
    for (s, n) in small.iter_mut().zip(&count) {
        *s /= n.max(1.0);
    }
    let r = ((radius_px / step as f64 / 3f64.sqrt()).round() as usize).max(1);
    for _ in 0..3 {
        small = box_blur(&small, sw, sh, r, true);
        small = box_blur(&small, sw, sh, r, false);
    }
    let sample = |x: f32, y: f32| {
        let fx = (x / step as f32 - 0.5).clamp(0.0, (sw - 1) as f32);
        let fy = (y / step as f32 - 0.5).clamp(0.0, (sh - 1) as f32);
        let (x0, y0) = (fx as usize, fy as usize);
        let (x1, y1) = ((x0 + 1).min(sw - 1), (y0 + 1).min(sh - 1));
        let (ax, ay) = (fx - x0 as f32, fy - y0 as f32);
        let top = small[y0 * sw + x0] * (1.0 - ax) + small[y0 * sw + x1] * ax;
        let bottom = small[y1 * sw + x0] * (1.0 - ax) + small[y1 * sw + x1] * ax;
        top * (1.0 - ay) + bottom * ay
    };
    (0..w * h)
        .map(|i| sample((i % w) as f32 + 0.5, (i / w) as f32 + 0.5))
        .collect()
}

/// One box blur pass of radius `r` along rows (`horizontal`) or columns, edges clamped.
fn box_blur(src: &[f32], w: usize, h: usize, r: usize, horizontal: bool) -> Vec<f32> {
    let (len, lines) = if horizontal { (w, h) } else { (h, w) };
    let at = |line: usize, k: usize| if horizontal { line * w + k } else { k * w + line };
    let mut out = vec![0.0f32; src.len()];
    let n = (2 * r + 1) as f32;
    for line in 0..lines {
        let get = |k: isize| src[at(line, k.clamp(0, len as isize - 1) as usize)];
        let mut sum: f32 = (-(r as isize)..=r as isize).map(get).sum();
        for k in 0..len {
            out[at(line, k)] = sum / n;
            sum += get(k as isize + r as isize + 1) - get(k as isize - r as isize);
        }
    }
    out
}

/// The photo with the pattern on it, and the warp used.
pub fn overlay(
    scene: &Scene<'_>,
    photo: &RgbImage,
    overlay: &Overlay,
    moment: &Moment,
) -> Result<(RgbImage, PhotoWarp), RenderError> {
    scene.validate(moment)?;
    let canvas = PhotoCanvas::new(scene, photo, overlay)?;
    let img = canvas.render(scene, moment)?;
    Ok((img, canvas.warp))
}

/// The photo at several moments, cropped round the scalp, side by side with their labels: the
/// timeline on the client's own head.
pub fn photo_timeline(
    scene: &Scene<'_>,
    canvas: &PhotoCanvas,
    moments: &[Moment],
    panel: u32,
) -> Result<RgbImage, RenderError> {
    let mut panels = vec![fit(&canvas.crop(canvas.photo(), 0.12), panel)];
    let mut labels = vec!["Before".to_string()];
    for m in moments {
        panels.push(fit(&canvas.crop(&canvas.render(scene, m)?, 0.12), panel));
        labels.push(crate::sheet::capitalised(&m.label()));
    }
    let refs: Vec<&RgbImage> = panels.iter().collect();
    let label_refs: Vec<&str> = labels.iter().map(String::as_str).collect();
    Ok(crate::sheet::side_by_side(&refs, &label_refs, [255, 255, 255]))
}

/// `img` scaled to fit a `side × side` square.
pub(crate) fn fit(img: &RgbImage, side: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    let k = f64::from(side) / f64::from(w.max(h).max(1));
    let (nw, nh) = (
        ((f64::from(w) * k).round() as u32).max(1),
        ((f64::from(h) * k).round() as u32).max(1),
    );
    image::imageops::resize(img, nw, nh, image::imageops::FilterType::Triangle)
}

/// The photo and the preview side by side (before | after).
pub fn before_after(before: &RgbImage, after: &RgbImage) -> RgbImage {
    crate::sheet::side_by_side(&[before, after], &["Before", "After"], [255, 255, 255])
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
