//! The input line above the status bar: the filter bar while typing a
//! filter (red, with the position and reason, while it does not parse),
//! the ping-target field, or the filter in force.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui_textarea::TextArea;

use super::View;
use crate::app::{App, Mode};
use crate::filter::FilterError;
use crate::text::sanitize;

const FILTER_PROMPT: &str = "filter: ";
const TARGET_PROMPT: &str = "ping target: ";

/// Rows the input line wants: 0 when there is nothing to show.
pub(crate) fn height(app: &App) -> u16 {
    match app.mode {
        Mode::Filter => 1 + u16::from(app.filter_error.is_some()),
        Mode::AddTarget => 1,
        _ if !app.filter.is_empty() || app.filter_error.is_some() => 1,
        _ => 0,
    }
}

/// The text in the filter bar, as the app parses it.
fn filter_text(app: &App) -> String {
    app.filter_input.lines().join(" ")
}

/// Draws the input line(s) into `area`.
pub(crate) fn render(frame: &mut Frame, area: Rect, v: &View) {
    let app = v.app;
    let t = v.theme;
    if area.height == 0 || area.width == 0 {
        return;
    }
    let first = Rect { height: 1, ..area };
    match app.mode {
        Mode::Filter => {
            let style = if app.filter_error.is_some() {
                t.error
            } else {
                t.text
            };
            field(frame, first, FILTER_PROMPT, &app.filter_input, style, v);
            if let Some(e) = &app.filter_error
                && area.height >= 2
            {
                let second = Rect {
                    y: area.y + 1,
                    height: 1,
                    ..area
                };
                let line = error_line(e, &filter_text(app), area.width, t.error);
                frame.render_widget(Paragraph::new(line), second);
            }
        }
        Mode::AddTarget => {
            field(frame, first, TARGET_PROMPT, &app.target_input, t.text, v);
        }
        _ => {
            let text = sanitize(&filter_text(app)).into_owned();
            let mut spans = vec![
                Span::styled(FILTER_PROMPT, t.dim),
                Span::styled(text, t.text),
            ];
            if let Some(e) = &app.filter_error {
                spans[1].style = t.error;
                spans.push(Span::styled(
                    format!("  ✗ {} (not applied)", sanitize(&e.message)),
                    t.error,
                ));
            }
            frame.render_widget(Paragraph::new(Line::from(spans)), first);
        }
    }
}

/// A prompt and a text field on one row.
fn field(frame: &mut Frame, area: Rect, prompt: &str, input: &TextArea, style: Style, v: &View) {
    let t = v.theme;
    let pw = (prompt.chars().count() as u16).min(area.width);
    frame.render_widget(
        Span::styled(prompt.to_owned(), t.key),
        Rect { width: pw, ..area },
    );
    let mut ta = input.clone();
    ta.set_style(style);
    ta.set_cursor_line_style(Style::new());
    let placeholder = if prompt == FILTER_PROMPT {
        "method:POST status:5xx path:/api host:cart latency:>200ms"
    } else {
        "10.96.0.10, db:5432 (Enter adds, Esc cancels)"
    };
    ta.set_placeholder_text(placeholder);
    ta.set_placeholder_style(t.dim);
    let rest = Rect {
        x: area.x + pw,
        width: area.width - pw,
        ..area
    };
    frame.render_widget(&ta, rest);
}

/// `^ reason` under the bad term when it fits, else `✗ column N: reason`.
fn error_line(e: &FilterError, text: &str, width: u16, style: Style) -> Line<'static> {
    let col = text.char_indices().take_while(|(i, _)| *i < e.at).count();
    let msg = sanitize(&e.message);
    let pad = FILTER_PROMPT.chars().count() + col;
    if pad + 2 + msg.chars().count() <= usize::from(width) {
        Line::styled(format!("{}^ {msg}", " ".repeat(pad)), style)
    } else {
        Line::styled(format!("✗ column {}: {msg}", col + 1), style)
    }
}
