//! A tiny classic BPF assembler: forward jumps to labels, resolved once the
//! program is complete, with every offset checked against the `u8` fields.

use super::SockFilter;

// Opcode parts from linux/bpf_common.h and linux/filter.h.
const BPF_LD: u16 = 0x00;
const BPF_ALU: u16 = 0x04;
const BPF_JMP: u16 = 0x05;
const BPF_RET: u16 = 0x06;
const BPF_MISC: u16 = 0x07;
const BPF_ABS: u16 = 0x20;
const BPF_IND: u16 = 0x40;
const BPF_AND: u16 = 0x50;
const BPF_LSH: u16 = 0x60;
const BPF_JEQ: u16 = 0x10;
const BPF_JSET: u16 = 0x40;
const BPF_K: u16 = 0x00;
const BPF_TAX: u16 = 0x00;

/// `k` of the ancillary load of `skb->protocol` (`SKF_AD_OFF + SKF_AD_PROTOCOL`).
const SKF_AD_PROTOCOL: u32 = (-0x1000_i32) as u32;
/// Base of loads relative to the network header (`SKF_NET_OFF`).
const SKF_NET_OFF: i32 = -0x10_0000;
/// The kernel refuses longer programs (`BPF_MAXINSNS`).
pub(super) const MAX_INSNS: usize = 4096;

/// Width of a load.
#[derive(Debug, Clone, Copy)]
pub(super) enum Size {
    /// 32 bits (`BPF_W`).
    Word = 0x00,
    /// 16 bits (`BPF_H`).
    Half = 0x08,
    /// 8 bits (`BPF_B`).
    Byte = 0x10,
}

/// A place in the program a jump can go to, bound with [`Asm::bind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Label(usize);

/// One instruction whose jump targets may not be known yet.
#[derive(Debug)]
struct Pending {
    insn: SockFilter,
    jt: Option<Label>,
    jf: Option<Label>,
}

/// A program under construction.
#[derive(Debug, Default)]
pub(super) struct Asm {
    insns: Vec<Pending>,
    /// Instruction index each label points at, once bound.
    labels: Vec<Option<usize>>,
}

impl Asm {
    /// A new label, to be bound later.
    pub(super) fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    /// Points `label` at the next instruction emitted.
    pub(super) fn bind(&mut self, label: Label) {
        self.labels[label.0] = Some(self.insns.len());
    }

    fn push(&mut self, code: u16, k: u32, jt: Option<Label>, jf: Option<Label>) {
        let insn = SockFilter {
            code,
            jt: 0,
            jf: 0,
            k,
        };
        self.insns.push(Pending { insn, jt, jf });
    }

    /// `A = skb->protocol` (the EtherType, e.g. 0x0800), whatever the link layer.
    pub(super) fn ld_protocol(&mut self) {
        self.push(
            BPF_LD | Size::Half as u16 | BPF_ABS,
            SKF_AD_PROTOCOL,
            None,
            None,
        );
    }

    /// `A = net[off]`, relative to the network header.
    pub(super) fn ld_net(&mut self, size: Size, off: u32) {
        self.push(BPF_LD | size as u16 | BPF_ABS, net_k(off), None, None);
    }

    /// `A = net[X + off]`: the kernel adds `X` to `k` and then treats the sum
    /// like an absolute `SKF_NET_OFF` offset.
    pub(super) fn ld_net_ind(&mut self, size: Size, off: u32) {
        self.push(BPF_LD | size as u16 | BPF_IND, net_k(off), None, None);
    }

    /// `A &= k`.
    pub(super) fn and(&mut self, k: u32) {
        self.push(BPF_ALU | BPF_AND | BPF_K, k, None, None);
    }

    /// `A <<= k`.
    pub(super) fn lsh(&mut self, k: u32) {
        self.push(BPF_ALU | BPF_LSH | BPF_K, k, None, None);
    }

    /// `X = A`.
    pub(super) fn tax(&mut self) {
        self.push(BPF_MISC | BPF_TAX, 0, None, None);
    }

    /// `if A == k goto jt else goto jf`; `None` falls through.
    pub(super) fn jeq(&mut self, k: u32, jt: Option<Label>, jf: Option<Label>) {
        self.push(BPF_JMP | BPF_JEQ | BPF_K, k, jt, jf);
    }

    /// `if A & k != 0 goto jt else goto jf`; `None` falls through.
    pub(super) fn jset(&mut self, k: u32, jt: Option<Label>, jf: Option<Label>) {
        self.push(BPF_JMP | BPF_JSET | BPF_K, k, jt, jf);
    }

    /// `return k`: the number of bytes to keep.
    pub(super) fn ret(&mut self, k: u32) {
        self.push(BPF_RET | BPF_K, k, None, None);
    }

    /// Number of instructions so far.
    pub(super) fn len(&self) -> usize {
        self.insns.len()
    }

    /// Resolves the jumps; fails (rather than wrapping) when an offset does
    /// not fit in a `u8` or a label was never bound, points backwards or past the end.
    pub(super) fn finish(self) -> Result<Vec<SockFilter>, String> {
        let len = self.insns.len();
        let resolve = |at: usize, label: Option<Label>| -> Result<u8, String> {
            let Some(label) = label else { return Ok(0) };
            let target = self.labels[label.0]
                .ok_or_else(|| format!("internal error: jump at {at} to an unbound label"))?;
            if target >= len {
                return Err(format!("internal error: jump at {at} past the end"));
            }
            target
                .checked_sub(at + 1)
                .and_then(|off| u8::try_from(off).ok())
                .ok_or_else(|| format!("internal error: jump at {at} to {target} does not fit"))
        };
        let mut out = Vec::with_capacity(self.insns.len());
        for (at, pending) in self.insns.iter().enumerate() {
            let mut insn = pending.insn;
            insn.jt = resolve(at, pending.jt)?;
            insn.jf = resolve(at, pending.jf)?;
            out.push(insn);
        }
        Ok(out)
    }
}

/// `k` for a load at `off` bytes into the network header.
fn net_k(off: u32) -> u32 {
    (SKF_NET_OFF as u32).wrapping_add(off)
}
