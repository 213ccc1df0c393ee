//! Snapshots of cluster mode's screens before the stream: the pickers and
//! the launch screen (progress, a blocking finding with its Role, an image
//! that cannot be pulled), at 80x24 and at a large size. The `Front` is fed
//! hand-made worker replies and cluster events at fixed times.
#![cfg(all(feature = "tui", feature = "cluster"))]

mod common;

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use podtap::cluster::{
    AgentInfo, ClusterEvent, ContainerState, ContextInfo, Finding, LaunchStep, NamespaceSummary,
    PodSummary, Severity, Update,
};
use podtap::front::{Front, FrontEvent, Start};
use podtap::ui::{Theme, picker};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn key(front: &mut Front, c: KeyCode) {
    front.on_key(KeyEvent::new(c, KeyModifiers::NONE));
}

fn ctx(name: &str, cluster: &str, ns: Option<&str>, current: bool) -> ContextInfo {
    ContextInfo {
        name: name.into(),
        cluster: cluster.into(),
        user: Some(format!("{name}-admin")),
        namespace: ns.map(Into::into),
        current,
    }
}

#[allow(clippy::too_many_arguments)]
fn pod(
    name: &str,
    phase: &str,
    ready: usize,
    containers: &[&str],
    restarts: u32,
    age_s: u64,
    ip: &str,
    agent: Option<ContainerState>,
) -> PodSummary {
    PodSummary {
        name: name.into(),
        namespace: "shop".into(),
        phase: phase.into(),
        ready,
        total: containers.len(),
        restarts,
        node: Some("kind-worker2".into()),
        age: Some(Duration::from_secs(age_s)),
        ip: (!ip.is_empty()).then(|| ip.into()),
        containers: containers.iter().map(|c| (*c).into()).collect(),
        default_container: containers.first().map(|c| (*c).into()),
        host_network: false,
        agents: agent
            .map(|state| AgentInfo {
                name: "podtap-q7x2m".into(),
                target: containers.first().map(|c| (*c).into()),
                image: Some("ghcr.io/podtap/podtap-agent:0.1.0".into()),
                state,
            })
            .into_iter()
            .collect(),
    }
}

/// Connected to `kind-dev`, namespace `shop`, with namespaces and pods listed.
fn front() -> (Front, Instant) {
    let t0 = Instant::now();
    let mut f = Front::new(
        Start {
            contexts: vec![
                ctx("kind-dev", "kind-dev", Some("shop"), true),
                ctx("prod-eu", "gke_shop_europe-west1_prod", None, false),
            ],
            context: None,
            namespace: None,
            pod: None,
        },
        t0,
    );
    f.on_worker(FrontEvent::Connected {
        context: Some("kind-dev".into()),
        server: "https://127.0.0.1:41234/".into(),
        namespace: "shop".into(),
    });
    for (n, phase, age) in [
        ("default", "Active", 864_000),
        ("kube-system", "Active", 864_000),
        ("shop", "Active", 7200),
        ("old-demo", "Terminating", 90),
    ] {
        f.on_worker(FrontEvent::Namespaces(Update::Applied(Box::new(
            NamespaceSummary {
                name: n.into(),
                phase: phase.into(),
                age: Some(Duration::from_secs(age)),
            },
        ))));
    }
    f.on_worker(FrontEvent::Namespaces(Update::Listed));
    let pods = [
        pod(
            "cart-5c4b8d7f9-x2x8q",
            "Running",
            2,
            &["cart", "istio-proxy"],
            0,
            7100,
            "10.244.1.12",
            Some(ContainerState::Running),
        ),
        pod(
            "checkout-6f7d9c-kq2lp",
            "Running",
            1,
            &["checkout"],
            3,
            3600,
            "10.244.2.4",
            None,
        ),
        pod(
            "payments-7b9f-2mzzp",
            "Pending",
            0,
            &["payments"],
            0,
            40,
            "",
            None,
        ),
        pod(
            "web-7d9f6c5b4-abcde",
            "Running",
            1,
            &["web"],
            0,
            7000,
            "10.244.1.7",
            None,
        ),
    ];
    f.on_worker(FrontEvent::Pods {
        namespace: "shop".into(),
        update: Update::Restarted,
    });
    for p in pods {
        f.on_worker(FrontEvent::Pods {
            namespace: "shop".into(),
            update: Update::Applied(Box::new(p)),
        });
    }
    f.on_worker(FrontEvent::Pods {
        namespace: "shop".into(),
        update: Update::Listed,
    });
    f.requests.clear();
    (f, t0)
}

fn screen(front: &Front, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|f| picker::render(f, front, &Theme::default_colors()))
        .unwrap();
    common::buffer_text(terminal.backend().buffer())
}

#[test]
fn pods_80x24() {
    let (mut f, _) = front();
    key(&mut f, KeyCode::Char('j'));
    insta::assert_snapshot!(screen(&f, 80, 24));
}

#[test]
fn pods_large() {
    let (f, _) = front();
    insta::assert_snapshot!(screen(&f, 160, 30));
}

#[test]
fn pods_filtered_while_typing() {
    let (mut f, _) = front();
    // A letter that is not a key starts the filter (type to filter).
    for c in "CH".chars() {
        key(&mut f, KeyCode::Char(c));
    }
    let s = screen(&f, 80, 24);
    assert!(s.contains("checkout-") && !s.contains("cart-") && !s.contains("web-7d9f"));
    assert!(
        s.contains("/CH_"),
        "the filter line shows the text and a cursor:
{s}"
    );
    insta::assert_snapshot!(s);
}

#[test]
fn namespaces_and_contexts() {
    let (mut f, _) = front();
    key(&mut f, KeyCode::Esc);
    insta::assert_snapshot!("namespaces_80x24", screen(&f, 80, 24));
    key(&mut f, KeyCode::Esc);
    insta::assert_snapshot!("contexts_80x24", screen(&f, 80, 24));
}

#[test]
fn containers_of_a_pod_with_a_sidecar() {
    let (mut f, _) = front();
    key(&mut f, KeyCode::Enter);
    insta::assert_snapshot!(screen(&f, 80, 24));
}

#[test]
fn launch_in_progress() {
    let (mut f, t0) = front();
    key(&mut f, KeyCode::Char('G'));
    key(&mut f, KeyCode::Enter);
    f.tick(t0 + Duration::from_millis(400));
    f.on_worker(FrontEvent::Preflight {
        launch: launch_id(&f),
        findings: vec![Finding::new(
            Severity::Info,
            "The pod shares no process namespace; the agent sees the network only.",
        )],
    });
    f.on_cluster(&ClusterEvent::Progress(LaunchStep::Patched {
        container: "podtap-k3x9q".into(),
    }));
    f.tick(t0 + Duration::from_millis(1100));
    f.on_cluster(&ClusterEvent::Progress(LaunchStep::Waiting {
        reason: "ContainerCreating".into(),
        message: Some("Pulling image \"ghcr.io/podtap/podtap-agent:0.1.0\"".into()),
    }));
    f.tick(t0 + Duration::from_millis(3300));
    insta::assert_snapshot!(screen(&f, 80, 24));
}

#[test]
fn launch_blocked_by_a_missing_permission_shows_the_role() {
    let (mut f, t0) = front();
    key(&mut f, KeyCode::Char('G'));
    key(&mut f, KeyCode::Enter);
    f.tick(t0 + Duration::from_millis(250));
    let message =
        "You may not patch pods/ephemeralcontainers in namespace shop; ask for the Role below.";
    f.on_worker(FrontEvent::Preflight {
        launch: launch_id(&f),
        findings: vec![Finding::new(Severity::Blocking, message)],
    });
    f.on_worker(FrontEvent::LaunchFailed {
        launch: launch_id(&f),
        error: message.into(),
        role: Some(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: podtap\n  namespace: shop\nrules:\n  - apiGroups: [\"\"]\n    resources: [\"pods/ephemeralcontainers\"]\n    verbs: [\"patch\"]"
                .into(),
        ),
    });
    let s = screen(&f, 100, 30);
    assert!(s.contains("kind: Role") && s.contains("pods/ephemeralcontainers"));
    insta::assert_snapshot!(s);
}

#[test]
fn launch_failed_image_pull_80x24() {
    let (mut f, t0) = front();
    key(&mut f, KeyCode::Char('G'));
    key(&mut f, KeyCode::Enter);
    f.on_worker(FrontEvent::Preflight {
        launch: launch_id(&f),
        findings: Vec::new(),
    });
    f.on_cluster(&ClusterEvent::Progress(LaunchStep::Patched {
        container: "podtap-k3x9q".into(),
    }));
    f.tick(t0 + Duration::from_millis(5200));
    f.on_worker(FrontEvent::LaunchFailed {
        launch: launch_id(&f),
        error: "the agent image ghcr.io/podtap/podtap-agent:0.9 cannot be pulled (ErrImagePull: manifest unknown); check the image name or pass --agent-image".into(),
        role: None,
    });
    insta::assert_snapshot!(screen(&f, 80, 24));
}

/// Kubelet messages, pod and node names are data from the cluster: escape
/// sequences in them never reach the screen.
#[test]
fn control_characters_from_the_cluster_never_reach_the_buffer() {
    let (mut f, t0) = front();
    let mut evil = pod(
        "evil\x1b[2J\x07pod",
        "Running\x1b]0;owned\x07",
        1,
        &["app"],
        0,
        1,
        "10.0.0.1\r",
        None,
    );
    evil.node = Some("node\x1b[31m".into());
    f.on_worker(FrontEvent::Pods {
        namespace: "shop".into(),
        update: Update::Applied(Box::new(evil)),
    });
    let pods = screen(&f, 160, 30);
    for c in "/evil".chars() {
        key(&mut f, KeyCode::Char(c));
    }
    key(&mut f, KeyCode::Enter);
    f.on_cluster(&ClusterEvent::Progress(LaunchStep::Patched {
        container: "podtap-\x1b[1m".into(),
    }));
    f.on_cluster(&ClusterEvent::Progress(LaunchStep::Waiting {
        reason: "Err\x1b[5m".into(),
        message: Some("bad\x08\x1b[Hmessage\x00".into()),
    }));
    f.tick(t0 + Duration::from_secs(1));
    let launch = screen(&f, 100, 30);
    for s in [&pods, &launch] {
        assert!(
            !s.chars().any(|c| c.is_control() && c != '\n'),
            "a control character reached the screen:\n{s:?}"
        );
    }
    // Shown as visible escapes (ratatui would drop the bare control
    // characters, but the rest of a sequence would still get through).
    assert!(pods.contains("evil\\x1b[2J\\x07pod"), "{pods}");
    assert!(pods.contains("node\\x1b[31m"), "{pods}");
    assert!(launch.contains("bad\\x08\\x1b[Hmessage\\x00"), "{launch}");
}

/// Ages keep counting between watch updates (a pod that does not change
/// gets no event, but it gets older).
#[test]
fn pod_ages_keep_counting_without_updates() {
    let (mut f, t0) = front();
    let row = |s: &str| {
        s.lines()
            .find(|l| l.contains("web-7d9f"))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(row(&screen(&f, 80, 24)).contains(" 1h "));
    f.tick(t0 + Duration::from_secs(2 * 3600));
    assert!(
        row(&screen(&f, 80, 24)).contains(" 3h "),
        "{}",
        screen(&f, 80, 24)
    );
}

/// The id of the launch on screen.
fn launch_id(front: &Front) -> u64 {
    front.launch.as_ref().map_or(0, |l| l.id)
}

/// Colours and modifiers of the pods picker (header, selected row, status,
/// the agent mark), not only its text.
#[test]
fn pods_styles_120x20() {
    let (mut f, _) = front();
    key(&mut f, KeyCode::Char('j'));
    let mut terminal = Terminal::new(TestBackend::new(120, 20)).unwrap();
    terminal
        .draw(|fr| picker::render(fr, &f, &Theme::default_colors()))
        .unwrap();
    insta::assert_snapshot!(format!("{:?}", terminal.backend().buffer()));
}
