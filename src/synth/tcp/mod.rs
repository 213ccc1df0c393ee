//! One client's keep-alive TCP connection to the pod, scripted turn by turn.
//!
//! A connection plans one turn at a time (handshake, a request/response
//! exchange, or the close) as a short list of segments with timestamps, then
//! hands them out one by one. Sequence and acknowledgment numbers are tracked
//! exactly so that tshark reassembles every HTTP message; the rare
//! retransmitted or reordered segment never carries a message's first or last
//! byte, so reassembly still completes.

mod exchange;

use super::World;
use super::frame::{ACK, FIN, RST, SYN, TcpFields};
use super::http::Plan;
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
    plans: Vec<Plan>,
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
