//! Follicle's renderer: what the client will see — the healed SMP pattern on their skin,
//! after each session and years later, on a head model and on their own photo.
//!
//! The pipeline: dots (from `follicle-pattern`, each carrying its session's planned ink mix)
//! → per-dot look at a [`Moment`] (from the planner's fading model; after a touch-up, the
//! touch-up's mix) → Gaussian ink splats in an absorbance buffer on the scalp chart
//! ([`splat`]; a dot's ink is its mix's carbon relative to the reference mix,
//! [`optics::mix_strength`]) → one Beer–Lambert composite over the skin per pixel ([`optics`]) →
//! the chart, a head view ([`View`]) or the client's photo ([`photo`]) → PNG, alone or in
//! sheets ([`sheet`]: the timeline strip, two designs side by side).
//!
//! ```
//! use follicle_render::{Fading, Moment, RenderSettings, Scene, Skin, View};
//! use follicle_core::{fading::FadingModel, profile::Fitzpatrick, Settings};
//! use follicle_pattern::{PatternRequest, generate};
//!
//! let pattern = generate(&PatternRequest::default()).unwrap();
//! let fading = Settings::default().fading;
//! let model = FadingModel::typical(&fading);
//! let settings = RenderSettings::default();
//! let scene = Scene {
//!     pattern: &pattern,
//!     skin: Skin::Fitzpatrick { fitzpatrick: Fitzpatrick::II },
//!     hair: None,
//!     fading: Fading { normal: model, scar: model, healing_loss_fraction: Settings::default().density.healing_loss_fraction, touch_up_dilution: None },
//!     settings: &settings,
//! };
//! let img = scene.render(View::Chart, &Moment::Years { years: 5.0, touch_ups: vec![] }, 256, 256).unwrap();
//! assert_eq!(img.dimensions(), (256, 256));
//! ```
#![deny(missing_docs)]

pub mod client_sheet;
pub mod color;
pub mod error;
mod hair;
mod head;
pub mod impression;
pub mod look;
pub mod mesh;
pub mod moment;
pub mod optics;
pub mod photo;
mod raster;
pub mod scene;
pub mod settings;
pub mod sheet;
pub mod splat;
pub mod stencil;

pub use error::RenderError;
pub use look::Look;
pub use moment::{Fading, Moment};
pub use scene::{Hair, Scene, Skin, View};
pub use settings::RenderSettings;

/// Encodes an image as PNG (deterministic: the same pixels give the same bytes).
pub fn to_png(img: &image::RgbImage) -> Result<Vec<u8>, RenderError> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| RenderError::Encode(e.to_string()))?;
    Ok(out.into_inner())
}
