//! The synthetic capture, checked by independent readers: tshark must see
//! exactly the traffic the generator says it wrote, and capinfos must accept it.

mod common;

use std::path::PathBuf;
use std::process::Command;

use podtap::synth::{Summary, SynthConfig, write_pcapng};

/// Writes a small capture to a temporary file and returns its path and ground truth.
fn small_capture(name: &str) -> (PathBuf, Summary) {
    let path =
        std::env::temp_dir().join(format!("podtap-synth-{}-{name}.pcapng", std::process::id()));
    let config = SynthConfig {
        seed: 42,
        connections: 40,
        packets: Some(5000),
        ..SynthConfig::default()
    };
    let file = std::fs::File::create(&path).expect("create the capture file");
    let summary = write_pcapng(&config, file).expect("write the capture");
    (path, summary)
}

/// Packets matching a display filter; a filter tshark rejects fails the test
/// (an empty answer must never come from a typo).
fn count(file: &std::path::Path, filter: &str) -> u64 {
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(file)
        .args(["-Y", filter, "-T", "fields", "-e", "frame.number"])
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "tshark -Y {filter:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).lines().count() as u64
}

#[test]
fn synth_capture_is_exactly_what_tshark_sees() {
    if !common::tool("tshark") {
        return;
    }
    let (file, summary) = small_capture("tshark");
    assert_eq!(summary.packets, 5000);
    assert_eq!(count(&file, "frame"), summary.packets);

    let methods = common::tshark(
        &file,
        &[
            "-Y",
            "http.request",
            "-T",
            "fields",
            "-e",
            "http.request.method",
        ],
    );
    assert_eq!(methods.len() as u64, summary.http_requests, "HTTP requests");
    for verb in ["GET", "POST", "PUT", "DELETE"] {
        assert!(
            methods.iter().any(|m| m == verb),
            "no {verb} request in {summary}"
        );
    }
    assert_eq!(
        count(&file, "http.response"),
        summary.http_responses,
        "HTTP responses"
    );
    for (class, expected) in [
        (
            "http.response.code >= 200 && http.response.code < 300",
            summary.http_2xx,
        ),
        (
            "http.response.code >= 300 && http.response.code < 400",
            summary.http_3xx,
        ),
        (
            "http.response.code >= 400 && http.response.code < 500",
            summary.http_4xx,
        ),
        ("http.response.code >= 500", summary.http_5xx),
    ] {
        assert_eq!(count(&file, class), expected, "{class}");
    }

    let retransmissions = count(&file, "tcp.analysis.retransmission");
    assert!(retransmissions > 0, "no retransmission in {summary}");
    assert_eq!(retransmissions, summary.tcp_retransmissions);
    assert_eq!(
        count(&file, "tcp.analysis.out_of_order"),
        summary.tcp_reordered
    );
    assert_eq!(
        count(&file, "tcp.flags.syn == 1 && tcp.flags.ack == 0"),
        summary.tcp_connections
    );
    assert_eq!(count(&file, "tcp.flags.reset == 1"), summary.tcp_resets);

    // Nothing is malformed and no expert error fires. The reordered segments do
    // raise warnings ("previous segment not captured", "out-of-order") and
    // resets raise "connection reset", which is what they are there for.
    assert_eq!(count(&file, "_ws.malformed"), 0, "malformed packets");
    assert_eq!(
        count(&file, "_ws.expert.severity == error"),
        0,
        "expert errors"
    );
    assert_eq!(
        count(&file, "http && _ws.expert.severity >= warning"),
        0,
        "HTTP warnings"
    );

    assert_eq!(
        count(&file, "icmp.type == 8"),
        summary.icmp_echo_requests,
        "echo requests"
    );
    assert_eq!(
        count(&file, "icmp.type == 0"),
        summary.icmp_echo_replies,
        "echo replies"
    );
    assert!(summary.icmp_echo_requests > 0);
    assert_eq!(
        count(&file, "dns.flags.response == 0"),
        summary.dns_queries,
        "DNS queries"
    );
    assert_eq!(
        count(&file, "dns.flags.response == 1"),
        summary.dns_responses,
        "DNS responses"
    );

    let _ = std::fs::remove_file(&file);
}

#[test]
fn synth_capture_is_accepted_by_capinfos() {
    if !common::tool("capinfos") {
        return;
    }
    let (file, summary) = small_capture("capinfos");
    let out = Command::new("capinfos")
        .arg("-c")
        .arg("-M")
        .arg(&file)
        .output()
        .expect("run capinfos");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "capinfos failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let packets = text
        .lines()
        .find_map(|l| l.strip_prefix("Number of packets:"))
        .map(|v| v.trim().parse::<u64>().expect("a packet count"));
    assert_eq!(packets, Some(summary.packets));
    let _ = std::fs::remove_file(&file);
}
