//! Header blocks: a start line and headers, parsed with httparse into owned
//! values, plus the framing facts the body decoder needs.
//!
//! Works on one contiguous slice (the caller passes the chunk itself when the
//! whole block is inside it, and only copies otherwise).

use super::{BodyFraming, Header, HttpError, Message};
use crate::wire::Nanos;

/// Most headers in one block; more is treated as malformed.
pub(super) const MAX_HEADERS: usize = 64;

/// The outcome of parsing a (possibly partial) header block.
#[derive(Debug)]
pub(super) enum Parsed<T> {
    /// The block is not complete yet.
    Partial,
    /// The block is complete, `usize` bytes long.
    Done(usize, T),
    /// The block cannot be HTTP.
    Bad(HttpError),
}

/// How `Transfer-Encoding` frames the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Transfer {
    /// No `Transfer-Encoding` header.
    Absent,
    /// The last coding is `chunked`.
    Chunked,
    /// Codings without a final `chunked` (a response body then runs to the close).
    Other,
}

/// What request and response heads share.
#[derive(Debug)]
pub(super) struct Head {
    pub version: u8,
    pub headers: Vec<Header>,
    pub content_type: Option<String>,
    pub content_length: Option<u64>,
    pub transfer: Transfer,
    pub host: Option<String>,
}

impl Head {
    /// A message with this head, whose body is still to come.
    pub fn into_message(self, first_byte: Nanos) -> Message {
        Message {
            version: self.version,
            headers: self.headers,
            content_type: self.content_type,
            content_length: self.content_length,
            framing: BodyFraming::None,
            body_len: 0,
            body_preview: Vec::new(),
            body_truncated: false,
            first_byte,
            last_byte: first_byte,
            complete: false,
        }
    }
}

/// A parsed request head.
#[derive(Debug)]
pub(super) struct RequestHead {
    pub method: String,
    pub path: String,
    pub head: Head,
}

/// A parsed response head.
#[derive(Debug)]
pub(super) struct ResponseHead {
    pub status: u16,
    pub reason: String,
    pub head: Head,
}

/// Parses a request header block at the start of `buf`.
pub(super) fn parse_request(buf: &[u8]) -> Parsed<RequestHead> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Partial) => Parsed::Partial,
        Err(_) => Parsed::Bad(HttpError::BadHeader),
        Ok(httparse::Status::Complete(n)) => {
            let head = match collect(req.version, req.headers) {
                Ok(head) => head,
                Err(e) => return Parsed::Bad(e),
            };
            let method = req.method.unwrap_or_default().to_owned();
            let path = req.path.unwrap_or_default().to_owned();
            Parsed::Done(n, RequestHead { method, path, head })
        }
    }
}

/// Parses a response header block at the start of `buf`.
pub(super) fn parse_response(buf: &[u8]) -> Parsed<ResponseHead> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(buf) {
        Ok(httparse::Status::Partial) => Parsed::Partial,
        Err(_) => Parsed::Bad(HttpError::BadHeader),
        Ok(httparse::Status::Complete(n)) => {
            let head = match collect(resp.version, resp.headers) {
                Ok(head) => head,
                Err(e) => return Parsed::Bad(e),
            };
            let status = resp.code.unwrap_or_default();
            let reason = resp.reason.unwrap_or_default().to_owned();
            Parsed::Done(
                n,
                ResponseHead {
                    status,
                    reason,
                    head,
                },
            )
        }
    }
}

/// Owned headers and the framing facts, from httparse's borrowed view.
fn collect(version: Option<u8>, raw: &[httparse::Header<'_>]) -> Result<Head, HttpError> {
    let mut head = Head {
        version: version.unwrap_or(1),
        headers: Vec::with_capacity(raw.len()),
        content_type: None,
        content_length: None,
        transfer: Transfer::Absent,
        host: None,
    };
    let mut length: Option<u64> = None;
    for h in raw {
        let value = String::from_utf8_lossy(h.value).into_owned();
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = content_length(h.value)?;
            // Repeats are fine only when they agree (RFC 9110 section 8.6).
            if length.is_some_and(|old| old != n) {
                return Err(HttpError::BadContentLength);
            }
            length = Some(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            // Later headers append codings: only the very last one decides.
            if let Some(last) = value.rsplit(',').map(str::trim).find(|c| !c.is_empty()) {
                head.transfer = if last.eq_ignore_ascii_case("chunked") {
                    Transfer::Chunked
                } else {
                    Transfer::Other
                };
            } else if head.transfer == Transfer::Absent {
                head.transfer = Transfer::Other;
            }
        } else if h.name.eq_ignore_ascii_case("content-type") && head.content_type.is_none() {
            head.content_type = Some(value.trim().to_owned());
        } else if h.name.eq_ignore_ascii_case("host") && head.host.is_none() {
            head.host = Some(value.trim().to_owned());
        }
        head.headers.push(Header {
            name: h.name.to_owned(),
            value,
        });
    }
    head.content_length = length;
    Ok(head)
}

/// One `Content-Length` value: digits, or a comma list of equal digit runs.
fn content_length(value: &[u8]) -> Result<u64, HttpError> {
    let mut found: Option<u64> = None;
    for part in value.split(|&b| b == b',') {
        let part = part.trim_ascii();
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return Err(HttpError::BadContentLength);
        }
        let mut n: u64 = 0;
        for &d in part {
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(d - b'0')))
                .ok_or(HttpError::BadContentLength)?;
        }
        if found.is_some_and(|old| old != n) {
            return Err(HttpError::BadContentLength);
        }
        found = Some(n);
    }
    found.ok_or(HttpError::BadContentLength)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_values() {
        let cases: &[(&[u8], Result<u64, HttpError>)] = &[
            (b"0", Ok(0)),
            (b"42", Ok(42)),
            (b" 42 ", Ok(42)),
            (b"42, 42", Ok(42)),
            (b"18446744073709551615", Ok(u64::MAX)),
            (b"18446744073709551616", Err(HttpError::BadContentLength)),
            (b"", Err(HttpError::BadContentLength)),
            (b"-1", Err(HttpError::BadContentLength)),
            (b"+1", Err(HttpError::BadContentLength)),
            (b"1e3", Err(HttpError::BadContentLength)),
            (b"42, 43", Err(HttpError::BadContentLength)),
            (b"42,", Err(HttpError::BadContentLength)),
        ];
        for (value, want) in cases {
            assert_eq!(
                content_length(value),
                *want,
                "{:?}",
                String::from_utf8_lossy(value)
            );
        }
    }

    #[test]
    fn transfer_encoding_last_coding_decides() {
        let cases: &[(&[u8], Transfer)] = &[
            (b"GET / HTTP/1.1\r\n\r\n", Transfer::Absent),
            (
                b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                Transfer::Chunked,
            ),
            (
                b"GET / HTTP/1.1\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n",
                Transfer::Chunked,
            ),
            (
                b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                Transfer::Other,
            ),
            (
                b"GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
                Transfer::Chunked,
            ),
        ];
        for (bytes, want) in cases {
            match parse_request(bytes) {
                Parsed::Done(n, r) => {
                    assert_eq!(n, bytes.len());
                    assert_eq!(r.head.transfer, *want);
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn too_many_headers_is_bad() {
        let mut block = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            block.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        block.extend_from_slice(b"\r\n");
        assert!(matches!(
            parse_request(&block),
            Parsed::Bad(HttpError::BadHeader)
        ));
    }
}
