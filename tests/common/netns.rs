//! A network namespace with an HTTP server in it, and the agent binary, for
//! the tests that run the real agent (root only): `tests/source.rs` and
//! `tests/cluster_stream.rs`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::run;

/// The port of the HTTP server in the namespace (on 127.0.0.1).
pub const PORT: u16 = 8000;

/// A network namespace with `lo` up and an HTTP server on 127.0.0.1; on drop
/// (also on panic) the agents left in it are killed and it is deleted.
pub struct Netns {
    name: String,
    www: PathBuf,
    server: Option<Child>,
}

impl Netns {
    /// Makes namespace `pt<tag><pid>` and waits until its server answers.
    pub fn new(tag: &str) -> Netns {
        let name = format!("pt{tag}{}", std::process::id());
        let www = std::env::temp_dir().join(&name);
        let mut ns = Netns {
            name,
            www,
            server: None,
        };
        run("ip", &["netns", "add", &ns.name]);
        run("ip", &["-n", &ns.name, "link", "set", "lo", "up"]);
        std::fs::create_dir_all(&ns.www).unwrap();
        std::fs::write(ns.www.join("index.html"), "<h1>podtap</h1>\n").unwrap();
        let server = ns
            .command("python3")
            .args([
                "-m",
                "http.server",
                &PORT.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .arg("--directory")
            .arg(&ns.www)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start python3 http.server");
        ns.server = Some(server);
        let deadline = Instant::now() + Duration::from_secs(10);
        while ns.curl("/") != "200" {
            assert!(Instant::now() < deadline, "http.server did not come up");
            thread::sleep(Duration::from_millis(100));
        }
        ns
    }

    /// The namespace's name (for `ip netns exec`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `ip netns exec NAME program`.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// GET `path` inside the namespace; the status code curl saw.
    pub fn curl(&self, path: &str) -> String {
        let out = self
            .command("curl")
            .args(["-s", "-o", "/dev/null", "-m", "5", "-w", "%{http_code}"])
            .arg(format!("http://127.0.0.1:{PORT}{path}"))
            .output()
            .expect("run curl");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The pids of `podtap-agent capture` processes in the namespace.
    pub fn agent_pids(&self) -> Vec<u32> {
        let out = Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output()
            .expect("ip netns pids");
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .filter(|pid| {
                let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
                args.iter().any(|a| a.ends_with(b"podtap-agent"))
                    && args.iter().any(|a| *a == b"capture")
            })
            .collect()
    }

    /// Waits up to `limit` until `done` holds for the agent pids; returns them.
    pub fn wait_pids(
        &self,
        limit: Duration,
        what: &str,
        done: impl Fn(&[u32]) -> bool,
    ) -> Vec<u32> {
        let deadline = Instant::now() + limit;
        loop {
            let pids = self.agent_pids();
            if done(&pids) {
                return pids;
            }
            assert!(
                Instant::now() < deadline,
                "{what} not within {limit:?}: agent pids {pids:?}"
            );
            thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Agents the test started, should any be left.
        for pid in self.agent_pids() {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        if let Some(mut server) = self.server.take() {
            let _ = server.kill();
            let _ = server.wait();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
        let _ = std::fs::remove_dir_all(&self.www);
    }
}

impl Netns {
    /// What the fake API server's exec runs: `/podtap-agent ARGS` becomes the
    /// real agent (with `extra` appended) inside this namespace, as if the
    /// agent container shared the pod's network; anything else runs there as given.
    pub fn exec_plug(
        &self,
        extra: &[&str],
    ) -> impl Fn(&str, &[String]) -> Command + Send + Sync + 'static {
        let agent = agent_binary();
        let netns = self.name.clone();
        let extra: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        move |_container, command| {
            let mut cmd = Command::new("ip");
            cmd.args(["netns", "exec", &netns]);
            match command.split_first() {
                Some((program, rest)) if program == "/podtap-agent" => {
                    cmd.arg(&agent).args(rest).args(&extra);
                }
                _ => {
                    cmd.args(command);
                }
            }
            cmd
        }
    }
}

/// Why `test` (e.g. "the Local source test") cannot run here, if it cannot:
/// it needs root, `ip`, python3 and curl.
pub fn missing_requirement(test: &str) -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1));
    if euid != Some("0") {
        return Some(format!("{test} needs root (ip netns)"));
    }
    for tool in ["ip", "python3", "curl"] {
        let found = std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()));
        if !found {
            return Some(format!("{tool} is not installed"));
        }
    }
    None
}

/// The agent binary, brought up to date once per test process (so a stale
/// build left in `target/` is never what a test runs).
pub fn agent_binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map_or_else(|| manifest.join("target"), PathBuf::from);
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let status = Command::new(cargo)
                .args(["build", "-p", "podtap-agent", "--quiet"])
                .current_dir(manifest)
                .status()
                .expect("run cargo build -p podtap-agent");
            assert!(status.success(), "cargo build -p podtap-agent failed");
            target.join("debug").join("podtap-agent")
        })
        .clone()
}
