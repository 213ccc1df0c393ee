//! Behaviour of [`HttpParser`] on hand-made conversations.

use super::*;

/// One event of a scripted conversation.
#[derive(Debug, Clone, Copy)]
enum Ev<'a> {
    /// Client bytes at a time (ns).
    C(u64, &'a [u8]),
    /// Server bytes at a time (ns).
    S(u64, &'a [u8]),
    /// Lost client bytes.
    CGap(u64),
    /// Lost server bytes.
    SGap(u64),
    /// Client FIN.
    CEnd,
    /// Server FIN.
    SEnd,
    /// The flow is gone.
    Finish,
}

fn run_with(config: HttpConfig, midstream: bool, events: &[Ev<'_>]) -> (Vec<Exchange>, HttpParser) {
    let mut p = HttpParser::new(FlowId(7), config, midstream);
    let mut out = Vec::new();
    let mut now = 0;
    for ev in events {
        match *ev {
            Ev::C(ts, b) => {
                now = ts;
                p.data(Side::Client, Nanos(ts), b, &mut out);
            }
            Ev::S(ts, b) => {
                now = ts;
                p.data(Side::Server, Nanos(ts), b, &mut out);
            }
            Ev::CGap(len) => p.gap(Side::Client, Nanos(now), len, &mut out),
            Ev::SGap(len) => p.gap(Side::Server, Nanos(now), len, &mut out),
            Ev::CEnd => p.end(Side::Client, Nanos(now), &mut out),
            Ev::SEnd => p.end(Side::Server, Nanos(now), &mut out),
            Ev::Finish => p.finish(Nanos(now), &mut out),
        }
    }
    (out, p)
}

fn run(events: &[Ev<'_>]) -> (Vec<Exchange>, HttpParser) {
    run_with(HttpConfig::default(), false, events)
}

fn response(e: &Exchange) -> &Response {
    e.response.as_ref().expect("response")
}

const GET: &[u8] = b"GET /index.html HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";
const OK5: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";

#[test]
fn simple_get_with_content_length() {
    let (out, p) = run(&[Ev::C(10, GET), Ev::S(20, OK5)]);
    assert_eq!(out.len(), 1);
    let e = &out[0];
    assert_eq!(e.flow, FlowId(7));
    assert_eq!(e.request.method, "GET");
    assert_eq!(e.request.path, "/index.html");
    assert_eq!(e.request.host.as_deref(), Some("example.com"));
    assert_eq!(e.request.message.version, 1);
    assert_eq!(e.request.message.headers.len(), 2);
    assert_eq!(e.request.message.framing, BodyFraming::None);
    assert!(e.request.message.complete);
    let r = response(e);
    assert_eq!((r.status, r.reason.as_str()), (200, "OK"));
    assert_eq!(r.message.content_type.as_deref(), Some("text/plain"));
    assert_eq!(r.message.content_length, Some(5));
    assert_eq!(r.message.framing, BodyFraming::Length);
    assert_eq!(r.message.body_len, 5);
    assert_eq!(r.message.body_preview, b"hello");
    assert!(!r.message.body_truncated);
    assert!(r.message.complete);
    assert_eq!(p.state(), HttpState::Http);
    assert_eq!(p.counters(), HttpCounters::default());
}

#[test]
fn keep_alive_three_exchanges() {
    let (out, p) = run(&[
        Ev::C(1, b"GET /a HTTP/1.1\r\n\r\n"),
        Ev::S(2, b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"),
        Ev::C(3, b"POST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz"),
        Ev::S(4, b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"),
        Ev::C(5, b"DELETE /c HTTP/1.1\r\n\r\n"),
        Ev::S(
            6,
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nno\r\n0\r\n\r\n",
        ),
    ]);
    let got: Vec<_> = out
        .iter()
        .map(|e| (e.request.path.as_str(), response(e).status))
        .collect();
    assert_eq!(got, [("/a", 200), ("/b", 201), ("/c", 404)]);
    assert_eq!(out[1].request.message.body_preview, b"xyz");
    assert_eq!(response(&out[2]).message.body_preview, b"no");
    assert!(p.wants_data());
}

#[test]
fn pipelined_requests_pair_with_oldest() {
    let (out, _) = run(&[
        Ev::C(1, b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"),
        Ev::C(2, b"HEAD /3 HTTP/1.1\r\n\r\n"),
        Ev::S(3, b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1"),
        Ev::S(4, b"HTTP/1.1 201 OK\r\nContent-Length: 2\r\n\r\n22HTTP/1.1 202 OK\r\nContent-Length: 9\r\n\r\n"),
    ]);
    let got: Vec<_> = out
        .iter()
        .map(|e| {
            (
                e.request.path.as_str(),
                response(e).status,
                response(e).message.body_len,
            )
        })
        .collect();
    assert_eq!(got, [("/1", 200, 1), ("/2", 201, 2), ("/3", 202, 0)]);
}

#[test]
fn chunked_with_extensions_and_trailers() {
    let (out, p) = run(&[
        Ev::C(1, b"POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4;name=v\r\nWiki\r\n0\r\n\r\n"),
        Ev::S(
            2,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;a=1;b\r\nWiki\r\n5\r\npedia\r\n0;last\r\nExpires: never\r\nX-Sum: 1\r\n\r\n",
        ),
        Ev::C(3, b"GET /next HTTP/1.1\r\n\r\n"),
    ]);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].request.message.framing, BodyFraming::Chunked);
    assert_eq!(out[0].request.message.body_preview, b"Wiki");
    let r = response(&out[0]);
    assert_eq!(r.message.framing, BodyFraming::Chunked);
    assert_eq!(r.message.body_len, 9);
    assert_eq!(r.message.body_preview, b"Wikipedia");
    assert!(r.message.complete);
    assert_eq!(p.state(), HttpState::Http);
}

#[test]
fn close_delimited_body_ends_with_server() {
    let events = [
        Ev::C(1, b"GET / HTTP/1.0\r\n\r\n"),
        Ev::S(2, b"HTTP/1.0 200 OK\r\n\r\nsome "),
        Ev::S(3, b"bytes"),
    ];
    let (out, _) = run(&events);
    assert!(out.is_empty(), "no end yet");
    for (last, complete) in [(Ev::SEnd, true), (Ev::Finish, false)] {
        let mut all = events.to_vec();
        all.push(last);
        let (out, _) = run(&all);
        assert_eq!(out.len(), 1);
        let r = response(&out[0]);
        assert_eq!(r.message.framing, BodyFraming::Close);
        assert_eq!(r.message.body_len, 10);
        assert_eq!(r.message.body_preview, b"some bytes");
        assert_eq!(r.message.last_byte, Nanos(3));
        assert_eq!(r.message.complete, complete, "{last:?}");
    }
}

#[test]
fn head_response_has_no_body() {
    let (out, _) = run(&[
        Ev::C(1, b"HEAD / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n"),
        Ev::S(2, b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"),
        Ev::S(3, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    ]);
    assert_eq!(out.len(), 2);
    let head = response(&out[0]);
    assert_eq!(head.message.content_length, Some(1234));
    assert_eq!(
        (head.message.framing, head.message.body_len),
        (BodyFraming::None, 0)
    );
    assert_eq!(response(&out[1]).message.body_preview, b"ok");
}

#[test]
fn bodiless_statuses() {
    for status in [204, 304] {
        let first = format!("HTTP/1.1 {status} X\r\nContent-Length: 10\r\n\r\n");
        let (out, _) = run(&[
            Ev::C(1, b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"),
            Ev::S(2, first.as_bytes()),
            Ev::S(3, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        ]);
        assert_eq!(out.len(), 2, "{status}");
        assert_eq!(response(&out[0]).status, status);
        assert_eq!(response(&out[0]).message.framing, BodyFraming::None);
        assert_eq!(response(&out[1]).status, 200);
    }
}

#[test]
fn continue_100_then_final() {
    let (out, _) = run(&[
        Ev::C(
            1,
            b"POST /f HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n",
        ),
        Ev::S(2, b"HTTP/1.1 100 Continue\r\n\r\n"),
        Ev::C(3, b"data"),
        Ev::S(
            4,
            b"HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        ),
    ]);
    assert_eq!(out.len(), 1);
    let r = response(&out[0]);
    assert_eq!((r.status, r.interim.as_slice()), (200, &[100, 102][..]));
    assert_eq!(out[0].request.message.body_preview, b"data");
    assert_eq!(out[0].request.message.last_byte, Nanos(3));
    assert_eq!(r.message.first_byte, Nanos(4));
}

#[test]
fn switching_protocols_becomes_tunnel() {
    let (out, p) = run(&[
        Ev::C(
            1,
            b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        ),
        Ev::S(
            2,
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello",
        ),
        Ev::C(3, b"\x81\x85abcdefghi"),
    ]);
    assert_eq!(out.len(), 1);
    assert_eq!(response(&out[0]).status, 101);
    assert_eq!(p.state(), HttpState::Tunnel);
    assert!(!p.wants_data());
    assert_eq!(p.counters().ignored_bytes, 7 + 11);
}

#[test]
fn refused_upgrade_stays_http() {
    let (out, p) = run(&[
        Ev::C(1, b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n"),
        Ev::S(2, b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
        Ev::C(3, b"GET /again HTTP/1.1\r\n\r\n"),
        Ev::S(4, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ]);
    assert_eq!(out.len(), 2);
    assert_eq!(p.state(), HttpState::Http);
}

#[test]
fn connect_tunnel_table() {
    // (response status, state after, exchanges after a second request)
    let cases = [(200, HttpState::Tunnel, 1), (407, HttpState::Http, 2)];
    for (status, state, n) in cases {
        let resp = format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n");
        let (out, p) = run(&[
            Ev::C(
                1,
                b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
            ),
            Ev::S(2, resp.as_bytes()),
            Ev::C(3, b"GET / HTTP/1.1\r\n\r\n"),
            Ev::S(4, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        ]);
        assert_eq!(p.state(), state, "{status}");
        assert_eq!(out.len(), n, "{status}");
        assert_eq!(out[0].request.path, "example.com:443");
    }
}

#[test]
fn connect_client_bytes_before_answer_are_held() {
    let (out, p) = run(&[
        Ev::C(
            1,
            b"CONNECT h:443 HTTP/1.1\r\n\r\n\x16\x03\x01\x00\x05hello",
        ),
        Ev::S(2, b"HTTP/1.1 200 Connection established\r\n\r\n"),
    ]);
    assert_eq!((out.len(), p.state()), (1, HttpState::Tunnel));
    assert_eq!(p.counters().ignored_bytes, 10);
}

#[test]
fn bad_content_length_is_malformed() {
    let cases: &[&[u8]] = &[
        b"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
    ];
    for req in cases {
        let (_, p) = run(&[Ev::C(1, req)]);
        assert_eq!(p.state(), HttpState::Malformed(HttpError::BadContentLength));
        assert!(!p.wants_data());
    }
    let (out, p) = run(&[Ev::C(
        1,
        b"POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
    )]);
    assert_eq!(p.state(), HttpState::Http);
    assert!(out.is_empty());
    let (out, p) = run(&[
        Ev::C(1, GET),
        Ev::S(2, b"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n"),
        Ev::Finish,
    ]);
    assert_eq!(p.state(), HttpState::Malformed(HttpError::BadContentLength));
    assert_eq!(out.len(), 1, "pending request still emitted");
    assert!(out[0].response.is_none());
}

#[test]
fn chunk_size_overflow_is_bad_chunk() {
    // The request of the corpus file variant-01-chunk_2pow64_overflow.pcap.
    let req = b"POST / HTTP/1.1\r\nHost: target\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n\r\nGET /smuggled-chunk-2pow64 HTTP/1.1\r\nHost: target\r\n\r\n";
    let (out, p) = run(&[Ev::C(1, req), Ev::CEnd, Ev::SEnd, Ev::Finish]);
    assert_eq!(p.state(), HttpState::Malformed(HttpError::BadChunk));
    assert_eq!(out.len(), 1, "the smuggled request is not parsed");
    assert_eq!(out[0].request.method, "POST");
    assert!(!out[0].request.message.complete);
    let (_, p) = run(&[
        Ev::C(1, GET),
        Ev::S(
            2,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n",
        ),
    ]);
    assert_eq!(p.state(), HttpState::Malformed(HttpError::BadChunk));
}

#[test]
fn non_http_first_bytes_are_rejected_quickly() {
    let cases: &[(Side, &[u8])] = &[
        (Side::Client, b"\x16\x03"),
        (
            Side::Client,
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        ),
        (Side::Client, b"PRI * HTTP/2.0\r\n"),
        (Side::Client, b"\x00\x00\x00\x0c"),
        (Side::Client, b"get/ "),
        (Side::Server, b"SSH-2.0-OpenSSH_9.2p1\r\n"),
        (Side::Server, b"220 mail.example.com ESMTP\r\n"),
    ];
    for (side, bytes) in cases {
        let mut p = HttpParser::new(FlowId(1), HttpConfig::default(), false);
        let mut out = Vec::new();
        p.data(*side, Nanos(1), bytes, &mut out);
        assert_eq!(p.state(), HttpState::NotHttp, "{bytes:?}");
        assert!(!p.wants_data());
        p.data(Side::Client, Nanos(2), b"GET / HTTP/1.1\r\n\r\n", &mut out);
        assert!(out.is_empty());
        assert_eq!(p.counters().ignored_bytes, bytes.len() as u64 + 18);
    }
    // One byte at a time still decides at the first impossible byte.
    let mut p = HttpParser::new(FlowId(1), HttpConfig::default(), false);
    let mut out = Vec::new();
    p.data(Side::Client, Nanos(1), b"G", &mut out);
    p.data(Side::Client, Nanos(1), b"E", &mut out);
    assert_eq!(p.state(), HttpState::Detecting);
    p.data(Side::Client, Nanos(1), b"\x00", &mut out);
    assert_eq!(p.state(), HttpState::NotHttp);
}

#[test]
fn any_token_method_is_http() {
    for method in [
        "CCM_POST", "SEARCH", "PROPFIND", "M-SEARCH", "OPTIONS", "TRACE", "DELETE", "PUT",
    ] {
        let req = format!("{method} /x HTTP/1.1\r\n\r\n");
        let (out, p) = run(&[
            Ev::C(1, req.as_bytes()),
            Ev::S(2, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        ]);
        assert_eq!(p.state(), HttpState::Http, "{method}");
        assert_eq!(out[0].request.method, method);
    }
}

#[test]
fn midstream_inside_bodies_then_exchange() {
    let (out, p) = run_with(
        HttpConfig::default(),
        true,
        &[
            Ev::C(1, b"tail of an upload\r\nwith lines\r\n"),
            Ev::S(2, b"ody of an old response\nHTTP/1.1 is great\n"),
            Ev::C(3, b"GET /fresh HTTP/1.1\r\nHost: h\r\n\r\n"),
            Ev::S(4, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
        ],
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].request.path, "/fresh");
    assert_eq!(response(&out[0]).message.body_preview, b"hi");
    assert_eq!(p.state(), HttpState::Http);
    assert_eq!(p.counters().resyncs, 2);
    assert_eq!(p.counters().orphan_responses, 0);
}

#[test]
fn midstream_at_message_start_is_no_resync() {
    let (out, p) = run_with(
        HttpConfig::default(),
        true,
        &[
            Ev::C(1, b"GET / HT"),
            Ev::C(1, b"TP/1.1\r\n\r\n"),
            Ev::S(2, OK5),
        ],
    );
    assert_eq!(out.len(), 1);
    assert_eq!(p.counters().resyncs, 0);
}

#[test]
fn midstream_non_http_gives_up_after_window() {
    let junk = vec![b'x'; 70 * 1024];
    let (_, p) = run_with(HttpConfig::default(), true, &[Ev::C(1, &junk)]);
    assert_eq!(p.state(), HttpState::NotHttp);
    assert!(p.memory() < 4096, "{}", p.memory());
}

#[test]
fn gap_in_content_length_body_keeps_parsing() {
    let (out, p) = run(&[
        Ev::C(1, GET),
        Ev::S(2, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab"),
        Ev::SGap(5),
        Ev::S(3, b"cde"),
        Ev::C(4, GET),
        Ev::S(5, OK5),
    ]);
    assert_eq!(out.len(), 2);
    let r = response(&out[0]);
    assert_eq!((r.message.body_len, r.message.complete), (10, false));
    assert_eq!(r.message.body_preview, b"ab");
    assert!(r.message.body_truncated);
    assert!(response(&out[1]).message.complete);
    assert_eq!(p.counters().resyncs, 0);
}

#[test]
fn gap_past_body_end_resyncs() {
    let (out, p) = run(&[
        Ev::C(1, b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"),
        Ev::S(2, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab"),
        Ev::SGap(20),
        Ev::S(3, b"ail\r\nHTTP/1.1 204 No Content\r\n\r\n"),
    ]);
    assert_eq!(out.len(), 2);
    assert!(!response(&out[0]).message.complete);
    assert_eq!(response(&out[1]).status, 204);
    assert_eq!(p.counters().resyncs, 1);
}

#[test]
fn gap_in_headers_then_resync() {
    let (out, p) = run(&[
        Ev::C(1, b"GET /lost HTTP/1.1\r\nHost: a"),
        Ev::CGap(100),
        Ev::C(
            2,
            b"er: x\r\n\r\nPOST /found HTTP/1.1\r\nContent-Length: 1\r\n\r\nz",
        ),
        Ev::S(3, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ]);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].request.path, "/found");
    assert!(out[0].request.message.complete);
    assert_eq!(p.counters().resyncs, 1);
    assert_eq!(p.state(), HttpState::Http);
}

#[test]
fn gap_in_chunk_framing_ends_message() {
    let (out, p) = run(&[
        Ev::C(1, GET),
        Ev::S(
            2,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
        ),
        Ev::SGap(7),
        Ev::C(3, GET),
        Ev::S(4, OK5),
    ]);
    assert_eq!(out.len(), 2);
    let r = response(&out[0]);
    assert_eq!((r.message.body_len, r.message.complete), (3, false));
    assert!(response(&out[1]).message.complete);
    assert_eq!(p.counters().resyncs, 1);
}

#[test]
fn orphan_response_is_dropped_and_counted() {
    let (out, p) = run(&[
        Ev::C(1, GET),
        Ev::S(2, OK5),
        Ev::S(3, b"HTTP/1.1 500 Oops\r\nContent-Length: 3\r\n\r\nbad"),
        Ev::C(4, GET),
        Ev::S(5, OK5),
    ]);
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(|e| response(e).status == 200));
    assert_eq!(p.counters().orphan_responses, 1);
    assert_eq!(p.state(), HttpState::Http);
}

#[test]
fn pending_overflow_emits_oldest_unanswered() {
    let config = HttpConfig {
        max_pending: 2,
        ..HttpConfig::default()
    };
    let (out, p) = run_with(
        config,
        false,
        &[
            Ev::C(
                1,
                b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n",
            ),
            Ev::S(2, OK5),
        ],
    );
    let got: Vec<_> = out
        .iter()
        .map(|e| (e.request.path.as_str(), e.response.is_some()))
        .collect();
    assert_eq!(got, [("/1", false), ("/2", true)]);
    assert_eq!(p.counters().pending_overflow, 1);
}

#[test]
fn finish_emits_unanswered_requests() {
    let (out, _) = run(&[
        Ev::C(
            1,
            b"GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 10\r\n\r\npart",
        ),
        Ev::S(2, b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nha"),
        Ev::Finish,
        Ev::Finish,
    ]);
    assert_eq!(out.len(), 2, "a second finish emits nothing");
    let r = response(&out[0]);
    assert_eq!((r.message.body_len, r.message.complete), (2, false));
    assert!(out[0].request.message.complete);
    assert!(out[1].response.is_none());
    assert_eq!(
        (
            out[1].request.message.body_len,
            out[1].request.message.complete
        ),
        (4, false)
    );
}

#[test]
fn timing_fields() {
    let (out, _) = run(&[
        Ev::C(100, b"POST /t HTTP/1.1\r\nContent-"),
        Ev::C(150, b"Length: 4\r\n\r\nab"),
        Ev::C(200, b"cd"),
        Ev::S(1_000, b"HTTP/1.1 200 OK\r\n"),
        Ev::S(1_100, b"Content-Length: 3\r\n\r\n"),
        Ev::S(1_500, b"xyz"),
    ]);
    let e = &out[0];
    assert_eq!(
        (e.request.message.first_byte, e.request.message.last_byte),
        (Nanos(100), Nanos(200))
    );
    let r = response(e);
    assert_eq!(
        (r.message.first_byte, r.message.last_byte),
        (Nanos(1_000), Nanos(1_500))
    );
    assert_eq!(e.latency(), Some(Nanos(800)));
    assert_eq!(e.total(), Some(Nanos(1_400)));
}

#[test]
fn body_preview_is_capped_and_dechunked() {
    let config = HttpConfig {
        body_preview: 6,
        ..HttpConfig::default()
    };
    let (out, _) = run_with(
        config,
        false,
        &[
            Ev::C(1, GET),
            Ev::S(
                2,
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
            ),
            Ev::S(3, b"4\r\ndefg\r\n3\r\nhij\r\n0\r\n\r\n"),
        ],
    );
    let r = response(&out[0]);
    assert_eq!(r.message.body_preview, b"abcdef");
    assert_eq!(r.message.body_len, 10);
    assert!(r.message.body_truncated);
}

#[test]
fn header_too_long() {
    let config = HttpConfig {
        max_header_bytes: 64,
        ..HttpConfig::default()
    };
    let long = format!("GET / HTTP/1.1\r\nX-Long: {}\r\n\r\n", "a".repeat(60));
    let fits = b"GET / HTTP/1.1\r\nX: y\r\n\r\n";
    // (chunk size, bytes, expected state)
    let cases: [(usize, &[u8], HttpState); 4] = [
        (
            usize::MAX,
            long.as_bytes(),
            HttpState::Malformed(HttpError::HeaderTooLong),
        ),
        (
            7,
            long.as_bytes(),
            HttpState::Malformed(HttpError::HeaderTooLong),
        ),
        (usize::MAX, fits, HttpState::Http),
        (1, fits, HttpState::Http),
    ];
    for (size, bytes, want) in cases {
        let mut p = HttpParser::new(FlowId(1), config, false);
        let mut out = Vec::new();
        for piece in bytes.chunks(size.min(bytes.len())) {
            p.data(Side::Client, Nanos(1), piece, &mut out);
        }
        assert_eq!(p.state(), want, "chunk size {size}");
    }
}

#[test]
fn request_with_unknown_transfer_coding_is_malformed() {
    let (_, p) = run(&[Ev::C(
        1,
        b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
    )]);
    assert_eq!(p.state(), HttpState::Malformed(HttpError::BadHeader));
    let (_, p) = run(&[
        Ev::C(1, GET),
        Ev::C(1, b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n"),
    ]);
    assert_eq!(p.state(), HttpState::Malformed(HttpError::BadHeader));
}

#[test]
fn client_end_cuts_request_body() {
    let (out, _) = run(&[
        Ev::C(1, b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"),
        Ev::CEnd,
        Ev::C(2, b"more"),
        Ev::S(3, OK5),
    ]);
    assert_eq!(out.len(), 1);
    assert!(!out[0].request.message.complete);
    assert_eq!(out[0].request.message.body_len, 3);
}

#[test]
fn memory_counts_buffers_and_queue() {
    let mut p = HttpParser::new(FlowId(1), HttpConfig::default(), false);
    let mut out = Vec::new();
    let empty = p.memory();
    p.data(
        Side::Client,
        Nanos(1),
        &[b"GET / HTTP/1.1\r\nX-Pad: ".as_slice(), &[b'p'; 2000]].concat(),
        &mut out,
    );
    assert!(p.memory() >= empty + 2000, "partial header block is held");
    p.data(Side::Client, Nanos(1), b"\r\n\r\n", &mut out);
    assert!(
        p.memory() >= empty + 2000,
        "queued request holds its headers"
    );
    p.data(Side::Server, Nanos(2), OK5, &mut out);
    assert_eq!(out.len(), 1);
    assert!(p.memory() < empty + 2000 + 100);
}
