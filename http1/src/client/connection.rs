//! The client side of HTTP/1.1 over an [`IOStream`]: write one request with proper framing,
//! read one response (Tornado's `HTTP1Connection.write_headers` + `read_response` in client
//! mode).
//!
//! # Sharing with the server
//! The server's [`HTTP1Connection`](crate::HTTP1Connection) is a per-request writer driven by
//! the server loop; it is being optimised for the server path, so the client does not drive it
//! in "client mode" as Tornado does. It shares the codecs instead, which is where the
//! correctness lives: [`ChunkedDecoder`] (the same strictness on chunk lines: empty, signed,
//! overflowing or bare-LF sizes are errors), [`GzipDecoder`] (bounded by `max_body_size`),
//! [`HTTPHeaders`] (the response headers are the same raw-lines view, copied once),
//! [`parse_content_length`] and `httparse` for the head.
//!
//! # Reading a response (RFC 9112 §6.3)
//! 1. Heads are parsed with `httparse` once the buffer holds an end of head (`\n\r\n` or
//!    `\n\n`; each byte searched once), within `max_header_size`; obs-fold, whitespace before
//!    the colon and versions other than 1.0/1.1 are errors.
//! 2. `1xx` heads are skipped (`100 Continue` releases a held-back body; at most 32 of them);
//!    `101` is refused.
//! 3. Framing: a response to HEAD, and `204`/`304`, has no body. Otherwise `Content-Length`
//!    together with `Transfer-Encoding`, `Content-Length` values that are not plain digits or
//!    that differ, `Transfer-Encoding` on HTTP/1.0, `chunked` twice, or a coding we cannot
//!    decode before `chunked` are **errors** — never a guess that a smuggled second response
//!    could hide in. `chunked` → chunked; `Content-Length` → exactly that many bytes (refused
//!    at once if over `max_body_size`); otherwise the body runs to end of file.
//! 4. The connection may be reused only if both sides allow keep-alive, the body was
//!    delimited (not close-delimited), the whole response was read, and no byte beyond it was
//!    received.

use super::error::{ClientError, Phase};
use super::request::{Body, BodyProducer, BodyWriter, HTTPRequest, Url};
use super::response::ResponseHead;
use crate::body::{BodyError, BodyLimits, BodyReader, BodySink};
use crate::headers::HTTPHeaders;
use crate::parse::MAX_HEADERS;
use crate::request::Version;
use crate::rules::{
    body_framing, is_field_value, is_token, response_has_body, ConnectionTokens, ContentLength,
    Framing, RequestError, Role, TransferCodings,
};
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

/// The most informational (1xx) heads accepted before the final one.
const MAX_INFORMATIONAL: usize = 32;

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

/// A failed exchange.
pub(crate) struct ExchangeError {
    pub(crate) error: ClientError,
    /// No response byte had arrived (a stale pooled connection looks like this).
    pub(crate) nothing_received: bool,
}

impl From<ClientError> for ExchangeError {
    fn from(error: ClientError) -> Self {
        ExchangeError {
            error,
            nothing_received: false,
        }
    }
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
        let (head, plan, mut keep_alive) = request_head(req, url)?;
        let is_head = req.method.eq_ignore_ascii_case("HEAD");
        let nothing = |error| ExchangeError {
            error,
            nothing_received: true,
        };

        phase.set(Phase::Sending);
        let mut expecting = req.expect_100_continue && !matches!(plan, BodyPlan::None);
        let sent = if expecting {
            self.stream.write(&head).await.map_err(|e| e.into())
        } else {
            self.send(head, &plan).await
        };
        sent.map_err(|e: SendError| nothing(e.into_client()))?;

        // The final head, after 1xx heads.
        phase.set(Phase::AwaitingResponse);
        let mut received = false;
        let mut informational = 0;
        let (rhead, framing) = loop {
            let read = if expecting {
                match reactor::timeout(
                    EXPECT_CONTINUE_WAIT,
                    read_head(&self.stream, req.max_header_size, is_head, &mut received),
                )
                .await
                {
                    Ok(r) => r,
                    Err(_) => {
                        // No 100 Continue: send the body anyway.
                        expecting = false;
                        phase.set(Phase::Sending);
                        self.send_body(&plan)
                            .await
                            .map_err(|e| nothing(e.into_client()))?;
                        phase.set(Phase::AwaitingResponse);
                        continue;
                    }
                }
            } else {
                read_head(&self.stream, req.max_header_size, is_head, &mut received).await
            };
            let (rhead, framing, head_keep_alive) = read.map_err(|error| ExchangeError {
                error,
                nothing_received: !received,
            })?;
            match rhead.code {
                100 if expecting => {
                    expecting = false;
                    phase.set(Phase::Sending);
                    self.send_body(&plan).await.map_err(|e| e.into_client())?;
                    phase.set(Phase::AwaitingResponse);
                }
                101 => {
                    return Err(ClientError::protocol(
                        "101 Switching Protocols is not supported by this client",
                    )
                    .into())
                }
                100..=199 => {
                    informational += 1;
                    if informational > MAX_INFORMATIONAL {
                        return Err(ClientError::protocol(format!(
                            "more than {MAX_INFORMATIONAL} informational (1xx) responses"
                        ))
                        .into());
                    }
                }
                _ => {
                    keep_alive &= head_keep_alive;
                    break (rhead, framing);
                }
            }
        };
        let head_at = Instant::now();
        if expecting {
            // A final answer before 100 Continue: the body was never sent; the server may or
            // may not still wait for it. Don't reuse the connection.
            keep_alive = false;
        }
        if framing == Framing::UntilClose {
            keep_alive = false;
        }

        let location = match rhead.code {
            301 | 302 | 303 | 307 | 308 if follow_allowed => {
                rhead.headers.get("Location").map(str::to_owned)
            }
            _ => None,
        };
        let mut rhead = rhead;
        let gunzip = req.decompress_response
            && location.is_none()
            && framing != Framing::None
            && rhead
                .headers
                .get("Content-Encoding")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("gzip"));
        if gunzip {
            let ce = rhead
                .headers
                .get("Content-Encoding")
                .unwrap_or("gzip")
                .to_owned();
            rhead.headers.remove("Content-Encoding");
            rhead.headers.add("X-Consumed-Content-Encoding", ce);
        }
        if location.is_none() {
            if let Some(cb) = req.header_callback.as_mut() {
                cb(&rhead);
            }
        }

        phase.set(Phase::ReadingBody);
        let mut sink = Collector {
            body: Vec::new(),
            callback: if location.is_none() {
                req.streaming_callback.as_mut()
            } else {
                None
            },
            discard: location.is_some(),
        };
        let limits = BodyLimits {
            max_body_size: req.max_body_size,
            max_trailer_size: req.max_header_size,
            piece_size: BODY_PIECE,
            deadline: None,
        };
        BodyReader::new(&self.stream, Role::Client, limits, gunzip)
            .read(framing, &mut sink)
            .await
            .map_err(|e| body_error(e, req.max_body_size))?;
        // Bytes beyond the response: the exchange is out of step; don't reuse.
        if !self.stream.buffered().is_empty() {
            keep_alive = false;
        }
        Ok(Exchange {
            head: rhead,
            body: sink.body,
            keep_alive,
            location,
            head_at,
        })
    }

    /// Writes the head and the body (a small body in the same write).
    async fn send(&self, mut head: Vec<u8>, plan: &BodyPlan) -> Result<(), SendError> {
        match plan {
            BodyPlan::Bytes(b) if b.len() <= SMALL_BODY => {
                head.extend_from_slice(b);
                self.stream.write(&head).await?;
                Ok(())
            }
            _ => {
                self.stream.write(&head).await?;
                self.send_body(plan).await
            }
        }
    }

    /// Writes the body after the head.
    async fn send_body(&self, plan: &BodyPlan) -> Result<(), SendError> {
        match plan {
            BodyPlan::None => Ok(()),
            BodyPlan::Bytes(b) => Ok(self.stream.write(b).await?),
            BodyPlan::Producer {
                producer,
                chunked,
                declared,
            } => {
                let written = Rc::new(Cell::new(0));
                let writer = BodyWriter {
                    stream: self.stream.clone(),
                    chunked: *chunked,
                    declared: *declared,
                    written: written.clone(),
                };
                producer(writer).await.map_err(SendError::Client)?;
                if *chunked {
                    self.stream.write(b"0\r\n\r\n").await?;
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

/// Reads one response head (a 1xx included); returns it, the body framing and whether the
/// response allows keep-alive.
async fn read_head(
    stream: &IOStream,
    max_header_size: usize,
    is_head_request: bool,
    received: &mut bool,
) -> Result<(ResponseHead, Framing, bool), ClientError> {
    let mut searched = 0;
    loop {
        {
            let buf = stream.buffered();
            if !buf.is_empty() {
                *received = true;
            }
            match find_head_end(&buf, &mut searched) {
                Some(end) => {
                    if end > max_header_size {
                        return Err(ClientError::HeadTooLarge {
                            limit: max_header_size,
                        });
                    }
                    let (head, framing, keep_alive) = parse_response_head(&buf[..end])?;
                    drop(buf);
                    stream.consume(end);
                    let framing = if response_has_body(is_head_request, head.code) {
                        framing
                    } else {
                        Framing::None
                    };
                    return Ok((head, framing, keep_alive));
                }
                None if buf.len() > max_header_size => {
                    return Err(ClientError::HeadTooLarge {
                        limit: max_header_size,
                    })
                }
                None => {}
            }
        }
        let have = stream.buffered().len();
        stream
            .fill(have + 1)
            .await
            .map_err(|e| ClientError::from_stream(e, Phase::AwaitingResponse))?;
    }
}

/// The length of the head if `buf` holds its end (`\n\r\n` or `\n\n`). `searched` remembers
/// how far earlier calls looked, so each byte is looked at a bounded number of times.
fn find_head_end(buf: &[u8], searched: &mut usize) -> Option<usize> {
    let mut from = *searched;
    while let Some(i) = memchr::memchr(b'\n', &buf[from..]).map(|i| from + i) {
        match &buf[i + 1..] {
            [b'\n', ..] | [b'\r', b'\n', ..] => {
                return Some(i + if buf[i + 1] == b'\n' { 2 } else { 3 });
            }
            [] | [b'\r'] => {
                *searched = i;
                return None;
            }
            _ => from = i + 1,
        }
    }
    *searched = buf.len();
    None
}

/// Parses a complete response head (`buf` ends with its empty line).
pub(crate) fn parse_response_head(
    buf: &[u8],
) -> Result<(ResponseHead, Framing, bool), ClientError> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut fields);
    match resp.parse(buf) {
        Ok(httparse::Status::Complete(len)) if len == buf.len() => {}
        Ok(_) => return Err(ClientError::protocol("malformed response head")),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(ClientError::protocol(format!(
                "more than {MAX_HEADERS} header fields"
            )))
        }
        Err(e) => {
            return Err(ClientError::protocol(format!(
                "malformed response head: {e}"
            )))
        }
    }
    let version = match resp.version {
        Some(0) => Version::Http10,
        _ => Version::Http11,
    };
    let code = resp.code.unwrap_or(0);
    if !(100..=999).contains(&code) {
        return Err(ClientError::protocol(format!("invalid status code {code}")));
    }
    let reason = resp.reason.unwrap_or("").to_owned();
    let fields: &[httparse::Header<'_>] = resp.headers;

    let mut content_length = ContentLength::default();
    let mut te = TransferCodings::default();
    let mut connection = ConnectionTokens::default();
    let protocol = |e: RequestError| ClientError::protocol(e.detail);
    for f in fields {
        if f.name.eq_ignore_ascii_case("content-length") {
            content_length.add(f.value).map_err(protocol)?;
        } else if f.name.eq_ignore_ascii_case("transfer-encoding") {
            te.add(f.value).map_err(protocol)?;
        } else if f.name.eq_ignore_ascii_case("connection") {
            connection.add(f.value);
        }
    }
    let http10 = version == Version::Http10;
    let framing = body_framing(Role::Client, http10, content_length, te).map_err(protocol)?;
    let keep_alive = connection.persistent(http10);
    let block = header_block(buf, fields);
    let headers = HTTPHeaders::from_raw(block, fields.len()).into_owned();
    Ok((
        ResponseHead {
            version,
            code,
            reason,
            headers,
        },
        framing,
        keep_alive,
    ))
}

/// The header lines of a complete head: from the first field to the end of the last one's
/// line (the final empty line excluded).
fn header_block<'b>(buf: &'b [u8], fields: &[httparse::Header<'b>]) -> &'b [u8] {
    let Some(first) = fields.first() else {
        return b"";
    };
    let start = first.name.as_ptr() as usize - buf.as_ptr() as usize;
    let end = buf
        .strip_suffix(b"\r\n")
        .or_else(|| buf.strip_suffix(b"\n"))
        .map_or(buf.len(), <[u8]>::len);
    &buf[start.min(end)..end]
}

/// Where the client's body pieces go: the streaming callback or the collected body (a
/// redirect's body is read, to keep the connection usable, and dropped).
struct Collector<'c> {
    body: Vec<u8>,
    callback: Option<&'c mut super::request::StreamingCallback>,
    discard: bool,
}

impl BodySink for Collector<'_> {
    async fn data_received(&mut self, piece: &[u8]) {
        if self.discard {
            return;
        }
        match &mut self.callback {
            Some(cb) => cb(piece),
            None => self.body.extend_from_slice(piece),
        }
    }
}

/// A body error as the client reports it: the size limit, a protocol error, or the stream.
fn body_error(e: BodyError, max_body_size: u64) -> ClientError {
    match e {
        BodyError::Invalid(e) if e.status == 413 => ClientError::BodyTooLarge {
            limit: max_body_size,
        },
        BodyError::Invalid(e) if e.status == 431 => {
            ClientError::protocol("chunked trailer section too large")
        }
        BodyError::Invalid(e) => ClientError::protocol(e.detail),
        BodyError::Gone(e) => ClientError::from_stream(e, Phase::ReadingBody),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framing(head: &str) -> Result<Framing, ClientError> {
        parse_response_head(head.as_bytes()).map(|(_, f, _)| f)
    }

    #[test]
    fn head_end_is_found_once() {
        let mut s = 0;
        assert_eq!(find_head_end(b"HTTP/1.1 200 OK\r\nA: b\r\n", &mut s), None);
        assert_eq!(s, 22);
        assert_eq!(
            find_head_end(b"HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody", &mut s),
            Some(25)
        );
        let mut s = 0;
        assert_eq!(
            find_head_end(b"HTTP/1.0 200 OK\nA: b\n\nbody", &mut s),
            Some(22)
        );
    }

    #[test]
    fn framing_rules() {
        assert_eq!(
            framing("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n").unwrap(),
            Framing::Length(5)
        );
        assert_eq!(
            framing("HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n").unwrap(),
            Framing::Length(5)
        );
        assert_eq!(
            framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap(),
            Framing::Chunked
        );
        assert_eq!(
            framing("HTTP/1.0 200 OK\r\n\r\n").unwrap(),
            Framing::UntilClose
        );
        for bad in [
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
            "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX : a\r\n\r\n",
            "HTTP/2.0 200 OK\r\n\r\n",
            "HTTP/1.1 20 OK\r\n\r\n",
            "ICY 200 OK\r\n\r\n",
        ] {
            assert!(
                matches!(framing(bad), Err(ClientError::Protocol(_))),
                "{bad:?}: {:?}",
                framing(bad)
            );
        }
    }

    #[test]
    fn keep_alive_rules() {
        let ka = |h: &str| parse_response_head(h.as_bytes()).unwrap().2;
        assert!(ka("HTTP/1.1 200 OK\r\n\r\n"));
        assert!(!ka("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"));
        assert!(!ka("HTTP/1.0 200 OK\r\n\r\n"));
        assert!(ka("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n"));
    }
}
