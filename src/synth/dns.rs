//! The pod's DNS lookups: A/AAAA queries to the cluster DNS Service over UDP 53.
//!
//! Short names resolve on the first search domain; external names walk the
//! `ndots:5` search list (NXDOMAIN three times) before the real answer, as
//! glibc and musl resolvers do inside Kubernetes pods.

use super::World;
use crate::wire::Direction;

/// The cluster DNS Service (`kube-dns`, served by `CoreDNS`).
pub(crate) const CLUSTER_DNS: [u8; 4] = [10, 96, 0, 10];
const SEARCH: [&str; 3] = [
    "shop.svc.cluster.local",
    "svc.cluster.local",
    "cluster.local",
];
const SERVICES: [&str; 4] = ["payments", "redis", "inventory", "postgres.db"];
const EXTERNAL: [&str; 2] = ["api.stripe.com", "hooks.slack.com"];
const TYPE_A: u16 = 1;
const TYPE_AAAA: u16 = 28;

/// One scripted DNS message.
#[derive(Debug, Clone, Copy)]
struct Msg {
    at: u64,
    query: bool,
    id: u16,
    qtype: u16,
    name: &'static str,
    suffix: Option<&'static str>,
    /// The A record in a positive answer; `None` with `nxdomain` false means NOERROR, no data.
    answer: Option<[u8; 4]>,
    nxdomain: bool,
}

/// The pod's stub resolver.
pub(crate) struct Resolver {
    script: Vec<Msg>,
    pos: usize,
    port: u16,
    next_id: u16,
    buf: Vec<u8>,
}

impl Resolver {
    /// A resolver whose first lookup starts at `start`.
    pub(crate) fn new(w: &mut World, start: u64) -> Self {
        let mut r = Resolver {
            script: Vec::new(),
            pos: 0,
            port: 0,
            next_id: w.rng.next_u32() as u16,
            buf: Vec::new(),
        };
        r.plan(w, start);
        r
    }

    /// Time of the next message.
    pub(crate) fn next_at(&self) -> u64 {
        self.script[self.pos].at
    }

    /// Writes the next message into `w.frame` and plans the next lookup when done.
    pub(crate) fn emit(&mut self, w: &mut World) -> (u64, Direction) {
        let m = self.script[self.pos];
        self.pos += 1;
        self.buf.clear();
        encode(&mut self.buf, &m);
        let direction = if m.query {
            w.summary.dns_queries += 1;
            Direction::Outbound
        } else {
            w.summary.dns_responses += 1;
            Direction::Inbound
        };
        w.link.udp(
            &mut w.frame,
            (CLUSTER_DNS, 53),
            self.port,
            direction,
            &self.buf,
        );
        if self.pos == self.script.len() {
            let pause = w.rng.exp_ns(w.dns_mean_ns);
            self.plan(w, m.at + pause);
        }
        (m.at, direction)
    }

    fn id(&mut self) -> u16 {
        self.next_id = self.next_id.wrapping_add(1);
        self.next_id
    }

    /// Scripts one lookup starting at `t`.
    fn plan(&mut self, w: &mut World, mut t: u64) {
        self.script.clear();
        self.pos = 0;
        self.port = w.rng.range(32_768, 60_999) as u16;
        let rng = &mut w.rng;
        if rng.chance(800) {
            let name = SERVICES[rng.below(SERVICES.len() as u64) as usize];
            let answer = [10, 96, rng.below(256) as u8, rng.range(1, 254) as u8];
            let (a, aaaa) = (self.id(), self.id());
            let rtt = w.rng.range(80, 900) * 1_000;
            let base = Msg {
                at: t,
                query: true,
                id: a,
                qtype: TYPE_A,
                name,
                suffix: Some(SEARCH[0]),
                answer: None,
                nxdomain: false,
            };
            self.script.push(base);
            self.script.push(Msg {
                at: t + 15_000,
                id: aaaa,
                qtype: TYPE_AAAA,
                ..base
            });
            self.script.push(Msg {
                at: t + rtt,
                query: false,
                answer: Some(answer),
                ..base
            });
            self.script.push(Msg {
                at: t + rtt + 20_000,
                query: false,
                id: aaaa,
                qtype: TYPE_AAAA,
                ..base
            });
        } else {
            let name = EXTERNAL[rng.below(EXTERNAL.len() as u64) as usize];
            for suffix in SEARCH.iter().copied().map(Some).chain([None]) {
                let id = self.id();
                let external = suffix.is_none();
                let rtt = if external {
                    w.rng.range(2_000, 25_000)
                } else {
                    w.rng.range(80, 600)
                } * 1_000;
                let answer =
                    external.then(|| [3, 18, w.rng.below(256) as u8, w.rng.range(1, 254) as u8]);
                let q = Msg {
                    at: t,
                    query: true,
                    id,
                    qtype: TYPE_A,
                    name,
                    suffix,
                    answer: None,
                    nxdomain: false,
                };
                self.script.push(q);
                self.script.push(Msg {
                    at: t + rtt,
                    query: false,
                    answer,
                    nxdomain: !external,
                    ..q
                });
                t += rtt + 30_000;
            }
        }
    }
}

/// Encodes `m` as a DNS message (RFC 1035).
fn encode(out: &mut Vec<u8>, m: &Msg) {
    let flags: u16 = match (m.query, m.nxdomain) {
        (true, _) => 0x0100,
        (false, false) => 0x8180,
        (false, true) => 0x8183,
    };
    let answers = u16::from(!m.query && m.answer.is_some());
    let authority = u16::from(!m.query && m.answer.is_none());
    for v in [m.id, flags, 1, answers, authority, 0] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    let labels = m
        .name
        .split('.')
        .chain(m.suffix.into_iter().flat_map(|s| s.split('.')));
    for label in labels {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out.extend_from_slice(&m.qtype.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    if m.query {
        return;
    }
    if let Some(ip) = m.answer {
        // Name: a pointer to the question at offset 12.
        out.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4]);
        out.extend_from_slice(&ip);
    } else {
        // The zone's SOA, as negative answers carry for caching (RFC 2308).
        out.extend_from_slice(&[0x07]);
        out.extend_from_slice(b"cluster");
        out.extend_from_slice(&[0x05]);
        out.extend_from_slice(b"local");
        out.extend_from_slice(&[0, 0, 6, 0, 1, 0, 0, 0, 5]);
        let mut rdata = Vec::with_capacity(64);
        for name in ["ns.dns.cluster.local", "hostmaster.cluster.local"] {
            for label in name.split('.') {
                rdata.push(label.len() as u8);
                rdata.extend_from_slice(label.as_bytes());
            }
            rdata.push(0);
        }
        for v in [1_750_000_000u32, 7200, 1800, 86_400, 5] {
            rdata.extend_from_slice(&v.to_be_bytes());
        }
        out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        out.extend_from_slice(&rdata);
    }
}
