//! Finding the next message start after a gap, or when the capture began
//! mid-connection: a request line at a line start on the client side, a
//! status line on the server side.
//!
//! Whole lines are judged in place; only the start of a line cut by the end
//! of a chunk is held (and only while it can still be a start line), so a
//! scan over a large body copies almost nothing.

use super::detect::{self, Verdict};
use super::parser::{Phase, release};
use super::{HttpParser, HttpState, Side};
use crate::wire::Nanos;

/// Bytes a side may be scanned for a message start before a flow that has not
/// shown any HTTP yet is declared not HTTP.
const SCAN_WINDOW: u64 = 64 * 1024;

/// The state of a scan for a message start.
#[derive(Debug)]
pub(super) struct Scan {
    /// The next byte begins a line.
    pub(super) at_line_start: bool,
    /// The direction's buffer holds the start of the current line, still a candidate.
    pub(super) live: bool,
    /// Time of the first byte of the held line.
    pub(super) line_ts: Nanos,
    /// Bytes passed over so far.
    pub(super) skipped: u64,
    /// Whether this scan was counted in `resyncs`.
    pub(super) counted: bool,
}

impl Scan {
    /// A scan starting at a line start; `counted` when the caller counted it already.
    pub(super) fn new(counted: bool) -> Self {
        Scan {
            at_line_start: true,
            live: false,
            line_ts: Nanos(0),
            skipped: 0,
            counted,
        }
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
    /// Scans for a message start.
    pub(super) fn scan(&mut self, side: Side, ts: Nanos, bytes: &[u8]) -> usize {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `chunks` to a fresh scan; the offset in their concatenation where
    /// a message start was found, and the bytes counted as skipped.
    fn find(chunks: &[&[u8]], cap: usize, is_start: fn(&[u8]) -> Verdict) -> (Option<usize>, u64) {
        let mut s = Scan::new(false);
        let mut buf = Vec::new();
        let mut at = 0;
        for chunk in chunks {
            if let Some((used, in_buf)) =
                scan_bytes(&mut s, &mut buf, chunk, Nanos(0), cap, is_start)
            {
                let start = if in_buf {
                    at + used - buf.len()
                } else {
                    at + used
                };
                return (Some(start), s.skipped);
            }
            at += chunk.len();
        }
        (None, s.skipped)
    }

    #[test]
    fn finds_start_lines_across_chunks() {
        type Case<'a> = (&'a [&'a [u8]], usize, Option<usize>, u64);
        let req: &[Case<'_>] = &[
            (&[b"GET / HTTP/1.1\r\n"], 100, Some(0), 0),
            (&[b"body\nGET / HTTP/1.1\r\n"], 100, Some(5), 5),
            (&[b"body\nGE", b"T / HTTP/1.1\r\n"], 100, Some(5), 5),
            (&[b"bo", b"dy", b"\nGET / ", b"HTTP/1.1\n"], 100, Some(5), 5),
            (&[b"{GET / HTTP/1.1\r\n"], 100, None, 17),
            (
                &[b"GET / HTTP/1.1 nope\r\nPUT /x HTTP/1.0\n"],
                100,
                Some(21),
                21,
            ),
            // A candidate longer than the limit is passed over, whole.
            (
                &[b"GET /aaaaaaaaaa", b"aaaa HTTP/1.1\r\nGET / HTTP/1.1\r\n"],
                20,
                Some(30),
                30,
            ),
            (&[b"no line end at all"], 100, None, 18),
        ];
        for (chunks, cap, want, skipped) in req {
            assert_eq!(
                find(chunks, *cap, detect::request_line),
                (*want, *skipped),
                "{chunks:?}"
            );
        }
        let status: &[Case<'_>] = &[
            (&[b"tail\r\nHTTP/1.1 200 OK\r\n"], 100, Some(6), 6),
            (&[b"tail\r\nHTTP/1", b".1 200 OK\r\n"], 100, Some(6), 6),
            (&[b"x HTTP/1.1 200 OK\r\n"], 100, None, 19),
        ];
        for (chunks, cap, want, skipped) in status {
            assert_eq!(
                find(chunks, *cap, detect::status_line),
                (*want, *skipped),
                "{chunks:?}"
            );
        }
    }
}
