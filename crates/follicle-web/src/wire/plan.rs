//! The stored plan and quote as the API answers them: a mirror of `follicle_store`'s
//! [`PlanRecord`](store::PlanRecord) (schema version 1), built from it field by field, so a
//! field added to the stored record reaches the API only when it is added here.

use follicle_store as store;
use follicle_store::record;
use serde::Serialize;
use time::Date;
use utoipa::ToSchema;

/// A plan and quote as issued (the stored record, schema version 1).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PlanRecord {
    /// The day of the assessment.
    pub assessed_on: Date,
    /// `proceed`, `proceed_with_conditions`, `defer` or `not_suitable`, as the planner said it.
    pub verdict: String,
    /// The reasons behind the verdict.
    pub reasons: Vec<ReasonRecord>,
    /// The approaches chosen (`full_coverage`, `density`, `scar_camouflage`).
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
    pub precare: Vec<PrecareRecord>,
    /// The patch-test visit before session 1, when a rule asked for one.
    pub patch_test: Option<PatchTestRecord>,
    /// The quote; `null` when there are no sessions.
    pub quote: Option<QuoteRecord>,
    /// Notes on the plan.
    pub notes: Vec<String>,
}

/// One reason behind a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReasonRecord {
    /// The rule that gave it.
    pub rule: String,
    /// What the client and practitioner read.
    pub message: String,
    /// Until when it holds, if it lapses.
    pub until: Option<Date>,
}

/// One zone to treat.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ZoneRecord {
    /// The zone (`hairline`, `frontal`, `crown`, …).
    pub zone: String,
    /// Its area on this head, cm².
    pub area_cm2: f64,
    /// The target density, dots per cm².
    pub density_per_cm2: f64,
}

/// One planned session.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SessionRecord {
    /// 1, 2, …
    pub index: u32,
    /// The day; `null` while the plan cannot be booked yet (a deferral without an end).
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AftercareRecord {
    /// From this day after a session…
    pub from_day: u32,
    /// …to this one.
    pub to_day: u32,
    /// What to do.
    pub text: String,
}

/// One pre-care instruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PrecareRecord {
    /// From how many hours before a session it applies (0: the session day).
    pub hours_before: u32,
    /// What to do.
    pub text: String,
}

/// The patch-test visit before session 1.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PatchTestRecord {
    /// The day; `null` while the plan cannot be booked yet.
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
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
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
    /// The sum of the lines, whole currency units.
    pub total: i64,
    /// Paid to book, part of the total; `null` while the plan cannot be booked yet.
    pub deposit: Option<i64>,
    /// The rest.
    pub balance: i64,
    /// Free cancellation up to this many hours before a session.
    pub cancellation_hours: u32,
    /// The first touch-up.
    pub touch_up: TouchUpRecord,
}

/// One line of a quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PriceLine {
    /// The session it prices.
    pub session: u32,
    /// The session's day, once it can be booked.
    pub date: Option<Date>,
    /// The amount, whole currency units.
    pub amount: i64,
}

/// The touch-up forecast and price.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TouchUpRecord {
    /// When it is due, once the sessions are dated.
    pub due_on: Option<Date>,
    /// Years after the last session.
    pub years_after_last_session: f64,
    /// Its price, whole currency units.
    pub price: i64,
}

/// One thing that differs between two versions of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Difference {
    /// What: `sessions`, `session 2 date`, `session 1 hours`, `price session 3`, `total`,
    /// `deposit`, `touch-up price`, `currency`, `verdict`, `zone crown area`, …
    pub what: String,
    /// The earlier value (empty when it did not exist).
    pub before: String,
    /// The new value (empty when it no longer exists).
    pub after: String,
}

impl From<store::Difference> for Difference {
    fn from(d: store::Difference) -> Difference {
        let store::Difference { what, before, after } = d;
        Difference { what, before, after }
    }
}

impl From<store::PlanRecord> for PlanRecord {
    fn from(p: store::PlanRecord) -> PlanRecord {
        // Destructured, so a field added to the stored record is a compile error here
        // until the API decides whether to answer it.
        let store::PlanRecord {
            assessed_on,
            verdict,
            reasons,
            approach,
            zones,
            provisional,
            sessions,
            total_hours,
            total_dots,
            aftercare,
            precare,
            patch_test,
            quote,
            notes,
        } = p;
        PlanRecord {
            assessed_on,
            verdict,
            reasons: reasons
                .into_iter()
                .map(|r| ReasonRecord {
                    rule: r.rule,
                    message: r.message,
                    until: r.until,
                })
                .collect(),
            approach,
            zones: zones
                .into_iter()
                .map(|z| ZoneRecord {
                    zone: z.zone,
                    area_cm2: z.area_cm2,
                    density_per_cm2: z.density_per_cm2,
                })
                .collect(),
            provisional,
            sessions: sessions.into_iter().map(session).collect(),
            total_hours,
            total_dots,
            aftercare: aftercare
                .into_iter()
                .map(|a| AftercareRecord {
                    from_day: a.from_day,
                    to_day: a.to_day,
                    text: a.text,
                })
                .collect(),
            precare: precare
                .into_iter()
                .map(|p| PrecareRecord {
                    hours_before: p.hours_before,
                    text: p.text,
                })
                .collect(),
            patch_test: patch_test.map(|t| PatchTestRecord {
                date: t.date,
                start_time: t.start_time,
                duration_hours: t.duration_hours,
                days_before_first_session: t.days_before_first_session,
                text: t.text,
            }),
            quote: quote.map(quote_record),
            notes,
        }
    }
}

fn session(s: record::SessionRecord) -> SessionRecord {
    let record::SessionRecord {
        index,
        date,
        start_time,
        duration_hours,
        purpose,
        needle,
        pigment_shade,
        pigment_dilution,
        estimated_dots,
    } = s;
    SessionRecord {
        index,
        date,
        start_time,
        duration_hours,
        purpose,
        needle,
        pigment_shade,
        pigment_dilution,
        estimated_dots,
    }
}

fn quote_record(q: store::QuoteRecord) -> QuoteRecord {
    let store::QuoteRecord {
        issued_on,
        valid_until,
        currency,
        location,
        lines,
        total,
        deposit,
        balance,
        cancellation_hours,
        touch_up,
    } = q;
    QuoteRecord {
        issued_on,
        valid_until,
        currency,
        location,
        lines: lines
            .into_iter()
            .map(|l| PriceLine {
                session: l.session,
                date: l.date,
                amount: l.amount,
            })
            .collect(),
        total,
        deposit,
        balance,
        cancellation_hours,
        touch_up: TouchUpRecord {
            due_on: touch_up.due_on,
            years_after_last_session: touch_up.years_after_last_session,
            price: touch_up.price,
        },
    }
}
