//! JSON lines: one object per exchange, flow, ping and a final summary.
//!
//! Field names are a stable interface, documented in the README. Times are
//! seconds since the epoch (`ts`) or milliseconds (`*_ms`) as numbers.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};
use std::net::SocketAddr;

use serde::Serialize;

use super::{Output, Summary};
use crate::decode::flow::{FlowInfo, SideStats};
use crate::decode::icmp::{PingOutcome, PingResult};
use crate::decode::pipeline::ExchangeEvent;
use crate::decode::{Event, flow::EndReason};
use crate::wire::Nanos;
use crate::wire::agent::{ProbeKind, ProbeOutcome, ProbeResult};

pub(super) struct JsonOutput<W: Write> {
    out: BufWriter<W>,
}

impl<W: Write> JsonOutput<W> {
    pub(super) fn new(out: W) -> Self {
        JsonOutput {
            out: BufWriter::with_capacity(64 * 1024, out),
        }
    }

    fn line<T: Serialize>(&mut self, value: &T) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, value)?;
        self.out.write_all(b"\n")
    }
}

fn ms(n: Nanos) -> f64 {
    n.as_millis_f64()
}

/// `"client -> server"`, written straight into the output without a temporary string.
struct FlowLabel(SocketAddr, SocketAddr);

impl Serialize for FlowLabel {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{} -> {}", self.0, self.1))
    }
}

#[derive(Serialize)]
struct ExchangeLine<'a> {
    r#type: &'static str,
    ts: f64,
    flow: FlowLabel,
    flow_id: u64,
    client: SocketAddr,
    server: SocketAddr,
    method: &'a str,
    host: Option<&'a str>,
    path: &'a str,
    version: &'static str,
    status: Option<u16>,
    reason: Option<&'a str>,
    interim: &'a [u16],
    latency_ms: Option<f64>,
    total_ms: Option<f64>,
    request_bytes: u64,
    response_bytes: Option<u64>,
    request_content_type: Option<&'a str>,
    response_content_type: Option<&'a str>,
    request_complete: bool,
    response_complete: Option<bool>,
}

fn exchange_line(e: &ExchangeEvent) -> ExchangeLine<'_> {
    let x = &e.exchange;
    let req = &x.request;
    let resp = x.response.as_ref();
    ExchangeLine {
        r#type: "exchange",
        ts: req.message.first_byte.as_secs_f64(),
        flow: FlowLabel(e.client, e.server),
        flow_id: x.flow.0,
        client: e.client,
        server: e.server,
        method: &req.method,
        host: req.host.as_deref(),
        path: &req.path,
        version: if req.message.version == 0 {
            "HTTP/1.0"
        } else {
            "HTTP/1.1"
        },
        status: resp.map(|r| r.status),
        reason: resp.map(|r| r.reason.as_str()),
        interim: resp.map_or(&[], |r| r.interim.as_slice()),
        latency_ms: x.latency().map(ms),
        total_ms: x.total().map(ms),
        request_bytes: req.message.body_len,
        response_bytes: resp.map(|r| r.message.body_len),
        request_content_type: req.message.content_type.as_deref(),
        response_content_type: resp.and_then(|r| r.message.content_type.as_deref()),
        request_complete: req.message.complete,
        response_complete: resp.map(|r| r.message.complete),
    }
}

#[derive(Serialize)]
struct Direction {
    packets: u64,
    bytes: u64,
    payload_bytes: u64,
    retransmissions: u64,
    out_of_order: u64,
    zero_windows: u64,
    fins: u64,
    resets: u64,
}

impl From<&SideStats> for Direction {
    fn from(s: &SideStats) -> Self {
        Direction {
            packets: s.packets,
            bytes: s.bytes,
            payload_bytes: s.payload_bytes,
            retransmissions: s.retransmissions,
            out_of_order: s.out_of_order,
            zero_windows: s.zero_windows,
            fins: s.fins,
            resets: s.resets,
        }
    }
}

#[derive(Serialize)]
struct FlowLine {
    r#type: &'static str,
    id: u64,
    proto: &'static str,
    client: String,
    server: String,
    state: &'static str,
    end: &'static str,
    midstream: bool,
    first_seen: f64,
    last_seen: f64,
    duration_ms: f64,
    handshake_rtt_ms: Option<f64>,
    client_ack_rtt_ms: Option<f64>,
    client_to_server: Direction,
    server_to_client: Direction,
}

fn flow_line(f: &FlowInfo, end: EndReason) -> FlowLine {
    FlowLine {
        r#type: "flow",
        id: f.id.0,
        proto: f.proto.as_str(),
        client: f.client.to_string(),
        server: f.server.to_string(),
        state: f.state.as_str(),
        end: end.as_str(),
        midstream: f.midstream,
        first_seen: f.first_seen.as_secs_f64(),
        last_seen: f.last_seen.as_secs_f64(),
        duration_ms: ms(f.last_seen.since(f.first_seen)),
        handshake_rtt_ms: f.rtt_syn_synack.map(ms),
        client_ack_rtt_ms: f.rtt_synack_ack.map(ms),
        client_to_server: Direction::from(&f.sides[0]),
        server_to_client: Direction::from(&f.sides[1]),
    }
}

#[derive(Serialize)]
struct PingLine {
    r#type: &'static str,
    ts: f64,
    source: String,
    target: String,
    id: u16,
    seq: u16,
    rtt_ms: Option<f64>,
    outcome: &'static str,
}

fn ping_line(p: &PingResult) -> PingLine {
    PingLine {
        r#type: "ping",
        ts: p.sent.as_secs_f64(),
        source: p.source.to_string(),
        target: p.target.to_string(),
        id: p.id,
        seq: p.seq,
        rtt_ms: p.rtt().map(ms),
        outcome: match p.outcome {
            PingOutcome::Reply { .. } => "reply",
            PingOutcome::Duplicate { .. } => "duplicate",
            PingOutcome::Lost => "lost",
        },
    }
}

#[derive(Serialize)]
struct SummaryLine {
    r#type: &'static str,
    packets: u64,
    bytes: u64,
    flows: u64,
    exchanges: u64,
    unanswered: u64,
    ping_replies: u64,
    ping_lost: u64,
    decode_errors: u64,
    capture_dropped: u64,
    drops: BTreeMap<&'static str, u64>,
    skipped_blocks: u64,
    complete: bool,
    error: Option<String>,
}

#[derive(Serialize)]
struct ProbeLine<'a> {
    r#type: &'static str,
    ts: f64,
    source: &'static str,
    target: &'a str,
    kind: ProbeKind,
    addr: Option<&'a str>,
    seq: u64,
    rtt_ms: Option<f64>,
    outcome: ProbeOutcome,
    detail: Option<&'a str>,
}

impl<W: Write> Output for JsonOutput<W> {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::Exchange(e) => self.line(&exchange_line(e)),
            Event::FlowEnded(f, end) => self.line(&flow_line(f, *end)),
            Event::Ping(p) => self.line(&ping_line(p)),
        }
    }

    fn probe(&mut self, p: &ProbeResult) -> io::Result<()> {
        self.line(&ProbeLine {
            r#type: "ping",
            ts: Nanos(p.sent_ns).as_secs_f64(),
            source: "agent",
            target: &p.target,
            kind: p.kind,
            addr: p.addr.as_deref(),
            seq: p.seq,
            rtt_ms: p.rtt_ns.map(|n| ms(Nanos(n))),
            outcome: p.outcome,
            detail: p.detail.as_deref(),
        })?;
        self.out.flush()
    }

    fn summary(&mut self, s: &Summary) -> io::Result<()> {
        let st = &s.stats;
        self.line(&SummaryLine {
            r#type: "summary",
            packets: st.packets,
            bytes: st.bytes,
            flows: st.flows,
            exchanges: st.exchanges,
            unanswered: st.unanswered,
            ping_replies: st.ping_replies,
            ping_lost: st.ping_lost,
            decode_errors: st.decode_errors(),
            capture_dropped: s.capture_dropped,
            drops: st.drops_and_errors().into_iter().collect(),
            skipped_blocks: s.reader.skipped_blocks + s.reader.unknown_interface,
            complete: s.error.is_none() && s.ended.is_none(),
            error: s
                .error
                .as_ref()
                .map(ToString::to_string)
                .or_else(|| s.ended.clone()),
        })?;
        self.out.flush()
    }
}
