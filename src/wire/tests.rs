//! Hand-made byte fixtures for the reader (and writer round trips).
//!
//! Fixtures are built here field by field from the pcap and pcapng
//! specifications, independently of the reader's parsing code.

use std::io::{self, Read};

use super::{
    CUSTOM_BLOCK_COPYABLE, CUSTOM_BLOCK_NO_COPY, Direction, Endian, Format, Interface,
    InterfaceStats, LinkType, Nanos, Reader, Record, WireError, Writer,
};

// ---- fixture builders -------------------------------------------------------

fn u16b(e: Endian, v: u16) -> [u8; 2] {
    match e {
        Endian::Little => v.to_le_bytes(),
        Endian::Big => v.to_be_bytes(),
    }
}

fn u32b(e: Endian, v: u32) -> [u8; 4] {
    match e {
        Endian::Little => v.to_le_bytes(),
        Endian::Big => v.to_be_bytes(),
    }
}

fn u64b(e: Endian, v: u64) -> [u8; 8] {
    match e {
        Endian::Little => v.to_le_bytes(),
        Endian::Big => v.to_be_bytes(),
    }
}

fn pcap_header(e: Endian, nanos: bool, major: u16, snaplen: u32, link: u32) -> Vec<u8> {
    let magic = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
    let mut v = Vec::new();
    v.extend(u32b(e, magic));
    v.extend(u16b(e, major));
    v.extend(u16b(e, 4));
    v.extend(u32b(e, 0));
    v.extend(u32b(e, 0));
    v.extend(u32b(e, snaplen));
    v.extend(u32b(e, link));
    v
}

fn pcap_record(e: Endian, secs: u32, frac: u32, data: &[u8], orig_len: u32) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend(u32b(e, secs));
    v.extend(u32b(e, frac));
    v.extend(u32b(e, data.len() as u32));
    v.extend(u32b(e, orig_len));
    v.extend(data);
    v
}

fn pad(v: &mut Vec<u8>) {
    while !v.len().is_multiple_of(4) {
        v.push(0);
    }
}

/// A whole block: type, total length, body (padded), total length.
fn block(e: Endian, block_type: u32, body: &[u8]) -> Vec<u8> {
    let mut body = body.to_vec();
    pad(&mut body);
    let len = body.len() as u32 + 12;
    let mut v = Vec::new();
    v.extend(u32b(e, block_type));
    v.extend(u32b(e, len));
    v.extend(body);
    v.extend(u32b(e, len));
    v
}

/// An options list with its end marker; empty input gives no bytes at all.
fn options(e: Endian, opts: &[(u16, &[u8])]) -> Vec<u8> {
    let mut v = Vec::new();
    if opts.is_empty() {
        return v;
    }
    for (code, value) in opts {
        v.extend(u16b(e, *code));
        v.extend(u16b(e, value.len() as u16));
        v.extend(*value);
        pad(&mut v);
    }
    v.extend([0, 0, 0, 0]);
    v
}

fn shb(e: Endian) -> Vec<u8> {
    shb_version(e, 1)
}

fn shb_version(e: Endian, major: u16) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(u32b(e, 0x1a2b_3c4d));
    body.extend(u16b(e, major));
    body.extend(u16b(e, 0));
    body.extend(u64b(e, u64::MAX));
    block(e, 0x0a0d_0d0a, &body)
}

fn idb(e: Endian, link: u16, snaplen: u32, opts: &[(u16, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(u16b(e, link));
    body.extend(u16b(e, 0));
    body.extend(u32b(e, snaplen));
    body.extend(options(e, opts));
    block(e, 1, &body)
}

fn epb(e: Endian, id: u32, ts: u64, data: &[u8], orig_len: u32, flags: Option<u32>) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(u32b(e, id));
    body.extend(u32b(e, (ts >> 32) as u32));
    body.extend(u32b(e, ts as u32));
    body.extend(u32b(e, data.len() as u32));
    body.extend(u32b(e, orig_len));
    body.extend(data);
    pad(&mut body);
    if let Some(f) = flags {
        body.extend(options(e, &[(2, &u32b(e, f))]));
    }
    block(e, 6, &body)
}

fn spb(e: Endian, orig_len: u32, data: &[u8]) -> Vec<u8> {
    let mut body = u32b(e, orig_len).to_vec();
    body.extend(data);
    block(e, 3, &body)
}

fn isb(e: Endian, id: u32, ts: u64, opts: &[(u16, u64)]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(u32b(e, id));
    body.extend(u32b(e, (ts >> 32) as u32));
    body.extend(u32b(e, ts as u32));
    let values: Vec<(u16, [u8; 8])> = opts.iter().map(|&(c, v)| (c, u64b(e, v))).collect();
    let refs: Vec<(u16, &[u8])> = values.iter().map(|(c, v)| (*c, &v[..])).collect();
    body.extend(options(e, &refs));
    block(e, 5, &body)
}

fn custom(e: Endian, block_type: u32, pen: u32, data: &[u8]) -> Vec<u8> {
    let mut body = u32b(e, pen).to_vec();
    body.extend(data);
    block(e, block_type, &body)
}

fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

// ---- reading helpers --------------------------------------------------------

/// An owned copy of a record, for comparisons.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Rec {
    Packet {
        interface: usize,
        link: u16,
        ts: u64,
        orig_len: u32,
        data: Vec<u8>,
        direction: Direction,
    },
    Interface(usize),
    Stats(InterfaceStats),
    Custom {
        pen: u32,
        copyable: bool,
        data: Vec<u8>,
    },
}

fn own(r: &Record<'_>) -> Rec {
    match *r {
        Record::Packet(p) => Rec::Packet {
            interface: p.interface,
            link: p.link_type.0,
            ts: p.ts.0,
            orig_len: p.orig_len,
            data: p.data.to_vec(),
            direction: p.direction,
        },
        Record::Interface(i) => Rec::Interface(i),
        Record::Stats(s) => Rec::Stats(s),
        Record::Custom(c) => Rec::Custom {
            pen: c.pen,
            copyable: c.copyable,
            data: c.data.to_vec(),
        },
    }
}

/// Every record, then the error that ended the stream (if any).
fn drain<R: Read>(reader: &mut Reader<R>) -> (Vec<Rec>, Option<WireError>) {
    let mut out = Vec::new();
    loop {
        match reader.next_record() {
            Ok(Some(r)) => out.push(own(&r)),
            Ok(None) => return (out, None),
            Err(e) => {
                assert!(
                    matches!(reader.next_record(), Ok(None)),
                    "records after an error"
                );
                return (out, Some(e));
            }
        }
    }
}

fn read_all(bytes: &[u8]) -> (Vec<Rec>, Option<WireError>) {
    let mut reader = Reader::new(bytes).expect("header");
    drain(&mut reader)
}

fn packet(interface: usize, link: u16, ts: u64, data: &[u8], direction: Direction) -> Rec {
    Rec::Packet {
        interface,
        link,
        ts,
        orig_len: data.len() as u32,
        data: data.to_vec(),
        direction,
    }
}

/// Hands out at most `n` bytes per `read`, with an `Interrupted` before each.
struct Trickle<'a> {
    data: &'a [u8],
    n: usize,
    interrupt: bool,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.interrupt = !self.interrupt;
        if self.interrupt {
            return Err(io::ErrorKind::Interrupted.into());
        }
        let k = self.n.min(buf.len()).min(self.data.len());
        buf[..k].copy_from_slice(&self.data[..k]);
        self.data = &self.data[k..];
        Ok(k)
    }
}

fn read_trickle(bytes: &[u8], n: usize) -> (Vec<Rec>, Option<WireError>) {
    let source = Trickle {
        data: bytes,
        n,
        interrupt: false,
    };
    match Reader::new(source) {
        Ok(mut reader) => drain(&mut reader),
        Err(e) => (Vec::new(), Some(e)),
    }
}

const L: Endian = Endian::Little;
const B: Endian = Endian::Big;

// ---- classic pcap -----------------------------------------------------------

#[test]
fn pcap_micro_and_nano_in_both_byte_orders() {
    for e in [L, B] {
        for nanos in [false, true] {
            // The upper 16 bits of the link type field (FCS length) are ignored.
            let mut bytes = pcap_header(e, nanos, 2, 4, 0x1000_0001);
            bytes.extend(pcap_record(e, 1_700_000_000, 123_456, b"abcdefgh", 60));
            bytes.extend(pcap_record(e, 7, 999_999, b"", 0));
            let mut reader = Reader::new(&bytes[..]).unwrap();
            let big_endian = e == B;
            assert_eq!(reader.format(), Format::Pcap { nanos, big_endian });
            let (records, err) = drain(&mut reader);
            assert!(err.is_none(), "{err:?}");
            let frac_ns = if nanos { 123_456 } else { 123_456_000 };
            let second_ns = if nanos { 999_999 } else { 999_999_000 };
            assert_eq!(
                records,
                vec![
                    Rec::Interface(0),
                    Rec::Packet {
                        interface: 0,
                        link: 1,
                        ts: 1_700_000_000 * 1_000_000_000 + frac_ns,
                        orig_len: 60,
                        // caplen 8 exceeds snaplen 4: accepted as it is.
                        data: b"abcdefgh".to_vec(),
                        direction: Direction::Unknown,
                    },
                    packet(0, 1, 7_000_000_000 + second_ns, b"", Direction::Unknown),
                ]
            );
            assert_eq!(
                reader.interfaces(),
                &[Interface {
                    link_type: LinkType::ETHERNET,
                    snaplen: 4,
                    name: None,
                    description: None,
                }]
            );
            let c = reader.counters();
            assert_eq!((c.packets, c.bytes), (2, bytes.len() as u64));
        }
    }
}

#[test]
fn pcap_largest_timestamp_does_not_overflow() {
    let mut bytes = pcap_header(L, false, 2, 0, 1);
    bytes.extend(pcap_record(L, u32::MAX, u32::MAX, b"x", 1));
    let (records, err) = read_all(&bytes);
    assert!(err.is_none());
    let expected = u64::from(u32::MAX) * 1_000_000_000 + u64::from(u32::MAX) * 1000;
    assert_eq!(records[1], packet(0, 1, expected, b"x", Direction::Unknown));
}

#[test]
fn empty_pcap_announces_its_interface_only() {
    let (records, err) = read_all(&pcap_header(B, false, 2, 65535, 101));
    assert!(err.is_none());
    assert_eq!(records, vec![Rec::Interface(0)]);
}

// ---- pcapng -----------------------------------------------------------------

fn simple_section(e: Endian) -> Vec<u8> {
    cat(&[
        shb(e),
        idb(
            e,
            1,
            262_144,
            &[(2, b"eth0"), (3, b"pod network\0"), (9, &[9])],
        ),
        epb(e, 0, 1_500_000_000_123_456_789, b"inbound", 7, Some(1)),
        epb(e, 0, 1_500_000_000_123_456_790, b"out", 3, Some(2)),
        epb(e, 0, 5, b"plain", 5, None),
        epb(e, 0, 6, b"both bits", 9, Some(3 | 0xff00)),
    ])
}

#[test]
fn pcapng_in_both_byte_orders() {
    for e in [L, B] {
        let bytes = simple_section(e);
        let mut reader = Reader::new(&bytes[..]).unwrap();
        assert_eq!(reader.format(), Format::Pcapng);
        let (records, err) = drain(&mut reader);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(
            records,
            vec![
                Rec::Interface(0),
                packet(
                    0,
                    1,
                    1_500_000_000_123_456_789,
                    b"inbound",
                    Direction::Inbound
                ),
                packet(0, 1, 1_500_000_000_123_456_790, b"out", Direction::Outbound),
                packet(0, 1, 5, b"plain", Direction::Unknown),
                packet(0, 1, 6, b"both bits", Direction::Unknown),
            ]
        );
        assert_eq!(
            reader.interfaces(),
            &[Interface {
                link_type: LinkType::ETHERNET,
                snaplen: 262_144,
                name: Some("eth0".into()),
                description: Some("pod network".into()),
            }]
        );
        let c = reader.counters();
        assert_eq!((c.sections, c.packets, c.bytes), (1, 4, bytes.len() as u64));
    }
}

#[test]
fn sections_with_other_byte_orders_renumber_interfaces() {
    let bytes = cat(&[
        shb(L),
        idb(L, 1, 0, &[(2, b"a"), (9, &[9])]),
        idb(L, 276, 0, &[(2, b"b"), (9, &[9])]),
        epb(L, 1, 10, b"b0", 2, None),
        epb(L, 0, 11, b"a0", 2, None),
        shb(B),
        idb(B, 101, 0, &[(2, b"c"), (9, &[9])]),
        epb(B, 0, 12, b"c0", 2, Some(2)),
        // Interface 1 of the second section was never declared.
        epb(B, 1, 13, b"??", 2, None),
        isb(B, 0, 14, &[(4, 99)]),
    ]);
    let mut reader = Reader::new(&bytes[..]).unwrap();
    let (records, err) = drain(&mut reader);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        records,
        vec![
            Rec::Interface(0),
            Rec::Interface(1),
            packet(1, 276, 10, b"b0", Direction::Unknown),
            packet(0, 1, 11, b"a0", Direction::Unknown),
            Rec::Interface(2),
            packet(2, 101, 12, b"c0", Direction::Outbound),
            Rec::Stats(InterfaceStats {
                interface: 2,
                ts: Nanos(14),
                received: Some(99),
                dropped: None,
                os_dropped: None,
            }),
        ]
    );
    let names: Vec<_> = reader
        .interfaces()
        .iter()
        .map(|i| i.name.clone().unwrap())
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
    let c = reader.counters();
    assert_eq!((c.sections, c.unknown_interface, c.packets), (2, 1, 3));
}

/// The timestamp of a one-packet section whose interface has these IDB options.
fn ts_with(opts: &[(u16, &[u8])], raw: u64) -> u64 {
    let bytes = cat(&[shb(L), idb(L, 1, 0, opts), epb(L, 0, raw, b"", 0, None)]);
    let (records, err) = read_all(&bytes);
    assert!(err.is_none(), "{err:?}");
    match &records[1] {
        Rec::Packet { ts, .. } => *ts,
        other => panic!("{other:?}"),
    }
}

/// The `if_tsresol` byte for units of `2^-e` seconds.
fn pow2(e: u8) -> u8 {
    0x80 + e
}

#[test]
fn timestamp_resolutions() {
    // Without if_tsresol the unit is a microsecond.
    assert_eq!(ts_with(&[], 1_234_567), 1_234_567_000);
    assert_eq!(ts_with(&[(9, &[6])], 1_234_567), 1_234_567_000);
    assert_eq!(ts_with(&[(9, &[9])], 1_234_567), 1_234_567);
    assert_eq!(ts_with(&[(9, &[3])], 42), 42_000_000);
    assert_eq!(ts_with(&[(9, &[0])], 2), 2_000_000_000);
    // Picoseconds: finer than nanoseconds, divide.
    assert_eq!(ts_with(&[(9, &[12])], 5_000_123), 5_000);
    // 2^-10 s units: 3.5 s.
    assert_eq!(ts_with(&[(9, &[pow2(10)])], 3 * 1024 + 512), 3_500_000_000);
    // 2^-30 s units.
    assert_eq!(ts_with(&[(9, &[pow2(30)])], 1 << 30), 1_000_000_000);
    assert_eq!(ts_with(&[(9, &[pow2(0)])], 3), 3_000_000_000);
    // Extremes saturate or vanish, never overflow.
    assert_eq!(ts_with(&[(9, &[0])], u64::MAX), u64::MAX);
    assert_eq!(ts_with(&[(9, &[pow2(0)])], u64::MAX), u64::MAX);
    assert_eq!(ts_with(&[(9, &[127])], u64::MAX), 0);
    assert_eq!(ts_with(&[(9, &[28])], u64::MAX), u64::MAX / 10u64.pow(19));
    assert_eq!(ts_with(&[(9, &[29])], u64::MAX), 0);
    assert_eq!(ts_with(&[(9, &[0xff])], u64::MAX), 0);
    assert_eq!(ts_with(&[(9, &[pow2(64)])], u64::MAX), 999_999_999);
}

#[test]
fn timestamp_offset_in_seconds() {
    let plus = 100i64.to_le_bytes();
    assert_eq!(ts_with(&[(9, &[9]), (14, &plus)], 7), 100_000_000_007);
    let minus = (-5i64).to_le_bytes();
    assert_eq!(
        ts_with(&[(14, &minus), (9, &[9])], 6_000_000_000),
        1_000_000_000
    );
    assert_eq!(ts_with(&[(14, &minus)], 1), 0);
    let huge = i64::MAX.to_le_bytes();
    assert_eq!(ts_with(&[(14, &huge)], 1), u64::MAX);
    let most_negative = i64::MIN.to_le_bytes();
    assert_eq!(ts_with(&[(9, &[0]), (14, &most_negative)], u64::MAX), 0);
}

#[test]
fn simple_packet_blocks() {
    for e in [L, B] {
        let bytes = cat(&[
            shb(e),
            // No interface yet: the SPB cannot be placed.
            spb(e, 3, b"abc"),
            idb(e, 1, 0, &[]),
            spb(e, 5, b"hello"),
            // The block holds 6 bytes + 2 padding, the packet was 100 long.
            spb(e, 100, b"trunc!"),
            shb(e),
            idb(e, 101, 4, &[]),
            // Snap length 4 cuts the data.
            spb(e, 10, b"0123456789"),
        ]);
        let mut reader = Reader::new(&bytes[..]).unwrap();
        let (records, err) = drain(&mut reader);
        assert!(err.is_none(), "{err:?}");
        let with_orig = |interface, link, data: &[u8], orig_len| Rec::Packet {
            interface,
            link,
            ts: 0,
            orig_len,
            data: data.to_vec(),
            direction: Direction::Unknown,
        };
        assert_eq!(
            records,
            vec![
                Rec::Interface(0),
                with_orig(0, 1, b"hello", 5),
                with_orig(0, 1, b"trunc!\0\0", 100),
                Rec::Interface(1),
                with_orig(1, 101, b"0123", 10),
            ]
        );
        assert_eq!(reader.counters().unknown_interface, 1);
    }
}

#[test]
fn obsolete_packet_block() {
    let mut body = Vec::new();
    body.extend(u16b(B, 0)); // interface id
    body.extend(u16b(B, 0)); // drops count
    body.extend(u32b(B, 0));
    body.extend(u32b(B, 77));
    body.extend(u32b(B, 3));
    body.extend(u32b(B, 40));
    body.extend(b"old\0");
    body.extend(options(B, &[(2, &u32b(B, 1))]));
    let bytes = cat(&[shb(B), idb(B, 1, 0, &[(9, &[9])]), block(B, 2, &body)]);
    let (records, err) = read_all(&bytes);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        records[1],
        Rec::Packet {
            interface: 0,
            link: 1,
            ts: 77,
            orig_len: 40,
            data: b"old".to_vec(),
            direction: Direction::Inbound,
        }
    );
}

#[test]
fn interface_statistics() {
    for e in [L, B] {
        let bytes = cat(&[
            shb(e),
            idb(e, 1, 0, &[]),
            isb(e, 0, 2_000_001, &[(4, 1000), (5, 7), (7, 1 << 40), (2, 5)]),
            isb(e, 0, 3, &[(5, 0)]),
            isb(e, 0, 4, &[]),
            isb(e, 9, 5, &[(4, 1)]),
        ]);
        let mut reader = Reader::new(&bytes[..]).unwrap();
        let (records, err) = drain(&mut reader);
        assert!(err.is_none(), "{err:?}");
        let stats = |ts, received, dropped, os_dropped| {
            Rec::Stats(InterfaceStats {
                interface: 0,
                ts: Nanos(ts),
                received,
                dropped,
                os_dropped,
            })
        };
        assert_eq!(
            records,
            vec![
                Rec::Interface(0),
                stats(2_000_001_000, Some(1000), Some(7), Some(1 << 40)),
                stats(3000, None, Some(0), None),
                stats(4000, None, None, None),
            ]
        );
        assert_eq!(reader.counters().unknown_interface, 1);
    }
}

#[test]
fn custom_blocks_of_both_types() {
    for e in [L, B] {
        let bytes = cat(&[
            shb(e),
            custom(e, CUSTOM_BLOCK_COPYABLE, 32473, b"hello, podtap"),
            custom(e, CUSTOM_BLOCK_NO_COPY, 7, b""),
            custom(e, CUSTOM_BLOCK_NO_COPY, 8, b"abcd"),
        ]);
        let (records, err) = read_all(&bytes);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(
            records,
            vec![
                Rec::Custom {
                    pen: 32473,
                    copyable: true,
                    data: b"hello, podtap\0\0\0".to_vec(),
                },
                Rec::Custom {
                    pen: 7,
                    copyable: false,
                    data: Vec::new(),
                },
                Rec::Custom {
                    pen: 8,
                    copyable: false,
                    data: b"abcd".to_vec(),
                },
            ]
        );
    }
}

#[test]
fn unknown_blocks_are_skipped_and_counted() {
    let bytes = cat(&[
        shb(L),
        block(L, 4, &[1, 0, 4, 0, 1, 2, 3, 4, 0, 0, 0, 0]), // name resolution
        idb(L, 1, 0, &[]),
        block(L, 0x0000_000A, b"decryption secrets"),
        block(L, 0x8000_0001, b""), // local use
        epb(L, 0, 1, b"x", 1, None),
        epb(L, 3, 1, b"nobody", 6, None),
    ]);
    let mut reader = Reader::new(&bytes[..]).unwrap();
    let (records, err) = drain(&mut reader);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        records,
        vec![
            Rec::Interface(0),
            packet(0, 1, 1000, b"x", Direction::Unknown)
        ]
    );
    let c = reader.counters();
    assert_eq!(
        (c.skipped_blocks, c.unknown_interface, c.packets),
        (3, 1, 1)
    );
}

#[test]
fn damaged_options_cost_nothing_else() {
    // An option length that runs past the block: the packet stays, no direction.
    let mut body = Vec::new();
    body.extend(u32b(L, 0));
    body.extend(u32b(L, 0));
    body.extend(u32b(L, 9));
    body.extend(u32b(L, 1));
    body.extend(u32b(L, 1));
    body.extend(b"z\0\0\0");
    body.extend(u16b(L, 2));
    body.extend(u16b(L, 400));
    body.extend(u32b(L, 1));
    let bytes = cat(&[
        shb(L),
        idb(L, 1, 0, &[(2, &[0xff, b'x']), (9, &[9])]),
        block(L, 6, &body),
    ]);
    let mut reader = Reader::new(&bytes[..]).unwrap();
    let (records, err) = drain(&mut reader);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(records[1], packet(0, 1, 9, b"z", Direction::Unknown));
    assert_eq!(reader.interfaces()[0].name.as_deref(), Some("\u{fffd}x"));
}

// ---- errors -----------------------------------------------------------------

/// A source whose every read fails.
struct Broken;

impl Read for Broken {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::Error::other("disk on fire"))
    }
}

fn open_err(bytes: &[u8]) -> WireError {
    match Reader::new(bytes) {
        Ok(_) => panic!("accepted {bytes:02x?}"),
        Err(e) => e,
    }
}

#[test]
fn errors_when_opening() {
    assert!(matches!(open_err(b""), WireError::Empty));
    assert!(matches!(
        open_err(b"GET / HTTP/1.1\r\n"),
        WireError::NotACapture { magic } if &magic == b"GET "
    ));
    assert!(matches!(
        open_err(b"hi\n"),
        WireError::NotACapture { magic } if magic == *b"hi\n\0"
    ));
    assert!(matches!(
        open_err(&[0xd4, 0xc3]),
        WireError::Truncated { offset: 0 }
    ));
    assert!(matches!(
        open_err(&pcap_header(L, false, 2, 0, 1)[..20]),
        WireError::Truncated { offset: 0 }
    ));
    assert!(matches!(
        open_err(&pcap_header(B, true, 1, 0, 1)),
        WireError::UnsupportedVersion {
            format: "pcap",
            major: 1,
            minor: 4
        }
    ));
    assert!(matches!(
        open_err(&shb_version(B, 2)),
        WireError::UnsupportedVersion {
            format: "pcapng",
            major: 2,
            minor: 0
        }
    ));
    assert!(matches!(
        open_err(&shb(L)[..20]),
        WireError::Truncated { offset: 0 }
    ));
    let mut bad_bom = shb(L);
    bad_bom[8] = 0;
    assert!(matches!(
        open_err(&bad_bom),
        WireError::Malformed {
            offset: 0,
            reason: "bad byte-order magic"
        }
    ));
    let short_shb = block(L, 0x0a0d_0d0a, &u32b(L, 0x1a2b_3c4d));
    assert!(matches!(
        open_err(&short_shb),
        WireError::Malformed { offset: 0, .. }
    ));
    assert!(matches!(Reader::new(Broken), Err(WireError::Io(_))));
}

/// Reads `bytes` and returns the number of packets before the error, and the error.
fn stream_err(bytes: &[u8]) -> (usize, WireError) {
    let (records, err) = read_all(bytes);
    let packets = records
        .iter()
        .filter(|r| matches!(r, Rec::Packet { .. }))
        .count();
    (packets, err.expect("an error"))
}

#[test]
fn malformed_pcap_record() {
    let mut bytes = pcap_header(L, false, 2, 65535, 1);
    bytes.extend(pcap_record(L, 1, 1, b"ok", 2));
    let bad = bytes.len() as u64;
    bytes.extend(u32b(L, 1));
    bytes.extend(u32b(L, 1));
    bytes.extend(u32b(L, 256 * 1024 * 1024 + 1));
    bytes.extend(u32b(L, 1));
    let (packets, err) = stream_err(&bytes);
    assert_eq!(packets, 1);
    assert!(
        matches!(err, WireError::Malformed { offset, .. } if offset == bad),
        "{err:?}"
    );
}

#[test]
fn malformed_pcapng_blocks() {
    let good = cat(&[shb(L), idb(L, 1, 0, &[]), epb(L, 0, 1, b"ok", 2, None)]);
    let at = good.len() as u64;
    let with_header = |len: u32| {
        let mut v = good.clone();
        v.extend(u32b(L, 6));
        v.extend(u32b(L, len));
        v.extend(vec![0; 64]);
        v
    };
    let mut mismatch = good.clone();
    let mut last = epb(L, 0, 1, b"x", 1, None);
    let n = last.len();
    last[n - 4] ^= 4;
    mismatch.extend(last);
    let mut overlong = good.clone();
    let mut last = epb(L, 0, 1, b"abcd", 4, None);
    last[20] = 9; // captured length 9 > 4 bytes of data
    overlong.extend(last);
    let mut short = good.clone();
    short.extend(block(L, 6, &[0; 8]));
    let mut no_pen = good.clone();
    no_pen.extend(block(L, CUSTOM_BLOCK_COPYABLE, &[]));
    let mut bad_section = good.clone();
    bad_section.extend(shb_version(B, 3));
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (with_header(8), "block length below 12"),
        (with_header(30), "block length not a multiple of 4"),
        (
            with_header(256 * 1024 * 1024 + 4),
            "block length over 256 MiB",
        ),
        (mismatch, "trailing block length differs from leading"),
        (overlong, "captured length exceeds the block"),
        (short, "packet block too short"),
        (no_pen, "custom block without PEN"),
    ];
    for (bytes, expected) in cases {
        let (packets, err) = stream_err(&bytes);
        assert_eq!(packets, 1, "{expected}");
        assert!(
            matches!(err, WireError::Malformed { offset, reason } if offset == at && reason == expected),
            "{expected}: {err:?}"
        );
    }
    let (packets, err) = stream_err(&bad_section);
    assert_eq!(packets, 1);
    assert!(matches!(
        err,
        WireError::UnsupportedVersion {
            format: "pcapng",
            major: 3,
            ..
        }
    ));
}

#[test]
fn truncated_header_and_body() {
    let mut pcap = pcap_header(L, true, 2, 0, 1);
    pcap.extend(pcap_record(L, 1, 2, b"first", 5));
    let boundary = pcap.len();
    pcap.extend(pcap_record(L, 3, 4, b"second packet", 13));
    let ng = simple_section(B);
    let ng_boundary = ng.len() - epb(B, 0, 6, b"both bits", 9, Some(3 | 0xff00)).len();
    for (bytes, boundary, packets) in [(&pcap, boundary, 1), (&ng, ng_boundary, 3)] {
        // Cut inside the next record's header, and inside its body.
        for cut in [boundary + 1, boundary + 7, boundary + 17, bytes.len() - 1] {
            let (got, err) = stream_err(&bytes[..cut]);
            assert_eq!(got, packets, "cut at {cut}");
            assert!(
                matches!(err, WireError::Truncated { offset } if offset == boundary as u64),
                "cut at {cut}: {err:?}"
            );
        }
        // A cut at the boundary is a clean end.
        let (records, err) = read_all(&bytes[..boundary]);
        assert!(err.is_none());
        assert_eq!(
            records
                .iter()
                .filter(|r| matches!(r, Rec::Packet { .. }))
                .count(),
            packets
        );
    }
}

// ---- sources ----------------------------------------------------------------

fn mixed_stream() -> Vec<u8> {
    let mut parts = vec![simple_section(L), simple_section(B)];
    parts.push(isb(B, 0, 1, &[(4, 5), (5, 6)]));
    parts.push(custom(B, CUSTOM_BLOCK_COPYABLE, 1, b"custom"));
    parts.push(epb(B, 0, 2, &[0xaa; 3000], 3000, Some(2)));
    parts.concat()
}

#[test]
fn one_byte_reads_give_the_same_records() {
    let pcapng = mixed_stream();
    let mut pcap = pcap_header(B, false, 2, 0, 1);
    for i in 0..50u8 {
        pcap.extend(pcap_record(
            B,
            u32::from(i),
            1,
            &vec![i; usize::from(i)],
            100,
        ));
    }
    for bytes in [pcapng, pcap] {
        let whole = read_all(&bytes);
        assert!(whole.1.is_none());
        assert!(whole.0.len() > 5);
        for n in [1, 3, 4096] {
            let trickled = read_trickle(&bytes, n);
            assert_eq!(trickled.0, whole.0, "{n} bytes per read");
            assert!(trickled.1.is_none());
        }
        // Truncated streams end the same way too.
        let cut = &bytes[..bytes.len() - 2];
        let (whole, err) = read_all(cut);
        let (trickled, terr) = read_trickle(cut, 1);
        assert_eq!(whole, trickled);
        assert_eq!(format!("{err:?}"), format!("{terr:?}"));
    }
}

#[test]
fn records_across_buffer_refills_and_larger_than_the_buffer() {
    let mut bytes = pcap_header(L, false, 2, 0, 1);
    let mut expected = vec![Rec::Interface(0)];
    for i in 0..6000u32 {
        // Odd sizes so that records straddle every refill; some huge ones.
        let len = if i % 1000 == 999 {
            700_001
        } else {
            (i % 300) as usize + 1
        };
        let data: Vec<u8> = (0..len).map(|k| (k as u32 ^ i) as u8).collect();
        bytes.extend(pcap_record(L, i, 0, &data, len as u32));
        expected.push(packet(
            0,
            1,
            u64::from(i) * 1_000_000_000,
            &data,
            Direction::Unknown,
        ));
    }
    assert_eq!(read_all(&bytes).0, expected);
    assert_eq!(read_trickle(&bytes, 10_007).0, expected);
}

/// Gives its bytes once, then fails: a pipe whose writer has not written more yet.
struct Pipe<'a> {
    data: &'a [u8],
}

impl Read for Pipe<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.data.is_empty() {
            return Err(io::Error::other("read past the bytes available"));
        }
        let k = buf.len().min(self.data.len());
        buf[..k].copy_from_slice(&self.data[..k]);
        self.data = &self.data[k..];
        Ok(k)
    }
}

#[test]
fn never_waits_for_bytes_beyond_the_record() {
    let bytes = simple_section(L);
    let mut reader = Reader::new(Pipe { data: &bytes }).unwrap();
    let mut packets = 0;
    while packets < 4 {
        match reader.next_record() {
            Ok(Some(Record::Packet(_))) => packets += 1,
            Ok(Some(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    assert!(matches!(reader.next_record(), Err(WireError::Io(_))));
    assert!(matches!(reader.next_record(), Ok(None)));

    let mut pcap = pcap_header(L, false, 2, 0, 1);
    pcap.extend(pcap_record(L, 1, 1, b"only", 4));
    let mut reader = Reader::new(Pipe { data: &pcap }).unwrap();
    assert!(matches!(
        reader.next_record(),
        Ok(Some(Record::Interface(0)))
    ));
    assert!(matches!(reader.next_record(), Ok(Some(Record::Packet(p))) if p.data == b"only"));
}

// ---- writer round trip ------------------------------------------------------

#[test]
fn writer_output_reads_back_the_same() {
    let eth0 = Interface {
        link_type: LinkType::ETHERNET,
        snaplen: 262_144,
        name: Some("eth0".into()),
        description: Some("pod eth0".into()),
    };
    let lo = Interface {
        link_type: LinkType::LINUX_SLL2,
        snaplen: 0,
        name: Some("lo".into()),
        description: None,
    };
    let anon = Interface {
        link_type: LinkType::RAW,
        snaplen: 96,
        name: None,
        description: None,
    };
    let mut w = Writer::with_comment(Vec::new(), Some("round trip")).unwrap();
    for iface in [&eth0, &lo, &anon] {
        w.add_interface(iface).unwrap();
    }
    let packets = [
        (
            0u32,
            1_700_000_000_123_456_789u64,
            60u32,
            &b"abc"[..],
            Direction::Inbound,
        ),
        (
            1,
            1_700_000_001_000_000_000,
            5,
            b"hello",
            Direction::Outbound,
        ),
        (2, 0, 0, b"", Direction::Unknown),
        (0, u64::MAX, 1500, &[7u8; 1500][..], Direction::Unknown),
        (2, 3, 2, b"xyz", Direction::Inbound), // orig_len below caplen: raised
    ];
    for (iface, ts, orig, data, dir) in packets {
        w.write_packet(iface, Nanos(ts), orig, data, dir).unwrap();
    }
    let stats = InterfaceStats {
        interface: 1,
        ts: Nanos(1_700_000_002_000_000_001),
        received: Some(10),
        dropped: Some(2),
        os_dropped: None,
    };
    w.write_stats(&stats).unwrap();
    let empty_stats = InterfaceStats {
        interface: 0,
        ..InterfaceStats::default()
    };
    w.write_stats(&empty_stats).unwrap();
    w.write_custom(32473, true, b"{\"hello\":1}!").unwrap();
    w.write_custom(32473, false, b"ping").unwrap();
    let bytes = w.into_inner();

    let mut reader = Reader::new(&bytes[..]).unwrap();
    let (records, err) = drain(&mut reader);
    assert!(err.is_none(), "{err:?}");
    let mut expected: Vec<Rec> = (0..3).map(Rec::Interface).collect();
    for (iface, ts, orig, data, dir) in packets {
        expected.push(Rec::Packet {
            interface: iface as usize,
            link: [1, 276, 101][iface as usize],
            ts,
            orig_len: orig.max(data.len() as u32),
            data: data.to_vec(),
            direction: dir,
        });
    }
    expected.push(Rec::Stats(stats));
    expected.push(Rec::Stats(empty_stats));
    expected.push(Rec::Custom {
        pen: 32473,
        copyable: true,
        data: b"{\"hello\":1}!".to_vec(),
    });
    expected.push(Rec::Custom {
        pen: 32473,
        copyable: false,
        data: b"ping".to_vec(),
    });
    assert_eq!(records, expected);
    assert_eq!(reader.interfaces(), &[eth0, lo, anon]);
    let c = reader.counters();
    assert_eq!(
        (c.sections, c.skipped_blocks, c.bytes),
        (1, 0, bytes.len() as u64)
    );
}
