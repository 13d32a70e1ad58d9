//! The client's sheet: their photo before and after, the healed look over the years on their
//! own head, and the plan's sessions with their dates — as a PNG and as an A4 PDF to hand
//! over or send.
//!
//! The PDF is a [`follicle_docs::Document`] like the clinic's other papers: on its letterhead,
//! the pictures as JPEG, the text in the embedded DejaVu Sans (every name as written, read back
//! by `pdftotext`), each session's note whole.

/// The clinic at the top of the sheet's PDF (re-exported for the callers).
pub use follicle_docs::Letterhead;
use follicle_docs::{Block, Document, Picture};
use image::RgbImage;

use crate::error::RenderError;
use crate::sheet::{capitalised, draw_text, draw_text_in, text_width};

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
        // The sessions as three columns: label, date, and the note wrapped in what is left.
        let gap = 4 * small;
        let widest = |text: fn(&SheetSession) -> &str| {
            self.sessions
                .iter()
                .map(|s| text_width(text(s), small))
                .max()
                .unwrap_or(0)
                + gap
        };
        let (label_w, date_w) = (widest(|s| &s.label), widest(|s| &s.date));
        let note_x = (label_w + date_w).min(inner / 2);
        let notes: Vec<Vec<String>> = self
            .sessions
            .iter()
            .map(|s| follicle_docs::wrap(&s.note, |t| text_width(t, small) <= inner - note_x))
            .collect();
        let note_lines: u32 = notes.iter().map(|n| n.len() as u32).sum();
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
            + line * (note_lines + 1)
            + margin;
        let mut img = RgbImage::from_pixel(width, height, image::Rgb(PAPER));
        let mut y = margin;
        draw_text_in(&mut img, &self.client_name, margin, y, big, INK, true);
        y += 7 * big + line / 2;
        draw_text(&mut img, &self.title, margin, y, small, INK);
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
        centre(&mut img, "Before", margin, pair_w, y);
        centre(
            &mut img,
            &capitalised(&self.after_label),
            margin + pair_w + margin,
            pair_w,
            y,
        );
        y += line * 2;
        y += margin;
        image::imageops::overlay(&mut img, &strip, i64::from(margin), i64::from(y));
        y += strip.height() + margin;
        draw_text_in(&mut img, "Your sessions", margin, y, small, INK, true);
        y += line;
        for (s, note) in self.sessions.iter().zip(&notes) {
            draw_text(&mut img, &s.label, margin, y, small, INK);
            draw_text(&mut img, &s.date, margin + label_w, y, small, INK);
            for text in note {
                draw_text(&mut img, text, margin + note_x, y, small, INK);
                y += line;
            }
        }
        img
    }

    /// The sheet as a document on the clinic's letterhead: the client's name, the pictures
    /// before and after and the timeline, and every session with its whole note (lines wrap;
    /// a long plan runs on to a second page).
    pub fn document(&self, letterhead: Letterhead) -> Result<Document, RenderError> {
        let picture = |img: &RgbImage, caption: String| -> Result<Picture, RenderError> {
            Ok(Picture {
                jpeg: jpeg(img)?,
                width: img.width(),
                height: img.height(),
                caption,
            })
        };
        let rows = self
            .sessions
            .iter()
            .map(|s| vec![s.label.clone(), s.date.clone(), s.note.clone()])
            .collect();
        let footer = format!("{} · {}", letterhead.name, self.client_name);
        Ok(Document {
            letterhead,
            title: self.title.clone(),
            reference: vec![("Client".to_owned(), self.client_name.clone())],
            blocks: vec![
                Block::Pictures(vec![
                    picture(&self.before, "Before".to_owned())?,
                    picture(&self.after, capitalised(&self.after_label))?,
                ]),
                Block::Heading("Over the years".to_owned()),
                Block::Pictures(vec![picture(
                    &self.timeline,
                    "Before, healed after each session, then years later".to_owned(),
                )?]),
                Block::Heading("Your sessions".to_owned()),
                Block::Table {
                    columns: vec!["Session".to_owned(), "Date".to_owned(), "What happens".to_owned()],
                    rows,
                    widths: vec![1.2, 1.2, 4.6],
                },
            ],
            footer,
        })
    }

    /// The sheet as an A4 PDF on the clinic's letterhead ([`ClientSheet::document`]).
    pub fn pdf(&self, letterhead: Letterhead) -> Result<Vec<u8>, RenderError> {
        follicle_docs::pdf(&self.document(letterhead)?).map_err(|e| RenderError::Encode(e.to_string()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_note_wraps_whole_within_its_column() {
        let note = "Foundation: the hairline is drawn and agreed, then a light, sparse first layer over \
                    the whole area; Supercalifragilisticexpialidocious-and-then-some-more-words";
        let measure = |t: &str| text_width(t, 2);
        let lines = follicle_docs::wrap(note, |t| measure(t) <= 300);
        assert!(lines.len() > 3, "{lines:#?}");
        for line in &lines {
            assert!(measure(line) <= 300, "{line:?} is {} px wide", measure(line));
            assert!(!line.starts_with(' ') && !line.ends_with(' '), "{line:?}");
        }
        assert!(lines[0].starts_with("Foundation:"), "{lines:#?}");
        // Every letter of the note, in order, nothing cut off.
        let text: String = lines.concat().split_whitespace().collect();
        let want: String = note.split_whitespace().collect();
        assert_eq!(text, want);
        // An empty note still takes its line, beside the session's label.
        assert_eq!(follicle_docs::wrap("", |t| measure(t) <= 300), [""]);
    }

    #[test]
    fn labels_are_drawn_in_the_documents_font() {
        // Wider letters measure wider; capitals are 7 × scale pixels tall.
        assert!(text_width("WWW", 2) > text_width("iii", 2));
        assert!(text_width("Before", 4) >= 2 * text_width("Before", 2) - 2);
        let mut img = RgbImage::from_pixel(200, 60, image::Rgb(PAPER));
        draw_text(&mut img, "HH", 10, 20, 3, INK);
        let inked: Vec<u32> = (0..60)
            .filter(|&y| (0..200).any(|x| img.get_pixel(x, y).0[0] < 128))
            .collect();
        let (top, bottom) = (inked[0], inked[inked.len() - 1]);
        assert!(
            (19..=21).contains(&top) && (39..=41).contains(&bottom),
            "capitals from {top} to {bottom}"
        );
        // A name outside Latin-1 is drawn, not dropped.
        let mut name = RgbImage::from_pixel(200, 60, image::Rgb(PAPER));
        draw_text(&mut name, "Łukasz", 10, 20, 3, INK);
        assert!(name.pixels().filter(|p| p.0[0] < 128).count() > 50);
    }
}
