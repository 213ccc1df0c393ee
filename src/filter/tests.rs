use super::Filter;
use crate::decode::flow::FlowState;
use crate::store::ExchangeStore;
use crate::store::tests::{event, flow};
use crate::wire::agent::{FilterProto, FilterRule, FilterSpec};

/// Canonical text, or where and what the error is.
type Want = Result<&'static str, (usize, &'static str)>;

#[test]
fn parse_table() {
    // (input, Ok(canonical text) or Err((at, message start)))
    let cases: &[(&str, Want)] = &[
        ("", Ok("")),
        ("   ", Ok("")),
        ("method:post", Ok("method:POST")),
        ("METHOD:get  status:5XX", Ok("method:GET status:5xx")),
        (
            "status:200 status:>=400 status:<300 status:none status:<=99",
            Ok("status:200 status:>=400 status:<300 status:none status:<=99"),
        ),
        ("path:^/api path:/x", Ok("path:^/api path:/x")),
        ("path:\"/a b\"", Ok("path:\"/a b\"")),
        ("path:\"^/lit\"", Ok("path:\"^/lit\"")),
        ("path:^\"/a b\"", Ok("path:^\"/a b\"")),
        ("path:\"a\\\"b\\\\c\"", Ok("path:\"a\\\"b\\\\c\"")),
        ("host:Cart", Ok("host:cart")),
        (
            "ip:10.244.3.4/16 ip:10.0.0.1 ip:fd00::1/8",
            Ok("ip:10.244.0.0/16 ip:10.0.0.1 ip:fd00::/8"),
        ),
        ("port:8080 !port:53", Ok("port:8080 !port:53")),
        (
            "latency:>200ms latency:<1s latency:>=50us latency:>1.5s latency:<0.0015ms",
            Ok("latency:>200ms latency:<1s latency:>=50us latency:>1500ms latency:<1.500us"),
        ),
        (
            "flow:RST flow:fin flow:open flow:midstream flow:retrans",
            Ok("flow:rst flow:fin flow:open flow:midstream flow:retrans"),
        ),
        (
            "Checkout !healthz \"a:b\" 10.0.0.1:80",
            Ok("checkout !healthz \"a:b\" \"10.0.0.1:80\""),
        ),
        ("\"!x\"", Ok("\"!x\"")),
        // Errors: positions are of the key, the value, the quote or the term.
        (
            "stauts:200",
            Err((
                0,
                "unknown filter key 'stauts' (keys: method, status, path, host, ip, port, latency, flow)",
            )),
        ),
        ("method:GET !Foo:1", Err((12, "unknown filter key 'Foo'"))),
        ("status:", Err((7, "empty value for 'status'"))),
        ("a status:\"\"", Err((9, "empty value for 'status'"))),
        ("status:600x", Err((7, "bad status '600x'"))),
        ("status:6xx", Err((7, "bad status"))),
        ("status:20", Err((7, "bad status"))),
        ("status:>=1000", Err((7, "bad status"))),
        (
            "ip:10.0.0.0/33",
            Err((3, "bad address or CIDR '10.0.0.0/33'")),
        ),
        ("ip:10.0.0", Err((3, "bad address or CIDR"))),
        ("ip:fd00::/129", Err((3, "bad address or CIDR"))),
        ("port:65536", Err((5, "port 65536 out of range (1-65535)"))),
        ("port:0", Err((5, "port 0 out of range"))),
        ("port:http", Err((5, "bad port 'http'"))),
        ("latency:200ms", Err((8, "latency needs a comparison"))),
        ("latency:>200", Err((8, "bad duration '200'"))),
        ("latency:>2h", Err((8, "bad duration '2h'"))),
        ("latency:>1.2.3s", Err((8, "bad duration"))),
        ("flow:closed", Err((5, "unknown flow condition 'closed'"))),
        ("path:^", Err((5, "empty path prefix"))),
        ("path:\"/a b", Err((5, "unterminated quote"))),
        ("ok \"abc", Err((3, "unterminated quote"))),
        ("x !", Err((2, "nothing after '!'"))),
        ("\"\"", Err((0, "empty term"))),
    ];
    for (input, want) in cases {
        let got = Filter::parse(input);
        match (want, &got) {
            (Ok(text), Ok(f)) => {
                assert_eq!(f.to_string(), *text, "{input:?}");
                assert_eq!(Filter::parse(text).as_ref(), Ok(f), "{input:?} round trip");
            }
            (Err((at, msg)), Err(e)) => {
                assert_eq!(e.at, *at, "{input:?}: {e:?}");
                assert!(e.message.starts_with(msg), "{input:?}: {e:?}");
            }
            _ => panic!("{input:?}: got {got:?}, want {want:?}"),
        }
    }
    assert!(Filter::parse("").unwrap().is_empty());
    assert!(!Filter::parse("a").unwrap().is_empty());
}

#[test]
fn exchange_match_table() {
    let mut store = ExchangeStore::new(100, 0);
    let rows = [
        // 0: POST to cart, 503, 250 ms
        store.push(event(
            "POST",
            Some("Cart.Default.svc"),
            "/api/cart/Checkout",
            Some(503),
            250_000_000,
            "10.244.1.7:41000",
            "10.96.0.10:8080",
        )),
        // 1: GET to catalog, 200, 40 us
        store.push(event(
            "GET",
            Some("catalog"),
            "/healthz",
            Some(200),
            40_000,
            "10.244.2.9:42000",
            "10.96.0.20:80",
        )),
        // 2: GET without host and without response
        store.push(event(
            "get",
            None,
            "/api/items?q=a b",
            None,
            0,
            "192.168.1.1:5000",
            "[fd00::1]:443",
        )),
        // 3: DELETE, 404, 1 s
        store.push(event(
            "DELETE",
            Some("cart"),
            "/v1/api",
            Some(404),
            1_000_000_000,
            "10.244.1.7:41001",
            "10.96.0.10:8080",
        )),
    ];
    let cases: &[(&str, &[u64])] = &[
        ("", &[0, 1, 2, 3]),
        ("method:post", &[0]),
        ("method:GET", &[1, 2]),
        ("!method:get", &[0, 3]),
        ("status:503", &[0]),
        ("status:5xx", &[0]),
        ("status:>=400", &[0, 3]),
        ("status:<300", &[1]),
        ("status:none", &[2]),
        ("!status:none", &[0, 1, 3]),
        ("!status:2xx", &[0, 2, 3]),
        ("path:/api", &[0, 2, 3]),
        ("path:^/api", &[0, 2]),
        ("path:checkout", &[]),
        ("path:\"q=a b\"", &[2]),
        ("host:cart", &[0, 3]),
        ("host:DEFAULT", &[0]),
        ("ip:10.244.0.0/16", &[0, 1, 3]),
        ("ip:10.96.0.20", &[1]),
        ("ip:fd00::/16", &[2]),
        ("!ip:10.0.0.0/8", &[2]),
        ("port:8080", &[0, 3]),
        ("port:42000", &[1]),
        ("latency:>200ms", &[0, 3]),
        ("latency:<1s", &[0, 1]),
        ("latency:>=1s", &[3]),
        ("latency:<=40us", &[1]),
        ("!latency:>200ms", &[1, 2]),
        ("flow:rst", &[0, 1, 2, 3]),
        ("!flow:rst", &[0, 1, 2, 3]),
        ("checkout", &[0]),
        ("CART", &[0, 3]),
        ("404", &[3]),
        ("delete", &[3]),
        ("api !cart", &[2]),
        (
            "method:get status:200 host:cat path:^/health port:80 ip:10.96.0.0/24 latency:<1ms",
            &[1],
        ),
    ];
    for (text, want) in cases {
        let f = Filter::parse(text).unwrap();
        let got: Vec<u64> = store
            .rows()
            .filter(|r| f.matches_exchange(r, &store))
            .map(|r| r.id)
            .collect();
        let m = f.for_store(&store);
        let prepared: Vec<u64> = store
            .rows()
            .filter(|r| m.matches(r))
            .map(|r| r.id)
            .collect();
        assert_eq!(prepared, got, "{text:?} prepared");
        let want: Vec<u64> = want.iter().map(|&i| rows[i as usize]).collect();
        assert_eq!(got, want, "{text:?}");
    }
}

#[test]
fn flow_match_table() {
    let mut f1 = flow(1, 0, 100, 0);
    f1.state = FlowState::Reset;
    let mut f2 = flow(2, 0, 100, 3);
    f2.state = FlowState::Closing;
    let mut f3 = flow(3, 0, 100, 0);
    f3.midstream = false;
    let mut f4 = flow(4, 0, 100, 0);
    f4.state = FlowState::Closed;
    f4.midstream = false;
    let flows = [f1, f2, f3, f4];
    let cases: &[(&str, &[u64])] = &[
        ("flow:rst", &[1]),
        ("flow:fin", &[2, 4]),
        ("flow:open", &[3]),
        ("flow:midstream", &[1, 2]),
        ("!flow:midstream", &[3, 4]),
        ("flow:retrans", &[2]),
        ("ip:10.96.0.3", &[3]),
        ("!ip:10.96.0.3", &[1, 2, 4]),
        ("port:80", &[1, 2, 3, 4]),
        ("port:40000 !port:80", &[]),
        // HTTP-only terms and free text do not restrict flows, negated or not.
        (
            "method:GET status:5xx path:/x host:y latency:>1s nothing",
            &[1, 2, 3, 4],
        ),
        ("!method:GET !status:none", &[1, 2, 3, 4]),
        ("method:GET flow:fin", &[2, 4]),
    ];
    for (text, want) in cases {
        let f = Filter::parse(text).unwrap();
        let got: Vec<u64> = flows
            .iter()
            .filter(|x| f.matches_flow(x))
            .map(|x| x.id.0)
            .collect();
        assert_eq!(got, *want, "{text:?}");
    }
}

#[test]
fn capture_spec_cases() {
    let icmp = FilterRule {
        proto: Some(FilterProto::Icmp),
        ..FilterRule::default()
    };
    let rule = |host: Option<&str>, port: Option<u16>| FilterRule {
        proto: None,
        host: host.map(Into::into),
        port,
    };
    let cases: Vec<(&str, Option<FilterSpec>)> = vec![
        ("", None),
        ("method:GET status:5xx", None),
        ("checkout", None),
        ("!ip:10.0.0.1", None),
        ("flow:rst latency:>1s", None),
        (
            "port:8080",
            Some(FilterSpec {
                include: vec![rule(None, Some(8080)), icmp.clone()],
                exclude: vec![],
            }),
        ),
        (
            "ip:10.244.0.0/16 port:8080",
            Some(FilterSpec {
                include: vec![rule(Some("10.244.0.0/16"), Some(8080)), icmp.clone()],
                exclude: vec![],
            }),
        ),
        // Free text and HTTP terms leave the safe part.
        (
            "checkout ip:10.0.0.1 method:POST",
            Some(FilterSpec {
                include: vec![rule(Some("10.0.0.1"), None), icmp.clone()],
                exclude: vec![],
            }),
        ),
        // Two ports cannot both be in one rule: the first one is a superset of the AND.
        (
            "port:80 port:8080",
            Some(FilterSpec {
                include: vec![rule(None, Some(80)), icmp.clone()],
                exclude: vec![],
            }),
        ),
        (
            "!port:53 !port:53 !port:9090",
            Some(FilterSpec {
                include: vec![],
                exclude: vec![rule(None, Some(53)), rule(None, Some(9090))],
            }),
        ),
        (
            "ip:10.0.0.1 !port:22",
            Some(FilterSpec {
                include: vec![rule(Some("10.0.0.1"), None), icmp.clone()],
                exclude: vec![rule(None, Some(22))],
            }),
        ),
    ];
    for (text, want) in cases {
        assert_eq!(
            Filter::parse(text).unwrap().capture_spec(),
            want,
            "{text:?}"
        );
    }
}

#[test]
fn flow_part_is_the_terms_that_can_hide_flows() {
    let part = |t: &str| Filter::parse(t).unwrap().flow_part();
    assert_eq!(
        part("method:get port:80 checkout !flow:rst ip:10.0.0.0/8 path:/x"),
        "port:80 !flow:rst ip:10.0.0.0/8"
    );
    assert_eq!(part("status:5xx host:cart"), "");
    assert_eq!(part("status:5xx port:80"), part("port:80 method:post"));
    assert_ne!(part("port:80"), part("!port:80"));
}
