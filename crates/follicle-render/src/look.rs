//! How a design looks on a particular client: their skin, their remaining hair and how their
//! pigment fades — everything a [`Scene`](crate::Scene) needs besides the pattern.
//!
//! The command line and the clinic server both build previews from a [`Look`], so a preview
//! of the same client and design is the same image wherever it is drawn.

use follicle_core::Settings;
use follicle_core::fading::FadingModel;
use follicle_core::profile::{Aim, ClientProfile, Fitzpatrick, HairColour, SkinType, SunExposure};

use crate::{Fading, Hair, RenderSettings, Skin};

/// Skin, hair and fading for a preview.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Look {
    /// The skin the dots sit in.
    pub skin: Skin,
    /// Stubble to draw, if any.
    pub hair: Option<Hair>,
    /// How the pigment fades in normal skin and in scars.
    pub fading: Fading,
    /// The clinic's `[render]` settings.
    pub render: RenderSettings,
}

impl Look {
    /// A client's look: their Fitzpatrick type, hair colour and grey, the hair left among the
    /// treated zones (half for a density treatment, none for full coverage) and fading for
    /// their sun, skin and swimming.
    pub fn for_client(client: &ClientProfile, settings: &Settings) -> Look {
        let among_treated = if client.aims.contains(&Aim::Density) {
            0.5
        } else {
            0.0
        };
        Look {
            skin: Skin::Fitzpatrick {
                fitzpatrick: client.fitzpatrick,
            },
            hair: Some(Hair {
                srgb: hair_srgb(client.hair_colour, client.grey_percent),
                among_treated,
                in_blend: 0.5,
            }),
            fading: Fading {
                normal: FadingModel::for_client(&settings.fading, client, false),
                scar: FadingModel::for_client(&settings.fading, client, true),
                healing_loss_fraction: settings.density.healing_loss_fraction,
            },
            render: settings.render,
        }
    }

    /// A typical client of the given skin type: moderate sun, normal skin, no swimming, no
    /// hair drawn. For designs that are not tied to a client profile.
    pub fn typical(fitzpatrick: Fitzpatrick, settings: &Settings) -> Look {
        let model = |in_scar| {
            FadingModel::for_conditions(
                &settings.fading,
                SunExposure::Moderate,
                SkinType::Normal,
                false,
                in_scar,
            )
        };
        Look {
            skin: Skin::Fitzpatrick { fitzpatrick },
            hair: None,
            fading: Fading {
                normal: model(false),
                scar: model(true),
                healing_loss_fraction: settings.density.healing_loss_fraction,
            },
            render: settings.render,
        }
    }

    /// The clinic's render settings this look was made with.
    pub fn render_settings(&self) -> RenderSettings {
        self.render
    }
}

/// A typical colour (sRGB) of short hair of this colour with this share of grey, for drawing
/// stubble.
pub fn hair_srgb(colour: HairColour, grey_percent: u32) -> [u8; 3] {
    let base: [u8; 3] = match colour {
        HairColour::Black => [28, 24, 22],
        HairColour::DarkBrown => [48, 36, 28],
        HairColour::Brown => [78, 56, 40],
        HairColour::LightBrown => [120, 90, 62],
        HairColour::Blonde => [185, 155, 108],
        HairColour::Red => [135, 66, 38],
        HairColour::Grey => [150, 150, 150],
        HairColour::White => [222, 222, 222],
    };
    let g = f32::from(grey_percent.min(100) as u8) / 100.0;
    std::array::from_fn(|c| (f32::from(base[c]) * (1.0 - g) + 160.0 * g).round() as u8)
}
