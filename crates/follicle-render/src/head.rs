//! The head from the front, top, sides and back: an orthographic view of the head mesh
//! ([`crate::mesh`]) scaled to the client's head, rasterised with a z-buffer and Lambert
//! shading, the chart's ink and hair sampled where a pixel sees the scalp. The ellipsoid's
//! ray intersection and camera stay for the photo overlay, which maps a photo onto the model.

use follicle_pattern::Head;
use image::RgbImage;

use crate::color::{linear_to_srgb, srgb_to_linear};
use crate::error::RenderError;
use crate::mesh::{FittedMesh, HeadMesh, cross, dot, sub};
use crate::moment::Moment;
use crate::scene::{ChartFrame, PolarOutline, Scene, View, shade_sampled};
use crate::splat::{Stop, par_bands};

/// Where a view ray meets the head, and the surface normal there.
pub(crate) fn hit(head: &Head, origin: [f64; 3], dir: [f64; 3]) -> Option<([f64; 3], [f64; 3])> {
    let s = [head.a_mm, head.b_mm, head.c_mm];
    let o = [origin[0] / s[0], origin[1] / s[1], origin[2] / s[2]];
    let d = [dir[0] / s[0], dir[1] / s[1], dir[2] / s[2]];
    let a = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
    let b = 2.0 * (o[0] * d[0] + o[1] * d[1] + o[2] * d[2]);
    let c = o[0] * o[0] + o[1] * o[1] + o[2] * o[2] - 1.0;
    let disc = b * b - 4.0 * a * c;
    if disc < 0.0 {
        return None;
    }
    let t = (-b - disc.sqrt()) / (2.0 * a);
    let p = [
        origin[0] + t * dir[0],
        origin[1] + t * dir[1],
        origin[2] + t * dir[2],
    ];
    let n = [p[0] / (s[0] * s[0]), p[1] / (s[1] * s[1]), p[2] / (s[2] * s[2])];
    let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
    Some((p, n.map(|v| v / len)))
}

/// The orthographic camera of a head view fitted to `width × height`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Camera {
    pub right: [f64; 3],
    pub up: [f64; 3],
    pub forward: [f64; 3],
    pub mm_per_px: f64,
    pub width: u32,
    pub height: u32,
    /// The point of the head at the image centre (its projection).
    pub centre: [f64; 3],
}

impl Camera {
    pub(crate) fn new(head: &Head, view: View, width: u32, height: u32) -> Option<Camera> {
        let (right, up, forward) = view.axes()?;
        let extent = |axis: [f64; 3]| {
            (axis[0] * head.a_mm)
                .hypot(axis[1] * head.b_mm)
                .hypot(axis[2] * head.c_mm)
        };
        // Side views frame the scalp, not the face: the upper 60% of the head, centred on it.
        let (half_w, half_h, lift) = if view == View::Top {
            (extent(right), extent(up), 0.0)
        } else {
            (extent(right), 0.62 * extent(up), 0.42 * head.c_mm)
        };
        let mm_per_px = (2.1 * half_w / f64::from(width)).max(2.1 * half_h / f64::from(height));
        let centre = [up[0] * lift, up[1] * lift, up[2] * lift];
        Some(Camera {
            right,
            up,
            forward,
            mm_per_px,
            width,
            height,
            centre,
        })
    }

    /// The ray through pixel (px, py).
    pub(crate) fn ray(&self, px: f64, py: f64) -> ([f64; 3], [f64; 3]) {
        let u = (px - f64::from(self.width) / 2.0) * self.mm_per_px;
        let v = (f64::from(self.height) / 2.0 - py) * self.mm_per_px;
        let back = 1000.0;
        let o = std::array::from_fn(|i| {
            self.centre[i] + u * self.right[i] + v * self.up[i] - back * self.forward[i]
        });
        (o, self.forward)
    }

    /// The pixel a 3-D point projects to.
    pub(crate) fn project(&self, p: [f64; 3]) -> [f64; 2] {
        let d: [f64; 3] = std::array::from_fn(|i| p[i] - self.centre[i]);
        let u = d[0] * self.right[0] + d[1] * self.right[1] + d[2] * self.right[2];
        let v = d[0] * self.up[0] + d[1] * self.up[1] + d[2] * self.up[2];
        [
            u / self.mm_per_px + f64::from(self.width) / 2.0,
            f64::from(self.height) / 2.0 - v / self.mm_per_px,
        ]
    }
}

/// How far below the glabella a side view reaches, in half-lengths of the head: below the chin,
/// so face, ears and nape are whole (presentation).
const FRAME_BELOW_HALF_LENGTHS: f64 = 1.25;

/// Blank space around the head in a view, as a share of the image (presentation).
const FRAME_MARGIN: f64 = 0.04;

/// An orthographic camera framing the whole head mesh.
#[derive(Debug, Clone, Copy)]
struct MeshCamera {
    right: [f64; 3],
    up: [f64; 3],
    forward: [f64; 3],
    /// Image pixel of the origin's projection.
    origin_px: [f64; 2],
    px_per_mm: f64,
}

impl MeshCamera {
    fn new(fitted: &FittedMesh, head: &Head, view: View, width: u32, height: u32) -> Option<MeshCamera> {
        let (right, up, forward) = view.axes()?;
        let floor = -FRAME_BELOW_HALF_LENGTHS * head.b_mm;
        let (mut u0, mut u1, mut v0, mut v1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for p in fitted.positions.iter().filter(|p| p[2] >= floor) {
            let (u, v) = (dot(*p, right), dot(*p, up));
            u0 = u0.min(u);
            u1 = u1.max(u);
            v0 = v0.min(v);
            v1 = v1.max(v);
        }
        if !(u0 < u1 && v0 < v1) {
            return None;
        }
        let usable = 1.0 - 2.0 * FRAME_MARGIN;
        let px_per_mm = (usable * f64::from(width) / (u1 - u0)).min(usable * f64::from(height) / (v1 - v0));
        let origin_px = [
            f64::from(width) / 2.0 - px_per_mm * (u0 + u1) / 2.0,
            f64::from(height) / 2.0 + px_per_mm * (v0 + v1) / 2.0,
        ];
        Some(MeshCamera {
            right,
            up,
            forward,
            origin_px,
            px_per_mm,
        })
    }

    /// Image x, y and depth (mm along the view) of a point.
    fn project(&self, p: [f64; 3]) -> [f64; 3] {
        [
            self.origin_px[0] + self.px_per_mm * dot(p, self.right),
            self.origin_px[1] - self.px_per_mm * dot(p, self.up),
            dot(p, self.forward),
        ]
    }

    /// Light from the upper front-left of the viewer.
    fn light(&self) -> [f64; 3] {
        let l: [f64; 3] =
            std::array::from_fn(|i| -0.7 * self.forward[i] + 0.6 * self.up[i] - 0.3 * self.right[i]);
        let n = dot(l, l).sqrt();
        l.map(|v| v / n)
    }
}

/// A triangle facing the camera, in image space.
struct ScreenTriangle {
    /// Index into the mesh's triangles.
    index: u32,
    /// Image x, y and depth of the corners.
    corners: [[f64; 3]; 3],
    /// Rows it covers (pixel centres), first and last.
    rows: (i64, i64),
}

/// What a pixel sees: the nearest triangle's index and barycentric weights of corners 1 and 2.
#[derive(Clone, Copy)]
struct Fragment {
    depth: f64,
    triangle: u32,
    w1: f64,
    w2: f64,
}

/// A head view, in bands of rows on up to `threads` threads. Each band rasterises the
/// triangles that cross it into its own z-buffer, in the mesh's order, then shades its pixels:
/// the image does not depend on how many threads drew it.
pub(crate) fn render_head(
    scene: &Scene<'_>,
    view: View,
    moment: &Moment,
    width: u32,
    height: u32,
    threads: usize,
    stop: &dyn Stop,
) -> Result<RgbImage, RenderError> {
    let head = &scene.pattern.head;
    let mesh = HeadMesh::builtin()?;
    let fitted = mesh.fit(head);
    let Some(cam) = MeshCamera::new(&fitted, head, view, width, height) else {
        return Ok(RgbImage::new(width, height));
    };
    let screen: Vec<[f64; 3]> = fitted.positions.iter().map(|p| cam.project(*p)).collect();
    let triangles: Vec<ScreenTriangle> = mesh
        .triangles
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            let [a, b, c] = t.map(|k| fitted.positions[k as usize]);
            // Back faces are hidden by the front ones (the mesh is closed but for the neck,
            // which the frame cuts off).
            if dot(cross(sub(b, a), sub(c, a)), cam.forward) >= 0.0 {
                return None;
            }
            let corners = t.map(|k| screen[k as usize]);
            let lo = corners.iter().map(|c| c[1]).fold(f64::MAX, f64::min);
            let hi = corners.iter().map(|c| c[1]).fold(f64::MIN, f64::max);
            Some(ScreenTriangle {
                index: i as u32,
                corners,
                rows: ((lo - 0.5).ceil() as i64, (hi - 0.5).floor() as i64),
            })
        })
        .collect();
    // Ink on a chart raster as fine as the view's pixels.
    let frame = ChartFrame::with_scale(&scene.pattern.outline, cam.px_per_mm);
    let layers = scene.layers(moment, frame, threads, stop);
    if stop.asked() {
        return Err(RenderError::Stopped);
    }
    let skin = scene.skin.linear_or_typical(scene.settings);
    let table = scene.optics(skin, moment).table(12.0, 4096);
    let hair = scene.hair.map(|h| srgb_to_linear(h.srgb));
    let outline = PolarOutline::new(&scene.pattern.outline);
    let light = cam.light();
    let background = scene.settings.background;
    let w = width as usize;
    let mut raw = vec![0u8; 3 * w * height as usize];
    par_bands(
        &mut raw,
        3 * w,
        threads,
        stop,
        Vec::<Option<Fragment>>::new,
        |zbuf, y0, band| {
            let rows = band.len() / (3 * w);
            zbuf.clear();
            zbuf.resize(rows * w, None);
            let (first, last) = (y0 as i64, (y0 + rows) as i64 - 1);
            for t in triangles.iter().filter(|t| t.rows.1 >= first && t.rows.0 <= last) {
                rasterise(t, first.max(t.rows.0), last.min(t.rows.1), y0, w, zbuf);
            }
            for (r, line) in band.chunks_exact_mut(3 * w).enumerate() {
                for (x, pixel) in line.chunks_exact_mut(3).enumerate() {
                    let Some(f) = zbuf[r * w + x] else {
                        pixel.copy_from_slice(&background);
                        continue;
                    };
                    let t = mesh.triangles[f.triangle as usize];
                    let w0 = 1.0 - f.w1 - f.w2;
                    let mix = |v: &[[f64; 3]]| -> [f64; 3] {
                        let [a, b, c] = t.map(|k| v[k as usize]);
                        std::array::from_fn(|i| w0 * a[i] + f.w1 * b[i] + f.w2 * c[i])
                    };
                    let p = mix(&fitted.positions);
                    let n = mix(&fitted.normals);
                    let lambert = (dot(n, light) / dot(n, n).sqrt().max(1e-12)).max(0.0);
                    let lit = (0.35 + 0.65 * lambert) as f32;
                    // The scalp's outline decides where the chart's ink and hair go (the face
                    // and the neck map outside it); eyes and ears never take them.
                    let colour = if mesh.scalp[f.triangle as usize] {
                        let q = head.chart_from_surface(p);
                        if outline.contains(q[0] as f32, q[1] as f32) {
                            let (cx, cy) = frame.to_px(q[0], q[1]);
                            let ink = layers.ink.sample(cx, cy);
                            let fresh = layers.fresh.as_ref().map_or(0.0, |f| f.sample(cx, cy));
                            let cover = layers.hair.as_ref().map_or(0.0, |h| h.sample(cx, cy));
                            shade_sampled(skin, lit, ink, fresh, cover, &table, hair)
                        } else {
                            skin.map(|c| c * lit)
                        }
                    } else {
                        skin.map(|c| c * lit)
                    };
                    pixel.copy_from_slice(&linear_to_srgb(colour));
                }
            }
        },
    );
    Ok(RgbImage::from_raw(width, height, raw).expect("a buffer of width × height pixels"))
}

/// Rasterises one triangle into rows `from..=to` (image rows) of a band starting at `y0`,
/// keeping the nearest fragment at each pixel centre (strictly nearer wins, so the mesh's
/// order settles ties the same way in every band).
fn rasterise(t: &ScreenTriangle, from: i64, to: i64, y0: usize, w: usize, zbuf: &mut [Option<Fragment>]) {
    let [a, b, c] = t.corners;
    let area = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
    if area.abs() < 1e-12 {
        return;
    }
    let lo = [a[0], b[0], c[0]].into_iter().fold(f64::MAX, f64::min);
    let hi = [a[0], b[0], c[0]].into_iter().fold(f64::MIN, f64::max);
    let x_from = ((lo - 0.5).ceil() as i64).max(0);
    let x_to = ((hi - 0.5).floor() as i64).min(w as i64 - 1);
    for y in from..=to {
        let py = y as f64 + 0.5;
        let row = (y as usize - y0) * w;
        for x in x_from..=x_to {
            let px = x as f64 + 0.5;
            // Barycentric weights of b and c.
            let w1 = ((px - a[0]) * (c[1] - a[1]) - (py - a[1]) * (c[0] - a[0])) / area;
            let w2 = ((b[0] - a[0]) * (py - a[1]) - (b[1] - a[1]) * (px - a[0])) / area;
            if w1 < 0.0 || w2 < 0.0 || w1 + w2 > 1.0 {
                continue;
            }
            let depth = a[2] + w1 * (b[2] - a[2]) + w2 * (c[2] - a[2]);
            let slot = &mut zbuf[row + x as usize];
            if slot.is_none_or(|f| depth < f.depth) {
                *slot = Some(Fragment {
                    depth,
                    triangle: t.index,
                    w1,
                    w2,
                });
            }
        }
    }
}
