//! `wire::Reader` against the third-party capture corpus, `Writer` output
//! against tshark and capinfos, and property tests over hostile bytes.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use podtap::wire::{
    Direction, Interface, InterfaceStats, LinkType, Nanos, Reader, Record, WireError, Writer,
};
use proptest::prelude::*;

/// What a reader delivered before the stream ended, and how it ended.
#[derive(Debug, Default)]
struct Outcome {
    /// `(ts, orig_len, data)` per packet.
    packets: Vec<(u64, u32, Vec<u8>)>,
    error: Option<WireError>,
}

fn read(bytes: &[u8]) -> Outcome {
    let mut out = Outcome::default();
    let mut reader = match Reader::new(bytes) {
        Ok(r) => r,
        Err(e) => {
            out.error = Some(e);
            return out;
        }
    };
    loop {
        match reader.next_record() {
            Ok(Some(Record::Packet(p))) => out.packets.push((p.ts.0, p.orig_len, p.data.to_vec())),
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => {
                out.error = Some(e);
                assert!(matches!(reader.next_record(), Ok(None)));
                break;
            }
        }
    }
    out
}

fn corpus_files() -> Vec<PathBuf> {
    let Some(dir) = common::captures_dir() else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read corpus")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no captures in the corpus");
    files
}

/// `capinfos -M -c`'s packet count, or `None` when capinfos rejects the file.
fn capinfos_count(file: &Path) -> Option<usize> {
    let out = Command::new("capinfos")
        .args(["-M", "-c"])
        .arg(file)
        .output()
        .expect("run capinfos");
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("Number of packets:"))
        .expect("capinfos packet count line");
    Some(line.rsplit(' ').next().unwrap().trim().parse().unwrap())
}

/// Lines of stderr that are about the file, not tshark's usual root warning.
fn real_warnings(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("Running as user"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn corpus_packet_counts_match_capinfos() {
    let files = corpus_files();
    if files.is_empty() || !common::tool("capinfos") {
        return;
    }
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        let outcome = read(&bytes);
        let name = file.file_name().unwrap().to_string_lossy();
        match capinfos_count(&file) {
            Some(count) => {
                assert!(outcome.error.is_none(), "{name}: {:?}", outcome.error);
                assert_eq!(outcome.packets.len(), count, "{name}");
            }
            None => assert!(
                outcome.error.is_some(),
                "{name}: capinfos rejects it, we did not"
            ),
        }
    }
}

#[test]
fn corpus_timestamps_and_lengths_match_tshark() {
    let files = corpus_files();
    if files.is_empty() || !common::tool("tshark") {
        return;
    }
    for file in files {
        let outcome = read(&std::fs::read(&file).unwrap());
        if outcome.error.is_some() {
            continue;
        }
        let name = file.file_name().unwrap().to_string_lossy();
        let lines = common::tshark(
            &file,
            &[
                "-T",
                "fields",
                "-e",
                "frame.time_epoch",
                "-e",
                "frame.cap_len",
                "-e",
                "frame.len",
            ],
        );
        assert_eq!(lines.len(), outcome.packets.len(), "{name}");
        for (line, (ts, orig_len, data)) in lines.iter().zip(&outcome.packets) {
            let fields: Vec<&str> = line.split('\t').collect();
            let (secs, frac) = fields[0].split_once('.').unwrap();
            let frac = format!("{frac:0<9}");
            let expected_ts: u64 =
                secs.parse::<u64>().unwrap() * 1_000_000_000 + frac[..9].parse::<u64>().unwrap();
            assert_eq!(*ts, expected_ts, "{name}: {line}");
            assert_eq!(data.len().to_string(), fields[1], "{name}: {line}");
            assert_eq!(orig_len.to_string(), fields[2], "{name}: {line}");
        }
    }
}

#[test]
fn empty_pcap_has_no_packets() {
    let Some(path) = common::capture("empty.pcap") else {
        return;
    };
    let bytes = std::fs::read(path).unwrap();
    let mut reader = Reader::new(&bytes[..]).unwrap();
    assert!(matches!(
        reader.next_record(),
        Ok(Some(Record::Interface(0)))
    ));
    assert!(matches!(reader.next_record(), Ok(None)));
    assert_eq!(reader.counters().packets, 0);
}

#[test]
fn invalid_version_is_rejected() {
    let Some(path) = common::capture("pcap-invalid-version-1.pcap") else {
        return;
    };
    let bytes = std::fs::read(path).unwrap();
    let result = Reader::new(&bytes[..]);
    assert!(
        matches!(
            result,
            Err(WireError::UnsupportedVersion {
                format: "pcap",
                major: 1,
                ..
            })
        ),
        "{:?}",
        result.err()
    );
}

/// Record offsets of a classic pcap file, found without the reader.
fn pcap_record_offsets(bytes: &[u8]) -> Vec<usize> {
    let little = bytes[..4] == [0xd4, 0xc3, 0xb2, 0xa1];
    let word = |at: usize| {
        let b: [u8; 4] = bytes[at..at + 4].try_into().unwrap();
        if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    };
    let mut offsets = Vec::new();
    let mut at = 24;
    while at < bytes.len() {
        offsets.push(at);
        at += 16 + word(at + 8) as usize;
    }
    assert_eq!(at, bytes.len(), "walked past the end");
    offsets
}

#[test]
fn corpus_file_cut_inside_a_record() {
    let Some(path) = common::capture("get.pcap") else {
        return;
    };
    let bytes = std::fs::read(path).unwrap();
    let whole = read(&bytes);
    assert!(whole.error.is_none());
    let offsets = pcap_record_offsets(&bytes);
    assert_eq!(offsets.len(), whole.packets.len());
    let k = offsets.len() / 2;
    let start = offsets[k];
    for cut in [start + 1, start + 10, start + 16 + 1, offsets[k + 1] - 1] {
        let outcome = read(&bytes[..cut]);
        assert_eq!(outcome.packets, whole.packets[..k], "cut at {cut}");
        assert!(
            matches!(outcome.error, Some(WireError::Truncated { offset }) if offset == start as u64),
            "cut at {cut}: {:?}",
            outcome.error
        );
    }
}

/// An Ethernet / IPv4 / UDP frame with `payload`.
fn udp_frame(payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00];
    let ip_len = (20 + 8 + payload.len()) as u16;
    let mut ip = vec![
        0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];
    ip[2..4].copy_from_slice(&ip_len.to_be_bytes());
    let sum = ip
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum::<u32>();
    let sum = !(((sum & 0xffff) + (sum >> 16)) as u16);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    f.extend(ip);
    f.extend(40000u16.to_be_bytes());
    f.extend(40001u16.to_be_bytes());
    f.extend((8 + payload.len() as u16).to_be_bytes());
    f.extend([0, 0]);
    f.extend(payload);
    f
}

/// A stream with several interfaces, directions, statistics and custom blocks.
fn sample_stream() -> (Vec<u8>, Vec<(&'static str, Direction)>) {
    let mut w = Writer::new(Vec::new()).unwrap();
    for name in ["eth0", "lo", "any"] {
        w.add_interface(&Interface {
            link_type: LinkType::ETHERNET,
            snaplen: 262_144,
            name: Some(name.into()),
            description: Some(format!("{name} in the pod")),
        })
        .unwrap();
    }
    w.write_custom(podtap::wire::PODTAP_PEN, true, br#"{"hello":"agent 0.1"}"#)
        .unwrap();
    let plan = [
        (0, "eth0", Direction::Inbound),
        (1, "lo", Direction::Outbound),
        (2, "any", Direction::Unknown),
        (0, "eth0", Direction::Outbound),
        (2, "any", Direction::Inbound),
    ];
    for (i, (iface, _, dir)) in plan.iter().enumerate() {
        let frame = udp_frame(format!("packet {i}").as_bytes());
        let ts = Nanos(1_700_000_000_000_000_000 + i as u64 * 1_000_123);
        w.write_packet(*iface, ts, frame.len() as u32, &frame, *dir)
            .unwrap();
    }
    w.write_stats(&InterfaceStats {
        interface: 0,
        ts: Nanos(1_700_000_001_000_000_000),
        received: Some(5),
        dropped: Some(1),
        os_dropped: Some(0),
    })
    .unwrap();
    w.write_custom(podtap::wire::PODTAP_PEN, false, b"ping 10.0.0.2 1.5ms")
        .unwrap();
    let expected = plan.iter().map(|&(_, name, dir)| (name, dir)).collect();
    (w.into_inner(), expected)
}

#[test]
fn writer_output_is_accepted_by_tshark_and_capinfos() {
    if !common::tool("tshark") || !common::tool("capinfos") {
        return;
    }
    let (bytes, expected) = sample_stream();
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wire-writer-sample.pcapng");
    std::fs::write(&path, &bytes).unwrap();

    let fields = [
        "frame.interface_id",
        "frame.interface_name",
        "frame.packet_flags_direction",
    ];
    let mut args = vec!["-n", "-T", "fields"];
    for f in fields {
        args.extend(["-e", f]);
    }
    let tshark = Command::new("tshark")
        .args(args)
        .arg("-r")
        .arg(&path)
        .output()
        .unwrap();
    assert!(tshark.status.success(), "tshark: {:?}", tshark.status);
    assert_eq!(real_warnings(&tshark.stderr), Vec::<String>::new());
    let stdout = String::from_utf8_lossy(&tshark.stdout);
    // tshark (4.x) lists custom blocks as frames too; they have no interface.
    let (packets, custom): (Vec<&str>, Vec<&str>) =
        stdout.lines().partition(|l| !l.starts_with('\t'));
    assert_eq!(custom.len(), 2, "{stdout}");
    let got: Vec<(String, String)> = packets
        .iter()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (
                f[1].to_owned(),
                f.get(2).copied().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = expected
        .iter()
        .map(|&(name, dir)| {
            let dir = match dir {
                Direction::Inbound => "0x00000001",
                Direction::Outbound => "0x00000002",
                Direction::Unknown => "",
            };
            (name.to_owned(), dir.to_owned())
        })
        .collect();
    assert_eq!(got, want);

    let capinfos = Command::new("capinfos").arg(&path).output().unwrap();
    assert!(capinfos.status.success(), "capinfos: {:?}", capinfos.status);
    assert_eq!(real_warnings(&capinfos.stderr), Vec::<String>::new());
    assert_eq!(capinfos_count(&path), Some(expected.len()));

    // And our own reader agrees with what tshark saw.
    let mut reader = Reader::new(&bytes[..]).unwrap();
    let mut seen = Vec::new();
    while let Some(record) = reader.next_record().unwrap() {
        if let Record::Packet(p) = record {
            seen.push((p.interface, p.direction));
        }
    }
    let names: Vec<_> = seen
        .iter()
        .map(|&(i, d)| (reader.interfaces()[i].name.clone().unwrap(), d))
        .collect();
    let want: Vec<_> = expected.iter().map(|&(n, d)| (n.to_owned(), d)).collect();
    assert_eq!(names, want);
}

/// Reads everything; the property is that this returns at all.
fn exhaust(bytes: &[u8]) {
    if let Ok(mut reader) = Reader::new(bytes) {
        let mut budget = bytes.len() + 2;
        while let Ok(Some(_)) = reader.next_record() {
            budget -= 1;
            assert!(budget > 0, "more records than bytes");
        }
        assert!(matches!(reader.next_record(), Ok(None)));
    }
}

fn pcap_prefix() -> Vec<u8> {
    let mut v = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
    v.extend([0; 8]);
    v.extend(65535u32.to_le_bytes());
    v.extend(1u32.to_le_bytes());
    v
}

fn pcapng_prefix(big_endian: bool) -> Vec<u8> {
    let w32 = |v: u32| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let w16 = |v: u16| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut v = Vec::new();
    // Section Header Block, version 1.0, section length unknown.
    v.extend(w32(0x0a0d_0d0a));
    v.extend(w32(28));
    v.extend(w32(0x1a2b_3c4d));
    v.extend(w16(1));
    v.extend(w16(0));
    v.extend([0xff; 8]);
    v.extend(w32(28));
    // One Ethernet interface without options, so that blocks naming id 0 are accepted.
    v.extend(w32(1));
    v.extend(w32(20));
    v.extend(w16(1));
    v.extend(w16(0));
    v.extend(w32(0));
    v.extend(w32(20));
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        exhaust(&bytes);
    }

    #[test]
    fn bytes_after_a_valid_header_never_panic(
        kind in 0..3u8,
        tail in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let mut bytes = match kind {
            0 => pcap_prefix(),
            1 => pcapng_prefix(false),
            _ => pcapng_prefix(true),
        };
        bytes.extend(tail);
        exhaust(&bytes);
    }

    #[test]
    fn mutated_writer_streams_never_panic(
        edits in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 0..8),
        cut in any::<proptest::sample::Index>(),
    ) {
        let (mut bytes, _) = sample_stream();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let len = cut.index(bytes.len() + 1);
        exhaust(&bytes[..len]);
    }

    #[test]
    fn writer_stream_cut_anywhere_keeps_every_whole_record(cut in any::<proptest::sample::Index>()) {
        let (bytes, expected) = sample_stream();
        let len = cut.index(bytes.len() + 1);
        let outcome = read(&bytes[..len]);
        prop_assert!(outcome.packets.len() <= expected.len());
        if len == bytes.len() {
            prop_assert!(outcome.error.is_none());
            prop_assert_eq!(outcome.packets.len(), expected.len());
        } else {
            let truncated = matches!(
                outcome.error,
                Some(WireError::Truncated { .. } | WireError::Empty) | None
            );
            prop_assert!(truncated, "{:?}", outcome.error);
        }
    }
}
