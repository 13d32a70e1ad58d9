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
