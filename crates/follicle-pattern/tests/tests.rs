//! Integration tests for follicle-pattern, one binary with a module per topic.

use follicle_pattern::*;

mod tiles;
mod treatment;
mod zone_check;

mod stages;
use stages::{all_stages, request};

mod density {
    use super::*;

    /// Seeds each design is drawn with.
    const SEEDS: u64 = 3;

    /// Every zone of the design, in every session, meets its target density: after the last
    /// session within 5 % on average over [`SEEDS`] seeds, and on each seed within 5 % or
    /// within 3·√N of its N dots (the allowance the generated-profile check keeps). One seed's
    /// thin zone is a few hundred dots along a border, and moves from seed to seed: over 12
    /// seeds of the examples (2026-12-06) the temples were off by −2.6 to +0.1 % on average with
    /// a spread of about 2.6 %, up to 7.9 % on one seed, with the candidate draw before this
    /// day's changes as after them.
    fn check(req: PatternRequest, expected_zones: &[ZoneKind]) {
        let mut errors: std::collections::BTreeMap<(u8, String), Vec<(f64, f64)>> = Default::default();
        // The sessions a design has do not depend on its seed.
        let mut sessions = 0;
        for k in 0..SEEDS {
            let mut req = req.clone();
            req.seed += k;
            let pattern = generate(&req).unwrap();
            sessions = pattern.sessions;
            for zone in expected_zones {
                assert!(
                    pattern.stats.zones.iter().any(|z| z.zone == *zone),
                    "{zone} missing from {:?}",
                    req.zones
                );
            }
            for z in &pattern.stats.zones {
                assert!(z.dots > 0, "{} has no dots", z.zone);
                errors
                    .entry((z.session, z.zone.to_string()))
                    .or_default()
                    .push((z.density_error, z.dots as f64));
            }
        }
        for ((session, zone), e) in errors {
            let (mean, worst) = zone_check::mean_and_worst(&e);
            // Intermediate sessions are looser: at 30% the hairline band (a ramp plus a
            // sparse strip of isolated dots, a hundred-odd dots) underfills, by 7–11% on
            // average and by up to 18% on one seed (16 seeds each of Norwood I with a FUT
            // strip, III and VII, 2026-12-06); the final session makes it up.
            let last = session == sessions;
            let (on_average, each) = if last { (0.05, 0.05) } else { (0.15, 0.20) };
            assert!(
                mean.abs() <= on_average && worst <= each,
                "{zone} session {}: {:+.1}% on average, {:.1}% at worst ({:?})",
                if last {
                    "last".to_string()
                } else {
                    session.to_string()
                },
                100.0 * mean,
                100.0 * worst,
                e.iter()
                    .map(|(err, n)| format!("{:+.1}% of {n} dots", 100.0 * err))
                    .collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn norwood_3() {
        check(
            request(HairLoss::Norwood {
                stage: NorwoodStage::III,
            }),
            &[ZoneKind::Hairline, ZoneKind::Frontal, ZoneKind::Temples],
        );
    }

    #[test]
    fn norwood_7() {
        check(
            request(HairLoss::Norwood {
                stage: NorwoodStage::VII,
            }),
            &[
                ZoneKind::Hairline,
                ZoneKind::Frontal,
                ZoneKind::MidScalp,
                ZoneKind::Crown,
                ZoneKind::SidesBack,
            ],
        );
    }

    #[test]
    fn ludwig_2() {
        let mut req = request(HairLoss::Ludwig { stage: 2 });
        req.head.sex = Sex::Female;
        check(req, &[ZoneKind::MidScalp, ZoneKind::Crown]);
    }

    #[test]
    fn fut_strip_scar() {
        let mut req = request(HairLoss::Norwood {
            stage: NorwoodStage::I,
        });
        req.scars = vec![stages::fut_strip()];
        check(req, &[ZoneKind::Scar, ZoneKind::Hairline]);
    }

    #[test]
    fn alopecia_areata() {
        check(
            request(HairLoss::AlopeciaAreata {
                affected_percent: 10.0,
            }),
            &[],
        );
    }

    #[test]
    fn exclusions_get_no_dots() {
        let mut req = request(HairLoss::Norwood {
            stage: NorwoodStage::VII,
        });
        req.exclusions = vec![Exclusion::Circle {
            center_mm: [10.0, 10.0],
            radius_mm: 4.0,
        }];
        let pattern = generate(&req).unwrap();
        assert!(
            pattern
                .dots
                .iter()
                // The circle is drawn as a 24-gon: its edges come this close to the centre.
                .all(|d| (d.x_mm - 10.0).hypot(d.y_mm - 10.0) >= 4.0 * (std::f64::consts::PI / 24.0).cos())
        );
        assert!(
            pattern
                .dots
                .iter()
                .any(|d| (d.x_mm - 10.0).hypot(d.y_mm - 10.0) < 8.0)
        );
    }
}

mod sessions {
    use super::*;

    fn key(d: &Dot) -> (i64, i64) {
        ((d.x_mm * 1000.0).round() as i64, (d.y_mm * 1000.0).round() as i64)
    }

    #[test]
    fn earlier_sessions_are_kept_unchanged() {
        let full = generate(&request(HairLoss::Norwood {
            stage: NorwoodStage::III,
        }))
        .unwrap();
        for s in 1..full.sessions {
            let before: Vec<_> = full.dots_through(s).map(key).collect();
            let after: std::collections::HashSet<_> = full.dots_through(s + 1).map(key).collect();
            assert!(before.len() < after.len());
            assert!(
                before.iter().all(|k| after.contains(k)),
                "session {s} is not a subset of {}",
                s + 1
            );
        }
        // Session 1 does not depend on how many sessions follow.
        let mut one = request(HairLoss::Norwood {
            stage: NorwoodStage::III,
        });
        one.session_fractions = vec![0.3];
        let alone = generate(&one).unwrap();
        let from_full: Vec<&Dot> = full.dots_through(1).collect();
        let alone_dots: Vec<&Dot> = alone.dots.iter().collect();
        assert_eq!(from_full, alone_dots);
    }

    #[test]
    fn session_time_estimate_uses_dots_per_hour() {
        let mut req = request(HairLoss::Norwood {
            stage: NorwoodStage::III,
        });
        req.dots_per_hour = 3000.0;
        let p = generate(&req).unwrap();
        let s1 = &p.stats.sessions[0];
        assert!((s1.hours - s1.new_dots as f64 / 3000.0).abs() < 1e-9);
    }
}

mod determinism {
    use super::*;

    #[test]
    fn same_seed_same_bytes_different_seed_differs() {
        let a = generate(&request(HairLoss::Norwood {
            stage: NorwoodStage::II,
        }))
        .unwrap()
        .to_json();
        let b = generate(&request(HairLoss::Norwood {
            stage: NorwoodStage::II,
        }))
        .unwrap()
        .to_json();
        assert_eq!(a, b);
        let mut other = request(HairLoss::Norwood {
            stage: NorwoodStage::II,
        });
        other.seed = 2;
        assert_ne!(a, generate(&other).unwrap().to_json());
    }

    #[test]
    fn request_round_trips_through_json() {
        let mut req = request(HairLoss::Norwood {
            stage: NorwoodStage::IIIVertex,
        });
        req.scars = vec![stages::fue_punches()];
        let text = serde_json::to_string(&req).unwrap();
        let back: PatternRequest = serde_json::from_str(&text).unwrap();
        assert_eq!(req, back);
        let empty: PatternRequest = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, PatternRequest::default());
    }

    #[test]
    fn small_dot_list_snapshot() {
        let patch = generate_patch(&PatchRequest {
            width_mm: 5.0,
            height_mm: 5.0,
            density_per_cm2: 40.0,
            seed: 3,
            ..Default::default()
        })
        .unwrap();
        insta::assert_snapshot!(patch.to_csv());
    }
}

mod units {
    use super::*;

    #[test]
    fn fu_mix_follows_the_setting() {
        let check = |mix: [f64; 4]| {
            let mut req = request(HairLoss::Norwood {
                stage: NorwoodStage::VII,
            });
            req.settings.fu_mix_percent = mix;
            let p = generate(&req).unwrap();
            let total: f64 = mix.iter().sum();
            for i in 0..4 {
                let want = 100.0 * mix[i] / total;
                assert!(
                    (p.stats.fu_mix_percent[i] - want).abs() <= 3.0,
                    "{i}: {:?} vs {mix:?}",
                    p.stats.fu_mix_percent
                );
            }
        };
        check([28.0, 53.0, 17.0, 1.0]);
        check([50.0, 30.0, 20.0, 0.0]);
    }

    #[test]
    fn hairline_band_has_single_dots_and_needle_diameters() {
        let mut req = request(HairLoss::Norwood {
            stage: NorwoodStage::III,
        });
        req.needles.hairline = follicle_pattern::NeedleGauge::N04;
        req.needles.diameter_mm.n04 = 0.17;
        let p = generate(&req).unwrap();
        for d in &p.dots {
            if d.zone == ZoneKind::Hairline {
                assert_eq!(d.unit_size, 1);
                assert_eq!(d.diameter_mm, 0.17);
            } else {
                assert_eq!(d.diameter_mm, req.needles.diameter_of(d.zone));
            }
        }
        assert!(p.dots.iter().any(|d| d.unit_size >= 3));
    }
}

mod metrics_on_patches {
    use super::*;

    fn check(density: f64, seed: u64) -> PointMetrics {
        // 200 mm: dozens of tiles, so tile borders are measured too, and enough points for a
        // steady spectrum (ν_eff is noisy on a few thousand points).
        let patch = generate_patch(&PatchRequest {
            width_mm: 200.0,
            height_mm: 200.0,
            density_per_cm2: density,
            seed,
            ..Default::default()
        })
        .unwrap();
        let m = point_metrics(&patch.site_points(), 200.0, 200.0);
        assert!(m.relative_radius >= 0.70, "ρ = {}", m.relative_radius);
        assert!(
            m.oscillation <= 2.0 && m.oscillation > 0.3,
            "Ω = {}",
            m.oscillation
        );
        let achieved = patch.dots.len() as f64 / 400.0;
        assert!((achieved / density - 1.0).abs() < 0.05, "{achieved} vs {density}");
        m
    }

    #[test]
    fn blue_noise_statistics() {
        for (density, seed) in [(80.0, 1), (50.0, 2), (120.0, 3)] {
            let m = check(density, seed);
            assert!(
                m.effective_nyquist > 0.2 && m.effective_nyquist < 1.0,
                "ν_eff = {}",
                m.effective_nyquist
            );
        }
    }

    #[test]
    fn graded_patch_follows_its_gradient() {
        let patch = generate_patch(&PatchRequest {
            width_mm: 100.0,
            height_mm: 40.0,
            density_per_cm2: 40.0,
            end_density_per_cm2: Some(120.0),
            ..Default::default()
        })
        .unwrap();
        let left = patch.dots.iter().filter(|d| d.x_mm < 20.0).count() as f64 / 8.0;
        let right = patch.dots.iter().filter(|d| d.x_mm >= 80.0).count() as f64 / 8.0;
        assert!(
            (left / 48.0 - 1.0).abs() < 0.08 && (right / 112.0 - 1.0).abs() < 0.08,
            "{left} {right}"
        );
    }

    /// Over five seeds: a 50 mm patch holds about a thousand units, and its border strip and
    /// the unit sizes drawn move one seed's density by a few per cent (seed to seed, the
    /// sites vary by about 1.5 %).
    #[test]
    fn units_in_a_patch_follow_the_mix() {
        let mut dots = 0;
        for seed in 1..=5 {
            let patch = generate_patch(&PatchRequest {
                units: true,
                width_mm: 50.0,
                height_mm: 50.0,
                seed,
                ..Default::default()
            })
            .unwrap();
            assert!(patch.to_csv().starts_with("x_mm,y_mm,unit\n"));
            dots += patch.dots.len();
        }
        let density = dots as f64 / 25.0 / 5.0;
        assert!((density / 80.0 - 1.0).abs() < 0.05, "{density}");
    }
}

mod geometry {
    use super::*;
    use follicle_pattern::polygon;

    /// Lifts a chart region to the surface, sums small 3-D triangles, and compares with
    /// the chart's own area (and, when given, an analytic value).
    fn check(head: &Head, chart_polygon: &[[f64; 2]], analytic_mm2: Option<f64>) {
        let chart = polygon::area_mm2(chart_polygon);
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for p in chart_polygon {
            x0 = x0.min(p[0]);
            y0 = y0.min(p[1]);
            x1 = x1.max(p[0]);
            y1 = y1.max(p[1]);
        }
        let h = 0.25;
        let mut surface = 0.0;
        let mut y = y0;
        while y < y1 {
            let mut x = x0;
            while x < x1 {
                if polygon::contains(chart_polygon, [x + 0.5 * h, y + 0.5 * h]) {
                    let a = head.surface_from_chart([x, y]);
                    let b = head.surface_from_chart([x + h, y]);
                    let c = head.surface_from_chart([x + h, y + h]);
                    let d = head.surface_from_chart([x, y + h]);
                    surface += tri(a, b, c) + tri(a, c, d);
                }
                x += h;
            }
            y += h;
        }
        assert!(
            (surface / chart - 1.0).abs() < 0.02,
            "surface {surface:.1} vs chart {chart:.1}"
        );
        if let Some(want) = analytic_mm2 {
            assert!(
                (chart / want - 1.0).abs() < 0.02,
                "chart {chart:.1} vs analytic {want:.1}"
            );
        }
    }

    fn tri(a: [f64; 3], b: [f64; 3], c: [f64; 3]) -> f64 {
        let u = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
        let v = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
        let n = [
            u[1] * v[2] - u[2] * v[1],
            u[2] * v[0] - u[0] * v[2],
            u[0] * v[1] - u[1] * v[0],
        ];
        0.5 * (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt()
    }

    #[test]
    fn a_disc_on_the_chart_keeps_its_area_on_the_head() {
        let head = Head::from_spec(&HeadSpec::default()).unwrap();
        check(
            &head,
            &polygon::disc([20.0, 40.0], 20.0, 180),
            Some(std::f64::consts::PI * 400.0),
        );
        check(&head, &polygon::disc([-60.0, -70.0], 20.0, 180), None);
    }

    #[test]
    fn spherical_cap_is_exact() {
        let r = 90.0;
        let head = Head::ellipsoid(r, r, r).unwrap();
        let theta0: f64 = 0.9;
        let chart_radius = 2.0 * r * (0.5 * theta0).sin();
        let cap = 2.0 * std::f64::consts::PI * r * r * (1.0 - theta0.cos());
        check(&head, &polygon::disc([0.0, 0.0], chart_radius, 720), Some(cap));
    }

    #[test]
    fn a_geodesic_disc_of_20_mm_has_the_analytic_area() {
        // On a sphere of radius R a geodesic disc of radius s has area 2πR²(1 − cos(s/R)).
        let r = 95.0;
        let head = Head::ellipsoid(r, r, r).unwrap();
        let centre = head.chart_from_angles(0.6, 1.0);
        let c3 = head.surface_from_chart(centre);
        let s: f64 = 20.0;
        let mut ring = Vec::new();
        for i in 0..180 {
            // Walk along the sphere from the centre by s in direction i.
            let t = i as f64 / 180.0 * std::f64::consts::TAU;
            let n = [c3[0] / r, c3[1] / r, c3[2] / r];
            let e1 = {
                let v = [-n[1], n[0], 0.0];
                let l = (v[0] * v[0] + v[1] * v[1]).sqrt();
                [v[0] / l, v[1] / l, 0.0]
            };
            let e2 = [
                n[1] * e1[2] - n[2] * e1[1],
                n[2] * e1[0] - n[0] * e1[2],
                n[0] * e1[1] - n[1] * e1[0],
            ];
            let d = [
                e1[0] * t.cos() + e2[0] * t.sin(),
                e1[1] * t.cos() + e2[1] * t.sin(),
                e1[2] * t.cos() + e2[2] * t.sin(),
            ];
            let a = s / r;
            let p = [
                r * (n[0] * a.cos() + d[0] * a.sin()),
                r * (n[1] * a.cos() + d[1] * a.sin()),
                r * (n[2] * a.cos() + d[2] * a.sin()),
            ];
            ring.push(head.chart_from_surface(p));
        }
        let analytic = 2.0 * std::f64::consts::PI * r * r * (1.0 - (s / r).cos());
        check(&head, &ring, Some(analytic));
    }

    #[test]
    fn default_scalp_is_about_500_cm2_and_landmarks_sit_right() {
        let p = generate(&request(HairLoss::Norwood {
            stage: NorwoodStage::I,
        }))
        .unwrap();
        assert!(
            p.stats.scalp_area_cm2 > 450.0 && p.stats.scalp_area_cm2 < 560.0,
            "{}",
            p.stats.scalp_area_cm2
        );
        let lm = &p.landmarks;
        assert!(lm.crown_whorl.surface_mm[1] < -50.0, "whorl behind the ears");
        assert!(lm.vertex.chart_mm == [0.0, 0.0]);
        let mfp = p.hairline.mid_frontal.unwrap();
        assert!(mfp.surface_mm[2] > 40.0 && mfp.surface_mm[1] > 50.0, "{mfp:?}");
    }

    #[test]
    fn mature_hairlines_sit_higher() {
        let young = generate(&request(HairLoss::Norwood {
            stage: NorwoodStage::I,
        }))
        .unwrap();
        let mut req = request(HairLoss::Norwood {
            stage: NorwoodStage::I,
        });
        req.hairline.shape = HairlineShape::Rules {
            position: HairlinePosition::Typical,
            mature: true,
            mid_frontal_height_mm: None,
            frontotemporal_height_mm: None,
        };
        let mature = generate(&req).unwrap();
        let y = |p: &Pattern| p.hairline.mid_frontal.unwrap().surface_mm[2];
        assert!(y(&mature) > y(&young) + 5.0);
    }
}

mod errors {
    use super::*;
    use proptest::prelude::*;

    /// The error names the field and is an error, not a panic.
    fn check(req: PatternRequest, field: &str) {
        let err = generate(&req).unwrap_err();
        assert!(err.field().starts_with(field), "{err} (field {})", err.field());
        assert!(err.to_string().contains(field), "{err}");
    }

    #[test]
    fn bad_inputs_name_their_field() {
        let mut r = PatternRequest::default();
        r.density_per_cm2.frontal = -5.0;
        check(r, "density_per_cm2.frontal");
        let r = PatternRequest {
            session_fractions: vec![0.5, 0.4],
            ..Default::default()
        };
        check(r, "session_fractions[1]");
        let mut r = PatternRequest::default();
        r.head.length_mm = Some(500.0);
        check(r, "head.length_mm");
        let r = PatternRequest {
            zones: ZonesSpec::Explicit {
                zones: vec![ZoneSpec {
                    kind: ZoneKind::Crown,
                    polygon: vec![[0.0, 0.0], [10.0, 10.0], [10.0, 0.0], [0.0, 10.0]],
                }],
            },
            ..Default::default()
        };
        check(r, "zones.zones[0].polygon");
        let mut r = PatternRequest::default();
        r.hairline.shape = HairlineShape::ControlPoints {
            points: vec![[-60.0, 60.0], [0.0, 400.0], [60.0, 60.0]],
        };
        check(r, "hairline.shape.points[1]");
        let mut r = PatternRequest::default();
        r.settings.fu_mix_percent = [0.0; 4];
        check(r, "pattern.fu_mix_percent");
        let r = PatternRequest {
            exclusions: vec![Exclusion::Circle {
                center_mm: [0.0, 0.0],
                radius_mm: 0.0,
            }],
            ..Default::default()
        };
        check(r, "exclusions[0].radius_mm");
        let err = generate_patch(&PatchRequest {
            density_per_cm2: -5.0,
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "patch.density_per_cm2: expected 1–400, got -5");
        let err = generate_patch(&PatchRequest {
            width_mm: 5000.0,
            height_mm: 5000.0,
            density_per_cm2: 400.0,
            ..Default::default()
        })
        .unwrap_err();
        assert!(matches!(err, PatternError::TooLarge { .. }), "{err}");
    }

    /// A request's work is bounded before anything is drawn (found by `scripts/fuzz`): 50
    /// scars of 5,000 FUE punches each, or 200 zones of 4,000 vertices each, are refused
    /// with the field, the count and the cap, not drawn for minutes.
    #[test]
    fn request_work_is_bounded() {
        let punches = |count| ScarSpec::FuePunches {
            count,
            punch_diameter_mm: 0.9,
            margin_mm: 0.5,
            donor: None,
        };
        let r = PatternRequest {
            scars: vec![punches(5000); 50],
            ..Default::default()
        };
        let err = generate(&r).unwrap_err();
        assert_eq!(
            err.to_string(),
            "scars: expected at most 10000 punches in all the scars, got 250000 FUE punches in all"
        );
        // A square of 4,000 vertices, 200 times.
        let square: Vec<[f64; 2]> = (0..4000)
            .map(|i| {
                let t = f64::from(i) / 1000.0;
                match i / 1000 {
                    0 => [-20.0 + 40.0 * t, -20.0],
                    1 => [20.0, -20.0 + 40.0 * (t - 1.0)],
                    2 => [20.0 - 40.0 * (t - 2.0), 20.0],
                    _ => [-20.0, 20.0 - 40.0 * (t - 3.0)],
                }
            })
            .collect();
        let zones = vec![
            ZoneSpec {
                kind: ZoneKind::Crown,
                polygon: square,
            };
            200
        ];
        let r = PatternRequest {
            zones: ZonesSpec::Explicit { zones },
            ..Default::default()
        };
        assert_eq!(r.vertices(), 800_000);
        let err = generate(&r).unwrap_err();
        assert!(
            matches!(
                &err,
                PatternError::TooLarge { requested: 800_000, cap, .. } if *cap == MAX_REQUEST_VERTICES as u64
            ),
            "{err}"
        );
        assert!(err.to_string().contains("vertices"), "{err}");
        // Within the caps: two scars of 5,000 punches on the default donor area are drawn,
        // as many as fit (the punches are spaced through a grid, not against each other
        // punch: before, this took seconds in a release build).
        let r = PatternRequest {
            scars: vec![punches(5000), punches(5000)],
            ..request(HairLoss::Norwood {
                stage: NorwoodStage::I,
            })
        };
        let p = generate(&r).unwrap();
        assert!(p.zones.iter().filter(|z| z.kind == ZoneKind::Scar).count() > 500);
    }

    /// A drawn hairline that stops short of the midline is refused, naming the points (found
    /// by `scripts/fuzz`: the temple and frontal zones were split with `clamp(95, 85)`, a panic).
    #[test]
    fn control_point_hairline_must_cross_the_forehead() {
        let mut r = PatternRequest::default();
        r.hairline.shape = HairlineShape::ControlPoints {
            points: vec![[-63.0, 40.0], [-30.0, 70.0], [0.0, 40.0]],
        };
        let err = generate(&r).unwrap_err();
        assert_eq!(err.field(), "hairline.shape.points");
        assert!(err.to_string().contains("from one side to the other"), "{err}");
        // The input as the fuzzer found it, through JSON as the API reads it.
        let json = r#"{"hairline": {"style": "sharp", "shape": {"kind": "control_points", "points": [[-63, 40], [-30, 70], [0, 40]]}}, "zones": {"kind": "stage", "stage": "norwood_3"}}"#;
        let r: PatternRequest = serde_json::from_str(json).unwrap();
        assert_eq!(generate(&r).unwrap_err().field(), "hairline.shape.points");
    }

    #[test]
    fn control_point_hairlines_work() {
        let mut r = request(HairLoss::Norwood {
            stage: NorwoodStage::II,
        });
        r.hairline.shape = HairlineShape::ControlPoints {
            points: vec![
                [80.0, 25.0],
                [55.0, 60.0],
                [0.0, 80.0],
                [-55.0, 60.0],
                [-80.0, 25.0],
            ],
        };
        let p = generate(&r).unwrap();
        assert!(p.dots.len() > 500);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

        #[test]
        fn requests_never_panic(
            density in -50.0f64..500.0,
            f1 in -0.5f64..1.5,
            length in 50.0f64..300.0,
            stage in 0usize..30,
            style in 0usize..3,
            pts in proptest::collection::vec((-300.0f64..300.0, -300.0f64..300.0), 0..6),
            seed in any::<u64>(),
        ) {
            let mut r = PatternRequest {
                zones: ZonesSpec::Stage { stage: all_stages()[stage % all_stages().len()].clone() },
                seed,
                ..PatternRequest::default()
            };
            r.density_per_cm2.crown = density;
            r.density_per_cm2.mid_scalp = density.clamp(1.0, 120.0);
            r.session_fractions = vec![f1, 1.0];
            r.head.length_mm = Some(length);
            r.hairline.style = [HairlineStyle::Soft, HairlineStyle::Broken, HairlineStyle::Sharp][style];
            if !pts.is_empty() {
                r.exclusions = vec![Exclusion::Polygon { points: pts.iter().map(|p| [p.0, p.1]).collect() }];
            }
            match generate(&r) {
                Ok(p) => {
                    prop_assert!(p.dots.iter().all(|d| d.x_mm.is_finite() && d.y_mm.is_finite()));
                    prop_assert!(p.stats.sessions.len() == 2);
                }
                Err(e) => prop_assert!(!e.field().is_empty() && !e.to_string().is_empty()),
            }
        }

        #[test]
        fn patches_never_panic_and_keep_their_spacing(
            w in -10.0f64..120.0,
            h in -10.0f64..120.0,
            density in -10.0f64..450.0,
            end in proptest::option::of(0.0f64..450.0),
            units in any::<bool>(),
            seed in any::<u64>(),
        ) {
            let req = PatchRequest { width_mm: w, height_mm: h, density_per_cm2: density, end_density_per_cm2: end, units, seed };
            match generate_patch(&req) {
                Ok(p) => {
                    let sites = p.site_points();
                    prop_assert!(p.dots.iter().all(|d| d.x_mm > -1.0 && d.x_mm < w + 1.0 && d.y_mm > -1.0 && d.y_mm < h + 1.0));
                    if !units && sites.len() > 1 {
                        // No two sites closer than the smallest radius anywhere.
                        let d_max = density.max(end.unwrap_or(density));
                        let r_min = 10.0 * (PACKING_CONSTANT / d_max).sqrt();
                        let nn = metrics::nearest_neighbour_distances(&sites);
                        prop_assert!(nn.iter().all(|&d| d >= r_min * 0.999), "min {:?} < {r_min}", nn.iter().cloned().fold(f64::INFINITY, f64::min));
                    }
                }
                Err(e) => prop_assert!(e.field().starts_with("patch.")),
            }
        }
    }
}
