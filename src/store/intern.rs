//! The exchange store's string table: methods and hosts, reference counted.
//!
//! Each live row holds one reference per symbol it uses; when the last row
//! using a symbol is evicted, the symbol is freed and its number reused. So
//! the table holds only what the kept rows need, and never more than its
//! limit: when every slot is in use by kept rows, a new string maps to the
//! shared [`OTHER_TEXT`] symbol (counted in [`Interner::overflowed`]).

use rustc_hash::FxHashMap;

use super::exchanges::Sym;
use super::heap_bytes;

/// Default limit of distinct live symbols.
pub const SYMBOL_LIMIT: usize = 16_384;

/// Text of the shared symbol used when the table is full.
pub const OTHER_TEXT: &str = "(other)";

/// The empty string (an absent Host header).
pub(crate) const EMPTY: Sym = Sym(0);
/// Strings that did not fit.
pub(crate) const OTHER: Sym = Sym(1);
const RESERVED: u32 = 2;

#[derive(Debug, Default)]
struct Entry {
    text: Box<str>,
    /// The text in ASCII lower case, when it differs.
    lower: Option<Box<str>>,
    /// Rows using it.
    refs: u32,
}

/// Interned strings with reference counts.
#[derive(Debug)]
pub(crate) struct Interner {
    map: FxHashMap<Box<str>, u32>,
    entries: Vec<Entry>,
    free: Vec<u32>,
    limit: usize,
    /// Strings mapped to [`OTHER`] because the table was full.
    pub overflowed: u64,
}

impl Interner {
    /// A table holding at most `limit` live symbols (besides the two reserved ones).
    pub fn new(limit: usize) -> Self {
        let reserved = |t: &str| Entry {
            text: t.into(),
            lower: None,
            refs: 0,
        };
        Interner {
            map: FxHashMap::default(),
            entries: vec![reserved(""), reserved(OTHER_TEXT)],
            free: Vec::new(),
            limit,
            overflowed: 0,
        }
    }

    /// The symbol of `text`, taking one reference.
    pub fn acquire(&mut self, text: &str) -> Sym {
        if text.is_empty() {
            return EMPTY;
        }
        if let Some(&i) = self.map.get(text) {
            self.entries[i as usize].refs += 1;
            return Sym(i);
        }
        if self.live() >= self.limit {
            self.overflowed += 1;
            return OTHER;
        }
        let lower = text
            .bytes()
            .any(|b| b.is_ascii_uppercase())
            .then(|| text.to_ascii_lowercase().into_boxed_str());
        let entry = Entry {
            text: text.into(),
            lower,
            refs: 1,
        };
        let i = if let Some(i) = self.free.pop() {
            self.entries[i as usize] = entry;
            i
        } else {
            self.entries.push(entry);
            (self.entries.len() - 1) as u32
        };
        self.map.insert(text.into(), i);
        Sym(i)
    }

    /// Drops one reference; the last one frees the symbol.
    pub fn release(&mut self, sym: Sym) {
        if sym.0 < RESERVED {
            return;
        }
        let Some(e) = self.entries.get_mut(sym.0 as usize) else {
            return;
        };
        e.refs = e.refs.saturating_sub(1);
        if e.refs == 0 {
            let e = std::mem::take(e);
            self.map.remove(&e.text);
            self.free.push(sym.0);
        }
    }

    /// Text of a symbol (empty for an unknown one).
    pub fn text(&self, sym: Sym) -> &str {
        self.entries.get(sym.0 as usize).map_or("", |e| &e.text)
    }

    /// Text of a symbol in ASCII lower case.
    pub fn lower(&self, sym: Sym) -> &str {
        self.entries
            .get(sym.0 as usize)
            .map_or("", |e| e.lower.as_deref().unwrap_or(&e.text))
    }

    /// The limit it was made with.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Symbol numbers handed out so far (live or free).
    pub fn slots(&self) -> usize {
        self.entries.len()
    }

    /// Symbols in use (besides the reserved ones).
    pub fn live(&self) -> usize {
        self.entries.len() - RESERVED as usize - self.free.len()
    }

    /// Bytes held: the entry table, the map and every string (twice: map key and entry).
    pub fn memory(&self) -> usize {
        let strings: usize = self
            .entries
            .iter()
            .map(|e| {
                2 * heap_bytes(e.text.len()) + e.lower.as_ref().map_or(0, |l| heap_bytes(l.len()))
            })
            .sum();
        // hashbrown: buckets are about 8/7 of the capacity, each one control
        // byte plus one (key, value) slot.
        let map = self.map.capacity() * 8 / 7 * (1 + size_of::<(Box<str>, u32)>());
        self.entries.capacity() * size_of::<Entry>() + self.free.capacity() * 4 + map + strings
    }
}
