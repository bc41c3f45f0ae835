//! `Response`: what a handler has set so far (Tornado's `_status_code`, `_headers` and
//! `_write_buffer`): the status, the header list, and the buffered body.
//!
//! Header names must be tokens and values must not hold control characters (CR and LF above
//! all): a bad header is an error returned to the handler, never a split response. Names and
//! values live in one reused string arena, so setting headers allocates nothing once warm; a
//! value may be anything `Display` (text, numbers), formatted straight into the arena.

use std::fmt::{self, Write as _};
use std::ops::Range;

use crate::error::HttpError;

/// Tornado's default `Content-Type`.
pub const DEFAULT_CONTENT_TYPE: &str = "text/html; charset=UTF-8";

/// The response being built: status, headers, body buffer.
#[derive(Debug)]
pub struct Response {
    status: u16,
    /// A custom reason phrase (empty: the standard one).
    reason: String,
    pub(crate) headers: HeaderList,
    /// Body bytes written and not yet sent.
    pub(crate) body: Vec<u8>,
    /// The status line and headers have gone out (the handler flushed).
    pub(crate) headers_written: bool,
    /// `finish()` was called: no more writes.
    pub(crate) finished: bool,
    /// The response cannot be completed (a flush failed, or an error came after the headers
    /// were sent): the connection is closed instead of finishing it.
    pub(crate) aborted: bool,
    /// A flush failed: the client went away (the handler's `on_connection_close` runs).
    pub(crate) connection_lost: bool,
    /// Header pairs for `http1`, reused.
    pub(crate) pairs: PairBuf,
    /// The gzip stream of a compressed response that was flushed (`compress_response`).
    pub(crate) gzip: Option<crate::gzip::GzipStream>,
}

impl Default for Response {
    fn default() -> Self {
        let mut r = Response {
            status: 200,
            reason: String::new(),
            headers: HeaderList::default(),
            body: Vec::new(),
            headers_written: false,
            finished: false,
            aborted: false,
            connection_lost: false,
            pairs: PairBuf::default(),
            gzip: None,
        };
        r.clear();
        r
    }
}

impl Response {
    /// Back to a fresh 200 with the default headers and an empty body (Tornado's `clear`),
    /// keeping storage. Does not reset `headers_written`/`finished`.
    pub(crate) fn clear(&mut self) {
        self.status = 200;
        self.reason.clear();
        self.headers.clear();
        self.body.clear();
    }

    /// Ready for the next request.
    pub(crate) fn reset(&mut self) {
        self.clear();
        self.headers_written = false;
        self.finished = false;
        self.aborted = false;
        self.connection_lost = false;
        self.gzip = None;
    }

    /// Bytes held by the reusable buffers.
    pub(crate) fn retained_bytes(&self) -> usize {
        self.body.capacity() + self.headers.text.capacity() + self.reason.capacity()
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The reason phrase: custom, standard, or `Unknown`.
    pub fn reason(&self) -> &str {
        if self.reason.is_empty() {
            crate::reason_phrase(self.status).unwrap_or("Unknown")
        } else {
            &self.reason
        }
    }

    /// Sets the status and optionally a custom reason phrase. A code outside 100..=999, or a
    /// reason with control characters, is a 500 error.
    pub fn set_status(&mut self, status: u16, reason: Option<&str>) -> Result<(), HttpError> {
        if !(100..=999).contains(&status) {
            return Err(HttpError::with_log(
                500,
                format!("invalid status code {status}"),
            ));
        }
        if let Some(r) = reason {
            if !is_valid_value(r) {
                return Err(HttpError::with_log(500, "unsafe reason phrase"));
            }
        }
        self.status = status;
        self.reason.clear();
        self.reason.push_str(reason.unwrap_or(""));
        Ok(())
    }

    /// The headers set so far.
    pub fn headers(&self) -> &HeaderList {
        &self.headers
    }

    pub(crate) fn headers_mut(&mut self) -> &mut HeaderList {
        &mut self.headers
    }

    /// The body buffered so far.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

/// Response headers: an ordered list whose names compare case-insensitively.
///
/// After a reset the list holds Tornado's default `Content-Type` as a flag rather than an
/// entry, so that the usual `set_header("Content-Type", ..)` costs no removal.
#[derive(Debug, Default)]
pub struct HeaderList {
    text: String,
    entries: Vec<(Range<usize>, Range<usize>)>,
    /// The default `Content-Type` ([`DEFAULT_CONTENT_TYPE`]) is present, first in order.
    default_content_type: bool,
}

impl HeaderList {
    /// Back to the default `Content-Type` alone.
    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.entries.clear();
        self.default_content_type = true;
    }

    /// Appends a pair known to be valid (constants, or values this crate computed: Etag,
    /// Content-Length), without formatting or checks.
    pub(crate) fn push_static(&mut self, name: &str, value: &str) {
        let n = push(&mut self.text, name);
        let v = push(&mut self.text, value);
        self.entries.push((n, v));
    }

    /// Replaces every header `name` with one holding `value` (Tornado's `set_header`).
    pub fn set(&mut self, name: &str, value: impl fmt::Display) -> Result<(), HttpError> {
        let entry = self.format(name, value)?;
        self.remove(name);
        self.entries.push(entry);
        Ok(())
    }

    /// Appends a header, keeping others of that name (Tornado's `add_header`).
    pub fn add(&mut self, name: &str, value: impl fmt::Display) -> Result<(), HttpError> {
        let entry = self.format(name, value)?;
        if self.default_content_type && name.eq_ignore_ascii_case("Content-Type") {
            // The default becomes a real entry, ahead of the added one.
            self.default_content_type = false;
            let n = push(&mut self.text, "Content-Type");
            let v = push(&mut self.text, DEFAULT_CONTENT_TYPE);
            self.entries.insert(0, (n, v));
        }
        self.entries.push(entry);
        Ok(())
    }

    /// Adds a validated `Set-Cookie` line.
    pub(crate) fn add_cookie(
        &mut self,
        cookie: &crate::cookies::Cookie<'_>,
    ) -> Result<(), HttpError> {
        let mark = self.text.len();
        let n = push(&mut self.text, "Set-Cookie");
        if let Err(e) = cookie.write_header_value(&mut self.text) {
            self.text.truncate(mark);
            return Err(e);
        }
        self.entries.push((n.clone(), n.end..self.text.len()));
        Ok(())
    }

    /// Removes every header `name` (Tornado's `clear_header`).
    pub fn remove(&mut self, name: &str) {
        if name.eq_ignore_ascii_case("Content-Type") {
            self.default_content_type = false;
        }
        let text = self.text.as_bytes();
        let matches = |(n, _): &(Range<usize>, Range<usize>)| {
            n.len() == name.len() && text[n.clone()].eq_ignore_ascii_case(name.as_bytes())
        };
        if self.entries.iter().any(matches) {
            self.entries.retain(|e| !matches(e));
        }
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Whether `name` is set.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Every (name, value), in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let default = self
            .default_content_type
            .then_some(("Content-Type", DEFAULT_CONTENT_TYPE));
        default.into_iter().chain(
            self.entries
                .iter()
                .map(|(n, v)| (&self.text[n.clone()], &self.text[v.clone()])),
        )
    }

    /// The number of header lines.
    pub fn len(&self) -> usize {
        self.entries.len() + usize::from(self.default_content_type)
    }

    /// Whether there are no headers.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Validates `name`, formats and validates `value` onto the arena (rolled back on error).
    fn format(
        &mut self,
        name: &str,
        value: impl fmt::Display,
    ) -> Result<(Range<usize>, Range<usize>), HttpError> {
        if name.is_empty() || !name.bytes().all(crate::cookies::is_token_byte) {
            return Err(HttpError::with_log(
                500,
                format!("invalid header name {name:?}"),
            ));
        }
        let mark = self.text.len();
        let n = push(&mut self.text, name);
        let _ = write!(self.text, "{value}");
        let v = n.end..self.text.len();
        if !is_valid_value(&self.text[v.clone()]) {
            self.text.truncate(mark);
            return Err(HttpError::with_log(
                500,
                format!("unsafe value for header {name} (control characters)"),
            ));
        }
        Ok((n, v))
    }
}

/// A reusable buffer of borrowed `(name, value)` pairs: the header list as the slice that
/// `http1::HTTPHeaders::from_static` views, without allocating once it has grown. Between
/// uses it holds an empty `Vec` whose lifetime parameter is re-labelled with an in-place
/// `collect`, which keeps the allocation (the allocation-count test guards this).
#[derive(Debug, Default)]
pub(crate) struct PairBuf(Vec<(&'static str, &'static str)>);

impl PairBuf {
    /// The pairs of `list`, in a `Vec` lent until [`give_back`](Self::give_back).
    pub(crate) fn fill<'a>(&mut self, list: &'a HeaderList) -> Vec<(&'a str, &'a str)> {
        let mut pairs = relabel(std::mem::take(&mut self.0));
        pairs.extend(list.iter());
        pairs
    }

    /// Returns the buffer for the next response.
    pub(crate) fn give_back(&mut self, pairs: Vec<(&str, &str)>) {
        self.0 = relabel(pairs);
    }
}

/// Empties `v` and gives it another lifetime parameter, keeping its allocation.
fn relabel<'b>(mut v: Vec<(&str, &str)>) -> Vec<(&'b str, &'b str)> {
    v.clear();
    v.into_iter().map(|_| ("", "")).collect()
}

/// A field value: no control characters except HTAB (so no CR, LF or NUL: no injection).
pub(crate) fn is_valid_value(v: &str) -> bool {
    v.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

fn push(text: &mut String, s: &str) -> Range<usize> {
    let start = text.len();
    text.push_str(s);
    start..text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_clear() {
        let mut r = Response::default();
        assert_eq!(r.status(), 200);
        assert_eq!(r.reason(), "OK");
        assert_eq!(r.headers().get("content-type"), Some(DEFAULT_CONTENT_TYPE));
        r.set_status(418, Some("Short And Stout")).unwrap();
        r.headers_mut().set("X-A", 1).unwrap();
        r.body.extend_from_slice(b"x");
        r.clear();
        assert_eq!((r.status(), r.reason()), (200, "OK"));
        assert_eq!(r.headers().len(), 1);
        assert!(r.body().is_empty());
    }

    #[test]
    fn status_validation() {
        let mut r = Response::default();
        assert!(r.set_status(99, None).is_err());
        assert!(r.set_status(1000, None).is_err());
        assert!(r.set_status(200, Some("O\r\nK")).is_err());
        r.set_status(599, None).unwrap();
        assert_eq!(r.reason(), "Unknown");
    }

    #[test]
    fn set_add_remove() {
        let mut h = HeaderList::default();
        h.add("Set-Cookie", "a=1").unwrap();
        assert!(!h.contains("Content-Type"), "a bare list has no default");
        h.add("set-cookie", "b=2").unwrap();
        h.set("X-Num", 42).unwrap();
        assert_eq!(
            h.iter()
                .filter(|(n, _)| *n == "Set-Cookie" || *n == "set-cookie")
                .count(),
            2
        );
        h.set("SET-COOKIE", "c=3").unwrap();
        assert_eq!(
            h.iter().collect::<Vec<_>>(),
            [("X-Num", "42"), ("SET-COOKIE", "c=3")]
        );
        h.remove("x-num");
        assert!(!h.contains("X-Num"));
    }

    #[test]
    fn default_content_type() {
        let mut h = HeaderList::default();
        h.clear();
        assert_eq!(
            h.iter().collect::<Vec<_>>(),
            [("Content-Type", DEFAULT_CONTENT_TYPE)]
        );
        h.set("X-A", "1").unwrap();
        h.set("content-type", "text/plain").unwrap();
        assert_eq!(
            h.iter().collect::<Vec<_>>(),
            [("X-A", "1"), ("content-type", "text/plain")]
        );
        h.clear();
        h.add("Content-Type", "text/x").unwrap();
        assert_eq!(
            h.iter().collect::<Vec<_>>(),
            [
                ("Content-Type", DEFAULT_CONTENT_TYPE),
                ("Content-Type", "text/x")
            ]
        );
        h.clear();
        h.remove("CONTENT-TYPE");
        assert!(h.is_empty());
        h.clear();
        assert_eq!(h.len(), 1);
        assert_eq!(h.get("content-type"), Some(DEFAULT_CONTENT_TYPE));
    }

    #[test]
    fn pair_buffer_keeps_its_allocation() {
        let mut h = HeaderList::default();
        h.push_static("A", "1");
        h.push_static("B", "2");
        let mut buf = PairBuf::default();
        let pairs = buf.fill(&h);
        assert_eq!(pairs, [("A", "1"), ("B", "2")]);
        let ptr = pairs.as_ptr() as usize;
        buf.give_back(pairs);
        assert_eq!(buf.0.as_ptr() as usize, ptr);
        assert!(buf.0.is_empty());
    }

    #[test]
    fn injection_is_an_error_and_leaves_nothing() {
        let mut h = HeaderList::default();
        h.set("X-Ok", "fine\tvalue").unwrap();
        for v in ["a\r\nSet-Cookie: x=y", "a\nb", "a\rb", "a\0b", "a\x7fb"] {
            assert_eq!(h.set("X-Bad", v).unwrap_err().status, 500);
            assert_eq!(h.add("X-Bad", v).unwrap_err().status, 500);
        }
        for n in ["", "X Bad", "X:Bad", "X\r\nBad", "Bad\n"] {
            assert!(h.set(n, "v").is_err(), "{n:?}");
        }
        assert_eq!(h.iter().collect::<Vec<_>>(), [("X-Ok", "fine\tvalue")]);
        assert_eq!(h.text, "X-Okfine\tvalue", "rolled back");
    }
}
