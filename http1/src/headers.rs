//! `HTTPHeaders`: Tornado's `httputil.HTTPHeaders` — names compared case-insensitively, order
//! kept, a name may repeat. The one type for headers that are *read*: a request head's, a
//! response's on the client, the copy a framework keeps of a request's.
//!
//! Two storages, so that the keep-alive path never allocates:
//! - *lines*: checked header lines (`name: value`, each ending in CRLF or LF), either borrowed
//!   (a request head's, in the connection's read buffer, already checked by `httparse`: what
//!   [`crate::RequestHead::headers`] holds) or owned (a copy kept once the read buffer moves
//!   on, [`HTTPHeaders::copy_from`]: one `memcpy` of the lines, storage reused). Lookups
//!   re-scan the lines, so no array of parsed headers has to be kept alive;
//! - *fields*: a list of `(name, value)` pairs, for headers built or changed with
//!   [`add`](HTTPHeaders::add), [`set`](HTTPHeaders::set) and [`remove`](HTTPHeaders::remove)
//!   (the first change to lines turns them into fields, names and values still borrowed).
//!
//! Headers that are *written* (a response's) are a [`HeaderBlock`](crate::HeaderBlock): fields
//! checked as they are pushed and kept in wire form.

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
    Lines {
        block: Cow<'a, [u8]>,
        count: usize,
        /// A summary of the names: a lookup of an absent name usually ends here.
        names: NameSet,
    },
    /// Fields as added, in order.
    Fields(Vec<(Cow<'a, str>, Cow<'a, [u8]>)>),
}

impl<'a> HTTPHeaders<'a> {
    /// An empty header list (allocates on the first [`add`](Self::add)).
    pub const fn new() -> HTTPHeaders<'a> {
        HTTPHeaders {
            repr: Repr::Fields(Vec::new()),
        }
    }

    /// A list of the given fields (names and values borrowed; one allocation).
    ///
    /// ```
    /// use http1::HTTPHeaders;
    /// let h = HTTPHeaders::from_pairs(&[("Content-Type", "text/plain")]);
    /// assert_eq!(h.get("content-type"), Some("text/plain"));
    /// ```
    pub fn from_pairs(pairs: &[(&'a str, &'a str)]) -> HTTPHeaders<'a> {
        let fields = pairs
            .iter()
            .map(|(n, v)| (Cow::Borrowed(*n), Cow::Borrowed(v.as_bytes())))
            .collect();
        HTTPHeaders {
            repr: Repr::Fields(fields),
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
                block: Cow::Borrowed(block),
                count,
                names,
            },
        }
    }

    /// Replaces these headers with a copy of `headers`, keeping this list's storage: the
    /// lines of a request head are copied in one piece. This is how a framework keeps a
    /// request's headers once the connection's read buffer moves on (no allocation once the
    /// storage has grown).
    ///
    /// ```
    /// use http1::HTTPHeaders;
    /// let mut kept = HTTPHeaders::new();
    /// kept.copy_from(&HTTPHeaders::from_pairs(&[("Host", "example.com"), ("Accept", "*/*")]));
    /// assert_eq!(kept.get("host"), Some("example.com"));
    /// assert_eq!(kept.len(), 2);
    /// ```
    pub fn copy_from(&mut self, headers: &HTTPHeaders<'_>) {
        match (&mut self.repr, &headers.repr) {
            // The usual case: a kept copy refilled from a request head's lines.
            (
                Repr::Lines {
                    block: Cow::Owned(block),
                    count,
                    names,
                },
                Repr::Lines {
                    block: lines,
                    count: n,
                    names: summary,
                },
            ) => {
                block.clear();
                block.extend_from_slice(lines);
                (*count, *names) = (*n, *summary);
            }
            _ => {
                let mut block = Vec::new();
                let (count, names) = headers.append_lines_to(&mut block);
                self.repr = Repr::Lines {
                    block: Cow::Owned(block),
                    count,
                    names,
                };
            }
        }
    }

    /// Appends the fields to `out` as lines; returns their number and the summary of their
    /// names.
    fn append_lines_to(&self, out: &mut Vec<u8>) -> (usize, NameSet) {
        match &self.repr {
            Repr::Lines {
                block,
                count,
                names,
            } => {
                out.extend_from_slice(block);
                (*count, *names)
            }
            Repr::Fields(fields) => {
                for (name, value) in fields {
                    out.extend_from_slice(name.as_bytes());
                    out.extend_from_slice(b": ");
                    out.extend_from_slice(value);
                    out.extend_from_slice(b"\r\n");
                }
                (fields.len(), NameSet::ALL)
            }
        }
    }

    /// Bytes of storage held (a framework's pool drops copies that grew too big).
    pub fn capacity(&self) -> usize {
        match &self.repr {
            Repr::Lines {
                block: Cow::Owned(block),
                ..
            } => block.capacity(),
            Repr::Lines { .. } => 0,
            Repr::Fields(fields) => {
                fields.capacity() * std::mem::size_of::<(Cow<str>, Cow<[u8]>)>()
            }
        }
    }

    /// The number of fields (a repeated name counts once per line).
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Fields(h) => h.len(),
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
                Repr::Fields(h) => IterInner::Fields(h.iter()),
                Repr::Lines { block, count, .. } => IterInner::Lines(RawLines {
                    rest: block,
                    left: *count,
                }),
            },
        }
    }

    /// The first value of `name` as raw bytes.
    pub fn get_bytes(&self, name: &str) -> Option<&[u8]> {
        self.values(name).next()
    }

    /// Every raw value of `name`, in order. Lines are searched by comparing each line's name
    /// bytes in place (no name is turned into a `str`); none at all when the name summary
    /// rules the name out.
    fn values<'s, 'n>(&'s self, name: &'n str) -> Values<'s, 'n> {
        match &self.repr {
            Repr::Lines { names, .. } if !names.may_contain(name.as_bytes()) => Values::None,
            Repr::Lines { block, count, .. } => Values::Lines {
                rest: block,
                left: *count,
                name,
            },
            Repr::Fields(fields) => Values::Fields {
                fields: fields.iter(),
                name,
            },
        }
    }

    /// The first value of `name`; `None` if absent or not UTF-8 (see [`get_bytes`](Self::get_bytes)).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_bytes(name)
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Every value of `name`, in order (values that are not UTF-8 are skipped).
    pub fn get_all<'s, 'n>(
        &'s self,
        name: &'n str,
    ) -> impl Iterator<Item = &'s str> + use<'a, 's, 'n> {
        self.values(name)
            .filter_map(|v| std::str::from_utf8(v).ok())
    }

    /// True if a field named `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.values(name).next().is_some()
    }

    /// The field list, converting lines first.
    fn fields_mut(&mut self) -> &mut Vec<(Cow<'a, str>, Cow<'a, [u8]>)> {
        if let Repr::Lines { block, count, .. } = &self.repr {
            let fields = match block {
                Cow::Borrowed(block) => RawLines {
                    rest: block,
                    left: *count,
                }
                .map(|(n, v)| (Cow::Borrowed(n), Cow::Borrowed(v)))
                .collect(),
                Cow::Owned(block) => RawLines {
                    rest: block,
                    left: *count,
                }
                .map(|(n, v)| (Cow::Owned(n.to_owned()), Cow::Owned(v.to_vec())))
                .collect(),
            };
            self.repr = Repr::Fields(fields);
        }
        match &mut self.repr {
            Repr::Fields(v) => v,
            Repr::Lines { .. } => unreachable!("converted above"),
        }
    }

    /// Appends a field (an existing field of the same name is kept).
    pub fn add(&mut self, name: impl Into<Cow<'a, str>>, value: impl Into<Cow<'a, str>>) {
        let value = match value.into() {
            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        };
        self.fields_mut().push((name.into(), value));
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
            self.fields_mut()
                .retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        }
    }

    /// A copy that borrows nothing (allocates).
    pub fn into_owned(self) -> HTTPHeaders<'static> {
        let repr = match self.repr {
            Repr::Lines {
                block,
                count,
                names,
            } => Repr::Lines {
                block: Cow::Owned(block.into_owned()),
                count,
                names,
            },
            Repr::Fields(fields) => Repr::Fields(
                fields
                    .into_iter()
                    .map(|(n, v)| (Cow::Owned(n.into_owned()), Cow::Owned(v.into_owned())))
                    .collect(),
            ),
        };
        HTTPHeaders { repr }
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
    Lines(RawLines<'h>),
    Fields(std::slice::Iter<'h, (Cow<'h, str>, Cow<'h, [u8]>)>),
}

impl<'h> Iterator for Iter<'h> {
    type Item = (&'h str, &'h [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            IterInner::Lines(lines) => lines.next(),
            IterInner::Fields(i) => i.next().map(|(n, v)| (&**n, &**v)),
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = match &self.inner {
            IterInner::Lines(lines) => lines.left,
            IterInner::Fields(i) => i.len(),
        };
        (n, Some(n))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            IterInner::Lines(lines) => lines.next_back(),
            IterInner::Fields(i) => i.next_back().map(|(n, v)| (&**n, &**v)),
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

/// The values of the fields named `name`, in order (see [`HTTPHeaders::values`]).
enum Values<'s, 'n> {
    /// The name is certainly absent.
    None,
    /// Among `left` header lines, found by comparing each line's name bytes in place.
    Lines {
        rest: &'s [u8],
        left: usize,
        name: &'n str,
    },
    Fields {
        fields: std::slice::Iter<'s, (Cow<'s, str>, Cow<'s, [u8]>)>,
        name: &'n str,
    },
}

impl<'s> Iterator for Values<'s, '_> {
    type Item = &'s [u8];
    fn next(&mut self) -> Option<&'s [u8]> {
        match self {
            Values::None => None,
            Values::Lines { rest, left, name } => {
                while *left > 0 {
                    *left -= 1;
                    let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
                    let line = &rest[..end];
                    *rest = rest.get(end + 1..).unwrap_or(b"");
                    let n = name.len();
                    if line.len() > n
                        && line[n] == b':'
                        && line[..n].eq_ignore_ascii_case(name.as_bytes())
                    {
                        let value = &line[n + 1..];
                        return Some(value.strip_suffix(b"\r").unwrap_or(value).trim_ascii());
                    }
                }
                None
            }
            Values::Fields { fields, name } => fields
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| &**v),
        }
    }
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
        let mut kept = HTTPHeaders::new();
        kept.copy_from(&view);
        for name in ["HOST", "x-many", "X-BIN", "If-None-Match", "Cookie", "Hos"] {
            let full = HTTPHeaders::from_raw(RAW, 4);
            let expect: Vec<_> = full.values(name).collect();
            assert_eq!(view.values(name).collect::<Vec<_>>(), expect, "{name}");
            assert_eq!(kept.values(name).collect::<Vec<_>>(), expect, "{name}");
            assert_eq!(kept.get_bytes(name), expect.first().copied());
        }
    }

    #[test]
    fn pairs_view() {
        let pairs = HTTPHeaders::from_pairs(&[("Content-Type", "text/plain"), ("A", "1")]);
        assert_eq!(pairs.get("content-type"), Some("text/plain"));
        assert_eq!(pairs.len(), 2);
        let mut h = pairs.clone();
        h.remove("a");
        assert_eq!(h.len(), 1);
        assert_eq!(pairs.len(), 2);
        assert!(HTTPHeaders::new().is_empty());
        assert_eq!(format!("{:?}", h), r#"[("Content-Type", "text/plain")]"#);
    }

    #[test]
    fn a_kept_copy_reuses_its_storage_and_owns_its_lines() {
        let mut kept = HTTPHeaders::new();
        kept.copy_from(&HTTPHeaders::from_raw(RAW, 4));
        let storage = kept.capacity();
        assert!(storage >= RAW.len());
        kept.copy_from(&HTTPHeaders::from_raw(b"Host: h\r\n", 1));
        assert_eq!((kept.len(), kept.get("host")), (1, Some("h")));
        assert_eq!(kept.capacity(), storage, "the storage is reused");
        // Changing the copy turns it into fields that own their text.
        kept.add("X-New", "v");
        let owned: HTTPHeaders<'static> = kept.clone().into_owned();
        assert_eq!(owned, kept);
        assert_eq!(
            owned.iter().collect::<Vec<_>>(),
            [("Host", &b"h"[..]), ("X-New", b"v")]
        );
        // Fields copied back become lines again.
        let mut again = HTTPHeaders::new();
        again.copy_from(&owned);
        assert_eq!(again, owned);
        assert!(matches!(again.repr, Repr::Lines { .. }));
    }

    #[test]
    fn remove_absent_name_keeps_view_borrowed() {
        let mut h = HTTPHeaders::from_raw(RAW, 4);
        h.remove("absent");
        assert!(matches!(h.repr, Repr::Lines { .. }));
    }
}
