//! A classic BPF interpreter for the opcodes the compiler emits, with the
//! kernel's semantics for an AF_PACKET socket filter: the packet is known by
//! its EtherType (`skb->protocol`) and its bytes from the network header on.
//!
//! Written from linux/filter.h and net/core/filter.c, not from the compiler:
//! an opcode or load it does not model panics, so a test notices.

use crate::bpf::SockFilter;

const SKF_AD_OFF: i32 = -0x1000;
const SKF_AD_PROTOCOL: i32 = 0;
const SKF_NET_OFF: i32 = -0x10_0000;

/// Runs `prog` on a packet; returns the program's return value (bytes kept).
pub(super) fn run(prog: &[SockFilter], ethertype: u16, net: &[u8]) -> u32 {
    let mut a: u32 = 0;
    let mut x: u32 = 0;
    let mut pc = 0usize;
    loop {
        let insn = prog
            .get(pc)
            .unwrap_or_else(|| panic!("pc {pc} ran past the end of a {}-insn program", prog.len()));
        pc += 1;
        let k = insn.k;
        match insn.code {
            // ld{,h,b} [k]
            0x20 | 0x28 | 0x30 => {
                let k = k.cast_signed();
                if k == SKF_AD_OFF + SKF_AD_PROTOCOL {
                    // The kernel ignores the size for ancillary loads.
                    a = u32::from(ethertype);
                } else {
                    match load(net, insn.code, k) {
                        Some(v) => a = v,
                        None => return 0,
                    }
                }
            }
            // ld{,h,b} [x + k]
            0x40 | 0x48 | 0x50 => match load(net, insn.code, x.wrapping_add(k).cast_signed()) {
                Some(v) => a = v,
                None => return 0,
            },
            0x54 => a &= k,                // and #k
            0x64 => a = a.wrapping_shl(k), // lsh #k
            0x07 => x = a,                 // tax
            0x15 | 0x45 => {
                // jeq #k / jset #k
                let taken = if insn.code == 0x15 {
                    a == k
                } else {
                    a & k != 0
                };
                pc += usize::from(if taken { insn.jt } else { insn.jf });
            }
            0x06 => return k, // ret #k
            code => panic!("opcode {code:#x} at {} is not modelled", pc - 1),
        }
    }
}

/// A big-endian load of the size in `code` at offset `k`, which must be
/// relative to the network header like `bpf_internal_load_pointer_neg_helper`
/// takes it; `None` when out of the packet (the kernel then returns 0).
fn load(net: &[u8], code: u16, k: i32) -> Option<u32> {
    assert!(
        (SKF_NET_OFF..SKF_AD_OFF).contains(&k),
        "load at {k:#x} is not relative to the network header"
    );
    let off = usize::try_from(k - SKF_NET_OFF).ok()?;
    let size = match code & 0x18 {
        0x00 => 4,
        0x08 => 2,
        0x10 => 1,
        _ => unreachable!(),
    };
    let bytes = net.get(off..off.checked_add(size)?)?;
    Some(bytes.iter().fold(0, |v, &b| (v << 8) | u32::from(b)))
}
