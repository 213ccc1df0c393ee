//! The headless front end end to end: the `podtap` binary's exit codes and
//! messages, and the decoded results of a synthetic capture against the
//! generator's own ground truth.

use std::io::Write;
use std::process::{Command, Stdio};

use podtap::decode::PipelineConfig;
use podtap::headless::{self, Format};
use podtap::synth::{self, SynthConfig};
use serde_json::Value;

fn capture(packets: u64, seed: u64) -> (Vec<u8>, synth::Summary) {
    let config = SynthConfig {
        seed,
        packets: Some(packets),
        ..SynthConfig::default()
    };
    let mut bytes = Vec::new();
    let summary = synth::write_pcapng(&config, &mut bytes).expect("generate");
    (bytes, summary)
}

/// Runs podtap with no kubeconfig and an empty home (no config file), like a fresh machine.
fn podtap(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let home = std::env::temp_dir().join(format!("podtap-headless-home-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_podtap"))
        .args(args)
        .env("HOME", &home)
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("XDG_CONFIG_HOME")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run podtap");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn synthetic_traffic_decodes_to_the_generators_ground_truth() {
    for seed in [1, 7] {
        let (bytes, truth) = capture(20_000, seed);
        let mut out = Vec::new();
        let summary = headless::run(
            &bytes[..],
            &mut out,
            Format::Json,
            PipelineConfig::default(),
        )
        .unwrap();
        assert!(summary.error.is_none());
        let lines: Vec<Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let exchanges: Vec<&Value> = lines.iter().filter(|l| l["type"] == "exchange").collect();
        assert_eq!(
            exchanges.len() as u64,
            truth.http_requests,
            "seed {seed}: requests"
        );
        let answered: Vec<u64> = exchanges
            .iter()
            .filter_map(|x| x["status"].as_u64())
            .collect();
        assert_eq!(
            answered.len() as u64,
            truth.http_responses,
            "seed {seed}: responses"
        );
        let class = |c: u64| answered.iter().filter(|s| **s / 100 == c).count() as u64;
        assert_eq!(
            (class(2), class(3), class(4), class(5)),
            (
                truth.http_2xx,
                truth.http_3xx,
                truth.http_4xx,
                truth.http_5xx
            ),
            "seed {seed}: status classes"
        );
        let replies = lines
            .iter()
            .filter(|l| l["type"] == "ping" && l["outcome"] == "reply")
            .count() as u64;
        assert_eq!(
            replies, truth.icmp_echo_replies,
            "seed {seed}: ping replies"
        );
        let st = &summary.stats;
        assert_eq!(st.packets, truth.packets);
        assert_eq!(st.decode_errors(), 0);
        assert_eq!(
            st.reassembly.gaps, 0,
            "seed {seed}: no bytes are lost in synthetic traffic"
        );
        let retrans: u64 = lines
            .iter()
            .filter(|l| l["type"] == "flow")
            .map(|f| {
                f["client_to_server"]["retransmissions"].as_u64().unwrap()
                    + f["server_to_client"]["retransmissions"].as_u64().unwrap()
            })
            .sum();
        assert_eq!(
            retrans, truth.tcp_retransmissions,
            "seed {seed}: retransmissions"
        );
    }
}

#[test]
fn stdin_json_has_every_documented_field() {
    let (bytes, _) = capture(3_000, 3);
    let (code, stdout, stderr) = podtap(&["--read", "-", "--no-tui"], &bytes);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let first = |t: &str| {
        lines
            .iter()
            .find(|l| l["type"] == t)
            .unwrap_or_else(|| panic!("no {t} line"))
    };
    let x = first("exchange");
    for field in ["method", "path", "host", "status", "latency_ms", "flow"] {
        assert!(x.get(field).is_some(), "exchange lacks {field}: {x}");
    }
    let p = first("ping");
    for field in ["target", "seq", "rtt_ms"] {
        assert!(p.get(field).is_some(), "ping lacks {field}: {p}");
    }
    let f = first("flow");
    for field in [
        "client",
        "server",
        "state",
        "client_to_server",
        "server_to_client",
    ] {
        assert!(f.get(field).is_some(), "flow lacks {field}: {f}");
    }
    let s = lines.last().unwrap();
    assert_eq!(s["type"], "summary");
    for field in [
        "packets",
        "bytes",
        "flows",
        "exchanges",
        "decode_errors",
        "drops",
        "complete",
    ] {
        assert!(s.get(field).is_some(), "summary lacks {field}: {s}");
    }
    assert_eq!(s["packets"], 3000);
}

#[test]
fn table_format_is_for_people() {
    let (bytes, _) = capture(2_000, 4);
    let (code, stdout, _) = podtap(&["-r", "-", "--no-tui", "--format", "table"], &bytes);
    assert_eq!(code, 0);
    assert!(stdout.starts_with("TIME"), "{stdout}");
    assert!(stdout.contains("2000 packets"), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.contains(" GET ") && l.contains("/api/"))
    );
}

#[test]
fn damaged_input_prints_what_came_before_and_exits_1() {
    let (bytes, _) = capture(2_000, 5);
    let cut = &bytes[..bytes.len() - 37];
    let (code, stdout, stderr) = podtap(&["--read", "-", "--no-tui"], cut);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("truncated"), "{stderr}");
    let last: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last["complete"], false);
    assert_eq!(last["packets"], 1999);
}

#[test]
fn bad_inputs_get_one_clear_line_and_exit_2() {
    let cases: [(&[&str], &[u8], &str); 6] = [
        (
            &["--read", "/nonexistent/x.pcap", "--no-tui"],
            b"",
            "cannot open",
        ),
        (&["--read", "-", "--no-tui"], b"", "empty"),
        (
            &["--read", "-", "--no-tui"],
            b"GET / HTTP/1.1\r\n\r\n",
            "not a pcap or pcapng",
        ),
        (&["--read", "-"], b"", "--no-tui"),
        // No source flag means cluster mode: without a kubeconfig, say so and offer the demo.
        (&[], b"", "no kubeconfig found"),
        (&[], b"", "podtap --demo"),
    ];
    for (args, input, needle) in cases {
        let (code, stdout, stderr) = podtap(args, input);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: one line: {stderr}");
        assert!(
            stderr.starts_with("podtap: ") && stderr.contains(needle),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    let (bytes, _) = capture(5_000, 6);
    let mut child = Command::new(env!("CARGO_BIN_EXE_podtap"))
        .args(["--read", "-", "--no-tui"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let _ = child.stdin.take().unwrap().write_all(&bytes);
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn capture_drops_from_statistics_blocks_reach_the_summary() {
    use podtap::wire::{Interface, InterfaceStats, LinkType, Nanos, Writer};
    let mut w = Writer::new(Vec::new()).unwrap();
    for name in ["eth0", "lo"] {
        let iface = Interface {
            link_type: LinkType::ETHERNET,
            snaplen: 262_144,
            name: Some(name.into()),
            description: None,
        };
        w.add_interface(&iface).unwrap();
    }
    let stats = |interface, ts, dropped, os_dropped| InterfaceStats {
        interface,
        ts: Nanos(ts),
        received: Some(100),
        dropped: Some(dropped),
        os_dropped: Some(os_dropped),
    };
    // Counters are cumulative: only the latest block of each interface counts.
    w.write_stats(&stats(0, 1, 5, 2)).unwrap();
    w.write_stats(&stats(0, 2, 7, 3)).unwrap();
    w.write_stats(&stats(1, 3, 1, 0)).unwrap();
    let bytes = w.into_inner();
    let mut out = Vec::new();
    let summary = headless::run(
        &bytes[..],
        &mut out,
        Format::Json,
        PipelineConfig::default(),
    )
    .unwrap();
    assert_eq!(summary.capture_dropped, 11);
    let last: Value =
        serde_json::from_str(String::from_utf8(out).unwrap().lines().last().unwrap()).unwrap();
    assert_eq!(last["capture_dropped"], 11);
}
