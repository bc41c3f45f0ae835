//! What a response's header fields say to the framing code, found once per header list.
//!
//! [`crate::response::ResponseWriter::start`] needs five facts about the fields a delegate
//! hands it: the declared `Content-Length`, whether `Date` and `Server` are already there,
//! whether `Connection: close` is, and whether any field is unusable (CR or LF that would split
//! the response, a `Transfer-Encoding` that only http1 may set, a malformed length). A
//! [`crate::HeaderBlock`] finds them at the cheapest moment: at compile time for a `static`
//! block ([`crate::HeaderBlock::from_lines`] is `const`), field by field as fields are pushed
//! otherwise. So the per-response work for the headers is a copy.
//!
//! Everything here is `const fn`, which is why the loops are `while` loops.

/// The facts, accumulated over the fields of one header list by [`observe`](Self::observe).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FramingFacts {
    /// The declared `Content-Length` (all such fields agree).
    pub(crate) content_length: Option<u64>,
    /// A `Date` field is present.
    pub(crate) has_date: bool,
    /// A `Server` field is present.
    pub(crate) has_server: bool,
    /// A `Connection` field lists `close`.
    pub(crate) conn_close: bool,
    /// The first reason these fields cannot start a response.
    pub(crate) invalid: Option<&'static str>,
}

impl FramingFacts {
    /// The facts of an empty header list.
    pub(crate) const EMPTY: FramingFacts = FramingFacts {
        content_length: None,
        has_date: false,
        has_server: false,
        conn_close: false,
        invalid: None,
    };

    /// Checks one field and records what it says. A name must be non-empty without CR, LF or
    /// colon, a value without CR or LF: anything else could split the response.
    pub(crate) const fn observe(&mut self, name: &[u8], value: &[u8]) {
        if name.is_empty() || contains_any(name, b"\r\n:") || contains_any(value, b"\r\n") {
            if self.invalid.is_none() {
                self.invalid = Some("CR, LF or colon in a header");
            }
            return;
        }
        self.classify(name, value);
    }

    /// Records what a field already known to be well formed says (a name that is a token, a
    /// value without CR or LF; the optional whitespace around the value is ignored, and only
    /// looked at for the few names that matter here).
    pub(crate) const fn classify(&mut self, name: &[u8], value: &[u8]) {
        if self.invalid.is_some() {
            return;
        }
        // Compare only names of the right length.
        match name.len() {
            14 if eq_ignore_case(name, b"content-length") => {
                match crate::parse::parse_content_length(trim(value)) {
                    None => self.invalid = Some("Content-Length not a number"),
                    Some(n) => self.declare_length(n),
                }
            }
            17 if eq_ignore_case(name, b"transfer-encoding") => {
                self.invalid = Some("Transfer-Encoding is set by http1");
            }
            4 if eq_ignore_case(name, b"date") => self.has_date = true,
            6 if eq_ignore_case(name, b"server") => self.has_server = true,
            10 if eq_ignore_case(name, b"connection") => {
                self.conn_close |= lists_token(value, b"close");
            }
            _ => {}
        }
    }

    /// Whether a field named `name` can say anything here (`Content-Length`,
    /// `Transfer-Encoding`, `Date`, `Server`, `Connection`): a field that cannot is skipped by
    /// [`classify`](Self::classify) without a look at its value.
    pub(crate) const fn concerns(name: &[u8]) -> bool {
        match name.len() {
            14 => eq_ignore_case(name, b"content-length"),
            17 => eq_ignore_case(name, b"transfer-encoding"),
            4 => eq_ignore_case(name, b"date"),
            6 => eq_ignore_case(name, b"server"),
            10 => eq_ignore_case(name, b"connection"),
            _ => false,
        }
    }

    /// Records a `Content-Length` of `n` (all such fields must agree).
    pub(crate) const fn declare_length(&mut self, n: u64) {
        if let Some(d) = self.content_length {
            if d != n && self.invalid.is_none() {
                self.invalid = Some("two Content-Length values");
            }
        }
        self.content_length = Some(n);
    }
}

impl Default for FramingFacts {
    fn default() -> Self {
        FramingFacts::EMPTY
    }
}

/// Whether any byte of `haystack` is one of `set`.
const fn contains_any(haystack: &[u8], set: &[u8]) -> bool {
    let mut i = 0;
    while i < haystack.len() {
        let mut j = 0;
        while j < set.len() {
            if haystack[i] == set[j] {
                return true;
            }
            j += 1;
        }
        i += 1;
    }
    false
}

/// ASCII case-insensitive equality.
pub(crate) const fn eq_ignore_case(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if !a[i].eq_ignore_ascii_case(&b[i]) {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether the comma-separated list `value` has an element equal to `token` (ignoring case
/// and the optional whitespace around elements).
const fn lists_token(value: &[u8], token: &[u8]) -> bool {
    let mut start = 0;
    while start <= value.len() {
        let mut end = start;
        while end < value.len() && value[end] != b',' {
            end += 1;
        }
        let element = trim(value.split_at(end).0.split_at(start).1);
        if eq_ignore_case(element, token) {
            return true;
        }
        start = end + 1;
    }
    false
}

/// `s` without leading and trailing spaces and tabs.
pub(crate) const fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(fields: &[(&str, &str)]) -> FramingFacts {
        let mut f = FramingFacts::EMPTY;
        for (n, v) in fields {
            f.observe(n.as_bytes(), v.as_bytes());
        }
        f
    }

    #[test]
    fn records_what_framing_needs() {
        let f = facts(&[
            ("content-LENGTH", "13"),
            ("Date", "x"),
            ("Connection", "keep-alive, Close "),
        ]);
        assert_eq!(f.content_length, Some(13));
        assert!(f.has_date && !f.has_server && f.conn_close);
        assert_eq!(f.invalid, None);
        assert!(!facts(&[("Connection", "closed, keep-alive")]).conn_close);
        assert!(facts(&[("Connection", ",close,")]).conn_close);
        assert!(facts(&[("SERVER", "s")]).has_server);
        assert_eq!(
            facts(&[("Content-Length", "2"), ("Content-Length", "2")]).content_length,
            Some(2)
        );
    }

    #[test]
    fn the_first_problem_is_kept() {
        for (fields, why) in [
            (&[("A\r\nB", "1")][..], "CR, LF or colon in a header"),
            (&[("", "1")], "CR, LF or colon in a header"),
            (&[("A:", "1")], "CR, LF or colon in a header"),
            (&[("A", "1\n")], "CR, LF or colon in a header"),
            (&[("Content-Length", "1x")], "Content-Length not a number"),
            (&[("Content-Length", "")], "Content-Length not a number"),
            (
                &[("Content-Length", "1"), ("Content-Length", "2")],
                "two Content-Length values",
            ),
            (
                &[("Transfer-Encoding", "chunked"), ("A\r", "")],
                "Transfer-Encoding is set by http1",
            ),
        ] {
            assert_eq!(facts(fields).invalid, Some(why), "{fields:?}");
        }
    }

    #[test]
    fn const_helpers() {
        assert_eq!(trim(b" \t a b\t "), b"a b");
        assert_eq!(trim(b"   "), b"");
        assert!(eq_ignore_case(b"DaTe", b"date"));
        assert!(!eq_ignore_case(b"dates", b"date"));
        assert!(lists_token(b"close", b"close"));
        assert!(!lists_token(b"", b"close"));
    }
}
