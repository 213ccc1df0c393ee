//! Snapshots of the TUI's screens, rendered into a `TestBackend` from an
//! `App` fed with hand-made events (fixed ids, times, hosts and paths).
#![cfg(feature = "tui")]

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use podtap::app::{App, AppEvent};
use podtap::config::Config;
use podtap::decode::ExchangeEvent;
use podtap::decode::flow::{FlowId, FlowInfo, FlowState, Proto};
use podtap::decode::http::{BodyFraming, Exchange, Header, Message, Request, Response};
use podtap::source::{SourceEvent, SourceStats};
use podtap::ui::{Theme, render_with};
use podtap::wire::Nanos;
use podtap::wire::agent::{AgentMessage, ProbeKind, ProbeOutcome, ProbeResult};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// 2023-11-14 22:13:20 UTC, in ns.
const BASE: u64 = 1_700_000_000_000_000_000;
const MS: u64 = 1_000_000;
const POD: &str = "10.244.1.7";

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn key(c: char) -> AppEvent {
    AppEvent::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(c: KeyCode) -> AppEvent {
    AppEvent::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

fn message(
    headers: &[(&str, &str)],
    ctype: Option<&str>,
    body: &[u8],
    first: u64,
    last: u64,
) -> Message {
    Message {
        version: 1,
        headers: headers
            .iter()
            .map(|(n, v)| Header {
                name: (*n).into(),
                value: (*v).into(),
            })
            .collect(),
        content_type: ctype.map(Into::into),
        content_length: Some(body.len() as u64),
        framing: if body.is_empty() {
            BodyFraming::None
        } else {
            BodyFraming::Length
        },
        body_len: body.len() as u64,
        body_preview: body.to_vec(),
        body_truncated: false,
        first_byte: Nanos(first),
        last_byte: Nanos(last),
        complete: true,
    }
}

/// One exchange at `at` ms after BASE, answered after `latency_ms` (no response when `status` is 0).
struct Ex<'a> {
    flow: u64,
    client: &'a str,
    method: &'a str,
    host: &'a str,
    path: &'a str,
    req_headers: &'a [(&'a str, &'a str)],
    req_body: &'a [u8],
    status: u16,
    reason: &'a str,
    ctype: Option<&'a str>,
    body: &'a [u8],
    at: u64,
    latency_ms: u64,
}

impl Ex<'_> {
    fn event(&self) -> SourceEvent {
        let start = BASE + self.at * MS;
        let req_end = start + MS;
        let mut headers = vec![("Host", self.host)];
        headers.extend_from_slice(self.req_headers);
        let request = Request {
            method: self.method.into(),
            path: self.path.into(),
            host: Some(self.host.into()),
            message: message(&headers, None, self.req_body, start, req_end),
        };
        let response = (self.status != 0).then(|| {
            let first = req_end + self.latency_ms * MS;
            let mut h = vec![("Content-Length", "0")];
            if let Some(c) = self.ctype {
                h.push(("Content-Type", c));
            }
            h.push(("Set-Cookie", "sid=s3cr3t; HttpOnly"));
            Response {
                status: self.status,
                reason: self.reason.into(),
                interim: vec![],
                message: message(&h, self.ctype, self.body, first, first + 2 * MS),
            }
        });
        SourceEvent::Exchange(Box::new(ExchangeEvent {
            exchange: Exchange {
                flow: FlowId(self.flow),
                request,
                response,
            },
            client: sa(self.client),
            server: sa(&format!("{POD}:8080")),
        }))
    }
}

const CART_JSON: &[u8] = br#"{"items":[{"sku":"A1","qty":2},{"sku":"B7","qty":1}],"total":19.99}"#;
const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00";

fn exchanges() -> Vec<SourceEvent> {
    let auth = [
        ("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig"),
        ("Cookie", "session=abc123"),
        ("X-Api-Key", "k-live-123456"),
        ("Accept", "application/json"),
    ];
    let c1 = "10.0.3.7:41234";
    let c2 = "10.0.3.8:40000";
    let mut v = Vec::new();
    for i in 0..14u64 {
        let path = format!("/api/items/{i}?fields=name,price");
        v.push(
            Ex {
                flow: 9,
                client: c2,
                method: "GET",
                host: "catalog.shop.svc",
                path: &path,
                req_headers: &[],
                req_body: b"",
                status: 200,
                reason: "OK",
                ctype: Some("application/json"),
                body: br#"{"name":"mug","price":7}"#,
                at: i * 40,
                latency_ms: 3 + i,
            }
            .event(),
        );
    }
    let rows: [Ex; 7] = [
        Ex {
            flow: 7,
            client: c1,
            method: "POST",
            host: "shop.example.com",
            path: "/api/checkout",
            req_headers: &[("Content-Type", "application/json")],
            req_body: br#"{"cart":42}"#,
            status: 201,
            reason: "Created",
            ctype: Some("application/json"),
            body: br#"{"order":"o-1001"}"#,
            at: 1000,
            latency_ms: 48,
        },
        Ex {
            flow: 7,
            client: c1,
            method: "GET",
            host: "shop.example.com",
            path: "/healthz",
            req_headers: &[],
            req_body: b"",
            status: 204,
            reason: "No Content",
            ctype: None,
            body: b"",
            at: 1100,
            latency_ms: 0,
        },
        Ex {
            flow: 9,
            client: c2,
            method: "GET",
            host: "shop.example.com",
            path: "/old-cart",
            req_headers: &[],
            req_body: b"",
            status: 302,
            reason: "Found",
            ctype: None,
            body: b"",
            at: 1200,
            latency_ms: 1,
        },
        Ex {
            flow: 9,
            client: c2,
            method: "DELETE",
            host: "shop.example.com",
            path: "/api/cart/42",
            req_headers: &[],
            req_body: b"",
            status: 404,
            reason: "Not Found",
            ctype: Some("text/plain"),
            body: b"no such cart\n",
            at: 1300,
            latency_ms: 2,
        },
        Ex {
            flow: 7,
            client: c1,
            method: "GET",
            host: "shop.example.com",
            path: "/static/logo.png",
            req_headers: &[],
            req_body: b"",
            status: 200,
            reason: "OK",
            ctype: Some("image/png"),
            body: PNG,
            at: 1400,
            latency_ms: 5,
        },
        Ex {
            flow: 9,
            client: c2,
            method: "POST",
            host: "shop.example.com",
            path: "/api/upload",
            req_headers: &[],
            req_body: b"xxxx",
            status: 0,
            reason: "",
            ctype: None,
            body: b"",
            at: 1500,
            latency_ms: 0,
        },
        Ex {
            flow: 7,
            client: c1,
            method: "GET",
            host: "shop.example.com",
            path: "/api/cart",
            req_headers: &auth,
            req_body: b"",
            status: 500,
            reason: "Internal Server Error",
            ctype: Some("application/json"),
            body: CART_JSON,
            at: 1600,
            latency_ms: 1234,
        },
    ];
    v.extend(rows.iter().map(Ex::event));
    v
}

fn flows() -> Vec<FlowInfo> {
    let mut inbound = FlowInfo::new(
        FlowId(7),
        Proto::Tcp,
        sa("10.0.3.7:41234"),
        sa("10.244.1.7:8080"),
        Nanos(BASE),
    );
    inbound.midstream = false;
    inbound.last_seen = Nanos(BASE + 2900 * MS);
    inbound.sides[0].packets = 42;
    inbound.sides[0].bytes = 9_800;
    inbound.sides[1].packets = 40;
    inbound.sides[1].bytes = 48_200;
    inbound.sides[1].retransmissions = 2;
    inbound.rtt_syn_synack = Some(Nanos(120_000));
    inbound.rtt_synack_ack = Some(Nanos(380_000));
    let mut db = FlowInfo::new(
        FlowId(8),
        Proto::Tcp,
        sa("10.244.1.7:52100"),
        sa("10.96.14.3:5432"),
        Nanos(BASE + 500 * MS),
    );
    db.midstream = false;
    db.state = FlowState::Reset;
    db.last_seen = Nanos(BASE + 1600 * MS);
    db.sides[0].packets = 12;
    db.sides[0].bytes = 2_100;
    db.sides[1].packets = 9;
    db.sides[1].bytes = 1_300;
    db.sides[1].resets = 1;
    db.rtt_syn_synack = Some(Nanos(850_000));
    let mut other = FlowInfo::new(
        FlowId(9),
        Proto::Tcp,
        sa("10.0.3.8:40000"),
        sa("10.244.1.7:8080"),
        Nanos(BASE),
    );
    other.last_seen = Nanos(BASE + 3000 * MS);
    other.sides[0].packets = 30;
    other.sides[0].bytes = 6_000;
    other.sides[1].packets = 28;
    other.sides[1].bytes = 21_000;
    let dns = FlowInfo::new(
        FlowId(10),
        Proto::Udp,
        sa("10.244.1.7:33000"),
        sa("10.96.0.10:53"),
        Nanos(BASE + 10 * MS),
    );
    vec![inbound, db, other, dns]
}

fn probes() -> Vec<SourceEvent> {
    let mut v = Vec::new();
    for seq in 0..40u64 {
        let lost = seq % 13 == 7;
        let rtt = 400_000 + (seq * 37 % 11) * 90_000;
        v.push(SourceEvent::Probe(ProbeResult {
            target: "10.96.0.10".into(),
            kind: ProbeKind::Icmp,
            addr: Some("10.96.0.10".into()),
            seq,
            sent_ns: BASE + seq * 1000 * MS,
            outcome: if lost {
                ProbeOutcome::Timeout
            } else {
                ProbeOutcome::Reply
            },
            rtt_ns: (!lost).then_some(rtt),
            detail: None,
        }));
        v.push(SourceEvent::Probe(ProbeResult {
            target: "db:5432".into(),
            kind: ProbeKind::Tcp,
            addr: Some("10.96.14.3".into()),
            seq,
            sent_ns: BASE + seq * 1000 * MS + 5 * MS,
            outcome: if seq >= 36 {
                ProbeOutcome::Refused
            } else {
                ProbeOutcome::Reply
            },
            rtt_ns: (seq < 36).then_some(1_200_000 + seq * 20_000),
            detail: None,
        }));
    }
    v
}

fn stats(packets: u64, bytes: u64) -> SourceEvent {
    let mut s = SourceStats {
        packets,
        bytes,
        capture_dropped: 3,
        channel_dropped: 0,
        ..SourceStats::default()
    };
    s.pipeline.decode.insert("ipv4_bad_header", 2);
    SourceEvent::Stats(Box::new(s))
}

/// An app with HTTP exchanges, flows, pings and counters.
fn demo_app() -> (App, Instant) {
    let now = Instant::now();
    let mut app = App::new("demo", &Config::default());
    let hello = AgentMessage::Hello {
        version: "0.1.0".into(),
        hostname: "shop-7d9f".into(),
        interfaces: vec!["eth0".into(), "lo".into()],
        capabilities: vec!["net_raw".into()],
        snaplen: 65535,
    };
    app.update(AppEvent::Source(SourceEvent::Agent(hello)), now);
    app.update(
        AppEvent::Source(SourceEvent::Flows {
            flows: flows(),
            full: true,
        }),
        now,
    );
    for e in exchanges().into_iter().chain(probes()) {
        app.update(AppEvent::Source(e), now);
    }
    app.update(AppEvent::Source(stats(1_000, 1_000_000)), now);
    app.update(
        AppEvent::Source(stats(2_200, 1_450_000)),
        now + Duration::from_secs(1),
    );
    (app, now)
}

fn press(app: &mut App, now: Instant, events: impl IntoIterator<Item = AppEvent>) {
    for e in events {
        app.update(e, now);
    }
}

fn draw(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|f| render_with(f, app, &Theme::default_colors()))
        .unwrap();
    terminal
}

/// The screen as text, one line per row, trailing blanks trimmed.
fn screen(app: &App, width: u16, height: u16) -> String {
    let terminal = draw(app, width, height);
    common::buffer_text(terminal.backend().buffer())
}

#[test]
fn empty_app() {
    let app = App::new("demo", &Config::default());
    insta::assert_snapshot!(screen(&app, 80, 24));
}

#[test]
fn http_80x24() {
    let (app, _) = demo_app();
    insta::assert_snapshot!(screen(&app, 80, 24));
}

#[test]
fn all_panes_250x70() {
    let (app, _) = demo_app();
    insta::assert_snapshot!(screen(&app, 250, 70));
}

#[test]
fn flows_pane() {
    let (mut app, now) = demo_app();
    press(&mut app, now, [key('2')]);
    insta::assert_snapshot!(screen(&app, 100, 16));
}

#[test]
fn ping_pane_with_chart() {
    let (mut app, now) = demo_app();
    press(&mut app, now, [key('3')]);
    insta::assert_snapshot!(screen(&app, 100, 30));
}

#[test]
fn ping_pane_sparkline_80x12() {
    let (mut app, now) = demo_app();
    press(&mut app, now, [key('3'), key('j')]);
    insta::assert_snapshot!(screen(&app, 80, 12));
}

#[test]
fn detail_masks_secrets() {
    let (mut app, now) = demo_app();
    press(&mut app, now, [code(KeyCode::Enter)]);
    let masked = screen(&app, 100, 60);
    assert!(!masked.contains("eyJhbGci"), "{masked}");
    assert!(!masked.contains("abc123"));
    assert!(!masked.contains("k-live"));
    assert!(!masked.contains("s3cr3t"));
    insta::assert_snapshot!("detail_masked", masked);
    press(&mut app, now, [key('r')]);
    let shown = screen(&app, 100, 60);
    assert!(shown.contains("Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig"));
    insta::assert_snapshot!("detail_secrets_shown", shown);
}

#[test]
fn detail_binary_body_80x24() {
    let (mut app, now) = demo_app();
    // Newest first: the PNG exchange is the third row.
    press(
        &mut app,
        now,
        [
            key('j'),
            key('j'),
            code(KeyCode::Enter),
            key('j'),
            key('j'),
            key('j'),
            key('j'),
            key('j'),
            key('j'),
        ],
    );
    insta::assert_snapshot!(screen(&app, 80, 24));
}

#[test]
fn filter_bar_valid() {
    let (mut app, now) = demo_app();
    press(&mut app, now, [key('/')]);
    press(&mut app, now, "status:5xx".chars().map(key));
    insta::assert_snapshot!(screen(&app, 80, 24));
}

#[test]
fn filter_bar_invalid() {
    let (mut app, now) = demo_app();
    press(&mut app, now, [key('/')]);
    press(&mut app, now, "method:GET stauts:5xx".chars().map(key));
    assert!(app.filter_error.is_some());
    insta::assert_snapshot!(screen(&app, 80, 24));
}

#[test]
fn filter_applied() {
    let (mut app, now) = demo_app();
    press(&mut app, now, [key('/')]);
    press(&mut app, now, "method:POST".chars().map(key));
    press(&mut app, now, [code(KeyCode::Enter)]);
    insta::assert_snapshot!(screen(&app, 80, 24));
}

#[test]
fn help_popup() {
    let (mut app, now) = demo_app();
    press(&mut app, now, [key('?')]);
    insta::assert_snapshot!(screen(&app, 80, 24));
}

#[test]
fn escape_sequences_never_reach_the_buffer() {
    let hostile = "\x1b]0;pwned\x07";
    let now = Instant::now();
    let mut app = App::new("demo", &Config::default());
    let path = format!("/x{hostile}/\u{202e}gpj.exe");
    let headers = [
        ("X-Note", hostile),
        ("X-Trace\x1b[31m", "red\x1b[0m"),
        ("X-Hidden", "a\u{200b}b\u{2066}"),
    ];
    let ex = Ex {
        flow: 1,
        client: "10.0.3.7:41234",
        method: "GET",
        host: "evil\x1b[2J.example",
        path: &path,
        req_headers: &headers,
        req_body: b"",
        status: 200,
        reason: "OK\x1b[H",
        ctype: Some("text/plain"),
        body: "body \x1b]0;pwned\x07 \u{202e}text\n".as_bytes(),
        at: 0,
        latency_ms: 1,
    };
    app.update(AppEvent::Source(ex.event()), now);
    for (w, h, keys) in [
        (250, 70, vec![]),
        (80, 24, vec![code(KeyCode::Enter), key('r')]),
    ] {
        press(&mut app, now, keys);
        let terminal = draw(&app, w, h);
        let buf = terminal.backend().buffer();
        for cell in &buf.content {
            assert!(
                !cell
                    .symbol()
                    .chars()
                    .any(|c| c.is_control() || matches!(c, '\u{200b}' | '\u{202e}' | '\u{2066}')),
                "control or reordering character in cell {:?}",
                cell.symbol()
            );
        }
    }
    let text = screen(&app, 120, 40);
    assert!(text.contains("X-Note: \\x1b]0;pwned\\x07"), "{text}");
    assert!(text.contains("/\\u{202e}gpj.exe"), "{text}");
}

#[test]
fn tiny_and_odd_sizes_do_not_panic() {
    let (mut app, now) = demo_app();
    let empty = App::new("demo", &Config::default());
    let mut states: Vec<Vec<AppEvent>> = vec![
        vec![],
        vec![key('2')],
        vec![key('3')],
        vec![key('1'), code(KeyCode::Enter)],
        vec![code(KeyCode::Esc), key('?')],
        vec![code(KeyCode::Esc), key('/'), key('x'), key(':')],
        vec![code(KeyCode::Esc), key('p'), key('d')],
    ];
    // Every size up to 12x12, then a spread of wider ones (each render costs
    // a debug build a few milliseconds).
    let sizes: Vec<(u16, u16)> = (1..=12)
        .flat_map(|w| (0..=12).map(move |h| (w, h)))
        .chain(
            [17, 21, 26, 30]
                .into_iter()
                .flat_map(|w| [0, 1, 2, 3, 5, 8, 12].map(|h| (w, h))),
        )
        .collect();
    for &(w, h) in &sizes {
        let _ = screen(&empty, w, h);
    }
    for keys in states.drain(..) {
        press(&mut app, now, keys);
        for &(w, h) in &sizes {
            let _ = screen(&app, w, h);
        }
        let _ = screen(&app, 0, 0);
        let _ = screen(&app, 0, 5);
        let _ = screen(&app, 160, 40);
    }
}

#[test]
fn page_rows_follow_the_layout() {
    use ratatui::layout::Rect;
    assert_eq!(podtap::ui::layout_page_rows(Rect::new(0, 0, 80, 24)), 19);
    assert_eq!(podtap::ui::layout_page_rows(Rect::new(0, 0, 0, 0)), 1);
    assert!(podtap::ui::layout_page_rows(Rect::new(0, 0, 250, 70)) > 30);
}

/// The first line of `screen` holding `text`, and its row.
fn find_row(screen: &str, text: &str) -> Option<(u16, String)> {
    screen
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(text))
        .map(|(y, l)| (u16::try_from(y).unwrap(), l.to_owned()))
}

/// Clicks go where they land on the drawn screen: a tab focuses its pane, a
/// row selects that row (and the HTTP pane stops following).
#[test]
fn clicks_select_rows_and_focus_panes() {
    use podtap::ui::{Click, click_at};
    let (mut app, now) = demo_app();
    app.update(AppEvent::Tick, now);
    let area = ratatui::layout::Rect::new(0, 0, 80, 24);
    let before = screen(&app, 80, 24);
    // The third row of the HTTP list (newest first).
    let (y, line) = before
        .lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with('│') && l.contains(':'))
        .nth(2)
        .map(|(y, l)| (u16::try_from(y).unwrap(), l.to_owned()))
        .expect("three HTTP rows");
    let click = click_at(area, &app, 20, y).expect("a row");
    assert_eq!(click, Click::Row(podtap::app::Pane::Http, 2));
    press(&mut app, now, [AppEvent::Click(click)]);
    assert!(!app.follow);
    let opened = {
        press(&mut app, now, [code(KeyCode::Enter)]);
        screen(&app, 80, 24)
    };
    // The detail view is of the clicked exchange: its path is in the title area.
    let path = line
        .split_whitespace()
        .nth(3)
        .expect("a path column")
        .to_owned();
    assert!(
        opened.contains(&path),
        "clicked {line:?}, opened:\n{opened}"
    );
    press(&mut app, now, [code(KeyCode::Esc)]);

    // The tab bar: "2 Flows" focuses the flows pane.
    let (tabs_y, tabs) = find_row(&screen(&app, 80, 24), "2 Flows").expect("tabs");
    let x = u16::try_from(tabs.find("2 Flows").unwrap()).unwrap();
    let click = click_at(area, &app, x + 1, tabs_y).expect("a tab");
    assert_eq!(click, Click::Pane(podtap::app::Pane::Flows));
    press(&mut app, now, [AppEvent::Click(click)]);
    assert_eq!(app.focus, podtap::app::Pane::Flows);
    // Its second row.
    let flows = screen(&app, 80, 24);
    let (header_y, _) = find_row(&flows, "Bytes out/in").expect("flows header");
    let click = click_at(area, &app, 10, header_y + 2).expect("a flow row");
    assert_eq!(click, Click::Row(podtap::app::Pane::Flows, 1));
    press(&mut app, now, [AppEvent::Click(click)]);
    assert_eq!(app.flow_selected, 1);
    // The border and the status bar are not rows.
    assert_eq!(
        click_at(area, &app, 0, header_y + 2),
        Some(Click::Pane(podtap::app::Pane::Flows))
    );
    assert_eq!(click_at(area, &app, 5, 23), None);

    // All panes at once: a click in the ping pane focuses it.
    let wide = ratatui::layout::Rect::new(0, 0, 250, 70);
    assert_eq!(
        click_at(wide, &app, 240, 60),
        Some(Click::Pane(podtap::app::Pane::Ping))
    );
}

/// Colours and modifiers, not only text: the header, the selected row,
/// status classes, dimmed cells, in every pane (ratatui's buffer dump lists
/// each change of style with its position).
#[test]
fn styles_of_all_panes_250x70() {
    let (mut app, now) = demo_app();
    press(&mut app, now, [key('j')]);
    let terminal = draw(&app, 250, 70);
    insta::assert_snapshot!(format!("{:?}", terminal.backend().buffer()));
}
