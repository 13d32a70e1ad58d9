//! Follicle's pure domain core.
#![deny(missing_docs)]

pub mod zone;

pub use zone::ZoneKind;
