//! Plain polygons on the chart: area, containment, validation, and the few shapes the
//! zone defaults are built from (discs, bands around a polyline).

use crate::error::PatternError;

/// Most vertices a polygon may have; keeps validation (O(n²)) bounded.
pub const MAX_POLYGON_VERTICES: usize = 4000;

/// Signed shoelace area (positive when counter-clockwise), mm².
pub fn signed_area_mm2(points: &[[f64; 2]]) -> f64 {
    let n = points.len();
    if n < 3 {
        return 0.0;
    }
    let mut sum = 0.0;
    for i in 0..n {
        let p = points[i];
        let q = points[(i + 1) % n];
        sum += p[0] * q[1] - q[0] * p[1];
    }
    0.5 * sum
}

/// Unsigned area, mm².
pub fn area_mm2(points: &[[f64; 2]]) -> f64 {
    signed_area_mm2(points).abs()
}

/// Even-odd point-in-polygon test.
pub fn contains(points: &[[f64; 2]], p: [f64; 2]) -> bool {
    let n = points.len();
    let mut inside = false;
    let mut j = n.wrapping_sub(1);
    for i in 0..n {
        let (a, b) = (points[i], points[j]);
        if (a[1] > p[1]) != (b[1] > p[1]) {
            let x = a[0] + (p[1] - a[1]) / (b[1] - a[1]) * (b[0] - a[0]);
            if p[0] < x {
                inside = !inside;
            }
        }
        j = i;
    }
    inside
}

fn orient(a: [f64; 2], b: [f64; 2], c: [f64; 2]) -> f64 {
    (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
}

/// Whether segments `ab` and `cd` cross (touching at an end counts).
pub fn segments_intersect(a: [f64; 2], b: [f64; 2], c: [f64; 2], d: [f64; 2]) -> bool {
    let (o1, o2, o3, o4) = (orient(a, b, c), orient(a, b, d), orient(c, d, a), orient(c, d, b));
    if ((o1 > 0.0 && o2 < 0.0) || (o1 < 0.0 && o2 > 0.0))
        && ((o3 > 0.0 && o4 < 0.0) || (o3 < 0.0 && o4 > 0.0))
    {
        return true;
    }
    let on = |p: [f64; 2], q: [f64; 2], r: [f64; 2], o: f64| {
        o == 0.0
            && r[0] >= p[0].min(q[0])
            && r[0] <= p[0].max(q[0])
            && r[1] >= p[1].min(q[1])
            && r[1] <= p[1].max(q[1])
    };
    on(a, b, c, o1) || on(a, b, d, o2) || on(c, d, a, o3) || on(c, d, b, o4)
}

/// Checks a closed polygon: 3..=[`MAX_POLYGON_VERTICES`] finite vertices inside the chart
/// radius `max_radius_mm`, non-zero area, no self-intersection.
pub fn validate_polygon(field: &str, points: &[[f64; 2]], max_radius_mm: f64) -> Result<(), PatternError> {
    let n = points.len();
    if !(3..=MAX_POLYGON_VERTICES).contains(&n) {
        return Err(PatternError::shape(
            field,
            format!("expected 3–{MAX_POLYGON_VERTICES} vertices, got {n}"),
        ));
    }
    for (i, p) in points.iter().enumerate() {
        if !p[0].is_finite() || !p[1].is_finite() || p[0].hypot(p[1]) > max_radius_mm {
            return Err(PatternError::shape(
                format!("{field}[{i}]"),
                format!(
                    "expected a finite chart point within {max_radius_mm:.0} mm of the vertex, got ({}, {})",
                    p[0], p[1]
                ),
            ));
        }
    }
    for i in 0..n {
        let (a, b) = (points[i], points[(i + 1) % n]);
        for j in (i + 1)..n {
            // Neighbouring edges share a vertex; skip them.
            if j == i + 1 || (i == 0 && j == n - 1) {
                continue;
            }
            let (c, d) = (points[j], points[(j + 1) % n]);
            if segments_intersect(a, b, c, d) {
                return Err(PatternError::shape(
                    field,
                    format!("expected a simple polygon, but edge {i} crosses edge {j} (self-intersecting)"),
                ));
            }
        }
    }
    if area_mm2(points) < 1e-6 {
        return Err(PatternError::shape(
            field,
            "expected a polygon with non-zero area, got a degenerate one",
        ));
    }
    Ok(())
}

/// A disc as a polygon with `segments` vertices, counter-clockwise.
pub fn disc(center: [f64; 2], radius_mm: f64, segments: usize) -> Vec<[f64; 2]> {
    let segments = segments.max(8);
    (0..segments)
        .map(|i| {
            let t = i as f64 / segments as f64 * std::f64::consts::TAU;
            [center[0] + radius_mm * t.cos(), center[1] + radius_mm * t.sin()]
        })
        .collect()
}

/// A band of half-width `half_width_mm` around an open polyline, with flat ends. The
/// polyline must be gently curved (radius of curvature above the half-width), which the
/// scar shapes are; validation catches the rest.
pub fn band_around(line: &[[f64; 2]], half_width_mm: f64) -> Vec<[f64; 2]> {
    let n = line.len();
    if n < 2 {
        return Vec::new();
    }
    let normal = |i: usize| {
        let (p, q) = (line[i.saturating_sub(1)], line[(i + 1).min(n - 1)]);
        let (dx, dy) = (q[0] - p[0], q[1] - p[1]);
        let len = dx.hypot(dy).max(1e-12);
        [-dy / len, dx / len]
    };
    let mut left = Vec::with_capacity(n);
    let mut right = Vec::with_capacity(n);
    for (i, p) in line.iter().enumerate() {
        let nrm = normal(i);
        left.push([p[0] + half_width_mm * nrm[0], p[1] + half_width_mm * nrm[1]]);
        right.push([p[0] - half_width_mm * nrm[0], p[1] - half_width_mm * nrm[1]]);
    }
    right.reverse();
    left.extend(right);
    left
}

/// Distance from `p` to the polyline `line` (open).
pub fn distance_to_polyline(line: &[[f64; 2]], p: [f64; 2]) -> f64 {
    let mut best = f64::INFINITY;
    for w in line.windows(2) {
        let (a, b) = (w[0], w[1]);
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let len2 = dx * dx + dy * dy;
        let t = if len2 > 0.0 {
            (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let (cx, cy) = (a[0] + t * dx - p[0], a[1] + t * dy - p[1]);
        best = best.min(cx.hypot(cy));
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_area_and_containment() {
        let sq = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]];
        assert_eq!(area_mm2(&sq), 100.0);
        assert!(contains(&sq, [5.0, 5.0]));
        assert!(!contains(&sq, [15.0, 5.0]));
        assert!(validate_polygon("p", &sq, 100.0).is_ok());
    }

    #[test]
    fn bow_tie_is_refused() {
        let bow = [[0.0, 0.0], [10.0, 10.0], [10.0, 0.0], [0.0, 10.0]];
        let err = validate_polygon("zones[0].polygon", &bow, 100.0).unwrap_err();
        assert!(
            err.to_string().contains("zones[0].polygon") && err.to_string().contains("self-intersecting")
        );
    }
}
