//! `follicle pattern` and `follicle render` on the example clients.

use serde_json::Value;

use super::{examples, follicle, stderr, stdout};

#[path = "../../follicle-pattern/tests/zone_check.rs"]
mod zone_check;

#[test]
fn every_plannable_example_gives_a_pattern_and_an_svg() {
    for path in examples() {
        let file = path.to_str().unwrap();
        let out = follicle(&["pattern", file, "--date", "2026-11-21", "--seed", "7"]);
        if file.contains("keloid") {
            assert_eq!(out.status.code(), Some(2));
            assert!(
                stderr(&out).contains("no sessions are planned (verdict not_suitable)"),
                "{}",
                stderr(&out)
            );
            continue;
        }
        assert!(out.status.success(), "{file}: {}", stderr(&out));
        let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
        let dots = json["dots"].as_array().unwrap();
        assert!(dots.len() > 500, "{file}: {} dots", dots.len());
        let sessions = json["sessions"].as_u64().unwrap();
        assert!(
            dots.iter()
                .all(|d| d["session"].as_u64().is_some_and(|s| (1..=sessions).contains(&s)))
        );
        let svg = follicle(&["pattern", file, "--date", "2026-11-21", "--format", "svg"]);
        assert!(svg.status.success());
        assert!(
            stdout(&svg).starts_with("<svg") || stdout(&svg).starts_with("<?xml"),
            "{file}"
        );
    }
}

/// Issue 3's measure on the planner's own examples: every zone's final density within 5% of
/// its target on average over three seeds, and on each seed within 5% or within 3·√N of its N
/// dots (the allowance the generated-profile check keeps). A thin zone beside a denser one
/// moves from seed to seed: over 12 seeds (2026-12-06) the examples' temples were off by −2.6
/// to +0.1% on average with a spread (standard deviation) of about 2.6%, up to 7.9% on one
/// seed, with the candidate draw before that day's changes as after them.
#[test]
fn every_example_meets_its_zone_densities_within_five_percent() {
    for path in examples()
        .iter()
        .filter(|p| !p.to_str().unwrap().contains("keloid"))
    {
        let mut errors: std::collections::BTreeMap<String, Vec<(f64, f64)>> = Default::default();
        for seed in ["1", "2", "3"] {
            let out = follicle(&[
                "pattern",
                path.to_str().unwrap(),
                "--date",
                "2026-11-21",
                "--seed",
                seed,
            ]);
            assert!(out.status.success(), "{}", stderr(&out));
            let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
            let last = json["sessions"].as_u64().unwrap();
            for z in json["stats"]["zones"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|z| z["session"].as_u64() == Some(last))
            {
                errors
                    .entry(z["zone"].to_string())
                    .or_default()
                    .push((z["density_error"].as_f64().unwrap(), z["dots"].as_f64().unwrap()));
            }
        }
        for (zone, e) in errors {
            let (mean, worst) = zone_check::mean_and_worst(&e);
            assert!(
                mean.abs() <= 0.05 && worst <= 0.05,
                "{}: {zone} off by {:+.1}% on average, {:.1}% at worst",
                path.display(),
                100.0 * mean,
                100.0 * worst
            );
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_does_not() {
    let run = |seed: &str| {
        stdout(&follicle(&[
            "pattern",
            "examples/clients/norwood-3-hairline.toml",
            "--date",
            "2026-11-21",
            "--seed",
            seed,
            "--format",
            "csv",
        ]))
    };
    assert_eq!(run("42"), run("42"));
    assert_ne!(run("42"), run("43"));
}

#[test]
fn a_measurement_patch_for_other_tools() {
    let out = follicle(&[
        "pattern",
        "--patch",
        "50",
        "40",
        "--density",
        "80",
        "--seed",
        "3",
        "--format",
        "csv",
        "--metrics",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = stdout(&out);
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().starts_with("x_mm,y_mm"));
    let n = lines.count() as f64;
    // 20 cm² at 80 dots/cm².
    assert!((n - 1600.0).abs() / 1600.0 < 0.05, "{n} dots");
    assert!(stderr(&out).contains("relative_radius"), "{}", stderr(&out));
}

#[test]
fn bad_pattern_input_is_named() {
    let out = follicle(&[
        "pattern",
        "examples/clients/norwood-3-hairline.toml",
        "--seed",
        "abc",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--seed"), "{}", stderr(&out));
    let out = follicle(&["pattern", "--patch", "50", "40", "--density", "-5"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("density_per_cm2: expected 1–400, got -5"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn render_writes_views_moments_and_the_timeline_with_progress() {
    let dir = std::env::temp_dir().join(format!("follicle-render-{}", std::process::id()));
    let out = follicle(&[
        "render",
        "examples/clients/ludwig-2-diffuse.toml",
        "--date",
        "2026-11-21",
        "--out",
        dir.to_str().unwrap(),
        "--size",
        "96",
        "--views",
        "chart,top",
        "--moments",
        "healed:1,years:5@4",
        "--timeline",
        "--compare",
        "examples/clients/norwood-3-hairline.toml",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    for name in [
        "chart-healed-1.png",
        "top-year-5-touched-4.png",
        "timeline-chart.png",
        "compare-top.png",
    ] {
        let img = image::open(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(img.width() >= 96, "{name}");
    }
    assert!(stderr(&out).contains("[8/8]"), "progress: {}", stderr(&out));
    let bad = follicle(&[
        "render",
        "examples/clients/ludwig-2-diffuse.toml",
        "--out",
        dir.to_str().unwrap(),
        "--moments",
        "years:-3",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("years must be 0–60"), "{}", stderr(&bad));
}

#[test]
fn a_saved_design_renders_too() {
    let dir = std::env::temp_dir().join(format!("follicle-design-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let design = dir.join("design.json");
    std::fs::write(
        &design,
        r#"{ "zones": { "kind": "stage", "stage": "norwood_5" }, "seed": 9 }"#,
    )
    .unwrap();
    let out = follicle(&[
        "render",
        "--design",
        design.to_str().unwrap(),
        "--fitzpatrick",
        "V",
        "--out",
        dir.to_str().unwrap(),
        "--size",
        "64",
        "--views",
        "front",
        "--moments",
        "healed:2",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(image::open(dir.join("front-healed-2.png")).is_ok());
    std::fs::write(
        &design,
        r#"{ "zones": { "kind": "stage", "stage": "norwood_9" } }"#,
    )
    .unwrap();
    let bad = follicle(&[
        "render",
        "--design",
        design.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("design.json:1:"), "{}", stderr(&bad));
}

#[test]
fn stencil_writes_a_pdf_or_an_svg_per_page() {
    let dir = std::env::temp_dir().join(format!("follicle-stencil-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pdf = dir.join("s.pdf");
    let out = follicle(&[
        "stencil",
        "examples/clients/norwood-3-hairline.toml",
        "--date",
        "2026-11-21",
        "--out",
        pdf.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let svg = dir.join("s.svg");
    let out = follicle(&[
        "stencil",
        "examples/clients/norwood-3-hairline.toml",
        "--date",
        "2026-11-21",
        "--out",
        svg.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let first = std::fs::read_to_string(dir.join("s-1.svg")).unwrap();
    assert!(first.contains(r#"width="297mm" height="210mm""#));
    assert!(dir.join("s-2.svg").exists(), "a page for the first session");
    let bad = follicle(&[
        "stencil",
        "examples/clients/norwood-3-hairline.toml",
        "--out",
        dir.join("s.png").to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("--out: expected a file name ending in .pdf or .svg"),
        "{}",
        stderr(&bad)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn render_on_a_photo_writes_each_moment_the_timeline_and_the_client_sheet() {
    let dir = std::env::temp_dir().join(format!("follicle-render-photo-{}", std::process::id()));
    let args = |landmarks: &str| -> Vec<String> {
        [
            "render",
            "examples/clients/norwood-7-full-coverage.toml",
            "--date",
            "2026-03-02",
            "--out",
            dir.to_str().unwrap(),
            "--size",
            "96",
            "--views",
            "top",
            "--moments",
            "healed:2",
            "--photo",
            "assets/photos/E_W_Dahlgren.jpg",
            "--landmarks",
            landmarks,
        ]
        .map(String::from)
        .to_vec()
    };
    let a = args("assets/photos/warp-landmarks.json");
    let out = follicle(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success(), "{}", stderr(&out));
    for name in [
        "photo-healed-1.png",
        "photo-before-after.png",
        "photo-timeline.png",
        "client-sheet.png",
    ] {
        image::open(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let pdf = std::fs::read(dir.join("client-sheet.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    // A landmarks file without this photo names the photos it has.
    let marks = dir.join("other.json");
    std::fs::write(&marks, r#"{"someone.jpg": []}"#).unwrap();
    let b = args(marks.to_str().unwrap());
    let bad = follicle(&b.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("no landmarks for \"E_W_Dahlgren.jpg\"")
            && stderr(&bad).contains("someone.jpg"),
        "{}",
        stderr(&bad)
    );
    std::fs::remove_dir_all(&dir).ok();
}
