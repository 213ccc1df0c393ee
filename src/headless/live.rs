//! Headless output of a live source (a pod's agent over exec, a local
//! agent): the same lines as `--read`, printed as the events arrive, and a
//! summary when the source ends or the user interrupts.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use super::{Format, HeadlessError, Summary, output_for};
use crate::decode::Event;
use crate::source::{SourceEvent, SourceStats};
use crate::wire::ReadCounters;

/// Prints events from `rx` until the source ends. When `interrupt` is set,
/// `stop` is called once and the remaining events (up to the source's end,
/// or two seconds) are still printed.
pub fn run_events<W: Write>(
    rx: &Receiver<SourceEvent>,
    out: W,
    format: Format,
    interrupt: &AtomicBool,
    stop: &dyn Fn(),
) -> Result<Summary, HeadlessError> {
    let mut output = output_for(out, format);
    let mut stats = SourceStats::default();
    let mut stopping: Option<Instant> = None;
    let ended = loop {
        if stopping.is_none() && interrupt.load(Ordering::Relaxed) {
            stop();
            stopping = Some(Instant::now());
        }
        if stopping.is_some_and(|t| t.elapsed() > Duration::from_secs(2)) {
            break None;
        }
        let event = match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(e) => e,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break None,
        };
        let w = match event {
            SourceEvent::Exchange(x) => output.event(&Event::Exchange(x)),
            SourceEvent::FlowEnded(f, r) => output.event(&Event::FlowEnded(f, r)),
            SourceEvent::Ping(p) => output.event(&Event::Ping(p)),
            SourceEvent::Probe(p) => output.probe(&p),
            SourceEvent::Stats(s) => {
                stats = *s;
                Ok(())
            }
            SourceEvent::Ended { error } => break error,
            SourceEvent::Flows { .. } | SourceEvent::Agent(_) => Ok(()),
        };
        w.map_err(HeadlessError::Output)?;
    };
    let summary = Summary {
        stats: stats.pipeline,
        reader: ReadCounters::default(),
        capture_dropped: stats.capture_dropped,
        error: None,
        ended,
    };
    output.summary(&summary).map_err(HeadlessError::Output)?;
    Ok(summary)
}
