//! What the cluster side reports while it works: launch progress, preflight
//! findings, stream reconnects. Sent on a channel; never printed here.

use std::sync::mpsc::Sender;
use std::time::Duration;

use super::preflight::Finding;

/// Where cluster events go (unbounded: they are few and must not block API calls).
pub type EventSender = Sender<ClusterEvent>;

/// One step of adding or finding the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LaunchStep {
    /// A running podtap agent is already in the pod: it is used, nothing is added.
    Reusing {
        /// Its container name.
        container: String,
    },
    /// The PATCH adding the ephemeral container was accepted.
    Patched {
        /// The new container's name.
        container: String,
    },
    /// The kubelet reports the container waiting (`ContainerCreating`, a pull in progress, ...).
    Waiting {
        /// The kubelet's reason.
        reason: String,
        /// The kubelet's message, when it gave one.
        message: Option<String>,
    },
    /// The agent container runs.
    Running {
        /// Its container name.
        container: String,
    },
}

/// Something the cluster side wants the user to see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterEvent {
    /// Connected to an API server.
    Connected {
        /// The context used, when a kubeconfig was.
        context: Option<String>,
        /// The API server URL.
        server: String,
        /// The default namespace.
        namespace: String,
    },
    /// Launch progress.
    Progress(LaunchStep),
    /// A preflight finding.
    Finding(Finding),
    /// A failure, as one sentence.
    Error(String),
    /// A line the agent wrote on stderr.
    AgentStderr(String),
    /// The exec stream to the agent is up.
    StreamStarted {
        /// The agent container.
        container: String,
    },
    /// The exec stream broke; another attempt follows after `delay`.
    Reconnecting {
        /// Attempt number, from 1.
        attempt: u32,
        /// Wait before the attempt.
        delay: Duration,
        /// Why the stream broke.
        reason: String,
    },
    /// The stream is back; packets in `gap` were not seen.
    Reconnected {
        /// Time without a stream.
        gap: Duration,
    },
    /// The stream ended for good.
    StreamEnded {
        /// Why (`None` after a stop request or a clean agent exit).
        reason: Option<String>,
    },
}

/// Sends `event` if anybody still listens.
pub(crate) fn emit(events: &EventSender, event: ClusterEvent) {
    // A closed channel means the front end is gone; the work ends on its own.
    let _ = events.send(event);
}

impl ClusterEvent {
    /// One line for the user (stream data and the end of the stream excepted:
    /// the front end words those itself). Agent stderr is sanitised.
    pub fn describe(&self) -> Option<String> {
        Some(match self {
            ClusterEvent::Progress(LaunchStep::Reusing { container }) => {
                format!("reusing the running agent {container}")
            }
            ClusterEvent::Progress(LaunchStep::Patched { container }) => {
                format!("added the ephemeral container {container}")
            }
            ClusterEvent::Progress(LaunchStep::Waiting { reason, message }) => {
                format!(
                    "waiting: {reason}{}",
                    message
                        .as_ref()
                        .map(|m| format!(" ({m})"))
                        .unwrap_or_default()
                )
            }
            ClusterEvent::Progress(LaunchStep::Running { container }) => {
                format!("{container} is running")
            }
            ClusterEvent::StreamStarted { container } => format!("streaming from {container}"),
            ClusterEvent::Reconnecting {
                attempt,
                delay,
                reason,
            } => {
                format!(
                    "stream broke ({reason}); reconnecting in {} s (attempt {attempt})",
                    delay.as_secs()
                )
            }
            ClusterEvent::Reconnected { gap } => {
                format!("reconnected after {:.1} s without data", gap.as_secs_f64())
            }
            ClusterEvent::Error(m) => m.clone(),
            ClusterEvent::AgentStderr(m) => format!("agent: {}", crate::text::sanitize(m)),
            ClusterEvent::Connected { .. }
            | ClusterEvent::Finding(_)
            | ClusterEvent::StreamEnded { .. } => return None,
        })
    }
}
