//! The launch screen's state: the preflight findings and each step of
//! adding the agent, with when it started and how long it took.

use std::time::{Duration, Instant};

use super::Target;
use crate::cluster::{ClusterEvent, Finding, LaunchStep};

/// Where a step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepState {
    /// Under way (a spinner).
    Running,
    /// Done.
    Done,
    /// Failed (the error is below the steps).
    Failed,
}

/// One line of the launch screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What it is.
    pub text: String,
    /// The kubelet's latest word while waiting.
    pub detail: Option<String>,
    /// Where it is.
    pub state: StepState,
    /// When it started, from the launch's start.
    pub at: Duration,
    /// How long it took, once over.
    pub took: Option<Duration>,
}

/// The launch screen.
#[derive(Debug, Clone, PartialEq)]
pub struct LaunchView {
    /// Which launch (0 before the request is sent).
    pub id: u64,
    /// The pod and container.
    pub target: Target,
    /// When the launch started.
    pub started: Instant,
    /// The steps so far.
    pub steps: Vec<Step>,
    /// The preflight's findings.
    pub findings: Vec<Finding>,
    /// Why it failed: one sentence with what to do.
    pub error: Option<String>,
    /// A Role granting the missing permissions.
    pub role: Option<String>,
    /// The agent container, once known.
    pub container: Option<String>,
    /// Scroll offset (long findings and Role YAML on a small terminal).
    pub scroll: u16,
    /// Whether the stream is up.
    pub streaming: bool,
}

impl LaunchView {
    /// Launch `id` of `target` starting at `now`, on its preflight.
    pub fn new(id: u64, target: Target, now: Instant) -> Self {
        let mut view = LaunchView {
            id,
            target,
            started: now,
            steps: Vec::new(),
            findings: Vec::new(),
            error: None,
            role: None,
            container: None,
            scroll: 0,
            streaming: false,
        };
        view.begin("Preflight: server version, permissions, Pod Security", now);
        view
    }

    /// An upper bound of the lines the screen shows, for scrolling.
    pub fn lines(&self) -> usize {
        let role = self.role.as_deref().map_or(0, |r| r.lines().count() + 2);
        self.steps.len() * 2 + self.findings.len() + 2 + 2 + role
    }

    /// Whether it failed (nothing more will happen).
    pub fn finished(&self) -> bool {
        self.error.is_some()
    }

    /// The preflight's answer.
    pub(super) fn preflight_done(&mut self, findings: Vec<Finding>, now: Instant) {
        let blocking = findings.iter().filter(|f| f.is_blocking()).count();
        let text = match (findings.len(), blocking) {
            (0, _) => "Preflight: all checks passed".to_owned(),
            (n, 0) => format!("Preflight: passed with {n} note{}", plural(n)),
            (_, b) => format!("Preflight: {b} blocking problem{}", plural(b)),
        };
        self.findings = findings;
        if blocking > 0 {
            self.end(StepState::Failed, Some(text), now);
        } else {
            self.end(StepState::Done, Some(text), now);
            self.begin("Looking for a running agent in the pod", now);
        }
    }

    /// The launch failed.
    pub(super) fn fail(&mut self, error: String, role: Option<String>, now: Instant) {
        self.end(StepState::Failed, None, now);
        self.error = Some(error);
        self.role = role;
    }

    /// Launch progress and the stream's start.
    pub(super) fn on_cluster(&mut self, e: &ClusterEvent, now: Instant) {
        match e {
            ClusterEvent::Progress(LaunchStep::Reusing { container }) => {
                self.container = Some(container.clone());
                self.end(
                    StepState::Done,
                    Some(format!("Reusing the running agent {container}")),
                    now,
                );
                self.begin("Opening the exec stream", now);
            }
            ClusterEvent::Progress(LaunchStep::Patched { container }) => {
                self.container = Some(container.clone());
                self.end(
                    StepState::Done,
                    Some(format!("Added the ephemeral container {container}")),
                    now,
                );
                self.begin(format!("Waiting for {container} to start"), now);
            }
            ClusterEvent::Progress(LaunchStep::Waiting { reason, message }) => {
                if let Some(step) = self.current() {
                    step.detail = Some(match message {
                        Some(m) => format!("{reason}: {m}"),
                        None => reason.clone(),
                    });
                }
            }
            ClusterEvent::Progress(LaunchStep::Running { container }) => {
                self.end(
                    StepState::Done,
                    Some(format!("{container} is running")),
                    now,
                );
                self.begin("Opening the exec stream", now);
            }
            // Only this launch's agent (a stream being retired may still start).
            ClusterEvent::StreamStarted { container }
                if self.container.as_ref() == Some(container) =>
            {
                self.streaming = true;
                self.end(
                    StepState::Done,
                    Some(format!("Streaming from {container}")),
                    now,
                );
            }
            ClusterEvent::StreamEnded {
                reason: Some(reason),
            } if !self.streaming && self.container.is_some() => {
                self.fail(reason.clone(), None, now);
            }
            // A watch error while waiting, a retried exec: shown under the running step.
            ClusterEvent::Error(m) | ClusterEvent::Reconnecting { reason: m, .. } => {
                if let Some(step) = self.current() {
                    step.detail = Some(m.clone());
                }
            }
            _ => {}
        }
    }

    fn current(&mut self) -> Option<&mut Step> {
        self.steps
            .last_mut()
            .filter(|s| s.state == StepState::Running)
    }

    fn begin(&mut self, text: impl Into<String>, now: Instant) {
        self.steps.push(Step {
            text: text.into(),
            detail: None,
            state: StepState::Running,
            at: now.saturating_duration_since(self.started),
            took: None,
        });
    }

    /// Ends the running step (renamed to `text` when given).
    fn end(&mut self, state: StepState, text: Option<String>, now: Instant) {
        let started = self.started;
        if let Some(step) = self.current() {
            step.state = state;
            step.took = Some(
                now.saturating_duration_since(started)
                    .saturating_sub(step.at),
            );
            if let Some(text) = text {
                step.text = text;
            }
            if state == StepState::Done {
                step.detail = None;
            }
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
