//! The cluster module's preflight, launch and dry run against the fake API
//! server (`tests/fake_api/`): RBAC and Pod Security findings, the PATCH
//! podtap sends, reuse of a running agent, and each launch failure's message.

#![cfg(all(feature = "cluster", feature = "tui"))]

mod fake_api;

use std::future::Future;
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use fake_api::{FakeApi, FakeState, running_pod};
use podtap::cluster::{
    AGENT_PREFIX, Cluster, ClusterEvent, ConnectOptions, Finding, LaunchError, LaunchOptions,
    LaunchStep, PullPolicy, Severity, connect,
};

/// No API call of these tests may take longer.
const LIMIT: Duration = Duration::from_secs(20);
const IMAGE: &str = "ghcr.io/podtap/podtap-agent:0.1.0";

/// Namespace `shop` (with these labels) and a running pod `web` with container `app`.
fn shop(labels: &[(&str, &str)]) -> FakeState {
    let state = FakeState::new();
    state.add_namespace("shop", labels);
    state.add_pod(running_pod("shop", "web", &[("app", "nginx:1.27")]));
    state
}

fn options(image: &str) -> LaunchOptions {
    LaunchOptions {
        image: image.to_owned(),
        pull_policy: PullPolicy::IfNotPresent,
        startup_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(60),
    }
}

async fn cluster(fake: &FakeApi) -> Cluster {
    Cluster::new(fake.client().await, "shop")
}

/// Runs `f` with the test's time limit.
async fn bounded<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, f)
        .await
        .unwrap_or_else(|_| panic!("{what} took longer than {LIMIT:?}"))
}

/// The preflight of `shop/web`, container `app`, within the time limit.
async fn preflight(cluster: &Cluster) -> Vec<Finding> {
    bounded("preflight", cluster.preflight("shop", "web", "app"))
        .await
        .expect("preflight")
}

/// How many ephemeral-container PATCHes the fake received.
fn patch_count(state: &FakeState) -> usize {
    state
        .requests_matching("PATCH", "ephemeralcontainers")
        .len()
}

fn drain(rx: &Receiver<ClusterEvent>) -> Vec<ClusterEvent> {
    rx.try_iter().collect()
}

/// Launches the agent only when the preflight has no blocking finding, as the front end does.
async fn guarded_launch(
    cluster: &Cluster,
    options: &LaunchOptions,
) -> Option<Result<podtap::cluster::AgentRef, LaunchError>> {
    let findings = preflight(cluster).await;
    if findings.iter().any(Finding::is_blocking) {
        return None;
    }
    let (tx, _rx) = mpsc::channel();
    Some(bounded("launch", cluster.launch("shop", "web", "app", options, &tx)).await)
}

#[tokio::test]
async fn preflight_without_patch_permission_blocks_with_a_role_and_sends_no_patch() {
    let state = shop(&[]);
    state.deny("patch", "pods", "ephemeralcontainers");
    let fake = FakeApi::start(state.clone());
    let cluster = cluster(&fake).await;

    let findings = preflight(&cluster).await;
    let blocking: Vec<_> = findings.iter().filter(|f| f.is_blocking()).collect();
    assert_eq!(blocking.len(), 1, "{findings:#?}");
    let finding = blocking[0];
    assert_eq!(finding.severity, Severity::Blocking);
    assert!(
        finding.message.contains("patch pods/ephemeralcontainers"),
        "{}",
        finding.message
    );
    assert!(finding.message.contains("shop"), "{}", finding.message);
    let role = finding.role_yaml.as_deref().expect("a Role to apply");
    assert!(role.contains("kind: Role"), "{role}");
    assert!(role.contains("ephemeralcontainers"), "{role}");
    assert!(role.contains("\"patch\""), "{role}");
    assert!(role.contains("namespace: shop"), "{role}");
    // Only the missing permission is granted.
    assert!(!role.contains("pods/exec"), "{role}");

    // The preflight guards the launch: nothing irreversible is attempted.
    assert!(guarded_launch(&cluster, &options(IMAGE)).await.is_none());
    assert_eq!(patch_count(&state), 0);

    // An unguarded launch is refused by the server with a message that points at the preflight.
    let (tx, _rx) = mpsc::channel();
    let err = bounded(
        "launch",
        cluster.launch("shop", "web", "app", &options(IMAGE), &tx),
    )
    .await
    .expect_err("the PATCH is forbidden");
    assert!(matches!(err, LaunchError::Forbidden { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("pods/ephemeralcontainers"), "{message}");
    assert!(message.contains("preflight"), "{message}");
    assert!(
        state
            .pod("shop", "web")
            .unwrap()
            .spec
            .unwrap()
            .ephemeral_containers
            .is_none()
    );
}

#[tokio::test]
async fn preflight_blocks_a_baseline_pod_security_namespace() {
    let state = shop(&[("pod-security.kubernetes.io/enforce", "baseline")]);
    let fake = FakeApi::start(state.clone());
    let cluster = cluster(&fake).await;
    let findings = preflight(&cluster).await;
    let psa = findings
        .iter()
        .find(|f| f.message.contains("Pod Security"))
        .unwrap_or_else(|| panic!("no Pod Security finding: {findings:#?}"));
    assert_eq!(psa.severity, Severity::Blocking);
    assert!(psa.message.contains("NET_RAW"), "{}", psa.message);
    assert!(psa.message.contains("baseline"), "{}", psa.message);
    assert!(guarded_launch(&cluster, &options(IMAGE)).await.is_none());
    assert_eq!(patch_count(&state), 0);
}

#[tokio::test]
async fn preflight_of_a_healthy_pod_has_no_blocking_finding() {
    let state = shop(&[("pod-security.kubernetes.io/enforce", "privileged")]);
    let fake = FakeApi::start(state);
    let cluster = cluster(&fake).await;
    let findings = preflight(&cluster).await;
    assert!(!findings.iter().any(Finding::is_blocking), "{findings:#?}");
}

#[tokio::test]
async fn launch_patches_once_waits_for_running_and_reuses_the_agent() {
    let state = shop(&[]);
    let fake = FakeApi::start(state.clone());
    // Connected the way the command line connects: the kubeconfig's current context.
    let connected = bounded(
        "connect",
        connect(&ConnectOptions {
            kubeconfig: Some(fake.kubeconfig_path()),
            context: None,
            namespace: None,
        }),
    )
    .await
    .expect("connect");
    assert_eq!(connected.context.as_deref(), Some("fake"));
    assert_eq!(connected.server.trim_end_matches('/'), fake.url());
    let cluster = connected.cluster;
    assert_eq!(cluster.namespace(), "shop");
    let (tx, rx) = mpsc::channel();

    let agent = bounded(
        "launch",
        cluster.launch("shop", "web", "app", &options(IMAGE), &tx),
    )
    .await
    .expect("launch");
    assert_eq!(
        (agent.namespace.as_str(), agent.pod.as_str()),
        ("shop", "web")
    );
    assert!(!agent.reused);
    let suffix = agent
        .container
        .strip_prefix(AGENT_PREFIX)
        .unwrap_or_else(|| panic!("not a podtap- name: {}", agent.container));
    assert_eq!(suffix.len(), 5, "{}", agent.container);
    assert!(
        suffix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
        "{}",
        agent.container
    );

    // One strategic-merge PATCH with the agent's securityContext.
    let patches = state.requests_matching("PATCH", "/pods/web/ephemeralcontainers");
    assert_eq!(patches.len(), 1);
    assert_eq!(
        patches[0].content_type,
        "application/strategic-merge-patch+json"
    );
    let body: serde_json::Value = serde_json::from_str(&patches[0].body).expect("a JSON body");
    let containers = body["spec"]["ephemeralContainers"]
        .as_array()
        .expect("spec.ephemeralContainers");
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    assert_eq!(c["name"], agent.container.as_str());
    assert_eq!(c["image"], IMAGE);
    assert_eq!(c["targetContainerName"], "app");
    assert_eq!(c["imagePullPolicy"], "IfNotPresent");
    assert_eq!(c["command"][0], "/podtap-agent");
    assert_eq!(c["command"][1], "serve");
    let security = &c["securityContext"];
    assert_eq!(security["capabilities"]["drop"], serde_json::json!(["ALL"]));
    assert_eq!(
        security["capabilities"]["add"],
        serde_json::json!(["NET_RAW"])
    );
    assert_eq!(security["runAsUser"], 0);
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert!(security.get("privileged").is_none_or(|p| p == false));

    let events = drain(&rx);
    let patched = events.iter().position(|e| {
        *e == ClusterEvent::Progress(LaunchStep::Patched {
            container: agent.container.clone(),
        })
    });
    let running = events.iter().position(|e| {
        *e == ClusterEvent::Progress(LaunchStep::Running {
            container: agent.container.clone(),
        })
    });
    assert!(
        matches!((patched, running), (Some(p), Some(r)) if p < r),
        "{events:#?}"
    );

    // Again on the same pod: the running agent is reused, nothing is patched.
    let again = bounded(
        "second launch",
        cluster.launch("shop", "web", "app", &options(IMAGE), &tx),
    )
    .await
    .expect("second launch");
    assert!(again.reused);
    assert_eq!(again.container, agent.container);
    assert_eq!(
        drain(&rx),
        [ClusterEvent::Progress(LaunchStep::Reusing {
            container: agent.container.clone()
        })]
    );
    // A dry run now names the agent it would reuse.
    let dry = bounded(
        "dry run",
        cluster.dry_run("shop", "web", "app", &options(IMAGE)),
    )
    .await
    .expect("dry run");
    assert_eq!(dry.reuse.as_deref(), Some(agent.container.as_str()));
    assert_eq!(patch_count(&state), 1);
}

#[tokio::test]
async fn launch_into_a_finished_pod_says_so_and_patches_nothing() {
    let state = shop(&[]);
    state.update_pod("shop", "web", |p| {
        if let Some(status) = p.status.as_mut() {
            status.phase = Some("Succeeded".to_owned());
        }
    });
    let err = launch_error(&state, "web", &options(IMAGE)).await;
    assert!(matches!(err, LaunchError::PodFinished { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("Succeeded"), "{message}");
    assert!(message.contains("running pod"), "{message}");
    assert_eq!(patch_count(&state), 0);
}

/// Launches with `options` and returns the error, within the time limit.
async fn launch_error(state: &FakeState, pod: &str, options: &LaunchOptions) -> LaunchError {
    let fake = FakeApi::start(state.clone());
    let cluster = cluster(&fake).await;
    let (tx, _rx) = mpsc::channel();
    bounded("launch", cluster.launch("shop", pod, "app", options, &tx))
        .await
        .expect_err("the launch must fail")
}

#[tokio::test]
async fn launch_with_ephemeral_containers_disabled_says_so() {
    let state = shop(&[]);
    state.set_ephemeral_disabled(true);
    let err = launch_error(&state, "web", &options(IMAGE)).await;
    assert!(
        matches!(err, LaunchError::EphemeralDisabled { .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("ephemeral containers disabled"),
        "{message}"
    );
    assert!(message.contains("web"), "{message}");
}

#[tokio::test]
async fn launch_into_a_missing_pod_says_so() {
    let state = shop(&[]);
    let err = launch_error(&state, "gone", &options(IMAGE)).await;
    assert!(matches!(err, LaunchError::PodNotFound { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("shop/gone"), "{message}");
    assert!(message.contains("does not exist"), "{message}");
    assert_eq!(patch_count(&state), 0);
}

#[tokio::test]
async fn launch_reports_a_pod_deleted_during_the_wait() {
    let state = shop(&[]);
    state.set_delete_pod_after_patch(true);
    let err = launch_error(&state, "web", &options(IMAGE)).await;
    assert!(matches!(err, LaunchError::PodDeleted { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("web"), "{message}");
    assert!(message.contains("deleted"), "{message}");
}

#[tokio::test]
async fn launch_reports_an_image_that_cannot_be_pulled() {
    let image = "registry.example/podtap-agent:missing";
    let state = shop(&[]);
    state.image_pull_fails(image);
    let err = launch_error(&state, "web", &options(image)).await;
    assert!(matches!(err, LaunchError::Image { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(image), "{message}");
    assert!(message.contains("ImagePullBackOff"), "{message}");
    assert!(message.contains("--image"), "{message}");
}

#[tokio::test]
async fn launch_times_out_when_the_agent_does_not_start() {
    let state = shop(&[]);
    state.set_kubelet_delay(Duration::from_secs(30));
    let mut slow = options(IMAGE);
    slow.startup_timeout = Duration::from_secs(1);
    let started = std::time::Instant::now();
    let err = launch_error(&state, "web", &slow).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(matches!(err, LaunchError::Timeout { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("ContainerCreating"), "{message}");
    assert!(message.contains("startup timeout"), "{message}");
}

#[tokio::test]
async fn dry_run_returns_the_patch_and_sends_none() {
    let state = shop(&[]);
    let fake = FakeApi::start(state.clone());
    let cluster = cluster(&fake).await;
    let dry = bounded(
        "dry run",
        cluster.dry_run("shop", "web", "app", &options(IMAGE)),
    )
    .await
    .expect("dry run");
    assert!(!dry.findings.iter().any(Finding::is_blocking), "{dry:#?}");
    assert_eq!(dry.reuse, None);
    let text = dry.patch.to_string();
    assert!(text.contains(IMAGE), "{text}");
    assert!(text.contains("NET_RAW"), "{text}");
    let container = &dry.patch["spec"]["ephemeralContainers"][0];
    assert!(
        container["name"]
            .as_str()
            .is_some_and(|n| n.starts_with(AGENT_PREFIX)),
        "{text}"
    );
    assert_eq!(container["targetContainerName"], "app");
    assert_eq!(patch_count(&state), 0);
    assert!(
        state
            .pod("shop", "web")
            .unwrap()
            .spec
            .unwrap()
            .ephemeral_containers
            .is_none()
    );
}
