//! The delegate traits (Tornado's `httputil.HTTPServerConnectionDelegate` and
//! `HTTPMessageDelegate`): how the layer above (`web`, or a bare handler like the `hello`
//! example) receives requests and answers them.
//!
//! One [`HTTPServerConnectionDelegate`] serves a whole server; for each request on a
//! connection, its [`start_request`](HTTPServerConnectionDelegate::start_request) returns a
//! fresh [`HTTPMessageDelegate`] *by value*, which then gets the head, the body pieces and the
//! end of the request. Each method returns `impl Future` (an implementation may simply write
//! `async fn`): the futures are generic types stored inline in the connection's task, so an
//! async delegate costs no allocation per request. The connection reads nothing more until a
//! delegate future completes — that is the flow control.
//!
//! The delegate answers through the [`HTTP1Connection`] it is handed:
//! `write_headers(start_line, headers, first_chunk)`, `write(chunk)`, `finish()`, or
//! `write_response(start_line, headers, body)` for a whole response in one step.

use crate::connection::HTTP1Connection;
use crate::request::RequestHead;
use iostream::Address;
use std::future::Future;

/// What a server knows about one TCP connection, handed to
/// [`HTTPServerConnectionDelegate::start_request`].
#[derive(Debug, Clone)]
pub struct ConnectionContext {
    /// The peer's address (an `Inet` address, or the Unix socket's path).
    pub address: Address,
    /// A number unique among this thread's connections (for logs).
    pub id: u64,
}

/// Creates a message delegate per request (Tornado's `HTTPServerConnectionDelegate`).
///
/// ```
/// use http1::*;
///
/// struct Hello;
/// struct HelloMessage;
/// static HEADERS: HeaderBlock =
///     HeaderBlock::from_lines("Content-Type: text/plain\r\nContent-Length: 13\r\n");
///
/// impl HTTPServerConnectionDelegate for Hello {
///     type Message = HelloMessage;
///     fn start_request(&self, _: &ConnectionContext) -> HelloMessage {
///         HelloMessage
///     }
/// }
///
/// impl HTTPMessageDelegate for HelloMessage {
///     async fn headers_received(&mut self, _: &RequestHead<'_>, _: &mut HTTP1Connection<'_>) {}
///     async fn finish(&mut self, conn: &mut HTTP1Connection<'_>) {
///         let _ = conn
///             .write_response(ResponseStartLine::OK, &HEADERS, b"Hello, World!")
///             .await;
///     }
/// }
/// ```
pub trait HTTPServerConnectionDelegate: 'static {
    /// The per-request delegate.
    type Message: HTTPMessageDelegate;

    /// A request's head has arrived on the connection: return the delegate for it.
    fn start_request(&self, ctx: &ConnectionContext) -> Self::Message;

    /// The connection closed (after its last request, or on an error or timeout).
    fn on_close(&self, ctx: &ConnectionContext) {
        let _ = ctx;
    }
}

/// Receives one request and writes its response (Tornado's `HTTPMessageDelegate`).
pub trait HTTPMessageDelegate {
    /// The request head. `head` borrows the connection's read buffer: copy what you keep
    /// (`head.to_owned()`). A response may be written right here (e.g. 401, 404, 413); if it is
    /// finished here and the request has a body, the body is not read (nor `100 Continue`
    /// sent), `finish` follows at once, and the connection closes after the response. A
    /// delegate may raise or lower the body limit with
    /// [`HTTP1Connection::set_max_body_size`].
    fn headers_received(
        &mut self,
        head: &RequestHead<'_>,
        conn: &mut HTTP1Connection<'_>,
    ) -> impl Future<Output = ()>;

    /// A piece of the body (de-chunked, and gunzipped when `decompress` is on), at most
    /// `chunk_size` bytes, borrowed from the read buffer. The default drops it.
    fn data_received(
        &mut self,
        chunk: &[u8],
        conn: &mut HTTP1Connection<'_>,
    ) -> impl Future<Output = ()> {
        let _ = (chunk, conn);
        std::future::ready(())
    }

    /// The whole request has been read. The response must be finished by the time this
    /// future completes (else the connection is closed; if nothing was written, a `500` is
    /// sent first).
    fn finish(&mut self, conn: &mut HTTP1Connection<'_>) -> impl Future<Output = ()>;

    /// The connection failed before the request was complete (timeout, bad body, the client
    /// went away; `finish` will not be called), or the client left while `finish` waited:
    /// then the connection was closed at once, and this is called once `finish`'s future
    /// completes (the delegate is borrowed by it until then; to learn of the close at once,
    /// wait on [`HTTP1Connection::closed`]).
    fn on_connection_close(&mut self) {}
}
