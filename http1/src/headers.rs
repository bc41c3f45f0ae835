//! `HTTPHeaders`: Tornado's `httputil.HTTPHeaders` — names compared case-insensitively, order
//! kept, a name may repeat.
//!
//! One type serves three storages so that the keep-alive path never allocates:
//! - *lines*: a view over checked header lines: those of a request head in the connection's
//!   read buffer, already checked by `httparse` (what [`crate::RequestHead::headers`] holds;
//!   lookups re-scan the lines, so no array of parsed headers has to be kept alive while the
//!   delegate looks at the head), or lines in wire form (`Name: value\r\n`) checked when they
//!   were made, a `static` ([`HTTPHeaders::from_lines`], `const`) or a
//!   [`HeaderBlock`](crate::HeaderBlock) built field by field (writing those is one copy);
//! - *static*: a view over a `&[(&str, &str)]` slice, e.g. the fixed response headers of a
//!   handler ([`HTTPHeaders::from_static`] is `const`);
//! - *owned*: a `Vec` of `Cow` pairs, for headers that are built up or kept.
//!
//! Lines in wire form and static pairs also carry the framing facts (`framing_facts.rs`)
//! found when they were made, so a response does not re-check them. Reading works the same on
//! all three; the first change to a view turns it into the owned form (one allocation, names
//! and values still borrowed where possible).

use std::borrow::Cow;
use std::fmt;

use crate::framing_facts::{trim, FramingFacts};

/// An ordered, case-insensitive multimap of header fields.
///
/// ```
/// use http1::HTTPHeaders;
/// let mut h = HTTPHeaders::new();
/// h.add("Set-Cookie", "a=1");
/// h.add("set-cookie", "b=2");
/// h.add("Content-Type", "text/plain");
/// assert_eq!(h.get("CONTENT-TYPE"), Some("text/plain"));
/// assert_eq!(h.get_all("Set-Cookie").collect::<Vec<_>>(), ["a=1", "b=2"]);
/// ```
#[derive(Clone)]
pub struct HTTPHeaders<'a> {
    repr: Repr<'a>,
}

#[derive(Clone)]
enum Repr<'a> {
    /// Header lines (`name: value` ending in CRLF or LF, no final empty line), validated.
    Lines {
        block: &'a [u8],
        count: usize,
        /// A summary of the names: a lookup of an absent name usually ends here.
        names: NameSet,
        /// What the fields say to the framing, for lines checked when they were made: those
        /// are in wire form (`Name: value` CRLF each). `None` for lines from a request head.
        facts: Option<FramingFacts>,
    },
    Static {
        pairs: &'a [(&'a str, &'a str)],
        facts: FramingFacts,
    },
    Owned(Vec<(Cow<'a, str>, Cow<'a, [u8]>)>),
}

impl<'a> HTTPHeaders<'a> {
    /// An empty, owned header list (allocates on the first [`add`](Self::add)).
    pub const fn new() -> HTTPHeaders<'a> {
        HTTPHeaders {
            repr: Repr::Owned(Vec::new()),
        }
    }

    /// A borrowed view over fixed pairs; costs nothing to build, so a handler can keep its
    /// response headers in a `static`.
    ///
    /// ```
    /// use http1::HTTPHeaders;
    /// static H: HTTPHeaders<'static> = HTTPHeaders::from_static(&[("Content-Type", "text/plain")]);
    /// assert_eq!(H.get("content-type"), Some("text/plain"));
    /// ```
    ///
    /// The pairs are checked here (at compile time for a `static`): a response given
    /// headers with CR or LF in them, a `Transfer-Encoding` or a bad `Content-Length` is
    /// refused when it starts.
    pub const fn from_static(pairs: &'a [(&'a str, &'a str)]) -> HTTPHeaders<'a> {
        let mut facts = FramingFacts::EMPTY;
        let mut i = 0;
        while i < pairs.len() {
            facts.observe(pairs[i].0.as_bytes(), pairs[i].1.as_bytes());
            i += 1;
        }
        HTTPHeaders {
            repr: Repr::Static { pairs, facts },
        }
    }

    /// A borrowed view over header lines in wire form, each `Name: value` ending in CRLF (no
    /// final empty line): the fastest headers to write, one copy per response.
    ///
    /// # Panics
    /// If a line is not `token ":" value CRLF`, or a value holds CR or LF; in a `static` that
    /// is a compile error.
    ///
    /// ```
    /// use http1::HTTPHeaders;
    /// static H: HTTPHeaders<'static> =
    ///     HTTPHeaders::from_lines("Content-Type: text/plain\r\nContent-Length: 13\r\n");
    /// assert_eq!(H.get("content-length"), Some("13"));
    /// assert_eq!(H.len(), 2);
    /// ```
    pub const fn from_lines(lines: &'a str) -> HTTPHeaders<'a> {
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
                "HTTPHeaders::from_lines: each line must end in CRLF"
            );
            let line = block.split_at(end - 1).0.split_at(start).1;
            let mut colon = 0;
            while colon < line.len() && line[colon] != b':' {
                assert!(
                    is_token_byte(line[colon]),
                    "HTTPHeaders::from_lines: a header name must be a token"
                );
                colon += 1;
            }
            assert!(
                colon > 0 && colon < line.len(),
                "HTTPHeaders::from_lines: a line must be `name: value`"
            );
            let (name, value) = line.split_at(colon);
            facts.observe(name, trim(value.split_at(1).1));
            assert!(
                facts.invalid.is_none(),
                "HTTPHeaders::from_lines: a value holds CR or LF, or Content-Length is bad"
            );
            count += 1;
            start = end + 1;
        }
        HTTPHeaders {
            repr: Repr::Lines {
                block,
                count,
                names: NameSet::ALL,
                facts: Some(facts),
            },
        }
    }

    /// A view over the lines of a [`HeaderBlock`](crate::HeaderBlock) (checked as pushed).
    pub(crate) fn from_block(block: &'a crate::HeaderBlock) -> HTTPHeaders<'a> {
        HTTPHeaders {
            repr: Repr::Lines {
                block: block.as_bytes(),
                count: block.len(),
                names: NameSet::ALL,
                facts: Some(block.facts()),
            },
        }
    }

    /// The lines in wire form and their facts, when this is such a view.
    pub(crate) fn wire_lines(&self) -> Option<(&[u8], FramingFacts)> {
        match &self.repr {
            Repr::Lines {
                block,
                facts: Some(facts),
                ..
            } => Some((block, *facts)),
            _ => None,
        }
    }

    /// The header lines and their count, for the forms that hold lines.
    fn lines(&self) -> Option<(&'a [u8], usize)> {
        match self.repr {
            Repr::Lines { block, count, .. } => Some((block, count)),
            Repr::Static { .. } | Repr::Owned(_) => None,
        }
    }

    /// What the fields say to the response framing: known for the borrowed forms, found now
    /// for the others.
    pub(crate) fn framing_facts(&self) -> FramingFacts {
        match &self.repr {
            Repr::Static { facts, .. }
            | Repr::Lines {
                facts: Some(facts), ..
            } => *facts,
            Repr::Lines { facts: None, .. } | Repr::Owned(_) => {
                let mut facts = FramingFacts::EMPTY;
                for (name, value) in self {
                    facts.observe(name.as_bytes(), value);
                }
                facts
            }
        }
    }

    /// A view over `count` header lines that `httparse` has validated (each `name: value`,
    /// ending in CRLF or LF; the final empty line excluded).
    pub(crate) fn from_raw(block: &'a [u8], count: usize) -> HTTPHeaders<'a> {
        HTTPHeaders::from_parsed(block, count, NameSet::ALL)
    }

    /// As [`from_raw`](Self::from_raw), with the [`NameSet`] of the lines' names.
    pub(crate) fn from_parsed(block: &'a [u8], count: usize, names: NameSet) -> HTTPHeaders<'a> {
        HTTPHeaders {
            repr: Repr::Lines {
                block,
                count,
                names,
                facts: None,
            },
        }
    }

    /// The number of fields (a repeated name counts once per line).
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Static { pairs, .. } => pairs.len(),
            Repr::Owned(h) => h.len(),
            Repr::Lines { count, .. } => *count,
        }
    }

    /// True when there are no fields.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All fields in order, as `(name, raw value)`.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            inner: match &self.repr {
                Repr::Static { pairs, .. } => IterInner::Static(pairs.iter()),
                Repr::Owned(h) => IterInner::Owned(h.iter()),
                Repr::Lines { .. } => {
                    let (rest, left) = self.lines().unwrap_or_default();
                    IterInner::Raw { rest, left }
                }
            },
        }
    }

    /// The first value of `name` as raw bytes.
    pub fn get_bytes(&self, name: &str) -> Option<&[u8]> {
        self.values(name).next()
    }

    /// Every raw value of `name`, in order. Line forms are searched by comparing each line's
    /// name bytes in place (no name is turned into a `str`).
    fn values<'s, 'n>(&'s self, name: &'n str) -> impl Iterator<Item = &'s [u8]> + use<'a, 's, 'n> {
        let (lines, others) = match (&self.repr, self.lines()) {
            (Repr::Lines { names, .. }, _) if !names.may_contain(name.as_bytes()) => (None, None),
            (_, Some((block, count))) => (Some(line_values(block, count, name)), None),
            (_, None) => (None, Some(self.iter())),
        };
        let in_others = others
            .into_iter()
            .flatten()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v);
        lines.into_iter().flatten().chain(in_others)
    }

    /// The first value of `name`; `None` if absent or not UTF-8 (see [`get_bytes`](Self::get_bytes)).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_bytes(name)
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Every value of `name`, in order (values that are not UTF-8 are skipped).
    pub fn get_all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> + 's {
        self.values(name)
            .filter_map(|v| std::str::from_utf8(v).ok())
    }

    /// True if a field named `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.values(name).next().is_some()
    }

    /// The owned list, converting a borrowed view first.
    fn owned_mut(&mut self) -> &mut Vec<(Cow<'a, str>, Cow<'a, [u8]>)> {
        let list = match &self.repr {
            Repr::Owned(_) => None,
            Repr::Lines { .. } => {
                let (rest, left) = self.lines().unwrap_or_default();
                Some(
                    RawLines { rest, left }
                        .map(|(n, v)| (Cow::Borrowed(n), Cow::Borrowed(v)))
                        .collect(),
                )
            }
            Repr::Static { pairs, .. } => Some(
                pairs
                    .iter()
                    .map(|(n, v)| (Cow::Borrowed(*n), Cow::Borrowed(v.as_bytes())))
                    .collect(),
            ),
        };
        if let Some(list) = list {
            self.repr = Repr::Owned(list);
        }
        match &mut self.repr {
            Repr::Owned(v) => v,
            _ => unreachable!("converted above"),
        }
    }

    /// Appends a field (an existing field of the same name is kept).
    pub fn add(&mut self, name: impl Into<Cow<'a, str>>, value: impl Into<Cow<'a, str>>) {
        let value = match value.into() {
            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        };
        self.owned_mut().push((name.into(), value));
    }

    /// Replaces every field named `name` with one field holding `value`.
    pub fn set(&mut self, name: impl Into<Cow<'a, str>>, value: impl Into<Cow<'a, str>>) {
        let name = name.into();
        self.remove(&name);
        self.add(name, value);
    }

    /// Removes every field named `name`.
    pub fn remove(&mut self, name: &str) {
        if self.contains(name) {
            self.owned_mut()
                .retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        }
    }

    /// A copy that borrows nothing (allocates).
    pub fn into_owned(self) -> HTTPHeaders<'static> {
        HTTPHeaders {
            repr: Repr::Owned(
                self.iter()
                    .map(|(n, v)| (Cow::Owned(n.to_owned()), Cow::Owned(v.to_vec())))
                    .collect(),
            ),
        }
    }
}

/// An owned, reusable copy of a header list in line form: what a framework keeps of a
/// request's headers once the connection's read buffer moves on. Copying a request head's
/// headers is one `memcpy` of its header lines; reading them back is an [`HTTPHeaders`] view.
///
/// ```
/// use http1::{HTTPHeaders, headers::HeaderLines};
/// let mut kept = HeaderLines::default();
/// kept.copy_from(&HTTPHeaders::from_static(&[("Host", "example.com"), ("Accept", "*/*")]));
/// assert_eq!(kept.headers().get("host"), Some("example.com"));
/// assert_eq!(kept.headers().len(), 2);
/// ```
#[derive(Clone, Debug, Default)]
pub struct HeaderLines {
    block: Vec<u8>,
    count: usize,
    names: NameSet,
}

impl HeaderLines {
    /// Replaces the copy with the fields of `headers` (storage kept).
    pub fn copy_from(&mut self, headers: &HTTPHeaders<'_>) {
        self.block.clear();
        match &headers.repr {
            Repr::Lines {
                block,
                count,
                names,
                ..
            } => {
                self.block.extend_from_slice(block);
                self.count = *count;
                self.names = *names;
            }
            _ => {
                self.names = NameSet::ALL;
                for (name, value) in headers {
                    self.block.extend_from_slice(name.as_bytes());
                    self.block.extend_from_slice(b": ");
                    self.block.extend_from_slice(value);
                    self.block.extend_from_slice(b"\r\n");
                }
                self.count = headers.len();
            }
        }
    }

    /// Removes every field, keeping the storage.
    pub fn clear(&mut self) {
        self.block.clear();
        self.count = 0;
        self.names = NameSet::EMPTY;
    }

    /// The copied fields.
    pub fn headers(&self) -> HTTPHeaders<'_> {
        HTTPHeaders::from_parsed(&self.block, self.count, self.names)
    }

    /// Every `(name, raw value)` in order (as [`HTTPHeaders::iter`] on [`headers`](Self::headers)).
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            inner: IterInner::Raw {
                rest: &self.block,
                left: self.count,
            },
        }
    }

    /// The first value of `name`, if present and UTF-8.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_all(name).next()
    }

    /// Every UTF-8 value of `name`, in order.
    pub fn get_all<'s, 'n>(&'s self, name: &'n str) -> impl Iterator<Item = &'s str> + use<'s, 'n> {
        self.values(name)
            .filter_map(|v| std::str::from_utf8(v).ok())
    }

    /// Whether a field named `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.values(name).next().is_some()
    }

    /// The raw values of `name`, in order (none at all when the name summary rules it out).
    fn values<'s, 'n>(&'s self, name: &'n str) -> impl Iterator<Item = &'s [u8]> + use<'s, 'n> {
        // `None` when ruled out: the caller's loop then ends without a call into the scan.
        self.names
            .may_contain(name.as_bytes())
            .then(|| line_values(&self.block, self.count, name))
            .into_iter()
            .flatten()
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
        self.block.capacity()
    }
}

impl Default for HTTPHeaders<'_> {
    fn default() -> Self {
        HTTPHeaders::new()
    }
}

impl fmt::Debug for HTTPHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|(n, v)| (n, String::from_utf8_lossy(v))))
            .finish()
    }
}

impl PartialEq for HTTPHeaders<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .zip(other.iter())
                .all(|((n1, v1), (n2, v2))| n1.eq_ignore_ascii_case(n2) && v1 == v2)
    }
}

impl<'h> IntoIterator for &'h HTTPHeaders<'_> {
    type Item = (&'h str, &'h [u8]);
    type IntoIter = Iter<'h>;
    fn into_iter(self) -> Iter<'h> {
        self.iter()
    }
}

/// Iterator over `(name, raw value)` in order; see [`HTTPHeaders::iter`].
pub struct Iter<'h> {
    inner: IterInner<'h>,
}

enum IterInner<'h> {
    Raw { rest: &'h [u8], left: usize },
    Static(std::slice::Iter<'h, (&'h str, &'h str)>),
    Owned(std::slice::Iter<'h, (Cow<'h, str>, Cow<'h, [u8]>)>),
}

impl<'h> Iterator for Iter<'h> {
    type Item = (&'h str, &'h [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            IterInner::Raw { rest, left } => {
                let mut lines = RawLines { rest, left: *left };
                let e = lines.next();
                (*rest, *left) = (lines.rest, lines.left);
                e
            }
            IterInner::Static(i) => i.next().map(|(n, v)| (*n, v.as_bytes())),
            IterInner::Owned(i) => i.next().map(|(n, v)| (&**n, &**v)),
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = match &self.inner {
            IterInner::Raw { left, .. } => *left,
            IterInner::Static(i) => i.len(),
            IterInner::Owned(i) => i.len(),
        };
        (n, Some(n))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            IterInner::Raw { rest, left } => {
                let mut lines = RawLines { rest, left: *left };
                let e = lines.next_back();
                (*rest, *left) = (lines.rest, lines.left);
                e
            }
            IterInner::Static(i) => i.next_back().map(|(n, v)| (*n, v.as_bytes())),
            IterInner::Owned(i) => i.next_back().map(|(n, v)| (&**n, &**v)),
        }
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// A summary of a set of header names, for lookups: one of 64 bits per name, picked by the
/// name's length and its first and last bytes (case folded). A name whose bit is clear is
/// certainly absent, so looking up a header a request does not have (`If-None-Match`,
/// `Cookie`, ...) usually costs no scan of its lines. The parser builds it while it reads the
/// fields anyway.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct NameSet(u64);

impl NameSet {
    /// No names.
    pub(crate) const EMPTY: NameSet = NameSet(0);
    /// Every name (nothing is ruled out): for lines whose names were not summarised.
    pub(crate) const ALL: NameSet = NameSet(u64::MAX);

    /// The bit of `name`; names equal but for ASCII case get the same bit.
    #[inline]
    fn bit(name: &[u8]) -> u64 {
        let (first, last) = match name {
            [] => (0, 0),
            [first, .., last] => (*first, *last),
            [only] => (*only, *only),
        };
        // `| 0x20` folds ASCII letters to lower case (and maps other bytes consistently).
        let h = (name.len() as u32)
            ^ u32::from(first | 0x20).wrapping_mul(7)
            ^ u32::from(last | 0x20).wrapping_mul(13);
        1 << (h & 63)
    }

    /// Adds `name`.
    #[inline]
    pub(crate) fn insert(&mut self, name: &[u8]) {
        self.0 |= NameSet::bit(name);
    }

    /// False only if `name` was certainly never inserted.
    #[inline]
    pub(crate) fn may_contain(self, name: &[u8]) -> bool {
        self.0 & NameSet::bit(name) != 0
    }
}

/// The values of the fields named `name` among `count` header lines, found by comparing each
/// line's name bytes in place (no name is turned into a `str`).
fn line_values<'b, 'n>(
    mut rest: &'b [u8],
    mut left: usize,
    name: &'n str,
) -> impl Iterator<Item = &'b [u8]> + use<'b, 'n> {
    std::iter::from_fn(move || {
        while left > 0 {
            left -= 1;
            let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
            let line = &rest[..end];
            rest = rest.get(end + 1..).unwrap_or(b"");
            let n = name.len();
            if line.len() > n && line[n] == b':' && line[..n].eq_ignore_ascii_case(name.as_bytes())
            {
                let value = &line[n + 1..];
                return Some(value.strip_suffix(b"\r").unwrap_or(value).trim_ascii());
            }
        }
        None
    })
}

pub(crate) use crate::rules::is_token_byte;

/// The fields of a validated header block, from either end.
struct RawLines<'a> {
    rest: &'a [u8],
    left: usize,
}

impl<'a> RawLines<'a> {
    /// Splits one validated line (without its line ending) into name and trimmed value.
    fn field(line: &'a [u8]) -> (&'a str, &'a [u8]) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let colon = memchr::memchr(b':', line).unwrap_or(line.len());
        // A validated name is a token: ASCII.
        let name = std::str::from_utf8(&line[..colon]).unwrap_or("");
        let value = line.get(colon + 1..).unwrap_or(b"").trim_ascii();
        (name, value)
    }
}

impl<'a> Iterator for RawLines<'a> {
    type Item = (&'a str, &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let end = memchr::memchr(b'\n', self.rest).unwrap_or(self.rest.len());
        let line = &self.rest[..end];
        self.rest = self.rest.get(end + 1..).unwrap_or(b"");
        Some(Self::field(line))
    }
}

impl DoubleEndedIterator for RawLines<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let body = self.rest.strip_suffix(b"\n").unwrap_or(self.rest);
        let start = memchr::memrchr(b'\n', body).map_or(0, |i| i + 1);
        let line = &body[start..];
        self.rest = &self.rest[..start];
        Some(Self::field(line))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &[u8] = b"Host: example.com\r\nX-Many:1\r\nx-many: \t2 \nX-Bin: \xff\r\n";

    #[test]
    fn parsed_view_reads_case_insensitively_in_order() {
        let h = HTTPHeaders::from_raw(RAW, 4);
        assert_eq!(h.len(), 4);
        assert_eq!(h.get("HOST"), Some("example.com"));
        assert_eq!(h.get("x-MANY"), Some("1"));
        assert_eq!(h.get_all("X-Many").collect::<Vec<_>>(), ["1", "2"]);
        assert_eq!(h.get("X-Bin"), None, "not UTF-8");
        assert_eq!(h.get_bytes("x-bin"), Some(&b"\xff"[..]));
        assert!(h.contains("host"));
        assert!(!h.contains("Hos"));
        let names: Vec<_> = h.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["Host", "X-Many", "x-many", "X-Bin"]);
        let back: Vec<_> = h.iter().rev().collect();
        assert_eq!(
            back,
            [
                ("X-Bin", &b"\xff"[..]),
                ("x-many", b"2"),
                ("X-Many", b"1"),
                ("Host", b"example.com")
            ]
        );
        let mut both = h.iter();
        assert_eq!(both.next().unwrap().0, "Host");
        assert_eq!(both.next_back().unwrap().0, "X-Bin");
        assert_eq!(both.len(), 2);
        assert_eq!(both.next().unwrap().0, "X-Many");
        assert_eq!(both.next_back().unwrap().0, "x-many");
        assert!(both.next().is_none());
        assert!(HTTPHeaders::from_raw(b"", 0).iter().next().is_none());
    }

    #[test]
    fn mutating_a_view_copies_it_once() {
        let mut h = HTTPHeaders::from_raw(RAW, 4);
        h.add("New", String::from("v"));
        assert_eq!(h.len(), 5);
        h.set("x-many", "3");
        assert_eq!(h.get_all("X-Many").collect::<Vec<_>>(), ["3"]);
        h.remove("HOST");
        assert!(!h.contains("Host"));
        let owned: HTTPHeaders<'static> = h.clone().into_owned();
        assert_eq!(owned, h);
        assert_eq!(owned.iter().next().unwrap().0, "X-Bin");
    }

    #[test]
    fn name_set_rules_out_absent_names_only() {
        let names = [
            "Host",
            "X-Many",
            "Content-Type",
            "Accept",
            "User-Agent",
            "Cookie",
            "a",
            "",
        ];
        let mut set = NameSet::EMPTY;
        for n in names {
            set.insert(n.as_bytes());
        }
        for n in names {
            assert!(set.may_contain(n.as_bytes()), "{n}");
            assert!(
                set.may_contain(n.to_uppercase().as_bytes()),
                "{n}, any case"
            );
            assert!(
                set.may_contain(n.to_lowercase().as_bytes()),
                "{n}, any case"
            );
        }
        assert!(!NameSet::EMPTY.may_contain(b"Host"));
        assert!(NameSet::ALL.may_contain(b"If-None-Match"));
        // Lookups through a summarised view and its owned copy agree with a full scan.
        let mut set = NameSet::EMPTY;
        for n in ["Host", "X-Many", "x-many", "X-Bin"] {
            set.insert(n.as_bytes());
        }
        let view = HTTPHeaders::from_parsed(RAW, 4, set);
        let mut kept = HeaderLines::default();
        kept.copy_from(&view);
        for name in ["HOST", "x-many", "X-BIN", "If-None-Match", "Cookie", "Hos"] {
            let full = HTTPHeaders::from_raw(RAW, 4);
            let expect: Vec<_> = full.values(name).collect();
            assert_eq!(view.values(name).collect::<Vec<_>>(), expect, "{name}");
            assert_eq!(kept.values(name).collect::<Vec<_>>(), expect, "{name}");
            assert_eq!(kept.headers().get_bytes(name), expect.first().copied());
        }
    }

    #[test]
    fn static_view() {
        static H: HTTPHeaders<'static> =
            HTTPHeaders::from_static(&[("Content-Type", "text/plain"), ("A", "1")]);
        assert_eq!(H.get("content-type"), Some("text/plain"));
        assert_eq!(H.len(), 2);
        let mut h = H.clone();
        h.remove("a");
        assert_eq!(h.len(), 1);
        assert_eq!(H.len(), 2);
        assert!(HTTPHeaders::new().is_empty());
        assert_eq!(format!("{:?}", h), r#"[("Content-Type", "text/plain")]"#);
    }

    #[test]
    fn remove_absent_name_keeps_view_borrowed() {
        let mut h = HTTPHeaders::from_raw(RAW, 4);
        h.remove("absent");
        assert!(matches!(h.repr, Repr::Lines { .. }));
    }
}
