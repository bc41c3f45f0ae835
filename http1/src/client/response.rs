//! [`HTTPResponse`] (Tornado's `httpclient.HTTPResponse`) and [`ResponseHead`], the parsed
//! status line and header fields handed to a header callback.

use crate::headers::HTTPHeaders;
use crate::request::Version;
use std::borrow::Cow;
use std::time::Duration;

/// A response's status line and header fields.
#[derive(Clone, Debug)]
pub struct ResponseHead {
    /// The protocol version of the response.
    pub version: Version,
    /// The status code.
    pub code: u16,
    /// The reason phrase as sent (may be empty).
    pub reason: String,
    /// The header fields, in order (values kept byte for byte).
    pub headers: HTTPHeaders<'static>,
}

/// How long each part of a fetch took.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timing {
    /// Waiting for a free slot (`max_clients`) — summed over redirects.
    pub queue: Duration,
    /// Resolving and connecting, for the last request (`None` if a pooled connection was
    /// reused).
    pub connect: Option<Duration>,
    /// From the start of the fetch until the final response head was read.
    pub headers: Duration,
    /// From the start of the fetch until the body was read.
    pub total: Duration,
}

/// A complete response.
///
/// ```no_run
/// let r = http1::client::fetch_blocking("http://localhost:8888/").unwrap();
/// println!("{} {} ({} bytes via {})", r.code, r.reason, r.body.len(), r.effective_url);
/// ```
#[derive(Clone, Debug)]
pub struct HTTPResponse {
    /// The status code.
    pub code: u16,
    /// The reason phrase as sent.
    pub reason: String,
    /// The protocol version of the response.
    pub version: Version,
    /// The header fields (`Content-Encoding: gzip` is renamed `X-Consumed-Content-Encoding`
    /// when the body was decompressed).
    pub headers: HTTPHeaders<'static>,
    /// The body (decompressed when `decompress_response`); empty with a streaming callback.
    pub body: Vec<u8>,
    /// The URL that was requested.
    pub request_url: String,
    /// The URL of this response, after redirects.
    pub effective_url: String,
    /// Redirects followed to get here.
    pub redirects: u32,
    /// Whether the last request went over a connection reused from the pool.
    pub reused_connection: bool,
    /// How long it took.
    pub timing: Timing,
}

impl HTTPResponse {
    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.code)
    }
}
