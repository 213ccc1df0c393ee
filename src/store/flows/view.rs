//! The flows pane's view of the store: the sort and filter, and the order
//! they give, kept as sorted `(key, id)` pairs (see `store/order.rs`).

use std::borrow::Cow;

use super::{FlowSort, FlowStore, Keep, retransmissions, total_order_bits};
use crate::decode::flow::{FlowId, FlowInfo};
use crate::store::order::Pairs;
use crate::wire::Nanos;

/// A flow's place under a sort: smaller first, ties by id.
pub(super) fn sort_key(sort: FlowSort, f: &FlowInfo, rate: f64) -> u64 {
    match sort {
        FlowSort::Bytes => !f.bytes(),
        FlowSort::Rate => !total_order_bits(rate),
        FlowSort::Retransmissions => !retransmissions(f),
        FlowSort::Age => f.first_seen.0,
    }
}

impl FlowStore {
    /// Sorts by `sort` and lists only the flows `keep` accepts (all when
    /// `None`): the order is rebuilt once, then kept up to date.
    pub fn set_view(&mut self, sort: FlowSort, keep: Option<Keep>) {
        self.sort = sort;
        self.keep = keep;
        let mut live = Vec::with_capacity(self.live.len());
        for (id, l) in &mut self.by_id {
            let f = &self.live[l.index];
            l.listed = self
                .keep
                .as_ref()
                .is_none_or(|k| k(f))
                .then(|| sort_key(sort, f, l.rate));
            live.extend(l.listed.map(|key| (key, id.0)));
        }
        self.live_order.rebuild(live);
        let ended = self
            .ended
            .iter()
            .map(|(f, _)| f)
            .filter(|f| self.kept(f))
            .map(|f| (sort_key(sort, f, 0.0), f.id.0))
            .collect();
        self.ended_order.rebuild(ended);
    }

    /// Applies the order's waiting changes (the runner's tick, before a frame).
    pub fn settle(&mut self) {
        self.live_order.settle();
        self.ended_order.settle();
    }

    /// Flows the pane lists.
    pub fn listed(&self) -> usize {
        self.live_order.len() + self.ended_order.len()
    }

    /// `len` of the listed flows from `start`, in order: live ones first,
    /// then ended ones. Only these are looked up, so after
    /// [`FlowStore::settle`] it costs the same with 100 flows or 100,000.
    pub fn window(&self, start: usize, len: usize) -> Vec<&FlowInfo> {
        let (live, ended) = (settled(&self.live_order), settled(&self.ended_order));
        live.iter()
            .chain(ended.iter())
            .skip(start)
            .take(len)
            .filter_map(|&(_, id)| self.get(FlowId(id)))
            .collect()
    }

    /// Newest packet time of any flow reported: the reference for ages.
    pub fn newest(&self) -> Nanos {
        self.newest
    }

    /// Flows sorted by `sort`, live ones first, then ended ones, computed
    /// from scratch (what the kept order must equal; for tests).
    ///
    /// Ties keep id order; ended flows have a rate of zero.
    pub fn sorted(&self, sort: FlowSort) -> Vec<&FlowInfo> {
        let mut live: Vec<&FlowInfo> = self.live.iter().collect();
        let mut ended: Vec<&FlowInfo> = self.ended.iter().map(|(f, _)| f).collect();
        for list in [&mut live, &mut ended] {
            list.sort_by_key(|f| f.id);
            match sort {
                FlowSort::Bytes => list.sort_by_key(|f| std::cmp::Reverse(f.bytes())),
                FlowSort::Rate => list.sort_by(|a, b| self.rate(b.id).total_cmp(&self.rate(a.id))),
                FlowSort::Retransmissions => {
                    list.sort_by_key(|f| std::cmp::Reverse(retransmissions(f)));
                }
                FlowSort::Age => list.sort_by_key(|f| f.first_seen),
            }
        }
        live.extend(ended);
        live
    }
}

/// The pairs as they are once settled (a copy only while changes wait).
fn settled(p: &Pairs) -> Cow<'_, [(u64, u64)]> {
    if p.is_settled() {
        Cow::Borrowed(p.sorted())
    } else {
        Cow::Owned(p.settled_copy())
    }
}
