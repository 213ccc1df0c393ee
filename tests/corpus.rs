//! The third-party capture corpus through the whole headless pipeline,
//! checked against tshark's reading of the same files.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use podtap::decode::PipelineConfig;
use podtap::headless::{self, Format, HeadlessError};
use serde_json::Value;

/// Runs the headless pipeline on a file and returns its JSON lines.
fn podtap_lines(path: &Path) -> Result<Vec<Value>, HeadlessError> {
    let file = std::fs::File::open(path).expect("open capture");
    let mut out = Vec::new();
    headless::run(file, &mut out, Format::Json, PipelineConfig::default())?;
    Ok(String::from_utf8(out)
        .expect("utf-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect())
}

fn of_type<'a>(lines: &'a [Value], t: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["type"] == t).collect()
}

#[test]
fn every_corpus_file_goes_through() {
    let Some(dir) = common::captures_dir() else {
        return;
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("list corpus")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "corpus looks incomplete: {files:?}");
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        match podtap_lines(&path) {
            Ok(lines) => {
                let summary = lines.last().expect("a summary line");
                assert_eq!(
                    summary["type"], "summary",
                    "{name}: last line is the summary"
                );
                assert_eq!(of_type(&lines, "summary").len(), 1, "{name}");
            }
            Err(HeadlessError::Input(e)) => {
                assert_eq!(
                    name, "pcap-invalid-version-1.pcap",
                    "{name}: unexpected input error {e}"
                );
                assert!(e.to_string().contains("version"), "{name}: {e}");
            }
            Err(e) => panic!("{name}: {e}"),
        }
    }
}

/// (method, target, status) for every request tshark sees, status paired via `http.request_in`.
/// With `well_formed_only`, requests whose start line has no valid `HTTP/1.x`
/// version are left out (tshark shows them; podtap treats the flow as not HTTP).
fn tshark_exchanges(path: &Path, well_formed_only: bool) -> Vec<(String, String, Option<u16>)> {
    let mut args = vec!["-Y", "http.request", "-T", "fields", "-E", "separator=\t"];
    args.extend(["-e", "frame.number", "-e", "http.request.method"]);
    args.extend(["-e", "http.request.uri", "-e", "http.request.version"]);
    let mut requests = common::tshark(path, &args);
    if well_formed_only {
        requests.retain(|l| l.ends_with("\tHTTP/1.1") || l.ends_with("\tHTTP/1.0"));
    }
    let args = ["-Y", "http.response", "-T", "fields", "-E", "separator=\t"];
    let mut args = args.to_vec();
    args.extend(["-e", "http.request_in", "-e", "http.response.code"]);
    let mut status_by_request: BTreeMap<String, Vec<u16>> = BTreeMap::new();
    for line in common::tshark(path, &args) {
        let mut f = line.split('\t');
        let (Some(req), Some(code)) = (f.next(), f.next()) else {
            continue;
        };
        if let Ok(code) = code.parse::<u16>() {
            status_by_request
                .entry(req.to_owned())
                .or_default()
                .push(code);
        }
    }
    let mut out: Vec<_> = requests
        .iter()
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            // Interim 1xx responses are listed too; the final one is the last.
            let status = status_by_request
                .get(f[0])
                .and_then(|v| v.iter().copied().rfind(|c| *c >= 200 || *c == 101));
            (f[1].to_owned(), f.get(2).unwrap_or(&"").to_string(), status)
        })
        .collect();
    out.sort();
    out
}

fn podtap_exchanges(lines: &[Value]) -> Vec<(String, String, Option<u16>)> {
    let mut out: Vec<_> = of_type(lines, "exchange")
        .iter()
        .map(|x| {
            (
                x["method"].as_str().unwrap().to_owned(),
                x["path"].as_str().unwrap().to_owned(),
                x["status"].as_u64().map(|s| s as u16),
            )
        })
        .collect();
    out.sort();
    out
}

fn compare_with_tshark(name: &str, well_formed_only: bool) {
    let Some(path) = common::capture(name) else {
        return;
    };
    if !common::tool("tshark") {
        return;
    }
    let ours = podtap_exchanges(&podtap_lines(&path).expect("readable"));
    let theirs = tshark_exchanges(&path, well_formed_only);
    assert!(
        !theirs.is_empty(),
        "{name}: tshark found no HTTP; the comparison would be empty"
    );
    assert_eq!(
        ours, theirs,
        "{name}: podtap vs tshark (method, target, status)"
    );
}

#[test]
fn get_agrees_with_tshark() {
    compare_with_tshark("get.pcap", false);
}

#[test]
fn get_without_handshake_agrees_with_tshark() {
    compare_with_tshark("get_nosyn.pcap", false);
}

#[test]
fn keep_alive_requests_agree_with_tshark() {
    compare_with_tshark("pipelined-requests.pcap", false);
}

#[test]
fn vlan_tagged_get_agrees_with_tshark() {
    compare_with_tshark("http-vlan-0.pcap", false);
}

#[test]
fn expect_100_continue_agrees_with_tshark() {
    compare_with_tshark("100-continue.pcap", false);
}

#[test]
fn websocket_upgrade_agrees_with_tshark() {
    compare_with_tshark("websocket.pcap", false);
}

#[test]
fn methods_agree_with_tshark_on_well_formed_requests() {
    // methods.pcap also holds deliberately broken request lines ("GET /HTTP/1.1",
    // "GET / HTTP/1."), one per connection. tshark's dissector lists them as
    // requests; podtap's parser (httparse, like real servers) rejects them and
    // treats those flows as not HTTP. Every well-formed request must agree,
    // including CONNECT, TRACE, OPTIONS *, HEAD and the CCM_POST extension method.
    compare_with_tshark("methods.pcap", true);
}

#[test]
fn chunk_size_overflow_agrees_with_tshark() {
    // The response's chunk size overflows 2^64: tshark lists no response, and
    // podtap emits the request unanswered and counts the malformed chunk.
    compare_with_tshark("variant-01-chunk_2pow64_overflow.pcap", false);
}

/// (icmp seq, resptime in ms) for every reply tshark pairs.
fn tshark_rtts(path: &Path, seq_field: &str, rtt_field: &str) -> Vec<(u64, f64)> {
    let filter = rtt_field.to_owned();
    let lines = common::tshark(
        path,
        &[
            "-Y",
            &filter,
            "-T",
            "fields",
            "-E",
            "separator=\t",
            "-e",
            seq_field,
            "-e",
            rtt_field,
        ],
    );
    lines
        .iter()
        .map(|l| {
            let mut f = l.split('\t');
            let seq = f
                .next()
                .unwrap()
                .split(',')
                .next()
                .unwrap()
                .parse()
                .expect("seq");
            let rtt = f.next().unwrap().parse().expect("rtt");
            (seq, rtt)
        })
        .collect()
}

fn compare_ping_rtts(name: &str, seq_field: &str, rtt_field: &str) {
    let Some(path) = common::capture(name) else {
        return;
    };
    if !common::tool("tshark") {
        return;
    }
    let theirs = tshark_rtts(&path, seq_field, rtt_field);
    assert!(!theirs.is_empty(), "{name}: tshark paired no echo");
    let lines = podtap_lines(&path).expect("readable");
    let ours: Vec<(u64, f64)> = of_type(&lines, "ping")
        .iter()
        .filter(|p| p["outcome"] == "reply")
        .map(|p| (p["seq"].as_u64().unwrap(), p["rtt_ms"].as_f64().unwrap()))
        .collect();
    assert_eq!(
        ours.len(),
        theirs.len(),
        "{name}: replies {ours:?} vs tshark {theirs:?}"
    );
    for ((s1, r1), (s2, r2)) in ours.iter().zip(&theirs) {
        assert_eq!(s1, s2, "{name}: sequence");
        assert!(
            (r1 - r2).abs() < 0.001,
            "{name}: seq {s1}: rtt {r1} ms vs tshark {r2} ms"
        );
    }
}

#[test]
fn icmp_rtts_agree_with_tshark() {
    compare_ping_rtts("5-pings.pcap", "icmp.seq", "icmp.resptime");
}

#[test]
fn icmpv6_rtts_agree_with_tshark() {
    compare_ping_rtts(
        "icmp6-ping.pcap",
        "icmpv6.echo.sequence_number",
        "icmpv6.resptime",
    );
}

#[test]
fn a_truncated_file_yields_everything_before_the_damage() {
    let Some(path) = common::capture("pipelined-requests.pcap") else {
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    let whole = {
        let mut out = Vec::new();
        headless::run(
            &bytes[..],
            &mut out,
            Format::Json,
            PipelineConfig::default(),
        )
        .unwrap();
        out
    };
    let whole: Vec<Value> = String::from_utf8(whole)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Cut inside the last quarter, in the middle of a record.
    let cut = &bytes[..bytes.len() * 3 / 4 + 7];
    let mut out = Vec::new();
    let summary = headless::run(cut, &mut out, Format::Json, PipelineConfig::default()).unwrap();
    assert!(
        summary
            .error
            .as_ref()
            .is_some_and(|e| e.to_string().contains("truncated")),
        "{:?}",
        summary.error
    );
    let lines: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let last = lines.last().unwrap();
    assert_eq!(last["complete"], false);
    assert!(last["error"].as_str().unwrap().contains("truncated"));
    let before = of_type(&lines, "exchange").len();
    assert!(before >= 2, "exchanges before the cut are kept: {before}");
    assert!(before <= of_type(&whole, "exchange").len());
    assert!(last["packets"].as_u64().unwrap() < whole.last().unwrap()["packets"].as_u64().unwrap());
}
