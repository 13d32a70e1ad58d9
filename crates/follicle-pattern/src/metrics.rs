//! Point-set measures from the blue-noise literature, for patches and zones.
//!
//! Definitions follow Lagae & Dutré 2008 and Schlömer & Heck's `psa` tool (DOMAIN §6):
//!
//! * **Relative radius** `ρ = d_min / d_hex` with `d_hex = sqrt(2 / (√3 N))`, the spacing of
//!   a hexagonal lattice of `N` points, on the patch scaled to unit area. Dart throwing
//!   reaches about 0.75; above about 0.85 patterns turn regular.
//! * **Radial power spectrum** `P(ν)`, the radially averaged periodogram
//!   `|Σ exp(−2πi ν·x_j)|² / N`, here (as in `psa`) computed from the radial distribution
//!   function `g(r)` by the Hankel transform
//!   `P(ν) = |1 + 2πN ∫ (g(r) − 1) J₀(2πνr) r w(r) dr|` with a Blackman window `w` whose
//!   length grows with frequency (0.1 to 0.25 of the unit patch). Our patches are not
//!   periodic, so `g` uses the translation edge correction (each pair weighted by
//!   `A / ((W − |dx|)(H − |dy|))`) instead of `psa`'s torus distance. Frequencies are
//!   reported divided by `√N`, so a hexagonal lattice's first peak sits at 1.07.
//! * **Effective Nyquist frequency** `ν_eff`: with the cumulative mean power
//!   `C(f) = ∫₀^f P(ν) 2ν dν / f²` (mean power inside the disc of radius `f`), take the
//!   first `f ≥ √N/2` where `C > 0.5` and walk back to the highest frequency where
//!   `C < 0.1`; `ν_eff` is that frequency divided by `√N` (psa's `2/√N` normalisation of
//!   half of it). It is the band below which the pattern puts (almost) no energy.
//! * **Oscillation** `Ω`: from `ν₀`, the frequency where the spectrum first reaches 0.98
//!   (its first peak), over ten "peak widths" `ν₁ = ν₀ + 10·√N/2`, the root-mean-square
//!   deviation of `P` from 1 (the white-noise level the spectrum should settle to),
//!   area-weighted and scaled by 10: `Ω = 10 · sqrt(2π ∫ (P − 1)² ν dν / (π (ν₁² − ν₀²)))`.
//!   Ringing (regular structure) makes it large: Bridson about 1.2, long Lloyd
//!   relaxation 3.2 (DOMAIN §6).

use serde::{Deserialize, Serialize};

/// Patches larger than this are measured on a central window holding about this many points
/// (the spectrum costs O(N²)).
pub const MAX_SPECTRUM_POINTS: usize = 12_000;

/// The measures of one point set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PointMetrics {
    /// Number of points measured.
    pub points: usize,
    /// Relative radius ρ (dimensionless).
    pub relative_radius: f64,
    /// Smallest distance between two points, mm.
    pub min_distance_mm: f64,
    /// Mean nearest-neighbour distance, mm.
    pub mean_nn_distance_mm: f64,
    /// Mean nearest-neighbour distance relative to the hexagonal spacing.
    pub mean_nn_relative: f64,
    /// Effective Nyquist frequency ν_eff (frequency / √N).
    pub effective_nyquist: f64,
    /// Oscillation Ω.
    pub oscillation: f64,
}

/// A radially averaged power spectrum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RadialSpectrum {
    /// Frequencies, divided by √N.
    pub frequency: Vec<f64>,
    /// Power (1 = white noise).
    pub power: Vec<f64>,
}

/// Nearest-neighbour distance of each point, via a bucket grid (O(N)).
pub fn nearest_neighbour_distances(points: &[[f64; 2]]) -> Vec<f64> {
    let n = points.len();
    if n < 2 {
        return vec![f64::INFINITY; n];
    }
    let (mut x0, mut y0, mut x1, mut y1) =
        (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
    for p in points {
        if p[0].is_finite() && p[1].is_finite() {
            x0 = x0.min(p[0]);
            y0 = y0.min(p[1]);
            x1 = x1.max(p[0]);
            y1 = y1.max(p[1]);
        }
    }
    if !(x1 >= x0 && y1 >= y0) {
        return vec![f64::INFINITY; n];
    }
    let area = ((x1 - x0) * (y1 - y0)).max(1e-12);
    let cell = (area / n as f64).sqrt().max(1e-9);
    let nx = (((x1 - x0) / cell) as usize + 1).min(1 << 14);
    let ny = (((y1 - y0) / cell) as usize + 1).min(1 << 14);
    let cell_x = (x1 - x0) / nx as f64 + 1e-12;
    let cell_y = (y1 - y0) / ny as f64 + 1e-12;
    let key = |p: [f64; 2]| {
        let gx = (((p[0] - x0) / cell_x) as usize).min(nx - 1);
        let gy = (((p[1] - y0) / cell_y) as usize).min(ny - 1);
        (gx, gy)
    };
    // Counting sort of points into cells.
    let mut start = vec![0u32; nx * ny + 1];
    for p in points {
        if p[0].is_finite() && p[1].is_finite() {
            let (gx, gy) = key(*p);
            start[gy * nx + gx + 1] += 1;
        }
    }
    for i in 1..start.len() {
        start[i] += start[i - 1];
    }
    let mut fill = start.clone();
    let mut order = vec![0u32; n];
    for (i, p) in points.iter().enumerate() {
        if p[0].is_finite() && p[1].is_finite() {
            let (gx, gy) = key(*p);
            let c = gy * nx + gx;
            order[fill[c] as usize] = i as u32;
            fill[c] += 1;
        }
    }
    let step = cell_x.min(cell_y);
    points
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            if !(p[0].is_finite() && p[1].is_finite()) {
                return f64::INFINITY;
            }
            let (gx, gy) = key(p);
            let mut best = f64::INFINITY;
            let max_ring = nx.max(ny);
            for ring in 0..=max_ring {
                // Every cell in this ring is at least (ring - 1) cells away.
                if ring > 0 && (ring as f64 - 1.0) * step > best {
                    break;
                }
                let (lo_x, hi_x) = (gx as isize - ring as isize, gx as isize + ring as isize);
                let (lo_y, hi_y) = (gy as isize - ring as isize, gy as isize + ring as isize);
                for cy in lo_y..=hi_y {
                    if cy < 0 || cy >= ny as isize {
                        continue;
                    }
                    let edge_row = cy == lo_y || cy == hi_y;
                    let mut cx = lo_x;
                    while cx <= hi_x {
                        if cx >= 0 && cx < nx as isize {
                            let c = cy as usize * nx + cx as usize;
                            for &j in &order[start[c] as usize..start[c + 1] as usize] {
                                if j as usize != i {
                                    let q = points[j as usize];
                                    best = best.min((q[0] - p[0]).hypot(q[1] - p[1]));
                                }
                            }
                        }
                        cx += if edge_row || cx == hi_x {
                            1
                        } else {
                            (hi_x - lo_x).max(1)
                        };
                    }
                }
            }
            best
        })
        .collect()
}

/// Relative radius ρ of points on a `width_mm × height_mm` patch.
pub fn relative_radius(points: &[[f64; 2]], width_mm: f64, height_mm: f64) -> f64 {
    let nn = nearest_neighbour_distances(points);
    let d_min = nn.iter().copied().fold(f64::INFINITY, f64::min);
    relative_to_hex(d_min, points.len(), width_mm, height_mm)
}

fn relative_to_hex(d_mm: f64, n: usize, width_mm: f64, height_mm: f64) -> f64 {
    if n < 2 || !d_mm.is_finite() || !(width_mm > 0.0 && height_mm > 0.0) {
        return 0.0;
    }
    let scale = 1.0 / (width_mm * height_mm).sqrt();
    let d_hex = (2.0 / (3.0_f64.sqrt() * n as f64)).sqrt();
    d_mm * scale / d_hex
}

/// Bessel function of the first kind, order 0: power series below 8, Hankel's
/// asymptotic expansion (four terms) above; absolute error below 1e-6.
pub fn bessel_j0(x: f64) -> f64 {
    let x = x.abs();
    if x < 8.0 {
        let q = -0.25 * x * x;
        let mut term = 1.0;
        let mut sum = 1.0;
        for k in 1..40 {
            term *= q / (k * k) as f64;
            sum += term;
            if term.abs() < 1e-17 {
                break;
            }
        }
        sum
    } else {
        let inv = 1.0 / x;
        let inv2 = inv * inv;
        let p = 1.0 - 9.0 / 128.0 * inv2 + 3675.0 / 32768.0 * inv2 * inv2;
        let q = -0.125 * inv + 75.0 / 1024.0 * inv2 * inv - 59535.0 / 262144.0 * inv2 * inv2 * inv;
        let (s, c) = (x - std::f64::consts::FRAC_PI_4).sin_cos();
        (2.0 / (std::f64::consts::PI * x)).sqrt() * (p * c - q * s)
    }
}

/// Points inside a centred window of the patch holding at most `max` points, with the
/// window's size. Larger patches are measured on such a window.
fn central_window(
    points: &[[f64; 2]],
    width_mm: f64,
    height_mm: f64,
    max: usize,
) -> (Vec<[f64; 2]>, f64, f64) {
    if points.len() <= max {
        return (points.to_vec(), width_mm, height_mm);
    }
    let shrink = (max as f64 / points.len() as f64).sqrt();
    let (w, h) = (width_mm * shrink, height_mm * shrink);
    let (x0, y0) = (0.5 * (width_mm - w), 0.5 * (height_mm - h));
    let inside: Vec<[f64; 2]> = points
        .iter()
        .filter(|p| p[0] >= x0 && p[0] < x0 + w && p[1] >= y0 && p[1] < y0 + h)
        .map(|p| [p[0] - x0, p[1] - y0])
        .collect();
    (inside, w, h)
}

/// The radially averaged power spectrum of points on a `width_mm × height_mm` patch
/// (points outside are ignored; large patches use a central window, see
/// [`MAX_SPECTRUM_POINTS`]).
pub fn radial_power_spectrum(points: &[[f64; 2]], width_mm: f64, height_mm: f64) -> RadialSpectrum {
    let empty = RadialSpectrum {
        frequency: Vec::new(),
        power: Vec::new(),
    };
    if !(width_mm > 0.0 && height_mm > 0.0 && width_mm.is_finite() && height_mm.is_finite()) {
        return empty;
    }
    let inside: Vec<[f64; 2]> = points
        .iter()
        .copied()
        .filter(|p| p[0] >= 0.0 && p[0] < width_mm && p[1] >= 0.0 && p[1] < height_mm)
        .collect();
    let (pts, w_mm, h_mm) = central_window(&inside, width_mm, height_mm, MAX_SPECTRUM_POINTS);
    let n = pts.len();
    if n < 16 {
        return empty;
    }
    let nf = n as f64;
    let sqrt_n = nf.sqrt();
    // Unit-area coordinates.
    let scale = 1.0 / (w_mm * h_mm).sqrt();
    let (w, h) = (w_mm * scale, h_mm * scale);
    let r_max = 0.5 * w.min(h);
    let dr = 0.005 / sqrt_n;
    let bins = ((r_max / dr) as usize).max(1);
    let mut hist = vec![0.0f64; bins];
    let unit: Vec<[f64; 2]> = pts.iter().map(|p| [p[0] * scale, p[1] * scale]).collect();
    let r_max2 = r_max * r_max;
    for i in 0..n {
        let p = unit[i];
        for q in &unit[i + 1..] {
            let (dx, dy) = (q[0] - p[0], q[1] - p[1]);
            let d2 = dx * dx + dy * dy;
            if d2 < r_max2 {
                let b = (d2.sqrt() / dr) as usize;
                if b < bins {
                    hist[b] += 2.0 / ((w - dx.abs()) * (h - dy.abs()));
                }
            }
        }
    }
    // g(r) for a unit-area window: ordered pairs per ring over N(N-1) 2π r dr.
    let g: Vec<f64> = hist
        .iter()
        .enumerate()
        .map(|(k, &c)| {
            let r = (k as f64 + 0.5) * dr;
            c / (nf * (nf - 1.0) * std::f64::consts::TAU * r * dr)
        })
        .collect();
    let df = sqrt_n / 100.0;
    let freqs = 700usize;
    let mut power = Vec::with_capacity(freqs);
    let mut frequency = Vec::with_capacity(freqs);
    for fi in 0..freqs {
        let nu = fi as f64 * df;
        let window = 2.0 * r_max * (4.0 * nu / sqrt_n).clamp(0.2, 0.5);
        let last = ((window / dr) as usize).min(bins);
        let mut integral = 0.0;
        for (k, &gk) in g[..last].iter().enumerate() {
            let r = (k as f64 + 0.5) * dr;
            let t = r / window;
            let blackman =
                0.42 + 0.5 * (std::f64::consts::PI * t).cos() + 0.08 * (std::f64::consts::TAU * t).cos();
            integral += (gk - 1.0) * bessel_j0(std::f64::consts::TAU * nu * r) * r * blackman * dr;
        }
        // The DC term only says how many points there are; like a periodogram with the
        // mean removed, report 0 there so it never counts as the first peak.
        power.push(if fi == 0 {
            0.0
        } else {
            (1.0 + std::f64::consts::TAU * nf * integral).abs()
        });
        frequency.push(nu / sqrt_n);
    }
    RadialSpectrum { frequency, power }
}

impl RadialSpectrum {
    /// ν_eff as defined in the module docs (0 when the spectrum never settles).
    pub fn effective_nyquist(&self) -> f64 {
        let n = self.frequency.len();
        if n < 3 {
            return 0.0;
        }
        let df = self.frequency[1] - self.frequency[0];
        let mut cum = vec![0.0; n];
        let mut acc = 0.0;
        for ((c, &p), &f) in cum.iter_mut().zip(&self.power).zip(&self.frequency).skip(1) {
            acc += p * 2.0 * f * df;
            *c = acc / (f * f);
        }
        let start = self.frequency.iter().position(|&f| f >= 0.5).unwrap_or(n);
        for i in start..n {
            if cum[i] > 0.5 {
                for j in (1..=i).rev() {
                    if cum[j] < 0.1 {
                        return self.frequency[j];
                    }
                }
                return 0.0;
            }
        }
        0.0
    }

    /// Ω as defined in the module docs.
    pub fn oscillation(&self) -> f64 {
        let n = self.frequency.len();
        if n < 3 {
            return 0.0;
        }
        let df = self.frequency[1] - self.frequency[0];
        // A single pattern's spectrum is noisy far below the first peak (psa averages
        // many sets); start looking for the first peak at half the mean frequency, well
        // below where any blue noise peaks (0.8–1.1), so a noise spike cannot pass for it.
        let start = self.frequency.iter().position(|&f| f >= 0.5).unwrap_or(n - 1);
        let mut x0_index = start;
        let mut maxp = 0.0;
        for (i, &p) in self.power.iter().enumerate().skip(start) {
            if maxp >= 0.98 {
                break;
            }
            if p > maxp {
                maxp = p;
                x0_index = i;
            }
        }
        let x0 = self.frequency[x0_index];
        let x1 = (x0 + 5.0).min(self.frequency[n - 1]);
        if x1 <= x0 {
            return 0.0;
        }
        let mut integral = 0.0;
        for i in x0_index..n {
            let nu = self.frequency[i];
            if nu > x1 {
                break;
            }
            integral += (self.power[i] - 1.0).powi(2) * nu * df;
        }
        let ring = std::f64::consts::PI * (x1 * x1 - x0 * x0);
        10.0 * (std::f64::consts::TAU * integral / ring).sqrt()
    }
}

/// All measures of points on a `width_mm × height_mm` patch.
pub fn point_metrics(points: &[[f64; 2]], width_mm: f64, height_mm: f64) -> PointMetrics {
    let nn = nearest_neighbour_distances(points);
    let finite: Vec<f64> = nn.iter().copied().filter(|d| d.is_finite()).collect();
    let d_min = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let mean = if finite.is_empty() {
        0.0
    } else {
        finite.iter().sum::<f64>() / finite.len() as f64
    };
    let spectrum = radial_power_spectrum(points, width_mm, height_mm);
    PointMetrics {
        points: points.len(),
        relative_radius: relative_to_hex(d_min, points.len(), width_mm, height_mm),
        min_distance_mm: if d_min.is_finite() { d_min } else { 0.0 },
        mean_nn_distance_mm: mean,
        mean_nn_relative: relative_to_hex(mean, points.len(), width_mm, height_mm),
        effective_nyquist: spectrum.effective_nyquist(),
        oscillation: spectrum.oscillation(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn j0_matches_known_values() {
        for (x, j) in [
            (0.0, 1.0),
            (1.0, 0.765_197_686_6),
            (2.404_825_557_7, 0.0),
            (10.0, -0.245_935_764_5),
            (30.0, -0.086_367_983_6),
        ] {
            assert!(
                (bessel_j0(x) - j).abs() < 2e-6,
                "J0({x}) = {} not {j}",
                bessel_j0(x)
            );
        }
    }

    #[test]
    fn hexagonal_lattice_has_rho_one() {
        let mut pts = Vec::new();
        let d = 1.0;
        let rows = 40;
        for j in 0..rows {
            for i in 0..40 {
                let x = i as f64 * d + if j % 2 == 1 { 0.5 * d } else { 0.0 } + 0.25;
                let y = j as f64 * d * 3.0_f64.sqrt() / 2.0 + 0.25;
                pts.push([x, y]);
            }
        }
        let w = 40.0 * d;
        let h = rows as f64 * d * 3.0_f64.sqrt() / 2.0;
        let rho = relative_radius(&pts, w, h);
        assert!((rho - 1.0).abs() < 0.02, "{rho}");
    }
}
