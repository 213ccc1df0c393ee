//! The flows pane: one row per TCP/UDP flow, the pod's side first.
//!
//! The capture runs inside the pod's network namespace, so the pod is one
//! end of (nearly) every flow: [`guess_pod`] takes the address seen most
//! often as the pod's. Inbound flows (the pod is the server) and outbound
//! ones (the pod is the client) are then both written `pod ← peer` or
//! `pod → peer`, with bytes and packets counted out of / into the pod.

use std::net::{IpAddr, SocketAddr};

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::columns::{self, Cell, Col};
use super::{Page, View, pane_block, pane_inner, placeholder, units};
use crate::app::{App, Pane};
use crate::decode::flow::FlowInfo;
use crate::keys::Action;
use crate::store::FlowSort;
use crate::wire::Nanos;

/// Flows and exchanges looked at to guess the pod's address.
pub(crate) const GUESS_FLOWS: usize = 256;
const GUESS_EXCHANGES: usize = 64;

/// The pod's own IP: the address that takes part in the most flows (and
/// exchanges on screen), when one clearly does.
pub(crate) fn guess_pod(app: &App, flows: &[&FlowInfo]) -> Option<IpAddr> {
    let mut counts: Vec<(IpAddr, usize)> = Vec::new();
    let mut add = |ip: IpAddr| match counts.iter_mut().find(|(a, _)| *a == ip) {
        Some((_, n)) => *n += 1,
        None => counts.push((ip, 1)),
    };
    for f in flows.iter().take(GUESS_FLOWS) {
        add(f.client.ip());
        add(f.server.ip());
    }
    for id in app.shown().take(GUESS_EXCHANGES) {
        if let Some(r) = app.exchanges.get(id) {
            add(r.client.ip());
            add(r.server.ip());
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    match counts.as_slice() {
        [(ip, _)] => Some(*ip),
        [(ip, a), (_, b), ..] if a > b => Some(*ip),
        _ => None,
    }
}

/// Which side of `f` is the pod: 1 (server) for inbound flows, else 0 (client).
fn pod_side(f: &FlowInfo, pod: Option<IpAddr>) -> usize {
    match pod {
        Some(p) if f.server.ip() == p && f.client.ip() != p => 1,
        _ => 0,
    }
}

fn sort_name(sort: FlowSort) -> &'static str {
    match sort {
        FlowSort::Bytes => "bytes ▼",
        FlowSort::Rate => "rate ▼",
        FlowSort::Retransmissions => "retrans ▼",
        FlowSort::Age => "age ▲",
    }
}

/// Columns in screen order; drop ranks: proto, packets, age, RTT, resets.
fn cols(pod_known: bool) -> [Col; 11] {
    [
        Col::fixed("Pod", if pod_known { 7 } else { 21 }, 0),
        Col::fixed("", 1, 0),
        Col::flex("Peer", 21, 0),
        Col::fixed("Proto", 5, 5),
        Col::fixed("State", 12, 0),
        Col::fixed("Pkts out/in", 13, 4),
        Col::fixed("Bytes out/in", 13, 0),
        Col::fixed("Retr", 4, 0),
        Col::fixed("RST", 3, 1),
        Col::fixed("RTT", 7, 2),
        Col::fixed("Age", 5, 3),
    ]
}

/// Draws the flows pane.
pub(crate) fn render(frame: &mut Frame, area: Rect, v: &View) {
    let app = v.app;
    let t = v.theme;
    let total = app.flow_count();
    let mut title = vec![
        Span::styled(" Flows ", t.title),
        Span::raw(format!("{total} ")),
        Span::styled(format!("sort: {} ", sort_name(app.flow_sort)), t.dim),
    ];
    if let Some(pod) = v.pod {
        title.push(Span::styled(format!("pod {pod} "), t.dim));
    }
    let block = pane_block(Line::from(title), app.focus == Pane::Flows, t);
    let inner = pane_inner(area);
    frame.render_widget(block, area);
    if total == 0 {
        placeholder(frame, inner, "no flows yet".to_owned(), t);
        return;
    }
    let cols = cols(v.pod.is_some());
    let sel = app.flow_selected.min(total - 1);
    let Page {
        start,
        rows: rows_fit,
        ..
    } = Page::new(inner, sel);
    let now = app.flow_now();
    let window = app.flow_window(start, rows_fit);
    let rows = window
        .iter()
        .enumerate()
        .map(|(i, f)| (start + i, f))
        .map(|(i, f)| {
            let ended = app.flows.end_reason(f.id).is_some();
            let style = if i == sel {
                t.selected
            } else if ended {
                t.dim
            } else {
                t.text
            };
            (cells(f, v, now), style)
        });
    frame.render_widget(columns::table(&cols, inner.width, rows, t), inner);
    if total > rows_fit && rows_fit > 0 && inner.height > 0 {
        let hint = format!(
            " {}-{} of {} · {} sorts ",
            start + 1,
            (start + rows_fit).min(total),
            total,
            super::key_hint(app, Action::CycleSort)
        );
        let w = (hint.chars().count() as u16).min(area.width);
        let r = Rect {
            x: area.right().saturating_sub(w + 1),
            y: area.bottom().saturating_sub(1),
            width: w,
            height: 1,
        };
        frame.render_widget(Span::styled(hint, t.dim), r);
    }
}

/// One endpoint: `:port` when it is the pod's known address, else `ip:port`.
fn endpoint(a: SocketAddr, pod: Option<IpAddr>) -> String {
    if Some(a.ip()) == pod {
        format!(":{}", a.port())
    } else {
        a.to_string()
    }
}

/// The cells of one flow, in [`cols`] order.
fn cells<'a>(f: &FlowInfo, v: &View, now: Nanos) -> [Cell<'a>; 11] {
    let t = v.theme;
    let ps = pod_side(f, v.pod);
    let (pod_end, peer_end) = if ps == 1 {
        (f.server, f.client)
    } else {
        (f.client, f.server)
    };
    let (out, inn) = (&f.sides[ps], &f.sides[1 - ps]);
    let retr = f.sides[0].retransmissions + f.sides[1].retransmissions;
    let rst = f.sides[0].resets + f.sides[1].resets;
    let warn = |n: u64| {
        let style = if n > 0 { t.warn } else { t.text };
        Cell::from(Span::styled(units::count(n), style))
    };
    let rtt = match (f.rtt_syn_synack, f.rtt_synack_ack) {
        (Some(to_server), Some(to_client)) => Some(Nanos(to_server.0.saturating_add(to_client.0))),
        (one, other) => one.or(other),
    };
    let state = match v.app.flows.end_reason(f.id) {
        Some(r) if !f.state.is_final() => format!("ended {}", r.as_str()),
        _ => f.state.as_str().to_owned(),
    };
    [
        Cell::from(endpoint(pod_end, v.pod)),
        Cell::from(if ps == 1 { "←" } else { "→" }),
        Cell::from(endpoint(peer_end, v.pod)),
        Cell::from(f.proto.as_str()),
        Cell::from(state),
        Cell::from(format!(
            "{}/{}",
            units::count(out.packets),
            units::count(inn.packets)
        )),
        Cell::from(format!(
            "{}/{}",
            units::bytes(out.bytes),
            units::bytes(inn.bytes)
        )),
        warn(retr),
        warn(rst),
        Cell::from(units::opt_duration(rtt)),
        Cell::from(units::age(now.since(f.first_seen))),
    ]
}
