//! ICMP / ICMPv6 echo pairing: ping round-trip times, loss and duplicates.
//!
//! A request waits in a bounded table keyed by (sender, target, id, seq).
//! Its reply gives the RTT; a second reply to the same request is a
//! duplicate; a request with no reply within the timeout is lost.

use std::collections::VecDeque;
use std::net::IpAddr;

use rustc_hash::FxHashMap;

use crate::wire::Nanos;

/// How a ping ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PingOutcome {
    /// A reply came back after `rtt`.
    Reply {
        /// Round-trip time.
        rtt: Nanos,
    },
    /// A further reply to a request that was already answered.
    Duplicate {
        /// Time since the request.
        rtt: Nanos,
    },
    /// No reply within the timeout (or before the capture ended).
    Lost,
}

/// One ping result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PingResult {
    /// Who sent the request.
    pub source: IpAddr,
    /// Who was pinged.
    pub target: IpAddr,
    /// Echo identifier.
    pub id: u16,
    /// Echo sequence number.
    pub seq: u16,
    /// When the request was captured.
    pub sent: Nanos,
    /// What happened.
    pub outcome: PingOutcome,
}

impl PingResult {
    /// The round-trip time, `None` when lost.
    pub fn rtt(&self) -> Option<Nanos> {
        match self.outcome {
            PingOutcome::Reply { rtt } | PingOutcome::Duplicate { rtt } => Some(rtt),
            PingOutcome::Lost => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct EchoKey {
    source: IpAddr,
    target: IpAddr,
    id: u16,
    seq: u16,
}

#[derive(Debug, Clone, Copy)]
struct Waiting {
    sent: Nanos,
    answered: bool,
}

/// Pairs echo requests with replies.
#[derive(Debug)]
pub struct EchoTracker {
    timeout: Nanos,
    capacity: usize,
    table: FxHashMap<EchoKey, Waiting>,
    /// Keys in request order, to expire the oldest first.
    order: VecDeque<EchoKey>,
    /// Requests dropped because the table was full.
    pub overflow: u64,
    /// Replies that match no request (the request was not captured).
    pub unmatched_replies: u64,
}

impl EchoTracker {
    /// A tracker that declares a request lost after `timeout`, holding at most `capacity`.
    pub fn new(timeout: Nanos, capacity: usize) -> Self {
        EchoTracker {
            timeout,
            capacity: capacity.max(1),
            table: FxHashMap::default(),
            order: VecDeque::new(),
            overflow: 0,
            unmatched_replies: 0,
        }
    }

    /// An echo request from `source` to `target`.
    pub fn request(
        &mut self,
        ts: Nanos,
        source: IpAddr,
        target: IpAddr,
        id: u16,
        seq: u16,
        out: &mut Vec<PingResult>,
    ) {
        self.expire(ts, out);
        let key = EchoKey {
            source,
            target,
            id,
            seq,
        };
        if self.table.contains_key(&key) {
            // The same request again (a retransmitting pinger, or a double capture): keep the first.
            return;
        }
        if self.table.len() >= self.capacity {
            self.overflow += 1;
            self.pop_oldest(out);
        }
        self.table.insert(
            key,
            Waiting {
                sent: ts,
                answered: false,
            },
        );
        self.order.push_back(key);
    }

    /// An echo reply from `from` to `to`.
    pub fn reply(
        &mut self,
        ts: Nanos,
        from: IpAddr,
        to: IpAddr,
        id: u16,
        seq: u16,
        out: &mut Vec<PingResult>,
    ) {
        let key = EchoKey {
            source: to,
            target: from,
            id,
            seq,
        };
        match self.table.get_mut(&key) {
            Some(w) => {
                let rtt = ts.since(w.sent);
                let outcome = if w.answered {
                    PingOutcome::Duplicate { rtt }
                } else {
                    w.answered = true;
                    PingOutcome::Reply { rtt }
                };
                out.push(PingResult {
                    source: to,
                    target: from,
                    id,
                    seq,
                    sent: w.sent,
                    outcome,
                });
            }
            None => self.unmatched_replies += 1,
        }
        self.expire(ts, out);
    }

    /// Reports requests older than the timeout as lost and forgets answered ones.
    pub fn expire(&mut self, now: Nanos, out: &mut Vec<PingResult>) {
        while let Some(key) = self.order.front() {
            match self.table.get(key) {
                Some(w) if now.since(w.sent) < self.timeout => break,
                _ => self.pop_oldest(out),
            }
        }
    }

    /// The capture ended: every unanswered request is lost.
    pub fn finish(&mut self, out: &mut Vec<PingResult>) {
        while !self.order.is_empty() {
            self.pop_oldest(out);
        }
    }

    /// Requests being tracked.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    fn pop_oldest(&mut self, out: &mut Vec<PingResult>) {
        if let Some(key) = self.order.pop_front()
            && let Some(w) = self.table.remove(&key)
            && !w.answered
        {
            out.push(PingResult {
                source: key.source,
                target: key.target,
                id: key.id,
                seq: key.seq,
                sent: w.sent,
                outcome: PingOutcome::Lost,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POD: [u8; 4] = [10, 244, 0, 5];
    const DNS: [u8; 4] = [10, 96, 0, 10];

    fn ip(a: [u8; 4]) -> IpAddr {
        IpAddr::from(a)
    }

    #[test]
    fn reply_loss_and_duplicate() {
        let mut t = EchoTracker::new(Nanos::SECOND, 16);
        let mut out = Vec::new();
        t.request(Nanos(0), ip(POD), ip(DNS), 1, 1, &mut out);
        t.reply(Nanos(5_000_000), ip(DNS), ip(POD), 1, 1, &mut out);
        t.reply(Nanos(6_000_000), ip(DNS), ip(POD), 1, 1, &mut out);
        t.request(Nanos(1_000_000_000), ip(POD), ip(DNS), 1, 2, &mut out);
        t.request(Nanos(2_500_000_000), ip(POD), ip(DNS), 1, 3, &mut out);
        let got: Vec<_> = out.iter().map(|r| (r.seq, r.outcome)).collect();
        assert_eq!(
            got,
            vec![
                (
                    1,
                    PingOutcome::Reply {
                        rtt: Nanos(5_000_000)
                    }
                ),
                (
                    1,
                    PingOutcome::Duplicate {
                        rtt: Nanos(6_000_000)
                    }
                ),
                (2, PingOutcome::Lost),
            ]
        );
        out.clear();
        t.finish(&mut out);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].seq, out[0].outcome), (3, PingOutcome::Lost));
        assert!(t.is_empty());
    }

    #[test]
    fn reply_from_elsewhere_does_not_match() {
        let mut t = EchoTracker::new(Nanos::SECOND, 16);
        let mut out = Vec::new();
        t.request(Nanos(0), ip(POD), ip(DNS), 1, 1, &mut out);
        t.reply(Nanos(1), ip([8, 8, 8, 8]), ip(POD), 1, 1, &mut out);
        t.reply(Nanos(1), ip(DNS), ip(POD), 2, 1, &mut out);
        assert!(out.is_empty());
        assert_eq!(t.unmatched_replies, 2);
    }

    #[test]
    fn capacity_is_bounded() {
        let mut t = EchoTracker::new(Nanos::SECOND, 4);
        let mut out = Vec::new();
        for seq in 0..10 {
            t.request(Nanos(0), ip(POD), ip(DNS), 1, seq, &mut out);
        }
        assert_eq!(t.len(), 4);
        assert_eq!(t.overflow, 6);
        assert_eq!(out.len(), 6, "evicted requests are reported lost");
    }
}
