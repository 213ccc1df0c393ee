//! What the front end and the worker say to each other.

use crate::cluster::{ContextInfo, NamespaceUpdate, PodUpdate};

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
