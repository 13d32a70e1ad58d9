//! Golden images: the same inputs give the same pictures, within a small tolerance (so a
//! harmless change in float rounding does not fail, but a changed look does). Set
//! `FOLLICLE_BLESS=1` to write new goldens after an intended change, and look at them.

use std::path::PathBuf;

use follicle_core::profile::Fitzpatrick;
use follicle_pattern::{HairLoss, NorwoodStage};
use follicle_render::{Hair, Moment, RenderSettings, View, to_png};

use super::{pattern, scene};

fn check(name: &str, img: &image::RgbImage) {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "golden",
        &format!("{name}.png"),
    ]
    .iter()
    .collect();
    if std::env::var_os("FOLLICLE_BLESS").is_some() {
        std::fs::write(&path, to_png(img).unwrap()).unwrap();
        return;
    }
    let want = image::open(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with FOLLICLE_BLESS=1 to create)", path.display()))
        .to_rgb8();
    assert_eq!(want.dimensions(), img.dimensions(), "{name}");
    let mut total = 0u64;
    let mut big = 0usize;
    for (a, b) in want.as_raw().iter().zip(img.as_raw()) {
        let d = u64::from(a.abs_diff(*b));
        total += d;
        if d > 8 {
            big += 1;
        }
    }
    let mean = total as f64 / want.as_raw().len() as f64;
    assert!(
        mean < 0.5 && big * 200 < want.as_raw().len(),
        "{name}: mean difference {mean:.3}, {big} channels off by more than 8"
    );
}

#[test]
fn golden_previews() {
    let p = pattern(
        HairLoss::Norwood {
            stage: NorwoodStage::V,
        },
        vec![],
    );
    let settings = RenderSettings::default();
    let mut s = scene(&p, &settings, Fitzpatrick::III);
    s.hair = Some(Hair {
        srgb: [45, 35, 30],
        among_treated: 0.0,
        in_blend: 0.5,
        blend_width_mm: 10.0,
        blend_edge_fraction: 0.5,
    });
    check(
        "n5-chart-healed-2",
        &s.render(View::Chart, &Moment::Healed { session: 2 }, 160, 160)
            .unwrap(),
    );
    check(
        "n5-front-fresh-1",
        &s.render(View::Front, &Moment::Fresh { session: 1 }, 160, 120)
            .unwrap(),
    );
    check(
        "n5-top-year-5",
        &s.render(
            View::Top,
            &Moment::Years {
                years: 5.0,
                touch_ups: vec![],
            },
            120,
            160,
        )
        .unwrap(),
    );
}

#[test]
fn the_same_inputs_give_the_same_bytes() {
    let p = pattern(
        HairLoss::Norwood {
            stage: NorwoodStage::III,
        },
        vec![],
    );
    let settings = RenderSettings::default();
    let s = scene(&p, &settings, Fitzpatrick::IV);
    let a = to_png(
        &s.render(View::Left, &Moment::Healed { session: 3 }, 200, 150)
            .unwrap(),
    )
    .unwrap();
    let b = to_png(
        &s.render(View::Left, &Moment::Healed { session: 3 }, 200, 150)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(a, b);
}
