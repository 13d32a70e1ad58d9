//! The owner's reports (issue 14, item 7): sessions and revenue by month, the no-show rate,
//! deposits outstanding, touch-ups due in the next 90 days and pigment batch usage, each as a
//! table with a simple chart drawn here as inline SVG (no script), and each table as CSV.
//!
//! What the figures mean is the store's (`follicle_store::OwnerReport`): revenue is the quoted
//! price of the sessions logged, and deposits outstanding are those quoted to clients booked
//! ahead who have had no session yet (Follicle records no payments). Touch-ups come from the
//! typical fading forecast, as on the Today page.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use follicle_core::fading::FadingModel;
use follicle_store::{Action, OwnerReport};
use serde::Deserialize;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use super::{Nav, Page, PageError, PageResult, render};
use crate::extract::QueryArgs;
use crate::state::AppState;

/// A table: its header and rows of cells.
type Table = (Vec<&'static str>, Vec<Vec<String>>);

/// Touch-ups listed: those falling due in this many days.
const TOUCH_UP_AHEAD_DAYS: i64 = 90;

/// Months shown unless asked otherwise.
const DEFAULT_MONTHS: i64 = 12;

/// The report's window.
#[derive(Debug, Deserialize)]
pub(super) struct ReportQuery {
    /// Months back, 1–120.
    #[serde(default)]
    months: Option<String>,
}

/// A touch-up falling due.
#[derive(Debug)]
struct TouchUp {
    client_id: Uuid,
    client: String,
    last_session: Date,
    due_on: Date,
}

/// Everything on the page, also what the CSV files are made of.
struct Report {
    months: i64,
    owner: OwnerReport,
    touch_ups: Vec<TouchUp>,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    nav: Nav,
    months: i64,
    currency: String,
    rows: Vec<Vec<String>>,
    totals: Vec<String>,
    /// (client, name, the other cells).
    deposits: Vec<(Uuid, String, Vec<String>)>,
    /// (client, name, the other cells).
    touch_ups: Vec<(Uuid, String, Vec<String>)>,
    batches: Vec<Vec<String>>,
    sessions_chart: String,
    revenue_chart: String,
    no_show_chart: String,
    batch_chart: String,
}

fn months_of(q: &ReportQuery) -> Result<i64, PageError> {
    match q.months.as_deref().map(str::trim) {
        None | Some("") => Ok(DEFAULT_MONTHS),
        Some(t) => match t.parse::<i64>() {
            Ok(n) if (1..=120).contains(&n) => Ok(n),
            _ => Err(PageError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                message: format!("months: expected a whole number of months, 1–120, got {t:?}"),
            }),
        },
    }
}

async fn report(state: &AppState, page: &Page, months: i64) -> Result<Report, PageError> {
    if !page.may(Action::ViewReports) {
        return Err(PageError {
            status: StatusCode::FORBIDDEN,
            message: "Your role does not allow this: the reports are the owner's.".to_owned(),
        });
    }
    let store = state.store();
    let today = OffsetDateTime::now_utc().date();
    let owner = store.owner_report(&page.actor, today, months).await?;
    let settings = state.clinic_settings(&page.actor).await?;
    let years = FadingModel::typical(&settings.fading).years_to_touch_up();
    let touch_up_days = (years * 365.25).round() as i64;
    let start = today.midnight().assume_utc();
    let last = store
        .last_completed_between(
            &page.actor,
            start - Duration::days(touch_up_days),
            start + Duration::days(TOUCH_UP_AHEAD_DAYS + 1 - touch_up_days),
        )
        .await?;
    let ids: Vec<Uuid> = last.iter().map(|(id, _)| *id).collect();
    let names: HashMap<Uuid, String> = store.client_names(&page.actor, &ids).await?;
    let touch_ups = last
        .into_iter()
        .map(|(client_id, at)| TouchUp {
            client_id,
            client: names
                .get(&client_id)
                .cloned()
                .unwrap_or_else(|| "(client)".into()),
            last_session: at.date(),
            due_on: at.date() + Duration::days(touch_up_days),
        })
        .collect();
    Ok(Report {
        months,
        owner,
        touch_ups,
    })
}

/// Rows whose first cell is a client's name, split off to link it to the client.
fn linked(ids: impl Iterator<Item = Uuid>, rows: Vec<Vec<String>>) -> Vec<(Uuid, String, Vec<String>)> {
    ids.zip(rows)
        .map(|(id, mut row)| {
            let name = if row.is_empty() {
                String::new()
            } else {
                row.remove(0)
            };
            (id, name, row)
        })
        .collect()
}

fn month_name(d: Date) -> String {
    format!("{}-{:02}", d.year(), u8::from(d.month()))
}

fn percent(p: Option<f64>) -> String {
    p.map(|p| format!("{p:.1}")).unwrap_or_default()
}

/// The tables, as rows of cells (the page and the CSV files show the same).
fn months_table(r: &Report) -> Table {
    let header = vec![
        "month",
        "sessions",
        "revenue",
        "taken",
        "currency",
        "sessions unpriced",
        "visits completed",
        "no-shows",
        "no-show %",
    ];
    let rows = r
        .owner
        .months
        .iter()
        .map(|m| {
            vec![
                month_name(m.month),
                m.sessions.to_string(),
                m.revenue.to_string(),
                follicle_store::minor_decimal(m.taken),
                r.owner.currency.clone(),
                m.unpriced.to_string(),
                m.completed.to_string(),
                m.no_shows.to_string(),
                percent(m.no_show_percent()),
            ]
        })
        .collect();
    (header, rows)
}

fn deposits_table(r: &Report) -> Table {
    let header = vec!["client", "quote number", "deposit", "currency", "first visit"];
    let rows = r
        .owner
        .deposits
        .iter()
        .map(|d| {
            vec![
                d.client_name.clone(),
                d.quote_number.map(|n| n.to_string()).unwrap_or_default(),
                d.deposit.to_string(),
                d.currency.clone(),
                format!(
                    "{} {:02}:{:02}",
                    d.first_visit.date(),
                    d.first_visit.hour(),
                    d.first_visit.minute()
                ),
            ]
        })
        .collect();
    (header, rows)
}

fn touch_ups_table(r: &Report) -> Table {
    let header = vec!["client", "last session", "touch-up due"];
    let rows = r
        .touch_ups
        .iter()
        .map(|t| vec![t.client.clone(), t.last_session.to_string(), t.due_on.to_string()])
        .collect();
    (header, rows)
}

fn batches_table(r: &Report) -> Table {
    let header = vec![
        "product",
        "lot",
        "expires on",
        "recalled",
        "sessions",
        "units used",
        "units in stock",
    ];
    let rows = r
        .owner
        .batches
        .iter()
        .map(|b| {
            vec![
                b.product.clone(),
                b.lot.clone(),
                b.expires_on.to_string(),
                if b.recalled { "yes" } else { "no" }.to_owned(),
                b.sessions.to_string(),
                b.units_used.to_string(),
                b.in_stock.to_string(),
            ]
        })
        .collect();
    (header, rows)
}

pub(super) async fn page(
    State(state): State<AppState>,
    page: Page,
    QueryArgs(q): QueryArgs<ReportQuery>,
) -> PageResult {
    let months = months_of(&q)?;
    let r = report(&state, &page, months).await?;
    let (_, rows) = months_table(&r);
    let m = &r.owner.months;
    let labels: Vec<String> = m.iter().map(|m| month_name(m.month)).collect();
    let sum = |f: fn(&follicle_store::MonthRow) -> i64| m.iter().map(f).sum::<i64>();
    let (completed, no_shows) = (sum(|m| m.completed), sum(|m| m.no_shows));
    let totals = vec![
        "all".to_owned(),
        sum(|m| m.sessions).to_string(),
        sum(|m| m.revenue).to_string(),
        follicle_store::minor_decimal(sum(|m| m.taken)),
        r.owner.currency.clone(),
        sum(|m| m.unpriced).to_string(),
        completed.to_string(),
        no_shows.to_string(),
        percent((completed + no_shows > 0).then(|| no_shows as f64 * 100.0 / (completed + no_shows) as f64)),
    ];
    let sessions_chart = bar_chart(
        "Sessions by month",
        &labels,
        &m.iter().map(|m| m.sessions as f64).collect::<Vec<_>>(),
        "",
    );
    let revenue_chart = bar_chart(
        "Revenue by month",
        &labels,
        &m.iter().map(|m| m.revenue as f64).collect::<Vec<_>>(),
        &format!(" {}", r.owner.currency),
    );
    let no_show_chart = bar_chart(
        "No-show rate by month",
        &labels,
        &m.iter()
            .map(|m| m.no_show_percent().unwrap_or(0.0))
            .collect::<Vec<_>>(),
        " %",
    );
    let batch_labels: Vec<String> = r.owner.batches.iter().map(|b| b.lot.clone()).collect();
    let batch_chart = bar_chart(
        "Units used by batch",
        &batch_labels,
        &r.owner
            .batches
            .iter()
            .map(|b| b.units_used as f64)
            .collect::<Vec<_>>(),
        "",
    );
    render(&ReportsPage {
        nav: Nav::new(&page, "reports"),
        months: r.months,
        currency: r.owner.currency.clone(),
        rows,
        totals,
        deposits: linked(r.owner.deposits.iter().map(|d| d.client_id), deposits_table(&r).1),
        touch_ups: linked(r.touch_ups.iter().map(|t| t.client_id), touch_ups_table(&r).1),
        batches: batches_table(&r).1,
        sessions_chart,
        revenue_chart,
        no_show_chart,
        batch_chart,
    })
}

/// `GET /reports/{table}.csv`: one table of the page.
pub(super) async fn csv(
    State(state): State<AppState>,
    page: Page,
    Path(file): Path<String>,
    QueryArgs(q): QueryArgs<ReportQuery>,
) -> Result<Response, PageError> {
    let months = months_of(&q)?;
    let name = file.strip_suffix(".csv").unwrap_or(&file).to_owned();
    let table: fn(&Report) -> Table = match name.as_str() {
        "months" => months_table,
        "deposits" => deposits_table,
        "touch-ups" => touch_ups_table,
        "batches" => batches_table,
        _ => {
            return Err(PageError {
                status: StatusCode::NOT_FOUND,
                message: format!(
                    "There is no report table {file:?}: the tables are months.csv, deposits.csv, touch-ups.csv and batches.csv."
                ),
            });
        }
    };
    let r = report(&state, &page, months).await?;
    let (header, rows) = table(&r);
    Ok(csv_download(&name, &header, rows))
}

/// A CSV file to download as `<name>.csv`: the `header` line, then a line a row.
pub(super) fn csv_download(
    name: &str,
    header: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Response {
    let mut out = csv_line(header.iter().map(|h| h.to_string()));
    for row in rows {
        out.push_str(&csv_line(row.into_iter()));
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ),
        ],
        out,
    )
        .into_response()
}

/// One CSV line (RFC 4180): a field with a comma, quote or line break is quoted; one that a
/// spreadsheet would run as a formula (=, +, -, @ first) is prefixed with an apostrophe.
fn csv_line(fields: impl Iterator<Item = String>) -> String {
    let cells: Vec<String> = fields
        .map(|f| {
            let f = if f.starts_with(['=', '+', '@']) || (f.starts_with('-') && f.parse::<f64>().is_err()) {
                format!("'{f}")
            } else {
                f
            };
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f
            }
        })
        .collect();
    format!("{}\r\n", cells.join(","))
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A bar chart as inline SVG: one bar per label, its value written above it, the title as
/// the chart's accessible name. Presentation attributes only (the studio's CSP allows no
/// inline styles).
fn bar_chart(title: &str, labels: &[String], values: &[f64], unit: &str) -> String {
    const BAR: f64 = 36.0;
    const GAP: f64 = 12.0;
    const HEIGHT: f64 = 160.0;
    const TOP: f64 = 24.0;
    const BOTTOM: f64 = 40.0;
    let width = (labels.len().max(1) as f64) * (BAR + GAP) + GAP;
    let max = values.iter().copied().fold(0.0_f64, f64::max);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" viewBox=\"0 0 {width} {}\" width=\"{width}\" height=\"{}\"><title>{}</title>",
        TOP + HEIGHT + BOTTOM,
        TOP + HEIGHT + BOTTOM,
        xml(title)
    );
    svg.push_str(&format!(
        "<line x1=\"0\" y1=\"{y}\" x2=\"{width}\" y2=\"{y}\" stroke=\"#888\" stroke-width=\"1\"/>",
        y = TOP + HEIGHT
    ));
    for (i, (label, value)) in labels.iter().zip(values).enumerate() {
        let x = GAP + i as f64 * (BAR + GAP);
        let h = if max > 0.0 { value / max * HEIGHT } else { 0.0 };
        let y = TOP + HEIGHT - h;
        let shown = if value.fract() == 0.0 {
            format!("{value:.0}")
        } else {
            format!("{value:.1}")
        };
        svg.push_str(&format!(
            "<g><title>{}: {shown}{}</title><rect x=\"{x}\" y=\"{y:.1}\" width=\"{BAR}\" height=\"{h:.1}\" fill=\"#3a6ea5\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{shown}</text>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" text-anchor=\"middle\">{}</text></g>",
            xml(label),
            xml(unit),
            x + BAR / 2.0,
            y - 4.0,
            x + BAR / 2.0,
            TOP + HEIGHT + 14.0,
            xml(label)
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let line = csv_line(
            ["a,b", "say \"hi\"", "=SUM(A1)", "-12", "-x", "plain"]
                .into_iter()
                .map(str::to_owned),
        );
        assert_eq!(line, "\"a,b\",\"say \"\"hi\"\"\",'=SUM(A1),-12,'-x,plain\r\n");
    }

    #[test]
    fn bars_scale_to_the_largest_and_escape_labels() {
        let svg = bar_chart("T<1>", &["a&b".to_owned(), "c".to_owned()], &[2.0, 4.0], "");
        assert!(svg.contains("<title>T&lt;1&gt;</title>"));
        assert!(svg.contains("height=\"160.0\""), "{svg}");
        assert!(svg.contains("height=\"80.0\""), "{svg}");
        assert!(svg.contains(">a&amp;b<"));
    }
}
