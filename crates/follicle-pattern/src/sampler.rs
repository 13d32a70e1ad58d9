//! The variable-density blue-noise sampler: the part that decides where each follicular
//! unit goes.
//!
//! # Algorithm
//!
//! A Bridson-style advancing front, run tile by tile:
//!
//! * **Conflict rule (both radii).** A candidate `c` conflicts with a placed site `s` closer
//!   than `w·r(s) + (1 − w)·r(c)` ([`SITE_WEIGHT`] `w` = 0.25, between the candidate's own
//!   radius, `w` = 0, and the mean, `w` = 0.5, which over-drew a thin sparse zone), where `r(x) = 10 · sqrt(C · m(x) / D(x))`
//!   mm for a target of `D(x)` dots/cm² in units of mean size `m(x)`; `C` is this sampler's
//!   packing constant, measured (see [`PACKING_CONSTANT`]). Inside a zone of one density
//!   this is the plain Poisson-disk rule. Where a sparse zone meets a dense one, each side
//!   keeps half of its own spacing from the border, so neither is under-drawn: with the
//!   older "candidate's own radius" rule a sparse-side candidate was refused by dense-side
//!   dots a whole sparse radius away, and the sparse zone lost a strip along the border
//!   (issue 10: sides/back beside a FUT strip, −5.4 %). Each grid cell stores the site's
//!   radius beside its position, so the rule costs one add per check.
//! * **Tiles and phases.** The chart is cut into square tiles of side [`TILE_MM`] (doubled
//!   until it is at least twice the largest radius of the first session, the farthest any
//!   check can reach), anchored at the chart's origin. Tiles are coloured 2×2 by the parity
//!   of their column and row; the four colours are sampled one after the other (a phase),
//!   and the tiles of one phase never touch. A tile accepts candidates only inside itself
//!   and checks them against its own sites, the sites of neighbours of earlier phases (or
//!   earlier sessions) within reach — its *halo* — and nothing else. So a tile's dots are a
//!   function of its own random stream (derived from `(seed, session, tile column, row)`),
//!   the density field over it, and its halo: the same on any number of threads and in any
//!   order within a phase.
//! * **Local grids.** Each tile samples in a small grid of its own (tile plus halo, cells of
//!   side `r_min / √2` for the smallest radius near the tile, so a cell holds at most one
//!   site) that fits in the core's cache, reused from tile to tile. The grid has a border of
//!   empty cells as wide as the reach (and [`LANES`] more columns on the right), so the inner
//!   loop has no edge cases: a chunk never leaves the grid. The cells are three planes (x, y,
//!   weighted radius), and the conflict scan reads them a row chunk of [`LANES`] neighbouring
//!   cells at a time, a branch-free check the compiler vectorises. Chunks are sorted by the
//!   smallest distance any of their cells within the reach can hold, the candidate's row
//!   first, and the scan stops at the first chunk that cannot conflict: the same 21 cells
//!   for a uniform radius as a cell-by-cell scan, in five chunks, and a refused candidate is
//!   usually refused by its first or second chunk. A chunk's cells beyond the reach (the
//!   last chunk of a row runs past it) are checked too, with no mask: a site there lies at
//!   least the reach `half + half_hi ≥ half + w·r(s)` away, so it never conflicts. The
//!   answer is an "any" over every cell within the reach, so chunking changes no result,
//!   only the work.
//! * **One pick a site.** Each active site is picked once: it proposes [`CANDIDATES`] points
//!   in the annulus `[r, 1.45r]`, one in each of as many equal sectors around it (turned at
//!   random, every other sector first), keeps every one that fits (each is checked against
//!   the grid as the ones before it left it), and is retired. Each candidate is uniform by
//!   area within its sector's part of the annulus, from one 21-bit word and without
//!   rejection: the word picks one of the sector's directions from a table of [`DIRS`]
//!   computed at compile time, and a distance `r · sqrt(1 + u · (1.45² − 1))` from a table of
//!   [`DISTS`]. Uniform in the annulus, not "at exactly r", keeps the spectrum free of the
//!   ringing that the distance-`r` tricks produce (DOMAIN §6: Ω 2.9–3.8 for those).
//! * **The parent refuses without a scan.** A site remembers the site that proposed it. A
//!   candidate closer to that parent than the parent's weighted radius plus the smallest half
//!   any candidate of the tile can have (`w·r(parent) + (1 − w)·r_lo`) conflicts with it for
//!   certain, so it is refused before its radius, cell and scan are worked out. The answer is
//!   the one the scan would give, so this changes no dot. Where the radius is even, the
//!   parent's disk covers at least ±40° of the annulus on the side that faces it; the patch's
//!   instructions fell by 8 %.
//! * **Local random order.** The next active site is drawn at random from the newest
//!   [`ACTIVE_WINDOW`] entries of the active list: the front stays compact and in cache,
//!   while the draw is still random enough that no growth direction shows in the spectrum.
//! * **Seeds.** The halo's sites start on the active list, so a neighbour's front continues
//!   across the border instead of meeting a new one; a jittered lattice (and the caller's
//!   seed points, e.g. one in each small scar disc) seeds what no neighbour reaches.
//!
//! # Incremental sessions
//!
//! Session `s` samples with radius `r_s(x) = r_final(x) / sqrt(f_s)` for the cumulative
//! fraction `f_s`. Each tile puts the earlier sessions' sites near it into its grid first
//! and on its active list; placed with larger radii, they never conflict with each other at
//! the smaller one, and the front grows from them into the gaps. Earlier sites are never
//! moved or removed, so session 1 is exactly a subset of session 2, and session `s` draws
//! only from streams of `(seed, s, tile)`, so it does not depend on how many sessions follow.
//!
//! # Threads
//!
//! [`run`] runs the tiles on up to `threads` scoped threads (the caller's count, no global
//! pool). Each tile of each session is a job that becomes ready when the tiles its halo reads
//! are done (the tile and its neighbours in earlier sessions, its neighbours of earlier phases
//! in its own); threads take the ready job of the earliest session and phase, write its result
//! into the tile's own slot and free the jobs waiting on it. There is no barrier, so a thread
//! does not wait for a phase's slowest tile while other tiles' inputs are ready. Which thread
//! samples a tile, and when, changes nothing in its result: it reads only tiles that are done,
//! and never a tile of a later phase. Results are read back in tile order.
//!
//! # Bounds
//!
//! Every loop iteration retires the active site it picked, and a site goes on the active list
//! only when it is placed (or is one of the halo's), and a tile's grid holds at most one site a
//! cell, so the work per tile is bounded; a tile grid larger than
//! [`MAX_GRID_CELLS`] is an error, never a hang.
//!
//! # Speed
//!
//! Counted by callgrind on one thread (the sampler bench's `FOLLICLE_BENCH_PROFILE`; the
//! inclusive counts of `generate_patch_on` and of the bench's `norwood_on`): the 100k-dot
//! graded patch took 237.4 M instructions (about 2,400 a dot) with candidates drawn by
//! rejection from the square, and Norwood VII over all sessions 218.8 M. A candidate from one
//! 32-bit word (a direction from a table, the distance by a square root; no rejection) took the
//! patch to 170.0 M; checking a chunk's cells beyond the reach without a mask, 161.0 M; the
//! distance from a table too, three 21-bit words to a 64-bit draw, 155.2 M; Norwood VII came to
//! 187.0 M, most of the rest being the dot stage's surface solve. The patch's field became a
//! table of radii by column (as the chart's field is a raster): a few more instructions than a
//! division and a square root a candidate, but not their latency, which every candidate waited
//! on (163.8 M, about 1,650 a dot; about a tenth less time). Then about nine candidates were
//! tried a dot, 8.1 of them reached the scan, which read 16.7 chunks a dot: 1.6 for a refused
//! candidate, 5 for the accepted one; six of the nine were the last pick of a site, the six
//! refusals that retire it. Five candidates in sectors (see [`CANDIDATES`]) retire a site
//! after five: 7.6 tries a dot, the patch 156.7 M (about 1,600 a dot) and Norwood VII 180.4 M,
//! about an eighth less time.
//!
//! **One pick a site (2026-12-06, seventh session).** With a site picked again after every
//! accepted candidate and retired only after five refusals in a row, five of a dot's 7.6 tries
//! were its retirement. Picked once, with all five sectors tried and every fitting candidate
//! kept, a dot costs five tries, and the annulus narrowed from `1.5r` to `1.45r` packs exactly
//! as densely as before (a 100k patch 99,081 dots against 98,959; the packing constant stays).
//! The patch went 152.5 → 112.8 M instructions, Norwood VII 125.0 → 117.1 M; the parent's early
//! refusal then took the patch to 103.9 M (about 1,050 a dot) and Norwood VII to 116.6 M.
//!
//! Tried and not kept: a scalar look at the candidate's own cell before the scan (the first
//! chunk holds it; 170 → 186 M), four-cell chunks (161 → 170 M), two chunks a branch
//! (161 → 290 M: the pair loop was no longer vectorised), the cell index by `as i32` (no
//! gain), fewer candidates without sectors (four or five a site, with a narrower annulus to
//! keep ρ: a seam along tile borders, the nearest-neighbour test's KS distance 0.044–0.045
//! against a critical 0.037; low-frequency power, ν_eff 0.04; the first session's hairline
//! band under-filled by up to 29 %), and four in sectors (ρ 0.715, ν_eff 0, zones
//! under-filled by 5–6 %). With one pick a site (the seventh session's figures are in
//! `docs/benchmarks/issue-13.md`): four sectors (ν_eff 0 on 200 mm patches, the first
//! session's hairline band −20 %); a site picked again after it placed a candidate (no fewer
//! tries: 1,460 instructions a dot); a second draw for a candidate outside the domain (zones
//! along the domain's edge over-filled by 6 %); the parent's sector skipped instead of
//! refused (9 % fewer instructions than the early refusal's output-preserving 8 %, but other
//! dots: over 12 seeds each zone as before, yet one of the three seeds the FUT-strip test draws
//! put its scar 6.5 % over); and the five candidates' first chunks checked side by side before
//! any scan (the same dots, 45 % more instructions, no faster).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};

use rand_core::{RngCore, SeedableRng};
use rand_pcg::Pcg64Mcg;

use crate::error::PatternError;

/// Candidates each active site proposes, one in each of as many equal sectors around it,
/// when it is picked (once). Five in `[r, 1.45r]` give ρ ≈ 0.723–0.725 and Ω ≈ 1.29–1.30
/// (100×100 mm patches at 80/cm², six seeds) at five tries a dot; four in `[r, 1.35r]` left
/// low-frequency power (ν_eff 0) and under-filled the first session's hairline band by 20 %.
/// Bridson's 20 in `[r, 2r]` give ρ ≈ 0.73, Ω ≈ 1.85 at about three times the work.
pub const CANDIDATES: u32 = 5;
/// Outer radius of the candidate annulus, in units of `r`. Bridson uses 2; a narrower annulus
/// wastes fewer candidates on covered ground and packs more densely. With one pick a site,
/// `1.5` packed 2 % fewer sites than the sampler it replaced and `1.4` 2 % more; `1.45` packs
/// the same (a 100k graded patch 99,081 dots against 98,959), so [`PACKING_CONSTANT`] and
/// every zone's density stay where they were.
pub const ANNULUS_OUTER: f32 = 1.45;
/// The next active site is drawn from this many newest entries (a power of two, so a full
/// window is drawn from with a mask).
pub const ACTIVE_WINDOW: usize = 16;
const _: () = assert!(ACTIVE_WINDOW.is_power_of_two());
/// Packing constant `C` of this sampler: a saturated pattern with radius `r` holds
/// `C / r²` sites per unit area. Measured on large uniform patches (DOMAIN §6 quotes
/// 0.62 for Bridson with 30 candidates): 0.613 with six unsectored candidates; with five in
/// sectors a 200 mm patch at 80 dots/cm² held 0.8 % fewer sites (31,448 against 31,714, the
/// means of ten seeds), so 0.613 · 31,448 / 31,714 = 0.608 keeps every zone where it was.
pub const PACKING_CONSTANT: f64 = 0.608;
/// Most grid cells one tile may allocate (12 bytes each).
pub const MAX_GRID_CELLS: u64 = 16_000_000;
/// Smallest tile side, mm. Large enough that the halo (one radius wide) is a small share of
/// a tile's grid and a tile holds several hundred sites; small enough that a drag edit
/// re-samples a few square centimetres, and that a chart has dozens of tiles per phase to
/// share between threads.
pub const TILE_MM: f32 = 24.0;
/// Seed lattice spacing, in the tile's smallest radii: fine enough that every part of the
/// domain wider than this inside a tile gets a seed, coarse enough that seeds are a small
/// share of the darts.
pub const SEED_STEP_RADII: f32 = 4.0;
/// Most threads a generation uses.
pub const MAX_THREADS: usize = 16;
/// Weight of the placed site's radius in the conflict distance `w·r_site + (1 − w)·r_candidate`.
/// 0 is the candidate's own radius (a sparse zone beside a denser one loses a strip along the
/// border: sides/back beside a FUT strip −5.4 %); 0.5 is the mean (the sparse side gains a
/// strip instead: a thin temple zone beside the denser frontal +5.6 %). Between them, measured
/// on every example and the generated profiles of every stage, each zone meets its density.
pub const SITE_WEIGHT: f32 = 0.25;

/// Threads to use when the caller does not say: the machine's parallelism, at most
/// [`MAX_THREADS`]. Affects speed only, never the output.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, MAX_THREADS)
}

/// What the sampler needs to know about the domain.
pub(crate) trait SiteField: Sync {
    /// Final site radius at `(x, y)` mm (sessions scale it); `<= 0` or NaN means "not in
    /// the domain".
    fn radius(&self, x: f32, y: f32) -> f32;
    /// Smallest and largest positive radius over `rect` (conservative: it may look a little
    /// beyond), or `None` when no point of `rect` is in the domain.
    fn range(&self, rect: Bounds) -> Option<(f32, f32)>;
}

/// An axis-aligned rectangle, mm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bounds {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

impl Bounds {
    pub fn grow(self, by: f32) -> Bounds {
        Bounds {
            x0: self.x0 - by,
            y0: self.y0 - by,
            x1: self.x1 + by,
            y1: self.y1 + by,
        }
    }

    fn intersect(self, o: Bounds) -> Bounds {
        Bounds {
            x0: self.x0.max(o.x0),
            y0: self.y0.max(o.y0),
            x1: self.x1.min(o.x1),
            y1: self.y1.min(o.y1),
        }
    }

    #[inline(always)]
    fn contains(&self, x: f32, y: f32) -> bool {
        // Without short-circuits: four compares and no branch (a candidate is inside or
        // outside at random, so a branch on each side would often be mispredicted).
        (x >= self.x0) & (x < self.x1) & (y >= self.y0) & (y < self.y1)
    }

    fn is_empty(&self) -> bool {
        !(self.x1 > self.x0 && self.y1 > self.y0)
    }
}

/// One random stream per `(seed, stream)` pair, e.g. per session.
pub(crate) fn stream(seed: u64, stream: u64) -> Pcg64Mcg {
    // SplitMix64 finaliser so that nearby seeds and streams give unrelated states.
    let mut z = seed
        ^ stream
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    Pcg64Mcg::seed_from_u64(z)
}

/// The stream id of a tile in a session (`purpose` 0: sites, 1: units).
pub(crate) fn tile_stream(session: usize, i: i32, j: i32, purpose: u64) -> u64 {
    (purpose << 56) ^ ((session as u64) << 40) ^ (u64::from(i as u16) << 16) ^ u64::from(j as u16)
}

/// A uniform `f32` in `[0, 1)` from 24 random bits.
#[inline(always)]
pub(crate) fn unit_f32(bits: u32) -> f32 {
    (bits >> 8) as f32 * (1.0 / 16_777_216.0)
}

/// `total` tiles or cells of `what`, refused above [`MAX_GRID_CELLS`]: too dense a request
/// (its densities set the spacing).
fn within_grid_cap(what: &str, total: u64) -> Result<(), PatternError> {
    if total > MAX_GRID_CELLS {
        return Err(PatternError::TooLarge {
            field: "density_per_cm2".into(),
            what: what.into(),
            requested: total,
            cap: MAX_GRID_CELLS,
        });
    }
    Ok(())
}

/// The tiles over a domain: square, anchored at the chart's origin, coloured 2×2.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tiling {
    /// Tile side, mm.
    pub side: f32,
    /// Column and row of the first tile.
    pub i0: i32,
    pub j0: i32,
    /// Columns and rows.
    pub ni: usize,
    pub nj: usize,
    /// The domain (candidates outside are refused).
    pub bounds: Bounds,
    /// Final radius range over each tile (`None`: the tile is empty).
    pub range: Vec<Option<(f32, f32)>>,
    /// Final radius range over each tile and its eight neighbours.
    pub near: Vec<Option<(f32, f32)>>,
    /// Caller's seed points inside each tile.
    pub seeds: Vec<Vec<[f32; 2]>>,
}

impl Tiling {
    /// Tiles for `field` over `bounds`, large enough for radii up to `r_max_scaled` (the
    /// largest radius any session uses).
    pub fn new<F: SiteField>(
        field: &F,
        bounds: Bounds,
        r_max_scaled: f32,
        seeds: &[[f32; 2]],
    ) -> Result<Tiling, PatternError> {
        let mut side = TILE_MM;
        while side < 2.0 * r_max_scaled {
            side *= 2.0;
            if !side.is_finite() {
                break;
            }
        }
        let i0 = (bounds.x0 / side).floor() as i32;
        let j0 = (bounds.y0 / side).floor() as i32;
        let ni = ((bounds.x1 / side).ceil() as i32 - i0).max(1) as usize;
        let nj = ((bounds.y1 / side).ceil() as i32 - j0).max(1) as usize;
        let total = (ni as u64).saturating_mul(nj as u64);
        within_grid_cap("tiles", total)?;
        let mut t = Tiling {
            side,
            i0,
            j0,
            ni,
            nj,
            bounds,
            range: Vec::with_capacity(ni * nj),
            near: Vec::with_capacity(ni * nj),
            seeds: vec![Vec::new(); ni * nj],
        };
        for k in 0..ni * nj {
            let rect = t.rect(k).intersect(bounds);
            t.range
                .push(if rect.is_empty() { None } else { field.range(rect) });
        }
        for k in 0..ni * nj {
            let mut acc: Option<(f32, f32)> = None;
            t.for_neighbours(k, |n| {
                if let Some((lo, hi)) = t.range[n] {
                    acc = Some(acc.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
                }
            });
            t.near.push(acc);
        }
        for s in seeds {
            if let Some(k) = t.tile_of(s[0], s[1]) {
                t.seeds[k].push(*s);
            }
        }
        Ok(t)
    }

    /// The rectangle all the tiles cover.
    pub fn covered(&self) -> Bounds {
        Bounds {
            x0: self.i0 as f32 * self.side,
            y0: self.j0 as f32 * self.side,
            x1: (self.i0 + self.ni as i32) as f32 * self.side,
            y1: (self.j0 + self.nj as i32) as f32 * self.side,
        }
    }

    /// Column and row of tile `k`.
    pub fn coords(&self, k: usize) -> (i32, i32) {
        (self.i0 + (k % self.ni) as i32, self.j0 + (k / self.ni) as i32)
    }

    /// The rectangle of tile `k`.
    pub fn rect(&self, k: usize) -> Bounds {
        let (i, j) = self.coords(k);
        Bounds {
            x0: i as f32 * self.side,
            y0: j as f32 * self.side,
            x1: (i + 1) as f32 * self.side,
            y1: (j + 1) as f32 * self.side,
        }
    }

    /// The tile holding `(x, y)`.
    pub fn tile_of(&self, x: f32, y: f32) -> Option<usize> {
        let i = (x / self.side).floor() as i64 - i64::from(self.i0);
        let j = (y / self.side).floor() as i64 - i64::from(self.j0);
        (i >= 0 && j >= 0 && (i as usize) < self.ni && (j as usize) < self.nj)
            .then(|| j as usize * self.ni + i as usize)
    }

    /// Phase (0–3) of tile `k`: the parity of its column and row.
    pub fn phase(&self, k: usize) -> usize {
        let (i, j) = self.coords(k);
        ((i & 1) | ((j & 1) << 1)) as usize
    }

    /// Calls `f` for tile `k` and each of its (up to eight) neighbours, in a fixed order.
    pub fn for_neighbours(&self, k: usize, mut f: impl FnMut(usize)) {
        let (ci, cj) = ((k % self.ni) as i64, (k / self.ni) as i64);
        for dj in -1..=1i64 {
            for di in -1..=1i64 {
                let (i, j) = (ci + di, cj + dj);
                if i >= 0 && j >= 0 && (i as usize) < self.ni && (j as usize) < self.nj {
                    f(j as usize * self.ni + i as usize);
                }
            }
        }
    }
}

/// What one tile of one session produced, with the inputs it was made from (so that a
/// cache can tell whether it may be reused).
#[derive(Debug)]
pub(crate) struct TileOut<D> {
    /// `[r_lo, r_hi, scale, r_seed, x0, y0, x1, y1]` the tile was sampled with (radii near the
    /// tile, the session's scale, the seed lattice's radius and where sites may go).
    pub params: [f32; 8],
    /// The sites given to the tile's grid before it started: earlier sessions' sites near
    /// it and this session's sites of earlier-phase neighbours, each `[x, y, r]`.
    pub input: Vec<[f32; 3]>,
    /// The new sites, `[x, y, r]` in placement order.
    pub sites: Vec<[f32; 3]>,
    /// What the caller made of them (dots).
    pub made: D,
}

/// Results per session and tile (`None`: empty tile).
pub(crate) type TileResults<D> = Vec<Vec<Option<Arc<TileOut<D>>>>>;

/// The sessions' radius scales, the seed and the thread count of one run, and when to stop.
pub(crate) struct RunSpec<'a> {
    pub scales: &'a [f32],
    pub seed: u64,
    pub threads: usize,
    /// Asked before each tile; once it answers `true` no further tile starts and
    /// [`run`] gives `None` (a designer's edit superseded while it is drawn).
    pub stop: &'a (dyn Fn() -> bool + Sync),
}

/// A [`RunSpec::stop`] that never stops.
pub(crate) fn never() -> bool {
    false
}

/// Per-thread scratch memory, reused from tile to tile.
#[derive(Default)]
struct Scratch {
    cells: Cells,
    /// The conflict scan's chunks in cells, for reach `plan_reach`.
    plan: Vec<ChunkPlan>,
    plan_reach: usize,
    /// The same for the current tile's grid.
    chunks: Vec<Chunk>,
    pts: Vec<[f32; 3]>,
    active: Vec<(u32, u32)>,
    input: Vec<[f32; 3]>,
}

/// A tile's grid cells, one array per field: a site's position and its radius weighted by
/// [`SITE_WEIGHT`]; NaN where the cell is empty.
#[derive(Default)]
struct Cells {
    x: Vec<f32>,
    y: Vec<f32>,
    w: Vec<f32>,
}

/// Cells of one grid row that the conflict scan checks together.
const LANES: usize = 8;

/// [`LANES`] neighbouring cells of one grid row, from `(dx0, dy)` (relative to the candidate's
/// cell) to the right.
#[derive(Clone, Copy)]
struct ChunkPlan {
    dx0: i32,
    dy: i32,
    /// The smallest distance any of its cells within the reach can hold, in cells (the row's
    /// last chunk may run past the reach).
    first: f32,
}

/// A [`ChunkPlan`] on a tile's grid: `off` from the candidate's cell, its smallest distance in
/// mm.
#[derive(Clone, Copy)]
struct Chunk {
    off: isize,
    first: f32,
}

impl Scratch {
    /// A tile's grid over `outer` for radii `r_lo..=r_hi` (cells of side `r_lo / √2`, so a cell
    /// holds at most one site), with its planes emptied and the scan's chunks planned: the grid's
    /// geometry and the planes' length. Too many cells for one tile is an error. Inlined: called
    /// out of line, the tile's loop took 1.2 % more instructions (callgrind, the 100k patch).
    #[inline(always)]
    fn grid(&mut self, outer: Bounds, r_lo: f32, r_hi: f32) -> Result<(Grid, usize), PatternError> {
        let cell = r_lo / std::f32::consts::SQRT_2 * 0.9999;
        let reach = (r_hi / cell).ceil() as usize + 1;
        let pad = reach + 1;
        let w = ((outer.x1 - outer.x0) / cell).ceil().max(1.0) as u64 + 2 * pad as u64;
        let h = ((outer.y1 - outer.y0) / cell).ceil().max(1.0) as u64 + 2 * pad as u64;
        let total = w.saturating_mul(h);
        within_grid_cap("grid cells of a tile (tile area / smallest spacing²)", total)?;
        // Each row has `LANES` columns more on the right, and the grid a row more at the bottom,
        // so that a chunk of the conflict scan never runs off the grid.
        let nx = w as usize + LANES;
        let len = nx * (h as usize + 1);
        for plane in [&mut self.cells.x, &mut self.cells.y, &mut self.cells.w] {
            plane.clear();
            plane.resize(len, f32::NAN);
        }
        self.plan_chunks(reach, nx, cell);
        let grid = Grid {
            x0: outer.x0,
            y0: outer.y0,
            inv_cell: 1.0 / cell,
            nx,
            pad,
            half_hi: SITE_WEIGHT * r_hi,
        };
        Ok((grid, len))
    }

    /// The conflict scan's chunks for a grid of `nx` columns of `cell` mm: every cell within
    /// `reach` cells (its smallest distance, in cells, at most `reach`), row by row, sorted
    /// by the smallest distance they can hold, nearest rows first.
    fn plan_chunks(&mut self, reach: usize, nx: usize, cell: f32) {
        if self.plan_reach != reach || self.plan.is_empty() {
            self.plan.clear();
            let r = reach as i32;
            let dist = |dx: i32, dy: i32| -> f32 {
                let gx = (dx.unsigned_abs().saturating_sub(1)) as f32;
                let gy = (dy.unsigned_abs().saturating_sub(1)) as f32;
                (gx * gx + gy * gy).sqrt()
            };
            for dy in -r..=r {
                // The row's cells within reach: `|dx| <= k` (the distance grows with `|dx|`).
                let Some(k) = (0..=r).rev().find(|&dx| dist(dx, dy) <= reach as f32) else {
                    continue;
                };
                let mut dx0 = -k;
                while dx0 <= k {
                    let first = (dx0..(dx0 + LANES as i32).min(k + 1))
                        .map(|dx| dist(dx, dy))
                        .fold(f32::INFINITY, f32::min);
                    self.plan.push(ChunkPlan { dx0, dy, first });
                    dx0 += LANES as i32;
                }
            }
            self.plan.sort_by(|a, b| {
                a.first
                    .total_cmp(&b.first)
                    .then(a.dy.unsigned_abs().cmp(&b.dy.unsigned_abs()))
                    .then(b.dy.cmp(&a.dy))
                    .then(a.dx0.cmp(&b.dx0))
            });
            self.plan_reach = reach;
        }
        // Scaling by the cell keeps the order (and gives each distance exactly as
        // `distance in cells · cell`, the bound the scan has always used).
        self.chunks.clear();
        self.chunks.extend(self.plan.iter().map(|p| Chunk {
            off: p.dy as isize * nx as isize + p.dx0 as isize,
            first: p.first * cell,
        }));
    }
}

/// A job's place in the queue: session, phase, tile (the order the phases ran in when they
/// waited for each other), the smallest first.
type JobKey = Reverse<(usize, usize, usize)>;

/// The jobs of [`run`] whose inputs are done, and how many jobs are yet to finish.
struct Queue {
    ready: BinaryHeap<JobKey>,
    remaining: usize,
}

/// The tiles of a run as jobs, one a tile and session: which are sampled (in the domain and not
/// kept), and for each how many of the jobs its halo reads are not done yet — its neighbours
/// (itself included) in every earlier session, and its neighbours of earlier phases in its own.
struct Jobs<'a> {
    tiling: &'a Tiling,
    tiles: usize,
    sessions: usize,
    sampled: Vec<bool>,
    waiting: Vec<AtomicU32>,
}

impl<'a> Jobs<'a> {
    /// The jobs of `kept.len()` sessions over `tiling`; `kept[s][t]`: tile `t` of session `s`
    /// is kept as it was (done before the run starts).
    fn new(tiling: &'a Tiling, kept: &[Vec<bool>]) -> Jobs<'a> {
        let tiles = tiling.ni * tiling.nj;
        let sessions = kept.len();
        let sampled: Vec<bool> = (0..sessions * tiles)
            .map(|j| tiling.range[j % tiles].is_some() && !kept[j / tiles][j % tiles])
            .collect();
        let waiting = (0..sessions * tiles)
            .map(|j| {
                let (s, t) = (j / tiles, j % tiles);
                let mut n_deps = 0;
                if sampled[j] {
                    tiling.for_neighbours(t, |n| {
                        n_deps += (0..s).filter(|&s2| sampled[s2 * tiles + n]).count() as u32;
                        n_deps +=
                            u32::from(n != t && tiling.phase(n) < tiling.phase(t) && sampled[s * tiles + n]);
                    });
                }
                AtomicU32::new(n_deps)
            })
            .collect();
        Jobs {
            tiling,
            tiles,
            sessions,
            sampled,
            waiting,
        }
    }

    fn key(&self, s: usize, t: usize) -> JobKey {
        Reverse((s, self.tiling.phase(t), t))
    }

    /// How many jobs there are to run, and those ready from the start.
    fn start(&self) -> Queue {
        let mut queue = Queue {
            ready: BinaryHeap::new(),
            remaining: 0,
        };
        for j in (0..self.sampled.len()).filter(|&j| self.sampled[j]) {
            queue.remaining += 1;
            if self.waiting[j].load(Ordering::Relaxed) == 0 {
                queue.ready.push(self.key(j / self.tiles, j % self.tiles));
            }
        }
        queue
    }

    /// Job `(s, t)` is done: puts the jobs whose last input it was into `freed`.
    fn done(&self, s: usize, t: usize, freed: &mut Vec<JobKey>) {
        let mut free = |s2: usize, n: usize| {
            let j = s2 * self.tiles + n;
            if self.sampled[j] && self.waiting[j].fetch_sub(1, Ordering::AcqRel) == 1 {
                freed.push(self.key(s2, n));
            }
        };
        self.tiling.for_neighbours(t, |n| {
            (s + 1..self.sessions).for_each(|s2| free(s2, n));
            if n != t && self.tiling.phase(n) > self.tiling.phase(t) {
                free(s, n);
            }
        });
    }
}

/// Calls its function when dropped during a panic.
struct OnPanic<'a>(&'a dyn Fn());

impl Drop for OnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            (self.0)();
        }
    }
}

/// Runs every session over every tile. `reuse(session, tile, params, input)` may hand back
/// an earlier result made from the same inputs; `make(session, tile, sites)` turns a tile's
/// new sites into the caller's output (run on the worker thread). `None` when
/// [`RunSpec::stop`] asked to stop: every thread finishes the tile it is on and starts no
/// other, and threads waiting for a ready tile are woken to end.
///
/// `keep(session, tile)` is for a drag's preview: a result it hands back is taken as it is,
/// whatever the tile's halo now holds, and the tiles sampled afresh see its sites in their
/// halo whatever its phase, so that no two sites of a session come closer than the rule
/// allows across any border. An exact run keeps nothing (`|_, _| None`).
pub(crate) fn run<F, D, R, K, M>(
    field: &F,
    tiling: &Tiling,
    spec: &RunSpec<'_>,
    reuse: R,
    keep: K,
    make: M,
) -> Result<Option<TileResults<D>>, PatternError>
where
    F: SiteField,
    D: Send + Sync,
    R: Fn(usize, usize, &[f32; 8], &[[f32; 3]]) -> Option<Arc<TileOut<D>>> + Sync,
    K: Fn(usize, usize) -> Option<Arc<TileOut<D>>>,
    M: Fn(usize, usize, &[[f32; 3]]) -> D + Sync,
{
    type Slot<D> = OnceLock<Result<Option<Arc<TileOut<D>>>, PatternError>>;
    let sessions = spec.scales.len();
    let tiles = tiling.ni * tiling.nj;
    let slots: Vec<Vec<Slot<D>>> = (0..sessions)
        .map(|_| (0..tiles).map(|_| OnceLock::new()).collect())
        .collect();
    // The tiles kept as they were (a preview), known before any tile is sampled.
    let mut kept = vec![vec![false; tiles]; sessions];
    for (s, row) in kept.iter_mut().enumerate() {
        for (k, is_kept) in row.iter_mut().enumerate() {
            if tiling.range[k].is_some()
                && let Some(o) = keep(s, k)
            {
                let _ = slots[s][k].set(Ok(Some(o)));
                *is_kept = true;
            }
        }
    }
    // Each tile of each session is a job, started as soon as what its halo reads is done.
    // No barrier between phases or sessions, so a thread never waits for a phase's slowest
    // tile while another tile's inputs are ready; what a tile reads is the same whatever order
    // the jobs run in, so its result is too.
    let jobs = Jobs::new(tiling, &kept);
    let queue = jobs.start();
    let queue = Mutex::new(queue);
    let wake = Condvar::new();
    let threads = spec.threads.clamp(1, MAX_THREADS);
    let stopped = AtomicBool::new(false);
    let done = |s: usize, n: usize| -> Option<&Arc<TileOut<D>>> {
        slots[s][n]
            .get()
            .and_then(|r| r.as_ref().ok())
            .and_then(|o| o.as_ref())
    };
    // Ends every thread's wait: the run was asked to stop, or a thread panicked (the panic
    // then reaches the caller through the scope).
    let halt = || {
        stopped.store(true, Ordering::Relaxed);
        let _guard = queue.lock().unwrap_or_else(PoisonError::into_inner);
        wake.notify_all();
    };
    let work = |scratch: &mut Scratch| {
        let _on_panic = OnPanic(&halt);
        let mut freed = Vec::new();
        loop {
            let (s, _, t) = {
                let mut q = queue.lock().unwrap_or_else(PoisonError::into_inner);
                loop {
                    if q.remaining == 0 || stopped.load(Ordering::Relaxed) {
                        return;
                    }
                    if let Some(Reverse(next)) = q.ready.pop() {
                        break next;
                    }
                    q = wake.wait(q).unwrap_or_else(PoisonError::into_inner);
                }
            };
            if (spec.stop)() {
                halt();
                return;
            }
            let out = tile(
                field,
                tiling,
                spec,
                (s, t),
                &kept[s],
                scratch,
                &done,
                &reuse,
                &make,
            );
            // Each slot is set once, by the thread that took its tile.
            let _ = slots[s][t].set(out);
            // The jobs whose last input this was.
            freed.clear();
            jobs.done(s, t, &mut freed);
            let mut q = queue.lock().unwrap_or_else(PoisonError::into_inner);
            q.remaining -= 1;
            q.ready.extend(freed.drain(..));
            if q.remaining == 0 || !q.ready.is_empty() {
                wake.notify_all();
            }
        }
    };
    if threads == 1 {
        work(&mut Scratch::default());
    } else {
        std::thread::scope(|scope| {
            for _ in 1..threads {
                scope.spawn(|| work(&mut Scratch::default()));
            }
            work(&mut Scratch::default());
        });
    }
    if stopped.into_inner() {
        return Ok(None);
    }
    let mut out: TileResults<D> = Vec::with_capacity(sessions);
    for row in slots {
        let mut r = Vec::with_capacity(tiles);
        for slot in row {
            r.push(match slot.into_inner() {
                Some(res) => res?,
                None => None,
            });
        }
        out.push(r);
    }
    Ok(Some(out))
}

/// Samples tile `t` of session `s` (or reuses an earlier result). `kept` marks the tiles of
/// the session kept as they were: their sites are in the halo whatever their phase.
#[allow(clippy::too_many_arguments)]
fn tile<'a, F, D, R, M>(
    field: &F,
    tiling: &Tiling,
    spec: &RunSpec<'_>,
    (s, t): (usize, usize),
    kept: &[bool],
    sc: &mut Scratch,
    done: &impl Fn(usize, usize) -> Option<&'a Arc<TileOut<D>>>,
    reuse: &R,
    make: &M,
) -> Result<Option<Arc<TileOut<D>>>, PatternError>
where
    F: SiteField,
    D: 'a,
    R: Fn(usize, usize, &[f32; 8], &[[f32; 3]]) -> Option<Arc<TileOut<D>>>,
    M: Fn(usize, usize, &[[f32; 3]]) -> D,
{
    let (Some((lo_near, hi_near)), Some((lo_own, _))) = (tiling.near[t], tiling.range[t]) else {
        return Ok(None);
    };
    let scale = spec.scales[s];
    let (r_lo, r_hi) = (lo_near * scale, hi_near * scale);
    if !(r_lo > 0.0 && r_hi >= r_lo && r_hi.is_finite()) {
        return Ok(None);
    }
    let rect = tiling.rect(t);
    let own = rect.intersect(tiling.bounds);
    let outer = rect.grow(r_hi);
    let phase = tiling.phase(t);
    // The halo: earlier sessions' sites near the tile (their radius at this session's
    // scale) and this session's sites of earlier-phase neighbours (and of kept ones).
    sc.input.clear();
    tiling.for_neighbours(t, |n| {
        for s2 in 0..s {
            if let Some(o) = done(s2, n) {
                for p in &o.sites {
                    if outer.contains(p[0], p[1]) {
                        let r = field.radius(p[0], p[1]) * scale;
                        let r = if r > 0.0 { r.clamp(r_lo, r_hi) } else { r_lo };
                        sc.input.push([p[0], p[1], r]);
                    }
                }
            }
        }
        if n != t
            && (tiling.phase(n) < phase || kept[n])
            && let Some(o) = done(s, n)
        {
            sc.input
                .extend(o.sites.iter().filter(|p| outer.contains(p[0], p[1])));
        }
    });
    let r_seed = lo_own * scale;
    let params = [r_lo, r_hi, scale, r_seed, own.x0, own.y0, own.x1, own.y1];
    if let Some(prev) = reuse(s, t, &params, &sc.input) {
        return Ok(Some(prev));
    }
    let (i, j) = tiling.coords(t);
    let mut rng = stream(spec.seed, tile_stream(s, i, j, 0));
    let sites = sample_tile(
        field,
        own,
        outer,
        r_lo,
        r_hi,
        scale,
        r_seed,
        &tiling.seeds[t],
        sc,
        &mut rng,
    )?;
    let made = make(s, t, &sites);
    Ok(Some(Arc::new(TileOut {
        params,
        input: sc.input.clone(),
        sites,
        made,
    })))
}

/// The advancing front inside one tile. `own` is where sites may go, `outer` the tile with
/// its halo; `sc.input` holds the halo's sites.
#[allow(clippy::too_many_arguments)]
fn sample_tile<F: SiteField>(
    field: &F,
    own: Bounds,
    outer: Bounds,
    r_lo: f32,
    r_hi: f32,
    scale: f32,
    r_seed: f32,
    seeds: &[[f32; 2]],
    sc: &mut Scratch,
    rng: &mut Pcg64Mcg,
) -> Result<Vec<[f32; 3]>, PatternError> {
    let (grid, len) = sc.grid(outer, r_lo, r_hi)?;
    let Scratch {
        cells,
        chunks,
        pts,
        active,
        input,
        ..
    } = sc;
    let mut cells = cells.planes(len);
    let front = Front {
        field,
        own,
        scale,
        r_lo,
        r_hi,
        grid,
        chunks,
    };
    pts.clear();
    active.clear();
    for p in input.iter() {
        let c = front.grid.index(p[0], p[1]);
        // Sites of the halo never conflict with each other; if rounding ever puts two in one
        // cell the second is kept as a proposer but not indexed.
        if cells.x[c].is_nan() {
            cells.set(c, p[0], p[1], SITE_WEIGHT * p[2]);
        }
        active.push((pts.len() as u32, NO_PARENT));
        pts.push(*p);
    }
    let first_new = pts.len();
    for s in seeds {
        front.try_accept(s[0], s[1], NO_PARENT, &mut cells, pts, active);
    }
    let step = SEED_STEP_RADII * r_seed.max(r_lo);
    if step > 0.0 && step.is_finite() {
        let nxs = (((own.x1 - own.x0) / step).ceil() as usize).max(1);
        let nys = (((own.y1 - own.y0) / step).ceil() as usize).max(1);
        for jy in 0..nys {
            for ix in 0..nxs {
                let b = rng.next_u64();
                let x = own.x0 + (ix as f32 + unit_f32(b as u32)) * step;
                let y = own.y0 + (jy as f32 + unit_f32((b >> 32) as u32)) * step;
                front.try_accept(x, y, NO_PARENT, &mut cells, pts, active);
            }
        }
    }
    while !active.is_empty() {
        let len = active.len();
        let bits = rng.next_u64();
        // `bits % len.min(ACTIVE_WINDOW)`, without a division for a full window.
        let pick = if len >= ACTIVE_WINDOW {
            (bits as u32 as usize) & (ACTIVE_WINDOW - 1)
        } else {
            (bits as u32 as usize) % len
        };
        let slot = len - 1 - pick;
        let (site, parent) = active[slot];
        let p = pts[site as usize];
        active.swap_remove(slot);
        // The site's parent (the site that proposed it) refuses every candidate closer than
        // its weighted radius plus the smallest half a candidate can have: such a candidate is
        // refused here without the scan, as the scan would refuse it. No parent: nothing is.
        let (px, py, reach2) = match pts.get(parent as usize) {
            Some(&q) => (q[0], q[1], parent_reach2(q, r_lo)),
            None => (0.0, 0.0, 0.0),
        };
        // The pick's draw turns the sectors (its high half); each candidate's word gives its
        // direction within its sector and its distance, three words to a draw.
        let turn = (bits >> 32) as usize;
        let (mut words, mut left) = (0u64, 0);
        for start in SECTORS {
            if left == 0 {
                (words, left) = (rng.next_u64(), WORDS_PER_DRAW);
            }
            let (x, y) = candidate(p, turn + usize::from(start), words);
            words >>= WORD_BITS;
            left -= 1;
            let (dx, dy) = (x - px, y - py);
            if dx * dx + dy * dy < reach2 {
                continue;
            }
            front.try_accept(x, y, site, &mut cells, pts, active);
        }
    }
    Ok(pts[first_new..].to_vec())
}

/// The square of the distance within which the placed site `q = [x, y, r]` conflicts with
/// every candidate of a tile whose radii are at least `r_lo`: its stored weighted radius plus
/// the smallest `(1 − w)·r` a candidate can have. Each step rounds the way the scan's do on
/// numbers no larger, so a candidate inside it is one the scan refuses (tested).
#[inline(always)]
fn parent_reach2(q: [f32; 3], r_lo: f32) -> f32 {
    let reach = SITE_WEIGHT * q[2] + (1.0 - SITE_WEIGHT) * r_lo;
    reach * reach
}

/// Bits of a candidate's word that choose its direction.
const DIR_BITS: u32 = 10;
/// Directions a candidate may take from its active site.
const DIRS: usize = 1 << DIR_BITS;
/// Bits of the word that choose its distance.
const DIST_BITS: u32 = 11;
/// Distances a candidate may lie at from its active site.
const DISTS: usize = 1 << DIST_BITS;
/// Bits of a candidate's word: a 64-bit draw holds [`WORDS_PER_DRAW`] of them.
const WORD_BITS: u32 = DIR_BITS + DIST_BITS;
const WORDS_PER_DRAW: u32 = 64 / WORD_BITS;

/// `2^DIR_BITS` unit vectors `[cos, sin]`, evenly around the circle from half a step past the
/// x axis. Computed at compile time by Taylor series in `f64` and rounded to `f32`, so the
/// table (and every pattern drawn from it) is the same on every machine and with any `libm`.
static DIRECTIONS: [[f32; 2]; DIRS] = directions();

/// `2^DIST_BITS` distances in units of `r`, `sqrt(1 + u · (ANNULUS_OUTER² − 1))` at the middle
/// `u` of each of as many equal steps: a distance drawn from them at random is uniform by area
/// in the annulus `[r, ANNULUS_OUTER · r]` (to a step of about 2·10⁻⁴ r). Computed at compile
/// time, like [`DIRECTIONS`].
static DISTANCES: [f32; DISTS] = distances();

const fn directions() -> [[f32; 2]; DIRS] {
    let mut out = [[0.0f32; 2]; DIRS];
    let mut i = 0;
    while i < DIRS {
        // θ − π, in [−π, π): cos θ = −cos(θ − π), sin θ = −sin(θ − π).
        let a = (i as f64 + 0.5) * (2.0 * std::f64::consts::PI / DIRS as f64) - std::f64::consts::PI;
        let (s, c) = sin_cos_taylor(a);
        out[i] = [-c as f32, -s as f32];
        i += 1;
    }
    out
}

const fn distances() -> [f32; DISTS] {
    let outer = ANNULUS_OUTER as f64;
    let mut out = [0.0f32; DISTS];
    let mut i = 0;
    while i < DISTS {
        let u = (i as f64 + 0.5) / DISTS as f64;
        out[i] = sqrt_newton(1.0 + u * (outer * outer - 1.0)) as f32;
        i += 1;
    }
    out
}

/// `sin a` and `cos a` for `|a| ≤ π` by their Taylor series to well below `f64` precision.
const fn sin_cos_taylor(a: f64) -> (f64, f64) {
    let (mut s, mut c) = (0.0, 0.0);
    let (mut ts, mut tc) = (a, 1.0);
    let mut k = 1;
    while k < 40 {
        s += ts;
        c += tc;
        let kf = k as f64;
        ts *= -a * a / ((2.0 * kf) * (2.0 * kf + 1.0));
        tc *= -a * a / ((2.0 * kf - 1.0) * (2.0 * kf));
        k += 1;
    }
    (s, c)
}

/// `√v` for `v` in `[1, 4]` by Newton's iteration from 1.5 (converged far below `f32`
/// precision after 8 steps).
const fn sqrt_newton(v: f64) -> f64 {
    let mut x = 1.5;
    let mut k = 0;
    while k < 8 {
        x = 0.5 * (x + v / x);
        k += 1;
    }
    x
}

/// Where each candidate's sector starts, in directions, in the order the candidates are tried:
/// [`CANDIDATES`] equal sectors of the circle, every other one first (0, 2, 4, 1, 3 of five), so
/// that each candidate of a pick is at least a sector away from the one before it (with equal
/// radii, two candidates a sector apart cannot refuse each other).
const SECTORS: [u16; CANDIDATES as usize] = sectors();
/// Directions in a sector (rounded up: neighbouring sectors share at most one direction).
const SECTOR_DIRS: usize = DIRS.div_ceil(CANDIDATES as usize);

const fn sectors() -> [u16; CANDIDATES as usize] {
    let k = CANDIDATES as usize;
    let mut out = [0u16; CANDIDATES as usize];
    let mut t = 0;
    while t < k {
        out[t] = ((t * 2 % k) * DIRS / k) as u16;
        t += 1;
    }
    out
}

/// A candidate around the site `p = [x, y, r]` in the sector starting `sector` directions from
/// the x axis, uniform by area in the sector's part of the annulus `[r, ANNULUS_OUTER · r]`,
/// from the low [`WORD_BITS`] bits of `word`: [`DIR_BITS`] choose the direction within the
/// sector, [`DIST_BITS`] one of [`DISTS`] distances. Two table reads, no rejection, no
/// trigonometry and no square root.
#[inline(always)]
fn candidate(p: [f32; 3], sector: usize, word: u64) -> (f32, f32) {
    let within = (((word as usize >> DIST_BITS) & (DIRS - 1)) * SECTOR_DIRS) >> DIR_BITS;
    let [cx, cy] = DIRECTIONS[(sector + within) & (DIRS - 1)];
    let d = p[2] * DISTANCES[word as usize & (DISTS - 1)];
    (p[0] + d * cx, p[1] + d * cy)
}

/// The parent of a site no site proposed (the halo's, seeds).
const NO_PARENT: u32 = u32::MAX;

impl Cells {
    /// The first `len` cells of each plane. One length for the three, so one bounds check
    /// covers all three.
    #[inline(always)]
    fn planes(&mut self, len: usize) -> CellsMut<'_> {
        CellsMut {
            x: &mut self.x[..len],
            y: &mut self.y[..len],
            w: &mut self.w[..len],
        }
    }
}

/// The three planes of a tile's grid, of one length.
struct CellsMut<'a> {
    x: &'a mut [f32],
    y: &'a mut [f32],
    w: &'a mut [f32],
}

impl CellsMut<'_> {
    #[inline(always)]
    fn set(&mut self, c: usize, x: f32, y: f32, w: f32) {
        self.x[c] = x;
        self.y[c] = y;
        self.w[c] = w;
    }
}

/// What deciding on a candidate needs: where sites may go, their radius, the grid.
struct Front<'a, F> {
    field: &'a F,
    own: Bounds,
    scale: f32,
    r_lo: f32,
    r_hi: f32,
    grid: Grid,
    chunks: &'a [Chunk],
}

impl<F: SiteField> Front<'_, F> {
    /// The site radius at `(x, y)`, or `None` where no site may go.
    #[inline(always)]
    fn radius(&self, x: f32, y: f32) -> Option<f32> {
        if !self.own.contains(x, y) {
            return None;
        }
        let r = self.field.radius(x, y) * self.scale;
        // NaN compares false; `0 < r_lo <= r_hi` (checked per tile), so a clamped radius is
        // positive.
        (r > 0.0).then(|| r.clamp(self.r_lo, self.r_hi))
    }

    /// Places a site at `(x, y)`, proposed by the site `parent` ([`NO_PARENT`] for none),
    /// unless it is outside the domain or conflicts.
    #[inline(always)]
    fn try_accept(
        &self,
        x: f32,
        y: f32,
        parent: u32,
        cells: &mut CellsMut<'_>,
        pts: &mut Vec<[f32; 3]>,
        active: &mut Vec<(u32, u32)>,
    ) -> bool {
        let Some(r) = self.radius(x, y) else {
            return false;
        };
        let c = self.grid.index(x, y);
        if self
            .grid
            .conflicts(cells, self.chunks, c, x, y, (1.0 - SITE_WEIGHT) * r)
        {
            return false;
        }
        cells.set(c, x, y, SITE_WEIGHT * r);
        active.push((pts.len() as u32, parent));
        pts.push([x, y, r]);
        true
    }
}

/// Geometry of a tile's grid (the cells live in the scratch).
struct Grid {
    x0: f32,
    y0: f32,
    inv_cell: f32,
    nx: usize,
    pad: usize,
    /// The largest radius near the tile weighted by [`SITE_WEIGHT`]: the farthest any
    /// conflict can be is `(1 − SITE_WEIGHT)·r + half_hi`.
    half_hi: f32,
}

impl Grid {
    /// The cell of `(x, y)`, which lies inside the tile's halo (so the scaled offsets are
    /// non-negative and far below 2³², and `as u32` truncates them as `as usize` would).
    #[inline(always)]
    fn index(&self, x: f32, y: f32) -> usize {
        let gx = ((x - self.x0) * self.inv_cell) as u32 as usize + self.pad;
        let gy = ((y - self.y0) * self.inv_cell) as u32 as usize + self.pad;
        gy * self.nx + gx
    }

    /// Whether a stored site lies closer than its stored weighted radius plus `half` to `(x, y)`:
    /// every cell whose smallest distance is below `half + half_hi` is checked (in any order,
    /// so the answer does not depend on it), a chunk of [`LANES`] cells at a time.
    #[inline(always)]
    fn conflicts(
        &self,
        cells: &CellsMut<'_>,
        chunks: &[Chunk],
        base: usize,
        x: f32,
        y: f32,
        half: f32,
    ) -> bool {
        let reach = half + self.half_hi;
        for ch in chunks {
            if ch.first >= reach {
                break;
            }
            // The border of empty cells makes every chunk within reach valid.
            let s = base.wrapping_add_signed(ch.off);
            let (cx, cy, cw) = (
                &cells.x[s..s + LANES],
                &cells.y[s..s + LANES],
                &cells.w[s..s + LANES],
            );
            let mut hit = false;
            for ((&px, &py), &pw) in cx.iter().zip(cy).zip(cw) {
                let (dx, dy) = (px - x, py - y);
                let m = pw + half;
                // NaN (empty) compares false. A site in a cell beyond the reach lies at least
                // `reach ≥ pw + half` away, so it never conflicts: the chunk's cells past the
                // reach need no mask.
                hit |= dx * dx + dy * dy < m * m;
            }
            if hit {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The compile-time table agrees with the platform's `sin`/`cos` to `f32` rounding, and
    /// its directions are evenly spread (each quadrant holds a quarter).
    #[test]
    fn directions_are_the_unit_circle() {
        for (i, d) in DIRECTIONS.iter().enumerate() {
            let a = (i as f64 + 0.5) * (2.0 * std::f64::consts::PI / DIRS as f64);
            assert!(
                (f64::from(d[0]) - a.cos()).abs() < 1e-7,
                "cos at {i}: {} vs {}",
                d[0],
                a.cos()
            );
            assert!(
                (f64::from(d[1]) - a.sin()).abs() < 1e-7,
                "sin at {i}: {} vs {}",
                d[1],
                a.sin()
            );
        }
        for q in 0..4 {
            let n = DIRECTIONS
                .iter()
                .filter(|d| usize::from(d[0] < 0.0) * 2 + usize::from(d[1] < 0.0) == q)
                .count();
            assert_eq!(n, DIRS / 4, "quadrant {q}");
        }
    }

    /// Candidates fall in the annulus `[r, 1.5 r]`, uniformly by area: the share inside the
    /// middle radius that halves the annulus' area is a half, and so is the share of each
    /// half-plane.
    #[test]
    fn candidates_fill_the_annulus_by_area() {
        let mut rng = stream(3, 4);
        let p = [10.0f32, -5.0, 2.0];
        let mid = p[2] * ((1.0 + ANNULUS_OUTER * ANNULUS_OUTER) / 2.0).sqrt();
        let (mut inner, mut right, n) = (0usize, 0usize, 200_000);
        for _ in 0..n {
            let turn = rng.next_u32() as usize;
            let (x, y) = candidate(p, turn + usize::from(SECTORS[0]), rng.next_u64());
            let d = ((x - p[0]).powi(2) + (y - p[1]).powi(2)).sqrt();
            assert!(d >= p[2] * 0.9999 && d <= p[2] * ANNULUS_OUTER * 1.0001, "{d}");
            inner += usize::from(d < mid);
            right += usize::from(x > p[0]);
        }
        for share in [inner, right].map(|c| c as f64 / n as f64) {
            assert!((share - 0.5).abs() < 0.005, "{share}");
        }
    }

    /// The sectors tile the circle: each direction falls in one sector (two where neighbours
    /// share their edge direction), each sector is tried once, and consecutive candidates are
    /// not in neighbouring sectors.
    #[test]
    fn sectors_cover_the_circle_once() {
        let mut hits = vec![0u32; DIRS];
        for &start in &SECTORS {
            for within in 0..SECTOR_DIRS {
                hits[(usize::from(start) + within) & (DIRS - 1)] += 1;
            }
        }
        assert!(hits.iter().all(|&h| (1..=2).contains(&h)), "{hits:?}");
        assert!(hits.iter().filter(|&&h| h == 2).count() < CANDIDATES as usize);
        let width = DIRS / CANDIDATES as usize;
        let mut sorted = SECTORS;
        sorted.sort_unstable();
        for (t, &start) in sorted.iter().enumerate() {
            assert_eq!(usize::from(start), t * DIRS / CANDIDATES as usize, "{SECTORS:?}");
        }
        for pair in SECTORS.windows(2) {
            let apart = usize::from(pair[0].abs_diff(pair[1]));
            assert!(apart.min(DIRS - apart) > width + 1, "{SECTORS:?}");
        }
        // The largest `within` a word can give is the sector's last direction.
        assert_eq!(((DIRS - 1) * SECTOR_DIRS) >> DIR_BITS, SECTOR_DIRS - 1);
    }

    /// Whatever order the ready jobs are taken in, a job is ready only once every tile its
    /// halo reads (see [`tile`]) is done, every sampled job runs once, and kept and empty tiles
    /// never do: so a tile reads what it read when the phases waited at barriers.
    #[test]
    fn a_job_is_ready_only_when_what_its_halo_reads_is_done() {
        let (ni, nj, sessions) = (7, 6, 3);
        let tiles = ni * nj;
        let mut rng = stream(11, 12);
        for round in 0..100 {
            // Some tiles outside the domain, some kept as they were.
            let range: Vec<Option<(f32, f32)>> = (0..tiles)
                .map(|_| (!rng.next_u32().is_multiple_of(7)).then_some((1.0, 1.0)))
                .collect();
            let kept: Vec<Vec<bool>> = (0..sessions)
                .map(|_| {
                    (0..tiles)
                        .map(|_| round % 2 == 1 && rng.next_u32().is_multiple_of(2))
                        .collect()
                })
                .collect();
            let tiling = Tiling {
                side: TILE_MM,
                i0: -3,
                j0: -2,
                ni,
                nj,
                bounds: Bounds {
                    x0: -3.0 * TILE_MM,
                    y0: -2.0 * TILE_MM,
                    x1: 4.0 * TILE_MM,
                    y1: 4.0 * TILE_MM,
                },
                near: range.clone(),
                range,
                seeds: vec![Vec::new(); tiles],
            };
            let jobs = Jobs::new(&tiling, &kept);
            let sampled = |s: usize, t: usize| tiling.range[t].is_some() && !kept[s][t];
            let mut queue = jobs.start();
            let expected = (0..sessions * tiles)
                .filter(|&j| sampled(j / tiles, j % tiles))
                .count();
            assert_eq!(queue.remaining, expected);
            let mut ready: Vec<JobKey> = queue.ready.drain().collect();
            let mut done = vec![vec![false; tiles]; sessions];
            let mut ran = 0;
            let mut freed = Vec::new();
            while !ready.is_empty() {
                // At random, or (every other pick) the latest session's, phase's and tile's
                // first: the order most likely to run a job before an input it lacks.
                let pick = if rng.next_u32().is_multiple_of(2) {
                    rng.next_u32() as usize % ready.len()
                } else {
                    (0..ready.len()).min_by_key(|&k| ready[k]).unwrap_or(0)
                };
                let Reverse((s, _, t)) = ready.swap_remove(pick);
                assert!(
                    sampled(s, t) && !done[s][t],
                    "job ({s}, {t}) ready twice or not sampled"
                );
                tiling.for_neighbours(t, |n| {
                    for (s2, done) in done.iter().enumerate().take(s) {
                        assert!(!sampled(s2, n) || done[n], "({s}, {t}) before ({s2}, {n})");
                    }
                    if n != t && tiling.phase(n) < tiling.phase(t) {
                        assert!(!sampled(s, n) || done[s][n], "({s}, {t}) before ({s}, {n})");
                    }
                });
                done[s][t] = true;
                ran += 1;
                freed.clear();
                jobs.done(s, t, &mut freed);
                ready.append(&mut freed);
            }
            assert_eq!(ran, expected, "every sampled job runs (round {round})");
        }
    }

    /// A candidate inside [`parent_reach2`] of a placed site is one the grid's scan refuses,
    /// whatever the candidate's radius in the tile's range; and the early refusal is not
    /// vacuous (it takes a good share of the candidates round a site).
    #[test]
    fn the_parents_early_refusal_is_the_scans() {
        let mut rng = stream(7, 8);
        let (r_lo, r_hi) = (0.8f32, 1.3f32);
        let outer = Bounds {
            x0: 0.0,
            y0: 0.0,
            x1: 12.0,
            y1: 12.0,
        };
        let mut sc = Scratch::default();
        let (mut early, mut tries) = (0u32, 0u32);
        for _ in 0..200 {
            // A fresh, empty grid for each site, as a tile starts with.
            let (grid, len) = sc.grid(outer, r_lo, r_hi).unwrap();
            let mut cells = sc.cells.planes(len);
            let u = |b: u64| unit_f32(b as u32);
            let q = [
                4.0 + 4.0 * u(rng.next_u64()),
                4.0 + 4.0 * u(rng.next_u64()),
                r_lo + (r_hi - r_lo) * u(rng.next_u64()),
            ];
            cells.set(grid.index(q[0], q[1]), q[0], q[1], SITE_WEIGHT * q[2]);
            let reach2 = parent_reach2(q, r_lo);
            for _ in 0..500 {
                let (cx, cy) = (
                    q[0] + 3.0 * (u(rng.next_u64()) - 0.5),
                    q[1] + 3.0 * (u(rng.next_u64()) - 0.5),
                );
                let r = r_lo + (r_hi - r_lo) * u(rng.next_u64());
                let (dx, dy) = (cx - q[0], cy - q[1]);
                tries += 1;
                if dx * dx + dy * dy < reach2 {
                    early += 1;
                    let c = grid.index(cx, cy);
                    let half = (1.0 - SITE_WEIGHT) * r;
                    assert!(
                        grid.conflicts(&cells, &sc.chunks, c, cx, cy, half),
                        "{q:?} refused ({cx}, {cy}) r {r} early, the scan did not"
                    );
                }
            }
        }
        assert!(early > tries / 5, "{early} of {tries}");
    }

    #[test]
    fn distances_are_square_roots() {
        for (i, &d) in DISTANCES.iter().enumerate() {
            let u = (i as f64 + 0.5) / DISTS as f64;
            let want = (1.0 + u * f64::from(ANNULUS_OUTER * ANNULUS_OUTER - 1.0)).sqrt();
            assert!((f64::from(d) - want).abs() < 1e-6, "{i}: {d} vs {want}");
        }
        assert!(DISTANCES[0] >= 1.0 && DISTANCES[DISTS - 1] <= ANNULUS_OUTER);
    }
}
