//! The settings page's form, generated from the settings file itself: every figure of
//! `settings/default.toml` with its default, its source (the comment written beside or above
//! it) and the clinic's value; saving writes the clinic's override file with only the keys
//! that differ from the defaults.
//!
//! The defaults file is the schema: its tables become the form's sections, each value a field
//! named by its dotted path (`intervals.default_days`), so an [`InputError`]'s field path *is*
//! the field to mark. Lists of tables (rules, aftercare items, price lists) stay in the TOML
//! file, which can still be exported and imported whole; the form keeps them as they are.
//!
//! Like the consultation wizard, checking reports every mistake at once: a value that is not a
//! number (or not the list or table it should be) is marked by the form; then the settings are
//! read, and each field the core refuses is marked and put back to its default before the
//! settings are read again. Nothing is saved while any mistake remains.
//!
//! [`InputError`]: follicle_core::InputError

use follicle_core::Settings;
use follicle_core::settings::DEFAULT_SETTINGS_TOML;
use follicle_core::source::SpannedDoc;
use toml::{Table, Value};

use super::FieldErrors;

/// How a figure is typed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FigureKind {
    /// A whole number.
    Whole,
    /// A number with decimals.
    Decimal,
    /// Text.
    Text,
    /// Yes or no.
    Flag,
    /// A list of words, typed separated by commas.
    Words,
    /// Anything else (a list of numbers, a table of lists), typed as a TOML value.
    Toml,
}

/// One figure of the settings, as the form shows it.
#[derive(Debug, Clone)]
pub struct Figure {
    /// Its dotted path, also the form field's name (`intervals.default_days`).
    pub path: String,
    /// How it is typed.
    pub kind: FigureKind,
    /// The default value, as typed in the form.
    pub default: String,
    /// The comment beside or above it in the defaults file: what it is and its source.
    pub source: String,
    default_value: Value,
}

impl Figure {
    /// The HTML id of the field (`fig-intervals-default_days`).
    pub fn id(&self) -> String {
        format!("fig-{}", self.path.replace('.', "-"))
    }

    /// Whether it takes a whole line (lists and tables).
    pub fn wide(&self) -> bool {
        matches!(self.kind, FigureKind::Words | FigureKind::Toml)
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

/// Every figure of the defaults file, by section, in file order.
pub fn sections() -> Vec<Section> {
    let doc: Table = toml::from_str(DEFAULT_SETTINGS_TOML).expect("the default settings parse (tested)");
    let spans = SpannedDoc::new(DEFAULT_SETTINGS_TOML);
    let lines: Vec<&str> = DEFAULT_SETTINGS_TOML.lines().collect();
    let mut out = Vec::new();
    for (name, value) in &doc {
        let mut figures = Vec::new();
        if let Value::Table(t) = value {
            collect(name, t, &mut figures, &spans, &lines);
        }
        if !figures.is_empty() {
            out.push(Section {
                name: name.clone(),
                figures,
            });
        }
    }
    // File order, not alphabetical.
    out.sort_by_key(|s| spans.locate(&s.name).map_or(usize::MAX, |l| l.line));
    out
}

fn collect(path: &str, table: &Table, out: &mut Vec<Figure>, spans: &SpannedDoc<'_>, lines: &[&str]) {
    let mut here: Vec<(usize, Figure)> = Vec::new();
    let mut nested: Vec<(usize, String, &Table)> = Vec::new();
    for (key, value) in table {
        let at = format!("{path}.{key}");
        let line = spans.locate(&at).map_or(usize::MAX, |l| l.line);
        let kind = match value {
            Value::Table(t) => {
                nested.push((line, at, t));
                continue;
            }
            Value::Array(items) if items.iter().any(Value::is_table) => continue, // lists of tables: the file
            Value::Array(items) if items.iter().all(Value::is_str) && !items.is_empty() => FigureKind::Words,
            Value::Integer(_) => FigureKind::Whole,
            Value::Float(_) => FigureKind::Decimal,
            Value::String(_) => FigureKind::Text,
            Value::Boolean(_) => FigureKind::Flag,
            _ => FigureKind::Toml,
        };
        here.push((
            line,
            Figure {
                kind,
                default: shown(kind, value),
                source: comment_at(lines, line),
                default_value: value.clone(),
                path: at,
            },
        ));
    }
    // File order within the table, then its sub-tables.
    here.sort_by_key(|(l, _)| *l);
    out.extend(here.into_iter().map(|(_, f)| f));
    nested.sort_by_key(|(l, ..)| *l);
    for (_, at, t) in nested {
        collect(&at, t, out, spans, lines);
    }
}

/// The comment on a value's line, or else the comment lines just above it.
fn comment_at(lines: &[&str], line: usize) -> String {
    let Some(text) = line.checked_sub(1).and_then(|i| lines.get(i)) else {
        return String::new();
    };
    if let Some((_, c)) = text.split_once(" # ").or_else(|| text.split_once("  #")) {
        return c.trim().trim_start_matches('#').trim().to_owned();
    }
    let mut above = Vec::new();
    let mut i = line.saturating_sub(1);
    while i > 0 {
        let t = lines[i - 1].trim();
        match t.strip_prefix('#') {
            Some(c) => above.push(c.trim()),
            None => break,
        }
        i -= 1;
    }
    above.reverse();
    above.join(" ")
}

/// A value as the form shows it.
fn shown(kind: FigureKind, value: &Value) -> String {
    match (kind, value) {
        (FigureKind::Text, Value::String(s)) => s.clone(),
        (FigureKind::Words, Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        (FigureKind::Flag, Value::Boolean(b)) => if *b { "yes" } else { "no" }.to_owned(),
        (_, v) => v.to_string(),
    }
}

/// A typed value as TOML, or what is wrong with it in words.
fn typed(kind: FigureKind, text: &str) -> Result<Value, String> {
    let text = text.trim();
    match kind {
        FigureKind::Whole => text
            .parse::<i64>()
            .map(Value::Integer)
            .map_err(|_| format!("expected a whole number, got {text:?}")),
        FigureKind::Decimal => match text.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Value::Float(x)),
            _ => Err(format!("expected a number (such as 14 or 0.35), got {text:?}")),
        },
        FigureKind::Text => Ok(Value::String(text.to_owned())),
        FigureKind::Flag => match text {
            "yes" | "true" => Ok(Value::Boolean(true)),
            "no" | "false" => Ok(Value::Boolean(false)),
            _ => Err(format!("expected yes or no, got {text:?}")),
        },
        FigureKind::Words => Ok(Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .map(|w| Value::String(w.to_owned()))
                .collect(),
        )),
        FigureKind::Toml => toml::from_str::<Table>(&format!("value = {text}"))
            .ok()
            .and_then(|mut t| t.remove("value"))
            .ok_or_else(|| {
                format!(
                    "expected a value written as in the settings file (such as {}), got {text:?}",
                    "[0.5, 0.35]"
                )
            }),
    }
}

/// The clinic's value of every figure, as the form shows it (its own value or the default).
pub fn clinic_values(sections: &[Section], clinic_toml: &str) -> Vec<(String, String)> {
    let clinic: Table = toml::from_str(clinic_toml).unwrap_or_default();
    sections
        .iter()
        .flat_map(|s| &s.figures)
        .map(|f| {
            let v = lookup(&clinic, &f.path).unwrap_or(&f.default_value);
            (f.path.clone(), shown(f.kind, v))
        })
        .collect()
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
    let (last, parents) = parts.split_last().expect("a path has a key");
    let mut t = table;
    for p in parents {
        if !t.get(*p).is_some_and(Value::is_table) {
            if value.is_none() {
                return;
            }
            t.insert((*p).to_owned(), Value::Table(Table::new()));
        }
        t = t
            .get_mut(*p)
            .and_then(Value::as_table_mut)
            .expect("a table, made above");
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
    /// from the default and removed where it equals it.
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
    for f in sections.iter().flat_map(|s| &s.figures) {
        let Some((_, text)) = typed_values.iter().find(|(k, _)| *k == f.path) else {
            continue; // not sent: left as it is
        };
        match typed(f.kind, text) {
            Ok(v) if values_equal(&v, &f.default_value) => put(&mut clinic, &f.path, None),
            Ok(v) => put(&mut clinic, &f.path, Some(v)),
            Err(m) => {
                errors.add(f.path.clone(), m);
                put(&mut clinic, &f.path, None);
            }
        }
    }
    prune(&mut clinic);
    let wanted = clinic.clone();
    // The core's rules: each refused figure marked, set back to its default, read again.
    let mut work = clinic;
    for _ in 0..64 {
        let text = toml::to_string(&work).unwrap_or_default();
        let Err(e) = Settings::with_overrides(&text) else {
            break;
        };
        let head = e.field.split('[').next().unwrap_or(&e.field).to_owned();
        let figure = sections
            .iter()
            .flat_map(|s| &s.figures)
            .filter(|f| head == f.path || head.starts_with(&format!("{}.", f.path)))
            .max_by_key(|f| f.path.len());
        match figure {
            Some(f) if errors.get(&f.path).is_empty() && lookup(&work, &f.path).is_some() => {
                errors.add(f.path.clone(), sentence(&e.message));
                put(&mut work, &f.path, None);
                prune(&mut work);
            }
            _ => {
                if errors.get("form").is_empty() {
                    errors.add("form", format!("{}: {}", e.field, sentence(&e.message)));
                }
                break;
            }
        }
    }
    CheckedSettings {
        clinic_toml: toml::to_string(&wanted).unwrap_or_default(),
        errors,
    }
}

/// Integers and floats of the same amount are the same figure.
fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Integer(x), Value::Float(y)) | (Value::Float(y), Value::Integer(x)) => (*x as f64) == *y,
        _ => a == b,
    }
}

fn sentence(m: &str) -> String {
    let mut c = m.chars();
    match c.next() {
        Some(first) => format!("{}{}", first.to_uppercase(), c.as_str()),
        None => String::new(),
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
        assert_eq!((days.kind, days.default.as_str()), (FigureKind::Whole, "14"));
        assert!(days.source.contains("DOMAIN §1"), "{:?}", days.source);
        let working = figure(&sections, "intervals.working_days");
        assert_eq!(working.kind, FigureKind::Words);
        assert_eq!(working.default, "mon, tue, wed, thu, fri, sat");
        // Lists of tables stay in the file.
        assert!(
            sections
                .iter()
                .flat_map(|s| &s.figures)
                .all(|f| !f.path.starts_with("eligibility.rules"))
        );
        let count = sections.iter().map(|s| s.figures.len()).sum::<usize>();
        assert!(count > 50, "{count} figures");
        for f in sections.iter().flat_map(|s| &s.figures) {
            assert_eq!(
                typed(f.kind, &f.default)
                    .ok()
                    .as_ref()
                    .map(|v| values_equal(v, &f.default_value)),
                Some(true),
                "{} reads back",
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
            ],
            "[intervals]\nminimum_days = 12\nworking_days = [\"mon\", \"funday\"]\n",
            &[
                (
                    "intervals.default_days",
                    "expected a whole number, got \"three weeks\"",
                ),
                ("intervals.working_days", "funday"),
            ],
        );
    }
}
