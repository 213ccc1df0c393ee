//! Keystrokes while a source delivers 100,000 packets a second.
//!
//! The synthetic shop pod (`podtap::synth`) is decoded through the real
//! pipeline ahead of time, then a feeder thread replays the events into the
//! runner's bounded channel at the wall-clock pace of 100,000 packets a
//! second, dropping and counting when it is full like a live source, with
//! counters and a flow report (changed flows) every 500 ms as
//! `source::drive` sends them.
//! The main thread runs the runner's frame loop (`tui::pump`, then a draw at
//! 250x70, then waiting for input until the frame is over) on an app that
//! already holds a full history, and presses a key every few frames at a
//! random moment. A key is handled when the loop reads input (at once while
//! it waits, after the draw when it is busy) and shows in the next frame
//! drawn; its latency is key press to the end of that draw.
//!
//! `cargo bench --bench tui_ingest`. Prints figures; asserts nothing on timing.
//! `PODTAP_BENCH_CONNECTIONS` (default `300,30000`) sets the scenarios;
//! `PODTAP_BENCH_DRAWS` (default 100) the draws timed once the feed stopped
//! (raise it to profile drawing with `perf record`).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::thread;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use podtap::app::AppEvent;
use podtap::decode::flow::FlowInfo;
use podtap::decode::{Event, Pipeline, PipelineConfig};
use podtap::source::{SourceEvent, SourceStats};
use podtap::synth::{Generator, SynthConfig};
use podtap::tui::{FRAME, pump};
use podtap::ui;
use podtap::wire::{LinkType, Packet};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

/// Packets per second of the source.
const RATE: u64 = 100_000;
/// Seconds replayed per scenario.
const SECONDS: u64 = 6;
/// Counters and a flows snapshot every this many packets (500 ms).
const REPORT_EVERY: u64 = RATE / 2;
/// The runner's channel size (`tui.rs`).
const CHANNEL: usize = 16_384;
/// Exchanges stored before the replay starts.
const HISTORY: usize = 1_000_000;

/// What the source sends, each with the packet count at which it is due.
struct Recorded {
    events: Vec<(u64, SourceEvent)>,
    exchanges: usize,
    peak_flows: usize,
}

fn record(connections: u32) -> Recorded {
    let packets = RATE * SECONDS;
    let mut generator = Generator::new(&SynthConfig {
        connections,
        packets: Some(packets),
        ..SynthConfig::default()
    });
    let mut pipeline = Pipeline::new(PipelineConfig::default());
    let mut out = Vec::new();
    let mut rec = Recorded {
        events: Vec::new(),
        exchanges: 0,
        peak_flows: 0,
    };
    let mut n = 0u64;
    let mut reports = 0u64;
    while let Some(p) = generator.next_packet() {
        let pkt = Packet {
            interface: 0,
            link_type: LinkType::ETHERNET,
            ts: p.ts,
            orig_len: p.frame.len() as u32,
            data: p.frame,
            direction: p.direction,
        };
        pipeline.push(&pkt, &mut out);
        n += 1;
        for e in out.drain(..) {
            let e = match e {
                Event::Exchange(x) => {
                    rec.exchanges += 1;
                    SourceEvent::Exchange(x)
                }
                Event::FlowEnded(f, why) => SourceEvent::FlowEnded(f, why),
                Event::Ping(p) => SourceEvent::Ping(p),
            };
            rec.events.push((n, e));
        }
        if n.is_multiple_of(REPORT_EVERY) {
            let stats = SourceStats {
                packets: n,
                pipeline: pipeline.stats(),
                ..SourceStats::default()
            };
            rec.events.push((n, SourceEvent::Stats(Box::new(stats))));
            // As the source does: all flows first, then the changed ones.
            reports += 1;
            let full = reports == 1;
            let mut flows: Vec<FlowInfo> = pipeline.take_flow_report(full);
            flows.sort_by_key(|f| f.id);
            rec.peak_flows = rec.peak_flows.max(pipeline.flows().count());
            rec.events.push((n, SourceEvent::Flows { flows, full }));
        }
    }
    rec
}

/// Sends `events` at `RATE` packets a second; counts what did not fit.
fn feed(
    events: Vec<(u64, SourceEvent)>,
    tx: &SyncSender<SourceEvent>,
    dropped: &AtomicU64,
    done: &AtomicBool,
) {
    let start = Instant::now();
    let mut events = events.into_iter().peekable();
    while events.peek().is_some() {
        let due = (start.elapsed().as_secs_f64() * RATE as f64) as u64;
        while let Some((_, e)) = events.next_if(|(n, _)| *n <= due) {
            match tx.try_send(e) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => {
                    dropped.fetch_add(1, Ordering::Relaxed);
                }
                Err(TrySendError::Disconnected(_)) => return,
            }
        }
        thread::sleep(Duration::from_millis(1));
    }
    done.store(true, Ordering::Relaxed);
}

fn percentiles(name: &str, mut v: Vec<Duration>) {
    v.sort();
    let at = |q: f64| v[((v.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
    if v.is_empty() {
        println!("  {name}: none");
        return;
    }
    println!(
        "  {name:<28} p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>6.2} ms  ({} samples)",
        at(0.5),
        at(0.99),
        at(1.0),
        v.len()
    );
}

fn scenario(connections: u32) {
    let t = Instant::now();
    let rec = record(connections);
    println!(
        "{connections} connections: {} s at {RATE} packets/s = {} events ({} exchanges, up to {} live flows); decoded in {:.1} s",
        SECONDS,
        rec.events.len(),
        rec.exchanges,
        rec.peak_flows,
        t.elapsed().as_secs_f64()
    );
    let mut app = common::app(HISTORY, 100_000);
    // A full history first: the recorded exchanges over and over.
    let now = Instant::now();
    let history = rec.events.iter().filter_map(|(_, e)| match e {
        SourceEvent::Exchange(_) => Some(AppEvent::Source(e.clone())),
        _ => None,
    });
    for e in history.cycle().take(HISTORY) {
        app.update(e, now);
    }

    let area = Rect::new(0, 0, 250, 70);
    let mut terminal = Terminal::new(TestBackend::new(area.width, area.height)).expect("terminal");
    app.page = ui::layout_page_rows(area);
    let (tx, rx) = sync_channel(CHANNEL);
    let dropped = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let feeder = {
        let (dropped, done) = (Arc::clone(&dropped), Arc::clone(&done));
        let events = rec.events;
        thread::spawn(move || feed(events, &tx, &dropped, &done))
    };
    let keys = [KeyCode::Down, KeyCode::Char('s'), KeyCode::Up];
    let mut rng = common::Rng(0x9E37_79B9_7F4A_7C15);
    let mut next_key = Instant::now() + Duration::from_millis(100 + rng.below(300));
    let mut key_n = 0usize;
    let mut pending: Option<Instant> = None;
    let (mut pumps, mut draws, mut frames, mut latencies) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut draws_cpu = Vec::new();
    let mut applied = 0usize;
    while !done.load(Ordering::Relaxed) {
        let frame_start = Instant::now();
        applied += pump(&mut app, &rx, frame_start);
        let (drawn_from, cpu_from) = (Instant::now(), common::thread_cpu());
        terminal.draw(|f| ui::render(f, &app)).expect("draw");
        let end = Instant::now();
        draws_cpu.push(common::thread_cpu().saturating_sub(cpu_from));
        pumps.push(drawn_from - frame_start);
        draws.push(end - drawn_from);
        frames.push(end - frame_start);
        if let Some(pressed) = pending.take() {
            latencies.push(end - pressed);
        }
        // Reading input until the frame is over; a key ends the wait (as the runner's input does).
        let deadline = frame_start + FRAME;
        let at = next_key.max(Instant::now());
        if at <= deadline {
            thread::sleep(at.saturating_duration_since(Instant::now()));
            let code = keys[key_n % keys.len()];
            key_n += 1;
            app.update(
                AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)),
                Instant::now(),
            );
            pending = Some(next_key);
            next_key = Instant::now() + Duration::from_millis(100 + rng.below(300));
        } else {
            thread::sleep(deadline.saturating_duration_since(Instant::now()));
        }
    }
    drop(rx);
    let _ = feeder.join();
    println!(
        "  {} frames, {applied} events applied, {} dropped at the channel, {} keys",
        frames.len(),
        dropped.load(Ordering::Relaxed),
        latencies.len()
    );
    percentiles("drain + tick (tui::pump)", pumps);
    percentiles("draw 250x70", draws);
    percentiles("draw 250x70, CPU time", draws_cpu);
    // The same app once the feed stopped, every cell written each time: what
    // the drawing itself costs without another thread on the second core.
    let (mut quiet, mut quiet_cpu) = (Vec::new(), Vec::new());
    let draws: usize = std::env::var("PODTAP_BENCH_DRAWS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    for _ in 0..draws {
        terminal.clear().expect("clear");
        let (t, cpu) = (Instant::now(), common::thread_cpu());
        terminal.draw(|f| ui::render(f, &app)).expect("draw");
        quiet.push(t.elapsed());
        quiet_cpu.push(common::thread_cpu().saturating_sub(cpu));
    }
    percentiles("draw 250x70, feed stopped", quiet);
    percentiles("  the same, CPU time", quiet_cpu);
    percentiles("frame (pump + draw)", frames);
    percentiles("key to frame showing it", latencies);
    println!("  (target: a key is answered within one frame, {FRAME:?})");
}

fn main() {
    let list = std::env::var("PODTAP_BENCH_CONNECTIONS").unwrap_or_else(|_| "300,30000".into());
    for c in list.split(',').filter_map(|c| c.trim().parse().ok()) {
        scenario(c);
    }
}
