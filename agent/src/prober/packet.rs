//! ICMP and ICMPv6 echo packets: building requests, and deciding whether a
//! received packet or error-queue entry answers one of ours.
//!
//! Pure: bytes in, values out. No sockets here, so every case is tested with
//! hand-made packets.

use std::io;

/// Starts every podtap echo payload, so stray packets never match.
pub(crate) const MAGIC: [u8; 8] = *b"podtap\x01\x00";
/// Payload after the 8-byte ICMP header: magic, cookie, send time.
pub(crate) const PAYLOAD_LEN: usize = 24;
/// ICMP and ICMPv6 header length for echo messages.
const HEADER_LEN: usize = 8;

/// One echo request in flight, and what a matching answer must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Echo {
    /// ICMPv6 instead of ICMP.
    pub v6: bool,
    /// The identifier, or `None` when the kernel picks and checks it (ping sockets).
    pub id: Option<u16>,
    /// Sequence number (the probe number, wrapping).
    pub seq: u16,
    /// Random per target, so another podtap's probes never match.
    pub cookie: u64,
    /// Send time (ns since the epoch): a late reply from 65536 probes ago differs.
    pub sent_ns: u64,
}

/// What a received packet means for the probe in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The echo reply to our request.
    Reply,
    /// A destination-unreachable error about our request.
    Unreachable(String),
    /// Another ICMP error (time exceeded, ...) about our request.
    Failed(String),
    /// Not about our request: someone else's traffic, or an earlier probe.
    Unrelated,
}

impl Echo {
    fn request_type(&self) -> u8 {
        if self.v6 { 128 } else { 8 }
    }

    fn reply_type(&self) -> u8 {
        if self.v6 { 129 } else { 0 }
    }

    fn payload(&self) -> [u8; PAYLOAD_LEN] {
        let mut p = [0; PAYLOAD_LEN];
        p[..8].copy_from_slice(&MAGIC);
        p[8..16].copy_from_slice(&self.cookie.to_be_bytes());
        p[16..].copy_from_slice(&self.sent_ns.to_be_bytes());
        p
    }

    /// The request to send (ICMPv6 checksum left to the kernel, which always fills it).
    pub(crate) fn request(&self) -> Vec<u8> {
        let mut p = vec![0; HEADER_LEN + PAYLOAD_LEN];
        p[0] = self.request_type();
        p[4..6].copy_from_slice(&self.id.unwrap_or(0).to_be_bytes());
        p[6..8].copy_from_slice(&self.seq.to_be_bytes());
        p[HEADER_LEN..].copy_from_slice(&self.payload());
        if !self.v6 {
            let sum = checksum(&p);
            p[2..4].copy_from_slice(&sum.to_be_bytes());
        }
        p
    }

    /// True if `icmp` is an echo message of type `kind` for this probe. A
    /// `quoted` message (inside an ICMP error) may be cut short.
    fn is_ours(&self, icmp: &[u8], kind: u8, quoted: bool) -> bool {
        let [ty, code, _, _, i0, i1, s0, s1, payload @ ..] = icmp else {
            return false;
        };
        let expected = self.payload();
        let n = payload.len().min(PAYLOAD_LEN);
        *ty == kind
            && *code == 0
            && self
                .id
                .is_none_or(|id| id == u16::from_be_bytes([*i0, *i1]))
            && self.seq == u16::from_be_bytes([*s0, *s1])
            && (n == PAYLOAD_LEN || quoted)
            && payload[..n] == expected[..n]
    }

    /// Classifies a packet from the socket; `ipv4_header` for raw IPv4 sockets,
    /// which deliver the IP header too.
    pub(crate) fn classify(&self, packet: &[u8], ipv4_header: bool) -> Verdict {
        let icmp = if ipv4_header {
            match strip_ipv4(packet) {
                Some(icmp) => icmp,
                None => return Verdict::Unrelated,
            }
        } else {
            packet
        };
        let [ty, code, _, _, _, _, _, _, quoted @ ..] = icmp else {
            return Verdict::Unrelated;
        };
        if *ty == self.reply_type() {
            return if self.is_ours(icmp, *ty, false) {
                Verdict::Reply
            } else {
                Verdict::Unrelated
            };
        }
        let is_error = if self.v6 {
            matches!(ty, 1..=4)
        } else {
            matches!(ty, 3 | 11 | 12)
        };
        let inner = if self.v6 {
            strip_ipv6(quoted)
        } else {
            strip_ipv4(quoted)
        };
        if is_error && inner.is_some_and(|m| self.is_ours(m, self.request_type(), true)) {
            self.icmp_error(*ty, *code)
        } else {
            Verdict::Unrelated
        }
    }

    /// Classifies an error-queue entry of a ping socket (`IP_RECVERR`): `data`
    /// is our request as sent, `control` the ancillary data.
    pub(crate) fn classify_queued(&self, data: &[u8], control: &[u8]) -> Verdict {
        let Some(err) = extended_error(control) else {
            return Verdict::Unrelated;
        };
        if !self.is_ours(data, self.request_type(), true) {
            return Verdict::Unrelated;
        }
        match err.origin {
            libc::SO_EE_ORIGIN_ICMP | libc::SO_EE_ORIGIN_ICMP6 => {
                self.icmp_error(err.icmp_type, err.code)
            }
            _ => {
                let text = io::Error::from_raw_os_error(err.errno).to_string();
                if matches!(err.errno, libc::EHOSTUNREACH | libc::ENETUNREACH) {
                    Verdict::Unreachable(text)
                } else {
                    Verdict::Failed(text)
                }
            }
        }
    }

    fn icmp_error(&self, ty: u8, code: u8) -> Verdict {
        let (text, unreachable) = describe(self.v6, ty, code);
        let proto = if self.v6 { "ICMPv6" } else { "ICMP" };
        let detail = format!("{text} ({proto} type {ty} code {code})");
        if unreachable {
            Verdict::Unreachable(detail)
        } else {
            Verdict::Failed(detail)
        }
    }
}

/// Words for an ICMP error, and whether it is a destination-unreachable.
fn describe(v6: bool, ty: u8, code: u8) -> (&'static str, bool) {
    match (v6, ty, code) {
        (false, 3, 0) => ("network unreachable", true),
        (false, 3, 1) => ("host unreachable", true),
        (false, 3, 2) => ("protocol unreachable", true),
        (false, 3, 3) | (true, 1, 4) => ("port unreachable", true),
        (false, 3, 4) => ("fragmentation needed", true),
        (false, 3, 9 | 10 | 13) | (true, 1, 1) => ("administratively prohibited", true),
        (true, 1, 0) => ("no route to destination", true),
        (true, 1, 3) => ("address unreachable", true),
        (false, 3, _) | (true, 1, _) => ("destination unreachable", true),
        (false, 11, _) | (true, 3, _) => ("time exceeded", false),
        (false, 12, _) | (true, 4, _) => ("parameter problem", false),
        (true, 2, _) => ("packet too big", false),
        _ => ("ICMP error", false),
    }
}

/// The ICMP message inside an IPv4 packet carrying ICMP.
fn strip_ipv4(packet: &[u8]) -> Option<&[u8]> {
    let first = *packet.first()?;
    let header_len = usize::from(first & 0x0f) * 4;
    (first >> 4 == 4 && header_len >= 20 && *packet.get(9)? == 1)
        .then(|| packet.get(header_len..))
        .flatten()
}

/// The ICMPv6 message inside an IPv6 packet (no extension headers: we send none).
fn strip_ipv6(packet: &[u8]) -> Option<&[u8]> {
    (*packet.first()? >> 4 == 6 && *packet.get(6)? == 58)
        .then(|| packet.get(40..))
        .flatten()
}

/// The Internet checksum (RFC 1071).
pub(crate) fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The fields of a `sock_extended_err` the prober uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ExtendedError {
    errno: i32,
    origin: u8,
    icmp_type: u8,
    code: u8,
}

/// Finds the `IP_RECVERR`/`IPV6_RECVERR` message in ancillary data.
fn extended_error(control: &[u8]) -> Option<ExtendedError> {
    let word = size_of::<usize>();
    let header = size_of::<libc::cmsghdr>();
    let align = |n: usize| n.div_ceil(word) * word;
    let mut off = 0;
    while let Some(h) = control.get(off..off + header) {
        // cmsg_len is the first word; level and type are the two ints at the end.
        let len = usize::from_ne_bytes(h[..word].try_into().ok()?);
        let level = i32::from_ne_bytes(h[header - 8..header - 4].try_into().ok()?);
        let kind = i32::from_ne_bytes(h[header - 4..].try_into().ok()?);
        if len < header {
            return None;
        }
        let is_recverr = (level == libc::SOL_IP && kind == libc::IP_RECVERR)
            || (level == libc::SOL_IPV6 && kind == libc::IPV6_RECVERR);
        if is_recverr {
            let data = control.get(off + align(header)..off + len)?;
            let [e0, e1, e2, e3, origin, icmp_type, code, ..] = *data else {
                return None;
            };
            return Some(ExtendedError {
                errno: i32::from_ne_bytes([e0, e1, e2, e3]),
                origin,
                icmp_type,
                code,
            });
        }
        off += align(len);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const V4: Echo = Echo {
        v6: false,
        id: Some(0x1234),
        seq: 7,
        cookie: 0xdead_beef_0bad_f00d,
        sent_ns: 1_700_000_000_123_456_789,
    };
    const V6: Echo = Echo { v6: true, ..V4 };

    /// The reply a peer sends: the request with the reply type.
    fn reply(echo: &Echo) -> Vec<u8> {
        let mut p = echo.request();
        p[0] = echo.reply_type();
        p
    }

    fn ipv4(payload: &[u8]) -> Vec<u8> {
        let mut h = vec![
            0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 1, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1,
        ];
        let total = (h.len() + payload.len()) as u16;
        h[2..4].copy_from_slice(&total.to_be_bytes());
        h.extend_from_slice(payload);
        h
    }

    fn ipv6(payload: &[u8]) -> Vec<u8> {
        let mut h = vec![0x60, 0, 0, 0];
        h.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        h.extend_from_slice(&[58, 64]);
        h.extend_from_slice(&[0xfd; 32]);
        h.extend_from_slice(payload);
        h
    }

    /// An ICMP error of `ty`/`code` quoting `quoted` (an IP packet).
    fn icmp_error(ty: u8, code: u8, quoted: &[u8]) -> Vec<u8> {
        let mut p = vec![ty, code, 0, 0, 0, 0, 0, 0];
        p.extend_from_slice(quoted);
        p
    }

    #[test]
    fn request_layout_and_checksum() {
        let p = V4.request();
        assert_eq!(p.len(), 32);
        assert_eq!(&p[..2], &[8, 0]);
        assert_eq!(&p[4..8], &[0x12, 0x34, 0, 7]);
        assert_eq!(&p[8..16], b"podtap\x01\x00");
        assert_eq!(&p[16..24], &0xdead_beef_0bad_f00d_u64.to_be_bytes());
        assert_eq!(checksum(&p), 0, "a packet with its checksum sums to zero");
        let p6 = V6.request();
        assert_eq!(
            &p6[..4],
            &[128, 0, 0, 0],
            "the kernel fills the ICMPv6 checksum"
        );
        let kernel_id = Echo { id: None, ..V4 }.request();
        assert_eq!(&kernel_id[4..6], &[0, 0]);
    }

    #[test]
    fn checksum_of_odd_length() {
        assert_eq!(checksum(&[0xff]), !0xff00);
        assert_eq!(checksum(&[]), 0xffff);
    }

    #[test]
    fn replies() {
        let cases: [(&str, Echo, Vec<u8>, bool, Verdict); 12] = [
            ("v4 reply", V4, reply(&V4), false, Verdict::Reply),
            (
                "v4 reply behind IP header",
                V4,
                ipv4(&reply(&V4)),
                true,
                Verdict::Reply,
            ),
            (
                "IP header not expected",
                V4,
                ipv4(&reply(&V4)),
                false,
                Verdict::Unrelated,
            ),
            (
                "IP header expected",
                V4,
                reply(&V4),
                true,
                Verdict::Unrelated,
            ),
            ("v6 reply", V6, reply(&V6), false, Verdict::Reply),
            (
                "wrong id",
                V4,
                reply(&Echo { id: Some(1), ..V4 }),
                false,
                Verdict::Unrelated,
            ),
            (
                "kernel-checked id",
                Echo { id: None, ..V4 },
                reply(&V4),
                false,
                Verdict::Reply,
            ),
            (
                "wrong seq",
                V4,
                reply(&Echo { seq: 6, ..V4 }),
                false,
                Verdict::Unrelated,
            ),
            (
                "wrong cookie",
                V4,
                reply(&Echo { cookie: 1, ..V4 }),
                false,
                Verdict::Unrelated,
            ),
            (
                "same seq 65536 probes ago",
                V4,
                reply(&Echo {
                    sent_ns: V4.sent_ns - 1,
                    ..V4
                }),
                false,
                Verdict::Unrelated,
            ),
            (
                "our own request (raw socket)",
                V4,
                ipv4(&V4.request()),
                true,
                Verdict::Unrelated,
            ),
            (
                "v4 reply to a v6 probe",
                V6,
                reply(&V4),
                false,
                Verdict::Unrelated,
            ),
        ];
        for (name, echo, packet, ipv4_header, want) in cases {
            assert_eq!(echo.classify(&packet, ipv4_header), want, "{name}");
        }
    }

    #[test]
    fn truncated_and_foreign_packets() {
        let full = reply(&V4);
        for len in 0..full.len() {
            assert_eq!(
                V4.classify(&full[..len], false),
                Verdict::Unrelated,
                "{len}"
            );
        }
        let mut no_magic = full.clone();
        no_magic[8] = b'P';
        assert_eq!(V4.classify(&no_magic, false), Verdict::Unrelated);
        let mut code = full;
        code[1] = 1;
        assert_eq!(V4.classify(&code, false), Verdict::Unrelated);
        let mut udp = ipv4(&reply(&V4));
        udp[9] = 17;
        assert_eq!(V4.classify(&udp, true), Verdict::Unrelated);
    }

    #[test]
    fn errors_quoting_our_probe() {
        let host_unreachable = Verdict::Unreachable("host unreachable (ICMP type 3 code 1)".into());
        let quoted = ipv4(&V4.request());
        let err = icmp_error(3, 1, &quoted);
        assert_eq!(V4.classify(&ipv4(&err), true), host_unreachable);
        assert_eq!(V4.classify(&err, false), host_unreachable);
        // RFC 792 routers quote only 8 bytes of the datagram: no cookie to check.
        let short = icmp_error(3, 1, &quoted[..28]);
        assert_eq!(V4.classify(&short, false), host_unreachable);
        let exceeded = icmp_error(11, 0, &quoted);
        assert_eq!(
            V4.classify(&exceeded, false),
            Verdict::Failed("time exceeded (ICMP type 11 code 0)".into())
        );
        let v6 = icmp_error(1, 3, &ipv6(&V6.request()));
        assert_eq!(
            V6.classify(&v6, false),
            Verdict::Unreachable("address unreachable (ICMPv6 type 1 code 3)".into())
        );
    }

    #[test]
    fn errors_about_other_packets() {
        let others = [
            (
                "another id",
                V4,
                icmp_error(3, 1, &ipv4(&Echo { id: Some(9), ..V4 }.request())),
            ),
            (
                "an earlier seq",
                V4,
                icmp_error(3, 1, &ipv4(&Echo { seq: 6, ..V4 }.request())),
            ),
            ("a reply quoted", V4, icmp_error(3, 1, &ipv4(&reply(&V4)))),
            (
                "another cookie",
                V4,
                icmp_error(3, 1, &ipv4(&Echo { cookie: 2, ..V4 }.request())),
            ),
            ("no quote", V4, icmp_error(3, 1, &[])),
            ("redirect", V4, icmp_error(5, 1, &ipv4(&V4.request()))),
            (
                "v4 quote in v6 error",
                V6,
                icmp_error(1, 3, &ipv4(&V6.request())),
            ),
            (
                "v6 quote, other seq",
                V6,
                icmp_error(1, 3, &ipv6(&Echo { seq: 8, ..V6 }.request())),
            ),
        ];
        for (name, echo, packet) in others {
            assert_eq!(echo.classify(&packet, false), Verdict::Unrelated, "{name}");
        }
    }

    /// Ancillary data as the kernel writes it: one `cmsghdr`, then `sock_extended_err`.
    fn control(level: i32, kind: i32, errno: i32, origin: u8, ty: u8, code: u8) -> Vec<u8> {
        let header = size_of::<libc::cmsghdr>();
        let mut data = errno.to_ne_bytes().to_vec();
        data.extend_from_slice(&[origin, ty, code, 0]);
        data.extend_from_slice(&[0; 8 + 16]); // ee_info, ee_data, offender address
        let mut c = vec![0; header];
        c[..size_of::<usize>()].copy_from_slice(&(header + data.len()).to_ne_bytes());
        c[header - 8..header - 4].copy_from_slice(&level.to_ne_bytes());
        c[header - 4..].copy_from_slice(&kind.to_ne_bytes());
        c.extend_from_slice(&data);
        c
    }

    #[test]
    fn error_queue_entries() {
        let ping = Echo { id: None, ..V4 };
        let sent = Echo {
            id: Some(4321),
            ..V4
        }
        .request();
        let icmp = control(libc::SOL_IP, libc::IP_RECVERR, libc::EHOSTUNREACH, 2, 3, 1);
        assert_eq!(
            ping.classify_queued(&sent, &icmp),
            Verdict::Unreachable("host unreachable (ICMP type 3 code 1)".into())
        );
        let earlier = Echo { seq: 6, ..ping };
        assert_eq!(earlier.classify_queued(&sent, &icmp), Verdict::Unrelated);
        let local = control(libc::SOL_IP, libc::IP_RECVERR, libc::ENETUNREACH, 1, 0, 0);
        assert!(matches!(
            ping.classify_queued(&sent, &local),
            Verdict::Unreachable(_)
        ));
        let other = control(libc::SOL_IP, libc::IP_RECVERR, libc::EMSGSIZE, 1, 0, 0);
        assert!(matches!(
            ping.classify_queued(&sent, &other),
            Verdict::Failed(_)
        ));
        let ping6 = Echo { id: None, ..V6 };
        let icmp6 = control(
            libc::SOL_IPV6,
            libc::IPV6_RECVERR,
            libc::EHOSTUNREACH,
            3,
            1,
            3,
        );
        assert!(matches!(
            ping6.classify_queued(&V6.request(), &icmp6),
            Verdict::Unreachable(_)
        ));
        let unrelated_cmsg = control(libc::SOL_SOCKET, libc::SO_TIMESTAMP, 0, 2, 3, 1);
        assert_eq!(
            ping.classify_queued(&sent, &unrelated_cmsg),
            Verdict::Unrelated
        );
        for len in 0..icmp.len() {
            assert_eq!(
                ping.classify_queued(&sent, &icmp[..len]),
                Verdict::Unrelated,
                "{len}"
            );
        }
    }
}
