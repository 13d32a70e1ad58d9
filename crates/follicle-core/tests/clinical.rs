//! The clinical corrections (DOMAIN §9): verdict rules, pre-care and the patch-test visit, short
//! sessions, and prices by location. One `check` helper per topic; each case is one line of data.

use follicle_core::settings::{PricingMode, RuleOutcome};
use follicle_core::{Plan, Settings, Verdict};
use time::macros::date;

use super::{MINIMAL, plan_text};

/// The minimal client file with `replace` pairs applied and `extra` appended.
fn client(replace: &[(&str, &str)], extra: &str) -> String {
    let mut text = MINIMAL.to_string();
    for (from, to) in replace {
        assert!(text.contains(from), "test bug: {from:?} is not in the file");
        text = text.replacen(from, to, 1);
    }
    text + extra
}

fn planned(text: &str, settings: &Settings) -> Plan {
    plan_text(text, settings).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

// ---- Verdicts ----

/// What a verdict case expects.
#[derive(Clone, Copy)]
struct Expect<'a> {
    verdict: Verdict,
    /// Rule ids that must be among the reasons (with their outcome).
    rules: &'a [(&'a str, RuleOutcome)],
    /// Fields the assessment must ask for (exactly these).
    asks: &'a [&'a str],
    /// Whether the sessions carry dates and the quote a deposit.
    dated: bool,
    /// The deferral's end, when it has one.
    until: Option<time::Date>,
}

fn check_verdict(name: &str, text: &str, clinic: &str, want: Expect<'_>) {
    let settings = Settings::with_overrides(clinic).unwrap();
    let p = planned(text, &settings);
    let e = &p.assessment.eligibility;
    assert_eq!(e.verdict, want.verdict, "{name}: {:#?}", e.reasons);
    for (rule, outcome) in want.rules {
        let r = e.reasons.iter().find(|r| r.rule == *rule);
        assert_eq!(
            r.map(|r| r.outcome),
            Some(*outcome),
            "{name}: rule {rule} in {:#?}",
            e.reasons
        );
    }
    let asked: Vec<&str> = e.questions.iter().map(|q| q.field.as_str()).collect();
    assert_eq!(asked, want.asks, "{name}: questions");
    assert_eq!(e.defer_until, want.until, "{name}: defer_until");
    assert!(!p.sessions.is_empty(), "{name}: the sessions are still planned");
    let q = p.quote.as_ref().unwrap();
    assert_eq!(p.provisional, !want.dated, "{name}: provisional");
    for s in &p.sessions {
        assert_eq!(s.date.is_some(), want.dated, "{name}: session {} date", s.index);
    }
    assert_eq!(q.deposit.is_some(), want.dated, "{name}: deposit");
    assert_eq!(q.touch_up.due_date.is_some(), want.dated, "{name}: touch-up date");
    if !want.dated {
        assert!(
            p.notes
                .iter()
                .any(|n| n.contains("No session dates and no deposit")),
            "{name}: the plan says why: {:?}",
            p.notes
        );
    }
    if let Some(until) = want.until {
        assert!(
            p.sessions[0].date.unwrap() >= until,
            "{name}: session 1 after the deferral"
        );
    }
}

const AREATA: (&str, &str) = (
    "scale = \"norwood\"\nstage = \"V\"",
    "scale = \"alopecia_areata\"\naffected_percent = 30",
);
const PROCEED: Expect<'static> = Expect {
    verdict: Verdict::Proceed,
    rules: &[],
    asks: &[],
    dated: true,
    until: None,
};

#[test]
fn alopecia_areata_waits_until_stable() {
    use RuleOutcome::Defer;
    let rule = [("alopecia-areata-not-stable", Defer)];
    let open = Expect {
        verdict: Verdict::Defer,
        rules: &rule,
        asks: &[],
        dated: false,
        until: None,
    };
    check_verdict(
        "progressing",
        &client(&[AREATA], "").replace(
            "affected_percent = 30",
            "affected_percent = 30\nprogressing = true",
        ),
        "",
        open,
    );
    check_verdict(
        "stability unknown: asked, and deferred without an end",
        &client(&[AREATA], ""),
        "",
        Expect {
            asks: &["hair_loss.stable_since"],
            ..open
        },
    );
    check_verdict(
        "stable 4 months: deferred to 12 months after",
        &client(&[AREATA], "").replace(
            "affected_percent = 30",
            "affected_percent = 30\nstable_since = 2026-07-01",
        ),
        "",
        Expect {
            dated: true,
            until: Some(date!(2027 - 07 - 01)),
            ..open
        },
    );
    check_verdict(
        "stable 14 months",
        &client(&[AREATA], "").replace(
            "affected_percent = 30",
            "affected_percent = 30\nstable_since = 2025-09-01",
        ),
        "",
        PROCEED,
    );
    check_verdict(
        "a clinic that waits 6 months",
        &client(&[AREATA], "").replace(
            "affected_percent = 30",
            "affected_percent = 30\nstable_since = 2026-04-01",
        ),
        "[[eligibility.rules]]\nid = \"alopecia-areata-not-stable\"\nwhen = { hair_loss = [\"alopecia_areata\"], stable_less_than_days = 182 }\n",
        PROCEED,
    );
    check_verdict(
        "a clinic that designs for the whole scalp instead",
        &client(&[AREATA], ""),
        "[[eligibility.rules]]\nid = \"alopecia-areata-not-stable\"\ndisabled = true\n",
        PROCEED,
    );
    check_verdict("Norwood loss is not asked about stability", MINIMAL, "", PROCEED);
}

#[test]
fn psoriasis_needs_a_dermatologist_and_warns_of_koebner() {
    let active = [("active-psoriasis", RuleOutcome::DoctorClearance)];
    check_verdict(
        "active psoriasis",
        &client(&[], "[medical]\nconditions = [\"psoriasis_active\"]\n"),
        "",
        Expect {
            verdict: Verdict::ProceedWithConditions,
            rules: &active,
            ..PROCEED
        },
    );
    let settings = Settings::default();
    for (condition, rule) in [
        ("psoriasis_active", "active-psoriasis"),
        ("psoriasis", "psoriasis-koebner"),
    ] {
        let p = planned(
            &client(&[], &format!("[medical]\nconditions = [\"{condition}\"]\n")),
            &settings,
        );
        let reason = p
            .assessment
            .eligibility
            .reasons
            .iter()
            .find(|r| r.rule == rule)
            .unwrap();
        assert!(
            reason.message.contains("Koebner"),
            "{condition}: {}",
            reason.message
        );
    }
}

#[test]
fn dark_skin_asks_about_keloids_and_hyperpigmentation_and_books_a_test_patch() {
    use RuleOutcome::{Caution, NotSuitable, PatchTest};
    let v = client(&[("fitzpatrick = \"III\"", "fitzpatrick = \"V\"")], "");
    let patch = [("fitzpatrick-v-vi-test-patch", PatchTest)];
    let with_conditions = Expect {
        verdict: Verdict::ProceedWithConditions,
        rules: &patch,
        ..PROCEED
    };
    check_verdict(
        "type V, not asked yet",
        &v,
        "",
        Expect {
            asks: &["skin.keloid_history", "skin.hyperpigmentation_history"],
            ..with_conditions
        },
    );
    let answered = |k: bool, h: bool| {
        client(&[("fitzpatrick = \"III\"", "fitzpatrick = \"VI\"")], "").replace(
            "[hair]",
            &format!("keloid_history = {k}\nhyperpigmentation_history = {h}\n\n[hair]"),
        )
    };
    check_verdict(
        "type VI, both answered no",
        &answered(false, false),
        "",
        with_conditions,
    );
    let marks = [
        ("fitzpatrick-v-vi-test-patch", PatchTest),
        ("hyperpigmentation-history", Caution),
    ];
    check_verdict(
        "type VI with dark marks",
        &answered(false, true),
        "",
        Expect {
            rules: &marks,
            ..with_conditions
        },
    );
    let p = planned(&answered(true, false), &Settings::default());
    let e = &p.assessment.eligibility;
    assert_eq!(e.verdict, Verdict::NotSuitable);
    assert!(
        e.reasons
            .iter()
            .any(|r| r.rule == "keloid-history" && r.outcome == NotSuitable)
    );
    assert!(p.sessions.is_empty() && p.patch_test.is_none());
    // Types I–IV are not asked and get no test patch.
    for n in ["I", "II", "III", "IV"] {
        let text = client(
            &[("fitzpatrick = \"III\"", &format!("fitzpatrick = \"{n}\""))],
            "",
        );
        check_verdict(&format!("type {n}"), &text, "", PROCEED);
    }
}

/// A scar-only client with one injury scar, `when` its date or age line (or nothing).
fn scar_client(length_mm: u32, width_mm: u32, when: &str) -> String {
    client(
        &[
            ("scale = \"norwood\"\nstage = \"V\"", "scale = \"none\""),
            ("aims = [\"full_coverage\"]", "aims = [\"scar_camouflage\"]"),
        ],
        &format!(
            "\n[[scars]]\nkind = \"injury\"\nsite = \"crown\"\nlength_mm = {length_mm}\nwidth_mm = {width_mm}\n{when}\n"
        ),
    )
}

#[test]
fn immature_scars_wait_and_unknown_ages_are_asked() {
    let rule = [("immature-scar", RuleOutcome::Defer)];
    let deferred = Expect {
        verdict: Verdict::Defer,
        rules: &rule,
        asks: &[],
        dated: true,
        until: None,
    };
    check_verdict(
        "5-month-old scar",
        &scar_client(30, 20, "date = 2026-06-21"),
        "",
        Expect {
            until: Some(date!(2027 - 06 - 21)),
            ..deferred
        },
    );
    check_verdict(
        "8 months by age_months",
        &scar_client(30, 20, "age_months = 8"),
        "",
        Expect {
            until: Some(date!(2027 - 03 - 21)),
            ..deferred
        },
    );
    check_verdict(
        "age unknown",
        &scar_client(30, 20, ""),
        "",
        Expect {
            asks: &["scars[0].date"],
            dated: false,
            ..deferred
        },
    );
    check_verdict(
        "two years old",
        &scar_client(30, 20, "age_months = 24"),
        "",
        PROCEED,
    );
    check_verdict(
        "a clinic that accepts 6-month-old scars",
        &scar_client(30, 20, "age_months = 8"),
        "[[eligibility.rules]]\nid = \"immature-scar\"\nwhen = { scar_age_below_days = 182 }\n",
        PROCEED,
    );
}

// ---- Pre-care and the patch-test visit ----

/// Pre-care ids expected in the plan, and the patch-test visit's date (or none) with session 1's.
fn check_before(
    name: &str,
    text: &str,
    clinic: &str,
    precare: &[&str],
    patch: Option<(time::Date, time::Date)>,
) {
    let settings = Settings::with_overrides(clinic).unwrap();
    let p = planned(text, &settings);
    let ids: Vec<&str> = p.precare.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, precare, "{name}: pre-care");
    for item in &p.precare {
        assert!(
            !item.source.is_empty() && !item.text.is_empty(),
            "{name}: {}",
            item.id
        );
    }
    let got = p
        .patch_test
        .as_ref()
        .map(|v| (v.date.unwrap(), p.sessions[0].date.unwrap()));
    assert_eq!(got, patch, "{name}: patch test and session 1");
    if let (Some(v), Some((test, first))) = (&p.patch_test, got) {
        assert!(
            (first - test).whole_days() >= i64::from(v.days_before_first_session),
            "{name}: the test is read at session 1"
        );
        assert!(!v.rules.is_empty());
    }
}

const PRECARE: [&str; 6] = [
    "no-sunburn",
    "no-alcohol",
    "no-blood-thinning-otc",
    "shave",
    "wash",
    "eat",
];

#[test]
fn precare_and_patch_test_visits() {
    check_before("no rule asks for a test", MINIMAL, "", &PRECARE, None);
    let reaction = client(&[], "[medical]\nconditions = [\"pigment_reaction_history\"]\n");
    // 2026-12-01 is a Tuesday: the test that day, session 1 fourteen days later (a Tuesday).
    check_before(
        "earlier pigment reaction",
        &reaction,
        "",
        &PRECARE,
        Some((date!(2026 - 12 - 01), date!(2026 - 12 - 15))),
    );
    check_before(
        "Fitzpatrick VI, a clinic that reads the test after 7 days",
        &client(&[("fitzpatrick = \"III\"", "fitzpatrick = \"VI\"")], ""),
        "[patch_test]\ndays_before_first_session = 7\n",
        &PRECARE,
        Some((date!(2026 - 12 - 01), date!(2026 - 12 - 08))),
    );
    let minoxidil = client(&[], "[medical]\nmedications = [{ name = \"minoxidil\" }]\n");
    check_before(
        "minoxidil users stop it 3 days before",
        &minoxidil,
        "",
        &[
            "no-sunburn",
            "no-minoxidil",
            "no-alcohol",
            "no-blood-thinning-otc",
            "shave",
            "wash",
            "eat",
        ],
        None,
    );
    check_before(
        "a clinic without the meal item",
        MINIMAL,
        "[[precare.items]]\nid = \"eat\"\ndisabled = true\n",
        &PRECARE[..5],
        None,
    );
    // A test patch that cannot be booked has no date either.
    let p = planned(
        &client(&[AREATA, ("fitzpatrick = \"III\"", "fitzpatrick = \"V\"")], ""),
        &Settings::default(),
    );
    assert!(p.patch_test.as_ref().is_some_and(|v| v.date.is_none()));
}

// ---- Short sessions ----

/// A scar of `length × width` mm: each session's booked hours, and whether each is priced by them.
fn check_short(length_mm: u32, width_mm: u32, max_first_hours: f64) {
    let settings = Settings::default();
    let p = planned(&scar_client(length_mm, width_mm, "age_months = 24"), &settings);
    let s = &settings.sessions;
    let pr = &settings.pricing;
    let q = p.quote.as_ref().unwrap();
    assert_eq!(q.mode, PricingMode::PerSession);
    for (session, price) in p.sessions.iter().zip(&q.per_session) {
        let work = session.estimated_dots as f64 / s.dots_per_hour
            + s.setup_hours
            + if session.index == 1 {
                s.first_session_design_hours
            } else {
                0.0
            };
        let steps = session.duration_hours / s.slot_step_hours;
        assert!(
            (steps - steps.round()).abs() < 1e-9,
            "a whole number of slot steps"
        );
        assert!(session.duration_hours >= work - 1e-9, "the slot holds the work");
        assert!(
            session.duration_hours < work.max(s.min_hours) + s.slot_step_hours,
            "{length_mm}×{width_mm}: session {} booked {} h for {work:.2} h",
            session.index,
            session.duration_hours
        );
        let by_hours = (pr.session_fee + pr.hourly_rate * session.duration_hours) * pr.scar_factor;
        assert!((price.amount as f64 - by_hours).abs() <= f64::from(pr.round_to) / 2.0);
    }
    assert!(
        p.sessions[0].duration_hours <= max_first_hours,
        "{:?}",
        p.sessions[0]
    );
}

#[test]
fn short_sessions_follow_the_work() {
    // 30 × 20 mm with a 5 mm margin: 12 cm², 1,200 dots over three sessions.
    check_short(30, 20, 1.25);
    check_short(10, 5, 1.25);
    check_short(120, 30, 2.0);
    // A 12 cm² scar costs less than a 2-hour session would.
    let settings = Settings::default();
    let p = planned(&scar_client(30, 20, "age_months = 24"), &settings);
    let pr = &settings.pricing;
    let two_hours = ((pr.session_fee + pr.hourly_rate * 2.0) * pr.scar_factor) as i64;
    assert!(p.quote.unwrap().per_session.iter().all(|s| s.amount < two_hours));
}

// ---- Prices by location ----

/// A client at `location` with `stage`: the total must lie in `range`, the deposit and touch-up
/// within the location's bounds, in its currency.
fn check_price(location: &str, stage: &str, range: (i64, i64)) {
    let settings = Settings::default();
    let text = client(
        &[("stage = \"V\"", &format!("stage = \"{stage}\""))],
        &format!("\n[pricing]\nlocation = \"{location}\"\n"),
    );
    let p = planned(&text, &settings);
    let q = p.quote.as_ref().unwrap();
    let loc = settings.location(location).unwrap();
    assert_eq!(q.currency, loc.currency);
    assert!(
        (range.0..=range.1).contains(&q.total),
        "{location} Norwood {stage}: {} {} not in {range:?} ({} cm²)",
        q.currency,
        q.total,
        p.assessment.treated_area_cm2
    );
    assert_eq!(q.total, q.per_session.iter().map(|s| s.amount).sum::<i64>());
    let pr = &settings.pricing;
    let deposit_cap = loc.deposit.unwrap_or(pr.deposit * loc.factor);
    let deposit = q.deposit.unwrap();
    assert!(
        deposit > 0 && deposit as f64 <= deposit_cap,
        "deposit {deposit} > {deposit_cap}"
    );
    let lo = loc.touch_up_min.unwrap_or(pr.touch_up_min * loc.factor);
    let hi = loc.touch_up_max.unwrap_or(pr.touch_up_max * loc.factor);
    let t = q.touch_up.price as f64;
    assert!(lo <= t && t <= hi, "touch-up {t} outside {lo}–{hi}");
}

#[test]
fn uk_prices_by_stage_fall_in_the_domain_ranges() {
    // DOMAIN §2: Norwood 2–3 £400–850, 4–5 £850–1,500, 6–7 £1,500–2,500 (Norwood I in the lowest band).
    for stage in ["I", "II", "IIa", "III", "IIIa", "III-vertex"] {
        check_price("uk", stage, (400, 850));
    }
    for stage in ["IV", "IVa", "V", "Va"] {
        check_price("uk", stage, (850, 1500));
    }
    for stage in ["VI", "VII"] {
        check_price("uk", stage, (1500, 2500));
    }
}

#[test]
fn deposits_and_touch_ups_follow_the_location() {
    // Caps that rounding to tens would break: 100 × 1.35 = 135 and 500 × 1.35 = 675 round up to 140 and 680.
    for location in ["standard", "us-manhattan", "us-midwest", "uk"] {
        for stage in ["II", "V", "VII"] {
            check_price(location, stage, (1, 1_000_000));
        }
    }
    // A touch-up share large enough that the cap binds whatever the measured area costs.
    let settings = Settings::with_overrides("[pricing]\ntouch_up_fraction = 0.5\n").unwrap();
    let text = client(
        &[("stage = \"V\"", "stage = \"VII\"")],
        "\n[pricing]\nlocation = \"us-manhattan\"\n",
    );
    let q = planned(&text, &settings).quote.unwrap();
    assert!(
        q.total as f64 * 0.5 > 675.0,
        "the cap must bind: total {}",
        q.total
    );
    assert_eq!((q.deposit, q.touch_up.price), (Some(130), 670));
    // A location's own figures: per-session rates used as given, not scaled by its factor.
    let clinic = "[[pricing.locations]]\nid = \"eu\"\nfactor = 2.0\ncurrency = \"EUR\"\nsession_fee = 100\nhourly_rate = 100\ndeposit = 50\ntouch_up_min = 100\ntouch_up_max = 120\n";
    let settings = Settings::with_overrides(clinic).unwrap();
    let p = planned(&client(&[], "\n[pricing]\nlocation = \"eu\"\n"), &settings);
    let q = p.quote.as_ref().unwrap();
    assert_eq!(q.currency, "EUR");
    for (s, price) in p.sessions.iter().zip(&q.per_session) {
        // Rounded half up to the clinic's 10.
        assert_eq!(
            price.amount,
            ((100.0 + 100.0 * s.duration_hours) / 10.0 + 0.5).floor() as i64 * 10
        );
    }
    assert_eq!(q.deposit, Some(50));
    assert!((100..=120).contains(&q.touch_up.price));
    // Stages without a stage price fall back to per-session pricing in the location's currency.
    let p = planned(
        &client(&[AREATA], "\n[pricing]\nlocation = \"uk\"\n"),
        &Settings::default(),
    );
    let q = p.quote.as_ref().unwrap();
    assert_eq!(
        (q.mode, q.currency.as_str(), q.priced_stage.as_deref()),
        (PricingMode::PerSession, "GBP", None)
    );
    let p = planned(
        &client(&[], "\n[pricing]\nlocation = \"uk\"\n"),
        &Settings::default(),
    );
    let q = p.quote.as_ref().unwrap();
    assert_eq!(
        (q.mode, q.priced_stage.as_deref()),
        (PricingMode::ByStage, Some("norwood V"))
    );
}

// ---- Bad clinic settings for the new figures ----

/// A clinic file with a mistake: the error names the field (in the clinic file), its line and what is allowed.
fn check_setting(clinic: &str, field: &str, line: usize, says: &[&str]) {
    let err = Settings::with_overrides(clinic).unwrap_err();
    assert_eq!(err.field, field, "{err}");
    assert_eq!(err.location.map(|l| l.line), Some(line), "{err}");
    for s in says {
        assert!(err.message.contains(s), "{err}: expected {s:?}");
    }
}

#[test]
fn bad_clinical_settings_are_named() {
    check_setting(
        "[[eligibility.rules]]\nid = \"x\"\nwhen = { answer = \"tattoo_history\" }\noutcome = \"caution\"\nmessage = \"m\"\nsource = \"s\"\n",
        "eligibility.rules[0].when.answer",
        3,
        &["keloid_history", "tattoo_history"],
    );
    check_setting(
        "[[eligibility.rules]]\nid = \"immature-scar\"\nwhen = { scar_age_below_days = 0 }\n",
        "eligibility.rules[0].when.scar_age_below_days",
        3,
        &["1–3650", "got 0"],
    );
    check_setting(
        "[sessions]\nslot_step_hours = 0\n",
        "sessions.slot_step_hours",
        2,
        &["0.05–2", "got 0"],
    );
    check_setting(
        "[[precare.items]]\nid = \"x\"\nhours_before = 1000\ntext = \"t\"\nsource = \"s\"\n",
        "precare.items[0].hours_before",
        3,
        &["0–720", "1000"],
    );
    check_setting(
        "[patch_test]\ndays_before_first_session = 0\n",
        "patch_test.days_before_first_session",
        2,
        &["1–90", "got 0"],
    );
    check_setting(
        "[[pricing.locations]]\nid = \"uk\"\nstage_prices.norwood = { VIII = 3000 }\n",
        "pricing.locations[0].stage_prices.norwood.VIII",
        3,
        &["III-vertex", "VIII"],
    );
    check_setting(
        "[[pricing.locations]]\nid = \"uk\"\ntouch_up_min = 300\n",
        "pricing.locations[0].touch_up_min",
        3,
        &["300 is above the touch-up maximum (250)"],
    );
}
