//! Thin safe wrappers over the socket system calls the capture needs.
//!
//! Each wrapper owns its `unsafe`, checks the return value and turns `errno`
//! into an `io::Error`; nothing here keeps state.

use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use podtap::wire::Nanos;

/// A non-blocking AF_PACKET SOCK_RAW socket that receives nothing until [`bind_all`].
#[allow(unsafe_code)] // socket(2) and taking ownership of its descriptor.
pub(crate) fn new_socket() -> io::Result<OwnedFd> {
    // Protocol 0: no packets queue up before the ring exists; bind sets ETH_P_ALL.
    // SAFETY: plain socket(2) call with constant arguments.
    let fd = unsafe {
        libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Binds to interface 0 (all of them) for every protocol.
#[allow(unsafe_code)] // bind(2) with a sockaddr_ll.
pub(crate) fn bind_all(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: sockaddr_ll is plain old data; all-zero is valid.
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as u16;
    addr.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
    addr.sll_ifindex = 0;
    // SAFETY: `addr` is a valid sockaddr_ll of the length we pass.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&raw const addr).cast(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// setsockopt(2) with a value of type `T`.
#[allow(unsafe_code)] // setsockopt(2) reading `size_of::<T>()` bytes of `value`.
pub(crate) fn setsockopt<T>(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
) -> io::Result<()> {
    // SAFETY: `value` is a live T, readable for size_of::<T>() bytes; any
    // pointer inside it (sock_fprog.filter) outlives this call.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            std::ptr::from_ref(value).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// PACKET_STATISTICS since the last read: (packets, drops).
#[allow(unsafe_code)] // getsockopt(2) into a stats struct we own.
pub(crate) fn read_stats(fd: BorrowedFd<'_>) -> io::Result<(u32, u32)> {
    // tpacket_stats_v3 starts like tpacket_stats; the kernel writes whichever
    // its socket version uses (and at most the length we pass), so this one
    // buffer serves both the ring and the plain socket.
    let mut st = libc::tpacket_stats_v3 {
        tp_packets: 0,
        tp_drops: 0,
        tp_freeze_q_cnt: 0,
    };
    let mut len = size_of::<libc::tpacket_stats_v3>() as libc::socklen_t;
    // SAFETY: `st` is writable for `len` bytes and `len` is a valid socklen_t.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_PACKET,
            libc::PACKET_STATISTICS,
            (&raw mut st).cast(),
            &raw mut len,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((st.tp_packets, st.tp_drops))
}

/// poll(2) for readability; true when readable.
///
/// A pending socket error (POLLERR) is taken and returned, so a ring socket,
/// which is never read with recv, cannot make every later poll return at once.
#[allow(unsafe_code)] // poll(2) on one pollfd we own, getsockopt(2) SO_ERROR into an int.
pub(crate) fn poll_fd(fd: BorrowedFd<'_>, timeout_ms: libc::c_int) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, count 1.
    let rc = unsafe { libc::poll(&raw mut pfd, 1, timeout_ms) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    if pfd.revents & libc::POLLERR != 0 {
        let mut err: libc::c_int = 0;
        let mut len = size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `err` is writable for `len` bytes.
        let rc = unsafe {
            libc::getsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_ERROR,
                (&raw mut err).cast(),
                &raw mut len,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        if err != 0 {
            return Err(io::Error::from_raw_os_error(err));
        }
    }
    Ok(rc > 0 && pfd.revents & libc::POLLIN != 0)
}

/// Length of a control message carrying one timespec.
#[allow(unsafe_code)] // CMSG_LEN is declared unsafe.
const TIMESTAMP_CMSG_LEN: usize =
    // SAFETY: CMSG_LEN is plain arithmetic on its argument.
    unsafe { libc::CMSG_LEN(size_of::<libc::timespec>() as libc::c_uint) } as usize;

/// One packet read by [`recv_packet`].
pub(crate) struct Received {
    /// Length of the packet (may exceed the buffer: MSG_TRUNC).
    pub len: usize,
    /// Interface, hardware type, direction and protocol.
    pub addr: libc::sockaddr_ll,
    /// Kernel receive time (SO_TIMESTAMPNS), when it came with the packet.
    pub ts: Option<Nanos>,
}

/// Reads one packet into `buf` without blocking; `None` when none is queued.
#[allow(unsafe_code)] // recvmsg(2) into our buffers and walking its control messages.
pub(crate) fn recv_packet(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<Option<Received>> {
    // SAFETY: both are plain old data; all-zero is valid.
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    // Room for one SCM_TIMESTAMPNS (u64 for cmsghdr alignment).
    let mut control = [0u64; 8];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    msg.msg_name = (&raw mut addr).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of::<[u64; 8]>() as _;
    // SAFETY: every pointer in `msg` points to a live buffer of the stated
    // length; MSG_TRUNC only changes the returned length.
    let n = unsafe {
        libc::recvmsg(
            fd.as_raw_fd(),
            &raw mut msg,
            libc::MSG_TRUNC | libc::MSG_DONTWAIT,
        )
    };
    let Ok(len) = usize::try_from(n) else {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::WouldBlock {
            Ok(None)
        } else {
            Err(e)
        };
    };
    let mut ts = None;
    // SAFETY: `msg` was filled by recvmsg; CMSG_FIRSTHDR/NXTHDR stay within
    // msg_controllen and return NULL at the end.
    let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(&raw const msg) };
    while !cmsg.is_null() {
        // SAFETY: non-null cmsg from the macros points to a header inside `control`.
        let hdr = unsafe { &*cmsg };
        if hdr.cmsg_level == libc::SOL_SOCKET
            && hdr.cmsg_type == libc::SCM_TIMESTAMPNS
            && hdr.cmsg_len as usize >= TIMESTAMP_CMSG_LEN
        {
            // SAFETY: an SCM_TIMESTAMPNS message carries one timespec, possibly unaligned.
            let t: libc::timespec =
                unsafe { std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast()) };
            let (Ok(s), Ok(ns)) = (u64::try_from(t.tv_sec), u64::try_from(t.tv_nsec)) else {
                break;
            };
            ts = Some(Nanos(s * 1_000_000_000 + ns));
        }
        // SAFETY: as for CMSG_FIRSTHDR.
        cmsg = unsafe { libc::CMSG_NXTHDR(&raw const msg, cmsg) };
    }
    Ok(Some(Received { len, addr, ts }))
}
