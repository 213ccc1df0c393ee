//! `App::update` driven by events (never by the wall clock): filtering,
//! selection, follow, pause, eviction, secrets, controls for the agent.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use podtap::app::{App, AppEvent, Mode, Pane};
use podtap::config::{Caps, Config};
use podtap::decode::ExchangeEvent;
use podtap::decode::flow::FlowId;
use podtap::decode::http::{BodyFraming, Exchange, Message, Request, Response};
use podtap::source::{SourceEvent, SourceStats};
use podtap::wire::Nanos;
use podtap::wire::agent::{Control, FilterRule};

fn message(ts: u64) -> Message {
    Message {
        version: 1,
        headers: Vec::new(),
        content_type: None,
        content_length: Some(0),
        framing: BodyFraming::Length,
        body_len: 0,
        body_preview: Vec::new(),
        body_truncated: false,
        first_byte: Nanos(ts),
        last_byte: Nanos(ts),
        complete: true,
    }
}

fn exchange(n: u64, method: &str, path: &str, status: Option<u16>, port: u16) -> AppEvent {
    let t = 1_700_000_000_000_000_000 + n * 1_000_000;
    let ex = Exchange {
        flow: FlowId(n),
        request: Request {
            method: method.into(),
            path: path.into(),
            host: Some("shop".into()),
            message: message(t),
        },
        response: status.map(|s| Response {
            status: s,
            reason: "X".into(),
            interim: Vec::new(),
            message: message(t + 5_000_000),
        }),
    };
    AppEvent::Source(SourceEvent::Exchange(Box::new(ExchangeEvent {
        exchange: ex,
        client: format!("10.244.1.{}:40000", n % 200).parse().unwrap(),
        server: format!("10.244.0.9:{port}").parse().unwrap(),
    })))
}

fn key(c: char) -> AppEvent {
    AppEvent::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(c: KeyCode) -> AppEvent {
    AppEvent::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

fn app_with(caps: Caps) -> App {
    App::new(
        "test",
        &Config {
            caps,
            ..Config::default()
        },
    )
}

fn feed(app: &mut App, events: impl IntoIterator<Item = AppEvent>) {
    let now = Instant::now();
    for e in events {
        app.update(e, now);
    }
}

fn typed(app: &mut App, text: &str) {
    feed(app, text.chars().map(key));
}

#[test]
fn the_filter_bar_filters_live_and_reports_errors() {
    let mut app = app_with(Caps::default());
    feed(
        &mut app,
        [
            exchange(1, "GET", "/api/a", Some(200), 8080),
            exchange(2, "POST", "/api/b", Some(500), 8080),
            exchange(3, "GET", "/healthz", Some(404), 8081),
        ],
    );
    assert_eq!(app.shown().count(), 3);
    feed(&mut app, [key('/')]);
    assert_eq!(app.mode, Mode::Filter);
    typed(&mut app, "status:>=400");
    assert_eq!(app.filter_error, None);
    let shown: Vec<u64> = app.shown().collect();
    assert_eq!(shown.len(), 2);
    // A new matching exchange appears while the filter is on; a non-matching one does not.
    feed(
        &mut app,
        [
            exchange(4, "GET", "/x", Some(503), 8080),
            exchange(5, "GET", "/y", Some(200), 8080),
        ],
    );
    assert_eq!(app.shown().count(), 3);
    // An invalid text keeps the last valid filter and says why (typing applies
    // each valid prefix live, so set the whole text at once).
    app.set_filter_text("status:>=400 stauts:5");
    assert!(
        app.filter_error
            .as_ref()
            .is_some_and(|e| e.message.contains("stauts"))
    );
    assert_eq!(app.shown().count(), 3);
    // Esc clears it.
    feed(&mut app, [code(KeyCode::Esc)]);
    assert_eq!((app.mode, app.shown().count()), (Mode::Normal, 5));
}

#[test]
fn filter_history_comes_back_with_up() {
    let mut app = app_with(Caps::default());
    feed(&mut app, [key('/')]);
    typed(&mut app, "method:POST");
    feed(
        &mut app,
        [
            code(KeyCode::Enter),
            key('/'),
            code(KeyCode::Esc),
            key('/'),
            code(KeyCode::Up),
        ],
    );
    assert_eq!(app.filter_input.lines().join(""), "method:POST");
}

#[test]
fn selection_stays_on_its_exchange_while_new_ones_arrive() {
    let mut app = app_with(Caps::default());
    feed(
        &mut app,
        (1..=5).map(|n| exchange(n, "GET", "/p", Some(200), 8080)),
    );
    assert_eq!(
        app.selected,
        Some(4),
        "follow selects the newest (ids count from 0)"
    );
    feed(&mut app, [key('j'), key('j')]);
    assert_eq!(app.selected, Some(2));
    assert!(!app.follow, "moving away from the newest stops following");
    feed(
        &mut app,
        (6..=9).map(|n| exchange(n, "GET", "/p", Some(200), 8080)),
    );
    assert_eq!(app.selected, Some(2));
    feed(&mut app, [key('f')]);
    assert_eq!(app.selected, Some(8));
    feed(&mut app, [key('G')]);
    assert_eq!(app.selected, Some(0));
    feed(&mut app, [key('g')]);
    assert_eq!(app.selected, Some(8));
}

#[test]
fn pause_freezes_the_view_but_keeps_the_data() {
    let mut app = app_with(Caps::default());
    feed(
        &mut app,
        (1..=3).map(|n| exchange(n, "GET", "/p", Some(200), 8080)),
    );
    feed(&mut app, [key(' ')]);
    feed(
        &mut app,
        (4..=6).map(|n| exchange(n, "GET", "/p", Some(200), 8080)),
    );
    assert_eq!(app.shown().count(), 3);
    assert_eq!(app.exchanges.len(), 6);
    feed(&mut app, [key(' ')]);
    assert_eq!(app.shown().count(), 6);
}

#[test]
fn evictions_are_counted_and_evicted_rows_leave_the_view() {
    let caps = Caps {
        exchanges: 4,
        details: 2,
        ..Caps::default()
    };
    let mut app = app_with(caps);
    feed(
        &mut app,
        (1..=10).map(|n| exchange(n, "GET", "/p", Some(200), 8080)),
    );
    assert_eq!(app.exchanges.len(), 4);
    assert_eq!(app.exchanges.evicted(), 6);
    assert_eq!(app.shown().collect::<Vec<_>>(), vec![9, 8, 7, 6]);
    assert!(app.exchanges.detail(9).is_some() && app.exchanges.detail(7).is_none());
}

/// Long after the store is full (many compactions of the visible list), the
/// view is exactly the stored rows that pass the filter, newest first, and
/// the selection still follows.
#[test]
fn a_full_store_keeps_the_view_exact_through_many_evictions() {
    let caps = Caps {
        exchanges: 100,
        details: 10,
        ..Caps::default()
    };
    let mut app = app_with(caps);
    typed(&mut app, "/status:5xx");
    feed(&mut app, [code(KeyCode::Enter)]);
    let status = |n: u64| if n.is_multiple_of(3) { 503 } else { 200 };
    feed(
        &mut app,
        (0..20_000).map(|n| exchange(n, "GET", "/p", Some(status(n)), 8080)),
    );
    assert_eq!(app.exchanges.len(), 100);
    // Ids are 0-based in arrival order; the last 100 are kept, a third of them 5xx.
    let expect: Vec<u64> = (19_900..20_000u64)
        .rev()
        .filter(|n| status(*n) == 503)
        .collect();
    assert_eq!(app.shown().collect::<Vec<_>>(), expect);
    assert_eq!(app.visible().len(), expect.len());
    assert_eq!(app.selected, expect.first().copied());
    // Clearing the filter shows all 100 again.
    feed(&mut app, [code(KeyCode::Esc)]);
    assert_eq!(app.shown().count(), 100);
}

#[test]
fn secrets_keys_panes_and_help() {
    let mut app = app_with(Caps::default());
    assert!(!app.show_secrets);
    feed(&mut app, [key('r')]);
    assert!(app.show_secrets);
    feed(&mut app, [code(KeyCode::Tab)]);
    assert_eq!(app.focus, Pane::Flows);
    feed(&mut app, [key('3')]);
    assert_eq!(app.focus, Pane::Ping);
    feed(&mut app, [key('?')]);
    assert_eq!(app.mode, Mode::Help);
    feed(&mut app, [key('x')]);
    assert_eq!(app.mode, Mode::Normal);
    feed(&mut app, [key('q')]);
    assert!(app.should_quit);
}

#[test]
fn filters_the_agent_can_apply_are_sent_to_it_and_pings_are_added() {
    let mut app = app_with(Caps::default());
    feed(&mut app, [key('/')]);
    typed(&mut app, "port:8080");
    assert!(app.controls.is_empty(), "nothing is sent while typing");
    feed(&mut app, [code(KeyCode::Enter)]);
    let sent: Vec<Control> = app.controls.drain(..).collect();
    assert_eq!(
        sent.last(),
        Some(&Control::Filter {
            filter: podtap::wire::agent::FilterSpec {
                // ICMP stays captured: the ping pane reads it whatever the filter.
                include: vec![
                    FilterRule {
                        port: Some(8080),
                        ..FilterRule::default()
                    },
                    FilterRule {
                        proto: Some(podtap::wire::agent::FilterProto::Icmp),
                        ..FilterRule::default()
                    }
                ],
                exclude: vec![]
            }
        })
    );
    // Esc outside the bar clears the filter too.
    feed(&mut app, [code(KeyCode::Esc), key('p')]);
    assert_eq!(app.mode, Mode::AddTarget);
    typed(&mut app, "10.96.0.10:53");
    feed(&mut app, [code(KeyCode::Enter)]);
    let sent: Vec<Control> = app.controls.drain(..).collect();
    assert!(
        sent.contains(&Control::PingAdd {
            target: "10.96.0.10:53".into(),
            interval_ms: None,
            timeout_ms: None
        }),
        "{sent:?}"
    );
    assert!(
        sent.iter()
            .any(|c| matches!(c, Control::Filter { filter } if filter.include.is_empty())),
        "clearing the filter widens the capture again: {sent:?}"
    );
}

#[test]
fn rates_come_from_counter_updates() {
    let mut app = app_with(Caps::default());
    let t0 = Instant::now();
    let stats = |packets, bytes| {
        AppEvent::Source(SourceEvent::Stats(Box::new(SourceStats {
            packets,
            bytes,
            ..SourceStats::default()
        })))
    };
    app.update(stats(1000, 100_000), t0);
    app.update(stats(3000, 300_000), t0 + Duration::from_millis(500));
    assert!((app.rates.packets - 4000.0).abs() < 1e-6, "{:?}", app.rates);
    assert!((app.rates.bytes - 400_000.0).abs() < 1e-6);
    app.update(
        AppEvent::Source(SourceEvent::Ended {
            error: Some("truncated".into()),
        }),
        t0,
    );
    assert!(app.source_state.contains("truncated"));
}

#[test]
fn the_filter_narrows_flows_by_address_and_state() {
    use podtap::decode::flow::{FlowInfo, FlowState, Proto};
    let mut app = app_with(Caps::default());
    let flow = |id: u64, port: u16, state: FlowState| {
        let mut f = FlowInfo::new(
            FlowId(id),
            Proto::Tcp,
            "10.244.1.7:40000".parse().unwrap(),
            format!("10.244.0.9:{port}").parse().unwrap(),
            Nanos(1),
        );
        f.state = state;
        f
    };
    let flows = vec![
        flow(1, 8080, FlowState::Established),
        flow(2, 5432, FlowState::Reset),
        flow(3, 8080, FlowState::Reset),
    ];
    feed(
        &mut app,
        [AppEvent::Source(SourceEvent::Flows { flows, full: true })],
    );
    assert_eq!(app.flow_rows().len(), 3);
    app.set_filter_text("port:8080");
    assert_eq!(app.flow_rows().len(), 2);
    app.set_filter_text("port:8080 flow:rst");
    assert_eq!(
        app.flow_rows().iter().map(|f| f.id.0).collect::<Vec<_>>(),
        vec![3]
    );
    app.set_filter_text("method:GET");
    assert_eq!(app.flow_rows().len(), 3, "HTTP terms do not hide flows");
}
