//! `HeaderBlock`: response header fields written once, in wire form, as they are set.
//!
//! A framework that builds each response's headers at run time (the `web` crate does) would
//! otherwise keep them in one form, hand http1 a list, and have every field checked again and
//! copied piece by piece when the response starts. A `HeaderBlock` checks each field when it is
//! pushed (a name must be a token; a value may hold no control character but HTAB, so no CR or
//! LF can split the response), appends it as `Name: value` CRLF to one reused buffer, and keeps
//! the framing facts (`framing_facts.rs`) up to date. It is what
//! [`crate::HTTP1Connection::write_headers`] takes: the whole block goes out in one copy. Fixed
//! headers can be a `static` ([`HeaderBlock::from_lines`], checked at compile time).

use std::borrow::Cow;
use std::fmt;

use crate::framing_facts::{eq_ignore_case, trim, FramingFacts};
use crate::header_value::HeaderValue;
use crate::headers::{is_token_byte, HTTPHeaders};
use crate::rules::{is_field_value, is_token};

/// Response header fields in wire form, checked as they are pushed; storage reused after
/// [`clear`](Self::clear).
///
/// ```
/// use http1::HeaderBlock;
/// let mut h = HeaderBlock::new();
/// h.push("Content-Type", "text/plain").unwrap();
/// h.push("Content-Length", 13).unwrap();
/// assert!(h.push("X-Evil", "a\r\nSet-Cookie: b").is_err());
/// assert_eq!(h.as_bytes(), b"Content-Type: text/plain\r\nContent-Length: 13\r\n");
/// assert_eq!(h.get("content-length"), Some("13"));
/// ```
#[derive(Clone, Default)]
pub struct HeaderBlock {
    /// `Name: value` CRLF per field. Text pushed as `&str` stays UTF-8; values pushed as bytes
    /// may hold obs-text (bytes 0x80–0xFF), as HTTP allows. Borrowed for a block made with
    /// [`from_lines`](HeaderBlock::from_lines), until it is changed.
    bytes: Cow<'static, [u8]>,
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

/// A header field name, checked once: at compile time for a constant
/// ([`from_static`](Self::from_static)), so that [`HeaderBlock::push`] skips the name
/// check, and knowing whether the name matters to the response's framing (`Content-Length`,
/// `Connection`, ...), so that a field that does not is not looked at again.
///
/// ```
/// use http1::{HeaderBlock, HeaderName};
/// const ETAG: HeaderName<'static> = HeaderName::from_static("Etag");
/// let mut h = HeaderBlock::new();
/// h.push(ETAG, "\"x\"").unwrap();
/// assert_eq!(h.as_bytes(), b"Etag: \"x\"\r\n");
/// assert!(HeaderName::new("Bad Name").is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderName<'a> {
    name: &'a str,
    framing: bool,
}

impl HeaderName<'static> {
    /// A name known when compiling; panics (at compile time in a `const`) if it is not a
    /// token.
    pub const fn from_static(name: &'static str) -> HeaderName<'static> {
        let bytes = name.as_bytes();
        assert!(!bytes.is_empty(), "HeaderName::from_static: an empty name");
        let mut i = 0;
        while i < bytes.len() {
            assert!(
                is_token_byte(bytes[i]),
                "HeaderName::from_static: a header name must be a token"
            );
            i += 1;
        }
        HeaderName {
            name,
            framing: FramingFacts::concerns(bytes),
        }
    }
}

impl<'a> HeaderName<'a> {
    /// Checks `name` (a token: non-empty, `tchar` bytes only).
    pub fn new(name: &'a str) -> Result<HeaderName<'a>, InvalidField> {
        if !is_token(name.as_bytes()) {
            return Err(InvalidField::Name);
        }
        Ok(HeaderName {
            name,
            framing: FramingFacts::concerns(name.as_bytes()),
        })
    }

    /// The name as given.
    pub const fn as_str(&self) -> &'a str {
        self.name
    }
}

/// What a [`HeaderBlock`] takes as a field name: a `&str` (checked when the field is pushed)
/// or a [`HeaderName`] (checked already).
pub trait IntoHeaderName<'a> {
    /// The checked name.
    fn into_header_name(self) -> Result<HeaderName<'a>, InvalidField>;
}

impl<'a> IntoHeaderName<'a> for &'a str {
    fn into_header_name(self) -> Result<HeaderName<'a>, InvalidField> {
        HeaderName::new(self)
    }
}

impl<'a> IntoHeaderName<'a> for HeaderName<'a> {
    fn into_header_name(self) -> Result<HeaderName<'a>, InvalidField> {
        Ok(self)
    }
}

impl HeaderBlock {
    /// An empty block (allocates on the first push).
    pub const fn new() -> HeaderBlock {
        HeaderBlock {
            bytes: Cow::Borrowed(&[]),
            count: 0,
            facts: FramingFacts::EMPTY,
        }
    }

    /// A block of fixed header lines in wire form, each `Name: value` ending in CRLF (no
    /// final empty line), checked here: in a `static`, at compile time. No copy is made until
    /// the block is changed.
    ///
    /// # Panics
    /// If a line is not `token ":" value CRLF`, a value holds CR or LF, or the fields frame a
    /// response badly (two different `Content-Length`s, a `Transfer-Encoding`); in a `static`
    /// that is a compile error.
    ///
    /// ```
    /// use http1::HeaderBlock;
    /// static H: HeaderBlock =
    ///     HeaderBlock::from_lines("Content-Type: text/plain\r\nContent-Length: 13\r\n");
    /// assert_eq!(H.get("content-length"), Some("13"));
    /// assert_eq!(H.len(), 2);
    /// ```
    pub const fn from_lines(lines: &'static str) -> HeaderBlock {
        let block = lines.as_bytes();
        let mut facts = FramingFacts::EMPTY;
        let (mut count, mut start) = (0, 0);
        while start < block.len() {
            let mut end = start;
            while end < block.len() && block[end] != b'\n' {
                end += 1;
            }
            assert!(
                end < block.len() && end > start && block[end - 1] == b'\r',
                "HeaderBlock::from_lines: each line must end in CRLF"
            );
            let line = block.split_at(end - 1).0.split_at(start).1;
            let mut colon = 0;
            while colon < line.len() && line[colon] != b':' {
                assert!(
                    is_token_byte(line[colon]),
                    "HeaderBlock::from_lines: a header name must be a token"
                );
                colon += 1;
            }
            assert!(
                colon > 0 && colon < line.len(),
                "HeaderBlock::from_lines: a line must be `name: value`"
            );
            let (name, value) = line.split_at(colon);
            facts.observe(name, trim(value.split_at(1).1));
            assert!(
                facts.invalid.is_none(),
                "HeaderBlock::from_lines: a value holds CR or LF, or the framing fields are bad"
            );
            count += 1;
            start = end + 1;
        }
        HeaderBlock {
            bytes: Cow::Borrowed(block),
            count,
            facts,
        }
    }

    /// Removes every field, keeping the storage.
    pub fn clear(&mut self) {
        match &mut self.bytes {
            Cow::Owned(bytes) => bytes.clear(),
            borrowed => *borrowed = Cow::Borrowed(&[]),
        }
        self.count = 0;
        self.facts = FramingFacts::EMPTY;
    }

    /// Appends a field (others of the same name are kept). The value is any
    /// [`HeaderValue`]: text, bytes (obs-text allowed), an integer, a date, formatted text, a
    /// [`HexTag`](crate::header_value::HexTag). A refused name or value leaves the block as
    /// it was.
    ///
    /// ```
    /// use http1::{HeaderBlock, HeaderName, InvalidField};
    /// const ETAG: HeaderName<'static> = HeaderName::from_static("Etag");
    /// let mut h = HeaderBlock::new();
    /// h.push("Content-Length", 13).unwrap();
    /// h.push(ETAG, b"\"0123\"").unwrap();
    /// h.push("Cache-Control", format_args!("max-age={}", 60)).unwrap();
    /// assert_eq!(h.push("X-Bad", b"a\nb"), Err(InvalidField::Value));
    /// assert_eq!(h.push("Bad Name", "v"), Err(InvalidField::Name));
    /// assert_eq!(h.as_bytes(), b"Content-Length: 13\r\nEtag: \"0123\"\r\nCache-Control: max-age=60\r\n");
    /// ```
    pub fn push<'n, V: HeaderValue>(
        &mut self,
        name: impl IntoHeaderName<'n>,
        value: V,
    ) -> Result<(), InvalidField> {
        let name = name.into_header_name()?;
        if let Some(bytes) = value.value_bytes() {
            // Bytes the value has already are checked before they are copied.
            if !is_field_value(bytes) {
                return Err(InvalidField::Value);
            }
        }
        let out = self.bytes.to_mut();
        let mark = out.len();
        out.extend_from_slice(name.name.as_bytes());
        out.extend_from_slice(b": ");
        let value_start = out.len();
        match value.value_bytes() {
            Some(bytes) => out.extend_from_slice(bytes),
            None => {
                value.write_value(out);
                let valid = V::ALWAYS_VALID || is_field_value(&out[value_start..]);
                if !valid {
                    out.truncate(mark);
                    return Err(InvalidField::Value);
                }
            }
        }
        if name.framing {
            self.facts
                .classify(name.name.as_bytes(), &out[value_start..]);
        }
        out.extend_from_slice(b"\r\n");
        self.count += 1;
        Ok(())
    }

    /// Replaces every field named `name` (any case) with one holding `value`, which goes
    /// last. A refused name or value leaves the old fields in place.
    ///
    /// ```
    /// let mut h = http1::HeaderBlock::new();
    /// h.push("X-Num", 1).unwrap();
    /// h.push("Vary", "Cookie").unwrap();
    /// h.set("x-num", 2).unwrap();
    /// assert_eq!(h.as_bytes(), b"Vary: Cookie\r\nx-num: 2\r\n");
    /// ```
    pub fn set<'n>(
        &mut self,
        name: impl IntoHeaderName<'n>,
        value: impl HeaderValue,
    ) -> Result<(), InvalidField> {
        let name = name.into_header_name()?;
        let end = self.bytes.len();
        self.push(name, value)?;
        if end > 0 {
            self.remove_before(name.name, end);
        }
        Ok(())
    }

    /// Removes every field named `name` (any case); returns how many there were.
    pub fn remove(&mut self, name: &str) -> usize {
        self.remove_before(name, self.bytes.len())
    }

    /// Removes the fields named `name` among the lines that end by byte `limit`.
    fn remove_before(&mut self, name: &str, mut limit: usize) -> usize {
        let mut removed = 0;
        let mut at = 0;
        while at < limit {
            let end = line_end(&self.bytes, at);
            let line = &self.bytes[at..end];
            let matches = line.len() > name.len()
                && line[name.len()] == b':'
                && eq_ignore_case(&line[..name.len()], name.as_bytes());
            if matches {
                self.bytes.to_mut().drain(at..end);
                limit -= end - at;
                removed += 1;
            } else {
                at = end;
            }
        }
        self.count -= removed;
        // The framing facts are found again only when a field they depend on went.
        if removed > 0 && FramingFacts::concerns(name.as_bytes()) {
            let mut facts = FramingFacts::EMPTY;
            for (n, v) in self.iter() {
                facts.classify(n.as_bytes(), v);
            }
            self.facts = facts;
        }
        removed
    }

    /// The first value of `name` (any case), if it is UTF-8.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_bytes(name)
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The first value of `name` (any case), as pushed.
    pub fn get_bytes(&self, name: &str) -> Option<&[u8]> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Whether a field named `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get_bytes(name).is_some()
    }

    /// Every `(name, value)` in order, values exactly as pushed.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> + '_ {
        let mut at = 0;
        std::iter::from_fn(move || {
            if at >= self.bytes.len() {
                return None;
            }
            let end = line_end(&self.bytes, at);
            let line = &self.bytes[at..end - 2];
            at = end;
            // Pushed as `name ": " value`, and a name (a token: ASCII) holds no colon.
            let colon = line.iter().position(|&b| b == b':').unwrap_or(line.len());
            let name = std::str::from_utf8(&line[..colon]).unwrap_or("");
            Some((name, line.get(colon + 2..).unwrap_or(b"")))
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
        match &self.bytes {
            Cow::Owned(bytes) => bytes.capacity(),
            Cow::Borrowed(_) => 0,
        }
    }

    /// The fields in wire form: `Name: value` CRLF each.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The fields as [`HTTPHeaders`] to read (a view, no copy; values trimmed as in a request).
    pub fn headers(&self) -> HTTPHeaders<'_> {
        HTTPHeaders::from_raw(&self.bytes, self.count)
    }

    /// What the fields say to the response framing.
    pub(crate) fn facts(&self) -> FramingFacts {
        self.facts
    }
}

/// The end of the line starting at `at` (just past its CRLF; a value holds no CR).
fn line_end(bytes: &[u8], at: usize) -> usize {
    let rest = &bytes[at..];
    at + memchr::memchr(b'\r', rest).map_or(rest.len(), |i| i + 2)
}

/// `x` as eight lowercase hex digits, most significant first: two digits per byte, from
/// `HEX_PAIRS`.
///
/// ```
/// assert_eq!(&http1::header_block::hex8(0x1234_abcd), b"1234abcd");
/// ```
pub fn hex8(x: u32) -> [u8; 8] {
    let mut digits = [0u8; 8];
    for (pair, byte) in digits.chunks_exact_mut(2).zip(x.to_be_bytes()) {
        pair.copy_from_slice(&HEX_PAIRS[usize::from(byte)]);
    }
    digits
}

/// The two lowercase hex digits of each byte value.
const HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut pairs = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        pairs[i] = [DIGITS[i >> 4], DIGITS[i & 0xf]];
        i += 1;
    }
    pairs
};

impl fmt::Debug for HeaderBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|(n, v)| (n, String::from_utf8_lossy(v))))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header_value::HexTag;

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
        assert_eq!(h.set("x-num", "a\nb"), Err(InvalidField::Value));
        assert_eq!(h.len(), 2, "a refused value keeps the old fields");
        h.set("x-NUM", 42).unwrap();
        assert_eq!(h.iter().collect::<Vec<_>>(), [("x-NUM", &b"42"[..])]);
        h.set("X-Num", " 42\t").unwrap();
        assert_eq!(h.iter().collect::<Vec<_>>(), [("X-Num", &b" 42\t"[..])]);
        h.push("Content-Type", "text/html").unwrap();
        assert_eq!(
            h.as_bytes(),
            b"X-Num:  42\t\r\nContent-Type: text/html\r\n",
            "in order, in wire form"
        );
        assert_eq!(h.headers().len(), 2);
        h.clear();
        assert!(h.is_empty() && h.as_bytes().is_empty());
    }

    #[test]
    fn refused_fields_leave_nothing() {
        let mut h = HeaderBlock::new();
        h.push("X-Ok", "fine\tvalue").unwrap();
        for v in ["a\r\nSet-Cookie: x=y", "a\nb", "a\rb", "a\0b", "a\x7fb"] {
            assert_eq!(h.push("X-Bad", v), Err(InvalidField::Value));
            assert_eq!(h.set("X-Ok", v), Err(InvalidField::Value));
            assert_eq!(h.push("X-Bad", v.as_bytes()), Err(InvalidField::Value));
            assert_eq!(
                h.push("X-Bad", format_args!("{v}")),
                Err(InvalidField::Value)
            );
        }
        for n in ["", "X Bad", "X:Bad", "X\r\nBad", "Bad\n"] {
            assert_eq!(h.push(n, "v"), Err(InvalidField::Name), "{n:?}");
        }
        assert_eq!(h.as_bytes(), b"X-Ok: fine\tvalue\r\n");
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn hex_digits_a_word_at_a_time() {
        let mut x = 1u32;
        let samples = [
            0,
            9,
            10,
            15,
            0x1234_abcd,
            0x9a9a_9a9a,
            0xf0f0_0f0f,
            u32::MAX,
        ];
        for i in 0..1000 {
            x = x.wrapping_mul(2_654_435_761).wrapping_add(12345);
            let x = samples.get(i).copied().unwrap_or(x);
            assert_eq!(hex8(x), *format!("{x:08x}").as_bytes(), "{x:#x}");
        }
        let mut h = HeaderBlock::new();
        h.push(HeaderName::from_static("Etag"), HexTag(u64::MAX))
            .unwrap();
        h.push(HeaderName::from_static("Content-Length"), HexTag(1))
            .unwrap();
        assert_eq!(h.get("etag"), Some("\"ffffffffffffffff\""));
        assert!(h.facts().invalid.is_some(), "a framing name is classified");
    }

    #[test]
    fn values_are_checked_at_every_position() {
        // Each forbidden byte at every offset of a value longer than two words, so both the
        // word-at-a-time test and the byte tail see it.
        for bad in [b'\r', b'\n', 0, 0x1f, 0x7f] {
            for at in 0..19 {
                let mut v = *b"abcdefghijklmnopqrs";
                v[at] = bad;
                assert!(!is_field_value(&v), "{bad:#x} at {at}");
            }
        }
        for bad in [b' ', b':', b'\r', b'\n', b'(', 0x80] {
            for at in 0..19 {
                let mut n = *b"Abcdefgh-jklmnop_rs";
                n[at] = bad;
                assert!(!is_token(&n), "{bad:#x} at {at}");
                assert!(is_token(&n[..at]) || at == 0, "the clean prefix of {at}");
            }
        }
        assert!(!is_token(b""));
        assert!(is_token(b"!#$%&'*+-.^_`|~09AZaz"));
        assert!(is_field_value(b"tab\tin a word, and a tail\t"));
        assert!(is_field_value("caf\u{e9} \u{2603} obs-text".as_bytes()));
        assert!(is_field_value(&[
            0x80, 0xff, 0x20, 0x7e, b'\t', 0xa0, 0x21, 0xfe, 0x9f
        ]));
        let mut h = HeaderBlock::new();
        h.push("X-Raw", [b'a', 0xe9]).unwrap();
        assert_eq!(h.get_bytes("x-raw"), Some(&[b'a', 0xe9][..]));
        assert_eq!(h.get("x-raw"), None, "not UTF-8: no text");
    }

    #[test]
    fn facts_follow_the_fields() {
        let mut h = HeaderBlock::new();
        h.push("Content-Length", 5u64).unwrap();
        assert!(h.as_bytes().starts_with(b"Content-Length: 5\r\n"));
        h.push("Connection", "close").unwrap();
        h.push("Date", "x").unwrap();
        let f = h.facts();
        assert_eq!(f.content_length, Some(5));
        assert!(f.conn_close && f.has_date && !f.has_server);
        h.remove("connection");
        h.remove("content-length");
        let f = h.facts();
        assert_eq!(
            (f.content_length, f.conn_close, f.has_date),
            (None, false, true)
        );
        h.push("Content-Length", 1234567890u64).unwrap();
        h.push("Content-Length", 0u64).unwrap();
        assert_eq!(h.facts().invalid, Some("two Content-Length values"));
        assert_eq!(h.get("content-length"), Some("1234567890"));
        h.remove("content-length");
        h.push("Transfer-Encoding", "chunked").unwrap();
        assert!(h.facts().invalid.is_some());
        h.remove("transfer-encoding");
        assert!(h.facts().invalid.is_none());
    }
}
