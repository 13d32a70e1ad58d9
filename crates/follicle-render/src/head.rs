//! The head model from the front, top, sides and back: an orthographic view of the
//! ellipsoidal head with Lambert shading, the chart's ink and hair sampled where the view
//! ray meets the scalp.

use follicle_pattern::Head;
use image::RgbImage;

use crate::color::{linear_to_srgb, srgb_to_linear};
use crate::moment::Moment;
use crate::scene::{ChartFrame, PolarOutline, Scene, View, shade_sampled};
use crate::splat::par_bands;

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

    /// Light from the upper front-left of the viewer.
    pub(crate) fn light(&self) -> [f64; 3] {
        let l: [f64; 3] =
            std::array::from_fn(|i| -0.7 * self.forward[i] + 0.6 * self.up[i] - 0.3 * self.right[i]);
        let n = (l[0] * l[0] + l[1] * l[1] + l[2] * l[2]).sqrt();
        l.map(|v| v / n)
    }
}

/// A head view, in bands of rows on up to `threads` threads (the image does not depend on how
/// many: every pixel is computed alone, from the chart raster).
pub(crate) fn render_head(
    scene: &Scene<'_>,
    view: View,
    moment: &Moment,
    width: u32,
    height: u32,
    threads: usize,
) -> RgbImage {
    let head = &scene.pattern.head;
    let Some(cam) = Camera::new(head, view, width, height) else {
        return RgbImage::new(width, height);
    };
    // Ink on a chart raster as fine as the view's pixels.
    let frame = ChartFrame::with_scale(&scene.pattern.outline, 1.0 / cam.mm_per_px);
    let layers = scene.layers(moment, frame, threads);
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
        || (),
        |_, y0, band| {
            for (r, line) in band.chunks_exact_mut(3 * w).enumerate() {
                let py = (y0 + r) as u32;
                for (px, pixel) in (0..width).zip(line.chunks_exact_mut(3)) {
                    let (o, d) = cam.ray(f64::from(px) + 0.5, f64::from(py) + 0.5);
                    let Some((p, n)) = hit(head, o, d) else {
                        pixel.copy_from_slice(&background);
                        continue;
                    };
                    let lambert = (n[0] * light[0] + n[1] * light[1] + n[2] * light[2]).max(0.0);
                    let lit = (0.35 + 0.65 * lambert) as f32;
                    let q = head.chart_from_surface(p);
                    let (qx, qy) = (q[0] as f32, q[1] as f32);
                    let colour = if p[2] > -0.2 * head.c_mm && outline.contains(qx, qy) {
                        let (cx, cy) = frame.to_px(q[0], q[1]);
                        let ink = layers.ink.sample(cx, cy);
                        let fresh = layers.fresh.as_ref().map_or(0.0, |f| f.sample(cx, cy));
                        let cover = layers.hair.as_ref().map_or(0.0, |h| h.sample(cx, cy));
                        shade_sampled(skin, lit, ink, fresh, cover, &table, hair)
                    } else {
                        skin.map(|c| c * lit)
                    };
                    pixel.copy_from_slice(&linear_to_srgb(colour));
                }
            }
        },
    );
    RgbImage::from_raw(width, height, raw).expect("a buffer of width × height pixels")
}
