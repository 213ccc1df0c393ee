//! pcapng writer: the format of the agent stream and of exports.
//!
//! Blocks are little-endian, timestamps in nanoseconds (`if_tsresol` = 9) so
//! that tshark, Wireshark and capinfos read the stream as it is.

use std::io::{self, Write};

use super::{
    CUSTOM_BLOCK_COPYABLE, CUSTOM_BLOCK_NO_COPY, Direction, Interface, InterfaceStats, Nanos,
};

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 0x0000_0001;
const ISB: u32 = 0x0000_0005;
const EPB: u32 = 0x0000_0006;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;

const OPT_END: u16 = 0;
const OPT_COMMENT: u16 = 1;
const IF_NAME: u16 = 2;
const IF_DESCRIPTION: u16 = 3;
const IF_TSRESOL: u16 = 9;
const EPB_FLAGS: u16 = 2;
const ISB_IFRECV: u16 = 4;
const ISB_IFDROP: u16 = 5;
const ISB_OSDROP: u16 = 7;

/// Writes a pcapng stream: one section, interfaces, packets, statistics, custom blocks.
pub struct Writer<W: Write> {
    out: W,
    interfaces: u32,
    block: Vec<u8>,
}

impl<W: Write> Writer<W> {
    /// Starts a stream by writing its Section Header Block.
    pub fn new(out: W) -> io::Result<Self> {
        Self::with_comment(out, None)
    }

    /// Starts a stream whose Section Header Block carries `shb_comment`-style text.
    pub fn with_comment(out: W, comment: Option<&str>) -> io::Result<Self> {
        let mut w = Writer {
            out,
            interfaces: 0,
            block: Vec::with_capacity(4096),
        };
        w.begin(SHB);
        w.u32(BYTE_ORDER_MAGIC);
        w.u16(1);
        w.u16(0);
        w.block.extend_from_slice(&(-1i64).to_le_bytes());
        if let Some(c) = comment {
            w.option(OPT_COMMENT, c.as_bytes());
        }
        w.end_options();
        w.finish()?;
        Ok(w)
    }

    /// A writer for blocks of a stream whose Section Header Block and first
    /// `interfaces` interfaces were written already (to encode blocks into
    /// buffers that another thread writes out).
    pub fn continuing(out: W, interfaces: u32) -> Self {
        Writer {
            out,
            interfaces,
            block: Vec::with_capacity(4096),
        }
    }

    /// Mutable access to the underlying writer (to drain a buffer between blocks).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Declares an interface and returns its id for [`Writer::write_packet`].
    pub fn add_interface(&mut self, iface: &Interface) -> io::Result<u32> {
        self.begin(IDB);
        self.u16(iface.link_type.0);
        self.u16(0);
        self.u32(iface.snaplen);
        if let Some(name) = &iface.name {
            self.option(IF_NAME, name.as_bytes());
        }
        if let Some(d) = &iface.description {
            self.option(IF_DESCRIPTION, d.as_bytes());
        }
        self.option(IF_TSRESOL, &[9]);
        self.end_options();
        self.finish()?;
        let id = self.interfaces;
        self.interfaces += 1;
        Ok(id)
    }

    /// Writes one Enhanced Packet Block; `data` may be shorter than `orig_len`.
    pub fn write_packet(
        &mut self,
        interface: u32,
        ts: Nanos,
        orig_len: u32,
        data: &[u8],
        direction: Direction,
    ) -> io::Result<()> {
        self.begin(EPB);
        self.u32(interface);
        self.timestamp(ts);
        self.u32(data.len() as u32);
        self.u32(orig_len.max(data.len() as u32));
        self.padded(data);
        let flags: u32 = match direction {
            Direction::Unknown => 0,
            Direction::Inbound => 1,
            Direction::Outbound => 2,
        };
        if flags != 0 {
            self.option(EPB_FLAGS, &flags.to_le_bytes());
            self.end_options();
        }
        self.finish()
    }

    /// Writes an Interface Statistics Block with the counters that are known.
    pub fn write_stats(&mut self, stats: &InterfaceStats) -> io::Result<()> {
        self.begin(ISB);
        self.u32(stats.interface as u32);
        self.timestamp(stats.ts);
        let mut any = false;
        for (code, value) in [
            (ISB_IFRECV, stats.received),
            (ISB_IFDROP, stats.dropped),
            (ISB_OSDROP, stats.os_dropped),
        ] {
            if let Some(v) = value {
                self.option(code, &v.to_le_bytes());
                any = true;
            }
        }
        if any {
            self.end_options();
        }
        self.finish()
    }

    /// Writes a Custom Block; `data` is padded with zero bytes to a multiple of 4.
    pub fn write_custom(&mut self, pen: u32, copyable: bool, data: &[u8]) -> io::Result<()> {
        self.begin(if copyable {
            CUSTOM_BLOCK_COPYABLE
        } else {
            CUSTOM_BLOCK_NO_COPY
        });
        self.u32(pen);
        self.padded(data);
        self.finish()
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// The underlying writer.
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// Gives back the underlying writer (not flushed).
    pub fn into_inner(self) -> W {
        self.out
    }

    fn begin(&mut self, block_type: u32) {
        self.block.clear();
        self.u32(block_type);
        self.u32(0); // total length, patched by finish()
    }

    fn finish(&mut self) -> io::Result<()> {
        let total = (self.block.len() + 4) as u32;
        self.block[4..8].copy_from_slice(&total.to_le_bytes());
        self.u32(total);
        self.out.write_all(&self.block)
    }

    fn u16(&mut self, v: u16) {
        self.block.extend_from_slice(&v.to_le_bytes());
    }

    fn u32(&mut self, v: u32) {
        self.block.extend_from_slice(&v.to_le_bytes());
    }

    fn timestamp(&mut self, ts: Nanos) {
        self.u32((ts.0 >> 32) as u32);
        self.u32(ts.0 as u32);
    }

    fn padded(&mut self, data: &[u8]) {
        self.block.extend_from_slice(data);
        let pad = (4 - data.len() % 4) % 4;
        self.block.extend_from_slice(&[0u8; 3][..pad]);
    }

    fn option(&mut self, code: u16, value: &[u8]) {
        let value = &value[..value.len().min(usize::from(u16::MAX) - 3)];
        self.u16(code);
        self.u16(value.len() as u16);
        self.padded(value);
    }

    fn end_options(&mut self) {
        self.u16(OPT_END);
        self.u16(0);
    }
}
