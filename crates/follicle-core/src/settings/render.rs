//! The renderer's figures: the `[render]` table of the settings file.
//!
//! Healing loss and needle diameters are the planner's (`[density]`, `[needles]`); the
//! fading over years is `[fading]`. This table holds only what the renderer alone uses.

use serde::{Deserialize, Serialize};

use super::keys::{PerFitzpatrick, PerHairColour};
use super::{Settings, fraction, within_limit, within_limit_as};
use crate::error::InputResult;
use crate::profile::Fitzpatrick;

/// How previews are drawn (`[render]`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderSettings {
    /// Skin and ink optics.
    pub optics: OpticsSettings,
    /// What a healed impression looks like: outline, size spread, spread of the ink.
    pub healed: HealedSettings,
    /// The pattern on the client's photo: lighting, shine, the fringe.
    pub photo: PhotoSettings,
    /// Typical skin colour (sRGB) of each Fitzpatrick type, used when no photo or measured
    /// colour is given. Chosen to fall in the ITA classes very light, light, intermediate, tan,
    /// brown and dark (Chardon et al.; DOMAIN §5) in that order. Follicle estimate.
    pub skin_by_fitzpatrick: PerFitzpatrick<[u8; 3]>,
    /// Diameter of a healed dot *as seen*, as a share of the needle diameter. DOMAIN §4 gives a
    /// pigment deposit of 100–150 µm; skin spreads the light around it (subsurface scattering),
    /// so the visible spot is wider and softer: close-up photos of healed SMP show soft dots of
    /// 0.5–1 mm. 3.5 × a 0.20 mm needle = a 0.7 mm spot, calibrated so that a full-coverage
    /// pattern drawn with the plan's own mixes reads as light as the buzz-cut fringe beside it,
    /// as practitioners aim for (ΔL* under 1.2 on types I–IV; the renderer's seam test).
    pub healed_dot_scale: f32,
    /// Fresh dot diameter as a share of the healed one (DOMAIN §4: up to 250 µm fresh).
    pub fresh_dot_scale: f32,
    /// Pigment depth, mm (DOMAIN §4: upper to mid papillary dermis; clinics quote 0.25–2 mm).
    pub depth_mm: f32,
    /// Existing hair drawn as stubble: visible length of a buzz-cut hair, mm — the short stub
    /// plus the shaft seen through the skin, which is what makes a shaved head look shadowed
    /// (Follicle estimate).
    pub stubble_length_mm: f32,
    /// Width of a hair, mm (DOMAIN §4 gives hair counts; shafts are 0.05–0.1 mm).
    pub stubble_width_mm: f32,
    /// Hairs per cm² of full natural hair (DOMAIN §4: 148–230 hairs/cm² by ancestry; the default
    /// is a middle value).
    pub natural_hairs_per_cm2: f32,
    /// Background outside the head, sRGB.
    pub background: [u8; 3],
    /// Typical colour (sRGB) of short hair of each natural colour, for stubble. Follicle estimate.
    pub hair_srgb: PerHairColour<[u8; 3]>,
    /// The colour (sRGB) grey hair moves towards as the grey share grows. Follicle estimate.
    pub grey_hair_srgb: [u8; 3],
    /// Share of natural hair density left inside the treated zones of a density treatment
    /// (full coverage draws none): thinning hair, about half of full density (DOMAIN §4:
    /// about 50% of natural density looks full). Follicle estimate.
    pub hair_left_among_density: f32,
    /// Share of natural hair density drawn in the blend band at the edge of treated zones.
    /// Follicle estimate.
    pub hair_in_blend: f32,
    /// "Healed" previews show each session's dots this many weeks after it (DOMAIN §1: the
    /// aftercare restrictions last about 28–30 days, by when the skin has healed).
    pub healed_after_weeks: f32,
    /// Ink strength of a fresh dot relative to a healed one (fresh pigment has not yet shed).
    /// Follicle estimate.
    pub fresh_strength: f32,
    /// σ of the Gaussian halo of redness round a fresh dot, mm. Follicle estimate.
    pub fresh_halo_sigma_mm: f32,
    /// Strength of that halo. Follicle estimate.
    pub fresh_halo_strength: f32,
    /// The printed 1:1 stencil (`[render.stencil]`).
    pub stencil: StencilSettings,
}

/// The printed 1:1 stencil of hairline, zones and each session's dots (`[render.stencil]`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StencilSettings {
    /// Paper width and height, mm (ISO 216 A4 landscape: 297 × 210).
    pub page_mm: [f32; 2],
    /// Blank border on every side, mm: office printers leave 3–6 mm unprinted.
    pub margin_mm: f32,
    /// Width of the hairline and zone outlines, mm: a fine felt-tip's line, to trace.
    pub line_width_mm: f32,
    /// Length of the scale bar printed on every page to check the print is 1:1, mm.
    pub scale_bar_mm: f32,
}

/// Optical parameters (`[render.optics]`); see the renderer's `optics` module.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpticsSettings {
    /// Absorbance of one healed dot's ink at its centre, per linear channel (R, G, B), at the
    /// reference depth. Calibrated to DOMAIN §5's sample (213,197,173) → (137,142,148).
    pub absorbance: [f32; 3],
    /// Share of reflectance from above the ink on the lightest skin (ITA ≥ 60°). Follicle estimate.
    pub surface_share_light: f32,
    /// Share of reflectance from above the ink on the darkest skin (ITA ≤ −50°). Follicle estimate.
    pub surface_share_dark: f32,
    /// ITA (degrees) at and above which skin counts as the lightest (`surface_share_light`):
    /// the "very light" ITA class starts at 55° (DOMAIN §5).
    pub ita_lightest_deg: f32,
    /// ITA (degrees) at and below which skin counts as the darkest (`surface_share_dark`):
    /// the "dark" ITA class lies below −30° (DOMAIN §5).
    pub ita_darkest_deg: f32,
    /// Depth of the pigment, mm, at which `absorbance` applies (DOMAIN §4: upper to mid papillary dermis).
    pub reference_depth_mm: f32,
    /// How much the blue-grey shift grows per mm deeper than the reference. Follicle estimate.
    pub blue_shift_per_mm: f32,
    /// Water share of the ink mix whose healed dot `absorbance` describes (the plan's
    /// "dilution"). A dot of another mix absorbs in proportion to the carbon it carries
    /// (Beer–Lambert), `(1 − w) / (1 − reference_dilution)` of the reference's absorbance.
    pub reference_dilution: f32,
    /// The blue-grey shift stops falling this far above the reference depth, mm. Follicle estimate.
    pub shift_shallowest_mm: f32,
    /// How much the full drift of old pigment adds to the blue shift, as a share of the
    /// reference spread of the channels. Follicle estimate.
    pub cooling_shift: f32,
    /// The relative change full redness round a fresh dot makes to the skin's linear R, G and B
    /// (red up, green and blue down). Follicle estimate.
    pub fresh_redness: [f32; 3],
}

/// What a healed impression looks like (`[render.healed]`): no two healed dots are the same
/// round blob. Each dot's size is drawn from a spread around its planned size, and its ink is
/// shared between a main spot and up to `lobes` smaller lobes offset from it, which gives the
/// irregular outline close-up photos of healed SMP show. Drawn per dot from a hash of its
/// index: the same pattern always heals the same way.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealedSettings {
    /// Spread of healed dot diameters: σ of the natural logarithm of a dot's diameter.
    pub size_spread: f32,
    /// Most lobes an impression has besides its main spot (0: round dots).
    pub lobes: u8,
    /// Distance of a lobe from the dot's centre, as a share of the dot's diameter.
    pub lobe_offset: f32,
    /// Share of the dot's ink that its lobes hold together.
    pub lobe_share: f32,
    /// Diameter of a lobe as a share of the dot's.
    pub lobe_size: f32,
    /// Extra spread of the healed ink, mm: σ added (in quadrature) to every dot's, for the
    /// light the dermis scatters round the pigment.
    pub scatter_mm: f32,
}

/// The pattern on the client's photo (`[render.photo]`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotoSettings {
    /// Radius, mm on the head, of the blur of the photo's luminance that estimates its
    /// illumination (shading over the curve of the head): wider than a dot, narrower than the
    /// head's curvature.
    pub illumination_radius_mm: f32,
    /// A pixel brighter than its illumination by more than this share has the excess counted
    /// as shine: light reflected at the surface, which the ink below does not darken.
    pub shine_threshold: f32,
    /// Width of the band outside the treated outline, mm on the head, where the photo's
    /// fringe (existing hair) is sampled.
    pub fringe_band_mm: f32,
    /// A pixel counts as hair when its luminance is below this share of the scalp skin's
    /// (sampling the fringe, keeping hair the pattern blends into).
    pub hair_luminance_share: f32,
}

impl Default for RenderSettings {
    /// The `[render]` table of the default settings file.
    fn default() -> Self {
        Settings::defaults().render
    }
}

impl Default for OpticsSettings {
    /// The `[render.optics]` table of the default settings file.
    fn default() -> Self {
        Settings::defaults().render.optics
    }
}

impl RenderSettings {
    /// The typical skin colour of a Fitzpatrick type.
    pub fn skin_of(&self, f: Fitzpatrick) -> [u8; 3] {
        *self.skin_by_fitzpatrick.get(f)
    }

    /// Checks every field; the error names the first one out of range (`render.…`).
    pub fn validate(&self) -> InputResult<()> {
        let o = &self.optics;
        for (i, &a) in o.absorbance.iter().enumerate() {
            fraction(&format!("render.optics.absorbance[{i}]"), f64::from(a), 0.0, 10.0)?;
        }
        fraction(
            "render.optics.surface_share_light",
            f64::from(o.surface_share_light),
            0.0,
            1.0,
        )?;
        fraction(
            "render.optics.surface_share_dark",
            f64::from(o.surface_share_dark),
            0.0,
            1.0,
        )?;
        fraction(
            "render.optics.ita_lightest_deg",
            f64::from(o.ita_lightest_deg),
            0.0,
            90.0,
        )?;
        fraction(
            "render.optics.ita_darkest_deg",
            f64::from(o.ita_darkest_deg),
            -90.0,
            0.0,
        )?;
        fraction(
            "render.optics.reference_depth_mm",
            f64::from(o.reference_depth_mm),
            0.05,
            3.0,
        )?;
        fraction(
            "render.optics.blue_shift_per_mm",
            f64::from(o.blue_shift_per_mm),
            0.0,
            5.0,
        )?;
        fraction(
            "render.optics.reference_dilution",
            f64::from(o.reference_dilution),
            0.0,
            0.9,
        )?;
        fraction(
            "render.healed_dot_scale",
            f64::from(self.healed_dot_scale),
            0.5,
            10.0,
        )?;
        fraction(
            "render.fresh_dot_scale",
            f64::from(self.fresh_dot_scale),
            0.5,
            3.0,
        )?;
        fraction("render.depth_mm", f64::from(self.depth_mm), 0.05, 3.0)?;
        fraction(
            "render.stubble_length_mm",
            f64::from(self.stubble_length_mm),
            0.0,
            10.0,
        )?;
        fraction(
            "render.stubble_width_mm",
            f64::from(self.stubble_width_mm),
            0.01,
            0.5,
        )?;
        fraction(
            "render.natural_hairs_per_cm2",
            f64::from(self.natural_hairs_per_cm2),
            1.0,
            500.0,
        )?;
        fraction(
            "render.hair_left_among_density",
            f64::from(self.hair_left_among_density),
            0.0,
            1.0,
        )?;
        fraction("render.hair_in_blend", f64::from(self.hair_in_blend), 0.0, 1.0)?;
        for (path, v) in [
            ("render.healed_after_weeks", self.healed_after_weeks),
            ("render.fresh_strength", self.fresh_strength),
            ("render.fresh_halo_sigma_mm", self.fresh_halo_sigma_mm),
            ("render.fresh_halo_strength", self.fresh_halo_strength),
            ("render.optics.shift_shallowest_mm", o.shift_shallowest_mm),
            ("render.optics.cooling_shift", o.cooling_shift),
            ("render.stencil.margin_mm", self.stencil.margin_mm),
            ("render.stencil.line_width_mm", self.stencil.line_width_mm),
            ("render.stencil.scale_bar_mm", self.stencil.scale_bar_mm),
        ] {
            within_limit(path, typed(v))?;
        }
        let st = &self.stencil;
        for (i, &v) in st.page_mm.iter().enumerate() {
            within_limit_as(
                &format!("render.stencil.page_mm[{i}]"),
                "render.stencil.page_mm",
                typed(v),
            )?;
            // The scale bar and a drawing area must fit inside the margins.
            let room = v - 2.0 * st.margin_mm;
            if room < st.scale_bar_mm {
                return Err(crate::error::InputError::field(
                    format!("render.stencil.page_mm[{i}]"),
                    format!(
                        "{v} mm less two margins of {} mm leaves {room} mm, less than the {} mm scale bar",
                        st.margin_mm, st.scale_bar_mm
                    ),
                ));
            }
        }
        let h = &self.healed;
        let p = &self.photo;
        for (path, v) in [
            ("render.healed.size_spread", h.size_spread),
            ("render.healed.lobe_offset", h.lobe_offset),
            ("render.healed.lobe_share", h.lobe_share),
            ("render.healed.lobe_size", h.lobe_size),
            ("render.healed.scatter_mm", h.scatter_mm),
            ("render.photo.illumination_radius_mm", p.illumination_radius_mm),
            ("render.photo.shine_threshold", p.shine_threshold),
            ("render.photo.fringe_band_mm", p.fringe_band_mm),
            ("render.photo.hair_luminance_share", p.hair_luminance_share),
        ] {
            within_limit(path, typed(v))?;
        }
        within_limit("render.healed.lobes", f64::from(h.lobes))?;
        for (i, &v) in o.fresh_redness.iter().enumerate() {
            within_limit_as(
                &format!("render.optics.fresh_redness[{i}]"),
                "render.optics.fresh_redness",
                typed(v),
            )?;
        }
        Ok(())
    }
}

/// An `f32` setting as the number the file gave (its shortest decimal form), so a message
/// quotes `-0.9`, not `-0.8999999761581421`.
fn typed(v: f32) -> f64 {
    v.to_string().parse().unwrap_or(f64::from(v))
}
