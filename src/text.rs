//! Safe text: captured bytes are data, never terminal control.
//!
//! Every string that came from the network goes through [`sanitize`] before it
//! is printed to a terminal or drawn: control characters and escape sequences
//! become visible `\xNN` escapes, so a hostile header cannot move the cursor,
//! change colours or set the window title; and characters that reorder or
//! hide text (bidirectional overrides such as U+202E, zero-width ones, line
//! separators) become visible `\u{NNNN}` escapes, so a path cannot show
//! something other than what it is.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` changes how the text around it is shown without being seen:
/// bidirectional marks, embeddings, overrides and isolates; zero-width
/// characters and the byte-order mark; line and paragraph separators.
fn is_deceptive(c: char) -> bool {
    matches!(
        c,
        '\u{061c}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2069}'
            | '\u{feff}'
    )
}

/// `s` with every control character (C0, DEL, C1) and every character that
/// reorders or hides text replaced by a visible escape.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() || is_deceptive(c);
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        } else if is_deceptive(c) {
            let _ = write!(out, "\\u{{{:04x}}}", u32::from(c));
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

    #[test]
    fn text_that_reorders_or_hides_is_shown_as_escapes() {
        // "/admin" then a right-to-left override: shown as it is stored.
        assert_eq!(
            sanitize("/files/\u{202e}gpj.exe"),
            "/files/\\u{202e}gpj.exe"
        );
        assert_eq!(
            sanitize("a\u{200b}b\u{2066}c\u{feff}"),
            "a\\u{200b}b\\u{2066}c\\u{feff}"
        );
        assert_eq!(sanitize("line\u{2028}break"), "line\\u{2028}break");
        // Ordinary non-ASCII text is left alone.
        assert_eq!(sanitize("/café/日本/עברית"), "/café/日本/עברית");
    }
}
