//! The TUI's state and the only code that changes it.
//!
//! Sources, the terminal and the clock send [`AppEvent`]s; [`App::update`]
//! applies them; [`crate::ui::render`] only reads the `App`. Nothing here
//! reads a clock: times come with the events, so tests drive it exactly.

use std::time::{Duration, Instant};

use crossterm::event::{KeyEvent, MouseEvent};
use ratatui_textarea::TextArea;

use crate::config::Config;
use crate::filter::{Filter, FilterError};
use crate::keys::KeyMap;
use crate::source::{SourceEvent, SourceStats};
use crate::store::{ExchangeStore, FlowSort, FlowStore, PingBoard, PingSample};
use crate::wire::agent::{AgentMessage, Control, FilterSpec};

mod input;

/// Evicted ids at the front of the visible list are removed in one go once
/// there are at least this many (and they are half the list).
const COMPACT_AT: usize = 4096;

/// The panes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    /// HTTP exchanges.
    Http,
    /// TCP/UDP flows.
    Flows,
    /// Ping targets.
    Ping,
}

impl Pane {
    const ORDER: [Pane; 3] = [Pane::Http, Pane::Flows, Pane::Ping];

    fn index(self) -> usize {
        Pane::ORDER.iter().position(|p| *p == self).unwrap_or(0)
    }
}

/// What has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The panes.
    Normal,
    /// The filter bar.
    Filter,
    /// The ping target field.
    AddTarget,
    /// The detail view of one exchange.
    Detail,
    /// The key help.
    Help,
}

/// Something that happened.
#[derive(Debug, Clone)]
pub enum AppEvent {
    /// A key.
    Key(KeyEvent),
    /// A mouse event.
    Mouse(MouseEvent),
    /// From the source.
    Source(SourceEvent),
    /// A mouse click, already placed on the screen by [`crate::ui::click_at`].
    Click(crate::ui::Click),
    /// Time passes (drives rates; the runner sends it on each frame).
    Tick,
}

/// Packets and bytes per second, from the source's counters.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rates {
    /// Packets per second.
    pub packets: f64,
    /// Bytes per second.
    pub bytes: f64,
}

/// The TUI state.
pub struct App {
    /// What the data comes from (`demo`, `file capture.pcap`, ...).
    pub source_name: String,
    /// Agent/source state line (`live`, `ended`, an error).
    pub source_state: String,
    /// Exchanges.
    pub exchanges: ExchangeStore,
    /// Flows.
    pub flows: FlowStore,
    /// Ping statistics.
    pub pings: PingBoard,
    /// Latest source counters.
    pub stats: SourceStats,
    /// Rates from the last two counter updates.
    pub rates: Rates,
    /// Focused pane.
    pub focus: Pane,
    /// Who has the keyboard.
    pub mode: Mode,
    /// Ids of the exchanges that pass the filter, oldest first, after a
    /// prefix of `dead` ids whose rows were evicted (see [`App::visible`]).
    visible_ids: Vec<u64>,
    /// How many ids at the front of `visible_ids` are evicted and not yet removed.
    dead: usize,
    /// Selected exchange id.
    pub selected: Option<u64>,
    /// Keep the newest exchange selected.
    pub follow: bool,
    /// With pause on, exchanges newer than this id stay hidden.
    pub paused_at: Option<u64>,
    /// Show Authorization, Cookie and the like unmasked.
    pub show_secrets: bool,
    /// The filter bar.
    pub filter_input: TextArea<'static>,
    /// The filter in force.
    pub filter: Filter,
    /// Why the text in the filter bar does not parse.
    pub filter_error: Option<FilterError>,
    /// Filters applied before, newest last.
    pub filter_history: Vec<String>,
    history_pos: Option<usize>,
    /// The ping target field.
    pub target_input: TextArea<'static>,
    /// Selected flow row.
    pub flow_selected: usize,
    /// Flow sort order.
    pub flow_sort: FlowSort,
    /// Selected ping target row.
    pub ping_selected: usize,
    /// Scroll offset of the detail view.
    pub detail_scroll: u16,
    /// Last message from the agent or about a control (shown in the status bar).
    pub message: Option<String>,
    /// Rows of the HTTP list on screen (set by the renderer's layout; used for paging).
    pub page: usize,
    /// Keys.
    pub keys: KeyMap,
    /// Control lines waiting for the source (drained by the runner).
    pub controls: Vec<Control>,
    /// Set when the user quits.
    pub should_quit: bool,
    /// Whether Esc (with nothing to close) leaves the panes (cluster mode: back to the pods).
    pub can_go_back: bool,
    /// Set when the user leaves the panes that way.
    pub wants_back: bool,
    /// The capture filter last sent to the agent.
    sent_spec: Option<FilterSpec>,
    /// The flows pane's sort and the filter's flow terms, as last given to the store.
    flow_view: Option<(FlowSort, String)>,
    last_stats: Option<(Instant, u64, u64)>,
}

impl App {
    /// A fresh app for a source named `source_name`.
    pub fn new(source_name: impl Into<String>, config: &Config) -> Self {
        App {
            source_name: source_name.into(),
            source_state: "starting".into(),
            exchanges: ExchangeStore::new(config.caps.exchanges, config.caps.details),
            flows: FlowStore::new(config.caps.flows),
            pings: PingBoard::default(),
            stats: SourceStats::default(),
            rates: Rates::default(),
            focus: Pane::Http,
            mode: Mode::Normal,
            visible_ids: Vec::new(),
            dead: 0,
            selected: None,
            follow: true,
            paused_at: None,
            show_secrets: false,
            filter_input: TextArea::default(),
            filter: Filter::default(),
            filter_error: None,
            filter_history: Vec::new(),
            history_pos: None,
            target_input: TextArea::default(),
            flow_selected: 0,
            flow_sort: FlowSort::default(),
            ping_selected: 0,
            detail_scroll: 0,
            message: None,
            page: 20,
            keys: config.key_map().unwrap_or_default(),
            controls: Vec::new(),
            should_quit: false,
            can_go_back: false,
            wants_back: false,
            sent_spec: None,
            flow_view: None,
            last_stats: None,
        }
    }

    /// Applies one event at time `now`.
    pub fn update(&mut self, event: AppEvent, now: Instant) {
        match event {
            AppEvent::Source(e) => self.on_source(e, now),
            AppEvent::Key(k) => self.on_key(k),
            AppEvent::Mouse(m) => self.on_mouse(m),
            AppEvent::Click(c) => self.on_click(c),
            AppEvent::Tick => self.flows.settle(),
        }
    }

    /// A line for the status bar from outside the source (stream reconnects, agent stderr).
    pub fn notice(&mut self, text: String) {
        self.message = Some(text);
    }

    /// Ids of the exchanges that pass the filter, oldest first (sorted).
    pub fn visible(&self) -> &[u64] {
        self.visible_ids.get(self.dead..).unwrap_or_default()
    }

    /// Exchange ids shown, newest first, honouring pause.
    pub fn shown(&self) -> impl Iterator<Item = u64> + '_ {
        let limit = self.paused_at.unwrap_or(u64::MAX);
        self.visible()
            .iter()
            .rev()
            .copied()
            .filter(move |id| *id <= limit)
    }

    fn on_source(&mut self, e: SourceEvent, now: Instant) {
        match e {
            SourceEvent::Exchange(x) => {
                let id = self.exchanges.push(*x);
                if let Some(row) = self.exchanges.get(id)
                    && self.filter.matches_exchange(row, &self.exchanges)
                {
                    self.visible_ids.push(id);
                }
                self.prune_visible();
                if self.follow && self.paused_at.is_none() {
                    self.selected = self.visible().last().copied();
                }
            }
            SourceEvent::FlowEnded(f, reason) => self.flows.ended(*f, reason),
            SourceEvent::Flows { flows, full } => {
                // The report's time: its newest packet (rates are per packet time).
                let ts = flows.iter().map(|f| f.last_seen).max().unwrap_or_default();
                self.flows.update(flows, full, ts);
            }
            SourceEvent::Ping(p) => self.pings.add(&PingSample::from(&p)),
            SourceEvent::Probe(p) => self.pings.add(&PingSample::from(&p)),
            SourceEvent::Agent(m) => self.on_agent(m),
            SourceEvent::Stats(s) => {
                if let Some((then, packets, bytes)) = self.last_stats {
                    let dt = now.saturating_duration_since(then).as_secs_f64();
                    if dt > 0.0 {
                        self.rates = Rates {
                            packets: s.packets.saturating_sub(packets) as f64 / dt,
                            bytes: s.bytes.saturating_sub(bytes) as f64 / dt,
                        };
                    }
                }
                self.last_stats = Some((now, s.packets, s.bytes));
                if self.source_state == "starting" {
                    self.source_state = "live".into();
                }
                self.stats = *s;
            }
            SourceEvent::Ended { error } => {
                self.rates = Rates::default();
                self.source_state = match error {
                    None => "ended".into(),
                    Some(e) => format!("ended: {e}"),
                };
            }
        }
    }

    fn on_agent(&mut self, m: AgentMessage) {
        match m {
            AgentMessage::Hello {
                hostname, version, ..
            } => {
                self.source_state = format!("agent {version} on {hostname}");
            }
            AgentMessage::Error { message } => self.message = Some(format!("agent: {message}")),
            AgentMessage::Ack { cmd } => self.message = Some(format!("agent applied {cmd}")),
            AgentMessage::Bye { reason } => self.source_state = format!("agent left: {reason}"),
            AgentMessage::Probe(p) => self.pings.add(&PingSample::from(&p)),
        }
    }

    /// Drops ids whose rows were evicted from the store. Evicted ids are
    /// only counted off the front; the vector is compacted once they are
    /// half of it, so a full store evicting one row per new exchange costs
    /// O(1) per exchange, not a move of a million ids.
    fn prune_visible(&mut self) {
        let gone = self
            .visible()
            .iter()
            .take_while(|id| self.exchanges.get(**id).is_none())
            .count();
        if gone > 0 {
            self.dead += gone;
            if self.dead >= COMPACT_AT && self.dead * 2 >= self.visible_ids.len() {
                self.visible_ids.drain(..self.dead);
                self.dead = 0;
            }
            if self
                .selected
                .is_some_and(|s| self.exchanges.get(s).is_none())
            {
                self.selected = self.visible().first().copied();
            }
        }
    }

    /// Recomputes the visible ids after a filter change.
    fn refilter(&mut self) {
        self.sync_flow_view();
        let matcher = self.filter.for_store(&self.exchanges);
        // Refilled in place: the allocation (8 MB for a million ids) is kept.
        self.visible_ids.clear();
        self.dead = 0;
        let rows = self.exchanges.rows();
        if self.filter.is_empty() {
            self.visible_ids.extend(rows.map(|r| r.id));
        } else {
            self.visible_ids
                .extend(rows.filter(|r| matcher.matches(r)).map(|r| r.id));
        }
        if self
            .selected
            .is_none_or(|s| self.visible().binary_search(&s).is_err())
        {
            let first = self.shown().next();
            self.selected = first;
        }
    }

    /// Sends the agent the capture filter the UI filter allows, when it changed
    /// (on Enter or when cleared, not on every keystroke).
    fn sync_capture_filter(&mut self) {
        let spec = self.filter.capture_spec();
        if spec != self.sent_spec {
            self.controls.push(Control::Filter {
                filter: spec.clone().unwrap_or_default(),
            });
            self.sent_spec = spec;
        }
    }

    /// Flows to list: sorted, and narrowed by the filter's flow terms
    /// (`ip:`, `port:`, `flow:`; HTTP-only terms do not restrict flows).
    pub fn flow_rows(&self) -> Vec<&crate::decode::flow::FlowInfo> {
        self.flows.window(0, usize::MAX)
    }

    /// How many rows the flows pane lists.
    pub fn flow_count(&self) -> usize {
        self.flows.listed()
    }

    /// `len` rows of the flows pane from `start`: only these are looked up,
    /// so a frame costs the same with 100 flows or 100,000.
    pub fn flow_window(&self, start: usize, len: usize) -> Vec<&crate::decode::flow::FlowInfo> {
        self.flows.window(start, len)
    }

    /// Newest packet time among the flows, the reference for their ages.
    pub fn flow_now(&self) -> crate::wire::Nanos {
        self.flows.newest()
    }

    /// Gives the flow store the sort and the filter's flow terms, which
    /// rebuilds its order once (it is then kept up to date report by report).
    fn sync_flow_view(&mut self) {
        let view = (self.flow_sort, self.filter.flow_part());
        if self.flow_view.as_ref() == Some(&view) {
            return;
        }
        let keep: Option<crate::store::Keep> = (!view.1.is_empty()).then(|| {
            let filter = self.filter.clone();
            Box::new(move |f: &crate::decode::flow::FlowInfo| filter.matches_flow(f))
                as crate::store::Keep
        });
        self.flows.set_view(self.flow_sort, keep);
        self.flow_view = Some(view);
    }

    /// Memory held by stored data, for the status bar.
    pub fn memory(&self) -> usize {
        self.exchanges.memory() + self.flows.memory()
    }

    /// How long ago, relative to `now`, the source last reported counters.
    pub fn stats_age(&self, now: Instant) -> Option<Duration> {
        self.last_stats
            .map(|(t, _, _)| now.saturating_duration_since(t))
    }
}
