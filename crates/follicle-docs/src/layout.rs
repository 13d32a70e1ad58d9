//! The PDF: blocks laid out on A4 pages (lines broken on measured advances, page breaks between
//! lines and table rows, a heading kept with what follows), then drawn with krilla.

use krilla::Document as PdfDocument;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Size as PdfSize, Transform};
use krilla::image::Image;
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, LineCap, LineJoin, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

use crate::fonts::{BOLD, REGULAR};
use crate::{Block, DocError, Document, Picture, Signature};

/// A4 in points.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 56.0;
const BODY: f32 = 10.0;
const LEADING: f32 = 1.4;
const SMALL: f32 = 8.5;
const TITLE: f32 = 17.0;
const HEADING: f32 = 12.0;
const CLINIC: f32 = 14.0;
/// Space kept below a heading for what follows it (lines of body text).
const KEEP_WITH_HEADING: f32 = 3.0;
/// Gap between blocks, in body lines.
const BLOCK_GAP: f32 = 0.6;
/// A signature's drawn height and widest width.
const SIGNATURE_H: f32 = 70.0;
const SIGNATURE_W: f32 = 220.0;
/// A typed signature's size.
const TYPED_SIGNATURE: f32 = 18.0;
/// The logo's box at the top right of the letterhead (points): it is scaled to fit, keeping
/// its proportions, and never enlarged beyond one pixel a point.
const LOGO_MAX_H: f32 = 48.0;
const LOGO_MAX_W: f32 = 150.0;
/// Gap between the logo and the clinic's name and lines.
const LOGO_GAP: f32 = 12.0;
/// Facts: the label column's share of the width.
const LABEL_SHARE: f32 = 0.34;
/// Gap between table columns.
const CELL_GAP: f32 = 8.0;
/// Gap between pictures in a row.
const PICTURE_GAP: f32 = 12.0;
/// A row of pictures is never taller than this share of the page inside its margins.
const PICTURE_MAX_SHARE: f32 = 0.5;

const INK: (u8, u8, u8) = (0x1b, 0x1f, 0x24);
const GREY: (u8, u8, u8) = (0x5b, 0x63, 0x6e);
const RULE: (u8, u8, u8) = (0xc9, 0xcf, 0xd6);
const PEN: (u8, u8, u8) = (0x1a, 0x2a, 0x4a);

/// What is drawn on a page.
#[derive(Debug, Clone)]
enum Op {
    Text {
        x: f32,
        baseline: f32,
        size: f32,
        bold: bool,
        colour: (u8, u8, u8),
        text: String,
    },
    Line {
        from: (f32, f32),
        to: (f32, f32),
        width: f32,
        colour: (u8, u8, u8),
    },
    Polyline {
        points: Vec<(f32, f32)>,
        width: f32,
    },
    /// The letterhead's logo, its top left corner and size in points.
    Logo {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
    },
    /// The document's `index`-th picture (in the order of its blocks), its top left corner
    /// and size in points.
    Picture {
        index: usize,
        x: f32,
        y: f32,
        w: f32,
        h: f32,
    },
}

/// The size (points) a logo of `width` × `height` pixels is drawn at.
fn logo_size(width: u32, height: u32) -> (f32, f32) {
    let (w, h) = (width.max(1) as f32, height.max(1) as f32);
    let scale = (LOGO_MAX_W / w).min(LOGO_MAX_H / h).min(1.0);
    (w * scale, h * scale)
}

/// Measures text in one of the two faces.
struct Measure<'a> {
    regular: FontRef<'a>,
    bold: FontRef<'a>,
}

impl Measure<'_> {
    fn width(&self, text: &str, size: f32, bold: bool) -> f32 {
        let font = if bold { &self.bold } else { &self.regular };
        let charmap = font.charmap();
        let metrics = font.glyph_metrics(Size::new(size), LocationRef::default());
        text.chars()
            .map(|c| {
                charmap
                    .map(c)
                    .and_then(|g| metrics.advance_width(g))
                    .unwrap_or(size / 2.0)
            })
            .sum()
    }

    /// Breaks a paragraph into lines no wider than `width` ([`crate::wrap`]).
    fn wrap(&self, text: &str, size: f32, bold: bool, width: f32) -> Vec<String> {
        crate::wrap(text, |line| self.width(line, size, bold) <= width)
    }
}

/// Lays blocks out into pages.
struct Layout<'a> {
    measure: Measure<'a>,
    pages: Vec<Vec<Op>>,
    y: f32,
    /// Pictures placed so far (the next one's index).
    pictures: usize,
}

fn line_height(size: f32) -> f32 {
    size * LEADING
}

impl Layout<'_> {
    fn bottom() -> f32 {
        PAGE_H - MARGIN - line_height(SMALL) * 2.0
    }

    fn page(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Starts a new page when `height` does not fit below the cursor.
    fn room(&mut self, height: f32) {
        if self.y + height > Self::bottom() && self.y > MARGIN {
            self.pages.push(Vec::new());
            self.y = MARGIN;
        }
    }

    fn text(&mut self, x: f32, size: f32, bold: bool, colour: (u8, u8, u8), text: &str) {
        let baseline = self.y + size;
        self.page().push(Op::Text {
            x,
            baseline,
            size,
            bold,
            colour,
            text: text.to_owned(),
        });
    }

    fn rule(&mut self, width: f32, colour: (u8, u8, u8)) {
        let y = self.y;
        self.page().push(Op::Line {
            from: (MARGIN, y),
            to: (PAGE_W - MARGIN, y),
            width,
            colour,
        });
    }

    /// Lines of text at `x`, each on its own line, breaking pages between lines.
    fn lines(&mut self, x: f32, size: f32, bold: bool, colour: (u8, u8, u8), lines: &[String]) {
        for line in lines {
            self.room(line_height(size));
            self.text(x, size, bold, colour, line);
            self.y += line_height(size);
        }
    }

    fn header(&mut self, doc: &Document, logo: bool) {
        self.y = MARGIN;
        // The logo at the top right; the name and lines keep clear of it.
        let mut text_w = PAGE_W - 2.0 * MARGIN;
        let mut logo_bottom = MARGIN;
        if let (true, Some(l)) = (logo, &doc.letterhead.logo) {
            let (w, h) = logo_size(l.width, l.height);
            self.page().push(Op::Logo {
                x: PAGE_W - MARGIN - w,
                y: MARGIN,
                w,
                h,
            });
            text_w -= w + LOGO_GAP;
            logo_bottom = MARGIN + h;
        }
        let name = doc.letterhead.name.clone();
        self.text(MARGIN, CLINIC, true, INK, &name);
        self.y += line_height(CLINIC);
        let details: Vec<String> = doc
            .letterhead
            .lines
            .iter()
            .filter(|l| !l.trim().is_empty())
            .flat_map(|l| self.measure.wrap(l, SMALL, false, text_w))
            .collect();
        self.lines(MARGIN, SMALL, false, GREY, &details);
        self.y = self.y.max(logo_bottom);
        self.y += line_height(SMALL) * 0.5;
        self.rule(0.8, RULE);
        self.y += line_height(BODY);
        let title = self.measure.wrap(&doc.title, TITLE, true, PAGE_W - 2.0 * MARGIN);
        self.lines(MARGIN, TITLE, true, INK, &title);
        self.y += line_height(BODY) * 0.3;
        if !doc.reference.is_empty() {
            let facts = doc.reference.clone();
            self.facts(&facts, SMALL);
        }
        self.y += line_height(BODY) * BLOCK_GAP;
    }

    fn facts(&mut self, facts: &[(String, String)], size: f32) {
        let width = PAGE_W - 2.0 * MARGIN;
        let label_w = width * LABEL_SHARE;
        for (label, value) in facts {
            let labels = self.measure.wrap(label, size, true, label_w - CELL_GAP);
            let values = self.measure.wrap(value, size, false, width - label_w);
            let rows = labels.len().max(values.len());
            self.room(line_height(size) * rows.min(3) as f32);
            for i in 0..rows {
                self.room(line_height(size));
                if let Some(l) = labels.get(i) {
                    self.text(MARGIN, size, true, GREY, l);
                }
                if let Some(v) = values.get(i) {
                    self.text(MARGIN + label_w, size, false, INK, v);
                }
                self.y += line_height(size);
            }
        }
    }

    fn table(&mut self, columns: &[String], rows: &[Vec<String>], widths: &[f32]) {
        let n = columns
            .len()
            .max(rows.iter().map(Vec::len).max().unwrap_or(0))
            .max(1);
        let total: f32 = if widths.len() == n {
            widths.iter().sum()
        } else {
            n as f32
        };
        let width = PAGE_W - 2.0 * MARGIN;
        let cols: Vec<f32> = (0..n)
            .map(|i| {
                let share = if widths.len() == n { widths[i] } else { 1.0 };
                width * share / total.max(f32::EPSILON)
            })
            .collect();
        let xs: Vec<f32> = cols
            .iter()
            .scan(MARGIN, |x, w| {
                let at = *x;
                *x += w;
                Some(at)
            })
            .collect();
        let wrap_row = |m: &Measure<'_>, cells: &[String], bold: bool| -> Vec<Vec<String>> {
            (0..n)
                .map(|i| {
                    let cell = cells.get(i).map_or("", String::as_str);
                    m.wrap(cell, BODY, bold, cols[i] - CELL_GAP)
                })
                .collect()
        };
        let head = wrap_row(&self.measure, columns, true);
        let draw_row = |layout: &mut Self, cells: &[Vec<String>], bold: bool| {
            let height = cells.iter().map(Vec::len).max().unwrap_or(1) as f32 * line_height(BODY);
            let top = layout.y;
            for (i, lines) in cells.iter().enumerate() {
                layout.y = top;
                for line in lines {
                    layout.text(xs[i], BODY, bold, INK, line);
                    layout.y += line_height(BODY);
                }
            }
            layout.y = top + height + 2.0;
            layout.rule(0.4, RULE);
            layout.y += 3.0;
        };
        let head_h = head.iter().map(Vec::len).max().unwrap_or(1) as f32 * line_height(BODY);
        self.room(head_h + line_height(BODY) * 2.0);
        draw_row(self, &head, true);
        for row in rows {
            let cells = wrap_row(&self.measure, row, false);
            let height = cells.iter().map(Vec::len).max().unwrap_or(1) as f32 * line_height(BODY);
            if self.y + height > Self::bottom() {
                self.room(Self::bottom());
                draw_row(self, &head, true);
            }
            draw_row(self, &cells, false);
        }
    }

    fn signature(&mut self, sig: &Signature) {
        let caption_h = sig.caption.len() as f32 * line_height(SMALL);
        self.room(SIGNATURE_H + caption_h + line_height(BODY));
        let scale = (SIGNATURE_W / sig.width.max(1.0)).min(SIGNATURE_H / sig.height.max(1.0));
        let top = self.y;
        for stroke in &sig.strokes {
            let points: Vec<(f32, f32)> = stroke
                .iter()
                .map(|(x, y)| (MARGIN + x * scale, top + y * scale))
                .collect();
            self.page().push(Op::Polyline { points, width: 1.2 });
        }
        if let Some(name) = &sig.typed {
            // A typed signature: the name as typed, large, on the signature line.
            let lines = self.measure.wrap(name, TYPED_SIGNATURE, false, SIGNATURE_W);
            self.y = top + SIGNATURE_H - line_height(TYPED_SIGNATURE) * lines.len() as f32;
            for line in &lines {
                self.text(MARGIN, TYPED_SIGNATURE, false, PEN, line);
                self.y += line_height(TYPED_SIGNATURE);
            }
        }
        self.y = top + SIGNATURE_H + 2.0;
        let y = self.y;
        self.page().push(Op::Line {
            from: (MARGIN, y),
            to: (MARGIN + SIGNATURE_W, y),
            width: 0.5,
            colour: GREY,
        });
        self.y += 3.0;
        let caption = sig.caption.clone();
        self.lines(MARGIN, SMALL, false, GREY, &caption);
    }

    /// A row of pictures at one height that fills the width (or half the page's height, the
    /// row then centred), captions wrapped under each.
    fn pictures(&mut self, pictures: &[Picture]) {
        if pictures.is_empty() {
            return;
        }
        let width = PAGE_W - 2.0 * MARGIN;
        let gaps = PICTURE_GAP * (pictures.len() - 1) as f32;
        let aspects: Vec<f32> = pictures
            .iter()
            .map(|p| p.width.max(1) as f32 / p.height.max(1) as f32)
            .collect();
        let max_h = (Self::bottom() - MARGIN) * PICTURE_MAX_SHARE;
        let h = ((width - gaps).max(1.0) / aspects.iter().sum::<f32>()).min(max_h);
        let widths: Vec<f32> = aspects.iter().map(|a| a * h).collect();
        let captions: Vec<Vec<String>> = pictures
            .iter()
            .zip(&widths)
            .map(|(p, w)| self.measure.wrap(&p.caption, SMALL, false, *w))
            .collect();
        let caption_h = captions.iter().map(Vec::len).max().unwrap_or(0) as f32 * line_height(SMALL);
        self.room(h + 4.0 + caption_h);
        let top = self.y;
        let mut x = MARGIN + (width - widths.iter().sum::<f32>() - gaps) / 2.0;
        for (w, lines) in widths.iter().zip(&captions) {
            let index = self.pictures;
            self.pictures += 1;
            self.page().push(Op::Picture {
                index,
                x,
                y: top,
                w: *w,
                h,
            });
            self.y = top + h + 4.0;
            for line in lines {
                let lw = self.measure.width(line, SMALL, false);
                self.text(x + (w - lw).max(0.0) / 2.0, SMALL, false, GREY, line);
                self.y += line_height(SMALL);
            }
            x += w + PICTURE_GAP;
        }
        self.y = top + h + 4.0 + caption_h;
    }

    fn block(&mut self, block: &Block) {
        let width = PAGE_W - 2.0 * MARGIN;
        match block {
            Block::Heading(text) => {
                let lines = self.measure.wrap(text, HEADING, true, width);
                self.room(line_height(HEADING) * lines.len() as f32 + line_height(BODY) * KEEP_WITH_HEADING);
                self.y += line_height(BODY) * 0.4;
                self.lines(MARGIN, HEADING, true, INK, &lines);
            }
            Block::Paragraph(text) => {
                let lines = self.measure.wrap(text, BODY, false, width);
                self.lines(MARGIN, BODY, false, INK, &lines);
            }
            Block::Facts(facts) => self.facts(facts, BODY),
            Block::Bullets(items) => {
                let indent = BODY * 1.4;
                for item in items {
                    let lines = self.measure.wrap(item, BODY, false, width - indent);
                    self.room(line_height(BODY));
                    self.text(MARGIN, BODY, false, INK, "•");
                    self.lines(MARGIN + indent, BODY, false, INK, &lines);
                }
            }
            Block::Table {
                columns,
                rows,
                widths,
            } => self.table(columns, rows, widths),
            Block::Signature(sig) => self.signature(sig),
            Block::Pictures(pictures) => self.pictures(pictures),
        }
        self.y += line_height(BODY) * BLOCK_GAP;
    }

    fn footers(&mut self, footer: &str) {
        let n = self.pages.len();
        let y = PAGE_H - MARGIN;
        for (i, page) in self.pages.iter_mut().enumerate() {
            let number = format!("page {} of {n}", i + 1);
            let number_w = self.measure.width(&number, SMALL, false);
            page.push(Op::Line {
                from: (MARGIN, y - SMALL * 1.6),
                to: (PAGE_W - MARGIN, y - SMALL * 1.6),
                width: 0.4,
                colour: RULE,
            });
            page.push(Op::Text {
                x: MARGIN,
                baseline: y,
                size: SMALL,
                bold: false,
                colour: GREY,
                text: footer.to_owned(),
            });
            page.push(Op::Text {
                x: PAGE_W - MARGIN - number_w,
                baseline: y,
                size: SMALL,
                bold: false,
                colour: GREY,
                text: number,
            });
        }
    }
}

fn fill(colour: (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(colour.0, colour.1, colour.2).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

fn stroke(colour: (u8, u8, u8), width: f32) -> Stroke {
    Stroke {
        paint: rgb::Color::new(colour.0, colour.1, colour.2).into(),
        width,
        line_cap: LineCap::Round,
        line_join: LineJoin::Round,
        ..Stroke::default()
    }
}

/// The images a page can draw: the letterhead's logo and the document's pictures (by index),
/// `None` where krilla could not read the file.
struct Images {
    logo: Option<Image>,
    pictures: Vec<Option<Image>>,
}

fn draw(surface: &mut Surface<'_>, ops: &[Op], regular: &Font, bold: &Font, images: &Images) {
    let logo = images.logo.as_ref();
    for op in ops {
        match op {
            Op::Picture { index, x, y, w, h } => {
                let (Some(Some(image)), Some(size)) = (images.pictures.get(*index), PdfSize::from_wh(*w, *h))
                else {
                    continue;
                };
                surface.push_transform(&Transform::from_translate(*x, *y));
                surface.draw_image(image.clone(), size);
                surface.pop();
            }
            Op::Logo { x, y, w, h } => {
                let (Some(image), Some(size)) = (logo, PdfSize::from_wh(*w, *h)) else {
                    continue;
                };
                surface.push_transform(&Transform::from_translate(*x, *y));
                surface.draw_image(image.clone(), size);
                surface.pop();
            }
            Op::Text {
                x,
                baseline,
                size,
                bold: is_bold,
                colour,
                text,
            } => {
                if text.is_empty() {
                    continue;
                }
                surface.set_stroke(None);
                surface.set_fill(Some(fill(*colour)));
                let font = if *is_bold { bold } else { regular };
                surface.draw_text(
                    Point::from_xy(*x, *baseline),
                    font.clone(),
                    *size,
                    text,
                    false,
                    TextDirection::Auto,
                );
            }
            Op::Line {
                from,
                to,
                width,
                colour,
            } => {
                let mut path = PathBuilder::new();
                path.move_to(from.0, from.1);
                path.line_to(to.0, to.1);
                if let Some(path) = path.finish() {
                    surface.set_fill(None);
                    surface.set_stroke(Some(stroke(*colour, *width)));
                    surface.draw_path(&path);
                }
            }
            Op::Polyline { points, width } => {
                let mut path = PathBuilder::new();
                let mut pts = points.iter();
                let Some(first) = pts.next() else { continue };
                path.move_to(first.0, first.1);
                if points.len() == 1 {
                    // A dot: a tiny segment, drawn round by the cap.
                    path.line_to(first.0 + 0.01, first.1);
                }
                for p in pts {
                    path.line_to(p.0, p.1);
                }
                if let Some(path) = path.finish() {
                    surface.set_fill(None);
                    surface.set_stroke(Some(stroke(PEN, *width)));
                    surface.draw_path(&path);
                }
            }
        }
    }
}

pub(crate) fn pdf(doc: &Document) -> Result<Vec<u8>, DocError> {
    let measure = Measure {
        regular: FontRef::new(REGULAR).map_err(|_| DocError::Font)?,
        bold: FontRef::new(BOLD).map_err(|_| DocError::Font)?,
    };
    let mut layout = Layout {
        measure,
        pages: vec![Vec::new()],
        y: MARGIN,
        pictures: 0,
    };
    // The logo as krilla reads it (its header checked now, its pixels when written); a file it
    // cannot read is left out rather than failing the document.
    let logo = doc.letterhead.logo.as_ref().and_then(|l| {
        let data = krilla::Data::from(l.bytes.clone());
        if l.jpeg {
            Image::from_jpeg(data, true).ok()
        } else {
            Image::from_png(data, true).ok()
        }
    });
    // The pictures, read the same way, in the order the layout numbers them.
    let pictures = doc
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::Pictures(p) => Some(p),
            _ => None,
        })
        .flatten()
        .map(|p| Image::from_jpeg(krilla::Data::from(p.jpeg.clone()), true).ok())
        .collect();
    let images = Images { logo, pictures };
    layout.header(doc, images.logo.is_some());
    for block in &doc.blocks {
        layout.block(block);
    }
    layout.footers(&doc.footer);

    let regular = Font::new(REGULAR.into(), 0).ok_or(DocError::Font)?;
    let bold = Font::new(BOLD.into(), 0).ok_or(DocError::Font)?;
    let mut pdf = PdfDocument::new();
    pdf.set_metadata(
        Metadata::new()
            .title(doc.title.clone())
            .creator("Follicle".to_owned()),
    );
    let size = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| DocError::Pdf("page size".into()))?;
    for ops in &layout.pages {
        let mut page = pdf.start_page_with(size.clone());
        let mut surface = page.surface();
        draw(&mut surface, ops, &regular, &bold, &images);
        surface.finish();
        page.finish();
    }
    pdf.finish().map_err(|e| DocError::Pdf(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measure() -> Measure<'static> {
        Measure {
            regular: FontRef::new(REGULAR).unwrap(),
            bold: FontRef::new(BOLD).unwrap(),
        }
    }

    #[test]
    fn lines_fit_their_width_and_keep_every_word() {
        let m = measure();
        let text = "Carbon pigment under the skin can look blue-grey in some light, and more so as \
                    years pass. Supercalifragilisticexpialidociousnessandthensomemore.";
        let lines = m.wrap(text, BODY, false, 120.0);
        assert!(lines.len() > 3, "{lines:?}");
        for line in &lines {
            assert!(m.width(line, BODY, false) <= 120.0 + 0.01, "{line:?} is too wide");
        }
        let joined: String = lines.concat().split_whitespace().collect();
        let original: String = text.split_whitespace().collect();
        assert_eq!(joined, original);
    }

    #[test]
    fn bold_is_wider_than_regular() {
        let m = measure();
        assert!(m.width("Quote", BODY, true) > m.width("Quote", BODY, false));
        assert!(m.width("Quote", BODY, false) > 0.0);
    }
}
