use super::{event, get};
use crate::store::{ExchangeStore, OTHER_TEXT};
use crate::wire::Nanos;

#[test]
fn row_fields_come_from_the_exchange() {
    let mut s = ExchangeStore::new(10, 10);
    let id = s.push(event(
        "POST",
        Some("Cart.Svc"),
        "/api/cart",
        Some(503),
        7_000,
        "10.0.0.1:1234",
        "10.0.0.2:80",
    ));
    let r = s.get(id).unwrap();
    assert_eq!(s.text(r.method), "POST");
    assert_eq!(s.text(r.host), "Cart.Svc");
    assert_eq!(s.text_lower(r.host), "cart.svc");
    assert_eq!(s.path(r), "/api/cart");
    assert_eq!(r.status, Some(503));
    assert_eq!(r.ts, Nanos(1000));
    assert_eq!(r.latency, Some(Nanos(7_000)));
    assert_eq!(r.total, Some(Nanos(3000 + 7_000 - 1000)));
    assert_eq!((r.request_bytes, r.response_bytes, r.flow), (10, 100, 7));
    assert_eq!(r.server.port(), 80);
    let none = s.push(event(
        "GET",
        None,
        "/",
        None,
        0,
        "10.0.0.1:1234",
        "10.0.0.2:80",
    ));
    let r = s.get(none).unwrap();
    assert_eq!(
        (s.text(r.host), r.status, r.latency, r.total),
        ("", None, None, None)
    );
}

/// Capacity, details, pushes, kept ids, detailed ids, evicted.
type RingCase = (usize, usize, u64, &'static [u64], &'static [u64], u64);

#[test]
fn ring_evicts_oldest_and_ids_stay_increasing() {
    let cases: &[RingCase] = &[
        (3, 2, 2, &[0, 1], &[0, 1], 0),
        (3, 2, 3, &[0, 1, 2], &[1, 2], 0),
        (3, 2, 5, &[2, 3, 4], &[3, 4], 2),
        (3, 5, 5, &[2, 3, 4], &[2, 3, 4], 2), // details never outlive rows
        (1, 0, 4, &[3], &[], 3),
        (0, 0, 2, &[], &[], 2),
    ];
    for &(cap, det, n, kept, detailed, evicted) in cases {
        let mut s = ExchangeStore::new(cap, det);
        for i in 0..n {
            assert_eq!(s.push(get("a", &format!("/{i}"))), i);
        }
        let ids: Vec<u64> = s.rows().map(|r| r.id).collect();
        assert_eq!(ids, kept, "{cap} {det} {n}");
        assert_eq!(s.len(), kept.len());
        assert_eq!(s.evicted(), evicted);
        for id in 0..n + 2 {
            assert_eq!(
                s.get(id).map(|r| r.id),
                kept.contains(&id).then_some(id),
                "get {id}"
            );
            assert_eq!(
                s.get(id).map(|r| s.path(r)),
                kept.contains(&id).then(|| format!("/{id}")).as_deref()
            );
            let d = s.detail(id).map(|e| e.request.path.clone());
            assert_eq!(
                d,
                detailed.contains(&id).then(|| format!("/{id}")),
                "detail {id}"
            );
        }
        let rev: Vec<u64> = s.rows().rev().map(|r| r.id).collect();
        assert_eq!(rev, kept.iter().rev().copied().collect::<Vec<_>>());
    }
}

#[test]
fn clear_empties_and_ids_continue() {
    let mut s = ExchangeStore::new(4, 4);
    for _ in 0..3 {
        s.push(get("a", "/"));
    }
    let before = s.memory();
    s.clear();
    assert!(s.is_empty());
    assert_eq!(s.rows().len(), 0);
    assert!(s.get(2).is_none() && s.detail(2).is_none());
    assert!(s.memory() < before);
    assert_eq!(s.symbols().0, 0);
    assert_eq!(s.push(get("b", "/x")), 3);
    assert_eq!(s.get(3).map(|r| s.text(r.host)), Some("b"));
    assert!(s.get(2).is_none());
}

#[test]
fn interner_frees_symbols_of_evicted_rows() {
    let mut s = ExchangeStore::new(2, 0);
    for i in 0..100 {
        s.push(get(&format!("host-{i}"), "/"));
    }
    // Two rows kept: their two hosts plus GET.
    assert_eq!(s.symbols(), (3, 0));
    let hosts: Vec<&str> = s.rows().map(|r| s.text(r.host)).collect();
    assert_eq!(hosts, ["host-98", "host-99"]);
}

#[test]
fn interner_is_bounded_and_overflow_maps_to_other() {
    // Limit 3: GET, h0, h1; h2 and h3 do not fit while h0 and h1 are kept.
    let mut s = ExchangeStore::with_symbol_limit(10, 0, 3);
    for h in ["h0", "h1", "h2", "h3", "h0"] {
        s.push(get(h, "/"));
    }
    let hosts: Vec<&str> = s.rows().map(|r| s.text(r.host)).collect();
    assert_eq!(hosts, ["h0", "h1", OTHER_TEXT, OTHER_TEXT, "h0"]);
    assert_eq!(s.symbols(), (3, 2));
    // Once the rows holding h0 and h1 are gone, new names fit again.
    let mut s = ExchangeStore::with_symbol_limit(2, 0, 3);
    for h in ["h0", "h1", "h2", "h3"] {
        s.push(get(h, "/"));
    }
    let hosts: Vec<&str> = s.rows().map(|r| s.text(r.host)).collect();
    assert_eq!(hosts, ["h2", "h3"]);
    assert_eq!(s.symbols(), (3, 0));
}

#[test]
fn memory_grows_with_content() {
    let mut s = ExchangeStore::new(1000, 10);
    let empty = s.memory();
    s.push(get("a", "/short"));
    let one = s.memory();
    assert!(one > empty);
    let mut long = ExchangeStore::new(1000, 10);
    long.push(get("a", &"/long".repeat(100)));
    assert!(long.memory() >= one + 400, "{} vs {one}", long.memory());
    // Rows beyond the detail ring cost less than rows with details.
    let mut a = ExchangeStore::new(1000, 1000);
    let mut b = ExchangeStore::new(1000, 1);
    for i in 0..500 {
        a.push(get("a", &format!("/{i}")));
        b.push(get("a", &format!("/{i}")));
    }
    assert!(
        a.memory() > b.memory() + 500 * 100,
        "{} vs {}",
        a.memory(),
        b.memory()
    );
    // Many distinct hosts cost more than one.
    let mut c = ExchangeStore::new(1000, 1);
    for i in 0..500 {
        c.push(get(
            &format!("host-number-{i}.svc.cluster.local"),
            &format!("/{i}"),
        ));
    }
    assert!(
        c.memory() > b.memory() + 500 * 40,
        "{} vs {}",
        c.memory(),
        b.memory()
    );
}
