//! Terminal input on a thread of its own, and noticing that the terminal
//! went away.

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, sync_channel};
use std::time::Instant;

use crossterm::event::{self, Event};

use super::{FRAME, terminal_error};

/// Terminal events, read on a thread of their own, and the ways the
/// terminal can go away.
///
/// crossterm's reader spins without returning once its terminal hangs up
/// (a read of 0 bytes is not an event, and it reads again). A terminal can
/// hang up without a SIGHUP reaching us, e.g. when tmux kills a session
/// whose shell runs podtap as a child. So the frame loop never waits inside
/// crossterm; it waits on a channel, and checks [`Input::gone`] each frame.
pub(super) struct Input {
    events: Receiver<std::io::Result<Event>>,
    /// Raised by SIGTERM and SIGHUP.
    signal: Arc<AtomicBool>,
    /// Whether stdout was a terminal at the start.
    tty: bool,
}

impl Input {
    pub(super) fn start() -> Self {
        let signal = Arc::new(AtomicBool::new(false));
        for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
            let _ = signal_hook::flag::register(sig, Arc::clone(&signal));
        }
        let (tx, events) = sync_channel(256);
        // Left to end with the process: a blocked read cannot be interrupted.
        let _ = std::thread::Builder::new()
            .name("terminal input".into())
            .spawn(move || {
                loop {
                    let e = event::read();
                    let failed = e.is_err();
                    if tx.send(e).is_err() || failed {
                        return;
                    }
                }
            });
        Input {
            events,
            signal,
            tty: std::io::stdout().is_terminal(),
        }
    }

    /// A signal asked us to stop, or the terminal hung up (a hung-up
    /// terminal is no longer a terminal to `isatty`).
    pub(super) fn gone(&self) -> bool {
        self.signal.load(Ordering::Relaxed) || (self.tty && !std::io::stdout().is_terminal())
    }

    /// Waits for terminal events until the frame that started at
    /// `frame_start` is over, and hands the first and any already queued
    /// behind it to `on_event` (so a key is drawn at once); `true` when
    /// `on_event` asked to quit.
    pub(super) fn read(
        &self,
        frame_start: Instant,
        mut on_event: impl FnMut(Event) -> bool,
    ) -> Result<bool, String> {
        let timeout = FRAME.saturating_sub(frame_start.elapsed());
        let first = match self.events.recv_timeout(timeout) {
            Ok(e) => e,
            Err(RecvTimeoutError::Timeout) => return Ok(false),
            Err(RecvTimeoutError::Disconnected) => return Err("terminal: input ended".into()),
        };
        for e in std::iter::once(first).chain(self.events.try_iter()) {
            if on_event(e.map_err(terminal_error)?) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
