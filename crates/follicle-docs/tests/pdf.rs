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

fn photo_jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x / 2) as u8, 90, (y / 3) as u8]));
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Jpeg)
        .unwrap();
    out
}

fn picture(w: u32, h: u32, caption: &str) -> follicle_docs::Picture {
    follicle_docs::Picture {
        jpeg: photo_jpeg(w, h),
        width: w,
        height: h,
        caption: caption.into(),
    }
}

/// The drawn height in points of a `pdfimages -list` line (its pixel height over its y-ppi).
fn drawn_height(listed: &str) -> f64 {
    let cols: Vec<&str> = listed.split_whitespace().collect();
    let (h, y_ppi): (f64, f64) = (cols[4].parse().unwrap(), cols[13].parse().unwrap());
    h / y_ppi * 72.0
}

#[test]
fn pictures_sit_side_by_side_at_one_height_with_their_captions() {
    let mut doc = sample(1);
    doc.blocks.push(follicle_docs::Block::Pictures(vec![
        picture(400, 300, "Before"),
        picture(
            200,
            300,
            "After session 3, with a caption long enough to wrap under its picture",
        ),
    ]));
    doc.blocks
        .push(follicle_docs::Block::Paragraph("After the pictures.".into()));
    let pdf = follicle_docs::pdf(&doc).unwrap();
    let listed = pictures(&pdf);
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(
        listed[0].contains(" 400 ") && listed[0].contains(" 300 "),
        "{listed:?}"
    );
    assert!(
        listed[1].contains(" 200 ") && listed[1].contains(" 300 "),
        "{listed:?}"
    );
    let (a, b) = (drawn_height(&listed[0]), drawn_height(&listed[1]));
    assert!((a - b).abs() < 2.0, "one height: {a:.1} and {b:.1} pt");
    // Together (and the gap) they fill the width inside the margins: 483 pt of A4.
    let widths = a * 400.0 / 300.0 + b * 200.0 / 300.0;
    assert!((widths + 12.0 - 483.28).abs() < 4.0, "{widths:.1} pt wide");
    let text = pdftotext(&pdf);
    for words in [
        "Before",
        "After session 3",
        "wrap under its picture",
        "After the pictures.",
    ] {
        assert!(text.contains(words), "{words:?} in {text}");
    }
    let html = follicle_docs::html(&doc);
    assert_eq!(
        html.matches("<img src=\"data:image/jpeg;base64,/9j/").count(),
        2,
        "{html}"
    );
    assert!(html.contains("<figcaption>Before</figcaption>"), "{html}");

    // A row that does not fit under a long text moves whole to the next page.
    let mut long = sample(55);
    long.blocks
        .push(follicle_docs::Block::Pictures(vec![picture(300, 300, "Year 4")]));
    let pdf = follicle_docs::pdf(&long).unwrap();
    let listed = pictures(&pdf);
    assert_eq!(listed.len(), 1, "{listed:?}");
    let page: usize = listed[0].split_whitespace().next().unwrap().parse().unwrap();
    let text = pdftotext(&pdf);
    let pages: Vec<&str> = text.split('\u{c}').collect();
    assert!(
        pages[page - 1].contains("Year 4"),
        "the caption on page {page}: {text}"
    );
    // Never taller than half the page inside its margins, however narrow.
    let mut tall = sample(1);
    tall.blocks
        .push(follicle_docs::Block::Pictures(vec![picture(100, 1000, "Tall")]));
    let h = drawn_height(&pictures(&follicle_docs::pdf(&tall).unwrap())[0]);
    assert!(h < (841.89 - 2.0 * 56.0) / 2.0 && h > 300.0, "{h:.1} pt tall");

    // A file the PDF writer cannot read is left out; its caption and the document stay.
    let mut broken = sample(1);
    broken
        .blocks
        .push(follicle_docs::Block::Pictures(vec![follicle_docs::Picture {
            jpeg: b"not a jpeg".to_vec(),
            width: 10,
            height: 10,
            caption: "Kept caption".into(),
        }]));
    let pdf = follicle_docs::pdf(&broken).unwrap();
    assert!(pictures(&pdf).is_empty());
    assert!(pdftotext(&pdf).contains("Kept caption"));
}
