//! The socket calls the prober needs, as a small safe wrapper over `libc`.
//!
//! This is the only part of the prober that uses `unsafe`; everything above it
//! works with [`Socket`], [`SocketAddr`] and byte slices.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

/// A socket address in the C layout `sendto`/`connect` expect.
enum RawAddr {
    V4(libc::sockaddr_in),
    V6(libc::sockaddr_in6),
}

impl RawAddr {
    fn new(addr: &SocketAddr) -> RawAddr {
        match addr {
            SocketAddr::V4(a) => RawAddr::V4(libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            }),
            SocketAddr::V6(a) => RawAddr::V6(libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: 0,
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            }),
        }
    }

    fn as_ptr(&self) -> *const libc::sockaddr {
        match self {
            RawAddr::V4(a) => std::ptr::from_ref(a).cast(),
            RawAddr::V6(a) => std::ptr::from_ref(a).cast(),
        }
    }

    fn len(&self) -> libc::socklen_t {
        let size = match self {
            RawAddr::V4(_) => size_of::<libc::sockaddr_in>(),
            RawAddr::V6(_) => size_of::<libc::sockaddr_in6>(),
        };
        size as libc::socklen_t
    }
}

/// The address family matching `addr`.
pub(crate) fn family(addr: &SocketAddr) -> libc::c_int {
    if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    }
}

/// Turns a `-1` return into the thread's `errno`.
fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Same as [`check`] for calls returning a byte count.
fn check_len(ret: libc::ssize_t) -> io::Result<usize> {
    usize::try_from(ret).map_err(|_| io::Error::last_os_error())
}

/// A non-blocking, close-on-exec socket, closed on drop.
pub(crate) struct Socket(OwnedFd);

impl Socket {
    /// Opens `socket(domain, kind | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol)`.
    #[allow(unsafe_code)] // socket(2) has no safe wrapper in std for ICMP or raw sockets.
    pub(crate) fn new(
        domain: libc::c_int,
        kind: libc::c_int,
        protocol: libc::c_int,
    ) -> io::Result<Socket> {
        let flags = kind | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
        // SAFETY: plain system call with integer arguments.
        let fd = check(unsafe { libc::socket(domain, flags, protocol) })?;
        // SAFETY: `fd` was just returned by socket(2) and is owned by nobody else.
        Ok(Socket(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Sets an integer socket option.
    #[allow(unsafe_code)] // setsockopt(2) takes a raw pointer to the value.
    pub(crate) fn set_int_option(
        &self,
        level: libc::c_int,
        name: libc::c_int,
        value: libc::c_int,
    ) -> io::Result<()> {
        // SAFETY: the pointer and length describe `value`, which outlives the call.
        check(unsafe {
            libc::setsockopt(
                self.0.as_raw_fd(),
                level,
                name,
                std::ptr::from_ref(&value).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        })
        .map(drop)
    }

    /// Sends one datagram to `addr`.
    #[allow(unsafe_code)] // sendto(2) takes raw pointers.
    pub(crate) fn send_to(&self, data: &[u8], addr: &SocketAddr) -> io::Result<usize> {
        let raw = RawAddr::new(addr);
        // SAFETY: `data` and `raw` are valid for the lengths given and outlive the call.
        check_len(unsafe {
            libc::sendto(
                self.0.as_raw_fd(),
                data.as_ptr().cast(),
                data.len(),
                0,
                raw.as_ptr(),
                raw.len(),
            )
        })
    }

    /// Starts connecting to `addr`; `EINPROGRESS` comes back as an error.
    #[allow(unsafe_code)] // connect(2) takes a raw pointer.
    pub(crate) fn connect(&self, addr: &SocketAddr) -> io::Result<()> {
        let raw = RawAddr::new(addr);
        // SAFETY: `raw` is a valid socket address of the given length.
        check(unsafe { libc::connect(self.0.as_raw_fd(), raw.as_ptr(), raw.len()) }).map(drop)
    }

    /// Receives one datagram without blocking (`WouldBlock` when none is queued).
    #[allow(unsafe_code)] // recv(2) writes through a raw pointer.
    pub(crate) fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: `buf` is valid for writes of `buf.len()` bytes.
        check_len(unsafe {
            libc::recv(
                self.0.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
            )
        })
    }

    /// Reads one entry of the socket's error queue (`IP_RECVERR`): the offending
    /// datagram's bytes into `buf`, and the control messages, returned as bytes.
    #[allow(unsafe_code)] // recvmsg(2) takes a `msghdr` full of raw pointers.
    pub(crate) fn recv_error(&self, buf: &mut [u8]) -> io::Result<(usize, Vec<u8>)> {
        // u64 words keep the control buffer aligned for `cmsghdr`.
        let mut control = [0u64; 64];
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: `msghdr` is a plain C struct for which all-zero is a valid value.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &raw mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = size_of_val(&control) as _;
        // SAFETY: `msg` points at `iov` (describing `buf`) and `control`, all of
        // which live until the call returns.
        let len = check_len(unsafe {
            libc::recvmsg(
                self.0.as_raw_fd(),
                &raw mut msg,
                libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT,
            )
        })?;
        let control_len = (msg.msg_controllen as usize).min(size_of_val(&control));
        let bytes = control
            .iter()
            .flat_map(|word| word.to_ne_bytes())
            .take(control_len)
            .collect();
        Ok((len.min(buf.len()), bytes))
    }

    /// Waits up to `timeout` for `events`; returns the events that happened
    /// (0 on timeout or when interrupted by a signal).
    #[allow(unsafe_code)] // poll(2) takes a raw pointer.
    pub(crate) fn poll(
        &self,
        events: libc::c_short,
        timeout: Duration,
    ) -> io::Result<libc::c_short> {
        let mut pfd = libc::pollfd {
            fd: self.0.as_raw_fd(),
            events,
            revents: 0,
        };
        // Round up so a wait of 0.3 ms does not turn into a busy loop.
        let millis = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
        // SAFETY: `pfd` is one valid pollfd, as the count says.
        match check(unsafe { libc::poll(&raw mut pfd, 1, millis) }) {
            Ok(_) => Ok(pfd.revents),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// Reads and clears the pending socket error (`SO_ERROR`).
    #[allow(unsafe_code)] // getsockopt(2) writes through raw pointers.
    pub(crate) fn take_error(&self) -> io::Result<Option<io::Error>> {
        let mut value: libc::c_int = 0;
        let mut len = size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: the pointers describe `value` and `len`, which outlive the call.
        check(unsafe {
            libc::getsockopt(
                self.0.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_ERROR,
                (&raw mut value).cast(),
                &raw mut len,
            )
        })?;
        Ok((value != 0).then(|| io::Error::from_raw_os_error(value)))
    }
}
