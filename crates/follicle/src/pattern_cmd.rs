//! `follicle pattern`: the dots of a client's design (or a saved design, or a flat
//! measurement patch) as JSON, CSV or SVG, with metrics.

use std::fmt::Write as _;
use std::path::PathBuf;

use follicle_pattern::{
    PatchRequest, Pattern, PatternRequest, ZoneKind, generate, generate_patch, point_metrics,
};

use crate::{UserError, read_input};

/// Output formats of a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PatternFormat {
    /// Everything: head, hairline, zones, dots, stats.
    Json,
    /// One dot per line.
    Csv,
    /// The chart with zones and dots.
    Svg,
}

/// Arguments of `follicle pattern`.
#[derive(Debug, clap::Args)]
pub struct PatternArgs {
    /// The client file; its plan decides stage, zones, densities, needles and sessions.
    #[arg(value_name = "CLIENT.toml", required_unless_present_any = ["design", "patch"])]
    client: Option<PathBuf>,
    /// A saved design (a pattern request as JSON) instead of a client file.
    #[arg(long, value_name = "DESIGN.json", conflicts_with_all = ["client", "patch"])]
    design: Option<PathBuf>,
    /// A flat uniform measurement patch of WIDTH_MM × HEIGHT_MM instead of a head.
    #[arg(long, num_args = 2, value_names = ["WIDTH_MM", "HEIGHT_MM"], conflicts_with = "client", allow_hyphen_values = true)]
    patch: Option<Vec<f64>>,
    /// Dots per cm² of the patch.
    #[arg(long, default_value_t = 80.0, requires = "patch", allow_hyphen_values = true)]
    density: f64,
    /// The clinic's settings (with a client file).
    #[arg(long, value_name = "CLINIC.toml")]
    settings: Option<PathBuf>,
    /// The assessment date, YYYY-MM-DD [default: today].
    #[arg(long, value_name = "DATE", value_parser = crate::parse_date_arg)]
    date: Option<time::Date>,
    /// Random seed: the same input and seed give the same dots.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PatternFormat::Json)]
    format: PatternFormat,
    /// With svg: draw only the dots up to this session.
    #[arg(long)]
    session: Option<u8>,
    /// Print the metrics (per-zone density error, ρ, mean nearest neighbour, ν_eff, Ω, unit mix) to stderr.
    #[arg(long)]
    metrics: bool,
    /// Write to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// The pattern request of a client file or a saved design.
pub fn request_from(
    client: Option<&PathBuf>,
    design: Option<&PathBuf>,
    settings: Option<&PathBuf>,
    date: Option<time::Date>,
    seed: u64,
) -> anyhow::Result<PatternRequest> {
    if let Some(path) = design {
        let text = read_input(path, "design file")?;
        let mut req: PatternRequest = serde_json::from_str(&text)
            .map_err(|e| UserError(format!("{}:{}:{}: {e}", path.display(), e.line(), e.column())))?;
        req.seed = seed;
        return Ok(req);
    }
    let client = client.ok_or_else(|| UserError("give a client file, --design or --patch".into()))?;
    let (treatment, _) = crate::load_plannable(client, settings, date, seed)?;
    Ok(treatment.request)
}

pub fn run(args: PatternArgs) -> anyhow::Result<()> {
    let output = if let Some(size) = &args.patch {
        let req = PatchRequest {
            width_mm: size[0],
            height_mm: size[1],
            density_per_cm2: args.density,
            seed: args.seed,
            ..PatchRequest::default()
        };
        let patch = generate_patch(&req).map_err(|e| UserError(format!("--patch: {e}")))?;
        if args.metrics {
            let m = point_metrics(&patch.site_points(), req.width_mm, req.height_mm);
            eprintln!("{}", serde_json::to_string_pretty(&m)?);
        }
        match args.format {
            PatternFormat::Csv => patch.to_csv(),
            PatternFormat::Json => serde_json::to_string_pretty(&patch)? + "\n",
            PatternFormat::Svg => return Err(UserError("--patch writes csv or json, not svg".into()).into()),
        }
    } else {
        let req = request_from(
            args.client.as_ref(),
            args.design.as_ref(),
            args.settings.as_ref(),
            args.date,
            args.seed,
        )?;
        let pattern = generate(&req).map_err(|e| UserError(format!("pattern: {e}")))?;
        if args.metrics {
            eprint!("{}", metrics_report(&pattern));
        }
        match args.format {
            PatternFormat::Json => pattern.to_json() + "\n",
            PatternFormat::Csv => pattern.to_csv(),
            PatternFormat::Svg => {
                if let Some(s) = args.session
                    && (s == 0 || s > pattern.sessions)
                {
                    return Err(
                        UserError(format!("--session: expected 1–{}, got {s}", pattern.sessions)).into(),
                    );
                }
                pattern.to_svg(args.session)
            }
        }
    };
    match &args.out {
        Some(path) => std::fs::write(path, output)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
        None => print!("{output}"),
    }
    Ok(())
}

/// Metrics of a head pattern: per zone and session, the unit mix, and the point statistics of the
/// unit sites in a 40 × 40 mm window at the middle of the largest treated zone.
pub fn metrics_report(p: &Pattern) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "zone         session  area_cm2  target/cm2  achieved/cm2  error    dots"
    );
    for z in &p.stats.zones {
        let _ = writeln!(
            out,
            "{:<12} {:>7}  {:>8.1}  {:>10.1}  {:>12.1}  {:>+6.1}%  {:>6}",
            z.zone.as_str(),
            z.session,
            z.area_cm2,
            z.target_density_per_cm2,
            z.density_per_cm2,
            100.0 * z.density_error,
            z.dots
        );
    }
    let mix = p.stats.fu_mix_percent;
    let _ = writeln!(
        out,
        "unit mix (1/2/3/4 dots): {:.1}% / {:.1}% / {:.1}% / {:.1}%",
        mix[0], mix[1], mix[2], mix[3]
    );
    let largest = p
        .stats
        .zones
        .iter()
        .filter(|z| z.zone != ZoneKind::Hairline && z.zone != ZoneKind::SidesBack)
        .max_by(|a, b| a.area_cm2.total_cmp(&b.area_cm2))
        .map(|z| z.zone);
    if let Some(zone) = largest {
        let sites: Vec<[f64; 2]> = {
            let mut seen = std::collections::BTreeSet::new();
            p.dots
                .iter()
                .filter(|d| d.zone == zone && seen.insert(d.unit))
                .map(|d| [d.x_mm, d.y_mm])
                .collect()
        };
        let n = sites.len().max(1) as f64;
        let c = [
            sites.iter().map(|s| s[0]).sum::<f64>() / n,
            sites.iter().map(|s| s[1]).sum::<f64>() / n,
        ];
        let window: Vec<[f64; 2]> = sites
            .iter()
            .filter(|s| (s[0] - c[0]).abs() < 20.0 && (s[1] - c[1]).abs() < 20.0)
            .map(|s| [s[0] - c[0] + 20.0, s[1] - c[1] + 20.0])
            .collect();
        if window.len() > 20 {
            let m = point_metrics(&window, 40.0, 40.0);
            let _ = writeln!(
                out,
                "{} sites, 40 mm window ({} sites): rho {:.3}, mean NN {:.3} mm, nu_eff {:.3}, Omega {:.3}",
                zone.as_str(),
                m.points,
                m.relative_radius,
                m.mean_nn_distance_mm,
                m.effective_nyquist,
                m.oscillation
            );
        }
    }
    out
}
