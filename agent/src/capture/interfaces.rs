//! The namespace's network interfaces and their pcapng link types.

use podtap::wire::LinkType;

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

/// The pcapng link type for frames of an ARPHRD_* hardware type, as
/// AF_PACKET SOCK_RAW delivers them: Ethernet and loopback keep their
/// Ethernet header, IP tunnels and `none` devices carry raw IP, and anything
/// else is written as LINUX_SLL2 (see [`sll2_header`]).
pub fn link_type(hatype: u16) -> LinkType {
    let _ = hatype;
    todo!("interfaces")
}

/// The 20-byte LINUX_SLL2 header to put before a frame of an unusual hardware type.
pub fn sll2_header(protocol: u16, ifindex: i32, hatype: u16, pkttype: u8) -> [u8; 20] {
    let _ = (protocol, ifindex, hatype, pkttype);
    todo!("interfaces")
}

/// Every interface of the current network namespace.
pub fn list() -> std::io::Result<Vec<NetInterface>> {
    todo!("interfaces")
}
