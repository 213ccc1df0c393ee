//! The launch screen: each step of adding the agent with a spinner and its
//! time, the preflight findings, and on failure the error with what to do
//! (and the Role to grant).
//!
//! ```text
//!  podtap  kind-dev › shop › web (container app)
//! +- Adding the agent 4.2s ------------------------------------------+
//! |  ✓ Preflight: all checks passed                             0.3s |
//! |  ✓ Added the ephemeral container podtap-k3x9q               0.1s |
//! |  ⠋ Waiting for podtap-k3x9q to start                        3.8s |
//! |      ContainerCreating                                           |
//! +------------------------------------------------------------------+
//!  Esc back to the pods
//! ```

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{Theme, pane_block};
use crate::cluster::Severity;
use crate::front::{Front, LaunchView, StepState};
use crate::text::sanitize;

/// Braille spinner, one frame per 100 ms.
const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// Draws the launch screen over `area`.
pub(crate) fn render(frame: &mut Frame, area: Rect, front: &Front, t: &Theme) {
    let Some(launch) = &front.launch else {
        return;
    };
    let elapsed = front.launch_elapsed();
    let [header, body, footer] = super::picker::parts(area, 1);

    let target = &launch.target;
    let mut crumbs = vec![
        Span::styled(" podtap ", t.title),
        Span::raw(" "),
        Span::styled(
            sanitize(front.context.as_deref().unwrap_or("in-cluster")).into_owned(),
            t.heading,
        ),
        Span::styled(" › ", t.dim),
        Span::styled(sanitize(&target.namespace).into_owned(), t.heading),
        Span::styled(" › ", t.dim),
        Span::styled(sanitize(&target.pod).into_owned(), t.heading),
    ];
    if let Some(c) = &target.container {
        crumbs.push(Span::styled(format!(" (container {})", sanitize(c)), t.dim));
    }
    frame.render_widget(Paragraph::new(Line::from(crumbs)), header);

    let title_text = if launch.finished() {
        " Could not add the agent "
    } else {
        " Adding the agent "
    };
    let title = Line::from(vec![
        Span::styled(
            title_text,
            if launch.finished() { t.error } else { t.title },
        ),
        Span::raw(format!("{} ", seconds(elapsed))),
    ]);
    let block = pane_block(title, true, t);
    let inner = block.inner(body);
    frame.render_widget(block, body);
    // A margin, so wrapped lines line up with the text above them.
    let inner = Rect {
        x: inner.x.saturating_add(2),
        width: inner.width.saturating_sub(2),
        ..inner
    };
    let lines = lines(launch, elapsed, t);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((launch.scroll, 0)),
        inner,
    );

    let hint = if launch.finished() {
        " Esc back to the pods  r retry  j/k scroll  q quit"
    } else {
        " Esc cancel and go back to the pods  q quit"
    };
    frame.render_widget(Paragraph::new(Span::styled(hint, t.dim)), footer);
}

/// The steps, the findings, the error and the Role.
fn lines<'a>(launch: &LaunchView, elapsed: Duration, t: &Theme) -> Vec<Line<'a>> {
    let mut out = Vec::new();
    for step in &launch.steps {
        let (mark, style) = match step.state {
            StepState::Done => ("✓".to_owned(), t.status_2xx),
            StepState::Failed => ("✗".to_owned(), t.error),
            StepState::Running => {
                let frame = (elapsed.as_millis() / 100) as usize % SPINNER.len();
                (SPINNER[frame].to_owned(), t.warn)
            }
        };
        let took = step.took.unwrap_or_else(|| elapsed.saturating_sub(step.at));
        out.push(Line::from(vec![
            Span::styled(mark, style),
            Span::raw(" "),
            Span::styled(sanitize(&step.text).into_owned(), t.text),
            Span::styled(format!("  {}", seconds(took)), t.dim),
        ]));
        if let Some(d) = &step.detail {
            out.push(Line::from(Span::styled(
                format!("    {}", sanitize(d)),
                t.dim,
            )));
        }
    }
    if !launch.findings.is_empty() {
        out.push(Line::default());
        out.push(Line::from(Span::styled("Preflight findings", t.heading)));
        for f in &launch.findings {
            let (word, style) = match f.severity {
                Severity::Blocking => ("blocking", t.error),
                Severity::Warning => ("warning", t.warn),
                Severity::Info => ("info", t.dim),
            };
            out.push(Line::from(vec![
                Span::styled(format!("{word}: "), style),
                Span::styled(sanitize(&f.message).into_owned(), t.text),
            ]));
        }
    }
    // A blocking finding is the error already: not twice.
    if let Some(e) = &launch.error
        && !launch.findings.iter().any(|f| &f.message == e)
    {
        out.push(Line::default());
        out.push(Line::from(vec![
            Span::styled("Error: ", t.error),
            Span::styled(sanitize(e).into_owned(), t.text),
        ]));
    }
    if let Some(role) = &launch.role {
        out.push(Line::default());
        out.push(Line::from(Span::styled(
            "A Role that grants what is missing (kubectl apply -f, then bind it):",
            t.heading,
        )));
        for l in role.lines() {
            out.push(Line::from(Span::styled(
                format!("  {}", sanitize(l)),
                t.key,
            )));
        }
    }
    out
}

/// `4.2s`.
fn seconds(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}
