//! Classic BPF programs compiled from a [`FilterSpec`](podtap::wire::agent::FilterSpec).
//!
//! The agent's AF_PACKET socket listens on every interface, and their link
//! layers differ (Ethernet, loopback, raw IP), so the programs never read the
//! link-layer header: the EtherType comes from the ancillary `skb->protocol`
//! load and packet bytes are read relative to the network header
//! (`SKF_NET_OFF`). Pure code: no I/O, no `unsafe`.
//!
//! Program shape: one block per rule, excludes first, each block returning
//! its verdict when the packet matches and otherwise running into the next;
//! the last instruction is the verdict for a packet no rule matched.
//!
//! ```text
//! exclude 1:  ld proto; jeq #0x800 ...; <tests, fail -> next>; ret #0
//! exclude 2:  ...
//! include 1:  ld proto; ...; ret #snaplen
//! include 2:  ...
//! default:    ret #0 (some include rule exists) or ret #snaplen (none)
//! ```
//!
//! Limits: IPv6 extension headers are not walked, so an IPv6 packet whose
//! first next header is not TCP/UDP/ICMPv6 matches no proto or port rule
//! (host rules still apply). IPv4 fragments after the first match no port
//! rule (they carry no ports) but do match proto and host rules. Non-IP
//! packets (ARP...) match no rule: an include-only filter drops them, an
//! exclude-only one keeps them. A packet too short for a load the program
//! makes is dropped, as the kernel ends the program with 0.

mod asm;
mod codegen;
mod host;
#[cfg(test)]
mod tests;

use asm::{Asm, MAX_INSNS};
use codegen::Rule;
use host::Cidr;
use podtap::wire::agent::{FilterProto, FilterRule, FilterSpec};

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

/// Compiles `spec` into a program that returns `snaplen` for packets to keep and 0 for the rest.
///
/// Loads are relative to the network header (`SKF_NET_OFF`), so one program
/// serves every interface whatever its link layer. The error says which rule
/// is wrong (for the agent's error block).
pub fn compile(spec: &FilterSpec, snaplen: u32) -> Result<Vec<SockFilter>, String> {
    if snaplen == 0 {
        return Err("a snap length of 0 would drop every packet".to_owned());
    }
    // Validate everything before emitting anything, so the first error in
    // rule order is the one reported.
    let include = validate(&spec.include, "include")?;
    let exclude = validate(&spec.exclude, "exclude")?;

    let mut asm = Asm::default();
    for rule in &exclude {
        codegen::emit_rule(&mut asm, rule, 0);
    }
    for rule in &include {
        codegen::emit_rule(&mut asm, rule, snaplen);
    }
    asm.ret(if include.is_empty() { snaplen } else { 0 });

    if asm.len() > MAX_INSNS {
        return Err(format!(
            "the filter is too large: its {} rules need {} classic BPF instructions, the kernel takes at most {MAX_INSNS}",
            include.len() + exclude.len(),
            asm.len()
        ));
    }
    asm.finish()
}

/// Checks each rule and parses its host; `kind` names the list in errors.
fn validate(rules: &[FilterRule], kind: &str) -> Result<Vec<Rule>, String> {
    rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let n = i + 1;
            if rule.proto.is_none() && rule.host.is_none() && rule.port.is_none() {
                return Err(format!(
                    "{kind} rule {n} matches everything: set a proto, host or port"
                ));
            }
            if let (Some(FilterProto::Icmp), Some(port)) = (rule.proto, rule.port) {
                return Err(format!(
                    "{kind} rule {n}: port {port} cannot be used with proto icmp, which has no ports"
                ));
            }
            let host = rule
                .host
                .as_deref()
                .map(Cidr::parse)
                .transpose()
                .map_err(|e| format!("{kind} rule {n}: {e}"))?;
            Ok(Rule { proto: rule.proto, host, port: rule.port })
        })
        .collect()
}
