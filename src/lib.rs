//! podtap shows the network traffic of a Kubernetes pod in a terminal.
//!
//! Data flows one way through a few stages, each a module:
//!
//! ```text
//! source (file, stdin, agent stream, demo) --> wire::Reader (pcap / pcapng records)
//!   --> decode::Pipeline: link layer -> IP -> TCP/UDP/ICMP
//!         -> flow table -> TCP reassembly -> HTTP/1.x exchanges
//!         -> ICMP echo pairing (ping results)
//!   --> front end: headless (JSON lines or a table), or the TUI:
//!         source::* thread -> bounded channel -> app::App::update (sole owner of
//!         state, bounded stores) -> ui::render on a tick
//! ```
//!
//! `wire` and `decode` are pure: they take bytes and return values, never
//! touch a socket or a terminal, and build without tokio, kube or ratatui
//! (features `wire` and `decode`). Errors in captured data become counters,
//! never panics.

#[cfg(feature = "tui")]
pub mod app;
#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "cluster")]
pub mod cluster;
#[cfg(feature = "tui")]
pub mod config;
#[cfg(feature = "decode")]
pub mod decode;
#[cfg(feature = "tui")]
pub mod filter;
#[cfg(all(feature = "tui", feature = "cluster"))]
pub mod front;
#[cfg(feature = "cli")]
pub mod headless;
#[cfg(feature = "tui")]
pub mod keys;
#[cfg(feature = "tui")]
pub mod source;
#[cfg(feature = "tui")]
pub mod store;
#[cfg(feature = "synth")]
pub mod synth;
pub mod text;
#[cfg(feature = "tui")]
pub mod tui;
#[cfg(feature = "tui")]
pub mod ui;
pub mod wire;

#[cfg(feature = "cli")]
pub use cli::run;
