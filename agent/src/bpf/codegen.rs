//! One rule, one block: the code that tests a packet against a rule and
//! returns a verdict when it matches.
//!
//! A block jumps only inside itself or to its own end (the next rule), so
//! offsets stay small however many rules there are, and blocks can simply be
//! laid one after another.

use super::asm::{Asm, Label, Size};
use super::host::{Cidr, Family};
use podtap::wire::agent::FilterProto;

const ETH_P_IP: u32 = 0x0800;
const ETH_P_IPV6: u32 = 0x86dd;
const IPPROTO_TCP: u32 = 6;
const IPPROTO_UDP: u32 = 17;
const IPPROTO_ICMP: u32 = 1;
const IPPROTO_ICMPV6: u32 = 58;

/// Where the fields a rule looks at sit in one IP version's header.
struct Layout {
    ethertype: u32,
    /// Offset of the protocol (IPv4) or next header (IPv6) byte.
    proto: u32,
    /// ICMP's protocol number in this version.
    icmp: u32,
    /// Offsets of the source and destination addresses.
    addrs: [u32; 2],
}

const V4: Layout = Layout {
    ethertype: ETH_P_IP,
    proto: 9,
    icmp: IPPROTO_ICMP,
    addrs: [12, 16],
};

const V6: Layout = Layout {
    ethertype: ETH_P_IPV6,
    proto: 6,
    icmp: IPPROTO_ICMPV6,
    addrs: [8, 24],
};

/// IPv4 flags and fragment offset, and the bits of the offset alone.
const V4_FRAG: u32 = 6;
const V4_FRAG_OFFSET_MASK: u32 = 0x1fff;
/// IPv6's fixed header length: ports follow it when there is no extension header.
const V6_HEADER_LEN: u32 = 40;

/// A validated rule.
#[derive(Debug)]
pub(super) struct Rule {
    pub(super) proto: Option<FilterProto>,
    pub(super) host: Option<Cidr>,
    pub(super) port: Option<u16>,
}

/// Emits the block for `rule`: `ret verdict` when the packet matches, on to
/// the next instruction after the block otherwise.
pub(super) fn emit_rule(asm: &mut Asm, rule: &Rule, verdict: u32) {
    let next = asm.label();
    let family = rule.host.as_ref().map(|h| h.family);
    asm.ld_protocol();
    match family {
        Some(Family::V4) => emit_family(asm, rule, &V4, next, next, verdict),
        Some(Family::V6) => emit_family(asm, rule, &V6, next, next, verdict),
        None => {
            // Without a host the rule applies to both versions. Only the
            // EtherType test goes on to the IPv6 part, where A still holds the
            // EtherType; any later IPv4 test leaves A holding packet bytes
            // (a port could be 0x86dd) and goes straight to the next rule.
            let v6 = asm.label();
            emit_family(asm, rule, &V4, v6, next, verdict);
            asm.bind(v6);
            emit_family(asm, rule, &V6, next, next, verdict);
        }
    }
    asm.bind(next);
}

/// The tests for one IP version, with A holding the EtherType on entry: a
/// packet of another version goes to `other`, any other failed test to `fail`.
fn emit_family(
    asm: &mut Asm,
    rule: &Rule,
    layout: &Layout,
    other: Label,
    fail: Label,
    verdict: u32,
) {
    asm.jeq(layout.ethertype, None, Some(other));
    if rule.proto.is_some() || rule.port.is_some() {
        asm.ld_net(Size::Byte, layout.proto);
        match rule.proto {
            Some(FilterProto::Tcp) => asm.jeq(IPPROTO_TCP, None, Some(fail)),
            Some(FilterProto::Udp) => asm.jeq(IPPROTO_UDP, None, Some(fail)),
            Some(FilterProto::Icmp) => asm.jeq(layout.icmp, None, Some(fail)),
            // A port alone means a TCP or UDP port.
            None => {
                let ported = asm.label();
                asm.jeq(IPPROTO_TCP, Some(ported), None);
                asm.jeq(IPPROTO_UDP, None, Some(fail));
                asm.bind(ported);
            }
        }
    }
    if let Some(host) = &rule.host {
        emit_host(asm, host, layout, fail);
    }
    if let Some(port) = rule.port {
        if layout.ethertype == ETH_P_IP {
            // Only the first fragment carries the ports; later ones would
            // have payload bytes read as ports.
            asm.ld_net(Size::Half, V4_FRAG);
            asm.jset(V4_FRAG_OFFSET_MASK, Some(fail), None);
            // X = IHL * 4. `ldxb 4*([k]&0xf)` cannot take an SKF_NET_OFF
            // offset on every kernel, so compute it with ALU instructions.
            asm.ld_net(Size::Byte, 0);
            asm.and(0x0f);
            asm.lsh(2);
            asm.tax();
            emit_ports(asm, port, 0, true, fail);
        } else {
            emit_ports(asm, port, V6_HEADER_LEN, false, fail);
        }
    }
    asm.ret(verdict);
}

/// Source or destination address inside `host`: the source's words are
/// compared first, and any mismatch there moves on to the destination's.
fn emit_host(asm: &mut Asm, host: &Cidr, layout: &Layout, fail: Label) {
    let words: Vec<(u32, u32)> = host.words().collect();
    if words.is_empty() {
        // A /0 matches every address of its family: the EtherType test did it.
        return;
    }
    let hit = asm.label();
    let try_dst = asm.label();
    for (side, &base) in layout.addrs.iter().enumerate() {
        let miss = if side == 0 { try_dst } else { fail };
        for (i, &(word, mask)) in words.iter().enumerate() {
            asm.ld_net(Size::Word, base + 4 * i as u32);
            if mask != u32::MAX {
                asm.and(mask);
            }
            let last = i + 1 == words.len();
            // The source's last word jumps over the destination's tests; the
            // destination's falls through to `hit`, right after them.
            let on_match = (last && side == 0).then_some(hit);
            asm.jeq(word, on_match, Some(miss));
        }
        if side == 0 {
            asm.bind(try_dst);
        }
    }
    asm.bind(hit);
}

/// Source port at `off`, destination port at `off + 2`, indexed by X when `ind`.
fn emit_ports(asm: &mut Asm, port: u16, off: u32, ind: bool, fail: Label) {
    let hit = asm.label();
    let load = |asm: &mut Asm, off| {
        if ind {
            asm.ld_net_ind(Size::Half, off);
        } else {
            asm.ld_net(Size::Half, off);
        }
    };
    load(asm, off);
    asm.jeq(u32::from(port), Some(hit), None);
    load(asm, off + 2);
    asm.jeq(u32::from(port), None, Some(fail));
    asm.bind(hit);
}
