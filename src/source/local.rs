//! A local `podtap-agent capture` process, optionally in a network namespace
//! (`ip netns exec NS`): its stdout through the driver, control lines and
//! heartbeats on its stdin, the last line of its stderr when it fails.
//!
//! Threads: one runs the driver over stdout, one keeps stderr, and the
//! supervisor (the source's thread) writes stdin, watches for a stop request
//! and, once the stream ends, reaps the agent and sends `Ended`.

use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStderr, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::wire::agent::Control;

use super::SourceEvent;
use super::drive::{Sink, drive};

/// Time between two heartbeat lines (the agent's default timeout is 15 s).
const HEARTBEAT_EVERY: Duration = Duration::from_secs(2);
/// How long the agent has to exit after a stop line before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(2);
/// Longest wait of the supervisor between two looks at the stop flag.
const POLL: Duration = Duration::from_millis(100);

/// The agent child; dropping it kills the process if it still runs and reaps it.
struct Agent {
    child: Child,
    killed: bool,
}

impl Agent {
    fn kill(&mut self) {
        if !self.killed {
            self.killed = true;
            // An error means it exited already: nothing to do.
            let _ = self.child.kill();
        }
    }

    /// Asks the agent to stop (it may be gone already), waits `STOP_GRACE`,
    /// then kills it. The exit status, when the OS reports one.
    fn finish(&mut self, stdin: &mut Option<ChildStdin>) -> Option<ExitStatus> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Some(status);
        }
        write_line(stdin, &Control::Stop);
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) => thread::sleep(Duration::from_millis(20)),
                Err(_) => break,
            }
        }
        self.kill();
        self.child.wait().ok()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.kill();
        }
        let _ = self.child.wait();
    }
}

/// Spawns the agent and the threads around it; returns the control sender
/// and the supervisor thread, which sends `Ended` last.
pub(crate) fn start(
    agent: &Path,
    netns: Option<&str>,
    sink: Sink,
) -> io::Result<(Sender<Control>, JoinHandle<()>)> {
    let mut command = match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns]).arg(agent);
            c
        }
        None => Command::new(agent),
    };
    command
        .arg("capture")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command.spawn().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot start the agent {}: {e}", agent.display()),
        )
    })?;
    // From here on, dropping `agent` (an early return) kills the process.
    let mut agent = Agent {
        child,
        killed: false,
    };
    let missing = || io::Error::other("the agent's standard streams were not piped");
    let stdout = agent.child.stdout.take().ok_or_else(missing)?;
    let stderr = agent.child.stderr.take().ok_or_else(missing)?;
    let stdin = agent.child.stdin.take();

    let stderr_thread = thread::Builder::new()
        .name("podtap-agent-stderr".into())
        .spawn(move || last_line(stderr))?;
    let driver_sink = sink.clone();
    let driver = thread::Builder::new()
        .name("podtap-agent-stream".into())
        .spawn(move || drive(stdout, &driver_sink, None))?;
    let (control, commands) = mpsc::channel();
    let supervisor = thread::Builder::new()
        .name("podtap-agent".into())
        .spawn(move || {
            let supervisor = Supervisor {
                agent,
                stdin,
                commands,
                sink,
            };
            supervisor.run(driver, stderr_thread);
        })?;
    Ok((control, supervisor))
}

/// The last non-empty line the agent wrote to stderr.
fn last_line(stderr: ChildStderr) -> Option<String> {
    let mut last = None;
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        let line = line.trim();
        if !line.is_empty() {
            last = Some(line.to_owned());
        }
    }
    last
}

/// Writes one control line; a failed write means the agent is gone, so stdin is dropped.
fn write_line(stdin: &mut Option<ChildStdin>, control: &Control) {
    if let Some(pipe) = stdin {
        let line = control.to_line();
        if pipe
            .write_all(line.as_bytes())
            .and_then(|()| pipe.flush())
            .is_err()
        {
            *stdin = None;
        }
    }
}

/// Owns the agent process and its stdin.
struct Supervisor {
    agent: Agent,
    stdin: Option<ChildStdin>,
    commands: Receiver<Control>,
    sink: Sink,
}

impl Supervisor {
    fn run(mut self, driver: JoinHandle<Option<String>>, stderr: JoinHandle<Option<String>>) {
        let mut next_beat = Instant::now() + HEARTBEAT_EVERY;
        let mut stop_sent: Option<Instant> = None;
        let mut commands_open = true;
        while !driver.is_finished() {
            match stop_sent {
                None if self.sink.stopped() => {
                    write_line(&mut self.stdin, &Control::Stop);
                    stop_sent = Some(Instant::now());
                }
                // The agent ignores the stop line: the stream ends when it is killed.
                Some(at) if at.elapsed() >= STOP_GRACE => self.agent.kill(),
                _ => {}
            }
            let wait = next_beat
                .saturating_duration_since(Instant::now())
                .min(POLL);
            if commands_open {
                match self.commands.recv_timeout(wait) {
                    Ok(control) => write_line(&mut self.stdin, &control),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => commands_open = false,
                }
            } else {
                thread::sleep(wait);
            }
            if Instant::now() >= next_beat {
                write_line(&mut self.stdin, &Control::Heartbeat);
                next_beat += HEARTBEAT_EVERY;
            }
        }
        let read_error = driver
            .join()
            .unwrap_or_else(|_| Some("the agent stream reader failed".to_owned()));
        let status = self.agent.finish(&mut self.stdin);
        // The agent has exited, so its stderr is at its end.
        let last_stderr = stderr.join().ok().flatten();
        let error = if self.sink.stopped() {
            // The user asked for the end; how the agent took it does not matter.
            None
        } else {
            match status {
                Some(s) if s.success() => read_error,
                // Killed by us after the stream ended: the stream's error says more.
                _ if self.agent.killed => read_error
                    .or_else(|| Some("the agent did not stop in time and was killed".into())),
                Some(s) => Some(last_stderr.unwrap_or_else(|| format!("the agent exited: {s}"))),
                None => read_error.or_else(|| Some("the agent's exit status is unknown".into())),
            }
        };
        self.sink.send_last(SourceEvent::Ended { error });
    }
}
