//! Adding the agent: reuse a running `podtap-*` ephemeral container, or
//! PATCH a new one into `pods/{name}/ephemeralcontainers` (strategic merge,
//! typed k8s-openapi structs) and watch the pod until the kubelet runs it
//! (`status` reads the pod).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Capabilities, EphemeralContainer, Pod, SecurityContext};
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::watcher;

use super::events::{ClusterEvent, EventSender, LaunchStep, emit};
use super::preflight::Finding;
use super::status::{interpret, reusable};
use super::{Cluster, ClusterError, api_code, api_message};

/// Every podtap agent container's name starts with this.
pub const AGENT_PREFIX: &str = "podtap-";
/// The agent binary in the image.
const AGENT_BINARY: &str = "/podtap-agent";

/// When the kubelet pulls the agent image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PullPolicy {
    /// Pull when the node lacks it.
    #[default]
    IfNotPresent,
    /// Pull every time.
    Always,
    /// Never pull (the image must be on the node).
    Never,
}

impl PullPolicy {
    /// As the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            PullPolicy::IfNotPresent => "IfNotPresent",
            PullPolicy::Always => "Always",
            PullPolicy::Never => "Never",
        }
    }
}

/// How to add the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchOptions {
    /// The agent image, by tag or digest.
    pub image: String,
    /// Its pull policy.
    pub pull_policy: PullPolicy,
    /// How long the container may take to run.
    pub startup_timeout: Duration,
    /// `serve --idle-timeout`: the agent exits after this long without a session.
    pub idle_timeout: Duration,
}

/// A running agent container to exec into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRef {
    /// The pod's namespace.
    pub namespace: String,
    /// The pod.
    pub pod: String,
    /// The agent's container name.
    pub container: String,
    /// Whether it was there already.
    pub reused: bool,
}

/// What a launch would do, without doing it.
#[derive(Debug, Clone, PartialEq)]
pub struct DryRun {
    /// The preflight report.
    pub findings: Vec<Finding>,
    /// The running agent that would be reused instead of patching, if any.
    pub reuse: Option<String>,
    /// The exact PATCH body that would be sent.
    pub patch: serde_json::Value,
}

/// Why the agent could not be added; each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// Reading the pod failed.
    #[error(transparent)]
    Read(#[from] ClusterError),
    /// The pod does not exist.
    #[error("pod {namespace}/{pod} does not exist; pick another pod")]
    PodNotFound {
        /// Namespace.
        namespace: String,
        /// Pod.
        pod: String,
    },
    /// The pod has finished.
    #[error("pod {pod} has finished ({phase}) and cannot run the agent; pick a running pod")]
    PodFinished {
        /// Pod.
        pod: String,
        /// `Succeeded` or `Failed`.
        phase: String,
    },
    /// The server has no ephemeralcontainers subresource.
    #[error(
        "this cluster has ephemeral containers disabled (PATCH pods/{pod}/ephemeralcontainers returned 404); use Kubernetes 1.23+ with the EphemeralContainers feature enabled"
    )]
    EphemeralDisabled {
        /// Pod.
        pod: String,
    },
    /// RBAC refused the PATCH.
    #[error(
        "you may not patch pods/ephemeralcontainers in {namespace}: {detail}; run the preflight for a Role to apply"
    )]
    Forbidden {
        /// Namespace.
        namespace: String,
        /// The server's message.
        detail: String,
    },
    /// The API server (or an admission webhook, or Pod Security) rejected the container.
    #[error("adding the agent to {pod} was rejected: {detail}")]
    Rejected {
        /// Pod.
        pod: String,
        /// The server's message.
        detail: String,
        /// The client error.
        #[source]
        source: kube::Error,
    },
    /// The kubelet cannot get the image.
    #[error(
        "the node cannot pull the agent image {image} ({reason}): {message}; check --image and the node's access to the registry"
    )]
    Image {
        /// The image asked for.
        image: String,
        /// `ImagePullBackOff`, `ErrImagePull`, ...
        reason: String,
        /// The kubelet's message.
        message: String,
    },
    /// The kubelet cannot create or start the container.
    #[error("the agent container {container} cannot start ({reason}): {message}")]
    CreateFailed {
        /// Container.
        container: String,
        /// `CreateContainerError`, ...
        reason: String,
        /// The kubelet's message.
        message: String,
    },
    /// The agent exited before it was seen running.
    #[error(
        "the agent container {container} exited with code {exit_code} ({reason}) before it was ready; check the image with --image"
    )]
    Exited {
        /// Container.
        container: String,
        /// Exit code.
        exit_code: i32,
        /// The kubelet's reason and message.
        reason: String,
    },
    /// The pod went away during the wait.
    #[error("pod {pod} was deleted while the agent was starting")]
    PodDeleted {
        /// Pod.
        pod: String,
    },
    /// The agent did not run in time.
    #[error("the agent container {container} was not running after {}s (last state: {last}); raise the startup timeout or check the node", waited.as_secs())]
    Timeout {
        /// Container.
        container: String,
        /// How long podtap waited.
        waited: Duration,
        /// The last reason seen.
        last: String,
    },
    /// Watching the pod failed.
    #[error("watching pod {pod} failed: {source}")]
    Watch {
        /// Pod.
        pod: String,
        /// The watcher error.
        #[source]
        source: watcher::Error,
    },
}

/// A fresh container name: `podtap-` and 5 random lowercase letters and digits.
pub fn random_agent_name() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    let mut bits = hasher.finish();
    let mut name = String::from(AGENT_PREFIX);
    for _ in 0..5 {
        name.push(char::from(ALPHABET[(bits % 36) as usize]));
        bits /= 36;
    }
    name
}

/// The agent's ephemeral container, with the securityContext of the design:
/// root for NET_RAW, nothing else.
pub fn agent_container(name: &str, target: &str, options: &LaunchOptions) -> EphemeralContainer {
    EphemeralContainer {
        name: name.to_owned(),
        target_container_name: Some(target.to_owned()),
        image: Some(options.image.clone()),
        image_pull_policy: Some(options.pull_policy.as_str().to_owned()),
        command: Some(vec![
            AGENT_BINARY.to_owned(),
            "serve".to_owned(),
            "--idle-timeout".to_owned(),
            options.idle_timeout.as_secs().to_string(),
        ]),
        stdin: Some(false),
        tty: Some(false),
        security_context: Some(SecurityContext {
            run_as_user: Some(0),
            run_as_non_root: Some(false),
            allow_privilege_escalation: Some(false),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".to_owned()]),
                add: Some(vec!["NET_RAW".to_owned()]),
            }),
            ..SecurityContext::default()
        }),
        ..EphemeralContainer::default()
    }
}

/// The strategic-merge PATCH body adding `container` (the list merges by name).
pub fn patch_body(container: &EphemeralContainer) -> serde_json::Value {
    let container = serde_json::to_value(container).unwrap_or(serde_json::Value::Null);
    serde_json::json!({ "spec": { "ephemeralContainers": [container] } })
}

impl Cluster {
    /// What [`Cluster::launch`] would do: the preflight, and the PATCH body it would send.
    pub async fn dry_run(
        &self,
        namespace: &str,
        pod: &str,
        target: &str,
        options: &LaunchOptions,
    ) -> Result<DryRun, ClusterError> {
        let findings = self.preflight(namespace, pod, target).await?;
        let reuse = match self.pod(namespace, pod).await {
            Ok(p) => reusable(&p, target),
            Err(_) => None,
        };
        let patch = patch_body(&agent_container(&random_agent_name(), target, options));
        Ok(DryRun {
            findings,
            reuse,
            patch,
        })
    }

    /// Finds or adds the agent in `pod` and waits until it runs, reporting each step.
    pub async fn launch(
        &self,
        namespace: &str,
        pod: &str,
        target: &str,
        options: &LaunchOptions,
        events: &EventSender,
    ) -> Result<AgentRef, LaunchError> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let current = match api.get(pod).await {
            Ok(p) => p,
            Err(e) if api_code(&e) == Some(404) => {
                return Err(LaunchError::PodNotFound {
                    namespace: namespace.to_owned(),
                    pod: pod.to_owned(),
                });
            }
            Err(e) => {
                return Err(ClusterError::api(format!("reading pod {namespace}/{pod}"), e).into());
            }
        };
        interpret(&current, "", &options.image)?;
        let agent = |container: String, reused| AgentRef {
            namespace: namespace.to_owned(),
            pod: pod.to_owned(),
            container,
            reused,
        };
        if let Some(container) = reusable(&current, target) {
            emit(
                events,
                ClusterEvent::Progress(LaunchStep::Reusing {
                    container: container.clone(),
                }),
            );
            return Ok(agent(container, true));
        }

        let name = random_agent_name();
        let body = patch_body(&agent_container(&name, target, options));
        if let Err(e) = api
            .patch_ephemeral_containers(pod, &PatchParams::default(), &Patch::Strategic(body))
            .await
        {
            return Err(patch_error(namespace, pod, e));
        }
        emit(
            events,
            ClusterEvent::Progress(LaunchStep::Patched {
                container: name.clone(),
            }),
        );

        let started = Instant::now();
        let mut last = "not started".to_owned();
        let wait = self.wait_running(&api, pod, &name, &options.image, events, &mut last);
        match tokio::time::timeout(options.startup_timeout, wait).await {
            Ok(Ok(())) => {
                emit(
                    events,
                    ClusterEvent::Progress(LaunchStep::Running {
                        container: name.clone(),
                    }),
                );
                Ok(agent(name, false))
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(LaunchError::Timeout {
                container: name,
                waited: started.elapsed(),
                last,
            }),
        }
    }
}

/// Names what a failed PATCH means.
fn patch_error(namespace: &str, pod: &str, e: kube::Error) -> LaunchError {
    match &e {
        kube::Error::Api(status) if status.code == 404 => {
            let named = status.details.as_ref().is_some_and(|d| !d.name.is_empty());
            if named {
                LaunchError::PodNotFound {
                    namespace: namespace.to_owned(),
                    pod: pod.to_owned(),
                }
            } else {
                LaunchError::EphemeralDisabled {
                    pod: pod.to_owned(),
                }
            }
        }
        kube::Error::Api(status)
            if status.code == 403 && status.message.contains("cannot patch") =>
        {
            LaunchError::Forbidden {
                namespace: namespace.to_owned(),
                detail: status.message.clone(),
            }
        }
        _ => LaunchError::Rejected {
            pod: pod.to_owned(),
            detail: api_message(&e),
            source: e,
        },
    }
}

#[cfg(test)]
mod tests;
