//! HTTP exchanges as compact rows in a ring, with full details for the newest.

use std::net::SocketAddr;

use crate::decode::ExchangeEvent;
use crate::decode::http::Exchange;
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
    /// Request target.
    pub path: Box<str>,
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
}

impl ExchangeStore {
    /// A store keeping `capacity` rows and `detail_capacity` full exchanges.
    pub fn new(capacity: usize, detail_capacity: usize) -> Self {
        ExchangeStore {
            capacity,
            detail_capacity,
        }
    }

    /// Adds an exchange and returns its id.
    pub fn push(&mut self, event: ExchangeEvent) -> u64 {
        let _ = (event, self.capacity, self.detail_capacity);
        todo!("store")
    }

    /// The row with this id, while it is kept.
    pub fn get(&self, id: u64) -> Option<&ExchangeRow> {
        let _ = id;
        todo!("store")
    }

    /// Full details of this id, while they are kept.
    pub fn detail(&self, id: u64) -> Option<&Exchange> {
        let _ = id;
        todo!("store")
    }

    /// The text of a symbol.
    pub fn text(&self, sym: Sym) -> &str {
        let _ = sym;
        todo!("store")
    }

    /// Rows kept, oldest first.
    pub fn rows(&self) -> impl DoubleEndedIterator<Item = &ExchangeRow> + ExactSizeIterator {
        std::iter::empty::<&ExchangeRow>()
            .collect::<Vec<_>>()
            .into_iter()
    }

    /// Rows kept.
    pub fn len(&self) -> usize {
        0
    }

    /// Whether no row is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Rows evicted to stay under the capacity.
    pub fn evicted(&self) -> u64 {
        0
    }

    /// Removes everything (the `c` key); ids keep increasing.
    pub fn clear(&mut self) {}

    /// Bytes held (rows, strings, details), for the status bar.
    pub fn memory(&self) -> usize {
        0
    }
}
