//! Turning parsed heads into messages, and finished messages into
//! exchanges: framing rules (HEAD, 1xx, 204, 304, CONNECT), interim
//! responses, tunnels, and the hand-over to [`Pairing`](super::pairing::Pairing).

use std::mem;

use super::body::Body;
use super::head::{RequestHead, ResponseHead, Transfer};
use super::parser::Phase;
use super::scan::Scan;
use super::{BodyFraming, Exchange, HttpError, HttpParser, HttpState, Request, Response, Side};
use crate::wire::Nanos;

/// Interim responses remembered for one final response (more are dropped).
const MAX_INTERIM: usize = 16;

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
pub(super) enum AnyHead {
    Request(RequestHead),
    Response(ResponseHead),
}

impl HttpParser {
    /// A head was parsed: start its message.
    pub(super) fn begin(&mut self, side: Side, head: AnyHead, ts: Nanos, out: &mut Vec<Exchange>) {
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
    pub(super) fn finish_message(&mut self, side: Side, complete: bool, out: &mut Vec<Exchange>) {
        let half = self.half(side);
        let last = half.last_ts;
        // Only a body in progress is finished; any other phase is left as it is.
        if !matches!(half.phase, Phase::Body(_)) {
            return;
        }
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
    pub(super) fn malformed(&mut self, side: Side, e: HttpError, out: &mut Vec<Exchange>) {
        self.state = HttpState::Malformed(e);
        self.finish_message(side, false, out);
        let half = self.half(side);
        half.phase = Phase::Closed;
        half.buf = Vec::new();
    }
}
