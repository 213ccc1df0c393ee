//! A sorted list of `(key, id)` pairs kept up to date by batches: changes
//! wait in two small lists and are merged in with one sequential pass, so a
//! report that moved a few thousand of 100,000 flows costs a merge, not a
//! sort of all of them.

/// Sorted pairs with pending insertions and removals (a multiset: the same
/// pair may be in it twice, and a removal takes one out).
#[derive(Debug, Default)]
pub(super) struct Pairs {
    sorted: Vec<(u64, u64)>,
    add: Vec<(u64, u64)>,
    remove: Vec<(u64, u64)>,
    /// The previous `sorted`, kept for its allocation.
    spare: Vec<(u64, u64)>,
}

impl Pairs {
    /// Replaces everything with `pairs` (in any order).
    pub(super) fn rebuild(&mut self, mut pairs: Vec<(u64, u64)>) {
        pairs.sort_unstable();
        self.sorted = pairs;
        self.add.clear();
        self.remove.clear();
    }

    /// Adds a pair at the next [`Pairs::settle`].
    pub(super) fn insert(&mut self, pair: (u64, u64)) {
        self.add.push(pair);
    }

    /// Takes a pair out at the next [`Pairs::settle`]: it must be in the
    /// list then (inserted before, or pending).
    pub(super) fn remove(&mut self, pair: (u64, u64)) {
        self.remove.push(pair);
    }

    /// Whether changes are waiting.
    pub(super) fn is_settled(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }

    /// Pairs in the list once settled.
    pub(super) fn len(&self) -> usize {
        (self.sorted.len() + self.add.len()).saturating_sub(self.remove.len())
    }

    /// The settled pairs.
    pub(super) fn sorted(&self) -> &[(u64, u64)] {
        &self.sorted
    }

    /// The pairs with the waiting changes applied, without applying them.
    pub(super) fn settled_copy(&self) -> Vec<(u64, u64)> {
        let mut add = self.add.clone();
        let mut remove = self.remove.clone();
        add.sort_unstable();
        remove.sort_unstable();
        let mut out = Vec::with_capacity(self.len());
        merge(&self.sorted, &add, &remove, &mut out);
        out
    }

    /// Applies the waiting changes: sorts them, then one merge pass.
    pub(super) fn settle(&mut self) {
        if self.is_settled() {
            return;
        }
        self.add.sort_unstable();
        self.remove.sort_unstable();
        let mut out = std::mem::take(&mut self.spare);
        out.clear();
        out.reserve(self.len());
        merge(&self.sorted, &self.add, &self.remove, &mut out);
        self.spare = std::mem::replace(&mut self.sorted, out);
        self.add.clear();
        self.remove.clear();
    }

    /// Heap bytes held.
    pub(super) fn memory(&self) -> usize {
        (self.sorted.capacity()
            + self.add.capacity()
            + self.remove.capacity()
            + self.spare.capacity())
            * size_of::<(u64, u64)>()
    }
}

/// `old` and `add` merged, less one occurrence of each pair in `remove`
/// (all three sorted).
fn merge(old: &[(u64, u64)], add: &[(u64, u64)], remove: &[(u64, u64)], out: &mut Vec<(u64, u64)>) {
    let (mut at_old, mut at_add, mut at_remove) = (0, 0, 0);
    loop {
        let next = match (old.get(at_old), add.get(at_add)) {
            (Some(x), Some(y)) if x <= y => {
                at_old += 1;
                *x
            }
            (_, Some(y)) => {
                at_add += 1;
                *y
            }
            (Some(x), None) => {
                at_old += 1;
                *x
            }
            (None, None) => return,
        };
        // A removal of a pair that is not there is skipped, not applied later.
        while remove.get(at_remove).is_some_and(|x| *x < next) {
            at_remove += 1;
        }
        if remove.get(at_remove) == Some(&next) {
            at_remove += 1;
        } else {
            out.push(next);
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::Pairs;

    proptest! {
        /// Whatever the mix of changes between settles, the list is what a
        /// multiset with the same changes holds, in order.
        #[test]
        fn settled_pairs_equal_a_sorted_multiset(
            batches in proptest::collection::vec(
                proptest::collection::vec((any::<bool>(), 0u64..6, 0u64..6), 0..30),
                1..6,
            ),
        ) {
            let mut pairs = Pairs::default();
            let mut model: Vec<(u64, u64)> = Vec::new();
            for batch in batches {
                for (insert, key, id) in batch {
                    if insert {
                        pairs.insert((key, id));
                        model.push((key, id));
                    } else if let Some(at) = model.iter().position(|p| *p == (key, id)) {
                        // Only pairs that are there are removed (the store's rule).
                        pairs.remove((key, id));
                        model.swap_remove(at);
                    }
                }
                model.sort_unstable();
                prop_assert_eq!(pairs.len(), model.len());
                prop_assert_eq!(&pairs.settled_copy(), &model);
                pairs.settle();
                prop_assert!(pairs.is_settled());
                prop_assert_eq!(pairs.sorted(), &model[..]);
            }
        }
    }
}
