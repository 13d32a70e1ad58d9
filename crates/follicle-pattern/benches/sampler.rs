//! Sampler benchmarks: variable-density patches of 10k, 100k and 1M dots (on one thread and
//! on two) next to the `fast_poisson` crate (uniform radius, Bridson with 30 candidates) at
//! the same counts, a full Norwood VII scalp over all sessions on one and two threads, and a
//! designer edit through the [`PatternCache`].
//!
//! `cargo bench -p follicle-pattern --bench sampler` runs them under divan. With
//! `FOLLICLE_BENCH_SUMMARY=1` it instead prints one machine-readable line per case
//! (median of several runs) plus ρ, Ω and ν_eff of a 100×100 mm patch at 80/cm²; that is
//! what `scripts/bench-pattern` reads to build its table. With `FOLLICLE_BENCH_PROFILE=<n>`
//! it runs only the 100k-dot patch `n` times on one thread and a Norwood VII scalp once (for
//! callgrind); with `FOLLICLE_BENCH_QUICK=<n>`, the 100k-dot patch's median of `n` runs on one
//! thread and the measures of six seeds' patches (for trying a change in seconds); with
//! `FOLLICLE_BENCH_NORWOOD=<n>`, the Norwood VII scalp's medians of `n` runs on one thread and
//! on two, and the summary's hairline drag previewed on each.
//!
//! Everything here allocates through mimalloc, the allocator the `follicle` binary ships with:
//! with the system's malloc a Norwood VII generation also paid about 1,300 page faults for
//! memory freed by the one before (4–5 ms of kernel time a generation on 2026-12-06's machine),
//! which the product does not pay.

use std::hint::black_box;
use std::time::Instant;

use fast_poisson::Poisson2D;
use follicle_pattern::{
    HairLoss, HairlineShape, NorwoodStage, PatchRequest, Pattern, PatternCache, PatternError, PatternRequest,
    PatternSettings, ZonesSpec, generate, generate_patch_on, point_metrics,
};

/// The allocator the `follicle` binary ships with (its `main.rs`), so that what a generation
/// costs in fresh memory is measured as the product pays it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// A hairline drag as the designer sends it: the Norwood VII design's hairline as control
/// points (its anchors to 0.01 mm, as the page rounds them), the mid-frontal point moved back
/// by `step_mm` a move, `moves` moves.
fn hairline_drag(moves: usize, step_mm: f64) -> Vec<PatternRequest> {
    let base = norwood_7();
    let Ok(drawn) = generate(&base) else {
        return Vec::new();
    };
    let round = |v: f64| (v * 100.0).round() / 100.0;
    let anchors: Vec<[f64; 2]> = drawn
        .hairline
        .anchors
        .iter()
        .map(|a| [round(a[0]), round(a[1])])
        .collect();
    let mid = anchors.len() / 2;
    (0..=moves)
        .map(|k| {
            let mut points = anchors.clone();
            points[mid][1] = round(points[mid][1] - k as f64 * step_mm);
            let mut req = base.clone();
            req.hairline.shape = HairlineShape::ControlPoints { points };
            req
        })
        .collect()
}

/// One edit of a drag through `cache`: exact, or (`preview`) as the designer draws a drag.
fn drag_edit(cache: &mut PatternCache, req: &PatternRequest, preview: bool) -> Result<Pattern, PatternError> {
    if preview {
        let never = || false;
        cache
            .preview_until(req, &never)
            .map(|p| p.expect("a preview never asked to stop runs to its end"))
    } else {
        cache.generate(req)
    }
}

/// Runs the drag through a warm cache on `threads` threads, each edit exact or (`preview`)
/// as the designer draws a drag: the median time of an edit, and the tiles re-sampled and in
/// all (medians over the edits).
fn drag_on(threads: usize, edits: &[PatternRequest], preview: bool) -> (f64, usize, usize) {
    let mut cache = PatternCache::with_threads(threads);
    let Some(first) = edits.first() else {
        return (0.0, 0, 0);
    };
    let _ = cache.generate(first);
    let mut times = Vec::new();
    let mut resampled = Vec::new();
    let mut tiles = 0;
    for req in &edits[1..] {
        let t = Instant::now();
        black_box(
            drag_edit(&mut cache, req, preview)
                .map(|p| p.dots.len())
                .unwrap_or(0),
        );
        times.push(t.elapsed().as_secs_f64());
        resampled.push(cache.stats().resampled);
        tiles = cache.stats().tiles;
    }
    times.sort_by(f64::total_cmp);
    resampled.sort();
    (times[times.len() / 2], resampled[resampled.len() / 2], tiles)
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

/// One edit of a hairline drag (the mid-frontal point moved 0.4 mm) through a warm cache.
#[divan::bench(args = [1, 2], sample_count = 10)]
fn norwood_7_hairline_drag_edit(bencher: divan::Bencher<'_, '_>, threads: usize) {
    let edits = hairline_drag(1, 0.4);
    let mut cache = PatternCache::with_threads(threads);
    let mut flip = false;
    bencher.bench_local(|| {
        flip = !flip;
        cache
            .generate(&edits[usize::from(flip)])
            .map(|p| p.dots.len())
            .unwrap_or(0)
    });
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
    // A hairline drag: the mid-frontal point moved back 0.4 mm a move, 20 moves.
    let edits = hairline_drag(20, 0.4);
    for threads in [1, 2] {
        let (s, resampled, tiles) = drag_on(threads, &edits, false);
        println!("norwood7_drag{threads} {s:.6} {resampled} {tiles}");
        let (s, resampled, tiles) = drag_on(threads, &edits, true);
        println!("norwood7_drag_preview{threads} {s:.6} {resampled} {tiles}");
    }
    metrics_line(1);
}

/// ρ, Ω, ν_eff and the mean nearest-neighbour distance of a 100×100 mm patch at 80 dots/cm².
fn metrics_line(seed: u64) {
    let patch = generate_patch_on(
        &PatchRequest {
            width_mm: 100.0,
            height_mm: 100.0,
            density_per_cm2: 80.0,
            seed,
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

/// How long a drag edit takes to stop once it is asked to (a designer's edit superseded while
/// it is drawn): each edit of the drag is started on a warm cache on `threads` threads and
/// asked to stop after `after_ms`; the time from the stop to `generate_until`'s answer, in ms,
/// sorted. An edit that finished before the stop is left out.
fn stop_latencies(threads: usize, edits: &[PatternRequest], after_ms: f64) -> Vec<f64> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};
    let mut cache = PatternCache::with_threads(threads);
    let Some(first) = edits.first() else {
        return Vec::new();
    };
    let _ = cache.generate(first);
    let mut out = Vec::new();
    for pair in edits.windows(2) {
        let stop = AtomicBool::new(false);
        let stopped_at: Mutex<Option<Instant>> = Mutex::new(None);
        let answered = std::thread::scope(|scope| {
            scope.spawn(|| {
                std::thread::sleep(std::time::Duration::from_secs_f64(after_ms / 1e3));
                if let Ok(mut at) = stopped_at.lock() {
                    *at = Some(Instant::now());
                }
                stop.store(true, Ordering::Relaxed);
            });
            let drawn = cache.generate_until(&pair[1], &|| stop.load(Ordering::Relaxed));
            (Instant::now(), matches!(drawn, Ok(None)))
        });
        let at = stopped_at.lock().ok().and_then(|at| *at);
        if let ((done, true), Some(at)) = (answered, at) {
            out.push(done.duration_since(at).as_secs_f64() * 1e3);
        }
        // Back to the drag's state before this edit's next move.
        let _ = cache.generate(&pair[1]);
    }
    out.sort_by(f64::total_cmp);
    out
}

fn main() {
    // FOLLICLE_BENCH_STOP=<n>: n edits of the hairline drag, each asked to stop 5 ms in (one
    // and two threads): how long each took to stop.
    if let Some(n) = std::env::var("FOLLICLE_BENCH_STOP")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        let edits = hairline_drag(n, 0.4);
        for threads in [1, 2] {
            let ms = stop_latencies(threads, &edits, 5.0);
            if let (Some(min), Some(max)) = (ms.first(), ms.last()) {
                println!(
                    "stop, {threads} thread(s): {} of {n} edits stopped; ms from the stop to the answer: min {min:.3}, median {:.3}, max {max:.3}",
                    ms.len(),
                    ms[ms.len() / 2]
                );
            }
        }
        return;
    }
    // FOLLICLE_BENCH_DRAG=<n>: n edits of a hairline drag through a warm cache on one thread
    // (for callgrind), with the tiles each re-sampled; previews, as the designer draws a drag
    // (FOLLICLE_BENCH_DRAG_EXACT set: exact edits).
    if let Some(n) = std::env::var("FOLLICLE_BENCH_DRAG")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        // And the re-plan the designer makes from each edit's dots (the quote follows the
        // drag), for the demo's Norwood VII client.
        let settings = follicle_core::Settings::default();
        let today = time::macros::date!(2026 - 12 - 01);
        let client = follicle_core::ClientProfile::from_toml(
            include_str!("../../../examples/clients/norwood-7-full-coverage.toml"),
            &settings,
            today,
        )
        .ok();
        let mut full_areas = follicle_pattern::treatment::FullAreas::new(4);
        let edits = hairline_drag(n, 0.4);
        let mut cache = PatternCache::with_threads(1);
        let exact = std::env::var_os("FOLLICLE_BENCH_DRAG_EXACT").is_some();
        for (k, req) in edits.iter().enumerate() {
            let t = Instant::now();
            let drawn = drag_edit(&mut cache, req, !exact && k > 0);
            let drawn_ms = t.elapsed().as_secs_f64() * 1e3;
            let t = Instant::now();
            if let (Ok(drawn), Some(client)) = (&drawn, &client) {
                let planned = follicle_pattern::treatment::replan_drawn(
                    req,
                    drawn,
                    client,
                    &settings,
                    today,
                    today,
                    &mut full_areas,
                );
                black_box(planned.map(|t| t.plan.sessions.len()).unwrap_or(0));
            }
            eprintln!(
                "drawn {drawn_ms:.2} ms, planned {:.2} ms, resampled {} of {}",
                t.elapsed().as_secs_f64() * 1e3,
                cache.stats().resampled,
                cache.stats().tiles
            );
        }
        return;
    }
    // FOLLICLE_BENCH_NORWOOD=<runs>: the Norwood VII scalp on one and two threads (medians of
    // `runs`), for trying a change to the layout or the dot stage in seconds.
    if let Some(runs) = std::env::var("FOLLICLE_BENCH_NORWOOD")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        for threads in [1, 2] {
            let (n, s) = median_of(runs.max(1), || norwood_on(threads));
            println!("norwood7_{threads} {n} {:.2} ms", s * 1e3);
        }
        // The hairline drag of the summary, previewed (median of its 20 edits).
        let edits = hairline_drag(20, 0.4);
        for threads in [1, 2] {
            let (s, resampled, tiles) = drag_on(threads, &edits, true);
            println!(
                "norwood7_drag_preview{threads} {:.2} ms, {resampled} of {tiles} tiles",
                s * 1e3
            );
        }
        return;
    }
    // FOLLICLE_BENCH_QUICK=<runs>: the 100k-dot patch on one thread (median of `runs`) and the
    // metrics of 100×100 mm patches at 80 dots/cm² with seeds 1–6, for trying a change to the
    // sampler in seconds.
    if let Some(runs) = std::env::var("FOLLICLE_BENCH_QUICK")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        let (n, s) = median_of(runs.max(1), || patch_on(100_000, 1));
        println!(
            "patch 100k, one thread: {n} dots, median {:.2} ms, {:.3} M dots/s",
            s * 1e3,
            n as f64 / s / 1e6
        );
        for seed in 1..=6 {
            metrics_line(seed);
        }
        return;
    }
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
