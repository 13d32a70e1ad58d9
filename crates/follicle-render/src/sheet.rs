//! Sheets: several previews in one picture with labels — the timeline strip (after each
//! session, then years later) and two designs side by side.

use image::RgbImage;

use crate::error::RenderError;
use crate::moment::Moment;
use crate::scene::{Scene, View};

/// A 5 × 7 bitmap font for labels: upper-case letters, digits and a little punctuation.
/// Each glyph is seven rows of five bits (most significant bit on the left).
fn glyph(c: char) -> [u8; 7] {
    match c.to_ascii_uppercase() {
        'A' => [14, 17, 17, 31, 17, 17, 17],
        'B' => [30, 17, 17, 30, 17, 17, 30],
        'C' => [14, 17, 16, 16, 16, 17, 14],
        'D' => [30, 17, 17, 17, 17, 17, 30],
        'E' => [31, 16, 16, 30, 16, 16, 31],
        'F' => [31, 16, 16, 30, 16, 16, 16],
        'G' => [14, 17, 16, 23, 17, 17, 15],
        'H' => [17, 17, 17, 31, 17, 17, 17],
        'I' => [14, 4, 4, 4, 4, 4, 14],
        'J' => [7, 2, 2, 2, 2, 18, 12],
        'K' => [17, 18, 20, 24, 20, 18, 17],
        'L' => [16, 16, 16, 16, 16, 16, 31],
        'M' => [17, 27, 21, 21, 17, 17, 17],
        'N' => [17, 17, 25, 21, 19, 17, 17],
        'O' => [14, 17, 17, 17, 17, 17, 14],
        'P' => [30, 17, 17, 30, 16, 16, 16],
        'Q' => [14, 17, 17, 17, 21, 18, 13],
        'R' => [30, 17, 17, 30, 20, 18, 17],
        'S' => [15, 16, 16, 14, 1, 1, 30],
        'T' => [31, 4, 4, 4, 4, 4, 4],
        'U' => [17, 17, 17, 17, 17, 17, 14],
        'V' => [17, 17, 17, 17, 17, 10, 4],
        'W' => [17, 17, 17, 21, 21, 21, 10],
        'X' => [17, 17, 10, 4, 10, 17, 17],
        'Y' => [17, 17, 10, 4, 4, 4, 4],
        'Z' => [31, 1, 2, 4, 8, 16, 31],
        '0' => [14, 17, 19, 21, 25, 17, 14],
        '1' => [4, 12, 4, 4, 4, 4, 14],
        '2' => [14, 17, 1, 2, 4, 8, 31],
        '3' => [31, 2, 4, 2, 1, 17, 14],
        '4' => [2, 6, 10, 18, 31, 2, 2],
        '5' => [31, 16, 30, 1, 1, 17, 14],
        '6' => [6, 8, 16, 30, 17, 17, 14],
        '7' => [31, 1, 2, 4, 8, 8, 8],
        '8' => [14, 17, 17, 14, 17, 17, 14],
        '9' => [14, 17, 17, 15, 1, 2, 12],
        '.' => [0, 0, 0, 0, 0, 12, 12],
        ',' => [0, 0, 0, 0, 12, 4, 8],
        '-' => [0, 0, 0, 31, 0, 0, 0],
        ':' => [0, 12, 12, 0, 12, 12, 0],
        '(' => [2, 4, 8, 8, 8, 4, 2],
        ')' => [8, 4, 2, 2, 2, 4, 8],
        '/' => [1, 1, 2, 4, 8, 16, 16],
        '+' => [0, 4, 4, 31, 4, 4, 0],
        _ => [0; 7],
    }
}

/// Draws `text` with its top-left corner at (x, y), each font pixel `scale` pixels wide.
pub fn draw_text(img: &mut RgbImage, text: &str, x: u32, y: u32, scale: u32, colour: [u8; 3]) {
    let scale = scale.max(1);
    for (i, c) in text.chars().enumerate() {
        let g = glyph(c);
        let gx = x + i as u32 * 6 * scale;
        for (row, bits) in g.iter().enumerate() {
            for col in 0..5u32 {
                if bits & (16 >> col) == 0 {
                    continue;
                }
                for dy in 0..scale {
                    for dx in 0..scale {
                        let (px, py) = (gx + col * scale + dx, y + row as u32 * scale + dy);
                        if px < img.width() && py < img.height() {
                            img.put_pixel(px, py, image::Rgb(colour));
                        }
                    }
                }
            }
        }
    }
}

/// Width in pixels of `text` at `scale`.
pub fn text_width(text: &str, scale: u32) -> u32 {
    (text.chars().count() as u32 * 6).saturating_sub(1) * scale.max(1)
}

/// Images in a row, each with a label centred under it.
pub fn side_by_side(images: &[&RgbImage], labels: &[&str], background: [u8; 3]) -> RgbImage {
    let gap = 12u32;
    let height = images.iter().map(|i| i.height()).max().unwrap_or(1);
    let scale = (height / 160).clamp(1, 4);
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
    let labels: Vec<String> = moments.iter().map(|m| m.label().to_uppercase()).collect();
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
