//! Store tests; `event` builds exchanges for them and for the filter's tests.

mod exchanges;
mod flows;
mod pings;

pub(crate) use flows::flow;

use std::net::SocketAddr;

use crate::decode::ExchangeEvent;
use crate::decode::flow::FlowId;
use crate::decode::http::{BodyFraming, Exchange, Header, Message, Request, Response};
use crate::wire::Nanos;

fn message(first: u64, last: u64, body: u64) -> Message {
    Message {
        version: 1,
        headers: vec![Header {
            name: "Content-Type".into(),
            value: "application/json".into(),
        }],
        content_type: Some("application/json".into()),
        content_length: Some(body),
        framing: BodyFraming::Length,
        body_len: body,
        body_preview: vec![b'x'; body.min(64) as usize],
        body_truncated: body > 64,
        first_byte: Nanos(first),
        last_byte: Nanos(last),
        complete: true,
    }
}

/// An exchange: request at t=1000 ns (ends 2000), response `latency_ns` later when `status` is set.
pub(crate) fn event(
    method: &str,
    host: Option<&str>,
    path: &str,
    status: Option<u16>,
    latency_ns: u64,
    client: &str,
    server: &str,
) -> ExchangeEvent {
    let client: SocketAddr = client.parse().unwrap();
    let server: SocketAddr = server.parse().unwrap();
    ExchangeEvent {
        exchange: Exchange {
            flow: FlowId(7),
            request: Request {
                method: method.into(),
                path: path.into(),
                host: host.map(Into::into),
                message: message(1000, 2000, 10),
            },
            response: status.map(|s| Response {
                status: s,
                reason: "Reason".into(),
                interim: Vec::new(),
                message: message(2000 + latency_ns, 3000 + latency_ns, 100),
            }),
        },
        client,
        server,
    }
}

/// A plain GET for `path` on `host`.
pub(crate) fn get(host: &str, path: &str) -> ExchangeEvent {
    event(
        "GET",
        Some(host),
        path,
        Some(200),
        5_000_000,
        "10.244.0.5:40000",
        "10.96.0.10:8080",
    )
}
