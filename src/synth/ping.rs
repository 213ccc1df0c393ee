//! ICMP echo from the pod to a peer, once a second; a lossy peer leaves some
//! requests unanswered.

use super::World;
use crate::wire::Direction;

/// Pings one target: a request every second, a reply after the RTT unless lost.
pub(crate) struct Pinger {
    target: [u8; 4],
    id: u16,
    seq: u16,
    loss_per_mille: u64,
    rtt_us: (u64, u64),
    next_request: u64,
    reply_at: Option<u64>,
    payload: [u8; 56],
}

impl Pinger {
    /// A pinger to `target` losing `loss_per_mille` of replies, with RTTs in `rtt_us` (microseconds).
    pub(crate) fn new(
        w: &mut World,
        target: [u8; 4],
        loss_per_mille: u64,
        rtt_us: (u64, u64),
        start: u64,
    ) -> Self {
        let mut payload = [0u8; 56];
        for (i, b) in payload.iter_mut().enumerate().skip(16) {
            *b = i as u8;
        }
        Pinger {
            target,
            id: w.rng.next_u32() as u16,
            seq: 0,
            loss_per_mille,
            rtt_us,
            next_request: start,
            reply_at: None,
            payload,
        }
    }

    /// Time of the next echo request or reply.
    pub(crate) fn next_at(&self) -> u64 {
        self.reply_at.unwrap_or(self.next_request)
    }

    /// Writes the next echo request or reply into `w.frame`.
    pub(crate) fn emit(&mut self, w: &mut World) -> (u64, Direction) {
        if let Some(at) = self.reply_at.take() {
            w.summary.icmp_echo_replies += 1;
            w.link.icmp_echo(
                &mut w.frame,
                self.target,
                Direction::Inbound,
                (self.id, self.seq),
                &self.payload,
            );
            return (at, Direction::Inbound);
        }
        let at = self.next_request;
        self.seq = self.seq.wrapping_add(1);
        // Like ping(8): the send time as a timeval at the start of the data.
        self.payload[..8].copy_from_slice(&(at / 1_000_000_000).to_le_bytes());
        self.payload[8..16].copy_from_slice(&(at / 1_000 % 1_000_000).to_le_bytes());
        w.summary.icmp_echo_requests += 1;
        w.link.icmp_echo(
            &mut w.frame,
            self.target,
            Direction::Outbound,
            (self.id, self.seq),
            &self.payload,
        );
        if !w.rng.chance(self.loss_per_mille) {
            self.reply_at = Some(at + w.rng.range(self.rtt_us.0, self.rtt_us.1) * 1_000);
        }
        self.next_request = at + 1_000_000_000 + w.rng.range(0, 2_000) * 1_000;
        (at, Direction::Outbound)
    }
}
