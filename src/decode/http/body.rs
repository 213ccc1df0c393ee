//! Message bodies: `Content-Length`, chunked and close-delimited framing.
//!
//! Body bytes are counted and skipped by arithmetic; only the preview is
//! copied. Chunk framing is decoded one byte at a time by a small state
//! machine, so a chunk-size line split across packets needs no buffer at all.

use super::{BodyFraming, HttpError, Message};

/// Longest chunk extension accepted; a longer one is not chunked framing.
const MAX_CHUNK_EXT: usize = 4096;

/// Where the chunked decoder stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Hex digits of a chunk size.
    Size,
    /// Whitespace after the size, before `;` or the line end.
    SizeTail,
    /// A chunk extension, skipped up to the line end.
    Ext,
    /// After the CR of the size line.
    SizeLf,
    /// Inside chunk data, with this many bytes left.
    Data(u64),
    /// The CRLF after chunk data.
    DataCr,
    /// The LF after chunk data.
    DataLf,
    /// Trailer section, at a line start.
    LineStart,
    /// Inside a trailer line.
    Trailer,
    /// After the CR of the empty line that ends the message.
    FinalLf,
}

/// How the body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    /// This many bytes are left.
    Length(u64),
    /// Chunked, in this decoder state.
    Chunked(Chunk),
    /// At the sender's end of stream.
    Close,
}

/// What one call to [`Body::feed`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    /// Every byte was body; the body goes on.
    More,
    /// The body ended after this many bytes; the rest belongs to what follows.
    Done(usize),
    /// The framing is broken.
    Bad(HttpError),
}

/// What a gap did to the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum GapStep {
    /// The gap fell inside body bytes of known length; decoding goes on.
    Absorbed,
    /// The gap covered the end of the body; `spill` lost bytes came after it.
    Ended {
        /// Lost bytes beyond the body's end.
        spill: u64,
    },
    /// The framing cannot be followed past the gap.
    Lost,
}

/// The decoder for one message body.
#[derive(Debug)]
pub(super) struct Body {
    frame: Frame,
    framing: BodyFraming,
    /// Chunk size being read (hex digits so far).
    size: u64,
    /// Bytes of the current chunk-size extension or trailer section.
    line_bytes: usize,
    /// Limit for the trailer section.
    max_trailer: usize,
    len: u64,
    preview: Vec<u8>,
    preview_cap: usize,
    /// False after a gap: later bytes no longer follow the preview.
    preview_open: bool,
    gapped: bool,
}

impl Body {
    /// A decoder for `framing`; `length` is the Content-Length for [`BodyFraming::Length`].
    pub fn new(framing: BodyFraming, length: u64, preview_cap: usize, max_trailer: usize) -> Self {
        let frame = match framing {
            BodyFraming::Length => Frame::Length(length),
            BodyFraming::Chunked => Frame::Chunked(Chunk::Size),
            BodyFraming::Close => Frame::Close,
            // Callers finish bodiless messages at once; a zero length keeps this total.
            BodyFraming::None => Frame::Length(0),
        };
        Body {
            frame,
            framing,
            size: 0,
            line_bytes: 0,
            max_trailer,
            len: 0,
            preview: Vec::new(),
            preview_cap,
            preview_open: true,
            gapped: false,
        }
    }

    /// Bytes held (the preview).
    pub fn memory(&self) -> usize {
        self.preview.capacity()
    }

    /// Whether the body runs to the end of the stream.
    pub fn is_close(&self) -> bool {
        matches!(self.frame, Frame::Close)
    }

    /// Takes the next bytes of the stream.
    pub fn feed(&mut self, bytes: &[u8]) -> Step {
        match self.frame {
            Frame::Close => {
                self.take(bytes);
                Step::More
            }
            Frame::Length(left) => {
                let n = usize::try_from(left).unwrap_or(usize::MAX).min(bytes.len());
                self.take(&bytes[..n]);
                let left = left - n as u64;
                self.frame = Frame::Length(left);
                if left == 0 { Step::Done(n) } else { Step::More }
            }
            Frame::Chunked(_) => self.feed_chunked(bytes),
        }
    }

    /// Chunked framing: byte by byte for framing, arithmetic for data.
    fn feed_chunked(&mut self, bytes: &[u8]) -> Step {
        let mut i = 0;
        while i < bytes.len() {
            let Frame::Chunked(state) = self.frame else {
                return Step::Bad(HttpError::BadChunk);
            };
            if let Chunk::Data(left) = state {
                let n = usize::try_from(left)
                    .unwrap_or(usize::MAX)
                    .min(bytes.len() - i);
                self.take(&bytes[i..i + n]);
                i += n;
                let left = left - n as u64;
                self.frame = Frame::Chunked(if left == 0 {
                    Chunk::DataCr
                } else {
                    Chunk::Data(left)
                });
                continue;
            }
            let next = match self.chunk_byte(state, bytes[i]) {
                Ok(next) => next,
                Err(e) => return Step::Bad(e),
            };
            i += 1;
            match next {
                Some(next) => self.frame = Frame::Chunked(next),
                None => return Step::Done(i),
            }
        }
        Step::More
    }

    /// One framing byte: the next state, or `None` when the message ended.
    fn chunk_byte(&mut self, state: Chunk, b: u8) -> Result<Option<Chunk>, HttpError> {
        let next = match (state, b) {
            (Chunk::Size, _) if b.is_ascii_hexdigit() => {
                let digit = u64::from(hex_value(b));
                // A size past u64 is a smuggling attempt or garbage, never a real body.
                self.size = self
                    .size
                    .checked_mul(16)
                    .and_then(|s| s.checked_add(digit))
                    .ok_or(HttpError::BadChunk)?;
                self.line_bytes += 1;
                Chunk::Size
            }
            (Chunk::Size, _) if self.line_bytes == 0 => return Err(HttpError::BadChunk),
            (Chunk::Size | Chunk::SizeTail, b' ' | b'\t') => Chunk::SizeTail,
            (Chunk::Size | Chunk::SizeTail, b';') => {
                self.line_bytes = 0;
                Chunk::Ext
            }
            (Chunk::Ext, b) if b != b'\r' && b != b'\n' => {
                self.line_bytes += 1;
                if self.line_bytes > MAX_CHUNK_EXT {
                    return Err(HttpError::BadChunk);
                }
                Chunk::Ext
            }
            (Chunk::Size | Chunk::SizeTail | Chunk::Ext, b'\r') => Chunk::SizeLf,
            (Chunk::Size | Chunk::SizeTail | Chunk::Ext | Chunk::SizeLf, b'\n') => {
                let size = self.size;
                self.size = 0;
                self.line_bytes = 0;
                if size == 0 {
                    Chunk::LineStart
                } else {
                    Chunk::Data(size)
                }
            }
            (Chunk::DataCr, b'\r') => Chunk::DataLf,
            (Chunk::DataCr | Chunk::DataLf, b'\n') => Chunk::Size,
            (Chunk::LineStart, b'\r') => Chunk::FinalLf,
            (Chunk::LineStart | Chunk::FinalLf, b'\n') => return Ok(None),
            (Chunk::LineStart | Chunk::Trailer, _) => {
                self.line_bytes += 1;
                if self.line_bytes > self.max_trailer {
                    return Err(HttpError::HeaderTooLong);
                }
                if b == b'\n' {
                    Chunk::LineStart
                } else {
                    Chunk::Trailer
                }
            }
            _ => return Err(HttpError::BadChunk),
        };
        Ok(Some(next))
    }

    /// Counts body bytes and copies what still fits in the preview.
    fn take(&mut self, data: &[u8]) {
        self.len += data.len() as u64;
        if self.preview_open && self.preview.len() < self.preview_cap {
            let n = (self.preview_cap - self.preview.len()).min(data.len());
            self.preview.extend_from_slice(&data[..n]);
        }
    }

    /// `len` bytes of the stream were lost.
    pub fn gap(&mut self, len: u64) -> GapStep {
        self.gapped = true;
        self.preview_open = false;
        match self.frame {
            Frame::Length(left) => {
                let n = left.min(len);
                self.len += n;
                self.frame = Frame::Length(left - n);
                if left == n {
                    GapStep::Ended { spill: len - n }
                } else {
                    GapStep::Absorbed
                }
            }
            Frame::Chunked(Chunk::Data(left)) if len <= left => {
                self.len += len;
                let left = left - len;
                self.frame = Frame::Chunked(if left == 0 {
                    Chunk::DataCr
                } else {
                    Chunk::Data(left)
                });
                GapStep::Absorbed
            }
            Frame::Chunked(_) | Frame::Close => GapStep::Lost,
        }
    }

    /// Writes the body's facts into `msg`; `complete` unless the body was cut short.
    pub fn finish_into(self, msg: &mut Message, complete: bool) {
        msg.framing = self.framing;
        msg.body_len = self.len;
        msg.body_truncated = self.len > self.preview.len() as u64;
        msg.body_preview = self.preview;
        msg.complete = complete && !self.gapped;
    }
}

/// The value of one ASCII hex digit.
fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunked(bytes: &[u8]) -> (Step, Body) {
        let mut body = Body::new(BodyFraming::Chunked, 0, 8, 1024);
        (body.feed(bytes), body)
    }

    #[test]
    fn chunked_framing_table() {
        let cases: &[(&[u8], Step, u64)] = &[
            (b"0\r\n\r\n", Step::Done(5), 0),
            (b"5\r\nhello\r\n0\r\n\r\nNEXT", Step::Done(15), 5),
            (
                b"5;a=b;c\r\nhello\r\n0;x\r\nT: v\r\nU: w\r\n\r\n",
                Step::Done(35),
                5,
            ),
            (b"A \r\n0123456789\n0\n\n", Step::Done(18), 10),
            (b"00000003\r\nabc\r\n0\r\n\r\n", Step::Done(20), 3),
            (b"5\r\nhel", Step::More, 3),
            (b"10000000000000000\r\n", Step::Bad(HttpError::BadChunk), 0),
            (b"zz\r\n", Step::Bad(HttpError::BadChunk), 0),
            (b"\r\n", Step::Bad(HttpError::BadChunk), 0),
            (b"3\r\nabcX", Step::Bad(HttpError::BadChunk), 3),
            (b"3 x\r\n", Step::Bad(HttpError::BadChunk), 0),
        ];
        for (bytes, want, len) in cases {
            let (step, body) = chunked(bytes);
            assert_eq!(step, *want, "{:?}", String::from_utf8_lossy(bytes));
            assert_eq!(body.len, *len, "{:?}", String::from_utf8_lossy(bytes));
        }
    }

    #[test]
    fn hex_digits() {
        for (b, v) in [
            (b'0', 0),
            (b'9', 9),
            (b'a', 10),
            (b'f', 15),
            (b'A', 10),
            (b'F', 15),
        ] {
            assert_eq!(hex_value(b), v);
        }
    }

    #[test]
    fn gaps_in_known_lengths_are_absorbed() {
        let mut body = Body::new(BodyFraming::Length, 10, 8, 1024);
        assert_eq!(body.gap(4), GapStep::Absorbed);
        assert_eq!(body.gap(10), GapStep::Ended { spill: 4 });
        let mut body = Body::new(BodyFraming::Chunked, 0, 8, 1024);
        assert_eq!(body.feed(b"8\r\nab"), Step::More);
        assert_eq!(body.gap(6), GapStep::Absorbed);
        assert_eq!(body.feed(b"\r\n0\r\n\r\n"), Step::Done(7));
        assert_eq!(body.gap(1), GapStep::Lost);
    }
}
