//! One head, one set of zones: what the planner prices is what the pattern engine draws.
//!
//! Which dots are compared: the **healed design's dots**. On the plan's side, every session's
//! impressions for a zone less the healing-loss refill (`SessionZone::refill_dots`, impressions
//! re-placed for what the previous session lost in healing, which are not dots of the design);
//! on the drawing's side, the dots of the zone after the last session. Areas: the plan's zone
//! area against the drawn zone's area on the skin (`ZoneStats::area_cm2` of the last session).
//!
//! Run `cargo test -p follicle-pattern --test tests treatment::table -- --nocapture` to print
//! the table for every example client.

use std::collections::BTreeMap;
use std::path::PathBuf;

use follicle_core::profile::ClientProfile;
use follicle_core::{Settings, ZoneKind};
use follicle_pattern::treatment::{
    FullAreas, measure, measure_with, plan_client, replan_design, replan_design_with,
};
use follicle_pattern::*;
use proptest::prelude::*;
use time::Date;
use time::macros::date;

const TODAY: Date = date!(2026 - 11 - 21);
const START: Date = date!(2026 - 12 - 01);

/// Per zone: (planned cm², drawn cm², planned design dots, drawn dots).
type Rows = BTreeMap<ZoneKind, (f64, f64, f64, f64)>;

/// Plans a client, draws the pattern the plan was priced from, and pairs them up per zone.
fn compare(profile: &ClientProfile, settings: &Settings, seed: u64) -> (Treatment, Pattern, Rows) {
    let t = plan_client(profile, settings, TODAY, START, seed).unwrap();
    let pattern = generate(&t.request).unwrap();
    let mut rows: Rows = BTreeMap::new();
    for z in &t.plan.assessment.zones {
        let design_dots: u64 = t
            .plan
            .sessions
            .iter()
            .flat_map(|s| &s.zones)
            .filter(|sz| sz.zone == z.zone)
            .map(|sz| sz.dots - sz.refill_dots)
            .sum();
        rows.entry(z.zone).or_default().0 = z.area_cm2;
        rows.entry(z.zone).or_default().2 = design_dots as f64;
    }
    if !t.plan.sessions.is_empty() {
        for z in pattern
            .stats
            .zones
            .iter()
            .filter(|z| z.session == pattern.sessions)
        {
            let row = rows.entry(z.zone).or_default();
            row.1 = z.area_cm2;
            row.3 = z.dots as f64;
        }
    }
    (t, pattern, rows)
}

/// Whole dots a zone's sessions may round away in all (a share of the design's dots each).
const ROUNDING_DOTS: f64 = 4.0;

fn pct(planned: f64, drawn: f64) -> f64 {
    if drawn == 0.0 {
        if planned == 0.0 { 0.0 } else { 100.0 }
    } else {
        100.0 * (planned - drawn) / drawn
    }
}

/// Every zone priced is drawn and every zone drawn is priced, within 5 % in area and the same
/// dots.
fn check_rows(name: &str, rows: &Rows) -> Result<(), String> {
    for (zone, &(pa, da, pd, dd)) in rows {
        if pa == 0.0 || da == 0.0 {
            return Err(format!(
                "{name}: {zone} priced {pa} cm², drawn {da} cm²: on one side only"
            ));
        }
        if pct(pa, da).abs() > 5.0 {
            return Err(format!(
                "{name}: {zone} area {pa:.1} cm² priced vs {da:.1} cm² drawn"
            ));
        }
        // The plan prices the drawn design's dots (`treatment::measured_from`): equal, zone by
        // zone, up to the rounding of each session's share to whole dots.
        if (pd - dd).abs() > ROUNDING_DOTS {
            return Err(format!(
                "{name}: {zone} dots {pd} priced vs {dd} drawn ({:+.2} %)",
                pct(pd, dd)
            ));
        }
    }
    Ok(())
}

fn examples() -> Vec<(String, String)> {
    let dir: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "..", "examples", "clients"]
        .iter()
        .collect();
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// The table of every example: per zone, planned vs drawn area and dots.
#[test]
fn table() {
    let settings = Settings::default();
    let mut out = String::from(
        "client                    zone        planned cm²  drawn cm²     Δ  priced dots  drawn dots     Δ\n",
    );
    let mut failures = Vec::new();
    let mut planned_clients = 0;
    for (name, text) in examples() {
        let profile = ClientProfile::from_toml(&text, &settings, TODAY).unwrap();
        let (t, _, rows) = compare(&profile, &settings, 1);
        let plan = t.plan;
        if plan.sessions.is_empty() {
            out.push_str(&format!(
                "{name:<25} (no sessions: {})\n",
                plan.assessment.eligibility.verdict.as_str()
            ));
            continue;
        }
        planned_clients += 1;
        for (zone, &(pa, da, pd, dd)) in &rows {
            out.push_str(&format!(
                "{name:<25} {:<11} {pa:>11.1} {da:>10.1} {:>+5.1}% {pd:>12.0} {dd:>11.0} {:>+5.1}%\n",
                zone.as_str(),
                pct(pa, da),
                pct(pd, dd)
            ));
        }
        if let Err(e) = check_rows(&name, &rows) {
            failures.push(e);
        }
    }
    println!("{out}");
    assert!(planned_clients >= 6, "{out}");
    assert!(failures.is_empty(), "{failures:#?}\n{out}");
}

fn client_file(
    stage: &HairLoss,
    female: bool,
    age: u32,
    circumference: f64,
    aim: &str,
    scar: bool,
) -> String {
    let loss = match stage {
        HairLoss::Norwood { stage } => format!("scale = \"norwood\"\nstage = \"{stage}\""),
        HairLoss::Ludwig { stage } => format!(
            "scale = \"ludwig\"\nstage = \"{}\"",
            ["I", "II", "III"][usize::from(*stage) - 1]
        ),
        HairLoss::Savin { stage } => format!("scale = \"savin\"\nstage = \"{stage}\""),
        HairLoss::AlopeciaAreata { affected_percent } => {
            format!("scale = \"alopecia_areata\"\naffected_percent = {affected_percent}")
        }
        HairLoss::ScarringAlopecia { affected_percent } => {
            format!("scale = \"scarring_alopecia\"\naffected_percent = {affected_percent}")
        }
        other => format!("scale = \"{}\"", other.scale()),
    };
    let scars = if scar {
        "\n[[scars]]\nkind = \"fut_strip\"\nsite = \"occipital\"\nlength_mm = 180\nwidth_mm = 3\n"
    } else {
        ""
    };
    let aims = if scar {
        format!("[\"{aim}\", \"scar_camouflage\"]")
    } else {
        format!("[\"{aim}\"]")
    };
    format!(
        "[client]\nage = {age}\nsex = \"{}\"\n[skin]\nfitzpatrick = \"III\"\n[hair]\ncolour = \"dark_brown\"\n[head]\ncircumference_cm = {circumference}\n[hair_loss]\n{loss}\n{scars}[goal]\naims = {aims}\n",
        if female { "female" } else { "male" }
    )
}

proptest! {
    // A fixed seed: the same cases on every run, so CI does not pass or fail by chance.
    #![proptest_config(ProptestConfig {
        cases: 24,
        rng_seed: proptest::test_runner::RngSeed::Fixed(10),
        ..ProptestConfig::default()
    })]

    /// Generated clients of every stage: the same table's checks.
    #[test]
    fn generated_profiles_price_what_is_drawn(
        stage in 0usize..64,
        female in any::<bool>(),
        age in 20u32..70,
        circumference in 52.0f64..62.0,
        density in any::<bool>(),
        scar in any::<bool>(),
        seed in 0u64..1000,
    ) {
        let stages = super::all_stages();
        let stage = &stages[stage % stages.len()];
        let text = client_file(stage, female, age, circumference, if density { "density" } else { "full_coverage" }, scar);
        let settings = Settings::default();
        let profile = match ClientProfile::from_toml(&text, &settings, TODAY) {
            Ok(p) => p,
            // Some combinations are not valid client files (a woman on the Norwood scale is fine,
            // but the file's own rules may refuse others); the error names a field.
            Err(e) => { prop_assert!(!e.field.is_empty()); return Ok(()); }
        };
        let (t, pattern, rows) = compare(&profile, &settings, seed);
        let plan = &t.plan;
        if !plan.sessions.is_empty() {
            prop_assert!(!rows.is_empty());
            if let Err(e) = check_rows(&text, &rows) {
                prop_assert!(false, "{}", e);
            }
            // The sampler against the density field it was given (what `measure` integrates):
            // every zone within 5 %, or within 3·√N dots. A thin zone along a denser one (the
            // temples beside the frontal and the hairline band) is up to ~7 % under on some
            // heads and seeds (1,107 drawn for 1,181 expected in a sweep of 150 heads; mean
            // +1.9 %, sd 2.3 %); the quote is not affected (it counts the drawn dots), the
            // drawing's density is (issue 13 keeps it).
            let expected = measure(&t.request).unwrap();
            for z in &expected.zones {
                let drawn = pattern
                    .stats
                    .zones
                    .iter()
                    .find(|s| s.zone == z.zone && s.session == pattern.sessions)
                    .map_or(0.0, |s| s.dots as f64);
                prop_assert!(
                    pct(z.dots, drawn).abs() <= 5.0 || (z.dots - drawn).abs() <= 3.0 * z.dots.sqrt(),
                    "{}: {} expected {:.0} dots, drawn {}", text, z.zone, z.dots, drawn
                );
            }
        }
    }
}

/// Alopecia areata patches cover the client's share of the scalp, reproducibly by seed.
#[test]
fn areata_covers_the_salt_share() {
    let mut out = String::new();
    for salt in [10.0, 40.0, 90.0] {
        let req = PatternRequest {
            zones: ZonesSpec::Stage {
                stage: HairLoss::AlopeciaAreata {
                    affected_percent: salt,
                },
            },
            seed: 7,
            ..PatternRequest::default()
        };
        let measured = measure(&req).unwrap();
        let treated: f64 = measured.zones.iter().map(|z| z.area_cm2).sum();
        let scalp = generate(&PatternRequest {
            session_fractions: vec![0.05],
            ..req.clone()
        })
        .unwrap()
        .stats
        .scalp_area_cm2;
        let share = 100.0 * treated / scalp;
        out.push_str(&format!(
            "SALT {salt}: {treated:.1} of {scalp:.1} cm² = {share:.1} %\n"
        ));
        assert!(
            (share - salt).abs() <= 0.1 * salt,
            "SALT {salt}: treated {share:.1} % of the scalp"
        );
        // The same seed draws the same patches; another seed other ones.
        assert_eq!(measure(&req).unwrap(), measured);
        let other = measure(&PatternRequest {
            seed: 8,
            ..req.clone()
        })
        .unwrap();
        assert_ne!(other.zones, measured.zones);
    }
    println!("{out}");
}

/// A design edit re-plans: more density costs more; moving the hairline changes the area;
/// erasing every zone is an error naming `zones`.
#[test]
fn design_edits_replan() {
    let settings = Settings::default();
    let (_, text) = examples()
        .into_iter()
        .find(|(n, _)| n == "norwood-7-full-coverage")
        .unwrap();
    let profile = ClientProfile::from_toml(&text, &settings, TODAY).unwrap();
    let base = plan_client(&profile, &settings, TODAY, START, 1).unwrap();
    let same = replan_design(&base.request, &profile, &settings, TODAY, START).unwrap();
    assert_eq!(same.plan.total_dots, base.plan.total_dots);

    let mut denser = base.request.clone();
    for zone in ZoneKind::ALL {
        *denser.density_per_cm2.get_mut(zone) *= 1.5;
    }
    let denser = replan_design(&denser, &profile, &settings, TODAY, START).unwrap();
    assert!(denser.plan.total_dots as f64 > 1.4 * base.plan.total_dots as f64);
    assert!(denser.plan.total_hours > base.plan.total_hours);
    let price = |t: &Treatment| t.plan.quote.as_ref().unwrap().total;
    assert!(price(&denser) >= price(&base));

    // A hairline moved 10 mm forward (lower on the forehead): more area at the front.
    let line = generate(&base.request).unwrap().hairline;
    let mut moved = base.request.clone();
    moved.hairline.shape = HairlineShape::ControlPoints {
        points: line
            .anchors
            .iter()
            .map(|p| {
                // The front moves; the ends at the sideburns stay.
                let r = p[0].hypot(p[1]);
                let psi = p[1].atan2(p[0]).to_degrees();
                let d = if (40.0..=140.0).contains(&psi) { 10.0 } else { 0.0 };
                [p[0] * (r + d) / r, p[1] * (r + d) / r]
            })
            .collect(),
    };
    let moved = replan_design(&moved, &profile, &settings, TODAY, START).unwrap();
    assert!(
        moved.plan.assessment.treated_area_cm2 > base.plan.assessment.treated_area_cm2,
        "{} vs {}",
        moved.plan.assessment.treated_area_cm2,
        base.plan.assessment.treated_area_cm2
    );

    let mut erased = base.request.clone();
    erased.zones = ZonesSpec::Explicit { zones: Vec::new() };
    let err = replan_design(&erased, &profile, &settings, TODAY, START).unwrap_err();
    assert_eq!(err.field(), "zones", "{err}");
    assert!(err.to_string().contains("no zone"), "{err}");
}

/// The designer's re-plan reuses the bald head's areas across edits of zones and exclusions and
/// gives the same plan as planning from scratch, hit or miss; the cache stays within its bound.
#[test]
fn cached_full_areas_give_the_same_plan() {
    let settings = Settings::default();
    let (_, text) = examples()
        .into_iter()
        .find(|(n, _)| n == "norwood-7-full-coverage")
        .unwrap();
    let profile = ClientProfile::from_toml(&text, &settings, TODAY).unwrap();
    let base = plan_client(&profile, &settings, TODAY, START, 1).unwrap();
    let mut excluded = base.request.clone();
    excluded.exclusions = serde_json::from_value(serde_json::json!([
        {"kind": "circle", "center_mm": [0.0, 40.0], "radius_mm": 15.0}
    ]))
    .unwrap();
    let mut denser = base.request.clone();
    for zone in ZoneKind::ALL {
        *denser.density_per_cm2.get_mut(zone) *= 1.2;
    }
    let mut cache = FullAreas::new(2);
    // base (miss), excluded (hit: same head), denser (miss), base (hit), excluded, denser again.
    for (design, cached_after) in [
        (&base.request, 1),
        (&excluded, 1),
        (&denser, 2),
        (&base.request, 2),
        (&excluded, 2),
        (&denser, 2),
    ] {
        let fresh = replan_design(design, &profile, &settings, TODAY, START).unwrap();
        let cached = replan_design_with(design, &profile, &settings, TODAY, START, &mut cache).unwrap();
        assert_eq!(cached, fresh);
        assert_eq!(
            measure_with(design, &mut cache).unwrap(),
            measure(design).unwrap()
        );
        assert_eq!(cache.len(), cached_after);
    }
    let excluded_plan = replan_design(&excluded, &profile, &settings, TODAY, START).unwrap();
    assert!(excluded_plan.plan.assessment.treated_area_cm2 < base.plan.assessment.treated_area_cm2);
    // Keeping none is measuring from scratch.
    let mut none = FullAreas::new(0);
    assert_eq!(
        measure_with(&base.request, &mut none).unwrap(),
        measure(&base.request).unwrap()
    );
    assert!(none.is_empty());
}

/// Garg's 8-8-8 and women's forehead heights, measured along the skin.
#[test]
fn hairline_landmarks() {
    let settings = PatternSettings::default();
    let ruler = settings.frontotemporal_from_mid_frontal_mm;
    let typical = HairlinePosition::Typical.mid_frontal_height_mm(&settings);
    for (sex, mature) in [
        (Sex::Male, false),
        (Sex::Male, true),
        (Sex::Female, false),
        (Sex::Female, true),
    ] {
        for circumference in [53.0, 56.0, 59.0] {
            let mut req = PatternRequest {
                session_fractions: vec![0.05],
                ..PatternRequest::default()
            };
            req.head.sex = sex;
            req.head.circumference_cm = Some(circumference);
            req.hairline.shape = HairlineShape::Rules {
                position: HairlinePosition::Typical,
                mature,
                mid_frontal_height_mm: None,
                frontotemporal_height_mm: None,
            };
            let p = generate(&req).unwrap();
            let head = &p.head;
            let lm = &p.landmarks;
            let mfp = p.hairline.mid_frontal.unwrap().surface_mm;
            let [ft_r, ft_l] = p.hairline.frontotemporal.unwrap();
            let forehead = head.surface_distance_mm(lm.glabella.surface_mm, mfp);
            let ft_from_mfp = head.surface_distance_mm(mfp, ft_r.surface_mm);
            let ft_from_canthus =
                head.surface_distance_mm(lm.lateral_canthus_right.surface_mm, ft_r.surface_mm);
            let ft_l_from_mfp = head.surface_distance_mm(mfp, ft_l.surface_mm);
            println!(
                "{sex:?} mature {mature} {circumference} cm: forehead {forehead:.1} mm, MFP→FT {ft_from_mfp:.1} mm, canthus→FT {ft_from_canthus:.1} mm"
            );
            assert!((ft_l_from_mfp - ft_from_mfp).abs() < 0.5, "symmetric");
            match (sex, mature) {
                // Garg's 8-8-8: 8 cm up, 8 cm across, 8 cm above the canthus.
                (Sex::Male, false) => {
                    assert!((forehead - typical).abs() < 2.0, "{forehead}");
                    assert!((ft_from_mfp - ruler).abs() < 3.0, "{ft_from_mfp}");
                    assert!((ft_from_canthus - typical).abs() < 3.0, "{ft_from_canthus}");
                }
                // Mature men: the line 1.5 cm higher.
                (Sex::Male, true) => {
                    assert!(
                        (forehead - typical - settings.mature_raise_mm).abs() < 2.0,
                        "{forehead}"
                    );
                }
                // Women: the measured forehead height, and no maturity raise even when asked for.
                (Sex::Female, _) => {
                    assert!((62.0..=64.0).contains(&forehead), "{forehead}");
                    assert!((ft_from_mfp - ruler).abs() < 3.0, "{ft_from_mfp}");
                }
            }
        }
    }
}

/// Alopecia universalis: the sides and back at the full density, feathered towards an irregular
/// lower edge rather than cut along a line.
#[test]
fn universalis_has_no_fringe() {
    let settings = Settings::default();
    let text = client_file(
        &HairLoss::AlopeciaUniversalis,
        false,
        30,
        57.0,
        "full_coverage",
        false,
    );
    let profile = ClientProfile::from_toml(&text, &settings, TODAY).unwrap();
    let t = plan_client(&profile, &settings, TODAY, START, 3).unwrap();
    let full = settings.density.per_zone_dots_per_cm2[&ZoneKind::MidScalp];
    assert_eq!(t.request.density_per_cm2.sides_back, full);
    let p = generate(&t.request).unwrap();
    // The lowest dot at each azimuth round the back: not one height all along.
    let mut lowest: BTreeMap<i64, f64> = BTreeMap::new();
    for d in p.dots.iter().filter(|d| d.surface_mm[1] < -20.0) {
        let az = d.surface_mm[1].atan2(d.surface_mm[0]).to_degrees();
        let e = lowest.entry((az / 5.0).round() as i64).or_insert(f64::INFINITY);
        *e = e.min(d.surface_mm[2]);
    }
    let (lo, hi) = lowest
        .values()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &z| {
            (a.min(z), b.max(z))
        });
    assert!(hi - lo > 5.0, "lower edge spans only {:.1} mm in height", hi - lo);
    // Feathered: the last 5 mm above the lower edge hold fewer dots per cm² than the sides above.
    let sides = p
        .stats
        .zones
        .iter()
        .find(|z| z.zone == ZoneKind::SidesBack && z.session == p.sessions)
        .unwrap();
    assert!(sides.target_density_per_cm2 < full && sides.target_density_per_cm2 > 0.8 * full);
}

/// Needles by purpose, and dots of one unit never overlapping on the skin.
#[test]
fn unit_dots_do_not_overlap() {
    let settings = Settings::default();
    let text = client_file(
        &HairLoss::Norwood {
            stage: NorwoodStage::VII,
        },
        false,
        45,
        57.0,
        "full_coverage",
        false,
    );
    let profile = ClientProfile::from_toml(&text, &settings, TODAY).unwrap();
    let t = plan_client(&profile, &settings, TODAY, START, 5).unwrap();
    assert_eq!(t.request.needles.hairline, NeedleGauge::N06);
    for zone in [ZoneKind::Frontal, ZoneKind::SidesBack, ZoneKind::Crown] {
        assert_eq!(settings.needles.per_zone[&zone], "0603RL", "{zone}: 3RL to fill");
    }
    assert_eq!(
        settings.needles.per_zone[&ZoneKind::Hairline],
        "0601RL",
        "single point at the hairline"
    );
    let p = generate(&t.request).unwrap();
    let margin = t.request.settings.unit_dot_margin_mm;
    let mut by_unit: BTreeMap<u32, Vec<&Dot>> = BTreeMap::new();
    for d in &p.dots {
        by_unit.entry(d.unit).or_default().push(d);
    }
    let mut closest = f64::INFINITY;
    let mut pairs = 0;
    for dots in by_unit.values() {
        for (i, a) in dots.iter().enumerate() {
            for b in &dots[i + 1..] {
                let gap = geometry::dist3(a.surface_mm, b.surface_mm) - 0.5 * (a.diameter_mm + b.diameter_mm);
                closest = closest.min(gap);
                pairs += 1;
            }
        }
    }
    assert!(pairs > 1000);
    // Surface positions are rounded to 1 µm.
    assert!(
        closest >= margin - 0.002,
        "closest gap {closest:.3} mm < margin {margin}"
    );
}

/// The zone sizes by stage, the head's landmarks and the hairline's heights are the clinic's
/// settings: an override reaches the drawing (and so the plan's areas and price).
#[test]
fn clinic_figures_reach_the_drawing() {
    let area = |settings: &Settings, zone: ZoneKind| -> f64 {
        let request = PatternRequest::with_settings(settings);
        measure(&request)
            .unwrap()
            .zones
            .iter()
            .filter(|z| z.zone == zone)
            .map(|z| z.area_cm2)
            .sum()
    };
    let defaults = Settings::default();
    // The default request is Norwood III: a frontal band 35 mm deep.
    let deeper =
        Settings::with_overrides("[pattern.stages.norwood]\nIII = { frontal_depth_mm = 50.0 }\n").unwrap();
    assert!(area(&deeper, ZoneKind::Frontal) > area(&defaults, ZoneKind::Frontal) + 5.0);
    let crown =
        Settings::with_overrides("[pattern.stages.norwood]\nIII = { crown_radius_mm = 30.0 }\n").unwrap();
    assert_eq!(area(&defaults, ZoneKind::Crown), 0.0);
    assert!(area(&crown, ZoneKind::Crown) > 20.0);
    let temples = Settings::with_overrides("[pattern]\ntemple_depth_mm = 40.0\n").unwrap();
    assert!(area(&temples, ZoneKind::Temples) > area(&defaults, ZoneKind::Temples));

    let lower = Settings::with_overrides("[pattern.mid_frontal_height_mm]\ntypical = 70.0\n").unwrap();
    let mid_frontal = |settings: &Settings| {
        let request = PatternRequest::with_settings(settings);
        generate(&request)
            .unwrap()
            .hairline
            .mid_frontal
            .unwrap()
            .surface_mm
    };
    assert!(mid_frontal(&lower)[2] < mid_frontal(&defaults)[2] - 5.0);

    let wide_eyes =
        Settings::with_overrides("[pattern.landmarks]\ncanthus_half_width_male_mm = 55.0\n").unwrap();
    let canthus = |settings: &Settings| {
        let request = PatternRequest::with_settings(settings);
        generate(&request)
            .unwrap()
            .landmarks
            .lateral_canthus_right
            .surface_mm[0]
    };
    assert!(canthus(&wide_eyes) > canthus(&defaults) + 3.0);
}

/// The fully bald head's areas are counted without building its density field
/// (`FullAreas`, every hairline drag edit): for a Norwood VII design without scars or
/// exclusions, that head is the design's own, so its areas must be those of the design's full
/// layout to the last bit — over hairline styles and positions, a dragged hairline, heads,
/// densities, and settings where the hairline's isolated dots vanish and its edge blend is
/// weakest.
#[test]
fn bald_head_areas_counted_alone_are_the_layouts_to_the_bit() {
    let base = PatternRequest {
        zones: ZonesSpec::Stage {
            stage: HairLoss::Norwood {
                stage: NorwoodStage::VII,
            },
        },
        ..PatternRequest::default()
    };
    let mut requests = vec![base.clone()];
    for style in [HairlineStyle::Soft, HairlineStyle::Broken, HairlineStyle::Sharp] {
        for position in [HairlinePosition::Aggressive, HairlinePosition::Conservative] {
            let mut r = base.clone();
            r.hairline.style = style;
            r.hairline.shape = HairlineShape::Rules {
                position,
                mature: position == HairlinePosition::Conservative,
                mid_frontal_height_mm: None,
                frontotemporal_height_mm: None,
            };
            requests.push(r);
        }
    }
    let drawn = generate(&base).unwrap();
    let mut dragged = base.clone();
    let mut points = drawn.hairline.anchors.clone();
    let mid = points.len() / 2;
    points[mid][1] -= 7.3;
    dragged.hairline.shape = HairlineShape::ControlPoints { points };
    requests.push(dragged);
    let mut big = base.clone();
    big.head.circumference_cm = Some(58.5);
    big.head.sex = Sex::Female;
    requests.push(big);
    let mut sparse = base.clone();
    sparse.density_per_cm2.hairline = 3.0;
    sparse.settings.blend_edge_fraction = 0.05;
    sparse.settings.soft.isolated_share = 0.0;
    requests.push(sparse);
    for (i, r) in requests.iter().enumerate() {
        let whole: BTreeMap<ZoneKind, f64> = measure(r)
            .unwrap()
            .zones
            .iter()
            .filter(|z| z.zone != ZoneKind::Scar)
            .map(|z| (z.zone, z.area_cm2))
            .collect();
        let alone = measure_with(r, &mut FullAreas::new(0)).unwrap().full_area_cm2;
        assert!(whole.len() >= 3, "request {i}: {whole:?}");
        assert_eq!(alone, whole, "request {i}");
    }
}
