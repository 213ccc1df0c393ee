//! Ping statistics per target: from echo pairs seen in the traffic and from
//! the agent's probes (ICMP and TCP connect).
//!
//! Statistics, per target and probe kind:
//! - `sent` counts every probe but duplicates; `received` counts replies.
//! - min, max and mean over every reply's RTT since the target appeared.
//! - jitter: the plain mean of |RTT(i) - RTT(i-1)| over consecutive replies
//!   (losses in between are skipped). RFC 3550 smooths the same difference
//!   with a 1/16 gain; a plain mean is easier to check and to explain.
//! - p95: nearest rank (the ceil(0.95 n)-th smallest) over the last
//!   [`P95_WINDOW`] RTTs.
//! - history: the last [`HISTORY`] probes, `None` for a loss.

use std::collections::VecDeque;

use crate::decode::icmp::{PingOutcome, PingResult};
use crate::wire::Nanos;
use crate::wire::agent::{ProbeKind, ProbeOutcome, ProbeResult};

/// Targets tracked at most; samples for further targets are counted and dropped.
pub const MAX_TARGETS: usize = 64;
/// Samples kept for the chart.
pub const HISTORY: usize = 120;
/// RTTs the 95th percentile is computed over.
pub const P95_WINDOW: usize = 100;

/// One probe, whatever its origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PingSample {
    /// Target as shown (`10.96.0.10`, `db:5432`).
    pub target: String,
    /// `icmp` or `tcp`.
    pub kind: &'static str,
    /// When it was sent.
    pub sent: Nanos,
    /// Round-trip time; `None` when lost.
    pub rtt: Option<Nanos>,
    /// `reply`, `timeout`, `refused`, `unreachable`, `error`, `duplicate`, `lost`.
    pub outcome: &'static str,
}

impl From<&PingResult> for PingSample {
    fn from(p: &PingResult) -> Self {
        let outcome = match p.outcome {
            PingOutcome::Reply { .. } => "reply",
            PingOutcome::Duplicate { .. } => "duplicate",
            PingOutcome::Lost => "lost",
        };
        PingSample {
            target: p.target.to_string(),
            kind: "icmp",
            sent: p.sent,
            rtt: p.rtt(),
            outcome,
        }
    }
}

impl From<&ProbeResult> for PingSample {
    fn from(p: &ProbeResult) -> Self {
        PingSample {
            target: p.target.clone(),
            kind: match p.kind {
                ProbeKind::Icmp => "icmp",
                ProbeKind::Tcp => "tcp",
            },
            sent: Nanos(p.sent_ns),
            rtt: p.rtt_ns.map(Nanos),
            outcome: match p.outcome {
                ProbeOutcome::Reply => "reply",
                ProbeOutcome::Timeout => "timeout",
                ProbeOutcome::Refused => "refused",
                ProbeOutcome::Unreachable => "unreachable",
                ProbeOutcome::Error => "error",
            },
        }
    }
}

/// Statistics of one target.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TargetStats {
    /// Target.
    pub target: String,
    /// `icmp` or `tcp`.
    pub kind: &'static str,
    /// Probes sent.
    pub sent: u64,
    /// Replies received (duplicates not counted).
    pub received: u64,
    /// Last RTT in ms.
    pub last_ms: Option<f64>,
    /// Minimum RTT in ms.
    pub min_ms: Option<f64>,
    /// Maximum RTT in ms.
    pub max_ms: Option<f64>,
    /// Mean RTT in ms.
    pub avg_ms: Option<f64>,
    /// Mean absolute difference of consecutive RTTs, in ms.
    pub jitter_ms: Option<f64>,
    /// 95th percentile of the recent RTTs, in ms.
    pub p95_ms: Option<f64>,
    /// The last samples' RTT in ms (`None`: lost), oldest first, for the chart.
    pub history: VecDeque<Option<f64>>,
    /// Last outcome that was not a reply (`refused`, `timeout`, ...).
    pub last_problem: Option<&'static str>,
    /// The last RTTs in ms, for the percentile.
    recent: VecDeque<f64>,
    rtt_sum: f64,
    jitter_sum: f64,
    jitter_n: u64,
}

impl TargetStats {
    /// Loss in percent of probes sent.
    pub fn loss_pct(&self) -> f64 {
        if self.sent == 0 {
            0.0
        } else {
            100.0 * (self.sent - self.received.min(self.sent)) as f64 / self.sent as f64
        }
    }

    fn add(&mut self, sample: &PingSample) {
        if sample.outcome == "duplicate" {
            return;
        }
        self.sent += 1;
        let rtt = match (sample.outcome, sample.rtt) {
            ("reply", Some(rtt)) => rtt.as_millis_f64(),
            (outcome, _) => {
                self.last_problem = Some(outcome);
                push_bounded(&mut self.history, None, HISTORY);
                return;
            }
        };
        self.received += 1;
        push_bounded(&mut self.history, Some(rtt), HISTORY);
        if let Some(prev) = self.last_ms {
            self.jitter_sum += (rtt - prev).abs();
            self.jitter_n += 1;
            self.jitter_ms = Some(self.jitter_sum / self.jitter_n as f64);
        }
        self.last_ms = Some(rtt);
        self.min_ms = Some(self.min_ms.map_or(rtt, |m| m.min(rtt)));
        self.max_ms = Some(self.max_ms.map_or(rtt, |m| m.max(rtt)));
        self.rtt_sum += rtt;
        self.avg_ms = Some(self.rtt_sum / self.received as f64);
        push_bounded(&mut self.recent, rtt, P95_WINDOW);
        let mut sorted: Vec<f64> = self.recent.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        let rank = (sorted.len() * 95).div_ceil(100);
        self.p95_ms = sorted.get(rank.saturating_sub(1)).copied();
    }
}

fn push_bounded<T>(q: &mut VecDeque<T>, v: T, cap: usize) {
    if q.len() == cap {
        q.pop_front();
    }
    q.push_back(v);
}

/// Every target's statistics, in order of first appearance.
#[derive(Debug, Default)]
pub struct PingBoard {
    /// Targets.
    pub targets: Vec<TargetStats>,
    /// Samples dropped because [`MAX_TARGETS`] targets were already tracked.
    pub ignored: u64,
}

impl PingBoard {
    /// Adds one sample.
    pub fn add(&mut self, sample: &PingSample) {
        if sample.outcome == "duplicate" {
            return;
        }
        let found = self
            .targets
            .iter()
            .position(|t| t.target == sample.target && t.kind == sample.kind);
        let i = match found {
            Some(i) => i,
            None if self.targets.len() >= MAX_TARGETS => {
                self.ignored += 1;
                return;
            }
            None => {
                self.targets.push(TargetStats {
                    target: sample.target.clone(),
                    kind: sample.kind,
                    ..TargetStats::default()
                });
                self.targets.len() - 1
            }
        };
        self.targets[i].add(sample);
    }

    /// Forgets a target.
    pub fn remove(&mut self, target: &str) {
        self.targets.retain(|t| t.target != target);
    }
}
