//! Input: keys through the key table, the filter bar and target field,
//! mouse wheel and clicks, and what each action does to the state.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};

use ratatui_textarea::TextArea;

use super::{App, Mode, Pane};
use crate::filter::Filter;
use crate::keys::Action;
use crate::store::{FlowSort, PingBoard};
use crate::wire::agent::Control;

impl App {
    pub(super) fn on_mouse(&mut self, m: MouseEvent) {
        match m.kind {
            MouseEventKind::ScrollUp => self.act(Action::Up),
            MouseEventKind::ScrollDown => self.act(Action::Down),
            _ => {}
        }
    }

    /// A click: focus the pane; on a row, select it (the HTTP pane stops following).
    pub(super) fn on_click(&mut self, c: crate::ui::Click) {
        if self.mode != Mode::Normal {
            return;
        }
        match c {
            crate::ui::Click::Pane(p) => self.focus = p,
            crate::ui::Click::Row(Pane::Http, pos) => {
                self.focus = Pane::Http;
                let shown: Vec<u64> = self.shown().skip(pos).take(1).collect();
                if let Some(id) = shown.first() {
                    self.selected = Some(*id);
                    self.follow = false;
                }
            }
            crate::ui::Click::Row(Pane::Flows, pos) => {
                self.focus = Pane::Flows;
                self.flow_selected = pos.min(self.flow_count().saturating_sub(1));
            }
            crate::ui::Click::Row(Pane::Ping, pos) => {
                self.focus = Pane::Ping;
                self.ping_selected = pos.min(self.pings.targets.len().saturating_sub(1));
            }
        }
    }

    pub(super) fn on_key(&mut self, k: KeyEvent) {
        match self.mode {
            Mode::Filter => self.filter_key(k),
            Mode::AddTarget => self.target_key(k),
            Mode::Help => self.mode = Mode::Normal,
            Mode::Normal | Mode::Detail => {
                if let Some(a) = self.keys.action(&k) {
                    self.act(a);
                }
            }
        }
    }

    fn filter_key(&mut self, k: KeyEvent) {
        match k.code {
            KeyCode::Enter => {
                let text = self.filter_input.lines().join(" ");
                if self.filter_error.is_none()
                    && !text.trim().is_empty()
                    && self.filter_history.last() != Some(&text)
                {
                    self.filter_history.push(text);
                }
                self.history_pos = None;
                self.mode = Mode::Normal;
                self.sync_capture_filter();
            }
            KeyCode::Esc => {
                self.filter_input = TextArea::default();
                self.set_filter_text("");
                self.mode = Mode::Normal;
                self.sync_capture_filter();
            }
            KeyCode::Up | KeyCode::Down => {
                let n = self.filter_history.len();
                if n == 0 {
                    return;
                }
                let pos = match (self.history_pos, k.code) {
                    (None, KeyCode::Up) => n - 1,
                    (Some(p), KeyCode::Up) => p.saturating_sub(1),
                    (Some(p), _) if p + 1 < n => p + 1,
                    _ => return,
                };
                self.history_pos = Some(pos);
                let text = self.filter_history[pos].clone();
                self.filter_input = TextArea::from([text.clone()]);
                self.filter_input
                    .move_cursor(ratatui_textarea::CursorMove::End);
                self.set_filter_text(&text);
            }
            _ => {
                if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
                    self.should_quit = true;
                    return;
                }
                if self.filter_input.input(k) {
                    let text = self.filter_input.lines().join(" ");
                    self.set_filter_text(&text);
                }
            }
        }
    }

    /// Parses the filter bar's text and applies it when valid.
    pub fn set_filter_text(&mut self, text: &str) {
        match Filter::parse(text) {
            Ok(f) => {
                self.filter_error = None;
                if f != self.filter {
                    self.filter = f;
                    self.refilter();
                }
            }
            Err(e) => self.filter_error = Some(e),
        }
    }

    fn target_key(&mut self, k: KeyEvent) {
        match k.code {
            KeyCode::Enter => {
                let target = self.target_input.lines().join("").trim().to_owned();
                if !target.is_empty() {
                    self.controls.push(Control::PingAdd {
                        target: target.clone(),
                        interval_ms: None,
                        timeout_ms: None,
                    });
                    self.message = Some(format!("probing {target}"));
                }
                self.target_input = TextArea::default();
                self.mode = Mode::Normal;
            }
            KeyCode::Esc => {
                self.target_input = TextArea::default();
                self.mode = Mode::Normal;
            }
            _ => {
                self.target_input.input(k);
            }
        }
    }

    fn act(&mut self, a: Action) {
        match a {
            Action::Quit => self.should_quit = true,
            Action::Help => self.mode = Mode::Help,
            Action::NextPane => self.focus = Pane::ORDER[(self.focus.index() + 1) % 3],
            Action::PrevPane => self.focus = Pane::ORDER[(self.focus.index() + 2) % 3],
            Action::FocusHttp => self.focus = Pane::Http,
            Action::FocusFlows => self.focus = Pane::Flows,
            Action::FocusPing => self.focus = Pane::Ping,
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.move_by(-(self.page.max(1) as isize)),
            Action::PageDown => self.move_by(self.page.max(1) as isize),
            Action::Top => self.move_by(isize::MIN / 2),
            Action::Bottom => self.move_by(isize::MAX / 2),
            Action::Open => {
                if self.focus == Pane::Http && self.selected.is_some() {
                    self.mode = Mode::Detail;
                    self.detail_scroll = 0;
                }
            }
            Action::Back => match self.mode {
                Mode::Detail | Mode::Help => self.mode = Mode::Normal,
                _ if !self.filter.is_empty() => {
                    self.filter_input = TextArea::default();
                    self.set_filter_text("");
                    self.sync_capture_filter();
                }
                Mode::Normal if self.can_go_back => self.wants_back = true,
                _ => {}
            },
            Action::Filter => self.mode = Mode::Filter,
            Action::TogglePause => {
                self.paused_at = match self.paused_at {
                    Some(_) => None,
                    None => Some(self.visible().last().copied().unwrap_or(0)),
                };
            }
            Action::ToggleFollow => {
                self.follow = !self.follow;
                if self.follow {
                    let first = self.shown().next();
                    self.selected = first;
                }
            }
            Action::Clear => {
                self.exchanges.clear();
                self.flows.clear();
                self.pings = PingBoard::default();
                self.visible_ids.clear();
                self.dead = 0;
                self.selected = None;
            }
            Action::ToggleSecrets => self.show_secrets = !self.show_secrets,
            Action::AddTarget => {
                self.focus = Pane::Ping;
                self.mode = Mode::AddTarget;
            }
            Action::RemoveTarget => {
                if self.focus == Pane::Ping
                    && let Some(t) = self
                        .pings
                        .targets
                        .get(self.ping_selected)
                        .map(|t| t.target.clone())
                {
                    self.controls
                        .push(Control::PingRemove { target: t.clone() });
                    self.pings.remove(&t);
                    self.ping_selected = self
                        .ping_selected
                        .min(self.pings.targets.len().saturating_sub(1));
                }
            }
            Action::CycleSort => {
                self.flow_sort = match self.flow_sort {
                    FlowSort::Bytes => FlowSort::Rate,
                    FlowSort::Rate => FlowSort::Retransmissions,
                    FlowSort::Retransmissions => FlowSort::Age,
                    FlowSort::Age => FlowSort::Bytes,
                };
                self.sync_flow_view();
            }
        }
    }

    /// Moves the focused pane's selection by `delta` rows (newest-first order for HTTP).
    pub(super) fn move_by(&mut self, delta: isize) {
        if self.mode == Mode::Detail {
            self.detail_scroll = (i64::from(self.detail_scroll) + delta.clamp(-1000, 1000) as i64)
                .clamp(0, 10_000) as u16;
            return;
        }
        let step = |cur: usize, len: usize| -> usize {
            if len == 0 {
                return 0;
            }
            (cur as isize)
                .saturating_add(delta)
                .clamp(0, len as isize - 1) as usize
        };
        match self.focus {
            Pane::Http => {
                let shown: Vec<u64> = self.shown().collect();
                let cur = self
                    .selected
                    .and_then(|s| shown.iter().position(|id| *id == s))
                    .unwrap_or(0);
                let next = step(cur, shown.len());
                self.selected = shown.get(next).copied();
                // Moving away from the newest row stops following it.
                self.follow = next == 0 && self.follow;
            }
            Pane::Flows => {
                self.flow_selected = step(self.flow_selected, self.flow_count());
            }
            Pane::Ping => self.ping_selected = step(self.ping_selected, self.pings.targets.len()),
        }
    }
}
