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

use http1::HTTP1Connection;

use crate::application::{
    find_streaming, log_request, panic_response, write_response, AppShared, CatchUnwind, State,
};
use crate::error::{HttpError, Result};
use crate::handler::{log_error, send_error, Context, RequestHandler};
use crate::request::Method;

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
                Phase::Finish => call_method(handler, cx).await,
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

/// The checks of `_execute` that come before the body, and `prepare`.
async fn start<H: RequestHandler>(handler: &mut H, cx: &mut Context<'_>) -> Result {
    if cx.request.supported_method().is_none() {
        return Err(HttpError::new(405));
    }
    crate::xsrf::check_request(handler, cx)?;
    handler.prepare(cx).await
}

/// The handler's method (checked supported in [`start`]).
async fn call_method<H: RequestHandler>(handler: &mut H, cx: &mut Context<'_>) -> Result {
    match cx.request.supported_method() {
        Some(method) => crate::handler::call_method!(handler, cx, method),
        None => Err(HttpError::new(405)),
    }
}

/// The streamed request's handler, after the checks and `prepare`; `None` if the route does
/// not stream. If `prepare` answered, the response is written here (http1 then skips the
/// body) and the handler is kept only to mark the request done.
pub(crate) async fn headers_received(
    app: &AppShared,
    state: &mut State,
    conn: &mut HTTP1Connection<'_>,
) -> Option<Box<dyn StreamedHandler>> {
    let mut stream = find_streaming(app, state)?;
    run_phase(app, state, &mut *stream, Phase::Start, conn).await;
    if state.response.finished {
        complete(app, state, &mut *stream, conn).await;
    }
    Some(stream)
}

/// A piece of the body for the handler (ignored once the response is finished).
pub(crate) async fn data_received(
    app: &AppShared,
    state: &mut State,
    stream: &mut dyn StreamedHandler,
    chunk: &[u8],
    conn: &mut HTTP1Connection<'_>,
) {
    if state.response.finished {
        return;
    }
    run_phase(app, state, stream, Phase::Data(chunk), conn).await;
    if state.response.finished {
        // An error (or an early answer) in the middle of the body: answer now.
        complete(app, state, stream, conn).await;
    }
}

/// The body is complete: the method, then the response (unless answered already).
pub(crate) async fn finish(
    app: &AppShared,
    state: &mut State,
    stream: &mut dyn StreamedHandler,
    conn: &mut HTTP1Connection<'_>,
) {
    if conn.finished() || state.response.aborted {
        return;
    }
    complete(app, state, stream, conn).await;
}

/// Runs the method if the response is not finished yet and `on_finish`, then writes the
/// response.
async fn complete(
    app: &AppShared,
    state: &mut State,
    stream: &mut dyn StreamedHandler,
    conn: &mut HTTP1Connection<'_>,
) {
    run_phase(app, state, stream, Phase::Finish, conn).await;
    state.response.finished = true;
    if state.response.connection_lost {
        stream.on_connection_close();
    }
    write_response(app, state, conn).await;
    log_request(&state.request, &state.response);
}

/// Runs one phase with a `Context`, turning a panic into a 500.
async fn run_phase(
    app: &AppShared,
    state: &mut State,
    stream: &mut dyn StreamedHandler,
    phase: Phase<'_>,
    conn: &mut HTTP1Connection<'_>,
) {
    let mut cx = state.context(app, conn);
    let panicked = CatchUnwind(stream.run(phase, &mut cx)).await.err();
    if let Some(payload) = panicked {
        let State {
            request, response, ..
        } = state;
        panic_response(app, request, response, "streaming handler", &*payload);
    }
}
