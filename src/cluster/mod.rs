//! Everything kube-rs: kubeconfig and contexts (`connect`), namespaces and
//! pods for the pickers (`discover`), the checks before anything
//! irreversible (`preflight`, `role`), the agent as an ephemeral container
//! (`launch`, `status`), and the exec stream into the source driver (`stream`).
//!
//! Every API call goes through a [`Cluster`], built from a `kube::Client`
//! and a default namespace, so tests point it at a fake API server. Nothing
//! here prints: progress and problems go out as [`ClusterEvent`]s on a
//! channel, failures as the `thiserror` enums of each boundary. This module
//! must not import ratatui, crossterm or the app.

mod connect;
mod discover;
mod events;
mod launch;
#[cfg(feature = "tui")]
mod pipes;
mod preflight;
mod role;
mod status;
#[cfg(feature = "tui")]
mod stream;

use kube::Client;

pub use connect::{
    ConnectError, ConnectOptions, Connected, ContextInfo, connect, contexts, contexts_of,
    kubeconfig_paths, read_kubeconfig,
};
pub use discover::{
    AgentInfo, ContainerState, NamespaceSummary, NamespaceUpdate, PodSummary, PodUpdate, Update,
    summarize, summarize_namespace,
};
pub use events::{ClusterEvent, EventSender, LaunchStep};
pub use launch::{
    AGENT_PREFIX, AgentRef, DryRun, LaunchError, LaunchOptions, PullPolicy, agent_container,
    patch_body, random_agent_name,
};
pub use preflight::{Finding, Severity, check_namespace, check_pod, check_version};
pub use role::{Permission, role_yaml};
pub use status::{AgentProgress, interpret};
#[cfg(feature = "tui")]
pub use stream::{StreamError, StreamHandle, StreamOptions, start_stream};

/// The seam to the API server: a client and the namespace used when none is given.
#[derive(Clone)]
pub struct Cluster {
    client: Client,
    namespace: String,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// A cluster reached through `client`, with `namespace` as the default namespace.
    pub fn new(client: Client, namespace: impl Into<String>) -> Self {
        Cluster {
            client,
            namespace: namespace.into(),
        }
    }

    /// The default namespace (from `-n`, the context, or `default`).
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The underlying client.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// A failed API call of the pickers or the preflight.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The API server refused or did not answer.
    #[error("{action} failed: {detail}")]
    Api {
        /// What was being attempted ("listing pods in shop").
        action: String,
        /// The server's message.
        detail: String,
        /// The client error.
        #[source]
        source: kube::Error,
    },
    /// A watch failed (it is retried with backoff).
    #[error("watching {what} failed: {}", watch_message(source))]
    Watch {
        /// What was watched ("pods in shop", "namespaces").
        what: String,
        /// The watcher error.
        #[source]
        source: kube::runtime::watcher::Error,
    },
}

impl ClusterError {
    /// Wraps a client error with what was being attempted.
    fn api(action: impl Into<String>, source: kube::Error) -> Self {
        ClusterError::Api {
            action: action.into(),
            detail: api_message(&source),
            source,
        }
    }
}

/// The API server's own sentence for an API error, the error text otherwise.
pub(crate) fn api_message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(status) if !status.message.is_empty() => {
            format!("{} (HTTP {})", status.message, status.code)
        }
        other => other.to_string(),
    }
}

/// A watch error in one sentence: the server's own for an API error.
fn watch_message(e: &kube::runtime::watcher::Error) -> String {
    use kube::runtime::watcher::Error as W;
    match e {
        W::InitialListFailed(k) | W::WatchStartFailed(k) | W::WatchFailed(k) => api_message(k),
        W::WatchError(status) => format!("{} (HTTP {})", status.message, status.code),
        W::NoResourceVersion => e.to_string(),
    }
}

/// The HTTP code of an API error, if it is one.
pub(crate) fn api_code(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(status) => Some(status.code),
        _ => None,
    }
}
