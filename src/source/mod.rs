//! Byte-stream sources feeding the TUI: a capture file or stdin, the
//! built-in demo, a local agent process. Each runs on its own thread,
//! decodes with [`crate::decode::Pipeline`] and sends [`SourceEvent`]s into
//! one bounded channel. Live sources never block on it: when it is full
//! events are dropped and counted (shown in the status bar).

use std::path::PathBuf;
use std::sync::mpsc::{Sender, SyncSender};

use crate::decode::ExchangeEvent;
use crate::decode::Stats;
use crate::decode::flow::{EndReason, FlowInfo};
use crate::decode::icmp::PingResult;
use crate::wire::agent::{AgentMessage, Control, ProbeResult};

/// What a source reports.
#[derive(Debug, Clone)]
pub enum SourceEvent {
    /// An HTTP exchange completed.
    Exchange(Box<ExchangeEvent>),
    /// A flow left the pipeline.
    FlowEnded(Box<FlowInfo>, EndReason),
    /// The live flows, about twice a second.
    Flows(Vec<FlowInfo>),
    /// An echo pair seen in the traffic.
    Ping(PingResult),
    /// A probe result from the agent.
    Probe(ProbeResult),
    /// Another agent message (hello, error, ack, bye).
    Agent(AgentMessage),
    /// Counters, about twice a second.
    Stats(Box<SourceStats>),
    /// The source ended: end of file, agent exit, or an error (with its one-line message).
    Ended {
        /// Why, when it was not a clean end.
        error: Option<String>,
    },
}

/// Counters of a source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceStats {
    /// Packets read.
    pub packets: u64,
    /// Their bytes on the wire.
    pub bytes: u64,
    /// Packets dropped by the capturing kernel and agent (pcapng statistics).
    pub capture_dropped: u64,
    /// Events this source could not queue for the UI.
    pub channel_dropped: u64,
    /// Pipeline counters (decode errors, evictions, ...).
    pub pipeline: Stats,
}

/// Which source to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    /// A pcap/pcapng file (`-` is stdin); `pace` replays at the capture's own speed.
    Read {
        /// Path, or `-`.
        path: PathBuf,
        /// Replay at the original pace instead of instantly.
        pace: bool,
    },
    /// The built-in demo: a shop API pod's synthetic traffic, live.
    Demo {
        /// Generator seed.
        seed: u64,
    },
    /// `podtap-agent capture` as a child process, optionally in a network namespace.
    Local {
        /// The agent binary.
        agent: PathBuf,
        /// `ip netns exec NS` first.
        netns: Option<String>,
    },
}

/// A running source.
#[derive(Debug)]
pub struct SourceHandle {
    /// Control lines for an agent (ping targets, filter); `None` for sources without an agent.
    pub control: Option<Sender<Control>>,
}

/// Starts a source sending into `events`.
pub fn start(spec: &SourceSpec, events: SyncSender<SourceEvent>) -> std::io::Result<SourceHandle> {
    let _ = (spec, events);
    todo!("sources")
}
