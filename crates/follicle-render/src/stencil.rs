//! The stencil: the agreed hairline and zone outlines at 1:1 on paper (PDF and SVG), with a
//! scale bar to check the print, then a page of dots for each session.
//!
//! # The flattening
//!
//! A scalp cannot be laid flat with every length true. The stencil is laid on the forehead
//! and front of the scalp, where the hairline is traced, so it is *developed from the
//! mid-frontal point*: a surface point at distance `d` from the mid-frontal point, measured
//! along the skin ([`Head::surface_distance_mm`], a flexible ruler's reading), in the direction
//! that leaves the mid-frontal point at angle `α` in the skin's tangent plane there, is
//! printed at `d·(cos α, sin α)` from the mid-frontal point (azimuthal equidistant). Every
//! distance from the mid-frontal point, and every direction at it, is true on the paper; other
//! lengths stretch with the curvature: across, at distance `d`, by `(d/R)/sin(d/R)` on a sphere
//! of radius `R` — on a 90 mm head about 2 % at 30 mm, 5 % at 50 mm, 15 % at 80 mm and 24 % at
//! 100 mm from the mid-frontal point. So the temples are traced from their own distance to the
//! mid-frontal point, which the paper keeps. The page shows the scalp as seen
//! from outside, facing the client: the client's right on the page's left, the face at the
//! bottom. Outlines beyond the page are cut at its margin.

use std::fmt::Write as _;

use follicle_pattern::{Head, Pattern};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

use crate::error::RenderError;
use crate::mesh::{cross, dot, sub};
use crate::settings::RenderSettings;

/// PDF points per mm (a point is 1/72 inch, an inch 25.4 mm).
pub const PT_PER_MM: f64 = 72.0 / 25.4;

/// Helvetica's advance width of every digit, per unit of font size (the font's metrics).
const DIGIT_WIDTH_EM: f64 = 0.556;

/// Text sizes, mm (presentation): titles, notes, scale-bar labels.
const TITLE_MM: f64 = 4.2;
const NOTE_MM: f64 = 3.0;

/// The scale bar's tick step, mm, and the height of its ticks (presentation).
const TICK_STEP_MM: f64 = 10.0;
const TICK_MM: f64 = 3.0;

/// Space for the header and the scale bar, mm (presentation layout).
const HEADER_MM: f64 = 14.0;
const FOOTER_MM: f64 = 16.0;

/// A drawing on one page, in mm from the page's top-left corner (y down).
#[derive(Debug, Clone, PartialEq)]
enum Item {
    /// A polyline; `grey` 0 is black.
    Line {
        points: Vec<[f64; 2]>,
        width_mm: f64,
        dash_mm: Option<f64>,
        grey: f64,
    },
    /// Filled dots: centre and diameter.
    Dots(Vec<[f64; 3]>),
    /// Text with its baseline's start (or centre, when `centred`).
    Text {
        at: [f64; 2],
        size_mm: f64,
        text: String,
        centred: bool,
    },
}

/// One page of the stencil.
#[derive(Debug, Clone, PartialEq)]
pub struct StencilPage {
    /// What the page holds ("Hairline and zones", "Session 2 of 3").
    pub title: String,
    /// Items drawn inside the drawing area (clipped to it).
    clipped: Vec<Item>,
    /// Items outside it (header, scale bar).
    free: Vec<Item>,
}

/// The stencil of a design: the outline page, then one page of dots per session.
#[derive(Debug, Clone, PartialEq)]
pub struct Stencil {
    /// Paper size, mm.
    pub page_mm: [f64; 2],
    /// The pages.
    pub pages: Vec<StencilPage>,
    /// The drawing area, mm: left, top, right, bottom.
    area: [f64; 4],
}

/// The development of the scalp from the mid-frontal point (see the module docs).
#[derive(Debug, Clone, Copy)]
pub struct Development<'a> {
    head: &'a Head,
    /// The mid-frontal point on the surface, mm.
    pub anchor: [f64; 3],
    right: [f64; 3],
    up: [f64; 3],
}

fn normalise(v: [f64; 3]) -> [f64; 3] {
    let n = dot(v, v).sqrt().max(1e-12);
    v.map(|c| c / n)
}

impl<'a> Development<'a> {
    /// Developed from the pattern's mid-frontal point: the hairline's crossing of the midline
    /// in front (the rules' mid-frontal point when the hairline was drawn by rules).
    pub fn of(pattern: &'a Pattern) -> Development<'a> {
        let head = &pattern.head;
        let anchor = match &pattern.hairline.mid_frontal {
            Some(p) => p.surface_mm,
            None => head.surface_from_chart(midline_crossing(&pattern.hairline.points)),
        };
        Development::at(head, anchor)
    }

    /// Developed from any point of the scalp.
    pub fn at(head: &'a Head, anchor: [f64; 3]) -> Development<'a> {
        let n = normalise([
            anchor[0] / (head.a_mm * head.a_mm),
            anchor[1] / (head.b_mm * head.b_mm),
            anchor[2] / (head.c_mm * head.c_mm),
        ]);
        let x = [1.0, 0.0, 0.0];
        let right = normalise(sub(x, n.map(|c| c * dot(x, n))));
        let up = cross(right, n);
        Development {
            head,
            anchor,
            right,
            up,
        }
    }

    /// The developed position of a surface point, mm: (towards the client's right, up the
    /// scalp away from the face), from the anchor.
    pub fn develop(&self, p: [f64; 3]) -> [f64; 2] {
        let d = self.head.surface_distance_mm(self.anchor, p);
        let v = sub(p, self.anchor);
        let (u, w) = (dot(v, self.right), dot(v, self.up));
        let len = u.hypot(w);
        if len < 1e-12 {
            return [0.0, 0.0];
        }
        [d * u / len, d * w / len]
    }
}

/// Where a chart polyline (right sideburn to left) crosses the midline in front, or its
/// frontmost point.
fn midline_crossing(points: &[[f64; 2]]) -> [f64; 2] {
    let mut best: Option<[f64; 2]> = None;
    for w in points.windows(2) {
        let (p, q) = (w[0], w[1]);
        if (p[0] <= 0.0) != (q[0] <= 0.0) {
            let t = p[0] / (p[0] - q[0]);
            let c = [0.0, p[1] + t * (q[1] - p[1])];
            if c[1] > 0.0 && best.is_none_or(|b| c[1] > b[1]) {
                best = Some(c);
            }
        }
    }
    best.unwrap_or_else(|| {
        points
            .iter()
            .copied()
            .max_by(|a, b| a[1].total_cmp(&b[1]))
            .unwrap_or([0.0, 0.0])
    })
}

/// Places developed points on the page.
#[derive(Debug, Clone, Copy)]
struct Placement {
    /// Page position of the anchor, mm.
    anchor: [f64; 2],
    /// Beyond this distance from the anchor a segment is not drawn (the development folds
    /// over at the back of the head).
    reach_mm: f64,
}

impl Placement {
    fn page(&self, d: [f64; 2]) -> [f64; 2] {
        // Seen from outside facing the client: their right on the page's left; up the scalp
        // is up the page (y grows down).
        [self.anchor[0] - d[0], self.anchor[1] - d[1]]
    }

    /// A chart polyline as page polylines, broken where it leaves the reach.
    fn polylines(&self, dev: &Development<'_>, chart: &[[f64; 2]], closed: bool) -> Vec<Vec<[f64; 2]>> {
        let mut out = Vec::new();
        let mut run: Vec<[f64; 2]> = Vec::new();
        let n = chart.len();
        let count = if closed { n + 1 } else { n };
        for i in 0..count {
            let d = dev.develop(dev.head.surface_from_chart(chart[i % n]));
            if d[0].hypot(d[1]) <= self.reach_mm {
                run.push(self.page(d));
            } else if run.len() > 1 {
                out.push(std::mem::take(&mut run));
            } else {
                run.clear();
            }
        }
        if run.len() > 1 {
            out.push(run);
        }
        out
    }
}

/// The stencil of `pattern` with the settings' paper, margins and scale bar. `title` heads
/// every page (the client's or design's name).
pub fn stencil(pattern: &Pattern, settings: &RenderSettings, title: &str) -> Result<Stencil, RenderError> {
    let s = &settings.stencil;
    let page = [f64::from(s.page_mm[0]), f64::from(s.page_mm[1])];
    let margin = f64::from(s.margin_mm);
    let line = f64::from(s.line_width_mm);
    let bar = f64::from(s.scale_bar_mm);
    let area = [
        margin,
        margin + HEADER_MM,
        page[0] - margin,
        page[1] - margin - FOOTER_MM,
    ];
    if !(area[2] - area[0] >= bar && area[3] - area[1] > HEADER_MM) {
        return Err(RenderError::invalid(
            "render.stencil.page_mm",
            format!(
                "a page of {} × {} mm with {margin} mm margins leaves no room for the drawing",
                page[0], page[1]
            ),
        ));
    }
    let dev = Development::of(pattern);
    let head = &pattern.head;
    let hairline: Vec<[f64; 2]> = pattern
        .hairline
        .points
        .iter()
        .map(|q| dev.develop(head.surface_from_chart(*q)))
        .collect();
    // The anchor in the middle across; down the page as far as the hairline's lowest point
    // (the temples) within the page's width allows, keeping most of the area above it.
    let half_w = (area[2] - area[0]) / 2.0;
    let lowest = hairline
        .iter()
        .filter(|d| d[0].abs() <= half_w)
        .map(|d| d[1])
        .fold(0.0f64, f64::min);
    let anchor_y = (area[3] + lowest).max(area[1] + 0.6 * (area[3] - area[1]));
    let place = Placement {
        anchor: [(area[0] + area[2]) / 2.0, anchor_y],
        reach_mm: page[0].hypot(page[1]),
    };
    let hairline_lines = place.polylines(&dev, &pattern.hairline.points, false);
    let registration = |grey: f64| -> Vec<Item> {
        let mut items: Vec<Item> = hairline_lines
            .iter()
            .map(|p| Item::Line {
                points: p.clone(),
                width_mm: line,
                dash_mm: None,
                grey,
            })
            .collect();
        // The mid-frontal point: a cross, and the midline up from it.
        let [x, y] = place.anchor;
        let arm = 4.0 * line.max(1.0);
        items.push(Item::Line {
            points: vec![[x - arm, y], [x + arm, y]],
            width_mm: line / 2.0,
            dash_mm: None,
            grey: 0.0,
        });
        items.push(Item::Line {
            points: vec![[x, y + arm], [x, area[1]]],
            width_mm: line / 2.0,
            dash_mm: Some(2.0),
            grey: 0.0,
        });
        items
    };
    let chrome = |title_line: String| -> Vec<Item> {
        let mut items = vec![
            Item::Text {
                at: [margin, margin + TITLE_MM],
                size_mm: TITLE_MM,
                text: title_line,
                centred: false,
            },
            Item::Text {
                at: [margin, margin + TITLE_MM + NOTE_MM + 2.0],
                size_mm: NOTE_MM,
                text: "Developed from the mid-frontal point (+): distances from it along the skin are true. \
                       Seen from outside, facing the client; the face is at the bottom."
                    .into(),
                centred: false,
            },
            Item::Text {
                at: [area[0], area[3] - NOTE_MM],
                size_mm: NOTE_MM,
                text: "client's right".into(),
                centred: false,
            },
            Item::Text {
                at: [area[2] - 22.0, area[3] - NOTE_MM],
                size_mm: NOTE_MM,
                text: "client's left".into(),
                centred: false,
            },
        ];
        items.extend(scale_bar([margin, page[1] - margin - NOTE_MM], bar, line));
        items
    };
    let mut pages = Vec::new();
    // The outline page: hairline, zone outlines with their names.
    let mut clipped = registration(0.0);
    for zone in &pattern.zones {
        for points in place.polylines(&dev, &zone.polygon, true) {
            clipped.push(Item::Line {
                points,
                width_mm: line / 2.0,
                dash_mm: Some(3.0),
                grey: 0.35,
            });
        }
        // The name at the zone's developed centroid, if that falls on the page.
        let c = centroid(&zone.polygon);
        let d = dev.develop(head.surface_from_chart(c));
        let at = place.page(d);
        if inside(area, at) && d[0].hypot(d[1]) <= place.reach_mm {
            clipped.push(Item::Text {
                at,
                size_mm: NOTE_MM,
                text: zone.kind.label().to_string(),
                centred: true,
            });
        }
    }
    pages.push(StencilPage {
        title: "Hairline and zones".into(),
        free: chrome(format!("{title}: hairline and zones, 1:1")),
        clipped,
    });
    // A page of dots per session.
    for session in 1..=pattern.sessions {
        let mut dots = Vec::new();
        let mut total = 0usize;
        for d in pattern.dots.iter().filter(|d| d.session == session) {
            total += 1;
            let dd = dev.develop(d.surface_mm);
            if dd[0].hypot(dd[1]) > place.reach_mm {
                continue;
            }
            let at = place.page(dd);
            if inside(area, at) {
                dots.push([at[0], at[1], d.diameter_mm]);
            }
        }
        let shown = dots.len();
        let mut clipped = registration(0.6);
        clipped.push(Item::Dots(dots));
        pages.push(StencilPage {
            title: format!("Session {session} of {}", pattern.sessions),
            free: chrome(format!(
                "{title}: session {session} of {}, {shown} of its {total} dots on this page, 1:1",
                pattern.sessions
            )),
            clipped,
        });
    }
    Ok(Stencil {
        page_mm: page,
        pages,
        area,
    })
}

fn inside(area: [f64; 4], p: [f64; 2]) -> bool {
    p[0] >= area[0] && p[0] <= area[2] && p[1] >= area[1] && p[1] <= area[3]
}

fn centroid(polygon: &[[f64; 2]]) -> [f64; 2] {
    let n = polygon.len().max(1) as f64;
    let s = polygon.iter().fold([0.0, 0.0], |a, p| [a[0] + p[0], a[1] + p[1]]);
    [s[0] / n, s[1] / n]
}

/// The scale bar: `length_mm` long from `at` (its left end, on the bar's line), ticks every
/// [`TICK_STEP_MM`] labelled in mm above it.
fn scale_bar(at: [f64; 2], length_mm: f64, line: f64) -> Vec<Item> {
    let [x0, y] = at;
    let mut items = vec![Item::Line {
        points: vec![[x0, y], [x0 + length_mm, y]],
        width_mm: line,
        dash_mm: None,
        grey: 0.0,
    }];
    let ticks = (length_mm / TICK_STEP_MM).floor() as usize;
    let mut marks: Vec<f64> = (0..=ticks).map(|k| k as f64 * TICK_STEP_MM).collect();
    if length_mm - marks.last().copied().unwrap_or(0.0) > 1e-6 {
        marks.push(length_mm);
    }
    for &m in &marks {
        items.push(Item::Line {
            points: vec![[x0 + m, y], [x0 + m, y - TICK_MM]],
            width_mm: line / 2.0,
            dash_mm: None,
            grey: 0.0,
        });
        items.push(Item::Text {
            at: [x0 + m, y - TICK_MM - 1.0],
            size_mm: NOTE_MM,
            text: format!("{}", m.round()),
            centred: true,
        });
    }
    items.push(Item::Text {
        at: [x0 + length_mm + 4.0, y],
        size_mm: NOTE_MM,
        text: format!(
            "mm. Print at actual size (100 %, no fit to page): this bar must measure {} mm.",
            length_mm.round()
        ),
        centred: false,
    });
    items
}

/// The width of a text in Helvetica, mm, for centring: exact for digits (every digit is
/// [`DIGIT_WIDTH_EM`] wide); other characters are taken as digits too.
fn text_width_mm(text: &str, size_mm: f64) -> f64 {
    text.chars().count() as f64 * DIGIT_WIDTH_EM * size_mm
}

/// Text as WinAnsi bytes for the standard Helvetica (Latin-1 passes, anything else is `?`).
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| {
            u8::try_from(u32::from(c))
                .ok()
                .filter(|b| *b >= 0x20)
                .unwrap_or(b'?')
        })
        .collect()
}

impl Stencil {
    /// The stencil as a PDF, every page at the paper's size (1 mm = 72/25.4 pt).
    pub fn to_pdf(&self) -> Vec<u8> {
        let [w, h] = self.page_mm;
        let pt = |v: f64| (v * PT_PER_MM) as f32;
        // Page coordinates (mm, y down) to PDF user space (pt, y up).
        let xy = |p: [f64; 2]| (pt(p[0]), pt(h - p[1]));
        let mut pdf = Pdf::new();
        let catalog = Ref::new(1);
        let tree = Ref::new(2);
        let font = Ref::new(3);
        let mut next = 4;
        let mut alloc = || {
            let r = Ref::new(next);
            next += 1;
            r
        };
        let ids: Vec<(Ref, Ref)> = self.pages.iter().map(|_| (alloc(), alloc())).collect();
        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree)
            .kids(ids.iter().map(|(p, _)| *p))
            .count(ids.len() as i32);
        pdf.type1_font(font)
            .base_font(Name(b"Helvetica"))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
        for (page, &(page_id, content_id)) in self.pages.iter().zip(&ids) {
            let mut p = pdf.page(page_id);
            p.media_box(Rect::new(0.0, 0.0, pt(w), pt(h)));
            p.parent(tree);
            p.contents(content_id);
            p.resources().fonts().pair(Name(b"F1"), font);
            p.finish();
            let mut c = Content::new();
            c.save_state();
            let [l, t, r, b] = self.area;
            c.rect(pt(l), pt(h - b), pt(r - l), pt(b - t));
            c.clip_nonzero();
            c.end_path();
            for item in &page.clipped {
                draw_pdf(&mut c, item, &xy, &pt);
            }
            c.restore_state();
            for item in &page.free {
                draw_pdf(&mut c, item, &xy, &pt);
            }
            pdf.stream(content_id, &c.finish());
        }
        pdf.finish()
    }

    /// Page `index` (0: the outline page) as SVG, its width and height in mm and one user
    /// unit a mm.
    pub fn to_svg(&self, index: usize) -> Result<String, RenderError> {
        let page = self.pages.get(index).ok_or_else(|| {
            RenderError::invalid(
                "page",
                format!("expected 1–{}, got {}", self.pages.len(), index + 1),
            )
        })?;
        let [w, h] = self.page_mm;
        let [l, t, r, b] = self.area;
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}mm" height="{h}mm" viewBox="0 0 {w} {h}">"#
        );
        let _ = writeln!(s, "<title>{}</title>", escape(&page.title));
        let _ = writeln!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
        let _ = writeln!(
            s,
            r#"<clipPath id="area"><rect x="{l:.3}" y="{t:.3}" width="{:.3}" height="{:.3}"/></clipPath>"#,
            r - l,
            b - t
        );
        s.push_str(r#"<g clip-path="url(#area)">"#);
        s.push('\n');
        for item in &page.clipped {
            draw_svg(&mut s, item);
        }
        s.push_str("</g>\n");
        for item in &page.free {
            draw_svg(&mut s, item);
        }
        s.push_str("</svg>\n");
        Ok(s)
    }
}

fn draw_pdf(c: &mut Content, item: &Item, xy: &impl Fn([f64; 2]) -> (f32, f32), pt: &impl Fn(f64) -> f32) {
    match item {
        Item::Line {
            points,
            width_mm,
            dash_mm,
            grey,
        } => {
            let Some((&first, rest)) = points.split_first() else {
                return;
            };
            c.set_stroke_gray(*grey as f32);
            c.set_line_width(pt(*width_mm));
            c.set_line_cap(pdf_writer::types::LineCapStyle::RoundCap);
            match dash_mm {
                Some(d) => c.set_dash_pattern([pt(*d), pt(*d)], 0.0),
                None => c.set_dash_pattern([], 0.0),
            };
            let (x, y) = xy(first);
            c.move_to(x, y);
            for &p in rest {
                let (x, y) = xy(p);
                c.line_to(x, y);
            }
            c.stroke();
        }
        Item::Dots(dots) => {
            // A zero-length round-capped line is a filled disc of the line's width.
            c.set_stroke_gray(0.0);
            c.set_line_cap(pdf_writer::types::LineCapStyle::RoundCap);
            c.set_dash_pattern([], 0.0);
            let mut width = f64::NAN;
            for d in dots {
                if d[2] != width {
                    width = d[2];
                    c.set_line_width(pt(width));
                }
                let (x, y) = xy([d[0], d[1]]);
                c.move_to(x, y);
                c.line_to(x, y);
                c.stroke();
            }
        }
        Item::Text {
            at,
            size_mm,
            text,
            centred,
        } => {
            let left = if *centred {
                at[0] - text_width_mm(text, *size_mm) / 2.0
            } else {
                at[0]
            };
            let (x, y) = xy([left, at[1]]);
            c.set_fill_gray(0.0);
            c.begin_text();
            c.set_font(Name(b"F1"), pt(*size_mm));
            c.next_line(x, y);
            c.show(Str(&win_ansi(text)));
            c.end_text();
        }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn draw_svg(s: &mut String, item: &Item) {
    match item {
        Item::Line {
            points,
            width_mm,
            dash_mm,
            grey,
        } => {
            let g = (grey * 255.0).round() as u8;
            let dash = dash_mm.map_or(String::new(), |d| format!(r#" stroke-dasharray="{d} {d}""#));
            let pts: Vec<String> = points
                .iter()
                .map(|p| format!("{:.3},{:.3}", p[0], p[1]))
                .collect();
            let _ = writeln!(
                s,
                r#"<polyline points="{}" fill="none" stroke="rgb({g},{g},{g})" stroke-width="{width_mm}" stroke-linecap="round"{dash}/>"#,
                pts.join(" ")
            );
        }
        Item::Dots(dots) => {
            s.push_str("<g fill=\"black\">\n");
            for d in dots {
                let _ = writeln!(
                    s,
                    r#"<circle cx="{:.3}" cy="{:.3}" r="{:.3}"/>"#,
                    d[0],
                    d[1],
                    d[2] / 2.0
                );
            }
            s.push_str("</g>\n");
        }
        Item::Text {
            at,
            size_mm,
            text,
            centred,
        } => {
            let anchor = if *centred { r#" text-anchor="middle""# } else { "" };
            let _ = writeln!(
                s,
                r#"<text x="{:.3}" y="{:.3}" font-family="Helvetica, Arial, sans-serif" font-size="{size_mm}"{anchor}>{}</text>"#,
                at[0],
                at[1],
                escape(text)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use follicle_pattern::{PatternRequest, generate};

    #[test]
    fn distances_from_the_anchor_are_true_and_directions_kept() {
        let head = Head::from_spec(&follicle_pattern::HeadSpec::default()).unwrap();
        let anchor = head.point_at(0.0, 60.0, true);
        let dev = Development::at(&head, anchor);
        // Straight up the midline: straight up the page, at its distance along the skin.
        let up = head.walk_up(anchor, 80.0);
        let d = dev.develop(up);
        assert!(d[0].abs() < 1e-6 && (d[1] - 80.0).abs() < 0.5, "{d:?}");
        // Towards the client's right: to the right, at its skin distance.
        let side = head.point_at(50.0, anchor[2], true);
        let d = dev.develop(side);
        let skin = head.surface_distance_mm(anchor, side);
        assert!(d[0] > 0.0 && (d[0].hypot(d[1]) - skin).abs() < 1e-9, "{d:?}");
    }

    #[test]
    fn every_session_has_a_page_and_a_small_page_is_refused() {
        let p = generate(&PatternRequest::default()).unwrap();
        let s = stencil(&p, &RenderSettings::default(), "Test").unwrap();
        assert_eq!(s.pages.len(), 1 + usize::from(p.sessions));
        let dots: usize = s.pages[1..]
            .iter()
            .flat_map(|pg| &pg.clipped)
            .map(|i| if let Item::Dots(d) = i { d.len() } else { 0 })
            .sum();
        assert!(dots > 100, "dots on the session pages: {dots}");
        let mut small = RenderSettings::default();
        small.stencil.page_mm = [40.0, 40.0];
        let e = stencil(&p, &small, "Test").unwrap_err().to_string();
        assert!(e.contains("render.stencil.page_mm"), "{e}");
        assert!(
            s.to_svg(99)
                .unwrap_err()
                .to_string()
                .contains("page: expected 1–")
        );
    }
}
