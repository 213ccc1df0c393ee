//! Cluster mode before the stream: the context, namespace, pod and
//! container pickers (k9s-like columns, type to filter) and the launch
//! screen (in `launch.rs`).
//!
//! ```text
//!  podtap  kind-dev › shop › pods                    https://127.0.0.1:6443
//! +- Pods in shop 3/12 ----------------------------------------------------+
//! | Name            Ready Status   Restarts Age IP          Node    Agent  |
//! | web-7d9f        2/2   Running         0 3d  10.244.1.7  node-1  running|
//! +------------------------------------------------------------------------+
//!  / web_
//!  Enter open  / filter  Esc back  q quit
//! ```

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::columns::{self, Cell, Col};
use super::{Page, Theme, pane_block, pane_inner, placeholder, units};
use crate::cluster::{ContainerState, PodSummary};
use crate::front::{Front, Stage};
use crate::text::sanitize;
use crate::wire::Nanos;

const CONTEXT_COLS: [Col; 5] = [
    Col::fixed("", 1, 0),
    Col::flex("Name", 16, 0),
    Col::fixed("Cluster", 20, 1),
    Col::fixed("User", 16, 2),
    Col::fixed("Namespace", 12, 1),
];

const NAMESPACE_COLS: [Col; 3] = [
    Col::flex("Name", 20, 0),
    Col::fixed("Status", 12, 0),
    Col::fixed("Age", 5, 1),
];

const POD_COLS: [Col; 8] = [
    Col::flex("Name", 20, 0),
    Col::fixed("Ready", 5, 0),
    Col::fixed("Status", 10, 0),
    Col::fixed("Restarts", 8, 1),
    Col::fixed("Age", 4, 1),
    Col::fixed("IP", 15, 3),
    Col::fixed("Node", 12, 4),
    Col::fixed("Agent", 14, 2),
];

const CONTAINER_COLS: [Col; 3] = [
    Col::flex("Name", 20, 0),
    Col::fixed("Default", 7, 0),
    Col::fixed("Agent", 24, 1),
];

/// Draws the pickers or the launch screen.
pub fn render(frame: &mut Frame, front: &Front, theme: &Theme) {
    let area = frame.area();
    if area.width == 0 || area.height == 0 {
        return;
    }
    if front.stage == Stage::Launch {
        super::launch::render(frame, area, front, theme);
        return;
    }
    let bottom = footer_lines(front);
    let [header, body, footer] = screen_parts(area, &bottom);
    frame.render_widget(Paragraph::new(breadcrumb(front, theme)), header);
    render_list(frame, body, front, theme);
    let lines: Vec<Line> = bottom
        .into_iter()
        .map(|(text, style)| Line::from(Span::styled(text, style(theme))))
        .collect();
    frame.render_widget(Paragraph::new(lines), footer);
}

/// A one-line header, the body, and a footer of `footer` lines (fewer when
/// the screen is short: the body keeps at least one line).
pub(super) fn parts(area: Rect, footer: u16) -> [Rect; 3] {
    let footer = footer.min(area.height.saturating_sub(2));
    let header = Rect {
        height: area.height.min(1),
        ..area
    };
    let body = Rect {
        y: area.y + header.height,
        height: area.height.saturating_sub(header.height + footer),
        ..area
    };
    let footer = Rect {
        y: body.y + body.height,
        height: footer,
        ..area
    };
    [header, body, footer]
}

/// The header, the list's frame and the footer of a picker screen of
/// `area` whose footer has the lines `footer` (see [`footer_lines`]).
fn screen_parts(area: Rect, footer: &[(String, StyleOf)]) -> [Rect; 3] {
    parts(area, u16::try_from(footer.len()).unwrap_or(u16::MAX))
}

/// The list's table inside its frame `body`: the page that holds the
/// selected one of `rows`. The same for [`render`] and [`row_at`], so a
/// click lands on the row drawn under it however far the list is scrolled.
fn list_page(body: Rect, front: &Front, rows: &[&str]) -> Page {
    Page::new(pane_inner(body), front.selected_index(rows).unwrap_or(0))
}

/// The row (its index in [`Front::rows`]) drawn at (`x`, `y`) on a screen
/// of `area`, with the same layout and page as [`render`]. `None` on the
/// header, a border, the space below the last row, or when no list is up.
pub fn row_at(area: Rect, front: &Front, x: u16, y: u16) -> Option<usize> {
    if matches!(front.stage, Stage::Launch | Stage::Live) {
        return None;
    }
    let [_, body, _] = screen_parts(area, &footer_lines(front));
    let rows = front.rows();
    list_page(body, front, &rows).row_at(Position::new(x, y), rows.len())
}

/// ` podtap  kind-dev › shop › pods      https://...`
fn breadcrumb<'a>(front: &Front, t: &Theme) -> Line<'a> {
    let mut spans = vec![Span::styled(" podtap ", t.title), Span::raw(" ")];
    let ctx = front.context.as_deref().unwrap_or("in-cluster");
    let level = match front.stage {
        Stage::Contexts => "contexts",
        Stage::Namespaces => "namespaces",
        Stage::Pods => "pods",
        Stage::Containers => "containers",
        Stage::Launch | Stage::Live => "",
    };
    spans.push(Span::styled(sanitize(ctx).into_owned(), t.heading));
    if front.stage != Stage::Contexts {
        spans.push(Span::styled(" › ", t.dim));
        spans.push(Span::styled(
            sanitize(&front.namespace).into_owned(),
            t.heading,
        ));
    }
    if front.stage == Stage::Containers
        && let Some(pod) = &front.pod
    {
        spans.push(Span::styled(" › ", t.dim));
        spans.push(Span::styled(sanitize(pod).into_owned(), t.heading));
    }
    spans.push(Span::styled(format!(" › {level}"), t.dim));
    if let Some(server) = &front.server {
        spans.push(Span::styled(format!("   {}", sanitize(server)), t.dim));
    } else if front.connecting {
        spans.push(Span::styled("   connecting…", t.warn));
    }
    Line::from(spans)
}

type StyleOf = fn(&Theme) -> ratatui::style::Style;

/// The filter line, the error and the key hints, bottom up as they fit.
fn footer_lines(front: &Front) -> Vec<(String, StyleOf)> {
    let mut lines: Vec<(String, StyleOf)> = Vec::new();
    if front.pick.typing || !front.pick.query.is_empty() {
        let cursor = if front.pick.typing { "_" } else { "" };
        lines.push((format!(" /{}{cursor}", sanitize(&front.pick.query)), |t| {
            t.key
        }));
    }
    let error = match front.stage {
        Stage::Namespaces => front.namespaces.error.as_ref().or(front.error.as_ref()),
        Stage::Pods | Stage::Containers => front.pods.error.as_ref().or(front.error.as_ref()),
        _ => front.error.as_ref(),
    };
    if let Some(e) = error {
        lines.push((format!(" {}", sanitize(e)), |t| t.error));
    }
    let hint = match front.stage {
        Stage::Contexts => " Enter connect  / filter  j/k move  Esc quit  Ctrl-C quit",
        Stage::Namespaces => {
            " Enter open (or the typed name)  / filter  j/k move  Esc contexts  q quit"
        }
        Stage::Pods => " Enter tap the pod  / filter  j/k move  Esc namespaces  q quit",
        Stage::Containers => " Enter tap via this container  / filter  Esc pods  q quit",
        Stage::Launch | Stage::Live => "",
    };
    lines.push((hint.to_owned(), |t| t.dim));
    lines
}

fn render_list(frame: &mut Frame, area: Rect, front: &Front, t: &Theme) {
    let rows = front.rows();
    let (what, total) = match front.stage {
        Stage::Contexts => ("Contexts".to_owned(), front.contexts.len()),
        Stage::Namespaces => ("Namespaces".to_owned(), front.namespaces.len()),
        Stage::Pods => (
            format!("Pods in {}", sanitize(&front.namespace)),
            front.pods.len(),
        ),
        Stage::Containers => (
            format!(
                "Containers of {}",
                sanitize(front.pod.as_deref().unwrap_or(""))
            ),
            front.selected_pod().map_or(0, |p| p.containers.len()),
        ),
        Stage::Launch | Stage::Live => (String::new(), 0),
    };
    let title = Line::from(vec![
        Span::styled(format!(" {what} "), t.title),
        Span::raw(format!("{}/{total} ", rows.len())),
    ]);
    let block = pane_block(title, true, t);
    let inner = pane_inner(area);
    frame.render_widget(block, area);
    if rows.is_empty() {
        placeholder(frame, inner, empty_text(front), t);
        return;
    }
    let cols: &[Col] = match front.stage {
        Stage::Contexts => &CONTEXT_COLS,
        Stage::Namespaces => &NAMESPACE_COLS,
        Stage::Containers => &CONTAINER_COLS,
        _ => &POD_COLS,
    };
    let sel = front.selected_index(&rows).unwrap_or(0);
    let page = list_page(area, front, &rows);
    let body = rows
        .iter()
        .enumerate()
        .skip(page.start)
        .take(page.rows)
        .map(|(i, name)| {
            let style = if i == sel { t.selected } else { t.text };
            (cells(front, name, t), style)
        });
    let table = columns::table(cols, page.area.width, body, t);
    frame.render_widget(table, page.area);
}

fn empty_text(front: &Front) -> String {
    if front.connecting {
        return "connecting…".to_owned();
    }
    if !front.pick.query.is_empty() {
        return format!("nothing matches /{}", sanitize(&front.pick.query));
    }
    match front.stage {
        Stage::Contexts => "no contexts in the kubeconfig".to_owned(),
        Stage::Namespaces if !front.namespaces.loaded => {
            "loading namespaces… (or type a namespace name and press Enter)".to_owned()
        }
        Stage::Namespaces => "no namespaces".to_owned(),
        Stage::Pods if !front.pods.loaded => "loading pods…".to_owned(),
        Stage::Pods => format!("no pods in {}", sanitize(&front.namespace)),
        _ => String::new(),
    }
}

fn cells<'a>(front: &Front, name: &str, t: &Theme) -> Vec<Cell<'a>> {
    let text = |s: &str| Cell::from(sanitize(s).into_owned());
    match front.stage {
        Stage::Contexts => {
            let Some(c) = front.contexts.iter().find(|c| c.name == name) else {
                return Vec::new();
            };
            vec![
                Cell::from(if c.current { "*" } else { " " }),
                text(&c.name),
                text(&c.cluster),
                text(c.user.as_deref().unwrap_or("")),
                text(c.namespace.as_deref().unwrap_or("")),
            ]
        }
        Stage::Namespaces => {
            let Some(n) = front.namespaces.get(name) else {
                return Vec::new();
            };
            let since = front.namespaces.since_update(name, front.now);
            vec![text(&n.name), text(&n.phase), Cell::from(age(n.age, since))]
        }
        Stage::Containers => {
            let Some(p) = front.selected_pod() else {
                return Vec::new();
            };
            let default = p.default_container.as_deref() == Some(name);
            let agent = p
                .agents
                .iter()
                .find(|a| a.target.as_deref() == Some(name))
                .map(|a| format!("{} {}", a.name, state_word(&a.state)))
                .unwrap_or_default();
            vec![
                text(name),
                Cell::from(if default { "yes" } else { "" }),
                text(&agent),
            ]
        }
        _ => match front.pods.get(name) {
            Some(p) => pod_cells(p, front.pods.since_update(name, front.now), t),
            None => Vec::new(),
        },
    }
}

/// A pod's row; `since` is how long ago the watch reported it (its age keeps counting).
fn pod_cells<'a>(p: &PodSummary, since: Duration, t: &Theme) -> Vec<Cell<'a>> {
    let phase_style = match p.phase.as_str() {
        "Running" | "Succeeded" => t.text,
        "Pending" => t.warn,
        _ => t.error,
    };
    let ready_style = if p.ready < p.total { t.warn } else { t.text };
    let agent = p
        .agents
        .iter()
        .find(|a| a.state == ContainerState::Running)
        .or(p.agents.first())
        .map_or_else(String::new, |a| format!("● {}", state_word(&a.state)));
    vec![
        Cell::from(sanitize(&p.name).into_owned()),
        Cell::from(Span::styled(
            format!("{}/{}", p.ready, p.total),
            ready_style,
        )),
        Cell::from(Span::styled(sanitize(&p.phase).into_owned(), phase_style)),
        Cell::from(Line::from(p.restarts.to_string()).right_aligned()),
        Cell::from(age(p.age, since)),
        Cell::from(sanitize(p.ip.as_deref().unwrap_or("")).into_owned()),
        Cell::from(sanitize(p.node.as_deref().unwrap_or("")).into_owned()),
        Cell::from(Span::styled(agent, t.flag)),
    ]
}

/// `running`, `waiting`, `exited 3`.
fn state_word(s: &ContainerState) -> String {
    match s {
        ContainerState::Unknown => "unknown".to_owned(),
        ContainerState::Waiting { reason, .. } => sanitize(reason).to_lowercase(),
        ContainerState::Running => "running".to_owned(),
        ContainerState::Terminated { exit_code, .. } => format!("exited {exit_code}"),
    }
}

/// An age reported `since` ago, as of now.
fn age(d: Option<Duration>, since: Duration) -> String {
    d.map_or_else(
        || "-".to_owned(),
        |d| {
            let now = d.saturating_add(since);
            units::age(Nanos(u64::try_from(now.as_nanos()).unwrap_or(u64::MAX)))
        },
    )
}
