//! Incremental pcap / pcapng reader over any `Read`: sniffing, record
//! framing and length checks, and handing records out of the buffer.
//!
//! What the bytes of a record mean lives in [`super::pcap`] and
//! [`super::pcapng`], the buffer in [`super::input`], and the records handed
//! out in [`super::record`].

use std::io::Read;
use std::ops::Range;

use super::input::Input;
use super::pcap::{self, Magic};
use super::pcapng::{self, Pcapng};
use super::{
    CustomBlock, Direction, Endian, Format, Interface, InterfaceStats, LinkType, MAX_RECORD_LEN,
    Nanos, Packet, ReadCounters, Record, WireError,
};

/// A packet without its bytes, so that parsers need not borrow the buffer.
#[derive(Debug, Clone, Copy)]
pub(super) struct PacketMeta {
    pub interface: usize,
    pub link_type: LinkType,
    pub ts: Nanos,
    pub orig_len: u32,
    pub direction: Direction,
}

/// A parsed record whose byte ranges point into the read buffer.
#[derive(Debug, Clone)]
pub(super) enum Event {
    Packet(PacketMeta, Range<usize>),
    Interface(usize),
    Stats(InterfaceStats),
    Custom {
        pen: u32,
        copyable: bool,
        data: Range<usize>,
    },
    /// Nothing to hand up (a section header, a skipped block): read on.
    Skip,
}

impl Event {
    /// Moves the ranges from record-relative to buffer positions.
    #[inline]
    fn at(self, base: usize) -> Event {
        let shift = |r: Range<usize>| r.start + base..r.end + base;
        match self {
            Event::Packet(meta, data) => Event::Packet(meta, shift(data)),
            Event::Custom {
                pen,
                copyable,
                data,
            } => Event::Custom {
                pen,
                copyable,
                data: shift(data),
            },
            other => other,
        }
    }
}

/// Per-format reading state.
#[derive(Debug)]
enum State {
    Pcap {
        magic: Magic,
        /// The implicit interface is still to be announced.
        announce: bool,
    },
    Pcapng(Pcapng),
}

/// Reads pcap or pcapng records incrementally from any byte source.
///
/// Reads in large chunks but never waits for bytes beyond the record it is
/// returning, so it works on pipes. Records borrow the reader's buffer.
pub struct Reader<R> {
    input: Input<R>,
    state: State,
    format: Format,
    interfaces: Vec<Interface>,
    counters: ReadCounters,
    done: bool,
}

impl<R: Read> Reader<R> {
    /// Sniffs the format from the first bytes; fails on anything that is no capture.
    ///
    /// Reads the pcap file header, or the first pcapng Section Header Block.
    pub fn new(inner: R) -> Result<Self, WireError> {
        let mut input = Input::new(inner);
        input.fill(4)?;
        let start = input.available();
        if start.is_empty() {
            return Err(WireError::Empty);
        }
        let mut magic = [0u8; 4];
        let n = start.len().min(4);
        magic[..n].copy_from_slice(&start[..n]);
        if n < 4 {
            return Err(if is_magic_prefix(&start[..n]) {
                WireError::Truncated { offset: 0 }
            } else {
                WireError::NotACapture { magic }
            });
        }
        let mut reader = Reader {
            input,
            state: State::Pcapng(Pcapng::new()),
            format: Format::Pcapng,
            interfaces: Vec::new(),
            counters: ReadCounters::default(),
            done: false,
        };
        if let Some(magic) = Magic::sniff(magic) {
            if !reader.input.fill(pcap::FILE_HEADER_LEN)? {
                return Err(WireError::Truncated { offset: 0 });
            }
            let iface = pcap::file_header(magic, reader.input.available())?;
            reader.input.consume(pcap::FILE_HEADER_LEN);
            reader.interfaces.push(iface);
            reader.format = Format::Pcap {
                nanos: magic.nanos,
                big_endian: magic.endian == Endian::Big,
            };
            reader.state = State::Pcap {
                magic,
                announce: true,
            };
        } else if magic == pcapng::SHB.to_le_bytes() {
            reader.pcapng_block()?;
        } else {
            return Err(WireError::NotACapture { magic });
        }
        reader.counters.bytes = reader.input.offset();
        Ok(reader)
    }

    /// The next record, `Ok(None)` at a clean end of stream.
    ///
    /// After an error the reader is finished and returns `Ok(None)`.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, WireError> {
        if self.done {
            return Ok(None);
        }
        let event = loop {
            let step = match self.state {
                State::Pcap { .. } => self.pcap_record(),
                State::Pcapng(_) => self.pcapng_block(),
            };
            match step {
                Ok(Some(Event::Skip)) => {}
                Ok(Some(event)) => break event,
                Ok(None) => {
                    self.done = true;
                    return Ok(None);
                }
                Err(e) => {
                    self.done = true;
                    self.counters.bytes = self.input.offset();
                    return Err(e);
                }
            }
        };
        self.counters.bytes = self.input.offset();
        let buf = self.input.buffer();
        Ok(Some(match event {
            Event::Packet(meta, data) => {
                self.counters.packets += 1;
                Record::Packet(Packet {
                    interface: meta.interface,
                    link_type: meta.link_type,
                    ts: meta.ts,
                    orig_len: meta.orig_len,
                    data: buf.get(data).unwrap_or_default(),
                    direction: meta.direction,
                })
            }
            Event::Interface(index) => Record::Interface(index),
            Event::Stats(stats) => Record::Stats(stats),
            Event::Custom {
                pen,
                copyable,
                data,
            } => Record::Custom(CustomBlock {
                pen,
                copyable,
                data: buf.get(data).unwrap_or_default(),
            }),
            // The loop above reads on past these.
            Event::Skip => return Ok(None),
        }))
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

    /// Gives back the byte source; buffered bytes not yet returned are lost.
    pub fn into_inner(self) -> R {
        self.input.into_inner()
    }

    /// One classic pcap record; `None` at a clean end.
    #[inline]
    fn pcap_record(&mut self) -> Result<Option<Event>, WireError> {
        let State::Pcap { magic, announce } = &mut self.state else {
            return Ok(None);
        };
        if *announce {
            *announce = false;
            return Ok(Some(Event::Interface(0)));
        }
        let magic = *magic;
        let offset = self.input.offset();
        if !self.input.fill(pcap::RECORD_HEADER_LEN)? {
            return self.clean_end(offset);
        }
        let Some(header) = pcap::record_header(magic, self.input.available()) else {
            return Err(WireError::Truncated { offset });
        };
        let caplen = header.caplen as usize;
        if caplen > MAX_RECORD_LEN {
            return Err(WireError::Malformed {
                offset,
                reason: "record length over 256 MiB",
            });
        }
        let len = pcap::RECORD_HEADER_LEN + caplen;
        if !self.input.fill(len)? {
            return Err(WireError::Truncated { offset });
        }
        let base = self.input.position();
        self.input.consume(len);
        let meta = PacketMeta {
            interface: 0,
            link_type: self.interfaces.first().map_or(LinkType(0), |i| i.link_type),
            ts: header.ts,
            orig_len: header.orig_len,
            direction: Direction::Unknown,
        };
        Ok(Some(Event::Packet(
            meta,
            base + pcap::RECORD_HEADER_LEN..base + len,
        )))
    }

    /// One pcapng block; `None` at a clean end.
    #[inline]
    fn pcapng_block(&mut self) -> Result<Option<Event>, WireError> {
        let State::Pcapng(state) = &mut self.state else {
            return Ok(None);
        };
        let offset = self.input.offset();
        if !self.input.fill(8)? {
            return self.clean_end(offset);
        }
        let head = self.input.available();
        let mut endian = state.endian();
        let block_type = endian.u32(head, 0).unwrap_or_default();
        if block_type == pcapng::SHB {
            if !self.input.fill(12)? {
                return Err(WireError::Truncated { offset });
            }
            endian = self
                .input
                .available()
                .get(8..12)
                .and_then(pcapng::byte_order)
                .ok_or(WireError::Malformed {
                    offset,
                    reason: "bad byte-order magic",
                })?;
        }
        let malformed = |reason| WireError::Malformed { offset, reason };
        let len = endian.u32(self.input.available(), 4).unwrap_or_default();
        let len = pcapng::block_len(len).map_err(malformed)?;
        if block_type == pcapng::SHB && len < pcapng::MIN_SHB {
            return Err(malformed("section header block too short"));
        }
        if !self.input.fill(len)? {
            return Err(WireError::Truncated { offset });
        }
        let block = self.input.available().get(..len).unwrap_or_default();
        if endian.u32(block, len - 4) != Some(len as u32) {
            return Err(malformed("trailing block length differs from leading"));
        }
        let event = state.block(
            block_type,
            block,
            offset,
            &mut self.interfaces,
            &mut self.counters,
        )?;
        let base = self.input.position();
        self.input.consume(len);
        Ok(Some(event.at(base)))
    }

    /// End of stream at a record boundary is clean; inside a record it is not.
    fn clean_end(&self, offset: u64) -> Result<Option<Event>, WireError> {
        if self.input.available().is_empty() {
            Ok(None)
        } else {
            Err(WireError::Truncated { offset })
        }
    }
}

/// Whether `start` (shorter than 4 bytes) could begin a pcap or pcapng magic.
fn is_magic_prefix(start: &[u8]) -> bool {
    const MAGICS: [[u8; 4]; 5] = [
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0x4d, 0x3c, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d],
        [0x0a, 0x0d, 0x0d, 0x0a],
    ];
    MAGICS.iter().any(|m| m.starts_with(start))
}
