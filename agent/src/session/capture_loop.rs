//! The capture thread: drains the packet source, encodes Enhanced Packet
//! Blocks in batches and offers them to the output queue; applies filter
//! and snap length changes; writes interface statistics every interval.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use podtap::wire::agent::AgentMessage;
use podtap::wire::{Direction, Interface, InterfaceStats, LinkType, Writer};

use super::output::Output;
use super::{message_block, wall_clock};
use crate::bpf::SockFilter;
use crate::capture::interfaces::{self, NetInterface};
use crate::capture::{PacketSource, RawPacket};

/// A batch is offered to the queue when it reaches this size.
const BATCH_BYTES: usize = 256 * 1024;
/// PACKET_OUTGOING.
const PACKET_OUTGOING: u8 = 4;

/// A change the supervisor asks the capture thread to make.
#[derive(Debug)]
pub enum CaptureCmd {
    /// Attach this program (`cmd` names the control line, for the acknowledgement).
    Filter(Vec<SockFilter>),
    /// Keep this many bytes per packet.
    Snaplen(u32),
}

/// Flags and counters shared with the supervisor.
#[derive(Debug, Default)]
pub struct CaptureShared {
    /// Drain but do not forward.
    pub paused: AtomicBool,
    /// Leave the loop.
    pub stop: AtomicBool,
    /// Packets forwarded to the queue.
    pub forwarded: AtomicU64,
    /// Set when the source failed; the supervisor ends the session.
    pub failed: AtomicBool,
}

/// Interface ids of the pcapng stream by kernel interface index.
#[derive(Debug, Default)]
pub struct Registry {
    ids: HashMap<i32, (u32, LinkType)>,
    next: u32,
}

impl Registry {
    /// Declares `iface` in `w` and remembers its id.
    pub fn declare<W: std::io::Write>(
        &mut self,
        w: &mut Writer<W>,
        iface: &NetInterface,
        snaplen: u32,
    ) -> std::io::Result<()> {
        let link_type = interfaces::link_type(iface.hatype);
        let id = w.add_interface(&Interface {
            link_type,
            snaplen,
            name: Some(iface.name.clone()),
            description: None,
        })?;
        self.ids.insert(iface.index, (id, link_type));
        self.next = id + 1;
        Ok(())
    }

    /// Number of interfaces declared.
    pub fn len(&self) -> u32 {
        self.next
    }

    /// Whether none is declared.
    pub fn is_empty(&self) -> bool {
        self.next == 0
    }
}

/// The capture thread's state.
pub struct CaptureLoop<S> {
    /// Packet source.
    pub source: S,
    /// Interfaces declared so far.
    pub registry: Registry,
    /// Output queue.
    pub output: Arc<Output>,
    /// Shared flags.
    pub shared: Arc<CaptureShared>,
    /// Commands from the supervisor.
    pub commands: Receiver<CaptureCmd>,
    /// Snap length in force.
    pub snaplen: u32,
    /// How often to write statistics.
    pub stats_interval: Duration,
}

impl<S: PacketSource> CaptureLoop<S> {
    /// Runs until told to stop or the source fails.
    pub fn run(mut self) {
        let mut batch = Writer::continuing(
            Vec::with_capacity(BATCH_BYTES + 65_536),
            self.registry.len(),
        );
        let mut in_batch = 0u64;
        let mut next_stats = Instant::now() + self.stats_interval;
        let mut scratch = Vec::new();
        while !self.shared.stop.load(Ordering::Relaxed) {
            self.apply_commands();
            let paused = self.shared.paused.load(Ordering::Relaxed);
            let Self {
                source,
                registry,
                output,
                shared,
                snaplen,
                ..
            } = &mut self;
            let polled = source.poll(Duration::from_millis(250), &mut |p: &RawPacket<'_>| {
                if paused {
                    return;
                }
                if encode(registry, &mut batch, p, *snaplen, &mut scratch).is_ok() {
                    in_batch += 1;
                }
                if batch.get_ref().len() >= BATCH_BYTES {
                    flush(output, shared, &mut batch, &mut in_batch);
                }
            });
            flush(&self.output, &self.shared, &mut batch, &mut in_batch);
            if polled.is_err() {
                self.shared.failed.store(true, Ordering::Relaxed);
                break;
            }
            if Instant::now() >= next_stats {
                self.write_stats();
                next_stats = Instant::now() + self.stats_interval;
            }
        }
        self.write_stats();
    }

    fn apply_commands(&mut self) {
        while let Ok(cmd) = self.commands.try_recv() {
            let (name, result) = match cmd {
                CaptureCmd::Filter(program) => ("filter", self.source.set_filter(&program)),
                CaptureCmd::Snaplen(n) => {
                    self.snaplen = n;
                    self.source.set_snaplen(n);
                    ("snaplen", Ok(()))
                }
            };
            let msg = match result {
                Ok(()) => AgentMessage::Ack {
                    cmd: name.to_owned(),
                },
                Err(e) => AgentMessage::Error {
                    message: format!("{name} not applied: {e}"),
                },
            };
            self.output.push_control(message_block(&msg));
        }
    }

    /// One statistics block for the whole socket, on interface 0: kernel
    /// counters as `isb_ifrecv`/`isb_ifdrop`, the agent's own drops as `isb_osdrop`.
    fn write_stats(&mut self) {
        if self.registry.is_empty() {
            return;
        }
        let Ok(k) = self.source.stats() else { return };
        let mut w = Writer::continuing(Vec::new(), self.registry.len());
        let stats = InterfaceStats {
            interface: 0,
            ts: wall_clock(),
            received: Some(k.packets),
            dropped: Some(k.drops),
            os_dropped: Some(self.output.dropped_packets.load(Ordering::Relaxed)),
        };
        if w.write_stats(&stats).is_ok() {
            self.output.push_control(w.into_inner());
        }
    }
}

fn flush(output: &Output, shared: &CaptureShared, batch: &mut Writer<Vec<u8>>, in_batch: &mut u64) {
    if batch.get_ref().is_empty() {
        return;
    }
    let full = std::mem::replace(batch.get_mut(), Vec::with_capacity(BATCH_BYTES + 65_536));
    if output.offer_packets(full, *in_batch) {
        shared.forwarded.fetch_add(*in_batch, Ordering::Relaxed);
    }
    *in_batch = 0;
}

/// Appends one packet (and, for a new interface, its description) to `w`.
fn encode(
    registry: &mut Registry,
    w: &mut Writer<Vec<u8>>,
    p: &RawPacket<'_>,
    snaplen: u32,
    scratch: &mut Vec<u8>,
) -> std::io::Result<()> {
    if !registry.ids.contains_key(&p.ifindex) {
        let found = interfaces::list()
            .ok()
            .and_then(|l| l.into_iter().find(|i| i.index == p.ifindex));
        let iface = found.unwrap_or_else(|| NetInterface {
            index: p.ifindex,
            name: format!("if{}", p.ifindex),
            hatype: p.hatype,
        });
        registry.declare(w, &iface, snaplen)?;
    }
    let Some(&(id, link_type)) = registry.ids.get(&p.ifindex) else {
        return Ok(());
    };
    let direction = if p.pkttype == PACKET_OUTGOING {
        Direction::Outbound
    } else {
        Direction::Inbound
    };
    let keep = p.data.len().min(snaplen as usize);
    if link_type == LinkType::LINUX_SLL2 {
        scratch.clear();
        scratch.extend_from_slice(&interfaces::sll2_header(
            p.protocol, p.ifindex, p.hatype, p.pkttype,
        ));
        scratch.extend_from_slice(&p.data[..keep]);
        w.write_packet(id, p.ts, p.orig_len + 20, scratch, direction)
    } else {
        w.write_packet(id, p.ts, p.orig_len, &p.data[..keep], direction)
    }
}
