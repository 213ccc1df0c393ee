//! Prebuilt bodies: product pages, carts, orders and a metrics page, all
//! valid JSON (or Prometheus text), built once per generator and reused.

use super::push;
use crate::synth::rng::Rng;

/// Prebuilt response and request bodies.
pub(crate) struct Bodies {
    pub(super) product_pages: Vec<Vec<u8>>,
    pub(super) products: Vec<Vec<u8>>,
    pub(super) carts: Vec<Vec<u8>>,
    pub(super) orders: Vec<Vec<u8>>,
    pub(super) metrics: Vec<u8>,
}

impl Bodies {
    /// Builds the body pools from `rng`.
    pub(crate) fn new(rng: &mut Rng) -> Self {
        let mut product_pages = Vec::new();
        for items in [1usize, 3, 6, 10, 14, 20, 28, 40, 55, 70] {
            let mut b = Vec::new();
            push(
                &mut b,
                format_args!("{{\"page\":{},\"items\":[", items % 7 + 1),
            );
            for i in 0..items {
                if i > 0 {
                    b.push(b',');
                }
                product_json(&mut b, rng);
            }
            push(&mut b, format_args!("],\"total\":{}}}", 400 + items));
            product_pages.push(b);
        }
        let products = (0..32)
            .map(|_| {
                let mut b = Vec::new();
                product_json(&mut b, rng);
                b
            })
            .collect();
        let carts = (0..16)
            .map(|_| {
                let mut b = Vec::new();
                push(
                    &mut b,
                    format_args!("{{\"cart\":\"{:08x}\",\"lines\":[", rng.next_u32()),
                );
                for i in 0..rng.range(0, 6) {
                    if i > 0 {
                        b.push(b',');
                    }
                    push(
                        &mut b,
                        format_args!(
                            "{{\"sku\":\"SKU-{:05}\",\"qty\":{},\"price\":{}.{:02}}}",
                            rng.below(100_000),
                            rng.range(1, 4),
                            rng.range(2, 300),
                            rng.below(100)
                        ),
                    );
                }
                b.extend_from_slice(b"]}");
                b
            })
            .collect();
        let orders = (0..8)
            .map(|_| {
                let mut b = Vec::new();
                push(
                    &mut b,
                    format_args!(
                        "{{\"customer\":\"c-{:06}\",\"lines\":[",
                        rng.below(1_000_000)
                    ),
                );
                for i in 0..rng.range(12, 40) {
                    if i > 0 {
                        b.push(b',');
                    }
                    push(
                        &mut b,
                        format_args!(
                            "{{\"sku\":\"SKU-{:05}\",\"qty\":{},\"note\":\"gift wrap: {}\"}}",
                            rng.below(100_000),
                            rng.range(1, 9),
                            if rng.chance(500) { "yes" } else { "no" }
                        ),
                    );
                }
                b.extend_from_slice(b"],\"payment\":{\"method\":\"card\",\"token\":\"tok_");
                push(&mut b, format_args!("{:016x}\"}}}}", rng.next_u64()));
                b
            })
            .collect();
        let mut metrics = Vec::new();
        for (i, name) in [
            "http_requests_total",
            "http_request_duration_seconds_bucket",
            "process_cpu_seconds_total",
        ]
        .iter()
        .enumerate()
        {
            push(
                &mut metrics,
                format_args!("# HELP {name} Shop API metric {i}.\n# TYPE {name} counter\n"),
            );
            for code in [200, 201, 204, 301, 404, 500, 503] {
                for route in ["products", "product", "cart", "orders", "healthz"] {
                    push(
                        &mut metrics,
                        format_args!(
                            "{name}{{code=\"{code}\",route=\"{route}\"}} {}\n",
                            rng.below(1_000_000)
                        ),
                    );
                }
            }
        }
        Bodies {
            product_pages,
            products,
            carts,
            orders,
            metrics,
        }
    }
}

fn product_json(b: &mut Vec<u8>, rng: &mut Rng) {
    const NAMES: &[&str] = &[
        "Espresso cup",
        "Linen apron",
        "Oak board",
        "Tea tin",
        "Cast iron pan",
        "Chef knife",
    ];
    let name = NAMES[rng.below(NAMES.len() as u64) as usize];
    push(
        b,
        format_args!(
            "{{\"id\":{},\"sku\":\"SKU-{:05}\",\"name\":\"{name}\",\"price\":{}.{:02},\"stock\":{},\"tags\":[\"kitchen\",\"home\"],\"description\":\"{name} made by hand, batch {:x}.\"}}",
            rng.range(1, 99_999),
            rng.below(100_000),
            rng.range(2, 400),
            rng.below(100),
            rng.below(500),
            rng.next_u32()
        ),
    );
}
