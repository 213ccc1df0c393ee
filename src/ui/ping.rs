//! The ping pane: a table of targets, and the selected target's RTT
//! history: a chart when there is room, a one-line sparkline otherwise.
//! Lost probes are marked in both.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Borders, Chart, Dataset, GraphType, Sparkline};

use super::columns::{self, Cell, Col};
use super::{Page, View, pane_block, pane_inner, placeholder, units};
use crate::app::{App, Pane};
use crate::keys::Action;
use crate::store::TargetStats;
use crate::text::sanitize;

/// Least room for the chart (rows, columns); less gets a sparkline.
const CHART_MIN: (u16, u16) = (8, 30);

/// Columns in screen order; min/max go first, then kind, then avg/jitter/p95.
const COLS: [Col; 11] = [
    Col::flex("Target", 14, 0),
    Col::fixed("Kind", 4, 3),
    Col::fixed("Sent", 5, 0),
    Col::fixed("Recv", 5, 0),
    Col::fixed("Loss%", 6, 0),
    Col::fixed("Last", 7, 0),
    Col::fixed("Avg", 7, 1),
    Col::fixed("Min", 7, 4),
    Col::fixed("Max", 7, 4),
    Col::fixed("Jitter", 7, 2),
    Col::fixed("p95", 7, 1),
];

/// Where the ping pane's parts go inside its frame (`inner`): the same for
/// [`render`] and for placing clicks ([`super::click_at`]).
pub(super) struct PingLayout {
    /// The targets table and the page of it on screen.
    pub table: Page,
    /// The selected target (clamped to the list).
    pub selected: usize,
    /// Under the table: the selected target's history.
    pub rest: Rect,
    /// Whether `rest` holds a chart (else a sparkline).
    pub chart: bool,
}

/// The layout inside the frame `inner`; `None` without targets (a placeholder instead).
///
/// The table takes what it needs, up to half the pane when a chart fits below.
pub(super) fn layout(inner: Rect, app: &App) -> Option<PingLayout> {
    let targets = app.pings.targets.len();
    let selected = app.ping_selected.min(targets.checked_sub(1)?);
    let want = targets.saturating_add(1).min(usize::from(u16::MAX)) as u16;
    let chart_room = inner
        .height
        .saturating_sub(want.min(inner.height / 2).max(2));
    let chart = chart_room >= CHART_MIN.0 && inner.width >= CHART_MIN.1;
    let table_h = if chart {
        inner.height - chart_room
    } else {
        want.min(inner.height.saturating_sub(1))
            .max(inner.height.min(1))
    };
    let table = Rect {
        height: table_h,
        ..inner
    };
    let rest = Rect {
        y: inner.y + table_h,
        height: inner.height - table_h,
        ..inner
    };
    Some(PingLayout {
        table: Page::new(table, selected),
        selected,
        rest,
        chart,
    })
}

/// Draws the ping pane.
pub(crate) fn render(frame: &mut Frame, area: Rect, v: &View) {
    let app = v.app;
    let t = v.theme;
    let targets = &app.pings.targets;
    let title = Line::from(vec![
        Span::styled(" Ping ", t.title),
        Span::raw(format!("{} targets ", targets.len())),
    ]);
    let block = pane_block(title, app.focus == Pane::Ping, t);
    let inner = pane_inner(area);
    frame.render_widget(block, area);
    let Some(layout) = layout(inner, app) else {
        let text = format!(
            "no ping targets ({} adds one)",
            super::key_hint(app, Action::AddTarget)
        );
        placeholder(frame, inner, text, t);
        return;
    };
    render_table(frame, &layout, v);
    let rest = layout.rest;
    if let Some(target) = targets.get(layout.selected)
        && rest.height > 0
    {
        if layout.chart {
            render_chart(frame, rest, target, v);
        } else {
            render_sparkline(frame, rest, target, v);
        }
    }
}

fn render_table(frame: &mut Frame, layout: &PingLayout, v: &View) {
    let t = v.theme;
    let page = layout.table;
    let rows = v
        .app
        .pings
        .targets
        .iter()
        .enumerate()
        .skip(page.start)
        .take(page.rows)
        .map(|(i, s)| {
            let style = if i == layout.selected {
                t.selected
            } else {
                t.text
            };
            (cells(s, v), style)
        });
    frame.render_widget(columns::table(&COLS, page.area.width, rows, t), page.area);
}

fn cells<'a>(s: &TargetStats, v: &View) -> [Cell<'a>; 11] {
    let t = v.theme;
    let loss = s.loss_pct();
    let mut name = vec![Span::raw(sanitize(&s.target).into_owned())];
    if let Some(p) = s.last_problem {
        name.push(Span::styled(format!(" {p}"), t.warn));
    }
    let loss_style = if loss > 0.0 { t.warn } else { t.text };
    [
        Cell::from(Line::from(name)),
        Cell::from(s.kind),
        Cell::from(units::count(s.sent)),
        Cell::from(units::count(s.received)),
        Cell::from(Span::styled(format!("{loss:.1}"), loss_style)),
        Cell::from(units::opt_millis(s.last_ms)),
        Cell::from(units::opt_millis(s.avg_ms)),
        Cell::from(units::opt_millis(s.min_ms)),
        Cell::from(units::opt_millis(s.max_ms)),
        Cell::from(units::opt_millis(s.jitter_ms)),
        Cell::from(units::opt_millis(s.p95_ms)),
    ]
}

/// The chart's title: whose history, how many probes, how many lost.
fn history_title(s: &TargetStats) -> String {
    let lost = s.history.iter().filter(|h| h.is_none()).count();
    format!(
        " {} RTT, last {} probes, {lost} lost ",
        sanitize(&s.target),
        s.history.len()
    )
}

fn render_chart(frame: &mut Frame, area: Rect, s: &TargetStats, v: &View) {
    let t = v.theme;
    let title = Line::from(vec![
        Span::styled(history_title(s), t.title),
        Span::styled("(• lost) ", t.loss),
    ]);
    let n = s.history.len();
    let rtts: Vec<(f64, f64)> = s
        .history
        .iter()
        .enumerate()
        .filter_map(|(i, h)| h.map(|ms| (i as f64, ms)))
        .collect();
    let top = rtts.iter().map(|p| p.1).fold(0.0_f64, f64::max).max(0.001) * 1.2;
    let losses: Vec<(f64, f64)> = s
        .history
        .iter()
        .enumerate()
        .filter(|(_, h)| h.is_none())
        .map(|(i, _)| (i as f64, top))
        .collect();
    let mut sets = vec![
        Dataset::default()
            .name("rtt")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(t.chart)
            .data(&rtts),
    ];
    if !losses.is_empty() {
        sets.push(
            Dataset::default()
                .name("lost")
                .marker(Marker::Dot)
                .graph_type(GraphType::Scatter)
                .style(t.loss)
                .data(&losses),
        );
    }
    let x_max = (n.saturating_sub(1) as f64).max(1.0);
    let chart = Chart::new(sets)
        .block(
            Block::new()
                .borders(Borders::TOP)
                .border_style(t.border)
                .title(title),
        )
        .x_axis(
            Axis::default()
                .bounds([0.0, x_max])
                .style(t.dim)
                .labels([format!("-{n}"), "now".to_owned()]),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, top])
                .style(t.dim)
                .labels(["0".to_owned(), units::millis(top)]),
        )
        .legend_position(None);
    frame.render_widget(chart, area);
}

fn render_sparkline(frame: &mut Frame, area: Rect, s: &TargetStats, v: &View) {
    let t = v.theme;
    let label = history_title(s);
    let label_w = (label.chars().count() as u16).min(area.width / 2);
    let (label_area, spark_area) = if area.width >= 40 {
        (
            Rect {
                width: label_w,
                ..area
            },
            Rect {
                x: area.x + label_w,
                width: area.width - label_w,
                ..area
            },
        )
    } else {
        (Rect::default(), area)
    };
    frame.render_widget(Span::styled(label, t.dim), label_area);
    // The newest samples that fit, in microseconds; `None` marks a loss.
    let skip = s
        .history
        .len()
        .saturating_sub(usize::from(spark_area.width));
    let data: Vec<Option<u64>> = s
        .history
        .iter()
        .skip(skip)
        .map(|h| h.map(|ms| (ms * 1000.0).max(1.0) as u64))
        .collect();
    let spark = Sparkline::default()
        .data(data)
        .style(t.chart)
        .absent_value_symbol("x")
        .absent_value_style(t.loss);
    frame.render_widget(spark, spark_area);
}
