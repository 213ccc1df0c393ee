//! The read buffer between a byte source and the record parsers.
//!
//! Records are handed out as slices of this buffer, so it is filled in large
//! reads, grows only for a record that does not fit, and moves its unread tail
//! to the front only when the next record would not fit behind it.

use std::io::{self, ErrorKind, Read};

/// Bytes asked for per `read` call, and the initial buffer size.
pub(super) const CHUNK: usize = 256 * 1024;

/// A byte source with a window of unread bytes.
pub(super) struct Input<R> {
    inner: R,
    /// Always fully initialised; `start..end` holds the unread bytes.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Stream offset of `buf[start]`.
    offset: u64,
}

impl<R: Read> Input<R> {
    /// Wraps `inner`; nothing is read yet.
    pub(super) fn new(inner: R) -> Self {
        Input {
            inner,
            buf: vec![0; CHUNK],
            start: 0,
            end: 0,
            offset: 0,
        }
    }

    /// Gives back the byte source.
    pub(super) fn into_inner(self) -> R {
        self.inner
    }

    /// Stream offset of the first unread byte.
    #[inline]
    pub(super) fn offset(&self) -> u64 {
        self.offset
    }

    /// The unread bytes.
    #[inline]
    pub(super) fn available(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    /// Buffer position of the first unread byte, for ranges into [`Input::buffer`].
    #[inline]
    pub(super) fn position(&self) -> usize {
        self.start
    }

    /// The whole buffer; consumed bytes stay valid until the next `fill`.
    #[inline]
    pub(super) fn buffer(&self) -> &[u8] {
        &self.buf
    }

    /// Marks `n` unread bytes (at most all of them) as consumed.
    #[inline]
    pub(super) fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.offset = self.offset.saturating_add(n as u64);
    }

    /// Makes at least `n` bytes available; `false` when the stream ends first.
    ///
    /// Reads only while fewer than `n` bytes are buffered, so a pipe is never
    /// waited on for bytes beyond the record being read.
    #[inline]
    pub(super) fn fill(&mut self, n: usize) -> io::Result<bool> {
        if self.end - self.start >= n {
            return Ok(true);
        }
        self.fill_slow(n)
    }

    #[cold]
    fn fill_slow(&mut self, n: usize) -> io::Result<bool> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.buf.len() - self.start < n {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        while self.end - self.start < n {
            if self.end == self.buf.len() {
                // Only here is `n` larger than the buffer. Grow by doubling, not
                // straight to `n`, so that a bogus length in a short stream does
                // not cost a huge allocation.
                let len = self.buf.len().saturating_mul(2).min(n - self.start);
                self.buf.resize(len.max(self.end + 1), 0);
            }
            let Some(space) = self.buf.get_mut(self.end..) else {
                return Ok(false);
            };
            match self.inner.read(space) {
                Ok(0) => return Ok(false),
                Ok(k) => self.end = self.end.saturating_add(k).min(self.buf.len()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}
