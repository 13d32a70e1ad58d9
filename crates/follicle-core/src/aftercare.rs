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
    let timeline = timeline(&items);
    Aftercare { items, timeline }
}

/// Day by day, the instructions of `items` that hold: consecutive days with the same texts are
/// one span, and a day with none is in no span.
fn timeline(items: &[AftercareItem]) -> Vec<AftercareSpan> {
    let last_day = items.iter().map(|i| i.to_day).max().unwrap_or(0);
    // The days on which an item starts or stops applying cut days 0..=last_day into runs over
    // which the same items apply: each run is looked at once, as its first day, rather than day
    // by day (the same spans as a day-by-day walk: a span grows while the next day's texts are
    // the same, and a day with nothing to say ends it).
    let mut cuts: Vec<u32> = std::iter::once(0)
        .chain(
            items
                .iter()
                .flat_map(|i| [i.from_day, i.to_day.saturating_add(1)]),
        )
        .filter(|&day| day <= last_day)
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut timeline: Vec<AftercareSpan> = Vec::new();
    for (k, &from) in cuts.iter().enumerate() {
        let to = cuts.get(k + 1).map_or(last_day, |&next| next - 1);
        let texts = |kind: AftercareKind| -> Vec<&str> {
            items
                .iter()
                .filter(|i| i.from_day <= from && from <= i.to_day && i.kind == kind)
                .map(|i| i.text.as_str())
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
                if span.to_day + 1 == from
                    && span.expect == expect
                    && span.avoid == avoid
                    && span.to_do == to_do =>
            {
                span.to_day = to;
            }
            _ => {
                let owned = |texts: Vec<&str>| texts.into_iter().map(String::from).collect();
                timeline.push(AftercareSpan {
                    from_day: from,
                    to_day: to,
                    expect: owned(expect),
                    avoid: owned(avoid),
                    to_do: owned(to_do),
                })
            }
        }
    }
    timeline
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What day `day` says: the texts of the items that hold on it, by kind.
    fn said_on(items: &[AftercareItem], day: u32) -> [Vec<String>; 3] {
        [AftercareKind::Expect, AftercareKind::Avoid, AftercareKind::Do].map(|kind| {
            items
                .iter()
                .filter(|i| i.from_day <= day && day <= i.to_day && i.kind == kind)
                .map(|i| i.text.clone())
                .collect()
        })
    }

    /// The timeline's promise, day by day: a day that says something is in exactly one span,
    /// which says the same; a day that says nothing is in none; and spans are in order, each as
    /// long as it can be (the next one, if it starts the day after, says something else).
    fn check_day_by_day(items: &[AftercareItem]) {
        let spans = timeline(items);
        let last_day = items.iter().map(|i| i.to_day).max().unwrap_or(0);
        for day in 0..=last_day {
            let said = said_on(items, day);
            let holding: Vec<&AftercareSpan> = spans
                .iter()
                .filter(|s| s.from_day <= day && day <= s.to_day)
                .collect();
            if said.iter().all(Vec::is_empty) {
                assert!(holding.is_empty(), "day {day}: {holding:?}");
            } else {
                assert_eq!(holding.len(), 1, "day {day}: {holding:?}");
                let span = holding[0];
                assert_eq!(
                    [&span.expect, &span.avoid, &span.to_do],
                    [&said[0], &said[1], &said[2]],
                    "day {day}"
                );
            }
        }
        assert!(
            spans
                .iter()
                .all(|s| s.from_day <= s.to_day && s.to_day <= last_day)
        );
        for pair in spans.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            assert!(a.to_day < b.from_day, "{a:?} {b:?}");
            if a.to_day + 1 == b.from_day {
                assert!((&a.expect, &a.avoid, &a.to_do) != (&b.expect, &b.avoid, &b.to_do));
            }
        }
    }

    fn item(kind: u8, from_day: u32, to_day: u32, text: u8) -> AftercareItem {
        AftercareItem {
            id: format!("i{from_day}-{to_day}"),
            kind: match kind % 3 {
                0 => AftercareKind::Expect,
                1 => AftercareKind::Avoid,
                _ => AftercareKind::Do,
            },
            from_day,
            to_day,
            // Few texts, so that different items often say the same thing.
            text: format!("text {}", text % 4),
            source: String::new(),
            only_if: None,
            disabled: false,
        }
    }

    #[test]
    fn the_default_timeline_holds_day_by_day() {
        let items = &Settings::default().aftercare.items;
        assert!(timeline(items).len() > 2);
        check_day_by_day(items);
    }

    proptest! {
        #[test]
        fn any_timeline_holds_day_by_day(
            raw in proptest::collection::vec((0u8..3, 0u32..40, 0u32..40, 0u8..4), 0..12)
        ) {
            // Some items end before they start (they never apply), some start after day 0.
            let items: Vec<AftercareItem> =
                raw.into_iter().map(|(k, a, b, t)| item(k, a, b, t)).collect();
            check_day_by_day(&items);
        }
    }
}
