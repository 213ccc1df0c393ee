//! The prober against real traffic: two network namespaces joined by a veth
//! pair, an HTTP server in B, the prober in A.
//!
//! Needs root and `ip netns`; prints `SKIPPED: <why>` otherwise (and fails when
//! `CI=true`). Every namespace and process is removed on drop, also on panic.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use podtap::wire::agent::{ProbeKind, ProbeOutcome, ProbeResult};
use podtap_agent::prober::{IcmpMode, Prober};

static LABS: AtomicU32 = AtomicU32::new(0);

/// Two namespaces: A (10.232.X.1, fd00:232::1) and B (10.232.X.2, fd00:232::2).
struct Lab {
    a: String,
    b: String,
    /// The X in 10.232.X.0/24.
    x: u32,
    server: Option<Child>,
}

fn run(args: &[&str]) -> String {
    let out = Command::new(args[0])
        .args(&args[1..])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn skip_reason() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().next().map(str::to_owned));
    if uid.as_deref() != Some("0") {
        return Some("needs root for network namespaces".into());
    }
    let ip = Command::new("ip").arg("-V").output();
    if !ip.is_ok_and(|o| o.status.success()) {
        return Some("needs the `ip` command (iproute2)".into());
    }
    None
}

impl Lab {
    /// A fresh lab, or `None` (after printing why) when this machine cannot make one.
    fn new() -> Option<Lab> {
        if let Some(why) = skip_reason() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "cannot run on CI: {why}"
            );
            println!("SKIPPED: {why}");
            return None;
        }
        let n = LABS.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        let lab = Lab {
            a: format!("podtap-pa-{pid}-{n}"),
            b: format!("podtap-pb-{pid}-{n}"),
            x: 10 + n,
            server: None,
        };
        let (a, b, x) = (lab.a.as_str(), lab.b.as_str(), lab.x);
        run(&["ip", "netns", "add", a]);
        run(&["ip", "netns", "add", b]);
        run(&[
            "ip", "link", "add", "name", "va", "netns", a, "type", "veth", "peer", "name", "vb",
            "netns", b,
        ]);
        for (ns, dev, host) in [(a, "va", 1), (b, "vb", 2)] {
            run(&[
                "ip",
                "-n",
                ns,
                "addr",
                "add",
                &format!("10.232.{x}.{host}/24"),
                "dev",
                dev,
            ]);
            let v6 = format!("fd00:232::{host}/64");
            run(&[
                "ip", "-n", ns, "-6", "addr", "add", &v6, "dev", dev, "nodad",
            ]);
            run(&["ip", "-n", ns, "link", "set", dev, "up"]);
            run(&["ip", "-n", ns, "link", "set", "lo", "up"]);
        }
        // The first IPv6 packets can be lost while the link comes up.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !lab.exec_ok(&["ping", "-6", "-c1", "-W1", "fd00:232::2"]) {
            assert!(
                Instant::now() < deadline,
                "IPv6 between the namespaces never worked"
            );
        }
        Some(lab)
    }

    fn exec_ok(&self, args: &[&str]) -> bool {
        Command::new("ip")
            .args(["netns", "exec", &self.a])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn ip(&self, host: u32) -> String {
        format!("10.232.{}.{host}", self.x)
    }

    /// Who may open ping sockets in A (`1 0`: nobody).
    fn ping_group_range(&self, range: &str) {
        let setting = format!("net.ipv4.ping_group_range={range}");
        run(&[
            "ip", "netns", "exec", &self.a, "sysctl", "-q", "-w", &setting,
        ]);
    }

    /// `python3 -m http.server 8080` in B, on 10.232.X.2; returns once it answers.
    fn start_server(&mut self) {
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.b,
                "python3",
                "-m",
                "http.server",
                "8080",
            ])
            .args(["--bind", &self.ip(2)])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start python3 -m http.server");
        self.server = Some(child);
        let url = format!("http://{}:8080/", self.ip(2));
        let deadline = Instant::now() + Duration::from_secs(15);
        while !self.exec_ok(&["curl", "-sf", "-o", "/dev/null", "--max-time", "1", &url]) {
            assert!(Instant::now() < deadline, "the HTTP server never answered");
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// Runs `f` on a thread inside namespace A; threads it starts are in A too.
    fn in_a<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/run/netns/{}", self.a);
        let thread = thread::spawn(move || {
            let ns = File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            enter_netns(&ns);
            f()
        });
        thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

#[allow(unsafe_code)] // setns(2) has no safe wrapper.
fn enter_netns(ns: &File) {
    // SAFETY: `ns` is an open namespace file for the duration of the call;
    // setns only changes the calling thread's network namespace.
    let ret = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(ret, 0, "setns: {}", std::io::Error::last_os_error());
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(mut server) = self.server.take() {
            let _ = server.kill();
            let _ = server.wait();
        }
        for ns in [&self.a, &self.b] {
            let _ = Command::new("ip")
                .args(["netns", "del", ns])
                .stderr(Stdio::null())
                .status();
        }
    }
}

const MS: Duration = Duration::from_millis(1);

/// Probes `targets` (with `interval`, `timeout`) from the current thread's
/// namespace for `duration`; returns every result.
fn probe(
    mode: IcmpMode,
    targets: &[String],
    interval: Duration,
    timeout: Duration,
    duration: Duration,
) -> Vec<ProbeResult> {
    let (tx, rx) = mpsc::channel();
    let mut prober = Prober::with_icmp_mode(tx, mode);
    for t in targets {
        prober.add(t, interval, timeout).unwrap();
    }
    let results = collect(&rx, duration);
    prober.stop_all();
    results
}

fn collect(rx: &Receiver<ProbeResult>, duration: Duration) -> Vec<ProbeResult> {
    let deadline = Instant::now() + duration;
    let mut out = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(r) => out.push(r),
            Err(_) => break,
        }
    }
    out
}

/// The results for `target`, checked to be numbered 0, 1, 2, ... (one per probe).
fn of<'a>(results: &'a [ProbeResult], target: &str) -> Vec<&'a ProbeResult> {
    let mine: Vec<_> = results.iter().filter(|r| r.target == target).collect();
    let seqs: Vec<u64> = mine.iter().map(|r| r.seq).collect();
    let expected: Vec<u64> = (0..mine.len() as u64).collect();
    assert_eq!(seqs, expected, "{target}: one result per probe, in order");
    mine
}

/// Asserts at least `min` results for `target`, all replies with plausible RTTs.
fn assert_replies(results: &[ProbeResult], target: &str, kind: ProbeKind, addr: &str, min: usize) {
    let mine = of(results, target);
    assert!(mine.len() >= min, "{target}: {mine:#?}");
    for r in mine {
        assert_eq!(r.kind, kind, "{r:?}");
        assert_eq!(r.outcome, ProbeOutcome::Reply, "{r:?}");
        assert_eq!(r.addr.as_deref(), Some(addr), "{r:?}");
        let rtt = r.rtt_ns.expect("reply has an RTT");
        assert!(rtt > 0 && rtt < 500_000_000, "{r:?}");
        assert!(r.sent_ns > 1_600_000_000_000_000_000, "{r:?}");
    }
}

#[test]
fn icmp_echo_through_ping_sockets() {
    let Some(lab) = Lab::new() else { return };
    lab.ping_group_range("0 2147483647");
    let (v4, v6) = (lab.ip(2), "fd00:232::2".to_owned());
    let targets = vec![v4.clone(), v6.clone(), "localhost".to_owned()];
    let results =
        lab.in_a(move || probe(IcmpMode::PingOnly, &targets, 200 * MS, 1000 * MS, 1300 * MS));
    assert_replies(&results, &v4, ProbeKind::Icmp, &v4, 4);
    assert_replies(&results, &v6, ProbeKind::Icmp, &v6, 4);
    let local = of(&results, "localhost");
    let addr = local
        .first()
        .and_then(|r| r.addr.clone())
        .expect("localhost resolved");
    assert!(addr == "127.0.0.1" || addr == "::1", "{addr}");
    assert_replies(&results, "localhost", ProbeKind::Icmp, &addr, 4);
}

#[test]
fn icmp_echo_falls_back_to_raw_sockets() {
    let Some(lab) = Lab::new() else { return };
    lab.ping_group_range("1 0");
    let (v4, v6) = (lab.ip(2), "fd00:232::2".to_owned());
    let targets = vec![v4.clone(), v6.clone()];

    // Ping sockets are refused here...
    let t = targets.clone();
    let refused = lab.in_a(move || probe(IcmpMode::PingOnly, &t, 200 * MS, 500 * MS, 500 * MS));
    for r in of(&refused, &v4).into_iter().chain(of(&refused, &v6)) {
        assert_eq!(r.outcome, ProbeOutcome::Error, "{r:?}");
        assert!(
            r.detail.as_deref().unwrap_or("").contains("ping socket"),
            "{r:?}"
        );
    }

    // ...so Auto uses raw sockets, which see every ICMP packet of the
    // namespace: two probers to the same host plus a system ping alongside
    // must each count only their own replies.
    let mut ping = Command::new("ip")
        .args([
            "netns", "exec", &lab.a, "ping", "-q", "-i", "0.05", "-w", "3", &v4,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ping");
    let (t1, t2) = (targets.clone(), targets);
    let (auto, raw) = lab.in_a(move || {
        let other =
            thread::spawn(move || probe(IcmpMode::RawOnly, &t2, 100 * MS, 1000 * MS, 1300 * MS));
        let auto = probe(IcmpMode::Auto, &t1, 100 * MS, 1000 * MS, 1300 * MS);
        (auto, other.join().unwrap())
    });
    let _ = ping.kill();
    let _ = ping.wait();
    for results in [&auto, &raw] {
        assert_replies(results, &v4, ProbeKind::Icmp, &v4, 8);
        assert_replies(results, &v6, ProbeKind::Icmp, &v6, 8);
    }
}

#[test]
fn tcp_connect_outcomes() {
    let Some(mut lab) = Lab::new() else { return };
    lab.start_server();
    let open = format!("{}:8080", lab.ip(2));
    let closed = format!("{}:8081", lab.ip(2));
    let closed6 = "[fd00:232::2]:8081".to_owned();
    let no_route = "192.0.2.1:80".to_owned();
    let no_route_icmp = "192.0.2.1".to_owned();
    let targets = vec![
        open.clone(),
        closed.clone(),
        closed6.clone(),
        no_route.clone(),
        no_route_icmp.clone(),
    ];
    let results = lab.in_a(move || probe(IcmpMode::Auto, &targets, 200 * MS, 1000 * MS, 1100 * MS));

    assert_replies(&results, &open, ProbeKind::Tcp, &lab.ip(2), 4);
    for (target, addr) in [(&closed, lab.ip(2)), (&closed6, "fd00:232::2".into())] {
        let mine = of(&results, target);
        assert!(mine.len() >= 4, "{mine:#?}");
        for r in mine {
            assert_eq!(
                (r.kind, r.outcome),
                (ProbeKind::Tcp, ProbeOutcome::Refused),
                "{r:?}"
            );
            assert_eq!(r.addr.as_deref(), Some(addr.as_str()));
        }
    }
    // No route out of the namespace: the kernel says so at once.
    for target in [&no_route, &no_route_icmp] {
        let mine = of(&results, target);
        assert!(mine.len() >= 4, "{mine:#?}");
        for r in mine {
            assert_eq!(r.outcome, ProbeOutcome::Unreachable, "{r:?}");
            assert!(
                r.detail.as_deref().unwrap_or("").contains("unreachable"),
                "{r:?}"
            );
        }
    }
}

#[test]
fn unused_address_times_out_per_probe() {
    let Some(lab) = Lab::new() else { return };
    lab.ping_group_range("0 2147483647");
    let icmp = lab.ip(99);
    let tcp = format!("{}:8080", lab.ip(99));
    let icmp6 = "fd00:232::99".to_owned();
    let targets = vec![icmp.clone(), tcp.clone(), icmp6.clone()];
    // Neighbour discovery gives up after about 3 s, so late errors about
    // earlier probes arrive while later ones wait: each must count once.
    let results = lab.in_a(move || probe(IcmpMode::Auto, &targets, 300 * MS, 500 * MS, 4200 * MS));
    for target in [&icmp, &tcp, &icmp6] {
        let mine = of(&results, target);
        assert!(mine.len() >= 6, "{target}: {mine:#?}");
        for r in &mine {
            assert!(
                matches!(r.outcome, ProbeOutcome::Timeout | ProbeOutcome::Unreachable),
                "{r:?}"
            );
        }
        assert!(
            mine.iter().any(|r| r.outcome == ProbeOutcome::Timeout),
            "{mine:#?}"
        );
    }
}

#[test]
fn remove_stops_a_target_promptly() {
    let Some(lab) = Lab::new() else { return };
    lab.ping_group_range("0 2147483647");
    let (up, down) = (lab.ip(2), lab.ip(99));
    lab.in_a(move || {
        let (tx, rx) = mpsc::channel();
        let mut prober = Prober::new(tx);
        // A long interval, and probes stuck waiting for a long timeout.
        prober
            .add(&up, Duration::from_secs(60), Duration::from_secs(1))
            .unwrap();
        prober
            .add(&down, Duration::from_secs(60), Duration::from_secs(60))
            .unwrap();
        prober
            .add(
                &format!("{down}:80"),
                Duration::from_secs(60),
                Duration::from_secs(60),
            )
            .unwrap();
        prober
            .add("localhost", 20 * MS, Duration::from_secs(1))
            .unwrap();
        let first = rx
            .recv_timeout(Duration::from_secs(2))
            .expect("a first result");
        assert!(
            first.target == up || first.target == "localhost",
            "{first:?}"
        );
        thread::sleep(200 * MS);

        assert!(prober.add(&up, MS, MS).unwrap_err().contains("already"));
        assert!(
            prober
                .remove("10.232.0.1")
                .unwrap_err()
                .contains("not being probed")
        );
        prober.remove("localhost").unwrap();
        let before: Vec<_> = rx.try_iter().collect();
        assert!(
            before.iter().filter(|r| r.target == "localhost").count() >= 3,
            "{before:#?}"
        );
        thread::sleep(300 * MS);
        assert!(
            rx.try_iter().all(|r| r.target != "localhost"),
            "results after remove"
        );

        let start = Instant::now();
        for target in [up.clone(), down.clone(), format!("{down}:80")] {
            prober.remove(&target).unwrap();
        }
        prober.stop_all();
        let took = start.elapsed();
        assert!(took < 150 * MS, "stopping took {took:?}");
        assert_eq!(prober.targets().count(), 0);
        // Removed targets can be added again.
        prober.add(&up, 50 * MS, Duration::from_secs(1)).unwrap();
        let again = rx
            .recv_timeout(Duration::from_secs(2))
            .expect("a result after re-adding");
        assert_eq!((again.target.as_str(), again.seq), (up.as_str(), 0));
    });
}

#[test]
fn names_use_the_system_resolver() {
    let Some(lab) = Lab::new() else { return };
    let targets = vec!["localhost:9".to_owned(), "no-such-host.invalid".to_owned()];
    let results = lab.in_a(move || probe(IcmpMode::Auto, &targets, 200 * MS, 500 * MS, 700 * MS));
    let local = of(&results, "localhost:9");
    assert!(local.len() >= 2, "{local:#?}");
    for r in local {
        assert_eq!(r.outcome, ProbeOutcome::Refused, "{r:?}");
        assert!(
            matches!(r.addr.as_deref(), Some("127.0.0.1" | "::1")),
            "{r:?}"
        );
    }
    let unknown = of(&results, "no-such-host.invalid");
    assert!(!unknown.is_empty());
    for r in unknown {
        assert_eq!(
            (r.outcome, r.addr.as_deref()),
            (ProbeOutcome::Error, None),
            "{r:?}"
        );
        let detail = r.detail.as_deref().unwrap_or("");
        assert!(
            detail.starts_with("cannot resolve no-such-host.invalid: "),
            "{r:?}"
        );
    }
}
