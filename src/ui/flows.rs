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
    let mut ips: Vec<IpAddr> = Vec::with_capacity(2 * (GUESS_FLOWS + GUESS_EXCHANGES));
    for f in flows.iter().take(GUESS_FLOWS) {
        ips.extend([f.client.ip(), f.server.ip()]);
    }
    for id in app.shown().take(GUESS_EXCHANGES) {
        if let Some(r) = app.exchanges.get(id) {
            ips.extend([r.client.ip(), r.server.ip()]);
        }
    }
    // Sorted, equal addresses are runs: the longest run wins when it is the only longest.
    ips.sort_unstable();
    let (mut best, mut best_n, mut tied) = (None, 0, false);
    for run in ips.chunk_by(|a, b| a == b) {
        match run.len().cmp(&best_n) {
            std::cmp::Ordering::Greater => (best, best_n, tied) = (Some(run[0]), run.len(), false),
            std::cmp::Ordering::Equal => tied = true,
            std::cmp::Ordering::Less => {}
        }
    }
    if tied { None } else { best }
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

#[cfg(test)]
mod tests {
    use super::guess_pod;
    use crate::app::App;
    use crate::config::Config;
    use crate::decode::flow::{FlowId, FlowInfo, Proto};
    use crate::wire::Nanos;

    fn flow(id: u64, client: &str, server: &str) -> FlowInfo {
        FlowInfo::new(
            FlowId(id),
            Proto::Tcp,
            client.parse().unwrap(),
            server.parse().unwrap(),
            Nanos(0),
        )
    }

    #[test]
    fn the_address_in_most_flows_is_the_pod_unless_tied() {
        let app = App::new("t", &Config::default());
        let pod = "10.244.0.5".parse().ok();
        let flows = [
            flow(1, "10.244.0.5:4000", "10.96.0.1:53"),
            flow(2, "10.244.1.9:5000", "10.244.0.5:8080"),
            flow(3, "10.244.0.5:4001", "10.96.0.2:443"),
        ];
        let refs: Vec<&FlowInfo> = flows.iter().collect();
        assert_eq!(guess_pod(&app, &refs), pod);
        // Two addresses in the same number of flows: no guess.
        let tied: Vec<&FlowInfo> = flows[..1].iter().collect();
        assert_eq!(guess_pod(&app, &tied), None);
        assert_eq!(guess_pod(&app, &[]), None);
        // One flow to itself: the only address.
        let own = [flow(4, "10.244.0.5:1", "10.244.0.5:2")];
        let own: Vec<&FlowInfo> = own.iter().collect();
        assert_eq!(guess_pod(&app, &own), pod);
    }
}
