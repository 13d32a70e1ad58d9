//! Landmarks time per photo on the shipped real photos (issue 12: under 100 ms a photo on one
//! core). Not a test: `scripts/bench-vision` runs it pinned to one core and prints the medians.

use std::sync::OnceLock;

use follicle_vision::{FaceLandmarker, decode_upright};
use image::RgbImage;

/// The shipped real photos (`assets/photos`).
const PHOTOS: [&str; 4] = [
    "654px-Aksel_Andersson.jpg",
    "E_W_Dahlgren.jpg",
    "biden.jpg",
    "O0.jpg",
];

fn main() {
    divan::main();
}

fn landmarker() -> &'static FaceLandmarker {
    static L: OnceLock<FaceLandmarker> = OnceLock::new();
    L.get_or_init(|| FaceLandmarker::new().unwrap())
}

fn photo(file: &str) -> RgbImage {
    let path = format!("{}/../../assets/photos/{file}", env!("CARGO_MANIFEST_DIR"));
    decode_upright(&std::fs::read(path).unwrap(), None).unwrap()
}

/// Finding the landmarks on a decoded, upright photo (detector, one look of the mesh at the
/// detector's crop, eight at shifted crops round the mesh's own, median, mapping).
#[divan::bench(args = PHOTOS, sample_count = 20)]
fn find(bencher: divan::Bencher<'_, '_>, file: &str) {
    let image = photo(file);
    let l = landmarker();
    bencher.bench(|| l.find(divan::black_box(&image)).unwrap());
}

/// Decoding the photo too, as the server does for a stored photo.
#[divan::bench(args = PHOTOS, sample_count = 20)]
fn decode_and_find(bencher: divan::Bencher<'_, '_>, file: &str) {
    let path = format!("{}/../../assets/photos/{file}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(path).unwrap();
    let l = landmarker();
    bencher.bench(|| {
        l.find(&decode_upright(divan::black_box(&bytes), None).unwrap())
            .unwrap()
    });
}

/// Loading and optimising both models (once per server process).
#[divan::bench(sample_count = 5)]
fn load_models() -> FaceLandmarker {
    FaceLandmarker::new().unwrap()
}
