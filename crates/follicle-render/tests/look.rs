//! The look: darker and cooler over dots, less contrast on dark skin, fading over years,
//! touch-ups, scars.

use follicle_core::profile::Fitzpatrick;
use follicle_pattern::{HairLoss, NorwoodStage, PatternRequest, ScarSpec, ZoneKind, ZonesSpec, generate};
use follicle_render::color::srgb_to_lab;
use follicle_render::{Moment, RenderSettings, View};

use super::{mean_lab, pattern, scene, zone_centre};

const SIZE: u32 = 768;

/// Mean L*a*b* of the mid-scalp of a Norwood VII pattern at a moment, and the bare skin's.
fn mid_scalp(f: Fitzpatrick, moment: &Moment) -> ([f32; 3], [f32; 3]) {
    let p = pattern(
        HairLoss::Norwood {
            stage: NorwoodStage::VII,
        },
        vec![],
    );
    let settings = RenderSettings::default();
    let s = scene(&p, &settings, f);
    let img = s.render(View::Chart, moment, SIZE, SIZE).unwrap();
    let c = s.chart_pixel(zone_centre(&p, ZoneKind::MidScalp), SIZE, SIZE);
    (mean_lab(&img, c, 20), srgb_to_lab(settings.skin_of(f)))
}

fn contrast(f: Fitzpatrick, moment: &Moment) -> f32 {
    let (area, skin) = mid_scalp(f, moment);
    skin[0] - area[0]
}

#[test]
fn on_light_skin_dots_are_darker_and_cooler() {
    // Zoomed in until dots are resolved: the colour over an isolated dot against bare skin.
    let p = pattern(
        HairLoss::Norwood {
            stage: NorwoodStage::VII,
        },
        vec![],
    );
    let settings = RenderSettings::default();
    let s = scene(&p, &settings, Fitzpatrick::II);
    let size = 4096;
    let img = s
        .render(View::Chart, &Moment::Healed { session: 3 }, size, size)
        .unwrap();
    let skin = srgb_to_lab(settings.skin_of(Fitzpatrick::II));
    let mut checked = 0;
    for dot in p
        .dots
        .iter()
        .filter(|d| d.session == 1 && d.unit_size == 1 && d.zone == ZoneKind::MidScalp)
        .take(20)
    {
        let at = s.chart_pixel([dot.x_mm, dot.y_mm], size, size);
        let over = srgb_to_lab(img.get_pixel(at[0] as u32, at[1] as u32).0);
        assert!(over[0] < skin[0] - 5.0, "L* over a dot {over:?} vs skin {skin:?}");
        assert!(over[2] < skin[2] - 1.0, "b* over a dot {over:?} vs skin {skin:?}");
        checked += 1;
    }
    assert_eq!(checked, 20);
}

#[test]
fn contrast_on_type_vi_is_much_smaller_than_on_type_ii() {
    let healed = Moment::Healed { session: 3 };
    let (light, dark) = (
        contrast(Fitzpatrick::II, &healed),
        contrast(Fitzpatrick::VI, &healed),
    );
    assert!(light > 0.0 && dark > 0.0);
    assert!(dark < 0.5 * light, "type VI ΔL* {dark} vs type II {light}");
}

#[test]
fn contrast_falls_with_years_and_jumps_back_after_a_touch_up() {
    let years = [0.5, 1.0, 3.0, 5.0, 8.0];
    let c: Vec<f32> = years
        .iter()
        .map(|y| {
            contrast(
                Fitzpatrick::III,
                &Moment::Years {
                    years: *y,
                    touch_ups: vec![],
                },
            )
        })
        .collect();
    for w in c.windows(2) {
        assert!(w[1] < w[0], "contrast must fall: {c:?}");
    }
    let touched = contrast(
        Fitzpatrick::III,
        &Moment::Years {
            years: 5.0,
            touch_ups: vec![4.0],
        },
    );
    assert!(
        touched > c[3] * 1.15,
        "a touch-up at year 4 restores year 5: {touched} vs {}",
        c[3]
    );
}

#[test]
fn a_scar_fades_faster_than_its_surroundings() {
    // The scar at the crown's density, so that both start alike and only the tissue differs.
    let strip = ScarSpec::FutStrip {
        line: None,
        length_mm: 180.0,
        height_mm: -35.0,
        width_mm: 4.0,
        margin_mm: 3.0,
    };
    let mut request = PatternRequest {
        zones: ZonesSpec::Stage {
            stage: HairLoss::Norwood {
                stage: NorwoodStage::VII,
            },
        },
        scars: vec![strip],
        ..Default::default()
    };
    request.density_per_cm2.scar = request.density_per_cm2.crown;
    let p = generate(&request).unwrap();
    let settings = RenderSettings::default();
    let s = scene(&p, &settings, Fitzpatrick::III);
    let skin = srgb_to_lab(settings.skin_of(Fitzpatrick::III));
    let scar = s.chart_pixel(zone_centre(&p, ZoneKind::Scar), SIZE, SIZE);
    let around = s.chart_pixel(zone_centre(&p, ZoneKind::Crown), SIZE, SIZE);
    let keep = |y: f64, at: [f32; 2]| {
        let img = s
            .render(
                View::Chart,
                &Moment::Years {
                    years: y,
                    touch_ups: vec![],
                },
                SIZE,
                SIZE,
            )
            .unwrap();
        skin[0] - mean_lab(&img, at, 3)[0]
    };
    let scar_kept = keep(5.0, scar) / keep(0.1, scar);
    let around_kept = keep(5.0, around) / keep(0.1, around);
    assert!(
        scar_kept < around_kept - 0.05,
        "scar keeps {scar_kept:.2} of its contrast, surroundings {around_kept:.2}"
    );
}

#[test]
fn bad_requests_name_the_field() {
    let p = pattern(
        HairLoss::Norwood {
            stage: NorwoodStage::III,
        },
        vec![],
    );
    let settings = RenderSettings::default();
    let s = scene(&p, &settings, Fitzpatrick::II);
    let err = |m: Moment, w: u32| s.render(View::Front, &m, w, 64).unwrap_err().to_string();
    assert!(
        err(
            Moment::Years {
                years: -1.0,
                touch_ups: vec![]
            },
            64
        )
        .contains("moment.years: expected 0–60 years, got -1")
    );
    assert!(err(Moment::Healed { session: 9 }, 64).contains("moment.session: expected 1–3, got 9"));
    assert!(err(Moment::Healed { session: 1 }, 0).contains("width: expected 1–8192"));
    assert!(err(Moment::Healed { session: 1 }, 100_000).contains("got 100000"));
}

/// The fresh redness and the moment a dot counts as healed are the clinic's `[render]` figures.
#[test]
fn fresh_and_healed_looks_are_settings() {
    let p = pattern(
        HairLoss::Norwood {
            stage: NorwoodStage::VII,
        },
        vec![],
    );
    let render = |settings: &RenderSettings, moment: &Moment| {
        let s = scene(&p, settings, Fitzpatrick::II);
        let img = s.render(View::Chart, moment, 256, 256).unwrap();
        let c = s.chart_pixel(zone_centre(&p, ZoneKind::MidScalp), 256, 256);
        mean_lab(&img, c, 20)
    };
    let defaults = RenderSettings::default();
    let mut pale = defaults;
    pale.optics.fresh_redness = [0.0; 3];
    let fresh = Moment::Fresh { session: 1 };
    assert!(
        render(&defaults, &fresh)[1] > render(&pale, &fresh)[1] + 0.5,
        "redness raises a*"
    );
    let mut later = defaults;
    later.healed_after_weeks = 20.0;
    let healed = Moment::Healed { session: 1 };
    assert!(
        render(&later, &healed)[0] > render(&defaults, &healed)[0],
        "more of the early loss by a later 'healed'"
    );
}
