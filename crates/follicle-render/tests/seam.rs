//! The seam with the shaved fringe: on fair (type II) skin the healed pigment beside the fringe
//! reads as light as the fringe itself, measured as CIE L* (D65) in bands either side of the
//! boundary between treated and untreated scalp on the rendered chart.

use follicle_core::Settings;
use follicle_render::color::{linear_to_lab, srgb_to_linear};
use follicle_render::{Look, Moment, Scene, View};
use image::RgbImage;

use super::{client_toml, look_scene, planned, planned_pattern};

/// Chart side, pixels: about 0.2 mm a pixel, so healed dots (σ ≈ 0.24 mm) and hairs are
/// resolved and the bands' mean colour does not depend on the zoom.
const SIZE: u32 = 1536;

/// Width of each band, mm: several dot spacings (about 1.1 mm at 80/cm²) and hair spacings
/// (0.75 mm), so each band's mean is a tone, not a texture; narrow enough to be "beside" the
/// boundary, where a mismatch shows.
const BAND_MM: f32 = 5.0;

/// Which side of the boundary a chart pixel is on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Off,
    Treated,
    Fringe,
}

/// Inside-flags of a polygon (pixel coordinates) at every pixel centre (even-odd rule).
fn fill(poly: &[[f32; 2]], w: usize, h: usize) -> Vec<bool> {
    let mut inside = vec![false; w * h];
    let mut xs = Vec::new();
    for j in 0..h {
        let y = j as f32 + 0.5;
        xs.clear();
        for k in 0..poly.len() {
            let (a, b) = (poly[k], poly[(k + 1) % poly.len()]);
            if (a[1] <= y) != (b[1] <= y) {
                xs.push(a[0] + (y - a[1]) / (b[1] - a[1]) * (b[0] - a[0]));
            }
        }
        xs.sort_by(f32::total_cmp);
        for pair in xs.chunks_exact(2) {
            let from = (pair[0] - 0.5).ceil().max(0.0) as usize;
            let to = ((pair[1] - 0.5).floor() + 1.0).clamp(0.0, w as f32) as usize;
            for i in from..to.max(from) {
                inside[j * w + i] = true;
            }
        }
    }
    inside
}

/// Chamfer distance (pixels) from every pixel to the nearest pixel where `source` is true.
fn distance(source: &[bool], w: usize, h: usize) -> Vec<f32> {
    let mut d: Vec<f32> = source
        .iter()
        .map(|&s| if s { 0.0 } else { f32::INFINITY })
        .collect();
    follicle_pattern::chamfer_distance(&mut d, w, h, 1.0);
    d
}

/// L* either side of the seam.
#[derive(Debug, Clone, Copy)]
struct Seam {
    /// Treated scalp within [`BAND_MM`] of the fringe.
    treated: f32,
    /// Untreated, hair-bearing scalp within [`BAND_MM`] of treated scalp.
    fringe: f32,
    /// Treated scalp 2–4 band widths from the fringe, past the blend band (for the report).
    inside: f32,
    /// Pixels in each band.
    pixels: [usize; 2],
}

/// Measures the seam on a chart image of `scene`: the scalp is the pattern's outline, treated
/// scalp is inside a zone, the fringe is the rest; each band's L* is that of its mean linear
/// colour (what the eye sees from a step back).
fn measure(scene: &Scene<'_>, img: &RgbImage) -> Seam {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let to_px = |p: &[f64; 2]| scene.chart_pixel(*p, img.width(), img.height());
    let px_per_mm = {
        let (a, b) = (to_px(&[0.0, 0.0]), to_px(&[100.0, 0.0]));
        (b[0] - a[0]) / 100.0
    };
    let scalp = fill(&scene.pattern.outline.iter().map(to_px).collect::<Vec<_>>(), w, h);
    let mut zoned = vec![false; w * h];
    for z in &scene.pattern.zones {
        let inside = fill(&z.polygon.iter().map(to_px).collect::<Vec<_>>(), w, h);
        for (t, i) in zoned.iter_mut().zip(inside) {
            *t |= i;
        }
    }
    let side: Vec<Side> = scalp
        .iter()
        .zip(&zoned)
        .map(|(&s, &z)| match (s, z) {
            (false, _) => Side::Off,
            (true, true) => Side::Treated,
            (true, false) => Side::Fringe,
        })
        .collect();
    let to_fringe = distance(&side.iter().map(|s| *s == Side::Fringe).collect::<Vec<_>>(), w, h);
    let to_treated = distance(
        &side.iter().map(|s| *s == Side::Treated).collect::<Vec<_>>(),
        w,
        h,
    );
    let band = BAND_MM * px_per_mm;
    let mut sums = [[0.0f64; 3]; 3];
    let mut pixels = [0usize; 3];
    for (k, p) in img.pixels().enumerate() {
        let which = match side[k] {
            Side::Treated if to_fringe[k] <= band => 0,
            Side::Fringe if to_treated[k] <= band => 1,
            Side::Treated if (2.0 * band..=4.0 * band).contains(&to_fringe[k]) => 2,
            _ => continue,
        };
        let l = srgb_to_linear(p.0);
        for c in 0..3 {
            sums[which][c] += f64::from(l[c]);
        }
        pixels[which] += 1;
    }
    let lstar = |i: usize| {
        let n = pixels[i].max(1) as f64;
        linear_to_lab(sums[i].map(|s| (s / n) as f32))[0]
    };
    Seam {
        treated: lstar(0),
        fringe: lstar(1),
        inside: lstar(2),
        pixels: [pixels[0], pixels[1]],
    }
}

/// The seam of a type II client with this hair and stage, healed after the last session.
fn seam_of(colour: &str, stage: &str, aims: &str) -> Seam {
    seam_on("II", colour, stage, aims)
}

fn seam_on(f: &str, colour: &str, stage: &str, aims: &str) -> Seam {
    let settings = Settings::default();
    let (profile, plan) = planned(
        &client_toml(
            f,
            colour,
            0,
            &format!("scale = \"norwood\"\nstage = \"{stage}\""),
            aims,
        ),
        &settings,
    );
    let pattern = planned_pattern(&plan, &settings);
    let look = Look::for_client(&profile, &settings);
    let render = look.render_settings();
    let scene = look_scene(&pattern, &look, &render);
    let img = scene
        .render(
            View::Chart,
            &Moment::Healed {
                session: pattern.sessions,
            },
            SIZE,
            SIZE,
        )
        .unwrap();
    measure(&scene, &img)
}

#[test]
fn on_type_ii_skin_the_healed_pigment_matches_the_fringe() {
    let mut worst = 0.0f32;
    for (colour, stage) in [
        ("black", "V"),
        ("dark_brown", "V"),
        ("black", "VI"),
        ("dark_brown", "IV"),
    ] {
        let seam = seam_of(colour, stage, "\"full_coverage\"");
        let delta = seam.treated - seam.fringe;
        eprintln!(
            "type II, {colour} hair, Norwood {stage}: L* treated {:.2}, fringe {:.2}, ΔL* {delta:+.2} \
             ({} / {} px); treated 10–20 mm in: {:.2}",
            seam.treated, seam.fringe, seam.pixels[0], seam.pixels[1], seam.inside
        );
        // Enough of each band to be a tone (thousands of pixels, hundreds of dots and hairs).
        assert!(seam.pixels.iter().all(|&n| n > 5_000), "{seam:?}");
        worst = worst.max(delta.abs());
    }
    // ΔL* ≤ 2: about the smallest lightness step a viewer notices between adjacent areas of
    // skin tone (a just-noticeable difference is ΔE ≈ 1–2.3).
    assert!(worst <= 2.0, "largest ΔL* across the seam {worst:.2}");
}
