//! What a caller asks for: one serde struct, so a design can be saved as JSON or TOML.

use follicle_core::ZoneKind;
use serde::{Deserialize, Serialize};

use crate::error::{PatternError, check_range};
use crate::geometry::HeadSpec;
use crate::hairline::HairlineSpec;
use crate::settings::PatternSettings;
use crate::zones::{Exclusion, ScarSpec, ZonesSpec};

/// Final (last-session) density per zone, dots/cm² (each 1–400).
///
/// Defaults: hairline 50, frontal 80, temples 70, mid-scalp 80, crown 80, sides/back 40,
/// scar 100. About 50% of natural density looks full and natural scalps carry 60–100
/// FU/cm² (DOMAIN §4); scars take more because scar tissue holds pigment less well.
/// The planner passes the clinic's own values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    fn default() -> Self {
        ZoneDensities {
            hairline: 50.0,
            frontal: 80.0,
            temples: 70.0,
            mid_scalp: 80.0,
            crown: 80.0,
            sides_back: 40.0,
            scar: 100.0,
        }
    }
}

impl ZoneDensities {
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

/// Needle gauges and the dot diameter each makes (DOMAIN §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NeedleGauge {
    /// #04, 0.18 mm.
    #[serde(rename = "04")]
    N04,
    /// #06, 0.20 mm.
    #[serde(rename = "06")]
    N06,
    /// #08, 0.25 mm.
    #[serde(rename = "08")]
    N08,
    /// #10, 0.30 mm.
    #[serde(rename = "10")]
    N10,
    /// #12, 0.35 mm.
    #[serde(rename = "12")]
    N12,
}

impl NeedleGauge {
    /// Needle (and fresh dot) diameter, mm.
    pub fn diameter_mm(self) -> f64 {
        match self {
            NeedleGauge::N04 => 0.18,
            NeedleGauge::N06 => 0.20,
            NeedleGauge::N08 => 0.25,
            NeedleGauge::N10 => 0.30,
            NeedleGauge::N12 => 0.35,
        }
    }
}

/// Needle per zone. Defaults: a single #04 point at the hairline, #06 (0603, the most
/// common SMP needle, DOMAIN §4) to fill, #08 on scars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}

impl Default for ZoneNeedles {
    fn default() -> Self {
        ZoneNeedles {
            hairline: NeedleGauge::N04,
            frontal: NeedleGauge::N06,
            temples: NeedleGauge::N06,
            mid_scalp: NeedleGauge::N06,
            crown: NeedleGauge::N06,
            sides_back: NeedleGauge::N06,
            scar: NeedleGauge::N08,
        }
    }
}

impl ZoneNeedles {
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
}

/// Everything [`crate::generate`] needs. Every field has a default, so `{}` is a valid
/// request (a default male head, typical soft hairline, Norwood III, three sessions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// increasing, each in (0, 1], 1–8 sessions. Default 0.30, 0.70, 1.00 (the 3-session
    /// protocol of Liu et al. 2025, DOMAIN §1).
    pub session_fractions: Vec<f64>,
    /// Needle per zone.
    pub needles: ZoneNeedles,
    /// Clinic-tunable figures.
    pub settings: PatternSettings,
    /// Random seed: the same request and seed give byte-identical output.
    pub seed: u64,
}

impl Default for PatternRequest {
    fn default() -> Self {
        PatternRequest {
            head: HeadSpec::default(),
            hairline: HairlineSpec::default(),
            zones: ZonesSpec::default(),
            scars: Vec::new(),
            exclusions: Vec::new(),
            density_per_cm2: ZoneDensities::default(),
            session_fractions: vec![0.30, 0.70, 1.00],
            needles: ZoneNeedles::default(),
            settings: PatternSettings::default(),
            seed: 1,
        }
    }
}

impl PatternRequest {
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
        self.settings.validate()
    }
}
