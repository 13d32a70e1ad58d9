//! The healed look on real photos (assets/photos, landmarks placed by hand in
//! `assets/photos/warp-landmarks.json`) and on synthetic skin patches: the warp is exact at the
//! landmarks, the pattern reads darker and cooler than the skin on light skin and much less
//! contrasted on dark skin, a lighter mix renders lighter, the client sheet's PDF holds the
//! client's name and session dates as text.

use std::path::PathBuf;

use follicle_core::profile::Fitzpatrick;
use follicle_pattern::{HairLoss, NorwoodStage, Pattern};
use follicle_render::client_sheet::{ClientSheet, SheetSession};
use follicle_render::color::{linear_to_lab, srgb_to_linear};
use follicle_render::photo::{Landmark, Overlay, PhotoCanvas, decode_photo, suggested_landmarks};
use follicle_render::{Moment, RenderSettings, Scene, View};

use super::{pattern, scene};

fn repo_path(parts: &[&str]) -> PathBuf {
    let mut p: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", ".."].iter().collect();
    p.extend(parts);
    p
}

/// A real photo and the landmarks placed on it by hand.
fn real_photo(file: &str) -> (image::RgbImage, Vec<Landmark>) {
    let bytes = std::fs::read(repo_path(&["assets", "photos", file])).unwrap();
    let marks: serde_json::Value =
        serde_json::from_str(include_str!("../../../assets/photos/warp-landmarks.json")).unwrap();
    let landmarks: Vec<Landmark> = serde_json::from_value(marks[file].clone()).unwrap();
    (decode_photo(&bytes).unwrap(), landmarks)
}

const REAL_PHOTOS: [&str; 5] = [
    "654px-Aksel_Andersson.jpg",
    "E_W_Dahlgren.jpg",
    "O0.jpg",
    "Filippo_Giunchedi.jpg",
    "biden.jpg",
];

fn norwood(stage: NorwoodStage) -> Pattern {
    pattern(HairLoss::Norwood { stage }, vec![])
}

fn front(landmarks: Vec<Landmark>) -> Overlay {
    Overlay {
        view: View::Front,
        landmarks,
        keep_hair_darker_than: None,
    }
}

/// Mean L*a*b* (of the mean linear colour) over the pixels of `img` where `mask` holds.
fn lab_where(img: &image::RgbImage, mask: &[bool]) -> [f32; 3] {
    let mut sum = [0.0f64; 3];
    let mut n = 0.0;
    for (p, &m) in img.pixels().zip(mask) {
        if m {
            let l = srgb_to_linear(p.0);
            for c in 0..3 {
                sum[c] += f64::from(l[c]);
            }
            n += 1.0;
        }
    }
    assert!(n > 0.0, "an empty region");
    linear_to_lab(sum.map(|s| (s / n) as f32))
}

/// The pixels the pattern darkened on `after` (the treated region as drawn).
fn changed(before: &image::RgbImage, after: &image::RgbImage) -> Vec<bool> {
    before.pixels().zip(after.pixels()).map(|(a, b)| a != b).collect()
}

/// Before and after over the pixels the pattern covers: (ΔL*, Δb*), after − before.
fn contrast(before: &image::RgbImage, after: &image::RgbImage) -> (f32, f32) {
    let mask = changed(before, after);
    assert!(
        mask.iter().filter(|m| **m).count() > 500,
        "the pattern covers too little of the photo"
    );
    let (a, b) = (lab_where(before, &mask), lab_where(after, &mask));
    (b[0] - a[0], b[2] - a[2])
}

#[test]
fn the_warp_puts_hand_marked_landmarks_within_two_pixels() {
    let p = norwood(NorwoodStage::VI);
    let settings = RenderSettings::default();
    let s = scene(&p, &settings, Fitzpatrick::II);
    for file in REAL_PHOTOS {
        let (photo, marks) = real_photo(file);
        let canvas = PhotoCanvas::new(&s, &photo, &front(marks.clone())).unwrap();
        let warp = canvas.warp();
        for (l, m) in marks.iter().zip(&warp.model_px) {
            let back = warp.to_photo.apply(*m);
            let err = (back[0] - l.x_px).hypot(back[1] - l.y_px);
            assert!(err < 2.0, "{file} {:?}: model → photo {err:.3} px off", l.name);
            let there = warp.to_model.apply([l.x_px, l.y_px]);
            let err = (there[0] - m[0]).hypot(there[1] - m[1]);
            assert!(err < 2.0, "{file} {:?}: photo → model {err:.3} px off", l.name);
        }
    }
}

#[test]
fn on_a_real_light_skin_photo_the_healed_pattern_is_darker_and_cooler_than_the_skin() {
    let p = norwood(NorwoodStage::VI);
    let settings = RenderSettings::default();
    let s = scene(&p, &settings, Fitzpatrick::II);
    let (photo, marks) = real_photo("biden.jpg");
    let canvas = PhotoCanvas::new(&s, &photo, &front(marks)).unwrap();
    let after = canvas
        .render(&s, &Moment::Healed { session: p.sessions })
        .unwrap();
    let (dl, db) = contrast(&photo, &after);
    assert!(
        dl < -2.0,
        "ΔL* {dl:.2}: the pattern should read darker than the skin"
    );
    assert!(
        db < -0.5,
        "Δb* {db:.2}: healed SMP reads blue-grey, cooler than the skin"
    );
    // The photo's own light stays: the shading across the scalp survives the pattern.
    let [x0, y0, x1, y1] = canvas.scalp_box();
    let column_mean = |img: &image::RgbImage, x: u32| -> f32 {
        (y0..=y1)
            .map(|y| f32::from(img.get_pixel(x, y).0[1]))
            .sum::<f32>()
            / (y1 - y0 + 1) as f32
    };
    let (l, r) = (x0 + (x1 - x0) / 4, x1 - (x1 - x0) / 4);
    let (before_diff, after_diff) = (
        column_mean(&photo, l) - column_mean(&photo, r),
        column_mean(&after, l) - column_mean(&after, r),
    );
    assert!(
        before_diff.signum() == after_diff.signum() || before_diff.abs() < 2.0,
        "the light across the scalp turned: {before_diff} → {after_diff}"
    );
}

/// A synthetic photo: the bare head model of this skin type from the front, 400 × 400,
/// and the landmarks where the model puts them.
fn synthetic(f: Fitzpatrick) -> (image::RgbImage, Vec<Landmark>) {
    let settings = RenderSettings::default();
    let mut bare = norwood(NorwoodStage::VII);
    bare.dots.clear();
    let s = scene(&bare, &settings, f);
    let img = s
        .render(View::Front, &Moment::Healed { session: 1 }, 400, 400)
        .unwrap();
    (img, suggested_landmarks(&s, View::Front, 400, 400))
}

fn synthetic_contrast(f: Fitzpatrick, pattern: &Pattern, settings: &RenderSettings) -> (f32, f32) {
    let s: Scene<'_> = scene(pattern, settings, f);
    let (photo, marks) = synthetic(f);
    let canvas = PhotoCanvas::new(&s, &photo, &front(marks)).unwrap();
    let after = canvas
        .render(
            &s,
            &Moment::Healed {
                session: pattern.sessions,
            },
        )
        .unwrap();
    // On the skin only: the head is a mesh now, the warp's model an ellipsoid, so along the
    // silhouette some ink falls on the backdrop (the corner's colour), whatever the skin.
    let backdrop = *photo.get_pixel(0, 0);
    let mask: Vec<bool> = changed(&photo, &after)
        .into_iter()
        .zip(photo.pixels())
        .map(|(m, p)| m && *p != backdrop)
        .collect();
    assert!(
        mask.iter().filter(|m| **m).count() > 500,
        "too little skin under the pattern"
    );
    let (a, b) = (lab_where(&photo, &mask), lab_where(&after, &mask));
    (b[0] - a[0], b[2] - a[2])
}

#[test]
fn type_ii_reads_darker_and_cooler_and_type_vi_much_less_contrasted() {
    let p = norwood(NorwoodStage::VII);
    let settings = RenderSettings::default();
    let (dl2, db2) = synthetic_contrast(Fitzpatrick::II, &p, &settings);
    assert!(dl2 < -2.0, "type II: ΔL* {dl2:.2}");
    assert!(db2 < -0.5, "type II: Δb* {db2:.2}");
    let (dl6, _) = synthetic_contrast(Fitzpatrick::VI, &p, &settings);
    assert!(dl6 < 0.0, "type VI still darkens a little: ΔL* {dl6:.2}");
    assert!(
        dl6.abs() < 0.4 * dl2.abs(),
        "type VI ΔL* {dl6:.2} should be much smaller than type II's {dl2:.2}"
    );
}

#[test]
fn a_lighter_ink_mix_renders_lighter_on_the_photo() {
    let p = norwood(NorwoodStage::VII);
    let mut lighter = p.clone();
    for d in &mut lighter.dots {
        d.shade *= 0.6;
    }
    let settings = RenderSettings::default();
    let (dark, _) = synthetic_contrast(Fitzpatrick::II, &p, &settings);
    let (light, _) = synthetic_contrast(Fitzpatrick::II, &lighter, &settings);
    assert!(
        light > dark + 1.0,
        "a lighter mix: ΔL* {light:.2} against {dark:.2} for the darker"
    );
}

#[test]
fn shine_on_the_photo_stays() {
    // A flat skin photo with one bright highlight: the highlight's excess light is surface
    // reflection, which ink under the skin does not darken.
    let (mut photo, marks) = synthetic(Fitzpatrick::II);
    let p = norwood(NorwoodStage::VII);
    let settings = RenderSettings::default();
    let s = scene(&p, &settings, Fitzpatrick::II);
    let plain = PhotoCanvas::new(&s, &photo, &front(marks.clone())).unwrap();
    let [x0, y0, x1, y1] = plain.scalp_box();
    let (cx, cy) = ((x0 + x1) / 2, y0 + (y1 - y0) / 3);
    for y in cy - 3..=cy + 3 {
        for x in cx - 3..=cx + 3 {
            photo.put_pixel(x, y, image::Rgb([255, 255, 250]));
        }
    }
    let canvas = PhotoCanvas::new(&s, &photo, &front(marks)).unwrap();
    let after = canvas
        .render(&s, &Moment::Healed { session: p.sessions })
        .unwrap();
    let mask: Vec<bool> = (0..photo.width() * photo.height())
        .map(|i| {
            let (x, y) = (i % photo.width(), i / photo.width());
            x.abs_diff(cx) <= 3 && y.abs_diff(cy) <= 3
        })
        .collect();
    let (before, after_lab) = (lab_where(&photo, &mask), lab_where(&after, &mask));
    assert!(
        before[0] - after_lab[0] < 3.0,
        "the highlight lost {:.2} L*: shine should stay",
        before[0] - after_lab[0]
    );
}

#[test]
fn the_client_sheet_pdf_reads_back_with_the_name_and_session_dates() {
    let (photo, marks) = real_photo("E_W_Dahlgren.jpg");
    let p = norwood(NorwoodStage::VI);
    let settings = RenderSettings::default();
    let s = scene(&p, &settings, Fitzpatrick::II);
    let canvas = PhotoCanvas::new(&s, &photo, &front(marks)).unwrap();
    let moments = follicle_render::sheet::photo_moments(p.sessions, 4.0);
    let after = canvas
        .render(&s, &Moment::Healed { session: p.sessions })
        .unwrap();
    let sheet = ClientSheet {
        client_name: "Łukasz Dahlgren".into(),
        title: "Scalp micropigmentation: your design".into(),
        before: canvas.crop(canvas.photo(), 0.1),
        after: canvas.crop(&after, 0.1),
        after_label: "after session 3".into(),
        timeline: follicle_render::photo::photo_timeline(&s, &canvas, &moments, 120).unwrap(),
        sessions: vec![
            SheetSession {
                label: "Session 1".into(),
                date: "2026-03-16".into(),
                note: "foundation, light mix".into(),
            },
            SheetSession {
                label: "Session 2".into(),
                date: "2026-04-13".into(),
                note: "build: fills between the first dots with a darker shade for density, then \
                       checks the hairline's edge in daylight before anything is added, medium mix"
                    .into(),
            },
        ],
    };
    let png = sheet.png(1200);
    assert_eq!(png.width(), 1200);
    let pdf = sheet
        .pdf(follicle_render::client_sheet::Letterhead {
            name: "Nordic SMP Studio".into(),
            lines: vec!["Drottninggatan 1, Stockholm".into()],
            logo: None,
        })
        .unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let dir = std::env::temp_dir().join(format!("follicle-sheet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sheet.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (Debian poppler-utils) reads the sheet back");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    // The name as written (not in Latin-1), the clinic, every session with its whole note.
    for want in [
        "Łukasz Dahlgren",
        "Nordic SMP Studio",
        "2026-03-16",
        "2026-04-13",
        "Session 2",
        "medium mix",
        "After session 3",
    ] {
        assert!(text.contains(want), "{want:?} not in the PDF's text:\n{text}");
    }
    assert!(!text.contains("..."), "nothing cut short:\n{text}");
    // Before, after and the timeline as pictures.
    let listed = std::process::Command::new("pdfimages")
        .arg("-list")
        .arg(&path)
        .output()
        .expect("pdfimages (Debian poppler-utils)");
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert_eq!(listed.lines().skip(2).count(), 3, "{listed}");
    std::fs::remove_dir_all(&dir).ok();
}
