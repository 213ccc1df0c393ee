//! HTTP/1.1 message text for the synthetic shop API: requests, responses, bodies.
//!
//! This module only writes bytes into buffers; it knows nothing of TCP. Bodies
//! are built once per generator (valid JSON, so Wireshark's JSON dissector is
//! happy) and reused, which keeps generation fast.

use std::fmt;
use std::io::Write;

use super::rng::Rng;

mod bodies;

pub(crate) use bodies::Bodies;

/// The authority every client uses for the pod's Service.
const HOST: &str = "shop-api.shop.svc.cluster.local:8080";

const USER_AGENTS: &[&str] = &[
    "Go-http-client/1.1",
    "python-requests/2.31.0",
    "okhttp/4.12.0",
    "curl/8.5.0",
    "axios/1.6.7",
    "kube-probe/1.29",
];

/// What the client asked for, decided when the request is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    ProductList,
    Product,
    Cart,
    Health,
    Metrics,
    Legacy,
    AddItem,
    UpdateItem,
    RemoveItem,
    Order,
}

/// Relative frequency of each route, in the order of [`ROUTES`].
const ROUTE_WEIGHTS: &[u32] = &[30, 20, 15, 10, 3, 2, 10, 4, 4, 2];
const ROUTES: &[Route] = &[
    Route::ProductList,
    Route::Product,
    Route::Cart,
    Route::Health,
    Route::Metrics,
    Route::Legacy,
    Route::AddItem,
    Route::UpdateItem,
    Route::RemoveItem,
    Route::Order,
];

/// The response a request will get; decided together with the request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    /// HTTP status code of the response.
    pub(crate) status: u16,
    route: Route,
    request_id: u64,
    /// Whether the response body uses chunked transfer encoding.
    pub(crate) chunked: bool,
    close: bool,
}

/// Appends formatted text to a byte buffer.
fn push(buf: &mut Vec<u8>, args: fmt::Arguments<'_>) {
    buf.write_fmt(args).expect("writing to a Vec cannot fail");
}

/// Writes one request into `buf` and returns the plan for its response.
///
/// `close` adds `Connection: close`, so the server ends the connection after answering.
pub(crate) fn write_request(
    rng: &mut Rng,
    bodies: &Bodies,
    buf: &mut Vec<u8>,
    close: bool,
) -> Plan {
    let route = ROUTES[rng.weighted(ROUTE_WEIGHTS)];
    let request_id = rng.next_u64();
    let (method, status) = match route {
        Route::ProductList => ("GET", pick_status(rng, &[(200, 975), (503, 15), (500, 10)])),
        Route::Product => ("GET", pick_status(rng, &[(200, 930), (404, 60), (500, 10)])),
        Route::Cart => ("GET", pick_status(rng, &[(200, 965), (404, 30), (500, 5)])),
        Route::Health | Route::Metrics => ("GET", 200),
        Route::Legacy => ("GET", 301),
        Route::AddItem => ("POST", pick_status(rng, &[(201, 975), (500, 25)])),
        Route::UpdateItem => ("PUT", pick_status(rng, &[(200, 970), (404, 30)])),
        Route::RemoveItem => ("DELETE", pick_status(rng, &[(204, 980), (404, 20)])),
        Route::Order => ("POST", pick_status(rng, &[(201, 960), (503, 40)])),
    };
    push(buf, format_args!("{method} "));
    match route {
        Route::ProductList => push(
            buf,
            format_args!("/api/products?page={}&size=20", rng.range(1, 30)),
        ),
        Route::Product => push(buf, format_args!("/api/products/{}", rng.range(1, 99_999))),
        Route::Cart => push(buf, format_args!("/api/cart/{}", rng.range(100, 9_999))),
        Route::Health => buf.extend_from_slice(b"/healthz"),
        Route::Metrics => buf.extend_from_slice(b"/metrics"),
        Route::Legacy => buf.extend_from_slice(b"/shop"),
        Route::AddItem => push(
            buf,
            format_args!("/api/cart/{}/items", rng.range(100, 9_999)),
        ),
        Route::UpdateItem | Route::RemoveItem => push(
            buf,
            format_args!(
                "/api/cart/{}/items/SKU-{:05}",
                rng.range(100, 9_999),
                rng.below(100_000)
            ),
        ),
        Route::Order => buf.extend_from_slice(b"/api/orders"),
    }
    let agent = if route == Route::Health {
        "kube-probe/1.29"
    } else {
        USER_AGENTS[rng.below(USER_AGENTS.len() as u64 - 1) as usize]
    };
    push(
        buf,
        format_args!(
            " HTTP/1.1\r\nHost: {HOST}\r\nUser-Agent: {agent}\r\nAccept: application/json\r\nX-Request-Id: {request_id:016x}\r\n"
        ),
    );
    if close {
        buf.extend_from_slice(b"Connection: close\r\n");
    }
    match route {
        Route::AddItem | Route::UpdateItem => {
            let mut body = [0u8; 64];
            let mut cursor = &mut body[..];
            write!(
                cursor,
                "{{\"sku\":\"SKU-{:05}\",\"qty\":{}}}",
                rng.below(100_000),
                rng.range(1, 5)
            )
            .expect("the body fits its buffer");
            let len = 64 - cursor.len();
            json_body(buf, &body[..len]);
        }
        Route::Order => {
            let body = &bodies.orders[rng.below(bodies.orders.len() as u64) as usize];
            json_body(buf, body);
        }
        _ => buf.extend_from_slice(b"\r\n"),
    }
    let chunked =
        matches!(route, Route::Metrics) || (route == Route::ProductList && rng.chance(300));
    Plan {
        status,
        route,
        request_id,
        chunked: chunked && status == 200,
        close,
    }
}

fn json_body(buf: &mut Vec<u8>, body: &[u8]) {
    push(
        buf,
        format_args!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        ),
    );
    buf.extend_from_slice(body);
}

fn pick_status(rng: &mut Rng, table: &[(u16, u32)]) -> u16 {
    let mut pick = rng.below(1000) as u32;
    for &(status, weight) in table {
        if pick < weight {
            return status;
        }
        pick -= weight;
    }
    table[0].0
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Writes the response that `plan` describes into `buf`; `unix_secs` feeds the Date header.
pub(crate) fn write_response(
    rng: &mut Rng,
    bodies: &Bodies,
    buf: &mut Vec<u8>,
    plan: &Plan,
    unix_secs: u64,
) {
    let (content_type, body): (&str, &[u8]) = match (plan.status, plan.route) {
        (204 | 301, _) => ("", b""),
        (404, _) => ("application/json", b"{\"error\":\"not found\"}"),
        (500, _) => ("application/json", b"{\"error\":\"internal server error\"}"),
        (503, _) => (
            "application/json",
            b"{\"error\":\"upstream unavailable\",\"retry_after\":2}",
        ),
        (_, Route::ProductList) => ("application/json", pick(rng, &bodies.product_pages)),
        (_, Route::Product) => ("application/json", pick(rng, &bodies.products)),
        (_, Route::Cart | Route::UpdateItem | Route::AddItem | Route::Order) => {
            ("application/json", pick(rng, &bodies.carts))
        }
        (_, Route::Metrics) => ("text/plain; version=0.0.4", &bodies.metrics),
        _ => ("text/plain", b"ok"),
    };
    push(
        buf,
        format_args!("HTTP/1.1 {} {}\r\nDate: ", plan.status, reason(plan.status)),
    );
    http_date(buf, unix_secs);
    push(
        buf,
        format_args!("\r\nX-Request-Id: {:016x}\r\n", plan.request_id),
    );
    if plan.status == 301 {
        buf.extend_from_slice(b"Location: /shop/\r\n");
    }
    if plan.close {
        buf.extend_from_slice(b"Connection: close\r\n");
    }
    if !content_type.is_empty() {
        push(buf, format_args!("Content-Type: {content_type}\r\n"));
    }
    if plan.status == 204 {
        buf.extend_from_slice(b"\r\n");
    } else if plan.chunked {
        buf.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
        let mut rest = body;
        while !rest.is_empty() {
            let n = (rng.range(512, 4096) as usize).min(rest.len());
            push(buf, format_args!("{n:x}\r\n"));
            buf.extend_from_slice(&rest[..n]);
            buf.extend_from_slice(b"\r\n");
            rest = &rest[n..];
        }
        buf.extend_from_slice(b"0\r\n\r\n");
    } else {
        push(buf, format_args!("Content-Length: {}\r\n\r\n", body.len()));
        buf.extend_from_slice(body);
    }
}

fn pick<'a>(rng: &mut Rng, pool: &'a [Vec<u8>]) -> &'a [u8] {
    &pool[rng.below(pool.len() as u64) as usize]
}

/// Appends an IMF-fixdate (`Tue, 15 Nov 1994 08:12:31 GMT`) for `unix_secs`.
fn http_date(buf: &mut Vec<u8>, unix_secs: u64) {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix_secs / 86_400;
    let secs = unix_secs % 86_400;
    // Civil date from days since 1970-01-01 (proleptic Gregorian, 400-year eras).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    push(
        buf,
        format_args!(
            "{}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
            DAYS[(days % 7) as usize],
            MONTHS[(month - 1) as usize],
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_match_known_values() {
        let mut b = Vec::new();
        http_date(&mut b, 784_887_151);
        assert_eq!(b, b"Tue, 15 Nov 1994 08:12:31 GMT");
        b.clear();
        http_date(&mut b, 1_709_210_096);
        assert_eq!(b, b"Thu, 29 Feb 2024 12:34:56 GMT");
    }

    #[test]
    fn requests_and_responses_are_well_framed() {
        let mut rng = Rng::new(3);
        let bodies = Bodies::new(&mut rng);
        for _ in 0..500 {
            let mut req = Vec::new();
            let plan = write_request(&mut rng, &bodies, &mut req, false);
            let text = String::from_utf8(req).unwrap();
            let (head, body) = text.split_once("\r\n\r\n").unwrap();
            if let Some(len) = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
            {
                assert_eq!(len.parse::<usize>().unwrap(), body.len());
            } else {
                assert!(body.is_empty());
            }
            let mut resp = Vec::new();
            write_response(&mut rng, &bodies, &mut resp, &plan, 1_750_000_000);
            let text = String::from_utf8(resp).unwrap();
            assert!(text.starts_with(&format!("HTTP/1.1 {} ", plan.status)));
            let (head, body) = text.split_once("\r\n\r\n").unwrap();
            if plan.chunked {
                assert!(body.ends_with("0\r\n\r\n"));
            } else if let Some(len) = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
            {
                assert_eq!(len.parse::<usize>().unwrap(), body.len());
            } else {
                assert!(body.is_empty());
            }
        }
    }
}
