//! [`HTTPClient`]: `fetch(request) -> Result<HTTPResponse, ClientError>` on the current
//! reactor (Tornado's `AsyncHTTPClient` with `simple_httpclient`), and [`fetch_blocking`] /
//! [`BlockingHTTPClient`], which run their own reactor (Tornado's blocking `HTTPClient`).
//!
//! One fetch: parse the URL → wait for a slot of the host (FIFO, `max_clients`) → take a live
//! pooled connection or connect (`connect_timeout`) → exchange → give the connection back if
//! it can carry another request → follow a redirect (a new exchange, same rules) → check the
//! status (`raise_error`). `request_timeout` covers all of it, redirects included.
//!
//! `https://` URLs connect with TLS: the handshake is part of the connect (under
//! `connect_timeout`), the server's certificate is verified against the client's
//! [`TlsConnector`] (the public web's roots unless [`HTTPClient::with_tls`] gave another, e.g.
//! [`TlsConnector::with_ca_file`] for a private CA) and must be valid for the URL's host. A
//! failed handshake is [`ClientError::Tls`]. Pooled connections are kept per scheme, host and
//! port, so an `http` and an `https` origin never share one.

use super::connection::{validate_request, ClientConnection, Exchange};
use super::error::{ClientError, Phase, TimeoutKind};
use super::pool::{HostPool, Pool};
use super::request::{Body, HTTPRequest, Url};
use super::response::{HTTPResponse, Timing};
use iostream::{IOStream, StreamError, TcpClient, TlsConnector};
use reactor::Reactor;
use std::cell::{Cell, OnceCell};
use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Default `max_clients` (Tornado's): 10 requests in flight per host.
pub const DEFAULT_MAX_CLIENTS: usize = 10;
/// Default time an idle pooled connection is kept: 60 s.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// An asynchronous HTTP/1.1 client with a keep-alive connection pool.
///
/// It is a cheap handle (clone it to share the pool) and belongs to the reactor thread it is
/// used on, like everything on a reactor.
///
/// ```
/// use http1::client::{HTTPClient, HTTPRequest};
/// use std::io::{Read, Write};
///
/// // A one-shot server on a thread.
/// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let port = listener.local_addr().unwrap().port();
/// std::thread::spawn(move || {
///     let (mut s, _) = listener.accept().unwrap();
///     let mut buf = [0u8; 1024];
///     let _ = s.read(&mut buf).unwrap();
///     s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi").unwrap();
/// });
///
/// reactor::Reactor::new().unwrap().block_on(async {
///     let client = HTTPClient::new();
///     let url = format!("http://127.0.0.1:{port}/");
///     let response = client.fetch(HTTPRequest::new(url)).await.unwrap();
///     assert_eq!((response.code, &response.body[..]), (200, &b"hi"[..]));
/// });
/// ```
#[derive(Clone)]
pub struct HTTPClient {
    pool: Rc<Pool>,
    /// Whom `https://` connections trust; the built-in roots, made on first use, by default.
    tls: Rc<OnceCell<TlsConnector>>,
}

impl Default for HTTPClient {
    fn default() -> Self {
        HTTPClient::new()
    }
}

impl std::fmt::Debug for HTTPClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HTTPClient")
            .field("connections_opened", &self.pool.opened())
            .field("idle_connections", &self.pool.idle_count())
            .finish()
    }
}

impl HTTPClient {
    /// A client with [`DEFAULT_MAX_CLIENTS`] requests in flight per host.
    pub fn new() -> HTTPClient {
        HTTPClient::with_limits(DEFAULT_MAX_CLIENTS, DEFAULT_IDLE_TIMEOUT)
    }

    /// A client with `max_clients` requests in flight per `(scheme, host, port)` (more wait in
    /// a FIFO queue; at least 1), keeping idle connections for at most `idle_timeout`.
    pub fn with_limits(max_clients: usize, idle_timeout: Duration) -> HTTPClient {
        HTTPClient {
            pool: Rc::new(Pool::new(max_clients, idle_timeout)),
            tls: Rc::new(OnceCell::new()),
        }
    }

    /// This client (and its clones made from now on), verifying `https://` servers with
    /// `connector` instead of the public web's roots: e.g.
    /// [`TlsConnector::with_ca_file`] to trust a private CA (Tornado's `ca_certs`), or
    /// [`TlsConnector::with_client_certificate`] for mutual TLS.
    ///
    /// ```no_run
    /// use http1::client::HTTPClient;
    /// let connector = iostream::TlsConnector::with_ca_file("ca.pem").unwrap();
    /// let client = HTTPClient::new().with_tls(connector);
    /// ```
    pub fn with_tls(mut self, connector: TlsConnector) -> HTTPClient {
        self.tls = Rc::new(OnceCell::from(connector));
        self
    }

    /// The connector `https://` connections use.
    fn tls_connector(&self) -> &TlsConnector {
        self.tls.get_or_init(TlsConnector::new)
    }

    /// TCP connections opened so far (for tests of connection reuse).
    pub fn connections_opened(&self) -> u64 {
        self.pool.opened()
    }

    /// Idle connections held in the pool.
    pub fn idle_connections(&self) -> usize {
        self.pool.idle_count()
    }

    /// Closes the idle connections (requests in flight finish normally).
    pub fn close(&self) {
        self.pool.clear();
    }

    /// Fetches `request` (a [`HTTPRequest`], or a URL string for a plain GET).
    ///
    /// Errors say what happened: see [`ClientError`]. With `raise_error` (the default) a
    /// final status outside 2xx is an `Err(ClientError::Http)` carrying the response.
    pub async fn fetch(
        &self,
        request: impl Into<HTTPRequest>,
    ) -> Result<HTTPResponse, ClientError> {
        let mut req = request.into();
        let phase = Cell::new(Phase::Queued);
        let limit = req.request_timeout;
        let work = self.fetch_with_redirects(&mut req, &phase);
        match limit {
            None => work.await,
            Some(after) => match reactor::timeout(after, work).await {
                Ok(r) => r,
                Err(_) => Err(ClientError::Timeout {
                    kind: TimeoutKind::Request,
                    after,
                    phase: phase.get(),
                }),
            },
        }
    }

    async fn fetch_with_redirects(
        &self,
        req: &mut HTTPRequest,
        phase: &Cell<Phase>,
    ) -> Result<HTTPResponse, ClientError> {
        let start = Instant::now();
        let request_url = req.url.clone();
        let mut url = Url::parse(&req.url)?;
        validate_request(req, &url)?;
        let mut timing = Timing::default();
        let mut redirects = 0;
        loop {
            let follow_allowed = req.follow_redirects && redirects < req.max_redirects;
            let (ex, reused) = self
                .fetch_once(req, &url, phase, follow_allowed, &mut timing)
                .await?;
            if let Some(location) = &ex.location {
                let next = url.join(location)?;
                redirect(req, &url, &next, ex.head.code);
                url = next;
                redirects += 1;
                continue;
            }
            timing.headers = ex.head_at - start;
            timing.total = start.elapsed();
            let code = ex.head.code;
            let response = HTTPResponse {
                code,
                reason: ex.head.reason,
                version: ex.head.version,
                headers: ex.head.headers,
                body: ex.body,
                request_url,
                effective_url: url.to_string(),
                redirects,
                reused_connection: reused,
                timing,
            };
            if !req.raise_error || response.is_success() {
                return Ok(response);
            }
            let is_redirect = matches!(code, 301 | 302 | 303 | 307 | 308)
                && response.headers.contains("Location");
            if req.follow_redirects && is_redirect && redirects >= req.max_redirects {
                return Err(ClientError::TooManyRedirects {
                    max: req.max_redirects,
                    response: Box::new(response),
                });
            }
            return Err(ClientError::Http {
                code,
                response: Box::new(response),
            });
        }
    }

    /// One request/response on one connection (after a slot of the host is free); retries
    /// once on a new connection if a pooled one turns out to be closed.
    async fn fetch_once(
        &self,
        req: &mut HTTPRequest,
        url: &Url,
        phase: &Cell<Phase>,
        follow_allowed: bool,
        timing: &mut Timing,
    ) -> Result<(Exchange, bool), ClientError> {
        let key = (url.scheme().to_owned(), url.host().to_owned(), url.port());
        let host: Rc<HostPool> = self.pool.host(&key);
        phase.set(Phase::Queued);
        let queued = Instant::now();
        let _slot = host.acquire().await;
        timing.queue += queued.elapsed();
        let mut retried = false;
        loop {
            phase.set(Phase::Connecting);
            let (mut conn, reused) = match self.pool.take_idle(&host) {
                Some(conn) => {
                    timing.connect = None;
                    (conn, true)
                }
                None => {
                    let t = Instant::now();
                    let tls = url.is_tls().then(|| self.tls_connector());
                    let conn = connect(url, tls, req.connect_timeout).await?;
                    self.pool.note_opened();
                    timing.connect = Some(t.elapsed());
                    (conn, false)
                }
            };
            match conn.exchange(req, url, phase, follow_allowed).await {
                Ok(ex) => {
                    if ex.keep_alive {
                        self.pool.put_idle(&host, conn);
                    } else {
                        conn.stream().close();
                    }
                    return Ok((ex, reused));
                }
                Err(e) => {
                    conn.stream().close();
                    let stale = reused
                        && e.nothing_received
                        && matches!(e.error, ClientError::ConnectionClosed { .. });
                    if stale && !retried && idempotent(&req.method) {
                        retried = true;
                        continue;
                    }
                    return Err(e.error);
                }
            }
        }
    }
}

/// Methods that may be sent again (RFC 9110 §9.2.2).
fn idempotent(method: &str) -> bool {
    ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]
        .iter()
        .any(|m| m.eq_ignore_ascii_case(method))
}

/// Turns `req` into the request for a redirect from `from` to `to` with status `code`
/// (Tornado's rules): 303 (not after HEAD), and 301/302 after POST, become a GET without
/// body; a new origin loses the credentials; `Host` is recomputed.
fn redirect(req: &mut HTTPRequest, from: &Url, to: &Url, code: u16) {
    let post = req.method.eq_ignore_ascii_case("POST");
    let head = req.method.eq_ignore_ascii_case("HEAD");
    if (code == 303 && !head) || (matches!(code, 301 | 302) && post) {
        req.method = "GET".into();
        req.body = Body::Empty;
        for h in [
            "Content-Length",
            "Content-Type",
            "Content-Encoding",
            "Transfer-Encoding",
        ] {
            req.headers.remove(h);
        }
    }
    if !from.same_origin(to) {
        for h in ["Authorization", "Proxy-Authorization", "Cookie"] {
            req.headers.remove(h);
        }
    }
    req.headers.remove("Host");
    req.url = to.to_string();
}

/// Resolves and connects (and with `tls`, completes the handshake) within `timeout`, saying
/// which step failed.
async fn connect(
    url: &Url,
    tls: Option<&TlsConnector>,
    timeout: Option<Duration>,
) -> Result<ClientConnection, ClientError> {
    let attempt = async {
        let stream = connect_stream(url, None).await?;
        if let Some(tls) = tls {
            tls_handshake(&stream, tls, url).await?;
        }
        Ok(ClientConnection::new(stream))
    };
    within_connect_timeout(timeout, attempt).await
}

/// Opens a TCP connection to `url`'s host and port within `timeout` (the client's
/// `connect_timeout`), with the client's errors: [`ClientError::Dns`],
/// [`ClientError::ConnectionRefused`], [`ClientError::Connect`], or a
/// [`ClientError::Timeout`] of kind [`TimeoutKind::Connect`]. Every resolved address is tried
/// in order. For protocols that start over HTTP and leave it (WebSocket's `websocket_connect`).
///
/// ```
/// use http1::client::{connect_stream, ClientError, Url};
///
/// let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
/// reactor::Reactor::new().unwrap().block_on(async {
///     let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
///     let err = connect_stream(&url, None).await.unwrap_err(); // the listener is gone
///     assert!(matches!(err, ClientError::ConnectionRefused { .. }));
/// });
/// ```
pub async fn connect_stream(url: &Url, timeout: Option<Duration>) -> Result<IOStream, ClientError> {
    let (host, port) = (url.host(), url.port());
    let attempt = async {
        let addrs = iostream::resolve(host, port)
            .await
            .map_err(|source| ClientError::Dns {
                host: host.to_owned(),
                source,
            })?;
        let mut last = None;
        for addr in &addrs {
            match TcpClient::connect(&addr.ip().to_string(), port, None).await {
                Ok(stream) => return Ok(stream),
                Err(e) => last = Some(e),
            }
        }
        let source = match last {
            None => {
                return Err(ClientError::Dns {
                    host: host.to_owned(),
                    source: io::Error::new(io::ErrorKind::NotFound, "no address"),
                })
            }
            Some(StreamError::Io(e)) => e,
            Some(e) => io::Error::other(e.to_string()),
        };
        Err(if source.kind() == io::ErrorKind::ConnectionRefused {
            ClientError::ConnectionRefused {
                host: host.to_owned(),
                port,
                source,
            }
        } else {
            ClientError::Connect {
                host: host.to_owned(),
                port,
                source,
            }
        })
    };
    within_connect_timeout(timeout, attempt).await
}

/// Runs `attempt` within the client's `connect_timeout`, if one is set.
async fn within_connect_timeout<T>(
    timeout: Option<Duration>,
    attempt: impl std::future::Future<Output = Result<T, ClientError>>,
) -> Result<T, ClientError> {
    match timeout {
        None => attempt.await,
        Some(after) => {
            reactor::timeout(after, attempt)
                .await
                .unwrap_or(Err(ClientError::Timeout {
                    kind: TimeoutKind::Connect,
                    after,
                    phase: Phase::Connecting,
                }))
        }
    }
}

/// The TLS handshake on a connected stream, verifying the certificate for the URL's host
/// (what `https://` adds to [`connect_stream`]; `wss://` uses it too). A failure closes the
/// stream and is [`ClientError::Tls`].
pub async fn tls_handshake(
    stream: &IOStream,
    tls: &TlsConnector,
    url: &Url,
) -> Result<(), ClientError> {
    let failed = |e: StreamError| {
        let reason = match e {
            StreamError::Closed { source: Some(s) } => s.to_string(),
            other => other.to_string(),
        };
        stream.close();
        ClientError::Tls {
            host: url.host().to_owned(),
            port: url.port(),
            reason,
        }
    };
    stream
        .start_tls_client(tls, url.server_name())
        .map_err(failed)?;
    stream.handshake().await.map_err(failed)
}

/// A client that runs its own reactor: each [`fetch`](Self::fetch) blocks until the response
/// is complete (Tornado's blocking `HTTPClient`). Its connections are kept between fetches.
///
/// Don't use it on a thread whose reactor is running (inside `block_on`): use
/// [`HTTPClient`] there.
pub struct BlockingHTTPClient {
    reactor: Reactor,
    client: HTTPClient,
}

impl BlockingHTTPClient {
    /// A client with its own reactor.
    pub fn new() -> io::Result<BlockingHTTPClient> {
        Ok(BlockingHTTPClient {
            reactor: Reactor::new()?,
            client: HTTPClient::new(),
        })
    }

    /// This client, verifying `https://` servers with `connector` (see
    /// [`HTTPClient::with_tls`]).
    pub fn with_tls(self, connector: TlsConnector) -> BlockingHTTPClient {
        BlockingHTTPClient {
            reactor: self.reactor,
            client: self.client.with_tls(connector),
        }
    }

    /// Fetches `request`, blocking until done.
    pub fn fetch(&self, request: impl Into<HTTPRequest>) -> Result<HTTPResponse, ClientError> {
        let request = request.into();
        self.reactor.block_on(self.client.fetch(request))
    }
}

impl std::fmt::Debug for BlockingHTTPClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingHTTPClient")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

/// Fetches `request` (a URL or an [`HTTPRequest`]) on a reactor of its own, blocking until
/// done.
///
/// ```no_run
/// let r = http1::client::fetch_blocking("http://localhost:8888/").unwrap();
/// println!("{}", r.text());
/// ```
pub fn fetch_blocking(request: impl Into<HTTPRequest>) -> Result<HTTPResponse, ClientError> {
    let request = request.into();
    BlockingHTTPClient::new()
        .map_err(|e| ClientError::Stream(StreamError::Io(e)))?
        .fetch(request)
}
