//! The packet stream format: reading pcap and pcapng, writing pcapng.
//!
//! Every source podtap meets (a capture file, stdin, the agent's stdout) is a
//! pcap or pcapng byte stream, so one incremental [`Reader`] serves them all.
//! [`Writer`] produces the pcapng that the agent streams and exports use.
//!
//! This module is pure std: it must not import tokio, kube, ratatui or any
//! decoder. It reads from any `Read` and writes to any `Write`.

pub mod agent;
mod input;
mod pcap;
mod pcapng;
mod reader;
mod record;
mod writer;

#[cfg(test)]
mod tests;

pub use reader::Reader;
pub use record::{CustomBlock, Format, InterfaceStats, Packet, ReadCounters, Record};
pub use writer::Writer;

use std::fmt;

/// A point in time or a duration, in nanoseconds (since the Unix epoch for points).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Nanos(pub u64);

impl Nanos {
    /// One millisecond.
    pub const MILLI: Nanos = Nanos(1_000_000);
    /// One second.
    pub const SECOND: Nanos = Nanos(1_000_000_000);

    /// The time from `earlier` to `self`, or zero when `earlier` is later.
    #[must_use]
    pub fn since(self, earlier: Nanos) -> Nanos {
        Nanos(self.0.saturating_sub(earlier.0))
    }

    /// This value in (fractional) milliseconds.
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// This value in (fractional) seconds.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
}

/// A pcap/pcapng link type (LINKTYPE_* number), telling how a frame starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkType(pub u16);

impl LinkType {
    /// BSD loopback: a 4-byte address family in host byte order.
    pub const NULL: LinkType = LinkType(0);
    /// Ethernet II, possibly with 802.1Q / 802.1ad tags.
    pub const ETHERNET: LinkType = LinkType(1);
    /// Raw IP (IPv4 or IPv6 by version nibble).
    pub const RAW: LinkType = LinkType(101);
    /// OpenBSD loopback: a 4-byte address family in network byte order.
    pub const LOOP: LinkType = LinkType(108);
    /// Linux "cooked" capture, version 1 (16-byte header).
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// Raw IPv4.
    pub const IPV4: LinkType = LinkType(228);
    /// Raw IPv6.
    pub const IPV6: LinkType = LinkType(229);
    /// Linux "cooked" capture, version 2 (20-byte header; `tcpdump -i any`).
    pub const LINUX_SLL2: LinkType = LinkType(276);
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match *self {
            LinkType::NULL => "NULL",
            LinkType::ETHERNET => "ETHERNET",
            LinkType::RAW => "RAW",
            LinkType::LOOP => "LOOP",
            LinkType::LINUX_SLL => "LINUX_SLL",
            LinkType::IPV4 => "IPV4",
            LinkType::IPV6 => "IPV6",
            LinkType::LINUX_SLL2 => "LINUX_SLL2",
            LinkType(n) => return write!(f, "LINKTYPE {n}"),
        };
        f.write_str(name)
    }
}

/// Which way a packet crossed its interface, when the capture says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// The capture did not record it.
    #[default]
    Unknown,
    /// Received by the host.
    Inbound,
    /// Sent by the host.
    Outbound,
}

/// One capture interface, as a pcapng Interface Description Block (or the pcap header) declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// How its frames start.
    pub link_type: LinkType,
    /// Largest number of bytes captured per packet (0: no limit).
    pub snaplen: u32,
    /// `if_name`, when given.
    pub name: Option<String>,
    /// `if_description`, when given.
    pub description: Option<String>,
}

/// The IANA Private Enterprise Number in podtap's pcapng custom blocks.
///
/// 32473 is the number RFC 5612 reserves for documentation and examples; it
/// stays until podtap registers its own.
pub const PODTAP_PEN: u32 = 32473;

/// pcapng block type of a custom block that may be copied to new files.
pub const CUSTOM_BLOCK_COPYABLE: u32 = 0x0000_0BAD;
/// pcapng block type of a custom block that must not be copied.
pub const CUSTOM_BLOCK_NO_COPY: u32 = 0x4000_0BAD;

/// Largest record or block the reader accepts; anything longer is damage, not data.
pub const MAX_RECORD_LEN: usize = 256 * 1024 * 1024;

/// Byte order of a pcap file or of one pcapng section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endian {
    Little,
    Big,
}

impl Endian {
    /// The `u16` at `at`, or `None` past the end of `b`.
    #[inline]
    fn u16(self, b: &[u8], at: usize) -> Option<u16> {
        let v: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u16::from_le_bytes(v),
            Endian::Big => u16::from_be_bytes(v),
        })
    }

    /// The `u32` at `at`, or `None` past the end of `b`.
    #[inline]
    fn u32(self, b: &[u8], at: usize) -> Option<u32> {
        let v: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u32::from_le_bytes(v),
            Endian::Big => u32::from_be_bytes(v),
        })
    }

    /// The `u64` at `at`, or `None` past the end of `b`.
    #[inline]
    fn u64(self, b: &[u8], at: usize) -> Option<u64> {
        let v: [u8; 8] = b.get(at..at.checked_add(8)?)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u64::from_le_bytes(v),
            Endian::Big => u64::from_be_bytes(v),
        })
    }
}

/// Why a stream cannot be read any further. Everything before it was delivered.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The underlying reader failed.
    #[error("read failed: {0}")]
    Io(#[from] std::io::Error),
    /// The input holds no bytes at all.
    #[error("the input is empty: expected a pcap or pcapng capture")]
    Empty,
    /// The first bytes are no pcap or pcapng magic number.
    #[error("not a pcap or pcapng capture (starts with {magic:02x?})")]
    NotACapture {
        /// The first bytes found.
        magic: [u8; 4],
    },
    /// A header names a format version this reader does not know.
    #[error("unsupported {format} version {major}.{minor}")]
    UnsupportedVersion {
        /// "pcap" or "pcapng".
        format: &'static str,
        /// Major version found.
        major: u16,
        /// Minor version found.
        minor: u16,
    },
    /// The stream ends in the middle of a record.
    #[error("truncated capture: the stream ends inside a record at byte {offset}")]
    Truncated {
        /// Offset of the record that is cut short.
        offset: u64,
    },
    /// A record is structurally impossible (length fields that cannot be right).
    #[error("damaged capture at byte {offset}: {reason}")]
    Malformed {
        /// Offset of the damaged record.
        offset: u64,
        /// What is wrong with it.
        reason: &'static str,
    },
}
