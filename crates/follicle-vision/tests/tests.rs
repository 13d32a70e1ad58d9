//! follicle-vision's tests: landmarks on the shipped real photos against points marked by
//! hand, and every way a photo or a model can be unusable.

mod bad_input;
mod real_photos;

use std::path::PathBuf;
use std::sync::OnceLock;

use follicle_vision::FaceLandmarker;

/// The models, loaded once for the whole test binary (as the server does).
fn landmarker() -> &'static FaceLandmarker {
    static LANDMARKER: OnceLock<FaceLandmarker> = OnceLock::new();
    LANDMARKER.get_or_init(|| FaceLandmarker::new().expect("the shipped models load"))
}

/// `assets/photos/<file>`.
fn photo_path(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/photos")
        .join(file)
}

fn photo_bytes(file: &str) -> Vec<u8> {
    std::fs::read(photo_path(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}
