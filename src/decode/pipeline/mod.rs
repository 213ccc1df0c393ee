//! The whole decode pipeline for one capture stream, with bounded memory.
//!
//! [`Pipeline::push`] takes one packet and appends what it completed to an
//! event list: HTTP exchanges, flows that left the table, ping results.
//! Live flows can be listed at any time ([`Pipeline::flows`]); every drop,
//! eviction and decode error is a counter in [`Stats`].

use std::net::SocketAddr;

use rustc_hash::FxHashMap;

use super::flow::{EndReason, FlowId, FlowInfo, FlowKey, FlowState, Proto};
use super::http::{Exchange, HttpConfig, HttpParser};
use super::icmp::{EchoTracker, PingOutcome, PingResult};
use super::packet::{self, TcpSegment, Transport, tcp_flags};
use super::reassembly::{Arrival, Reassembler};
use super::stats::{Stats, add_http_counters};
use super::tcp::{Flow, add_flow_counters, feed, should_swap, side_name, track_tcp};
use crate::wire::{Nanos, Packet};

/// Limits of the pipeline; every buffer it keeps is bounded by one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipelineConfig {
    /// Flows kept at once; past it the least recently active eighth is evicted.
    pub max_flows: usize,
    /// A TCP flow with no packet for this long is evicted.
    pub tcp_idle: Nanos,
    /// A closed or reset TCP flow stays this long to absorb trailing packets.
    pub finished_linger: Nanos,
    /// A UDP flow with no packet for this long is evicted.
    pub udp_idle: Nanos,
    /// Out-of-order bytes buffered per direction before the hole is skipped.
    pub reassembly_per_direction: usize,
    /// Out-of-order bytes buffered over all flows.
    pub reassembly_total: usize,
    /// HTTP parser limits.
    pub http: HttpConfig,
    /// An echo request with no reply for this long is lost.
    pub ping_timeout: Nanos,
    /// Echo requests waiting for a reply at once.
    pub ping_capacity: usize,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            max_flows: 65_536,
            tcp_idle: Nanos(300 * Nanos::SECOND.0),
            finished_linger: Nanos(2 * Nanos::SECOND.0),
            udp_idle: Nanos(60 * Nanos::SECOND.0),
            reassembly_per_direction: 1 << 20,
            reassembly_total: 64 << 20,
            http: HttpConfig::default(),
            ping_timeout: Nanos(2 * Nanos::SECOND.0),
            ping_capacity: 4096,
        }
    }
}

/// An HTTP exchange with the endpoints of its flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeEvent {
    /// The exchange.
    pub exchange: Exchange,
    /// The client's address.
    pub client: SocketAddr,
    /// The server's address.
    pub server: SocketAddr,
}

/// What the pipeline produces.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A request with its response (or without, when none came).
    Exchange(Box<ExchangeEvent>),
    /// A flow left the table.
    FlowEnded(Box<FlowInfo>, EndReason),
    /// A ping was answered, duplicated or lost.
    Ping(PingResult),
}

/// The decode pipeline: link layer to HTTP exchanges and ping results.
#[derive(Debug)]
pub struct Pipeline {
    config: PipelineConfig,
    flows: FxHashMap<FlowKey, Flow>,
    next_flow: u64,
    echo: EchoTracker,
    stats: Stats,
    buffered: usize,
    next_sweep: Nanos,
    last_ts: Nanos,
    scratch: Vec<Exchange>,
    pings: Vec<PingResult>,
}

impl Default for Pipeline {
    fn default() -> Self {
        Self::new(PipelineConfig::default())
    }
}

impl Pipeline {
    /// A pipeline with these limits.
    pub fn new(config: PipelineConfig) -> Self {
        Pipeline {
            echo: EchoTracker::new(config.ping_timeout, config.ping_capacity),
            config,
            flows: FxHashMap::default(),
            next_flow: 0,
            stats: Stats::default(),
            buffered: 0,
            next_sweep: Nanos(0),
            last_ts: Nanos(0),
            scratch: Vec::new(),
            pings: Vec::new(),
        }
    }

    /// Decodes one packet; what it completes is appended to `out`.
    pub fn push(&mut self, pkt: &Packet<'_>, out: &mut Vec<Event>) {
        self.stats.packets += 1;
        self.stats.bytes += u64::from(pkt.orig_len.max(pkt.data.len() as u32));
        let ts = pkt.ts;
        self.last_ts = self.last_ts.max(ts);
        if ts >= self.next_sweep {
            self.sweep(ts, out);
            self.next_sweep = Nanos(ts.0.saturating_add(Nanos::SECOND.0));
        }
        let frame_len = u64::from(pkt.orig_len.max(pkt.data.len() as u32));
        let d = match packet::decode(pkt.link_type, pkt.data) {
            Ok(d) => d,
            Err(e) => {
                *self.stats.decode.entry(e.as_str()).or_default() += 1;
                return;
            }
        };
        match d.transport {
            Transport::Tcp(seg) => {
                let src = SocketAddr::new(d.src, seg.src_port);
                let dst = SocketAddr::new(d.dst, seg.dst_port);
                self.tcp(ts, src, dst, &seg, frame_len, out);
            }
            Transport::Udp {
                src_port,
                dst_port,
                payload,
            } => {
                let src = SocketAddr::new(d.src, src_port);
                let dst = SocketAddr::new(d.dst, dst_port);
                let flow = self.flow(Proto::Udp, ts, src, dst, false, out);
                flow.info.last_seen = ts;
                let side = &mut flow.info.sides[flow.info.side_of(src)];
                side.packets += 1;
                side.bytes += frame_len;
                side.payload_bytes += payload.len() as u64;
            }
            Transport::Echo(e) => {
                if e.reply {
                    self.echo
                        .reply(ts, d.src, d.dst, e.id, e.seq, &mut self.pings);
                } else {
                    self.echo
                        .request(ts, d.src, d.dst, e.id, e.seq, &mut self.pings);
                }
                self.emit_pings(out);
            }
            Transport::Fragment => self.stats.ip_fragments += 1,
            Transport::OtherIcmp(_) | Transport::Other(_) => self.stats.other_protocols += 1,
        }
    }

    /// The capture ended: every flow and waiting ping is reported.
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        let keys: Vec<FlowKey> = self.flows.keys().copied().collect();
        let mut ended: Vec<Flow> = keys.iter().filter_map(|k| self.flows.remove(k)).collect();
        ended.sort_by_key(|f| f.info.id);
        for flow in ended {
            self.end_flow(flow, EndReason::EndOfCapture, out);
        }
        self.echo.finish(&mut self.pings);
        self.emit_pings(out);
    }

    /// Flows in the table now.
    pub fn flows(&self) -> impl Iterator<Item = &FlowInfo> {
        self.flows.values().map(|f| &f.info)
    }

    /// The flows that took a packet since the last call (in no order).
    pub fn take_changed_flows(&mut self) -> Vec<FlowInfo> {
        self.flows
            .values_mut()
            .filter_map(|f| std::mem::take(&mut f.changed).then(|| f.info.clone()))
            .collect()
    }

    /// Counters so far, including those of flows still in the table.
    pub fn stats(&self) -> Stats {
        let mut s = self.stats.clone();
        for f in self.flows.values() {
            add_flow_counters(&mut s, f);
        }
        s
    }

    /// Bytes held in reassembly buffers now.
    pub fn buffered_bytes(&self) -> usize {
        self.buffered
    }

    fn emit_pings(&mut self, out: &mut Vec<Event>) {
        for p in self.pings.drain(..) {
            match p.outcome {
                PingOutcome::Reply { .. } => self.stats.ping_replies += 1,
                PingOutcome::Duplicate { .. } => self.stats.ping_duplicates += 1,
                PingOutcome::Lost => self.stats.ping_lost += 1,
            }
            out.push(Event::Ping(p));
        }
        self.stats.ping_unmatched = self.echo.unmatched_replies + self.echo.overflow;
    }

    /// The flow for a packet from `src` to `dst`, created when new.
    fn flow(
        &mut self,
        proto: Proto,
        ts: Nanos,
        src: SocketAddr,
        dst: SocketAddr,
        syn_ack: bool,
        out: &mut Vec<Event>,
    ) -> &mut Flow {
        let key = FlowKey::new(proto, src, dst);
        if !self.flows.contains_key(&key) {
            if self.flows.len() >= self.config.max_flows {
                self.evict_oldest(out);
            }
            self.stats.flows += 1;
            self.next_flow += 1;
        }
        let id = FlowId(self.next_flow);
        let flow = self.flows.entry(key).or_insert_with(|| {
            let (client, server) = if syn_ack { (dst, src) } else { (src, dst) };
            Flow {
                info: FlowInfo::new(id, proto, client, server, ts),
                streams: [Reassembler::default(), Reassembler::default()],
                http: None,
                roles_known: proto == Proto::Udp,
                http_finished: false,
                changed: false,
            }
        });
        // Every packet of a flow comes through here.
        flow.changed = true;
        flow
    }

    fn tcp(
        &mut self,
        ts: Nanos,
        src: SocketAddr,
        dst: SocketAddr,
        seg: &TcpSegment<'_>,
        frame_len: u64,
        out: &mut Vec<Event>,
    ) {
        let syn = seg.has(tcp_flags::SYN);
        let ack = seg.has(tcp_flags::ACK);
        let per_dir_cap = self.config.reassembly_per_direction;
        let http_config = self.config.http;
        if syn && !ack {
            // A new connection on the 5-tuple of one that is over: the old one leaves first.
            let key = FlowKey::new(Proto::Tcp, src, dst);
            if self
                .flows
                .get(&key)
                .is_some_and(|f| f.info.state.is_final())
            {
                self.remove_flows(vec![(key, EndReason::Finished)], out);
            }
        }
        let mut exchanges = std::mem::take(&mut self.scratch);
        let mut finished_http = None;
        let flow = self.flow(Proto::Tcp, ts, src, dst, syn && ack, out);
        let before = flow.streams[0].buffered() + flow.streams[1].buffered();

        track_tcp(flow, ts, src, seg, frame_len);
        let dir = flow.info.side_of(src);
        if ack {
            let Flow { streams, http, .. } = flow;
            let side = side_name(1 - dir);
            streams[1 - dir].acked(ts, seg.ack, &mut |c| feed(http, side, c, &mut exchanges));
        }
        let wire_len = seg.wire_len();
        let mut dir = dir;
        if wire_len > 0 {
            if !flow.roles_known {
                if should_swap(flow, dir, seg.payload) {
                    flow.info.swap_roles();
                    flow.streams.swap(0, 1);
                    dir = 1 - dir;
                }
                flow.roles_known = true;
            }
            if flow.http.is_none() && !flow.http_finished {
                flow.http = Some(Box::new(HttpParser::new(
                    flow.info.id,
                    http_config,
                    flow.info.midstream,
                )));
            }
            let Flow {
                streams,
                http,
                info,
                ..
            } = flow;
            let side = side_name(dir);
            let arrival = streams[dir].segment(
                ts,
                seg.seq,
                seg.payload,
                seg.missing,
                per_dir_cap,
                &mut |c| {
                    feed(http, side, c, &mut exchanges);
                },
            );
            match arrival {
                Arrival::Retransmission => info.sides[dir].retransmissions += 1,
                Arrival::OutOfOrder => info.sides[dir].out_of_order += 1,
                Arrival::InOrder | Arrival::Empty => {}
            }
        }
        if seg.has(tcp_flags::FIN) {
            let Flow { streams, http, .. } = flow;
            let side = side_name(dir);
            streams[dir].fin(seg.seq, wire_len);
            streams[dir].flush(&mut |c| feed(http, side, c, &mut exchanges));
            if let Some(h) = http.as_mut() {
                h.end(side, ts, &mut exchanges);
            }
        }
        if flow.info.state.is_final() && !flow.http_finished {
            flow.close_http(ts, &mut exchanges);
            finished_http = flow.http.take();
        }
        let after = flow.streams[0].buffered() + flow.streams[1].buffered();
        let (client, server) = (flow.info.client, flow.info.server);
        self.buffered = (self.buffered + after).saturating_sub(before);
        if self.buffered > self.config.reassembly_total {
            self.stats.reassembly_total_overflows += 1;
            let key = FlowKey::new(Proto::Tcp, src, dst);
            if let Some(flow) = self.flows.get_mut(&key) {
                let Flow { streams, http, .. } = flow;
                for (i, s) in streams.iter_mut().enumerate() {
                    let side = side_name(i);
                    s.flush(&mut |c| feed(http, side, c, &mut exchanges));
                }
                self.buffered = self.buffered.saturating_sub(after);
            }
        }
        if let Some(h) = finished_http {
            add_http_counters(&mut self.stats, &h);
        }
        self.emit_exchanges(&mut exchanges, client, server, out);
        self.scratch = exchanges;
    }

    fn emit_exchanges(
        &mut self,
        exchanges: &mut Vec<Exchange>,
        client: SocketAddr,
        server: SocketAddr,
        out: &mut Vec<Event>,
    ) {
        for exchange in exchanges.drain(..) {
            self.stats.exchanges += 1;
            if exchange.response.is_none() {
                self.stats.unanswered += 1;
            }
            out.push(Event::Exchange(Box::new(ExchangeEvent {
                exchange,
                client,
                server,
            })));
        }
    }

    /// Removes flows that are finished or idle, and expires waiting pings.
    fn sweep(&mut self, now: Nanos, out: &mut Vec<Event>) {
        let c = self.config;
        let mut gone: Vec<(FlowKey, EndReason)> = Vec::new();
        for (k, f) in &self.flows {
            let idle = now.since(f.info.last_seen);
            let reason = match f.info.state {
                s if s.is_final() && idle >= c.finished_linger => Some(EndReason::Finished),
                FlowState::Active if idle >= c.udp_idle => Some(EndReason::Idle),
                _ if f.info.proto == Proto::Tcp && idle >= c.tcp_idle => Some(EndReason::Idle),
                _ => None,
            };
            if let Some(r) = reason {
                gone.push((*k, r));
            }
        }
        self.remove_flows(gone, out);
        self.echo.expire(now, &mut self.pings);
        self.emit_pings(out);
    }

    /// Evicts the least recently active eighth of the table.
    fn evict_oldest(&mut self, out: &mut Vec<Event>) {
        let mut by_age: Vec<(Nanos, FlowKey)> = self
            .flows
            .iter()
            .map(|(k, f)| (f.info.last_seen, *k))
            .collect();
        let n = (by_age.len() / 8).max(1).min(by_age.len());
        if n == 0 {
            return;
        }
        by_age.select_nth_unstable_by_key(n - 1, |(t, _)| *t);
        let gone = by_age[..n]
            .iter()
            .map(|(_, k)| (*k, EndReason::Capacity))
            .collect();
        self.remove_flows(gone, out);
    }

    fn remove_flows(&mut self, mut gone: Vec<(FlowKey, EndReason)>, out: &mut Vec<Event>) {
        gone.sort_by_key(|(k, _)| self.flows.get(k).map(|f| f.info.id));
        for (k, reason) in gone {
            if let Some(flow) = self.flows.remove(&k) {
                match reason {
                    EndReason::Idle => self.stats.flows_evicted_idle += 1,
                    EndReason::Capacity => self.stats.flows_evicted_capacity += 1,
                    EndReason::Finished | EndReason::EndOfCapture => {}
                }
                self.end_flow(flow, reason, out);
            }
        }
    }

    fn end_flow(&mut self, mut flow: Flow, reason: EndReason, out: &mut Vec<Event>) {
        let mut exchanges = std::mem::take(&mut self.scratch);
        self.buffered = self
            .buffered
            .saturating_sub(flow.streams[0].buffered() + flow.streams[1].buffered());
        if !flow.http_finished {
            flow.close_http(flow.info.last_seen, &mut exchanges);
        }
        self.emit_exchanges(&mut exchanges, flow.info.client, flow.info.server, out);
        self.scratch = exchanges;
        add_flow_counters(&mut self.stats, &flow);
        out.push(Event::FlowEnded(Box::new(flow.info), reason));
    }
}
