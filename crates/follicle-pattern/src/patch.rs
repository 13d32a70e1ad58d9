//! A flat measurement patch: the same sampler on a W×H mm rectangle, for the
//! `follicle pattern --patch` command, the metrics and the benchmark.

use std::io::Write;

use serde::{Deserialize, Serialize};

use crate::error::{PatternError, check_range};
use crate::sampler::{self, Bounds, PACKING_CONSTANT, RunSpec, SiteField, Tiling};
use crate::settings::PatternSettings;
use crate::units;

/// Most dots a patch may have.
pub const MAX_PATCH_DOTS: u64 = 2_000_000;

/// A uniform (or linearly graded) flat patch to sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PatchRequest {
    /// Width, mm (1–5000).
    pub width_mm: f64,
    /// Height, mm (1–5000).
    pub height_mm: f64,
    /// Dots per cm² (1–400); at `x = 0` when graded. Default: the settings' frontal density
    /// (`density.per_zone_dots_per_cm2.frontal`).
    pub density_per_cm2: f64,
    /// When set, the density changes linearly across the width to this value at `x = W`
    /// (1–400 dots/cm²): a variable-density patch for benchmarks and gradient checks.
    pub end_density_per_cm2: Option<f64>,
    /// Group dots into follicular units with the settings' mix. Off by default, so each
    /// dot is one site and the metrics apply to the CSV directly.
    pub units: bool,
    /// Random seed; the same seed gives the same patch.
    pub seed: u64,
}

impl Default for PatchRequest {
    fn default() -> Self {
        PatchRequest {
            width_mm: 100.0,
            height_mm: 100.0,
            density_per_cm2: follicle_core::Settings::defaults().density.per_zone_dots_per_cm2
                [follicle_core::ZoneKind::Frontal],
            end_density_per_cm2: None,
            units: false,
            seed: 1,
        }
    }
}

/// One dot of a patch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PatchDot {
    /// Across, mm from the left edge.
    pub x_mm: f64,
    /// Down, mm from the top edge.
    pub y_mm: f64,
    /// Index of the follicular unit (site) the dot belongs to.
    pub unit: u32,
}

/// A sampled patch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Patch {
    /// Width, mm.
    pub width_mm: f64,
    /// Height, mm.
    pub height_mm: f64,
    /// Every dot.
    pub dots: Vec<PatchDot>,
    /// Number of sites (unit centres).
    pub sites: usize,
}

/// Width of a column of [`Ramp`]'s raster, mm.
const RAMP_COLUMN_MM: f32 = 0.25;

/// A density that changes linearly across the width, `D(x) = d0 + slope·x`, as site radii
/// `r = sqrt(k / D)` in a raster of [`RAMP_COLUMN_MM`] columns (each holds the radius at its
/// centre): a table read per candidate, like the chart's 0.5 mm zone map, instead of a division
/// and a square root (whose latency the sampler's every candidate waited on). Across a 100k-dot
/// patch (40 → 120 dots/cm² over 354 mm) a column's density is within 0.03 dots/cm² of the
/// ramp's.
struct Ramp {
    radius: Vec<f32>,
}

impl Ramp {
    fn new(d0: f64, slope: f64, k: f64, width_mm: f64) -> Ramp {
        let columns = (width_mm / f64::from(RAMP_COLUMN_MM)).ceil().max(1.0) as usize;
        let radius = (0..columns)
            .map(|i| {
                let x = (i as f64 + 0.5) * f64::from(RAMP_COLUMN_MM);
                (k / (d0 + slope * x)).sqrt() as f32
            })
            .collect();
        Ramp { radius }
    }

    /// The columns over `[x0, x1)`, clamped to the raster.
    fn columns(&self, x0: f32, x1: f32) -> std::ops::Range<usize> {
        let last = self.radius.len();
        let a = ((x0 / RAMP_COLUMN_MM).max(0.0) as usize).min(last - 1);
        let b = ((x1 / RAMP_COLUMN_MM).ceil().max(0.0) as usize).clamp(a + 1, last);
        a..b
    }
}

impl SiteField for Ramp {
    #[inline(always)]
    fn radius(&self, x: f32, _y: f32) -> f32 {
        // Candidates outside the patch are refused before the field is asked; `as u32`
        // saturates and `get` answers "not in the domain" for anything past the raster.
        self.radius
            .get((x * (1.0 / RAMP_COLUMN_MM)) as u32 as usize)
            .copied()
            .unwrap_or(0.0)
    }

    fn range(&self, rect: Bounds) -> Option<(f32, f32)> {
        let cols = &self.radius[self.columns(rect.x0, rect.x1)];
        let lo = cols.iter().copied().fold(f32::INFINITY, f32::min);
        let hi = cols.iter().copied().fold(0.0f32, f32::max);
        Some((lo, hi))
    }
}

impl PatchRequest {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), PatternError> {
        check_range("patch.width_mm", self.width_mm, 1.0, 5000.0, "1–5000 mm")?;
        check_range("patch.height_mm", self.height_mm, 1.0, 5000.0, "1–5000 mm")?;
        check_range("patch.density_per_cm2", self.density_per_cm2, 1.0, 400.0, "1–400")?;
        if let Some(end) = self.end_density_per_cm2 {
            check_range("patch.end_density_per_cm2", end, 1.0, 400.0, "1–400")?;
        }
        let end = self.end_density_per_cm2.unwrap_or(self.density_per_cm2);
        let expected = self.width_mm * self.height_mm / 100.0 * 0.5 * (self.density_per_cm2 + end);
        if expected > MAX_PATCH_DOTS as f64 {
            return Err(PatternError::TooLarge {
                field: "patch.density_per_cm2".into(),
                what: "dots".into(),
                requested: expected as u64,
                cap: MAX_PATCH_DOTS,
            });
        }
        Ok(())
    }
}

/// Samples a patch with default settings.
pub fn generate_patch(request: &PatchRequest) -> Result<Patch, PatternError> {
    generate_patch_with(request, &PatternSettings::default())
}

/// Samples a patch with the given settings (FU mix and unit spacing), on
/// [`default_threads`](crate::default_threads) threads.
pub fn generate_patch_with(
    request: &PatchRequest,
    settings: &PatternSettings,
) -> Result<Patch, PatternError> {
    generate_patch_on(request, settings, sampler::default_threads())
}

/// Samples a patch on `threads` threads (the output does not depend on how many).
pub fn generate_patch_on(
    request: &PatchRequest,
    settings: &PatternSettings,
    threads: usize,
) -> Result<Patch, PatternError> {
    request.validate()?;
    crate::settings::validate(settings)?;
    let mean_size = if request.units {
        settings.mean_unit_size()
    } else {
        1.0
    };
    let d0 = request.density_per_cm2;
    let d1 = request.end_density_per_cm2.unwrap_or(d0);
    let field = Ramp::new(
        d0,
        (d1 - d0) / request.width_mm,
        100.0 * PACKING_CONSTANT * mean_size,
        request.width_mm,
    );
    let bounds = Bounds {
        x0: 0.0,
        y0: 0.0,
        x1: request.width_mm as f32,
        y1: request.height_mm as f32,
    };
    // The largest radius over the whole patch (at its sparse end).
    let r_max = field.range(bounds).map_or(0.0, |(_, hi)| hi);
    let tiling = Tiling::new(&field, bounds, r_max, &[])?;
    let spec = RunSpec {
        scales: &[1.0],
        seed: request.seed,
        threads,
        stop: &sampler::never,
    };
    // Never asked to stop, so always `Some`.
    let tiles = sampler::run(
        &field,
        &tiling,
        &spec,
        |_, _, _, _| None,
        |_, _| None,
        |_, _, _| (),
    )?
    .unwrap_or_default();
    // The sites in tile order, read straight from the tiles (a million-dot patch would
    // otherwise copy 12 MB of sites into fresh memory first).
    let done = || tiles.iter().flatten().flatten();
    let sites = || done().flat_map(|t| t.sites.iter());
    let count: usize = done().map(|t| t.sites.len()).sum();
    let mut dots = Vec::with_capacity(count * if request.units { 2 } else { 1 });
    if request.units {
        let cum = units::cumulative(settings.fu_probabilities());
        let spacing = settings.unit_dot_spacing_mm as f32;
        let mut unit_rng = sampler::stream(request.seed, 1000);
        for (i, s) in sites().enumerate() {
            let size = units::draw_unit_size(&cum, &mut unit_rng);
            let (offsets, n) = units::unit_offsets(size, spacing, std::f32::consts::FRAC_PI_2, &mut unit_rng);
            for o in &offsets[..n] {
                dots.push(PatchDot {
                    x_mm: (s[0] + o[0]) as f64,
                    y_mm: (s[1] + o[1]) as f64,
                    unit: i as u32,
                });
            }
        }
    } else {
        dots.extend(sites().enumerate().map(|(i, s)| PatchDot {
            x_mm: s[0] as f64,
            y_mm: s[1] as f64,
            unit: i as u32,
        }));
    }
    Ok(Patch {
        width_mm: request.width_mm,
        height_mm: request.height_mm,
        sites: count,
        dots,
    })
}

impl Patch {
    /// Unit centres (the first dot of each unit when units are off, which is the dot itself).
    pub fn site_points(&self) -> Vec<[f64; 2]> {
        let mut out: Vec<[f64; 2]> = Vec::with_capacity(self.sites);
        let mut last = u32::MAX;
        let mut acc = [0.0, 0.0, 0.0];
        for d in &self.dots {
            if d.unit != last {
                if acc[2] > 0.0 {
                    out.push([acc[0] / acc[2], acc[1] / acc[2]]);
                }
                acc = [0.0, 0.0, 0.0];
                last = d.unit;
            }
            acc[0] += d.x_mm;
            acc[1] += d.y_mm;
            acc[2] += 1.0;
        }
        if acc[2] > 0.0 {
            out.push([acc[0] / acc[2], acc[1] / acc[2]]);
        }
        out
    }

    /// Writes `x_mm,y_mm,unit` CSV with a header.
    pub fn write_csv(&self, mut out: impl Write) -> std::io::Result<()> {
        writeln!(out, "x_mm,y_mm,unit")?;
        for d in &self.dots {
            writeln!(out, "{:.3},{:.3},{}", d.x_mm, d.y_mm, d.unit)?;
        }
        Ok(())
    }

    /// The CSV as a string.
    pub fn to_csv(&self) -> String {
        let mut buf = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = self.write_csv(&mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}
