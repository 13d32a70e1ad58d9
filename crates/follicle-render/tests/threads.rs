//! Previews are drawn in bands of rows on several threads, from dots gathered in runs on as
//! many; the image must not depend on how many: the same bytes on 1, 2, 3 and 4 threads, for
//! every kind of chart the renderer draws (ink only, fresh redness, stubble) and for a head
//! view. A render asked to stop stops between bands.

use follicle_core::profile::Fitzpatrick;
use follicle_pattern::{HairLoss, NorwoodStage};
use follicle_render::{Hair, Moment, RenderSettings, View};

use super::{pattern, scene};

/// The Norwood VI design every test here draws.
fn norwood_vi() -> follicle_pattern::Pattern {
    pattern(
        HairLoss::Norwood {
            stage: NorwoodStage::VI,
        },
        vec![],
    )
}

#[test]
fn the_chart_is_the_same_on_any_number_of_threads() {
    let p = norwood_vi();
    // Enough dots for several runs a thread below (runs of 2,048 dots or more, up to four a
    // thread), so that runs are joined.
    assert!(p.dots.len() >= 8 * 2048, "{} dots", p.dots.len());
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
            // 3: runs of dots of unequal lengths, joined in order.
            for threads in [2, 3, 4] {
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

/// A render asked to stop (its request is gone) stops between bands with `Stopped`; one that
/// is never asked draws the same image as [`follicle_render::Scene::render_threads`]. The stop
/// is counted, not timed: the render asks before each band, so a stop that answers "yes" from
/// its n-th question on must end the render after at most n bands per thread, on any machine.
#[test]
fn a_render_stops_when_asked() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use follicle_render::RenderError;
    use follicle_render::splat::Stop;

    /// Says "stop" from the `after`-th question on, and counts the questions.
    struct After {
        after: usize,
        asked: AtomicUsize,
    }
    impl Stop for After {
        fn asked(&self) -> bool {
            self.asked.fetch_add(1, Ordering::Relaxed) >= self.after
        }
    }

    let p = norwood_vi();
    let settings = RenderSettings::default();
    let s = scene(&p, &settings, Fitzpatrick::III);
    let moment = Moment::Healed { session: 3 };
    for view in [View::Chart, View::Front] {
        for threads in [1, 2] {
            let never = After {
                after: usize::MAX,
                asked: AtomicUsize::new(0),
            };
            let whole = s
                .render_threads_until(view, &moment, 1024, 1024, threads, &never)
                .unwrap();
            assert_eq!(
                whole.as_raw(),
                s.render_threads(view, &moment, 1024, 1024, threads)
                    .unwrap()
                    .as_raw(),
                "{view:?}: the same image"
            );
            let questions = never.asked.load(Ordering::Relaxed);
            assert!(questions > 8, "{view:?}: asked only {questions} times");

            let stopped = AtomicBool::new(true);
            let answer = s.render_threads_until(view, &moment, 1024, 1024, threads, &stopped);
            assert!(
                matches!(answer, Err(RenderError::Stopped)),
                "{view:?}: {answer:?}"
            );

            // Asked part-way through: "yes" from the fourth question on. The render stops
            // with `Stopped` and asks only about as many more times as it has threads.
            let part_way = After {
                after: 3,
                asked: AtomicUsize::new(0),
            };
            let answer = s.render_threads_until(view, &moment, 1024, 1024, threads, &part_way);
            assert!(
                matches!(answer, Err(RenderError::Stopped)),
                "{view:?} on {threads} threads: {answer:?}"
            );
            let asked = part_way.asked.load(Ordering::Relaxed);
            assert!(
                asked <= 3 + 2 * threads + 1 && asked < questions,
                "{view:?} on {threads} threads: asked {asked} times (of {questions} in a whole render)"
            );
        }
    }
}

#[test]
fn the_photo_preview_is_the_same_on_any_number_of_threads_and_twice() {
    use follicle_render::photo::{Overlay, PhotoCanvas, suggested_landmarks};
    let p = norwood_vi();
    let settings = RenderSettings::default();
    let s = scene(&p, &settings, Fitzpatrick::III);
    let mut bare = p.clone();
    bare.dots.clear();
    let photo = follicle_render::Scene {
        pattern: &bare,
        ..s.clone()
    }
    .render(View::Front, &Moment::Healed { session: 1 }, 300, 300)
    .unwrap();
    let overlay = Overlay {
        view: View::Front,
        landmarks: suggested_landmarks(&s, View::Front, 300, 300),
        keep_hair_darker_than: None,
    };
    let canvas = PhotoCanvas::new(&s, &photo, &overlay).unwrap();
    for moment in [
        Moment::Healed { session: 3 },
        Moment::Fresh { session: 2 },
        Moment::Years {
            years: 6.0,
            touch_ups: vec![3.0],
        },
    ] {
        let one = canvas.render_threads(&s, &moment, 1).unwrap();
        assert_ne!(one, photo, "{moment:?}: the pattern is drawn");
        for threads in [2, 4] {
            assert!(
                canvas.render_threads(&s, &moment, threads).unwrap() == one,
                "{moment:?} on {threads} threads"
            );
        }
        // The second preview reuses the first's ink raster; a clone starts without one.
        assert!(
            canvas.render_threads(&s, &moment, 1).unwrap() == one,
            "{moment:?} again"
        );
        assert!(
            canvas.clone().render_threads(&s, &moment, 1).unwrap() == one,
            "{moment:?} on a clone"
        );
    }
}
