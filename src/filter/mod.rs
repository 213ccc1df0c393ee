//! The filter language of the filter bar.
//!
//! Terms separated by spaces are ANDed; `!` negates a term:
//!
//! ```text
//! method:POST status:5xx status:>=400 path:/api host:cart ip:10.244.0.0/16
//! port:8080 latency:>200ms flow:rst  free-text  !status:2xx
//! ```
//!
//! | term | exchanges | flows |
//! |------|-----------|-------|
//! | `method:POST` | method, any case | no restriction |
//! | `status:200` `5xx` `>=400` `<300` `none` | final status (a comparison never matches without a response) | no restriction |
//! | `path:/api`, `path:^/api` | substring, prefix (case-sensitive) | no restriction |
//! | `host:cart` | Host substring, any case | no restriction |
//! | `ip:10.0.0.1`, `ip:10.244.0.0/16` | client or server | client or server |
//! | `port:8080` | client or server | client or server |
//! | `latency:>200ms` (`us`, `ms`, `s`) | server latency (none never matches) | no restriction |
//! | `flow:rst` `fin` `open` `midstream` `retrans` | no restriction (a row only knows its flow id) | reset / closing or closed / established / mid-stream / retransmissions |
//! | free text | substring, any case, of method, host, path or status code | no restriction |
//!
//! "No restriction" holds for the negated term too: `!method:GET` lists every flow.
//!
//! Parsing never fails silently: an invalid term is an error with its
//! position and reason, shown in red while typing. Matching allocates
//! nothing: needles are lower-cased once at parse time and interned strings
//! come lower-cased from the store.

mod matcher;
mod parse;
#[cfg(test)]
mod proptests;
mod term;
#[cfg(test)]
mod tests;

use std::fmt;

use crate::decode::flow::FlowInfo;
use crate::store::{ExchangeRow, ExchangeStore};
use crate::wire::agent::{FilterProto, FilterRule, FilterSpec};
pub use matcher::ExchangeMatcher;
use term::{Term, Test};

/// Why a filter did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// Byte offset in the input of what is wrong: the key, the value, the opening quote, or the term.
    pub at: usize,
    /// What is wrong, one sentence.
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at {})", self.message, self.at)
    }
}

impl std::error::Error for FilterError {}

/// A parsed filter; its `Display` is the canonical text, which parses back to an equal filter.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    terms: Vec<Term>,
}

impl Filter {
    /// Parses the filter bar's text (empty text: match everything).
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        Ok(Filter {
            terms: parse::parse(text)?,
        })
    }

    /// Whether it matches everything.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Whether an exchange matches.
    pub fn matches_exchange(&self, row: &ExchangeRow, store: &ExchangeStore) -> bool {
        self.terms.iter().all(|t| t.matches_exchange(row, store))
    }

    /// This filter prepared for a pass over many rows of `store` (the exchange list, a count).
    pub fn for_store<'a>(&'a self, store: &'a ExchangeStore) -> ExchangeMatcher<'a> {
        ExchangeMatcher::new(self, store)
    }

    /// The terms that can hide a flow, as text: two filters with the same
    /// flow part list the same flows.
    pub fn flow_part(&self) -> String {
        let terms: Vec<String> = self
            .terms
            .iter()
            .filter(|t| t.is_about_flows())
            .map(ToString::to_string)
            .collect();
        terms.join(" ")
    }

    /// Whether a flow matches (terms about HTTP only, such as `method:`, do not restrict flows).
    pub fn matches_flow(&self, flow: &FlowInfo) -> bool {
        self.terms.iter().all(|t| t.matches_flow(flow))
    }

    /// The part of the filter the agent can apply in the kernel (port, host, protocol), if any.
    ///
    /// Never narrower than the UI filter: terms are ANDed, so any one of them
    /// is a superset of what the UI shows. The first `ip:` and the first
    /// `port:` become one include rule (an exchange or flow has both on each
    /// of its packets); `!port:` terms become exclude rules. Everything else
    /// (free text, HTTP terms, `!ip:`, further `ip:`/`port:` terms) is left to
    /// the UI. When there is an include rule, a second one keeps ICMP: the
    /// ping pane is not filtered, so its echo pairs must still be captured.
    pub fn capture_spec(&self) -> Option<FilterSpec> {
        let mut rule = FilterRule::default();
        let mut spec = FilterSpec::default();
        for t in &self.terms {
            match (&t.test, t.negated) {
                (Test::Ip(net), false) if rule.host.is_none() => rule.host = Some(net.to_string()),
                (Test::Port(p), false) if rule.port.is_none() => rule.port = Some(*p),
                (Test::Port(p), true) => {
                    let r = FilterRule {
                        port: Some(*p),
                        ..FilterRule::default()
                    };
                    if !spec.exclude.contains(&r) {
                        spec.exclude.push(r);
                    }
                }
                _ => {}
            }
        }
        if rule != FilterRule::default() {
            spec.include.push(rule);
            spec.include.push(FilterRule {
                proto: Some(FilterProto::Icmp),
                ..FilterRule::default()
            });
        }
        (spec != FilterSpec::default()).then_some(spec)
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{t}")?;
        }
        Ok(())
    }
}
