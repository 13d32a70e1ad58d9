//! Photo intake: accept only JPEG and PNG, bounded in bytes and pixels, and strip the
//! metadata (EXIF with GPS position, camera serials, XMP, comments, text chunks) before a
//! photo is stored.
//!
//! Stripping is lossless: the image data is copied byte for byte and only what a decoder
//! needs is kept, so a clinical photo loses no detail to re-encoding and no decoder runs on
//! untrusted input here. The size limit is checked before anything is parsed, and the pixel
//! count and the bytes the image decodes to (width × height × channels × bytes a sample)
//! are read from the header (JPEG `SOFn`, PNG `IHDR`) before any image data is looked at: a
//! small 16-bit PNG that would decode to hundreds of megabytes is refused.
//!
//! What is kept is a list of what decoding needs, not a list of what to drop (issue 11: text
//! survived in ICC profiles, Adobe and extra JFIF segments and private PNG chunks):
//! - JPEG: the frame and scan headers, Huffman, arithmetic-coding and quantisation tables,
//!   restart interval and line count, and the entropy-coded data. `APP0` JFIF and `APP14`
//!   Adobe are written anew from the few numbers a decoder reads (density, colour transform),
//!   so nothing else in them survives. Every other segment goes, the ICC profile included:
//!   its description and copyright tags are free text, and a Display-P3 photo shown as sRGB
//!   is a little less saturated, which a clinical record can live with.
//! - PNG: `IHDR`, `PLTE`, `tRNS`, `IDAT`, `IEND` and the numeric colour chunks `gAMA`, `cHRM`
//!   and `sRGB`; every other chunk (text, EXIF, time, `iCCP` with its profile name, private
//!   chunks, animation) goes.
//!
//! Anything after the end of the image (phones append videos and depth maps there) is
//! dropped. The EXIF orientation is lost with EXIF: the [`Stripped::orientation`] read
//! before stripping lets a viewer turn the photo upright.

use serde::{Deserialize, Serialize};

/// Why a photo was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PhotoError {
    /// Larger than the byte limit (checked before anything else).
    #[error("photo: {bytes} bytes, at most {max} allowed")]
    TooLarge {
        /// The photo's size.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// Neither JPEG nor PNG.
    #[error("photo: expected a JPEG or PNG file")]
    UnsupportedFormat,
    /// More pixels than allowed, or a zero dimension, as the header says.
    #[error("photo: {width}×{height} pixels, at most {max} pixels allowed")]
    BadDimensions {
        /// Width from the header.
        width: u32,
        /// Height from the header.
        height: u32,
        /// The pixel limit.
        max: u64,
    },
    /// The image would decode to more bytes than allowed (a small file with a large
    /// 16-bit image is a decompression bomb).
    #[error(
        "photo: {width}×{height} pixels of {bytes_per_pixel} bytes decode to {decoded} bytes, at most {max} allowed"
    )]
    TooManyDecodedBytes {
        /// Width from the header.
        width: u32,
        /// Height from the header.
        height: u32,
        /// Bytes a decoded pixel takes (channels × bytes a sample).
        bytes_per_pixel: u64,
        /// What the image decodes to.
        decoded: u64,
        /// The limit.
        max: u64,
    },
    /// The file is cut short or its structure is broken.
    #[error("photo: damaged file ({0})")]
    Malformed(&'static str),
}

/// Bounds on an uploaded photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoLimits {
    /// At most this many bytes.
    pub max_bytes: usize,
    /// At most this many pixels (width × height).
    pub max_pixels: u64,
    /// At most this many bytes decoded (width × height × channels × bytes a sample).
    pub max_decoded_bytes: u64,
}

impl Default for PhotoLimits {
    /// 25 MiB, 50 megapixels and 200 MiB decoded: a full-resolution phone photo fits (48 MP
    /// of 8-bit RGBA is 183 MiB), a decompression bomb does not (a 16-bit RGBA PNG of 49 MP
    /// decodes to 374 MiB).
    fn default() -> PhotoLimits {
        PhotoLimits {
            max_bytes: 25 * 1024 * 1024,
            max_pixels: 50_000_000,
            max_decoded_bytes: 200 * 1024 * 1024,
        }
    }
}

/// The image format of an accepted photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageFormat {
    /// `image/jpeg`
    Jpeg,
    /// `image/png`
    Png,
}

impl ImageFormat {
    /// The MIME type.
    pub fn content_type(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Png => "image/png",
        }
    }
}

/// A photo with its metadata removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stripped {
    /// The photo's bytes, without metadata.
    pub bytes: Vec<u8>,
    /// JPEG or PNG.
    pub format: ImageFormat,
    /// Width in pixels, from the header.
    pub width: u32,
    /// Height in pixels, from the header.
    pub height: u32,
    /// The EXIF orientation (1–8) the camera recorded, if any, before it was stripped.
    pub orientation: Option<u8>,
}

/// Strips metadata from a JPEG or PNG photo with the default [`PhotoLimits`]; returns the
/// bytes to store.
///
/// ```
/// let png = [&b"\x89PNG\r\n\x1a\n"[..], b"junk"].concat();
/// assert!(follicle_store::strip_metadata(&png).is_err()); // no IHDR: refused, not guessed
/// assert!(follicle_store::strip_metadata(b"GIF89a").is_err());
/// ```
pub fn strip_metadata(bytes: &[u8]) -> Result<Vec<u8>, PhotoError> {
    strip_metadata_with(bytes, &PhotoLimits::default()).map(|s| s.bytes)
}

/// Strips metadata within the given limits; returns the bytes, format, size and orientation.
pub fn strip_metadata_with(bytes: &[u8], limits: &PhotoLimits) -> Result<Stripped, PhotoError> {
    if bytes.len() > limits.max_bytes {
        return Err(PhotoError::TooLarge {
            bytes: bytes.len(),
            max: limits.max_bytes,
        });
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        strip_jpeg(bytes, limits)
    } else if bytes.starts_with(PNG_SIGNATURE) {
        strip_png(bytes, limits)
    } else {
        Err(PhotoError::UnsupportedFormat)
    }
}

fn check_pixels(width: u32, height: u32, limits: &PhotoLimits) -> Result<(), PhotoError> {
    if width == 0 || height == 0 || u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(PhotoError::BadDimensions {
            width,
            height,
            max: limits.max_pixels,
        });
    }
    Ok(())
}

fn check_decoded(
    width: u32,
    height: u32,
    bytes_per_pixel: u64,
    limits: &PhotoLimits,
) -> Result<(), PhotoError> {
    let decoded = u64::from(width) * u64::from(height) * bytes_per_pixel;
    if decoded > limits.max_decoded_bytes {
        return Err(PhotoError::TooManyDecodedBytes {
            width,
            height,
            bytes_per_pixel,
            decoded,
            max: limits.max_decoded_bytes,
        });
    }
    Ok(())
}

/// Bytes a decoded PNG pixel takes: channels (a palette expands to RGBA) × 1 or 2 bytes.
fn png_bytes_per_pixel(bit_depth: u8, colour_type: u8) -> Option<u64> {
    let channels = match colour_type {
        0 => 1,
        2 => 3,
        3 => 4,
        4 => 2,
        6 => 4,
        _ => return None,
    };
    let sample = match bit_depth {
        1 | 2 | 4 | 8 => 1,
        16 => 2,
        _ => return None,
    };
    Some(channels * sample)
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// PNG chunks kept: what decoding needs and the numeric colour chunks; every other goes.
const PNG_KEPT: [&[u8; 4]; 8] = [
    b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"gAMA", b"cHRM", b"sRGB",
];

fn strip_png(bytes: &[u8], limits: &PhotoLimits) -> Result<Stripped, PhotoError> {
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(PNG_SIGNATURE);
    let mut at = PNG_SIGNATURE.len();
    let mut size = None;
    loop {
        let header = bytes
            .get(at..at + 8)
            .ok_or(PhotoError::Malformed("PNG chunk cut short"))?;
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let kind: [u8; 4] = [header[4], header[5], header[6], header[7]];
        let end = at
            .checked_add(12)
            .and_then(|e| e.checked_add(length))
            .filter(|&e| e <= bytes.len())
            .ok_or(PhotoError::Malformed("PNG chunk longer than the file"))?;
        let data = &bytes[at + 8..at + 8 + length];
        if size.is_none() {
            if &kind != b"IHDR" || length < 10 {
                return Err(PhotoError::Malformed("PNG does not start with IHDR"));
            }
            let width = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
            let height = u32::from_be_bytes([data[4], data[5], data[6], data[7]]);
            check_pixels(width, height, limits)?;
            let per_pixel = png_bytes_per_pixel(data[8], data[9])
                .ok_or(PhotoError::Malformed("PNG bit depth or colour type unknown"))?;
            check_decoded(width, height, per_pixel, limits)?;
            size = Some((width, height));
        }
        if PNG_KEPT.contains(&&kind) {
            out.extend_from_slice(&bytes[at..end]);
        }
        at = end;
        if &kind == b"IEND" {
            break;
        }
    }
    let (width, height) = size.ok_or(PhotoError::Malformed("PNG without IHDR"))?;
    Ok(Stripped {
        bytes: out,
        format: ImageFormat::Png,
        width,
        height,
        orientation: None,
    })
}

/// Whether a JPEG segment is copied: what decoding needs — frame headers (`SOFn`), Huffman
/// (`DHT`), arithmetic-coding (`DAC`) and quantisation (`DQT`) tables, the restart interval
/// (`DRI`), the line count (`DNL`) and scan headers (`SOS`). `APP0` and `APP14` are written
/// anew ([`jfif_segment`], [`adobe_segment`]); everything else goes.
fn keep_jpeg_segment(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xC7 | 0xC9..=0xCF | 0xDA | 0xDB | 0xDC | 0xDD)
}

/// A JFIF `APP0` with the original's version and pixel density only (no thumbnail).
fn jfif_segment(data: &[u8]) -> Option<Vec<u8>> {
    let d = data.strip_prefix(b"JFIF\0")?;
    let numbers = d.get(0..7)?;
    let mut out = vec![0xFF, 0xE0, 0x00, 0x10];
    out.extend_from_slice(b"JFIF\0");
    out.extend_from_slice(numbers);
    out.extend_from_slice(&[0, 0]);
    Some(out)
}

/// An Adobe `APP14` with the colour transform only (how to read the channels).
fn adobe_segment(data: &[u8]) -> Option<Vec<u8>> {
    let d = data.strip_prefix(b"Adobe")?;
    let transform = *d.get(6)?;
    let mut out = vec![0xFF, 0xEE, 0x00, 0x0E];
    out.extend_from_slice(b"Adobe");
    out.extend_from_slice(&[0x00, 0x64, 0x00, 0x00, 0x00, 0x00, transform]);
    Some(out)
}

fn strip_jpeg(bytes: &[u8], limits: &PhotoLimits) -> Result<Stripped, PhotoError> {
    let cut = PhotoError::Malformed("JPEG cut short");
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut at = 2;
    let mut size = None;
    let mut orientation = None;
    let (mut kept_jfif, mut kept_adobe) = (false, false);
    // The fewest bits of image data the frame header's size needs, and the bytes there are.
    let mut min_scan_bits = None;
    let mut scan_bytes = 0u64;
    loop {
        // A marker: 0xFF, optional fill bytes 0xFF, then the marker code.
        if bytes.get(at) != Some(&0xFF) {
            return Err(PhotoError::Malformed("JPEG marker expected"));
        }
        while bytes.get(at) == Some(&0xFF) {
            at += 1;
        }
        let marker = *bytes.get(at).ok_or(cut.clone())?;
        at += 1;
        match marker {
            0xD9 => {
                // End of image: anything after it (appended videos, depth maps) is dropped.
                out.extend_from_slice(&[0xFF, 0xD9]);
                break;
            }
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&[0xFF, marker]);
                continue;
            }
            _ => {}
        }
        let length_bytes = bytes.get(at..at + 2).ok_or(cut.clone())?;
        let length = usize::from(u16::from_be_bytes([length_bytes[0], length_bytes[1]]));
        if length < 2 {
            return Err(PhotoError::Malformed("JPEG segment length below 2"));
        }
        let data = bytes.get(at + 2..at + length).ok_or(cut.clone())?;
        let segment = &bytes[at - 2..at + length];
        at += length;
        // SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC): the frame header with the size.
        if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            if data.len() < 5 {
                return Err(PhotoError::Malformed("JPEG frame header cut short"));
            }
            if data.len() < 6 {
                return Err(PhotoError::Malformed("JPEG frame header cut short"));
            }
            let height = u32::from(u16::from_be_bytes([data[1], data[2]]));
            let width = u32::from(u16::from_be_bytes([data[3], data[4]]));
            check_pixels(width, height, limits)?;
            min_scan_bits = Some(least_scan_bits(marker, width, height, data)?);
            // Samples of more than 8 bits decode to 2 bytes; each component is a channel.
            let sample = if data[0] > 8 { 2 } else { 1 };
            check_decoded(width, height, u64::from(data[5]).max(1) * sample, limits)?;
            size = Some((width, height));
        }
        if marker == 0xE1 && orientation.is_none() {
            orientation = exif_orientation(data);
        }
        if keep_jpeg_segment(marker) {
            out.extend_from_slice(segment);
        } else if marker == 0xE0
            && !kept_jfif
            && let Some(jfif) = jfif_segment(data)
        {
            out.extend_from_slice(&jfif);
            kept_jfif = true;
        } else if marker == 0xEE
            && !kept_adobe
            && let Some(adobe) = adobe_segment(data)
        {
            out.extend_from_slice(&adobe);
            kept_adobe = true;
        }
        if marker == 0xDA {
            if size.is_none() {
                return Err(PhotoError::Malformed("JPEG scan before frame header"));
            }
            // Entropy-coded data: copy up to the next marker that is not a stuffed 0xFF00,
            // a restart marker or fill.
            let start = at;
            loop {
                let byte = *bytes.get(at).ok_or(cut.clone())?;
                if byte == 0xFF {
                    let next = *bytes.get(at + 1).ok_or(cut.clone())?;
                    if next != 0x00 && !(0xD0..=0xD7).contains(&next) && next != 0xFF {
                        break;
                    }
                    at += if next == 0xFF { 1 } else { 2 };
                } else {
                    at += 1;
                }
            }
            out.extend_from_slice(&bytes[start..at]);
            scan_bytes += (at - start) as u64;
        }
    }
    let (width, height) = size.ok_or(PhotoError::Malformed("JPEG without frame header"))?;
    if min_scan_bits.is_some_and(|bits| scan_bytes * 8 < bits) {
        return Err(PhotoError::Malformed(
            "JPEG image data too short for the size in its header",
        ));
    }
    Ok(Stripped {
        bytes: out,
        format: ImageFormat::Jpeg,
        width,
        height,
        orientation,
    })
}

/// The fewest bits of entropy-coded data a JPEG of this frame header can have: every 8×8
/// block of every component takes at least 2 bits in a sequential Huffman JPEG (its DC
/// difference and end-of-block codes) and at least 1 in a progressive one (its DC code in the
/// first scan); blocks counted per component as a non-interleaved scan counts them, the fewest.
/// A tiny file whose header claims millions of pixels is refused here: the decoders run out of
/// data and fill the rest, slowly (a 589-byte JPEG of 2056 × 1032 pixels took seconds to
/// decode; found by `scripts/fuzz`). Lossless, hierarchical and arithmetic-coded JPEGs are
/// left to the decoder, which refuses them.
fn least_scan_bits(marker: u8, width: u32, height: u32, frame: &[u8]) -> Result<u64, PhotoError> {
    let short = PhotoError::Malformed("JPEG frame header cut short");
    let components = usize::from(frame[5]);
    let sampling: Vec<(u64, u64)> = frame
        .get(6..6 + 3 * components)
        .ok_or(short)?
        .chunks_exact(3)
        .map(|c| (u64::from(c[1] >> 4), u64::from(c[1] & 0x0F)))
        .collect();
    if sampling.iter().any(|&(h, v)| h == 0 || v == 0) {
        return Err(PhotoError::Malformed("JPEG sampling factor of 0"));
    }
    let bits_a_block = match marker {
        0xC0 | 0xC1 => 2,
        0xC2 => 1,
        _ => return Ok(0),
    };
    let h_max = sampling.iter().map(|s| s.0).max().unwrap_or(1);
    let v_max = sampling.iter().map(|s| s.1).max().unwrap_or(1);
    let (w, h) = (u64::from(width), u64::from(height));
    let blocks: u64 = sampling
        .iter()
        .map(|&(hc, vc)| (w * hc).div_ceil(h_max).div_ceil(8) * (h * vc).div_ceil(v_max).div_ceil(8))
        .sum();
    Ok(blocks * bits_a_block)
}

/// Reads the orientation tag (0x0112) of IFD0 in an `APP1` Exif segment.
fn exif_orientation(data: &[u8]) -> Option<u8> {
    let tiff = data.strip_prefix(b"Exif\0\0")?;
    let little = match tiff.get(0..2)? {
        b"II" => true,
        b"MM" => false,
        _ => return None,
    };
    let u16_at = |i: usize| {
        let b = tiff.get(i..i + 2)?;
        Some(if little {
            u16::from_le_bytes([b[0], b[1]])
        } else {
            u16::from_be_bytes([b[0], b[1]])
        })
    };
    let u32_at = |i: usize| {
        let b = tiff.get(i..i + 4)?;
        let b = [b[0], b[1], b[2], b[3]];
        Some(if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    let ifd = usize::try_from(u32_at(4)?).ok()?;
    let count = usize::from(u16_at(ifd)?);
    (0..count.min(512)).find_map(|i| {
        let entry = ifd + 2 + i * 12;
        (u16_at(entry)? == 0x0112)
            .then(|| u16_at(entry + 8))
            .flatten()
            .and_then(|v| u8::try_from(v).ok())
            .filter(|v| (1..=8).contains(v))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(bytes: &[u8], expected: Result<(), PhotoError>) {
        let limits = PhotoLimits {
            max_bytes: 64,
            max_pixels: 100,
            max_decoded_bytes: 300,
        };
        assert_eq!(strip_metadata_with(bytes, &limits).map(|_| ()), expected);
    }

    #[test]
    fn refuses_before_parsing() {
        check(&[0u8; 65], Err(PhotoError::TooLarge { bytes: 65, max: 64 }));
        check(b"GIF89a....", Err(PhotoError::UnsupportedFormat));
        check(b"", Err(PhotoError::UnsupportedFormat));
        check(&[0xFF, 0xD8, 0xFF], Err(PhotoError::Malformed("JPEG cut short")));
        check(PNG_SIGNATURE, Err(PhotoError::Malformed("PNG chunk cut short")));
    }

    #[test]
    fn header_pixel_limit() {
        // SOF0 declaring 11×10 = 110 pixels, more than 100.
        let jpeg = [0xFF, 0xD8, 0xFF, 0xC0, 0, 11, 8, 0, 10, 0, 11, 1, 1, 0x11, 0];
        // 10×10 pixels of 16-bit RGBA: 800 bytes decoded, more than 300.
        let mut bomb = PNG_SIGNATURE.to_vec();
        bomb.extend_from_slice(&[0, 0, 0, 13]);
        bomb.extend_from_slice(b"IHDR");
        bomb.extend_from_slice(&[0, 0, 0, 10, 0, 0, 0, 10, 16, 6, 0, 0, 0, 0, 0, 0, 0]);
        check(
            &bomb,
            Err(PhotoError::TooManyDecodedBytes {
                width: 10,
                height: 10,
                bytes_per_pixel: 8,
                decoded: 800,
                max: 300,
            }),
        );
        check(
            &jpeg,
            Err(PhotoError::BadDimensions {
                width: 11,
                height: 10,
                max: 100,
            }),
        );
        let mut png = PNG_SIGNATURE.to_vec();
        png.extend_from_slice(&[0, 0, 0, 13]);
        png.extend_from_slice(b"IHDR");
        png.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0, 0, 0, 0]);
        check(
            &png,
            Err(PhotoError::BadDimensions {
                width: 0,
                height: 1,
                max: 100,
            }),
        );
    }
}
