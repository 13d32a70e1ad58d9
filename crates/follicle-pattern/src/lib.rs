//! Follicle's pattern engine: from a head, a hairline and the zones to treat, the exact
//! list of pigment dots for each session of a scalp micropigmentation (SMP) treatment.
//!
//! Pure: no I/O, no clocks, no global state. The same request and seed give
//! byte-identical output, and every invalid input comes back as a [`PatternError`] that
//! names the field, never as a panic.
//!
//! ```
//! use follicle_pattern::{generate, HairLoss, NorwoodStage, PatternRequest, ZonesSpec};
//!
//! let request = PatternRequest {
//!     zones: ZonesSpec::Stage { stage: HairLoss::Norwood { stage: NorwoodStage::III } },
//!     seed: 42,
//!     ..PatternRequest::default()
//! };
//! let pattern = generate(&request)?;
//! // Three sessions by default; session 1 is a subset of session 2.
//! assert_eq!(pattern.sessions, 3);
//! let first = pattern.dots_through(1).count();
//! assert!(first > 1000 && first < pattern.dots.len());
//! for zone in pattern.stats.zones.iter().filter(|z| z.session == 3) {
//!     println!("{}: {:.1} cm², {} dots, {:.1}/cm²", zone.zone, zone.area_cm2, zone.dots, zone.density_per_cm2);
//! }
//! let svg = pattern.to_svg(Some(1));
//! assert!(svg.starts_with("<svg"));
//! # Ok::<(), follicle_pattern::PatternError>(())
//! ```
//!
//! # How it is put together
//!
//! * [`geometry`]: the head is an ellipsoid sized from length, breadth or circumference
//!   and height; the scalp is drawn on an **azimuthal equal-area chart centred on the
//!   vertex** whose area element has a closed form on the ellipsoid, so areas and
//!   densities measured on the chart are exact on the skin (a default male scalp is about
//!   500 cm²). Clinical lengths (8 cm above the glabella, 6 cm behind the ears) are
//!   measured along the 3-D surface. See the module for why this chart.
//! * [`hairline`]: rules (mid-frontal point 7/8/10 cm, Garg 8-8-8, frontotemporal points
//!   on the lateral canthus line, temporal peaks, mature and female variants) or control
//!   points; soft/broken/sharp styles with seeded macro waves; a transition band.
//! * [`zones`]: default zones per stage, in core's one hair-loss vocabulary
//!   ([`HairLoss`]: Norwood I–VII with the A variants and III-vertex, Ludwig I–III, Savin,
//!   diffuse, alopecia areata patches covering the client's share of the scalp,
//!   totalis/universalis without a fringe), explicit polygons, FUT/FUE/polygon scars,
//!   exclusions; all validated.
//! * [`treatment`]: one head, one set of zones — the client's zones drawn and measured here,
//!   and the planner's areas, dots, hours and price taken from those measures.
//! * `field` (internal): a 0.5 mm raster of zone and target density (as a site radius): the transition band
//!   ramps up from the front, isolated dots ahead of the line, a feathered edge where
//!   treated skin meets untreated hair-bearing scalp.
//! * `sampler` (internal, the product): variable-density blue noise. See below.
//! * [`metrics`]: ρ, nearest-neighbour distances, radial power spectrum, ν_eff and Ω as in
//!   Lagae & Dutré 2008 / psa.
//! * [`patch`]: flat W×H patches for measurement and benchmarks.
//!
//! # The sampler, and why it is fast
//!
//! Follicular-unit centres are placed by a Bridson-style advancing front, run **tile by
//! tile**: the chart is cut into square tiles (24 mm or more) sampled in four phases (a 2×2
//! colouring), so tiles sampled at the same time never touch and run on scoped threads
//! ([`PatternCache::with_threads`]; [`generate`] uses [`default_threads`]). A tile sees only
//! its own random stream, the density over it and the sites of its halo (earlier phases and
//! sessions within reach), so the output is byte-identical on any number of threads. Each
//! tile samples in its own small grid (cells of side `r_min/√2`, sites stored inline with
//! their radius) that stays in cache; a conflict check reads a handful of cells (21 for a
//! uniform radius, nearest first, stopping at the first conflict). A candidate conflicts
//! with a placed site closer than `w·r(site) + (1 − w)·r(candidate)` (`w` = 0.25,
//! the sampler's `SITE_WEIGHT`), so a sparse zone beside a dense one
//! keeps its share along the border. Each active site is picked once and proposes 5
//! candidates, one in each fifth of the circle, uniformly by area in the annulus `[r, 1.45r]`
//! (from tables: no trigonometry, no rejection), keeping every one that fits; the next active
//! site is drawn at random from the 16 newest. The local radius is `r(x) = 10·sqrt(C·m(x)/D(x))`
//! mm for `D` dots/cm² in units of mean size `m`, with this sampler's measured packing constant
//! `C = 0.608`. Measured on 100×100 mm patches: ρ ≈ 0.72 and Ω ≈ 1.3 (dart-throwing
//! territory: no hexagonal order, no ringing); speeds in `scripts/bench-pattern`.
//!
//! [`PatternCache`] keeps the last generation and re-samples only the tiles whose inputs
//! changed (a designer's drag), with output equal to a fresh [`generate`].
//!
//! Sessions are incremental: session `s` samples with radius `r(x)/sqrt(f_s)` for the
//! cumulative fraction `f_s`, starting from all earlier sites (kept unchanged, re-activated
//! in the finer grid), so each session fills between the previous ones and session 1 is
//! a subset of session 2. Each session draws from its own stream seeded by
//! `(seed, session)`.
//!
//! Work is bounded: each loop step accepts a site or retires one; grid size and dot
//! count are capped ([`MAX_DOTS`], [`MAX_PATCH_DOTS`]) with an error, not a hang, and so
//! are a request's shapes ([`MAX_REQUEST_VERTICES`]) and FUE punches
//! ([`MAX_REQUEST_PUNCHES`]). `fuzz/` drives requests through all of it (`scripts/fuzz`).
//!
//! # Known limits
//!
//! The chart keeps areas, not shapes: towards the ears its radial and tangential scales
//! differ (about 0.87/1.15 at 60° from the vertex on a sphere), so spacing on the sides
//! is slightly anisotropic on the skin although density is exact. Band widths (hairline
//! transition) are corrected for the radial scale; the blend width is measured on the
//! chart.
#![deny(missing_docs)]

pub mod error;
mod field;
pub use field::chamfer_distance;
pub mod geometry;
pub mod hairline;
pub mod metrics;
pub mod patch;
mod pattern;
pub mod polygon;
mod request;
mod sampler;
pub mod settings;
pub mod treatment;
mod units;
pub mod zones;

pub use error::PatternError;
pub use follicle_core::ZoneKind;
pub use follicle_core::profile::{HairLoss, NorwoodStage};
pub use geometry::{ChartSolve, Head, HeadSpec, Landmarks, Sex, SurfacePoint};
pub use hairline::{Hairline, HairlinePosition, HairlineShape, HairlineSpec, HairlineStyle};
pub use metrics::{PointMetrics, RadialSpectrum, point_metrics};
pub use patch::{
    MAX_PATCH_DOTS, Patch, PatchDot, PatchRequest, generate_patch, generate_patch_on, generate_patch_with,
};
pub use pattern::{
    CacheStats, Dot, MAX_DOTS, Pattern, PatternCache, PatternStats, SessionStats, ZoneStats, generate,
    round_half_away,
};
pub use request::{MAX_REQUEST_PUNCHES, MAX_REQUEST_VERTICES, PatternRequest, ZoneDensities, ZoneNeedles};
pub use sampler::{ANNULUS_OUTER, CANDIDATES, MAX_THREADS, PACKING_CONSTANT, TILE_MM, default_threads};
pub use settings::{HairlineStyleSettings, NeedleGauge, PatternSettings, PerGauge};
pub use treatment::{Treatment, plan_client, replan_design};
pub use zones::{Exclusion, ScarSpec, ZonePolygon, ZoneSpec, ZonesSpec};
