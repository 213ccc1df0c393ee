//! The real binary in a real terminal: tmux runs `podtap --demo` at a fixed
//! size, keys go in with `send-keys`, the screen comes back with
//! `capture-pane`. These are the paths a user takes first.

mod common;

use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

const PODTAP: &str = env!("CARGO_BIN_EXE_podtap");

struct Session(String);

impl Session {
    fn start(args: &str, width: u16, height: u16) -> Option<Session> {
        if Command::new("tmux").arg("-V").output().is_err() {
            common::skip("tmux is not installed (apt-get install tmux)");
            return None;
        }
        let name = format!("podtap-test-{}-{width}x{height}", std::process::id());
        let status = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &name,
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
            ])
            .arg(format!(
                "env NO_COLOR=1 {PODTAP} {args}; echo EXITED $?; sleep 30"
            ))
            .status()
            .expect("run tmux");
        assert!(status.success(), "tmux new-session failed");
        Some(Session(name))
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.0])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["send-keys", "-t", &self.0])
            .args(keys)
            .status()
            .expect("send-keys");
        assert!(status.success());
    }

    /// Polls the screen until `cond` holds (drawing is asynchronous).
    fn wait(&self, what: &str, cond: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let s = self.screen();
            if cond(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{s}"
            );
            thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .status();
    }
}

#[test]
fn demo_at_80x24_shows_traffic_filters_and_quits_cleanly() {
    let Some(s) = Session::start("--demo", 80, 24) else {
        return;
    };
    let screen = s.wait("HTTP rows", |t| t.contains("GET") && t.contains("/api/"));
    assert!(screen.lines().count() <= 24);
    assert!(
        screen.contains("demo"),
        "the status bar names the source:\n{screen}"
    );
    // Filter to server errors only.
    s.keys(&["/"]);
    s.keys(&["-l", "status:5xx"]);
    s.keys(&["Enter"]);
    let screen = s.wait("only 5xx rows", |t| {
        let rows: Vec<&str> = t
            .lines()
            .filter(|l| l.contains(" /api") || l.contains(" /healthz") || l.contains(" /metrics"))
            .collect();
        !rows.is_empty() && rows.iter().all(|l| l.contains(" 50"))
    });
    assert!(
        screen.contains("status:5xx"),
        "the active filter is shown:\n{screen}"
    );
    // Flows and ping panes.
    s.keys(&["2"]);
    s.wait("the flows pane", |t| {
        t.contains("10.244.")
            && (t.contains("established") || t.contains("ESTAB") || t.contains("closed"))
    });
    s.keys(&["3"]);
    s.wait("the ping pane", |t| t.to_lowercase().contains("loss"));
    s.keys(&["?"]);
    s.wait("the help", |t| t.contains("quit"));
    // Esc then q at once would reach the app as Alt-q: wait between them.
    s.keys(&["Escape"]);
    s.wait("the help to close", |t| !t.contains("show these keys"));
    s.keys(&["q"]);
    let screen = s.wait("a clean exit", |t| t.contains("EXITED 0"));
    assert!(!screen.contains("panicked"), "{screen}");
}

#[test]
fn a_large_terminal_shows_all_panes_at_once() {
    let Some(s) = Session::start("--demo", 200, 50) else {
        return;
    };
    let screen = s.wait("three panes", |t| {
        t.contains("GET") && t.to_lowercase().contains("loss") && t.contains("10.244.")
    });
    assert!(screen.lines().count() <= 50);
    s.keys(&["q"]);
    s.wait("a clean exit", |t| t.contains("EXITED 0"));
}
