//! The treatment plan: sessions with their purpose, dots, length, needle, pigment and
//! date; the aftercare timeline; the fading forecast; and the quote.
//!
//! How a plan is built:
//! 1. The session count comes from the approach (settings `sessions.base_count`), plus one
//!    for alopecia and one for scars combined with coverage (about 20 % of clients need a
//!    fourth session, DOMAIN §1).
//! 2. Each session brings every zone to a cumulative share of its final density
//!    (default 30/70/100 %, Liu et al. 2025) and re-places the impressions the previous
//!    session lost in healing.
//! 3. A session longer than `sessions.max_hours` is split into parts that each fit; the
//!    parts are sessions of their own, front to back, and keep the healing interval.
//! 4. Dates start from the first working day on or after the start date, at least the
//!    healing interval apart, and never more than the yearly cap of sessions in 12 months.
//!    A rule with outcome `patch_test` books a patch-test visit first, session 1 coming
//!    `patch_test.days_before_first_session` days later. A deferral without a known end
//!    gives no dates (and the quote no deposit): the plan says why.
//! 5. A session's booked slot is its work plus setup, rounded up to `sessions.slot_step_hours`
//!    (at least `sessions.min_hours`), so a small scar is not booked as a long session.

use serde::Serialize;
use time::{Date, Duration, Time, Weekday};

use crate::aftercare::{Aftercare, aftercare, precare};
use crate::assess::{Approach, Assessment, Measured, Verdict, round2};
use crate::fading::FadingModel;
use crate::pricing::{Quote, quote};
use crate::profile::{ClientProfile, HairColour, HairlineStyle};
use crate::settings::{PrecareItem, RuleOutcome, Settings};
use crate::zone::ZoneKind;

/// What a session is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// The whole treatment in one session.
    Complete,
    /// A light, sparse first layer over the whole area; the hairline is drawn and agreed.
    Foundation,
    /// Fills between the foundation dots with a darker shade.
    Build,
    /// Shading and definition.
    Define,
    /// Refinement and blending; evens out what healed unevenly.
    Refine,
}

impl Purpose {
    fn for_layer(layer: usize, layers: usize) -> Purpose {
        match layer {
            _ if layers == 1 => Purpose::Complete,
            0 => Purpose::Foundation,
            l if l + 1 == layers && layers >= 3 => Purpose::Refine,
            1 => Purpose::Build,
            _ => Purpose::Define,
        }
    }

    /// What the session does, for the client; `hairline` when the plan draws a hairline.
    pub fn describe(self, hairline: bool) -> &'static str {
        match self {
            Purpose::Complete => "The whole treatment in one session",
            Purpose::Foundation if !hairline => {
                "Foundation: the outline is agreed, then a light, sparse first layer over the whole area"
            }
            Purpose::Foundation => {
                "Foundation: the hairline is drawn and agreed, then a light, sparse first layer over the whole area"
            }
            Purpose::Build => "Build: fills between the first dots with a darker shade for density",
            Purpose::Define => "Define: shading and definition where density is still uneven",
            Purpose::Refine => "Refine: blending and touch-ups of what healed unevenly",
        }
    }
}

/// One zone's work in a session.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionZone {
    /// The zone.
    pub zone: ZoneKind,
    /// What it is, for people.
    pub label: String,
    /// The area worked in this session, cm².
    pub area_cm2: f64,
    /// Impressions placed: the design's new dots for this layer plus the refill.
    pub dots: u64,
    /// Of `dots`, impressions that re-place what the previous session lost in healing
    /// (`density.healing_loss_fraction`); they are not dots of the healed design.
    pub refill_dots: u64,
    /// Needle cartridge.
    pub needle: String,
    /// Needle diameter, mm.
    pub needle_diameter_mm: f64,
    /// Water share of the ink mix.
    pub pigment_dilution: f64,
}

/// One session of the plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Session {
    /// 1-based.
    pub index: usize,
    /// The day; `None` while the plan cannot be booked (a deferral without a known end).
    pub date: Option<Date>,
    /// Start time, local.
    pub start_time: String,
    /// What it is for.
    pub purpose: Purpose,
    /// What it does, for the client.
    pub purpose_text: String,
    /// When a long layer is split: this part and how many parts (1-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part: Option<[usize; 2]>,
    /// The booked slot, hours: the work plus setup, rounded up to the settings' slot step.
    pub duration_hours: f64,
    /// Cumulative share of the final density reached once this session is done.
    pub density_fraction: f64,
    /// The main needle (the one that places most dots).
    pub needle: String,
    /// Water share of the main mix (0 = neat carbon black).
    pub pigment_dilution: f64,
    /// The shade's name.
    pub pigment_shade: String,
    /// Impressions placed.
    pub estimated_dots: u64,
    /// Work per zone.
    pub zones: Vec<SessionZone>,
}

/// The fading forecast after the last session.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FadingForecast {
    /// Years until a touch-up is due on normal skin.
    pub years_to_touch_up: f64,
    /// Years until scar zones need one (they fade faster), when the plan treats scars.
    pub scar_years_to_touch_up: Option<f64>,
    /// Visible strength (1 = fresh) at a few years after the last session.
    pub strength: Vec<StrengthAt>,
    /// The model for normal skin.
    pub model: FadingModel,
}

/// Strength at a time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StrengthAt {
    /// Years after the last session.
    pub years: f64,
    /// Strength, 0–1.
    pub strength: f64,
}

/// The patch-test visit before session 1.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PatchTestVisit {
    /// The day; `None` while the plan cannot be booked.
    pub date: Option<Date>,
    /// Start time, local.
    pub start_time: String,
    /// Length of the visit, hours.
    pub duration_hours: f64,
    /// Session 1 is at least this many days later (the test is read then).
    pub days_before_first_session: u32,
    /// What happens, for the client.
    pub text: String,
    /// The rules that asked for it.
    pub rules: Vec<String>,
    /// Where the visit's figures come from.
    pub source: String,
}

/// The whole plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Plan {
    /// The assessment it was built on (its fields stand at the top level of the JSON).
    #[serde(flatten)]
    pub assessment: Assessment,
    /// True when the plan cannot be booked yet (a deferral without a known end): the sessions
    /// carry no dates and the quote no deposit.
    pub provisional: bool,
    /// What the client does before every session (earliest first).
    pub precare: Vec<PrecareItem>,
    /// A patch-test visit before session 1, when a rule asks for one.
    pub patch_test: Option<PatchTestVisit>,
    /// The sessions; empty when the client is not suitable.
    pub sessions: Vec<Session>,
    /// Hours over all sessions.
    pub total_hours: f64,
    /// Impressions over all sessions.
    pub total_dots: u64,
    /// The aftercare timeline after each session.
    pub aftercare: Aftercare,
    /// How long it lasts.
    pub fading: Option<FadingForecast>,
    /// What it costs; `None` when there are no sessions.
    pub quote: Option<Quote>,
    /// What the practitioner should know about the plan itself.
    pub notes: Vec<String>,
}

/// Plans the treatment for an assessed client, starting on or after `start`, from the zones the
/// pattern engine drew and measured on the client's head (`follicle_pattern::treatment` does both).
///
/// Areas, dots, hours and price all come from `measured`: what is priced is what is drawn.
pub fn plan(assessment: &Assessment, measured: &Measured, settings: &Settings, start: Date) -> Plan {
    let measured_assessment = assessment.measured(measured);
    let assessment = &measured_assessment;
    let client = &assessment.client;
    let mut notes = Vec::new();
    let verdict = assessment.eligibility.verdict;
    let aftercare = aftercare(client, settings);
    if verdict == Verdict::NotSuitable || assessment.zones.is_empty() {
        if assessment.zones.is_empty() && verdict != Verdict::NotSuitable {
            notes.push("Nothing to treat: no zone has hair loss or scars for the chosen aims".into());
        }
        return Plan {
            assessment: assessment.clone(),
            provisional: false,
            precare: Vec::new(),
            patch_test: None,
            sessions: Vec::new(),
            total_hours: 0.0,
            total_dots: 0,
            aftercare,
            fading: None,
            quote: None,
            notes,
        };
    }
    let mut start = start;
    let mut provisional = false;
    if verdict == Verdict::Defer {
        match assessment.eligibility.defer_until {
            Some(until) if until > start => {
                notes.push(format!(
                    "Deferred: the first session is moved to {until} or later"
                ));
                start = until;
            }
            Some(_) => {}
            None => {
                provisional = true;
                let open: Vec<&str> = assessment
                    .eligibility
                    .reasons
                    .iter()
                    .filter(|r| r.outcome == RuleOutcome::Defer && r.until.is_none())
                    .map(|r| r.rule.as_str())
                    .collect();
                notes.push(format!(
                    "No session dates and no deposit: the deferral ({}) has no known end. Plan again once it has ended; the hours and prices are estimates",
                    open.join(", ")
                ));
            }
        }
    }
    for q in &assessment.eligibility.questions {
        notes.push(format!(
            "Ask before booking ({}): {} [{}]",
            q.rule, q.question, q.field
        ));
    }
    let patch_rules: Vec<String> = assessment
        .eligibility
        .reasons
        .iter()
        .filter(|r| r.outcome == RuleOutcome::PatchTest)
        .map(|r| r.rule.clone())
        .collect();
    if verdict == Verdict::ProceedWithConditions {
        let mut waits = Vec::new();
        if assessment
            .eligibility
            .conditions
            .contains(&RuleOutcome::DoctorClearance)
        {
            waits.push("the doctor's clearance");
        }
        if !patch_rules.is_empty() {
            waits.push("a patch test that has healed cleanly");
        }
        notes.push(format!("Session 1 goes ahead only after {}", waits.join(" and ")));
    }
    let pt = &settings.patch_test;
    let patch_test = (!patch_rules.is_empty()).then(|| {
        let date = (!provisional).then(|| next_working_day(start, &working_days(settings)));
        if let Some(d) = date {
            start = start.max(add_days(d, i64::from(pt.days_before_first_session)));
        }
        PatchTestVisit {
            date,
            start_time: settings.sessions.start_time.clone(),
            duration_hours: pt.visit_hours,
            days_before_first_session: pt.days_before_first_session,
            text: pt.text.clone(),
            rules: patch_rules.clone(),
            source: pt.source.clone(),
        }
    });

    let layers = session_count(assessment, settings);
    let mut sessions = layer_sessions(assessment, settings, layers);
    schedule(&mut sessions, (!provisional).then_some(start), settings);
    let total_hours = round2(sessions.iter().map(|s| s.duration_hours).sum());
    let total_dots = sessions.iter().map(|s| s.estimated_dots).sum();
    if sessions.len() > layers {
        notes.push(format!(
            "{} layers need {} sessions: a layer longer than {} h is split into parts",
            layers,
            sessions.len(),
            settings.sessions.max_hours
        ));
    }

    let normal = FadingModel::for_client(&settings.fading, client, false);
    let has_scars = assessment.zones.iter().any(|z| z.zone == ZoneKind::Scar);
    let scar_years = has_scars
        .then(|| round2(FadingModel::for_client(&settings.fading, client, true).years_to_touch_up()));
    let fading = FadingForecast {
        years_to_touch_up: round2(normal.years_to_touch_up()),
        scar_years_to_touch_up: scar_years,
        strength: [0.5, 1.0, 2.0, 3.0, 5.0, 8.0]
            .into_iter()
            .map(|years| StrengthAt {
                years,
                strength: round3(normal.base_strength(years)),
            })
            .collect(),
        model: normal,
    };
    let touch_up_years = scar_years.map_or(fading.years_to_touch_up, |s| s.min(fading.years_to_touch_up));
    let quote = quote(assessment, &sessions, settings, touch_up_years);
    Plan {
        assessment: assessment.clone(),
        provisional,
        precare: precare(client, settings),
        patch_test,
        sessions,
        total_hours,
        total_dots,
        aftercare,
        fading: Some(fading),
        quote: Some(quote),
        notes,
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// How many layers (sessions before any split) the plan needs.
pub fn session_count(assessment: &Assessment, settings: &Settings) -> usize {
    let s = &settings.sessions;
    let approaches = &assessment.approach.approaches;
    let base = approaches
        .iter()
        .map(|&a| s.base_count[a])
        .max()
        .unwrap_or(s.base_count.full_coverage);
    let mut n = base;
    if assessment.client.hair_loss.is_alopecia() {
        n += s.extra_for_alopecia;
    }
    let scars = approaches.contains(&Approach::ScarCamouflage);
    let coverage = approaches
        .iter()
        .any(|a| matches!(a, Approach::FullCoverage | Approach::Density));
    if scars && coverage {
        n += s.extra_for_scars_with_coverage;
    }
    (n as usize).clamp(1, settings.max_planned_sessions())
}

/// Water share of the mix for one zone in one layer.
pub fn dilution(client: &ClientProfile, settings: &Settings, base: f64, zone: ZoneKind) -> f64 {
    let p = &settings.pigment;
    let mut d = base + p.fitzpatrick_adjust[client.fitzpatrick] + p.hair_colour_adjust[client.hair_colour];
    // A grey/white colour already carries its own adjustment; the grey share adds for the rest.
    if !matches!(client.hair_colour, HairColour::Grey | HairColour::White) {
        d += p.grey_adjust_at_full_grey * f64::from(client.grey_percent) / 100.0;
    }
    if zone == ZoneKind::Hairline && client.hairline_style == HairlineStyle::Soft {
        d += p.hairline_soft_extra;
    }
    round2(d.clamp(p.min, p.max))
}

/// The shade name for a water share.
pub fn shade_name(settings: &Settings, dilution: f64) -> String {
    settings
        .pigment
        .shades
        .iter()
        .find(|b| dilution <= b.up_to + 1e-9)
        .or(settings.pigment.shades.last())
        .map(|b| b.name.clone())
        .unwrap_or_default()
}

/// Work for one zone in one layer, before splitting.
struct Work {
    zone: usize,
    dots: f64,
    hours: f64,
}

fn layer_sessions(assessment: &Assessment, settings: &Settings, layers: usize) -> Vec<Session> {
    let s = &settings.sessions;
    let fractions = settings
        .session_fractions(layers)
        .expect("validated settings give shares for every session count they plan");
    let dilutions = settings
        .session_dilution(layers)
        .expect("validated settings give dilutions for every session count they plan");
    let loss = settings.density.healing_loss_fraction;
    let zones = &assessment.zones;
    let mut sessions = Vec::new();
    for layer in 0..layers {
        let share = fractions[layer] - if layer == 0 { 0.0 } else { fractions[layer - 1] };
        let previous = if layer == 0 {
            0.0
        } else {
            fractions[layer - 1] - if layer == 1 { 0.0 } else { fractions[layer - 2] }
        };
        let work: Vec<Work> = zones
            .iter()
            .enumerate()
            .map(|(i, z)| {
                let dots = z.target_dots() * (share + loss * previous);
                let speed = if z.zone == ZoneKind::Hairline {
                    s.hairline_speed_factor
                } else {
                    1.0
                };
                Work {
                    zone: i,
                    dots,
                    hours: dots / (s.dots_per_hour * speed),
                }
            })
            .filter(|w| w.dots >= 0.5)
            .collect();
        let fixed = s.setup_hours
            + if layer == 0 {
                s.first_session_design_hours
            } else {
                0.0
            };
        let work_hours: f64 = work.iter().map(|w| w.hours).sum();
        // Every part carries the setup (and the first, in the foundation, the design time), so the
        // capacity of a part is what is left of the maximum length.
        let capacity = (s.max_hours - fixed).max(s.min_work_hours);
        let parts = ((work_hours / capacity).ceil() as usize).max(1);
        let per_part = work_hours / parts as f64;
        let chunks = split_work(&work, parts, per_part);
        let purpose = Purpose::for_layer(layer, layers);
        for (p, chunk) in chunks.into_iter().enumerate() {
            let design = if layer == 0 && p == 0 {
                s.first_session_design_hours
            } else {
                0.0
            };
            let mut zones_out: Vec<SessionZone> = Vec::new();
            let mut hours = s.setup_hours + design;
            for (zone_index, dots, h) in chunk {
                let z = &zones[zone_index];
                let needle = settings.needles.per_zone[&z.zone].clone();
                let dots_rounded = dots.round() as u64;
                let area = if z.target_dots() > 0.0 {
                    z.area_cm2 * dots / (z.target_dots() * (share + loss * previous))
                } else {
                    0.0
                };
                hours += h;
                let refill = if share + loss * previous > 0.0 {
                    dots * loss * previous / (share + loss * previous)
                } else {
                    0.0
                };
                zones_out.push(SessionZone {
                    zone: z.zone,
                    label: z.label.clone(),
                    area_cm2: round2(area),
                    dots: dots_rounded,
                    refill_dots: (refill.round() as u64).min(dots_rounded),
                    needle_diameter_mm: settings.needles.zone_diameter_mm(z.zone),
                    needle,
                    pigment_dilution: dilution(&assessment.client, settings, dilutions[layer], z.zone),
                });
            }
            let main = zones_out.iter().max_by_key(|z| z.dots);
            let needle = main.map(|z| z.needle.clone()).unwrap_or_default();
            let pigment_dilution = main.map_or(dilutions[layer], |z| z.pigment_dilution);
            sessions.push(Session {
                index: 0,
                date: None,
                start_time: s.start_time.clone(),
                purpose,
                purpose_text: purpose
                    .describe(zones.iter().any(|z| z.zone == ZoneKind::Hairline))
                    .to_string(),
                part: (parts > 1).then_some([p + 1, parts]),
                duration_hours: slot_hours(hours, settings),
                density_fraction: fractions[layer],
                needle,
                pigment_dilution,
                pigment_shade: shade_name(settings, pigment_dilution),
                estimated_dots: zones_out.iter().map(|z| z.dots).sum(),
                zones: zones_out,
            });
        }
    }
    for (i, session) in sessions.iter_mut().enumerate() {
        session.index = i + 1;
    }
    sessions
}

/// The booked slot for `hours` of work and setup: rounded up to the slot step, at least the
/// shortest slot, never longer than the longest session unless the work itself is.
pub fn slot_hours(hours: f64, settings: &Settings) -> f64 {
    let s = &settings.sessions;
    let step = s.slot_step_hours;
    let slot = ((hours.max(s.min_hours) / step) - 1e-9).ceil() * step;
    round2(slot.min(s.max_hours.max(hours)))
}

/// Fills `parts` sessions front to back with `per_part` hours each, splitting a zone where it overflows.
fn split_work(work: &[Work], parts: usize, per_part: f64) -> Vec<Vec<(usize, f64, f64)>> {
    let mut out: Vec<Vec<(usize, f64, f64)>> = vec![Vec::new(); parts];
    let mut part = 0;
    let mut room = per_part;
    for w in work {
        let mut left_hours = w.hours;
        while left_hours > 1e-12 {
            let last = part + 1 == parts;
            let take = if last { left_hours } else { left_hours.min(room) };
            if take > 1e-12 {
                out[part].push((w.zone, w.dots * take / w.hours, take));
            }
            left_hours -= take;
            room -= take;
            if room <= 1e-9 && !last {
                part += 1;
                room = per_part;
            }
        }
    }
    out.retain(|p| !p.is_empty());
    out
}

/// Parses "HH:MM".
pub fn parse_clock(text: &str) -> Result<Time, String> {
    let bad = || format!("expected a time as HH:MM (00:00–23:59), got {text:?}");
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    let (h, m) = (
        h.parse::<u8>().map_err(|_| bad())?,
        m.parse::<u8>().map_err(|_| bad())?,
    );
    Time::from_hms(h, m, 0).map_err(|_| bad())
}

/// Parses a weekday's three-letter name.
pub fn parse_weekday(text: &str) -> Result<Weekday, String> {
    Ok(match text {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => {
            return Err(format!(
                "expected one of mon, tue, wed, thu, fri, sat, sun, got {text:?}"
            ));
        }
    })
}

fn next_working_day(mut date: Date, working: &[Weekday]) -> Date {
    for _ in 0..7 {
        if working.contains(&date.weekday()) {
            return date;
        }
        match date.next_day() {
            Some(d) => date = d,
            None => return date,
        }
    }
    date
}

fn add_days(date: Date, days: i64) -> Date {
    date.checked_add(Duration::days(days)).unwrap_or(Date::MAX)
}

fn working_days(settings: &Settings) -> Vec<Weekday> {
    settings
        .intervals
        .working_days
        .iter()
        .filter_map(|d| parse_weekday(d).ok())
        .collect()
}

/// Dates the sessions from `start`; with no start (a plan that cannot be booked) they stay undated.
fn schedule(sessions: &mut [Session], start: Option<Date>, settings: &Settings) {
    let Some(start) = start else {
        return;
    };
    let iv = &settings.intervals;
    let working = working_days(settings);
    let cap = iv.max_sessions_per_12_months as usize;
    let mut dates: Vec<Date> = Vec::with_capacity(sessions.len());
    for i in 0..sessions.len() {
        let mut date = if i == 0 {
            start
        } else {
            let previous_scars = sessions[i - 1].zones.iter().any(|z| z.zone == ZoneKind::Scar);
            let gap = if previous_scars {
                iv.after_scar_work_days
            } else {
                iv.default_days
            };
            add_days(dates[i - 1], i64::from(gap))
        };
        if i >= cap {
            // Never more than `cap` sessions in any 12 months.
            date = date.max(add_days(dates[i - cap], 365));
        }
        let date = next_working_day(date, &working);
        dates.push(date);
        sessions[i].date = Some(date);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_by_plan_length() {
        let names = |n: usize| (0..n).map(|l| Purpose::for_layer(l, n)).collect::<Vec<_>>();
        use Purpose::*;
        assert_eq!(names(1), [Complete]);
        assert_eq!(names(2), [Foundation, Build]);
        assert_eq!(names(3), [Foundation, Build, Refine]);
        assert_eq!(names(4), [Foundation, Build, Define, Refine]);
    }

    #[test]
    fn work_splits_front_to_back() {
        let work = [
            Work {
                zone: 0,
                dots: 100.0,
                hours: 1.0,
            },
            Work {
                zone: 1,
                dots: 600.0,
                hours: 3.0,
            },
        ];
        let parts = split_work(&work, 2, 2.0);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].len(), 2);
        assert!((parts[0][1].1 - 200.0).abs() < 1e-9, "{:?}", parts[0]);
        assert!((parts[1][0].1 - 400.0).abs() < 1e-9);
    }

    #[test]
    fn clock_and_weekdays() {
        assert_eq!(parse_clock("09:30").unwrap(), Time::from_hms(9, 30, 0).unwrap());
        assert!(parse_clock("25:00").unwrap_err().contains("HH:MM"));
        assert!(parse_weekday("Mon").is_err());
    }

    #[test]
    fn slots_round_up_to_the_step() {
        let settings = Settings::with_overrides(
            "[sessions]\nmin_hours = 1.0\nslot_step_hours = 0.25\nmax_hours = 5.0\n",
        )
        .unwrap();
        for (work, slot) in [(2.01, 2.25), (2.0, 2.0), (0.2, 1.0), (1.12, 1.25), (4.9, 5.0)] {
            assert_eq!(slot_hours(work, &settings), slot, "{work} h of work");
        }
        let half = Settings::with_overrides("[sessions]\nslot_step_hours = 0.5\n").unwrap();
        assert_eq!(slot_hours(1.12, &half), 1.5);
    }
}
