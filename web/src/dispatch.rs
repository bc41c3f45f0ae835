//! The request engine (Tornado's `_HandlerDelegate`): `Application` as the `http1` server's
//! delegate, and [`WebMessage`], the delegate of one request.
//!
//! Per request: `start_request` takes a `State` (request, response and path-argument
//! buffers) from the application's pool; `headers_received` copies the head into it;
//! `data_received` appends the body; `finish` parses form bodies, routes, builds the handler
//! with its route's factory, runs it (a panic becomes a 500), finalizes and writes the
//! response (`output.rs`), then logs the access line. The state goes back to the pool when the
//! message is dropped. On a keep-alive connection the one allocation per request is the boxed
//! handler future.
//!
//! A route that streams its body (see [`crate::streaming`]) is found at the head instead, and
//! its handler gets each piece of the body as it arrives.

use std::rc::Rc;

use http1::{
    BodyFraming, ConnectionContext, HTTP1Connection, HTTPMessageDelegate,
    HTTPServerConnectionDelegate, RequestHead,
};

use crate::application::{AppShared, Application};
use crate::context::State;
use crate::error::HttpError;
use crate::handler::execute;
use crate::output::{log_request, panic_response, write_response, CatchUnwind};
use crate::redirect::ErrorHandler;
use crate::streaming::{Phase, StreamedHandler};
use crate::target::HandlerTarget;

impl HTTPServerConnectionDelegate for Application {
    type Message = WebMessage;

    fn start_request(&self, ctx: &ConnectionContext) -> WebMessage {
        let mut state = self.0.take_state();
        state.request.connection_id = ctx.id;
        WebMessage {
            app: self.0.clone(),
            state: Some(state),
            error: None,
            stream: None,
        }
    }
}

/// A [`WebMessage`] holds its state from `start_request` until it is dropped.
const KEPT: &str = "a message keeps its state until dropped";

/// One request's delegate (Tornado's `_HandlerDelegate`).
pub struct WebMessage {
    app: Rc<AppShared>,
    /// Always `Some` until dropped (taken back to the pool then).
    state: Option<Box<State>>,
    /// An error found before the handler could run (the query had too many arguments); boxed
    /// so that the rare case does not size every connection's future.
    error: Option<Box<HttpError>>,
    /// The handler of a streamed body, built at the head.
    stream: Option<Box<dyn StreamedHandler>>,
}

impl Drop for WebMessage {
    fn drop(&mut self) {
        if let Some(state) = self.state.take() {
            self.app.return_state(state);
        }
    }
}

impl HTTPMessageDelegate for WebMessage {
    async fn headers_received(&mut self, head: &RequestHead<'_>, conn: &mut HTTP1Connection<'_>) {
        let WebMessage {
            app,
            state,
            error,
            stream,
        } = self;
        let state = state.as_deref_mut().expect(KEPT);
        if let Err(e) = state.request.load_head(head) {
            *error = Some(Box::new(e));
        } else if app.streaming && head.framing != BodyFraming::None {
            // Only a request with a body can stream it: others take the ordinary path.
            // Boxed, here and below: the streaming path's futures are large and rare, and
            // inline they would size every connection's future (its idle memory) for it.
            *stream = Box::pin(stream_headers_received(app, state, conn)).await;
        }
    }

    async fn data_received(&mut self, chunk: &[u8], conn: &mut HTTP1Connection<'_>) {
        let WebMessage {
            app, state, stream, ..
        } = self;
        let state = state.as_deref_mut().expect(KEPT);
        match stream {
            Some(stream) => {
                Box::pin(stream_data_received(app, state, &mut **stream, chunk, conn)).await
            }
            None => state.request.push_body(chunk),
        }
    }

    fn on_connection_close(&mut self) {
        if let Some(stream) = &mut self.stream {
            stream.on_connection_close();
        }
    }

    async fn finish(&mut self, conn: &mut HTTP1Connection<'_>) {
        let WebMessage {
            app,
            state,
            error,
            stream,
        } = self;
        let app = &**app;
        let state = state.as_deref_mut().expect(KEPT);
        if let Some(mut stream) = stream.take() {
            Box::pin(stream_finish(app, state, &mut *stream, conn)).await;
            return;
        }
        let head_error = error.take();
        // Form and multipart bodies are parsed here (most requests have none).
        let body_error = match head_error {
            None if !state.request.body().is_empty() => {
                state.request.parse_body().err().map(Box::new)
            }
            _ => None,
        };
        let target = route(app, state, head_error);
        reactor::trace_step!("web", "route matched");
        let mut cx = state.context(&app.settings, &app.router, conn);
        let run = match target {
            Ok(target) => target.0.serve(&mut cx, body_error),
            Err(e) => Box::pin(execute(ErrorHandler::from_error(*e), &mut cx, None)),
        };
        let panicked = CatchUnwind(run).await.err();
        reactor::trace_step!("web", "handler ran (prepare, get, on_finish)");
        if let Some(payload) = panicked {
            let State {
                request, response, ..
            } = state;
            panic_response(&app.settings, request, response, "handler", &*payload);
        }
        write_response(&app.settings, state, conn).await;
        if state.request.access_log_on() {
            log_request(&state.request, &state.response);
        }
    }
}

/// The route's target for the request (an [`ErrorHandler`]'s error instead: `head_error`, a
/// routing error, or a 404 when no route matches and there is no default handler). The error
/// is boxed: it is rare, and the usual answer is then two words.
fn route<'a>(
    app: &'a AppShared,
    state: &mut State,
    head_error: Option<Box<HttpError>>,
) -> Result<&'a HandlerTarget, Box<HttpError>> {
    if let Some(e) = head_error {
        return Err(e);
    }
    let State {
        request, path_args, ..
    } = state;
    app.router
        .find_with(|| request.host(), request.path(), path_args)?
        .or(app.default_handler.as_ref())
        .ok_or_else(|| Box::new(HttpError::new(404)))
}

/// The streaming handler for this request's route, if its route streams (path arguments
/// filled); `None` for other routes, unmatched paths and routing errors (handled at `finish`).
fn find_streaming(app: &AppShared, state: &mut State) -> Option<Box<dyn StreamedHandler>> {
    let State {
        request, path_args, ..
    } = state;
    let target = app
        .router
        .find_with(|| request.host(), request.path(), path_args)
        .ok()??;
    target.0.streams().then(|| target.0.start_stream())
}

/// The streamed request's handler, after the checks and `prepare`; `None` if the route does
/// not stream. If `prepare` answered, the response is written here (http1 then skips the
/// body) and the handler is kept only to mark the request done.
async fn stream_headers_received(
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
async fn stream_data_received(
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
async fn stream_finish(
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
    if conn.is_closed() {
        // The client left while the handler waited: nothing more to write.
        state.response.aborted = true;
        state.response.connection_lost = true;
    }
    if state.response.connection_lost {
        stream.on_connection_close();
    }
    write_response(&app.settings, state, conn).await;
    if state.request.access_log_on() {
        log_request(&state.request, &state.response);
    }
}

/// Runs one phase with a `Context`, turning a panic into a 500.
async fn run_phase(
    app: &AppShared,
    state: &mut State,
    stream: &mut dyn StreamedHandler,
    phase: Phase<'_>,
    conn: &mut HTTP1Connection<'_>,
) {
    let mut cx = state.context(&app.settings, &app.router, conn);
    let panicked = CatchUnwind(stream.run(phase, &mut cx)).await.err();
    if let Some(payload) = panicked {
        let State {
            request, response, ..
        } = state;
        panic_response(
            &app.settings,
            request,
            response,
            "streaming handler",
            &*payload,
        );
    }
}
