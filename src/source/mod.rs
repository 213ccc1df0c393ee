//! Byte-stream sources feeding the TUI: a capture file or stdin, the
//! built-in demo, a local agent process. Each runs on its own thread,
//! decodes with [`crate::decode::Pipeline`] and sends [`SourceEvent`]s into
//! one bounded channel. Live sources never block on it: when it is full
//! events are dropped and counted (shown in the status bar).
//!
//! Every source is a pcap/pcapng byte stream read by one driver
//! (`drive`): a file or stdin, the demo's generated stream (`demo`), or
//! a local agent's stdout (`local`). This module must not import ratatui,
//! crossterm or the app: it only sends events.

mod demo;
pub(crate) mod drive;
mod local;

#[cfg(test)]
mod tests;

use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Sender, SyncSender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use drive::{Delivery, Pacer, Sink, drive};

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
    /// About twice a second: the live flows that changed since the last
    /// report, sorted by id; in the first report, and after an event other
    /// than `Stats` was dropped, all of them, with `full` set.
    Flows {
        /// The flows.
        flows: Vec<FlowInfo>,
        /// Whether these are all the live flows (others are gone).
        full: bool,
    },
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

/// A paced replay shortens idle stretches of the capture to this.
const MAX_IDLE_GAP: Duration = Duration::from_secs(2);
/// How long dropping a handle waits for its source to end (an agent gets
/// two seconds to obey a stop line before it is killed).
const DROP_WAIT: Duration = Duration::from_secs(5);

/// A running source. Dropping it stops the source and waits (a few seconds at most) for its thread.
#[derive(Debug)]
pub struct SourceHandle {
    /// Control lines for an agent (ping targets, filter); `None` for sources without an agent.
    pub control: Option<Sender<Control>>,
    stop: Arc<AtomicBool>,
    dropped: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl SourceHandle {
    /// A handle over a source thread (for sources started elsewhere, such as a cluster stream).
    pub(crate) fn new(
        control: Option<Sender<Control>>,
        stop: Arc<AtomicBool>,
        dropped: Arc<AtomicU64>,
        thread: JoinHandle<()>,
    ) -> Self {
        SourceHandle {
            control,
            stop,
            dropped,
            thread: Some(thread),
        }
    }

    /// Asks the source to stop and returns at once; `Ended` follows.
    ///
    /// A local agent gets a stop line and is killed if it has not exited
    /// after two seconds.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Whether the source's thread has finished (its `Ended` was sent).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Events dropped so far because the channel was full.
    pub fn channel_dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl Drop for SourceHandle {
    fn drop(&mut self) {
        self.stop();
        let Some(thread) = self.thread.take() else {
            return;
        };
        // A read from stdin cannot be interrupted: after a bound, leave the
        // thread to end with the process rather than hang the caller.
        let deadline = Instant::now() + DROP_WAIT;
        while !thread.is_finished() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        if thread.is_finished() {
            // A panic in the source thread has been reported by the panic hook already.
            let _ = thread.join();
        }
    }
}

/// Starts a source sending into `events`.
///
/// Fails when the file cannot be opened, the agent cannot be started or a
/// thread cannot be spawned; every later failure arrives as `Ended { error }`.
pub fn start(spec: &SourceSpec, events: SyncSender<SourceEvent>) -> io::Result<SourceHandle> {
    let stop = Arc::new(AtomicBool::new(false));
    let dropped = Arc::new(AtomicU64::new(0));
    // Instant reads may wait for the UI; every live source (paced replay,
    // demo, agent) must not, so it drops and counts instead.
    let delivery = match spec {
        SourceSpec::Read { pace: false, .. } => Delivery::Lossless,
        _ => Delivery::Lossy,
    };
    let sink = Sink::new(events, delivery, Arc::clone(&stop), Arc::clone(&dropped));
    let (control, thread) = match spec {
        SourceSpec::Read { path, pace } => {
            let input: Box<dyn Read + Send> = if path.as_os_str() == "-" {
                Box::new(io::stdin())
            } else {
                let file = File::open(path).map_err(|e| {
                    io::Error::new(e.kind(), format!("cannot open {}: {e}", path.display()))
                })?;
                Box::new(file)
            };
            let pacer = pace.then(|| Pacer::new(MAX_IDLE_GAP));
            (None, spawn("podtap-read", input, sink, pacer)?)
        }
        SourceSpec::Demo { seed } => {
            let input = demo::DemoStream::new(*seed)?;
            let pacer = Some(Pacer::new(MAX_IDLE_GAP));
            (None, spawn("podtap-demo", input, sink, pacer)?)
        }
        SourceSpec::Local { agent, netns } => {
            let (control, thread) = local::start(agent, netns.as_deref(), sink)?;
            (Some(control), thread)
        }
    };
    Ok(SourceHandle {
        control,
        stop,
        dropped,
        thread: Some(thread),
    })
}

/// Runs the driver over `input` on a thread of its own, then sends `Ended`.
fn spawn<R: Read + Send + 'static>(
    name: &str,
    input: R,
    sink: Sink,
    pacer: Option<Pacer>,
) -> io::Result<JoinHandle<()>> {
    thread::Builder::new().name(name.to_owned()).spawn(move || {
        let error = drive(input, &sink, pacer);
        sink.send_last(SourceEvent::Ended { error });
    })
}
