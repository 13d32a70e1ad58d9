//! The stored plan and quote: what a client was told, kept as it was told.
//!
//! A consultation (and a design version) keeps a [`PlanRecord`]: the verdict, the zones, the
//! sessions with their dates and hours, the aftercare, and the quote with its number, issue
//! date and validity. It is written once and read back as it was written; printing it again,
//! showing it on the timeline or answering it through the API never re-plans. Only an
//! explicit re-plan makes a new version, and [`differences`] lists what changed.
//!
//! These types are deliberately separate from `follicle_core`'s `Plan` (rust-analyzer's
//! serialization boundary): core is free to change its types, and a stored record keeps its
//! shape. The shape carries a schema version ([`PLAN_SCHEMA_VERSION`]); rows written before
//! records were versioned (schema version 0: core's `Plan` as untyped JSON) are read by
//! [`read_plan`] with a reader of their own, so they still load after an upgrade.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::Date;

use crate::error::{StoreError, StoreResult};

/// The schema version of records written now.
pub const PLAN_SCHEMA_VERSION: i64 = 1;

/// The schema versions this build reads: 0 (core's plan JSON, before records were versioned)
/// and 1.
pub const READABLE_SCHEMA_VERSIONS: [i64; 2] = [0, 1];

/// A plan and quote as stored (schema version 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanRecord {
    /// The day of the assessment.
    pub assessed_on: Date,
    /// `proceed`, `proceed_with_caution`, `defer`, `refer` or `not_suitable`, as the planner
    /// said it.
    pub verdict: String,
    /// The reasons behind the verdict.
    pub reasons: Vec<ReasonRecord>,
    /// The approaches chosen (density, hairline, scar camouflage, …).
    pub approach: Vec<String>,
    /// The zones to treat.
    pub zones: Vec<ZoneRecord>,
    /// True when the plan cannot be booked yet (a deferral without a known end).
    pub provisional: bool,
    /// The sessions, in order; empty when there is nothing to book.
    pub sessions: Vec<SessionRecord>,
    /// Hours over all sessions.
    pub total_hours: f64,
    /// Impressions over all sessions.
    pub total_dots: u64,
    /// The aftercare instructions, by day after a session.
    pub aftercare: Vec<AftercareRecord>,
    /// What the client does before every session, earliest first (the clinic's pre-care).
    #[serde(default)]
    pub precare: Vec<PrecareRecord>,
    /// The patch-test visit before session 1, when a rule asked for one.
    #[serde(default)]
    pub patch_test: Option<PatchTestRecord>,
    /// The quote; `None` when there are no sessions.
    pub quote: Option<QuoteRecord>,
    /// Notes on the plan.
    pub notes: Vec<String>,
}

/// One reason behind a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonRecord {
    /// The rule that gave it.
    pub rule: String,
    /// What the client and practitioner read.
    pub message: String,
    /// Until when it holds, if it lapses.
    pub until: Option<Date>,
}

/// One zone to treat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneRecord {
    /// The zone (`hairline`, `frontal`, `crown`, …).
    pub zone: String,
    /// Its area on this head, cm².
    pub area_cm2: f64,
    /// The target density, dots per cm².
    pub density_per_cm2: f64,
}

/// One planned session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionRecord {
    /// 1, 2, …
    pub index: u32,
    /// The day; none while the plan cannot be booked yet (a deferral without an end).
    pub date: Option<Date>,
    /// The start time, `HH:MM`.
    pub start_time: String,
    /// How long, in hours.
    pub duration_hours: f64,
    /// What it is for, in words.
    pub purpose: String,
    /// The needle.
    pub needle: String,
    /// The pigment shade.
    pub pigment_shade: String,
    /// Water share of the mix, 0–1.
    pub pigment_dilution: f64,
    /// Impressions planned.
    pub estimated_dots: u64,
}

/// One aftercare instruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AftercareRecord {
    /// From this day after a session…
    pub from_day: u32,
    /// …to this one.
    pub to_day: u32,
    /// What to do.
    pub text: String,
}

/// One pre-care instruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrecareRecord {
    /// From how many hours before a session it applies (0: the session day).
    pub hours_before: u32,
    /// What to do.
    pub text: String,
}

/// The patch-test visit before session 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchTestRecord {
    /// The day; none while the plan cannot be booked yet.
    pub date: Option<Date>,
    /// The start time, `HH:MM`.
    pub start_time: String,
    /// How long, in hours.
    pub duration_hours: f64,
    /// Session 1 is at least this many days later, when the test is read.
    pub days_before_first_session: u32,
    /// What happens, in words.
    pub text: String,
}

/// The quote as issued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteRecord {
    /// The day it was issued.
    pub issued_on: Date,
    /// The last day it holds (the clinic's `pricing.quote_valid_days` after issue).
    pub valid_until: Date,
    /// ISO 4217 code.
    pub currency: String,
    /// The location profile it was priced for.
    pub location: String,
    /// The price lines, one per session.
    pub lines: Vec<PriceLine>,
    /// The sum of the lines.
    pub total: i64,
    /// Paid to book, part of the total; none while the plan cannot be booked yet.
    pub deposit: Option<i64>,
    /// The rest.
    pub balance: i64,
    /// Free cancellation up to this many hours before a session.
    pub cancellation_hours: u32,
    /// The first touch-up.
    pub touch_up: TouchUpRecord,
}

/// One line of a quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceLine {
    /// The session it prices.
    pub session: u32,
    /// The session's day, once it can be booked.
    pub date: Option<Date>,
    /// The amount, whole currency units.
    pub amount: i64,
}

/// The touch-up forecast and price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TouchUpRecord {
    /// When it is due, once the sessions are dated.
    pub due_on: Option<Date>,
    /// Years after the last session.
    pub years_after_last_session: f64,
    /// Its price.
    pub price: i64,
}

/// When a quote is issued and until when it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Issue {
    /// The day of issue.
    pub on: Date,
    /// The quote holds this many days after it (the clinic's `pricing.quote_valid_days`).
    pub valid_days: u32,
}

impl PlanRecord {
    /// The record of a plan from `follicle_core`, its quote issued as `issue` says. This is
    /// the one place where core's plan becomes a stored record.
    pub fn from_core(plan: &follicle_core::Plan, issue: Issue) -> PlanRecord {
        let a = &plan.assessment;
        let small = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        PlanRecord {
            assessed_on: a.assessed_on,
            verdict: a.eligibility.verdict.as_str().to_owned(),
            reasons: a
                .eligibility
                .reasons
                .iter()
                .map(|r| ReasonRecord {
                    rule: r.rule.clone(),
                    message: r.message.clone(),
                    until: r.until,
                })
                .collect(),
            approach: a
                .approach
                .approaches
                .iter()
                .map(|x| {
                    serde_json::to_value(x)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_else(|| format!("{x:?}"))
                })
                .collect(),
            zones: a
                .zones
                .iter()
                .map(|z| ZoneRecord {
                    zone: z.zone.as_str().to_owned(),
                    area_cm2: z.area_cm2,
                    density_per_cm2: z.density_per_cm2,
                })
                .collect(),
            provisional: plan.provisional,
            sessions: plan
                .sessions
                .iter()
                .map(|s| SessionRecord {
                    index: small(s.index),
                    date: s.date,
                    start_time: s.start_time.clone(),
                    duration_hours: s.duration_hours,
                    purpose: s.purpose_text.clone(),
                    needle: s.needle.clone(),
                    pigment_shade: s.pigment_shade.clone(),
                    pigment_dilution: s.pigment_dilution,
                    estimated_dots: s.estimated_dots,
                })
                .collect(),
            total_hours: plan.total_hours,
            total_dots: plan.total_dots,
            aftercare: plan
                .aftercare
                .items
                .iter()
                .map(|i| AftercareRecord {
                    from_day: i.from_day,
                    to_day: i.to_day,
                    text: i.text.clone(),
                })
                .collect(),
            precare: plan
                .precare
                .iter()
                .map(|i| PrecareRecord {
                    hours_before: i.hours_before,
                    text: i.text.clone(),
                })
                .collect(),
            patch_test: plan.patch_test.as_ref().map(|v| PatchTestRecord {
                date: v.date,
                start_time: v.start_time.clone(),
                duration_hours: v.duration_hours,
                days_before_first_session: v.days_before_first_session,
                text: v.text.clone(),
            }),
            quote: plan.quote.as_ref().map(|q| QuoteRecord {
                issued_on: issue.on,
                valid_until: issue
                    .on
                    .saturating_add(time::Duration::days(i64::from(issue.valid_days))),
                currency: q.currency.clone(),
                location: q.location.clone(),
                lines: q
                    .per_session
                    .iter()
                    .map(|l| PriceLine {
                        session: small(l.index),
                        date: l.date,
                        amount: l.amount,
                    })
                    .collect(),
                total: q.total,
                deposit: q.deposit,
                balance: q.balance,
                cancellation_hours: q.cancellation_hours,
                touch_up: TouchUpRecord {
                    due_on: q.touch_up.due_date,
                    years_after_last_session: q.touch_up.years_after_last_session,
                    price: q.touch_up.price,
                },
            }),
            notes: plan.notes.clone(),
        }
    }

    /// The date the first session is booked for, if any.
    pub fn first_session(&self) -> Option<Date> {
        self.sessions.first().and_then(|s| s.date)
    }

    /// The first day of the treatment: the patch-test visit when there is one, else the first
    /// session (what a re-plan starts from, so that the same settings give the same dates).
    pub fn first_visit(&self) -> Option<Date> {
        self.patch_test
            .as_ref()
            .and_then(|v| v.date)
            .or_else(|| self.first_session())
    }
}

/// Reads a stored plan of the given schema version. An unknown version is
/// [`StoreError::Invalid`] naming `schema_version`, the value and the versions this build
/// reads (a row written by a newer Follicle, read by an older one).
pub fn read_plan(schema_version: i64, plan: Value) -> StoreResult<PlanRecord> {
    match schema_version {
        0 => v0::read(plan),
        1 => serde_json::from_value(plan).map_err(|e| {
            StoreError::Internal(format!("a stored plan (schema version 1) does not read: {e}"))
        }),
        other => Err(unknown_version(other)),
    }
}

/// The error for a record of a schema version this build does not read.
pub fn unknown_version(version: i64) -> StoreError {
    StoreError::invalid(
        "schema_version",
        format!(
            "this record has schema version {version}; this version of Follicle reads {} \
             (upgrade Follicle to read it)",
            READABLE_SCHEMA_VERSIONS.map(|v| v.to_string()).join(" and ")
        ),
    )
}

/// Schema version 0: `follicle_core::Plan` as its JSON stood when consultations were stored
/// untyped (the assessment's fields at the top level). Frozen here; never written again.
mod v0 {
    use serde::Deserialize;
    use serde_json::Value;
    use time::Date;

    use super::*;

    #[derive(Deserialize)]
    struct Plan {
        assessed_on: Date,
        eligibility: Eligibility,
        #[serde(default)]
        approach: Approach,
        #[serde(default)]
        zones: Vec<Zone>,
        #[serde(default)]
        provisional: bool,
        #[serde(default)]
        sessions: Vec<Session>,
        #[serde(default)]
        total_hours: f64,
        #[serde(default)]
        total_dots: u64,
        #[serde(default)]
        aftercare: Aftercare,
        #[serde(default)]
        quote: Option<Quote>,
        #[serde(default)]
        notes: Vec<String>,
    }
    #[derive(Deserialize)]
    struct Eligibility {
        verdict: String,
        #[serde(default)]
        reasons: Vec<Reason>,
    }
    #[derive(Deserialize)]
    struct Reason {
        rule: String,
        message: String,
        #[serde(default)]
        until: Option<Date>,
    }
    #[derive(Deserialize, Default)]
    struct Approach {
        #[serde(default)]
        approaches: Vec<Value>,
    }
    #[derive(Deserialize)]
    struct Zone {
        zone: String,
        area_cm2: f64,
        density_per_cm2: f64,
    }
    #[derive(Deserialize)]
    struct Session {
        index: u32,
        date: Date,
        #[serde(default)]
        start_time: String,
        duration_hours: f64,
        #[serde(default)]
        purpose_text: String,
        #[serde(default)]
        needle: String,
        #[serde(default)]
        pigment_shade: String,
        #[serde(default)]
        pigment_dilution: f64,
        #[serde(default)]
        estimated_dots: u64,
    }
    #[derive(Deserialize, Default)]
    struct Aftercare {
        #[serde(default)]
        items: Vec<AftercareItem>,
    }
    #[derive(Deserialize)]
    struct AftercareItem {
        from_day: u32,
        to_day: u32,
        text: String,
    }
    #[derive(Deserialize)]
    struct Quote {
        currency: String,
        #[serde(default)]
        location: String,
        per_session: Vec<Line>,
        total: i64,
        deposit: i64,
        balance: i64,
        #[serde(default)]
        cancellation_hours: u32,
        touch_up: TouchUp,
    }
    #[derive(Deserialize)]
    struct Line {
        index: u32,
        date: Date,
        amount: i64,
    }
    #[derive(Deserialize)]
    struct TouchUp {
        due_date: Date,
        years_after_last_session: f64,
        price: i64,
    }

    pub(super) fn read(plan: Value) -> StoreResult<PlanRecord> {
        let p: Plan = serde_json::from_value(plan).map_err(|e| {
            StoreError::Internal(format!("a stored plan (schema version 0) does not read: {e}"))
        })?;
        let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
        Ok(PlanRecord {
            assessed_on: p.assessed_on,
            verdict: p.eligibility.verdict,
            reasons: p
                .eligibility
                .reasons
                .into_iter()
                .map(|r| ReasonRecord {
                    rule: r.rule,
                    message: r.message,
                    until: r.until,
                })
                .collect(),
            approach: p.approach.approaches.iter().map(text).collect(),
            zones: p
                .zones
                .into_iter()
                .map(|z| ZoneRecord {
                    zone: z.zone,
                    area_cm2: z.area_cm2,
                    density_per_cm2: z.density_per_cm2,
                })
                .collect(),
            provisional: p.provisional,
            sessions: p
                .sessions
                .into_iter()
                .map(|s| SessionRecord {
                    index: s.index,
                    date: Some(s.date),
                    start_time: s.start_time,
                    duration_hours: s.duration_hours,
                    purpose: s.purpose_text,
                    needle: s.needle,
                    pigment_shade: s.pigment_shade,
                    pigment_dilution: s.pigment_dilution,
                    estimated_dots: s.estimated_dots,
                })
                .collect(),
            total_hours: p.total_hours,
            total_dots: p.total_dots,
            aftercare: p
                .aftercare
                .items
                .into_iter()
                .map(|i| AftercareRecord {
                    from_day: i.from_day,
                    to_day: i.to_day,
                    text: i.text,
                })
                .collect(),
            // Version 0 kept neither pre-care nor a patch-test visit.
            precare: Vec::new(),
            patch_test: None,
            // Version 0 kept no issue date: the quote counts as issued on the assessment day,
            // with no validity beyond it (it predates quote validity).
            quote: p.quote.map(|q| QuoteRecord {
                issued_on: p.assessed_on,
                valid_until: p.assessed_on,
                currency: q.currency,
                location: q.location,
                lines: q
                    .per_session
                    .into_iter()
                    .map(|l| PriceLine {
                        session: l.index,
                        date: Some(l.date),
                        amount: l.amount,
                    })
                    .collect(),
                total: q.total,
                deposit: Some(q.deposit),
                balance: q.balance,
                cancellation_hours: q.cancellation_hours,
                touch_up: TouchUpRecord {
                    due_on: Some(q.touch_up.due_date),
                    years_after_last_session: q.touch_up.years_after_last_session,
                    price: q.touch_up.price,
                },
            }),
            notes: p.notes,
        })
    }
}

/// One thing that differs between two versions of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// What: `sessions`, `session 2 date`, `session 1 hours`, `price session 3`, `total`,
    /// `deposit`, `touch-up price`, `currency`, `verdict`, `zone crown area`, …
    pub what: String,
    /// The earlier value (empty when it did not exist).
    pub before: String,
    /// The new value (empty when it no longer exists).
    pub after: String,
}

/// What changed from `before` to `after`: the verdict, the zones, the number of sessions,
/// each session's date and hours, each price line, total, deposit, balance and touch-up.
/// Equal plans give an empty list.
pub fn differences(before: &PlanRecord, after: &PlanRecord) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut check = |what: String, b: String, a: String| {
        if b != a {
            out.push(Difference {
                what,
                before: b,
                after: a,
            });
        }
    };
    check("verdict".into(), before.verdict.clone(), after.verdict.clone());
    let zone_names: std::collections::BTreeSet<&str> = before
        .zones
        .iter()
        .chain(&after.zones)
        .map(|z| z.zone.as_str())
        .collect();
    for name in zone_names {
        let area = |p: &PlanRecord| {
            p.zones
                .iter()
                .find(|z| z.zone == name)
                .map(|z| format!("{:.0} cm²", z.area_cm2))
                .unwrap_or_default()
        };
        check(format!("zone {name} area"), area(before), area(after));
    }
    check(
        "sessions".into(),
        before.sessions.len().to_string(),
        after.sessions.len().to_string(),
    );
    let count = before.sessions.len().max(after.sessions.len());
    for i in 0..count {
        let (b, a) = (before.sessions.get(i), after.sessions.get(i));
        let n = i + 1;
        let date = |s: Option<&SessionRecord>| {
            s.map(|s| s.date.map_or_else(|| "not dated".to_owned(), |d| d.to_string()))
                .unwrap_or_default()
        };
        let hours = |s: Option<&SessionRecord>| {
            s.map(|s| format!("{:.2} h", s.duration_hours))
                .unwrap_or_default()
        };
        check(format!("session {n} date"), date(b), date(a));
        check(format!("session {n} hours"), hours(b), hours(a));
    }
    check(
        "total hours".into(),
        format!("{:.2} h", before.total_hours),
        format!("{:.2} h", after.total_hours),
    );
    let quote = |p: &PlanRecord| p.quote.clone();
    match (quote(before), quote(after)) {
        (Some(b), Some(a)) => {
            check("currency".into(), b.currency.clone(), a.currency.clone());
            let lines = b.lines.len().max(a.lines.len());
            for i in 0..lines {
                let amount = |q: &QuoteRecord| {
                    q.lines
                        .get(i)
                        .map(|l| format!("{} {}", q.currency, l.amount))
                        .unwrap_or_default()
                };
                check(format!("price session {}", i + 1), amount(&b), amount(&a));
            }
            let money = |q: &QuoteRecord, v: i64| format!("{} {v}", q.currency);
            check("total".into(), money(&b, b.total), money(&a, a.total));
            let deposit = |q: &QuoteRecord| q.deposit.map_or_else(|| "none".to_owned(), |d| money(q, d));
            check("deposit".into(), deposit(&b), deposit(&a));
            check("balance".into(), money(&b, b.balance), money(&a, a.balance));
            check(
                "touch-up price".into(),
                money(&b, b.touch_up.price),
                money(&a, a.touch_up.price),
            );
            check(
                "touch-up due".into(),
                b.touch_up.due_on.map(|d| d.to_string()).unwrap_or_default(),
                a.touch_up.due_on.map(|d| d.to_string()).unwrap_or_default(),
            );
        }
        (Some(b), None) => check(
            "total".into(),
            format!("{} {}", b.currency, b.total),
            String::new(),
        ),
        (None, Some(a)) => check(
            "total".into(),
            String::new(),
            format!("{} {}", a.currency, a.total),
        ),
        (None, None) => {}
    }
    out
}
