//! Follicular units (1–4 dots per site) and the hair direction field that orients them.

use rand_core::RngCore;
use rand_pcg::Pcg64Mcg;

use crate::sampler::unit_f32;

/// Draws a unit size (1–4) from cumulative probabilities.
pub(crate) fn draw_unit_size(cumulative: &[f64; 4], rng: &mut Pcg64Mcg) -> u8 {
    let u = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
    for (i, &c) in cumulative.iter().enumerate() {
        if u < c {
            return i as u8 + 1;
        }
    }
    4
}

/// Cumulative form of a probability vector.
pub(crate) fn cumulative(p: [f64; 4]) -> [f64; 4] {
    let mut acc = 0.0;
    let mut out = [0.0; 4];
    for (o, v) in out.iter_mut().zip(p) {
        acc += v;
        *o = acc;
    }
    out[3] = f64::INFINITY;
    out
}

/// The dots of a unit of each size, in units of the spacing: pairs along the hair direction,
/// triples a small triangle pointing along it, quadruples a diamond.
const SHAPES: [&[[f32; 2]]; 4] = [
    &[[0.0, 0.0]],
    &[[-0.5, 0.0], [0.5, 0.0]],
    &[[0.577, 0.0], [-0.289, 0.5], [-0.289, -0.5]],
    &[[0.707, 0.0], [0.0, 0.5], [0.0, -0.5], [-0.707, 0.0]],
];

/// Each dot of a unit jitters by up to this share of the spacing in each direction, so no two
/// units are identical stamps.
const JITTER: f32 = 0.08;

/// The closest two dots of one unit can come, as a share of the spacing: the closest pair of
/// any shape, less the most the jitter can bring two dots together (2·√2·[`JITTER`]).
pub(crate) fn min_separation_factor() -> f32 {
    let mut closest = f32::INFINITY;
    for shape in SHAPES {
        for (i, a) in shape.iter().enumerate() {
            for b in &shape[i + 1..] {
                closest = closest.min((a[0] - b[0]).hypot(a[1] - b[1]));
            }
        }
    }
    closest - 2.0 * std::f32::consts::SQRT_2 * JITTER
}

/// The spacing of a unit's dots (mm): the setting, or more where the needle is wide enough that
/// dots at the setting's spacing could touch — every two dots of a unit stay at least
/// `diameter_mm + margin_mm` apart, centre to centre.
pub(crate) fn spacing_for(setting_mm: f64, diameter_mm: f64, margin_mm: f64) -> f32 {
    (setting_mm as f32).max((diameter_mm + margin_mm) as f32 / min_separation_factor())
}

/// Offsets (mm) of the dots of a unit of `size` around its site, oriented along
/// `angle_rad` (the hair direction), each jittered (see [`JITTER`]): the first `n` of the
/// array, for `(array, n)` (no allocation a unit).
pub(crate) fn unit_offsets(
    size: u8,
    spacing_mm: f32,
    angle_rad: f32,
    rng: &mut Pcg64Mcg,
) -> ([[f32; 2]; 4], usize) {
    let s = spacing_mm;
    let base: &[[f32; 2]] = SHAPES[usize::from(size.clamp(1, 4)) - 1];
    let (sn, cs) = angle_rad.sin_cos();
    let mut out = [[0.0f32; 2]; 4];
    for (o, b) in out.iter_mut().zip(base) {
        let (jx, jy) = if size > 1 {
            let bits = rng.next_u64();
            (
                (unit_f32(bits as u32) - 0.5) * 2.0 * JITTER,
                (unit_f32((bits >> 32) as u32) - 0.5) * 2.0 * JITTER,
            )
        } else {
            (0.0, 0.0)
        };
        let (u, v) = ((b[0] + jx) * s, (b[1] + jy) * s);
        *o = [u * cs - v * sn, u * sn + v * cs];
    }
    (out, base.len())
}

/// The hair direction on the chart: outwards from the crown whorl, swirling near it.
///
/// Seen from above, hair flows away from the whorl in every direction: forwards at the
/// hairline, sideways and down over the temples and sides, down at the back. Near the
/// whorl the flow turns by `spiral_rad`, fading with distance over `decay_mm`; clockwise
/// whorls turn one way, counter-clockwise the other.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DirectionField {
    pub whorl: [f64; 2],
    pub spiral_rad: f64,
    pub decay_mm: f64,
    pub clockwise: bool,
}

impl DirectionField {
    /// Direction angle (radians, chart frame, counter-clockwise from +x) at `p`.
    pub fn angle_at(&self, p: [f64; 2]) -> f64 {
        let (dx, dy) = (p[0] - self.whorl[0], p[1] - self.whorl[1]);
        // Chart distances are millimetres: no overflow for `hypot` to guard against.
        let d = (dx * dx + dy * dy).sqrt();
        if d < 1e-9 {
            return std::f64::consts::FRAC_PI_2;
        }
        let radial = dy.atan2(dx);
        // The chart is seen from above with x to the right and y up the page, so a
        // clockwise turn is a negative angle.
        let sign = if self.clockwise { -1.0 } else { 1.0 };
        radial + sign * self.spiral_rad * (-d / self.decay_mm).exp()
    }
}
