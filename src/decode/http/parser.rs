//! The state machine behind [`HttpParser`]: one [`Half`] per direction, each
//! between messages, inside a header block, inside a body, or scanning for
//! the next message start; and the glue that pairs what the halves produce.
//!
//! Header blocks are parsed straight from the caller's chunk when they fit in
//! it; only a block split across chunks is copied (bounded by
//! `max_header_bytes`). Bodies are skipped by arithmetic in [`Body`].

use std::mem;

use super::body::{Body, GapStep, Step};
use super::detect::{self, Verdict};
use super::head::{self, Parsed, RequestHead, ResponseHead, Transfer};
use super::pairing::{self, Pairing};
use super::{
    BodyFraming, Exchange, HttpConfig, HttpError, HttpParser, HttpState, Request, Response, Side,
};
use crate::decode::flow::FlowId;
use crate::wire::Nanos;

/// Bytes a side may be scanned for a message start before a flow that has not
/// shown any HTTP yet is declared not HTTP.
pub(super) const SCAN_WINDOW: u64 = 64 * 1024;

/// Interim responses remembered for one final response (more are dropped).
const MAX_INTERIM: usize = 16;

/// Where one direction stands.
#[derive(Debug)]
pub(super) enum Phase {
    /// At a message start.
    Idle,
    /// Inside a header block, whose start is held in [`Half::buf`].
    Head,
    /// Inside a body.
    Body(Body),
    /// Looking for the next message start.
    Scan(Scan),
    /// After a `CONNECT` request: the client may start tunnelling before the
    /// answer comes, so its bytes are passed over until the answer decides.
    Hold {
        /// Whether any byte was passed over.
        ignored: bool,
    },
    /// This side ended, or the flow finished.
    Closed,
}

/// The state of a scan for a message start.
#[derive(Debug)]
pub(super) struct Scan {
    /// The next byte begins a line.
    at_line_start: bool,
    /// [`Half::buf`] holds the start of the current line, still a candidate.
    live: bool,
    /// Time of the first byte of the held line.
    line_ts: Nanos,
    /// Bytes passed over so far.
    skipped: u64,
    /// Whether this scan was counted in `resyncs`.
    counted: bool,
}

impl Scan {
    /// A scan starting at a line start; `counted` when the caller counted it already.
    fn new(counted: bool) -> Self {
        Scan {
            at_line_start: true,
            live: false,
            line_ts: Nanos(0),
            skipped: 0,
            counted,
        }
    }
}

/// One direction of the connection.
#[derive(Debug)]
pub(super) struct Half {
    pub(super) phase: Phase,
    /// A partial header block, or a scanned line that may start one.
    pub(super) buf: Vec<u8>,
    /// Time of the current message's first byte.
    first_ts: Nanos,
    /// Time of the latest byte of the current message.
    last_ts: Nanos,
    /// The next start line must pass the quick check, or the flow is not HTTP.
    detect: bool,
    /// The current message start was found by a scan (a false find is skipped, not fatal).
    scanned: bool,
}

impl Half {
    /// A direction at the connection start, or (mid-stream) scanning for a message.
    pub(super) fn new(midstream: bool) -> Self {
        Half {
            phase: if midstream {
                Phase::Scan(Scan::new(false))
            } else {
                Phase::Idle
            },
            buf: Vec::new(),
            first_ts: Nanos(0),
            last_ts: Nanos(0),
            detect: !midstream,
            scanned: false,
        }
    }

    /// Bytes held by this direction.
    pub(super) fn memory(&self) -> usize {
        self.buf.capacity()
            + if let Phase::Body(b) = &self.phase {
                b.memory()
            } else {
                0
            }
    }
}

/// The server's response whose body is still coming.
#[derive(Debug)]
pub(super) struct Current {
    pub(super) response: Response,
    /// The request it answers; `None` for an orphan.
    target: Option<u64>,
    /// The flow becomes a tunnel once this response is whole.
    tunnel: bool,
}

/// A parsed header block of either kind.
enum AnyHead {
    Request(RequestHead),
    Response(ResponseHead),
}

/// The outcome of looking at a (possibly partial) header block.
enum Block {
    Partial,
    Done(usize, AnyHead),
    Bad(HttpError),
    NotHttp,
}

/// Empties a buffer, keeping a small allocation for the next split header
/// block but returning a large one (a rare huge header must not pin memory).
fn release(buf: &mut Vec<u8>) {
    if buf.capacity() > 1024 {
        *buf = Vec::new();
    } else {
        buf.clear();
    }
}

/// Parses a header block of `side`, already cut to the header limit `cap`.
fn parse_block(side: Side, detect: bool, block: &[u8], cap: usize) -> Block {
    if detect {
        let verdict = match side {
            Side::Client => detect::request_line(block),
            Side::Server => detect::status_line(block),
        };
        match verdict {
            Verdict::No => return Block::NotHttp,
            Verdict::NeedMore if block.len() >= cap => return Block::NotHttp,
            Verdict::NeedMore => return Block::Partial,
            Verdict::Yes => {}
        }
    }
    let parsed = match side {
        Side::Client => map(head::parse_request(block), AnyHead::Request),
        Side::Server => map(head::parse_response(block), AnyHead::Response),
    };
    match parsed {
        Block::Partial if block.len() >= cap => Block::Bad(HttpError::HeaderTooLong),
        other => other,
    }
}

/// Wraps a typed parse result.
fn map<T>(p: Parsed<T>, f: fn(T) -> AnyHead) -> Block {
    match p {
        Parsed::Partial => Block::Partial,
        Parsed::Done(n, h) => Block::Done(n, f(h)),
        Parsed::Bad(e) => Block::Bad(e),
    }
}

/// Looks for a message start in `bytes`, continuing the scan `s` whose held
/// line is in `buf`. Returns `(used, in_buf)` when found: `bytes[..used]` were
/// passed over, or (when `in_buf`) moved into `buf`, which now begins the message.
fn scan_bytes(
    s: &mut Scan,
    buf: &mut Vec<u8>,
    bytes: &[u8],
    ts: Nanos,
    cap: usize,
    is_start: fn(&[u8]) -> Verdict,
) -> Option<(usize, bool)> {
    let mut pos = 0;
    if !s.at_line_start {
        let nl = bytes.iter().position(|&b| b == b'\n');
        let end = nl.map_or(bytes.len(), |k| k + 1);
        if s.live {
            if buf.len() + end <= cap {
                buf.extend_from_slice(&bytes[..end]);
                match is_start(buf) {
                    Verdict::Yes => return Some((end, true)),
                    Verdict::NeedMore if nl.is_none() => return None,
                    _ => {}
                }
                s.skipped += (buf.len() - end) as u64;
            } else {
                s.skipped += buf.len() as u64;
            }
            s.live = false;
            release(buf);
        }
        s.skipped += end as u64;
        nl?;
        s.at_line_start = true;
        pos = end;
    }
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        let window = &rest[..rest.len().min(cap)];
        match is_start(window) {
            Verdict::Yes => return Some((pos, false)),
            Verdict::NeedMore if rest.len() < cap && !rest.contains(&b'\n') => {
                // The line goes on in the next chunk: hold it (it is short).
                buf.extend_from_slice(rest);
                s.live = true;
                s.at_line_start = false;
                s.line_ts = ts;
                return None;
            }
            _ => {
                let Some(k) = rest.iter().position(|&b| b == b'\n') else {
                    s.skipped += rest.len() as u64;
                    s.at_line_start = false;
                    return None;
                };
                s.skipped += k as u64 + 1;
                pos += k + 1;
            }
        }
    }
    None
}

impl HttpParser {
    /// The parser's direction `side`.
    fn half(&mut self, side: Side) -> &mut Half {
        match side {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        }
    }

    /// Header blocks may not be longer than this.
    fn cap(&self) -> usize {
        self.config.max_header_bytes
    }

    /// Feeds `bytes` of `side` through the phases until all are used.
    pub(super) fn feed(&mut self, side: Side, ts: Nanos, bytes: &[u8], out: &mut Vec<Exchange>) {
        let mut rest = bytes;
        while !rest.is_empty() {
            if !self.wants_data() {
                self.counters.ignored_bytes += rest.len() as u64;
                return;
            }
            // Each step uses at least one byte, or moves to a phase that will.
            let used = self.step(side, ts, rest, out);
            rest = &rest[used.min(rest.len())..];
        }
    }

    /// One phase's worth of work on `bytes`; returns the bytes used.
    fn step(&mut self, side: Side, ts: Nanos, bytes: &[u8], out: &mut Vec<Exchange>) -> usize {
        let half = self.half(side);
        match &mut half.phase {
            Phase::Closed => {
                self.counters.ignored_bytes += bytes.len() as u64;
                bytes.len()
            }
            Phase::Hold { ignored } => {
                *ignored = true;
                self.counters.ignored_bytes += bytes.len() as u64;
                bytes.len()
            }
            Phase::Idle => {
                // Stray line ends between messages are allowed (RFC 9112 section 2.2).
                let blank = bytes
                    .iter()
                    .take_while(|&&b| b == b'\r' || b == b'\n')
                    .count();
                if blank > 0 {
                    return blank;
                }
                self.start(side, ts, bytes, out)
            }
            Phase::Head => self.more_head(side, ts, bytes, out),
            Phase::Body(body) => {
                half.last_ts = ts;
                match body.feed(bytes) {
                    Step::More => bytes.len(),
                    Step::Done(n) => {
                        self.finish_message(side, true, out);
                        n
                    }
                    Step::Bad(e) => {
                        self.malformed(side, e, out);
                        0
                    }
                }
            }
            Phase::Scan(_) => self.scan(side, ts, bytes),
        }
    }

    /// A message starts at `bytes[0]`: parse its head in place if whole.
    fn start(&mut self, side: Side, ts: Nanos, bytes: &[u8], out: &mut Vec<Exchange>) -> usize {
        let cap = self.cap();
        let half = self.half(side);
        half.first_ts = ts;
        half.last_ts = ts;
        let block = &bytes[..bytes.len().min(cap)];
        match parse_block(side, half.detect, block, cap) {
            Block::Partial => {
                // Partial implies the whole chunk is shorter than the limit.
                half.buf.extend_from_slice(block);
                half.phase = Phase::Head;
                block.len()
            }
            Block::Done(n, head) => {
                self.begin(side, head, ts, out);
                n
            }
            Block::Bad(e) => self.bad_head(side, e, out),
            Block::NotHttp => {
                self.state = HttpState::NotHttp;
                0
            }
        }
    }

    /// More bytes of a header block that began in an earlier chunk.
    fn more_head(&mut self, side: Side, ts: Nanos, bytes: &[u8], out: &mut Vec<Exchange>) -> usize {
        let cap = self.cap();
        let half = self.half(side);
        let old = half.buf.len();
        let take = bytes.len().min(cap.saturating_sub(old));
        half.buf.extend_from_slice(&bytes[..take]);
        half.last_ts = ts;
        // Without a new line end the block can neither complete nor outgrow the
        // limit; httparse would only re-read it (detection still answers early).
        if !half.detect && half.buf.len() < cap && !bytes[..take].contains(&b'\n') {
            return take;
        }
        match parse_block(side, half.detect, &half.buf, cap) {
            Block::Partial => take,
            Block::Done(n, head) => {
                release(&mut half.buf);
                self.begin(side, head, ts, out);
                // The held bytes had no complete block, so it ends in this chunk.
                n.saturating_sub(old)
            }
            Block::Bad(e) => {
                release(&mut half.buf);
                self.bad_head(side, e, out);
                take
            }
            Block::NotHttp => {
                release(&mut half.buf);
                self.state = HttpState::NotHttp;
                take
            }
        }
    }

    /// A header block did not parse: fatal, unless a scan found it (then it
    /// was a false find inside other data, and the scan goes on past its line).
    fn bad_head(&mut self, side: Side, e: HttpError, out: &mut Vec<Exchange>) -> usize {
        let half = self.half(side);
        if half.scanned {
            release(&mut half.buf);
            let mut scan = Scan::new(true);
            scan.at_line_start = false;
            half.phase = Phase::Scan(scan);
        } else {
            self.malformed(side, e, out);
        }
        0
    }

    /// Scans for a message start.
    fn scan(&mut self, side: Side, ts: Nanos, bytes: &[u8]) -> usize {
        let cap = self.cap();
        let is_start = match side {
            Side::Client => detect::request_line,
            Side::Server => detect::status_line,
        };
        let detecting = self.state == HttpState::Detecting;
        let half = match side {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        };
        let Phase::Scan(s) = &mut half.phase else {
            return 0;
        };
        let found = scan_bytes(s, &mut half.buf, bytes, ts, cap, is_start);
        if s.skipped > 0 && !s.counted {
            s.counted = true;
            self.counters.resyncs += 1;
        }
        let too_far = detecting && s.skipped > SCAN_WINDOW;
        let line_ts = s.line_ts;
        let Some((used, in_buf)) = found else {
            if too_far {
                half.buf = Vec::new();
                self.state = HttpState::NotHttp;
            }
            return bytes.len();
        };
        half.detect = false;
        half.scanned = true;
        if in_buf {
            half.phase = Phase::Head;
            half.first_ts = line_ts;
        } else {
            half.phase = Phase::Idle;
        }
        used
    }

    /// A head was parsed: start its message.
    fn begin(&mut self, side: Side, head: AnyHead, ts: Nanos, out: &mut Vec<Exchange>) {
        if self.state == HttpState::Detecting {
            self.state = HttpState::Http;
        }
        let half = self.half(side);
        half.detect = false;
        half.scanned = false;
        half.last_ts = ts;
        let first = half.first_ts;
        match head {
            AnyHead::Request(r) => self.begin_request(r, first, out),
            AnyHead::Response(r) => self.begin_response(r, first, out),
        }
    }

    /// A request head: queue it and start its body.
    fn begin_request(&mut self, r: RequestHead, first: Nanos, out: &mut Vec<Exchange>) {
        let connect = r.method.eq_ignore_ascii_case("CONNECT");
        let (framing, length) = match (r.head.transfer, r.head.content_length) {
            _ if connect => (BodyFraming::None, 0),
            (Transfer::Chunked, _) => (BodyFraming::Chunked, 0),
            // A request body must have a length the server can find (RFC 9112 section 6.3).
            (Transfer::Other, _) => {
                self.malformed(Side::Client, HttpError::BadHeader, out);
                return;
            }
            (Transfer::Absent, Some(n)) => (BodyFraming::Length, n),
            (Transfer::Absent, None) => (BodyFraming::None, 0),
        };
        let host = r.head.host.clone();
        let request = Request {
            method: r.method,
            path: r.path,
            host,
            message: r.head.into_message(first),
        };
        let seq = self.pairs.push(request, self.flow, out, &mut self.counters);
        self.request = Some(seq);
        self.client.phase = Phase::Body(Body::new(
            framing,
            length,
            self.config.body_preview,
            self.cap(),
        ));
        if matches!(framing, BodyFraming::None) || length == 0 && framing == BodyFraming::Length {
            self.finish_message(Side::Client, true, out);
        }
        if connect && matches!(self.client.phase, Phase::Idle) {
            self.client.phase = Phase::Hold { ignored: false };
        }
    }

    /// A response head: interim, or the answer to the oldest waiting request.
    fn begin_response(&mut self, r: ResponseHead, first: Nanos, out: &mut Vec<Exchange>) {
        let status = r.status;
        if (100..200).contains(&status) && status != 101 {
            if self.interim.len() < MAX_INTERIM {
                self.interim.push(status);
            }
            self.server.phase = Phase::Idle;
            return;
        }
        let target = self
            .pairs
            .next_unanswered()
            .map(|(seq, m)| (seq, m.to_ascii_uppercase()));
        let method = target.as_ref().map_or("", |(_, m)| m.as_str());
        let connect = method == "CONNECT";
        if target.is_none() {
            self.counters.orphan_responses += 1;
        }
        let tunnel = status == 101 || connect && (200..300).contains(&status);
        let bodiless = tunnel || method == "HEAD" || status < 200 || status == 204 || status == 304;
        let (framing, length) = match (r.head.transfer, r.head.content_length) {
            _ if bodiless => (BodyFraming::None, 0),
            (Transfer::Chunked, _) => (BodyFraming::Chunked, 0),
            (Transfer::Other, _) | (Transfer::Absent, None) => (BodyFraming::Close, 0),
            (Transfer::Absent, Some(n)) => (BodyFraming::Length, n),
        };
        if connect && !tunnel {
            // The tunnel was refused: the client speaks HTTP again.
            if let Phase::Hold { ignored } = self.client.phase {
                self.client.phase = if ignored {
                    Phase::Scan(Scan::new(false))
                } else {
                    Phase::Idle
                };
            }
        }
        let response = Response {
            status,
            reason: r.reason,
            interim: mem::take(&mut self.interim),
            message: r.head.into_message(first),
        };
        self.response = Some(Current {
            response,
            target: target.map(|(seq, _)| seq),
            tunnel,
        });
        self.server.phase = Phase::Body(Body::new(
            framing,
            length,
            self.config.body_preview,
            self.cap(),
        ));
        if framing == BodyFraming::None || length == 0 && framing == BodyFraming::Length {
            self.finish_message(Side::Server, true, out);
        }
    }

    /// The message in progress on `side` ends (`complete` unless cut short).
    fn finish_message(&mut self, side: Side, complete: bool, out: &mut Vec<Exchange>) {
        let half = self.half(side);
        let last = half.last_ts;
        let Phase::Body(body) = mem::replace(&mut half.phase, Phase::Idle) else {
            return;
        };
        match side {
            Side::Client => {
                let Some(seq) = self.request.take() else {
                    return;
                };
                if let Some(req) = self.pairs.request_mut(seq) {
                    body.finish_into(&mut req.message, complete);
                    req.message.last_byte = last;
                }
                self.pairs.request_done(seq);
            }
            Side::Server => {
                let Some(mut cur) = self.response.take() else {
                    return;
                };
                body.finish_into(&mut cur.response.message, complete);
                cur.response.message.last_byte = last;
                if let Some(seq) = cur.target {
                    self.pairs.answer(seq, cur.response);
                    if cur.tunnel {
                        // Nothing after the switch is HTTP, so the request is as whole as it gets.
                        self.pairs.request_done(seq);
                    }
                }
                if cur.tunnel {
                    self.state = HttpState::Tunnel;
                }
            }
        }
        self.pairs.emit_ready(self.flow, out);
    }

    /// Parsing stops for good; the message in progress on `side` is kept, incomplete.
    fn malformed(&mut self, side: Side, e: HttpError, out: &mut Vec<Exchange>) {
        self.state = HttpState::Malformed(e);
        self.finish_message(side, false, out);
        let half = self.half(side);
        half.phase = Phase::Closed;
        half.buf = Vec::new();
    }

    /// `len` bytes of `side` were lost.
    pub(super) fn lose(&mut self, side: Side, ts: Nanos, len: u64, out: &mut Vec<Exchange>) {
        if !self.wants_data() || len == 0 {
            return;
        }
        let half = self.half(side);
        half.detect = false;
        release(&mut half.buf);
        let resync = match &mut half.phase {
            Phase::Closed | Phase::Hold { .. } => return,
            Phase::Idle | Phase::Head => true,
            Phase::Scan(s) => {
                s.at_line_start = true;
                s.live = false;
                if !s.counted {
                    s.counted = true;
                    self.counters.resyncs += 1;
                }
                return;
            }
            Phase::Body(body) => match body.gap(len) {
                GapStep::Absorbed => {
                    half.last_ts = ts;
                    return;
                }
                GapStep::Ended { spill } => {
                    half.last_ts = ts;
                    self.finish_message(side, false, out);
                    spill > 0
                }
                GapStep::Lost => {
                    self.finish_message(side, false, out);
                    true
                }
            },
        };
        if resync {
            self.counters.resyncs += 1;
            self.half(side).phase = Phase::Scan(Scan::new(true));
        }
    }

    /// `side` sent its last byte.
    pub(super) fn close(&mut self, side: Side, out: &mut Vec<Exchange>) {
        let close_delimited = matches!(&self.half(side).phase, Phase::Body(b) if b.is_close());
        if self.wants_data() {
            // Only a close-delimited body is whole at the end of its stream.
            self.finish_message(side, close_delimited, out);
        }
        let half = self.half(side);
        half.phase = Phase::Closed;
        half.buf = Vec::new();
    }

    /// The flow is gone: everything still pending goes out.
    pub(super) fn flush(&mut self, out: &mut Vec<Exchange>) {
        self.finish_message(Side::Client, false, out);
        self.finish_message(Side::Server, false, out);
        self.pairs.emit_all(self.flow, out);
        self.interim = Vec::new();
        for side in [Side::Client, Side::Server] {
            let half = self.half(side);
            half.phase = Phase::Closed;
            half.buf = Vec::new();
        }
    }

    /// Bytes held: buffers, previews, queued exchanges.
    pub(super) fn held(&self) -> usize {
        mem::size_of::<Self>()
            + self.client.memory()
            + self.server.memory()
            + self.pairs.memory()
            + self.interim.capacity() * mem::size_of::<u16>()
            + self
                .response
                .as_ref()
                .map_or(0, |c| pairing::response_memory(&c.response))
    }

    /// A parser in its initial state.
    pub(super) fn build(flow: FlowId, config: HttpConfig, midstream: bool) -> Self {
        HttpParser {
            flow,
            config,
            state: HttpState::Detecting,
            counters: super::HttpCounters::default(),
            client: Half::new(midstream),
            server: Half::new(midstream),
            pairs: Pairing::new(config.max_pending),
            request: None,
            response: None,
            interim: Vec::new(),
        }
    }
}
