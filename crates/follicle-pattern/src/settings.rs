//! The pattern engine's settings: the `[pattern]` table of the one clinic settings file.
//!
//! The types live in [`follicle_core::settings`], their values only in its
//! `settings/default.toml` (each with its source); they are re-exported here so the
//! pattern engine's callers keep their paths. Densities, needle diameters, session shares
//! and dots per hour are the planner's settings, carried by the [`crate::PatternRequest`].

pub use follicle_core::settings::{
    HairlineStyleSettings, LandmarkSettings, NeedleGauge, PatternSettings, PerGauge, StageZones,
};
use serde::de::Error as _;

use crate::error::PatternError;
use serde::{Deserialize, Deserializer};

/// Checks the `[pattern]` figures, as a pattern error.
pub(crate) fn validate(settings: &PatternSettings) -> Result<(), PatternError> {
    settings.validate().map_err(|e| PatternError::Inconsistent {
        field: e.field,
        problem: e.message,
    })
}

/// Reads a request's `settings` object: keys it leaves out keep the default settings'
/// values, and the keys older saved designs carried that are now the planner's
/// (`dots_per_hour`, now `PatternRequest::dots_per_hour`) are ignored. Unknown keys are refused.
pub(crate) fn lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<PatternSettings, D::Error> {
    let given = serde_json::Value::deserialize(deserializer)?;
    let serde_json::Value::Object(mut given) = given else {
        return Err(D::Error::custom("settings: expected a table of pattern settings"));
    };
    given.remove("dots_per_hour");
    let mut merged = serde_json::to_value(PatternSettings::default()).map_err(D::Error::custom)?;
    merge(&mut merged, serde_json::Value::Object(given));
    serde_json::from_value(merged).map_err(D::Error::custom)
}

/// Merges `over` into `base`, objects key by key.
fn merge(base: &mut serde_json::Value, over: serde_json::Value) {
    match (base, over) {
        (serde_json::Value::Object(b), serde_json::Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}
