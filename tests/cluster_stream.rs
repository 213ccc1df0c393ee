//! The exec stream end to end: the fake API server's exec WebSocket runs the
//! real agent (`podtap-agent capture`) in a network namespace with an HTTP
//! server, and `start_stream` decodes what comes back; a cut connection is
//! reopened.
//!
//! Needs root, `ip`, python3 and curl; otherwise prints `SKIPPED: <why>` (and
//! fails when `CI=true`). Builds the agent (`cargo build -p podtap-agent`)
//! when `target/debug/podtap-agent` is missing.

#![cfg(all(feature = "cluster", feature = "tui"))]

mod common;
mod fake_api;

use std::collections::VecDeque;
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use common::netns::{self, Netns, PORT};
use common::skip;
use fake_api::{FakeApi, FakeState, running_pod};
use podtap::cluster::{
    AgentRef, Cluster, ClusterEvent, LaunchOptions, PullPolicy, StreamOptions, start_stream,
};
use podtap::source::SourceEvent;
use podtap::wire::agent::{AgentMessage, Control, ProbeOutcome};

/// Why these tests cannot run here, if they cannot.
fn missing_requirement() -> Option<String> {
    netns::missing_requirement("the exec stream test")
}

/// Both channels of a stream, with every cluster event kept for failure messages.
struct Events {
    source: Receiver<SourceEvent>,
    /// Source events that arrived while a cluster event was awaited, in order.
    /// (Dropping them lost the agent's hello whenever it came before the test
    /// saw `StreamStarted`: the stream looked silent although it was fine.)
    backlog: VecDeque<SourceEvent>,
    cluster: Receiver<ClusterEvent>,
    log: Vec<ClusterEvent>,
}

impl Events {
    /// Waits up to `limit` for a source event `pick` accepts; fails on `Ended`.
    fn source<T>(
        &mut self,
        limit: Duration,
        what: &str,
        mut pick: impl FnMut(&SourceEvent) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + limit;
        loop {
            self.log.extend(self.cluster.try_iter());
            let left = deadline.saturating_duration_since(Instant::now());
            let next = match self.backlog.pop_front() {
                Some(e) => Ok(e),
                None => self
                    .source
                    .recv_timeout(left.min(Duration::from_millis(50))),
            };
            let event = match next {
                Ok(e) => e,
                Err(mpsc::RecvTimeoutError::Timeout) if !left.is_zero() => continue,
                Err(e) => panic!(
                    "no {what} within {limit:?}: {e}; cluster events {:#?}",
                    self.log
                ),
            };
            if let SourceEvent::Ended { error } = &event {
                panic!(
                    "the stream ended before {what}: {error:?}; cluster events {:#?}",
                    self.log
                );
            }
            if let Some(found) = pick(&event) {
                return found;
            }
        }
    }

    /// Waits up to `limit` for a cluster event `pick` accepts (looking at
    /// those logged already first), calling `meanwhile` every 300 ms.
    fn cluster<T>(
        &mut self,
        limit: Duration,
        what: &str,
        mut pick: impl FnMut(&ClusterEvent) -> Option<T>,
        mut meanwhile: impl FnMut(),
    ) -> T {
        let deadline = Instant::now() + limit;
        let mut seen = 0;
        let mut next_tick = Instant::now();
        loop {
            self.log.extend(self.cluster.try_iter());
            // Keep the bounded channel from filling; the events wait in the backlog.
            while let Ok(event) = self.source.try_recv() {
                if let SourceEvent::Ended { error } = &event {
                    panic!(
                        "the stream ended before {what}: {error:?}; cluster events {:#?}",
                        self.log
                    );
                }
                self.backlog.push_back(event);
            }
            while seen < self.log.len() {
                if let Some(found) = pick(&self.log[seen]) {
                    self.log.drain(..=seen);
                    return found;
                }
                seen += 1;
            }
            assert!(
                Instant::now() < deadline,
                "no {what} within {limit:?}; cluster events {:#?}",
                self.log
            );
            if Instant::now() >= next_tick {
                meanwhile();
                next_tick = Instant::now() + Duration::from_millis(300);
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// After a stop: the `Ended` of the source and the `StreamEnded` of the cluster side.
    fn ended(&mut self, limit: Duration) -> (Option<String>, Option<String>) {
        let deadline = Instant::now() + limit;
        let error = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let next = match self.backlog.pop_front() {
                Some(e) => Ok(e),
                None => self.source.recv_timeout(left),
            };
            match next {
                Ok(SourceEvent::Ended { error }) => break error,
                Ok(_) => {}
                Err(e) => panic!(
                    "no Ended within {limit:?}: {e}; cluster events {:#?}",
                    self.log
                ),
            }
        };
        let reason = self.cluster(
            deadline.saturating_duration_since(Instant::now()),
            "StreamEnded",
            |e| match e {
                ClusterEvent::StreamEnded { reason } => Some(reason.clone()),
                _ => None,
            },
            || {},
        );
        (error, reason)
    }
}

/// Whether `e` is a completed `GET path` answered 200 by the namespace's server.
fn is_get(e: &SourceEvent, path: &str) -> bool {
    match e {
        SourceEvent::Exchange(x) => {
            let status = x.exchange.response.as_ref().map(|r| r.status);
            x.exchange.request.method == "GET"
                && x.exchange.request.path == path
                && status == Some(200)
                && x.server.port() == PORT
        }
        _ => false,
    }
}

/// A fake cluster whose pod `shop/web` got a running agent through `launch`,
/// and whose exec runs `/podtap-agent ...` as the real agent in `ns`
/// (with `extra` arguments appended).
fn cluster_with_agent(
    runtime: &tokio::runtime::Runtime,
    ns: &Netns,
    extra: &[&str],
) -> (FakeApi, Cluster, AgentRef) {
    let state = FakeState::new();
    state.add_namespace("shop", &[]);
    state.add_pod(running_pod("shop", "web", &[("app", "nginx:1.27")]));
    state.set_exec_plug(ns.exec_plug(extra));
    let fake = FakeApi::start(state);
    let (cluster, agent) = runtime.block_on(async {
        let cluster = Cluster::new(fake.client().await, "shop");
        let options = LaunchOptions {
            image: "ghcr.io/podtap/podtap-agent:0.1.0".to_owned(),
            pull_policy: PullPolicy::IfNotPresent,
            startup_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
        };
        let (tx, _rx) = mpsc::channel();
        let launch = cluster.launch("shop", "web", "app", &options, &tx);
        let agent = tokio::time::timeout(Duration::from_secs(20), launch)
            .await
            .expect("launch within 20 s")
            .expect("launch");
        (cluster, agent)
    });
    (fake, cluster, agent)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn channels() -> (
    Events,
    mpsc::SyncSender<SourceEvent>,
    mpsc::Sender<ClusterEvent>,
) {
    let (source_tx, source) = mpsc::sync_channel(4096);
    let (cluster_tx, cluster) = mpsc::channel();
    (
        Events {
            source,
            backlog: VecDeque::new(),
            cluster,
            log: Vec::new(),
        },
        source_tx,
        cluster_tx,
    )
}

#[test]
fn exec_stream_shows_http_and_probes_and_stops_the_agent() {
    if let Some(why) = missing_requirement() {
        skip(&why);
        return;
    }
    // Dropped in reverse: the stream handle first, then the fake, the namespace, the runtime.
    let runtime = runtime();
    let ns = Netns::new("clok");
    let (fake, cluster, agent) = cluster_with_agent(&runtime, &ns, &[]);
    let (mut events, source_tx, cluster_tx) = channels();
    let options = StreamOptions {
        liveness: Duration::from_secs(5),
        ..StreamOptions::default()
    };
    let handle = start_stream(
        runtime.handle(),
        cluster,
        agent.clone(),
        options,
        source_tx,
        cluster_tx,
    )
    .expect("start the stream");

    events.cluster(
        Duration::from_secs(30),
        "StreamStarted",
        |e| {
            (*e == ClusterEvent::StreamStarted {
                container: agent.container.clone(),
            })
            .then_some(())
        },
        || {},
    );
    // A cold start (first exec of a 150 MB debug agent on a busy CI machine)
    // can take well over the usual second: the bound is generous on purpose.
    events.source(Duration::from_secs(30), "agent hello", |e| {
        matches!(e, SourceEvent::Agent(AgentMessage::Hello { .. })).then_some(())
    });
    // exec went to the agent container with the capture command.
    let execs = fake.state().requests_matching("GET", "/pods/web/exec");
    assert_eq!(execs.len(), 1, "{execs:?}");
    assert!(
        execs[0]
            .query
            .contains(&format!("container={}", agent.container)),
        "{}",
        execs[0].query
    );
    assert!(execs[0].query.contains("capture"), "{}", execs[0].query);

    for _ in 0..2 {
        assert_eq!(ns.curl("/"), "200");
    }
    let mut exchanges = 0;
    events.source(Duration::from_secs(10), "two GET / 200", |e| {
        if is_get(e, "/") {
            exchanges += 1;
        }
        (exchanges >= 2).then_some(())
    });

    handle
        .control
        .as_ref()
        .expect("an exec stream takes control lines")
        .send(Control::PingAdd {
            target: "127.0.0.1".into(),
            interval_ms: Some(200),
            timeout_ms: None,
        })
        .unwrap();
    let mut replies = 0;
    events.source(Duration::from_secs(10), "two probe replies", |e| {
        if let SourceEvent::Probe(p) = e {
            assert_eq!(p.target, "127.0.0.1");
            if p.outcome == ProbeOutcome::Reply {
                replies += 1;
            }
        }
        (replies >= 2).then_some(())
    });
    assert_eq!(ns.agent_pids().len(), 1);

    let stopping = Instant::now();
    handle.stop();
    let (error, reason) = events.ended(Duration::from_secs(8));
    assert_eq!(error, None);
    assert_eq!(reason, None);
    assert!(stopping.elapsed() < Duration::from_secs(6));
    ns.wait_pids(
        Duration::from_secs(5),
        "the agent's exit",
        <[u32]>::is_empty,
    );
    assert!(
        !events
            .log
            .iter()
            .any(|e| matches!(e, ClusterEvent::Reconnecting { .. })),
        "{:#?}",
        events.log
    );
    drop(handle);
}

#[test]
fn cut_exec_stream_reconnects_and_the_cut_agent_exits() {
    if let Some(why) = missing_requirement() {
        skip(&why);
        return;
    }
    let runtime = runtime();
    let ns = Netns::new("clcut");
    // The cut session's agent must notice the missing heartbeats soon.
    let (fake, cluster, agent) = cluster_with_agent(&runtime, &ns, &["--heartbeat-timeout", "3"]);
    // The fake drops the connection but leaves the agent running, as when the
    // API server's link to podtap breaks while the kubelet's exec goes on. It
    // holds the agent's stdin open: EOF on stdin would end the agent at once,
    // and then this test could not tell whether the heartbeat timeout works.
    fake.state().cut_next_exec_after_keeping_process(4096);
    let (mut events, source_tx, cluster_tx) = channels();
    let options = StreamOptions {
        // The cut agent's last heartbeat is at most this old at the cut, so it
        // lives on for at least 3 s - 500 ms after it.
        heartbeat: Duration::from_millis(500),
        liveness: Duration::from_secs(3),
        first_backoff: Duration::from_millis(500),
        ..StreamOptions::default()
    };
    let handle = start_stream(
        runtime.handle(),
        cluster,
        agent.clone(),
        options,
        source_tx,
        cluster_tx,
    )
    .expect("start the stream");

    events.source(Duration::from_secs(30), "agent hello", |e| {
        matches!(e, SourceEvent::Agent(AgentMessage::Hello { .. })).then_some(())
    });
    let first = ns.wait_pids(Duration::from_secs(5), "the first agent", |p| p.len() == 1);

    // Traffic until the fake cuts the connection after 4096 bytes of stdout.
    let deadline = Instant::now() + Duration::from_secs(20);
    let orphan = loop {
        if let Some(orphan) = fake.state().orphaned_execs().pop() {
            break orphan;
        }
        assert!(Instant::now() < deadline, "no cut within 20 s");
        ns.curl("/");
        thread::sleep(Duration::from_millis(50));
    };
    // Right after the cut the first agent still runs: the cut did not end it.
    let alive = ns.agent_pids();
    assert!(
        orphan.cut_at.elapsed() < Duration::from_secs(2),
        "looked too late: {:?} after the cut",
        orphan.cut_at.elapsed()
    );
    assert!(
        alive.contains(&first[0]),
        "{first:?} gone at once: {alive:?}"
    );
    assert_eq!(orphan.pid, Some(first[0]));
    assert_eq!(orphan.exit_code, None, "{orphan:?}");

    let reason = events.cluster(
        Duration::from_secs(20),
        "Reconnecting",
        |e| match e {
            ClusterEvent::Reconnecting {
                attempt, reason, ..
            } => {
                assert_eq!(*attempt, 1);
                Some(reason.clone())
            }
            _ => None,
        },
        || {},
    );
    assert!(!reason.is_empty());
    events.cluster(
        Duration::from_secs(15),
        "Reconnected",
        |e| matches!(e, ClusterEvent::Reconnected { .. }).then_some(()),
        || {},
    );
    assert_eq!(
        fake.state()
            .requests_matching("GET", "/pods/web/exec")
            .len(),
        2
    );

    // The cut agent exits once its heartbeat timeout (3 s) has passed, and says why.
    let deadline = Instant::now() + Duration::from_secs(10);
    let orphan = loop {
        let orphan = fake.state().orphaned_execs().remove(0);
        if orphan.exited_at.is_some() {
            break orphan;
        }
        assert!(
            Instant::now() < deadline,
            "the cut agent still runs: {orphan:?}"
        );
        thread::sleep(Duration::from_millis(50));
    };
    let lived = orphan.exited_at.unwrap().duration_since(orphan.cut_at);
    // 3 s timeout - 500 ms heartbeat - 200 ms for the agent's 100 ms poll.
    assert!(
        lived >= Duration::from_millis(2300) && lived < Duration::from_secs(6),
        "the cut agent exited {lived:?} after the cut"
    );
    assert!(
        orphan.stderr.contains("capture ended: heartbeat timeout"),
        "{orphan:?}"
    );
    assert_eq!(orphan.exit_code, Some(0), "{orphan:?}");

    // The new session's agent runs on and decodes new traffic.
    let now = ns.wait_pids(Duration::from_secs(5), "the cut agent's exit", |p| {
        !p.contains(&first[0]) && p.len() == 1
    });
    assert_ne!(now, first);
    let mut asked: Option<Instant> = None;
    events.source(
        Duration::from_secs(15),
        "GET /index.html after the cut",
        |e| {
            if asked.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                assert_eq!(ns.curl("/index.html"), "200");
                asked = Some(Instant::now());
            }
            is_get(e, "/index.html").then_some(())
        },
    );
    assert_eq!(ns.agent_pids(), now);

    handle.stop();
    let (error, reason) = events.ended(Duration::from_secs(8));
    assert_eq!(error, None);
    assert_eq!(reason, None);
    ns.wait_pids(
        Duration::from_secs(5),
        "the agent's exit",
        <[u32]>::is_empty,
    );
    drop(handle);
}
