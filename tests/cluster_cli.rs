//! `podtap --no-tui -n NS POD` against the fake API server: the binary
//! reads the generated kubeconfig like kubectl would, prints the preflight
//! and (with --dry-run) the PATCH body, and never patches when told not to.

#![cfg(all(feature = "cluster", feature = "tui"))]

mod fake_api;

use std::process::Command;

use fake_api::{FakeApi, FakeState, running_pod};

fn shop() -> FakeState {
    let state = FakeState::new();
    state.add_namespace("shop", &[]);
    state.add_pod(running_pod("shop", "web", &[("app", "nginx:1.27")]));
    state
}

fn podtap(fake: &FakeApi, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_podtap"))
        .arg("--kubeconfig")
        .arg(fake.kubeconfig_path())
        .args(args)
        .env("HOME", fake.dir())
        .output()
        .expect("run podtap");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn dry_run_prints_the_patch_and_changes_nothing() {
    let fake = FakeApi::start(shop());
    let (code, stdout, stderr) = podtap(
        &fake,
        &[
            "--no-tui",
            "-n",
            "shop",
            "web",
            "--dry-run",
            "--agent-image",
            "registry.example/podtap-agent:9",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("namespace shop"), "{stderr}");
    let patch: serde_json::Value = serde_json::from_str(&stdout).expect("the PATCH body is JSON");
    let text = patch.to_string();
    assert!(
        text.contains("registry.example/podtap-agent:9")
            && text.contains("NET_RAW")
            && text.contains("\"app\""),
        "{text}"
    );
    assert!(
        fake.state()
            .requests_matching("PATCH", "ephemeralcontainers")
            .is_empty()
    );
}

#[test]
fn a_missing_permission_stops_before_any_change_and_prints_the_role() {
    let state = shop();
    state.deny("patch", "pods", "ephemeralcontainers");
    let fake = FakeApi::start(state);
    let (code, stdout, stderr) = podtap(
        &fake,
        &["--no-tui", "-n", "shop", "web", "--agent-image", "img:1"],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("blocking:") && stderr.contains("ephemeralcontainers"),
        "{stderr}"
    );
    assert!(stderr.contains("kind: Role"), "{stderr}");
    assert!(
        fake.state()
            .requests_matching("PATCH", "ephemeralcontainers")
            .is_empty()
    );
}

#[test]
fn a_missing_pod_and_the_tui_without_a_cluster_ui_say_what_to_do() {
    let fake = FakeApi::start(shop());
    let (code, _, stderr) = podtap(
        &fake,
        &["--no-tui", "-n", "shop", "nope", "--agent-image", "img:1"],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("nope"), "{stderr}");
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("podtap: ")).count(),
        stderr.lines().count(),
        "{stderr}"
    );
    let (code, _, stderr) = podtap(&fake, &["-n", "shop", "web"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--no-tui"), "{stderr}");
}

#[test]
fn cluster_mode_without_a_terminal_says_to_add_no_tui() {
    let fake = FakeApi::start(shop());
    for args in [&[][..], &["-n", "shop", "web"][..]] {
        let (code, stdout, stderr) = podtap(&fake, args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stdout.is_empty());
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains("needs a terminal") && stderr.contains("--no-tui"),
            "{stderr}"
        );
    }
    // Nothing was changed on the way.
    assert!(fake.state().requests_matching("PATCH", "").is_empty());
}

#[test]
fn an_unknown_context_is_one_line_before_the_screen_changes() {
    let fake = FakeApi::start(shop());
    let (code, _, stderr) = podtap(&fake, &["--context", "nope"]);
    assert_eq!(code, 2);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("\"nope\"") && stderr.contains("get-contexts"),
        "{stderr}"
    );
}
