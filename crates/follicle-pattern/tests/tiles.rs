//! The tiled sampler: the same dots on any number of threads, no seams along tile borders,
//! and a cache whose incremental generation equals a fresh one.

use follicle_pattern::*;
use proptest::prelude::*;

fn norwood(stage: NorwoodStage) -> PatternRequest {
    PatternRequest {
        zones: ZonesSpec::Stage {
            stage: HairLoss::Norwood { stage },
        },
        ..PatternRequest::default()
    }
}

/// 1, 2 and 4 threads give byte-identical patterns and patches.
#[test]
fn output_does_not_depend_on_threads() {
    let mut req = norwood(NorwoodStage::VII);
    req.scars = vec![crate::stages::fut_strip()];
    let one = PatternCache::with_threads(1).generate(&req).unwrap().to_json();
    for threads in [2, 4] {
        let many = PatternCache::with_threads(threads)
            .generate(&req)
            .unwrap()
            .to_json();
        assert!(one == many, "{threads} threads differ from one");
    }
    let patch = PatchRequest {
        width_mm: 120.0,
        height_mm: 90.0,
        density_per_cm2: 40.0,
        end_density_per_cm2: Some(120.0),
        seed: 5,
        ..PatchRequest::default()
    };
    let settings = PatternSettings::default();
    let one = generate_patch_on(&patch, &settings, 1).unwrap();
    for threads in [2, 4] {
        assert_eq!(
            one,
            generate_patch_on(&patch, &settings, threads).unwrap(),
            "{threads} threads"
        );
    }
}

/// Sites of a uniform patch big enough for many tiles, with the patch's site radius.
fn uniform_sites(density: f64, side_mm: f64, seed: u64) -> (Vec<[f64; 2]>, f64) {
    let patch = generate_patch(&PatchRequest {
        width_mm: side_mm,
        height_mm: side_mm,
        density_per_cm2: density,
        seed,
        ..PatchRequest::default()
    })
    .unwrap();
    (patch.site_points(), 10.0 * (PACKING_CONSTANT / density).sqrt())
}

/// Distance from `v` to the nearest multiple of the tile side.
fn to_border(v: f64) -> f64 {
    let t = f64::from(TILE_MM);
    let m = v.rem_euclid(t);
    m.min(t - m)
}

/// Two-sample Kolmogorov–Smirnov statistic.
fn ks(a: &mut [f64], b: &mut [f64]) -> f64 {
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let (mut i, mut j, mut d) = (0, 0, 0.0f64);
    while i < a.len() && j < b.len() {
        if a[i] <= b[j] {
            i += 1;
        } else {
            j += 1;
        }
        d = d.max((i as f64 / a.len() as f64 - j as f64 / b.len() as f64).abs());
    }
    d
}

/// Nearest-neighbour distances of sites along tile borders (within one radius of a border
/// line) against those deep inside tiles: the same distribution (two-sample KS at
/// α = 0.001), the same mean within 2 %, and no pair closer than the radius across a border.
#[test]
fn no_seams_in_nearest_neighbours() {
    for (density, seed) in [(80.0, 1), (40.0, 2)] {
        let side = 8.0 * f64::from(TILE_MM);
        let (sites, r) = uniform_sites(density, side, seed);
        let nn = metrics::nearest_neighbour_distances(&sites);
        let (mut border, mut inner) = (Vec::new(), Vec::new());
        for (p, &d) in sites.iter().zip(&nn) {
            // Away from the patch's own edges.
            if p[0] < 3.0 * r || p[1] < 3.0 * r || p[0] > side - 3.0 * r || p[1] > side - 3.0 * r {
                continue;
            }
            let b = to_border(p[0]).min(to_border(p[1]));
            if b < r {
                border.push(d);
            } else if b > 3.0 * r {
                inner.push(d);
            }
        }
        assert!(
            border.len() > 1000 && inner.len() > 1000,
            "{} {}",
            border.len(),
            inner.len()
        );
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let (mb, mi) = (mean(&border), mean(&inner));
        assert!(
            (mb / mi - 1.0).abs() < 0.02,
            "{density}/cm²: mean NN {mb:.4} at borders, {mi:.4} inside"
        );
        let min = border.iter().cloned().fold(f64::INFINITY, f64::min);
        assert!(
            min >= 0.999 * r,
            "{density}/cm²: closest pair at a border {min:.4} < r = {r:.4}"
        );
        let (n, m) = (border.len() as f64, inner.len() as f64);
        let d = ks(&mut border, &mut inner);
        let critical = 1.95 * ((n + m) / (n * m)).sqrt();
        assert!(d < critical, "{density}/cm²: KS {d:.4} ≥ {critical:.4}");
    }
}

/// The radial power spectrum of windows straddling tile corners (two borders crossing)
/// against windows in tile interiors: a seam (a gap or a crowded line) would add power below
/// the blue-noise peak and blur the peak. Averaged over many windows of one tile's size.
#[test]
fn no_seams_in_the_spectrum() {
    let t = f64::from(TILE_MM);
    let (sites, _) = uniform_sites(80.0, 8.0 * t, 3);
    let window = |cx: f64, cy: f64| -> RadialSpectrum {
        let half = 0.5 * t;
        let pts: Vec<[f64; 2]> = sites
            .iter()
            .filter(|p| (p[0] - cx).abs() < half && (p[1] - cy).abs() < half)
            .map(|p| [p[0] - cx + half, p[1] - cy + half])
            .collect();
        metrics::radial_power_spectrum(&pts, t, t)
    };
    let average = |centres: &[(f64, f64)]| -> (Vec<f64>, Vec<f64>) {
        let mut freq = Vec::new();
        let mut acc: Vec<f64> = Vec::new();
        for &(cx, cy) in centres {
            let s = window(cx, cy);
            if acc.is_empty() {
                acc = vec![0.0; s.power.len()];
                freq = s.frequency.clone();
            }
            for (a, p) in acc.iter_mut().zip(&s.power) {
                *a += p / centres.len() as f64;
            }
        }
        (freq, acc)
    };
    // Tile corners 1..7 (inside the patch) and tile centres.
    let corners: Vec<(f64, f64)> = (1..8)
        .flat_map(|i| (1..8).map(move |j| (i as f64 * t, j as f64 * t)))
        .collect();
    let centres: Vec<(f64, f64)> = (0..8)
        .flat_map(|i| (0..8).map(move |j| ((i as f64 + 0.5) * t, (j as f64 + 0.5) * t)))
        .collect();
    let (freq, at_borders) = average(&corners);
    let (_, inside) = average(&centres);
    let band = |p: &[f64], lo: f64, hi: f64| -> f64 {
        let v: Vec<f64> = freq
            .iter()
            .zip(p)
            .filter(|(f, _)| **f >= lo && **f < hi)
            .map(|(_, p)| *p)
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let peak = |p: &[f64]| -> f64 {
        let (i, _) = p
            .iter()
            .enumerate()
            .filter(|(i, _)| freq[*i] > 0.5)
            .fold((0, 0.0), |best, (i, &v)| if v > best.1 { (i, v) } else { best });
        freq[i]
    };
    let (low_b, low_i) = (band(&at_borders, 0.2, 0.6), band(&inside, 0.2, 0.6));
    assert!(
        low_b < 1.3 * low_i + 0.03,
        "power below the peak: {low_b:.3} at borders vs {low_i:.3} inside"
    );
    let (peak_b, peak_i) = (peak(&at_borders), peak(&inside));
    assert!(
        (peak_b / peak_i - 1.0).abs() < 0.1,
        "peak at {peak_b:.3} at borders vs {peak_i:.3} inside"
    );
    let (high_b, high_i) = (band(&at_borders, 1.5, 3.0), band(&inside, 1.5, 3.0));
    assert!(
        (high_b / high_i - 1.0).abs() < 0.1,
        "high band {high_b:.3} at borders vs {high_i:.3} inside"
    );
}

/// A density edit through the cache equals a fresh generation, and re-samples only the tiles
/// of the edited zone and a ring around them.
#[test]
fn cache_equals_fresh_and_resamples_a_part() {
    let mut cache = PatternCache::with_threads(2);
    let mut req = norwood(NorwoodStage::VII);
    req.scars = vec![ScarSpec::FutStrip {
        line: None,
        length_mm: 120.0,
        height_mm: -35.0,
        width_mm: 4.0,
        margin_mm: 3.0,
    }];
    assert_eq!(cache.generate(&req).unwrap(), generate(&req).unwrap());
    assert_eq!(cache.stats().resampled, cache.stats().tiles);
    // The same request again: nothing re-sampled.
    cache.generate(&req).unwrap();
    assert_eq!(cache.stats().resampled, 0);
    // The scar strip's density: the tiles along the strip and a ring that grows with each
    // session (a later session sees the earlier one's changed sites): under half the chart.
    req.density_per_cm2.scar += 10.0;
    let edited = cache.generate(&req).unwrap();
    let stats = cache.stats();
    assert!(
        edited == generate(&req).unwrap(),
        "cached edit differs from a fresh generation"
    );
    assert!(
        stats.resampled > 0 && stats.resampled * 2 < stats.tiles,
        "{stats:?}"
    );
    // A large zone's density: more, still equal to a fresh generation.
    req.density_per_cm2.crown += 6.0;
    let edited = cache.generate(&req).unwrap();
    assert!(
        edited == generate(&req).unwrap(),
        "cached edit differs from a fresh generation"
    );
    assert!(
        cache.stats().resampled < cache.stats().tiles,
        "{:?}",
        cache.stats()
    );
    // A change of seed starts afresh.
    req.seed += 1;
    assert_eq!(cache.generate(&req).unwrap(), generate(&req).unwrap());
    assert_eq!(cache.stats().resampled, cache.stats().tiles);
}

/// A hairline drag previewed: only the tiles whose density changed are sampled afresh (fewer
/// than the exact edit re-samples), the dots stay close to the exact edit's in number, and the
/// release through the same cache equals a fresh generation.
#[test]
fn a_preview_samples_only_the_changed_tiles() {
    let mut req = norwood(NorwoodStage::VII);
    let mut exact = PatternCache::with_threads(2);
    let mut preview = PatternCache::with_threads(2);
    exact.generate(&req).unwrap();
    preview.generate(&req).unwrap();
    for step in 1..=3 {
        req.hairline.shape = HairlineShape::Rules {
            position: HairlinePosition::Typical,
            mature: false,
            mid_frontal_height_mm: Some(80.0 - 0.4 * f64::from(step)),
            frontotemporal_height_mm: None,
        };
        let full = exact.generate(&req).unwrap();
        let redone = exact.stats().resampled;
        let previewed = preview.preview_until(&req, &|| false).unwrap().unwrap();
        let stats = preview.stats();
        assert!(
            stats.resampled > 0 && stats.resampled < redone,
            "step {step}: the preview re-sampled {} tiles, the exact edit {redone} (of {})",
            stats.resampled,
            stats.tiles
        );
        let (a, b) = (previewed.dots.len() as f64, full.dots.len() as f64);
        assert!(
            (a / b - 1.0).abs() < 0.01,
            "step {step}: {a} dots previewed, {b} exact"
        );
    }
    assert!(preview.generate(&req).unwrap() == generate(&req).unwrap());
}

/// A generation asked to stop part-way gives nothing, starts no tile after the stop, and
/// leaves the cache as it was: the next edit reuses the generation before it and still equals
/// a fresh generation (1 and 2 threads).
#[test]
fn a_stopped_generation_keeps_the_cache_as_it_was() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    for threads in [1, 2] {
        let mut cache = PatternCache::with_threads(threads);
        let mut req = norwood(NorwoodStage::VII);
        cache.generate(&req).unwrap();
        let tiles = cache.stats().tiles;
        // Stopped before the first tile (the layout is drawn, then the answer is asked).
        req.density_per_cm2.crown += 6.0;
        assert_eq!(cache.generate_until(&req, &|| true).unwrap(), None);
        assert_eq!(cache.stats().resampled, 0, "{threads} threads");
        // Stopped after 40 questions: at most 40 tiles started, and fewer than the edit needs.
        let asked = AtomicUsize::new(0);
        let stop = || asked.fetch_add(1, Ordering::Relaxed) >= 40;
        assert_eq!(cache.generate_until(&req, &stop).unwrap(), None);
        let started = cache.stats().resampled;
        assert!(
            started <= 40,
            "{started} tiles re-sampled after the stop ({threads} threads)"
        );
        // The generation before both is still the cache's: the unedited design re-samples
        // nothing, and the edit equals a fresh generation.
        req.density_per_cm2.crown -= 6.0;
        cache.generate(&req).unwrap();
        assert_eq!(cache.stats().resampled, 0, "{threads} threads");
        req.density_per_cm2.crown += 6.0;
        let edited = cache.generate_until(&req, &|| false).unwrap();
        assert!(edited == Some(generate(&req).unwrap()), "{threads} threads");
        let needed = cache.stats().resampled;
        assert!(
            needed > 40 && needed < tiles,
            "{needed} of {tiles} tiles ({threads} threads)"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 10,
        rng_seed: proptest::test_runner::RngSeed::Fixed(13),
        ..ProptestConfig::default()
    })]

    /// A sequence of small design edits (a zone's density, the hairline's height, a scar)
    /// through one cache gives, at every step, exactly what a fresh generation gives, also
    /// when the step was first previewed (as a drag does before its release).
    #[test]
    fn cached_edits_equal_fresh_generations(
        edits in proptest::collection::vec((0usize..7, -6.0f64..6.0, 0usize..3, any::<bool>()), 1..4),
        seed in 0u64..50,
    ) {
        let mut cache = PatternCache::with_threads(2);
        let mut req = norwood(NorwoodStage::V);
        req.seed = seed;
        cache.generate(&req).unwrap();
        for (zone, delta, what, previewed) in edits {
            match what {
                0 => {
                    let kind = ZoneKind::ALL[zone];
                    let d = req.density_per_cm2.get_mut(kind);
                    *d = (*d + delta).clamp(10.0, 150.0);
                }
                1 => {
                    // A drag of the mid-frontal point.
                    req.hairline.shape = HairlineShape::Rules {
                        position: HairlinePosition::Typical,
                        mature: false,
                        mid_frontal_height_mm: Some(80.0 + delta),
                        frontotemporal_height_mm: None,
                    };
                }
                _ => {
                    req.scars = vec![ScarSpec::FuePunches {
                        count: 20 + zone as u32 * 5,
                        punch_diameter_mm: 1.0,
                        margin_mm: 0.5,
                        donor: None,
                    }];
                }
            }
            if previewed {
                let preview = cache.preview_until(&req, &|| false).unwrap();
                prop_assert!(preview.is_some_and(|p| !p.dots.is_empty()));
            }
            let cached = cache.generate(&req).unwrap();
            let fresh = generate(&req).unwrap();
            prop_assert!(cached == fresh, "edit {what} of zone {zone} by {delta} (previewed: {previewed})");
        }
    }
}
