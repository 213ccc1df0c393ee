//! Rendering (being written).

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::app::App;

/// Draws the whole screen.
pub fn render(frame: &mut Frame, app: &App) {
    let _ = (frame, app);
}

/// Rows of the HTTP list in a terminal of `area` (for paging keys).
pub fn page_rows(area: Rect, app: &App) -> usize {
    let _ = app;
    usize::from(area.height.saturating_sub(4))
}
