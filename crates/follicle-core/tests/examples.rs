//! Every example client file gives the verdict and shape of plan its comment describes.

use std::path::PathBuf;

use follicle_core::settings::RuleOutcome;
use follicle_core::{Settings, Verdict, ZoneKind};

use super::plan_text;

fn example(name: &str) -> String {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "..",
        "examples",
        "clients",
        name,
    ]
    .iter()
    .collect();
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One example: verdict, rule ids that must be among the reasons, number of sessions.
fn check(name: &str, verdict: Verdict, rules: &[&str], sessions: usize) {
    let settings = Settings::default();
    let plan = plan_text(&example(name), &settings).unwrap_or_else(|e| panic!("{name}: {e}"));
    let e = &plan.assessment.eligibility;
    assert_eq!(e.verdict, verdict, "{name}: {:#?}", e.reasons);
    let ids: Vec<&str> = e.reasons.iter().map(|r| r.rule.as_str()).collect();
    for rule in rules {
        assert!(ids.contains(rule), "{name}: expected rule {rule} among {ids:?}");
    }
    assert_eq!(plan.sessions.len(), sessions, "{name}");
}

#[test]
fn every_example_file_is_covered() {
    let dir: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "..", "examples", "clients"]
        .iter()
        .collect();
    let files = std::fs::read_dir(dir).unwrap().count();
    assert_eq!(files, 10, "a new example needs a check() below");
}

#[test]
fn norwood_3_hairline() {
    check("norwood-3-hairline.toml", Verdict::Proceed, &[], 3);
}

#[test]
fn norwood_7_full_coverage() {
    check("norwood-7-full-coverage.toml", Verdict::Proceed, &[], 3);
}

#[test]
fn ludwig_2_diffuse() {
    check("ludwig-2-diffuse.toml", Verdict::Proceed, &["minoxidil"], 3);
}

#[test]
fn fut_strip_scar() {
    check("fut-strip-scar.toml", Verdict::Proceed, &[], 3);
    let plan = plan_text(&example("fut-strip-scar.toml"), &Settings::default()).unwrap();
    assert!(
        plan.assessment.zones.iter().all(|z| z.zone == ZoneKind::Scar),
        "scar camouflage only treats the scar"
    );
}

#[test]
fn progressing_alopecia_areata_is_deferred_without_dates() {
    check(
        "alopecia-areata.toml",
        Verdict::Defer,
        &[
            "alopecia-areata-not-stable",
            "immune-disorder",
            "progressing-loss",
            "fitzpatrick-v-vi-test-patch",
            "dark-skin-contrast",
        ],
        4,
    );
    let plan = plan_text(&example("alopecia-areata.toml"), &Settings::default()).unwrap();
    assert!(plan.provisional);
    assert!(plan.sessions.iter().all(|s| s.date.is_none()));
    assert_eq!(plan.quote.as_ref().unwrap().deposit, None);
    let asked: Vec<&str> = plan
        .assessment
        .eligibility
        .questions
        .iter()
        .map(|q| q.field.as_str())
        .collect();
    assert_eq!(asked, ["skin.keloid_history", "skin.hyperpigmentation_history"]);
}

#[test]
fn norwood_5_uk_is_priced_by_stage() {
    check("norwood-5-uk.toml", Verdict::Proceed, &[], 3);
    let plan = plan_text(&example("norwood-5-uk.toml"), &Settings::default()).unwrap();
    let q = plan.quote.unwrap();
    assert_eq!(
        (q.currency.as_str(), q.priced_stage.as_deref()),
        ("GBP", Some("norwood V"))
    );
    assert!((850..=1500).contains(&q.total), "DOMAIN §2: {}", q.total);
}

#[test]
fn small_scar_on_dark_skin_has_a_patch_test_and_short_sessions() {
    check(
        "small-scar-dark-skin.toml",
        Verdict::ProceedWithConditions,
        &["fitzpatrick-v-vi-test-patch", "hyperpigmentation-history"],
        3,
    );
    let plan = plan_text(&example("small-scar-dark-skin.toml"), &Settings::default()).unwrap();
    assert!(
        plan.assessment.eligibility.questions.is_empty(),
        "both questions answered"
    );
    let visit = plan.patch_test.unwrap();
    assert_eq!(visit.date, Some(time::macros::date!(2026 - 12 - 01)));
    assert_eq!(plan.sessions[0].date, Some(time::macros::date!(2026 - 12 - 15)));
    assert_eq!(plan.assessment.treated_area_cm2, 12.0);
    assert!(
        plan.sessions.iter().all(|s| s.duration_hours < 2.0),
        "{:?}",
        plan.sessions
    );
}

#[test]
fn deferred_until_the_later_of_two_causes() {
    check(
        "deferred-isotretinoin.toml",
        Verdict::Defer,
        &["isotretinoin", "recent-hair-transplant"],
        3,
    );
    let plan = plan_text(&example("deferred-isotretinoin.toml"), &Settings::default()).unwrap();
    // Isotretinoin stopped 2026-09-15 + 180 days; the transplant 2026-06-02 + 240 days ends earlier.
    assert_eq!(
        plan.assessment
            .eligibility
            .defer_until
            .map(|d| d.to_string())
            .as_deref(),
        Some("2027-03-14")
    );
    assert!(plan.sessions[0].date.unwrap() >= time::macros::date!(2027 - 03 - 14));
}

#[test]
fn blood_thinners_need_clearance_and_scars_add_a_session() {
    check(
        "blood-thinners.toml",
        Verdict::ProceedWithConditions,
        &["blood-thinners", "heart-condition", "grey-hair"],
        4,
    );
    let plan = plan_text(&example("blood-thinners.toml"), &Settings::default()).unwrap();
    assert_eq!(
        plan.assessment.eligibility.conditions,
        vec![RuleOutcome::DoctorClearance]
    );
}

#[test]
fn keloid_is_not_suitable_and_gets_no_plan() {
    check("keloid-not-suitable.toml", Verdict::NotSuitable, &["keloid"], 0);
    let plan = plan_text(&example("keloid-not-suitable.toml"), &Settings::default()).unwrap();
    assert!(plan.quote.is_none());
}
