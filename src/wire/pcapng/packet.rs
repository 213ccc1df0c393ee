//! Packets: the Enhanced Packet Block, the obsolete Packet Block and the
//! Simple Packet Block, each to an [`Event::Packet`] with the range of its data.

use super::{EPB, Pcapng};
use crate::wire::reader::{Event, PacketMeta};
use crate::wire::{Direction, Nanos, ReadCounters};

const EPB_FLAGS: u16 = 2;

impl Pcapng {
    /// Enhanced Packet Block, or the obsolete Packet Block (16-bit interface id).
    #[inline]
    pub(super) fn packet(
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

    pub(super) fn simple_packet(
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
}
