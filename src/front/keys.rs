//! Keys on the pickers and the launch screen (k9s habits: j/k, g/G, Enter,
//! Esc up a level, `/` or any other letter filters; Ctrl-C quits).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::launch::LaunchView;
use super::{Front, Listing, Request, Stage, Target};

impl Front {
    /// A key. Ctrl-C quits from everywhere.
    pub fn on_key(&mut self, k: KeyEvent) {
        if k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c') {
            self.should_quit = true;
            return;
        }
        match self.stage {
            Stage::Launch => self.launch_key(k),
            Stage::Live => {}
            _ if self.pick.typing => self.typing_key(k),
            _ => self.list_key(k),
        }
    }

    fn launch_key(&mut self, k: KeyEvent) {
        match k.code {
            KeyCode::Esc | KeyCode::Backspace => {
                if self.launch.as_ref().is_some_and(|l| !l.finished()) {
                    self.requests.push(Request::Cancel);
                }
                self.first_pod = None;
                self.first_namespace = None;
                self.back_to_pods();
            }
            KeyCode::Char('q') => self.should_quit = true,
            KeyCode::Char('j') | KeyCode::Down => self.scroll_launch(1),
            KeyCode::Char('k') | KeyCode::Up => self.scroll_launch(-1),
            KeyCode::Char('r') | KeyCode::Enter => {
                // Retry after a failure.
                if let Some(l) = &self.launch
                    && l.finished()
                {
                    let target = l.target.clone();
                    if self.server.is_none() && !self.connecting {
                        // Not connected (the connection failed): connect again, then launch.
                        self.first_namespace = Some(target.namespace.clone());
                        self.first_pod = Some((target.pod.clone(), target.container.clone()));
                        self.connecting = true;
                        self.requests.push(Request::Connect {
                            context: self.context.clone(),
                        });
                        self.launch = Some(LaunchView::new(0, target, self.now));
                    } else {
                        self.start_launch(target);
                    }
                }
            }
            _ => {}
        }
    }

    pub(super) fn scroll_launch(&mut self, delta: i32) {
        if let Some(l) = &mut self.launch {
            let max = u16::try_from(l.lines()).unwrap_or(u16::MAX);
            l.scroll = l
                .scroll
                .saturating_add_signed(delta.clamp(-1, 1) as i16)
                .min(max);
        }
    }

    fn typing_key(&mut self, k: KeyEvent) {
        match k.code {
            KeyCode::Esc => {
                self.pick.query.clear();
                self.pick.typing = false;
            }
            KeyCode::Enter => self.choose(),
            KeyCode::Backspace if self.pick.query.pop().is_none() => self.pick.typing = false,
            KeyCode::Up => self.move_by(-1),
            KeyCode::Down => self.move_by(1),
            KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => {
                self.pick.query.push(c);
            }
            _ => {}
        }
    }

    fn list_key(&mut self, k: KeyEvent) {
        match k.code {
            KeyCode::Char('q') => self.should_quit = true,
            KeyCode::Char('j') | KeyCode::Down => self.move_by(1),
            KeyCode::Char('k') | KeyCode::Up => self.move_by(-1),
            KeyCode::Char('g') | KeyCode::Home => self.move_by(isize::MIN / 2),
            KeyCode::Char('G') | KeyCode::End => self.move_by(isize::MAX / 2),
            KeyCode::PageDown => self.move_by(20),
            KeyCode::PageUp => self.move_by(-20),
            KeyCode::Enter | KeyCode::Right | KeyCode::Char('l') => self.choose(),
            KeyCode::Esc | KeyCode::Left | KeyCode::Char('h') | KeyCode::Backspace => {
                if self.pick.query.is_empty() {
                    self.back();
                } else {
                    self.pick.query.clear();
                }
            }
            KeyCode::Char('/') => self.pick.typing = true,
            KeyCode::Char(c)
                if !k
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                // Type to filter: any other letter starts the filter with itself.
                self.pick.typing = true;
                self.pick.query.push(c);
            }
            _ => {}
        }
    }

    pub(super) fn move_by(&mut self, delta: isize) {
        let rows = self.rows();
        let Some(at) = self.selected_index(&rows) else {
            return;
        };
        let last = rows.len() - 1;
        let to = at.saturating_add_signed(delta).min(last);
        self.pick.selected = Some(rows[to].to_owned());
    }

    /// Enter on the selected row (on a namespace list that is empty or
    /// forbidden, the typed name is used as the namespace).
    pub(super) fn choose(&mut self) {
        let rows = self.rows();
        let chosen = self
            .selected_index(&rows)
            .map(|i| rows[i].to_owned())
            .or_else(|| {
                (self.stage == Stage::Namespaces && !self.pick.query.is_empty())
                    .then(|| self.pick.query.clone())
            });
        let Some(name) = chosen else { return };
        match self.stage {
            Stage::Contexts => {
                self.context = Some(name.clone());
                self.connecting = true;
                self.server = None;
                self.namespaces = Listing::default();
                self.pods = Listing::default();
                self.requests.push(Request::Connect {
                    context: Some(name),
                });
                self.enter(Stage::Pods);
            }
            Stage::Namespaces => {
                self.namespace = name;
                self.watch_pods();
                self.enter(Stage::Pods);
            }
            Stage::Pods => {
                let Some(pod) = self.pods.get(&name) else {
                    return;
                };
                if pod.containers.len() > 1 {
                    self.pod = Some(name);
                    self.enter(Stage::Containers);
                    // Start on the default container.
                    self.pick.selected = self
                        .selected_pod()
                        .and_then(|p| p.default_container.clone());
                } else {
                    let target = Target {
                        namespace: self.namespace.clone(),
                        pod: name,
                        container: None,
                    };
                    self.start_launch(target);
                }
            }
            Stage::Containers => {
                let Some(pod) = self.pod.clone() else { return };
                let target = Target {
                    namespace: self.namespace.clone(),
                    pod,
                    container: Some(name),
                };
                self.start_launch(target);
            }
            Stage::Launch | Stage::Live => {}
        }
    }

    /// Esc: one level up (pods -> namespaces -> contexts); at the top it quits.
    fn back(&mut self) {
        match self.stage {
            Stage::Containers => {
                let pod = self.pod.take();
                self.enter(Stage::Pods);
                self.pick.selected = pod;
            }
            Stage::Pods => {
                let ns = self.namespace.clone();
                self.enter(Stage::Namespaces);
                self.pick.selected = Some(ns);
            }
            Stage::Namespaces if !self.contexts.is_empty() => {
                let ctx = self.context.clone();
                self.enter(Stage::Contexts);
                self.pick.selected = ctx;
            }
            Stage::Namespaces | Stage::Contexts => self.should_quit = true,
            Stage::Launch | Stage::Live => {}
        }
    }
}
