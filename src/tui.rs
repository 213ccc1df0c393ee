//! The terminal runner: sets the terminal up, feeds [`App`] with source and
//! terminal events, draws on a tick, and restores the terminal on every way
//! out (quit, error, panic, SIGTERM, SIGHUP).
//!
//! Nothing is printed while the alternate screen is up: diagnostics go to a
//! log file under the user's cache directory.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};
use std::time::{Duration, Instant};

use crossterm::event::{self, Event, KeyEventKind};

use crate::app::{App, AppEvent};
use crate::config::Config;
use crate::source::{self, SourceEvent, SourceSpec};
use crate::ui;

/// Time between frames (20 per second).
const FRAME: Duration = Duration::from_millis(50);
/// Source events applied per frame at most, so keys stay responsive under load.
const EVENTS_PER_FRAME: usize = 50_000;
/// Events queued between a source and the UI.
const CHANNEL: usize = 16_384;

/// Appends one line to `~/.cache/podtap/podtap.log` (best effort).
pub fn log(line: &str) {
    let Some(dir) = dirs::cache_dir().map(|d| d.join("podtap")) else {
        return;
    };
    let _ = std::fs::create_dir_all(&dir);
    if let Ok(mut f) = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("podtap.log"))
    {
        let _ = writeln!(f, "{line}");
    }
}

/// The log file's path, for messages.
pub fn log_path() -> Option<PathBuf> {
    dirs::cache_dir().map(|d| d.join("podtap").join("podtap.log"))
}

/// Runs the TUI on `spec` until the user quits.
pub fn run(spec: &SourceSpec, name: &str, config: &Config) -> Result<(), String> {
    let (tx, rx) = sync_channel(CHANNEL);
    let handle = source::start(spec, tx).map_err(|e| format!("cannot start {name}: {e}"))?;
    let signal = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
        let _ = signal_hook::flag::register(sig, Arc::clone(&signal));
    }
    let mut app = App::new(name, config);
    log(&format!(
        "podtap {} starting on {name}",
        env!("CARGO_PKG_VERSION")
    ));
    // ratatui::init installs a panic hook that restores the terminal first.
    let mut terminal = ratatui::init();
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture);
    let result = event_loop(&mut terminal, &mut app, &rx, &handle, &signal);
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    ratatui::restore();
    drop(handle);
    if let Err(e) = &result {
        log(&format!("error: {e}"));
    }
    result
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    rx: &Receiver<SourceEvent>,
    handle: &source::SourceHandle,
    signal: &AtomicBool,
) -> Result<(), String> {
    loop {
        let frame_start = Instant::now();
        for _ in 0..EVENTS_PER_FRAME {
            match rx.try_recv() {
                Ok(e) => app.update(AppEvent::Source(e), frame_start),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        app.update(AppEvent::Tick, frame_start);
        for c in app.controls.drain(..) {
            if let Some(tx) = &handle.control {
                let _ = tx.send(c);
            }
        }
        let size = terminal.size().map_err(|e| format!("terminal: {e}"))?;
        app.page = ui::layout_page_rows(ratatui::layout::Rect::new(0, 0, size.width, size.height));
        terminal
            .draw(|f| ui::render(f, app))
            .map_err(|e| format!("terminal: {e}"))?;
        if app.should_quit || signal.load(Ordering::Relaxed) {
            return Ok(());
        }
        let mut timeout = FRAME.saturating_sub(frame_start.elapsed());
        while event::poll(timeout).map_err(|e| format!("terminal: {e}"))? {
            match event::read().map_err(|e| format!("terminal: {e}"))? {
                Event::Key(k) if k.kind != KeyEventKind::Release => {
                    app.update(AppEvent::Key(k), Instant::now());
                }
                Event::Mouse(m) => app.update(AppEvent::Mouse(m), Instant::now()),
                _ => {}
            }
            if app.should_quit {
                return Ok(());
            }
            timeout = Duration::ZERO;
        }
    }
}
