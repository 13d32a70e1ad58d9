//! Photos upright: a phone stores a portrait photo sideways with an EXIF orientation tag; the
//! store strips EXIF but keeps the tag's value beside the photo. Landmarks are found, shown and
//! saved on the upright photo.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage};

use crate::VisionError;

/// The EXIF orientation (1–8) recorded in a JPEG's own metadata, if any.
pub fn exif_orientation(bytes: &[u8]) -> Option<u8> {
    if !bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return None;
    }
    let mut decoder = ImageReader::with_format(Cursor::new(bytes), ImageFormat::Jpeg)
        .into_decoder()
        .ok()?;
    Some(decoder.orientation().ok()?.to_exif())
}

/// The photo turned upright for an EXIF orientation (1–8; anything else leaves it as it is).
pub fn orient(photo: RgbImage, orientation: u8) -> RgbImage {
    match Orientation::from_exif(orientation) {
        Some(Orientation::NoTransforms) | None => photo,
        Some(o) => {
            let mut image = DynamicImage::ImageRgb8(photo);
            image.apply_orientation(o);
            image.into_rgb8()
        }
    }
}

/// Decodes a PNG or JPEG photo under the renderer's limits (bytes, pixels, allocation) and
/// turns it upright: by `orientation` when given (the value the store kept), otherwise by the
/// photo's own EXIF tag.
pub fn decode_upright(bytes: &[u8], orientation: Option<u8>) -> Result<RgbImage, VisionError> {
    let photo = follicle_render::photo::decode_photo(bytes).map_err(|e| {
        let message = e.to_string();
        VisionError::NotAnImage(message.strip_prefix("photo: ").unwrap_or(&message).to_owned())
    })?;
    Ok(match orientation.or_else(|| exif_orientation(bytes)) {
        Some(o) => orient(photo, o),
        None => photo,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orientation_six_turns_a_quarter_clockwise() {
        // A 2 × 1 photo, red on the left: stored sideways with 6, upright it is 1 × 2 with red
        // on top.
        let mut photo = RgbImage::new(2, 1);
        photo.put_pixel(0, 0, image::Rgb([255, 0, 0]));
        let up = orient(photo.clone(), 6);
        assert_eq!(up.dimensions(), (1, 2));
        assert_eq!(up.get_pixel(0, 0).0, [255, 0, 0]);
        assert_eq!(orient(photo.clone(), 1), photo);
        assert_eq!(
            orient(photo.clone(), 0),
            photo,
            "not an orientation: left as it is"
        );
        assert_eq!(orient(photo.clone(), 9), photo);
    }
}
