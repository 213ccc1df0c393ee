//! Realistic pod objects and the container statuses the simulated kubelet
//! writes.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStateRunning, ContainerStateWaiting, ContainerStatus, Pod,
    PodCondition, PodIP, PodSpec, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::state::now;

/// A pod as a real cluster shows it once it runs: `containers` are
/// `(name, image)`, scheduled on `node-1`, phase Running, Ready, one running
/// containerStatus each, a podIP derived from the name.
pub fn running_pod(namespace: &str, name: &str, containers: &[(&str, &str)]) -> Pod {
    let started = now();
    let octet = name
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 250
        + 2;
    let ip = format!("10.244.0.{octet}");
    let condition = |kind: &str| PodCondition {
        type_: kind.to_owned(),
        status: "True".to_owned(),
        last_transition_time: Some(started.clone()),
        ..PodCondition::default()
    };
    Pod {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(namespace.to_owned()),
            labels: Some(BTreeMap::from([("app".to_owned(), name.to_owned())])),
            ..ObjectMeta::default()
        },
        spec: Some(PodSpec {
            containers: containers
                .iter()
                .map(|(c, image)| Container {
                    name: (*c).to_owned(),
                    image: Some((*image).to_owned()),
                    image_pull_policy: Some("IfNotPresent".to_owned()),
                    termination_message_path: Some("/dev/termination-log".to_owned()),
                    termination_message_policy: Some("File".to_owned()),
                    ..Container::default()
                })
                .collect(),
            node_name: Some("node-1".to_owned()),
            restart_policy: Some("Always".to_owned()),
            dns_policy: Some("ClusterFirst".to_owned()),
            scheduler_name: Some("default-scheduler".to_owned()),
            service_account_name: Some("default".to_owned()),
            termination_grace_period_seconds: Some(30),
            enable_service_links: Some(true),
            ..PodSpec::default()
        }),
        status: Some(PodStatus {
            phase: Some("Running".to_owned()),
            pod_ip: Some(ip.clone()),
            pod_ips: Some(vec![PodIP { ip }]),
            host_ip: Some("172.18.0.2".to_owned()),
            start_time: Some(started.clone()),
            qos_class: Some("BestEffort".to_owned()),
            conditions: Some(
                [
                    "PodReadyToStartContainers",
                    "Initialized",
                    "Ready",
                    "ContainersReady",
                    "PodScheduled",
                ]
                .into_iter()
                .map(condition)
                .collect(),
            ),
            container_statuses: Some(
                containers
                    .iter()
                    .enumerate()
                    .map(|(i, (c, image))| ContainerStatus {
                        name: (*c).to_owned(),
                        image: (*image).to_owned(),
                        image_id: format!("{image}@sha256:{:064x}", i + 1),
                        container_id: Some(container_id(name, c)),
                        ready: true,
                        started: Some(true),
                        restart_count: 0,
                        state: Some(ContainerState {
                            running: Some(ContainerStateRunning {
                                started_at: Some(started.clone()),
                            }),
                            ..ContainerState::default()
                        }),
                        ..ContainerStatus::default()
                    })
                    .collect(),
            ),
            ..PodStatus::default()
        }),
    }
}

/// A stable fake containerd id.
fn container_id(pod: &str, container: &str) -> String {
    let h = format!("{pod}/{container}")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
    format!("containerd://{h:016x}{h:016x}{h:016x}{h:016x}")
}

/// The kubelet's view of an ephemeral container: waiting with `reason`
/// (and `message`), or running when `reason` is `None`.
pub(crate) fn set_ephemeral_status(
    pod: &mut Pod,
    container: &str,
    image: &str,
    waiting: Option<(&str, Option<String>)>,
) {
    let pod_name = pod.metadata.name.clone().unwrap_or_default();
    let running = waiting.is_none();
    let state = match waiting {
        Some((reason, message)) => ContainerState {
            waiting: Some(ContainerStateWaiting {
                reason: Some(reason.to_owned()),
                message,
            }),
            ..ContainerState::default()
        },
        None => ContainerState {
            running: Some(ContainerStateRunning {
                started_at: Some(now()),
            }),
            ..ContainerState::default()
        },
    };
    let entry = ContainerStatus {
        name: container.to_owned(),
        image: image.to_owned(),
        image_id: if running {
            format!("{image}@sha256:{:064x}", 42)
        } else {
            String::new()
        },
        container_id: running.then(|| container_id(&pod_name, container)),
        ready: false,
        started: Some(running),
        restart_count: 0,
        state: Some(state),
        last_state: Some(ContainerState::default()),
        ..ContainerStatus::default()
    };
    let statuses = pod
        .status
        .get_or_insert_with(PodStatus::default)
        .ephemeral_container_statuses
        .get_or_insert_with(Vec::new);
    match statuses.iter_mut().find(|s| s.name == container) {
        Some(old) => *old = entry,
        None => statuses.push(entry),
    }
}

/// Whether `container` of the pod runs (regular or ephemeral).
pub(crate) fn container_running(pod: &Pod, container: &str) -> bool {
    let Some(status) = &pod.status else {
        return false;
    };
    status
        .container_statuses
        .iter()
        .chain(status.ephemeral_container_statuses.iter())
        .chain(status.init_container_statuses.iter())
        .flatten()
        .any(|s| s.name == container && s.state.as_ref().is_some_and(|st| st.running.is_some()))
}

/// All container names of the pod: regular, init and ephemeral.
pub(crate) fn container_names(pod: &Pod) -> Vec<String> {
    let Some(spec) = &pod.spec else {
        return Vec::new();
    };
    spec.containers
        .iter()
        .map(|c| c.name.clone())
        .chain(
            spec.init_containers
                .iter()
                .flatten()
                .map(|c| c.name.clone()),
        )
        .chain(
            spec.ephemeral_containers
                .iter()
                .flatten()
                .map(|c| c.name.clone()),
        )
        .collect()
}
