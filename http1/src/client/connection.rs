//! The client side of HTTP/1.1 over an [`IOStream`]: write one request with proper framing,
//! then read its response on an [`HTTP1Connection`] in client mode
//! ([`HTTP1Connection::read_response`], Tornado's `HTTP1Connection` with `is_client`): the
//! same field rules ([`crate::rules`]) and the same body reader as the server, so a framing
//! rule exists once.
//!
//! # Writing a request
//! The method and header names must be tokens and the values free of control characters
//! ([`crate::rules::is_token`], [`crate::rules::is_field_value`]); `Transfer-Encoding` is
//! ours to set. The body is framed by `Content-Length` (bytes, or a producer with a declared
//! length, which must then write exactly that much) or chunked (a producer); a small body
//! goes out in the same write as the head. With `Expect: 100-continue` the body waits for
//! `100 Continue`, or [`EXPECT_CONTINUE_WAIT`] at most.
//!
//! The connection may be reused only if both sides allow keep-alive, the whole response was
//! read (see [`super::response_reader`]), and no final answer came before an awaited
//! `100 Continue`.

use super::error::{ClientError, Phase};
use super::request::{Body, BodyProducer, BodyWriter, HTTPRequest, Url};
use super::response::ResponseHead;
use super::response_reader::{ExchangeError, ResponseDelegate};
use crate::body::BodySink;
use crate::connection::HTTP1Connection;
use crate::params::HTTP1ConnectionParameters;
use crate::rules::{is_field_value, is_token, ConnectionTokens, ContentLength, Framing};
use iostream::{IOStream, StreamError};
use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// The largest body piece handed to a streaming callback at once (and the gunzip buffer).
const BODY_PIECE: usize = 64 * 1024;

/// Bodies up to this size are sent in the same write as the head.
const SMALL_BODY: usize = 64 * 1024;

/// How long a request with `Expect: 100-continue` waits for `100 Continue` before sending its
/// body anyway (RFC 9110 §10.1.1: the server may not support it).
pub const EXPECT_CONTINUE_WAIT: Duration = Duration::from_secs(1);

/// One TCP connection of the client.
pub(crate) struct ClientConnection {
    stream: IOStream,
    /// Requests sent over it.
    pub(crate) requests: u64,
    /// When it went back to the pool.
    pub(crate) idle_since: Instant,
}

/// The result of one exchange.
pub(crate) struct Exchange {
    pub(crate) head: ResponseHead,
    pub(crate) body: Vec<u8>,
    /// The connection may carry another request.
    pub(crate) keep_alive: bool,
    /// The response is a redirect that will be followed: its `Location`.
    pub(crate) location: Option<String>,
    /// When the final head was read.
    pub(crate) head_at: Instant,
}

/// What goes after the head.
enum BodyPlan {
    None,
    Bytes(Rc<[u8]>),
    Producer {
        producer: BodyProducer,
        chunked: bool,
        declared: Option<u64>,
    },
}

impl ClientConnection {
    pub(crate) fn new(stream: IOStream) -> ClientConnection {
        let _ = stream.set_nodelay(true);
        ClientConnection {
            stream,
            requests: 0,
            idle_since: Instant::now(),
        }
    }

    /// The stream.
    pub(crate) fn stream(&self) -> &IOStream {
        &self.stream
    }

    /// Whether an idle pooled connection can carry a new request: still open, no end of file
    /// or reset pending (one non-blocking read if the reactor saw it readable), and no
    /// unsolicited bytes.
    pub(crate) fn is_alive(&self) -> bool {
        if self.stream.closed() || !self.stream.buffered().is_empty() {
            return false;
        }
        matches!(self.stream.try_fill(), Ok(0))
    }

    /// Sends `req` to `url` and reads the response; see the module doc.
    pub(crate) async fn exchange(
        &mut self,
        req: &mut HTTPRequest,
        url: &Url,
        phase: &Cell<Phase>,
        follow_allowed: bool,
    ) -> Result<Exchange, ExchangeError> {
        self.requests += 1;
        let (head, plan, keep_alive) = request_head(req, url)?;
        let head_request = req.method.eq_ignore_ascii_case("HEAD");

        phase.set(Phase::Sending);
        let expecting = req.expect_100_continue && !matches!(plan, BodyPlan::None);
        let sent = if expecting {
            self.stream.write(&head).await.map_err(|e| e.into())
        } else {
            send(&self.stream, head, &plan).await
        };
        sent.map_err(|e: SendError| ExchangeError {
            error: e.into_client(),
            nothing_received: true,
        })?;

        phase.set(Phase::AwaitingResponse);
        let params = HTTP1ConnectionParameters {
            max_header_size: req.max_header_size,
            max_body_size: req.max_body_size,
            chunk_size: BODY_PIECE,
            ..HTTP1ConnectionParameters::default()
        };
        let mut conn = HTTP1Connection::new(&self.stream, &params);
        let mut delegate = ExchangeDelegate {
            stream: &self.stream,
            plan: &plan,
            phase,
            expecting,
            req,
            follow_allowed,
            head: None,
            location: None,
            body: Vec::new(),
        };
        let response_keep_alive = conn.read_response(head_request, &mut delegate).await?;
        let (rhead, head_at) = delegate
            .head
            .expect("read_response ends after the final head");
        Ok(Exchange {
            head: rhead,
            body: delegate.body,
            // A final answer before 100 Continue: the body was never sent; the server may or
            // may not still wait for it. Don't reuse the connection.
            keep_alive: keep_alive && response_keep_alive && !delegate.expecting,
            location: delegate.location,
            head_at,
        })
    }
}

/// The client's side of one exchange while its response is read: sends a held-back body on
/// `100 Continue` (or when the wait for it is over), decides the gunzip and the redirect,
/// and collects the body.
struct ExchangeDelegate<'a> {
    stream: &'a IOStream,
    plan: &'a BodyPlan,
    phase: &'a Cell<Phase>,
    /// The body waits for `100 Continue`.
    expecting: bool,
    req: &'a mut HTTPRequest,
    follow_allowed: bool,
    /// The final head, and when it was read.
    head: Option<(ResponseHead, Instant)>,
    /// The response is a redirect that will be followed: its `Location`.
    location: Option<String>,
    body: Vec<u8>,
}

impl ExchangeDelegate<'_> {
    /// Sends the held-back body.
    async fn release_body(&mut self) -> Result<(), ClientError> {
        self.expecting = false;
        self.phase.set(Phase::Sending);
        send_body(self.stream, self.plan)
            .await
            .map_err(SendError::into_client)?;
        self.phase.set(Phase::AwaitingResponse);
        Ok(())
    }
}

impl ResponseDelegate for ExchangeDelegate<'_> {
    fn head_wait(&self) -> Option<Duration> {
        self.expecting.then_some(EXPECT_CONTINUE_WAIT)
    }

    async fn head_wait_over(&mut self) -> Result<(), ClientError> {
        // No 100 Continue: send the body anyway.
        self.release_body().await
    }

    async fn informational(&mut self, head: &ResponseHead) -> Result<bool, ClientError> {
        if head.code == 100 && self.expecting {
            self.release_body().await?;
            return Ok(true);
        }
        Ok(false)
    }

    fn headers_received(&mut self, mut head: ResponseHead, framing: Framing) -> bool {
        let head_at = Instant::now();
        self.location = match head.code {
            301 | 302 | 303 | 307 | 308 if self.follow_allowed => {
                head.headers.get("Location").map(str::to_owned)
            }
            _ => None,
        };
        let gunzip = self.req.decompress_response
            && self.location.is_none()
            && framing != Framing::None
            && head
                .headers
                .get("Content-Encoding")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("gzip"));
        if gunzip {
            let ce = head
                .headers
                .get("Content-Encoding")
                .unwrap_or("gzip")
                .to_owned();
            head.headers.remove("Content-Encoding");
            head.headers.add("X-Consumed-Content-Encoding", ce);
        }
        if self.location.is_none() {
            if let Some(cb) = self.req.header_callback.as_mut() {
                cb(&head);
            }
        }
        self.phase.set(Phase::ReadingBody);
        self.head = Some((head, head_at));
        gunzip
    }
}

impl BodySink for ExchangeDelegate<'_> {
    async fn data_received(&mut self, piece: &[u8]) {
        // A redirect's body: read (to keep the connection usable) and dropped.
        if self.location.is_some() {
            return;
        }
        match self.req.streaming_callback.as_mut() {
            Some(cb) => cb(piece),
            None => self.body.extend_from_slice(piece),
        }
    }
}

/// Writes the head and the body (a small body in the same write).
async fn send(stream: &IOStream, mut head: Vec<u8>, plan: &BodyPlan) -> Result<(), SendError> {
    match plan {
        BodyPlan::Bytes(b) if b.len() <= SMALL_BODY => {
            head.extend_from_slice(b);
            stream.write(&head).await?;
            Ok(())
        }
        _ => {
            stream.write(&head).await?;
            send_body(stream, plan).await
        }
    }
}

/// Writes the body after the head.
async fn send_body(stream: &IOStream, plan: &BodyPlan) -> Result<(), SendError> {
    match plan {
        BodyPlan::None => Ok(()),
        BodyPlan::Bytes(b) => Ok(stream.write(b).await?),
        BodyPlan::Producer {
            producer,
            chunked,
            declared,
        } => {
            let written = Rc::new(Cell::new(0));
            let writer = BodyWriter {
                stream: stream.clone(),
                chunked: *chunked,
                declared: *declared,
                written: written.clone(),
            };
            producer(writer).await.map_err(SendError::Client)?;
            if *chunked {
                stream.write(b"0\r\n\r\n").await?;
            } else if let Some(d) = *declared {
                if written.get() != d {
                    return Err(SendError::Client(ClientError::InvalidRequest(format!(
                        "body producer wrote {} bytes, Content-Length is {d}",
                        written.get()
                    ))));
                }
            }
            Ok(())
        }
    }
}

/// Why sending failed.
enum SendError {
    Stream(StreamError),
    Client(ClientError),
}

impl From<StreamError> for SendError {
    fn from(e: StreamError) -> Self {
        SendError::Stream(e)
    }
}

impl SendError {
    fn into_client(self) -> ClientError {
        match self {
            SendError::Stream(e) => ClientError::from_stream(e, Phase::Sending),
            SendError::Client(e) => e,
        }
    }
}

/// Checks `req` for `url` without sending anything (the same checks as the exchange makes).
pub(crate) fn validate_request(req: &HTTPRequest, url: &Url) -> Result<(), ClientError> {
    request_head(req, url).map(|_| ())
}

/// Builds the request head; returns it, the body plan, and whether the request allows
/// keep-alive.
fn request_head(req: &HTTPRequest, url: &Url) -> Result<(Vec<u8>, BodyPlan, bool), ClientError> {
    let invalid = |s: String| ClientError::InvalidRequest(s);
    if !is_token(req.method.as_bytes()) {
        return Err(invalid(format!("invalid method {:?}", req.method)));
    }
    let mut user_cl = ContentLength::default();
    let mut connection = ConnectionTokens::default();
    for (name, value) in req.headers.iter() {
        if !is_token(name.as_bytes()) {
            return Err(invalid(format!("invalid header name {name:?}")));
        }
        if !is_field_value(value) {
            return Err(invalid(format!(
                "header {name} has CR, LF or control characters in its value"
            )));
        }
        if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(invalid(
                "Transfer-Encoding is set by the client (use a body producer for chunked)".into(),
            ));
        }
        if name.eq_ignore_ascii_case("content-length") {
            user_cl.add(value).map_err(|e| invalid(e.detail.into()))?;
        }
        if name.eq_ignore_ascii_case("connection") {
            connection.add(value);
        }
    }
    let keep_alive = !connection.close;
    let user_cl = user_cl.value();
    let body_expected = matches!(
        req.method.to_ascii_uppercase().as_str(),
        "POST" | "PUT" | "PATCH"
    );
    let (plan, framing_header): (BodyPlan, Option<String>) = match &req.body {
        Body::Empty => {
            if user_cl.is_some_and(|n| n != 0) {
                return Err(invalid("Content-Length set but no body".into()));
            }
            let cl = (body_expected && user_cl.is_none()).then(|| "Content-Length: 0".to_owned());
            (BodyPlan::None, cl)
        }
        Body::Bytes(b) => {
            if user_cl.is_some_and(|n| n != b.len() as u64) {
                return Err(invalid(format!(
                    "Content-Length does not match the body ({} bytes)",
                    b.len()
                )));
            }
            let cl = user_cl
                .is_none()
                .then(|| format!("Content-Length: {}", b.len()));
            let plan = if b.is_empty() {
                BodyPlan::None
            } else {
                BodyPlan::Bytes(b.clone())
            };
            (plan, cl)
        }
        Body::Producer(p) => {
            let chunked = user_cl.is_none();
            (
                BodyPlan::Producer {
                    producer: p.clone(),
                    chunked,
                    declared: user_cl,
                },
                chunked.then(|| "Transfer-Encoding: chunked".to_owned()),
            )
        }
    };

    let mut head = Vec::with_capacity(256);
    let line = |head: &mut Vec<u8>, name: &str, value: &[u8]| {
        head.extend_from_slice(name.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value);
        head.extend_from_slice(b"\r\n");
    };
    head.extend_from_slice(req.method.as_bytes());
    head.push(b' ');
    head.extend_from_slice(url.target().as_bytes());
    head.extend_from_slice(b" HTTP/1.1\r\n");
    if !req.headers.contains("Host") {
        line(&mut head, "Host", url.host_header().as_bytes());
    }
    if req.decompress_response && !req.headers.contains("Accept-Encoding") {
        line(&mut head, "Accept-Encoding", b"gzip");
    }
    for (name, value) in req.headers.iter() {
        line(&mut head, name, value);
    }
    if let Some(h) = framing_header {
        head.extend_from_slice(h.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    if req.expect_100_continue && !matches!(plan, BodyPlan::None) && !req.headers.contains("Expect")
    {
        line(&mut head, "Expect", b"100-continue");
    }
    head.extend_from_slice(b"\r\n");
    Ok((head, plan, keep_alive))
}
