//! Property tests: generated client profiles never make the parser or planner panic, and every
//! plan keeps the invariants a clinic relies on.

use follicle_core::assess::BUILT_IN_RULES;
use follicle_core::{ClientProfile, Settings, assess, plan};
use proptest::prelude::*;
use time::Duration;

use super::TODAY;

const STAGES: [(&str, &str); 20] = [
    ("norwood", "I"),
    ("norwood", "II"),
    ("norwood", "IIa"),
    ("norwood", "III"),
    ("norwood", "IIIa"),
    ("norwood", "III-vertex"),
    ("norwood", "IV"),
    ("norwood", "IVa"),
    ("norwood", "V"),
    ("norwood", "Va"),
    ("norwood", "VI"),
    ("norwood", "VII"),
    ("ludwig", "I"),
    ("ludwig", "III"),
    ("savin", "II-2"),
    ("savin", "frontal"),
    ("diffuse", ""),
    ("alopecia_totalis", ""),
    ("alopecia_areata", "%"),
    ("scarring_alopecia", "%"),
];

const CONDITIONS: [&str; 6] = [
    "keloid",
    "sunburn",
    "epilepsy",
    "pigment_reaction_history",
    "hiv",
    "bleeding_disorder",
];

/// A client file from generated parts (always well-formed TOML; values may be out of range).
#[allow(clippy::too_many_arguments)]
fn client_file(
    age: i64,
    sex: bool,
    fitz: i64,
    stage: usize,
    affected: f64,
    aims: usize,
    scar: Option<(f64, f64)>,
    fue: Option<i64>,
    conditions: Vec<usize>,
    transplant_days_ago: Option<i64>,
    circumference: f64,
    progressing: bool,
) -> String {
    let (scale, stage) = STAGES[stage];
    let stage_line = match stage {
        "" => String::new(),
        // Stable for long enough when not progressing (the fut_strip scar below is dated, FUE scars are not),
        // so both dated and undated plans are generated.
        "%" if !progressing => format!("affected_percent = {affected}\nstable_since = 2025-01-01\n"),
        "%" => format!("affected_percent = {affected}\n"),
        s => format!("stage = \"{s}\"\n"),
    };
    let aims = [
        "[\"full_coverage\"]",
        "[\"density\"]",
        "[\"full_coverage\", \"scar_camouflage\"]",
        "[\"density\", \"scar_camouflage\"]",
        "[\"scar_camouflage\"]",
    ][aims];
    let mut text = format!(
        "[client]\nage = {age}\nsex = \"{}\"\n[skin]\nfitzpatrick = {fitz}\n[hair]\ncolour = \"brown\"\n[hair_loss]\nscale = \"{scale}\"\n{stage_line}progressing = {progressing}\n[goal]\naims = {aims}\n[head]\ncircumference_cm = {circumference}\n",
        if sex { "male" } else { "female" }
    );
    if let Some((l, w)) = scar {
        text += &format!(
            "[[scars]]\nkind = \"fut_strip\"\nsite = \"occipital\"\nlength_mm = {l}\nwidth_mm = {w}\nage_months = 24\n"
        );
    }
    if let Some(n) = fue {
        text += &format!("[[scars]]\nkind = \"fue\"\nsite = \"donor\"\ncount = {n}\n");
    }
    let conds: Vec<String> = conditions
        .iter()
        .map(|i| format!("\"{}\"", CONDITIONS[*i]))
        .collect();
    text += &format!("[medical]\nconditions = [{}]\n", conds.join(", "));
    if let Some(days) = transplant_days_ago {
        let d = TODAY - Duration::days(days);
        text += &format!("events = [{{ kind = \"hair_transplant\", date = {d} }}]\n");
    }
    text
}

fn arb_client() -> impl Strategy<Value = String> {
    (
        (
            -5i64..130,
            any::<bool>(),
            -1i64..9,
            0usize..STAGES.len(),
            -10.0f64..120.0,
            0usize..5,
        ),
        (
            proptest::option::of((0.0f64..500.0, 0.0f64..40.0)),
            proptest::option::of(-5i64..12_000),
            proptest::collection::btree_set(0usize..CONDITIONS.len(), 0..3),
            proptest::option::of(-30i64..800),
            35.0f64..75.0,
            any::<bool>(),
        ),
    )
        .prop_map(
            |((age, sex, fitz, stage, affected, aims), (scar, fue, conds, tx, circ, prog))| {
                client_file(
                    age,
                    sex,
                    fitz,
                    stage,
                    affected,
                    aims,
                    scar,
                    fue,
                    conds.into_iter().collect(),
                    tx,
                    circ,
                    prog,
                )
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Any text at all: an error or a profile, never a panic.
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let _ = ClientProfile::from_toml(&text, &Settings::default(), TODAY);
    }

    /// Generated profiles: valid ones plan within every invariant; invalid ones name a field.
    #[test]
    fn plans_keep_their_invariants(text in arb_client()) {
        let settings = Settings::default();
        let profile = match ClientProfile::from_toml(&text, &settings, TODAY) {
            Ok(p) => p,
            Err(e) => {
                prop_assert!(!e.field.is_empty() && !e.message.is_empty(), "{e}");
                prop_assert!(e.location.is_some(), "an error in a file has a line: {e}");
                return Ok(());
            }
        };
        let a = assess(&profile, &settings, TODAY);
        let start = time::macros::date!(2026 - 12 - 01);
        let p = plan(&a, &settings, start);

        // Every reason is tied to a rule that exists.
        for r in a.eligibility.reasons.iter().chain(&a.approach.reasons) {
            let known = settings.rule(&r.rule).is_some() || BUILT_IN_RULES.iter().any(|(id, _)| *id == r.rule);
            prop_assert!(known, "reason from unknown rule {}", r.rule);
        }
        let iv = &settings.intervals;
        let ss = &settings.sessions;
        for (i, s) in p.sessions.iter().enumerate() {
            // Session lengths within the settings: whole slot steps, at least the shortest slot.
            prop_assert!(s.duration_hours <= ss.max_hours + 1e-9, "session {} is {} h", s.index, s.duration_hours);
            prop_assert!(s.duration_hours >= ss.min_hours - 1e-9);
            let steps = s.duration_hours / ss.slot_step_hours;
            prop_assert!((steps - steps.round()).abs() < 1e-6, "{} h is not whole slots", s.duration_hours);
            prop_assert_eq!(s.index, i + 1);
            // A plan without a known end of its deferral has no dates at all.
            prop_assert_eq!(s.date.is_none(), p.provisional);
            let Some(date) = s.date else { continue };
            prop_assert!(date >= start);
            // Intervals at least the healing minimum.
            if i > 0 {
                let gap = (date - p.sessions[i - 1].date.unwrap()).whole_days();
                prop_assert!(gap >= i64::from(iv.minimum_days), "gap of {gap} days before session {}", s.index);
            }
            // Never more than the yearly cap in any 12 months.
            let cap = iv.max_sessions_per_12_months as usize;
            if i >= cap {
                prop_assert!((date - p.sessions[i - cap].date.unwrap()).whole_days() >= 365);
            }
            prop_assert!((0.0..=1.0).contains(&s.pigment_dilution));
            prop_assert!(s.density_fraction > 0.0 && s.density_fraction <= 1.0);
        }
        if let Some(q) = &p.quote {
            prop_assert_eq!(q.total, q.per_session.iter().map(|s| s.amount).sum::<i64>());
            prop_assert_eq!(q.deposit.is_none(), p.provisional, "no deposit without dates");
            prop_assert!(q.deposit.unwrap_or(0) <= q.total);
            prop_assert!(q.deposit.unwrap_or(0) as f64 <= settings.pricing.deposit + 1e-9);
            prop_assert!(q.touch_up.price as f64 >= settings.pricing.touch_up_min - 1e-9);
            prop_assert!(q.touch_up.price as f64 <= settings.pricing.touch_up_max + 1e-9);
            if let (Some(due), Some(last)) = (q.touch_up.due_date, p.sessions.last().and_then(|s| s.date)) {
                prop_assert!(due > last);
            }
        }
        // A patch-test visit comes early enough to be read at session 1.
        if let (Some(v), Some(first)) = (&p.patch_test, p.sessions.first().and_then(|s| s.date)) {
            let test = v.date.unwrap();
            prop_assert!(test >= start);
            prop_assert!((first - test).whole_days() >= i64::from(v.days_before_first_session));
        }
        if a.eligibility.verdict == follicle_core::Verdict::NotSuitable {
            prop_assert!(p.sessions.is_empty());
        }
    }

    /// A bigger head (more area to treat) never costs less, in every pricing mode and location.
    #[test]
    fn price_rises_with_area(stage in 0usize..12, small in 45.0f64..60.0, extra in 0.5f64..10.0, mode in 0usize..4, location in 0usize..3) {
        let mode = ["per_session", "per_region", "package", "by_stage"][mode];
        let location = ["standard", "uk", "us-manhattan"][location];
        let settings = Settings::with_overrides(&format!("[pricing]\nmode = \"{mode}\"\n")).unwrap();
        let total = |circ: f64| {
            let text = client_file(40, true, 3, stage, 0.0, 0, None, None, vec![], None, circ, false)
                + &format!("[pricing]\nlocation = \"{location}\"\n");
            let profile = ClientProfile::from_toml(&text, &settings, TODAY).unwrap();
            let a = assess(&profile, &settings, TODAY);
            (a.treated_area_cm2, plan(&a, &settings, TODAY).quote.map_or(0, |q| q.total))
        };
        let (area_small, price_small) = total(small);
        let (area_big, price_big) = total((small + extra).min(70.0));
        prop_assert!(area_big >= area_small);
        prop_assert!(price_big >= price_small, "{mode}: {area_small} cm² → {price_small}, {area_big} cm² → {price_big}");
    }
}
