//! Integration tests of the renderer: what a client would check by eye, measured.

use follicle_core::fading::FadingModel;
use follicle_core::profile::{Fitzpatrick, SkinType, SunExposure};
use follicle_core::{ClientProfile, Plan, Settings};
use follicle_pattern::{HairLoss, Pattern, PatternRequest, ScarSpec, ZoneKind, ZonesSpec, generate};
use follicle_render::color::{linear_to_lab, srgb_to_linear};
use follicle_render::{Fading, Look, RenderSettings, Scene, Skin};

mod golden;
mod ink;
mod look;
mod photo;
mod photo_look;
mod photo_maps;
mod seam;
mod stencil;
mod threads;

/// The day the test clients are assessed and planned.
const TODAY: time::Date = time::macros::date!(2026 - 03 - 02);

fn pattern(stage: HairLoss, scars: Vec<ScarSpec>) -> Pattern {
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
        touch_up_dilution: None,
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

/// A client file: skin type, hair colour and grey share, the `[hair_loss]` table's lines, aims.
fn client_toml(fitzpatrick: &str, colour: &str, grey_percent: u32, hair_loss: &str, aims: &str) -> String {
    format!(
        "[client]\nage = 45\nsex = \"male\"\n\n[skin]\nfitzpatrick = \"{fitzpatrick}\"\n\n\
         [hair]\ncolour = \"{colour}\"\ngrey_percent = {grey_percent}\n\n[hair_loss]\n{hair_loss}\n\n\
         [goal]\naims = [{aims}]\nhairline_style = \"broken\"\n"
    )
}

/// The client's profile and plan under these settings.
fn planned(toml: &str, settings: &Settings) -> (ClientProfile, Plan) {
    let profile = ClientProfile::from_toml(toml, settings, TODAY).unwrap();
    let plan = follicle_pattern::treatment::plan_client(&profile, settings, TODAY, TODAY, 7)
        .unwrap()
        .plan;
    assert!(!plan.sessions.is_empty(), "{toml}: no sessions planned");
    (profile, plan)
}

/// The pattern the plan asks for (the CLI's and the server's mapping), seed 7.
fn planned_pattern(plan: &Plan, settings: &Settings) -> Pattern {
    generate(&follicle_pattern::treatment::design_request(plan, settings, 7)).unwrap()
}

/// A scene of a pattern with a client's look.
fn look_scene<'a>(pattern: &'a Pattern, look: &Look, settings: &'a RenderSettings) -> Scene<'a> {
    Scene {
        pattern,
        skin: look.skin,
        hair: look.hair,
        fading: look.fading,
        settings,
    }
}
