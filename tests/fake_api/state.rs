//! What the fake API server knows: namespaces, pods, the watch event history,
//! the request log and the failure knobs. Shared between the server and the
//! test through `FakeState` (cheap to clone); every change to an object goes
//! through here so that watchers see it as ADDED, MODIFIED or DELETED.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;
use tokio::sync::broadcast;

/// Watch events kept for watches that resume from a resourceVersion.
const HISTORY: usize = 1000;
/// Requests kept in the log.
const REQUEST_LOG: usize = 10_000;
/// Request bodies are logged up to this many bytes.
const LOGGED_BODY: usize = 64 * 1024;

/// What exec runs: `(container, command) -> process`. For attach the command is empty.
pub type ExecPlug = dyn Fn(&str, &[String]) -> std::process::Command + Send + Sync;

/// The kind of object an event or a list is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    /// `pods` (namespaced).
    Pods,
    /// `namespaces` (cluster-scoped).
    Namespaces,
}

/// One change to an object, as a watch stream reports it.
#[derive(Clone, Debug)]
pub struct Event {
    /// The resourceVersion the change produced.
    pub rv: u64,
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub kind: &'static str,
    /// Which resource.
    pub resource: Resource,
    /// The object after the change (for DELETED, its last state).
    pub object: Value,
}

/// One request as the server received it.
#[derive(Clone, Debug)]
pub struct LoggedRequest {
    /// `GET`, `PATCH`, ...
    pub method: String,
    /// The path without the query.
    pub path: String,
    /// The raw query string (empty when none).
    pub query: String,
    /// The `Content-Type` header (empty when none).
    pub content_type: String,
    /// The body as lossy UTF-8, cut at 64 KiB.
    pub body: String,
}

/// Where the next exec session is cut, and whether its process is left running.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ExecCut {
    /// Stdout bytes sent before the cut.
    pub after: usize,
    /// Leave the process running (stdin open, stdout drained) instead of killing it.
    pub keep_process: bool,
}

/// An exec process left running after its connection was cut, as the fake saw it.
#[derive(Clone, Debug)]
pub struct OrphanedExec {
    /// The process id.
    pub pid: Option<u32>,
    /// When the connection was dropped.
    pub cut_at: Instant,
    /// Everything the process wrote to stderr after the cut (lossy UTF-8).
    pub stderr: String,
    /// When the process exited (`None` while it runs).
    pub exited_at: Option<Instant>,
    /// Its exit code (128 + signal when killed).
    pub exit_code: Option<i32>,
}

/// Failure knobs and timings.
#[derive(Clone, Debug)]
pub(crate) struct Knobs {
    pub denied: Vec<(String, String, String)>,
    pub ephemeral_disabled: bool,
    pub pull_fails: Vec<String>,
    pub delete_pod_after_patch: bool,
    pub kubelet_delay: Duration,
    pub bookmark_interval: Duration,
    pub exec_cuts: VecDeque<ExecCut>,
    pub version_minor: u32,
}

pub(crate) struct Inner {
    pub rv: u64,
    pub namespaces: BTreeMap<String, Namespace>,
    pub pods: BTreeMap<(String, String), Pod>,
    /// Events with rv greater than `history_floor` are all in `history`.
    pub history: VecDeque<Event>,
    pub history_floor: u64,
    pub requests: VecDeque<LoggedRequest>,
    pub knobs: Knobs,
    pub exec_plug: Option<Arc<ExecPlug>>,
    pub orphans: Vec<OrphanedExec>,
    pub next_uid: u64,
}

struct Shared {
    inner: Mutex<Inner>,
    events: broadcast::Sender<Event>,
}

/// The fake cluster's state, shared by the server and the test.
#[derive(Clone)]
pub struct FakeState {
    shared: Arc<Shared>,
}

impl Default for FakeState {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeState {
    /// An empty cluster: namespaces `default` and `kube-system` only.
    pub fn new() -> Self {
        let (events, _) = broadcast::channel(1024);
        let state = FakeState {
            shared: Arc::new(Shared {
                inner: Mutex::new(Inner {
                    rv: 100,
                    namespaces: BTreeMap::new(),
                    pods: BTreeMap::new(),
                    history: VecDeque::new(),
                    history_floor: 100,
                    requests: VecDeque::new(),
                    knobs: Knobs {
                        denied: Vec::new(),
                        ephemeral_disabled: false,
                        pull_fails: Vec::new(),
                        delete_pod_after_patch: false,
                        kubelet_delay: Duration::from_millis(300),
                        bookmark_interval: Duration::from_secs(2),
                        exec_cuts: VecDeque::new(),
                        version_minor: 31,
                    },
                    exec_plug: None,
                    orphans: Vec::new(),
                    next_uid: 1,
                }),
                events,
            }),
        };
        state.add_namespace("default", &[]);
        state.add_namespace("kube-system", &[]);
        state
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.shared
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.shared.events.subscribe()
    }

    /// Records a change: bumps the resourceVersion, keeps it for resuming
    /// watches and tells the live ones. Returns the new resourceVersion.
    fn emit(&self, inner: &mut Inner, kind: &'static str, resource: Resource, object: Value) {
        let event = Event {
            rv: inner.rv,
            kind,
            resource,
            object,
        };
        if inner.history.len() == HISTORY
            && let Some(old) = inner.history.pop_front()
        {
            inner.history_floor = old.rv;
        }
        inner.history.push_back(event.clone());
        // No receivers is fine.
        let _ = self.shared.events.send(event);
    }

    fn stamp(inner: &mut Inner, meta: &mut ObjectMeta) {
        inner.rv += 1;
        meta.resource_version = Some(inner.rv.to_string());
        if meta.uid.is_none() {
            meta.uid = Some(format!("6f1c0d2e-0000-4000-8000-{:012x}", inner.next_uid));
            inner.next_uid += 1;
        }
        if meta.creation_timestamp.is_none() {
            meta.creation_timestamp = Some(now());
        }
    }

    /// Adds (or replaces) a namespace with these labels, e.g.
    /// `[("pod-security.kubernetes.io/enforce", "restricted")]`.
    pub fn add_namespace(&self, name: &str, labels: &[(&str, &str)]) {
        let mut ns = Namespace {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                labels: Some(
                    std::iter::once(("kubernetes.io/metadata.name", name))
                        .chain(labels.iter().copied())
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                        .collect(),
                ),
                ..ObjectMeta::default()
            },
            spec: Some(k8s_openapi::api::core::v1::NamespaceSpec {
                finalizers: Some(vec!["kubernetes".to_owned()]),
            }),
            status: Some(k8s_openapi::api::core::v1::NamespaceStatus {
                phase: Some("Active".to_owned()),
                ..Default::default()
            }),
        };
        let mut inner = self.lock();
        let kind = if inner.namespaces.contains_key(name) {
            "MODIFIED"
        } else {
            "ADDED"
        };
        Self::stamp(&mut inner, &mut ns.metadata);
        inner.namespaces.insert(name.to_owned(), ns.clone());
        self.emit(&mut inner, kind, Resource::Namespaces, to_value(&ns));
    }

    /// A namespace by name.
    pub fn namespace(&self, name: &str) -> Option<Namespace> {
        self.lock().namespaces.get(name).cloned()
    }

    /// Adds a pod (its namespace is created when missing); fills uid,
    /// creationTimestamp and resourceVersion. Returns the stored pod.
    pub fn add_pod(&self, mut pod: Pod) -> Pod {
        let ns = pod
            .metadata
            .namespace
            .get_or_insert_with(|| "default".to_owned())
            .clone();
        if self.namespace(&ns).is_none() {
            self.add_namespace(&ns, &[]);
        }
        let name = pod.metadata.name.clone().unwrap_or_default();
        let mut inner = self.lock();
        Self::stamp(&mut inner, &mut pod.metadata);
        let key = (ns, name);
        let kind = if inner.pods.contains_key(&key) {
            "MODIFIED"
        } else {
            "ADDED"
        };
        inner.pods.insert(key, pod.clone());
        self.emit(&mut inner, kind, Resource::Pods, to_value(&pod));
        pod
    }

    /// A pod by namespace and name.
    pub fn pod(&self, namespace: &str, name: &str) -> Option<Pod> {
        self.lock()
            .pods
            .get(&(namespace.to_owned(), name.to_owned()))
            .cloned()
    }

    /// Changes a pod in place (a MODIFIED event follows); `None` when it does not exist.
    pub fn update_pod(&self, namespace: &str, name: &str, f: impl FnOnce(&mut Pod)) -> Option<Pod> {
        let mut inner = self.lock();
        let key = (namespace.to_owned(), name.to_owned());
        let mut pod = inner.pods.get(&key)?.clone();
        f(&mut pod);
        Self::stamp(&mut inner, &mut pod.metadata);
        inner.pods.insert(key, pod.clone());
        self.emit(&mut inner, "MODIFIED", Resource::Pods, to_value(&pod));
        Some(pod)
    }

    /// Removes a pod at once (a DELETED event follows).
    pub fn delete_pod(&self, namespace: &str, name: &str) -> Option<Pod> {
        let mut inner = self.lock();
        let mut pod = inner
            .pods
            .remove(&(namespace.to_owned(), name.to_owned()))?;
        Self::stamp(&mut inner, &mut pod.metadata);
        self.emit(&mut inner, "DELETED", Resource::Pods, to_value(&pod));
        Some(pod)
    }

    /// Every request so far (oldest first, the last 10 000).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.lock().requests.iter().cloned().collect()
    }

    /// The requests with this method whose path contains `path_part`.
    pub fn requests_matching(&self, method: &str, path_part: &str) -> Vec<LoggedRequest> {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.method == method && r.path.contains(path_part))
            .cloned()
            .collect()
    }

    /// Forgets the logged requests.
    pub fn clear_requests(&self) {
        self.lock().requests.clear();
    }

    pub(crate) fn log_request(&self, request: LoggedRequest) {
        let mut inner = self.lock();
        if inner.requests.len() == REQUEST_LOG {
            inner.requests.pop_front();
        }
        inner.requests.push_back(request);
    }

    /// Denies `verb` on `resource`/`subresource` (`""` for none, `"*"` matches
    /// anything): SelfSubjectAccessReview answers allowed=false and the real
    /// endpoint answers 403. Example: `deny("patch", "pods", "ephemeralcontainers")`.
    pub fn deny(&self, verb: &str, resource: &str, subresource: &str) {
        self.lock().knobs.denied.push((
            verb.to_owned(),
            resource.to_owned(),
            subresource.to_owned(),
        ));
    }

    /// Whether `verb` on `resource`/`subresource` is denied.
    pub fn is_denied(&self, verb: &str, resource: &str, subresource: &str) -> bool {
        let m = |pattern: &str, value: &str| pattern == "*" || pattern == value;
        self.lock()
            .knobs
            .denied
            .iter()
            .any(|(v, r, s)| m(v, verb) && m(r, resource) && m(s, subresource))
    }

    /// Ephemeral containers switched off: the subresource answers 404 with an
    /// empty `details.name`, and discovery does not list it.
    pub fn set_ephemeral_disabled(&self, disabled: bool) {
        self.lock().knobs.ephemeral_disabled = disabled;
    }

    /// New ephemeral containers with this image end in waiting
    /// `ImagePullBackOff`, message `Back-off pulling image "IMAGE"`.
    pub fn image_pull_fails(&self, image: &str) {
        self.lock().knobs.pull_fails.push(image.to_owned());
    }

    /// After the next ephemeral-container PATCHes the pod is deleted while
    /// the container is still being created.
    pub fn set_delete_pod_after_patch(&self, on: bool) {
        self.lock().knobs.delete_pod_after_patch = on;
    }

    /// How long the simulated kubelet takes from ContainerCreating to the
    /// final state (300 ms unless set).
    pub fn set_kubelet_delay(&self, delay: Duration) {
        self.lock().knobs.kubelet_delay = delay;
    }

    /// How often watches that allow bookmarks get one (2 s unless set).
    pub fn set_bookmark_interval(&self, every: Duration) {
        self.lock().knobs.bookmark_interval = every;
    }

    /// The server's minor version in `/version` (`1.31` unless set).
    pub fn set_version_minor(&self, minor: u32) {
        self.lock().knobs.version_minor = minor;
    }

    /// The next exec session is cut after `bytes` bytes of stdout: the TCP
    /// connection is dropped, no status and no close frame. Call again to cut
    /// more sessions (they are consumed in order).
    /// The process is killed: see `cut_next_exec_after_keeping_process` for
    /// the other case.
    pub fn cut_next_exec_after(&self, bytes: usize) {
        self.lock().knobs.exec_cuts.push_back(ExecCut {
            after: bytes,
            keep_process: false,
        });
    }

    /// Like `cut_next_exec_after`, but the process runs on, as when an API
    /// server's connection to the client breaks while the kubelet's exec goes
    /// on: its stdin stays open (no EOF), its stdout is read and thrown away
    /// (writes neither fail nor block), so only a missing heartbeat can tell
    /// it. `orphaned_execs` reports what became of it.
    pub fn cut_next_exec_after_keeping_process(&self, bytes: usize) {
        self.lock().knobs.exec_cuts.push_back(ExecCut {
            after: bytes,
            keep_process: true,
        });
    }

    /// The processes left running by `cut_next_exec_after_keeping_process`, in cut order.
    pub fn orphaned_execs(&self) -> Vec<OrphanedExec> {
        self.lock().orphans.clone()
    }

    /// Records a process just left running; returns its index for `update_orphan`.
    pub(crate) fn add_orphan(&self, pid: Option<u32>) -> usize {
        let mut inner = self.lock();
        inner.orphans.push(OrphanedExec {
            pid,
            cut_at: Instant::now(),
            stderr: String::new(),
            exited_at: None,
            exit_code: None,
        });
        inner.orphans.len() - 1
    }

    pub(crate) fn update_orphan(&self, index: usize, f: impl FnOnce(&mut OrphanedExec)) {
        if let Some(orphan) = self.lock().orphans.get_mut(index) {
            f(orphan);
        }
    }

    /// What exec (and attach) runs. Without a plug, exec ends with a Failure status.
    pub fn set_exec_plug(
        &self,
        plug: impl Fn(&str, &[String]) -> std::process::Command + Send + Sync + 'static,
    ) {
        self.lock().exec_plug = Some(Arc::new(plug));
    }

    pub(crate) fn knobs(&self) -> Knobs {
        self.lock().knobs.clone()
    }
}

/// The current time as the API writes it.
pub fn now() -> Time {
    Time(Timestamp::now())
}

/// Serialises a k8s-openapi object (with kind and apiVersion).
pub(crate) fn to_value<T: serde::Serialize>(object: &T) -> Value {
    serde_json::to_value(object).unwrap_or(Value::Null)
}

/// Truncates a logged body.
pub(crate) fn logged_body(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(LOGGED_BODY)]).into_owned()
}
