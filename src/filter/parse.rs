//! Filter text to terms: splitting into words (with quotes), then each value.
//!
//! Grammar, informally:
//!
//! ```text
//! filter := term*                      (separated by whitespace)
//! term   := "!"? (key ":" value | value)
//! key    := ASCII letters, before the first unquoted ':'
//! value  := characters and "quoted strings" (\" and \\ escape inside quotes)
//! ```
//!
//! A word whose part before the first ':' is not all letters (`10.0.0.1:80`)
//! is free text. Error positions are byte offsets: of the key for an unknown
//! key, of the value for a bad or empty value, of the opening quote for an
//! unterminated quote, of the term for an empty term.

use std::net::IpAddr;

use super::FilterError;
use super::term::{Cmp, FlowCond, IpNet, StatusTest, Term, Test};
use crate::wire::Nanos;

/// The keys, in the order the error message lists them.
pub(crate) const KEYS: [&str; 8] = [
    "method", "status", "path", "host", "ip", "port", "latency", "flow",
];

/// One word of the input, quotes resolved.
struct Word {
    start: usize,
    negated: bool,
    key: Option<(usize, String)>,
    value_start: usize,
    value: String,
    /// The value began with a quote (so a leading `^` is literal).
    value_quoted: bool,
}

fn err(at: usize, message: impl Into<String>) -> FilterError {
    FilterError {
        at,
        message: message.into(),
    }
}

/// Splits `text` into words.
fn words(text: &str) -> Result<Vec<Word>, FilterError> {
    let mut out = Vec::new();
    let mut it = text.char_indices().peekable();
    loop {
        while it.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let Some(&(start, first)) = it.peek() else {
            return Ok(out);
        };
        let negated = first == '!';
        if negated {
            it.next();
        }
        let body = it.peek().map_or(text.len(), |&(i, _)| i);
        let mut word = Word {
            start,
            negated,
            key: None,
            value_start: body,
            value: String::new(),
            value_quoted: false,
        };
        let mut quoted = false;
        while let Some((i, c)) = it.next_if(|(_, c)| !c.is_whitespace()) {
            if c == '"' {
                if i == word.value_start {
                    word.value_quoted = true;
                }
                quoted = true;
                quoted_part(&mut it, &mut word.value)
                    .ok_or_else(|| err(i, "unterminated quote"))?;
            } else if c == ':'
                && word.key.is_none()
                && !quoted
                && !word.value.is_empty()
                && word.value.bytes().all(|b| b.is_ascii_alphabetic())
            {
                word.key = Some((body, std::mem::take(&mut word.value)));
                word.value_start = i + 1;
            } else {
                word.value.push(c);
            }
        }
        out.push(word);
    }
}

/// Reads up to the closing quote into `out`; `None` when there is none.
fn quoted_part(
    it: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    out: &mut String,
) -> Option<()> {
    while let Some((_, c)) = it.next() {
        match c {
            '"' => return Some(()),
            '\\' => match it.next()? {
                (_, e @ ('"' | '\\')) => out.push(e),
                (_, e) => {
                    out.push('\\');
                    out.push(e);
                }
            },
            c => out.push(c),
        }
    }
    None
}

/// Parses the filter bar's text into terms.
pub(crate) fn parse(text: &str) -> Result<Vec<Term>, FilterError> {
    words(text)?.into_iter().map(term).collect()
}

fn term(w: Word) -> Result<Term, FilterError> {
    let at = w.value_start;
    let Some((key_at, key)) = w.key else {
        if w.value.is_empty() {
            let what = if w.negated {
                "nothing after '!'"
            } else {
                "empty term"
            };
            return Err(err(w.start, what));
        }
        return Ok(Term {
            negated: w.negated,
            test: Test::Text(w.value.to_ascii_lowercase()),
        });
    };
    let written = key;
    let key = written.to_ascii_lowercase();
    if !KEYS.contains(&key.as_str()) {
        return Err(err(
            key_at,
            format!("unknown filter key '{written}' (keys: {})", KEYS.join(", ")),
        ));
    }
    let v = w.value.as_str();
    if v.is_empty() {
        return Err(err(at, format!("empty value for '{key}'")));
    }
    let test = match key.as_str() {
        "method" => Test::Method(v.to_ascii_uppercase()),
        "status" => Test::Status(status(v).ok_or_else(|| {
            err(
                at,
                format!("bad status '{v}' (use 200, 5xx, >=400, <300 or none)"),
            )
        })?),
        "path" => match v.strip_prefix('^') {
            Some("") if !w.value_quoted => return Err(err(at, "empty path prefix after '^'")),
            Some(rest) if !w.value_quoted => Test::Path {
                needle: rest.to_string(),
                prefix: true,
            },
            _ => Test::Path {
                needle: v.to_string(),
                prefix: false,
            },
        },
        "host" => Test::Host(v.to_ascii_lowercase()),
        "ip" => Test::Ip(ip_net(v).ok_or_else(|| {
            err(
                at,
                format!("bad address or CIDR '{v}' (like 10.0.0.1 or 10.244.0.0/16)"),
            )
        })?),
        "port" => Test::Port(port(v).map_err(|m| err(at, m))?),
        "latency" => {
            let (cmp, rest) = comparison(v).ok_or_else(|| {
                err(
                    at,
                    format!("latency needs a comparison, like >200ms or <1s (got '{v}')"),
                )
            })?;
            let d = duration(rest).ok_or_else(|| {
                err(
                    at,
                    format!("bad duration '{rest}' (a number with us, ms or s, like 200ms)"),
                )
            })?;
            Test::Latency(cmp, d)
        }
        _ => {
            let lower = v.to_ascii_lowercase();
            let c = FlowCond::ALL
                .iter()
                .find(|(n, _)| *n == lower)
                .map(|&(_, c)| c);
            Test::Flow(c.ok_or_else(|| {
                err(
                    at,
                    format!("unknown flow condition '{v}' (rst, fin, open, midstream, retrans)"),
                )
            })?)
        }
    };
    Ok(Term {
        negated: w.negated,
        test,
    })
}

/// A leading `<`, `<=`, `>` or `>=`, and the rest.
fn comparison(v: &str) -> Option<(Cmp, &str)> {
    [
        (">=", Cmp::Ge),
        ("<=", Cmp::Le),
        (">", Cmp::Gt),
        ("<", Cmp::Lt),
    ]
    .into_iter()
    .find_map(|(op, cmp)| v.strip_prefix(op).map(|rest| (cmp, rest)))
}

/// Decimal digits only, as a number.
fn digits(v: &str) -> Option<u64> {
    if v.is_empty() || v.len() > 18 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

fn status(v: &str) -> Option<StatusTest> {
    if v.eq_ignore_ascii_case("none") {
        return Some(StatusTest::None);
    }
    if let Some((cmp, rest)) = comparison(v) {
        let n = digits(rest).filter(|n| *n <= 999)?;
        return Some(StatusTest::Cmp(cmp, n as u16));
    }
    let b = v.as_bytes();
    if b.len() == 3 && b[1..].eq_ignore_ascii_case(b"xx") && (b'1'..=b'5').contains(&b[0]) {
        return Some(StatusTest::Class(u16::from(b[0] - b'0')));
    }
    let n = digits(v).filter(|n| (100..=999).contains(n) && v.len() == 3)?;
    Some(StatusTest::Code(n as u16))
}

fn ip_net(v: &str) -> Option<IpNet> {
    let (addr, len) = match v.split_once('/') {
        Some((a, l)) => (a, Some(digits(l).filter(|l| *l <= 128)? as u8)),
        None => (v, None),
    };
    let addr: IpAddr = addr.parse().ok()?;
    let full = if addr.is_ipv4() { 32 } else { 128 };
    IpNet::new(addr, len.unwrap_or(full))
}

fn port(v: &str) -> Result<u16, String> {
    let n = digits(v).ok_or_else(|| format!("bad port '{v}' (a number from 1 to 65535)"))?;
    match u16::try_from(n) {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(format!("port {n} out of range (1-65535)")),
    }
}

/// `200ms`, `1.5s`, `50us` as nanoseconds, exactly (a fraction below 1 ns is dropped).
fn duration(v: &str) -> Option<Nanos> {
    let split = v.find(|c: char| !c.is_ascii_digit() && c != '.')?;
    let (num, unit) = v.split_at(split);
    let unit: u64 = match unit {
        "us" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        _ => return None,
    };
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    let int = if int.is_empty() && !frac.is_empty() {
        0
    } else {
        digits(int)?
    };
    let mut ns = int.checked_mul(unit)?;
    if !frac.is_empty() {
        if frac.len() > 9 {
            return None;
        }
        let f = u128::from(digits(frac)?) * u128::from(unit) / 10u128.pow(frac.len() as u32);
        ns = ns.checked_add(u64::try_from(f).ok()?)?;
    }
    Some(Nanos(ns))
}
