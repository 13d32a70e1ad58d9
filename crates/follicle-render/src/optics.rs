//! Skin and ink optics: what carbon pigment in the dermis does to the colour of skin.
//!
//! Light reflected by skin comes partly from the surface and epidermis (which the pigment,
//! sitting in the papillary dermis, does not touch) and partly from the dermis below (which
//! it does). Ink is absorbance, accumulated per pixel from every dot and turned into
//! transmittance once (Beer–Lambert), so dense areas darken smoothly and overlaps never
//! look pasted:
//!
//! ```text
//! out = skin · (f + (1 − f) · e^(−A · ink))
//! ```
//!
//! `f` is the share of reflectance that does not pass the ink layer: small on light skin,
//! large on dark skin, where melanin in the epidermis absorbs most light before it reaches
//! the ink — which is why contrast almost vanishes on type VI (DOMAIN §5). `A` is larger for
//! red than for blue: red light penetrates deeper and meets the carbon, while blue is
//! scattered back above it, so carbon under skin reads blue-grey, more so the deeper it sits.
//! The defaults reproduce DOMAIN §5's two-flux sample: light skin sRGB (213, 197, 173)
//! becomes about (137, 142, 148) over a healed dot of the reference mix.
//!
//! A dot's ink is its mix's carbon share relative to that reference ([`mix_strength`]), times
//! what the fading model leaves of it: a lighter mix renders lighter.

use crate::color::{Linear, ita_degrees, linear_to_lab};

/// Optical parameters: `[render.optics]` in the clinic settings file.
pub use follicle_core::settings::OpticsSettings;

/// The absorbance of a dot whose ink has this carbon share (1 − its water share; a pattern
/// dot's `shade`), relative to a dot of the reference mix (`reference_dilution`): Beer–Lambert,
/// absorbance in proportion to the pigment's concentration.
pub fn mix_strength(settings: &OpticsSettings, carbon_share: f64) -> f32 {
    // Validation keeps the reference at most 0.9 water, so this is at least 0.1 of carbon.
    let reference = f64::from(1.0 - settings.reference_dilution).max(f64::EPSILON);
    (carbon_share.clamp(0.0, 1.0) / reference) as f32
}

/// The optics for one skin colour and pigment depth, ready to composite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Optics {
    /// Effective absorbance per channel.
    pub absorbance: [f32; 3],
    /// Share of reflectance from above the ink.
    pub surface_share: f32,
    /// The relative change full redness round a fresh dot makes to the skin's linear R, G, B.
    pub fresh_redness: [f32; 3],
}

impl Optics {
    /// The optics for skin of this colour, ink at `depth_mm`, with `cooling` (0–1) of the slow
    /// blue-grey drift of old pigment (from the fading model) added.
    pub fn new(settings: &OpticsSettings, skin: Linear, depth_mm: f32, cooling: f32) -> Optics {
        let ita = ita_degrees(linear_to_lab(skin));
        // Melanin proxy: 0 at the lightest skin's ITA, 1 at the darkest's.
        let span = settings.ita_lightest_deg - settings.ita_darkest_deg;
        let melanin = ((settings.ita_lightest_deg - ita) / span).clamp(0.0, 1.0);
        let surface_share = settings.surface_share_light
            + (settings.surface_share_dark - settings.surface_share_light) * melanin;
        // Blue shift: spread of the channels around their mean, stronger when deeper and with age.
        let a = settings.absorbance;
        let mean = (a[0] + a[1] + a[2]) / 3.0;
        let depth = (depth_mm - settings.reference_depth_mm).clamp(-settings.shift_shallowest_mm, 2.0);
        let shift =
            (1.0 + settings.blue_shift_per_mm * depth + settings.cooling_shift * cooling.clamp(0.0, 1.0))
                .max(0.0);
        let absorbance = a.map(|c| (mean + (c - mean) * shift).max(0.0));
        Optics {
            absorbance,
            surface_share,
            fresh_redness: settings.fresh_redness,
        }
    }

    /// The colour of `skin` under `ink` (accumulated absorbance units; 1 ≈ a healed dot's centre).
    #[inline]
    pub fn composite(&self, skin: Linear, ink: f32) -> Linear {
        let f = self.surface_share;
        std::array::from_fn(|c| skin[c] * (f + (1.0 - f) * (-self.absorbance[c] * ink).exp()))
    }

    /// A table of the per-channel factor `f + (1 − f)·e^(−A·ink)` for ink in [0, `max_ink`].
    pub fn table(&self, max_ink: f32, steps: usize) -> InkTable {
        let steps = steps.max(2);
        let f = self.surface_share;
        let factors = (0..=steps)
            .map(|i| {
                let ink = max_ink * i as f32 / steps as f32;
                std::array::from_fn(|c| f + (1.0 - f) * (-self.absorbance[c] * ink).exp())
            })
            .collect();
        InkTable {
            factors,
            scale: steps as f32 / max_ink,
            max: steps,
            fresh_redness: self.fresh_redness,
        }
    }
}

/// Precomputed transmittance factors, so compositing a pixel costs a lookup, not three `exp`s.
#[derive(Debug, Clone)]
pub struct InkTable {
    factors: Vec<[f32; 3]>,
    scale: f32,
    max: usize,
    /// The optics' `fresh_redness`, for the pixels that composite with this table.
    pub(crate) fresh_redness: [f32; 3],
}

impl InkTable {
    /// The factor per channel for this much ink.
    #[inline]
    pub fn factor(&self, ink: f32) -> [f32; 3] {
        let i = (ink * self.scale + 0.5) as usize;
        self.factors[i.min(self.max)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::color::{linear_to_srgb, srgb_to_linear};

    #[test]
    fn reproduces_the_two_flux_sample() {
        let skin = srgb_to_linear([213, 197, 173]);
        let optics = Optics::new(&OpticsSettings::default(), skin, 0.5, 0.0);
        let out = linear_to_srgb(optics.composite(skin, 1.0));
        for (got, want) in out.iter().zip([137u8, 142, 148]) {
            assert!(
                (i32::from(*got) - i32::from(want)).abs() <= 6,
                "{out:?} vs (137, 142, 148)"
            );
        }
    }

    #[test]
    fn table_matches_exact() {
        let skin = srgb_to_linear([180, 140, 110]);
        let optics = Optics::new(&OpticsSettings::default(), skin, 0.6, 0.2);
        let table = optics.table(8.0, 2048);
        for ink in [0.0f32, 0.3, 1.0, 2.5, 7.9] {
            let exact = optics.composite(skin, ink);
            let f = table.factor(ink);
            for c in 0..3 {
                assert!((exact[c] - skin[c] * f[c]).abs() < 2e-3, "{ink}");
            }
        }
    }
}
