//! The error every input boundary of the core returns.
//!
//! One type for the client file and the clinic settings alike: which file, where in it,
//! which field, and a message that says what was given and what is allowed.

use std::fmt;

use crate::source::{Location, SpannedDoc};

/// An input that cannot be used, with enough context for a person to fix it.
#[derive(Debug, Clone, PartialEq, thiserror::Error, serde::Serialize)]
pub struct InputError {
    /// The file (or `"<input>"`), set by whoever read it.
    pub file: Option<String>,
    /// Where in the file, when known.
    pub location: Option<Location>,
    /// The field, as a dotted path (`scars[1].length_mm`), or empty for the whole document.
    pub field: String,
    /// What was wrong: what was given and what is allowed.
    pub message: String,
}

impl InputError {
    /// An error about `field`, not yet placed in a file.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        InputError {
            file: None,
            location: None,
            field: field.into(),
            message: message.into(),
        }
    }

    /// Places the error in `doc` by its field path, unless it already has a location.
    pub fn placed(mut self, doc: &SpannedDoc<'_>) -> Self {
        if self.location.is_none() {
            self.location = doc.locate(&self.field);
        }
        self
    }

    /// Names the file the error is in.
    pub fn in_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    /// Turns a serde/syntax error from `toml` into an `InputError` with a field path and line.
    pub fn from_toml(err: &toml::de::Error, doc: &SpannedDoc<'_>) -> Self {
        let location = err.span().map(|s| crate::source::location_of(doc.src(), s.start));
        let field = err.span().and_then(|s| doc.path_at(&s)).unwrap_or_default();
        let message = err.message().trim().to_string();
        InputError {
            file: None,
            location,
            field,
            message,
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}:")?;
        }
        if let Some(loc) = self.location {
            write!(f, "{}:{}:", loc.line, loc.column)?;
        }
        if self.file.is_some() || self.location.is_some() {
            f.write_str(" ")?;
        }
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

/// Shorthand for results at an input boundary.
pub type InputResult<T> = Result<T, InputError>;
