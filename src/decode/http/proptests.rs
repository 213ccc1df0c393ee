//! Property tests: no input makes the parser panic, and how a valid
//! conversation is cut into chunks never changes what comes out.

use proptest::prelude::*;

use super::*;

/// Pieces that make random input look like HTTP often enough to reach deep states.
const VOCABULARY: &[&[u8]] = &[
    b"GET / HTTP/1.1\r\n",
    b"POST /x HTTP/1.0\r\n",
    b"HEAD / HTTP/1.1\r\n",
    b"CONNECT h:443 HTTP/1.1\r\n",
    b"HTTP/1.1 200 OK\r\n",
    b"HTTP/1.1 100 Continue\r\n",
    b"HTTP/1.1 101 Switching\r\n",
    b"HTTP/1.1 204 No\r\n",
    b"Content-Length: 3\r\n",
    b"Content-Length: x\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"Host: h\r\n",
    b"\r\n",
    b"\n",
    b"3\r\nabc\r\n",
    b"0\r\n\r\n",
    b"ffffffffffffffffff\r\n",
    b"1;ext=1\r\n",
    b"abc",
];

#[derive(Debug, Clone)]
enum Op {
    Data(Side, Vec<u8>),
    Gap(Side, u64),
    End(Side),
}

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Client), Just(Side::Server)]
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        3 => (0..VOCABULARY.len()).prop_map(|i| VOCABULARY[i].to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..24),
    ];
    prop::collection::vec(piece, 1..6).prop_map(|pieces| pieces.concat())
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (side(), bytes()).prop_map(|(s, b)| Op::Data(s, b)),
        1 => (side(), 0..40u64).prop_map(|(s, n)| Op::Gap(s, n)),
        1 => side().prop_map(Op::End),
    ]
}

fn config() -> impl Strategy<Value = HttpConfig> {
    (0..16usize, 1..160usize, 0..4usize).prop_map(
        |(body_preview, max_header_bytes, max_pending)| HttpConfig {
            body_preview,
            max_header_bytes,
            max_pending,
        },
    )
}

/// One generated request/response pair.
#[derive(Debug, Clone)]
struct Spec {
    method: &'static str,
    path: String,
    req_body: Option<(Vec<u8>, bool)>,
    status: u16,
    resp_body: (Vec<u8>, bool),
    interim: bool,
    /// The next request is sent before this response.
    pipelined: bool,
}

const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "DELETE", "HEAD", "CCM_POST", "PROPFIND",
];
const STATUSES: &[u16] = &[200, 201, 204, 304, 404, 500];

fn spec() -> impl Strategy<Value = Spec> {
    let body = || (prop::collection::vec(any::<u8>(), 0..40), any::<bool>());
    (
        0..METHODS.len(),
        "/[a-z0-9]{0,8}",
        prop::option::of(body()),
        0..STATUSES.len(),
        body(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(m, path, req_body, s, resp_body, interim, pipelined)| Spec {
                method: METHODS[m],
                path,
                req_body,
                status: STATUSES[s],
                resp_body,
                interim,
                pipelined,
            },
        )
}

/// Head lines and body of a message: `(body, chunked)` framed as said.
fn message(start: &str, body: Option<&(Vec<u8>, bool)>, send_body: bool) -> Vec<u8> {
    let mut m = start.as_bytes().to_vec();
    match body {
        None => m.extend_from_slice(b"\r\n"),
        Some((b, false)) => {
            m.extend_from_slice(format!("Content-Length: {}\r\n\r\n", b.len()).as_bytes());
            if send_body {
                m.extend_from_slice(b);
            }
        }
        Some((b, true)) => {
            m.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
            if send_body {
                // Uneven chunks, with an extension now and then.
                for (i, part) in b.chunks(7).enumerate() {
                    let ext = if i % 2 == 0 { ";i=1" } else { "" };
                    m.extend_from_slice(format!("{:x}{ext}\r\n", part.len()).as_bytes());
                    m.extend_from_slice(part);
                    m.extend_from_slice(b"\r\n");
                }
                m.extend_from_slice(b"0\r\nX-Trailer: t\r\n\r\n");
            }
        }
    }
    m
}

/// The wire messages of a conversation, in sending order, each with its time.
fn conversation(specs: &[Spec]) -> Vec<(Side, Nanos, Vec<u8>)> {
    let mut msgs = Vec::new();
    let mut waiting = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        let start = format!("{} {} HTTP/1.1\r\nHost: h{i}\r\n", s.method, s.path);
        msgs.push((Side::Client, message(&start, s.req_body.as_ref(), true)));
        waiting.push(s);
        if !s.pipelined || i + 1 == specs.len() {
            for s in waiting.drain(..) {
                let mut resp = Vec::new();
                if s.interim {
                    resp.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                }
                let send = s.method != "HEAD" && s.status != 204 && s.status != 304;
                let start = format!("HTTP/1.1 {} R\r\n", s.status);
                resp.extend(message(&start, Some(&s.resp_body), send));
                msgs.push((Side::Server, resp));
            }
        }
    }
    msgs.into_iter()
        .enumerate()
        .map(|(i, (side, m))| (side, Nanos(1_000 * i as u64), m))
        .collect()
}

/// Feeds the conversation, each message cut by the sizes in `cuts` (used in turn).
fn feed(
    msgs: &[(Side, Nanos, Vec<u8>)],
    cuts: &[usize],
) -> (Vec<Exchange>, HttpCounters, HttpState) {
    let mut p = HttpParser::new(FlowId(3), HttpConfig::default(), false);
    let mut out = Vec::new();
    let mut k = 0;
    for (side, ts, m) in msgs {
        let mut rest = m.as_slice();
        while !rest.is_empty() {
            let n = if cuts.is_empty() {
                rest.len()
            } else {
                cuts[k % cuts.len()].clamp(1, rest.len())
            };
            k += 1;
            p.data(*side, *ts, &rest[..n], &mut out);
            rest = &rest[n..];
        }
    }
    p.finish(Nanos(u64::MAX), &mut out);
    (out, p.counters(), p.state())
}

proptest! {
    #[test]
    fn arbitrary_input_never_panics(
        config in config(),
        midstream in any::<bool>(),
        ops in prop::collection::vec(op(), 0..40),
    ) {
        let mut p = HttpParser::new(FlowId(1), config, midstream);
        let mut out = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            let ts = Nanos(i as u64);
            match op {
                Op::Data(side, bytes) => p.data(*side, ts, bytes, &mut out),
                Op::Gap(side, len) => p.gap(*side, ts, *len, &mut out),
                Op::End(side) => p.end(*side, ts, &mut out),
            }
            // Buffers stay within the header limit (plus the queue's bounded size).
            let bound = 4096 + 4 * config.max_header_bytes
                + (config.max_pending.max(1) + 1) * (1024 + 2 * config.max_header_bytes * 8);
            prop_assert!(p.memory() <= bound, "memory {} > {}", p.memory(), bound);
        }
        p.finish(Nanos(99), &mut out);
        let n = out.len();
        p.finish(Nanos(100), &mut out);
        p.data(Side::Client, Nanos(101), b"GET / HTTP/1.1\r\n\r\n", &mut out);
        p.data(Side::Server, Nanos(102), b"HTTP/1.1 200 OK\r\n\r\n", &mut out);
        prop_assert_eq!(out.len(), n, "nothing comes out after finish");
    }

    #[test]
    fn segmentation_does_not_change_exchanges(
        specs in prop::collection::vec(spec(), 1..6),
        cuts in prop::collection::vec(1..24usize, 1..12),
    ) {
        let msgs = conversation(&specs);
        let whole = feed(&msgs, &[]);
        let cut = feed(&msgs, &cuts);
        prop_assert_eq!(&whole, &cut);
        let (out, counters, state) = whole;
        prop_assert_eq!(state, HttpState::Http);
        prop_assert_eq!(counters, HttpCounters::default());
        prop_assert_eq!(out.len(), specs.len());
        for (e, s) in out.iter().zip(&specs) {
            prop_assert_eq!(e.request.method.as_str(), s.method);
            prop_assert_eq!(&e.request.path, &s.path);
            let req_len = s.req_body.as_ref().map_or(0, |(b, _)| b.len() as u64);
            prop_assert_eq!(e.request.message.body_len, req_len);
            prop_assert!(e.request.message.complete);
            let r = e.response.as_ref().expect("answered");
            prop_assert_eq!(r.status, s.status);
            prop_assert_eq!(r.interim.is_empty(), !s.interim);
            prop_assert!(r.message.complete);
            let bodiless = s.method == "HEAD" || s.status == 204 || s.status == 304;
            let resp_len = if bodiless { 0 } else { s.resp_body.0.len() as u64 };
            prop_assert_eq!(r.message.body_len, resp_len);
            prop_assert!(e.request.message.first_byte <= e.request.message.last_byte);
            prop_assert!(e.request.message.last_byte <= r.message.first_byte);
        }
    }
}
