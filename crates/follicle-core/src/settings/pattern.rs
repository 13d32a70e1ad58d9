//! The pattern engine's figures: the `[pattern]` table of the settings file.
//!
//! Densities, needles, session shares and dots per hour are the planner's (`[density]`,
//! `[needles]`, `[sessions]`); this table holds only what the pattern engine alone uses.

use serde::{Deserialize, Serialize};

use super::{Settings, fraction};
use crate::error::{InputError, InputResult};

/// How one hairline style draws its front edge (`[pattern.soft]`, `[pattern.broken]`, `[pattern.sharp]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HairlineStyleSettings {
    /// Depth of the transition band behind the line, mm (DOMAIN §4: 5–10 mm).
    pub transition_width_mm: f64,
    /// Density at the very front of the band as a fraction of the hairline zone's
    /// density; it rises linearly to `2 − fraction` at the back so the band's mean is the
    /// hairline density and (with the defaults 50 → 80) it meets the frontal zone smoothly.
    pub front_density_fraction: f64,
    /// Isolated single dots ahead of the line, as a share of the band's dots
    /// (DOMAIN §4: "a few isolated dots ahead of the line").
    pub isolated_share: f64,
    /// How far ahead of the line isolated dots may sit, mm.
    pub isolated_band_mm: f64,
    /// Amplitude of the gentle macro waves of the line, mm (DOMAIN §4: macro irregularity).
    pub irregularity_mm: f64,
    /// Typical wavelength of those waves along the line, mm.
    pub wave_length_mm: f64,
}

impl HairlineStyleSettings {
    /// The soft / feathered style of the default settings.
    pub fn soft() -> Self {
        Settings::defaults().pattern.soft.clone()
    }

    /// The broken style of the default settings.
    pub fn broken() -> Self {
        Settings::defaults().pattern.broken.clone()
    }

    /// The sharp "edge-up" style of the default settings.
    pub fn sharp() -> Self {
        Settings::defaults().pattern.sharp.clone()
    }

    fn validate(&self, field: &str) -> InputResult<()> {
        let at = |k: &str| format!("{field}.{k}");
        fraction(&at("transition_width_mm"), self.transition_width_mm, 1.0, 30.0)?;
        fraction(
            &at("front_density_fraction"),
            self.front_density_fraction,
            0.05,
            1.0,
        )?;
        fraction(&at("isolated_share"), self.isolated_share, 0.0, 0.3)?;
        fraction(&at("isolated_band_mm"), self.isolated_band_mm, 0.0, 15.0)?;
        fraction(&at("irregularity_mm"), self.irregularity_mm, 0.0, 10.0)?;
        fraction(&at("wave_length_mm"), self.wave_length_mm, 5.0, 200.0)?;
        Ok(())
    }
}

impl Default for HairlineStyleSettings {
    fn default() -> Self {
        HairlineStyleSettings::soft()
    }
}

/// The figures of the pattern engine (`[pattern]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PatternSettings {
    /// Share of 1-, 2-, 3- and 4-dot follicular units, percent (normalised before use).
    /// Default 28/53/17/1 from Guo et al. 2017 (Han Chinese scalps, DOMAIN §4). Single
    /// dots are used alone in the hairline band regardless.
    pub fu_mix_percent: [f64; 4],
    /// Distance between the dots of one unit, mm. Default 0.35: the tip spacing of a
    /// 3-point round liner of #06–#08 needles (DOMAIN §4: 0603 and 0803 are the most common).
    pub unit_dot_spacing_mm: f64,
    /// The soft / feathered hairline style.
    pub soft: HairlineStyleSettings,
    /// The broken hairline style.
    pub broken: HairlineStyleSettings,
    /// The sharp "edge-up" hairline style.
    pub sharp: HairlineStyleSettings,
    /// Mature hairlines sit this much higher than juvenile ones, mm (DOMAIN §4: about 15).
    pub mature_raise_mm: f64,
    /// How far the temple angle recedes behind the frontotemporal point, mm, for a
    /// juvenile male hairline.
    pub temple_recession_juvenile_mm: f64,
    /// The same for a mature male hairline (DOMAIN §4: mature lines recede at the temples).
    pub temple_recession_mature_mm: f64,
    /// The same for women (DOMAIN §4: rounder, little recession).
    pub temple_recession_female_mm: f64,
    /// Width of the feathered edge where treated skin meets untreated, hair-bearing
    /// scalp, mm (one to two dot-rows either side of the edge at 80/cm² look stepped;
    /// 10 mm hides the step).
    pub blend_width_mm: f64,
    /// Density at that edge as a fraction of the zone's, rising linearly to 1 over the
    /// blend width ("about 50% of natural density looks full", DOMAIN §4).
    pub blend_edge_fraction: f64,
    /// Pigment strength per session (0 = none, 1 = undiluted), by session; the last value
    /// repeats. Session 1 deliberately light, later darker (DOMAIN §4).
    pub session_shades: Vec<f64>,
    /// Crown whorl turns clockwise seen from above: about 84% of people (Schmidt 2008, DOMAIN §4).
    pub clockwise_whorl: bool,
    /// Distance of the whorl behind the line between the ear canals, mm (DOMAIN §4: about 60).
    pub whorl_behind_ears_mm: f64,
    /// How far the hair direction near the whorl turns away from straight-outwards, degrees;
    /// it fades to 0 with distance (see `whorl_spiral_decay_mm`).
    pub whorl_spiral_deg: f64,
    /// Distance over which the whorl's swirl fades, mm.
    pub whorl_spiral_decay_mm: f64,
    /// Men's hairlines are drawn mature (higher, receded temples) from this age (DOMAIN §4);
    /// never women's (DOMAIN §9).
    pub mature_from_age: u32,
    /// Distance along the skin from the mid-frontal point to each frontotemporal point, mm
    /// (Garg's 8-8-8, DOMAIN §4, §9).
    pub frontotemporal_from_mid_frontal_mm: f64,
    /// A woman's mid-frontal point above the glabella (her forehead height), mm, when the design
    /// does not set it (measured female forehead heights 6.2–6.4 cm, DOMAIN §4, §9).
    pub female_mid_frontal_height_mm: f64,
    /// Amplitude of the irregular lower edge drawn where no fringe remains (alopecia totalis and
    /// universalis), mm: never a straight line across the nape.
    pub nape_irregularity_mm: f64,
    /// Typical wavelength of that edge, mm.
    pub nape_wave_length_mm: f64,
    /// Least gap between the edges of two dots of one follicular unit, mm: the dots of a unit
    /// sit at least one needle diameter plus this apart, so they never overlap.
    pub unit_dot_margin_mm: f64,
}

impl Default for PatternSettings {
    /// The `[pattern]` table of the default settings file.
    fn default() -> Self {
        Settings::defaults().pattern.clone()
    }
}

impl PatternSettings {
    /// Checks every field; the error names the first one out of range (`pattern.…`).
    pub fn validate(&self) -> InputResult<()> {
        for (i, &p) in self.fu_mix_percent.iter().enumerate() {
            fraction(&format!("pattern.fu_mix_percent[{i}]"), p, 0.0, 100.0)?;
        }
        if self.fu_mix_percent.iter().sum::<f64>() <= 0.0 {
            return Err(InputError::field(
                "pattern.fu_mix_percent",
                format!(
                    "expected at least one share above 0, got {:?}",
                    self.fu_mix_percent
                ),
            ));
        }
        fraction("pattern.unit_dot_spacing_mm", self.unit_dot_spacing_mm, 0.1, 1.0)?;
        self.soft.validate("pattern.soft")?;
        self.broken.validate("pattern.broken")?;
        self.sharp.validate("pattern.sharp")?;
        for (field, v) in [
            ("mature_raise_mm", self.mature_raise_mm),
            ("temple_recession_juvenile_mm", self.temple_recession_juvenile_mm),
            ("temple_recession_mature_mm", self.temple_recession_mature_mm),
            ("temple_recession_female_mm", self.temple_recession_female_mm),
            ("blend_width_mm", self.blend_width_mm),
        ] {
            fraction(&format!("pattern.{field}"), v, 0.0, 40.0)?;
        }
        fraction("pattern.blend_edge_fraction", self.blend_edge_fraction, 0.05, 1.0)?;
        if self.session_shades.is_empty() || self.session_shades.len() > 8 {
            return Err(InputError::field(
                "pattern.session_shades",
                format!("expected 1–8 values, got {}", self.session_shades.len()),
            ));
        }
        for (i, &s) in self.session_shades.iter().enumerate() {
            fraction(&format!("pattern.session_shades[{i}]"), s, 0.0, 1.0)?;
        }
        fraction(
            "pattern.whorl_behind_ears_mm",
            self.whorl_behind_ears_mm,
            0.0,
            120.0,
        )?;
        fraction("pattern.whorl_spiral_deg", self.whorl_spiral_deg, 0.0, 90.0)?;
        fraction(
            "pattern.mature_from_age",
            f64::from(self.mature_from_age),
            0.0,
            120.0,
        )?;
        fraction(
            "pattern.frontotemporal_from_mid_frontal_mm",
            self.frontotemporal_from_mid_frontal_mm,
            40.0,
            120.0,
        )?;
        fraction(
            "pattern.female_mid_frontal_height_mm",
            self.female_mid_frontal_height_mm,
            50.0,
            100.0,
        )?;
        fraction(
            "pattern.nape_irregularity_mm",
            self.nape_irregularity_mm,
            0.0,
            15.0,
        )?;
        fraction(
            "pattern.nape_wave_length_mm",
            self.nape_wave_length_mm,
            5.0,
            200.0,
        )?;
        fraction("pattern.unit_dot_margin_mm", self.unit_dot_margin_mm, 0.0, 0.5)?;
        fraction(
            "pattern.whorl_spiral_decay_mm",
            self.whorl_spiral_decay_mm,
            1.0,
            200.0,
        )?;
        Ok(())
    }

    /// The FU mix as probabilities summing to 1.
    pub fn fu_probabilities(&self) -> [f64; 4] {
        let total: f64 = self.fu_mix_percent.iter().sum();
        let mut p = [0.0; 4];
        for (out, v) in p.iter_mut().zip(self.fu_mix_percent) {
            *out = if total > 0.0 { v / total } else { 1.0 / 4.0 };
        }
        p
    }

    /// Mean dots per unit under the mix.
    pub fn mean_unit_size(&self) -> f64 {
        self.fu_probabilities()
            .iter()
            .enumerate()
            .map(|(i, p)| (i + 1) as f64 * p)
            .sum()
    }

    /// The pigment strength of a session (1-based); the last value repeats.
    pub fn shade(&self, session: usize) -> f64 {
        let i = session
            .saturating_sub(1)
            .min(self.session_shades.len().saturating_sub(1));
        self.session_shades.get(i).copied().unwrap_or(1.0)
    }
}
