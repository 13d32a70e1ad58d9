//! The finished pattern: dots, zones, statistics, and its JSON, CSV and SVG forms.

use std::fmt::Write as _;
use std::io::Write;

use follicle_core::ZoneKind;
use serde::{Deserialize, Serialize};

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::PatternError;

use crate::field::{MapField, ZoneMap};
use crate::geometry::{Head, Landmarks};
use crate::hairline::Hairline;
use crate::request::PatternRequest;
use crate::sampler::{self, MAX_THREADS, RunSpec, TileResults, Tiling, default_threads};
use crate::units::{self, DirectionField};
use crate::zones::{self, Outline, ZonePolygon, ZonesSpec};
use crate::{polygon, zones::ZoneSpec};

/// Most dots one pattern may hold (all sessions). A full Norwood VII scalp at the
/// default densities is about 30,000; the cap leaves room for dense custom designs
/// while bounding memory and time (about 1 s at the sampler's speed).
pub const MAX_DOTS: u64 = 1_000_000;

/// A zone whose bounding box is at most this wide and high (mm) is seeded at its centre (see
/// [`layout`]): about the sampler's seed lattice spacing at the sparsest first session, so a
/// zone that could fall between the lattice's seeds still gets one.
const SMALL_ZONE_MM: f64 = 12.0;

/// Radius correction per unit of "previous / current fraction" for incremental sessions
/// (see [`generate`]); measured.
const FILL_CORRECTION: f64 = 0.16;

/// One pigment dot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dot {
    /// Chart position, mm (x towards the right ear, y forwards, vertex at 0).
    pub x_mm: f64,
    /// Chart position, mm.
    pub y_mm: f64,
    /// Position on the head surface, mm.
    pub surface_mm: [f64; 3],
    /// Session that places it (1-based).
    pub session: u8,
    /// Zone it belongs to.
    pub zone: ZoneKind,
    /// Follicular unit (site) index; dots of a unit share it.
    pub unit: u32,
    /// Dots in its unit (1–4).
    pub unit_size: u8,
    /// Hair direction on the chart, degrees counter-clockwise from +x.
    pub direction_deg: f64,
    /// Needle (fresh dot) diameter, mm.
    pub diameter_mm: f64,
    /// Pigment strength, 0–1.
    pub shade: f64,
}

/// Statistics of one zone after one session (cumulative).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ZoneStats {
    /// The zone.
    pub zone: ZoneKind,
    /// The session (1-based).
    pub session: u8,
    /// Treated area of the zone, cm² (exact on the surface).
    pub area_cm2: f64,
    /// Dots in the zone up to and including this session.
    pub dots: u64,
    /// Dots this session adds.
    pub new_dots: u64,
    /// Target density, dots/cm²: the density field integrated over the zone (transition
    /// band and blends included) divided by its area.
    pub target_density_per_cm2: f64,
    /// Achieved density, dots/cm².
    pub density_per_cm2: f64,
    /// Relative density error, (achieved − target) / target.
    pub density_error: f64,
    /// Hours this session spends on the zone at the request's `dots_per_hour`.
    pub hours: f64,
}

/// Statistics of one session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionStats {
    /// The session (1-based).
    pub session: u8,
    /// Cumulative fraction of the final density.
    pub fraction: f64,
    /// Dots this session adds.
    pub new_dots: u64,
    /// Dots after this session.
    pub total_dots: u64,
    /// Estimated hours of needle work.
    pub hours: f64,
}

/// Statistics of a pattern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PatternStats {
    /// Whole scalp (inside the outline), cm².
    pub scalp_area_cm2: f64,
    /// Treated area, cm².
    pub treated_area_cm2: f64,
    /// Per session.
    pub sessions: Vec<SessionStats>,
    /// Per zone and session.
    pub zones: Vec<ZoneStats>,
    /// Achieved share of 1-, 2-, 3- and 4-dot units outside the hairline band, percent.
    pub fu_mix_percent: [f64; 4],
}

/// A generated pattern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pattern {
    /// The head model.
    pub head: Head,
    /// Its landmarks.
    pub landmarks: Landmarks,
    /// The hairline.
    pub hairline: Hairline,
    /// The scalp outline (chart mm).
    pub outline: Vec<[f64; 2]>,
    /// Zone polygons, lowest priority first.
    pub zones: Vec<ZonePolygon>,
    /// Exclusion polygons.
    pub exclusions: Vec<Vec<[f64; 2]>>,
    /// Number of sessions.
    pub sessions: u8,
    /// Every dot, session by session (earlier sessions first).
    pub dots: Vec<Dot>,
    /// Statistics.
    pub stats: PatternStats,
}

/// `v` rounded to three decimals: a micrometre of a length in mm, a thousandth of a degree.
fn round3(v: f64) -> f64 {
    round_half_away(v * 1000.0) / 1000.0
}

/// [`f64::round`] to the bit, without its library call: without SSE4.1 in the baseline target
/// `round` is a function call, and every dot rounds six numbers (and the server's binary records
/// five more). Below 2⁵² the truncation is the integer conversion, and `x − trunc(x)` is exact.
#[inline]
pub fn round_half_away(x: f64) -> f64 {
    if x.is_nan() || x.abs() >= 4_503_599_627_370_496.0 {
        return x.round();
    }
    let t = ((x as i64) as f64).copysign(x);
    if (x - t).abs() >= 0.5 {
        t + 1f64.copysign(x)
    } else {
        t
    }
}

/// Everything drawn before the first dot: the head, its hairline, the zones and the density
/// field. [`generate`] samples dots from it; [`crate::treatment`] measures it for the planner.
pub(crate) struct Layout {
    pub head: Head,
    pub landmarks: Landmarks,
    pub hairline: Hairline,
    pub outline: Vec<[f64; 2]>,
    pub zones: Vec<ZoneSpec>,
    pub exclusions: Vec<Vec<[f64; 2]>>,
    pub seed_points: Vec<[f64; 2]>,
    pub map: ZoneMap,
}

/// Draws the zones of a request on its head and builds the density field, its rows shared
/// between `threads` threads (the same field on any number).
pub(crate) fn layout(request: &PatternRequest, threads: usize) -> Result<Layout, PatternError> {
    let Drawing {
        head,
        landmarks,
        hairline,
        outline,
        zones,
        exclusions,
        seed_points,
        extent,
        feather_outline,
    } = drawing(request)?;
    let map = ZoneMap::build(
        extent,
        &outline,
        &zones,
        &exclusions,
        &hairline,
        &request.density_per_cm2,
        &request.settings,
        feather_outline,
        threads,
    );
    Ok(Layout {
        head,
        landmarks,
        hairline,
        outline,
        zones,
        exclusions,
        seed_points,
        map,
    })
}

/// The areas of a request's zones (cm², in [`ZoneKind::ALL`] order), exactly those of its
/// [`layout`]'s `map.zone_totals()`, without building the density field.
pub(crate) fn zone_areas(request: &PatternRequest) -> Result<[f64; 7], PatternError> {
    let d = drawing(request)?;
    Ok(ZoneMap::zone_areas(
        d.extent,
        &d.outline,
        &d.zones,
        &d.exclusions,
        &d.hairline,
        &request.density_per_cm2,
    ))
}

/// A [`Layout`] before its density field: the zones drawn, and the raster's extent.
struct Drawing {
    head: Head,
    landmarks: Landmarks,
    hairline: Hairline,
    outline: Vec<[f64; 2]>,
    zones: Vec<ZoneSpec>,
    exclusions: Vec<Vec<[f64; 2]>>,
    seed_points: Vec<[f64; 2]>,
    extent: [f64; 4],
    feather_outline: bool,
}

/// Draws the zones of a request on its head.
fn drawing(request: &PatternRequest) -> Result<Drawing, PatternError> {
    request.validate()?;
    let settings = &request.settings;
    let head = Head::from_spec_with(&request.head, &settings.landmarks)?;
    let landmarks = head.landmarks(settings.whorl_behind_ears_mm);
    let hairline_seed = request.hairline.seed.unwrap_or(request.seed);
    let hairline = Hairline::design(&head, &request.hairline, settings, hairline_seed)?;
    let outline = Outline::new(&head, &hairline);
    let outline_poly = outline.polygon();
    let limit = outline.max_radius() + 30.0;
    let whorl = landmarks.crown_whorl.chart_mm;
    let mut zone_specs: Vec<ZoneSpec> = match &request.zones {
        ZonesSpec::Stage { stage } => {
            zones::stage_zones(stage, &head, &hairline, &outline, whorl, request.seed, settings)
        }
        ZonesSpec::Explicit { zones } => {
            if zones.len() > 200 {
                return Err(PatternError::range(
                    "zones.zones",
                    format!("{} zones", zones.len()),
                    "0–200 zones",
                ));
            }
            for (i, z) in zones.iter().enumerate() {
                polygon::validate_polygon(&format!("zones.zones[{i}].polygon"), &z.polygon, limit)?;
            }
            zones.clone()
        }
    };
    let (scar_specs, mut seed_points) = zones::scar_zones(&request.scars, &head, &outline, request.seed)?;
    zone_specs.extend(scar_specs);
    let exclusions = zones::exclusion_polygons(&request.exclusions, limit)?;
    // A zone small enough to fall between the sampler's seed lattice gets a seed at its
    // centre. A larger zone is seeded by the lattice: a centre seed would add nothing and tie
    // the dots around its centre to the zone's whole outline (a drag of the hairline would
    // move the centre of every zone drawn from it and re-sample the tiles there).
    for z in &zone_specs {
        let (lo, hi) = z
            .polygon
            .iter()
            .fold(([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]), |(lo, hi), p| {
                (
                    [lo[0].min(p[0]), lo[1].min(p[1])],
                    [hi[0].max(p[0]), hi[1].max(p[1])],
                )
            });
        if (hi[0] - lo[0]).max(hi[1] - lo[1]) > SMALL_ZONE_MM {
            continue;
        }
        let n = z.polygon.len() as f64;
        seed_points.push([
            z.polygon.iter().map(|p| p[0]).sum::<f64>() / n,
            z.polygon.iter().map(|p| p[1]).sum::<f64>() / n,
        ]);
    }
    // The raster covers the outline and every zone, with a margin: no more.
    let mut extent = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
    for p in outline_poly
        .iter()
        .chain(zone_specs.iter().flat_map(|z| z.polygon.iter()))
    {
        extent = [
            extent[0].min(p[0]),
            extent[1].min(p[1]),
            extent[2].max(p[0]),
            extent[3].max(p[1]),
        ];
    }
    // Snapped to the raster's lattice, so that two layouts of one head share their cells and
    // a design edit changes the raster only where the design changed (see [`PatternCache`]).
    let snap = |v: f64, up: bool| {
        let c = v / crate::field::RASTER_MM;
        (if up { c.ceil() } else { c.floor() }) * crate::field::RASTER_MM
    };
    let extent = [
        snap(extent[0] - 5.0, false),
        snap(extent[1] - 5.0, false),
        snap(extent[2] + 5.0, true),
        snap(extent[3] + 5.0, true),
    ];
    let feather_outline = matches!(&request.zones, ZonesSpec::Stage { stage } if zones::no_fringe(stage));
    Ok(Drawing {
        head,
        landmarks,
        hairline,
        outline: outline_poly,
        zones: zone_specs,
        exclusions,
        seed_points,
        extent,
        feather_outline,
    })
}

/// Generates the pattern for a request, on [`default_threads`] threads. See the crate docs;
/// the output does not depend on the number of threads.
pub fn generate(request: &PatternRequest) -> Result<Pattern, PatternError> {
    PatternCache::new().generate(request)
}

/// What the last [`PatternCache::generate`] did, in tiles (one tile of one session each).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Non-empty tiles over all sessions.
    pub tiles: usize,
    /// Of those, the tiles sampled afresh; the rest were taken from the previous generation.
    pub resampled: usize,
}

/// A pattern generator that remembers its last generation, for a designer's drag: the next
/// [`generate`](PatternCache::generate) re-samples only the tiles whose inputs changed and
/// takes every other tile from the previous generation.
///
/// The output is byte-identical to a fresh [`generate`] of the same request (tested, also
/// over random small edits): a tile is reused only when everything it was made from is
/// unchanged — the density and zone raster over it, the seed points in it, its radii, and
/// the sites of its halo (earlier sessions' sites near it and earlier-phase neighbours'
/// sites), compared exactly. So an edit re-samples the tiles whose density changed and,
/// only where their sites near a border moved, the later-phase neighbours and the later
/// sessions that see them: a ring of at most a few tiles. A change to anything else (the
/// head, settings, seed, session shares, needles, exclusions) starts afresh.
///
/// ```
/// use follicle_pattern::{PatternCache, PatternRequest, generate};
///
/// let mut cache = PatternCache::with_threads(2);
/// let mut request = PatternRequest::default();
/// cache.generate(&request)?;
/// request.density_per_cm2.crown += 5.0;
/// let edited = cache.generate(&request)?;
/// assert_eq!(edited, generate(&request)?);
/// assert!(cache.stats().resampled < cache.stats().tiles);
/// # Ok::<(), follicle_pattern::PatternError>(())
/// ```
pub struct PatternCache {
    threads: usize,
    last: Option<Previous>,
    stats: CacheStats,
}

impl std::fmt::Debug for PatternCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatternCache")
            .field("threads", &self.threads)
            .field("cached", &self.last.is_some())
            .field("stats", &self.stats)
            .finish()
    }
}

/// The previous generation, with what its tiles were made from.
struct Previous {
    key: PatternRequest,
    map: ZoneMap,
    tiling: Tiling,
    scales: Vec<f32>,
    tiles: TileResults<TileDots>,
}

/// One tile's dots (unit indices local to the tile) and its unit-size counts.
#[derive(Debug)]
struct TileDots {
    dots: Vec<Dot>,
    mix: [u64; 4],
}

/// The request without the fields that act only through the zone raster, the seed points
/// and the statistics: two requests with the same key may share tiles.
fn cache_key(request: &PatternRequest) -> PatternRequest {
    PatternRequest {
        hairline: Default::default(),
        zones: Default::default(),
        scars: Vec::new(),
        density_per_cm2: Default::default(),
        dots_per_hour: 0.0,
        ..request.clone()
    }
}

impl Default for PatternCache {
    fn default() -> Self {
        Self::new()
    }
}

impl PatternCache {
    /// An empty cache using [`default_threads`] threads.
    pub fn new() -> Self {
        Self::with_threads(default_threads())
    }

    /// An empty cache using `threads` threads (at least 1, at most [`MAX_THREADS`]).
    pub fn with_threads(threads: usize) -> Self {
        PatternCache {
            threads: threads.clamp(1, MAX_THREADS),
            last: None,
            stats: CacheStats::default(),
        }
    }

    /// What the last generation re-sampled.
    pub fn stats(&self) -> CacheStats {
        self.stats
    }

    /// Forgets the previous generation.
    pub fn clear(&mut self) {
        self.last = None;
    }

    /// Generates the pattern for `request`, reusing what it can of the previous generation.
    /// The result equals [`generate`]`(request)` byte for byte. On an error the cache is
    /// left empty.
    pub fn generate(&mut self, request: &PatternRequest) -> Result<Pattern, PatternError> {
        let drawn = self.generate_until(request, &sampler::never)?;
        Ok(drawn.expect("a generation never asked to stop runs to its end"))
    }

    /// [`generate`](PatternCache::generate), asking `stop` after the layout and before each
    /// tile: once it answers `true`, no further tile starts, the answer is `Ok(None)` within
    /// about one tile's work (a tile of a Norwood VII takes well under a millisecond), and
    /// the cache keeps the generation it had, so the next call reuses what it would have
    /// reused. A designer's edit superseded while it is drawn stops this way instead of being
    /// drawn to its end and thrown away.
    ///
    /// ```
    /// use follicle_pattern::{PatternCache, PatternRequest, generate};
    ///
    /// let mut cache = PatternCache::with_threads(2);
    /// let request = PatternRequest::default();
    /// assert!(cache.generate_until(&request, &|| true)?.is_none());
    /// assert_eq!(cache.generate_until(&request, &|| false)?, Some(generate(&request)?));
    /// # Ok::<(), follicle_pattern::PatternError>(())
    /// ```
    pub fn generate_until(
        &mut self,
        request: &PatternRequest,
        stop: &(dyn Fn() -> bool + Sync),
    ) -> Result<Option<Pattern>, PatternError> {
        self.draw(request, stop, false)
    }

    /// A drag's preview of `request`: like [`generate_until`](PatternCache::generate_until),
    /// but a tile whose own density raster and seed points are unchanged keeps the previous
    /// generation's dots even where its neighbours' dots moved; only the tiles whose density
    /// changed are sampled afresh. Those see every kept neighbour's sites of their session,
    /// whatever its phase, so within a session no two sites come closer than the spacing
    /// rule allows across any border (tested); what the preview does not redo is the
    /// cascade, the later phases and sessions that would see the moved sites. So the dots
    /// differ from a full generation near the edited region, and a later session's kept dots
    /// may come closer than the rule to the fresh dots of an earlier one along its border.
    /// The release of a drag is drawn by [`generate_until`](PatternCache::generate_until):
    /// the cache stays exact, since a kept tile keeps the inputs it was made from and is
    /// reused by an exact generation only when they are still its inputs (tested).
    ///
    /// ```
    /// use follicle_pattern::{PatternCache, PatternRequest, generate};
    ///
    /// let mut cache = PatternCache::with_threads(2);
    /// let mut request = PatternRequest::default();
    /// cache.generate(&request)?;
    /// request.density_per_cm2.crown += 5.0;
    /// let preview = cache.preview_until(&request, &|| false)?.expect("not stopped");
    /// assert!(preview.dots.len() > 0);
    /// assert_eq!(cache.generate(&request)?, generate(&request)?);
    /// # Ok::<(), follicle_pattern::PatternError>(())
    /// ```
    pub fn preview_until(
        &mut self,
        request: &PatternRequest,
        stop: &(dyn Fn() -> bool + Sync),
    ) -> Result<Option<Pattern>, PatternError> {
        self.draw(request, stop, true)
    }

    /// [`generate_until`](PatternCache::generate_until), or with `preview`
    /// [`preview_until`](PatternCache::preview_until).
    fn draw(
        &mut self,
        request: &PatternRequest,
        stop: &(dyn Fn() -> bool + Sync),
        preview: bool,
    ) -> Result<Option<Pattern>, PatternError> {
        let previous = self.last.take();
        let Layout {
            head,
            landmarks,
            hairline,
            outline: outline_poly,
            zones: zone_specs,
            exclusions,
            seed_points,
            map,
        } = layout(request, self.threads)?;
        let settings = &request.settings;
        let whorl = landmarks.crown_whorl.chart_mm;
        let totals = map.zone_totals();
        let expected: f64 = totals.iter().map(|t| t.1).sum();
        if expected > MAX_DOTS as f64 {
            return Err(PatternError::TooLarge {
                field: "density_per_cm2".into(),
                what: "dots".into(),
                requested: expected as u64,
                cap: MAX_DOTS,
            });
        }
        self.stats = CacheStats::default();
        if stop() {
            self.last = previous;
            return Ok(None);
        }
        let mut dots: Vec<Dot> = Vec::new();
        let mut dot_zone_counts: Vec<[u64; 7]> = Vec::new();
        let mut mix = [0u64; 4];
        let mut keep = None;
        if let Some((_, r_hi)) = map.radius_range() {
            let fractions = &request.session_fractions;
            // Filling between earlier, sparser sites packs less tightly than a fresh
            // pattern (the old sites sit where a fresh pattern would not put them), so
            // later sessions use a slightly smaller radius: k = 1 − (0.16 / n)·q for
            // q = previous fraction / this fraction and n sessions. The finer the steps
            // (more sessions), the smaller the deficit of each. Measured on the planner's
            // example clients (Norwood III, V and VII, Ludwig II, FUT and FUE scars,
            // alopecia areata; 3 and 4 sessions): every final zone within ±5%.
            let scales: Vec<f32> = fractions
                .iter()
                .enumerate()
                .map(|(s, &fraction)| {
                    let q = if s > 0 { fractions[s - 1] / fraction } else { 0.0 };
                    let k = 1.0 - FILL_CORRECTION / fractions.len() as f64 * q;
                    (k / fraction.sqrt()) as f32
                })
                .collect();
            let max_scale = scales.iter().cloned().fold(0.0f32, f32::max);
            let field = MapField::new(&map);
            let seeds_f32: Vec<[f32; 2]> = seed_points.iter().map(|p| [p[0] as f32, p[1] as f32]).collect();
            let mut tiling = Tiling::new(&field, map.bounds(), r_hi * max_scale, &seeds_f32)?;
            // Candidates are refused outside the raster by its radius (0 there), so the tiles
            // need not be cut to the raster's bounds; uncut, a tile's sampling does not depend on
            // where the design's extent ends (a hairline drag moves it).
            tiling.bounds = tiling.covered();
            let key = cache_key(request);
            let usable = previous
                .as_ref()
                .filter(|p| p.key == key && p.tiling.side == tiling.side && p.scales == scales);
            // Per tile, the previous generation's tile at the same place when its raster
            // and seed points are unchanged.
            let reusable: Vec<Option<usize>> = (0..tiling.ni * tiling.nj)
                .map(|k| {
                    let p = usable?;
                    let rect = tiling.rect(k);
                    let pk = p
                        .tiling
                        .tile_of(0.5 * (rect.x0 + rect.x1), 0.5 * (rect.y0 + rect.y1))?;
                    (p.tiling.seeds[pk] == tiling.seeds[k] && map.same_over(&p.map, rect)).then_some(pk)
                })
                .collect();
            // Exactly equal, bit for bit (no allocation: this runs for every site of every halo).
            let same_bits = |a: &[f32], b: &[f32]| {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
            };
            let reuse = |s: usize, t: usize, params: &[f32; 8], input: &[[f32; 3]]| {
                let p = usable?;
                let o = p.tiles[s][reusable[t]?].as_ref()?;
                let same = same_bits(o.params.as_slice(), params.as_slice())
                    && o.input.len() == input.len()
                    && o.input
                        .iter()
                        .zip(input)
                        .all(|(a, b)| same_bits(a.as_slice(), b.as_slice()));
                same.then(|| o.clone())
            };
            let cumulative = units::cumulative(settings.fu_probabilities());
            let direction = DirectionField {
                whorl,
                spiral_rad: settings.whorl_spiral_deg.to_radians(),
                decay_mm: settings.whorl_spiral_decay_mm,
                clockwise: settings.clockwise_whorl,
            };
            // The spacing of a unit's dots before the chart's stretch, by zone (its needle).
            let unit_spacing: [f32; 7] = ZoneKind::ALL.map(|zone| {
                units::spacing_for(
                    settings.unit_dot_spacing_mm,
                    request.needles.diameter_of(zone),
                    settings.unit_dot_margin_mm,
                )
            });
            let resampled = AtomicUsize::new(0);
            let make = |s: usize, t: usize, sites: &[[f32; 3]]| -> TileDots {
                resampled.fetch_add(1, Ordering::Relaxed);
                let (ti, tj) = tiling.coords(t);
                let mut unit_rng = sampler::stream(request.seed, sampler::tile_stream(s, ti, tj, 1));
                let session = s as u8 + 1;
                let shade = settings.shade(usize::from(session));
                let mut out = TileDots {
                    dots: Vec::with_capacity(sites.len() * 2),
                    mix: [0; 4],
                };
                for (unit, site) in sites.iter().enumerate() {
                    let p = [f64::from(site[0]), f64::from(site[1])];
                    let Some(zone) = map.zone_at(p) else { continue };
                    let size = if zone == ZoneKind::Hairline {
                        1
                    } else {
                        units::draw_unit_size(&cumulative, &mut unit_rng)
                    };
                    if zone != ZoneKind::Hairline {
                        out.mix[usize::from(size) - 1] += 1;
                    }
                    let angle = direction.angle_at(p);
                    let diameter = request.needles.diameter_of(zone);
                    // A unit of several dots solves its centre with the gradient that starts
                    // each of its dots' solves within about 1e-4 of the answer.
                    let site = head.surface_from_chart_solve(p, None, size > 1);
                    // The chart keeps areas, not lengths: where it shrinks the skin in one
                    // direction (towards the ears and nape) the unit is spread by that much,
                    // so its dots keep their spacing on the skin in every direction.
                    let spacing = if size > 1 {
                        let radial = head.radial_scale(p, site.cos_theta).max(1e-6);
                        unit_spacing[crate::field::code(zone) as usize - 1] * radial.max(1.0 / radial) as f32
                    } else {
                        0.0
                    };
                    let (offsets, n) = units::unit_offsets(size, spacing, angle as f32, &mut unit_rng);
                    for o in &offsets[..n] {
                        let q = [p[0] + f64::from(o[0]), p[1] + f64::from(o[1])];
                        if exclusions.iter().any(|e| polygon::contains(e, q)) {
                            continue;
                        }
                        let surface = if size == 1 {
                            site.surface
                        } else {
                            head.surface_from_chart_near(q, Some(site.start_at(p, q))).0
                        };
                        out.dots.push(Dot {
                            x_mm: round3(q[0]),
                            y_mm: round3(q[1]),
                            surface_mm: [round3(surface[0]), round3(surface[1]), round3(surface[2])],
                            session,
                            zone,
                            unit: unit as u32,
                            unit_size: size,
                            direction_deg: round3(angle.to_degrees()),
                            diameter_mm: diameter,
                            shade,
                        });
                    }
                }
                out
            };
            let spec = RunSpec {
                scales: &scales,
                seed: request.seed,
                threads: self.threads,
                stop,
            };
            // A preview keeps every tile whose own raster and seed points are unchanged.
            let kept = |s: usize, t: usize| {
                if !preview {
                    return None;
                }
                usable?.tiles[s][reusable[t]?].clone()
            };
            let Some(tiles) = sampler::run(&field, &tiling, &spec, reuse, kept, make)? else {
                self.stats.resampled = resampled.into_inner();
                self.last = previous;
                return Ok(None);
            };
            let mut unit_base = 0u32;
            let mut counts = [0u64; 7];
            let total: usize = tiles.iter().flatten().flatten().map(|o| o.made.dots.len()).sum();
            dots.reserve_exact(total);
            for row in &tiles {
                for o in row.iter().flatten() {
                    self.stats.tiles += 1;
                    for d in &o.made.dots {
                        counts[crate::field::code(d.zone) as usize - 1] += 1;
                        let mut d = d.clone();
                        d.unit += unit_base;
                        dots.push(d);
                    }
                    for (m, v) in mix.iter_mut().zip(o.made.mix) {
                        *m += v;
                    }
                    unit_base += o.sites.len() as u32;
                }
                dot_zone_counts.push(counts);
            }
            self.stats.resampled = resampled.into_inner();
            drop(previous);
            keep = Some((key, tiling, scales, tiles));
        }
        let stats = statistics(request, &map, &outline_poly, &totals, &dot_zone_counts, mix);
        if let Some((key, tiling, scales, tiles)) = keep {
            self.last = Some(Previous {
                key,
                map,
                tiling,
                scales,
                tiles,
            });
        }
        let mut zone_polys: Vec<ZonePolygon> = zone_specs
            .into_iter()
            .map(|z| ZonePolygon {
                kind: z.kind,
                polygon: z.polygon.iter().map(|p| [round3(p[0]), round3(p[1])]).collect(),
            })
            .collect();
        zone_polys.sort_by_key(|z| zones::priority(z.kind));
        Ok(Some(Pattern {
            head,
            landmarks,
            hairline,
            outline: outline_poly,
            zones: zone_polys,
            exclusions,
            sessions: request.session_fractions.len() as u8,
            dots,
            stats,
        }))
    }
}

fn statistics(
    request: &PatternRequest,
    map: &ZoneMap,
    outline: &[[f64; 2]],
    totals: &[(f64, f64); 7],
    dot_counts: &[[u64; 7]],
    mix: [u64; 4],
) -> PatternStats {
    let per_hour = request.dots_per_hour;
    let mut sessions = Vec::new();
    let mut zone_stats = Vec::new();
    let mut previous = [0u64; 7];
    for (s, counts) in dot_counts.iter().enumerate() {
        let fraction = request.session_fractions[s];
        let session = s as u8 + 1;
        let total: u64 = counts.iter().sum();
        let prev_total: u64 = previous.iter().sum();
        sessions.push(SessionStats {
            session,
            fraction,
            new_dots: total - prev_total,
            total_dots: total,
            hours: (total - prev_total) as f64 / per_hour,
        });
        for (i, kind) in ZoneKind::ALL.into_iter().enumerate() {
            let (area, final_dots) = totals[i];
            if area <= 0.0 {
                continue;
            }
            let target = final_dots * fraction / area;
            let achieved = counts[i] as f64 / area;
            zone_stats.push(ZoneStats {
                zone: kind,
                session,
                area_cm2: round3(area),
                dots: counts[i],
                new_dots: counts[i] - previous[i],
                target_density_per_cm2: round3(target),
                density_per_cm2: round3(achieved),
                density_error: if target > 0.0 {
                    round3((achieved - target) / target)
                } else {
                    0.0
                },
                hours: round3((counts[i] - previous[i]) as f64 / per_hour),
            });
        }
        previous = *counts;
    }
    let units: u64 = mix.iter().sum();
    let mut fu = [0.0; 4];
    for (o, m) in fu.iter_mut().zip(mix) {
        *o = if units > 0 {
            round3(100.0 * m as f64 / units as f64)
        } else {
            0.0
        };
    }
    let _ = map;
    PatternStats {
        scalp_area_cm2: round3(ZoneMap::outline_area_cm2(outline)),
        treated_area_cm2: round3(totals.iter().map(|t| t.0).sum()),
        sessions,
        zones: zone_stats,
        fu_mix_percent: fu,
    }
}

impl Pattern {
    /// Dots placed up to and including `session`.
    pub fn dots_through(&self, session: u8) -> impl Iterator<Item = &Dot> {
        self.dots.iter().filter(move |d| d.session <= session)
    }

    /// The whole pattern as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The dot list as JSON (an array).
    pub fn dots_to_json(&self) -> String {
        serde_json::to_string(&self.dots).unwrap_or_default()
    }

    /// Writes the dot list as CSV with a header.
    pub fn write_csv(&self, mut out: impl Write) -> std::io::Result<()> {
        writeln!(
            out,
            "x_mm,y_mm,surface_x_mm,surface_y_mm,surface_z_mm,session,zone,unit,unit_size,direction_deg,diameter_mm,shade"
        )?;
        for d in &self.dots {
            writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{},{}",
                d.x_mm,
                d.y_mm,
                d.surface_mm[0],
                d.surface_mm[1],
                d.surface_mm[2],
                d.session,
                d.zone,
                d.unit,
                d.unit_size,
                d.direction_deg,
                d.diameter_mm,
                d.shade
            )?;
        }
        Ok(())
    }

    /// The CSV as a string.
    pub fn to_csv(&self) -> String {
        let mut buf = Vec::new();
        let _ = self.write_csv(&mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }

    /// An SVG of the chart seen from above (front at the top): scalp outline, zones,
    /// hairline and the dots up to `session` (all sessions when `None`).
    pub fn to_svg(&self, session: Option<u8>) -> String {
        let last = session.unwrap_or(self.sessions);
        let r = self.outline.iter().map(|p| p[0].hypot(p[1])).fold(0.0, f64::max) + 10.0;
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="{:.1} {:.1} {:.1} {:.1}" width="{:.0}mm" height="{:.0}mm">"#,
            -r,
            -r,
            2.0 * r,
            2.0 * r,
            2.0 * r,
            2.0 * r
        );
        let path = |pts: &[[f64; 2]]| -> String {
            let mut d = String::new();
            for (i, p) in pts.iter().enumerate() {
                let _ = write!(d, "{}{:.2},{:.2} ", if i == 0 { "M" } else { "L" }, p[0], -p[1]);
            }
            d.push('Z');
            d
        };
        let _ = writeln!(
            s,
            r##"<path d="{}" fill="#f3e3d3" stroke="#8a6d55" stroke-width="0.5"/>"##,
            path(&self.outline)
        );
        for z in &self.zones {
            let colour = match z.kind {
                ZoneKind::Hairline => "#e4572e",
                ZoneKind::Frontal => "#f3a712",
                ZoneKind::Temples => "#a8c686",
                ZoneKind::MidScalp => "#669bbc",
                ZoneKind::Crown => "#7d5ba6",
                ZoneKind::SidesBack => "#b0a8b9",
                ZoneKind::Scar => "#c1121f",
            };
            let _ = writeln!(
                s,
                r#"<path d="{}" fill="{colour}" fill-opacity="0.18" stroke="{colour}" stroke-width="0.3"><title>{}</title></path>"#,
                path(&z.polygon),
                z.kind.label()
            );
        }
        for e in &self.exclusions {
            let _ = writeln!(
                s,
                r##"<path d="{}" fill="#ffffff" stroke="#000" stroke-width="0.3"/>"##,
                path(e)
            );
        }
        let mut line = String::new();
        for (i, p) in self.hairline.points.iter().enumerate() {
            let _ = write!(
                line,
                "{}{:.2},{:.2} ",
                if i == 0 { "M" } else { "L" },
                p[0],
                -p[1]
            );
        }
        let _ = writeln!(
            s,
            r##"<path d="{line}" fill="none" stroke="#e4572e" stroke-width="0.4" stroke-dasharray="2 1"/>"##
        );
        let _ = writeln!(s, r##"<g fill="#1d2430">"##);
        for d in self.dots.iter().filter(|d| d.session <= last) {
            let _ = writeln!(
                s,
                r#"<circle cx="{:.3}" cy="{:.3}" r="{:.3}" fill-opacity="{:.2}"/>"#,
                d.x_mm,
                -d.y_mm,
                0.5 * d.diameter_mm,
                d.shade
            );
        }
        s.push_str("</g>\n</svg>\n");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::{Bounds, SITE_WEIGHT, SiteField};
    use crate::{HairLoss, HairlinePosition, HairlineShape, NorwoodStage, ZonesSpec};

    /// `round_half_away` is `f64::round` to the bit: at and around every half, at the signs'
    /// zeros, beyond 2⁵², at infinities and NaN, and on a million numbers of every scale.
    #[test]
    fn rounding_is_the_library_rounding() {
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            -2.5,
            0.49999999999999994,
            -0.49999999999999994,
        ];
        values.extend([
            4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            9.1e18,
            -9.3e18,
            1e300,
        ]);
        values.extend([
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
        ]);
        for k in -2000..2000 {
            let half = f64::from(k) + 0.5;
            values.extend([half, half.next_up(), half.next_down()]);
        }
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..1_000_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = f64::from_bits(x);
            if v.is_finite() && v.abs() < 1e19 {
                values.push(v);
            }
            values.push((x >> 11) as f64 / (1u64 << 53) as f64 * 2e6 - 1e6);
        }
        for v in values {
            assert_eq!(round_half_away(v).to_bits(), v.round().to_bits(), "{v:e}");
        }
        assert!(round_half_away(f64::NAN).is_nan());
    }

    /// The totals and radius range the build keeps are those of its cells: the areas and the
    /// range to the bit, the dots within 1e-9 of the densities the radii stand for (a radius
    /// is `√(100 · packing · mean unit size / density)`; one dot a site on the hairline); the
    /// default design, a Norwood VII and an alopecia totalis (no fringe: its edge feathered).
    /// The range of a tile from the blocks is that of its cells, for rectangles of every
    /// alignment.
    #[test]
    fn the_map_keeps_the_totals_of_its_cells() {
        let stages = [
            None,
            Some(HairLoss::Norwood {
                stage: NorwoodStage::VII,
            }),
            Some(HairLoss::AlopeciaTotalis),
        ];
        for stage in stages {
            let mut req = PatternRequest::default();
            if let Some(stage) = &stage {
                req.zones = ZonesSpec::Stage { stage: stage.clone() };
            }
            let map = layout(&req, 1).unwrap().map;
            let on_two = layout(&req, 2).unwrap().map;
            let bits = |t: [(f64, f64); 7]| t.map(|(a, d)| (a.to_bits(), d.to_bits()));
            assert_eq!(bits(map.zone_totals()), bits(on_two.zone_totals()));
            assert_eq!(map.radius_range(), on_two.radius_range());
            assert!(
                map.radius
                    .iter()
                    .zip(&on_two.radius)
                    .all(|(a, b)| a.to_bits() == b.to_bits())
            );
            let cell_cm2 = crate::field::RASTER_MM * crate::field::RASTER_MM / 100.0;
            let packing = 100.0 * crate::sampler::PACKING_CONSTANT;
            let mean_size = req.settings.mean_unit_size();
            let hairline = crate::field::code(follicle_core::ZoneKind::Hairline);
            let mut totals = [(0.0f64, 0.0f64); 7];
            let (mut lo, mut hi) = (f32::INFINITY, 0.0f32);
            for (&z, &r) in map.zone.iter().zip(&map.radius) {
                if r > 0.0 {
                    let size = if z == hairline { 1.0 } else { mean_size };
                    totals[usize::from(z) - 1].0 += cell_cm2;
                    totals[usize::from(z) - 1].1 += packing * size / f64::from(r).powi(2) * cell_cm2;
                    lo = lo.min(r);
                    hi = hi.max(r);
                }
            }
            for ((area, dots), (kept_area, kept_dots)) in totals.into_iter().zip(map.zone_totals()) {
                assert_eq!(area.to_bits(), kept_area.to_bits(), "{stage:?}");
                assert!(
                    (dots - kept_dots).abs() <= 1e-6 * dots.max(1.0),
                    "{stage:?}: {dots} against {kept_dots}"
                );
            }
            assert!(totals.iter().any(|t| t.0 > 0.0));
            assert_eq!(map.radius_range(), Some((lo, hi)), "{stage:?}");
            // Tile ranges from the blocks against the cells, over rectangles of every alignment.
            let field = MapField::new(&map);
            let b = map.bounds();
            let mut checked = 0;
            for k in 0..400 {
                let (fx, fy) = ((k * 37 % 101) as f32 / 100.0, (k * 53 % 97) as f32 / 96.0);
                let side = [3.3f32, 24.0, 48.0, 61.7][k % 4];
                let x0 = b.x0 - 10.0 + fx * (b.x1 - b.x0);
                let y0 = b.y0 - 10.0 + fy * (b.y1 - b.y0);
                let rect = Bounds {
                    x0,
                    y0,
                    x1: x0 + side,
                    y1: y0 + side * 0.7,
                };
                let by_cells = {
                    let (mut lo, mut hi) = (f32::INFINITY, 0.0f32);
                    let (i0, i1, j0, j1) = field.cells_over(rect);
                    for j in j0..j1 {
                        for &r in &map.radius[j * map.nx + i0..j * map.nx + i1] {
                            if r > 0.0 {
                                lo = lo.min(r);
                                hi = hi.max(r);
                            }
                        }
                    }
                    (hi > 0.0).then_some((lo, hi))
                };
                assert_eq!(field.range(rect), by_cells, "{stage:?}, {rect:?}");
                checked += usize::from(by_cells.is_some());
            }
            assert!(checked > 50, "{checked} rectangles over treated cells");
        }
    }

    /// Pairs of sites of one session closer than the spacing rule allows, whichever of the
    /// two was placed second (`w·r(first) + (1 − w)·r(second)`), over every tile and border.
    fn pairs_too_close(cache: &PatternCache) -> usize {
        let last = cache.last.as_ref().expect("a generation");
        let mut bad = 0;
        for session in &last.tiles {
            let mut sites: Vec<[f32; 3]> = session
                .iter()
                .flatten()
                .flat_map(|o| o.sites.iter().copied())
                .collect();
            sites.sort_by(|a, b| a[0].total_cmp(&b[0]));
            let r_max = sites.iter().map(|s| s[2]).fold(0.0f32, f32::max);
            for (i, a) in sites.iter().enumerate() {
                for b in &sites[i + 1..] {
                    if b[0] - a[0] > r_max {
                        break;
                    }
                    let allowed = SITE_WEIGHT * a[2].max(b[2]) + (1.0 - SITE_WEIGHT) * a[2].min(b[2]);
                    if (a[0] - b[0]).hypot(a[1] - b[1]) < allowed * (1.0 - 1e-5) {
                        bad += 1;
                    }
                }
            }
        }
        bad
    }

    /// A preview's fresh tiles see their kept neighbours of every phase: no two sites of a
    /// session come closer than the rule across any border, as in an exact generation.
    #[test]
    fn a_preview_keeps_the_spacing_across_borders() {
        let mut req = PatternRequest {
            zones: ZonesSpec::Stage {
                stage: HairLoss::Norwood {
                    stage: NorwoodStage::VII,
                },
            },
            ..PatternRequest::default()
        };
        let mut cache = PatternCache::with_threads(2);
        cache.generate(&req).unwrap();
        assert_eq!(pairs_too_close(&cache), 0, "an exact generation");
        for step in 1..=3 {
            req.hairline.shape = HairlineShape::Rules {
                position: HairlinePosition::Typical,
                mature: false,
                mid_frontal_height_mm: Some(80.0 - 0.7 * f64::from(step)),
                frontotemporal_height_mm: None,
            };
            cache.preview_until(&req, &|| false).unwrap().unwrap();
            let stats = cache.stats();
            assert!(stats.resampled > 0 && stats.resampled < stats.tiles, "{stats:?}");
            assert_eq!(pairs_too_close(&cache), 0, "preview step {step}");
        }
    }
}
