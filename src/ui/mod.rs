//! Rendering: pure functions from [`App`] to a ratatui [`Frame`].
//!
//! One file per screen region (`http`, `flows`, `ping`, `detail`, `filter`,
//! `status`, `help`); every style comes from [`theme`]. Nothing here changes
//! the `App`, reads a clock, or writes to stdout/stderr. Every string that
//! came from the network goes through [`crate::text::sanitize`] before it is
//! drawn. Only the rows that fit on screen are built.
//!
//! Must not import the sources, the decoders' internals or any I/O.

mod columns;
mod detail;
mod filter;
mod flows;
mod help;
mod http;
#[cfg(feature = "cluster")]
mod launch;
#[cfg(feature = "cluster")]
pub mod picker;
mod ping;
#[cfg(test)]
mod ping_click_tests;
mod status;
pub mod theme;
mod units;

use std::net::IpAddr;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::{App, Mode, Pane};
pub use theme::Theme;

/// Width and height from which HTTP, flows and ping are shown together.
pub const WIDE: (u16, u16) = (160, 40);

/// What every region gets: the state, the theme and what is worked out once per frame.
pub(crate) struct View<'a> {
    /// The state.
    pub app: &'a App,
    /// Styles.
    pub theme: &'a Theme,
    /// The pod's own address, guessed from the traffic (see [`flows::guess_pod`]).
    pub pod: Option<IpAddr>,
}

/// Where the regions go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Areas {
    /// The tab bar (small terminals only).
    tabs: Option<Rect>,
    /// The panes (or the detail view).
    body: Rect,
    /// The filter bar or the ping-target field.
    input: Option<Rect>,
    /// The status bar.
    status: Rect,
}

/// Draws the whole screen with [`Theme::current`].
pub fn render(frame: &mut Frame, app: &App) {
    render_with(frame, app, Theme::current());
}

/// Draws the whole screen with a given theme (tests pass one for determinism).
///
/// Small terminals (below [`WIDE`]) show the focused pane only:
///
/// ```text
/// +------------------------------------------------------------+
/// | 1 HTTP   2 Flows   3 Ping                         (tabs)   |
/// +- HTTP 42/42 -----------------------------------------------+
/// | Time         Method Host      Path      St Latency Req Resp|
/// | 12:00:01.250 GET    cart      /api/cart 200  12.3ms  0B 2kB|
/// |  ... focused pane, or the detail view (Enter) ...          |
/// +------------------------------------------------------------+
/// | / status:5xx                     (filter bar, when needed) |
/// | demo | live | 120 pkt/s | drops 0/0 | mem 1.2MB | FOLLOW   |
/// +------------------------------------------------------------+
/// ```
///
/// Large terminals show all three panes:
///
/// ```text
/// +- HTTP ----------------------------------------------------------+
/// |                                                                 |
/// +- Flows -----------------------------------+- Ping --------------+
/// |                                           | targets, RTT chart  |
/// +-------------------------------------------+---------------------+
/// | filter bar (when needed)                                        |
/// | status bar                                                      |
/// ```
///
/// The help (`?`) is a popup over everything.
pub fn render_with(frame: &mut Frame, app: &App, theme: &Theme) {
    let area = frame.area();
    if area.width == 0 || area.height == 0 {
        return;
    }
    let flows_list = app.flow_window(0, flows::GUESS_FLOWS);
    let pod = flows::guess_pod(app, &flows_list);
    let view = View { app, theme, pod };
    let areas = split(area, app);
    if let Some(tabs) = areas.tabs {
        render_tabs(frame, tabs, &view);
    }
    if app.mode == Mode::Detail {
        detail::render(frame, areas.body, &view);
    } else {
        for (pane, rect) in panes(area, areas.body, app.focus) {
            match pane {
                Pane::Http => http::render(frame, rect, &view),
                Pane::Flows => flows::render(frame, rect, &view),
                Pane::Ping => ping::render(frame, rect, &view),
            }
        }
    }
    if let Some(input) = areas.input {
        filter::render(frame, input, &view);
    }
    status::render(frame, areas.status, &view);
    if app.mode == Mode::Help {
        help::render(frame, area, &view);
    }
}

/// What a mouse click at a screen position lands on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Click {
    /// A tab or a pane's frame: focus that pane.
    Pane(Pane),
    /// A row of a pane's list: its position in the pane's order (HTTP:
    /// newest first; ping: the targets table, not its chart).
    Row(Pane, usize),
}

/// Where a click at (`x`, `y`) lands on a screen of `area` drawn from `app`
/// (the same layout and paging as [`render`]). `None`: nothing clickable.
pub fn click_at(area: Rect, app: &App, x: u16, y: u16) -> Option<Click> {
    if matches!(app.mode, Mode::Detail | Mode::Help) {
        return None;
    }
    let at = Position::new(x, y);
    let areas = split(area, app);
    if let Some(tabs) = areas.tabs.filter(|t| t.contains(at)) {
        // The labels as render_tabs draws them: " 1 HTTP " then a space, and so on.
        let mut left = tabs.x;
        for (pane, label) in [(Pane::Http, 8), (Pane::Flows, 9), (Pane::Ping, 8)] {
            if x >= left && x < left + label {
                return Some(Click::Pane(pane));
            }
            left += label + 1;
        }
        return None;
    }
    let (pane, rect) = panes(area, areas.body, app.focus)
        .into_iter()
        .find(|(_, r)| r.contains(at))?;
    let inner = pane_inner(rect);
    let row = match pane {
        Pane::Http => {
            let len = http::shown_len(app);
            let sel = http::selected_pos(app, len).unwrap_or(0);
            Page::new(inner, sel).row_at(at, len)
        }
        Pane::Flows => {
            let len = app.flow_count();
            let sel = app.flow_selected.min(len.saturating_sub(1));
            Page::new(inner, sel).row_at(at, len)
        }
        Pane::Ping => {
            ping::layout(inner, app).and_then(|l| l.table.row_at(at, app.pings.targets.len()))
        }
    };
    Some(row.map_or(Click::Pane(pane), |pos| Click::Row(pane, pos)))
}

/// Rows of the HTTP list that fit in a terminal of `area` (the runner sets `App::page` from it).
pub fn layout_page_rows(area: Rect) -> usize {
    let wide = is_wide(area);
    let mut body = area.height.saturating_sub(1);
    if !wide {
        body = body.saturating_sub(1);
    }
    let pane = if wide { body * 55 / 100 } else { body };
    // Borders and the header row.
    usize::from(pane.saturating_sub(3)).max(1)
}

/// Where the panes go in `body`: all three on a wide screen, else the focused one.
fn panes(area: Rect, body: Rect, focus: Pane) -> Vec<(Pane, Rect)> {
    if is_wide(area) {
        let [top, bottom] =
            Layout::vertical([Constraint::Percentage(55), Constraint::Min(0)]).areas(body);
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(60), Constraint::Min(0)]).areas(bottom);
        vec![(Pane::Http, top), (Pane::Flows, left), (Pane::Ping, right)]
    } else {
        vec![(focus, body)]
    }
}

fn is_wide(area: Rect) -> bool {
    area.width >= WIDE.0 && area.height >= WIDE.1
}

/// Splits the screen: status bar at the bottom, input above it, tabs on top, panes between.
fn split(area: Rect, app: &App) -> Areas {
    let status = Rect {
        y: area.y + area.height.saturating_sub(1),
        height: area.height.min(1),
        ..area
    };
    let mut rest = Rect {
        height: area.height.saturating_sub(1),
        ..area
    };
    let mut areas = Areas {
        status,
        ..Areas::default()
    };
    let want = filter::height(app);
    // The input line only takes room the panes can spare (keep three rows for them).
    if want > 0 && rest.height >= want + 3 {
        areas.input = Some(Rect {
            y: rest.y + rest.height - want,
            height: want,
            ..rest
        });
        rest.height -= want;
    } else if matches!(app.mode, Mode::Filter | Mode::AddTarget) && rest.height >= 1 {
        // Typing must stay visible even on a tiny screen.
        areas.input = Some(Rect {
            y: rest.y + rest.height - 1,
            height: 1,
            ..rest
        });
        rest.height -= 1;
    }
    if !is_wide(area) && rest.height >= 4 {
        areas.tabs = Some(Rect { height: 1, ..rest });
        rest.y += 1;
        rest.height -= 1;
    }
    areas.body = rest;
    areas
}

/// The tab bar: `1 HTTP  2 Flows  3 Ping`, the focused one highlighted.
fn render_tabs(frame: &mut Frame, area: Rect, v: &View) {
    let t = v.theme;
    let tabs = [
        (Pane::Http, "1 HTTP"),
        (Pane::Flows, "2 Flows"),
        (Pane::Ping, "3 Ping"),
    ];
    let mut spans = Vec::with_capacity(8);
    for (pane, label) in tabs {
        let style = if pane == v.app.focus {
            t.tab_active
        } else {
            t.tab
        };
        spans.push(Span::styled(format!(" {label} "), style));
        spans.push(Span::raw(" "));
    }
    let keys = v.app.keys.keys_for(crate::keys::Action::Help);
    if let Some(k) = keys.first() {
        spans.push(Span::styled(format!(" {k} help"), t.dim));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A pane's frame: borders, a title, focus colour.
pub(crate) fn pane_block<'a>(title: Line<'a>, focused: bool, theme: &Theme) -> Block<'a> {
    Block::new()
        .borders(Borders::ALL)
        .border_style(theme.pane_border(focused))
        .title(title)
}

/// A one-line message inside an empty pane.
pub(crate) fn placeholder(frame: &mut Frame, area: Rect, text: String, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    let y = area.y + area.height / 2;
    let line = Rect {
        y,
        height: 1,
        ..area
    };
    frame.render_widget(
        Paragraph::new(Span::styled(text, theme.dim)).centered(),
        line,
    );
}

/// The first of `action`'s keys, for hints (`?`, `/`).
pub(crate) fn key_hint(app: &App, action: crate::keys::Action) -> String {
    app.keys
        .keys_for(action)
        .into_iter()
        .next()
        .unwrap_or_else(|| "-".into())
}

/// The first row of the page that holds row `selected` (pages of `rows` rows).
fn page_start(selected: usize, rows: usize) -> usize {
    selected.checked_div(rows).map_or(0, |page| page * rows)
}

/// A table drawn in `area` (its header line, then rows) and the rows it
/// shows: the page that holds the selected row. Render draws rows
/// `start..start + rows`; clicks are placed with [`Page::row_at`], so both
/// agree on which row is where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Page {
    /// Where the table goes, header line included.
    pub area: Rect,
    /// The first row shown.
    pub start: usize,
    /// How many rows fit under the header.
    pub rows: usize,
}

impl Page {
    /// The page of a table in `area` that holds row `selected`.
    pub(crate) fn new(area: Rect, selected: usize) -> Self {
        let rows = usize::from(area.height.saturating_sub(1));
        Page {
            area,
            start: page_start(selected, rows),
            rows,
        }
    }

    /// The row (out of `len`) drawn at `at`; `None` on the header or below the last row.
    pub(crate) fn row_at(&self, at: Position, len: usize) -> Option<usize> {
        let line =
            at.y.checked_sub(self.area.y + 1)
                .filter(|_| self.area.contains(at))?;
        let pos = self.start + usize::from(line);
        (pos < len).then_some(pos)
    }
}

/// The inside of a [`pane_block`] on `rect`.
pub(crate) fn pane_inner(rect: Rect) -> Rect {
    Block::new().borders(Borders::ALL).inner(rect)
}
