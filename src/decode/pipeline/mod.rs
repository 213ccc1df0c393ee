//! The whole decode pipeline for one capture stream, with bounded memory.
//!
//! [`Pipeline::push`] takes one packet and appends what it completed to an
//! event list: HTTP exchanges, flows that left the table, ping results.
//! Live flows can be listed at any time ([`Pipeline::flows`]); every drop,
//! eviction and decode error is a counter in [`Stats`].
//!
//! This module holds the configuration, the events and the dispatch of a
//! packet by transport; `table` is the flow table (creating, sweeping,
//! evicting and ending flows) and `segment` a TCP segment's way through
//! its flow.

mod segment;
mod table;

use std::net::SocketAddr;

use rustc_hash::FxHashMap;

use super::flow::{EndReason, FlowInfo, FlowKey, Proto};
use super::http::{Exchange, HttpConfig};
use super::icmp::{EchoTracker, PingOutcome, PingResult};
use super::packet::{self, Transport};
use super::stats::Stats;
use super::tcp::{Flow, add_flow_counters};
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

    pub(super) fn emit_pings(&mut self, out: &mut Vec<Event>) {
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

    pub(super) fn emit_exchanges(
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
}
