//! Test packets, built with etherparse, and the filter semantics written
//! straight from the `FilterSpec` docs as a reference to check programs against.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{
    ArpHardwareId, ArpOperation, ArpPacket, EtherType, IcmpEchoHeader, Icmpv4Header, Icmpv4Type,
    Icmpv6Header, Icmpv6Type, IpFragOffset, IpNumber, Ipv4Header, Ipv6FlowLabel, Ipv6Header,
    Ipv6RawExtHeader, TcpHeader, UdpHeader,
};
use podtap::wire::agent::{FilterProto, FilterRule, FilterSpec};

/// What follows the IP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Transport {
    /// TCP with source and destination ports.
    Tcp(u16, u16),
    /// UDP with source and destination ports.
    Udp(u16, u16),
    /// ICMP echo request (ICMPv6 in IPv6).
    Icmp,
    /// Some other protocol number, with a few payload bytes.
    Other(u8),
}

/// A packet as the filter sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Packet {
    /// IPv4, with `options` 4-byte option words (IHL = 5 + options).
    V4 {
        src: Ipv4Addr,
        dst: Ipv4Addr,
        options: u8,
        /// Fragment offset in 8-byte units.
        frag_offset: u16,
        more_fragments: bool,
        transport: Transport,
    },
    /// IPv6, optionally with a hop-by-hop options header before the transport.
    V6 {
        src: Ipv6Addr,
        dst: Ipv6Addr,
        hop_by_hop: bool,
        transport: Transport,
    },
    /// An ARP request between two IPv4 addresses.
    Arp { sender: Ipv4Addr, target: Ipv4Addr },
}

/// Shorthands for the table tests.
pub(super) fn tcp4(src: &str, sp: u16, dst: &str, dp: u16) -> Packet {
    v4(src, dst, Transport::Tcp(sp, dp))
}

pub(super) fn v4(src: &str, dst: &str, transport: Transport) -> Packet {
    Packet::V4 {
        src: src.parse().unwrap(),
        dst: dst.parse().unwrap(),
        options: 0,
        frag_offset: 0,
        more_fragments: false,
        transport,
    }
}

pub(super) fn v6(src: &str, dst: &str, transport: Transport) -> Packet {
    Packet::V6 {
        src: src.parse().unwrap(),
        dst: dst.parse().unwrap(),
        hop_by_hop: false,
        transport,
    }
}

impl Transport {
    fn number(self, v6: bool) -> u8 {
        match self {
            Transport::Tcp(..) => 6,
            Transport::Udp(..) => 17,
            Transport::Icmp if v6 => 58,
            Transport::Icmp => 1,
            Transport::Other(n) => n,
        }
    }

    fn ports(self) -> Option<(u16, u16)> {
        match self {
            Transport::Tcp(s, d) | Transport::Udp(s, d) => Some((s, d)),
            _ => None,
        }
    }

    fn bytes(self, v6: bool) -> Vec<u8> {
        let echo = IcmpEchoHeader { id: 7, seq: 1 };
        let mut out = match self {
            Transport::Tcp(s, d) => TcpHeader::new(s, d, 1000, 512).to_bytes().to_vec(),
            Transport::Udp(s, d) => UdpHeader {
                source_port: s,
                destination_port: d,
                length: 12,
                checksum: 0,
            }
            .to_bytes()
            .to_vec(),
            Transport::Icmp if v6 => Icmpv6Header::new(Icmpv6Type::EchoRequest(echo))
                .to_bytes()
                .to_vec(),
            Transport::Icmp => Icmpv4Header::new(Icmpv4Type::EchoRequest(echo))
                .to_bytes()
                .to_vec(),
            Transport::Other(_) => vec![0x00, 0x50, 0x01, 0xbb],
        };
        out.extend_from_slice(b"ping");
        out
    }
}

impl Packet {
    /// The EtherType and the bytes from the network header on.
    pub(super) fn bytes(&self) -> (u16, Vec<u8>) {
        match self {
            Packet::V4 {
                src,
                dst,
                options,
                frag_offset,
                more_fragments,
                transport,
            } => {
                // A later fragment's payload here still looks like the
                // transport header, so a program reading ports from it
                // would find them.
                let payload = transport.bytes(false);
                let mut ip = Ipv4Header::new(
                    payload.len() as u16,
                    64,
                    IpNumber(transport.number(false)),
                    src.octets(),
                    dst.octets(),
                )
                .unwrap();
                let opts: Vec<u8> = (0..*options).flat_map(|_| [1u8, 1, 1, 1]).collect(); // NOPs
                ip.options = opts[..].try_into().unwrap();
                ip.total_len += opts.len() as u16;
                ip.dont_fragment = false;
                ip.more_fragments = *more_fragments;
                ip.fragment_offset = IpFragOffset::try_new(*frag_offset).unwrap();
                ip.header_checksum = ip.calc_header_checksum();
                let mut out = ip.to_bytes().to_vec();
                out.extend_from_slice(&payload);
                (0x0800, out)
            }
            Packet::V6 {
                src,
                dst,
                hop_by_hop,
                transport,
            } => {
                let payload = transport.bytes(true);
                let number = IpNumber(transport.number(true));
                let ext = hop_by_hop
                    .then(|| Ipv6RawExtHeader::new_raw(number, &[1, 4, 0, 0, 0, 0]).unwrap());
                let ext_bytes = ext.map(|e| e.to_bytes().to_vec()).unwrap_or_default();
                let ip = Ipv6Header {
                    traffic_class: 0,
                    flow_label: Ipv6FlowLabel::ZERO,
                    payload_length: (ext_bytes.len() + payload.len()) as u16,
                    next_header: if *hop_by_hop {
                        IpNumber::IPV6_HEADER_HOP_BY_HOP
                    } else {
                        number
                    },
                    hop_limit: 64,
                    source: src.octets(),
                    destination: dst.octets(),
                };
                let mut out = ip.to_bytes().to_vec();
                out.extend_from_slice(&ext_bytes);
                out.extend_from_slice(&payload);
                (0x86dd, out)
            }
            Packet::Arp { sender, target } => {
                let arp = ArpPacket::new(
                    ArpHardwareId::ETHERNET,
                    EtherType::IPV4,
                    ArpOperation::REQUEST,
                    &[2, 0, 0, 0, 0, 1],
                    &sender.octets(),
                    &[0; 6],
                    &target.octets(),
                )
                .unwrap();
                (0x0806, arp.to_bytes().to_vec())
            }
        }
    }
}

/// Whether the reference semantics reject `spec` (the compiler must too).
pub(super) fn invalid(spec: &FilterSpec) -> bool {
    spec.include.iter().chain(&spec.exclude).any(|r| {
        (r.proto.is_none() && r.host.is_none() && r.port.is_none())
            || (r.proto == Some(FilterProto::Icmp) && r.port.is_some())
            || r.host.as_deref().is_some_and(|h| parse_host(h).is_none())
    })
}

/// The reference verdict: keep packets matching any include rule (all when
/// there is none) and no exclude rule.
pub(super) fn keeps(spec: &FilterSpec, packet: &Packet) -> bool {
    let included = spec.include.is_empty() || spec.include.iter().any(|r| matches(r, packet));
    included && !spec.exclude.iter().any(|r| matches(r, packet))
}

/// A rule matches when every field that is set matches.
fn matches(rule: &FilterRule, packet: &Packet) -> bool {
    let (src, dst, number, is_v6, later_fragment, transport) = match *packet {
        Packet::V4 {
            src,
            dst,
            frag_offset,
            transport,
            ..
        } => (
            IpAddr::V4(src),
            IpAddr::V4(dst),
            transport.number(false),
            false,
            frag_offset != 0,
            transport,
        ),
        // Extension headers are not walked: the first next header is the protocol.
        Packet::V6 {
            src,
            dst,
            hop_by_hop,
            transport,
        } => {
            let number = if hop_by_hop {
                0
            } else {
                transport.number(true)
            };
            (
                IpAddr::V6(src),
                IpAddr::V6(dst),
                number,
                true,
                false,
                transport,
            )
        }
        Packet::Arp { .. } => return false,
    };
    let proto_ok = match rule.proto {
        None => true,
        Some(FilterProto::Tcp) => number == 6,
        Some(FilterProto::Udp) => number == 17,
        Some(FilterProto::Icmp) => number == if is_v6 { 58 } else { 1 },
    };
    let host_ok = rule.host.as_deref().is_none_or(|h| {
        let (net, prefix) = parse_host(h).unwrap();
        in_net(src, net, prefix) || in_net(dst, net, prefix)
    });
    let port_ok = rule.port.is_none_or(|p| {
        (number == 6 || number == 17)
            && !later_fragment
            && transport.ports().is_some_and(|(s, d)| s == p || d == p)
    });
    proto_ok && host_ok && port_ok
}

fn parse_host(h: &str) -> Option<(IpAddr, u32)> {
    let (addr, prefix) = h.split_once('/').unwrap_or((h, ""));
    let addr: IpAddr = addr.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = if prefix.is_empty() && !h.contains('/') {
        max
    } else if prefix.bytes().all(|b| b.is_ascii_digit()) {
        prefix.parse().ok()?
    } else {
        return None;
    };
    (prefix <= max).then_some((addr, prefix))
}

fn in_net(addr: IpAddr, net: IpAddr, prefix: u32) -> bool {
    match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
            a.to_bits() & mask == n.to_bits() & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
            a.to_bits() & mask == n.to_bits() & mask
        }
        _ => false,
    }
}
