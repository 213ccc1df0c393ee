//! Interfaces: the Interface Description Block (link type, snap length,
//! name, timestamp resolution and offset), how an interface's timestamps
//! become nanoseconds, and the Interface Statistics Block.

use super::Pcapng;
use super::options::text;
use crate::wire::reader::Event;
use crate::wire::{Interface, InterfaceStats, LinkType, Nanos, ReadCounters};

const IF_NAME: u16 = 2;
const IF_DESCRIPTION: u16 = 3;
const IF_TSRESOL: u16 = 9;
const IF_TSOFFSET: u16 = 14;
const ISB_IFRECV: u16 = 4;
const ISB_IFDROP: u16 = 5;
const ISB_OSDROP: u16 = 7;

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
pub(super) struct IfaceInfo {
    pub(super) link_type: LinkType,
    pub(super) snaplen: u32,
    scale: Scale,
    /// `if_tsoffset`: seconds to add to every timestamp.
    offset: i64,
}

impl IfaceInfo {
    #[inline]
    pub(super) fn ts(&self, high: u32, low: u32) -> Nanos {
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

impl Pcapng {
    pub(super) fn interface(
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

    pub(super) fn stats(
        &self,
        body: &[u8],
        counters: &mut ReadCounters,
    ) -> Result<Event, &'static str> {
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
}
