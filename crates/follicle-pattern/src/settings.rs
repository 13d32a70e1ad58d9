//! Every figure a clinic might disagree with, in one serde struct with documented
//! defaults and sources, so the clinic settings file can carry a `[pattern]` table.

use serde::{Deserialize, Serialize};

use crate::error::{PatternError, check_range};

/// How one hairline style draws its front edge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
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
    /// Soft / feathered (the default style): 8 mm band, 3% isolated dots, 1.5 mm waves.
    pub fn soft() -> Self {
        HairlineStyleSettings {
            transition_width_mm: 8.0,
            front_density_fraction: 0.4,
            isolated_share: 0.03,
            isolated_band_mm: 4.0,
            irregularity_mm: 1.5,
            wave_length_mm: 25.0,
        }
    }

    /// Broken: deeper waves, sparser front, more isolated dots.
    pub fn broken() -> Self {
        HairlineStyleSettings {
            transition_width_mm: 9.0,
            front_density_fraction: 0.3,
            isolated_share: 0.06,
            isolated_band_mm: 5.0,
            irregularity_mm: 3.0,
            wave_length_mm: 15.0,
        }
    }

    /// Sharp "edge-up": a thin 3 mm band, almost full density at the front, no stray dots.
    pub fn sharp() -> Self {
        HairlineStyleSettings {
            transition_width_mm: 3.0,
            front_density_fraction: 0.9,
            isolated_share: 0.0,
            isolated_band_mm: 0.0,
            irregularity_mm: 0.0,
            wave_length_mm: 25.0,
        }
    }

    fn validate(&self, field: &str) -> Result<(), PatternError> {
        check_range(
            &format!("{field}.transition_width_mm"),
            self.transition_width_mm,
            1.0,
            30.0,
            "1–30 mm",
        )?;
        check_range(
            &format!("{field}.front_density_fraction"),
            self.front_density_fraction,
            0.05,
            1.0,
            "0.05–1",
        )?;
        check_range(
            &format!("{field}.isolated_share"),
            self.isolated_share,
            0.0,
            0.3,
            "0–0.3",
        )?;
        check_range(
            &format!("{field}.isolated_band_mm"),
            self.isolated_band_mm,
            0.0,
            15.0,
            "0–15 mm",
        )?;
        check_range(
            &format!("{field}.irregularity_mm"),
            self.irregularity_mm,
            0.0,
            10.0,
            "0–10 mm",
        )?;
        check_range(
            &format!("{field}.wave_length_mm"),
            self.wave_length_mm,
            5.0,
            200.0,
            "5–200 mm",
        )?;
        Ok(())
    }
}

impl Default for HairlineStyleSettings {
    fn default() -> Self {
        HairlineStyleSettings::soft()
    }
}

/// The clinic-tunable figures of the pattern engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
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
    /// juvenile male hairline. Default 6.
    pub temple_recession_juvenile_mm: f64,
    /// The same for a mature male hairline (DOMAIN §4: mature lines recede at the temples). Default 15.
    pub temple_recession_mature_mm: f64,
    /// The same for women (DOMAIN §4: rounder, little recession). Default 2.
    pub temple_recession_female_mm: f64,
    /// Width of the feathered edge where treated skin meets untreated, hair-bearing
    /// scalp, mm. Default 10 (one to two dot-rows either side of the edge at 80/cm² look
    /// stepped; 10 mm hides the step).
    pub blend_width_mm: f64,
    /// Density at that edge as a fraction of the zone's, rising linearly to 1 over the
    /// blend width. Default 0.5 ("about 50% of natural density looks full", DOMAIN §4).
    pub blend_edge_fraction: f64,
    /// Impressions per hour used for time estimates. Default 4,500: about 14,000
    /// impressions in a 2–4 h session (DOMAIN §4), taken at 3 h.
    pub dots_per_hour: f64,
    /// Pigment strength per session (0 = none, 1 = undiluted), by session; the last value
    /// repeats. Default 0.55, 0.75, 0.90: session 1 deliberately light, later darker (DOMAIN §4).
    pub session_shades: Vec<f64>,
    /// Crown whorl turns clockwise seen from above. Default true: about 84% of people
    /// (Schmidt 2008, DOMAIN §4).
    pub clockwise_whorl: bool,
    /// Distance of the whorl behind the line between the ear canals, mm (DOMAIN §4: about 60).
    pub whorl_behind_ears_mm: f64,
    /// Men's hairlines are drawn mature (higher, receded temples) from this age. Default 35
    /// (DOMAIN §4: mature hairlines sit about 1.5 cm higher). Never for women (DOMAIN §9).
    pub mature_from_age: u32,
    /// Distance along the skin from the mid-frontal point to each frontotemporal point, mm.
    /// Default 80: Garg's 8-8-8 (DOMAIN §4, §9).
    pub frontotemporal_from_mid_frontal_mm: f64,
    /// A woman's mid-frontal point above the glabella (her forehead height), mm, when the
    /// design does not set it. Default 63: measured female forehead heights 6.2–6.4 cm (DOMAIN §4, §9).
    pub female_mid_frontal_height_mm: f64,
    /// Amplitude of the irregular lower edge drawn where no fringe remains (alopecia totalis and
    /// universalis), mm: never a straight line across the nape. Default 4 (DOMAIN §4: a natural
    /// edge is irregular; Follicle default).
    pub nape_irregularity_mm: f64,
    /// Typical wavelength of that edge, mm. Default 30 (Follicle default).
    pub nape_wave_length_mm: f64,
    /// Least gap between the edges of two dots of one follicular unit, mm: the dots of a unit
    /// are spaced at least one needle diameter plus this apart, so they never overlap. Default
    /// 0.05 (DOMAIN §4: healed dots 100–150 µm, fresh up to 250 µm; Follicle default).
    pub unit_dot_margin_mm: f64,
    /// How far the hair direction near the whorl turns away from straight-outwards, degrees.
    /// Default 40; it fades to 0 with distance (see `whorl_spiral_decay_mm`).
    pub whorl_spiral_deg: f64,
    /// Distance over which the whorl's swirl fades, mm. Default 40.
    pub whorl_spiral_decay_mm: f64,
}

impl Default for PatternSettings {
    fn default() -> Self {
        PatternSettings {
            fu_mix_percent: [28.0, 53.0, 17.0, 1.0],
            unit_dot_spacing_mm: 0.35,
            soft: HairlineStyleSettings::soft(),
            broken: HairlineStyleSettings::broken(),
            sharp: HairlineStyleSettings::sharp(),
            mature_raise_mm: 15.0,
            temple_recession_juvenile_mm: 6.0,
            temple_recession_mature_mm: 15.0,
            temple_recession_female_mm: 2.0,
            blend_width_mm: 10.0,
            blend_edge_fraction: 0.5,
            dots_per_hour: 4500.0,
            session_shades: vec![0.55, 0.75, 0.90],
            clockwise_whorl: true,
            whorl_behind_ears_mm: 60.0,
            mature_from_age: 35,
            frontotemporal_from_mid_frontal_mm: 80.0,
            female_mid_frontal_height_mm: 63.0,
            nape_irregularity_mm: 4.0,
            nape_wave_length_mm: 30.0,
            unit_dot_margin_mm: 0.05,
            whorl_spiral_deg: 40.0,
            whorl_spiral_decay_mm: 40.0,
        }
    }
}

impl PatternSettings {
    /// Checks every field; the error names the first one out of range.
    pub fn validate(&self) -> Result<(), PatternError> {
        for (i, &p) in self.fu_mix_percent.iter().enumerate() {
            check_range(&format!("pattern.fu_mix_percent[{i}]"), p, 0.0, 100.0, "0–100")?;
        }
        if self.fu_mix_percent.iter().sum::<f64>() <= 0.0 {
            return Err(PatternError::range(
                "pattern.fu_mix_percent",
                format!("{:?}", self.fu_mix_percent),
                "at least one share above 0",
            ));
        }
        check_range(
            "pattern.unit_dot_spacing_mm",
            self.unit_dot_spacing_mm,
            0.1,
            1.0,
            "0.1–1 mm",
        )?;
        self.soft.validate("pattern.soft")?;
        self.broken.validate("pattern.broken")?;
        self.sharp.validate("pattern.sharp")?;
        check_range(
            "pattern.mature_raise_mm",
            self.mature_raise_mm,
            0.0,
            40.0,
            "0–40 mm",
        )?;
        check_range(
            "pattern.temple_recession_juvenile_mm",
            self.temple_recession_juvenile_mm,
            0.0,
            40.0,
            "0–40 mm",
        )?;
        check_range(
            "pattern.temple_recession_mature_mm",
            self.temple_recession_mature_mm,
            0.0,
            40.0,
            "0–40 mm",
        )?;
        check_range(
            "pattern.temple_recession_female_mm",
            self.temple_recession_female_mm,
            0.0,
            40.0,
            "0–40 mm",
        )?;
        check_range(
            "pattern.blend_width_mm",
            self.blend_width_mm,
            0.0,
            40.0,
            "0–40 mm",
        )?;
        check_range(
            "pattern.blend_edge_fraction",
            self.blend_edge_fraction,
            0.05,
            1.0,
            "0.05–1",
        )?;
        check_range(
            "pattern.dots_per_hour",
            self.dots_per_hour,
            100.0,
            100_000.0,
            "100–100000",
        )?;
        if self.session_shades.is_empty() || self.session_shades.len() > 8 {
            return Err(PatternError::range(
                "pattern.session_shades",
                format!("{} values", self.session_shades.len()),
                "1–8 values",
            ));
        }
        for (i, &s) in self.session_shades.iter().enumerate() {
            check_range(&format!("pattern.session_shades[{i}]"), s, 0.0, 1.0, "0–1")?;
        }
        check_range(
            "pattern.whorl_behind_ears_mm",
            self.whorl_behind_ears_mm,
            0.0,
            120.0,
            "0–120 mm",
        )?;
        check_range(
            "pattern.frontotemporal_from_mid_frontal_mm",
            self.frontotemporal_from_mid_frontal_mm,
            40.0,
            120.0,
            "40–120 mm",
        )?;
        check_range(
            "pattern.female_mid_frontal_height_mm",
            self.female_mid_frontal_height_mm,
            50.0,
            100.0,
            "50–100 mm",
        )?;
        check_range(
            "pattern.nape_irregularity_mm",
            self.nape_irregularity_mm,
            0.0,
            15.0,
            "0–15 mm",
        )?;
        check_range(
            "pattern.nape_wave_length_mm",
            self.nape_wave_length_mm,
            5.0,
            200.0,
            "5–200 mm",
        )?;
        check_range(
            "pattern.unit_dot_margin_mm",
            self.unit_dot_margin_mm,
            0.0,
            0.5,
            "0–0.5 mm",
        )?;
        if self.mature_from_age > 120 {
            return Err(PatternError::range(
                "pattern.mature_from_age",
                self.mature_from_age,
                "0–120 years",
            ));
        }
        check_range(
            "pattern.whorl_spiral_deg",
            self.whorl_spiral_deg,
            0.0,
            90.0,
            "0–90°",
        )?;
        check_range(
            "pattern.whorl_spiral_decay_mm",
            self.whorl_spiral_decay_mm,
            1.0,
            200.0,
            "1–200 mm",
        )?;
        Ok(())
    }

    /// The FU mix as probabilities summing to 1.
    pub fn fu_probabilities(&self) -> [f64; 4] {
        let total: f64 = self.fu_mix_percent.iter().sum();
        let mut p = [0.0; 4];
        for (out, v) in p.iter_mut().zip(self.fu_mix_percent) {
            *out = if total > 0.0 { v / total } else { 0.25 };
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

    /// The pigment strength of a session (1-based).
    pub fn shade(&self, session: usize) -> f64 {
        let i = session
            .saturating_sub(1)
            .min(self.session_shades.len().saturating_sub(1));
        self.session_shades.get(i).copied().unwrap_or(1.0)
    }
}
