//! Follicle's pure domain core: from a client's situation to an assessed, priced,
//! scheduled treatment plan for scalp micropigmentation (SMP).
//!
//! No I/O happens here: callers read files and pass text; everything returns values.
//! The flow is profile → assessment (what to treat) → the pattern engine draws and measures
//! the zones on the client's head → plan priced from those measures:
//!
//! ```
//! use follicle_core::{ClientProfile, Measured, Settings, ZoneKind, ZoneMeasure, assess, plan};
//! use time::macros::date;
//!
//! let client = r#"
//! [client]
//! age = 41
//! sex = "male"
//! [skin]
//! fitzpatrick = "III"
//! [hair]
//! colour = "dark_brown"
//! [hair_loss]
//! scale = "norwood"
//! stage = "VII"
//! [goal]
//! aims = ["full_coverage"]
//! "#;
//! let settings = Settings::default();
//! let today = date!(2026 - 11 - 21);
//! let profile = ClientProfile::from_toml(client, &settings, today).unwrap();
//! let assessment = assess(&profile, &settings, today);
//! // The pattern engine draws the zones on the client's head and measures them
//! // (`follicle_pattern::treatment::plan_client` does all of this); here, one measured zone.
//! let measured = Measured {
//!     zones: vec![ZoneMeasure { zone: ZoneKind::Crown, area_cm2: 400.0, dots: 32_000.0, density_per_cm2: 80.0 }],
//!     ..Measured::default()
//! };
//! let plan = plan(&assessment, &measured, &settings, today);
//! assert_eq!(plan.sessions.len(), 3);
//! assert!(plan.sessions.iter().all(|s| s.duration_hours <= settings.sessions.max_hours));
//! ```
//!
//! Errors from reading input are [`InputError`]s: they name the field, the value and what
//! is allowed, with the line in the file. Every figure a clinic might disagree with is in
//! [`Settings`], whose defaults and sources are in `settings/default.toml`.
#![deny(missing_docs)]

pub mod aftercare;
pub mod assess;
pub mod error;
pub mod fading;
pub mod messages;
pub mod plan;
pub mod pricing;
pub mod profile;
pub mod settings;
pub mod source;
pub mod zone;

pub use assess::{Assessment, Measured, Scope, Verdict, ZoneMeasure, assess};
pub use error::{InputError, InputResult};
pub use plan::{Plan, plan};
pub use profile::ClientProfile;
pub use settings::Settings;
pub use zone::ZoneKind;
