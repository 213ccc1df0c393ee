use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::cluster::{AgentInfo, Finding, LaunchStep, Severity, Update};

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn chars(front: &mut Front, s: &str) {
    for c in s.chars() {
        front.on_key(key(KeyCode::Char(c)));
    }
}

fn ctx(name: &str, current: bool) -> ContextInfo {
    ContextInfo {
        name: name.into(),
        cluster: format!("{name}-cluster"),
        user: Some("admin".into()),
        namespace: None,
        current,
    }
}

fn pod(name: &str, containers: &[&str]) -> PodSummary {
    PodSummary {
        name: name.into(),
        namespace: "shop".into(),
        phase: "Running".into(),
        ready: containers.len(),
        total: containers.len(),
        restarts: 0,
        node: Some("node-1".into()),
        age: Some(Duration::from_secs(600)),
        ip: Some("10.244.0.7".into()),
        containers: containers.iter().map(|c| (*c).to_owned()).collect(),
        default_container: containers.last().map(|c| (*c).to_owned()),
        host_network: false,
        agents: Vec::new(),
    }
}

fn pods(front: &mut Front, names: &[&str]) {
    front.on_worker(FrontEvent::Pods {
        namespace: "shop".into(),
        update: Update::Restarted,
    });
    for n in names {
        front.on_worker(FrontEvent::Pods {
            namespace: "shop".into(),
            update: Update::Applied(Box::new(pod(n, &["app"]))),
        });
    }
    front.on_worker(FrontEvent::Pods {
        namespace: "shop".into(),
        update: Update::Listed,
    });
}

fn connected(front: &mut Front, namespace: &str) {
    front.on_worker(FrontEvent::Connected {
        context: Some("dev".into()),
        server: "https://127.0.0.1:6443".into(),
        namespace: namespace.into(),
    });
}

/// A front connected to `dev`, namespace `shop`, with pods listed; requests cleared.
fn ready(names: &[&str]) -> (Front, Instant) {
    let t0 = Instant::now();
    let start = Start {
        contexts: vec![ctx("dev", true), ctx("prod", false)],
        context: None,
        namespace: None,
        pod: None,
    };
    let mut front = Front::new(start, t0);
    connected(&mut front, "shop");
    pods(&mut front, names);
    front.requests.clear();
    (front, t0)
}

#[test]
fn starts_at_the_pods_of_the_current_context_and_namespace() {
    let t0 = Instant::now();
    let mut front = Front::new(
        Start {
            contexts: vec![ctx("dev", false), ctx("kind", true)],
            context: None,
            namespace: None,
            pod: None,
        },
        t0,
    );
    assert_eq!(front.stage, Stage::Pods);
    assert_eq!(front.context.as_deref(), Some("kind"));
    assert_eq!(
        front.requests,
        [Request::Connect {
            context: Some("kind".into())
        }]
    );
    assert!(front.connecting);
    front.requests.clear();
    connected(&mut front, "shop");
    assert!(!front.connecting);
    assert_eq!(
        front.requests,
        [Request::WatchPods {
            namespace: "shop".into()
        }]
    );
}

#[test]
fn dash_n_wins_over_the_contexts_namespace_once() {
    let mut front = Front::new(
        Start {
            contexts: vec![ctx("dev", true)],
            context: None,
            namespace: Some("payments".into()),
            pod: None,
        },
        Instant::now(),
    );
    connected(&mut front, "default");
    assert_eq!(front.namespace, "payments");
    // A later connection (another context) uses that context's namespace.
    connected(&mut front, "default");
    assert_eq!(front.namespace, "default");
}

#[test]
fn j_k_move_and_the_selection_stays_on_its_pod_while_pods_come_and_go() {
    let (mut front, _) = ready(&["api", "cart", "web"]);
    assert_eq!(front.rows(), ["api", "cart", "web"]);
    front.on_key(key(KeyCode::Char('j')));
    front.on_key(key(KeyCode::Char('j')));
    assert_eq!(front.pick.selected.as_deref(), Some("web"));
    front.on_key(key(KeyCode::Char('j')));
    assert_eq!(
        front.pick.selected.as_deref(),
        Some("web"),
        "stops at the end"
    );
    // A pod sorting before it arrives: the selection stays on web.
    front.on_worker(FrontEvent::Pods {
        namespace: "shop".into(),
        update: Update::Applied(Box::new(pod("aaa", &["app"]))),
    });
    let rows = front.rows();
    assert_eq!(rows[front.selected_index(&rows).unwrap()], "web");
    front.on_key(key(KeyCode::Char('g')));
    assert_eq!(front.pick.selected.as_deref(), Some("aaa"));
    front.on_key(key(KeyCode::Char('G')));
    assert_eq!(front.pick.selected.as_deref(), Some("web"));
    // Updates for another namespace (a watch being replaced) are ignored.
    front.on_worker(FrontEvent::Pods {
        namespace: "other".into(),
        update: Update::Applied(Box::new(pod("zzz", &["app"]))),
    });
    assert_eq!(front.rows().len(), 4);
}

#[test]
fn typing_filters_and_enter_taps_the_match() {
    let (mut front, _) = ready(&["api-7d9f", "cart-5c4b", "web-1a2b"]);
    chars(&mut front, "CART");
    assert!(front.pick.typing);
    assert_eq!(front.rows(), ["cart-5c4b"]);
    // j/k are letters while typing.
    chars(&mut front, "j");
    assert!(front.rows().is_empty());
    front.on_key(key(KeyCode::Backspace));
    front.on_key(key(KeyCode::Enter));
    assert_eq!(front.stage, Stage::Launch);
    assert_eq!(
        front.requests,
        [Request::Launch {
            id: launch_id(&front),
            target: Target {
                namespace: "shop".into(),
                pod: "cart-5c4b".into(),
                container: None,
            },
        }]
    );
}

#[test]
fn slash_then_esc_clears_the_filter_and_esc_goes_up_a_level() {
    let (mut front, _) = ready(&["api", "web"]);
    front.on_key(key(KeyCode::Char('/')));
    chars(&mut front, "we");
    assert_eq!(front.rows(), ["web"]);
    front.on_key(key(KeyCode::Esc));
    assert!(!front.pick.typing);
    assert_eq!(front.rows().len(), 2);
    assert_eq!(front.stage, Stage::Pods);
    front.on_key(key(KeyCode::Esc));
    assert_eq!(front.stage, Stage::Namespaces);
    assert_eq!(front.pick.selected.as_deref(), Some("shop"));
    front.on_key(key(KeyCode::Esc));
    assert_eq!(front.stage, Stage::Contexts);
    assert_eq!(front.pick.selected.as_deref(), Some("dev"));
    assert_eq!(front.rows(), ["dev", "prod"]);
    front.on_key(key(KeyCode::Esc));
    assert!(front.should_quit);
}

#[test]
fn enter_on_a_context_reconnects_and_on_a_namespace_watches_its_pods() {
    let (mut front, _) = ready(&["api"]);
    front.on_key(key(KeyCode::Esc));
    front.on_key(key(KeyCode::Esc));
    front.on_key(key(KeyCode::Char('j')));
    front.on_key(key(KeyCode::Enter));
    assert_eq!(
        front.requests,
        [Request::Connect {
            context: Some("prod".into())
        }]
    );
    assert!(front.connecting);
    assert!(front.pods.is_empty(), "the old cluster's pods are gone");
    front.requests.clear();
    connected(&mut front, "default");
    front.requests.clear();
    front.on_key(key(KeyCode::Esc));
    assert_eq!(front.stage, Stage::Namespaces);
    for n in ["default", "kube-system", "shop"] {
        front.on_worker(FrontEvent::Namespaces(Update::Applied(Box::new(
            crate::cluster::NamespaceSummary {
                name: n.into(),
                phase: "Active".into(),
                age: None,
            },
        ))));
    }
    chars(&mut front, "shop");
    front.on_key(key(KeyCode::Enter));
    assert_eq!(front.stage, Stage::Pods);
    assert_eq!(front.namespace, "shop");
    assert_eq!(
        front.requests,
        [Request::WatchPods {
            namespace: "shop".into()
        }]
    );
}

#[test]
fn a_namespace_can_be_typed_when_listing_is_forbidden() {
    let (mut front, _) = ready(&[]);
    front.on_key(key(KeyCode::Esc));
    front.on_worker(FrontEvent::NamespacesFailed(
        "namespaces is forbidden (HTTP 403)".into(),
    ));
    chars(&mut front, "payments");
    assert!(front.rows().is_empty());
    front.on_key(key(KeyCode::Enter));
    assert_eq!(front.stage, Stage::Pods);
    assert_eq!(front.namespace, "payments");
}

#[test]
fn a_pod_with_several_containers_asks_which_starting_on_the_default() {
    let (mut front, _) = ready(&[]);
    let mut p = pod("web", &["istio-proxy", "app", "log"]);
    p.default_container = Some("app".into());
    front.on_worker(FrontEvent::Pods {
        namespace: "shop".into(),
        update: Update::Applied(Box::new(p)),
    });
    front.on_key(key(KeyCode::Enter));
    assert_eq!(front.stage, Stage::Containers);
    assert_eq!(front.rows(), ["istio-proxy", "app", "log"]);
    assert_eq!(front.pick.selected.as_deref(), Some("app"));
    assert!(front.requests.is_empty());
    front.on_key(key(KeyCode::Char('j')));
    front.on_key(key(KeyCode::Enter));
    assert_eq!(
        front.requests,
        [Request::Launch {
            id: launch_id(&front),
            target: Target {
                namespace: "shop".into(),
                pod: "web".into(),
                container: Some("log".into()),
            },
        }]
    );
    // Back from the launch: the pods, not the containers.
    front.requests.clear();
    front.on_key(key(KeyCode::Esc));
    assert_eq!(front.requests, [Request::Cancel]);
    assert_eq!(front.stage, Stage::Pods);
}

#[test]
fn the_launch_screen_follows_each_step_with_its_time() {
    let (mut front, t0) = ready(&["web"]);
    front.on_key(key(KeyCode::Enter));
    let at = |ms| t0 + Duration::from_millis(ms);
    front.tick(at(300));
    front.on_worker(FrontEvent::Preflight {
        launch: launch_id(&front),
        findings: vec![Finding::new(
            Severity::Warning,
            "The pod runs as user 1000.".to_owned(),
        )],
    });
    front.on_cluster(&ClusterEvent::Progress(LaunchStep::Patched {
        container: "podtap-abc12".into(),
    }));
    front.tick(at(900));
    front.on_cluster(&ClusterEvent::Progress(LaunchStep::Waiting {
        reason: "ContainerCreating".into(),
        message: None,
    }));
    front.tick(at(2400));
    front.on_cluster(&ClusterEvent::Progress(LaunchStep::Running {
        container: "podtap-abc12".into(),
    }));
    let l = front.launch.as_ref().unwrap();
    let texts: Vec<(&str, StepState)> =
        l.steps.iter().map(|s| (s.text.as_str(), s.state)).collect();
    assert_eq!(
        texts,
        [
            ("Preflight: passed with 1 note", StepState::Done),
            (
                "Added the ephemeral container podtap-abc12",
                StepState::Done
            ),
            ("podtap-abc12 is running", StepState::Done),
            ("Opening the exec stream", StepState::Running),
        ]
    );
    assert_eq!(l.steps[0].took, Some(Duration::from_millis(300)));
    // Added at 0.3 s, running at 2.4 s.
    assert_eq!(l.steps[2].took, Some(Duration::from_millis(2100)));
    assert_eq!(front.launch_elapsed(), Duration::from_millis(2400));
    assert!(!l.streaming);
    front.on_cluster(&ClusterEvent::StreamStarted {
        container: "podtap-abc12".into(),
    });
    assert!(front.launch.as_ref().unwrap().streaming);
    front.went_live();
    assert_eq!(front.stage, Stage::Live);
    front.back_to_pods();
    assert_eq!(front.stage, Stage::Pods);
    assert!(front.launch.is_none());
    assert_eq!(
        front.pick.selected.as_deref(),
        Some("web"),
        "back on the pod tapped"
    );
}

#[test]
fn a_failed_launch_shows_why_and_the_role_and_r_retries() {
    let (mut front, _) = ready(&["web"]);
    front.on_key(key(KeyCode::Enter));
    front.requests.clear();
    let blocking = Finding::new(
        Severity::Blocking,
        "You may not patch pods/ephemeralcontainers in shop.".to_owned(),
    );
    front.on_worker(FrontEvent::Preflight {
        launch: launch_id(&front),
        findings: vec![blocking.clone()],
    });
    front.on_worker(FrontEvent::LaunchFailed {
        launch: launch_id(&front),
        error: blocking.message.clone(),
        role: Some("kind: Role".into()),
    });
    let l = front.launch.as_ref().unwrap();
    assert!(l.finished());
    assert_eq!(l.steps.len(), 1);
    assert_eq!(l.steps[0].state, StepState::Failed);
    assert_eq!(l.role.as_deref(), Some("kind: Role"));
    front.on_key(key(KeyCode::Char('r')));
    assert_eq!(front.requests.len(), 1);
    assert!(matches!(front.requests[0], Request::Launch { .. }));
    assert!(!front.launch.as_ref().unwrap().finished());
    // Esc after a failure sends no Cancel (nothing runs).
    front.requests.clear();
    front.on_worker(FrontEvent::LaunchFailed {
        launch: launch_id(&front),
        error: "x".into(),
        role: None,
    });
    front.on_key(key(KeyCode::Esc));
    assert!(front.requests.is_empty());
    assert_eq!(front.stage, Stage::Pods);
}

#[test]
fn replies_to_an_abandoned_launch_are_ignored() {
    let (mut front, _) = ready(&["web"]);
    front.on_key(key(KeyCode::Enter));
    let old = launch_id(&front);
    front.on_key(key(KeyCode::Esc));
    front.on_key(key(KeyCode::Enter));
    assert_ne!(launch_id(&front), old);
    front.on_worker(FrontEvent::LaunchFailed {
        launch: old,
        error: "late".into(),
        role: None,
    });
    front.on_worker(FrontEvent::Preflight {
        launch: old,
        findings: Vec::new(),
    });
    let l = front.launch.as_ref().unwrap();
    assert!(!l.finished());
    assert_eq!(l.steps.len(), 1, "still on its own preflight");
}

#[test]
fn the_pod_from_the_command_line_is_not_launched_in_another_context() {
    let mut front = Front::new(
        Start {
            contexts: vec![ctx("dev", true), ctx("prod", false)],
            context: None,
            namespace: Some("shop".into()),
            pod: Some(("db-0".into(), None)),
        },
        Instant::now(),
    );
    front.on_worker(FrontEvent::ConnectFailed(
        "client certificate missing".into(),
    ));
    // r connects again (nothing to launch into yet) ...
    front.requests.clear();
    front.on_key(key(KeyCode::Char('r')));
    assert_eq!(
        front.requests,
        [Request::Connect {
            context: Some("dev".into())
        }]
    );
    front.on_worker(FrontEvent::ConnectFailed("still missing".into()));
    // ... but once the user walks away to another context, db-0 is not tapped there.
    front.on_key(key(KeyCode::Esc));
    front.on_key(key(KeyCode::Esc));
    front.on_key(key(KeyCode::Esc));
    assert_eq!(front.stage, Stage::Contexts);
    front.on_key(key(KeyCode::Char('j')));
    front.on_key(key(KeyCode::Enter));
    front.requests.clear();
    connected(&mut front, "default");
    assert!(
        !front
            .requests
            .iter()
            .any(|r| matches!(r, Request::Launch { .. })),
        "{:?}",
        front.requests
    );
    assert_eq!(front.namespace, "default");
    assert_eq!(front.stage, Stage::Pods);
}

#[test]
fn the_launch_screen_scrolls_no_further_than_its_text() {
    let mut front = launch_failed_with_a_role();
    for _ in 0..500 {
        front.on_key(key(KeyCode::Char('j')));
    }
    let l = front.launch.as_ref().unwrap();
    assert!(usize::from(l.scroll) <= l.lines(), "{}", l.scroll);
    assert!(l.scroll > 0);
}

#[test]
fn a_stream_that_ends_before_it_starts_fails_the_launch() {
    let (mut front, _) = ready(&["web"]);
    front.on_key(key(KeyCode::Enter));
    front.on_worker(FrontEvent::Preflight {
        launch: launch_id(&front),
        findings: Vec::new(),
    });
    front.on_cluster(&ClusterEvent::Progress(LaunchStep::Reusing {
        container: "podtap-x".into(),
    }));
    // Another agent's stream (one being retired) starting changes nothing.
    front.on_cluster(&ClusterEvent::StreamStarted {
        container: "podtap-old".into(),
    });
    assert!(!front.launch.as_ref().unwrap().streaming);
    front.on_cluster(&ClusterEvent::StreamEnded {
        reason: Some("exec into podtap-x failed: forbidden".into()),
    });
    let l = front.launch.as_ref().unwrap();
    assert_eq!(
        l.error.as_deref(),
        Some("exec into podtap-x failed: forbidden")
    );
}

#[test]
fn dash_n_pod_goes_straight_to_the_launch_once_connected() {
    let mut front = Front::new(
        Start {
            contexts: vec![ctx("dev", true)],
            context: None,
            namespace: Some("shop".into()),
            pod: Some(("web".into(), Some("app".into()))),
        },
        Instant::now(),
    );
    assert_eq!(front.stage, Stage::Launch);
    assert_eq!(
        front.requests.len(),
        1,
        "only Connect before the connection"
    );
    front.requests.clear();
    connected(&mut front, "default");
    assert_eq!(
        front.requests,
        [
            Request::WatchPods {
                namespace: "shop".into()
            },
            Request::Launch {
                id: launch_id(&front),
                target: Target {
                    namespace: "shop".into(),
                    pod: "web".into(),
                    container: Some("app".into()),
                },
            },
        ]
    );
    // Esc goes to the pod list of that namespace.
    front.on_key(key(KeyCode::Esc));
    assert_eq!(front.stage, Stage::Pods);
}

#[test]
fn a_connection_failure_is_shown_on_the_launch_screen_or_at_the_contexts() {
    let mut front = Front::new(
        Start {
            contexts: vec![ctx("dev", true)],
            context: None,
            namespace: None,
            pod: Some(("web".into(), None)),
        },
        Instant::now(),
    );
    front.on_worker(FrontEvent::ConnectFailed("cannot reach it".into()));
    assert_eq!(
        front.launch.as_ref().and_then(|l| l.error.as_deref()),
        Some("cannot reach it")
    );
    let (mut front, _) = ready(&[]);
    front.on_worker(FrontEvent::ConnectFailed("token expired".into()));
    assert_eq!(front.stage, Stage::Contexts);
    assert_eq!(front.error.as_deref(), Some("token expired"));
}

#[test]
fn ctrl_c_quits_everywhere_and_q_does_not_while_typing() {
    let (mut front, _) = ready(&["web"]);
    front.on_key(key(KeyCode::Char('/')));
    chars(&mut front, "q");
    assert!(!front.should_quit);
    assert_eq!(front.pick.query, "q");
    front.on_key(key(KeyCode::Esc));
    chars(&mut front, "q");
    assert!(front.should_quit, "q quits the list");
    front.should_quit = false;
    front.on_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(front.should_quit);
}

#[test]
fn pods_with_agents_keep_their_agent_info() {
    let (mut front, _) = ready(&[]);
    let mut p = pod("web", &["app"]);
    p.agents.push(AgentInfo {
        name: "podtap-x".into(),
        target: Some("app".into()),
        image: None,
        state: crate::cluster::ContainerState::Running,
    });
    front.on_worker(FrontEvent::Pods {
        namespace: "shop".into(),
        update: Update::Applied(Box::new(p)),
    });
    assert_eq!(front.pods.get("web").unwrap().agents.len(), 1);
}

/// The id of the launch on screen.
/// The launch screen of `web`, failed, with a three-line Role to scroll.
fn launch_failed_with_a_role() -> Front {
    let (mut front, _) = ready(&["web"]);
    front.on_key(key(KeyCode::Enter));
    front.on_worker(FrontEvent::LaunchFailed {
        launch: launch_id(&front),
        error: "x".into(),
        role: Some("a\nb\nc".into()),
    });
    front
}

fn launch_id(front: &Front) -> u64 {
    front.launch.as_ref().map_or(0, |l| l.id)
}

mod mouse;
