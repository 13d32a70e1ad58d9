//! Scanline rasterisation of polygons: which pixels (or grid cells) lie inside.
//!
//! Point-in-polygon per pixel costs the polygon's length per pixel; a scanline fill costs
//! the number of edges per row, so masks of a 2048² preview take microseconds, not seconds.

/// Spans of a polygon's inside on each row of a grid: `rows[y]` holds sorted `[x0, x1)` pairs.
#[derive(Debug, Clone)]
pub(crate) struct Spans {
    pub rows: Vec<Vec<(usize, usize)>>,
}

impl Spans {
    /// Fills `polygon` given in grid coordinates (cell centres at i + 0.5) on a `width × height` grid
    /// (even-odd rule).
    pub(crate) fn fill(polygon: &[[f64; 2]], width: usize, height: usize) -> Spans {
        let mut rows = vec![Vec::new(); height];
        let n = polygon.len();
        let mut xs: Vec<f64> = Vec::new();
        for (y, row) in rows.iter_mut().enumerate() {
            let cy = y as f64 + 0.5;
            xs.clear();
            for k in 0..n {
                let (p, q) = (polygon[k], polygon[(k + 1) % n]);
                if (p[1] <= cy) != (q[1] <= cy) {
                    xs.push(p[0] + (cy - p[1]) / (q[1] - p[1]) * (q[0] - p[0]));
                }
            }
            xs.sort_by(f64::total_cmp);
            for pair in xs.chunks_exact(2) {
                // Cells whose centre lies in [a, b).
                let a = (pair[0] - 0.5).ceil().max(0.0);
                let b = (pair[1] - 0.5).ceil().clamp(0.0, width as f64);
                if a < b {
                    row.push((a as usize, b as usize));
                }
            }
        }
        Spans { rows }
    }

    /// A dense mask (1 inside).
    #[cfg(test)]
    pub(crate) fn mask(&self, width: usize) -> Vec<u8> {
        let mut m = vec![0u8; width * self.rows.len()];
        for (y, row) in self.rows.iter().enumerate() {
            for &(a, b) in row {
                m[y * width + a.min(width)..y * width + b.min(width)].fill(1);
            }
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_fills_its_cells() {
        let spans = Spans::fill(&[[1.0, 1.0], [4.0, 1.0], [4.0, 3.0], [1.0, 3.0]], 6, 5);
        let m = spans.mask(6);
        assert_eq!(m.iter().filter(|v| **v == 1).count(), 3 * 2);
        assert_eq!(m[6 + 1], 1);
        assert_eq!(m[6 + 4], 0);
        assert_eq!(m[0], 0);
    }

    #[test]
    fn area_of_a_disc_is_close() {
        let disc: Vec<[f64; 2]> = (0..256)
            .map(|i| {
                let a = i as f64 / 256.0 * std::f64::consts::TAU;
                [50.0 + 30.0 * a.cos(), 50.0 + 30.0 * a.sin()]
            })
            .collect();
        let cells = Spans::fill(&disc, 100, 100)
            .mask(100)
            .iter()
            .filter(|v| **v == 1)
            .count() as f64;
        let exact = std::f64::consts::PI * 900.0;
        assert!((cells - exact).abs() / exact < 0.01, "{cells} vs {exact}");
    }
}
