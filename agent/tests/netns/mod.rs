//! A two-namespace network lab for integration tests (`mod netns;`).
//!
//! [`Lab::new`] creates namespaces A and B joined by a veth pair (`eth0` on
//! both sides, like a pod), IPv4 and IPv6 addresses, `lo` up and no default
//! route. Commands run inside with [`Lab::exec_a`] / [`Lab::exec_b`], Rust code
//! with [`Lab::enter_a`] / [`Lab::enter_b`] (a thread that `setns`-ed into the
//! namespace). Dropping the lab, also while a test panics, kills every process
//! in both namespaces and deletes them.
//!
//! Everything here needs root: call [`require_root`] first.

#![allow(dead_code)]
// setns(2) is the one unsafe call; nothing else here needs it.
#![allow(unsafe_code)]

use std::collections::HashSet;
use std::fs::File;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

mod require;

pub use require::{require_root, require_tools};

/// The interface name on both ends of the veth pair.
pub const IFNAME: &str = "eth0";

fn ip(args: &[&str]) -> std::process::Output {
    Command::new("ip").args(args).output().expect("run ip")
}

fn ip_ok(args: &[&str]) {
    let out = ip(args);
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

/// Tags of the labs alive in this process: one lab per tag at a time.
static TAGS: Mutex<Option<HashSet<String>>> = Mutex::new(None);

/// Two network namespaces joined by a veth pair. See the module docs.
pub struct Lab {
    tag: String,
    a: String,
    b: String,
    v4: [u8; 2],
    v6: u16,
    www: PathBuf,
}

impl Lab {
    /// Creates namespaces `pt<tag>a<pid>` and `pt<tag>b<pid>`. `tag` is 1 to 6
    /// lowercase letters or digits, unique among the labs alive at once in a
    /// test binary (the test's name, shortened). The subnets come from the
    /// tag: 10.23x.y.0/24 and fd00:h::/64, A is `.1` / `::1`, B `.2` / `::2`.
    pub fn new(tag: &str) -> Lab {
        assert!(
            (1..=6).contains(&tag.len())
                && tag
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
            "lab tag {tag:?}: use 1 to 6 lowercase letters or digits"
        );
        let fresh = TAGS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get_or_insert_with(HashSet::new)
            .insert(tag.to_owned());
        assert!(fresh, "two labs with the tag {tag:?} at the same time");

        // FNV-1a over the tag picks the subnets (any value works: every lab
        // has namespaces of its own, so overlapping subnets never meet).
        let h = tag.bytes().fold(0x811c_9dc5_u32, |h, c| {
            (h ^ u32::from(c)).wrapping_mul(0x0100_0193)
        });
        let pid = std::process::id();
        let lab = Lab {
            tag: tag.to_owned(),
            a: format!("pt{tag}a{pid}"),
            b: format!("pt{tag}b{pid}"),
            v4: [230 + (h % 10) as u8, (h >> 8) as u8],
            v6: (h >> 16) as u16,
            www: std::env::temp_dir().join(format!("pt{tag}{pid}-www")),
        };
        // From here on Drop cleans up whatever was created, also on failure.
        for ns in [&lab.a, &lab.b] {
            if Path::new("/run/netns").join(ns).exists() {
                // Left over by a killed run whose pid was ours: nothing uses it.
                kill_all_in(ns);
                let _ = ip(&["netns", "del", ns]);
            }
            ip_ok(&["netns", "add", ns]);
        }
        ip_ok(&[
            "link", "add", IFNAME, "netns", &lab.a, "type", "veth", "peer", "name", IFNAME,
            "netns", &lab.b,
        ]);
        for (ns, v4, v6) in [
            (&lab.a, lab.addr_a(), lab.addr6_a()),
            (&lab.b, lab.addr_b(), lab.addr6_b()),
        ] {
            ip_ok(&["-n", ns, "link", "set", "lo", "up"]);
            ip_ok(&["-n", ns, "addr", "add", &format!("{v4}/24"), "dev", IFNAME]);
            ip_ok(&[
                "-n",
                ns,
                "addr",
                "add",
                &format!("{v6}/64"),
                "dev",
                IFNAME,
                "nodad",
            ]);
            ip_ok(&["-n", ns, "link", "set", IFNAME, "up"]);
        }
        lab
    }

    /// Namespace A's name (for `ip netns exec`).
    pub fn ns_a(&self) -> &str {
        &self.a
    }

    /// Namespace B's name.
    pub fn ns_b(&self) -> &str {
        &self.b
    }

    /// A's IPv4 address on `eth0`.
    pub fn addr_a(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, self.v4[0], self.v4[1], 1)
    }

    /// B's IPv4 address on `eth0`.
    pub fn addr_b(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, self.v4[0], self.v4[1], 2)
    }

    /// A's IPv6 address on `eth0` (no duplicate address detection: usable at once).
    pub fn addr6_a(&self) -> Ipv6Addr {
        Ipv6Addr::new(0xfd00, self.v6, 0, 0, 0, 0, 0, 1)
    }

    /// B's IPv6 address on `eth0`.
    pub fn addr6_b(&self) -> Ipv6Addr {
        Ipv6Addr::new(0xfd00, self.v6, 0, 0, 0, 0, 0, 2)
    }

    /// `program` in namespace A, as a `Command` to add arguments to.
    pub fn exec_a(&self, program: &str) -> Command {
        exec_in(&self.a, program)
    }

    /// `program` in namespace B.
    pub fn exec_b(&self, program: &str) -> Command {
        exec_in(&self.b, program)
    }

    /// Starts `program args` in B (stdio to /dev/null); the process is killed
    /// when the returned guard or the lab is dropped.
    pub fn spawn_b(&self, program: &str, args: &[&str]) -> Spawned {
        let child = self
            .exec_b(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {program} in {}: {e}", self.b));
        Spawned(child)
    }

    /// `python3 -m http.server` on B's IPv4 address and `port`, serving a
    /// directory with `index.html` (`podtap netns lab`); returns once it answers.
    pub fn http_server_b(&self, port: u16) -> Spawned {
        std::fs::create_dir_all(&self.www).expect("create the web root");
        std::fs::write(self.www.join("index.html"), "podtap netns lab\n")
            .expect("write index.html");
        let (www, bind, port_s) = (
            self.www.to_string_lossy(),
            self.addr_b().to_string(),
            port.to_string(),
        );
        let mut server = self.spawn_b(
            "python3",
            &[
                "-m",
                "http.server",
                &port_s,
                "--bind",
                &bind,
                "--directory",
                &www,
            ],
        );
        let addr = SocketAddr::new(self.addr_b().into(), port);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = server.0.try_wait() {
                panic!("http.server in {} exited: {status}", self.b);
            }
            if self
                .enter_b(|| TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok())
            {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "http.server in {} did not answer on {addr}",
                self.b
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs `f` on a thread inside namespace A and returns its result (sockets
    /// made there stay in A wherever they are used later).
    pub fn enter_a<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        enter(&self.a, f)
    }

    /// Runs `f` on a thread inside namespace B.
    pub fn enter_b<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        enter(&self.b, f)
    }

    /// Sends UDP datagrams from B's address to `dst:port` at `packets_per_second`
    /// (a token bucket, no bursts above 10 ms worth) for `duration`, then
    /// returns how many were sent. Bounded: at most 1M packets/s and 60 s.
    /// Each payload is 64 bytes starting with the big-endian sequence number.
    /// Blocks; for traffic during a test, call it in `std::thread::scope`.
    pub fn blast_udp_from_b(
        &self,
        dst: IpAddr,
        port: u16,
        packets_per_second: u32,
        duration: Duration,
    ) -> u64 {
        assert!(
            (1..=1_000_000).contains(&packets_per_second),
            "rate out of bounds"
        );
        assert!(
            duration <= Duration::from_secs(60),
            "duration out of bounds"
        );
        let src: IpAddr = if dst.is_ipv4() {
            self.addr_b().into()
        } else {
            self.addr6_b().into()
        };
        let socket = self
            .enter_b(|| UdpSocket::bind((src, 0)))
            .expect("bind the blaster's socket");
        let dst = SocketAddr::new(dst, port);
        let rate = f64::from(packets_per_second);
        let burst = (rate / 100.0).max(1.0);
        let mut payload = [0u8; 64];
        let (mut sent, mut tokens) = (0u64, 0.0f64);
        let start = Instant::now();
        let mut last = start;
        while last.duration_since(start) < duration {
            let now = Instant::now();
            tokens = (tokens + now.duration_since(last).as_secs_f64() * rate).min(burst);
            last = now;
            while tokens >= 1.0 {
                tokens -= 1.0;
                payload[..8].copy_from_slice(&sent.to_be_bytes());
                // A full socket buffer (ENOBUFS) is a lost packet, not an error.
                if socket.send_to(&payload, dst).is_ok() {
                    sent += 1;
                }
            }
            let wait = (1.0 - tokens) / rate;
            thread::sleep(Duration::from_secs_f64(wait.clamp(0.000_05, 0.001)));
        }
        sent
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in [&self.a, &self.b] {
            kill_all_in(ns);
            let _ = ip(&["netns", "del", ns]);
        }
        let _ = std::fs::remove_dir_all(&self.www);
        if let Some(tags) = TAGS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_mut()
        {
            tags.remove(&self.tag);
        }
    }
}

/// A process started in a namespace; killed and reaped on drop.
pub struct Spawned(pub Child);

impl Spawned {
    /// The process id.
    pub fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn exec_in(ns: &str, program: &str) -> Command {
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", ns, program]);
    cmd
}

/// SIGKILLs every process whose network namespace is `ns` and waits (up to a
/// second) until they are gone.
fn kill_all_in(ns: &str) {
    let me = std::process::id();
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let out = ip(&["netns", "pids", ns]);
        let pids: Vec<libc::pid_t> = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .filter(|&p: &libc::pid_t| p > 1 && p.cast_unsigned() != me)
            .collect();
        if pids.is_empty() || Instant::now() > deadline {
            return;
        }
        for pid in pids {
            // SAFETY: kill(2) has no memory-safety preconditions.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn enter<R: Send>(ns: &str, f: impl FnOnce() -> R + Send) -> R {
    let file = File::open(Path::new("/run/netns").join(ns))
        .unwrap_or_else(|e| panic!("open namespace {ns}: {e}"));
    thread::scope(|s| {
        let handle = s.spawn(move || {
            // SAFETY: setns on a thread this function owns, with a valid
            // network-namespace fd that outlives the call; it affects only this
            // thread, which ends when `f` returns.
            let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(
                rc,
                0,
                "setns into {ns}: {}",
                std::io::Error::last_os_error()
            );
            f()
        });
        handle
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}
