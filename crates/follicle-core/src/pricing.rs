//! The quote: per session, per region of the head, a package by area, or a package by hair-loss
//! stage; with the location's factor or its own figures, a scar surcharge, the deposit and the
//! touch-up price.
//!
//! A location profile's own figures (session fee, hourly rate, packages, stage prices, deposit,
//! touch-up bounds) are used as given; the clinic's figures it does not override are scaled by its
//! factor. The deposit and the touch-up price are rounded without leaving the profile's bounds.
//!
//! Amounts are whole currency units rounded to the clinic's `round_to`; the total is the sum
//! of the per-session amounts, so the lines of a printed quote always add up.

use serde::Serialize;
use time::{Date, Duration};

use crate::assess::{Approach, Assessment};
use crate::plan::Session;
use crate::profile::HairLoss;
use crate::settings::{Location, PackageBand, PricingMode, Settings};
use crate::zone::ZoneKind;

/// A price for one session.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionPrice {
    /// The session's index.
    pub index: usize,
    /// Its date (`None` while the plan cannot be booked).
    pub date: Option<Date>,
    /// The amount.
    pub amount: i64,
}

/// The touch-up forecast and price.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TouchUp {
    /// When the first touch-up is due (`None` while the plan cannot be booked).
    pub due_date: Option<Date>,
    /// Years after the last session.
    pub years_after_last_session: f64,
    /// Its price.
    pub price: i64,
}

/// A quote.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Quote {
    /// How it was priced (a stage without a stage price falls back to per session).
    pub mode: PricingMode,
    /// With `by_stage`: the stage priced (`norwood VI`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priced_stage: Option<String>,
    /// ISO 4217 code.
    pub currency: String,
    /// The location profile.
    pub location: String,
    /// The location's factor.
    pub regional_factor: f64,
    /// The scar surcharge factor applied (1 when no scars are treated).
    pub scar_factor: f64,
    /// Per session, in order.
    pub per_session: Vec<SessionPrice>,
    /// Sum of the sessions.
    pub total: i64,
    /// Paid to book, part of the total; `None` while the plan cannot be booked.
    pub deposit: Option<i64>,
    /// The rest.
    pub balance: i64,
    /// Free cancellation up to this many hours before a session.
    pub cancellation_hours: u32,
    /// The first touch-up.
    pub touch_up: TouchUp,
}

/// Rounds half up to a multiple of `step` (whole currency units).
fn round_to(amount: f64, step: u32) -> i64 {
    let step = f64::from(step.max(1));
    ((amount / step + 0.5).floor() * step) as i64
}

/// Rounds to the step without leaving `[lo, hi]` (a cap is never exceeded by rounding).
fn round_within(amount: f64, step: u32, lo: f64, hi: f64) -> i64 {
    let s = i64::from(step.max(1));
    let mut r = round_to(amount.clamp(lo, hi), step);
    if (r as f64) > hi {
        r = (hi / s as f64).floor() as i64 * s;
        if (r as f64) < lo {
            r = hi.floor() as i64;
        }
    }
    if (r as f64) < lo {
        r = (lo / s as f64).ceil() as i64 * s;
        if (r as f64) > hi {
            r = lo.ceil() as i64;
        }
    }
    r
}

/// The stage a location's `stage_prices` is keyed by: (scale, stage), `all` for scales without stages.
fn stage_key(hair_loss: &HairLoss) -> Option<(&'static str, &'static str)> {
    Some(match hair_loss {
        HairLoss::Norwood { stage } => ("norwood", stage.as_str()),
        HairLoss::Ludwig { stage } => ("ludwig", ["I", "II", "III"][usize::from(*stage).clamp(1, 3) - 1]),
        HairLoss::Savin { stage } => ("savin", *stage),
        HairLoss::Diffuse => ("diffuse", "all"),
        HairLoss::AlopeciaTotalis => ("alopecia_totalis", "all"),
        HairLoss::AlopeciaUniversalis => ("alopecia_universalis", "all"),
        _ => return None,
    })
}

/// The figures that price a quote at one location.
struct Figures {
    mode: PricingMode,
    session_fee: f64,
    hourly_rate: f64,
    package: Vec<PackageBand>,
    deposit: f64,
    touch_up_min: f64,
    touch_up_max: f64,
}

impl Figures {
    fn at(settings: &Settings, l: &Location) -> Figures {
        let pr = &settings.pricing;
        let f = l.factor;
        Figures {
            mode: l.mode.unwrap_or(pr.mode),
            session_fee: l.session_fee.unwrap_or(pr.session_fee * f),
            hourly_rate: l.hourly_rate.unwrap_or(pr.hourly_rate * f),
            package: l.package.clone().unwrap_or_else(|| {
                pr.package
                    .iter()
                    .map(|b| PackageBand {
                        up_to_cm2: b.up_to_cm2,
                        price: b.price * f,
                    })
                    .collect()
            }),
            deposit: l.deposit.unwrap_or(pr.deposit * f),
            touch_up_min: l.touch_up_min.unwrap_or(pr.touch_up_min * f),
            touch_up_max: l.touch_up_max.unwrap_or(pr.touch_up_max * f),
        }
    }
}

/// Splits `total` (a multiple of `step`) over sessions in proportion to `weights`, in whole steps,
/// by largest remainder: the parts always add up to the total.
fn split_total(total: i64, weights: &[f64], step: u32) -> Vec<i64> {
    let step = i64::from(step.max(1));
    let sum: f64 = weights.iter().sum();
    if weights.is_empty() {
        return Vec::new();
    }
    if sum <= 0.0 {
        let mut out = vec![0; weights.len()];
        out[0] = total;
        return out;
    }
    let units = total / step;
    let exact: Vec<f64> = weights.iter().map(|w| units as f64 * w / sum).collect();
    let mut parts: Vec<i64> = exact.iter().map(|x| x.floor() as i64).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    let missing = units - parts.iter().sum::<i64>();
    for &i in order.iter().take(missing.max(0) as usize) {
        parts[i] += 1;
    }
    let mut out: Vec<i64> = parts.into_iter().map(|p| p * step).collect();
    // A total that is not a whole number of steps keeps its remainder in the first session.
    out[0] += total - units * step;
    out
}

/// Builds the quote; `touch_up_years` comes from the fading model.
pub fn quote(
    assessment: &Assessment,
    sessions: &[Session],
    settings: &Settings,
    touch_up_years: f64,
) -> Quote {
    let pr = &settings.pricing;
    let location = settings
        .location(&assessment.client.location)
        .or_else(|| settings.location(&pr.default_location))
        .cloned()
        .unwrap_or_else(|| Location {
            id: pr.default_location.clone(),
            factor: 1.0,
            currency: pr.currency.clone(),
            mode: None,
            session_fee: None,
            hourly_rate: None,
            package: None,
            stage_prices: Default::default(),
            deposit: None,
            touch_up_min: None,
            touch_up_max: None,
            disabled: false,
        });
    let factor = location.factor;
    let figures = Figures::at(settings, &location);
    let scars = assessment.approach.approaches.contains(&Approach::ScarCamouflage);
    let scar_factor = if scars { pr.scar_factor } else { 1.0 };

    let stage_price = stage_key(&assessment.client.hair_loss).and_then(|(scale, stage)| {
        let price = location.stage_prices.get(scale)?.get(stage)?;
        Some((format!("{scale} {stage}"), *price))
    });
    let mode = match (figures.mode, &stage_price) {
        (PricingMode::ByStage, None) => PricingMode::PerSession,
        (mode, _) => mode,
    };
    let course = |price: f64| -> Vec<i64> {
        let weights: Vec<f64> = sessions.iter().map(|s| s.estimated_dots as f64).collect();
        split_total(round_to(price * scar_factor, pr.round_to), &weights, pr.round_to)
    };
    let amounts: Vec<i64> = match mode {
        PricingMode::PerSession => sessions
            .iter()
            .map(|s| {
                round_to(
                    (figures.session_fee + figures.hourly_rate * s.duration_hours) * scar_factor,
                    pr.round_to,
                )
            })
            .collect(),
        PricingMode::PerRegion => course(region_price(assessment, settings) * factor),
        PricingMode::Package => {
            let area = assessment.treated_area_cm2;
            course(
                figures
                    .package
                    .iter()
                    .find(|b| area <= b.up_to_cm2)
                    .or(figures.package.last())
                    .map_or(0.0, |b| b.price),
            )
        }
        PricingMode::ByStage => course(stage_price.as_ref().map_or(0.0, |(_, p)| *p)),
    };
    let per_session: Vec<SessionPrice> = sessions
        .iter()
        .zip(&amounts)
        .map(|(s, a)| SessionPrice {
            index: s.index,
            date: s.date,
            amount: *a,
        })
        .collect();
    let total: i64 = per_session.iter().map(|p| p.amount).sum();
    let bookable = !sessions.is_empty() && sessions.iter().all(|s| s.date.is_some());
    let deposit =
        bookable.then(|| round_within(figures.deposit, pr.round_to, 0.0, figures.deposit).min(total));
    let due_date = sessions.last().and_then(|s| s.date).map(|last| {
        last.checked_add(Duration::days((touch_up_years * 365.25).round() as i64))
            .unwrap_or(Date::MAX)
    });
    let touch_up_price = round_within(
        total as f64 * pr.touch_up_fraction,
        pr.round_to,
        figures.touch_up_min,
        figures.touch_up_max,
    );
    Quote {
        mode,
        priced_stage: (mode == PricingMode::ByStage)
            .then(|| stage_price.map(|(s, _)| s))
            .flatten(),
        currency: location.currency,
        location: location.id,
        regional_factor: factor,
        scar_factor,
        per_session,
        total,
        deposit,
        balance: total - deposit.unwrap_or(0),
        cancellation_hours: pr.cancellation_hours,
        touch_up: TouchUp {
            due_date,
            years_after_last_session: touch_up_years,
            price: touch_up_price,
        },
    }
}

/// The course price by region: each region's price times the share of it that is treated (both
/// measured on the client's head by the pattern engine).
fn region_price(assessment: &Assessment, settings: &Settings) -> f64 {
    let pr = &settings.pricing;
    pr.regions
        .iter()
        .map(|(region, price)| {
            let zones = &pr.region_zones[region];
            let full: f64 = zones
                .iter()
                .filter(|z| **z != ZoneKind::Scar)
                .filter_map(|z| assessment.full_area_cm2.get(z))
                .sum::<f64>();
            let treated: f64 = assessment
                .zones
                .iter()
                .filter(|z| zones.contains(&z.zone))
                .map(|z| z.area_cm2)
                .sum();
            // Areas are rounded to 0.01 cm², so the exact ratio wobbles in the last digits (0.49999 vs
            // 0.5) and a half-up rounding of the price can step back as the head grows: three
            // decimals of share are what the price depends on.
            let share = if full > 0.0 {
                ((treated / full).min(1.0) * 1000.0).round() / 1000.0
            } else if treated > 0.0 {
                1.0
            } else {
                0.0
            };
            price * share
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_up_to_the_step() {
        assert_eq!(round_to(1234.0, 10), 1230);
        assert_eq!(round_to(1235.0, 10), 1240);
        assert_eq!(round_to(99.4, 1), 99);
        assert_eq!(round_to(0.0, 50), 0);
    }

    #[test]
    fn rounding_never_leaves_the_bounds() {
        // 375 rounds to 380 by tens, above a cap of 375: it goes down to 370.
        assert_eq!(round_within(375.0, 10, 225.0, 375.0), 370);
        assert_eq!(round_within(100.0, 10, 225.0, 375.0), 230);
        assert_eq!(round_within(75.0, 10, 0.0, 75.0), 70);
        assert_eq!(round_within(80.0, 100, 75.0, 90.0), 90);
        assert_eq!(round_within(300.0, 10, 225.0, 375.0), 300);
    }

    #[test]
    fn splits_add_up() {
        assert_eq!(split_total(1500, &[3.0, 4.0, 3.0], 10), vec![450, 600, 450]);
        assert_eq!(split_total(1000, &[1.0, 1.0, 1.0], 10), vec![340, 330, 330]);
        assert_eq!(split_total(95, &[1.0, 1.0], 10), vec![55, 40]);
        assert_eq!(split_total(100, &[0.0, 0.0], 10), vec![100, 0]);
    }
}
