//! A photo upload (`POST /clients/{id}/photos`, the studio's capture page, a clinic import):
//! the store's sanitiser checks the format, the byte, pixel and decoded-byte caps from the
//! header and keeps only what decoding needs; the stored bytes are then decoded as a preview,
//! the photo overlay and the landmark finder decode them. Nothing may panic, what is accepted
//! must be accepted again unchanged (a backup restored or an export imported uploads the
//! stored bytes), and the caps must hold.
//!
//! The sanitiser is `crates/follicle-store/src/photo.rs` compiled in here as a module (it
//! needs only serde and thiserror): the store crate itself would bring SQLite, PostgreSQL and
//! the object store into every fuzz build.
#![no_main]

#[allow(dead_code, missing_docs)]
#[path = "../../crates/follicle-store/src/photo.rs"]
mod photo;

use libfuzzer_sys::fuzz_target;
use photo::{PhotoLimits, strip_metadata_with};

fuzz_target!(|data: &[u8]| {
    let limits = PhotoLimits::default();
    let Ok(stripped) = strip_metadata_with(data, &limits) else {
        return;
    };
    let (w, h) = (u64::from(stripped.width), u64::from(stripped.height));
    assert!(w > 0 && h > 0 && w * h <= limits.max_pixels);
    assert!(stripped.orientation.is_none_or(|o| (1..=8).contains(&o)));
    let again = strip_metadata_with(&stripped.bytes, &limits).expect("stored bytes are accepted again");
    assert_eq!(again.bytes, stripped.bytes, "stripping twice changes the bytes");
    assert_eq!(
        (again.format, again.width, again.height),
        (stripped.format, stripped.width, stripped.height)
    );
    if let Ok(image) = follicle_render::photo::decode_photo(&stripped.bytes) {
        assert!(image.width() > 0 && image.height() > 0);
    }
});
