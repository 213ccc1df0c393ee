use std::net::IpAddr;

use crate::decode::icmp::{PingOutcome, PingResult};
use crate::store::pings::HISTORY;
use crate::store::{MAX_TARGETS, PingBoard, PingSample};
use crate::wire::Nanos;
use crate::wire::agent::{ProbeKind, ProbeOutcome, ProbeResult};

fn sample(target: &str, outcome: &'static str, rtt_ms: Option<u64>) -> PingSample {
    PingSample {
        target: target.into(),
        kind: "icmp",
        sent: Nanos(0),
        rtt: rtt_ms.map(|m| Nanos(m * 1_000_000)),
        outcome,
    }
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn from_ping_result() {
    let ip: IpAddr = "10.96.0.10".parse().unwrap();
    let base = PingResult {
        source: "10.244.0.5".parse().unwrap(),
        target: ip,
        id: 1,
        seq: 2,
        sent: Nanos(42),
        outcome: PingOutcome::Lost,
    };
    let cases = [
        (
            PingOutcome::Reply { rtt: Nanos(5) },
            "reply",
            Some(Nanos(5)),
        ),
        (
            PingOutcome::Duplicate { rtt: Nanos(6) },
            "duplicate",
            Some(Nanos(6)),
        ),
        (PingOutcome::Lost, "lost", None),
    ];
    for (outcome, name, rtt) in cases {
        let s = PingSample::from(&PingResult { outcome, ..base });
        assert_eq!(
            s,
            PingSample {
                target: "10.96.0.10".into(),
                kind: "icmp",
                sent: Nanos(42),
                rtt,
                outcome: name
            }
        );
    }
}

#[test]
fn from_probe_result() {
    let cases = [
        (ProbeKind::Tcp, ProbeOutcome::Reply, Some(9), "tcp", "reply"),
        (
            ProbeKind::Tcp,
            ProbeOutcome::Refused,
            None,
            "tcp",
            "refused",
        ),
        (
            ProbeKind::Icmp,
            ProbeOutcome::Timeout,
            None,
            "icmp",
            "timeout",
        ),
        (
            ProbeKind::Icmp,
            ProbeOutcome::Unreachable,
            None,
            "icmp",
            "unreachable",
        ),
        (ProbeKind::Tcp, ProbeOutcome::Error, None, "tcp", "error"),
    ];
    for (kind, outcome, rtt_ns, k, o) in cases {
        let p = ProbeResult {
            target: "db:5432".into(),
            kind,
            addr: None,
            seq: 3,
            sent_ns: 77,
            outcome,
            rtt_ns,
            detail: None,
        };
        let s = PingSample::from(&p);
        assert_eq!(
            s,
            PingSample {
                target: "db:5432".into(),
                kind: k,
                sent: Nanos(77),
                rtt: rtt_ns.map(Nanos),
                outcome: o
            }
        );
    }
}

#[test]
fn statistics_on_known_sequences() {
    struct Case {
        samples: &'static [(&'static str, Option<u64>)],
        sent: u64,
        received: u64,
        min: f64,
        max: f64,
        avg: f64,
        jitter: Option<f64>,
        p95: f64,
        problem: Option<&'static str>,
    }
    let cases = [
        // 10, 20, lost, 15, dup: avg 15; jitter (|20-10| + |15-20|) / 2 = 7.5; p95 rank ceil(2.85)=3 of [10,15,20].
        Case {
            samples: &[
                ("reply", Some(10)),
                ("reply", Some(20)),
                ("lost", None),
                ("reply", Some(15)),
                ("duplicate", Some(30)),
            ],
            sent: 4,
            received: 3,
            min: 10.0,
            max: 20.0,
            avg: 15.0,
            jitter: Some(7.5),
            p95: 20.0,
            problem: Some("lost"),
        },
        Case {
            samples: &[("timeout", None), ("reply", Some(4))],
            sent: 2,
            received: 1,
            min: 4.0,
            max: 4.0,
            avg: 4.0,
            jitter: None,
            p95: 4.0,
            problem: Some("timeout"),
        },
        // 1, 3, 2, 8: jitter (2 + 1 + 6) / 3 = 3.
        Case {
            samples: &[
                ("reply", Some(1)),
                ("reply", Some(3)),
                ("reply", Some(2)),
                ("reply", Some(8)),
            ],
            sent: 4,
            received: 4,
            min: 1.0,
            max: 8.0,
            avg: 3.5,
            jitter: Some(3.0),
            p95: 8.0,
            problem: None,
        },
    ];
    for (i, c) in cases.iter().enumerate() {
        let mut b = PingBoard::default();
        for &(o, rtt) in c.samples {
            b.add(&sample("t", o, rtt));
        }
        let t = &b.targets[0];
        assert_eq!((t.sent, t.received), (c.sent, c.received), "case {i}");
        assert!(
            close(t.min_ms, c.min) && close(t.max_ms, c.max) && close(t.avg_ms, c.avg),
            "case {i}: {t:?}"
        );
        assert_eq!(t.jitter_ms.is_some(), c.jitter.is_some(), "case {i}");
        if let Some(j) = c.jitter {
            assert!(close(t.jitter_ms, j), "case {i}: {:?}", t.jitter_ms);
        }
        assert!(close(t.p95_ms, c.p95), "case {i}: {:?}", t.p95_ms);
        assert_eq!(t.last_problem, c.problem, "case {i}");
        assert_eq!(t.history.len() as u64, c.sent, "case {i}");
    }
}

#[test]
fn p95_uses_the_last_hundred() {
    let mut b = PingBoard::default();
    // 1..=200 ms: the window holds 101..=200; rank 95 of it is 195.
    for ms in 1..=200 {
        b.add(&sample("t", "reply", Some(ms)));
    }
    let t = &b.targets[0];
    assert!(close(t.p95_ms, 195.0), "{:?}", t.p95_ms);
    assert!(close(t.min_ms, 1.0) && close(t.avg_ms, 100.5));
    assert!(close(t.jitter_ms, 1.0));
    assert!(close(t.last_ms, 200.0));
    assert_eq!(t.history.len(), HISTORY);
    assert_eq!(t.history.front(), Some(&Some(81.0)));
    assert!((t.loss_pct()).abs() < 1e-9);
}

#[test]
fn loss_and_history_marks_losses() {
    let mut b = PingBoard::default();
    for i in 0..4 {
        let s = if i % 2 == 0 {
            sample("t", "reply", Some(1))
        } else {
            sample("t", "lost", None)
        };
        b.add(&s);
    }
    let t = &b.targets[0];
    assert!((t.loss_pct() - 50.0).abs() < 1e-9);
    assert_eq!(
        t.history.iter().copied().collect::<Vec<_>>(),
        [Some(1.0), None, Some(1.0), None]
    );
    // A duplicate alone creates no target and counts nothing.
    b.add(&sample("u", "duplicate", Some(3)));
    assert_eq!(b.targets.len(), 1);
}

#[test]
fn targets_in_order_and_bounded() {
    let mut b = PingBoard::default();
    b.add(&sample("b", "reply", Some(1)));
    b.add(&sample("a", "reply", Some(1)));
    b.add(&PingSample {
        kind: "tcp",
        ..sample("b", "reply", Some(1))
    });
    b.add(&sample("b", "reply", Some(1)));
    let names: Vec<(&str, &str)> = b
        .targets
        .iter()
        .map(|t| (t.target.as_str(), t.kind))
        .collect();
    assert_eq!(names, [("b", "icmp"), ("a", "icmp"), ("b", "tcp")]);
    assert_eq!(b.targets[0].sent, 2);
    for i in 0..MAX_TARGETS + 5 {
        b.add(&sample(&format!("x{i}"), "reply", Some(1)));
    }
    assert_eq!(b.targets.len(), MAX_TARGETS);
    assert_eq!(b.ignored, 8);
    b.remove("b");
    assert_eq!(b.targets.len(), MAX_TARGETS - 2);
}
