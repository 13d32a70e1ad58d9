//! The settings schema: every setting a clinic can change, described for a generated form.
//!
//! [`schema()`] lists each leaf of the settings file (a number, a flag, a text, a choice, a
//! list of values) and each list of tables (rules, aftercare items, locations, package bands,
//! shade bands) with its dotted path, a short label, the comment the default file gives it,
//! the source named in that comment, its default value and its kind (with the allowed range
//! and unit for numbers). The documentation and defaults are read from
//! `settings/default.toml` itself, the allowed ranges from [`LIMITS`], which the validator
//! enforces (tested), and whether a number must be whole from the typed settings.
//!
//! [`validate_field`] checks one value as a person typed it and answers in plain words;
//! [`overrides_toml`] turns a form's values into a clinic file holding only the keys that
//! differ from the defaults (and checks it); [`diff_from_defaults`] does the same for a
//! whole settings table.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use serde::Serialize;

use super::{DEFAULT_SETTINGS_TOML, Settings};
use crate::error::{InputError, InputResult};

/// One setting, as a form shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SettingInfo {
    /// Dotted path in the settings file (`pattern.blend_width_mm`, `eligibility.rules`).
    pub path: String,
    /// A short human label (`Blend width`).
    pub label: String,
    /// The comment the default settings file gives the setting (or the group it is in).
    pub doc: String,
    /// The sources named in that comment (`DOMAIN §4; seed 000`), or empty.
    pub source: String,
    /// The default value.
    pub default: toml::Value,
    /// What kind of value it takes.
    pub kind: SettingKind,
}

/// The kind of value a setting takes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SettingKind {
    /// A number, possibly with a fraction.
    Number {
        /// Smallest allowed value, if bounded.
        min: Option<f64>,
        /// Largest allowed value, if bounded.
        max: Option<f64>,
        /// Unit (`mm`, `cm²`, `days`), if any.
        unit: Option<String>,
    },
    /// A whole number.
    Integer {
        /// Smallest allowed value, if bounded.
        min: Option<f64>,
        /// Largest allowed value, if bounded.
        max: Option<f64>,
        /// Unit, if any.
        unit: Option<String>,
    },
    /// Yes or no.
    Boolean,
    /// Free text.
    Text,
    /// One of a fixed set of words.
    Choice {
        /// The allowed words.
        options: Vec<String>,
    },
    /// A list of values of one kind (entered comma-separated).
    List {
        /// The kind of each item.
        item: Box<SettingKind>,
    },
    /// A list of tables (rules, aftercare items, locations, bands), edited as a whole.
    TableList {
        /// The key that identifies an entry (`id`) when entries merge by id.
        id_key: Option<String>,
        /// The keys an entry may have.
        fields: Vec<String>,
    },
}

/// An allowed range: `(path pattern, min, max, unit)`; `*` in a pattern matches one key.
///
/// The validator enforces these bounds (some settings also have bounds that depend on other
/// settings, such as `sessions.min_hours` ≤ `sessions.max_hours`); a test checks that every
/// bound here is the validator's.
pub const LIMITS: &[(&str, f64, f64, &str)] = &[
    ("approach.density_factor_among_hair", 0.05, 1.0, ""),
    ("density.per_zone_dots_per_cm2.*", 1.0, 400.0, "dots/cm²"),
    ("density.session_fractions.*", 0.0, 1.0, ""),
    ("density.healing_loss_fraction", 0.0, 0.5, ""),
    ("scars.margin_mm", 0.0, 30.0, "mm"),
    ("scars.fue_area_per_punch_cm2", 0.01, 1.0, "cm²"),
    ("sessions.base_count.*", 1.0, 12.0, "sessions"),
    ("sessions.extra_for_alopecia", 0.0, 4.0, "sessions"),
    ("sessions.extra_for_scars_with_coverage", 0.0, 4.0, "sessions"),
    ("sessions.max_hours", 0.5, 12.0, "h"),
    ("sessions.min_hours", 0.25, 12.0, "h"),
    ("sessions.slot_step_hours", 0.05, 2.0, "h"),
    ("sessions.setup_hours", 0.0, 3.0, "h"),
    ("sessions.min_work_hours", 0.05, 2.0, "h"),
    ("sessions.first_session_design_hours", 0.0, 3.0, "h"),
    ("sessions.dots_per_hour", 100.0, 50_000.0, "dots/h"),
    ("sessions.hairline_speed_factor", 0.1, 2.0, ""),
    ("intervals.default_days", 1.0, 365.0, "days"),
    ("intervals.minimum_days", 1.0, 365.0, "days"),
    ("intervals.after_scar_work_days", 1.0, 365.0, "days"),
    ("intervals.max_sessions_per_12_months", 1.0, 24.0, "sessions"),
    ("needles.gauge_diameter_mm.*", 0.1, 1.0, "mm"),
    ("pigment.session_dilution.*", 0.0, 1.0, ""),
    ("pigment.fitzpatrick_adjust.*", -0.5, 0.5, ""),
    ("pigment.hair_colour_adjust.*", -0.5, 0.5, ""),
    ("pigment.grey_adjust_at_full_grey", 0.0, 0.5, ""),
    ("pigment.hairline_soft_extra", 0.0, 0.3, ""),
    ("pigment.min", 0.0, 1.0, ""),
    ("pigment.max", 0.0, 1.0, ""),
    ("fading.early_loss", 0.0, 0.5, ""),
    ("fading.early_weeks", 0.1, 26.0, "weeks"),
    ("fading.early_loss_cap", 0.1, 0.95, ""),
    ("fading.contrast_loss_per_year", 0.001, 1.0, "per year"),
    ("fading.touch_up_threshold", 0.1, 0.95, ""),
    ("fading.scar_factor", 0.5, 5.0, "×"),
    ("fading.sun_exposure_factor.*", 0.1, 5.0, "×"),
    ("fading.skin_type_factor.*", 0.1, 5.0, "×"),
    ("fading.swimming_factor", 0.5, 3.0, "×"),
    ("fading.dot_spread_per_year", 0.0, 0.5, "per year"),
    ("fading.hue_cooling_per_year", 0.0, 0.5, "per year"),
    ("fading.touch_up_restores", 0.1, 1.0, ""),
    ("patch_test.days_before_first_session", 1.0, 90.0, "days"),
    ("patch_test.visit_hours", 0.1, 3.0, "h"),
    ("diary.step_minutes", 5.0, 120.0, "min"),
    ("diary.pigment_units_per_session", 0.0, 100.0, "units"),
    ("diary.touch_up_visit_hours", 0.25, 12.0, "h"),
    ("records.hold_years", 1.0, 100.0, "years"),
    ("messages.quiet_from_hour", 0.0, 23.0, "h"),
    ("messages.quiet_to_hour", 0.0, 23.0, "h"),
    ("messages.aftercare_hour", 0.0, 23.0, "h"),
    ("messages.aftercare_last_day", 1.0, 90.0, "days"),
    ("messages.reminder_hours_before", 1.0, 168.0, "h"),
    ("messages.no_show_follow_up_hours", 0.0, 168.0, "h"),
    ("messages.max_attempts", 1.0, 20.0, "tries"),
    ("messages.retry_first_minutes", 1.0, 1440.0, "min"),
    ("messages.retry_max_minutes", 1.0, 10_080.0, "min"),
    ("messages.sms_max_parts", 1.0, 10.0, "parts"),
    ("messages.touch_up_recall_days_before", 0.0, 365.0, "days"),
    ("messages.touch_up_recall_hour", 0.0, 23.0, "h"),
    ("clinic.calling_code", 1.0, 999.0, ""),
    ("portal.link_minutes", 5.0, 1440.0, "min"),
    ("portal.remember_days", 0.0, 365.0, "days"),
    ("portal.links_per_day", 1.0, 100.0, "links"),
    ("estimator.range_stages", 0.0, 3.0, "stages"),
    (
        "estimator.estimates_per_address_per_hour",
        1.0,
        1000.0,
        "estimates",
    ),
    ("estimator.requests_per_address_per_hour", 1.0, 100.0, "requests"),
    ("estimator.requests_per_day", 1.0, 10_000.0, "requests"),
    ("estimator.min_fill_seconds", 0.0, 600.0, "s"),
    ("estimator.keep_days", 1.0, 365.0, "days"),
    ("photos.min_side_px", 16.0, 8000.0, "px"),
    ("photos.min_brightness", 0.0, 1.0, ""),
    ("photos.max_brightness", 0.0, 1.0, ""),
    ("photos.min_sharpness", 0.0, 10_000.0, ""),
    ("pricing.round_to", 1.0, 1000.0, ""),
    ("pricing.session_fee", 0.0, 1_000_000.0, ""),
    ("pricing.hourly_rate", 0.0, 1_000_000.0, ""),
    ("pricing.regions.*", 0.0, 1_000_000.0, ""),
    ("pricing.scar_factor", 0.5, 5.0, "×"),
    ("pricing.deposit", 0.0, 1_000_000.0, ""),
    ("pricing.cancellation_hours", 0.0, 720.0, "h"),
    ("pricing.touch_up_fraction", 0.0, 1.0, ""),
    ("pricing.touch_up_min", 0.0, 1_000_000.0, ""),
    ("pricing.touch_up_max", 0.0, 1_000_000.0, ""),
    ("head.circumference_cm.*", 40.0, 70.0, "cm"),
    ("head.length_mm.*", 140.0, 240.0, "mm"),
    ("head.height_mm.*", 60.0, 160.0, "mm"),
    ("pattern.fu_mix_percent", 0.0, 100.0, "%"),
    ("pattern.unit_dot_spacing_mm", 0.1, 1.0, "mm"),
    ("pattern.mature_raise_mm", 0.0, 40.0, "mm"),
    ("pattern.temple_recession_juvenile_mm", 0.0, 40.0, "mm"),
    ("pattern.temple_recession_mature_mm", 0.0, 40.0, "mm"),
    ("pattern.temple_recession_female_mm", 0.0, 40.0, "mm"),
    ("pattern.blend_width_mm", 0.0, 40.0, "mm"),
    ("pattern.blend_edge_fraction", 0.05, 1.0, ""),
    ("pattern.session_shades", 0.0, 1.0, ""),
    ("pattern.whorl_behind_ears_mm", 0.0, 120.0, "mm"),
    ("pattern.whorl_spiral_deg", 0.0, 90.0, "°"),
    ("pattern.whorl_spiral_decay_mm", 1.0, 200.0, "mm"),
    ("pattern.*.transition_width_mm", 1.0, 30.0, "mm"),
    ("pattern.*.front_density_fraction", 0.05, 1.0, ""),
    ("pattern.*.isolated_share", 0.0, 0.3, ""),
    ("pattern.*.isolated_band_mm", 0.0, 15.0, "mm"),
    ("pattern.*.irregularity_mm", 0.0, 10.0, "mm"),
    ("pattern.*.wave_length_mm", 5.0, 200.0, "mm"),
    ("pattern.mid_frontal_height_mm.*", 50.0, 130.0, "mm"),
    ("pattern.frontotemporal_sideburn_gap_deg", 0.0, 30.0, "°"),
    ("pattern.temporal_peak_height_share", 0.0, 0.6, ""),
    ("pattern.recession_position_share", 0.0, 1.0, ""),
    ("pattern.forehead_rounding_share", 0.0, 1.0, ""),
    ("pattern.temple_depth_mm", 0.0, 100.0, "mm"),
    ("pattern.temple_beyond_corner_deg", 0.0, 30.0, "°"),
    ("pattern.temple_reach_drawn_deg", 5.0, 80.0, "°"),
    ("pattern.areata_crown_reach_mm", 0.0, 150.0, "mm"),
    ("pattern.areata_frontal_depth_mm", 0.0, 150.0, "mm"),
    ("pattern.areata_sides_share", 0.1, 1.0, ""),
    ("pattern.fut_strip_length_mm", 20.0, 320.0, "mm"),
    ("pattern.fut_strip_height_mm", -100.0, 50.0, "mm"),
    ("pattern.fut_strip_width_mm", 0.5, 20.0, "mm"),
    ("pattern.fue_punch_count", 1.0, 5000.0, "punches"),
    ("pattern.fue_punch_diameter_mm", 0.5, 2.0, "mm"),
    ("pattern.fue_punch_margin_mm", 0.0, 3.0, "mm"),
    ("pattern.fue_donor_top_azimuth_deg", -180.0, 0.0, "°"),
    ("pattern.fue_donor_bottom_azimuth_deg", -180.0, 0.0, "°"),
    ("pattern.fue_donor_height_share", -0.9, 0.5, ""),
    ("pattern.donor_band_azimuth_deg", 180.0, 360.0, "°"),
    ("pattern.donor_band_bottom_mm", -100.0, 0.0, "mm"),
    ("pattern.scar_site_reach_share", 0.05, 1.0, ""),
    ("pattern.scar_sites.*", -1.0, 1.0, ""),
    ("pattern.landmarks.canthus_half_width_male_mm", 20.0, 80.0, "mm"),
    ("pattern.landmarks.canthus_half_width_female_mm", 20.0, 80.0, "mm"),
    (
        "pattern.landmarks.canthus_reference_half_breadth_mm",
        40.0,
        120.0,
        "mm",
    ),
    ("pattern.landmarks.canthus_scale_min", 0.5, 1.0, ""),
    ("pattern.landmarks.canthus_scale_max", 1.0, 2.0, ""),
    ("pattern.landmarks.canthus_below_glabella_mm", 0.0, 50.0, "mm"),
    ("pattern.landmarks.ear_canal_below_glabella_mm", 0.0, 80.0, "mm"),
    ("pattern.landmarks.ear_canal_below_share", 0.0, 0.9, ""),
    ("pattern.landmarks.ear_canal_behind_share", -0.5, 0.5, ""),
    ("pattern.landmarks.nape_below_share", 0.1, 0.9, ""),
    ("pattern.landmarks.lower_edge_azimuth_deg", -85.0, 45.0, "°"),
    ("pattern.landmarks.lower_edge_height_share", -0.9, 0.5, ""),
    ("pattern.stages.*.*.frontal_depth_mm", 5.0, 150.0, "mm"),
    ("pattern.stages.*.*.crown_radius_mm", 5.0, 150.0, "mm"),
    ("pattern.stages.*.*.mid_scalp_share", 0.05, 1.0, ""),
    ("pattern.stages.*.*.mid_scalp_rim_mm", 0.0, 50.0, "mm"),
    ("render.optics.absorbance", 0.0, 10.0, ""),
    ("render.optics.surface_share_light", 0.0, 1.0, ""),
    ("render.optics.surface_share_dark", 0.0, 1.0, ""),
    ("render.optics.ita_lightest_deg", 0.0, 90.0, "°"),
    ("render.optics.ita_darkest_deg", -90.0, 0.0, "°"),
    ("render.optics.reference_depth_mm", 0.05, 3.0, "mm"),
    ("render.optics.blue_shift_per_mm", 0.0, 5.0, "per mm"),
    ("render.optics.reference_dilution", 0.0, 0.9, ""),
    ("render.optics.shift_shallowest_mm", 0.0, 3.0, "mm"),
    ("render.optics.cooling_shift", 0.0, 5.0, ""),
    ("render.optics.fresh_redness", -0.5, 0.5, ""),
    ("render.healed_dot_scale", 0.5, 10.0, "×"),
    ("render.fresh_dot_scale", 0.5, 3.0, "×"),
    ("render.depth_mm", 0.05, 3.0, "mm"),
    ("render.stubble_length_mm", 0.0, 10.0, "mm"),
    ("render.stubble_width_mm", 0.01, 0.5, "mm"),
    ("render.natural_hairs_per_cm2", 1.0, 500.0, "hairs/cm²"),
    ("render.background", 0.0, 255.0, ""),
    ("render.skin_by_fitzpatrick.*", 0.0, 255.0, ""),
    ("render.hair_srgb.*", 0.0, 255.0, ""),
    ("render.grey_hair_srgb", 0.0, 255.0, ""),
    ("render.hair_left_among_density", 0.0, 1.0, ""),
    ("render.hair_in_blend", 0.0, 1.0, ""),
    ("render.healed_after_weeks", 1.0, 26.0, "weeks"),
    ("render.fresh_strength", 0.5, 3.0, "×"),
    ("render.fresh_halo_sigma_mm", 0.1, 10.0, "mm"),
    ("render.fresh_halo_strength", 0.0, 3.0, ""),
    ("render.stencil.page_mm", 100.0, 1000.0, "mm"),
    ("render.stencil.margin_mm", 0.0, 50.0, "mm"),
    ("render.stencil.line_width_mm", 0.05, 3.0, "mm"),
    ("render.stencil.scale_bar_mm", 10.0, 200.0, "mm"),
    ("render.healed.size_spread", 0.0, 1.0, ""),
    ("render.healed.lobes", 0.0, 3.0, ""),
    ("render.healed.lobe_offset", 0.0, 1.0, "×"),
    ("render.healed.lobe_share", 0.0, 0.9, ""),
    ("render.healed.lobe_size", 0.2, 1.0, "×"),
    ("render.healed.scatter_mm", 0.0, 1.0, "mm"),
    ("render.photo.illumination_radius_mm", 1.0, 100.0, "mm"),
    ("render.photo.shine_threshold", 0.0, 2.0, ""),
    ("render.photo.fringe_band_mm", 1.0, 60.0, "mm"),
    ("render.photo.hair_luminance_share", 0.1, 1.0, ""),
];

/// The allowed range of a setting, `(min, max, unit)`, if it has one.
pub fn limit(path: &str) -> Option<(f64, f64, &'static str)> {
    // Every pattern generation validates its settings through here (about 150 lookups): an
    // exact path is one look-up in a map that already holds its answer, and only a path no
    // exact entry names walks the few patterns with a `*`. The first entry of [`LIMITS`] that
    // matches wins, as in the list.
    let (exact, wildcards) = &*LIMIT_INDEX;
    let first = exact.get(path).copied().or_else(|| {
        // The path cut into its steps once, then compared step by step with each pattern's,
        // cut once for all (splitting both strings for every pattern was most of a
        // validation's cost).
        let mut steps = [""; MAX_STEPS];
        let mut n = 0;
        for step in path.split('.') {
            if n == MAX_STEPS {
                return None;
            }
            steps[n] = step;
            n += 1;
        }
        let steps = &steps[..n];
        wildcards
            .iter()
            .find_map(|(i, parts)| matches_steps(parts, steps).then_some(*i))
    });
    first.map(|i| {
        let (_, min, max, unit) = LIMITS[i];
        (min, max, unit)
    })
}

/// Whether a path's steps match a [`LIMITS`] pattern's (a `*` matches one step).
fn matches_steps(parts: &[&str], steps: &[&str]) -> bool {
    parts.len() == steps.len() && parts.iter().zip(steps).all(|(p, s)| *p == "*" || p == s)
}

/// The most steps a path of [`LIMITS`] has (a longer path matches none).
const MAX_STEPS: usize = 8;

/// The exact paths' answers, and each pattern with a `*` cut into its steps.
type LimitIndex = (HashMap<&'static str, usize>, Vec<(usize, Vec<&'static str>)>);

/// For each exact path of [`LIMITS`], the position of the first entry that matches it (an
/// earlier pattern with a `*`, or its own first entry); and the patterns with a `*`, by
/// position, cut into their steps.
static LIMIT_INDEX: LazyLock<LimitIndex> = LazyLock::new(|| {
    let wildcards: Vec<(usize, Vec<&'static str>)> = (0..LIMITS.len())
        .filter(|&i| LIMITS[i].0.contains('*'))
        .map(|i| (i, LIMITS[i].0.split('.').collect()))
        .collect();
    let mut exact = HashMap::new();
    for (i, (pattern, ..)) in LIMITS.iter().enumerate() {
        if !pattern.contains('*') {
            let steps: Vec<&str> = pattern.split('.').collect();
            exact.entry(*pattern).or_insert_with(|| {
                wildcards
                    .iter()
                    .take_while(|(w, _)| *w < i)
                    .find(|(_, parts)| matches_steps(parts, &steps))
                    .map_or(i, |(w, _)| *w)
            });
        }
    }
    (exact, wildcards)
});

/// Every setting, in the order of the settings file.
pub fn schema() -> &'static [SettingInfo] {
    &SCHEMA
}

/// The setting at `path`.
pub fn setting(path: &str) -> Option<&'static SettingInfo> {
    SCHEMA.iter().find(|s| s.path == path)
}

static SCHEMA: LazyLock<Vec<SettingInfo>> = LazyLock::new(build);

fn build() -> Vec<SettingInfo> {
    let docs = comments(DEFAULT_SETTINGS_TOML);
    let defaults: toml::Table =
        toml::from_str(DEFAULT_SETTINGS_TOML).expect("the default settings parse (tested)");
    let mut out = Vec::new();
    leaves(&defaults, "", &docs, &mut out);
    out
}

fn leaves(table: &toml::Table, prefix: &str, docs: &BTreeMap<String, String>, out: &mut Vec<SettingInfo>) {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Table(t) => leaves(t, &path, docs, out),
            toml::Value::Array(items) if items.iter().any(toml::Value::is_table) => {
                let mut fields: Vec<String> = Vec::new();
                for item in items.iter().filter_map(toml::Value::as_table) {
                    for k in item.keys() {
                        if !fields.contains(k) {
                            fields.push(k.clone());
                        }
                    }
                }
                let id_key = fields.iter().any(|f| f == "id").then(|| "id".to_string());
                if id_key.is_some() && !fields.iter().any(|f| f == "disabled") {
                    fields.push("disabled".into());
                }
                out.push(info(
                    &path,
                    value,
                    docs,
                    SettingKind::TableList { id_key, fields },
                ));
            }
            _ => {
                let kind = kind_of(&path, value);
                out.push(info(&path, value, docs, kind));
            }
        }
    }
}

fn info(path: &str, value: &toml::Value, docs: &BTreeMap<String, String>, kind: SettingKind) -> SettingInfo {
    let doc = doc_of(path, docs);
    SettingInfo {
        path: path.to_string(),
        label: label(path),
        source: sources(&doc),
        doc,
        default: value.clone(),
        kind,
    }
}

/// The comment for `path`: its own, or its parent's (for a key of an inline table).
fn doc_of(path: &str, docs: &BTreeMap<String, String>) -> String {
    let mut p = path;
    loop {
        if let Some(d) = docs.get(p) {
            return d.clone();
        }
        match p.rfind('.') {
            Some(i) => p = &p[..i],
            None => return String::new(),
        }
    }
}

fn kind_of(path: &str, value: &toml::Value) -> SettingKind {
    if let Some(options) = choices(path) {
        return match value {
            toml::Value::Array(_) => SettingKind::List {
                item: Box::new(SettingKind::Choice { options }),
            },
            _ => SettingKind::Choice { options },
        };
    }
    let bounds = limit(path);
    let (min, max, unit) = match bounds {
        Some((min, max, unit)) => (Some(min), Some(max), (!unit.is_empty()).then(|| unit.to_string())),
        None => (None, None, None),
    };
    match value {
        toml::Value::Boolean(_) => SettingKind::Boolean,
        toml::Value::Float(_) => SettingKind::Number { min, max, unit },
        toml::Value::Integer(_) if whole_number(path) => SettingKind::Integer { min, max, unit },
        toml::Value::Integer(_) => SettingKind::Number { min, max, unit },
        toml::Value::Array(items) => {
            let item = match items.first() {
                Some(first) => kind_of_item(path, first, min, max, unit),
                None => SettingKind::Text,
            };
            SettingKind::List { item: Box::new(item) }
        }
        _ => SettingKind::Text,
    }
}

fn kind_of_item(
    path: &str,
    first: &toml::Value,
    min: Option<f64>,
    max: Option<f64>,
    unit: Option<String>,
) -> SettingKind {
    match first {
        toml::Value::Float(_) => SettingKind::Number { min, max, unit },
        toml::Value::Integer(_) if whole_number(path) => SettingKind::Integer { min, max, unit },
        toml::Value::Integer(_) => SettingKind::Number { min, max, unit },
        toml::Value::Boolean(_) => SettingKind::Boolean,
        _ => SettingKind::Text,
    }
}

/// Whether the typed settings refuse a fraction at `path` (a whole-number field, or a list of them).
fn whole_number(path: &str) -> bool {
    let refused = |probe: String| {
        Settings::with_overrides(&probe)
            .err()
            .is_some_and(|e| e.message.contains("invalid type: floating point"))
    };
    refused(format!("{} = 1.5\n", dotted_key(path))) || refused(format!("{} = [1.5]\n", dotted_key(path)))
}

/// A TOML dotted key for a path, quoting keys that need it (`needles.gauge_diameter_mm."06"`).
fn dotted_key(path: &str) -> String {
    path.split('.')
        .map(|k| {
            if !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                k.to_string()
            } else {
                format!("{k:?}")
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn choices(path: &str) -> Option<Vec<String>> {
    let words = |list: &[&str]| Some(list.iter().map(|s| s.to_string()).collect());
    match path {
        "approach.density_max_norwood" => Some(
            crate::profile::NorwoodStage::ALL
                .iter()
                .map(|s| s.as_str().to_string())
                .collect(),
        ),
        "pricing.mode" => words(&["per_session", "per_region", "package"]),
        "pricing.default_location" => Some(
            Settings::defaults()
                .pricing
                .locations
                .iter()
                .map(|l| l.id.clone())
                .collect(),
        ),
        "intervals.working_days" => words(&["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
        "records.held" => words(&crate::settings::HELD_RECORD_KINDS),
        "messages.send" | "messages.sms_send" => Some(
            crate::messages::MessageKind::OPTIONAL
                .iter()
                .map(|k| k.as_str().to_string())
                .collect(),
        ),
        p if p.starts_with("pricing.region_zones.") => Some(
            crate::ZoneKind::ALL
                .iter()
                .map(|z| z.as_str().to_string())
                .collect(),
        ),
        _ => None,
    }
}

/// A short label from the last key of the path: `blend_width_mm` → `Blend width (mm)`;
/// a key of a table keyed by zone, type or count is shown after its table's label.
fn label(path: &str) -> String {
    let mut keys: Vec<&str> = path.split('.').collect();
    let last = keys.pop().unwrap_or_default();
    let words = |k: &str| -> String {
        let mut parts: Vec<&str> = k.split('_').collect();
        if parts.ends_with(&["per", "cm2"]) {
            parts.truncate(parts.len() - 2);
            let text = parts.join(" ");
            return format!(
                "{}{} (per cm²)",
                text.get(..1).unwrap_or_default().to_uppercase(),
                text.get(1..).unwrap_or_default()
            );
        }
        let unit = match parts.last().copied() {
            Some("mm") => Some("mm"),
            Some("cm") => Some("cm"),
            Some("cm2") => Some("cm²"),
            Some("days") => Some("days"),
            Some("hours") => Some("hours"),
            Some("deg") => Some("°"),
            Some("percent") => Some("%"),
            _ => None,
        };
        if unit.is_some() && parts.len() > 1 {
            parts.pop();
        }
        let mut text = parts.join(" ").replace("cm2", "cm²");
        if let Some(first) = text.get(..1) {
            text = first.to_uppercase() + &text[1..];
        }
        match unit {
            Some(u) => format!("{text} ({u})"),
            None => text,
        }
    };
    let parent = keys.last().copied().unwrap_or_default();
    let is_key_of_map = last
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        || parent.contains("per_zone")
        || parent.ends_with("_adjust")
        || parent.ends_with("_factor")
        || matches!(
            parent,
            "full_area_cm2"
                | "base_count"
                | "regions"
                | "region_zones"
                | "circumference_cm"
                | "length_mm"
                | "height_mm"
                | "mid_frontal_height_mm"
                | "scar_sites"
        )
        || keys.first() == Some(&"zones") && keys.len() >= 3;
    // A stage's zone (`pattern.stages.norwood.III.frontal_depth_mm`): "Norwood III: frontal depth (mm)".
    if keys.len() == 4 && keys[..2] == ["pattern", "stages"] {
        let scale = words(keys[2]);
        let what = words(last);
        return format!(
            "{scale} {}: {}{}",
            keys[3],
            what.get(..1).unwrap_or_default().to_lowercase(),
            what.get(1..).unwrap_or_default()
        );
    }
    if is_key_of_map && !parent.is_empty() {
        format!("{}: {}", words(parent), last.replace('_', " "))
    } else {
        words(last)
    }
}

/// The comment block before each key of the default settings file (and a comment at the
/// end of its line), by dotted path. Comments above a group of keys serve each key until
/// the next comment or table.
fn comments(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut table = String::new();
    let mut pending: Vec<String> = Vec::new();
    let mut carried = String::new();
    let mut in_array = 0i32;
    for raw in text.lines() {
        let line = raw.trim();
        if in_array > 0 {
            in_array += bracket_depth(line);
            continue;
        }
        if let Some(c) = line.strip_prefix('#') {
            pending.push(c.trim().to_string());
            continue;
        }
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix("[[").and_then(|l| l.split("]]").next()) {
            table = name.trim().to_string();
            let doc = pending.join(" ");
            pending.clear();
            if !doc.is_empty() && !out.contains_key(&table) {
                out.insert(table.clone(), doc);
            }
            carried.clear();
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
            let parent = |t: &str| t.rsplit_once('.').map(|(p, _)| p.to_string()).unwrap_or_default();
            let sibling = !table.is_empty() && parent(&table) == parent(name.trim());
            let previous = out.get(&table).cloned().unwrap_or_default();
            table = name.trim().to_string();
            let mut doc = pending.join(" ");
            pending.clear();
            // A table with no comment of its own shares its previous sibling's
            // (`[zones.ludwig]` after `[zones.norwood]`).
            if doc.is_empty() && sibling {
                doc = previous;
            }
            if !doc.is_empty() {
                out.insert(table.clone(), doc.clone());
            }
            carried = doc;
            continue;
        }
        let Some((key, rest)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim().trim_matches('"');
        let trailing = value_comment(rest);
        if !pending.is_empty() {
            carried = pending.join(" ");
            pending.clear();
        }
        let mut doc = carried.clone();
        if let Some(t) = trailing {
            if !doc.is_empty() {
                doc.push(' ');
            }
            doc.push_str(&t);
        }
        let path = if table.is_empty() {
            key.to_string()
        } else {
            format!("{table}.{key}")
        };
        if !doc.is_empty() && !out.contains_key(&path) {
            out.insert(path, doc);
        }
        in_array = bracket_depth(rest).max(0);
    }
    out
}

/// How many `[` more than `]` a line opens, outside strings.
fn bracket_depth(line: &str) -> i32 {
    let mut depth = 0;
    let mut in_str = false;
    for c in line.chars() {
        match c {
            '"' => in_str = !in_str,
            '[' if !in_str => depth += 1,
            ']' if !in_str => depth -= 1,
            '#' if !in_str => break,
            _ => {}
        }
    }
    depth
}

/// The comment after a value on its line, outside strings.
fn value_comment(rest: &str) -> Option<String> {
    let mut in_str = false;
    for (i, c) in rest.char_indices() {
        match c {
            '"' => in_str = !in_str,
            '#' if !in_str => return Some(rest[i + 1..].trim().to_string()),
            _ => {}
        }
    }
    None
}

/// The sources a comment names: `DOMAIN §n`, seeds, published studies, Follicle estimates.
fn sources(doc: &str) -> String {
    let mut found: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !found.contains(&s) {
            found.push(s);
        }
    };
    let words: Vec<&str> = doc.split_whitespace().collect();
    for (i, w) in words.iter().enumerate() {
        let clean = |s: &str| {
            s.trim_matches(|c: char| !c.is_alphanumeric() && c != '§')
                .to_string()
        };
        let next = words.get(i + 1).map(|s| clean(s)).unwrap_or_default();
        match clean(w).as_str() {
            "DOMAIN" if next.starts_with('§') => push(format!("DOMAIN {next}")),
            "seed" | "seeds" => {
                let nums: Vec<String> = words[i + 1..]
                    .iter()
                    .map(|s| clean(s))
                    .take_while(|s| s.len() == 3 && s.chars().all(|c| c.is_ascii_digit()) || s == "and")
                    .filter(|s| s != "and")
                    .collect();
                if !nums.is_empty() {
                    push(format!("seed {}", nums.join(", ")));
                }
            }
            "Follicle" if matches!(next.as_str(), "estimate" | "default" | "estimates" | "defaults") => {
                push(format!("Follicle {next}"));
            }
            "et" if words.get(i + 1).is_some_and(|n| n.starts_with("al")) && i > 0 => {
                let year = words.get(i + 2).map(|s| clean(s)).unwrap_or_default();
                let year = if year.len() == 4 && year.chars().all(|c| c.is_ascii_digit()) {
                    format!(" {year}")
                } else {
                    String::new()
                };
                push(format!("{} et al.{year}", clean(words[i - 1])));
            }
            _ => {
                let c = clean(w);
                if c.len() == 4
                    && c.chars().all(|ch| ch.is_ascii_digit())
                    && i > 0
                    && words[i - 1].chars().next().is_some_and(char::is_uppercase)
                    && words[i - 1] != "al."
                    && !words[i - 1].contains("DOMAIN")
                {
                    push(format!("{} {c}", clean(words[i - 1])));
                }
            }
        }
    }
    found.join("; ")
}

/// Checks one value as typed into a form (`text`) for the setting at `path`, with the
/// clinic's other overrides (`clinic`, its settings file) in force.
///
/// Returns the value to store, or a message in plain words (what is wrong and what is
/// allowed).
pub fn validate_field(path: &str, text: &str, clinic: Option<&str>) -> Result<toml::Value, String> {
    let info = setting(path).ok_or_else(|| format!("There is no setting called {path:?}."))?;
    let value = parse_input(&info.kind, text.trim())?;
    if let Some((min, max, unit)) = limit(path) {
        for v in numbers(&value) {
            if !(min..=max).contains(&v) {
                let unit = if unit.is_empty() {
                    String::new()
                } else {
                    format!(" {unit}")
                };
                return Err(format!(
                    "{} must be between {min} and {max}{unit}; you entered {v}.",
                    info.label
                ));
            }
        }
    }
    let mut table: toml::Table = match clinic {
        Some(text) => toml::from_str(text)
            .map_err(|e| format!("The clinic's settings file does not read: {}", e.message()))?,
        None => toml::Table::new(),
    };
    set_path(&mut table, path, value.clone());
    let overrides = toml::to_string(&table).map_err(|e| e.to_string())?;
    match Settings::with_overrides(&overrides) {
        Ok(_) => Ok(value),
        Err(e) => Err(plain(&e)),
    }
}

/// An error in plain words: the field's label, then the message.
fn plain(e: &InputError) -> String {
    match setting(&e.field) {
        Some(info) => format!("{}: {}", info.label, e.message),
        None if e.field.is_empty() => e.message.clone(),
        None => format!("{}: {}", e.field, e.message),
    }
}

fn numbers(value: &toml::Value) -> Vec<f64> {
    match value {
        toml::Value::Integer(i) => vec![*i as f64],
        toml::Value::Float(f) => vec![*f],
        toml::Value::Array(items) => items.iter().flat_map(numbers).collect(),
        _ => Vec::new(),
    }
}

fn parse_input(kind: &SettingKind, text: &str) -> Result<toml::Value, String> {
    match kind {
        SettingKind::Number { .. } => text
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(toml::Value::Float)
            .ok_or_else(|| format!("Enter a number, such as 0.5; {text:?} is not one.")),
        SettingKind::Integer { .. } => text
            .parse::<i64>()
            .map(toml::Value::Integer)
            .map_err(|_| format!("Enter a whole number, such as 14; {text:?} is not one.")),
        SettingKind::Boolean => match text.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" => Ok(toml::Value::Boolean(true)),
            "false" | "no" | "off" => Ok(toml::Value::Boolean(false)),
            _ => Err(format!("Choose yes or no; {text:?} is neither.")),
        },
        SettingKind::Text => Ok(toml::Value::String(text.to_string())),
        SettingKind::Choice { options } => {
            if options.iter().any(|o| o == text) {
                Ok(toml::Value::String(text.to_string()))
            } else {
                Err(format!(
                    "Choose one of {}; {text:?} is not one of them.",
                    options.join(", ")
                ))
            }
        }
        SettingKind::List { item } => {
            let text = text.trim_start_matches('[').trim_end_matches(']');
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| parse_input(item, s.trim_matches('"')))
                .collect::<Result<Vec<_>, _>>()
                .map(toml::Value::Array)
        }
        SettingKind::TableList { .. } => {
            let doc = format!("value = {text}");
            toml::from_str::<toml::Table>(&doc)
                .ok()
                .and_then(|mut t| t.remove("value"))
                .filter(toml::Value::is_array)
                .ok_or_else(|| "Enter a list of tables, such as [{ id = \"x\", … }].".to_string())
        }
    }
}

fn set_path(table: &mut toml::Table, path: &str, value: toml::Value) {
    let mut keys: Vec<&str> = path.split('.').collect();
    let last = keys.pop().unwrap_or_default();
    let mut t = table;
    for k in keys {
        let entry = t
            .entry(k.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        t = entry.as_table_mut().expect("made a table above");
    }
    t.insert(last.to_string(), value);
}

/// A clinic settings file with only the keys of `values` (by dotted path, as
/// [`validate_field`] returns them) that differ from the defaults; checked as a whole.
///
/// Lists of tables that merge by `id` keep only the entries that differ (their `id` and the
/// keys that differ), and a default entry left out becomes `disabled = true`.
pub fn overrides_toml<'a>(values: impl IntoIterator<Item = (&'a str, toml::Value)>) -> InputResult<String> {
    let mut full: toml::Table =
        toml::from_str(DEFAULT_SETTINGS_TOML).expect("the default settings parse (tested)");
    for (path, value) in values {
        if setting(path).is_none() {
            return Err(InputError::field(path, "there is no such setting"));
        }
        set_path(&mut full, path, value);
    }
    let diff = diff_from_defaults(&full);
    let text = toml::to_string(&diff).map_err(|e| InputError::field("", e.to_string()))?;
    Settings::with_overrides(&text)?;
    Ok(text)
}

/// The keys of a whole settings table that differ from the defaults.
pub fn diff_from_defaults(full: &toml::Table) -> toml::Table {
    let defaults: toml::Table =
        toml::from_str(DEFAULT_SETTINGS_TOML).expect("the default settings parse (tested)");
    diff_tables(&defaults, full)
}

fn diff_tables(base: &toml::Table, new: &toml::Table) -> toml::Table {
    let mut out = toml::Table::new();
    for (key, value) in new {
        match (base.get(key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(n)) => {
                let d = diff_tables(b, n);
                if !d.is_empty() {
                    out.insert(key.clone(), toml::Value::Table(d));
                }
            }
            (Some(toml::Value::Array(b)), toml::Value::Array(n)) if id_list(b) && id_list(n) => {
                let d = diff_id_lists(b, n);
                if !d.is_empty() {
                    out.insert(key.clone(), toml::Value::Array(d));
                }
            }
            (Some(b), n) if same(b, n) => {}
            (_, n) => {
                out.insert(key.clone(), n.clone());
            }
        }
    }
    out
}

fn diff_id_lists(base: &[toml::Value], new: &[toml::Value]) -> Vec<toml::Value> {
    let id = |v: &toml::Value| v.get("id").cloned();
    let mut out = Vec::new();
    for item in new {
        let Some(t) = item.as_table() else { continue };
        match base
            .iter()
            .find(|b| id(b) == id(item))
            .and_then(toml::Value::as_table)
        {
            Some(b) => {
                let mut d = diff_tables(b, t);
                if !d.is_empty() {
                    if let Some(i) = id(item) {
                        d.insert("id".into(), i);
                    }
                    out.push(toml::Value::Table(d));
                }
            }
            None => out.push(item.clone()),
        }
    }
    for b in base {
        if !new.iter().any(|n| id(n) == id(b))
            && let Some(i) = id(b)
        {
            let mut t = toml::Table::new();
            t.insert("id".into(), i);
            t.insert("disabled".into(), toml::Value::Boolean(true));
            out.push(toml::Value::Table(t));
        }
    }
    out
}

fn id_list(items: &[toml::Value]) -> bool {
    !items.is_empty() && items.iter().all(|v| v.get("id").is_some_and(toml::Value::is_str))
}

/// Equal values, taking `10` and `10.0` as the same number.
fn same(a: &toml::Value, b: &toml::Value) -> bool {
    match (a, b) {
        (
            toml::Value::Integer(_) | toml::Value::Float(_),
            toml::Value::Integer(_) | toml::Value::Float(_),
        ) => numbers(a) == numbers(b),
        (toml::Value::Array(x), toml::Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (toml::Value::Table(x), toml::Value::Table(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_leaf_is_listed_with_its_doc_and_default() {
        let s = schema();
        let blend = setting("pattern.blend_width_mm").unwrap();
        assert_eq!(blend.label, "Blend width (mm)");
        assert_eq!(blend.default, toml::Value::Float(10.0));
        assert!(blend.doc.contains("hides the step"), "{}", blend.doc);
        assert_eq!(
            blend.kind,
            SettingKind::Number {
                min: Some(0.0),
                max: Some(40.0),
                unit: Some("mm".into())
            }
        );
        let dens = setting("density.per_zone_dots_per_cm2.crown").unwrap();
        assert_eq!(dens.source, "DOMAIN §4");
        assert_eq!(dens.label, "Per zone dots (per cm²): crown");
        let days = setting("intervals.minimum_days").unwrap();
        assert!(
            matches!(days.kind, SettingKind::Integer { .. }),
            "{:?}",
            days.kind
        );
        assert!(matches!(
            setting("pricing.session_fee").unwrap().kind,
            SettingKind::Number { .. }
        ));
        assert!(matches!(
            setting("eligibility.rules").unwrap().kind,
            SettingKind::TableList { id_key: Some(_), .. }
        ));
        assert!(matches!(
            setting("pricing.mode").unwrap().kind,
            SettingKind::Choice { .. }
        ));
        // Every number has a comment, and every leaf of the defaults is in the schema.
        for info in s {
            if matches!(
                info.kind,
                SettingKind::Number { .. } | SettingKind::Integer { .. }
            ) {
                assert!(
                    !info.doc.is_empty(),
                    "{} has no comment in default.toml",
                    info.path
                );
            }
        }
        assert!(s.len() > 150, "{} settings", s.len());
        let fu = setting("pattern.fu_mix_percent").unwrap();
        assert!(fu.source.contains("Guo et al. 2017"), "{}", fu.source);
    }

    #[test]
    fn the_limit_index_finds_what_the_list_gives() {
        // The first matching pattern of LIMITS, walked as the list reads.
        let by_list = |path: &str| {
            let steps: Vec<&str> = path.split('.').collect();
            LIMITS.iter().find_map(|&(pattern, min, max, unit)| {
                let parts: Vec<&str> = pattern.split('.').collect();
                (parts.len() == steps.len() && parts.iter().zip(&steps).all(|(p, s)| *p == "*" || p == s))
                    .then_some((min, max, unit))
            })
        };
        let mut paths: Vec<String> = schema().iter().map(|s| s.path.clone()).collect();
        paths.extend(LIMITS.iter().map(|l| l.0.replace('*', "soft")));
        paths.extend(["pattern", "pattern.nothing", "", "pattern.soft", "a.b.c.d"].map(String::from));
        let mut found = 0;
        for path in &paths {
            assert_eq!(limit(path), by_list(path), "{path}");
            found += usize::from(limit(path).is_some());
        }
        assert!(found >= LIMITS.len(), "{found} paths with a limit");
    }

    /// The rule, string against string, as the lookup had it before its patterns were cut.
    fn matches_limit(pattern: &str, path: &str) -> bool {
        let (mut parts, mut steps) = (pattern.split('.'), path.split('.'));
        loop {
            match (parts.next(), steps.next()) {
                (None, None) => return true,
                (Some(p), Some(s)) if p == "*" || p == s => {}
                _ => return false,
            }
        }
    }

    #[test]
    fn a_limit_is_the_first_entry_whose_pattern_matches() {
        let first = |path: &str| {
            LIMITS
                .iter()
                .find(|(pattern, ..)| matches_limit(pattern, path))
                .map(|&(_, min, max, unit)| (min, max, unit))
        };
        let mut paths: Vec<String> = Vec::new();
        for (pattern, ..) in LIMITS {
            assert!(pattern.split('.').count() <= MAX_STEPS, "{pattern}");
            paths.push(pattern.to_string());
            for fill in ["soft", "male", "x", "crown", "*"] {
                paths.push(pattern.replace('*', fill));
            }
            paths.push(format!("{pattern}.more"));
            paths.push(
                pattern
                    .rsplit_once('.')
                    .map_or(String::new(), |(head, _)| head.to_string()),
            );
        }
        paths.extend(["", ".", "pattern", "a.b.c.d.e.f.g.h.i", "pattern..soft"].map(String::from));
        let mut matched = 0;
        for path in &paths {
            assert_eq!(limit(path), first(path), "{path}");
            matched += usize::from(first(path).is_some());
        }
        assert!(
            matched > LIMITS.len(),
            "{matched} of {} paths matched",
            paths.len()
        );
    }

    #[test]
    fn limits_are_the_validators() {
        for info in schema() {
            let (Some((min, max, _)), SettingKind::Number { .. } | SettingKind::Integer { .. }) =
                (limit(&info.path), &info.kind)
            else {
                continue;
            };
            let over = if matches!(info.kind, SettingKind::Integer { .. }) {
                format!("{}", max as i64 + 1)
            } else {
                format!("{}", max + (max - min).abs() * 0.01 + 0.001)
            };
            let at = |v: &str| format!("{} = {v}\n", dotted_key(&info.path));
            let err = Settings::with_overrides(&at(&over));
            assert!(
                err.is_err(),
                "{} = {over} is above the limit but accepted",
                info.path
            );
            let under = if matches!(info.kind, SettingKind::Integer { .. }) {
                format!("{}", min as i64 - 1)
            } else {
                format!("{}", min - (max - min).abs() * 0.01 - 0.001)
            };
            let err = Settings::with_overrides(&at(&under));
            assert!(
                err.is_err(),
                "{} = {under} is below the limit but accepted",
                info.path
            );
        }
    }

    #[test]
    fn a_field_is_checked_in_plain_words() {
        assert_eq!(
            validate_field("pattern.blend_width_mm", "12", None),
            Ok(toml::Value::Float(12.0))
        );
        let e = validate_field("pattern.blend_width_mm", "45", None).unwrap_err();
        assert_eq!(e, "Blend width (mm) must be between 0 and 40 mm; you entered 45.");
        let e = validate_field("pattern.blend_width_mm", "wide", None).unwrap_err();
        assert!(e.contains("Enter a number"), "{e}");
        let e = validate_field("pricing.mode", "hourly", None).unwrap_err();
        assert!(e.contains("per_session, per_region, package"), "{e}");
        // A bound that depends on another setting, with the clinic's file in force.
        let e = validate_field(
            "intervals.default_days",
            "12",
            Some("[intervals]\nminimum_days = 14\n"),
        )
        .unwrap_err();
        assert!(e.contains("at least minimum_days"), "{e}");
        assert_eq!(
            validate_field("intervals.working_days", "mon, wed", None),
            Ok(toml::Value::Array(vec!["mon".into(), "wed".into()]))
        );
    }

    #[test]
    fn overrides_hold_only_what_differs() {
        let text = overrides_toml([
            ("pattern.blend_width_mm", toml::Value::Float(12.0)),
            ("sessions.max_hours", toml::Value::Float(5.0)),
            ("intervals.default_days", toml::Value::Integer(21)),
        ])
        .unwrap();
        assert_eq!(
            text,
            "[intervals]\ndefault_days = 21\n\n[pattern]\nblend_width_mm = 12.0\n"
        );
        let s = Settings::with_overrides(&text).unwrap();
        assert_eq!(s.pattern.blend_width_mm, 12.0);

        let mut full: toml::Table = toml::from_str(DEFAULT_SETTINGS_TOML).unwrap();
        let rules = full["eligibility"]["rules"].as_array().unwrap().clone();
        let kept: Vec<toml::Value> = rules
            .into_iter()
            .filter(|r| r["id"].as_str() != Some("keloid"))
            .collect();
        full["eligibility"]
            .as_table_mut()
            .unwrap()
            .insert("rules".into(), toml::Value::Array(kept));
        let diff = diff_from_defaults(&full);
        assert_eq!(
            toml::to_string(&diff).unwrap(),
            "[[eligibility.rules]]\ndisabled = true\nid = \"keloid\"\n"
        );
        assert!(overrides_toml([("no.such", toml::Value::Integer(1))]).is_err());
    }
}
