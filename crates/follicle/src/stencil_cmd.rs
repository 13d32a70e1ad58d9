//! `follicle stencil`: the design's hairline and zone outlines at 1:1 on paper, with a scale
//! bar to check the print, and each session's dot map — as one PDF or an SVG per page.

use std::path::{Path, PathBuf};

use follicle_pattern::generate;
use follicle_render::stencil::stencil;

use crate::UserError;

/// Arguments of `follicle stencil`.
#[derive(Debug, clap::Args)]
pub struct StencilArgs {
    /// The client file: their plan's design is drawn.
    #[arg(value_name = "CLIENT.toml", required_unless_present = "design")]
    client: Option<PathBuf>,
    /// A saved design (a pattern request as JSON) instead of a client file.
    #[arg(long, value_name = "DESIGN.json", conflicts_with = "client")]
    design: Option<PathBuf>,
    /// Where to write: `NAME.pdf` (every page in one file) or `NAME.svg` (one file per page:
    /// `NAME-1.svg` the outlines, then one per session).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// The clinic's settings (paper, margins, scale bar: `[render.stencil]`).
    #[arg(long, value_name = "CLINIC.toml")]
    settings: Option<PathBuf>,
    /// The assessment date, YYYY-MM-DD [default: today].
    #[arg(long, value_name = "DATE", value_parser = crate::parse_date_arg)]
    date: Option<time::Date>,
    /// Random seed of the pattern.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    eprintln!("{}", path.display());
    Ok(())
}

pub fn run(args: StencilArgs) -> anyhow::Result<()> {
    let svg = match args.out.extension().and_then(|e| e.to_str()) {
        Some("pdf") => false,
        Some("svg") => true,
        _ => {
            return Err(UserError(format!(
                "--out: expected a file name ending in .pdf or .svg, got {}",
                args.out.display()
            ))
            .into());
        }
    };
    let (request, settings, title) = match (&args.design, &args.client) {
        (Some(path), _) => {
            let request = crate::pattern_cmd::request_from(None, Some(path), None, None, args.seed)?;
            let settings = crate::load_settings(args.settings.as_deref())?;
            (request, settings, label(path))
        }
        (None, Some(client)) => {
            let (treatment, clinic) =
                crate::load_plannable(client, args.settings.as_ref(), args.date, args.seed)?;
            let name = treatment
                .plan
                .assessment
                .client
                .name
                .clone()
                .unwrap_or_else(|| label(client));
            (treatment.request, clinic, name)
        }
        (None, None) => return Err(UserError("give a client file or --design".into()).into()),
    };
    let pattern = generate(&request).map_err(|e| UserError(format!("pattern: {e}")))?;
    let st = stencil(&pattern, &settings.render, &title).map_err(|e| UserError(e.to_string()))?;
    if svg {
        let stem = args.out.with_extension("");
        for page in 0..st.pages.len() {
            let path = PathBuf::from(format!("{}-{}.svg", stem.display(), page + 1));
            write(&path, st.to_svg(page)?.as_bytes())?;
        }
    } else {
        write(&args.out, &st.to_pdf())?;
    }
    Ok(())
}

fn label(path: &Path) -> String {
    path.file_stem()
        .map_or_else(|| "design".into(), |s| s.to_string_lossy().into_owned())
}
