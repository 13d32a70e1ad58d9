//! The human head the 3-D views draw: a triangle mesh (CGAL's CC0 sample head with ears added,
//! `assets/meshes/head.off`, see its ORIGIN.md) scaled to the client's head model.
//!
//! The mesh is stored normalised to its cranium: above the glabella x and y span −1…1 and the
//! vertex is at z = 1; below the glabella z is in units of the half-length. `HeadMesh::fit`
//! scales x by the head's `a_mm`, y by `b_mm`, z by `c_mm` above the glabella and by `b_mm`
//! below it, so the scalp meets the pattern's ellipsoid and the face keeps its proportions.
//! Every point of the mesh is mapped to the pattern's chart through the ellipsoid — the ray
//! from the ellipsoid's centre through the point ([`follicle_pattern::Head::chart_from_surface`]
//! normalises by the semi-axes) — so the dots drawn on the mesh are the chart's dots, with the
//! chart's equal-area accounting.
//!
//! The file is OFF (ASCII): `OFF`, a line `vertices faces edges`, the vertices (three numbers
//! each), the faces (`3 i j k` and an optional tag: 0 may hold scalp, 1 never — the closed eyes
//! and the ears). `#` starts a comment.

use std::sync::OnceLock;

use follicle_pattern::Head;

use crate::error::RenderError;

/// The shipped head mesh (prepared by `scripts/prepare-head-mesh.py`).
const BUILTIN_OFF: &[u8] = include_bytes!("../../../assets/meshes/head.off");

/// Most vertices or faces a mesh file may declare (memory: 24 bytes a vertex, 16 a face).
pub const MAX_ELEMENTS: usize = 2_000_000;

/// A head mesh, normalised to its cranium (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct HeadMesh {
    /// Vertex positions, normalised.
    pub vertices: Vec<[f64; 3]>,
    /// Triangles (vertex indices, wound outwards).
    pub triangles: Vec<[u32; 3]>,
    /// Per triangle: whether it may hold scalp (false for eyes and ears).
    pub scalp: Vec<bool>,
}

/// A mesh scaled to one head: positions in mm and unit vertex normals.
#[derive(Debug, Clone)]
pub(crate) struct FittedMesh {
    pub positions: Vec<[f64; 3]>,
    pub normals: Vec<[f64; 3]>,
}

fn corrupt(line: usize, message: impl std::fmt::Display) -> RenderError {
    RenderError::Mesh(format!("line {line}: {message}"))
}

impl HeadMesh {
    /// The shipped head, parsed once.
    pub fn builtin() -> Result<&'static HeadMesh, RenderError> {
        static MESH: OnceLock<Result<HeadMesh, String>> = OnceLock::new();
        MESH.get_or_init(|| HeadMesh::parse_off(BUILTIN_OFF).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| RenderError::Mesh(format!("the built-in head (assets/meshes/head.off): {e}")))
    }

    /// Reads an OFF mesh of triangles; the error names the line and what is wrong.
    pub fn parse_off(bytes: &[u8]) -> Result<HeadMesh, RenderError> {
        let text =
            std::str::from_utf8(bytes).map_err(|e| RenderError::Mesh(format!("not UTF-8 text: {e}")))?;
        // Lines with their numbers, comments and blank lines left out.
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.split('#').next().unwrap_or("").trim()))
            .filter(|(_, l)| !l.is_empty());
        let (n, first) = lines
            .next()
            .ok_or_else(|| RenderError::Mesh("empty file: expected \"OFF\"".into()))?;
        if first != "OFF" {
            return Err(corrupt(
                n,
                format!(
                    "expected \"OFF\", got {:?}",
                    first.chars().take(20).collect::<String>()
                ),
            ));
        }
        let (n, counts) = lines
            .next()
            .ok_or_else(|| RenderError::Mesh("expected a line \"vertices faces edges\"".into()))?;
        let counts: Vec<usize> = counts
            .split_whitespace()
            .map(|t| t.parse::<usize>())
            .collect::<Result<_, _>>()
            .map_err(|e| corrupt(n, format!("counts: expected whole numbers: {e}")))?;
        let [nv, nf] = match counts.as_slice() {
            [v, f] | [v, f, _] => [*v, *f],
            _ => return Err(corrupt(n, "expected \"vertices faces edges\"")),
        };
        // A vertex line is at least 6 bytes and a face line 8: counts the file cannot hold are
        // refused before anything is allocated.
        if nv == 0 || nf == 0 || nv > MAX_ELEMENTS || nf > MAX_ELEMENTS || nv * 6 + nf * 8 > bytes.len() {
            return Err(corrupt(
                n,
                format!(
                    "{nv} vertices and {nf} faces: expected 1–{MAX_ELEMENTS} of each, no more than the file's {} bytes hold",
                    bytes.len()
                ),
            ));
        }
        let mut vertices = Vec::with_capacity(nv);
        for k in 0..nv {
            let (n, l) = lines
                .next()
                .ok_or_else(|| RenderError::Mesh(format!("the file ends after {k} of {nv} vertices")))?;
            let v: Vec<f64> = l
                .split_whitespace()
                .map(str::parse::<f64>)
                .collect::<Result<_, _>>()
                .map_err(|e| corrupt(n, format!("vertex {k}: {e}")))?;
            match v.as_slice() {
                [x, y, z] if [x, y, z].iter().all(|c| c.is_finite() && c.abs() < 1e6) => {
                    vertices.push([*x, *y, *z])
                }
                _ => {
                    return Err(corrupt(
                        n,
                        format!("vertex {k}: expected three finite numbers, got {l:?}"),
                    ));
                }
            }
        }
        let mut triangles = Vec::with_capacity(nf);
        let mut scalp = Vec::with_capacity(nf);
        for k in 0..nf {
            let (n, l) = lines
                .next()
                .ok_or_else(|| RenderError::Mesh(format!("the file ends after {k} of {nf} faces")))?;
            let f: Vec<u64> = l
                .split_whitespace()
                .map(str::parse::<u64>)
                .collect::<Result<_, _>>()
                .map_err(|e| corrupt(n, format!("face {k}: {e}")))?;
            let (idx, tag) = match f.as_slice() {
                [3, i, j, k] => ([*i, *j, *k], 0),
                [3, i, j, k, t] => ([*i, *j, *k], *t),
                _ => {
                    return Err(corrupt(
                        n,
                        format!("face {k}: expected \"3 i j k [tag]\" (triangles only), got {l:?}"),
                    ));
                }
            };
            if let Some(bad) = idx.iter().find(|&&i| i as usize >= nv) {
                return Err(corrupt(
                    n,
                    format!("face {k}: vertex {bad} does not exist (0–{})", nv - 1),
                ));
            }
            if tag > 1 {
                return Err(corrupt(
                    n,
                    format!("face {k}: tag {tag}: expected 0 (may hold scalp) or 1 (never)"),
                ));
            }
            triangles.push(idx.map(|i| i as u32));
            scalp.push(tag == 0);
        }
        if let Some((n, _)) = lines.next() {
            return Err(corrupt(
                n,
                format!("more lines than the {nv} vertices and {nf} faces declared"),
            ));
        }
        Ok(HeadMesh {
            vertices,
            triangles,
            scalp,
        })
    }

    /// The mesh scaled to `head` (mm), with area-weighted vertex normals.
    pub(crate) fn fit(&self, head: &Head) -> FittedMesh {
        let positions: Vec<[f64; 3]> = self
            .vertices
            .iter()
            .map(|v| {
                let z = if v[2] >= 0.0 { head.c_mm } else { head.b_mm };
                [v[0] * head.a_mm, v[1] * head.b_mm, v[2] * z]
            })
            .collect();
        let mut normals = vec![[0.0f64; 3]; positions.len()];
        for t in &self.triangles {
            let [a, b, c] = t.map(|i| positions[i as usize]);
            let n = cross(sub(b, a), sub(c, a));
            for &i in t {
                for k in 0..3 {
                    normals[i as usize][k] += n[k];
                }
            }
        }
        for n in &mut normals {
            let len = dot(*n, *n).sqrt();
            if len > 0.0 {
                *n = n.map(|v| v / len);
            }
        }
        FittedMesh { positions, normals }
    }
}

pub(crate) fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

pub(crate) fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

pub(crate) fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(bytes: &[u8]) -> String {
        HeadMesh::parse_off(bytes).unwrap_err().to_string()
    }

    #[test]
    fn the_builtin_head_parses() {
        let m = HeadMesh::builtin().unwrap();
        assert!(m.triangles.len() > 1000);
        assert!(m.scalp.iter().any(|s| !s), "ears and eyes are tagged");
        let top = m.vertices.iter().map(|v| v[2]).fold(f64::MIN, f64::max);
        assert!((top - 1.0).abs() < 1e-4, "normalised to the vertex: {top}");
    }

    #[test]
    fn a_small_mesh_parses_with_comments_and_tags() {
        let m = HeadMesh::parse_off(b"OFF # a comment\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n\n3 0 1 2 1\n").unwrap();
        assert_eq!(m.triangles, vec![[0, 1, 2]]);
        assert_eq!(m.scalp, vec![false]);
    }

    #[test]
    fn corrupt_meshes_are_refused_with_their_line() {
        for (bytes, want) in [
            (&b""[..], "empty file"),
            (b"PLY\n", "line 1: expected \"OFF\""),
            (b"OFF\nthree 1 0\n", "line 2: counts"),
            (b"OFF\n99999999 1 0\n", "no more than the file's"),
            (
                b"OFF\n3 1 0\n0 0 0\n1 0 0\n# a comment long enough\n",
                "ends after 2 of 3 vertices",
            ),
            (
                b"OFF\n3 1 0\n0 0 0\n1 0 nan\n0 1 0\n3 0 1 2\n",
                "line 4: vertex 1: expected three finite",
            ),
            (
                b"OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n",
                "line 6: face 0: vertex 7 does not exist",
            ),
            (b"OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n4 0 1 2 0\n", "triangles only"),
            (b"OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2 5\n", "tag 5"),
            (
                b"OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n3 0 1 2\n",
                "more lines than",
            ),
            (&[0xff, 0xfe, 0x00][..], "not UTF-8"),
        ] {
            let e = err(bytes);
            assert!(
                e.starts_with("head mesh: ") && e.contains(want),
                "{e:?} should contain {want:?}"
            );
        }
        // Truncated anywhere, the shipped file is refused, never a panic.
        for cut in [
            10,
            100,
            BUILTIN_OFF.len() / 3,
            BUILTIN_OFF.len() / 2,
            BUILTIN_OFF.len() - 40,
        ] {
            assert!(HeadMesh::parse_off(&BUILTIN_OFF[..cut]).is_err(), "cut at {cut}");
        }
    }
}
