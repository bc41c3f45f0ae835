//! `RequestHandler` (Tornado's `RequestHandler`, split in two with [`Context`]).
//!
//! In Tornado one object is both the application's code (`get`, `post`, ...) and the request
//! machinery (`self.request`, `self.write`). Here the application's type implements
//! [`RequestHandler`] and keeps only its own state (what Tornado's `initialize` receives), and
//! every method gets a [`Context`] (`context.rs`): the request to read and the response to
//! build.
//!
//! The flow of one request (`execute`, Tornado's `_execute`): a method outside the supported
//! set is a 405; `prepare` runs (and may finish the request); then the method named by the
//! request (`get`, `post`, ...; each 405 unless overridden); the response is finished if the
//! method did not; an `HttpError` returned from any step becomes that status through
//! [`RequestHandler::write_error`]; `on_finish` runs last.

use crate::context::Context;
use crate::error::{HttpError, Result};
use crate::request::Method;
pub use crate::request::SUPPORTED_METHODS;

/// The application's side of a request. Implement the methods you serve; the others answer
/// 405. One value is built per request by the route's factory (a closure, or `Default`), so
/// fields are per-request state and the factory's captures are the route's configuration.
///
/// ```
/// use web::{Context, RequestHandler, Result};
///
/// struct Greeter { greeting: &'static str }
///
/// impl RequestHandler for Greeter {
///     async fn get(&mut self, cx: &mut Context<'_>) -> Result {
///         let name = cx.get_argument("name", Some("world"))?;
///         cx.set_header("Content-Type", "text/plain")?;
///         cx.write(format!("{}, {name}!", self.greeting));
///         Ok(())
///     }
/// }
///
/// let app = web::Application::new(vec![web::url_with("/", || Greeter { greeting: "Hello" })]);
/// # drop(app);
/// ```
#[allow(async_fn_in_trait)] // handlers run on one thread: their futures need not be Send
pub trait RequestHandler: 'static {
    /// Take the request body piece by piece (Tornado's `@stream_request_body`): the handler
    /// is built and `prepare` runs as soon as the head has arrived, then each piece goes to
    /// [`data_received`](Self::data_received) as it is read (the body is not buffered and
    /// `request().body()` stays empty), then the method runs. See [`crate::streaming`].
    const STREAM_REQUEST_BODY: bool = false;

    /// A piece of a streamed body (only with [`STREAM_REQUEST_BODY`](Self::STREAM_REQUEST_BODY)).
    /// Nothing more is read from the client until this returns (flow control); an error ends
    /// the request with that status.
    async fn data_received(&mut self, cx: &mut Context<'_>, chunk: &[u8]) -> Result {
        let _ = (cx, chunk);
        Ok(())
    }

    /// Checks the XSRF token of a non-GET/HEAD/OPTIONS request when the `xsrf_cookies` setting
    /// is on, before `prepare` (Tornado's `check_xsrf_cookie`). Override to exempt a handler.
    fn check_xsrf_cookie(&mut self, cx: &mut Context<'_>) -> Result {
        crate::xsrf::check_xsrf_cookie(cx)
    }

    /// Runs before the method; finishing the response here (or returning an error) skips it.
    async fn prepare(&mut self, cx: &mut Context<'_>) -> Result {
        let _ = cx;
        Ok(())
    }

    /// `GET`; 405 unless overridden.
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let _ = cx;
        Err(HttpError::new(405))
    }

    /// `HEAD`; 405 unless overridden (no body is ever sent, whatever is written).
    async fn head(&mut self, cx: &mut Context<'_>) -> Result {
        let _ = cx;
        Err(HttpError::new(405))
    }

    /// `POST`; 405 unless overridden.
    async fn post(&mut self, cx: &mut Context<'_>) -> Result {
        let _ = cx;
        Err(HttpError::new(405))
    }

    /// `DELETE`; 405 unless overridden.
    async fn delete(&mut self, cx: &mut Context<'_>) -> Result {
        let _ = cx;
        Err(HttpError::new(405))
    }

    /// `PATCH`; 405 unless overridden.
    async fn patch(&mut self, cx: &mut Context<'_>) -> Result {
        let _ = cx;
        Err(HttpError::new(405))
    }

    /// `PUT`; 405 unless overridden.
    async fn put(&mut self, cx: &mut Context<'_>) -> Result {
        let _ = cx;
        Err(HttpError::new(405))
    }

    /// `OPTIONS`; 405 unless overridden.
    async fn options(&mut self, cx: &mut Context<'_>) -> Result {
        let _ = cx;
        Err(HttpError::new(405))
    }

    /// Runs after the response is complete (for cleanup or logging); the response can no
    /// longer change.
    fn on_finish(&mut self, cx: &Context<'_>) {
        let _ = cx;
    }

    /// The client went away: it left while the handler waited (the server noticed at once;
    /// see [`Context::closed`], and this is called once, when the method returns), or a flush
    /// failed.
    fn on_connection_close(&mut self) {}

    /// Writes the body of an error response; status and reason are already set and the body
    /// is empty. The default calls the `write_error` setting if there is one, else writes
    /// Tornado's page, `<html><title>CODE: REASON</title><body>CODE: REASON</body></html>`
    /// (with the `debug` setting, the error's log message too).
    fn write_error(&mut self, cx: &mut Context<'_>, status: u16, error: &HttpError) {
        if let Some(write_error) = cx.settings.write_error {
            let page = write_error(status, error, cx.settings.debug);
            if cx
                .set_header("Content-Type", page.content_type.as_str())
                .is_ok()
            {
                cx.response.body = page.body;
                return;
            }
        }
        if cx.settings.debug {
            crate::error_page::write_debug_page(cx.response, status, error.log_message.as_deref());
            return;
        }
        let reason = cx.response.reason().to_owned();
        crate::error_page::write_default_error_page(&mut cx.response.body, status, &reason);
    }

    // ---- login (see `crate::login`) ----

    /// The user making this request, or `None` (Tornado's `get_current_user`; may await, e.g.
    /// a database lookup through `reactor::run_in_executor`). Runs once per request, before
    /// `prepare`; [`Context::current_user`] has its answer. The default: nobody.
    async fn get_current_user(&mut self, cx: &mut Context<'_>) -> Result<Option<String>> {
        let _ = cx;
        Ok(None)
    }

    /// Whether `method` (`"GET"`, `"POST"`, ...) needs a user (Tornado's `@authenticated`):
    /// without one, a GET or HEAD is redirected to the `login_url` setting with
    /// `?next=<uri>`, other methods answer 403. The default: no method does.
    fn authenticated(&self, method: &str) -> bool {
        let _ = method;
        false
    }

    /// Ends the request with an error page for `status` (Tornado's `send_error`): discards
    /// what was written, sets the status, calls [`write_error`](Self::write_error), finishes.
    fn send_error(&mut self, cx: &mut Context<'_>, status: u16) {
        send_error(self, cx, &HttpError::new(status));
    }
}

/// `send_error` with the error that caused it (its reason phrase is used).
pub(crate) fn send_error<H: RequestHandler + ?Sized>(
    handler: &mut H,
    cx: &mut Context<'_>,
    error: &HttpError,
) {
    if cx.response.headers_written {
        log::error!("Cannot send error response after headers written");
        cx.response.aborted = true;
        cx.response.finished = true;
        return;
    }
    cx.response.clear();
    let reason = error.reason.as_deref();
    if cx.response.set_status(error.status, reason).is_err() {
        let _ = cx.response.set_status(500, None);
    }
    let status = cx.response.status();
    handler.write_error(cx, status, error);
    cx.response.finished = true;
}

/// Awaits the handler's method for `method`.
pub(crate) async fn call_method<H: RequestHandler>(
    handler: &mut H,
    cx: &mut Context<'_>,
    method: Method,
) -> Result {
    match method {
        Method::Get => handler.get(cx).await,
        Method::Head => handler.head(cx).await,
        Method::Post => handler.post(cx).await,
        Method::Delete => handler.delete(cx).await,
        Method::Patch => handler.patch(cx).await,
        Method::Put => handler.put(cx).await,
        Method::Options => handler.options(cx).await,
    }
}

/// Tornado's `_execute`: the method check, XSRF, `prepare`, the method, error handling,
/// auto-finish, `on_finish`. Takes the handler by value: the route's boxed future is this one.
/// A `body_error` (a form or multipart body that could not be parsed) is the request's error,
/// answered through this handler's `write_error` (Tornado finds the route before it looks at
/// the body).
pub(crate) async fn execute<H: RequestHandler>(
    mut handler: H,
    cx: &mut Context<'_>,
    body_error: Option<Box<HttpError>>,
) {
    let handler = &mut handler;
    // The steps that may fail, in a labelled block (a nested `async fn` would be one more
    // state machine per request): the method check, the request checks, the user, `prepare`,
    // then the method unless `prepare` finished the response. Figure: benches/README.md,
    // "Instructions per request" (the `execute` item of s3-perf's list, -102 with others).
    let result: Result = 'steps: {
        if let Some(e) = body_error {
            break 'steps Err(*e);
        }
        let Some(method) = cx.request.supported_method() else {
            break 'steps Err(HttpError::new(405));
        };
        if !method.is_safe() {
            if let Err(e) = check_request(handler, cx) {
                break 'steps Err(e);
            }
        }
        match handler.get_current_user(cx).await {
            Ok(user) => cx.set_current_user(user),
            Err(e) => break 'steps Err(e),
        }
        if let Err(e) = handler.prepare(cx).await {
            break 'steps Err(e);
        }
        if cx.response.finished {
            break 'steps Ok(());
        }
        if handler.authenticated(method.as_str()) {
            match crate::login::require_user(cx, true) {
                Ok(false) => {}
                Ok(true) => break 'steps Ok(()),
                Err(e) => break 'steps Err(e),
            }
        }
        match method {
            Method::Get => handler.get(cx).await,
            Method::Head => handler.head(cx).await,
            Method::Post => handler.post(cx).await,
            Method::Delete => handler.delete(cx).await,
            Method::Patch => handler.patch(cx).await,
            Method::Put => handler.put(cx).await,
            Method::Options => handler.options(cx).await,
        }
    };
    if let Err(e) = result {
        log_error(cx, &e);
        // An error after `finish` is only logged (Tornado's `_handle_request_exception`).
        if !cx.response.finished {
            send_error(handler, cx, &e);
        }
    }
    cx.response.finished = true;
    note_client_left(cx);
    if cx.response.connection_lost {
        handler.on_connection_close();
    }
    handler.on_finish(cx);
}

/// If the client left while the handler ran (the server watched the connection meanwhile),
/// the response is marked lost: nothing more is written, `on_connection_close` is called and
/// the access log says so.
pub(crate) fn note_client_left(cx: &mut Context<'_>) {
    if cx.client_left() {
        cx.response.aborted = true;
        cx.response.connection_lost = true;
    }
}

/// Runs the configured checks for an unsafe method (not GET, HEAD or OPTIONS): cross-origin
/// protection, then the handler's `check_xsrf_cookie`.
pub(crate) fn check_request<H: RequestHandler + ?Sized>(
    handler: &mut H,
    cx: &mut Context<'_>,
) -> Result {
    if cx.request.supported_method().is_some_and(Method::is_safe) {
        return Ok(());
    }
    if cx.settings.cross_origin_protection {
        crate::xsrf::check_cross_origin(cx)?;
    }
    if cx.settings.xsrf_cookies {
        handler.check_xsrf_cookie(cx)?;
    }
    Ok(())
}

/// Tornado's `log_exception` for an `HTTPError`: a warning when it carries a log message.
pub(crate) fn log_error(cx: &Context<'_>, e: &HttpError) {
    if let Some(msg) = &e.log_message {
        let r = cx.request;
        log::warn!(
            target: "web::general",
            "{} {} {} ({}): {}",
            e.status,
            r.method(),
            r.uri(),
            DisplayIp(r.remote_ip()),
            msg
        );
    }
}

/// An optional IP for log lines (`-` when absent).
pub(crate) struct DisplayIp(pub Option<std::net::IpAddr>);

impl std::fmt::Display for DisplayIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(ip) => write!(f, "{ip}"),
            None => f.write_str("-"),
        }
    }
}
