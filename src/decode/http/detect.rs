//! Recognising where an HTTP/1.x message starts: a request line on the client
//! side, a status line on the server side.
//!
//! The checks work on any prefix of the bytes and answer early: a TLS
//! `ClientHello` is rejected at its first byte, long before a whole header
//! block could arrive. A verdict never changes as more bytes come (a prefix
//! that is `No` stays `No`), which keeps the parser's decisions independent
//! of how the stream was cut into chunks.

/// What a prefix of a stream says about a message start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// The bytes begin with a whole, plausible start line.
    Yes,
    /// The bytes cannot begin a message.
    No,
    /// Still plausible; more bytes are needed to tell.
    NeedMore,
}

/// Longest method token accepted when detecting. RFC 9110 sets no limit, but
/// real methods are short, and the bound lets binary protocols fail fast.
const MAX_METHOD: usize = 32;

/// RFC 9110 `tchar`: the characters of a method token.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// Bytes httparse accepts in a request target (visible ASCII and obs-text).
fn is_target_byte(b: u8) -> bool {
    b > b' ' && b != 0x7f
}

/// Matches `lit` at `bytes[at..]`; `None` means a match so far that ran out of bytes.
fn literal(bytes: &[u8], at: usize, lit: &[u8]) -> Option<bool> {
    for (k, want) in lit.iter().enumerate() {
        match bytes.get(at + k) {
            None => return None,
            Some(b) if b != want => return Some(false),
            Some(_) => {}
        }
    }
    Some(true)
}

/// `HTTP/1.0` or `HTTP/1.1` at `at`: the index after it, or the verdict that ends the check.
fn version(bytes: &[u8], at: usize) -> Result<usize, Verdict> {
    match literal(bytes, at, b"HTTP/1.") {
        None => return Err(Verdict::NeedMore),
        Some(false) => return Err(Verdict::No),
        Some(true) => {}
    }
    match bytes.get(at + 7) {
        None => Err(Verdict::NeedMore),
        Some(b'0' | b'1') => Ok(at + 8),
        Some(_) => Err(Verdict::No),
    }
}

/// `CRLF` or a bare `LF` at `at`.
fn line_end(bytes: &[u8], at: usize) -> Verdict {
    match bytes.get(at) {
        None => Verdict::NeedMore,
        Some(b'\n') => Verdict::Yes,
        Some(b'\r') => match bytes.get(at + 1) {
            None => Verdict::NeedMore,
            Some(b'\n') => Verdict::Yes,
            Some(_) => Verdict::No,
        },
        Some(_) => Verdict::No,
    }
}

/// Does `bytes` begin with a request line (`token SP target SP HTTP/1.x CRLF`)?
pub(super) fn request_line(bytes: &[u8]) -> Verdict {
    let mut i = 0;
    loop {
        match bytes.get(i) {
            None => return Verdict::NeedMore,
            Some(b' ') if i > 0 => break,
            Some(&b) if is_tchar(b) && i < MAX_METHOD => i += 1,
            Some(_) => return Verdict::No,
        }
    }
    i += 1;
    let target = i;
    loop {
        match bytes.get(i) {
            None => return Verdict::NeedMore,
            Some(b' ') if i > target => break,
            Some(&b) if is_target_byte(b) => i += 1,
            Some(_) => return Verdict::No,
        }
    }
    match version(bytes, i + 1) {
        Ok(end) => line_end(bytes, end),
        Err(v) => v,
    }
}

/// Does `bytes` begin with a status line (`HTTP/1.x SP 3DIGIT` then SP or the line end)?
pub(super) fn status_line(bytes: &[u8]) -> Verdict {
    let mut i = match version(bytes, 0) {
        Ok(end) => end,
        Err(v) => return v,
    };
    match bytes.get(i) {
        None => return Verdict::NeedMore,
        Some(b' ') => i += 1,
        Some(_) => return Verdict::No,
    }
    for _ in 0..3 {
        match bytes.get(i) {
            None => return Verdict::NeedMore,
            Some(b) if b.is_ascii_digit() => i += 1,
            Some(_) => return Verdict::No,
        }
    }
    match bytes.get(i) {
        None => Verdict::NeedMore,
        Some(b' ') => Verdict::Yes,
        Some(_) => line_end(bytes, i),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines() {
        let cases: &[(&[u8], Verdict)] = &[
            (b"GET / HTTP/1.1\r\n", Verdict::Yes),
            (b"CCM_POST /x HTTP/1.0\n", Verdict::Yes),
            (b"PROPFIND /a%20b HTTP/1.1\r\n", Verdict::Yes),
            (b"SEARCH http://h/ HTTP/1.1\r\nHost", Verdict::Yes),
            (b"GET", Verdict::NeedMore),
            (b"GET /very/long", Verdict::NeedMore),
            (b"GET / HTTP/1.1\r", Verdict::NeedMore),
            (b"\x16\x03\x01\x02\x00", Verdict::No),
            (b" GET / HTTP/1.1\r\n", Verdict::No),
            (b"GET  / HTTP/1.1\r\n", Verdict::No),
            (b"GET / HTTP/2.0\r\n", Verdict::No),
            (b"GET / HTTP/1.1 x\r\n", Verdict::No),
            (b"GET /\x01 HTTP/1.1\r\n", Verdict::No),
            (b"SSH-2.0-OpenSSH_9.2\r\n", Verdict::No),
            (
                b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                Verdict::No,
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(
                request_line(bytes),
                *want,
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn status_lines() {
        let cases: &[(&[u8], Verdict)] = &[
            (b"HTTP/1.1 200 OK\r\n", Verdict::Yes),
            (b"HTTP/1.0 404 ", Verdict::Yes),
            (b"HTTP/1.1 204\r\n", Verdict::Yes),
            (b"HTTP/1.1 20", Verdict::NeedMore),
            (b"HTTP/", Verdict::NeedMore),
            (b"HTTP/2 200\r\n", Verdict::No),
            (b"HTTP/1.1 2x0 OK\r\n", Verdict::No),
            (b"SSH-2.0\r\n", Verdict::No),
        ];
        for (bytes, want) in cases {
            assert_eq!(
                status_line(bytes),
                *want,
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
}
