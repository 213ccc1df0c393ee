//! Ping statistics per target: from echo pairs seen in the traffic and from
//! the agent's probes (ICMP and TCP connect).

use std::collections::VecDeque;

use crate::decode::icmp::PingResult;
use crate::wire::Nanos;
use crate::wire::agent::ProbeResult;

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
        let _ = p;
        todo!("pings")
    }
}

impl From<&ProbeResult> for PingSample {
    fn from(p: &ProbeResult) -> Self {
        let _ = p;
        todo!("pings")
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
}

/// Every target's statistics, in order of first appearance.
#[derive(Debug, Default)]
pub struct PingBoard {
    /// Targets.
    pub targets: Vec<TargetStats>,
}

impl PingBoard {
    /// Adds one sample.
    pub fn add(&mut self, sample: &PingSample) {
        let _ = sample;
        todo!("pings")
    }

    /// Forgets a target.
    pub fn remove(&mut self, target: &str) {
        self.targets.retain(|t| t.target != target);
    }
}
