//! Where the agent container's start is, as the pod reports it: one pod
//! read ([`interpret`], [`reusable`]) and the watch that follows the pod
//! until the container runs. Used by `launch`.

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::runtime::{WatchStreamExt, watcher};

use super::discover::{ContainerState, agents};
use super::events::{ClusterEvent, EventSender, LaunchStep, emit};
use super::launch::LaunchError;
use super::{Cluster, api_code};

/// Kubelet reasons that mean the image will not come.
const IMAGE_FAILURES: [&str; 4] = [
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "ErrImageNeverPull",
];
/// Kubelet reasons that mean the container cannot be created or started.
const CREATE_FAILURES: [&str; 3] = [
    "CreateContainerError",
    "CreateContainerConfigError",
    "RunContainerError",
];

/// Where the agent's start is, read from a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentProgress {
    /// No status for the container yet.
    NotYet,
    /// Waiting, not failed (yet).
    Waiting {
        /// The kubelet's reason.
        reason: String,
        /// The kubelet's message.
        message: Option<String>,
    },
    /// Running.
    Running,
}

/// Reads the start of container `name` from `pod`; hard failures are errors.
pub fn interpret(pod: &Pod, name: &str, image: &str) -> Result<AgentProgress, LaunchError> {
    let pod_name = pod.metadata.name.clone().unwrap_or_default();
    if let Some(phase @ ("Succeeded" | "Failed")) =
        pod.status.as_ref().and_then(|s| s.phase.as_deref())
    {
        return Err(LaunchError::PodFinished {
            pod: pod_name,
            phase: phase.to_owned(),
        });
    }
    let status = pod
        .status
        .as_ref()
        .and_then(|s| s.ephemeral_container_statuses.as_ref())
        .and_then(|list| list.iter().find(|s| s.name == name));
    match ContainerState::of(status) {
        ContainerState::Unknown => Ok(AgentProgress::NotYet),
        ContainerState::Running => Ok(AgentProgress::Running),
        ContainerState::Waiting { reason, message } => {
            let text = || {
                message
                    .clone()
                    .unwrap_or_else(|| "no message from the kubelet".to_owned())
            };
            if IMAGE_FAILURES.contains(&reason.as_str()) {
                Err(LaunchError::Image {
                    image: image.to_owned(),
                    message: text(),
                    reason,
                })
            } else if CREATE_FAILURES.contains(&reason.as_str()) {
                Err(LaunchError::CreateFailed {
                    container: name.to_owned(),
                    message: text(),
                    reason,
                })
            } else {
                Ok(AgentProgress::Waiting { reason, message })
            }
        }
        ContainerState::Terminated {
            exit_code,
            reason,
            message,
        } => Err(LaunchError::Exited {
            container: name.to_owned(),
            exit_code,
            reason: [reason, message]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": "),
        }),
    }
}

/// A running agent in `pod`, preferring one that targets `target`.
pub(super) fn reusable(pod: &Pod, target: &str) -> Option<String> {
    let running: Vec<_> = agents(pod)
        .into_iter()
        .filter(|a| a.state == ContainerState::Running)
        .collect();
    running
        .iter()
        .find(|a| a.target.as_deref() == Some(target))
        .or(running.first())
        .map(|a| a.name.clone())
}

impl Cluster {
    /// Follows `pod` until container `name` runs; `last` keeps the latest waiting reason.
    pub(super) async fn wait_running(
        &self,
        api: &Api<Pod>,
        pod: &str,
        name: &str,
        image: &str,
        events: &EventSender,
        last: &mut String,
    ) -> Result<(), LaunchError> {
        let config = watcher::Config::default().fields(&format!("metadata.name={pod}"));
        let mut stream = watcher(api.clone(), config).default_backoff().boxed();
        let mut seen_in_listing = false;
        while let Some(event) = stream.next().await {
            let p = match event {
                Ok(watcher::Event::Apply(p) | watcher::Event::InitApply(p)) => p,
                Ok(watcher::Event::Init) => {
                    seen_in_listing = false;
                    continue;
                }
                Ok(watcher::Event::InitDone) if !seen_in_listing => {
                    return Err(LaunchError::PodDeleted {
                        pod: pod.to_owned(),
                    });
                }
                Ok(watcher::Event::InitDone) => continue,
                Ok(watcher::Event::Delete(_)) => {
                    return Err(LaunchError::PodDeleted {
                        pod: pod.to_owned(),
                    });
                }
                Err(source) if watch_error_is_final(&source) => {
                    return Err(LaunchError::Watch {
                        pod: pod.to_owned(),
                        source,
                    });
                }
                Err(source) => {
                    emit(
                        events,
                        ClusterEvent::Error(format!("watching pod {pod}: {source}")),
                    );
                    continue;
                }
            };
            seen_in_listing = true;
            match interpret(&p, name, image)? {
                AgentProgress::Running => return Ok(()),
                AgentProgress::Waiting { reason, message } => {
                    if *last != reason {
                        last.clone_from(&reason);
                        emit(
                            events,
                            ClusterEvent::Progress(LaunchStep::Waiting { reason, message }),
                        );
                    }
                }
                AgentProgress::NotYet => {}
            }
        }
        Err(LaunchError::PodDeleted {
            pod: pod.to_owned(),
        })
    }
}

/// Refusals that retrying cannot fix.
fn watch_error_is_final(e: &watcher::Error) -> bool {
    match e {
        watcher::Error::InitialListFailed(e) | watcher::Error::WatchStartFailed(e) => {
            matches!(api_code(e), Some(401 | 403 | 404))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(
        clippy::needless_pass_by_value,
        reason = "call sites read better with json! inline"
    )]
    fn pod_with(state: serde_json::Value, phase: &str) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "api", "namespace": "shop"},
            "spec": {
                "containers": [{"name": "app"}],
                "ephemeralContainers": [{"name": "podtap-ab3de", "image": "img", "targetContainerName": "app"}]
            },
            "status": {
                "phase": phase,
                "ephemeralContainerStatuses": [
                    {"name": "podtap-ab3de", "ready": false, "restartCount": 0, "image": "img", "imageID": "", "state": state}
                ]
            }
        }))
        .unwrap()
    }

    #[test]
    fn waiting_container_creating_is_progress() {
        let p = pod_with(
            serde_json::json!({"waiting": {"reason": "ContainerCreating"}}),
            "Running",
        );
        assert_eq!(
            interpret(&p, "podtap-ab3de", "img").unwrap(),
            AgentProgress::Waiting {
                reason: "ContainerCreating".into(),
                message: None
            }
        );
    }

    #[test]
    fn running_is_running_and_no_status_is_not_yet() {
        let p = pod_with(
            serde_json::json!({"running": {"startedAt": "2025-01-01T00:00:00Z"}}),
            "Running",
        );
        assert_eq!(
            interpret(&p, "podtap-ab3de", "img").unwrap(),
            AgentProgress::Running
        );
        assert_eq!(
            interpret(&p, "podtap-other", "img").unwrap(),
            AgentProgress::NotYet
        );
        assert_eq!(reusable(&p, "app").as_deref(), Some("podtap-ab3de"));
    }

    #[test]
    fn image_pull_back_off_names_image_and_message() {
        let p = pod_with(
            serde_json::json!({"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"ghcr.io/podtap/agent:nope\""}}),
            "Running",
        );
        let err = interpret(&p, "podtap-ab3de", "ghcr.io/podtap/agent:nope").unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, LaunchError::Image { .. }));
        assert!(text.contains("ghcr.io/podtap/agent:nope"), "{text}");
        assert!(text.contains("ImagePullBackOff"), "{text}");
        assert!(text.contains("Back-off pulling image"), "{text}");
        assert!(text.contains("--image"), "{text}");
    }

    #[test]
    fn create_container_error_fails_fast() {
        let p = pod_with(
            serde_json::json!({"waiting": {"reason": "CreateContainerError", "message": "exec: not found"}}),
            "Running",
        );
        let err = interpret(&p, "podtap-ab3de", "img").unwrap_err();
        assert!(err.to_string().contains("exec: not found"), "{err}");
    }

    #[test]
    fn terminated_agent_is_an_exit_and_not_reusable() {
        let p = pod_with(
            serde_json::json!({"terminated": {"exitCode": 1, "reason": "Error", "message": "no NET_RAW"}}),
            "Running",
        );
        let err = interpret(&p, "podtap-ab3de", "img").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("code 1"), "{text}");
        assert!(text.contains("Error: no NET_RAW"), "{text}");
        assert_eq!(reusable(&p, "app"), None);
    }

    #[test]
    fn finished_pod_fails() {
        let p = pod_with(serde_json::json!({}), "Succeeded");
        assert!(matches!(
            interpret(&p, "podtap-ab3de", "img"),
            Err(LaunchError::PodFinished { .. })
        ));
    }
}
