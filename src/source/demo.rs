//! The built-in demo: [`crate::synth::Generator`]'s shop API pod as an
//! endless pcapng byte stream stamped from wall-clock now.
//!
//! The stream is produced on demand as the driver reads it, so it goes
//! through the same [`crate::wire::Reader`] and pipeline as a real capture;
//! the driver's pacer plays it in real time.

use std::io::{self, Read};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::synth::{Generator, SynthConfig};
use crate::wire::{Interface, LinkType, Nanos, Writer};

/// Client connections of the demo pod: a lively API, a few hundred packets a second.
const CONNECTIONS: u32 = 12;
/// Mean idle time between two exchanges on one connection.
const THINK_MEAN: Nanos = Nanos(300 * Nanos::MILLI.0);
/// Bytes of pcapng generated per refill (a few dozen packets).
const CHUNK: usize = 16 * 1024;

/// An endless pcapng stream of synthetic traffic.
pub(crate) struct DemoStream {
    generator: Generator,
    writer: Writer<Vec<u8>>,
    interface: u32,
    /// Bytes generated and not read yet, from `pos`.
    buf: Vec<u8>,
    pos: usize,
}

impl DemoStream {
    /// A stream for `seed` whose first packet is stamped about now.
    pub(crate) fn new(seed: u64) -> io::Result<Self> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        Self::starting_at(seed, Nanos(now))
    }

    /// A stream for `seed` whose first packet is stamped about `start`.
    pub(crate) fn starting_at(seed: u64, start: Nanos) -> io::Result<Self> {
        let config = SynthConfig {
            seed,
            connections: CONNECTIONS,
            packets: None,
            start,
            think_mean: THINK_MEAN,
            ..SynthConfig::default()
        };
        let mut writer = Writer::new(Vec::with_capacity(CHUNK * 2))?;
        let interface = writer.add_interface(&Interface {
            link_type: LinkType::ETHERNET,
            snaplen: 262_144,
            name: Some("eth0".to_owned()),
            description: Some("podtap demo: a shop API pod".to_owned()),
        })?;
        Ok(DemoStream {
            generator: Generator::new(&config),
            writer,
            interface,
            buf: Vec::new(),
            pos: 0,
        })
    }

    /// Generates the next chunk; `false` when the generator has nothing more.
    fn refill(&mut self) -> io::Result<bool> {
        while self.writer.get_mut().len() < CHUNK {
            let Some(p) = self.generator.next_packet() else {
                break;
            };
            self.writer.write_packet(
                self.interface,
                p.ts,
                p.frame.len() as u32,
                p.frame,
                p.direction,
            )?;
        }
        // Swap buffers: the writer keeps an allocation for the next chunk.
        self.buf.clear();
        std::mem::swap(&mut self.buf, self.writer.get_mut());
        self.pos = 0;
        Ok(!self.buf.is_empty())
    }
}

impl Read for DemoStream {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.buf.len() && !self.refill()? {
            return Ok(0);
        }
        let rest = &self.buf[self.pos..];
        let n = rest.len().min(out.len());
        out[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}
