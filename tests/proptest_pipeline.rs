//! Property tests over the whole pipeline: no input panics it, and the way a
//! TCP stream is cut, reordered and duplicated does not change its exchanges.

use etherparse::PacketBuilder;
use podtap::decode::{Event, Pipeline, PipelineConfig, packet};
use podtap::wire::{Direction, LinkType, Nanos, Packet};
use proptest::prelude::*;

const LINK_TYPES: [LinkType; 8] = [
    LinkType::NULL,
    LinkType::ETHERNET,
    LinkType::RAW,
    LinkType::LOOP,
    LinkType::LINUX_SLL,
    LinkType::IPV4,
    LinkType::IPV6,
    LinkType::LINUX_SLL2,
];

fn packet_of(link: LinkType, ts: u64, data: &[u8]) -> Packet<'_> {
    Packet {
        interface: 0,
        link_type: link,
        ts: Nanos(ts),
        orig_len: data.len() as u32,
        data,
        direction: Direction::Unknown,
    }
}

/// One TCP segment from the client (`up`) or the server.
#[derive(Debug, Clone)]
struct Seg {
    up: bool,
    seq: u32,
    data: Vec<u8>,
    ts: u64,
}

const C_ISN: u32 = 0xFFFF_FF00; // wraps during the stream
const S_ISN: u32 = 7_000;

fn frame(s: &Seg) -> Vec<u8> {
    let (src, dst, sp, dp, ack) = if s.up {
        (
            [10, 244, 1, 7],
            [10, 244, 0, 9],
            40123,
            8080,
            S_ISN.wrapping_add(1),
        )
    } else {
        (
            [10, 244, 0, 9],
            [10, 244, 1, 7],
            8080,
            40123,
            C_ISN.wrapping_add(1),
        )
    };
    let mut out = Vec::new();
    PacketBuilder::ipv4(src, dst, 64)
        .tcp(sp, dp, s.seq, 65000)
        .ack(ack)
        .write(&mut out, &s.data)
        .unwrap();
    out
}

/// The exchanges of a run, without timing (which depends on packet order).
fn exchanges(frames: &[(u64, Vec<u8>)]) -> Vec<(String, String, Option<u16>, Option<u64>)> {
    let mut p = Pipeline::new(PipelineConfig::default());
    let mut events = Vec::new();
    for (ts, f) in frames {
        p.push(&packet_of(LinkType::IPV4, *ts, f), &mut events);
    }
    p.finish(&mut events);
    events
        .iter()
        .filter_map(|e| match e {
            Event::Exchange(x) => Some((
                x.exchange.request.method.clone(),
                x.exchange.request.path.clone(),
                x.exchange.response.as_ref().map(|r| r.status),
                x.exchange.response.as_ref().map(|r| r.message.body_len),
            )),
            _ => None,
        })
        .collect()
}

fn handshake() -> Vec<(u64, Vec<u8>)> {
    let mut out = Vec::new();
    let mut syn = Vec::new();
    PacketBuilder::ipv4([10, 244, 1, 7], [10, 244, 0, 9], 64)
        .tcp(40123, 8080, C_ISN, 65000)
        .syn()
        .write(&mut syn, &[])
        .unwrap();
    out.push((1, syn));
    let mut syn_ack = Vec::new();
    PacketBuilder::ipv4([10, 244, 0, 9], [10, 244, 1, 7], 64)
        .tcp(8080, 40123, S_ISN, 65000)
        .syn()
        .ack(C_ISN.wrapping_add(1))
        .write(&mut syn_ack, &[])
        .unwrap();
    out.push((2, syn_ack));
    out
}

/// A keep-alive conversation: requests and responses with random bodies.
fn conversation() -> impl Strategy<Value = Vec<(Vec<u8>, Vec<u8>)>> {
    let method = prop::sample::select(vec!["GET", "POST", "PUT", "DELETE"]);
    let status = prop::sample::select(vec![200u16, 201, 404, 500, 503]);
    let one = (
        method,
        "[a-z]{1,12}",
        0usize..3000,
        status,
        0usize..5000,
        any::<bool>(),
    );
    prop::collection::vec(one, 1..6).prop_map(|msgs| {
        msgs.into_iter()
            .map(|(m, path, req_len, status, resp_len, chunked)| {
                let req_len = if m == "GET" { 0 } else { req_len };
                let mut req = format!(
                    "{m} /api/{path} HTTP/1.1\r\nHost: shop\r\nContent-Length: {req_len}\r\n\r\n"
                )
                .into_bytes();
                req.extend(std::iter::repeat_n(b'q', req_len));
                let mut resp = format!("HTTP/1.1 {status} X\r\n").into_bytes();
                if chunked {
                    resp.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                    for chunk in std::iter::repeat_n(b'r', resp_len)
                        .collect::<Vec<_>>()
                        .chunks(700)
                    {
                        resp.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                        resp.extend_from_slice(chunk);
                        resp.extend_from_slice(b"\r\n");
                    }
                    resp.extend_from_slice(b"0\r\n\r\n");
                } else {
                    resp.extend_from_slice(
                        format!("Content-Length: {resp_len}\r\n\r\n").as_bytes(),
                    );
                    resp.extend(std::iter::repeat_n(b'r', resp_len));
                }
                (req, resp)
            })
            .collect()
    })
}

/// Cuts each message at `cuts` (sizes cycled) into segments with sequence numbers.
fn segments(conv: &[(Vec<u8>, Vec<u8>)], cuts: &[usize]) -> Vec<Seg> {
    let (mut cseq, mut sseq) = (C_ISN.wrapping_add(1), S_ISN.wrapping_add(1));
    let mut out = Vec::new();
    let mut k = 0;
    let mut ts = 10;
    for (req, resp) in conv {
        for (up, msg) in [(true, req), (false, resp)] {
            let mut rest: &[u8] = msg;
            while !rest.is_empty() {
                let n = if cuts.is_empty() {
                    rest.len()
                } else {
                    cuts[k % cuts.len()].clamp(1, rest.len())
                };
                k += 1;
                let seq = if up { &mut cseq } else { &mut sseq };
                out.push(Seg {
                    up,
                    seq: *seq,
                    data: rest[..n].to_vec(),
                    ts,
                });
                *seq = seq.wrapping_add(n as u32);
                rest = &rest[n..];
                ts += 1;
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_frames_never_panic(frames in prop::collection::vec((0usize..8, prop::collection::vec(any::<u8>(), 0..200)), 1..40)) {
        let mut p = Pipeline::new(PipelineConfig { max_flows: 4, ..PipelineConfig::default() });
        let mut events = Vec::new();
        for (i, (link, bytes)) in frames.iter().enumerate() {
            let link = LINK_TYPES[*link];
            let _ = packet::decode(link, bytes);
            p.push(&packet_of(link, i as u64 * 1_000_000, bytes), &mut events);
        }
        p.finish(&mut events);
        let s = p.stats();
        prop_assert_eq!(s.packets, frames.len() as u64);
    }

    #[test]
    fn cutting_reordering_and_duplicating_keeps_the_exchanges(
        conv in conversation(),
        cuts in prop::collection::vec(1usize..1500, 1..8),
        swaps in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        dups in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let whole: Vec<(u64, Vec<u8>)> = handshake().into_iter()
            .chain(segments(&conv, &[]).iter().map(|s| (s.ts, frame(s))))
            .collect();
        let expected = exchanges(&whole);
        prop_assert_eq!(expected.len(), conv.len());

        let mut segs = segments(&conv, &cuts);
        for i in &swaps {
            // Swap two neighbouring segments of the same direction. (Moving a
            // request segment past the response to it would break causality:
            // no server answers bytes it has not received.)
            let a = i.index(segs.len());
            let b = a + 1;
            if b < segs.len() && segs[b].up == segs[a].up {
                let (ta, tb) = (segs[a].ts, segs[b].ts);
                segs.swap(a, b);
                segs[a].ts = ta;
                segs[b].ts = tb;
            }
        }
        for i in &dups {
            let a = i.index(segs.len());
            let copy = segs[a].clone();
            segs.insert((a + 3).min(segs.len()), copy);
        }
        let cut: Vec<(u64, Vec<u8>)> = handshake().into_iter()
            .chain(segs.iter().map(|s| (s.ts, frame(s))))
            .collect();
        prop_assert_eq!(exchanges(&cut), expected);
    }
}
