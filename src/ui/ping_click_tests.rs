//! Clicks on the ping pane land on the target drawn under them: the
//! table's rows select, the chart (or sparkline) only focuses the pane.

use std::time::Instant;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

use super::{Click, Theme, click_at, render_with};
use crate::app::{App, AppEvent, Pane};
use crate::config::Config;
use crate::source::SourceEvent;
use crate::wire::agent::{ProbeKind, ProbeOutcome, ProbeResult};

/// An app with `targets` ping targets named `target-0`, `target-1`, ...,
/// each with a few replies, and the ping pane focused.
fn app_with_targets(targets: usize) -> (App, Instant) {
    let now = Instant::now();
    let mut app = App::new("test", &Config::default());
    for seq in 0..5u64 {
        for t in 0..targets {
            let probe = ProbeResult {
                target: format!("target-{t}"),
                kind: ProbeKind::Icmp,
                addr: Some(format!("10.0.0.{t}")),
                seq,
                sent_ns: 1_700_000_000_000_000_000 + seq * 1_000_000_000,
                outcome: ProbeOutcome::Reply,
                rtt_ns: Some(400_000 + seq * 50_000 + t as u64 * 10_000),
                detail: None,
            };
            app.update(AppEvent::Source(SourceEvent::Probe(probe)), now);
        }
    }
    app.update(AppEvent::Tick, now);
    app.focus = Pane::Ping;
    (app, now)
}

/// The screen's lines as drawn, one `String` per row (one char per cell).
fn lines(app: &App, area: Rect) -> Vec<String> {
    let mut terminal = Terminal::new(TestBackend::new(area.width, area.height)).unwrap();
    terminal
        .draw(|f| render_with(f, app, &Theme::default_colors()))
        .unwrap();
    let buf = terminal.backend().buffer();
    (0..area.height)
        .map(|y| (0..area.width).map(|x| buf[(x, y)].symbol()).collect())
        .collect()
}

/// Where `text` is drawn: its first cell (column, row).
fn find(lines: &[String], text: &str) -> Option<(u16, u16)> {
    lines.iter().enumerate().find_map(|(y, l)| {
        let at = l.find(text)?;
        let x = l[..at].chars().count();
        Some((u16::try_from(x).ok()?, u16::try_from(y).ok()?))
    })
}

#[test]
fn a_click_on_a_target_row_selects_it_and_the_chart_only_focuses() {
    for (w, h) in [(80, 24), (250, 70)] {
        let (mut app, now) = app_with_targets(3);
        // On a wide screen, start on another pane: the click focuses the ping pane too.
        app.focus = if w >= super::WIDE.0 {
            Pane::Http
        } else {
            Pane::Ping
        };
        let area = Rect::new(0, 0, w, h);
        let screen = lines(&app, area);
        let (x, y) = find(&screen, "target-1").expect("the second target's row");
        let click = click_at(area, &app, x + 2, y);
        assert_eq!(click, Some(Click::Row(Pane::Ping, 1)), "{w}x{h}");
        app.update(AppEvent::Click(click.unwrap()), now);
        assert_eq!(app.ping_selected, 1, "{w}x{h}");
        assert_eq!(app.focus, Pane::Ping);

        // The header and the chart under the table: focus only.
        let (hx, hy) = find(&screen, "Target").expect("the table's header");
        assert_eq!(
            click_at(area, &app, hx + 1, hy),
            Some(Click::Pane(Pane::Ping))
        );
        let (cx, cy) = find(&screen, "RTT, last").expect("the chart");
        for dy in [0, 1, 4] {
            assert_eq!(
                click_at(area, &app, cx + 3, cy + dy),
                Some(Click::Pane(Pane::Ping)),
                "{w}x{h} chart row +{dy}"
            );
        }
        app.update(AppEvent::Click(Click::Pane(Pane::Ping)), now);
        assert_eq!(
            app.ping_selected, 1,
            "a click on the chart keeps the selection"
        );
    }
}

/// A table scrolled to the page of the selected target (a short screen, a
/// sparkline under it): the click still lands on the target drawn there.
#[test]
fn a_click_on_a_scrolled_target_table_selects_the_target_drawn_there() {
    let (mut app, now) = app_with_targets(10);
    app.ping_selected = 7;
    let area = Rect::new(0, 0, 80, 12);
    let screen = lines(&app, area);
    assert!(
        find(&screen, "target-0 ").is_none(),
        "scrolled:\n{screen:#?}"
    );
    let (x, y) = find(&screen, "target-8").expect("a row of the second page");
    let click = click_at(area, &app, x, y).expect("a row");
    assert_eq!(click, Click::Row(Pane::Ping, 8));
    app.update(AppEvent::Click(click), now);
    assert_eq!(app.ping_selected, 8);
    // Below the last target: the sparkline, not a row.
    let (sx, sy) = find(&screen, "RTT, last").expect("the sparkline");
    assert_eq!(click_at(area, &app, sx, sy), Some(Click::Pane(Pane::Ping)));
}
