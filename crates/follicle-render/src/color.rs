//! Colour: sRGB ↔ linear light, CIE L*a*b*, and the individual typology angle (ITA).
//!
//! All compositing happens in linear light; sRGB is only the file format. Lookup tables
//! make the per-pixel conversions cheap enough for interactive previews.

use std::sync::OnceLock;

/// A colour in linear-light sRGB, each channel 0–1.
pub type Linear = [f32; 3];

/// sRGB 8-bit → linear.
pub fn srgb_to_linear(c: [u8; 3]) -> Linear {
    let lut = to_linear_lut();
    [lut[c[0] as usize], lut[c[1] as usize], lut[c[2] as usize]]
}

/// Linear → sRGB 8-bit (rounded).
pub fn linear_to_srgb(c: Linear) -> [u8; 3] {
    [encode(c[0]), encode(c[1]), encode(c[2])]
}

fn decode_exact(v: f32) -> f32 {
    if v <= 0.04045 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

fn encode_exact(v: f32) -> f32 {
    let v = v.clamp(0.0, 1.0);
    if v <= 0.003_130_8 {
        v * 12.92
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

/// The table behind [`srgb_to_linear`]: the linear value of each 8-bit sRGB level, for loops
/// that convert many pixels (fetched once, outside the loop).
pub(crate) fn srgb_to_linear_table() -> &'static [f32; 256] {
    to_linear_lut()
}

fn to_linear_lut() -> &'static [f32; 256] {
    static LUT: OnceLock<[f32; 256]> = OnceLock::new();
    LUT.get_or_init(|| std::array::from_fn(|i| decode_exact(i as f32 / 255.0)))
}

const ENCODE_STEPS: usize = 4096;

fn encode_lut() -> &'static [u8; ENCODE_STEPS + 1] {
    static LUT: OnceLock<[u8; ENCODE_STEPS + 1]> = OnceLock::new();
    LUT.get_or_init(|| {
        std::array::from_fn(|i| (encode_exact(i as f32 / ENCODE_STEPS as f32) * 255.0).round() as u8)
    })
}

/// [`linear_to_srgb`] for loops over many pixels: the table fetched once, outside the loop,
/// then a multiply, a conversion and a lookup per channel (the same bytes).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Encoder(&'static [u8; ENCODE_STEPS + 1]);

impl Encoder {
    pub(crate) fn new() -> Encoder {
        Encoder(encode_lut())
    }

    /// The 8-bit sRGB colour of a linear one, rounded as [`linear_to_srgb`] rounds it.
    #[inline(always)]
    pub(crate) fn srgb(self, c: Linear) -> [u8; 3] {
        // `as i32` takes NaN and negatives to 0 like `encode`'s clamp and `as usize` do, and
        // the clamp above does what its clamp to 1 does.
        c.map(|v| self.0[((v * ENCODE_STEPS as f32 + 0.5) as i32).clamp(0, ENCODE_STEPS as i32) as usize])
    }
}

/// Linear channel → 8-bit sRGB through a 4096-step table (error under half a level in the darks
/// is hidden by the rounding to 8 bits everywhere above 1/4096 of full scale).
#[inline]
pub fn encode(v: f32) -> u8 {
    let i = (v.clamp(0.0, 1.0) * ENCODE_STEPS as f32 + 0.5) as usize;
    encode_lut()[i.min(ENCODE_STEPS)]
}

/// CIE L*a*b* (D65) of an sRGB colour.
pub fn srgb_to_lab(c: [u8; 3]) -> [f32; 3] {
    linear_to_lab(srgb_to_linear(c))
}

/// CIE L*a*b* (D65) of a linear colour.
pub fn linear_to_lab(c: Linear) -> [f32; 3] {
    let [r, g, b] = c;
    let x = 0.412_456_4 * r + 0.357_576_1 * g + 0.180_437_5 * b;
    let y = 0.212_672_9 * r + 0.715_152_2 * g + 0.072_175 * b;
    let z = 0.019_333_9 * r + 0.119_192 * g + 0.950_304_1 * b;
    let f = |t: f32| {
        if t > 0.008_856 {
            t.cbrt()
        } else {
            7.787 * t + 16.0 / 116.0
        }
    };
    let (fx, fy, fz) = (f(x / 0.950_47), f(y), f(z / 1.088_83));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// Relative luminance Y of a linear colour.
pub fn luminance(c: Linear) -> f32 {
    0.212_672_9 * c[0] + 0.715_152_2 * c[1] + 0.072_175 * c[2]
}

/// Individual typology angle in degrees: atan((L* − 50) / b*) (DOMAIN §5).
pub fn ita_degrees(lab: [f32; 3]) -> f32 {
    let [l, _, b] = lab;
    (l - 50.0).atan2(b.max(1e-3)).to_degrees()
}

/// The ITA skin class (Chardon et al.; DOMAIN §5).
pub fn ita_class(ita: f32) -> &'static str {
    match ita {
        x if x > 55.0 => "very light",
        x if x > 41.0 => "light",
        x if x > 28.0 => "intermediate",
        x if x > 10.0 => "tan",
        x if x > -30.0 => "brown",
        _ => "dark",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_encoder_gives_the_bytes_of_linear_to_srgb() {
        let encoder = Encoder::new();
        for k in -100..5000 {
            let v = k as f32 / 4096.0 + 1e-5 * (k % 7) as f32;
            let c = [v, v * 0.5, f32::NAN];
            assert_eq!(encoder.srgb(c), linear_to_srgb(c), "{v}");
        }
    }

    #[test]
    fn srgb_round_trips() {
        for v in 0..=255u8 {
            assert_eq!(linear_to_srgb(srgb_to_linear([v, v, v])), [v, v, v], "{v}");
        }
    }

    #[test]
    fn lab_of_known_colours() {
        let white = srgb_to_lab([255, 255, 255]);
        assert!(
            (white[0] - 100.0).abs() < 0.1 && white[1].abs() < 0.2 && white[2].abs() < 0.2,
            "{white:?}"
        );
        let light_skin = srgb_to_lab([213, 197, 173]);
        assert!(ita_degrees(light_skin) > 41.0, "{light_skin:?}");
        assert!(ita_degrees(srgb_to_lab([80, 55, 42])) < -30.0);
    }
}
