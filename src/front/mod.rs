//! Cluster mode's front end: the context, namespace, pod and container
//! pickers, then the launch screen, then the live panes (an [`App`]).
//!
//! [`Front`] owns the state of the pickers and of the launch screen and is
//! the only code that changes it: worker replies ([`FrontEvent`]), cluster
//! events, keys, mouse events and ticks come in; [`Request`]s for the
//! worker go out in `requests`. It reads no clock and does no I/O, so tests
//! drive it exactly. The worker ([`worker`]) does the API calls on its own thread;
//! the runner (`tui.rs`) connects the two and swaps in an [`App`] when the
//! stream is up.
//!
//! [`App`]: crate::app::App

mod keys;
mod launch;
mod listing;
mod messages;
mod mouse;
pub mod worker;

use std::time::{Duration, Instant};

use crate::cluster::{ClusterEvent, ContextInfo, NamespaceSummary, PodSummary};
pub use launch::{LaunchView, Step, StepState};
pub use listing::Listing;
pub use messages::{FrontEvent, Request, Start, Target};

/// Which screen is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The kubeconfig's contexts.
    Contexts,
    /// The namespaces of the connected cluster.
    Namespaces,
    /// The pods of the chosen namespace.
    Pods,
    /// The containers of the chosen pod (when it has several).
    Containers,
    /// Preflight, adding the agent, opening the stream.
    Launch,
    /// The live panes (the runner's `App` has the screen).
    Live,
}

/// The type-to-filter line and the selection of the list on screen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pick {
    /// Filter text (case-insensitive substring of the name).
    pub query: String,
    /// Whether keys go to the filter text (after `/` or a plain letter).
    pub typing: bool,
    /// The selected row's name (kept when rows come and go).
    pub selected: Option<String>,
}

/// The cluster front end's state.
#[derive(Debug)]
pub struct Front {
    /// Screen.
    pub stage: Stage,
    /// The kubeconfig's contexts.
    pub contexts: Vec<ContextInfo>,
    /// The context asked for or connected with.
    pub context: Option<String>,
    /// The API server, once connected.
    pub server: Option<String>,
    /// Waiting for `Connected`.
    pub connecting: bool,
    /// The namespace the pods are from.
    pub namespace: String,
    /// Namespaces.
    pub namespaces: Listing<NamespaceSummary>,
    /// Pods of `namespace`.
    pub pods: Listing<PodSummary>,
    /// The pod whose containers are listed.
    pub pod: Option<String>,
    /// Filter and selection of the list on screen.
    pub pick: Pick,
    /// The launch screen (also kept while live, for the way back).
    pub launch: Option<LaunchView>,
    /// A problem to show above the hints (connection, watch).
    pub error: Option<String>,
    /// Requests for the worker (drained by the runner).
    pub requests: Vec<Request>,
    /// Set when the user quits.
    pub should_quit: bool,
    /// The latest time seen (ticks), for spinners and elapsed times.
    pub now: Instant,
    /// The `-n` namespace to use on the first connection only.
    first_namespace: Option<String>,
    /// A pod to launch as soon as the first connection is up.
    first_pod: Option<(String, Option<String>)>,
    /// Launches started so far (the id of the latest).
    launches: u64,
}

impl Front {
    /// The front end at `now`; its first requests are queued in `requests`.
    pub fn new(start: Start, now: Instant) -> Self {
        let context = start.context.or_else(|| {
            start
                .contexts
                .iter()
                .find(|c| c.current)
                .map(|c| c.name.clone())
        });
        let stage = if start.pod.is_some() {
            Stage::Launch
        } else {
            Stage::Pods
        };
        let mut front = Front {
            stage,
            contexts: start.contexts,
            context: context.clone(),
            server: None,
            connecting: true,
            namespace: start.namespace.clone().unwrap_or_default(),
            namespaces: Listing::default(),
            pods: Listing::default(),
            pod: None,
            pick: Pick::default(),
            launch: None,
            error: None,
            requests: vec![Request::Connect { context }],
            should_quit: false,
            now,
            first_namespace: start.namespace,
            first_pod: start.pod,
            launches: 0,
        };
        if let Some((pod, container)) = &front.first_pod {
            front.launch = Some(LaunchView::new(
                0,
                Target {
                    namespace: front.namespace.clone(),
                    pod: pod.clone(),
                    container: container.clone(),
                },
                now,
            ));
        }
        front
    }

    /// Time passes.
    pub fn tick(&mut self, now: Instant) {
        self.now = self.now.max(now);
    }

    /// How long the launch screen has been up.
    pub fn launch_elapsed(&self) -> Duration {
        self.launch.as_ref().map_or(Duration::ZERO, |l| {
            self.now.saturating_duration_since(l.started)
        })
    }

    /// A worker reply.
    pub fn on_worker(&mut self, e: FrontEvent) {
        match e {
            FrontEvent::Connected {
                context,
                server,
                namespace,
            } => {
                self.connecting = false;
                self.error = None;
                self.context = context;
                self.server = Some(server);
                self.namespaces = Listing::default();
                self.namespace = self.first_namespace.take().unwrap_or(namespace);
                self.watch_pods();
                if let Some((pod, container)) = self.first_pod.take() {
                    let target = Target {
                        namespace: self.namespace.clone(),
                        pod,
                        container,
                    };
                    self.start_launch(target);
                }
            }
            FrontEvent::ConnectFailed(error) => {
                self.connecting = false;
                // The pod from the command line is for the first connection only.
                self.first_pod = None;
                self.first_namespace = None;
                self.error = Some(error.clone());
                if let Some(l) = &mut self.launch
                    && self.stage == Stage::Launch
                {
                    l.fail(error, None, self.now);
                } else if !self.contexts.is_empty() {
                    self.enter(Stage::Contexts);
                }
            }
            FrontEvent::Namespaces(update) => {
                self.namespaces.apply(update, self.now, |n| &n.name);
                self.namespaces.error = None;
            }
            FrontEvent::NamespacesFailed(error) => self.namespaces.error = Some(error),
            FrontEvent::Pods { namespace, update } if namespace == self.namespace => {
                self.pods.apply(update, self.now, |p| &p.name);
                self.pods.error = None;
            }
            FrontEvent::PodsFailed { namespace, error } if namespace == self.namespace => {
                self.pods.error = Some(error);
            }
            FrontEvent::Pods { .. } | FrontEvent::PodsFailed { .. } => {}
            FrontEvent::Preflight { launch, findings } => {
                if let Some(l) = self.launch.as_mut().filter(|l| l.id == launch) {
                    l.preflight_done(findings, self.now);
                }
            }
            FrontEvent::LaunchFailed {
                launch,
                error,
                role,
            } => {
                if let Some(l) = self.launch.as_mut().filter(|l| l.id == launch) {
                    l.fail(error, role, self.now);
                }
            }
        }
    }

    /// A cluster event (launch progress while launching).
    pub fn on_cluster(&mut self, e: &ClusterEvent) {
        if let Some(l) = &mut self.launch {
            l.on_cluster(e, self.now);
        }
    }

    /// The stream is up: the runner shows the live panes.
    pub fn went_live(&mut self) {
        self.stage = Stage::Live;
    }

    /// From the launch screen or the panes to the pod list, on the pod tapped.
    pub fn back_to_pods(&mut self) {
        let pod = self.launch.take().map(|l| l.target.pod);
        self.enter(Stage::Pods);
        self.pick.selected = pod;
    }

    /// The names in the list on screen that pass the filter, in order.
    pub fn rows(&self) -> Vec<&str> {
        let q = self.pick.query.to_lowercase();
        let keep = |name: &str| q.is_empty() || name.to_lowercase().contains(&q);
        match self.stage {
            Stage::Contexts => self
                .contexts
                .iter()
                .map(|c| c.name.as_str())
                .filter(|n| keep(n))
                .collect(),
            Stage::Namespaces => self.namespaces.names().filter(|n| keep(n)).collect(),
            Stage::Pods => self.pods.names().filter(|n| keep(n)).collect(),
            Stage::Containers => self
                .selected_pod()
                .map(|p| {
                    p.containers
                        .iter()
                        .map(String::as_str)
                        .filter(|n| keep(n))
                        .collect()
                })
                .unwrap_or_default(),
            Stage::Launch | Stage::Live => Vec::new(),
        }
    }

    /// The selected row's index in [`Front::rows`] (the first row when the selection is gone).
    pub fn selected_index(&self, rows: &[&str]) -> Option<usize> {
        if rows.is_empty() {
            return None;
        }
        Some(
            self.pick
                .selected
                .as_deref()
                .and_then(|s| rows.iter().position(|r| *r == s))
                .unwrap_or(0),
        )
    }

    /// The pod the containers are listed for.
    pub fn selected_pod(&self) -> Option<&PodSummary> {
        self.pod.as_deref().and_then(|p| self.pods.get(p))
    }

    pub(super) fn enter(&mut self, stage: Stage) {
        self.stage = stage;
        self.pick = Pick::default();
    }

    pub(super) fn watch_pods(&mut self) {
        self.pods = Listing::default();
        self.requests.push(Request::WatchPods {
            namespace: self.namespace.clone(),
        });
    }

    pub(super) fn start_launch(&mut self, target: Target) {
        self.launches += 1;
        let id = self.launches;
        self.launch = Some(LaunchView::new(id, target.clone(), self.now));
        self.requests.push(Request::Launch { id, target });
        self.stage = Stage::Launch;
    }
}

#[cfg(test)]
mod tests;
