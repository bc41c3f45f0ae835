//! `Request`: what a handler reads (Tornado's `HTTPServerRequest`): method, URI, path, query,
//! version, headers, body, remote IP, host, cookies, and the parsed arguments and files.
//!
//! `http1` lends the request head only for the duration of `headers_received` (it borrows the
//! connection's read buffer), while the handler runs after the body has arrived. So the head
//! is copied once into this struct's own arenas, which are pooled and reused: on a keep-alive
//! connection a request costs no allocation here once the buffers have grown.

use std::cell::Cell;
use std::net::IpAddr;
use std::ops::Range;
use std::time::{Duration, Instant};

use http1::{HTTPHeaders, RequestHead, Version};

use crate::arguments::Arguments;
use crate::error::HttpError;
use crate::multipart::{self, HttpFile};

/// A request as the handler sees it. Read-only for handlers; built by the application.
#[derive(Debug)]
pub struct Request {
    /// The target (path and query within it), and whatever of method, path and query is not
    /// a standard method or a part of the target.
    text: String,
    /// A supported method (no copy); else `method` is its range in `text`.
    known_method: Option<Method>,
    /// The header lines, copied from the read buffer in one piece.
    header_lines: HTTPHeaders<'static>,
    method: Range<usize>,
    uri: Range<usize>,
    path: Range<usize>,
    query: Range<usize>,
    /// The host as it arrived (checked ASCII); text only when asked ([`Request::host`]).
    host: Vec<u8>,
    version: Version,
    remote_ip: Option<IpAddr>,
    protocol: &'static str,
    /// The connection's number (`ConnectionContext::id`).
    pub(crate) connection_id: u64,
    body: Vec<u8>,
    query_arguments: Arguments,
    body_arguments: Arguments,
    files: Vec<HttpFile>,
    /// When the head arrived; `None` when nothing would log the request time (reading the
    /// clock is skipped then).
    start: Option<Instant>,
}

impl Default for Request {
    fn default() -> Self {
        Request {
            text: String::new(),
            known_method: None,
            header_lines: HTTPHeaders::new(),
            method: 0..0,
            uri: 0..0,
            path: 0..0,
            query: 0..0,
            host: Vec::new(),
            version: Version::Http11,
            remote_ip: None,
            protocol: "http",
            connection_id: 0,
            body: Vec::new(),
            query_arguments: Arguments::new(),
            body_arguments: Arguments::new(),
            files: Vec::new(),
            start: None,
        }
    }
}

impl Request {
    /// Copies `head` in, replacing the previous request (storage kept). The query string is
    /// parsed here (Tornado parses it in `HTTPServerRequest.__init__`); more than 1,000
    /// arguments is the 400 returned.
    pub(crate) fn load_head(&mut self, head: &RequestHead<'_>) -> Result<(), HttpError> {
        self.start = access_log_enabled().then(Instant::now);
        self.text.clear();
        self.body.clear();
        self.query_arguments.clear();
        self.body_arguments.clear();
        self.files.clear();
        self.uri = push(&mut self.text, head.target);
        self.known_method = known_method(head.method);
        if self.known_method.is_none() {
            self.method = push(&mut self.text, head.method);
        }
        // The path and query are parts of the target: ranges, not copies (unless the parser
        // supplied a path the target does not hold, `/` for `http://host`).
        self.path = part_of(head.target, head.path, self.uri.start)
            .unwrap_or_else(|| push(&mut self.text, head.path));
        self.query = part_of(head.target, head.query, self.uri.start)
            .unwrap_or_else(|| push(&mut self.text, head.query));
        self.host.clear();
        self.host.extend_from_slice(head.host.as_bytes());
        self.header_lines.copy_from(&head.headers);
        self.version = head.version;
        self.remote_ip = head.remote_ip;
        self.protocol = head.protocol;
        if head.query.is_empty() {
            return Ok(()); // most requests: nothing to parse
        }
        self.query_arguments.parse_urlencoded(head.query.as_bytes())
    }

    /// Appends a piece of the body.
    pub(crate) fn push_body(&mut self, chunk: &[u8]) {
        self.body.extend_from_slice(chunk);
    }

    /// Parses a form or multipart body into body arguments and files (Tornado's
    /// `parse_body_arguments`); other content types are left alone.
    pub(crate) fn parse_body(&mut self) -> Result<(), HttpError> {
        if self.body.is_empty() {
            return Ok(());
        }
        let Some(ctype) = self.headers().get("Content-Type") else {
            return Ok(());
        };
        let main = ctype.split(';').next().unwrap_or("").trim();
        if main.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            self.body_arguments.parse_urlencoded(&self.body)
        } else if main.eq_ignore_ascii_case("multipart/form-data") {
            let boundary = multipart::boundary(ctype)
                .ok_or_else(|| HttpError::bad_request("multipart: no boundary"))?;
            multipart::parse_multipart_form_data(
                &boundary,
                &self.body,
                &mut self.body_arguments,
                &mut self.files,
            )
        } else {
            Ok(())
        }
    }

    /// Bytes held by the reusable buffers (the pool drops requests that grew too big).
    pub(crate) fn retained_bytes(&self) -> usize {
        self.text.capacity()
            + self.host.capacity()
            + self.header_lines.capacity()
            + self.body.capacity()
            + self.query_arguments.capacity()
            + self.body_arguments.capacity()
    }

    /// The method, e.g. `GET`.
    pub fn method(&self) -> &str {
        match self.known_method {
            Some(m) => m.as_str(),
            None => &self.text[self.method.clone()],
        }
    }

    /// The method if it is one a handler can serve (`None`: a 405).
    pub(crate) fn supported_method(&self) -> Option<Method> {
        self.known_method
    }

    /// The request-target as sent (path and query), Tornado's `request.uri`.
    pub fn uri(&self) -> &str {
        &self.text[self.uri.clone()]
    }

    /// The raw (percent-encoded) path.
    pub fn path(&self) -> &str {
        &self.text[self.path.clone()]
    }

    /// The raw query string, without `?`.
    pub fn query(&self) -> &str {
        &self.text[self.query.clone()]
    }

    /// `HTTP/1.0` or `HTTP/1.1`.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The `Host` header (port included), `""` if absent.
    pub fn host(&self) -> &str {
        std::str::from_utf8(&self.host).unwrap_or("")
    }

    /// The host without its port (`[::1]` keeps its brackets).
    pub fn host_name(&self) -> &str {
        crate::routing::host_without_port(self.host())
    }

    /// `http` or `https`.
    pub fn protocol(&self) -> &'static str {
        self.protocol
    }

    /// The client's IP address (`None` over a Unix socket).
    pub fn remote_ip(&self) -> Option<IpAddr> {
        self.remote_ip
    }

    /// The number of the connection this request came on, unique among the connections of
    /// this thread's server (requests on one keep-alive connection share it; Tornado's
    /// `request.connection`, for logs and for telling connections apart).
    pub fn connection_id(&self) -> u64 {
        self.connection_id
    }

    /// The request headers.
    pub fn headers(&self) -> RequestHeaders<'_> {
        RequestHeaders { request: self }
    }

    /// The whole body (de-chunked).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Arguments from the query string.
    pub fn query_arguments(&self) -> &Arguments {
        &self.query_arguments
    }

    /// Arguments from a form or multipart body.
    pub fn body_arguments(&self) -> &Arguments {
        &self.body_arguments
    }

    /// Query then body arguments, as raw decoded bytes (Tornado's `request.arguments`).
    pub fn arguments(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.query_arguments
            .iter_bytes()
            .chain(self.body_arguments.iter_bytes())
    }

    /// Uploaded files, in body order.
    pub fn files(&self) -> &[HttpFile] {
        &self.files
    }

    /// The value of cookie `name` (the first one sent), from every `Cookie` header.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Every cookie sent, in order.
    pub fn cookies(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.headers()
            .get_all("Cookie")
            .flat_map(crate::cookies::parse_cookie)
    }

    /// `protocol://host/uri`.
    pub fn full_url(&self) -> String {
        format!("{}://{}{}", self.protocol, self.host(), self.uri())
    }

    /// Whether the access log would write this request's line (then its time is measured).
    pub(crate) fn access_log_on(&self) -> bool {
        self.start.is_some()
    }

    /// Time since the head arrived (Tornado's `request_time`). Measured only when the access
    /// log (target `web::access`) is enabled; zero otherwise.
    pub fn request_time(&self) -> Duration {
        self.start.map_or(Duration::ZERO, |s| s.elapsed())
    }
}

/// Whether the access log (target `web::access`) would write a line at some level, so that
/// the request's time is worth measuring. Asking the logger walks its filter; the answer is
/// kept per thread and asked again only when the logger or the maximum level changes (a
/// logger's filter is fixed once installed, as `env_logger`'s is). Figure: benches/README.md,
/// "Instructions per request" (the access-log item, -36 per request).
fn access_log_enabled() -> bool {
    thread_local! {
        static DECIDED: Cell<Option<(log::LevelFilter, *const (), bool)>> = const { Cell::new(None) };
    }
    let max = log::max_level();
    if max == log::LevelFilter::Off {
        return false;
    }
    let logger = log::logger() as *const dyn log::Log as *const ();
    DECIDED.with(|decided| match decided.get() {
        Some((level, known, enabled)) if level == max && known == logger => enabled,
        _ => {
            let enabled = log::log_enabled!(target: "web::access", log::Level::Error);
            decided.set(Some((max, logger, enabled)));
            enabled
        }
    })
}

fn push(text: &mut String, s: &str) -> Range<usize> {
    let start = text.len();
    text.push_str(s);
    start..text.len()
}

/// The methods a handler can serve (Tornado's `SUPPORTED_METHODS`); others are a 405.
pub const SUPPORTED_METHODS: [&str; 7] =
    ["GET", "HEAD", "POST", "DELETE", "PATCH", "PUT", "OPTIONS"];

/// The methods a handler can serve (Tornado's `SUPPORTED_METHODS`): known at the head, so
/// dispatching on one is a byte compare, not string compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Head,
    Post,
    Delete,
    Patch,
    Put,
    Options,
}

impl Method {
    /// The method's token.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Delete => "DELETE",
            Method::Patch => "PATCH",
            Method::Put => "PUT",
            Method::Options => "OPTIONS",
        }
    }

    /// GET, HEAD and OPTIONS: the methods the XSRF checks let through.
    pub(crate) fn is_safe(self) -> bool {
        matches!(self, Method::Get | Method::Head | Method::Options)
    }
}

/// The supported method named `method` (case-sensitive, as methods are).
fn known_method(method: &str) -> Option<Method> {
    Some(match method {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "DELETE" => Method::Delete,
        "PATCH" => Method::Patch,
        "PUT" => Method::Put,
        "OPTIONS" => Method::Options,
        _ => return None,
    })
}

/// Where `part` lies in `whole` (copied to `text` at `offset`), if it is a slice of it: found
/// by comparing addresses, so an equal string elsewhere is not taken for it.
fn part_of(whole: &str, part: &str, offset: usize) -> Option<Range<usize>> {
    if part.is_empty() {
        return Some(offset..offset); // the parser's "" for no query: nothing to place
    }
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    (start + part.len() <= whole.len()).then(|| offset + start..offset + start + part.len())
}

/// A read-only view of the request headers: names compare case-insensitively, order is kept,
/// repeated names are kept.
#[derive(Clone, Copy)]
pub struct RequestHeaders<'a> {
    request: &'a Request,
}

impl<'a> RequestHeaders<'a> {
    /// Every header as (name, raw value), in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        self.request.header_lines.iter()
    }

    /// The first value of `name`, if present and UTF-8.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.get_all(name).next()
    }

    /// Every UTF-8 value of `name`, in order.
    pub fn get_all<'n>(&self, name: &'n str) -> impl Iterator<Item = &'a str> + 'n
    where
        'a: 'n,
    {
        self.request.header_lines.get_all(name)
    }

    /// Whether a header named `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.request.header_lines.contains(name)
    }

    /// The number of header lines.
    pub fn len(&self) -> usize {
        self.request.header_lines.len()
    }

    /// Whether there are no headers.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Debug for RequestHeaders<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|(n, v)| (n, String::from_utf8_lossy(v))))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http1::BodyFraming;

    fn head<'a>(
        target: &'a str,
        path: &'a str,
        query: &'a str,
        headers: &'a [(&'a str, &'a str)],
    ) -> RequestHead<'a> {
        RequestHead {
            method: "POST",
            target,
            path,
            query,
            version: Version::Http11,
            headers: HTTPHeaders::from_pairs(headers),
            host: "example.com:8080".into(),
            remote_ip: Some("10.1.2.3".parse().unwrap()),
            protocol: "http",
            framing: BodyFraming::None,
            keep_alive: true,
            expect_continue: false,
        }
    }

    #[test]
    fn supported_methods_are_known() {
        for m in crate::handler::SUPPORTED_METHODS {
            assert_eq!(known_method(m).map(Method::as_str), Some(m));
        }
        for m in ["get", "TRACE", "CONNECT", "PROPFIND", "GETX", ""] {
            assert_eq!(known_method(m), None, "{m}");
        }
    }

    #[test]
    fn path_and_query_are_ranges_of_the_target_and_methods_any_token() {
        let target = "/a/b?q=1";
        let mut h = head(target, &target[..4], &target[5..], &[]);
        h.method = "PROPFIND";
        let mut r = Request::default();
        r.load_head(&h).unwrap();
        assert_eq!(
            (r.method(), r.uri(), r.path(), r.query()),
            ("PROPFIND", "/a/b?q=1", "/a/b", "q=1")
        );
        // Reused for a request whose parts are not in its target (absolute-form, no path).
        let mut h = head("http://h", "/", "", &[]);
        h.method = "GET";
        r.load_head(&h).unwrap();
        assert_eq!(
            (r.method(), r.uri(), r.path(), r.query()),
            ("GET", "http://h", "/", "")
        );
        assert_eq!(r.query_arguments().iter().count(), 0);
    }

    #[test]
    fn copies_the_head() {
        let mut r = Request::default();
        let h = [
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Cookie", "a=1; b=2"),
            ("X-Many", "1"),
            ("x-many", "2"),
        ];
        r.load_head(&head("/p%20q?x=1&x=2", "/p%20q", "x=1&x=2", &h))
            .unwrap();
        assert_eq!(
            (r.method(), r.uri(), r.path(), r.query()),
            ("POST", "/p%20q?x=1&x=2", "/p%20q", "x=1&x=2")
        );
        assert_eq!(
            (r.host(), r.host_name(), r.protocol()),
            ("example.com:8080", "example.com", "http")
        );
        assert_eq!(r.remote_ip(), Some("10.1.2.3".parse().unwrap()));
        assert_eq!(r.version(), Version::Http11);
        assert_eq!(
            r.headers().get("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(
            r.headers().get_all("X-MANY").collect::<Vec<_>>(),
            ["1", "2"]
        );
        assert_eq!(r.headers().len(), 4);
        assert!(r.headers().contains("cookie") && !r.headers().contains("nope"));
        assert_eq!(r.cookie("b"), Some("2"));
        assert_eq!(r.cookies().count(), 2);
        assert_eq!(r.query_arguments().get_all("x").count(), 2);
        assert_eq!(r.full_url(), "http://example.com:8080/p%20q?x=1&x=2");
        r.push_body(b"y=3&");
        r.push_body(b"y=4");
        r.parse_body().unwrap();
        assert_eq!(r.body(), b"y=3&y=4");
        assert_eq!(r.body_arguments().get("y").unwrap(), Some("4"));
        assert_eq!(r.arguments().count(), 4);
    }

    #[test]
    fn reuse_forgets_the_previous_request() {
        let mut r = Request::default();
        let h = [("Content-Type", "multipart/form-data; boundary=b")];
        r.load_head(&head("/a?q=1", "/a", "q=1", &h)).unwrap();
        r.push_body(b"--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\ndata\r\n--b--");
        r.parse_body().unwrap();
        assert_eq!(r.files().len(), 1);
        r.load_head(&head("/b", "/b", "", &[])).unwrap();
        assert_eq!((r.path(), r.body().len(), r.files().len()), ("/b", 0, 0));
        assert!(r.query_arguments().is_empty() && r.headers().is_empty());
    }

    #[test]
    fn too_many_query_arguments_is_400() {
        let q = "a&".repeat(1001);
        let mut r = Request::default();
        assert_eq!(
            r.load_head(&head("/", "/", &q, &[])).unwrap_err().status,
            400
        );
    }

    #[test]
    fn multipart_without_boundary_is_400() {
        let mut r = Request::default();
        let h = [("Content-Type", "multipart/form-data")];
        r.load_head(&head("/", "/", "", &h)).unwrap();
        r.push_body(b"x");
        assert_eq!(r.parse_body().unwrap_err().status, 400);
    }

    #[test]
    fn ipv6_host_name() {
        let mut r = Request::default();
        let mut h = head("/", "/", "", &[]);
        h.host = "[::1]:80".into();
        r.load_head(&h).unwrap();
        assert_eq!(r.host_name(), "[::1]");
    }
}
