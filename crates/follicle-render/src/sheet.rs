//! Sheets: several previews in one picture with labels — the timeline strip (after each
//! session, then years later) and two designs side by side.

use std::sync::LazyLock;

use ab_glyph::{Font, FontRef, GlyphId, PxScale, PxScaleFont, ScaleFont, point};
use follicle_docs::fonts;
use image::RgbImage;

use crate::error::RenderError;
use crate::moment::Moment;
use crate::scene::{Scene, View};

/// A labels' typeface, read once: DejaVu Sans (the documents' font, `follicle_docs::fonts`)
/// and its height (ascent to descent) per unit of capital height, from its own capital H.
struct LabelFont {
    font: FontRef<'static>,
    height_per_cap: f32,
}

impl LabelFont {
    fn read(bytes: &'static [u8]) -> Option<LabelFont> {
        let font = FontRef::try_from_slice(bytes).ok()?;
        let cap = font
            .outline(font.glyph_id('H'))
            .map_or(1493.0, |o| o.bounds.height().abs())
            .max(1.0);
        let height_per_cap = (font.ascent_unscaled() - font.descent_unscaled()) / cap;
        Some(LabelFont { font, height_per_cap })
    }

    /// The size that gives capitals `7 × scale` pixels tall (the height the labels were laid
    /// out for).
    fn scale(&self, scale: u32) -> PxScale {
        PxScale::from(7.0 * scale.max(1) as f32 * self.height_per_cap)
    }
}

static REGULAR: LazyLock<Option<LabelFont>> = LazyLock::new(|| LabelFont::read(fonts::REGULAR));
static BOLD: LazyLock<Option<LabelFont>> = LazyLock::new(|| LabelFont::read(fonts::BOLD));

fn label_font(bold: bool) -> Option<&'static LabelFont> {
    if bold { BOLD.as_ref() } else { REGULAR.as_ref() }
}

/// Each glyph of `text` set from `x` (kerned), with where it starts; and where the text ends.
fn set_glyphs(scaled: &PxScaleFont<&FontRef<'_>>, text: &str, x: f32) -> (Vec<(GlyphId, f32)>, f32) {
    let mut caret = x;
    let mut previous = None;
    let mut glyphs = Vec::with_capacity(text.len());
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = previous {
            caret += scaled.kern(p, id);
        }
        previous = Some(id);
        glyphs.push((id, caret));
        caret += scaled.h_advance(id);
    }
    (glyphs, caret)
}

/// Draws `text` with the top of its capitals at `y` and its left edge at `x`, capitals
/// `7 × scale` pixels tall, anti-aliased over what is there.
pub fn draw_text(img: &mut RgbImage, text: &str, x: u32, y: u32, scale: u32, colour: [u8; 3]) {
    draw_text_in(img, text, x, y, scale, colour, false);
}

/// [`draw_text`] in regular or bold.
pub fn draw_text_in(img: &mut RgbImage, text: &str, x: u32, y: u32, scale: u32, colour: [u8; 3], bold: bool) {
    let Some(label) = label_font(bold) else {
        return;
    };
    let (font, px) = (&label.font, label.scale(scale));
    let baseline = y as f32 + 7.0 * scale.max(1) as f32;
    let (glyphs, _) = set_glyphs(&font.as_scaled(px), text, x as f32);
    for (id, at) in glyphs {
        let Some(outline) = font.outline_glyph(id.with_scale_and_position(px, point(at, baseline))) else {
            continue;
        };
        let bounds = outline.px_bounds();
        outline.draw(|gx, gy, coverage| {
            let (px, py) = (
                bounds.min.x as i64 + i64::from(gx),
                bounds.min.y as i64 + i64::from(gy),
            );
            if px < 0 || py < 0 || px >= i64::from(img.width()) || py >= i64::from(img.height()) {
                return;
            }
            let a = coverage.clamp(0.0, 1.0);
            let pixel = img.get_pixel_mut(px as u32, py as u32);
            for (v, c) in pixel.0.iter_mut().zip(colour) {
                *v = (f32::from(*v) * (1.0 - a) + f32::from(c) * a).round() as u8;
            }
        });
    }
}

/// Width in pixels of `text` drawn by [`draw_text`] at `scale`.
pub fn text_width(text: &str, scale: u32) -> u32 {
    text_width_in(text, scale, false)
}

/// [`text_width`] in regular or bold.
pub fn text_width_in(text: &str, scale: u32, bold: bool) -> u32 {
    let Some(label) = label_font(bold) else {
        return 0;
    };
    let (_, end) = set_glyphs(&label.font.as_scaled(label.scale(scale)), text, 0.0);
    end.ceil().max(0.0) as u32
}

/// A label as a sentence begins: its first letter a capital.
pub fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Images in a row, each with a label centred under it.
pub fn side_by_side(images: &[&RgbImage], labels: &[&str], background: [u8; 3]) -> RgbImage {
    let gap = 12u32;
    let height = images.iter().map(|i| i.height()).max().unwrap_or(1);
    // Capitals about a fifteenth of the pictures' height, smaller where a label would be wider
    // than its picture.
    let mut scale = (height / 110).clamp(1, 4);
    while scale > 1
        && images
            .iter()
            .zip(labels)
            .any(|(img, label)| text_width(label, scale) > img.width())
    {
        scale -= 1;
    }
    let label_h = 7 * scale + 2 * gap;
    let width = images.iter().map(|i| i.width()).sum::<u32>() + gap * (images.len() as u32 + 1);
    let mut out = RgbImage::from_pixel(width.max(1), height + label_h + gap, image::Rgb(background));
    let mut x = gap;
    for (i, img) in images.iter().enumerate() {
        image::imageops::overlay(&mut out, *img, i64::from(x), i64::from(gap));
        if let Some(label) = labels.get(i) {
            let tw = text_width(label, scale);
            let lx = x + img.width().saturating_sub(tw) / 2;
            draw_text(&mut out, label, lx, height + gap + gap / 2, scale, [40, 40, 40]);
        }
        x += img.width() + gap;
    }
    out
}

/// The moments of the timeline strip: after each session (up to three), then years 1, 3, 5, 8.
pub fn timeline_moments(sessions: u8) -> Vec<Moment> {
    let mut m: Vec<Moment> = (1..=sessions.clamp(1, 3))
        .map(|s| Moment::Healed { session: s })
        .collect();
    if sessions > 3 {
        m.push(Moment::Healed { session: sessions });
    }
    m.extend([1.0, 3.0, 5.0, 8.0].map(|years| Moment::Years {
        years,
        touch_ups: vec![],
    }));
    m
}

/// The moments shown on the client's photo: healed after each session (up to three, then the
/// last), faded when the touch-up falls due (`touch_up_years` after the last session, from
/// the client's fading model), and just after that touch-up.
pub fn photo_moments(sessions: u8, touch_up_years: f64) -> Vec<Moment> {
    let mut m: Vec<Moment> = (1..=sessions.clamp(1, 3))
        .map(|s| Moment::Healed { session: s })
        .collect();
    if sessions > 3 {
        m.push(Moment::Healed { session: sessions });
    }
    let due = if touch_up_years.is_finite() {
        touch_up_years.clamp(1.0, 30.0).round()
    } else {
        5.0
    };
    m.push(Moment::Years {
        years: due,
        touch_ups: vec![],
    });
    m.push(Moment::Years {
        years: due,
        touch_ups: vec![due],
    });
    m
}

/// The timeline strip of one view: healed after each session, then years 1, 3, 5, 8.
pub fn timeline(scene: &Scene<'_>, view: View, panel: u32) -> Result<RgbImage, RenderError> {
    let moments = timeline_moments(scene.pattern.sessions.max(1));
    let panels: Vec<RgbImage> = moments
        .iter()
        .map(|m| scene.render(view, m, panel, panel))
        .collect::<Result<_, _>>()?;
    let labels: Vec<String> = moments.iter().map(|m| capitalised(&m.label())).collect();
    let refs: Vec<&RgbImage> = panels.iter().collect();
    let label_refs: Vec<&str> = labels.iter().map(String::as_str).collect();
    Ok(side_by_side(&refs, &label_refs, [255, 255, 255]))
}

/// Two designs side by side at the same moment and view.
pub fn compare(
    a: &Scene<'_>,
    b: &Scene<'_>,
    labels: [&str; 2],
    view: View,
    moment: &Moment,
    panel: u32,
) -> Result<RgbImage, RenderError> {
    let left = a.render(view, moment, panel, panel)?;
    let right = b.render(view, moment, panel, panel)?;
    Ok(side_by_side(&[&left, &right], &labels, [255, 255, 255]))
}
