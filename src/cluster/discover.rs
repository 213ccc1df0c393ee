//! Namespaces and pods for the pickers: one [`PodSummary`] per pod, listed
//! once or kept current with a watch (never by polling).

use std::time::Duration;

use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::{ContainerStatus, Namespace, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ListParams};
use kube::runtime::watcher;

use super::launch::AGENT_PREFIX;
use super::{Cluster, ClusterError};

/// The annotation kubectl reads for the container to use by default.
const DEFAULT_CONTAINER_ANNOTATION: &str = "kubectl.kubernetes.io/default-container";

/// What the pod picker shows of a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodSummary {
    /// Pod name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// `Running`, `Pending`, ... (`Unknown` when the server sent none).
    pub phase: String,
    /// Regular containers ready.
    pub ready: usize,
    /// Regular containers.
    pub total: usize,
    /// Restarts of the regular containers.
    pub restarts: u32,
    /// The node, once scheduled.
    pub node: Option<String>,
    /// Time since creation.
    pub age: Option<Duration>,
    /// The pod IP.
    pub ip: Option<String>,
    /// The regular containers' names.
    pub containers: Vec<String>,
    /// The annotated default container, else the first.
    pub default_container: Option<String>,
    /// Whether the pod shares the node's network namespace.
    pub host_network: bool,
    /// podtap agents already in the pod.
    pub agents: Vec<AgentInfo>,
}

/// A podtap ephemeral container found in a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentInfo {
    /// Its container name (`podtap-xxxxx`).
    pub name: String,
    /// The container it targets.
    pub target: Option<String>,
    /// Its image.
    pub image: Option<String>,
    /// What the kubelet reports.
    pub state: ContainerState,
}

/// A container's state as the kubelet reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerState {
    /// No status yet.
    Unknown,
    /// Not running yet.
    Waiting {
        /// The kubelet's reason.
        reason: String,
        /// The kubelet's message.
        message: Option<String>,
    },
    /// Running.
    Running,
    /// Exited.
    Terminated {
        /// Exit code.
        exit_code: i32,
        /// The kubelet's reason.
        reason: Option<String>,
        /// The kubelet's message.
        message: Option<String>,
    },
}

impl ContainerState {
    /// The state in a container status.
    pub(crate) fn of(status: Option<&ContainerStatus>) -> Self {
        let Some(state) = status.and_then(|s| s.state.as_ref()) else {
            return ContainerState::Unknown;
        };
        if state.running.is_some() {
            ContainerState::Running
        } else if let Some(t) = &state.terminated {
            ContainerState::Terminated {
                exit_code: t.exit_code,
                reason: t.reason.clone(),
                message: t.message.clone(),
            }
        } else if let Some(w) = &state.waiting {
            ContainerState::Waiting {
                reason: w.reason.clone().unwrap_or_else(|| "Waiting".to_owned()),
                message: w.message.clone(),
            }
        } else {
            ContainerState::Unknown
        }
    }
}

/// A change to a watched list (pods of a namespace, namespaces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update<T> {
    /// The watch (re)started: a full listing follows, then `Listed`.
    Restarted,
    /// An item was added or changed.
    Applied(Box<T>),
    /// An item is gone.
    Deleted {
        /// Its name.
        name: String,
    },
    /// The listing after `Restarted` is complete; items not in it are gone.
    Listed,
}

/// A change to the pods of a namespace.
pub type PodUpdate = Update<PodSummary>;

/// A change to the namespaces.
pub type NamespaceUpdate = Update<NamespaceSummary>;

/// What the namespace picker shows of a namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceSummary {
    /// Its name.
    pub name: String,
    /// `Active` or `Terminating` (`Unknown` when the server sent none).
    pub phase: String,
    /// Time since creation.
    pub age: Option<Duration>,
}

/// The picker's view of `namespace` at `now`.
pub fn summarize_namespace(namespace: &Namespace, now: Timestamp) -> NamespaceSummary {
    NamespaceSummary {
        name: namespace.metadata.name.clone().unwrap_or_default(),
        phase: namespace
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_else(|| "Unknown".to_owned()),
        age: age_at(namespace.metadata.creation_timestamp.as_ref(), now),
    }
}

/// The picker's view of `pod` at `now`.
pub fn summarize(pod: &Pod, now: Timestamp) -> PodSummary {
    let meta = &pod.metadata;
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    let containers: Vec<String> = spec
        .map(|s| s.containers.iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default();
    let statuses: &[ContainerStatus] = status
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or(&[]);
    let annotated = meta
        .annotations
        .as_ref()
        .and_then(|a| a.get(DEFAULT_CONTAINER_ANNOTATION))
        .filter(|name| containers.contains(name))
        .cloned();
    let age = age_at(meta.creation_timestamp.as_ref(), now);
    PodSummary {
        name: meta.name.clone().unwrap_or_default(),
        namespace: meta.namespace.clone().unwrap_or_default(),
        phase: status
            .and_then(|s| s.phase.clone())
            .unwrap_or_else(|| "Unknown".to_owned()),
        ready: statuses.iter().filter(|s| s.ready).count(),
        total: containers.len(),
        restarts: statuses
            .iter()
            .map(|s| u32::try_from(s.restart_count).unwrap_or(0))
            .fold(0, u32::saturating_add),
        node: spec.and_then(|s| s.node_name.clone()),
        age,
        ip: status.and_then(|s| s.pod_ip.clone()),
        default_container: annotated.or_else(|| containers.first().cloned()),
        containers,
        host_network: spec.and_then(|s| s.host_network).unwrap_or(false),
        agents: agents(pod),
    }
}

/// Time from `created` to `now` (none for a missing or future timestamp).
fn age_at(
    created: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>,
    now: Timestamp,
) -> Option<Duration> {
    let secs = now.as_second().checked_sub(created?.0.as_second())?;
    u64::try_from(secs).ok().map(Duration::from_secs)
}

/// The podtap ephemeral containers of `pod`, in spec order.
pub(crate) fn agents(pod: &Pod) -> Vec<AgentInfo> {
    let statuses: &[ContainerStatus] = pod
        .status
        .as_ref()
        .and_then(|s| s.ephemeral_container_statuses.as_deref())
        .unwrap_or(&[]);
    pod.spec
        .as_ref()
        .and_then(|s| s.ephemeral_containers.as_ref())
        .map(|list| {
            list.iter()
                .filter(|c| c.name.starts_with(AGENT_PREFIX))
                .map(|c| AgentInfo {
                    name: c.name.clone(),
                    target: c.target_container_name.clone(),
                    image: c.image.clone(),
                    state: ContainerState::of(statuses.iter().find(|s| s.name == c.name)),
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Cluster {
    /// The namespaces' names, sorted.
    pub async fn namespaces(&self) -> Result<Vec<String>, ClusterError> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let list = api
            .list(&ListParams::default())
            .await
            .map_err(|e| ClusterError::api("listing namespaces", e))?;
        let mut names: Vec<String> = list
            .items
            .into_iter()
            .filter_map(|n| n.metadata.name)
            .collect();
        names.sort();
        Ok(names)
    }

    /// The pods of `namespace`, sorted by name.
    pub async fn pods(&self, namespace: &str) -> Result<Vec<PodSummary>, ClusterError> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let list = api
            .list(&ListParams::default())
            .await
            .map_err(|e| ClusterError::api(format!("listing pods in {namespace}"), e))?;
        let now = Timestamp::now();
        let mut pods: Vec<PodSummary> = list.items.iter().map(|p| summarize(p, now)).collect();
        pods.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(pods)
    }

    /// One pod.
    pub async fn pod(&self, namespace: &str, name: &str) -> Result<Pod, ClusterError> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        api.get(name)
            .await
            .map_err(|e| ClusterError::api(format!("reading pod {namespace}/{name}"), e))
    }

    /// The pods of `namespace` as they change (a watch, restarted with backoff by kube-rs).
    ///
    /// Errors are yielded and the stream goes on; the caller decides when to give up.
    pub fn watch_pods(
        &self,
        namespace: &str,
    ) -> impl Stream<Item = Result<PodUpdate, ClusterError>> + Send + 'static {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        updates(api, format!("pods in {namespace}"), summarize)
    }

    /// The namespaces as they change (a watch, like [`Cluster::watch_pods`]).
    pub fn watch_namespaces(
        &self,
    ) -> impl Stream<Item = Result<NamespaceUpdate, ClusterError>> + Send + 'static {
        let api: Api<Namespace> = Api::all(self.client.clone());
        updates(api, "namespaces".to_owned(), summarize_namespace)
    }
}

/// A kube-rs watcher on `api` as [`Update`]s of `summary`; `what` names the
/// list in errors ("pods in shop").
fn updates<K, T>(
    api: Api<K>,
    what: String,
    summary: fn(&K, Timestamp) -> T,
) -> impl Stream<Item = Result<Update<T>, ClusterError>> + Send + 'static
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
    T: Send + 'static,
{
    use kube::runtime::WatchStreamExt;
    watcher(api, watcher::Config::default())
        .default_backoff()
        .map(move |event| match event {
            Ok(watcher::Event::Init) => Ok(Update::Restarted),
            Ok(watcher::Event::InitDone) => Ok(Update::Listed),
            Ok(watcher::Event::Apply(k) | watcher::Event::InitApply(k)) => {
                Ok(Update::Applied(Box::new(summary(&k, Timestamp::now()))))
            }
            Ok(watcher::Event::Delete(k)) => Ok(Update::Deleted {
                name: k.meta().name.clone().unwrap_or_default(),
            }),
            Err(source) => Err(ClusterError::Watch {
                what: what.clone(),
                source,
            }),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(json: serde_json::Value) -> Pod {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn summary_of_a_running_pod_with_an_agent() {
        let p = pod(serde_json::json!({
            "metadata": {
                "name": "shop-api-7d9f", "namespace": "shop",
                "creationTimestamp": "2025-01-01T00:00:00Z",
                "annotations": {"kubectl.kubernetes.io/default-container": "app"}
            },
            "spec": {
                "nodeName": "node-1",
                "containers": [{"name": "sidecar"}, {"name": "app"}],
                "ephemeralContainers": [
                    {"name": "debugger-abc", "image": "busybox"},
                    {"name": "podtap-k3x9q", "image": "ghcr.io/podtap/agent:0.1", "targetContainerName": "app"}
                ]
            },
            "status": {
                "phase": "Running", "podIP": "10.244.1.7",
                "containerStatuses": [
                    {"name": "sidecar", "ready": true, "restartCount": 1, "image": "x", "imageID": ""},
                    {"name": "app", "ready": false, "restartCount": 2, "image": "y", "imageID": ""}
                ],
                "ephemeralContainerStatuses": [
                    {"name": "podtap-k3x9q", "ready": false, "restartCount": 0, "image": "a", "imageID": "",
                     "state": {"running": {"startedAt": "2025-01-01T00:01:00Z"}}}
                ]
            }
        }));
        let now: Timestamp = "2025-01-01T01:00:00Z".parse().unwrap();
        let s = summarize(&p, now);
        assert_eq!(s.name, "shop-api-7d9f");
        assert_eq!(s.phase, "Running");
        assert_eq!((s.ready, s.total, s.restarts), (1, 2, 3));
        assert_eq!(s.node.as_deref(), Some("node-1"));
        assert_eq!(s.age, Some(Duration::from_secs(3600)));
        assert_eq!(s.ip.as_deref(), Some("10.244.1.7"));
        assert_eq!(s.default_container.as_deref(), Some("app"));
        assert_eq!(s.agents.len(), 1);
        assert_eq!(s.agents[0].name, "podtap-k3x9q");
        assert_eq!(s.agents[0].target.as_deref(), Some("app"));
        assert_eq!(s.agents[0].state, ContainerState::Running);
    }

    #[test]
    fn summary_of_a_bare_pod_never_panics() {
        let s = summarize(&pod(serde_json::json!({"metadata": {}})), Timestamp::now());
        assert_eq!(s.phase, "Unknown");
        assert_eq!(s.default_container, None);
        assert!(s.agents.is_empty());
    }

    #[test]
    fn default_container_falls_back_to_the_first_when_annotation_is_wrong() {
        let p = pod(serde_json::json!({
            "metadata": {"name": "p", "annotations": {"kubectl.kubernetes.io/default-container": "gone"}},
            "spec": {"containers": [{"name": "one"}, {"name": "two"}]}
        }));
        assert_eq!(
            summarize(&p, Timestamp::now()).default_container.as_deref(),
            Some("one")
        );
    }
}
