//! Splatting dots into an ink (absorbance) buffer.
//!
//! Each dot is a small Gaussian of ink. Its mass is kept exactly whatever the zoom: when a
//! dot is smaller than a pixel its Gaussian is widened to half a pixel and its peak lowered,
//! which is what the eye does from a distance. The 1-D kernel weights are precomputed for a
//! few sub-pixel offsets per distinct width, so a dot costs two table rows and an outer
//! product of vector multiply-adds; dots are binned by tile so the writes stay in cache, and
//! rasters are drawn in bands of rows that threads share out (ARCHITECTURE.md, render; the
//! figures: `scripts/bench-render`).
//!
//! A dot wholly inside its band — most dots — is placed by one float-to-integer conversion
//! per axis (pixel, sub-pixel offset and whether the footprint is inside, at once), its rows
//! split off one by one with a comparison each; a dot straddling a band's top or bottom is
//! drawn in padded rows too; a band tries the dots of the tile rows above and below it on their
//! row first; binning keeps each dot's tile from its first pass to its second. Callgrind
//! (instructions, repeatable on a busy machine), 1M dots of σ 0.8 px binned and splatted into
//! 2048²: 307 → 192 a dot (splatting 232 → 143, binning 75 → 49); the 2048² healed Norwood VII
//! preview on one thread (31 376 dots, 62 698 spots; with the looks, the impressions and the
//! compositing, `scene.rs`): 122.5M → 71.3M, its splats 27.3M → 19.3M. Every pixel as before,
//! bit for bit.

use std::sync::atomic::{AtomicBool, Ordering};

/// Sub-pixel positions per axis in the kernel tables.
const SUBPIXEL: usize = 16;

/// An absorbance buffer, row-major, rows [`row_stride`] cells apart.
#[derive(Debug, Clone)]
pub struct InkBuffer {
    /// Width, pixels.
    pub width: usize,
    /// Height, pixels.
    pub height: usize,
    /// Cells from the start of one row to the next: `row_stride(width)`.
    pub stride: usize,
    /// Ink per pixel: pixel (x, y) at `y * stride + x` (the cells past `width` hold nothing).
    pub data: Vec<f32>,
}

/// `f32`s in a 64-byte cache line.
const LINE: usize = 16;

/// The distance, in cells, between rows of a raster `width` pixels wide: `width` rounded up to
/// an odd number of cache lines. A power-of-two row (2048 cells: 8 KiB) would put every row
/// of a column in the same set of the L1 cache, which holds only a dozen lines per set, while
/// a splat touches 64 rows of a tile: every access would miss. With an odd number of lines
/// the rows spread over all the sets (cachegrind, 1M dots at 2048²: 8.7M L1 data misses → 2.4M).
pub fn row_stride(width: usize) -> usize {
    let lines = width.div_ceil(LINE);
    (lines + 1 - lines % 2) * LINE
}

impl InkBuffer {
    /// An empty buffer.
    pub fn new(width: usize, height: usize) -> InkBuffer {
        let stride = row_stride(width);
        InkBuffer {
            width,
            height,
            stride,
            data: vec![0.0; stride * height],
        }
    }

    /// `layer`'s dots splatted into a `width × height` buffer, band by band on up to `threads`
    /// threads, stopping between bands once `stop` is set. The buffer takes `storage` (kept from
    /// an earlier buffer, or empty for a new one): kept storage is cleared band by band just
    /// before the band's dots go in, while it is in cache, so it needs no clearing pass of its own.
    pub(crate) fn splatted(
        width: usize,
        height: usize,
        layer: &[(Kernel, Binned)],
        threads: usize,
        stop: &dyn Stop,
        mut storage: Vec<f32>,
    ) -> InkBuffer {
        let stride = row_stride(width);
        // New storage comes zeroed from the allocator (pages zeroed as they are first touched);
        // only kept storage is cleared, band by band.
        let kept = !storage.is_empty();
        if kept {
            storage.resize(stride * height, 0.0);
        } else {
            storage = vec![0.0; stride * height];
        }
        par_bands(
            &mut storage,
            stride,
            threads,
            stop,
            || (),
            |_, y0, band| {
                if kept {
                    band.fill(0.0);
                }
                for (kernel, binned) in layer {
                    binned.splat_band(band, stride, y0, kernel);
                }
            },
        );
        InkBuffer {
            width,
            height,
            stride,
            data: storage,
        }
    }

    /// Ink at pixel (x, y), 0 outside.
    #[inline]
    pub fn get(&self, x: usize, y: usize) -> f32 {
        if x < self.width && y < self.height {
            self.data[y * self.stride + x]
        } else {
            0.0
        }
    }

    /// Bilinear sample at continuous pixel coordinates (pixel centres at i + 0.5).
    pub fn sample(&self, x: f32, y: f32) -> f32 {
        let (xc, yc) = (x - 0.5, y - 0.5);
        if !(xc > -1.0 && yc > -1.0 && xc < self.width as f32 && yc < self.height as f32) {
            return 0.0;
        }
        let (x0, y0) = (xc.floor(), yc.floor());
        let (fx, fy) = (xc - x0, yc - y0);
        let (x0, y0) = (x0 as isize, y0 as isize);
        let at = |x: isize, y: isize| {
            if x < 0 || y < 0 {
                0.0
            } else {
                self.get(x as usize, y as usize)
            }
        };
        let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx;
        let bottom = at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx;
        top * (1.0 - fy) + bottom * fy
    }
}

impl InkBuffer {
    /// Bilinear sample whose 2 × 2 cells start at cell (⌊x⌋, ⌊y⌋) (continuous coordinates
    /// with cell centres at whole numbers), for `0 ≤ x < width − 1` and `0 ≤ y < height − 1`
    /// (0 elsewhere): [`InkBuffer::sample`] less half a pixel, without its edge cases.
    #[inline]
    pub(crate) fn bilinear(&self, [x, y]: [f32; 2]) -> f32 {
        // Truncation is the floor for the non-negative coordinates this takes; `as i32` is a
        // single instruction where `as usize` is a dozen on baseline x86-64 (and takes NaN and
        // negatives to 0 all the same).
        let (ix, iy) = ((x as i32).max(0), (y as i32).max(0));
        let (fx, fy) = (x - ix as f32, y - iy as f32);
        let k = iy as usize * self.stride + ix as usize;
        let (Some(&[a, b]), Some(&[c, d])) = (
            self.data.get(k..k + 2).and_then(|s| s.first_chunk::<2>()),
            self.data
                .get(k + self.stride..k + self.stride + 2)
                .and_then(|s| s.first_chunk::<2>()),
        ) else {
            return 0.0;
        };
        let top = a + (b - a) * fx;
        let bottom = c + (d - c) * fx;
        top + (bottom - top) * fy
    }
}

/// Kernel tables for one Gaussian width.
#[derive(Debug, Clone)]
pub struct Kernel {
    sigma_px: f32,
    radius: usize,
    taps: usize,
    /// Length of a row of `weights`: `taps` rounded up to [`LANES`] (zeros past `taps`), so that
    /// a row of a splat is one fixed-width vector operation rather than a loop of unknown length.
    stride: usize,
    /// `weights[s * stride + k]`: weight of tap k for sub-pixel offset s; the first `taps` of
    /// each row sum to 1, the rest are 0.
    weights: Vec<f32>,
}

/// Padded row widths with a fixed-width inner loop (4 and 8 cover dots up to σ ≈ 1.6 px, the
/// healed preview's and the benchmark's; 16 up to σ ≈ 3.4 px). Wider kernels use a plain loop.
const LANES: [usize; 3] = [4, 8, 16];

impl Kernel {
    /// Tables for a Gaussian of `sigma_px` (widened to at least 0.5 px).
    pub fn new(sigma_px: f32) -> Kernel {
        let sigma = sigma_px.max(0.5);
        let radius = Kernel::radius_of(sigma);
        let taps = 2 * radius + 2;
        let stride = LANES.into_iter().find(|&l| l >= taps).unwrap_or(taps);
        let mut weights = vec![0.0f32; SUBPIXEL * stride];
        for s in 0..SUBPIXEL {
            let frac = (s as f32 + 0.5) / SUBPIXEL as f32;
            let row = &mut weights[s * stride..s * stride + taps];
            for (k, w) in row.iter_mut().enumerate() {
                let d = k as f32 - radius as f32 - frac;
                *w = (-d * d / (2.0 * sigma * sigma)).exp();
            }
            let sum: f32 = row.iter().sum();
            row.iter_mut().for_each(|w| *w /= sum);
        }
        Kernel {
            sigma_px: sigma,
            radius,
            taps,
            stride,
            weights,
        }
    }

    /// The (widened) width.
    pub fn sigma_px(&self) -> f32 {
        self.sigma_px
    }

    /// Rows (and columns) a dot's footprint spans beyond its centre pixel, with a pixel to spare.
    pub(crate) fn reach(&self) -> usize {
        self.radius + 2
    }

    /// The radius, in taps, of the kernel of (widened) width `sigma`.
    fn radius_of(sigma: f32) -> usize {
        ((2.2 * sigma).round() as usize).clamp(1, 24)
    }

    /// [`Kernel::reach`] of the kernel for `sigma_px`, without building its tables.
    pub(crate) fn reach_of(sigma_px: f32) -> usize {
        Kernel::radius_of(sigma_px.max(0.5)) + 2
    }
}

/// Adds `mass` of ink (pixel² × absorbance) centred at (`x`, `y`) pixels.
#[inline]
pub fn splat(buf: &mut InkBuffer, kernel: &Kernel, x: f32, y: f32, mass: f32) {
    splat_dots(
        &mut buf.data,
        buf.width,
        buf.stride,
        0,
        kernel,
        &[[x, y, mass]],
        false,
    );
}

/// Splats `dots` `(x, y, mass)`, one after the other, into rows `y0..` of a `width`-wide
/// raster (rows `stride` cells apart) of which `rows` holds a band of whole rows; the part of
/// a dot outside the band (or past `width`) is left out. Every pixel receives exactly the products it receives on the whole raster, in the
/// same order, so a raster drawn band by band is bit for bit the raster drawn at once.
///
/// The kernel's size picks a loop compiled for it (rows and padded row length known to the
/// compiler: unrolled, vectorised, no bounds checks inside a row); what does not change from
/// dot to dot (the band's bounds, the kernel's reach) is worked out once.
///
/// `outside`: the dots are mostly above or below the band (a band's neighbouring tile rows),
/// so each is first tested on its row alone, which is all most of them need; the ink is the
/// same either way.
fn splat_dots(
    rows: &mut [f32],
    width: usize,
    stride: usize,
    y0: usize,
    kernel: &Kernel,
    dots: &[[f32; 3]],
    outside: bool,
) {
    if width == 0 || stride < width || rows.is_empty() || dots.is_empty() {
        return;
    }
    let band = Band::new(width, stride, rows.len() / stride, y0, kernel);
    if outside {
        splat_sized::<true>(rows, &band, kernel, dots);
    } else {
        splat_sized::<false>(rows, &band, kernel, dots);
    }
}

/// [`splat_dots`] with the loop for the kernel's size.
fn splat_sized<const OUTSIDE: bool>(rows: &mut [f32], band: &Band, kernel: &Kernel, dots: &[[f32; 3]]) {
    match kernel.taps {
        4 => splat_fixed::<4, 4, OUTSIDE>(rows, band, kernel, dots),
        6 => splat_fixed::<8, 6, OUTSIDE>(rows, band, kernel, dots),
        8 => splat_fixed::<8, 8, OUTSIDE>(rows, band, kernel, dots),
        10 => splat_fixed::<16, 10, OUTSIDE>(rows, band, kernel, dots),
        12 => splat_fixed::<16, 12, OUTSIDE>(rows, band, kernel, dots),
        14 => splat_fixed::<16, 14, OUTSIDE>(rows, band, kernel, dots),
        16 => splat_fixed::<16, 16, OUTSIDE>(rows, band, kernel, dots),
        _ => splat_wide(rows, band, kernel, dots),
    }
}

/// The rows a splat writes to, and what follows from them for every dot.
struct Band {
    width: usize,
    stride: usize,
    height: usize,
    /// The band's first row in the raster.
    y0: usize,
    /// Dot centres (less half a pixel) outside these bounds leave no ink in the band.
    x_min: f32,
    x_max: f32,
    y_min: f32,
    y_max: f32,
}

/// Where one dot lands: its footprint's first column and row (the row relative to the band)
/// and its sub-pixel offsets.
struct Place {
    left: isize,
    top: isize,
    sx: usize,
    sy: usize,
}

impl Band {
    fn new(width: usize, stride: usize, height: usize, y0: usize, kernel: &Kernel) -> Band {
        let reach = kernel.reach() as f32;
        Band {
            width,
            stride,
            height,
            y0,
            x_min: -reach,
            x_max: width as f32 + reach,
            y_min: y0 as f32 - reach,
            y_max: (y0 + height) as f32 + reach,
        }
    }

    /// Where a dot centred at (`x`, `y`) lands; `None` when it leaves no ink in the band (NaN
    /// too). What passes has small integer coordinates, so nothing after can overflow.
    #[inline(always)]
    fn place(&self, kernel: &Kernel, x: f32, y: f32) -> Option<Place> {
        let (xc, yc) = (x - 0.5, y - 0.5);
        if !(xc > self.x_min && xc < self.x_max && yc > self.y_min && yc < self.y_max) {
            return None;
        }
        let ((x0, sx), (y0, sy)) = (cell_and_offset(xc), cell_and_offset(yc));
        Some(Place {
            left: x0 as isize - kernel.radius as isize,
            top: y0 as isize - kernel.radius as isize - self.y0 as isize,
            sx,
            sy,
        })
    }
}

/// The splat loop for kernels of `T` taps padded to `L`.
///
/// Most dots lie wholly inside the band, away from its edges ([`Inside`]): for them one
/// conversion per axis gives the pixel and the sub-pixel offset and, by two integer
/// comparisons, whether the footprint is inside, and the weights come from a table indexed by
/// a number the compiler knows is below [`SUBPIXEL`] (no bounds checks). The other dots go
/// the general way ([`Band::place`]).
#[inline(always)]
fn splat_fixed<const L: usize, const T: usize, const OUTSIDE: bool>(
    rows: &mut [f32],
    band: &Band,
    kernel: &Kernel,
    dots: &[[f32; 3]],
) {
    debug_assert_eq!(kernel.stride, L);
    let Some(table) = kernel.weights.as_chunks::<L>().0.first_chunk::<SUBPIXEL>() else {
        return;
    };
    let inside = Inside::new(band, kernel, L, T);
    // No footprint fits a band whose rows are shorter than `L` (its width is less): the fast
    // path is never taken there, and its stride at least `L` spares a test per dot.
    let stride = band.stride.max(L);
    let (w, h) = (band.width as isize, band.height as isize);
    for &[x, y, mass] in dots {
        let (xc, yc) = (x - 0.5, y - 0.5);
        // [`Band::place`]'s test of the row, first.
        if OUTSIDE && !(yc > band.y_min && yc < band.y_max) {
            continue;
        }
        if let Some((start, sx, sy)) = inside.place(stride, xc, yc) {
            let (wx, wy) = (table[sx], &table[sy]);
            if let Some(wy) = wy.first_chunk::<T>() {
                add_rows(rows, stride, start, wx, wy, mass);
            }
            continue;
        }
        let Some(at) = band.place(kernel, x, y) else {
            continue;
        };
        if at.left >= 0 && at.left + L as isize <= w && mass.is_finite() {
            // The (padded) columns are inside — the dot straddles the band's top or bottom —
            // (or the whole footprint is, past the range [`Inside`] covers): the rows inside,
            // each a padded row. The products are [`add_clipped`]'s, in its order; the
            // padding adds `m·0 = ±0`, which leaves a sum of these products as it is (a
            // finite `m`; no such sum from +0 is −0).
            let (wx, wy) = (table[at.sx], &table[at.sy]);
            let from = (-at.top).clamp(0, T as isize) as usize;
            let to = (h - at.top).clamp(0, T as isize) as usize;
            for (j, &wyj) in wy.iter().enumerate().take(to).skip(from) {
                let start = (at.top + j as isize) as usize * band.stride + at.left as usize;
                if let Some(row) = rows.get_mut(start..) {
                    add_row(row, wx, mass * wyj);
                }
            }
        } else {
            add_clipped(rows, band, kernel, &at, mass);
        }
    }
}

/// The dot centres (less half a pixel) whose whole padded footprint — `L` columns and `T`
/// rows from (⌊x⌋ − radius, ⌊y⌋ − radius) — lies in the band: `x_lo ≤ x < x_hi` and
/// `y_lo ≤ y < y_hi` (whole numbers at least 1, and at most 2²²), held as the sixteenths of a
/// pixel `⌊16·x⌋` and `⌊16·y⌋` may take.
struct Inside {
    /// `16·x_lo`, and `16·(x_hi − x_lo)` (the same for y).
    x_lo: i32,
    x_span: u32,
    y_lo: i32,
    y_span: u32,
    /// What to take from `⌊y⌋ · stride + ⌊x⌋` for the footprint's first cell in the band.
    base: usize,
}

impl Inside {
    fn new(band: &Band, kernel: &Kernel, l: usize, t: usize) -> Inside {
        // ⌊x⌋ − r ≥ 0 ⟺ x ≥ r; ⌊x⌋ − r + l ≤ width ⟺ x < width + r − l + 1 (the same for y,
        // less the band's first row). Past 2²² the general way takes over.
        let limit = 1usize << 22;
        let r = kernel.radius;
        let range = |lo: usize, hi: Option<usize>| {
            let (lo, hi) = (lo.min(limit), hi.unwrap_or(0).min(limit));
            ((lo * SUBPIXEL) as i32, (hi.saturating_sub(lo) * SUBPIXEL) as u32)
        };
        let (x_lo, x_span) = range(r, (band.width + r + 1).checked_sub(l));
        let (y_lo, y_span) = range(band.y0 + r, (band.height + band.y0 + r + 1).checked_sub(t));
        Inside {
            x_lo,
            x_span,
            y_lo,
            y_span,
            base: (band.y0 + r).wrapping_mul(band.stride).wrapping_add(r),
        }
    }

    /// For a dot centred (less half a pixel) at (`xc`, `yc`) whose footprint is inside: its
    /// first cell in the band, and its sub-pixel offsets. `None` for the others (NaN too).
    ///
    /// A point with `x ≥ 0` has `⌊16·x⌋ = 16·⌊x⌋ + ⌊16·(x − ⌊x⌋)⌋` exactly (16·x and
    /// x − ⌊x⌋ are exact in `f32`): one conversion (truncation, the floor there) gives the
    /// pixel (the high bits) and the offset [`cell_and_offset`] gives (the low four), and
    /// tells whether the point is inside: `x_lo ≤ x < x_hi ⟺ 16·x_lo ≤ ⌊16·x⌋ < 16·x_hi` for
    /// whole bounds, and a point below 0 (or NaN) has `(16·x) as i32 ≤ 0 < 16·x_lo`, one
    /// past `i32` saturates above `16·x_hi`.
    #[inline(always)]
    fn place(&self, stride: usize, xc: f32, yc: f32) -> Option<(usize, usize, usize)> {
        let qx = (xc * SUBPIXEL as f32) as i32;
        let qy = (yc * SUBPIXEL as f32) as i32;
        if qx.wrapping_sub(self.x_lo) as u32 >= self.x_span
            || qy.wrapping_sub(self.y_lo) as u32 >= self.y_span
        {
            return None;
        }
        let (qx, qy) = (qx as u32, qy as u32);
        const SHIFT: u32 = SUBPIXEL.trailing_zeros();
        let start = ((qy >> SHIFT) as usize)
            .wrapping_mul(stride)
            .wrapping_add((qx >> SHIFT) as usize)
            .wrapping_sub(self.base);
        let mask = SUBPIXEL as u32 - 1;
        Some((start, (qx & mask) as usize, (qy & mask) as usize))
    }
}

/// The splat loop for kernels wider than the fixed ones: row slices of the kernel's length.
fn splat_wide(rows: &mut [f32], band: &Band, kernel: &Kernel, dots: &[[f32; 3]]) {
    let (taps, stride) = (kernel.taps, kernel.stride);
    let (w, h) = (band.width as isize, band.height as isize);
    for &[x, y, mass] in dots {
        let Some(at) = band.place(kernel, x, y) else {
            continue;
        };
        if at.left >= 0 && at.top >= 0 && at.left + taps as isize <= w && at.top + taps as isize <= h {
            let wx = &kernel.weights[at.sx * stride..at.sx * stride + taps];
            let wy = &kernel.weights[at.sy * stride..at.sy * stride + taps];
            let (left, top) = (at.left as usize, at.top as usize);
            for (j, wyj) in wy.iter().enumerate() {
                let start = (top + j) * band.stride + left;
                let m = mass * wyj;
                for (cell, wxi) in rows[start..start + taps].iter_mut().zip(wx) {
                    *cell += m * wxi;
                }
            }
        } else {
            add_clipped(rows, band, kernel, &at, mass);
        }
    }
}

/// A dot's footprint clipped to the band: the rows and columns inside it, each row a slice
/// (the same products as [`add_rows`], in the same order).
fn add_clipped(rows: &mut [f32], band: &Band, kernel: &Kernel, at: &Place, mass: f32) {
    let (taps, stride) = (kernel.taps, kernel.stride);
    let wx = &kernel.weights[at.sx * stride..at.sx * stride + taps];
    let wy = &kernel.weights[at.sy * stride..at.sy * stride + taps];
    let (w, h) = (band.width as isize, band.height as isize);
    let inside = |first: isize, len: isize| {
        let from = (-first).clamp(0, taps as isize) as usize;
        let to = (len - first).clamp(0, taps as isize) as usize;
        from..to.max(from)
    };
    let (columns, footprint_rows) = (inside(at.left, w), inside(at.top, h));
    if columns.is_empty() {
        return;
    }
    let wx = &wx[columns.clone()];
    for j in footprint_rows {
        let m = mass * wy[j];
        let start =
            (at.top + j as isize) as usize * band.stride + (at.left + columns.start as isize) as usize;
        let Some(cells) = rows.get_mut(start..start + wx.len()) else {
            return;
        };
        for (cell, wxi) in cells.iter_mut().zip(wx) {
            *cell += m * wxi;
        }
    }
}

/// `floor(v)` and the sub-pixel offset of `v` (which of [`SUBPIXEL`] steps of the pixel it is
/// in), for a finite `v` well inside `i32`: `floor` by truncation and a correction, which is
/// exact there and costs a few instructions where `f32::floor` is a library call on baseline
/// x86-64.
#[inline(always)]
fn cell_and_offset(v: f32) -> (i32, usize) {
    let t = v as i32;
    let floor = t - i32::from(t as f32 > v);
    let offset = ((v - floor as f32) * SUBPIXEL as f32) as i32;
    (floor, (offset as usize).min(SUBPIXEL - 1))
}

/// The fast path's rows: `T` rows (the kernel's taps) of `L` cells (its padded row), both
/// known to the compiler, which unrolls the rows and turns each into a few vector
/// multiply-adds, from cell `start` of `rows` (rows `stride` cells apart). The padding adds
/// `m·0 = 0`. The row's weights come as a copy (registers), so the stores cannot alias them
/// and the compiler is free to vectorise. Each row is split off the rest: one comparison a
/// row (that a row holds `L` cells follows from `stride ≥ L`, which the caller makes known).
#[inline(always)]
fn add_rows<const L: usize, const T: usize>(
    rows: &mut [f32],
    stride: usize,
    start: usize,
    wx: [f32; L],
    wy: &[f32; T],
    mass: f32,
) {
    let Some(mut rest) = rows.get_mut(start..) else {
        return;
    };
    let Some((&last, above)) = wy.split_last() else {
        return;
    };
    for &wyj in above {
        if rest.len() < stride {
            return;
        }
        let (row, below) = rest.split_at_mut(stride);
        add_row(row, wx, mass * wyj);
        rest = below;
    }
    add_row(rest, wx, mass * last);
}

/// `row[..L] += m · wx`.
#[inline(always)]
fn add_row<const L: usize>(row: &mut [f32], wx: [f32; L], m: f32) {
    if row.len() < L {
        return;
    }
    for (cell, wxi) in row[..L].iter_mut().zip(wx) {
        *cell += m * wxi;
    }
}

/// Tile side, pixels, for binning: a 64-pixel tile's rows fit in L2 cache.
const TILE: usize = 64;

/// Rows per band when a raster is drawn band by band (one tile row: a band's ink, 64 rows of
/// a 2048-pixel image, is 512 KiB and stays in L2 cache from splatting to compositing).
pub(crate) const BAND_ROWS: usize = TILE;

/// Dots `(x, y, mass)` sorted by 64-pixel tile of a `width × height` raster: a counting sort,
/// two linear passes.
///
/// Dots in the order a pattern makes them land all over a large buffer, and each splat then
/// misses the cache on every row it touches; in tile order the writes are local. Binned dots
/// also let a band of rows find its dots in the few tile rows around it, so bands can be drawn
/// independently (in parallel) and still give the raster drawn at once, bit for bit: every
/// pixel receives the same products in the same order (tile order, then the dots' order).
///
/// The storage is reused by [`Binned::fill`]: binning a new set of dots allocates nothing once
/// the vectors are large enough.
#[derive(Debug, Clone, Default)]
pub struct Binned {
    width: usize,
    height: usize,
    tiles_x: usize,
    tiles_y: usize,
    /// `starts[t]..starts[t + 1]`: the dots of tile `t` (row-major tiles).
    starts: Vec<u32>,
    cursor: Vec<u32>,
    /// Each dot's tile, in the order given (kept between the two passes of the sort).
    tiles: Vec<u32>,
    dots: Vec<[f32; 3]>,
}

impl Binned {
    /// Bins `dots` for a `width × height` raster.
    pub fn new(width: usize, height: usize, dots: &[[f32; 3]]) -> Binned {
        let mut binned = Binned::default();
        binned.fill(width, height, dots);
        binned
    }

    /// Bins `dots` for a `width × height` raster, reusing this binning's storage.
    pub fn fill(&mut self, width: usize, height: usize, dots: &[[f32; 3]]) {
        let tiles_x = width.div_ceil(TILE).max(1);
        let tiles_y = height.div_ceil(TILE).max(1);
        (self.width, self.height, self.tiles_x, self.tiles_y) = (width, height, tiles_x, tiles_y);
        // `as u32` saturates (and takes NaN to 0) like `as usize`, in fewer instructions; a
        // coordinate past 2³² pixels lands in the last tile either way.
        let tile_of = |d: &[f32; 3]| -> usize {
            let tx = ((d[0].max(0.0) as u32 / TILE as u32) as usize).min(tiles_x - 1);
            let ty = ((d[1].max(0.0) as u32 / TILE as u32) as usize).min(tiles_y - 1);
            ty * tiles_x + tx
        };
        // The same tiles in fewer instructions, for up to 2¹⁶ tiles a side: the coordinate
        // over 64 (exact), the last tile at most (in `f32`: NaN passes), then truncated and
        // saturated by `as u16` (NaN and negatives to 0), which is three instructions where
        // `as u32` needs saturation code of its own.
        let small = tiles_x <= 1 << 16 && tiles_y <= 1 << 16;
        let (last_x, last_y) = ((tiles_x - 1) as f32, (tiles_y - 1) as f32);
        let tile_of_small = |d: &[f32; 3]| -> usize {
            let tile = |v: f32, last: f32| {
                let v = v * (1.0 / TILE as f32);
                (if last < v { last } else { v }) as u16 as usize
            };
            tile(d[1], last_y) * tiles_x + tile(d[0], last_x)
        };
        let starts = &mut self.starts;
        starts.clear();
        starts.resize(tiles_x * tiles_y + 1, 0);
        // Each dot's tile, kept for the second pass, and counted.
        self.tiles.clear();
        if small {
            self.tiles.extend(dots.iter().map(|d| tile_of_small(d) as u32));
        } else {
            self.tiles.extend(dots.iter().map(|d| tile_of(d) as u32));
        }
        for &t in &self.tiles {
            starts[t as usize + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        self.cursor.clear();
        self.cursor.extend_from_slice(&starts[..tiles_x * tiles_y]);
        // Every slot is written below; the fill value is never read.
        self.dots.clear();
        self.dots.resize(dots.len(), [0.0; 3]);
        for (d, &t) in dots.iter().zip(&self.tiles) {
            let slot = &mut self.cursor[t as usize];
            self.dots[*slot as usize] = *d;
            *slot += 1;
        }
    }

    /// How many dots.
    pub fn len(&self) -> usize {
        self.dots.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.dots.is_empty()
    }

    /// Splats every dot into `buf` (of the size the dots were binned for).
    pub fn splat(&self, buf: &mut InkBuffer, kernel: &Kernel) {
        debug_assert_eq!((buf.width, buf.height), (self.width, self.height));
        splat_dots(&mut buf.data, buf.width, buf.stride, 0, kernel, &self.dots, false);
    }

    /// Splats into the band of whole rows `y0..` held by `rows` (rows `stride` cells apart,
    /// at least the binned width; [`row_stride`] is best) the part of every dot that falls in
    /// it: the band as [`Binned::splat`] would leave it.
    pub fn splat_band(&self, rows: &mut [f32], stride: usize, y0: usize, kernel: &Kernel) {
        let width = self.width;
        if width == 0 || stride < width || rows.is_empty() {
            return;
        }
        let end = y0 + rows.len() / stride;
        // Tile rows holding dots whose footprint can reach the band (a dot binned in tile row
        // `ty` lies in rows ty·64 ..< (ty + 1)·64, or beyond the raster's edge in an edge tile).
        let reach = kernel.reach();
        let first = y0.saturating_sub(reach) / TILE;
        let last = ((end + reach - 1) / TILE).min(self.tiles_y - 1);
        if first > last {
            return;
        }
        // The tile rows wholly inside the band, and those above and below it (whose dots
        // mostly leave no ink in it), in tile order: every pixel receives the same products
        // in the same order as from one pass over them all.
        let inner_first = y0.div_ceil(TILE).clamp(first, last + 1);
        let inner_end = (end / TILE).clamp(inner_first, last + 1);
        for (rows_from, rows_to, outside) in [
            (first, inner_first, true),
            (inner_first, inner_end, false),
            (inner_end, last + 1, true),
        ] {
            let from = self.starts[rows_from * self.tiles_x] as usize;
            let to = self.starts[rows_to * self.tiles_x] as usize;
            splat_dots(rows, width, stride, y0, kernel, &self.dots[from..to], outside);
        }
    }
}

/// Splats many dots `(x, y, mass)` with one kernel, in tile order (see [`Binned`]).
pub fn splat_all(buf: &mut InkBuffer, kernel: &Kernel, dots: &[[f32; 3]]) {
    Binned::new(buf.width, buf.height, dots).splat(buf, kernel);
}

/// Draws an output of whole rows (`row_len` elements per row) band by band — [`BAND_ROWS`]
/// rows each — on up to `threads` threads (the calling thread included). `draw(scratch, y0,
/// band)` fills the band starting at row `y0`; each thread makes one `scratch` and reuses it
/// for every band it draws. A band is drawn by exactly one call that sees only that band, so
/// the output does not depend on the number of threads or on which thread drew what.
///
/// Once `stop` is set no further band is begun (the caller checks it afterwards: the output
/// is then incomplete).
pub(crate) fn par_bands<T, S>(
    out: &mut [T],
    row_len: usize,
    threads: usize,
    stop: &dyn Stop,
    scratch: impl Fn() -> S + Sync,
    draw: impl Fn(&mut S, usize, &mut [T]) + Sync,
) where
    T: Send,
{
    if row_len == 0 || out.is_empty() {
        return;
    }
    let bands = out.len().div_ceil(row_len * BAND_ROWS);
    let threads = threads.clamp(1, bands);
    let next = std::sync::Mutex::new(out.chunks_mut(row_len * BAND_ROWS).enumerate());
    let work = || {
        let mut s = scratch();
        // Take the next band (the lock is released before drawing it); a poisoned lock means
        // another thread panicked, and the scope re-raises that panic.
        while !stop.asked()
            && let Some((i, band)) = next.lock().ok().and_then(|mut it| it.next())
        {
            draw(&mut s, i * BAND_ROWS, band);
        }
    };
    if threads == 1 {
        work();
        return;
    }
    std::thread::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(work);
        }
        work();
    });
}

/// `f(0), f(1), …, f(parts − 1)` on up to `threads` threads (the calling thread included),
/// their results in that order. Each part is computed by exactly one call, so the results do not
/// depend on the number of threads or on which thread computed what.
pub(crate) fn par_parts<R: Send>(parts: usize, threads: usize, f: impl Fn(usize) -> R + Sync) -> Vec<R> {
    let threads = threads.clamp(1, parts.max(1));
    if threads == 1 {
        return (0..parts).map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= parts {
                break done;
            }
            done.push((i, f(i)));
        }
    };
    let mut all: Vec<(usize, R)> = std::thread::scope(|scope| {
        let others: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut all = work();
        for other in others {
            // A part that panicked is re-raised here, as the scope would.
            all.extend(other.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        all
    });
    all.sort_unstable_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, r)| r).collect()
}

/// Whether a render should stop: asked between bands of rows, so a render whose request is
/// gone stops within one band. The web layer sets an [`AtomicBool`] when the request is
/// dropped; a test can count the checks to stop part-way at a chosen band.
pub trait Stop: Sync {
    /// True once the render should begin no further band.
    fn asked(&self) -> bool;
}

impl Stop for AtomicBool {
    fn asked(&self) -> bool {
        self.load(Ordering::Relaxed)
    }
}

/// A stop flag nobody sets: for renders that run to the end.
pub(crate) static NEVER: AtomicBool = AtomicBool::new(false);

/// Threads a preview is drawn on by default: the machine's cores.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binned_splatting_gives_the_same_ink() {
        let kernel = Kernel::new(0.8);
        let dots: Vec<[f32; 3]> = (0..500)
            .map(|i| [(i * 37 % 300) as f32 + 0.3, (i * 91 % 200) as f32 + 0.7, 1.0])
            .collect();
        let (mut a, mut b) = (InkBuffer::new(300, 200), InkBuffer::new(300, 200));
        for d in &dots {
            splat(&mut a, &kernel, d[0], d[1], d[2]);
        }
        splat_all(&mut b, &kernel, &dots);
        for (x, y) in a.data.iter().zip(&b.data) {
            assert!((x - y).abs() < 1e-5);
        }
    }

    /// Dots everywhere, some straddling the edges and band borders, a few outside or not finite.
    fn scattered(n: usize, width: usize, height: usize) -> Vec<[f32; 3]> {
        let mut dots: Vec<[f32; 3]> = (0..n)
            .map(|i| {
                let x = (i * 7919 % (width + 20)) as f32 - 10.0 + (i % 13) as f32 / 13.0;
                let y = (i * 104_729 % (height + 20)) as f32 - 10.0 + (i % 7) as f32 / 7.0;
                [x, y, 0.5 + (i % 5) as f32 * 0.3]
            })
            .collect();
        dots.extend([
            [f32::NAN, 3.0, 1.0],
            [5.0, f32::INFINITY, 1.0],
            [1e30, -1e30, 1.0],
        ]);
        dots
    }

    #[test]
    fn bands_give_the_whole_raster_bit_for_bit() {
        let (width, height) = (150, 300);
        let dots = scattered(4000, width, height);
        // Widths with each padded row length (4, 8, 16) and the plain loop.
        for sigma in [0.3f32, 0.8, 1.5, 3.0, 6.0] {
            let kernel = Kernel::new(sigma);
            let binned = Binned::new(width, height, &dots);
            let mut whole = InkBuffer::new(width, height);
            binned.splat(&mut whole, &kernel);
            // The reference: one splat after another, in the binned order.
            let mut one_by_one = InkBuffer::new(width, height);
            for d in &binned.dots {
                splat(&mut one_by_one, &kernel, d[0], d[1], d[2]);
            }
            assert!(
                whole
                    .data
                    .iter()
                    .zip(&one_by_one.data)
                    .all(|(a, b)| a.to_bits() == b.to_bits())
            );
            // Nothing lands in the cells that pad a row.
            assert!(
                whole
                    .data
                    .chunks(whole.stride)
                    .all(|row| row[width..].iter().all(|v| *v == 0.0))
            );
            for threads in [1, 2, 3] {
                let mut banded = vec![f32::NAN; whole.stride * height];
                par_bands(
                    &mut banded,
                    whole.stride,
                    threads,
                    &NEVER,
                    || (),
                    |_, y0, band| {
                        band.fill(0.0);
                        binned.splat_band(band, whole.stride, y0, &kernel);
                    },
                );
                let same = whole
                    .data
                    .iter()
                    .zip(&banded)
                    .all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same, "σ {sigma}, {threads} threads");
            }
        }
    }

    #[test]
    fn rows_are_an_odd_number_of_cache_lines() {
        for width in [1, 15, 16, 17, 150, 1024, 2048, 3000] {
            let stride = row_stride(width);
            assert!(stride >= width && stride < width + 2 * LINE, "{width}: {stride}");
            assert_eq!(stride % (2 * LINE), LINE, "{width}: {stride}");
        }
    }

    #[test]
    fn rebinning_reuses_and_matches_a_fresh_binning() {
        let mut binned = Binned::new(300, 200, &scattered(5000, 300, 200));
        let dots = scattered(700, 120, 90);
        binned.fill(120, 90, &dots);
        let fresh = Binned::new(120, 90, &dots);
        assert_eq!(binned.starts, fresh.starts);
        assert!(
            binned
                .dots
                .iter()
                .zip(&fresh.dots)
                .all(|(a, b)| a.map(f32::to_bits) == b.map(f32::to_bits))
        );
        assert_eq!(binned.len(), dots.len());
    }

    #[test]
    fn mass_is_kept_whatever_the_width() {
        for sigma in [0.1f32, 0.5, 1.3, 4.0, 7.0] {
            let kernel = Kernel::new(sigma);
            let mut buf = InkBuffer::new(64, 64);
            splat(&mut buf, &kernel, 20.3, 31.77, 2.5);
            let total: f32 = buf.data.iter().sum();
            assert!((total - 2.5).abs() < 1e-4, "{sigma}: {total}");
        }
    }

    #[test]
    fn edges_clip_without_panicking() {
        let kernel = Kernel::new(1.0);
        let mut buf = InkBuffer::new(8, 8);
        for (x, y) in [
            (-3.0, 2.0),
            (0.1, 0.1),
            (7.9, 7.9),
            (100.0, 3.0),
            (f32::NAN, 1.0),
            (f32::INFINITY, 0.0),
        ] {
            splat(&mut buf, &kernel, x, y, 1.0);
        }
        assert!(buf.data.iter().all(|v| v.is_finite() && *v >= 0.0));
        assert!(buf.data.iter().sum::<f32>() > 0.0);
    }

    #[test]
    fn centred_dot_peaks_at_its_pixel() {
        let kernel = Kernel::new(1.0);
        let mut buf = InkBuffer::new(16, 16);
        splat(&mut buf, &kernel, 8.5, 8.5, 1.0);
        let peak = buf.get(8, 8);
        assert!(peak > buf.get(7, 8) && peak > buf.get(9, 8) && peak > buf.get(8, 9));
        assert!((buf.sample(8.5, 8.5) - peak).abs() < 1e-6);
    }
}
