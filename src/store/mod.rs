//! What the TUI keeps: HTTP exchanges (compact rows, bounded), flows, and
//! ping statistics per target. Every collection is bounded; evictions are
//! counted for the status bar.

pub mod exchanges;
pub mod flows;
pub mod pings;

pub use exchanges::{ExchangeRow, ExchangeStore, Sym};
pub use flows::{FlowSort, FlowStore};
pub use pings::{PingBoard, PingSample, TargetStats};
