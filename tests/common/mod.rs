//! Helpers shared by the integration tests: where the third-party captures
//! are, which external tools exist, and the skip rule (skip with a reason
//! outside CI, fail in CI where everything must be present); `netns` for
//! the tests that run the real agent.

#![allow(dead_code)]

pub mod netns;
pub mod tmux;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Skips the current test with `reason`, or fails it when `CI=true`.
pub fn skip(reason: &str) {
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "CI=true but this test cannot run: {reason}"
    );
    eprintln!("SKIPPED: {reason}");
}

/// The third-party capture corpus (`../shared/captures`, or `PODTAP_CAPTURES`).
pub fn captures_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("PODTAP_CAPTURES").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/captures"),
        PathBuf::from,
    );
    if dir.is_dir() {
        Some(dir)
    } else {
        skip(&format!("capture corpus not found at {}", dir.display()));
        None
    }
}

/// One file of the capture corpus.
pub fn capture(name: &str) -> Option<PathBuf> {
    let path = captures_dir()?.join(name);
    if path.is_file() {
        Some(path)
    } else {
        skip(&format!("capture {} not found", path.display()));
        None
    }
}

/// Whether an external program runs (`NAME --version` succeeds); skips otherwise.
pub fn tool(name: &str) -> bool {
    let ok = Command::new(name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        skip(&format!(
            "{name} is not installed (apt-get install tshark tcpdump)"
        ));
    }
    ok
}

/// Runs `program` with `args` and fails the test unless it succeeds.
pub fn run(program: &str, args: &[&str]) {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

/// Runs tshark on `file` with extra arguments and returns its stdout lines.
pub fn tshark(file: &Path, args: &[&str]) -> Vec<String> {
    let out = Command::new("tshark")
        .arg("-n")
        .arg("-r")
        .arg(file)
        .args(args)
        .output()
        .expect("run tshark");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A ratatui test buffer as text: one line per row, trailing blanks trimmed.
#[cfg(feature = "tui")]
pub fn buffer_text(buf: &ratatui::buffer::Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let line: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
