//! The terminal runner: sets the terminal up, feeds [`App`] with source and
//! terminal events, draws on a tick, and restores the terminal on every way
//! out (quit, error, panic, SIGTERM, SIGHUP).
//!
//! Nothing is printed while the alternate screen is up: diagnostics go to a
//! log file under the user's cache directory.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyEventKind};

use crate::app::{App, AppEvent};
use crate::config::Config;
use crate::source::{self, SourceEvent, SourceSpec};
use crate::ui;

mod input;
use input::Input;

/// Time between frames (20 per second).
pub const FRAME: Duration = Duration::from_millis(50);
/// How long a frame may spend applying source events, so that a frame (and
/// the key that follows it) is not held up by a backlog: a count cannot
/// bound it, since one event may be an exchange or a 100,000-flow snapshot.
pub const DRAIN_BUDGET: Duration = Duration::from_millis(20);
/// Events applied between two looks at the clock.
const DRAIN_CHECK: usize = 64;
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

/// One frame's share of the source: applies queued events until the channel
/// is empty or [`DRAIN_BUDGET`] is spent, then ticks. Returns the events applied.
///
/// The runner calls it before each frame; `benches/tui_ingest.rs` runs it
/// the same way.
pub fn pump(app: &mut App, rx: &Receiver<SourceEvent>, now: Instant) -> usize {
    let start = Instant::now();
    let mut applied = 0;
    'drain: loop {
        for _ in 0..DRAIN_CHECK {
            match rx.try_recv() {
                Ok(e) => app.update(AppEvent::Source(e), now),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break 'drain,
            }
            applied += 1;
        }
        if start.elapsed() >= DRAIN_BUDGET {
            break;
        }
    }
    app.update(AppEvent::Tick, now);
    applied
}

/// A source feeding an [`App`].
struct Live {
    app: App,
    rx: Receiver<SourceEvent>,
    handle: source::SourceHandle,
    /// The screen of the last frame, for placing clicks.
    screen: ratatui::layout::Rect,
}

impl Live {
    fn new(app: App, rx: Receiver<SourceEvent>, handle: source::SourceHandle) -> Self {
        Live {
            app,
            rx,
            handle,
            screen: ratatui::layout::Rect::default(),
        }
    }

    /// Applies the queued source events (see [`pump`]), ticks, and sends
    /// the app's control lines to the source.
    fn pump(&mut self, now: Instant) {
        pump(&mut self.app, &self.rx, now);
        for c in self.app.controls.drain(..) {
            if let Some(tx) = &self.handle.control {
                let _ = tx.send(c);
            }
        }
    }

    /// Draws the panes (sizing the app's page first).
    fn draw(&mut self, terminal: &mut ratatui::DefaultTerminal) -> Result<(), String> {
        let size = terminal.size().map_err(terminal_error)?;
        self.screen = ratatui::layout::Rect::new(0, 0, size.width, size.height);
        self.app.page = ui::layout_page_rows(self.screen);
        terminal
            .draw(|f| ui::render(f, &self.app))
            .map_err(terminal_error)?;
        Ok(())
    }

    /// A terminal event; a left click is placed on the last drawn screen.
    fn input(&mut self, e: &Event) {
        match *e {
            Event::Key(k) if k.kind != KeyEventKind::Release => {
                self.app.update(AppEvent::Key(k), Instant::now());
            }
            Event::Mouse(m)
                if m.kind
                    == crossterm::event::MouseEventKind::Down(
                        crossterm::event::MouseButton::Left,
                    ) =>
            {
                if let Some(c) = ui::click_at(self.screen, &self.app, m.column, m.row) {
                    self.app.update(AppEvent::Click(c), Instant::now());
                }
            }
            Event::Mouse(m) => self.app.update(AppEvent::Mouse(m), Instant::now()),
            _ => {}
        }
    }
}

#[allow(
    clippy::needless_pass_by_value,
    reason = "used as map_err(terminal_error)"
)]
fn terminal_error(e: std::io::Error) -> String {
    format!("terminal: {e}")
}

/// Runs the TUI on `spec` until the user quits.
pub fn run(spec: &SourceSpec, name: &str, config: &Config) -> Result<(), String> {
    let (tx, rx) = sync_channel(CHANNEL);
    let handle = source::start(spec, tx).map_err(|e| format!("cannot start {name}: {e}"))?;
    ui::Theme::configure(config.theme.as_deref());
    let mut live = Live::new(App::new(name, config), rx, handle);
    log(&format!(
        "podtap {} starting on {name}",
        env!("CARGO_PKG_VERSION")
    ));
    with_terminal(|terminal, input| {
        loop {
            let frame_start = Instant::now();
            live.pump(frame_start);
            live.draw(terminal)?;
            if live.app.should_quit || input.gone() {
                return Ok(());
            }
            if input.read(frame_start, |e| {
                live.input(&e);
                live.app.should_quit
            })? {
                return Ok(());
            }
        }
    })
}

/// Sets the terminal up, runs `body`, and restores the terminal whatever
/// happens (ratatui's panic hook restores it on a panic). `body` gets the
/// terminal and its [`Input`].
fn with_terminal(
    body: impl FnOnce(&mut ratatui::DefaultTerminal, &Input) -> Result<(), String>,
) -> Result<(), String> {
    let input = Input::start();
    let mut terminal = ratatui::init();
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture);
    let result = body(&mut terminal, &input);
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    ratatui::restore();
    if let Err(e) = &result {
        log(&format!("error: {e}"));
    }
    result
}

/// Cluster mode: what to start with and how to add the agent.
#[cfg(feature = "cluster")]
#[derive(Debug, Clone)]
pub struct ClusterRun {
    /// Contexts, and where to start.
    pub start: crate::front::Start,
    /// Kubeconfig, image, timeouts.
    pub worker: crate::front::worker::WorkerOptions,
}

/// Runs cluster mode: pickers, launch screen, then the live panes; Esc in
/// the panes goes back to the pods.
#[cfg(feature = "cluster")]
pub fn run_cluster(run: ClusterRun, config: &Config) -> Result<(), String> {
    use std::sync::mpsc::channel;

    use crate::front::worker::{Outputs, Worker};
    use crate::front::{Front, Stage};

    let (front_tx, front_rx) = channel();
    let (cluster_tx, cluster_rx) = channel();
    let (live_tx, live_rx) = channel();
    let worker = Worker::start(
        run.worker,
        Outputs {
            front: front_tx,
            cluster: cluster_tx,
            live: live_tx,
        },
    )
    .map_err(|e| format!("cannot start the cluster worker: {e}"))?;
    log(&format!(
        "podtap {} starting in cluster mode",
        env!("CARGO_PKG_VERSION")
    ));
    ui::Theme::configure(config.theme.as_deref());
    let mut front = Front::new(run.start, Instant::now());
    let mut live: Option<Live> = None;
    let mut retired = Vec::new();
    let mut picker_screen = ratatui::layout::Rect::default();
    let result = with_terminal(|terminal, input| {
        loop {
            let now = Instant::now();
            front.tick(now);
            for r in front.requests.drain(..) {
                worker.send(r);
            }
            for e in front_rx.try_iter() {
                front.on_worker(e);
            }
            for e in cluster_rx.try_iter() {
                front.on_cluster(&e);
                if let (Some(l), Some(text)) = (&mut live, e.describe()) {
                    log(&text);
                    l.app.notice(text);
                }
            }
            for stream in live_rx.try_iter() {
                let wanted = front.stage == Stage::Launch
                    && live.is_none()
                    && front
                        .launch
                        .as_ref()
                        .is_some_and(|l| !l.finished() && l.id == stream.launch);
                if wanted {
                    let mut app = App::new(
                        format!("{}/{}", stream.agent.namespace, stream.agent.pod),
                        config,
                    );
                    app.can_go_back = true;
                    live = Some(Live::new(app, stream.events, stream.handle));
                } else {
                    retired.push(retire(stream.handle));
                }
            }
            if let Some(l) = &mut live {
                l.pump(now);
            }
            // The panes take over once the exec stream is up; a launch that
            // failed after the stream was created lets it go.
            if front.stage == Stage::Launch
                && let Some(launch) = &front.launch
            {
                if launch.streaming && live.is_some() {
                    front.went_live();
                } else if launch.finished()
                    && let Some(l) = live.take()
                {
                    retired.push(retire(l.handle));
                }
            }
            // Esc in the panes, or a launch abandoned while its stream was starting.
            let left = live.as_ref().is_some_and(|l| l.app.wants_back)
                || !matches!(front.stage, Stage::Live | Stage::Launch);
            if left && let Some(l) = live.take() {
                retired.push(retire(l.handle));
                if front.stage == Stage::Live {
                    front.back_to_pods();
                }
            }
            match (&mut live, front.stage) {
                (Some(l), Stage::Live) => l.draw(terminal)?,
                _ => {
                    picker_screen = terminal
                        .draw(|f| ui::picker::render(f, &front, ui::Theme::current()))
                        .map_err(terminal_error)?
                        .area;
                }
            }
            if quit_now(&front, live.as_ref()) || input.gone() {
                return Ok(());
            }
            input.read(now, |e| {
                match (&mut live, front.stage) {
                    (Some(l), Stage::Live) => l.input(&e),
                    _ => match e {
                        Event::Key(k) if k.kind != KeyEventKind::Release => front.on_key(k),
                        // Placed on the screen the pickers were last drawn on.
                        Event::Mouse(m) => front.on_mouse(m, picker_screen),
                        _ => {}
                    },
                }
                // Stop reading: quit, go back, or a request for the worker.
                quit_now(&front, live.as_ref())
                    || live.as_ref().is_some_and(|l| l.app.wants_back)
                    || !front.requests.is_empty()
            })?;
            if quit_now(&front, live.as_ref()) {
                return Ok(());
            }
        }
    });
    // Streams first (their threads use the worker's runtime), then the worker.
    if let Some(l) = live.take() {
        retired.push(retire(l.handle));
    }
    for t in retired {
        let _ = t.join();
    }
    worker.finish(&live_rx);
    result
}

#[cfg(feature = "cluster")]
fn quit_now(front: &crate::front::Front, live: Option<&Live>) -> bool {
    front.should_quit || live.as_ref().is_some_and(|l| l.app.should_quit)
}

/// Stops a stream on a thread of its own (it may take a moment to say
/// goodbye to the agent), so the screen does not freeze.
#[cfg(feature = "cluster")]
fn retire(handle: source::SourceHandle) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || drop(handle))
}
