//! Stripping metadata from photos, without a database: EXIF and GPS go, the picture stays.

use follicle_store::{
    Blobs, ImageFormat, NewClient, NewPhoto, PhotoAngle, PhotoError, PhotoLimits, Store, strip_metadata,
    strip_metadata_with,
};
use time::macros::datetime;

use crate::contract::{has_gps, jpeg_with_gps};

fn decode(bytes: &[u8]) -> image::RgbImage {
    image::load_from_memory(bytes).unwrap().to_rgb8()
}

#[test]
fn jpeg_loses_exif_gps_and_comments_not_pixels() {
    let mut original = jpeg_with_gps();
    // A comment segment after the EXIF one, and a video appended after the end of image.
    original.splice(
        2..2,
        [0xFF, 0xFE, 0x00, 0x0B].iter().copied().chain(*b"secret ID"),
    );
    original.extend_from_slice(b"ftypmp42 appended motion-photo video");
    assert!(has_gps(&original));

    let stripped = strip_metadata_with(&original, &PhotoLimits::default()).unwrap();
    assert_eq!(
        (stripped.format, stripped.width, stripped.height),
        (ImageFormat::Jpeg, 32, 24)
    );
    assert_eq!(stripped.orientation, Some(6));
    let bytes = stripped.bytes;
    assert!(!has_gps(&bytes));
    for needle in [&b"Exif\0\0"[..], b"secret ID", b"motion-photo"] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "{}",
            String::from_utf8_lossy(needle)
        );
    }
    assert!(bytes.ends_with(&[0xFF, 0xD9]));
    assert_eq!(decode(&bytes), decode(&original));
    // Stripping twice changes nothing more.
    assert_eq!(strip_metadata(&bytes).unwrap(), bytes);
}

#[test]
fn png_loses_text_exif_and_time_chunks() {
    let image = image::RgbImage::from_fn(20, 10, |x, y| image::Rgb([x as u8 * 12, y as u8 * 20, 200]));
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    // Splice metadata chunks in after IHDR (8 + 25 bytes). CRCs are not checked by the
    // stripper, and the dropped chunks are gone anyway.
    let chunk = |kind: &[u8; 4], data: &[u8]| {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        c.extend_from_slice(&[0, 0, 0, 0]);
        c
    };
    let mut with_metadata = png[..33].to_vec();
    for (kind, data) in [
        (b"tEXt", &b"Comment\0GPS 51.5N 0.1W"[..]),
        (b"eXIf", b"MM\0*gps"),
        (b"iTXt", b"Author\0\0\0\0\0Sam"),
    ] {
        with_metadata.extend(chunk(kind, data));
    }
    with_metadata.extend_from_slice(&png[33..]);
    let stripped = strip_metadata_with(&with_metadata, &PhotoLimits::default()).unwrap();
    assert_eq!(
        (stripped.format, stripped.width, stripped.height),
        (ImageFormat::Png, 20, 10)
    );
    assert_eq!(stripped.bytes, png);
    assert_eq!(decode(&stripped.bytes), image);
}

/// A JPEG or PNG segment/chunk helper: marker or kind, then data.
fn jpeg_segment(marker: u8, data: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&((data.len() + 2) as u16).to_be_bytes());
    s.extend_from_slice(data);
    s
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    c.extend_from_slice(&[0, 0, 0, 0]);
    c
}

fn contains(bytes: &[u8], needle: &[u8]) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle)
}

/// Issue 11: text hidden in an ICC profile, in the Adobe segment, in a second JFIF segment
/// or in a private PNG chunk does not survive; the pixels do.
#[test]
fn only_what_decoding_needs_is_kept() {
    let original = jpeg_with_gps();
    let mut jpeg = original[..2].to_vec();
    jpeg.extend(jpeg_segment(
        0xE0,
        b"JFIF\0\x01\x01\x00\x00\x01\x00\x01\x00\x00Patient Sam ICC",
    ));
    jpeg.extend(jpeg_segment(0xE0, b"JFIF\0\x01\x02 second JFIF: Patient Sam"));
    jpeg.extend(jpeg_segment(
        0xE2,
        b"ICC_PROFILE\0\x01\x01desc Patient Sam, Dr Who",
    ));
    jpeg.extend(jpeg_segment(
        0xEE,
        b"Adobe\x00\x64\x00\x00\x00\x00\x01Patient Sam",
    ));
    jpeg.extend(jpeg_segment(0xEB, b"JP private: Patient Sam"));
    jpeg.extend_from_slice(&original[2..]);
    let stripped = strip_metadata(&jpeg).unwrap();
    assert!(!contains(&stripped, b"Patient Sam"));
    assert!(!contains(&stripped, b"ICC_PROFILE"));
    assert_eq!(decode(&stripped), decode(&original));
    assert_eq!(
        strip_metadata(&stripped).unwrap(),
        stripped,
        "stripping twice changes nothing"
    );

    let image = image::RgbImage::from_fn(8, 8, |x, y| image::Rgb([x as u8 * 30, y as u8 * 30, 90]));
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let mut with_text = png[..33].to_vec();
    with_text.extend(png_chunk(b"iCCP", b"Patient Sam profile\0\0zzz"));
    with_text.extend(png_chunk(b"prVt", b"Patient Sam private"));
    with_text.extend(png_chunk(b"bKGD", b"\0\0\0\0\0\0"));
    with_text.extend_from_slice(&png[33..]);
    let stripped = strip_metadata(&with_text).unwrap();
    assert!(!contains(&stripped, b"Patient Sam"));
    assert_eq!(stripped, png);
    assert_eq!(decode(&stripped), image);
}

/// Issue 11: a 95 KB 16-bit PNG that decodes to 392 MB passed the pixel cap; the decoded
/// bytes are counted now, from the header.
#[test]
fn a_sixteen_bit_png_bomb_is_refused() {
    let mut bomb = b"\x89PNG\r\n\x1a\n".to_vec();
    // 7000 × 7000 = 49 megapixels (under the pixel cap) of 16-bit RGBA = 392 MB.
    let mut ihdr = 7000u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&7000u32.to_be_bytes());
    ihdr.extend_from_slice(&[16, 6, 0, 0, 0]);
    bomb.extend(png_chunk(b"IHDR", &ihdr));
    bomb.extend(png_chunk(b"IDAT", &[0x78, 0x9C, 0x03, 0x00]));
    bomb.extend(png_chunk(b"IEND", b""));
    let limits = PhotoLimits::default();
    assert!(7000 * 7000 <= limits.max_pixels);
    assert_eq!(
        strip_metadata_with(&bomb, &limits).unwrap_err(),
        PhotoError::TooManyDecodedBytes {
            width: 7000,
            height: 7000,
            bytes_per_pixel: 8,
            decoded: 392_000_000,
            max: limits.max_decoded_bytes,
        }
    );
    // The same picture at 8 bits a sample fits.
    let mut fits = bomb.clone();
    fits[8 + 8 + 8] = 8;
    assert!(!matches!(
        strip_metadata_with(&fits, &limits),
        Err(PhotoError::TooManyDecodedBytes { .. })
    ));
}

#[test]
fn refuses_other_formats_too_big_files_and_too_many_pixels() {
    let jpeg = jpeg_with_gps();
    let check = |bytes: &[u8], limits: PhotoLimits, expected: PhotoError| {
        assert_eq!(strip_metadata_with(bytes, &limits).unwrap_err(), expected);
    };
    let limits = PhotoLimits::default();
    check(b"GIF89a", limits, PhotoError::UnsupportedFormat);
    check(b"<svg/>", limits, PhotoError::UnsupportedFormat);
    check(
        &jpeg,
        PhotoLimits {
            max_bytes: 100,
            ..limits
        },
        PhotoError::TooLarge {
            bytes: jpeg.len(),
            max: 100,
        },
    );
    check(
        &jpeg,
        PhotoLimits {
            max_pixels: 700,
            ..limits
        },
        PhotoError::BadDimensions {
            width: 32,
            height: 24,
            max: 700,
        },
    );
    // Cut short anywhere: an error, never a panic.
    for end in 0..jpeg.len() - 2 {
        assert!(strip_metadata(&jpeg[..end]).is_err(), "cut at {end}");
    }
}

#[tokio::test]
async fn local_folder_keeps_the_stripped_bytes() {
    let dir = crate::support::temp_dir();
    let url = format!("sqlite://{}", dir.join("follicle.db").display());
    let store = Store::open(&url, Blobs::local(dir.join("photos")).unwrap())
        .await
        .unwrap();
    let c = crate::support::clinic(&store, "Local photos").await;
    let client = store
        .create_client(
            &c.front_desk,
            &NewClient {
                name: "Sam".into(),
                ..NewClient::default()
            },
        )
        .await
        .unwrap();
    let new = NewPhoto {
        client_id: client.id,
        angle: PhotoAngle::Top,
        taken_at: datetime!(2026-12-01 09:10 UTC),
        session_id: None,
        consent_id: None,
        consultation_id: None,
        consented: true,
    };
    let photo = store
        .upload_photo(&c.practitioner, &new, &jpeg_with_gps())
        .await
        .unwrap();
    let on_disk = std::fs::read(dir.join("photos").join(&photo.blob_key)).unwrap();
    assert!(!has_gps(&on_disk));
    assert_eq!(store.photo(&c.owner, photo.id).await.unwrap().1, on_disk);
    store.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// A 589-byte JPEG whose header claims 2056 × 1032 pixels, with a few hundred bytes of image
/// data: the decoders run out of data and fill the rest, which took seconds (found by
/// `scripts/fuzz`, as a timeout). Refused as damaged; a real photo of that size still passes.
#[test]
fn a_jpeg_with_too_little_image_data_for_its_size_is_refused() {
    let short = include_bytes!("fixtures/fuzz-short-scan.jpg");
    assert_eq!(
        strip_metadata(short).unwrap_err(),
        PhotoError::Malformed("JPEG image data too short for the size in its header")
    );
    let real = jpeg_with_gps();
    assert!(strip_metadata(&real).is_ok());
    // The same photo with its image data cut to two bytes before the end of image.
    let stripped = strip_metadata(&real).unwrap();
    let sos = stripped.windows(2).rposition(|w| w == [0xFF, 0xDA]).unwrap();
    let length = usize::from(u16::from_be_bytes([stripped[sos + 2], stripped[sos + 3]]));
    let mut cut = stripped[..sos + 2 + length + 2].to_vec();
    cut.extend_from_slice(&[0xFF, 0xD9]);
    assert_eq!(
        strip_metadata(&cut).unwrap_err(),
        PhotoError::Malformed("JPEG image data too short for the size in its header")
    );
}
