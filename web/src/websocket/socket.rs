//! `WebSocket`: the handle a [`WebSocketHandler`](super::WebSocketHandler) writes through
//! (Tornado's `write_message`, `ping`, `close` on the handler). Clonable and `'static`, so a
//! handler can keep it and write from other tasks on the same thread.
//!
//! Frames are encoded into a send queue the connection's task sends from. The queue is
//! bounded: [`write_message`](WebSocket::write_message) waits, before encoding, until the
//! queue holds less than the bound, so awaiting it is the backpressure, and a peer that never
//! reads cannot make the server hold more than the bound plus one message (and the batch being
//! sent). Control frames (pings, pongs, the close) are small and always queued at once.

use std::cell::RefCell;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

use super::close;
use super::writer::MessageWriter;

/// The send queue's default bound: 64 KiB of encoded frames.
pub const DEFAULT_SEND_BUFFER: usize = 64 * 1024;

/// Why a write was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebSocketError {
    /// The connection is closed or closing (Tornado's `WebSocketClosedError`).
    Closed,
    /// A text message that is not UTF-8.
    InvalidText,
    /// A ping payload over 125 bytes.
    PingTooLarge,
}

impl std::fmt::Display for WebSocketError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WebSocketError::Closed => "the WebSocket is closed",
            WebSocketError::InvalidText => "a text message must be UTF-8",
            WebSocketError::PingTooLarge => "a ping payload is at most 125 bytes",
        })
    }
}

impl std::error::Error for WebSocketError {}

/// A connection's writing half and its state, shared by the handle's clones and the
/// connection's task.
pub(crate) struct Shared {
    /// Encoded frames waiting for the connection's task to send them.
    pub(crate) queue: Vec<u8>,
    writer: MessageWriter,
    bound: usize,
    /// A close frame has been queued: no more messages.
    pub(crate) close_sent: bool,
    /// The connection is over: nothing more is sent.
    pub(crate) finished: bool,
    /// The connection task's sender, waiting for frames.
    sender: Option<Waker>,
    /// `write_message` futures waiting for room in the queue.
    waiting: Vec<Waker>,
}

/// The handle to one WebSocket connection (clone it freely; all clones write to the same
/// connection).
#[derive(Clone)]
pub struct WebSocket(pub(crate) Rc<RefCell<Shared>>);

impl std::fmt::Debug for WebSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocket")
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl WebSocket {
    /// A handle writing with `writer`, its queue bounded to `bound` bytes.
    pub(crate) fn new(writer: MessageWriter, bound: usize) -> WebSocket {
        WebSocket(Rc::new(RefCell::new(Shared {
            queue: Vec::new(),
            writer,
            bound,
            close_sent: false,
            finished: false,
            sender: None,
            waiting: Vec::new(),
        })))
    }

    /// Sends a message: text (`binary == false`; `message` must be UTF-8) or binary. Waits
    /// (before encoding anything) while the send queue is full; resolves once the message is
    /// queued. Fails with [`WebSocketError::Closed`] once the connection is closing.
    pub async fn write_message(
        &self,
        message: impl AsRef<[u8]>,
        binary: bool,
    ) -> Result<(), WebSocketError> {
        let message = message.as_ref();
        if !binary && std::str::from_utf8(message).is_err() {
            return Err(WebSocketError::InvalidText);
        }
        poll_fn(|cx| {
            let mut s = self.0.borrow_mut();
            if s.close_sent || s.finished {
                return Poll::Ready(Err(WebSocketError::Closed));
            }
            if !s.queue.is_empty() && s.queue.len() >= s.bound {
                if !s.waiting.iter().any(|w| w.will_wake(cx.waker())) {
                    s.waiting.push(cx.waker().clone());
                }
                return Poll::Pending;
            }
            let Shared { queue, writer, .. } = &mut *s;
            writer.write_message(queue, binary, message);
            s.wake_sender();
            Poll::Ready(Ok(()))
        })
        .await
    }

    /// Sends a ping (`data` at most 125 bytes).
    pub fn ping(&self, data: &[u8]) -> Result<(), WebSocketError> {
        let mut s = self.0.borrow_mut();
        if s.close_sent || s.finished {
            return Err(WebSocketError::Closed);
        }
        let Shared { queue, writer, .. } = &mut *s;
        writer
            .write_ping(queue, data)
            .map_err(|_| WebSocketError::PingTooLarge)?;
        s.wake_sender();
        Ok(())
    }

    /// Starts the closing handshake: sends a close frame with `code` (none: an empty close
    /// frame) and `reason`; the connection ends when the peer answers (or after a few
    /// seconds). Closing twice does nothing.
    pub fn close(&self, code: Option<u16>, reason: &str) {
        let mut s = self.0.borrow_mut();
        if s.close_sent || s.finished {
            return;
        }
        let code = code.filter(|c| close::is_valid_code(*c));
        let Shared { queue, writer, .. } = &mut *s;
        writer.write_close(queue, code, reason);
        s.close_sent = true;
        s.wake_sender();
        s.wake_writers();
    }

    /// Whether the connection is closing or closed (writes fail).
    pub fn is_closed(&self) -> bool {
        let s = self.0.borrow();
        s.close_sent || s.finished
    }

    /// Queues a pong answering a ping (nothing once the close is sent).
    pub(crate) fn pong(&self, data: &[u8]) {
        let mut s = self.0.borrow_mut();
        if s.close_sent || s.finished {
            return;
        }
        let Shared { queue, writer, .. } = &mut *s;
        // A received ping's payload is at most 125 bytes: the pong always fits.
        let _ = writer.write_pong(queue, data);
        s.wake_sender();
    }

    /// Marks the connection over: writes fail from now on.
    pub(crate) fn finish(&self) {
        let mut s = self.0.borrow_mut();
        s.finished = true;
        s.wake_writers();
        s.wake_sender();
    }

    /// The connection task's sender: the queued frames (swapped into `batch`, which must be
    /// empty), or `None` once the connection is finished and nothing is left to send.
    pub(crate) async fn next_batch(&self, batch: &mut Vec<u8>) -> Option<()> {
        poll_fn(|cx| {
            let mut s = self.0.borrow_mut();
            if !s.queue.is_empty() {
                std::mem::swap(&mut s.queue, batch);
                s.wake_writers();
                return Poll::Ready(Some(()));
            }
            if s.finished {
                return Poll::Ready(None);
            }
            s.sender = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}

impl Shared {
    fn wake_sender(&mut self) {
        if let Some(w) = self.sender.take() {
            w.wake();
        }
    }

    fn wake_writers(&mut self) {
        for w in self.waiting.drain(..) {
            w.wake();
        }
    }
}
