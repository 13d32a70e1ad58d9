//! The client profile: who the client is, their skin, hair, hair loss, scars, health,
//! lifestyle and goals — parsed from a TOML file into validated types.
//!
//! Parse, don't validate: [`ClientProfile::from_toml`] is the only way in, and what it
//! returns is in range and consistent. Every error names the field, the value and what
//! is allowed, at the line where it stands.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::error::{InputError, InputResult};
use crate::settings::Settings;
use crate::source::SpannedDoc;

// `$text` is a `tt`, not a `literal`: a `literal` fragment reaches derive macros wrapped in an
// invisible group, and utoipa's derive (the `openapi` feature) would not read it as a rename.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:tt),+ $(,)? }) => {
        $(#[$meta])*
        // Serialized as the name files use (`VII`, `III-vertex`, `dark_brown`), never a
        // case conversion of the Rust name (which would write `v_i_i`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name { $($(#[$vmeta])* #[doc = concat!("`", $text, "`")] #[serde(rename = $text)] $variant),+ }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name used in files and JSON.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the name; the error lists what is allowed.
            pub fn parse(text: &str) -> Result<$name, String> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!(
                        "expected one of {}, got {text:?}",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named_enum!(
    /// Sex, for default head sizes and hairline rules.
    Sex { Male = "male", Female = "female" }
);
named_enum!(
    /// Skin oiliness, which changes how dots heal and fade.
    SkinType { Dry = "dry", Normal = "normal", Oily = "oily" }
);
named_enum!(
    /// Time the scalp spends in the sun.
    SunExposure { Low = "low", Moderate = "moderate", High = "high" }
);
named_enum!(
    /// Natural hair colour.
    HairColour {
        Black = "black", DarkBrown = "dark_brown", Brown = "brown", LightBrown = "light_brown",
        Blonde = "blonde", Red = "red", Grey = "grey", White = "white",
    }
);
named_enum!(
    /// What the client wants from the treatment.
    Aim { FullCoverage = "full_coverage", Density = "density", ScarCamouflage = "scar_camouflage" }
);
named_enum!(
    /// The look of the front edge.
    HairlineStyle { Soft = "soft", Broken = "broken", Sharp = "sharp" }
);
named_enum!(
    /// Hamilton–Norwood stages, including the A variants and III-vertex, in order of severity.
    NorwoodStage {
        I = "I", II = "II", IIa = "IIa", III = "III", IIIa = "IIIa", IIIVertex = "III-vertex",
        IV = "IV", IVa = "IVa", V = "V", Va = "Va", VI = "VI", VII = "VII",
    }
);
named_enum!(
    /// Where on the head a scar lies.
    ScarSite {
        Frontal = "frontal", MidScalp = "mid_scalp", Crown = "crown", TempleLeft = "temple_left",
        TempleRight = "temple_right", SideLeft = "side_left", SideRight = "side_right",
        Occipital = "occipital", Donor = "donor",
    }
);

/// Fitzpatrick skin phototype I–VI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Fitzpatrick {
    /// Always burns, never tans.
    I,
    /// Usually burns, tans minimally.
    II,
    /// Sometimes burns, tans uniformly.
    III,
    /// Burns minimally, always tans.
    IV,
    /// Very rarely burns, tans very easily.
    V,
    /// Never burns; deeply pigmented.
    VI,
}

impl Fitzpatrick {
    /// Every type, lightest first.
    pub const ALL: [Fitzpatrick; 6] = [
        Fitzpatrick::I,
        Fitzpatrick::II,
        Fitzpatrick::III,
        Fitzpatrick::IV,
        Fitzpatrick::V,
        Fitzpatrick::VI,
    ];

    /// 1–6.
    pub fn number(self) -> u8 {
        self as u8 + 1
    }

    /// From 1–6.
    pub fn from_number(n: i64) -> Result<Fitzpatrick, String> {
        usize::try_from(n)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| Fitzpatrick::ALL.get(i).copied())
            .ok_or_else(|| format!("expected I–VI (or 1–6), got {n}"))
    }

    /// From "I".."VI" (or "1".."6").
    pub fn parse_str(s: &str) -> Result<Fitzpatrick, String> {
        let t = s.trim();
        if let Ok(n) = t.parse::<i64>() {
            return Fitzpatrick::from_number(n);
        }
        Fitzpatrick::ALL
            .into_iter()
            .find(|f| f.roman().eq_ignore_ascii_case(t))
            .ok_or_else(|| format!("expected I–VI (or 1–6), got {s:?}"))
    }

    /// "I".."VI".
    pub fn roman(self) -> &'static str {
        ["I", "II", "III", "IV", "V", "VI"][self as usize]
    }
}

impl std::fmt::Display for Fitzpatrick {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.roman())
    }
}

/// The scale names a client file may use in `hair_loss.scale`.
pub const HAIR_LOSS_SCALES: [&str; 9] = [
    "norwood",
    "ludwig",
    "savin",
    "diffuse",
    "alopecia_areata",
    "alopecia_totalis",
    "alopecia_universalis",
    "scarring_alopecia",
    "none",
];

/// Savin stages.
pub const SAVIN_STAGES: [&str; 9] = [
    "I-1", "I-2", "I-3", "I-4", "II-1", "II-2", "III", "advanced", "frontal",
];

/// The scar kinds a client file may use.
pub const SCAR_KINDS: [&str; 4] = ["fut_strip", "fue", "injury", "surgical"];

/// A yes/no question a rule can ask (`asks`) or match on (`when.answer`), with the client-file
/// field that holds the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerKind {
    /// The id rules use.
    pub id: &'static str,
    /// The client-file field (`true` or `false`).
    pub field: &'static str,
    /// The question, for the practitioner.
    pub question: &'static str,
}

/// The questions a client file can answer.
pub const ANSWERS: [AnswerKind; 2] = [
    AnswerKind {
        id: "keloid_history",
        field: "skin.keloid_history",
        question: "Have you ever had keloids or raised, thickened scars?",
    },
    AnswerKind {
        id: "hyperpigmentation_history",
        field: "skin.hyperpigmentation_history",
        question: "Have cuts, spots or burns left dark marks that lasted for months?",
    },
];

/// The question with this id.
pub fn answer(id: &str) -> Option<&'static AnswerKind> {
    ANSWERS.iter().find(|a| a.id == id)
}

/// The hair-loss classification.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "scale", rename_all = "snake_case")]
pub enum HairLoss {
    /// Male pattern, Hamilton–Norwood.
    Norwood {
        /// The stage.
        stage: NorwoodStage,
    },
    /// Female pattern, Ludwig I–III.
    Ludwig {
        /// 1–3.
        stage: u8,
    },
    /// Female pattern, Savin.
    Savin {
        /// One of [`SAVIN_STAGES`].
        stage: &'static str,
    },
    /// Diffuse thinning.
    Diffuse,
    /// Patchy alopecia areata.
    AlopeciaAreata {
        /// Share of the scalp affected (the SALT score), %.
        affected_percent: f64,
    },
    /// Total loss of scalp hair.
    AlopeciaTotalis,
    /// Total loss of all body hair.
    AlopeciaUniversalis,
    /// Cicatricial alopecia.
    ScarringAlopecia {
        /// Share of the scalp affected, %.
        affected_percent: f64,
    },
    /// No hair loss to treat (scar camouflage only).
    None,
}

impl HairLoss {
    /// The scale's name, as in [`HAIR_LOSS_SCALES`].
    pub fn scale(&self) -> &'static str {
        match self {
            HairLoss::Norwood { .. } => "norwood",
            HairLoss::Ludwig { .. } => "ludwig",
            HairLoss::Savin { .. } => "savin",
            HairLoss::Diffuse => "diffuse",
            HairLoss::AlopeciaAreata { .. } => "alopecia_areata",
            HairLoss::AlopeciaTotalis => "alopecia_totalis",
            HairLoss::AlopeciaUniversalis => "alopecia_universalis",
            HairLoss::ScarringAlopecia { .. } => "scarring_alopecia",
            HairLoss::None => "none",
        }
    }

    /// A label for people ("Norwood III-vertex").
    pub fn label(&self) -> String {
        match self {
            HairLoss::Norwood { stage } => format!("Norwood {stage}"),
            HairLoss::Ludwig { stage } => format!(
                "Ludwig {}",
                ["I", "II", "III"][usize::from(*stage).clamp(1, 3) - 1]
            ),
            HairLoss::Savin { stage } => format!("Savin {stage}"),
            HairLoss::Diffuse => "diffuse thinning".into(),
            HairLoss::AlopeciaAreata { affected_percent } => {
                format!("alopecia areata ({affected_percent}% of the scalp)")
            }
            HairLoss::AlopeciaTotalis => "alopecia totalis".into(),
            HairLoss::AlopeciaUniversalis => "alopecia universalis".into(),
            HairLoss::ScarringAlopecia { affected_percent } => {
                format!("scarring alopecia ({affected_percent}% of the scalp)")
            }
            HairLoss::None => "no hair loss".into(),
        }
    }

    /// Alopecia of any kind (these often need a fourth session, DOMAIN §1).
    pub fn is_alopecia(&self) -> bool {
        matches!(
            self,
            HairLoss::AlopeciaAreata { .. }
                | HairLoss::AlopeciaTotalis
                | HairLoss::AlopeciaUniversalis
                | HairLoss::ScarringAlopecia { .. }
        )
    }
}

/// A scar to camouflage.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Scar {
    /// What made it.
    pub kind: ScarKind,
    /// Where it is.
    pub site: ScarSite,
    /// When it formed (the surgery or injury; from `date` or `age_months`), if known.
    pub formed_on: Option<Date>,
}

/// The kind and size of a scar.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScarKind {
    /// A linear donor scar from a strip (FUT) transplant.
    FutStrip {
        /// Length along the scar.
        length_mm: f64,
        /// Width across it.
        width_mm: f64,
    },
    /// Punch scars from follicular unit extraction.
    Fue {
        /// Number of punches.
        count: u32,
    },
    /// An injury scar.
    Injury {
        /// Length.
        length_mm: f64,
        /// Width.
        width_mm: f64,
    },
    /// A surgical scar.
    Surgical {
        /// Length.
        length_mm: f64,
        /// Width.
        width_mm: f64,
    },
}

impl ScarKind {
    /// The kind's name, as in [`SCAR_KINDS`].
    pub fn name(&self) -> &'static str {
        match self {
            ScarKind::FutStrip { .. } => "fut_strip",
            ScarKind::Fue { .. } => "fue",
            ScarKind::Injury { .. } => "injury",
            ScarKind::Surgical { .. } => "surgical",
        }
    }
}

/// A medication group the client takes or took.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Medication {
    /// A name from the settings' `known_medications`.
    pub name: String,
    /// When the client stopped; `None` while still taking it.
    pub stopped: Option<Date>,
}

/// A dated event in the client's history (a transplant, chemotherapy …).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MedicalEvent {
    /// A name from the settings' `known_events`.
    pub kind: String,
    /// When it happened (the last day of it).
    pub date: Date,
}

/// Medical history.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Medical {
    /// Current conditions, from the settings' `known_conditions`.
    pub conditions: Vec<String>,
    /// Medications now or recently.
    pub medications: Vec<Medication>,
    /// Past procedures and treatments.
    pub events: Vec<MedicalEvent>,
}

/// Measured head size; missing values take the defaults for the client's sex.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Head {
    /// Circumference above the brows, cm.
    pub circumference_cm: f64,
    /// Glabella to the back of the head, mm.
    pub length_mm: f64,
    /// Widest breadth, mm, if measured.
    pub breadth_mm: Option<f64>,
    /// Whether the circumference was measured (not a default).
    pub measured: bool,
}

/// A validated client profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClientProfile {
    /// Name, if given (a file may be anonymous).
    pub name: Option<String>,
    /// Age in years.
    pub age: u32,
    /// Sex.
    pub sex: Sex,
    /// Fitzpatrick phototype.
    pub fitzpatrick: Fitzpatrick,
    /// Skin oiliness.
    pub skin_type: SkinType,
    /// Natural hair colour.
    pub hair_colour: HairColour,
    /// Share of grey hairs, %.
    pub grey_percent: u32,
    /// Hair-loss classification.
    pub hair_loss: HairLoss,
    /// Whether the loss is still actively progressing.
    pub progressing: bool,
    /// Since when the loss has been stable (no new patches or shedding), if known.
    pub stable_since: Option<Date>,
    /// Answers to the questions in [`ANSWERS`] (id → yes/no); a question not asked is absent.
    pub answers: std::collections::BTreeMap<String, bool>,
    /// Scars to camouflage.
    pub scars: Vec<Scar>,
    /// Medical history.
    pub medical: Medical,
    /// Sun exposure.
    pub sun_exposure: SunExposure,
    /// Swims regularly.
    pub swimming: bool,
    /// Trains at a gym (sweats) regularly.
    pub gym: bool,
    /// What the client wants, at least one.
    pub aims: Vec<Aim>,
    /// The hairline style.
    pub hairline_style: HairlineStyle,
    /// Head size.
    pub head: Head,
    /// Pricing location profile id.
    pub location: String,
}

// ---- The file's shape (serde) ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    client: RawClient,
    skin: RawSkin,
    hair: RawHair,
    hair_loss: RawHairLoss,
    #[serde(default)]
    scars: Vec<RawScar>,
    #[serde(default)]
    medical: RawMedical,
    #[serde(default)]
    lifestyle: RawLifestyle,
    goal: RawGoal,
    #[serde(default)]
    head: RawHead,
    #[serde(default)]
    pricing: RawPricing,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClient {
    name: Option<String>,
    age: i64,
    sex: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSkin {
    fitzpatrick: toml::Value,
    #[serde(rename = "type")]
    skin_type: Option<String>,
    keloid_history: Option<toml::Value>,
    hyperpigmentation_history: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHair {
    colour: String,
    #[serde(default)]
    grey_percent: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHairLoss {
    scale: String,
    stage: Option<toml::Value>,
    affected_percent: Option<f64>,
    #[serde(default)]
    progressing: bool,
    stable_since: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScar {
    kind: String,
    site: String,
    length_mm: Option<f64>,
    width_mm: Option<f64>,
    count: Option<i64>,
    date: Option<toml::Value>,
    age_months: Option<toml::Value>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMedical {
    #[serde(default)]
    conditions: Vec<String>,
    #[serde(default)]
    medications: Vec<RawMedication>,
    #[serde(default)]
    events: Vec<RawEvent>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMedication {
    name: String,
    stopped: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    kind: String,
    date: toml::Value,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLifestyle {
    sun_exposure: Option<String>,
    #[serde(default)]
    swimming: bool,
    #[serde(default)]
    gym: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGoal {
    aims: Vec<String>,
    hairline_style: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawHead {
    circumference_cm: Option<f64>,
    length_mm: Option<f64>,
    breadth_mm: Option<f64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPricing {
    location: Option<String>,
}

impl ClientProfile {
    /// Parses and validates a client file.
    ///
    /// `today` is the assessment date: dates in the client's history may not lie after it.
    /// Errors carry the line and the field; the caller adds the file name.
    pub fn from_toml(src: &str, settings: &Settings, today: Date) -> InputResult<ClientProfile> {
        let doc = SpannedDoc::new(src);
        let raw: RawProfile = toml::from_str(src).map_err(|e| InputError::from_toml(&e, &doc))?;
        convert(raw, settings, today).map_err(|e| e.placed(&doc))
    }
}

fn err<T>(field: impl Into<String>, message: impl Into<String>) -> InputResult<T> {
    Err(InputError::field(field, message))
}

fn parse_named<T>(field: &str, text: &str, parse: fn(&str) -> Result<T, String>) -> InputResult<T> {
    parse(text).map_err(|m| InputError::field(field, m))
}

fn number(field: &str, value: f64, min: f64, max: f64, unit: &str) -> InputResult<f64> {
    if value.is_finite() && value >= min && value <= max {
        Ok(value)
    } else {
        err(field, format!("expected {min}–{max} {unit}, got {value}"))
    }
}

/// A date from a TOML date (`2026-05-01`) or a string holding one.
fn date(field: &str, value: &toml::Value) -> InputResult<Date> {
    let text = match value {
        toml::Value::Datetime(dt) => {
            if dt.time.is_some() || dt.offset.is_some() {
                return err(
                    field,
                    format!("expected a date such as 2026-05-01, got the date-time {dt}"),
                );
            }
            dt.to_string()
        }
        toml::Value::String(s) => s.clone(),
        other => return err(field, format!("expected a date such as 2026-05-01, got {other}")),
    };
    parse_date(&text).map_err(|m| InputError::field(field, m))
}

/// Parses `YYYY-MM-DD`, naming what is wrong with an impossible date.
pub fn parse_date(text: &str) -> Result<Date, String> {
    let parts: Vec<&str> = text.trim().split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(format!("expected a date as YYYY-MM-DD, got {text:?}"));
    };
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i32>(), m.parse::<u8>(), d.parse::<u8>()) else {
        return Err(format!("expected a date as YYYY-MM-DD, got {text:?}"));
    };
    if !(1900..=2200).contains(&y) {
        return Err(format!("year {y} is out of range 1900–2200 in {text:?}"));
    }
    let month =
        time::Month::try_from(m).map_err(|_| format!("month {m} does not exist (1–12) in {text:?}"))?;
    Date::from_calendar_date(y, month, d).map_err(|_| {
        format!(
            "{text:?} is not a real date: {month} {y} has {} days",
            time::util::days_in_month(month, y)
        )
    })
}

fn convert(raw: RawProfile, settings: &Settings, today: Date) -> InputResult<ClientProfile> {
    let age = raw.client.age;
    if !(0..=120).contains(&age) {
        return err("client.age", format!("expected 0–120 years, got {age}"));
    }
    let sex = parse_named("client.sex", &raw.client.sex, Sex::parse)?;
    let name = raw
        .client
        .name
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    if name.as_ref().is_some_and(|n| n.chars().count() > 200) {
        return err("client.name", "expected at most 200 characters");
    }

    let fitzpatrick = match &raw.skin.fitzpatrick {
        toml::Value::Integer(n) => Fitzpatrick::from_number(*n),
        toml::Value::String(s) => Fitzpatrick::parse_str(s),
        other => Err(format!("expected I–VI (or 1–6), got {other}")),
    }
    .map_err(|m| InputError::field("skin.fitzpatrick", m))?;
    let skin_type = match &raw.skin.skin_type {
        Some(t) => parse_named("skin.type", t, SkinType::parse)?,
        None => SkinType::Normal,
    };

    let hair_colour = parse_named("hair.colour", &raw.hair.colour, HairColour::parse)?;
    let grey = raw.hair.grey_percent;
    if !(0..=100).contains(&grey) {
        return err("hair.grey_percent", format!("expected 0–100 %, got {grey}"));
    }
    let grey_percent = grey as u32;
    if matches!(hair_colour, HairColour::Grey | HairColour::White) && grey_percent < 50 {
        return err(
            "hair.grey_percent",
            format!(
                "hair.colour is {hair_colour} but only {grey_percent}% is grey: give the natural colour, or a grey share of 50–100"
            ),
        );
    }

    let mut answers = std::collections::BTreeMap::new();
    for (kind, value) in [
        (&ANSWERS[0], &raw.skin.keloid_history),
        (&ANSWERS[1], &raw.skin.hyperpigmentation_history),
    ] {
        match value {
            Some(toml::Value::Boolean(b)) => {
                answers.insert(kind.id.to_string(), *b);
            }
            Some(other) => {
                return err(
                    kind.field,
                    format!(
                        "expected true or false (the answer to \"{}\"), got {other}",
                        kind.question
                    ),
                );
            }
            None => {}
        }
    }

    let hair_loss = hair_loss(&raw.hair_loss)?;
    let progressing = raw.hair_loss.progressing;
    let stable_since = match &raw.hair_loss.stable_since {
        Some(v) => {
            let d = date("hair_loss.stable_since", v)?;
            if d > today {
                return err(
                    "hair_loss.stable_since",
                    format!("{d} is after the assessment date {today}"),
                );
            }
            if progressing {
                return err(
                    "hair_loss.stable_since",
                    format!(
                        "{d} contradicts progressing = true: give the date the loss has been stable since, or progressing = true, not both"
                    ),
                );
            }
            Some(d)
        }
        None => None,
    };

    let mut scars = Vec::new();
    for (i, s) in raw.scars.iter().enumerate() {
        scars.push(scar(i, s, today)?);
    }

    let el = &settings.eligibility;
    let mut medical = Medical::default();
    for (i, c) in raw.medical.conditions.iter().enumerate() {
        let field = format!("medical.conditions[{i}]");
        if !el.known_conditions.contains(c) {
            return err(
                field,
                format!(
                    "unknown condition {c:?}; known: {}",
                    el.known_conditions.join(", ")
                ),
            );
        }
        if medical.conditions.contains(c) {
            return err(field, format!("{c:?} is listed twice"));
        }
        medical.conditions.push(c.clone());
    }
    if medical.conditions.iter().any(|c| c == "diabetes_controlled")
        && medical.conditions.iter().any(|c| c == "diabetes_uncontrolled")
    {
        return err(
            "medical.conditions",
            "diabetes cannot be both controlled and uncontrolled",
        );
    }
    for (i, m) in raw.medical.medications.iter().enumerate() {
        let field = format!("medical.medications[{i}]");
        if !el.known_medications.contains(&m.name) {
            return err(
                format!("{field}.name"),
                format!(
                    "unknown medication group {:?}; known: {}",
                    m.name,
                    el.known_medications.join(", ")
                ),
            );
        }
        let stopped = match &m.stopped {
            Some(v) => {
                let d = date(&format!("{field}.stopped"), v)?;
                if d > today {
                    return err(
                        format!("{field}.stopped"),
                        format!("{d} is after the assessment date {today}"),
                    );
                }
                Some(d)
            }
            None => None,
        };
        medical.medications.push(Medication {
            name: m.name.clone(),
            stopped,
        });
    }
    for (i, e) in raw.medical.events.iter().enumerate() {
        let field = format!("medical.events[{i}]");
        if !el.known_events.contains(&e.kind) {
            return err(
                format!("{field}.kind"),
                format!(
                    "unknown event {:?}; known: {}",
                    e.kind,
                    el.known_events.join(", ")
                ),
            );
        }
        let d = date(&format!("{field}.date"), &e.date)?;
        if d > today {
            return err(
                format!("{field}.date"),
                format!("{d} is after the assessment date {today}"),
            );
        }
        medical.events.push(MedicalEvent {
            kind: e.kind.clone(),
            date: d,
        });
    }

    let sun_exposure = match &raw.lifestyle.sun_exposure {
        Some(s) => parse_named("lifestyle.sun_exposure", s, SunExposure::parse)?,
        None => SunExposure::Moderate,
    };

    if raw.goal.aims.is_empty() {
        return err("goal.aims", format!("give at least one of {}", aim_names()));
    }
    let mut aims = Vec::new();
    for (i, a) in raw.goal.aims.iter().enumerate() {
        let aim = parse_named(&format!("goal.aims[{i}]"), a, Aim::parse)?;
        if aims.contains(&aim) {
            return err(format!("goal.aims[{i}]"), format!("{a:?} is listed twice"));
        }
        aims.push(aim);
    }
    if aims.contains(&Aim::FullCoverage) && aims.contains(&Aim::Density) {
        return err(
            "goal.aims",
            "full_coverage (a shaved look) and density (dots among kept hair) exclude each other: choose one",
        );
    }
    if aims.contains(&Aim::ScarCamouflage) && scars.is_empty() {
        return err("goal.aims", "scar_camouflage needs at least one [[scars]] entry");
    }
    if aims == [Aim::ScarCamouflage] && hair_loss == HairLoss::None && scars.is_empty() {
        return err("goal.aims", "nothing to treat");
    }
    if hair_loss == HairLoss::None && !aims.contains(&Aim::ScarCamouflage) {
        return err(
            "hair_loss.scale",
            "\"none\" leaves nothing to treat unless goal.aims includes scar_camouflage",
        );
    }
    let hairline_style = match &raw.goal.hairline_style {
        Some(s) => parse_named("goal.hairline_style", s, HairlineStyle::parse)?,
        None => HairlineStyle::Soft,
    };

    let head = head(&raw.head, sex, settings)?;

    let location = raw
        .pricing
        .location
        .unwrap_or_else(|| settings.pricing.default_location.clone());
    if settings.location(&location).is_none() {
        return err(
            "pricing.location",
            format!(
                "unknown location {location:?}; known: {}",
                crate::settings::location_ids(settings)
            ),
        );
    }

    Ok(ClientProfile {
        name,
        age: age as u32,
        sex,
        fitzpatrick,
        skin_type,
        hair_colour,
        grey_percent,
        hair_loss,
        progressing,
        stable_since,
        answers,
        scars,
        medical,
        sun_exposure,
        swimming: raw.lifestyle.swimming,
        gym: raw.lifestyle.gym,
        aims,
        hairline_style,
        head,
        location,
    })
}

fn aim_names() -> String {
    Aim::ALL.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ")
}

fn stage_text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn hair_loss(raw: &RawHairLoss) -> InputResult<HairLoss> {
    let stage = raw.stage.as_ref().map(stage_text);
    let need_stage = |allowed: &str| -> InputResult<String> {
        stage.clone().ok_or_else(|| {
            InputError::field("hair_loss.stage", format!("missing: expected one of {allowed}"))
        })
    };
    let no_extra = |hl: HairLoss| -> InputResult<HairLoss> {
        if raw.stage.is_some() {
            return err(
                "hair_loss.stage",
                format!("{} has no stages; remove stage", raw.scale),
            );
        }
        if raw.affected_percent.is_some()
            && !matches!(
                hl,
                HairLoss::AlopeciaAreata { .. } | HairLoss::ScarringAlopecia { .. }
            )
        {
            return err(
                "hair_loss.affected_percent",
                format!(
                    "only alopecia_areata and scarring_alopecia take affected_percent, not {}",
                    raw.scale
                ),
            );
        }
        Ok(hl)
    };
    let affected = || -> InputResult<f64> {
        match raw.affected_percent {
            Some(p) => number("hair_loss.affected_percent", p, 1.0, 100.0, "% of the scalp"),
            None => err(
                "hair_loss.affected_percent",
                "missing: the share of the scalp affected (SALT score), 1–100 %",
            ),
        }
    };
    match raw.scale.as_str() {
        "norwood" => {
            let allowed = NorwoodStage::ALL
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let s = need_stage(&allowed)?;
            // Accept "3", "3A" and roman numerals in any case; "III vertex" with a space or dash.
            let normalised = normalise_norwood(&s);
            let stage = NorwoodStage::parse(&normalised).map_err(|_| {
                InputError::field(
                    "hair_loss.stage",
                    format!("unknown Norwood stage {s:?}: expected one of {allowed}"),
                )
            })?;
            if raw.affected_percent.is_some() {
                return err(
                    "hair_loss.affected_percent",
                    "only alopecia_areata and scarring_alopecia take affected_percent",
                );
            }
            Ok(HairLoss::Norwood { stage })
        }
        "ludwig" => {
            let s = need_stage("I, II, III")?;
            let n = match s.trim().to_ascii_uppercase().as_str() {
                "I" | "1" => 1,
                "II" | "2" => 2,
                "III" | "3" => 3,
                _ => {
                    return err(
                        "hair_loss.stage",
                        format!("unknown Ludwig stage {s:?}: expected I, II or III"),
                    );
                }
            };
            if raw.affected_percent.is_some() {
                return err(
                    "hair_loss.affected_percent",
                    "only alopecia_areata and scarring_alopecia take affected_percent",
                );
            }
            Ok(HairLoss::Ludwig { stage: n })
        }
        "savin" => {
            let allowed = SAVIN_STAGES.join(", ");
            let s = need_stage(&allowed)?;
            let stage = SAVIN_STAGES
                .iter()
                .find(|x| x.eq_ignore_ascii_case(s.trim()))
                .ok_or_else(|| {
                    InputError::field(
                        "hair_loss.stage",
                        format!("unknown Savin stage {s:?}: expected one of {allowed}"),
                    )
                })?;
            if raw.affected_percent.is_some() {
                return err(
                    "hair_loss.affected_percent",
                    "only alopecia_areata and scarring_alopecia take affected_percent",
                );
            }
            Ok(HairLoss::Savin { stage })
        }
        "diffuse" => no_extra(HairLoss::Diffuse),
        "alopecia_areata" => {
            let p = affected()?;
            no_extra(HairLoss::AlopeciaAreata { affected_percent: p })
        }
        "alopecia_totalis" => no_extra(HairLoss::AlopeciaTotalis),
        "alopecia_universalis" => no_extra(HairLoss::AlopeciaUniversalis),
        "scarring_alopecia" => {
            let p = affected()?;
            no_extra(HairLoss::ScarringAlopecia { affected_percent: p })
        }
        "none" => no_extra(HairLoss::None),
        other => err(
            "hair_loss.scale",
            format!(
                "unknown scale {other:?}: expected one of {}",
                HAIR_LOSS_SCALES.join(", ")
            ),
        ),
    }
}

fn normalise_norwood(s: &str) -> String {
    let t = s.trim().to_ascii_lowercase().replace([' ', '_'], "-");
    let (base, suffix) = if let Some(b) = t.strip_suffix("-vertex").or_else(|| t.strip_suffix("vertex")) {
        (b.trim_end_matches('-'), "-vertex")
    } else if let Some(b) = t
        .strip_suffix('v')
        .filter(|b| b.chars().all(|c| c.is_ascii_digit()) && !b.is_empty())
    {
        (b, "-vertex")
    } else if let Some(b) = t.strip_suffix('a') {
        (b, "a")
    } else {
        (t.as_str(), "")
    };
    let roman = match base {
        "1" | "i" => "I",
        "2" | "ii" => "II",
        "3" | "iii" => "III",
        "4" | "iv" => "IV",
        "5" | "v" => "V",
        "6" | "vi" => "VI",
        "7" | "vii" => "VII",
        _ => return s.trim().to_string(),
    };
    format!("{roman}{suffix}")
}

/// `today` minus whole months, the day clamped to the month's length.
fn months_before(today: Date, months: u32) -> Option<Date> {
    let total = today.year() * 12 + i32::from(u8::from(today.month())) - 1 - i32::try_from(months).ok()?;
    let (year, month) = (
        total.div_euclid(12),
        time::Month::try_from((total.rem_euclid(12) + 1) as u8).ok()?,
    );
    let day = today.day().min(time::util::days_in_month(month, year));
    Date::from_calendar_date(year, month, day).ok()
}

/// When a scar formed: its `date`, or `age_months` counted back from `today`.
fn scar_formed(i: usize, s: &RawScar, today: Date) -> InputResult<Option<Date>> {
    let at = |k: &str| format!("scars[{i}].{k}");
    match (&s.date, &s.age_months) {
        (Some(_), Some(_)) => err(
            at("age_months"),
            "give the scar's date or its age_months, not both",
        ),
        (Some(v), None) => {
            let d = date(&at("date"), v)?;
            if d > today {
                return err(at("date"), format!("{d} is after the assessment date {today}"));
            }
            Ok(Some(d))
        }
        (None, Some(v)) => {
            let months = match v {
                toml::Value::Integer(n) if (0..=1200).contains(n) => *n as u32,
                other => {
                    return err(
                        at("age_months"),
                        format!("expected a whole number of months 0–1200, got {other}"),
                    );
                }
            };
            months_before(today, months).map(Some).ok_or_else(|| {
                InputError::field(
                    at("age_months"),
                    format!("{months} months before {today} is out of range"),
                )
            })
        }
        (None, None) => Ok(None),
    }
}

fn scar(i: usize, s: &RawScar, today: Date) -> InputResult<Scar> {
    let at = |k: &str| format!("scars[{i}].{k}");
    let site = parse_named(&at("site"), &s.site, ScarSite::parse)?;
    let formed_on = scar_formed(i, s, today)?;
    let dims = |max_len: f64, max_width: f64| -> InputResult<(f64, f64)> {
        if s.count.is_some() {
            return err(
                at("count"),
                format!(
                    "count is for fue scars; a {} scar takes length_mm and width_mm",
                    s.kind
                ),
            );
        }
        let l = s
            .length_mm
            .ok_or_else(|| InputError::field(at("length_mm"), format!("missing: expected 1–{max_len} mm")))?;
        let w = s.width_mm.ok_or_else(|| {
            InputError::field(at("width_mm"), format!("missing: expected 0.5–{max_width} mm"))
        })?;
        Ok((
            number(&at("length_mm"), l, 1.0, max_len, "mm")?,
            number(&at("width_mm"), w, 0.5, max_width, "mm")?,
        ))
    };
    let kind = match s.kind.as_str() {
        "fut_strip" => {
            let (length_mm, width_mm) = dims(400.0, 30.0)?;
            ScarKind::FutStrip { length_mm, width_mm }
        }
        "injury" => {
            let (length_mm, width_mm) = dims(300.0, 150.0)?;
            ScarKind::Injury { length_mm, width_mm }
        }
        "surgical" => {
            let (length_mm, width_mm) = dims(400.0, 150.0)?;
            ScarKind::Surgical { length_mm, width_mm }
        }
        "fue" => {
            if s.length_mm.is_some() || s.width_mm.is_some() {
                return err(
                    at("length_mm"),
                    "fue scars take count (the number of punches), not length_mm/width_mm",
                );
            }
            let count = s.count.ok_or_else(|| {
                InputError::field(at("count"), "missing: the number of punch scars, 1–10000")
            })?;
            if !(1..=10_000).contains(&count) {
                return err(at("count"), format!("expected 1–10000 punches, got {count}"));
            }
            ScarKind::Fue { count: count as u32 }
        }
        other => {
            return err(
                at("kind"),
                format!(
                    "unknown scar kind {other:?}: expected one of {}",
                    SCAR_KINDS.join(", ")
                ),
            );
        }
    };
    Ok(Scar {
        kind,
        site,
        formed_on,
    })
}

fn head(raw: &RawHead, sex: Sex, settings: &Settings) -> InputResult<Head> {
    let key = sex.as_str();
    let default_c = settings.head.circumference_cm[key];
    let default_l = settings.head.length_mm[key];
    let circumference_cm = match raw.circumference_cm {
        Some(c) => number("head.circumference_cm", c, 40.0, 70.0, "cm")?,
        None => default_c,
    };
    let length_mm = match raw.length_mm {
        Some(l) => number("head.length_mm", l, 140.0, 240.0, "mm")?,
        None => default_l * circumference_cm / default_c,
    };
    let breadth_mm = match raw.breadth_mm {
        Some(b) => Some(number("head.breadth_mm", b, 110.0, 200.0, "mm")?),
        None => None,
    };
    if let Some(b) = breadth_mm
        && b > length_mm
    {
        return err(
            "head.breadth_mm",
            format!("{b} mm is more than the head length ({length_mm} mm)"),
        );
    }
    Ok(Head {
        circumference_cm,
        length_mm,
        breadth_mm,
        measured: raw.circumference_cm.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norwood_stage_spellings() {
        for (given, want) in [
            ("III", "III"),
            ("3", "III"),
            ("3a", "IIIa"),
            ("III vertex", "III-vertex"),
            ("3V", "III-vertex"),
            ("vii", "VII"),
        ] {
            assert_eq!(normalise_norwood(given), want, "{given}");
        }
    }

    #[test]
    fn impossible_dates_are_named() {
        assert!(
            parse_date("2026-02-30")
                .unwrap_err()
                .contains("February 2026 has 28 days")
        );
        assert!(parse_date("2026-13-01").unwrap_err().contains("month 13"));
        assert!(parse_date("yesterday").unwrap_err().contains("YYYY-MM-DD"));
        assert_eq!(parse_date("2024-02-29").unwrap().to_string(), "2024-02-29");
    }

    #[test]
    fn months_count_back_by_the_calendar() {
        use time::macros::date;
        assert_eq!(
            months_before(date!(2026 - 11 - 21), 0),
            Some(date!(2026 - 11 - 21))
        );
        assert_eq!(
            months_before(date!(2026 - 11 - 21), 11),
            Some(date!(2025 - 12 - 21))
        );
        assert_eq!(
            months_before(date!(2026 - 03 - 31), 1),
            Some(date!(2026 - 02 - 28))
        );
        assert_eq!(
            months_before(date!(2026 - 01 - 15), 25),
            Some(date!(2023 - 12 - 15))
        );
    }

    #[test]
    fn fitzpatrick_forms() {
        assert_eq!(Fitzpatrick::parse_str("iv"), Ok(Fitzpatrick::IV));
        assert_eq!(Fitzpatrick::parse_str("6"), Ok(Fitzpatrick::VI));
        assert!(Fitzpatrick::from_number(7).unwrap_err().contains("got 7"));
        assert!(Fitzpatrick::from_number(-1).is_err());
    }
}
