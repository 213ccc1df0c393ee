//! `podtap-agent serve`: the ephemeral container's main process.
//!
//! It prints one readiness line and then only waits: everything it wrote to
//! stdout would end up in the node's container logs, so captured data never
//! goes there (sessions run through exec). It exits after `idle` with no
//! capture session, or on SIGTERM/SIGINT. Sessions announce themselves with
//! an abstract Unix socket named [`SESSION_PREFIX`]`<pid>`, which the kernel
//! removes when the process dies, so a crashed session leaves nothing behind
//! and no writable filesystem is needed (the image is `FROM scratch`).

use std::io::{self, Write};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// Name prefix of the abstract socket each capture session holds.
pub const SESSION_PREFIX: &str = "podtap-agent/session/";

/// Registers this process as a running capture session until the value is dropped.
pub fn announce_session() -> io::Result<UnixListener> {
    let name = format!("{SESSION_PREFIX}{}", std::process::id());
    UnixListener::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes())?)
}

/// Number of capture sessions running in this network namespace.
pub fn running_sessions() -> usize {
    std::fs::read_to_string("/proc/net/unix").map_or(0, |t| count_sessions(&t))
}

/// Counts session sockets in the text of `/proc/net/unix` (abstract names start with `@`).
pub fn count_sessions(proc_net_unix: &str) -> usize {
    let needle = format!("@{SESSION_PREFIX}");
    proc_net_unix
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .last()
                .is_some_and(|p| p.starts_with(&needle))
        })
        .count()
}

/// Runs `serve` until idle or signalled; `check` is how often sessions are looked for.
pub fn run(
    idle: Duration,
    check: Duration,
    stop: &Arc<AtomicBool>,
    out: &mut impl Write,
) -> io::Result<&'static str> {
    writeln!(out, "podtap-agent {} ready", env!("CARGO_PKG_VERSION"))?;
    out.flush()?;
    let mut last_active = Instant::now();
    let mut next_check = Instant::now();
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok("signal");
        }
        if Instant::now() >= next_check {
            if running_sessions() > 0 {
                last_active = Instant::now();
            } else if last_active.elapsed() >= idle {
                return Ok("idle");
            }
            next_check = Instant::now() + check;
        }
        thread::sleep(Duration::from_millis(50).min(check));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_session_sockets() {
        let text = "Num       RefCount Protocol Flags    Type St Inode Path\n\
            0000000000000000: 00000002 00000000 00010000 0001 01 1234 @podtap-agent/session/42\n\
            0000000000000000: 00000002 00000000 00010000 0001 01 1235 /run/other.sock\n\
            0000000000000000: 00000002 00000000 00010000 0001 01 1236 @podtap-agent/session/43\n";
        assert_eq!(count_sessions(text), 2);
    }

    #[test]
    fn an_announced_session_is_seen_and_forgotten() {
        let before = running_sessions();
        let guard = announce_session().unwrap();
        assert_eq!(running_sessions(), before + 1);
        drop(guard);
        assert_eq!(running_sessions(), before);
    }

    #[test]
    fn serve_prints_one_line_and_leaves_when_idle() {
        let stop = Arc::new(AtomicBool::new(false));
        let mut out = Vec::new();
        let why = run(
            Duration::from_millis(200),
            Duration::from_millis(20),
            &stop,
            &mut out,
        )
        .unwrap();
        assert_eq!(why, "idle");
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 1);
        assert!(text.starts_with("podtap-agent ") && text.ends_with(" ready\n"));
    }
}
