//! Escaping and unescaping (Tornado's `tornado.escape`): percent-decoding for URLs and form
//! bodies, and HTML escaping for error pages.
//!
//! Percent-decoding follows Python's `unquote_to_bytes`, which Tornado uses: a `%` not followed
//! by two hex digits is kept as it is. Whether `+` means a space is the caller's choice: it does
//! in query strings and form bodies, it does not in URL paths.

use std::borrow::Cow;

use crate::error::HttpError;

/// Percent-decodes `input`; with `plus_as_space`, `+` becomes a space first.
/// Borrows when there is nothing to decode.
///
/// ```
/// use web::escape::url_unescape;
/// assert_eq!(&*url_unescape(b"a%20b+c", true), b"a b c");
/// assert_eq!(&*url_unescape(b"a%20b+c", false), b"a b+c");
/// assert_eq!(&*url_unescape(b"100%", false), b"100%");
/// ```
pub fn url_unescape(input: &[u8], plus_as_space: bool) -> Cow<'_, [u8]> {
    let needs_work = input
        .iter()
        .any(|&b| b == b'%' || (plus_as_space && b == b'+'));
    if !needs_work {
        return Cow::Borrowed(input);
    }
    let mut out = Vec::with_capacity(input.len());
    url_unescape_into(&mut out, input, plus_as_space);
    Cow::Owned(out)
}

/// [`url_unescape`] appending to `out` (no allocation once `out` has room).
pub fn url_unescape_into(out: &mut Vec<u8>, input: &[u8], plus_as_space: bool) {
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b == b'%' && i + 2 < input.len() {
            if let (Some(h), Some(l)) = (hex_value(input[i + 1]), hex_value(input[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(if plus_as_space && b == b'+' { b' ' } else { b });
        i += 1;
    }
}

/// Percent-decodes and then checks UTF-8: invalid UTF-8 is a 400 (Tornado's
/// `url_unescape(..., encoding="utf-8")` raising inside a request).
///
/// ```
/// use web::escape::url_unescape_str;
/// assert_eq!(url_unescape_str(b"caf%C3%A9", false).unwrap(), "café");
/// assert_eq!(url_unescape_str(b"%FF", false).unwrap_err().status, 400);
/// ```
pub fn url_unescape_str(input: &[u8], plus_as_space: bool) -> Result<Cow<'_, str>, HttpError> {
    match url_unescape(input, plus_as_space) {
        Cow::Borrowed(b) => std::str::from_utf8(b)
            .map(Cow::Borrowed)
            .map_err(|_| invalid_utf8()),
        Cow::Owned(v) => String::from_utf8(v)
            .map(Cow::Owned)
            .map_err(|_| invalid_utf8()),
    }
}

fn invalid_utf8() -> HttpError {
    HttpError::bad_request("invalid UTF-8 after percent-decoding")
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986 §2.3), as Tornado's
/// `url_escape`: with `plus` (query style, Python's `quote_plus`) a space becomes `+` and `/` is
/// escaped; without it (path style, Python's `quote`) `/` is kept. `reverse_url` uses the latter.
///
/// ```
/// assert_eq!(web::escape::url_escape("a b/é", false), "a%20b/%C3%A9");
/// assert_eq!(web::escape::url_escape("a b/c", true), "a+b%2Fc");
/// ```
pub fn url_escape(input: &str, plus: bool) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(input.len());
    for &b in input.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            b' ' if plus => out.push('+'),
            b'/' if !plus => out.push('/'),
            _ => {
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
    }
    out
}

/// Appends `text` to `out` with `&`, `<`, `>`, `"` and `'` escaped (Tornado's `xhtml_escape`).
///
/// ```
/// let mut out = Vec::new();
/// web::escape::xhtml_escape_into(&mut out, "<a href='x'>&</a>");
/// assert_eq!(out, b"&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;");
/// ```
pub fn xhtml_escape_into(out: &mut Vec<u8>, text: &str) {
    for &b in text.as_bytes() {
        match b {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'"' => out.extend_from_slice(b"&quot;"),
            b'\'' => out.extend_from_slice(b"&#39;"),
            _ => out.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_edge_cases() {
        assert!(matches!(url_unescape(b"plain", true), Cow::Borrowed(_)));
        assert!(matches!(url_unescape(b"a+b", false), Cow::Borrowed(_)));
        assert_eq!(&*url_unescape(b"%41%4a%4A", false), b"AJJ");
        assert_eq!(&*url_unescape(b"%", false), b"%");
        assert_eq!(&*url_unescape(b"%4", false), b"%4");
        assert_eq!(&*url_unescape(b"%4g", false), b"%4g");
        assert_eq!(&*url_unescape(b"%%41", false), b"%A");
        assert_eq!(&*url_unescape(b"a%2", false), b"a%2");
        assert_eq!(&*url_unescape(b"%2B+", true), b"+ ");
        assert_eq!(&*url_unescape(b"%00", false), b"\0");
    }

    #[test]
    fn unescape_utf8() {
        assert_eq!(url_unescape_str(b"%E2%9C%93", false).unwrap(), "\u{2713}");
        // A truncated multibyte sequence is invalid UTF-8.
        assert!(url_unescape_str(b"%E2%9C", false).is_err());
        // Raw (non-escaped) invalid bytes too.
        assert!(url_unescape_str(b"\xff", false).is_err());
    }

    #[test]
    fn escape_round_trip() {
        let s = "a b+c/d?e=f&g#h é";
        let e = url_escape(s, false);
        assert_eq!(url_unescape_str(e.as_bytes(), false).unwrap(), s);
        let e = url_escape(s, true);
        assert_eq!(url_unescape_str(e.as_bytes(), true).unwrap(), s);
    }
}
