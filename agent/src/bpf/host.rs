//! Host strings of filter rules: an IP address or a CIDR, as the 32-bit
//! words a BPF program compares.

use std::net::IpAddr;

/// Address family of a host rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    /// IPv4: one word.
    V4,
    /// IPv6: four words.
    V6,
}

/// A parsed host: an address and how many leading bits of it must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Cidr {
    /// IPv4 or IPv6.
    pub(super) family: Family,
    /// The address as big-endian words (IPv4 uses the first), host bits cleared.
    words: [u32; 4],
    /// Prefix length in bits.
    prefix: u32,
}

impl Cidr {
    /// Parses `10.0.0.1`, `10.244.0.0/16`, `fd00::1` or `fd00::/8`.
    ///
    /// Bits past the prefix are ignored (`10.244.1.7/16` means `10.244.0.0/16`)
    /// since a user typing a pod's address with its network's length means
    /// the network. The error is the part of a sentence after the rule's name.
    pub(super) fn parse(host: &str) -> Result<Cidr, String> {
        let bad = || format!("host {host:?} is not an IP address or CIDR");
        let (addr, prefix) = match host.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (host, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let (family, words, max) = match addr {
            IpAddr::V4(a) => (Family::V4, [a.to_bits(), 0, 0, 0], 32),
            IpAddr::V6(a) => {
                let o = a.octets();
                let word = |i: usize| u32::from_be_bytes([o[i], o[i + 1], o[i + 2], o[i + 3]]);
                (Family::V6, [word(0), word(4), word(8), word(12)], 128)
            }
        };
        let prefix = match prefix {
            None => max,
            // `u32::from_str` accepts a leading `+`, which is no CIDR.
            Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => p.parse().map_err(|_| bad())?,
            Some(_) => return Err(bad()),
        };
        if prefix > max {
            return Err(format!(
                "host {host:?} has a prefix of {prefix} bits, longer than the address's {max}"
            ));
        }
        let mut cidr = Cidr {
            family,
            words,
            prefix,
        };
        let masks = cidr.masks();
        for (word, mask) in cidr.words.iter_mut().zip(masks) {
            *word &= mask;
        }
        Ok(cidr)
    }

    /// Masks of the words the prefix covers, in order: all ones for whole
    /// words, the leading bits for the last partial one; `/0` covers none.
    fn masks(&self) -> impl Iterator<Item = u32> + use<> {
        let prefix = self.prefix;
        (0..4u32).map_while(move |i| {
            let bits = prefix.saturating_sub(32 * i).min(32);
            // bits is 1..=32 here, so the shift is 0..=31.
            (bits > 0).then(|| u32::MAX << (32 - bits))
        })
    }

    /// `(network word, mask)` for each word a matching address must agree on.
    pub(super) fn words(&self) -> impl Iterator<Item = (u32, u32)> + use<> {
        let words = self.words;
        self.masks()
            .enumerate()
            .map(move |(i, mask)| (words[i], mask))
    }
}
