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
