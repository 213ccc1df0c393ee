//! ICMP echo probes: a ping socket, or a raw socket when ping sockets are
//! refused, and waiting for the answer to one request.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use super::packet::{Echo, Verdict};
use super::sys::Socket;
use super::{IcmpMode, Measured, SLICE, Stop};

/// An open ICMP socket for one address family.
struct EchoSocket {
    socket: Socket,
    v6: bool,
    /// Raw sockets see all ICMP traffic (and, for IPv4, the IP header); ping
    /// sockets only the answers to their own identifier.
    raw: bool,
}

/// Sends echo requests for one target and waits for the matching answers.
pub(crate) struct IcmpProber {
    mode: IcmpMode,
    /// Identifier for raw sockets (ping sockets get theirs from the kernel).
    id: u16,
    cookie: u64,
    socket: Option<EchoSocket>,
}

impl IcmpProber {
    /// A prober whose identifier and cookie come from `seed` (random per target).
    pub(crate) fn new(mode: IcmpMode, seed: u64) -> IcmpProber {
        IcmpProber {
            mode,
            id: (seed >> 48) as u16,
            cookie: seed,
            socket: None,
        }
    }

    /// Sends echo request `seq` to `addr` and waits up to `timeout` for the
    /// answer; `None` when `stop` was set meanwhile.
    pub(crate) fn probe(
        &mut self,
        addr: IpAddr,
        seq: u64,
        sent_ns: u64,
        timeout: Duration,
        stop: &Stop,
    ) -> Option<Measured> {
        let v6 = addr.is_ipv6();
        let socket = match self.socket.take().filter(|s| s.v6 == v6) {
            Some(socket) => socket,
            None => match open(v6, self.mode) {
                Ok(socket) => socket,
                Err(detail) => return Some(Measured::error(detail)),
            },
        };
        let echo = Echo {
            v6,
            id: socket.raw.then_some(self.id),
            seq: seq as u16,
            cookie: self.cookie,
            sent_ns,
        };
        let measured = exchange(&socket, &echo, addr, timeout, stop);
        // Keep the socket unless it failed; the next probe opens a fresh one.
        if !matches!(&measured, Some(m) if m.outcome == super::ProbeOutcome::Error) {
            self.socket = Some(socket);
        }
        measured
    }
}

/// Opens the socket `mode` asks for: ping socket first, raw socket when the
/// ping socket is refused (`net.ipv4.ping_group_range` excludes our group).
fn open(v6: bool, mode: IcmpMode) -> Result<EchoSocket, String> {
    let (domain, protocol) = if v6 {
        (libc::AF_INET6, libc::IPPROTO_ICMPV6)
    } else {
        (libc::AF_INET, libc::IPPROTO_ICMP)
    };
    let mut refused = None;
    if mode != IcmpMode::RawOnly {
        match Socket::new(domain, libc::SOCK_DGRAM, protocol) {
            Ok(socket) => {
                // ICMP errors about our requests arrive on the error queue.
                let (level, name) = if v6 {
                    (libc::SOL_IPV6, libc::IPV6_RECVERR)
                } else {
                    (libc::SOL_IP, libc::IP_RECVERR)
                };
                socket
                    .set_int_option(level, name, 1)
                    .map_err(|e| format!("cannot enable ICMP error reports: {e}"))?;
                return Ok(EchoSocket {
                    socket,
                    v6,
                    raw: false,
                });
            }
            Err(e)
                if mode == IcmpMode::Auto
                    && matches!(e.raw_os_error(), Some(libc::EACCES | libc::EPERM)) =>
            {
                refused = Some(e);
            }
            Err(e) => {
                return Err(format!(
                    "cannot open a ping socket: {e} (net.ipv4.ping_group_range must include the agent's group)"
                ));
            }
        }
    }
    match Socket::new(domain, libc::SOCK_RAW, protocol) {
        Ok(socket) => Ok(EchoSocket {
            socket,
            v6,
            raw: true,
        }),
        Err(e) => Err(match refused {
            Some(ping) => format!(
                "cannot open an ICMP socket: ping socket refused ({ping}; see net.ipv4.ping_group_range), raw socket refused ({e}; needs CAP_NET_RAW)"
            ),
            None => format!("cannot open a raw ICMP socket: {e} (needs CAP_NET_RAW)"),
        }),
    }
}

/// Sends `echo` and reads until its answer, the timeout, or `stop`.
fn exchange(
    socket: &EchoSocket,
    echo: &Echo,
    addr: IpAddr,
    timeout: Duration,
    stop: &Stop,
) -> Option<Measured> {
    let start = Instant::now();
    if let Err(e) = socket
        .socket
        .send_to(&echo.request(), &SocketAddr::new(addr, 0))
    {
        return Some(match e.raw_os_error() {
            Some(libc::EHOSTUNREACH | libc::ENETUNREACH) => Measured::unreachable(e.to_string()),
            _ => Measured::error(format!("cannot send the echo request: {e}")),
        });
    }
    let deadline = start + timeout;
    let mut buf = [0u8; 2048];
    loop {
        if stop.is_set() {
            return None;
        }
        let now = Instant::now();
        if now >= deadline {
            return Some(Measured::timeout());
        }
        let events = match socket
            .socket
            .poll(libc::POLLIN, (deadline - now).min(SLICE))
        {
            Ok(events) => events,
            Err(e) => return Some(Measured::error(format!("cannot wait for the reply: {e}"))),
        };
        if events & libc::POLLERR != 0 {
            // Clear the pending error too, or poll would keep reporting it.
            let _ = socket.socket.take_error();
            while let Ok((len, control)) = socket.socket.recv_error(&mut buf) {
                let verdict = echo.classify_queued(&buf[..len], &control);
                if verdict != Verdict::Unrelated {
                    return Some(measured(verdict, start.elapsed()));
                }
            }
        }
        if events & libc::POLLIN != 0 {
            loop {
                match socket.socket.recv(&mut buf) {
                    Ok(len) => {
                        let verdict = echo.classify(&buf[..len], socket.raw && !socket.v6);
                        if verdict != Verdict::Unrelated {
                            return Some(measured(verdict, start.elapsed()));
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    // A pending ICMP error; its details come from the error queue.
                    Err(_) => break,
                }
            }
        }
    }
}

fn measured(verdict: Verdict, rtt: Duration) -> Measured {
    match verdict {
        Verdict::Reply => Measured::reply(rtt),
        Verdict::Unreachable(detail) => Measured::unreachable(detail),
        Verdict::Failed(detail) => Measured::error(detail),
        // Callers wait on for more packets instead; kept total for safety.
        Verdict::Unrelated => Measured::timeout(),
    }
}
