//! A TCP segment's way through the pipeline: the connection's state, its
//! reassemblers and HTTP parser, and the byte budget of reassembly over all
//! flows.

use std::net::SocketAddr;

use super::{Event, Pipeline};
use crate::decode::flow::{EndReason, FlowKey, Proto};
use crate::decode::http::HttpParser;
use crate::decode::packet::{TcpSegment, tcp_flags};
use crate::decode::reassembly::Arrival;
use crate::decode::stats::add_http_counters;
use crate::decode::tcp::{Flow, feed, should_swap, side_name, track_tcp};
use crate::wire::Nanos;

impl Pipeline {
    pub(super) fn tcp(
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
}
