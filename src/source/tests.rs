//! Tests of the driver, the pacer, the demo and `start`, on captures made in memory.

use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::drive::{Delivery, Pacer, Sink, drive};
use super::*;
use crate::decode::{Event, Pipeline};
use crate::synth::{self, SynthConfig};
use crate::wire::agent::{ProbeKind, ProbeOutcome};
use crate::wire::{Interface, LinkType, Nanos, PODTAP_PEN, Reader, Record, Writer};

fn capture(packets: u64) -> (Vec<u8>, synth::Summary) {
    let config = SynthConfig {
        seed: 5,
        connections: 20,
        packets: Some(packets),
        ..SynthConfig::default()
    };
    let mut out = Vec::new();
    let summary = synth::write_pcapng(&config, &mut out).unwrap();
    (out, summary)
}

/// What the pipeline alone makes of `bytes`: (exchanges, flow ends, pings).
fn ground_truth(bytes: &[u8]) -> (usize, usize, usize) {
    let mut reader = Reader::new(bytes).unwrap();
    let mut pipeline = Pipeline::default();
    let mut events = Vec::new();
    while let Ok(Some(record)) = reader.next_record() {
        if let Record::Packet(p) = record {
            pipeline.push(&p, &mut events);
        }
    }
    pipeline.finish(&mut events);
    let count = |f: fn(&Event) -> bool| events.iter().filter(|e| f(e)).count();
    (
        count(|e| matches!(e, Event::Exchange(_))),
        count(|e| matches!(e, Event::FlowEnded(..))),
        count(|e| matches!(e, Event::Ping(_))),
    )
}

struct Run {
    tx: SyncSender<SourceEvent>,
    stop: Arc<AtomicBool>,
    dropped: Arc<AtomicU64>,
}

impl Run {
    fn new(capacity: usize) -> (Run, Receiver<SourceEvent>) {
        let (tx, rx) = mpsc::sync_channel(capacity);
        let run = Run {
            tx,
            stop: Arc::new(AtomicBool::new(false)),
            dropped: Arc::new(AtomicU64::new(0)),
        };
        (run, rx)
    }

    /// Drives `bytes` on a thread like `start` does; the thread ends after `Ended`.
    fn spawn(&self, bytes: Vec<u8>, delivery: Delivery) -> thread::JoinHandle<()> {
        let sink = Sink::new(
            self.tx.clone(),
            delivery,
            Arc::clone(&self.stop),
            Arc::clone(&self.dropped),
        );
        thread::spawn(move || {
            let error = drive(Cursor::new(bytes), &sink, None);
            sink.send_last(SourceEvent::Ended { error });
        })
    }
}

/// Every event up to and including `Ended`.
fn collect(rx: &Receiver<SourceEvent>) -> Vec<SourceEvent> {
    let mut out = Vec::new();
    loop {
        let e = rx.recv_timeout(Duration::from_secs(30)).expect("Ended");
        let end = matches!(e, SourceEvent::Ended { .. });
        out.push(e);
        if end {
            return out;
        }
    }
}

fn count(events: &[SourceEvent], f: fn(&SourceEvent) -> bool) -> usize {
    events.iter().filter(|e| f(e)).count()
}

fn last_stats(events: &[SourceEvent]) -> SourceStats {
    events
        .iter()
        .rev()
        .find_map(|e| match e {
            SourceEvent::Stats(s) => Some((**s).clone()),
            _ => None,
        })
        .expect("a Stats event")
}

fn ended(events: &[SourceEvent]) -> Option<String> {
    match events.last() {
        Some(SourceEvent::Ended { error }) => error.clone(),
        other => panic!("last event is not Ended: {other:?}"),
    }
}

#[test]
fn lossless_read_delivers_everything() {
    let (bytes, summary) = capture(4000);
    let (exchanges, flow_ends, pings) = ground_truth(&bytes);
    assert!(exchanges > 50 && pings > 0);
    // A small channel read slowly: the driver waits, nothing is lost.
    let (run, rx) = Run::new(4);
    let thread = run.spawn(bytes, Delivery::Lossless);
    let events = collect(&rx);
    thread.join().unwrap();
    assert_eq!(ended(&events), None);
    assert_eq!(
        count(&events, |e| matches!(e, SourceEvent::Exchange(_))),
        exchanges
    );
    assert_eq!(
        count(&events, |e| matches!(e, SourceEvent::FlowEnded(..))),
        flow_ends
    );
    assert_eq!(count(&events, |e| matches!(e, SourceEvent::Ping(_))), pings);
    let stats = last_stats(&events);
    assert_eq!(stats.packets, summary.packets);
    assert_eq!(stats.bytes, summary.bytes);
    assert_eq!(stats.pipeline.packets, summary.packets);
    assert_eq!((stats.capture_dropped, stats.channel_dropped), (0, 0));
    // The end-of-capture snapshot: every flow has ended.
    let flows = events.iter().rev().find_map(|e| match e {
        SourceEvent::Flows { flows, .. } => Some(flows),
        _ => None,
    });
    assert_eq!(flows.map(Vec::len), Some(0));
}

#[test]
fn truncated_stream_reports_after_what_came_before() {
    let (bytes, _) = capture(4000);
    let (all, _, _) = ground_truth(&bytes);
    let cut = bytes[..=bytes.len() / 2].to_vec();
    let (before, _, _) = ground_truth(&cut);
    let (run, rx) = Run::new(64);
    let thread = run.spawn(cut, Delivery::Lossless);
    let events = collect(&rx);
    thread.join().unwrap();
    let error = ended(&events).expect("an error");
    assert!(error.contains("truncated"), "{error}");
    let got = count(&events, |e| matches!(e, SourceEvent::Exchange(_)));
    assert_eq!(got, before);
    assert!(got > 0 && got < all, "{got} of {all}");
}

#[test]
fn not_a_capture_ends_with_the_reason() {
    let (run, rx) = Run::new(4);
    run.spawn(b"hello, world".to_vec(), Delivery::Lossless);
    let events = collect(&rx);
    assert_eq!(events.len(), 1);
    assert!(ended(&events).unwrap().contains("not a pcap"));
}

fn probe(seq: u64) -> ProbeResult {
    ProbeResult {
        target: "10.0.0.1".into(),
        kind: ProbeKind::Icmp,
        addr: Some("10.0.0.1".into()),
        seq,
        sent_ns: 1_000 + seq,
        outcome: ProbeOutcome::Reply,
        rtt_ns: Some(250_000),
        detail: None,
    }
}

#[test]
fn agent_blocks_become_probe_and_agent_events() {
    let mut w = Writer::new(Vec::new()).unwrap();
    w.add_interface(&Interface {
        link_type: LinkType::ETHERNET,
        snaplen: 65535,
        name: Some("eth0".into()),
        description: None,
    })
    .unwrap();
    let hello = AgentMessage::Hello {
        version: "0.1.0".into(),
        hostname: "pod".into(),
        interfaces: vec!["eth0".into()],
        capabilities: vec!["net_raw".into()],
        snaplen: 65535,
    };
    w.write_custom(PODTAP_PEN, true, &hello.encode()).unwrap();
    w.write_custom(PODTAP_PEN, true, &AgentMessage::Probe(probe(0)).encode())
        .unwrap();
    w.write_custom(PODTAP_PEN + 1, true, b"someone else's")
        .unwrap();
    w.write_custom(PODTAP_PEN, false, &AgentMessage::Probe(probe(1)).encode())
        .unwrap();
    w.write_custom(PODTAP_PEN, true, &[200, 0, 0, 0, b'{'])
        .unwrap();
    let mut stats = crate::wire::InterfaceStats {
        interface: 0,
        ts: Nanos(5),
        received: Some(10),
        dropped: Some(3),
        os_dropped: Some(4),
    };
    w.write_stats(&stats).unwrap();
    // Cumulative: the latest one counts, not the sum of both.
    stats.dropped = Some(5);
    w.write_stats(&stats).unwrap();
    let (run, rx) = Run::new(64);
    run.spawn(w.into_inner(), Delivery::Lossless);
    let events = collect(&rx);
    let probes: Vec<&ProbeResult> = events
        .iter()
        .filter_map(|e| match e {
            SourceEvent::Probe(p) => Some(p),
            _ => None,
        })
        .collect();
    assert_eq!(probes, [&probe(0), &probe(1)]);
    let agent: Vec<&AgentMessage> = events
        .iter()
        .filter_map(|e| match e {
            SourceEvent::Agent(m) => Some(m),
            _ => None,
        })
        .collect();
    assert_eq!(agent.len(), 2);
    assert_eq!(agent[0], &hello);
    assert!(matches!(agent[1], AgentMessage::Error { message } if message.contains("cut short")));
    assert_eq!(last_stats(&events).capture_dropped, 9);
    assert_eq!(ended(&events), None);
}

#[test]
fn lossy_full_channel_counts_drops_instead_of_blocking() {
    let (bytes, _) = capture(3000);
    // Capacity one, never read.
    let (run, _rx) = Run::new(1);
    let thread = run.spawn(bytes, Delivery::Lossy);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !thread.is_finished() {
        assert!(Instant::now() < deadline, "a lossy source blocked");
        thread::sleep(Duration::from_millis(10));
    }
    assert!(run.dropped.load(Ordering::Relaxed) > 50);
}

/// A reader that takes 5 ms for every 2 KiB.
struct Slow(Cursor<Vec<u8>>);

impl std::io::Read for Slow {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        thread::sleep(Duration::from_millis(5));
        let n = buf.len().min(2048);
        self.0.read(&mut buf[..n])
    }
}

/// Flow reports list the changed flows; after events were dropped (here
/// flow ends, by a slow reader of a lossy source) the next report lists
/// every flow, so the UI's flows end right: none are left live once the
/// capture is over.
#[test]
fn after_drops_a_full_flow_report_leaves_no_stale_flows() {
    let (bytes, _) = capture(3000);
    let (_, flow_ends, _) = ground_truth(&bytes);
    let (run, rx) = Run::new(4);
    // A capture that takes seconds to read, so reports come along the way.
    let sink = Sink::new(
        run.tx.clone(),
        Delivery::Lossy,
        Arc::clone(&run.stop),
        Arc::clone(&run.dropped),
    );
    let thread = thread::spawn(move || {
        let error = drive(Slow(Cursor::new(bytes)), &sink, None);
        sink.send_last(SourceEvent::Ended { error });
    });
    let mut store = crate::store::FlowStore::new(100_000);
    let (mut ends, mut reports, mut full_reports) = (0, 0, 0);
    loop {
        let e = rx.recv_timeout(Duration::from_secs(30)).expect("Ended");
        // A slow reader: the source drops what does not fit.
        thread::sleep(Duration::from_millis(4));
        match e {
            SourceEvent::FlowEnded(f, why) => {
                ends += 1;
                store.ended(*f, why);
            }
            SourceEvent::Flows { flows, full } => {
                reports += 1;
                full_reports += usize::from(full);
                assert!(flows.windows(2).all(|w| w[0].id < w[1].id), "sorted by id");
                let ts = flows.iter().map(|f| f.last_seen).max().unwrap_or_default();
                store.update(flows, full, ts);
            }
            SourceEvent::Ended { .. } => break,
            _ => {}
        }
    }
    thread.join().unwrap();
    assert!(
        run.dropped.load(Ordering::Relaxed) > 0,
        "nothing was dropped"
    );
    assert!(
        ends < flow_ends,
        "no flow end was dropped ({ends} of {flow_ends})"
    );
    assert!(reports >= 3, "{reports} flow reports: too few to tell");
    assert!(full_reports >= 2, "only the first report listed every flow");
    assert_eq!(
        store.live_len(),
        0,
        "flows whose end was dropped are still live"
    );
}

#[test]
fn lossless_source_blocked_on_a_full_channel_still_stops() {
    let (bytes, _) = capture(3000);
    let (run, _rx) = Run::new(1);
    let thread = run.spawn(bytes, Delivery::Lossless);
    thread::sleep(Duration::from_millis(100));
    assert!(!thread.is_finished());
    run.stop.store(true, Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !thread.is_finished() {
        assert!(Instant::now() < deadline, "did not stop");
        thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn pacer_follows_capture_time_and_caps_gaps() {
    let ms = |n: u64| Nanos(1_700_000_000_000_000_000 + n * Nanos::MILLI.0);
    let mut pacer = Pacer::new(Duration::from_secs(2));
    let t0 = Instant::now();
    assert_eq!(pacer.due(ms(0), t0), t0);
    assert_eq!(pacer.due(ms(300), t0), t0 + Duration::from_millis(300));
    // An hour of silence plays as two seconds.
    let after_gap = ms(300 + 3_600_000);
    assert_eq!(pacer.due(after_gap, t0), t0 + Duration::from_millis(2300));
    assert_eq!(
        pacer.due(ms(3_600_400), t0),
        t0 + Duration::from_millis(2400)
    );
    // Out of order: due at once (no earlier than the anchor).
    assert!(pacer.due(ms(3_600_100), t0) <= t0 + Duration::from_millis(2400));
    // Far behind (the process was suspended): re-anchor rather than burst.
    let late = t0 + Duration::from_secs(60);
    assert_eq!(pacer.due(ms(3_600_500), late), late);
    assert_eq!(
        pacer.due(ms(3_600_600), late),
        late + Duration::from_millis(100)
    );
}

#[test]
fn paced_read_takes_capture_time() {
    let dir = std::env::temp_dir().join(format!("podtap-source-paced-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("short.pcapng");
    let mut w = Writer::new(Vec::new()).unwrap();
    let iface = w
        .add_interface(&Interface {
            link_type: LinkType::RAW,
            snaplen: 65535,
            name: None,
            description: None,
        })
        .unwrap();
    for (i, ms) in [0u64, 150, 300].into_iter().enumerate() {
        let ts = Nanos(1_700_000_000 * Nanos::SECOND.0 + ms * Nanos::MILLI.0);
        let data = [0x45, 0, 0, 20, 0, i as u8];
        w.write_packet(iface, ts, 20, &data, crate::wire::Direction::Unknown)
            .unwrap();
    }
    std::fs::write(&path, w.into_inner()).unwrap();
    let (tx, rx) = mpsc::sync_channel(64);
    let start_at = Instant::now();
    let handle = start(&SourceSpec::Read { path, pace: true }, tx).unwrap();
    assert!(handle.control.is_none());
    let events = collect(&rx);
    let took = start_at.elapsed();
    assert!(took >= Duration::from_millis(290), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(ended(&events), None);
    assert_eq!(last_stats(&events).packets, 3);
    drop(handle);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn start_reports_what_cannot_start() {
    let (tx, _rx) = mpsc::sync_channel(4);
    let missing = PathBuf::from("/nonexistent/podtap/capture.pcapng");
    let e = start(
        &SourceSpec::Read {
            path: missing,
            pace: false,
        },
        tx.clone(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("cannot open"), "{e}");
    let e = start(
        &SourceSpec::Local {
            agent: PathBuf::from("/nonexistent/podtap-agent"),
            netns: None,
        },
        tx,
    )
    .unwrap_err();
    assert!(e.to_string().contains("cannot start the agent"), "{e}");
}

#[test]
fn demo_is_alive_at_once_paced_and_stops_promptly() {
    let (tx, rx) = mpsc::sync_channel(4096);
    let started = Instant::now();
    let handle = start(&SourceSpec::Demo { seed: 7 }, tx).unwrap();
    let now_ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let exchange = loop {
        let left = Duration::from_secs(2).saturating_sub(started.elapsed());
        match rx.recv_timeout(left) {
            Ok(SourceEvent::Exchange(x)) => break x,
            Ok(_) => {}
            Err(e) => panic!("no exchange within 2 s: {e}"),
        }
    };
    // Stamped from wall-clock now.
    let ts = exchange.exchange.request.message.first_byte.0;
    assert!(ts.abs_diff(now_ns) < 5 * Nanos::SECOND.0);
    // Paced: after about 1.5 s of play, far fewer packets than the generator could make.
    let mut packets = 0;
    while started.elapsed() < Duration::from_millis(1500) {
        if let Ok(SourceEvent::Stats(s)) = rx.recv_timeout(Duration::from_millis(100)) {
            packets = s.packets;
        }
    }
    assert!((50..3_000).contains(&packets), "{packets} packets");
    let stopping = Instant::now();
    drop(handle);
    assert!(stopping.elapsed() < Duration::from_secs(1));
    let end = rx
        .try_iter()
        .find(|e| matches!(e, SourceEvent::Ended { .. }));
    assert!(matches!(end, Some(SourceEvent::Ended { error: None })));
}
