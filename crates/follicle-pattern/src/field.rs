//! The zone map and density field: a 0.5 mm raster of the chart holding, per cell, the
//! zone and the final site radius (the final target density as the sampler reads it). The
//! zone totals the statistics divide by are summed from the same cells as they are filled,
//! so the dots counted in a zone and the area they are divided by always agree.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use follicle_core::ZoneKind;

use crate::hairline::Hairline;
use crate::polygon;
use crate::request::ZoneDensities;
use crate::sampler::{Bounds, PACKING_CONSTANT, SiteField};
use crate::settings::{HairlineStyleSettings, PatternSettings};
use crate::zones::{ZoneSpec, priority};

/// Raster cell side, mm. Boundaries are drawn to ±0.25 mm, far below the 1.2 mm dot
/// spacing; a 340 mm chart is 680² cells, filled by scanlines in about a millisecond.
pub const RASTER_MM: f64 = 0.5;

/// Zone codes: 0 = none, else index into [`ZoneKind::ALL`] + 1.
pub(crate) fn code(kind: ZoneKind) -> u8 {
    ZoneKind::ALL
        .iter()
        .position(|&k| k == kind)
        .map_or(0, |i| i as u8 + 1)
}

/// The kind for a code.
pub(crate) fn kind_of(code: u8) -> Option<ZoneKind> {
    (code as usize)
        .checked_sub(1)
        .and_then(|i| ZoneKind::ALL.get(i).copied())
}

#[derive(Debug)]
pub(crate) struct ZoneMap {
    pub x0: f64,
    pub y0: f64,
    pub nx: usize,
    pub ny: usize,
    pub zone: Vec<u8>,
    /// Final site radius per cell, mm (0 outside the treated area). The final target density
    /// of a cell is not kept: what reads it, the zone totals, is summed as the cells are filled.
    pub radius: Vec<f32>,
    /// [`ZoneMap::zone_totals`], summed while the cells were filled.
    totals: [(f64, f64); 7],
    /// The radius range of every block of cells, for [`MapField::range`].
    blocks: Blocks,
}

/// The area (cm²) of `cells` raster cells, added cell by cell: what [`ZoneMap::zone_totals`]
/// and [`ZoneMap::zone_areas`] both give for a zone's cells, to the last bit.
fn area_of_cells(cells: usize) -> f64 {
    repeated_sum(RASTER_MM * RASTER_MM / 100.0, cells)
}

/// `c` added `n` times to 0, one rounded addition after another (`((0 + c) + c) + …`), to
/// the bit, without `n` additions in a chain (a Norwood VII raster's 213,000 were about 0.3 ms
/// on the generation's one thread). While the sum stays in one binade it is a multiple of that
/// binade's ulp `u`, and each addition adds the same `d = fl(s + c) − s` unless `s + c` is
/// exactly halfway between two multiples of `u` (where ties to even would alternate): such a
/// run is taken in one multiplication, and every step that is not plainly inside one (the
/// first, the last before the next power of two, a tie) is added on its own.
fn repeated_sum(c: f64, n: usize) -> f64 {
    repeated_sum_from(0.0, c, n)
}

/// `c` added `n` times to `s`, one rounded addition after another, to the bit: as
/// [`repeated_sum`] (which starts from 0), for a sum already under way. Fewer than
/// [`SHORT_RUN`] additions are simply made.
fn repeated_sum_from(s: f64, c: f64, n: usize) -> f64 {
    let mut s = s;
    if n < SHORT_RUN {
        for _ in 0..n {
            s += c;
        }
        return s;
    }
    let mut left = n;
    while left > 0 {
        let t = s + c;
        left -= 1;
        let d = t - s;
        // The binade of `t`, [2^e, 2^(e+1)), its ulp and the next power of two.
        let exponent = (t.to_bits() >> 52) & 0x7ff;
        let plain = s > 0.0
            && t.is_finite()
            && exponent > 52
            && exponent < 0x7fe
            && (s.to_bits() >> 52) & 0x7ff == exponent
            // Sterbenz: `c − d` is exact when `d` is within a factor of two of `c`.
            && d >= 0.5 * c
            && d <= 2.0 * c;
        s = t;
        if !plain {
            continue;
        }
        let u = f64::from_bits((exponent - 52) << 52);
        let top = f64::from_bits((exponent + 1) << 52);
        if (c - d).abs() >= 0.5 * u {
            continue;
        }
        // Steps of exactly `d` that stay below `top`, one short to be safe. `k·d` and
        // `s + k·d` are multiples of `u` below `top = 2⁵³·u`, so both are exact.
        let room = ((top - s) / d).floor() - 1.0;
        if room >= 1.0 {
            let k = (room as usize).min(left);
            s += k as f64 * d;
            left -= k;
        }
    }
    s
}

/// [`repeated_sum_from`] makes fewer additions than this one by one (a run of the density
/// raster's blend towards the fringe is a cell or two; the multiplication pays off on the long
/// runs inside a zone).
const SHORT_RUN: usize = 8;

/// A group of raster rows being filled: its first row, its rows' radii and its row of blocks.
type RowGroup<'a> = (usize, &'a mut [f32], &'a mut [(f32, f32)]);

/// Cells and expected dots per zone code (0: none) of a group of rows.
type ZoneSums = ([usize; ZoneKind::ALL.len() + 1], [f64; ZoneKind::ALL.len() + 1]);

/// Side of a [`Blocks`] block, in raster cells (4 mm). A tile's side is a multiple of it
/// (`TILE_MM` = 24 mm, doubled), so a tile covers whole blocks of the chart's lattice.
const BLOCK: i64 = 8;

/// The smallest and largest positive radius of each `BLOCK` × `BLOCK` block of cells, the
/// blocks laid on the chart's lattice (block column `c` holds lattice columns `8c … 8c + 7`):
/// the radius range over a tile reads a few dozen blocks instead of a few thousand cells. An
/// empty block holds `(∞, 0)`.
#[derive(Debug)]
struct Blocks {
    /// The raster's first cell on the chart's lattice.
    ox: i64,
    oy: i64,
    /// The first block column and row, and how many there are.
    bx0: i64,
    by0: i64,
    nbx: usize,
    range: Vec<(f32, f32)>,
}

/// Takes a raster row's radii into the column ranges of its row of blocks: per column, the
/// smallest positive radius (`lo`, ∞ while none) and the largest radius (`hi`, 0 while none is
/// positive). Column by column, without a reduction across the row, so the compiler can do
/// several columns an instruction.
fn columns_add_row(lo: &mut [f32], hi: &mut [f32], radius: &[f32]) {
    for ((lo, hi), &r) in lo.iter_mut().zip(hi.iter_mut()).zip(radius) {
        let v = if r > 0.0 { r } else { f32::INFINITY };
        *lo = if v < *lo { v } else { *lo };
        *hi = if r > *hi { r } else { *hi };
    }
}

/// Takes the column ranges of a row of blocks' rows ([`columns_add_row`]) into the blocks
/// (from block column `bx0`; the raster's first cell is lattice column `ox`): its first
/// block's columns (where the raster starts inside a block), then eight at a time, then the
/// rest. A block no positive radius reached keeps what it held.
fn blocks_add_columns(blocks: &mut [(f32, f32)], ox: i64, bx0: i64, lo: &[f32], hi: &[f32]) {
    let first = ((bx0 + 1) * BLOCK - ox).clamp(0, lo.len() as i64) as usize;
    fn pieces(v: &[f32], first: usize) -> impl Iterator<Item = &[f32]> {
        let (head, rest) = v.split_at(first);
        std::iter::once(head).chain(rest.chunks(BLOCK as usize))
    }
    for ((block, lo), hi) in blocks.iter_mut().zip(pieces(lo, first)).zip(pieces(hi, first)) {
        let lo = lo.iter().fold(f32::INFINITY, |a, &b| if b < a { b } else { a });
        let hi = hi.iter().fold(0.0f32, |a, &b| if b > a { b } else { a });
        if hi > 0.0 {
            *block = (block.0.min(lo), block.1.max(hi));
        }
    }
}

impl Blocks {
    fn new(ox: i64, oy: i64, nx: usize, ny: usize) -> Blocks {
        let bx0 = ox.div_euclid(BLOCK);
        let by0 = oy.div_euclid(BLOCK);
        let nbx = ((ox + nx as i64 - 1).div_euclid(BLOCK) - bx0 + 1).max(0) as usize;
        let nby = ((oy + ny as i64 - 1).div_euclid(BLOCK) - by0 + 1).max(0) as usize;
        Blocks {
            ox,
            oy,
            bx0,
            by0,
            nbx,
            range: vec![(f32::INFINITY, 0.0); nbx * nby],
        }
    }

    /// The raster's cells `start..end` along one axis (origin `o` on the lattice, first block
    /// `b0`, `n` cells), cut at block borders: each piece, and the block index along the axis
    /// when the piece holds every cell the raster has of its block.
    fn pieces(
        o: i64,
        b0: i64,
        n: usize,
        start: usize,
        end: usize,
    ) -> impl Iterator<Item = (usize, usize, Option<usize>)> {
        let mut at = start;
        std::iter::from_fn(move || {
            if at >= end {
                return None;
            }
            let b = (o + at as i64).div_euclid(BLOCK);
            let first = (b * BLOCK - o).max(0) as usize;
            let last = ((b + 1) * BLOCK - o).min(n as i64) as usize;
            let piece_end = last.min(end);
            let whole = at == first && piece_end == last;
            let piece = (at, piece_end, whole.then_some((b - b0) as usize));
            at = piece_end;
            Some(piece)
        })
    }
}

/// Centre of lattice cell `g` (column or row on the chart's global 0.5 mm lattice), mm: the same
/// number whatever raster the cell is part of, so two rasters of one head agree cell by cell.
#[inline(always)]
fn lattice_centre(g: i64) -> f64 {
    (g as f64 + 0.5) * RASTER_MM
}

/// Calls `f` with every run of cells whose centres lie inside `poly` (even-odd scanline fill),
/// as a range of raster indices within one row. The raster's first cell is lattice cell
/// `(ox, oy)`.
///
/// Each edge is visited once and puts its crossing of every row it spans into a list, grouped by
/// row (a counting sort: the rows are a few hundred small integers) and sorted by x within each
/// row (zone outlines have hundreds of vertices; testing every edge on every row was most of a
/// layout's cost, and a comparison sort of all the crossings most of what was left). A row's
/// crossings are the same numbers, in the same order, as testing each edge against the row
/// (tested: `fill_gives_the_runs_of_a_row_by_row_scan`).
fn fill(
    poly: &[[f64; 2]],
    ox: i64,
    oy: i64,
    nx: usize,
    ny: usize,
    mut f: impl FnMut(std::ops::Range<usize>),
) {
    let n = poly.len();
    if n < 3 || nx == 0 || ny == 0 {
        return;
    }
    // (row, x) of every crossing of a row's centre line by an edge.
    let mut crossings: Vec<(usize, f64)> = Vec::with_capacity(4 * ny.min(2 * n));
    for i in 0..n {
        let (a, b) = (poly[i], poly[(i + 1) % n]);
        let (lo, hi) = if a[1] < b[1] { (a[1], b[1]) } else { (b[1], a[1]) };
        if lo.is_nan() || hi.is_nan() || lo >= hi {
            continue;
        }
        // Rows whose centre y may lie in [lo, hi), one wider each way; each is then tested
        // exactly as a row-by-row scan tests it.
        let first = ((lo / RASTER_MM - 0.5).floor() - oy as f64 - 1.0).max(0.0);
        let last = ((hi / RASTER_MM - 0.5).ceil() - oy as f64 + 1.0).min(ny as f64 - 1.0);
        if first > last {
            continue;
        }
        for j in first as usize..=last as usize {
            let y = lattice_centre(oy + j as i64);
            if (a[1] > y) != (b[1] > y) {
                crossings.push((j, a[0] + (y - a[1]) / (b[1] - a[1]) * (b[0] - a[0])));
            }
        }
    }
    // Grouped by row: row `j`'s crossings are `xs[start[j]..start[j + 1]]`, in the order they
    // were found, then sorted.
    let mut start = vec![0usize; ny + 1];
    for &(j, _) in &crossings {
        start[j + 1] += 1;
    }
    for j in 0..ny {
        start[j + 1] += start[j];
    }
    let mut xs = vec![0.0f64; crossings.len()];
    let mut next = start.clone();
    for &(j, x) in &crossings {
        xs[next[j]] = x;
        next[j] += 1;
    }
    for j in 0..ny {
        let row = &mut xs[start[j]..start[j + 1]];
        row.sort_unstable_by(f64::total_cmp);
        row_runs(row, j, ox, nx, &mut f);
    }
}

/// Calls `f` with the runs of raster row `j` between its sorted crossings `xs`, taken in pairs
/// (even-odd), each run the cells whose centres lie between a pair.
fn row_runs(xs: &[f64], j: usize, ox: i64, nx: usize, mut f: impl FnMut(std::ops::Range<usize>)) {
    for pair in xs.chunks_exact(2) {
        let i0 = (((pair[0] / RASTER_MM - 0.5).ceil() - ox as f64).max(0.0)) as usize;
        let i1 = (pair[1] / RASTER_MM - 0.5).floor() - ox as f64;
        if i1 < 0.0 {
            continue;
        }
        let i1 = (i1 as usize).min(nx - 1);
        if i0 <= i1 {
            f(j * nx + i0..j * nx + i1 + 1);
        }
    }
}

/// The zones drawn on a raster: which cells are scalp, which zone each cell belongs to (0:
/// none), which are excluded. The first step of [`ZoneMap::build`] and of
/// [`ZoneMap::zone_areas`].
struct Zoning {
    /// The raster's first cell on the chart's lattice.
    ox: i64,
    oy: i64,
    nx: usize,
    ny: usize,
    scalp: Vec<bool>,
    zone: Vec<u8>,
    excluded: Vec<bool>,
}

impl Zoning {
    fn new(
        extent: [f64; 4],
        outline: &[[f64; 2]],
        zones: &[ZoneSpec],
        exclusions: &[Vec<[f64; 2]>],
    ) -> Zoning {
        let [x0, y0, x1, y1] = extent;
        // The raster's first cell on the chart's lattice (the extent is snapped to it).
        let (ox, oy) = ((x0 / RASTER_MM).round() as i64, (y0 / RASTER_MM).round() as i64);
        let nx = ((x1 - x0) / RASTER_MM).ceil().max(1.0) as usize;
        let ny = ((y1 - y0) / RASTER_MM).ceil().max(1.0) as usize;
        let total = nx * ny;
        let mut scalp = vec![false; total];
        fill(outline, ox, oy, nx, ny, |run| scalp[run].fill(true));
        let mut zone = vec![0u8; total];
        let mut order: Vec<&ZoneSpec> = zones.iter().collect();
        order.sort_by_key(|z| priority(z.kind));
        for z in order {
            let c = code(z.kind);
            // The hairline band reaches ahead of the scalp's edge (isolated dots); scars
            // are drawn where the clinician put them. Everything else stays on the scalp.
            let anywhere = matches!(z.kind, ZoneKind::Hairline | ZoneKind::Scar);
            fill(&z.polygon, ox, oy, nx, ny, |run| {
                if anywhere {
                    zone[run].fill(c);
                } else {
                    on_scalp_only(&mut zone[run.clone()], &scalp[run], c);
                }
            });
        }
        let mut excluded = vec![false; total];
        for e in exclusions {
            fill(e, ox, oy, nx, ny, |run| {
                excluded[run.clone()].fill(true);
                zone[run].fill(0);
            });
        }
        Zoning {
            ox,
            oy,
            nx,
            ny,
            scalp,
            zone,
            excluded,
        }
    }
}

/// Sets to `c` the cells of `zone` that are on the scalp. A select, not a branch, a cell:
/// several cells an instruction.
fn on_scalp_only(zone: &mut [u8], scalp: &[bool], c: u8) {
    for (z, &on_scalp) in zone.iter_mut().zip(scalp) {
        *z = if on_scalp { c } else { *z };
    }
}

/// Final dots/cm² of a hairline-zone cell at `centre`, for the zone's density `base`: sparse
/// isolated dots ahead of the line, rising across the transition behind it.
fn hairline_density(hairline: &Hairline, style: &HairlineStyleSettings, base: f32, centre: [f64; 2]) -> f32 {
    let Some(depth) = hairline.depth_behind_mm(centre) else {
        return base;
    };
    let w = style.transition_width_mm;
    let f = style.front_density_fraction;
    if depth < 0.0 {
        if style.isolated_band_mm > 0.0 {
            (style.isolated_share * f64::from(base) * w / style.isolated_band_mm) as f32
        } else {
            0.0
        }
    } else {
        let t = (depth / w).min(1.0);
        (f64::from(base) * (f + 2.0 * (1.0 - f) * t)) as f32
    }
}

impl ZoneMap {
    /// The areas (cm²) of [`ZoneMap::zone_totals`] for the same arguments as
    /// [`ZoneMap::build`], without building the map: the same cells counted in the same order,
    /// so the same numbers to the last bit (tested). A cell counts when its density is
    /// positive, and the blend at a zone's edge only scales a density by a positive factor
    /// (`blend_edge_fraction` is at least 0.05), so only the hairline's profile is computed.
    /// What a plan's fully bald head needs ([`crate::treatment::FullAreas`]), at a fraction of
    /// the cost of a build.
    pub fn zone_areas(
        extent: [f64; 4],
        outline: &[[f64; 2]],
        zones: &[ZoneSpec],
        exclusions: &[Vec<[f64; 2]>],
        hairline: &Hairline,
        densities: &ZoneDensities,
    ) -> [f64; 7] {
        let Zoning { ox, oy, nx, zone, .. } = Zoning::new(extent, outline, zones, exclusions);
        let style = &hairline.style_settings;
        let hairline_code = code(ZoneKind::Hairline);
        let hairline_base = densities.get(ZoneKind::Hairline) as f32;
        // Cells with a positive density, per zone code: every cell of a zone whose density is
        // positive, and the hairline band's cells one by one.
        let mut cells = [0usize; ZoneKind::ALL.len() + 1];
        for (k, &z) in zone.iter().enumerate() {
            if z != hairline_code {
                cells[usize::from(z)] += 1;
            } else {
                let centre = [
                    lattice_centre(ox + (k % nx) as i64),
                    lattice_centre(oy + (k / nx) as i64),
                ];
                if hairline_density(hairline, style, hairline_base, centre) > 0.0 {
                    cells[usize::from(z)] += 1;
                }
            }
        }
        let mut out = [0.0; 7];
        for (i, kind) in ZoneKind::ALL.into_iter().enumerate() {
            let z = code(kind);
            if z != hairline_code && densities.get(kind) as f32 <= 0.0 {
                continue;
            }
            out[i] = area_of_cells(cells[usize::from(z)]);
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    pub fn build(
        extent: [f64; 4],
        outline: &[[f64; 2]],
        zones: &[ZoneSpec],
        exclusions: &[Vec<[f64; 2]>],
        hairline: &Hairline,
        densities: &ZoneDensities,
        settings: &PatternSettings,
        feather_outline: bool,
        threads: usize,
    ) -> ZoneMap {
        let [x0, y0, ..] = extent;
        let Zoning {
            ox,
            oy,
            nx,
            ny,
            scalp,
            zone,
            excluded,
        } = Zoning::new(extent, outline, zones, exclusions);
        let total = nx * ny;
        // Distance (mm) to the nearest untreated, hair-bearing scalp cell, by a two-pass
        // chamfer transform; only needed up to the blend width. Without a fringe to blend into
        // (alopecia totalis/universalis) the scalp's own lower edge is feathered the same way,
        // so the treated area ends softly instead of along a drawn line.
        let bw = settings.blend_width_mm as f32;
        let mut dist = vec![f32::INFINITY; total];
        let mut any_untreated = false;
        // Hair-bearing scalp left untreated. Operators without short-circuits, so that the
        // plain loop below takes several cells an instruction.
        let untreated = |on_scalp: bool, z: u8, out: bool| on_scalp & (z == 0) & !out;
        if feather_outline {
            for (i, d) in dist.iter_mut().enumerate() {
                let lower_edge = !scalp[i] && {
                    let centre = [
                        lattice_centre(ox + (i % nx) as i64),
                        lattice_centre(oy + (i / nx) as i64),
                    ];
                    hairline.depth_behind_mm(centre).is_none()
                };
                if untreated(scalp[i], zone[i], excluded[i]) || lower_edge {
                    *d = 0.0;
                    any_untreated = true;
                }
            }
        } else {
            // A select, not a branch, a cell.
            let cells = dist.iter_mut().zip(&scalp).zip(&zone).zip(&excluded);
            for (((d, &on_scalp), &z), &out) in cells {
                let start = untreated(on_scalp, z, out);
                *d = if start { 0.0 } else { *d };
                any_untreated |= start;
            }
        }
        if bw > 0.0 && any_untreated {
            chamfer_distance(&mut dist, nx, ny, RASTER_MM as f32);
        }
        let style = &hairline.style_settings;
        let mean_size = settings.mean_unit_size() as f32;
        let edge = settings.blend_edge_fraction as f32;
        let radius_of = |m: f32, d: f32| (100.0 * PACKING_CONSTANT as f32 * m / d).sqrt();
        // Per zone code: how its cells get their density, and the density and radius of a
        // cell at the zone's own density (worked out once, not per cell: the same numbers).
        #[derive(Clone, Copy)]
        enum Rule {
            None,
            Hairline,
            Plain,
            Blended,
        }
        let mut rules = [Rule::None; ZoneKind::ALL.len() + 1];
        let mut plain = [(0f32, 0f32); ZoneKind::ALL.len() + 1];
        for kind in ZoneKind::ALL {
            let z = usize::from(code(kind));
            let base = densities.get(kind) as f32;
            plain[z] = (base, radius_of(mean_size, base));
            rules[z] = match kind {
                ZoneKind::Hairline => Rule::Hairline,
                ZoneKind::Scar => Rule::Plain,
                // Without a fringe only the sides and back reach the scalp's lower edge.
                _ if feather_outline && kind != ZoneKind::SidesBack => Rule::Plain,
                _ => Rule::Blended,
            };
        }
        let hairline_base = densities.get(ZoneKind::Hairline) as f32;
        let mut radius = vec![0f32; total];
        let cell_cm2 = RASTER_MM * RASTER_MM / 100.0;
        let mut blocks = Blocks::new(ox, oy, nx, ny);
        let bx0 = blocks.bx0;
        // One group of rows: the rows of one row of blocks, from raster row `j0`. Fills their
        // radii and their blocks' ranges; answers each zone's cells and expected dots (added
        // cell by cell in raster order).
        let fill_group = |j0: usize, rows: &mut [f32], block_row: &mut [(f32, f32)]| {
            let mut counts = [0usize; ZoneKind::ALL.len() + 1];
            let mut dots = [0.0f64; ZoneKind::ALL.len() + 1];
            // Consecutive cells of one zone at one density add the same expected dots one
            // after another: a run of them is added at once, to the same bits
            // ([`repeated_sum_from`]), instead of one addition after another in a chain as
            // long as the zone (the chain's latency, not its instructions, was the cost).
            struct Run {
                zone: usize,
                density: f32,
                cells: usize,
            }
            let mut run = Run {
                zone: 0,
                density: 0.0,
                cells: 0,
            };
            let mut add_run = |run: &Run| {
                counts[run.zone] += run.cells;
                dots[run.zone] =
                    repeated_sum_from(dots[run.zone], f64::from(run.density) * cell_cm2, run.cells);
            };
            let (mut lo, mut hi) = (vec![f32::INFINITY; nx], vec![0.0f32; nx]);
            for (dj, row_radius) in rows.chunks_exact_mut(nx).enumerate() {
                let j = j0 + dj;
                let row = j * nx..(j + 1) * nx;
                let cells = zone[row.clone()]
                    .iter()
                    .zip(&dist[row])
                    .zip(row_radius.iter_mut())
                    .enumerate();
                for (i, ((&z, &to_fringe), radius)) in cells {
                    let z = usize::from(z);
                    let (d, r) = match rules.get(z).copied().unwrap_or(Rule::None) {
                        Rule::None => continue,
                        Rule::Plain => plain[z],
                        Rule::Blended if to_fringe >= bw => plain[z],
                        Rule::Blended => {
                            let d = plain[z].0 * (edge + (1.0 - edge) * to_fringe / bw);
                            (d, radius_of(mean_size, d))
                        }
                        Rule::Hairline => {
                            let centre = [lattice_centre(ox + i as i64), lattice_centre(oy + j as i64)];
                            let d = hairline_density(hairline, style, hairline_base, centre);
                            (d, radius_of(1.0, d))
                        }
                    };
                    if d > 0.0 {
                        *radius = r;
                        if z == run.zone && d.to_bits() == run.density.to_bits() {
                            run.cells += 1;
                        } else {
                            add_run(&run);
                            run = Run {
                                zone: z,
                                density: d,
                                cells: 1,
                            };
                        }
                    }
                }
                columns_add_row(&mut lo, &mut hi, row_radius);
            }
            add_run(&run);
            blocks_add_columns(block_row, ox, bx0, &lo, &hi);
            (counts, dots)
        };
        // The groups: the raster's rows cut at the borders of the rows of blocks, each with
        // its row of blocks. Threads take the next group from a counter (the hairline's band,
        // the costly cells, spans few rows, and a thread spawned here starts late); each
        // group's answer is its own, summed below in group order, so the sums do not depend
        // on the number of threads or on which thread filled a group.
        let first_rows = ((blocks.by0 + 1) * BLOCK - oy).clamp(0, ny as i64) as usize;
        let (head, tail) = radius.split_at_mut(first_rows * nx);
        let mut groups: Vec<Mutex<Option<RowGroup<'_>>>> = Vec::new();
        let row_groups = std::iter::once(head).chain(tail.chunks_mut(BLOCK as usize * nx));
        let mut j0 = 0;
        for (rows, block_row) in row_groups.zip(blocks.range.chunks_mut(blocks.nbx.max(1))) {
            let n = rows.len() / nx.max(1);
            groups.push(Mutex::new(Some((j0, rows, block_row))));
            j0 += n;
        }
        let threads = threads
            .clamp(1, crate::sampler::MAX_THREADS)
            .min(groups.len().max(1));
        let next = AtomicUsize::new(0);
        let fill_some = || -> Vec<(usize, ZoneSums)> {
            let mut answers = Vec::new();
            loop {
                let g = next.fetch_add(1, Ordering::Relaxed);
                let Some(group) = groups.get(g) else {
                    return answers;
                };
                // Each group is taken once, by the thread that drew its number.
                let taken = group.lock().unwrap_or_else(PoisonError::into_inner).take();
                if let Some((j0, rows, block_row)) = taken {
                    answers.push((g, fill_group(j0, rows, block_row)));
                }
            }
        };
        let mut answers: Vec<(usize, ZoneSums)> = std::thread::scope(|scope| {
            let fill_some = &fill_some;
            let others: Vec<_> = (1..threads).map(|_| scope.spawn(fill_some)).collect();
            let mut answers = fill_some();
            for other in others {
                answers.extend(
                    other
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                );
            }
            answers
        });
        answers.sort_unstable_by_key(|a| a.0);
        let mut counts = [0usize; ZoneKind::ALL.len() + 1];
        let mut dots = [0.0f64; ZoneKind::ALL.len() + 1];
        for (_, (c, d)) in answers {
            for z in 0..counts.len() {
                counts[z] += c[z];
                dots[z] += d[z];
            }
        }
        let totals: [(f64, f64); 7] = std::array::from_fn(|z| (area_of_cells(counts[z + 1]), dots[z + 1]));
        ZoneMap {
            x0,
            y0,
            nx,
            ny,
            zone,
            radius,
            totals,
            blocks,
        }
    }

    pub fn bounds(&self) -> Bounds {
        Bounds {
            x0: self.x0 as f32,
            y0: self.y0 as f32,
            x1: (self.x0 + self.nx as f64 * RASTER_MM) as f32,
            y1: (self.y0 + self.ny as f64 * RASTER_MM) as f32,
        }
    }

    #[inline(always)]
    pub fn index(&self, x: f64, y: f64) -> Option<usize> {
        let fx = (x - self.x0) / RASTER_MM;
        let fy = (y - self.y0) / RASTER_MM;
        if fx >= 0.0 && fy >= 0.0 && (fx as usize) < self.nx && (fy as usize) < self.ny {
            Some(fy as usize * self.nx + fx as usize)
        } else {
            None
        }
    }

    pub fn zone_at(&self, p: [f64; 2]) -> Option<ZoneKind> {
        self.index(p[0], p[1]).and_then(|i| kind_of(self.zone[i]))
    }

    /// Smallest and largest final site radius in the treated area.
    pub fn radius_range(&self) -> Option<(f32, f32)> {
        // From the blocks' ranges: a few thousand, not the raster's cells.
        self.blocks.range.iter().fold(None, |acc, &(lo, hi)| {
            if hi > 0.0 {
                Some(acc.map_or((lo, hi), |(a, b): (f32, f32)| (a.min(lo), b.max(hi))))
            } else {
                acc
            }
        })
    }

    /// Area (cm²) and expected final dots per zone, in [`ZoneKind::ALL`] order: each zone's
    /// cells with a positive density, the area added cell by cell, the dots row of blocks by
    /// row of blocks (the same sums on any number of threads).
    pub fn zone_totals(&self) -> [(f64, f64); 7] {
        self.totals
    }

    /// Area of the scalp outline, cm², by the polygon (exact on the surface).
    pub fn outline_area_cm2(outline: &[[f64; 2]]) -> f64 {
        polygon::area_mm2(outline) / 100.0
    }
}

/// The map as the sampler's field: the final radius raster (sessions scale it).
pub(crate) struct MapField<'a> {
    pub map: &'a ZoneMap,
    x0: f32,
    y0: f32,
    inv: f32,
}

impl<'a> MapField<'a> {
    pub fn new(map: &'a ZoneMap) -> Self {
        MapField {
            map,
            x0: map.x0 as f32,
            y0: map.y0 as f32,
            inv: (1.0 / RASTER_MM) as f32,
        }
    }

    /// Raster columns and rows overlapping `rect` (clamped to the raster), half-open.
    pub(crate) fn cells_over(&self, rect: Bounds) -> (usize, usize, usize, usize) {
        let clamp = |v: f32, n: usize| -> usize { if v > 0.0 { (v as usize).min(n) } else { 0 } };
        let i0 = clamp(((rect.x0 - self.x0) * self.inv).floor(), self.map.nx);
        let j0 = clamp(((rect.y0 - self.y0) * self.inv).floor(), self.map.ny);
        let i1 = clamp(((rect.x1 - self.x0) * self.inv).ceil(), self.map.nx);
        let j1 = clamp(((rect.y1 - self.y0) * self.inv).ceil(), self.map.ny);
        (i0, i1, j0, j1)
    }
}

impl SiteField for MapField<'_> {
    #[inline(always)]
    fn radius(&self, x: f32, y: f32) -> f32 {
        let fx = (x - self.x0) * self.inv;
        let fy = (y - self.y0) * self.inv;
        if !(fx >= 0.0 && fy >= 0.0) {
            return 0.0;
        }
        // `as u32` saturates where `as usize` would not, at 2³² − 1: still past any raster's
        // last cell, so the same cells are in and out.
        let (i, j) = (fx as u32 as usize, fy as u32 as usize);
        if i >= self.map.nx || j >= self.map.ny {
            return 0.0;
        }
        self.map.radius[j * self.map.nx + i]
    }

    /// The range over the cells under `rect`: whole blocks from their summary, the cells of
    /// blocks the rectangle only cuts one by one. A minimum and a maximum pick one of their
    /// operands exactly, so the answer is the cell-by-cell scan's (tested).
    fn range(&self, rect: Bounds) -> Option<(f32, f32)> {
        let (i0, i1, j0, j1) = self.cells_over(rect);
        let (map, blocks) = (self.map, &self.map.blocks);
        let mut lo = f32::INFINITY;
        let mut hi = 0.0f32;
        let mut take = |r: f32| {
            if r > 0.0 {
                lo = lo.min(r);
                hi = hi.max(r);
            }
        };
        for (ja, jb, block_row) in Blocks::pieces(blocks.oy, blocks.by0, map.ny, j0, j1) {
            for (ia, ib, block_column) in Blocks::pieces(blocks.ox, blocks.bx0, map.nx, i0, i1) {
                if let (Some(bj), Some(bi)) = (block_row, block_column) {
                    let (l, h) = blocks.range[bj * blocks.nbx + bi];
                    if h > 0.0 {
                        take(l);
                        take(h);
                    }
                    continue;
                }
                for j in ja..jb {
                    for &r in &map.radius[j * map.nx + ia..j * map.nx + ib] {
                        take(r);
                    }
                }
            }
        }
        (hi > 0.0).then_some((lo, hi))
    }
}

impl ZoneMap {
    /// Whether this map and `other` (both on the same 0.5 mm lattice) hold the same zone and
    /// radius in every raster cell overlapping `rect`; cells outside a map count as empty.
    pub fn same_over<'m>(&'m self, other: &'m ZoneMap, rect: Bounds) -> bool {
        let lattice = |v: f64| (v / RASTER_MM).round() as i64;
        let (ax, ay, bx, by) = (
            lattice(self.x0),
            lattice(self.y0),
            lattice(other.x0),
            lattice(other.y0),
        );
        // Global lattice columns and rows overlapping the rectangle.
        let c0 = (f64::from(rect.x0) / RASTER_MM).floor() as i64;
        let c1 = (f64::from(rect.x1) / RASTER_MM).ceil() as i64;
        let r0 = (f64::from(rect.y0) / RASTER_MM).floor() as i64;
        let r1 = (f64::from(rect.y1) / RASTER_MM).ceil() as i64;
        // A map's cells of global row `r`, columns `cs`: `None` where they lie outside it (all
        // empty), else its zone and radius slices. Compared slice by slice, not cell by cell
        // (every edit of a drag compares every tile).
        type Cells<'m> = Option<(&'m [u8], &'m [f32])>;
        let cells = |m: &'m ZoneMap, ox: i64, oy: i64, r: i64, cs: std::ops::Range<i64>| -> Cells<'m> {
            let j = r - oy;
            let (i0, i1) = (cs.start - ox, cs.end - ox);
            if j < 0 || j as usize >= m.ny || i0 < 0 || i1 as usize > m.nx {
                return None;
            }
            let k = j as usize * m.nx;
            let run = k + i0 as usize..k + i1 as usize;
            Some((&m.zone[run.clone()], &m.radius[run]))
        };
        let empty = |c: Cells<'_>| {
            c.is_none_or(|(z, r)| z.iter().all(|&z| z == 0) && r.iter().all(|r| r.to_bits() == 0))
        };
        // Column breaks where either map begins or ends: between two breaks each map is wholly
        // inside or wholly outside.
        let mut breaks = [c0, c1, ax, ax + self.nx as i64, bx, bx + other.nx as i64];
        breaks.sort_unstable();
        for r in r0..r1 {
            for w in breaks.windows(2) {
                let (lo, hi) = (w[0].max(c0), w[1].min(c1));
                if lo >= hi {
                    continue;
                }
                let (a, b) = (cells(self, ax, ay, r, lo..hi), cells(other, bx, by, r, lo..hi));
                let same = match (a, b) {
                    (Some((za, ra)), Some((zb, rb))) => {
                        za == zb && ra.iter().zip(rb).all(|(x, y)| x.to_bits() == y.to_bits())
                    }
                    _ => empty(a) && empty(b),
                };
                if !same {
                    return false;
                }
            }
        }
        true
    }
}

/// Two-pass chamfer distance transform in place, on a `w` × `h` raster of cells `step_mm` wide:
/// zeros stay, every other cell gets the distance to the nearest zero (straight steps `step_mm`,
/// diagonal steps √2 · `step_mm`). The density field's blend band and the renderer's stubble
/// fall-off measure the same distance with it.
///
/// Each pass takes a row in two steps: first the three neighbours in the row already done
/// (straight above or below and the two diagonals), a loop without branches over the whole
/// row that the compiler vectorises; then the neighbour before it in the same row, the one
/// step that must run cell by cell. A minimum picks one of its operands exactly, whatever the
/// order, so the distances are the textbook transform's to the bit (tested against it).
pub fn chamfer_distance(d: &mut [f32], w: usize, h: usize, step_mm: f32) {
    let (a, b) = (step_mm, step_mm * std::f32::consts::SQRT_2);
    if w == 0 || h == 0 {
        return;
    }
    let d = &mut d[..w * h];
    // One row from the row done before it (`near`), then along itself in `order`.
    let pass = |row: &mut [f32], near: Option<&[f32]>, forward: bool| {
        if let Some(near) = near {
            row[0] = row[0].min(near[0] + a);
            if w > 1 {
                row[0] = row[0].min(near[1] + b);
                row[w - 1] = row[w - 1].min(near[w - 1] + a).min(near[w - 2] + b);
            }
            if w > 2 {
                for ((v, n), (l, r)) in row[1..w - 1]
                    .iter_mut()
                    .zip(&near[1..w - 1])
                    .zip(near[..w - 2].iter().zip(&near[2..]))
                {
                    *v = v.min(n + a).min(l + b).min(r + b);
                }
            }
        }
        if forward {
            for i in 1..w {
                row[i] = row[i].min(row[i - 1] + a);
            }
        } else {
            for i in (0..w - 1).rev() {
                row[i] = row[i].min(row[i + 1] + a);
            }
        }
    };
    for j in 0..h {
        let (done, rest) = d.split_at_mut(j * w);
        let near = j.checked_sub(1).map(|p| &done[p * w..]);
        pass(&mut rest[..w], near, true);
    }
    for j in (0..h).rev() {
        let (rows, after) = d.split_at_mut((j + 1) * w);
        let near = (j + 1 < h).then(|| &after[..w]);
        pass(&mut rows[j * w..], near, false);
    }
}

/// The textbook two-pass transform, cell by cell: what [`chamfer_distance`] must equal.
#[cfg(test)]
fn chamfer_distance_reference(d: &mut [f32], w: usize, h: usize, step_mm: f32) {
    let (a, b) = (step_mm, step_mm * std::f32::consts::SQRT_2);
    for j in 0..h {
        for i in 0..w {
            let k = j * w + i;
            let mut v = d[k];
            if i > 0 {
                v = v.min(d[k - 1] + a);
            }
            if j > 0 {
                v = v.min(d[k - w] + a);
                if i > 0 {
                    v = v.min(d[k - w - 1] + b);
                }
                if i + 1 < w {
                    v = v.min(d[k - w + 1] + b);
                }
            }
            d[k] = v;
        }
    }
    for j in (0..h).rev() {
        for i in (0..w).rev() {
            let k = j * w + i;
            let mut v = d[k];
            if i + 1 < w {
                v = v.min(d[k + 1] + a);
            }
            if j + 1 < h {
                v = v.min(d[k + w] + a);
                if i + 1 < w {
                    v = v.min(d[k + w + 1] + b);
                }
                if i > 0 {
                    v = v.min(d[k + w - 1] + b);
                }
            }
            d[k] = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use rand_core::RngCore;

    use super::*;

    /// [`repeated_sum`] and [`repeated_sum_from`] give the bits of the addition done one step at
    /// a time: the raster's cell area and awkward values (thirds, powers of two, 2⁵² + 1 and
    /// 2⁵⁰ + 1, whose sums reach halfway cases within a few steps), counts from none to past a
    /// Norwood VII raster, and sums started from other values.
    #[test]
    fn repeated_sums_are_the_additions_to_the_bit() {
        let mut checked = 0;
        let values = [
            RASTER_MM * RASTER_MM / 100.0,
            0.1,
            1.0 / 3.0,
            0.7,
            1e-3,
            0.5,
            3.0,
            2.0f64.powi(-30) * 3.0,
            1e-300,
            6.02e23,
            4_503_599_627_370_497.0,
            1_125_899_906_842_625.0,
        ];
        for c in values {
            let mut naive = 0.0f64;
            for n in 0..=250_000usize {
                if n > 0 {
                    naive += c;
                }
                if n < 3000 || n % 997 == 0 || n == 250_000 {
                    assert_eq!(repeated_sum(c, n).to_bits(), naive.to_bits(), "{c} × {n}");
                    checked += 1;
                }
            }
        }
        // Random values and counts, from the sampler's seeded stream.
        let mut rng = crate::sampler::stream(1, 0);
        for _ in 0..200 {
            let x = rng.next_u64();
            let c = f64::from_bits(0x3f00_0000_0000_0000 | (x >> 12)) * if x & 1 == 0 { 1.0 } else { 1e-3 };
            let n = (x >> 40) as usize % 20_000;
            let naive = (0..n).fold(0.0, |s, _| s + c);
            assert_eq!(repeated_sum(c, n).to_bits(), naive.to_bits(), "{c} × {n}");
            checked += 1;
        }
        // From a sum already under way: random starts (none, smaller than `c`, up to 10⁶ times
        // larger, and just below a power of two), random values and counts.
        for _ in 0..400 {
            let x = rng.next_u64();
            let c = f64::from_bits(0x3f00_0000_0000_0000 | (x >> 12)) * if x & 1 == 0 { 1.0 } else { 1e-3 };
            let y = rng.next_u64();
            let start = match y % 4 {
                0 => 0.0,
                1 => c * (y >> 11) as f64 / (1u64 << 53) as f64,
                2 => c * 1e6 * (y >> 11) as f64 / (1u64 << 53) as f64,
                _ => 2.0f64.powi((y >> 8) as i32 % 20 - 10) - c * ((y >> 16) % 5) as f64,
            };
            let n = (x >> 40) as usize % 20_000;
            let naive = (0..n).fold(start, |s, _| s + c);
            assert_eq!(
                repeated_sum_from(start, c, n).to_bits(),
                naive.to_bits(),
                "{start} + {c} × {n}"
            );
            checked += 1;
        }
        assert!(checked > 10_000);
    }

    /// `fill` gives the runs a row-by-row scan gives (every edge tested against every row, the
    /// row's crossings sorted, the same `row_runs` between them): random polygons (stars of 3
    /// to 60 vertices, some crossing themselves, some reaching past the raster, some with a
    /// horizontal edge).
    #[test]
    fn fill_gives_the_runs_of_a_row_by_row_scan() {
        let rng = &mut rand_pcg::Pcg64Mcg::new(0x5eed_2026_1207);
        let mut unit = move || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let (ox, oy, nx, ny) = (-60, -51, 125, 111);
        let mut runs_checked = 0;
        for case in 0..200 {
            let n = 3 + (unit() * 58.0) as usize;
            let size = 5.0 + 30.0 * unit();
            let (cx, cy) = (20.0 * unit() - 10.0, 20.0 * unit() - 10.0);
            let mut poly: Vec<[f64; 2]> = (0..n)
                .map(|i| {
                    let a = std::f64::consts::TAU * (i as f64 + 0.5 * unit()) / n as f64;
                    let r = size * (0.3 + 0.7 * unit());
                    [cx + r * a.cos(), cy + r * a.sin()]
                })
                .collect();
            if case % 5 == 0 {
                poly.swap(0, n / 2);
            }
            if case % 7 == 0 {
                poly[1][1] = poly[0][1];
            }
            let mut got = Vec::new();
            fill(&poly, ox, oy, nx, ny, |run| got.push(run));
            let mut want = Vec::new();
            for j in 0..ny {
                let y = lattice_centre(oy + j as i64);
                let mut xs: Vec<f64> = (0..n)
                    .filter_map(|i| {
                        let (a, b) = (poly[i], poly[(i + 1) % n]);
                        ((a[1] > y) != (b[1] > y)).then(|| a[0] + (y - a[1]) / (b[1] - a[1]) * (b[0] - a[0]))
                    })
                    .collect();
                xs.sort_by(f64::total_cmp);
                row_runs(&xs, j, ox, nx, |run| want.push(run));
            }
            assert_eq!(got, want, "case {case}");
            runs_checked += want.len();
        }
        assert!(runs_checked > 10_000, "{runs_checked}");
    }

    /// Rasters of every small shape and a few large ones, with zeros, unreachable cells and
    /// finite starting values (the renderer starts some cells at a distance): the same bits
    /// as the textbook transform.
    #[test]
    fn the_chamfer_transform_equals_the_textbook_one_to_the_bit() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut shapes: Vec<(usize, usize)> = (1..=6).flat_map(|w| (1..=6).map(move |h| (w, h))).collect();
        shapes.extend([(97, 61), (600, 4), (3, 500), (256, 256)]);
        for (w, h) in shapes {
            for step in [0.5f32, 1.0, 0.37] {
                let start: Vec<f32> = (0..w * h)
                    .map(|_| match next() % 20 {
                        0 => 0.0,
                        1 => (next() % 1000) as f32 * 0.013,
                        _ => f32::INFINITY,
                    })
                    .collect();
                let (mut fast, mut textbook) = (start.clone(), start);
                chamfer_distance(&mut fast, w, h, step);
                chamfer_distance_reference(&mut textbook, w, h, step);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&fast), bits(&textbook), "{w} x {h}, step {step}");
            }
        }
    }
}
