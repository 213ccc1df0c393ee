//! IP and transport headers: one frame decoded down to TCP, UDP or ICMP echo.
//!
//! IPv4 and IPv6 (with extension headers) go through etherparse's lax
//! slicing, so a packet cut short by the snap length decodes as far as it
//! goes; TCP, UDP and ICMP headers are read here, and the number of payload
//! bytes the capture left out is kept so reassembly can count them as a gap.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{IpNumber, LaxIpv4Slice, LaxIpv6Slice};

use super::link::{self, ETHERTYPE_IPV4, ETHERTYPE_IPV6, LinkError};
use crate::wire::{Direction, LinkType};

/// TCP flag bits.
pub mod tcp_flags {
    /// No more data from sender.
    pub const FIN: u8 = 0x01;
    /// Synchronise sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push function.
    pub const PSH: u8 = 0x08;
    /// Acknowledgment field is significant.
    pub const ACK: u8 = 0x10;
}

/// A TCP segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Flag bits ([`tcp_flags`]).
    pub flags: u8,
    /// Advertised window (unscaled).
    pub window: u16,
    /// Captured payload.
    pub payload: &'a [u8],
    /// Payload bytes on the wire that the capture did not keep.
    pub missing: u32,
}

impl TcpSegment<'_> {
    /// Whether all of `flags` are set.
    pub fn has(&self, flags: u8) -> bool {
        self.flags & flags == flags
    }

    /// Payload length on the wire.
    pub fn wire_len(&self) -> u32 {
        self.payload.len() as u32 + self.missing
    }
}

/// An ICMP or ICMPv6 echo request or reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Echo {
    /// A reply (else a request).
    pub reply: bool,
    /// Identifier.
    pub id: u16,
    /// Sequence number.
    pub seq: u16,
}

/// The transport part of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport<'a> {
    /// TCP.
    Tcp(TcpSegment<'a>),
    /// UDP.
    Udp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// Captured payload.
        payload: &'a [u8],
    },
    /// ICMP or ICMPv6 echo.
    Echo(Echo),
    /// Any other ICMP or ICMPv6 message (its type).
    OtherIcmp(u8),
    /// A non-first IP fragment: no transport header to read.
    Fragment,
    /// Another IP protocol (its number).
    Other(u8),
}

/// A packet decoded down to its transport layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Direction, when the link layer recorded it.
    pub direction: Direction,
    /// The transport part.
    pub transport: Transport<'a>,
}

/// Why a packet was not decoded; each kind is a counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecodeError {
    /// Frame shorter than its link header.
    LinkTruncated,
    /// Link type podtap does not decode.
    UnsupportedLink,
    /// Not IP (ARP, LLDP, ...): not an error, but not decoded either.
    NotIp,
    /// IP header missing, cut short or invalid.
    BadIp,
    /// TCP header cut short or with an impossible data offset.
    BadTcp,
    /// UDP header cut short.
    BadUdp,
    /// ICMP header cut short.
    BadIcmp,
}

impl DecodeError {
    /// A short stable name for counters and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            DecodeError::LinkTruncated => "link_truncated",
            DecodeError::UnsupportedLink => "unsupported_link",
            DecodeError::NotIp => "not_ip",
            DecodeError::BadIp => "bad_ip",
            DecodeError::BadTcp => "bad_tcp",
            DecodeError::BadUdp => "bad_udp",
            DecodeError::BadIcmp => "bad_icmp",
        }
    }
}

/// Decodes one captured frame of the given link type.
pub fn decode(link_type: LinkType, frame: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    let net = link::parse(link_type, frame).map_err(|e| match e {
        LinkError::Truncated => DecodeError::LinkTruncated,
        LinkError::Unsupported => DecodeError::UnsupportedLink,
    })?;
    let ip = net.payload;
    let (src, dst, proto, fragmented, payload, wire_len) = match net.ether_type {
        ETHERTYPE_IPV4 => {
            let (s, _) = LaxIpv4Slice::from_slice(ip).map_err(|_| DecodeError::BadIp)?;
            let h = s.header();
            let p = s.payload();
            let wire = ip_payload_wire_len(ip, p.payload, usize::from(h.total_len()));
            (
                IpAddr::V4(Ipv4Addr::from(h.source())),
                IpAddr::V4(Ipv4Addr::from(h.destination())),
                p.ip_number,
                p.fragmented,
                p.payload,
                wire,
            )
        }
        ETHERTYPE_IPV6 => {
            let (s, _) = LaxIpv6Slice::from_slice(ip).map_err(|_| DecodeError::BadIp)?;
            let h = s.header();
            let p = s.payload();
            let declared = usize::from(h.payload_length());
            // A zero payload length is a jumbogram (or a lie): trust the capture.
            let total = if declared == 0 {
                ip.len()
            } else {
                40 + declared
            };
            let wire = ip_payload_wire_len(ip, p.payload, total);
            (
                IpAddr::V6(Ipv6Addr::from(h.source())),
                IpAddr::V6(Ipv6Addr::from(h.destination())),
                p.ip_number,
                p.fragmented,
                p.payload,
                wire,
            )
        }
        _ => return Err(DecodeError::NotIp),
    };
    let transport = if fragmented {
        Transport::Fragment
    } else {
        transport(proto, payload, wire_len)?
    };
    Ok(Decoded {
        src,
        dst,
        direction: net.direction,
        transport,
    })
}

/// Length of the IP payload on the wire, from the IP header's length field.
fn ip_payload_wire_len(ip: &[u8], payload: &[u8], ip_total: usize) -> usize {
    let offset = (payload.as_ptr() as usize).saturating_sub(ip.as_ptr() as usize);
    ip_total.saturating_sub(offset).max(payload.len())
}

fn transport(proto: IpNumber, p: &[u8], wire_len: usize) -> Result<Transport<'_>, DecodeError> {
    let be16 = |at: usize| u16::from_be_bytes([p[at], p[at + 1]]);
    let be32 = |at: usize| u32::from_be_bytes([p[at], p[at + 1], p[at + 2], p[at + 3]]);
    match proto {
        IpNumber::TCP => {
            if p.len() < 20 {
                return Err(DecodeError::BadTcp);
            }
            let header_len = usize::from(p[12] >> 4) * 4;
            if header_len < 20 || header_len > wire_len {
                return Err(DecodeError::BadTcp);
            }
            // Options cut off by the snap length still leave the fixed header usable.
            let payload = p.get(header_len..).unwrap_or(&[]);
            let missing = wire_len
                .saturating_sub(header_len)
                .saturating_sub(payload.len());
            Ok(Transport::Tcp(TcpSegment {
                src_port: be16(0),
                dst_port: be16(2),
                seq: be32(4),
                ack: be32(8),
                flags: p[13],
                window: be16(14),
                payload,
                missing: u32::try_from(missing).unwrap_or(u32::MAX),
            }))
        }
        IpNumber::UDP => {
            if p.len() < 8 {
                return Err(DecodeError::BadUdp);
            }
            let declared = usize::from(be16(4)).saturating_sub(8);
            let payload = &p[8..];
            Ok(Transport::Udp {
                src_port: be16(0),
                dst_port: be16(2),
                payload: &payload[..declared.min(payload.len())],
            })
        }
        IpNumber::ICMP | IpNumber::IPV6_ICMP => {
            if p.len() < 4 {
                return Err(DecodeError::BadIcmp);
            }
            let v6 = proto == IpNumber::IPV6_ICMP;
            let (request, reply) = if v6 { (128, 129) } else { (8, 0) };
            let kind = p[0];
            if kind != request && kind != reply || p[1] != 0 {
                return Ok(Transport::OtherIcmp(kind));
            }
            if p.len() < 8 {
                return Err(DecodeError::BadIcmp);
            }
            Ok(Transport::Echo(Echo {
                reply: kind == reply,
                id: be16(4),
                seq: be16(6),
            }))
        }
        other => Ok(Transport::Other(other.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::PacketBuilder;

    fn tcp_frame(payload: &[u8]) -> Vec<u8> {
        let b = PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv4([10, 244, 0, 1], [10, 244, 1, 2], 64)
            .tcp(40000, 8080, 1000, 512)
            .ack(77)
            .psh();
        let mut out = Vec::new();
        b.write(&mut out, payload).unwrap();
        out
    }

    #[test]
    fn tcp_over_ethernet() {
        let f = tcp_frame(b"GET / HTTP/1.1\r\n\r\n");
        let d = decode(LinkType::ETHERNET, &f).unwrap();
        assert_eq!(d.src, "10.244.0.1".parse::<IpAddr>().unwrap());
        let Transport::Tcp(t) = d.transport else {
            panic!("not tcp")
        };
        assert_eq!(
            (t.src_port, t.dst_port, t.seq, t.ack),
            (40000, 8080, 1000, 77)
        );
        assert!(t.has(tcp_flags::ACK | tcp_flags::PSH));
        assert_eq!(t.payload, b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(t.missing, 0);
    }

    #[test]
    fn truncated_payload_counts_missing_bytes() {
        let f = tcp_frame(&[b'x'; 100]);
        let cut = &f[..f.len() - 60];
        let Transport::Tcp(t) = decode(LinkType::ETHERNET, cut).unwrap().transport else {
            panic!("not tcp")
        };
        assert_eq!((t.payload.len(), t.missing, t.wire_len()), (40, 60, 100));
    }

    #[test]
    fn ethernet_padding_is_not_payload() {
        let mut f = tcp_frame(b"");
        f.extend_from_slice(&[0; 6]);
        let Transport::Tcp(t) = decode(LinkType::ETHERNET, &f).unwrap().transport else {
            panic!("not tcp")
        };
        assert!(t.payload.is_empty());
    }

    #[test]
    fn truncated_tcp_header_is_an_error() {
        let f = tcp_frame(b"");
        assert_eq!(
            decode(LinkType::ETHERNET, &f[..14 + 20 + 10]),
            Err(DecodeError::BadTcp)
        );
        assert_eq!(
            decode(LinkType::ETHERNET, &f[..14 + 10]),
            Err(DecodeError::BadIp)
        );
    }

    #[test]
    fn udp_and_icmp_echo_v4_v6() {
        let mut out = Vec::new();
        PacketBuilder::ipv4([10, 0, 0, 1], [10, 96, 0, 10], 64)
            .udp(5353, 53)
            .write(&mut out, b"dns")
            .unwrap();
        let d = decode(LinkType::RAW, &out).unwrap();
        assert_eq!(
            d.transport,
            Transport::Udp {
                src_port: 5353,
                dst_port: 53,
                payload: b"dns"
            }
        );

        out.clear();
        PacketBuilder::ipv6([1; 16], [2; 16], 64)
            .icmpv6_echo_reply(7, 9)
            .write(&mut out, b"ping")
            .unwrap();
        let d = decode(LinkType::IPV6, &out).unwrap();
        assert_eq!(
            d.transport,
            Transport::Echo(Echo {
                reply: true,
                id: 7,
                seq: 9
            })
        );

        out.clear();
        PacketBuilder::ipv4([1; 4], [2; 4], 64)
            .icmpv4_echo_request(3, 4)
            .write(&mut out, b"")
            .unwrap();
        let d = decode(LinkType::IPV4, &out).unwrap();
        assert_eq!(
            d.transport,
            Transport::Echo(Echo {
                reply: false,
                id: 3,
                seq: 4
            })
        );
    }

    #[test]
    fn non_ip_is_reported() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x06, 0, 1]);
        assert_eq!(decode(LinkType::ETHERNET, &f), Err(DecodeError::NotIp));
    }
}
