//! What the models see: the photo letterboxed into the detector's square, and a turned square
//! crop of the face for the mesh. Both are reduced by area averaging first (so a large photo
//! is not aliased, and the work is bounded by the model's input size, not the photo's), then
//! sampled bilinearly into a planar `[1, 3, n, n]` tensor.

use image::RgbImage;
use image::imageops::{crop_imm, thumbnail};
use tract_onnx::prelude::Tensor;

/// Where the photo sits in the detector's square.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Letterbox {
    /// The square's side, pixels.
    pub side: f64,
    /// The thumbnail's offset in the square, pixels.
    pub offset: [f64; 2],
    /// The thumbnail's size, pixels.
    pub size: [f64; 2],
}

impl Letterbox {
    /// A point in the square (0–1 each way) → photo pixels.
    pub fn to_photo(self, p: [f32; 2], photo: (u32, u32)) -> [f64; 2] {
        [
            (f64::from(p[0]) * self.side - self.offset[0]) / self.size[0] * f64::from(photo.0),
            (f64::from(p[1]) * self.side - self.offset[1]) / self.size[1] * f64::from(photo.1),
        ]
    }
}

/// A turned square region of the photo, in photo pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Roi {
    /// Its centre.
    pub centre: [f64; 2],
    /// Its side.
    pub size: f64,
    /// Its turn, radians, clockwise on the photo (y down): the crop's x axis is
    /// `(cos, sin)`.
    pub angle: f64,
}

impl Roi {
    /// A point of the crop (0–1 each way) → photo pixels.
    pub fn to_photo(self, u: f64, v: f64) -> [f64; 2] {
        let (a, b) = ((u - 0.5) * self.size, (v - 0.5) * self.size);
        let (s, c) = self.angle.sin_cos();
        [self.centre[0] + c * a - s * b, self.centre[1] + s * a + c * b]
    }
}

fn tensor(data: Vec<f32>, side: usize) -> Tensor {
    // The shape and the length agree by construction.
    Tensor::from_shape(&[1, 3, side, side], &data).unwrap_or_else(|_| Tensor::from(0.0f32))
}

/// The photo, shrunk to fit a `side × side` square and centred in it, black around; values in
/// −1…1 as the detector expects.
pub(crate) fn letterbox(photo: &RgbImage, side: u32) -> (Tensor, Letterbox) {
    let (w, h) = photo.dimensions();
    let scale = f64::from(side) / f64::from(w.max(h));
    let tw = ((f64::from(w) * scale).round() as u32).clamp(1, side);
    let th = ((f64::from(h) * scale).round() as u32).clamp(1, side);
    let small = thumbnail(photo, tw, th);
    let (ox, oy) = ((side - tw) / 2, (side - th) / 2);
    let n = side as usize;
    let mut data = vec![-1.0f32; 3 * n * n];
    for (x, y, p) in small.enumerate_pixels() {
        let at = (y + oy) as usize * n + (x + ox) as usize;
        for c in 0..3 {
            data[c * n * n + at] = f32::from(p.0[c]) / 127.5 - 1.0;
        }
    }
    (
        tensor(data, n),
        Letterbox {
            side: f64::from(side),
            offset: [f64::from(ox), f64::from(oy)],
            size: [f64::from(tw), f64::from(th)],
        },
    )
}

/// The turned square `roi` of the photo as a `side × side` tensor, values in 0…1, black
/// outside the photo. The part of the photo under the region is cut out and reduced to at most
/// `max_px` across first.
pub(crate) fn crop(photo: &RgbImage, roi: &Roi, side: u32, max_px: u32) -> Tensor {
    let n = side as usize;
    let mut data = vec![0.0f32; 3 * n * n];
    let (w, h) = photo.dimensions();
    let corners = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)].map(|(u, v)| roi.to_photo(u, v));
    let lo = |i: usize| corners.iter().map(|c| c[i]).fold(f64::INFINITY, f64::min).floor();
    let hi = |i: usize| {
        corners
            .iter()
            .map(|c| c[i])
            .fold(f64::NEG_INFINITY, f64::max)
            .ceil()
    };
    let x0 = lo(0).clamp(0.0, f64::from(w));
    let y0 = lo(1).clamp(0.0, f64::from(h));
    let x1 = hi(0).clamp(0.0, f64::from(w));
    let y1 = hi(1).clamp(0.0, f64::from(h));
    if !(x1 - x0 >= 1.0 && y1 - y0 >= 1.0) {
        return tensor(data, n);
    }
    let (cx, cy, cw, ch) = (x0 as u32, y0 as u32, (x1 - x0) as u32, (y1 - y0) as u32);
    let cut = crop_imm(photo, cx, cy, cw, ch).to_image();
    let shrink = (f64::from(max_px.max(side)) / f64::from(cw.max(ch))).min(1.0);
    let cut = if shrink < 1.0 {
        let tw = ((f64::from(cw) * shrink).round() as u32).max(1);
        let th = ((f64::from(ch) * shrink).round() as u32).max(1);
        thumbnail(&cut, tw, th)
    } else {
        cut
    };
    let (tw, th) = cut.dimensions();
    let (fx, fy) = (f64::from(tw) / f64::from(cw), f64::from(th) / f64::from(ch));
    let raw = cut.as_raw();
    let texel = |x: i64, y: i64, c: usize| -> f32 {
        if x < 0 || y < 0 || x >= i64::from(tw) || y >= i64::from(th) {
            0.0
        } else {
            f32::from(raw[(y as usize * tw as usize + x as usize) * 3 + c])
        }
    };
    for j in 0..n {
        for i in 0..n {
            let p = roi.to_photo((i as f64 + 0.5) / n as f64, (j as f64 + 0.5) / n as f64);
            // In the reduced cut-out, relative to pixel centres.
            let qx = (p[0] - x0) * fx - 0.5;
            let qy = (p[1] - y0) * fy - 0.5;
            let (fx0, fy0) = (qx.floor(), qy.floor());
            let (ax, ay) = ((qx - fx0) as f32, (qy - fy0) as f32);
            let (ix, iy) = (fx0 as i64, fy0 as i64);
            let at = j * n + i;
            for c in 0..3 {
                let top = texel(ix, iy, c) * (1.0 - ax) + texel(ix + 1, iy, c) * ax;
                let bottom = texel(ix, iy + 1, c) * (1.0 - ax) + texel(ix + 1, iy + 1, c) * ax;
                data[c * n * n + at] = (top * (1.0 - ay) + bottom * ay) / 255.0;
            }
        }
    }
    tensor(data, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roi_corners_turn_clockwise_on_the_photo() {
        let roi = Roi {
            centre: [100.0, 50.0],
            size: 20.0,
            angle: std::f64::consts::FRAC_PI_2,
        };
        // Turned a quarter clockwise (y down), the crop's x axis points down the photo.
        let right = roi.to_photo(1.0, 0.5);
        assert!(
            (right[0] - 100.0).abs() < 1e-9 && (right[1] - 60.0).abs() < 1e-9,
            "{right:?}"
        );
    }

    #[test]
    fn letterbox_maps_back_to_the_photo() {
        let photo = RgbImage::new(300, 100);
        let (t, lb) = letterbox(&photo, 128);
        assert_eq!(t.shape(), &[1, 3, 128, 128]);
        let corner = lb.to_photo(
            [lb.offset[0] as f32 / 128.0, lb.offset[1] as f32 / 128.0],
            (300, 100),
        );
        assert!(corner[0].abs() < 1e-3 && corner[1].abs() < 1e-3, "{corner:?}");
    }
}
