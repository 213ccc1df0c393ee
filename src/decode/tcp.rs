//! One TCP (or UDP) connection in the flow table: its state machine, its two
//! reassemblers and its HTTP parser, and the glue between them.

use std::net::SocketAddr;

use super::flow::{FlowInfo, FlowState};
use super::http::{Exchange, HttpParser, Side};
use super::packet::{TcpSegment, tcp_flags};
use super::reassembly::{Chunk, Reassembler};
use super::stats::{Stats, add_http_counters};
use crate::wire::Nanos;

/// A flow with the state that decoding it needs.
#[derive(Debug)]
pub(super) struct Flow {
    pub(super) info: FlowInfo,
    pub(super) streams: [Reassembler; 2],
    pub(super) http: Option<Box<HttpParser>>,
    /// Whether client and server are known (from the handshake or the first payload).
    pub(super) roles_known: bool,
    /// HTTP was finished early because the connection closed.
    pub(super) http_finished: bool,
    /// It took a packet since the last flow report.
    pub(super) changed: bool,
}

impl Flow {
    /// The connection is over: delivers what reassembly holds (holes as
    /// gaps), ends both sides and emits every exchange still pending.
    pub(super) fn close_http(&mut self, ts: Nanos, out: &mut Vec<Exchange>) {
        let Flow { streams, http, .. } = self;
        for (i, s) in streams.iter_mut().enumerate() {
            let side = side_name(i);
            s.flush(&mut |c| feed(http, side, c, out));
            if let Some(h) = http.as_mut() {
                h.end(side, ts, out);
            }
        }
        if let Some(h) = http.as_mut() {
            h.finish(ts, out);
        }
        self.http_finished = true;
    }
}

pub(super) fn side_name(dir: usize) -> Side {
    if dir == 0 { Side::Client } else { Side::Server }
}

/// Hands reassembled bytes to the flow's HTTP parser while it wants them.
pub(super) fn feed(
    http: &mut Option<Box<HttpParser>>,
    side: Side,
    chunk: Chunk<'_>,
    out: &mut Vec<Exchange>,
) {
    let Some(h) = http.as_mut() else { return };
    if !h.wants_data() {
        return;
    }
    match chunk {
        Chunk::Data(ts, bytes) => h.data(side, ts, bytes, out),
        Chunk::Gap(ts, len) => h.gap(side, ts, len, out),
    }
}

pub(super) fn add_flow_counters(s: &mut Stats, f: &Flow) {
    s.reassembly.add(f.streams[0].counters());
    s.reassembly.add(f.streams[1].counters());
    if let Some(h) = &f.http {
        add_http_counters(s, h);
    }
}

/// Updates TCP state, handshake timing and per-direction counters.
pub(super) fn track_tcp(
    flow: &mut Flow,
    ts: Nanos,
    src: SocketAddr,
    seg: &TcpSegment<'_>,
    frame_len: u64,
) {
    let info = &mut flow.info;
    info.last_seen = ts;
    let syn = seg.has(tcp_flags::SYN);
    let ack = seg.has(tcp_flags::ACK);
    if syn {
        if !ack && info.syn_at.is_none() && info.packets() == 0 {
            info.midstream = false;
            info.state = FlowState::SynSent;
            info.syn_at = Some(ts);
            flow.roles_known = true;
        } else if ack && info.syn_ack_at.is_none() {
            info.syn_ack_at = Some(ts);
            info.rtt_syn_synack = info.syn_at.map(|s| ts.since(s));
            if info.packets() == 0 {
                info.midstream = false;
                flow.roles_known = true;
            }
            if info.state == FlowState::SynSent || info.packets() == 0 {
                info.state = FlowState::SynReceived;
            }
        }
    }
    let dir = info.side_of(src);
    let side = &mut info.sides[dir];
    side.packets += 1;
    side.bytes += frame_len;
    side.payload_bytes += u64::from(seg.wire_len());
    if seg.window == 0 && !seg.has(tcp_flags::RST) {
        side.zero_windows += 1;
    }
    if syn {
        flow.streams[dir].syn(seg.seq);
    } else if ack && dir == 0 && info.state == FlowState::SynReceived {
        info.rtt_synack_ack = info.syn_ack_at.map(|s| ts.since(s));
        info.state = FlowState::Established;
    }
    if seg.wire_len() > 0 && matches!(info.state, FlowState::SynSent | FlowState::SynReceived) {
        info.state = FlowState::Established;
    }
    if seg.has(tcp_flags::RST) {
        info.sides[dir].resets += 1;
        info.state = FlowState::Reset;
    } else if seg.has(tcp_flags::FIN) {
        info.sides[dir].fins += 1;
        if info.state != FlowState::Reset {
            let both = info.sides[0].fins > 0 && info.sides[1].fins > 0;
            info.state = if both {
                FlowState::Closed
            } else {
                FlowState::Closing
            };
        }
    }
}

/// Mid-stream: decides from the first payload whether `dir`'s sender is really the server.
pub(super) fn should_swap(flow: &Flow, dir: usize, payload: &[u8]) -> bool {
    let sender_is_server = if payload.starts_with(b"HTTP/") {
        true
    } else if looks_like_request(payload) {
        false
    } else {
        // No clue in the bytes: the lower port is usually the server's.
        let (sender, receiver) = if dir == 0 {
            (flow.info.client, flow.info.server)
        } else {
            (flow.info.server, flow.info.client)
        };
        sender.port() < receiver.port()
    };
    sender_is_server == (dir == 0)
}

/// Whether bytes start like an HTTP request line (`TOKEN SP`).
fn looks_like_request(p: &[u8]) -> bool {
    let token_len = p
        .iter()
        .take(24)
        .take_while(|b| b.is_ascii_uppercase() || **b == b'_' || **b == b'-')
        .count();
    token_len > 0 && p.get(token_len) == Some(&b' ')
}
