//! Flow tracking through the public pipeline API, on packets built here.

use std::net::SocketAddr;

use etherparse::PacketBuilder;
use podtap::decode::flow::{EndReason, FlowInfo, FlowState};
use podtap::decode::{Event, Pipeline, PipelineConfig};
use podtap::wire::{Direction, LinkType, Nanos, Packet};

const CLIENT: ([u8; 4], u16) = ([10, 244, 1, 7], 40123);
const SERVER: ([u8; 4], u16) = ([10, 244, 0, 9], 8080);

#[derive(Clone, Copy, Default)]
struct Seg {
    from_server: bool,
    seq: u32,
    ack: u32,
    syn: bool,
    fin: bool,
    rst: bool,
    zero_window: bool,
}

fn frame(s: Seg, payload: &[u8]) -> Vec<u8> {
    let ((sip, sport), (dip, dport)) = if s.from_server {
        (SERVER, CLIENT)
    } else {
        (CLIENT, SERVER)
    };
    let mut b = PacketBuilder::ipv4(sip, dip, 64).tcp(
        sport,
        dport,
        s.seq,
        if s.zero_window { 0 } else { 64240 },
    );
    if s.ack != 0 {
        b = b.ack(s.ack);
    }
    if s.syn {
        b = b.syn();
    }
    if s.fin {
        b = b.fin();
    }
    if s.rst {
        b = b.rst();
    }
    let mut out = Vec::new();
    b.write(&mut out, payload).unwrap();
    out
}

struct Run {
    pipeline: Pipeline,
    events: Vec<Event>,
}

impl Run {
    fn new(config: PipelineConfig) -> Self {
        Run {
            pipeline: Pipeline::new(config),
            events: Vec::new(),
        }
    }

    fn push(&mut self, ms: u64, s: Seg, payload: &[u8]) {
        let f = frame(s, payload);
        let p = Packet {
            interface: 0,
            link_type: LinkType::IPV4,
            ts: Nanos(1_700_000_000_000_000_000 + ms * 1_000_000),
            orig_len: f.len() as u32,
            data: &f,
            direction: Direction::Unknown,
        };
        self.pipeline.push(&p, &mut self.events);
    }

    fn finish(mut self) -> Vec<Event> {
        self.pipeline.finish(&mut self.events);
        self.events
    }
}

fn flows(events: &[Event]) -> Vec<(FlowInfo, EndReason)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::FlowEnded(f, r) => Some(((**f).clone(), *r)),
            _ => None,
        })
        .collect()
}

fn handshake(run: &mut Run) {
    run.push(
        0,
        Seg {
            seq: 100,
            syn: true,
            ..Seg::default()
        },
        b"",
    );
    run.push(
        3,
        Seg {
            from_server: true,
            seq: 500,
            ack: 101,
            syn: true,
            ..Seg::default()
        },
        b"",
    );
    run.push(
        4,
        Seg {
            seq: 101,
            ack: 501,
            ..Seg::default()
        },
        b"",
    );
}

#[test]
fn handshake_data_retransmission_and_close() {
    let mut run = Run::new(PipelineConfig::default());
    handshake(&mut run);
    run.push(
        5,
        Seg {
            seq: 101,
            ack: 501,
            ..Seg::default()
        },
        b"\x16\x03\x01hello",
    );
    run.push(
        6,
        Seg {
            seq: 101,
            ack: 501,
            ..Seg::default()
        },
        b"\x16\x03\x01hello",
    );
    run.push(
        7,
        Seg {
            from_server: true,
            seq: 501,
            ack: 109,
            zero_window: true,
            ..Seg::default()
        },
        b"",
    );
    run.push(
        8,
        Seg {
            seq: 109,
            ack: 501,
            fin: true,
            ..Seg::default()
        },
        b"",
    );
    run.push(
        9,
        Seg {
            from_server: true,
            seq: 501,
            ack: 110,
            fin: true,
            ..Seg::default()
        },
        b"",
    );
    let ended = flows(&run.finish());
    assert_eq!(ended.len(), 1);
    let (f, _) = &ended[0];
    assert_eq!(f.client, SocketAddr::from(CLIENT));
    assert_eq!(f.state, FlowState::Closed);
    assert!(!f.midstream);
    assert_eq!(f.rtt_syn_synack, Some(Nanos(3_000_000)));
    assert_eq!(f.rtt_synack_ack, Some(Nanos(1_000_000)));
    assert_eq!((f.sides[0].packets, f.sides[1].packets), (5, 3));
    assert_eq!(f.sides[0].payload_bytes, 16);
    assert_eq!(f.sides[0].retransmissions, 1);
    assert_eq!(f.sides[1].zero_windows, 1);
    assert_eq!((f.sides[0].fins, f.sides[1].fins), (1, 1));
}

#[test]
fn reset_and_midstream() {
    let mut run = Run::new(PipelineConfig::default());
    // No handshake: the server's data comes first.
    run.push(
        0,
        Seg {
            from_server: true,
            seq: 9000,
            ack: 77,
            ..Seg::default()
        },
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    );
    run.push(
        1,
        Seg {
            seq: 77,
            ack: 9038,
            rst: true,
            ..Seg::default()
        },
        b"",
    );
    let ended = flows(&run.finish());
    let (f, _) = &ended[0];
    assert!(f.midstream);
    assert_eq!(f.state, FlowState::Reset);
    assert_eq!(
        f.client,
        SocketAddr::from(CLIENT),
        "the sender of HTTP/ is the server"
    );
    assert_eq!(f.sides[0].resets, 1);
}

#[test]
fn finished_flows_leave_after_the_linger_and_idle_ones_after_the_timeout() {
    let config = PipelineConfig {
        tcp_idle: Nanos(10 * Nanos::SECOND.0),
        ..PipelineConfig::default()
    };
    let mut run = Run::new(config);
    handshake(&mut run);
    run.push(
        5,
        Seg {
            seq: 101,
            ack: 501,
            rst: true,
            ..Seg::default()
        },
        b"",
    );
    // Another connection much later triggers the sweep.
    run.push(
        3_000,
        Seg {
            seq: 1,
            syn: true,
            ..Seg::default()
        },
        b"",
    );
    let early = flows(&run.events);
    assert_eq!(early.len(), 1);
    assert_eq!(early[0].1, EndReason::Finished);
    run.push(
        20_000,
        Seg {
            from_server: true,
            seq: 1,
            ack: 2,
            ..Seg::default()
        },
        b"",
    );
    run.push(
        40_000,
        Seg {
            seq: 2,
            ack: 2,
            ..Seg::default()
        },
        b"",
    );
    let stats = run.pipeline.stats();
    assert_eq!(
        stats.flows, 4,
        "the reset flow's port was reused after it left"
    );
    assert_eq!(stats.flows_evicted_idle, 2);
}

#[test]
fn the_flow_cap_evicts_the_least_active() {
    let config = PipelineConfig {
        max_flows: 8,
        ..PipelineConfig::default()
    };
    let mut pipeline = Pipeline::new(config);
    let mut events = Vec::new();
    for i in 0..40u16 {
        let mut out = Vec::new();
        PacketBuilder::ipv4([10, 244, 3, (i % 200) as u8], [10, 244, 0, 9], 64)
            .udp(30000 + i, 53)
            .write(&mut out, b"q")
            .unwrap();
        let p = Packet {
            interface: 0,
            link_type: LinkType::IPV4,
            ts: Nanos(u64::from(i) * 1000),
            orig_len: out.len() as u32,
            data: &out,
            direction: Direction::Unknown,
        };
        pipeline.push(&p, &mut events);
        assert!(pipeline.flows().count() <= 8);
    }
    let stats = pipeline.stats();
    assert_eq!(stats.flows, 40);
    assert_eq!(stats.flows_evicted_capacity, 32);
    let evicted = flows(&events);
    assert!(evicted.iter().all(|(_, r)| *r == EndReason::Capacity));
    // The oldest went first.
    assert_eq!(evicted[0].0.client.port(), 30000);
}

/// The flow reports list only flows that took a packet since the last one.
#[test]
fn flow_reports_list_flows_with_packets_since_the_last_one() {
    let mut pipeline = Pipeline::new(PipelineConfig::default());
    let mut events = Vec::new();
    let mut udp = |pipeline: &mut Pipeline, port: u16, ms: u64| {
        let mut out = Vec::new();
        PacketBuilder::ipv4([10, 244, 3, 1], [10, 244, 0, 9], 64)
            .udp(port, 53)
            .write(&mut out, b"q")
            .unwrap();
        let p = Packet {
            interface: 0,
            link_type: LinkType::IPV4,
            ts: Nanos(ms * 1_000_000),
            orig_len: out.len() as u32,
            data: &out,
            direction: Direction::Unknown,
        };
        pipeline.push(&p, &mut events);
    };
    let ports = |flows: Vec<FlowInfo>| {
        let mut p: Vec<u16> = flows.iter().map(|f| f.client.port()).collect();
        p.sort_unstable();
        p
    };
    for port in [1000, 1001, 1002] {
        udp(&mut pipeline, port, 1);
    }
    assert_eq!(ports(pipeline.take_flow_report(false)), [1000, 1001, 1002]);
    assert!(pipeline.take_flow_report(false).is_empty(), "nothing new");
    udp(&mut pipeline, 1001, 2);
    udp(&mut pipeline, 1001, 3);
    udp(&mut pipeline, 1003, 3);
    let changed = pipeline.take_flow_report(false);
    let again = changed.iter().find(|f| f.client.port() == 1001).unwrap();
    assert_eq!(
        again.packets(),
        3,
        "the report carries the flow as it is now"
    );
    assert_eq!(ports(changed), [1001, 1003]);
    assert_eq!(pipeline.flows().count(), 4, "all flows are still there");
    // A full report lists every flow, and the next one starts afresh.
    udp(&mut pipeline, 1002, 4);
    assert_eq!(
        ports(pipeline.take_flow_report(true)),
        [1000, 1001, 1002, 1003]
    );
    assert!(
        pipeline.take_flow_report(false).is_empty(),
        "the full report cleared the flags"
    );
}
