//! The request head handed to `HTTPMessageDelegate::headers_received`: Tornado's
//! `RequestStartLine` plus `HTTPHeaders` plus the connection facts that `HTTPServerRequest`
//! carries (remote ip, protocol), all borrowed from the connection's read buffer.

use crate::headers::HTTPHeaders;
use std::fmt;
use std::net::IpAddr;

/// The HTTP version of a request; only 1.0 and 1.1 are served (others get `505`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Version {
    /// `HTTP/1.0`: close after the response unless `Connection: keep-alive`.
    Http10,
    /// `HTTP/1.1`: keep-alive unless `Connection: close`.
    Http11,
}

impl Version {
    /// `"HTTP/1.0"` or `"HTTP/1.1"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the request body is delimited (RFC 9112 §6.3), decided from the head alone.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BodyFraming {
    /// No body (no Content-Length, no Transfer-Encoding, or `Content-Length: 0`).
    None,
    /// Exactly this many bytes follow the head.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// The `Host` of a request (the header's value, or the authority of an absolute-form target),
/// kept as the bytes it arrived as: checked by the parser (a valid host is ASCII), turned into
/// text only when asked, since most requests never look at it.
///
/// ```
/// use http1::request::Host;
/// let h = Host::from("example.com:8080");
/// assert_eq!(h, "example.com:8080");
/// assert_eq!(h.as_str().len(), 16);
/// assert!(Host::default().is_empty());
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Host<'a>(&'a [u8]);

impl<'a> Host<'a> {
    /// Wraps bytes the parser checked with [`crate::parse::valid_host`].
    pub(crate) fn checked(bytes: &'a [u8]) -> Host<'a> {
        Host(bytes)
    }

    /// The host as text (`""` for bytes that are not UTF-8, which a parsed host never is).
    pub fn as_str(&self) -> &'a str {
        std::str::from_utf8(self.0).unwrap_or("")
    }

    /// The host as it arrived.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// True when there is no host (an HTTP/1.0 request without `Host`).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> From<&'a str> for Host<'a> {
    fn from(s: &'a str) -> Host<'a> {
        Host(s.as_bytes())
    }
}

impl PartialEq<&str> for Host<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<str> for Host<'_> {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl fmt::Display for Host<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Host<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// A parsed request head. Everything borrows the read buffer: it lives only as long as the
/// `headers_received` call; keep a copy with [`RequestHead::to_owned`].
#[derive(Clone, Debug)]
pub struct RequestHead<'a> {
    /// The method token, e.g. `"GET"`.
    pub method: &'a str,
    /// The request-target exactly as sent (origin-form `/a?b`, absolute-form, `*`, or authority).
    pub target: &'a str,
    /// The path part of the target (`"/"` for an absolute-form target without a path).
    pub path: &'a str,
    /// The query after `?`, without it (`""` if none).
    pub query: &'a str,
    /// The protocol version.
    pub version: Version,
    /// The header fields, in order.
    pub headers: HTTPHeaders<'a>,
    /// The `Host` value, or the authority of an absolute-form target; empty when absent (1.0).
    pub host: Host<'a>,
    /// The peer's address, or the client's according to `X-Real-IP` / `X-Forwarded-For` when
    /// `xheaders` is on. `None` for a Unix socket peer.
    pub remote_ip: Option<IpAddr>,
    /// `"http"` or `"https"` (from `X-Forwarded-Proto` / `X-Scheme` when `xheaders` is on).
    pub protocol: &'static str,
    /// How the body is framed.
    pub framing: BodyFraming,
    /// Whether the request allows the connection to stay open (version and `Connection`).
    pub keep_alive: bool,
    /// The request carries `Expect: 100-continue`.
    pub expect_continue: bool,
}

impl RequestHead<'_> {
    /// The declared body length, if the body is length-delimited.
    pub fn content_length(&self) -> Option<u64> {
        match self.framing {
            BodyFraming::Length(n) => Some(n),
            BodyFraming::None => Some(0),
            BodyFraming::Chunked => None,
        }
    }

    /// A copy that borrows nothing (allocates), to keep past `headers_received`.
    pub fn to_owned(&self) -> OwnedRequestHead {
        OwnedRequestHead {
            method: self.method.to_owned(),
            target: self.target.to_owned(),
            path: self.path.to_owned(),
            query: self.query.to_owned(),
            version: self.version,
            headers: self.headers.clone().into_owned(),
            host: self.host.as_str().to_owned(),
            remote_ip: self.remote_ip,
            protocol: self.protocol,
            framing: self.framing,
            keep_alive: self.keep_alive,
            expect_continue: self.expect_continue,
        }
    }
}

/// [`RequestHead`] with owned strings; see there for the fields.
#[derive(Clone, Debug)]
pub struct OwnedRequestHead {
    /// The method token.
    pub method: String,
    /// The request-target as sent.
    pub target: String,
    /// The path part of the target.
    pub path: String,
    /// The query, without `?`.
    pub query: String,
    /// The protocol version.
    pub version: Version,
    /// The header fields, in order.
    pub headers: HTTPHeaders<'static>,
    /// The `Host` value or the target's authority.
    pub host: String,
    /// The client's address (see [`RequestHead::remote_ip`]).
    pub remote_ip: Option<IpAddr>,
    /// `"http"` or `"https"`.
    pub protocol: &'static str,
    /// How the body was framed.
    pub framing: BodyFraming,
    /// Whether the request allowed keep-alive.
    pub keep_alive: bool,
    /// The request carried `Expect: 100-continue`.
    pub expect_continue: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_owned_copies_everything() {
        let head = RequestHead {
            method: "GET",
            target: "/a?b",
            path: "/a",
            query: "b",
            version: Version::Http11,
            headers: HTTPHeaders::from_raw(b"Host: h\r\n", 1),
            host: Host::from("h"),
            remote_ip: Some("127.0.0.1".parse().unwrap()),
            protocol: "http",
            framing: BodyFraming::Length(3),
            keep_alive: true,
            expect_continue: false,
        };
        let o = head.to_owned();
        assert_eq!(
            (o.method.as_str(), o.path.as_str(), o.query.as_str()),
            ("GET", "/a", "b")
        );
        assert_eq!(o.headers.get("host"), Some("h"));
        assert_eq!(head.content_length(), Some(3));
        assert_eq!(Version::Http10.to_string(), "HTTP/1.0");
    }
}
