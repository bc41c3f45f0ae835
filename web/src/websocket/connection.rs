//! The server side of one WebSocket connection, once the `101` is sent (Tornado's
//! `WebSocketProtocol13` read loop and its writer): three parts run in the connection's task.
//!
//! - The reader reads frames from the stream into the [`MessageReader`], calls the handler
//!   (`on_message` is awaited before the next frame is read), answers pings, and ends at the
//!   peer's close frame (echoed once), a protocol error (a close frame with the error's code),
//!   or the end of the stream. After our own close frame it drops data messages and waits at
//!   most [`CLOSE_TIMEOUT`] for the peer's.
//! - The sender sends the frames the [`WebSocket`] handle queues, one batch at a time.
//! - The pinger (with `websocket_ping_interval`) sends a ping every interval and closes the
//!   connection when no pong came within `websocket_ping_timeout` of a ping (Tornado 6.5).
//!
//! When the reader ends, what is queued is sent (within [`CLOSE_TIMEOUT`]), the handler's
//! `on_close` runs, and http1 closes the stream.

use std::cell::Cell;
use std::future::{pending, poll_fn, Future};
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use http1::detach::IOStream;

use super::close::{INTERNAL_ERROR, NO_STATUS};
use super::handler::{Message, WebSocketHandler};
use super::message::{Event, MessageReader};
use super::socket::WebSocket;
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

/// Serves the connection until it ends, then calls `on_close`.
pub(crate) async fn serve<H: WebSocketHandler>(
    stream: &IOStream,
    mut handler: H,
    ws: WebSocket,
    mut reader: MessageReader,
    args: Vec<String>,
    options: Options,
) {
    let last_pong = Cell::new(Instant::now());
    let (code, reason) = {
        let mut reading = pin!(read_frames(
            stream,
            &mut handler,
            &ws,
            &mut reader,
            &args,
            &last_pong
        ));
        let mut sending = pin!(send_frames(stream, &ws));
        let mut pinging = pin!(ping(stream, &ws, options, &last_pong));
        let mut sent_all = false;
        let peer_close = poll_fn(|cx| {
            if let Poll::Ready(close) = reading.as_mut().poll(cx) {
                return Poll::Ready(close);
            }
            if !sent_all {
                sent_all = sending.as_mut().poll(cx).is_ready();
            }
            let _ = pinging.as_mut().poll(cx);
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
    let mut buf = Vec::new();
    let mut start = 0;
    loop {
        let event = match reader.read(&mut buf[start..]) {
            Ok(decoded) => {
                start += decoded.consumed;
                decoded.event
            }
            Err(e) => {
                log::debug!(target: "web::websocket", "closing: {e}");
                ws.close(Some(e.close_code()), "");
                return (None, String::new());
            }
        };
        let message = match event {
            None => {
                if receive(stream, ws, &mut buf, &mut start).await.is_err() {
                    return (None, String::new());
                }
                continue;
            }
            Some(Event::Text(text)) => Message::Text(text),
            Some(Event::Binary(bytes)) => Message::Binary(bytes),
            Some(Event::Ping(data)) => {
                ws.pong(data);
                handler.on_ping(data);
                continue;
            }
            Some(Event::Pong(data)) => {
                last_pong.set(Instant::now());
                handler.on_pong(data);
                continue;
            }
            Some(Event::Close(frame)) => {
                let code = (frame.code != NO_STATUS).then_some(frame.code);
                ws.close(code, "");
                return (code, frame.reason.to_owned());
            }
        };
        if ws.is_closed() {
            continue; // after our close frame, data is dropped
        }
        if let Err(payload) = CatchUnwind(pin!(handler.on_message(ws, message))).await {
            log_panic("on_message", &*payload);
            ws.close(Some(INTERNAL_ERROR), "");
        }
    }
}

/// Moves what the stream received into `buf` (dropping its consumed front first); waits at
/// most [`CLOSE_TIMEOUT`] once our close frame is sent. `Err` when the stream ended.
async fn receive(
    stream: &IOStream,
    ws: &WebSocket,
    buf: &mut Vec<u8>,
    start: &mut usize,
) -> Result<(), ()> {
    buf.drain(..*start);
    *start = 0;
    let filled = if ws.is_closed() {
        // Boxed: rare (only while closing), and inline it would size every idle connection.
        Box::pin(reactor::timeout(CLOSE_TIMEOUT, stream.fill(1)))
            .await
            .map_err(|_| ())?
    } else {
        stream.fill(1).await
    };
    let n = filled.map_err(|_| ())?;
    buf.extend_from_slice(&stream.buffered()[..n]);
    stream.consume(n);
    Ok(())
}

/// The sender: each batch of queued frames goes into the stream's write buffer and out.
/// Completes when the connection is finished and everything is sent, or the stream fails.
async fn send_frames(stream: &IOStream, ws: &WebSocket) {
    let mut batch = Vec::new();
    while ws.next_batch(&mut batch).await.is_some() {
        stream.write_buffer().extend_from_slice(&batch);
        batch.clear();
        if stream.flush().await.is_err() {
            ws.finish();
            return;
        }
    }
}

/// The pinger: a ping every `ping_interval`; no pong within `ping_timeout` (default: the
/// interval) closes the stream. Never completes.
async fn ping(stream: &IOStream, ws: &WebSocket, options: Options, last_pong: &Cell<Instant>) {
    let Some(interval) = options.ping_interval.filter(|i| !i.is_zero()) else {
        return pending().await;
    };
    let timeout = options.ping_timeout.unwrap_or(interval).min(interval);
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
