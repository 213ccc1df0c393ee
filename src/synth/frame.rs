//! Ethernet/IPv4 framing for synthetic packets, with valid lengths and checksums.
//!
//! All frames cross the pod's `eth0`: the pod's MAC on one side and the node
//! bridge (the pod's default gateway) on the other, as on a real veth.

use etherparse::{IpHeaders, Ipv4Extensions, Ipv4Header, PacketBuilder, TcpHeader};

use crate::wire::Direction;

/// TCP flag bits, as on the wire.
pub(crate) const FIN: u8 = 0x01;
pub(crate) const SYN: u8 = 0x02;
pub(crate) const RST: u8 = 0x04;
pub(crate) const PSH: u8 = 0x08;
pub(crate) const ACK: u8 = 0x10;

/// The pod's side of the link and a counter for IPv4 identification fields.
pub(crate) struct Link {
    /// The pod's IPv4 address.
    pub(crate) pod_ip: [u8; 4],
    pod_mac: [u8; 6],
    gateway_mac: [u8; 6],
    ip_id: u16,
}

/// The TCP fields of one segment that differ from packet to packet.
pub(crate) struct TcpFields {
    /// The remote port (the pod's side is the service port or an ephemeral one).
    pub(crate) peer_port: u16,
    /// The pod's port.
    pub(crate) pod_port: u16,
    /// Sequence number.
    pub(crate) seq: u32,
    /// Acknowledgment number (sent when `flags` has ACK).
    pub(crate) ack: u32,
    /// Flag bits.
    pub(crate) flags: u8,
    /// Advertised window (already scaled down).
    pub(crate) window: u16,
    /// TCP timestamp option value and echo reply.
    pub(crate) ts: (u32, u32),
}

impl Link {
    /// A link for a pod at `pod_ip`, with MACs derived the way CNI bridges do (0a:58 + IP).
    pub(crate) fn new(pod_ip: [u8; 4]) -> Self {
        let [a, b, c, d] = pod_ip;
        Link {
            pod_ip,
            pod_mac: [0x0a, 0x58, a, b, c, d],
            gateway_mac: [0x0a, 0x58, a, b, c, 1],
            ip_id: 0x3c21,
        }
    }

    /// The next IPv4 header and the MAC pair for a packet to or from `peer`.
    fn ipv4(&mut self, peer: [u8; 4], direction: Direction) -> (([u8; 6], [u8; 6]), IpHeaders) {
        self.ip_id = self.ip_id.wrapping_add(1);
        let (macs, src, dst, ttl) = match direction {
            Direction::Outbound => ((self.pod_mac, self.gateway_mac), self.pod_ip, peer, 64),
            _ => ((self.gateway_mac, self.pod_mac), peer, self.pod_ip, 63),
        };
        let mut ip = Ipv4Header {
            source: src,
            destination: dst,
            time_to_live: ttl,
            ..Default::default()
        };
        ip.identification = self.ip_id;
        ip.dont_fragment = true;
        (macs, IpHeaders::Ipv4(ip, Ipv4Extensions::default()))
    }

    /// Appends a TCP segment between the pod and `peer` to `out`.
    pub(crate) fn tcp(
        &mut self,
        out: &mut Vec<u8>,
        peer: [u8; 4],
        direction: Direction,
        f: &TcpFields,
        payload: &[u8],
    ) {
        let ((src_mac, dst_mac), ip) = self.ipv4(peer, direction);
        let (sport, dport) = if direction == Direction::Outbound {
            (f.pod_port, f.peer_port)
        } else {
            (f.peer_port, f.pod_port)
        };
        let mut tcp = TcpHeader::new(sport, dport, f.seq, f.window);
        tcp.fin = f.flags & FIN != 0;
        tcp.syn = f.flags & SYN != 0;
        tcp.rst = f.flags & RST != 0;
        tcp.psh = f.flags & PSH != 0;
        tcp.ack = f.flags & ACK != 0;
        if tcp.ack {
            tcp.acknowledgment_number = f.ack;
        }
        let [v0, v1, v2, v3] = f.ts.0.to_be_bytes();
        let [e0, e1, e2, e3] = f.ts.1.to_be_bytes();
        if tcp.syn {
            // Linux's SYN options: MSS, SACK permitted, timestamps, NOP, window scale 7.
            let opts = [
                2, 4, 0x05, 0xb4, 4, 2, 8, 10, v0, v1, v2, v3, e0, e1, e2, e3, 1, 3, 3, 7,
            ];
            tcp.set_options_raw(&opts)
                .expect("20 option bytes fit a TCP header");
        } else if !tcp.rst {
            let opts = [1, 1, 8, 10, v0, v1, v2, v3, e0, e1, e2, e3];
            tcp.set_options_raw(&opts)
                .expect("12 option bytes fit a TCP header");
        }
        PacketBuilder::ethernet2(src_mac, dst_mac)
            .ip(ip)
            .tcp_header(tcp)
            .write_to_vec(out, payload)
            .expect("a synthetic TCP frame is valid");
    }

    /// Appends a UDP datagram between the pod's `pod_port` and `peer:peer_port` to `out`.
    pub(crate) fn udp(
        &mut self,
        out: &mut Vec<u8>,
        peer: ([u8; 4], u16),
        pod_port: u16,
        direction: Direction,
        payload: &[u8],
    ) {
        let ((src_mac, dst_mac), ip) = self.ipv4(peer.0, direction);
        let (sport, dport) = if direction == Direction::Outbound {
            (pod_port, peer.1)
        } else {
            (peer.1, pod_port)
        };
        PacketBuilder::ethernet2(src_mac, dst_mac)
            .ip(ip)
            .udp(sport, dport)
            .write_to_vec(out, payload)
            .expect("a synthetic UDP frame is valid");
    }

    /// Appends an ICMP echo request (outbound) or reply (inbound) to `out`.
    pub(crate) fn icmp_echo(
        &mut self,
        out: &mut Vec<u8>,
        peer: [u8; 4],
        direction: Direction,
        id_seq: (u16, u16),
        payload: &[u8],
    ) {
        let ((src_mac, dst_mac), ip) = self.ipv4(peer, direction);
        let step = PacketBuilder::ethernet2(src_mac, dst_mac).ip(ip);
        let step = if direction == Direction::Outbound {
            step.icmpv4_echo_request(id_seq.0, id_seq.1)
        } else {
            step.icmpv4_echo_reply(id_seq.0, id_seq.1)
        };
        step.write_to_vec(out, payload)
            .expect("a synthetic ICMP frame is valid");
    }
}
