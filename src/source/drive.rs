//! The one driver every source uses: pcap/pcapng records from any `Read`,
//! through [`Pipeline`], out as [`SourceEvent`]s.
//!
//! [`Sink`] holds the channel policy (lossless for files read instantly,
//! drop-and-count for live sources); [`Pacer`] turns capture time into wall
//! time for live replays. Counters go out about twice a second.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::thread;
use std::time::{Duration, Instant};

use crate::decode::{Event, Pipeline, PipelineConfig};
use crate::wire::agent::AgentMessage;
use crate::wire::{CustomBlock, InterfaceStats, Nanos, PODTAP_PEN, Reader, Record};

use super::{SourceEvent, SourceStats};

/// How often counters and the flow report are sent (wall clock).
const REPORT_EVERY: Duration = Duration::from_millis(500);
/// Longest single sleep, so that stop requests and reports are not delayed.
const SLEEP_SLICE: Duration = Duration::from_millis(100);
/// How long the last event of a source may wait for room in the channel.
const LAST_EVENT_WAIT: Duration = Duration::from_millis(500);

/// Whether a source may wait for room in the channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// Wait: nothing is lost, the reader slows down (files read instantly).
    Lossless,
    /// Never wait: drop and count (live sources).
    Lossy,
}

/// The sending end of a source: channel, policy, stop flag and drop counter.
#[derive(Debug, Clone)]
pub(crate) struct Sink {
    tx: SyncSender<SourceEvent>,
    delivery: Delivery,
    stop: Arc<AtomicBool>,
    dropped: Arc<AtomicU64>,
}

impl Sink {
    /// A sink sending into `tx`.
    pub(crate) fn new(
        tx: SyncSender<SourceEvent>,
        delivery: Delivery,
        stop: Arc<AtomicBool>,
        dropped: Arc<AtomicU64>,
    ) -> Self {
        Sink {
            tx,
            delivery,
            stop,
            dropped,
        }
    }

    /// Whether the source was asked to stop.
    pub(crate) fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Events dropped so far because the channel was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Queues `event` by the sink's policy; `false` when nobody listens any
    /// more, or when a lossless source is stopped while it waits.
    pub(crate) fn send(&self, event: SourceEvent) -> bool {
        match self.delivery {
            Delivery::Lossy => match self.tx.try_send(event) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) => {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                    true
                }
                Err(TrySendError::Disconnected(_)) => false,
            },
            Delivery::Lossless => self.wait_send(event, None),
        }
    }

    /// Queues a source's last event (`Ended`): worth a short wait even when lossy.
    pub(crate) fn send_last(&self, event: SourceEvent) {
        self.wait_send(event, Some(LAST_EVENT_WAIT));
    }

    /// Polls for room with a growing pause (a `SyncSender` cannot wait with a
    /// timeout, and a plain `send` could never notice a stop request).
    fn wait_send(&self, mut event: SourceEvent, limit: Option<Duration>) -> bool {
        let start = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            match self.tx.try_send(event) {
                Ok(()) => return true,
                Err(TrySendError::Disconnected(_)) => return false,
                Err(TrySendError::Full(back)) => event = back,
            }
            let give_up = match limit {
                Some(limit) => start.elapsed() >= limit,
                None => self.stopped(),
            };
            if give_up {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                return false;
            }
            thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }
}

/// Maps capture time to wall time for a replay at the capture's own pace.
#[derive(Debug, Clone)]
pub(crate) struct Pacer {
    /// Longer idle stretches in the capture are shortened to this.
    max_gap: Nanos,
    /// Wall time and capture time that correspond.
    anchor: Option<(Instant, Nanos)>,
    /// Latest capture time seen.
    last: Nanos,
}

impl Pacer {
    /// How far behind the schedule a replay may fall before it re-anchors
    /// instead of bursting to catch up (after a suspend, say).
    const MAX_BEHIND: Duration = Duration::from_secs(1);

    /// A pacer that shortens idle gaps longer than `max_gap`.
    pub(crate) fn new(max_gap: Duration) -> Self {
        Pacer {
            max_gap: Nanos(u64::try_from(max_gap.as_nanos()).unwrap_or(u64::MAX)),
            anchor: None,
            last: Nanos(0),
        }
    }

    /// When the packet stamped `ts` is due, given that it is `now`.
    pub(crate) fn due(&mut self, ts: Nanos, now: Instant) -> Instant {
        let Some((wall, mut cap)) = self.anchor else {
            self.anchor = Some((now, ts));
            self.last = ts;
            return now;
        };
        let gap = ts.since(self.last);
        if gap > self.max_gap {
            // Move the capture anchor so the gap counts as `max_gap` only.
            cap = Nanos(cap.0.saturating_add(gap.0 - self.max_gap.0));
        }
        self.last = self.last.max(ts);
        let due = wall + Duration::from_nanos(ts.since(cap).0);
        if now > due + Self::MAX_BEHIND {
            self.anchor = Some((now, ts));
            return now;
        }
        self.anchor = Some((wall, cap));
        due
    }
}

/// Reads `input` to its end (or to a stop request), sending what it decodes
/// into `sink`; a `pacer` replays at capture pace. Returns the reader's error
/// text when the stream is damaged; everything before the damage is sent first.
/// The caller sends `Ended`.
pub(crate) fn drive<R: Read>(input: R, sink: &Sink, pacer: Option<Pacer>) -> Option<String> {
    let mut driver = Driver {
        sink,
        pipeline: Pipeline::new(PipelineConfig::default()),
        events: Vec::new(),
        packets: 0,
        bytes: 0,
        dropped_by_interface: Vec::new(),
        last_report: Instant::now(),
        reported_flows: false,
        drops_seen: 0,
        pacer,
        listening: true,
    };
    driver.run(input)
}

/// State of one [`drive`] call.
struct Driver<'a> {
    sink: &'a Sink,
    pipeline: Pipeline,
    events: Vec<Event>,
    packets: u64,
    bytes: u64,
    /// Latest dropped + os_dropped of each interface (the counters are cumulative).
    dropped_by_interface: Vec<u64>,
    last_report: Instant,
    /// Whether a flow report was sent (the first one lists every flow).
    reported_flows: bool,
    /// Events the sink had dropped when the last flow report was sent (more
    /// now, including that report itself: the next one lists every flow).
    drops_seen: u64,
    pacer: Option<Pacer>,
    /// False once the receiver is gone: nothing is worth decoding any more.
    listening: bool,
}

impl Driver<'_> {
    fn run<R: Read>(&mut self, input: R) -> Option<String> {
        let mut reader = match Reader::new(input) {
            Ok(r) => r,
            Err(e) => return Some(e.to_string()),
        };
        let error = loop {
            if !self.listening || self.sink.stopped() {
                break None;
            }
            match reader.next_record() {
                Ok(Some(Record::Packet(p))) => {
                    if let Some(pacer) = &mut self.pacer {
                        let due = pacer.due(p.ts, Instant::now());
                        if !self.sleep_until(due) {
                            break None;
                        }
                    }
                    self.packets += 1;
                    self.bytes += u64::from(p.orig_len.max(p.data.len() as u32));
                    self.pipeline.push(&p, &mut self.events);
                }
                Ok(Some(Record::Stats(s))) => self.interface_stats(&s),
                Ok(Some(Record::Custom(c))) => self.custom(&c),
                Ok(Some(Record::Interface(_))) => {}
                Ok(None) => break None,
                Err(e) => break Some(e.to_string()),
            }
            self.flush();
            if self.last_report.elapsed() >= REPORT_EVERY {
                self.report(false);
            }
        };
        self.pipeline.finish(&mut self.events);
        self.flush();
        self.report(true);
        error
    }

    /// Sleeps until `due` in slices, reporting on time; `false` on a stop request.
    fn sleep_until(&mut self, due: Instant) -> bool {
        loop {
            if self.sink.stopped() || !self.listening {
                return false;
            }
            let now = Instant::now();
            // Sub-millisecond waits are not worth a sleep: packets batch up instead.
            let Some(left) = due
                .checked_duration_since(now)
                .filter(|d| *d >= Duration::from_millis(1))
            else {
                return true;
            };
            thread::sleep(left.min(SLEEP_SLICE));
            if self.last_report.elapsed() >= REPORT_EVERY {
                self.report(false);
            }
        }
    }

    fn interface_stats(&mut self, s: &InterfaceStats) {
        let total = s
            .dropped
            .unwrap_or(0)
            .saturating_add(s.os_dropped.unwrap_or(0));
        if self.dropped_by_interface.len() <= s.interface {
            self.dropped_by_interface.resize(s.interface + 1, 0);
        }
        self.dropped_by_interface[s.interface] = total;
    }

    fn custom(&mut self, c: &CustomBlock<'_>) {
        if c.pen != PODTAP_PEN {
            return;
        }
        let event = match AgentMessage::decode(c.data) {
            Ok(AgentMessage::Probe(result)) => SourceEvent::Probe(result),
            Ok(message) => SourceEvent::Agent(message),
            // Shown like an agent error: the agent and this build disagree.
            Err(message) => SourceEvent::Agent(AgentMessage::Error { message }),
        };
        self.send(event);
    }

    fn flush(&mut self) {
        let mut events = std::mem::take(&mut self.events);
        for e in events.drain(..) {
            let event = match e {
                Event::Exchange(x) => SourceEvent::Exchange(x),
                Event::FlowEnded(f, why) => SourceEvent::FlowEnded(f, why),
                Event::Ping(p) => SourceEvent::Ping(p),
            };
            self.send(event);
        }
        // Keep the allocation for the next packet.
        self.events = events;
    }

    /// Sends counters and a flow report; the `last` one is worth a short
    /// wait for room even when lossy (it tells the UI which flows are left).
    fn report(&mut self, last: bool) {
        self.last_report = Instant::now();
        // The flows that changed since the last report (a report of all
        // 100,000 flows would cost the UI a frame or more each time); all of
        // them in the first report, and after an event other than counters
        // was dropped (a lost report or flow end would leave the UI's flows
        // wrong until then).
        let full = !self.reported_flows || self.sink.dropped() > self.drops_seen;
        let stats = SourceStats {
            packets: self.packets,
            bytes: self.bytes,
            capture_dropped: self.dropped_by_interface.iter().sum(),
            channel_dropped: self.sink.dropped(),
            pipeline: self.pipeline.stats(),
        };
        self.send(SourceEvent::Stats(Box::new(stats)));
        let mut flows = self.pipeline.take_flow_report(full);
        flows.sort_by_key(|f| f.id);
        // Counted after the counters were sent (losing those does not
        // matter) and before this report (losing it does).
        self.drops_seen = self.sink.dropped();
        let event = SourceEvent::Flows { flows, full };
        if last {
            self.sink.send_last(event);
        } else {
            self.send(event);
        }
        self.reported_flows = true;
    }

    fn send(&mut self, event: SourceEvent) {
        if self.listening && !self.sink.send(event) {
            self.listening = false;
        }
    }
}
