//! `follicle render`: previews of a client's design — views, moments, the timeline strip, the
//! client's photo (healed after each session, years later, after a touch-up; before/after; the
//! timeline on the photo; the client sheet as PNG and PDF), and two designs side by side.

use std::path::{Path, PathBuf};

use follicle_core::profile::Fitzpatrick;
use follicle_pattern::{Pattern, generate};
use follicle_render::client_sheet::{ClientSheet, Letterhead, SheetSession};
use follicle_render::photo::{Overlay, PhotoCanvas, before_after, decode_photo, photo_timeline};
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
    /// Landmarks placed on the photo: JSON `[{"name": "glabella", "x_px": 512, "y_px": 300}, …]`,
    /// or an object of such lists keyed by photo file name.
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
    /// The plan's sessions, for the client sheet (none for a saved design).
    sessions: Vec<SheetSession>,
    /// The clinic of the settings, at the top of the client sheet's PDF.
    letterhead: Letterhead,
}

/// The clinic's letterhead from its settings (`clinic.display_name`, address, contact), named
/// "Follicle" when the settings give no name.
fn letterhead(clinic: &follicle_core::Settings) -> Letterhead {
    follicle_web::documents::letterhead(clinic, "Follicle")
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
    let sessions = plan
        .sessions
        .iter()
        .map(|s| SheetSession {
            label: format!("Session {}", s.index),
            date: s.date.map_or_else(|| "to be booked".into(), |d| d.to_string()),
            note: format!("{}, {} mix", s.purpose_text, s.pigment_shade),
        })
        .collect();
    Ok(Design {
        label: c.name.clone().unwrap_or_else(|| file_label(client)),
        look: Look::for_client(c, &clinic),
        pattern,
        sessions,
        letterhead: letterhead(&clinic),
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
        sessions: Vec::new(),
        letterhead: letterhead(&follicle_core::Settings::default()),
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
    let mut scene = scene(&main, &settings);
    let photo = match (&args.photo, &args.landmarks) {
        (Some(photo), Some(landmarks)) => Some(prepare_photo(
            &scene,
            photo,
            landmarks,
            args.photo_view,
            args.keep_hair_darker_than,
        )?),
        _ => None,
    };
    // The stubble in the other views takes the fringe's tone as the photo shows it.
    if let (Some(canvas), Some(hair)) = (&photo, scene.hair.as_mut())
        && let Some(fringe) = canvas.fringe_srgb()
    {
        hair.srgb = fringe;
    }
    let scene = scene;
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
    let mut images: Vec<(String, Job<'_>)> = jobs;
    if let Some(canvas) = &photo {
        let moments = sheet::photo_moments(
            main.pattern.sessions.max(1),
            scene.fading.normal.years_to_touch_up(),
        );
        for m in moments.clone() {
            let (scene, canvas) = (&scene, canvas);
            images.push((
                format!("photo-{}.png", moment_slug(&m)),
                Box::new(move || Ok(canvas.render(scene, &m)?)),
            ));
        }
        let last = Moment::Healed {
            session: main.pattern.sessions.max(1),
        };
        let after_moment = args.moments.last().cloned().unwrap_or(last);
        let (scene_ref, m) = (&scene, after_moment.clone());
        images.push((
            "photo-before-after.png".into(),
            Box::new(move || {
                let after = canvas.render(scene_ref, &m)?;
                Ok(before_after(
                    &canvas.crop(canvas.photo(), 0.12),
                    &canvas.crop(&after, 0.12),
                ))
            }),
        ));
        let (scene_ref, ms) = (&scene, moments.clone());
        images.push((
            "photo-timeline.png".into(),
            Box::new(move || Ok(photo_timeline(scene_ref, canvas, &ms, (args.size / 3).max(96))?)),
        ));
    }
    let total = images.len() + usize::from(photo.is_some()) * 2;
    let mut done = 0;
    let mut progress = |name: &str| {
        done += 1;
        eprintln!("[{done}/{total}] {}", args.out.join(name).display());
    };
    for (name, job) in &images {
        let img = job()?;
        std::fs::write(args.out.join(name), to_png(&img)?)?;
        progress(name);
    }
    if let Some(canvas) = &photo {
        let moment = args.moments.last().cloned().unwrap_or(Moment::Healed {
            session: main.pattern.sessions.max(1),
        });
        let after = canvas.render(&scene, &moment)?;
        let moments = sheet::photo_moments(
            main.pattern.sessions.max(1),
            scene.fading.normal.years_to_touch_up(),
        );
        let sheet = ClientSheet {
            client_name: main.label.clone(),
            title: "Scalp micropigmentation: your design, healed, on your photo".into(),
            before: canvas.crop(canvas.photo(), 0.12),
            after: canvas.crop(&after, 0.12),
            after_label: moment.label(),
            timeline: photo_timeline(&scene, canvas, &moments, 240)?,
            sessions: main.sessions.clone(),
        };
        std::fs::write(args.out.join("client-sheet.png"), to_png(&sheet.png(1600))?)?;
        progress("client-sheet.png");
        std::fs::write(
            args.out.join("client-sheet.pdf"),
            sheet.pdf(main.letterhead.clone())?,
        )?;
        progress("client-sheet.pdf");
        eprintln!(
            "photo: scalp skin sRGB {:?}, fringe {}",
            canvas.skin_srgb(),
            canvas
                .fringe_srgb()
                .map_or_else(|| "not seen".to_string(), |f| format!("sRGB {f:?}"))
        );
    }
    Ok(())
}

/// Reads the photo and its landmarks and prepares the photo for the pattern.
fn prepare_photo(
    scene: &Scene<'_>,
    photo: &Path,
    landmarks: &Path,
    view: View,
    keep_hair_darker_than: Option<f32>,
) -> anyhow::Result<PhotoCanvas> {
    let bytes = std::fs::read(photo)
        .map_err(|e| UserError(format!("{}: cannot read the photo: {e}", photo.display())))?;
    let image = decode_photo(&bytes).map_err(|e| UserError(format!("{}: {e}", photo.display())))?;
    let text = read_input(landmarks, "landmarks file")?;
    let json_error = |e: serde_json::Error| {
        UserError(format!(
            "{}:{}:{}: {e}",
            landmarks.display(),
            e.line(),
            e.column()
        ))
    };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(json_error)?;
    // A list of landmarks, or an object of lists keyed by the photo's file name (one file for
    // several photos).
    let marks = match value {
        serde_json::Value::Object(mut by_photo) => {
            let name = photo
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let list = by_photo.remove(&name).ok_or_else(|| {
                UserError(format!(
                    "{}: no landmarks for {name:?}; the file has {}",
                    landmarks.display(),
                    by_photo
                        .keys()
                        .filter(|k| !k.starts_with('_'))
                        .map(|k| format!("{k:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            serde_json::from_value(list)
                .map_err(|e| UserError(format!("{}: {name:?}: {e}", landmarks.display())))?
        }
        list => {
            serde_json::from_value(list).map_err(|e| UserError(format!("{}: {e}", landmarks.display())))?
        }
    };
    let spec = Overlay {
        view,
        landmarks: marks,
        keep_hair_darker_than,
    };
    Ok(PhotoCanvas::new(scene, &image, &spec)
        .map_err(|e| UserError(format!("{}: {e}", landmarks.display())))?)
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
