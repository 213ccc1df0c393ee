//! Options: the `(code, value)` list at the end of a pcapng block, read
//! leniently, and the text values some options carry.

use super::Pcapng;
use crate::wire::Endian;

const OPT_END: u16 = 0;

/// The options of a block: `(code, value)` pairs up to `opt_endofopt`.
///
/// Stops quietly at the first option that does not fit: options are extras,
/// and a damaged one must not cost the packet.
pub(super) struct Options<'a> {
    rest: &'a [u8],
    endian: Endian,
}

impl<'a> Iterator for Options<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let code = self.endian.u16(self.rest, 0)?;
        let len = usize::from(self.endian.u16(self.rest, 2)?);
        if code == OPT_END {
            return None;
        }
        let value = self.rest.get(4..4 + len)?;
        self.rest = self
            .rest
            .get(4 + len.next_multiple_of(4)..)
            .unwrap_or_default();
        Some((code, value))
    }
}

impl Pcapng {
    pub(super) fn options<'a>(&self, body: &'a [u8], start: usize) -> Options<'a> {
        Options {
            rest: body.get(start..).unwrap_or_default(),
            endian: self.endian,
        }
    }
}

/// An option's text, without the NUL terminator some writers add.
pub(super) fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v).trim_end_matches('\0').to_owned()
}
