//! `HTTP1Connection`: one request on a server connection (Tornado's `HTTP1Connection`):
//! reads the head and body and drives the message delegate, and is what the delegate writes
//! its response to. The client reads responses with it too (`read_response`, in
//! `client/response_reader.rs`).
//!
//! # Reading one message ([`HTTP1Connection::read_message`])
//! 1. Wait until the read buffer holds a complete head (header timeout; the idle timeout for
//!    the first byte of a keep-alive request). Before waiting, the responses of earlier
//!    (pipelined) requests are flushed: one write per batch.
//! 2. Parse it in place ([`crate::parse`]); the head borrows the read buffer (its headers are
//!    a view of the header lines, so no parsed array is kept in this future). A refused head
//!    gets its status and a lingering close.
//! 3. `start_request` → `headers_received(&head, conn)`.
//! 4. The body, framed by Content-Length or chunked, read by the body reader both roles share
//!    (`body.rs`), bounded by `max_body_size` (413 before reading a declared length that is
//!    too large), each piece handed to `data_received` straight from the read buffer
//!    (gunzipped first if `decompress`). `100 Continue` is sent
//!    just before the first body read, if the delegate has not answered already.
//! 5. `finish(conn)`; then keep-alive if the request, the response and the parameters allow.
//!
//! # A client that leaves while `finish` waits
//! If the delegate's `finish` future waits (a long poll, a slow upstream), the connection
//! watches its stream meanwhile ([`IOStream::watch_close`], Tornado's
//! `_maybe_add_error_listener`): bytes that arrive are buffered (up to `max_header_size`, then
//! reading stops; pipelined requests are answered in order afterwards), and a FIN, a reset or
//! an error closes the stream at once: the fd is released, [`HTTP1Connection::closed`]
//! resolves. **The delegate runs on** (as Tornado's coroutine does): its writes fail with
//! `Closed` and send nothing; when its future completes, `on_connection_close` is called on
//! it (it is borrowed by that future until then) and the connection loop ends. A FIN while a
//! response is owed counts as leaving: without writing, a half-close cannot be told from a
//! close (Tornado and nginx by default do the same). The head and the body pieces borrow the
//! read buffer, so `headers_received` and `data_received` are not watched (the body's own
//! reads notice a close there).
//!
//! # Writing ([`write_headers`](HTTP1Connection::write_headers), [`write`](HTTP1Connection::write),
//! [`finish`](HTTP1Connection::finish))
//! Bytes are appended to the stream's write buffer ([`crate::response`] frames them); nothing
//! is sent until the server loop flushes the batch, or until more than `max_write_buffer`
//! bytes are pending, when the writer waits for the flush (so a client that doesn't read
//! cannot make the server buffer without bound).

use crate::body::{check_declared_length, BodyError, BodyLimits, BodyReader, BodySink};
use crate::delegate::HTTPMessageDelegate;
use crate::detach::Detached;
use crate::header_block::HeaderBlock;
use crate::params::HTTP1ConnectionParameters;
use crate::parse::{parse_request_head, RequestError};
use crate::request::{BodyFraming, RequestHead, Version};
use crate::response::{
    write_error_response, HTTPOutputError, RequestInfo, ResponseParts, ResponseStartLine,
    ResponseWriter, CONTINUE,
};
use crate::rules::{Framing, Role};
use crate::timeouts::within;
pub use crate::timeouts::IdleTimer;
pub(crate) use crate::timeouts::{fill_within, flush};
use iostream::{IOStream, StreamError};
use std::future::{poll_fn, Future};
use std::net::IpAddr;
use std::pin::{pin, Pin};
use std::task::Poll;
use std::time::{Duration, Instant};

/// Body pieces at least this large are sent from the delegate's slice instead of being copied
/// into the write buffer.
pub const LARGE_WRITE: usize = 64 * 1024;

/// [`HTTP1Connection::write_file`] sends a file in segments of this many bytes (4 MiB), each
/// within the idle-connection timeout.
pub const FILE_SEGMENT: u64 = 4 * 1024 * 1024;

/// How a message ended, and so what the server connection does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Read the next request.
    KeepAlive,
    /// Flush and close (lingering if unread input is found).
    Close,
    /// Flush, shut down the write side, drain input for a bounded time, close: after an error
    /// response, or with request bytes left unread.
    Linger,
    /// The delegate answered `101` and claimed the stream ([`HTTP1Connection::detach`]): send
    /// the response, then run the stream's new owner.
    Detach,
}

/// What the connection keeps of a request head once the delegate has seen it.
#[derive(Clone, Copy)]
struct HeadFacts {
    /// The head's length in the read buffer.
    len: usize,
    framing: BodyFraming,
    expect_continue: bool,
    /// The body is gunzipped before the delegate sees it.
    gzip: bool,
}

/// The state of one request/response exchange on a stream.
pub struct HTTP1Connection<'s> {
    stream: &'s IOStream,
    params: &'s HTTP1ConnectionParameters,
    request: RequestInfo,
    writer: Option<ResponseWriter>,
    max_body_size: u64,
    body_timeout: Option<Duration>,
    /// When the body must have arrived by (set when the body starts: Tornado's
    /// `body_timeout` is for the entire body).
    body_deadline: Option<Instant>,
    close_after: bool,
    output_failed: bool,
    /// The stream's new owner after a `101` (see [`crate::detach`]).
    detached: Option<Detached>,
    /// The response written is a `101 Switching Protocols`.
    switching: bool,
}

impl<'s> HTTP1Connection<'s> {
    /// A connection for the next request on `stream` (Tornado makes one per request, too).
    pub fn new(stream: &'s IOStream, params: &'s HTTP1ConnectionParameters) -> HTTP1Connection<'s> {
        HTTP1Connection {
            stream,
            params,
            request: RequestInfo {
                head: false,
                version: Version::Http11,
                keep_alive: !params.no_keep_alive,
            },
            writer: None,
            max_body_size: params.max_body_size,
            body_timeout: params.body_timeout,
            body_deadline: None,
            close_after: false,
            output_failed: false,
            detached: None,
            switching: false,
        }
    }

    /// The stream (for its address, or to close it; don't read from it).
    pub fn stream(&self) -> &IOStream {
        self.stream
    }

    /// The parameters this connection runs with.
    pub fn params(&self) -> &HTTP1ConnectionParameters {
        self.params
    }

    /// Sets the body limit for this request (call it in `headers_received`).
    pub fn set_max_body_size(&mut self, n: u64) {
        self.max_body_size = n;
    }

    /// Sets the time allowed for this request's entire body (call it in `headers_received`).
    pub fn set_body_timeout(&mut self, timeout: Option<Duration>) {
        self.body_timeout = timeout;
    }

    /// Closes the connection after this response.
    pub fn set_close_after(&mut self) {
        self.close_after = true;
    }

    /// Hands the stream over to `run` once this response (a `101 Switching Protocols`) is
    /// sent: the request loop ends without closing the stream, and `run` serves it from
    /// then on, starting with any bytes already buffered (see [`crate::detach`]). Ignored
    /// unless the response written is finished with status `101`.
    pub fn detach(&mut self, run: Detached) {
        self.detached = Some(run);
    }

    /// The stream's new owner, once [`read_message`](Self::read_message) returned
    /// [`Outcome::Detach`].
    pub fn take_detached(&mut self) -> Option<Detached> {
        self.detached.take()
    }

    /// Whether the status line and headers have been written.
    pub fn headers_written(&self) -> bool {
        self.writer.is_some()
    }

    /// Whether the response has been finished.
    pub fn finished(&self) -> bool {
        self.writer.as_ref().is_some_and(ResponseWriter::finished)
    }

    /// Writes the status line, the headers and, if given, the first piece of the body.
    ///
    /// http1 adds `Date` (cached) and `Server` (if configured) unless present, and the
    /// framing: the delegate's `Content-Length` if it set one (then exactly that many body
    /// bytes must follow), else `Transfer-Encoding: chunked` on HTTP/1.1, else close-delimited.
    /// A delegate must not set `Transfer-Encoding`. Responses to HEAD, and 1xx/204/304, have no
    /// body. `Connection: close` in `headers` closes the connection after this response.
    ///
    /// The head is buffered when this is called; the future waits only when more than
    /// `max_write_buffer` bytes are pending, until they are sent. (A plain `fn` returning the
    /// wait, not an `async fn`: 10% fewer instructions per pipelined hello request, see
    /// `benches/README.md`.)
    pub fn write_headers(
        &mut self,
        start_line: ResponseStartLine<'_>,
        headers: &HeaderBlock,
        chunk: Option<&[u8]>,
    ) -> impl Future<Output = Result<(), HTTPOutputError>> + use<'_, 's> {
        let head = self.put_head(start_line, headers, chunk, None);
        self.after_head(head)
    }

    /// Writes a whole response: the status line, the headers, `body` and the end of the
    /// message (what [`write_headers`](Self::write_headers) with `Some(body)` and then
    /// [`finish`](Self::finish) do, in one step). The length being known, the response is
    /// `Content-Length` framed (added unless `headers` declare it). For HEAD and 1xx/204/304
    /// pass an empty body. As with `write_headers`, the response is buffered when this is
    /// called.
    ///
    /// ```no_run
    /// # async fn f(conn: &mut http1::HTTP1Connection<'_>) -> Result<(), http1::HTTPOutputError> {
    /// use http1::{HeaderBlock, ResponseStartLine};
    /// static HEADERS: HeaderBlock = HeaderBlock::from_lines("Content-Type: text/plain\r\n");
    /// conn.write_response(ResponseStartLine::OK, &HEADERS, b"Hello, World!").await
    /// # }
    /// ```
    pub fn write_response(
        &mut self,
        start_line: ResponseStartLine<'_>,
        headers: &HeaderBlock,
        body: &[u8],
    ) -> impl Future<Output = Result<(), HTTPOutputError>> + use<'_, 's> {
        let whole = Some(body.len() as u64);
        let head = self.put_head(start_line, headers, Some(body), whole);
        self.after_head(head)
    }

    /// The rest of [`write_headers`](Self::write_headers) and
    /// [`write_response`](Self::write_response) once the head is buffered (or refused): a
    /// wait only when the output is over its limit.
    async fn after_head(
        &mut self,
        head: Result<(), HTTPOutputError>,
    ) -> Result<(), HTTPOutputError> {
        head?;
        if self.over_limit() {
            self.flush_pending().await?;
        }
        Ok(())
    }

    /// The buffered part of [`write_headers`](Self::write_headers) and
    /// [`write_response`](Self::write_response): the head, the first piece, and, for a whole
    /// response of `whole` bytes, its framing by length and the end of the message.
    fn put_head(
        &mut self,
        start_line: ResponseStartLine<'_>,
        headers: &HeaderBlock,
        chunk: Option<&[u8]>,
        whole: Option<u64>,
    ) -> Result<(), HTTPOutputError> {
        if self.writer.is_some() {
            return Err(HTTPOutputError::HeadersAlreadyWritten);
        }
        self.check_open()?;
        let mut out = self.stream.write_buffer();
        let mark = out.len();
        let mut request = self.request;
        request.keep_alive &= !self.close_after;
        let response = ResponseParts {
            start_line,
            headers,
            request,
            server: self.params.server_header.as_deref(),
            body_len: whole,
        };
        let writer = self
            .writer
            .insert(ResponseWriter::start(&mut out, response)?);
        self.switching = start_line.code == 101;
        if let Some(chunk) = chunk {
            if let Err(e) = writer.write(&mut out, chunk) {
                // Nothing of this response goes out: the delegate may still answer.
                out.truncate(mark);
                self.writer = None;
                return Err(e);
            }
        }
        reactor::trace_step!("http1", "response head buffered", out.len() - mark);
        if whole.is_some() {
            let done = writer.finish(&mut out);
            reactor::trace_step!("http1", "response done", out.len());
            done.inspect_err(|_| self.output_failed = true)?;
        }
        Ok(())
    }

    /// Writes a piece of the body (framed as decided by `write_headers`). The bytes are
    /// buffered; this waits only when more than `max_write_buffer` bytes are pending.
    ///
    /// A piece of [`LARGE_WRITE`] bytes or more is not copied: what is buffered goes out first,
    /// then the piece is sent straight from `chunk`.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), HTTPOutputError> {
        self.check_open()?;
        let stream = self.stream;
        let writer = self
            .writer
            .as_mut()
            .ok_or(HTTPOutputError::HeadersNotWritten)?;
        if chunk.len() < LARGE_WRITE {
            writer
                .write(&mut stream.write_buffer(), chunk)
                .inspect_err(|_| self.output_failed = true)?;
            if self.over_limit() {
                self.flush_pending().await?;
            }
            return Ok(());
        }
        let send = writer
            .begin_piece(&mut stream.write_buffer(), chunk.len())
            .inspect_err(|_| self.output_failed = true)?;
        if send {
            let limit = self.params.idle_connection_timeout;
            let sent = async {
                flush(stream, limit).await?;
                within(stream, pin!(stream.write(chunk)), move || limit).await
            };
            sent.await.map_err(|e| {
                self.output_failed = true;
                HTTPOutputError::Stream(e)
            })?;
            if let Some(writer) = self.writer.as_mut() {
                writer.end_piece(&mut stream.write_buffer(), chunk.len());
            }
        }
        Ok(())
    }

    /// Writes `len` bytes of `file` from `offset` as a piece of the body, framed like
    /// [`write`](Self::write) (one chunk when chunked; counted against a declared
    /// `Content-Length`; nothing sent for HEAD). What is buffered goes out first, then the file
    /// is sent with [`IOStream::sendfile`] (`sendfile(2)` on Linux: the bytes never enter user
    /// space; elsewhere bounded `pread`/`write` pieces), in segments of [`FILE_SEGMENT`] bytes,
    /// each within the idle-connection timeout (a client that stops reading is dropped, a slow
    /// one that keeps reading is not).
    pub async fn write_file(
        &mut self,
        file: &std::fs::File,
        offset: u64,
        len: u64,
    ) -> Result<(), HTTPOutputError> {
        self.check_open()?;
        let stream = self.stream;
        let writer = self
            .writer
            .as_mut()
            .ok_or(HTTPOutputError::HeadersNotWritten)?;
        let piece = usize::try_from(len)
            .map_err(|_| HTTPOutputError::InvalidHeaders("file piece too large for usize"))?;
        let send = writer
            .begin_piece(&mut stream.write_buffer(), piece)
            .inspect_err(|_| self.output_failed = true)?;
        if !send {
            return Ok(());
        }
        let limit = self.params.idle_connection_timeout;
        let sent = async {
            flush(stream, limit).await?;
            let (mut off, end) = (offset, offset + len);
            while off < end {
                let n = (end - off).min(FILE_SEGMENT);
                within(stream, pin!(stream.sendfile(file, off, n)), || limit).await?;
                off += n;
            }
            Ok::<(), StreamError>(())
        };
        sent.await.map_err(|e| {
            self.output_failed = true;
            HTTPOutputError::Stream(e)
        })?;
        if let Some(writer) = self.writer.as_mut() {
            writer.end_piece(&mut stream.write_buffer(), piece);
        }
        Ok(())
    }

    /// Ends the response. No syscall by itself: the server loop sends the responses ready at
    /// the end of a read in one write.
    pub async fn finish(&mut self) -> Result<(), HTTPOutputError> {
        let writer = self
            .writer
            .as_mut()
            .ok_or(HTTPOutputError::HeadersNotWritten)?;
        writer
            .finish(&mut self.stream.write_buffer())
            .inspect_err(|_| self.output_failed = true)?;
        reactor::trace_step!("http1", "response done", self.stream.pending_write_bytes());
        if self.over_limit() {
            self.flush_pending().await?;
        }
        Ok(())
    }

    /// Resolves once the connection has closed, for instance because the client left while
    /// the delegate waited (a long poll `select`s on this). Holds no borrow of `self`.
    ///
    /// While `finish` waits, the server watches the connection (see the module doc), so a
    /// client's FIN or RST closes it at once. A FIN while a response is owed counts as the
    /// client leaving: a server cannot tell a half-close from a close without writing, and
    /// Tornado and nginx (its default) treat it so too.
    pub fn closed(&self) -> impl Future<Output = ()> + 'static {
        self.stream.until_closed()
    }

    /// Whether the connection has closed (the client left, or the stream failed): what
    /// [`closed`](Self::closed) waits for, asked now. Writes after that send nothing.
    pub fn is_closed(&self) -> bool {
        self.stream.closed()
    }

    fn check_open(&self) -> Result<(), HTTPOutputError> {
        if self.stream.closed() {
            return Err(HTTPOutputError::Stream(StreamError::Closed {
                source: None,
            }));
        }
        Ok(())
    }

    /// More than `max_write_buffer` bytes wait to be sent.
    fn over_limit(&self) -> bool {
        self.stream.pending_write_bytes() > self.params.max_write_buffer
    }

    /// Waits until the pending output is sent (a client that doesn't read stops us here).
    async fn flush_pending(&mut self) -> Result<(), HTTPOutputError> {
        // Boxed: the wait is rare (only past the output limit), and inline its timer would
        // size every write's future, which callers such as `web` hold and move.
        Box::pin(flush(self.stream, self.params.idle_connection_timeout))
            .await
            .inspect_err(|_| self.output_failed = true)?;
        Ok(())
    }

    /// Reads one request and drives its delegate; see the module doc. `start` creates the
    /// message delegate once a valid head has arrived (it is called once). `deadline` bounds
    /// the wait for the whole head (the first request: accept + header timeout); `None` waits
    /// for the first byte on the connection's idle timer, then for the rest with the header
    /// timeout. `peer_ip` is the client's address (`None` for a Unix socket).
    // The head and body pieces borrow the read buffer (`IOStream::buffered`) across the
    // delegate's await: that is the zero-copy path. It is sound because the read buffer is only
    // borrowed mutably by reads (`fill`, `try_fill`, `consume`), which this connection alone
    // makes and never while such a borrow is alive, and `IOStream::close` leaves it alone.
    //
    // This future is part of every connection's memory (`tests/tests/idle.rs`): the steps
    // that await the delegate stay here, and the helpers they call take few arguments.
    #[allow(clippy::await_holding_refcell_ref)]
    pub async fn read_message<M, S>(
        &mut self,
        mut start: S,
        mut deadline: Option<Instant>,
        peer_ip: Option<&IpAddr>,
        idle: &mut IdleTimer,
    ) -> Outcome
    where
        M: HTTPMessageDelegate,
        S: FnMut() -> M,
    {
        let stream = self.stream;
        let params = self.params;
        if stream.pending_write_bytes() >= params.max_write_buffer
            && flush(stream, params.idle_connection_timeout).await.is_err()
        {
            return Outcome::Close;
        }
        // Steps 1 to 3: a whole head, parsed in place, given to a new message delegate.
        let mut message = None;
        let head = loop {
            // A labelled block: what the connection keeps of the head is taken out before
            // the block ends; the head itself is used where the parser put it (not moved).
            let step = 'step: {
                let buf = stream.buffered();
                if buf.is_empty() {
                    break 'step None;
                }
                let mut parsed = parse_request_head(&buf, params);
                let (head, len) = match &mut parsed {
                    Ok(None) => break 'step None,
                    Err(e) => break 'step Some(Err(*e)),
                    Ok(Some((head, len))) => (head, *len),
                };
                reactor::trace_step!("http1", "head parsed", len);
                let gzip = self.prepare_head(head, peer_ip.copied());
                let message = message.insert(start());
                message.headers_received(head, self).await;
                Some(Ok(HeadFacts {
                    len,
                    framing: head.framing,
                    expect_continue: head.expect_continue,
                    gzip,
                }))
            };
            match step {
                Some(Ok(head)) => break head,
                Some(Err(e)) => {
                    write_error_response(&mut stream.write_buffer(), &e);
                    return Outcome::Linger;
                }
                None => {
                    if self.wait_for_head(&mut deadline, idle).await.is_err() {
                        return Outcome::Close;
                    }
                }
            }
        };
        stream.consume(head.len);
        let message = message.as_mut().expect("started with the head");
        // Step 4: the body.
        if head.framing != BodyFraming::None {
            self.body_deadline = self.body_timeout.map(|t| Instant::now() + t);
            if self.finished() {
                // Answered from the head alone: the body is not read (the close lingers so
                // the client still gets the response); the delegate still hears `finish`.
                message.finish(self).await;
                self.close_after = true;
                return Outcome::Linger;
            }
            let framing = match head.framing {
                BodyFraming::Length(n) => Framing::Length(n),
                _ => Framing::Chunked,
            };
            if let Err(e) = check_declared_length(framing, self.max_body_size) {
                return self.refuse(message, e);
            }
            if head.expect_continue && !self.headers_written() {
                stream.write_buffer().extend_from_slice(CONTINUE);
                if flush(stream, self.body_timeout).await.is_err() {
                    message.on_connection_close();
                    return Outcome::Close;
                }
            }
            match self.read_body(message, framing, head.gzip).await {
                Ok(()) => {}
                Err(BodyError::Invalid(e)) => return self.refuse(message, e),
                Err(BodyError::Gone(_)) => {
                    message.on_connection_close();
                    return Outcome::Close;
                }
            }
        }
        // Step 5: the end of the message, the client watched while the delegate waits.
        let left = {
            let finish = pin!(message.finish(self));
            while_watched(stream, params, finish).await
        };
        if left {
            message.on_connection_close();
            return Outcome::Close;
        }
        self.outcome()
    }

    /// Applies the connection's view to a parsed head: the client's address (and the
    /// `X-Forwarded-*` headers when trusted), a gzip body to decompress; notes what the
    /// response answers. Returns whether the body is gunzipped.
    fn prepare_head(&mut self, head: &mut RequestHead<'_>, peer_ip: Option<IpAddr>) -> bool {
        let params = self.params;
        head.remote_ip = peer_ip;
        if params.xheaders {
            head.remote_ip =
                crate::xheaders::remote_ip(&head.headers, peer_ip, &params.trusted_downstream);
            head.protocol = crate::xheaders::protocol(&head.headers, params.protocol);
        }
        let gzip = params.decompress
            && head.framing != BodyFraming::None
            && head
                .headers
                .get_bytes("Content-Encoding")
                .is_some_and(|v| v.trim_ascii().eq_ignore_ascii_case(b"gzip"));
        if gzip {
            head.headers.set("X-Consumed-Content-Encoding", "gzip");
            head.headers.remove("Content-Encoding");
        }
        self.request = RequestInfo {
            head: head.method == "HEAD",
            version: head.version,
            keep_alive: head.keep_alive && !params.no_keep_alive,
        };
        gzip
    }

    /// Sends what earlier (pipelined) responses left buffered, then waits for more of the
    /// head: the first byte on the idle timer, the rest within the header timeout, which runs
    /// from the first wait on a partial head (no clock read for heads that arrive whole).
    async fn wait_for_head(
        &self,
        deadline: &mut Option<Instant>,
        idle: &mut IdleTimer,
    ) -> Result<usize, StreamError> {
        let stream = self.stream;
        let params = self.params;
        if stream.pending_write_bytes() > 0 {
            flush(stream, params.idle_connection_timeout).await?;
        }
        let have = stream.buffered().len();
        if have > 0 && deadline.is_none() {
            *deadline = params.header_timeout.map(|t| Instant::now() + t);
        }
        match *deadline {
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                fill_within(stream, have + 1, Some(left)).await
            }
            None => idle.fill(stream, have + 1).await,
        }
    }

    /// Reads the body, framed by length or chunked, into the delegate (gunzipped first when
    /// `gzip`), with the body reader both roles share.
    async fn read_body<M: HTTPMessageDelegate>(
        &mut self,
        message: &mut M,
        framing: Framing,
        gzip: bool,
    ) -> Result<(), BodyError> {
        let params = self.params;
        let limits = BodyLimits {
            max_body_size: self.max_body_size,
            max_trailer_size: params.max_header_size,
            piece_size: params.chunk_size,
            deadline: self.body_deadline,
        };
        let mut reader = BodyReader::new(self.stream, Role::Server, limits, gzip);
        let mut sink = ToDelegate {
            message,
            conn: self,
        };
        reader.read(framing, &mut sink).await
    }

    /// What follows a finished message: keep-alive if the request, the response and the
    /// parameters allow; a 500 and a close if the delegate wrote nothing.
    fn outcome(&mut self) -> Outcome {
        if self.stream.closed() {
            return Outcome::Close;
        }
        match &self.writer {
            None => {
                let e = RequestError {
                    status: 500,
                    detail: "no response",
                };
                write_error_response(&mut self.stream.write_buffer(), &e);
                Outcome::Close
            }
            Some(w) if !w.finished() || self.output_failed => Outcome::Close,
            Some(_) if self.switching && self.detached.is_some() => Outcome::Detach,
            Some(w) if w.keep_alive() && !self.close_after => Outcome::KeepAlive,
            Some(_) => Outcome::Close,
        }
    }

    /// A request refused after it started: tell the delegate, answer if it hasn't, linger.
    fn refuse<M: HTTPMessageDelegate>(&mut self, message: &mut M, e: RequestError) -> Outcome {
        message.on_connection_close();
        if !self.headers_written() {
            write_error_response(&mut self.stream.write_buffer(), &e);
        }
        Outcome::Linger
    }
}

/// Runs a delegate's future to its end and, if it has to wait, watches the stream meanwhile
/// ([`IOStream::watch_close`], bounded by `max_header_size` buffered bytes): a client that
/// leaves is noticed at once and its fd released, while the delegate runs on (it learns of
/// the close from [`HTTP1Connection::closed`] or the stream). Returns whether the client left.
///
/// The watch is made only when the delegate's first poll returns `Pending`: a delegate that
/// answers at once costs nothing more. When it does start it is usually free too (the socket
/// was drained by the request's read, so it waits for the next event without a syscall).
/// Figure: benches/README.md, "Instructions per request" (s3-perf's first item).
///
/// The delegate's future comes pinned by the caller: held once, in the caller's future (an
/// argument moved into a local here would be held twice, on every connection's memory).
async fn while_watched<F: Future<Output = ()>>(
    stream: &IOStream,
    params: &HTTP1ConnectionParameters,
    mut delegate: Pin<&mut F>,
) -> bool {
    // A delegate that answers at once (the usual case) costs no watch.
    if poll_fn(|cx| Poll::Ready(delegate.as_mut().poll(cx)))
        .await
        .is_ready()
    {
        return false;
    }
    let mut watch = pin!(stream.watch_close(params.max_header_size));
    let mut left = false;
    poll_fn(|cx| {
        if delegate.as_mut().poll(cx).is_ready() {
            return Poll::Ready(());
        }
        if !left && watch.as_mut().poll(cx).is_ready() {
            left = true;
            reactor::trace_step!("http1", "client left while its delegate waited");
            // Let the delegate see the close now (a `closed()` it waits on is ready).
            if delegate.as_mut().poll(cx).is_ready() {
                return Poll::Ready(());
            }
        }
        Poll::Pending
    })
    .await;
    left
}

/// The server's body sink: each piece goes to the message delegate's `data_received`.
struct ToDelegate<'a, 's, M> {
    message: &'a mut M,
    conn: &'a mut HTTP1Connection<'s>,
}

impl<M: HTTPMessageDelegate> BodySink for ToDelegate<'_, '_, M> {
    fn data_received(&mut self, piece: &[u8]) -> impl Future<Output = ()> {
        self.message.data_received(piece, self.conn)
    }
}
