//! A list kept current by a watch: items by name, relisted after a restart.
//! Each item remembers when it was last reported, so ages keep counting
//! between updates.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use crate::cluster::Update;

/// Items by name, in name order, as a watch reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing<T> {
    items: BTreeMap<String, (T, Instant)>,
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
    /// Applies a watch update that arrived at `now`; `name` gives an item's name.
    pub fn apply(&mut self, update: Update<T>, now: Instant, name: impl Fn(&T) -> &str) {
        match update {
            Update::Restarted => self.relisting = Some(HashSet::new()),
            Update::Applied(item) => {
                let key = name(&item).to_owned();
                if let Some(seen) = &mut self.relisting {
                    seen.insert(key.clone());
                }
                self.items.insert(key, (*item, now));
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
        self.items.get(name).map(|(item, _)| item)
    }

    /// How long ago, at `now`, the item called `name` was last reported.
    pub fn since_update(&self, name: &str, now: Instant) -> Duration {
        self.items
            .get(name)
            .map_or(Duration::ZERO, |(_, at)| now.saturating_duration_since(*at))
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
        l.apply(u, Instant::now(), String::as_str);
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

    #[test]
    fn items_remember_when_they_were_reported() {
        let t0 = Instant::now();
        let mut l = Listing::default();
        l.apply(item("a"), t0, String::as_str);
        let later = t0 + Duration::from_secs(90);
        assert_eq!(l.since_update("a", later), Duration::from_secs(90));
        l.apply(item("a"), later, String::as_str);
        assert_eq!(l.since_update("a", later), Duration::ZERO);
        assert_eq!(l.since_update("gone", later), Duration::ZERO);
    }
}
