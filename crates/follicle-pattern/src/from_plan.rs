//! From a client's plan to a pattern request: the one place where the planner's words
//! (stages, zones, densities, needles, sessions) become the pattern engine's.

use crate::{
    HairLossStage, HairlinePosition, HairlineShape, HairlineSpec, HeadSpec, PatternRequest, ScarSpec,
    ZoneNeedles, ZonesSpec,
};
use follicle_core::assess::Assessment;
use follicle_core::plan::Plan;
use follicle_core::profile::{HairLoss, HairlineStyle, NorwoodStage, ScarKind, ScarSite, Sex};
use follicle_core::{Settings, ZoneKind};

/// The pattern stage that draws a client's hair loss.
pub fn stage(loss: &HairLoss) -> HairLossStage {
    use NorwoodStage as N;
    match loss {
        HairLoss::Norwood { stage } => match stage {
            N::I => HairLossStage::Norwood1,
            N::II | N::IIa => HairLossStage::Norwood2,
            N::III | N::IIIa => HairLossStage::Norwood3,
            N::IIIVertex => HairLossStage::Norwood3Vertex,
            N::IV | N::IVa => HairLossStage::Norwood4,
            N::V | N::Va => HairLossStage::Norwood5,
            N::VI => HairLossStage::Norwood6,
            N::VII => HairLossStage::Norwood7,
        },
        HairLoss::Ludwig { stage: 1 } => HairLossStage::Ludwig1,
        HairLoss::Ludwig { stage: 2 } => HairLossStage::Ludwig2,
        HairLoss::Ludwig { .. } => HairLossStage::Ludwig3,
        HairLoss::Savin { stage } if stage.starts_with("I-") => HairLossStage::Ludwig1,
        HairLoss::Savin { stage } if stage.starts_with("II") => HairLossStage::Ludwig2,
        HairLoss::Savin { .. } => HairLossStage::Ludwig3,
        HairLoss::Diffuse => HairLossStage::Diffuse,
        HairLoss::AlopeciaAreata { .. } | HairLoss::ScarringAlopecia { .. } => HairLossStage::AlopeciaAreata,
        HairLoss::AlopeciaTotalis => HairLossStage::Totalis,
        HairLoss::AlopeciaUniversalis => HairLossStage::Universalis,
        HairLoss::None => HairLossStage::Norwood1,
    }
}

/// The pattern request for a planned client, with a seed.
///
/// The hairline follows the clinical rules for the client's age and style, the zones their
/// stage, densities and needles come from the plan's zones and the clinic's settings, and
/// the session fractions from the number of layers the plan gives.
pub fn request(plan: &Plan, settings: &Settings, seed: u64) -> PatternRequest {
    let a: &Assessment = &plan.assessment;
    let c = &a.client;
    let mut req = PatternRequest {
        head: HeadSpec {
            sex: match c.sex {
                Sex::Male => crate::Sex::Male,
                Sex::Female => crate::Sex::Female,
            },
            length_mm: Some(c.head.length_mm),
            breadth_mm: c.head.breadth_mm,
            circumference_cm: Some(c.head.circumference_cm),
            height_mm: None,
        },
        hairline: HairlineSpec {
            // Mature hairlines sit higher and recede at the temples (DOMAIN §4); from about 35.
            shape: HairlineShape::Rules {
                position: HairlinePosition::Typical,
                mature: c.age >= 35,
                mid_frontal_height_mm: None,
                frontotemporal_height_mm: None,
            },
            style: match c.hairline_style {
                HairlineStyle::Soft => crate::HairlineStyle::Soft,
                HairlineStyle::Broken => crate::HairlineStyle::Broken,
                HairlineStyle::Sharp => crate::HairlineStyle::Sharp,
            },
            seed: None,
        },
        zones: ZonesSpec::Stage {
            stage: stage(&c.hair_loss),
        },
        seed,
        ..PatternRequest::with_settings(settings)
    };
    // Scar camouflage only: the scars, and no hair-loss zones.
    let hair_work = a.zones.iter().any(|z| z.zone != ZoneKind::Scar);
    if !hair_work {
        req.zones = ZonesSpec::Explicit { zones: Vec::new() };
    }
    for z in &a.zones {
        let d = z.density_per_cm2;
        let slot = match z.zone {
            ZoneKind::Hairline => &mut req.density_per_cm2.hairline,
            ZoneKind::Frontal => &mut req.density_per_cm2.frontal,
            ZoneKind::Temples => &mut req.density_per_cm2.temples,
            ZoneKind::MidScalp => &mut req.density_per_cm2.mid_scalp,
            ZoneKind::Crown => &mut req.density_per_cm2.crown,
            ZoneKind::SidesBack => &mut req.density_per_cm2.sides_back,
            ZoneKind::Scar => &mut req.density_per_cm2.scar,
        };
        *slot = d;
    }
    req.needles = ZoneNeedles::from_settings(settings);
    let layers = follicle_core::plan::session_count(a, settings);
    if let Some(f) = settings.session_fractions(layers) {
        req.session_fractions = f.to_vec();
    }
    if a.approach
        .approaches
        .contains(&follicle_core::assess::Approach::ScarCamouflage)
    {
        let margin = settings.scars.margin_mm.clamp(0.0, 10.0);
        for scar in &c.scars {
            match &scar.kind {
                ScarKind::FutStrip { length_mm, width_mm } => req.scars.push(ScarSpec::FutStrip {
                    line: None,
                    length_mm: length_mm.clamp(20.0, 320.0),
                    height_mm: -35.0,
                    width_mm: width_mm.clamp(0.5, 20.0),
                    margin_mm: margin,
                }),
                // FUE scars are camouflaged by treating the donor area they are spread over, not
                // each 1 mm punch on its own: a band across the back, as large as the plan says.
                ScarKind::Fue { count } => {
                    let area_cm2 = f64::from(*count) * settings.scars.fue_area_per_punch_cm2;
                    if let Ok(head) = crate::Head::from_spec(&req.head) {
                        req.scars.push(ScarSpec::Polygon {
                            points: donor_band(&head, area_cm2),
                        });
                    }
                }
                ScarKind::Injury { length_mm, width_mm } | ScarKind::Surgical { length_mm, width_mm } => {
                    req.scars
                        .push(scar_polygon(plan, scar.site, *length_mm, *width_mm, margin));
                }
            }
        }
    }
    req
}

/// A rectangle for an injury or surgical scar at its site, on the chart (mm).
fn scar_polygon(plan: &Plan, site: ScarSite, length_mm: f64, width_mm: f64, margin_mm: f64) -> ScarSpec {
    // Rough chart positions of the sites on a default head (vertex at the origin, y forwards).
    let r = 0.3 * plan.assessment.client.head.circumference_cm * 10.0 / std::f64::consts::PI;
    let (cx, cy) = match site {
        ScarSite::Frontal => (0.0, 0.6 * r),
        ScarSite::MidScalp => (0.0, 0.2 * r),
        ScarSite::Crown => (0.0, -0.35 * r),
        ScarSite::TempleLeft => (-0.55 * r, 0.55 * r),
        ScarSite::TempleRight => (0.55 * r, 0.55 * r),
        ScarSite::SideLeft => (-0.8 * r, 0.0),
        ScarSite::SideRight => (0.8 * r, 0.0),
        ScarSite::Occipital | ScarSite::Donor => (0.0, -0.85 * r),
    };
    let (hl, hw) = (length_mm / 2.0 + margin_mm, width_mm / 2.0 + margin_mm);
    ScarSpec::Polygon {
        points: vec![
            [cx - hl, cy - hw],
            [cx + hl, cy - hw],
            [cx + hl, cy + hw],
            [cx - hl, cy + hw],
        ],
    }
}

/// The donor band across the back of the head (azimuth 200°–340°, upwards from 40 mm below the
/// brow plane) with the given area on the surface, as a chart polygon.
pub fn donor_band(head: &crate::Head, area_cm2: f64) -> Vec<[f64; 2]> {
    let bottom = -40.0;
    let band = |top: f64| -> Vec<[f64; 2]> {
        let steps = 40;
        let edge = |z: f64, rev: bool| -> Vec<[f64; 2]> {
            (0..=steps)
                .map(|i| {
                    let t = if rev { steps - i } else { i } as f64 / steps as f64;
                    head.chart_from_surface(head.point_at_azimuth(200.0 + 140.0 * t, z))
                })
                .collect()
        };
        let mut poly = edge(bottom, false);
        poly.extend(edge(top, true));
        poly
    };
    // The chart is equal-area, so the polygon's area is the area on the skin: find the top edge.
    let area = |top: f64| crate::polygon::area_mm2(&band(top)) / 100.0;
    let (mut lo, mut hi) = (bottom + 3.0, (bottom + 90.0).min(0.9 * head.c_mm));
    if area(hi) <= area_cm2 {
        return band(hi);
    }
    for _ in 0..40 {
        let mid = 0.5 * (lo + hi);
        if area(mid) < area_cm2 { lo = mid } else { hi = mid }
    }
    band(hi)
}
