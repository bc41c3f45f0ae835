//! The client mode of [`HTTP1Connection`]: [`HTTP1Connection::read_response`] reads one
//! response (Tornado's `HTTP1Connection.read_response` with `is_client`), with the same field
//! rules ([`crate::rules`]) and the same body reader ([`crate::body`]) as the server's
//! [`read_message`](HTTP1Connection::read_message).
//!
//! # Reading a response (RFC 9112 §6.3)
//! 1. Heads are parsed with `httparse` once the buffer holds an end of head (`\n\r\n` or
//!    `\n\n`; each byte searched once), within `max_header_size`; obs-fold, whitespace before
//!    the colon and versions other than 1.0/1.1 are errors.
//! 2. `1xx` heads go to the delegate's `informational` (`100 Continue` releases a held-back
//!    body; at most 32 other ones); `101` is refused. While the delegate waits for `100
//!    Continue` a head is awaited for [`ResponseDelegate::head_wait`] at most.
//! 3. Framing ([`rules::body_framing`](crate::rules::body_framing) for the client role): a
//!    response to HEAD, and `1xx`/`204`/`304`, has no body. Otherwise `Content-Length`
//!    together with `Transfer-Encoding`, `Content-Length` values that are not plain digits or
//!    that differ, `Transfer-Encoding` on HTTP/1.0, `chunked` twice, or a coding we cannot
//!    decode are **errors**, never a guess that a smuggled second response could hide in.
//!    `chunked` → chunked; `Content-Length` → exactly that many bytes (refused at once if over
//!    `max_body_size`); otherwise the body runs to end of file.
//! 4. The response allows reuse of the connection only if it allows keep-alive, its body was
//!    delimited (not close-delimited), and no byte beyond it was received.

use super::error::{ClientError, Phase};
use super::response::ResponseHead;
use crate::body::{BodyError, BodyLimits, BodyReader, BodySink};
use crate::connection::HTTP1Connection;
use crate::headers::HTTPHeaders;
use crate::parse::{header_block, MAX_HEADERS};
use crate::request::Version;
use crate::rules::{
    body_framing, response_has_body, ConnectionTokens, ContentLength, Framing, RequestError, Role,
    TransferCodings,
};
use iostream::IOStream;
use std::future::Future;
use std::time::Duration;

/// The most informational (1xx) heads accepted before the final one (an awaited `100
/// Continue` not counted).
const MAX_INFORMATIONAL: usize = 32;

/// What reads a response in client mode hands its parts to (Tornado's `HTTPMessageDelegate`
/// of a client): the heads, then the body pieces ([`BodySink`]).
pub(crate) trait ResponseDelegate: BodySink {
    /// How long to wait for the next head before [`head_wait_over`](Self::head_wait_over) is
    /// called (`None`: as long as it takes).
    fn head_wait(&self) -> Option<Duration>;

    /// No head came within [`head_wait`](Self::head_wait).
    fn head_wait_over(&mut self) -> impl Future<Output = Result<(), ClientError>>;

    /// An informational (1xx, not 101) head; returns true if it was an awaited `100
    /// Continue` (not counted against the limit of informational heads).
    fn informational(
        &mut self,
        head: &ResponseHead,
    ) -> impl Future<Output = Result<bool, ClientError>>;

    /// The final head and its body framing; returns whether to gunzip the body.
    fn headers_received(&mut self, head: ResponseHead, framing: Framing) -> bool;
}

/// A failed response read.
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

impl HTTP1Connection<'_> {
    /// Reads one response to a request (`head_request`: it was a HEAD) into `delegate`: the
    /// informational heads, the final head, the body; see the module doc. Limits come from the
    /// connection's parameters (`max_header_size`, `max_body_size`, `chunk_size`). Returns
    /// whether the response lets the connection carry another request.
    pub(crate) async fn read_response<D: ResponseDelegate>(
        &mut self,
        head_request: bool,
        delegate: &mut D,
    ) -> Result<bool, ExchangeError> {
        let (stream, params) = (self.stream(), self.params());
        let max_header_size = params.max_header_size;
        let mut received = false;
        let mut informational = 0;
        let (framing, keep_alive, gunzip) = loop {
            let head = read_head(stream, max_header_size, head_request, &mut received);
            let read = match delegate.head_wait() {
                None => head.await,
                Some(wait) => match reactor::timeout(wait, head).await {
                    Ok(read) => read,
                    Err(_) => {
                        delegate
                            .head_wait_over()
                            .await
                            .map_err(|error| ExchangeError {
                                error,
                                nothing_received: true,
                            })?;
                        continue;
                    }
                },
            };
            let (head, framing, keep_alive) = read.map_err(|error| ExchangeError {
                error,
                nothing_received: !received,
            })?;
            match head.code {
                101 => {
                    return Err(ClientError::protocol(
                        "101 Switching Protocols is not supported by this client",
                    )
                    .into())
                }
                100..=199 => {
                    if !delegate.informational(&head).await? {
                        informational += 1;
                        if informational > MAX_INFORMATIONAL {
                            return Err(ClientError::protocol(format!(
                                "more than {MAX_INFORMATIONAL} informational (1xx) responses"
                            ))
                            .into());
                        }
                    }
                }
                _ => {
                    let gunzip = delegate.headers_received(head, framing);
                    break (framing, keep_alive, gunzip);
                }
            }
        };
        let limits = BodyLimits {
            max_body_size: params.max_body_size,
            max_trailer_size: max_header_size,
            piece_size: params.chunk_size,
            deadline: None,
        };
        let mut reader = BodyReader::new(stream, Role::Client, limits, gunzip);
        reader
            .read(framing, delegate)
            .await
            .map_err(|e| body_error(e, params.max_body_size))?;
        // Bytes beyond the response: the exchange is out of step; don't reuse.
        Ok(keep_alive && framing != Framing::UntilClose && stream.buffered().is_empty())
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

/// Reads one response head from `stream` (at most `max_header_size` bytes) with the rules
/// `HTTP1Connection::read_response` uses, and leaves every byte after it buffered in the
/// stream. For a client that leaves HTTP after the head: the WebSocket opening handshake's
/// `101 Switching Protocols`, after which the stream carries frames. A `1xx` head is returned
/// like any other; no body is read.
///
/// ```
/// use http1::client::read_response_head;
/// use iostream::IOStream;
/// use std::io::Write;
///
/// let (a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
/// b.write_all(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00").unwrap();
/// reactor::Reactor::new().unwrap().block_on(async {
///     let stream = IOStream::from_unix(a).unwrap();
///     let head = read_response_head(&stream, 64 * 1024).await.unwrap();
///     assert_eq!((head.code, head.headers.get("upgrade")), (101, Some("websocket")));
///     assert_eq!(&*stream.buffered(), b"\x81\x00"); // the first frame, kept
/// });
/// ```
pub async fn read_response_head(
    stream: &IOStream,
    max_header_size: usize,
) -> Result<ResponseHead, ClientError> {
    let mut received = false;
    let (head, _, _) = read_head(stream, max_header_size, false, &mut received).await?;
    Ok(head)
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
    let block = header_block(buf, fields, buf.len());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::HTTP1ConnectionParameters;
    use std::io::Write;
    use std::os::unix::net::UnixStream;

    /// Records what `read_response` hands it.
    #[derive(Default)]
    struct Recorder {
        wait: Option<Duration>,
        waits_over: usize,
        /// Codes of the informational heads seen; a 100 is "awaited" while `wait` is set.
        informational: Vec<u16>,
        head: Option<(u16, Framing)>,
        gunzip: bool,
        body: Vec<u8>,
    }

    impl BodySink for Recorder {
        async fn data_received(&mut self, piece: &[u8]) {
            self.body.extend_from_slice(piece);
        }
    }

    impl ResponseDelegate for Recorder {
        fn head_wait(&self) -> Option<Duration> {
            self.wait
        }
        async fn head_wait_over(&mut self) -> Result<(), ClientError> {
            self.waits_over += 1;
            self.wait = None;
            Ok(())
        }
        async fn informational(&mut self, head: &ResponseHead) -> Result<bool, ClientError> {
            self.informational.push(head.code);
            let awaited = head.code == 100 && self.wait.is_some();
            if awaited {
                self.wait = None;
            }
            Ok(awaited)
        }
        fn headers_received(&mut self, head: ResponseHead, framing: Framing) -> bool {
            self.head = Some((head.code, framing));
            self.gunzip
        }
    }

    /// `read_response` over a socket the peer wrote `wire` to (and then closed, unless
    /// `keep_open`), with the delegate `d`.
    fn read_response_of(
        wire: &[u8],
        keep_open: bool,
        head_request: bool,
        mut d: Recorder,
    ) -> (Result<bool, ClientError>, Recorder) {
        reactor::Reactor::new().unwrap().block_on(async {
            let (ours, mut theirs) = UnixStream::pair().unwrap();
            theirs.write_all(wire).unwrap();
            let peer = keep_open.then_some(theirs);
            let stream = IOStream::from_unix(ours).unwrap();
            let params = HTTP1ConnectionParameters {
                max_body_size: 64,
                ..HTTP1ConnectionParameters::default()
            };
            let mut conn = HTTP1Connection::new(&stream, &params);
            let r = conn.read_response(head_request, &mut d).await;
            drop(peer);
            (r.map_err(|e| e.error), d)
        })
    }

    #[test]
    fn read_response_reads_head_and_body_and_says_if_the_connection_is_reusable() {
        let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        let (r, d) = read_response_of(ok, true, false, Recorder::default());
        assert!(r.unwrap());
        assert_eq!(
            (d.head, &d.body[..]),
            (Some((200, Framing::Length(5))), &b"hello"[..])
        );
        // A byte beyond the response: out of step, not reusable.
        let extra = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab";
        assert!(!read_response_of(extra, true, false, Recorder::default())
            .0
            .unwrap());
        // Close-delimited: read to the end of file, not reusable.
        let to_close = b"HTTP/1.1 200 OK\r\n\r\nall of it";
        let (r, d) = read_response_of(to_close, false, false, Recorder::default());
        assert_eq!((r.unwrap(), &d.body[..]), (false, &b"all of it"[..]));
        // The peer asks to close.
        let close = b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
        assert!(!read_response_of(close, true, false, Recorder::default())
            .0
            .unwrap());
        // A response to HEAD has no body, whatever its length says.
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
        let (r, d) = read_response_of(head, true, true, Recorder::default());
        assert_eq!((r.unwrap(), d.head), (true, Some((200, Framing::None))));
    }

    #[test]
    fn read_response_refuses_bad_framing_and_oversized_bodies() {
        let both = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n";
        let bad_chunk = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n";
        for wire in [&both[..], bad_chunk] {
            let (r, _) = read_response_of(wire, true, false, Recorder::default());
            assert!(matches!(r, Err(ClientError::Protocol(_))), "{r:?}");
        }
        let big = b"HTTP/1.1 200 OK\r\nContent-Length: 65\r\n\r\n";
        let (r, _) = read_response_of(big, true, false, Recorder::default());
        assert!(
            matches!(r, Err(ClientError::BodyTooLarge { limit: 64 })),
            "{r:?}"
        );
        let short = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab";
        let (r, _) = read_response_of(short, false, false, Recorder::default());
        assert!(
            matches!(r, Err(ClientError::ConnectionClosed { .. })),
            "{r:?}"
        );
    }

    #[test]
    fn informational_heads_go_to_the_delegate_within_a_limit() {
        let mut wire = b"HTTP/1.1 100 Continue\r\n\r\n".to_vec();
        for _ in 0..MAX_INFORMATIONAL {
            wire.extend_from_slice(b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n");
        }
        wire.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        // The awaited 100 is not counted: 32 others are fine.
        let waiting = Recorder {
            wait: Some(Duration::from_secs(60)),
            ..Recorder::default()
        };
        let (r, d) = read_response_of(&wire, true, false, waiting);
        assert!(r.unwrap());
        assert_eq!(d.informational.len(), MAX_INFORMATIONAL + 1);
        assert_eq!(d.head, Some((200, Framing::Length(0))));
        // Not awaited, the 100 counts: one too many.
        let (r, _) = read_response_of(&wire, true, false, Recorder::default());
        assert!(matches!(r, Err(ClientError::Protocol(_))), "{r:?}");
        // 101 is refused.
        let switching = b"HTTP/1.1 101 Switching Protocols\r\n\r\n";
        let (r, d) = read_response_of(switching, true, false, Recorder::default());
        assert!(matches!(r, Err(ClientError::Protocol(_))) && d.head.is_none());
    }

    #[test]
    fn a_head_wait_that_passes_calls_the_delegate_then_reads_on() {
        let waiting = Recorder {
            wait: Some(Duration::from_millis(20)),
            ..Recorder::default()
        };
        let (r, d) = reactor::Reactor::new().unwrap().block_on(async {
            let (ours, mut theirs) = UnixStream::pair().unwrap();
            let stream = IOStream::from_unix(ours).unwrap();
            let params = HTTP1ConnectionParameters::default();
            let mut conn = HTTP1Connection::new(&stream, &params);
            let mut d = waiting;
            let late = async {
                reactor::sleep(Duration::from_millis(100)).await;
                theirs
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                    .unwrap();
            };
            let read = conn.read_response(false, &mut d);
            let (r, ()) = join(read, late).await;
            (r.map_err(|e| e.error), d)
        });
        assert!(r.unwrap());
        assert_eq!(d.waits_over, 1);
        assert_eq!(d.head, Some((200, Framing::Length(0))));
    }

    /// Both futures to completion, polled in turn.
    async fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
        let (mut a, mut b) = (std::pin::pin!(a), std::pin::pin!(b));
        let (mut ra, mut rb) = (None, None);
        std::future::poll_fn(|cx| {
            if ra.is_none() {
                if let std::task::Poll::Ready(v) = a.as_mut().poll(cx) {
                    ra = Some(v);
                }
            }
            if rb.is_none() {
                if let std::task::Poll::Ready(v) = b.as_mut().poll(cx) {
                    rb = Some(v);
                }
            }
            if ra.is_some() && rb.is_some() {
                std::task::Poll::Ready((ra.take().unwrap(), rb.take().unwrap()))
            } else {
                std::task::Poll::Pending
            }
        })
        .await
    }

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
