//! The state machine behind [`HttpParser`]: one [`Half`] per direction, each
//! between messages, inside a header block, inside a body, or scanning for
//! the next message start; and the glue that pairs what the halves produce.
//!
//! Header blocks are parsed straight from the caller's chunk when they fit in
//! it; only a block split across chunks is copied (bounded by
//! `max_header_bytes`). Bodies are skipped by arithmetic in [`Body`].

use std::mem;

use super::assemble::AnyHead;
use super::body::{Body, GapStep, Step};
use super::detect::{self, Verdict};
use super::head::{self, Parsed};
use super::pairing::{self, Pairing};
use super::scan::Scan;
use super::{Exchange, HttpConfig, HttpError, HttpParser, HttpState, Side};
use crate::decode::flow::FlowId;
use crate::wire::Nanos;

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

/// One direction of the connection.
#[derive(Debug)]
pub(super) struct Half {
    pub(super) phase: Phase,
    /// A partial header block, or a scanned line that may start one.
    pub(super) buf: Vec<u8>,
    /// Time of the current message's first byte.
    pub(super) first_ts: Nanos,
    /// Time of the latest byte of the current message.
    pub(super) last_ts: Nanos,
    /// The next start line must pass the quick check, or the flow is not HTTP.
    pub(super) detect: bool,
    /// The current message start was found by a scan (a false find is skipped, not fatal).
    pub(super) scanned: bool,
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

/// The outcome of looking at a (possibly partial) header block.
enum Block {
    Partial,
    Done(usize, AnyHead),
    Bad(HttpError),
    NotHttp,
}

/// Bytes of a first message within which detection rejects non-HTTP at once;
/// beyond them, a start line is judged at its line end.
const DETECT_EARLY: usize = 64;

/// Empties a buffer, keeping a small allocation for the next split header
/// block but returning a large one (a rare huge header must not pin memory).
pub(super) fn release(buf: &mut Vec<u8>) {
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

impl HttpParser {
    /// The parser's direction `side`.
    pub(super) fn half(&mut self, side: Side) -> &mut Half {
        match side {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        }
    }

    /// Header blocks may not be longer than this.
    pub(super) fn cap(&self) -> usize {
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
        // limit, and re-reading it for every small chunk would be quadratic.
        // Detection still looks at every chunk of the first few dozen bytes,
        // so that binary protocols are turned away early.
        let early = half.detect && half.buf.len() <= DETECT_EARLY;
        if !early && half.buf.len() < cap && !bytes[..take].contains(&b'\n') {
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
