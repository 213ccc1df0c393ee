//! TCP connect probes: a non-blocking connect, timed until it completes, then
//! closed right away.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::sys::{Socket, family};
use super::{Measured, SLICE, Stop};

/// Connects to `addr` within `timeout`; `None` when `stop` was set meanwhile.
pub(crate) fn probe(addr: SocketAddr, timeout: Duration, stop: &Stop) -> Option<Measured> {
    let socket = match Socket::new(family(&addr), libc::SOCK_STREAM, 0) {
        Ok(socket) => socket,
        Err(e) => return Some(Measured::error(format!("cannot open a TCP socket: {e}"))),
    };
    let start = Instant::now();
    match socket.connect(&addr) {
        Ok(()) => return Some(Measured::reply(start.elapsed())),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Some(failed(&e, start.elapsed())),
    }
    let deadline = start + timeout;
    loop {
        if stop.is_set() {
            return None;
        }
        let now = Instant::now();
        if now >= deadline {
            return Some(Measured::timeout());
        }
        let events = match socket.poll(libc::POLLOUT, (deadline - now).min(SLICE)) {
            Ok(events) => events,
            Err(e) => {
                return Some(Measured::error(format!(
                    "cannot wait for the connection: {e}"
                )));
            }
        };
        // POLLOUT, POLLERR or POLLHUP: the connect finished one way or the other.
        if events != 0 {
            let elapsed = start.elapsed();
            return Some(match socket.take_error() {
                Ok(None) => Measured::reply(elapsed),
                Ok(Some(e)) => failed(&e, elapsed),
                Err(e) => Measured::error(format!("cannot read the connect result: {e}")),
            });
        }
    }
}

/// The outcome of a failed connect.
fn failed(e: &io::Error, elapsed: Duration) -> Measured {
    match e.raw_os_error() {
        Some(libc::ECONNREFUSED) => Measured::refused(elapsed),
        Some(libc::EHOSTUNREACH | libc::ENETUNREACH) => Measured::unreachable(e.to_string()),
        Some(libc::ETIMEDOUT) => Measured::timeout(),
        _ => Measured::error(format!("connect failed: {e}")),
    }
}
