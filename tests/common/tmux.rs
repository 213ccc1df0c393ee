//! The real binary in a real terminal: a tmux session at a fixed size,
//! keys in with `send-keys`, the screen back with `capture-pane`.

use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

/// A detached tmux session running one command; killed on drop.
pub struct Session(String);

impl Session {
    /// Runs `env NO_COLOR=1 ENV... PROGRAM ARGS` at `width`x`height`, then
    /// prints `EXITED <code>` and lingers so the end can be read. `None`
    /// (after the skip rule) when tmux is missing.
    pub fn start(
        program: &str,
        args: &str,
        env: &[(&str, &str)],
        width: u16,
        height: u16,
    ) -> Option<Session> {
        if Command::new("tmux").arg("-V").output().is_err() {
            super::skip("tmux is not installed (apt-get install tmux)");
            return None;
        }
        let name = format!(
            "podtap-test-{}-{width}x{height}-{}",
            std::process::id(),
            SESSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let env: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let env = env.join(" ");
        let status = Command::new("tmux")
            .args(["new-session", "-d", "-s", &name])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .arg(format!(
                "env NO_COLOR=1 {env} {program} {args}; echo EXITED $?; sleep 30"
            ))
            .status()
            .expect("run tmux");
        assert!(status.success(), "tmux new-session failed");
        Some(Session(name))
    }

    /// The screen as text.
    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.0])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The terminal's modes: `(alternate screen on, cursor visible, mouse reporting on)`.
    pub fn modes(&self) -> (bool, bool, bool) {
        let out = Command::new("tmux")
            .args(["display-message", "-p", "-t", &self.0])
            .arg("#{alternate_on} #{cursor_flag} #{mouse_any_flag}")
            .output()
            .expect("tmux display-message");
        let text = String::from_utf8_lossy(&out.stdout);
        let flags: Vec<bool> = text.split_whitespace().map(|f| f == "1").collect();
        assert_eq!(flags.len(), 3, "tmux display-message printed {text:?}");
        (flags[0], flags[1], flags[2])
    }

    /// `tmux send-keys` (use `-l` first for literal text).
    pub fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["send-keys", "-t", &self.0])
            .args(keys)
            .status()
            .expect("send-keys");
        assert!(status.success());
    }

    /// Polls the screen until `cond` holds, for at most 10 s.
    pub fn wait(&self, what: &str, cond: impl Fn(&str) -> bool) -> String {
        self.wait_for(Duration::from_secs(10), what, cond)
    }

    /// Polls the screen until `cond` holds, for at most `limit`.
    pub fn wait_for(&self, limit: Duration, what: &str, cond: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + limit;
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

static SESSIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .status();
    }
}
