//! [`WebSocketConnectOptions`]: the settings of `websocket_connect`, built from their
//! defaults with one method per setting.

use std::time::Duration;

use iostream::TlsConnector;

use super::super::{DeflateOptions, DEFAULT_MAX_MESSAGE_SIZE};

/// The settings of [`websocket_connect`](super::websocket_connect) (Tornado's `websocket_connect` arguments and the
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
    /// How long [`close`](super::WebSocketClientConnection::close) waits for the server's close frame
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
