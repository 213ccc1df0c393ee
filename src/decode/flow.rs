//! Bidirectional TCP/UDP flows: keys, TCP state and per-direction statistics.
//!
//! A flow is keyed by its full 5-tuple in a canonical order, so both
//! directions land on the same entry. The key is hashed over all of its bytes
//! (two addresses as 128-bit values, both ports, the protocol): pod networks
//! such as 10.244.0.0/16 share leading bytes and must not collide.

use std::net::{IpAddr, SocketAddr};

use crate::wire::Nanos;

/// A flow's number, unique within one pipeline run (in order of first packet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FlowId(pub u64);

/// Transport protocol of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Proto {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// The canonical 5-tuple: the lower endpoint first, so both directions match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowKey {
    lo_ip: u128,
    hi_ip: u128,
    lo_port: u16,
    hi_port: u16,
    proto: u8,
}

fn ip_bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

impl FlowKey {
    /// The key of the flow carrying a packet from `src` to `dst`.
    pub fn new(proto: Proto, src: SocketAddr, dst: SocketAddr) -> Self {
        let a = (ip_bits(src.ip()), src.port());
        let b = (ip_bits(dst.ip()), dst.port());
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        FlowKey {
            lo_ip: lo.0,
            hi_ip: hi.0,
            lo_port: lo.1,
            hi_port: hi.1,
            proto: proto as u8,
        }
    }
}

/// Where a TCP connection stands (UDP flows are always `Active`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowState {
    /// SYN seen, no SYN-ACK yet.
    SynSent,
    /// SYN-ACK seen, handshake not finished.
    SynReceived,
    /// Data can flow (handshake done, or the capture started mid-stream).
    Established,
    /// One side sent FIN.
    Closing,
    /// Both sides sent FIN.
    Closed,
    /// A side sent RST.
    Reset,
    /// A UDP flow.
    Active,
}

impl FlowState {
    /// Lower-case name for JSON and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            FlowState::SynSent => "syn_sent",
            FlowState::SynReceived => "syn_received",
            FlowState::Established => "established",
            FlowState::Closing => "closing",
            FlowState::Closed => "closed",
            FlowState::Reset => "reset",
            FlowState::Active => "active",
        }
    }

    /// Whether the connection is over (no more data expected).
    pub fn is_final(self) -> bool {
        matches!(self, FlowState::Closed | FlowState::Reset)
    }
}

/// Why a flow left the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// Closed or reset, then quiet.
    Finished,
    /// No packet for longer than the idle timeout.
    Idle,
    /// Evicted to stay under the flow cap.
    Capacity,
    /// The capture ended.
    EndOfCapture,
}

impl EndReason {
    /// Lower-case name for JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Finished => "finished",
            EndReason::Idle => "idle",
            EndReason::Capacity => "capacity",
            EndReason::EndOfCapture => "end_of_capture",
        }
    }
}

/// Counters for one direction of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SideStats {
    /// Packets sent.
    pub packets: u64,
    /// Bytes sent, as frames on the wire.
    pub bytes: u64,
    /// Transport payload bytes sent (on the wire, captured or not).
    pub payload_bytes: u64,
    /// Segments that repeated bytes already seen.
    pub retransmissions: u64,
    /// Segments that arrived ahead of a hole.
    pub out_of_order: u64,
    /// Segments advertising a zero window.
    pub zero_windows: u64,
    /// FIN segments.
    pub fins: u64,
    /// RST segments.
    pub resets: u64,
}

/// Everything known about one flow, oriented client -> server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowInfo {
    /// Its number.
    pub id: FlowId,
    /// TCP or UDP.
    pub proto: Proto,
    /// The side that opened the connection (for mid-stream TCP: the best guess).
    pub client: SocketAddr,
    /// The other side.
    pub server: SocketAddr,
    /// State.
    pub state: FlowState,
    /// The capture began after the connection did (no SYN seen).
    pub midstream: bool,
    /// First packet.
    pub first_seen: Nanos,
    /// Latest packet.
    pub last_seen: Nanos,
    /// From the client (`[0]`) and from the server (`[1]`).
    pub sides: [SideStats; 2],
    /// Time of the first SYN.
    pub syn_at: Option<Nanos>,
    /// Time of the first SYN-ACK.
    pub syn_ack_at: Option<Nanos>,
    /// SYN to SYN-ACK (network round trip to the server, seen from the capture point).
    pub rtt_syn_synack: Option<Nanos>,
    /// SYN-ACK to the client's ACK (round trip to the client).
    pub rtt_synack_ack: Option<Nanos>,
}

impl FlowInfo {
    /// A new flow whose first packet goes from `client` to `server` at `ts`.
    pub fn new(
        id: FlowId,
        proto: Proto,
        client: SocketAddr,
        server: SocketAddr,
        ts: Nanos,
    ) -> Self {
        FlowInfo {
            id,
            proto,
            client,
            server,
            state: if proto == Proto::Udp {
                FlowState::Active
            } else {
                FlowState::Established
            },
            midstream: proto == Proto::Tcp,
            first_seen: ts,
            last_seen: ts,
            sides: [SideStats::default(); 2],
            syn_at: None,
            syn_ack_at: None,
            rtt_syn_synack: None,
            rtt_synack_ack: None,
        }
    }

    /// Direction index of a packet from `src`: 0 from the client, 1 from the server.
    pub fn side_of(&self, src: SocketAddr) -> usize {
        usize::from(src != self.client)
    }

    /// Exchanges client and server (a mid-stream guess turned out wrong).
    pub fn swap_roles(&mut self) {
        std::mem::swap(&mut self.client, &mut self.server);
        self.sides.swap(0, 1);
    }

    /// Total packets both ways.
    pub fn packets(&self) -> u64 {
        self.sides[0].packets + self.sides[1].packets
    }

    /// Total bytes both ways.
    pub fn bytes(&self) -> u64 {
        self.sides[0].bytes + self.sides[1].bytes
    }

    /// `client -> server` as text.
    pub fn label(&self) -> String {
        format!("{} -> {}", self.client, self.server)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn both_directions_share_a_key() {
        let a = sa("10.244.1.2:40000");
        let b = sa("10.244.0.9:8080");
        assert_eq!(
            FlowKey::new(Proto::Tcp, a, b),
            FlowKey::new(Proto::Tcp, b, a)
        );
        assert_ne!(
            FlowKey::new(Proto::Tcp, a, b),
            FlowKey::new(Proto::Udp, a, b)
        );
    }

    #[test]
    fn keys_differ_in_every_byte() {
        // Addresses that share their first bytes (a pod network) and ports that differ only low.
        let mut keys = HashSet::new();
        for host in 0..=255u8 {
            for port in [8080u16, 8081] {
                let c = SocketAddr::from(([10, 244, 0, host], 40000));
                keys.insert(FlowKey::new(
                    Proto::Tcp,
                    c,
                    SocketAddr::from(([10, 244, 1, 1], port)),
                ));
            }
        }
        assert_eq!(keys.len(), 512);
    }

    #[test]
    fn swap_roles_keeps_stats_with_their_side() {
        let mut f = FlowInfo::new(
            FlowId(1),
            Proto::Tcp,
            sa("1.1.1.1:80"),
            sa("2.2.2.2:5000"),
            Nanos(0),
        );
        f.sides[0].packets = 3;
        f.swap_roles();
        assert_eq!(f.client, sa("2.2.2.2:5000"));
        assert_eq!(f.sides[1].packets, 3);
        assert_eq!(f.side_of(sa("1.1.1.1:80")), 1);
    }
}
