//! Request arguments: the query string and `application/x-www-form-urlencoded` bodies
//! (Tornado's `parse_qs_bytes` with `keep_blank_values=True`).
//!
//! Decoding is `+` → space, then percent-escapes, then UTF-8; invalid UTF-8 is a 400 when the
//! argument is read.
//! Fields are separated by `&`; empty fields are skipped; a field without `=` is a name with an
//! empty value. At most [`MAX_ARGUMENTS`] fields are accepted per container: the 1,001st is a
//! 400 and parsing stops there, so a hostile body never costs unbounded work.
//!
//! A handler reads them through its [`Context`](crate::Context) (`context.rs`), with the three cases
//! spelled out (Tornado's `get_argument("x", None)` is optional, `get_argument("x")`
//! required):
//!
//! | Tornado | here |
//! |---|---|
//! | `self.get_argument("x", None)` | `cx.argument("x")?` → `Option<&str>` |
//! | `self.get_argument("x")` | `cx.required_argument("x")?` → `&str` (else 400) |
//! | `self.get_argument("x", "d")` | `cx.argument_or("x", "d")?` → `&str` |
//!
//! Each takes the last value from the body, else the query, whitespace-trimmed; the `?` is
//! for a value that is not UTF-8 (a 400). `get_argument(name, default)` remains, with
//! Tornado's positional meaning (`None` = required).
//!
//! [`Arguments`] keeps all names and values in one string arena, so clearing and refilling it
//! on a keep-alive connection allocates nothing once it has grown to its working size.

use std::ops::Range;

use crate::error::HttpError;

/// The most arguments one query string or one body may carry.
pub const MAX_ARGUMENTS: usize = 1000;

/// An ordered multimap of decoded argument names to values.
///
/// Names and values are stored percent-decoded but not yet checked for UTF-8: as in Tornado,
/// a value that is not UTF-8 is a 400 when it is *read* (so a handler that never looks at an
/// argument is never failed by it). Names are compared as bytes.
///
/// ```
/// use web::Arguments;
/// let mut args = Arguments::new();
/// args.parse_urlencoded(b"a=1&b=x+y&a=%C3%A9&flag&bad=%FF").unwrap();
/// assert_eq!(args.get("a").unwrap(), Some("é")); // the last value, as Tornado's get_argument
/// assert_eq!(args.get_all("a").collect::<Result<Vec<_>, _>>().unwrap(), ["1", "é"]);
/// assert_eq!(args.get("b").unwrap(), Some("x y"));
/// assert_eq!(args.get("flag").unwrap(), Some(""));
/// assert_eq!(args.get("missing").unwrap(), None);
/// assert_eq!(args.get("bad").unwrap_err().status, 400);
/// ```
#[derive(Debug, Default, Clone)]
pub struct Arguments {
    /// Every decoded name and value, back to back.
    arena: Vec<u8>,
    /// (name, value) ranges into `arena`, in arrival order.
    entries: Vec<(Range<usize>, Range<usize>)>,
}

impl Arguments {
    /// An empty set of arguments.
    pub fn new() -> Arguments {
        Arguments::default()
    }

    /// Removes every argument, keeping the storage for reuse.
    pub fn clear(&mut self) {
        self.arena.clear();
        self.entries.clear();
    }

    /// Bytes of storage held (for pools that drop oversized buffers).
    pub(crate) fn capacity(&self) -> usize {
        self.arena.capacity()
            + self.entries.capacity() * std::mem::size_of::<(Range<usize>, Range<usize>)>()
    }

    /// The number of (name, value) pairs.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no arguments.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Appends one already-decoded pair.
    pub fn push(&mut self, name: &[u8], value: &[u8]) {
        let name = append(&mut self.arena, name);
        let value = append(&mut self.arena, value);
        self.entries.push((name, value));
    }

    /// The last value of `name` (Tornado's `get_argument` takes the last one); a 400 if that
    /// value is not UTF-8.
    pub fn get(&self, name: &str) -> Result<Option<&str>, HttpError> {
        self.iter_bytes()
            .filter(|(n, _)| *n == name.as_bytes())
            .last()
            .map(|(n, v)| utf8(n, v))
            .transpose()
    }

    /// Every value of `name` in arrival order, each a 400 if not UTF-8.
    pub fn get_all<'s, 'n>(
        &'s self,
        name: &'n str,
    ) -> impl Iterator<Item = Result<&'s str, HttpError>> + 'n
    where
        's: 'n,
    {
        self.iter_bytes()
            .filter(move |(n, _)| *n == name.as_bytes())
            .map(move |(_, v)| utf8(name.as_bytes(), v))
    }

    /// Every (name, value) pair in arrival order, each a 400 if not UTF-8.
    pub fn iter(&self) -> impl Iterator<Item = Result<(&str, &str), HttpError>> + '_ {
        self.iter_bytes()
            .map(|(n, v)| Ok((utf8(n, n)?, utf8(n, v)?)))
    }

    /// Every (name, value) pair as decoded bytes.
    pub fn iter_bytes(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.entries
            .iter()
            .map(|(n, v)| (&self.arena[n.clone()], &self.arena[v.clone()]))
    }

    /// Parses a query string or form body and appends its arguments.
    ///
    /// A 400 when there are more than [`MAX_ARGUMENTS`] in total (parsing stops there).
    pub fn parse_urlencoded(&mut self, input: &[u8]) -> Result<(), HttpError> {
        if input.is_empty() {
            return Ok(()); // most queries
        }
        for field in input.split(|&b| b == b'&') {
            if field.is_empty() {
                continue;
            }
            if self.entries.len() >= MAX_ARGUMENTS {
                return Err(HttpError::bad_request(
                    "too many arguments (more than 1000)",
                ));
            }
            let (name, value) = match field.iter().position(|&b| b == b'=') {
                Some(eq) => (&field[..eq], &field[eq + 1..]),
                None => (field, &b""[..]),
            };
            let name = decode_append(&mut self.arena, name);
            let value = decode_append(&mut self.arena, value);
            self.entries.push((name, value));
        }
        Ok(())
    }
}

/// Checks UTF-8; the error names the argument (Tornado's "Invalid unicode in ...").
fn utf8<'a>(name: &[u8], bytes: &'a [u8]) -> Result<&'a str, HttpError> {
    std::str::from_utf8(bytes).map_err(|_| {
        HttpError::bad_request(format!(
            "invalid UTF-8 in argument {:?}",
            String::from_utf8_lossy(&name[..name.len().min(40)])
        ))
    })
}

fn append(arena: &mut Vec<u8>, s: &[u8]) -> Range<usize> {
    let start = arena.len();
    arena.extend_from_slice(s);
    start..arena.len()
}

/// `+` → space and percent-decoding, straight onto the arena.
fn decode_append(arena: &mut Vec<u8>, raw: &[u8]) -> Range<usize> {
    let start = arena.len();
    crate::escape::url_unescape_into(arena, raw, true);
    start..arena.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &[u8]) -> Result<Vec<(String, String)>, HttpError> {
        let mut a = Arguments::new();
        a.parse_urlencoded(input)?;
        a.iter()
            .map(|r| r.map(|(n, v)| (n.into(), v.into())))
            .collect()
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn blank_and_empty_fields() {
        assert_eq!(parse(b"").unwrap(), pairs(&[]));
        assert_eq!(parse(b"&&").unwrap(), pairs(&[]));
        assert_eq!(parse(b"a=&b").unwrap(), pairs(&[("a", ""), ("b", "")]));
        assert_eq!(parse(b"=x").unwrap(), pairs(&[("", "x")]));
        assert_eq!(parse(b"a=b=c").unwrap(), pairs(&[("a", "b=c")]));
    }

    #[test]
    fn plus_then_percent_then_utf8() {
        // `%2B` is a literal plus; `+` is a space.
        assert_eq!(parse(b"q=1%2B1+2").unwrap(), pairs(&[("q", "1+1 2")]));
        assert_eq!(parse(b"na+me=%E2%82%AC").unwrap(), pairs(&[("na me", "€")]));
        assert_eq!(parse(b"a=%ZZ").unwrap(), pairs(&[("a", "%ZZ")]));
        assert_eq!(parse(b"a=%FF").unwrap_err().status, 400);
        assert_eq!(parse(b"%C3=1").unwrap_err().status, 400);
        assert_eq!(parse(b"a=\xc3\xa9").unwrap(), pairs(&[("a", "é")]));
    }

    #[test]
    fn at_most_a_thousand() {
        let ok = "a=1&".repeat(1000);
        assert_eq!(parse(ok.as_bytes()).unwrap().len(), 1000);
        let too_many = "a=1&".repeat(1001);
        assert_eq!(parse(too_many.as_bytes()).unwrap_err().status, 400);
        // Empty fields do not count.
        let sparse = format!("{}{}", "&".repeat(5000), "a=1&".repeat(1000));
        assert_eq!(parse(sparse.as_bytes()).unwrap().len(), 1000);
    }

    #[test]
    fn reuse_keeps_capacity() {
        let mut a = Arguments::new();
        a.parse_urlencoded(b"name=value&x=%20").unwrap();
        let cap = (a.arena.capacity(), a.entries.capacity());
        a.clear();
        assert!(a.is_empty());
        a.parse_urlencoded(b"name=other&y=1").unwrap();
        assert_eq!(cap, (a.arena.capacity(), a.entries.capacity()));
        assert_eq!(a.get("name").unwrap(), Some("other"));
    }
}
