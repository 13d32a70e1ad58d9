//! The one error type of the pattern engine.
//!
//! Every message names the field, the value and what is allowed, so a clinic user (or
//! the web form that sent the request) can fix the input without reading code.

use thiserror::Error;

/// Why a pattern request was refused. The engine never panics on input: anything it
/// cannot draw comes back as one of these.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum PatternError {
    /// A number is outside its allowed range (or not finite).
    #[error("{field}: expected {allowed}, got {value}")]
    OutOfRange {
        /// Dotted path of the field, e.g. `head.length_mm`.
        field: String,
        /// The value received, as text.
        value: String,
        /// What is allowed, e.g. `1–400`.
        allowed: String,
    },
    /// A polygon or polyline is malformed (too few points, self-intersecting, zero area).
    #[error("{field}: {problem}")]
    InvalidShape {
        /// Dotted path of the shape, e.g. `zones[2].polygon`.
        field: String,
        /// What is wrong and what is allowed.
        problem: String,
    },
    /// The request would make more dots (or grid cells) than the documented cap.
    #[error("{field}: the request would make about {requested} {what}, more than the cap of {cap}")]
    TooLarge {
        /// Which input drives the size.
        field: String,
        /// What is counted ("dots", "grid cells").
        what: String,
        /// Estimated count.
        requested: u64,
        /// The cap.
        cap: u64,
    },
    /// Settings that cannot be combined, e.g. session fractions that do not increase.
    #[error("{field}: {problem}")]
    Inconsistent {
        /// The field at fault.
        field: String,
        /// What is wrong and what is allowed.
        problem: String,
    },
}

impl PatternError {
    /// Shorthand for [`PatternError::OutOfRange`].
    pub(crate) fn range(
        field: impl Into<String>,
        value: impl std::fmt::Display,
        allowed: impl Into<String>,
    ) -> Self {
        PatternError::OutOfRange {
            field: field.into(),
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }

    /// Shorthand for [`PatternError::InvalidShape`].
    pub(crate) fn shape(field: impl Into<String>, problem: impl Into<String>) -> Self {
        PatternError::InvalidShape {
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// The dotted field path this error is about.
    pub fn field(&self) -> &str {
        match self {
            PatternError::OutOfRange { field, .. }
            | PatternError::InvalidShape { field, .. }
            | PatternError::TooLarge { field, .. }
            | PatternError::Inconsistent { field, .. } => field,
        }
    }
}

/// Checks that `value` is finite and within `min..=max`.
pub(crate) fn check_range(
    field: &str,
    value: f64,
    min: f64,
    max: f64,
    allowed: &str,
) -> Result<f64, PatternError> {
    if value.is_finite() && value >= min && value <= max {
        Ok(value)
    } else {
        Err(PatternError::range(field, value, allowed))
    }
}
