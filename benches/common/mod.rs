//! What the TUI benchmarks share: an app sized like the targets, a
//! repeatable random sequence, and the CPU time of the calling thread.

#![allow(dead_code, reason = "each bench uses its own part of this module")]

use std::time::Duration;

use podtap::app::App;
use podtap::config::{Caps, Config};

/// An app keeping `exchanges` exchanges (5,000 with details) and `flows` ended flows.
pub fn app(exchanges: usize, flows: usize) -> App {
    let caps = Caps {
        exchanges,
        details: 5_000,
        flows,
        body_preview: 1024,
    };
    App::new(
        "bench",
        &Config {
            caps,
            ..Config::default()
        },
    )
}

/// A small xorshift: the same sequence every run.
pub struct Rng(pub u64);

impl Rng {
    /// The next number.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// The next number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// CPU time this thread has used: unlike the wall clock, it does not count
/// the time other threads and processes had the core, so it shows the
/// work itself on a loaded machine.
#[allow(unsafe_code, reason = "clock_gettime(2) has no safe wrapper in std")]
pub fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call's duration.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}
