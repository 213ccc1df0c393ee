//! pcapng blocks: section and interface state, and what each block type means.
//!
//! [`super::reader`] cuts the stream into whole blocks (checked lengths);
//! [`Pcapng::block`] turns one block into an [`Event`]. Nothing here reads.

use super::reader::{Event, PacketMeta};
use super::{
    CUSTOM_BLOCK_COPYABLE, CUSTOM_BLOCK_NO_COPY, Direction, Endian, Interface, InterfaceStats,
    LinkType, MAX_RECORD_LEN, Nanos, ReadCounters, WireError,
};

/// Section Header Block type (the same bytes in both byte orders).
pub(super) const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 1;
const PB: u32 = 2;
const SPB: u32 = 3;
const ISB: u32 = 5;
const EPB: u32 = 6;

const OPT_END: u16 = 0;
const IF_NAME: u16 = 2;
const IF_DESCRIPTION: u16 = 3;
const IF_TSRESOL: u16 = 9;
const IF_TSOFFSET: u16 = 14;
const EPB_FLAGS: u16 = 2;
const ISB_IFRECV: u16 = 4;
const ISB_IFDROP: u16 = 5;
const ISB_OSDROP: u16 = 7;

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

/// How an interface's timestamp units become nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scale {
    /// Units of `10^-e` seconds with `e <= 9`: multiply.
    Mul(u64),
    /// Units of `10^-e` seconds with `9 < e <= 28`: divide.
    Div(u64),
    /// Units of `2^-e` seconds.
    Pow2(u32),
    /// Units so small that every representable value is below a nanosecond.
    Zero,
}

impl Scale {
    /// The scale an `if_tsresol` byte describes.
    fn from_tsresol(v: u8) -> Scale {
        let e = u32::from(v & 0x7f);
        if v & 0x80 != 0 {
            Scale::Pow2(e)
        } else if e <= 9 {
            Scale::Mul(10u64.pow(9 - e))
        } else if e <= 28 {
            Scale::Div(10u64.pow(e - 9))
        } else {
            Scale::Zero
        }
    }

    #[inline]
    fn nanos(self, units: u64) -> u64 {
        match self {
            Scale::Mul(m) => units.saturating_mul(m),
            Scale::Div(d) => units / d,
            Scale::Pow2(e) => {
                // e <= 127, and units * 10^9 < 2^94: no overflow in u128.
                let n = (u128::from(units) * 1_000_000_000) >> e;
                u64::try_from(n).unwrap_or(u64::MAX)
            }
            Scale::Zero => 0,
        }
    }
}

/// What timestamps and packets of one interface need.
#[derive(Debug, Clone, Copy)]
struct IfaceInfo {
    link_type: LinkType,
    snaplen: u32,
    scale: Scale,
    /// `if_tsoffset`: seconds to add to every timestamp.
    offset: i64,
}

impl IfaceInfo {
    #[inline]
    fn ts(&self, high: u32, low: u32) -> Nanos {
        let units = u64::from(high) << 32 | u64::from(low);
        let nanos = self.scale.nanos(units);
        if self.offset == 0 {
            return Nanos(nanos);
        }
        // Wide enough for any offset: |offset| * 10^9 < 2^94.
        let shifted = i128::from(nanos) + i128::from(self.offset) * 1_000_000_000;
        Nanos(u64::try_from(shifted.max(0)).unwrap_or(u64::MAX))
    }
}

/// The options of a block: `(code, value)` pairs up to `opt_endofopt`.
///
/// Stops quietly at the first option that does not fit: options are extras,
/// and a damaged one must not cost the packet.
struct Options<'a> {
    rest: &'a [u8],
    endian: Endian,
}

impl<'a> Iterator for Options<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let code = self.endian.u16(self.rest, 0)?;
        let len = usize::from(self.endian.u16(self.rest, 2)?);
        if code == OPT_END {
            return None;
        }
        let value = self.rest.get(4..4 + len)?;
        self.rest = self
            .rest
            .get(4 + len.next_multiple_of(4)..)
            .unwrap_or_default();
        Some((code, value))
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

    fn interface(
        &mut self,
        body: &[u8],
        interfaces: &mut Vec<Interface>,
    ) -> Result<Event, &'static str> {
        let e = self.endian;
        let link = e.u16(body, 8).ok_or("interface description too short")?;
        let snaplen = e.u32(body, 12).ok_or("interface description too short")?;
        let mut iface = Interface {
            link_type: LinkType(link),
            snaplen,
            name: None,
            description: None,
        };
        let mut info = IfaceInfo {
            link_type: iface.link_type,
            snaplen,
            scale: Scale::Mul(1000),
            offset: 0,
        };
        for (code, value) in self.options(body, 16) {
            match (code, value) {
                (IF_NAME, v) => iface.name = Some(text(v)),
                (IF_DESCRIPTION, v) => iface.description = Some(text(v)),
                (IF_TSRESOL, &[v, ..]) => info.scale = Scale::from_tsresol(v),
                (IF_TSOFFSET, v) => {
                    if let Some(secs) = e.u64(v, 0) {
                        // A signed number of seconds: reinterpret the bits.
                        info.offset = i64::from_ne_bytes(secs.to_ne_bytes());
                    }
                }
                _ => {}
            }
        }
        let index = interfaces.len();
        interfaces.push(iface);
        self.infos.push(info);
        Ok(Event::Interface(index))
    }

    /// Enhanced Packet Block, or the obsolete Packet Block (16-bit interface id).
    #[inline]
    fn packet(
        &self,
        block_type: u32,
        body: &[u8],
        counters: &mut ReadCounters,
    ) -> Result<Event, &'static str> {
        const DATA: usize = 28;
        let e = self.endian;
        let fields = if block_type == EPB {
            e.u32(body, 8)
        } else {
            e.u16(body, 8).map(u32::from)
        };
        let (Some(id), Some(high), Some(low), Some(caplen), Some(orig_len)) = (
            fields,
            e.u32(body, 12),
            e.u32(body, 16),
            e.u32(body, 20),
            e.u32(body, 24),
        ) else {
            return Err("packet block too short");
        };
        let caplen = caplen as usize;
        if caplen > body.len().saturating_sub(DATA) {
            return Err("captured length exceeds the block");
        }
        let Some((interface, info)) = self.lookup(id) else {
            counters.unknown_interface += 1;
            return Ok(Event::Skip);
        };
        let mut direction = Direction::Unknown;
        for (code, value) in self.options(body, DATA + caplen.next_multiple_of(4)) {
            if code == EPB_FLAGS {
                direction = match e.u32(value, 0).map(|f| f & 3) {
                    Some(1) => Direction::Inbound,
                    Some(2) => Direction::Outbound,
                    _ => Direction::Unknown,
                };
            }
        }
        Ok(Event::Packet(
            PacketMeta {
                interface,
                link_type: info.link_type,
                ts: info.ts(high, low),
                orig_len,
                direction,
            },
            DATA..DATA + caplen,
        ))
    }

    fn simple_packet(
        &self,
        body: &[u8],
        counters: &mut ReadCounters,
    ) -> Result<Event, &'static str> {
        const DATA: usize = 12;
        let orig_len = self
            .endian
            .u32(body, 8)
            .ok_or("simple packet block too short")?;
        let Some((interface, info)) = self.lookup(0) else {
            counters.unknown_interface += 1;
            return Ok(Event::Skip);
        };
        let mut caplen = (orig_len as usize).min(body.len().saturating_sub(DATA));
        if info.snaplen != 0 {
            caplen = caplen.min(info.snaplen as usize);
        }
        Ok(Event::Packet(
            PacketMeta {
                interface,
                link_type: info.link_type,
                // A Simple Packet Block carries no timestamp.
                ts: Nanos(0),
                orig_len,
                direction: Direction::Unknown,
            },
            DATA..DATA + caplen,
        ))
    }

    fn stats(&self, body: &[u8], counters: &mut ReadCounters) -> Result<Event, &'static str> {
        let e = self.endian;
        let (Some(id), Some(high), Some(low)) = (e.u32(body, 8), e.u32(body, 12), e.u32(body, 16))
        else {
            return Err("interface statistics block too short");
        };
        let Some((interface, info)) = self.lookup(id) else {
            counters.unknown_interface += 1;
            return Ok(Event::Skip);
        };
        let mut stats = InterfaceStats {
            interface,
            ts: info.ts(high, low),
            ..InterfaceStats::default()
        };
        for (code, value) in self.options(body, 20) {
            let slot = match code {
                ISB_IFRECV => &mut stats.received,
                ISB_IFDROP => &mut stats.dropped,
                ISB_OSDROP => &mut stats.os_dropped,
                _ => continue,
            };
            if let Some(v) = e.u64(value, 0) {
                *slot = Some(v);
            }
        }
        Ok(Event::Stats(stats))
    }

    /// The global index and info of the current section's interface `id`.
    #[inline]
    fn lookup(&self, id: u32) -> Option<(usize, &IfaceInfo)> {
        let global = self.base.checked_add(id as usize)?;
        Some((global, self.infos.get(global)?))
    }

    fn options<'a>(&self, body: &'a [u8], start: usize) -> Options<'a> {
        Options {
            rest: body.get(start..).unwrap_or_default(),
            endian: self.endian,
        }
    }
}

/// An option's text, without the NUL terminator some writers add.
fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v).trim_end_matches('\0').to_owned()
}
