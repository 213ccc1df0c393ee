//! A filter bound to one store for a pass over many rows: each method, host
//! and free-text term is decided once per interned string, not once per row,
//! and each path or free-text needle is searched for in one scan of the
//! store's packed paths.

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
    /// Each term, with whether every symbol's text passes it (for terms
    /// about symbols) and whether each row's path contains its needle (for
    /// path and free-text terms; rows oldest first).
    terms: Vec<Prepared<'a>>,
    /// Id of the oldest row, the first of the path tables.
    first_id: u64,
}

#[derive(Debug)]
struct Prepared<'a> {
    term: &'a Term,
    syms: Option<Vec<bool>>,
    paths: Option<Vec<bool>>,
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
                let paths = t
                    .path_needle()
                    .and_then(|(needle, ignore_case)| store.paths_containing(needle, ignore_case));
                Prepared {
                    term: t,
                    syms: table,
                    paths,
                }
            })
            .collect();
        let first_id = store.rows().next().map_or(0, |r| r.id);
        ExchangeMatcher {
            store,
            terms,
            first_id,
        }
    }

    /// Whether a row of the store matches (the same answer as [`Filter::matches_exchange`]).
    pub fn matches(&self, row: &ExchangeRow) -> bool {
        let index = row.id.checked_sub(self.first_id);
        self.terms.iter().all(|p| {
            let path_hit = p
                .paths
                .as_ref()
                .zip(index)
                .and_then(|(hits, i)| hits.get(usize::try_from(i).ok()?).copied());
            p.term
                .matches_with(row, self.store, p.syms.as_deref(), path_hit)
        })
    }
}
