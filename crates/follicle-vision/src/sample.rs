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

/// The part of the photo under one or more turned regions, cut out once and reduced to at
/// most `max_px` across, from which each region's tensor is then sampled. The mesh looks at
/// several slightly shifted crops of the same face: cutting and reducing once serves them all.
pub(crate) struct Cutout {
    /// The reduced cut-out.
    image: RgbImage,
    /// Where it starts in the photo, photo pixels.
    origin: [f64; 2],
    /// Cut-out pixels per photo pixel, each way.
    scale: [f64; 2],
}

impl Cutout {
    /// The part of `photo` under all of `rois`, reduced to at most `max_px` across (never below
    /// `min_px`, the model's input side: reducing further would throw away detail the model
    /// can see). `None` when the regions miss the photo.
    pub fn new(photo: &RgbImage, rois: &[Roi], min_px: u32, max_px: u32) -> Option<Cutout> {
        let (w, h) = photo.dimensions();
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for roi in rois {
            for (u, v) in [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)] {
                let c = roi.to_photo(u, v);
                for i in 0..2 {
                    lo[i] = lo[i].min(c[i]);
                    hi[i] = hi[i].max(c[i]);
                }
            }
        }
        let x0 = lo[0].floor().clamp(0.0, f64::from(w));
        let y0 = lo[1].floor().clamp(0.0, f64::from(h));
        let x1 = hi[0].ceil().clamp(0.0, f64::from(w));
        let y1 = hi[1].ceil().clamp(0.0, f64::from(h));
        if !(x1 - x0 >= 1.0 && y1 - y0 >= 1.0) {
            return None;
        }
        let (cx, cy, cw, ch) = (x0 as u32, y0 as u32, (x1 - x0) as u32, (y1 - y0) as u32);
        let cut = crop_imm(photo, cx, cy, cw, ch).to_image();
        let shrink = (f64::from(max_px.max(min_px)) / f64::from(cw.max(ch))).min(1.0);
        let image = if shrink < 1.0 {
            let tw = ((f64::from(cw) * shrink).round() as u32).max(1);
            let th = ((f64::from(ch) * shrink).round() as u32).max(1);
            thumbnail(&cut, tw, th)
        } else {
            cut
        };
        let (tw, th) = image.dimensions();
        Some(Cutout {
            scale: [f64::from(tw) / f64::from(cw), f64::from(th) / f64::from(ch)],
            origin: [x0, y0],
            image,
        })
    }

    /// The turned square `roi` as a `side × side` tensor, values in 0…1, black outside the
    /// photo, sampled bilinearly at the centres of the tensor's pixels.
    pub fn sample(&self, roi: &Roi, side: u32) -> Tensor {
        let n = side as usize;
        let mut data = vec![0.0f32; 3 * n * n];
        let (tw, th) = self.image.dimensions();
        let (tw, th) = (tw as usize, th as usize);
        let raw = self.image.as_raw();
        let texel = |x: i64, y: i64| -> [f32; 3] {
            if x < 0 || y < 0 || x as usize >= tw || y as usize >= th {
                [0.0; 3]
            } else {
                let at = (y as usize * tw + x as usize) * 3;
                [f32::from(raw[at]), f32::from(raw[at + 1]), f32::from(raw[at + 2])]
            }
        };
        // The crop's axes in cut-out pixels: a tensor pixel to the right or down moves the
        // sample by these steps, so the loop adds instead of turning every point.
        let (s, c) = roi.angle.sin_cos();
        let step = roi.size / n as f64;
        let [fx, fy] = self.scale;
        let right = [c * step * fx, s * step * fy];
        let down = [-s * step * fx, c * step * fy];
        let first = roi.to_photo(0.5 / n as f64, 0.5 / n as f64);
        let first = [
            (first[0] - self.origin[0]) * fx - 0.5,
            (first[1] - self.origin[1]) * fy - 0.5,
        ];
        for j in 0..n {
            let row = [first[0] + down[0] * j as f64, first[1] + down[1] * j as f64];
            for i in 0..n {
                // In the reduced cut-out, relative to pixel centres.
                let qx = row[0] + right[0] * i as f64;
                let qy = row[1] + right[1] * i as f64;
                let (fx0, fy0) = (qx.floor(), qy.floor());
                let (ax, ay) = ((qx - fx0) as f32, (qy - fy0) as f32);
                let (ix, iy) = (fx0 as i64, fy0 as i64);
                let (a, b) = (texel(ix, iy), texel(ix + 1, iy));
                let (d, e) = (texel(ix, iy + 1), texel(ix + 1, iy + 1));
                let at = j * n + i;
                for k in 0..3 {
                    let top = a[k] * (1.0 - ax) + b[k] * ax;
                    let bottom = d[k] * (1.0 - ax) + e[k] * ax;
                    data[k * n * n + at] = (top * (1.0 - ay) + bottom * ay) / 255.0;
                }
            }
        }
        tensor(data, n)
    }
}

/// The turned square `roi` of the photo as a `side × side` tensor, values in 0…1, black
/// outside the photo. The part of the photo under the region is cut out and reduced to at most
/// `max_px` across first.
pub(crate) fn crop(photo: &RgbImage, roi: &Roi, side: u32, max_px: u32) -> Tensor {
    match Cutout::new(photo, std::slice::from_ref(roi), side, max_px) {
        Some(cutout) => cutout.sample(roi, side),
        None => tensor(vec![0.0f32; 3 * side as usize * side as usize], side as usize),
    }
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
    fn a_turned_crop_samples_the_photo_where_the_region_says() {
        // A photo whose red is its x and green its y: each tensor pixel must hold the photo's
        // position under the centre of that pixel, turned with the region.
        let photo = RgbImage::from_fn(200, 200, |x, y| image::Rgb([x as u8, y as u8, 0]));
        let roi = Roi {
            centre: [100.0, 90.0],
            size: 64.0,
            angle: 0.3,
        };
        let t = crop(&photo, &roi, 32, 384);
        let v = t.try_as_plain_ram().unwrap().as_slice::<f32>().unwrap();
        for (i, j) in [(0, 0), (31, 0), (5, 17), (31, 31)] {
            let p = roi.to_photo((i as f64 + 0.5) / 32.0, (j as f64 + 0.5) / 32.0);
            let (r, g) = (v[j * 32 + i] * 255.0, v[32 * 32 + j * 32 + i] * 255.0);
            // Pixel x holds the value x at its centre x + 0.5.
            assert!(
                (f64::from(r) - (p[0] - 0.5)).abs() < 1e-3,
                "({i}, {j}): {r} vs {p:?}"
            );
            assert!(
                (f64::from(g) - (p[1] - 0.5)).abs() < 1e-3,
                "({i}, {j}): {g} vs {p:?}"
            );
        }
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
