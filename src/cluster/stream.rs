//! The exec stream: `podtap-agent capture` in the agent container, its
//! stdout through the same driver as every other source (so the front end
//! gets the same [`SourceEvent`]s), control lines and a heartbeat on stdin,
//! stderr lines as [`ClusterEvent::AgentStderr`], the channel-3 status as
//! the exit reason.
//!
//! It never hangs on a dead socket (kube-rs can leave a stdout reader
//! waiting forever when the WebSocket errors): the stdout pump races the
//! status future, and a read that sees nothing for the liveness timeout
//! counts as a broken stream. A broken stream is reopened on the same agent
//! with backoff (1, 2, 4 s), a bounded number of times.
//!
//! Threads: one runs the tokio side (exec, pump, stdin, stderr) on the
//! caller's multi-thread runtime; one per exec session runs the blocking
//! driver over a channel-backed `Read`.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::thread;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::api::{Api, AttachParams};
use tokio::io::AsyncWrite;

use crate::source::{SourceEvent, SourceHandle};
use crate::wire::agent::Control;

use super::events::{ClusterEvent, EventSender, emit};
use super::launch::AgentRef;
use super::pipes::{ChannelReader, PumpEnd, pump_stdout, read_stderr, write_line};
use super::{Cluster, api_code, api_message};
use crate::source::drive::{Delivery, Sink, drive};

/// The command run in the agent container.
const CAPTURE: [&str; 2] = ["/podtap-agent", "capture"];
/// How often the supervisor looks at control lines and the stop flag.
const POLL: Duration = Duration::from_millis(100);
/// How long the agent has to obey a stop line, and stdout to drain after the status.
pub(super) const GRACE: Duration = Duration::from_secs(2);

/// Timing of the exec stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamOptions {
    /// Time between heartbeat lines (the agent gives up after 15 s without one).
    pub heartbeat: Duration,
    /// A stream with no stdout bytes for this long is broken (the agent sends statistics every second).
    pub liveness: Duration,
    /// Reconnect attempts in a row before giving up.
    pub max_attempts: u32,
    /// The first reconnect delay; it doubles up to `max_backoff`.
    pub first_backoff: Duration,
    /// The longest reconnect delay.
    pub max_backoff: Duration,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            heartbeat: Duration::from_secs(2),
            liveness: Duration::from_secs(15),
            max_attempts: 5,
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(4),
        }
    }
}

impl StreamOptions {
    /// The wait before reconnect attempt `attempt` (from 1): 1, 2, 4, 4, ... s by default.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        self.first_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// Why a stream could not start.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// A thread could not be spawned.
    #[error("cannot start the exec stream thread: {0}")]
    Spawn(#[source] io::Error),
}

/// A running exec stream: the same handle as every other source
/// (`control` is always `Some`); dropping it stops the stream.
pub type StreamHandle = SourceHandle;

/// Starts streaming from `agent`: decoded events into `events` (drop and
/// count when full, like every live source), cluster events into
/// `cluster_events`. `runtime` must be a multi-thread runtime.
pub fn start_stream(
    runtime: &tokio::runtime::Handle,
    cluster: Cluster,
    agent: AgentRef,
    options: StreamOptions,
    events: SyncSender<SourceEvent>,
    cluster_events: EventSender,
) -> Result<StreamHandle, StreamError> {
    let stop = Arc::new(AtomicBool::new(false));
    let dropped = Arc::new(AtomicU64::new(0));
    let sink = Sink::new(
        events,
        Delivery::Lossy,
        Arc::clone(&stop),
        Arc::clone(&dropped),
    );
    let (control, commands) = mpsc::channel();
    let runtime = runtime.clone();
    let thread = thread::Builder::new()
        .name("podtap-exec".into())
        .spawn(move || {
            let supervisor = Supervisor {
                cluster,
                agent,
                options,
                sink,
                events: cluster_events,
                commands,
            };
            let error = runtime.block_on(supervisor.run());
            emit(
                &supervisor.events,
                ClusterEvent::StreamEnded {
                    reason: error.clone(),
                },
            );
            supervisor.sink.send_last(SourceEvent::Ended { error });
        })
        .map_err(StreamError::Spawn)?;
    Ok(SourceHandle::new(Some(control), stop, dropped, thread))
}

/// How one exec session ended.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// For good: `None` after a stop or a clean exit, else why.
    Done(Option<String>),
    /// The transport broke; worth another attempt. `streamed` when bytes came first.
    Broken { reason: String, streamed: bool },
}

/// Owns the stream across reconnects.
struct Supervisor {
    cluster: Cluster,
    agent: AgentRef,
    options: StreamOptions,
    sink: Sink,
    events: EventSender,
    commands: Receiver<Control>,
}

impl Supervisor {
    async fn run(&self) -> Option<String> {
        let mut failures = 0u32;
        let mut broken_since: Option<Instant> = None;
        loop {
            if self.sink.stopped() {
                return None;
            }
            match self.session(&mut broken_since).await {
                Outcome::Done(error) => return error,
                Outcome::Broken { reason, streamed } => {
                    failures = if streamed { 1 } else { failures + 1 };
                    if failures > self.options.max_attempts {
                        return Some(format!(
                            "the stream from {} broke {} times in a row; last: {reason}",
                            self.agent.container, self.options.max_attempts
                        ));
                    }
                    let delay = self.options.backoff(failures);
                    broken_since.get_or_insert_with(Instant::now);
                    emit(
                        &self.events,
                        ClusterEvent::Reconnecting {
                            attempt: failures,
                            delay,
                            reason,
                        },
                    );
                    let until = Instant::now() + delay;
                    while Instant::now() < until && !self.sink.stopped() {
                        tokio::time::sleep(
                            POLL.min(until.saturating_duration_since(Instant::now())),
                        )
                        .await;
                    }
                }
            }
        }
    }

    /// One exec of `podtap-agent capture`, from upgrade to exit.
    async fn session(&self, broken_since: &mut Option<Instant>) -> Outcome {
        let api: Api<Pod> = Api::namespaced(self.cluster.client.clone(), &self.agent.namespace);
        let params = AttachParams::default()
            .container(self.agent.container.clone())
            .stdin(true)
            .stdout(true)
            .stderr(true)
            .tty(false);
        // A connect to an unreachable server can take long: a stop request must not wait for it.
        let exec = api.exec(&self.agent.pod, CAPTURE, &params);
        tokio::pin!(exec);
        let opened = loop {
            tokio::select! {
                r = &mut exec => break r,
                () = tokio::time::sleep(POLL) => {
                    if self.sink.stopped() {
                        return Outcome::Done(None);
                    }
                }
            }
        };
        let mut process = match opened {
            Ok(p) => p,
            Err(e) => {
                let reason = format!(
                    "exec into {} failed: {}",
                    self.agent.container,
                    api_message(&e)
                );
                return match api_code(&e) {
                    Some(400..=499) => Outcome::Done(Some(reason)),
                    _ => Outcome::Broken {
                        reason,
                        streamed: false,
                    },
                };
            }
        };
        if let Some(since) = broken_since.take() {
            emit(
                &self.events,
                ClusterEvent::Reconnected {
                    gap: since.elapsed(),
                },
            );
        }
        emit(
            &self.events,
            ClusterEvent::StreamStarted {
                container: self.agent.container.clone(),
            },
        );
        let (Some(stdout), Some(stderr), Some(stdin), Some(status)) = (
            process.stdout(),
            process.stderr(),
            process.stdin(),
            process.take_status(),
        ) else {
            return Outcome::Done(Some("the exec session came without its streams".to_owned()));
        };

        let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(64);
        let driver_sink = self.sink.clone();
        let driver = match thread::Builder::new()
            .name("podtap-exec-decode".into())
            .spawn(move || drive(ChannelReader::new(rx), &driver_sink, None))
        {
            Ok(t) => t,
            Err(e) => return Outcome::Done(Some(format!("cannot start the decoder thread: {e}"))),
        };
        let stderr_task = tokio::spawn(read_stderr(stderr, self.events.clone()));
        let streamed = Arc::new(AtomicU64::new(0));
        let mut pump = Box::pin(pump_stdout(
            stdout,
            tx,
            self.options.liveness,
            Arc::clone(&streamed),
        ));
        let mut status = Box::pin(status);
        let mut stdin = Some(stdin);

        let mut beat = tokio::time::interval(self.options.heartbeat);
        let mut poll = tokio::time::interval(POLL);
        let mut exit: Option<Option<Status>> = None;
        let mut deadline: Option<Instant> = None;
        let mut stopping = false;
        let pump_end = loop {
            tokio::select! {
                end = &mut pump => break Some(end),
                st = &mut status, if exit.is_none() => {
                    exit = Some(st);
                    // The status comes after the last stdout frame: let the pump drain.
                    deadline = Some(Instant::now() + GRACE);
                }
                _ = beat.tick() => write_line(&mut stdin, &Control::Heartbeat).await,
                _ = poll.tick() => {
                    self.forward_commands(&mut stdin).await;
                    if self.sink.stopped() && !stopping {
                        stopping = true;
                        write_line(&mut stdin, &Control::Stop).await;
                        deadline = Some(deadline.map_or(Instant::now() + GRACE, |d| d.min(Instant::now() + GRACE)));
                    }
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        break None;
                    }
                }
            }
        };
        drop(pump);
        if exit.is_none() {
            exit = tokio::time::timeout(GRACE, &mut status).await.ok();
        }
        drop(stdin);
        process.abort();
        let read_error = tokio::task::spawn_blocking(move || driver.join())
            .await
            .ok()
            .and_then(Result::ok)
            .flatten();
        let last_stderr = match tokio::time::timeout(Duration::from_millis(200), stderr_task).await
        {
            Ok(Ok(line)) => line,
            _ => None,
        };
        let streamed = streamed.load(Ordering::Relaxed) > 0;
        classify(
            stopping,
            pump_end,
            exit.flatten(),
            read_error,
            last_stderr,
            streamed,
        )
    }

    /// Writes the control lines queued by the front end.
    async fn forward_commands<W: AsyncWrite + Unpin>(&self, stdin: &mut Option<W>) {
        loop {
            match self.commands.try_recv() {
                Ok(control) => write_line(stdin, &control).await,
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return,
            }
        }
    }
}

/// Turns how a session ended into what happens next.
fn classify(
    stopping: bool,
    pump_end: Option<PumpEnd>,
    exit: Option<Status>,
    read_error: Option<String>,
    last_stderr: Option<String>,
    streamed: bool,
) -> Outcome {
    if stopping || matches!(pump_end, Some(PumpEnd::ReceiverGone)) {
        return Outcome::Done(None);
    }
    match exit {
        Some(status) if status.status.as_deref() == Some("Success") => Outcome::Done(read_error),
        Some(status) => Outcome::Done(Some(exit_reason(&status, last_stderr))),
        // No status: the socket went away under the session.
        None => {
            let reason = match pump_end {
                Some(PumpEnd::Idle) => "no data from the agent for too long".to_owned(),
                Some(PumpEnd::Failed(e)) => format!("reading the stream failed: {e}"),
                _ => "the connection closed without an exit status".to_owned(),
            };
            Outcome::Broken { reason, streamed }
        }
    }
}

/// One sentence from a failure status: exit code, the agent's last stderr line or the server's message.
fn exit_reason(status: &Status, last_stderr: Option<String>) -> String {
    let code = status
        .details
        .as_ref()
        .and_then(|d| d.causes.as_ref())
        .and_then(|causes| {
            causes
                .iter()
                .find(|c| c.reason.as_deref() == Some("ExitCode"))
        })
        .and_then(|c| c.message.clone());
    let detail = last_stderr
        .or_else(|| status.message.clone())
        .unwrap_or_else(|| {
            status
                .reason
                .clone()
                .unwrap_or_else(|| "no reason given".to_owned())
        });
    match code {
        Some(code) => format!("the agent exited with code {code}: {detail}"),
        None => format!("the agent's session failed: {detail}"),
    }
}

#[cfg(test)]
mod tests;
