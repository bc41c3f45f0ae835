//! The client side of WebSocket: [`websocket_connect`] and [`WebSocketClientConnection`]
//! (Tornado's `tornado.websocket.websocket_connect` and `WebSocketClientConnection`), on the
//! pure codec of this module's siblings and on `http1`'s client pieces.
//!
//! # The opening handshake (RFC 6455 §4.1)
//! 1. The `ws://` or `wss://` URL is parsed by `http1`'s [`Url`] (host, port, path, query; the
//!    fragment is dropped; `wss://` defaults to port 443). Other schemes are
//!    [`WebSocketClientError::UnsupportedScheme`].
//! 2. TCP connect with `http1`'s [`connect_stream`] within `connect_timeout` (its errors: DNS,
//!    refused, timeout), then for `wss://` the TLS handshake ([`tls_handshake`]: the
//!    certificate verified for the host against [`WebSocketConnectOptions::tls`], by default the
//!    public web's roots); the whole handshake within `request_timeout`.
//! 3. The request: `GET` with `Upgrade: websocket`, `Connection: Upgrade`, a random
//!    `Sec-WebSocket-Key` (16 bytes from the OS random source), `Sec-WebSocket-Version: 13`,
//!    the subprotocols offered, the permessage-deflate offer
//!    ([`client_offer`]) when compression is on, and the
//!    caller's extra headers (e.g. `Origin`, `Cookie`).
//! 4. The response head is read by `http1` ([`read_response_head`], the same rules as every
//!    response); bytes after it (frames the server sent at once) stay buffered. A status other
//!    than 101 is [`WebSocketClientError::Rejected`]; a missing `Upgrade`/`Connection`, a wrong
//!    `Sec-WebSocket-Accept`, a subprotocol that was not offered, or an extension answer we
//!    did not offer ([`accept_response`]) is
//!    [`WebSocketClientError::Handshake`].
//!
//! # The connection
//! [`read_message`](WebSocketClientConnection::read_message) returns the next text or binary
//! [`ClientMessage`], or `None` once the connection is closed; pings are answered with pongs on the
//! way. [`write_message`](WebSocketClientConnection::write_message) resolves when the message
//! has been handed to the kernel: awaiting it is the backpressure, and a writer waits while
//! more than `max_write_buffer_size` bytes are queued. Every frame is masked with a fresh
//! random key. A server that breaks the protocol gets a close frame with the matching code
//! (1002, 1007 for invalid UTF-8 or deflate data, 1009 over `max_message_size`, also after
//! inflation) and the connection ends. [`close`](WebSocketClientConnection::close) sends a
//! close frame, waits up to `close_timeout` for the server's, then closes the fd; afterwards
//! [`close_code`](WebSocketClientConnection::close_code) and
//! [`close_reason`](WebSocketClientConnection::close_reason) say how it ended.
//!
//! With `ping_interval` set (Tornado 6.5's semantics), a ping is sent every interval and the
//! connection is closed if its pong has not arrived within `ping_timeout` (by default the
//! interval). Pings and their timeouts run while a `read_message` is waiting (a client that
//! never reads has no use for them).
//!
//! The connection is a handle: clones share it, so one task can read while another writes
//! (and closes: the reading task then sees the server's close and gets `None`).
//!
//! ```no_run
//! use web::websocket::client::{websocket_connect, ClientMessage, WebSocketConnectOptions};
//!
//! reactor::Reactor::new().unwrap().block_on(async {
//!     let options = WebSocketConnectOptions::default().subprotocols(["chat"]);
//!     let ws = websocket_connect("ws://127.0.0.1:8888/ws/echo", options).await.unwrap();
//!     ws.write_message("hello", false).await.unwrap();
//!     if let Some(ClientMessage::Text(echo)) = ws.read_message().await {
//!         println!("{echo}");
//!     }
//!     ws.close(Some(1000), "done").await;
//!     println!("closed: {:?} {:?}", ws.close_code(), ws.close_reason());
//! });
//! ```

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;
use std::time::{Duration, Instant};

use base64::Engine;
use http1::client::{
    connect_stream, read_response_head, tls_handshake, ClientError, Phase, ResponseHead,
    TimeoutKind, Url,
};
use http1::rules::{is_field_value, is_token};
use iostream::{IOStream, StreamError, TlsConnector};

use super::close::{GOING_AWAY, NO_STATUS};
use super::encode::{FrameEncoder, MaskSource};
use super::extension::{accept_response, client_offer};
use super::handshake::parse_subprotocols;
use super::{
    accept_value, DeflateConfig, DeflateOptions, Event, MessageReader, MessageWriter,
    ProtocolError, Role, DEFAULT_MAX_MESSAGE_SIZE,
};

/// The settings of [`websocket_connect`] (Tornado's `websocket_connect` arguments and the
/// `HTTPRequest` fields it uses). Built with the methods below from
/// [`Default`](WebSocketConnectOptions::default).
///
/// ```
/// use std::time::Duration;
/// use web::websocket::client::WebSocketConnectOptions;
/// use web::websocket::DeflateOptions;
///
/// let options = WebSocketConnectOptions::default()
///     .header("Origin", "http://example.com")
///     .subprotocols(["v2.chat", "v1.chat"])
///     .compression(Some(DeflateOptions::default()))
///     .ping_interval(Some(Duration::from_secs(20)));
/// assert_eq!(options.ping_timeout_or_default(), Some(Duration::from_secs(20)));
/// ```
#[derive(Debug, Clone)]
pub struct WebSocketConnectOptions {
    /// Resolving and connecting (default 20 s, Tornado's `connect_timeout`).
    pub connect_timeout: Option<Duration>,
    /// The whole handshake, connecting included (default 20 s, Tornado's `request_timeout`).
    pub request_timeout: Option<Duration>,
    /// Extra request header fields, in order (`Origin`, `Cookie`, `Authorization`, ...).
    pub headers: Vec<(String, String)>,
    /// The subprotocols offered in `Sec-WebSocket-Protocol`, in order of preference.
    pub subprotocols: Vec<String>,
    /// permessage-deflate: offered when `Some` (Tornado's `compression_options`).
    pub compression: Option<DeflateOptions>,
    /// The largest message accepted, after inflation (default 10 MiB; over it: close 1009).
    pub max_message_size: usize,
    /// Send a ping this often (default: never).
    pub ping_interval: Option<Duration>,
    /// Close when a ping's pong has not come within this time (default: `ping_interval`).
    pub ping_timeout: Option<Duration>,
    /// A writer waits while more than this many bytes are queued for the socket (default 1 MiB).
    pub max_write_buffer_size: usize,
    /// How long [`close`](WebSocketClientConnection::close) waits for the server's close frame
    /// (default 5 s, as Tornado).
    pub close_timeout: Duration,
    /// The largest response head accepted (default 64 KiB).
    pub max_header_size: usize,
    /// Whom a `wss://` server's certificate must chain to (default: the public web's roots,
    /// [`TlsConnector::new`]; [`TlsConnector::with_ca_file`] for a private CA).
    pub tls: Option<TlsConnector>,
}

impl Default for WebSocketConnectOptions {
    fn default() -> WebSocketConnectOptions {
        WebSocketConnectOptions {
            connect_timeout: Some(Duration::from_secs(20)),
            request_timeout: Some(Duration::from_secs(20)),
            headers: Vec::new(),
            subprotocols: Vec::new(),
            compression: None,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            ping_interval: None,
            ping_timeout: None,
            max_write_buffer_size: 1 << 20,
            close_timeout: Duration::from_secs(5),
            max_header_size: 64 * 1024,
            tls: None,
        }
    }
}

impl WebSocketConnectOptions {
    /// Adds a request header field.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the subprotocols offered.
    pub fn subprotocols<S: Into<String>>(mut self, list: impl IntoIterator<Item = S>) -> Self {
        self.subprotocols = list.into_iter().map(Into::into).collect();
        self
    }

    /// Offers permessage-deflate with these settings (`None`: no compression).
    pub fn compression(mut self, options: Option<DeflateOptions>) -> Self {
        self.compression = options;
        self
    }

    /// Sets `connect_timeout`.
    pub fn connect_timeout(mut self, t: Option<Duration>) -> Self {
        self.connect_timeout = t;
        self
    }

    /// Sets `request_timeout`.
    pub fn request_timeout(mut self, t: Option<Duration>) -> Self {
        self.request_timeout = t;
        self
    }

    /// Sets `max_message_size`.
    pub fn max_message_size(mut self, n: usize) -> Self {
        self.max_message_size = n;
        self
    }

    /// Sets `ping_interval`.
    pub fn ping_interval(mut self, t: Option<Duration>) -> Self {
        self.ping_interval = t;
        self
    }

    /// Sets `ping_timeout`.
    pub fn ping_timeout(mut self, t: Option<Duration>) -> Self {
        self.ping_timeout = t;
        self
    }

    /// Sets `max_write_buffer_size`.
    pub fn max_write_buffer_size(mut self, n: usize) -> Self {
        self.max_write_buffer_size = n;
        self
    }

    /// Sets `close_timeout`.
    pub fn close_timeout(mut self, t: Duration) -> Self {
        self.close_timeout = t;
        self
    }

    /// Sets whom a `wss://` server's certificate must chain to.
    pub fn tls(mut self, connector: TlsConnector) -> Self {
        self.tls = Some(connector);
        self
    }

    /// The ping timeout in force: `ping_timeout`, else `ping_interval` (`None`: no pings).
    pub fn ping_timeout_or_default(&self) -> Option<Duration> {
        self.ping_interval.map(|i| self.ping_timeout.unwrap_or(i))
    }
}

/// A received data message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage {
    /// A text message (valid UTF-8).
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
}

impl ClientMessage {
    /// The message's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            ClientMessage::Text(t) => t.as_bytes(),
            ClientMessage::Binary(b) => b,
        }
    }

    /// Whether it is a binary message.
    pub fn is_binary(&self) -> bool {
        matches!(self, ClientMessage::Binary(_))
    }
}

/// Why [`websocket_connect`] or a write failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum WebSocketClientError {
    /// Reaching the server failed: a bad URL, DNS, a refused connection, the connect or
    /// request timeout, a malformed response head, a closed connection (`http1`'s error).
    Connect(ClientError),
    /// A scheme that is not `ws://` or `wss://`.
    UnsupportedScheme {
        /// The URL as given.
        url: String,
        /// Its scheme.
        scheme: String,
    },
    /// The server answered with a status other than `101 Switching Protocols`.
    Rejected {
        /// The status code.
        code: u16,
        /// The reason phrase.
        reason: String,
    },
    /// The server's 101 breaks the opening handshake (wrong `Sec-WebSocket-Accept`, missing
    /// `Upgrade`, a subprotocol or extension parameter that was not offered, ...).
    Handshake(String),
    /// The message cannot be sent (text that is not UTF-8, a ping over 125 bytes).
    InvalidMessage(&'static str),
    /// The connection is closed (or closing): nothing more can be written.
    Closed,
}

impl fmt::Display for WebSocketClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebSocketClientError::Connect(e) => write!(f, "websocket connect failed: {e}"),
            WebSocketClientError::UnsupportedScheme { url, scheme } => write!(
                f,
                "{url}: {scheme}:// is not a WebSocket scheme (ws:// or wss://)"
            ),
            WebSocketClientError::Rejected { code, reason } => write!(
                f,
                "websocket handshake rejected: the server answered {code} {reason} instead of 101 Switching Protocols"
            ),
            WebSocketClientError::Handshake(why) => write!(f, "websocket handshake failed: {why}"),
            WebSocketClientError::InvalidMessage(why) => write!(f, "cannot send: {why}"),
            WebSocketClientError::Closed => f.write_str("the websocket connection is closed"),
        }
    }
}

impl std::error::Error for WebSocketClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WebSocketClientError::Connect(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ClientError> for WebSocketClientError {
    fn from(e: ClientError) -> WebSocketClientError {
        WebSocketClientError::Connect(e)
    }
}

/// Opens a WebSocket connection to `url` (`ws://host[:port][/path][?query]`): connects,
/// performs the opening handshake (see the module doc) and returns the open connection.
pub async fn websocket_connect(
    url: &str,
    options: WebSocketConnectOptions,
) -> Result<WebSocketClientConnection, WebSocketClientError> {
    let parsed = parse_ws_url(url)?;
    let phase = Cell::new(Phase::Connecting);
    let attempt = handshake(&parsed, &options, &phase);
    let (stream, subprotocol, deflate) = match options.request_timeout {
        None => attempt.await?,
        Some(after) => match reactor::timeout(after, attempt).await {
            Ok(result) => result?,
            Err(_) => {
                return Err(WebSocketClientError::Connect(ClientError::Timeout {
                    kind: TimeoutKind::Request,
                    after,
                    phase: phase.get(),
                }))
            }
        },
    };
    Ok(WebSocketClientConnection::new(
        stream,
        subprotocol,
        deflate,
        &options,
    ))
}

/// `ws://...` as `http1`'s [`Url`] (the same host, port and target rules as HTTP).
fn parse_ws_url(url: &str) -> Result<Url, WebSocketClientError> {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    match scheme.to_ascii_lowercase().as_str() {
        scheme @ ("ws" | "wss") => {
            let http = if scheme == "ws" { "http" } else { "https" };
            Url::parse(&format!("{http}://{rest}")).map_err(|e| match e {
                // Name the URL as the caller wrote it.
                ClientError::InvalidUrl { reason, .. } => {
                    WebSocketClientError::Connect(ClientError::InvalidUrl {
                        url: url.to_owned(),
                        reason,
                    })
                }
                other => WebSocketClientError::Connect(other),
            })
        }
        "" => Err(WebSocketClientError::Connect(ClientError::InvalidUrl {
            url: url.to_owned(),
            reason: "no scheme (expected ws://...)",
        })),
        other => Err(WebSocketClientError::UnsupportedScheme {
            url: url.to_owned(),
            scheme: other.to_owned(),
        }),
    }
}

/// Connects and runs the opening handshake; returns the stream, the chosen subprotocol and
/// the agreed compression.
async fn handshake(
    url: &Url,
    options: &WebSocketConnectOptions,
    phase: &Cell<Phase>,
) -> Result<(IOStream, Option<String>, Option<DeflateConfig>), WebSocketClientError> {
    let key = base64::engine::general_purpose::STANDARD.encode(random_bytes::<16>());
    let request = request_head(url, options, &key)?;
    let stream = connect_stream(url, options.connect_timeout).await?;
    if url.scheme() == "https" {
        let connector = options.tls.clone().unwrap_or_default();
        tls_handshake(&stream, &connector, url).await?;
    }
    let _ = stream.set_nodelay(true);
    phase.set(Phase::Sending);
    stream
        .write(request.as_bytes())
        .await
        .map_err(|e| stream_error(e, Phase::Sending))?;
    phase.set(Phase::AwaitingResponse);
    let head = read_response_head(&stream, options.max_header_size).await?;
    let (subprotocol, deflate) = check_response(&head, &key, options)?;
    Ok((stream, subprotocol, deflate))
}

/// The handshake request's head.
fn request_head(
    url: &Url,
    options: &WebSocketConnectOptions,
    key: &str,
) -> Result<String, WebSocketClientError> {
    let mut head = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n",
        url.target(),
        url.host_header()
    );
    if !options.subprotocols.is_empty() {
        if let Some(bad) = options
            .subprotocols
            .iter()
            .find(|p| !is_token(p.as_bytes()))
        {
            return Err(
                ClientError::InvalidRequest(format!("subprotocol {bad:?} is not a token")).into(),
            );
        }
        head.push_str("Sec-WebSocket-Protocol: ");
        head.push_str(&options.subprotocols.join(", "));
        head.push_str("\r\n");
    }
    if let Some(deflate) = &options.compression {
        head.push_str("Sec-WebSocket-Extensions: ");
        head.push_str(&client_offer(deflate));
        head.push_str("\r\n");
    }
    for (name, value) in &options.headers {
        if !is_token(name.as_bytes()) || !is_field_value(value.as_bytes()) {
            return Err(ClientError::InvalidRequest(format!(
                "invalid header field {name:?}: {value:?}"
            ))
            .into());
        }
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    Ok(head)
}

/// Checks the server's answer (RFC 6455 §4.1, the client's requirements 1–6).
fn check_response(
    head: &ResponseHead,
    key: &str,
    options: &WebSocketConnectOptions,
) -> Result<(Option<String>, Option<DeflateConfig>), WebSocketClientError> {
    if head.code != 101 {
        return Err(WebSocketClientError::Rejected {
            code: head.code,
            reason: head.reason.clone(),
        });
    }
    let headers = &head.headers;
    let bad = |why: String| Err(WebSocketClientError::Handshake(why));
    if !headers
        .get_all("upgrade")
        .any(|v| v.trim().eq_ignore_ascii_case("websocket"))
    {
        return bad("the 101 has no \"Upgrade: websocket\"".into());
    }
    if !headers
        .get_all("connection")
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
    {
        return bad("the 101 has no \"Connection: Upgrade\"".into());
    }
    let expected = accept_value(key);
    match headers.get("sec-websocket-accept").map(str::trim) {
        Some(accept) if accept == expected => {}
        Some(accept) => {
            return bad(format!(
                "Sec-WebSocket-Accept is {accept:?}, expected {expected:?}"
            ))
        }
        None => return bad("the 101 has no Sec-WebSocket-Accept".into()),
    }
    let chosen: Vec<&str> = headers
        .get_all("sec-websocket-protocol")
        .flat_map(parse_subprotocols)
        .collect();
    let subprotocol = match chosen[..] {
        [] => None,
        [one] if options.subprotocols.iter().any(|p| p == one) => Some(one.to_owned()),
        [one] => {
            return bad(format!(
                "the server chose subprotocol {one:?}, which was not offered"
            ))
        }
        _ => return bad(format!("the server chose several subprotocols: {chosen:?}")),
    };
    let extensions: Vec<&str> = headers.get_all("sec-websocket-extensions").collect();
    let deflate = match (&options.compression, extensions.is_empty()) {
        (_, true) => None,
        (None, false) => {
            return bad(format!(
                "the server accepted extensions that were not offered: {extensions:?}"
            ))
        }
        (Some(offer), false) => accept_response(&extensions, offer).map_err(|e| {
            WebSocketClientError::Handshake(format!("Sec-WebSocket-Extensions: {e}"))
        })?,
    };
    Ok((subprotocol, deflate))
}

/// A stream error during the handshake, as `http1`'s client reports it.
fn stream_error(e: StreamError, phase: Phase) -> WebSocketClientError {
    WebSocketClientError::Connect(match e {
        StreamError::Closed { source } => ClientError::ConnectionClosed { phase, source },
        other => ClientError::Stream(other),
    })
}

/// `N` bytes from the OS random source (the handshake key, mask keys).
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS generator does not fail on a supported system; a failure here is a broken
    // platform, not bad input.
    getrandom::getrandom(&mut bytes).expect("the OS random source");
    bytes
}

/// Mask keys from the OS random source, drawn 64 at a time (RFC 6455 §5.3: a fresh,
/// unpredictable key per frame).
#[derive(Debug)]
struct RandomMasks {
    pool: [u8; 256],
    next: usize,
}

impl RandomMasks {
    fn new() -> RandomMasks {
        RandomMasks {
            pool: [0; 256],
            next: 256,
        }
    }
}

impl MaskSource for RandomMasks {
    fn next_key(&mut self) -> Option<[u8; 4]> {
        if self.next == self.pool.len() {
            self.pool = random_bytes();
            self.next = 0;
        }
        let key = self.pool[self.next..self.next + 4].try_into().ok();
        self.next += 4;
        key
    }
}

/// What a decoded frame asks of the connection (owned, so that the read buffer's borrow ends
/// before anything is awaited).
enum Action {
    Deliver(ClientMessage),
    Pong(Vec<u8>),
    PongReceived,
    Close(u16, String),
    Fail(ProtocolError),
    NeedMore,
}

/// The bytes received and the message reader.
struct ReadSide {
    reader: MessageReader,
    /// Bytes read from the stream; `buf[start..]` not yet consumed by the reader.
    buf: Vec<u8>,
    start: usize,
}

/// The shared state behind a [`WebSocketClientConnection`].
struct Inner {
    stream: IOStream,
    read: RefCell<ReadSide>,
    writer: RefCell<MessageWriter<RandomMasks>>,
    subprotocol: Option<String>,
    deflate: Option<DeflateConfig>,
    max_write_buffer_size: usize,
    close_timeout: Duration,
    ping_interval: Option<Duration>,
    ping_timeout: Option<Duration>,
    /// When the next ping is due.
    next_ping: Cell<Option<Instant>>,
    /// When the outstanding ping's pong is overdue.
    pong_due: Cell<Option<Instant>>,
    /// A `read_message` is running.
    reading: Cell<bool>,
    close_sent: Cell<bool>,
    /// The connection is over (set when the stream is closed).
    finished: reactor::Event,
    close_code: Cell<Option<u16>>,
    close_reason: RefCell<Option<String>>,
}

/// An open WebSocket connection to a server (Tornado's `WebSocketClientConnection`); see the
/// module doc. Clones are handles to the same connection.
#[derive(Clone)]
pub struct WebSocketClientConnection {
    inner: Rc<Inner>,
}

impl fmt::Debug for WebSocketClientConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketClientConnection")
            .field("subprotocol", &self.inner.subprotocol)
            .field("deflate", &self.inner.deflate)
            .field("closed", &self.inner.finished.is_set())
            .finish()
    }
}

impl WebSocketClientConnection {
    fn new(
        stream: IOStream,
        subprotocol: Option<String>,
        deflate: Option<DeflateConfig>,
        options: &WebSocketConnectOptions,
    ) -> WebSocketClientConnection {
        let max = options.max_message_size;
        let (reader, deflater) = match (&deflate, &options.compression) {
            (Some(config), Some(offer)) => (
                MessageReader::with_deflate(Role::Client, max, config.inflater(Role::Client)),
                Some(config.deflater(Role::Client, offer.compression_level)),
            ),
            _ => (MessageReader::new(Role::Client, max), None),
        };
        let writer =
            MessageWriter::with_encoder(FrameEncoder::with_keys(RandomMasks::new()), deflater);
        let ping_interval = options.ping_interval.filter(|d| !d.is_zero());
        WebSocketClientConnection {
            inner: Rc::new(Inner {
                stream,
                read: RefCell::new(ReadSide {
                    reader,
                    buf: Vec::new(),
                    start: 0,
                }),
                writer: RefCell::new(writer),
                subprotocol,
                deflate,
                max_write_buffer_size: options.max_write_buffer_size.max(1),
                close_timeout: options.close_timeout,
                ping_interval,
                ping_timeout: options.ping_timeout_or_default(),
                next_ping: Cell::new(ping_interval.map(|i| Instant::now() + i)),
                pong_due: Cell::new(None),
                reading: Cell::new(false),
                close_sent: Cell::new(false),
                finished: reactor::Event::new(),
                close_code: Cell::new(None),
                close_reason: RefCell::new(None),
            }),
        }
    }

    /// The subprotocol the server chose (Tornado's `selected_subprotocol`), if any.
    pub fn selected_subprotocol(&self) -> Option<&str> {
        self.inner.subprotocol.as_deref()
    }

    /// The permessage-deflate parameters agreed on, if compression is on.
    pub fn deflate(&self) -> Option<DeflateConfig> {
        self.inner.deflate
    }

    /// The close code the connection ended with: the server's (1005 for a close frame
    /// without one), or ours when we failed the connection (1002, 1007, 1009 for a server's
    /// protocol error; 1001 for a ping timeout). `None` while open, or when the TCP
    /// connection ended without a close frame.
    pub fn close_code(&self) -> Option<u16> {
        self.inner.close_code.get()
    }

    /// The reason that came with [`close_code`](Self::close_code).
    pub fn close_reason(&self) -> Option<String> {
        self.inner.close_reason.borrow().clone()
    }

    /// Whether the connection is over.
    pub fn is_closed(&self) -> bool {
        self.inner.finished.is_set()
    }

    /// The next text or binary message; `None` once the connection is closed (by either side,
    /// or by a protocol error: see [`close_code`](Self::close_code)). Pings are answered, and
    /// with `ping_interval` our pings are sent and their pongs awaited, while this waits.
    /// One reader at a time: a second call while one is pending returns `None` at once.
    pub async fn read_message(&self) -> Option<ClientMessage> {
        let inner = &*self.inner;
        if inner.finished.is_set() || inner.reading.replace(true) {
            return None;
        }
        let message = self.read_loop().await;
        inner.reading.set(false);
        message
    }

    async fn read_loop(&self) -> Option<ClientMessage> {
        loop {
            match self.decode() {
                Action::Deliver(message) => return Some(message),
                Action::Pong(payload) => {
                    let queued = self.queue(|w, out| {
                        let _ = w.write_pong(out, &payload);
                    });
                    if queued.is_ok() {
                        let _ = self.inner.stream.flush().await;
                    }
                }
                Action::PongReceived => self.inner.pong_due.set(None),
                Action::Close(code, reason) => {
                    self.record_close(code, reason);
                    if !self.inner.close_sent.get() {
                        let echo = (code != NO_STATUS).then_some(code);
                        self.send_close(echo, "").await;
                    }
                    self.finish();
                    return None;
                }
                Action::Fail(error) => {
                    self.fail(error.close_code(), &error.to_string()).await;
                    return None;
                }
                Action::NeedMore => {
                    if !self.receive().await {
                        self.finish();
                        return None;
                    }
                }
            }
        }
    }

    /// Decodes the next event from the bytes received so far.
    fn decode(&self) -> Action {
        let mut side = self.inner.read.borrow_mut();
        let ReadSide { reader, buf, start } = &mut *side;
        if *start == buf.len() {
            return Action::NeedMore;
        }
        let decoded = match reader.read(&mut buf[*start..]) {
            Ok(decoded) => decoded,
            Err(e) => return Action::Fail(e),
        };
        *start += decoded.consumed;
        match decoded.event {
            None => Action::NeedMore,
            Some(Event::Text(t)) => Action::Deliver(ClientMessage::Text(t.to_owned())),
            Some(Event::Binary(b)) => Action::Deliver(ClientMessage::Binary(b.to_vec())),
            Some(Event::Ping(p)) => Action::Pong(p.to_vec()),
            Some(Event::Pong(_)) => Action::PongReceived,
            Some(Event::Close(c)) => Action::Close(c.code, c.reason.to_owned()),
        }
    }

    /// Waits for more bytes (sending pings and enforcing their timeout meanwhile) and moves
    /// them into the read buffer; false when the connection is over.
    async fn receive(&self) -> bool {
        let inner = &*self.inner;
        {
            let mut side = inner.read.borrow_mut();
            let start = std::mem::take(&mut side.start);
            side.buf.drain(..start);
        }
        loop {
            let deadline = match (inner.next_ping.get(), inner.pong_due.get()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let filled = match deadline {
                None => inner.stream.fill(1).await.map(Some),
                Some(at) => {
                    let wait = at.saturating_duration_since(Instant::now());
                    reactor::timeout(wait, inner.stream.fill(1))
                        .await
                        .map_or(Ok(None), |r| r.map(Some))
                }
            };
            match filled {
                Ok(Some(_)) => break,
                Ok(None) => {
                    if !self.ping_due().await {
                        return false;
                    }
                }
                Err(_) => return false,
            }
        }
        let data = inner.stream.buffered();
        let n = data.len();
        inner.read.borrow_mut().buf.extend_from_slice(&data);
        drop(data);
        inner.stream.consume(n);
        true
    }

    /// A ping deadline passed: fails the connection if a pong is overdue, else sends the
    /// next ping. False when the connection is over.
    async fn ping_due(&self) -> bool {
        let inner = &*self.inner;
        let now = Instant::now();
        if inner.pong_due.get().is_some_and(|due| due <= now) {
            self.fail(GOING_AWAY, "ping timed out").await;
            return false;
        }
        if inner.next_ping.get().is_some_and(|at| at <= now) {
            inner.next_ping.set(inner.ping_interval.map(|i| now + i));
            if inner.pong_due.get().is_none() {
                inner.pong_due.set(inner.ping_timeout.map(|t| now + t));
            }
            if self
                .queue(|w, out| {
                    let _ = w.write_ping(out, b"");
                })
                .is_err()
            {
                return false;
            }
            let _ = inner.stream.flush().await;
        }
        true
    }

    /// Sends a text (`binary == false`; `message` must then be UTF-8) or binary message;
    /// resolves when it has been handed to the kernel. While more than
    /// `max_write_buffer_size` bytes are queued (a server that does not read), it waits first.
    pub async fn write_message(
        &self,
        message: impl AsRef<[u8]>,
        binary: bool,
    ) -> Result<(), WebSocketClientError> {
        let message = message.as_ref();
        if !binary && std::str::from_utf8(message).is_err() {
            return Err(WebSocketClientError::InvalidMessage(
                "a text message must be UTF-8",
            ));
        }
        let inner = &*self.inner;
        while inner.stream.pending_write_bytes() > inner.max_write_buffer_size {
            inner
                .stream
                .flush()
                .await
                .map_err(|_| WebSocketClientError::Closed)?;
        }
        self.queue(|w, out| w.write_message(out, binary, message))?;
        inner
            .stream
            .flush()
            .await
            .map_err(|_| WebSocketClientError::Closed)
    }

    /// Sends a ping with `data` (at most 125 bytes); the pong is consumed by
    /// [`read_message`](Self::read_message).
    pub async fn ping(&self, data: &[u8]) -> Result<(), WebSocketClientError> {
        let mut too_long = false;
        self.queue(|w, out| too_long = w.write_ping(out, data).is_err())?;
        if too_long {
            return Err(WebSocketClientError::InvalidMessage(
                "a ping payload is at most 125 bytes",
            ));
        }
        self.inner
            .stream
            .flush()
            .await
            .map_err(|_| WebSocketClientError::Closed)
    }

    /// Closes the connection: sends a close frame with `code` and `reason` (none for `None`),
    /// waits up to `close_timeout` for the server's close frame (data messages that arrive
    /// meanwhile are dropped), then closes the fd. Closing twice does nothing.
    pub async fn close(&self, code: Option<u16>, reason: &str) {
        let inner = &*self.inner;
        if inner.finished.is_set() {
            return;
        }
        if !inner.close_sent.get() {
            self.send_close(code, reason).await;
        }
        let wait_for_peer = async {
            if inner.reading.get() {
                // Another task is reading: it sees the server's close and finishes.
                inner.finished.wait().await;
            } else {
                while self.read_message().await.is_some() {}
            }
        };
        let _ = reactor::timeout(inner.close_timeout, wait_for_peer).await;
        self.finish();
    }

    /// Appends a frame to the stream's write queue (no syscall).
    fn queue(
        &self,
        write: impl FnOnce(&mut MessageWriter<RandomMasks>, &mut Vec<u8>),
    ) -> Result<(), WebSocketClientError> {
        let inner = &*self.inner;
        if inner.close_sent.get() || inner.stream.closed() {
            return Err(WebSocketClientError::Closed);
        }
        write(
            &mut inner.writer.borrow_mut(),
            &mut inner.stream.write_buffer(),
        );
        Ok(())
    }

    /// Queues and flushes a close frame (once).
    async fn send_close(&self, code: Option<u16>, reason: &str) {
        if self
            .queue(|w, out| w.write_close(out, code, reason))
            .is_ok()
        {
            self.inner.close_sent.set(true);
            let _ = self.inner.stream.flush().await;
        }
        self.inner.close_sent.set(true);
    }

    /// Fails the connection (RFC 6455 §7.1.7): a close frame with `code`, then the fd closed.
    async fn fail(&self, code: u16, reason: &str) {
        self.record_close(code, reason.to_owned());
        if !self.inner.close_sent.get() {
            self.send_close(Some(code), reason).await;
        }
        self.finish();
    }

    fn record_close(&self, code: u16, reason: String) {
        if self.inner.close_code.get().is_none() {
            self.inner.close_code.set(Some(code));
            *self.inner.close_reason.borrow_mut() = Some(reason);
        }
    }

    /// The connection is over: closes the fd and wakes a waiting `close`.
    fn finish(&self) {
        self.inner.stream.close();
        self.inner.finished.set();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_keys_are_fresh_across_refills() {
        let mut masks = RandomMasks::new();
        let keys: Vec<[u8; 4]> = (0..200).map(|_| masks.next_key().unwrap()).collect();
        let distinct: std::collections::HashSet<_> = keys.iter().collect();
        // 200 keys from 4 refills of the pool; a repeat among 2^32 values is a 1-in-10^5 event,
        // a few would mean a broken source.
        assert!(distinct.len() >= 198, "{} distinct keys", distinct.len());
    }

    #[test]
    fn ws_urls_use_the_http_url_rules() {
        let url = parse_ws_url("WS://Example.com:8080/chat?room=1#top").unwrap();
        assert_eq!(
            (url.host(), url.port(), url.target()),
            ("example.com", 8080, "/chat?room=1")
        );
        let url = parse_ws_url("ws://[::1]/").unwrap();
        assert_eq!((url.host(), url.port()), ("[::1]", 80));
        let url = parse_ws_url("wss://example.com/chat").unwrap();
        assert_eq!(
            (url.scheme(), url.host(), url.port(), url.target()),
            ("https", "example.com", 443, "/chat")
        );
        assert!(matches!(
            parse_ws_url("ftp://example.com/"),
            Err(WebSocketClientError::UnsupportedScheme { .. })
        ));
        match parse_ws_url("ws://host:99999/") {
            Err(WebSocketClientError::Connect(ClientError::InvalidUrl { url, reason })) => {
                assert_eq!((url.as_str(), reason), ("ws://host:99999/", "invalid port"))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_ws_url("example.com/"),
            Err(WebSocketClientError::Connect(
                ClientError::InvalidUrl { .. }
            ))
        ));
    }

    #[test]
    fn the_request_head_carries_the_offers_and_refuses_bad_fields() {
        let url = parse_ws_url("ws://h:81/p").unwrap();
        let options = WebSocketConnectOptions::default()
            .subprotocols(["a", "b"])
            .compression(Some(DeflateOptions {
                client_no_context_takeover: true,
                ..DeflateOptions::default()
            }))
            .header("Origin", "http://h:81");
        let head = request_head(&url, &options, "KEY").unwrap();
        assert_eq!(
            head,
            "GET /p HTTP/1.1\r\nHost: h:81\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: KEY\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Protocol: a, b\r\n\
             Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; client_max_window_bits\r\n\
             Origin: http://h:81\r\n\r\n"
        );
        let bad = WebSocketConnectOptions::default().subprotocols(["a b"]);
        assert!(request_head(&url, &bad, "KEY").is_err());
        let bad = WebSocketConnectOptions::default().header("Bad Name", "v");
        assert!(request_head(&url, &bad, "KEY").is_err());
    }
}
