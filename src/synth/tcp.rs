//! One client's keep-alive TCP connection to the pod, scripted turn by turn.
//!
//! A connection plans one turn at a time (handshake, a request/response
//! exchange, or the close) as a short list of segments with timestamps, then
//! hands them out one by one. Sequence and acknowledgment numbers are tracked
//! exactly so that tshark reassembles every HTTP message; the rare
//! retransmitted or reordered segment never carries a message's first or last
//! byte, so reassembly still completes.

use super::World;
use super::frame::{ACK, FIN, PSH, RST, SYN, TcpFields};
use super::http::{self, Plan};
use crate::wire::Direction;

/// The service port the pod listens on.
pub(crate) const SERVICE_PORT: u16 = 8080;
/// Payload bytes per full segment (MSS 1460 minus the 12-byte timestamp option).
const MSS: usize = 1448;
const MICRO: u64 = 1_000;
const MILLI: u64 = 1_000_000;

/// What emitting a segment means for the ground truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    None,
    Open,
    Request,
    Response(u16),
    Reset,
    Retransmission,
    Reordered,
}

/// One scripted segment; the payload is a range of the sender's turn buffer.
#[derive(Debug, Clone, Copy)]
struct Seg {
    at: u64,
    from_client: bool,
    flags: u8,
    seq: u32,
    ack: u32,
    start: u32,
    len: u32,
    event: Event,
}

/// Which turn comes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Handshake,
    Open,
    Closing,
}

/// How the connection ends once its requests are done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    ClientFin,
    ServerClose,
    ClientReset,
    ServerReset,
}

/// A client connection from `client:port` to the pod's service port.
pub(crate) struct Connection {
    client: [u8; 4],
    port: u16,
    phase: Phase,
    requests_left: u32,
    ending: Ending,
    rtt: u64,
    /// Next sequence number each side will send.
    c_next: u32,
    s_next: u32,
    ts_offset: (u32, u32),
    last_ts: (u32, u32),
    script: Vec<Seg>,
    pos: usize,
    cbuf: Vec<u8>,
    sbuf: Vec<u8>,
    plans: Vec<(Plan, u32)>,
}

impl Connection {
    /// A fresh connection whose SYN is sent at `start` (nanoseconds).
    pub(crate) fn new(w: &mut World, start: u64) -> Self {
        let mut c = Connection {
            client: [0; 4],
            port: 0,
            phase: Phase::Handshake,
            requests_left: 0,
            ending: Ending::ClientFin,
            rtt: 0,
            c_next: 0,
            s_next: 0,
            ts_offset: (0, 0),
            last_ts: (0, 0),
            script: Vec::with_capacity(64),
            pos: 0,
            cbuf: Vec::with_capacity(2048),
            sbuf: Vec::with_capacity(16 * 1024),
            plans: Vec::with_capacity(3),
        };
        c.reopen(w, start);
        c
    }

    /// Time of the next segment.
    pub(crate) fn next_at(&self) -> u64 {
        self.script[self.pos].at
    }

    /// Writes the next segment into `w.frame`, records its meaning, plans ahead.
    pub(crate) fn emit(&mut self, w: &mut World) -> (u64, Direction) {
        let seg = self.script[self.pos];
        self.pos += 1;
        let ms = (seg.at / MILLI) as u32;
        let (direction, buf, ts) = if seg.from_client {
            let ts = (self.ts_offset.0.wrapping_add(ms), self.last_ts.1);
            self.last_ts.0 = ts.0;
            (Direction::Inbound, &self.cbuf, ts)
        } else {
            let ts = (self.ts_offset.1.wrapping_add(ms), self.last_ts.0);
            self.last_ts.1 = ts.0;
            (Direction::Outbound, &self.sbuf, ts)
        };
        let fields = TcpFields {
            peer_port: self.port,
            pod_port: SERVICE_PORT,
            seq: seg.seq,
            ack: seg.ack,
            flags: seg.flags,
            window: match (seg.flags & SYN != 0, seg.from_client) {
                (true, true) => 64_240,
                (true, false) => 65_160,
                (false, true) => 502,
                (false, false) => 509,
            },
            ts,
        };
        let payload = &buf[seg.start as usize..(seg.start + seg.len) as usize];
        w.link
            .tcp(&mut w.frame, self.client, direction, &fields, payload);
        let s = &mut w.summary;
        match seg.event {
            Event::None => {}
            Event::Open => s.tcp_connections += 1,
            Event::Request => s.http_requests += 1,
            Event::Response(status) => s.count_response(status),
            Event::Reset => s.tcp_resets += 1,
            Event::Retransmission => s.tcp_retransmissions += 1,
            Event::Reordered => s.tcp_reordered += 1,
        }
        if self.pos == self.script.len() {
            self.plan(w, seg.at);
        }
        (seg.at, direction)
    }

    /// Becomes a new connection from a new client, starting at `start`.
    fn reopen(&mut self, w: &mut World, start: u64) {
        self.port = w.next_client_port();
        let rng = &mut w.rng;
        loop {
            self.client = [10, 244, rng.below(256) as u8, rng.range(2, 254) as u8];
            if self.client != w.link.pod_ip {
                break;
            }
        }
        self.phase = Phase::Handshake;
        self.requests_left = if rng.chance(250) {
            rng.range(1, 3) as u32
        } else {
            rng.range(5, 60) as u32
        };
        self.ending = [
            Ending::ClientFin,
            Ending::ServerClose,
            Ending::ClientReset,
            Ending::ServerReset,
        ][rng.weighted(&[55, 30, 10, 5])];
        self.rtt = rng.range(80, 600) * MICRO;
        self.c_next = rng.next_u32();
        self.s_next = rng.next_u32();
        self.ts_offset = (rng.next_u32(), rng.next_u32());
        self.last_ts = (0, 0);
        self.start_turn();
        self.handshake(w, start);
    }

    fn start_turn(&mut self) {
        self.script.clear();
        self.pos = 0;
        self.cbuf.clear();
        self.sbuf.clear();
    }

    /// Plans the turn after the one that ended at `now`.
    fn plan(&mut self, w: &mut World, now: u64) {
        self.start_turn();
        match self.phase {
            Phase::Handshake => {
                self.phase = Phase::Open;
                let start = now + w.rng.range(5, 60) * MICRO;
                self.exchange(w, start);
            }
            Phase::Open if self.requests_left > 0 => {
                let start = now + w.rng.exp_ns(w.think_mean_ns) + 20 * MICRO;
                self.exchange(w, start);
            }
            Phase::Open => {
                self.phase = Phase::Closing;
                let wait = if self.ending == Ending::ServerClose {
                    w.rng.range(10, 40) * MICRO
                } else {
                    w.rng.exp_ns(w.think_mean_ns)
                };
                self.close(w, now + wait);
            }
            Phase::Closing => {
                let pause = w.rng.exp_ns(50 * MILLI);
                self.reopen(w, now + pause);
            }
        }
    }

    fn push(&mut self, at: u64, from_client: bool, flags: u8, range: (usize, usize), event: Event) {
        let (seq, ack) = if from_client {
            (self.c_next, self.s_next)
        } else {
            (self.s_next, self.c_next)
        };
        let len = (range.1 - range.0) as u32;
        self.script.push(Seg {
            at,
            from_client,
            flags,
            seq,
            ack,
            start: range.0 as u32,
            len,
            event,
        });
        let next = seq.wrapping_add(len + u32::from(flags & (SYN | FIN) != 0));
        if from_client {
            self.c_next = next;
        } else {
            self.s_next = next;
        }
    }

    fn handshake(&mut self, w: &mut World, t: u64) {
        self.push(t, true, SYN, (0, 0), Event::Open);
        self.script[0].ack = 0;
        let syn_ack = t + w.rng.range(10, 40) * MICRO;
        self.push(syn_ack, false, SYN | ACK, (0, 0), Event::None);
        self.push(syn_ack + self.rtt, true, ACK, (0, 0), Event::None);
    }

    /// One exchange: a request (or 2-3 pipelined ones), the responses, the ACKs.
    fn exchange(&mut self, w: &mut World, start: u64) {
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
            t = self.send(w, true, from, t, Event::Request, false);
            self.plans.push((plan, 0));
        }
        let mut latency = latency(w);
        if latency > 5 * MILLI {
            // The server's delayed ACK fires before the application answers.
            let at = t + w.rng.range(20, 40) * MICRO;
            self.push(at, false, ACK, (0, 0), Event::None);
        }
        for i in 0..self.plans.len() {
            t += latency;
            let plan = self.plans[i].0;
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

    /// The end of the connection, starting at `t`.
    fn close(&mut self, w: &mut World, t: u64) {
        let quick = w.rng.range(15, 40) * MICRO;
        match self.ending {
            Ending::ClientFin => {
                self.push(t, true, FIN | ACK, (0, 0), Event::None);
                self.push(t + quick, false, FIN | ACK, (0, 0), Event::None);
                self.push(t + quick + self.rtt, true, ACK, (0, 0), Event::None);
            }
            Ending::ServerClose => {
                self.push(t, false, FIN | ACK, (0, 0), Event::None);
                self.push(t + self.rtt, true, FIN | ACK, (0, 0), Event::None);
                self.push(t + self.rtt + quick, false, ACK, (0, 0), Event::None);
            }
            Ending::ClientReset => self.push(t, true, RST | ACK, (0, 0), Event::Reset),
            Ending::ServerReset => self.push(t, false, RST | ACK, (0, 0), Event::Reset),
        }
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
