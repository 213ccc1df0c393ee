//! A table for people: one row per exchange, ping and finished flow as they
//! complete, then a summary. Network strings are sanitised before printing.

use std::io::{self, BufWriter, Write};

use super::{Output, Summary};
use crate::decode::Event;
use crate::decode::icmp::PingOutcome;
use crate::text::sanitize;
use crate::wire::Nanos;

pub(super) struct TableOutput<W: Write> {
    out: BufWriter<W>,
    header_done: bool,
}

impl<W: Write> TableOutput<W> {
    pub(super) fn new(out: W) -> Self {
        TableOutput {
            out: BufWriter::new(out),
            header_done: false,
        }
    }
}

/// `HH:MM:SS.mmm` (UTC) of a capture timestamp.
fn clock(ts: Nanos) -> String {
    let ms = ts.0 / 1_000_000;
    let (h, m, s) = ((ms / 3_600_000) % 24, (ms / 60_000) % 60, (ms / 1000) % 60);
    format!("{h:02}:{m:02}:{s:02}.{:03}", ms % 1000)
}

fn millis(n: Option<Nanos>) -> String {
    n.map_or_else(|| "-".to_owned(), |n| format!("{:.1}ms", n.as_millis_f64()))
}

/// A byte count in a short human form (`512`, `1.5k`, `3.2M`).
fn size(n: u64) -> String {
    match n {
        0..1_000 => n.to_string(),
        1_000..1_000_000 => format!("{:.1}k", n as f64 / 1e3),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

impl<W: Write> Output for TableOutput<W> {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        if !self.header_done {
            self.header_done = true;
            writeln!(
                self.out,
                "{:<12} {:<7} {:>6} {:>9} {:>7}  {:<40} FLOW",
                "TIME", "METHOD", "STATUS", "LATENCY", "SIZE", "HOST/PATH"
            )?;
        }
        match event {
            Event::Exchange(e) => {
                let x = &e.exchange;
                let status = x
                    .response
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), |r| r.status.to_string());
                let body = x.response.as_ref().map_or(0, |r| r.message.body_len);
                let target = format!(
                    "{}{}",
                    x.request.host.as_deref().unwrap_or(""),
                    x.request.path
                );
                writeln!(
                    self.out,
                    "{:<12} {:<7} {:>6} {:>9} {:>7}  {:<40} {} -> {}",
                    clock(x.request.message.first_byte),
                    sanitize(&x.request.method),
                    status,
                    millis(x.latency()),
                    size(body),
                    sanitize(&target),
                    e.client,
                    e.server
                )
            }
            Event::Ping(p) => {
                let result = match p.outcome {
                    PingOutcome::Reply { rtt } => format!("rtt {}", millis(Some(rtt))),
                    PingOutcome::Duplicate { rtt } => format!("rtt {} (DUP!)", millis(Some(rtt))),
                    PingOutcome::Lost => "lost".to_owned(),
                };
                writeln!(
                    self.out,
                    "{:<12} PING    {} -> {} seq={} {result}",
                    clock(p.sent),
                    p.source,
                    p.target,
                    p.seq
                )
            }
            Event::FlowEnded(f, end) => writeln!(
                self.out,
                "{:<12} FLOW    {} {} -> {} {} ({}) {} pkts {} bytes, {} retransmissions, handshake {}",
                clock(f.last_seen),
                f.proto.as_str(),
                f.client,
                f.server,
                f.state.as_str(),
                end.as_str(),
                f.packets(),
                size(f.bytes()),
                f.sides[0].retransmissions + f.sides[1].retransmissions,
                millis(f.rtt_syn_synack),
            ),
        }
    }

    fn probe(&mut self, p: &crate::wire::agent::ProbeResult) -> io::Result<()> {
        use crate::wire::agent::ProbeOutcome;
        let result = match (p.outcome, p.rtt_ns) {
            (ProbeOutcome::Reply, Some(rtt)) => format!("rtt {}", millis(Some(Nanos(rtt)))),
            (o, _) => format!("{o:?}").to_lowercase(),
        };
        writeln!(
            self.out,
            "{:<12} PING    {} seq={} {result}",
            clock(Nanos(p.sent_ns)),
            sanitize(&p.target),
            p.seq
        )?;
        self.out.flush()
    }

    fn summary(&mut self, s: &Summary) -> io::Result<()> {
        let st = &s.stats;
        writeln!(self.out)?;
        writeln!(
            self.out,
            "{} packets ({}B), {} flows, {} HTTP exchanges ({} unanswered), {} ping replies, {} pings lost",
            st.packets,
            size(st.bytes),
            st.flows,
            st.exchanges,
            st.unanswered,
            st.ping_replies,
            st.ping_lost
        )?;
        writeln!(
            self.out,
            "{} decode errors, {} dropped by the capture",
            st.decode_errors(),
            s.capture_dropped
        )?;
        let drops = st.drops_and_errors();
        if !drops.is_empty() {
            let list: Vec<String> = drops.iter().map(|(k, v)| format!("{k}={v}")).collect();
            writeln!(self.out, "counters: {}", list.join(" "))?;
        }
        if let Some(e) = &s.error {
            writeln!(self.out, "input damaged: {e}")?;
        }
        if let Some(e) = &s.ended {
            writeln!(self.out, "ended: {}", sanitize(e))?;
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_and_sizes() {
        assert_eq!(clock(Nanos(3_723_004_000_000)), "01:02:03.004");
        assert_eq!(size(999), "999");
        assert_eq!(size(1_500), "1.5k");
        assert_eq!(size(3_200_000), "3.2M");
        assert_eq!(millis(None), "-");
        assert_eq!(millis(Some(Nanos(1_250_000))), "1.2ms");
    }
}
