//! [`WebSocketClientConnection`]: an open connection to a server (reading messages,
//! answering pings, writing masked frames, the closing handshake), and the [`ClientMessage`]s
//! it returns.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;
use std::time::{Duration, Instant};

use iostream::IOStream;

use super::super::close::{GOING_AWAY, NO_STATUS};
use super::super::encode::{FrameEncoder, MaskSource};
use super::super::{DeflateConfig, Event, MessageReader, MessageWriter, ProtocolError, Role};

use super::{random_bytes, WebSocketClientError, WebSocketConnectOptions};

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
    pub(super) fn new(
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
}
