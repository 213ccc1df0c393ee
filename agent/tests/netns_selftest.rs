//! Proves the network-namespace lab (`tests/netns/`) that the capture and
//! prober tests build on: HTTP and ping between the namespaces, the UDP
//! blaster's rate, and cleanup on drop and on panic. Needs root.

mod netns;

use std::collections::HashSet;
use std::net::{SocketAddr, UdpSocket};
use std::process::Command;
use std::time::Duration;

use netns::{Lab, require_root, require_tools};

fn netns_list() -> String {
    let out = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn pid_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn http_and_ping_between_namespaces_then_cleanup() {
    if !require_root() || !require_tools(&["curl", "ping", "python3"]) {
        return;
    }
    let lab = Lab::new("http");
    let (a, b) = (lab.ns_a().to_owned(), lab.ns_b().to_owned());
    let server = lab.http_server_b(8080);
    let server_pid = server.id();

    let url = format!("http://{}:8080/", lab.addr_b());
    let out = lab
        .exec_a("curl")
        .args(["-sS", "--max-time", "5", "-w", "\n%{http_code}", &url])
        .output()
        .expect("run curl");
    let body = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(body, "podtap netns lab\n\n200");

    for target in [lab.addr_b().to_string(), lab.addr6_b().to_string()] {
        let out = lab
            .exec_a("ping")
            .args(["-n", "-c", "2", "-i", "0.2", "-W", "2", &target])
            .output()
            .expect("run ping");
        assert!(
            out.status.success(),
            "ping {target}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }

    // No default route in either namespace: only the lab's own subnets are reachable.
    for ns in [&a, &b] {
        for family in ["-4", "-6"] {
            let out = Command::new("ip")
                .args([family, "-n", ns, "route", "show", "default"])
                .output()
                .unwrap();
            assert!(
                out.stdout.is_empty(),
                "{ns}: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
    }

    let listed = netns_list();
    assert!(listed.contains(&a) && listed.contains(&b), "{listed}");
    // The lab goes first: it kills the server, whose guard then only reaps it.
    drop(lab);
    let listed = netns_list();
    assert!(
        !listed.contains(&a) && !listed.contains(&b),
        "left behind: {listed}"
    );
    drop(server);
    assert!(
        !pid_alive(server_pid),
        "http.server {server_pid} still runs"
    );
}

#[test]
fn blaster_sends_the_requested_rate_and_a_receives_it() {
    if !require_root() {
        return;
    }
    let lab = Lab::new("blast");
    let rate = 2000;
    let socket = lab
        .enter_a(|| UdpSocket::bind((lab.addr_a(), 9999)))
        .expect("bind in A");
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();

    let (sent, seqs) = std::thread::scope(|s| {
        let receiver = s.spawn(|| {
            let mut seqs = HashSet::new();
            let mut buf = [0u8; 128];
            while let Ok((n, from)) = socket.recv_from(&mut buf) {
                assert_eq!(n, 64);
                assert_eq!(from.ip(), lab.addr_b());
                seqs.insert(u64::from_be_bytes(buf[..8].try_into().unwrap()));
            }
            seqs
        });
        let sent = lab.blast_udp_from_b(lab.addr_a().into(), 9999, rate, Duration::from_secs(1));
        (sent, receiver.join().unwrap())
    });
    let expected = u64::from(rate);
    assert!(
        sent.abs_diff(expected) <= expected / 10,
        "sent {sent}, asked for {expected}"
    );
    assert!(
        seqs.len() as u64 * 100 >= sent * 99,
        "A received {} of {sent}",
        seqs.len()
    );
    assert!(seqs.iter().all(|&s| s < sent));
}

#[test]
fn blaster_over_ipv6_stops_by_itself() {
    if !require_root() {
        return;
    }
    let lab = Lab::new("blast6");
    let socket = lab
        .enter_a(|| UdpSocket::bind(SocketAddr::new(lab.addr6_a().into(), 9998)))
        .expect("bind in A");
    socket
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let started = std::time::Instant::now();
    let sent = lab.blast_udp_from_b(lab.addr6_a().into(), 9998, 500, Duration::from_millis(400));
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!((180..=220).contains(&sent), "sent {sent}");
    let mut buf = [0u8; 128];
    let (n, from) = socket.recv_from(&mut buf).expect("a datagram over IPv6");
    assert_eq!((n, from.ip()), (64, lab.addr6_b().into()));
}

#[test]
fn namespaces_and_processes_are_removed_when_a_test_panics() {
    if !require_root() || !require_tools(&["sleep"]) {
        return;
    }
    let mut names = (String::new(), String::new());
    let mut pid = 0;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let lab = Lab::new("panic");
        names = (lab.ns_a().to_owned(), lab.ns_b().to_owned());
        // Leaked on purpose: only the lab's own cleanup can end it.
        let child = lab.exec_b("sleep").arg("60").spawn().expect("spawn sleep");
        pid = child.id();
        std::mem::forget(child);
        panic!("a failing test");
    }));
    assert!(result.is_err());
    let listed = netns_list();
    assert!(
        !listed.contains(&names.0) && !listed.contains(&names.1),
        "left behind: {listed}"
    );
    // The killed sleep is a zombie until reaped; its state says so.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    assert!(
        stat.is_empty() || stat.contains(") Z "),
        "sleep {pid} still runs: {stat}"
    );
}
