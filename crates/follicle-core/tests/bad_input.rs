//! Bad client files: every error names the field and the line, says what was given and what is allowed.

use follicle_core::Settings;

use super::{MINIMAL, plan_text};

/// Replaces `from` in the minimal client file by `to` (or appends `to` when `from` is empty),
/// and checks the error's field, line and message.
fn check(from: &str, to: &str, field: &str, line: Option<usize>, says: &[&str]) {
    let text = if from.is_empty() {
        format!("{MINIMAL}{to}")
    } else {
        assert!(
            MINIMAL.contains(from),
            "test bug: {from:?} is not in the minimal file"
        );
        MINIMAL.replacen(from, to, 1)
    };
    let err = match plan_text(&text, &Settings::default()) {
        Ok(_) => panic!("expected an error for {to:?}"),
        Err(e) => e,
    };
    assert_eq!(err.field, field, "{err}");
    assert_eq!(err.location.map(|l| l.line), line, "{err}");
    for s in says {
        assert!(err.message.contains(s), "{err}: expected {s:?}");
    }
}

#[test]
fn the_minimal_file_is_valid() {
    assert!(plan_text(MINIMAL, &Settings::default()).is_ok());
}

#[test]
fn out_of_range_values() {
    check(
        "fitzpatrick = \"III\"",
        "fitzpatrick = 7",
        "skin.fitzpatrick",
        Some(6),
        &["I–VI", "got 7"],
    );
    check(
        "fitzpatrick = \"III\"",
        "fitzpatrick = \"VIII\"",
        "skin.fitzpatrick",
        Some(6),
        &["I–VI", "VIII"],
    );
    check("age = 40", "age = 130", "client.age", Some(2), &["0–120", "130"]);
    check("age = 40", "age = -2", "client.age", Some(2), &["got -2"]);
    check(
        "",
        "[head]\ncircumference_cm = 12\n",
        "head.circumference_cm",
        Some(18),
        &["40–70", "12"],
    );
    check("", "[hair_loss2]\n", "hair_loss2", Some(17), &["unknown field"]);
}

#[test]
fn unknown_scales_and_stages() {
    check(
        "stage = \"V\"",
        "stage = \"IX\"",
        "hair_loss.stage",
        Some(13),
        &["unknown Norwood stage", "III-vertex"],
    );
    check(
        "scale = \"norwood\"",
        "scale = \"hamilton\"",
        "hair_loss.scale",
        Some(12),
        &["unknown scale", "ludwig"],
    );
    check(
        "colour = \"dark_brown\"",
        "colour = \"purple\"",
        "hair.colour",
        Some(9),
        &["purple", "light_brown"],
    );
    check(
        "sex = \"male\"",
        "sex = \"m\"",
        "client.sex",
        Some(3),
        &["male, female"],
    );
}

#[test]
fn missing_and_malformed_fields() {
    check("age = 40\n", "", "client", Some(1), &["missing field `age`"]);
    check(
        "age = 40",
        "age = \"forty\"",
        "client.age",
        Some(2),
        &["invalid type"],
    );
    check(
        "aims = [\"full_coverage\"]",
        "aims = []",
        "goal.aims",
        Some(16),
        &["at least one"],
    );
    check("[goal]", "[goal", "", Some(15), &["unclosed table"]);
}

#[test]
fn impossible_dates() {
    let med = "\n[medical]\nevents = [{ kind = \"hair_transplant\", date = \"2026-02-30\" }]\n";
    check(
        "",
        med,
        "medical.events[0].date",
        Some(19),
        &["not a real date", "28 days"],
    );
    let future = "\n[medical]\nevents = [{ kind = \"hair_transplant\", date = 2027-01-01 }]\n";
    check(
        "",
        future,
        "medical.events[0].date",
        Some(19),
        &["after the assessment date"],
    );
    let unknown = "\n[medical]\nmedications = [{ name = \"aspirin\" }]\n";
    check(
        "",
        unknown,
        "medical.medications[0].name",
        Some(19),
        &["unknown medication", "antiplatelet"],
    );
}

#[test]
fn contradictory_profiles() {
    check(
        "aims = [\"full_coverage\"]",
        "aims = [\"full_coverage\", \"density\"]",
        "goal.aims",
        Some(16),
        &["exclude each other"],
    );
    check(
        "aims = [\"full_coverage\"]",
        "aims = [\"scar_camouflage\"]",
        "goal.aims",
        Some(16),
        &["[[scars]]"],
    );
    // grey_percent is not in the file: the error points at its table.
    check(
        "colour = \"dark_brown\"",
        "colour = \"grey\"",
        "hair.grey_percent",
        Some(8),
        &["50–100"],
    );
    let fue = "\n[[scars]]\nkind = \"fue\"\nsite = \"donor\"\nlength_mm = 3\n";
    check("", fue, "scars[0].length_mm", Some(21), &["count"]);
    let cond = "\n[medical]\nconditions = [\"diabetes_controlled\", \"diabetes_uncontrolled\"]\n";
    check(
        "",
        cond,
        "medical.conditions",
        Some(19),
        &["both controlled and uncontrolled"],
    );
}

#[test]
fn clinical_answers_and_dates() {
    // [hair_loss] ends at line 14 of the minimal file; a line inserted after `stage` is line 14.
    check(
        "stage = \"V\"",
        "stage = \"V\"\nstable_since = 2027-02-01",
        "hair_loss.stable_since",
        Some(14),
        &["2027-02-01", "after the assessment date"],
    );
    check(
        "stage = \"V\"",
        "stage = \"V\"\nprogressing = true\nstable_since = 2026-02-01",
        "hair_loss.stable_since",
        Some(15),
        &["2026-02-01", "contradicts progressing = true"],
    );
    check(
        "stage = \"V\"",
        "stage = \"V\"\nstable_since = \"last spring\"",
        "hair_loss.stable_since",
        Some(14),
        &["YYYY-MM-DD", "last spring"],
    );
    check(
        "fitzpatrick = \"III\"",
        "fitzpatrick = \"V\"\nkeloid_history = \"maybe\"",
        "skin.keloid_history",
        Some(7),
        &["true or false", "maybe", "keloids"],
    );
    check(
        "fitzpatrick = \"III\"",
        "fitzpatrick = \"V\"\nhyperpigmentation_history = 1",
        "skin.hyperpigmentation_history",
        Some(7),
        &["true or false", "got 1"],
    );
    let scar = |when: &str| {
        format!("\n[[scars]]\nkind = \"injury\"\nsite = \"crown\"\nlength_mm = 30\nwidth_mm = 20\n{when}\n")
    };
    check(
        "",
        &scar("date = 2026-12-24"),
        "scars[0].date",
        Some(23),
        &["2026-12-24", "after the assessment date"],
    );
    check(
        "",
        &scar("date = \"2026-04-31\""),
        "scars[0].date",
        Some(23),
        &["not a real date", "30 days"],
    );
    check(
        "",
        &scar("age_months = -3"),
        "scars[0].age_months",
        Some(23),
        &["0–1200", "got -3"],
    );
    check(
        "",
        &scar("age_months = 6.5"),
        "scars[0].age_months",
        Some(23),
        &["whole number", "6.5"],
    );
    check(
        "",
        &scar("date = 2025-01-01\nage_months = 20"),
        "scars[0].age_months",
        Some(24),
        &["not both"],
    );
}
