//! Streaming request bodies (Tornado's `@stream_request_body` and `data_received`).
//!
//! A handler opts in with `const STREAM_REQUEST_BODY: bool = true` and implements
//! [`RequestHandler::data_received`]. For such a route the application does not collect the
//! body. Instead, as soon as the head has arrived:
//! 1. the route is matched and the handler built (so the route is looked up at the head only
//!    when some route of the application streams: other applications pay nothing);
//! 2. the XSRF / cross-origin checks and `prepare` run; `prepare` may change this request's
//!    body limit with [`Context::set_max_body_size`] (413 past it) or answer at once (then the
//!    body is never read, and `100 Continue` never sent);
//! 3. each piece of the body (at most `chunk_size`, 64 KiB by default, straight from the
//!    connection's read buffer) goes to `data_received`; nothing more is read from the socket
//!    until it returns, so a slow consumer slows the client down (TCP flow control) instead of
//!    buffering;
//! 4. when the body is complete the method (`post`, `put`, ...) runs, then `on_finish`.
//!
//! Since the checks run before the body, the XSRF token of a streamed request must come in
//! the query string or an `X-XSRFToken` header (a form field would still be in the body), as
//! in Tornado. An error from any step ends the request with its status; a panic is a 500, as
//! elsewhere.
//! Memory per streamed request is the handler's own state: the body is never held.
//!
//! ```
//! use web::{Context, RequestHandler, Result};
//!
//! #[derive(Default)]
//! struct Count { bytes: u64 }
//!
//! impl RequestHandler for Count {
//!     const STREAM_REQUEST_BODY: bool = true;
//!     async fn prepare(&mut self, cx: &mut Context<'_>) -> Result {
//!         cx.set_max_body_size(1 << 30); // this route takes up to 1 GiB
//!         Ok(())
//!     }
//!     async fn data_received(&mut self, _cx: &mut Context<'_>, chunk: &[u8]) -> Result {
//!         self.bytes += chunk.len() as u64;
//!         Ok(())
//!     }
//!     async fn post(&mut self, cx: &mut Context<'_>) -> Result {
//!         cx.write(format!("{} bytes", self.bytes));
//!         Ok(())
//!     }
//! }
//! # let _ = web::Application::new(vec![web::url::<Count>("/count")]);
//! ```

use std::future::Future;
use std::pin::Pin;

use crate::context::Context;
use crate::error::{HttpError, Result};
use crate::handler::{call_method, check_request, log_error, send_error, RequestHandler};

impl Context<'_> {
    /// Sets the most body bytes this request may send (a 413 past it), overriding the
    /// connection parameters' `max_body_size` (Tornado's `request.connection.set_max_body_size`).
    /// Effective in `prepare` of a streaming handler ([`RequestHandler::STREAM_REQUEST_BODY`]):
    /// other handlers run after the body has been read.
    pub fn set_max_body_size(&mut self, n: u64) {
        self.sink.set_max_body_size(n);
    }
}

/// The step of a streamed request to run.
pub(crate) enum Phase<'a> {
    /// Checks and `prepare`, at the head.
    Start,
    /// One piece of the body.
    Data(&'a [u8]),
    /// The method (unless the response is already finished), then `on_finish`.
    Finish,
}

/// A streaming handler with its type erased (one box per streamed request; each phase boxes
/// its future: a streamed body costs an allocation per piece, ordinary requests nothing).
pub(crate) trait StreamedHandler {
    /// Runs `phase`; errors become error responses.
    fn run<'a>(
        &'a mut self,
        phase: Phase<'a>,
        cx: &'a mut Context<'_>,
    ) -> Pin<Box<dyn Future<Output = ()> + 'a>>;

    /// The client went away before the request was complete.
    fn on_connection_close(&mut self);
}

struct Streamed<H> {
    handler: H,
}

/// Boxes a freshly built streaming handler.
pub(crate) fn boxed<H: RequestHandler>(handler: H) -> Box<dyn StreamedHandler> {
    Box::new(Streamed { handler })
}

impl<H: RequestHandler> StreamedHandler for Streamed<H> {
    fn run<'a>(
        &'a mut self,
        phase: Phase<'a>,
        cx: &'a mut Context<'_>,
    ) -> Pin<Box<dyn Future<Output = ()> + 'a>> {
        Box::pin(async move {
            let handler = &mut self.handler;
            let finishing = matches!(phase, Phase::Finish);
            let result = match phase {
                Phase::Start => start(handler, cx).await,
                Phase::Data(_) | Phase::Finish if cx.response.finished => Ok(()),
                Phase::Data(chunk) => handler.data_received(cx, chunk).await,
                Phase::Finish => match cx.request.supported_method() {
                    Some(method) => call_method(handler, cx, method).await,
                    None => Err(HttpError::new(405)),
                },
            };
            if let Err(e) = result {
                log_error(cx, &e);
                if !cx.response.finished {
                    send_error(handler, cx, &e);
                }
            }
            if finishing {
                cx.response.finished = true;
                handler.on_finish(cx);
            }
        })
    }

    fn on_connection_close(&mut self) {
        self.handler.on_connection_close();
    }
}

/// The checks of `_execute` that come before the body, the current user, `prepare`, and
/// the `authenticated` check (a redirect finishes the response: the body is not read).
async fn start<H: RequestHandler>(handler: &mut H, cx: &mut Context<'_>) -> Result {
    if cx.request.supported_method().is_none() {
        return Err(HttpError::new(405));
    }
    check_request(handler, cx)?;
    let user = handler.get_current_user(cx).await?;
    cx.set_current_user(user);
    handler.prepare(cx).await?;
    let needs_user = handler.authenticated(cx.request.method());
    if !cx.response.finished {
        crate::login::require_user(cx, needs_user)?;
    }
    Ok(())
}
