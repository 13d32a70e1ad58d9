//! Previews are drawn in bands of rows on several threads; the image must not depend on how
//! many: the same bytes on 1, 2 and 4 threads, for every kind of chart the renderer draws (ink
//! only, fresh redness, stubble) and for a head view.

use follicle_core::profile::Fitzpatrick;
use follicle_pattern::{HairLoss, NorwoodStage};
use follicle_render::{Hair, Moment, RenderSettings, View};

use super::{pattern, scene};

#[test]
fn the_chart_is_the_same_on_any_number_of_threads() {
    let p = pattern(
        HairLoss::Norwood {
            stage: NorwoodStage::VI,
        },
        vec![],
    );
    let settings = RenderSettings::default();
    let mut s = scene(&p, &settings, Fitzpatrick::III);
    let moments = [
        Moment::Healed { session: 3 },
        Moment::Fresh { session: 2 },
        Moment::Years {
            years: 6.0,
            touch_ups: vec![3.0],
        },
    ];
    for hair in [
        None,
        Some(Hair {
            srgb: [45, 35, 30],
            among_treated: 0.2,
            in_blend: 0.5,
            blend_width_mm: 10.0,
            blend_edge_fraction: 0.5,
        }),
    ] {
        s.hair = hair;
        for (view, moment) in moments
            .iter()
            .map(|m| (View::Chart, m))
            .chain([(View::Front, &moments[0])])
        {
            // 300 rows: five bands, the last one short.
            let one = s.render_threads(view, moment, 280, 300, 1).unwrap();
            assert!(
                one.pixels().any(|p| p.0 != settings.background),
                "an empty image proves nothing"
            );
            for threads in [2, 4] {
                let many = s.render_threads(view, moment, 280, 300, threads).unwrap();
                assert!(
                    one.as_raw() == many.as_raw(),
                    "{view:?} {moment:?}, hair {}: {threads} threads differ from one",
                    hair.is_some()
                );
            }
        }
    }
}
