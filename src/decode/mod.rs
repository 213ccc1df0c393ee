//! The pure decode pipeline: packets in, flows, HTTP exchanges and ping results out.
//!
//! Stages, each a module: [`link`] and [`packet`] (link layer, IP, transport),
//! [`flow`] (bidirectional flow table, TCP state), [`reassembly`] (in-order
//! TCP byte streams), [`http`] (HTTP/1.x exchanges), [`icmp`] (echo pairing),
//! and [`pipeline`], which ties them together with bounded memory.
//!
//! Nothing here does I/O or reads a clock, and nothing may panic on any
//! input: problems in captured bytes become counters. Must not import tokio,
//! kube, ratatui or crossterm.

pub mod flow;
pub mod http;
pub mod icmp;
pub mod link;
pub mod packet;
pub mod pipeline;
pub mod reassembly;
pub mod stats;
mod tcp;

pub use pipeline::{Event, ExchangeEvent, Pipeline, PipelineConfig};
pub use stats::Stats;
