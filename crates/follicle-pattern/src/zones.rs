//! Zones on the chart: defaults per hair-loss stage, explicit polygons, scars and
//! exclusions, and the outline of the scalp they live on.
//!
//! Default zones are star-shaped bands around the vertex (`r_in(ψ) ≤ r ≤ r_out(ψ)` over
//! an azimuth range) turned into polygons, so a web designer can show and edit them like
//! any other. Zones may overlap; each point belongs to the zone with the highest priority
//! ([`priority`]): scar, hairline, temples, frontal, crown, mid-scalp, sides/back.

use follicle_core::profile::{HairLoss, NorwoodStage, SAVIN_STAGES};
use follicle_core::{Settings, ZoneKind};
use rand_core::RngCore;
use serde::{Deserialize, Serialize};

use crate::error::{PatternError, check_range};
use crate::geometry::{Head, dist3};
use crate::hairline::{Hairline, from_polar, pchip, polar};
use crate::polygon;
use crate::sampler;
use crate::settings::{PatternSettings, StageZones};

/// One zone as a polygon on the chart (mm).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ZoneSpec {
    /// Which zone.
    pub kind: ZoneKind,
    /// Closed polygon, chart mm.
    pub polygon: Vec<[f64; 2]>,
}

/// Which zones to treat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ZonesSpec {
    /// The defaults for a hair-loss stage, in the client file's vocabulary
    /// ([`follicle_core::profile::HairLoss`]; the older names such as `"norwood_3"` are read too).
    Stage {
        /// The stage.
        stage: HairLoss,
    },
    /// Explicit polygons (e.g. edited from a stage's defaults).
    Explicit {
        /// The zones.
        zones: Vec<ZoneSpec>,
    },
}

impl Default for ZonesSpec {
    fn default() -> Self {
        ZonesSpec::Stage {
            stage: HairLoss::Norwood {
                stage: NorwoodStage::III,
            },
        }
    }
}

/// A scar to camouflage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScarSpec {
    /// A linear FUT donor strip across the back of the head.
    FutStrip {
        /// Centre line (chart mm); default: across the occiput at `height_mm`.
        #[serde(default)]
        line: Option<Vec<[f64; 2]>>,
        /// Length along the skin when `line` is absent, mm (20–320). Default
        /// `pattern.fut_strip_length_mm` (180).
        #[serde(default = "default_strip_length")]
        length_mm: f64,
        /// Height of the default line relative to the glabella plane, mm. Default
        /// `pattern.fut_strip_height_mm` (−35).
        #[serde(default = "default_strip_height")]
        height_mm: f64,
        /// Scar width, mm (0.5–20). Default `pattern.fut_strip_width_mm` (4).
        #[serde(default = "default_strip_width")]
        width_mm: f64,
        /// Margin treated on each side, mm (0–10). Default `scars.margin_mm` (5), as the
        /// planner treats a client's scars.
        #[serde(default = "default_margin")]
        margin_mm: f64,
    },
    /// FUE punch scars: many small discs scattered over a donor area.
    FuePunches {
        /// Number of punches (1–5000). Default `pattern.fue_punch_count` (600).
        #[serde(default = "default_punches")]
        count: u32,
        /// Punch diameter, mm (0.5–2). Default `pattern.fue_punch_diameter_mm` (0.9).
        #[serde(default = "default_punch")]
        punch_diameter_mm: f64,
        /// Margin treated around each punch, mm (0–3). Default `pattern.fue_punch_margin_mm` (0.5).
        #[serde(default = "default_punch_margin")]
        margin_mm: f64,
        /// Donor area polygon (chart mm); default: the occipital and parietal band of
        /// `pattern.fue_donor_*`.
        #[serde(default)]
        donor: Option<Vec<[f64; 2]>>,
    },
    /// Any other scar, as a polygon (chart mm).
    Polygon {
        /// The outline.
        points: Vec<[f64; 2]>,
    },
}

// A scar a design request gives without some of its figures takes the default settings'
// (a request is read without the clinic's file; the planner fills every figure from it).
fn default_strip_length() -> f64 {
    Settings::defaults().pattern.fut_strip_length_mm
}
fn default_strip_height() -> f64 {
    Settings::defaults().pattern.fut_strip_height_mm
}
fn default_strip_width() -> f64 {
    Settings::defaults().pattern.fut_strip_width_mm
}
fn default_margin() -> f64 {
    Settings::defaults().scars.margin_mm
}
fn default_punches() -> u32 {
    Settings::defaults().pattern.fue_punch_count
}
fn default_punch() -> f64 {
    Settings::defaults().pattern.fue_punch_diameter_mm
}
fn default_punch_margin() -> f64 {
    Settings::defaults().pattern.fue_punch_margin_mm
}

/// Allowed length of a FUT strip in a request, mm (request validation bounds).
pub(crate) const FUT_STRIP_LENGTH_MM: (f64, f64) = (20.0, 320.0);
/// Allowed width of a FUT strip, mm.
pub(crate) const FUT_STRIP_WIDTH_MM: (f64, f64) = (0.5, 20.0);
/// Allowed margin round a FUT strip, mm.
pub(crate) const FUT_MARGIN_MM: (f64, f64) = (0.0, 10.0);

/// A place that gets no dots (a mole, a lesion).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Exclusion {
    /// A disc.
    Circle {
        /// Centre, chart mm.
        center_mm: [f64; 2],
        /// Radius, mm (0.5–50).
        radius_mm: f64,
    },
    /// A polygon, chart mm.
    Polygon {
        /// The outline.
        points: Vec<[f64; 2]>,
    },
}

/// A zone polygon in a finished pattern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ZonePolygon {
    /// Which zone.
    pub kind: ZoneKind,
    /// Chart mm.
    pub polygon: Vec<[f64; 2]>,
}

/// Priority of a zone where polygons overlap (higher wins).
pub fn priority(kind: ZoneKind) -> u8 {
    match kind {
        ZoneKind::SidesBack => 1,
        ZoneKind::MidScalp => 2,
        ZoneKind::Crown => 3,
        ZoneKind::Frontal => 4,
        ZoneKind::Temples => 5,
        ZoneKind::Hairline => 6,
        ZoneKind::Scar => 7,
    }
}

/// The scalp's outline on the chart, in polar form all the way round.
#[derive(Debug, Clone)]
pub(crate) struct Outline {
    /// r at ψ = i · 0.5°, i in 0..720.
    radius_mm: Vec<f64>,
}

impl Outline {
    pub fn new(head: &Head, hairline: &Hairline) -> Outline {
        let (h0, h1) = hairline.azimuth_range_deg();
        // Lower edge anchors go round the back from the left sideburn (ψ ≈ 168°) to the
        // right one (ψ ≈ 372° = 12°).
        let anchors = head.lower_edge_anchors();
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        let mut push = |phi_deg: f64, z: f64, mirror: bool| {
            let mut p = head.point_at_azimuth(phi_deg, z);
            if mirror {
                p[0] = -p[0];
            }
            let (mut psi, r) = polar(head.chart_from_surface(p));
            if psi < 160.0 {
                psi += 360.0;
            }
            xs.push(psi);
            ys.push(r);
        };
        for &(phi, z) in anchors.iter() {
            push(phi, z, true);
        }
        for &(phi, z) in anchors.iter().rev().skip(1) {
            push(phi, z, false);
        }
        let mut pairs: Vec<(f64, f64)> = xs.into_iter().zip(ys).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        pairs.dedup_by(|a, b| (a.0 - b.0).abs() < 1e-9);
        let (xs, ys): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
        let radius_mm = (0..720)
            .map(|i| {
                let psi = i as f64 * 0.5;
                if let Some((r, _)) = hairline.at(psi).filter(|_| psi >= h0 && psi <= h1) {
                    r
                } else {
                    let x = if psi < 160.0 { psi + 360.0 } else { psi };
                    pchip(&xs, &ys, x)
                }
            })
            .collect();
        Outline { radius_mm }
    }

    pub fn at(&self, psi_deg: f64) -> f64 {
        let f = psi_deg.rem_euclid(360.0) / 0.5;
        let i = f as usize % 720;
        let j = (i + 1) % 720;
        let t = f - f.floor();
        self.radius_mm[i] * (1.0 - t) + self.radius_mm[j] * t
    }

    pub fn polygon(&self) -> Vec<[f64; 2]> {
        (0..720)
            .step_by(2)
            .map(|i| from_polar(i as f64 * 0.5, self.radius_mm[i]))
            .collect()
    }

    pub fn max_radius(&self) -> f64 {
        self.radius_mm.iter().copied().fold(0.0, f64::max)
    }
}

/// A star-shaped band: azimuths `psi0..psi1` (degrees), radii between `inner` and `outer`.
fn band(psi0: f64, psi1: f64, inner: impl Fn(f64) -> f64, outer: impl Fn(f64) -> f64) -> Vec<[f64; 2]> {
    let steps = (((psi1 - psi0) / 1.0).ceil() as usize).max(2);
    let mut pts = Vec::with_capacity(2 * steps + 2);
    for i in 0..=steps {
        let psi = psi0 + (psi1 - psi0) * i as f64 / steps as f64;
        pts.push(from_polar(psi, outer(psi).max(0.5)));
    }
    for i in (0..=steps).rev() {
        let psi = psi0 + (psi1 - psi0) * i as f64 / steps as f64;
        let r = inner(psi).max(0.0);
        pts.push(from_polar(psi, r));
    }
    // A fan reaching the vertex collapses to one point there.
    pts.dedup_by(|a, b| (a[0] - b[0]).abs() < 1e-9 && (a[1] - b[1]).abs() < 1e-9);
    pts
}

/// A closed star-shaped region `r ≤ outer(ψ)` all round.
fn star(outer: impl Fn(f64) -> f64) -> Vec<[f64; 2]> {
    (0..360)
        .map(|i| from_polar(i as f64, outer(i as f64).max(1.0)))
        .collect()
}

/// Stage geometry: which zones and how big.
struct StagePlan {
    hairline: bool,
    temples: bool,
    frontal_depth_mm: Option<f64>,
    crown_radius_mm: Option<f64>,
    /// Mid-scalp outer radius as a fraction of the outline, and the frontal rim kept, mm.
    mid: Option<(f64, f64)>,
    sides_back: bool,
}

/// The zones of a stage: the hairline, temple and sides-and-back zones by the stage's scale (every
/// Norwood stage draws a hairline, all but I temples, VII and alopecia totalis and universalis the
/// sides and back), the sizes from `pattern.stages`.
fn plan(stage: &HairLoss, settings: &PatternSettings) -> StagePlan {
    let p = |hairline, temples, zones: StageZones, sides| StagePlan {
        hairline,
        temples,
        frontal_depth_mm: zones.frontal_depth_mm,
        crown_radius_mm: zones.crown_radius_mm,
        mid: zones.mid_scalp_share.map(|share| (share, zones.mid_scalp_rim_mm)),
        sides_back: sides,
    };
    let sized = |scale: &str, stage: &str| settings.stage_zones(scale, stage);
    match stage {
        HairLoss::Norwood { stage } => p(
            true,
            *stage != NorwoodStage::I,
            sized("norwood", stage.as_str()),
            *stage == NorwoodStage::VII,
        ),
        HairLoss::AlopeciaTotalis => p(true, true, sized("alopecia_totalis", "all"), true),
        HairLoss::AlopeciaUniversalis => p(true, true, sized("alopecia_universalis", "all"), true),
        HairLoss::Ludwig { stage } => {
            let name = match stage {
                1 => "I",
                2 => "II",
                _ => "III",
            };
            p(false, false, sized("ludwig", name), false)
        }
        HairLoss::Savin { stage } => {
            let name = if SAVIN_STAGES.contains(stage) {
                *stage
            } else {
                "advanced"
            };
            p(false, false, sized("savin", name), false)
        }
        HairLoss::Diffuse => p(false, false, sized("diffuse", "all"), false),
        HairLoss::AlopeciaAreata { .. } | HairLoss::ScarringAlopecia { .. } | HairLoss::None => {
            p(false, false, StageZones::default(), false)
        }
    }
}

/// True when the stage leaves no fringe of hair to blend into (alopecia totalis, universalis):
/// the sides and back are treated at full density and the lower edge is feathered and irregular.
pub fn no_fringe(stage: &HairLoss) -> bool {
    matches!(stage, HairLoss::AlopeciaTotalis | HairLoss::AlopeciaUniversalis)
}

/// Azimuth of the midline of the face on the chart, degrees.
pub(crate) const FRONT_AZIMUTH_DEG: f64 = 90.0;

/// The temple and frontal bands keep at least this much azimuth each, degrees (a guard so that
/// neither band collapses on an odd hairline).
pub(crate) const BAND_MIN_DEG: f64 = 5.0;

/// Default zone polygons for a stage.
pub(crate) fn stage_zones(
    stage: &HairLoss,
    head: &Head,
    hairline: &Hairline,
    outline: &Outline,
    whorl: [f64; 2],
    seed: u64,
    settings: &PatternSettings,
) -> Vec<ZoneSpec> {
    let sp = plan(stage, settings);
    let (h0, h1) = hairline.azimuth_range_deg();
    let style = &hairline.style_settings;
    let line = |psi: f64| {
        hairline
            .at(psi)
            .map(|(r, _)| r)
            .unwrap_or_else(|| outline.at(psi))
    };
    let scale = |psi: f64| hairline.at(psi).map(|(_, k)| k).unwrap_or(1.0);
    let w = style.transition_width_mm;
    let ahead = style.isolated_band_mm;
    let behind_band = |psi: f64| line(psi) - w * scale(psi);
    // Where the temples end and the frontal zone begins: a little in front of the
    // frontotemporal points (the recession reaches round the corner), or
    // `temple_reach_drawn_deg` either side of the midline for a drawn line.
    let ft_psi = hairline
        .frontotemporal
        .map(|ft| polar(ft[0].chart_mm).0 + settings.temple_beyond_corner_deg)
        .unwrap_or(FRONT_AZIMUTH_DEG - settings.temple_reach_drawn_deg)
        .clamp(h0 + BAND_MIN_DEG, FRONT_AZIMUTH_DEG - BAND_MIN_DEG);
    let mut zones = Vec::new();
    let push = |zones: &mut Vec<ZoneSpec>, kind, polygon: Vec<[f64; 2]>| {
        if polygon.len() >= 3 {
            zones.push(ZoneSpec { kind, polygon })
        }
    };
    if sp.sides_back {
        if no_fringe(stage) {
            // No fringe to stop at: the lower edge follows the scalp's edge with seeded waves
            // (never a straight line across the nape); the density field feathers it.
            let mut rng = sampler::stream(seed, 13);
            let mut unit = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            let waves: Vec<(f64, f64, f64)> = [1.0, 0.55, 0.3]
                .iter()
                .zip([0.6, 0.3, 0.1])
                .map(|(len, weight)| {
                    (
                        weight * settings.nape_irregularity_mm,
                        len * settings.nape_wave_length_mm,
                        unit() * std::f64::consts::TAU,
                    )
                })
                .collect();
            let edge = |psi: f64| {
                if hairline.at(psi).is_some_and(|_| psi >= h0 && psi <= h1) {
                    return outline.at(psi);
                }
                let s = psi.to_radians() * outline.at(psi);
                let wave: f64 = waves
                    .iter()
                    .map(|&(a, l, ph)| a * (1.0 + (std::f64::consts::TAU * s / l + ph).sin()))
                    .sum();
                outline.at(psi) - wave
            };
            push(&mut zones, ZoneKind::SidesBack, star(edge));
        } else {
            push(&mut zones, ZoneKind::SidesBack, star(|psi| outline.at(psi)));
        }
    }
    if let Some((frac, rim)) = sp.mid {
        let mid = |psi: f64| {
            let mut r = frac * outline.at(psi);
            if psi >= h0 && psi <= h1 {
                r = r.min(line(psi) - (rim + if sp.hairline { w } else { 0.0 }) * scale(psi));
            }
            r
        };
        push(&mut zones, ZoneKind::MidScalp, star(mid));
    }
    if let Some(radius) = sp.crown_radius_mm {
        push(&mut zones, ZoneKind::Crown, polygon::disc(whorl, radius, 72));
    }
    if let Some(depth) = sp.frontal_depth_mm {
        push(
            &mut zones,
            ZoneKind::Frontal,
            band(
                ft_psi,
                180.0 - ft_psi,
                |psi| behind_band(psi) - depth,
                behind_band,
            ),
        );
    }
    if sp.temples {
        let depth = settings.temple_depth_mm;
        push(
            &mut zones,
            ZoneKind::Temples,
            band(h0, ft_psi, |psi| behind_band(psi) - depth, behind_band),
        );
        push(
            &mut zones,
            ZoneKind::Temples,
            band(180.0 - ft_psi, h1, |psi| behind_band(psi) - depth, behind_band),
        );
    }
    if sp.hairline {
        push(
            &mut zones,
            ZoneKind::Hairline,
            band(h0, h1, behind_band, |psi| line(psi) + ahead * scale(psi)),
        );
    }
    if let HairLoss::AlopeciaAreata { affected_percent } | HairLoss::ScarringAlopecia { affected_percent } =
        stage
    {
        zones.extend(areata_patches(
            *affected_percent,
            head,
            hairline,
            outline,
            whorl,
            seed,
            settings,
        ));
    }
    zones
}

/// Round patches at seeded places whose union covers `affected_percent` of the scalp (the SALT
/// score), each labelled by where its centre lies.
///
/// The centres and relative sizes are drawn from the seed; one common scale is then found by
/// bisection so that the covered share of the scalp (measured on a 1 mm grid of the equal-area
/// chart, so it is the share of the skin) matches the client's figure.
fn areata_patches(
    affected_percent: f64,
    head: &Head,
    hairline: &Hairline,
    outline: &Outline,
    whorl: [f64; 2],
    seed: u64,
    settings: &PatternSettings,
) -> Vec<ZoneSpec> {
    let _ = head;
    let share = (affected_percent / 100.0).clamp(0.0, 1.0);
    if share <= 0.0 {
        return Vec::new();
    }
    let mut rng = sampler::stream(seed, 11);
    let mut unit = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    // More of the scalp affected: more patches (3–5 at a small share, up to 9 at a large one).
    let count = 3 + (unit() * 3.0) as usize + (share * 4.0) as usize;
    let discs: Vec<([f64; 2], f64)> = (0..count)
        .map(|_| {
            let psi = unit() * 360.0;
            let r = unit().sqrt() * 0.85 * outline.at(psi);
            (from_polar(psi, r), 0.6 + 0.4 * unit())
        })
        .collect();
    // The scalp's cells, 1 mm apart.
    let reach = outline.max_radius();
    let mut cells: Vec<[f64; 2]> = Vec::new();
    let n = (reach.ceil() as i64) + 1;
    for j in -n..=n {
        for i in -n..=n {
            let q = [i as f64 + 0.5, j as f64 + 0.5];
            let (psi, r) = polar(q);
            if r <= outline.at(psi) {
                cells.push(q);
            }
        }
    }
    if cells.is_empty() {
        return Vec::new();
    }
    let covered = |scale: f64| {
        cells
            .iter()
            .filter(|q| {
                discs.iter().any(|(c, rel)| {
                    let rr = scale * rel;
                    (q[0] - c[0]).powi(2) + (q[1] - c[1]).powi(2) <= rr * rr
                })
            })
            .count() as f64
            / cells.len() as f64
    };
    let (mut lo, mut hi) = (0.0, 2.5 * reach);
    for _ in 0..30 {
        let mid = 0.5 * (lo + hi);
        if covered(mid) < share {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let scale = 0.5 * (lo + hi);
    discs
        .into_iter()
        .map(|(c, rel)| {
            let (psi, r) = polar(c);
            let kind = if (c[0] - whorl[0]).hypot(c[1] - whorl[1]) < settings.areata_crown_reach_mm {
                ZoneKind::Crown
            } else if r > settings.areata_sides_share * outline.at(psi) {
                ZoneKind::SidesBack
            } else if hairline
                .depth_behind_mm(c)
                .is_some_and(|d| d < settings.areata_frontal_depth_mm)
            {
                ZoneKind::Frontal
            } else {
                ZoneKind::MidScalp
            };
            ZoneSpec {
                kind,
                polygon: polygon::disc(c, scale * rel, 96),
            }
        })
        .collect()
}

/// Scar polygons (each a [`ZoneKind::Scar`] zone) and seed points for small ones.
pub(crate) fn scar_zones(
    scars: &[ScarSpec],
    head: &Head,
    outline: &Outline,
    seed: u64,
) -> Result<(Vec<ZoneSpec>, Vec<[f64; 2]>), PatternError> {
    let mut zones = Vec::new();
    let mut seeds = Vec::new();
    let limit = outline.max_radius() + 30.0;
    for (i, scar) in scars.iter().enumerate() {
        let field = format!("scars[{i}]");
        match scar {
            ScarSpec::FutStrip {
                line,
                length_mm,
                height_mm,
                width_mm,
                margin_mm,
            } => {
                check_range(
                    &format!("{field}.width_mm"),
                    *width_mm,
                    FUT_STRIP_WIDTH_MM.0,
                    FUT_STRIP_WIDTH_MM.1,
                    "0.5–20 mm",
                )?;
                check_range(
                    &format!("{field}.margin_mm"),
                    *margin_mm,
                    FUT_MARGIN_MM.0,
                    FUT_MARGIN_MM.1,
                    "0–10 mm",
                )?;
                let centre: Vec<[f64; 2]> = match line {
                    Some(pts) => {
                        if pts.len() < 2
                            || pts.len() > 500
                            || pts.iter().any(|p| !p[0].is_finite() || !p[1].is_finite())
                        {
                            return Err(PatternError::shape(
                                format!("{field}.line"),
                                format!("expected 2–500 finite chart points, got {}", pts.len()),
                            ));
                        }
                        pts.clone()
                    }
                    None => {
                        check_range(
                            &format!("{field}.length_mm"),
                            *length_mm,
                            FUT_STRIP_LENGTH_MM.0,
                            FUT_STRIP_LENGTH_MM.1,
                            "20–320 mm",
                        )?;
                        check_range(
                            &format!("{field}.height_mm"),
                            *height_mm,
                            -0.6 * head.c_mm,
                            0.3 * head.c_mm,
                            "within the back of the scalp",
                        )?;
                        strip_line(head, *length_mm, *height_mm)
                    }
                };
                let poly = polygon::band_around(&centre, 0.5 * width_mm + margin_mm);
                polygon::validate_polygon(&format!("{field}.line"), &poly, limit)?;
                seeds.extend(centre.iter().copied());
                zones.push(ZoneSpec {
                    kind: ZoneKind::Scar,
                    polygon: poly,
                });
            }
            ScarSpec::FuePunches {
                count,
                punch_diameter_mm,
                margin_mm,
                donor,
            } => {
                if *count < 1 || *count > 5000 {
                    return Err(PatternError::range(format!("{field}.count"), count, "1–5000"));
                }
                check_range(
                    &format!("{field}.punch_diameter_mm"),
                    *punch_diameter_mm,
                    0.5,
                    2.0,
                    "0.5–2 mm",
                )?;
                check_range(&format!("{field}.margin_mm"), *margin_mm, 0.0, 3.0, "0–3 mm")?;
                let donor = match donor {
                    Some(d) => {
                        polygon::validate_polygon(&format!("{field}.donor"), d, limit)?;
                        d.clone()
                    }
                    None => donor_band(head, &Settings::defaults().pattern),
                };
                let radius = 0.5 * punch_diameter_mm + margin_mm;
                let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
                for p in &donor {
                    x0 = x0.min(p[0]);
                    y0 = y0.min(p[1]);
                    x1 = x1.max(p[0]);
                    y1 = y1.max(p[1]);
                }
                let mut rng = sampler::stream(seed, 100 + i as u64);
                let mut unit = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                let mut centres: Vec<[f64; 2]> = Vec::new();
                // Dart throwing with a bounded number of tries; punches are spaced at
                // least their own diameter apart, as a surgeon spaces them. The spacing is
                // checked against the punches in the neighbouring cells of a grid, not
                // against every punch (5,000 punches × 40 tries each took seconds).
                let gap = 2.0 * radius + 0.5 * punch_diameter_mm;
                let mut near = PointGrid::new(gap);
                for _ in 0..(*count as usize * 40) {
                    if centres.len() >= *count as usize {
                        break;
                    }
                    let c = [x0 + unit() * (x1 - x0), y0 + unit() * (y1 - y0)];
                    if near.all_at_least(c, gap) && polygon::contains(&donor, c) {
                        near.insert(c);
                        centres.push(c);
                    }
                }
                for c in centres {
                    seeds.push(c);
                    zones.push(ZoneSpec {
                        kind: ZoneKind::Scar,
                        polygon: polygon::disc(c, radius, 12),
                    });
                }
            }
            ScarSpec::Polygon { points } => {
                polygon::validate_polygon(&format!("{field}.points"), points, limit)?;
                let n = points.len() as f64;
                seeds.push([
                    points.iter().map(|p| p[0]).sum::<f64>() / n,
                    points.iter().map(|p| p[1]).sum::<f64>() / n,
                ]);
                seeds.extend(points.iter().copied());
                zones.push(ZoneSpec {
                    kind: ZoneKind::Scar,
                    polygon: points.clone(),
                });
            }
        }
    }
    Ok((zones, seeds))
}

/// Points binned in square cells of side `cell` mm, for "is any point nearer than `cell`?"
/// without looking at every point.
struct PointGrid {
    cell: f64,
    cells: std::collections::HashMap<(i64, i64), Vec<[f64; 2]>>,
}

impl PointGrid {
    fn new(cell: f64) -> PointGrid {
        PointGrid {
            cell,
            cells: std::collections::HashMap::new(),
        }
    }

    fn key(&self, p: [f64; 2]) -> (i64, i64) {
        (
            (p[0] / self.cell).floor() as i64,
            (p[1] / self.cell).floor() as i64,
        )
    }

    fn insert(&mut self, p: [f64; 2]) {
        let key = self.key(p);
        self.cells.entry(key).or_default().push(p);
    }

    /// Whether every point is at least `gap` (at most the cell side) from `p`: the same answer
    /// as checking every point. Two cells either way, not one, so that rounding in the cell
    /// index can never hide a point just under `gap` away.
    fn all_at_least(&self, p: [f64; 2], gap: f64) -> bool {
        let (i, j) = self.key(p);
        (i - 2..=i + 2).all(|a| {
            (j - 2..=j + 2).all(|b| {
                self.cells
                    .get(&(a, b))
                    .is_none_or(|pts| pts.iter().all(|q| (q[0] - p[0]).hypot(q[1] - p[1]) >= gap))
            })
        })
    }
}

/// The centre line of a FUT strip of `length_mm` across the back at height `z_mm`.
fn strip_line(head: &Head, length_mm: f64, z_mm: f64) -> Vec<[f64; 2]> {
    // Walk from the midline (φ = −90°) to each side until half the length is reached.
    let half = |dir: f64| {
        let mut pts = Vec::new();
        let mut walked = 0.0;
        let mut prev = head.point_at_azimuth(-90.0, z_mm);
        let mut phi = -90.0;
        while walked < 0.5 * length_mm && (phi + 90.0f64).abs() < 89.0 {
            phi += dir * 0.5;
            let p = head.point_at_azimuth(phi, z_mm);
            walked += dist3(prev, p);
            prev = p;
            pts.push(head.chart_from_surface(p));
        }
        pts
    };
    let mut left = half(-1.0);
    left.reverse();
    left.push(head.chart_from_surface(head.point_at_azimuth(-90.0, z_mm)));
    left.extend(half(1.0));
    // Thin to about one point per 2 mm of chart.
    let mut out: Vec<[f64; 2]> = Vec::new();
    for p in left {
        if out
            .last()
            .is_none_or(|q: &[f64; 2]| (q[0] - p[0]).hypot(q[1] - p[1]) >= 2.0)
        {
            out.push(p);
        }
    }
    out
}

/// The default FUE donor area (`pattern.fue_donor_*`): the back of the head between ear level
/// and the nape. A request is read without the clinic's file, so this is the default settings'.
fn donor_band(head: &Head, settings: &PatternSettings) -> Vec<[f64; 2]> {
    let c = head.c_mm;
    let [top0, top1] = settings.fue_donor_top_azimuth_deg;
    let [bottom0, bottom1] = settings.fue_donor_bottom_azimuth_deg;
    let [top_z, bottom_z] = settings.fue_donor_height_share;
    let mut pts = Vec::new();
    for i in 0..=DONOR_STEPS {
        let phi = top0 + (top1 - top0) * i as f64 / DONOR_STEPS as f64;
        pts.push(head.chart_from_surface(head.point_at_azimuth(phi, top_z * c)));
    }
    for i in (0..=DONOR_STEPS).rev() {
        let phi = bottom0 + (bottom1 - bottom0) * i as f64 / DONOR_STEPS as f64;
        pts.push(head.chart_from_surface(head.point_at_azimuth(phi, bottom_z * c)));
    }
    pts
}

/// Points along each edge of the default FUE donor area.
const DONOR_STEPS: usize = 60;

/// Exclusion polygons, validated.
pub(crate) fn exclusion_polygons(
    exclusions: &[Exclusion],
    limit: f64,
) -> Result<Vec<Vec<[f64; 2]>>, PatternError> {
    exclusions
        .iter()
        .enumerate()
        .map(|(i, e)| match e {
            Exclusion::Circle { center_mm, radius_mm } => {
                check_range(
                    &format!("exclusions[{i}].radius_mm"),
                    *radius_mm,
                    0.5,
                    50.0,
                    "0.5–50 mm",
                )?;
                if !center_mm[0].is_finite()
                    || !center_mm[1].is_finite()
                    || center_mm[0].hypot(center_mm[1]) > limit
                {
                    return Err(PatternError::shape(
                        format!("exclusions[{i}].center_mm"),
                        format!(
                            "expected a chart point within {limit:.0} mm of the vertex, got {center_mm:?}"
                        ),
                    ));
                }
                Ok(polygon::disc(*center_mm, *radius_mm, 24))
            }
            Exclusion::Polygon { points } => {
                polygon::validate_polygon(&format!("exclusions[{i}].points"), points, limit)?;
                Ok(points.clone())
            }
        })
        .collect()
}
