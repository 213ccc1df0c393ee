//! Link layers: find where the network-layer packet starts in a frame.
//!
//! Handles every link type podtap meets in pod captures: Ethernet (with
//! 802.1Q / 802.1ad / Q-in-Q tags), Linux cooked capture v1 and v2, raw IP,
//! and BSD loopback. Anything else is reported as unsupported, not fatal.

use crate::wire::{Direction, LinkType};

/// EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86DD;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88A8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;
/// More tags than this is not a real frame.
const MAX_VLAN_TAGS: usize = 4;

/// The network-layer part of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network<'a> {
    /// What the payload is (an EtherType; 0 when unknown).
    pub ether_type: u16,
    /// The bytes after the link-layer header.
    pub payload: &'a [u8],
    /// Direction, when the link header records it (Linux cooked capture).
    pub direction: Direction,
}

/// Why a frame's link layer could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// The frame is shorter than its link-layer header.
    Truncated,
    /// The capture's link type is not one podtap decodes.
    Unsupported,
}

/// Splits a frame of the given link type into its network-layer payload.
pub fn parse(link: LinkType, frame: &[u8]) -> Result<Network<'_>, LinkError> {
    match link {
        LinkType::ETHERNET => ethernet(frame),
        LinkType::LINUX_SLL => sll(frame),
        LinkType::LINUX_SLL2 => sll2(frame),
        LinkType::RAW | LinkType::IPV4 | LinkType::IPV6 => Ok(raw_ip(frame)),
        LinkType::NULL => bsd_loopback(frame, false),
        LinkType::LOOP => bsd_loopback(frame, true),
        _ => Err(LinkError::Unsupported),
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn ethernet(frame: &[u8]) -> Result<Network<'_>, LinkError> {
    let mut ether_type = be16(frame, 12).ok_or(LinkError::Truncated)?;
    let mut offset = 14;
    let mut tags = 0;
    while matches!(
        ether_type,
        ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD
    ) && tags < MAX_VLAN_TAGS
    {
        ether_type = be16(frame, offset + 2).ok_or(LinkError::Truncated)?;
        offset += 4;
        tags += 1;
    }
    Ok(Network {
        ether_type,
        payload: frame.get(offset..).ok_or(LinkError::Truncated)?,
        direction: Direction::Unknown,
    })
}

fn sll_direction(packet_type: u16) -> Direction {
    match packet_type {
        // PACKET_HOST, PACKET_BROADCAST, PACKET_MULTICAST, PACKET_OTHERHOST
        0..=3 => Direction::Inbound,
        4 => Direction::Outbound,
        _ => Direction::Unknown,
    }
}

fn sll(frame: &[u8]) -> Result<Network<'_>, LinkError> {
    let packet_type = be16(frame, 0).ok_or(LinkError::Truncated)?;
    let ether_type = be16(frame, 14).ok_or(LinkError::Truncated)?;
    Ok(Network {
        ether_type,
        payload: frame.get(16..).ok_or(LinkError::Truncated)?,
        direction: sll_direction(packet_type),
    })
}

fn sll2(frame: &[u8]) -> Result<Network<'_>, LinkError> {
    let ether_type = be16(frame, 0).ok_or(LinkError::Truncated)?;
    let packet_type = *frame.get(10).ok_or(LinkError::Truncated)?;
    Ok(Network {
        ether_type,
        payload: frame.get(20..).ok_or(LinkError::Truncated)?,
        direction: sll_direction(u16::from(packet_type)),
    })
}

fn raw_ip(frame: &[u8]) -> Network<'_> {
    let ether_type = match frame.first().map(|b| b >> 4) {
        Some(4) => ETHERTYPE_IPV4,
        Some(6) => ETHERTYPE_IPV6,
        _ => 0,
    };
    Network {
        ether_type,
        payload: frame,
        direction: Direction::Unknown,
    }
}

fn bsd_loopback(frame: &[u8], network_order: bool) -> Result<Network<'_>, LinkError> {
    let bytes: [u8; 4] = frame
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or(LinkError::Truncated)?;
    // The family is in the writer's byte order for NULL, so try both.
    let family = if network_order {
        u32::from_be_bytes(bytes)
    } else {
        let le = u32::from_le_bytes(bytes);
        if le > 0xFFFF {
            u32::from_be_bytes(bytes)
        } else {
            le
        }
    };
    let ether_type = match family {
        2 => ETHERTYPE_IPV4,
        // AF_INET6 on BSDs, macOS and Linux.
        10 | 24 | 28 | 30 => ETHERTYPE_IPV6,
        _ => 0,
    };
    Ok(Network {
        ether_type,
        payload: &frame[4..],
        direction: Direction::Unknown,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ethernet_with_q_in_q_tags() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x88, 0xA8, 0x00, 0x05, 0x81, 0x00, 0x00, 0x07, 0x08, 0x00]);
        f.extend_from_slice(&[0x45, 0x00]);
        let n = parse(LinkType::ETHERNET, &f).unwrap();
        assert_eq!(n.ether_type, ETHERTYPE_IPV4);
        assert_eq!(n.payload, &[0x45, 0x00]);
    }

    #[test]
    fn ethernet_truncated_inside_tag() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x81, 0x00, 0x00]);
        assert_eq!(parse(LinkType::ETHERNET, &f), Err(LinkError::Truncated));
        assert_eq!(
            parse(LinkType::ETHERNET, &[0; 5]),
            Err(LinkError::Truncated)
        );
    }

    #[test]
    fn endless_vlan_tags_stop() {
        let mut f = vec![0u8; 12];
        for _ in 0..10 {
            f.extend_from_slice(&[0x81, 0x00, 0x00, 0x01]);
        }
        let n = parse(LinkType::ETHERNET, &f).unwrap();
        assert_eq!(n.ether_type, ETHERTYPE_VLAN);
    }

    #[test]
    fn sll2_direction_and_protocol() {
        let mut f = vec![0u8; 20];
        f[0] = 0x86;
        f[1] = 0xDD;
        f[10] = 4;
        f.push(0x60);
        let n = parse(LinkType::LINUX_SLL2, &f).unwrap();
        assert_eq!(n.ether_type, ETHERTYPE_IPV6);
        assert_eq!(n.direction, Direction::Outbound);
        assert_eq!(n.payload, &[0x60]);
    }

    #[test]
    fn sll_inbound() {
        let mut f = vec![0u8; 16];
        f[14] = 0x08;
        let n = parse(LinkType::LINUX_SLL, &f).unwrap();
        assert_eq!(
            (n.ether_type, n.direction),
            (ETHERTYPE_IPV4, Direction::Inbound)
        );
    }

    #[test]
    fn raw_and_loopback() {
        assert_eq!(
            parse(LinkType::RAW, &[0x45]).unwrap().ether_type,
            ETHERTYPE_IPV4
        );
        assert_eq!(
            parse(LinkType::IPV6, &[0x60]).unwrap().ether_type,
            ETHERTYPE_IPV6
        );
        assert_eq!(parse(LinkType::RAW, &[]).unwrap().ether_type, 0);
        assert_eq!(
            parse(LinkType::NULL, &[2, 0, 0, 0, 0x45])
                .unwrap()
                .ether_type,
            ETHERTYPE_IPV4
        );
        assert_eq!(
            parse(LinkType::NULL, &[0, 0, 0, 30]).unwrap().ether_type,
            ETHERTYPE_IPV6
        );
        assert_eq!(
            parse(LinkType::LOOP, &[0, 0, 0, 2]).unwrap().ether_type,
            ETHERTYPE_IPV4
        );
        assert_eq!(parse(LinkType::NULL, &[2]), Err(LinkError::Truncated));
        assert_eq!(parse(LinkType(239), &[0; 40]), Err(LinkError::Unsupported));
    }
}
