//! The status bar: where the data comes from and how it is going (rates,
//! drops, errors, memory, evictions), the PAUSED / FOLLOW flags and the
//! last message. When the row is too narrow, the least important parts go.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{View, units};
use crate::text::sanitize;

/// One part of the bar and its rank (higher ranks are left out first).
struct Part {
    rank: u8,
    spans: Vec<Span<'static>>,
}

impl Part {
    fn width(&self) -> usize {
        self.spans.iter().map(|s| s.content.chars().count()).sum()
    }
}

const SEP: &str = " │ ";

/// Draws the status bar.
pub(crate) fn render(frame: &mut Frame, area: Rect, v: &View) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let parts = parts(v);
    let keep = fit(&parts, usize::from(area.width));
    let mut spans = vec![Span::raw(" ")];
    let kept = parts.into_iter().zip(keep).filter(|(_, k)| *k);
    for (i, (p, _)) in kept.enumerate() {
        if i > 0 {
            spans.push(Span::raw(SEP));
        }
        spans.extend(p.spans);
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans)).style(v.theme.status_bar),
        Rect { height: 1, ..area },
    );
}

fn parts(v: &View) -> Vec<Part> {
    let app = v.app;
    let t = v.theme;
    let s = &app.stats;
    let p = |rank: u8, spans: Vec<Span<'static>>| Part { rank, spans };
    let warn_if = |n: u64| if n > 0 { t.warn } else { t.status_bar };
    let errors: u64 =
        s.pipeline.decode.values().sum::<u64>() + s.pipeline.http_errors.values().sum::<u64>();
    let evicted = app.exchanges.evicted() + app.flows.evicted();
    let mut flags = Vec::new();
    if app.paused_at.is_some() {
        flags.push(Span::styled("PAUSED", t.flag));
    }
    if app.follow {
        if !flags.is_empty() {
            flags.push(Span::raw(" "));
        }
        flags.push(Span::styled("FOLLOW", t.flag));
    }
    let mut parts = vec![
        p(0, vec![Span::raw(sanitize(&app.source_name).into_owned())]),
        p(0, vec![Span::raw(sanitize(&app.source_state).into_owned())]),
        p(
            3,
            vec![Span::raw(format!(
                "{} pkt/s {}B/s",
                units::rate(app.rates.packets),
                units::rate(app.rates.bytes)
            ))],
        ),
        p(
            1,
            vec![
                Span::raw("drops "),
                Span::styled(units::count(s.capture_dropped), warn_if(s.capture_dropped)),
                Span::raw(" cap "),
                Span::styled(units::count(s.channel_dropped), warn_if(s.channel_dropped)),
                Span::raw(" ui"),
            ],
        ),
        p(
            2,
            vec![
                Span::raw("err "),
                Span::styled(units::count(errors), warn_if(errors)),
            ],
        ),
        p(
            5,
            vec![Span::raw(format!(
                "mem {}",
                units::bytes(app.memory() as u64)
            ))],
        ),
        p(
            4,
            vec![
                Span::raw("evicted "),
                Span::styled(units::count(evicted), warn_if(evicted)),
            ],
        ),
    ];
    if !flags.is_empty() {
        parts.push(p(0, flags));
    }
    if let Some(m) = &app.message {
        parts.push(p(1, vec![Span::raw(sanitize(m).into_owned())]));
    }
    parts
}

/// Which parts fit in `width`, leaving out the highest ranks first.
fn fit(parts: &[Part], width: usize) -> Vec<bool> {
    let mut keep = vec![true; parts.len()];
    let need = |keep: &[bool]| -> usize {
        let shown: Vec<&Part> = parts
            .iter()
            .zip(keep)
            .filter(|(_, k)| **k)
            .map(|(p, _)| p)
            .collect();
        1 + shown.iter().map(|p| p.width()).sum::<usize>()
            + shown.len().saturating_sub(1) * SEP.chars().count()
    };
    let max = parts.iter().map(|p| p.rank).max().unwrap_or(0);
    for rank in (1..=max).rev() {
        if need(&keep) <= width {
            break;
        }
        for (k, p) in keep.iter_mut().zip(parts) {
            if p.rank == rank {
                *k = false;
            }
        }
    }
    keep
}
