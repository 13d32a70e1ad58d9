//! The client's sheet: their photo before and after, the healed look over the years on their
//! own head, and the plan's sessions with their dates — as a PNG and as a one-page PDF to
//! hand over or send.
//!
//! The PDF is written with `pdf-writer`: the pictures as JPEG (DCT) images, the text in the
//! standard Helvetica font (no font file embedded), so a PDF reader and `pdftotext` read the
//! client's name and the session dates as text.

use image::RgbImage;
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str};

use crate::error::RenderError;
use crate::sheet::{draw_text, text_width};

/// One line of the plan on the sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct SheetSession {
    /// "Session 1", "Touch-up".
    pub label: String,
    /// The date, as the plan prints it (YYYY-MM-DD), or empty when not yet booked.
    pub date: String,
    /// What happens (zones, the mix), short.
    pub note: String,
}

/// Everything on a client's sheet.
#[derive(Debug, Clone)]
pub struct ClientSheet {
    /// The client's name as the clinic writes it.
    pub client_name: String,
    /// A title line under the name ("Scalp micropigmentation: your plan").
    pub title: String,
    /// The photo before (a crop round the head).
    pub before: RgbImage,
    /// The same crop with the healed pattern.
    pub after: RgbImage,
    /// What the after picture shows ("after session 3").
    pub after_label: String,
    /// The timeline on the photo (before, after each session, years later).
    pub timeline: RgbImage,
    /// The plan's sessions.
    pub sessions: Vec<SheetSession>,
}

const INK: [u8; 3] = [40, 40, 40];
const PAPER: [u8; 3] = [255, 255, 255];

impl ClientSheet {
    /// The sheet as one picture, `width` pixels wide.
    pub fn png(&self, width: u32) -> RgbImage {
        let width = width.max(400);
        let margin = width / 24;
        let inner = width - 2 * margin;
        let pair_w = (inner - margin) / 2;
        let before = crate::photo::fit(&self.before, pair_w);
        let after = crate::photo::fit(&self.after, pair_w);
        let k = f64::from(inner) / f64::from(self.timeline.width().max(1));
        let strip = image::imageops::resize(
            &self.timeline,
            inner,
            ((f64::from(self.timeline.height()) * k).round() as u32).max(1),
            image::imageops::FilterType::Triangle,
        );
        let big = (width / 400).max(2);
        let small = (width / 600).max(1);
        let line = 7 * small + 6 * small;
        let pair_h = before.height().max(after.height());
        let height = margin
            + 7 * big
            + 2 * line
            + margin
            + pair_h
            + line * 2
            + margin
            + strip.height()
            + margin
            + line * (self.sessions.len() as u32 + 1)
            + margin;
        let mut img = RgbImage::from_pixel(width, height, image::Rgb(PAPER));
        let mut y = margin;
        draw_text(&mut img, &self.client_name.to_uppercase(), margin, y, big, INK);
        y += 7 * big + line / 2;
        draw_text(&mut img, &self.title.to_uppercase(), margin, y, small, INK);
        y += 2 * line;
        image::imageops::overlay(&mut img, &before, i64::from(margin), i64::from(y));
        image::imageops::overlay(
            &mut img,
            &after,
            i64::from(margin + pair_w + margin),
            i64::from(y),
        );
        y += pair_h + line / 2;
        let centre = |img: &mut RgbImage, text: &str, x: u32, w: u32, y: u32| {
            let tw = text_width(text, small);
            draw_text(img, text, x + w.saturating_sub(tw) / 2, y, small, INK);
        };
        centre(&mut img, "BEFORE", margin, pair_w, y);
        centre(
            &mut img,
            &self.after_label.to_uppercase(),
            margin + pair_w + margin,
            pair_w,
            y,
        );
        y += line * 2;
        y += margin;
        image::imageops::overlay(&mut img, &strip, i64::from(margin), i64::from(y));
        y += strip.height() + margin;
        draw_text(&mut img, "YOUR SESSIONS", margin, y, small, INK);
        y += line;
        for s in &self.sessions {
            let mut text = format!("{}  {}  {}", s.label, s.date, s.note).to_uppercase();
            // What does not fit the page is cut with an ellipsis (the PDF has the full note).
            let fits = (inner / (6 * small)) as usize;
            if text.chars().count() > fits {
                text = text.chars().take(fits.saturating_sub(3)).collect::<String>() + "...";
            }
            draw_text(&mut img, &text, margin, y, small, INK);
            y += line;
        }
        img
    }

    /// The sheet as a one-page A4 PDF.
    pub fn pdf(&self) -> Result<Vec<u8>, RenderError> {
        const PAGE: [f32; 2] = [595.0, 842.0];
        const MARGIN: f32 = 40.0;
        let catalog = Ref::new(1);
        let tree = Ref::new(2);
        let page_id = Ref::new(3);
        let font = Ref::new(4);
        let content_id = Ref::new(5);
        let images = [Ref::new(6), Ref::new(7), Ref::new(8)];
        let names = [Name(b"Before"), Name(b"After"), Name(b"Timeline")];
        let pictures = [&self.before, &self.after, &self.timeline];

        let mut pdf = Pdf::new();
        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree).kids([page_id]).count(1);
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE[0], PAGE[1]));
        page.parent(tree);
        page.contents(content_id);
        let mut resources = page.resources();
        resources.fonts().pair(Name(b"F1"), font);
        let mut objects = resources.x_objects();
        for (name, id) in names.iter().zip(images) {
            objects.pair(*name, id);
        }
        objects.finish();
        resources.finish();
        page.finish();
        pdf.type1_font(font)
            .base_font(Name(b"Helvetica"))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
        for (picture, id) in pictures.iter().zip(images) {
            let jpeg = jpeg(picture)?;
            let mut xobject = pdf.image_xobject(id, &jpeg);
            xobject.filter(Filter::DctDecode);
            xobject.width(picture.width() as i32);
            xobject.height(picture.height() as i32);
            xobject.color_space().device_rgb();
            xobject.bits_per_component(8);
        }

        let mut c = Content::new();
        let mut y = PAGE[1] - MARGIN;
        let text = |c: &mut Content, size: f32, x: f32, y: f32, s: &str| {
            c.begin_text();
            c.set_font(Name(b"F1"), size);
            c.next_line(x, y);
            c.show(Str(&win_ansi(s)));
            c.end_text();
        };
        y -= 20.0;
        text(&mut c, 20.0, MARGIN, y, &self.client_name);
        y -= 18.0;
        text(&mut c, 11.0, MARGIN, y, &self.title);
        y -= 12.0;
        // Before and after, side by side.
        let inner = PAGE[0] - 2.0 * MARGIN;
        let pair_w = (inner - 12.0) / 2.0;
        let place = |c: &mut Content, name: Name<'_>, img: &RgbImage, x: f32, top: f32, w: f32| -> f32 {
            let h = w * img.height() as f32 / img.width().max(1) as f32;
            c.save_state();
            c.transform([w, 0.0, 0.0, h, x, top - h]);
            c.x_object(name);
            c.restore_state();
            h
        };
        let hb = place(&mut c, names[0], &self.before, MARGIN, y, pair_w);
        let ha = place(&mut c, names[1], &self.after, MARGIN + pair_w + 12.0, y, pair_w);
        y -= hb.max(ha) + 14.0;
        text(&mut c, 10.0, MARGIN, y, "Before");
        text(
            &mut c,
            10.0,
            MARGIN + pair_w + 12.0,
            y,
            &capitalised(&self.after_label),
        );
        y -= 18.0;
        let ht = place(&mut c, names[2], &self.timeline, MARGIN, y, inner);
        y -= ht + 22.0;
        text(&mut c, 13.0, MARGIN, y, "Your sessions");
        for s in &self.sessions {
            y -= 16.0;
            if y < MARGIN {
                break;
            }
            text(&mut c, 10.0, MARGIN, y, &s.label);
            text(&mut c, 10.0, MARGIN + 110.0, y, &s.date);
            // About 60 characters of 10-pt Helvetica fit beside the date.
            let note: String = if s.note.chars().count() > 60 {
                s.note.chars().take(57).collect::<String>() + "..."
            } else {
                s.note.clone()
            };
            text(&mut c, 10.0, MARGIN + 190.0, y, &note);
        }
        pdf.stream(content_id, &c.finish());
        Ok(pdf.finish())
    }
}

/// The picture as a baseline JPEG, for the PDF.
fn jpeg(img: &RgbImage) -> Result<Vec<u8>, RenderError> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(img)
        .map_err(|e| RenderError::Encode(e.to_string()))?;
    Ok(out)
}

/// Text in the PDF's WinAnsi (Latin-1 for the letters a clinic writes names with); other
/// characters become "?".
fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match u32::from(c) {
            v @ 0x20..=0x7E | v @ 0xA0..=0xFF => v as u8,
            _ => b'?',
        })
        .collect()
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
