//! Key bindings: one table from keys to [`Action`]s, configurable.
//!
//! Keys are written as in the config file: `q`, `?`, `ctrl-c`, `shift-tab`,
//! `enter`, `esc`, `space`, `up`, `down`, `pgup`, `pgdn`, `home`, `end`, `f1`.

use std::collections::HashMap;
use std::fmt::Write as _;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Everything a key can do outside text fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Leave podtap.
    Quit,
    /// Next pane.
    NextPane,
    /// Previous pane.
    PrevPane,
    /// Focus the HTTP pane.
    FocusHttp,
    /// Focus the flows pane.
    FocusFlows,
    /// Focus the ping pane.
    FocusPing,
    /// Selection up.
    Up,
    /// Selection down.
    Down,
    /// First row.
    Top,
    /// Last row.
    Bottom,
    /// A page up.
    PageUp,
    /// A page down.
    PageDown,
    /// Open the selected item.
    Open,
    /// Close, go back.
    Back,
    /// Freeze or unfreeze the view.
    TogglePause,
    /// Forget everything shown so far.
    Clear,
    /// Follow the newest rows.
    ToggleFollow,
    /// Show or mask secret headers.
    ToggleSecrets,
    /// Show the keys.
    Help,
    /// Open the filter bar.
    Filter,
    /// Add a ping target.
    AddTarget,
    /// Remove the selected ping target.
    RemoveTarget,
    /// Next sort order of the flows pane.
    CycleSort,
}

impl Action {
    /// Every action with its config name and help text, in help order.
    pub const ALL: [(Action, &'static str, &'static str); 23] = [
        (Action::Quit, "quit", "quit"),
        (Action::Help, "help", "show these keys"),
        (Action::NextPane, "next_pane", "next pane"),
        (Action::PrevPane, "prev_pane", "previous pane"),
        (Action::FocusHttp, "focus_http", "HTTP pane"),
        (Action::FocusFlows, "focus_flows", "TCP flows pane"),
        (Action::FocusPing, "focus_ping", "ping pane"),
        (Action::Up, "up", "move up"),
        (Action::Down, "down", "move down"),
        (Action::Top, "top", "first row"),
        (Action::Bottom, "bottom", "last row"),
        (Action::PageUp, "page_up", "page up"),
        (Action::PageDown, "page_down", "page down"),
        (Action::Open, "open", "open details"),
        (Action::Back, "back", "close / back / clear filter"),
        (Action::Filter, "filter", "filter"),
        (Action::TogglePause, "pause", "pause / resume the view"),
        (Action::ToggleFollow, "follow", "follow newest"),
        (Action::Clear, "clear", "clear"),
        (Action::ToggleSecrets, "secrets", "show / mask secrets"),
        (Action::AddTarget, "add_target", "add ping target"),
        (Action::RemoveTarget, "remove_target", "remove ping target"),
        (Action::CycleSort, "sort", "sort flows"),
    ];

    /// The action with this config name.
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(a, _, _)| *a)
    }
}

/// A key with its modifiers (shift only where it changes nothing else).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    /// The key.
    pub code: KeyCode,
    /// Ctrl and Alt (Shift is folded into characters and BackTab).
    pub modifiers: KeyModifiers,
}

impl Key {
    /// The key of a terminal event.
    pub fn from_event(e: &KeyEvent) -> Key {
        let modifiers = e.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT);
        Key {
            code: e.code,
            modifiers,
        }
    }

    /// Parses `ctrl-c`, `q`, `shift-tab`, `pgdn`, ...
    pub fn parse(text: &str) -> Result<Key, String> {
        let mut modifiers = KeyModifiers::NONE;
        let mut rest = text;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                modifiers |= KeyModifiers::CONTROL;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                modifiers |= KeyModifiers::ALT;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "shift-tab" | "backtab" => KeyCode::BackTab,
            "space" => KeyCode::Char(' '),
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pgup" => KeyCode::PageUp,
            "pgdn" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "backspace" => KeyCode::Backspace,
            "delete" => KeyCode::Delete,
            f if f.len() >= 2
                && f.starts_with('f')
                && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) =>
            {
                KeyCode::F(f[1..].parse().unwrap_or(1))
            }
            c if c.chars().count() == 1 => KeyCode::Char(c.chars().next().unwrap_or(' ')),
            _ => {
                return Err(format!(
                    "unknown key {text:?} (examples: q, ?, ctrl-c, shift-tab, enter, pgdn, f1)"
                ));
            }
        };
        Ok(Key { code, modifiers })
    }

    /// How the help screen writes it.
    pub fn label(&self) -> String {
        let mut s = String::new();
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            s.push_str("Ctrl-");
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            s.push_str("Alt-");
        }
        match self.code {
            KeyCode::Char(' ') => s.push_str("Space"),
            KeyCode::Char(c) => s.push(c),
            KeyCode::Enter => s.push_str("Enter"),
            KeyCode::Esc => s.push_str("Esc"),
            KeyCode::Tab => s.push_str("Tab"),
            KeyCode::BackTab => s.push_str("Shift-Tab"),
            KeyCode::Up => s.push('↑'),
            KeyCode::Down => s.push('↓'),
            KeyCode::PageUp => s.push_str("PgUp"),
            KeyCode::PageDown => s.push_str("PgDn"),
            KeyCode::Home => s.push_str("Home"),
            KeyCode::End => s.push_str("End"),
            KeyCode::F(n) => {
                let _ = write!(s, "F{n}");
            }
            other => {
                let _ = write!(s, "{other:?}");
            }
        }
        s
    }
}

/// The key table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMap {
    map: HashMap<Key, Action>,
}

const DEFAULTS: [(&str, Action); 30] = [
    ("q", Action::Quit),
    ("ctrl-c", Action::Quit),
    ("?", Action::Help),
    ("tab", Action::NextPane),
    ("shift-tab", Action::PrevPane),
    ("1", Action::FocusHttp),
    ("2", Action::FocusFlows),
    ("3", Action::FocusPing),
    ("k", Action::Up),
    ("up", Action::Up),
    ("j", Action::Down),
    ("down", Action::Down),
    ("g", Action::Top),
    ("home", Action::Top),
    ("G", Action::Bottom),
    ("end", Action::Bottom),
    ("pgup", Action::PageUp),
    ("ctrl-b", Action::PageUp),
    ("pgdn", Action::PageDown),
    ("ctrl-f", Action::PageDown),
    ("enter", Action::Open),
    ("esc", Action::Back),
    ("/", Action::Filter),
    ("space", Action::TogglePause),
    ("f", Action::ToggleFollow),
    ("c", Action::Clear),
    ("r", Action::ToggleSecrets),
    ("p", Action::AddTarget),
    ("d", Action::RemoveTarget),
    ("s", Action::CycleSort),
];

impl Default for KeyMap {
    fn default() -> Self {
        let map = DEFAULTS
            .iter()
            .filter_map(|(k, a)| Key::parse(k).ok().map(|k| (k, *a)))
            .collect();
        KeyMap { map }
    }
}

impl KeyMap {
    /// The defaults with `overrides` (key text -> action name) on top.
    pub fn with_overrides<'a>(
        overrides: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<KeyMap, String> {
        let mut km = KeyMap::default();
        for (key, action) in overrides {
            let k = Key::parse(key)?;
            if action == "none" {
                km.map.remove(&k);
                continue;
            }
            let a = Action::from_name(action).ok_or_else(|| {
                let names: Vec<&str> = Action::ALL.iter().map(|(_, n, _)| *n).collect();
                format!(
                    "unknown action {action:?} for key {key:?} (actions: {})",
                    names.join(", ")
                )
            })?;
            km.map.insert(k, a);
        }
        Ok(km)
    }

    /// The action of a key event, if bound.
    pub fn action(&self, e: &KeyEvent) -> Option<Action> {
        self.map.get(&Key::from_event(e)).copied()
    }

    /// The keys bound to `action`, sorted by label, for the help screen.
    pub fn keys_for(&self, action: Action) -> Vec<String> {
        let mut v: Vec<String> = self
            .map
            .iter()
            .filter(|(_, a)| **a == action)
            .map(|(k, _)| k.label())
            .collect();
        v.sort_by_key(|l| (l.chars().count(), l.clone()));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn defaults_and_overrides() {
        let km = KeyMap::default();
        assert_eq!(
            km.action(&ev(KeyCode::Char('q'), KeyModifiers::NONE)),
            Some(Action::Quit)
        );
        assert_eq!(
            km.action(&ev(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            km.action(&ev(KeyCode::Char('c'), KeyModifiers::NONE)),
            Some(Action::Clear)
        );
        assert_eq!(
            km.action(&ev(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
        assert_eq!(
            km.action(&ev(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(Action::PrevPane)
        );
        let km = KeyMap::with_overrides([("x", "quit"), ("q", "none")]).unwrap();
        assert_eq!(
            km.action(&ev(KeyCode::Char('x'), KeyModifiers::NONE)),
            Some(Action::Quit)
        );
        assert_eq!(km.action(&ev(KeyCode::Char('q'), KeyModifiers::NONE)), None);
        assert!(
            KeyMap::with_overrides([("x", "fly")])
                .unwrap_err()
                .contains("unknown action")
        );
        assert!(
            KeyMap::with_overrides([("hyper-x", "quit")])
                .unwrap_err()
                .contains("unknown key")
        );
        assert_eq!(
            KeyMap::default().keys_for(Action::Quit),
            vec!["q", "Ctrl-c"]
        );
    }

    #[test]
    fn every_action_has_a_default_key() {
        let km = KeyMap::default();
        for (a, name, _) in Action::ALL {
            assert!(!km.keys_for(a).is_empty(), "{name} has no key");
            assert_eq!(Action::from_name(name), Some(a));
        }
    }
}
