//! Flows: the live ones (from the pipeline's snapshots) and a ring of ended ones.

use crate::decode::flow::{EndReason, FlowId, FlowInfo};

/// How the flows pane sorts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FlowSort {
    /// Most bytes first.
    #[default]
    Bytes,
    /// Highest recent byte rate first.
    Rate,
    /// Most retransmissions first.
    Retransmissions,
    /// Oldest first.
    Age,
}

/// Live and recently ended flows.
#[derive(Debug)]
pub struct FlowStore {
    capacity: usize,
}

impl FlowStore {
    /// A store keeping at most `capacity` ended flows.
    pub fn new(capacity: usize) -> Self {
        FlowStore { capacity }
    }

    /// Replaces the live flows with a fresh snapshot taken at `now` (rates come from the previous one).
    pub fn snapshot(&mut self, flows: Vec<FlowInfo>, now: crate::wire::Nanos) {
        let _ = (flows, now, self.capacity);
        todo!("flows")
    }

    /// A flow left the pipeline.
    pub fn ended(&mut self, flow: FlowInfo, reason: EndReason) {
        let _ = (flow, reason);
        todo!("flows")
    }

    /// A flow by id, live or ended.
    pub fn get(&self, id: FlowId) -> Option<&FlowInfo> {
        let _ = id;
        todo!("flows")
    }

    /// Flows to list, sorted; live ones first, then ended ones.
    pub fn sorted(&self, sort: FlowSort) -> Vec<&FlowInfo> {
        let _ = sort;
        todo!("flows")
    }

    /// Bytes per second of a flow over the last two snapshots.
    pub fn rate(&self, id: FlowId) -> f64 {
        let _ = id;
        0.0
    }

    /// Why an ended flow ended (`None` while live).
    pub fn end_reason(&self, id: FlowId) -> Option<EndReason> {
        let _ = id;
        None
    }

    /// Ended flows evicted to stay under the capacity.
    pub fn evicted(&self) -> u64 {
        0
    }

    /// Forgets everything.
    pub fn clear(&mut self) {}

    /// Bytes held.
    pub fn memory(&self) -> usize {
        0
    }
}
