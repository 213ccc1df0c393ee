//! Probe targets: what the user typed, parsed into how to probe it, and name
//! resolution with the system resolver (in a pod: its `/etc/hosts` and
//! `/etc/resolv.conf`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

/// The host part of a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Host {
    /// An address literal: nothing to resolve.
    Ip(IpAddr),
    /// A name for the system resolver.
    Name(String),
}

/// A parsed target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// ICMP or ICMPv6 echo to the host.
    Icmp(Host),
    /// TCP connect to the host and port.
    Tcp(Host, u16),
}

/// Parses `IP`, `name`, `host:port`, `[v6]` or `[v6]:port`.
pub(crate) fn parse(text: &str) -> Result<Target, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("The target is empty: give an IP address, a host name, or host:port.".into());
    }
    if let Some(rest) = text.strip_prefix('[') {
        let Some((inner, after)) = rest.split_once(']') else {
            return Err(format!("Target {text:?} has '[' without a closing ']'."));
        };
        let Ok(ip) = inner.parse::<Ipv6Addr>() else {
            return Err(format!(
                "Target {text:?}: {inner:?} in brackets is not an IPv6 address."
            ));
        };
        if after.is_empty() {
            return Ok(Target::Icmp(Host::Ip(ip.into())));
        }
        let Some(port) = after.strip_prefix(':') else {
            return Err(format!("Target {text:?}: expected ':port' after ']'."));
        };
        return Ok(Target::Tcp(Host::Ip(ip.into()), parse_port(text, port)?));
    }
    if text.contains(['[', ']']) {
        return Err(format!(
            "Target {text:?} has misplaced brackets; write [IPv6]:port."
        ));
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(Target::Icmp(Host::Ip(ip)));
    }
    match text.split_once(':') {
        None => Ok(Target::Icmp(parse_host(text)?)),
        Some((host, port)) if !port.contains(':') => {
            Ok(Target::Tcp(parse_host(host)?, parse_port(text, port)?))
        }
        Some(_) => Err(format!(
            "Target {text:?} is not a valid IPv6 address; write an IPv6 address with a port as [address]:port."
        )),
    }
}

/// A port from 1 to 65535.
fn parse_port(text: &str, port: &str) -> Result<u16, String> {
    match port.parse::<u16>() {
        Ok(p) if p != 0 && port.bytes().all(|b| b.is_ascii_digit()) => Ok(p),
        _ => Err(format!(
            "Target {text:?} has a bad port {port:?}: expected a number from 1 to 65535."
        )),
    }
}

/// An IPv4 literal or a DNS name (letters, digits, '-', '_', dot-separated labels).
fn parse_host(host: &str) -> Result<Host, String> {
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Ok(Host::Ip(ip.into()));
    }
    let labels: Vec<&str> = host.strip_suffix('.').unwrap_or(host).split('.').collect();
    let valid = !host.is_empty()
        && host.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if !valid {
        return Err(format!("{host:?} is not a valid host name or IP address."));
    }
    if labels.iter().all(|l| l.bytes().all(|b| b.is_ascii_digit())) {
        return Err(format!("{host:?} is not a valid IPv4 address."));
    }
    Ok(Host::Name(host.to_owned()))
}

/// Resolves `host` to one address with `port`; the error is the result's detail.
pub(crate) fn resolve(host: &Host, port: u16) -> Result<SocketAddr, String> {
    match host {
        Host::Ip(ip) => Ok(SocketAddr::new(*ip, port)),
        Host::Name(name) => match (name.as_str(), port).to_socket_addrs() {
            Ok(mut addrs) => addrs
                .next()
                .ok_or_else(|| format!("cannot resolve {name}: no addresses")),
            Err(e) => Err(format!("cannot resolve {name}: {e}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Host {
        Host::Ip(s.parse().unwrap())
    }

    fn name(s: &str) -> Host {
        Host::Name(s.into())
    }

    #[test]
    fn valid_targets() {
        let cases = [
            ("10.0.0.1", Target::Icmp(ip("10.0.0.1"))),
            ("  10.0.0.1 ", Target::Icmp(ip("10.0.0.1"))),
            ("fd00::1", Target::Icmp(ip("fd00::1"))),
            ("::1", Target::Icmp(ip("::1"))),
            ("[fd00::1]", Target::Icmp(ip("fd00::1"))),
            ("::ffff:10.0.0.1", Target::Icmp(ip("::ffff:10.0.0.1"))),
            ("db", Target::Icmp(name("db"))),
            ("localhost", Target::Icmp(name("localhost"))),
            (
                "my-svc.ns.svc.cluster.local.",
                Target::Icmp(name("my-svc.ns.svc.cluster.local.")),
            ),
            ("_srv.example", Target::Icmp(name("_srv.example"))),
            ("10.0.0.1:80", Target::Tcp(ip("10.0.0.1"), 80)),
            ("[fd00::1]:443", Target::Tcp(ip("fd00::1"), 443)),
            ("[::1]:65535", Target::Tcp(ip("::1"), 65535)),
            ("db:5432", Target::Tcp(name("db"), 5432)),
            ("web.default.svc:1", Target::Tcp(name("web.default.svc"), 1)),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn invalid_targets() {
        let cases = [
            ("", "empty"),
            ("   ", "empty"),
            ("db:", "bad port"),
            ("db:0", "bad port"),
            ("db:65536", "bad port"),
            ("db:http", "bad port"),
            ("db:+80", "bad port"),
            ("10.0.0.1:-1", "bad port"),
            (":80", "not a valid host"),
            ("[fd00::1", "without a closing"),
            ("fd00::1]", "misplaced brackets"),
            ("[fd00::1]80", "expected ':port'"),
            ("[fd00::1]:", "bad port"),
            ("[10.0.0.1]:80", "not an IPv6 address"),
            ("[db]:80", "not an IPv6 address"),
            ("[]:80", "not an IPv6 address"),
            ("fd00::1:80:x", "[address]:port"),
            ("fd00::g", "[address]:port"),
            ("10.0.0.256", "not a valid IPv4"),
            ("10.0.0", "not a valid IPv4"),
            ("a..b", "not a valid host"),
            ("bad name", "not a valid host"),
            ("héllo", "not a valid host"),
            ("x\0y", "not a valid host"),
        ];
        for (text, want) in cases {
            let err = parse(text).expect_err(text);
            assert!(err.contains(want), "{text:?}: {err}");
            assert!(err.ends_with('.'), "{text:?}: {err}");
        }
    }

    #[test]
    fn resolves_literals_without_the_resolver() {
        assert_eq!(
            resolve(&ip("10.1.2.3"), 80),
            Ok("10.1.2.3:80".parse().unwrap())
        );
    }
}
