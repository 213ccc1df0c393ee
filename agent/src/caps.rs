//! Linux capabilities of this process, read from `/proc/self/status`.

use std::fs;

/// `CAP_NET_ADMIN`.
pub const CAP_NET_ADMIN: u32 = 12;
/// `CAP_NET_RAW`: needed for AF_PACKET and raw ICMP sockets.
pub const CAP_NET_RAW: u32 = 13;

const NAMES: [(u32, &str); 8] = [
    (0, "chown"),
    (1, "dac_override"),
    (7, "setuid"),
    (10, "net_bind_service"),
    (CAP_NET_ADMIN, "net_admin"),
    (CAP_NET_RAW, "net_raw"),
    (21, "sys_admin"),
    (19, "sys_ptrace"),
];

/// The effective capability mask (`CapEff`), or `None` when it cannot be read.
pub fn effective() -> Option<u64> {
    parse_cap_eff(&fs::read_to_string("/proc/self/status").ok()?)
}

/// `CapEff` from the text of a `/proc/<pid>/status` file.
pub fn parse_cap_eff(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("CapEff:"))?;
    u64::from_str_radix(line["CapEff:".len()..].trim(), 16).ok()
}

/// Whether `cap` is in the effective set (true when the set cannot be read,
/// so that the socket call itself decides).
pub fn has(cap: u32) -> bool {
    effective().is_none_or(|m| m & (1 << cap) != 0)
}

/// Names of the well-known capabilities in `mask` (for the hello message).
pub fn names(mask: u64) -> Vec<String> {
    NAMES
        .iter()
        .filter(|(bit, _)| mask & (1 << bit) != 0)
        .map(|(_, n)| (*n).to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cap_eff() {
        let status = "Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t0000000000003000\n";
        let mask = parse_cap_eff(status).unwrap();
        assert_eq!(names(mask), vec!["net_admin", "net_raw"]);
        assert_eq!(parse_cap_eff("CapEff:\tzz\n"), None);
        assert_eq!(parse_cap_eff(""), None);
    }
}
