//! Bidirectional TCP/UDP flow table.

/// A flow's number, unique within one pipeline run (in order of first packet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FlowId(pub u64);
