//! Renderer settings: the `[render]` table of the one clinic settings file.
//!
//! The types live in [`follicle_core::settings`], their values only in its
//! `settings/default.toml` (each with its source); they are re-exported here so the
//! renderer's callers keep their paths. Healing loss and needle diameters are the planner's
//! settings: healing loss reaches a [`crate::Scene`] through its [`crate::Fading`], needle
//! diameters through the pattern's dots.

pub use follicle_core::settings::RenderSettings;
