//! Charts drawn on the server as SVG (no chart library in the browser, nothing inline for the
//! CSP to refuse): a player's daily wagers as bars and a race's leaders as lines, each chart
//! with a `<title>`, a description and a table or legend beside it for screen readers and
//! phones. Colours come from `app.css` classes; race lines also differ by dash and marker, so
//! they read in grey.

use chrono::{DateTime, NaiveDate, Utc};
use maud::{html, Markup, PreEscaped};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::layout::money;
use crate::domain::history::{DayPoint, SPANS};

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 240.0;
/// Room for the amounts at the left and the dates at the bottom.
const LEFT: f64 = 64.0;
const BOTTOM: f64 = 28.0;
const TOP: f64 = 8.0;

fn short_date(d: NaiveDate) -> String {
    d.format("%b %-d").to_string()
}

/// A name cut to fit the room beside the plot (the legend has it whole).
fn short_name(name: &str) -> String {
    const ROOM: usize = 13;
    if name.chars().count() <= ROOM {
        name.to_string()
    } else {
        format!("{}…", name.chars().take(ROOM - 1).collect::<String>())
    }
}

/// `$1.2M`, `$35K`, `$900` for an axis label.
fn compact(d: Decimal) -> String {
    let v = d.to_f64().unwrap_or(0.0);
    if v >= 1_000_000.0 {
        format!("${:.1}M", v / 1_000_000.0)
    } else if v >= 1_000.0 {
        format!("${:.0}K", v / 1_000.0)
    } else {
        format!("${v:.0}")
    }
}

/// The bar chart of `points` (one bar per day, oldest first) for `name`, with its table.
/// `id` makes the chart's element ids unique on the page.
pub fn daily_wagers(name: &str, points: &[DayPoint], id: &str) -> Markup {
    let max = points
        .iter()
        .map(|p| p.wagered)
        .max()
        .unwrap_or(Decimal::ZERO);
    let total: Decimal = points.iter().map(|p| p.wagered).sum();
    let best = points.iter().max_by_key(|p| p.wagered);
    let plot_w = WIDTH - LEFT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / points.len().max(1) as f64;
    let bar_w = (slot * 0.8).max(1.0);
    let scale = |v: Decimal| -> f64 {
        if max.is_zero() {
            0.0
        } else {
            (v / max).to_f64().unwrap_or(0.0) * plot_h
        }
    };
    let title = format!("Daily wagers of {name}, last {} days", points.len());
    let description = match best {
        Some(b) if !max.is_zero() => format!(
            "In all {}; the most on {} with {}.",
            money(total),
            short_date(b.date),
            money(b.wagered)
        ),
        _ => "No wagers in this span.".to_string(),
    };
    let labels: Vec<usize> = match points.len() {
        0 => vec![],
        n => vec![0, n / 2, n - 1],
    };
    html! {
        figure.chart {
            svg.bars viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img"
                aria-labelledby=(format!("{id}-t {id}-d")) xmlns="http://www.w3.org/2000/svg" {
                title #(format!("{id}-t")) { (title) }
                desc #(format!("{id}-d")) { (description) }
                line.axis x1=(LEFT) y1=(TOP + plot_h) x2=(WIDTH) y2=(TOP + plot_h) {}
                line.grid x1=(LEFT) y1=(TOP) x2=(WIDTH) y2=(TOP) {}
                text.label x=(LEFT - 6.0) y=(TOP + 10.0) text-anchor="end" { (compact(max)) }
                text.label x=(LEFT - 6.0) y=(TOP + plot_h) text-anchor="end" { "$0" }
                @for (i, p) in points.iter().enumerate() {
                    @let h = scale(p.wagered);
                    rect.bar x=(format!("{:.1}", LEFT + i as f64 * slot + (slot - bar_w) / 2.0))
                        y=(format!("{:.1}", TOP + plot_h - h)) width=(format!("{bar_w:.1}"))
                        height=(format!("{h:.1}")) {
                        title { (short_date(p.date)) ": " (money(p.wagered)) }
                    }
                }
                // The first date starts at the plot's left, the last ends at its right.
                @for (k, i) in labels.iter().copied().enumerate() {
                    @let (x, anchor) = match k {
                        0 => (LEFT, "start"),
                        2 => (WIDTH, "end"),
                        _ => (LEFT + (i as f64 + 0.5) * slot, "middle"),
                    };
                    text.label x=(format!("{x:.1}")) y=(HEIGHT - 8.0) text-anchor=(anchor) { (short_date(points[i].date)) }
                }
            }
            figcaption { (description) }
            details.chart-table {
                summary { "The figures as a table" }
                div.table-wrap {
                    table {
                        caption { (title) }
                        thead { tr { th scope="col" { "Day" } th scope="col" .num { "Wagered" } th scope="col" .num { "All-time at day's end" } } }
                        tbody {
                            @for p in points.iter().rev() {
                                tr {
                                    th scope="row" { time datetime=(p.date.to_string()) { (p.date.format("%a %b %-d, %Y")) } }
                                    td.num { (money(p.wagered)) }
                                    td.num { (money(p.all_time)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The links to the other spans of a chart on `path` (`?days=`), the current one marked.
pub fn span_links(path: &str, current: u16) -> Markup {
    html! {
        nav.spans aria-label="Span" {
            @for d in SPANS {
                @if d == current {
                    span aria-current="true" { (d) " days" }
                } @else {
                    a href={ (path) "?days=" (d) "#history" } { (d) " days" }
                }
            }
        }
    }
}

/// One player's line in a race chart: `(time, wager)` points, oldest first.
pub struct RaceLine {
    pub name: String,
    pub points: Vec<(DateTime<Utc>, Decimal)>,
}

/// Line styles told apart without colour: a dash pattern and a marker each.
const MARKERS: [&str; 5] = ["circle", "square", "triangle", "diamond", "cross"];

fn marker(kind: &str, x: f64, y: f64) -> Markup {
    let r = 4.0;
    match kind {
        "square" => {
            html! { rect.marker x=(format!("{:.1}", x - r)) y=(format!("{:.1}", y - r)) width=(2.0 * r) height=(2.0 * r) {} }
        }
        "triangle" => {
            html! { polygon.marker points=(format!("{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}", x, y - r, x - r, y + r, x + r, y + r)) {} }
        }
        "diamond" => {
            html! { polygon.marker points=(format!("{:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1}", x, y - r, x + r, y, x, y + r, x - r, y)) {} }
        }
        "cross" => {
            html! { path.marker d=(format!("M{:.1} {:.1}L{:.1} {:.1}M{:.1} {:.1}L{:.1} {:.1}", x - r, y - r, x + r, y + r, x - r, y + r, x + r, y - r)) {} }
        }
        _ => html! { circle.marker cx=(format!("{x:.1}")) cy=(format!("{y:.1}")) r=(r) {} },
    }
}

/// Label heights near `wanted` (one per line; `None` for a line with no point) at least `gap`
/// apart, inside `bounds`: names at the lines' ends never overlap.
fn spread_labels(wanted: &[Option<f64>], gap: f64, bounds: (f64, f64)) -> Vec<Option<f64>> {
    let mut order: Vec<(usize, f64)> = wanted
        .iter()
        .enumerate()
        .filter_map(|(i, y)| y.map(|y| (i, y)))
        .collect();
    order.sort_by(|a, b| a.1.total_cmp(&b.1));
    // Push down from the top, then back up from the bottom bound.
    let mut placed: Vec<f64> = Vec::with_capacity(order.len());
    for (k, (_, y)) in order.iter().enumerate() {
        let floor = if k == 0 {
            bounds.0
        } else {
            placed[k - 1] + gap
        };
        placed.push(y.max(floor));
    }
    for k in (0..placed.len()).rev() {
        let ceiling = if k + 1 == placed.len() {
            bounds.1
        } else {
            placed[k + 1] - gap
        };
        placed[k] = placed[k].min(ceiling);
    }
    let mut out = vec![None; wanted.len()];
    for ((i, _), y) in order.iter().zip(placed) {
        out[*i] = Some(y);
    }
    out
}

/// The race's leaders over time as lines from `start` to `end` (the race's end, or now while
/// it runs), each labelled with its name at its last point and in the legend; a table with
/// each leader's last figure beside it.
pub fn race_lines(
    title: &str,
    lines: &[RaceLine],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    id: &str,
) -> Markup {
    let max = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .max()
        .unwrap_or(Decimal::ZERO);
    let plot_w = WIDTH - LEFT - 110.0;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let span = (end - start).num_seconds().max(1) as f64;
    let x = |t: DateTime<Utc>| {
        LEFT + ((t - start).num_seconds() as f64 / span).clamp(0.0, 1.0) * plot_w
    };
    let y = |v: Decimal| {
        let f = if max.is_zero() {
            0.0
        } else {
            (v / max).to_f64().unwrap_or(0.0)
        };
        TOP + plot_h - f * plot_h
    };
    let label_ys = spread_labels(
        &lines
            .iter()
            .map(|l| l.points.last().map(|(_, v)| y(*v)))
            .collect::<Vec<_>>(),
        14.0,
        (TOP + 6.0, TOP + plot_h),
    );
    let description = match lines.first().and_then(|l| l.points.last().map(|p| (l, p))) {
        Some((l, p)) => format!("{} leads with {}.", l.name, money(p.1)),
        None => "No wagers in this race yet.".to_string(),
    };
    html! {
        figure.chart.race-chart {
            svg.lines viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img"
                aria-labelledby=(format!("{id}-t {id}-d")) xmlns="http://www.w3.org/2000/svg" {
                title #(format!("{id}-t")) { (title) }
                desc #(format!("{id}-d")) { (description) }
                line.axis x1=(LEFT) y1=(TOP + plot_h) x2=(LEFT + plot_w) y2=(TOP + plot_h) {}
                line.grid x1=(LEFT) y1=(TOP) x2=(LEFT + plot_w) y2=(TOP) {}
                text.label x=(LEFT - 6.0) y=(TOP + 10.0) text-anchor="end" { (compact(max)) }
                text.label x=(LEFT - 6.0) y=(TOP + plot_h) text-anchor="end" { "$0" }
                text.label x=(LEFT) y=(HEIGHT - 8.0) { (start.format("%b %-d")) }
                text.label x=(LEFT + plot_w) y=(HEIGHT - 8.0) text-anchor="end" { (end.format("%b %-d")) }
                @for (i, l) in lines.iter().enumerate() {
                    g class=(format!("series s{}", i + 1)) {
                        polyline.line points=(l.points.iter().map(|(t, v)| format!("{:.1},{:.1}", x(*t), y(*v))).collect::<Vec<_>>().join(" ")) {}
                        @if let (Some((t, v)), Some(label_y)) = (l.points.last(), label_ys[i]) {
                            (marker(MARKERS[i % MARKERS.len()], x(*t), y(*v)))
                            text.label.name x=(format!("{:.1}", x(*t) + 8.0)) y=(format!("{:.1}", label_y + 4.0)) { (short_name(&l.name)) }
                        }
                    }
                }
            }
            figcaption { (description) }
            ol.legend {
                @for (i, l) in lines.iter().enumerate() {
                    li class=(format!("s{}", i + 1)) {
                        svg.swatch viewBox="0 0 40 12" aria-hidden="true" xmlns="http://www.w3.org/2000/svg" {
                            g class=(format!("series s{}", i + 1)) {
                                line.line x1="0" y1="6" x2="40" y2="6" {}
                                (marker(MARKERS[i % MARKERS.len()], 20.0, 6.0))
                            }
                        }
                        " " (l.name)
                        @if let Some((_, v)) = l.points.last() { " · " (money(*v)) }
                    }
                }
            }
        }
    }
}

/// A chart made once and kept as text (the history service caches it per snapshot).
pub fn cached(cell: &std::sync::OnceLock<String>, make: impl FnOnce() -> Markup) -> Markup {
    PreEscaped(cell.get_or_init(|| make().into_string()).clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_labels_never_overlap() {
        let ys = spread_labels(
            &[Some(100.0), Some(101.0), None, Some(100.5)],
            14.0,
            (0.0, 200.0),
        );
        let mut placed: Vec<f64> = ys.iter().flatten().copied().collect();
        placed.sort_by(f64::total_cmp);
        assert!(
            placed.windows(2).all(|w| w[1] - w[0] >= 14.0 - 1e-9),
            "{placed:?}"
        );
        assert_eq!(ys[2], None);
        let low = spread_labels(&[Some(199.0), Some(200.0)], 14.0, (0.0, 200.0));
        assert!(low.iter().flatten().all(|y| *y <= 200.0), "{low:?}");
    }

    #[test]
    fn one_bar_per_day_and_well_formed() {
        let first = NaiveDate::from_ymd_opt(2026, 11, 5).unwrap();
        let points: Vec<DayPoint> = (0..30)
            .map(|i| DayPoint {
                date: first + chrono::Duration::days(i),
                wagered: Decimal::from(i * 10),
                all_time: Decimal::from(1000 + i * 10),
                recorded: i % 2 == 0,
            })
            .collect();
        let svg = daily_wagers("Lucy <3", &points, "h").into_string();
        assert_eq!(svg.matches("<rect class=\"bar\"").count(), 30);
        assert!(svg.contains("<title id=\"h-t\">Daily wagers of Lucy &lt;3, last 30 days</title>"));
        assert!(!svg.contains("style="), "nothing for the CSP to refuse");
        let open = svg.matches("<svg").count();
        assert_eq!(open, svg.matches("</svg>").count());
        assert_eq!(svg.matches("<rect").count(), svg.matches("</rect>").count());
    }
}
