//! The skip rule of the lab's tests: outside CI a test that cannot run prints
//! `SKIPPED: <reason>` and passes; with `CI=true` it fails.

use std::process::Command;
use std::sync::OnceLock;

use super::ip;

/// Whether the lab can run: root, `ip` present, network namespaces creatable.
/// Otherwise prints `SKIPPED: <reason>` and returns false, or panics when
/// `CI=true` (CI must run everything).
pub fn require_root() -> bool {
    static PROBE: OnceLock<Result<(), String>> = OnceLock::new();
    match PROBE.get_or_init(probe) {
        Ok(()) => true,
        Err(reason) => skip(reason),
    }
}

/// Whether every program in `tools` can be found on `PATH`; otherwise skips
/// like [`require_root`].
pub fn require_tools(tools: &[&str]) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for tool in tools {
        if !std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()) {
            return skip(&format!(
                "{tool} is not installed (.ci/run installs it as root)"
            ));
        }
    }
    true
}

fn skip(reason: &str) -> bool {
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "CI=true but this test cannot run: {reason}"
    );
    eprintln!("SKIPPED: {reason}");
    false
}

fn probe() -> Result<(), String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1));
    if euid != Some("0") {
        return Err("network namespace tests need root".into());
    }
    if Command::new("ip").arg("-V").output().is_err() {
        return Err("ip (iproute2) is not installed".into());
    }
    let name = format!("ptprobe{}", std::process::id());
    let out = ip(&["netns", "add", &name]);
    let _ = ip(&["netns", "del", &name]);
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "cannot create network namespaces: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}
