//! Renders a few previews of a Norwood VII pattern into /tmp (a look at the renderer by eye).
use follicle_core::{Settings, fading::FadingModel, profile::Fitzpatrick};
use follicle_pattern::{HairLossStage, PatternRequest, ZonesSpec, generate};
use follicle_render::{Fading, Hair, Moment, RenderSettings, Scene, Skin, View, to_png};

fn main() {
    let req = PatternRequest {
        zones: ZonesSpec::Stage {
            stage: HairLossStage::Norwood7,
        },
        ..Default::default()
    };
    let pattern = generate(&req).unwrap();
    let fading = Settings::default().fading;
    let model = FadingModel::typical(&fading);
    let settings = RenderSettings::default();
    let scene = Scene {
        pattern: &pattern,
        skin: Skin::Fitzpatrick {
            fitzpatrick: Fitzpatrick::II,
        },
        hair: Some(Hair {
            srgb: [40, 32, 28],
            among_treated: 0.0,
            in_blend: 0.5,
        }),
        fading: Fading {
            normal: model,
            scar: model,
            healing_loss_fraction: Settings::default().density.healing_loss_fraction,
        },
        settings: &settings,
    };
    let t = std::time::Instant::now();
    let img = scene
        .render(View::Chart, &Moment::Healed { session: 3 }, 1024, 1024)
        .unwrap();
    eprintln!("chart 1024: {:?}", t.elapsed());
    std::fs::write("/tmp/chart.png", to_png(&img).unwrap()).unwrap();
    for view in [View::Front, View::Top, View::Left, View::Back] {
        let t = std::time::Instant::now();
        let img = scene
            .render(view, &Moment::Healed { session: 3 }, 512, 512)
            .unwrap();
        eprintln!("{view:?} 512: {:?}", t.elapsed());
        std::fs::write(format!("/tmp/{}.png", view.as_str()), to_png(&img).unwrap()).unwrap();
    }
    // A close-up crop of the chart at high resolution.
    let img = scene
        .render(View::Chart, &Moment::Healed { session: 3 }, 3000, 3000)
        .unwrap();
    let crop = image::imageops::crop_imm(&img, 1300, 600, 400, 400).to_image();
    std::fs::write("/tmp/crop.png", to_png(&crop).unwrap()).unwrap();
}
