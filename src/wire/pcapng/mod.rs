//! pcapng blocks: section and interface state, and what each block type means.
//!
//! [`super::reader`] cuts the stream into whole blocks (checked lengths);
//! [`Pcapng::block`] turns one block into an [`Event`]. Nothing here reads.
//!
//! This module holds the block framing, the section header and the dispatch
//! by block type; [`interface`] the interface description and statistics
//! blocks, [`packet`] the packet blocks and [`options`] the options they carry.

mod interface;
mod options;
mod packet;

use self::interface::IfaceInfo;
use super::reader::Event;
use super::{
    CUSTOM_BLOCK_COPYABLE, CUSTOM_BLOCK_NO_COPY, Endian, Interface, MAX_RECORD_LEN, ReadCounters,
    WireError,
};

/// Section Header Block type (the same bytes in both byte orders).
pub(super) const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 1;
const PB: u32 = 2;
const SPB: u32 = 3;
const ISB: u32 = 5;
const EPB: u32 = 6;

/// Smallest possible block: type, length, trailing length.
const MIN_BLOCK: usize = 12;
/// Smallest Section Header Block: header, byte-order magic, version, section length.
pub(super) const MIN_SHB: usize = 28;

/// The byte order that a Section Header Block's byte-order magic announces.
pub(super) fn byte_order(magic: &[u8]) -> Option<Endian> {
    match magic {
        [0x4d, 0x3c, 0x2b, 0x1a] => Some(Endian::Little),
        [0x1a, 0x2b, 0x3c, 0x4d] => Some(Endian::Big),
        _ => None,
    }
}

/// Checks a block's total length field and returns it as a `usize`.
#[inline]
pub(super) fn block_len(len: u32) -> Result<usize, &'static str> {
    let len = len as usize;
    if len < MIN_BLOCK {
        Err("block length below 12")
    } else if !len.is_multiple_of(4) {
        Err("block length not a multiple of 4")
    } else if len > MAX_RECORD_LEN {
        Err("block length over 256 MiB")
    } else {
        Ok(len)
    }
}

/// pcapng reading state: the current section and every interface so far.
#[derive(Debug)]
pub(super) struct Pcapng {
    endian: Endian,
    /// Global index of the current section's interface 0.
    base: usize,
    /// Parallel to the reader's interface list.
    infos: Vec<IfaceInfo>,
}

impl Pcapng {
    /// State before the first Section Header Block.
    pub(super) fn new() -> Self {
        Pcapng {
            endian: Endian::Little,
            base: 0,
            infos: Vec::new(),
        }
    }

    /// Byte order of the current section.
    #[inline]
    pub(super) fn endian(&self) -> Endian {
        self.endian
    }

    /// Interprets one whole block (lengths already checked; `offset` for errors).
    ///
    /// Ranges in the returned event are relative to the block start.
    pub(super) fn block(
        &mut self,
        block_type: u32,
        block: &[u8],
        offset: u64,
        interfaces: &mut Vec<Interface>,
        counters: &mut ReadCounters,
    ) -> Result<Event, WireError> {
        let malformed = |reason| WireError::Malformed { offset, reason };
        let end = block.len().saturating_sub(4);
        let body = block.get(..end).unwrap_or_default();
        let event = match block_type {
            EPB | PB => self.packet(block_type, body, counters).map_err(malformed)?,
            SPB => self.simple_packet(body, counters).map_err(malformed)?,
            IDB => self.interface(body, interfaces).map_err(malformed)?,
            ISB => self.stats(body, counters).map_err(malformed)?,
            CUSTOM_BLOCK_COPYABLE | CUSTOM_BLOCK_NO_COPY => {
                let pen = self
                    .endian
                    .u32(body, 8)
                    .ok_or_else(|| malformed("custom block without PEN"))?;
                Event::Custom {
                    pen,
                    copyable: block_type == CUSTOM_BLOCK_COPYABLE,
                    data: 12..end.max(12),
                }
            }
            SHB => self.section(body, offset, interfaces.len(), counters)?,
            _ => {
                counters.skipped_blocks += 1;
                Event::Skip
            }
        };
        Ok(event)
    }

    fn section(
        &mut self,
        body: &[u8],
        offset: u64,
        interfaces: usize,
        counters: &mut ReadCounters,
    ) -> Result<Event, WireError> {
        let malformed = |reason| WireError::Malformed { offset, reason };
        let endian = body
            .get(8..12)
            .and_then(byte_order)
            .ok_or_else(|| malformed("bad byte-order magic"))?;
        let major = endian
            .u16(body, 12)
            .ok_or_else(|| malformed("section header too short"))?;
        let minor = endian
            .u16(body, 14)
            .ok_or_else(|| malformed("section header too short"))?;
        if major != 1 {
            return Err(WireError::UnsupportedVersion {
                format: "pcapng",
                major,
                minor,
            });
        }
        self.endian = endian;
        self.base = interfaces;
        counters.sections += 1;
        Ok(Event::Skip)
    }

    /// The global index and info of the current section's interface `id`.
    #[inline]
    fn lookup(&self, id: u32) -> Option<(usize, &IfaceInfo)> {
        let global = self.base.checked_add(id as usize)?;
        Some((global, self.infos.get(global)?))
    }
}
