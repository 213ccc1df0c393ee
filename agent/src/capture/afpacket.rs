//! The AF_PACKET capture socket: every interface, TPACKET_V3 ring when available.
//!
//! One SOCK_RAW socket bound to interface 0 sees every interface of the
//! namespace, including ones created later (what `tcpdump -i any` sees, but
//! with each interface's own link layer). With a ring the kernel writes
//! packets straight into shared memory (the `ring` module); without one each
//! packet is a `recvmsg` into a reused buffer. Either way nothing here blocks
//! longer than the timeout given to [`PacketSource::poll`], and the kernel
//! drops (and counts) what we are too slow to read.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::ring::Ring;
use super::sys::{bind_all, new_socket, poll_fd, read_stats, recv_packet, setsockopt};
use super::{KernelStats, PacketSource, RawPacket};
use crate::bpf::SockFilter;
use podtap::wire::Nanos;

/// Largest buffer for the `recvmsg` path (longer packets are truncated, `orig_len` stays right).
const MAX_RECV_BUFFER: usize = 256 * 1024;
/// Most packets one `poll` reads on the `recvmsg` path, so a flood cannot keep it busy forever.
const MAX_RECV_BATCH: usize = 4096;

/// Settings of the capture socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceConfig {
    /// Bytes kept per packet.
    pub snaplen: u32,
    /// Bytes of the memory-mapped ring (0: no ring, plain recvfrom).
    pub ring_bytes: usize,
}

impl Default for SourceConfig {
    fn default() -> Self {
        SourceConfig {
            snaplen: 262_144,
            ring_bytes: 4 << 20,
        }
    }
}

/// An AF_PACKET socket bound to every interface of the namespace.
pub struct AfPacket {
    config: SourceConfig,
    // Dropped before `fd`: unmap, then close.
    ring: Option<Ring>,
    fd: OwnedFd,
    /// Receive buffer of the `recvmsg` path (empty with a ring).
    buf: Vec<u8>,
    totals: KernelStats,
    bad_blocks: u64,
}

impl AfPacket {
    /// Opens the socket (needs CAP_NET_RAW).
    ///
    /// With `ring_bytes > 0` it maps a TPACKET_V3 ring of at most that many
    /// bytes; if the kernel refuses, it falls back to `recvmsg` (see [`AfPacket::has_ring`]).
    pub fn open(config: SourceConfig) -> io::Result<Self> {
        let mut ring = None;
        let mut fd = new_socket()?;
        if config.ring_bytes > 0 {
            match Ring::setup(fd.as_fd(), config.ring_bytes) {
                Ok(r) => ring = Some(r),
                // Start over on a clean socket: the failed attempt may have
                // left the version or a half-made ring behind.
                Err(_) => fd = new_socket()?,
            }
        }
        if ring.is_none() {
            // Kernel receive timestamps for the recvmsg path.
            setsockopt(
                fd.as_fd(),
                libc::SOL_SOCKET,
                libc::SO_TIMESTAMPNS,
                &1 as &libc::c_int,
            )?;
        }
        bind_all(fd.as_fd())?;
        Ok(AfPacket {
            config,
            ring,
            fd,
            buf: Vec::new(),
            totals: KernelStats::default(),
            bad_blocks: 0,
        })
    }

    /// True when packets come through the memory-mapped ring.
    pub fn has_ring(&self) -> bool {
        self.ring.is_some()
    }

    /// Ring blocks whose headers failed validation (the rest of each such block was skipped).
    pub fn bad_blocks(&self) -> u64 {
        self.bad_blocks
    }

    /// Waits until the socket is readable or `timeout` passes; false on timeout or EINTR.
    fn wait(&self, timeout: Duration) -> io::Result<bool> {
        let ms = timeout.as_nanos().div_ceil(1_000_000);
        let ms = libc::c_int::try_from(ms).unwrap_or(libc::c_int::MAX);
        match poll_fd(self.fd.as_fd(), ms) {
            Ok(ready) => Ok(ready),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn poll_ring(&mut self, sink: &mut dyn FnMut(&RawPacket<'_>)) -> usize {
        let Some(ring) = self.ring.as_mut() else {
            return 0;
        };
        let snaplen = self.config.snaplen as usize;
        let mut delivered = 0;
        let (_, bad) = ring.drain(&mut |mut p| {
            if is_loopback_echo(&p) {
                return;
            }
            p.data = &p.data[..p.data.len().min(snaplen)];
            sink(&p);
            delivered += 1;
        });
        self.bad_blocks += bad;
        delivered
    }

    fn poll_recv(&mut self, sink: &mut dyn FnMut(&RawPacket<'_>)) -> io::Result<usize> {
        let want = (self.config.snaplen as usize).min(MAX_RECV_BUFFER);
        if self.buf.len() != want {
            self.buf = vec![0; want];
        }
        let mut delivered = 0;
        for _ in 0..MAX_RECV_BATCH {
            let got = match recv_packet(self.fd.as_fd(), &mut self.buf) {
                Ok(Some(got)) => got,
                Ok(None) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => break,
                Err(e) => return Err(e),
            };
            let ts = got.ts.unwrap_or_else(now);
            let p = RawPacket {
                ifindex: got.addr.sll_ifindex,
                hatype: got.addr.sll_hatype,
                pkttype: got.addr.sll_pkttype,
                protocol: u16::from_be(got.addr.sll_protocol),
                ts,
                orig_len: u32::try_from(got.len).unwrap_or(u32::MAX),
                data: &self.buf[..got.len.min(self.buf.len())],
            };
            if is_loopback_echo(&p) {
                continue;
            }
            sink(&p);
            delivered += 1;
        }
        Ok(delivered)
    }
}

/// On loopback AF_PACKET sees each packet twice, leaving and arriving: keep the arrival.
fn is_loopback_echo(p: &RawPacket<'_>) -> bool {
    p.hatype == libc::ARPHRD_LOOPBACK && p.pkttype == libc::PACKET_OUTGOING
}

fn now() -> Nanos {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Nanos(u64::try_from(since.as_nanos()).unwrap_or(u64::MAX))
}

impl PacketSource for AfPacket {
    fn poll(
        &mut self,
        timeout: Duration,
        sink: &mut dyn FnMut(&RawPacket<'_>),
    ) -> io::Result<usize> {
        let ready = match &self.ring {
            Some(ring) if ring.ready() => true,
            _ => self.wait(timeout)?,
        };
        if !ready {
            return Ok(0);
        }
        if self.ring.is_some() {
            Ok(self.poll_ring(sink))
        } else {
            self.poll_recv(sink)
        }
    }

    fn stats(&mut self) -> io::Result<KernelStats> {
        // The kernel resets its counters on every read: keep the sum.
        let (packets, drops) = read_stats(self.fd.as_fd())?;
        self.totals.packets += u64::from(packets);
        self.totals.drops += u64::from(drops);
        Ok(self.totals)
    }

    fn set_filter(&mut self, program: &[SockFilter]) -> io::Result<()> {
        if program.is_empty() {
            let rc = setsockopt(
                self.fd.as_fd(),
                libc::SOL_SOCKET,
                libc::SO_DETACH_FILTER,
                &0 as &libc::c_int,
            );
            return match rc {
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
                other => other,
            };
        }
        let mut insns: Vec<libc::sock_filter> = program
            .iter()
            .map(|i| libc::sock_filter {
                code: i.code,
                jt: i.jt,
                jf: i.jf,
                k: i.k,
            })
            .collect();
        let len = u16::try_from(insns.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "BPF program too long"))?;
        let prog = libc::sock_fprog {
            len,
            filter: insns.as_mut_ptr(),
        };
        setsockopt(
            self.fd.as_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            &prog,
        )
    }

    fn set_snaplen(&mut self, snaplen: u32) {
        self.config.snaplen = snaplen;
    }
}
