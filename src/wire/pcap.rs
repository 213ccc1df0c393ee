//! Classic pcap: the 24-byte file header and the 16-byte record headers.
//!
//! Pure functions over byte slices; [`super::reader`] does the reading.

use super::{Endian, Interface, LinkType, Nanos, WireError};

/// Length of the file header.
pub(super) const FILE_HEADER_LEN: usize = 24;
/// Length of each record header.
pub(super) const RECORD_HEADER_LEN: usize = 16;

/// What the magic number says about a classic pcap file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Magic {
    /// Byte order of every field.
    pub endian: Endian,
    /// Fractions of a second are nanoseconds, not microseconds.
    pub nanos: bool,
}

impl Magic {
    /// Recognises the four classic pcap magic numbers.
    pub(super) fn sniff(magic: [u8; 4]) -> Option<Magic> {
        let (endian, nanos) = match magic {
            [0xd4, 0xc3, 0xb2, 0xa1] => (Endian::Little, false),
            [0xa1, 0xb2, 0xc3, 0xd4] => (Endian::Big, false),
            [0x4d, 0x3c, 0xb2, 0xa1] => (Endian::Little, true),
            [0xa1, 0xb2, 0x3c, 0x4d] => (Endian::Big, true),
            _ => return None,
        };
        Some(Magic { endian, nanos })
    }
}

/// Checks the version and returns the one interface the file header declares.
pub(super) fn file_header(magic: Magic, header: &[u8]) -> Result<Interface, WireError> {
    let e = magic.endian;
    let field = |at| e.u32(header, at).ok_or(WireError::Truncated { offset: 0 });
    let major = e.u16(header, 4).ok_or(WireError::Truncated { offset: 0 })?;
    let minor = e.u16(header, 6).ok_or(WireError::Truncated { offset: 0 })?;
    if major != 2 {
        return Err(WireError::UnsupportedVersion {
            format: "pcap",
            major,
            minor,
        });
    }
    let snaplen = field(16)?;
    // The upper 16 bits of the link type field carry FCS information.
    let link_type = LinkType(field(20)? as u16);
    Ok(Interface {
        link_type,
        snaplen,
        name: None,
        description: None,
    })
}

/// One parsed record header.
#[derive(Debug, Clone, Copy)]
pub(super) struct RecordHeader {
    /// Capture time.
    pub ts: Nanos,
    /// Bytes that follow the header.
    pub caplen: u32,
    /// Length on the wire.
    pub orig_len: u32,
}

/// Parses a record header; `None` when `header` is shorter than 16 bytes.
#[inline]
pub(super) fn record_header(magic: Magic, header: &[u8]) -> Option<RecordHeader> {
    let e = magic.endian;
    let secs = u64::from(e.u32(header, 0)?);
    let frac = u64::from(e.u32(header, 4)?);
    let caplen = e.u32(header, 8)?;
    let orig_len = e.u32(header, 12)?;
    let frac_nanos = if magic.nanos { frac } else { frac * 1000 };
    // Cannot overflow: (2^32 - 1) * 10^9 + (2^32 - 1) * 10^3 < 2^64.
    let ts = Nanos(secs * 1_000_000_000 + frac_nanos);
    Some(RecordHeader {
        ts,
        caplen,
        orig_len,
    })
}
