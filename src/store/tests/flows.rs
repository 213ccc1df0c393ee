use crate::decode::flow::{EndReason, FlowId, FlowInfo, FlowState, Proto};
use crate::store::{FlowSort, FlowStore};
use crate::wire::Nanos;

const S: u64 = 1_000_000_000;

pub(crate) fn flow(id: u64, first_seen: u64, bytes: u64, retrans: u64) -> FlowInfo {
    let mut f = FlowInfo::new(
        FlowId(id),
        Proto::Tcp,
        "10.244.0.5:40000".parse().unwrap(),
        format!("10.96.0.{id}:80").parse().unwrap(),
        Nanos(first_seen),
    );
    f.sides[0].bytes = bytes / 2;
    f.sides[1].bytes = bytes - bytes / 2;
    f.sides[1].retransmissions = retrans;
    f
}

fn ids(v: &[&FlowInfo]) -> Vec<u64> {
    v.iter().map(|f| f.id.0).collect()
}

#[test]
fn rates_come_from_consecutive_snapshots() {
    let mut s = FlowStore::new(10);
    // First sighting: bytes over age (1000 bytes in 2 s).
    s.snapshot(vec![flow(1, 0, 1000, 0)], Nanos(2 * S));
    assert!((s.rate(FlowId(1)) - 500.0).abs() < 1e-9);
    // Half a second later, 3000 more bytes: 6000 B/s. Flow 2 is new (0 bytes, age 0.5 s).
    s.snapshot(
        vec![flow(1, 0, 4000, 0), flow(2, 2 * S, 0, 0)],
        Nanos(2 * S + S / 2),
    );
    assert!((s.rate(FlowId(1)) - 6000.0).abs() < 1e-9);
    assert!(s.rate(FlowId(2)).abs() < 1e-9);
    // A flow missing from the next snapshot is gone from live (and has no rate).
    s.snapshot(vec![flow(2, 2 * S, 100, 0)], Nanos(3 * S));
    assert!(s.get(FlowId(1)).is_none());
    assert!(s.rate(FlowId(1)).abs() < 1e-9);
    assert!((s.rate(FlowId(2)) - 200.0).abs() < 1e-9);
    // Unknown flow.
    assert!(s.rate(FlowId(99)).abs() < 1e-9);
}

#[test]
fn ended_flows_leave_live_and_keep_their_reason() {
    let mut s = FlowStore::new(10);
    s.snapshot(
        vec![flow(1, 0, 10, 0), flow(2, 0, 20, 0), flow(3, 0, 30, 0)],
        Nanos(S),
    );
    let mut f1 = flow(1, 0, 15, 0);
    f1.state = FlowState::Reset;
    s.ended(f1, EndReason::Finished);
    assert_eq!(s.live_len(), 2);
    assert_eq!(s.end_reason(FlowId(1)), Some(EndReason::Finished));
    assert_eq!(s.get(FlowId(1)).map(FlowInfo::bytes), Some(15));
    assert_eq!(s.end_reason(FlowId(2)), None);
    // The swap_remove kept the index of the moved flow right.
    assert_eq!(s.get(FlowId(3)).map(FlowInfo::bytes), Some(30));
    assert_eq!(s.get(FlowId(2)).map(FlowInfo::bytes), Some(20));
    // A late snapshot still listing flow 1 does not revive it.
    s.snapshot(vec![flow(1, 0, 15, 0), flow(2, 0, 20, 0)], Nanos(2 * S));
    assert_eq!(s.live_len(), 1);
    assert_eq!(s.end_reason(FlowId(1)), Some(EndReason::Finished));
    assert_eq!(ids(&s.sorted(FlowSort::Bytes)), [2, 1]);
}

#[test]
fn ended_ring_is_bounded() {
    let mut s = FlowStore::new(2);
    for id in 1..=5 {
        s.ended(flow(id, 0, id, 0), EndReason::Idle);
    }
    assert_eq!(s.ended_len(), 2);
    assert_eq!(s.evicted(), 3);
    assert!(s.get(FlowId(3)).is_none());
    assert_eq!(s.end_reason(FlowId(3)), None);
    assert_eq!(s.end_reason(FlowId(5)), Some(EndReason::Idle));
    assert_eq!(ids(&s.sorted(FlowSort::Age)), [4, 5]);
    let before = s.memory();
    s.clear();
    assert!(s.get(FlowId(5)).is_none());
    assert!(s.sorted(FlowSort::Bytes).is_empty());
    assert!(s.memory() < before);
    s.ended(flow(6, 0, 1, 0), EndReason::Capacity);
    assert_eq!(s.end_reason(FlowId(6)), Some(EndReason::Capacity));
}

#[test]
fn sort_orders() {
    let mut s = FlowStore::new(10);
    // (id, first_seen, bytes at t=1 s, bytes at t=2 s, retransmissions)
    let spec = [
        (1, 3 * S / 10, 100, 5000, 1),
        (2, S / 10, 900, 1000, 7),
        (3, 2 * S / 10, 500, 3000, 0),
    ];
    s.snapshot(
        spec.iter()
            .map(|&(id, fs, b, _, r)| flow(id, fs, b, r))
            .collect(),
        Nanos(S),
    );
    s.snapshot(
        spec.iter()
            .map(|&(id, fs, _, b, r)| flow(id, fs, b, r))
            .collect(),
        Nanos(2 * S),
    );
    s.ended(flow(4, 0, 99_999, 99), EndReason::Idle);
    let cases = [
        (FlowSort::Bytes, [1, 3, 2, 4]),
        (FlowSort::Rate, [1, 3, 2, 4]), // 4900, 2500, 100 B/s
        (FlowSort::Retransmissions, [2, 1, 3, 4]),
        (FlowSort::Age, [2, 3, 1, 4]),
    ];
    for (sort, want) in cases {
        assert_eq!(ids(&s.sorted(sort)), want, "{sort:?}");
    }
    // Rate differs from bytes when an old big flow goes quiet.
    s.snapshot(vec![flow(1, 0, 5000, 1), flow(3, 0, 4000, 0)], Nanos(3 * S));
    assert_eq!(ids(&s.sorted(FlowSort::Rate)), [3, 1, 4]);
    assert_eq!(ids(&s.sorted(FlowSort::Bytes)), [1, 3, 4]);
}

#[test]
fn order_is_sorted_by_ids() {
    // Ties, an id ended twice, ended flows after live ones, and a filter.
    let mut s = FlowStore::new(8);
    s.snapshot(
        (0..40)
            .map(|i| flow(i, i % 7, (i * 37) % 11 * 100, i % 3))
            .collect(),
        Nanos(S),
    );
    s.snapshot(
        (0..40)
            .map(|i| flow(i, i % 7, (i * 37) % 11 * 100 + i % 5 * 50, i % 3))
            .collect(),
        Nanos(2 * S),
    );
    for (id, bytes) in [(3, 900), (17, 0), (3, 900), (25, 400)] {
        s.ended(flow(id, id % 7, bytes, id % 2), EndReason::Idle);
    }
    for sort in [
        FlowSort::Bytes,
        FlowSort::Rate,
        FlowSort::Retransmissions,
        FlowSort::Age,
    ] {
        let want = ids(&s.sorted(sort));
        s.set_view(sort, None);
        assert_eq!(ids(&s.window(0, usize::MAX)), want, "{sort:?}");
        let odd: Vec<u64> = want.iter().copied().filter(|id| id % 2 == 1).collect();
        s.set_view(sort, Some(Box::new(|f: &FlowInfo| f.id.0 % 2 == 1)));
        assert_eq!(ids(&s.window(0, usize::MAX)), odd, "{sort:?} filtered");
        assert_eq!(s.listed(), odd.len());
    }
}

#[test]
fn changed_flow_reports_keep_the_others_and_zero_their_rates() {
    let mut s = FlowStore::new(10);
    s.update(
        vec![
            flow(1, 0, 1000, 0),
            flow(2, 0, 1000, 0),
            flow(3, 0, 1000, 0),
        ],
        true,
        Nanos(S),
    );
    // Only flow 2 moved: the others are kept as they were, with no rate.
    s.update(vec![flow(2, 0, 3000, 0)], false, Nanos(2 * S));
    assert_eq!(s.live_len(), 3);
    assert!((s.rate(FlowId(2)) - 2000.0).abs() < 1e-9);
    assert!(s.rate(FlowId(1)).abs() < 1e-9);
    s.set_view(FlowSort::Bytes, None);
    assert_eq!(ids(&s.window(0, usize::MAX)), [2, 1, 3]);
    // Nothing moved: flow 2's rate drops to zero; the order is unchanged.
    s.update(Vec::new(), false, Nanos(3 * S));
    assert!(s.rate(FlowId(2)).abs() < 1e-9);
    assert_eq!(s.live_len(), 3);
    // A full report drops the live flows it leaves out.
    s.update(vec![flow(3, 0, 5000, 0)], true, Nanos(4 * S));
    s.settle();
    assert_eq!(ids(&s.window(0, usize::MAX)), [3]);
    assert!(s.get(FlowId(1)).is_none());
}

mod order_prop {
    use proptest::prelude::*;

    use super::{S, flow, ids};
    use crate::decode::flow::{EndReason, FlowInfo};
    use crate::store::{FlowSort, FlowStore};
    use crate::wire::Nanos;

    #[derive(Debug, Clone)]
    enum Step {
        /// (id, bytes added) for each changed flow; full or not.
        Report(Vec<(u64, u64)>, bool),
        End(u64),
        View(u8, Option<u64>),
        Settle,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => (proptest::collection::vec((0u64..30, 0u64..3000), 0..12), any::<bool>())
                .prop_map(|(c, full)| Step::Report(c, full)),
            1 => (0u64..30).prop_map(Step::End),
            1 => (0u8..4, proptest::option::of(2u64..4)).prop_map(|(s, m)| Step::View(s, m)),
            2 => Just(Step::Settle),
        ]
    }

    proptest! {
        /// Kept up to date report by report, the flows pane's order is the
        /// one computed from scratch for the same flows, sort and filter.
        #[test]
        fn kept_order_equals_a_fresh_sort(steps in proptest::collection::vec(step(), 1..40)) {
            let mut s = FlowStore::new(6);
            let mut bytes = [0u64; 30];
            let mut t = 1;
            let (mut sort, mut modulo) = (FlowSort::Bytes, None::<u64>);
            for st in steps {
                match st {
                    Step::Report(changes, full) => {
                        t += 1;
                        for &(id, add) in &changes {
                            bytes[id as usize] += add;
                        }
                        let mut ids: Vec<u64> = if full {
                            (0..30).filter(|i| bytes[*i as usize] > 0).collect()
                        } else {
                            changes.iter().map(|c| c.0).collect()
                        };
                        ids.sort_unstable();
                        ids.dedup();
                        let list = ids
                            .iter()
                            .map(|&i| flow(i, i % 4 * S, bytes[i as usize], i % 3))
                            .collect();
                        s.update(list, full, Nanos(t * S));
                    }
                    Step::End(id) => {
                        s.ended(flow(id, id % 4 * S, bytes[id as usize], id % 3), EndReason::Idle);
                    }
                    Step::View(k, m) => {
                        sort = [FlowSort::Bytes, FlowSort::Rate, FlowSort::Retransmissions, FlowSort::Age][k as usize];
                        modulo = m;
                        let keep = m.map(|m| Box::new(move |f: &FlowInfo| f.id.0.is_multiple_of(m)) as crate::store::Keep);
                        s.set_view(sort, keep);
                    }
                    Step::Settle => s.settle(),
                }
                let want: Vec<u64> = ids(&s.sorted(sort))
                    .into_iter()
                    .filter(|id| modulo.is_none_or(|m| id.is_multiple_of(m)))
                    .collect();
                let got = ids(&s.window(0, usize::MAX));
                prop_assert_eq!(&got, &want);
                prop_assert_eq!(s.listed(), want.len());
                let (start, len) = (want.len() / 3, 2);
                let part: Vec<u64> = want.iter().skip(start).take(len).copied().collect();
                prop_assert_eq!(ids(&s.window(start, len)), part);
            }
        }
    }
}
