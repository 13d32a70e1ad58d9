//! The ink: each session's planned mix reaches the dots, a lighter mix renders lighter, a
//! greying client's touch-up is lighter, and a client without hair gets no stubble.

use follicle_core::Settings;
use follicle_pattern::ZoneKind;
use follicle_render::{Look, Moment, RenderSettings, View};

use super::{client_toml, look_scene, mean_lab, planned, planned_pattern, zone_centre};

const SIZE: u32 = 768;

const NORWOOD_5: &str = "scale = \"norwood\"\nstage = \"V\"";

/// Clinic settings whose every plan mixes the ink with this water share.
fn settings_with_mix(water: f64) -> Settings {
    Settings::with_overrides(&format!(
        "[pigment]\nsession_dilution = {{ 1 = [{water}], 2 = [{water}, {water}], \
         3 = [{water}, {water}, {water}], 4 = [{water}, {water}, {water}, {water}] }}\n"
    ))
    .unwrap()
}

#[test]
fn each_sessions_dots_carry_the_planned_mix() {
    let settings = Settings::default();
    let (_, plan) = planned(
        &client_toml("III", "dark_brown", 0, NORWOOD_5, "\"full_coverage\""),
        &settings,
    );
    let pattern = planned_pattern(&plan, &settings);
    assert_eq!(usize::from(pattern.sessions), plan.sessions.len());
    let mut mixes = Vec::new();
    for session in &plan.sessions {
        assert_eq!(session.part, None, "one part per layer in this plan");
        let dots: Vec<_> = pattern
            .dots
            .iter()
            .filter(|d| usize::from(d.session) == session.index)
            .collect();
        assert!(!dots.is_empty(), "session {}", session.index);
        for d in dots {
            assert!(
                (d.shade - (1.0 - session.pigment_dilution)).abs() < 1e-9,
                "session {}: dot shade {} for a mix of {} water",
                session.index,
                d.shade,
                session.pigment_dilution
            );
        }
        mixes.push(session.pigment_dilution);
    }
    // The defaults mix session 1 lightest (DOMAIN §4), so the dots are not all alike.
    assert!(mixes[0] > mixes[mixes.len() - 1], "{mixes:?}");
}

/// Mean L*a*b* over a 41 × 41 pixel square in the middle of the mid-scalp's dots of a
/// Norwood V client (type III, dark brown hair, full coverage) planned with `settings`,
/// healed after the last session.
fn mid_scalp_healed(settings: &Settings) -> [f32; 3] {
    let (profile, plan) = planned(
        &client_toml("III", "dark_brown", 0, NORWOOD_5, "\"full_coverage\""),
        settings,
    );
    let pattern = planned_pattern(&plan, settings);
    let look = Look::for_client(&profile, settings);
    let render = look.render_settings();
    let scene = look_scene(&pattern, &look, &render);
    let last = pattern.sessions;
    let img = scene
        .render(View::Chart, &Moment::Healed { session: last }, SIZE, SIZE)
        .unwrap();
    let at = scene.chart_pixel(zone_centre(&pattern, ZoneKind::MidScalp), SIZE, SIZE);
    mean_lab(&img, at, 20)
}

#[test]
fn a_lighter_mix_renders_lighter() {
    // The same client, the same dots (same plan shape, same seed); only the clinic's mix
    // differs. The region holds about 45 dots at 80/cm² (41 px ≈ 17 mm square at 768 px), so
    // the mean is the zone's tone, not one dot's.
    let skin = follicle_render::color::srgb_to_lab(
        RenderSettings::default().skin_of(follicle_core::profile::Fitzpatrick::III),
    );
    let light = mid_scalp_healed(&settings_with_mix(0.8));
    let medium = mid_scalp_healed(&settings_with_mix(0.5));
    eprintln!(
        "mid-scalp L*: skin {:.2}, 80 % water {:.2}, 50 % water {:.2}",
        skin[0], light[0], medium[0]
    );
    assert!(
        light[0] < skin[0],
        "even a light mix darkens the skin: {light:?} vs {skin:?}"
    );
    // Beer–Lambert: 0.2 of carbon absorbs 0.4 × as much as 0.5, so the ink's darkening (ΔL*
    // from bare skin) of the 80 % mix is well under the 50 % mix's; 0.6 leaves room for the
    // non-linearity of the composite (dense ink saturates), which favours the light mix.
    assert!(
        skin[0] - light[0] < 0.6 * (skin[0] - medium[0]),
        "80 % water {light:?} vs 50 % water {medium:?} (skin {skin:?})"
    );
}

/// Mean L* over the mid-scalp of `pattern` drawn with `look`, 5 years after the last session,
/// with or without a touch-up at year 4.
fn year_five(pattern: &follicle_pattern::Pattern, look: &Look, touched_up: bool) -> f32 {
    let render = look.render_settings();
    let scene = look_scene(pattern, look, &render);
    let moment = Moment::Years {
        years: 5.0,
        touch_ups: if touched_up { vec![4.0] } else { vec![] },
    };
    let img = scene.render(View::Chart, &moment, SIZE, SIZE).unwrap();
    let at = scene.chart_pixel(zone_centre(pattern, ZoneKind::MidScalp), SIZE, SIZE);
    mean_lab(&img, at, 20)[0]
}

#[test]
fn a_greying_clients_touch_up_is_lighter() {
    let settings = Settings::default();
    let toml = |grey| client_toml("III", "dark_brown", grey, NORWOOD_5, "\"full_coverage\"");
    let (dark_haired, plan) = planned(&toml(0), &settings);
    let (greying, greying_plan) = planned(&toml(60), &settings);
    let (a, b) = (
        Look::for_client(&dark_haired, &settings),
        Look::for_client(&greying, &settings),
    );
    // The one-session mix (0.35 water) for dark hair; 60 % grey adds 0.6 × 0.20.
    let base = settings.session_dilution(1).unwrap()[0];
    let grey_extra = 0.6 * settings.pigment.grey_adjust_at_full_grey;
    assert_eq!(a.fading.touch_up_dilution, Some(base));
    let b_mix = b.fading.touch_up_dilution.unwrap();
    assert!((b_mix - (base + grey_extra)).abs() < 0.006, "{b_mix}");

    // On the same dots, the two looks differ only once a touch-up has put its mix in.
    let pattern = planned_pattern(&plan, &settings);
    let before = (year_five(&pattern, &a, false), year_five(&pattern, &b, false));
    let after = (year_five(&pattern, &a, true), year_five(&pattern, &b, true));
    eprintln!(
        "year 5 mid-scalp L*: no touch-up {:.2} / {:.2}; touched up at year 4: dark hair {:.2}, 60 % grey {:.2}",
        before.0, before.1, after.0, after.1
    );
    assert_eq!(before.0, before.1, "without a touch-up the mix is the sessions'");
    // 0.53 of carbon instead of 0.65 is 18 % less ink, of an ink darkening of about 4 L* on
    // type III skin: about 0.7 L*; 0.3 is well above the rendering's noise (the two images
    // share every dot position, so the only difference is the ink).
    assert!(
        after.1 > after.0 + 0.3,
        "touched up: dark hair {} vs greying {}",
        after.0,
        after.1
    );
    assert!(after.0 < before.0, "a touch-up darkens faded dots again");

    // And on each client's own plan and dots, as the CLI and the server draw them.
    let greying_pattern = planned_pattern(&greying_plan, &settings);
    let own = year_five(&greying_pattern, &b, true);
    eprintln!("greying client on their own plan, touched up: L* {own:.2}");
    assert!(own > after.0 + 0.3, "greying {own} vs dark hair {}", after.0);
}

/// Pixels that differ between a scene drawn with the client's look and the same scene with no
/// hair drawn (only stubble can make them differ).
fn stubble_pixels(hair_loss: &str, view: View) -> usize {
    let settings = Settings::default();
    let (profile, plan) = planned(
        &client_toml("II", "black", 0, hair_loss, "\"full_coverage\""),
        &settings,
    );
    let pattern = planned_pattern(&plan, &settings);
    let look = Look::for_client(&profile, &settings);
    let render = look.render_settings();
    let scene = look_scene(&pattern, &look, &render);
    let bare = follicle_render::Scene {
        hair: None,
        ..scene.clone()
    };
    let moment = Moment::Healed {
        session: pattern.sessions,
    };
    let (with, without) = (
        scene.render(view, &moment, 320, 320).unwrap(),
        bare.render(view, &moment, 320, 320).unwrap(),
    );
    with.pixels()
        .zip(without.pixels())
        .filter(|(a, b)| a != b)
        .count()
}

#[test]
fn alopecia_universalis_and_totalis_draw_no_stubble() {
    for loss in ["scale = \"alopecia_universalis\"", "scale = \"alopecia_totalis\""] {
        for view in [View::Back, View::Left, View::Chart] {
            assert_eq!(stubble_pixels(loss, view), 0, "{loss}, {view:?}");
        }
    }
    // The check can fail: a Norwood VII client keeps hair at the sides and back.
    let kept = stubble_pixels("scale = \"norwood\"\nstage = \"VII\"", View::Back);
    assert!(kept > 1000, "Norwood VII stubble pixels: {kept}");
}

#[test]
fn a_mix_out_of_range_names_the_field() {
    let p = super::pattern(
        follicle_pattern::HairLoss::Norwood {
            stage: follicle_core::profile::NorwoodStage::III,
        },
        vec![],
    );
    let settings = RenderSettings::default();
    let mut s = super::scene(&p, &settings, follicle_core::profile::Fitzpatrick::II);
    s.fading.touch_up_dilution = Some(1.5);
    let err = s
        .render(View::Chart, &Moment::Healed { session: 1 }, 64, 64)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("fading.touch_up_dilution: expected a water share of 0–1, got 1.5"),
        "{err}"
    );
    let err = Settings::with_overrides("[render.optics]\nreference_dilution = 0.95\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("render.optics.reference_dilution"), "{err}");
}
