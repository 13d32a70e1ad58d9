//! The warp as two maps (the designer's photo view draws the dots and drags the hairline
//! with them): chart → photo → chart comes back to the same chart point, and a point on the
//! back of the head is not drawn on a front photo.

use follicle_core::profile::Fitzpatrick;
use follicle_pattern::{HairLoss, NorwoodStage};
use follicle_render::photo::{Overlay, PhotoWarp, suggested_landmarks};
use follicle_render::{RenderSettings, View};

use super::{pattern, scene};

#[test]
fn chart_to_photo_and_back_is_the_same_point() {
    let p = pattern(
        HairLoss::Norwood {
            stage: NorwoodStage::VII,
        },
        vec![],
    );
    let settings = RenderSettings::default();
    let s = scene(&p, &settings, Fitzpatrick::III);
    let landmarks = suggested_landmarks(&s, View::Front, 400, 400);
    let spec = Overlay {
        view: View::Front,
        landmarks,
        keep_hair_darker_than: None,
    };
    let warp = PhotoWarp::fit(&s, &spec, 400, 400).unwrap();
    let head = &p.head;
    // The hairline's control points face the camera on a front photo.
    let mut checked = 0;
    for a in &p.hairline.anchors {
        let q = [a[0], a[1]];
        let px = warp
            .chart_to_photo(head, q)
            .unwrap_or_else(|| panic!("hairline point {q:?} not on the front photo"));
        assert!(
            (0.0..400.0).contains(&px[0]) && (0.0..400.0).contains(&px[1]),
            "{px:?}"
        );
        let back = warp.photo_to_chart(head, px).expect("on the head");
        let err = (back[0] - q[0]).hypot(back[1] - q[1]);
        assert!(err < 0.5, "{q:?} → {px:?} → {back:?}: {err:.3} mm");
        checked += 1;
    }
    assert!(checked >= 3);
    // The occipital fringe is behind the head: not on a front photo.
    let back_of_head = head.chart_from_surface(p.landmarks.occipital_fringe.surface_mm);
    assert_eq!(warp.chart_to_photo(head, back_of_head), None);
    // Off the head (a photo corner): no chart point.
    assert_eq!(warp.photo_to_chart(head, [1.0, 1.0]), None);
}
