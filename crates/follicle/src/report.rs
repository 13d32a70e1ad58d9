//! Plans and assessments as text for people, Markdown for printing, and JSON for programs.
//!
//! Text and Markdown share one writer: the same sections in the same order, so a printed
//! plan says exactly what the terminal said.

use std::fmt::Write;

use follicle_core::Assessment;
use follicle_core::assess::Reason;
use follicle_core::plan::Plan;
use follicle_core::settings::{PricingMode, RuleOutcome};

use crate::Format;

/// The assessment in the chosen format.
pub fn assessment(a: &Assessment, format: Format) -> anyhow::Result<String> {
    if format == Format::Json {
        return Ok(serde_json::to_string_pretty(a)? + "\n");
    }
    let mut w = Writer::new(format == Format::Markdown);
    header(&mut w, a, "Assessment");
    eligibility(&mut w, a);
    zones(&mut w, a);
    Ok(w.out)
}

/// The plan in the chosen format.
pub fn plan(p: &Plan, format: Format) -> anyhow::Result<String> {
    if format == Format::Json {
        return Ok(serde_json::to_string_pretty(p)? + "\n");
    }
    let mut w = Writer::new(format == Format::Markdown);
    let a = &p.assessment;
    header(&mut w, a, "Treatment plan");
    eligibility(&mut w, a);
    zones(&mut w, a);
    patch_test(&mut w, p);
    sessions(&mut w, p);
    precare(&mut w, p);
    aftercare(&mut w, p);
    fading(&mut w, p);
    quote(&mut w, p);
    if !p.notes.is_empty() {
        w.heading("Notes");
        for n in &p.notes {
            w.bullet(n);
        }
    }
    Ok(w.out)
}

struct Writer {
    md: bool,
    out: String,
}

impl Writer {
    fn new(md: bool) -> Self {
        Writer {
            md,
            out: String::new(),
        }
    }

    fn title(&mut self, text: &str) {
        if self.md {
            let _ = writeln!(self.out, "# {text}\n");
        } else {
            let _ = writeln!(self.out, "{text}\n{}", "=".repeat(text.chars().count()));
        }
    }

    fn heading(&mut self, text: &str) {
        if self.md {
            let _ = writeln!(self.out, "\n## {text}\n");
        } else {
            let _ = writeln!(self.out, "\n{text}\n{}", "-".repeat(text.chars().count()));
        }
    }

    fn line(&mut self, text: &str) {
        let _ = writeln!(self.out, "{}{text}", if self.md { "" } else { "  " });
    }

    fn bullet(&mut self, text: &str) {
        let _ = writeln!(self.out, "{} {text}", if self.md { "-" } else { "  •" });
    }

    /// A table: Markdown pipes, or aligned columns in text.
    fn table(&mut self, head: &[&str], rows: &[Vec<String>]) {
        if self.md {
            let _ = writeln!(self.out, "| {} |", head.join(" | "));
            let _ = writeln!(self.out, "|{}", head.iter().map(|_| "---|").collect::<String>());
            for r in rows {
                let _ = writeln!(self.out, "| {} |", r.join(" | ").replace('\n', " "));
            }
            self.out.push('\n');
            return;
        }
        let widths: Vec<usize> = (0..head.len())
            .map(|i| {
                rows.iter()
                    .map(|r| r[i].chars().count())
                    .chain([head[i].chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let fmt_row = |cells: Vec<&str>| -> String {
            let mut s = String::from("  ");
            for (i, c) in cells.iter().enumerate() {
                let pad = widths[i].saturating_sub(c.chars().count());
                if i + 1 == cells.len() {
                    s.push_str(c);
                } else {
                    s.push_str(c);
                    s.push_str(&" ".repeat(pad + 2));
                }
            }
            s.trim_end().to_string()
        };
        let _ = writeln!(self.out, "{}", fmt_row(head.to_vec()));
        for r in rows {
            let _ = writeln!(self.out, "{}", fmt_row(r.iter().map(String::as_str).collect()));
        }
    }
}

fn header(w: &mut Writer, a: &Assessment, what: &str) {
    let c = &a.client;
    let name = c.name.clone().unwrap_or_else(|| "client".into());
    w.title(&format!("{what}: {name}"));
    w.line(&format!(
        "Assessed {} · {} {} · {} · Fitzpatrick {} · {} hair{} · {} skin",
        a.assessed_on,
        c.age,
        c.sex,
        c.hair_loss.label(),
        c.fitzpatrick,
        c.hair_colour.as_str().replace('_', " "),
        if c.grey_percent > 0 {
            format!(" ({}% grey)", c.grey_percent)
        } else {
            String::new()
        },
        c.skin_type,
    ));
}

fn outcome_label(o: RuleOutcome) -> &'static str {
    match o {
        RuleOutcome::Caution => "note",
        RuleOutcome::PatchTest => "patch test",
        RuleOutcome::DoctorClearance => "doctor's clearance",
        RuleOutcome::Defer => "defer",
        RuleOutcome::NotSuitable => "not suitable",
    }
}

fn reason_line(r: &Reason) -> String {
    let until = r.until.map(|d| format!(" (until {d})")).unwrap_or_default();
    format!(
        "[{}] {}: {}{until} — {}",
        r.rule,
        outcome_label(r.outcome),
        r.message,
        r.source
    )
}

fn eligibility(w: &mut Writer, a: &Assessment) {
    let e = &a.eligibility;
    let verdict = match e.verdict {
        follicle_core::Verdict::Proceed => "PROCEED".to_string(),
        follicle_core::Verdict::ProceedWithConditions => format!(
            "PROCEED WITH CONDITIONS ({})",
            e.conditions
                .iter()
                .map(|c| outcome_label(*c))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        follicle_core::Verdict::Defer => match e.defer_until {
            Some(d) => format!("DEFER until {d}"),
            None => "DEFER (until the causes below have ended)".into(),
        },
        follicle_core::Verdict::NotSuitable => "NOT SUITABLE".into(),
    };
    w.heading("Eligibility");
    w.line(&format!("Verdict: {verdict}"));
    if e.reasons.is_empty() {
        w.line("No rule matched: no contraindication found.");
    }
    for r in &e.reasons {
        w.bullet(&reason_line(r));
    }
    if !e.questions.is_empty() {
        w.line("To ask before booking:");
        for q in &e.questions {
            w.bullet(&format!("{} [{}; rule {}]", q.question, q.field, q.rule));
        }
    }
    w.heading("Approach");
    w.line(&format!(
        "Recommended: {}",
        a.approach
            .approaches
            .iter()
            .map(|x| x.label())
            .collect::<Vec<_>>()
            .join(" + ")
    ));
    for r in &a.approach.reasons {
        w.bullet(&format!("[{}] {}", r.rule, r.message));
    }
}

fn zones(w: &mut Writer, a: &Assessment) {
    w.heading(&format!(
        "Zones ({:.0} cm² on a {:.1} cm head{})",
        a.treated_area_cm2,
        a.client.head.circumference_cm,
        if a.client.head.measured {
            ""
        } else {
            ", default size"
        }
    ));
    if a.zones.is_empty() {
        w.line("Nothing to treat.");
        return;
    }
    let rows: Vec<Vec<String>> = a
        .zones
        .iter()
        .map(|z| {
            vec![
                z.label.clone(),
                format!("{:.1} cm²", z.area_cm2),
                format!("{:.0} dots/cm²", z.density_per_cm2),
                format!("{} dots", thousands(z.target_dots().round() as u64)),
            ]
        })
        .collect();
    w.table(&["zone", "area", "final density", "at full density"], &rows);
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn money(n: i64, currency: &str) -> String {
    let sign = if n < 0 { "-" } else { "" };
    format!("{currency} {sign}{}", thousands(n.unsigned_abs()))
}

fn sessions(w: &mut Writer, p: &Plan) {
    if p.sessions.is_empty() {
        w.heading("Sessions");
        w.line("No sessions: see the eligibility above.");
        return;
    }
    let span = match (p.sessions[0].date, p.sessions[p.sessions.len() - 1].date) {
        (Some(first), Some(last)) => format!("{first} to {last}, {} days", (last - first).whole_days()),
        _ => "not dated: cannot be booked yet".into(),
    };
    w.heading(&format!(
        "Sessions ({} sessions, {:.2} h in all, {span})",
        p.sessions.len(),
        p.total_hours,
    ));
    let rows: Vec<Vec<String>> = p
        .sessions
        .iter()
        .map(|s| {
            let part = s
                .part
                .map(|[i, n]| format!(" (part {i} of {n})"))
                .unwrap_or_default();
            vec![
                s.index.to_string(),
                day_and_time(s.date, &s.start_time),
                format!("{:.2} h", s.duration_hours),
                format!("{:?}{part}", s.purpose).to_lowercase(),
                format!("{:.0}%", s.density_fraction * 100.0),
                thousands(s.estimated_dots),
                s.needle.clone(),
                format!("{:.0}% water ({})", s.pigment_dilution * 100.0, s.pigment_shade),
            ]
        })
        .collect();
    w.table(
        &[
            "#", "date", "length", "purpose", "density", "dots", "needle", "mix",
        ],
        &rows,
    );
    for s in &p.sessions {
        let zones: Vec<String> = s
            .zones
            .iter()
            .map(|z| {
                format!(
                    "{} {} dots ({}, {:.0}% water)",
                    z.label,
                    thousands(z.dots),
                    z.needle,
                    z.pigment_dilution * 100.0
                )
            })
            .collect();
        w.bullet(&format!(
            "Session {}: {}. {}.",
            s.index,
            s.purpose_text,
            zones.join("; ")
        ));
    }
}

fn day_and_time(date: Option<time::Date>, start_time: &str) -> String {
    match date {
        Some(d) => format!("{} {d} {start_time}", &d.weekday().to_string()[..3]),
        None => "not dated".into(),
    }
}

fn patch_test(w: &mut Writer, p: &Plan) {
    let Some(v) = &p.patch_test else { return };
    w.heading("Patch test before session 1");
    w.line(&format!(
        "{}: {} ({:.2} h). Session 1 at least {} days later, when the test is read. Asked for by {}. Source: {}.",
        day_and_time(v.date, &v.start_time),
        v.text,
        v.duration_hours,
        v.days_before_first_session,
        v.rules.join(", "),
        v.source
    ));
}

fn precare(w: &mut Writer, p: &Plan) {
    if p.precare.is_empty() || p.sessions.is_empty() {
        return;
    }
    w.heading("Before every session");
    let rows: Vec<Vec<String>> = p
        .precare
        .iter()
        .map(|i| {
            let when = match i.hours_before {
                0 => "that day".to_string(),
                h if h % 24 == 0 && h > 48 => format!("from {} days before", h / 24),
                h => format!("from {h} h before"),
            };
            vec![when, i.text.clone(), i.source.clone()]
        })
        .collect();
    w.table(&["when", "what", "source"], &rows);
}

fn aftercare(w: &mut Writer, p: &Plan) {
    if p.sessions.is_empty() {
        return;
    }
    w.heading("Aftercare after every session (day 0 is the session day)");
    let rows: Vec<Vec<String>> = p
        .aftercare
        .timeline
        .iter()
        .map(|s| {
            let days = if s.from_day == s.to_day {
                format!("day {}", s.from_day)
            } else {
                format!("days {}–{}", s.from_day, s.to_day)
            };
            let mut parts = Vec::new();
            if !s.expect.is_empty() {
                parts.push(format!("expect: {}", s.expect.join("; ")));
            }
            if !s.avoid.is_empty() {
                parts.push(format!("avoid: {}", s.avoid.join("; ")));
            }
            if !s.to_do.is_empty() {
                parts.push(format!("do: {}", s.to_do.join("; ")));
            }
            vec![days, parts.join(" · ")]
        })
        .collect();
    w.table(&["when", "what"], &rows);
}

fn fading(w: &mut Writer, p: &Plan) {
    let (Some(f), Some(q)) = (&p.fading, &p.quote) else {
        return;
    };
    w.heading("How long it lasts");
    w.line(&format!(
        "A touch-up is due about {:.1} years after the last session{}{}.",
        q.touch_up.years_after_last_session,
        q.touch_up.due_date.map(|d| format!(": {d}")).unwrap_or_default(),
        f.scar_years_to_touch_up
            .map(|s| format!(
                " (scar zones fade faster: {s:.1} years; elsewhere {:.1})",
                f.years_to_touch_up
            ))
            .unwrap_or_default()
    ));
    let strengths: Vec<String> = f
        .strength
        .iter()
        .map(|s| format!("{} y {:.0}%", s.years, s.strength * 100.0))
        .collect();
    w.line(&format!(
        "Visible strength without a touch-up: {}.",
        strengths.join(", ")
    ));
}

fn quote(w: &mut Writer, p: &Plan) {
    let Some(q) = &p.quote else { return };
    let mode = match q.mode {
        PricingMode::PerSession => "per session",
        PricingMode::PerRegion => "per region of the head",
        PricingMode::Package => "package",
        PricingMode::ByStage => "package by stage",
    };
    let mut title = format!("Quote ({}, {mode}", q.currency);
    if let Some(stage) = &q.priced_stage {
        title.push_str(&format!(" ({stage})"));
    }
    if (q.regional_factor - 1.0).abs() > 1e-9 {
        title.push_str(&format!(", {} ×{}", q.location, q.regional_factor));
    }
    if (q.scar_factor - 1.0).abs() > 1e-9 {
        title.push_str(&format!(", scars ×{}", q.scar_factor));
    }
    title.push(')');
    w.heading(&title);
    let mut rows: Vec<Vec<String>> = q
        .per_session
        .iter()
        .map(|s| {
            vec![
                format!("Session {}", s.index),
                s.date.map_or_else(|| "not dated".into(), |d| d.to_string()),
                money(s.amount, &q.currency),
            ]
        })
        .collect();
    rows.push(vec!["Total".into(), String::new(), money(q.total, &q.currency)]);
    rows.push(match q.deposit {
        Some(d) => vec![
            "Deposit to book".into(),
            format!("cancel free up to {} h before", q.cancellation_hours),
            money(d, &q.currency),
        ],
        None => vec![
            "Deposit to book".into(),
            "none: the plan cannot be booked yet".into(),
            "—".into(),
        ],
    });
    rows.push(vec![
        "Touch-up".into(),
        q.touch_up
            .due_date
            .map_or_else(|| "due after the last session".into(), |d| format!("due {d}")),
        money(q.touch_up.price, &q.currency),
    ]);
    w.table(&["", "", "amount"], &rows);
}
