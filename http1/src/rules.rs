//! The HTTP/1 field rules, once for both roles: what the server enforces on requests and the
//! client on responses (RFC 9110, RFC 9112, and what hyper, actix and nginx enforce).
//!
//! A leaf module: it imports nothing else from this crate. [`crate::parse`] (requests) and the
//! client's response reader ([`crate::client`]) feed it the fields of a head; the request
//! writer of the client and [`crate::HeaderBlock`] check names and values with it.
//!
//! | rule | here |
//! |---|---|
//! | `Content-Length`: plain digits; repeated only with the same value | [`parse_content_length`], [`ContentLength`] |
//! | `Transfer-Encoding`: the last coding is `chunked`, nothing after it, only `chunked` decoded | [`TransferCodings`] |
//! | framing: not both CL and TE, no TE on HTTP/1.0, what no length means per role | [`body_framing`], [`response_has_body`] |
//! | `Connection`: `close`, `keep-alive`, `upgrade` tokens and the keep-alive default per version | [`ConnectionTokens`] |
//! | names are tokens, values have no control characters but HTAB | [`is_token`], [`is_field_value`] |
//! | status reason phrases | [`reason_phrase`], [`standard_reason`] |
//!
//! A broken rule is a [`RequestError`]: the status a server answers a request with (a client
//! reports the `detail` as a protocol error of the response).

use std::fmt;

/// A message that breaks a rule: the status to answer with (a request), or why a response is
/// refused (its `detail`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestError {
    /// The status code (400, 413, 414, 431, 501 or 505).
    pub status: u16,
    /// What was wrong, for the response body and logs.
    pub detail: &'static str,
}

impl RequestError {
    /// A `400 Bad Request` with `detail`.
    pub const fn bad_request(detail: &'static str) -> RequestError {
        RequestError {
            status: 400,
            detail,
        }
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status,
            reason_phrase(self.status),
            self.detail
        )
    }
}

impl std::error::Error for RequestError {}

/// Which side of the connection reads the message whose fields are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A server, reading a request.
    Server,
    /// A client, reading a response.
    Client,
}

/// How a message body is delimited (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    None,
    /// Exactly this many bytes.
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
    /// Until the peer closes the connection (responses only).
    UntilClose,
}

/// `Content-Length` must be plain digits (no sign, no list, no spaces inside), fitting u64.
/// (`const`: it also checks the `Content-Length` of header lists built at compile time.)
///
/// ```
/// use http1::rules::parse_content_length;
/// assert_eq!(parse_content_length(b"007"), Some(7));
/// assert_eq!(parse_content_length(b"+7"), None);
/// ```
pub const fn parse_content_length(value: &[u8]) -> Option<u64> {
    // 19 digits always fit: 10^19 - 1 < 2^64.
    if value.is_empty() || value.len() > 19 {
        return None;
    }
    let (mut n, mut i) = (0u64, 0);
    while i < value.len() {
        if !value[i].is_ascii_digit() {
            return None;
        }
        n = n * 10 + (value[i] - b'0') as u64;
        i += 1;
    }
    Some(n)
}

/// The `Content-Length` of a head, over all its `Content-Length` fields: each plain digits,
/// all equal (identical duplicates are one value; RFC 9112 §6.3 rule 5).
///
/// ```
/// use http1::rules::ContentLength;
/// let mut cl = ContentLength::default();
/// cl.add(b"5").unwrap();
/// cl.add(b"5").unwrap();
/// assert_eq!(cl.value(), Some(5));
/// assert_eq!(cl.add(b"6").unwrap_err().status, 400);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ContentLength(Option<u64>);

impl ContentLength {
    /// Adds one field's value.
    pub fn add(&mut self, value: &[u8]) -> Result<(), RequestError> {
        let n = parse_content_length(value)
            .ok_or(RequestError::bad_request("invalid Content-Length"))?;
        if self.0.is_some_and(|m| m != n) {
            return Err(RequestError::bad_request("differing Content-Length values"));
        }
        self.0 = Some(n);
        Ok(())
    }

    /// The declared length, if any field declared one.
    pub fn value(&self) -> Option<u64> {
        self.0
    }
}

/// The elements of a comma-separated list value, trimmed of optional whitespace, empty ones
/// skipped (RFC 9110 §5.6.1).
///
/// ```
/// let v: Vec<_> = http1::rules::list_elements(b" a ,, b,").collect();
/// assert_eq!(v, [&b"a"[..], b"b"]);
/// ```
pub fn list_elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(<[u8]>::trim_ascii)
        .filter(|e| !e.is_empty())
}

/// The transfer codings of all `Transfer-Encoding` fields of a head, in order.
///
/// The last coding must be `chunked`, applied once: anything else leaves the body without a
/// reliable end. A coding listed after `chunked` is refused as soon as it is seen (for a
/// response RFC 9112 §6.3 would read the body to the close; both roles refuse it instead, as
/// a smuggled second message could hide in such a guess). Only `chunked` is decoded: another
/// coding before it is "not implemented" (501).
///
/// ```
/// use http1::rules::TransferCodings;
/// let mut te = TransferCodings::default();
/// te.add(b"chunked").unwrap();
/// assert!(te.is_present() && te.check().is_ok());
/// assert_eq!(te.add(b"gzip").unwrap_err().status, 400);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct TransferCodings {
    present: bool,
    chunked_last: bool,
    unknown: bool,
}

impl TransferCodings {
    /// Adds one `Transfer-Encoding` field's value.
    pub fn add(&mut self, value: &[u8]) -> Result<(), RequestError> {
        self.present = true;
        for coding in list_elements(value) {
            if self.chunked_last {
                return Err(RequestError::bad_request("a transfer coding after chunked"));
            }
            let name = coding
                .split(|&b| b == b';')
                .next()
                .unwrap_or(b"")
                .trim_ascii();
            if name.eq_ignore_ascii_case(b"chunked") {
                self.chunked_last = true;
            } else {
                self.unknown = true;
            }
        }
        Ok(())
    }

    /// Whether any `Transfer-Encoding` field was seen (an empty one included).
    pub fn is_present(&self) -> bool {
        self.present
    }

    /// The codings seen make a chunked body we can decode: `chunked` last, nothing else.
    pub fn check(&self) -> Result<(), RequestError> {
        if !self.chunked_last {
            return Err(RequestError::bad_request(
                "Transfer-Encoding whose last coding is not chunked",
            ));
        }
        if self.unknown {
            return Err(RequestError {
                status: 501,
                detail: "transfer coding not implemented",
            });
        }
        Ok(())
    }
}

/// The framing of a message body from its length fields (RFC 9112 §6.3).
///
/// Both roles: `Content-Length` together with `Transfer-Encoding`, and `Transfer-Encoding` on
/// HTTP/1.0, are errors; `Transfer-Encoding` must pass [`TransferCodings::check`]. The roles
/// differ only where neither field is present: a request has no body, a response runs to the
/// close. A request declaring length 0 has no body; a response keeps `Length(0)`.
/// (Whether a response can have a body at all is [`response_has_body`].)
///
/// ```
/// use http1::rules::{body_framing, ContentLength, Framing, Role, TransferCodings};
/// let (cl, te) = (ContentLength::default(), TransferCodings::default());
/// assert_eq!(body_framing(Role::Server, false, cl, te), Ok(Framing::None));
/// assert_eq!(body_framing(Role::Client, false, cl, te), Ok(Framing::UntilClose));
/// ```
pub fn body_framing(
    role: Role,
    http10: bool,
    content_length: ContentLength,
    te: TransferCodings,
) -> Result<Framing, RequestError> {
    if te.present {
        if content_length.0.is_some() {
            return Err(RequestError::bad_request(
                "both Content-Length and Transfer-Encoding",
            ));
        }
        if http10 {
            return Err(RequestError::bad_request("Transfer-Encoding on HTTP/1.0"));
        }
        te.check()?;
        return Ok(Framing::Chunked);
    }
    Ok(match (content_length.0, role) {
        (Some(0), Role::Server) | (None, Role::Server) => Framing::None,
        (Some(n), _) => Framing::Length(n),
        (None, Role::Client) => Framing::UntilClose,
    })
}

/// Whether a response with status `code` to a request (HEAD or not) carries a body: never
/// for HEAD, 1xx, 204 and 304 (RFC 9110 §6.4.1), whatever its fields say.
///
/// ```
/// assert!(http1::rules::response_has_body(false, 200));
/// assert!(!http1::rules::response_has_body(true, 200));
/// assert!(!http1::rules::response_has_body(false, 304));
/// ```
pub fn response_has_body(head_request: bool, code: u16) -> bool {
    !(head_request || matches!(code, 100..=199 | 204 | 304))
}

/// The tokens of all `Connection` fields of a head that matter to HTTP/1: `close`,
/// `keep-alive` and `upgrade`. A token is a whole list element, never a substring.
///
/// ```
/// use http1::rules::ConnectionTokens;
/// let mut c = ConnectionTokens::default();
/// c.add(b"Keep-Alive, Upgrade");
/// assert!(c.keep_alive && c.upgrade && !c.close);
/// assert!(c.persistent(true));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConnectionTokens {
    /// `close` was listed.
    pub close: bool,
    /// `keep-alive` was listed.
    pub keep_alive: bool,
    /// `upgrade` was listed.
    pub upgrade: bool,
}

impl ConnectionTokens {
    /// Adds one `Connection` field's value.
    pub fn add(&mut self, value: &[u8]) {
        for token in list_elements(value) {
            self.close |= token.eq_ignore_ascii_case(b"close");
            self.keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
            self.upgrade |= token.eq_ignore_ascii_case(b"upgrade");
        }
    }

    /// Whether the connection persists after this message: HTTP/1.1 unless `close`;
    /// HTTP/1.0 only with `keep-alive` and without `close` (RFC 9112 §9.3).
    pub fn persistent(&self, http10: bool) -> bool {
        if http10 {
            self.keep_alive && !self.close
        } else {
            !self.close
        }
    }
}

/// Whether the token `name` equals `lower` (lower-case letters and `-`) ignoring ASCII case.
/// For token bytes `b | 0x20` is the lower-case letter exactly when `b` is that letter in
/// either case (and `-` only for `-`: its other preimage, CR, is no token byte), so the compare
/// runs a word at a time with no per-byte case folding.
///
/// ```
/// assert!(http1::rules::token_eq_lower(b"Content-Length", b"content-length"));
/// ```
pub fn token_eq_lower(name: &[u8], lower: &[u8]) -> bool {
    debug_assert!(lower.iter().all(|&b| b.is_ascii_lowercase() || b == b'-'));
    if name.len() != lower.len() {
        return false;
    }
    let word = |b: &[u8]| {
        let mut w = [0u8; 8];
        w[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(w)
    };
    let fold = u64::from_le_bytes([0x20; 8]);
    name.chunks(8)
        .zip(lower.chunks(8))
        .all(|(n, l)| word(n) | (fold >> (8 * (8 - n.len()))) == word(l))
}

/// A `tchar` of RFC 9110 §5.6.2: the bytes a token (a header name, a method) is made of.
pub const fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// Whether `name` is a token (RFC 9110 §5.6.2): a header name or a method.
///
/// ```
/// assert!(http1::rules::is_token(b"X-Request-Id"));
/// assert!(!http1::rules::is_token(b"X Id") && !http1::rules::is_token(b""));
/// ```
pub fn is_token(name: &[u8]) -> bool {
    let all = |bytes: &[u8]| bytes.iter().fold(true, |ok, &b| ok & TOKEN[usize::from(b)]);
    let mut words = name.chunks_exact(8);
    let words_ok = (&mut words).fold(true, |ok, word| ok & all(word));
    !name.is_empty() && words_ok && all(words.remainder())
}

/// Whether `value` may be a field value: no control character but HTAB (so no CR, LF, NUL or
/// DEL: no header injection). Bytes from 0x80 up (obs-text) are allowed.
///
/// A word at a time with one branch at the end: each word's "might hold a byte below 0x20 or
/// equal to 0x7F" flags are ORed together (the last word overlaps the one before, so there is
/// no tail loop; values of 4 to 7 bytes are two overlapping half-words). Only a value whose
/// words were flagged (HTAB is, as a control character) is checked again byte by byte, as are
/// values under 4 bytes.
///
/// ```
/// assert!(http1::rules::is_field_value(b"text/plain;\tq=1"));
/// assert!(!http1::rules::is_field_value(b"a\r\nSet-Cookie: x"));
/// ```
#[inline(always)]
pub fn is_field_value(value: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let bytes_ok = |bytes: &[u8]| bytes.iter().all(|&b| FIELD_VALUE[usize::from(b)]);
    // The high bit of some byte is set when a byte of `x` is below 0x20 or is 0x7F (the classic
    // "has less than n" test: exact as to whether any byte is, which is all that is used).
    let flags = |x: u64| {
        let del = x ^ (ONES * 0x7f);
        (x.wrapping_sub(ONES * 0x20) & !x | del.wrapping_sub(ONES) & !del) & HIGHS
    };
    // Four bytes repeated to a word: the same flags, twice.
    let half = |bytes: &[u8; 4]| u64::from(u32::from_ne_bytes(*bytes)) * 0x1_0000_0001;
    let seen = if let Some(last) = value.last_chunk::<8>() {
        let mut seen = flags(u64::from_ne_bytes(*last));
        let mut rest = value;
        while rest.len() > 8 {
            let Some((word, tail)) = rest.split_first_chunk::<8>() else {
                break;
            };
            seen |= flags(u64::from_ne_bytes(*word));
            rest = tail;
        }
        seen
    } else if let (Some(first), Some(last)) = (value.first_chunk::<4>(), value.last_chunk::<4>()) {
        flags(half(first)) | flags(half(last))
    } else {
        return bytes_ok(value);
    };
    seen == 0 || bytes_ok(value)
}

/// The bytes of a token (`tchar`), as a table: one load per byte.
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
pub(crate) static FIELD_VALUE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = b == 0x09 || (b >= 0x20 && b != 0x7f);
        b += 1;
    }
    t
};

/// The standard reason phrase of a status code, `Unknown` if it has none.
pub fn reason_phrase(code: u16) -> &'static str {
    standard_reason(code).unwrap_or("Unknown")
}

/// The standard reason phrase of a status code (RFC 9110 and friends, as Tornado's
/// `httputil.responses` has them), `None` if it has none.
///
/// ```
/// assert_eq!(http1::rules::standard_reason(404), Some("Not Found"));
/// assert_eq!(http1::rules::standard_reason(599), None);
/// ```
pub fn standard_reason(status: u16) -> Option<&'static str> {
    Some(match status {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-Status",
        208 => "Already Reported",
        226 => "IM Used",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a Teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        423 => "Locked",
        424 => "Failed Dependency",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cl(values: &[&[u8]]) -> Result<ContentLength, RequestError> {
        let mut cl = ContentLength::default();
        for v in values {
            cl.add(v)?;
        }
        Ok(cl)
    }

    fn te(values: &[&[u8]]) -> Result<TransferCodings, RequestError> {
        let mut te = TransferCodings::default();
        for v in values {
            te.add(v)?;
        }
        Ok(te)
    }

    #[test]
    fn content_length_is_plain_digits() {
        assert_eq!(parse_content_length(b"0"), Some(0));
        assert_eq!(parse_content_length(b"007"), Some(7));
        assert_eq!(
            parse_content_length(b"9999999999999999999"),
            Some(9_999_999_999_999_999_999)
        );
        for bad in [
            &b""[..],
            b"+5",
            b"-1",
            b"5,5",
            b"0x5",
            b"1 2",
            b" 5",
            b"18446744073709551615",
        ] {
            assert_eq!(parse_content_length(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn content_length_list_values_must_agree() {
        assert_eq!(cl(&[]).unwrap().value(), None);
        assert_eq!(cl(&[b"5", b"5", b"05"]).unwrap().value(), Some(5));
        let e = cl(&[b"5", b"6"]).unwrap_err();
        assert_eq!(
            (e.status, e.detail),
            (400, "differing Content-Length values")
        );
        assert_eq!(
            cl(&[b"5", b"x"]).unwrap_err().detail,
            "invalid Content-Length"
        );
    }

    #[test]
    fn transfer_codings_end_with_one_chunked() {
        assert!(te(&[b"chunked"]).unwrap().check().is_ok());
        assert!(te(&[b"CHUNKED ; ext=1"]).unwrap().check().is_ok());
        assert!(te(&[b"", b" , chunked"]).unwrap().check().is_ok());
        // Not last, or not there at all (an empty field is present, but has no coding).
        for bad in [&[&b"gzip"[..]][..], &[b""], &[b"xchunked"]] {
            let t = te(bad).unwrap();
            assert!(t.is_present());
            assert_eq!(t.check().unwrap_err().status, 400, "{bad:?}");
        }
        assert!(!TransferCodings::default().is_present());
    }

    #[test]
    fn a_coding_after_chunked_is_refused_when_seen() {
        for bad in [
            &[&b"chunked, gzip"[..]][..],
            &[b"chunked, chunked"],
            &[b"chunked", b"identity"],
        ] {
            let e = te(bad).unwrap_err();
            assert_eq!(
                (e.status, e.detail),
                (400, "a transfer coding after chunked")
            );
        }
    }

    #[test]
    fn a_coding_before_chunked_is_not_implemented() {
        let e = te(&[b"gzip, chunked"]).unwrap().check().unwrap_err();
        assert_eq!(e.status, 501);
        let e = te(&[b"gzip", b"chunked"]).unwrap().check().unwrap_err();
        assert_eq!(e.status, 501);
    }

    #[test]
    fn framing_by_role() {
        let none = ContentLength::default();
        let no_te = TransferCodings::default();
        let five = cl(&[b"5"]).unwrap();
        let zero = cl(&[b"0"]).unwrap();
        let chunked = te(&[b"chunked"]).unwrap();
        for role in [Role::Server, Role::Client] {
            assert_eq!(
                body_framing(role, false, five, no_te),
                Ok(Framing::Length(5))
            );
            assert_eq!(
                body_framing(role, false, none, chunked),
                Ok(Framing::Chunked)
            );
            let e = body_framing(role, false, five, chunked).unwrap_err();
            assert_eq!(e.detail, "both Content-Length and Transfer-Encoding");
            let e = body_framing(role, true, none, chunked).unwrap_err();
            assert_eq!(e.detail, "Transfer-Encoding on HTTP/1.0");
            let gzip = te(&[b"gzip"]).unwrap();
            assert_eq!(
                body_framing(role, false, none, gzip).unwrap_err().status,
                400
            );
        }
        // Where the roles differ: no length at all, and a declared 0.
        assert_eq!(
            body_framing(Role::Server, false, none, no_te),
            Ok(Framing::None)
        );
        assert_eq!(
            body_framing(Role::Server, true, none, no_te),
            Ok(Framing::None)
        );
        assert_eq!(
            body_framing(Role::Server, false, zero, no_te),
            Ok(Framing::None)
        );
        assert_eq!(
            body_framing(Role::Client, false, none, no_te),
            Ok(Framing::UntilClose)
        );
        assert_eq!(
            body_framing(Role::Client, true, none, no_te),
            Ok(Framing::UntilClose)
        );
        assert_eq!(
            body_framing(Role::Client, false, zero, no_te),
            Ok(Framing::Length(0))
        );
    }

    #[test]
    fn responses_without_a_body() {
        for code in [100, 101, 103, 199, 204, 304] {
            assert!(!response_has_body(false, code), "{code}");
        }
        for code in [200, 201, 205, 301, 400, 404, 500] {
            assert!(response_has_body(false, code), "{code}");
            assert!(!response_has_body(true, code), "HEAD {code}");
        }
    }

    #[test]
    fn connection_tokens_and_persistence() {
        let tokens = |values: &[&[u8]]| {
            let mut c = ConnectionTokens::default();
            values.iter().for_each(|v| c.add(v));
            c
        };
        let c = tokens(&[b"foo, Close"]);
        assert!(c.close && !c.keep_alive && !c.upgrade);
        assert!(!c.persistent(false) && !c.persistent(true));
        let c = tokens(&[b"x,keep-alive ", b"UPGRADE"]);
        assert!(c.keep_alive && c.upgrade && !c.close);
        assert!(c.persistent(true) && c.persistent(false));
        // HTTP/1.1 persists by default, HTTP/1.0 only when asked.
        let c = tokens(&[]);
        assert!(c.persistent(false) && !c.persistent(true));
        assert!(!tokens(&[b"keep-alive", b"close"]).persistent(true));
        // A token is a whole list element, not a substring.
        let c = tokens(&[b"closed, keep-alived, upgrades"]);
        assert_eq!(c, ConnectionTokens::default());
    }

    #[test]
    fn list_elements_are_trimmed_and_skip_empties() {
        let v: Vec<_> = list_elements(b" a ,\t,b\t,, c").collect();
        assert_eq!(v, [&b"a"[..], b"b", b"c"]);
        assert_eq!(list_elements(b" , ").count(), 0);
    }

    #[test]
    fn reason_phrases() {
        assert_eq!(standard_reason(200), Some("OK"));
        assert_eq!(
            standard_reason(431),
            Some("Request Header Fields Too Large")
        );
        assert_eq!(standard_reason(599), None);
        assert_eq!(reason_phrase(404), "Not Found");
        assert_eq!(reason_phrase(599), "Unknown");
        let e = RequestError {
            status: 413,
            detail: "too big",
        };
        assert_eq!(e.to_string(), "413 Content Too Large: too big");
    }

    #[test]
    fn tokens_and_field_values() {
        assert!(is_token(b"!#$%&'*+-.^_`|~09AZaz"));
        assert!(is_token(b"GET") && is_token(b"X-Long-Header-Name-Over-Words"));
        for bad in [&b""[..], b"a b", b"a:b", b"a(b", b"caf\xe9", b"a\r"] {
            assert!(!is_token(bad), "{bad:?}");
        }
        assert!(is_field_value(b"") && is_field_value(b"a\tb \x80\xff"));
        for bad in [&b"a\rb"[..], b"a\nb", b"\0", b"x\x7f", b"\x1f"] {
            assert!(!is_field_value(bad), "{bad:?}");
        }
    }

    #[test]
    fn every_byte_at_every_position_of_every_short_length() {
        // The word, half-word and byte paths against the table, for each byte value; with a
        // HTAB elsewhere too (it sends the value to the byte check) and with obs-text around.
        for len in 1..=20 {
            for at in 0..len {
                for b in 0..=255u8 {
                    let expected = FIELD_VALUE[usize::from(b)];
                    for fill in [b'a', 0xe9] {
                        let mut v = vec![fill; len];
                        v[at] = b;
                        assert_eq!(is_field_value(&v), expected, "{b:#x} at {at} of {len}");
                        v[(at + 1) % len] = if len > 1 { b'\t' } else { b };
                        assert_eq!(is_field_value(&v), expected, "{b:#x} at {at} of {len}, tab");
                    }
                }
            }
        }
        assert!(is_field_value(b""));
    }

    #[test]
    fn field_names_compare_without_case() {
        for known in [
            "host",
            "content-length",
            "transfer-encoding",
            "connection",
            "expect",
        ] {
            let k = known.as_bytes();
            assert!(token_eq_lower(known.to_uppercase().as_bytes(), k));
            assert!(token_eq_lower(known.as_bytes(), k));
            let mut title = known.as_bytes().to_vec();
            title[0].make_ascii_uppercase();
            assert!(token_eq_lower(&title, k));
            for at in 0..k.len() {
                let mut off = k.to_vec();
                off[at] = if off[at] == b'x' { b'y' } else { b'x' };
                assert!(!token_eq_lower(&off, k), "{known} at {at}");
            }
            assert!(!token_eq_lower(&k[1..], k));
        }
    }
}
