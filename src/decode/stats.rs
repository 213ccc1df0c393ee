//! Counters for everything the pipeline saw, dropped or could not decode.

use rustc_hash::FxHashMap;

use super::http::{HttpCounters, HttpError, HttpParser, HttpState};
use super::packet::DecodeError;
use super::reassembly::ReassemblyCounters;

/// Counters for everything the pipeline saw, dropped or could not decode.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Packets pushed.
    pub packets: u64,
    /// Their length on the wire.
    pub bytes: u64,
    /// Decode errors and non-IP frames by kind.
    pub decode: FxHashMap<&'static str, u64>,
    /// Non-first IP fragments (not reassembled).
    pub ip_fragments: u64,
    /// Packets of other IP protocols, or ICMP other than echo.
    pub other_protocols: u64,
    /// Flows created.
    pub flows: u64,
    /// Flows evicted for idleness.
    pub flows_evicted_idle: u64,
    /// Flows evicted to stay under the flow cap.
    pub flows_evicted_capacity: u64,
    /// TCP reassembly counters over all flows.
    pub reassembly: ReassemblyCounters,
    /// Times the global reassembly cap forced a flow's holes to be skipped.
    pub reassembly_total_overflows: u64,
    /// HTTP parser counters over all flows.
    pub http: HttpCounters,
    /// Flows whose HTTP parsing stopped on a malformed message, by kind.
    pub http_errors: FxHashMap<&'static str, u64>,
    /// HTTP exchanges emitted.
    pub exchanges: u64,
    /// Exchanges emitted without a response.
    pub unanswered: u64,
    /// Echo replies paired.
    pub ping_replies: u64,
    /// Echo requests lost.
    pub ping_lost: u64,
    /// Duplicate echo replies.
    pub ping_duplicates: u64,
    /// Echo replies with no request, plus requests dropped by the table cap.
    pub ping_unmatched: u64,
}

impl Stats {
    /// Every drop, eviction and error counter with its stable name (zeros left out).
    pub fn drops_and_errors(&self) -> Vec<(&'static str, u64)> {
        let mut v: Vec<(&'static str, u64)> = self.decode.iter().map(|(k, v)| (*k, *v)).collect();
        v.extend(self.http_errors.iter().map(|(k, v)| (*k, *v)));
        v.extend([
            ("ip_fragments", self.ip_fragments),
            ("flows_evicted_idle", self.flows_evicted_idle),
            ("flows_evicted_capacity", self.flows_evicted_capacity),
            ("tcp_gaps", self.reassembly.gaps),
            ("tcp_gap_bytes", self.reassembly.gap_bytes),
            ("tcp_buffer_overflows", self.reassembly.buffer_overflows),
            (
                "tcp_total_buffer_overflows",
                self.reassembly_total_overflows,
            ),
            ("http_orphan_responses", self.http.orphan_responses),
            ("http_resyncs", self.http.resyncs),
            ("http_pending_overflow", self.http.pending_overflow),
            ("ping_unmatched", self.ping_unmatched),
        ]);
        v.retain(|(_, n)| *n > 0);
        v.sort_unstable();
        v
    }

    /// Total decode errors (not counting non-IP frames, which are not errors).
    pub fn decode_errors(&self) -> u64 {
        self.decode
            .iter()
            .filter(|(k, _)| **k != DecodeError::NotIp.as_str())
            .map(|(_, v)| v)
            .sum()
    }
}

/// Adds one flow's HTTP parser counters (and its malformed kind, if any).
pub(super) fn add_http_counters(s: &mut Stats, h: &HttpParser) {
    s.http.add(&h.counters());
    if let HttpState::Malformed(e) = h.state() {
        *s.http_errors.entry(HttpError::as_str(e)).or_default() += 1;
    }
}
