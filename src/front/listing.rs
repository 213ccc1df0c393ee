//! A list kept current by a watch: items by name, relisted after a restart.

use std::collections::{BTreeMap, HashSet};

use crate::cluster::Update;

/// Items by name, in name order, as a watch reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing<T> {
    items: BTreeMap<String, T>,
    /// Names seen since the watch restarted (`None` when not relisting).
    relisting: Option<HashSet<String>>,
    /// Whether a complete listing has arrived.
    pub loaded: bool,
    /// The watch's last error (it retries on its own).
    pub error: Option<String>,
}

impl<T> Default for Listing<T> {
    fn default() -> Self {
        Listing {
            items: BTreeMap::new(),
            relisting: None,
            loaded: false,
            error: None,
        }
    }
}

impl<T> Listing<T> {
    /// Applies a watch update; `name` gives an item's name.
    pub fn apply(&mut self, update: Update<T>, name: impl Fn(&T) -> &str) {
        match update {
            Update::Restarted => self.relisting = Some(HashSet::new()),
            Update::Applied(item) => {
                let key = name(&item).to_owned();
                if let Some(seen) = &mut self.relisting {
                    seen.insert(key.clone());
                }
                self.items.insert(key, *item);
            }
            Update::Deleted { name } => {
                self.items.remove(&name);
            }
            Update::Listed => {
                if let Some(seen) = self.relisting.take() {
                    self.items.retain(|k, _| seen.contains(k));
                }
                self.loaded = true;
            }
        }
    }

    /// The names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.items.keys().map(String::as_str)
    }

    /// The item called `name`.
    pub fn get(&self, name: &str) -> Option<&T> {
        self.items.get(name)
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(l: &mut Listing<String>, u: Update<String>) {
        l.apply(u, String::as_str);
    }

    fn item(s: &str) -> Update<String> {
        Update::Applied(Box::new(s.to_owned()))
    }

    #[test]
    fn a_relist_drops_what_it_did_not_mention() {
        let mut l = Listing::default();
        for u in [Update::Restarted, item("b"), item("a"), Update::Listed] {
            apply(&mut l, u);
        }
        assert!(l.loaded);
        assert_eq!(l.names().collect::<Vec<_>>(), ["a", "b"]);
        apply(&mut l, Update::Deleted { name: "a".into() });
        apply(&mut l, item("c"));
        assert_eq!(l.names().collect::<Vec<_>>(), ["b", "c"]);
        // After a restart the items stay until the listing ends, then only "c" is left.
        apply(&mut l, Update::Restarted);
        apply(&mut l, item("c"));
        assert_eq!(l.len(), 2);
        apply(&mut l, Update::Listed);
        assert_eq!(l.names().collect::<Vec<_>>(), ["c"]);
    }
}
