//! What the models see: the photo letterboxed into the detector's square, and a turned square
//! crop of the face for the mesh. Both are reduced by exact area averaging first (so a large
//! photo is not aliased, and the work after it is bounded by the model's input size, not the
//! photo's), reading only the part of the photo needed, then sampled bilinearly into a planar
//! `[1, 3, n, n]` tensor.

use std::ops::Range;

use image::RgbImage;
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

/// How one output pixel of [`area_average`] covers the source along one axis: the source pixels
/// wholly inside it, and the (up to two) cut by its edges with the part of each inside.
#[derive(Debug, Clone, PartialEq)]
struct Span {
    /// Source pixels wholly inside.
    whole: Range<usize>,
    /// Source pixels cut by the edges, with their weights (0–1; weight 0 when there is none).
    edges: [(usize, f32); 2],
    /// The span's length in source pixels (the sum of the weights).
    length: f32,
}

/// The spans of `out` output pixels evenly covering `source` source pixels: output pixel `k`
/// covers `[k, k + 1) · source / out` exactly, so the output's pixel centres sit where a
/// uniform scale puts them (no half-pixel drift from rounding the edges to whole pixels).
fn spans(source: usize, out: usize) -> Vec<Span> {
    if out <= source {
        return whole_pixel_spans(source, out);
    }
    let ratio = source as f64 / out as f64;
    (0..out)
        .map(|k| {
            let (start, end) = (k as f64 * ratio, ((k + 1) as f64 * ratio).min(source as f64));
            let first = (start.floor() as usize).min(source - 1);
            let past = (end.ceil() as usize).clamp(first + 1, source);
            if past - first == 1 {
                // Inside one source pixel (an enlargement, or a sliver).
                let w = (end - start) as f32;
                return Span {
                    whole: first..first,
                    edges: [(first, w), (first, 0.0)],
                    length: w,
                };
            }
            let (w0, w1) = ((first + 1) as f64 - start, end - (past - 1) as f64);
            Span {
                whole: first + 1..past - 1,
                edges: [(first, w0 as f32), (past - 1, w1 as f32)],
                length: (end - start) as f32,
            }
        })
        .collect()
}

/// When reducing: `image::imageops::thumbnail`'s bins, whole source pixels from
/// `ceil(k · ratio)` to `ceil((k + 1) · ratio)` in single precision, so the reduction gives the
/// thumbnail's bytes (and the landmarks found before it was replaced, exactly). Exact areas
/// ([`spans`]' enlargement branch, used for reducing too) were tried: they remove the bins'
/// drift of up to one source pixel, but moved Biden's left canthus from 3.05 % to 3.55 % of the
/// eye distance from the first hand's mark (mean of the seven sure points 1.94 % → 1.97 %),
/// over the 3.5 % the test then allowed; kept out rather than loosening the test
/// (docs/benchmarks/vision.md).
fn whole_pixel_spans(source: usize, out: usize) -> Vec<Span> {
    let ratio = source as f32 / out as f32;
    (0..out)
        .map(|k| {
            let from = k as f32 * ratio;
            let first = (from.ceil() as usize).min(source - 1);
            let past = ((from + ratio).ceil() as usize).clamp(first, source);
            Span {
                whole: first..past,
                edges: [(first, 0.0), (first, 0.0)],
                length: (past - first) as f32,
            }
        })
        .collect()
}

/// The photo's pixels `[x0, x0 + width) × [y0, y0 + height)` averaged into `out_w × out_h`
/// pixels (interleaved RGB, 0–255). Reduced both ways, [`reduce`]'s thumbnail bins and rounded
/// means. Enlarged along an axis (a photo smaller than the detector's square), exact areas, not
/// rounded: each output pixel is the mean of the photo under it, a pixel cut by its edge counted
/// by the part inside. Reads only that part of the photo, once; whole pixels are summed in
/// integers.
#[inline(never)] // a stage of its own in scripts/callgrind-vision
fn area_average(photo: &RgbImage, region: [u32; 4], out_w: u32, out_h: u32) -> Vec<f32> {
    if out_w <= region[2] && out_h <= region[3] {
        return reduce(photo, region, out_w, out_h)
            .into_iter()
            .map(f32::from)
            .collect();
    }
    let [x0, y0, width, height] = region.map(|v| v as usize);
    let (out_w, out_h) = (out_w as usize, out_h as usize);
    let stride = photo.width() as usize * 3;
    let raw = photo.as_raw();
    let columns = spans(width, out_w);
    let rows = spans(height, out_h);
    // Which output rows each source row adds to, and with what weight.
    let mut row_weights: Vec<Vec<(usize, f32)>> = vec![Vec::new(); height];
    for (j, span) in rows.iter().enumerate() {
        for i in span.whole.clone() {
            row_weights[i].push((j, 1.0));
        }
        for &(i, w) in &span.edges {
            if w > 0.0 {
                row_weights[i].push((j, w));
            }
        }
    }
    let mut out = vec![0.0f32; out_w * out_h * 3];
    let mut across = vec![0.0f32; out_w * 3];
    for (y, weights) in row_weights.iter().enumerate() {
        if weights.is_empty() {
            continue;
        }
        let start = (y0 + y) * stride + x0 * 3;
        let line = &raw[start..start + width * 3];
        for (o, span) in columns.iter().enumerate() {
            let mut whole = [0u32; 3];
            for px in line[span.whole.start * 3..span.whole.end * 3].chunks_exact(3) {
                for c in 0..3 {
                    whole[c] += u32::from(px[c]);
                }
            }
            let [(a, wa), (b, wb)] = span.edges;
            for c in 0..3 {
                across[o * 3 + c] =
                    whole[c] as f32 + wa * f32::from(line[a * 3 + c]) + wb * f32::from(line[b * 3 + c]);
            }
        }
        for &(j, w) in weights {
            for (o, v) in out[j * out_w * 3..(j + 1) * out_w * 3].iter_mut().zip(&across) {
                *o += w * v;
            }
        }
    }
    for (j, row) in rows.iter().enumerate() {
        for (o, column) in columns.iter().enumerate() {
            let area = row.length * column.length;
            for v in &mut out[(j * out_w + o) * 3..(j * out_w + o) * 3 + 3] {
                *v /= area;
            }
        }
    }
    out
}

/// [`area_average`] when neither axis is enlarged: the thumbnail's bins ([`whole_pixel_spans`])
/// and its rounded integer means, as bytes. The rows of one output row are added first, a
/// whole source row at a time (a plain loop the compiler vectorises), and the columns once per
/// output row, not once per source row: the same integer sums in another order.
fn reduce(photo: &RgbImage, region: [u32; 4], out_w: u32, out_h: u32) -> Vec<u8> {
    let [x0, y0, width, height] = region.map(|v| v as usize);
    let (out_w, out_h) = (out_w as usize, out_h as usize);
    let stride = photo.width() as usize * 3;
    let raw = photo.as_raw();
    let columns = whole_pixel_spans(width, out_w);
    let mut sums = vec![0u32; width * 3];
    let mut out = Vec::with_capacity(out_w * out_h * 3);
    for row in whole_pixel_spans(height, out_h) {
        sums.fill(0);
        for y in row.whole.clone() {
            let start = (y0 + y) * stride + x0 * 3;
            for (sum, &v) in sums.iter_mut().zip(&raw[start..start + width * 3]) {
                *sum += u32::from(v);
            }
        }
        for column in &columns {
            let n = (row.whole.len() * column.whole.len()) as u32;
            let mut whole = [0u32; 3];
            for px in sums[column.whole.start * 3..column.whole.end * 3].chunks_exact(3) {
                for c in 0..3 {
                    whole[c] += px[c];
                }
            }
            // The mean of bytes is a byte.
            out.extend(whole.map(|sum| (sum + n / 2).checked_div(n).unwrap_or(0) as u8));
        }
    }
    out
}

/// The photo, shrunk to fit a `side × side` square and centred in it, black around; values in
/// −1…1 as the detector expects.
#[inline(never)] // a stage of its own in scripts/callgrind-vision
pub(crate) fn letterbox(photo: &RgbImage, side: u32) -> (Tensor, Letterbox) {
    let (w, h) = photo.dimensions();
    let scale = f64::from(side) / f64::from(w.max(h));
    let tw = ((f64::from(w) * scale).round() as u32).clamp(1, side);
    let th = ((f64::from(h) * scale).round() as u32).clamp(1, side);
    let small = area_average(photo, [0, 0, w, h], tw, th);
    let (ox, oy) = ((side - tw) / 2, (side - th) / 2);
    let n = side as usize;
    let mut data = vec![-1.0f32; 3 * n * n];
    for (k, p) in small.chunks_exact(3).enumerate() {
        let (x, y) = (k % tw as usize, k / tw as usize);
        let at = (y + oy as usize) * n + x + ox as usize;
        for c in 0..3 {
            data[c * n * n + at] = p[c] / 127.5 - 1.0;
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
    /// The reduced cut-out, interleaved RGB ([`reduce`]: a cut-out is never enlarged). Bytes,
    /// not floats, and a quarter of the memory matters: each look's model run pushes the
    /// cut-out out of the cache, and the turned crop reads it across rows, where the prefetcher
    /// cannot follow. As floats (1.8 MB at 384 px) sampling took twice as long on a 2.1-megapixel
    /// photo as on a small one; as bytes (442 KB) it fits the core's second-level cache (1 MiB on
    /// the AMD EPYC it was measured on).
    image: Vec<u8>,
    /// Its width and height, pixels.
    size: [usize; 2],
    /// Where it starts in the photo, photo pixels.
    origin: [f64; 2],
    /// Cut-out pixels per photo pixel, each way.
    scale: [f64; 2],
}

impl Cutout {
    /// The part of `photo` under all of `rois`, reduced to at most `max_px` across (never below
    /// `min_px`, the model's input side: reducing further would throw away detail the model
    /// can see). `None` when the regions miss the photo.
    #[inline(never)] // a stage of its own in scripts/callgrind-vision
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
        let shrink = (f64::from(max_px.max(min_px)) / f64::from(cw.max(ch))).min(1.0);
        let tw = ((f64::from(cw) * shrink).round() as u32).max(1);
        let th = ((f64::from(ch) * shrink).round() as u32).max(1);
        Some(Cutout {
            image: reduce(photo, [cx, cy, cw, ch], tw, th),
            size: [tw as usize, th as usize],
            scale: [f64::from(tw) / f64::from(cw), f64::from(th) / f64::from(ch)],
            origin: [x0, y0],
        })
    }

    /// The turned square `roi` as a `side × side` tensor, values in 0…1, black outside the
    /// photo, sampled bilinearly at the centres of the tensor's pixels.
    #[inline(never)] // a stage of its own in scripts/callgrind-vision
    pub fn sample(&self, roi: &Roi, side: u32) -> Tensor {
        let n = side as usize;
        let mut data = vec![0.0f32; 3 * n * n];
        let [tw, th] = self.size;
        let raw = &self.image;
        let texel = |x: i64, y: i64| -> [f32; 3] {
            if x < 0 || y < 0 || x as usize >= tw || y as usize >= th {
                [0.0; 3]
            } else {
                let at = (y as usize * tw + x as usize) * 3;
                [raw[at], raw[at + 1], raw[at + 2]].map(f32::from)
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
                // Inside, the four texels are read straight from two rows (the usual case);
                // at the cut-out's edge, each is checked and black outside.
                let [a, b, d, e] = if ix >= 0 && iy >= 0 && (ix as usize) + 1 < tw && (iy as usize) + 1 < th {
                    let at = (iy as usize * tw + ix as usize) * 3;
                    let (upper, lower) = (&raw[at..at + 6], &raw[at + tw * 3..at + tw * 3 + 6]);
                    [
                        [upper[0], upper[1], upper[2]],
                        [upper[3], upper[4], upper[5]],
                        [lower[0], lower[1], lower[2]],
                        [lower[3], lower[4], lower[5]],
                    ]
                    .map(|t| t.map(f32::from))
                } else {
                    [
                        texel(ix, iy),
                        texel(ix + 1, iy),
                        texel(ix, iy + 1),
                        texel(ix + 1, iy + 1),
                    ]
                };
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

    /// A photo of deterministic noise (a linear congruential sequence from `seed`).
    fn noise(w: u32, h: u32, seed: u64) -> RgbImage {
        let mut state = seed;
        RgbImage::from_fn(w, h, |_, _| {
            image::Rgb(std::array::from_fn(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 56) as u8
            }))
        })
    }

    #[test]
    fn a_reduction_gives_the_thumbnails_bytes_and_an_enlargement_exact_areas() {
        let photo = noise(517, 301, 7);
        for (region, out) in [
            ([0, 0, 53, 41], [7, 5]),
            ([3, 2, 47, 37], [13, 11]),
            ([0, 0, 53, 41], [53, 41]),
            ([11, 5, 500, 290], [17, 9]),
        ] {
            let got = area_average(&photo, region, out[0], out[1]);
            let cut =
                image::imageops::crop_imm(&photo, region[0], region[1], region[2], region[3]).to_image();
            let want = image::imageops::thumbnail(&cut, out[0], out[1]);
            let want: Vec<f32> = want.as_raw().iter().map(|&v| f32::from(v)).collect();
            assert_eq!(got, want, "{region:?} → {out:?}");
        }
        // Enlarged: every source pixel weighted by its overlap with the output pixel.
        let overlap = |i: usize, lo: f64, hi: f64| ((i + 1) as f64).min(hi) - (i as f64).max(lo);
        let (region, out) = ([5u32, 4, 9, 6], [20u32, 13]);
        let got = area_average(&photo, region, out[0], out[1]);
        let [x0, y0, w, h] = region.map(|v| v as usize);
        let (rx, ry) = (w as f64 / f64::from(out[0]), h as f64 / f64::from(out[1]));
        for j in 0..out[1] as usize {
            for k in 0..out[0] as usize {
                let (xl, xh, yl, yh) = (
                    k as f64 * rx,
                    (k + 1) as f64 * rx,
                    j as f64 * ry,
                    (j + 1) as f64 * ry,
                );
                let mut sum = [0.0f64; 3];
                for y in 0..h {
                    for x in 0..w {
                        let a = overlap(x, xl, xh).max(0.0) * overlap(y, yl, yh).max(0.0);
                        let p = photo.get_pixel((x0 + x) as u32, (y0 + y) as u32).0;
                        for c in 0..3 {
                            sum[c] += a * f64::from(p[c]);
                        }
                    }
                }
                for c in 0..3 {
                    let (v, want) = (
                        f64::from(got[(j * out[0] as usize + k) * 3 + c]),
                        sum[c] / (rx * ry),
                    );
                    assert!((v - want).abs() < 1e-2, "({k}, {j}): {v} vs {want}");
                }
            }
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
