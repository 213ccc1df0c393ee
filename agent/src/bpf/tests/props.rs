//! Property tests: compiled programs agree with the reference semantics on
//! random specs and packets, and are well formed.

use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use super::packet::{self, Packet, Transport};
use super::{SNAPLEN, interp};
use crate::bpf::{SockFilter, compile};
use podtap::wire::agent::{FilterProto, FilterRule, FilterSpec};

// Small pools so that random rules and packets often meet.
const V4_POOL: [[u8; 4]; 5] = [
    [10, 0, 0, 1],
    [10, 0, 1, 2],
    [10, 1, 2, 3],
    [192, 168, 1, 1],
    [10, 0, 0, 2],
];
const V6_POOL: [&str; 6] = [
    "fd00::1",
    "fd00::2",
    "fd00:0:0:1::1",
    "fd00::1:0:0:1",
    "2001:db8::1",
    "fd00::1000:1",
];
const PORTS: [u16; 5] = [53, 80, 443, 8080, 0x86dd];

fn v4_addr() -> impl Strategy<Value = Ipv4Addr> {
    prop_oneof![
        4 => prop::sample::select(&V4_POOL[..]).prop_map(Ipv4Addr::from),
        1 => any::<u32>().prop_map(Ipv4Addr::from_bits),
    ]
}

fn v6_addr() -> impl Strategy<Value = Ipv6Addr> {
    prop_oneof![
        4 => prop::sample::select(&V6_POOL[..]).prop_map(|a| a.parse().unwrap()),
        1 => any::<u128>().prop_map(Ipv6Addr::from_bits),
    ]
}

fn port() -> impl Strategy<Value = u16> {
    prop_oneof![4 => prop::sample::select(&PORTS[..]), 1 => any::<u16>()]
}

fn transport() -> impl Strategy<Value = Transport> {
    prop_oneof![
        (port(), port()).prop_map(|(s, d)| Transport::Tcp(s, d)),
        (port(), port()).prop_map(|(s, d)| Transport::Udp(s, d)),
        Just(Transport::Icmp),
        prop::sample::select(&[47u8, 132, 1, 58][..]).prop_map(Transport::Other),
    ]
}

fn packet() -> impl Strategy<Value = Packet> {
    prop_oneof![
        4 => (v4_addr(), v4_addr(), 0..=10u8, prop_oneof![3 => Just(0u16), 1 => 1..=0x1fffu16], any::<bool>(), transport())
            .prop_map(|(src, dst, options, frag_offset, more_fragments, transport)| Packet::V4 {
                src, dst, options, frag_offset, more_fragments, transport,
            }),
        4 => (v6_addr(), v6_addr(), prop::bool::weighted(0.2), transport())
            .prop_map(|(src, dst, hop_by_hop, transport)| Packet::V6 { src, dst, hop_by_hop, transport }),
        1 => (v4_addr(), v4_addr()).prop_map(|(sender, target)| Packet::Arp { sender, target }),
    ]
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (v4_addr(), 0..=32u32, any::<bool>())
            .prop_map(|(a, p, bare)| if bare { a.to_string() } else { format!("{a}/{p}") }),
        4 => (v6_addr(), 0..=128u32, any::<bool>())
            .prop_map(|(a, p, bare)| if bare { a.to_string() } else { format!("{a}/{p}") }),
        // Now and then something invalid.
        1 => prop::sample::select(&["10.0.0.256", "10.0.0.0/33", "fd00::/129", "x", "10.0.0.1/-1"][..])
            .prop_map(str::to_owned),
    ]
}

fn rule() -> impl Strategy<Value = FilterRule> {
    let proto = prop::option::of(prop::sample::select(
        &[FilterProto::Tcp, FilterProto::Udp, FilterProto::Icmp][..],
    ));
    (proto, prop::option::of(host()), prop::option::of(port()))
        .prop_map(|(proto, host, port)| FilterRule { proto, host, port })
}

fn spec() -> impl Strategy<Value = FilterSpec> {
    (
        prop::collection::vec(rule(), 0..4),
        prop::collection::vec(rule(), 0..4),
    )
        .prop_map(|(include, exclude)| FilterSpec { include, exclude })
}

/// Every jump lands inside the program and the last instruction is a `ret`,
/// so no path runs off the end (jumps only go forward).
fn well_formed(prog: &[SockFilter]) -> Result<(), TestCaseError> {
    const BPF_JMP: u16 = 0x05;
    const BPF_RET: u16 = 0x06;
    prop_assert!(!prog.is_empty() && prog.len() <= 4096);
    prop_assert_eq!(prog.last().unwrap().code & 0x07, BPF_RET);
    for (i, insn) in prog.iter().enumerate() {
        if insn.code & 0x07 == BPF_JMP {
            let furthest = i + 1 + usize::from(insn.jt.max(insn.jf));
            prop_assert!(
                furthest < prog.len(),
                "jump at {} to {} in {}",
                i,
                furthest,
                prog.len()
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn compiled_programs_follow_the_reference(spec in spec(), packets in prop::collection::vec(packet(), 1..8)) {
        match compile(&spec, SNAPLEN) {
            Err(e) => prop_assert!(packet::invalid(&spec), "valid spec refused: {}", e),
            Ok(prog) => {
                prop_assert!(!packet::invalid(&spec), "invalid spec accepted");
                well_formed(&prog)?;
                for p in &packets {
                    let (ethertype, bytes) = p.bytes();
                    let want = if packet::keeps(&spec, p) { SNAPLEN } else { 0 };
                    prop_assert_eq!(interp::run(&prog, ethertype, &bytes), want, "packet {:?}", p);
                }
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_trip_the_interpreter(spec in spec(), ethertype in prop::sample::select(&[0x0800u16, 0x86dd, 0x0806, 0x8100][..]), bytes in prop::collection::vec(any::<u8>(), 0..80)) {
        // Any packet, however short or malformed, ends in one of the two verdicts.
        if let Ok(prog) = compile(&spec, SNAPLEN) {
            let got = interp::run(&prog, ethertype, &bytes);
            prop_assert!(got == 0 || got == SNAPLEN);
        }
    }
}
