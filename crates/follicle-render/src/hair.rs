//! Existing hair as buzz-cut stubble: short strokes at natural density where the client
//! still has hair, fewer in the blend zone and among treated thinning, none on bare skin.
//! Strokes follow a field radiating from the crown whorl (forward at the front, outward at
//! the sides, down at the back; DOMAIN §4), so density work among hair can be judged.
//!
//! Where a treated zone meets untreated hair, the hair does not stop at a line: the pattern
//! engine thins its dots over a blend band beside the hair because the hair thins out over
//! that band (the same band, [`Hair::blend_width_mm`]), so the stubble drawn there is the
//! complement of the dots — at the zone's edge, the share of natural hair the dots leave
//! out, falling to the zone's own share at the band's inner side. One concept on both sides:
//! without it, the half-density dots at the edge sit beside full hair and read lighter.

use follicle_pattern::Pattern;
use follicle_pattern::ZoneKind;

use crate::raster::Spans;
use crate::scene::{ChartFrame, Hair, PolarOutline, Scene};
use crate::splat::{InkBuffer, Kernel, splat};

/// SplitMix64: a tiny, seedable, platform-stable generator for hair placement.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// The hair coverage layer on the chart.
pub(crate) fn stubble(scene: &Scene<'_>, hair: &Hair, frame: ChartFrame) -> InkBuffer {
    let s = scene.settings;
    let pattern = scene.pattern;
    let mut buf = InkBuffer::new(frame.width, frame.height);
    let outline = PolarOutline::new(&pattern.outline);
    let whorl = pattern.landmarks.crown_whorl.chart_mm;
    let px = frame.px_per_mm as f32;
    let width_px = (s.stubble_width_mm * px).max(0.5);
    let kernel = Kernel::new(width_px / 2.0);
    // Jittered grid at the natural density; each cell keeps its hair with the local share.
    let spacing_mm = (100.0 / s.natural_hairs_per_cm2.max(1.0)).sqrt();
    let (x0, y1) = frame.to_mm(0.0, 0.0);
    let (x1, y0) = frame.to_mm(frame.width as f32, frame.height as f32);
    let (nx, ny) = (
        ((x1 - x0) / spacing_mm).ceil() as i64,
        ((y1 - y0) / spacing_mm).ceil() as i64,
    );
    let zones = ZoneGrid::new(pattern, &outline);
    let mut rng = Mix(0x0005_EED0_F4A1);
    let steps = ((s.stubble_length_mm * px).ceil() as usize).clamp(1, 16);
    // A hair hides width × length of skin: its coverage in pixel² (the splat kernel sums to 1),
    // so a pixel holding several hairs at a distance is only as dark as they really cover.
    let coverage_per_step = s.stubble_width_mm * s.stubble_length_mm * px * px / steps as f32;
    for j in 0..ny.min(20_000) {
        for i in 0..nx.min(20_000) {
            let (jx, jy, keep) = (rng.next(), rng.next(), rng.next());
            let x = x0 + (i as f32 + jx) * spacing_mm;
            let y = y0 + (j as f32 + jy) * spacing_mm;
            if !outline.contains(x, y) {
                continue;
            }
            let share = match zones.at(x, y) {
                None => 1.0,
                Some((kind, to_hair_mm)) => {
                    let own = if kind == ZoneKind::SidesBack {
                        hair.in_blend
                    } else {
                        hair.among_treated
                    };
                    let blends = !matches!(kind, ZoneKind::Hairline | ZoneKind::Scar);
                    if blends && to_hair_mm < hair.blend_width_mm {
                        // The dots' share here is edge + (1 − edge)·d/w; the hair the rest.
                        let missing = (1.0 - hair.blend_edge_fraction.clamp(0.0, 1.0))
                            * (1.0 - to_hair_mm / hair.blend_width_mm);
                        own + (1.0 - own) * missing
                    } else {
                        own
                    }
                }
            };
            if keep >= share {
                continue;
            }
            let (dx, dy) = (x - whorl[0] as f32, y - whorl[1] as f32);
            let len = dx.hypot(dy).max(1e-3);
            let (ux, uy) = (dx / len, dy / len);
            for k in 0..steps {
                let t = (k as f32 + 0.5) / steps as f32 * s.stubble_length_mm;
                let (sx, sy) = frame.to_px(f64::from(x + ux * t), f64::from(y + uy * t));
                splat(&mut buf, &kernel, sx, sy, coverage_per_step);
            }
        }
    }
    buf
}

/// Which zone (highest priority, as the pattern lists them last) covers each 1 mm cell of the
/// chart, and how far each cell is from untreated, hair-bearing scalp.
struct ZoneGrid {
    x0: f32,
    y0: f32,
    width: usize,
    height: usize,
    cells: Vec<Option<ZoneKind>>,
    /// Distance (mm) to the nearest untreated scalp cell, by a two-pass chamfer transform.
    to_hair_mm: Vec<f32>,
}

impl ZoneGrid {
    const CELL_MM: f64 = 1.0;

    fn new(pattern: &Pattern, outline: &PolarOutline) -> ZoneGrid {
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for p in pattern
            .zones
            .iter()
            .flat_map(|z| &z.polygon)
            .chain(&pattern.outline)
        {
            x0 = x0.min(p[0]);
            y0 = y0.min(p[1]);
            x1 = x1.max(p[0]);
            y1 = y1.max(p[1]);
        }
        if !(x0 < x1 && y0 < y1) {
            return ZoneGrid {
                x0: 0.0,
                y0: 0.0,
                width: 0,
                height: 0,
                cells: Vec::new(),
                to_hair_mm: Vec::new(),
            };
        }
        let width = (((x1 - x0) / Self::CELL_MM).ceil() as usize + 1).min(4096);
        let height = (((y1 - y0) / Self::CELL_MM).ceil() as usize + 1).min(4096);
        let mut cells = vec![None; width * height];
        // Later polygons have higher priority: fill in order, later ones overwrite.
        for z in &pattern.zones {
            let poly: Vec<[f64; 2]> = z
                .polygon
                .iter()
                .map(|p| [(p[0] - x0) / Self::CELL_MM, (p[1] - y0) / Self::CELL_MM])
                .collect();
            for (y, row) in Spans::fill(&poly, width, height).rows.iter().enumerate() {
                for &(a, b) in row {
                    cells[y * width + a..y * width + b].fill(Some(z.kind));
                }
            }
        }
        let cell = Self::CELL_MM as f32;
        let mut to_hair_mm: Vec<f32> = (0..width * height)
            .map(|k| {
                let (i, j) = (k % width, k / width);
                let (x, y) = (
                    x0 as f32 + (i as f32 + 0.5) * cell,
                    y0 as f32 + (j as f32 + 0.5) * cell,
                );
                if cells[k].is_none() && outline.contains(x, y) {
                    0.0
                } else {
                    f32::INFINITY
                }
            })
            .collect();
        follicle_pattern::chamfer_distance(&mut to_hair_mm, width, height, cell);
        ZoneGrid {
            x0: x0 as f32,
            y0: y0 as f32,
            width,
            height,
            cells,
            to_hair_mm,
        }
    }

    /// The zone at a chart point and its distance (mm) to untreated scalp.
    fn at(&self, x: f32, y: f32) -> Option<(ZoneKind, f32)> {
        let (i, j) = (
            ((x - self.x0) / Self::CELL_MM as f32).floor(),
            ((y - self.y0) / Self::CELL_MM as f32).floor(),
        );
        if i < 0.0 || j < 0.0 || i as usize >= self.width || j as usize >= self.height {
            return None;
        }
        let k = j as usize * self.width + i as usize;
        self.cells[k].map(|kind| (kind, self.to_hair_mm[k]))
    }
}
