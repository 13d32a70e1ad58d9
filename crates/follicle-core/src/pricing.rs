//! The quote: per session, per region of the head, or a package; with the location's factor,
//! a scar surcharge, the deposit and the touch-up price.
//!
//! Amounts are whole currency units rounded to the clinic's `round_to`; the total is the sum
//! of the per-session amounts, so the lines of a printed quote always add up.

use serde::Serialize;
use time::{Date, Duration};

use crate::assess::{Approach, Assessment};
use crate::plan::Session;
use crate::settings::{PricingMode, Settings};
use crate::zone::ZoneKind;

/// A price for one session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionPrice {
    /// The session's index.
    pub index: usize,
    /// Its date.
    pub date: Date,
    /// The amount.
    pub amount: i64,
}

/// The touch-up forecast and price.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TouchUp {
    /// When the first touch-up is due.
    pub due_date: Date,
    /// Years after the last session.
    pub years_after_last_session: f64,
    /// Its price.
    pub price: i64,
}

/// A quote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quote {
    /// How it was priced.
    pub mode: PricingMode,
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
    /// Paid to book, part of the total.
    pub deposit: i64,
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
        .cloned();
    let (location_id, factor, currency) = match location {
        Some(l) => (l.id, l.factor, l.currency),
        None => (pr.default_location.clone(), 1.0, pr.currency.clone()),
    };
    let scars = assessment.approach.approaches.contains(&Approach::ScarCamouflage);
    let scar_factor = if scars { pr.scar_factor } else { 1.0 };
    let k = factor * scar_factor;

    let amounts: Vec<i64> = match pr.mode {
        PricingMode::PerSession => sessions
            .iter()
            .map(|s| {
                round_to(
                    (pr.session_fee + pr.hourly_rate * s.duration_hours) * k,
                    pr.round_to,
                )
            })
            .collect(),
        PricingMode::PerRegion | PricingMode::Package => {
            let course = match pr.mode {
                PricingMode::PerRegion => region_price(assessment, settings),
                _ => {
                    let area = assessment.treated_area_cm2;
                    pr.package
                        .iter()
                        .find(|b| area <= b.up_to_cm2)
                        .or(pr.package.last())
                        .map_or(0.0, |b| b.price)
                }
            } * k;
            let weights: Vec<f64> = sessions.iter().map(|s| s.estimated_dots as f64).collect();
            split_total(round_to(course, pr.round_to), &weights, pr.round_to)
        }
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
    let deposit = round_to(pr.deposit * factor, pr.round_to).min(total);
    let last = sessions.last().map_or(assessment.assessed_on, |s| s.date);
    let due_date = last
        .checked_add(Duration::days((touch_up_years * 365.25).round() as i64))
        .unwrap_or(Date::MAX);
    let touch_up_price =
        (total as f64 * pr.touch_up_fraction).clamp(pr.touch_up_min * factor, pr.touch_up_max * factor);
    Quote {
        mode: pr.mode,
        currency,
        location: location_id,
        regional_factor: factor,
        scar_factor,
        per_session,
        total,
        deposit,
        balance: total - deposit,
        cancellation_hours: pr.cancellation_hours,
        touch_up: TouchUp {
            due_date,
            years_after_last_session: touch_up_years,
            price: round_to(touch_up_price, pr.round_to),
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
            let share = if full > 0.0 {
                (treated / full).min(1.0)
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
    fn splits_add_up() {
        assert_eq!(split_total(1500, &[3.0, 4.0, 3.0], 10), vec![450, 600, 450]);
        assert_eq!(split_total(1000, &[1.0, 1.0, 1.0], 10), vec![340, 330, 330]);
        assert_eq!(split_total(95, &[1.0, 1.0], 10), vec![55, 40]);
        assert_eq!(split_total(100, &[0.0, 0.0], 10), vec![100, 0]);
    }
}
