//! The head: an ellipsoid sized from clinic measurements, its landmarks, and the
//! equal-area chart of the scalp on which every zone and dot is placed.
//!
//! # Why an ellipsoid and this chart
//!
//! A head is close to an ellipsoid with semi-axes `a` (half the breadth), `b` (half the
//! length) and `c` (the height of the vertex above the plane of the glabella). The three
//! numbers a clinic can measure with a tape (length, breadth or circumference, and
//! optionally height) fix it, and everything we need has a closed form on it.
//!
//! Dots are placed on a flat 2-D chart, so the chart must not distort *areas*: a density
//! of 80 dots/cm² on the chart has to be 80 dots/cm² on the skin (a top-view photo is off
//! by up to 60% near the sides). We use an azimuthal equal-area chart centred on the
//! vertex, the ellipsoidal cousin of Lambert's projection: a surface point with polar
//! angle θ (from the vertex) and parametric azimuth φ goes to the chart point
//! `r·(cos φ, sin φ)` with `r² / 2 = S(θ, φ)`, where `S` is the area-element integral
//! `∫₀^θ J(t, φ) dt` and `J = sin θ · √(A + (B − A) cos² θ)`,
//! `A = c²(b² cos² φ + a² sin² φ)`, `B = a² b²`. The chart area element is
//! `r dr dφ = J dθ dφ`, exactly the surface area element, so **areas measured on the chart
//! are exact on the surface** (up to floating point). The integral has a closed form
//! (`asinh`/`asin`), so no lookup tables are needed; the inverse map solves for `cos θ`
//! with a safeguarded Halley iteration. On a sphere this is exactly Lambert's azimuthal
//! equal-area projection.
//!
//! Lengths cannot also be exact (no flat map of a curved surface keeps both). Near the
//! vertex they are; the radial/tangential scale factors drift apart towards the ears
//! (about 0.87/1.15 at 60° from the vertex on a sphere). Clinical lengths (the hairline
//! rules' 8 cm, the whorl's 6 cm) are therefore measured along the 3-D surface, not on
//! the chart, and dot spacing on the sides is slightly anisotropic (see the crate docs).
//!
//! Axes: `x` towards the client's right ear, `y` forwards (towards the face), `z` up; the
//! origin is the centre of the ellipsoid, at the level of the glabella. The chart uses the
//! same `x`/`y` directions with the vertex at `(0, 0)`; all lengths are in mm.

use follicle_core::Settings;
use serde::{Deserialize, Serialize};

use crate::error::{PatternError, check_range};
use crate::settings::LandmarkSettings;

/// Biological sex, used only to pick default head measurements and hairline shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = PatternSex))]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Default head length, circumference and height: the settings' `[head]` `male` values.
    #[default]
    Male,
    /// Default head size: the settings' `[head]` `female` values; rounder hairline.
    Female,
}

impl Sex {
    /// The key of the settings' `[head]` tables.
    fn key(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }
}

/// Head measurements as a clinic takes them. Missing values fall back to the defaults
/// for `sex` (the default settings' `[head]`: DOMAIN §4, length 195/180 mm, circumference 57/55 cm).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct HeadSpec {
    /// Picks the defaults below and the hairline's shape.
    pub sex: Sex,
    /// Glabella to opisthocranion, mm (120–260). Default 195 (men) / 180 (women).
    pub length_mm: Option<f64>,
    /// Widest side-to-side, mm (100–220). Default: derived from the circumference.
    pub breadth_mm: Option<f64>,
    /// Horizontal circumference over the glabella, cm (40–75). Default 57 (men) / 55 (women).
    pub circumference_cm: Option<f64>,
    /// Height of the vertex above the glabella plane, mm (60–160). Default 105 (men) /
    /// 100 (women), from auricular head height minus the glabella's height above the
    /// ear canal; it tunes the default male scalp to about 500 cm².
    pub height_mm: Option<f64>,
}

impl Default for HeadSpec {
    fn default() -> Self {
        HeadSpec {
            sex: Sex::Male,
            length_mm: None,
            breadth_mm: None,
            circumference_cm: None,
            height_mm: None,
        }
    }
}

/// A point on the scalp, on the chart and in 3-D.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SurfacePoint {
    /// Position on the equal-area chart, mm (vertex at the origin).
    pub chart_mm: [f64; 2],
    /// Position on the head surface, mm.
    pub surface_mm: [f64; 3],
}

/// Named points of the head used by the hairline rules and the zone defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Landmarks {
    /// Between the eyebrows; the hairline rules measure up from here.
    pub glabella: SurfacePoint,
    /// Outer corner of the right eye.
    pub lateral_canthus_right: SurfacePoint,
    /// Outer corner of the left eye.
    pub lateral_canthus_left: SurfacePoint,
    /// Top of the head.
    pub vertex: SurfacePoint,
    /// Centre of the crown whorl.
    pub crown_whorl: SurfacePoint,
    /// Right ear canal (below the scalp, for reference).
    pub ear_canal_right: SurfacePoint,
    /// Left ear canal.
    pub ear_canal_left: SurfacePoint,
    /// Lowest point of the occipital fringe at the nape, on the midline.
    pub occipital_fringe: SurfacePoint,
}

/// An ellipsoidal head with its equal-area scalp chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = PatternHead))]
pub struct Head {
    /// Sex used for defaults.
    pub sex: Sex,
    /// Semi-axis towards the ears (half the breadth), mm.
    pub a_mm: f64,
    /// Semi-axis front to back (half the length), mm.
    pub b_mm: f64,
    /// Semi-axis up (vertex above the glabella plane), mm.
    pub c_mm: f64,
    /// The landmark proportions in force (`[pattern.landmarks]`).
    #[serde(skip)]
    pub proportions: LandmarkSettings,
}

/// Ramanujan's second approximation of an ellipse's perimeter (error < 1e-9 relative here).
fn ellipse_perimeter(a: f64, b: f64) -> f64 {
    let h = ((a - b) / (a + b)).powi(2);
    std::f64::consts::PI * (a + b) * (1.0 + 3.0 * h / (10.0 + (4.0 - 3.0 * h).sqrt()))
}

impl Head {
    /// Builds the head from measurements, filling gaps with the defaults for `spec.sex`, with
    /// the default settings' landmark proportions.
    pub fn from_spec(spec: &HeadSpec) -> Result<Head, PatternError> {
        Head::from_spec_with(spec, &Settings::defaults().pattern.landmarks)
    }

    /// Builds the head from measurements, filling gaps with the default settings' `[head]`
    /// sizes for `spec.sex`, with the given landmark proportions (a clinic's `[pattern.landmarks]`).
    pub fn from_spec_with(spec: &HeadSpec, proportions: &LandmarkSettings) -> Result<Head, PatternError> {
        let sizes = &Settings::defaults().head;
        // Validated settings carry every size for both sexes.
        let default = |by_sex: &std::collections::BTreeMap<String, f64>| by_sex[spec.sex.key()];
        let (len_default, circ_default, height_default) = (
            default(&sizes.length_mm),
            default(&sizes.circumference_cm),
            default(&sizes.height_mm),
        );
        let length = check_range(
            "head.length_mm",
            spec.length_mm.unwrap_or(len_default),
            120.0,
            260.0,
            "120–260 mm",
        )?;
        let height = check_range(
            "head.height_mm",
            spec.height_mm.unwrap_or(height_default),
            60.0,
            160.0,
            "60–160 mm",
        )?;
        let b = length / 2.0;
        let a = match spec.breadth_mm {
            Some(breadth) => check_range("head.breadth_mm", breadth, 100.0, 220.0, "100–220 mm")? / 2.0,
            None => {
                let circ_cm = spec.circumference_cm.unwrap_or(circ_default);
                let circ = check_range("head.circumference_cm", circ_cm, 40.0, 75.0, "40–75 cm")? * 10.0;
                // The breadth that gives this circumference with this length; the head
                // is never wider than it is long by more than a little, so search
                // 0.5–1.1 × half-length and refuse what falls outside.
                let (mut lo, mut hi) = (0.5 * b, 1.1 * b);
                if circ < ellipse_perimeter(b, lo) || circ > ellipse_perimeter(b, hi) {
                    return Err(PatternError::range(
                        "head.circumference_cm",
                        circ_cm,
                        format!(
                            "{:.1}–{:.1} cm for a head length of {length} mm",
                            ellipse_perimeter(b, lo) / 10.0,
                            ellipse_perimeter(b, hi) / 10.0
                        ),
                    ));
                }
                for _ in 0..60 {
                    let mid = 0.5 * (lo + hi);
                    if ellipse_perimeter(b, mid) < circ {
                        lo = mid
                    } else {
                        hi = mid
                    }
                }
                0.5 * (lo + hi)
            }
        };
        Ok(Head {
            sex: spec.sex,
            a_mm: a,
            b_mm: b,
            c_mm: height,
            proportions: *proportions,
        })
    }

    /// An ellipsoid with explicit semi-axes (mm, each 30–200); a sphere when all are equal.
    pub fn ellipsoid(a_mm: f64, b_mm: f64, c_mm: f64) -> Result<Head, PatternError> {
        check_range("head.a_mm", a_mm, 30.0, 200.0, "30–200 mm")?;
        check_range("head.b_mm", b_mm, 30.0, 200.0, "30–200 mm")?;
        check_range("head.c_mm", c_mm, 30.0, 200.0, "30–200 mm")?;
        Ok(Head {
            sex: Sex::Male,
            a_mm,
            b_mm,
            c_mm,
            proportions: Settings::defaults().pattern.landmarks,
        })
    }

    /// The `A` and `k = B − A` coefficients of the area element at azimuth `phi`.
    fn coefficients(&self, phi: f64) -> (f64, f64) {
        let (s, co) = phi.sin_cos();
        self.coefficients_along(co, s)
    }

    /// [`Head::coefficients`] for the azimuth whose cosine and sine are `co` and `s`.
    #[inline]
    fn coefficients_along(&self, co: f64, s: f64) -> (f64, f64) {
        let (a, b, c) = (self.a_mm, self.b_mm, self.c_mm);
        let big_a = c * c * (b * b * co * co + a * a * s * s);
        (big_a, a * a * b * b - big_a)
    }

    /// Surface area from the vertex down to polar angle `theta` per radian of azimuth.
    fn area_integral(&self, cos_theta: f64, phi: f64) -> f64 {
        let (big_a, k) = self.coefficients(phi);
        let element = AreaElement::new(big_a, k);
        element.antiderivative(1.0) - element.antiderivative(cos_theta)
    }

    /// Chart position of the surface point with polar angle `theta` and parametric azimuth `phi`.
    pub fn chart_from_angles(&self, theta: f64, phi: f64) -> [f64; 2] {
        let r = (2.0 * self.area_integral(theta.cos(), phi)).max(0.0).sqrt();
        [r * phi.cos(), r * phi.sin()]
    }

    /// 3-D position of the surface point with polar angle `theta` and parametric azimuth `phi`.
    pub fn surface_from_angles(&self, theta: f64, phi: f64) -> [f64; 3] {
        let (st, ct) = theta.sin_cos();
        [
            self.a_mm * st * phi.cos(),
            self.b_mm * st * phi.sin(),
            self.c_mm * ct,
        ]
    }

    /// The polar angle and parametric azimuth of a 3-D point (projected onto the surface
    /// along the ellipsoid's own coordinates).
    pub fn angles_from_surface(&self, p: [f64; 3]) -> (f64, f64) {
        let (x, y, z) = (p[0] / self.a_mm, p[1] / self.b_mm, p[2] / self.c_mm);
        let phi = y.atan2(x);
        let theta = (x.hypot(y)).atan2(z);
        (theta, phi)
    }

    /// Chart position of a 3-D surface point.
    pub fn chart_from_surface(&self, p: [f64; 3]) -> [f64; 2] {
        let (theta, phi) = self.angles_from_surface(p);
        self.chart_from_angles(theta, phi)
    }

    /// 3-D surface position of a chart point (mm). Points beyond the chart's edge (the
    /// "south pole" of the ellipsoid) are clamped to it.
    pub fn surface_from_chart(&self, q: [f64; 2]) -> [f64; 3] {
        self.surface_from_chart_near(q, None).0
    }

    /// Like [`Head::surface_from_chart`], starting the iteration from `cos θ` of a
    /// nearby point (the centre of a follicular unit for its dots): one or two steps
    /// instead of four. Returns the point and its `cos θ`.
    ///
    /// No trigonometry but the area element's own `asin`/`asinh`: the azimuth enters only as
    /// its cosine and sine, which are the chart point's direction `q / |q|`, and the point's
    /// `sin θ` is `√(1 − cos² θ)`. The iteration is Halley's (the area element's slope is
    /// the same square root the area needs, so the second derivative costs a division): it
    /// stops on a small residual, or after a step below 1e-4 in `cos θ`, whose error is of
    /// the order of the step cubed, without evaluating the area once more to confirm. Two
    /// evaluations from the sphere's start, one or two from a unit's centre.
    pub fn surface_from_chart_near(&self, q: [f64; 2], hint_cos_theta: Option<f64>) -> ([f64; 3], f64) {
        let solve = self.surface_from_chart_solve(q, hint_cos_theta, false);
        (solve.surface, solve.cos_theta)
    }

    /// [`Head::surface_from_chart_near`] as a [`ChartSolve`]; with `gradient`, also the
    /// gradient of `cos θ` across the chart at `q`, from which [`ChartSolve::start_at`] starts
    /// the solve of a point near `q` within about 1e-4 of its `cos θ` (a unit's dots, half a
    /// millimetre to a millimetre from its centre): one evaluation of the area instead of two.
    /// Without it the gradient is zeros and nothing is spent on it.
    pub fn surface_from_chart_solve(
        &self,
        q: [f64; 2],
        hint_cos_theta: Option<f64>,
        gradient: bool,
    ) -> ChartSolve {
        if gradient {
            self.invert_chart::<true>(q, hint_cos_theta)
        } else {
            self.invert_chart::<false>(q, hint_cos_theta)
        }
    }

    /// The chart's inverse at `q` (see [`Head::surface_from_chart_near`]), with the gradient
    /// of `cos θ` when `GRADIENT`.
    ///
    /// The gradient comes from the last evaluation of the area, with no further
    /// transcendental function. Along the radius, `r²/2 = G(1) − G(u)` gives
    /// `∂u/∂r = −r / √(A + k u²)`. Across it, `A` and `k = a²b² − A` turn with the azimuth
    /// (`A' = 2c² cos φ sin φ (a² − b²)`, `k' = −A'`), and `∂(G(1) − G(u))/∂φ =
    /// (A'/2) ∫ᵤ¹ (1 − t²)/√(A + k t²) dt`. With `G(t) = t·R(t)/2 + (A/2)·L(t)`, `L` the
    /// integral of `1/R`, and `∫ t²/R = (t·R − A·L)/(2k)`, that integral is
    /// `(2T − D)/A + (T − D)/k` for `T = G(1) − G(u)` and `D = R(1) − u·R(u)`; near `k = 0`
    /// (a sphere-like head) it is `((1 − u) − (1 − u³)/3)/√A`.
    #[inline(always)]
    fn invert_chart<const GRADIENT: bool>(&self, q: [f64; 2], hint_cos_theta: Option<f64>) -> ChartSolve {
        let r2 = q[0] * q[0] + q[1] * q[1];
        if r2 < 1e-24 {
            return ChartSolve {
                surface: [0.0, 0.0, self.c_mm],
                cos_theta: 1.0,
                gradient: [0.0; 2],
            };
        }
        let r = r2.sqrt();
        let (co, s) = (q[0] / r, q[1] / r);
        let target = 0.5 * r2;
        let (big_a, k) = self.coefficients_along(co, s);
        // The terms of the antiderivative that do not depend on `u`, once a solve.
        let element = AreaElement::new(big_a, k);
        let (g1, root1) = element.antiderivative_and_root(1.0);
        // The last evaluation: `u`, `G(u)` and `√(A + k u²)` there.
        let mut last = (f64::NAN, f64::NAN, 0.0);
        // f(u) = g1 − G(u) − target decreases in u from f(-1) = total - target to
        // f(1) = -target. The antiderivative is odd (`asinh` and `asin` are, and so is
        // rounding), so f(-1) = g1 + g1 − target without a third evaluation (tested:
        // `the_antiderivative_is_odd`).
        let u = if 2.0 * g1 - target <= 0.0 {
            -1.0
        } else {
            let (mut lo, mut hi) = (-1.0_f64, 1.0_f64);
            // Start from the hint, or from the sphere with the same area element at the pole.
            let mut u = hint_cos_theta
                .filter(|h| h.is_finite())
                .unwrap_or(1.0 - target / big_a.sqrt().max(1e-9))
                .clamp(-1.0, 1.0);
            for _ in 0..40 {
                let (g, root) = element.antiderivative_and_root(u);
                last = (u, g, root);
                let fu = g1 - g - target;
                if fu.abs() < 1e-9 * target.max(1.0) {
                    break;
                }
                if fu > 0.0 {
                    lo = u
                } else {
                    hi = u
                }
                // f' = −√(A + k u²) = −root, f'' = −k u / root.
                let next = if root > 0.0 {
                    let (d1, d2) = (-root, -k * u / root);
                    u - 2.0 * fu * d1 / (2.0 * d1 * d1 - fu * d2)
                } else {
                    f64::NAN
                };
                if next > lo && next < hi {
                    let step = next - u;
                    u = next;
                    if step.abs() < HALLEY_SETTLED {
                        break;
                    }
                } else {
                    u = 0.5 * (lo + hi);
                }
            }
            u.clamp(-1.0, 1.0)
        };
        let st = (1.0 - u * u).max(0.0).sqrt();
        let surface = [self.a_mm * st * co, self.b_mm * st * s, self.c_mm * u];
        let mut gradient = [0.0; 2];
        let (ue, ge, root) = last;
        if GRADIENT && root > 0.0 && ue.is_finite() {
            let (t, d) = (g1 - ge, root1 - ue * root);
            let across = if k.abs() > 1e-9 * big_a {
                (2.0 * t - d) / big_a + (t - d) / k
            } else {
                ((1.0 - ue) - (1.0 - ue * ue * ue) / 3.0) / big_a.sqrt()
            };
            let (a2, b2, c2) = (
                self.a_mm * self.a_mm,
                self.b_mm * self.b_mm,
                self.c_mm * self.c_mm,
            );
            let turn = c2 * co * s * (a2 - b2) * across;
            // ∂u/∂r along (co, s) and (1/r)·∂u/∂φ along (−s, co).
            let (du_dr, du_across) = (-r / root, turn / (r * root));
            gradient = [du_dr * co - du_across * s, du_dr * s + du_across * co];
        }
        ChartSolve {
            surface,
            cos_theta: u,
            gradient,
        }
    }

    /// How much longer the skin is than the chart along the chart's radius at `q`, whose
    /// `cos θ` is `cos_theta` (from [`Head::surface_from_chart_near`]): `|dS/dr|`, the radial
    /// scale factor of the chart's inverse (1 at the vertex, growing towards the ears and nape,
    /// where the chart shrinks the skin radially and stretches it by as much across, since it
    /// keeps areas).
    pub fn radial_scale(&self, q: [f64; 2], cos_theta: f64) -> f64 {
        let r2 = q[0] * q[0] + q[1] * q[1];
        let u = cos_theta;
        let st = (1.0 - u * u).max(0.0).sqrt();
        if r2 < 1e-24 || st < 1e-9 {
            return 1.0;
        }
        let r = r2.sqrt();
        let (co, s) = (q[0] / r, q[1] / r);
        let (big_a, k) = self.coefficients_along(co, s);
        // r²/2 = G(1) − G(u) with G' = √(A + k u²): |du/dr| = r / √(A + k u²).
        let du_dr = r / (big_a + k * u * u).max(1e-300).sqrt();
        // S(u) = (a sin θ cos φ, b sin θ sin φ, c u), d(sin θ)/du = −u / sin θ.
        let ds = -u / st;
        let (sx, sy, sz) = (self.a_mm * co * ds, self.b_mm * s * ds, self.c_mm);
        let ds_du = (sx * sx + sy * sy + sz * sz).sqrt();
        ds_du * du_dr
    }

    /// A [`SurfacePoint`] from a 3-D position on the surface.
    pub fn point_from_surface(&self, p: [f64; 3]) -> SurfacePoint {
        let (theta, phi) = self.angles_from_surface(p);
        SurfacePoint {
            chart_mm: self.chart_from_angles(theta, phi),
            surface_mm: self.surface_from_angles(theta, phi),
        }
    }

    /// A [`SurfacePoint`] from a chart position.
    pub fn point_from_chart(&self, q: [f64; 2]) -> SurfacePoint {
        let s = self.surface_from_chart(q);
        SurfacePoint {
            chart_mm: q,
            surface_mm: s,
        }
    }

    /// The surface point at lateral offset `x_mm` and height `z_mm` on the front (`front
    /// = true`) or back of the head. Heights beyond the head are clamped.
    pub fn point_at(&self, x_mm: f64, z_mm: f64, front: bool) -> [f64; 3] {
        let x = x_mm.clamp(-0.999 * self.a_mm, 0.999 * self.a_mm);
        let z = z_mm.clamp(-0.999 * self.c_mm, 0.999 * self.c_mm);
        let rest = (1.0 - (x / self.a_mm).powi(2) - (z / self.c_mm).powi(2)).max(0.0);
        let y = self.b_mm * rest.sqrt();
        [x, if front { y } else { -y }, z]
    }

    /// The surface point with parametric azimuth `phi_deg` (90° = front, 0° = right ear
    /// side) at height `z_mm`.
    pub fn point_at_azimuth(&self, phi_deg: f64, z_mm: f64) -> [f64; 3] {
        let cos_t = (z_mm / self.c_mm).clamp(-0.999, 0.999);
        self.surface_from_angles(cos_t.acos(), phi_deg.to_radians())
    }

    /// Walks `arc_mm` up the surface from `start` inside the vertical plane `x = start.x`
    /// (a line "straight up" from a facial landmark) and returns where it ends. This is
    /// how the clinical rules are measured: with a flexible ruler on the skin.
    pub fn walk_up(&self, start: [f64; 3], arc_mm: f64) -> [f64; 3] {
        let shrink = (1.0 - (start[0] / self.a_mm).powi(2)).max(1e-6).sqrt();
        let (bb, cc) = (self.b_mm * shrink, self.c_mm * shrink);
        // Cross-section ellipse y = bb cos t, z = cc sin t (front side at t = 0).
        let sign = if start[1] >= 0.0 { 1.0 } else { -1.0 };
        let mut t = (start[2] / cc).clamp(-1.0, 1.0).asin();
        let t_end = std::f64::consts::PI - t;
        let steps = 4000;
        let dt = (t_end - t) / steps as f64;
        let mut walked = 0.0;
        let pos = |t: f64| [start[0], sign * bb * t.cos(), cc * t.sin()];
        let mut prev = pos(t);
        for _ in 0..steps {
            let next = pos(t + dt);
            let seg = dist3(prev, next);
            if walked + seg >= arc_mm {
                let frac = (arc_mm - walked) / seg.max(1e-12);
                return pos(t + frac * dt);
            }
            walked += seg;
            prev = next;
            t += dt;
        }
        prev
    }

    /// Distance between two surface points measured along the skin, mm: the chord between them
    /// projected onto the surface (a flexible ruler laid over the head), summed in 64 steps.
    /// Within a fraction of a percent of the geodesic for the spans clinical rules measure.
    pub fn surface_distance_mm(&self, p: [f64; 3], q: [f64; 3]) -> f64 {
        let steps = 64;
        let project = |t: f64| {
            let v = [
                p[0] + (q[0] - p[0]) * t,
                p[1] + (q[1] - p[1]) * t,
                p[2] + (q[2] - p[2]) * t,
            ];
            let k = ((v[0] / self.a_mm).powi(2) + (v[1] / self.b_mm).powi(2) + (v[2] / self.c_mm).powi(2))
                .sqrt()
                .max(1e-9);
            [v[0] / k, v[1] / k, v[2] / k]
        };
        let mut prev = project(0.0);
        let mut total = 0.0;
        for i in 1..=steps {
            let next = project(i as f64 / steps as f64);
            total += dist3(prev, next);
            prev = next;
        }
        total
    }

    /// The point on the right side of the face-forward scalp at `from_a_mm` along the skin from
    /// `a` and `from_b_mm` from `b` (the intersection of two circles drawn on the skin, as
    /// Garg's 8-8-8 draws the frontotemporal point from the mid-frontal point and the lateral
    /// canthus). `a` lies on the midline; the answer lies between the midline and the right ear,
    /// at a parametric azimuth of at least `min_azimuth_deg` (where the circles would meet further
    /// back, the point at that azimuth `from_b_mm` from `b`).
    pub fn point_at_distances(
        &self,
        a: [f64; 3],
        from_a_mm: f64,
        b: [f64; 3],
        from_b_mm: f64,
        min_azimuth_deg: f64,
    ) -> [f64; 3] {
        // For an azimuth φ, the height whose distance from b is from_b (distance grows with height
        // above b); then the azimuth whose point lies from_a from a (distance grows away from the
        // midline).
        let at_phi = |phi: f64| {
            let z = root_of_increasing(b[2], 0.99 * self.c_mm, |z| {
                self.surface_distance_mm(b, self.point_at_azimuth(phi, z)) - from_b_mm
            });
            self.point_at_azimuth(phi, z)
        };
        // The azimuth by bisection: towards the midline the height above can stop at `b`'s own
        // (no point of that meridian is far enough from `b`), and the distance from `a` turns
        // back up, so the ends need not bracket the crossing as false position needs.
        let (mut lo, mut hi) = (min_azimuth_deg.clamp(0.0, 89.0), 90.0);
        for _ in 0..40 {
            let mid = 0.5 * (lo + hi);
            if self.surface_distance_mm(a, at_phi(mid)) > from_a_mm {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        at_phi(0.5 * (lo + hi))
    }

    /// The head's landmarks. The crown whorl sits `whorl_behind_ears_mm` behind the line
    /// between the ear canals (DOMAIN §4: about 60 mm), on the midline.
    pub fn landmarks(&self, whorl_behind_ears_mm: f64) -> Landmarks {
        let p = &self.proportions;
        let canthus_x = self.canthus_half_width_mm();
        let canthus_z = -p.canthus_below_glabella_mm;
        let ear_y = self.ear_canal_y_mm();
        let ear_z = -p
            .ear_canal_below_glabella_mm
            .min(p.ear_canal_below_share * self.c_mm);
        let ear = |x: f64| {
            let rest = (1.0 - (ear_y / self.b_mm).powi(2) - (ear_z / self.c_mm).powi(2)).max(0.0);
            [x * self.a_mm * rest.sqrt(), ear_y, ear_z]
        };
        let whorl_y = (ear_y - whorl_behind_ears_mm).clamp(-WHORL_REACH * self.b_mm, WHORL_REACH * self.b_mm);
        let whorl_z = self.c_mm * (1.0 - (whorl_y / self.b_mm).powi(2)).max(0.0).sqrt();
        Landmarks {
            glabella: self.point_from_surface(self.point_at(0.0, 0.0, true)),
            lateral_canthus_right: self.point_from_surface(self.point_at(canthus_x, canthus_z, true)),
            lateral_canthus_left: self.point_from_surface(self.point_at(-canthus_x, canthus_z, true)),
            vertex: self.point_from_surface([0.0, 0.0, self.c_mm]),
            crown_whorl: self.point_from_surface([0.0, whorl_y, whorl_z]),
            ear_canal_right: self.point_from_surface(ear(1.0)),
            ear_canal_left: self.point_from_surface(ear(-1.0)),
            occipital_fringe: self
                .point_from_surface(self.point_at_azimuth(BACK_AZIMUTH_DEG, self.nape_z_mm())),
        }
    }

    /// Half the distance between the outer eye corners (`pattern.landmarks`: 48 mm for men,
    /// 45 mm for women), scaled with head breadth (biocular width about 0.6 × head breadth).
    pub fn canthus_half_width_mm(&self) -> f64 {
        let p = &self.proportions;
        let base = match self.sex {
            Sex::Male => p.canthus_half_width_male_mm,
            Sex::Female => p.canthus_half_width_female_mm,
        };
        base * (self.a_mm / p.canthus_reference_half_breadth_mm)
            .clamp(p.canthus_scale_min, p.canthus_scale_max)
    }

    /// The ear canals sit slightly behind the middle of the head's length.
    fn ear_canal_y_mm(&self) -> f64 {
        -self.proportions.ear_canal_behind_share * self.b_mm
    }

    /// Height of the nape end of the occipital fringe.
    fn nape_z_mm(&self) -> f64 {
        -self.proportions.nape_below_share * self.c_mm
    }

    /// Where the hairline meets the side of the head: the first point of the scalp's lower
    /// edge, as (parametric azimuth in degrees, height in mm).
    pub fn sideburn(&self) -> (f64, f64) {
        let p = &self.proportions;
        (
            p.lower_edge_azimuth_deg[0],
            p.lower_edge_height_share[0] * self.c_mm,
        )
    }

    /// The lower edge of the scalp (where hair-bearing skin ends) from sideburn to
    /// sideburn around the back, as (parametric azimuth in degrees, height in mm) anchors
    /// for the right side; the left mirrors it. Over the ear the edge rises to the top of
    /// the ear, behind it falls to the nape.
    pub(crate) fn lower_edge_anchors(&self) -> [(f64, f64); 5] {
        let c = self.c_mm;
        let (az, h) = (
            self.proportions.lower_edge_azimuth_deg,
            self.proportions.lower_edge_height_share,
        );
        [
            (az[0], h[0] * c),
            (az[1], h[1] * c),
            (az[2], h[2] * c),
            (az[3], h[3] * c),
            (NAPE_AZIMUTH_DEG, self.nape_z_mm()),
        ]
    }
}

/// A chart point on the skin ([`Head::surface_from_chart_solve`]), with how its `cos θ`
/// changes nearby.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChartSolve {
    /// The 3-D point, mm.
    pub surface: [f64; 3],
    /// Its `cos θ`.
    pub cos_theta: f64,
    /// `∂cos θ/∂x` and `∂cos θ/∂y` across the chart, per mm (zeros where not known: the
    /// vertex, the chart's edge).
    pub gradient: [f64; 2],
}

impl ChartSolve {
    /// A start for the solve of chart point `q` near `at`, the point this solve is of: its
    /// `cos θ` moved along the gradient, within [-1, 1].
    pub fn start_at(&self, at: [f64; 2], q: [f64; 2]) -> f64 {
        let moved = self.gradient[0] * (q[0] - at[0]) + self.gradient[1] * (q[1] - at[1]);
        (self.cos_theta + moved).clamp(-1.0, 1.0)
    }
}

/// A Halley step of `cos θ` smaller than this ends the chart's inverse: what is left is of the
/// order of the step cubed (1e-12), far below a nanometre on the skin (tested against Newton's
/// iteration run until it stops moving: `the_inverse_settles`).
const HALLEY_SETTLED: f64 = 1e-4;

/// Parametric azimuth of the back of the head on the midline, degrees (0° = right ear side,
/// 90° = front).
const BACK_AZIMUTH_DEG: f64 = 270.0;

/// The same azimuth counted the other way round, as the lower edge's anchors run.
const NAPE_AZIMUTH_DEG: f64 = -90.0;

/// The crown whorl stays within this share of the half-length from the middle of the head
/// (a guard for a whorl distance larger than the head).
const WHORL_REACH: f64 = 0.95;

/// The area element `√(A + k u²)` at one azimuth, with the terms of its antiderivative that
/// do not depend on `u` computed once: each is the same expression as it was inline, so every
/// value is the same to the bit.
#[derive(Debug, Clone, Copy)]
struct AreaElement {
    big_a: f64,
    k: f64,
    form: Form,
}

/// Which closed form the antiderivative takes, with its `u`-free factors `s` and `c`
/// (`c · asinh(u·s)` or `c · asin(u·s)`).
#[derive(Debug, Clone, Copy)]
enum Form {
    Flat { sqrt_a: f64 },
    Asinh { s: f64, c: f64 },
    Asin { s: f64, c: f64 },
}

impl AreaElement {
    fn new(big_a: f64, k: f64) -> Self {
        let form = if k.abs() < 1e-12 * big_a {
            Form::Flat { sqrt_a: big_a.sqrt() }
        } else if k > 0.0 {
            Form::Asinh {
                s: (k / big_a).sqrt(),
                c: big_a / (2.0 * k.sqrt()),
            }
        } else {
            Form::Asin {
                s: (-k / big_a).sqrt(),
                c: big_a / (2.0 * (-k).sqrt()),
            }
        };
        AreaElement { big_a, k, form }
    }

    /// The antiderivative of `√(A + k u²)` at `u` ([`AreaElement::antiderivative`]) and the
    /// element `√(A + k u²)` there.
    #[inline]
    fn antiderivative_and_root(&self, u: f64) -> (f64, f64) {
        let root = (self.big_a + self.k * u * u).max(0.0).sqrt();
        let value = match self.form {
            Form::Flat { sqrt_a } => u * sqrt_a,
            Form::Asinh { s, c } => 0.5 * u * root + c * (u * s).asinh(),
            Form::Asin { s, c } => 0.5 * u * root + c * (u * s).clamp(-1.0, 1.0).asin(),
        };
        (value, root)
    }

    /// Antiderivative of `√(A + k u²)` in `u`.
    #[inline]
    fn antiderivative(&self, u: f64) -> f64 {
        self.antiderivative_and_root(u).0
    }
}

/// Where the increasing function `g` crosses 0 in `[lo, hi]`, to 1e-10 of `g`'s unit (these are
/// distances along the skin in mm, whose slope is of the order of one mm per mm or degree), by
/// the Illinois variant of false position: the bracket of bisection with superlinear
/// convergence, six to ten evaluations where bisection took forty. Without a crossing, the
/// end nearer to one: `lo` when `g(lo) ≥ 0`, `hi` when `g(hi) < 0`.
fn root_of_increasing(mut lo: f64, mut hi: f64, g: impl Fn(f64) -> f64) -> f64 {
    let (mut g_lo, mut g_hi) = (g(lo), g(hi));
    if g_lo >= 0.0 || g_lo.is_nan() {
        return lo;
    }
    if g_hi < 0.0 || g_hi.is_nan() {
        return hi;
    }
    // Which end the last step moved (−1: `lo`, 1: `hi`); an end kept twice has its value halved.
    let mut moved = 0;
    for _ in 0..ROOT_STEPS {
        let mut x = (lo * g_hi - hi * g_lo) / (g_hi - g_lo);
        if !(x > lo && x < hi) {
            x = 0.5 * (lo + hi);
        }
        let gx = g(x);
        if gx.abs() < ROOT_TOLERANCE || hi - lo < ROOT_TOLERANCE {
            return x;
        }
        if gx < 0.0 {
            (lo, g_lo) = (x, gx);
            if moved == -1 {
                g_hi *= 0.5;
            }
            moved = -1;
        } else {
            (hi, g_hi) = (x, gx);
            if moved == 1 {
                g_lo *= 0.5;
            }
            moved = 1;
        }
    }
    0.5 * (lo + hi)
}

/// [`root_of_increasing`] stops within this of its root's value (mm of skin).
const ROOT_TOLERANCE: f64 = 1e-10;

/// [`root_of_increasing`] gives up after this many evaluations (bisection's forty, plus room).
const ROOT_STEPS: usize = 60;

/// Euclidean distance in 3-D.
pub fn dist3(p: [f64; 3], q: [f64; 3]) -> f64 {
    ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2) + (p[2] - q[2]).powi(2)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_round_trips_through_the_surface() {
        let head = Head::from_spec(&HeadSpec::default()).unwrap();
        for &(x, y) in &[
            (0.0, 0.0),
            (30.0, 40.0),
            (-80.0, 10.0),
            (5.0, -120.0),
            (100.0, 90.0),
        ] {
            let s = head.surface_from_chart([x, y]);
            let q = head.chart_from_surface(s);
            assert!(
                (q[0] - x).abs() < 1e-6 && (q[1] - y).abs() < 1e-6,
                "{x},{y} -> {q:?}"
            );
            let e = (s[0] / head.a_mm).powi(2) + (s[1] / head.b_mm).powi(2) + (s[2] / head.c_mm).powi(2);
            assert!((e - 1.0).abs() < 1e-9);
        }
    }

    /// The radial scale factor is the derivative of the chart's inverse along the radius: a
    /// central difference of 1 µm agrees to 1e-6, on a round and an oblong head, from the
    /// vertex to below the ears; on a sphere it is Lambert's `1 / cos(θ/2)`.
    #[test]
    fn radial_scale_is_the_derivative_along_the_radius() {
        let sphere = Head::ellipsoid(90.0, 90.0, 90.0).unwrap();
        let oblong = Head::from_spec(&HeadSpec::default()).unwrap();
        let mut checked = 0;
        for head in [&sphere, &oblong] {
            for i in 0..24 {
                let phi = f64::from(i) * std::f64::consts::TAU / 24.0;
                for r in [0.5, 20.0, 60.0, 110.0, 150.0] {
                    let q = [r * phi.cos(), r * phi.sin()];
                    let (_, u) = head.surface_from_chart_near(q, None);
                    let h = 0.0005;
                    let out = head.surface_from_chart([q[0] * (1.0 + h / r), q[1] * (1.0 + h / r)]);
                    let inn = head.surface_from_chart([q[0] * (1.0 - h / r), q[1] * (1.0 - h / r)]);
                    let difference = dist3(out, inn) / (2.0 * h);
                    let scale = head.radial_scale(q, u);
                    assert!(
                        (scale - difference).abs() < 1e-6,
                        "{q:?}: {scale} against {difference}"
                    );
                    if std::ptr::eq(head, &sphere) {
                        let lambert = 1.0 / (0.5 * u.acos()).cos();
                        assert!((scale - lambert).abs() < 1e-9, "{q:?}: {scale} against {lambert}");
                    }
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 2 * 24 * 5);
    }

    /// False position finds the roots bisection finds, and the ends where there is none.
    #[test]
    fn roots_of_increasing_functions() {
        type Case = (fn(f64) -> f64, f64, f64, f64);
        let cases: [Case; 4] = [
            (|x| x * x * x - 2.0, 0.0, 3.0, 2f64.cbrt()),
            (|x| x.exp() - 10.0, -5.0, 5.0, 10f64.ln()),
            (|x| (x / 40.0).tanh() - 0.5, -100.0, 100.0, 40.0 * 0.5f64.atanh()),
            (|x| x.sqrt() - 3.0, 0.0, 1000.0, 9.0),
        ];
        for (g, lo, hi, root) in cases {
            let x = root_of_increasing(lo, hi, g);
            assert!((x - root).abs() < 1e-9, "{x} against {root}");
        }
        assert_eq!(root_of_increasing(2.0, 5.0, |x| x - 1.0), 2.0);
        assert_eq!(root_of_increasing(2.0, 5.0, |x| x - 7.0), 5.0);
    }

    /// The point two circles on the skin meet at lies at both distances, to a micrometre: for
    /// the rules' own distances, and for a low hairline, where the meridians near the midline
    /// hold no point far enough from the canthus and the distance from the mid-frontal point
    /// turns back up there (false position on the azimuth stopped at the midline).
    #[test]
    fn the_point_at_two_distances_is_at_both() {
        let head = Head::from_spec(&HeadSpec::default()).unwrap();
        let canthus = head.landmarks(60.0).lateral_canthus_right.surface_mm;
        let (sideburn, _) = head.sideburn();
        for (height, above_canthus, from_mid) in [(80.0, 80.0, 80.0), (60.0, 50.0, 60.0), (65.0, 55.0, 70.0)]
        {
            let a = head.walk_up(head.point_at(0.0, 0.0, true), height);
            let p = head.point_at_distances(a, from_mid, canthus, above_canthus, sideburn + 6.0);
            assert!(
                (head.surface_distance_mm(a, p) - from_mid).abs() < 1e-6,
                "{height}"
            );
            assert!(
                (head.surface_distance_mm(canthus, p) - above_canthus).abs() < 1e-6,
                "{height}"
            );
        }
    }

    /// The inverse without trigonometry gives the points the angles give, to a nanometre.
    #[test]
    fn the_inverse_matches_the_angles() {
        let head = Head::from_spec(&HeadSpec::default()).unwrap();
        for i in 0..36 {
            let phi = f64::from(i) * 0.17;
            for theta in [0.01, 0.4, 0.9, 1.3, 1.7, 2.2] {
                let q = head.chart_from_angles(theta, phi);
                let s = head.surface_from_chart(q);
                let expected = head.surface_from_angles(theta, phi);
                assert!(
                    dist3(s, expected) < 1e-6,
                    "θ {theta}, φ {phi}: {s:?} against {expected:?}"
                );
                let hinted = head.surface_from_chart_near(q, Some(theta.cos() + 0.01)).0;
                assert!(dist3(hinted, expected) < 1e-6);
            }
        }
    }

    /// Semi-axes (a, b, c) of the heads the inverse's tests run on: a sphere (`k = 0`, the
    /// flat form), two heads taller than they are wide (the `asin` form) and a low one (`asinh`).
    const HEAD_SHAPES: [(f64, f64, f64); 4] = [
        (90.0, 90.0, 90.0),
        (75.0, 98.0, 100.0),
        (80.0, 100.0, 60.0),
        (60.0, 70.0, 140.0),
    ];

    /// The inverse ends where Newton's iteration run until it stops moving ends, to 1e-8 in
    /// `cos θ` (a nanometre on a 100 mm head): on round, oblong, flat and tall heads, from the
    /// vertex to the chart's edge, from the sphere's start and from starts 0.01 and 0.001 off.
    /// What is left comes from the residual rule (`|f| < 1e-9 · target`), which Newton's
    /// iteration with its 1e-8 step rule shared: its worst here was 3.6e-9, Halley's is 3.5e-9.
    #[test]
    fn the_inverse_settles() {
        let mut checked = 0;
        let mut worst = 0.0f64;
        for (a, b, c) in HEAD_SHAPES {
            let head = Head::ellipsoid(a, b, c).unwrap();
            for i in 0..48 {
                let phi = f64::from(i) * std::f64::consts::TAU / 48.0 + 0.05;
                for theta in [0.002, 0.05, 0.3, 0.8, 1.2, 1.6, 2.0, 2.6, 3.1] {
                    let q = head.chart_from_angles(theta, phi);
                    let (big_a, k) = head.coefficients_along(phi.cos(), phi.sin());
                    let element = AreaElement::new(big_a, k);
                    let target = 0.5 * (q[0] * q[0] + q[1] * q[1]);
                    let g1 = element.antiderivative(1.0);
                    // The reference: Newton's steps until one no longer moves `u`.
                    let mut u = theta.cos();
                    for _ in 0..100 {
                        let (g, root) = element.antiderivative_and_root(u);
                        let next = (u + (g1 - g - target) / root).clamp(-1.0, 1.0);
                        if next == u {
                            break;
                        }
                        u = next;
                    }
                    for hint in [None, Some(u + 0.01), Some(u - 0.001)] {
                        let (_, got) = head.surface_from_chart_near(q, hint.map(|h: f64| h.clamp(-1.0, 1.0)));
                        worst = worst.max((got - u).abs());
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 4 * 48 * 9 * 3);
        assert!(worst < 1e-8, "worst {worst:e}");
    }

    /// The gradient of `cos θ` that `surface_from_chart_solve` gives agrees with central
    /// differences of the solve (±1e-3 mm) within 0.1 % (it is taken at the last `cos θ`
    /// evaluated, a Halley step before the answer) on four head shapes (a sphere, where `k = 0`, an
    /// oblate and two prolate ones), all round the chart, from the vertex to below the ears;
    /// and a start taken from it 0.7 mm away is within 1e-4 of that point's `cos θ`, so the
    /// point's solve ends after one evaluation.
    #[test]
    fn the_gradient_of_the_inverse_matches_differences() {
        let mut checked = 0;
        for (a, b, c) in HEAD_SHAPES {
            let head = Head::ellipsoid(a, b, c).unwrap();
            let cos_at = |q: [f64; 2]| head.surface_from_chart_near(q, None).1;
            for i in 0..48 {
                let phi = f64::from(i) * std::f64::consts::TAU / 48.0 + 0.05;
                for theta in [0.05, 0.3, 0.8, 1.2, 1.6, 2.0] {
                    let q = head.chart_from_angles(theta, phi);
                    let solve = head.surface_from_chart_solve(q, None, true);
                    assert_eq!(solve.cos_theta, cos_at(q), "the same solve");
                    let h = 1e-3;
                    let dx = (cos_at([q[0] + h, q[1]]) - cos_at([q[0] - h, q[1]])) / (2.0 * h);
                    let dy = (cos_at([q[0], q[1] + h]) - cos_at([q[0], q[1] - h])) / (2.0 * h);
                    let size = dx.hypot(dy);
                    let error = (solve.gradient[0] - dx).hypot(solve.gradient[1] - dy);
                    assert!(
                        error <= 1e-3 * size + 1e-9,
                        "{a}×{b}×{c}, θ {theta}, φ {phi:.3}: {:?} against ({dx:e}, {dy:e})",
                        solve.gradient
                    );
                    for turn in [0.0, 2.0, 4.0] {
                        let near = [q[0] + 0.7 * f64::cos(turn), q[1] + 0.7 * f64::sin(turn)];
                        let start = solve.start_at(q, near);
                        assert!(
                            (start - cos_at(near)).abs() < 1e-4,
                            "{a}×{b}×{c}, θ {theta}, φ {phi:.3}"
                        );
                    }
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 4 * 48 * 6);
    }

    /// `surface_from_chart_near` takes `G(−1)` as `−G(1)`: true to the bit on every form.
    #[test]
    fn the_antiderivative_is_odd() {
        let mut checked = 0;
        for a in [30.0, 55.5, 78.3, 90.0, 120.0, 200.0] {
            for b in [30.0, 61.2, 90.0, 97.7, 200.0] {
                for c in [30.0, 70.0, 100.0, 200.0] {
                    let head = Head::ellipsoid(a, b, c).unwrap();
                    for i in 0..360 {
                        let (big_a, k) = head.coefficients(f64::from(i) * 0.0174533);
                        let e = AreaElement::new(big_a, k);
                        assert_eq!(
                            e.antiderivative(-1.0).to_bits(),
                            (-e.antiderivative(1.0)).to_bits()
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 6 * 5 * 4 * 360);
    }

    #[test]
    fn default_breadth_matches_circumference() {
        let head = Head::from_spec(&HeadSpec::default()).unwrap();
        assert!((ellipse_perimeter(head.a_mm, head.b_mm) - 570.0).abs() < 0.01);
        assert!(head.a_mm > 75.0 && head.a_mm < 90.0, "{}", head.a_mm);
    }

    #[test]
    fn sphere_chart_is_lambert() {
        let head = Head::ellipsoid(90.0, 90.0, 90.0).unwrap();
        let q = head.chart_from_angles(1.0, 0.3);
        let r = q[0].hypot(q[1]);
        assert!((r - 2.0 * 90.0 * 0.5_f64.sin()).abs() < 1e-9);
    }

    #[test]
    fn walking_up_measures_along_the_skin() {
        let head = Head::ellipsoid(90.0, 90.0, 90.0).unwrap();
        let p = head.walk_up([0.0, 90.0, 0.0], 90.0 * std::f64::consts::FRAC_PI_4);
        assert!(
            (p[1] - 90.0 * std::f64::consts::FRAC_PI_4.cos()).abs() < 0.05,
            "{p:?}"
        );
    }
}
