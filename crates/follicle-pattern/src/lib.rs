//! tmp
#![allow(missing_docs)]
pub mod error;
pub mod geometry;
pub mod metrics;
pub mod patch;
pub mod polygon;
pub(crate) mod sampler;
pub mod settings;
pub(crate) mod units;
