//! The agent protocol: control lines the TUI sends on the agent's stdin, and
//! the messages the agent puts in podtap custom blocks on its stdout.
//!
//! Control lines are JSON, one object per line, with a `cmd` field. Agent
//! messages are JSON too, carried in pcapng custom blocks (PEN
//! [`PODTAP_PEN`](super::PODTAP_PEN)) as a little-endian `u32` length
//! followed by that many bytes, because the block pads its data with zeros.

use serde::{Deserialize, Serialize};

/// One control line on the agent's stdin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case", deny_unknown_fields)]
pub enum Control {
    /// The TUI is alive; without these the agent exits after its timeout.
    Heartbeat,
    /// Replace the capture filter (an empty spec captures everything).
    Filter {
        /// The new filter.
        filter: FilterSpec,
    },
    /// Bytes kept of each packet from now on.
    Snaplen {
        /// Snap length (64..=262144).
        bytes: u32,
    },
    /// Stop forwarding packets (statistics and pings go on).
    Pause,
    /// Forward packets again.
    Resume,
    /// Start probing a target: an IP or name (ICMP echo) or `host:port` (TCP connect).
    PingAdd {
        /// `10.0.0.1`, `db.default.svc`, `10.96.0.10:53`, `[fd00::1]:443`.
        target: String,
        /// Time between probes (default 1000 ms).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        interval_ms: Option<u64>,
        /// A probe with no answer after this long is a timeout (default 1000 ms).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_ms: Option<u64>,
    },
    /// Stop probing a target (as it was given to `ping_add`).
    PingRemove {
        /// The target.
        target: String,
    },
    /// Flush and exit.
    Stop,
}

impl Control {
    /// Parses one line; the error says what is wrong, for the error block.
    pub fn parse(line: &str) -> Result<Control, String> {
        serde_json::from_str(line.trim()).map_err(|e| format!("bad control line: {e}"))
    }

    /// This message as one JSON line (with the newline).
    pub fn to_line(&self) -> String {
        let mut s = serde_json::to_string(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// Which packets the agent captures: those matching any `include` rule (or
/// all when there is none) and no `exclude` rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterSpec {
    /// Keep packets matching any of these (empty: keep all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<FilterRule>,
    /// Drop packets matching any of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<FilterRule>,
}

/// A rule matches a packet when every field that is set matches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterRule {
    /// Transport protocol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proto: Option<FilterProto>,
    /// An address or CIDR (`10.244.0.0/16`, `fd00::/8`), matching source or destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// A TCP or UDP port, matching source or destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

/// Protocols a filter rule can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterProto {
    /// TCP over IPv4 or IPv6.
    Tcp,
    /// UDP over IPv4 or IPv6.
    Udp,
    /// ICMP or ICMPv6.
    Icmp,
}

/// What a probe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeOutcome {
    /// An echo reply, or a TCP connection accepted.
    Reply,
    /// No answer within the timeout.
    Timeout,
    /// TCP connection refused (the host is up, the port closed).
    Refused,
    /// Host or network unreachable.
    Unreachable,
    /// Anything else (name resolution failed, no permission, ...).
    Error,
}

/// How a target is probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeKind {
    /// ICMP or ICMPv6 echo.
    Icmp,
    /// TCP connect.
    Tcp,
}

/// One probe's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeResult {
    /// The target as given to `ping_add`.
    pub target: String,
    /// How it was probed.
    pub kind: ProbeKind,
    /// The address probed, once resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
    /// Probe number for this target, from 0.
    pub seq: u64,
    /// When the probe was sent (ns since the epoch).
    pub sent_ns: u64,
    /// What happened.
    pub outcome: ProbeOutcome,
    /// Round-trip or connect time, for `reply`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtt_ns: Option<u64>,
    /// The error text, for `error` and `unreachable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A message from the agent, in a podtap custom block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentMessage {
    /// First block after the interfaces.
    Hello {
        /// Agent version.
        version: String,
        /// Host (pod) name.
        hostname: String,
        /// Interfaces captured, by name.
        interfaces: Vec<String>,
        /// Effective capabilities (`net_raw`, ...).
        capabilities: Vec<String>,
        /// Snap length in force.
        snaplen: u32,
    },
    /// A ping probe's result.
    Probe(ProbeResult),
    /// A control line was refused, or something failed; nothing changed.
    Error {
        /// What went wrong and what to do.
        message: String,
    },
    /// A control line took effect.
    Ack {
        /// The command (`filter`, `pause`, ...).
        cmd: String,
    },
    /// The agent is exiting, and why.
    Bye {
        /// `stop`, `heartbeat timeout`, `stdin closed`, `signal`, `stdout blocked`.
        reason: String,
    },
}

impl AgentMessage {
    /// The custom block payload: `u32` LE length, then the JSON.
    pub fn encode(&self) -> Vec<u8> {
        let json = serde_json::to_vec(self).unwrap_or_default();
        let mut out = Vec::with_capacity(json.len() + 4);
        out.extend_from_slice(&(json.len() as u32).to_le_bytes());
        out.extend_from_slice(&json);
        out
    }

    /// Reads a custom block payload written by [`AgentMessage::encode`].
    pub fn decode(data: &[u8]) -> Result<AgentMessage, String> {
        let len = data
            .get(..4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
        let json = len
            .and_then(|n| data.get(4..4 + n))
            .ok_or_else(|| format!("agent message cut short ({} bytes)", data.len()))?;
        serde_json::from_slice(json).map_err(|e| format!("bad agent message: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_lines_parse() {
        assert_eq!(
            Control::parse(r#"{"cmd":"heartbeat"}"#),
            Ok(Control::Heartbeat)
        );
        let f = Control::parse(r#"{"cmd":"filter","filter":{"exclude":[{"port":8081}]}}"#).unwrap();
        let Control::Filter { filter } = f else {
            panic!()
        };
        assert_eq!(filter.exclude[0].port, Some(8081));
        assert!(Control::parse(r#"{"cmd":"fly"}"#).is_err());
        assert!(Control::parse("not json").is_err());
        assert!(
            Control::parse(r#"{"cmd":"filter","filter":{"exclude":[{"prot":"tcp"}]}}"#).is_err()
        );
        let add = Control::PingAdd {
            target: "10.0.0.1".into(),
            interval_ms: Some(200),
            timeout_ms: None,
        };
        assert_eq!(Control::parse(&add.to_line()), Ok(add));
    }

    #[test]
    fn messages_survive_block_padding() {
        let m = AgentMessage::Bye {
            reason: "stop".into(),
        };
        let mut data = m.encode();
        data.extend_from_slice(&[0, 0, 0]);
        assert_eq!(AgentMessage::decode(&data), Ok(m));
        assert!(AgentMessage::decode(&[9, 0, 0, 0, b'{']).is_err());
        assert!(AgentMessage::decode(&[]).is_err());
    }
}
