//! Every colour and text style of the TUI, in one place.
//!
//! Two themes: [`Theme::default_colors`] and [`Theme::mono`], which uses only
//! bold, dim, underline and reverse, for terminals and users that want no
//! colour (`NO_COLOR`, <https://no-color.org>). Render code never names a
//! colour; it asks the theme for a role.

use std::sync::OnceLock;

use ratatui::style::{Color, Modifier, Style};

/// Styles by role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Plain text.
    pub text: Style,
    /// Less important text (units, hints, placeholders).
    pub dim: Style,
    /// Borders of unfocused panes.
    pub border: Style,
    /// Border of the focused pane.
    pub border_focus: Style,
    /// Pane titles.
    pub title: Style,
    /// Table header rows.
    pub header: Style,
    /// The selected row.
    pub selected: Style,
    /// Status 2xx.
    pub status_2xx: Style,
    /// Status 3xx.
    pub status_3xx: Style,
    /// Status 4xx.
    pub status_4xx: Style,
    /// Status 5xx.
    pub status_5xx: Style,
    /// No response.
    pub status_none: Style,
    /// Errors: invalid filter, source failures.
    pub error: Style,
    /// Warnings: drops, retransmissions, resets, losses.
    pub warn: Style,
    /// Tab bar.
    pub tab: Style,
    /// The focused tab.
    pub tab_active: Style,
    /// Status bar background.
    pub status_bar: Style,
    /// PAUSED / FOLLOW flags.
    pub flag: Style,
    /// Masked secrets.
    pub masked: Style,
    /// Header names in the detail view.
    pub key: Style,
    /// Section headings in the detail view.
    pub heading: Style,
    /// RTT line of the ping chart.
    pub chart: Style,
    /// Lost probes in the ping chart.
    pub loss: Style,
}

impl Default for Theme {
    fn default() -> Self {
        Theme::default_colors()
    }
}

static PROCESS_THEME: OnceLock<Theme> = OnceLock::new();

impl Theme {
    /// The coloured theme.
    pub fn default_colors() -> Theme {
        let plain = Style::new();
        Theme {
            text: plain,
            dim: Style::new().fg(Color::DarkGray),
            border: Style::new().fg(Color::DarkGray),
            border_focus: Style::new().fg(Color::Cyan),
            title: Style::new().add_modifier(Modifier::BOLD),
            header: Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            selected: Style::new()
                .bg(Color::DarkGray)
                .add_modifier(Modifier::BOLD),
            status_2xx: Style::new().fg(Color::Green),
            status_3xx: Style::new().fg(Color::Cyan),
            status_4xx: Style::new().fg(Color::Yellow),
            status_5xx: Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            status_none: Style::new().fg(Color::DarkGray),
            error: Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            warn: Style::new().fg(Color::Yellow),
            tab: Style::new().fg(Color::Gray),
            tab_active: Style::new()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
            status_bar: Style::new().fg(Color::White).bg(Color::Blue),
            flag: Style::new()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
            masked: Style::new().fg(Color::Magenta),
            key: Style::new().fg(Color::Cyan),
            heading: Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            chart: Style::new().fg(Color::Green),
            loss: Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        }
    }

    /// No colours at all: only bold, dim, underline and reverse.
    pub fn mono() -> Theme {
        let plain = Style::new();
        let bold = Style::new().add_modifier(Modifier::BOLD);
        let dim = Style::new().add_modifier(Modifier::DIM);
        let rev = Style::new().add_modifier(Modifier::REVERSED);
        Theme {
            text: plain,
            dim,
            border: plain,
            border_focus: bold,
            title: bold,
            header: Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            selected: rev,
            status_2xx: plain,
            status_3xx: plain,
            status_4xx: bold,
            status_5xx: Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            status_none: dim,
            error: Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            warn: bold,
            tab: plain,
            tab_active: rev,
            status_bar: rev,
            flag: bold,
            masked: dim,
            key: bold,
            heading: Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            chart: plain,
            loss: bold,
        }
    }

    /// A theme by its config name (`default` or `mono`).
    pub fn named(name: &str) -> Option<Theme> {
        match name {
            "default" => Some(Theme::default_colors()),
            "mono" => Some(Theme::mono()),
            _ => None,
        }
    }

    /// The theme for this process: [`Theme::mono`] when `NO_COLOR` is set
    /// to a non-empty value, else the one [`Theme::configure`] chose, else
    /// the coloured one. Settled on first use.
    pub fn current() -> &'static Theme {
        PROCESS_THEME.get_or_init(|| Theme::choose(None))
    }

    /// Picks the process theme from the config file's `theme` (before the
    /// first frame; `NO_COLOR` still wins). Later calls change nothing.
    pub fn configure(name: Option<&str>) {
        let _ = PROCESS_THEME.set(Theme::choose(name));
    }

    fn choose(name: Option<&str>) -> Theme {
        if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            return Theme::mono();
        }
        name.and_then(Theme::named)
            .unwrap_or_else(Theme::default_colors)
    }

    /// The style of an HTTP status (or of no response).
    pub fn status(&self, status: Option<u16>) -> Style {
        match status {
            Some(200..=299) => self.status_2xx,
            Some(300..=399) => self.status_3xx,
            Some(400..=499) => self.status_4xx,
            Some(500..=599) => self.status_5xx,
            Some(_) => self.text,
            None => self.status_none,
        }
    }

    /// The border style of a pane, by focus.
    pub fn pane_border(&self, focused: bool) -> Style {
        if focused {
            self.border_focus
        } else {
            self.border
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_picks_the_theme_unless_no_color_is_set() {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let expect = |named: Theme| if no_color { Theme::mono() } else { named };
        assert_eq!(Theme::choose(Some("mono")), expect(Theme::mono()));
        assert_eq!(
            Theme::choose(Some("default")),
            expect(Theme::default_colors())
        );
        assert_eq!(Theme::choose(None), expect(Theme::default_colors()));
        assert_ne!(Theme::mono(), Theme::default_colors());
    }
}
