//! podtap-agent runs inside the user's pod (as an ephemeral container) and
//! streams what it captures there as pcapng on stdout.
//!
//! ```text
//! capture: AF_PACKET (every interface) --> capture thread --> bounded queue --> writer thread --> stdout
//!          ping prober threads -------------------------------/        ^
//!          stdin control lines --> control thread --> supervisor ------/ (filter, pause, pings, stop)
//! serve:   prints one readiness line, then waits until no capture ran for the idle timeout
//! ```
//!
//! Only `capture` (the AF_PACKET socket and its ring) and `prober::sys` (ICMP
//! and TCP sockets) use `unsafe`.

pub mod bpf;
pub mod caps;
pub mod capture;
pub mod cli;
pub mod prober;
pub mod serve;
pub mod session;

pub use cli::run;
