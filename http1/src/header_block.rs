//! `HeaderBlock`: response header fields written once, in wire form, as they are set.
//!
//! A framework that builds each response's headers at run time (the `web` crate does) would
//! otherwise keep them in one form, hand http1 a list, and have every field checked again and
//! copied piece by piece when the response starts. A `HeaderBlock` checks each field when it is
//! pushed (a name must be a token; a value may hold no control character but HTAB, so no CR or
//! LF can split the response), appends it as `Name: value` CRLF to one reused buffer, and keeps
//! the framing facts (`framing_facts.rs`) up to date. [`HeaderBlock::headers`] lends it to
//! [`crate::HTTP1Connection::write_headers`], where the whole block is one copy.

use std::fmt::{self, Write as _};

use crate::framing_facts::{eq_ignore_case, FramingFacts};
use crate::headers::{is_token_byte, HTTPHeaders};

/// Response header fields in wire form, checked as they are pushed; storage reused after
/// [`clear`](Self::clear).
///
/// ```
/// use http1::HeaderBlock;
/// let mut h = HeaderBlock::new();
/// h.push("Content-Type", "text/plain").unwrap();
/// h.push_display("Content-Length", 13).unwrap();
/// assert!(h.push("X-Evil", "a\r\nSet-Cookie: b").is_err());
/// assert_eq!(h.as_str(), "Content-Type: text/plain\r\nContent-Length: 13\r\n");
/// assert_eq!(h.headers().get("content-length"), Some("13"));
/// ```
#[derive(Clone, Default)]
pub struct HeaderBlock {
    text: String,
    count: usize,
    facts: FramingFacts,
}

/// A field that a [`HeaderBlock`] refused; nothing of it was kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidField {
    /// The name is empty or not a token.
    Name,
    /// The value holds a control character other than HTAB (CR and LF above all).
    Value,
}

impl fmt::Display for InvalidField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InvalidField::Name => "header name is not a token",
            InvalidField::Value => "control character in a header value",
        })
    }
}

impl std::error::Error for InvalidField {}

impl HeaderBlock {
    /// An empty block (allocates on the first push).
    pub const fn new() -> HeaderBlock {
        HeaderBlock {
            text: String::new(),
            count: 0,
            facts: FramingFacts::EMPTY,
        }
    }

    /// Removes every field, keeping the storage.
    pub fn clear(&mut self) {
        self.text.clear();
        self.count = 0;
        self.facts = FramingFacts::EMPTY;
    }

    /// Appends a field (others of the same name are kept).
    pub fn push(&mut self, name: &str, value: &str) -> Result<(), InvalidField> {
        self.push_with(name, |text| text.push_str(value))
    }

    /// Appends a field whose value is formatted straight into the block.
    pub fn push_display(
        &mut self,
        name: &str,
        value: impl fmt::Display,
    ) -> Result<(), InvalidField> {
        self.push_with(name, |text| {
            let _ = write!(text, "{value}");
        })
    }

    /// Appends a field whose value `write` appends to the block's text; the field is checked
    /// afterwards and rolled back if it is refused.
    pub fn push_with(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut String),
    ) -> Result<(), InvalidField> {
        if name.is_empty() || !name.bytes().all(|b| TOKEN[usize::from(b)]) {
            return Err(InvalidField::Name);
        }
        let mark = self.text.len();
        self.text.push_str(name);
        self.text.push_str(": ");
        let value_start = self.text.len();
        write(&mut self.text);
        let value = &self.text.as_bytes()[value_start..];
        if !value.iter().all(|&b| FIELD_VALUE[usize::from(b)]) {
            self.text.truncate(mark);
            return Err(InvalidField::Value);
        }
        self.facts
            .classify(name.as_bytes(), crate::framing_facts::trim(value));
        self.text.push_str("\r\n");
        self.count += 1;
        Ok(())
    }

    /// Appends `Content-Length: n` (digits written in place, no formatting machinery).
    pub fn push_content_length(&mut self, n: u64) {
        let mut buf = [0; 20];
        let digits = crate::response::decimal(n, &mut buf);
        self.text.push_str("Content-Length: ");
        self.text.extend(digits.iter().map(|&d| char::from(d)));
        self.text.push_str("\r\n");
        self.count += 1;
        self.facts.declare_length(n);
    }

    /// Replaces every field named `name` with one holding `value`, formatted straight into
    /// the block (the new field goes last). A refused value leaves the old fields in place.
    pub fn set_display(
        &mut self,
        name: &str,
        value: impl fmt::Display,
    ) -> Result<(), InvalidField> {
        let end = self.text.len();
        self.push_display(name, value)?;
        self.remove_before(name, end);
        Ok(())
    }

    /// Inserts a field before all others.
    pub fn push_first(&mut self, name: &str, value: &str) -> Result<(), InvalidField> {
        let end = self.text.len();
        // Checked (and counted) as an ordinary push, then moved to the front.
        self.push(name, value)?;
        self.text.truncate(end);
        for piece in ["\r\n", value, ": ", name] {
            self.text.insert_str(0, piece);
        }
        Ok(())
    }

    /// Removes every field named `name` (any case); returns how many there were.
    pub fn remove(&mut self, name: &str) -> usize {
        self.remove_before(name, self.text.len())
    }

    /// Removes the fields named `name` among the lines that end by byte `limit`.
    fn remove_before(&mut self, name: &str, mut limit: usize) -> usize {
        let mut removed = 0;
        let mut at = 0;
        while at < limit {
            let end = self.text[at..]
                .find("\r\n")
                .map_or(self.text.len(), |i| at + i + 2);
            let line = &self.text.as_bytes()[at..end];
            let matches = line.len() > name.len()
                && line[name.len()] == b':'
                && eq_ignore_case(&line[..name.len()], name.as_bytes());
            if matches {
                self.text.replace_range(at..end, "");
                limit -= end - at;
                removed += 1;
            } else {
                at = end;
            }
        }
        if removed > 0 {
            self.count -= removed;
            let mut facts = FramingFacts::EMPTY;
            for (n, v) in self.iter() {
                facts.classify(n.as_bytes(), crate::framing_facts::trim(v.as_bytes()));
            }
            self.facts = facts;
        }
        removed
    }

    /// The first value of `name` (any case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Whether a field named `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Every `(name, value)` in order, values exactly as pushed.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let mut rest = self.text.as_str();
        // Lines are short: plain loops beat a SIMD search's setup here.
        std::iter::from_fn(move || {
            let end = rest.bytes().position(|b| b == b'\r')?;
            let (line, next) = (&rest[..end], &rest[end + 2..]);
            rest = next;
            // Pushed as `name ": " value`, and a name holds no colon.
            let colon = line.bytes().position(|b| b == b':').unwrap_or(line.len());
            Some((&line[..colon], line.get(colon + 2..).unwrap_or("")))
        })
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes of storage held.
    pub fn capacity(&self) -> usize {
        self.text.capacity()
    }

    /// The fields in wire form: `Name: value` CRLF each.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The fields as headers for [`crate::HTTP1Connection::write_headers`] (no copy; no
    /// re-check when the response starts).
    pub fn headers(&self) -> HTTPHeaders<'_> {
        HTTPHeaders::from_checked_lines(self.text.as_bytes(), self.count, self.facts)
    }
}

/// The bytes of a header name (`tchar`), as a table: one load per byte.
static TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = is_token_byte(b as u8);
        b += 1;
    }
    t
};

/// The bytes allowed in a field value here: HTAB, visible ASCII, space and obs-text (no other
/// control character, so no CR, LF or NUL).
static FIELD_VALUE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = b == 0x09 || (b >= 0x20 && b != 0x7f);
        b += 1;
    }
    t
};

impl fmt::Debug for HeaderBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_remove_and_read_back() {
        let mut h = HeaderBlock::new();
        h.push("Set-Cookie", "a=1").unwrap();
        h.push("X-Num", " 42\t").unwrap();
        h.push("set-cookie", "b=2").unwrap();
        assert_eq!(h.len(), 3);
        assert_eq!(h.get("X-NUM"), Some(" 42\t"), "values kept as pushed");
        assert_eq!(h.headers().get("x-num"), Some("42"), "the wire view trims");
        assert_eq!(h.remove("SET-COOKIE"), 2);
        assert_eq!(h.remove("Set-Cookie"), 0);
        assert_eq!(h.remove("X-Nu"), 0, "a prefix is not a name");
        h.push("X-Num", "1").unwrap();
        assert_eq!(h.set_display("x-num", "a\nb"), Err(InvalidField::Value));
        assert_eq!(h.len(), 2, "a refused value keeps the old fields");
        h.set_display("x-NUM", 42).unwrap();
        assert_eq!(h.iter().collect::<Vec<_>>(), [("x-NUM", "42")]);
        h.set_display("X-Num", " 42\t").unwrap();
        assert_eq!(h.iter().collect::<Vec<_>>(), [("X-Num", " 42\t")]);
        h.push_first("Content-Type", "text/html").unwrap();
        assert_eq!(
            h.as_str(),
            "Content-Type: text/html\r\nX-Num:  42\t\r\n",
            "first, in wire form"
        );
        assert_eq!(h.headers().len(), 2);
        h.clear();
        assert!(h.is_empty() && h.as_str().is_empty());
    }

    #[test]
    fn refused_fields_leave_nothing() {
        let mut h = HeaderBlock::new();
        h.push("X-Ok", "fine\tvalue").unwrap();
        for v in ["a\r\nSet-Cookie: x=y", "a\nb", "a\rb", "a\0b", "a\x7fb"] {
            assert_eq!(h.push("X-Bad", v), Err(InvalidField::Value));
            assert_eq!(h.push_first("X-Bad", v), Err(InvalidField::Value));
        }
        for n in ["", "X Bad", "X:Bad", "X\r\nBad", "Bad\n"] {
            assert_eq!(h.push(n, "v"), Err(InvalidField::Name), "{n:?}");
        }
        assert_eq!(h.as_str(), "X-Ok: fine\tvalue\r\n");
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn facts_follow_the_fields() {
        let mut h = HeaderBlock::new();
        h.push_content_length(5);
        assert!(h.as_str().starts_with("Content-Length: 5\r\n"));
        h.push("Connection", "close").unwrap();
        h.push("Date", "x").unwrap();
        let f = h.headers().framing_facts();
        assert_eq!(f.content_length, Some(5));
        assert!(f.conn_close && f.has_date && !f.has_server);
        h.remove("connection");
        h.remove("content-length");
        let f = h.headers().framing_facts();
        assert_eq!(
            (f.content_length, f.conn_close, f.has_date),
            (None, false, true)
        );
        h.push_content_length(1234567890);
        h.push_content_length(0);
        assert_eq!(
            h.headers().framing_facts().invalid,
            Some("two Content-Length values")
        );
        assert_eq!(h.get("content-length"), Some("1234567890"));
        h.remove("content-length");
        h.push("Transfer-Encoding", "chunked").unwrap();
        assert!(h.headers().framing_facts().invalid.is_some());
        h.remove("transfer-encoding");
        assert!(h.headers().framing_facts().invalid.is_none());
    }
}
