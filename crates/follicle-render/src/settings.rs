//! Renderer settings: every figure with a documented default and its source.

use follicle_core::profile::Fitzpatrick;
use serde::{Deserialize, Serialize};

use crate::optics::OpticsSettings;

/// How previews are drawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RenderSettings {
    /// Skin and ink optics.
    pub optics: OpticsSettings,
    /// Typical skin colour (sRGB) of each Fitzpatrick type I–VI, used when no photo or measured
    /// colour is given. Chosen to fall in the ITA classes very light, light, intermediate, tan,
    /// brown and dark (Chardon et al.; DOMAIN §5) in that order. Follicle estimate.
    pub skin_by_fitzpatrick: [[u8; 3]; 6],
    /// Diameter of a healed dot *as seen*, as a share of the needle diameter. DOMAIN §4 gives a
    /// pigment deposit of 100–150 µm; skin spreads the light around it (subsurface scattering),
    /// so the visible spot is wider and softer: close-up photos of healed SMP show soft dots of
    /// 0.5–1 mm. 3 × a 0.20 mm needle = a 0.6 mm spot, which makes a full-coverage pattern at
    /// 80 dots/cm² read about as dark as the buzz-cut fringe beside it, as practitioners aim for.
    /// Follicle estimate.
    pub healed_dot_scale: f32,
    /// Fresh dot diameter as a share of the healed one (DOMAIN §4: up to 250 µm fresh).
    pub fresh_dot_scale: f32,
    /// Pigment depth, mm (DOMAIN §4: upper to mid papillary dermis; clinics quote 0.25–2 mm).
    pub depth_mm: f32,
    /// Share of a session's new impressions lost in healing (DOMAIN §1: 5–20%); the planner's
    /// `density.healing_loss_fraction` is passed here.
    pub healing_loss_fraction: f64,
    /// Existing hair drawn as stubble: visible length of a buzz-cut hair, mm — the short stub
    /// plus the shaft seen through the skin, which is what makes a shaved head look shadowed
    /// (Follicle estimate).
    pub stubble_length_mm: f32,
    /// Width of a hair, mm (DOMAIN §4 gives hair counts; shafts are 0.05–0.1 mm).
    pub stubble_width_mm: f32,
    /// Hairs per cm² of full natural hair (DOMAIN §4: 148–230 hairs/cm² by ancestry; the default
    /// is a middle value).
    pub natural_hairs_per_cm2: f32,
    /// Background outside the head.
    pub background: [u8; 3],
}

impl Default for RenderSettings {
    fn default() -> Self {
        RenderSettings {
            optics: OpticsSettings::default(),
            skin_by_fitzpatrick: [
                [243, 214, 194],
                [226, 190, 164],
                [204, 164, 132],
                [174, 128, 96],
                [128, 88, 63],
                [82, 56, 43],
            ],
            healed_dot_scale: 3.0,
            fresh_dot_scale: 1.3,
            depth_mm: 0.6,
            healing_loss_fraction: 0.12,
            stubble_length_mm: 1.5,
            stubble_width_mm: 0.07,
            natural_hairs_per_cm2: 180.0,
            background: [236, 238, 240],
        }
    }
}

impl RenderSettings {
    /// The typical skin colour of a Fitzpatrick type.
    pub fn skin_of(&self, f: Fitzpatrick) -> [u8; 3] {
        self.skin_by_fitzpatrick[f as usize]
    }
}
