//! TCP reassembly for one direction of a connection.
//!
//! Segments arrive in capture order; [`Reassembler`] hands the bytes on in
//! stream order exactly once. In-order segments pass straight through without
//! a copy; segments from the future are buffered (copied) up to a cap;
//! retransmissions and overlaps are delivered once. When bytes were lost
//! (never captured, or the buffer cap was hit) it reports a gap and skips
//! them, so the parser above can resynchronise instead of stalling.
//!
//! Sequence numbers wrap; positions are kept as 64-bit stream offsets.

use crate::wire::Nanos;

/// What a direction's stream delivers, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// The next bytes of the stream, captured at the given time.
    Data(Nanos, &'a [u8]),
    /// This many bytes of the stream were lost.
    Gap(Nanos, u64),
}

/// Counters for one direction (summed by the pipeline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReassemblyCounters {
    /// Segments whose bytes had all been delivered already.
    pub retransmissions: u64,
    /// Segments that arrived ahead of a hole.
    pub out_of_order: u64,
    /// Segments that partly overlapped delivered bytes.
    pub overlaps: u64,
    /// Holes skipped.
    pub gaps: u64,
    /// Bytes skipped in holes.
    pub gap_bytes: u64,
    /// Times the buffer cap forced a hole to be skipped.
    pub buffer_overflows: u64,
}

impl ReassemblyCounters {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &ReassemblyCounters) {
        self.retransmissions += other.retransmissions;
        self.out_of_order += other.out_of_order;
        self.overlaps += other.overlaps;
        self.gaps += other.gaps;
        self.gap_bytes += other.gap_bytes;
        self.buffer_overflows += other.buffer_overflows;
    }
}

/// What a call did, for the flow's own statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Nothing to place (no payload).
    Empty,
    /// The next expected bytes.
    InOrder,
    /// Ahead of a hole: buffered.
    OutOfOrder,
    /// Already delivered, in full or in part.
    Retransmission,
}

/// How many packets must show the peer acknowledging bytes we never saw
/// before they are declared lost (a data segment and its ACK can be captured
/// out of order, so one sighting is not proof).
const ACK_AHEAD_SIGHTINGS: u8 = 3;

#[derive(Debug)]
struct Pending {
    offset: u64,
    ts: Nanos,
    data: Vec<u8>,
    /// Bytes after `data` that were on the wire but not captured.
    lost: u64,
}

impl Pending {
    fn end(&self) -> u64 {
        self.offset + self.data.len() as u64 + self.lost
    }
}

/// One direction's reassembly state.
#[derive(Debug, Default)]
pub struct Reassembler {
    /// Sequence number of `next` (valid once `started`).
    next_seq: u32,
    /// Stream offset of the next byte to deliver.
    next: u64,
    started: bool,
    /// Stream offset just past the FIN's data, once a FIN was seen.
    fin_at: Option<u64>,
    /// Packets that showed the peer acknowledging bytes not yet delivered.
    ack_ahead: u8,
    /// Future segments, sorted by offset (few at a time in practice).
    pending: Vec<Pending>,
    buffered: usize,
    counters: ReassemblyCounters,
}

impl Reassembler {
    /// Starts the stream after a SYN with this sequence number.
    pub fn syn(&mut self, seq: u32) {
        if !self.started {
            self.started = true;
            self.next_seq = seq.wrapping_add(1);
        }
    }

    /// Whether the stream's position is known.
    pub fn started(&self) -> bool {
        self.started
    }

    /// Stream offset of the next byte to deliver.
    pub fn delivered(&self) -> u64 {
        self.next
    }

    /// Bytes held in the out-of-order buffer.
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    /// This direction's counters.
    pub fn counters(&self) -> &ReassemblyCounters {
        &self.counters
    }

    /// Offset of sequence number `seq` relative to `next` (negative: already delivered).
    fn relative(&self, seq: u32) -> i64 {
        i64::from(seq.wrapping_sub(self.next_seq).cast_signed())
    }

    /// Places one segment. `missing` payload bytes were on the wire but not
    /// captured (snap length). `cap` bounds this direction's buffer.
    pub fn segment(
        &mut self,
        ts: Nanos,
        seq: u32,
        payload: &[u8],
        missing: u32,
        cap: usize,
        sink: &mut impl FnMut(Chunk<'_>),
    ) -> Arrival {
        let wire_len = payload.len() as u64 + u64::from(missing);
        if wire_len == 0 {
            return Arrival::Empty;
        }
        if !self.started {
            // Seen mid-stream: this segment defines the start.
            self.started = true;
            self.next_seq = seq;
        }
        let rel = self.relative(seq);
        if rel > 0 {
            self.counters.out_of_order += 1;
            let offset = self.next + rel.unsigned_abs();
            self.buffer(Pending {
                offset,
                ts,
                data: payload.to_vec(),
                lost: u64::from(missing),
            });
            while self.buffered > cap && !self.pending.is_empty() {
                self.counters.buffer_overflows += 1;
                self.skip_hole(sink);
            }
            return Arrival::OutOfOrder;
        }
        let skip = rel.unsigned_abs();
        if skip >= wire_len {
            self.counters.retransmissions += 1;
            return Arrival::Retransmission;
        }
        if skip > 0 {
            self.counters.overlaps += 1;
        }
        self.deliver(ts, payload, u64::from(missing), skip, sink);
        self.drain(sink);
        if skip > 0 {
            Arrival::Retransmission
        } else {
            Arrival::InOrder
        }
    }

    /// A FIN with this sequence number and payload length: the stream ends after it.
    pub fn fin(&mut self, seq: u32, wire_len: u32) {
        if self.started {
            let rel = self.relative(seq) + i64::from(wire_len);
            self.fin_at = Some(self.next.saturating_add_signed(rel));
        }
    }

    /// The peer acknowledged up to `ack`. Bytes it acknowledged that were
    /// never captured are declared lost once several packets agree.
    pub fn acked(&mut self, ts: Nanos, ack: u32, sink: &mut impl FnMut(Chunk<'_>)) {
        if !self.started {
            return;
        }
        let rel = self.relative(ack);
        if rel <= 0 {
            self.ack_ahead = 0;
            return;
        }
        let mut target = self.next + rel.unsigned_abs();
        if let Some(fin) = self.fin_at {
            // The FIN itself takes a sequence number but carries no byte.
            target = target.min(fin);
        }
        if target <= self.next {
            return;
        }
        self.ack_ahead = self.ack_ahead.saturating_add(1);
        if self.ack_ahead < ACK_AHEAD_SIGHTINGS {
            return;
        }
        while self.next < target {
            let hole_end = self
                .pending
                .first()
                .map_or(target, |p| p.offset.min(target));
            if hole_end > self.next {
                self.gap(ts, hole_end - self.next, sink);
            }
            self.drain(sink);
        }
    }

    /// Delivers everything buffered, reporting the holes between as gaps (stream end).
    pub fn flush(&mut self, sink: &mut impl FnMut(Chunk<'_>)) {
        while !self.pending.is_empty() {
            self.skip_hole(sink);
        }
    }

    fn gap(&mut self, ts: Nanos, len: u64, sink: &mut impl FnMut(Chunk<'_>)) {
        self.counters.gaps += 1;
        self.counters.gap_bytes += len;
        sink(Chunk::Gap(ts, len));
        self.advance(len);
    }

    /// Delivers `payload` (+ `lost` uncaptured bytes) minus its first `skip` bytes.
    fn deliver(
        &mut self,
        ts: Nanos,
        payload: &[u8],
        lost: u64,
        skip: u64,
        sink: &mut impl FnMut(Chunk<'_>),
    ) {
        let wire_len = payload.len() as u64 + lost;
        let captured = payload
            .get(usize::try_from(skip).unwrap_or(usize::MAX)..)
            .unwrap_or(&[]);
        if !captured.is_empty() {
            sink(Chunk::Data(ts, captured));
            self.advance(captured.len() as u64);
        }
        let rest = wire_len - skip - captured.len() as u64;
        if rest > 0 {
            self.gap(ts, rest, sink);
        }
    }

    fn advance(&mut self, n: u64) {
        self.next += n;
        self.next_seq = self.next_seq.wrapping_add(n as u32);
        self.ack_ahead = 0;
    }

    fn buffer(&mut self, seg: Pending) {
        let at = self.pending.partition_point(|p| p.offset < seg.offset);
        if self
            .pending
            .get(at)
            .is_some_and(|p| p.offset == seg.offset && p.end() >= seg.end())
        {
            self.counters.retransmissions += 1;
            return;
        }
        self.buffered += seg.data.len();
        self.pending.insert(at, seg);
    }

    /// Delivers buffered segments that now start at or before `next`.
    fn drain(&mut self, sink: &mut impl FnMut(Chunk<'_>)) {
        while self.pending.first().is_some_and(|p| p.offset <= self.next) {
            let p = self.pending.remove(0);
            self.buffered -= p.data.len();
            let skip = self.next - p.offset;
            if skip < p.data.len() as u64 + p.lost {
                self.deliver(p.ts, &p.data, p.lost, skip, sink);
            }
        }
    }

    /// Declares the hole before the first buffered segment lost and moves past it.
    fn skip_hole(&mut self, sink: &mut impl FnMut(Chunk<'_>)) {
        if let Some(first) = self.pending.first() {
            let (offset, ts) = (first.offset, first.ts);
            if offset > self.next {
                self.gap(ts, offset - self.next, sink);
            }
            self.drain(sink);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Collects the delivered stream, with `?` for each lost byte.
    fn run(r: &mut Reassembler, segs: &[(u32, &[u8], u32)], cap: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for &(seq, data, missing) in segs {
            r.segment(Nanos(0), seq, data, missing, cap, &mut |c| {
                push(&mut out, c);
            });
        }
        out
    }

    fn push(out: &mut Vec<u8>, c: Chunk<'_>) {
        match c {
            Chunk::Data(_, d) => out.extend_from_slice(d),
            Chunk::Gap(_, n) => out.extend(std::iter::repeat_n(b'?', n as usize)),
        }
    }

    #[test]
    fn in_order_after_syn() {
        let mut r = Reassembler::default();
        r.syn(99);
        assert_eq!(
            run(&mut r, &[(100, b"abc", 0), (103, b"def", 0)], 1 << 20),
            b"abcdef"
        );
        assert_eq!(r.delivered(), 6);
    }

    #[test]
    fn reordered_duplicated_and_overlapping() {
        let mut r = Reassembler::default();
        r.syn(0);
        let segs: &[(u32, &[u8], u32)] = &[
            (4, b"def", 0),
            (1, b"abc", 0),
            (1, b"abc", 0),
            (5, b"efgh", 0),
            (7, b"ghij", 0),
        ];
        assert_eq!(run(&mut r, segs, 1 << 20), b"abcdefghij");
        let c = r.counters();
        assert_eq!((c.out_of_order, c.retransmissions, c.overlaps), (1, 1, 2));
        assert_eq!(r.buffered(), 0);
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut r = Reassembler::default();
        r.syn(u32::MAX - 2);
        let segs: &[(u32, &[u8], u32)] = &[(u32::MAX - 1, b"ab", 0), (0, b"cd", 0)];
        assert_eq!(run(&mut r, segs, 1 << 20), b"abcd");
    }

    #[test]
    fn midstream_start_and_truncated_tail() {
        let mut r = Reassembler::default();
        assert_eq!(
            run(&mut r, &[(5000, b"ab", 3), (5005, b"cd", 0)], 1 << 20),
            b"ab???cd"
        );
        assert_eq!(r.counters().gap_bytes, 3);
    }

    #[test]
    fn buffer_cap_skips_the_hole() {
        let mut r = Reassembler::default();
        r.syn(0);
        let out = run(&mut r, &[(1, b"a", 0), (3, b"cccc", 0), (7, b"dddd", 0)], 6);
        assert_eq!(out, b"a?ccccdddd");
        assert_eq!(r.counters().buffer_overflows, 1);
    }

    #[test]
    fn flush_reports_holes() {
        let mut r = Reassembler::default();
        r.syn(0);
        let mut out = run(&mut r, &[(1, b"a", 0), (4, b"d", 0)], 1 << 20);
        r.flush(&mut |c| push(&mut out, c));
        assert_eq!(out, b"a??d");
    }

    #[test]
    fn repeated_acks_beyond_the_data_declare_it_lost() {
        let mut r = Reassembler::default();
        r.syn(0);
        let mut out = run(&mut r, &[(1, b"ab", 0)], 1 << 20);
        for _ in 0..2 {
            r.acked(Nanos(0), 10, &mut |c| push(&mut out, c));
        }
        assert_eq!(out, b"ab", "one or two sightings are not proof");
        r.acked(Nanos(0), 10, &mut |c| push(&mut out, c));
        assert_eq!(out, b"ab???????");
        out.extend(run(&mut r, &[(10, b"z", 0)], 1 << 20));
        assert_eq!(out, b"ab???????z");
    }

    #[test]
    fn ack_of_fin_is_not_a_gap() {
        let mut r = Reassembler::default();
        r.syn(0);
        let mut out = run(&mut r, &[(1, b"ab", 0)], 1 << 20);
        r.fin(3, 0);
        for _ in 0..5 {
            r.acked(Nanos(0), 4, &mut |c| push(&mut out, c));
        }
        assert_eq!(out, b"ab");
    }
}
