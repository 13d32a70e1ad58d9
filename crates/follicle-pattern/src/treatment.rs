//! One head, one set of zones: the zones of a client's plan are drawn once, on the head model
//! sized from the client's measurements, and the planner prices what is drawn.
//!
//! [`plan_client`] assesses the client (core decides the approach and what to treat), builds the
//! pattern request, **draws the design** with the plan's seed and hands what was drawn to the
//! planner ([`measured_from`]): per zone, its area on the skin (areas on the equal-area chart are
//! areas on the skin) and the dots the design holds after its last session. [`replan_design`]
//! does the same for an edited design, and the designer, which has just drawn the edit, prices
//! that drawing ([`replan_drawn`]). Every caller that plans (the command line, the server, the
//! demo clinic) goes through here, so the quote and the design cannot describe different heads,
//! and the dots priced are the dots drawn, exactly, zone by zone.
//!
//! What "dots" means on both sides: the **healed design's dots**, the dots of the last session.
//! The plan adds, per session, the healing-loss refill (impressions re-placed because the
//! previous session lost them in healing); those refills are not dots of the design, so a plan's
//! dots without the refill equal the design's dots.
//!
//! [`measure`] lays the zones out without sampling: the density field integrated over each zone
//! (what the sampler aims at; `tests/tests.rs` holds every zone's drawn density within 5 % of
//! it). It gives the fully bald head's areas ([`FullAreas`]) and the coverage of alopecia areata
//! patches; a plan never prices it, because a sampler meets a field's integral only on average
//! (a thin zone along a denser one is a few per cent off, seed to seed) and the quote must hold
//! for the design the client is shown.

use std::collections::BTreeMap;

use crate::settings::PatternSettings;
use crate::zones::{FUT_MARGIN_MM, FUT_STRIP_LENGTH_MM, FUT_STRIP_WIDTH_MM};
use crate::{
    HairlinePosition, HairlineShape, HairlineSpec, HeadSpec, Pattern, PatternError, PatternRequest, ScarSpec,
    ZonesSpec,
};
use follicle_core::assess::{Assessment, Measured, ZoneMeasure};
use follicle_core::plan::Plan;
use follicle_core::profile::{ClientProfile, HairLoss, HairlineStyle, NorwoodStage, ScarKind, ScarSite, Sex};
use follicle_core::{Settings, ZoneKind};
use time::Date;

/// The seed a plan is drawn with when the caller gives none (the command line's default).
pub const DEFAULT_SEED: u64 = 1;

/// A planned client: the plan and the pattern request whose zones it was priced from.
#[derive(Debug, Clone, PartialEq)]
pub struct Treatment {
    /// The plan (with the measured assessment inside).
    pub plan: Plan,
    /// The design the plan was measured on; [`crate::generate`] draws its dots.
    pub request: PatternRequest,
    /// What was measured on it.
    pub measured: Measured,
}

/// Assesses a client and measures the zones to treat on their head: the assessment with its zones.
pub fn assess_client(
    client: &ClientProfile,
    settings: &Settings,
    today: Date,
    seed: u64,
) -> Result<(Assessment, PatternRequest), PatternError> {
    let (assessment, request) = design_client(client, settings, today, seed);
    let measured = measure_drawn(&request)?;
    Ok((assessment.measured(&measured), request))
}

/// Assesses and plans a client, sessions from `start`, priced from the zones drawn on their head.
///
/// The three steps apart, for a caller that keeps what was measured ([`design_client`] is
/// quick, [`measure_drawn`] draws the design, [`plan_measured`] is quick): the same answer.
pub fn plan_client(
    client: &ClientProfile,
    settings: &Settings,
    today: Date,
    start: Date,
    seed: u64,
) -> Result<Treatment, PatternError> {
    let (assessment, request) = design_client(client, settings, today, seed);
    let measured = measure_drawn(&request)?;
    Ok(plan_measured(&assessment, request, measured, settings, start))
}

/// The client assessed, and the design their plan is priced from, laid out with `seed` but
/// not drawn.
pub fn design_client(
    client: &ClientProfile,
    settings: &Settings,
    today: Date,
    seed: u64,
) -> (Assessment, PatternRequest) {
    let assessment = follicle_core::assess(client, settings, today);
    let request = request(&assessment, settings, seed);
    (assessment, request)
}

/// Draws a design and measures what it holds ([`measured_from`]): the slow part of a plan
/// (tens of milliseconds for a full scalp). The same request always gives the same answer, so
/// a caller may keep it, keyed by the whole request.
pub fn measure_drawn(request: &PatternRequest) -> Result<Measured, PatternError> {
    let drawn = crate::generate(request)?;
    measured_from(&drawn, request, &mut FullAreas::new(0))
}

/// Plans an assessed client from their design (`request`, from [`design_client`]) and what was
/// measured on it (from [`measure_drawn`]), sessions from `start`.
pub fn plan_measured(
    assessment: &Assessment,
    request: PatternRequest,
    measured: Measured,
    settings: &Settings,
    start: Date,
) -> Treatment {
    let plan = follicle_core::plan(assessment, &measured, settings, start);
    let request = with_plan_ink(request, &plan);
    Treatment {
        plan,
        request,
        measured,
    }
}

/// Re-plans a client from an edited design (hairline moved, zones painted or erased, exclusions,
/// densities changed): hours, sessions and price follow the edit.
///
/// A design that leaves nothing to treat is an error naming `zones`.
pub fn replan_design(
    design: &PatternRequest,
    client: &ClientProfile,
    settings: &Settings,
    today: Date,
    start: Date,
) -> Result<Treatment, PatternError> {
    replan_design_with(design, client, settings, today, start, &mut FullAreas::new(0))
}

/// [`replan_design`], reusing the full-head areas of earlier designs on the same head (see
/// [`FullAreas`]). The same answer as [`replan_design`], whatever the cache holds.
pub fn replan_design_with(
    design: &PatternRequest,
    client: &ClientProfile,
    settings: &Settings,
    today: Date,
    start: Date,
    full_areas: &mut FullAreas,
) -> Result<Treatment, PatternError> {
    let drawn = crate::generate(design)?;
    replan_drawn(design, &drawn, client, settings, today, start, full_areas)
}

/// Re-plans a client from a design already drawn: `drawn` must be what [`crate::generate`] gives
/// for `design` (a [`crate::PatternCache`]'s answer is). What the designer calls after every
/// edit, so the quote follows the drag without drawing the design twice.
pub fn replan_drawn(
    design: &PatternRequest,
    drawn: &Pattern,
    client: &ClientProfile,
    settings: &Settings,
    today: Date,
    start: Date,
    full_areas: &mut FullAreas,
) -> Result<Treatment, PatternError> {
    let assessment = follicle_core::assess(client, settings, today);
    let measured = measured_from(drawn, design, full_areas)?;
    if measured.zones.iter().all(|z| z.area_cm2 <= 0.0 || z.dots <= 0.0) {
        return Err(PatternError::Inconsistent {
            field: "zones".into(),
            problem: "the design leaves no zone to treat (every zone erased or excluded): paint a zone or undo the last erasure".into(),
        });
    }
    let plan = follicle_core::plan(&assessment, &measured, settings, start);
    Ok(Treatment {
        request: with_plan_ink(design.clone(), &plan),
        plan,
        measured,
    })
}

/// The design a plan was priced from, with the plan's ink: what [`plan_client`] returns as its
/// request, rebuilt from the plan alone (the plan keeps the measured assessment).
pub fn design_request(plan: &Plan, settings: &Settings, seed: u64) -> PatternRequest {
    with_plan_ink(request(&plan.assessment, settings, seed), plan)
}

/// The ink: each session's dots carry the carbon share of the mix the plan gives it (the mix does
/// not change what is drawn or measured, only how dark the dots render).
fn with_plan_ink(mut request: PatternRequest, plan: &Plan) -> PatternRequest {
    let shades = layer_shades(plan);
    if !shades.is_empty() {
        request.settings.session_shades = shades;
    }
    request
}

/// The pigment strength of each layer of a plan (a pattern session; a long layer is booked as
/// several parts): the carbon share, 1 − the water share, of the mix of the zone that takes
/// most of the layer's impressions — the mix the plan prints for the session.
pub fn layer_shades(plan: &Plan) -> Vec<f64> {
    let mut layers: Vec<Vec<&follicle_core::plan::SessionZone>> = Vec::new();
    for session in &plan.sessions {
        if session.part.is_none_or(|[part, _]| part == 1) || layers.is_empty() {
            layers.push(Vec::new());
        }
        if let Some(layer) = layers.last_mut() {
            layer.extend(&session.zones);
        }
    }
    layers
        .iter()
        .filter_map(|zones| {
            let dots =
                |kind: ZoneKind| -> u64 { zones.iter().filter(|z| z.zone == kind).map(|z| z.dots).sum() };
            let main = zones
                .iter()
                .max_by_key(|z| (dots(z.zone), std::cmp::Reverse(z.zone)))?;
            Some(1.0 - main.pigment_dilution.clamp(0.0, 1.0))
        })
        .collect()
}

/// What a drawn design holds, per zone: its area on the skin, cm², and its dots after the last
/// session; with the area of each zone on this head when fully bald (from `full_areas` when it
/// holds this head). `drawn` is [`crate::generate`]'s answer for `request`.
pub fn measured_from(
    drawn: &Pattern,
    request: &PatternRequest,
    full_areas: &mut FullAreas,
) -> Result<Measured, PatternError> {
    let zones = drawn
        .stats
        .zones
        .iter()
        .filter(|z| z.session == drawn.sessions && z.area_cm2 > 0.0 && z.dots > 0)
        .map(|z| ZoneMeasure {
            zone: z.zone,
            area_cm2: z.area_cm2,
            dots: z.dots as f64,
            density_per_cm2: request.density_per_cm2.get(z.zone),
        })
        .collect();
    let full_area_cm2 = full_areas.get(request)?;
    Ok(Measured { zones, full_area_cm2 })
}

/// Lays a request's zones out on its head without sampling them: area (cm² on the skin) and
/// expected final dots per zone (the density field's integral), and the area of each zone on
/// this head when fully bald. Plans price [`measured_from`] instead (see the module's text).
pub fn measure(request: &PatternRequest) -> Result<Measured, PatternError> {
    measure_with(request, &mut FullAreas::new(0))
}

/// [`measure`], taking the fully bald head's areas from `full_areas` when it holds them for
/// this head.
pub fn measure_with(request: &PatternRequest, full_areas: &mut FullAreas) -> Result<Measured, PatternError> {
    // On one thread: a plan is measured per request of a loaded server.
    let layout = crate::pattern::layout(request, 1)?;
    let zones = zone_measures(&layout.map, request);
    let full_area_cm2 = full_areas.get(request)?;
    Ok(Measured { zones, full_area_cm2 })
}

/// The areas of every hair-loss zone on a request's head when fully bald (what a per-region
/// price is a share of), kept for the last `capacity` heads.
///
/// [`measure`] draws a second head for them: the same head, hairline, densities and settings
/// with every hair-loss zone of the largest stage. They do not depend on the zones, scars or
/// exclusions of the design, so a designer moving a zone edge, painting or erasing reuses them
/// instead of drawing that head again on every edit; a moved hairline or a new density is a
/// new head. The key is the whole request that head is drawn from (exact, not a hash), so a
/// hit is the same answer by construction.
#[derive(Debug, Clone, Default)]
pub struct FullAreas {
    capacity: usize,
    /// (the full head's request as JSON, its areas), newest last.
    entries: Vec<(Vec<u8>, BTreeMap<ZoneKind, f64>)>,
}

impl FullAreas {
    /// A cache of the areas of the last `capacity` heads (0: keep none).
    pub fn new(capacity: usize) -> FullAreas {
        FullAreas {
            capacity,
            entries: Vec::new(),
        }
    }

    /// How many heads it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn get(&mut self, request: &PatternRequest) -> Result<BTreeMap<ZoneKind, f64>, PatternError> {
        // The same head, hairline and settings with every hair-loss zone drawn (the largest stage).
        let full_request = PatternRequest {
            zones: ZonesSpec::Stage {
                stage: HairLoss::Norwood {
                    stage: NorwoodStage::VII,
                },
            },
            scars: Vec::new(),
            exclusions: Vec::new(),
            ..request.clone()
        };
        let key = if self.capacity > 0 {
            // A request is plain data: its JSON cannot fail to serialize, and the fallback
            // (no key) only means no caching.
            serde_json::to_vec(&full_request).ok()
        } else {
            None
        };
        if let Some(k) = &key
            && let Some(i) = self.entries.iter().position(|(e, _)| e == k)
        {
            let hit = self.entries.remove(i);
            let areas = hit.1.clone();
            self.entries.push(hit);
            return Ok(areas);
        }
        // Only the areas: the zones drawn and counted, not the density field (the same
        // numbers as the full layout's, at a fraction of its cost: a drag of the hairline asks
        // for a new head on every edit).
        let areas: BTreeMap<ZoneKind, f64> = ZoneKind::ALL
            .into_iter()
            .zip(crate::pattern::zone_areas(&full_request)?)
            .filter(|&(zone, area)| zone != ZoneKind::Scar && area > 0.0)
            .collect();
        if let Some(k) = key {
            self.entries.push((k, areas.clone()));
            let excess = self.entries.len().saturating_sub(self.capacity);
            self.entries.drain(..excess);
        }
        Ok(areas)
    }
}

fn zone_measures(map: &crate::field::ZoneMap, request: &PatternRequest) -> Vec<ZoneMeasure> {
    ZoneKind::ALL
        .into_iter()
        .zip(map.zone_totals())
        .filter(|(_, (area, dots))| *area > 0.0 && *dots > 0.0)
        .map(|(zone, (area_cm2, dots))| ZoneMeasure {
            zone,
            area_cm2,
            dots,
            density_per_cm2: request.density_per_cm2.get(zone),
        })
        .collect()
}

/// The pattern request for an assessed client, with a seed.
///
/// The hairline follows the clinical rules for the client's sex, age and style, the zones their
/// hair loss (in core's vocabulary), densities the assessment's scope, needles the clinic's
/// settings, and the session fractions the number of layers the plan will have.
pub fn request(a: &Assessment, settings: &Settings, seed: u64) -> PatternRequest {
    let c = &a.client;
    let female = c.sex == Sex::Female;
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
            // Mature men's hairlines sit higher and recede at the temples (DOMAIN §4), from
            // `pattern.mature_from_age`; women's hairlines get no maturity raise (DOMAIN §4, §9).
            shape: HairlineShape::Rules {
                position: HairlinePosition::Typical,
                mature: !female && c.age >= settings.pattern.mature_from_age,
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
        zones: if a.scope.hair_loss {
            ZonesSpec::Stage {
                stage: c.hair_loss.clone(),
            }
        } else {
            ZonesSpec::Explicit { zones: Vec::new() }
        },
        seed,
        ..PatternRequest::with_settings(settings)
    };
    for zone in ZoneKind::ALL {
        if let Some(d) = a.scope.density_per_cm2.get(&zone) {
            *req.density_per_cm2.get_mut(zone) = *d;
        }
    }
    let layers = follicle_core::plan::session_count(a, settings);
    if let Some(f) = settings.session_fractions(layers) {
        req.session_fractions = f.to_vec();
    }
    if a.scope.scars {
        let margin = settings.scars.margin_mm.clamp(FUT_MARGIN_MM.0, FUT_MARGIN_MM.1);
        for scar in &c.scars {
            match &scar.kind {
                ScarKind::FutStrip { length_mm, width_mm } => req.scars.push(ScarSpec::FutStrip {
                    line: None,
                    length_mm: length_mm.clamp(FUT_STRIP_LENGTH_MM.0, FUT_STRIP_LENGTH_MM.1),
                    height_mm: settings.pattern.fut_strip_height_mm,
                    width_mm: width_mm.clamp(FUT_STRIP_WIDTH_MM.0, FUT_STRIP_WIDTH_MM.1),
                    margin_mm: margin,
                }),
                // FUE scars are camouflaged by treating the donor area they are spread over, not
                // each 1 mm punch on its own: a band across the back, as large as the plan says.
                ScarKind::Fue { count } => {
                    let area_cm2 = f64::from(*count) * settings.scars.fue_area_per_punch_cm2;
                    if let Ok(head) = crate::Head::from_spec_with(&req.head, &req.settings.landmarks) {
                        req.scars.push(ScarSpec::Polygon {
                            points: donor_band(&head, area_cm2, &settings.pattern),
                        });
                    }
                }
                ScarKind::Injury { length_mm, width_mm } | ScarKind::Surgical { length_mm, width_mm } => {
                    req.scars.push(scar_polygon(
                        c,
                        scar.site,
                        *length_mm,
                        *width_mm,
                        margin,
                        &settings.pattern,
                    ));
                }
            }
        }
    }
    req
}

/// A rectangle for an injury or surgical scar at its site, on the chart (mm).
fn scar_polygon(
    client: &ClientProfile,
    site: ScarSite,
    length_mm: f64,
    width_mm: f64,
    margin_mm: f64,
    settings: &PatternSettings,
) -> ScarSpec {
    // Rough chart positions of the sites (`pattern.scar_sites`; vertex at the origin, y
    // forwards), as shares of a reach that grows with the head (mm per cm: 10).
    let r = settings.scar_site_reach_share * client.head.circumference_cm * 10.0 / std::f64::consts::PI;
    let sites = &settings.scar_sites;
    let (site, mirror) = match site {
        ScarSite::Frontal => (sites.frontal, false),
        ScarSite::MidScalp => (sites.mid_scalp, false),
        ScarSite::Crown => (sites.crown, false),
        ScarSite::TempleLeft => (sites.temple, true),
        ScarSite::TempleRight => (sites.temple, false),
        ScarSite::SideLeft => (sites.side, true),
        ScarSite::SideRight => (sites.side, false),
        ScarSite::Occipital | ScarSite::Donor => (sites.occipital, false),
    };
    let (cx, cy) = ((if mirror { -site[0] } else { site[0] }) * r, site[1] * r);
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

/// The donor band across the back of the head (between the azimuths of
/// `pattern.donor_band_azimuth_deg`, upwards from `pattern.donor_band_bottom_mm` relative to the
/// brow plane) with the given area on the surface, as a chart polygon.
pub fn donor_band(head: &crate::Head, area_cm2: f64, settings: &PatternSettings) -> Vec<[f64; 2]> {
    let bottom = settings.donor_band_bottom_mm;
    let [from_deg, to_deg] = settings.donor_band_azimuth_deg;
    let band = |top: f64| -> Vec<[f64; 2]> {
        let steps = DONOR_BAND_STEPS;
        let edge = |z: f64, rev: bool| -> Vec<[f64; 2]> {
            (0..=steps)
                .map(|i| {
                    let t = if rev { steps - i } else { i } as f64 / steps as f64;
                    head.chart_from_surface(head.point_at_azimuth(from_deg + (to_deg - from_deg) * t, z))
                })
                .collect()
        };
        let mut poly = edge(bottom, false);
        poly.extend(edge(top, true));
        poly
    };
    // The chart is equal-area, so the polygon's area is the area on the skin: find the top edge.
    let area = |top: f64| crate::polygon::area_mm2(&band(top)) / 100.0;
    let (mut lo, mut hi) = (
        bottom + DONOR_BAND_SEARCH_MM.0,
        (bottom + DONOR_BAND_SEARCH_MM.1).min(DONOR_BAND_TOP_SHARE * head.c_mm),
    );
    if area(hi) <= area_cm2 {
        return band(hi);
    }
    for _ in 0..BISECTION_STEPS {
        let mid = 0.5 * (lo + hi);
        if area(mid) < area_cm2 { lo = mid } else { hi = mid }
    }
    band(hi)
}

/// Points along each edge of the donor band polygon.
const DONOR_BAND_STEPS: usize = 40;

/// The bisection bracket of the donor band's top edge above its bottom edge, mm: at least a
/// sliver, at most a band no FUE donor area exceeds.
const DONOR_BAND_SEARCH_MM: (f64, f64) = (3.0, 90.0);

/// The donor band's top edge stays below this share of the head's height (it never reaches
/// the crown).
const DONOR_BAND_TOP_SHARE: f64 = 0.9;

/// Bisection steps of the donor band's top edge (2⁻⁴⁰ of the bracket).
const BISECTION_STEPS: usize = 40;
