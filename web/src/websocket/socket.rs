//! `WebSocket`: the handle a [`WebSocketHandler`](super::WebSocketHandler) writes through
//! (Tornado's `write_message`, `ping`, `close` on the handler) and renders the application's
//! templates with ([`render_string`](WebSocket::render_string)). Clonable and `'static`, so a
//! handler can keep it and write from other tasks on the same thread.
//!
//! Frames are encoded straight into the stream's write buffer (one header and the payload,
//! no intermediate queue); the connection's task flushes them, once per batch of messages
//! handled. The send buffer is bounded: [`write_message`](WebSocket::write_message) waits,
//! before encoding, until fewer than the bound's bytes are unsent, so awaiting it is the
//! backpressure, and a peer that never reads cannot make the server hold more than the bound
//! plus one message. Control frames (pings, pongs, the close) are small and always queued at
//! once; the connection stops reading (so stops answering pings) while the buffer is full.
use std::cell::RefCell;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use http1::detach::IOStream;
use serde::Serialize;

use super::close;
use super::writer::MessageWriter;
use crate::app_templates::AppTemplates;

/// The send buffer's bound: 64 KiB of encoded frames not yet sent.
pub const SEND_BUFFER_BOUND: usize = 64 * 1024;

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
    /// The connection's stream: frames go into its write buffer.
    stream: IOStream,
    writer: MessageWriter,
    /// A close frame has been queued: no more messages.
    pub(crate) close_sent: bool,
    /// The connection is over: nothing more is sent.
    pub(crate) finished: bool,
    /// The connection task's sender, waiting for frames.
    sender: Option<Waker>,
    /// `write_message` futures (and the reader) waiting for room in the send buffer.
    waiting: Vec<Waker>,
    /// The application's templates, for [`WebSocket::render_string`].
    templates: Rc<AppTemplates>,
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
    /// A handle writing into `stream`'s write buffer with `writer`, at most
    /// [`SEND_BUFFER_BOUND`] unsent bytes at a time, rendering the application's `templates`.
    pub(crate) fn new(
        stream: IOStream,
        writer: MessageWriter,
        templates: Rc<AppTemplates>,
    ) -> WebSocket {
        WebSocket(Rc::new(RefCell::new(Shared {
            stream,
            writer,
            close_sent: false,
            finished: false,
            sender: None,
            waiting: Vec::new(),
            templates,
        })))
    }

    /// Renders the application's template `name` with `context` (any `Serialize` map, such as
    /// `minijinja::context!{..}`) and returns the text (Tornado's `render_string` on a
    /// `WebSocketHandler`): the same templates as the application's pages (`template_path`,
    /// the cache, autoescape with Tornado's `xhtml_escape`, `debug` reloads).
    ///
    /// The namespace is the application's part of the pages' one (see [`crate::template`]):
    /// `static_url`, `reverse_url` and `settings`. The names bound to a request are not
    /// there, since the handshake's request is gone: a template using `request`,
    /// `xsrf_form_html()` or `current_user` fails with an error saying so (keep the current
    /// user in [`prepare`](super::WebSocketHandler::prepare) and pass it in `context`, whose
    /// values win). An error (a missing template, a syntax error, an undefined variable) is a
    /// 500 [`HttpError`](crate::HttpError) naming the template and the line; the connection
    /// is not affected.
    ///
    /// ```
    /// use web::websocket::{Message, WebSocket, WebSocketHandler};
    ///
    /// #[derive(Default)]
    /// struct Chat;
    ///
    /// impl WebSocketHandler for Chat {
    ///     async fn on_message(&mut self, ws: &WebSocket, message: Message<'_>) {
    ///         let Message::Text(body) = message else { return };
    ///         // templates/message.html: <div class="message">{{ body }}</div>
    ///         match ws.render_string("message.html", minijinja::context! { body }) {
    ///             Ok(html) => {
    ///                 let _ = ws.write_message(html, false).await;
    ///             }
    ///             Err(e) => log::error!("{e}"),
    ///         }
    ///     }
    /// }
    /// ```
    pub fn render_string<S: Serialize>(&self, name: &str, context: S) -> crate::Result<String> {
        let templates = Rc::clone(&self.0.borrow().templates);
        templates.render_without_request(name, context)
    }

    /// Sends a message: text (`binary == false`; `message` must be UTF-8) or binary. Waits
    /// (before encoding anything) while the send buffer is full; resolves once the message is
    /// in it. Fails with [`WebSocketError::Closed`] once the connection is closing.
    pub async fn write_message(
        &self,
        message: impl AsRef<[u8]>,
        binary: bool,
    ) -> Result<(), WebSocketError> {
        let message = message.as_ref();
        // ASCII (the common text) is checked a word at a time; the rest fully. Figure:
        // benches/README.md, "Where the 1-per-write instructions went".
        if !binary && !message.is_ascii() && std::str::from_utf8(message).is_err() {
            return Err(WebSocketError::InvalidText);
        }
        poll_fn(|cx| {
            let mut s = self.0.borrow_mut();
            if s.close_sent || s.finished {
                return Poll::Ready(Err(WebSocketError::Closed));
            }
            if s.poll_room(cx).is_pending() {
                return Poll::Pending;
            }
            let Shared { stream, writer, .. } = &mut *s;
            writer.write_message(&mut stream.write_buffer(), binary, message);
            s.wake_sender_unless(cx.waker());
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
        let Shared { stream, writer, .. } = &mut *s;
        writer
            .write_ping(&mut stream.write_buffer(), data)
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
        let Shared { stream, writer, .. } = &mut *s;
        writer.write_close(&mut stream.write_buffer(), code, reason);
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
        let Shared { stream, writer, .. } = &mut *s;
        // A received ping's payload is at most 125 bytes: the pong always fits. The reader
        // calls this, and the sender runs right after it in the same task: no wake-up.
        let _ = writer.write_pong(&mut stream.write_buffer(), data);
    }

    /// Marks the connection over: writes fail from now on.
    pub(crate) fn finish(&self) {
        let mut s = self.0.borrow_mut();
        s.finished = true;
        s.wake_writers();
        s.wake_sender();
    }

    /// The connection task's reader: waits while the send buffer is full (so that a peer
    /// that sends pings and never reads cannot grow it with pongs). Returns at once when the
    /// connection is closing.
    pub(crate) async fn room(&self) {
        poll_fn(|cx| {
            let mut s = self.0.borrow_mut();
            if s.close_sent || s.finished {
                return Poll::Ready(());
            }
            s.poll_room(cx)
        })
        .await
    }

    /// The connection task's sender: waits until frames are waiting to be sent (`true`), or
    /// the connection is finished with nothing left to send (`false`).
    pub(crate) async fn frames_queued(&self) -> bool {
        poll_fn(|cx| {
            let mut s = self.0.borrow_mut();
            if s.stream.pending_write_bytes() > 0 {
                return Poll::Ready(true);
            }
            if s.finished {
                return Poll::Ready(false);
            }
            if !s.sender.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                s.sender = Some(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }

    /// The connection task's sender sent everything: wakes what waits for room.
    pub(crate) fn sent(&self) {
        self.0.borrow_mut().wake_writers();
    }

    /// Gives back the writer's warm buffer (the connection is idle).
    pub(crate) fn release_memory(&self) {
        self.0.borrow_mut().writer.release_memory();
    }
}

impl Shared {
    /// Ready when the send buffer has room (fewer than [`SEND_BUFFER_BOUND`] unsent bytes);
    /// else the task waits until the sender has sent it.
    fn poll_room(&mut self, cx: &Context<'_>) -> Poll<()> {
        if self.stream.pending_write_bytes() < SEND_BUFFER_BOUND {
            return Poll::Ready(());
        }
        if !self.waiting.iter().any(|w| w.will_wake(cx.waker())) {
            self.waiting.push(cx.waker().clone());
        }
        Poll::Pending
    }

    /// Wakes the sender, unless it waits in the task that `waker` wakes: the connection's own
    /// task (a handler writing from `on_message`), which polls the sender right after the
    /// reader anyway (a wake-up would only poll the whole task once more).
    fn wake_sender_unless(&mut self, waker: &Waker) {
        match &self.sender {
            Some(sender) if sender.will_wake(waker) => {}
            _ => self.wake_sender(),
        }
    }

    fn wake_sender(&mut self) {
        if let Some(w) = self.sender.take() {
            w.wake();
        }
    }

    fn wake_writers(&mut self) {
        if self.waiting.is_empty() {
            return;
        }
        for w in self.waiting.drain(..) {
            w.wake();
        }
    }
}
