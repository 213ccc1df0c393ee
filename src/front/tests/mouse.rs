//! The mouse on the pickers: clicks placed on the rows as drawn (also when
//! the list is scrolled), a click on the selected row opens it like Enter,
//! the wheel moves the selection within the list.

use crossterm::event::{KeyCode, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

use super::*;
use crate::ui::Theme;

const SCREEN: Rect = Rect::new(0, 0, 80, 24);

fn mouse(kind: MouseEventKind, column: u16, row: u16) -> MouseEvent {
    MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    }
}

fn click(front: &mut Front, x: u16, y: u16) {
    front.on_mouse(mouse(MouseEventKind::Down(MouseButton::Left), x, y), SCREEN);
}

fn wheel(front: &mut Front, down: bool, notches: usize) {
    let kind = if down {
        MouseEventKind::ScrollDown
    } else {
        MouseEventKind::ScrollUp
    };
    for _ in 0..notches {
        front.on_mouse(mouse(kind, 40, 10), SCREEN);
    }
}

/// The picker as drawn on [`SCREEN`], one `String` per row.
fn lines(front: &Front) -> Vec<String> {
    let mut terminal = Terminal::new(TestBackend::new(SCREEN.width, SCREEN.height)).unwrap();
    terminal
        .draw(|f| crate::ui::picker::render(f, front, &Theme::default_colors()))
        .unwrap();
    let buf = terminal.backend().buffer();
    (0..SCREEN.height)
        .map(|y| (0..SCREEN.width).map(|x| buf[(x, y)].symbol()).collect())
        .collect()
}

/// The row on screen of the table's header line (`Name ...`).
fn header_y(lines: &[String]) -> u16 {
    let y = lines
        .iter()
        .position(|l| l.contains("Name"))
        .expect("a header");
    u16::try_from(y).unwrap()
}

/// `pod-00` to `pod-{n-1}`.
fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("pod-{i:02}")).collect()
}

fn ready_with(n: usize) -> Front {
    let names = names(n);
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    ready(&refs).0
}

#[test]
fn a_click_on_row_n_selects_the_nth_pod_shown_when_the_list_is_scrolled() {
    let mut front = ready_with(30);
    front.pick.selected = Some("pod-25".into());
    let screen = lines(&front);
    let top = header_y(&screen);
    // 80x24: 19 rows a page, so the page of pod-25 starts at pod-19.
    assert!(
        screen[usize::from(top) + 1].contains("pod-19"),
        "{screen:#?}"
    );
    click(&mut front, 10, top + 3);
    assert_eq!(front.pick.selected.as_deref(), Some("pod-21"));
    assert!(screen[usize::from(top) + 3].contains("pod-21"));
    assert_eq!(front.stage, Stage::Pods);
    assert!(front.requests.is_empty(), "selecting opens nothing");
    // The last row shown.
    click(&mut front, 70, top + 11);
    assert_eq!(front.pick.selected.as_deref(), Some("pod-29"));
}

#[test]
fn a_click_on_the_selected_row_opens_it_like_enter() {
    let mut by_key = ready_with(30);
    let mut by_mouse = ready_with(30);
    for f in [&mut by_key, &mut by_mouse] {
        f.pick.selected = Some("pod-22".into());
    }
    by_key.on_key(key(KeyCode::Enter));
    let top = header_y(&lines(&by_mouse));
    click(&mut by_mouse, 5, top + 4);
    assert_eq!(by_mouse.stage, Stage::Launch);
    assert_eq!(by_mouse.requests, by_key.requests);
    assert_eq!(
        by_mouse.launch.as_ref().map(|l| l.target.pod.as_str()),
        Some("pod-22")
    );
    // On the launch screen clicks do nothing.
    by_mouse.requests.clear();
    click(&mut by_mouse, 5, top + 4);
    assert_eq!(by_mouse.stage, Stage::Launch);
    assert!(by_mouse.requests.is_empty());
}

#[test]
fn a_click_off_the_rows_does_nothing() {
    let mut front = ready_with(30);
    front.pick.selected = Some("pod-25".into());
    let screen = lines(&front);
    let top = header_y(&screen);
    let before = front.pick.clone();
    // The last page holds pod-19 to pod-29: below it the table is empty.
    let spots = [
        (10, 0),       // the breadcrumb
        (10, top - 1), // the frame's top border
        (10, top),     // the table's header
        (0, top + 3),  // the left border beside a row
        (10, top + 12),
        (10, top + 19),
        (10, 23), // the key hints
    ];
    for (x, y) in spots {
        click(&mut front, x, y);
        assert_eq!(front.pick, before, "click at {x},{y}");
        assert_eq!(front.stage, Stage::Pods);
        assert!(front.requests.is_empty());
    }
}

/// Filtering adds a footer line, so a page is a row shorter: the click
/// still lands on the row drawn under it.
#[test]
fn clicks_follow_the_page_while_filtering() {
    let mut front = ready_with(30);
    front.on_key(key(KeyCode::Char('/')));
    chars(&mut front, "pod");
    front.pick.selected = Some("pod-18".into());
    let screen = lines(&front);
    let top = header_y(&screen);
    // 18 rows a page now: pod-18 starts the second page.
    assert!(
        screen[usize::from(top) + 1].contains("pod-18"),
        "{screen:#?}"
    );
    click(&mut front, 10, top + 2);
    assert_eq!(front.pick.selected.as_deref(), Some("pod-19"));
}

#[test]
fn the_wheel_moves_the_selection_a_row_a_notch_within_the_list() {
    let mut front = ready_with(5);
    wheel(&mut front, true, 1);
    assert_eq!(front.pick.selected.as_deref(), Some("pod-01"));
    wheel(&mut front, true, 2);
    assert_eq!(front.pick.selected.as_deref(), Some("pod-03"));
    wheel(&mut front, true, 10);
    assert_eq!(
        front.pick.selected.as_deref(),
        Some("pod-04"),
        "stops at the end"
    );
    wheel(&mut front, false, 1);
    assert_eq!(front.pick.selected.as_deref(), Some("pod-03"));
    wheel(&mut front, false, 10);
    assert_eq!(
        front.pick.selected.as_deref(),
        Some("pod-00"),
        "stops at the top"
    );
    assert!(front.requests.is_empty());
    assert_eq!(front.stage, Stage::Pods);
    // An empty list: nothing to move.
    let mut empty = ready_with(0);
    wheel(&mut empty, true, 3);
    assert_eq!(empty.pick.selected, None);
}

#[test]
fn the_wheel_scrolls_the_launch_screen_within_its_text() {
    let mut front = launch_failed_with_a_role();
    wheel(&mut front, true, 2);
    assert_eq!(front.launch.as_ref().unwrap().scroll, 2);
    wheel(&mut front, true, 500);
    let l = front.launch.as_ref().unwrap();
    assert!(usize::from(l.scroll) <= l.lines(), "{}", l.scroll);
    wheel(&mut front, false, 500);
    assert_eq!(front.launch.as_ref().unwrap().scroll, 0);
    assert_eq!(front.stage, Stage::Launch);
}
