//! Assessment: can this client be treated, how, and where.
//!
//! The verdict comes only from rules: the clinic's eligibility rules (data, in the
//! settings) and a few built-in approach rules listed in [`BUILT_IN_RULES`]. Every
//! reason names the rule that produced it, so a practitioner can see why — and a
//! clinic can change the rule rather than argue with the program.

use std::collections::BTreeMap;

use serde::Serialize;
use time::{Date, Duration};

use crate::profile::{Aim, ClientProfile, HairLoss, NorwoodStage, ScarKind};
use crate::settings::{Rule, RuleOutcome, Settings};
use crate::zone::ZoneKind;

/// The treatment approaches (DOMAIN §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Approach {
    /// A shaved buzz-cut look over advanced loss.
    FullCoverage,
    /// Dots among existing hair to add density.
    Density,
    /// Camouflage of scars.
    ScarCamouflage,
}

impl Approach {
    /// Every approach.
    pub const ALL: [Approach; 3] = [
        Approach::FullCoverage,
        Approach::Density,
        Approach::ScarCamouflage,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Approach::FullCoverage => "full_coverage",
            Approach::Density => "density",
            Approach::ScarCamouflage => "scar_camouflage",
        }
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            Approach::FullCoverage => "full coverage (shaved look)",
            Approach::Density => "density among existing hair",
            Approach::ScarCamouflage => "scar camouflage",
        }
    }

    fn from_aim(aim: Aim) -> Approach {
        match aim {
            Aim::FullCoverage => Approach::FullCoverage,
            Aim::Density => Approach::Density,
            Aim::ScarCamouflage => Approach::ScarCamouflage,
        }
    }
}

/// Rules built into the program (the approach logic), with what they say.
pub const BUILT_IN_RULES: [(&str, &str); 4] = [
    (
        "approach.client-aims",
        "The approach follows the client's aims unless another approach rule changes it",
    ),
    (
        "approach.density-needs-hair",
        "Density work needs hair to place dots among: beyond the settings' density_max_norwood, and in alopecia totalis/universalis, full coverage is recommended",
    ),
    (
        "approach.full-coverage-thinning",
        "Full coverage over thinning means shaving the hair that is left: said so the client decides knowingly",
    ),
    (
        "approach.scars-not-aimed",
        "Scars are present but scar camouflage is not among the aims: they stay untreated unless it is added",
    ),
];

/// Why the assessment says what it says: one rule that matched.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reason {
    /// The id of the rule (a settings rule or one of [`BUILT_IN_RULES`]).
    pub rule: String,
    /// What the rule does to the verdict.
    pub outcome: RuleOutcome,
    /// What it says.
    pub message: String,
    /// Where the rule comes from.
    pub source: String,
    /// For a deferral with a known end: the first day treatment may start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<Date>,
}

/// The overall answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Go ahead.
    Proceed,
    /// Go ahead once the conditions (doctor's clearance, patch test) are met.
    ProceedWithConditions,
    /// Not now: wait until `defer_until` (or the end of an ongoing cause).
    Defer,
    /// Not a candidate.
    NotSuitable,
}

impl Verdict {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Proceed => "proceed",
            Verdict::ProceedWithConditions => "proceed_with_conditions",
            Verdict::Defer => "defer",
            Verdict::NotSuitable => "not_suitable",
        }
    }
}

/// Something the practitioner must still ask: a rule matched (or may match) and the client file
/// does not hold the answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Question {
    /// The rule that asks.
    pub rule: String,
    /// The client-file field that holds the answer.
    pub field: String,
    /// What to ask.
    pub question: String,
}

/// The eligibility part of an assessment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Eligibility {
    /// The verdict.
    pub verdict: Verdict,
    /// With [`Verdict::Defer`]: the first day treatment may start, when every cause has a known end.
    pub defer_until: Option<Date>,
    /// With [`Verdict::ProceedWithConditions`]: what must happen first.
    pub conditions: Vec<RuleOutcome>,
    /// Every rule that matched, strongest first.
    pub reasons: Vec<Reason>,
    /// What the client file does not answer yet, in rule order.
    pub questions: Vec<Question>,
}

/// A zone to treat, as drawn on this client's head and measured there.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ZoneToTreat {
    /// The zone.
    pub zone: ZoneKind,
    /// What it is, for people ("FUT strip scar 180 × 4 mm, occipital").
    pub label: String,
    /// Area on the client's head, cm² (measured on the drawn zone).
    pub area_cm2: f64,
    /// Final density, dots per cm² (the zone's target; the hairline ramp and the blend into
    /// existing hair make the mean lower, see `dots`).
    pub density_per_cm2: f64,
    /// Dots at full density, as drawn: the density field integrated over the zone (hairline
    /// ramp, isolated dots and the blend into an existing fringe included).
    pub dots: f64,
}

impl ZoneToTreat {
    /// Dots at full density (the healed design, before any healing-loss refill).
    pub fn target_dots(&self) -> f64 {
        self.dots
    }
}

/// One zone as the pattern engine drew and measured it: the input the planner prices from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ZoneMeasure {
    /// The zone.
    pub zone: ZoneKind,
    /// Treated area on the surface, cm².
    pub area_cm2: f64,
    /// Final dots of the zone: the dots the design holds after its last session, counted on the
    /// drawn design (`follicle_pattern::treatment::measured_from`).
    pub dots: f64,
    /// The zone's final density as drawn, dots/cm² (before the hairline ramp and blends).
    pub density_per_cm2: f64,
}

/// Everything the pattern engine measured on the client's head.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Measured {
    /// The zones drawn for this client, one entry per kind.
    pub zones: Vec<ZoneMeasure>,
    /// The area of each hair-loss zone on this head when fully bald (the largest stage's zones),
    /// cm²: what a per-region price is a share of.
    pub full_area_cm2: BTreeMap<ZoneKind, f64>,
}

/// What the pattern engine is asked to draw for an assessed client.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Scope {
    /// Draw the zones of the client's hair loss (full coverage or density work).
    pub hair_loss: bool,
    /// Draw the client's scars (scar camouflage).
    pub scars: bool,
    /// Final density per zone, dots/cm² (the density factor among hair already applied).
    pub density_per_cm2: BTreeMap<ZoneKind, f64>,
}

/// The recommended approach and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApproachChoice {
    /// The main approach (full coverage over density over scar camouflage).
    pub primary: Approach,
    /// All approaches the plan combines.
    pub approaches: Vec<Approach>,
    /// The approach rules that decided it.
    pub reasons: Vec<Reason>,
}

/// What the practitioner sees after the consultation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assessment {
    /// The date the assessment was made (rules with time windows count from it).
    pub assessed_on: Date,
    /// The client, as validated.
    pub client: ClientProfile,
    /// Can the client be treated, and why.
    pub eligibility: Eligibility,
    /// How.
    pub approach: ApproachChoice,
    /// What to draw: the pattern engine draws it on the client's head and measures it.
    #[serde(skip)]
    pub scope: Scope,
    /// Where, as drawn and measured (empty until [`Assessment::measured`]).
    pub zones: Vec<ZoneToTreat>,
    /// Total treated area, cm².
    pub treated_area_cm2: f64,
    /// Each hair-loss zone's area on this head when fully bald, cm² (see [`Measured`]).
    #[serde(skip)]
    pub full_area_cm2: BTreeMap<ZoneKind, f64>,
}

impl Assessment {
    /// The assessment with the zones the pattern engine drew and measured on this head.
    ///
    /// Scars are labelled from the client file; every other zone by its name.
    pub fn measured(&self, measured: &Measured) -> Assessment {
        let mut out = self.clone();
        out.zones = measured
            .zones
            .iter()
            .filter(|m| m.area_cm2 > 0.0 && m.dots > 0.0)
            .map(|m| ZoneToTreat {
                zone: m.zone,
                label: if m.zone == ZoneKind::Scar {
                    scar_label(&self.client)
                } else {
                    m.zone.label().to_string()
                },
                area_cm2: round2(m.area_cm2),
                density_per_cm2: round2(m.density_per_cm2),
                dots: m.dots.round(),
            })
            .collect();
        out.treated_area_cm2 = round2(out.zones.iter().map(|z| z.area_cm2).sum());
        out.full_area_cm2 = measured.full_area_cm2.clone();
        out
    }
}

/// Assesses a client on `today` under the clinic's settings. Cannot fail: the profile is already valid.
pub fn assess(client: &ClientProfile, settings: &Settings, today: Date) -> Assessment {
    let eligibility = eligibility(client, settings, today);
    let approach = choose_approach(client, settings);
    let scope = scope(client, &approach, settings);
    Assessment {
        assessed_on: today,
        client: client.clone(),
        eligibility,
        approach,
        scope,
        zones: Vec::new(),
        treated_area_cm2: 0.0,
        full_area_cm2: BTreeMap::new(),
    }
}

fn eligibility(client: &ClientProfile, settings: &Settings, today: Date) -> Eligibility {
    let mut reasons: Vec<Reason> = Vec::new();
    let mut questions: Vec<Question> = Vec::new();
    for rule in &settings.eligibility.rules {
        let Some(found) = rule_matches(rule, client, today) else {
            continue;
        };
        let unanswered = rule
            .asks
            .iter()
            .filter_map(|id| crate::profile::answer(id))
            .filter(|a| !client.answers.contains_key(a.id))
            .map(|a| (a.field.to_string(), a.question.to_string()));
        for (field, question) in found.missing.into_iter().chain(unanswered) {
            if !questions.iter().any(|q| q.field == field) {
                questions.push(Question {
                    rule: rule.id.clone(),
                    field,
                    question,
                });
            }
        }
        reasons.push(Reason {
            rule: rule.id.clone(),
            outcome: rule.outcome,
            message: rule.message.clone(),
            source: rule.source.clone(),
            until: found.until,
        });
    }
    // Strongest first; the rules' own order within one outcome.
    reasons.sort_by_key(|r| std::cmp::Reverse(r.outcome));
    let strongest = reasons.iter().map(|r| r.outcome).max();
    let verdict = match strongest {
        Some(RuleOutcome::NotSuitable) => Verdict::NotSuitable,
        Some(RuleOutcome::Defer) => Verdict::Defer,
        Some(RuleOutcome::DoctorClearance | RuleOutcome::PatchTest) => Verdict::ProceedWithConditions,
        Some(RuleOutcome::Caution) | None => Verdict::Proceed,
    };
    let defers: Vec<&Reason> = reasons
        .iter()
        .filter(|r| r.outcome == RuleOutcome::Defer)
        .collect();
    let defer_until = if verdict == Verdict::Defer && defers.iter().all(|r| r.until.is_some()) {
        defers.iter().filter_map(|r| r.until).max()
    } else {
        None
    };
    let mut conditions: Vec<RuleOutcome> = reasons
        .iter()
        .map(|r| r.outcome)
        .filter(|o| matches!(o, RuleOutcome::DoctorClearance | RuleOutcome::PatchTest))
        .collect();
    conditions.sort();
    conditions.dedup();
    Eligibility {
        verdict,
        defer_until,
        conditions,
        reasons,
        questions,
    }
}

/// A rule that matched.
struct Match {
    /// For a time-limited match: when it ends; `None` when the end is not known.
    until: Option<Date>,
    /// Facts the rule needed that the client file does not give: (field, question).
    missing: Vec<(String, String)>,
}

/// `None` when the rule does not match; otherwise when the match ends (if known) and what is missing.
fn rule_matches(rule: &Rule, client: &ClientProfile, today: Date) -> Option<Match> {
    let until = rule_matches_known(rule, client, today)?;
    let w = &rule.when;
    let window = |from: Date, days: u32| from.checked_add(Duration::days(i64::from(days)));
    let mut m = Match {
        until,
        missing: Vec::new(),
    };
    // An end date only holds when every time-limited matcher has one (a medication taken now has none).
    let mut open_ended = until.is_none() && w.medication.is_some();
    let mut dated: Option<Date> = None;
    if let Some(days) = w.stable_less_than_days {
        match client.stable_since {
            _ if client.progressing => open_ended = true,
            Some(since) => {
                let end = window(since, days)?;
                if end <= today {
                    return None;
                }
                dated = dated.max(Some(end));
            }
            None => {
                open_ended = true;
                m.missing.push((
                    "hair_loss.stable_since".into(),
                    "Since when has the hair loss been stable (no new patches or shedding)?".into(),
                ));
            }
        }
    }
    if let Some(days) = w.scar_age_below_days {
        let camouflage = client.aims.contains(&Aim::ScarCamouflage);
        let mut any = false;
        for (i, scar) in client.scars.iter().enumerate().filter(|_| camouflage) {
            match scar.formed_on {
                Some(formed) => {
                    if let Some(end) = window(formed, days).filter(|end| *end > today) {
                        any = true;
                        dated = dated.max(Some(end));
                    }
                }
                None => {
                    any = true;
                    open_ended = true;
                    m.missing.push((
                        format!("scars[{i}].date"),
                        format!(
                            "When did scar {} ({}) form? Give scars[{i}].date or scars[{i}].age_months",
                            i + 1,
                            scar.kind.name().replace('_', " ")
                        ),
                    ));
                }
            }
        }
        if !any {
            return None;
        }
    }
    if w.stable_less_than_days.is_some() || w.scar_age_below_days.is_some() {
        m.until = if open_ended { None } else { m.until.max(dated) };
    }
    Some(m)
}

/// The matchers on facts a client file always holds: `None` when one fails, otherwise the end of
/// a time-limited match (`None` for open-ended ones).
fn rule_matches_known(rule: &Rule, client: &ClientProfile, today: Date) -> Option<Option<Date>> {
    let w = &rule.when;
    let mut until: Option<Date> = None;
    let window = |from: Date, days: u32| from.checked_add(Duration::days(i64::from(days)));
    if let Some(c) = &w.condition
        && !client.medical.conditions.contains(c)
    {
        return None;
    }
    if let Some(name) = &w.medication {
        let med = client.medical.medications.iter().find(|m| &m.name == name)?;
        match (med.stopped, w.within_days) {
            (None, _) => {} // taking it now: the end is not known yet
            (Some(stopped), Some(days)) => {
                let end = window(stopped, days)?;
                if end <= today {
                    return None;
                }
                until = until.max(Some(end));
            }
            (Some(_), None) => return None,
        }
    }
    if let (Some(kind), Some(days)) = (&w.event, w.within_days) {
        let end = client
            .medical
            .events
            .iter()
            .filter(|e| &e.kind == kind)
            .filter_map(|e| window(e.date, days))
            .filter(|end| *end > today)
            .max()?;
        until = until.max(Some(end));
    }
    if let Some(age) = w.age_below
        && client.age >= age
    {
        return None;
    }
    if let Some(scales) = &w.hair_loss
        && !scales.iter().any(|s| s == client.hair_loss.scale())
    {
        return None;
    }
    if let Some(p) = w.progressing
        && client.progressing != p
    {
        return None;
    }
    if let Some(types) = &w.fitzpatrick
        && !types
            .iter()
            .any(|t| t.eq_ignore_ascii_case(client.fitzpatrick.roman()))
    {
        return None;
    }
    if let Some(g) = w.grey_percent_at_least
        && client.grey_percent < g
    {
        return None;
    }
    if let Some(kinds) = &w.scar_kind
        && !client
            .scars
            .iter()
            .any(|s| kinds.iter().any(|k| k == s.kind.name()))
    {
        return None;
    }
    if let Some(id) = &w.answer
        && client.answers.get(id) != Some(&true)
    {
        return None;
    }
    // A time-limited medication rule matched by a current medication carries no end date.
    if w.medication.is_some()
        && client
            .medical
            .medications
            .iter()
            .any(|m| Some(&m.name) == w.medication.as_ref() && m.stopped.is_none())
    {
        return Some(None);
    }
    Some(until)
}

fn built_in(rule: &str, outcome: RuleOutcome, message: String) -> Reason {
    debug_assert!(BUILT_IN_RULES.iter().any(|(id, _)| *id == rule));
    Reason {
        rule: rule.to_string(),
        outcome,
        message,
        source: "Follicle approach rules (DOMAIN §3)".into(),
        until: None,
    }
}

fn choose_approach(client: &ClientProfile, settings: &Settings) -> ApproachChoice {
    let mut approaches: Vec<Approach> = client.aims.iter().map(|a| Approach::from_aim(*a)).collect();
    let mut reasons = vec![built_in(
        "approach.client-aims",
        RuleOutcome::Caution,
        format!(
            "Client's aims: {}",
            approaches
                .iter()
                .map(|a| a.label())
                .collect::<Vec<_>>()
                .join(" + ")
        ),
    )];
    let density_max = NorwoodStage::parse(&settings.approach.density_max_norwood).unwrap_or(NorwoodStage::V);
    let too_little_hair = match &client.hair_loss {
        HairLoss::Norwood { stage } => *stage > density_max,
        HairLoss::AlopeciaTotalis | HairLoss::AlopeciaUniversalis => true,
        _ => false,
    };
    if too_little_hair && let Some(d) = approaches.iter_mut().find(|a| **a == Approach::Density) {
        *d = Approach::FullCoverage;
        reasons.push(built_in(
            "approach.density-needs-hair",
            RuleOutcome::Caution,
            format!(
                "{}: too little hair left to add density among; full coverage (shaved look) is recommended instead",
                client.hair_loss.label()
            ),
        ));
    }
    let thinning = matches!(
        client.hair_loss,
        HairLoss::Ludwig { .. } | HairLoss::Savin { .. } | HairLoss::Diffuse
    );
    if thinning && approaches.contains(&Approach::FullCoverage) {
        reasons.push(built_in(
            "approach.full-coverage-thinning",
            RuleOutcome::Caution,
            format!(
                "{}: full coverage means keeping the remaining hair shaved; density work keeps it",
                client.hair_loss.label()
            ),
        ));
    }
    if !client.scars.is_empty() && !approaches.contains(&Approach::ScarCamouflage) {
        reasons.push(built_in(
            "approach.scars-not-aimed",
            RuleOutcome::Caution,
            format!(
                "{} scar(s) present but not among the aims: they will not be treated",
                client.scars.len()
            ),
        ));
    }
    approaches.sort();
    approaches.dedup();
    let primary = approaches[0];
    ApproachChoice {
        primary,
        approaches,
        reasons,
    }
}

/// What to draw: hair-loss zones for full coverage or density work, scars for camouflage, and
/// the final density of each zone.
///
/// In pattern loss and alopecia the drawn zones are bare skin: full density even when the aim is
/// density; without a fringe (totalis, universalis) the sides and back too. Thinning (female pattern, diffuse) keeps hair everywhere, so density work there adds
/// `approach.density_factor_among_hair` of the full density.
fn scope(client: &ClientProfile, approach: &ApproachChoice, settings: &Settings) -> Scope {
    let hair_work = approach
        .approaches
        .iter()
        .any(|a| matches!(a, Approach::FullCoverage | Approach::Density));
    let thinning = matches!(
        client.hair_loss,
        HairLoss::Ludwig { .. } | HairLoss::Savin { .. } | HairLoss::Diffuse
    );
    let factor = if approach.primary == Approach::Density && thinning {
        settings.approach.density_factor_among_hair
    } else {
        1.0
    };
    let mut density_per_cm2: BTreeMap<ZoneKind, f64> = settings
        .density
        .per_zone_dots_per_cm2
        .iter()
        .map(|(zone, d)| (zone, if zone == ZoneKind::Scar { *d } else { d * factor }))
        .collect();
    // The sides and back are treated lighter because they blend into the fringe; with no fringe
    // left (alopecia totalis/universalis) they get the full density of the top of the head.
    if matches!(
        client.hair_loss,
        HairLoss::AlopeciaTotalis | HairLoss::AlopeciaUniversalis
    ) && let Some(&top) = density_per_cm2.get(&ZoneKind::MidScalp)
    {
        density_per_cm2.insert(ZoneKind::SidesBack, top);
    }
    Scope {
        hair_loss: hair_work && client.hair_loss != HairLoss::None,
        scars: approach.approaches.contains(&Approach::ScarCamouflage) && !client.scars.is_empty(),
        density_per_cm2,
    }
}

/// The scars a plan treats, for people: "FUT strip scar 180 × 4 mm, occipital; 600 FUE punch scars, donor".
fn scar_label(client: &ClientProfile) -> String {
    let labels: Vec<String> = client
        .scars
        .iter()
        .map(|scar| {
            let what = match &scar.kind {
                ScarKind::FutStrip { length_mm, width_mm } => {
                    format!("FUT strip scar {length_mm} × {width_mm} mm")
                }
                ScarKind::Injury { length_mm, width_mm } => {
                    format!("injury scar {length_mm} × {width_mm} mm")
                }
                ScarKind::Surgical { length_mm, width_mm } => {
                    format!("surgical scar {length_mm} × {width_mm} mm")
                }
                ScarKind::Fue { count } => format!("{count} FUE punch scars"),
            };
            format!("{what}, {}", scar.site.as_str().replace('_', " "))
        })
        .collect();
    if labels.is_empty() {
        ZoneKind::Scar.label().to_string()
    } else {
        labels.join("; ")
    }
}

/// Rounds to two decimals (areas, hours): what people read, and what snapshots compare.
pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
