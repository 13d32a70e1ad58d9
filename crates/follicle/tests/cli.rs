//! The command line: snapshots of every example plan, the documented JSON fields, and errors.

use serde_json::Value;

use super::{DATES, examples, follicle, root, stderr, stdout};

fn plan_json(file: &str) -> Value {
    let mut args = vec!["plan", file, "--format", "json"];
    args.extend(DATES);
    let out = follicle(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[test]
fn every_example_plan_matches_its_snapshot() {
    for path in examples() {
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let file = path.to_str().unwrap();
        for format in ["text", "json"] {
            let mut args = vec!["plan", file, "--format", format];
            args.extend(DATES);
            let out = follicle(&args);
            assert!(out.status.success(), "{name}: {}", stderr(&out));
            insta::assert_snapshot!(format!("plan-{name}.{format}"), stdout(&out));
        }
    }
}

#[test]
fn markdown_and_assess_run_on_every_example() {
    for path in examples() {
        let file = path.to_str().unwrap();
        let out = follicle(&["plan", file, "--format", "markdown", "--date", "2026-11-21"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stdout(&out).starts_with("# Treatment plan: "));
        let out = follicle(&["assess", file, "--format", "json", "--date", "2026-11-21"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert!(json["eligibility"]["verdict"].is_string());
    }
}

/// The fields docs/plan-json.md promises to programs.
#[test]
fn json_has_the_documented_fields() {
    let json = plan_json("examples/clients/norwood-7-full-coverage.toml");
    assert_eq!(json["eligibility"]["verdict"], "proceed");
    assert!(json["eligibility"]["reasons"].is_array());
    let sessions = json["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3);
    for (i, s) in sessions.iter().enumerate() {
        assert_eq!(s["index"], i + 1);
        for key in ["date", "purpose", "needle"] {
            assert!(s[key].is_string(), "sessions[{i}].{key}: {}", s[key]);
        }
        for key in [
            "duration_hours",
            "density_fraction",
            "pigment_dilution",
            "estimated_dots",
        ] {
            assert!(s[key].is_number(), "sessions[{i}].{key}: {}", s[key]);
        }
    }
    let q = &json["quote"];
    assert_eq!(q["currency"], "USD");
    let sum: i64 = q["per_session"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["amount"].as_i64().unwrap())
        .sum();
    assert_eq!(q["total"].as_i64(), Some(sum));
    assert!(q["touch_up"]["due_date"].as_str().unwrap() > sessions[2]["date"].as_str().unwrap());

    let keloid = plan_json("examples/clients/keloid-not-suitable.toml");
    assert_eq!(keloid["eligibility"]["verdict"], "not_suitable");
    assert_eq!(keloid["eligibility"]["reasons"][0]["rule"], "keloid");
    assert_eq!(keloid["sessions"].as_array().map(Vec::len), Some(0));
    assert!(keloid["quote"].is_null());
}

/// The clinical fields docs/plan-json.md documents: pre-care, the patch-test visit, questions,
/// and a deferral without an end (no dates, no deposit).
#[test]
fn json_has_the_clinical_fields() {
    let scar = plan_json("examples/clients/small-scar-dark-skin.toml");
    let precare = scar["precare"].as_array().unwrap();
    assert!(
        precare
            .iter()
            .any(|i| i["id"] == "no-alcohol" && i["hours_before"] == 48)
    );
    assert!(
        precare
            .iter()
            .all(|i| i["source"].is_string() && i["text"].is_string())
    );
    assert_eq!(scar["patch_test"]["date"], "2026-12-01");
    assert_eq!(scar["patch_test"]["rules"][0], "fitzpatrick-v-vi-test-patch");
    assert_eq!(scar["sessions"][0]["date"], "2026-12-15");
    assert!(scar["sessions"][0]["duration_hours"].as_f64().unwrap() < 2.0);

    let areata = plan_json("examples/clients/alopecia-areata.toml");
    assert_eq!(areata["eligibility"]["verdict"], "defer");
    assert_eq!(areata["provisional"], true);
    assert!(
        areata["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["date"].is_null())
    );
    assert!(areata["quote"]["deposit"].is_null());
    assert!(areata["quote"]["touch_up"]["due_date"].is_null());
    assert_eq!(areata["patch_test"]["date"], Value::Null);
    let asked: Vec<&str> = areata["eligibility"]["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["field"].as_str().unwrap())
        .collect();
    assert_eq!(asked, ["skin.keloid_history", "skin.hyperpigmentation_history"]);

    let uk = plan_json("examples/clients/norwood-5-uk.toml");
    assert_eq!(uk["quote"]["mode"], "by_stage");
    assert_eq!(uk["quote"]["priced_stage"], "norwood V");
    assert_eq!(uk["quote"]["currency"], "GBP");
}

#[test]
fn clinic_settings_change_the_plan() {
    let dir = tempdir();
    let clinic = dir.join("clinic.toml");
    std::fs::write(&clinic, "[intervals]\ndefault_days = 28\n[pricing]\nmode = \"package\"\ncurrency = \"EUR\"\ndefault_location = \"eu\"\n[[pricing.locations]]\nid = \"eu\"\nfactor = 1.0\ncurrency = \"EUR\"\n").unwrap();
    let mut args = vec![
        "plan",
        "examples/clients/norwood-3-hairline.toml",
        "--format",
        "json",
        "--settings",
        clinic.to_str().unwrap(),
    ];
    args.extend(DATES);
    // The example names the us-midwest location, which keeps its USD; the interval is the clinic's.
    let out = follicle(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["quote"]["mode"], "package");
    assert_eq!(json["sessions"][0]["date"], "2026-12-01");
    assert_eq!(json["sessions"][1]["date"], "2026-12-29");

    let out = follicle(&["settings", "--check", clinic.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let defaults = follicle(&["settings"]);
    assert!(stdout(&defaults).contains("[[eligibility.rules]]"));
}

fn tempdir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "follicle-cli-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A bad file or flag: exit code 2 and one message naming the file, line, field and what is allowed.
fn check_error(args: &[&str], says: &[&str]) {
    let out = follicle(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{err}");
    for s in says {
        assert!(err.contains(s), "{args:?}: expected {s:?} in {err}");
    }
}

#[test]
fn bad_input_names_file_line_and_field() {
    let dir = tempdir();
    let bad = dir.join("bad.toml");
    let example = std::fs::read_to_string(root().join("examples/clients/norwood-3-hairline.toml")).unwrap();
    std::fs::write(&bad, example.replace("fitzpatrick = \"III\"", "fitzpatrick = 9")).unwrap();
    let bad = bad.to_str().unwrap();
    check_error(
        &["plan", bad],
        &["bad.toml:9:15: skin.fitzpatrick: expected I–VI (or 1–6), got 9"],
    );
    check_error(
        &["plan", "missing.toml"],
        &["missing.toml: cannot read the client file"],
    );
    check_error(
        &[
            "plan",
            "examples/clients/norwood-3-hairline.toml",
            "--start",
            "2026-02-30",
        ],
        &["not a real date"],
    );
    check_error(
        &[
            "plan",
            "examples/clients/norwood-3-hairline.toml",
            "--format",
            "pdf",
        ],
        &["pdf", "text, json, markdown"],
    );

    let binary = dir.join("photo.toml");
    std::fs::write(&binary, [0xff, 0xd8, 0xff, 0xe0, 0x00]).unwrap();
    check_error(&["assess", binary.to_str().unwrap()], &["not UTF-8"]);
    let huge = dir.join("huge.toml");
    std::fs::write(&huge, "#".repeat(2 << 20)).unwrap();
    check_error(&["assess", huge.to_str().unwrap()], &["at most 1048576"]);

    let clinic = dir.join("clinic.toml");
    std::fs::write(&clinic, "[sessions]\nmax_hours = 40\n").unwrap();
    check_error(
        &["settings", "--check", clinic.to_str().unwrap()],
        &["clinic.toml:2:", "sessions.max_hours: expected 0.5–12, got 40"],
    );
}
