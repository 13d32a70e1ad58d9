//! Photos and models that cannot be used: each a clear error that sends the practitioner to
//! place the points by hand, never a panic.

use follicle_vision::{FaceLandmarker, VisionError, decode_upright};
use image::{Rgb, RgbImage};

use crate::{landmarker, photo_bytes};

fn photo(file: &str) -> RgbImage {
    decode_upright(&photo_bytes(file), None).unwrap()
}

fn says_by_hand(e: &VisionError) {
    assert!(e.to_string().contains("by hand"), "{e}");
}

#[test]
fn no_face_on_a_wall() {
    let grey = RgbImage::from_pixel(640, 480, Rgb([180, 170, 160]));
    // A plastered wall: a soft gradient with fine noise.
    let wall = RgbImage::from_fn(800, 600, |x, y| {
        let n = ((x * 7919 + y * 104_729) % 23) as u8;
        Rgb([150 + (x / 20) as u8 + n, 140 + (y / 20) as u8 + n, 130 + n])
    });
    // A photo of the back of a head has no face either (here: the wall again, turned).
    for image in [grey, wall] {
        let e = landmarker().find(&image).unwrap_err();
        assert_eq!(e, VisionError::NoFace);
        says_by_hand(&e);
    }
}

#[test]
fn two_faces_side_by_side_are_several() {
    let a = photo("654px-Aksel_Andersson.jpg");
    let b = photo("E_W_Dahlgren.jpg");
    let b = image::imageops::resize(
        &b,
        b.width() * a.height() / b.height(),
        a.height(),
        image::imageops::FilterType::Triangle,
    );
    let mut both = RgbImage::new(a.width() + b.width(), a.height());
    image::imageops::replace(&mut both, &a, 0, 0);
    image::imageops::replace(&mut both, &b, i64::from(a.width()), 0);
    let e = landmarker().find(&both).unwrap_err();
    assert_eq!(e, VisionError::SeveralFaces { count: 2 });
    says_by_hand(&e);
}

#[test]
fn a_face_too_small_is_refused_with_its_size() {
    let p = photo("E_W_Dahlgren.jpg");
    let small = image::imageops::resize(
        &p,
        p.width() / 4,
        p.height() / 4,
        image::imageops::FilterType::Triangle,
    );
    let e = landmarker().find(&small).unwrap_err();
    match &e {
        VisionError::FaceTooSmall { width_px, min_px } => {
            assert!(*width_px < *min_px, "{e}");
            assert!(e.to_string().contains(&format!("{width_px} px")), "{e}");
        }
        other => panic!("expected FaceTooSmall, got {other:?}"),
    }
    says_by_hand(&e);
}

#[test]
fn bytes_that_are_not_a_photo_are_refused() {
    let jpeg = photo_bytes("E_W_Dahlgren.jpg");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("text", b"this is not a photo".to_vec()),
        ("empty", Vec::new()),
        ("a JPEG header and nothing else", jpeg[..200].to_vec()),
        (
            "a PNG signature and garbage",
            [&b"\x89PNG\r\n\x1a\n"[..], &[0xAB; 64]].concat(),
        ),
    ];
    for (what, bytes) in cases {
        match decode_upright(&bytes, None) {
            Err(e @ VisionError::NotAnImage(_)) => says_by_hand(&e),
            other => panic!("{what}: expected NotAnImage, got {other:?}"),
        }
    }
}

#[test]
fn a_truncated_photo_gives_an_error_or_an_image_never_a_panic() {
    // A JPEG cut in the middle of its scan decodes to the part that arrived (grey below) or is
    // refused; either way nothing panics and finding landmarks answers.
    let jpeg = photo_bytes("E_W_Dahlgren.jpg");
    for cut in [jpeg.len() / 3, jpeg.len() / 2, jpeg.len() - 10] {
        if let Ok(image) = decode_upright(&jpeg[..cut], None) {
            let _ = landmarker().find(&image);
        }
    }
}

#[test]
fn damaged_models_are_refused_at_load() {
    let detector = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../assets/models/face_detection_short_range.onnx"
    ))
    .unwrap();
    let mesh = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../assets/models/face_landmark.onnx"
    ))
    .unwrap();
    let cases: Vec<(&str, Vec<u8>, Vec<u8>)> = vec![
        ("garbage detector", b"not a model".to_vec(), mesh.clone()),
        (
            "truncated mesh",
            detector.clone(),
            mesh[..mesh.len() / 2].to_vec(),
        ),
        ("models swapped", mesh.clone(), detector.clone()),
        ("empty", Vec::new(), Vec::new()),
    ];
    for (what, d, m) in cases {
        match FaceLandmarker::from_onnx(&d, &m) {
            Err(e @ VisionError::Model(_)) => says_by_hand(&e),
            other => panic!("{what}: expected a model error, got {other:?}"),
        }
    }
    // The real files load.
    assert!(FaceLandmarker::from_onnx(&detector, &mesh).is_ok());
}
