//! Compiler tests: programs run in a test interpreter against packets built
//! with etherparse, checked against hand-written expectations and, in
//! `props`, against a reference implementation of the filter semantics.

mod interp;
mod packet;
mod props;

use super::{SockFilter, compile};
use packet::{Packet, Transport, tcp4, v4, v6};
use podtap::wire::agent::{FilterProto, FilterRule, FilterSpec};

const SNAPLEN: u32 = 1234;

fn rule(proto: Option<FilterProto>, host: Option<&str>, port: Option<u16>) -> FilterRule {
    FilterRule {
        proto,
        host: host.map(str::to_owned),
        port,
    }
}

fn host(h: &str) -> FilterRule {
    rule(None, Some(h), None)
}

fn port(p: u16) -> FilterRule {
    rule(None, None, Some(p))
}

fn proto(p: FilterProto) -> FilterRule {
    rule(Some(p), None, None)
}

fn include(rules: Vec<FilterRule>) -> FilterSpec {
    FilterSpec {
        include: rules,
        exclude: vec![],
    }
}

fn exclude(rules: Vec<FilterRule>) -> FilterSpec {
    FilterSpec {
        include: vec![],
        exclude: rules,
    }
}

/// The program's return value for `packet`.
fn verdict(prog: &[SockFilter], packet: &Packet) -> u32 {
    let (ethertype, bytes) = packet.bytes();
    interp::run(prog, ethertype, &bytes)
}

fn keeps(spec: &FilterSpec, packet: &Packet) -> bool {
    let prog = compile(spec, SNAPLEN).unwrap();
    match verdict(&prog, packet) {
        0 => false,
        SNAPLEN => true,
        other => panic!("the program returned {other}, neither 0 nor the snap length"),
    }
}

use FilterProto::{Icmp, Tcp, Udp};

fn udp4(src: &str, sp: u16, dst: &str, dp: u16) -> Packet {
    v4(src, dst, Transport::Udp(sp, dp))
}

fn with_options(mut packet: Packet, words: u8) -> Packet {
    let Packet::V4 { options, .. } = &mut packet else {
        unreachable!()
    };
    *options = words;
    packet
}

fn fragment(mut packet: Packet, offset: u16, more: bool) -> Packet {
    let Packet::V4 {
        frag_offset,
        more_fragments,
        ..
    } = &mut packet
    else {
        unreachable!()
    };
    *frag_offset = offset;
    *more_fragments = more;
    packet
}

fn with_hop_by_hop(mut packet: Packet) -> Packet {
    let Packet::V6 { hop_by_hop, .. } = &mut packet else {
        unreachable!()
    };
    *hop_by_hop = true;
    packet
}

fn arp(sender: &str, target: &str) -> Packet {
    Packet::Arp {
        sender: sender.parse().unwrap(),
        target: target.parse().unwrap(),
    }
}

#[test]
fn empty_spec_keeps_everything_with_the_snaplen() {
    let prog = compile(&FilterSpec::default(), SNAPLEN).unwrap();
    for packet in [
        tcp4("10.0.0.1", 1, "10.0.0.2", 2),
        v6("fd00::1", "fd00::2", Transport::Icmp),
        arp("10.0.0.1", "10.0.0.2"),
    ] {
        assert_eq!(verdict(&prog, &packet), SNAPLEN, "{packet:?}");
    }
    // An empty packet too: the program must not load anything.
    assert_eq!(interp::run(&prog, 0x0800, &[]), SNAPLEN);
    assert_eq!(compile(&FilterSpec::default(), 96).unwrap().len(), 1);
}

#[test]
fn table() {
    let tcp6 = |s, sp, d, dp| v6(s, d, Transport::Tcp(sp, dp));
    let udp6 = |s, sp, d, dp| v6(s, d, Transport::Udp(sp, dp));
    #[rustfmt::skip]
    let cases: Vec<(&str, FilterSpec, Packet, bool)> = vec![
        // proto
        ("tcp keeps v4 tcp", include(vec![proto(Tcp)]), tcp4("10.0.0.1", 1000, "10.0.0.2", 80), true),
        ("tcp drops v4 udp", include(vec![proto(Tcp)]), udp4("10.0.0.1", 1000, "10.0.0.2", 80), false),
        ("udp keeps v6 udp", include(vec![proto(Udp)]), udp6("fd00::1", 53, "fd00::2", 999), true),
        ("tcp keeps v6 tcp", include(vec![proto(Tcp)]), tcp6("fd00::1", 1, "fd00::2", 2), true),
        ("icmp keeps icmpv4", include(vec![proto(Icmp)]), v4("10.0.0.1", "10.0.0.2", Transport::Icmp), true),
        ("icmp keeps icmpv6", include(vec![proto(Icmp)]), v6("fd00::1", "fd00::2", Transport::Icmp), true),
        ("icmp drops v4 tcp", include(vec![proto(Icmp)]), tcp4("10.0.0.1", 1, "10.0.0.2", 2), false),
        ("icmp is 1 not 58 in v4", include(vec![proto(Icmp)]), v4("10.0.0.1", "10.0.0.2", Transport::Other(58)), false),
        ("icmp is 58 not 1 in v6", include(vec![proto(Icmp)]), v6("fd00::1", "fd00::2", Transport::Other(1)), false),
        ("exclude udp keeps tcp", exclude(vec![proto(Udp)]), tcp4("10.0.0.1", 1, "10.0.0.2", 2), true),
        ("exclude udp drops udp", exclude(vec![proto(Udp)]), udp4("10.0.0.1", 1, "10.0.0.2", 2), false),
        ("tcp drops gre", include(vec![proto(Tcp)]), v4("10.0.0.1", "10.0.0.2", Transport::Other(47)), false),
        // v4 hosts
        ("host exact src", include(vec![host("10.0.0.1")]), tcp4("10.0.0.1", 1, "10.9.9.9", 2), true),
        ("host exact dst", include(vec![host("10.0.0.1")]), tcp4("10.9.9.9", 1, "10.0.0.1", 2), true),
        ("host exact miss", include(vec![host("10.0.0.1")]), tcp4("10.0.0.2", 1, "10.0.0.3", 2), false),
        ("host /32", include(vec![host("10.0.0.1/32")]), tcp4("10.0.0.2", 1, "10.0.0.1", 2), true),
        ("host /32 miss", include(vec![host("10.0.0.1/32")]), tcp4("10.0.0.2", 1, "10.0.0.0", 2), false),
        ("host /24", include(vec![host("192.168.7.0/24")]), tcp4("192.168.7.200", 1, "1.1.1.1", 2), true),
        ("host /24 miss", include(vec![host("192.168.7.0/24")]), tcp4("192.168.8.1", 1, "1.1.1.1", 2), false),
        ("host /16", include(vec![host("10.244.0.0/16")]), tcp4("1.1.1.1", 1, "10.244.255.3", 2), true),
        ("host /16 miss", include(vec![host("10.244.0.0/16")]), tcp4("1.1.1.1", 1, "10.245.0.3", 2), false),
        ("host /16 with host bits", include(vec![host("10.244.9.9/16")]), tcp4("1.1.1.1", 1, "10.244.0.3", 2), true),
        ("host /8", include(vec![host("10.0.0.0/8")]), udp4("10.200.1.1", 1, "8.8.8.8", 53), true),
        ("host /8 miss", include(vec![host("10.0.0.0/8")]), udp4("11.0.0.1", 1, "8.8.8.8", 53), false),
        ("host /0 keeps any v4", include(vec![host("0.0.0.0/0")]), udp4("1.2.3.4", 1, "5.6.7.8", 53), true),
        ("host v4 /0 drops v6", include(vec![host("0.0.0.0/0")]), udp6("fd00::1", 1, "fd00::2", 53), false),
        ("host v4 drops v6", include(vec![host("10.0.0.1")]), udp6("::ffff:10.0.0.1", 1, "fd00::2", 53), false),
        // v6 hosts
        ("v6 host exact", include(vec![host("fd00::1")]), tcp6("fd00::2", 1, "fd00::1", 2), true),
        ("v6 host exact miss", include(vec![host("fd00::1")]), tcp6("fd00::2", 1, "fd01::1", 2), false),
        ("v6 /128", include(vec![host("fd00::1/128")]), tcp6("fd00::1", 1, "fd00::2", 2), true),
        ("v6 /128 miss in last word", include(vec![host("fd00::1/128")]), tcp6("fd00::3", 1, "fd00::2", 2), false),
        ("v6 /64", include(vec![host("fd00:1:2:3::/64")]), tcp6("fd00:1:2:3:ffff::9", 1, "fd00::2", 2), true),
        ("v6 /64 miss", include(vec![host("fd00:1:2:3::/64")]), tcp6("fd00:1:2:4::9", 1, "fd00::2", 2), false),
        // /100 keeps the top 4 bits of the fourth word.
        ("v6 /100", include(vec![host("fd00::1:0:1000:0/100")]), tcp6("fd00::2", 1, "fd00::1:0:1fff:ffff", 2), true),
        ("v6 /100 miss", include(vec![host("fd00::1:0:1000:0/100")]), tcp6("fd00::2", 1, "fd00::1:0:2000:0", 2), false),
        ("v6 /0 keeps any v6", include(vec![host("::/0")]), v6("2001:db8::1", "fd00::2", Transport::Icmp), true),
        ("v6 host drops v4", include(vec![host("::/0")]), tcp4("10.0.0.1", 1, "10.0.0.2", 2), false),
        ("v6 host on hop-by-hop", include(vec![host("fd00::1")]), with_hop_by_hop(tcp6("fd00::1", 1, "fd00::2", 2)), true),
        // ports
        ("port src", include(vec![port(443)]), tcp4("10.0.0.1", 443, "10.0.0.2", 50000), true),
        ("port dst", include(vec![port(443)]), tcp4("10.0.0.1", 50000, "10.0.0.2", 443), true),
        ("port miss", include(vec![port(443)]), tcp4("10.0.0.1", 50000, "10.0.0.2", 80), false),
        ("port udp", include(vec![port(53)]), udp4("10.0.0.1", 40000, "10.0.0.10", 53), true),
        ("port v6 tcp", include(vec![port(8080)]), tcp6("fd00::1", 8080, "fd00::2", 1), true),
        ("port v6 udp dst", include(vec![port(53)]), udp6("fd00::1", 9, "fd00::2", 53), true),
        ("port v6 miss", include(vec![port(53)]), udp6("fd00::1", 9, "fd00::2", 54), false),
        ("port drops icmp", include(vec![port(80)]), v4("10.0.0.1", "10.0.0.2", Transport::Icmp), false),
        // Other(_)'s payload starts with 80 and 443, where ports would be.
        ("port drops gre", include(vec![port(80)]), v4("10.0.0.1", "10.0.0.2", Transport::Other(47)), false),
        ("port with ip options", include(vec![port(80)]), with_options(tcp4("10.0.0.1", 1, "10.0.0.2", 80), 3), true),
        ("port with ip options miss", include(vec![port(80)]), with_options(tcp4("10.0.0.1", 1, "10.0.0.2", 81), 10), false),
        ("port on v6 hop-by-hop", include(vec![port(80)]), with_hop_by_hop(tcp6("fd00::1", 80, "fd00::2", 80)), false),
        ("proto on v6 hop-by-hop", include(vec![proto(Tcp)]), with_hop_by_hop(tcp6("fd00::1", 80, "fd00::2", 80)), false),
        // A failed IPv4 port test leaves the port, here 0x86dd (the IPv6
        // EtherType), in A: it must not run the rule's IPv6 tests.
        ("v4 port 0x86dd is no v6", include(vec![port(80)]), udp4("10.0.0.1", 1, "10.0.0.2", 0x86dd), false),
        // fragments
        ("first fragment has ports", include(vec![port(80)]), fragment(tcp4("10.0.0.1", 1, "10.0.0.2", 80), 0, true), true),
        ("later fragment has none", include(vec![port(80)]), fragment(tcp4("10.0.0.1", 1, "10.0.0.2", 80), 185, false), false),
        ("later fragment, middle", include(vec![port(80)]), fragment(tcp4("10.0.0.1", 1, "10.0.0.2", 80), 1, true), false),
        ("later fragment, exclude port", exclude(vec![port(80)]), fragment(tcp4("10.0.0.1", 1, "10.0.0.2", 80), 185, false), true),
        ("later fragment keeps proto", include(vec![proto(Tcp)]), fragment(tcp4("10.0.0.1", 1, "10.0.0.2", 80), 185, false), true),
        ("later fragment keeps host", include(vec![host("10.0.0.2")]), fragment(tcp4("10.0.0.1", 1, "10.0.0.2", 80), 185, false), true),
        // combined fields
        ("tcp+port", include(vec![rule(Some(Tcp), None, Some(53))]), tcp4("10.0.0.1", 1, "10.0.0.2", 53), true),
        ("tcp+port udp miss", include(vec![rule(Some(Tcp), None, Some(53))]), udp4("10.0.0.1", 1, "10.0.0.2", 53), false),
        ("host+port", include(vec![rule(None, Some("10.0.0.0/24"), Some(80))]), tcp4("10.0.0.9", 80, "1.1.1.1", 2), true),
        ("host+port host miss", include(vec![rule(None, Some("10.0.0.0/24"), Some(80))]), tcp4("10.0.1.9", 80, "1.1.1.1", 2), false),
        ("host+port port miss", include(vec![rule(None, Some("10.0.0.0/24"), Some(80))]), tcp4("10.0.0.9", 81, "1.1.1.1", 2), false),
        ("all three v6", include(vec![rule(Some(Udp), Some("fd00::/8"), Some(53))]), udp6("fd12::1", 53, "2001:db8::1", 9), true),
        ("all three v6 proto miss", include(vec![rule(Some(Udp), Some("fd00::/8"), Some(53))]), tcp6("fd12::1", 53, "2001:db8::1", 9), false),
        // several includes: any of them
        ("or first", include(vec![port(80), host("fd00::1")]), tcp4("10.0.0.1", 80, "10.0.0.2", 2), true),
        ("or second", include(vec![port(80), host("fd00::1")]), tcp6("fd00::1", 1, "fd00::2", 2), true),
        ("or none", include(vec![port(80), host("fd00::1")]), tcp6("fd00::3", 1, "fd00::2", 2), false),
        // excludes win
        ("exclude wins", FilterSpec { include: vec![proto(Tcp)], exclude: vec![port(22)], }, tcp4("10.0.0.1", 22, "10.0.0.2", 5000), false),
        ("include without exclude", FilterSpec { include: vec![proto(Tcp)], exclude: vec![port(22)], }, tcp4("10.0.0.1", 23, "10.0.0.2", 5000), true),
        ("neither", FilterSpec { include: vec![proto(Tcp)], exclude: vec![port(22)], }, udp4("10.0.0.1", 23, "10.0.0.2", 5000), false),
        // ARP matches no rule
        ("arp include host", include(vec![host("10.0.0.1")]), arp("10.0.0.1", "10.0.0.2"), false),
        ("arp include /0", include(vec![host("0.0.0.0/0")]), arp("10.0.0.1", "10.0.0.2"), false),
        ("arp exclude host", exclude(vec![host("10.0.0.1")]), arp("10.0.0.1", "10.0.0.2"), true),
        ("arp exclude tcp", exclude(vec![proto(Tcp)]), arp("10.0.0.1", "10.0.0.2"), true),
    ];
    let mut failed = vec![];
    for (name, spec, packet, want) in &cases {
        let got = keeps(spec, packet);
        if got != *want {
            failed.push(format!("{name}: want {want}, got {got}"));
        }
        // The hand-written expectations and the reference must agree too.
        assert_eq!(
            packet::keeps(spec, packet),
            *want,
            "reference disagrees on {name}"
        );
    }
    assert!(failed.is_empty(), "failed cases:\n{}", failed.join("\n"));
}

#[test]
fn truncated_packets_are_dropped_like_the_kernel_does() {
    // A load past the end ends the program with 0, even for an exclude-only filter.
    let spec = exclude(vec![port(80)]);
    let (ethertype, bytes) = tcp4("10.0.0.1", 1, "10.0.0.2", 2).bytes();
    let prog = compile(&spec, SNAPLEN).unwrap();
    assert_eq!(interp::run(&prog, ethertype, &bytes), SNAPLEN);
    assert_eq!(interp::run(&prog, ethertype, &bytes[..21]), 0);
}

#[test]
fn errors_name_the_rule() {
    let cases: Vec<(FilterSpec, &str)> = vec![
        (
            exclude(vec![port(1), host("10.0.0.300")]),
            r#"exclude rule 2: host "10.0.0.300" is not an IP address or CIDR"#,
        ),
        (
            include(vec![host("10.0.0.0/33")]),
            r#"include rule 1: host "10.0.0.0/33" has a prefix of 33 bits, longer than the address's 32"#,
        ),
        (
            include(vec![host("fd00::/129")]),
            r#"include rule 1: host "fd00::/129" has a prefix of 129 bits, longer than the address's 128"#,
        ),
        (
            include(vec![host("10.0.0.0/")]),
            r#"include rule 1: host "10.0.0.0/" is not an IP address or CIDR"#,
        ),
        (
            include(vec![host("10.0.0.0/+8")]),
            r#"include rule 1: host "10.0.0.0/+8" is not an IP address or CIDR"#,
        ),
        (
            include(vec![host("pod.svc")]),
            r#"include rule 1: host "pod.svc" is not an IP address or CIDR"#,
        ),
        (
            include(vec![host("")]),
            r#"include rule 1: host "" is not an IP address or CIDR"#,
        ),
        (
            include(vec![proto(Tcp), rule(Some(Icmp), None, Some(7))]),
            "include rule 2: port 7 cannot be used with proto icmp, which has no ports",
        ),
        (
            FilterSpec {
                include: vec![proto(Tcp)],
                exclude: vec![port(1), FilterRule::default()],
            },
            "exclude rule 2 matches everything: set a proto, host or port",
        ),
    ];
    for (spec, want) in cases {
        assert_eq!(compile(&spec, SNAPLEN).unwrap_err(), want, "{spec:?}");
    }
    assert_eq!(
        compile(&FilterSpec::default(), 0).unwrap_err(),
        "a snap length of 0 would drop every packet"
    );
}

#[test]
fn many_rules_compile_without_long_jumps() {
    // Far more than 255 instructions: the last rule must still be reachable.
    let rules: Vec<FilterRule> = (1..=100u16)
        .map(|p| rule(Some(Tcp), None, Some(p)))
        .collect();
    let spec = include(rules);
    let prog = compile(&spec, SNAPLEN).unwrap();
    assert!(prog.len() > 1000, "{}", prog.len());
    assert_eq!(
        verdict(&prog, &tcp4("10.0.0.1", 100, "10.0.0.2", 5000)),
        SNAPLEN
    );
    assert_eq!(
        verdict(&prog, &v6("fd00::1", "fd00::2", Transport::Tcp(5000, 100))),
        SNAPLEN
    );
    assert_eq!(verdict(&prog, &tcp4("10.0.0.1", 101, "10.0.0.2", 5000)), 0);
}

#[test]
fn too_many_rules_is_an_error() {
    let rules: Vec<FilterRule> = (0..200u16)
        .map(|i| rule(None, Some(&format!("fd00::{i:x}")), Some(i + 1)))
        .collect();
    let err = compile(&exclude(rules), SNAPLEN).unwrap_err();
    assert!(
        err.starts_with("the filter is too large: its 200 rules need "),
        "{err}"
    );
    assert!(err.ends_with("the kernel takes at most 4096"), "{err}");
}

#[test]
fn test_packets_parse_back() {
    // The fixtures themselves: etherparse reads back the ports the filter looks for.
    use etherparse::{SlicedPacket, TransportSlice};
    for packet in [
        with_options(tcp4("10.0.0.1", 1, "10.0.0.2", 80), 10),
        with_hop_by_hop(v6("fd00::1", "fd00::2", Transport::Udp(5, 80))),
        v6("fd00::1", "fd00::2", Transport::Tcp(5, 80)),
    ] {
        let (_, bytes) = packet.bytes();
        let sliced = SlicedPacket::from_ip(&bytes).unwrap();
        let ports = match sliced.transport {
            Some(TransportSlice::Tcp(t)) => (t.source_port(), t.destination_port()),
            Some(TransportSlice::Udp(u)) => (u.source_port(), u.destination_port()),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            ports,
            (if let Packet::V4 { .. } = packet { 1 } else { 5 }, 80),
            "{packet:?}"
        );
    }
    let (_, bytes) = with_options(tcp4("10.0.0.1", 1, "10.0.0.2", 80), 10).bytes();
    assert_eq!(bytes[0], 0x4f, "IHL 15");
}
