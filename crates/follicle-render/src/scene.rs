//! A scene: a pattern on a client's skin, with their hair and fading — and its views.

use follicle_pattern::{Dot, Pattern, ZoneKind};
use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::color::{Linear, linear_to_lab, linear_to_srgb, srgb_to_linear};
use crate::error::RenderError;
use crate::moment::{Fading, Looks, Moment};
use crate::optics::{InkTable, Optics};
use crate::raster::Spans;
use crate::settings::RenderSettings;

use crate::splat::{
    Binned, InkBuffer, Kernel, NEVER, Stop, default_threads, par_bands, par_parts, row_stride,
};

/// Largest image side a request may ask for, pixels (memory: 8192² RGB is 200 MB).
pub const MAX_SIDE_PX: u32 = 8192;

/// The skin the pattern sits on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum Skin {
    /// The typical colour of a Fitzpatrick type.
    Fitzpatrick {
        /// The type.
        fitzpatrick: follicle_core::profile::Fitzpatrick,
    },
    /// A colour measured or sampled from a photo (sRGB).
    Srgb {
        /// The colour.
        srgb: [u8; 3],
    },
    /// A colour with this individual typology angle (degrees) and a typical hue.
    Ita {
        /// ITA, −90 to 90.
        ita: f32,
    },
}

impl Skin {
    /// The colour in linear light.
    pub fn linear(&self, settings: &RenderSettings) -> Result<Linear, RenderError> {
        match *self {
            Skin::Fitzpatrick { fitzpatrick } => Ok(srgb_to_linear(settings.skin_of(fitzpatrick))),
            Skin::Srgb { srgb } => Ok(srgb_to_linear(srgb)),
            Skin::Ita { ita } => {
                if !(ita.is_finite() && (-90.0..=90.0).contains(&ita)) {
                    return Err(RenderError::invalid(
                        "skin.ita",
                        format!("expected −90–90 degrees, got {ita}"),
                    ));
                }
                // The nearest typical colour by ITA.
                let best = settings
                    .skin_by_fitzpatrick
                    .values()
                    .min_by(|a, b| {
                        let da = (crate::color::ita_degrees(crate::color::srgb_to_lab(**a)) - ita).abs();
                        let db = (crate::color::ita_degrees(crate::color::srgb_to_lab(**b)) - ita).abs();
                        da.total_cmp(&db)
                    })
                    .copied()
                    .expect("a colour for each of the six types");
                Ok(srgb_to_linear(best))
            }
        }
    }

    /// The colour in linear light, or the settings' typical Fitzpatrick III skin for a skin
    /// [`Skin::linear`] refuses (scenes are validated before they are drawn, so only a
    /// caller that skipped validation sees it).
    pub fn linear_or_typical(&self, settings: &RenderSettings) -> Linear {
        self.linear(settings)
            .unwrap_or_else(|_| srgb_to_linear(settings.skin_of(follicle_core::profile::Fitzpatrick::III)))
    }
}

/// Existing hair, drawn as stubble where the client still has it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Hair {
    /// Hair colour (sRGB).
    pub srgb: [u8; 3],
    /// Share of natural density left inside treated zones (0 for bald skin, about 0.5 for thinning).
    pub among_treated: f32,
    /// Share of natural density left in the sides-and-back blend zone.
    pub in_blend: f32,
    /// Width of the band inside a treated zone, beside untreated hair, over which the hair
    /// thins out into the zone, mm: the pattern's blend band (`blend_width_mm`), where the
    /// pattern engine thins the dots because the hair is there. 0: hair stops at the edge.
    #[serde(default)]
    pub blend_width_mm: f32,
    /// Dot density at the zone's edge as a share of the zone's (the pattern's
    /// `blend_edge_fraction`); the hair drawn there is the rest.
    #[serde(default = "one")]
    pub blend_edge_fraction: f32,
}

fn one() -> f32 {
    1.0
}

/// Which way the preview looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    /// The flat equal-area chart, front at the top.
    Chart,
    /// The head from the front.
    Front,
    /// From above, front at the top.
    Top,
    /// From the client's left.
    Left,
    /// From the client's right.
    Right,
    /// From behind.
    Back,
}

impl View {
    /// Every view.
    pub const ALL: [View; 6] = [
        View::Chart,
        View::Front,
        View::Top,
        View::Left,
        View::Right,
        View::Back,
    ];

    /// The name.
    pub fn as_str(self) -> &'static str {
        match self {
            View::Chart => "chart",
            View::Front => "front",
            View::Top => "top",
            View::Left => "left",
            View::Right => "right",
            View::Back => "back",
        }
    }

    /// Parses a view's name; the error lists the names.
    pub fn parse(name: &str) -> Result<View, String> {
        View::ALL.into_iter().find(|v| v.as_str() == name).ok_or_else(|| {
            format!(
                "expected one of {}, got {name:?}",
                View::ALL.map(View::as_str).join(", ")
            )
        })
    }

    /// Camera axes (right, up, forward) for the head views.
    pub(crate) fn axes(self) -> Option<([f64; 3], [f64; 3], [f64; 3])> {
        Some(match self {
            View::Chart => return None,
            View::Front => ([-1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]),
            View::Top => ([1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, -1.0]),
            View::Left => ([0.0, -1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]),
            View::Right => ([0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [-1.0, 0.0, 0.0]),
            View::Back => ([1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]),
        })
    }
}

/// Everything a preview needs.
#[derive(Debug, Clone)]
pub struct Scene<'a> {
    /// The pattern.
    pub pattern: &'a Pattern,
    /// The skin.
    pub skin: Skin,
    /// Existing hair, if any is drawn.
    pub hair: Option<Hair>,
    /// The client's fading (the planner's model).
    pub fading: Fading,
    /// Settings.
    pub settings: &'a RenderSettings,
}

/// The chart's polar outline: scalp radius every half degree around the vertex.
#[derive(Debug, Clone)]
pub(crate) struct PolarOutline {
    radius: Vec<f32>,
}

impl PolarOutline {
    pub(crate) fn new(outline: &[[f64; 2]]) -> PolarOutline {
        let n = 720;
        let radius = (0..n)
            .map(|i| {
                let a = (i as f64 + 0.5) * std::f64::consts::TAU / n as f64;
                let (dx, dy) = (a.cos(), a.sin());
                // Farthest crossing of the ray with the outline polygon.
                let mut best = 0.0f64;
                for k in 0..outline.len() {
                    let p = outline[k];
                    let q = outline[(k + 1) % outline.len()];
                    let (ex, ey) = (q[0] - p[0], q[1] - p[1]);
                    let det = dx * (-ey) + ey * 0.0 + ex * dy;
                    if det.abs() < 1e-12 {
                        continue;
                    }
                    // Solve t·d = p + s·e.
                    let t = (p[0] * (-ey) + ex * p[1]) / det;
                    let s = (dx * p[1] - dy * p[0]) / det;
                    if t > 0.0 && (0.0..=1.0).contains(&s) {
                        best = best.max(t);
                    }
                }
                best as f32
            })
            .collect();
        PolarOutline { radius }
    }

    #[inline]
    pub(crate) fn contains(&self, x: f32, y: f32) -> bool {
        let r2 = x * x + y * y;
        let a = y.atan2(x).rem_euclid(std::f32::consts::TAU);
        let i = ((a / std::f32::consts::TAU * 720.0) as usize).min(719);
        let r = self.radius[i];
        r2 <= r * r
    }
}

/// The chart raster a scene draws ink into: bounds and scale.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChartFrame {
    pub x_min: f64,
    pub y_max: f64,
    pub px_per_mm: f64,
    pub width: usize,
    pub height: usize,
}

impl ChartFrame {
    /// A frame holding the outline (plus a margin) in `width × height` pixels.
    pub(crate) fn fit(outline: &[[f64; 2]], width: u32, height: u32) -> ChartFrame {
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for p in outline {
            x0 = x0.min(p[0]);
            x1 = x1.max(p[0]);
            y0 = y0.min(p[1]);
            y1 = y1.max(p[1]);
        }
        if !(x0 < x1 && y0 < y1) {
            (x0, x1, y0, y1) = (-150.0, 150.0, -150.0, 150.0);
        }
        let margin = 0.04 * (x1 - x0).max(y1 - y0);
        let (w_mm, h_mm) = (x1 - x0 + 2.0 * margin, y1 - y0 + 2.0 * margin);
        let px_per_mm = (f64::from(width) / w_mm).min(f64::from(height) / h_mm);
        let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        ChartFrame {
            x_min: cx - f64::from(width) / 2.0 / px_per_mm,
            y_max: cy + f64::from(height) / 2.0 / px_per_mm,
            px_per_mm,
            width: width as usize,
            height: height as usize,
        }
    }

    /// A frame with a given scale holding the outline.
    pub(crate) fn with_scale(outline: &[[f64; 2]], px_per_mm: f64) -> ChartFrame {
        let probe = ChartFrame::fit(outline, 1000, 1000);
        let w_mm = 1000.0 / probe.px_per_mm;
        let side = ((w_mm * px_per_mm).ceil() as u32).clamp(16, MAX_SIDE_PX);
        ChartFrame::fit(outline, side, side)
    }

    #[inline]
    pub(crate) fn to_px(self, x_mm: f64, y_mm: f64) -> (f32, f32) {
        (
            ((x_mm - self.x_min) * self.px_per_mm) as f32,
            ((self.y_max - y_mm) * self.px_per_mm) as f32,
        )
    }

    #[inline]
    pub(crate) fn to_mm(self, px: f32, py: f32) -> (f32, f32) {
        (
            (self.x_min + f64::from(px) / self.px_per_mm) as f32,
            (self.y_max - f64::from(py) / self.px_per_mm) as f32,
        )
    }
}

/// The dots visible at a moment in chart pixels, binned by tile, one kernel per dot width:
/// what [`Scene::layers`] splats into whole rasters and the chart view splats band by band.
pub(crate) struct ChartDots {
    /// Ink, in the order the widths first appear.
    pub ink: Vec<(Kernel, Binned)>,
    /// Redness of freshly worked skin (only for [`Moment::Fresh`]).
    pub fresh: Option<(Kernel, Binned)>,
}

/// Spots gathered from a run of dots ([`Scene::chart_dots_in`]): one group a quantised width
/// (`keys`, µm), in the order the widths first appear, and the fresh halos.
#[derive(Debug, Default)]
struct Gathered {
    keys: Vec<u32>,
    groups: Vec<(Kernel, Vec<[f32; 3]>)>,
    fresh: Vec<[f32; 3]>,
}

/// What [`Scene::chart_dots_in`] works out once a render and its runs of dots share.
struct PerRender<'r> {
    looks: Looks<'r>,
    healing: crate::impression::Healing<'r>,
    /// The kernel of a fresh dot's redness.
    fresh_kernel: Kernel,
}

/// A rectangle of a chart raster, pixels: the part of it a photo's scalp samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    /// The first column and row.
    pub x0: usize,
    pub y0: usize,
    /// Its size.
    pub width: usize,
    pub height: usize,
}

/// Ink and hair on the chart for one moment.
pub(crate) struct ChartLayers {
    pub ink: InkBuffer,
    /// Redness of freshly worked skin (only for [`Moment::Fresh`]).
    pub fresh: Option<InkBuffer>,
    /// Hair coverage, 0–1 after clamping.
    pub hair: Option<InkBuffer>,
}

impl<'a> Scene<'a> {
    /// Checks the scene.
    pub fn validate(&self, moment: &Moment) -> Result<(), RenderError> {
        moment.validate(self.pattern.sessions.max(1))?;
        if let Some(h) = &self.hair {
            if !(h.blend_width_mm.is_finite() && h.blend_width_mm >= 0.0) {
                return Err(RenderError::invalid(
                    "hair.blend_width_mm",
                    format!("expected a width of 0 mm or more, got {}", h.blend_width_mm),
                ));
            }
            for (field, v) in [
                ("hair.among_treated", h.among_treated),
                ("hair.in_blend", h.in_blend),
                ("hair.blend_edge_fraction", h.blend_edge_fraction),
            ] {
                if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
                    return Err(RenderError::invalid(field, format!("expected 0–1, got {v}")));
                }
            }
        }
        if let Some(w) = self.fading.touch_up_dilution
            && !(w.is_finite() && (0.0..=1.0).contains(&w))
        {
            return Err(RenderError::invalid(
                "fading.touch_up_dilution",
                format!("expected a water share of 0–1, got {w}"),
            ));
        }
        self.skin.linear(self.settings)?;
        Ok(())
    }

    /// Splats every dot visible at `moment` into a chart raster of `frame`, in bands of rows
    /// on up to `threads` threads (the same raster on any number). Incomplete once `stop` is
    /// set.
    pub(crate) fn layers(
        &self,
        moment: &Moment,
        frame: ChartFrame,
        threads: usize,
        stop: &dyn Stop,
    ) -> ChartLayers {
        let dots = self.chart_dots(moment, frame, threads);
        let splat = |layer: &[(Kernel, Binned)]| {
            InkBuffer::splatted(frame.width, frame.height, layer, threads, stop, Vec::new())
        };
        let ink = splat(&dots.ink);
        let fresh = dots.fresh.map(|group| splat(std::slice::from_ref(&group)));
        let hair = self.hair.map(|h| self.hair_layer(&h, frame));
        ChartLayers { ink, fresh, hair }
    }

    /// The dots visible at `moment` on a chart raster of `frame`, with their kernels, gathered
    /// on up to `threads` threads (the same on any number).
    pub(crate) fn chart_dots(&self, moment: &Moment, frame: ChartFrame, threads: usize) -> ChartDots {
        self.chart_dots_in(
            moment,
            frame,
            Window {
                x0: 0,
                y0: 0,
                width: frame.width,
                height: frame.height,
            },
            threads,
        )
    }

    /// The dots visible at `moment` on the part `window` of a chart raster of `frame`, in the
    /// window's pixels (its corner at 0, 0), with their kernels. The window's corner is a whole
    /// pixel, so every dot keeps its sub-pixel offset and leaves, in the window, the ink it
    /// leaves there on the whole raster.
    ///
    /// On up to `threads` threads, and the same to the bit on any number: the pattern's dots are
    /// cut into runs gathered apart, then joined in the dots' order (a width's group keeps the
    /// place its first dot gives it, and its spots their order), and each group is binned by
    /// one thread.
    pub(crate) fn chart_dots_in(
        &self,
        moment: &Moment,
        frame: ChartFrame,
        window: Window,
        threads: usize,
    ) -> ChartDots {
        let s = self.settings;
        // What every dot's look and impression take from the moment and the settings alone,
        // worked out once for all the runs.
        let render = PerRender {
            looks: Looks::new(
                moment,
                self.pattern.sessions.max(1),
                &self.fading,
                self.fading.healing_loss_fraction,
                s,
            ),
            healing: crate::impression::Healing::new(s),
            fresh_kernel: Kernel::new(s.fresh_halo_sigma_mm * frame.px_per_mm as f32),
        };
        let n = self.pattern.dots.len();
        // One run on one thread; on more, up to four runs a thread of at least `RUN_DOTS` dots
        // each, taken in turn by whichever thread is free (the dots of later sessions cost
        // more than the first's: halves took 2.5 and 3.9 ms for a 2048² Norwood VII preview).
        const RUN_DOTS: usize = 2048;
        let runs = if threads <= 1 {
            1
        } else {
            n.div_ceil(RUN_DOTS).clamp(1, 4 * threads)
        };
        let gathered = par_parts(runs, threads, |r| {
            self.gather_dots(frame, window, &render, n * r / runs..n * (r + 1) / runs)
        });
        let mut all = Gathered::default();
        for part in gathered {
            for (key, (kernel, dots)) in part.keys.into_iter().zip(part.groups) {
                match all.keys.iter().position(|k| *k == key) {
                    Some(g) => all.groups[g].1.extend_from_slice(&dots),
                    None => {
                        all.keys.push(key);
                        all.groups.push((kernel, dots));
                    }
                }
            }
            all.fresh.extend_from_slice(&part.fresh);
        }
        let Gathered { groups, fresh, .. } = all;
        let bin = |dots: &[[f32; 3]]| Binned::new(window.width, window.height, dots);
        let binned = par_parts(groups.len(), threads, |g| bin(&groups[g].1));
        ChartDots {
            ink: groups
                .into_iter()
                .zip(binned)
                .map(|((kernel, _), binned)| (kernel, binned))
                .collect(),
            fresh: matches!(moment, Moment::Fresh { .. }).then(|| (render.fresh_kernel, bin(&fresh))),
        }
    }

    /// The spots of the dots `range` of the pattern ([`Scene::chart_dots_in`]), grouped by
    /// width in the order the widths first appear.
    fn gather_dots(
        &self,
        frame: ChartFrame,
        window: Window,
        render: &PerRender<'_>,
        range: std::ops::Range<usize>,
    ) -> Gathered {
        let s = self.settings;
        let px = frame.px_per_mm as f32;
        let PerRender {
            looks,
            healing,
            fresh_kernel,
        } = render;
        // Kernels by quantised diameter (µm): few distinct values, each built once, each with
        // its dots splatted in one binned pass.
        // The keys apart from the groups: a dense list to search for every spot.
        let Gathered {
            mut keys,
            mut groups,
            mut fresh,
        } = Gathered::default();
        // How far a dot's ink can reach from its centre, to skip the dots whose ink cannot
        // reach the window before drawing their impressions: its farthest spot (a share of its
        // diameter) and that spot's kernel, for the largest spot an impression has.
        let (farthest, largest) = crate::impression::extent(s);
        let (window_w, window_h) = (window.width as f32, window.height as f32);
        let first = range.start;
        for (i, dot) in self.pattern.dots[range].iter().enumerate() {
            let i = first + i;
            let Some(look) = looks.look(i, dot) else {
                continue;
            };
            if look.strength <= 0.0 {
                continue;
            }
            let mut healed_mm = dot.diameter_mm as f32 * s.healed_dot_scale;
            if look.fresh {
                healed_mm *= s.fresh_dot_scale;
            }
            // A Gaussian with σ = d/2.5 peaks at `shade·strength` when resolved. Over the years
            // the same pigment spreads wider: the width grows, the mass does not.
            let mass_sigma_mm = healed_mm / 2.5;
            // The dot's ink: its mix (carbon share) as absorbance relative to the reference
            // mix the optics are calibrated to, times what the fading model leaves of it.
            let mass = crate::optics::mix_strength(&s.optics, look.shade)
                * look.strength
                * std::f32::consts::TAU
                * (mass_sigma_mm * px).powi(2);
            let (x, y) = frame.to_px(dot.x_mm, dot.y_mm);
            let (x, y) = (x - window.x0 as f32, y - window.y0 as f32);
            let diameter_px = healed_mm * look.size * px;
            let widest_mm =
                ((healed_mm * look.size * largest / 2.5).powi(2) + s.healed.scatter_mm.powi(2)).sqrt();
            let mut margin = farthest * diameter_px + Kernel::reach_of(widest_mm * px) as f32;
            if look.fresh {
                margin = margin.max(fresh_kernel.reach() as f32);
            }
            if !(x > -margin && y > -margin && x < window_w + margin && y < window_h + margin) {
                continue;
            }
            // The healed impression: a main spot and lobes of its own sizes, sharing its ink,
            // each softened by the dermis' scatter (`[render.healed]`).
            let scatter = s.healed.scatter_mm;
            crate::impression::for_each_spot(i, healing, |spot| {
                let d_mm = healed_mm * look.size * spot.size;
                let sigma_mm = ((d_mm / 2.5).powi(2) + scatter * scatter).sqrt();
                let key = round_u32(sigma_mm * 1000.0);
                let group = match keys.iter().position(|k| *k == key) {
                    Some(g) => g,
                    None => {
                        keys.push(key);
                        groups.push((Kernel::new(sigma_mm * px), Vec::new()));
                        groups.len() - 1
                    }
                };
                let reach = healed_mm * look.size * px;
                let Some((_, dots)) = groups.get_mut(group) else {
                    return;
                };
                dots.push([
                    x + spot.offset[0] * reach,
                    y - spot.offset[1] * reach,
                    mass * spot.share,
                ]);
            });
            if look.fresh {
                fresh.push([x, y, s.fresh_halo_strength * (s.fresh_halo_sigma_mm * px).powi(2)]);
            }
        }
        Gathered { keys, groups, fresh }
    }

    fn hair_layer(&self, hair: &Hair, frame: ChartFrame) -> InkBuffer {
        crate::hair::stubble(self, hair, frame)
    }

    /// Where a chart point (mm) lands in a [`View::Chart`] image of `width × height` pixels.
    pub fn chart_pixel(&self, chart_mm: [f64; 2], width: u32, height: u32) -> [f32; 2] {
        let frame = ChartFrame::fit(&self.pattern.outline, width, height);
        let (x, y) = frame.to_px(chart_mm[0], chart_mm[1]);
        [x, y]
    }

    /// The optics for this scene's skin at a moment.
    pub(crate) fn optics(&self, skin: Linear, moment: &Moment) -> Optics {
        Optics::new(
            &self.settings.optics,
            skin,
            self.settings.depth_mm,
            moment.cooling(&self.fading),
        )
    }

    /// Renders one view at one moment into a `width × height` image, on the machine's cores
    /// ([`Scene::render_threads`]).
    pub fn render(
        &self,
        view: View,
        moment: &Moment,
        width: u32,
        height: u32,
    ) -> Result<RgbImage, RenderError> {
        self.render_threads(view, moment, width, height, default_threads())
    }

    /// [`Scene::render`] that stops early, with [`RenderError::Stopped`], once `stop` is set
    /// (checked between bands of rows: a 2048-px preview stops within milliseconds). Set it
    /// from another thread when nobody waits for the image any more.
    pub fn render_until(
        &self,
        view: View,
        moment: &Moment,
        width: u32,
        height: u32,
        stop: &dyn Stop,
    ) -> Result<RgbImage, RenderError> {
        self.render_threads_until(view, moment, width, height, default_threads(), stop)
    }

    /// Renders one view at one moment into a `width × height` image, the chart view in bands of
    /// rows on up to `threads` threads (0 and 1: the calling thread only; the head views are
    /// drawn on it). The image does not depend on `threads`: each band is drawn whole by one
    /// thread, exactly as it is drawn on one.
    pub fn render_threads(
        &self,
        view: View,
        moment: &Moment,
        width: u32,
        height: u32,
        threads: usize,
    ) -> Result<RgbImage, RenderError> {
        self.render_threads_until(view, moment, width, height, threads, &NEVER)
    }

    /// [`Scene::render_threads`] that stops early once `stop` is set ([`Scene::render_until`]).
    pub fn render_threads_until(
        &self,
        view: View,
        moment: &Moment,
        width: u32,
        height: u32,
        threads: usize,
        stop: &dyn Stop,
    ) -> Result<RgbImage, RenderError> {
        self.validate(moment)?;
        check_size(width, height)?;
        let image = match view {
            View::Chart => self.render_chart(moment, width, height, threads, stop),
            _ => crate::head::render_head(self, view, moment, width, height, threads, stop)?,
        };
        if stop.asked() {
            return Err(RenderError::Stopped);
        }
        Ok(image)
    }

    /// The chart view, band by band: each band of rows gets its ink splatted into a small
    /// buffer that stays in cache, then composited straight into the image.
    fn render_chart(
        &self,
        moment: &Moment,
        width: u32,
        height: u32,
        threads: usize,
        stop: &dyn Stop,
    ) -> RgbImage {
        let frame = ChartFrame::fit(&self.pattern.outline, width, height);
        let dots = self.chart_dots(moment, frame, threads);
        let hair_cover = self.hair.map(|h| self.hair_layer(&h, frame));
        let skin = self.skin.linear_or_typical(self.settings);
        let optics = self.optics(skin, moment);
        let table = optics.table(12.0, 4096);
        let hair_lin = self.hair.map(|h| srgb_to_linear(h.srgb));
        let outline_px: Vec<[f64; 2]> = self
            .pattern
            .outline
            .iter()
            .map(|p| {
                let (x, y) = frame.to_px(p[0], p[1]);
                [f64::from(x), f64::from(y)]
            })
            .collect();
        let spans = Spans::fill(&outline_px, frame.width, frame.height);
        let w = width as usize;
        let stride = row_stride(w);
        let background = self.settings.background;
        // Uniform skin, ink only: the colour depends on the ink alone, so one table maps
        // ink straight to sRGB bytes: a lookup per pixel, four pixels at a time
        // ([`ink_to_srgb`]; callgrind, the 2048² healed Norwood VII preview: 22 → 11
        // instructions a pixel).
        let max_ink = 12.0f32;
        let scale = STEPS as f32 / max_ink;
        let bytes: Option<Box<InkBytes>> = (dots.fresh.is_none() && hair_cover.is_none())
            .then(|| {
                let mut bytes = vec![[0u8; 4]; TABLE];
                for (k, entry) in bytes.iter_mut().enumerate().take(STEPS + 1) {
                    let [r, g, b] = linear_to_srgb(shade_sampled(
                        skin,
                        1.0,
                        max_ink * k as f32 / STEPS as f32,
                        0.0,
                        0.0,
                        &table,
                        None,
                    ));
                    *entry = [r, g, b, 0];
                }
                let last = bytes[STEPS];
                bytes[STEPS + 1..].fill(last);
                bytes.into_boxed_slice().try_into().ok()
            })
            .flatten();
        // A row of background, copied (memcpy) outside the outline.
        let blank: Vec<u8> = background.repeat(w);
        let mut raw = vec![0u8; 3 * w * frame.height];
        par_bands(
            &mut raw,
            3 * w,
            threads,
            stop,
            || (Vec::new(), Vec::new()),
            |(ink, fresh): &mut (Vec<f32>, Vec<f32>), y0, out| {
                let rows = out.len() / (3 * w);
                ink.clear();
                ink.resize(rows * stride, 0.0);
                for (kernel, binned) in &dots.ink {
                    binned.splat_band(ink, stride, y0, kernel);
                }
                if let Some((kernel, binned)) = &dots.fresh {
                    fresh.clear();
                    fresh.resize(rows * stride, 0.0);
                    binned.splat_band(fresh, stride, y0, kernel);
                }
                for (r, line) in out.chunks_exact_mut(3 * w).enumerate() {
                    let mut done = 0;
                    for &(a, b) in &spans.rows[y0 + r] {
                        line[3 * done..3 * a].copy_from_slice(&blank[3 * done..3 * a]);
                        let out = &mut line[3 * a..3 * b];
                        let ink = &ink[r * stride + a..r * stride + b];
                        if let Some(bytes) = &bytes {
                            ink_to_srgb(out, ink, bytes, scale);
                        } else {
                            for (k, (px, v)) in out.chunks_exact_mut(3).zip(ink).enumerate() {
                                let f = if dots.fresh.is_some() {
                                    fresh[r * stride + a + k]
                                } else {
                                    0.0
                                };
                                let cover = hair_cover.as_ref().map_or(0.0, |h| h.get(a + k, y0 + r));
                                let colour = shade_sampled(skin, 1.0, *v, f, cover, &table, hair_lin);
                                px.copy_from_slice(&linear_to_srgb(colour));
                            }
                        }
                        done = b;
                    }
                    line[3 * done..].copy_from_slice(&blank[3 * done..]);
                }
            },
        );
        RgbImage::from_raw(width, height, raw).expect("a buffer of width × height pixels")
    }
}

/// `x.round() as u32`, exactly (NaN and negatives to 0, saturating), without `roundf` (a
/// library call on baseline x86-64): the truncation, plus one where the part it dropped is
/// a half or more (that part is exact below 2²³, and 0 from there on).
#[inline]
fn round_u32(x: f32) -> u32 {
    let t = x as u32;
    t.saturating_add(u32::from(x - t as f32 >= 0.5))
}

/// Steps of ink in the chart's ink → sRGB table, over 0–12 absorbance units.
const STEPS: usize = 4096;

/// Entries in the ink → sRGB table: its `STEPS + 1` steps, and as many again repeating the
/// last, so that a step masked by `TABLE − 1` (a no-op on a step) needs no bounds check.
const TABLE: usize = 2 * STEPS;

/// Ink → sRGB bytes, step by step (`[r, g, b, 0]`: a pixel's bytes as one `u32`).
type InkBytes = [[u8; 4]; TABLE];

/// The table steps of four inks `v`: `((v · scale + 0.5) as i32).clamp(0, STEPS)` (NaN and
/// negatives to 0), in a form the compiler turns into a dozen vector instructions for the
/// four: `x = v · scale + 0.5` clamped to 0..=STEPS in `f32` (NaN to 0), then truncated by
/// rounding (`x + 2²³` holds the nearest whole number in its low bits: exact for
/// 0 ≤ x ≤ 2²²) less one where that rounded up. The same steps, bit for bit: the clamp
/// commutes with the truncation at whole-number bounds.
#[inline(always)]
fn ink_steps(v: [f32; 4], scale: f32) -> [u32; 4] {
    const ROUND: f32 = (1u32 << 23) as f32;
    let x = v.map(|v| {
        let x = v * scale + 0.5;
        let x = if x > 0.0 { x } else { 0.0 };
        if x < STEPS as f32 { x } else { STEPS as f32 }
    });
    let big = x.map(|x| x + ROUND);
    let mut k = [0u32; 4];
    for ((k, x), big) in k.iter_mut().zip(x).zip(big) {
        let up = big - ROUND > x;
        *k = big
            .to_bits()
            .wrapping_sub(ROUND.to_bits())
            .wrapping_sub(u32::from(up));
    }
    k
}

/// Colours a run of pixels from their ink: the table entry of each ink's step
/// ([`ink_steps`]), its three bytes into `out`.
///
/// Four pixels at a time: four steps at once, the four entries packed into twelve bytes by
/// shifts and written as two words (a byte copy per pixel cost twice the instructions).
#[inline]
fn ink_to_srgb(out: &mut [u8], ink: &[f32], bytes: &InkBytes, scale: f32) {
    let entry = |k: u32| u64::from(u32::from_le_bytes(bytes[k as usize & (TABLE - 1)]));
    let mut quads = out.chunks_exact_mut(12);
    let mut inks = ink.chunks_exact(4);
    for (px, v) in (&mut quads).zip(&mut inks) {
        let (Some((lo, hi)), Some(&v)) = (px.split_first_chunk_mut::<8>(), v.first_chunk::<4>()) else {
            continue;
        };
        let [a, b, c, d] = ink_steps(v, scale).map(entry);
        *lo = (a | b << 24 | c << 48).to_le_bytes();
        hi.copy_from_slice(&(((c >> 16) | d << 8) as u32).to_le_bytes());
    }
    let rest = inks.remainder();
    let mut v = [0.0; 4];
    v[..rest.len()].copy_from_slice(rest);
    for (px, k) in quads
        .into_remainder()
        .chunks_exact_mut(3)
        .zip(ink_steps(v, scale))
    {
        px.copy_from_slice(&entry(k).to_le_bytes()[..3]);
    }
}

/// The colour of one pixel: skin (lit by `light`) under `ink`, reddened if `fresh`, under
/// `hair_cover` of hair.
#[inline]
pub(crate) fn shade_sampled(
    skin: Linear,
    light: f32,
    ink: f32,
    fresh: f32,
    hair_cover: f32,
    table: &InkTable,
    hair: Option<Linear>,
) -> Linear {
    let mut base = skin.map(|c| c * light);
    if fresh > 0.0 {
        let r = fresh.min(1.0);
        let k = table.fresh_redness;
        base = [
            base[0] * (1.0 + k[0] * r),
            base[1] * (1.0 + k[1] * r),
            base[2] * (1.0 + k[2] * r),
        ];
    }
    let f = table.factor(ink);
    let mut out = [base[0] * f[0], base[1] * f[1], base[2] * f[2]];
    if let Some(h) = hair {
        let a = hair_cover.clamp(0.0, 1.0);
        if a > 0.0 {
            out = std::array::from_fn(|c| out[c] * (1.0 - a) + h[c] * light * a);
        }
    }
    out
}

/// Refuses sizes that are empty or would allocate more than the limit.
pub fn check_size(width: u32, height: u32) -> Result<(), RenderError> {
    for (field, v) in [("width", width), ("height", height)] {
        if v == 0 || v > MAX_SIDE_PX {
            return Err(RenderError::invalid(
                field,
                format!("expected 1–{MAX_SIDE_PX} pixels, got {v}"),
            ));
        }
    }
    Ok(())
}

/// Mean colour of the scalp skin under the pattern's dots at a moment: a summary used by tests
/// and reports (CIE L*a*b* of the mean linear colour over the chart's treated pixels).
pub fn mean_lab(img: &RgbImage, mask: impl Fn(u32, u32) -> bool) -> [f32; 3] {
    let mut sum = [0.0f64; 3];
    let mut n = 0usize;
    for (x, y, p) in img.enumerate_pixels() {
        if mask(x, y) {
            let l = srgb_to_linear(p.0);
            for c in 0..3 {
                sum[c] += f64::from(l[c]);
            }
            n += 1;
        }
    }
    let n = n.max(1) as f64;
    linear_to_lab(sum.map(|s| (s / n) as f32))
}

/// Whether a dot is in a scar.
pub fn in_scar(dot: &Dot) -> bool {
    dot.zone == ZoneKind::Scar
}
