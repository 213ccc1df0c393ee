use proptest::prelude::*;

use super::Filter;
use crate::store::ExchangeStore;
use crate::store::tests::event;

/// Texts of valid terms (keys, values, quoting and negation mixed).
fn term() -> impl Strategy<Value = String> {
    let value = "[a-zA-Z0-9/._^:!-]{1,8}";
    let spaced = "[a-z \"\\\\!:^]{1,8}";
    prop_oneof![
        value.prop_map(|v| format!("method:{v}")),
        prop_oneof![
            Just("none".to_string()),
            (100u16..1000).prop_map(|c| c.to_string()),
            (1u8..6).prop_map(|c| format!("{c}xx")),
            (0u16..1000).prop_map(|c| format!(">={c}"))
        ]
        .prop_map(|v| format!("status:{v}")),
        // A leading caret means "prefix" and needs something after it.
        ("[a-zA-Z0-9/._:!-]", value).prop_map(|(a, v)| format!("path:{a}{v}")),
        value.prop_map(|v| format!("path:^{v}")),
        spaced.prop_map(|v| format!("path:\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))),
        spaced.prop_map(|v| format!("host:\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))),
        (any::<[u8; 4]>(), 0u8..=32)
            .prop_map(|(a, l)| format!("ip:{}.{}.{}.{}/{l}", a[0], a[1], a[2], a[3])),
        (any::<u128>(), 0u8..=128)
            .prop_map(|(a, l)| format!("ip:{}/{l}", std::net::Ipv6Addr::from(a))),
        (1u16..).prop_map(|p| format!("port:{p}")),
        (0u64..10_000, 0usize..3, 0usize..4, 0u64..1000).prop_map(|(n, u, c, frac)| {
            format!(
                "latency:{}{n}.{frac}{}",
                [">", ">=", "<", "<="][c],
                ["us", "ms", "s"][u]
            )
        }),
        prop_oneof![
            Just("rst"),
            Just("fin"),
            Just("open"),
            Just("midstream"),
            Just("retrans")
        ]
        .prop_map(|v| format!("flow:{v}")),
        "[a-zA-Z0-9/.]{1,8}",
        spaced.prop_map(|v| format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))),
    ]
}

proptest! {
    #[test]
    fn parse_never_panics(s in "\\PC{0,40}") {
        let _ = Filter::parse(&s);
    }

    #[test]
    fn parse_never_panics_on_filter_like_text(s in "[a-z:!\"\\\\^<>=./ 0-9]{0,40}") {
        if let Err(e) = Filter::parse(&s) {
            prop_assert!(e.at <= s.len());
            prop_assert!(s.is_char_boundary(e.at));
        }
    }

    #[test]
    fn canonical_text_round_trips(terms in proptest::collection::vec((any::<bool>(), term()), 0..6)) {
        let text: Vec<String> = terms.iter().map(|(neg, t)| format!("{}{t}", if *neg { "!" } else { "" })).collect();
        let text = text.join(" ");
        let f = Filter::parse(&text).map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
        let again = Filter::parse(&f.to_string()).map_err(|e| TestCaseError::fail(format!("{f}: {e}")))?;
        prop_assert_eq!(again, f);
    }

    /// The prepared matcher (one scan of the packed paths) keeps the same
    /// rows as matching row by row: paths in mixed case, with the packing's
    /// separator byte in them, and through evictions that free chunks.
    #[test]
    fn prepared_path_search_agrees_with_row_by_row(
        paths in proptest::collection::vec(
            prop_oneof![30 => "[aAbB/é]{0,6}", 1 => "[aAbB/\\x00é]{0,6}"],
            1..60,
        ),
        needle in "[aAbB/é]{1,3}",
        capacity in 1usize..40,
        negate in any::<bool>(),
    ) {
        let mut store = ExchangeStore::new(capacity, 4);
        for p in &paths {
            store.push(event("GET", None, p, Some(200), 1, "10.0.0.1:1", "10.0.0.2:80"));
        }
        let bang = if negate { "!" } else { "" };
        for text in [format!("{bang}path:\"{needle}\""), format!("{bang}\"{needle}\"")] {
            let f = Filter::parse(&text).map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
            let m = f.for_store(&store);
            let prepared: Vec<u64> = store.rows().filter(|r| m.matches(r)).map(|r| r.id).collect();
            let direct: Vec<u64> = store.rows().filter(|r| f.matches_exchange(r, &store)).map(|r| r.id).collect();
            prop_assert_eq!(prepared, direct, "{}", text);
        }
    }
}
