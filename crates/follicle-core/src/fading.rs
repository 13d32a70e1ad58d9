//! How SMP fades, as one model that serves both the touch-up forecast in a plan and the
//! rendered "in N years" preview (DOMAIN §5).
//!
//! Strength is the visible contrast of the dots relative to the fresh, healed result:
//!
//! ```text
//! strength(t) = (1 − early_loss · (1 − e^(−t / early_weeks))) · e^(−k · t)
//! ```
//!
//! with `t` in years since the last session. The early term is the pigment the skin sheds
//! in the first weeks of healing (5–20 % of impressions, DOMAIN §1); the slow term is the
//! immune system clearing pigment and the sun breaking it down over years. `k` is the
//! clinic's yearly rate times the client's factors (sun, skin type, swimming) and, in
//! scars, the scar factor (about 1.8×, DOMAIN §5). With the default settings it reproduces
//! Liu et al. 2025 (−11.5 % at six months, scars −18 %) and a touch-up after about 4 years.
//!
//! A touch-up at year `T` restores strength to `touch_up_restores` and the fading starts over.
//!
//! ```
//! use follicle_core::fading::FadingModel;
//! use follicle_core::settings::Settings;
//!
//! let settings = Settings::default();
//! let model = FadingModel::typical(&settings.fading);
//! let years = model.years_to_touch_up();
//! assert!((3.5..4.5).contains(&years), "{years}");
//! assert!(model.strength(5.0, &[]) < model.strength(1.0, &[]));
//! assert!(model.strength(5.0, &[4.0]) > model.strength(5.0, &[]));
//! ```

use serde::{Deserialize, Serialize};

use crate::profile::{ClientProfile, SkinType, SunExposure};
use crate::settings::FadingSettings;

/// The fading model for one client and one kind of skin (normal or scar).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FadingModel {
    /// Share of strength lost in the first weeks of healing.
    pub early_loss: f64,
    /// Time constant of the early loss, years.
    pub early_years: f64,
    /// Slow loss rate `k`, per year.
    pub rate_per_year: f64,
    /// Strength below which a touch-up is due.
    pub threshold: f64,
    /// Strength a touch-up restores.
    pub touch_up_restores: f64,
    /// Relative widening of dots per year.
    pub dot_spread_per_year: f64,
    /// Share of the blue-grey shift gained per year.
    pub hue_cooling_per_year: f64,
}

/// Upper bound for forecasts: past this many years, fading is not forecast.
pub const MAX_YEARS: f64 = 60.0;

impl FadingModel {
    /// A client with moderate sun, normal skin, no swimming.
    pub fn typical(s: &FadingSettings) -> FadingModel {
        FadingModel::with_factor(s, 1.0, 1.0)
    }

    /// The model for this client's skin; `in_scar` for scar tissue.
    pub fn for_client(s: &FadingSettings, client: &ClientProfile, in_scar: bool) -> FadingModel {
        FadingModel::for_conditions(s, client.sun_exposure, client.skin_type, client.swimming, in_scar)
    }

    /// The model for the given conditions.
    pub fn for_conditions(
        s: &FadingSettings,
        sun: SunExposure,
        skin: SkinType,
        swimming: bool,
        in_scar: bool,
    ) -> FadingModel {
        let sun_f = s.sun_exposure_factor[sun];
        let skin_f = s.skin_type_factor[skin];
        let swim_f = if swimming { s.swimming_factor } else { 1.0 };
        let scar_f = if in_scar { s.scar_factor } else { 1.0 };
        FadingModel::with_factor(s, sun_f * skin_f * swim_f * scar_f, scar_f)
    }

    fn with_factor(s: &FadingSettings, rate_factor: f64, early_factor: f64) -> FadingModel {
        FadingModel {
            early_loss: (s.early_loss * early_factor).min(s.early_loss_cap),
            early_years: s.early_weeks / 52.18,
            rate_per_year: s.contrast_loss_per_year * rate_factor,
            threshold: s.touch_up_threshold,
            touch_up_restores: s.touch_up_restores,
            dot_spread_per_year: s.dot_spread_per_year,
            hue_cooling_per_year: s.hue_cooling_per_year,
        }
    }

    /// Strength `years` after the last session with no touch-up.
    pub fn base_strength(&self, years: f64) -> f64 {
        let t = years.clamp(0.0, MAX_YEARS);
        (1.0 - self.early_loss * (1.0 - (-t / self.early_years).exp())) * (-self.rate_per_year * t).exp()
    }

    /// Strength `years` after the last session, with touch-ups at the given years (any order).
    pub fn strength(&self, years: f64, touch_ups: &[f64]) -> f64 {
        let t = years.clamp(0.0, MAX_YEARS);
        let last = touch_ups
            .iter()
            .copied()
            .filter(|&u| u.is_finite() && u >= 0.0 && u <= t)
            .fold(None, |a: Option<f64>, u| Some(a.map_or(u, |a| a.max(u))));
        match last {
            Some(u) => self.touch_up_restores * self.base_strength(t - u),
            None => self.base_strength(t),
        }
    }

    /// Relative dot diameter `years` later (1 = as healed), restarting at touch-ups.
    pub fn dot_scale(&self, years: f64, touch_ups: &[f64]) -> f64 {
        let t = years.clamp(0.0, MAX_YEARS);
        // Touch-ups put fresh pigment in, but old dots keep the spread they gained.
        let since = touch_ups
            .iter()
            .copied()
            .filter(|&u| u.is_finite() && u >= 0.0 && u <= t)
            .fold(t, |a, u| a.min(t - u));
        1.0 + self.dot_spread_per_year * (t - since * 0.5)
    }

    /// Share (0–1) of the full blue-grey shift of old carbon pigment reached `years` later.
    pub fn hue_cooling(&self, years: f64) -> f64 {
        (self.hue_cooling_per_year * years.clamp(0.0, MAX_YEARS)).min(1.0)
    }

    /// Years after the last session until strength falls to the threshold (or [`MAX_YEARS`]).
    pub fn years_to_touch_up(&self) -> f64 {
        if self.base_strength(MAX_YEARS) >= self.threshold {
            return MAX_YEARS;
        }
        // Strength falls monotonically: bisect.
        let (mut lo, mut hi) = (0.0, MAX_YEARS);
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if self.base_strength(mid) > self.threshold {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        hi
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;

    #[test]
    fn calibrated_to_the_six_month_measurement() {
        // Liu et al. 2025: 8.7 → 7.7 at 6 months (−11.5%), scar areas −1.6 points (−18.4%).
        let s = Settings::default().fading;
        let normal = FadingModel::typical(&s);
        let scar = FadingModel::for_conditions(&s, SunExposure::Moderate, SkinType::Normal, false, true);
        let loss = 1.0 - normal.base_strength(0.5);
        let scar_loss = 1.0 - scar.base_strength(0.5);
        assert!((0.09..0.14).contains(&loss), "{loss}");
        assert!((0.15..0.22).contains(&scar_loss), "{scar_loss}");
    }

    #[test]
    fn touch_ups_fall_in_the_published_range() {
        let s = Settings::default().fading;
        for sun in SunExposure::ALL {
            for skin in SkinType::ALL {
                let years = FadingModel::for_conditions(&s, *sun, *skin, false, false).years_to_touch_up();
                assert!((2.0..=6.0).contains(&years), "{sun:?} {skin:?}: {years}");
            }
        }
    }

    #[test]
    fn strength_falls_and_touch_ups_restore() {
        let m = FadingModel::typical(&Settings::default().fading);
        let mut last = m.strength(0.0, &[]);
        assert!((last - 1.0).abs() < 1e-12);
        for i in 1..=40 {
            let now = m.strength(f64::from(i) * 0.25, &[]);
            assert!(now < last);
            last = now;
        }
        assert!(m.strength(4.0, &[4.0]) > m.strength(3.99, &[4.0]));
        assert!(m.dot_scale(8.0, &[]) > m.dot_scale(1.0, &[]));
        assert_eq!(
            m.strength(-3.0, &[]),
            1.0,
            "before the last session nothing has faded"
        );
    }
}
