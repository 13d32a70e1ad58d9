//! The settings page's form, generated from the settings schema
//! ([`follicle_core::settings::schema()`]): every setting with its label, what the defaults
//! file says of it, its source, its default, the allowed values (range and unit, or the
//! choices) and the clinic's value; saving writes the clinic's override file with only the
//! keys that differ from the defaults.
//!
//! Nothing here knows a setting by name: a setting added to `settings/default.toml` (and so
//! to the schema) appears in the form, in its section, without a change to this file. Each
//! field is named by its dotted path (`intervals.default_days`), so an [`InputError`]'s field
//! path *is* the field to mark. Lists of tables (rules, aftercare items, locations, bands)
//! stay in the TOML file, which can still be exported and imported whole; the form keeps
//! them as they are.
//!
//! Checking reports every mistake at once, each in the schema's plain words
//! ([`validate_field`]) beside its field: every changed value is checked with the clinic's
//! other settings in force (twice, so two values that only fit together are accepted), then
//! the whole file is read, and a figure the core still refuses is marked and left as it was.
//! Nothing is saved while any mistake remains.
//!
//! [`InputError`]: follicle_core::InputError
//! [`validate_field`]: follicle_core::settings::validate_field

use follicle_core::Settings;
use follicle_core::settings::{DEFAULT_SETTINGS_TOML, SettingInfo, SettingKind, schema, validate_field};
use follicle_core::source::SpannedDoc;
use toml::{Table, Value};

use super::FieldErrors;

/// How a figure is typed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Widget {
    /// One line of text (numbers, words).
    Line {
        /// The keyboard a phone shows: `numeric`, `decimal` or `text`.
        inputmode: &'static str,
    },
    /// One of a few words (a choice, yes or no).
    Select {
        /// The words offered.
        options: Vec<String>,
    },
    /// A list, typed separated by commas.
    List,
}

/// One figure of the settings, as the form shows it.
#[derive(Debug, Clone)]
pub struct Figure {
    /// Its dotted path, also the form field's name (`intervals.default_days`).
    pub path: String,
    /// A short label (`Default (days)`).
    pub label: String,
    /// What the defaults file says of it.
    pub doc: String,
    /// The sources named there (`DOMAIN §1`), or empty.
    pub source: String,
    /// The default value, as typed in the form.
    pub default: String,
    /// The values allowed, in words (`1 to 365 days`, `one of soft, broken, sharp`), or empty.
    pub allowed: String,
    /// How it is typed.
    pub widget: Widget,
    info: &'static SettingInfo,
}

impl Figure {
    /// The HTML id of the field (`fig-intervals-default_days`).
    pub fn id(&self) -> String {
        format!("fig-{}", self.path.replace('.', "-"))
    }

    /// Whether it takes a whole line (lists).
    pub fn wide(&self) -> bool {
        self.widget == Widget::List
    }

    /// Whether it is a choice among a few words.
    pub fn is_select(&self) -> bool {
        matches!(self.widget, Widget::Select { .. })
    }

    /// The words offered, with `current` among them (a clinic's own location, say).
    pub fn options(&self, current: &str) -> Vec<String> {
        let mut options = match &self.widget {
            Widget::Select { options } => options.clone(),
            _ => Vec::new(),
        };
        if !current.is_empty() && !options.iter().any(|o| o == current) {
            options.push(current.to_owned());
        }
        options
    }

    /// The keyboard a phone shows for a one-line field.
    pub fn inputmode(&self) -> &'static str {
        match self.widget {
            Widget::Line { inputmode } => inputmode,
            _ => "text",
        }
    }

    fn from_info(info: &'static SettingInfo) -> Option<Figure> {
        let widget = match &info.kind {
            SettingKind::TableList { .. } => return None, // lists of tables: the file
            SettingKind::Integer { .. } => Widget::Line { inputmode: "numeric" },
            SettingKind::Number { .. } => Widget::Line { inputmode: "decimal" },
            SettingKind::Text => Widget::Line { inputmode: "text" },
            SettingKind::Boolean => Widget::Select {
                options: vec!["yes".into(), "no".into()],
            },
            SettingKind::Choice { options } => Widget::Select {
                options: options.clone(),
            },
            SettingKind::List { .. } => Widget::List,
        };
        Some(Figure {
            path: info.path.clone(),
            label: info.label.clone(),
            doc: info.doc.clone(),
            source: info.source.clone(),
            default: shown(&info.kind, &info.default),
            allowed: allowed(&info.kind),
            widget,
            info,
        })
    }
}

/// A section of the form: one top-level table of the settings file.
#[derive(Debug, Clone)]
pub struct Section {
    /// Its name (`intervals`).
    pub name: String,
    /// Its figures, in file order.
    pub figures: Vec<Figure>,
}

/// Every figure of the schema, by section, in the order of the defaults file.
pub fn sections() -> Vec<Section> {
    let spans = SpannedDoc::new(DEFAULT_SETTINGS_TOML);
    let line = |path: &str| spans.locate(path).map_or(usize::MAX, |l| l.line);
    let mut out: Vec<Section> = Vec::new();
    for figure in schema().iter().filter_map(Figure::from_info) {
        let name = figure.path.split('.').next().unwrap_or_default().to_owned();
        match out.iter_mut().find(|s| s.name == name) {
            Some(section) => section.figures.push(figure),
            None => out.push(Section {
                name,
                figures: vec![figure],
            }),
        }
    }
    for section in &mut out {
        section.figures.sort_by_key(|f| line(&f.path));
    }
    // File order, not alphabetical.
    out.sort_by_key(|s| line(&s.name));
    out
}

/// The allowed values in words.
fn allowed(kind: &SettingKind) -> String {
    match kind {
        SettingKind::Number { min, max, unit } | SettingKind::Integer { min, max, unit } => {
            let unit = unit.as_deref().map(|u| format!(" {u}")).unwrap_or_default();
            let whole = if matches!(kind, SettingKind::Integer { .. }) {
                "a whole number"
            } else {
                "a number"
            };
            match (min, max) {
                (Some(min), Some(max)) => format!("{whole} from {min} to {max}{unit}"),
                (Some(min), None) => format!("{whole} from {min}{unit}"),
                (None, Some(max)) => format!("{whole} up to {max}{unit}"),
                (None, None) if unit.is_empty() => whole.to_owned(),
                (None, None) => format!("{whole}, in{unit}"),
            }
        }
        SettingKind::Boolean => "yes or no".into(),
        SettingKind::Text => String::new(),
        SettingKind::Choice { options } => format!("one of {}", options.join(", ")),
        SettingKind::List { item } => match allowed(item) {
            a if a.is_empty() => "a list, separated by commas".into(),
            a => format!("a list, separated by commas; each {a}"),
        },
        SettingKind::TableList { .. } => String::new(),
    }
}

/// A value as the form shows it.
fn shown(kind: &SettingKind, value: &Value) -> String {
    match (kind, value) {
        (_, Value::String(s)) => s.clone(),
        (_, Value::Boolean(b)) => if *b { "yes" } else { "no" }.to_owned(),
        (SettingKind::List { item }, Value::Array(items)) => items
            .iter()
            .map(|v| shown(item, v))
            .collect::<Vec<_>>()
            .join(", "),
        (_, v) => v.to_string(),
    }
}

/// The clinic's value of every figure, as the form shows it (its own value or the default).
pub fn clinic_values(sections: &[Section], clinic_toml: &str) -> Vec<(String, String)> {
    let clinic: Table = toml::from_str(clinic_toml).unwrap_or_default();
    sections
        .iter()
        .flat_map(|s| &s.figures)
        .map(|f| (f.path.clone(), shown_in(&clinic, f)))
        .collect()
}

/// A figure's value in a clinic file, as the form shows it.
fn shown_in(clinic: &Table, f: &Figure) -> String {
    let v = lookup(clinic, &f.path).unwrap_or(&f.info.default);
    shown(&f.info.kind, v)
}

fn lookup<'a>(table: &'a Table, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut value = table.get(parts.next()?)?;
    for p in parts {
        value = value.as_table()?.get(p)?;
    }
    Some(value)
}

fn put(table: &mut Table, path: &str, value: Option<Value>) {
    let parts: Vec<&str> = path.split('.').collect();
    let Some((last, parents)) = parts.split_last() else {
        return;
    };
    let mut t = table;
    for p in parents {
        if !t.get(*p).is_some_and(Value::is_table) {
            if value.is_none() {
                return;
            }
            t.insert((*p).to_owned(), Value::Table(Table::new()));
        }
        let Some(next) = t.get_mut(*p).and_then(Value::as_table_mut) else {
            return;
        };
        t = next;
    }
    match value {
        Some(v) => {
            t.insert((*last).to_owned(), v);
        }
        None => {
            t.remove(*last);
        }
    }
}

/// Drops tables left empty by removing keys.
fn prune(table: &mut Table) {
    for (_, v) in table.iter_mut() {
        if let Value::Table(t) = v {
            prune(t);
        }
    }
    table.retain(|_, v| !matches!(v, Value::Table(t) if t.is_empty()));
}

/// The settings form checked: the clinic's new override file, or the mistakes by field.
#[derive(Debug)]
pub struct CheckedSettings {
    /// The override file: the clinic's file with each figure of the form set where it differs
    /// from the default and removed where it equals it (a refused figure left as it was).
    pub clinic_toml: String,
    /// The mistakes, by figure path.
    pub errors: FieldErrors,
}

/// Applies the typed figures (`(path, text)`) to the clinic's current file and checks them all.
pub fn check(sections: &[Section], clinic_toml: &str, typed_values: &[(String, String)]) -> CheckedSettings {
    let mut errors = FieldErrors::default();
    let mut clinic: Table = match toml::from_str(clinic_toml) {
        Ok(t) => t,
        Err(_) => {
            errors.add(
                "form",
                "The clinic's settings file does not read as TOML; fix it in the file box below first.",
            );
            Table::new()
        }
    };
    let figures: Vec<&Figure> = sections.iter().flat_map(|s| &s.figures).collect();
    // The figures changed on the form (one not sent, or sent as shown, is left as it is).
    let changed: Vec<(&Figure, &str)> = figures
        .iter()
        .filter_map(|f| {
            let (_, text) = typed_values.iter().find(|(k, _)| *k == f.path)?;
            (text.trim() != shown_in(&clinic, f).trim()).then_some((*f, text.as_str()))
        })
        .collect();
    // Each checked with the clinic's other settings in force; what is refused is checked
    // again with the accepted values in force, so two values that only fit together pass.
    let mut accepted: Vec<(&Figure, Value)> = Vec::new();
    let mut refused: Vec<(&Figure, &str, String)> = Vec::new();
    for (f, text) in changed {
        match validate_field(&f.path, text, Some(clinic_toml)) {
            Ok(v) => accepted.push((f, v)),
            Err(m) => refused.push((f, text, m)),
        }
    }
    if !refused.is_empty() && !accepted.is_empty() {
        let candidate = with_values(&clinic, &accepted);
        let text = toml::to_string(&candidate).unwrap_or_default();
        for (f, typed, m) in std::mem::take(&mut refused) {
            match validate_field(&f.path, typed, Some(&text)) {
                Ok(v) => accepted.push((f, v)),
                Err(_) => refused.push((f, typed, m)),
            }
        }
    }
    for (f, _, m) in refused {
        errors.add(f.path.clone(), m);
    }
    clinic = with_values(&clinic, &accepted);
    // The whole file, read as the planner will read it: a figure the core still refuses
    // (two new values that do not fit together) is marked and left as it was.
    let mut work = clinic.clone();
    for _ in 0..figures.len().max(1) {
        let text = toml::to_string(&work).unwrap_or_default();
        let Err(e) = Settings::with_overrides(&text) else {
            break;
        };
        let head = e.field.split('[').next().unwrap_or(&e.field).to_owned();
        let figure = figures
            .iter()
            .filter(|f| head == f.path || head.starts_with(&format!("{}.", f.path)))
            .max_by_key(|f| f.path.len());
        match figure {
            Some(f) if errors.get(&f.path).is_empty() && accepted.iter().any(|(a, _)| a.path == f.path) => {
                errors.add(f.path.clone(), format!("{}: {}", f.label, e.message));
                let before: Table = toml::from_str(clinic_toml).unwrap_or_default();
                put(&mut work, &f.path, lookup(&before, &f.path).cloned());
                prune(&mut work);
            }
            _ => {
                if errors.get("form").is_empty() {
                    errors.add("form", format!("{}: {}", e.field, e.message));
                }
                break;
            }
        }
    }
    CheckedSettings {
        clinic_toml: toml::to_string(&clinic).unwrap_or_default(),
        errors,
    }
}

/// The clinic file with these values set, each removed where it equals its default.
fn with_values(clinic: &Table, values: &[(&Figure, Value)]) -> Table {
    let mut out = clinic.clone();
    for (f, v) in values {
        if values_equal(v, &f.info.default) {
            put(&mut out, &f.path, None);
        } else {
            put(&mut out, &f.path, Some(v.clone()));
        }
    }
    prune(&mut out);
    out
}

/// Integers and floats of the same amount are the same figure (also inside lists).
fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Integer(x), Value::Float(y)) | (Value::Float(y), Value::Integer(x)) => (*x as f64) == *y,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| values_equal(a, b))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure<'a>(sections: &'a [Section], path: &str) -> &'a Figure {
        sections
            .iter()
            .flat_map(|s| &s.figures)
            .find(|f| f.path == path)
            .unwrap_or_else(|| panic!("no figure {path}"))
    }

    /// Typing `typed` over the clinic file `clinic` saves `expected` (or gives these errors).
    fn check_save(clinic: &str, typed: &[(&str, &str)], expected: &str, errors: &[(&str, &str)]) {
        let sections = sections();
        let typed: Vec<(String, String)> = typed.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        let checked = check(&sections, clinic, &typed);
        assert_eq!(checked.clinic_toml, expected);
        let got: Vec<_> = checked
            .errors
            .0
            .iter()
            .map(|(f, m)| (f.as_str(), m.as_str()))
            .collect();
        assert_eq!(got.len(), errors.len(), "{got:#?}");
        for (field, words) in errors {
            let m = checked.errors.get(field);
            assert!(m.contains(words), "{field}: {m:?} should say {words:?}");
        }
    }

    #[test]
    fn every_figure_has_its_default_and_source() {
        let sections = sections();
        assert_eq!(sections[0].name, "eligibility", "file order");
        let days = figure(&sections, "intervals.default_days");
        assert_eq!(days.widget, Widget::Line { inputmode: "numeric" });
        assert_eq!(days.default, "14");
        assert!(days.source.contains("DOMAIN §1"), "{:?}", days.source);
        assert!(days.allowed.contains("1 to 365 days"), "{:?}", days.allowed);
        let working = figure(&sections, "intervals.working_days");
        assert_eq!(working.widget, Widget::List);
        assert_eq!(working.default, "mon, tue, wed, thu, fri, sat");
        assert!(working.allowed.contains("sun"), "{:?}", working.allowed);
        let mode = figure(&sections, "pricing.mode");
        assert!(mode.is_select());
        assert!(mode.options("").contains(&"per_session".to_owned()));
        // Lists of tables stay in the file.
        assert!(
            sections
                .iter()
                .flat_map(|s| &s.figures)
                .all(|f| !f.path.starts_with("eligibility.rules"))
        );
        // Every setting of the schema but the lists of tables is on the form, once.
        let on_form: Vec<&str> = sections
            .iter()
            .flat_map(|s| &s.figures)
            .map(|f| f.path.as_str())
            .collect();
        let expected: Vec<&str> = schema()
            .iter()
            .filter(|s| !matches!(s.kind, SettingKind::TableList { .. }))
            .map(|s| s.path.as_str())
            .collect();
        assert_eq!(on_form.len(), expected.len());
        assert!(expected.iter().all(|p| on_form.contains(p)));
        assert!(on_form.len() > 50, "{} figures", on_form.len());
        // Every default, typed back as shown, is accepted and is the default.
        for f in sections.iter().flat_map(|s| &s.figures) {
            let back = validate_field(&f.path, &f.default, None);
            assert!(
                back.as_ref().is_ok_and(|v| values_equal(v, &f.info.default)),
                "{} reads back: {back:?}",
                f.path
            );
        }
    }

    #[test]
    fn only_what_differs_is_saved() {
        check_save(
            "[intervals]\ndefault_days = 21\n",
            &[
                ("intervals.default_days", "14"),
                ("intervals.minimum_days", "12"),
                ("intervals.working_days", "mon, tue, wed, thu, fri"),
            ],
            "[intervals]\nminimum_days = 12\nworking_days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]\n",
            &[],
        );
    }

    #[test]
    fn every_bad_value_beside_its_field_and_nothing_else_changed() {
        check_save(
            "[intervals]\ndefault_days = 21\n",
            &[
                ("intervals.default_days", "three weeks"),
                ("intervals.working_days", "mon, funday"),
                ("intervals.minimum_days", "12"),
                ("sessions.max_hours", "40"),
            ],
            "[intervals]\ndefault_days = 21\nminimum_days = 12\n",
            &[
                (
                    "intervals.default_days",
                    "Enter a whole number, such as 14; \"three weeks\" is not one.",
                ),
                ("intervals.working_days", "funday"),
                ("sessions.max_hours", "between 0.5 and 12 h"),
            ],
        );
    }

    #[test]
    fn rooms_are_names_each_once() {
        let sections = sections();
        let rooms = figure(&sections, "diary.rooms");
        assert_eq!(
            rooms.default,
            figure(&sections, "diary.closed_dates").default,
            "an empty list"
        );
        assert!(rooms.doc.contains("column per room"), "{}", rooms.doc);
        check_save(
            "",
            &[("diary.rooms", "Room 1, Chair B")],
            "[diary]\nrooms = [\"Room 1\", \"Chair B\"]\n",
            &[],
        );
        check_save(
            "",
            &[("diary.rooms", "Room 1, room 1")],
            "",
            &[(
                "diary.rooms",
                "expected each room once, got \"room 1\" again (it is diary.rooms[0])",
            )],
        );
        check_save(
            "",
            &[("diary.rooms", &"A".repeat(41))],
            "",
            &[(
                "diary.rooms",
                "expected a room's name of 1–40 characters without commas",
            )],
        );
    }

    #[test]
    fn values_that_only_fit_together_are_accepted_together() {
        let sessions = sections();
        let min = figure(&sessions, "sessions.min_hours");
        let max = figure(&sessions, "sessions.max_hours");
        let max_default: f64 = max.default.parse().unwrap();
        // A minimum above today's maximum, with a maximum raised to fit it.
        let new_min = max_default + 1.0;
        let new_max = max_default + 2.0;
        let refused_alone = validate_field(&min.path, &new_min.to_string(), None);
        assert!(refused_alone.is_err(), "{refused_alone:?}");
        let checked = check(
            &sessions,
            "",
            &[
                (min.path.clone(), new_min.to_string()),
                (max.path.clone(), new_max.to_string()),
            ],
        );
        assert!(checked.errors.is_empty(), "{:?}", checked.errors);
        assert_eq!(
            checked.clinic_toml,
            format!("[sessions]\nmax_hours = {new_max:?}\nmin_hours = {new_min:?}\n")
        );
    }
}
