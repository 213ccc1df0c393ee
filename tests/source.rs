//! The `Local` source end to end: the real agent in a network namespace,
//! an HTTP server and curl inside it, pings through the control channel.
//!
//! Needs root, `ip`, python3 and curl; otherwise prints `SKIPPED: <why>` (and
//! fails when `CI=true`). Builds the agent (`cargo build -p podtap-agent`)
//! when `target/debug/podtap-agent` is missing.

#![cfg(feature = "tui")]

mod common;

use std::process::Command;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use common::netns::{self, Netns, PORT, agent_binary};
use podtap::source::{self, SourceEvent, SourceSpec};
use podtap::wire::agent::{AgentMessage, Control, ProbeOutcome};

/// Why these tests cannot run here, if they cannot.
fn missing_requirement() -> Option<String> {
    netns::missing_requirement("the Local source test")
}

/// Waits up to `limit` for an event that `pick` accepts; fails on `Ended`.
fn wait_for<T>(
    rx: &Receiver<SourceEvent>,
    limit: Duration,
    what: &str,
    mut pick: impl FnMut(&SourceEvent) -> Option<T>,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = rx
            .recv_timeout(left)
            .unwrap_or_else(|e| panic!("no {what} within {limit:?}: {e}"));
        if let SourceEvent::Ended { error } = &event {
            panic!("the source ended before {what}: {error:?}");
        }
        if let Some(found) = pick(&event) {
            return found;
        }
    }
}

#[test]
fn local_agent_in_a_netns_shows_http_and_pings() {
    if let Some(why) = missing_requirement() {
        common::skip(&why);
        return;
    }
    let agent = agent_binary();
    let ns = Netns::new("src");
    let (tx, rx) = mpsc::sync_channel(4096);
    let spec = SourceSpec::Local {
        agent,
        netns: Some(ns.name().to_owned()),
    };
    let handle = source::start(&spec, tx).expect("start the agent");

    // The agent says hello once it captures.
    wait_for(&rx, Duration::from_secs(10), "agent hello", |e| {
        matches!(e, SourceEvent::Agent(AgentMessage::Hello { .. })).then_some(())
    });
    assert_eq!(ns.curl("/"), "200");
    wait_for(&rx, Duration::from_secs(10), "GET / 200", |e| match e {
        SourceEvent::Exchange(x) => {
            let status = x.exchange.response.as_ref().map(|r| r.status);
            (x.exchange.request.method == "GET"
                && x.exchange.request.path == "/"
                && status == Some(200)
                && x.server.port() == PORT)
                .then_some(())
        }
        _ => None,
    });

    let control = handle.control.clone().expect("a control sender");
    control
        .send(Control::PingAdd {
            target: "127.0.0.1".into(),
            interval_ms: Some(200),
            timeout_ms: None,
        })
        .unwrap();
    let mut replies = 0;
    wait_for(&rx, Duration::from_secs(10), "two probe replies", |e| {
        if let SourceEvent::Probe(p) = e {
            assert_eq!(p.target, "127.0.0.1");
            if p.outcome == ProbeOutcome::Reply {
                replies += 1;
            }
        }
        (replies >= 2).then_some(())
    });

    let stopping = Instant::now();
    handle.stop();
    let error = loop {
        match rx.recv_timeout(Duration::from_secs(5)) {
            Ok(SourceEvent::Ended { error }) => break error,
            Ok(_) => {}
            Err(e) => panic!("no Ended after stop: {e}"),
        }
    };
    assert_eq!(error, None);
    assert!(stopping.elapsed() < Duration::from_secs(4));
    drop(handle);
}

#[test]
fn local_agent_failure_reports_its_last_stderr_line() {
    if let Some(why) = missing_requirement() {
        common::skip(&why);
        return;
    }
    // An agent that cannot start: `ip netns exec` into a namespace that does not exist.
    let (tx, rx) = mpsc::sync_channel(64);
    let spec = SourceSpec::Local {
        agent: agent_binary(),
        netns: Some(format!("ptnone{}", std::process::id())),
    };
    let handle = source::start(&spec, tx).expect("spawn ip");
    let error = loop {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(SourceEvent::Ended { error }) => break error,
            Ok(_) => {}
            Err(e) => panic!("no Ended: {e}"),
        }
    };
    let error = error.expect("an error");
    assert!(error.contains("ptnone"), "{error}");
    drop(handle);
}

#[test]
fn local_agent_without_net_raw_reports_why() {
    if let Some(why) = missing_requirement() {
        common::skip(&why);
        return;
    }
    let Ok(setpriv) = Command::new("setpriv").arg("--version").output() else {
        common::skip("setpriv (util-linux) is not installed");
        return;
    };
    assert!(setpriv.status.success());
    // A wrapper that runs the agent without NET_RAW in its bounding set.
    let dir = std::env::temp_dir().join(format!("ptsrcnoraw{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wrapper = dir.join("agent");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec setpriv --bounding-set=-net_raw -- '{}' \"$@\"\n",
            agent_binary().display()
        ),
    )
    .unwrap();
    common::run("chmod", &["+x", &wrapper.to_string_lossy()]);
    let (tx, rx) = mpsc::sync_channel(64);
    let spec = SourceSpec::Local {
        agent: wrapper,
        netns: None,
    };
    let handle = source::start(&spec, tx).expect("start the wrapper");
    let error = loop {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(SourceEvent::Ended { error }) => break error,
            Ok(_) => {}
            Err(e) => panic!("no Ended: {e}"),
        }
    };
    drop(handle);
    let _ = std::fs::remove_dir_all(&dir);
    let error = error.expect("an error");
    assert!(error.contains("NET_RAW"), "{error}");
}
