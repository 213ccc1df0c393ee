//! The values a [`super::Reader`] hands out: records, packets, statistics.
//!
//! Packets and custom blocks borrow the reader's buffer until the next call.

use super::{Direction, LinkType, Nanos};

/// The container format that was sniffed from the magic number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Classic pcap.
    Pcap {
        /// Timestamps in nanoseconds (magic 0xa1b23c4d) rather than microseconds.
        nanos: bool,
        /// Written big-endian.
        big_endian: bool,
    },
    /// pcapng (byte order can change per section).
    Pcapng,
}

/// One captured packet, borrowed from the reader's buffer until the next call.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    /// Index into [`Reader::interfaces`](super::Reader::interfaces) (unique across pcapng sections).
    pub interface: usize,
    /// Link type of that interface.
    pub link_type: LinkType,
    /// Capture time.
    pub ts: Nanos,
    /// Length of the packet on the wire (may exceed `data.len()`).
    pub orig_len: u32,
    /// The captured bytes.
    pub data: &'a [u8],
    /// Direction from the EPB flags, when present.
    pub direction: Direction,
}

/// Counters from a pcapng Interface Statistics Block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InterfaceStats {
    /// Index into [`Reader::interfaces`](super::Reader::interfaces).
    pub interface: usize,
    /// When the counters were taken.
    pub ts: Nanos,
    /// `isb_ifrecv`: packets received by the interface.
    pub received: Option<u64>,
    /// `isb_ifdrop`: packets dropped by the interface / kernel.
    pub dropped: Option<u64>,
    /// `isb_osdrop`: packets dropped by the capturing OS or program.
    pub os_dropped: Option<u64>,
}

/// A pcapng Custom Block, handed up for podtap's own messages.
#[derive(Debug, Clone, Copy)]
pub struct CustomBlock<'a> {
    /// Private Enterprise Number that owns the block.
    pub pen: u32,
    /// Whether the block may be copied (type 0x00000BAD).
    pub copyable: bool,
    /// Everything after the PEN up to the block's end (custom data and options).
    pub data: &'a [u8],
}

/// One record of a capture stream.
#[derive(Debug, Clone, Copy)]
pub enum Record<'a> {
    /// A captured packet.
    Packet(Packet<'a>),
    /// A new interface was declared; its index into [`Reader::interfaces`](super::Reader::interfaces).
    Interface(usize),
    /// Interface statistics (pcapng only).
    Stats(InterfaceStats),
    /// A custom block (pcapng only).
    Custom(CustomBlock<'a>),
}

/// What the reader passed over without failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadCounters {
    /// Bytes consumed so far.
    pub bytes: u64,
    /// Packets delivered.
    pub packets: u64,
    /// pcapng sections seen.
    pub sections: u64,
    /// Blocks of types this reader does not use (name resolution, journal, ...).
    pub skipped_blocks: u64,
    /// Packets and statistics blocks that name an interface that was never declared.
    pub unknown_interface: u64,
}
