//! The documents a clinic hands its clients — plan and quote, consent, ink passport, receipt —
//! as one model ([`Document`]: the clinic's letterhead, a title, reference lines and blocks of
//! text, facts, tables and a drawn signature), written two ways from the same content:
//!
//! - [`pdf`]: an A4 PDF. Text is laid out here (greedy line breaking on measured glyph
//!   advances, page breaks that keep a heading with what follows, "page i of n"); krilla shapes
//!   the glyphs and embeds a subset of DejaVu Sans with its Unicode map, so every name prints
//!   as written and `pdftotext` reads the text back. The same document gives the same bytes.
//! - [`html`]: the same blocks as an HTML fragment (escaped), for the client's pages.
//!
//! No I/O: the fonts are compiled in (`assets/fonts`, with their origin and licence).
//!
//! ```
//! use follicle_docs::{Block, Document, Letterhead};
//!
//! let doc = Document {
//!     letterhead: Letterhead { name: "Northside SMP".into(), lines: vec!["1 High Street".into()], logo: None },
//!     title: "Receipt".into(),
//!     reference: vec![("Number".into(), "R-1".into())],
//!     blocks: vec![Block::Paragraph("Paid with thanks.".into())],
//!     footer: "Northside SMP".into(),
//! };
//! let pdf = follicle_docs::pdf(&doc).unwrap();
//! assert!(pdf.starts_with(b"%PDF-"));
//! assert!(follicle_docs::html(&doc).contains("Paid with thanks."));
//! ```
#![deny(missing_docs)]

mod html;
mod layout;

/// The documents' typeface, DejaVu Sans (`assets/fonts`, with its origin and licence), for
/// pictures that label themselves in the same letters.
pub mod fonts {
    /// DejaVu Sans, regular (TrueType).
    pub static REGULAR: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
    /// DejaVu Sans, bold (TrueType).
    pub static BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");
}

pub use html::html;

/// The clinic at the top of every page.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Letterhead {
    /// The clinic's name.
    pub name: String,
    /// Lines under it: address, contact, registration (empty lines are left out).
    pub lines: Vec<String>,
    /// The clinic's logo, drawn at the top right of the letterhead (the first page of the PDF)
    /// and beside the name (HTML).
    pub logo: Option<Logo>,
}

/// A logo: a PNG or JPEG file as the clinic uploaded it, with its size in pixels (the caller
/// decoded and bounded it). A file the PDF writer cannot read is left out of the page rather
/// than failing the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logo {
    /// The file.
    pub bytes: Vec<u8>,
    /// JPEG (true) or PNG (false).
    pub jpeg: bool,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl Logo {
    /// Its MIME type.
    pub fn content_type(&self) -> &'static str {
        if self.jpeg { "image/jpeg" } else { "image/png" }
    }
}

/// A document for a client.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Document {
    /// The clinic.
    pub letterhead: Letterhead,
    /// Its title (`Your plan and quote`).
    pub title: String,
    /// Reference lines under the title: (label, value), such as (`Quote`, `Q-2026-0042`).
    pub reference: Vec<(String, String)>,
    /// The content.
    pub blocks: Vec<Block>,
    /// A line at the foot of every page (beside "page i of n").
    pub footer: String,
}

/// A piece of a document.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A section heading.
    Heading(String),
    /// A paragraph (line breaks inside it are kept).
    Paragraph(String),
    /// Label–value lines.
    Facts(Vec<(String, String)>),
    /// A list of points.
    Bullets(Vec<String>),
    /// A table: column heads, rows, and each column's share of the width (equal when empty).
    Table {
        /// Column heads.
        columns: Vec<String>,
        /// Rows of cells.
        rows: Vec<Vec<String>>,
        /// Relative widths, one per column (or none: equal).
        widths: Vec<f32>,
    },
    /// A signature (drawn, or a typed name) and the lines under it (name, date).
    Signature(Signature),
    /// Pictures side by side at one height, filling the width (never taller than half the
    /// page), each with its caption under it; the row moves to the next page whole.
    Pictures(Vec<Picture>),
}

/// A picture in a document: a JPEG file with its size in pixels (the caller encoded and
/// bounded it) and a caption. A file the PDF writer cannot read is left out of the page, its
/// caption kept, rather than failing the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    /// The JPEG file.
    pub jpeg: Vec<u8>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The line under it.
    pub caption: String,
}

/// A signature: strokes of points drawn in a box of `width` × `height` units (y down), or a
/// name typed by a signer who could not draw with a pointer (shown as the name in the box).
#[derive(Debug, Clone, PartialEq)]
pub struct Signature {
    /// The strokes (none for a typed signature).
    pub strokes: Vec<Vec<(f32, f32)>>,
    /// The name typed as the signature, instead of strokes.
    pub typed: Option<String>,
    /// The box the points were drawn in.
    pub width: f32,
    /// The box's height.
    pub height: f32,
    /// Lines under it.
    pub caption: Vec<String>,
}

/// Why a PDF could not be written.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    /// The embedded font did not read (a build error; tested).
    #[error("the document font does not read")]
    Font,
    /// The PDF writer failed.
    #[error("the PDF could not be written: {0}")]
    Pdf(String),
}

/// Breaks `text` into lines that `fits` accepts, greedily on spaces: a line break in the text
/// is kept (an empty line too), and a word no line can hold is cut where the line fills. The
/// PDF's paragraphs and the pictures' labels wrap with it, each with its own measure.
///
/// ```
/// let lines = follicle_docs::wrap("a light first layer", |line| line.len() <= 8);
/// assert_eq!(lines, ["a light", "first", "layer"]);
/// ```
pub fn wrap(text: &str, fits: impl Fn(&str) -> bool) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if fits(&candidate) {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // A word wider than the line: cut it where it fills the line.
            let mut rest = word.to_owned();
            while !fits(&rest) {
                let mut cut = String::new();
                for c in rest.chars() {
                    if !cut.is_empty() && !fits(&format!("{cut}{c}")) {
                        break;
                    }
                    cut.push(c);
                }
                rest = rest[cut.len()..].to_owned();
                lines.push(cut);
                if rest.is_empty() {
                    break;
                }
            }
            line = rest;
        }
        lines.push(line);
    }
    lines
}

/// The document as an A4 PDF.
pub fn pdf(doc: &Document) -> Result<Vec<u8>, DocError> {
    layout::pdf(doc)
}
