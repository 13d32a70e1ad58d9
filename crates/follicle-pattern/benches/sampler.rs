//! Sampler benchmarks: variable-density patches of 10k, 100k and 1M dots (on one thread and
//! on two) next to the `fast_poisson` crate (uniform radius, Bridson with 30 candidates) at
//! the same counts, a full Norwood VII scalp over all sessions on one and two threads, and a
//! designer edit through the [`PatternCache`].
//!
//! `cargo bench -p follicle-pattern --bench sampler` runs them under divan. With
//! `FOLLICLE_BENCH_SUMMARY=1` it instead prints one machine-readable line per case
//! (median of several runs) plus ρ, Ω and ν_eff of a 100×100 mm patch at 80/cm²; that is
//! what `scripts/bench-pattern` reads to build its table. With `FOLLICLE_BENCH_PROFILE=<n>`
//! it runs only the 100k-dot patch `n` times on one thread (for callgrind).

use std::hint::black_box;
use std::time::Instant;

use fast_poisson::Poisson2D;
use follicle_pattern::{
    HairLoss, NorwoodStage, PatchRequest, PatternCache, PatternRequest, PatternSettings, ZonesSpec,
    generate_patch_on, point_metrics,
};

const COUNTS: [usize; 3] = [10_000, 100_000, 1_000_000];
/// Mean density of the graded patches (40 → 120 dots/cm² across the width).
const MEAN_DENSITY: f64 = 80.0;

fn side_mm(points: usize) -> f64 {
    (points as f64 / MEAN_DENSITY * 100.0).sqrt()
}

fn graded_patch(points: usize, seed: u64) -> PatchRequest {
    let side = side_mm(points);
    PatchRequest {
        width_mm: side,
        height_mm: side,
        density_per_cm2: 40.0,
        end_density_per_cm2: Some(120.0),
        units: false,
        seed,
    }
}

/// fast_poisson at the same count: its radius for the same mean density (its Bridson
/// packs about 0.70 points per r², measured).
fn fast_poisson_points(points: usize, seed: u64) -> usize {
    let side = side_mm(points);
    let r = (0.70 / (MEAN_DENSITY / 100.0)).sqrt();
    Poisson2D::new()
        .with_dimensions([side, side], r)
        .with_seed(seed)
        .iter()
        .count()
}

fn norwood_7() -> PatternRequest {
    PatternRequest {
        zones: ZonesSpec::Stage {
            stage: HairLoss::Norwood {
                stage: NorwoodStage::VII,
            },
        },
        ..PatternRequest::default()
    }
}

fn patch_on(points: usize, threads: usize) -> usize {
    generate_patch_on(&graded_patch(points, 1), &PatternSettings::default(), threads)
        .map(|p| p.dots.len())
        .unwrap_or(0)
}

fn norwood_on(threads: usize) -> usize {
    PatternCache::with_threads(threads)
        .generate(&norwood_7())
        .map(|p| p.dots.len())
        .unwrap_or(0)
}

#[divan::bench(args = COUNTS, sample_count = 5)]
fn follicle_variable_density(bencher: divan::Bencher<'_, '_>, points: usize) {
    bencher.bench(|| patch_on(black_box(points), 1));
}

// fast_poisson needs about 70 s for 1M points: one sample each.
#[divan::bench(args = COUNTS, sample_count = 1, sample_size = 1)]
fn fast_poisson_uniform(bencher: divan::Bencher<'_, '_>, points: usize) {
    bencher.bench(|| fast_poisson_points(black_box(points), 1));
}

#[divan::bench(args = [1, 2], sample_count = 10)]
fn norwood_7_all_sessions(bencher: divan::Bencher<'_, '_>, threads: usize) {
    bencher.bench(|| norwood_on(black_box(threads)));
}

/// Median wall time of `runs` runs (the machine is shared and noisy) and the count the last
/// one produced.
fn median_of(runs: usize, mut f: impl FnMut() -> usize) -> (usize, f64) {
    let mut times = Vec::with_capacity(runs);
    let mut count = 0;
    for _ in 0..runs {
        let t = Instant::now();
        count = f();
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    (count, times[times.len() / 2])
}

fn summary() {
    for points in COUNTS {
        let runs = if points >= 1_000_000 { 3 } else { 7 };
        for threads in [1, 2] {
            let (n, s) = median_of(runs, || patch_on(points, threads));
            println!("follicle{threads} {points} {n} {s:.6}");
        }
        let runs = if points >= 1_000_000 { 1 } else { 3 };
        let (n, s) = median_of(runs, || fast_poisson_points(points, 1));
        println!("fast_poisson {points} {n} {s:.6}");
    }
    for threads in [1, 2] {
        let (n, s) = median_of(15, || norwood_on(threads));
        println!("norwood7_{threads} {n} {s:.6}");
    }
    // A designer edit: the crown's density changed through a warm cache (two threads).
    let mut cache = PatternCache::with_threads(2);
    let base = norwood_7();
    let mut edited = norwood_7();
    edited.density_per_cm2.crown += 5.0;
    let _ = cache.generate(&base);
    let mut flip = false;
    let (n, s) = median_of(15, || {
        flip = !flip;
        let req = if flip { &edited } else { &base };
        cache.generate(req).map(|p| p.dots.len()).unwrap_or(0)
    });
    let st = cache.stats();
    println!("norwood7_edit {n} {s:.6} {} {}", st.resampled, st.tiles);
    let patch = generate_patch_on(
        &PatchRequest {
            width_mm: 100.0,
            height_mm: 100.0,
            density_per_cm2: 80.0,
            seed: 1,
            ..Default::default()
        },
        &PatternSettings::default(),
        1,
    );
    if let Ok(patch) = patch {
        let m = point_metrics(&patch.site_points(), 100.0, 100.0);
        println!(
            "metrics {} {:.4} {:.4} {:.4} {:.4} {:.4}",
            m.points,
            m.relative_radius,
            m.oscillation,
            m.effective_nyquist,
            m.mean_nn_distance_mm,
            m.mean_nn_relative
        );
    }
}

fn main() {
    if let Some(n) = std::env::var("FOLLICLE_BENCH_PROFILE")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        for _ in 0..n {
            black_box(patch_on(100_000, 1));
        }
        black_box(norwood_on(1));
    } else if std::env::var_os("FOLLICLE_BENCH_SUMMARY").is_some() {
        summary();
    } else {
        divan::main();
    }
}
