//! The TPACKET_V3 receive ring: its setup and mapping, the hand-over of blocks
//! between the kernel and us, and a safe parser of one block.
//!
//! Everything read from a block is bounds-checked by [`parse_block`], which
//! works on a plain `&[u8]`: a bogus header makes it stop, never read outside
//! the block.

use std::io;
use std::mem::{offset_of, size_of};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

use libc::{sockaddr_ll, tpacket_block_desc, tpacket_hdr_v1, tpacket3_hdr};

use super::RawPacket;
use podtap::wire::Nanos;

/// Largest block we ask for (big enough for a 64 KiB GSO packet).
const MAX_BLOCK: usize = 1 << 20;
/// Fewest blocks worth having: the kernel fills one while we read others.
const MIN_BLOCKS: usize = 8;
/// Nominal frame size (V3 packs packets of any size; this only has to divide the block).
const FRAME_SIZE: usize = 2048;
/// A block that is not full is handed to us after this many milliseconds:
/// live enough for the TUI, and few wakeups at low rates (tcpdump waits 1 s).
const RETIRE_MS: u32 = 200;

const BLOCK_HDR: usize = offset_of!(tpacket_block_desc, hdr);
const STATUS_OFF: usize = BLOCK_HDR + offset_of!(tpacket_hdr_v1, block_status);
const NUM_PKTS_OFF: usize = BLOCK_HDR + offset_of!(tpacket_hdr_v1, num_pkts);
const FIRST_PKT_OFF: usize = BLOCK_HDR + offset_of!(tpacket_hdr_v1, offset_to_first_pkt);
/// The sockaddr_ll follows the tpacket3_hdr, aligned (TPACKET_ALIGN).
const SLL_OFF: usize = size_of::<tpacket3_hdr>().next_multiple_of(libc::TPACKET_ALIGNMENT);
/// Bytes of per-packet headers: every packet's data starts at or after this.
const PKT_HDRS: usize = SLL_OFF + size_of::<sockaddr_ll>();

/// Why a block's contents were not trusted (the packets before the fault were delivered).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BadBlock {
    /// The block is smaller than its own descriptor.
    Short,
    /// `offset_to_first_pkt` points into the descriptor or past the block.
    FirstOffset,
    /// A packet header does not fit in the block.
    Header,
    /// `tp_mac` points into the headers, or `tp_mac + tp_snaplen` past the block.
    Data,
    /// `tp_next_offset` is 0 or leads past the block before `num_pkts` packets.
    NextOffset,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Hands each packet of one TPACKET_V3 block to `each`; returns how many.
///
/// `block` is the whole block (its descriptor first). Offsets and lengths come
/// from the kernel, so each is checked against `block.len()`.
pub(crate) fn parse_block<'a>(
    block: &'a [u8],
    mut each: impl FnMut(RawPacket<'a>),
) -> Result<u32, BadBlock> {
    let num = u32_at(block, NUM_PKTS_OFF).ok_or(BadBlock::Short)?;
    let first = u32_at(block, FIRST_PKT_OFF).ok_or(BadBlock::Short)? as usize;
    if first < size_of::<tpacket_block_desc>() || first > block.len() {
        return Err(BadBlock::FirstOffset);
    }
    let mut at = first;
    for i in 0..num {
        let pkt = block
            .get(at..)
            .and_then(|rest| rest.get(..PKT_HDRS))
            .ok_or(BadBlock::Header)?;
        let field = |off: usize| u32_at(pkt, off).ok_or(BadBlock::Header);
        let sec = field(offset_of!(tpacket3_hdr, tp_sec))?;
        let nsec = field(offset_of!(tpacket3_hdr, tp_nsec))?;
        let snaplen = field(offset_of!(tpacket3_hdr, tp_snaplen))? as usize;
        let orig_len = field(offset_of!(tpacket3_hdr, tp_len))?;
        let next = field(offset_of!(tpacket3_hdr, tp_next_offset))? as usize;
        let mac = u16_at(pkt, offset_of!(tpacket3_hdr, tp_mac)).ok_or(BadBlock::Header)?;
        let mac = usize::from(mac);
        let sll = &pkt[SLL_OFF..];
        let protocol =
            u16_at(sll, offset_of!(sockaddr_ll, sll_protocol)).ok_or(BadBlock::Header)?;
        let ifindex = u32_at(sll, offset_of!(sockaddr_ll, sll_ifindex)).ok_or(BadBlock::Header)?;
        let hatype = u16_at(sll, offset_of!(sockaddr_ll, sll_hatype)).ok_or(BadBlock::Header)?;
        let pkttype = *sll
            .get(offset_of!(sockaddr_ll, sll_pkttype))
            .ok_or(BadBlock::Header)?;
        if mac < PKT_HDRS {
            return Err(BadBlock::Data);
        }
        let data = at
            .checked_add(mac)
            .and_then(|start| block.get(start..)?.get(..snaplen))
            .ok_or(BadBlock::Data)?;
        each(RawPacket {
            ifindex: ifindex.cast_signed(),
            hatype,
            pkttype,
            // sll_protocol is in network byte order.
            protocol: u16::from_be(protocol),
            ts: Nanos(u64::from(sec) * 1_000_000_000 + u64::from(nsec)),
            orig_len,
            data,
        });
        if i + 1 < num {
            if next == 0 {
                return Err(BadBlock::NextOffset);
            }
            at = at
                .checked_add(next)
                .filter(|&a| a <= block.len())
                .ok_or(BadBlock::NextOffset)?;
        }
    }
    Ok(num)
}

/// Block geometry for a ring of at most `ring_bytes`: (block size, block count).
fn geometry(ring_bytes: usize, page: usize) -> Option<(usize, usize)> {
    let mut block = MAX_BLOCK.max(page);
    while block > page && block.max(FRAME_SIZE) * MIN_BLOCKS > ring_bytes {
        block /= 2;
    }
    let count = ring_bytes / block;
    (block >= FRAME_SIZE && count >= 2).then_some((block, count))
}

/// A mapped TPACKET_V3 ring and the index of the next block to read.
pub(crate) struct Ring {
    base: NonNull<u8>,
    block_size: usize,
    blocks: usize,
    next: usize,
}

// SAFETY: the mapping is owned by this value alone (no aliases are handed out
// beyond a `poll` call), so moving it to another thread is sound.
#[allow(unsafe_code)]
unsafe impl Send for Ring {}

impl Ring {
    /// Switches `fd` to TPACKET_V3 and maps a ring of at most `ring_bytes`.
    #[allow(unsafe_code)] // mmap(2) of the ring.
    pub(crate) fn setup(fd: BorrowedFd<'_>, ring_bytes: usize) -> io::Result<Ring> {
        // SAFETY: sysconf has no memory-safety preconditions.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
        let (block_size, blocks) = geometry(ring_bytes, page).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "ring_bytes too small for a ring",
            )
        })?;
        let too_big = |_| io::Error::new(io::ErrorKind::InvalidInput, "ring too large");
        let req = libc::tpacket_req3 {
            tp_block_size: u32::try_from(block_size).map_err(too_big)?,
            tp_block_nr: u32::try_from(blocks).map_err(too_big)?,
            tp_frame_size: FRAME_SIZE as u32,
            tp_frame_nr: u32::try_from(block_size / FRAME_SIZE * blocks).map_err(too_big)?,
            tp_retire_blk_tov: RETIRE_MS,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        let version = libc::tpacket_versions::TPACKET_V3 as libc::c_int;
        super::sys::setsockopt(fd, libc::SOL_PACKET, libc::PACKET_VERSION, &version)?;
        super::sys::setsockopt(fd, libc::SOL_PACKET, libc::PACKET_RX_RING, &req)?;
        let len = block_size * blocks;
        // SAFETY: a fresh shared mapping of the socket's ring; the kernel checks
        // the length against the ring it just allocated.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base = NonNull::new(ptr.cast::<u8>()).ok_or_else(io::Error::last_os_error)?;
        Ok(Ring {
            base,
            block_size,
            blocks,
            next: 0,
        })
    }

    /// Bytes mapped.
    pub(crate) fn len(&self) -> usize {
        self.block_size * self.blocks
    }

    /// The status word of block `index` (shared with the kernel).
    #[allow(unsafe_code)] // Atomic view of a word inside the mapping.
    fn status(&self, index: usize) -> &AtomicU32 {
        debug_assert!(index < self.blocks);
        // SAFETY: index < blocks, so the word lies inside the mapping; blocks are
        // page aligned and STATUS_OFF is a multiple of 4, so it is aligned; the
        // kernel only accesses it atomically too.
        unsafe {
            AtomicU32::from_ptr(
                self.base
                    .as_ptr()
                    .add(index * self.block_size + STATUS_OFF)
                    .cast(),
            )
        }
    }

    /// True when the next block is ours to read (no need to wait).
    pub(crate) fn ready(&self) -> bool {
        self.status(self.next).load(Ordering::Acquire) & libc::TP_STATUS_USER != 0
    }

    /// Reads every block the kernel has handed over (at most one turn of the
    /// ring), then gives each back. Returns (packets read, bad blocks).
    #[allow(unsafe_code)] // Reading a block the kernel has handed to us.
    pub(crate) fn drain(&mut self, each: &mut dyn FnMut(RawPacket<'_>)) -> (u64, u64) {
        let (mut packets, mut bad) = (0, 0);
        for _ in 0..self.blocks {
            if !self.ready() {
                break;
            }
            // SAFETY: the block lies inside the mapping, and while its status
            // says TP_STATUS_USER the kernel does not write to it; the slice
            // is dropped before the status is handed back below.
            let block = unsafe {
                std::slice::from_raw_parts(
                    self.base.as_ptr().add(self.next * self.block_size),
                    self.block_size,
                )
            };
            match parse_block(block, &mut *each) {
                Ok(n) => packets += u64::from(n),
                Err(_) => bad += 1,
            }
            self.status(self.next)
                .store(libc::TP_STATUS_KERNEL, Ordering::Release);
            self.next = (self.next + 1) % self.blocks;
        }
        (packets, bad)
    }
}

impl Drop for Ring {
    #[allow(unsafe_code)] // munmap(2) of our own mapping.
    fn drop(&mut self) {
        // SAFETY: base/len describe the mapping made in `setup`; no slice into
        // it outlives a `drain` call, and it is unmapped exactly once.
        unsafe { libc::munmap(self.base.as_ptr().cast(), self.len()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One packet for [`fake_block`]: (tp_mac, tp_snaplen, tp_len, pkttype, data).
    struct Fake {
        mac: u16,
        snaplen: u32,
        len: u32,
        pkttype: u8,
        fill: u8,
    }

    fn put32(b: &mut [u8], at: usize, v: u32) {
        b[at..at + 4].copy_from_slice(&v.to_ne_bytes());
    }

    /// A block laid out as the kernel does it, packets 128-byte aligned.
    fn fake_block(size: usize, pkts: &[Fake]) -> Vec<u8> {
        let mut b = vec![0u8; size];
        let first = 48;
        put32(&mut b, STATUS_OFF, libc::TP_STATUS_USER);
        put32(&mut b, NUM_PKTS_OFF, pkts.len() as u32);
        put32(&mut b, FIRST_PKT_OFF, first);
        let mut at = first as usize;
        for (i, p) in pkts.iter().enumerate() {
            let stride = (usize::from(p.mac) + p.snaplen as usize).next_multiple_of(128);
            let next = if i + 1 < pkts.len() { stride as u32 } else { 0 };
            put32(&mut b, at + offset_of!(tpacket3_hdr, tp_next_offset), next);
            put32(&mut b, at + offset_of!(tpacket3_hdr, tp_sec), 1_700_000_000);
            put32(&mut b, at + offset_of!(tpacket3_hdr, tp_nsec), 5 + i as u32);
            put32(&mut b, at + offset_of!(tpacket3_hdr, tp_snaplen), p.snaplen);
            put32(&mut b, at + offset_of!(tpacket3_hdr, tp_len), p.len);
            let m = at + offset_of!(tpacket3_hdr, tp_mac);
            b[m..m + 2].copy_from_slice(&p.mac.to_ne_bytes());
            let sll = at + SLL_OFF;
            b[sll + 2..sll + 4].copy_from_slice(&0x0800u16.to_be_bytes());
            put32(&mut b, sll + 4, 3);
            b[sll + 8..sll + 10].copy_from_slice(&1u16.to_ne_bytes());
            b[sll + 10] = p.pkttype;
            let d = at + usize::from(p.mac);
            if let Some(dst) = b.get_mut(d..d + p.snaplen as usize) {
                dst.fill(p.fill);
            }
            at += stride;
        }
        b
    }

    fn ok(mac: u16, snaplen: u32, fill: u8) -> Fake {
        Fake {
            mac,
            snaplen,
            len: snaplen + 10,
            pkttype: 4,
            fill,
        }
    }

    /// (ifindex, hatype, pkttype, protocol, ts, orig_len, data) of one parsed packet.
    type Parsed = (i32, u16, u8, u16, u64, u32, Vec<u8>);

    fn collect(block: &[u8]) -> (Result<u32, BadBlock>, Vec<Parsed>) {
        let mut got = Vec::new();
        let r = parse_block(block, |p| {
            got.push((
                p.ifindex,
                p.hatype,
                p.pkttype,
                p.protocol,
                p.ts.0,
                p.orig_len,
                p.data.to_vec(),
            ));
        });
        (r, got)
    }

    #[test]
    fn layout_matches_the_kernel_headers() {
        assert_eq!((STATUS_OFF, NUM_PKTS_OFF, FIRST_PKT_OFF), (8, 12, 16));
        assert_eq!(size_of::<tpacket3_hdr>(), 48);
        assert_eq!((SLL_OFF, PKT_HDRS), (48, 68));
        assert_eq!(SLL_OFF + size_of::<sockaddr_ll>(), libc::TPACKET3_HDRLEN);
    }

    #[test]
    fn parses_packets_of_a_good_block() {
        let b = fake_block(4096, &[ok(80, 42, 0xAA), ok(96, 100, 0xBB), ok(82, 0, 0)]);
        let (r, got) = collect(&b);
        assert_eq!(r, Ok(3));
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[0],
            (
                3,
                1,
                4,
                0x0800,
                1_700_000_000_000_000_005,
                52,
                vec![0xAA; 42]
            )
        );
        assert_eq!(got[1].6, vec![0xBB; 100]);
        assert_eq!(got[2].4, 1_700_000_000_000_000_007);
        assert!(got[2].6.is_empty());
    }

    #[test]
    fn empty_block() {
        let b = fake_block(4096, &[]);
        assert_eq!(collect(&b), (Ok(0), vec![]));
    }

    #[test]
    fn snaplen_past_the_block_is_rejected() {
        let mut b = fake_block(4096, &[ok(80, 42, 1)]);
        let at = 48 + offset_of!(tpacket3_hdr, tp_snaplen);
        put32(&mut b, at, 4096 - 48 - 80 + 1);
        assert_eq!(collect(&b).0, Err(BadBlock::Data));
        put32(&mut b, at, u32::MAX);
        assert_eq!(collect(&b).0, Err(BadBlock::Data));
        // Exactly up to the end is fine.
        put32(&mut b, at, 4096 - 48 - 80);
        assert_eq!(collect(&b).0, Ok(1));
    }

    #[test]
    fn mac_inside_the_headers_is_rejected() {
        let b = fake_block(
            4096,
            &[Fake {
                mac: 10,
                ..ok(80, 4, 1)
            }],
        );
        assert_eq!(collect(&b).0, Err(BadBlock::Data));
        let b = fake_block(
            4096,
            &[Fake {
                mac: u16::MAX,
                ..ok(80, 4, 1)
            }],
        );
        assert_eq!(collect(&b).0, Err(BadBlock::Data));
    }

    #[test]
    fn bad_first_offset() {
        let mut b = fake_block(4096, &[ok(80, 4, 1)]);
        for first in [0, 8, 4097, u32::MAX] {
            put32(&mut b, FIRST_PKT_OFF, first);
            assert_eq!(collect(&b).0, Err(BadBlock::FirstOffset), "first {first}");
        }
        // A header that starts in the block but does not fit.
        put32(&mut b, FIRST_PKT_OFF, 4096 - 20);
        assert_eq!(collect(&b).0, Err(BadBlock::Header));
        assert_eq!(collect(&b[..10]).0, Err(BadBlock::Short));
    }

    #[test]
    fn num_pkts_larger_than_the_chain() {
        let mut b = fake_block(4096, &[ok(80, 4, 1), ok(80, 4, 2)]);
        // The last packet's next offset is 0: claiming a third packet must stop there.
        put32(&mut b, NUM_PKTS_OFF, 3);
        let (r, got) = collect(&b);
        assert_eq!(r, Err(BadBlock::NextOffset));
        assert_eq!(got.len(), 2, "packets before the fault are delivered");
        put32(&mut b, NUM_PKTS_OFF, u32::MAX);
        assert_eq!(collect(&b).0, Err(BadBlock::NextOffset));
    }

    #[test]
    fn next_offset_past_the_block() {
        let mut b = fake_block(4096, &[ok(80, 4, 1), ok(80, 4, 2)]);
        put32(&mut b, 48 + offset_of!(tpacket3_hdr, tp_next_offset), 4096);
        assert_eq!(collect(&b).0, Err(BadBlock::NextOffset));
        put32(
            &mut b,
            48 + offset_of!(tpacket3_hdr, tp_next_offset),
            u32::MAX,
        );
        assert_eq!(collect(&b).0, Err(BadBlock::NextOffset));
        // Lands inside the block but too close to the end for a header.
        put32(
            &mut b,
            48 + offset_of!(tpacket3_hdr, tp_next_offset),
            4096 - 48 - 30,
        );
        assert_eq!(collect(&b).0, Err(BadBlock::Header));
    }

    #[test]
    fn arbitrary_blocks_never_panic() {
        use proptest::prelude::*;
        proptest!(|(bytes in proptest::collection::vec(any::<u8>(), 0..600), first in 0u32..600, num in 0u32..20)| {
            let mut b = bytes;
            if b.len() >= 20 {
                put32(&mut b, FIRST_PKT_OFF, first);
                put32(&mut b, NUM_PKTS_OFF, num);
            }
            let _ = parse_block(&b, |p| assert!(p.data.len() <= b.len()));
        });
    }

    #[test]
    fn ring_geometry() {
        assert_eq!(geometry(4 << 20, 4096), Some((512 << 10, 8)));
        assert_eq!(geometry(64 << 20, 4096), Some((1 << 20, 64)));
        assert_eq!(geometry(64 << 10, 4096), Some((8192, 8)));
        assert_eq!(geometry(10_000, 4096), Some((4096, 2)));
        assert_eq!(geometry(4096, 4096), None);
        assert_eq!(geometry(0, 4096), None);
        // 64 KiB pages: never below a page.
        assert_eq!(geometry(4 << 20, 65536), Some((512 << 10, 8)));
        assert_eq!(geometry(100 << 10, 65536), None);
        for bytes in [0, 1, 5000, 1 << 20, 3 << 20, 1 << 30] {
            if let Some((s, n)) = geometry(bytes, 4096) {
                assert!(s * n <= bytes && s % 4096 == 0 && s % FRAME_SIZE == 0);
            }
        }
    }
}
