//! Incremental pcap / pcapng reader over any `Read`.

use std::io::Read;

use super::{Direction, Interface, LinkType, Nanos, WireError};

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
    /// Index into [`Reader::interfaces`] (unique across pcapng sections).
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
    /// Index into [`Reader::interfaces`].
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
    /// A new interface was declared; its index into [`Reader::interfaces`].
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
    /// Packets that name an interface that was never declared.
    pub unknown_interface: u64,
}

/// Reads pcap or pcapng records incrementally from any byte source.
pub struct Reader<R> {
    inner: R,
    format: Format,
    interfaces: Vec<Interface>,
    counters: ReadCounters,
}

impl<R: Read> Reader<R> {
    /// Sniffs the format from the first bytes; fails on anything that is no capture.
    pub fn new(inner: R) -> Result<Self, WireError> {
        let _ = inner;
        todo!("wire reader")
    }

    /// The next record, `Ok(None)` at a clean end of stream.
    ///
    /// After an error the reader is finished and returns `Ok(None)`.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, WireError> {
        let _ = &mut self.inner;
        todo!("wire reader")
    }

    /// The format sniffed at the start.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Every interface declared so far, across all sections.
    pub fn interfaces(&self) -> &[Interface] {
        &self.interfaces
    }

    /// What was read and passed over so far.
    pub fn counters(&self) -> ReadCounters {
        self.counters
    }
}
