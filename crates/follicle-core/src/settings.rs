//! Clinic settings: every figure a clinic might disagree with, in one documented file.
//!
//! The defaults live in `settings/default.toml` (printed by `follicle settings`), each with
//! its source. A clinic overrides only what it changes: [`Settings::with_overrides`] merges
//! its file over the defaults (tables key by key; lists of tables with an `id` by id; a rule
//! with `disabled = true` is dropped), then validates the result.
//!
//! One file serves the planner, the pattern engine (`[pattern]`, [`PatternSettings`]) and the
//! renderer (`[render]`, [`RenderSettings`]); a fact they share (densities, needle diameters,
//! dots per hour, healing loss) is set once, in the planner's tables, and read by all three.
//!
//! For a generated settings form, [`schema()`] lists every setting (dotted path, label, the
//! default file's comment and the sources it names, default value, kind with range and unit),
//! [`validate_field`] checks one typed value in plain words (with the clinic's other
//! overrides in force), and [`overrides_toml`] / [`diff_from_defaults`] give the clinic
//! file that holds only what differs from the defaults:
//!
//! ```
//! use follicle_core::settings::{SettingKind, overrides_toml, schema, validate_field};
//!
//! let blend = schema().iter().find(|s| s.path == "pattern.blend_width_mm").unwrap();
//! assert!(matches!(blend.kind, SettingKind::Number { max: Some(_), .. }));
//! let value = validate_field("pattern.blend_width_mm", "12", None).unwrap();
//! assert!(validate_field("pattern.blend_width_mm", "99", None).is_err());
//! let clinic = overrides_toml([("pattern.blend_width_mm", value)]).unwrap();
//! assert_eq!(clinic, "[pattern]\nblend_width_mm = 12.0\n");
//! ```

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::error::{InputError, InputResult};
use crate::profile::Fitzpatrick;
use crate::source::SpannedDoc;
use crate::zone::ZoneKind;

mod keys;
mod messages;
mod pattern;
mod portal;
mod render;
pub mod schema;

pub use keys::{
    NeedleGauge, PerApproach, PerFitzpatrick, PerGauge, PerHairColour, PerSkinType, PerSunExposure, PerZone,
    SessionCount,
};
pub use messages::{ClinicSettings, MessageSettings, MessageTemplate};
pub use pattern::{
    HairlineStyleSettings, LandmarkSettings, MidFrontalHeights, PatternSettings, ScarSites, StageZones,
};
pub use portal::{
    ConsentKind, ConsentSettings, ConsentTemplate, EstimatorSettings, PortalSettings, is_origin,
};
pub use render::{HealedSettings, OpticsSettings, PhotoSettings, RenderSettings};
pub use schema::{SettingInfo, SettingKind, diff_from_defaults, overrides_toml, schema, validate_field};

/// The default settings file, with comments and sources.
pub const DEFAULT_SETTINGS_TOML: &str = include_str!("../settings/default.toml");

/// The default settings, parsed once.
static DEFAULTS: LazyLock<Settings> = LazyLock::new(|| {
    Settings::from_toml(DEFAULT_SETTINGS_TOML, None).expect("the default settings are valid (tested)")
});

/// All clinic settings, checked: the only ways in are [`Settings::from_toml`],
/// [`Settings::with_overrides`], [`Settings::default`] and deserialising (which checks too),
/// so a `Settings` is always valid. Read the sections through `Deref` (`settings.sessions`);
/// nothing can change them afterwards.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "SettingsData")]
pub struct Settings(SettingsData);

impl std::ops::Deref for Settings {
    type Target = SettingsData;
    fn deref(&self) -> &SettingsData {
        &self.0
    }
}

impl Serialize for Settings {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl TryFrom<SettingsData> for Settings {
    type Error = InputError;

    /// Checks the sections; the error names the field.
    fn try_from(data: SettingsData) -> InputResult<Settings> {
        data.validate()?;
        Settings::checked(data)
    }
}

/// The sections of the settings, as read, before they are checked. Only a [`Settings`]
/// (checked) reaches the planner, the pattern engine and the renderer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // each section documents itself
pub struct SettingsData {
    pub eligibility: EligibilitySettings,
    pub approach: ApproachSettings,
    pub density: DensitySettings,
    pub scars: ScarSettings,
    pub sessions: SessionSettings,
    pub intervals: IntervalSettings,
    pub needles: NeedleSettings,
    pub pigment: PigmentSettings,
    pub fading: FadingSettings,
    pub aftercare: AftercareSettings,
    pub precare: PrecareSettings,
    pub patch_test: PatchTestSettings,
    pub diary: DiarySettings,
    pub records: RecordsSettings,
    pub pricing: PricingSettings,
    pub head: HeadSettings,
    pub photos: PhotoCheckSettings,
    pub pattern: PatternSettings,
    pub render: RenderSettings,
    pub clinic: ClinicSettings,
    pub portal: PortalSettings,
    pub estimator: EstimatorSettings,
    pub consent: ConsentSettings,
    pub messages: MessageSettings,
}

/// Contraindication rules and the vocabulary a client file may use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EligibilitySettings {
    /// Medical conditions a client file may name.
    pub known_conditions: Vec<String>,
    /// Medication groups a client file may name.
    pub known_medications: Vec<String>,
    /// Dated events (procedures, treatments) a client file may name.
    pub known_events: Vec<String>,
    /// The rules, evaluated in order.
    pub rules: Vec<Rule>,
}

/// One eligibility rule: when it matches, the assessment carries its reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable id, named by every reason the rule produces.
    pub id: String,
    /// What must hold for the rule to match (all given keys).
    pub when: RuleWhen,
    /// What a match means for the verdict.
    pub outcome: RuleOutcome,
    /// What the client and practitioner read.
    pub message: String,
    /// Where the rule comes from.
    pub source: String,
    /// Questions the practitioner must ask when the rule matches (from [`crate::profile::ANSWERS`]);
    /// an unanswered one is listed in the assessment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub asks: Vec<String>,
    /// A clinic can switch a default rule off.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
}

/// The matchers of a rule; all present ones must match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RuleWhen {
    pub condition: Option<String>,
    pub medication: Option<String>,
    pub event: Option<String>,
    /// With `medication`: taken now or stopped within this many days. With `event`: happened within it.
    pub within_days: Option<u32>,
    pub age_below: Option<u32>,
    pub hair_loss: Option<Vec<String>>,
    pub progressing: Option<bool>,
    pub fitzpatrick: Option<Vec<String>>,
    pub grey_percent_at_least: Option<u32>,
    pub scar_kind: Option<Vec<String>>,
    /// The hair loss is progressing, or has been stable for fewer than this many days
    /// (`hair_loss.stable_since`), or its stability is not known.
    pub stable_less_than_days: Option<u32>,
    /// A scar to camouflage formed fewer than this many days ago, or its age is not known.
    pub scar_age_below_days: Option<u32>,
    /// The client answered yes to this question (one of [`crate::profile::ANSWERS`]).
    pub answer: Option<String>,
}

/// What a matching rule does to the verdict, from mildest to strongest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RuleOutcome {
    /// A note for the practitioner; the verdict stays.
    Caution,
    /// A patch test must heal cleanly first.
    PatchTest,
    /// A doctor must clear the treatment.
    DoctorClearance,
    /// Not now: wait until a date (or an end the client reports).
    Defer,
    /// Not a candidate.
    NotSuitable,
}

impl RuleOutcome {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleOutcome::Caution => "caution",
            RuleOutcome::PatchTest => "patch_test",
            RuleOutcome::DoctorClearance => "doctor_clearance",
            RuleOutcome::Defer => "defer",
            RuleOutcome::NotSuitable => "not_suitable",
        }
    }
}

/// How the approach is chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApproachSettings {
    /// The most advanced Norwood stage for which density work among hair is recommended.
    pub density_max_norwood: String,
    /// Share of the zone density placed among existing hair.
    pub density_factor_among_hair: f64,
}

/// Target densities and how sessions build them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DensitySettings {
    /// Final density of a fully treated zone, dots/cm².
    pub per_zone_dots_per_cm2: PerZone<f64>,
    /// Cumulative share of the final density after each session, by number of sessions ("3" → 3 shares).
    pub session_fractions: BTreeMap<SessionCount, Vec<f64>>,
    /// Share of new impressions lost in healing and re-placed next session.
    pub healing_loss_fraction: f64,
}

/// How scars are sized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScarSettings {
    /// Margin treated around a scar, each side, mm.
    pub margin_mm: f64,
    /// Treated area per FUE punch, cm².
    pub fue_area_per_punch_cm2: f64,
}

/// Session count, length and speed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct SessionSettings {
    pub base_count: PerApproach<u32>,
    pub extra_for_alopecia: u32,
    pub extra_for_scars_with_coverage: u32,
    pub min_hours: f64,
    pub max_hours: f64,
    /// Booked slots are rounded up to a multiple of this many hours.
    pub slot_step_hours: f64,
    pub setup_hours: f64,
    /// Least working time a session keeps once its setup (and design) time is taken from
    /// `max_hours`; `max_hours` must leave at least this much.
    pub min_work_hours: f64,
    pub first_session_design_hours: f64,
    pub dots_per_hour: f64,
    pub hairline_speed_factor: f64,
    /// "HH:MM", local time.
    pub start_time: String,
}

/// Spacing of sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct IntervalSettings {
    pub default_days: u32,
    pub minimum_days: u32,
    pub after_scar_work_days: u32,
    pub max_sessions_per_12_months: u32,
    pub working_days: Vec<String>,
}

/// Needle cartridges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeedleSettings {
    /// Diameter of one needle by gauge, mm; a cartridge's gauge is the first two digits of its name.
    pub gauge_diameter_mm: PerGauge<f64>,
    /// Cartridge per zone (`0603RL`: gauge #06, 3 needles, round liner).
    pub per_zone: PerZone<String>,
}

impl NeedleSettings {
    /// The needle diameter of a cartridge, mm (from its gauge); `None` for a name with no known gauge.
    pub fn cartridge_diameter_mm(&self, cartridge: &str) -> Option<f64> {
        NeedleGauge::of_cartridge(cartridge).map(|g| *self.gauge_diameter_mm.get(g))
    }

    /// The gauge of the cartridge for a zone (validated settings name one for every zone).
    pub fn gauge_for(&self, zone: ZoneKind) -> NeedleGauge {
        NeedleGauge::of_cartridge(&self.per_zone[zone])
            .expect("validated settings name a cartridge with a known gauge for every zone")
    }

    /// The needle diameter for a zone, mm.
    pub fn zone_diameter_mm(&self, zone: ZoneKind) -> f64 {
        *self.gauge_diameter_mm.get(self.gauge_for(zone))
    }
}

/// Pigment mix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct PigmentSettings {
    pub session_dilution: BTreeMap<SessionCount, Vec<f64>>,
    pub fitzpatrick_adjust: PerFitzpatrick<f64>,
    pub hair_colour_adjust: PerHairColour<f64>,
    pub grey_adjust_at_full_grey: f64,
    pub hairline_soft_extra: f64,
    pub min: f64,
    pub max: f64,
    pub shades: Vec<ShadeBand>,
}

/// A named shade band of the water share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShadeBand {
    /// Upper bound of the water share, inclusive.
    pub up_to: f64,
    /// The shade's name.
    pub name: String,
}

/// The fading model's parameters (see [`crate::fading`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct FadingSettings {
    pub early_loss: f64,
    pub early_weeks: f64,
    /// The most of a dot's strength the early loss may take once the scar factor has scaled it.
    pub early_loss_cap: f64,
    pub contrast_loss_per_year: f64,
    pub touch_up_threshold: f64,
    pub scar_factor: f64,
    pub sun_exposure_factor: PerSunExposure<f64>,
    pub skin_type_factor: PerSkinType<f64>,
    pub swimming_factor: f64,
    pub dot_spread_per_year: f64,
    pub hue_cooling_per_year: f64,
    pub touch_up_restores: f64,
}

/// Aftercare instructions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AftercareSettings {
    /// The instructions, day 0 being the session.
    pub items: Vec<AftercareItem>,
}

/// One aftercare instruction over a range of days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AftercareItem {
    /// Stable id.
    pub id: String,
    /// Expect, avoid or do.
    pub kind: AftercareKind,
    /// First day it applies (0 = the session day).
    pub from_day: u32,
    /// Last day it applies, inclusive.
    pub to_day: u32,
    /// The instruction.
    pub text: String,
    /// Where it comes from.
    pub source: String,
    /// Only for some clients: `gym`, `swimming`, `dry_skin`, `oily_skin`, `high_sun`.
    #[serde(rename = "if", default, skip_serializing_if = "Option::is_none")]
    pub only_if: Option<String>,
    /// A clinic can switch a default item off.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
}

/// The kind of an aftercare instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AftercareKind {
    /// What the client will see.
    Expect,
    /// What not to do.
    Avoid,
    /// What to do.
    Do,
}

/// Client conditions an aftercare or pre-care item may be limited to.
pub const AFTERCARE_CONDITIONS: [&str; 6] = [
    "gym",
    "swimming",
    "dry_skin",
    "oily_skin",
    "high_sun",
    "minoxidil",
];

/// What the client does (and does not do) before each session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrecareSettings {
    /// The instructions.
    pub items: Vec<PrecareItem>,
}

/// One pre-care instruction, from some hours before a session until it starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PrecareItem {
    /// Stable id.
    pub id: String,
    /// From how many hours before the session it applies (0 = the session day itself).
    pub hours_before: u32,
    /// The instruction.
    pub text: String,
    /// Where it comes from.
    pub source: String,
    /// Only for some clients (as aftercare items' `if`).
    #[serde(rename = "if", default, skip_serializing_if = "Option::is_none")]
    pub only_if: Option<String>,
    /// A clinic can switch a default item off.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
}

impl PrecareItem {
    /// The first day it applies, counted back from the session day (0 = the session day).
    pub fn days_before(&self) -> u32 {
        self.hours_before.div_ceil(24)
    }
}

/// Checks of a photo taken to be compared (`[photos]`): size, exposure and focus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotoCheckSettings {
    /// Shortest side, pixels; a smaller photo is refused.
    pub min_side_px: u32,
    /// Mean grey level (0–1) below which a photo is too dark.
    pub min_brightness: f64,
    /// Mean grey level (0–1) above which a photo is too bright.
    pub max_brightness: f64,
    /// Variance of the Laplacian of the grey image reduced to 512 px below which a photo is
    /// blurred.
    pub min_sharpness: f64,
}

/// The patch-test visit a rule with outcome `patch_test` asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchTestSettings {
    /// Days between the patch test and session 1 (the test is read at session 1).
    pub days_before_first_session: u32,
    /// Length of the visit, hours.
    pub visit_hours: f64,
    /// What happens at the visit, for the client.
    pub text: String,
    /// Where it comes from.
    pub source: String,
}

/// The diary (`[diary]`): opening hours, closed dates, the booking grid, stock per session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiarySettings {
    /// Opening time, `HH:MM` (the clinic's wall clock).
    pub opens: String,
    /// Closing time, `HH:MM`, after `opens`.
    pub closes: String,
    /// Days closed besides the weekly closed days, `YYYY-MM-DD`.
    pub closed_dates: Vec<String>,
    /// The clinic's rooms (or chairs), by name, each a column of the diary's room view and
    /// booked once at a time; empty: one room, not shown.
    pub rooms: Vec<String>,
    /// Minutes of a row of the diary and of a dragged appointment's step.
    pub step_minutes: u32,
    /// Pigment units one session takes off its batch (the session log's default).
    pub pigment_units_per_session: u32,
    /// Length of a touch-up recall visit, hours.
    pub touch_up_visit_hours: f64,
}

impl DiarySettings {
    /// Opening time (checked when the settings were read).
    pub fn opens_at(&self) -> time::Time {
        crate::plan::parse_clock(&self.opens).unwrap_or(time::Time::MIDNIGHT)
    }

    /// Closing time (checked when the settings were read).
    pub fn closes_at(&self) -> time::Time {
        crate::plan::parse_clock(&self.closes).unwrap_or(time::Time::MIDNIGHT)
    }

    /// The closed dates (each checked when the settings were read).
    pub fn closed_days(&self) -> Vec<time::Date> {
        self.closed_dates
            .iter()
            .filter_map(|d| crate::profile::parse_date(d).ok())
            .collect()
    }
}

/// Most rooms a clinic lists in `diary.rooms` (a column each in the diary).
pub const MAX_ROOMS: usize = 20;
/// Most characters of a room's name (a column heading).
pub const MAX_ROOM_NAME_CHARS: usize = 40;

/// Checks `diary.rooms`: at most [`MAX_ROOMS`] names, each of 1–[`MAX_ROOM_NAME_CHARS`]
/// characters with no comma (the settings form separates them by commas), none twice (names
/// compared without case and surrounding spaces).
fn check_rooms(rooms: &[String]) -> InputResult<()> {
    if rooms.len() > MAX_ROOMS {
        return Err(InputError::field(
            "diary.rooms",
            format!("expected at most {MAX_ROOMS} rooms, got {}", rooms.len()),
        ));
    }
    for (i, room) in rooms.iter().enumerate() {
        let field = format!("diary.rooms[{i}]");
        let name = room.trim();
        if name.is_empty() {
            return Err(InputError::field(
                field,
                format!("expected a room's name (1–{MAX_ROOM_NAME_CHARS} characters), got {room:?}"),
            ));
        }
        if name != room {
            return Err(InputError::field(
                field,
                format!("expected a room's name without spaces around it, got {room:?}"),
            ));
        }
        if name.chars().count() > MAX_ROOM_NAME_CHARS
            || name.contains(',')
            || name.chars().any(char::is_control)
        {
            return Err(InputError::field(
                field,
                format!(
                    "expected a room's name of 1–{MAX_ROOM_NAME_CHARS} characters without commas, got {room:?} ({} characters)",
                    name.chars().count()
                ),
            ));
        }
        if let Some(j) = rooms[..i]
            .iter()
            .position(|r| r.trim().to_lowercase() == name.to_lowercase())
        {
            return Err(InputError::field(
                field,
                format!("expected each room once, got {room:?} again (it is diary.rooms[{j}])"),
            ));
        }
    }
    Ok(())
}

/// What a clinic keeps by law when a client asks for erasure (the legal hold).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordsSettings {
    /// The kinds of record kept: any of [`HELD_RECORD_KINDS`].
    pub held: Vec<String>,
    /// How long they are kept after the client's last session, years.
    pub hold_years: u32,
    /// Where the rule comes from.
    pub source: String,
}

/// The kinds of record a legal hold may keep.
pub const HELD_RECORD_KINDS: [&str; 5] = [
    "consents",
    "session_logs",
    "consultations",
    "appointments",
    "payments",
];

/// How quotes are priced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct PricingSettings {
    pub mode: PricingMode,
    pub currency: String,
    pub round_to: u32,
    pub session_fee: f64,
    pub hourly_rate: f64,
    pub regions: BTreeMap<String, f64>,
    pub region_zones: BTreeMap<String, Vec<ZoneKind>>,
    pub package: Vec<PackageBand>,
    pub scar_factor: f64,
    pub deposit: f64,
    pub cancellation_hours: u32,
    /// How many days an issued quote holds (the stored record's `valid_until`).
    pub quote_valid_days: u32,
    pub touch_up_fraction: f64,
    pub touch_up_min: f64,
    pub touch_up_max: f64,
    pub default_location: String,
    pub locations: Vec<Location>,
}

/// How a quote is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PricingMode {
    /// A fee per session plus an hourly rate.
    PerSession,
    /// A price per region of the head for the whole course.
    PerRegion,
    /// One price by treated-area band.
    Package,
    /// One price by hair-loss stage (a location's `stage_prices`); stages without a price
    /// are priced per session.
    ByStage,
}

/// A package price band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageBand {
    /// Upper bound of the treated area, cm², inclusive.
    pub up_to_cm2: f64,
    /// The package price.
    pub price: f64,
}

/// A pricing location profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// Stable id, named by client files.
    pub id: String,
    /// Factor on every price.
    pub factor: f64,
    /// ISO 4217 currency code.
    pub currency: String,
    /// The location's own pricing mode (default: the clinic's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<PricingMode>,
    /// Own session fee, used as given (not scaled by `factor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_fee: Option<f64>,
    /// Own hourly rate, used as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hourly_rate: Option<f64>,
    /// Own package bands by treated area, used as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<Vec<PackageBand>>,
    /// Course price by hair-loss stage: scale (`norwood`, `ludwig`, `savin`) → stage → price,
    /// used as given; for scales without stages the stage key is `all`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stage_prices: BTreeMap<String, BTreeMap<String, f64>>,
    /// Own deposit, used as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deposit: Option<f64>,
    /// Own lower bound of the touch-up price, used as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub touch_up_min: Option<f64>,
    /// Own upper bound of the touch-up price, used as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub touch_up_max: Option<f64>,
    /// A clinic can switch a default location off.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
}

/// Default head sizes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadSettings {
    /// Circumference, cm, by sex (`male`, `female`).
    pub circumference_cm: BTreeMap<String, f64>,
    /// Glabella–opisthocranion length, mm, by sex.
    pub length_mm: BTreeMap<String, f64>,
    /// Height of the vertex above the glabella plane, mm, by sex (the pattern engine's head
    /// model, when a design does not give it).
    pub height_mm: BTreeMap<String, f64>,
}

impl Default for Settings {
    /// The default settings file (`settings/default.toml`).
    fn default() -> Self {
        Settings::defaults().clone()
    }
}

impl Settings {
    /// The default settings, parsed once and shared.
    pub fn defaults() -> &'static Settings {
        &DEFAULTS
    }

    /// Parses a full settings document (defaults merged with `overrides`, a clinic file's text).
    ///
    /// Errors name the field; the location is in the clinic file when the field is there.
    pub fn from_toml(defaults: &str, overrides: Option<&str>) -> InputResult<Settings> {
        let default_doc = SpannedDoc::new(defaults);
        let mut table: toml::Table =
            toml::from_str(defaults).map_err(|e| InputError::from_toml(&e, &default_doc))?;
        let override_doc = overrides.map(SpannedDoc::new);
        if let (Some(text), Some(doc)) = (overrides, &override_doc) {
            let over: toml::Table = toml::from_str(text).map_err(|e| InputError::from_toml(&e, doc))?;
            merge_tables(&mut table, over);
        }
        let settings: SettingsData =
            toml::Value::Table(table.clone())
                .try_into()
                .map_err(|e: toml::de::Error| {
                    let err = InputError::field(error_field(&table), e.message().trim());
                    match &override_doc {
                        Some(doc) => err.placed(doc),
                        None => err.placed(&default_doc),
                    }
                })?;
        // Validate before dropping disabled entries, so that indices in field paths are those of
        // the merged lists, which `override_field` maps back to the clinic file's own indices.
        settings
            .validate()
            .map_err(|mut e| match (&override_doc, overrides) {
                (Some(doc), Some(text)) => {
                    e.field = override_field(&e.field, &table, text).unwrap_or(e.field);
                    if doc.locate(&e.field).is_some() {
                        e.placed(doc)
                    } else {
                        e
                    }
                }
                _ => e.placed(&default_doc),
            })?;
        Settings::checked(settings)
    }

    /// The default settings merged with a clinic's file.
    pub fn with_overrides(clinic_toml: &str) -> InputResult<Settings> {
        Settings::from_toml(DEFAULT_SETTINGS_TOML, Some(clinic_toml))
    }

    /// Validated data without its disabled entries, if the default location is still there.
    fn checked(data: SettingsData) -> InputResult<Settings> {
        let settings = data.without_disabled();
        if settings.location(&settings.pricing.default_location).is_none() {
            return Err(InputError::field(
                "pricing.default_location",
                format!(
                    "{:?} is disabled or unknown ({})",
                    settings.pricing.default_location,
                    location_ids(&settings)
                ),
            ));
        }
        Ok(Settings(settings))
    }
}

impl SettingsData {
    fn without_disabled(mut self) -> SettingsData {
        self.eligibility.rules.retain(|r| !r.disabled);
        self.aftercare.items.retain(|i| !i.disabled);
        self.precare.items.retain(|i| !i.disabled);
        self.pricing.locations.retain(|l| !l.disabled);
        self
    }

    /// The rule with this id.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.eligibility.rules.iter().find(|r| r.id == id)
    }

    /// The location profile with this id.
    pub fn location(&self, id: &str) -> Option<&Location> {
        self.pricing.locations.iter().find(|l| l.id == id)
    }

    /// Cumulative density shares for a plan of `count` sessions.
    pub fn session_fractions(&self, count: usize) -> Option<&[f64]> {
        self.density
            .session_fractions
            .get(&SessionCount::new(count)?)
            .map(Vec::as_slice)
    }

    /// Water share of the mix for each session of a plan of `count` sessions.
    pub fn session_dilution(&self, count: usize) -> Option<&[f64]> {
        self.pigment
            .session_dilution
            .get(&SessionCount::new(count)?)
            .map(Vec::as_slice)
    }

    /// The largest session count the settings can plan (the most sessions with density shares and dilutions).
    pub fn max_planned_sessions(&self) -> usize {
        (1..=SessionCount::MAX)
            .take_while(|n| self.session_fractions(*n).is_some() && self.session_dilution(*n).is_some())
            .count()
    }

    /// Checks ranges and cross-references; the error names the field.
    pub fn validate(&self) -> InputResult<()> {
        let e = |field: &str, message: String| Err(InputError::field(field, message));
        let el = &self.eligibility;
        let mut ids = std::collections::BTreeSet::new();
        for (i, rule) in el.rules.iter().enumerate() {
            let at = |k: &str| format!("eligibility.rules[{i}].{k}");
            if !ids.insert(rule.id.as_str()) {
                return e(
                    &at("id"),
                    format!("rule id {:?} is used twice; ids must be unique", rule.id),
                );
            }
            let w = &rule.when;
            let any = w.condition.is_some()
                || w.medication.is_some()
                || w.event.is_some()
                || w.age_below.is_some()
                || w.hair_loss.is_some()
                || w.progressing.is_some()
                || w.fitzpatrick.is_some()
                || w.grey_percent_at_least.is_some()
                || w.scar_kind.is_some()
                || w.stable_less_than_days.is_some()
                || w.scar_age_below_days.is_some()
                || w.answer.is_some();
            if !any {
                return e(&at("when"), "a rule needs at least one matcher (condition, medication, event, age_below, hair_loss, progressing, fitzpatrick, grey_percent_at_least, scar_kind, stable_less_than_days, scar_age_below_days, answer)".into());
            }
            for (key, days) in [
                ("stable_less_than_days", w.stable_less_than_days),
                ("scar_age_below_days", w.scar_age_below_days),
            ] {
                if let Some(d) = days
                    && !(1..=3650).contains(&d)
                {
                    return e(
                        &at(&format!("when.{key}")),
                        format!("expected 1–3650 days, got {d}"),
                    );
                }
            }
            let answers = || {
                crate::profile::ANSWERS
                    .iter()
                    .map(|a| a.id)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            if let Some(a) = &w.answer
                && crate::profile::answer(a).is_none()
            {
                return e(
                    &at("when.answer"),
                    format!("expected one of {}, got {a:?}", answers()),
                );
            }
            for (j, a) in rule.asks.iter().enumerate() {
                if crate::profile::answer(a).is_none() {
                    return e(
                        &at(&format!("asks[{j}]")),
                        format!("expected one of {}, got {a:?}", answers()),
                    );
                }
            }
            if w.within_days.is_some() && w.medication.is_none() && w.event.is_none() {
                return e(
                    &at("when.within_days"),
                    "within_days needs a medication or an event".into(),
                );
            }
            if w.event.is_some() && w.within_days.is_none() {
                return e(&at("when.within_days"), "an event rule needs within_days".into());
            }
            check_known(
                &at("when.condition"),
                w.condition.as_deref(),
                &el.known_conditions,
            )?;
            check_known(
                &at("when.medication"),
                w.medication.as_deref(),
                &el.known_medications,
            )?;
            check_known(&at("when.event"), w.event.as_deref(), &el.known_events)?;
            for (j, scale) in w.hair_loss.iter().flatten().enumerate() {
                if !crate::profile::HAIR_LOSS_SCALES.contains(&scale.as_str()) {
                    return e(
                        &format!("{}[{j}]", at("when.hair_loss")),
                        format!(
                            "expected one of {}, got {scale:?}",
                            crate::profile::HAIR_LOSS_SCALES.join(", ")
                        ),
                    );
                }
            }
            for (j, f) in w.fitzpatrick.iter().flatten().enumerate() {
                Fitzpatrick::parse_str(f)
                    .map_err(|m| InputError::field(format!("{}[{j}]", at("when.fitzpatrick")), m))?;
            }
            for (j, k) in w.scar_kind.iter().flatten().enumerate() {
                if !crate::profile::SCAR_KINDS.contains(&k.as_str()) {
                    return e(
                        &format!("{}[{j}]", at("when.scar_kind")),
                        format!(
                            "expected one of {}, got {k:?}",
                            crate::profile::SCAR_KINDS.join(", ")
                        ),
                    );
                }
            }
        }
        let ap = &self.approach;
        crate::profile::NorwoodStage::parse(&ap.density_max_norwood)
            .map_err(|m| InputError::field("approach.density_max_norwood", m))?;
        fraction(
            "approach.density_factor_among_hair",
            ap.density_factor_among_hair,
            0.05,
            1.0,
        )?;

        for zone in ZoneKind::ALL {
            within_limit(
                &format!("density.per_zone_dots_per_cm2.{zone}"),
                self.density.per_zone_dots_per_cm2[zone],
            )?;
            let n = &self.needles.per_zone[zone];
            if NeedleGauge::of_cartridge(n).is_none() {
                return e(
                    &format!("needles.per_zone.{zone}"),
                    format!(
                        "expected a cartridge name starting with its gauge ({}), such as \"0603RL\", got {n:?}",
                        NeedleGauge::ALL.map(NeedleGauge::as_str).join(", ")
                    ),
                );
            }
        }
        for g in NeedleGauge::ALL {
            let d = *self.needles.gauge_diameter_mm.get(g);
            fraction(&format!("needles.gauge_diameter_mm.{}", g.as_str()), d, 0.1, 1.0)?;
        }
        for (count, shares) in &self.density.session_fractions {
            let field = format!("density.session_fractions.{}", count.get());
            check_shares(&field, *count, shares, true)?;
        }
        for (count, dilutions) in &self.pigment.session_dilution {
            let field = format!("pigment.session_dilution.{}", count.get());
            check_shares(&field, *count, dilutions, false)?;
        }
        if self.max_planned_sessions() < 2 {
            return e(
                "density.session_fractions",
                "shares and dilutions are needed for plans of 1 and 2 sessions at least".into(),
            );
        }
        fraction(
            "density.healing_loss_fraction",
            self.density.healing_loss_fraction,
            0.0,
            0.5,
        )?;

        fraction("scars.margin_mm", self.scars.margin_mm, 0.0, 30.0)?;
        fraction(
            "scars.fue_area_per_punch_cm2",
            self.scars.fue_area_per_punch_cm2,
            0.01,
            1.0,
        )?;

        let s = &self.sessions;
        for (approach, &n) in s.base_count.iter() {
            if !(1..=self.max_planned_sessions() as u32).contains(&n) {
                return e(
                    &format!("sessions.base_count.{}", approach.as_str()),
                    format!(
                        "expected 1–{} (sessions with density shares and dilutions), got {n}",
                        self.max_planned_sessions()
                    ),
                );
            }
        }
        fraction("sessions.max_hours", s.max_hours, 0.5, 12.0)?;
        fraction("sessions.min_hours", s.min_hours, 0.25, s.max_hours)?;
        fraction("sessions.slot_step_hours", s.slot_step_hours, 0.05, 2.0)?;
        fraction("sessions.setup_hours", s.setup_hours, 0.0, 3.0)?;
        fraction(
            "sessions.first_session_design_hours",
            s.first_session_design_hours,
            0.0,
            3.0,
        )?;
        // Every session part keeps at least min_work_hours of work (the planner's capacity).
        if s.setup_hours + s.first_session_design_hours + s.min_work_hours > s.max_hours {
            return e(
                "sessions.max_hours",
                format!(
                    "{} h leaves less than sessions.min_work_hours ({} h) to work after setup and design",
                    s.max_hours, s.min_work_hours
                ),
            );
        }
        fraction("sessions.dots_per_hour", s.dots_per_hour, 100.0, 50_000.0)?;
        fraction(
            "sessions.hairline_speed_factor",
            s.hairline_speed_factor,
            0.1,
            2.0,
        )?;
        crate::plan::parse_clock(&s.start_time).map_err(|m| InputError::field("sessions.start_time", m))?;

        let iv = &self.intervals;
        if !(1..=365).contains(&iv.minimum_days) {
            return e(
                "intervals.minimum_days",
                format!("expected 1–365, got {}", iv.minimum_days),
            );
        }
        for (field, v) in [
            ("default_days", iv.default_days),
            ("after_scar_work_days", iv.after_scar_work_days),
        ] {
            if v < iv.minimum_days || v > 365 {
                return e(
                    &format!("intervals.{field}"),
                    format!(
                        "expected {}–365 (at least minimum_days), got {v}",
                        iv.minimum_days
                    ),
                );
            }
        }
        if !(1..=24).contains(&iv.max_sessions_per_12_months) {
            return e(
                "intervals.max_sessions_per_12_months",
                format!("expected 1–24, got {}", iv.max_sessions_per_12_months),
            );
        }
        if iv.working_days.is_empty() {
            return e(
                "intervals.working_days",
                "at least one working day is needed".into(),
            );
        }
        for (i, d) in iv.working_days.iter().enumerate() {
            crate::plan::parse_weekday(d)
                .map_err(|m| InputError::field(format!("intervals.working_days[{i}]"), m))?;
        }

        let p = &self.pigment;
        fraction("pigment.min", p.min, 0.0, 1.0)?;
        fraction("pigment.max", p.max, p.min, 1.0)?;
        if p.shades.is_empty() || p.shades.last().is_some_and(|b| b.up_to < p.max) {
            return e(
                "pigment.shades",
                format!("the last band must reach pigment.max ({})", p.max),
            );
        }

        let f = &self.fading;
        fraction("fading.early_loss", f.early_loss, 0.0, 0.5)?;
        fraction("fading.early_weeks", f.early_weeks, 0.1, 26.0)?;
        fraction(
            "fading.contrast_loss_per_year",
            f.contrast_loss_per_year,
            0.001,
            1.0,
        )?;
        fraction("fading.touch_up_threshold", f.touch_up_threshold, 0.1, 0.95)?;
        fraction("fading.scar_factor", f.scar_factor, 0.5, 5.0)?;
        fraction("fading.swimming_factor", f.swimming_factor, 0.5, 3.0)?;
        fraction(
            "fading.touch_up_restores",
            f.touch_up_restores,
            f.touch_up_threshold,
            1.0,
        )?;
        for (s, &v) in f.sun_exposure_factor.iter() {
            within_limit(&format!("fading.sun_exposure_factor.{}", s.as_str()), v)?;
        }
        for (s, &v) in f.skin_type_factor.iter() {
            within_limit(&format!("fading.skin_type_factor.{}", s.as_str()), v)?;
        }

        let mut ids = std::collections::BTreeSet::new();
        for (i, item) in self.aftercare.items.iter().enumerate() {
            let at = |k: &str| format!("aftercare.items[{i}].{k}");
            if !ids.insert(item.id.as_str()) {
                return e(&at("id"), format!("aftercare id {:?} is used twice", item.id));
            }
            if item.to_day < item.from_day || item.to_day > 366 {
                return e(
                    &at("to_day"),
                    format!(
                        "expected {}–366 (not before from_day), got {}",
                        item.from_day, item.to_day
                    ),
                );
            }
            if let Some(cond) = &item.only_if
                && !AFTERCARE_CONDITIONS.contains(&cond.as_str())
            {
                return e(
                    &at("if"),
                    format!(
                        "expected one of {}, got {cond:?}",
                        AFTERCARE_CONDITIONS.join(", ")
                    ),
                );
            }
        }

        let mut ids = std::collections::BTreeSet::new();
        for (i, item) in self.precare.items.iter().enumerate() {
            let at = |k: &str| format!("precare.items[{i}].{k}");
            if !ids.insert(item.id.as_str()) {
                return e(&at("id"), format!("pre-care id {:?} is used twice", item.id));
            }
            if item.hours_before > 720 {
                return e(
                    &at("hours_before"),
                    format!("expected 0–720 hours (30 days), got {}", item.hours_before),
                );
            }
            if let Some(cond) = &item.only_if
                && !AFTERCARE_CONDITIONS.contains(&cond.as_str())
            {
                return e(
                    &at("if"),
                    format!(
                        "expected one of {}, got {cond:?}",
                        AFTERCARE_CONDITIONS.join(", ")
                    ),
                );
            }
        }
        let ph = &self.photos;
        within_limit("photos.min_side_px", f64::from(ph.min_side_px))?;
        within_limit("photos.min_brightness", ph.min_brightness)?;
        within_limit("photos.max_brightness", ph.max_brightness)?;
        within_limit("photos.min_sharpness", ph.min_sharpness)?;
        if ph.min_brightness >= ph.max_brightness {
            return e(
                "photos.max_brightness",
                format!(
                    "expected more than photos.min_brightness ({}), got {}",
                    ph.min_brightness, ph.max_brightness
                ),
            );
        }
        let pt = &self.patch_test;
        if !(1..=90).contains(&pt.days_before_first_session) {
            return e(
                "patch_test.days_before_first_session",
                format!("expected 1–90 days, got {}", pt.days_before_first_session),
            );
        }
        fraction("patch_test.visit_hours", pt.visit_hours, 0.1, 3.0)?;
        let d = &self.diary;
        let opens = crate::plan::parse_clock(&d.opens).map_err(|m| InputError::field("diary.opens", m))?;
        let closes = crate::plan::parse_clock(&d.closes).map_err(|m| InputError::field("diary.closes", m))?;
        if closes <= opens {
            return e(
                "diary.closes",
                format!(
                    "expected a time after diary.opens ({}), got {:?}",
                    d.opens, d.closes
                ),
            );
        }
        for (i, day) in d.closed_dates.iter().enumerate() {
            crate::profile::parse_date(day)
                .map_err(|m| InputError::field(format!("diary.closed_dates[{i}]"), m))?;
        }
        check_rooms(&d.rooms)?;
        within_limit("diary.step_minutes", f64::from(d.step_minutes))?;
        within_limit(
            "diary.pigment_units_per_session",
            f64::from(d.pigment_units_per_session),
        )?;
        within_limit("diary.touch_up_visit_hours", d.touch_up_visit_hours)?;
        let records = &self.records;
        if !(1..=100).contains(&records.hold_years) {
            return e(
                "records.hold_years",
                format!("expected 1–100 years, got {}", records.hold_years),
            );
        }
        for (i, kind) in records.held.iter().enumerate() {
            if !HELD_RECORD_KINDS.contains(&kind.as_str()) {
                return e(
                    &format!("records.held[{i}]"),
                    format!("expected one of {}, got {kind:?}", HELD_RECORD_KINDS.join(", ")),
                );
            }
        }

        let pr = &self.pricing;
        check_currency("pricing.currency", &pr.currency)?;
        if pr.round_to == 0 || pr.round_to > 1000 {
            return e(
                "pricing.round_to",
                format!("expected 1–1000, got {}", pr.round_to),
            );
        }
        for (field, v) in [
            ("session_fee", pr.session_fee),
            ("hourly_rate", pr.hourly_rate),
            ("deposit", pr.deposit),
            ("touch_up_min", pr.touch_up_min),
            ("touch_up_max", pr.touch_up_max),
        ] {
            fraction(&format!("pricing.{field}"), v, 0.0, 1_000_000.0)?;
        }
        if pr.touch_up_max < pr.touch_up_min {
            return e(
                "pricing.touch_up_max",
                format!("{} is below touch_up_min ({})", pr.touch_up_max, pr.touch_up_min),
            );
        }
        if !(1..=365).contains(&pr.quote_valid_days) {
            return e(
                "pricing.quote_valid_days",
                format!("expected 1–365 days, got {}", pr.quote_valid_days),
            );
        }
        fraction("pricing.touch_up_fraction", pr.touch_up_fraction, 0.0, 1.0)?;
        fraction("pricing.scar_factor", pr.scar_factor, 0.5, 5.0)?;
        for (region, &price) in &pr.regions {
            fraction(&format!("pricing.regions.{region}"), price, 0.0, 1_000_000.0)?;
            if !pr.region_zones.contains_key(region) {
                return e(
                    &format!("pricing.regions.{region}"),
                    "this region has no zones in pricing.region_zones".into(),
                );
            }
        }
        for zone in ZoneKind::ALL {
            let n = pr.region_zones.values().filter(|zs| zs.contains(&zone)).count();
            if n != 1 {
                return e(
                    "pricing.region_zones",
                    format!("zone {zone:?} must be in exactly one region, it is in {n}"),
                );
            }
        }
        for region in pr.region_zones.keys() {
            if !pr.regions.contains_key(region) {
                return e(
                    &format!("pricing.region_zones.{region}"),
                    "this region has no price in pricing.regions".into(),
                );
            }
        }
        if pr.package.is_empty() {
            return e("pricing.package", "at least one package band is needed".into());
        }
        for (i, band) in pr.package.iter().enumerate() {
            fraction(
                &format!("pricing.package[{i}].price"),
                band.price,
                0.0,
                1_000_000.0,
            )?;
            if i > 0
                && (band.up_to_cm2 <= pr.package[i - 1].up_to_cm2 || band.price < pr.package[i - 1].price)
            {
                return e(
                    &format!("pricing.package[{i}]"),
                    "bands must grow in area and not fall in price".into(),
                );
            }
        }
        let mut ids = std::collections::BTreeSet::new();
        for (i, loc) in pr.locations.iter().enumerate() {
            if !ids.insert(loc.id.as_str()) {
                return e(
                    &format!("pricing.locations[{i}].id"),
                    format!("location id {:?} is used twice", loc.id),
                );
            }
            fraction(&format!("pricing.locations[{i}].factor"), loc.factor, 0.05, 20.0)?;
            check_currency(&format!("pricing.locations[{i}].currency"), &loc.currency)?;
            check_location_figures(i, loc, pr)?;
        }
        if self.location(&pr.default_location).is_none() {
            return e(
                "pricing.default_location",
                format!(
                    "{:?} is not a location id ({})",
                    pr.default_location,
                    location_ids(self)
                ),
            );
        }
        for sex in ["male", "female"] {
            match (
                self.head.circumference_cm.get(sex),
                self.head.length_mm.get(sex),
                self.head.height_mm.get(sex),
            ) {
                (Some(&c), Some(&l), Some(&h)) => {
                    fraction(&format!("head.circumference_cm.{sex}"), c, 40.0, 70.0)?;
                    fraction(&format!("head.length_mm.{sex}"), l, 140.0, 240.0)?;
                    within_limit(&format!("head.height_mm.{sex}"), h)?;
                }
                _ => {
                    return e(
                        "head",
                        format!("circumference_cm, length_mm and height_mm need a {sex:?} value"),
                    );
                }
            }
        }
        for (path, v) in [
            ("sessions.extra_for_alopecia", f64::from(s.extra_for_alopecia)),
            (
                "sessions.extra_for_scars_with_coverage",
                f64::from(s.extra_for_scars_with_coverage),
            ),
            ("pigment.grey_adjust_at_full_grey", p.grey_adjust_at_full_grey),
            ("pigment.hairline_soft_extra", p.hairline_soft_extra),
            ("fading.dot_spread_per_year", f.dot_spread_per_year),
            ("fading.hue_cooling_per_year", f.hue_cooling_per_year),
            ("fading.early_loss_cap", f.early_loss_cap),
            ("sessions.min_work_hours", s.min_work_hours),
            ("pricing.cancellation_hours", f64::from(pr.cancellation_hours)),
        ] {
            within_limit(path, v)?;
        }
        for (f, v) in p.fitzpatrick_adjust.iter() {
            within_limit(&format!("pigment.fitzpatrick_adjust.{f}"), *v)?;
        }
        for (c, v) in p.hair_colour_adjust.iter() {
            within_limit(&format!("pigment.hair_colour_adjust.{}", c.as_str()), *v)?;
        }
        self.pattern.validate()?;
        self.render.validate()?;
        self.clinic.validate()?;
        self.portal.validate()?;
        self.estimator.validate()?;
        self.consent.validate()?;
        self.messages.validate()?;
        Ok(())
    }
}

/// The ids of the location profiles, for error messages.
pub fn location_ids(settings: &SettingsData) -> String {
    settings
        .pricing
        .locations
        .iter()
        .map(|l| l.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A location's own price figures: in range, bands growing, stages known, touch-up bounds in order.
fn check_location_figures(i: usize, loc: &Location, pr: &PricingSettings) -> InputResult<()> {
    let at = |k: &str| format!("pricing.locations[{i}].{k}");
    for (key, v) in [
        ("session_fee", loc.session_fee),
        ("hourly_rate", loc.hourly_rate),
        ("deposit", loc.deposit),
        ("touch_up_min", loc.touch_up_min),
        ("touch_up_max", loc.touch_up_max),
    ] {
        if let Some(v) = v {
            fraction(&at(key), v, 0.0, 1_000_000.0)?;
        }
    }
    let min = loc.touch_up_min.unwrap_or(pr.touch_up_min * loc.factor);
    let max = loc.touch_up_max.unwrap_or(pr.touch_up_max * loc.factor);
    if max < min {
        // Name the profile's own minimum when it has one (the maximum may be the clinic's, scaled).
        return Err(if loc.touch_up_min.is_some() {
            InputError::field(
                at("touch_up_min"),
                format!("{min} is above the touch-up maximum ({max})"),
            )
        } else {
            InputError::field(
                at("touch_up_max"),
                format!("{max} is below the touch-up minimum ({min})"),
            )
        });
    }
    for (j, band) in loc.package.iter().flatten().enumerate() {
        fraction(&at(&format!("package[{j}].price")), band.price, 0.0, 1_000_000.0)?;
        let bands = loc.package.as_deref().unwrap_or_default();
        if j > 0 && (band.up_to_cm2 <= bands[j - 1].up_to_cm2 || band.price < bands[j - 1].price) {
            return Err(InputError::field(
                at(&format!("package[{j}]")),
                "bands must grow in area and not fall in price",
            ));
        }
    }
    if loc.package.as_ref().is_some_and(Vec::is_empty) {
        return Err(InputError::field(
            at("package"),
            "at least one package band is needed",
        ));
    }
    for (scale, stages) in &loc.stage_prices {
        let Some(allowed) = stage_names(scale) else {
            return Err(InputError::field(
                at(&format!("stage_prices.{scale}")),
                format!(
                    "expected a scale with stages (norwood, ludwig, savin) or one priced whole (diffuse, alopecia_totalis, alopecia_universalis), got {scale:?}"
                ),
            ));
        };
        for (stage, &price) in stages {
            let field = at(&format!("stage_prices.{scale}.{stage}"));
            if !allowed.contains(&stage.as_str()) {
                return Err(InputError::field(
                    field,
                    format!("expected one of {}, got {stage:?}", allowed.join(", ")),
                ));
            }
            fraction(&field, price, 0.0, 1_000_000.0)?;
        }
    }
    Ok(())
}

/// The stage names of a hair-loss scale as the settings key them (`stage_prices`,
/// `pattern.stages`): `all` for a scale without stages; `None` for an unknown scale.
pub(crate) fn stage_names(scale: &str) -> Option<Vec<&'static str>> {
    Some(match scale {
        "norwood" => crate::profile::NorwoodStage::ALL
            .iter()
            .map(|s| s.as_str())
            .collect(),
        "ludwig" => vec!["I", "II", "III"],
        "savin" => crate::profile::SAVIN_STAGES.to_vec(),
        "diffuse" | "alopecia_totalis" | "alopecia_universalis" => vec!["all"],
        _ => return None,
    })
}

fn check_known(field: &str, name: Option<&str>, known: &[String]) -> InputResult<()> {
    match name {
        Some(n) if !known.iter().any(|k| k == n) => Err(InputError::field(
            field,
            format!("{n:?} is not in the known list ({})", known.join(", ")),
        )),
        _ => Ok(()),
    }
}

fn check_currency(field: &str, code: &str) -> InputResult<()> {
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(InputError::field(
            field,
            format!("expected a three-letter ISO 4217 code such as USD, got {code:?}"),
        ))
    }
}

/// Checks `value` against the allowed range of `path` in [`schema::LIMITS`].
pub(crate) fn within_limit(path: &str, value: f64) -> InputResult<()> {
    within_limit_as(path, path, value)
}

/// Checks `value` against the [`schema::LIMITS`] range of `path`, naming `field` (an item of
/// a list, `render.fresh_redness[1]`) in the error.
pub(crate) fn within_limit_as(field: &str, path: &str, value: f64) -> InputResult<()> {
    match schema::limit(path) {
        Some((min, max, _)) => fraction(field, value, min, max),
        None => Ok(()),
    }
}

/// Checks that `value` lies in `[min, max]` and is a number.
pub(crate) fn fraction(field: &str, value: f64, min: f64, max: f64) -> InputResult<()> {
    if value.is_finite() && value >= min && value <= max {
        Ok(())
    } else {
        Err(InputError::field(
            field,
            format!("expected {min}–{max}, got {value}"),
        ))
    }
}

fn check_shares(field: &str, count: SessionCount, shares: &[f64], cumulative: bool) -> InputResult<()> {
    let n = count.get();
    if shares.len() != n {
        return Err(InputError::field(
            field,
            format!("expected {n} values (one per session), got {}", shares.len()),
        ));
    }
    for (i, &v) in shares.iter().enumerate() {
        fraction(&format!("{field}[{i}]"), v, 0.0, 1.0)?;
        if cumulative && i > 0 && v <= shares[i - 1] {
            return Err(InputError::field(
                format!("{field}[{i}]"),
                "cumulative shares must rise from session to session".to_string(),
            ));
        }
    }
    if cumulative && (shares[n - 1] - 1.0).abs() > 1e-9 {
        return Err(InputError::field(
            format!("{field}[{}]", n - 1),
            format!("the last session must reach 1.0, got {}", shares[n - 1]),
        ));
    }
    Ok(())
}

/// The field a type error in the merged settings is about.
///
/// Errors from deserialising a `toml::Value` carry no position, so the merged table is
/// written out and parsed again from text, which gives the error a span, and the span a path.
fn error_field(merged: &toml::Table) -> String {
    let Ok(text) = toml::to_string(merged) else {
        return String::new();
    };
    match toml::from_str::<SettingsData>(&text) {
        Err(e) => e
            .span()
            .and_then(|s| SpannedDoc::new(&text).path_at(&s))
            .unwrap_or_default(),
        Ok(_) => String::new(),
    }
}

/// Maps `eligibility.rules[38].when` in the merged settings to `eligibility.rules[0].when` in the
/// clinic file, through the entry's `id` (lists of tables with ids merge by id).
fn override_field(field: &str, merged: &toml::Table, overrides: &str) -> Option<String> {
    use crate::source::{Step, parse_path};
    let steps = parse_path(field);
    let (Some(Step::Key(section)), Some(Step::Key(list)), Some(Step::Index(n))) =
        (steps.first(), steps.get(1), steps.get(2))
    else {
        return None;
    };
    let id = merged.get(section)?.get(list)?.get(*n)?.get("id")?.clone();
    let over: toml::Table = toml::from_str(overrides).ok()?;
    let items = over.get(section)?.get(list)?.as_array()?;
    let index = items.iter().position(|item| item.get("id") == Some(&id))?;
    let prefix = format!("{section}.{list}[{n}]");
    Some(format!("{section}.{list}[{index}]{}", &field[prefix.len()..]))
}

/// Merges `over` into `base`: tables key by key, arrays of tables with `id` keys by id, anything else replaced.
fn merge_tables(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge_tables(b, o),
            (Some(toml::Value::Array(b)), toml::Value::Array(o)) if is_id_list(b) && is_id_list(&o) => {
                for item in o {
                    let id = item.get("id").cloned();
                    match b.iter_mut().find(|x| x.get("id") == id.as_ref()) {
                        Some(toml::Value::Table(existing)) => {
                            if let toml::Value::Table(t) = item {
                                merge_tables(existing, t);
                            }
                        }
                        _ => b.push(item),
                    }
                }
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

fn is_id_list(items: &[toml::Value]) -> bool {
    !items.is_empty() && items.iter().all(|v| v.get("id").is_some_and(toml::Value::is_str))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let s = Settings::default();
        assert_eq!(s.intervals.minimum_days, 10);
        assert!(s.max_planned_sessions() >= 4);
        assert!(s.rule("keloid").is_some());
    }

    fn check_err(overrides: &str, field: &str, line: Option<usize>, needle: &str) {
        let err = Settings::with_overrides(overrides).unwrap_err();
        assert_eq!(err.field, field, "{err}");
        assert_eq!(err.location.map(|l| l.line), line, "{err}");
        assert!(err.message.contains(needle), "{err}");
    }

    #[test]
    fn overrides_merge_and_validate() {
        let s = Settings::with_overrides("[intervals]\ndefault_days = 21\n[pricing]\ncurrency = \"EUR\"\n")
            .unwrap();
        assert_eq!(s.intervals.default_days, 21);
        assert_eq!(s.intervals.minimum_days, 10, "untouched keys keep their default");
        assert_eq!(s.pricing.currency, "EUR");

        check_err(
            "[intervals]\n\ndefault_days = 5\n",
            "intervals.default_days",
            Some(3),
            "at least minimum_days",
        );
        check_err(
            "[pricing]\ncurrency = \"dollars\"\n",
            "pricing.currency",
            Some(2),
            "ISO 4217",
        );
        check_err(
            "[sessions]\nmax_hours = -1\n",
            "sessions.max_hours",
            Some(2),
            "expected 0.5–12",
        );
    }

    #[test]
    fn rules_merge_by_id_and_can_be_disabled() {
        let s = Settings::with_overrides(
            "[[eligibility.rules]]\nid = \"keloid\"\ndisabled = true\n\n[[eligibility.rules]]\nid = \"recent-hair-transplant\"\nwhen = { event = \"hair_transplant\", within_days = 180 }\n",
        )
        .unwrap();
        assert!(s.rule("keloid").is_none());
        let r = s.rule("recent-hair-transplant").unwrap();
        assert_eq!(r.when.within_days, Some(180));
        assert_eq!(
            r.outcome,
            RuleOutcome::Defer,
            "unchanged keys of a rule keep their default"
        );
    }

    #[test]
    fn a_new_rule_must_use_known_names() {
        check_err(
            "[[eligibility.rules]]\nid = \"new\"\nwhen = { condition = \"psoraisis\" }\noutcome = \"defer\"\nmessage = \"m\"\nsource = \"s\"\n",
            "eligibility.rules[0].when.condition",
            Some(3),
            "not in the known list",
        );
    }

    #[test]
    fn pattern_and_render_tables_merge_and_validate() {
        let s = Settings::with_overrides(
            "[pattern]\nblend_width_mm = 12.0\n[pattern.soft]\nisolated_share = 0.05\n[render.optics]\nsurface_share_dark = 0.7\n",
        )
        .unwrap();
        assert_eq!(s.pattern.blend_width_mm, 12.0);
        assert_eq!(s.pattern.soft.isolated_share, 0.05);
        assert_eq!(
            s.pattern.soft.transition_width_mm,
            Settings::defaults().pattern.soft.transition_width_mm,
            "untouched keys of a sub-table keep their default"
        );
        assert_eq!(s.render.optics.surface_share_dark, 0.7);
        assert_eq!(s.render.depth_mm, Settings::defaults().render.depth_mm);

        check_err(
            "[pattern]\nblend_edge_fraction = 2.0\n",
            "pattern.blend_edge_fraction",
            Some(2),
            "expected 0.05–1, got 2",
        );
        check_err(
            "[render]\n\nhealed_dot_scale = 0.1\n",
            "render.healed_dot_scale",
            Some(3),
            "expected 0.5–10",
        );
        check_err(
            "[pattern]\nblend_widht_mm = 12.0\n",
            "pattern.blend_widht_mm",
            Some(2),
            "blend_width_mm",
        );
    }

    #[test]
    fn needle_diameters_come_from_the_gauge() {
        let s = Settings::with_overrides("[needles]\ngauge_diameter_mm.06 = 0.22\n").unwrap();
        assert_eq!(s.needles.cartridge_diameter_mm("0603RL"), Some(0.22));
        assert_eq!(s.needles.cartridge_diameter_mm("0803RL"), Some(0.25));
        assert_eq!(s.needles.cartridge_diameter_mm("0703RL"), None);
        check_err(
            "[needles]\nper_zone.crown = \"3RL\"\n",
            "needles.per_zone.crown",
            Some(2),
            "starting with its gauge",
        );
    }

    #[test]
    fn typed_keys_name_the_field_and_what_is_allowed() {
        check_err(
            "[density]\nper_zone_dots_per_cm2 = { crwn = 70 }\n",
            "density.per_zone_dots_per_cm2.crwn",
            Some(2),
            "expected one of `hairline`, `frontal`, `temples`, `mid_scalp`, `crown`, `sides_back`, `scar`",
        );
        check_err(
            "[pigment]\nfitzpatrick_adjust.VII = 0.1\n",
            "pigment.fitzpatrick_adjust.VII",
            Some(2),
            "expected one of `I`, `II`, `III`, `IV`, `V`, `VI`",
        );
        check_err(
            "[fading.sun_exposure_factor]\nextreme = 2.0\n",
            "fading.sun_exposure_factor.extreme",
            Some(2),
            "`low`, `moderate`, `high`",
        );
        check_err(
            "[density.session_fractions]\nthree = [0.3, 0.7, 1.0]\n",
            "density.session_fractions.three",
            Some(2),
            "expected a number of sessions 1–12 as the key, got \"three\"",
        );
        check_err(
            "[pigment]\nhair_colour_adjust.white = 0.9\n",
            "pigment.hair_colour_adjust.white",
            Some(2),
            "expected -0.5–0.5, got 0.9",
        );
        let s = Settings::with_overrides("[sessions.base_count]\ndensity = 2\n").unwrap();
        assert_eq!(s.sessions.base_count[crate::assess::Approach::Density], 2);
        assert_eq!(s.sessions.base_count.full_coverage, 3);
    }

    #[test]
    fn rooms_are_named_once_each() {
        assert!(Settings::default().diary.rooms.is_empty(), "one room by default");
        let s = Settings::with_overrides("[diary]\nrooms = [\"Room 1\", \"Chair B\"]\n").unwrap();
        assert_eq!(s.diary.rooms, ["Room 1", "Chair B"]);
        let refused = |rooms: &str, field: &str, needle: &str| {
            let err = Settings::with_overrides(&format!("[diary]\nrooms = {rooms}\n")).unwrap_err();
            assert_eq!(err.field, field, "{err}");
            assert!(err.message.contains(needle), "{err}");
        };
        refused(
            "[\"Room 1\", \"\"]",
            "diary.rooms[1]",
            "expected a room's name (1–40 characters), got \"\"",
        );
        refused(
            "[\"Room 1\", \"room 1\"]",
            "diary.rooms[1]",
            "expected each room once, got \"room 1\" again (it is diary.rooms[0])",
        );
        refused(
            &format!("[\"{}\"]", "A".repeat(41)),
            "diary.rooms[0]",
            "expected a room's name of 1–40 characters without commas",
        );
        refused("[\" Room 1\"]", "diary.rooms[0]", "without spaces around it");
        let many: Vec<String> = (0..21).map(|n| format!("\"Room {n}\"")).collect();
        refused(
            &format!("[{}]", many.join(", ")),
            "diary.rooms",
            "expected at most 20 rooms, got 21",
        );
    }

    #[test]
    fn deserialising_settings_checks_them() {
        let mut value = serde_json::to_value(Settings::defaults()).unwrap();
        assert_eq!(
            serde_json::from_value::<Settings>(value.clone()).unwrap(),
            *Settings::defaults()
        );
        value["intervals"]["minimum_days"] = serde_json::json!(0);
        let err = serde_json::from_value::<Settings>(value).unwrap_err();
        assert!(err.to_string().contains("intervals.minimum_days"), "{err}");
    }

    #[test]
    fn type_errors_name_the_field() {
        check_err(
            "[sessions]\n\nmax_hours = \"five\"\n",
            "sessions.max_hours",
            Some(3),
            "expected f64",
        );
    }

    #[test]
    fn the_figures_that_left_the_code_are_checked_by_name() {
        let err = |overrides: &str| Settings::with_overrides(overrides).unwrap_err();
        let e = err("[render.optics]\nfresh_redness = [0.08, -0.9, -0.12]\n");
        assert_eq!(e.field, "render.optics.fresh_redness[1]");
        assert_eq!(e.message, "expected -0.5–0.5, got -0.9");
        let e = err("[render.stencil]\npage_mm = [297.0, 50.0]\n");
        assert_eq!(e.field, "render.stencil.page_mm[1]");
        assert_eq!(e.message, "expected 100–1000, got 50");
        let e = err("[render.stencil]\npage_mm = [297.0, 120.0]\nmargin_mm = 40.0\nscale_bar_mm = 50.0\n");
        assert_eq!(e.field, "render.stencil.page_mm[1]");
        assert!(
            e.message.contains("less than the 50 mm scale bar"),
            "{}",
            e.message
        );
        let e = err("[pattern.stages.norwood]\nIII = { frontal_depth_mm = 400.0 }\n");
        assert_eq!(e.field, "pattern.stages.norwood.III.frontal_depth_mm");
        assert_eq!(e.message, "expected 5–150, got 400");
        let e = err("[pattern.stages.norwood]\nIX = { frontal_depth_mm = 40.0 }\n");
        assert_eq!(e.field, "pattern.stages.norwood.IX");
        assert!(e.message.contains("III-vertex"), "{}", e.message);
        let e = err("[pattern.stages.hamilton]\nall = { crown_radius_mm = 40.0 }\n");
        assert_eq!(e.field, "pattern.stages.hamilton");
        let e = err("[pattern.landmarks]\nlower_edge_azimuth_deg = [12.0, 20.0, -25.0, -55.0]\n");
        assert_eq!(e.field, "pattern.landmarks.lower_edge_azimuth_deg");
        let e = err("[pattern]\nscar_sites.temple = [0.55, 1.5]\n");
        assert_eq!(e.field, "pattern.scar_sites.temple[1]");
        let e = err("[pattern]\ndonor_band_azimuth_deg = [300.0, 250.0]\n");
        assert_eq!(e.field, "pattern.donor_band_azimuth_deg");
        let e = err("[head]\nheight_mm = { male = 200.0, female = 100.0 }\n");
        assert_eq!(e.field, "head.height_mm.male");
        assert_eq!(e.message, "expected 60–160, got 200");
        let e = err("[sessions]\nmin_work_hours = 0.0\n");
        assert_eq!(e.field, "sessions.min_work_hours");
        let e = err("[fading]\nearly_loss_cap = 1.0\n");
        assert_eq!(e.field, "fading.early_loss_cap");
        // A stage's zones are its own: an override adds a figure to the defaults' stage.
        let s =
            Settings::with_overrides("[pattern.stages.norwood]\nIII = { crown_radius_mm = 30.0 }\n").unwrap();
        let z = s.pattern.stage_zones("norwood", "III");
        assert_eq!((z.frontal_depth_mm, z.crown_radius_mm), (Some(35.0), Some(30.0)));
        assert_eq!(s.pattern.stage_zones("norwood", "I"), StageZones::default());
    }
}
