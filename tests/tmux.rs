//! The real binary in a real terminal: tmux runs `podtap --demo` at a fixed
//! size, keys go in with `send-keys`, the screen comes back with
//! `capture-pane`. These are the paths a user takes first.

mod common;

use common::tmux::Session;

const PODTAP: &str = env!("CARGO_BIN_EXE_podtap");

/// `podtap ARGS` in a fresh tmux session.
fn start(args: &str, width: u16, height: u16) -> Option<Session> {
    Session::start(PODTAP, args, &[], width, height)
}

#[test]
fn demo_at_80x24_shows_traffic_filters_and_quits_cleanly() {
    let Some(s) = start("--demo", 80, 24) else {
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
    // Enter opens the selected 5xx exchange's details; Esc goes back.
    s.keys(&["Enter"]);
    s.wait("the detail view of a 5xx", |t| {
        t.contains("Exchange #") && t.contains("HTTP/1.1 50")
    });
    s.keys(&["Escape"]);
    s.wait("the list again", |t| t.contains("Latency"));
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
    assert_eq!(s.modes(), (false, true, false), "the terminal is restored");
}

#[test]
fn a_large_terminal_shows_all_panes_at_once() {
    let Some(s) = start("--demo", 200, 50) else {
        return;
    };
    let screen = s.wait("three panes", |t| {
        t.contains("GET") && t.to_lowercase().contains("loss") && t.contains("10.244.")
    });
    assert!(screen.lines().count() <= 50);
    s.keys(&["q"]);
    s.wait("a clean exit", |t| t.contains("EXITED 0"));
}

#[test]
fn a_capture_file_opens_in_the_same_panes_with_details() {
    let Some(path) = common::capture("methods.pcap") else {
        return;
    };
    let Some(s) = start(&format!("--read {}", path.display()), 80, 24) else {
        return;
    };
    let screen = s.wait("HTTP rows from the capture", |t| {
        t.contains("GET") && t.contains("ended")
    });
    assert!(screen.lines().count() <= 24);
    assert!(screen.contains("methods.pcap"), "{screen}");
    // Enter opens the selected exchange's details.
    s.keys(&["g"]);
    s.keys(&["Enter"]);
    s.wait("the detail view", |t| {
        t.contains("Exchange #") && t.contains("HTTP/1.1 ") && t.contains("Timing")
    });
    s.keys(&["Escape"]);
    s.wait("the list again", |t| t.contains("Method"));
    // A filter leaves only its rows (methods.pcap has one request per method).
    s.keys(&["/"]);
    s.keys(&["-l", "method:HEAD"]);
    s.keys(&["Enter"]);
    s.wait("only HEAD rows", |t| {
        let rows: Vec<&str> = t
            .lines()
            .filter(|l| l.starts_with('│') && l.contains(':') && !l.contains("Method"))
            .collect();
        !rows.is_empty() && rows.iter().all(|l| l.contains(" HEAD "))
    });
    s.keys(&["q"]);
    let screen = s.wait("a clean exit", |t| t.contains("EXITED 0"));
    assert!(!screen.contains("panicked"), "{screen}");
}

/// SIGTERM and SIGHUP end podtap like `q` does: the alternate screen is
/// left, the cursor is back and mouse reporting is off.
#[test]
fn signals_restore_the_terminal() {
    for (signal, seed) in [("TERM", 7101), ("HUP", 7102)] {
        let Some(s) = start(&format!("--demo --seed {seed}"), 80, 24) else {
            return;
        };
        s.wait("HTTP rows", |t| t.contains("GET"));
        assert_eq!(s.modes(), (true, false, true), "while running");
        // Anchored: the shell around it has the same words in its command line.
        let pattern = format!("^{PODTAP} --demo --seed {seed}");
        let status = std::process::Command::new("pkill")
            .args([&format!("-{signal}"), "-f", &pattern])
            .status()
            .expect("run pkill");
        assert!(status.success(), "no process matched {pattern}");
        let screen = s.wait("the exit", |t| t.contains("EXITED"));
        assert!(screen.contains("EXITED 0"), "SIG{signal}:\n{screen}");
        assert_eq!(s.modes(), (false, true, false), "after SIG{signal}");
    }
}

/// A terminal that goes away without a signal reaching podtap (tmux kills
/// the session; the shell that ran podtap as a child gets the SIGHUP and
/// dies) still ends it, instead of leaving it spinning on a dead terminal.
#[test]
fn a_hung_up_terminal_ends_podtap_without_a_signal() {
    let seed = 7103;
    let Some(s) = start(&format!("--demo --seed {seed}"), 80, 24) else {
        return;
    };
    s.wait("HTTP rows", |t| t.contains("GET"));
    let pattern = format!("^{PODTAP} --demo --seed {seed}");
    let running = || {
        std::process::Command::new("pgrep")
            .args(["-f", &pattern])
            .output()
            .expect("run pgrep")
            .status
            .success()
    };
    assert!(running(), "no process matched {pattern}");
    drop(s);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while running() {
        assert!(
            std::time::Instant::now() < deadline,
            "podtap still runs 5 s after its terminal went away"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
