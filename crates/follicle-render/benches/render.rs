//! Renderer benchmark (not a test): issue 13's renderer rows — dots splatted per second on one
//! core, and a full 2048 × 2048 healed preview of a Norwood VII pattern on one and on two
//! threads. `scripts/bench-render` runs it beside a straightforward Pillow implementation of
//! the same dots and blur and prints the table with the ratios.
//!
//! A custom harness rather than divan: the report must put Follicle and the peer in one table
//! with their ratio, so this binary prints medians and, with `--export DIR`, writes the exact
//! dots it drew for the peer to draw.

use std::time::{Duration, Instant};

use follicle_core::Settings;
use follicle_core::fading::FadingModel;
use follicle_core::profile::Fitzpatrick;
use follicle_pattern::{HairLoss, NorwoodStage, PatternRequest, ZonesSpec, generate};
use follicle_render::splat::{Binned, InkBuffer, Kernel, splat_all};
use follicle_render::{Fading, Moment, RenderSettings, Scene, Skin, View};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Time this thread has spent on a CPU (Linux; `None` elsewhere). On a busy machine the wall
/// clock counts the time others had the core; this does not (caches shared with them still
/// slow it down).
fn on_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(Duration::from_nanos(
        text.split_whitespace().next()?.parse().ok()?,
    ))
}

/// Wall and on-CPU time of `f`.
fn timed(mut f: impl FnMut()) -> (Duration, Option<Duration>) {
    let (cpu, t) = (on_cpu(), Instant::now());
    f();
    let wall = t.elapsed();
    (wall, on_cpu().zip(cpu).map(|(b, a)| b.saturating_sub(a)))
}

/// ` cpu_seconds=…` when on-CPU time is known for every run.
fn cpu_field(cpu: Vec<Option<Duration>>) -> String {
    cpu.into_iter()
        .collect::<Option<Vec<_>>>()
        .map_or(String::new(), |c| {
            format!(" cpu_seconds={:.6}", median(c).as_secs_f64())
        })
}

/// One splat measure's line: `NAME=n seconds=… dots_per_second=…` from the runs' median.
fn print_splat_rate(name: &str, n: usize, times: Vec<Duration>, cpu: Vec<Option<Duration>>) {
    let t = median(times);
    println!(
        "{name}={n} seconds={:.6} dots_per_second={:.0}{}",
        t.as_secs_f64(),
        n as f64 / t.as_secs_f64(),
        cpu_field(cpu)
    );
}

/// Deterministic dots over a `side`² image: (x, y, mass) with σ = 0.8 px.
fn random_dots(n: usize, side: f32) -> Vec<[f32; 3]> {
    let mut z = 0x1234_5678_u64;
    let mut next = || {
        z = z
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (z >> 40) as f32 / (1u64 << 24) as f32
    };
    (0..n)
        .map(|_| [next() * side, next() * side, 0.6 + 0.4 * next()])
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let export = args
        .iter()
        .position(|a| a == "--export")
        .and_then(|i| args.get(i + 1))
        .cloned();
    // `--once`: one run of each, for callgrind (instruction counts do not need medians).
    let runs = if args.iter().any(|a| a == "--once") { 1 } else { 9 };
    // `--photo`: the photo preview only (section 3), for profiling it.
    let photo_only = args.iter().any(|a| a == "--photo");
    // `--preview`: the chart preview only (section 2), for profiling it.
    let preview_only = args.iter().any(|a| a == "--preview");
    // Section 1 (splatting), unless one of the other sections alone was asked for.
    let splatting = !photo_only && !preview_only;
    let side = 2048usize;
    let sigma_px = 0.8f32;

    println!("follicle-render benchmark (medians of {runs} runs)");
    // 1. Splatting: 1M dots into a 2048² absorbance buffer, a new one each run (its pages are
    // first touched inside the timing, as the figure before issue 13 was measured).
    let n = 1_000_000;
    let dots = random_dots(n, side as f32);
    let kernel = Kernel::new(sigma_px);
    let (mut times, mut cpu) = (Vec::new(), Vec::new());
    for _ in 0..if splatting { runs } else { 0 } {
        let mut buf = InkBuffer::new(side, side);
        let (wall, on) = timed(|| splat_all(&mut buf, &kernel, &dots));
        times.push(wall);
        cpu.push(on);
        std::hint::black_box(&buf);
    }
    if splatting {
        print_splat_rate("splat_dots", n, times, cpu);
    }
    // The same with the raster and the binning's storage kept from run to run, as the
    // preview keeps its band buffers: binning and splatting, no allocation, no page faults.
    let mut buf = InkBuffer::new(side, side);
    let mut binned = Binned::default();
    let (mut times, mut cpu) = (Vec::new(), Vec::new());
    for _ in 0..if splatting { runs } else { 0 } {
        buf.data.fill(0.0);
        let (wall, on) = timed(|| {
            binned.fill(side, side, &dots);
            binned.splat(&mut buf, &kernel);
        });
        times.push(wall);
        cpu.push(on);
        std::hint::black_box(&buf);
    }
    if splatting {
        print_splat_rate("splat_reused_dots", n, times, cpu);
    }

    // 2. A full 2048² healed preview of a Norwood VII pattern (chart view: dots, optics, sRGB).
    let pattern = generate(&PatternRequest {
        zones: ZonesSpec::Stage {
            stage: HairLoss::Norwood {
                stage: NorwoodStage::VII,
            },
        },
        ..Default::default()
    })
    .expect("the Norwood VII pattern");
    let model = FadingModel::typical(&Settings::default().fading);
    let settings = RenderSettings::default();
    let scene = Scene {
        pattern: &pattern,
        skin: Skin::Fitzpatrick {
            fitzpatrick: Fitzpatrick::II,
        },
        hair: None,
        fading: Fading {
            normal: model,
            scar: model,
            healing_loss_fraction: Settings::default().density.healing_loss_fraction,
            touch_up_dilution: None,
        },
        settings: &settings,
    };
    let moment = Moment::Healed { session: 3 };
    let mut img = None;
    for threads in if photo_only { vec![] } else { vec![1usize, 2] } {
        let (mut times, mut cpu) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let (wall, on) = timed(|| {
                img = Some(
                    scene
                        .render_threads(View::Chart, &moment, side as u32, side as u32, threads)
                        .expect("render"),
                );
            });
            times.push(wall);
            cpu.push(on);
        }
        let t = median(times);
        // On-CPU time is the calling thread's: meaningful on one thread only.
        let cpu = if threads == 1 {
            cpu_field(cpu)
        } else {
            String::new()
        };
        println!(
            "preview_2048_threads{threads}_dots={} seconds={:.6}{cpu}",
            pattern.dots.len(),
            t.as_secs_f64()
        );
    }
    if preview_only {
        return;
    }

    // 3. The pattern on a 2048-px photo (issue 12: under 50 ms): a synthetic photo (the bare
    // head model from the front) with the model's landmarks. Preparing the photo (warp,
    // illumination, skin and fringe) is done once per photo and landmarks; a preview (a new
    // moment or design on a prepared photo) is the render alone.
    let mut bare = pattern.clone();
    bare.dots.clear();
    let bare_scene = Scene {
        pattern: &bare,
        ..scene.clone()
    };
    let photo = bare_scene
        .render(View::Front, &moment, side as u32, side as u32)
        .expect("the synthetic photo");
    let overlay = follicle_render::photo::Overlay {
        view: View::Front,
        landmarks: follicle_render::photo::suggested_landmarks(
            &bare_scene,
            View::Front,
            side as u32,
            side as u32,
        ),
        keep_hair_darker_than: None,
    };
    let mut canvas = None;
    let (mut times, mut cpu) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let (wall, on) = timed(|| {
            canvas = Some(
                follicle_render::photo::PhotoCanvas::new(&scene, &photo, &overlay)
                    .expect("prepare the photo"),
            );
        });
        times.push(wall);
        cpu.push(on);
    }
    println!(
        "photo_prepare_2048_px={side} seconds={:.6}",
        median(times).as_secs_f64()
    );
    let canvas = canvas.expect("prepared");
    for threads in [1usize, 2] {
        let (mut times, mut cpu) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let (wall, on) = timed(|| {
                std::hint::black_box(canvas.render_threads(&scene, &moment, threads).expect("render"));
            });
            times.push(wall);
            cpu.push(on);
        }
        let cpu = if threads == 1 {
            cpu_field(cpu)
        } else {
            String::new()
        };
        println!(
            "photo_preview_2048_threads{threads}_px={side} seconds={:.6}{cpu}",
            median(times).as_secs_f64()
        );
    }

    if let Some(dir) = export {
        // The peer draws exactly these: the random dots, and the preview's dots in pixels.
        let dir = std::path::Path::new(&dir);
        std::fs::create_dir_all(dir).expect("export dir");
        let bytes: Vec<u8> = dots
            .iter()
            .flat_map(|d| d.iter().flat_map(|v| v.to_le_bytes()))
            .collect();
        std::fs::write(dir.join("random_dots.f32"), bytes).expect("write");
        let radius_px = (0.2 * settings.healed_dot_scale / 2.0) as f64 * (f64::from(side as u32) / 300.0);
        let preview: Vec<u8> = pattern
            .dots
            .iter()
            .flat_map(|d| {
                let p = scene.chart_pixel([d.x_mm, d.y_mm], side as u32, side as u32);
                [p[0], p[1], d.shade as f32]
                    .into_iter()
                    .flat_map(|v| v.to_le_bytes())
            })
            .collect();
        std::fs::write(dir.join("preview_dots.f32"), preview).expect("write");
        std::fs::write(
            dir.join("params.txt"),
            format!("side={side}\nsigma_px={sigma_px}\nradius_px={radius_px:.3}\n"),
        )
        .expect("write");
        if let Some(img) = img {
            img.save(dir.join("follicle_preview.png")).expect("save");
        }
        // The photo preview's peer: the photo, and every spot of every healed impression
        // visible at the moment where it lands on the photo — (x, y, diameter) in photo
        // pixels, at the photo's local scale round the spot, and its ink (absorbance units
        // at the centre of a resolved spot of the reference mix).
        photo.save(dir.join("photo.png")).expect("save");
        let head = &pattern.head;
        let last = pattern.sessions.max(1);
        let mut spots = Vec::new();
        for (i, dot) in pattern.dots.iter().enumerate() {
            let Some(look) = moment.look(
                i,
                dot,
                last,
                &scene.fading,
                scene.fading.healing_loss_fraction,
                &settings,
            ) else {
                continue;
            };
            let healed_mm = dot.diameter_mm * f64::from(settings.healed_dot_scale * look.size);
            let strength =
                follicle_render::optics::mix_strength(&settings.optics, look.shade) * look.strength;
            for spot in follicle_render::impression::impression(i, &settings).spots {
                let q = [
                    dot.x_mm + f64::from(spot.offset[0]) * healed_mm,
                    dot.y_mm + f64::from(spot.offset[1]) * healed_mm,
                ];
                let (Some(p), Some(r)) = (
                    canvas.warp().chart_to_photo(head, q),
                    canvas.warp().chart_to_photo(head, [q[0] + 1.0, q[1]]),
                ) else {
                    continue;
                };
                let px_per_mm = (r[0] - p[0]).hypot(r[1] - p[1]);
                spots.extend(
                    [
                        p[0] as f32,
                        p[1] as f32,
                        (healed_mm * f64::from(spot.size) * px_per_mm) as f32,
                        strength * spot.share / (spot.size * spot.size),
                    ]
                    .into_iter()
                    .flat_map(f32::to_le_bytes),
                );
            }
        }
        std::fs::write(dir.join("photo_spots.f32"), spots).expect("write");
        let optics = follicle_render::optics::Optics::new(
            &settings.optics,
            follicle_render::color::srgb_to_linear(canvas.skin_srgb()),
            settings.depth_mm,
            moment.cooling(&scene.fading),
        );
        let [a0, a1, a2] = optics.absorbance;
        std::fs::write(
            dir.join("photo_params.txt"),
            format!(
                "absorbance={a0},{a1},{a2}\nsurface_share={}\n",
                optics.surface_share
            ),
        )
        .expect("write");
        canvas
            .render_threads(&scene, &moment, 1)
            .expect("render")
            .save(dir.join("follicle_photo_preview.png"))
            .expect("save");
    }
}
