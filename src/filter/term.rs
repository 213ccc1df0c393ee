//! Parsed terms: what each one tests, and its canonical text.

use std::fmt;
use std::net::IpAddr;

use crate::decode::flow::{FlowInfo, FlowState};
use crate::store::flows::retransmissions;
use crate::store::{ExchangeRow, ExchangeStore, Sym};
use crate::wire::Nanos;

/// One term, possibly negated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Term {
    pub negated: bool,
    pub test: Test,
}

/// What a term tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Test {
    /// Method, compared case-insensitively (kept upper case).
    Method(String),
    /// Status code.
    Status(StatusTest),
    /// Path substring, or prefix.
    Path { needle: String, prefix: bool },
    /// Host substring, case-insensitive (kept lower case).
    Host(String),
    /// Client or server address in a network.
    Ip(IpNet),
    /// Client or server port.
    Port(u16),
    /// Exchange latency compared to a duration.
    Latency(Cmp, Nanos),
    /// A flow condition.
    Flow(FlowCond),
    /// Free text (kept lower case).
    Text(String),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    pub fn holds<T: Ord + Copy>(self, a: T, b: T) -> bool {
        match self {
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        }
    }
}

/// A `status:` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatusTest {
    /// No response.
    None,
    /// Exactly this code.
    Code(u16),
    /// `4xx`: the hundreds digit.
    Class(u16),
    /// A comparison (never true without a response).
    Cmp(Cmp, u16),
}

/// A `flow:` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FlowCond {
    Rst,
    Fin,
    Open,
    Midstream,
    Retrans,
}

impl FlowCond {
    pub const ALL: [(&'static str, FlowCond); 5] = [
        ("rst", FlowCond::Rst),
        ("fin", FlowCond::Fin),
        ("open", FlowCond::Open),
        ("midstream", FlowCond::Midstream),
        ("retrans", FlowCond::Retrans),
    ];

    fn as_str(self) -> &'static str {
        FlowCond::ALL
            .iter()
            .find(|(_, c)| *c == self)
            .map_or("", |(n, _)| n)
    }
}

/// An address with a prefix length (a single address has the full length).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IpNet {
    /// The network address, host bits cleared.
    pub addr: IpAddr,
    pub len: u8,
}

impl IpNet {
    /// The network of `addr/len` (host bits cleared); `None` when `len` is too long.
    pub fn new(addr: IpAddr, len: u8) -> Option<IpNet> {
        let addr = match addr {
            IpAddr::V4(a) if len <= 32 => {
                let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
                IpAddr::V4((u32::from(a) & mask).into())
            }
            IpAddr::V6(a) if len <= 128 => {
                let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
                IpAddr::V6((u128::from(a) & mask).into())
            }
            _ => return None,
        };
        Some(IpNet { addr, len })
    }

    fn full_len(&self) -> u8 {
        if self.addr.is_ipv4() { 32 } else { 128 }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.len)).unwrap_or(0);
                u32::from(a) & mask == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.len))
                    .unwrap_or(0);
                u128::from(a) & mask == u128::from(net)
            }
            _ => false,
        }
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.len == self.full_len() {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.len)
        }
    }
}

impl Term {
    /// Whether an exchange passes this term (`flow:` terms pass everything).
    pub fn matches_exchange(&self, row: &ExchangeRow, store: &ExchangeStore) -> bool {
        self.matches_with(row, store, None, None)
    }

    /// Like `matches_exchange`; `syms`, when given, says for each symbol
    /// whether its text passes this term (see [`Term::sym_hit`]), so a
    /// method, host or free-text term does not look at the text again;
    /// `path_hit`, when given, whether the row's path contains this term's
    /// needle (see [`Term::path_needle`]).
    pub fn matches_with(
        &self,
        row: &ExchangeRow,
        store: &ExchangeStore,
        syms: Option<&[bool]>,
        path_hit: Option<bool>,
    ) -> bool {
        let path = || store.path_bytes(row);
        let known = |s: Sym| syms.and_then(|t| t.get(s.0 as usize).copied());
        let sym =
            |s: Sym| known(s).unwrap_or_else(|| self.sym_hit(store.text_lower(s)).unwrap_or(true));
        let hit = match &self.test {
            Test::Method(_) => sym(row.method),
            Test::Status(s) => status_matches(*s, row.status),
            Test::Path {
                needle,
                prefix: true,
            } => path().starts_with(needle.as_bytes()),
            Test::Path {
                needle,
                prefix: false,
            } => path_hit.unwrap_or_else(|| contains(path(), needle.as_bytes())),
            Test::Host(_) => sym(row.host),
            Test::Ip(net) => net.contains(row.client.ip()) || net.contains(row.server.ip()),
            Test::Port(p) => row.client.port() == *p || row.server.port() == *p,
            Test::Latency(cmp, d) => row.latency.is_some_and(|l| cmp.holds(l, *d)),
            Test::Flow(_) => return true,
            Test::Text(t) => {
                let t = t.as_bytes();
                sym(row.method)
                    || sym(row.host)
                    || path_hit.unwrap_or_else(|| contains_ignore_case(path(), t))
                    || row.status.is_some_and(|s| contains(&status_digits(s), t))
            }
        };
        hit != self.negated
    }

    /// The needle a path must contain for this term, and whether case is
    /// ignored (free text); `None` for terms that do not search paths so.
    pub fn path_needle(&self) -> Option<(&str, bool)> {
        match &self.test {
            Test::Path {
                needle,
                prefix: false,
            } => Some((needle, false)),
            Test::Text(t) => Some((t, true)),
            _ => None,
        }
    }

    /// Whether an interned string (given in lower case) passes this term:
    /// for method, host and free-text terms; `None` for the others.
    pub fn sym_hit(&self, lower: &str) -> Option<bool> {
        match &self.test {
            Test::Method(m) => Some(lower.eq_ignore_ascii_case(m)),
            Test::Host(n) | Test::Text(n) => Some(contains(lower.as_bytes(), n.as_bytes())),
            _ => None,
        }
    }

    /// Whether this term can hide a flow (`ip:`, `port:`, `flow:`).
    pub fn is_about_flows(&self) -> bool {
        matches!(self.test, Test::Ip(_) | Test::Port(_) | Test::Flow(_))
    }

    /// Whether a flow passes this term (HTTP-only terms pass everything).
    pub fn matches_flow(&self, flow: &FlowInfo) -> bool {
        let hit = match &self.test {
            Test::Ip(net) => net.contains(flow.client.ip()) || net.contains(flow.server.ip()),
            Test::Port(p) => flow.client.port() == *p || flow.server.port() == *p,
            Test::Flow(c) => match c {
                FlowCond::Rst => flow.state == FlowState::Reset,
                FlowCond::Fin => matches!(flow.state, FlowState::Closing | FlowState::Closed),
                FlowCond::Open => flow.state == FlowState::Established,
                FlowCond::Midstream => flow.midstream,
                FlowCond::Retrans => retransmissions(flow) > 0,
            },
            _ => return true,
        };
        hit != self.negated
    }
}

fn status_matches(test: StatusTest, status: Option<u16>) -> bool {
    match (test, status) {
        (StatusTest::None, s) => s.is_none(),
        (_, None) => false,
        (StatusTest::Code(c), Some(s)) => s == c,
        (StatusTest::Class(c), Some(s)) => s / 100 == c,
        (StatusTest::Cmp(cmp, c), Some(s)) => cmp.holds(s, c),
    }
}

/// A status code's decimal digits, without allocating (codes are at most 999 once parsed).
fn status_digits(s: u16) -> [u8; 3] {
    let s = s.min(999);
    [
        b'0' + (s / 100) as u8,
        b'0' + (s / 10 % 10) as u8,
        b'0' + (s % 10) as u8,
    ]
}

/// Whether `needle` occurs in `hay` (both bytes, exact).
pub(crate) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    if hay.len() < needle.len() {
        return false;
    }
    let last_start = hay.len() - needle.len();
    hay[..=last_start]
        .iter()
        .enumerate()
        .any(|(i, &b)| b == first && &hay[i + 1..i + needle.len()] == rest)
}

/// Whether the lower-case `needle` occurs in `hay`, ignoring ASCII case.
pub(crate) fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    if hay.len() < needle.len() {
        return false;
    }
    // Scan for the first byte in either case; compare the rest only there.
    let upper = first.to_ascii_uppercase();
    let last_start = hay.len() - needle.len();
    hay[..=last_start].iter().enumerate().any(|(i, &b)| {
        (b == first || b == upper) && hay[i + 1..i + needle.len()].eq_ignore_ascii_case(rest)
    })
}

/// Writes a value, quoted when it would not read back as one word (or when `quote`).
fn write_value(f: &mut fmt::Formatter<'_>, v: &str, quote: bool) -> fmt::Result {
    let plain = !quote
        && !v.is_empty()
        && !v
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '\\');
    if plain {
        return f.write_str(v);
    }
    f.write_str("\"")?;
    for c in v.chars() {
        if c == '"' || c == '\\' {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("\"")
}

/// A duration in the largest unit that shows it exactly.
fn write_duration(f: &mut fmt::Formatter<'_>, d: Nanos) -> fmt::Result {
    let ns = d.0;
    if ns.is_multiple_of(1_000_000_000) {
        write!(f, "{}s", ns / 1_000_000_000)
    } else if ns.is_multiple_of(1_000_000) {
        write!(f, "{}ms", ns / 1_000_000)
    } else if ns.is_multiple_of(1_000) {
        write!(f, "{}us", ns / 1_000)
    } else {
        write!(f, "{}.{:03}us", ns / 1_000, ns % 1_000)
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negated {
            f.write_str("!")?;
        }
        match &self.test {
            Test::Method(m) => {
                f.write_str("method:")?;
                write_value(f, m, false)
            }
            Test::Status(s) => match s {
                StatusTest::None => f.write_str("status:none"),
                StatusTest::Code(c) => write!(f, "status:{c}"),
                StatusTest::Class(c) => write!(f, "status:{c}xx"),
                StatusTest::Cmp(cmp, c) => write!(f, "status:{}{c}", cmp.as_str()),
            },
            Test::Path { needle, prefix } => {
                f.write_str(if *prefix { "path:^" } else { "path:" })?;
                // A literal leading caret is quoted so that it does not read back as "prefix".
                write_value(f, needle, !prefix && needle.starts_with('^'))
            }
            Test::Host(h) => {
                f.write_str("host:")?;
                write_value(f, h, false)
            }
            Test::Ip(net) => write!(f, "ip:{net}"),
            Test::Port(p) => write!(f, "port:{p}"),
            Test::Latency(cmp, d) => {
                write!(f, "latency:{}", cmp.as_str())?;
                write_duration(f, *d)
            }
            Test::Flow(c) => write!(f, "flow:{}", c.as_str()),
            // Quoted when it would read back as a key or a negation.
            Test::Text(t) => write_value(f, t, t.contains(':') || t.starts_with('!')),
        }
    }
}
