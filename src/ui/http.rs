//! The HTTP pane: one row per exchange, newest first.
//!
//! Only the rows on screen are built: the visible ids are a sorted vector,
//! so the selected row's position and the page around it are found by
//! binary search, never by walking every exchange.

use std::net::SocketAddr;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::columns::{self, Cell, Col};
use super::{Page, View, pane_block, pane_inner, placeholder, units};
use crate::app::{App, Pane};
use crate::store::ExchangeRow;
use crate::text::sanitize;

/// Columns in screen order; peer goes first when space runs out, then the
/// request size, then the response size, then the host: the path matters most.
const COLS: [Col; 9] = [
    Col::fixed("Time", 12, 0),
    Col::fixed("Method", 7, 0),
    Col::fixed("Host", 14, 1),
    Col::flex("Path", 12, 0),
    Col::fixed("St", 3, 0),
    Col::fixed("Latency", 7, 0),
    Col::fixed("Req", 6, 3),
    Col::fixed("Resp", 6, 2),
    Col::fixed("Peer", 23, 4),
];

/// How many exchanges are shown (pause hides the newer ones): a prefix of `app.visible()`.
pub(crate) fn shown_len(app: &App) -> usize {
    match app.paused_at {
        Some(limit) => app.visible().partition_point(|id| *id <= limit),
        None => app.visible().len(),
    }
}

/// Position of the selected exchange in newest-first order.
pub(crate) fn selected_pos(app: &App, len: usize) -> Option<usize> {
    let shown = app.visible().get(..len)?;
    app.selected
        .and_then(|s| shown.binary_search(&s).ok())
        .map(|i| len - 1 - i)
}

/// Draws the HTTP pane.
pub(crate) fn render(frame: &mut Frame, area: Rect, v: &View) {
    let app = v.app;
    let t = v.theme;
    let len = shown_len(app);
    let mut title = vec![Span::styled(" HTTP ", t.title)];
    title.push(Span::raw(format!("{len}/{} ", app.exchanges.len())));
    if !app.filter.is_empty() {
        title.push(Span::styled("filtered ", t.dim));
    }
    let block = pane_block(Line::from(title), app.focus == Pane::Http, t);
    let inner = pane_inner(area);
    frame.render_widget(block, area);
    if len == 0 {
        let text = if app.exchanges.is_empty() {
            "waiting for HTTP exchanges…".to_owned()
        } else {
            format!(
                "no exchange matches the filter ({} clears it)",
                super::key_hint(app, crate::keys::Action::Back)
            )
        };
        placeholder(frame, inner, text, t);
        return;
    }
    let sel = selected_pos(app, len);
    let page = Page::new(inner, sel.unwrap_or(0));
    let start = page.start;
    let end = start.saturating_add(page.rows).min(len);
    let rows = (start..end).filter_map(|i| {
        let id = *app.visible().get(len - 1 - i)?;
        let row = app.exchanges.get(id)?;
        let style = if sel == Some(i) { t.selected } else { t.text };
        Some((cells(row, v), style))
    });
    frame.render_widget(columns::table(&COLS, inner.width, rows, t), inner);
}

/// The cells of one row, in [`COLS`] order.
fn cells<'a>(row: &ExchangeRow, v: &View<'a>) -> [Cell<'a>; 9] {
    let store = &v.app.exchanges;
    let t = v.theme;
    let host = store.text(row.host);
    let status = row.status.map_or_else(|| "-".to_owned(), |s| s.to_string());
    [
        Cell::from(units::clock(row.ts)),
        Cell::from(sanitize(store.text(row.method))),
        Cell::from(if host.is_empty() {
            "-".into()
        } else {
            sanitize(host)
        }),
        Cell::from(sanitize(store.path(row))),
        Cell::from(Span::styled(status, t.status(row.status))),
        Cell::from(units::opt_duration(row.latency)),
        Cell::from(units::bytes(row.request_bytes)),
        Cell::from(if row.status.is_some() {
            units::bytes(row.response_bytes)
        } else {
            "-".to_owned()
        }),
        Cell::from(peer(row.client, row.server, v)),
    ]
}

/// The other end from the pod: `← client` when the pod served it, `→ server` when it called out.
pub(crate) fn peer(client: SocketAddr, server: SocketAddr, v: &View) -> String {
    match v.pod {
        Some(pod) if server.ip() == pod && client.ip() != pod => format!("← {client}"),
        _ => format!("→ {server}"),
    }
}
