//! Flows: the live ones (from the pipeline's reports) and a ring of ended ones.
//!
//! The pipeline reports the flows that changed since its last report, and
//! now and then all of them (a full report, which also drops live flows it
//! does not list). Rates come from consecutive reports: the bytes a flow
//! gained since the previous report, over the time between them; a flow not
//! in a report gained nothing. A flow seen for the first time gets its bytes
//! over its age (first packet to now), so a short burst between two reports
//! is not shown as idle.
//!
//! The flows pane's order (the sort, narrowed by the filter) is kept here as
//! sorted `(key, id)` pairs and updated with what changed (see `order`):
//! a report costs in proportion to the flows it lists, not to all of them.

use std::collections::VecDeque;

use std::collections::hash_map::Entry;

use rustc_hash::FxHashMap;

use super::heap_bytes;
use super::order::Pairs;

mod view;
use crate::decode::flow::{EndReason, FlowId, FlowInfo};
use crate::wire::Nanos;
use view::sort_key;

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

/// What the store knows of a live flow beyond its [`FlowInfo`].
#[derive(Debug, Clone, Copy)]
struct Live {
    /// Index into `live`.
    index: usize,
    /// Bytes per second.
    rate: f64,
    /// Its pair in the order, when the view keeps it.
    listed: Option<u64>,
    /// The last report that listed it.
    report: u64,
}

/// Which flows the pane lists (the filter's flow terms).
pub type Keep = Box<dyn Fn(&FlowInfo) -> bool + Send>;

/// Live and recently ended flows, and their order in the flows pane.
pub struct FlowStore {
    capacity: usize,
    live: Vec<FlowInfo>,
    by_id: FxHashMap<FlowId, Live>,
    last_report: Nanos,
    /// Reports applied.
    reports: u64,
    /// Flows whose rate is not zero (a report that leaves them out sets it to zero).
    moving: Vec<FlowId>,
    /// Ended flows, oldest first; entry `i` has sequence number `first_ended + i`.
    ended: VecDeque<(FlowInfo, EndReason)>,
    first_ended: u64,
    ended_by_id: FxHashMap<FlowId, u64>,
    evicted: u64,
    /// Newest `last_seen` of any flow reported.
    newest: Nanos,
    sort: FlowSort,
    keep: Option<Keep>,
    /// Listed live flows, then listed ended flows (ended ones have no rate).
    live_order: Pairs,
    ended_order: Pairs,
}

impl std::fmt::Debug for FlowStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowStore")
            .field("live", &self.live.len())
            .field("ended", &self.ended.len())
            .field("sort", &self.sort)
            .field("filtered", &self.keep.is_some())
            .finish_non_exhaustive()
    }
}

impl FlowStore {
    /// A store keeping at most `capacity` ended flows.
    pub fn new(capacity: usize) -> Self {
        FlowStore {
            capacity,
            live: Vec::new(),
            by_id: FxHashMap::default(),
            last_report: Nanos(0),
            reports: 0,
            moving: Vec::new(),
            ended: VecDeque::new(),
            first_ended: 0,
            ended_by_id: FxHashMap::default(),
            evicted: 0,
            newest: Nanos(0),
            sort: FlowSort::default(),
            keep: None,
            live_order: Pairs::default(),
            ended_order: Pairs::default(),
        }
    }

    /// Whether the view lists `f` (with no filter, every flow).
    fn kept(&self, f: &FlowInfo) -> bool {
        self.keep.as_ref().is_none_or(|k| k(f))
    }

    /// Replaces the live flows with all of them, as seen at `now`.
    pub fn snapshot(&mut self, flows: Vec<FlowInfo>, now: Nanos) {
        self.update(flows, true, now);
    }

    /// Applies a report taken at `now`: the flows that changed since the
    /// last one, or all live flows when `full` (live flows it leaves out
    /// are gone).
    ///
    /// Flows already reported ended are left out (a report that raced their end).
    pub fn update(&mut self, flows: Vec<FlowInfo>, full: bool, now: Nanos) {
        self.reports += 1;
        // A report with no flows has no time of its own.
        let now = now.max(self.last_report);
        let later = now > self.last_report;
        let seconds = now.since(self.last_report).as_secs_f64();
        if later {
            // Whatever moved last time and is not listed now gained nothing.
            for id in std::mem::take(&mut self.moving) {
                self.set(id, None, |_, _| 0.0);
            }
        }
        for f in flows {
            if self.ended_by_id.contains_key(&f.id) {
                continue;
            }
            self.newest = self.newest.max(f.last_seen);
            let id = f.id;
            let rate = self.set(id, Some(f), |prev, f| match prev {
                Some((old, _)) if later => f.bytes().saturating_sub(old.bytes()) as f64 / seconds,
                // Same instant as the previous report: nothing new to measure.
                Some((_, rate)) => rate,
                None if now > f.first_seen => {
                    f.bytes() as f64 / now.since(f.first_seen).as_secs_f64()
                }
                None => 0.0,
            });
            if rate != 0.0 {
                self.moving.push(id);
            }
        }
        if full {
            let gone: Vec<FlowId> = self
                .by_id
                .iter()
                .filter(|(_, l)| l.report != self.reports)
                .map(|(id, _)| *id)
                .collect();
            for id in gone {
                self.remove_live(id);
            }
        }
        self.last_report = now;
    }

    /// Sets a live flow's info (a new one when unknown, nothing when unknown
    /// and `info` is `None`) and its rate, `rate(previous info and rate,
    /// new info)`, and moves its pair in the order when its key changed.
    /// One hash lookup. Returns the rate.
    fn set(
        &mut self,
        id: FlowId,
        info: Option<FlowInfo>,
        rate: impl FnOnce(Option<(&FlowInfo, f64)>, &FlowInfo) -> f64,
    ) -> f64 {
        let FlowStore {
            live,
            by_id,
            live_order,
            keep,
            sort,
            reports,
            ..
        } = self;
        let listed = |f: &FlowInfo, rate: f64| {
            keep.as_ref()
                .is_none_or(|k| k(f))
                .then(|| sort_key(*sort, f, rate))
        };
        match by_id.entry(id) {
            Entry::Occupied(mut e) => {
                let l = e.get_mut();
                let r = rate(
                    Some((&live[l.index], l.rate)),
                    info.as_ref().unwrap_or(&live[l.index]),
                );
                if let Some(f) = info {
                    live[l.index] = f;
                    l.report = *reports;
                }
                l.rate = r;
                let now_listed = listed(&live[l.index], r);
                if now_listed != l.listed {
                    if let Some(key) = l.listed {
                        live_order.remove((key, id.0));
                    }
                    if let Some(key) = now_listed {
                        live_order.insert((key, id.0));
                    }
                    l.listed = now_listed;
                }
                r
            }
            Entry::Vacant(e) => {
                let Some(f) = info else {
                    return 0.0;
                };
                let r = rate(None, &f);
                let now_listed = listed(&f, r);
                if let Some(key) = now_listed {
                    live_order.insert((key, id.0));
                }
                live.push(f);
                e.insert(Live {
                    index: live.len() - 1,
                    rate: r,
                    listed: now_listed,
                    report: *reports,
                });
                r
            }
        }
    }

    /// Takes a flow out of the live ones (and the order).
    fn remove_live(&mut self, id: FlowId) {
        let Some(gone) = self.by_id.remove(&id) else {
            return;
        };
        if let Some(key) = gone.listed {
            self.live_order.remove((key, id.0));
        }
        self.live.swap_remove(gone.index);
        if let Some(moved) = self.live.get(gone.index)
            && let Some(l) = self.by_id.get_mut(&moved.id)
        {
            l.index = gone.index;
        }
    }

    /// A flow left the pipeline.
    pub fn ended(&mut self, flow: FlowInfo, reason: EndReason) {
        self.remove_live(flow.id);
        self.newest = self.newest.max(flow.last_seen);
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
            if self.kept(&old) {
                self.ended_order
                    .remove((sort_key(self.sort, &old, 0.0), old.id.0));
            }
            self.evicted += 1;
        }
        if self.kept(&flow) {
            self.ended_order
                .insert((sort_key(self.sort, &flow, 0.0), flow.id.0));
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

    /// Bytes per second of a flow over the last two reports.
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

    /// Forgets everything (the eviction count, sort and filter stay).
    pub fn clear(&mut self) {
        self.live = Vec::new();
        self.by_id = FxHashMap::default();
        self.moving = Vec::new();
        self.first_ended += self.ended.len() as u64;
        self.ended = VecDeque::new();
        self.ended_by_id = FxHashMap::default();
        self.live_order = Pairs::default();
        self.ended_order = Pairs::default();
    }

    /// Bytes held.
    pub fn memory(&self) -> usize {
        let map = |cap: usize, entry: usize| cap * 8 / 7 * (1 + entry);
        size_of::<Self>()
            + heap_bytes(self.live.capacity() * size_of::<FlowInfo>())
            + map(self.by_id.capacity(), size_of::<(FlowId, Live)>())
            + heap_bytes(self.ended.capacity() * size_of::<(FlowInfo, EndReason)>())
            + map(self.ended_by_id.capacity(), size_of::<(FlowId, u64)>())
            + self.live_order.memory()
            + self.ended_order.memory()
            + self.moving.capacity() * size_of::<FlowId>()
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
