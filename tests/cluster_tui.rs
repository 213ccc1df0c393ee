//! Cluster mode in a real terminal: the built binary in tmux, pointed at the
//! fake API server by a generated kubeconfig (`KUBECONFIG`), like a user's
//! `podtap` would reach a cluster.
//!
//! The first test walks the whole path with the real agent: pickers, the
//! launch screen, HTTP rows from curl inside a network namespace arriving
//! through exec, Esc back to the pods (the agent is marked), a second tap that
//! reuses the agent (one PATCH in all), and a clean quit. It needs root, `ip`,
//! python3 and curl (`SKIPPED` otherwise, a failure with `CI=true`). The
//! others need only tmux.

#![cfg(all(feature = "cluster", feature = "tui"))]

mod common;
mod fake_api;

use std::time::Duration;

use common::netns::{self, Netns};
use common::tmux::Session;
use fake_api::{FakeApi, FakeState, running_pod};

const PODTAP: &str = env!("CARGO_BIN_EXE_podtap");

fn shop() -> FakeState {
    let state = FakeState::new();
    state.add_namespace("shop", &[]);
    state.add_namespace("default", &[]);
    state.add_pod(running_pod("shop", "api", &[("api", "shop/api:2")]));
    state.add_pod(running_pod("shop", "web", &[("app", "nginx:1.27")]));
    state
}

/// `podtap ARGS` in tmux against `fake`, with a home, config and cache of its own.
fn start(fake: &FakeApi, args: &str) -> Option<Session> {
    let kubeconfig = fake.kubeconfig_path();
    let dir = fake.dir().display().to_string();
    Session::start(
        PODTAP,
        &format!("{args} --agent-image ghcr.io/podtap/podtap-agent:0.1.0"),
        &[
            ("KUBECONFIG", &kubeconfig.display().to_string()),
            ("HOME", &dir),
            ("XDG_CONFIG_HOME", &dir),
            ("XDG_CACHE_HOME", &dir),
        ],
        80,
        24,
    )
}

#[test]
fn tap_a_pod_see_its_http_go_back_and_tap_it_again_without_a_second_agent() {
    if let Some(why) = netns::missing_requirement("the cluster-mode TUI test") {
        common::skip(&why);
        return;
    }
    let ns = Netns::new("tui");
    let state = shop();
    state.set_exec_plug(ns.exec_plug(&[]));
    let fake = FakeApi::start(state);
    let Some(s) = start(&fake, "") else {
        return;
    };
    s.wait("the pods of shop", |t| {
        t.contains("Pods in shop") && t.contains("web") && t.contains("api")
    });
    // Type to filter, Enter taps the pod.
    s.keys(&["-l", "/web"]);
    s.keys(&["Enter"]);
    // The launch screen, then the panes once the exec stream is up (a cold
    // debug agent on a busy machine can take a while).
    let screen = s.wait_for(Duration::from_secs(40), "the live panes", |t| {
        t.contains("1 HTTP") && t.contains("shop/web")
    });
    assert!(screen.lines().count() <= 24, "{screen}");
    let mut last = String::new();
    for _ in 0..40 {
        assert_eq!(ns.curl("/"), "200");
        last = s.screen();
        if last.contains("GET") && last.contains(" 200") {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(
        last.contains("GET") && last.contains(" 200"),
        "no HTTP row from curl in the pod; screen:\n{last}"
    );
    assert_eq!(ns.agent_pids().len(), 1);

    // Esc: back on the pod list, the tapped pod marked as having an agent,
    // and the exec session's agent process gone.
    s.keys(&["Escape"]);
    s.wait("the pod list with the agent marked", |t| {
        t.lines()
            .any(|l| l.contains("web") && l.contains("running") && l.contains("●"))
    });
    ns.wait_pids(
        Duration::from_secs(8),
        "the agent's exit",
        <[u32]>::is_empty,
    );

    // Again: the running agent is reused, nothing is patched a second time.
    s.keys(&["Enter"]);
    s.wait_for(Duration::from_secs(30), "the live panes again", |t| {
        t.contains("1 HTTP") && t.contains("shop/web")
    });
    assert_eq!(
        fake.state()
            .requests_matching("PATCH", "ephemeralcontainers")
            .len(),
        1
    );
    // One exec per tap (more only if a stream had to reconnect).
    assert!(
        fake.state()
            .requests_matching("GET", "/pods/web/exec")
            .len()
            >= 2
    );
    s.keys(&["q"]);
    let screen = s.wait("a clean exit", |t| t.contains("EXITED 0"));
    assert!(!screen.contains("panicked"), "{screen}");
    assert_eq!(s.modes(), (false, true, false), "the terminal is restored");
    ns.wait_pids(
        Duration::from_secs(8),
        "the agent's exit after q",
        <[u32]>::is_empty,
    );
}

#[test]
fn a_blocked_launch_shows_the_role_goes_back_and_changes_nothing() {
    let state = shop();
    state.deny("patch", "pods", "ephemeralcontainers");
    let fake = FakeApi::start(state);
    let Some(s) = start(&fake, "-n shop web") else {
        return;
    };
    let screen = s.wait("the blocking finding and the Role", |t| {
        t.contains("Could not add the agent") && t.contains("kind: Role")
    });
    assert!(screen.contains("ephemeralcontainers"), "{screen}");
    assert!(screen.lines().count() <= 24);
    s.keys(&["Escape"]);
    let screen = s.wait("the pod list", |t| t.contains("Pods in shop"));
    assert!(screen.contains("web") && screen.contains("api"), "{screen}");
    s.keys(&["q"]);
    s.wait("a clean exit", |t| t.contains("EXITED 0"));
    assert!(
        fake.state()
            .requests_matching("PATCH", "ephemeralcontainers")
            .is_empty()
    );
}

#[test]
fn pickers_walk_namespaces_and_contexts_and_filter() {
    let fake = FakeApi::start(shop());
    let Some(s) = start(&fake, "") else {
        return;
    };
    // The kubeconfig's namespace for the fake's context is used first.
    let screen = s.wait("the pods", |t| t.contains("Pods in") && t.contains("›"));
    assert!(screen.lines().count() <= 24);
    s.keys(&["Escape"]);
    s.wait("the namespaces", |t| {
        t.contains("Namespaces") && t.contains("shop") && t.contains("default")
    });
    s.keys(&["-l", "/sho"]);
    s.wait("the filtered namespaces", |t| {
        t.contains("Namespaces 1/") && t.contains("/sho")
    });
    s.keys(&["Enter"]);
    let screen = s.wait("the pods of shop", |t| {
        t.contains("Pods in shop") && t.contains("web") && t.contains("Running")
    });
    assert!(screen.contains("api"), "{screen}");
    s.keys(&["Escape"]);
    s.wait("the namespaces", |t| t.contains("Namespaces"));
    s.keys(&["Escape"]);
    s.wait("the contexts", |t| t.contains("Contexts"));
    // Ctrl-C quits from anywhere, the terminal comes back.
    s.keys(&["C-c"]);
    let screen = s.wait("a clean exit", |t| t.contains("EXITED 0"));
    assert!(!screen.contains("panicked"), "{screen}");
}

/// Mouse input as the terminal sends it (SGR, 1-based): `button` at the cell
/// (`x`, `y`) counted from 0.
fn mouse(s: &Session, button: u8, x: usize, y: usize) {
    s.keys(&["-l", &format!("\x1b[<{button};{};{}M", x + 1, y + 1)]);
}

/// The row on screen of the first line that holds `text`.
fn row_of(screen: &str, text: &str) -> usize {
    screen
        .lines()
        .position(|l| l.contains(text))
        .unwrap_or_else(|| panic!("no {text:?} on\n{screen}"))
}

/// The mouse reaches the pickers: the wheel moves the selection, a click
/// on the selected row opens it, a click on another row selects it.
#[test]
fn pickers_take_the_wheel_and_clicks() {
    let fake = FakeApi::start(shop());
    let Some(s) = start(&fake, "-n shop") else {
        return;
    };
    s.wait("the pods", |t| t.contains("Pods in shop"));
    s.keys(&["Escape"]);
    // Back on the namespaces (default, kube-system, shop), on shop; the
    // wheel up selects default, and goes no further.
    let screen = s.wait("the namespaces", |t| {
        t.contains("Namespaces 3/3") && t.contains("kube-system")
    });
    for _ in 0..3 {
        mouse(&s, 64, 10, 10);
    }
    mouse(&s, 0, 5, row_of(&screen, "│default"));
    s.wait("the pods of default", |t| t.contains("Pods in default"));
    s.keys(&["Escape"]);
    let screen = s.wait("the namespaces", |t| t.contains("Namespaces"));
    // One click selects shop, the second opens it.
    let shop = row_of(&screen, "│shop");
    mouse(&s, 0, 5, shop);
    mouse(&s, 0, 5, shop);
    s.wait("the pods of shop", |t| {
        t.contains("Pods in shop") && t.contains("web")
    });
    s.keys(&["q"]);
    let screen = s.wait("a clean exit", |t| t.contains("EXITED 0"));
    assert!(!screen.contains("panicked"), "{screen}");
}

#[test]
fn a_pod_that_does_not_exist_says_so_on_the_launch_screen() {
    let fake = FakeApi::start(shop());
    let Some(s) = start(&fake, "-n shop nosuchpod") else {
        return;
    };
    s.wait_for(Duration::from_secs(15), "the error", |t| {
        t.contains("Could not add the agent") && t.contains("does not exist")
    });
    s.keys(&["q"]);
    s.wait("a clean exit", |t| t.contains("EXITED 0"));
}
