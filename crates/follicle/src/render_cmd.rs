//! `follicle render`: previews of a client's design — views, moments, the timeline strip, the
//! client's photo before/after, and two designs side by side — as PNG files.

use std::path::{Path, PathBuf};

use follicle_core::profile::Fitzpatrick;
use follicle_pattern::{Pattern, generate};
use follicle_render::photo::{Overlay, before_after, decode_photo, overlay};
use follicle_render::{Look, Moment, RenderSettings, Scene, View, sheet, to_png};

use crate::{UserError, read_input};

/// Arguments of `follicle render`.
#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// The client file: its plan, skin, hair and fading drive the previews.
    #[arg(value_name = "CLIENT.toml", required_unless_present = "design")]
    client: Option<PathBuf>,
    /// A saved design (a pattern request as JSON) instead of a client file: typical fading,
    /// the skin of `--fitzpatrick`, no hair drawn.
    #[arg(long, value_name = "DESIGN.json", conflicts_with = "client")]
    design: Option<PathBuf>,
    /// With `--design`: the skin type, I–VI.
    #[arg(long, default_value = "III", value_parser = Fitzpatrick::parse_str)]
    fitzpatrick: Fitzpatrick,
    /// The folder to write the images to (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The clinic's settings.
    #[arg(long, value_name = "CLINIC.toml")]
    settings: Option<PathBuf>,
    /// The assessment date, YYYY-MM-DD [default: today].
    #[arg(long, value_name = "DATE", value_parser = crate::parse_date_arg)]
    date: Option<time::Date>,
    /// Random seed of the pattern.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Image side, pixels (16–4096).
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(16..=4096))]
    size: u32,
    /// Views: chart, front, top, left, right, back.
    #[arg(long, value_delimiter = ',', default_value = "chart,front,top", value_parser = View::parse)]
    views: Vec<View>,
    /// Moments: fresh:N, healed:N, years:Y, years:Y@T (touch-up at year T; several as @T1+T2).
    #[arg(long, value_delimiter = ',', default_value = "healed:1,years:5", value_parser = Moment::parse)]
    moments: Vec<Moment>,
    /// Also write the timeline strip of each view (after each session, then years 1, 3, 5, 8).
    #[arg(long)]
    timeline: bool,
    /// The client's photo (PNG or JPEG) to lay the pattern over.
    #[arg(long, value_name = "PHOTO", requires = "landmarks")]
    photo: Option<PathBuf>,
    /// Landmarks placed on the photo: JSON `[{"name": "glabella", "x_px": 512, "y_px": 300}, …]`.
    #[arg(long, value_name = "LANDMARKS.json", requires = "photo")]
    landmarks: Option<PathBuf>,
    /// The angle the photo was taken from.
    #[arg(long, default_value = "front", value_parser = View::parse)]
    photo_view: View,
    /// On the photo, leave pixels darker than this luminance (0–1) alone: existing hair.
    #[arg(long)]
    keep_hair_darker_than: Option<f32>,
    /// A second client file (another design) to show side by side with this one.
    #[arg(long, value_name = "OTHER.toml")]
    compare: Option<PathBuf>,
}

fn moment_slug(m: &Moment) -> String {
    match m {
        Moment::Fresh { session } => format!("fresh-{session}"),
        Moment::Healed { session } => format!("healed-{session}"),
        Moment::Years { years, touch_ups } if touch_ups.is_empty() => format!("year-{years}"),
        Moment::Years { years, touch_ups } => {
            format!(
                "year-{years}-touched-{}",
                touch_ups.iter().map(f64::to_string).collect::<Vec<_>>().join("+")
            )
        }
    }
}

/// What a preview is made of: the pattern and the look of the skin it sits on.
struct Design {
    /// Shown under the design in a comparison.
    label: String,
    pattern: Pattern,
    look: Look,
}

/// A client's design: their plan decides the pattern, their skin, hair and lifestyle its look.
fn design(
    client: &Path,
    settings: Option<&PathBuf>,
    date: Option<time::Date>,
    seed: u64,
) -> anyhow::Result<Design> {
    let (treatment, clinic) = crate::load_plannable(client, settings, date, seed)?;
    let (plan, request) = (treatment.plan, treatment.request);
    let pattern = generate(&request).map_err(|e| UserError(format!("pattern: {e}")))?;
    let c = &plan.assessment.client;
    Ok(Design {
        label: c.name.clone().unwrap_or_else(|| file_label(client)),
        look: Look::for_client(c, &clinic),
        pattern,
    })
}

/// A saved design: the default clinic's typical fading, the given skin, no hair drawn.
fn saved_design(path: &Path, fitzpatrick: Fitzpatrick, seed: u64) -> anyhow::Result<Design> {
    let request = crate::pattern_cmd::request_from(None, Some(&path.to_path_buf()), None, None, seed)?;
    let pattern = generate(&request).map_err(|e| UserError(format!("{}: {e}", path.display())))?;
    Ok(Design {
        label: file_label(path),
        look: Look::typical(fitzpatrick, &follicle_core::Settings::default()),
        pattern,
    })
}

fn file_label(path: &Path) -> String {
    path.file_stem()
        .map_or_else(|| "design".into(), |s| s.to_string_lossy().into_owned())
}

fn scene<'a>(d: &'a Design, settings: &'a RenderSettings) -> Scene<'a> {
    Scene {
        pattern: &d.pattern,
        skin: d.look.skin,
        hair: d.look.hair,
        fading: d.look.fading,
        settings,
    }
}

/// One image to write: its file name and how to draw it.
type Job<'a> = Box<dyn Fn() -> anyhow::Result<image::RgbImage> + 'a>;

pub fn run(args: RenderArgs) -> anyhow::Result<()> {
    let main = match (&args.design, &args.client) {
        (Some(path), _) => saved_design(path, args.fitzpatrick, args.seed)?,
        (None, Some(client)) => design(client, args.settings.as_ref(), args.date, args.seed)?,
        (None, None) => return Err(UserError("give a client file or --design".into()).into()),
    };
    let settings = main.look.render_settings();
    let scene = scene(&main, &settings);
    std::fs::create_dir_all(&args.out)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", args.out.display()))?;
    for m in &args.moments {
        m.validate(main.pattern.sessions)
            .map_err(|e| UserError(format!("--moments: {e}")))?;
    }
    let other = match &args.compare {
        Some(path) => Some(design(path, args.settings.as_ref(), args.date, args.seed)?),
        None => None,
    };
    let other_scene = other.as_ref().map(|o| self::scene(o, &settings));
    let views: Vec<View> = args.views.clone();
    let mut jobs: Vec<(String, Job<'_>)> = Vec::new();
    for &view in &views {
        for m in &args.moments {
            let name = format!("{}-{}.png", view.as_str(), moment_slug(m));
            let (scene, m) = (&scene, m.clone());
            jobs.push((
                name,
                Box::new(move || Ok(scene.render(view, &m, args.size, args.size)?)),
            ));
        }
        if args.timeline {
            let panel = (args.size / 2).max(64);
            let scene = &scene;
            jobs.push((
                format!("timeline-{}.png", view.as_str()),
                Box::new(move || Ok(sheet::timeline(scene, view, panel)?)),
            ));
        }
    }
    if let (Some(b), Some(o)) = (&other_scene, &other) {
        let (label_a, label_b) = (main.label.to_uppercase(), o.label.to_uppercase());
        for &view in &views {
            let moment = args
                .moments
                .first()
                .cloned()
                .unwrap_or(Moment::Healed { session: 1 });
            let (a, b, la, lb) = (&scene, b, label_a.clone(), label_b.clone());
            jobs.push((
                format!("compare-{}.png", view.as_str()),
                Box::new(move || Ok(sheet::compare(a, b, [&la, &lb], view, &moment, args.size)?)),
            ));
        }
    }
    let total = jobs.len() + usize::from(args.photo.is_some()) * 2;
    let mut done = 0;
    let mut progress = |name: &str| {
        done += 1;
        eprintln!("[{done}/{total}] {}", args.out.join(name).display());
    };
    for (name, job) in &jobs {
        let img = job()?;
        std::fs::write(args.out.join(name), to_png(&img)?)?;
        progress(name);
    }
    if let (Some(photo), Some(landmarks)) = (&args.photo, &args.landmarks) {
        let bytes = std::fs::read(photo)
            .map_err(|e| UserError(format!("{}: cannot read the photo: {e}", photo.display())))?;
        let image = decode_photo(&bytes).map_err(|e| UserError(format!("{}: {e}", photo.display())))?;
        let text = read_input(landmarks, "landmarks file")?;
        let marks = serde_json::from_str(&text).map_err(|e| {
            UserError(format!(
                "{}:{}:{}: {e}",
                landmarks.display(),
                e.line(),
                e.column()
            ))
        })?;
        let spec = Overlay {
            view: args.photo_view,
            landmarks: marks,
            keep_hair_darker_than: args.keep_hair_darker_than,
        };
        let moment = args.moments.last().cloned().unwrap_or(Moment::Healed {
            session: main.pattern.sessions,
        });
        let (after, _) = overlay(&scene, &image, &spec, &moment)
            .map_err(|e| UserError(format!("{}: {e}", landmarks.display())))?;
        std::fs::write(args.out.join("photo-after.png"), to_png(&after)?)?;
        progress("photo-after.png");
        std::fs::write(
            args.out.join("photo-before-after.png"),
            to_png(&before_after(&image, &after))?,
        )?;
        progress("photo-before-after.png");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_parse() {
        assert_eq!(Moment::parse("healed:2"), Ok(Moment::Healed { session: 2 }));
        assert_eq!(
            Moment::parse("years:5@4"),
            Ok(Moment::Years {
                years: 5.0,
                touch_ups: vec![4.0]
            })
        );
        assert_eq!(
            Moment::parse("years:8@3+6"),
            Ok(Moment::Years {
                years: 8.0,
                touch_ups: vec![3.0, 6.0]
            })
        );
        assert!(Moment::parse("years:-1").unwrap_err().contains("0–60"));
        assert!(Moment::parse("later").unwrap_err().contains("expected fresh:N"));
    }
}
