//! Synthetic pod traffic, pulled a packet at a time or written as pcapng.
//!
//! [`Generator`] simulates one small shop API pod on `eth0`: hundreds of
//! keep-alive HTTP/1.1 clients on port 8080 (handshakes, pipelining, chunked
//! and multi-segment bodies, FIN and RST endings, the odd retransmission or
//! reordered segment), the pod's DNS lookups and its pings to two peers, one
//! of them lossy. Everything follows from [`SynthConfig::seed`], so the same
//! configuration always yields the same bytes, and [`Summary`] is the exact
//! ground truth of what was emitted.
//!
//! The module owns only the traffic model. It imports no decoder (tests must be
//! able to check one against the other) and writes through [`crate::wire::Writer`].

mod dns;
mod frame;
mod http;
mod ping;
mod rng;
mod tcp;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::io::{self, BufWriter, Write};
use std::net::Ipv4Addr;

use crate::wire::{Direction, Interface, LinkType, Nanos, Writer};

use frame::Link;
use rng::Rng;

/// What to simulate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthConfig {
    /// Everything random follows from this.
    pub seed: u64,
    /// Concurrent client connections (each replaced by a new one when it ends).
    pub connections: u32,
    /// Stop after this many packets; `None` never stops (for a live demo).
    pub packets: Option<u64>,
    /// Time of the first packet.
    pub start: Nanos,
    /// The pod's address; clients come from elsewhere in 10.244.0.0/16.
    pub pod_ip: Ipv4Addr,
    /// Mean idle time between two exchanges on one connection.
    pub think_mean: Nanos,
    /// Share of multi-segment messages (four segments or more) with a
    /// retransmitted or reordered segment, in thousandths.
    pub oddity_per_mille: u32,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            seed: 1,
            connections: 300,
            packets: None,
            start: Nanos(1_750_000_000 * Nanos::SECOND.0),
            pod_ip: Ipv4Addr::new(10, 244, 1, 23),
            think_mean: Nanos(150 * Nanos::MILLI.0),
            oddity_per_mille: 40,
        }
    }
}

/// One generated packet: a whole Ethernet frame, borrowed until the next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynthPacket<'a> {
    /// When it crossed the pod's interface.
    pub ts: Nanos,
    /// Inbound (to the pod) or outbound (from the pod).
    pub direction: Direction,
    /// The Ethernet frame, checksums included.
    pub frame: &'a [u8],
}

/// Ground truth about the packets generated so far.
///
/// Messages count when their last segment is emitted, so a capture cut short
/// counts only what a reader can reassemble completely.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Packets emitted.
    pub packets: u64,
    /// Frame bytes emitted.
    pub bytes: u64,
    /// TCP connections opened (SYNs sent).
    pub tcp_connections: u64,
    /// TCP connections ended by a reset.
    pub tcp_resets: u64,
    /// Data segments sent a second time.
    pub tcp_retransmissions: u64,
    /// Data segments that arrived after their successor.
    pub tcp_reordered: u64,
    /// Complete HTTP requests.
    pub http_requests: u64,
    /// Complete HTTP responses.
    pub http_responses: u64,
    /// Responses with a 2xx status.
    pub http_2xx: u64,
    /// Responses with a 3xx status.
    pub http_3xx: u64,
    /// Responses with a 4xx status.
    pub http_4xx: u64,
    /// Responses with a 5xx status.
    pub http_5xx: u64,
    /// ICMP echo requests sent by the pod.
    pub icmp_echo_requests: u64,
    /// ICMP echo replies received by the pod.
    pub icmp_echo_replies: u64,
    /// DNS queries sent by the pod.
    pub dns_queries: u64,
    /// DNS responses received by the pod.
    pub dns_responses: u64,
}

impl Summary {
    fn count_response(&mut self, status: u16) {
        self.http_responses += 1;
        match status / 100 {
            2 => self.http_2xx += 1,
            3 => self.http_3xx += 1,
            4 => self.http_4xx += 1,
            _ => self.http_5xx += 1,
        }
    }
}

impl fmt::Display for Summary {
    /// One line of `key=value` pairs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "packets={} bytes={} tcp_connections={} tcp_resets={} tcp_retransmissions={} tcp_reordered={} \
             http_requests={} http_responses={} http_2xx={} http_3xx={} http_4xx={} http_5xx={} \
             icmp_echo_requests={} icmp_echo_replies={} dns_queries={} dns_responses={}",
            self.packets,
            self.bytes,
            self.tcp_connections,
            self.tcp_resets,
            self.tcp_retransmissions,
            self.tcp_reordered,
            self.http_requests,
            self.http_responses,
            self.http_2xx,
            self.http_3xx,
            self.http_4xx,
            self.http_5xx,
            self.icmp_echo_requests,
            self.icmp_echo_replies,
            self.dns_queries,
            self.dns_responses,
        )
    }
}

/// State every traffic source shares: randomness, the link, the output frame.
pub(crate) struct World {
    rng: Rng,
    link: Link,
    bodies: http::Bodies,
    summary: Summary,
    frame: Vec<u8>,
    think_mean_ns: u64,
    dns_mean_ns: u64,
    oddity_per_mille: u64,
    next_port: u32,
}

impl World {
    /// An ephemeral client port; consecutive connections never share one.
    fn next_client_port(&mut self) -> u16 {
        self.next_port = (self.next_port + 1) % 28_232;
        32_768 + self.next_port as u16
    }
}

/// A source of packets with its own script.
enum Source {
    Tcp(tcp::Connection),
    Dns(dns::Resolver),
    Ping(ping::Pinger),
}

impl Source {
    fn next_at(&self) -> u64 {
        match self {
            Source::Tcp(c) => c.next_at(),
            Source::Dns(r) => r.next_at(),
            Source::Ping(p) => p.next_at(),
        }
    }
}

/// Pulls synthetic packets in timestamp order.
pub struct Generator {
    world: World,
    sources: Vec<Source>,
    /// Min-heap of (next time, source index); the index breaks ties deterministically.
    queue: BinaryHeap<Reverse<(u64, u32)>>,
    limit: Option<u64>,
}

impl Generator {
    /// A generator for `config`; nothing is emitted before the first call to [`Generator::next_packet`].
    pub fn new(config: &SynthConfig) -> Self {
        let mut rng = Rng::new(config.seed);
        let bodies = http::Bodies::new(&mut rng);
        let next_port = rng.below(28_232) as u32;
        let mut world = World {
            rng,
            link: Link::new(config.pod_ip.octets()),
            bodies,
            summary: Summary::default(),
            frame: Vec::with_capacity(2048),
            think_mean_ns: config.think_mean.0.max(1),
            dns_mean_ns: 400 * Nanos::MILLI.0,
            oddity_per_mille: u64::from(config.oddity_per_mille),
            next_port,
        };
        let t0 = config.start.0;
        let mut sources = Vec::with_capacity(config.connections as usize + 3);
        for _ in 0..config.connections {
            let start = t0 + world.rng.below(500 * Nanos::MILLI.0);
            sources.push(Source::Tcp(tcp::Connection::new(&mut world, start)));
        }
        sources.push(Source::Dns(dns::Resolver::new(
            &mut world,
            t0 + 3 * Nanos::MILLI.0,
        )));
        let [a, b, _, _] = config.pod_ip.octets();
        let gateway = [a, b, config.pod_ip.octets()[2], 1];
        sources.push(Source::Ping(ping::Pinger::new(
            &mut world,
            gateway,
            0,
            (40, 120),
            t0 + 7 * Nanos::MILLI.0,
        )));
        let flaky = [a, b, 77, 3];
        sources.push(Source::Ping(ping::Pinger::new(
            &mut world,
            flaky,
            250,
            (600, 4_000),
            t0 + 11 * Nanos::MILLI.0,
        )));
        let queue = sources
            .iter()
            .enumerate()
            .map(|(i, s)| Reverse((s.next_at(), i as u32)))
            .collect();
        Generator {
            world,
            sources,
            queue,
            limit: config.packets,
        }
    }

    /// The next packet, or `None` once the configured packet count is reached.
    pub fn next_packet(&mut self) -> Option<SynthPacket<'_>> {
        if self.limit.is_some_and(|n| self.world.summary.packets >= n) {
            return None;
        }
        let Reverse((_, index)) = self.queue.pop()?;
        let world = &mut self.world;
        world.frame.clear();
        let source = &mut self.sources[index as usize];
        let (at, direction) = match source {
            Source::Tcp(c) => c.emit(world),
            Source::Dns(r) => r.emit(world),
            Source::Ping(p) => p.emit(world),
        };
        self.queue.push(Reverse((source.next_at(), index)));
        world.summary.packets += 1;
        world.summary.bytes += world.frame.len() as u64;
        Some(SynthPacket {
            ts: Nanos(at),
            direction,
            frame: &world.frame,
        })
    }

    /// What has been emitted so far.
    pub fn summary(&self) -> &Summary {
        &self.world.summary
    }
}

/// Writes a whole capture for `config` as pcapng to `out` and returns its ground truth.
///
/// One Ethernet interface named `eth0`, nanosecond timestamps, direction flags
/// on every packet. With `config.packets` set to `None` this writes until `out`
/// fails (a closed pipe, for instance).
pub fn write_pcapng<W: Write>(config: &SynthConfig, out: W) -> io::Result<Summary> {
    let mut writer = Writer::new(BufWriter::with_capacity(1 << 20, out))?;
    let iface = writer.add_interface(&Interface {
        link_type: LinkType::ETHERNET,
        snaplen: 262_144,
        name: Some("eth0".to_owned()),
        description: Some("podtap synthetic pod traffic".to_owned()),
    })?;
    let mut generator = Generator::new(config);
    while let Some(p) = generator.next_packet() {
        writer.write_packet(iface, p.ts, p.frame.len() as u32, p.frame, p.direction)?;
    }
    writer.flush()?;
    Ok(generator.summary().clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{NetHeaders, PacketHeaders, TransportHeader};

    fn collect(config: &SynthConfig) -> Vec<(Nanos, Direction, Vec<u8>)> {
        let mut generator = Generator::new(config);
        let mut out = Vec::new();
        while let Some(p) = generator.next_packet() {
            out.push((p.ts, p.direction, p.frame.to_vec()));
        }
        out
    }

    fn small(seed: u64, packets: u64) -> SynthConfig {
        SynthConfig {
            seed,
            connections: 30,
            packets: Some(packets),
            ..SynthConfig::default()
        }
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let a = collect(&small(7, 3000));
        let b = collect(&small(7, 3000));
        let c = collect(&small(8, 3000));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn packet_budget_is_respected_and_summarised() {
        let config = small(3, 1234);
        let mut generator = Generator::new(&config);
        let mut bytes = 0;
        let mut count = 0;
        while let Some(p) = generator.next_packet() {
            count += 1;
            bytes += p.frame.len() as u64;
        }
        assert_eq!(count, 1234);
        assert!(generator.next_packet().is_none());
        assert_eq!(generator.summary().packets, 1234);
        assert_eq!(generator.summary().bytes, bytes);
    }

    #[test]
    fn frames_parse_with_valid_checksums_in_time_order() {
        let config = small(11, 20_000);
        let pod = config.pod_ip.octets();
        let mut previous = Nanos(0);
        let (mut tcp, mut udp, mut icmp) = (0, 0, 0);
        for (ts, direction, frame) in collect(&config) {
            assert!(ts >= previous, "timestamps go back at {ts:?}");
            previous = ts;
            let headers = PacketHeaders::from_ethernet_slice(&frame).expect("frame parses");
            let payload = headers.payload.slice();
            let Some(NetHeaders::Ipv4(ip, _)) = &headers.net else {
                panic!("not IPv4")
            };
            assert_eq!(ip.header_checksum, ip.calc_header_checksum());
            assert_eq!(usize::from(ip.total_len) + 14, frame.len());
            let expected = if ip.source == pod {
                Direction::Outbound
            } else {
                Direction::Inbound
            };
            assert_eq!(direction, expected);
            assert!(ip.source == pod || ip.destination == pod);
            match headers.transport.as_ref().expect("a transport header") {
                TransportHeader::Tcp(h) => {
                    assert_eq!(h.checksum, h.calc_checksum_ipv4(ip, payload).unwrap());
                    assert!(payload.len() <= 1448);
                    tcp += 1;
                }
                TransportHeader::Udp(h) => {
                    assert_eq!(h.checksum, h.calc_checksum_ipv4(ip, payload).unwrap());
                    udp += 1;
                }
                TransportHeader::Icmpv4(h) => {
                    assert_eq!(h.checksum, h.icmp_type.calc_checksum(payload));
                    icmp += 1;
                }
                other => panic!("unexpected transport {other:?}"),
            }
        }
        assert!(
            tcp > 0 && udp > 0 && icmp > 0,
            "tcp={tcp} udp={udp} icmp={icmp}"
        );
    }

    #[test]
    fn pcapng_output_matches_the_generator() {
        let config = small(5, 2000);
        let mut out = Vec::new();
        let summary = write_pcapng(&config, &mut out).unwrap();
        let mut generator = Generator::new(&config);
        while generator.next_packet().is_some() {}
        assert_eq!(&summary, generator.summary());
        // Walk the blocks: a section header, one interface, then one EPB per frame.
        let frames = collect(&config);
        let mut types = Vec::new();
        let mut at = 0;
        while at < out.len() {
            let word = |o: usize| u32::from_le_bytes(out[at + o..at + o + 4].try_into().unwrap());
            types.push(word(0));
            if word(0) == 6 {
                let (_, direction, frame) = &frames[types.len() - 3];
                let len = word(20) as usize;
                assert_eq!(&out[at + 28..at + 28 + len], frame.as_slice());
                let flags = word(28 + len.next_multiple_of(4) + 4);
                assert_eq!(
                    flags,
                    if *direction == Direction::Inbound {
                        1
                    } else {
                        2
                    }
                );
            }
            at += word(4) as usize;
        }
        assert_eq!(at, out.len());
        assert_eq!(&types[..2], &[0x0A0D_0D0A, 1]);
        assert!(types[2..].iter().all(|&t| t == 6));
        assert_eq!(types.len() as u64 - 2, summary.packets);
        assert!(summary.http_requests > 0 && summary.tcp_connections > 0);
        assert!(summary.http_responses <= summary.http_requests);
    }
}
