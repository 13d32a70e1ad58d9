//! The stencil prints at 1:1: read back from the PDF by an independent reader (poppler's
//! `pdftotext -bbox`, installed by scripts/test), the scale bar's labels are 72/25.4 points
//! apart per mm and the page is the settings' paper; the SVG's size is in mm with one user
//! unit a mm and the same bar.

use follicle_pattern::{HairLoss, NorwoodStage};
use follicle_render::RenderSettings;
use follicle_render::stencil::{PT_PER_MM, stencil};

use super::pattern;

/// A word of `pdftotext -bbox` output: page index, text, xMin, yMin, xMax, yMax (points).
#[derive(Debug)]
struct Word {
    page: usize,
    text: String,
    x: [f64; 2],
    y: [f64; 2],
}

fn attr(tag: &str, name: &str) -> f64 {
    let start = tag
        .find(&format!("{name}=\""))
        .unwrap_or_else(|| panic!("{name} in {tag}"))
        + name.len()
        + 2;
    let end = start + tag[start..].find('"').unwrap();
    tag[start..end].parse().unwrap()
}

/// Pages (width, height in points) and words of a PDF, as pdftotext reads them.
fn read_back(pdf: &[u8]) -> (Vec<[f64; 2]>, Vec<Word>) {
    let dir = std::env::temp_dir().join(format!("follicle-stencil-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (input, output) = (dir.join("stencil.pdf"), dir.join("stencil.html"));
    std::fs::write(&input, pdf).unwrap();
    let status = std::process::Command::new("pdftotext")
        .arg("-bbox")
        .arg(&input)
        .arg(&output)
        .status()
        .expect("pdftotext runs (Debian's poppler-utils; scripts/test installs it)");
    assert!(status.success(), "pdftotext read the PDF");
    let html = std::fs::read_to_string(&output).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let (mut pages, mut words) = (Vec::new(), Vec::new());
    for line in html.lines().map(str::trim) {
        if line.starts_with("<page ") {
            pages.push([attr(line, "width"), attr(line, "height")]);
        } else if line.starts_with("<word ") {
            let text = line[line.find('>').unwrap() + 1..line.rfind("</word>").unwrap()].to_string();
            words.push(Word {
                page: pages.len() - 1,
                text,
                x: [attr(line, "xMin"), attr(line, "xMax")],
                y: [attr(line, "yMin"), attr(line, "yMax")],
            });
        }
    }
    (pages, words)
}

#[test]
fn the_stencil_prints_at_one_to_one() {
    let p = pattern(
        HairLoss::Norwood {
            stage: NorwoodStage::IV,
        },
        vec![],
    );
    let settings = RenderSettings::default();
    let st = stencil(&p, &settings, "Norwood IV").unwrap();
    let (pages, words) = read_back(&st.to_pdf());
    // The outline page and one page per session, each the settings' paper (A4 landscape).
    assert_eq!(pages.len(), 1 + usize::from(p.sessions));
    let [w_mm, h_mm] = settings.stencil.page_mm.map(f64::from);
    for page in &pages {
        assert!(
            (page[0] - w_mm * PT_PER_MM).abs() < 0.01 && (page[1] - h_mm * PT_PER_MM).abs() < 0.01,
            "{page:?}"
        );
    }
    assert!(
        (pages[0][0] - 841.89).abs() < 0.01 && (pages[0][1] - 595.28).abs() < 0.01,
        "A4 landscape"
    );
    // On every page: the scale bar's labels 0, 10, …, 50 on one line, their centres 10 mm
    // (28.35 pt) apart, 0 to 50 exactly 50 mm.
    let bar = f64::from(settings.stencil.scale_bar_mm);
    let labels: Vec<String> = (0..=(bar / 10.0) as usize)
        .map(|k| (k * 10).to_string())
        .collect();
    for (page, size) in pages.iter().enumerate() {
        let on_page: Vec<&Word> = words.iter().filter(|w| w.page == page).collect();
        // The lowest "0" on the page (a header may hold a 0 too).
        let zero = on_page
            .iter()
            .filter(|w| w.text == "0")
            .max_by(|a, b| a.y[0].total_cmp(&b.y[0]))
            .unwrap_or_else(|| panic!("page {page}: the scale bar's 0"));
        let centres: Vec<f64> = labels
            .iter()
            .map(|l| {
                let w = on_page
                    .iter()
                    .find(|w| &w.text == l && (w.y[0] - zero.y[0]).abs() < 0.5)
                    .unwrap_or_else(|| panic!("page {page}: label {l} beside the 0"));
                (w.x[0] + w.x[1]) / 2.0
            })
            .collect();
        for pair in centres.windows(2) {
            let step = pair[1] - pair[0];
            assert!(
                (step - 10.0 * PT_PER_MM).abs() < 0.3,
                "page {page}: tick step {step} pt"
            );
        }
        let span = centres.last().unwrap() - centres[0];
        assert!(
            (span - bar * PT_PER_MM).abs() < 0.3,
            "page {page}: 0–{bar} mm is {span} pt, want {}",
            bar * PT_PER_MM
        );
        // The bar sits inside the margins.
        let margin = f64::from(settings.stencil.margin_mm) * PT_PER_MM;
        assert!(centres[0] > margin - 5.0 && zero.y[1] < size[1] - margin + 1.0);
    }
    // The session pages say how many of the session's dots they hold.
    assert!(words.iter().any(|w| w.page == 1 && w.text == "session"));
}

#[test]
fn the_svg_is_sized_in_mm_with_the_same_bar() {
    let p = pattern(
        HairLoss::Norwood {
            stage: NorwoodStage::III,
        },
        vec![],
    );
    let settings = RenderSettings::default();
    let st = stencil(&p, &settings, "Norwood III").unwrap();
    let svg = st.to_svg(0).unwrap();
    let [w, h] = settings.stencil.page_mm;
    assert!(
        svg.contains(&format!(r#"width="{w}mm" height="{h}mm" viewBox="0 0 {w} {h}""#)),
        "{}",
        &svg[..200]
    );
    // The labels' x (text-anchor middle) 10 user units = 10 mm apart.
    let xs: Vec<f64> = svg
        .lines()
        .filter(|l| l.contains(r#"text-anchor="middle""#))
        .filter_map(|l| {
            let text = &l[l.find('>')? + 1..l.find("</text>")?];
            text.parse::<u32>().ok().filter(|v| v % 10 == 0)?;
            Some(attr(l, "x"))
        })
        .collect();
    let bar = f64::from(settings.stencil.scale_bar_mm);
    assert_eq!(xs.len(), (bar / 10.0) as usize + 1, "{xs:?}");
    assert!((xs.last().unwrap() - xs[0] - bar).abs() < 1e-6);
    // Every session has a page; a page past the last is refused.
    assert!(st.to_svg(usize::from(p.sessions)).is_ok());
    assert!(st.to_svg(usize::from(p.sessions) + 1).is_err());
}
