//! Photos taken to be compared, and the design on them.
//!
//! **Capture checks.** An upload is decoded once and measured: its size (a photo too small to
//! show a healed dot is refused), its mean grey level (too dark, too bright) and its sharpness
//! (the variance of the Laplacian of the grey image reduced to [`CHECK_SIDE_PX`] on its long
//! side). The thresholds are the clinic's `[photos]` settings; the studio's capture page shows
//! the same hints in the browser before the upload.
//!
//! **The designer's photo view.** The warp between the photo and the head model
//! ([`follicle_render::photo::PhotoWarp`], a thin-plate spline through the landmarks the
//! practitioner placed) depends on the photo, the landmarks and the head, not on the hairline
//! or the zones. So it is fitted once and sent to the page as two grids ([`WarpGrids`]):
//! chart mm → photo pixel, which places every dot of every edit on the photo while the
//! hairline is dragged, and photo pixel → chart mm, which turns a drag on the photo into a
//! hairline point on the chart. The page keeps the grids per photo and landmarks. The healed
//! look on the photo (any moment: after a session, years later, after a touch-up) is drawn
//! by the server ([`overlay_png`]) when the design stands still.
//!
//! **The client sheet.** [`client_sheet`] builds the render crate's
//! [`ClientSheet`] of a stored design on the
//! client's front photo (and top photo, when it has landmarks): the photo before and healed
//! after the last session, the timeline on the photo (healed after each session, faded when the
//! touch-up falls due, just after the touch-up: [`follicle_render::sheet::photo_moments`]) and
//! the plan's sessions with their dates. The API answers it as PNG or PDF.

use follicle_core::settings::PhotoCheckSettings;
use follicle_pattern::Pattern;
use follicle_render::client_sheet::{ClientSheet, Letterhead, SheetSession};
use follicle_render::photo::{self, Landmark, LandmarkName, Overlay, PhotoCanvas, PhotoWarp};
use follicle_render::{Look, Moment, RenderError, Scene, View, to_png};
use image::imageops::FilterType;
use image::{GrayImage, RgbImage};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};

/// The long side, pixels, a photo is reduced to before its sharpness is measured (so the
/// figure does not depend on the camera's resolution; `photos.min_sharpness` is given for it).
pub const CHECK_SIDE_PX: u32 = 512;
/// The long side, pixels, of the photo the healed look is drawn on (the page shows it at most
/// this wide; drawing the full 12-megapixel original would take seconds).
pub const OVERLAY_SIDE_PX: u32 = 900;
/// Photo pixels between the nodes of the photo → chart grid, at most this many nodes a side.
const PHOTO_GRID_NODES: u32 = 96;
/// Chart millimetres between the nodes of the chart → photo grid.
const CHART_GRID_STEP_MM: f64 = 3.0;

/// What the capture checks measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct PhotoQuality {
    /// Width, pixels.
    pub width: u32,
    /// Height, pixels.
    pub height: u32,
    /// Mean grey level, 0–1.
    pub brightness: f64,
    /// Variance of the Laplacian of the reduced grey image.
    pub sharpness: f64,
}

/// Measures a decoded photo.
pub fn measure(img: &RgbImage) -> PhotoQuality {
    let (width, height) = img.dimensions();
    let grey: GrayImage = image::imageops::grayscale(img);
    let long = width.max(height).max(1);
    let grey = if long > CHECK_SIDE_PX {
        let k = f64::from(CHECK_SIDE_PX) / f64::from(long);
        let (w, h) = (
            ((f64::from(width) * k).round() as u32).max(1),
            ((f64::from(height) * k).round() as u32).max(1),
        );
        image::imageops::resize(&grey, w, h, FilterType::Triangle)
    } else {
        grey
    };
    let (w, h) = grey.dimensions();
    let px = |x: u32, y: u32| f64::from(grey.get_pixel(x, y).0[0]);
    let n = f64::from(w) * f64::from(h);
    let brightness = grey.pixels().map(|p| f64::from(p.0[0])).sum::<f64>() / n.max(1.0) / 255.0;
    let (mut sum, mut sum2, mut count) = (0.0, 0.0, 0.0);
    for y in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            let l = px(x - 1, y) + px(x + 1, y) + px(x, y - 1) + px(x, y + 1) - 4.0 * px(x, y);
            sum += l;
            sum2 += l * l;
            count += 1.0;
        }
    }
    let sharpness = if count > 0.0 {
        let mean = sum / count;
        sum2 / count - mean * mean
    } else {
        0.0
    };
    PhotoQuality {
        width,
        height,
        brightness,
        sharpness,
    }
}

/// The checks' verdict: `Err` (refused, with why) or the warnings (empty when all is well).
pub fn judge(q: &PhotoQuality, s: &PhotoCheckSettings) -> Result<Vec<String>, String> {
    let side = q.width.min(q.height);
    if side < s.min_side_px {
        return Err(format!(
            "photo: {} × {} pixels is too small to compare; the shorter side must be at least {} pixels (setting photos.min_side_px)",
            q.width, q.height, s.min_side_px
        ));
    }
    let mut warnings = Vec::new();
    if q.brightness < s.min_brightness {
        warnings.push(format!(
            "The photo is too dark (brightness {:.2}, at least {:.2} wanted): add light or face the client to the window, and take it again.",
            q.brightness, s.min_brightness
        ));
    }
    if q.brightness > s.max_brightness {
        warnings.push(format!(
            "The photo is too bright (brightness {:.2}, at most {:.2} wanted): the scalp's tone is lost; move out of direct light and take it again.",
            q.brightness, s.max_brightness
        ));
    }
    if q.sharpness < s.min_sharpness {
        warnings.push(format!(
            "The photo looks blurred (sharpness {:.0}, at least {:.0} wanted): hold the camera still, let it focus on the scalp, and take it again.",
            q.sharpness, s.min_sharpness
        ));
    }
    Ok(warnings)
}

/// Decodes and checks an upload off the async threads: refused (422 naming `photo`) when it is
/// not an image or too small; otherwise the warnings.
pub async fn check_upload(bytes: &[u8], s: &PhotoCheckSettings) -> ApiResult<Vec<String>> {
    let (bytes, s) = (bytes.to_vec(), s.clone());
    tokio::task::spawn_blocking(move || {
        let img = photo::decode_photo(&bytes).map_err(|e| ApiError::invalid("photo", e.to_string()))?;
        judge(&measure(&img), &s).map_err(|m| ApiError::invalid("photo", m))
    })
    .await
    .map_err(ApiError::internal)?
}

/// The design and the landmarks to put it on a photo with.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhotoDesignInput {
    /// The design as a pattern request.
    #[schema(value_type = follicle_pattern::PatternRequest)]
    pub design: Value,
    /// The landmarks placed on the photo (pixels of the stored image); at least three.
    pub landmarks: Vec<PlacedLandmark>,
    /// `front`, `top`, `left`, `right` or `back` (default: the photo's angle).
    #[serde(default)]
    pub view: Option<String>,
    /// `healed:N`, `years:Y` or `years:Y@T` (a touch-up at year T; default healed after the
    /// last session).
    #[serde(default)]
    pub moment: Option<String>,
    /// The skin, I–VI, for the fading model (default III); the photo gives the colour.
    #[serde(default)]
    pub fitzpatrick: Option<String>,
}

/// A landmark placed on a photo.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlacedLandmark {
    /// `glabella`, `lateral_canthus_right`, `lateral_canthus_left`, `ear_right`, `ear_left`,
    /// `vertex`, `crown_whorl` or `occipital_fringe` ("right" and "left" are the client's).
    #[schema(value_type = String, example = "glabella")]
    pub name: LandmarkName,
    /// Pixels from the left of the stored image.
    pub x_px: f64,
    /// Pixels from its top.
    pub y_px: f64,
}

impl From<PlacedLandmark> for Landmark {
    fn from(l: PlacedLandmark) -> Landmark {
        Landmark {
            name: l.name,
            x_px: l.x_px,
            y_px: l.y_px,
        }
    }
}

/// A regular grid of 2-D points; `null` where the map has no value (off the head, or facing
/// away from the camera).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Grid {
    /// Where the first node is (photo px or chart mm).
    pub origin: [f64; 2],
    /// Distance between nodes (photo px or chart mm).
    pub step: f64,
    /// Nodes a row.
    pub cols: u32,
    /// Rows.
    pub rows: u32,
    /// Row by row, `[x, y]` of each node's image, or `null`.
    pub points: Vec<Option<[f32; 2]>>,
}

/// The warp between a photo and the chart, sampled for the page.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WarpGrids {
    /// The photo's width, pixels.
    pub width: u32,
    /// Its height.
    pub height: u32,
    /// The view the photo was taken from.
    pub view: String,
    /// Photo pixel → chart mm.
    pub photo_to_chart: Grid,
    /// Chart mm → photo pixel.
    pub chart_to_photo: Grid,
}

fn render_error(e: RenderError) -> ApiError {
    match e {
        RenderError::Invalid { field, message } => ApiError::invalid(field, message),
        RenderError::Photo(m) => ApiError::invalid("photo", m),
        RenderError::Encode(m) | RenderError::Mesh(m) => ApiError::internal(m),
        RenderError::Stopped => ApiError::busy("the request was gone; the render was stopped", 1),
    }
}

/// The view a photo of `angle` was taken from, or the one asked for.
pub fn view_for(asked: Option<&str>, angle: &str) -> ApiResult<View> {
    let name = asked.unwrap_or(angle);
    let view = View::parse(name).map_err(|e| ApiError::invalid("view", e))?;
    if view == View::Chart {
        return Err(ApiError::invalid(
            "view",
            format!(
                "a photo of angle {angle:?} has no view on the chart: give front, top, left, right or back"
            ),
        ));
    }
    Ok(view)
}

fn scene<'a>(pattern: &'a Pattern, look: &Look, settings: &'a follicle_render::RenderSettings) -> Scene<'a> {
    Scene {
        pattern,
        skin: look.skin,
        hair: look.hair,
        fading: look.fading,
        settings,
    }
}

fn fit(scene: &Scene<'_>, view: View, landmarks: &[Landmark], w: u32, h: u32) -> ApiResult<PhotoWarp> {
    let spec = Overlay {
        view,
        landmarks: landmarks.to_vec(),
        keep_hair_darker_than: None,
    };
    PhotoWarp::fit(scene, &spec, w, h).map_err(render_error)
}

fn round(p: [f64; 2]) -> [f32; 2] {
    p.map(|v| ((v * 10.0).round() / 10.0) as f32)
}

/// Samples the warp of `landmarks` on a `width × height` photo for the page.
pub fn warp_grids(
    pattern: &Pattern,
    look: &Look,
    view: View,
    landmarks: &[Landmark],
    width: u32,
    height: u32,
) -> ApiResult<WarpGrids> {
    let settings = look.render_settings();
    let scene = scene(pattern, look, &settings);
    let warp = fit(&scene, view, landmarks, width, height)?;
    let head = &pattern.head;
    let step = (f64::from(width.max(height)) / f64::from(PHOTO_GRID_NODES)).max(1.0);
    let (cols, rows) = (
        (f64::from(width) / step).ceil() as u32 + 1,
        (f64::from(height) / step).ceil() as u32 + 1,
    );
    let mut points = Vec::with_capacity((cols * rows) as usize);
    for r in 0..rows {
        for c in 0..cols {
            let p = [f64::from(c) * step, f64::from(r) * step];
            points.push(warp.photo_to_chart(head, p).map(round));
        }
    }
    let photo_to_chart = Grid {
        origin: [0.0, 0.0],
        step,
        cols,
        rows,
        points,
    };
    let (mut lo, mut hi) = ([f64::MAX; 2], [f64::MIN; 2]);
    for p in pattern.outline.iter().chain(&pattern.hairline.points) {
        lo = [lo[0].min(p[0]), lo[1].min(p[1])];
        hi = [hi[0].max(p[0]), hi[1].max(p[1])];
    }
    // A margin round the outline, for a hairline dragged past it.
    let margin = 10.0 * CHART_GRID_STEP_MM;
    let origin = [lo[0] - margin, lo[1] - margin];
    let (cols, rows) = (
        ((hi[0] - lo[0] + 2.0 * margin) / CHART_GRID_STEP_MM).ceil() as u32 + 1,
        ((hi[1] - lo[1] + 2.0 * margin) / CHART_GRID_STEP_MM).ceil() as u32 + 1,
    );
    let mut points = Vec::with_capacity((cols * rows) as usize);
    for r in 0..rows {
        for c in 0..cols {
            let q = [
                origin[0] + f64::from(c) * CHART_GRID_STEP_MM,
                origin[1] + f64::from(r) * CHART_GRID_STEP_MM,
            ];
            points.push(warp.chart_to_photo(head, q).map(round));
        }
    }
    Ok(WarpGrids {
        width,
        height,
        view: view.as_str().to_owned(),
        photo_to_chart,
        chart_to_photo: Grid {
            origin,
            step: CHART_GRID_STEP_MM,
            cols,
            rows,
            points,
        },
    })
}

/// The photo reduced to at most [`OVERLAY_SIDE_PX`] on its long side, and the landmarks
/// scaled with it.
fn reduced(photo: &RgbImage, landmarks: &[Landmark]) -> (RgbImage, Vec<Landmark>) {
    let (w, h) = photo.dimensions();
    let long = w.max(h);
    if long <= OVERLAY_SIDE_PX {
        return (photo.clone(), landmarks.to_vec());
    }
    let k = f64::from(OVERLAY_SIDE_PX) / f64::from(long);
    let (nw, nh) = (
        ((f64::from(w) * k).round() as u32).max(1),
        ((f64::from(h) * k).round() as u32).max(1),
    );
    let img = image::imageops::resize(photo, nw, nh, FilterType::Triangle);
    let scaled = landmarks
        .iter()
        .map(|l| Landmark {
            name: l.name,
            x_px: l.x_px * f64::from(nw) / f64::from(w),
            y_px: l.y_px * f64::from(nh) / f64::from(h),
        })
        .collect();
    (img, scaled)
}

/// The moment asked for, checked against the design's sessions.
pub fn moment(asked: Option<&str>, sessions: u8) -> ApiResult<Moment> {
    let m = match asked {
        Some(m) => Moment::parse(m).map_err(|e| ApiError::invalid("moment", e))?,
        None => Moment::Healed {
            session: sessions.max(1),
        },
    };
    m.validate(sessions)
        .map_err(|e| ApiError::invalid("moment", e.to_string()))?;
    Ok(m)
}

/// The photo (reduced) and the healed look of the design on it at `moment`.
pub fn overlay_images(
    pattern: &Pattern,
    look: &Look,
    view: View,
    landmarks: &[Landmark],
    photo: &RgbImage,
    moment: &Moment,
) -> ApiResult<(RgbImage, RgbImage)> {
    let settings = look.render_settings();
    let scene = scene(pattern, look, &settings);
    let (before, marks) = reduced(photo, landmarks);
    let spec = Overlay {
        view,
        landmarks: marks,
        keep_hair_darker_than: None,
    };
    let (after, _) = photo::overlay(&scene, &before, &spec, moment).map_err(render_error)?;
    Ok((before, after))
}

/// What a photo route needs, gathered by the handler: the pattern, the look, the photo.
#[derive(Debug)]
pub struct PhotoJob {
    /// The design's dots.
    pub pattern: Arc<Pattern>,
    /// The skin and fading.
    pub look: Look,
    /// The decoded photo.
    pub photo: RgbImage,
    /// The view it was taken from.
    pub view: View,
    /// Where the landmarks are on it.
    pub landmarks: Vec<Landmark>,
    /// Which moment to show.
    pub moment: Option<String>,
}

/// The healed look on the photo, PNG.
pub fn overlay_png(job: &PhotoJob) -> ApiResult<Vec<u8>> {
    let m = moment(job.moment.as_deref(), job.pattern.sessions)?;
    let (_, after) = overlay_images(&job.pattern, &job.look, job.view, &job.landmarks, &job.photo, &m)?;
    to_png(&after).map_err(ApiError::internal)
}

/// The side, pixels, of each picture of the timeline on the client sheet.
pub const SHEET_PANEL_PX: u32 = 240;
/// The width, pixels, of the client sheet as PNG.
pub const SHEET_WIDTH_PX: u32 = 1600;
/// The margin round the treated scalp in the sheet's crops, as a share of its size.
const SHEET_CROP_MARGIN: f32 = 0.12;

/// A photo of the client, upright, with the landmarks kept with it.
#[derive(Debug)]
pub struct SheetPhoto {
    /// The photo, upright.
    pub photo: RgbImage,
    /// The view it was taken from (front or top).
    pub view: View,
    /// The landmarks kept with it, upright photo pixels.
    pub landmarks: Vec<Landmark>,
}

/// What the client sheet is made of, gathered by the handler.
#[derive(Debug)]
pub struct SheetJob {
    /// The design's dots.
    pub pattern: Arc<Pattern>,
    /// The client's skin, hair and fading.
    pub look: Look,
    /// The client's name.
    pub client_name: String,
    /// The line under it.
    pub title: String,
    /// The front photo.
    pub front: SheetPhoto,
    /// The top photo, when it has landmarks.
    pub top: Option<SheetPhoto>,
    /// The plan's sessions.
    pub sessions: Vec<SheetSession>,
    /// The clinic, at the top of the PDF.
    pub letterhead: Letterhead,
}

/// The moments the client sheet shows on the photos: healed after each session (up to three,
/// then the last), faded when the touch-up falls due by the client's fading model, and just
/// after that touch-up.
pub fn sheet_moments(pattern: &Pattern, look: &Look) -> Vec<Moment> {
    follicle_render::sheet::photo_moments(pattern.sessions.max(1), look.fading.normal.years_to_touch_up())
}

/// The photo prepared for the pattern (reduced to [`OVERLAY_SIDE_PX`]) and its timeline.
fn sheet_canvas(scene: &Scene<'_>, p: &SheetPhoto, field: &str) -> ApiResult<PhotoCanvas> {
    let (img, marks) = reduced(&p.photo, &p.landmarks);
    let spec = Overlay {
        view: p.view,
        landmarks: marks,
        keep_hair_darker_than: None,
    };
    PhotoCanvas::new(scene, &img, &spec).map_err(|e| match e {
        // The kept landmarks do not fit the head: say which photo's ("photo.landmarks[2]").
        RenderError::Invalid { field: f, message } => {
            let within = f.strip_prefix("overlay.").unwrap_or(&f);
            ApiError::invalid(
                format!("{field}.{within}"),
                format!("{message} (the landmarks kept with this photo: move them on the photo and save)"),
            )
        }
        other => render_error(other),
    })
}

/// Two pictures one above the other on white, centred.
fn stacked(a: &RgbImage, b: &RgbImage) -> RgbImage {
    let w = a.width().max(b.width());
    let mut out = RgbImage::from_pixel(w, a.height() + b.height(), image::Rgb([255, 255, 255]));
    image::imageops::overlay(&mut out, a, i64::from((w - a.width()) / 2), 0);
    image::imageops::overlay(&mut out, b, i64::from((w - b.width()) / 2), i64::from(a.height()));
    out
}

/// The client sheet of a design on the client's photos: before and healed after the last
/// session on the front photo, the timeline on the front photo (and below it on the top
/// photo), the plan's sessions.
pub fn client_sheet(job: &SheetJob) -> ApiResult<ClientSheet> {
    let settings = job.look.render_settings();
    let scene = scene(&job.pattern, &job.look, &settings);
    let moments = sheet_moments(&job.pattern, &job.look);
    let last = Moment::Healed {
        session: job.pattern.sessions.max(1),
    };
    let front = sheet_canvas(&scene, &job.front, "photo")?;
    let after = front.render(&scene, &last).map_err(render_error)?;
    let mut timeline =
        photo::photo_timeline(&scene, &front, &moments, SHEET_PANEL_PX).map_err(render_error)?;
    if let Some(top) = &job.top {
        let canvas = sheet_canvas(&scene, top, "top_photo")?;
        let strip = photo::photo_timeline(&scene, &canvas, &moments, SHEET_PANEL_PX).map_err(render_error)?;
        timeline = stacked(&timeline, &strip);
    }
    // The plan's sessions, then the touch-up the timeline shows (when it falls due by the
    // client's fading model).
    let mut sessions = job.sessions.clone();
    if let Some(years) = moments.iter().find_map(|m| match m {
        Moment::Years { years, touch_ups } if touch_ups.is_empty() => Some(*years),
        _ => None,
    }) {
        sessions.push(SheetSession {
            label: "Touch-up".to_owned(),
            date: format!("year {years}"),
            note: format!("pictured faded at year {years}, then just after the touch-up"),
        });
    }
    Ok(ClientSheet {
        client_name: job.client_name.clone(),
        title: job.title.clone(),
        before: front.crop(front.photo(), SHEET_CROP_MARGIN),
        after: front.crop(&after, SHEET_CROP_MARGIN),
        after_label: last.label(),
        timeline,
        sessions,
    })
}

/// The client sheet as PNG, [`SHEET_WIDTH_PX`] wide.
pub fn client_sheet_png(job: &SheetJob) -> ApiResult<Vec<u8>> {
    to_png(&client_sheet(job)?.png(SHEET_WIDTH_PX)).map_err(ApiError::internal)
}

/// The client sheet as an A4 PDF on the clinic's letterhead.
pub fn client_sheet_pdf(job: &SheetJob) -> ApiResult<Vec<u8>> {
    client_sheet(job)?
        .pdf(job.letterhead.clone())
        .map_err(render_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> PhotoCheckSettings {
        follicle_core::Settings::default().photos.clone()
    }

    /// A `w × h` photo of stripes `period` pixels wide at grey levels `lo` and `hi`.
    fn stripes(w: u32, h: u32, period: u32, lo: u8, hi: u8) -> RgbImage {
        RgbImage::from_fn(w, h, |x, _| {
            let v = if (x / period).is_multiple_of(2) { lo } else { hi };
            image::Rgb([v, v, v])
        })
    }

    #[test]
    fn a_sharp_well_lit_photo_passes() {
        let q = measure(&stripes(800, 600, 3, 60, 180));
        assert!((q.brightness - 0.47).abs() < 0.02, "{q:?}");
        assert_eq!(judge(&q, &settings()), Ok(vec![]));
    }

    #[test]
    fn too_small_is_refused_naming_the_setting() {
        let e = judge(&measure(&stripes(64, 48, 3, 60, 180)), &settings()).unwrap_err();
        assert!(e.contains("64 × 48") && e.contains("photos.min_side_px"), "{e}");
    }

    #[test]
    fn dark_bright_and_blurred_photos_are_warned_about() {
        let s = settings();
        let dark = judge(&measure(&stripes(800, 600, 3, 5, 30)), &s).unwrap();
        assert!(dark.iter().any(|w| w.contains("too dark")), "{dark:?}");
        let bright = judge(&measure(&stripes(800, 600, 3, 235, 255)), &s).unwrap();
        assert!(bright.iter().any(|w| w.contains("too bright")), "{bright:?}");
        let flat = judge(&measure(&stripes(800, 600, 800, 120, 120)), &s).unwrap();
        assert_eq!(flat.len(), 1, "{flat:?}");
        assert!(flat[0].contains("blurred"), "{flat:?}");
        // The real studio portrait is sharp; blurred, it is not.
        let real = image::load_from_memory(include_bytes!("../../../assets/photos/E_W_Dahlgren.jpg"))
            .unwrap()
            .to_rgb8();
        assert_eq!(judge(&measure(&real), &s), Ok(vec![]));
        let soft = image::imageops::blur(&real, 3.0);
        let w = judge(&measure(&soft), &s).unwrap();
        assert!(w.iter().any(|w| w.contains("blurred")), "{w:?}");
    }

    #[test]
    fn views_are_those_of_a_photo() {
        assert_eq!(view_for(None, "front").unwrap(), View::Front);
        assert_eq!(view_for(Some("top"), "front").unwrap(), View::Top);
        assert!(view_for(None, "other").is_err());
        assert!(view_for(Some("chart"), "front").is_err());
    }
}
