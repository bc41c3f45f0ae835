//! [`WebSocketClientError`]: why connecting, the opening handshake or a write failed.

use std::fmt;

use http1::client::ClientError;

/// Why [`websocket_connect`](super::websocket_connect) or a write failed.
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
