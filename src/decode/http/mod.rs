//! HTTP/1.x on reassembled TCP streams: requests and responses paired in order.
//!
//! The flow pipeline feeds each direction's bytes in order (after reassembly)
//! and reports gaps and ends; [`HttpParser`] turns them into [`Exchange`]s.
//! It never fails: bytes that are not HTTP switch the flow to
//! [`HttpState::NotHttp`], a malformed message to [`HttpState::Malformed`],
//! and everything after is ignored (and counted). Gaps are never fatal: the
//! parser skips to the next message start.
//!
//! Submodules: `detect` (start lines), `head` (header blocks), `body` (body
//! framing), `scan` (finding the next message start), `assemble` (heads to
//! messages), `pairing` (the request queue) and `parser` (the per-direction
//! state machine).
//!
//! Pure: no I/O, no clocks; time comes with the data: a message's first and
//! last byte times are the `ts` of the `data` calls that carried those bytes.

mod assemble;
mod body;
mod detect;
mod head;
mod pairing;
mod parser;
#[cfg(test)]
mod proptests;
mod scan;
#[cfg(test)]
mod tests;

use assemble::Current;
use pairing::Pairing;
use parser::Half;

use crate::decode::flow::FlowId;
use crate::wire::Nanos;

/// Which end of a TCP connection bytes came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The end that sends requests.
    Client,
    /// The end that sends responses.
    Server,
}

/// Limits for one parser (each bounded, so memory per flow is bounded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpConfig {
    /// Bytes of each body kept as a preview.
    pub body_preview: usize,
    /// Largest header block (start line + headers) accepted; larger is malformed.
    pub max_header_bytes: usize,
    /// Requests waiting for their response (pipelining); beyond it the oldest is emitted unanswered.
    pub max_pending: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            body_preview: 1024,
            max_header_bytes: 64 * 1024,
            max_pending: 32,
        }
    }
}

/// One header line as seen on the wire (value decoded lossily as UTF-8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Header name, as written.
    pub name: String,
    /// Header value.
    pub value: String,
}

/// How a message body was framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body (HEAD response, 1xx, 204, 304, or a request without length).
    None,
    /// `Content-Length`.
    Length,
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the server closes the connection.
    Close,
}

/// What both kinds of message share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// HTTP minor version (1.0 -> 0, 1.1 -> 1).
    pub version: u8,
    /// Headers in order.
    pub headers: Vec<Header>,
    /// `Content-Type`, when present.
    pub content_type: Option<String>,
    /// `Content-Length`, when present and valid.
    pub content_length: Option<u64>,
    /// How the body was delimited.
    pub framing: BodyFraming,
    /// Body bytes seen (decoded length for chunked bodies).
    pub body_len: u64,
    /// The first bytes of the (de-chunked) body.
    pub body_preview: Vec<u8>,
    /// Whether the body was longer than the preview.
    pub body_truncated: bool,
    /// Time of the first byte of the message.
    pub first_byte: Nanos,
    /// Time of the last byte of the message.
    pub last_byte: Nanos,
    /// False when the flow ended, or a gap hit, before the message was whole.
    pub complete: bool,
}

/// A request as parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Method token (`GET`, `POST`, ...).
    pub method: String,
    /// Request target as written (path and query, or absolute form).
    pub path: String,
    /// `Host` header, when present.
    pub host: Option<String>,
    /// Start line, headers and body.
    pub message: Message,
}

/// A final response as parsed (interim 1xx responses are listed in `interim`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Reason phrase.
    pub reason: String,
    /// Status codes of interim (1xx) responses that came before this one (`100 Continue`).
    pub interim: Vec<u16>,
    /// Start line, headers and body.
    pub message: Message,
}

/// A request and, when it was seen, its response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// The TCP flow it ran on.
    pub flow: FlowId,
    /// The request.
    pub request: Request,
    /// The response; `None` when the flow ended (or the queue overflowed) first.
    pub response: Option<Response>,
}

impl Exchange {
    /// Server think time: from the request's last byte to the response's first byte.
    pub fn latency(&self) -> Option<Nanos> {
        let r = self.response.as_ref()?;
        Some(r.message.first_byte.since(self.request.message.last_byte))
    }

    /// Whole exchange: from the request's first byte to the response's last byte.
    pub fn total(&self) -> Option<Nanos> {
        let r = self.response.as_ref()?;
        Some(r.message.last_byte.since(self.request.message.first_byte))
    }
}

/// Where a flow's HTTP parsing stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpState {
    /// No client bytes yet.
    Detecting,
    /// Parsing HTTP/1.x.
    Http,
    /// The first client bytes were not HTTP; nothing more is parsed.
    NotHttp,
    /// A message was malformed; parsing stopped for this flow.
    Malformed(HttpError),
    /// `101 Switching Protocols` or a successful `CONNECT`: the rest is another protocol.
    Tunnel,
}

/// Kinds of malformed HTTP, counted by the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpError {
    /// The start line or a header did not parse.
    BadHeader,
    /// Headers longer than [`HttpConfig::max_header_bytes`].
    HeaderTooLong,
    /// A `Content-Length` that is not a number, or several that disagree.
    BadContentLength,
    /// A chunk size line that does not parse or overflows.
    BadChunk,
}

impl HttpError {
    /// A short stable name for counters and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpError::BadHeader => "http_bad_header",
            HttpError::HeaderTooLong => "http_header_too_long",
            HttpError::BadContentLength => "http_bad_content_length",
            HttpError::BadChunk => "http_bad_chunk",
        }
    }
}

/// Per-flow anomaly counters; the pipeline sums them over all flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HttpCounters {
    /// Responses that arrived with no request waiting (dropped).
    pub orphan_responses: u64,
    /// Times the parser skipped bytes to find the next message start (after a gap or mid-stream).
    pub resyncs: u64,
    /// Requests emitted without a response because `max_pending` overflowed.
    pub pending_overflow: u64,
    /// Bytes fed after parsing stopped (not HTTP, malformed, tunnel) and ignored.
    pub ignored_bytes: u64,
}

impl HttpCounters {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &HttpCounters) {
        self.orphan_responses += other.orphan_responses;
        self.resyncs += other.resyncs;
        self.pending_overflow += other.pending_overflow;
        self.ignored_bytes += other.ignored_bytes;
    }
}

/// Parses both directions of one TCP connection into exchanges.
#[derive(Debug)]
pub struct HttpParser {
    flow: FlowId,
    config: HttpConfig,
    state: HttpState,
    counters: HttpCounters,
    client: Half,
    server: Half,
    /// Requests waiting for (or receiving) their responses.
    pairs: Pairing,
    /// Queue number of the request whose body the client is sending.
    request: Option<u64>,
    /// The response whose body the server is sending.
    response: Option<Current>,
    /// Interim (1xx) statuses for the next final response.
    interim: Vec<u16>,
}

impl HttpParser {
    /// A parser for one flow. `midstream`: the capture started after the
    /// connection did, so either side may begin inside a message and the
    /// parser looks for the next message start instead of giving up.
    pub fn new(flow: FlowId, config: HttpConfig, midstream: bool) -> Self {
        Self::build(flow, config, midstream)
    }

    /// In-order bytes from one side, captured at `ts`. Finished exchanges are pushed to `out`.
    pub fn data(&mut self, side: Side, ts: Nanos, bytes: &[u8], out: &mut Vec<Exchange>) {
        self.feed(side, ts, bytes, out);
    }

    /// `len` bytes from `side` were lost: the current message there is incomplete.
    pub fn gap(&mut self, side: Side, ts: Nanos, len: u64, out: &mut Vec<Exchange>) {
        self.lose(side, ts, len, out);
    }

    /// `side` finished sending (FIN or RST): close-delimited bodies end here.
    pub fn end(&mut self, side: Side, ts: Nanos, out: &mut Vec<Exchange>) {
        // The end carries no byte, so a message's last byte time stays that of its data.
        let _ = ts;
        self.close(side, out);
    }

    /// The flow is gone: emit every request still waiting, with what is known.
    /// A body still in progress (close-delimited included, when `end` was not
    /// seen) is marked incomplete.
    pub fn finish(&mut self, ts: Nanos, out: &mut Vec<Exchange>) {
        let _ = ts;
        self.flush(out);
    }

    /// Current state.
    pub fn state(&self) -> HttpState {
        self.state
    }

    /// Whether more bytes are worth feeding (false once not HTTP, malformed or a tunnel).
    pub fn wants_data(&self) -> bool {
        matches!(self.state, HttpState::Detecting | HttpState::Http)
    }

    /// What this parser passed over or could not parse so far.
    pub fn counters(&self) -> HttpCounters {
        self.counters
    }

    /// Bytes this parser holds (buffers, pending requests), for the memory caps.
    pub fn memory(&self) -> usize {
        self.held()
    }
}
