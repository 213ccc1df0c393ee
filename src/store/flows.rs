//! Flows: the live ones (from the pipeline's snapshots) and a ring of ended ones.
//!
//! Rates come from consecutive snapshots: the bytes a flow gained between the
//! previous snapshot that listed it and this one, over the time between them.
//! A flow seen for the first time gets its bytes over its age (first packet to
//! now), so a short burst between two snapshots is not shown as idle.

use std::collections::VecDeque;

use rustc_hash::{FxBuildHasher, FxHashMap};

use super::heap_bytes;
use crate::decode::flow::{EndReason, FlowId, FlowInfo};
use crate::wire::Nanos;

/// How the flows pane sorts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FlowSort {
    /// Most bytes first.
    #[default]
    Bytes,
    /// Highest recent byte rate first.
    Rate,
    /// Most retransmissions first.
    Retransmissions,
    /// Oldest first.
    Age,
}

/// What the last snapshot said about a live flow.
#[derive(Debug, Clone, Copy)]
struct Live {
    /// Index into `live`.
    index: usize,
    /// Bytes per second.
    rate: f64,
}

/// Live and recently ended flows.
#[derive(Debug)]
pub struct FlowStore {
    capacity: usize,
    live: Vec<FlowInfo>,
    by_id: FxHashMap<FlowId, Live>,
    last_snapshot: Nanos,
    /// Ended flows, oldest first; entry `i` has sequence number `first_ended + i`.
    ended: VecDeque<(FlowInfo, EndReason)>,
    first_ended: u64,
    ended_by_id: FxHashMap<FlowId, u64>,
    evicted: u64,
}

impl FlowStore {
    /// A store keeping at most `capacity` ended flows.
    pub fn new(capacity: usize) -> Self {
        FlowStore {
            capacity,
            live: Vec::new(),
            by_id: FxHashMap::default(),
            last_snapshot: Nanos(0),
            ended: VecDeque::new(),
            first_ended: 0,
            ended_by_id: FxHashMap::default(),
            evicted: 0,
        }
    }

    /// Replaces the live flows with a fresh snapshot taken at `now` (rates come from the previous one).
    ///
    /// Flows already reported ended are left out (a snapshot that raced their end).
    pub fn snapshot(&mut self, mut flows: Vec<FlowInfo>, now: Nanos) {
        flows.retain(|f| !self.ended_by_id.contains_key(&f.id));
        let mut by_id = FxHashMap::with_capacity_and_hasher(flows.len(), FxBuildHasher);
        for (index, f) in flows.iter().enumerate() {
            let rate = match self.by_id.get(&f.id) {
                Some(prev) if now > self.last_snapshot => {
                    let gained = f.bytes().saturating_sub(self.live[prev.index].bytes());
                    gained as f64 / now.since(self.last_snapshot).as_secs_f64()
                }
                // Same instant as the previous snapshot: nothing new to measure.
                Some(prev) => prev.rate,
                None if now > f.first_seen => {
                    f.bytes() as f64 / now.since(f.first_seen).as_secs_f64()
                }
                None => 0.0,
            };
            by_id.insert(f.id, Live { index, rate });
        }
        self.live = flows;
        self.by_id = by_id;
        self.last_snapshot = now;
    }

    /// A flow left the pipeline.
    pub fn ended(&mut self, flow: FlowInfo, reason: EndReason) {
        if let Some(gone) = self.by_id.remove(&flow.id) {
            self.live.swap_remove(gone.index);
            if let Some(moved) = self.live.get(gone.index)
                && let Some(l) = self.by_id.get_mut(&moved.id)
            {
                l.index = gone.index;
            }
        }
        if self.capacity == 0 {
            self.evicted += 1;
            return;
        }
        if self.ended.len() == self.capacity
            && let Some((old, _)) = self.ended.pop_front()
        {
            let seq = self.first_ended;
            self.first_ended += 1;
            // Only when it still points here (an id ended twice points to the newer entry).
            if self.ended_by_id.get(&old.id) == Some(&seq) {
                self.ended_by_id.remove(&old.id);
            }
            self.evicted += 1;
        }
        let seq = self.first_ended + self.ended.len() as u64;
        self.ended_by_id.insert(flow.id, seq);
        self.ended.push_back((flow, reason));
    }

    fn ended_entry(&self, id: FlowId) -> Option<&(FlowInfo, EndReason)> {
        let seq = *self.ended_by_id.get(&id)?;
        self.ended
            .get(usize::try_from(seq - self.first_ended).ok()?)
    }

    /// A flow by id, live or ended.
    pub fn get(&self, id: FlowId) -> Option<&FlowInfo> {
        match self.by_id.get(&id) {
            Some(l) => self.live.get(l.index),
            None => self.ended_entry(id).map(|(f, _)| f),
        }
    }

    /// Flows to list, sorted; live ones first, then ended ones.
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

    /// Ids of the flows to list, in [`FlowStore::sorted`]'s order, keeping
    /// only those `keep` accepts.
    ///
    /// Each flow's sort key is read once into a `(key, id)` pair and the
    /// pairs are sorted as plain integers: with 100,000 flows this is a few
    /// milliseconds, where comparing through the flows (and the rate map)
    /// took tens. Keys are unique with the id, so an unstable sort gives
    /// the same order as the stable one.
    pub fn order(&self, sort: FlowSort, mut keep: impl FnMut(&FlowInfo) -> bool) -> Vec<FlowId> {
        let key = |f: &FlowInfo| match sort {
            FlowSort::Bytes => !f.bytes(),
            FlowSort::Rate => !total_order_bits(self.rate(f.id)),
            FlowSort::Retransmissions => !retransmissions(f),
            FlowSort::Age => f.first_seen.0,
        };
        let mut ids = Vec::with_capacity(self.live.len() + self.ended.len());
        let mut keyed: Vec<(u64, u64)> = Vec::new();
        let mut append = |keyed: &mut Vec<(u64, u64)>| {
            keyed.sort_unstable();
            ids.extend(keyed.drain(..).map(|(_, id)| FlowId(id)));
        };
        keyed.extend(
            self.live
                .iter()
                .filter(|f| keep(f))
                .map(|f| (key(f), f.id.0)),
        );
        append(&mut keyed);
        keyed.extend(
            self.ended
                .iter()
                .map(|(f, _)| f)
                .filter(|f| keep(f))
                .map(|f| (key(f), f.id.0)),
        );
        append(&mut keyed);
        ids
    }

    /// Bytes per second of a flow over the last two snapshots.
    pub fn rate(&self, id: FlowId) -> f64 {
        self.by_id.get(&id).map_or(0.0, |l| l.rate)
    }

    /// Why an ended flow ended (`None` while live).
    pub fn end_reason(&self, id: FlowId) -> Option<EndReason> {
        if self.by_id.contains_key(&id) {
            return None;
        }
        self.ended_entry(id).map(|&(_, r)| r)
    }

    /// Live flows.
    pub fn live_len(&self) -> usize {
        self.live.len()
    }

    /// Ended flows kept.
    pub fn ended_len(&self) -> usize {
        self.ended.len()
    }

    /// Ended flows evicted to stay under the capacity.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Forgets everything (the eviction count stays).
    pub fn clear(&mut self) {
        self.live = Vec::new();
        self.by_id = FxHashMap::default();
        self.first_ended += self.ended.len() as u64;
        self.ended = VecDeque::new();
        self.ended_by_id = FxHashMap::default();
    }

    /// Bytes held.
    pub fn memory(&self) -> usize {
        let map = |cap: usize, entry: usize| cap * 8 / 7 * (1 + entry);
        size_of::<Self>()
            + heap_bytes(self.live.capacity() * size_of::<FlowInfo>())
            + map(self.by_id.capacity(), size_of::<(FlowId, Live)>())
            + heap_bytes(self.ended.capacity() * size_of::<(FlowInfo, EndReason)>())
            + map(self.ended_by_id.capacity(), size_of::<(FlowId, u64)>())
    }
}

/// `x`'s bits as an integer that orders like [`f64::total_cmp`].
fn total_order_bits(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

/// Retransmitted segments both ways.
pub(crate) fn retransmissions(f: &FlowInfo) -> u64 {
    f.sides[0].retransmissions + f.sides[1].retransmissions
}
