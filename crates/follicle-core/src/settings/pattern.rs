//! The pattern engine's figures: the `[pattern]` table of the settings file.
//!
//! Densities, needles, session shares and dots per hour are the planner's (`[density]`,
//! `[needles]`, `[sessions]`); this table holds only what the pattern engine alone uses.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Settings, fraction, stage_names, within_limit, within_limit_as};
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
    /// Mid-frontal height above the glabella by hairline position, mm (DOMAIN §4: 7–10 cm).
    pub mid_frontal_height_mm: MidFrontalHeights,
    /// The frontotemporal point stays at least this far in front of the sideburn, degrees of
    /// azimuth round the vertex.
    pub frontotemporal_sideburn_gap_deg: f64,
    /// Height of the temporal peak above the glabella plane, as a share of the head's height.
    pub temporal_peak_height_share: f64,
    /// Where the temple angle recedes deepest, as a share of the way from the temporal peak to
    /// the frontotemporal point.
    pub recession_position_share: f64,
    /// How much the line between the frontotemporal points bows forward of a straight chord, as
    /// a share of the difference of their radii.
    pub forehead_rounding_share: f64,
    /// Depth of the temple zones behind the hairline band, mm.
    pub temple_depth_mm: f64,
    /// How far the temple zones reach in front of the frontotemporal point, degrees of azimuth.
    pub temple_beyond_corner_deg: f64,
    /// With a hairline drawn from control points, the temples end this far either side of the
    /// midline, degrees of azimuth.
    pub temple_reach_drawn_deg: f64,
    /// An alopecia patch within this distance of the whorl counts as crown, mm.
    pub areata_crown_reach_mm: f64,
    /// An alopecia patch within this depth behind the hairline counts as frontal, mm.
    pub areata_frontal_depth_mm: f64,
    /// An alopecia patch beyond this share of the way from the vertex to the scalp's edge counts
    /// as sides and back.
    pub areata_sides_share: f64,
    /// Length along the skin of a FUT strip a design adds without its own figures, mm.
    pub fut_strip_length_mm: f64,
    /// Its height relative to the glabella plane, mm (negative: below it).
    pub fut_strip_height_mm: f64,
    /// Its width, mm.
    pub fut_strip_width_mm: f64,
    /// Number of FUE punches a design adds without its own figures.
    pub fue_punch_count: u32,
    /// Their diameter, mm.
    pub fue_punch_diameter_mm: f64,
    /// The margin treated round each, mm.
    pub fue_punch_margin_mm: f64,
    /// Azimuths (degrees, 0 = right ear, −90 = back) between which the default FUE donor area's
    /// upper edge runs.
    pub fue_donor_top_azimuth_deg: [f64; 2],
    /// Azimuths between which its lower edge runs.
    pub fue_donor_bottom_azimuth_deg: [f64; 2],
    /// Heights of its upper and lower edge as shares of the head's height relative to the
    /// glabella plane.
    pub fue_donor_height_share: [f64; 2],
    /// Azimuths (degrees, 270 = the back) between which the donor band of a client's FUE scars runs.
    pub donor_band_azimuth_deg: [f64; 2],
    /// The height that band rises from, relative to the glabella plane, mm.
    pub donor_band_bottom_mm: f64,
    /// Scar-site positions are shares of this share of the head's circumference / π.
    pub scar_site_reach_share: f64,
    /// Chart positions of the sites of injury and surgical scars.
    pub scar_sites: ScarSites,
    /// The head model's landmarks.
    pub landmarks: LandmarkSettings,
    /// The zones each hair-loss stage draws: by scale (`norwood`, `ludwig`, `savin`, `diffuse`,
    /// `alopecia_totalis`, `alopecia_universalis`), then stage (`III`, `I-2`, `all`).
    pub stages: BTreeMap<String, BTreeMap<String, StageZones>>,
}

/// Mid-frontal height above the glabella by hairline position, mm (`pattern.mid_frontal_height_mm`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MidFrontalHeights {
    /// Low, youthful (DOMAIN §4: 7 cm).
    pub aggressive: f64,
    /// DOMAIN §4: 8 cm.
    pub typical: f64,
    /// High, safe for progressing loss (DOMAIN §4: 10 cm).
    pub conservative: f64,
    /// Garg's 8-8-8 (DOMAIN §4: 8 cm).
    pub garg_888: f64,
}

/// Chart positions of scar sites, `[x, y]` as shares of the site reach (`pattern.scar_sites`);
/// left sites mirror the right ones.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct ScarSites {
    pub frontal: [f64; 2],
    pub mid_scalp: [f64; 2],
    pub crown: [f64; 2],
    /// The right temple.
    pub temple: [f64; 2],
    /// The right side.
    pub side: [f64; 2],
    /// The occiput (and the donor area).
    pub occipital: [f64; 2],
}

/// The head model's landmarks as proportions of its semi-axes (`[pattern.landmarks]`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LandmarkSettings {
    /// Half the distance between the outer eye corners of a man, mm, before scaling.
    pub canthus_half_width_male_mm: f64,
    /// The same for a woman.
    pub canthus_half_width_female_mm: f64,
    /// The half-breadth at which those widths apply unscaled, mm.
    pub canthus_reference_half_breadth_mm: f64,
    /// Least scale of the eye-corner width.
    pub canthus_scale_min: f64,
    /// Greatest scale of the eye-corner width.
    pub canthus_scale_max: f64,
    /// The outer eye corners sit this far below the glabella plane, mm.
    pub canthus_below_glabella_mm: f64,
    /// The ear canals sit this far below the glabella plane, mm …
    pub ear_canal_below_glabella_mm: f64,
    /// … but no lower than this share of the head's height.
    pub ear_canal_below_share: f64,
    /// The ear canals sit this share of the half-length behind the middle of the head.
    pub ear_canal_behind_share: f64,
    /// The nape end of the occipital fringe, below the glabella plane, as a share of the head's height.
    pub nape_below_share: f64,
    /// Azimuths of the points of the scalp's lower edge (sideburn, top of the ear, behind the
    /// ear, occiput), degrees, decreasing.
    pub lower_edge_azimuth_deg: [f64; 4],
    /// Their heights as shares of the head's height relative to the glabella plane.
    pub lower_edge_height_share: [f64; 4],
}

impl Default for LandmarkSettings {
    /// The `[pattern.landmarks]` table of the default settings file.
    fn default() -> Self {
        Settings::defaults().pattern.landmarks
    }
}

/// The zones one hair-loss stage draws (`pattern.stages.<scale>.<stage>`); a zone without a
/// figure is not drawn.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageZones {
    /// Depth of the frontal zone behind the hairline band, mm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontal_depth_mm: Option<f64>,
    /// Radius of the crown zone round the whorl, mm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crown_radius_mm: Option<f64>,
    /// Reach of the mid-scalp zone as a share of the way from the vertex to the scalp's edge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mid_scalp_share: Option<f64>,
    /// How far the mid-scalp zone stays behind the hairline band, mm.
    #[serde(default)]
    pub mid_scalp_rim_mm: f64,
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
        self.validate_shapes()
    }

    /// The head, hairline, zone and scar figures: each within its [`super::schema::LIMITS`] range.
    fn validate_shapes(&self) -> InputResult<()> {
        let h = &self.mid_frontal_height_mm;
        for (key, v) in [
            ("aggressive", h.aggressive),
            ("typical", h.typical),
            ("conservative", h.conservative),
            ("garg_888", h.garg_888),
        ] {
            within_limit(&format!("pattern.mid_frontal_height_mm.{key}"), v)?;
        }
        let l = &self.landmarks;
        for (key, v) in [
            (
                "frontotemporal_sideburn_gap_deg",
                self.frontotemporal_sideburn_gap_deg,
            ),
            ("temporal_peak_height_share", self.temporal_peak_height_share),
            ("recession_position_share", self.recession_position_share),
            ("forehead_rounding_share", self.forehead_rounding_share),
            ("temple_depth_mm", self.temple_depth_mm),
            ("temple_beyond_corner_deg", self.temple_beyond_corner_deg),
            ("temple_reach_drawn_deg", self.temple_reach_drawn_deg),
            ("areata_crown_reach_mm", self.areata_crown_reach_mm),
            ("areata_frontal_depth_mm", self.areata_frontal_depth_mm),
            ("areata_sides_share", self.areata_sides_share),
            ("fut_strip_length_mm", self.fut_strip_length_mm),
            ("fut_strip_height_mm", self.fut_strip_height_mm),
            ("fut_strip_width_mm", self.fut_strip_width_mm),
            ("fue_punch_count", f64::from(self.fue_punch_count)),
            ("fue_punch_diameter_mm", self.fue_punch_diameter_mm),
            ("fue_punch_margin_mm", self.fue_punch_margin_mm),
            ("donor_band_bottom_mm", self.donor_band_bottom_mm),
            ("scar_site_reach_share", self.scar_site_reach_share),
            (
                "landmarks.canthus_half_width_male_mm",
                l.canthus_half_width_male_mm,
            ),
            (
                "landmarks.canthus_half_width_female_mm",
                l.canthus_half_width_female_mm,
            ),
            (
                "landmarks.canthus_reference_half_breadth_mm",
                l.canthus_reference_half_breadth_mm,
            ),
            ("landmarks.canthus_scale_min", l.canthus_scale_min),
            ("landmarks.canthus_scale_max", l.canthus_scale_max),
            ("landmarks.canthus_below_glabella_mm", l.canthus_below_glabella_mm),
            (
                "landmarks.ear_canal_below_glabella_mm",
                l.ear_canal_below_glabella_mm,
            ),
            ("landmarks.ear_canal_below_share", l.ear_canal_below_share),
            ("landmarks.ear_canal_behind_share", l.ear_canal_behind_share),
            ("landmarks.nape_below_share", l.nape_below_share),
        ] {
            within_limit(&format!("pattern.{key}"), v)?;
        }
        let s = &self.scar_sites;
        for (key, xy) in [
            ("frontal", s.frontal),
            ("mid_scalp", s.mid_scalp),
            ("crown", s.crown),
            ("temple", s.temple),
            ("side", s.side),
            ("occipital", s.occipital),
        ] {
            for (i, v) in xy.into_iter().enumerate() {
                let path = format!("pattern.scar_sites.{key}");
                within_limit_as(&format!("{path}[{i}]"), &path, v)?;
            }
        }
        let ranges: [(&str, &[f64], bool); 6] = [
            ("fue_donor_top_azimuth_deg", &self.fue_donor_top_azimuth_deg, true),
            (
                "fue_donor_bottom_azimuth_deg",
                &self.fue_donor_bottom_azimuth_deg,
                true,
            ),
            ("fue_donor_height_share", &self.fue_donor_height_share, false),
            ("donor_band_azimuth_deg", &self.donor_band_azimuth_deg, true),
            (
                "landmarks.lower_edge_azimuth_deg",
                &l.lower_edge_azimuth_deg,
                false,
            ),
            (
                "landmarks.lower_edge_height_share",
                &l.lower_edge_height_share,
                false,
            ),
        ];
        for (key, values, increasing) in ranges {
            let path = format!("pattern.{key}");
            for (i, &v) in values.iter().enumerate() {
                within_limit_as(&format!("{path}[{i}]"), &path, v)?;
            }
            if increasing && values.windows(2).any(|w| w[1] <= w[0]) {
                return Err(InputError::field(
                    path,
                    format!("expected a range from the lower to the higher azimuth, got {values:?}"),
                ));
            }
        }
        if self.fue_donor_height_share[1] >= self.fue_donor_height_share[0] {
            return Err(InputError::field(
                "pattern.fue_donor_height_share",
                format!(
                    "expected the upper edge above the lower, got {:?}",
                    self.fue_donor_height_share
                ),
            ));
        }
        if l.lower_edge_azimuth_deg.windows(2).any(|w| w[1] >= w[0]) {
            return Err(InputError::field(
                "pattern.landmarks.lower_edge_azimuth_deg",
                format!(
                    "expected azimuths falling from the sideburn round to the back, got {:?}",
                    l.lower_edge_azimuth_deg
                ),
            ));
        }
        for (scale, stages) in &self.stages {
            let Some(known) = stage_names(scale) else {
                return Err(InputError::field(
                    format!("pattern.stages.{scale}"),
                    format!(
                        "expected a scale (norwood, ludwig, savin, diffuse, alopecia_totalis, alopecia_universalis), got {scale:?}"
                    ),
                ));
            };
            for (stage, zones) in stages {
                let at = format!("pattern.stages.{scale}.{stage}");
                if !known.contains(&stage.as_str()) {
                    return Err(InputError::field(
                        at,
                        format!("expected one of {}, got {stage:?}", known.join(", ")),
                    ));
                }
                let figures = [
                    ("frontal_depth_mm", zones.frontal_depth_mm),
                    ("crown_radius_mm", zones.crown_radius_mm),
                    ("mid_scalp_share", zones.mid_scalp_share),
                    ("mid_scalp_rim_mm", Some(zones.mid_scalp_rim_mm)),
                ];
                for (key, v) in figures.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))) {
                    within_limit(&format!("{at}.{key}"), v)?;
                }
            }
        }
        Ok(())
    }

    /// The zones a stage draws (`scale`, `stage` as [`PatternSettings::stages`] keys them);
    /// none for a stage the table does not name.
    pub fn stage_zones(&self, scale: &str, stage: &str) -> StageZones {
        self.stages
            .get(scale)
            .and_then(|s| s.get(stage))
            .copied()
            .unwrap_or_default()
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
