//! Headless front end: the decode pipeline without a terminal.
//!
//! Reads a pcap or pcapng stream, runs it through [`crate::decode::Pipeline`]
//! and prints each result as it completes, as JSON lines (for scripts, CI and
//! benchmarks) or as a table (for people), then a summary. A damaged input
//! stops the reading, but everything decoded before the damage is printed
//! first and the summary names the error.

mod json;
#[cfg(feature = "tui")]
mod live;
mod table;

#[cfg(all(feature = "tui", feature = "cluster"))]
pub mod pod;

#[cfg(feature = "tui")]
pub use live::run_events;

use std::io::{self, Read, Write};

use crate::decode::{Event, Pipeline, PipelineConfig, Stats};
use crate::wire::{ReadCounters, Reader, Record, WireError};

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line, each with a `type`.
    Json,
    /// Aligned columns for people.
    Table,
}

/// What a headless run saw, printed as its last line.
#[derive(Debug)]
pub struct Summary {
    /// Pipeline counters.
    pub stats: Stats,
    /// Reader counters.
    pub reader: ReadCounters,
    /// Packets the capturing kernel or agent reported dropped (from pcapng statistics).
    pub capture_dropped: u64,
    /// Why reading stopped early, if it did.
    pub error: Option<WireError>,
    /// Why a live source ended early (agent or stream failure), if it did.
    pub ended: Option<String>,
}

/// Something that prints pipeline results.
trait Output {
    fn event(&mut self, event: &Event) -> io::Result<()>;
    /// A probe result from an agent (ping lines, like echo pairs seen in traffic).
    fn probe(&mut self, probe: &crate::wire::agent::ProbeResult) -> io::Result<()>;
    fn summary(&mut self, summary: &Summary) -> io::Result<()>;
}

/// Reads a whole capture from `input` and prints its results to `out`.
///
/// Returns `Err` only when the input is no capture at all or `out` fails; a
/// capture damaged part-way is an `Ok` whose summary carries the error.
pub fn run<R: Read, W: Write>(
    input: R,
    out: W,
    format: Format,
    config: PipelineConfig,
) -> Result<Summary, HeadlessError> {
    let mut reader = Reader::new(input).map_err(HeadlessError::Input)?;
    let mut output = output_for(out, format);
    let mut pipeline = Pipeline::new(config);
    let mut events = Vec::new();
    let mut dropped_by_interface: Vec<u64> = Vec::new();
    let error = loop {
        match reader.next_record() {
            Ok(Some(Record::Packet(p))) => pipeline.push(&p, &mut events),
            Ok(Some(Record::Stats(s))) => {
                let total = s
                    .dropped
                    .unwrap_or(0)
                    .saturating_add(s.os_dropped.unwrap_or(0));
                if dropped_by_interface.len() <= s.interface {
                    dropped_by_interface.resize(s.interface + 1, 0);
                }
                // The counters are cumulative: keep the latest per interface.
                dropped_by_interface[s.interface] = total;
            }
            Ok(Some(Record::Interface(_) | Record::Custom(_))) => {}
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
        for e in events.drain(..) {
            output.event(&e).map_err(HeadlessError::Output)?;
        }
    };
    pipeline.finish(&mut events);
    for e in events.drain(..) {
        output.event(&e).map_err(HeadlessError::Output)?;
    }
    let summary = Summary {
        stats: pipeline.stats(),
        reader: reader.counters(),
        capture_dropped: dropped_by_interface.iter().sum(),
        error,
        ended: None,
    };
    output.summary(&summary).map_err(HeadlessError::Output)?;
    Ok(summary)
}

fn output_for<'a, W: Write + 'a>(out: W, format: Format) -> Box<dyn Output + 'a> {
    match format {
        Format::Json => Box::new(json::JsonOutput::new(out)),
        Format::Table => Box::new(table::TableOutput::new(out)),
    }
}

/// Why a headless run could not complete.
#[derive(Debug, thiserror::Error)]
pub enum HeadlessError {
    /// The input is not a capture (or could not be read at all).
    #[error("{0}")]
    Input(#[source] WireError),
    /// Writing the results failed.
    #[error("writing results failed: {0}")]
    Output(#[source] io::Error),
}
