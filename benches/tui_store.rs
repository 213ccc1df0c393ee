//! Memory and speed of the TUI's exchange store: 1,000,000 exchanges with
//! realistic paths (~30 bytes), a few dozen hosts and methods, 5,000 details;
//! then a parsed filter over every row.
//!
//! `cargo bench --bench tui_store`. Prints figures; asserts nothing on timing.

mod common;

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Instant;

use podtap::decode::ExchangeEvent;
use podtap::decode::flow::FlowId;
use podtap::decode::http::{BodyFraming, Exchange, Header, Message, Request, Response};
use podtap::filter::Filter;
use podtap::store::ExchangeStore;
use podtap::wire::Nanos;

const ROWS: u64 = 1_000_000;
const DETAILS: usize = 5_000;

fn vm_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn message(first: u64, body: u64, preview: usize, headers: &[(&str, &str)]) -> Message {
    Message {
        version: 1,
        headers: headers
            .iter()
            .map(|&(n, v)| Header {
                name: n.into(),
                value: v.into(),
            })
            .collect(),
        content_type: Some("application/json".into()),
        content_length: Some(body),
        framing: BodyFraming::Length,
        body_len: body,
        body_preview: vec![b'{'; preview],
        body_truncated: false,
        first_byte: Nanos(first),
        last_byte: Nanos(first + 1_000),
        complete: true,
    }
}

fn event(i: u64, rng: &mut common::Rng) -> ExchangeEvent {
    const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "PATCH"];
    const RES: [&str; 8] = [
        "cart", "items", "users", "orders", "checkout", "catalog", "payments", "sessions",
    ];
    let r = rng.next();
    let host = format!("svc-{}.shop.svc.cluster.local", r % 40);
    let path = format!(
        "/api/v1/{}/{:08x}?page={}",
        RES[(r >> 8) as usize % RES.len()],
        r >> 20,
        r % 10
    );
    let status = [200, 200, 200, 201, 204, 301, 404, 500, 503][(r >> 12) as usize % 9];
    let latency = (r >> 24) % 400_000_000;
    let ts = i * 1_000_000;
    let headers = [
        ("Host", host.as_str()),
        ("User-Agent", "Go-http-client/1.1"),
        ("Accept", "application/json"),
        ("X-Request-Id", "2f1c9a3e-55b1-4c0e-9d7a-0b6d1f3c2e4a"),
    ];
    ExchangeEvent {
        exchange: Exchange {
            flow: FlowId(i / 10),
            request: Request {
                method: METHODS[(r >> 4) as usize % METHODS.len()].into(),
                path,
                host: Some(host.clone()),
                message: message(ts, 120, 120, &headers),
            },
            response: (!r.is_multiple_of(50)).then(|| Response {
                status,
                reason: "OK".into(),
                interim: Vec::new(),
                message: message(
                    ts + 1_000 + latency,
                    900,
                    512,
                    &[
                        ("Content-Type", "application/json"),
                        ("Content-Length", "900"),
                    ],
                ),
            }),
        },
        client: SocketAddr::from((
            [10, 244, (r >> 40) as u8 % 4, (r >> 48) as u8],
            30_000 + (r % 20_000) as u16,
        )),
        server: SocketAddr::from(([10, 96, 0, (r % 40) as u8], 8080)),
    }
}

fn main() {
    let rss0 = vm_rss_kib();
    let mut store = ExchangeStore::new(ROWS as usize, DETAILS);
    let mut rng = common::Rng(0x9E37_79B9_7F4A_7C15);
    let t = Instant::now();
    for i in 0..ROWS {
        store.push(event(i, &mut rng));
    }
    let push = t.elapsed();
    let rss1 = vm_rss_kib();
    let mem = store.memory();
    println!("rows stored:               {}", store.len());
    println!(
        "push 1M (incl. building each event): {:.0} ms ({:.0} ns/exchange)",
        push.as_secs_f64() * 1e3,
        push.as_nanos() as f64 / ROWS as f64
    );
    println!(
        "memory() total:            {:.1} MiB",
        mem as f64 / f64::from(1 << 20)
    );
    println!(
        "memory() per exchange:     {:.0} B",
        mem as f64 / ROWS as f64
    );
    println!(
        "VmRSS growth:              {:.1} MiB",
        (rss1.saturating_sub(rss0)) as f64 / 1024.0
    );
    println!(
        "VmRSS growth per exchange: {:.0} B",
        (rss1.saturating_sub(rss0) * 1024) as f64 / ROWS as f64
    );
    println!("symbols (live, overflowed): {:?}", store.symbols());

    let t = Instant::now();
    let n = store.rows().filter(|r| r.status == Some(500)).count();
    println!(
        "baseline scan (status == 500, no filter)  {:>7} rows in {:>6.1} ms",
        black_box(n),
        t.elapsed().as_secs_f64() * 1e3
    );
    for text in [
        "method:post status:5xx",
        "host:svc-7 path:^/api/v1/cart latency:>100ms",
        "!status:2xx port:8080 ip:10.244.0.0/16",
        "checkout",
        "checkout !method:get status:>=400 latency:<300ms",
    ] {
        let f = Filter::parse(text).expect("valid filter");
        // Prepared for the store (what the exchange list uses), then row by row.
        let t = Instant::now();
        let m = f.for_store(&store);
        let prepare = t.elapsed();
        let n = store.rows().filter(|r| m.matches(r)).count();
        let prepared = t.elapsed();
        let t = Instant::now();
        let n2 = store
            .rows()
            .filter(|r| f.matches_exchange(r, &store))
            .count();
        let direct = t.elapsed();
        assert_eq!(n, n2);
        println!(
            "filter {:<50} {:>7} matches in {:>6.1} ms (of which preparing {:>5.1} ms; matches_exchange per row: {:>6.1} ms)",
            format!("{text:?}"),
            black_box(n),
            prepared.as_secs_f64() * 1e3,
            prepare.as_secs_f64() * 1e3,
            direct.as_secs_f64() * 1e3
        );
    }
}
