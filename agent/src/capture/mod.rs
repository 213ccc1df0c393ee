//! Packet capture on every interface of the network namespace.
//!
//! [`PacketSource`] is the seam: [`afpacket::AfPacket`] is the real one (an
//! AF_PACKET socket with a TPACKET_V3 ring when the kernel offers it); tests
//! can feed canned packets through their own implementation.
//!
//! This is the only module of the agent with `unsafe` code: the syscall
//! wrappers in `sys`, the ring mapping in `ring` and the interface listing in
//! [`interfaces`], each on the smallest item that needs it.

pub mod afpacket;
pub mod interfaces;
mod ring;
mod sys;

use std::io;
use std::time::Duration;

use crate::bpf::SockFilter;
use podtap::wire::Nanos;

/// One captured packet as the kernel handed it over.
#[derive(Debug, Clone, Copy)]
pub struct RawPacket<'a> {
    /// Interface index (`sll_ifindex`).
    pub ifindex: i32,
    /// ARPHRD_* hardware type of that interface (`sll_hatype`).
    pub hatype: u16,
    /// PACKET_HOST (0), PACKET_BROADCAST (1), PACKET_MULTICAST (2), PACKET_OTHERHOST (3), PACKET_OUTGOING (4).
    pub pkttype: u8,
    /// EtherType of the payload (`sll_protocol`, host byte order).
    pub protocol: u16,
    /// Capture time.
    pub ts: Nanos,
    /// Length on the wire.
    pub orig_len: u32,
    /// The captured bytes, starting at the link-layer header (SOCK_RAW).
    pub data: &'a [u8],
}

/// Counters the kernel keeps for the socket (cumulative since it was opened).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KernelStats {
    /// Packets that passed the filter (delivered or dropped).
    pub packets: u64,
    /// Packets dropped because the ring or buffer was full.
    pub drops: u64,
}

/// Where captured packets come from.
pub trait PacketSource: Send {
    /// Waits up to `timeout` for packets and hands each to `sink`. Returns the number handed over.
    fn poll(
        &mut self,
        timeout: Duration,
        sink: &mut dyn FnMut(&RawPacket<'_>),
    ) -> io::Result<usize>;
    /// Kernel counters so far.
    fn stats(&mut self) -> io::Result<KernelStats>;
    /// Replaces the socket filter (an empty program removes it).
    fn set_filter(&mut self, program: &[SockFilter]) -> io::Result<()>;
    /// Bytes captured per packet from now on.
    fn set_snaplen(&mut self, snaplen: u32);
}
