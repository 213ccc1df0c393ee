//! Ping prober: ICMP echo and TCP connect probes from inside the pod.

use std::sync::mpsc::Sender;
use std::time::Duration;

use podtap::wire::agent::ProbeResult;

/// Runs one probing thread per target; results go to the channel given at creation.
pub struct Prober {
    results: Sender<ProbeResult>,
}

impl Prober {
    /// A prober sending results to `results`.
    pub fn new(results: Sender<ProbeResult>) -> Self {
        Prober { results }
    }

    /// Starts probing `target` (`10.0.0.1`, `name`, `host:port`, `[v6]:port`).
    pub fn add(&mut self, target: &str, interval: Duration, timeout: Duration) -> Result<(), String> {
        let _ = (target, interval, timeout, &self.results);
        todo!("prober")
    }

    /// Stops probing `target`.
    pub fn remove(&mut self, target: &str) -> Result<(), String> {
        let _ = target;
        todo!("prober")
    }

    /// Stops every probe and waits for the threads.
    pub fn stop_all(&mut self) {
        todo!("prober")
    }
}
