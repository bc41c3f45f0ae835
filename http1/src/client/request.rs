//! [`HTTPRequest`]: what to fetch and how (Tornado's `httpclient.HTTPRequest`), built with
//! chained setters; and [`Url`], the small `http://` URL parser the client needs.

use super::error::ClientError;
use super::response::ResponseHead;
use crate::headers::HTTPHeaders;
use iostream::IOStream;
use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

/// Default `connect_timeout` (Tornado's): 20 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// Default `request_timeout` (Tornado's): 20 s.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// Default `max_redirects`: 5.
pub const DEFAULT_MAX_REDIRECTS: u32 = 5;
/// Default `max_body_size`: 100 MiB.
pub const DEFAULT_MAX_BODY_SIZE: u64 = 100 * 1024 * 1024;
/// Default `max_header_size`: 64 KiB.
pub const DEFAULT_MAX_HEADER_SIZE: usize = 64 * 1024;

/// A future returned by a body producer.
pub type ProducerFuture = Pin<Box<dyn Future<Output = Result<(), ClientError>>>>;

/// A streaming request body: called with a [`BodyWriter`] each time the request is sent
/// (again after a 307/308 redirect or a retry on a stale pooled connection), it writes the
/// body piece by piece.
pub type BodyProducer = Rc<dyn Fn(BodyWriter) -> ProducerFuture>;

/// The request body.
#[derive(Clone, Default)]
pub enum Body {
    /// No body (no Content-Length is sent, except `Content-Length: 0` for POST, PUT, PATCH).
    #[default]
    Empty,
    /// These bytes, with a Content-Length.
    Bytes(Rc<[u8]>),
    /// Streamed by a producer: chunked, unless the request sets a Content-Length (then
    /// exactly that many bytes must be written).
    Producer(BodyProducer),
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body::Empty => f.write_str("Empty"),
            Body::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Body::Producer(_) => f.write_str("Producer"),
        }
    }
}

/// What a body producer writes to: each [`write`](Self::write) sends one piece (one chunk
/// when the body is chunked) and waits until the socket took it (flow control).
pub struct BodyWriter {
    pub(crate) stream: IOStream,
    pub(crate) chunked: bool,
    pub(crate) declared: Option<u64>,
    pub(crate) written: Rc<Cell<u64>>,
}

impl BodyWriter {
    /// Sends `chunk`. Writing more than a declared Content-Length is an
    /// [`ClientError::InvalidRequest`].
    pub async fn write(&self, chunk: &[u8]) -> Result<(), ClientError> {
        if chunk.is_empty() {
            return Ok(());
        }
        let total = self.written.get() + chunk.len() as u64;
        if let Some(declared) = self.declared {
            if total > declared {
                return Err(ClientError::InvalidRequest(format!(
                    "body producer wrote more than the declared Content-Length ({declared})"
                )));
            }
        }
        if self.chunked {
            let mut buf = Vec::with_capacity(chunk.len() + 20);
            buf.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            buf.extend_from_slice(chunk);
            buf.extend_from_slice(b"\r\n");
            self.stream.write(&buf).await
        } else {
            self.stream.write(chunk).await
        }
        .map_err(|e| ClientError::from_stream(e, super::Phase::Sending))?;
        self.written.set(total);
        Ok(())
    }

    /// Body bytes written so far.
    pub fn written(&self) -> u64 {
        self.written.get()
    }
}

/// Called with each response body piece instead of collecting the body.
pub type StreamingCallback = Box<dyn FnMut(&[u8])>;
/// Called with the final response head (after redirects), before the body.
pub type HeaderCallback = Box<dyn FnMut(&ResponseHead)>;

/// One request: method, URL, headers, body and the options of this fetch.
///
/// ```
/// use http1::client::HTTPRequest;
/// use std::time::Duration;
/// let req = HTTPRequest::new("http://example.com/upload")
///     .method("POST")
///     .header("Content-Type", "text/plain")
///     .body("hello")
///     .request_timeout(Some(Duration::from_secs(5)))
///     .follow_redirects(false);
/// assert_eq!(req.get_method(), "POST");
/// assert_eq!(req.url(), "http://example.com/upload");
/// ```
pub struct HTTPRequest {
    pub(crate) url: String,
    pub(crate) method: Cow<'static, str>,
    pub(crate) headers: HTTPHeaders<'static>,
    pub(crate) body: Body,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) follow_redirects: bool,
    pub(crate) max_redirects: u32,
    pub(crate) decompress_response: bool,
    pub(crate) max_body_size: u64,
    pub(crate) max_header_size: usize,
    pub(crate) streaming_callback: Option<StreamingCallback>,
    pub(crate) header_callback: Option<HeaderCallback>,
    pub(crate) expect_100_continue: bool,
    pub(crate) raise_error: bool,
}

impl fmt::Debug for HTTPRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HTTPRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &self.headers)
            .field("body", &self.body)
            .finish_non_exhaustive()
    }
}

impl From<&str> for HTTPRequest {
    fn from(url: &str) -> Self {
        HTTPRequest::new(url)
    }
}

impl From<String> for HTTPRequest {
    fn from(url: String) -> Self {
        HTTPRequest::new(url)
    }
}

impl HTTPRequest {
    /// A `GET` of `url` with Tornado's defaults: 20 s connect and request timeouts, redirects
    /// followed (at most 5), gzip responses decompressed, 100 MiB body and 64 KiB head
    /// limits, `raise_error` on. The URL is checked when the request is fetched.
    pub fn new(url: impl Into<String>) -> HTTPRequest {
        HTTPRequest {
            url: url.into(),
            method: Cow::Borrowed("GET"),
            headers: HTTPHeaders::new(),
            body: Body::Empty,
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            request_timeout: Some(DEFAULT_REQUEST_TIMEOUT),
            follow_redirects: true,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            decompress_response: true,
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            max_header_size: DEFAULT_MAX_HEADER_SIZE,
            streaming_callback: None,
            header_callback: None,
            expect_100_continue: false,
            raise_error: true,
        }
    }

    /// The method (`GET`, `POST`, ...; any token).
    pub fn method(mut self, method: impl Into<Cow<'static, str>>) -> Self {
        self.method = method.into();
        self
    }

    /// Adds a header field (the client adds `Host`, framing and `Accept-Encoding` itself
    /// unless set here; `Transfer-Encoding` may not be set).
    pub fn header(
        mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<Cow<'static, str>>,
    ) -> Self {
        self.headers.add(name, value);
        self
    }

    /// Replaces all header fields.
    pub fn headers(mut self, headers: HTTPHeaders<'static>) -> Self {
        self.headers = headers;
        self
    }

    /// The body, as bytes.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Body::Bytes(Rc::from(body.into()));
        self
    }

    /// A streamed body: `producer` is called with a [`BodyWriter`] each time the request is
    /// sent, and writes the body through it.
    ///
    /// ```
    /// use http1::client::{BodyWriter, HTTPRequest};
    /// let req = HTTPRequest::new("http://localhost/up").method("PUT").body_producer(
    ///     |w: BodyWriter| async move {
    ///         for piece in [&b"hello "[..], b"world"] {
    ///             w.write(piece).await?;
    ///         }
    ///         Ok(())
    ///     },
    /// );
    /// # let _ = req;
    /// ```
    pub fn body_producer<F, Fut>(mut self, producer: F) -> Self
    where
        F: Fn(BodyWriter) -> Fut + 'static,
        Fut: Future<Output = Result<(), ClientError>> + 'static,
    {
        self.body = Body::Producer(Rc::new(move |w| Box::pin(producer(w)) as ProducerFuture));
        self
    }

    /// Time allowed for resolving and connecting (`None`: no limit). Default 20 s.
    pub fn connect_timeout(mut self, t: Option<Duration>) -> Self {
        self.connect_timeout = t;
        self
    }

    /// Time allowed for the whole fetch, redirects included (`None`: no limit). Default 20 s.
    pub fn request_timeout(mut self, t: Option<Duration>) -> Self {
        self.request_timeout = t;
        self
    }

    /// Whether to follow 301, 302, 303, 307 and 308 redirects (default true). On a change of
    /// origin (scheme, host or port) `Authorization`, `Proxy-Authorization` and `Cookie` are
    /// dropped; 303 (and 301/302 after a POST) turn into a GET without body.
    pub fn follow_redirects(mut self, on: bool) -> Self {
        self.follow_redirects = on;
        self
    }

    /// The most redirects followed (default 5).
    pub fn max_redirects(mut self, n: u32) -> Self {
        self.max_redirects = n;
        self
    }

    /// Ask for gzip (`Accept-Encoding: gzip`) and decompress `Content-Encoding: gzip`
    /// responses (default true). The header is then renamed `X-Consumed-Content-Encoding`.
    pub fn decompress_response(mut self, on: bool) -> Self {
        self.decompress_response = on;
        self
    }

    /// The largest response body accepted, on the wire and decompressed (default 100 MiB).
    pub fn max_body_size(mut self, n: u64) -> Self {
        self.max_body_size = n;
        self
    }

    /// The largest response head accepted (default 64 KiB); also bounds chunked trailers.
    pub fn max_header_size(mut self, n: usize) -> Self {
        self.max_header_size = n;
        self
    }

    /// Hands the body to `f` piece by piece instead of collecting it into
    /// [`HTTPResponse::body`](super::HTTPResponse::body) (which then stays empty).
    pub fn streaming_callback(mut self, f: impl FnMut(&[u8]) + 'static) -> Self {
        self.streaming_callback = Some(Box::new(f));
        self
    }

    /// Calls `f` with the final response head (redirects that are followed are not reported).
    pub fn header_callback(mut self, f: impl FnMut(&ResponseHead) + 'static) -> Self {
        self.header_callback = Some(Box::new(f));
        self
    }

    /// Sends `Expect: 100-continue` and the body only after the server's `100 Continue`; a
    /// final response instead means the body is not sent (and the connection not reused).
    pub fn expect_100_continue(mut self, on: bool) -> Self {
        self.expect_100_continue = on;
        self
    }

    /// Whether a non-2xx final response is an `Err(`[`ClientError::Http`]`)` (default true,
    /// like Tornado's `raise_error`); when false it is an `Ok` response like any other.
    pub fn raise_error(mut self, on: bool) -> Self {
        self.raise_error = on;
        self
    }

    /// The URL as given.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The method.
    pub fn get_method(&self) -> &str {
        &self.method
    }

    /// The header fields set on the request.
    pub fn get_headers(&self) -> &HTTPHeaders<'static> {
        &self.headers
    }
}

/// A parsed `http://` or `https://` URL.
///
/// ```
/// use http1::client::Url;
/// let u = Url::parse("http://Example.COM:8080/a/b?x=1#frag").unwrap();
/// assert_eq!((u.host(), u.port(), u.target()), ("example.com", 8080, "/a/b?x=1"));
/// assert_eq!(u.join("../c").unwrap().to_string(), "http://example.com:8080/c");
/// let s = Url::parse("https://example.com/").unwrap();
/// assert_eq!((s.scheme(), s.port(), s.host_header()), ("https", 443, "example.com".to_owned()));
/// assert!(Url::parse("ftp://example.com/").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
    scheme: String,
    host: String,
    port: u16,
    target: String,
}

impl Url {
    /// Parses `http[s]://host[:port][/path][?query][#fragment]` (the fragment is dropped; an
    /// IPv6 host is written `[::1]`; the default port is 80, or 443 for `https`). Other
    /// schemes are refused with [`ClientError::UnsupportedScheme`].
    pub fn parse(url: &str) -> Result<Url, ClientError> {
        let bad = |reason| ClientError::InvalidUrl {
            url: url.to_owned(),
            reason,
        };
        let Some(colon) = url.find("://") else {
            return Err(bad("no scheme (expected http://...)"));
        };
        let scheme = url[..colon].to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => {
                return Err(ClientError::UnsupportedScheme {
                    url: url.to_owned(),
                    scheme,
                })
            }
        };
        let rest = &url[colon + 3..];
        let rest = rest.split('#').next().unwrap_or("");
        let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, target) = rest.split_at(auth_end);
        if authority.contains('@') {
            return Err(bad(
                "credentials in the URL are not supported (set Authorization)",
            ));
        }
        let (host, port) = split_authority(authority).ok_or_else(|| bad("invalid host or port"))?;
        if host.is_empty() {
            return Err(bad("empty host"));
        }
        let port = match port {
            None => default_port,
            Some(p) => p.parse::<u16>().map_err(|_| bad("invalid port"))?,
        };
        let target = match target {
            "" => "/".to_owned(),
            t if t.starts_with('?') => format!("/{t}"),
            t => t.to_owned(),
        };
        if !target.bytes().all(|b| b > 0x20 && b != 0x7f) {
            return Err(bad(
                "spaces or control characters in the path (percent-encode them)",
            ));
        }
        Ok(Url {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
            target,
        })
    }

    /// `"http"`.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The host, lower-case; an IPv6 literal keeps its brackets (`[::1]`).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port (80 by default).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The request-target: path and query (`/a?b`).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The value of the `Host` header: the host, with the port unless it is the default.
    pub fn host_header(&self) -> String {
        if self.port == self.default_port() {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Whether `other` has the same origin (scheme, host, port).
    pub fn same_origin(&self, other: &Url) -> bool {
        self.scheme == other.scheme && self.host == other.host && self.port == other.port
    }

    /// Resolves `reference` (a `Location` value: absolute, `//host/..`, `/path`, `path`,
    /// `?query`) against this URL (RFC 3986 §5.2, with dot segments removed).
    pub fn join(&self, reference: &str) -> Result<Url, ClientError> {
        let reference = reference.trim();
        if reference.contains("://") && reference.find("://") < reference.find(['/', '?']) {
            return Url::parse(reference);
        }
        if let Some(rest) = reference.strip_prefix("//") {
            return Url::parse(&format!("{}://{rest}", self.scheme));
        }
        let reference = reference.split('#').next().unwrap_or("");
        let (base_path, _) = self.target.split_once('?').unwrap_or((&self.target, ""));
        let target = if reference.is_empty() {
            self.target.clone()
        } else if reference.starts_with('?') {
            format!("{base_path}{reference}")
        } else {
            let (ref_path, query) = match reference.split_once('?') {
                Some((p, q)) => (p, Some(q)),
                None => (reference, None),
            };
            let merged = if ref_path.starts_with('/') {
                ref_path.to_owned()
            } else {
                let dir = &base_path[..base_path.rfind('/').map_or(0, |i| i + 1)];
                format!("{dir}{ref_path}")
            };
            let mut t = remove_dot_segments(&merged);
            if let Some(q) = query {
                t.push('?');
                t.push_str(q);
            }
            t
        };
        Url::parse(&format!(
            "{}://{}{}",
            self.scheme,
            self.host_header_with_port(),
            target
        ))
    }

    /// Whether the scheme is `https` (the connection is TLS).
    pub fn is_tls(&self) -> bool {
        self.scheme == "https"
    }

    /// The scheme's port: 443 for `https`, 80 for `http`.
    fn default_port(&self) -> u16 {
        if self.is_tls() {
            443
        } else {
            80
        }
    }

    /// The host as a TLS server name: an IPv6 literal without its brackets.
    pub(crate) fn server_name(&self) -> &str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }

    fn host_header_with_port(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}{}", self.scheme, self.host_header(), self.target)
    }
}

/// `host[:port]` or `[v6][:port]`.
fn split_authority(a: &str) -> Option<(&str, Option<&str>)> {
    if a.starts_with('[') {
        let end = a.find(']')?;
        let host = &a[..=end];
        match &a[end + 1..] {
            "" => Some((host, None)),
            p => Some((host, Some(p.strip_prefix(':')?))),
        }
    } else {
        let (host, port) = match a.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (a, None),
        };
        if !crate::parse::valid_host(host.as_bytes()) {
            return None;
        }
        Some((host, port))
    }
}

/// RFC 3986 §5.2.4, on an absolute path.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').collect();
    let last = segments.len() - 1;
    for (i, seg) in segments.iter().enumerate().skip(1) {
        match *seg {
            "." => {
                if i == last {
                    out.push("");
                }
            }
            ".." => {
                out.pop();
                if i == last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        let u = Url::parse("http://[::1]:9000").unwrap();
        assert_eq!((u.host(), u.port(), u.target()), ("[::1]", 9000, "/"));
        assert_eq!(Url::parse("http://a?x").unwrap().target(), "/?x");
        assert_eq!(Url::parse("HTTP://a/").unwrap().to_string(), "http://a/");
        for bad in [
            "example.com",
            "http://",
            "http://a:99999/",
            "http://a b/",
            "http://u:p@a/",
            "http://a/b c",
            "http://a,b/",
        ] {
            assert!(
                matches!(Url::parse(bad), Err(ClientError::InvalidUrl { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            Url::parse("ftp://a/"),
            Err(ClientError::UnsupportedScheme { .. })
        ));
    }

    #[test]
    fn https_urls() {
        let u = Url::parse("HTTPS://Example.com/x").unwrap();
        assert_eq!((u.scheme(), u.port(), u.is_tls()), ("https", 443, true));
        assert_eq!(u.host_header(), "example.com");
        assert_eq!(u.to_string(), "https://example.com/x");
        let u = Url::parse("https://a:8443/").unwrap();
        assert_eq!(u.host_header(), "a:8443");
        let u = Url::parse("https://a:80/").unwrap();
        assert_eq!(u.host_header(), "a:80");
        assert_eq!(Url::parse("https://[::1]/").unwrap().server_name(), "::1");
        assert_eq!(u.join("/b").unwrap().to_string(), "https://a:80/b");
        assert!(!Url::parse("https://a/")
            .unwrap()
            .same_origin(&Url::parse("http://a:443/").unwrap()));
    }

    #[test]
    fn joins_references() {
        let base = Url::parse("http://h:81/a/b/c?q=1").unwrap();
        let j = |r: &str| base.join(r).unwrap().to_string();
        assert_eq!(j("/x"), "http://h:81/x");
        assert_eq!(j("d"), "http://h:81/a/b/d");
        assert_eq!(j("../d?z"), "http://h:81/a/d?z");
        assert_eq!(j("./"), "http://h:81/a/b/");
        assert_eq!(j("?y=2"), "http://h:81/a/b/c?y=2");
        assert_eq!(j("//other/p"), "http://other/p");
        assert_eq!(j("http://o:8/p"), "http://o:8/p");
        assert_eq!(j("../../../../x"), "http://h:81/x");
    }
}
