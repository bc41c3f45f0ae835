//! The server side of one WebSocket connection, once the `101` is sent (Tornado's
//! `WebSocketProtocol13` read loop and its writer): three parts run in the connection's task.
//!
//! - The reader decodes frames where they lie in the stream's read buffer (payloads unmasked
//!   in place, a one-frame message handed to the handler from there, not copied), calls the
//!   handler (`on_message` is awaited before the next frame is read), answers pings, and ends
//!   at the peer's close frame (echoed once), a protocol error (a close frame with the error's
//!   code), or the end of the stream. After our own close frame it drops data messages and
//!   waits at most [`CLOSE_TIMEOUT`] for the peer's. While the send buffer is full it reads
//!   nothing.
//! - The sender flushes the frames the [`WebSocket`] handle wrote into the stream's write
//!   buffer: once per batch, when the reader has handled what arrived and waits for more.
//! - The pinger (with `websocket_ping_interval`) sends a ping every interval and closes the
//!   connection when no pong came within `websocket_ping_timeout` of a ping (Tornado 6.5).
//!
//! When the reader ends, what is queued is sent (within [`CLOSE_TIMEOUT`]), the handler's
//! `on_close` runs, and http1 closes the stream.
//!
//! An idle connection (waiting for a frame with nothing buffered) holds no buffer: the stream
//! gives its read and write buffers back to the pool, and the reader and writer free their
//! warm buffers (with permessage-deflate and no context takeover, no zlib state either).

use std::cell::Cell;
use std::future::{pending, poll_fn, Future};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use http1::detach::IOStream;

use super::close::{INTERNAL_ERROR, NO_STATUS};
use super::handler::{Message, WebSocketHandler};
use super::message::{Event, MessageReader};
use super::socket::WebSocket;
use super::writer::MessageWriter;
use super::ProtocolError;
use crate::app_templates::AppTemplates;
use crate::output::CatchUnwind;

/// How long the end of a connection may take: the peer's answer to our close frame, and the
/// last frames' flush.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// The connection's settings (from the application's [`Settings`](crate::Settings)).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    pub(crate) ping_interval: Option<Duration>,
    pub(crate) ping_timeout: Option<Duration>,
}

/// The connection's task, after the `101`: serves `stream` with `handler` until the
/// connection ends (see [`serve`]).
///
/// The state is moved into one `async` block that [`serve`] borrows from: an `async fn`
/// taking it by value would hold it twice (as its argument and as its local), on every idle
/// connection.
pub(crate) fn run<H: WebSocketHandler>(
    stream: &IOStream,
    handler: H,
    writer: MessageWriter,
    reader: MessageReader,
    args: Vec<String>,
    options: Options,
    templates: Rc<AppTemplates>,
) -> Pin<Box<dyn Future<Output = ()> + '_>> {
    let (mut handler, mut reader) = (handler, reader);
    let ws = WebSocket::new(stream.clone(), writer, templates);
    Box::pin(async move { serve(stream, &mut handler, &ws, &mut reader, &args, options).await })
}

/// Serves the connection until it ends, then calls `on_close`.
async fn serve<H: WebSocketHandler>(
    stream: &IOStream,
    handler: &mut H,
    ws: &WebSocket,
    reader: &mut MessageReader,
    args: &[String],
    options: Options,
) {
    let last_pong = Cell::new(Instant::now());
    let (code, reason) = {
        let mut reading = pin!(read_frames(stream, handler, ws, reader, args, &last_pong));
        let mut sending = pin!(send_frames(stream, ws));
        // Boxed, and only with an interval: a connection without pings holds no timer.
        let mut pinging = options
            .ping_interval
            .filter(|i| !i.is_zero())
            .map(|interval| Box::pin(ping(stream, ws, interval, options.ping_timeout, &last_pong)));
        let mut sent_all = false;
        let peer_close = poll_fn(|cx| {
            if let Poll::Ready(close) = reading.as_mut().poll(cx) {
                return Poll::Ready(close);
            }
            if !sent_all {
                sent_all = sending.as_mut().poll(cx).is_ready();
            }
            if let Some(pinging) = pinging.as_mut() {
                let _ = pinging.as_mut().poll(cx);
            }
            Poll::Pending
        })
        .await;
        ws.finish();
        if !sent_all {
            let _ = reactor::timeout(CLOSE_TIMEOUT, sending).await;
        }
        peer_close
    };
    handler.on_close(code, &reason);
}

/// The reader (see the module doc); returns the peer's close code and reason.
///
/// The message is handed to `on_message` borrowed from the stream's read buffer (a `Ref`
/// held across the handler's await): nothing else borrows that buffer meanwhile, since after
/// the hand-over only this loop reads the stream, and writes, flushes and `close` touch only
/// the write buffer and the fd.
#[allow(clippy::await_holding_refcell_ref)]
async fn read_frames<H: WebSocketHandler>(
    stream: &IOStream,
    handler: &mut H,
    ws: &WebSocket,
    reader: &mut MessageReader,
    args: &[String],
    last_pong: &Cell<Instant>,
) -> (Option<u16>, String) {
    if let Err(payload) = CatchUnwind(pin!(handler.open(ws, args))).await {
        log_panic("open", &*payload);
        ws.close(Some(INTERNAL_ERROR), "");
    }
    loop {
        ws.room().await;
        let located = reader.decode(&mut stream.buffered_mut());
        let located = match located {
            Ok(located) => located,
            Err(e) => return fail(ws, e),
        };
        let Some(found) = located.found else {
            stream.consume(located.consumed);
            if receive(stream, ws, reader).await.is_err() {
                return (None, String::new());
            }
            continue;
        };
        // The event lies in the read buffer (or the reader), borrowed while the handler runs:
        // nothing else reads this stream, and the writes go to its write buffer.
        let buffered = stream.buffered();
        let message = match reader.event(&buffered, &found) {
            Err(e) => return fail(ws, e),
            Ok(Event::Text(text)) => Some(Message::Text(text)),
            Ok(Event::Binary(bytes)) => Some(Message::Binary(bytes)),
            Ok(Event::Ping(data)) => {
                ws.pong(data);
                handler.on_ping(data);
                None
            }
            Ok(Event::Pong(data)) => {
                last_pong.set(Instant::now());
                handler.on_pong(data);
                None
            }
            Ok(Event::Close(frame)) => {
                let code = (frame.code != NO_STATUS).then_some(frame.code);
                ws.close(code, "");
                return (code, frame.reason.to_owned());
            }
        };
        // After our close frame, data is dropped.
        if let Some(message) = message.filter(|_| !ws.is_closed()) {
            if let Err(payload) = CatchUnwind(pin!(handler.on_message(ws, message))).await {
                log_panic("on_message", &*payload);
                ws.close(Some(INTERNAL_ERROR), "");
            }
        }
        drop(buffered);
        stream.consume(located.consumed);
    }
}

/// Fails the connection for a protocol error: a close frame with its code.
fn fail(ws: &WebSocket, e: ProtocolError) -> (Option<u16>, String) {
    log::debug!(target: "web::websocket", "closing: {e}");
    ws.close(Some(e.close_code()), "");
    (None, String::new())
}

/// Waits until more bytes than those buffered have arrived; at most [`CLOSE_TIMEOUT`] once
/// our close frame is sent. When nothing is buffered, no message is open: the reader's and
/// writer's warm buffers are freed (the stream gives its own back while it waits; a one-frame
/// uncompressed message never needed them). `Err` when the stream ended.
async fn receive(stream: &IOStream, ws: &WebSocket, reader: &mut MessageReader) -> Result<(), ()> {
    let want = stream.buffered().len() + 1;
    if want == 1 {
        reader.release_memory();
        ws.release_memory();
    }
    let filled = if ws.is_closed() {
        // Boxed: rare (only while closing), and inline it would size every idle connection.
        Box::pin(reactor::timeout(CLOSE_TIMEOUT, stream.fill(want)))
            .await
            .map_err(|_| ())?
    } else {
        stream.fill(want).await
    };
    filled.map(|_| ()).map_err(|_| ())
}

/// The sender: flushes what the handle wrote into the stream's write buffer, one flush per
/// batch. Completes when the connection is finished and everything is sent, or the stream
/// fails.
async fn send_frames(stream: &IOStream, ws: &WebSocket) {
    while ws.frames_queued().await {
        if stream.flush().await.is_err() {
            ws.finish();
            return;
        }
        // Sent: if the reader waits meanwhile, the connection is idle and holds no buffer.
        stream.release_idle_buffers();
        ws.sent();
    }
}

/// The pinger: a ping every `ping_interval`; no pong within `ping_timeout` (default: the
/// interval) closes the stream. Never completes.
async fn ping(
    stream: &IOStream,
    ws: &WebSocket,
    interval: Duration,
    timeout: Option<Duration>,
    last_pong: &Cell<Instant>,
) {
    let timeout = timeout.unwrap_or(interval).min(interval);
    reactor::sleep(interval).await;
    loop {
        let sent = Instant::now();
        if ws.ping(b"").is_err() {
            return pending().await;
        }
        reactor::sleep(timeout).await;
        if last_pong.get() < sent {
            log::debug!(target: "web::websocket", "no pong within {timeout:?}: closing");
            ws.finish();
            stream.close();
            return pending().await;
        }
        reactor::sleep(interval - timeout).await;
    }
}

fn log_panic(method: &str, payload: &(dyn std::any::Any + Send)) {
    let message = crate::output::panic_message(payload);
    log::error!(target: "web::websocket", "panic in WebSocketHandler::{method}: {message}");
}
