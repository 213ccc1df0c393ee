//! The detail view of one exchange: request and response with headers and
//! body previews, the timing breakdown and the flow it ran on.
//!
//! Secret headers are masked unless the user asked to see them; bodies are
//! pretty JSON when they say so and parse, text when they are text, and a
//! hex dump otherwise. All of it is captured data, so all of it is sanitized.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{View, key_hint, pane_block, units};
use crate::decode::flow::FlowInfo;
use crate::decode::http::{BodyFraming, Exchange, Header, Message};
use crate::keys::Action;
use crate::store::ExchangeRow;
use crate::text::sanitize;
use crate::wire::Nanos;

/// What a masked value looks like.
pub const MASK: &str = "••••••";

/// Bytes of a binary body per hex dump line.
const HEX_WIDTH: usize = 16;

/// Whether a header carries credentials (Authorization, cookies, API keys, tokens).
pub fn is_secret(name: &str) -> bool {
    let n = name.trim().to_ascii_lowercase();
    matches!(
        n.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
    ) || [
        "api-key", "apikey", "api_key", "token", "secret", "password", "session",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// Draws the detail view of the selected exchange.
pub(crate) fn render(frame: &mut Frame, area: Rect, v: &View) {
    let app = v.app;
    let t = v.theme;
    let id = app.selected;
    let secrets = if app.show_secrets { "mask" } else { "show" };
    let title = Line::from(vec![
        Span::styled(" Exchange ", t.title),
        Span::raw(id.map_or_else(String::new, |id| format!("#{id} "))),
        Span::styled(
            format!(
                "· {} back · {} {secrets} secrets ",
                key_hint(app, Action::Back),
                key_hint(app, Action::ToggleSecrets)
            ),
            t.dim,
        ),
    ]);
    let block = pane_block(title, true, t);
    let row = id.and_then(|id| app.exchanges.get(id));
    let lines = match (row, id.and_then(|id| app.exchanges.detail(id))) {
        (Some(row), Some(x)) => exchange_lines(row, x, v),
        (Some(row), None) => {
            let mut l = vec![
                Line::styled(
                    "The headers and bodies of this exchange were evicted: only the newest \
                     exchanges keep them (caps.details in the config file).",
                    t.warn,
                ),
                Line::raw(""),
            ];
            l.push(Line::raw(format!(
                "{} {} {}",
                sanitize(app.exchanges.text(row.method)),
                sanitize(app.exchanges.path(row)),
                row.status.map_or_else(|| "-".to_owned(), |s| s.to_string())
            )));
            l.extend(timing_lines(row, None, v));
            l.extend(flow_lines(row, v));
            l
        }
        _ => vec![Line::styled(
            "This exchange was evicted; nothing is kept of it.",
            t.warn,
        )],
    };
    let para = Paragraph::new(lines)
        .block(block)
        .wrap(Wrap { trim: false })
        .scroll((app.detail_scroll, 0));
    frame.render_widget(para, area);
}

fn heading(text: impl Into<String>, style: Style) -> Line<'static> {
    Line::styled(text.into(), style)
}

fn exchange_lines(row: &ExchangeRow, x: &Exchange, v: &View) -> Vec<Line<'static>> {
    let t = v.theme;
    let req = &x.request;
    let mut l = Vec::new();
    l.push(Line::from(vec![
        Span::styled(sanitize(&req.method).into_owned(), t.heading),
        Span::raw(" "),
        Span::raw(sanitize(&req.path).into_owned()),
        Span::raw(format!(" HTTP/1.{}", req.message.version)),
    ]));
    header_lines(&req.message.headers, v, &mut l);
    body_lines("Request body", &req.message, v, &mut l);
    l.push(Line::raw(""));
    match &x.response {
        Some(resp) => {
            let mut status = vec![
                Span::raw(format!("HTTP/1.{} ", resp.message.version)),
                Span::styled(resp.status.to_string(), t.status(Some(resp.status))),
                Span::raw(" "),
                Span::raw(sanitize(&resp.reason).into_owned()),
            ];
            if !resp.interim.is_empty() {
                let interim: Vec<String> = resp.interim.iter().map(u16::to_string).collect();
                status.push(Span::styled(
                    format!("  (after {})", interim.join(", ")),
                    t.dim,
                ));
            }
            l.push(Line::from(status));
            header_lines(&resp.message.headers, v, &mut l);
            body_lines("Response body", &resp.message, v, &mut l);
        }
        None => l.push(heading(
            "No response (the flow ended or the capture did first).",
            t.warn,
        )),
    }
    l.push(Line::raw(""));
    l.extend(timing_lines(row, Some(x), v));
    l.extend(flow_lines(row, v));
    l
}

fn header_lines(headers: &[Header], v: &View, out: &mut Vec<Line<'static>>) {
    let t = v.theme;
    for h in headers {
        let value = if !v.app.show_secrets && is_secret(&h.name) {
            Span::styled(MASK, t.masked)
        } else {
            Span::raw(sanitize(&h.value).into_owned())
        };
        out.push(Line::from(vec![
            Span::styled(sanitize(&h.name).into_owned(), t.key),
            Span::raw(": "),
            value,
        ]));
    }
}

fn framing(m: &Message) -> &'static str {
    match m.framing {
        BodyFraming::None => "",
        BodyFraming::Length => "content-length",
        BodyFraming::Chunked => "chunked",
        BodyFraming::Close => "until close",
    }
}

fn body_lines(what: &str, m: &Message, v: &View, out: &mut Vec<Line<'static>>) {
    let t = v.theme;
    if m.body_len == 0 && m.body_preview.is_empty() {
        return;
    }
    let mut about = format!("── {what}: {}", units::bytes(m.body_len));
    for note in [
        framing(m),
        if m.body_truncated {
            "preview truncated"
        } else {
            ""
        },
        if m.complete { "" } else { "incomplete" },
    ] {
        if !note.is_empty() {
            about.push_str(", ");
            about.push_str(note);
        }
    }
    out.push(Line::raw(""));
    out.push(heading(about, t.heading));
    let body = &m.body_preview;
    let json = m
        .content_type
        .as_deref()
        .is_some_and(|c| c.to_ascii_lowercase().contains("json"));
    if json
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(body)
        && let Ok(pretty) = serde_json::to_string_pretty(&value)
    {
        out.extend(text_lines(&pretty));
    } else if let Some(text) = as_text(body) {
        out.extend(text_lines(text));
    } else {
        out.extend(hex_lines(body, t.dim));
    }
}

/// The body as text, when it is UTF-8 (a character cut by the preview's end
/// is allowed) without much binary control.
fn as_text(body: &[u8]) -> Option<&str> {
    let text = match std::str::from_utf8(body) {
        Ok(s) => s,
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&body[..e.valid_up_to()]).ok()?,
        Err(_) => return None,
    };
    let binary = text
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        .count();
    (binary * 20 <= text.chars().count()).then_some(text)
}

fn text_lines(text: &str) -> impl Iterator<Item = Line<'static>> + '_ {
    text.lines()
        .map(|line| Line::raw(sanitize(&line.replace('\t', "    ")).into_owned()))
}

fn hex_lines(body: &[u8], ascii_style: Style) -> Vec<Line<'static>> {
    body.chunks(HEX_WIDTH)
        .enumerate()
        .map(|(i, chunk)| {
            let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
            let ascii: String = chunk
                .iter()
                .map(|b| {
                    if b.is_ascii_graphic() || *b == b' ' {
                        char::from(*b)
                    } else {
                        '.'
                    }
                })
                .collect();
            Line::from(vec![
                Span::raw(format!(
                    "{:04x}  {:<w$}  ",
                    i * HEX_WIDTH,
                    hex.join(" "),
                    w = HEX_WIDTH * 3 - 1
                )),
                Span::styled(ascii, ascii_style),
            ])
        })
        .collect()
}

fn timing_lines(row: &ExchangeRow, x: Option<&Exchange>, v: &View) -> Vec<Line<'static>> {
    let t = v.theme;
    let mut l = vec![heading("── Timing", t.heading)];
    let start = row.ts;
    let mut at = |what: &str, ts: Nanos| {
        l.push(Line::from(vec![
            Span::styled(format!("{what:<22}"), t.key),
            Span::raw(units::clock(ts)),
            Span::styled(format!("  +{}", units::duration(ts.since(start))), t.dim),
        ]));
    };
    match x {
        Some(x) => {
            at("request first byte", x.request.message.first_byte);
            at("request last byte", x.request.message.last_byte);
            if let Some(r) = &x.response {
                at("response first byte", r.message.first_byte);
                at("response last byte", r.message.last_byte);
            }
        }
        None => at("request first byte", start),
    }
    l.push(Line::from(vec![
        Span::styled(format!("{:<22}", "latency"), t.key),
        Span::raw(units::opt_duration(row.latency)),
        Span::styled("  (request end to response start)", t.dim),
    ]));
    l.push(Line::from(vec![
        Span::styled(format!("{:<22}", "total"), t.key),
        Span::raw(units::opt_duration(row.total)),
        Span::styled("  (request start to response end)", t.dim),
    ]));
    l
}

fn flow_lines(row: &ExchangeRow, v: &View) -> Vec<Line<'static>> {
    let t = v.theme;
    let id = crate::decode::flow::FlowId(row.flow);
    let mut l = vec![
        Line::raw(""),
        heading(format!("── Flow {}", row.flow), t.heading),
    ];
    l.push(Line::raw(format!("{} → {}", row.client, row.server)));
    match v.app.flows.get(id) {
        Some(f) => l.extend(flow_detail(f, v)),
        None => l.push(Line::styled("(the flow is no longer kept)", t.dim)),
    }
    l
}

fn flow_detail(f: &FlowInfo, v: &View) -> Vec<Line<'static>> {
    let t = v.theme;
    let mut state = format!("{} {}", f.proto.as_str(), f.state.as_str());
    if f.midstream {
        state.push_str(" (capture joined mid-stream)");
    }
    if let Some(r) = v.app.flows.end_reason(f.id) {
        state.push_str(", ended: ");
        state.push_str(r.as_str());
    }
    let side = |name: &str, i: usize| {
        let s = &f.sides[i];
        Line::from(vec![
            Span::styled(format!("{name:<22}"), t.key),
            Span::raw(format!(
                "{} packets, {}, {} retransmitted, {} resets",
                s.packets,
                units::bytes(s.bytes),
                s.retransmissions,
                s.resets
            )),
        ])
    };
    vec![
        Line::raw(state),
        side("client → server", 0),
        side("server → client", 1),
        Line::from(vec![
            Span::styled(format!("{:<22}", "handshake rtt"), t.key),
            Span::raw(format!(
                "{} to server, {} to client",
                units::opt_duration(f.rtt_syn_synack),
                units::opt_duration(f.rtt_synack_ack)
            )),
        ]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_headers() {
        for h in [
            "Authorization",
            "cookie",
            "Set-Cookie",
            "Proxy-Authorization",
            "X-Api-Key",
            "api-key",
            "X-Auth-Token",
            "x-csrf-token",
        ] {
            assert!(is_secret(h), "{h}");
        }
        for h in ["Host", "Content-Type", "Accept", "User-Agent"] {
            assert!(!is_secret(h), "{h}");
        }
    }

    #[test]
    fn text_or_binary() {
        assert_eq!(as_text(b"hello\n"), Some("hello\n"));
        assert_eq!(as_text("caf\u{e9}".as_bytes()[..4].as_ref()), Some("caf"));
        assert_eq!(as_text(&[0, 1, 2, 3, 0xff]), None);
        assert_eq!(hex_lines(b"AB\x00", Style::new()).len(), 1);
    }
}
