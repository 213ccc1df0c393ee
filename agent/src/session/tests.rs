//! Session tests with a fake packet source: lifecycle, control lines, the
//! stream's format and the drop accounting, without root.

use std::io::{self, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use podtap::wire::agent::AgentMessage;
use podtap::wire::{Direction, PODTAP_PEN, Reader, Record};

use super::*;
use crate::bpf::SockFilter;
use crate::capture::{KernelStats, PacketSource, RawPacket};

/// Emits `per_poll` copies of a small frame per poll, up to `limit` packets.
struct FakeSource {
    frame: Vec<u8>,
    per_poll: u64,
    limit: u64,
    produced: Arc<AtomicU64>,
}

impl PacketSource for FakeSource {
    fn poll(
        &mut self,
        timeout: Duration,
        sink: &mut dyn FnMut(&RawPacket<'_>),
    ) -> io::Result<usize> {
        let done = self.produced.load(Ordering::Relaxed);
        let n = self.per_poll.min(self.limit - done);
        if n == 0 {
            std::thread::sleep(timeout);
            return Ok(0);
        }
        for i in 0..n {
            sink(&RawPacket {
                ifindex: 2,
                hatype: 1,
                pkttype: if i % 2 == 0 { 0 } else { 4 },
                protocol: 0x0800,
                ts: wall_clock(),
                orig_len: self.frame.len() as u32,
                data: &self.frame,
            });
        }
        self.produced.fetch_add(n, Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(1));
        Ok(n as usize)
    }

    fn stats(&mut self) -> io::Result<KernelStats> {
        Ok(KernelStats {
            packets: self.produced.load(Ordering::Relaxed),
            drops: 0,
        })
    }

    fn set_filter(&mut self, _program: &[SockFilter]) -> io::Result<()> {
        Ok(())
    }

    fn set_snaplen(&mut self, _snaplen: u32) {}
}

/// Collects what the session writes; can be made slow, blocked or broken.
#[derive(Clone, Default)]
struct Sink {
    bytes: Arc<Mutex<Vec<u8>>>,
    delay: Option<Duration>,
    broken: bool,
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.broken {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        if let Some(d) = self.delay {
            std::thread::sleep(d);
        }
        self.bytes.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn ifaces() -> Vec<NetInterface> {
    vec![NetInterface {
        index: 2,
        name: "eth0".into(),
        hatype: 1,
    }]
}

fn source(limit: u64, per_poll: u64) -> (FakeSource, Arc<AtomicU64>) {
    let produced = Arc::new(AtomicU64::new(0));
    let frame = vec![0u8; 100];
    (
        FakeSource {
            frame,
            per_poll,
            limit,
            produced: Arc::clone(&produced),
        },
        produced,
    )
}

fn config() -> SessionConfig {
    SessionConfig {
        heartbeat_timeout: Duration::from_millis(400),
        stdout_timeout: Duration::from_millis(500),
        stats_interval: Duration::from_millis(100),
        ..SessionConfig::default()
    }
}

/// Runs a session on a background thread; returns the stdin end and the result.
fn start(
    src: FakeSource,
    sink: Sink,
    config: SessionConfig,
) -> (
    UnixStream,
    std::thread::JoinHandle<ExitReason>,
    Arc<AtomicBool>,
) {
    let (ours, theirs) = UnixStream::pair().unwrap();
    let signal = Arc::new(AtomicBool::new(false));
    let sig = Arc::clone(&signal);
    let handle = std::thread::spawn(move || {
        run(
            src,
            &ifaces(),
            theirs,
            sink,
            &config,
            &Hello::default(),
            &sig,
        )
    });
    (ours, handle, signal)
}

/// (packets, custom messages, last os_dropped) of a written stream.
fn parse(bytes: &[u8]) -> (u64, Vec<AgentMessage>, u64) {
    let mut r = Reader::new(bytes).unwrap();
    let (mut packets, mut msgs, mut dropped) = (0, Vec::new(), 0);
    while let Some(rec) = r.next_record().unwrap() {
        match rec {
            Record::Packet(p) => {
                assert_ne!(p.direction, Direction::Unknown);
                packets += 1;
            }
            Record::Custom(c) => {
                assert_eq!(c.pen, PODTAP_PEN);
                msgs.push(AgentMessage::decode(c.data).unwrap());
            }
            Record::Stats(s) => dropped = s.os_dropped.unwrap_or(0),
            Record::Interface(_) => {}
        }
    }
    (packets, msgs, dropped)
}

#[test]
fn stop_flushes_everything_and_says_bye() {
    let (src, produced) = source(500, 50);
    let sink = Sink::default();
    let (mut stdin, handle, _) = start(src, sink.clone(), config());
    while produced.load(Ordering::Relaxed) < 500 {
        std::thread::sleep(Duration::from_millis(5));
    }
    stdin.write_all(b"{\"cmd\":\"stop\"}\n").unwrap();
    assert_eq!(handle.join().unwrap(), ExitReason::Stop);
    let (packets, msgs, dropped) = parse(&sink.bytes.lock().unwrap());
    assert_eq!((packets, dropped), (500, 0));
    assert!(matches!(msgs.first(), Some(AgentMessage::Hello { .. })));
    assert_eq!(
        msgs.last(),
        Some(&AgentMessage::Bye {
            reason: "stop".into()
        })
    );
}

#[test]
fn bad_lines_get_errors_and_change_nothing() {
    let (src, _) = source(0, 0);
    let sink = Sink::default();
    let (mut stdin, handle, _) = start(src, sink.clone(), config());
    stdin.write_all(b"{\"cmd\":\"fly\"}\nnot json\n{\"cmd\":\"snaplen\",\"bytes\":5}\n{\"cmd\":\"pause\"}\n{\"cmd\":\"stop\"}\n").unwrap();
    assert_eq!(handle.join().unwrap(), ExitReason::Stop);
    let (_, msgs, _) = parse(&sink.bytes.lock().unwrap());
    let errors = msgs
        .iter()
        .filter(|m| matches!(m, AgentMessage::Error { .. }))
        .count();
    assert_eq!(errors, 3, "{msgs:?}");
    assert!(msgs.contains(&AgentMessage::Ack {
        cmd: "pause".into()
    }));
}

#[test]
fn heartbeats_keep_it_alive_and_their_absence_ends_it() {
    let (src, _) = source(0, 0);
    let (mut stdin, handle, _) = start(src, Sink::default(), config());
    let started = Instant::now();
    for _ in 0..8 {
        stdin.write_all(b"{\"cmd\":\"heartbeat\"}\n").unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        !handle.is_finished(),
        "heartbeats every 100 ms keep a 400 ms timeout away"
    );
    assert_eq!(handle.join().unwrap(), ExitReason::HeartbeatTimeout);
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(800 + 400 + 300),
        "ended {took:?} after start"
    );
    drop(stdin);
}

#[test]
fn stdin_eof_signal_closed_and_blocked_stdout_end_it() {
    let (src, _) = source(0, 0);
    let (stdin, handle, _) = start(src, Sink::default(), config());
    drop(stdin);
    assert_eq!(handle.join().unwrap(), ExitReason::StdinClosed);

    let (src, _) = source(0, 0);
    let (_stdin, handle, signal) = start(src, Sink::default(), config());
    signal.store(true, Ordering::Relaxed);
    assert_eq!(handle.join().unwrap(), ExitReason::Signal);

    let (src, _) = source(10, 10);
    let (_stdin, handle, _) = start(
        src,
        Sink {
            broken: true,
            ..Sink::default()
        },
        config(),
    );
    assert_eq!(handle.join().unwrap(), ExitReason::StdoutClosed);

    let (src, _) = source(10, 10);
    let blocked = Sink {
        delay: Some(Duration::from_secs(3600)),
        ..Sink::default()
    };
    let patient = SessionConfig {
        heartbeat_timeout: Duration::from_secs(30),
        ..config()
    };
    let (_stdin, handle, _) = start(src, blocked, patient);
    let t = Instant::now();
    assert_eq!(handle.join().unwrap(), ExitReason::StdoutBlocked);
    assert!(t.elapsed() < Duration::from_secs(3));
}

#[test]
fn a_slow_reader_costs_counted_drops_not_memory() {
    let (src, produced) = source(40_000, 2_000);
    let slow = Sink {
        delay: Some(Duration::from_millis(20)),
        ..Sink::default()
    };
    let cfg = SessionConfig {
        queue_bytes: 64 * 1024,
        heartbeat_timeout: Duration::from_secs(30),
        ..config()
    };
    let (mut stdin, handle, _) = start(src, slow.clone(), cfg);
    while produced.load(Ordering::Relaxed) < 40_000 {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(300));
    stdin.write_all(b"{\"cmd\":\"stop\"}\n").unwrap();
    assert_eq!(handle.join().unwrap(), ExitReason::Stop);
    let (packets, _, dropped) = parse(&slow.bytes.lock().unwrap());
    assert!(dropped > 0, "the queue overflowed");
    assert_eq!(
        packets + dropped,
        40_000,
        "every packet is either delivered or counted"
    );
}
