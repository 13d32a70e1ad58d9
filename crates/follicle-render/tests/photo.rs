//! The client's photo: landmarks land where they were placed, the scalp takes the pattern and
//! nothing else changes; broken input is refused.

use follicle_core::profile::Fitzpatrick;
use follicle_pattern::{HairLoss, NorwoodStage};
use follicle_render::photo::{Landmark, LandmarkName, Overlay, decode_photo, overlay, suggested_landmarks};
use follicle_render::{Moment, RenderSettings, View, to_png};

use super::{pattern, scene};

/// A "photo": the head model from the front, bare, at 400 × 400.
fn photo_and_landmarks() -> (image::RgbImage, Vec<Landmark>) {
    let p = pattern(
        HairLoss::Norwood {
            stage: NorwoodStage::VII,
        },
        vec![],
    );
    let settings = RenderSettings::default();
    let mut bare = p.clone();
    bare.dots.clear();
    let s = scene(&bare, &settings, Fitzpatrick::III);
    let img = s
        .render(View::Front, &Moment::Healed { session: 1 }, 400, 400)
        .unwrap();
    let marks = suggested_landmarks(&s, View::Front, 400, 400);
    (img, marks)
}

#[test]
fn landmarks_land_within_two_pixels_of_where_they_were_placed() {
    let p = pattern(
        HairLoss::Norwood {
            stage: NorwoodStage::VII,
        },
        vec![],
    );
    let settings = RenderSettings::default();
    let s = scene(&p, &settings, Fitzpatrick::III);
    let (photo, suggested) = photo_and_landmarks();
    assert!(suggested.len() >= 3, "{suggested:?}");
    // The user drags them a little: a smaller, shifted, slightly rotated head in the photo.
    let (c, angle, k) = ([200.0, 200.0], 4f64.to_radians(), 0.85);
    let placed: Vec<Landmark> = suggested
        .iter()
        .map(|l| {
            let (dx, dy) = (l.x_px - c[0], l.y_px - c[1]);
            Landmark {
                name: l.name,
                x_px: c[0] + 12.0 + k * (dx * angle.cos() - dy * angle.sin()),
                y_px: c[1] - 7.0 + k * (dx * angle.sin() + dy * angle.cos()),
            }
        })
        .collect();
    let spec = Overlay {
        view: View::Front,
        landmarks: placed.clone(),
        keep_hair_darker_than: None,
    };
    let (after, warp) = overlay(&s, &photo, &spec, &Moment::Healed { session: 3 }).unwrap();
    for (l, m) in placed.iter().zip(&warp.model_px) {
        let back = warp.to_photo.apply(*m);
        let err = (back[0] - l.x_px).hypot(back[1] - l.y_px);
        assert!(err < 2.0, "{:?}: {err:.3} px off", l.name);
    }
    // The scalp got darker; the background and the face below the brow did not change.
    assert_eq!(after.get_pixel(2, 398), photo.get_pixel(2, 398));
    let brow = placed
        .iter()
        .find(|l| l.name == LandmarkName::Glabella)
        .expect("the glabella faces the front")
        .y_px as u32;
    let sum = |img: &image::RgbImage, rows: std::ops::Range<u32>, cols: std::ops::Range<u32>| -> u64 {
        rows.flat_map(|y| cols.clone().map(move |x| (x, y)))
            .map(|(x, y)| img.get_pixel(x, y).0.iter().map(|v| u64::from(*v)).sum::<u64>())
            .sum()
    };
    assert!(
        sum(&after, 0..brow, 0..400) < sum(&photo, 0..brow, 0..400),
        "the scalp takes the pattern"
    );
    // The sides of the scalp reach below the brow; the middle of the face does not.
    assert_eq!(
        sum(&after, brow + 5..400, 130..270),
        sum(&photo, brow + 5..400, 130..270),
        "the face stays as it was"
    );
}

#[test]
fn impossible_landmarks_are_refused() {
    let p = pattern(
        HairLoss::Norwood {
            stage: NorwoodStage::III,
        },
        vec![],
    );
    let settings = RenderSettings::default();
    let s = scene(&p, &settings, Fitzpatrick::III);
    let (photo, marks) = photo_and_landmarks();
    let run = |landmarks: Vec<Landmark>| {
        overlay(
            &s,
            &photo,
            &Overlay {
                view: View::Front,
                landmarks,
                keep_hair_darker_than: None,
            },
            &Moment::Healed { session: 1 },
        )
        .unwrap_err()
        .to_string()
    };
    assert!(run(marks[..2].to_vec()).contains("at least 3 landmarks"));
    let mut outside = marks.clone();
    outside[0].x_px = 900.0;
    assert!(
        run(outside).contains("outside the 400 × 400 photo"),
        "{}",
        run(marks[..2].to_vec())
    );
    let line: Vec<Landmark> = marks
        .iter()
        .enumerate()
        .map(|(i, l)| Landmark {
            x_px: 100.0 + 10.0 * i as f64,
            y_px: 200.0,
            ..*l
        })
        .collect();
    assert!(run(line).contains("in one line"));
    let mirrored: Vec<Landmark> = marks
        .iter()
        .map(|l| Landmark {
            x_px: 400.0 - l.x_px,
            ..*l
        })
        .collect();
    assert!(run(mirrored).contains("mirrored"));
}

#[test]
fn photos_are_checked_before_decoding() {
    let (photo, _) = photo_and_landmarks();
    let png = to_png(&photo).unwrap();
    assert_eq!(decode_photo(&png).unwrap().dimensions(), (400, 400));
    let truncated = &png[..png.len() / 2];
    assert!(
        decode_photo(truncated)
            .unwrap_err()
            .to_string()
            .contains("cannot decode")
    );
    // A header that claims 30000 × 30000 pixels is refused before any pixel is allocated.
    let mut huge = png.clone();
    huge[16..20].copy_from_slice(&30_000u32.to_be_bytes());
    huge[20..24].copy_from_slice(&30_000u32.to_be_bytes());
    let err = decode_photo(&huge).unwrap_err().to_string();
    assert!(
        err.contains("unreadable header") || err.contains("pixels"),
        "{err}"
    );
    assert!(
        decode_photo(b"%PDF-1.7")
            .unwrap_err()
            .to_string()
            .contains("not a PNG or JPEG")
    );
}
