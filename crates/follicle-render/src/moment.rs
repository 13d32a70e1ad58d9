//! When the preview is of: fresh after a session, healed after a session, or years later.
//!
//! The fading is [`follicle_core::fading::FadingModel`] — the same model that forecasts the
//! touch-up in the plan — so the "in 5 years" picture and the touch-up date never disagree.

use follicle_core::fading::FadingModel;
use follicle_pattern::Dot;
use serde::{Deserialize, Serialize};

use crate::error::RenderError;
use crate::settings::RenderSettings;

/// The moment a preview shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Moment {
    /// Straight after session `session`: its dots fresh (wider, darker, reddened skin around).
    Fresh {
        /// 1-based.
        session: u8,
    },
    /// Healed after session `session` (`render.healed_after_weeks` later).
    Healed {
        /// 1-based.
        session: u8,
    },
    /// `years` after the last session, with touch-ups at the given years after the last session.
    Years {
        /// Years after the last session, 0–60.
        years: f64,
        /// Years (after the last session) of touch-ups.
        #[serde(default)]
        touch_ups: Vec<f64>,
    },
}

/// Weeks in a year (365.25 / 7, rounded as the fading model rounds it).
const WEEKS_PER_YEAR: f64 = 52.18;

/// Years after a session at which a dot counts as healed (`render.healed_after_weeks`).
pub fn healed_years(settings: &RenderSettings) -> f64 {
    f64::from(settings.healed_after_weeks) / WEEKS_PER_YEAR
}

impl Moment {
    /// Parses `fresh:N`, `healed:N`, `years:Y` or `years:Y@T` (a touch-up at year T; several
    /// as `@T1+T2`), as the command line and the API write a moment.
    pub fn parse(text: &str) -> Result<Moment, String> {
        let bad = || format!("expected fresh:N, healed:N, years:Y or years:Y@T, got {text:?}");
        let (kind, rest) = text.split_once(':').ok_or_else(bad)?;
        match kind {
            "fresh" | "healed" => {
                let session: u8 = rest.parse().map_err(|_| bad())?;
                Ok(if kind == "fresh" {
                    Moment::Fresh { session }
                } else {
                    Moment::Healed { session }
                })
            }
            "years" => {
                let (y, t) = rest.split_once('@').map_or((rest, None), |(y, t)| (y, Some(t)));
                let years: f64 = y.parse().map_err(|_| bad())?;
                if !(0.0..=60.0).contains(&years) {
                    return Err(format!("years must be 0–60, got {years}"));
                }
                let touch_ups = match t {
                    Some(t) => t
                        .split('+')
                        .map(|v| v.parse::<f64>().map_err(|_| bad()))
                        .collect::<Result<Vec<_>, _>>()?,
                    None => Vec::new(),
                };
                Ok(Moment::Years { years, touch_ups })
            }
            _ => Err(bad()),
        }
    }

    /// Checks the moment against a pattern of `sessions` sessions.
    pub fn validate(&self, sessions: u8) -> Result<(), RenderError> {
        match self {
            Moment::Fresh { session } | Moment::Healed { session } => {
                if *session == 0 || *session > sessions {
                    return Err(RenderError::invalid(
                        "moment.session",
                        format!("expected 1–{sessions}, got {session}"),
                    ));
                }
            }
            Moment::Years { years, touch_ups } => {
                if !(years.is_finite() && (0.0..=60.0).contains(years)) {
                    return Err(RenderError::invalid(
                        "moment.years",
                        format!("expected 0–60 years, got {years}"),
                    ));
                }
                for (i, t) in touch_ups.iter().enumerate() {
                    if !(t.is_finite() && (0.0..=60.0).contains(t)) {
                        return Err(RenderError::invalid(
                            &format!("moment.touch_ups[{i}]"),
                            format!("expected 0–60 years after the last session, got {t}"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// A short label ("after session 2", "year 5").
    pub fn label(&self) -> String {
        match self {
            Moment::Fresh { session } => format!("fresh, session {session}"),
            Moment::Healed { session } => format!("after session {session}"),
            Moment::Years { years, touch_ups } if !touch_ups.is_empty() => {
                format!("year {years} (touched up)")
            }
            Moment::Years { years, .. } => format!("year {years}"),
        }
    }
}

/// How one dot looks at a moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DotLook {
    /// Ink strength multiplier (0 = gone).
    pub strength: f32,
    /// Healed diameter multiplier.
    pub size: f32,
    /// Fresh: the dot is still raw (reddened skin around it).
    pub fresh: bool,
    /// Carbon share of the ink the dot holds (1 − the mix's water share): its session's mix,
    /// or the touch-up mix once a touch-up has re-inked it.
    pub shade: f64,
}

/// How a client's pigment heals and fades: the two fading models (normal skin and scar
/// tissue), the share of impressions lost in healing, all from the planner's settings, and the
/// mix their touch-ups put back.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fading {
    /// Normal skin.
    pub normal: FadingModel,
    /// Scar tissue (fades faster).
    pub scar: FadingModel,
    /// Share of a session's new impressions lost in healing: the clinic's
    /// `density.healing_loss_fraction`.
    pub healing_loss_fraction: f64,
    /// Water share (0–1, the plan's "dilution") of the mix a touch-up re-inks every dot with.
    /// `None`: each dot is touched up with its own session's mix. A client's
    /// [`Look`](crate::Look) sets it from the clinic's pigment settings, so a greying client's
    /// touch-up is lighter (DOMAIN §9).
    #[serde(default)]
    pub touch_up_dilution: Option<f64>,
}

/// Deterministic per-dot coin: is this dot among the impressions lost in healing?
fn lost_in_healing(index: usize, share: f64) -> bool {
    // SplitMix64 of the index: stable across runs and platforms.
    let mut z = (index as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    ((z >> 11) as f64 / (1u64 << 53) as f64) < share
}

impl Moment {
    /// How dot number `index` looks; `None` when it is not there (a later session's, or lost).
    pub fn look(
        &self,
        index: usize,
        dot: &Dot,
        last_session: u8,
        fading: &Fading,
        healing_loss: f64,
        settings: &RenderSettings,
    ) -> Option<DotLook> {
        Looks::new(self, last_session, fading, healing_loss, settings).look(index, dot)
    }

    /// The blue-grey drift of old pigment at this moment (0–1), from the fading model.
    pub fn cooling(&self, fading: &Fading) -> f32 {
        match self {
            Moment::Years { years, .. } => fading.normal.hue_cooling(*years) as f32,
            _ => 0.0,
        }
    }
}

/// [`Moment::look`] for every dot of a pattern: what a dot's look takes from its fading
/// model alone (its strength and size at the moment: a few `exp`s) is worked out once per
/// model, not once per dot. The same looks, bit for bit (the same functions of the same
/// numbers).
#[derive(Debug, Clone)]
pub(crate) struct Looks<'a> {
    moment: &'a Moment,
    last_session: u8,
    healing_loss: f64,
    fresh_strength: f32,
    /// Normal skin's and scar tissue's strength and size at the moment.
    normal: ModelLook,
    scar: ModelLook,
    /// [`Moment::Years`]: the mix of a dot once a touch-up has re-inked it (`None`: its own).
    touched_shade: Option<f64>,
}

/// What a fading model leaves of a dot at a moment.
#[derive(Debug, Clone, Copy)]
struct ModelLook {
    strength: f32,
    size: f32,
}

impl<'a> Looks<'a> {
    /// The looks at `moment` of a pattern's dots.
    pub(crate) fn new(
        moment: &'a Moment,
        last_session: u8,
        fading: &Fading,
        healing_loss: f64,
        settings: &RenderSettings,
    ) -> Looks<'a> {
        let healed = healed_years(settings);
        let (normal, scar, touched_shade) = match moment {
            Moment::Fresh { .. } | Moment::Healed { .. } => {
                let of = |model: &FadingModel| ModelLook {
                    strength: model.base_strength(healed) as f32,
                    size: 1.0,
                };
                (of(&fading.normal), of(&fading.scar), None)
            }
            Moment::Years { years, touch_ups } => {
                let years = years.max(healed);
                let of = |model: &FadingModel| ModelLook {
                    strength: model.strength(years, touch_ups) as f32,
                    size: model.dot_scale(years, touch_ups) as f32,
                };
                // Once touched up, a dot holds the touch-up's mix (the fading model says how
                // much of it is left).
                let touched = touch_ups
                    .iter()
                    .any(|&t| t.is_finite() && (0.0..=years).contains(&t));
                let shade = match fading.touch_up_dilution {
                    Some(water) if touched => Some(1.0 - water.clamp(0.0, 1.0)),
                    _ => None,
                };
                (of(&fading.normal), of(&fading.scar), shade)
            }
        };
        Looks {
            moment,
            last_session,
            healing_loss,
            fresh_strength: settings.fresh_strength,
            normal,
            scar,
            touched_shade,
        }
    }

    /// How dot number `index` looks; `None` when it is not there (a later session's, or lost).
    #[inline]
    pub(crate) fn look(&self, index: usize, dot: &Dot) -> Option<DotLook> {
        let model = if dot.zone == follicle_core::ZoneKind::Scar {
            self.scar
        } else {
            self.normal
        };
        let shade = dot.shade;
        let settled = |shade| DotLook {
            strength: model.strength,
            size: model.size,
            fresh: false,
            shade,
        };
        match *self.moment {
            Moment::Fresh { session } => {
                if dot.session > session {
                    return None;
                }
                if dot.session == session {
                    Some(DotLook {
                        strength: self.fresh_strength,
                        size: 1.0,
                        fresh: true,
                        shade,
                    })
                } else {
                    Some(settled(shade))
                }
            }
            Moment::Healed { session } => {
                if dot.session > session {
                    return None;
                }
                // The newest layer has shed some impressions; the next session re-places them.
                if dot.session == session
                    && session < self.last_session
                    && lost_in_healing(index, self.healing_loss)
                {
                    return None;
                }
                Some(settled(shade))
            }
            Moment::Years { .. } => Some(settled(self.touched_shade.unwrap_or(shade))),
        }
    }
}
