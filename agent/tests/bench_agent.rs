//! The agent's performance benchmark (run it with `bench/agent.sh`).
//!
//! For each load step a UDP generator in namespace TX sends 64-byte datagrams
//! at a fixed rate to namespace RX, where `podtap-agent capture` and
//! `tcpdump -i any -w - -U` capture the same traffic at the same time, both
//! pinned to one core (the generator runs on the other). The agent's stdout
//! goes through podtap's reader (a fast consumer: it only counts packets and
//! keeps the last Interface Statistics Block), tcpdump's to /dev/null. For each
//! tool: packets captured, drops (the agent's last ISB: `isb_ifdrop` kernel +
//! `isb_osdrop` agent; tcpdump's "dropped by kernel"), CPU from
//! /proc/PID/stat (utime+stime) over the step, peak RSS (VmHWM). Prints a
//! table and the targets.
//!
//! Ignored, so the normal suite skips it; by hand:
//! `cargo test --release -p podtap-agent --test bench_agent -- --ignored --nocapture`
//! (then it makes its own namespaces with the lab harness). `bench/agent.sh`
//! passes its namespaces and the static binary through the environment:
//!
//! - `BENCH_NS_RX`, `BENCH_NS_TX`, `BENCH_ADDR_RX`, `BENCH_ADDR_TX`: the namespaces and their IPv4 addresses
//! - `BENCH_AGENT`: the agent binary (default: this build's)
//! - `BENCH_AGENT_BYTES`: its size, checked against the 4 MB target
//! - `BENCH_RATES`: packets/s per step, `max` = as fast as the generator goes (default `10000,50000,100000,200000,max`)
//! - `BENCH_SECS`: seconds of traffic per step (default 5)
//! - `BENCH_CAPTURE_CPU`, `BENCH_GEN_CPU`: the cores (default 0 and 1)

// sendmmsg, setns, sched_setaffinity, fcntl and kill are libc calls.
#![allow(unsafe_code)]

mod netns;

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use podtap::wire::{Reader, Record};

/// The UDP port the generator sends to (a socket in RX binds it and never reads).
const PORT: u16 = 9999;
/// Payload bytes per datagram (106-byte frames).
const PAYLOAD: usize = 64;
/// Datagrams per sendmmsg call at most.
const BATCH: usize = 64;

struct Config {
    ns_rx: String,
    ns_tx: String,
    addr_rx: Ipv4Addr,
    addr_tx: Ipv4Addr,
    agent: String,
    agent_bytes: Option<u64>,
    rates: Vec<Option<u32>>,
    secs: f64,
    capture_cpu: usize,
    gen_cpu: usize,
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// One tool's figures for one step.
#[derive(Debug, Clone, Default)]
struct Figures {
    captured: u64,
    drops: u64,
    /// CPU seconds over the step from the threads' schedstat (ns resolution).
    cpu_s: f64,
    /// The same from /proc/PID/stat utime + stime (clock-tick resolution).
    stat_cpu_s: f64,
    rss_kib: u64,
    note: String,
}

impl Figures {
    fn drop_pct(&self) -> f64 {
        let seen = self.captured + self.drops;
        if seen == 0 {
            0.0
        } else {
            self.drops as f64 * 100.0 / seen as f64
        }
    }

    fn us_per_packet(&self) -> f64 {
        if self.captured == 0 {
            f64::NAN
        } else {
            self.cpu_s * 1e6 / self.captured as f64
        }
    }
}

/// One load step.
#[derive(Debug, Clone)]
struct Step {
    label: String,
    /// Datagrams the generator sent, per second of sending.
    sent_rate: f64,
    /// Packets that arrived on RX's eth0 (its rx counter) during the step.
    delivered: u64,
    /// Seconds of traffic.
    traffic_s: f64,
    agent: Figures,
    tcpdump: Figures,
}

impl Step {
    fn delivered_rate(&self) -> f64 {
        self.delivered as f64 / self.traffic_s
    }

    /// CPU time over the step per second of traffic, in % of one core.
    fn cpu_pct(&self, f: &Figures) -> f64 {
        f.cpu_s * 100.0 / self.traffic_s
    }
}

#[test]
#[ignore = "benchmark: run bench/agent.sh (root, namespaces, tcpdump, taskset)"]
fn agent_benchmark() {
    if !netns::require_root() || !netns::require_tools(&["tcpdump", "taskset"]) {
        return;
    }
    let lab;
    let (ns_rx, ns_tx, addr_rx, addr_tx) = if let Ok(rx) = std::env::var("BENCH_NS_RX") {
        (
            rx,
            std::env::var("BENCH_NS_TX").expect("BENCH_NS_TX with BENCH_NS_RX"),
            env_or("BENCH_ADDR_RX", "").parse().expect("BENCH_ADDR_RX"),
            env_or("BENCH_ADDR_TX", "").parse().expect("BENCH_ADDR_TX"),
        )
    } else {
        lab = netns::Lab::new("bench");
        (
            lab.ns_a().to_owned(),
            lab.ns_b().to_owned(),
            lab.addr_a(),
            lab.addr_b(),
        )
    };
    let config = Config {
        ns_rx,
        ns_tx,
        addr_rx,
        addr_tx,
        agent: env_or("BENCH_AGENT", env!("CARGO_BIN_EXE_podtap-agent")),
        agent_bytes: std::env::var("BENCH_AGENT_BYTES")
            .ok()
            .and_then(|s| s.parse().ok()),
        rates: env_or("BENCH_RATES", "10000,50000,100000,200000,max")
            .split(',')
            .map(|r| match r.trim() {
                "max" => None,
                n => Some(n.parse().expect("BENCH_RATES: numbers or max")),
            })
            .collect(),
        secs: env_or("BENCH_SECS", "5").parse().expect("BENCH_SECS"),
        capture_cpu: env_or("BENCH_CAPTURE_CPU", "0").parse().unwrap(),
        gen_cpu: env_or("BENCH_GEN_CPU", "1").parse().unwrap(),
    };
    // The datagrams' destination: bound, never read, so no ICMP comes back.
    let sink = in_netns(&config.ns_rx, || {
        UdpSocket::bind(SocketAddr::new(config.addr_rx.into(), PORT))
    })
    .expect("bind the sink socket in RX");

    let load_before = loadavg();
    let mut steps = Vec::new();
    for rate in &config.rates {
        let label = rate.map_or("max".to_owned(), |r| format!("{}k", r / 1000));
        eprintln!("bench: step {label} ({} s of traffic)", config.secs);
        let step = run_step(&config, &label, *rate);
        eprintln!(
            "bench:   sent {:.0}/s, agent {} captured {} dropped, tcpdump {} captured {} dropped",
            step.sent_rate,
            step.agent.captured,
            step.agent.drops,
            step.tcpdump.captured,
            step.tcpdump.drops
        );
        steps.push(step);
    }
    drop(sink);
    report(&config, &steps);
    // Other work on the machine (builds, tests) takes cores from the captures
    // and the generator alike: the figures are only as quiet as the machine.
    println!(
        "load average (1/5/15 min) before: {load_before}, after: {}",
        loadavg()
    );
}

fn run_step(config: &Config, label: &str, rate: Option<u32>) -> Step {
    let mut agent = AgentProc::start(config);
    let mut tcpdump = TcpdumpProc::start(config);
    thread::sleep(Duration::from_millis(300));

    let rx0 = rx_packets(&config.ns_rx);
    let (a0, t0) = (cpu_ticks(agent.pid()), cpu_ticks(tcpdump.pid()));
    let (an0, tn0) = (cpu_ns(agent.pid()), cpu_ns(tcpdump.pid()));
    let dst = SocketAddr::new(config.addr_rx.into(), PORT);
    let (sent, traffic_s) = generate(config, dst, rate);
    // Drain: tcpdump's ring hands over a block when it is full or after its
    // 1 s timeout (TPACKET_V3); stopped sooner it loses the last block uncounted.
    thread::sleep(Duration::from_millis(1500));
    let (a1, t1) = (cpu_ticks(agent.pid()), cpu_ticks(tcpdump.pid()));
    let (an1, tn1) = (cpu_ns(agent.pid()), cpu_ns(tcpdump.pid()));
    let rx1 = rx_packets(&config.ns_rx);
    let (a_rss, t_rss) = (peak_rss_kib(agent.pid()), peak_rss_kib(tcpdump.pid()));

    let tick = clock_ticks();
    let mut a = agent.stop();
    a.stat_cpu_s = (a1 - a0) as f64 / tick;
    a.cpu_s = (an1 - an0) as f64 / 1e9;
    a.rss_kib = a_rss;
    let mut t = tcpdump.stop();
    t.stat_cpu_s = (t1 - t0) as f64 / tick;
    t.cpu_s = (tn1 - tn0) as f64 / 1e9;
    t.rss_kib = t_rss;
    Step {
        label: label.to_owned(),
        sent_rate: sent as f64 / traffic_s,
        delivered: rx1.saturating_sub(rx0),
        traffic_s,
        agent: a,
        tcpdump: t,
    }
}

// --- the two captures ----------------------------------------------------------

/// `ip netns exec NS taskset -c CPU PROGRAM`: ip and taskset exec, so the
/// child's pid is PROGRAM's.
fn pinned_in(config: &Config, program: &str) -> Command {
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", &config.ns_rx, "taskset", "-c"])
        .arg(config.capture_cpu.to_string())
        .arg(program);
    cmd
}

/// Waits until `pid` runs `comm` (after the two execs).
fn wait_comm(pid: u32, comm: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(format!("/proc/{pid}/comm")).map_or(true, |s| s.trim() != comm) {
        assert!(
            Instant::now() < deadline,
            "{comm} did not start (pid {pid})"
        );
        thread::sleep(Duration::from_millis(10));
    }
}

struct AgentProc {
    child: Child,
    stdin: Option<ChildStdin>,
    reader: Option<thread::JoinHandle<StreamFigures>>,
    stderr: Arc<Mutex<String>>,
}

#[derive(Debug, Default)]
struct StreamFigures {
    packets: u64,
    kernel_drops: u64,
    agent_drops: u64,
    stats_blocks: u64,
    error: Option<String>,
}

impl AgentProc {
    fn start(config: &Config) -> AgentProc {
        let mut child = pinned_in(config, &config.agent)
            .args(["capture", "--heartbeat-timeout", "60"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the agent");
        let stdout = child.stdout.take().unwrap();
        // A 1 MiB pipe, like a reader that keeps up; ignored if refused.
        // SAFETY: fcntl on a pipe fd this process owns.
        unsafe { libc::fcntl(stdout.as_raw_fd(), libc::F_SETPIPE_SZ, 1 << 20) };
        let hello = Arc::new(AtomicBool::new(false));
        let seen = Arc::clone(&hello);
        let gen_cpu = config.gen_cpu;
        // The consumer runs on the generator's core, away from the captures.
        let reader = thread::spawn(move || {
            pin_thread(gen_cpu);
            let mut f = StreamFigures::default();
            let mut reader = match Reader::new(stdout) {
                Ok(r) => r,
                Err(e) => {
                    f.error = Some(format!("not a capture stream: {e}"));
                    seen.store(true, Ordering::Relaxed);
                    return f;
                }
            };
            loop {
                match reader.next_record() {
                    Ok(Some(Record::Packet(_))) => f.packets += 1,
                    Ok(Some(Record::Stats(s))) => {
                        f.stats_blocks += 1;
                        f.kernel_drops = s.dropped.unwrap_or(0);
                        f.agent_drops = s.os_dropped.unwrap_or(0);
                    }
                    Ok(Some(Record::Custom(_))) => seen.store(true, Ordering::Relaxed),
                    Ok(Some(Record::Interface(_))) => {}
                    Ok(None) => break,
                    Err(e) => {
                        f.error = Some(format!("stream error: {e}"));
                        break;
                    }
                }
            }
            seen.store(true, Ordering::Relaxed);
            f
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        collect_lines(child.stderr.take().unwrap(), Arc::clone(&stderr));
        let stdin = child.stdin.take();
        let agent = AgentProc {
            child,
            stdin,
            reader: Some(reader),
            stderr,
        };
        wait_comm(agent.pid(), "podtap-agent");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !hello.load(Ordering::Relaxed) {
            assert!(
                Instant::now() < deadline,
                "no hello from the agent; stderr: {}",
                agent.stderr.lock().unwrap()
            );
            thread::sleep(Duration::from_millis(10));
        }
        agent
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `stop`, waits for the exit and the end of the stream.
    fn stop(&mut self) -> Figures {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(b"{\"cmd\":\"stop\"}\n");
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break Some(s);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                break None;
            }
            thread::sleep(Duration::from_millis(20));
        };
        let f = self.reader.take().unwrap().join().unwrap();
        let mut note = String::new();
        if status.is_none_or(|s| !s.success()) {
            note = format!(
                "agent exit {status:?}: {}",
                self.stderr.lock().unwrap().trim()
            );
        }
        if let Some(e) = &f.error {
            note = format!("{note} {e}");
        }
        if f.stats_blocks == 0 {
            note = format!("{note} no statistics block");
        }
        Figures {
            captured: f.packets,
            drops: f.kernel_drops + f.agent_drops,
            note: note.trim().to_owned(),
            ..Figures::default()
        }
    }
}

impl Drop for AgentProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TcpdumpProc {
    child: Child,
    stderr: Arc<Mutex<String>>,
    lines: Option<thread::JoinHandle<()>>,
}

impl TcpdumpProc {
    fn start(config: &Config) -> TcpdumpProc {
        let mut child = pinned_in(config, "tcpdump")
            .args(["-i", "any", "-w", "-", "-U"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tcpdump");
        let stderr = Arc::new(Mutex::new(String::new()));
        let lines = collect_lines(child.stderr.take().unwrap(), Arc::clone(&stderr));
        let t = TcpdumpProc {
            child,
            stderr,
            lines: Some(lines),
        };
        wait_comm(t.pid(), "tcpdump");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !t.stderr.lock().unwrap().contains("listening on") {
            assert!(
                Instant::now() < deadline,
                "tcpdump did not start listening: {}",
                t.stderr.lock().unwrap()
            );
            thread::sleep(Duration::from_millis(10));
        }
        t
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGINT, then the exit summary: "N packets captured", "N packets dropped by kernel".
    fn stop(&mut self) -> Figures {
        // SAFETY: kill(2) on our own child's pid, which is not reaped yet.
        unsafe { libc::kill(self.child.id().cast_signed(), libc::SIGINT) };
        let _ = self.child.wait();
        if let Some(l) = self.lines.take() {
            let _ = l.join();
        }
        let text = self.stderr.lock().unwrap().clone();
        let count = |what: &str| {
            text.lines()
                .find(|l| l.ends_with(what))
                .and_then(|l| l.split_whitespace().next())
                .and_then(|n| n.parse::<u64>().ok())
        };
        let (captured, drops) = (
            count("packets captured"),
            count("packets dropped by kernel"),
        );
        Figures {
            captured: captured.unwrap_or(0),
            drops: drops.unwrap_or(0),
            note: if captured.is_none() || drops.is_none() {
                format!("no exit summary: {}", text.trim())
            } else {
                String::new()
            },
            ..Figures::default()
        }
    }
}

impl Drop for TcpdumpProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collect_lines(
    pipe: impl std::io::Read + Send + 'static,
    into: Arc<Mutex<String>>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            let mut s = into.lock().unwrap();
            s.push_str(&line);
            s.push('\n');
        }
    })
}

// --- the generator -------------------------------------------------------------

/// Sends 64-byte UDP datagrams from TX to `dst` at `rate` (None: as fast as
/// sendmmsg goes) for the configured time, on the generator's core. Returns
/// the datagrams sent and the seconds spent sending.
fn generate(config: &Config, dst: SocketAddr, rate: Option<u32>) -> (u64, f64) {
    let duration = Duration::from_secs_f64(config.secs);
    let (src, gen_cpu) = (config.addr_tx, config.gen_cpu);
    in_netns(&config.ns_tx, move || {
        pin_thread(gen_cpu);
        let socket = UdpSocket::bind((src, 0)).expect("bind the generator's socket");
        socket.connect(dst).expect("connect the generator's socket");
        let fd = socket.as_raw_fd();
        let payload = [0x5au8; PAYLOAD];
        let mut iov = libc::iovec {
            iov_base: payload.as_ptr().cast_mut().cast(),
            iov_len: PAYLOAD,
        };
        let mut msgs: Vec<libc::mmsghdr> = (0..BATCH)
            .map(|_| {
                // SAFETY: mmsghdr is plain data; all zeroes is a valid empty message.
                let mut m: libc::mmsghdr = unsafe { std::mem::zeroed() };
                m.msg_hdr.msg_iov = &raw mut iov;
                m.msg_hdr.msg_iovlen = 1;
                m
            })
            .collect();
        let mut send = |n: usize| -> u64 {
            // SAFETY: `msgs` holds `BATCH >= n` messages pointing at `iov` and
            // `payload`, which outlive the call; the socket is connected.
            let rc = unsafe { libc::sendmmsg(fd, msgs.as_mut_ptr(), n as u32, 0) };
            u64::try_from(rc).unwrap_or(0) // ENOBUFS and the like: not sent
        };
        let mut sent = 0u64;
        let start = Instant::now();
        match rate {
            None => {
                while start.elapsed() < duration {
                    sent += send(BATCH);
                }
            }
            Some(rate) => {
                // A token bucket holding at most 10 ms worth of packets.
                let rate = f64::from(rate);
                let burst = (rate / 100.0).max(1.0);
                let (mut tokens, mut last) = (0.0f64, start);
                while last.duration_since(start) < duration {
                    let now = Instant::now();
                    tokens = (tokens + now.duration_since(last).as_secs_f64() * rate).min(burst);
                    last = now;
                    while tokens >= 1.0 {
                        let n = (tokens as usize).min(BATCH);
                        let done = send(n);
                        sent += done;
                        // Unsent ones are lost, not retried.
                        tokens -= n as f64;
                    }
                    let wait = (1.0 - tokens) / rate;
                    thread::sleep(Duration::from_secs_f64(wait.clamp(0.000_02, 0.001)));
                }
            }
        }
        (sent, start.elapsed().as_secs_f64())
    })
}

// --- system helpers ---------------------------------------------------------------

/// Runs `f` on a thread inside network namespace `ns`.
fn in_netns<R: Send>(ns: &str, f: impl FnOnce() -> R + Send) -> R {
    let file = File::open(Path::new("/run/netns").join(ns))
        .unwrap_or_else(|e| panic!("open namespace {ns}: {e}"));
    thread::scope(|s| {
        s.spawn(move || {
            // SAFETY: setns on this thread only, with a valid namespace fd.
            let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns {ns}: {}", std::io::Error::last_os_error());
            f()
        })
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// Pins the calling thread to `cpu`.
fn pin_thread(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is an empty set; sched_setaffinity(0, ..)
    // affects the calling thread only.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &raw const set);
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// utime + stime of the whole process (all threads), in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let f: Vec<u64> = after
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // Fields 14 and 15 of stat(5); `after` starts at field 3.
    f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0)
}

/// Run time of every thread of the process, in ns (the first field of
/// /proc/PID/task/TID/schedstat); the threads live as long as the process here.
/// Falls back to utime + stime when schedstat is missing.
fn cpu_ns(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    let mut total = 0u64;
    for task in tasks.flatten() {
        let Ok(s) = std::fs::read_to_string(task.path().join("schedstat")) else {
            return (cpu_ticks(pid) as f64 * 1e9 / clock_ticks()) as u64;
        };
        total += s
            .split_whitespace()
            .next()
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
    }
    total
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Packets received so far on `eth0` in `ns`.
fn rx_packets(ns: &str) -> u64 {
    let out = Command::new("ip")
        .args(["-n", ns, "-s", "-j", "link", "show", "dev", "eth0"])
        .output()
        .expect("run ip");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    v[0]["stats64"]["rx"]["packets"].as_u64().unwrap_or(0)
}

// --- the report --------------------------------------------------------------------

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "MISSED" }
}

fn report(config: &Config, steps: &[Step]) {
    println!();
    println!(
        "podtap-agent vs tcpdump -i any -w - -U: both on CPU {}, generator on CPU {}, {} s of 64-byte UDP per step",
        config.capture_cpu, config.gen_cpu, config.secs
    );
    println!(
        "{:<5} {:>9} {:>9} {:<8} {:>10} {:>9} {:>8} {:>7} {:>8} {:>7} {:>8}",
        "step",
        "sent/s",
        "recv/s",
        "tool",
        "captured",
        "drops",
        "drop%",
        "CPU%",
        "us/pkt",
        "stat s",
        "RSS MiB"
    );
    for s in steps {
        for (i, (tool, f)) in [("agent", &s.agent), ("tcpdump", &s.tcpdump)]
            .into_iter()
            .enumerate()
        {
            let (label, sent, recv) = if i == 0 {
                (
                    s.label.clone(),
                    format!("{:.0}", s.sent_rate),
                    format!("{:.0}", s.delivered_rate()),
                )
            } else {
                (String::new(), String::new(), String::new())
            };
            println!(
                "{label:<5} {sent:>9} {recv:>9} {tool:<8} {:>10} {:>9} {:>7.3}% {:>7.2} {:>8.3} {:>7.2} {:>8.1}{}",
                f.captured,
                f.drops,
                f.drop_pct(),
                s.cpu_pct(f),
                f.us_per_packet(),
                f.stat_cpu_s,
                f.rss_kib as f64 / 1024.0,
                if f.note.is_empty() {
                    String::new()
                } else {
                    format!("  ({})", f.note)
                }
            );
        }
    }
    println!(
        "recv/s: packets arriving on RX's eth0 per second of traffic. drops: agent = isb_ifdrop + isb_osdrop of its \
         last ISB, tcpdump = \"dropped by kernel\"; drop% = drops / (captured + drops).\n\
         CPU: all threads' run time (schedstat, ns) from traffic start to 1.5 s after its end; CPU% = that / \
         seconds of traffic; us/pkt = that / packets captured; stat s = the same time from /proc/PID/stat \
         utime+stime (10 ms ticks). RSS = VmHWM."
    );
    println!();

    // At 10k packets/s, at most 3% of one core.
    if let Some(s) = steps.iter().find(|s| s.label == "10k") {
        let pct = s.cpu_pct(&s.agent);
        println!(
            "target: at 10k packets/s <= 3% of one core: {} ({pct:.2}%)",
            verdict(pct <= 3.0)
        );
    }
    // At least 200k packets/s with under 0.1% drops.
    let max_recv = steps.iter().map(Step::delivered_rate).fold(0.0, f64::max);
    let clean: Vec<&Step> = steps
        .iter()
        .filter(|s| s.agent.drop_pct() < 0.1 && s.agent.note.is_empty())
        .collect();
    let best = clean.iter().map(|s| s.delivered_rate()).fold(0.0, f64::max);
    // 1% slack for the token bucket's accuracy.
    if max_recv >= 200_000.0 * 0.99 {
        println!(
            "target: >= 200k packets/s with < 0.1% drops: {} (highest rate with < 0.1% drops: {best:.0}/s; generator max {max_recv:.0}/s)",
            verdict(best >= 200_000.0 * 0.99)
        );
    } else {
        println!(
            "target: >= 200k packets/s with < 0.1% drops: not reachable here, the generator reached {max_recv:.0}/s; \
             at that rate: {} (highest rate with < 0.1% drops: {best:.0}/s)",
            verdict(best >= max_recv * 0.99)
        );
    }
    // Less CPU per packet than tcpdump, and no more drops.
    for s in steps {
        let (a, t) = (&s.agent, &s.tcpdump);
        let cheaper = a.us_per_packet() < t.us_per_packet();
        let fewer = a.drops <= t.drops;
        println!(
            "target: {:<5} agent CPU/packet < tcpdump and drops <= tcpdump: {} ({:.3} vs {:.3} us/pkt = {:.0}%; drops {} vs {})",
            s.label,
            verdict(cheaper && fewer),
            a.us_per_packet(),
            t.us_per_packet(),
            a.us_per_packet() * 100.0 / t.us_per_packet(),
            a.drops,
            t.drops
        );
    }
    // RSS at most 24 MiB under any load.
    if let Some(s) = steps.iter().max_by_key(|s| s.agent.rss_kib) {
        let mib = s.agent.rss_kib as f64 / 1024.0;
        println!(
            "target: peak RSS <= 24 MiB at every step: {} (highest {mib:.1} MiB, step {})",
            verdict(mib <= 24.0),
            s.label
        );
    }
    if let Some(bytes) = config.agent_bytes {
        println!(
            "target: static binary <= 4 MB: {} ({bytes} bytes = {:.2} MB = {:.2} MiB)",
            verdict(bytes <= 4_000_000),
            bytes as f64 / 1e6,
            bytes as f64 / 1_048_576.0
        );
    }
}
