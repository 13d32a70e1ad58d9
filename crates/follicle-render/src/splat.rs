//! Splatting dots into an ink (absorbance) buffer.
//!
//! Each dot is a small Gaussian of ink. Its mass is kept exactly whatever the zoom: when a
//! dot is smaller than a pixel its Gaussian is widened to half a pixel and its peak lowered,
//! which is what the eye does from a distance. The 1-D kernel weights are precomputed for a
//! few sub-pixel offsets per distinct width, so a dot costs a table lookup and 16
//! multiply-adds — that is where the speed comes from (see `benches/render.rs`).

/// Sub-pixel positions per axis in the kernel tables.
const SUBPIXEL: usize = 16;

/// An absorbance buffer, row-major.
#[derive(Debug, Clone)]
pub struct InkBuffer {
    /// Width, pixels.
    pub width: usize,
    /// Height, pixels.
    pub height: usize,
    /// Ink per pixel.
    pub data: Vec<f32>,
}

impl InkBuffer {
    /// An empty buffer.
    pub fn new(width: usize, height: usize) -> InkBuffer {
        InkBuffer {
            width,
            height,
            data: vec![0.0; width * height],
        }
    }

    /// Ink at pixel (x, y), 0 outside.
    #[inline]
    pub fn get(&self, x: usize, y: usize) -> f32 {
        if x < self.width && y < self.height {
            self.data[y * self.width + x]
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

/// Kernel tables for one Gaussian width.
#[derive(Debug, Clone)]
pub struct Kernel {
    sigma_px: f32,
    radius: usize,
    taps: usize,
    /// `weights[s * taps + k]`: weight of tap k for sub-pixel offset s; each row sums to 1.
    weights: Vec<f32>,
}

impl Kernel {
    /// Tables for a Gaussian of `sigma_px` (widened to at least 0.5 px).
    pub fn new(sigma_px: f32) -> Kernel {
        let sigma = sigma_px.max(0.5);
        let radius = ((2.2 * sigma).round() as usize).clamp(1, 24);
        let taps = 2 * radius + 2;
        let mut weights = vec![0.0f32; SUBPIXEL * taps];
        for s in 0..SUBPIXEL {
            let frac = (s as f32 + 0.5) / SUBPIXEL as f32;
            let row = &mut weights[s * taps..(s + 1) * taps];
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
            weights,
        }
    }

    /// The (widened) width.
    pub fn sigma_px(&self) -> f32 {
        self.sigma_px
    }
}

/// Adds `mass` of ink (pixel² × absorbance) centred at (`x`, `y`) pixels.
#[inline]
pub fn splat(buf: &mut InkBuffer, kernel: &Kernel, x: f32, y: f32, mass: f32) {
    let (xc, yc) = (x - 0.5, y - 0.5);
    if !(xc.is_finite() && yc.is_finite()) {
        return;
    }
    let (x0, y0) = (xc.floor(), yc.floor());
    let sx = (((xc - x0) * SUBPIXEL as f32) as usize).min(SUBPIXEL - 1);
    let sy = (((yc - y0) * SUBPIXEL as f32) as usize).min(SUBPIXEL - 1);
    let taps = kernel.taps;
    let wx = &kernel.weights[sx * taps..(sx + 1) * taps];
    let wy = &kernel.weights[sy * taps..(sy + 1) * taps];
    let left = x0 as isize - kernel.radius as isize;
    let top = y0 as isize - kernel.radius as isize;
    let (w, h) = (buf.width as isize, buf.height as isize);
    if left >= 0 && top >= 0 && left + taps as isize <= w && top + taps as isize <= h {
        // Fast path: the whole footprint is inside.
        for (j, wyj) in wy.iter().enumerate() {
            let row = (top as usize + j) * buf.width + left as usize;
            let m = mass * wyj;
            for (cell, wxi) in buf.data[row..row + taps].iter_mut().zip(wx) {
                *cell += m * wxi;
            }
        }
        return;
    }
    for (j, wyj) in wy.iter().enumerate() {
        let py = top + j as isize;
        if py < 0 || py >= h {
            continue;
        }
        for (i, wxi) in wx.iter().enumerate() {
            let px = left + i as isize;
            if px >= 0 && px < w {
                buf.data[py as usize * buf.width + px as usize] += mass * wyj * wxi;
            }
        }
    }
}

/// Tile side, pixels, for [`splat_all`]'s binning: a 64-pixel tile's rows fit in L2 cache.
const TILE: usize = 64;

/// Splats many dots `(x, y, mass)` with one kernel, in tile order.
///
/// Dots in the order a pattern makes them land all over a large buffer, and each splat then
/// misses the cache on every row it touches. Binning them by 64-pixel tile first (a counting
/// sort: two linear passes) makes the writes local; at 1M dots on a 2048² buffer this is the
/// difference between a few and tens of millions of dots per second.
pub fn splat_all(buf: &mut InkBuffer, kernel: &Kernel, dots: &[[f32; 3]]) {
    let tiles_x = buf.width.div_ceil(TILE).max(1);
    let tiles_y = buf.height.div_ceil(TILE).max(1);
    let tile_of = |d: &[f32; 3]| -> usize {
        let tx = (d[0].max(0.0) as usize / TILE).min(tiles_x - 1);
        let ty = (d[1].max(0.0) as usize / TILE).min(tiles_y - 1);
        ty * tiles_x + tx
    };
    let mut starts = vec![0u32; tiles_x * tiles_y + 1];
    for d in dots {
        starts[tile_of(d) + 1] += 1;
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    let mut order = vec![[0.0f32; 3]; dots.len()];
    let mut next = starts.clone();
    for d in dots {
        let t = tile_of(d);
        order[next[t] as usize] = *d;
        next[t] += 1;
    }
    for d in &order {
        splat(buf, kernel, d[0], d[1], d[2]);
    }
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

    #[test]
    fn mass_is_kept_whatever_the_width() {
        for sigma in [0.1f32, 0.5, 1.3, 4.0] {
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
