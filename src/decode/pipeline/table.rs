//! The pipeline's flow table: finding or creating a packet's flow, the
//! sweeps that end finished and idle flows, eviction at capacity, and
//! reporting a flow as it leaves (or, with [`Pipeline::take_flow_report`],
//! while it changes).

use std::net::SocketAddr;

use super::{Event, Pipeline};
use crate::decode::flow::{EndReason, FlowId, FlowInfo, FlowKey, FlowState, Proto};
use crate::decode::reassembly::Reassembler;
use crate::decode::tcp::{Flow, add_flow_counters};
use crate::wire::Nanos;

impl Pipeline {
    /// A flow report: the flows that took a packet since the last report,
    /// or every flow when `all`; in no order. One pass, which also clears
    /// what the next report compares with.
    pub fn take_flow_report(&mut self, all: bool) -> Vec<FlowInfo> {
        self.flows
            .values_mut()
            .filter_map(|f| (std::mem::take(&mut f.changed) || all).then(|| f.info.clone()))
            .collect()
    }

    /// The flow for a packet from `src` to `dst`, created when new.
    pub(super) fn flow(
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

    /// Removes flows that are finished or idle, and expires waiting pings.
    pub(super) fn sweep(&mut self, now: Nanos, out: &mut Vec<Event>) {
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

    pub(super) fn remove_flows(
        &mut self,
        mut gone: Vec<(FlowKey, EndReason)>,
        out: &mut Vec<Event>,
    ) {
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

    pub(super) fn end_flow(&mut self, mut flow: Flow, reason: EndReason, out: &mut Vec<Event>) {
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
