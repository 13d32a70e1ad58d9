//! The PDF read back with `pdftotext` (Debian's poppler-utils, installed by scripts/test).

use std::io::Write;
use std::process::Command;

use follicle_docs::{Block, Document, Letterhead, Signature};

fn sample(paragraphs: usize) -> Document {
    let mut blocks = vec![
        Block::Facts(vec![
            ("Client".into(), "Łukasz Nguyễn-Zoë".into()),
            ("Total".into(), "£2,450.00".into()),
        ]),
        Block::Heading("What SMP is".into()),
    ];
    for i in 0..paragraphs {
        blocks.push(Block::Paragraph(format!(
            "Paragraph {i}: pigment is placed in the upper layer of the skin of the scalp and is meant \
             to be permanent. It fades over the years and will need touch-ups."
        )));
    }
    blocks.push(Block::Table {
        columns: vec!["Session".into(), "Date".into(), "Price".into()],
        rows: (1..=3)
            .map(|n| {
                vec![
                    format!("Session {n}"),
                    format!("{n} March 2027"),
                    "£800.00".into(),
                ]
            })
            .collect(),
        widths: vec![2.0, 2.0, 1.0],
    });
    blocks.push(Block::Signature(Signature {
        strokes: vec![
            vec![(10.0, 50.0), (60.0, 10.0), (120.0, 60.0)],
            vec![(150.0, 40.0)],
        ],
        typed: None,
        width: 300.0,
        height: 100.0,
        caption: vec![
            "Signed by Łukasz Nguyễn-Zoë".into(),
            "3 December 2026 10:15".into(),
        ],
    }));
    Document {
        letterhead: Letterhead {
            name: "Northside SMP".into(),
            lines: vec!["1 High Street, Leeds LS1 1AA".into(), "Licence 4471".into()],
            logo: None,
        },
        title: "Your plan and quote".into(),
        reference: vec![("Quote".into(), "Q-2026-0042".into())],
        blocks,
        footer: "Northside SMP · Q-2026-0042".into(),
    }
}

fn pdftotext(pdf: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("follicle-docs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{}.pdf", pdf.len()));
    std::fs::File::create(&path).unwrap().write_all(pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-layout"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (Debian's poppler-utils; scripts/test installs it)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_text_reads_back_as_written_on_every_page() {
    let pdf = follicle_docs::pdf(&sample(60)).unwrap();
    let text = pdftotext(&pdf);
    for expected in [
        "Northside SMP",
        "Your plan and quote",
        "Q-2026-0042",
        "Łukasz Nguyễn-Zoë",
        "£2,450.00",
        "Paragraph 0:",
        "Paragraph 59:",
        "Session 3",
        "Signed by Łukasz Nguyễn-Zoë",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
    }
    // Sixty paragraphs do not fit one page: numbered pages, every paragraph once.
    assert!(text.contains("page 1 of "), "{text}");
    let pages: usize = text
        .split("page 1 of ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(pages >= 2, "{pages}");
    assert!(text.contains(&format!("page {pages} of {pages}")));
    for i in 0..60 {
        assert_eq!(
            text.matches(&format!("Paragraph {i}:")).count(),
            1,
            "paragraph {i}"
        );
    }
}

#[test]
fn the_same_document_gives_the_same_bytes() {
    let a = follicle_docs::pdf(&sample(3)).unwrap();
    let b = follicle_docs::pdf(&sample(3)).unwrap();
    assert_eq!(a, b);
    let mut other = sample(3);
    other.title = "Receipt".into();
    assert_ne!(a, follicle_docs::pdf(&other).unwrap());
}

fn logo_png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 3) as u8, 40, (y * 5) as u8]));
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// `pdfimages -list`: one line a picture (poppler-utils).
fn pictures(pdf: &[u8]) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("follicle-docs-logo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{}.pdf", pdf.len()));
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdfimages")
        .arg("-list")
        .arg(&path)
        .output()
        .expect("pdfimages (Debian's poppler-utils)");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .skip(2)
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_logo_is_on_the_letterhead_and_in_the_html() {
    let mut doc = sample(60);
    doc.letterhead.logo = Some(follicle_docs::Logo {
        bytes: logo_png(240, 80),
        jpeg: false,
        width: 240,
        height: 80,
    });
    let pdf = follicle_docs::pdf(&doc).unwrap();
    let text = pdftotext(&pdf);
    assert!(
        text.contains("Northside SMP") && text.contains("Licence 4471"),
        "{text}"
    );
    let pages: usize = text
        .split("page 1 of ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("page 1 of n");
    assert!(pages >= 2, "{text}");
    // On the letterhead, at the top of the first page: one picture, at its own size in pixels.
    let listed = pictures(&pdf);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(listed[0].trim_start().starts_with("1 "), "on page 1: {listed:?}");
    assert!(
        listed[0].contains(" 240 ") && listed[0].contains(" 80 "),
        "{listed:?}"
    );
    // The same document gives the same bytes, logo and all.
    assert_eq!(follicle_docs::pdf(&doc).unwrap(), pdf);
    let html = follicle_docs::html(&doc);
    assert!(
        html.contains("<img class=\"logo\" src=\"data:image/png;base64,iVBORw0KGgo"),
        "{html}"
    );
    // Without a logo, no picture.
    assert!(pictures(&follicle_docs::pdf(&sample(1)).unwrap()).is_empty());
    // A file the PDF writer cannot read is left out; the document is still written.
    doc.letterhead.logo = Some(follicle_docs::Logo {
        bytes: b"not a png".to_vec(),
        jpeg: false,
        width: 10,
        height: 10,
    });
    let pdf = follicle_docs::pdf(&doc).unwrap();
    assert!(pictures(&pdf).is_empty());
}
