//! The document as an HTML fragment: the same blocks as the PDF, every text escaped.

use std::fmt::Write;

use crate::{Block, Document, Picture, Signature};

/// Escapes text for HTML content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Standard base64 (RFC 4648, with padding).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The document as an `<article class="document">` fragment (letterhead, title, reference,
/// blocks, footer).
pub fn html(doc: &Document) -> String {
    let mut out = String::from("<article class=\"document\">\n<header class=\"letterhead\">");
    if let Some(logo) = &doc.letterhead.logo {
        // Inline, so the fragment stands alone (the pages' Content-Security-Policy allows
        // `data:` images).
        let _ = write!(
            out,
            "<img class=\"logo\" src=\"data:{};base64,{}\" alt=\"{}\" width=\"{}\" height=\"{}\">",
            logo.content_type(),
            base64(&logo.bytes),
            esc(&doc.letterhead.name),
            logo.width,
            logo.height
        );
    }
    let _ = write!(out, "<p class=\"clinic\">{}</p>", esc(&doc.letterhead.name));
    for line in doc.letterhead.lines.iter().filter(|l| !l.trim().is_empty()) {
        let _ = write!(out, "<p>{}</p>", esc(line));
    }
    let _ = write!(out, "</header>\n<h2>{}</h2>\n", esc(&doc.title));
    if !doc.reference.is_empty() {
        out.push_str("<dl class=\"reference\">");
        for (label, value) in &doc.reference {
            let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", esc(label), esc(value));
        }
        out.push_str("</dl>\n");
    }
    for block in &doc.blocks {
        block_html(&mut out, block);
    }
    if !doc.footer.is_empty() {
        let _ = writeln!(out, "<footer><p>{}</p></footer>", esc(&doc.footer));
    }
    out.push_str("</article>\n");
    out
}

fn block_html(out: &mut String, block: &Block) {
    match block {
        Block::Heading(text) => {
            let _ = writeln!(out, "<h3>{}</h3>", esc(text));
        }
        Block::Paragraph(text) => {
            let lines: Vec<String> = text.lines().map(esc).collect();
            let _ = writeln!(out, "<p>{}</p>", lines.join("<br>"));
        }
        Block::Facts(facts) => {
            out.push_str("<dl class=\"facts\">");
            for (label, value) in facts {
                let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", esc(label), esc(value));
            }
            out.push_str("</dl>\n");
        }
        Block::Bullets(items) => {
            out.push_str("<ul>");
            for item in items {
                let _ = write!(out, "<li>{}</li>", esc(item));
            }
            out.push_str("</ul>\n");
        }
        Block::Table { columns, rows, .. } => {
            out.push_str("<table><thead><tr>");
            for c in columns {
                let _ = write!(out, "<th scope=\"col\">{}</th>", esc(c));
            }
            out.push_str("</tr></thead><tbody>");
            for row in rows {
                out.push_str("<tr>");
                for cell in row {
                    let _ = write!(out, "<td>{}</td>", esc(cell));
                }
                out.push_str("</tr>");
            }
            out.push_str("</tbody></table>\n");
        }
        Block::Signature(sig) => signature_html(out, sig),
        Block::Pictures(pictures) => pictures_html(out, pictures),
    }
}

/// Pictures inline as `data:` JPEGs (the fragment stands alone), each in a figure with its
/// caption.
fn pictures_html(out: &mut String, pictures: &[Picture]) {
    out.push_str("<div class=\"pictures\">");
    for p in pictures {
        let _ = write!(
            out,
            "<figure><img src=\"data:image/jpeg;base64,{}\" alt=\"{}\" width=\"{}\" height=\"{}\">\
             <figcaption>{}</figcaption></figure>",
            base64(&p.jpeg),
            esc(&p.caption),
            p.width,
            p.height,
            esc(&p.caption)
        );
    }
    out.push_str("</div>\n");
}

/// A signature as inline SVG (one polyline a stroke) with its caption.
fn signature_html(out: &mut String, sig: &Signature) {
    let _ = write!(
        out,
        "<figure class=\"signature\"><svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"signature\" \
         width=\"{w}\" height=\"{h}\">",
        w = sig.width,
        h = sig.height
    );
    for stroke in &sig.strokes {
        let points: Vec<String> = stroke.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
        let _ = write!(
            out,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"#1a2a4a\" stroke-width=\"3\" \
             stroke-linecap=\"round\" stroke-linejoin=\"round\"/>",
            points.join(" ")
        );
    }
    if let Some(name) = &sig.typed {
        let _ = write!(
            out,
            "<text x=\"4\" y=\"{y:.1}\" font-size=\"40\" fill=\"#1a2a4a\">{}</text>",
            esc(name),
            y = sig.height * 0.75
        );
    }
    out.push_str("</svg><figcaption>");
    let lines: Vec<String> = sig.caption.iter().map(|l| esc(l)).collect();
    out.push_str(&lines.join("<br>"));
    out.push_str("</figcaption></figure>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_rfc_4648() {
        // The RFC's own test vectors.
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn text_is_escaped() {
        let doc = Document {
            title: "<script>alert(1)</script>".into(),
            blocks: vec![Block::Paragraph("a & b \"c\"".into())],
            ..Document::default()
        };
        let html = html(&doc);
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("a &amp; b &quot;c&quot;"));
    }
}
