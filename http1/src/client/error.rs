//! [`ClientError`]: what went wrong with a fetch, precisely enough to act on (Tornado's
//! `HTTPClientError`, `HTTPStreamClosedError`, `HTTPTimeoutError`, rolled into one enum).

use super::response::HTTPResponse;
use iostream::StreamError;
use std::fmt;
use std::io;
use std::time::Duration;

/// Which timeout fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutKind {
    /// `connect_timeout`: resolving the name and opening the TCP connection took too long.
    Connect,
    /// `request_timeout`: the whole fetch (queue wait, connect, request, response) took too long.
    Request,
}

/// Where a fetch was when it stopped (reported with timeouts and closed connections).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for a free slot (`max_clients` requests to this host were in flight).
    Queued,
    /// Resolving the host name and connecting.
    Connecting,
    /// Writing the request head and body.
    Sending,
    /// Waiting for the response head (or for `100 Continue`).
    AwaitingResponse,
    /// Reading the response body.
    ReadingBody,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Queued => "waiting in the request queue",
            Phase::Connecting => "connecting",
            Phase::Sending => "sending the request",
            Phase::AwaitingResponse => "waiting for the response head",
            Phase::ReadingBody => "reading the response body",
        })
    }
}

/// Why [`HTTPClient::fetch`](super::HTTPClient::fetch) failed.
///
/// ```
/// use http1::client::{ClientError, HTTPRequest, fetch_blocking};
/// let err = fetch_blocking(HTTPRequest::new("ftp://example.com/")).unwrap_err();
/// assert!(matches!(err, ClientError::UnsupportedScheme { .. }));
/// assert!(err.to_string().contains("unsupported scheme"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientError {
    /// The URL could not be parsed.
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The URL's scheme is not served by this client (only `http` and `https` are).
    UnsupportedScheme {
        /// The URL as given.
        url: String,
        /// Its scheme.
        scheme: String,
    },
    /// The request itself is invalid (a header with CR/LF, a body on a method that has none,
    /// a Content-Length that doesn't match the body, ...). Nothing was sent.
    InvalidRequest(String),
    /// The host name could not be resolved.
    Dns {
        /// The host name.
        host: String,
        /// The resolver's error.
        source: io::Error,
    },
    /// Every address of the host refused the connection (nothing listens on that port).
    ConnectionRefused {
        /// The host.
        host: String,
        /// The port.
        port: u16,
        /// The OS error (`ECONNREFUSED`).
        source: io::Error,
    },
    /// Connecting failed for another reason (unreachable network, ...).
    Connect {
        /// The host.
        host: String,
        /// The port.
        port: u16,
        /// The last OS error.
        source: io::Error,
    },
    /// The TLS handshake failed: the server's certificate is not trusted (unknown CA,
    /// expired), is not valid for the host name, or the server does not speak TLS. Nothing
    /// was sent.
    Tls {
        /// The host (the name the certificate must carry).
        host: String,
        /// The port.
        port: u16,
        /// rustls's reason ("TLS handshake failed: invalid peer certificate: ...") or
        /// "not TLS: ..." when the server answered something else.
        reason: String,
    },
    /// A timeout fired.
    Timeout {
        /// Which one.
        kind: TimeoutKind,
        /// Its value.
        after: Duration,
        /// What the fetch was doing.
        phase: Phase,
    },
    /// The response broke HTTP/1.1 (malformed head, ambiguous framing such as both
    /// Content-Length and Transfer-Encoding, differing Content-Lengths, a bad chunk size, a
    /// corrupt gzip body, ...). It is never guessed at: the connection is closed.
    Protocol(String),
    /// The response head was larger than `max_header_size`.
    HeadTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The response body was (or announced it would be) larger than `max_body_size`
    /// (after decompression too).
    BodyTooLarge {
        /// The limit.
        limit: u64,
    },
    /// The server closed the connection before the response was complete (Tornado's
    /// `HTTPStreamClosedError`).
    ConnectionClosed {
        /// What the fetch was doing.
        phase: Phase,
        /// The OS error (e.g. a reset), if any.
        source: Option<io::Error>,
    },
    /// Another stream error.
    Stream(StreamError),
    /// More than `max_redirects` redirects (only with `raise_error`; the last redirect
    /// response is here).
    TooManyRedirects {
        /// The limit.
        max: u32,
        /// The last response (a 3xx).
        response: Box<HTTPResponse>,
    },
    /// The response status is not 2xx (only with `raise_error`, the default, as Tornado's
    /// `HTTPClientError`); the whole response is here.
    Http {
        /// The status code.
        code: u16,
        /// The response.
        response: Box<HTTPResponse>,
    },
}

impl ClientError {
    /// The status code for [`ClientError::Http`] and [`ClientError::TooManyRedirects`].
    pub fn code(&self) -> Option<u16> {
        self.response().map(|r| r.code)
    }

    /// The response carried by [`ClientError::Http`] and [`ClientError::TooManyRedirects`].
    pub fn response(&self) -> Option<&HTTPResponse> {
        match self {
            ClientError::Http { response, .. } | ClientError::TooManyRedirects { response, .. } => {
                Some(response)
            }
            _ => None,
        }
    }

    /// Which timeout fired, if this is a timeout.
    pub fn timeout_kind(&self) -> Option<TimeoutKind> {
        match self {
            ClientError::Timeout { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    /// A protocol error with `detail`.
    pub(crate) fn protocol(detail: impl Into<String>) -> ClientError {
        ClientError::Protocol(detail.into())
    }

    /// Maps a stream error met during `phase`.
    pub(crate) fn from_stream(e: StreamError, phase: Phase) -> ClientError {
        match e {
            StreamError::Closed { source } => ClientError::ConnectionClosed { phase, source },
            other => ClientError::Stream(other),
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::InvalidUrl { url, reason } => write!(f, "invalid URL {url:?}: {reason}"),
            ClientError::UnsupportedScheme { url, scheme } => write!(
                f,
                "unsupported scheme {scheme:?} in {url:?} (only http:// and https:// are supported)"
            ),
            ClientError::Tls { host, port, reason } => {
                write!(f, "TLS with {host}:{port} failed: {reason}")
            }
            ClientError::InvalidRequest(d) => write!(f, "invalid request: {d}"),
            ClientError::Dns { host, source } => write!(f, "cannot resolve {host}: {source}"),
            ClientError::ConnectionRefused { host, port, .. } => {
                write!(
                    f,
                    "connection to {host}:{port} refused (nothing listens there)"
                )
            }
            ClientError::Connect { host, port, source } => {
                write!(f, "cannot connect to {host}:{port}: {source}")
            }
            ClientError::Timeout { kind, after, phase } => {
                let which = match kind {
                    TimeoutKind::Connect => "connect timeout",
                    TimeoutKind::Request => "request timeout",
                };
                write!(f, "{which} ({after:?}) while {phase}")
            }
            ClientError::Protocol(d) => write!(f, "HTTP protocol error in the response: {d}"),
            ClientError::HeadTooLarge { limit } => {
                write!(
                    f,
                    "response head larger than max_header_size ({limit} bytes)"
                )
            }
            ClientError::BodyTooLarge { limit } => {
                write!(f, "response body larger than max_body_size ({limit} bytes)")
            }
            ClientError::ConnectionClosed { phase, source } => {
                write!(f, "connection closed by the server while {phase}")?;
                match source {
                    Some(e) => write!(f, ": {e}"),
                    None => Ok(()),
                }
            }
            ClientError::Stream(e) => write!(f, "stream error: {e}"),
            ClientError::TooManyRedirects { max, response } => write!(
                f,
                "more than {max} redirects (last: {} {})",
                response.code, response.effective_url
            ),
            ClientError::Http { code, response } => {
                write!(f, "HTTP {code}: {}", response.reason)
            }
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClientError::Dns { source, .. }
            | ClientError::ConnectionRefused { source, .. }
            | ClientError::Connect { source, .. } => Some(source),
            ClientError::ConnectionClosed {
                source: Some(source),
                ..
            } => Some(source),
            ClientError::Stream(e) => Some(e),
            _ => None,
        }
    }
}
