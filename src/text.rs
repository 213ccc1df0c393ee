//! Safe text: captured bytes are data, never terminal control.
//!
//! Every string that came from the network goes through [`sanitize`] before it
//! is printed to a terminal or drawn: control characters and escape sequences
//! become visible `\xNN` escapes, so a hostile header cannot move the cursor,
//! change colours or set the window title.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `s` with every control character (C0, DEL, C1) replaced by a visible escape.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn escapes_are_neutralised() {
        assert_eq!(sanitize("/api/cart"), "/api/cart");
        assert_eq!(sanitize("a\x1b]0;pwned\x07b"), "a\\x1b]0;pwned\\x07b");
        assert_eq!(sanitize("x\u{9b}31m\r\n"), "x\\x9b31m\\x0d\\x0a");
    }
}
