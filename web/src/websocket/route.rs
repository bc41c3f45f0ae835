//! `websocket_url` and `websocket_url_with`: a route whose target is a
//! [`WebSocketHandler`], and the opening handshake it runs inside the normal routing
//! (Tornado's `WebSocketHandler.get`).
//!
//! First the handler's `prepare` (with the request: cookies, the current user, the
//! application's state; an error or a finished response answers instead of the upgrade). The
//! handshake: [`check_upgrade_request`] (a non-GET gets 405, a bad version 426 with
//! `Sec-WebSocket-Version: 13`, other failures 400); the handler's `check_origin` when the
//! request has an `Origin` (403 if refused); its `select_subprotocol`; permessage-deflate
//! negotiated with its `get_compression_options`. Then the `101` goes out, and http1 hands the
//! stream over to the WebSocket connection ([`http1::detach`]).
//!
//! ```
//! use web::websocket::{websocket_url_with, Message, WebSocket, WebSocketHandler};
//!
//! struct Shout { suffix: &'static str }
//!
//! impl WebSocketHandler for Shout {
//!     async fn on_message(&mut self, ws: &WebSocket, message: Message<'_>) {
//!         if let Message::Text(text) = message {
//!             let _ = ws.write_message(format!("{}{}", text.to_uppercase(), self.suffix), false).await;
//!         }
//!     }
//! }
//!
//! let route = websocket_url_with("/shout", || Shout { suffix: "!" });
//! assert_eq!(route.pattern(), "/shout");
//! ```

use std::future::Future;
use std::pin::Pin;

use http1::Version;

use super::connection::{self, Options};
use super::extension::negotiate;
use super::frame::Role;
use super::handler::WebSocketHandler;
use super::handshake::{check_upgrade_request, UpgradeRejection};
use super::message::MessageReader;
use super::writer::MessageWriter;
use crate::context::Context;
use crate::error::HttpError;
use crate::handler::{log_error, send_error};
use crate::redirect::ErrorHandler;
use crate::routing::UrlSpec;
use crate::streaming::StreamedHandler;
use crate::target::{HandlerTarget, Route};
use crate::template::app_templates;

/// A route to WebSocket handler `H`, built with `H::default()` for each connection.
pub fn websocket_url<H: WebSocketHandler + Default>(pattern: &str) -> UrlSpec<HandlerTarget> {
    websocket_url_with(pattern, H::default)
}

/// A route to WebSocket handlers built by `factory` (its captures are Tornado's
/// `initialize` arguments).
pub fn websocket_url_with<H: WebSocketHandler, F: Fn() -> H + 'static>(
    pattern: &str,
    factory: F,
) -> UrlSpec<HandlerTarget> {
    UrlSpec::new(pattern, HandlerTarget(Box::new(WebSocketRoute(factory))))
}

struct WebSocketRoute<F>(F);

impl<H: WebSocketHandler, F: Fn() -> H> Route for WebSocketRoute<F> {
    fn serve<'a>(
        &'a self,
        cx: &'a mut Context<'_>,
        _body_error: Option<Box<HttpError>>,
    ) -> Pin<Box<dyn Future<Output = ()> + 'a>> {
        let mut handler = (self.0)();
        Box::pin(async move {
            if let Err(e) = handler.prepare(cx).await {
                log_error(cx, &e);
                return send_error(&mut ErrorHandler::from_error(e.clone()), cx, &e);
            }
            if cx.response.finished {
                return; // `prepare` answered (a redirect, say)
            }
            let (reader, writer) = match handshake(&handler, cx) {
                Ok(accepted) => accepted,
                Err(rejection) => return reject(cx, rejection),
            };
            let args = cx.path_args();
            let args: Vec<String> = (0..args.len())
                .filter_map(|i| args.get(i).map(str::to_owned))
                .collect();
            let settings = cx.settings();
            let options = Options {
                ping_interval: settings.websocket_ping_interval,
                ping_timeout: settings.websocket_ping_timeout,
            };
            let templates = app_templates(settings);
            cx.sink.detach(Box::new(move |stream| {
                connection::run(stream, handler, writer, reader, args, options, templates)
            }));
        })
    }

    fn streams(&self) -> bool {
        false
    }

    fn start_stream(&self) -> Box<dyn StreamedHandler> {
        unreachable!("a WebSocket route never streams a request body (`streams` is false)")
    }
}

/// Checks the request and sets the `101` response; returns the connection's reader and
/// writer (with the negotiated compression).
fn handshake<H: WebSocketHandler>(
    handler: &H,
    cx: &mut Context<'_>,
) -> Result<(MessageReader, MessageWriter), UpgradeRejection> {
    let request = cx.request();
    let version = match request.version() {
        Version::Http10 => (1, 0),
        Version::Http11 => (1, 1),
    };
    let upgrade = check_upgrade_request(request.method(), version, request.headers().iter())?;
    if let Some(origin) = upgrade.origin {
        if !handler.check_origin(origin, request.host()) {
            return Err(UpgradeRejection {
                status: 403,
                reason: "Cross origin websockets not allowed",
                headers: &[],
            });
        }
    }
    let subprotocol = match upgrade.subprotocols.is_empty() {
        true => None,
        false => handler.select_subprotocol(&upgrade.subprotocols),
    };
    let max_size = cx.settings().websocket_max_message_size;
    let compression = handler.get_compression_options();
    let agreed = compression
        .as_ref()
        .and_then(|options| negotiate(&upgrade.extensions, options));
    let (reader, writer) = match (agreed, compression) {
        (Some(config), Some(options)) => (
            MessageReader::with_deflate(Role::Server, max_size, config.inflater(Role::Server)),
            MessageWriter::server(Some(
                config.deflater(Role::Server, options.compression_level),
            )),
        ),
        _ => (
            MessageReader::new(Role::Server, max_size),
            MessageWriter::server(None),
        ),
    };
    let accept = upgrade.accept;
    let set = |cx: &mut Context<'_>| -> crate::Result {
        cx.set_status(101, None)?;
        cx.set_header("Upgrade", "websocket")?;
        cx.set_header("Connection", "Upgrade")?;
        cx.set_header("Sec-WebSocket-Accept", accept.as_str())?;
        if let Some(protocol) = &subprotocol {
            cx.set_header("Sec-WebSocket-Protocol", protocol.as_str())?;
        }
        if let Some(config) = agreed {
            cx.set_header("Sec-WebSocket-Extensions", config.header_value())?;
        }
        Ok(())
    };
    set(cx).map_err(|_| UpgradeRejection {
        status: 400,
        reason: "Invalid WebSocket subprotocol",
        headers: &[],
    })?;
    Ok((reader, writer))
}

/// Answers a refused handshake: its status, headers and reason as a plain-text body.
fn reject(cx: &mut Context<'_>, rejection: UpgradeRejection) {
    cx.clear();
    let _ = cx.set_status(rejection.status, None);
    for (name, value) in rejection.headers {
        let _ = cx.set_header(name, *value);
    }
    let _ = cx.set_header("Content-Type", "text/plain; charset=UTF-8");
    cx.write(rejection.reason);
    cx.finish();
}
