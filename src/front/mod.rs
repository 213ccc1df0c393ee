//! Cluster mode's front end: the context, namespace, pod and container
//! pickers, then the launch screen, then the live panes (an [`App`]).
//!
//! [`Front`] owns the state of the pickers and of the launch screen and is
//! the only code that changes it: worker replies ([`FrontEvent`]), cluster
//! events, keys and ticks come in; [`Request`]s for the worker go out in
//! `requests`. It reads no clock and does no I/O, so tests drive it
//! exactly. The worker ([`worker`]) does the API calls on its own thread;
//! the runner (`tui.rs`) connects the two and swaps in an [`App`] when the
//! stream is up.
//!
//! [`App`]: crate::app::App

mod launch;
mod listing;
pub mod worker;

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::cluster::{
    ClusterEvent, ContextInfo, NamespaceSummary, NamespaceUpdate, PodSummary, PodUpdate,
};
pub use launch::{LaunchView, Step, StepState};
pub use listing::Listing;

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

/// The pod, and the container whose network the agent shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Namespace.
    pub namespace: String,
    /// Pod.
    pub pod: String,
    /// Container (`None`: the pod's default container).
    pub container: Option<String>,
}

/// What the front end asks the worker to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Connect with a context (`None`: the current one, or in-cluster) and watch the namespaces.
    Connect {
        /// The context.
        context: Option<String>,
    },
    /// Watch the pods of a namespace (stops watching the previous one).
    WatchPods {
        /// The namespace.
        namespace: String,
    },
    /// Preflight, add or reuse the agent, open the stream. Replies carry `id`.
    Launch {
        /// Which launch (replies to an abandoned one are ignored).
        id: u64,
        /// The pod and container.
        target: Target,
    },
    /// Abandon the launch in progress.
    Cancel,
}

/// What the worker reports (the stream itself goes to the runner).
#[derive(Debug, Clone, PartialEq)]
pub enum FrontEvent {
    /// Connected.
    Connected {
        /// The context (`None` in-cluster).
        context: Option<String>,
        /// The API server.
        server: String,
        /// The namespace to start in.
        namespace: String,
    },
    /// Could not connect: one sentence.
    ConnectFailed(String),
    /// The namespaces changed.
    Namespaces(NamespaceUpdate),
    /// The namespace watch failed (it retries); one sentence.
    NamespacesFailed(String),
    /// The pods of `namespace` changed.
    Pods {
        /// The namespace.
        namespace: String,
        /// The change.
        update: PodUpdate,
    },
    /// The pod watch of `namespace` failed (it retries); one sentence.
    PodsFailed {
        /// The namespace.
        namespace: String,
        /// Why.
        error: String,
    },
    /// The preflight is done: its findings (a blocking one ends the launch with `LaunchFailed`).
    Preflight {
        /// The launch.
        launch: u64,
        /// The findings.
        findings: Vec<crate::cluster::Finding>,
    },
    /// The launch failed: why and what to do, and the Role to grant when a permission is missing.
    LaunchFailed {
        /// The launch.
        launch: u64,
        /// One sentence.
        error: String,
        /// A minimal Role YAML.
        role: Option<String>,
    },
}

/// How the front end starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Start {
    /// The kubeconfig's contexts (empty in-cluster).
    pub contexts: Vec<ContextInfo>,
    /// The context to connect with (`--context`, else the current one).
    pub context: Option<String>,
    /// `-n`: the namespace to start in instead of the context's.
    pub namespace: Option<String>,
    /// `POD` (and `-c`): go straight to the launch screen.
    pub pod: Option<(String, Option<String>)>,
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

    /// The user left the live panes: back to the pods.
    pub fn back_from_live(&mut self) {
        self.back_to_pods();
    }

    /// From the launch screen or the panes to the pod list, on the pod tapped.
    fn back_to_pods(&mut self) {
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

    /// A key. Ctrl-C quits from everywhere.
    pub fn on_key(&mut self, k: KeyEvent) {
        if k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c') {
            self.should_quit = true;
            return;
        }
        match self.stage {
            Stage::Launch => self.launch_key(k),
            Stage::Live => {}
            _ if self.pick.typing => self.typing_key(k),
            _ => self.list_key(k),
        }
    }

    fn launch_key(&mut self, k: KeyEvent) {
        match k.code {
            KeyCode::Esc | KeyCode::Backspace => {
                if self.launch.as_ref().is_some_and(|l| !l.finished()) {
                    self.requests.push(Request::Cancel);
                }
                self.first_pod = None;
                self.first_namespace = None;
                self.back_to_pods();
            }
            KeyCode::Char('q') => self.should_quit = true,
            KeyCode::Char('j') | KeyCode::Down => self.scroll_launch(1),
            KeyCode::Char('k') | KeyCode::Up => self.scroll_launch(-1),
            KeyCode::Char('r') | KeyCode::Enter => {
                // Retry after a failure.
                if let Some(l) = &self.launch
                    && l.finished()
                {
                    let target = l.target.clone();
                    if self.server.is_none() && !self.connecting {
                        // Not connected (the connection failed): connect again, then launch.
                        self.first_namespace = Some(target.namespace.clone());
                        self.first_pod = Some((target.pod.clone(), target.container.clone()));
                        self.connecting = true;
                        self.requests.push(Request::Connect {
                            context: self.context.clone(),
                        });
                        self.launch = Some(LaunchView::new(0, target, self.now));
                    } else {
                        self.start_launch(target);
                    }
                }
            }
            _ => {}
        }
    }

    fn scroll_launch(&mut self, delta: i32) {
        if let Some(l) = &mut self.launch {
            let max = u16::try_from(l.lines()).unwrap_or(u16::MAX);
            l.scroll = l
                .scroll
                .saturating_add_signed(delta.clamp(-1, 1) as i16)
                .min(max);
        }
    }

    fn typing_key(&mut self, k: KeyEvent) {
        match k.code {
            KeyCode::Esc => {
                self.pick.query.clear();
                self.pick.typing = false;
            }
            KeyCode::Enter => self.choose(),
            KeyCode::Backspace if self.pick.query.pop().is_none() => self.pick.typing = false,
            KeyCode::Up => self.move_by(-1),
            KeyCode::Down => self.move_by(1),
            KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => {
                self.pick.query.push(c);
            }
            _ => {}
        }
    }

    fn list_key(&mut self, k: KeyEvent) {
        match k.code {
            KeyCode::Char('q') => self.should_quit = true,
            KeyCode::Char('j') | KeyCode::Down => self.move_by(1),
            KeyCode::Char('k') | KeyCode::Up => self.move_by(-1),
            KeyCode::Char('g') | KeyCode::Home => self.move_by(isize::MIN / 2),
            KeyCode::Char('G') | KeyCode::End => self.move_by(isize::MAX / 2),
            KeyCode::PageDown => self.move_by(20),
            KeyCode::PageUp => self.move_by(-20),
            KeyCode::Enter | KeyCode::Right | KeyCode::Char('l') => self.choose(),
            KeyCode::Esc | KeyCode::Left | KeyCode::Char('h') | KeyCode::Backspace => {
                if self.pick.query.is_empty() {
                    self.back();
                } else {
                    self.pick.query.clear();
                }
            }
            KeyCode::Char('/') => self.pick.typing = true,
            KeyCode::Char(c)
                if !k
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                // Type to filter: any other letter starts the filter with itself.
                self.pick.typing = true;
                self.pick.query.push(c);
            }
            _ => {}
        }
    }

    fn move_by(&mut self, delta: isize) {
        let rows = self.rows();
        let Some(at) = self.selected_index(&rows) else {
            return;
        };
        let last = rows.len() - 1;
        let to = at.saturating_add_signed(delta).min(last);
        self.pick.selected = Some(rows[to].to_owned());
    }

    /// Enter on the selected row (on a namespace list that is empty or
    /// forbidden, the typed name is used as the namespace).
    fn choose(&mut self) {
        let rows = self.rows();
        let chosen = self
            .selected_index(&rows)
            .map(|i| rows[i].to_owned())
            .or_else(|| {
                (self.stage == Stage::Namespaces && !self.pick.query.is_empty())
                    .then(|| self.pick.query.clone())
            });
        let Some(name) = chosen else { return };
        match self.stage {
            Stage::Contexts => {
                self.context = Some(name.clone());
                self.connecting = true;
                self.server = None;
                self.namespaces = Listing::default();
                self.pods = Listing::default();
                self.requests.push(Request::Connect {
                    context: Some(name),
                });
                self.enter(Stage::Pods);
            }
            Stage::Namespaces => {
                self.namespace = name;
                self.watch_pods();
                self.enter(Stage::Pods);
            }
            Stage::Pods => {
                let Some(pod) = self.pods.get(&name) else {
                    return;
                };
                if pod.containers.len() > 1 {
                    self.pod = Some(name);
                    self.enter(Stage::Containers);
                    // Start on the default container.
                    self.pick.selected = self
                        .selected_pod()
                        .and_then(|p| p.default_container.clone());
                } else {
                    let target = Target {
                        namespace: self.namespace.clone(),
                        pod: name,
                        container: None,
                    };
                    self.start_launch(target);
                }
            }
            Stage::Containers => {
                let Some(pod) = self.pod.clone() else { return };
                let target = Target {
                    namespace: self.namespace.clone(),
                    pod,
                    container: Some(name),
                };
                self.start_launch(target);
            }
            Stage::Launch | Stage::Live => {}
        }
    }

    /// Esc: one level up (pods -> namespaces -> contexts); at the top it quits.
    fn back(&mut self) {
        match self.stage {
            Stage::Containers => {
                let pod = self.pod.take();
                self.enter(Stage::Pods);
                self.pick.selected = pod;
            }
            Stage::Pods => {
                let ns = self.namespace.clone();
                self.enter(Stage::Namespaces);
                self.pick.selected = Some(ns);
            }
            Stage::Namespaces if !self.contexts.is_empty() => {
                let ctx = self.context.clone();
                self.enter(Stage::Contexts);
                self.pick.selected = ctx;
            }
            Stage::Namespaces | Stage::Contexts => self.should_quit = true,
            Stage::Launch | Stage::Live => {}
        }
    }

    fn enter(&mut self, stage: Stage) {
        self.stage = stage;
        self.pick = Pick::default();
    }

    fn watch_pods(&mut self) {
        self.pods = Listing::default();
        self.requests.push(Request::WatchPods {
            namespace: self.namespace.clone(),
        });
    }

    fn start_launch(&mut self, target: Target) {
        self.launches += 1;
        let id = self.launches;
        self.launch = Some(LaunchView::new(id, target.clone(), self.now));
        self.requests.push(Request::Launch { id, target });
        self.stage = Stage::Launch;
    }
}

#[cfg(test)]
mod tests;
