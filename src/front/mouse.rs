//! The mouse on the pickers and the launch screen, an extra to the keys
//! (k9s-like): the wheel moves the selection a row per notch (as in the
//! live panes) or scrolls the launch screen; a left click on a row selects
//! it, and on the selected row opens it like Enter.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;

use super::{Front, Stage};

impl Front {
    /// A mouse event on a screen of `screen` (the size the last frame was
    /// drawn at). Clicks are placed with [`crate::ui::picker::row_at`], the
    /// layout and page the pickers are drawn with; off the rows they do nothing.
    pub fn on_mouse(&mut self, m: MouseEvent, screen: Rect) {
        let delta = match m.kind {
            MouseEventKind::ScrollUp => -1,
            MouseEventKind::ScrollDown => 1,
            MouseEventKind::Down(MouseButton::Left) => {
                if let Some(row) = crate::ui::picker::row_at(screen, self, m.column, m.row) {
                    self.click_row(row);
                }
                return;
            }
            _ => return,
        };
        match self.stage {
            Stage::Launch => self.scroll_launch(delta),
            Stage::Live => {}
            _ => self.move_by(delta as isize),
        }
    }

    /// A click on row `row` of [`Front::rows`]: select it, or open it when
    /// it is the selected one.
    fn click_row(&mut self, row: usize) {
        let rows = self.rows();
        let Some(name) = rows.get(row).map(|r| (*r).to_owned()) else {
            return;
        };
        if self.selected_index(&rows) == Some(row) {
            self.choose();
        } else {
            self.pick.selected = Some(name);
        }
    }
}
