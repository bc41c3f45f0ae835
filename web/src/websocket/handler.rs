//! `WebSocketHandler`: what an application implements to serve WebSocket connections
//! (Tornado's `tornado.websocket.WebSocketHandler`): `open`, `on_message`, `on_close`,
//! `on_ping`, `on_pong`, and the handshake's choices (`check_origin`, `select_subprotocol`,
//! `get_compression_options`). It writes through the [`WebSocket`] handle it is given.
//!
//! An echo handler, routed with [`websocket_url`](crate::websocket::websocket_url):
//!
//! ```
//! use web::websocket::{websocket_url, Message, WebSocket, WebSocketHandler};
//!
//! #[derive(Default)]
//! struct Echo;
//!
//! impl WebSocketHandler for Echo {
//!     async fn on_message(&mut self, ws: &WebSocket, message: Message<'_>) {
//!         let _ = match message {
//!             Message::Text(text) => ws.write_message(text, false).await,
//!             Message::Binary(bytes) => ws.write_message(bytes, true).await,
//!         };
//!     }
//! }
//!
//! let app = web::Application::new(vec![websocket_url::<Echo>("/ws/echo")]);
//! ```

use std::future::Future;

use super::extension::DeflateOptions;
use super::socket::WebSocket;
use crate::context::Context;
use crate::error::Result;

/// A complete message received from the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<'a> {
    /// A text message (valid UTF-8).
    Text(&'a str),
    /// A binary message.
    Binary(&'a [u8]),
}

/// One WebSocket connection's application logic (Tornado's `WebSocketHandler`). A fresh
/// handler is built for each connection by its route's factory.
///
/// Each callback gets the connection's [`WebSocket`] handle; clone it to write from other
/// tasks, and render the application's templates with
/// [`render_string`](WebSocket::render_string) (Tornado's `self.render_string`). The next frame is not read until `on_message`'s future completes (a slow handler
/// slows its peer, never the server's memory). A panic in `open` or `on_message` closes the
/// connection with 1011 (internal error); other connections are not affected.
pub trait WebSocketHandler: 'static {
    /// Runs with the handshake request, before the upgrade (in Tornado a `WebSocketHandler`
    /// is a `RequestHandler`, whose `prepare` runs first): read cookies, the current user or
    /// the application's state here and keep what the connection will need. An error answers
    /// the request as a handler's error does (its status, the application's error page), and
    /// so does a response finished here (a redirect to a login page, say): either way no
    /// WebSocket opens.
    fn prepare(&mut self, cx: &mut Context<'_>) -> impl Future<Output = Result> {
        let _ = cx;
        std::future::ready(Ok(()))
    }

    /// The connection is open (the `101` was sent); `args` are the route's path arguments
    /// (Tornado's `open(*args)`).
    fn open(&mut self, ws: &WebSocket, args: &[String]) -> impl Future<Output = ()> {
        let _ = (ws, args);
        std::future::ready(())
    }

    /// A complete message arrived.
    fn on_message(&mut self, ws: &WebSocket, message: Message<'_>) -> impl Future<Output = ()>;

    /// The connection closed. `close_code` and `close_reason` are those of the peer's close
    /// frame (`None` and `""` when the peer left without one, or sent one without a code).
    fn on_close(&mut self, close_code: Option<u16>, close_reason: &str) {
        let _ = (close_code, close_reason);
    }

    /// A ping arrived (the pong is sent for you).
    fn on_ping(&mut self, data: &[u8]) {
        let _ = data;
    }

    /// A pong arrived.
    fn on_pong(&mut self, data: &[u8]) {
        let _ = data;
    }

    /// Whether a browser's request from `origin` may open this connection; `host` is the
    /// request's `Host`. The default allows the same origin only (the origin's host, port
    /// included, equals `host`): a refused handshake gets 403.
    fn check_origin(&self, origin: &str, host: &str) -> bool {
        same_origin(origin, host)
    }

    /// Picks one of the subprotocols the client offered (`Sec-WebSocket-Protocol`), or
    /// none (the default).
    fn select_subprotocol(&self, subprotocols: &[&str]) -> Option<String> {
        let _ = subprotocols;
        None
    }

    /// The permessage-deflate options to offer; `None` (the default) turns compression off.
    fn get_compression_options(&self) -> Option<DeflateOptions> {
        None
    }
}

/// Whether `origin` (`scheme://host[:port]`) names `host` (Tornado's default
/// `check_origin`: the origin's network location, lowercased, equals the `Host` header).
///
/// ```
/// use web::websocket::handler::same_origin;
/// assert!(same_origin("http://Example.com:8888", "example.com:8888"));
/// assert!(!same_origin("http://evil.example", "example.com"));
/// ```
pub fn same_origin(origin: &str, host: &str) -> bool {
    let netloc = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    let netloc = netloc.split('/').next().unwrap_or("");
    netloc.eq_ignore_ascii_case(host)
}
