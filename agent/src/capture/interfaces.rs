//! The namespace's network interfaces and their pcapng link types.
//!
//! [`list`] asks the kernel through a socket of the caller's network
//! namespace (`if_nameindex` and `SIOCGIFHWADDR`), so it is right even when
//! `/sys` was mounted in another namespace; `/sys/class/net` is the fallback.

use std::ffi::CStr;
use std::fs;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use podtap::wire::LinkType;

/// ARPHRD_RAWIP (raw IP, e.g. some cellular and tun-like devices); not in `libc`.
const ARPHRD_RAWIP: u16 = 519;
/// ARPHRD_TUNNEL6 (IPv6-in-IPv6); not in every `libc` target.
const ARPHRD_TUNNEL6: u16 = 769;
/// ARPHRD_IP6GRE; not in every `libc` target.
const ARPHRD_IP6GRE: u16 = 823;

/// One network interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetInterface {
    /// Interface index.
    pub index: i32,
    /// Name (`eth0`, `lo`).
    pub name: String,
    /// ARPHRD_* hardware type.
    pub hatype: u16,
}

impl NetInterface {
    /// The pcapng link type of this interface's frames (see [`link_type`]).
    pub fn link_type(&self) -> LinkType {
        link_type(self.hatype)
    }
}

/// The pcapng link type for frames of an ARPHRD_* hardware type, as
/// AF_PACKET SOCK_RAW delivers them: Ethernet and loopback keep their
/// Ethernet header, IP tunnels and `none` devices carry raw IP, and anything
/// else is written as LINUX_SLL2 (see [`sll2_header`]).
pub fn link_type(hatype: u16) -> LinkType {
    match hatype {
        // lo has a (zeroed) 14-byte Ethernet header in SOCK_RAW.
        libc::ARPHRD_ETHER | libc::ARPHRD_LOOPBACK => LinkType::ETHERNET,
        // No link-layer header: the frame starts with the IP header. A GRE
        // device without a fixed remote puts the outer IP+GRE header there,
        // which still reads as an IP packet.
        libc::ARPHRD_NONE
        | libc::ARPHRD_TUNNEL
        | ARPHRD_TUNNEL6
        | libc::ARPHRD_SIT
        | libc::ARPHRD_IPGRE
        | ARPHRD_IP6GRE
        | ARPHRD_RAWIP => LinkType::RAW,
        _ => LinkType::LINUX_SLL2,
    }
}

/// The 20-byte LINUX_SLL2 header to put before a frame of an unusual hardware type.
///
/// Layout (tcpdump's LINKTYPE_LINUX_SLL2, all multi-byte fields big-endian):
/// protocol (2), reserved (2), interface index (4), ARPHRD type (2), packet
/// type (1), link-layer address length (1), link-layer address (8). The
/// address is not known here, so its length is 0.
pub fn sll2_header(protocol: u16, ifindex: i32, hatype: u16, pkttype: u8) -> [u8; 20] {
    let mut h = [0u8; 20];
    h[0..2].copy_from_slice(&protocol.to_be_bytes());
    h[4..8].copy_from_slice(&ifindex.to_be_bytes());
    h[8..10].copy_from_slice(&hatype.to_be_bytes());
    h[10] = pkttype;
    h
}

/// Every interface of the current network namespace, by index.
pub fn list() -> io::Result<Vec<NetInterface>> {
    let mut found = match from_kernel() {
        Ok(found) => found,
        Err(kernel_err) => from_sysfs().map_err(|_| kernel_err)?,
    };
    found.sort_by_key(|i| i.index);
    Ok(found)
}

/// Names and indexes from `if_nameindex`, hardware types from `SIOCGIFHWADDR`.
fn from_kernel() -> io::Result<Vec<NetInterface>> {
    let sock = ioctl_socket()?;
    let mut found = Vec::new();
    for (index, name) in name_index()? {
        match hardware_type(&sock, &name) {
            Ok(hatype) => found.push(NetInterface {
                index,
                name,
                hatype,
            }),
            // Gone since if_nameindex: skip it.
            Err(e) if e.raw_os_error() == Some(libc::ENODEV) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}

/// `/sys/class/net/*/{ifindex,type}` (right only when /sys belongs to this namespace).
fn from_sysfs() -> io::Result<Vec<NetInterface>> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/sys/class/net")? {
        let entry = entry?;
        let read = |file: &str| fs::read_to_string(entry.path().join(file));
        let (Ok(index), Ok(hatype)) = (read("ifindex"), read("type")) else {
            continue;
        };
        let (Ok(index), Ok(hatype)) = (index.trim().parse(), hatype.trim().parse()) else {
            continue;
        };
        found.push(NetInterface {
            index,
            name: entry.file_name().to_string_lossy().into_owned(),
            hatype,
        });
    }
    Ok(found)
}

/// A datagram socket to run interface ioctls on (it belongs to the caller's namespace).
#[allow(unsafe_code)] // socket(2) and taking ownership of the descriptor it returns.
fn ioctl_socket() -> io::Result<OwnedFd> {
    // SAFETY: plain socket(2) call with constant arguments.
    let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a descriptor we just opened and nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Every (index, name) pair `if_nameindex(3)` reports.
#[allow(unsafe_code)] // if_nameindex(3) returns a C array we walk and free.
fn name_index() -> io::Result<Vec<(i32, String)>> {
    // SAFETY: no arguments; the result is checked for NULL below.
    let head = unsafe { libc::if_nameindex() };
    if head.is_null() {
        return Err(io::Error::last_os_error());
    }
    let mut out = Vec::new();
    let mut at = head;
    loop {
        // SAFETY: the array ends with an entry whose index is 0 and name NULL;
        // we stop there, so `at` always points into the array.
        let entry = unsafe { &*at };
        if entry.if_index == 0 || entry.if_name.is_null() {
            break;
        }
        // SAFETY: if_name is a NUL-terminated string owned by the array.
        let name = unsafe { CStr::from_ptr(entry.if_name) };
        if let Ok(index) = i32::try_from(entry.if_index) {
            out.push((index, name.to_string_lossy().into_owned()));
        }
        // SAFETY: this entry was not the terminator, so the next one exists.
        at = unsafe { at.add(1) };
    }
    // SAFETY: `head` came from if_nameindex and is freed exactly once; no
    // reference into it outlives this call (names were copied).
    unsafe { libc::if_freenameindex(head) };
    Ok(out)
}

/// The ARPHRD_* type of interface `name` (`SIOCGIFHWADDR` reports it for every device).
#[allow(unsafe_code)] // ioctl(2) on a zeroed ifreq.
fn hardware_type(sock: &OwnedFd, name: &str) -> io::Result<u16> {
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    let bytes = name.as_bytes();
    if bytes.len() >= req.ifr_name.len() {
        return Err(io::Error::from_raw_os_error(libc::ENODEV));
    }
    for (dst, &src) in req.ifr_name.iter_mut().zip(bytes) {
        *dst = libc::c_char::from_ne_bytes([src]);
    }
    // SAFETY: SIOCGIFHWADDR reads the NUL-terminated name and writes into the
    // ifreq we own; the pointer is valid for the whole call.
    let rc = unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFHWADDR, &raw mut req) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: after a successful SIOCGIFHWADDR the union holds ifru_hwaddr.
    Ok(unsafe { req.ifr_ifru.ifru_hwaddr.sa_family })
}

#[cfg(test)]
mod tests {
    use super::*;
    use podtap::decode::link::{ETHERTYPE_IPV6, parse};
    use podtap::wire::Direction;

    #[test]
    fn link_type_table() {
        let cases = [
            (1, LinkType::ETHERNET),     // ether
            (772, LinkType::ETHERNET),   // loopback
            (0xFFFE, LinkType::RAW),     // none (wireguard, tun)
            (768, LinkType::RAW),        // ipip
            (769, LinkType::RAW),        // ip6ip6
            (776, LinkType::RAW),        // sit
            (778, LinkType::RAW),        // gre
            (823, LinkType::RAW),        // ip6gre
            (519, LinkType::RAW),        // rawip
            (32, LinkType::LINUX_SLL2),  // infiniband
            (512, LinkType::LINUX_SLL2), // ppp
            (801, LinkType::LINUX_SLL2), // ieee80211
            (0xFFFF, LinkType::LINUX_SLL2),
        ];
        for (hatype, want) in cases {
            assert_eq!(link_type(hatype), want, "hatype {hatype}");
        }
    }

    #[test]
    fn sll2_header_bytes() {
        let h = sll2_header(0x86DD, 0x0102_0304, 0x0200, 4);
        assert_eq!(
            h,
            [
                0x86, 0xDD, 0, 0, 1, 2, 3, 4, 0x02, 0x00, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0
            ]
        );
    }

    #[test]
    fn sll2_header_decodes_with_podtap() {
        for (pkttype, want) in [
            (libc::PACKET_HOST, Direction::Inbound),
            (libc::PACKET_BROADCAST, Direction::Inbound),
            (libc::PACKET_OUTGOING, Direction::Outbound),
        ] {
            let mut frame = sll2_header(ETHERTYPE_IPV6, 7, 512, pkttype).to_vec();
            frame.extend_from_slice(&[0x60, 0, 0, 0]);
            let n = parse(LinkType::LINUX_SLL2, &frame).unwrap();
            assert_eq!(n.ether_type, ETHERTYPE_IPV6);
            assert_eq!(n.direction, want);
            assert_eq!(n.payload, &[0x60, 0, 0, 0]);
        }
    }

    #[test]
    fn list_has_loopback() {
        let all = list().unwrap();
        let lo = all.iter().find(|i| i.name == "lo").unwrap();
        assert_eq!(lo.hatype, libc::ARPHRD_LOOPBACK);
        assert_eq!(lo.link_type(), LinkType::ETHERNET);
        assert!(all.windows(2).all(|w| w[0].index < w[1].index));
        // Same answer as /sys here (the tests run in the namespace /sys was mounted in).
        let mut sys = from_sysfs().unwrap();
        sys.sort_by_key(|i| i.index);
        assert_eq!(all, sys);
    }
}
