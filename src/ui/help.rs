//! The help popup: every action with the keys bound to it, from the key
//! table (so overrides in the config file show up here), in one or two
//! columns depending on the height.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Padding, Paragraph};

use super::View;
use crate::keys::Action;

/// Space between the two columns.
const GAP: usize = 3;

/// Draws the popup centred in `area`.
pub(crate) fn render(frame: &mut Frame, area: Rect, v: &View) {
    let t = v.theme;
    let entries: Vec<(String, &str)> = Action::ALL
        .iter()
        .map(|(a, _, help)| (v.app.keys.keys_for(*a).join(", "), *help))
        .collect();
    let count = entries.len();
    // One column when it fits the height, else two.
    let cols = if count + 2 <= usize::from(area.height) {
        1
    } else {
        2
    };
    let per_col = count.div_ceil(cols);
    let columns: Vec<&[(String, &str)]> = entries.chunks(per_col.max(1)).collect();
    let key_w: Vec<usize> = columns
        .iter()
        .map(|c| c.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0))
        .collect();
    let col_w: Vec<usize> = columns
        .iter()
        .zip(&key_w)
        .map(|(c, kw)| kw + 2 + c.iter().map(|(_, h)| h.chars().count()).max().unwrap_or(0))
        .collect();
    let inner_w = col_w.iter().sum::<usize>() + GAP * (columns.len().saturating_sub(1));
    let mut lines = Vec::with_capacity(per_col);
    for row in 0..per_col {
        let mut spans = Vec::new();
        for (ci, col) in columns.iter().enumerate() {
            let Some((keys, help)) = col.get(row) else {
                continue;
            };
            if ci > 0 {
                spans.push(Span::raw(" ".repeat(GAP)));
            }
            spans.push(Span::styled(format!("{keys:<w$}  ", w = key_w[ci]), t.key));
            let pad = col_w[ci] - key_w[ci] - 2;
            spans.push(Span::styled(format!("{help:<pad$}"), t.text));
        }
        lines.push(Line::from(spans));
    }
    let width = (inner_w + 4).min(usize::from(area.width)) as u16;
    let height = (per_col + 2).min(usize::from(area.height)) as u16;
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(t.border_focus)
        .padding(Padding::horizontal(1))
        .title(Span::styled(" Keys (any key closes) ", t.title));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .style(t.text)
            .left_aligned(),
        popup,
    );
}
