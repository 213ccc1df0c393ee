//! The filter language of the filter bar.
//!
//! Terms separated by spaces are ANDed; `!` negates a term:
//!
//! ```text
//! method:POST status:5xx status:>=400 path:/api host:cart ip:10.244.0.0/16
//! port:8080 latency:>200ms flow:rst  free-text  !status:2xx
//! ```
//!
//! Parsing never fails silently: an invalid term is an error with its
//! position and reason, shown in red while typing.

use crate::decode::flow::FlowInfo;
use crate::store::{ExchangeRow, ExchangeStore};
use crate::wire::agent::FilterSpec;

/// Why a filter did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// Byte offset of the bad term in the input.
    pub at: usize,
    /// What is wrong, one sentence.
    pub message: String,
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    text: String,
}

impl Filter {
    /// Parses the filter bar's text (empty text: match everything).
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        let _ = text;
        todo!("filter")
    }

    /// Whether it matches everything.
    pub fn is_empty(&self) -> bool {
        self.text.trim().is_empty()
    }

    /// Whether an exchange matches.
    pub fn matches_exchange(&self, row: &ExchangeRow, store: &ExchangeStore) -> bool {
        let _ = (row, store);
        todo!("filter")
    }

    /// Whether a flow matches (terms about HTTP only, such as `method:`, do not restrict flows).
    pub fn matches_flow(&self, flow: &FlowInfo) -> bool {
        let _ = flow;
        todo!("filter")
    }

    /// The part of the filter the agent can apply in the kernel (port, host, protocol), if any.
    pub fn capture_spec(&self) -> Option<FilterSpec> {
        todo!("filter")
    }
}
