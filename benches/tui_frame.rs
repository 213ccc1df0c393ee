//! Frame time and filter time of the TUI with a full history: 1,000,000
//! stored exchanges and 100,000 flows, drawn at 250x70 (all panes) and
//! 80x24, plus a new filter applied over every stored exchange.
//!
//! `cargo bench --bench tui_frame`. Prints figures; asserts nothing on timing.

mod common;

use std::time::{Duration, Instant};

use common::thread_cpu;

use podtap::app::{App, AppEvent, Pane};
use podtap::decode::ExchangeEvent;
use podtap::decode::flow::{FlowId, FlowInfo, Proto};
use podtap::decode::http::{BodyFraming, Exchange, Message, Request, Response};
use podtap::source::SourceEvent;
use podtap::ui;
use podtap::wire::Nanos;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const EXCHANGES: u64 = 1_000_000;
const FLOWS: u64 = 100_000;
const BASE: u64 = 1_750_000_000_000_000_000;

fn message(ts: u64, body: u64) -> Message {
    Message {
        version: 1,
        headers: Vec::new(),
        content_type: Some("application/json".into()),
        content_length: Some(body),
        framing: BodyFraming::Length,
        body_len: body,
        body_preview: Vec::new(),
        body_truncated: false,
        first_byte: Nanos(ts),
        last_byte: Nanos(ts),
        complete: true,
    }
}

fn exchange(n: u64) -> AppEvent {
    let ts = BASE + n * 100_000;
    let status = [200, 200, 200, 201, 404, 500, 503, 302][(n % 8) as usize];
    let path = format!(
        "/api/v1/{}/{}?page={}",
        ["cart", "products", "orders", "users"][(n % 4) as usize],
        n % 977,
        n % 13
    );
    let ex = Exchange {
        flow: FlowId(n % FLOWS),
        request: Request {
            method: ["GET", "GET", "POST", "PUT", "DELETE"][(n % 5) as usize].into(),
            path,
            host: Some(format!("svc-{}.shop.svc.cluster.local", n % 40)),
            message: message(ts, 0),
        },
        response: Some(Response {
            status,
            reason: "OK".into(),
            interim: Vec::new(),
            message: message(ts + 3_000_000, 512),
        }),
    };
    AppEvent::Source(SourceEvent::Exchange(Box::new(ExchangeEvent {
        exchange: ex,
        client: format!(
            "10.244.{}.{}:{}",
            (n / 250) % 250,
            n % 250,
            30000 + n % 30000
        )
        .parse()
        .expect("addr"),
        server: "10.244.1.23:8080".parse().expect("addr"),
    })))
}

fn flows() -> Vec<FlowInfo> {
    (0..FLOWS)
        .map(|i| {
            let mut f = FlowInfo::new(
                FlowId(i),
                Proto::Tcp,
                format!(
                    "10.244.{}.{}:{}",
                    (i / 250) % 250,
                    i % 250,
                    30000 + i % 30000
                )
                .parse()
                .expect("addr"),
                "10.244.1.23:8080".parse().expect("addr"),
                Nanos(BASE + i),
            );
            f.sides[0].bytes = i * 37 % 100_000;
            f.sides[1].bytes = i * 91 % 1_000_000;
            f.last_seen = Nanos(BASE + EXCHANGES * 100_000);
            f
        })
        .collect()
}

/// Per frame: wall-clock mean, wall-clock p99, CPU-time mean.
struct FrameTimes {
    mean: Duration,
    p99: Duration,
    cpu: Duration,
}

impl std::fmt::Display for FrameTimes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        write!(
            f,
            "mean {:.3} ms, p99 {:.3} ms, CPU {:.3} ms",
            ms(self.mean),
            ms(self.p99),
            ms(self.cpu)
        )
    }
}

/// Frames drawn; with `repaint`, the terminal is cleared before each, so
/// every cell is written again (the worst case: a frame where everything
/// changed), otherwise only what changed since the last frame is.
fn frame_time(app: &App, w: u16, h: u16, frames: u32, repaint: bool) -> FrameTimes {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    let mut each = Vec::with_capacity(frames as usize);
    let (start, cpu) = (Instant::now(), thread_cpu());
    for _ in 0..frames {
        let t = Instant::now();
        if repaint {
            terminal.clear().expect("clear");
        }
        terminal.draw(|f| ui::render(f, app)).expect("draw");
        each.push(t.elapsed());
    }
    let (wall, cpu) = (start.elapsed(), thread_cpu().saturating_sub(cpu));
    each.sort_unstable();
    FrameTimes {
        mean: wall / frames,
        p99: each[each.len() * 99 / 100],
        cpu: cpu / frames,
    }
}

fn main() {
    let mut app = common::app(EXCHANGES as usize, FLOWS as usize);
    let now = Instant::now();
    let t = Instant::now();
    for n in 0..EXCHANGES {
        app.update(exchange(n), now);
    }
    app.update(
        AppEvent::Source(SourceEvent::Flows {
            flows: flows(),
            full: true,
        }),
        now,
    );
    app.update(AppEvent::Tick, now);
    println!(
        "ingest {EXCHANGES} exchanges + {FLOWS} flows: {:.2} s",
        t.elapsed().as_secs_f64()
    );
    // What each flow report costs (the source sends one every 500 ms): the
    // flows that changed, here a tenth of them; the first report, and one
    // after the source dropped events, lists all.
    let mut next = flows();
    for f in next.iter_mut().step_by(10) {
        f.sides[1].bytes += 40_000;
    }
    for (what, full) in [
        ("changed flows (10,000)", false),
        ("all flows (full)", true),
    ] {
        let list: Vec<FlowInfo> = if full {
            next.clone()
        } else {
            next.iter().step_by(10).cloned().collect()
        };
        for f in next.iter_mut().step_by(10) {
            f.sides[1].bytes += 40_000;
        }
        let t_report = Instant::now();
        app.update(
            AppEvent::Source(SourceEvent::Flows { flows: list, full }),
            now,
        );
        let report = t_report.elapsed();
        let t_tick = Instant::now();
        app.update(AppEvent::Tick, now);
        println!(
            "flow report of {what} out of {FLOWS}: applied in {:.2} ms, order settled in {:.2} ms",
            report.as_secs_f64() * 1e3,
            t_tick.elapsed().as_secs_f64() * 1e3
        );
    }
    println!(
        "stored data: {:.1} MiB ({} B per exchange incl. flows)",
        app.memory() as f64 / 1_048_576.0,
        app.memory() as u64 / EXCHANGES
    );

    for (w, h) in [(250u16, 70u16), (80, 24)] {
        for pane in [Pane::Http, Pane::Flows, Pane::Ping] {
            app.focus = pane;
            let d = frame_time(&app, w, h, 200, false);
            println!("frame {w}x{h} focus {pane:?}: {d} (target <= 2 ms)");
            let d = frame_time(&app, w, h, 200, true);
            println!("frame {w}x{h} focus {pane:?}, every cell written: {d} (target <= 2 ms)");
        }
    }
    app.focus = Pane::Http;
    for filter in [
        "status:5xx",
        "method:POST path:/api/v1/cart",
        "checkout",
        "latency:>2ms !status:2xx",
        "",
    ] {
        let t = Instant::now();
        app.set_filter_text(filter);
        let d = t.elapsed();
        println!(
            "apply filter {filter:?} over {EXCHANGES}: {:.1} ms, {} shown (target <= 50 ms)",
            d.as_secs_f64() * 1e3,
            app.shown().count()
        );
    }
    app.set_filter_text("status:5xx");
    app.update(AppEvent::Tick, now);
    let d = frame_time(&app, 250, 70, 200, true);
    println!("frame 250x70 with a filter on, every cell written: {d}");
}
