//! HTTP exchanges as compact rows in a ring, with full details for the newest.
//!
//! Ids are consecutive: the kept rows are always ids `first_id..next_id`, so
//! `get` is an index into the ring. Details (headers, body previews) are a
//! second, shorter ring over the newest ids. Methods and hosts are interned
//! (see the `intern` module for how the table stays bounded).

use std::collections::VecDeque;
use std::net::SocketAddr;

use super::heap_bytes;
use super::intern::{Interner, SYMBOL_LIMIT};
use super::paths::{Case, PathRef, Paths};
use crate::decode::ExchangeEvent;
use crate::decode::http::{Exchange, Message};
use crate::wire::Nanos;

/// An interned string (method, host, content type): an index into the store's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(pub u32);

/// One exchange as the HTTP pane lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeRow {
    /// Stable id (insertion order, never reused).
    pub id: u64,
    /// First byte of the request.
    pub ts: Nanos,
    /// Method.
    pub method: Sym,
    /// Host header (empty symbol when absent).
    pub host: Sym,
    /// Request target, read with [`ExchangeStore::path`].
    pub path: PathRef,
    /// Final status, `None` without a response.
    pub status: Option<u16>,
    /// Request end to response start.
    pub latency: Option<Nanos>,
    /// Request first byte to response last byte.
    pub total: Option<Nanos>,
    /// Request body bytes.
    pub request_bytes: u64,
    /// Response body bytes.
    pub response_bytes: u64,
    /// The flow it ran on.
    pub flow: u64,
    /// Client address.
    pub client: SocketAddr,
    /// Server address.
    pub server: SocketAddr,
}

/// Bounded store of exchanges: rows for the newest `capacity`, full
/// details (headers, body previews) for the newest `detail_capacity`.
#[derive(Debug)]
pub struct ExchangeStore {
    capacity: usize,
    detail_capacity: usize,
    rows: VecDeque<ExchangeRow>,
    /// Details of ids `next_id - details.len()..next_id`.
    details: VecDeque<Exchange>,
    next_id: u64,
    evicted: u64,
    strings: Interner,
    /// The rows' paths, packed.
    paths: Paths,
    /// Heap bytes of the details' strings, headers and previews.
    detail_bytes: usize,
}

impl ExchangeStore {
    /// A store keeping `capacity` rows and `detail_capacity` full exchanges.
    pub fn new(capacity: usize, detail_capacity: usize) -> Self {
        Self::with_symbol_limit(capacity, detail_capacity, SYMBOL_LIMIT)
    }

    /// Like [`ExchangeStore::new`], with at most `limit` distinct interned strings kept.
    pub fn with_symbol_limit(capacity: usize, detail_capacity: usize, limit: usize) -> Self {
        ExchangeStore {
            capacity,
            detail_capacity: detail_capacity.min(capacity),
            rows: VecDeque::new(),
            details: VecDeque::new(),
            next_id: 0,
            evicted: 0,
            strings: Interner::new(limit),
            paths: Paths::default(),
            detail_bytes: 0,
        }
    }

    /// Adds an exchange and returns its id.
    pub fn push(&mut self, event: ExchangeEvent) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        if self.capacity == 0 {
            self.evicted += 1;
            return id;
        }
        if self.rows.len() == self.capacity {
            self.evict_row();
        }
        let ex = &event.exchange;
        let req = &ex.request;
        let row = ExchangeRow {
            id,
            ts: req.message.first_byte,
            method: self.strings.acquire(&req.method),
            host: self.strings.acquire(req.host.as_deref().unwrap_or("")),
            path: self.paths.push(id, &req.path),
            status: ex.response.as_ref().map(|r| r.status),
            latency: ex.latency(),
            total: ex.total(),
            request_bytes: req.message.body_len,
            response_bytes: ex.response.as_ref().map_or(0, |r| r.message.body_len),
            flow: ex.flow.0,
            client: event.client,
            server: event.server,
        };
        self.rows.push_back(row);
        if self.detail_capacity > 0 {
            if self.details.len() == self.detail_capacity
                && let Some(old) = self.details.pop_front()
            {
                self.detail_bytes -= exchange_heap(&old);
            }
            self.detail_bytes += exchange_heap(&event.exchange);
            self.details.push_back(event.exchange);
        }
        id
    }

    fn evict_row(&mut self) {
        if let Some(old) = self.rows.pop_front() {
            self.paths.release_before(self.rows.front().map(|r| r.path));
            self.strings.release(old.method);
            self.strings.release(old.host);
            self.evicted += 1;
        }
    }

    /// Id of the oldest kept row (equal to the next id when empty).
    fn first_id(&self) -> u64 {
        self.next_id - self.rows.len() as u64
    }

    /// The row with this id, while it is kept.
    pub fn get(&self, id: u64) -> Option<&ExchangeRow> {
        let i = id.checked_sub(self.first_id())?;
        self.rows.get(usize::try_from(i).ok()?)
    }

    /// Full details of this id, while they are kept.
    pub fn detail(&self, id: u64) -> Option<&Exchange> {
        let first = self.next_id - self.details.len() as u64;
        let i = id.checked_sub(first)?;
        self.details.get(usize::try_from(i).ok()?)
    }

    /// A row's request path.
    pub fn path(&self, row: &ExchangeRow) -> &str {
        self.paths.text(row.path)
    }

    /// A row's request path as bytes.
    pub(crate) fn path_bytes(&self, row: &ExchangeRow) -> &[u8] {
        self.paths.bytes(row.path)
    }

    /// For each kept row, oldest first, whether its path contains `needle`
    /// (in lower case when `ignore_case`): one scan of the packed paths.
    /// `None` when the needle cannot be searched that way.
    pub(crate) fn paths_containing(&self, needle: &str, ignore_case: bool) -> Option<Vec<bool>> {
        let case = if ignore_case {
            Case::Ignore
        } else {
            Case::Exact
        };
        let ids = self.paths.containing(needle.as_bytes(), case)?;
        let first = self.first_id();
        let mut hits = vec![false; self.rows.len()];
        for id in ids {
            if let Some(hit) = id
                .checked_sub(first)
                .and_then(|i| hits.get_mut(usize::try_from(i).ok()?))
            {
                *hit = true;
            }
        }
        Some(hits)
    }

    /// The text of a symbol.
    pub fn text(&self, sym: Sym) -> &str {
        self.strings.text(sym)
    }

    /// The text of a symbol in ASCII lower case (for case-insensitive matching).
    pub(crate) fn text_lower(&self, sym: Sym) -> &str {
        self.strings.lower(sym)
    }

    /// Symbol numbers in use or free: every `Sym` of a kept row is below it.
    pub(crate) fn symbol_slots(&self) -> usize {
        self.strings.slots()
    }

    /// Distinct strings interned now, and strings that did not fit (shown as `(other)`).
    pub fn symbols(&self) -> (usize, u64) {
        (self.strings.live(), self.strings.overflowed)
    }

    /// Rows kept, oldest first.
    pub fn rows(&self) -> impl DoubleEndedIterator<Item = &ExchangeRow> + ExactSizeIterator {
        self.rows.iter()
    }

    /// Rows kept.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no row is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Rows evicted to stay under the capacity (not reset by [`ExchangeStore::clear`]).
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Removes everything (the `c` key); ids keep increasing.
    pub fn clear(&mut self) {
        self.rows = VecDeque::new();
        self.details = VecDeque::new();
        self.strings = Interner::new(self.strings_limit());
        self.paths = Paths::default();
        self.detail_bytes = 0;
    }

    fn strings_limit(&self) -> usize {
        self.strings.limit()
    }

    /// Bytes held (rows, strings, details), for the status bar.
    pub fn memory(&self) -> usize {
        size_of::<Self>()
            + self.rows.capacity() * size_of::<ExchangeRow>()
            + self.paths.memory()
            + self.strings.memory()
            + self.details.capacity() * size_of::<Exchange>()
            + self.detail_bytes
    }
}

/// Heap bytes an exchange holds beyond its own struct.
fn exchange_heap(ex: &Exchange) -> usize {
    let req = &ex.request;
    let mut n = heap_bytes(req.method.capacity())
        + heap_bytes(req.path.capacity())
        + req.host.as_ref().map_or(0, |h| heap_bytes(h.capacity()))
        + message_heap(&req.message);
    if let Some(r) = &ex.response {
        n += heap_bytes(r.reason.capacity())
            + heap_bytes(r.interim.capacity() * 2)
            + message_heap(&r.message);
    }
    n
}

fn message_heap(m: &Message) -> usize {
    let headers: usize = m
        .headers
        .iter()
        .map(|h| heap_bytes(h.name.capacity()) + heap_bytes(h.value.capacity()))
        .sum();
    heap_bytes(m.headers.capacity() * size_of::<crate::decode::http::Header>())
        + headers
        + m.content_type
            .as_ref()
            .map_or(0, |c| heap_bytes(c.capacity()))
        + heap_bytes(m.body_preview.capacity())
}
