//! `Response`: what a handler has set so far (Tornado's `_status_code`, `_headers` and
//! `_write_buffer`): the status, the header list, and the buffered body.
//!
//! Header names must be tokens and values must not hold control characters (CR and LF above
//! all): a bad header is an error returned to the handler, never a split response. The fields
//! live in one reused [`http1::HeaderBlock`], so setting headers allocates nothing once warm; a
//! value is any [`HeaderValue`] (text, bytes, numbers, dates), written straight into the block.

use http1::{HeaderName, HeaderValue, HexTag, ResponseStartLine};

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
        self.body.capacity() + self.headers.capacity() + self.reason.capacity()
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

    /// What goes to `http1` when the headers go out: the status line, the headers in wire
    /// form (the default `Content-Type` made their last line if none was set), and the body
    /// buffered so far.
    pub(crate) fn head(&mut self) -> (ResponseStartLine<'_>, &http1::HeaderBlock, &[u8]) {
        self.headers.materialize_default();
        // An empty reason: http1 writes the standard one (or `Unknown`), as `reason` does.
        let line = ResponseStartLine {
            code: self.status,
            reason: &self.reason,
        };
        (line, self.headers.wire(), &self.body)
    }
}

/// Response headers: an ordered list whose names compare case-insensitively, kept in wire
/// form in an [`http1::HeaderBlock`] (checked as they are set; one copy when they go out).
///
/// After a reset the list holds Tornado's default `Content-Type` as a flag rather than an
/// entry, so that the usual `set_header("Content-Type", ..)` costs no removal; unless a
/// `Content-Type` was set meanwhile, it is written after the others when the headers go out.
#[derive(Debug, Default)]
pub struct HeaderList {
    block: http1::HeaderBlock,
    /// The default `Content-Type` ([`DEFAULT_CONTENT_TYPE`]) is present, first in order.
    default_content_type: bool,
    /// Which of the headers `finish` may add are set ([`ETAG`], [`CONTENT_LENGTH`] bits), so
    /// that it need not search for them.
    framework_set: u8,
}

/// [`HeaderList::framework_set`] bit: an `Etag` is set.
const ETAG: u8 = 1;
/// [`HeaderList::framework_set`] bit: a `Content-Length` is set.
const CONTENT_LENGTH: u8 = 2;

/// The [`HeaderList::framework_set`] bit of `name` (0 for other names).
fn framework_bit(name: &str) -> u8 {
    match name.len() {
        4 if name.eq_ignore_ascii_case("Etag") => ETAG,
        14 if name.eq_ignore_ascii_case("Content-Length") => CONTENT_LENGTH,
        _ => 0,
    }
}

impl HeaderList {
    /// Back to the default `Content-Type` alone.
    pub(crate) fn clear(&mut self) {
        self.block.clear();
        self.default_content_type = true;
        self.framework_set = 0;
    }

    /// Whether an `Etag` header is set.
    pub(crate) fn has_etag(&self) -> bool {
        self.framework_set & ETAG != 0
    }

    /// Whether a `Content-Length` header is set.
    pub(crate) fn has_content_length(&self) -> bool {
        self.framework_set & CONTENT_LENGTH != 0
    }

    /// Appends a field this crate makes (a constant name and value, neither `Etag` nor
    /// `Content-Length`).
    pub(crate) fn push_static(&mut self, name: HeaderName<'static>, value: &[u8]) {
        let pushed = self.block.push(name, value);
        debug_assert!(pushed.is_ok(), "{name:?}: {value:?}");
        debug_assert_eq!(framework_bit(name.as_str()), 0, "{name:?}");
    }

    /// Appends the `Etag` this crate computed, from its hash.
    pub(crate) fn push_etag(&mut self, hash: u64) {
        let pushed = self.block.push(ETAG_NAME, HexTag(hash));
        debug_assert!(pushed.is_ok());
        self.framework_set |= ETAG;
    }

    /// Appends the `Content-Length` this crate computed.
    pub(crate) fn push_content_length(&mut self, n: u64) {
        let pushed = self.block.push(CONTENT_LENGTH_NAME, n);
        debug_assert!(pushed.is_ok());
        self.framework_set |= CONTENT_LENGTH;
    }

    /// Replaces every header `name` with one holding `value` (Tornado's `set_header`).
    pub fn set(&mut self, name: &str, value: impl HeaderValue) -> Result<(), HttpError> {
        if name == CONTENT_TYPE.as_str() {
            // The usual call: a name known to be a token, and nothing else to find out.
            self.block
                .set(CONTENT_TYPE, value)
                .map_err(|e| field_error(name, e))?;
            self.default_content_type = false;
            return Ok(());
        }
        self.block
            .set(name, value)
            .map_err(|e| field_error(name, e))?;
        self.framework_set |= framework_bit(name);
        if is_content_type(name) {
            self.default_content_type = false;
        }
        Ok(())
    }

    /// Appends a header, keeping others of that name (Tornado's `add_header`).
    pub fn add(&mut self, name: &str, value: impl HeaderValue) -> Result<(), HttpError> {
        if self.default_content_type && is_content_type(name) {
            // The default becomes a real entry, ahead of the added one.
            self.materialize_default();
        }
        self.block
            .push(name, value)
            .map_err(|e| field_error(name, e))?;
        self.framework_set |= framework_bit(name);
        Ok(())
    }

    /// Adds a validated `Set-Cookie` line.
    pub(crate) fn add_cookie(
        &mut self,
        cookie: &crate::cookies::Cookie<'_>,
    ) -> Result<(), HttpError> {
        cookie.validate()?;
        self.block
            .push(SET_COOKIE, CookieValue(cookie))
            .map_err(|e| field_error("Set-Cookie", e))
    }

    /// Removes every header `name` (Tornado's `clear_header`).
    pub fn remove(&mut self, name: &str) {
        if is_content_type(name) {
            self.default_content_type = false;
        }
        self.framework_set &= !framework_bit(name);
        self.block.remove(name);
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        if self.default_content_type && is_content_type(name) {
            return Some(DEFAULT_CONTENT_TYPE);
        }
        self.block.get(name)
    }

    /// Whether `name` is set.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Every (name, value), in order (values as set: text, or bytes that may hold obs-text).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> + '_ {
        let default = self
            .default_content_type
            .then_some(("Content-Type", DEFAULT_CONTENT_TYPE.as_bytes()));
        self.block.iter().chain(default)
    }

    /// The number of header lines.
    pub fn len(&self) -> usize {
        self.block.len() + usize::from(self.default_content_type)
    }

    /// Whether there are no headers.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of storage held.
    pub(crate) fn capacity(&self) -> usize {
        self.block.capacity()
    }

    /// Turns the default `Content-Type` flag into a real line, the last so far (where
    /// [`iter`](Self::iter) shows it), before the headers go out (see [`wire`](Self::wire)).
    fn materialize_default(&mut self) {
        if std::mem::take(&mut self.default_content_type) {
            let pushed = self.block.push(CONTENT_TYPE, DEFAULT_CONTENT_TYPE);
            debug_assert!(pushed.is_ok());
        }
    }

    /// The headers for `http1`, in wire form (call
    /// [`materialize_default`](Self::materialize_default) first).
    fn wire(&self) -> &http1::HeaderBlock {
        debug_assert!(!self.default_content_type);
        &self.block
    }
}

/// A validated cookie as a `Set-Cookie` value, written straight into the header block.
struct CookieValue<'a, 'c>(&'a crate::cookies::Cookie<'c>);

impl HeaderValue for CookieValue<'_, '_> {
    fn write_value(&self, out: &mut Vec<u8>) {
        // Validated by `add_cookie`: writing cannot fail.
        let _ = self.0.write_header_value(&mut TextSink(out));
    }
}

/// Text written through `fmt::Write` into a header block's bytes.
struct TextSink<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for TextSink<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

fn is_content_type(name: &str) -> bool {
    name.eq_ignore_ascii_case("Content-Type")
}

/// The names this crate writes itself.
pub(crate) const CONTENT_TYPE: HeaderName<'static> = HeaderName::from_static("Content-Type");
const ETAG_NAME: HeaderName<'static> = HeaderName::from_static("Etag");
const CONTENT_LENGTH_NAME: HeaderName<'static> = HeaderName::from_static("Content-Length");
const SET_COOKIE: HeaderName<'static> = HeaderName::from_static("Set-Cookie");
pub(crate) const VARY: HeaderName<'static> = HeaderName::from_static("Vary");
pub(crate) const CONTENT_ENCODING: HeaderName<'static> =
    HeaderName::from_static("Content-Encoding");

/// The handler's error for a header `http1` refused.
fn field_error(name: &str, e: http1::InvalidField) -> HttpError {
    match e {
        http1::InvalidField::Name => {
            HttpError::with_log(500, format!("invalid header name {name:?}"))
        }
        http1::InvalidField::Value => HttpError::with_log(
            500,
            format!("unsafe value for header {name} (control characters)"),
        ),
    }
}

/// A field value: no control characters except HTAB (so no CR, LF or NUL: no injection).
pub(crate) fn is_valid_value(v: &str) -> bool {
    v.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fields as text.
    fn pairs(h: &HeaderList) -> Vec<(&str, &str)> {
        h.iter()
            .map(|(n, v)| (n, std::str::from_utf8(v).unwrap()))
            .collect()
    }

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
        assert_eq!(pairs(&h), [("X-Num", "42"), ("SET-COOKIE", "c=3")]);
        h.remove("x-num");
        assert!(!h.contains("X-Num"));
    }

    #[test]
    fn default_content_type() {
        let mut h = HeaderList::default();
        h.clear();
        assert_eq!(pairs(&h), [("Content-Type", DEFAULT_CONTENT_TYPE)]);
        h.set("X-A", "1").unwrap();
        h.set("content-type", "text/plain").unwrap();
        assert_eq!(pairs(&h), [("X-A", "1"), ("content-type", "text/plain")]);
        h.clear();
        h.add("Content-Type", "text/x").unwrap();
        assert_eq!(
            pairs(&h),
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
    fn knows_whether_etag_and_content_length_are_set() {
        let mut h = HeaderList::default();
        h.clear();
        assert!(!h.has_etag() && !h.has_content_length());
        h.set("ETAG", "\"x\"").unwrap();
        h.add("content-length", 3).unwrap();
        assert!(h.has_etag() && h.has_content_length());
        assert!(h.set("Etag", "bad\n").is_err());
        h.remove("etag");
        assert!(!h.has_etag() && h.has_content_length());
        h.push_etag(crate::etag::etag_hash(b"y"));
        h.remove("Content-Length");
        assert!(h.has_etag() && !h.has_content_length());
        h.push_content_length(7);
        assert!(h.has_content_length());
        h.clear();
        assert!(!h.has_etag() && !h.has_content_length());
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
        assert_eq!(pairs(&h), [("X-Ok", "fine\tvalue")]);
        assert_eq!(h.block.as_bytes(), b"X-Ok: fine\tvalue\r\n", "rolled back");
    }
}
