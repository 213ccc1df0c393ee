//! What the TUI keeps: HTTP exchanges (compact rows, bounded), flows, and
//! ping statistics per target. Every collection is bounded; evictions are
//! counted for the status bar.
//!
//! Owned by `App`; imports no terminal or I/O crate. `memory()` figures are
//! estimates of the heap held, including the allocator's rounding.

pub mod exchanges;
pub mod flows;
mod intern;
mod order;
mod paths;
pub mod pings;

#[cfg(test)]
pub(crate) mod tests;

pub use exchanges::{ExchangeRow, ExchangeStore, Sym};
pub use flows::{FlowSort, FlowStore, Keep};
pub use intern::{OTHER_TEXT, SYMBOL_LIMIT};
pub use paths::PathRef;
pub use pings::{MAX_TARGETS, PingBoard, PingSample, TargetStats};

/// Bytes a heap block of `len` bytes really takes: glibc malloc rounds a
/// request plus its 8-byte header up to 16 bytes, with a 32-byte minimum.
pub(crate) fn heap_bytes(len: usize) -> usize {
    if len == 0 {
        0
    } else {
        (len + 8).next_multiple_of(16).max(32)
    }
}
