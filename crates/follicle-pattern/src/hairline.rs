//! The front hairline: designed from clinical rules or drawn from control points, then
//! given its style and gentle seeded waves.
//!
//! The line is kept in polar form around the vertex, `r(ψ)` on the chart for azimuths
//! from the right sideburn (small ψ) over the forehead (ψ = 90°) to the left sideburn,
//! which makes "how far behind the line is this point" a table lookup.

use rand_core::RngCore;
use serde::{Deserialize, Serialize};

use crate::error::{PatternError, check_range};
use crate::geometry::{Head, Sex, SurfacePoint, dist3};
use crate::sampler;
use crate::settings::{HairlineStyleSettings, PatternSettings};

/// Where the mid-frontal point goes (DOMAIN §4: 7–10 cm above the glabella; the heights are
/// `pattern.mid_frontal_height_mm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HairlinePosition {
    /// 7 cm: low, youthful.
    Aggressive,
    /// 8 cm.
    #[default]
    Typical,
    /// 10 cm: high, safe for progressing loss.
    Conservative,
    /// Garg's 8-8-8: mid-frontal point 8 cm up, frontotemporal points 8 cm above the
    /// lateral canthus.
    Garg888,
}

impl HairlinePosition {
    /// Mid-frontal height above the glabella, mm (`pattern.mid_frontal_height_mm`).
    pub fn mid_frontal_height_mm(self, settings: &PatternSettings) -> f64 {
        let h = &settings.mid_frontal_height_mm;
        match self {
            HairlinePosition::Aggressive => h.aggressive,
            HairlinePosition::Typical => h.typical,
            HairlinePosition::Conservative => h.conservative,
            HairlinePosition::Garg888 => h.garg_888,
        }
    }
}

/// How the front edge looks (DOMAIN §4: soft/feathered, broken, sharp "edge-up").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = PatternHairlineStyle))]
#[serde(rename_all = "snake_case")]
pub enum HairlineStyle {
    /// Feathered transition with a few stray dots.
    #[default]
    Soft,
    /// Deeper waves, sparser front.
    Broken,
    /// A crisp edge.
    Sharp,
}

/// The shape of the line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HairlineShape {
    /// From the clinical rules.
    Rules {
        /// Mid-frontal height preset.
        #[serde(default)]
        position: HairlinePosition,
        /// A mature line: higher by `pattern.mature_raise_mm`, receded at the temples.
        #[serde(default)]
        mature: bool,
        /// Overrides the preset's mid-frontal height above the glabella, mm (50–130).
        #[serde(default)]
        mid_frontal_height_mm: Option<f64>,
        /// Height of the frontotemporal points above the lateral canthus, mm (40–130);
        /// default: the mid-frontal height (Garg's rule).
        #[serde(default)]
        frontotemporal_height_mm: Option<f64>,
    },
    /// Explicit chart points (mm) from one sideburn over the forehead to the other.
    ControlPoints {
        /// At least 3 points, going around the vertex in one direction.
        points: Vec<[f64; 2]>,
    },
}

impl Default for HairlineShape {
    fn default() -> Self {
        HairlineShape::Rules {
            position: HairlinePosition::Typical,
            mature: false,
            mid_frontal_height_mm: None,
            frontotemporal_height_mm: None,
        }
    }
}

/// A hairline design.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct HairlineSpec {
    /// Rules or control points.
    pub shape: HairlineShape,
    /// Soft, broken or sharp.
    pub style: HairlineStyle,
    /// Seed of the waves; the request's seed when absent, so a practitioner can keep the
    /// line and re-roll the dots or the other way round.
    pub seed: Option<u64>,
}

/// A line drawn by the rules: its anchors (ψ degrees, r mm) from one sideburn to the other,
/// and its landmarks.
struct RulesAnchors {
    xs: Vec<f64>,
    ys: Vec<f64>,
    mid_frontal: SurfacePoint,
    frontotemporal: [SurfacePoint; 2],
    temporal_peaks: [SurfacePoint; 2],
}

impl RulesAnchors {
    /// Mean anchor radius, mm: the waves' arc-length scale.
    fn mean_radius_mm(&self) -> f64 {
        self.ys.iter().sum::<f64>() / self.ys.len() as f64
    }
}

/// Polar samples of a line around the vertex.
const STEP_DEG: f64 = 0.5;

/// The designed hairline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hairline {
    /// The line on the chart (mm), right sideburn to left sideburn.
    pub points: Vec<[f64; 2]>,
    /// The anchor points the line was drawn through (chart mm), same order.
    pub anchors: Vec<[f64; 2]>,
    /// Mid-frontal point (rules only).
    pub mid_frontal: Option<SurfacePoint>,
    /// Right and left frontotemporal points (rules only).
    pub frontotemporal: Option<[SurfacePoint; 2]>,
    /// Right and left temporal peaks (rules only).
    pub temporal_peaks: Option<[SurfacePoint; 2]>,
    /// The style.
    pub style: HairlineStyle,
    /// The style's settings in force.
    pub style_settings: HairlineStyleSettings,
    /// First sample's azimuth, degrees.
    psi0_deg: f64,
    /// r(ψ) samples every [`STEP_DEG`].
    radius_mm: Vec<f64>,
    /// Chart mm per surface mm, radially, at each sample.
    radial_scale: Vec<f64>,
}

/// Monotone cubic (Fritsch–Carlson) interpolation through `(x, y)` with increasing x.
pub(crate) fn pchip(xs: &[f64], ys: &[f64], x: f64) -> f64 {
    let n = xs.len();
    if n == 0 {
        return 0.0;
    }
    if n == 1 || x <= xs[0] {
        return ys[0];
    }
    if x >= xs[n - 1] {
        return ys[n - 1];
    }
    let k = xs.partition_point(|&v| v <= x).clamp(1, n - 1) - 1;
    let slope = |i: usize| (ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i]);
    let tangent = |i: usize| -> f64 {
        if i == 0 {
            return slope(0);
        }
        if i == n - 1 {
            return slope(n - 2);
        }
        let (a, b) = (slope(i - 1), slope(i));
        if a * b <= 0.0 {
            0.0
        } else {
            2.0 / (1.0 / a + 1.0 / b)
        }
    };
    let h = xs[k + 1] - xs[k];
    let t = (x - xs[k]) / h;
    let (t2, t3) = (t * t, t * t * t);
    (2.0 * t3 - 3.0 * t2 + 1.0) * ys[k]
        + (t3 - 2.0 * t2 + t) * h * tangent(k)
        + (-2.0 * t3 + 3.0 * t2) * ys[k + 1]
        + (t3 - t2) * h * tangent(k + 1)
}

/// Polar (ψ degrees, r mm) of a chart point.
pub(crate) fn polar(q: [f64; 2]) -> (f64, f64) {
    let mut psi = q[1].atan2(q[0]).to_degrees();
    if psi < -90.0 {
        psi += 360.0;
    }
    (psi, q[0].hypot(q[1]))
}

/// Chart point of polar (ψ degrees, r mm).
pub(crate) fn from_polar(psi_deg: f64, r: f64) -> [f64; 2] {
    let p = psi_deg.to_radians();
    [r * p.cos(), r * p.sin()]
}

/// The mean anchor radius of `head`'s typical rules line (what a drawn line's waves run at), or
/// `None` where the rules cannot draw one.
///
/// Remembered for the last head and settings asked (exact equality, so a hit is the same answer
/// by construction): a designer's drag draws the same head's line on every edit, twice (the
/// design and its bald head), and the rules line costs more than the drawn one.
fn typical_wave_radius(head: &Head, settings: &PatternSettings) -> Option<f64> {
    type Memo = Option<(Head, PatternSettings, Option<f64>)>;
    static LAST: std::sync::Mutex<Memo> = std::sync::Mutex::new(None);
    // A poisoned memo only held a finished answer or nothing. The lock is not held while the
    // line is drawn: other heads' requests do not wait for it.
    let lock = || LAST.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((h, s, r)) = lock().as_ref()
        && h == head
        && s == settings
    {
        return *r;
    }
    let radius = Hairline::rules_anchors(head, HairlinePosition::Typical, false, None, None, settings)
        .ok()
        .map(|a| a.mean_radius_mm());
    *lock() = Some((head.clone(), settings.clone(), radius));
    radius
}

impl Hairline {
    /// Designs the line for `head`.
    pub fn design(
        head: &Head,
        spec: &HairlineSpec,
        settings: &PatternSettings,
        seed: u64,
    ) -> Result<Hairline, PatternError> {
        let style_settings = match spec.style {
            HairlineStyle::Soft => settings.soft.clone(),
            HairlineStyle::Broken => settings.broken.clone(),
            HairlineStyle::Sharp => settings.sharp.clone(),
        };
        let anchors = match &spec.shape {
            HairlineShape::Rules {
                position,
                mature,
                mid_frontal_height_mm,
                frontotemporal_height_mm,
            } => Self::rules_anchors(
                head,
                *position,
                *mature,
                *mid_frontal_height_mm,
                *frontotemporal_height_mm,
                settings,
            )?,
            HairlineShape::ControlPoints { points } => {
                // The waves run along the azimuth at the radius of the head's typical line
                // (the rules line's mean anchor radius), not at the drawn line's own mean: so a
                // drag of one point changes the line near that point only, instead of shifting
                // the waves all along it. A head the rules cannot draw a line on keeps the
                // drawn points' mean.
                let wave_radius = typical_wave_radius(head, settings);
                return Self::from_control_points(
                    head,
                    points,
                    spec.style,
                    style_settings,
                    seed,
                    wave_radius,
                );
            }
        };
        let RulesAnchors {
            xs,
            ys,
            mid_frontal,
            frontotemporal,
            temporal_peaks,
        } = anchors;
        let wave_radius = ys.iter().sum::<f64>() / ys.len() as f64;
        let mut line =
            Self::from_polar_anchors(head, &xs, &ys, spec.style, style_settings, seed, wave_radius);
        line.mid_frontal = Some(mid_frontal);
        line.frontotemporal = Some(frontotemporal);
        line.temporal_peaks = Some(temporal_peaks);
        Ok(line)
    }

    /// The anchors of a line drawn by the clinical rules, both sides, with its landmarks.
    fn rules_anchors(
        head: &Head,
        position: HairlinePosition,
        mature: bool,
        mid_frontal_height_mm: Option<f64>,
        frontotemporal_height_mm: Option<f64>,
        settings: &PatternSettings,
    ) -> Result<RulesAnchors, PatternError> {
        let c = head.c_mm;
        let (sideburn_deg, sideburn_z) = head.sideburn();
        let sideburn = head.point_at_azimuth(sideburn_deg, sideburn_z);
        let (sb_psi, _) = polar(head.chart_from_surface(sideburn));
        let female = head.sex == Sex::Female;
        let mut mfp_h = match mid_frontal_height_mm {
            Some(h) => check_range(
                "hairline.shape.mid_frontal_height_mm",
                h,
                50.0,
                130.0,
                "50–130 mm",
            )?,
            // A woman's forehead height, moved by the preset as a man's would be.
            None if female => {
                settings.female_mid_frontal_height_mm + position.mid_frontal_height_mm(settings)
                    - HairlinePosition::Typical.mid_frontal_height_mm(settings)
            }
            None => position.mid_frontal_height_mm(settings),
        };
        let mut ft_h = match frontotemporal_height_mm {
            Some(h) => check_range(
                "hairline.shape.frontotemporal_height_mm",
                h,
                40.0,
                130.0,
                "40–130 mm",
            )?,
            None => mfp_h,
        };
        let recession = if female {
            settings.temple_recession_female_mm
        } else if mature {
            settings.temple_recession_mature_mm
        } else {
            settings.temple_recession_juvenile_mm
        };
        // The maturity raise is a men's rule (DOMAIN §9: it does not apply to women).
        if mature && !female {
            mfp_h += settings.mature_raise_mm;
            ft_h += settings.mature_raise_mm;
        }
        let lm = head.landmarks(settings.whorl_behind_ears_mm);
        let mfp = head.walk_up(lm.glabella.surface_mm, mfp_h);
        // Garg's 8-8-8: the frontotemporal point lies `frontotemporal_from_mid_frontal_mm`
        // from the mid-frontal point and the frontotemporal height above the lateral
        // canthus, both along the skin.
        // On a small or high-raised head the two distances can only meet above the ear:
        // the point then stays `frontotemporal_sideburn_gap_deg` in front of the sideburn,
        // as near both distances as the head allows.
        let ft = head.point_at_distances(
            mfp,
            settings.frontotemporal_from_mid_frontal_mm,
            lm.lateral_canthus_right.surface_mm,
            ft_h,
            sideburn_deg + settings.frontotemporal_sideburn_gap_deg,
        );
        // The temporal peak sits below the frontotemporal point, halfway back to the sideburn.
        let (_, ft_phi) = head.angles_from_surface(ft);
        let tp_phi = 0.5 * (sideburn_deg + ft_phi.to_degrees());
        let tp = head.point_at_azimuth(tp_phi, settings.temporal_peak_height_share * c);
        let ft_l = [-ft[0], ft[1], ft[2]];
        let tp_l = [-tp[0], tp[1], tp[2]];
        let (ft_psi, ft_r) = polar(head.chart_from_surface(ft));
        let (tp_psi, tp_r) = polar(head.chart_from_surface(tp));
        let (_, mfp_r) = polar(head.chart_from_surface(mfp));
        let (_, sb_r) = polar(head.chart_from_surface(sideburn));
        if !(sb_psi < tp_psi && tp_psi < ft_psi && ft_psi < 90.0) {
            return Err(PatternError::Inconsistent {
                field: "hairline.shape".into(),
                problem: "the rules put the frontotemporal point behind the temporal peak on this head; \
                          use control points or a lower frontotemporal height"
                    .into(),
            });
        }
        // The temple angle recedes between the corner and the peak.
        let at = settings.recession_position_share;
        let rec_psi = tp_psi + at * (ft_psi - tp_psi);
        let rec_r = tp_r + at * (ft_r - tp_r) - recession;
        let mid_r = 0.5 * (ft_r + mfp_r) + settings.forehead_rounding_share * (mfp_r - ft_r).abs();
        let anchors = [
            (sb_psi, sb_r),
            (tp_psi, tp_r),
            (rec_psi, rec_r),
            (ft_psi, ft_r),
            (0.5 * (ft_psi + 90.0), mid_r),
            (90.0, mfp_r),
        ];
        let mut xs: Vec<f64> = anchors.iter().map(|a| a.0).collect();
        let mut ys: Vec<f64> = anchors.iter().map(|a| a.1).collect();
        for a in anchors.iter().rev().skip(1) {
            xs.push(180.0 - a.0);
            ys.push(a.1);
        }
        Ok(RulesAnchors {
            xs,
            ys,
            mid_frontal: head.point_from_surface(mfp),
            frontotemporal: [head.point_from_surface(ft), head.point_from_surface(ft_l)],
            temporal_peaks: [head.point_from_surface(tp), head.point_from_surface(tp_l)],
        })
    }

    fn from_control_points(
        head: &Head,
        points: &[[f64; 2]],
        style: HairlineStyle,
        style_settings: HairlineStyleSettings,
        seed: u64,
        wave_radius_mm: Option<f64>,
    ) -> Result<Hairline, PatternError> {
        if points.len() < 3 || points.len() > 200 {
            return Err(PatternError::shape(
                "hairline.shape.points",
                format!("expected 3–200 control points, got {}", points.len()),
            ));
        }
        let mut polar_pts = Vec::with_capacity(points.len());
        for (i, p) in points.iter().enumerate() {
            if !p[0].is_finite() || !p[1].is_finite() {
                return Err(PatternError::shape(
                    format!("hairline.shape.points[{i}]"),
                    "expected finite coordinates",
                ));
            }
            let (psi, r) = polar(*p);
            // The edge of the scalp at this azimuth: the head's level 0.3·c below the glabella.
            let limit = polar(head.chart_from_angles((-0.3_f64).acos(), psi.to_radians())).1;
            if !(r >= 15.0 && r <= limit && (-10.0..=190.0).contains(&psi)) {
                return Err(PatternError::shape(
                    format!("hairline.shape.points[{i}]"),
                    format!(
                        "expected a point on the front of the scalp (15–{limit:.0} mm from the vertex, in front of the ears), got ({:.1}, {:.1}): the hairline is outside the scalp",
                        p[0], p[1]
                    ),
                ));
            }
            polar_pts.push((psi, r));
        }
        if polar_pts[0].0 > polar_pts[polar_pts.len() - 1].0 {
            polar_pts.reverse();
        }
        if polar_pts.windows(2).any(|w| w[1].0 <= w[0].0) {
            return Err(PatternError::shape(
                "hairline.shape.points",
                "expected points that go around the vertex in one direction (from one side to the other), got a line that doubles back",
            ));
        }
        // Over the forehead from one side to the other: the temple and frontal zones are
        // split between the line's start and the midline, each at least `BAND_MIN_DEG` wide
        // (a line that stopped short of the midline panicked there; found by scripts/fuzz).
        let reach = 2.0 * crate::zones::BAND_MIN_DEG;
        let (from, to) = (
            crate::zones::FRONT_AZIMUTH_DEG - reach,
            crate::zones::FRONT_AZIMUTH_DEG + reach,
        );
        let (first, last) = (polar_pts[0].0, polar_pts[polar_pts.len() - 1].0);
        if first > from || last < to {
            return Err(PatternError::shape(
                "hairline.shape.points",
                format!(
                    "expected a line over the forehead from one side to the other (from below {from:.0}° to above {to:.0}° round the vertex, the midline at {:.0}°), got {first:.0}°–{last:.0}°",
                    crate::zones::FRONT_AZIMUTH_DEG
                ),
            ));
        }
        let xs: Vec<f64> = polar_pts.iter().map(|p| p.0).collect();
        let ys: Vec<f64> = polar_pts.iter().map(|p| p.1).collect();
        let wave_radius = wave_radius_mm.unwrap_or_else(|| ys.iter().sum::<f64>() / ys.len() as f64);
        Ok(Self::from_polar_anchors(
            head,
            &xs,
            &ys,
            style,
            style_settings,
            seed,
            wave_radius,
        ))
    }

    fn from_polar_anchors(
        head: &Head,
        xs: &[f64],
        ys: &[f64],
        style: HairlineStyle,
        style_settings: HairlineStyleSettings,
        seed: u64,
        wave_radius_mm: f64,
    ) -> Hairline {
        let (psi0, psi1) = (xs[0], xs[xs.len() - 1]);
        let n = (((psi1 - psi0) / STEP_DEG).floor() as usize).max(1) + 1;
        // Macro waves: three seeded sines along the line, fading at the sideburns.
        let mut rng = sampler::stream(seed, 7);
        let mut waves = [(0.0f64, 0.0f64, 0.0f64); 3];
        let weights = [0.65, 0.28, 0.17];
        let lengths = [1.0, 0.55, 0.3];
        for (w, (weight, len)) in waves.iter_mut().zip(weights.iter().zip(lengths)) {
            let phase = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * std::f64::consts::TAU;
            *w = (
                style_settings.irregularity_mm * weight,
                style_settings.wave_length_mm * len,
                phase,
            );
        }
        let mut radius_mm = Vec::with_capacity(n);
        let mut radial_scale = Vec::with_capacity(n);
        let mut points = Vec::with_capacity(n);
        for i in 0..n {
            let psi = (psi0 + i as f64 * STEP_DEG).min(psi1);
            let s = psi.to_radians() * wave_radius_mm;
            let fade = ((psi - psi0).min(psi1 - psi) / 15.0).clamp(0.0, 1.0);
            let wave: f64 = waves
                .iter()
                .map(|&(a, l, ph)| a * (std::f64::consts::TAU * s / l + ph).sin())
                .sum();
            let r = (pchip(xs, ys, psi) + fade * wave).max(5.0);
            // Chart mm per surface mm along the radius, measured with a 1 mm step.
            let p = head.surface_from_chart(from_polar(psi, r));
            let q = head.surface_from_chart(from_polar(psi, r - 1.0));
            radial_scale.push(1.0 / dist3(p, q).max(1e-6));
            radius_mm.push(r);
            points.push(from_polar(psi, r));
        }
        Hairline {
            points,
            anchors: xs.iter().zip(ys).map(|(&x, &y)| from_polar(x, y)).collect(),
            mid_frontal: None,
            frontotemporal: None,
            temporal_peaks: None,
            style,
            style_settings,
            psi0_deg: psi0,
            radius_mm,
            radial_scale,
        }
    }

    /// Azimuth range the line covers, degrees.
    pub fn azimuth_range_deg(&self) -> (f64, f64) {
        (
            self.psi0_deg,
            self.psi0_deg + (self.radius_mm.len() - 1) as f64 * STEP_DEG,
        )
    }

    /// Line radius and radial scale at azimuth `psi_deg`, if the line covers it.
    pub(crate) fn at(&self, psi_deg: f64) -> Option<(f64, f64)> {
        let f = (psi_deg - self.psi0_deg) / STEP_DEG;
        if f < 0.0 || f > (self.radius_mm.len() - 1) as f64 {
            return None;
        }
        let i = (f as usize).min(self.radius_mm.len() - 1);
        let j = (i + 1).min(self.radius_mm.len() - 1);
        let t = f - i as f64;
        Some((
            self.radius_mm[i] * (1.0 - t) + self.radius_mm[j] * t,
            self.radial_scale[i] * (1.0 - t) + self.radial_scale[j] * t,
        ))
    }

    /// How far behind the line (towards the vertex) a chart point is, in surface mm;
    /// negative ahead of it; `None` beside or behind the ears where the line does not run.
    pub fn depth_behind_mm(&self, q: [f64; 2]) -> Option<f64> {
        let (psi, r) = polar(q);
        self.at(psi).map(|(rl, k)| (rl - r) / k)
    }
}
