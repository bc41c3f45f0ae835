//! `HTTP1ConnectionParameters`: Tornado's parameters of the same name, plus the limits and
//! `xheaders` settings that Tornado keeps on `HTTPServer`. One value is shared (behind an `Rc`)
//! by every connection of a server.

use std::borrow::Cow;
use std::net::IpAddr;
use std::time::Duration;

/// Limits, timeouts and switches of an HTTP/1.1 server connection.
///
/// ```
/// use http1::HTTP1ConnectionParameters;
/// use std::time::Duration;
/// let p = HTTP1ConnectionParameters {
///     max_body_size: 1 << 20,
///     idle_connection_timeout: Some(Duration::from_secs(5)),
///     ..Default::default()
/// };
/// assert_eq!(p.max_header_size, 64 * 1024);
/// ```
#[derive(Clone, Debug)]
pub struct HTTP1ConnectionParameters {
    /// Close every connection after one response.
    pub no_keep_alive: bool,
    /// The largest body piece handed to one `data_received` call.
    pub chunk_size: usize,
    /// The largest request head (request line + headers); larger gets `431`.
    pub max_header_size: usize,
    /// The largest request-target; longer gets `414`.
    pub max_target_size: usize,
    /// Time allowed to receive a whole request head: from accept for the first request, from
    /// its first byte for the next ones. `None`: no limit.
    pub header_timeout: Option<Duration>,
    /// Time a keep-alive connection may wait for the first byte of its next request. It is
    /// checked by one timer that lives across requests (no timer work per request), so an idle
    /// connection is closed after between one and two times this.
    pub idle_connection_timeout: Option<Duration>,
    /// The largest request body (after decompression); larger gets `413`. A delegate may change
    /// it per request with `HTTP1Connection::set_max_body_size`.
    pub max_body_size: u64,
    /// Time allowed for the entire request body, from the end of its head (Tornado's
    /// `body_timeout`); past it the connection is closed. `None`: no limit.
    pub body_timeout: Option<Duration>,
    /// Decompress `Content-Encoding: gzip` request bodies before `data_received`.
    pub decompress: bool,
    /// Unsent response bytes past which the connection stops reading requests and flushes
    /// (the bound on the output of pipelined requests).
    pub max_write_buffer: usize,
    /// How long a lingering close may drain input after shutting down the write side.
    pub linger_timeout: Duration,
    /// The most bytes a lingering close drains before giving up.
    pub linger_max_bytes: usize,
    /// Value of the `Server` response header (`None`: no such header unless the delegate sets it).
    pub server_header: Option<Cow<'static, str>>,
    /// Trust `X-Real-IP`, `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Scheme` (set this behind
    /// a reverse proxy only).
    pub xheaders: bool,
    /// Proxies whose addresses are skipped from the end of `X-Forwarded-For`.
    pub trusted_downstream: Vec<IpAddr>,
    /// The protocol reported when `xheaders` says nothing: `"http"` or `"https"`.
    pub protocol: &'static str,
}

impl Default for HTTP1ConnectionParameters {
    fn default() -> Self {
        HTTP1ConnectionParameters {
            no_keep_alive: false,
            chunk_size: 64 * 1024,
            max_header_size: 64 * 1024,
            max_target_size: 8 * 1024,
            header_timeout: Some(Duration::from_secs(30)),
            idle_connection_timeout: Some(Duration::from_secs(60)),
            max_body_size: 100 * 1024 * 1024,
            body_timeout: Some(Duration::from_secs(60)),
            decompress: false,
            max_write_buffer: 64 * 1024,
            linger_timeout: Duration::from_secs(2),
            linger_max_bytes: 1024 * 1024,
            server_header: None,
            xheaders: false,
            trusted_downstream: Vec::new(),
            protocol: "http",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let p = HTTP1ConnectionParameters::default();
        assert!(!p.no_keep_alive && !p.decompress && !p.xheaders);
        assert_eq!(p.max_header_size, 65536);
        assert_eq!(p.chunk_size, 65536);
        assert_eq!(p.max_body_size, 100 << 20);
        assert_eq!(p.protocol, "http");
        assert!(p.header_timeout.is_some() && p.idle_connection_timeout.is_some());
    }
}
