//! Aftercare: what the client should expect, avoid and do, day by day after each session;
//! and pre-care: what to do and avoid in the hours before each session.
//!
//! The instructions are data (settings `aftercare.items`, each with its source); this module
//! keeps the ones that apply to the client and folds them into a timeline of day ranges in
//! which the same instructions hold.

use serde::Serialize;

use crate::profile::{ClientProfile, SkinType, SunExposure};
use crate::settings::{AftercareItem, AftercareKind, PrecareItem, Settings};

/// The aftercare that applies to one client.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Aftercare {
    /// The instructions that apply, with their day ranges (day 0 = the session day).
    pub items: Vec<AftercareItem>,
    /// Day by day: consecutive days with the same instructions are one span.
    pub timeline: Vec<AftercareSpan>,
}

/// Days over which the same instructions hold.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AftercareSpan {
    /// First day, counted from the session (day 0).
    pub from_day: u32,
    /// Last day, inclusive.
    pub to_day: u32,
    /// What to expect.
    pub expect: Vec<String>,
    /// What to avoid.
    pub avoid: Vec<String>,
    /// What to do.
    #[serde(rename = "do")]
    pub to_do: Vec<String>,
}

/// Whether an item limited by `if` applies to the client.
fn applies(only_if: Option<&str>, client: &ClientProfile) -> bool {
    match only_if {
        None => true,
        Some("gym") => client.gym,
        Some("swimming") => client.swimming,
        Some("dry_skin") => client.skin_type == SkinType::Dry,
        Some("oily_skin") => client.skin_type == SkinType::Oily,
        Some("high_sun") => client.sun_exposure == SunExposure::High,
        Some("minoxidil") => client
            .medical
            .medications
            .iter()
            .any(|m| m.name == "minoxidil" && m.stopped.is_none()),
        // Settings validation admits only the names above.
        Some(_) => false,
    }
}

/// The client's aftercare.
pub fn aftercare(client: &ClientProfile, settings: &Settings) -> Aftercare {
    let items: Vec<AftercareItem> = settings
        .aftercare
        .items
        .iter()
        .filter(|i| applies(i.only_if.as_deref(), client))
        .cloned()
        .collect();
    let last_day = items.iter().map(|i| i.to_day).max().unwrap_or(0);
    let mut timeline: Vec<AftercareSpan> = Vec::new();
    for day in 0..=last_day {
        let active: Vec<&AftercareItem> = items
            .iter()
            .filter(|i| i.from_day <= day && day <= i.to_day)
            .collect();
        let texts = |kind: AftercareKind| -> Vec<String> {
            active
                .iter()
                .filter(|i| i.kind == kind)
                .map(|i| i.text.clone())
                .collect()
        };
        let (expect, avoid, to_do) = (
            texts(AftercareKind::Expect),
            texts(AftercareKind::Avoid),
            texts(AftercareKind::Do),
        );
        if expect.is_empty() && avoid.is_empty() && to_do.is_empty() {
            continue;
        }
        match timeline.last_mut() {
            Some(span)
                if span.to_day + 1 == day
                    && span.expect == expect
                    && span.avoid == avoid
                    && span.to_do == to_do =>
            {
                span.to_day = day;
            }
            _ => timeline.push(AftercareSpan {
                from_day: day,
                to_day: day,
                expect,
                avoid,
                to_do,
            }),
        }
    }
    Aftercare { items, timeline }
}

/// The pre-care that applies to one client, earliest first (the settings' order within one start).
pub fn precare(client: &ClientProfile, settings: &Settings) -> Vec<PrecareItem> {
    let mut items: Vec<PrecareItem> = settings
        .precare
        .items
        .iter()
        .filter(|i| applies(i.only_if.as_deref(), client))
        .cloned()
        .collect();
    items.sort_by_key(|i| std::cmp::Reverse(i.hours_before));
    items
}
