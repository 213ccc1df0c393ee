//! The real agent binary in a network namespace, with real traffic: curl
//! against a real HTTP server, ping probes, filters, the lifecycle, and an
//! overload. Its stdout goes through podtap's own reader and decoder, and
//! tshark reads the same bytes.

mod netns;

use std::io::{Read, Write};
use std::net::IpAddr;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use netns::{Lab, require_root, require_tools};
use podtap::decode::flow::FlowInfo;
use podtap::decode::{Event, Pipeline, PipelineConfig};
use podtap::wire::agent::{AgentMessage, ProbeKind, ProbeOutcome, ProbeResult};
use podtap::wire::{PODTAP_PEN, Reader, Record};

const AGENT: &str = env!("CARGO_BIN_EXE_podtap-agent");

/// A running `podtap-agent capture` inside a namespace.
struct Agent {
    child: Child,
    stdin: Option<ChildStdin>,
    out: Arc<Mutex<Vec<u8>>>,
    reader: Option<thread::JoinHandle<()>>,
    err: Arc<Mutex<Vec<u8>>>,
}

impl Agent {
    /// Starts `podtap-agent capture ARGS` in network namespace `ns` and waits for its hello.
    fn start(ns: &str, args: &[&str]) -> Agent {
        let mut child = Command::new("ip")
            .args(["netns", "exec", ns, AGENT, "capture"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the agent");
        let out = Arc::new(Mutex::new(Vec::new()));
        let err = Arc::new(Mutex::new(Vec::new()));
        let mut stdout = child.stdout.take().unwrap();
        let sink = Arc::clone(&out);
        let reader = thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let mut stderr = child.stderr.take().unwrap();
        let esink = Arc::clone(&err);
        thread::spawn(move || {
            let mut s = Vec::new();
            let _ = stderr.read_to_end(&mut s);
            esink.lock().unwrap().extend_from_slice(&s);
        });
        let stdin = child.stdin.take();
        let agent = Agent {
            child,
            stdin,
            out,
            reader: Some(reader),
            err,
        };
        agent.wait_for(Duration::from_secs(10), |d| d.hello, "the hello block");
        agent
    }

    fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
    }

    fn decoded(&self) -> Decoded {
        decode(&self.out.lock().unwrap())
    }

    /// Polls the decoded stream until `cond` holds.
    fn wait_for(&self, limit: Duration, cond: impl Fn(&Decoded) -> bool, what: &str) -> Decoded {
        let deadline = Instant::now() + limit;
        loop {
            let d = self.decoded();
            if cond(&d) {
                return d;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; stderr: {}",
                self.stderr()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.err.lock().unwrap()).into_owned()
    }

    /// Waits up to `limit` for the process to exit.
    fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(s) = self.child.try_wait().unwrap() {
                if let Some(r) = self.reader.take() {
                    r.join().unwrap();
                }
                thread::sleep(Duration::from_millis(50));
                return Some(s);
            }
            thread::sleep(Duration::from_millis(20));
        }
        None
    }

    fn stop(mut self) -> (ExitStatus, Vec<u8>) {
        self.send(r#"{"cmd":"stop"}"#);
        let status = self
            .wait_exit(Duration::from_secs(10))
            .expect("the agent stops on `stop`");
        let bytes = self.out.lock().unwrap().clone();
        (status, bytes)
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a stream decodes to.
#[derive(Default)]
struct Decoded {
    hello: bool,
    packets: u64,
    exchanges: Vec<(String, String, Option<u16>, u16)>,
    flows: Vec<FlowInfo>,
    messages: Vec<AgentMessage>,
    kernel_drops: u64,
    agent_drops: u64,
    udp_to: Vec<u16>,
}

impl Decoded {
    fn probes(&self, target: &str) -> Vec<&ProbeResult> {
        self.messages
            .iter()
            .filter_map(|m| match m {
                AgentMessage::Probe(p) if p.target == target => Some(p),
                _ => None,
            })
            .collect()
    }

    fn errors(&self) -> usize {
        self.messages
            .iter()
            .filter(|m| matches!(m, AgentMessage::Error { .. }))
            .count()
    }
}

/// Decodes as much of the stream as is complete.
fn decode(bytes: &[u8]) -> Decoded {
    let mut d = Decoded::default();
    let Ok(mut reader) = Reader::new(bytes) else {
        return d;
    };
    let mut pipeline = Pipeline::new(PipelineConfig::default());
    let mut events = Vec::new();
    while let Ok(Some(rec)) = reader.next_record() {
        match rec {
            Record::Packet(p) => {
                d.packets += 1;
                if let Ok(dp) = podtap::decode::packet::decode(p.link_type, p.data)
                    && let podtap::decode::packet::Transport::Udp { dst_port, .. } = dp.transport
                {
                    d.udp_to.push(dst_port);
                }
                pipeline.push(&p, &mut events);
            }
            Record::Custom(c) if c.pen == PODTAP_PEN => {
                if let Ok(m) = AgentMessage::decode(c.data) {
                    d.hello |= matches!(m, AgentMessage::Hello { .. });
                    d.messages.push(m);
                }
            }
            Record::Stats(s) => {
                d.kernel_drops = s.dropped.unwrap_or(0);
                d.agent_drops = s.os_dropped.unwrap_or(0);
            }
            _ => {}
        }
    }
    pipeline.finish(&mut events);
    for e in events {
        match e {
            Event::Exchange(x) => d.exchanges.push((
                x.exchange.request.method.clone(),
                x.exchange.request.path.clone(),
                x.exchange.response.as_ref().map(|r| r.status),
                x.server.port(),
            )),
            Event::FlowEnded(f, _) => d.flows.push(*f),
            Event::Ping(_) => {}
        }
    }
    d
}

fn curl(lab: &Lab, url: &str) -> (u16, u64, u64, u64) {
    let out = lab
        .exec_a("curl")
        .args(["-s", "-o", "/dev/null", "--max-time", "5"])
        .args([
            "-w",
            "%{http_code} %{size_request} %{size_header} %{size_download}",
        ])
        .arg(url)
        .output()
        .expect("run curl");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let f: Vec<u64> = text
        .split_whitespace()
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(f.len(), 4, "curl said {text:?}");
    (f[0] as u16, f[1], f[2], f[3])
}

fn ready(tools: &[&str]) -> bool {
    require_root() && require_tools(tools)
}

#[test]
fn curl_requests_become_exchanges_and_flows() {
    if !ready(&["curl", "python3", "tshark", "capinfos"]) {
        return;
    }
    let lab = Lab::new("ehttp");
    let _server = lab.http_server_b(8080);
    let agent = Agent::start(lab.ns_b(), &[]);
    let base = format!("http://{}:8080", lab.addr_b());
    let ok = curl(&lab, &format!("{base}/"));
    let missing = curl(&lab, &format!("{base}/no/such/page"));
    assert_eq!((ok.0, missing.0), (200, 404));
    agent.wait_for(
        Duration::from_secs(10),
        |d| d.flows.len() >= 2 || d.exchanges.len() >= 2,
        "two exchanges",
    );
    let (status, bytes) = agent.stop();
    assert!(status.success());
    let d = decode(&bytes);
    let mut ex = d.exchanges.clone();
    ex.sort();
    assert_eq!(
        ex,
        vec![
            ("GET".to_owned(), "/".to_owned(), Some(200), 8080),
            (
                "GET".to_owned(),
                "/no/such/page".to_owned(),
                Some(404),
                8080
            )
        ]
    );
    // Byte counts of the flows against what curl itself sent and received.
    let mut flows: Vec<&FlowInfo> = d.flows.iter().filter(|f| f.server.port() == 8080).collect();
    flows.sort_by_key(|f| f.first_seen);
    assert_eq!(flows.len(), 2);
    for (f, (_, req, hdr, body)) in flows.iter().zip([ok, missing]) {
        assert_eq!(f.client.ip(), IpAddr::from(lab.addr_a()));
        assert_eq!(f.sides[0].payload_bytes, req, "request bytes");
        assert_eq!(f.sides[1].payload_bytes, hdr + body, "response bytes");
        assert!(f.rtt_syn_synack.is_some(), "handshake seen");
    }
    // tshark reads the very same bytes, with the same packets.
    let file = std::env::temp_dir().join(format!("podtap-e2e-{}.pcapng", std::process::id()));
    std::fs::write(&file, &bytes).unwrap();
    let cap = Command::new("capinfos")
        .args(["-M", "-c"])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&cap.stdout);
    let count: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("Number of packets:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("capinfos said {text}"));
    assert_eq!(count, d.packets);
    let ts = Command::new("tshark")
        .arg("-r")
        .arg(&file)
        .args([
            "-Y",
            "http.request",
            "-T",
            "fields",
            "-e",
            "http.request.uri",
        ])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(
        ts.status.success(),
        "{}",
        String::from_utf8_lossy(&ts.stderr)
    );
    let mut uris: Vec<String> = String::from_utf8_lossy(&ts.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    uris.sort();
    assert_eq!(uris, vec!["/", "/no/such/page"]);
}

fn outcomes(d: &Decoded, target: &str) -> Vec<ProbeOutcome> {
    d.probes(target).iter().map(|p| p.outcome).collect()
}

#[test]
fn ping_probes_from_inside_the_namespace() {
    if !ready(&["python3"]) {
        return;
    }
    let lab = Lab::new("eping");
    let _server = lab.http_server_b(8080);
    let mut agent = Agent::start(lab.ns_b(), &[]);
    let icmp = lab.addr_a().to_string();
    let icmp6 = lab.addr6_a().to_string();
    let tcp = format!("{}:8080", lab.addr_b());
    let closed = format!("{}:9", lab.addr_a());
    let a = lab.addr_a().octets();
    let unused = format!("{}.{}.{}.99", a[0], a[1], a[2]);
    for t in [&icmp, &icmp6, &tcp, &closed, &unused] {
        agent.send(&format!(
            r#"{{"cmd":"ping_add","target":"{t}","interval_ms":200,"timeout_ms":500}}"#
        ));
    }
    let d = agent.wait_for(
        Duration::from_secs(15),
        |d| {
            [&icmp, &icmp6, &tcp, &closed, &unused]
                .iter()
                .all(|t| d.probes(t).len() >= 4)
        },
        "four probes of every target",
    );
    for t in [&icmp, &icmp6, &tcp] {
        let got = outcomes(&d, t);
        assert!(
            got.iter().all(|o| *o == ProbeOutcome::Reply),
            "{t}: {got:?}"
        );
        assert!(
            d.probes(t)
                .iter()
                .all(|p| p.rtt_ns.is_some_and(|r| r > 0 && r < 1_000_000_000))
        );
    }
    assert_eq!(d.probes(&tcp)[0].kind, ProbeKind::Tcp);
    assert_eq!(d.probes(&icmp)[0].kind, ProbeKind::Icmp);
    assert!(
        outcomes(&d, &closed)
            .iter()
            .all(|o| *o == ProbeOutcome::Refused),
        "{:?}",
        outcomes(&d, &closed)
    );
    let lost = outcomes(&d, &unused);
    assert!(
        lost.iter()
            .all(|o| matches!(o, ProbeOutcome::Timeout | ProbeOutcome::Unreachable)),
        "an unused address is never answered: {lost:?}"
    );
    // Removing a target stops its probes.
    agent.send(&format!(r#"{{"cmd":"ping_remove","target":"{icmp}"}}"#));
    thread::sleep(Duration::from_millis(300));
    let before = agent.decoded().probes(&icmp).len();
    thread::sleep(Duration::from_millis(800));
    assert_eq!(agent.decoded().probes(&icmp).len(), before);
    let (status, _) = agent.stop();
    assert!(status.success());
}

#[test]
fn filters_keep_unwanted_packets_out_and_bad_filters_change_nothing() {
    if !ready(&["curl", "python3"]) {
        return;
    }
    let lab = Lab::new("efilt");
    let _a = lab.http_server_b(8080);
    let _b = lab.http_server_b(8081);
    let mut agent = Agent::start(lab.ns_b(), &[]);
    agent.send(r#"{"cmd":"filter","filter":{"exclude":[{"proto":"tcp","port":8081}]}}"#);
    agent.wait_for(
        Duration::from_secs(5),
        |d| {
            d.messages.contains(&AgentMessage::Ack {
                cmd: "filter".into(),
            })
        },
        "the filter's acknowledgement",
    );
    agent.send(r#"{"cmd":"filter","filter":{"exclude":[{"host":"10.1.2.300"}]}}"#);
    agent.send(r#"{"cmd":"filter","filter":{"exclude":[{"proto":"icmp","port":1}]}}"#);
    agent.wait_for(
        Duration::from_secs(5),
        |d| d.errors() >= 2,
        "two error blocks",
    );
    for port in [8080, 8081, 8080, 8081] {
        assert_eq!(
            curl(&lab, &format!("http://{}:{port}/", lab.addr_b())).0,
            200
        );
    }
    let (status, bytes) = agent.stop();
    assert!(status.success());
    let d = decode(&bytes);
    let ports: Vec<u16> = d.exchanges.iter().map(|e| e.3).collect();
    assert_eq!(
        ports,
        vec![8080, 8080],
        "8081 is filtered out in the kernel, 8080 stays"
    );
    assert!(
        d.flows
            .iter()
            .all(|f| f.server.port() != 8081 && f.client.port() != 8081)
    );
}

#[test]
fn heartbeats_stdout_and_signals_end_a_capture() {
    if !ready(&["kill"]) {
        return;
    }
    let lab = Lab::new("elife");
    // No heartbeat: gone within the timeout, saying why.
    let mut agent = Agent::start(lab.ns_b(), &["--heartbeat-timeout", "2"]);
    let started = Instant::now();
    let status = agent
        .wait_exit(Duration::from_secs(6))
        .expect("exits without heartbeats");
    assert!(status.success());
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(
        agent.stderr().contains("heartbeat timeout"),
        "{}",
        agent.stderr()
    );
    let d = agent.decoded();
    assert_eq!(
        d.messages.last(),
        Some(&AgentMessage::Bye {
            reason: "heartbeat timeout".into()
        })
    );

    // SIGTERM.
    let mut agent = Agent::start(lab.ns_b(), &[]);
    let pid = agent.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = agent
        .wait_exit(Duration::from_secs(5))
        .expect("exits on SIGTERM");
    assert!(status.success());
    assert!(agent.stderr().contains("signal"), "{}", agent.stderr());

    // The reader goes away: stdout closed.
    let mut child = Command::new("ip")
        .args(["netns", "exec", lab.ns_b(), AGENT, "capture"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 64];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "the agent must exit when stdout closes"
        );
        thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.contains("stdout closed"), "{err}");
}

#[test]
fn serve_waits_for_sessions_then_leaves() {
    if !require_root() {
        return;
    }
    let lab = Lab::new("eserve");
    let mut serve = Command::new("ip")
        .args([
            "netns",
            "exec",
            lab.ns_b(),
            AGENT,
            "serve",
            "--idle-timeout",
            "2",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut out = serve.stdout.take().unwrap();
    // One readiness line, then silence.
    let mut buf = [0u8; 256];
    let n = out.read(&mut buf).unwrap();
    line.push_str(&String::from_utf8_lossy(&buf[..n]));
    assert!(
        line.starts_with("podtap-agent ") && line.ends_with(" ready\n"),
        "{line:?}"
    );
    // A capture in the same namespace keeps it alive past its idle timeout.
    let mut agent = Agent::start(lab.ns_b(), &[]);
    thread::sleep(Duration::from_secs(4));
    assert!(
        serve.try_wait().unwrap().is_none(),
        "serve must stay while a capture runs"
    );
    agent.send(r#"{"cmd":"heartbeat"}"#);
    let _ = agent.stop();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(8);
    let status = loop {
        if let Some(s) = serve.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "serve must exit once idle");
        thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success());
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "not before the idle timeout"
    );
    let mut rest = Vec::new();
    out.read_to_end(&mut rest).unwrap();
    assert!(
        rest.is_empty(),
        "serve prints nothing but its readiness line: {rest:?}"
    );
}

#[test]
fn without_net_raw_capture_says_so() {
    if !ready(&["capsh"]) {
        return;
    }
    let lab = Lab::new("ecaps");
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            lab.ns_b(),
            "capsh",
            "--drop=cap_net_raw",
            "--",
            "-c",
        ])
        .arg(format!("exec {AGENT} capture"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("NET_RAW"), "{err}");
    assert_eq!(err.lines().count(), 1, "one clear line: {err}");
    assert!(out.stdout.is_empty());
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_flood_with_a_slow_reader_is_dropped_and_counted_in_bounded_memory() {
    if !require_root() {
        return;
    }
    let lab = Lab::new("eflood");
    let mut child = Command::new("ip")
        .args([
            "netns",
            "exec",
            lab.ns_b(),
            AGENT,
            "capture",
            "--queue-mib",
            "1",
            "--ring-mib",
            "1",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let out = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&out);
    // A slow consumer: about 2 MB/s.
    let reader = thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
            thread::sleep(Duration::from_millis(2));
        }
    });
    thread::sleep(Duration::from_millis(500));
    let port = 9999;
    let sent = lab.blast_udp_from_b(lab.addr_a().into(), port, 100_000, Duration::from_secs(2));
    let peak = peak_rss_kib(child.id());
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"{\"cmd\":\"stop\"}\n").unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the agent stops after the flood");
        thread::sleep(Duration::from_millis(50));
    }
    reader.join().unwrap();
    let d = decode(&out.lock().unwrap());
    let delivered = d.udp_to.iter().filter(|p| **p == port).count() as u64;
    let dropped = d.kernel_drops + d.agent_drops;
    eprintln!(
        "sent {sent}, delivered {delivered}, kernel drops {}, agent drops {}, peak RSS {peak} KiB",
        d.kernel_drops, d.agent_drops
    );
    assert!(sent > 50_000, "the blaster ran: {sent}");
    assert!(
        delivered < sent,
        "a 2 MB/s reader cannot take {sent} packets in 2 s"
    );
    assert!(dropped > 0);
    let accounted = delivered + dropped;
    assert!(
        accounted as f64 >= sent as f64 * 0.99,
        "drops account for what was not delivered: {accounted} of {sent}"
    );
    assert!(
        accounted <= sent + sent / 100 + 100,
        "no packet counted twice: {accounted} of {sent}"
    );
    assert!(peak > 0 && peak < 24 * 1024, "peak RSS {peak} KiB");
}
