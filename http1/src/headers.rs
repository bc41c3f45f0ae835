//! `HTTPHeaders`: Tornado's `httputil.HTTPHeaders` — names compared case-insensitively, order
//! kept, a name may repeat.
//!
//! One type serves three storages so that the keep-alive path never allocates:
//! - *raw*: a view over the header lines of a request head in the connection's read buffer,
//!   already checked by `httparse` (what [`crate::RequestHead::headers`] holds). Lookups
//!   re-scan the lines; no array of parsed headers has to be kept alive (and moved around in the
//!   connection's future) while the delegate looks at the head;
//! - *static*: a view over a `&[(&str, &str)]` slice, e.g. the fixed response headers of a
//!   handler ([`HTTPHeaders::from_static`] is `const`);
//! - *owned*: a `Vec` of `Cow` pairs, for headers that are built up or kept.
//!
//! Reading works the same on all three; the first change to a borrowed view turns it into the
//! owned form (one allocation, names and values still borrowed where possible).

use std::borrow::Cow;
use std::fmt;

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
    Raw {
        block: &'a [u8],
        count: usize,
    },
    Static(&'a [(&'a str, &'a str)]),
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
    pub const fn from_static(pairs: &'a [(&'a str, &'a str)]) -> HTTPHeaders<'a> {
        HTTPHeaders {
            repr: Repr::Static(pairs),
        }
    }

    /// A view over `count` header lines that `httparse` has validated (each `name: value`,
    /// ending in CRLF or LF; the final empty line excluded).
    pub(crate) fn from_raw(block: &'a [u8], count: usize) -> HTTPHeaders<'a> {
        HTTPHeaders {
            repr: Repr::Raw { block, count },
        }
    }

    /// The number of fields (a repeated name counts once per line).
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Raw { count, .. } => *count,
            Repr::Static(h) => h.len(),
            Repr::Owned(h) => h.len(),
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
                Repr::Raw { block, count } => IterInner::Raw {
                    rest: block,
                    left: *count,
                },
                Repr::Static(h) => IterInner::Static(h.iter()),
                Repr::Owned(h) => IterInner::Owned(h.iter()),
            },
        }
    }

    /// The first value of `name` as raw bytes.
    pub fn get_bytes(&self, name: &str) -> Option<&[u8]> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The first value of `name`; `None` if absent or not UTF-8 (see [`get_bytes`](Self::get_bytes)).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_bytes(name)
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Every value of `name`, in order (values that are not UTF-8 are skipped).
    pub fn get_all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> + 's {
        self.iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .filter_map(|(_, v)| std::str::from_utf8(v).ok())
    }

    /// True if a field named `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// The owned list, converting a borrowed view first.
    fn owned_mut(&mut self) -> &mut Vec<(Cow<'a, str>, Cow<'a, [u8]>)> {
        let list = match &self.repr {
            Repr::Owned(_) => None,
            Repr::Raw { block, count } => Some(
                RawLines {
                    rest: block,
                    left: *count,
                }
                .map(|(n, v)| (Cow::Borrowed(n), Cow::Borrowed(v)))
                .collect(),
            ),
            Repr::Static(h) => Some(
                h.iter()
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
        assert!(matches!(h.repr, Repr::Raw { .. }));
    }
}
