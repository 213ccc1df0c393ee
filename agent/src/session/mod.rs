//! A capture session: the supervisor that ties the capture thread, the
//! output queue, the control thread and the prober together, and decides
//! when to stop.
//!
//! The session ends on `stop`, when heartbeats stop for longer than the
//! timeout, on stdin EOF, on SIGTERM/SIGINT, and when stdout is closed or
//! stays blocked. It never relies on stdin EOF alone (on the v4 exec
//! protocol closing stdin closes everything, so clients keep it open).

mod capture_loop;
mod control;
mod output;

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use podtap::wire::agent::{AgentMessage, Control, FilterSpec, ProbeResult};
use podtap::wire::{Nanos, PODTAP_PEN, Writer};

pub use capture_loop::{CaptureCmd, CaptureShared};
use capture_loop::{CaptureLoop, Registry};
use control::ControlEvent;
pub use output::Output;

use crate::bpf;
use crate::capture::PacketSource;
use crate::capture::interfaces::NetInterface;
use crate::prober::Prober;

/// Limits and timeouts of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// Bytes kept per packet.
    pub snaplen: u32,
    /// No heartbeat for this long ends the session.
    pub heartbeat_timeout: Duration,
    /// A write to stdout blocked this long ends the session.
    pub stdout_timeout: Duration,
    /// Bytes of packets queued for stdout at most.
    pub queue_bytes: usize,
    /// Time between statistics blocks.
    pub stats_interval: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            snaplen: 262_144,
            heartbeat_timeout: Duration::from_secs(15),
            stdout_timeout: Duration::from_secs(10),
            queue_bytes: 8 << 20,
            stats_interval: Duration::from_secs(1),
        }
    }
}

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitReason {
    /// A `stop` control line.
    Stop,
    /// No heartbeat within the timeout.
    HeartbeatTimeout,
    /// Stdin reached its end.
    StdinClosed,
    /// SIGTERM, SIGINT or SIGHUP.
    Signal,
    /// Writing to stdout failed (the reader went away).
    StdoutClosed,
    /// A write to stdout stayed blocked past the timeout.
    StdoutBlocked,
    /// The packet source failed.
    CaptureFailed,
}

impl ExitReason {
    /// Text for the `bye` block and logs.
    pub fn as_str(&self) -> &'static str {
        match self {
            ExitReason::Stop => "stop",
            ExitReason::HeartbeatTimeout => "heartbeat timeout",
            ExitReason::StdinClosed => "stdin closed",
            ExitReason::Signal => "signal",
            ExitReason::StdoutClosed => "stdout closed",
            ExitReason::StdoutBlocked => "stdout blocked",
            ExitReason::CaptureFailed => "capture failed",
        }
    }
}

/// Facts for the hello block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hello {
    /// Host (pod) name.
    pub hostname: String,
    /// Effective capabilities.
    pub capabilities: Vec<String>,
}

/// Wall-clock time now.
pub fn wall_clock() -> Nanos {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Nanos(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// A custom block holding `msg`.
pub fn message_block(msg: &AgentMessage) -> Vec<u8> {
    let mut w = Writer::continuing(Vec::new(), 0);
    let _ = w.write_custom(PODTAP_PEN, true, &msg.encode());
    w.into_inner()
}

/// Runs one capture session until it ends, and says why.
pub fn run<S, R, W>(
    source: S,
    interfaces: &[NetInterface],
    input: R,
    out: W,
    config: &SessionConfig,
    hello: &Hello,
    signal: &Arc<AtomicBool>,
) -> ExitReason
where
    S: PacketSource + 'static,
    R: Read + Send + 'static,
    W: Write + Send + 'static,
{
    let (output, writer) = Output::start(out, config.queue_bytes);
    let mut registry = Registry::default();
    let Ok(mut header) = Writer::new(Vec::new()) else {
        return ExitReason::StdoutClosed;
    };
    for iface in interfaces {
        let _ = registry.declare(&mut header, iface, config.snaplen);
    }
    output.push_control(header.into_inner());
    output.push_control(message_block(&AgentMessage::Hello {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        hostname: hello.hostname.clone(),
        interfaces: interfaces.iter().map(|i| i.name.clone()).collect(),
        capabilities: hello.capabilities.clone(),
        snaplen: config.snaplen,
    }));

    let shared = Arc::new(CaptureShared::default());
    let (cmd_tx, cmd_rx) = channel();
    let capture = {
        let lp = CaptureLoop {
            source,
            registry,
            output: Arc::clone(&output),
            shared: Arc::clone(&shared),
            commands: cmd_rx,
            snaplen: config.snaplen,
            stats_interval: config.stats_interval,
        };
        thread::Builder::new()
            .name("capture".into())
            .spawn(move || lp.run())
            .expect("spawn the capture thread")
    };
    let (ctl_tx, ctl_rx) = channel();
    let _control = control::start(input, ctl_tx);
    let (probe_tx, probe_rx) = channel();
    let mut supervisor = Supervisor {
        config: *config,
        output: Arc::clone(&output),
        shared: Arc::clone(&shared),
        commands: cmd_tx,
        prober: Prober::new(probe_tx),
        last_heartbeat: Instant::now(),
        filter: FilterSpec::default(),
    };
    let reason = supervisor.run_until_done(&ctl_rx, &probe_rx, signal);

    supervisor.prober.stop_all();
    for r in probe_rx.try_iter() {
        output.push_control(message_block(&AgentMessage::Probe(r)));
    }
    shared.stop.store(true, Ordering::Relaxed);
    let _ = capture.join();
    if !matches!(reason, ExitReason::StdoutClosed | ExitReason::StdoutBlocked) {
        output.push_control(message_block(&AgentMessage::Bye {
            reason: reason.as_str().to_owned(),
        }));
        output.close();
        // Give the reader a bounded time to take what is queued.
        let deadline = Instant::now() + config.stdout_timeout;
        while !writer.is_finished() && Instant::now() < deadline && !output.failed() {
            thread::sleep(Duration::from_millis(10));
        }
    }
    reason
}

struct Supervisor {
    config: SessionConfig,
    output: Arc<Output>,
    shared: Arc<CaptureShared>,
    commands: std::sync::mpsc::Sender<CaptureCmd>,
    prober: Prober,
    last_heartbeat: Instant,
    /// The filter in force, compiled again when the snap length changes.
    filter: FilterSpec,
}

impl Supervisor {
    fn run_until_done(
        &mut self,
        controls: &Receiver<ControlEvent>,
        probes: &Receiver<ProbeResult>,
        signal: &Arc<AtomicBool>,
    ) -> ExitReason {
        loop {
            if signal.load(Ordering::Relaxed) {
                return ExitReason::Signal;
            }
            if self.output.failed() {
                return ExitReason::StdoutClosed;
            }
            if self.output.blocked_ms() > self.config.stdout_timeout.as_millis() as u64 {
                return ExitReason::StdoutBlocked;
            }
            if self.shared.failed.load(Ordering::Relaxed) {
                return ExitReason::CaptureFailed;
            }
            if self.last_heartbeat.elapsed() > self.config.heartbeat_timeout {
                return ExitReason::HeartbeatTimeout;
            }
            for r in probes.try_iter() {
                self.output
                    .push_control(message_block(&AgentMessage::Probe(r)));
            }
            match controls.recv_timeout(Duration::from_millis(100)) {
                Ok(ControlEvent::Line(line)) => {
                    if let Some(reason) = self.apply(&line) {
                        return reason;
                    }
                }
                Ok(ControlEvent::TooLong) => self.error(format!(
                    "control line longer than {} bytes ignored",
                    control::MAX_LINE
                )),
                Ok(ControlEvent::Eof) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    return ExitReason::StdinClosed;
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            }
        }
    }

    fn error(&self, message: String) {
        self.output
            .push_control(message_block(&AgentMessage::Error { message }));
    }

    fn ack(&self, cmd: &str) {
        self.output.push_control(message_block(&AgentMessage::Ack {
            cmd: cmd.to_owned(),
        }));
    }

    /// Applies one control line; `Some` when the session must end.
    fn apply(&mut self, line: &str) -> Option<ExitReason> {
        if line.trim().is_empty() {
            return None;
        }
        let control = match Control::parse(line) {
            Ok(c) => c,
            Err(e) => {
                self.error(e);
                return None;
            }
        };
        match control {
            Control::Heartbeat => self.last_heartbeat = Instant::now(),
            Control::Stop => return Some(ExitReason::Stop),
            Control::Pause => {
                self.shared.paused.store(true, Ordering::Relaxed);
                self.ack("pause");
            }
            Control::Resume => {
                self.shared.paused.store(false, Ordering::Relaxed);
                self.ack("resume");
            }
            Control::Filter { filter } => match bpf::compile(&filter, self.config.snaplen) {
                Ok(program) => {
                    self.filter = filter;
                    let _ = self.commands.send(CaptureCmd::Filter(program));
                }
                Err(e) => self.error(format!("filter not applied: {e}")),
            },
            Control::Snaplen { bytes } => {
                if (64..=262_144).contains(&bytes) {
                    self.config.snaplen = bytes;
                    let _ = self.commands.send(CaptureCmd::Snaplen(bytes));
                    if self.filter != FilterSpec::default()
                        && let Ok(program) = bpf::compile(&self.filter, bytes)
                    {
                        let _ = self.commands.send(CaptureCmd::Filter(program));
                    }
                } else {
                    self.error(format!("snaplen {bytes} not applied: use 64 to 262144"));
                }
            }
            Control::PingAdd {
                target,
                interval_ms,
                timeout_ms,
            } => {
                let interval = Duration::from_millis(interval_ms.unwrap_or(1000).max(10));
                let timeout = Duration::from_millis(timeout_ms.unwrap_or(1000).max(1));
                match self.prober.add(&target, interval, timeout) {
                    Ok(()) => self.ack("ping_add"),
                    Err(e) => self.error(e),
                }
            }
            Control::PingRemove { target } => match self.prober.remove(&target) {
                Ok(()) => self.ack("ping_remove"),
                Err(e) => self.error(e),
            },
        }
        None
    }
}

#[cfg(test)]
mod tests;
