//! A filter bound to one store for a pass over many rows: each method, host
//! and free-text term is decided once per interned string, not once per row.

use super::Filter;
use super::term::Term;
use crate::store::{ExchangeRow, ExchangeStore, Sym};

/// A [`Filter`] prepared for matching many rows of one [`ExchangeStore`].
///
/// Build it after the store changed (pushes may intern new strings; rows
/// with strings it has not seen are still matched correctly, just slower).
#[derive(Debug)]
pub struct ExchangeMatcher<'a> {
    store: &'a ExchangeStore,
    /// Each term, with whether every symbol's text passes it (for terms about symbols).
    terms: Vec<(&'a Term, Option<Vec<bool>>)>,
}

impl<'a> ExchangeMatcher<'a> {
    pub(super) fn new(filter: &'a Filter, store: &'a ExchangeStore) -> Self {
        let slots = store.symbol_slots();
        let terms = filter
            .terms
            .iter()
            .map(|t| {
                let table = t.sym_hit("").map(|_| {
                    (0..slots)
                        .map(|i| t.sym_hit(store.text_lower(Sym(i as u32))).unwrap_or(true))
                        .collect()
                });
                (t, table)
            })
            .collect();
        ExchangeMatcher { store, terms }
    }

    /// Whether a row of the store matches (the same answer as [`Filter::matches_exchange`]).
    pub fn matches(&self, row: &ExchangeRow) -> bool {
        self.terms
            .iter()
            .all(|(t, table)| t.matches_with(row, self.store, table.as_deref()))
    }
}
