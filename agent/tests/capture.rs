//! AF_PACKET capture in real network namespaces (needs root and `ip netns`).
//!
//! Each test makes two fresh namespaces, A and B, joined by a veth pair
//! (10.231.x.1/24 in A, .2/24 in B, no routes out), then runs itself again
//! inside A (`ip netns exec A <this binary> --exact <test>`), so the socket is
//! opened there without any `setns` in the test. The child generates traffic
//! (ping from B to A, ping on A's lo) and checks what the capture saw. When
//! not root or without `ip`, tests print `SKIPPED: <why>` and pass, unless
//! `CI=true`, where they fail.

use std::env;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use podtap::decode::link::{self, ETHERTYPE_IPV4};
use podtap::wire::LinkType;
use podtap_agent::bpf::SockFilter;
use podtap_agent::capture::afpacket::{AfPacket, SourceConfig};
use podtap_agent::capture::interfaces::{self, NetInterface};
use podtap_agent::capture::{PacketSource, RawPacket};

/// Set in the child only: "<netns B> <subnet byte>".
const CHILD_ENV: &str = "PTCAP_CHILD";
/// The veth end in namespace A.
const VETH_A: &str = "pta";

const RING: SourceConfig = SourceConfig {
    snaplen: 262_144,
    ring_bytes: 4 << 20,
};
const NO_RING: SourceConfig = SourceConfig {
    snaplen: 262_144,
    ring_bytes: 0,
};

// ---------------------------------------------------------------- the tests

#[test]
fn ring_sees_veth_and_lo_with_directions() {
    run("ring_sees_veth_and_lo_with_directions", |ctx| {
        veth_and_lo(ctx, RING);
    });
}

#[test]
fn recvmsg_sees_veth_and_lo_with_directions() {
    run("recvmsg_sees_veth_and_lo_with_directions", |ctx| {
        veth_and_lo(ctx, NO_RING);
    });
}

#[test]
fn filter_rejecting_all_stops_delivery_and_empty_restores_it() {
    run(
        "filter_rejecting_all_stops_delivery_and_empty_restores_it",
        |ctx| {
            for cfg in [RING, NO_RING] {
                filter_on_off(ctx, cfg);
            }
        },
    );
}

#[test]
fn snaplen_truncates_data_not_orig_len() {
    run("snaplen_truncates_data_not_orig_len", |ctx| {
        for cfg in [RING, NO_RING] {
            snaplen(ctx, cfg);
        }
    });
}

/// A measurement, not a check: UDP flood from B for 2 s, prints packets/s per mode.
#[test]
#[ignore = "measurement; run with --ignored --nocapture"]
fn throughput_udp_flood() {
    run("throughput_udp_flood", |ctx| {
        for cfg in [RING, NO_RING] {
            let mut src = AfPacket::open(cfg).unwrap();
            let script = format!(
                "import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nend=time.time()+2\nwhile time.time()<end:\n  s.sendto(b'x'*64,('10.231.{}.1',9))",
                ctx.subnet
            );
            let mut flood = Command::new("ip")
                .args(["netns", "exec", &ctx.b, "python3", "-c", &script])
                .spawn()
                .unwrap();
            let start = Instant::now();
            let mut n = 0u64;
            while start.elapsed() < Duration::from_millis(2300) {
                src.poll(Duration::from_millis(20), &mut |_| n += 1)
                    .unwrap();
            }
            flood.wait().unwrap();
            let stats = src.stats().unwrap();
            let secs = start.elapsed().as_secs_f64();
            println!(
                "{cfg:?}: delivered {n} ({:.0}/s), kernel {stats:?}",
                n as f64 / secs
            );
        }
    });
}

// ------------------------------------------------------------ the test bodies

fn veth_and_lo(ctx: &Ctx, cfg: SourceConfig) {
    let all = interfaces::list().unwrap();
    let lo = find(&all, "lo");
    let veth = find(&all, VETH_A);
    assert_eq!(
        (lo.index, lo.hatype, lo.link_type()),
        (1, 772, LinkType::ETHERNET)
    );
    assert_eq!((veth.hatype, veth.link_type()), (1, LinkType::ETHERNET));

    let mut src = AfPacket::open(cfg).unwrap();
    assert_eq!(src.has_ring(), cfg.ring_bytes > 0);
    let start = now_ns();
    let from_b = ctx.ping_from_b(3, 56);
    let on_lo = ping_local("127.0.0.1", 2);
    let mut got = collect(&mut src, Duration::from_secs(10), |pkts| {
        let c = |ifindex, ty| {
            echoes(pkts)
                .filter(|e| e.ifindex == ifindex && e.icmp_type == ty)
                .count()
        };
        c(veth.index, 8) >= 3 && c(veth.index, 0) >= 3 && c(lo.index, 8) >= 2 && c(lo.index, 0) >= 2
    });
    wait_ok(from_b);
    wait_ok(on_lo);
    // Anything late (a doubled lo packet would be right behind its twin).
    got.extend(collect(&mut src, Duration::from_millis(300), |_| false));
    let end = now_ns();

    let veth_echo: Vec<Echo> = echoes(&got).filter(|e| e.ifindex == veth.index).collect();
    let lo_echo: Vec<Echo> = echoes(&got).filter(|e| e.ifindex == lo.index).collect();
    let (a_ip, b_ip) = (ctx.ip(1), ctx.ip(2));
    let requests: Vec<&Echo> = veth_echo.iter().filter(|e| e.icmp_type == 8).collect();
    let replies: Vec<&Echo> = veth_echo.iter().filter(|e| e.icmp_type == 0).collect();
    assert!(requests.len() >= 3, "veth requests: {veth_echo:?}");
    assert_eq!(requests.len(), replies.len(), "{veth_echo:?}");
    for e in &requests {
        assert_eq!(
            (e.pkttype, e.src, e.dst),
            (libc::PACKET_HOST, b_ip, a_ip),
            "incoming request {e:?}"
        );
    }
    for e in &replies {
        assert_eq!(
            (e.pkttype, e.src, e.dst),
            (libc::PACKET_OUTGOING, a_ip, b_ip),
            "outgoing reply {e:?}"
        );
    }
    // Loopback: each packet once (the outgoing twin is dropped), as an arrival.
    let lo_req = lo_echo.iter().filter(|e| e.icmp_type == 8).count();
    let lo_rep = lo_echo.iter().filter(|e| e.icmp_type == 0).count();
    assert_eq!((lo_req, lo_rep), (2, 2), "lo echoes: {lo_echo:?}");
    assert!(
        lo_echo
            .iter()
            .all(|e| e.pkttype == libc::PACKET_HOST && e.src == [127, 0, 0, 1])
    );

    for e in veth_echo.iter().chain(&lo_echo) {
        assert_eq!(e.hatype, if e.ifindex == lo.index { 772 } else { 1 });
        assert_eq!(e.protocol, ETHERTYPE_IPV4);
        assert!(
            e.ts + 1_000_000_000 >= start && e.ts <= end + 1_000_000_000,
            "timestamp {} not in [{start}, {end}]",
            e.ts
        );
        assert_eq!(e.orig_len, 14 + 20 + 8 + 56);
    }
    let stats = src.stats().unwrap();
    assert!(
        stats.packets >= got.len() as u64,
        "{stats:?} < {}",
        got.len()
    );
    // Cumulative: a second read does not go back to zero.
    assert!(src.stats().unwrap().packets >= stats.packets);
    assert_eq!(src.bad_blocks(), 0);
    println!(
        "{cfg:?}: {} packets, {} ICMP echoes, kernel {stats:?}",
        got.len(),
        veth_echo.len() + lo_echo.len()
    );
}

fn filter_on_off(ctx: &Ctx, cfg: SourceConfig) {
    let mut src = AfPacket::open(cfg).unwrap();
    // Removing a filter that is not there is fine.
    src.set_filter(&[]).unwrap();
    // ret #0: accept nothing.
    src.set_filter(&[SockFilter {
        code: 0x06,
        jt: 0,
        jf: 0,
        k: 0,
    }])
    .unwrap();
    // What was queued before the filter.
    collect(&mut src, Duration::from_millis(300), |_| false);
    wait_ok(ctx.ping_from_b(2, 56));
    let blocked = collect(&mut src, Duration::from_millis(500), |_| false);
    assert!(
        blocked.is_empty(),
        "{cfg:?}: filter let through {blocked:?}"
    );

    src.set_filter(&[]).unwrap();
    let from_b = ctx.ping_from_b(2, 56);
    let got = collect(&mut src, Duration::from_secs(10), |p| {
        echoes(p).count() >= 4
    });
    wait_ok(from_b);
    assert!(
        echoes(&got).count() >= 4,
        "{cfg:?}: after detaching: {got:?}"
    );
}

fn snaplen(ctx: &Ctx, cfg: SourceConfig) {
    let mut src = AfPacket::open(cfg).unwrap();
    src.set_snaplen(60);
    let from_b = ctx.ping_from_b(2, 200);
    let got = collect(&mut src, Duration::from_secs(10), |p| {
        echoes(p).count() >= 4
    });
    wait_ok(from_b);
    let echo: Vec<Echo> = echoes(&got).collect();
    assert!(echo.len() >= 4, "{cfg:?}: {got:?}");
    for e in &echo {
        assert_eq!(
            (e.data_len, e.orig_len),
            (60, 14 + 20 + 8 + 200),
            "{cfg:?}: {e:?}"
        );
    }
    assert!(got.iter().all(|p| p.data.len() <= 60));
}

// ------------------------------------------------------------ capture helpers

/// An owned copy of a [`RawPacket`].
#[derive(Debug)]
struct Pkt {
    ifindex: i32,
    hatype: u16,
    pkttype: u8,
    protocol: u16,
    ts: u64,
    orig_len: u32,
    data: Vec<u8>,
}

impl From<&RawPacket<'_>> for Pkt {
    fn from(p: &RawPacket<'_>) -> Self {
        Pkt {
            ifindex: p.ifindex,
            hatype: p.hatype,
            pkttype: p.pkttype,
            protocol: p.protocol,
            ts: p.ts.0,
            orig_len: p.orig_len,
            data: p.data.to_vec(),
        }
    }
}

/// An ICMPv4 echo request (8) or reply (0) seen by the capture.
#[derive(Debug)]
struct Echo {
    ifindex: i32,
    hatype: u16,
    pkttype: u8,
    protocol: u16,
    ts: u64,
    orig_len: u32,
    data_len: usize,
    icmp_type: u8,
    src: [u8; 4],
    dst: [u8; 4],
}

fn echo(p: &Pkt) -> Option<Echo> {
    let net = link::parse(interfaces::link_type(p.hatype), &p.data).ok()?;
    let ip = net.payload;
    if net.ether_type != ETHERTYPE_IPV4 || *ip.get(9)? != 1 {
        return None;
    }
    let ihl = usize::from(ip.first()? & 0x0F) * 4;
    let icmp_type = *ip.get(ihl)?;
    (icmp_type == 0 || icmp_type == 8).then(|| Echo {
        ifindex: p.ifindex,
        hatype: p.hatype,
        pkttype: p.pkttype,
        protocol: p.protocol,
        ts: p.ts,
        orig_len: p.orig_len,
        data_len: p.data.len(),
        icmp_type,
        src: ip[12..16].try_into().unwrap(),
        dst: ip[16..20].try_into().unwrap(),
    })
}

fn echoes(pkts: &[Pkt]) -> impl Iterator<Item = Echo> + '_ {
    pkts.iter().filter_map(echo)
}

/// Polls until `done` says so or `limit` passes.
fn collect(src: &mut AfPacket, limit: Duration, done: impl Fn(&[Pkt]) -> bool) -> Vec<Pkt> {
    let deadline = Instant::now() + limit;
    let mut got = Vec::new();
    while Instant::now() < deadline && !done(&got) {
        let n = src
            .poll(Duration::from_millis(20), &mut |p| got.push(Pkt::from(p)))
            .unwrap();
        assert!(n <= got.len());
    }
    got
}

fn find<'a>(all: &'a [NetInterface], name: &str) -> &'a NetInterface {
    all.iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("no {name} in {all:?}"))
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

fn wait_ok(mut child: Child) {
    let status = child.wait().unwrap();
    assert!(status.success(), "traffic generator failed: {status}");
}

// ------------------------------------------------- namespaces and the child

/// What the child (running inside namespace A) needs to know.
struct Ctx {
    b: String,
    subnet: u8,
}

impl Ctx {
    fn ip(&self, host: u8) -> [u8; 4] {
        [10, 231, self.subnet, host]
    }

    fn ping_from_b(&self, count: u32, size: u32) -> Child {
        let target = format!("10.231.{}.1", self.subnet);
        ping(
            Command::new("ip").args(["netns", "exec", &self.b, "ping"]),
            &target,
            count,
            size,
        )
    }
}

/// Pings `target` from namespace A itself.
fn ping_local(target: &str, count: u32) -> Child {
    ping(&mut Command::new("ping"), target, count, 56)
}

fn ping(cmd: &mut Command, target: &str, count: u32, size: u32) -> Child {
    cmd.args([
        "-n",
        "-q",
        "-i",
        "0.2",
        "-w",
        "10",
        "-c",
        &count.to_string(),
        "-s",
        &size.to_string(),
        target,
    ])
    .stdout(Stdio::null())
    .spawn()
    .unwrap()
}

/// Runs `body` in namespace A: directly when this is the child, else by making
/// the namespaces and starting this test again inside A.
fn run(test: &str, body: impl FnOnce(&Ctx)) {
    if let Ok(spec) = env::var(CHILD_ENV) {
        let (b, subnet) = spec.split_once(' ').unwrap();
        body(&Ctx {
            b: b.to_owned(),
            subnet: subnet.parse().unwrap(),
        });
        return;
    }
    let Some(ns) = Namespaces::create() else {
        return;
    };
    let status = Command::new("ip")
        .args(["netns", "exec", &ns.a])
        .arg(env::current_exe().unwrap())
        .args([
            "--exact",
            test,
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, format!("{} {}", ns.b, ns.subnet))
        .status()
        .unwrap();
    assert!(
        status.success(),
        "{test} failed inside netns {}: {status}",
        ns.a
    );
}

/// Two namespaces joined by a veth pair; deleted on drop (also on panic).
struct Namespaces {
    a: String,
    b: String,
    subnet: u8,
    made: Vec<String>,
}

fn skip(why: &str) -> Option<Namespaces> {
    assert!(
        env::var("CI").as_deref() != Ok("true"),
        "cannot run capture tests: {why}"
    );
    println!("SKIPPED: {why}");
    None
}

fn sh(args: &[&str]) -> Result<(), String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| format!("{args:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Namespaces {
    fn create() -> Option<Namespaces> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let uid = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("Uid:"))
                    .map(|l| l.split_whitespace().nth(2).unwrap_or("").to_owned())
            });
        if uid.as_deref() != Some("0") {
            return skip("not root");
        }
        if sh(&["ip", "-V"]).is_err() || sh(&["ping", "-V"]).is_err() {
            return skip("no `ip` or `ping` command");
        }
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        let name = format!("ptcap-{pid}-{n}");
        let mut ns = Namespaces {
            a: format!("{name}-a"),
            b: format!("{name}-b"),
            subnet: ((pid + n) % 250 + 1) as u8,
            made: Vec::new(),
        };
        let (a, b) = (ns.a.clone(), ns.b.clone());
        for made in [&a, &b] {
            if let Err(e) = sh(&["ip", "netns", "add", made]) {
                return skip(&format!("cannot create a network namespace: {e}"));
            }
            ns.made.push(made.clone());
        }
        let (ip_a, ip_b) = (
            format!("10.231.{}.1/24", ns.subnet),
            format!("10.231.{}.2/24", ns.subnet),
        );
        let steps: [&[&str]; 7] = [
            &["ip", "-n", &a, "link", "set", "lo", "up"],
            &["ip", "-n", &b, "link", "set", "lo", "up"],
            &[
                "ip", "-n", &a, "link", "add", VETH_A, "type", "veth", "peer", "name", "ptb",
                "netns", &b,
            ],
            &["ip", "-n", &a, "addr", "add", &ip_a, "dev", VETH_A],
            &["ip", "-n", &b, "addr", "add", &ip_b, "dev", "ptb"],
            &["ip", "-n", &a, "link", "set", VETH_A, "up"],
            &["ip", "-n", &b, "link", "set", "ptb", "up"],
        ];
        for step in steps {
            if let Err(e) = sh(step) {
                return skip(&format!("cannot set up the namespaces: {e}"));
            }
        }
        Some(ns)
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for name in &self.made {
            let _ = sh(&["ip", "netns", "del", name]);
        }
    }
}
