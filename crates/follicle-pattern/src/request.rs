//! What a caller asks for: one serde struct, so a design can be saved as JSON or TOML.

use follicle_core::{Settings, ZoneKind};
use serde::{Deserialize, Serialize};

use crate::error::{PatternError, check_range};
use crate::geometry::HeadSpec;
use crate::hairline::{HairlineShape, HairlineSpec};
use crate::settings::{NeedleGauge, PatternSettings, PerGauge};
use crate::zones::{Exclusion, ScarSpec, ZonesSpec};

/// Most vertices one request may hold in all its shapes: zone polygons, scar outlines, FUT
/// centre lines, FUE donor areas, exclusions and hairline control points. Each polygon is
/// checked for self-intersections (quadratic in its vertices) and rasterised, so the work of
/// a request grows with its vertices: within the cap, a few hundred thousand edge pairs (200
/// zones of 4,000 vertices each, which each polygon's own cap allowed, were 1.6 billion).
/// A designer's edited zones hold a few hundred vertices.
pub const MAX_REQUEST_VERTICES: usize = 20_000;

/// Most FUE punches one request may hold in all its scars (a single scar holds at most 5,000).
/// Each punch is a zone of its own, placed by dart throwing with up to 40 tries; 50 scars of
/// 5,000 punches each were 250,000 zones.
pub const MAX_REQUEST_PUNCHES: u64 = 10_000;

/// Final (last-session) density per zone, dots/cm² (each 1–400).
///
/// The defaults are the planner's `density.per_zone_dots_per_cm2` in the settings file
/// (DOMAIN §4); the planner passes the clinic's own values, and a saved design carries
/// the values it was drawn with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ZoneDensities {
    /// Mean over the transition band (it ramps up from the front).
    pub hairline: f64,
    /// Frontal forelock.
    pub frontal: f64,
    /// Temples.
    pub temples: f64,
    /// Mid-scalp.
    pub mid_scalp: f64,
    /// Crown.
    pub crown: f64,
    /// Sides and back.
    pub sides_back: f64,
    /// Scars.
    pub scar: f64,
}

impl Default for ZoneDensities {
    /// The default settings' `density.per_zone_dots_per_cm2`.
    fn default() -> Self {
        ZoneDensities::from_settings(Settings::defaults())
    }
}

impl ZoneDensities {
    /// The clinic's densities (`density.per_zone_dots_per_cm2`).
    pub fn from_settings(settings: &Settings) -> Self {
        let d = |zone: ZoneKind| settings.density.per_zone_dots_per_cm2[&zone];
        ZoneDensities {
            hairline: d(ZoneKind::Hairline),
            frontal: d(ZoneKind::Frontal),
            temples: d(ZoneKind::Temples),
            mid_scalp: d(ZoneKind::MidScalp),
            crown: d(ZoneKind::Crown),
            sides_back: d(ZoneKind::SidesBack),
            scar: d(ZoneKind::Scar),
        }
    }

    /// The density for a zone.
    pub fn get(&self, kind: ZoneKind) -> f64 {
        match kind {
            ZoneKind::Hairline => self.hairline,
            ZoneKind::Frontal => self.frontal,
            ZoneKind::Temples => self.temples,
            ZoneKind::MidScalp => self.mid_scalp,
            ZoneKind::Crown => self.crown,
            ZoneKind::SidesBack => self.sides_back,
            ZoneKind::Scar => self.scar,
        }
    }

    /// The density for a zone, to change it.
    pub fn get_mut(&mut self, kind: ZoneKind) -> &mut f64 {
        match kind {
            ZoneKind::Hairline => &mut self.hairline,
            ZoneKind::Frontal => &mut self.frontal,
            ZoneKind::Temples => &mut self.temples,
            ZoneKind::MidScalp => &mut self.mid_scalp,
            ZoneKind::Crown => &mut self.crown,
            ZoneKind::SidesBack => &mut self.sides_back,
            ZoneKind::Scar => &mut self.scar,
        }
    }
}

/// Needle per zone, and the diameter of each gauge. The defaults are the planner's
/// `needles.per_zone` (each cartridge's gauge) and `needles.gauge_diameter_mm`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ZoneNeedles {
    /// Hairline.
    pub hairline: NeedleGauge,
    /// Frontal.
    pub frontal: NeedleGauge,
    /// Temples.
    pub temples: NeedleGauge,
    /// Mid-scalp.
    pub mid_scalp: NeedleGauge,
    /// Crown.
    pub crown: NeedleGauge,
    /// Sides and back.
    pub sides_back: NeedleGauge,
    /// Scars.
    pub scar: NeedleGauge,
    /// Needle (and fresh dot) diameter of each gauge, mm.
    pub diameter_mm: PerGauge<f64>,
}

impl Default for ZoneNeedles {
    /// The default settings' needles.
    fn default() -> Self {
        ZoneNeedles::from_settings(Settings::defaults())
    }
}

impl ZoneNeedles {
    /// The clinic's needles (`needles.per_zone`, `needles.gauge_diameter_mm`).
    pub fn from_settings(settings: &Settings) -> Self {
        let n = &settings.needles;
        ZoneNeedles {
            hairline: n.gauge_for(ZoneKind::Hairline),
            frontal: n.gauge_for(ZoneKind::Frontal),
            temples: n.gauge_for(ZoneKind::Temples),
            mid_scalp: n.gauge_for(ZoneKind::MidScalp),
            crown: n.gauge_for(ZoneKind::Crown),
            sides_back: n.gauge_for(ZoneKind::SidesBack),
            scar: n.gauge_for(ZoneKind::Scar),
            diameter_mm: n.gauge_diameter_mm,
        }
    }

    /// The needle for a zone.
    pub fn get(&self, kind: ZoneKind) -> NeedleGauge {
        match kind {
            ZoneKind::Hairline => self.hairline,
            ZoneKind::Frontal => self.frontal,
            ZoneKind::Temples => self.temples,
            ZoneKind::MidScalp => self.mid_scalp,
            ZoneKind::Crown => self.crown,
            ZoneKind::SidesBack => self.sides_back,
            ZoneKind::Scar => self.scar,
        }
    }

    /// The needle diameter for a zone, mm.
    pub fn diameter_of(&self, kind: ZoneKind) -> f64 {
        *self.diameter_mm.get(self.get(kind))
    }
}

/// Everything [`crate::generate`] needs. Every field has a default, so `{}` is a valid
/// request (a default male head, typical soft hairline, Norwood III, three sessions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct PatternRequest {
    /// Head measurements (or just the sex, for defaults).
    pub head: HeadSpec,
    /// The hairline design.
    pub hairline: HairlineSpec,
    /// Which zones to treat.
    pub zones: ZonesSpec,
    /// Scars to camouflage (always treated).
    pub scars: Vec<ScarSpec>,
    /// Places that get no dots.
    pub exclusions: Vec<Exclusion>,
    /// Final density per zone.
    pub density_per_cm2: ZoneDensities,
    /// Cumulative share of the final density reached after each session, strictly
    /// increasing, each in (0, 1], 1–8 sessions. Default: the settings'
    /// `density.session_fractions` for the full-coverage plan's session count.
    pub session_fractions: Vec<f64>,
    /// Needle per zone.
    pub needles: ZoneNeedles,
    /// Impressions per hour, for the hours per zone: the planner's `sessions.dots_per_hour`.
    pub dots_per_hour: f64,
    /// The `[pattern]` figures of the clinic's settings.
    #[serde(deserialize_with = "crate::settings::lenient")]
    pub settings: PatternSettings,
    /// Random seed: the same request and seed give byte-identical output.
    pub seed: u64,
}

impl Default for PatternRequest {
    /// A request under the default settings.
    fn default() -> Self {
        PatternRequest::with_settings(Settings::defaults())
    }
}

impl PatternRequest {
    /// A request with the clinic's densities, needles, session shares (for a full-coverage
    /// plan's session count), dots per hour and `[pattern]` figures; the rest default.
    pub fn with_settings(settings: &Settings) -> Self {
        let sessions = settings.sessions.base_count.full_coverage as usize;
        PatternRequest {
            head: HeadSpec::default(),
            hairline: HairlineSpec::default(),
            zones: ZonesSpec::default(),
            scars: Vec::new(),
            exclusions: Vec::new(),
            density_per_cm2: ZoneDensities::from_settings(settings),
            session_fractions: settings
                .session_fractions(sessions)
                .map_or_else(|| vec![1.0], <[f64]>::to_vec),
            needles: ZoneNeedles::from_settings(settings),
            dots_per_hour: settings.sessions.dots_per_hour,
            settings: settings.pattern.clone(),
            seed: 1,
        }
    }
}

impl PatternRequest {
    /// Vertices of all the request's shapes (see [`MAX_REQUEST_VERTICES`]).
    pub fn vertices(&self) -> usize {
        let zones = match &self.zones {
            ZonesSpec::Stage { .. } => 0,
            ZonesSpec::Explicit { zones } => zones.iter().map(|z| z.polygon.len()).sum(),
        };
        let scars: usize = self
            .scars
            .iter()
            .map(|s| match s {
                ScarSpec::FutStrip { line, .. } => line.as_ref().map_or(0, Vec::len),
                ScarSpec::FuePunches { donor, .. } => donor.as_ref().map_or(0, Vec::len),
                ScarSpec::Polygon { points } => points.len(),
            })
            .sum();
        let exclusions: usize = self
            .exclusions
            .iter()
            .map(|e| match e {
                Exclusion::Circle { .. } => 0,
                Exclusion::Polygon { points } => points.len(),
            })
            .sum();
        let hairline = match &self.hairline.shape {
            HairlineShape::Rules { .. } => 0,
            HairlineShape::ControlPoints { points } => points.len(),
        };
        zones + scars + exclusions + hairline
    }

    /// Checks the plain fields (shapes are checked as they are built).
    pub fn validate(&self) -> Result<(), PatternError> {
        for kind in ZoneKind::ALL {
            check_range(
                &format!("density_per_cm2.{}", kind.as_str()),
                self.density_per_cm2.get(kind),
                1.0,
                400.0,
                "1–400",
            )?;
        }
        let f = &self.session_fractions;
        if f.is_empty() || f.len() > 8 {
            return Err(PatternError::range(
                "session_fractions",
                format!("{} values", f.len()),
                "1–8 values",
            ));
        }
        for (i, &v) in f.iter().enumerate() {
            check_range(&format!("session_fractions[{i}]"), v, 0.05, 1.0, "0.05–1")?;
            if i > 0 && v <= f[i - 1] {
                return Err(PatternError::Inconsistent {
                    field: format!("session_fractions[{i}]"),
                    problem: format!(
                        "expected a value above the previous session's {}, got {v}",
                        f[i - 1]
                    ),
                });
            }
        }
        if self.scars.len() > 50 {
            return Err(PatternError::range(
                "scars",
                format!("{} scars", self.scars.len()),
                "0–50 scars",
            ));
        }
        if self.exclusions.len() > 500 {
            return Err(PatternError::range(
                "exclusions",
                format!("{} exclusions", self.exclusions.len()),
                "0–500 exclusions",
            ));
        }
        let punches: u64 = self
            .scars
            .iter()
            .map(|s| match s {
                ScarSpec::FuePunches { count, .. } => u64::from(*count),
                _ => 0,
            })
            .sum();
        if punches > MAX_REQUEST_PUNCHES {
            return Err(PatternError::range(
                "scars",
                format!("{punches} FUE punches in all"),
                format!("at most {MAX_REQUEST_PUNCHES} punches in all the scars"),
            ));
        }
        let vertices = self.vertices();
        if vertices > MAX_REQUEST_VERTICES {
            return Err(PatternError::TooLarge {
                field: "zones, scars, exclusions, hairline.shape.points".into(),
                what: "vertices".into(),
                requested: vertices as u64,
                cap: MAX_REQUEST_VERTICES as u64,
            });
        }
        check_range("dots_per_hour", self.dots_per_hour, 100.0, 50_000.0, "100–50000")?;
        for g in NeedleGauge::ALL {
            check_range(
                &format!("needles.diameter_mm.{}", g.as_str()),
                *self.needles.diameter_mm.get(g),
                0.1,
                1.0,
                "0.1–1 mm",
            )?;
        }
        crate::settings::validate(&self.settings)
    }
}
