//! The consultation wizard's form: every field a client file holds, the one mapping from the
//! form to the client file (the TOML `follicle plan` reads), and the mapping back from an
//! [`InputError`]'s field path to the form field that produced it.
//!
//! Checking reports every mistake at once. The form first checks what only it knows (a number
//! that is not a number, a date that is not a date, a row half filled in); then the core reads
//! the client file, and each error it reports is put beside its field and that field replaced
//! by a harmless value ([`ConsultForm::neutral`]) before the core reads the file again, until
//! it reads cleanly. The rules stay in one place (the core), and the practitioner sees all the
//! mistakes in one go, in words, beside the fields, with what was typed kept.
//!
//! Repeated rows (scars, past treatments) are named `scar{i}_kind`, `event{i}_date`, …; blank
//! rows are skipped, so the client file's `scars[k]` is the k-th filled row, and [`RowMap`]
//! remembers which.

use follicle_core::Settings;
use follicle_core::plan::parse_weekday;
use follicle_core::profile::{ClientProfile, parse_date};
use time::{Date, Duration};

use super::FieldErrors;

/// The wizard's fields, as typed.
#[derive(Debug, Default, Clone)]
pub struct ConsultForm {
    /// The CSRF token sent with the form.
    pub csrf: String,
    /// The button pressed (`preview`, `save`).
    pub action: String,
    /// Values by field name (checkbox groups repeat the name).
    values: Vec<(String, String)>,
}

/// The fields of one scar row, after the `scar{i}_` prefix.
pub const SCAR_PARTS: [&str; 6] = ["kind", "site", "length_mm", "width_mm", "count", "date"];
/// The fields of one past-treatment row, after the `event{i}_` prefix.
pub const EVENT_PARTS: [&str; 2] = ["kind", "date"];

/// How a field's text is read.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// Free text or a choice: passed on as text.
    Text,
    /// A whole number.
    Whole,
    /// A number that may have decimals.
    Decimal,
    /// A date, `YYYY-MM-DD`.
    Date,
}

/// The single (not repeated) fields: form name, client-file path, label, how it is read.
const FIELDS: &[(&str, &str, &str, Kind)] = &[
    ("name", "client.name", "Name", Kind::Text),
    ("age", "client.age", "Age", Kind::Whole),
    ("sex", "client.sex", "Sex", Kind::Text),
    (
        "fitzpatrick",
        "skin.fitzpatrick",
        "Fitzpatrick skin type",
        Kind::Text,
    ),
    ("skin_type", "skin.type", "Skin", Kind::Text),
    ("keloid_history", "skin.keloid_history", "Keloids", Kind::Text),
    (
        "hyperpigmentation_history",
        "skin.hyperpigmentation_history",
        "Dark marks",
        Kind::Text,
    ),
    ("hair_colour", "hair.colour", "Hair colour", Kind::Text),
    ("grey_percent", "hair.grey_percent", "Grey hair", Kind::Whole),
    ("scale", "hair_loss.scale", "Hair-loss scale", Kind::Text),
    ("stage", "hair_loss.stage", "Stage", Kind::Text),
    (
        "affected_percent",
        "hair_loss.affected_percent",
        "Area affected",
        Kind::Decimal,
    ),
    (
        "stable_since",
        "hair_loss.stable_since",
        "Stable since",
        Kind::Date,
    ),
    (
        "progressing",
        "hair_loss.progressing",
        "Still progressing",
        Kind::Text,
    ),
    ("conditions", "medical.conditions", "Conditions", Kind::Text),
    ("medications", "medical.medications", "Medications", Kind::Text),
    (
        "sun_exposure",
        "lifestyle.sun_exposure",
        "Sun exposure",
        Kind::Text,
    ),
    ("gym", "lifestyle.gym", "Gym", Kind::Text),
    ("swimming", "lifestyle.swimming", "Swimming", Kind::Text),
    ("aims", "goal.aims", "Aims", Kind::Text),
    (
        "hairline_style",
        "goal.hairline_style",
        "Hairline style",
        Kind::Text,
    ),
    (
        "head_circumference_cm",
        "head.circumference_cm",
        "Head circumference",
        Kind::Decimal,
    ),
    ("head_length_mm", "head.length_mm", "Head length", Kind::Decimal),
    (
        "head_breadth_mm",
        "head.breadth_mm",
        "Head breadth",
        Kind::Decimal,
    ),
    ("location", "pricing.location", "Price list", Kind::Text),
    ("start", "", "First session", Kind::Date),
];

/// Where the client file's repeated entries came from in the form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowMap {
    /// `scars[k]` is form row `scars[k]`.
    scars: Vec<usize>,
    /// `medical.medications[k]` is the medication group named here.
    medications: Vec<String>,
    /// `medical.events[k]` is form row `events[k]`.
    events: Vec<usize>,
}

/// A form read and checked: the client file it describes and every mistake found.
#[derive(Debug)]
pub struct Checked {
    /// The client file, as typed (also when there are mistakes, to show it).
    pub client_toml: String,
    /// The mistakes, by form field.
    pub errors: FieldErrors,
}

impl ConsultForm {
    /// Reads a posted form body.
    pub fn parse(body: &[u8]) -> ConsultForm {
        let mut f = ConsultForm::default();
        for (k, v) in super::clients::url_pairs(body) {
            match k.as_str() {
                "_csrf" => f.csrf = v,
                "action" => f.action = v,
                _ => f.values.push((k, v)),
            }
        }
        f
    }

    /// A form from field names and values (tests, defaults).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> ConsultForm {
        ConsultForm {
            values: pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            ..ConsultForm::default()
        }
    }

    /// A field's value, trimmed ("" if not sent).
    pub fn get(&self, name: &str) -> &str {
        self.values
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    }

    /// Whether a checkbox group holds a value.
    pub fn has(&self, name: &str, value: &str) -> bool {
        self.values.iter().any(|(k, v)| k == name && v == value)
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.values
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// Sets a field (replacing every value it had).
    pub fn set(&mut self, name: &str, value: &str) {
        self.values.retain(|(k, _)| k != name);
        self.values.push((name.into(), value.into()));
    }

    /// Sets a checkbox group's values (replacing those it had).
    pub fn set_all(&mut self, name: &str, values: &[&str]) {
        self.values.retain(|(k, _)| k != name);
        for v in values {
            self.values.push((name.into(), (*v).into()));
        }
    }

    /// A row field's name: `row("scar", 2, "kind")` is `scar2_kind`.
    pub fn row_name(prefix: &str, index: usize, part: &str) -> String {
        format!("{prefix}{index}_{part}")
    }

    /// The indices of a repeated group's rows that hold anything typed, in order.
    fn filled_rows(&self, prefix: &str, parts: &[&str], ignore: &[&str]) -> Vec<usize> {
        let mut rows: Vec<usize> = self
            .values
            .iter()
            .filter_map(|(k, v)| {
                let rest = k.strip_prefix(prefix)?;
                let (i, part) = rest.split_once('_')?;
                let i = i.parse::<usize>().ok()?;
                (parts.contains(&part) && !ignore.contains(&part) && !v.trim().is_empty()).then_some(i)
            })
            .collect();
        rows.sort_unstable();
        rows.dedup();
        rows
    }

    /// The scar rows to show: those filled in, then one blank.
    pub fn scar_rows(&self) -> Vec<usize> {
        with_blank(self.filled_rows("scar", &SCAR_PARTS, &["site"]))
    }

    /// The past-treatment rows to show: those filled in, then one blank.
    pub fn event_rows(&self) -> Vec<usize> {
        with_blank(self.filled_rows("event", &EVENT_PARTS, &[]))
    }

    /// A row field's name, for the template: `field("scar", 2, "kind")` is `scar2_kind`.
    pub fn field(&self, prefix: &str, index: impl std::fmt::Display, part: &str) -> String {
        format!("{prefix}{index}_{part}")
    }

    /// A row field's value.
    pub fn row(&self, prefix: &str, index: usize, part: &str) -> &str {
        self.get(&ConsultForm::row_name(prefix, index, part))
    }

    /// Whether the client takes or took a medication group (ticked, or given a stop date).
    pub fn takes(&self, name: &str) -> bool {
        self.medications().iter().any(|m| m == name)
    }

    /// The medication groups ticked (or given a stop date), in the order sent.
    fn medications(&self) -> Vec<String> {
        let mut names: Vec<String> = self.all("medications").into_iter().map(str::to_owned).collect();
        for (k, v) in &self.values {
            if let Some(name) = k.strip_prefix("stopped_")
                && !v.trim().is_empty()
                && !names.iter().any(|n| n == name)
            {
                names.push(name.to_owned());
            }
        }
        names
    }

    /// A new consultation: the client's name and age, common answers preselected, and the
    /// first session proposed on `first_day`.
    pub fn new_for(name: &str, age: Option<i64>, first_day: Date) -> ConsultForm {
        let age = age.map(|a| a.to_string()).unwrap_or_default();
        ConsultForm::from_pairs([
            ("name", name),
            ("age", age.as_str()),
            ("sex", "male"),
            ("fitzpatrick", "III"),
            ("skin_type", "normal"),
            ("hair_colour", "dark_brown"),
            ("grey_percent", "0"),
            ("scale", "norwood"),
            ("stage", "V"),
            ("sun_exposure", "moderate"),
            ("aims", "full_coverage"),
            ("hairline_style", "soft"),
            ("start", &first_day.to_string()),
        ])
    }

    /// Fills the single fields a client file gives (the hair-loss scale and stage, skin, hair,
    /// aims…), except those named in `skip`; a list of words (`goal.aims`) sets each word.
    /// A file that does not read changes nothing.
    pub fn fill_from_client_file(&mut self, toml_text: &str, skip: &[&str]) {
        let Ok(doc) = toml_text.parse::<toml::Table>() else {
            return;
        };
        for (name, path, _, _) in FIELDS {
            if path.is_empty() || skip.contains(name) {
                continue;
            }
            let mut parts = path.split('.');
            let Some(mut value) = parts.next().and_then(|p| doc.get(p)) else {
                continue;
            };
            let mut found = true;
            for part in parts {
                match value.get(part) {
                    Some(v) => value = v,
                    None => {
                        found = false;
                        break;
                    }
                }
            }
            if !found {
                continue;
            }
            match value {
                toml::Value::String(t) => self.set(name, t),
                toml::Value::Integer(i) => self.set(name, &i.to_string()),
                toml::Value::Float(f) => self.set(name, &f.to_string()),
                toml::Value::Boolean(b) => self.set(name, if *b { "true" } else { "false" }),
                toml::Value::Datetime(d) => self.set(name, &d.to_string()),
                toml::Value::Array(items) => {
                    let words: Vec<&str> = items.iter().filter_map(toml::Value::as_str).collect();
                    self.set_all(name, &words);
                }
                toml::Value::Table(_) => {}
            }
        }
    }

    /// The client file this form describes (the one mapping from form to file), with where
    /// its repeated entries came from.
    pub fn client_file(&self) -> (String, RowMap) {
        let mut out = TomlOut::default();
        let mut rows = RowMap::default();
        let text = |s: &str| toml::Value::String(s.to_owned()).to_string();
        let opt_text = |name: &str| Some(self.get(name)).filter(|v| !v.is_empty()).map(text);
        let opt_number = |name: &str| Some(self.get(name)).filter(|v| !v.is_empty()).map(number);

        out.table(
            "client",
            vec![
                ("name", opt_text("name")),
                ("age", opt_number("age")),
                ("sex", opt_text("sex")),
            ],
        );
        out.table(
            "skin",
            vec![
                ("fitzpatrick", opt_text("fitzpatrick")),
                ("type", opt_text("skin_type")),
                ("keloid_history", yes_no(self.get("keloid_history"))),
                (
                    "hyperpigmentation_history",
                    yes_no(self.get("hyperpigmentation_history")),
                ),
            ],
        );
        out.table(
            "hair",
            vec![
                ("colour", opt_text("hair_colour")),
                ("grey_percent", opt_number("grey_percent")),
            ],
        );
        let scale = self.get("scale");
        let staged = matches!(scale, "norwood" | "ludwig" | "savin");
        let salt = matches!(scale, "alopecia_areata" | "scarring_alopecia");
        out.table(
            "hair_loss",
            vec![
                ("scale", opt_text("scale")),
                ("stage", opt_text("stage").filter(|_| staged)),
                (
                    "affected_percent",
                    opt_number("affected_percent").filter(|_| salt),
                ),
                ("progressing", Some(flag(self.has("progressing", "on")))),
                (
                    "stable_since",
                    Some(self.get("stable_since")).filter(|v| !v.is_empty()).map(date),
                ),
            ],
        );
        for i in self.filled_rows("scar", &SCAR_PARTS, &["site"]) {
            let part = |p: &str| self.row("scar", i, p);
            let some = |p: &str, v: &str| Some(v).filter(|v| !v.is_empty()).map(|_| number(part(p)));
            let kind = part("kind");
            let fue = kind == "fue";
            out.array_table(
                "scars",
                vec![
                    ("kind", Some(text(kind))),
                    ("site", Some(text(part("site")))),
                    ("length_mm", some("length_mm", part("length_mm")).filter(|_| !fue)),
                    ("width_mm", some("width_mm", part("width_mm")).filter(|_| !fue)),
                    ("count", some("count", part("count")).filter(|_| fue)),
                    ("date", Some(part("date")).filter(|v| !v.is_empty()).map(date)),
                ],
            );
            rows.scars.push(i);
        }
        let conditions = self.all("conditions");
        let medications: Vec<String> = self
            .medications()
            .into_iter()
            .map(|name| {
                let stopped = self.get(&format!("stopped_{name}"));
                let entry = if stopped.is_empty() {
                    format!("{{ name = {} }}", text(&name))
                } else {
                    format!("{{ name = {}, stopped = {} }}", text(&name), date(stopped))
                };
                rows.medications.push(name);
                entry
            })
            .collect();
        let events: Vec<String> = self
            .filled_rows("event", &EVENT_PARTS, &[])
            .into_iter()
            .map(|i| {
                rows.events.push(i);
                let when = self.row("event", i, "date");
                let when = if when.is_empty() {
                    String::new()
                } else {
                    format!(", date = {}", date(when))
                };
                format!("{{ kind = {}{when} }}", text(self.row("event", i, "kind")))
            })
            .collect();
        out.table(
            "medical",
            vec![
                ("conditions", list(conditions.iter().map(|c| text(c)).collect())),
                ("medications", list(medications)),
                ("events", list(events)),
            ],
        );
        out.table(
            "lifestyle",
            vec![
                ("sun_exposure", opt_text("sun_exposure")),
                ("gym", Some(flag(self.has("gym", "on")))),
                ("swimming", Some(flag(self.has("swimming", "on")))),
            ],
        );
        out.table(
            "goal",
            vec![
                (
                    "aims",
                    Some(format!(
                        "[{}]",
                        self.all("aims")
                            .iter()
                            .map(|a| text(a))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                ),
                ("hairline_style", opt_text("hairline_style")),
            ],
        );
        out.table(
            "head",
            vec![
                ("circumference_cm", opt_number("head_circumference_cm")),
                ("length_mm", opt_number("head_length_mm")),
                ("breadth_mm", opt_number("head_breadth_mm")),
            ],
        );
        out.table("pricing", vec![("location", opt_text("location"))]);
        (out.0, rows)
    }

    /// Checks the whole form against the clinic's settings on `today`: the client file it
    /// describes and every mistake, each beside its field.
    pub fn check(&self, settings: &Settings, today: Date) -> Checked {
        let mut errors = FieldErrors::default();
        // What the core may read: this form with each wrong field replaced by a harmless value.
        let mut work = self.clone();
        let wrong = |work: &mut ConsultForm, errors: &mut FieldErrors, field: &str, message: String| {
            errors.add(field, message);
            work.neutral(field, today);
        };

        // 1. What only the form can tell: numbers, dates, rows half filled in.
        for (name, _, label, kind) in FIELDS {
            if let Some(message) = read_error(label, *kind, self.get(name)) {
                wrong(&mut work, &mut errors, name, message);
            }
        }
        if self.get("age").is_empty() {
            wrong(
                &mut work,
                &mut errors,
                "age",
                "Give the client's age in years.".into(),
            );
        }
        let start = self.get("start");
        if let Ok(d) = parse_date(start)
            && d < today
        {
            let next = next_bookable_day(settings, today);
            wrong(
                &mut work,
                &mut errors,
                "start",
                format!("{d} is in the past; the next bookable day is {next}."),
            );
        }
        for i in self.filled_rows("scar", &SCAR_PARTS, &["site"]) {
            let at = |p: &str| ConsultForm::row_name("scar", i, p);
            if self.row("scar", i, "kind").is_empty() {
                wrong(
                    &mut work,
                    &mut errors,
                    &at("kind"),
                    "Choose what made this scar, or clear its size.".into(),
                );
                continue;
            }
            for (part, label, kind) in [
                ("length_mm", "Length", Kind::Decimal),
                ("width_mm", "Width", Kind::Decimal),
                ("count", "Punches", Kind::Whole),
                ("date", "Date", Kind::Date),
            ] {
                if let Some(message) = read_error(label, kind, self.row("scar", i, part)) {
                    wrong(&mut work, &mut errors, &at(part), message);
                }
            }
        }
        for i in self.filled_rows("event", &EVENT_PARTS, &[]) {
            let at = |p: &str| ConsultForm::row_name("event", i, p);
            if self.row("event", i, "kind").is_empty() {
                wrong(
                    &mut work,
                    &mut errors,
                    &at("kind"),
                    "Choose what was done on this date, or clear the date.".into(),
                );
            } else if self.row("event", i, "date").is_empty() {
                wrong(
                    &mut work,
                    &mut errors,
                    &at("date"),
                    "Give the date (the last day of it).".into(),
                );
            } else if let Some(message) = read_error("Date", Kind::Date, self.row("event", i, "date")) {
                wrong(&mut work, &mut errors, &at("date"), message);
            }
        }
        for name in self.medications() {
            let field = format!("stopped_{name}");
            if let Some(message) = read_error("Stop date", Kind::Date, self.get(&field)) {
                wrong(&mut work, &mut errors, &field, message);
            }
        }

        // 2. The core's rules, one error at a time, each field set aside once reported.
        for _ in 0..64 {
            let (toml, rows) = work.client_file();
            let Err(e) = ClientProfile::from_toml(&toml, settings, today) else {
                break;
            };
            let field = rows.form_field(&e.field);
            let message = plain(&e.message);
            if field == "form" || !errors.get(&field).is_empty() {
                // Not one field's fault, or a field already set aside: say it once and stop.
                if errors.get("form").is_empty() {
                    errors.add("form", message);
                }
                break;
            }
            wrong(&mut work, &mut errors, &field, message);
        }
        Checked {
            client_toml: self.client_file().0,
            errors,
        }
    }

    /// Replaces a wrong field with a value the core accepts, so the next reading finds the
    /// next mistake rather than this one again.
    fn neutral(&mut self, field: &str, today: Date) {
        let value = match field {
            "age" => "40",
            "sex" => "male",
            "fitzpatrick" => "III",
            "skin_type" => "normal",
            "hair_colour" => "dark_brown",
            "grey_percent" => "100",
            "scale" => {
                self.set("stage", "V");
                "norwood"
            }
            "stage" => match self.get("scale") {
                "norwood" => "V",
                "ludwig" => "II",
                "savin" => "I-1",
                _ => "",
            },
            "affected_percent" => "50",
            "sun_exposure" => "moderate",
            "hairline_style" => "soft",
            "aims" => {
                self.set_all("aims", &["full_coverage"]);
                return;
            }
            "conditions" | "medications" => {
                self.set_all(field, &[]);
                return;
            }
            f if f.starts_with("scar") => match f.split_once('_').map(|(_, p)| p) {
                Some("site") => "donor",
                Some("length_mm") => "10",
                Some("width_mm") => "2",
                Some("count") => "100",
                Some("date") => "",
                _ => {
                    // An unusable row is left out.
                    let row = f.trim_end_matches("kind");
                    for p in SCAR_PARTS {
                        self.set(&format!("{row}{p}"), "");
                    }
                    return;
                }
            },
            f if f.starts_with("event") && f.ends_with("_date") => {
                self.set(f, &today.to_string());
                return;
            }
            f if f.starts_with("event") => {
                let row = f.trim_end_matches("kind");
                for p in EVENT_PARTS {
                    self.set(&format!("{row}{p}"), "");
                }
                return;
            }
            // Names, stop dates, head sizes, the price list and the start: left out.
            _ => "",
        };
        self.set(field, value);
    }
}

impl RowMap {
    /// The form field that shows an error about a client-file field path
    /// (`scars[1].length_mm` → `scar3_length_mm`), or `form` when no single field does.
    pub fn form_field(&self, path: &str) -> String {
        if let Some(rest) = path.strip_prefix("scars[") {
            let (k, part) = split_index(rest);
            let part = match part {
                "age_months" => "date",
                p if SCAR_PARTS.contains(&p) => p,
                _ => "kind",
            };
            return match k.and_then(|k| self.scars.get(k)) {
                Some(i) => ConsultForm::row_name("scar", *i, part),
                None => "form".into(),
            };
        }
        if let Some(rest) = path.strip_prefix("medical.events[") {
            let (k, part) = split_index(rest);
            let part = if part == "date" { "date" } else { "kind" };
            return match k.and_then(|k| self.events.get(k)) {
                Some(i) => ConsultForm::row_name("event", *i, part),
                None => "form".into(),
            };
        }
        if let Some(rest) = path.strip_prefix("medical.medications[") {
            let (k, part) = split_index(rest);
            return match (k.and_then(|k| self.medications.get(k)), part) {
                (Some(name), "stopped") => format!("stopped_{name}"),
                _ => "medications".into(),
            };
        }
        let head = path.split('[').next().unwrap_or(path);
        FIELDS
            .iter()
            .find(|(_, p, _, _)| !p.is_empty() && *p == head)
            .map_or_else(|| "form".into(), |(name, ..)| (*name).into())
    }
}

/// The first day after `today` that the clinic works (its `intervals.working_days`).
pub fn next_bookable_day(settings: &Settings, today: Date) -> Date {
    let working: Vec<_> = settings
        .intervals
        .working_days
        .iter()
        .filter_map(|d| parse_weekday(d).ok())
        .collect();
    (1..=7)
        .map(|n| today + Duration::days(n))
        .find(|d| working.contains(&d.weekday()))
        .unwrap_or(today + Duration::days(1))
}

/// `2]` → (Some(2), ""), `0].length_mm` → (Some(0), "length_mm").
fn split_index(rest: &str) -> (Option<usize>, &str) {
    match rest.split_once(']') {
        Some((k, part)) => (k.parse().ok(), part.trim_start_matches('.')),
        None => (None, ""),
    }
}

fn with_blank(mut rows: Vec<usize>) -> Vec<usize> {
    let next = rows.last().map_or(0, |i| i + 1);
    rows.push(next);
    rows
}

/// What is wrong with a typed value before it means anything, in words.
fn read_error(label: &str, kind: Kind, value: &str) -> Option<String> {
    if value.is_empty() {
        return None;
    }
    match kind {
        Kind::Text => None,
        Kind::Whole => value
            .parse::<i64>()
            .is_err()
            .then(|| format!("{label}: expected a whole number, got {value:?}.")),
        Kind::Decimal => match value.parse::<f64>() {
            Ok(x) if x.is_finite() => None,
            _ => Some(format!(
                "{label}: expected a number (such as 12 or 12.5), got {value:?}."
            )),
        },
        Kind::Date => parse_date(value).err().map(|m| format!("{label}: {m}.")),
    }
}

/// A core message in the clinic's words: client-file paths become the form's labels.
fn plain(message: &str) -> String {
    let mut m = message
        .replace("[[scars]] entry", "scar (step 4)")
        .replace("progressing = true", "\"still progressing\"");
    for (_, path, label, _) in FIELDS {
        if !path.is_empty() {
            m = m.replace(path, &label.to_lowercase());
        }
    }
    for (word, words) in [
        ("full_coverage", "full coverage"),
        ("scar_camouflage", "scar camouflage"),
        ("alopecia_areata", "alopecia areata"),
        ("scarring_alopecia", "scarring alopecia"),
    ] {
        m = m.replace(word, words);
    }
    let mut chars = m.chars();
    match chars.next() {
        Some(c) => {
            let end = if m.ends_with('.') { "" } else { "." };
            format!("{}{}{end}", c.to_uppercase(), chars.as_str())
        }
        None => m,
    }
}

/// A typed number as TOML: whole numbers as integers, others as floats (checked already).
fn number(v: &str) -> String {
    match (v.parse::<i64>(), v.parse::<f64>()) {
        (Ok(n), _) => n.to_string(),
        (_, Ok(x)) => toml::Value::Float(x).to_string(),
        _ => toml::Value::String(v.to_owned()).to_string(),
    }
}

/// A typed date as a TOML date (or quoted, when it is not one: the core then names it).
fn date(v: &str) -> String {
    match parse_date(v) {
        Ok(d) => d.to_string(),
        Err(_) => toml::Value::String(v.to_owned()).to_string(),
    }
}

/// A yes/no answer (`""` when not asked).
fn yes_no(v: &str) -> Option<String> {
    match v {
        "yes" => Some(flag(true)),
        "no" => Some(flag(false)),
        "" => None,
        other => Some(toml::Value::String(other.to_owned()).to_string()),
    }
}

fn flag(on: bool) -> String {
    on.to_string()
}

fn list(items: Vec<String>) -> Option<String> {
    (!items.is_empty()).then(|| format!("[{}]", items.join(", ")))
}

/// A client file written in the order of the examples (serde would sort the tables).
#[derive(Default)]
struct TomlOut(String);

impl TomlOut {
    fn write(&mut self, header: String, pairs: Vec<(&str, Option<String>)>, always: bool) {
        let pairs: Vec<(&str, String)> = pairs.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect();
        if pairs.is_empty() && !always {
            return;
        }
        if !self.0.is_empty() {
            self.0.push('\n');
        }
        self.0.push_str(&header);
        self.0.push('\n');
        for (k, v) in pairs {
            self.0.push_str(&format!("{k} = {v}\n"));
        }
    }

    fn table(&mut self, name: &str, pairs: Vec<(&str, Option<String>)>) {
        self.write(format!("[{name}]"), pairs, false);
    }

    fn array_table(&mut self, name: &str, pairs: Vec<(&str, Option<String>)>) {
        self.write(format!("[[{name}]]"), pairs, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 12 - 02);

    /// The answers every test starts from (a healthy Norwood V client), then `extra` over them.
    fn form(extra: &[(&str, &str)]) -> ConsultForm {
        let mut f = ConsultForm::from_pairs([
            ("name", "Tomasz Nowak"),
            ("age", "41"),
            ("sex", "male"),
            ("fitzpatrick", "III"),
            ("skin_type", "normal"),
            ("hair_colour", "dark_brown"),
            ("grey_percent", "10"),
            ("scale", "norwood"),
            ("stage", "V"),
            ("sun_exposure", "moderate"),
            ("aims", "full_coverage"),
            ("hairline_style", "soft"),
            ("start", "2026-12-03"),
        ]);
        for (k, v) in extra {
            if matches!(*k, "aims" | "conditions" | "medications") {
                f.values.push(((*k).into(), (*v).into()));
            } else {
                f.set(k, v);
            }
        }
        f
    }

    /// The form's client file is `expected`, and it reads without a mistake.
    fn check(form: &ConsultForm, expected: &str) {
        let (toml, _) = form.client_file();
        assert_eq!(toml, expected, "client file:\n{toml}");
        let checked = form.check(&Settings::default(), TODAY);
        assert!(checked.errors.is_empty(), "{:?}", checked.errors);
    }

    /// Checking the form finds exactly these mistakes: (field, words in the message).
    fn check_errors(form: &ConsultForm, expected: &[(&str, &str)]) {
        let checked = form.check(&Settings::default(), TODAY);
        let got: Vec<(&str, &str)> = checked
            .errors
            .0
            .iter()
            .map(|(f, m)| (f.as_str(), m.as_str()))
            .collect();
        assert_eq!(got.len(), expected.len(), "{got:#?}");
        for (field, words) in expected {
            let message = checked.errors.get(field);
            assert!(
                message.contains(words),
                "{field}: {message:?} should say {words:?}; all: {got:#?}"
            );
        }
    }

    #[test]
    fn the_plainest_form() {
        check(
            &form(&[]),
            r#"[client]
name = "Tomasz Nowak"
age = 41
sex = "male"

[skin]
fitzpatrick = "III"
type = "normal"

[hair]
colour = "dark_brown"
grey_percent = 10

[hair_loss]
scale = "norwood"
stage = "V"
progressing = false

[lifestyle]
sun_exposure = "moderate"
gym = false
swimming = false

[goal]
aims = ["full_coverage"]
hairline_style = "soft"
"#,
        );
    }

    #[test]
    fn everything_a_client_file_holds() {
        let f = form(&[
            ("progressing", "on"),
            ("head_circumference_cm", "57.5"),
            ("head_length_mm", "195"),
            ("head_breadth_mm", "152"),
            // Row 0 left blank (only its site, which always has a value); rows 1 and 3 filled.
            ("scar0_kind", ""),
            ("scar0_site", "donor"),
            ("scar1_kind", "fut_strip"),
            ("scar1_site", "occipital"),
            ("scar1_length_mm", "210"),
            ("scar1_width_mm", "4.5"),
            ("scar1_count", "12"), // not a FUE scar: the count is left out
            ("scar3_kind", "fue"),
            ("scar3_site", "donor"),
            ("scar3_count", "1800"),
            ("conditions", "heart_condition"),
            ("medications", "anticoagulant"),
            ("stopped_isotretinoin", "2026-09-15"), // a stop date ticks the medication
            ("event0_kind", "hair_transplant"),
            ("event0_date", "2023-09-12"),
            ("event1_kind", ""),
            ("event1_date", ""),
            ("gym", "on"),
            ("aims", "scar_camouflage"),
            ("location", "uk"),
        ]);
        check(
            &f,
            r#"[client]
name = "Tomasz Nowak"
age = 41
sex = "male"

[skin]
fitzpatrick = "III"
type = "normal"

[hair]
colour = "dark_brown"
grey_percent = 10

[hair_loss]
scale = "norwood"
stage = "V"
progressing = true

[[scars]]
kind = "fut_strip"
site = "occipital"
length_mm = 210
width_mm = 4.5

[[scars]]
kind = "fue"
site = "donor"
count = 1800

[medical]
conditions = ["heart_condition"]
medications = [{ name = "anticoagulant" }, { name = "isotretinoin", stopped = 2026-09-15 }]
events = [{ kind = "hair_transplant", date = 2023-09-12 }]

[lifestyle]
sun_exposure = "moderate"
gym = true
swimming = false

[goal]
aims = ["full_coverage", "scar_camouflage"]
hairline_style = "soft"

[head]
circumference_cm = 57.5
length_mm = 195
breadth_mm = 152

[pricing]
location = "uk"
"#,
        );
        assert_eq!(f.scar_rows(), vec![1, 3, 4], "filled rows, then one blank");
        assert_eq!(f.event_rows(), vec![0, 1]);
    }

    #[test]
    fn the_clinical_questions() {
        check(
            &form(&[
                ("keloid_history", "no"),
                ("hyperpigmentation_history", "yes"),
                ("stable_since", "2026-03-01"),
                ("scar0_kind", "injury"),
                ("scar0_site", "crown"),
                ("scar0_length_mm", "30"),
                ("scar0_width_mm", "3"),
                ("scar0_date", "2025-10-01"),
                ("aims", "scar_camouflage"),
            ]),
            r#"[client]
name = "Tomasz Nowak"
age = 41
sex = "male"

[skin]
fitzpatrick = "III"
type = "normal"
keloid_history = false
hyperpigmentation_history = true

[hair]
colour = "dark_brown"
grey_percent = 10

[hair_loss]
scale = "norwood"
stage = "V"
progressing = false
stable_since = 2026-03-01

[[scars]]
kind = "injury"
site = "crown"
length_mm = 30
width_mm = 3
date = 2025-10-01

[lifestyle]
sun_exposure = "moderate"
gym = false
swimming = false

[goal]
aims = ["full_coverage", "scar_camouflage"]
hairline_style = "soft"
"#,
        );
        check_errors(
            &form(&[
                ("progressing", "on"),
                ("stable_since", "2026-03-01"),
                ("scar0_kind", "fue"),
                ("scar0_site", "donor"),
                ("scar0_count", "40"),
                ("scar0_date", "2027-05-01"),
            ]),
            &[
                ("stable_since", "contradicts \"still progressing\""),
                ("scar0_date", "is after the assessment date"),
            ],
        );
    }

    #[test]
    fn the_forms_file_is_the_examples_file() {
        // The wizard can say everything these example files say.
        let settings = Settings::default();
        for (example, pairs) in [
            (
                "deferred-isotretinoin.toml",
                vec![
                    ("name", "Lucas Ferreira"),
                    ("age", "38"),
                    ("fitzpatrick", "IV"),
                    ("stopped_isotretinoin", "2026-09-15"),
                    ("event0_kind", "hair_transplant"),
                    ("event0_date", "2026-06-02"),
                ],
            ),
            (
                "blood-thinners.toml",
                vec![
                    ("name", "Robert Hale"),
                    ("age", "63"),
                    ("fitzpatrick", "I"),
                    ("skin_type", "dry"),
                    ("hair_colour", "brown"),
                    ("grey_percent", "70"),
                    ("stage", "IV"),
                    ("scar0_kind", "fue"),
                    ("scar0_site", "donor"),
                    ("scar0_count", "1800"),
                    // The file says `age_months = 96`: the form asks for the date.
                    ("scar0_date", "2018-12-02"),
                    ("conditions", "heart_condition"),
                    ("medications", "anticoagulant"),
                    ("aims", "scar_camouflage"),
                ],
            ),
        ] {
            let path = format!("{}/../../examples/clients/{example}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).expect(&path);
            let want = ClientProfile::from_toml(&text, &settings, TODAY).expect(example);
            let mut f = form(&pairs);
            if !pairs.iter().any(|(k, _)| *k == "grey_percent") {
                f.set("grey_percent", "0");
            }
            if want.hair_colour.as_str() != "dark_brown" && !pairs.iter().any(|(k, _)| *k == "hair_colour") {
                f.set("hair_colour", want.hair_colour.as_str());
            }
            let (toml, _) = f.client_file();
            let got = ClientProfile::from_toml(&toml, &settings, TODAY).expect(&toml);
            assert_eq!(got, want, "{example}:\n{toml}");
        }
    }

    #[test]
    fn every_mistake_at_once_beside_its_field() {
        let f = form(&[
            ("age", "150"),
            ("hair_colour", "grey"),
            ("grey_percent", "10"),
            ("scar2_kind", "injury"),
            ("scar2_site", "crown"),
            ("scar2_length_mm", "900"),
            ("scar2_width_mm", "abc"),
            ("aims", "density"),
            ("stopped_isotretinoin", "2026-02-30"),
            ("event0_kind", "chemotherapy"),
            ("event0_date", "2027-01-10"),
            ("head_breadth_mm", "wide"),
        ]);
        check_errors(
            &f,
            &[
                (
                    "scar2_width_mm",
                    "Width: expected a number (such as 12 or 12.5), got \"abc\"",
                ),
                ("head_breadth_mm", "expected a number"),
                ("stopped_isotretinoin", "February 2026 has 28 days"),
                ("age", "Expected 0–120 years, got 150"),
                ("grey_percent", "Hair colour is grey but only 10% is grey"),
                ("scar2_length_mm", "Expected 1–300 mm, got 900"),
                ("event0_date", "is after the assessment date 2026-12-02"),
                ("aims", "Full coverage (a shaved look) and density"),
            ],
        );
        // What was typed is kept.
        assert_eq!(f.get("scar2_width_mm"), "abc");
        assert_eq!(f.scar_rows(), vec![2, 3]);
    }

    #[test]
    fn half_filled_rows_and_missing_answers() {
        check_errors(
            &form(&[
                ("age", ""),
                ("scar0_kind", ""),
                ("scar0_length_mm", "30"),
                ("event0_kind", "scalp_surgery"),
                ("event1_date", "2025-01-01"),
                ("scale", "alopecia_areata"),
            ]),
            &[
                ("age", "Give the client's age"),
                ("scar0_kind", "Choose what made this scar"),
                ("event0_date", "Give the date"),
                ("event1_kind", "Choose what was done"),
                ("affected_percent", "Missing: the share of the scalp affected"),
            ],
        );
    }

    #[test]
    fn a_first_session_in_the_past_is_refused_with_the_next_bookable_day() {
        // 2026-12-02 is a Wednesday; the default clinic works Monday to Saturday.
        check_errors(
            &form(&[("start", "2026-11-30")]),
            &[(
                "start",
                "2026-11-30 is in the past; the next bookable day is 2026-12-03",
            )],
        );
        check_errors(
            &form(&[("start", "soon")]),
            &[("start", "expected a date as YYYY-MM-DD")],
        );
    }

    #[test]
    fn the_first_session_is_proposed_on_the_next_working_day() {
        let six_days = Settings::default();
        let weekdays = Settings::with_overrides(
            "[intervals]\nworking_days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]\n",
        )
        .expect("valid");
        for (settings, today, want) in [
            (&six_days, date!(2026 - 12 - 02), date!(2026 - 12 - 03)), // Wed → Thu
            (&six_days, date!(2026 - 12 - 04), date!(2026 - 12 - 05)), // Fri → Sat
            (&six_days, date!(2026 - 12 - 05), date!(2026 - 12 - 07)), // Sat → Mon
            (&weekdays, date!(2026 - 12 - 04), date!(2026 - 12 - 07)), // Fri → Mon
            (&weekdays, date!(2026 - 12 - 06), date!(2026 - 12 - 07)), // Sun → Mon
        ] {
            assert_eq!(next_bookable_day(settings, today), want, "from {today}");
        }
        let f = ConsultForm::new_for(
            "A. Client",
            Some(30),
            next_bookable_day(&weekdays, date!(2026 - 12 - 04)),
        );
        assert_eq!(f.get("start"), "2026-12-07");
    }

    #[test]
    fn error_paths_map_to_the_rows_they_came_from() {
        let rows = RowMap {
            scars: vec![1, 4],
            medications: vec!["minoxidil".into(), "isotretinoin".into()],
            events: vec![2],
        };
        for (path, field) in [
            ("client.age", "age"),
            ("goal.aims[1]", "aims"),
            ("medical.conditions[0]", "conditions"),
            ("scars[1].length_mm", "scar4_length_mm"),
            ("scars[0]", "scar1_kind"),
            ("scars[7].count", "form"),
            ("medical.medications[1].stopped", "stopped_isotretinoin"),
            ("medical.medications[0].name", "medications"),
            ("medical.events[0].date", "event2_date"),
            ("medical.events[0].kind", "event2_kind"),
            ("head.breadth_mm", "head_breadth_mm"),
            ("pricing.location", "location"),
            ("", "form"),
        ] {
            assert_eq!(rows.form_field(path), field, "{path}");
        }
    }
}
