//! Integration tests of the renderer: what a client would check by eye, measured.

use follicle_core::Settings;
use follicle_core::fading::FadingModel;
use follicle_core::profile::{Fitzpatrick, SkinType, SunExposure};
use follicle_pattern::{HairLossStage, Pattern, PatternRequest, ScarSpec, ZoneKind, ZonesSpec, generate};
use follicle_render::color::{linear_to_lab, srgb_to_linear};
use follicle_render::{Fading, RenderSettings, Scene, Skin};

mod golden;
mod look;
mod photo;

fn pattern(stage: HairLossStage, scars: Vec<ScarSpec>) -> Pattern {
    generate(&PatternRequest {
        zones: ZonesSpec::Stage { stage },
        scars,
        ..Default::default()
    })
    .unwrap()
}

fn fading() -> Fading {
    let s = Settings::default().fading;
    Fading {
        normal: FadingModel::for_conditions(&s, SunExposure::Moderate, SkinType::Normal, false, false),
        scar: FadingModel::for_conditions(&s, SunExposure::Moderate, SkinType::Normal, false, true),
        healing_loss_fraction: Settings::default().density.healing_loss_fraction,
    }
}

fn scene<'a>(pattern: &'a Pattern, settings: &'a RenderSettings, f: Fitzpatrick) -> Scene<'a> {
    Scene {
        pattern,
        skin: Skin::Fitzpatrick { fitzpatrick: f },
        hair: None,
        fading: fading(),
        settings,
    }
}

/// Mean L*a*b* over a square of `half` pixels around `centre` in an image.
fn mean_lab(img: &image::RgbImage, centre: [f32; 2], half: i32) -> [f32; 3] {
    let mut sum = [0.0f32; 3];
    let mut n = 0.0;
    for dy in -half..=half {
        for dx in -half..=half {
            let (x, y) = (centre[0] as i32 + dx, centre[1] as i32 + dy);
            let p = img.get_pixel(x as u32, y as u32).0;
            let l = srgb_to_linear(p);
            for c in 0..3 {
                sum[c] += l[c];
            }
            n += 1.0;
        }
    }
    linear_to_lab(sum.map(|s| s / n))
}

/// A point (chart mm) in the middle of one zone's dots.
fn zone_centre(pattern: &Pattern, zone: ZoneKind) -> [f64; 2] {
    let dots: Vec<_> = pattern.dots.iter().filter(|d| d.zone == zone).collect();
    assert!(!dots.is_empty(), "no dots in {zone:?}");
    let n = dots.len() as f64;
    let mean = [
        dots.iter().map(|d| d.x_mm).sum::<f64>() / n,
        dots.iter().map(|d| d.y_mm).sum::<f64>() / n,
    ];
    // A curved zone (a strip across the occiput) has its centroid off the zone: take the
    // zone's dot nearest to it.
    let nearest = dots
        .iter()
        .min_by(|a, b| {
            let da = (a.x_mm - mean[0]).hypot(a.y_mm - mean[1]);
            let db = (b.x_mm - mean[0]).hypot(b.y_mm - mean[1]);
            da.total_cmp(&db)
        })
        .unwrap();
    [nearest.x_mm, nearest.y_mm]
}
