//! Classic BPF programs compiled from a [`FilterSpec`](podtap::wire::agent::FilterSpec).

/// One classic BPF instruction (`struct sock_filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SockFilter {
    /// Opcode.
    pub code: u16,
    /// Jump offset if true.
    pub jt: u8,
    /// Jump offset if false.
    pub jf: u8,
    /// Generic field.
    pub k: u32,
}

use podtap::wire::agent::FilterSpec;

/// Compiles `spec` into a program that returns `snaplen` for packets to keep and 0 for the rest.
///
/// Loads are relative to the network header (`SKF_NET_OFF`), so one program
/// serves every interface whatever its link layer. The error says which rule
/// is wrong (for the agent's error block).
pub fn compile(spec: &FilterSpec, snaplen: u32) -> Result<Vec<SockFilter>, String> {
    let _ = (spec, snaplen);
    todo!("bpf compiler")
}
