//! One request/response turn on a connection: segmentation at the MSS, the
//! client's ACK pacing, the server's delayed ACK, and the occasional
//! retransmitted or reordered response segment.

use super::{Connection, Ending, Event, MICRO, MILLI, MSS, Seg};
use crate::synth::World;
use crate::synth::frame::{ACK, PSH};
use crate::synth::http;

impl Connection {
    /// One exchange: a request (or 2-3 pipelined ones), the responses, the ACKs.
    pub(super) fn exchange(&mut self, w: &mut World, start: u64) {
        let pipelined = if self.requests_left >= 2 && w.rng.chance(50) {
            w.rng.range(2, 3.min(u64::from(self.requests_left))) as u32
        } else {
            1
        };
        self.requests_left -= pipelined;
        let mut t = start;
        self.plans.clear();
        for i in 0..pipelined {
            let close =
                self.requests_left == 0 && i + 1 == pipelined && self.ending == Ending::ServerClose;
            let from = self.cbuf.len();
            let plan = http::write_request(&mut w.rng, &w.bodies, &mut self.cbuf, close);
            t = self.send(w, true, from, t, Event::Request, false) + 25 * MICRO;
            self.plans.push(plan);
        }
        let mut latency = latency(w);
        if latency > 5 * MILLI {
            // The server's delayed ACK fires before the application answers.
            let at = t + w.rng.range(20, 40) * MICRO;
            self.push(at, false, ACK, (0, 0), Event::None);
        }
        for i in 0..self.plans.len() {
            t += latency;
            let plan = self.plans[i];
            let from = self.sbuf.len();
            let secs = t / 1_000_000_000;
            http::write_response(&mut w.rng, &w.bodies, &mut self.sbuf, &plan, secs);
            t = self.send(
                w,
                false,
                from,
                t,
                Event::Response(plan.status),
                plan.chunked,
            );
            latency = w.rng.range(50, 400) * MICRO;
        }
        self.script.sort_by_key(|s| s.at);
    }

    /// Sends `buf[from..]` of one side as MSS-sized segments starting at `start`;
    /// the client ACKs responses (every second segment). Returns the time the
    /// last segment left.
    fn send(
        &mut self,
        w: &mut World,
        from_client: bool,
        from: usize,
        start: u64,
        done: Event,
        chunked: bool,
    ) -> u64 {
        let end = if from_client {
            self.cbuf.len()
        } else {
            self.sbuf.len()
        };
        let count = (end - from).div_ceil(MSS);
        let acked = !from_client;
        // Oddities only in the middle of a response, so its first and last bytes
        // arrive in order. Only Content-Length bodies are reordered: tshark 4.0
        // (by default) reassembles a body out of order only when it knows its
        // length up front, and the point is a capture it reads completely.
        let oddity = if acked && count >= 4 && w.rng.chance(w.oddity_per_mille) {
            let odd = w.rng.range(1, count as u64 - 3) as usize;
            if chunked || w.rng.chance(500) {
                Some((odd, Event::Retransmission))
            } else {
                Some((odd, Event::Reordered))
            }
        } else {
            None
        };
        let gap = if from_client { 30 * MICRO } else { 12 * MICRO };
        let mut at = start;
        let first = self.script.len();
        for k in 0..count {
            let range = (from + k * MSS, (from + (k + 1) * MSS).min(end));
            let last = k + 1 == count;
            let flags = if last { PSH | ACK } else { ACK };
            self.push(
                at,
                from_client,
                flags,
                range,
                if last { done } else { Event::None },
            );
            if acked && oddity.is_none() && (k % 2 == 1 || last) {
                let peer_at = at + self.rtt;
                let seq_end = self.script[self.script.len() - 1]
                    .seq
                    .wrapping_add(range.1 as u32 - range.0 as u32);
                self.push_ack(peer_at, !from_client, seq_end);
            }
            at += gap;
        }
        match oddity {
            Some((odd, Event::Retransmission)) => {
                let mut copy = self.script[first + odd];
                copy.at += 3 * MICRO;
                copy.event = Event::Retransmission;
                self.script.push(copy);
            }
            Some((odd, _)) => {
                let (a, b) = (first + odd, first + odd + 1);
                let (ta, tb) = (self.script[a].at, self.script[b].at);
                self.script[a].at = tb;
                self.script[b].at = ta;
                self.script[a].event = Event::Reordered;
            }
            None => {}
        }
        let last_at = at - gap;
        if acked && oddity.is_some() {
            let seq_end = if from_client {
                self.c_next
            } else {
                self.s_next
            };
            self.push_ack(last_at + self.rtt, !from_client, seq_end);
        }
        last_at
    }

    /// A pure ACK from one side acknowledging `ack`.
    fn push_ack(&mut self, at: u64, from_client: bool, ack: u32) {
        let seq = if from_client {
            self.c_next
        } else {
            self.s_next
        };
        self.script.push(Seg {
            at,
            from_client,
            flags: ACK,
            seq,
            ack,
            start: 0,
            len: 0,
            event: Event::None,
        });
    }
}

/// The application's response time: milliseconds, with slow outliers.
fn latency(w: &mut World) -> u64 {
    let rng = &mut w.rng;
    match rng.below(1000) {
        0..=9 => rng.range(200, 2_500) * MILLI,
        10..=79 => rng.range(30, 150) * MILLI,
        _ => rng.range(300, 2_000) * MICRO + rng.exp_ns(6 * MILLI),
    }
}
