//! Request head parsing: `httparse` checks the syntax, this module enforces the meaning
//! (RFC 9112 and what hyper, actix and nginx enforce) and decides the body framing.
//!
//! Rules, each answered with its status (the connection is then closed):
//! - a request line that is not `method SP target SP HTTP/x.y` (HTTP/0.9 `GET /`, extra spaces):
//!   400; a well-formed line with a version other than 1.0/1.1: 505;
//! - obs-fold (a header line starting with whitespace), whitespace before the colon, invalid
//!   bytes: 400 (httparse rejects these for requests);
//! - head larger than `max_header_size`, or more than [`MAX_HEADERS`] fields: 431;
//!   request-target longer than `max_target_size`: 414;
//! - HTTP/1.1 without exactly one `Host`, any request with more than one `Host`, or a `Host`
//!   that is not `host[:port]` (not a path, not a list): 400;
//! - `Content-Length` that is not plain digits, or repeated with differing values: 400;
//! - `Transfer-Encoding` together with `Content-Length`, on HTTP/1.0, or whose last coding is
//!   not `chunked` (or with `chunked` twice): 400; a coding other than `chunked`: 501.

use crate::headers::{HTTPHeaders, NameSet};
use crate::params::HTTP1ConnectionParameters;
use crate::request::{BodyFraming, Host, RequestHead, Version};
use crate::rules::{
    body_framing, token_eq_lower, ConnectionTokens, ContentLength, Framing, Role, TransferCodings,
};
pub use crate::rules::{parse_content_length, RequestError};
use std::mem::MaybeUninit;

/// The most header fields a request may have (the size of the on-stack `httparse` array).
pub const MAX_HEADERS: usize = 100;

/// Parses the request head at the start of `buf`.
///
/// Returns `Ok(None)` when the head is not complete yet (and still within the limits),
/// `Ok(Some((head, len)))` with the head's length in bytes, or the error to answer with.
/// `remote_ip` and `protocol` of the returned head are left for the caller to fill
/// (see [`crate::xheaders`]).
///
/// ```
/// use http1::parse::parse_request_head;
/// use http1::{BodyFraming, HTTP1ConnectionParameters};
/// let params = HTTP1ConnectionParameters::default();
/// let buf = b"POST /up?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
/// let (head, len) = parse_request_head(buf, &params).unwrap().unwrap();
/// assert_eq!(head.headers.get("content-length"), Some("3"));
/// assert_eq!((head.path, head.query, head.framing), ("/up", "x=1", BodyFraming::Length(3)));
/// assert_eq!(&buf[len..], b"abc");
/// ```
pub fn parse_request_head<'b>(
    buf: &'b [u8],
    params: &HTTP1ConnectionParameters,
) -> Result<Option<(RequestHead<'b>, usize)>, RequestError> {
    // On this function's stack only: the head keeps a view of the header lines, not this array.
    let mut headers = [MaybeUninit::<httparse::Header<'b>>::uninit(); MAX_HEADERS];
    let mut req = httparse::Request::new(&mut []);
    let len = match req.parse_with_uninit_headers(buf, &mut headers) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return partial_within_limits(buf, params).map(|()| None),
        Err(e) => return Err(syntax_error(e, buf)),
    };
    if len > params.max_header_size {
        return Err(RequestError {
            status: 431,
            detail: "request head too large",
        });
    }
    let method = req.method.expect("complete");
    let target = req.path.expect("complete");
    let version = match req.version.expect("complete") {
        0 => Version::Http10,
        _ => Version::Http11,
    };
    if target.len() > params.max_target_size {
        return Err(RequestError {
            status: 414,
            detail: "request-target too long",
        });
    }
    let fields: &[httparse::Header<'b>] = req.headers;
    let meaning = HeadMeaning::read(fields, version)?;
    let block = header_block(buf, fields, len);
    let (path, query, authority) = split_target(method, target)?;
    let host = authority.map_or(Host::checked(meaning.host), Host::from);
    Ok(Some((
        RequestHead {
            method,
            target,
            path,
            query,
            version,
            headers: HTTPHeaders::from_parsed(block, fields.len(), meaning.names),
            host,
            remote_ip: None,
            protocol: params.protocol,
            framing: meaning.framing,
            keep_alive: meaning.keep_alive,
            expect_continue: meaning.expect_continue,
        },
        len,
    )))
}

/// The header lines of a complete head of `len` bytes: from the first field to the end of the
/// last one's line (the final empty line excluded).
pub(crate) fn header_block<'b>(
    buf: &'b [u8],
    fields: &[httparse::Header<'b>],
    len: usize,
) -> &'b [u8] {
    let Some(first) = fields.first() else {
        return b"";
    };
    // The name borrows `buf`: its offset is where the header lines start.
    let start = first.name.as_ptr() as usize - buf.as_ptr() as usize;
    let head = &buf[..len];
    let end = head
        .strip_suffix(b"\r\n")
        .or_else(|| head.strip_suffix(b"\n"))
        .map_or(len, <[u8]>::len);
    &buf[start.min(end)..end]
}

/// The head is incomplete: fine unless it already broke a size limit.
fn partial_within_limits(
    buf: &[u8],
    params: &HTTP1ConnectionParameters,
) -> Result<(), RequestError> {
    let line_done = memchr::memchr(b'\n', buf).is_some();
    // Request line = method SP target SP version: allow some room beyond the target limit.
    if !line_done && buf.len() > params.max_target_size + 64 {
        return Err(RequestError {
            status: 414,
            detail: "request-target too long",
        });
    }
    if buf.len() >= params.max_header_size {
        return Err(RequestError {
            status: if line_done { 431 } else { 414 },
            detail: if line_done {
                "request head too large"
            } else {
                "request-target too long"
            },
        });
    }
    Ok(())
}

/// Maps an `httparse` error to the answer; a well-formed request line with another version
/// gets 505.
fn syntax_error(e: httparse::Error, buf: &[u8]) -> RequestError {
    match e {
        httparse::Error::TooManyHeaders => RequestError {
            status: 431,
            detail: "too many header fields",
        },
        httparse::Error::Version if other_http_version(buf) => RequestError {
            status: 505,
            detail: "HTTP version not supported",
        },
        httparse::Error::HeaderName => RequestError::bad_request(
            "invalid header line (obs-fold, whitespace before colon or invalid name)",
        ),
        httparse::Error::HeaderValue => RequestError::bad_request("invalid header value"),
        httparse::Error::NewLine => RequestError::bad_request("invalid line ending"),
        _ => RequestError::bad_request("invalid request line"),
    }
}

/// True if the first line is `token SP target SP HTTP/d.d` (a version we don't speak).
fn other_http_version(buf: &[u8]) -> bool {
    let start = buf
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(0);
    let buf = &buf[start..];
    let line = match memchr::memchr(b'\n', buf) {
        Some(i) => buf[..i].strip_suffix(b"\r").unwrap_or(&buf[..i]),
        None => return false,
    };
    let mut parts = line.split(|&b| b == b' ');
    let (Some(m), Some(t), Some(v), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    !m.is_empty()
        && !t.is_empty()
        && v.len() == 8
        && v.starts_with(b"HTTP/")
        && v[5].is_ascii_digit()
        && v[6] == b'.'
        && v[7].is_ascii_digit()
}

/// What the header fields mean for framing, keep-alive and routing.
struct HeadMeaning<'b> {
    /// Checked by `valid_host`; turned into text only if someone asks (`Host::as_str`).
    host: &'b [u8],
    framing: BodyFraming,
    keep_alive: bool,
    expect_continue: bool,
    /// The names of all fields, for lookups.
    names: NameSet,
}

/// The request fields whose meaning the parser enforces.
#[derive(Clone, Copy)]
enum Field {
    Host,
    ContentLength,
    TransferEncoding,
    Connection,
    Expect,
}

impl<'b> HeadMeaning<'b> {
    fn read(
        fields: &[httparse::Header<'b>],
        version: Version,
    ) -> Result<HeadMeaning<'b>, RequestError> {
        let mut host: Option<&'b [u8]> = None;
        let mut content_length = ContentLength::default();
        let mut te = TransferCodings::default();
        let mut connection = ConnectionTokens::default();
        let mut expect_continue = false;
        let mut names = NameSet::EMPTY;
        for f in fields {
            let name = f.name;
            names.insert(name.as_bytes());
            // Only these five names matter here; their lengths differ, so the length picks the
            // one compare to make (most fields are none of them and cost one `match`).
            let is = |known: &[u8]| token_eq_lower(name.as_bytes(), known);
            let which = match name.len() {
                4 if is(b"host") => Field::Host,
                14 if is(b"content-length") => Field::ContentLength,
                17 if is(b"transfer-encoding") => Field::TransferEncoding,
                10 if is(b"connection") => Field::Connection,
                6 if is(b"expect") => Field::Expect,
                _ => continue,
            };
            match which {
                Field::Host => {
                    if host.is_some() {
                        return Err(RequestError::bad_request("more than one Host"));
                    }
                    if !valid_host(f.value) {
                        return Err(RequestError::bad_request("invalid Host"));
                    }
                    host = Some(f.value);
                }
                Field::ContentLength => content_length.add(f.value)?,
                Field::TransferEncoding => te.add(f.value)?,
                Field::Connection => connection.add(f.value),
                Field::Expect => {
                    expect_continue |= f.value.eq_ignore_ascii_case(b"100-continue");
                }
            }
        }
        if version == Version::Http11 && host.is_none() {
            return Err(RequestError::bad_request("HTTP/1.1 request without Host"));
        }
        let http10 = version == Version::Http10;
        let framing = match body_framing(Role::Server, http10, content_length, te)? {
            Framing::Length(n) => BodyFraming::Length(n),
            Framing::Chunked => BodyFraming::Chunked,
            // A request without a length has no body (`UntilClose` is for responses only).
            Framing::None | Framing::UntilClose => BodyFraming::None,
        };
        let keep_alive = connection.persistent(http10);
        Ok(HeadMeaning {
            host: host.unwrap_or(b""),
            framing,
            keep_alive,
            expect_continue: expect_continue && version == Version::Http11,
            names,
        })
    }
}

/// `Host = uri-host [ ":" port ]`; uri-host is an IP-literal in brackets, or a reg-name made of
/// unreserved, pct-encoded and sub-delims characters except `,` (so not a list), never a path.
/// An empty value is allowed (RFC 9112 §3.2).
pub fn valid_host(value: &[u8]) -> bool {
    if let Some(rest) = value.strip_prefix(b"[") {
        return valid_ip_literal_host(rest);
    }
    // One pass: the reg-name up to the first byte outside it (`:` is not in it), then the port.
    // Hosts are short, so a table loop beats a SIMD search's setup here.
    let mut i = 0;
    while i < value.len() && REG_NAME[value[i] as usize] {
        i += 1;
    }
    match &value[i..] {
        [] => true,
        [b':', port @ ..] => valid_port(port),
        _ => false,
    }
}

/// `[` already stripped: an IP-literal (hex digits, `:` and `.`), `]`, then an optional port.
fn valid_ip_literal_host(rest: &[u8]) -> bool {
    let Some(end) = rest.iter().position(|&b| b == b']') else {
        return false;
    };
    let literal = &rest[..end];
    if literal.is_empty()
        || !literal
            .iter()
            .all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
    {
        return false;
    }
    match &rest[end + 1..] {
        [] => true,
        [b':', port @ ..] => valid_port(port),
        _ => false,
    }
}

/// At most five digits (an empty port is allowed: RFC 3986 `port = *DIGIT`).
fn valid_port(port: &[u8]) -> bool {
    port.len() <= 5 && port.iter().all(u8::is_ascii_digit)
}

/// The bytes allowed in a reg-name: unreserved, `%` (pct-encoded) and the sub-delims but `,`.
static REG_NAME: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'%'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b';'
                    | b'='
            );
        b += 1;
    }
    t
};

/// Splits the request-target into path, query and (absolute-form) authority.
fn split_target<'a>(
    method: &str,
    target: &'a str,
) -> Result<(&'a str, &'a str, Option<&'a str>), RequestError> {
    let (path_and_query, authority) = if target.starts_with('/') {
        (target, None)
    } else if target == "*" && method == "OPTIONS" {
        return Ok((target, "", None));
    } else if method == "CONNECT" {
        if !valid_host(target.as_bytes()) {
            return Err(RequestError::bad_request("invalid CONNECT target"));
        }
        return Ok((target, "", Some(target)));
    } else {
        let rest = strip_prefix_ignore_case(target, "http://")
            .or_else(|| strip_prefix_ignore_case(target, "https://"))
            .ok_or(RequestError::bad_request("invalid request-target"))?;
        let end = rest
            .bytes()
            .position(|b| b == b'/' || b == b'?')
            .unwrap_or(rest.len());
        let authority = &rest[..end];
        if authority.is_empty() || !valid_host(authority.as_bytes()) {
            return Err(RequestError::bad_request(
                "invalid authority in request-target",
            ));
        }
        (&rest[end..], Some(authority))
    };
    // Byte search: `?` is ASCII, so the split is on a char boundary.
    let (path, query) = match path_and_query.bytes().position(|b| b == b'?') {
        Some(i) => (&path_and_query[..i], &path_and_query[i + 1..]),
        None => (path_and_query, ""),
    };
    Ok((if path.is_empty() { "/" } else { path }, query, authority))
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if s.len() >= prefix.len()
        && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    {
        Some(&s[prefix.len()..])
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8]) -> Result<Option<(BodyFraming, bool, usize)>, RequestError> {
        parse_with(raw, &HTTP1ConnectionParameters::default())
    }

    fn parse_with(
        raw: &[u8],
        params: &HTTP1ConnectionParameters,
    ) -> Result<Option<(BodyFraming, bool, usize)>, RequestError> {
        Ok(parse_request_head(raw, params)?.map(|(h, n)| (h.framing, h.keep_alive, n)))
    }

    fn status(raw: &[u8]) -> u16 {
        match parse(raw) {
            Err(e) => e.status,
            Ok(Some(_)) => 200,
            Ok(None) => 0,
        }
    }

    #[test]
    fn simple_get() {
        let raw = b"GET /a/b?c=d&e HTTP/1.1\r\nHost: example.com:8080\r\nX: y\r\n\r\nrest";
        let (h, n) = parse_request_head(raw, &Default::default())
            .unwrap()
            .unwrap();
        assert_eq!(n, raw.len() - 4);
        assert_eq!(h.method, "GET");
        assert_eq!(h.target, "/a/b?c=d&e");
        assert_eq!((h.path, h.query), ("/a/b", "c=d&e"));
        assert_eq!(h.host, "example.com:8080");
        assert_eq!(h.version, Version::Http11);
        assert_eq!(h.framing, BodyFraming::None);
        assert!(h.keep_alive && !h.expect_continue);
        assert_eq!(h.headers.get("x"), Some("y"));
    }

    #[test]
    fn headers_view_the_header_lines() {
        let p = HTTP1ConnectionParameters::default();
        let raw = b"\r\nGET / HTTP/1.1\nHost: a\nX:  b \nY:\n\nbody";
        let (h, n) = parse_request_head(raw, &p).unwrap().unwrap();
        assert_eq!(&raw[n..], b"body");
        assert_eq!(h.headers.len(), 3);
        let all: Vec<_> = h.headers.iter().collect();
        assert_eq!(all, [("Host", &b"a"[..]), ("X", b"b"), ("Y", b"")]);
        let (h, _) = parse_request_head(b"GET / HTTP/1.0\r\n\r\n", &p)
            .unwrap()
            .unwrap();
        assert!(h.headers.is_empty() && h.headers.iter().next().is_none());
        let raw = b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nA: 2\r\n\r\n";
        let (h, _) = parse_request_head(raw, &p).unwrap().unwrap();
        assert_eq!(h.headers.get_all("a").collect::<Vec<_>>(), ["1", "2"]);
        assert_eq!(h.headers.iter().next_back(), Some(("A", &b"2"[..])));
    }

    #[test]
    fn partial_then_complete() {
        assert_eq!(parse(b"GET / HTTP/1.1\r\nHost: a\r\n").unwrap(), None);
        assert_eq!(parse(b"GE").unwrap(), None);
        assert!(parse(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            .unwrap()
            .is_some());
        // Leading empty lines are skipped (RFC 9112 §2.2).
        assert!(parse(b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
            .unwrap()
            .is_some());
    }

    #[test]
    fn keep_alive_by_version_and_connection_tokens() {
        let ka = |raw: &[u8]| parse(raw).unwrap().unwrap().1;
        assert!(ka(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
        assert!(!ka(
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, Close\r\n\r\n"
        ));
        assert!(!ka(b"GET / HTTP/1.0\r\n\r\n"));
        assert!(ka(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
        assert!(ka(b"GET / HTTP/1.0\r\nConnection: x,keep-alive \r\n\r\n"));
        assert!(!ka(
            b"GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n"
        ));
        // A token is a whole list element, not a substring.
        assert!(ka(
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n"
        ));
    }

    #[test]
    fn host_rules() {
        assert_eq!(status(b"GET / HTTP/1.1\r\n\r\n"), 400, "missing on 1.1");
        assert_eq!(
            status(b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"),
            400,
            "duplicate"
        );
        assert_eq!(
            status(b"GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n"),
            400,
            "duplicate on 1.0"
        );
        assert_eq!(status(b"GET / HTTP/1.0\r\n\r\n"), 200, "optional on 1.0");
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), 400, "path");
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: a,b\r\n\r\n"), 400, "list");
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400, "space");
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: a:80:80\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: u@a\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"), 200);
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 200);
        assert_eq!(
            status(b"GET / HTTP/1.1\r\nHost: \r\n\r\n"),
            200,
            "empty is allowed"
        );
        assert!(valid_host(b"xn--bcher-kva.example_1~:65535"));
    }

    #[test]
    fn content_length_rules() {
        let fr = |raw: &[u8]| parse(raw).map(|r| r.unwrap().0);
        assert_eq!(
            fr(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n"),
            Ok(BodyFraming::Length(10))
        );
        assert_eq!(
            fr(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"),
            Ok(BodyFraming::None)
        );
        assert_eq!(
            fr(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"),
            Ok(BodyFraming::Length(5)),
            "identical duplicates are one value"
        );
        for bad in [
            &b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"[..],
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n",
        ] {
            assert_eq!(status(bad), 400, "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(
            parse_content_length(b"18446744073709551615"),
            None,
            "20 digits"
        );
        assert_eq!(
            parse_content_length(b"9999999999999999999"),
            Some(9_999_999_999_999_999_999)
        );
        assert_eq!(parse_content_length(b"007"), Some(7));
    }

    #[test]
    fn transfer_encoding_rules() {
        let fr = |raw: &[u8]| parse(raw).map(|r| r.unwrap().0);
        assert_eq!(
            fr(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Ok(BodyFraming::Chunked)
        );
        assert_eq!(
            fr(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n"),
            Ok(BodyFraming::Chunked)
        );
        let cases: [(&[u8], u16); 8] = [
            (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400),
            (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        ];
        for (raw, want) in cases {
            assert_eq!(status(raw), want, "{}", String::from_utf8_lossy(raw));
        }
        assert_eq!(
            status(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n"),
            400
        );
    }

    #[test]
    fn syntax_rules() {
        assert_eq!(status(b"GET /\r\n\r\n"), 400, "HTTP/0.9 request line");
        assert_eq!(status(b"GET\r\n\r\n"), 400);
        assert_eq!(
            status(b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n"),
            400,
            "double space"
        );
        assert_eq!(
            status(b"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n"),
            400,
            "obs-fold"
        );
        assert_eq!(
            status(b"GET / HTTP/1.1\r\nHost: a\r\nX : a\r\n\r\n"),
            400,
            "space before colon"
        );
        assert_eq!(
            status(b"GET / HTTP/1.1\r\nHost: a\r\nX\t: a\r\n\r\n"),
            400,
            "tab before colon"
        );
        assert_eq!(
            status(b"GET / HTTP/1.1\r\nHost: a\r\nX: a\0\r\n\r\n"),
            400,
            "NUL"
        );
        assert_eq!(status(b"GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
        assert_eq!(status(b"GET / HTTP/3.0\r\nHost: a\r\n\r\n"), 505);
        assert_eq!(status(b"GET / HTTP/1.2\r\nHost: a\r\n\r\n"), 505);
        assert_eq!(status(b"GET / HTTQ/1.1\r\nHost: a\r\n\r\n"), 400);
        assert_eq!(
            status(b"GET foo HTTP/1.1\r\nHost: a\r\n\r\n"),
            400,
            "not origin-form"
        );
    }

    #[test]
    fn target_forms() {
        let raw = b"GET http://Other.example:81?q HTTP/1.1\r\nHost: a\r\n\r\n";
        let (h, _) = parse_request_head(raw, &Default::default())
            .unwrap()
            .unwrap();
        assert_eq!(
            (h.path, h.query, h.host.as_str()),
            ("/", "q", "Other.example:81")
        );
        let raw = b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n";
        let (h, _) = parse_request_head(raw, &Default::default())
            .unwrap()
            .unwrap();
        assert_eq!(h.path, "*");
        assert_eq!(status(b"GET * HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
        assert_eq!(status(b"GET http://u@h/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
        assert_eq!(
            status(b"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n"),
            200
        );
    }

    #[test]
    fn limits() {
        let p = HTTP1ConnectionParameters {
            max_header_size: 200,
            max_target_size: 50,
            ..Default::default()
        };
        let long_target = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(60));
        assert_eq!(
            parse_with(long_target.as_bytes(), &p).unwrap_err().status,
            414
        );
        let unfinished_line = format!("GET /{}", "a".repeat(150));
        assert_eq!(
            parse_with(unfinished_line.as_bytes(), &p)
                .unwrap_err()
                .status,
            414
        );
        let big_head = format!(
            "GET / HTTP/1.1\r\nHost: a\r\nX: {}\r\n\r\n",
            "b".repeat(200)
        );
        assert_eq!(parse_with(big_head.as_bytes(), &p).unwrap_err().status, 431);
        let partial_big = format!("GET / HTTP/1.1\r\nHost: a\r\nX: {}", "b".repeat(200));
        assert_eq!(
            parse_with(partial_big.as_bytes(), &p).unwrap_err().status,
            431
        );
        let mut many = String::from("GET / HTTP/1.1\r\nHost: a\r\n");
        for i in 0..MAX_HEADERS {
            many.push_str(&format!("X{i}: v\r\n"));
        }
        many.push_str("\r\n");
        assert_eq!(status(many.as_bytes()), 431);
        assert_eq!(parse_with(b"GET / HTTP/1.1\r\nHost: a\r\n", &p), Ok(None));
    }

    #[test]
    fn expect_continue_only_on_1_1() {
        let raw =
            b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n";
        let (h, _) = parse_request_head(raw, &Default::default())
            .unwrap()
            .unwrap();
        assert!(h.expect_continue);
        let raw = b"POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n";
        let (h, _) = parse_request_head(raw, &Default::default())
            .unwrap()
            .unwrap();
        assert!(!h.expect_continue);
    }
}
