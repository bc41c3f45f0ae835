//! `RequestHandler` and its `Context` (Tornado's `RequestHandler`, split in two).
//!
//! In Tornado one object is both the application's code (`get`, `post`, ...) and the request
//! machinery (`self.request`, `self.write`). Here the application's type implements
//! [`RequestHandler`] and keeps only its own state (what Tornado's `initialize` receives), and
//! every method gets a [`Context`]: the request to read and the response to build.
//!
//! The flow of one request (`execute`, Tornado's `_execute`): a method outside the supported
//! set is a 405; `prepare` runs (and may finish the request); then the method named by the
//! request (`get`, `post`, ...; each 405 unless overridden); the response is finished if the
//! method did not; an `HttpError` returned from any step becomes that status through
//! [`RequestHandler::write_error`]; `on_finish` runs last.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use http1::{HTTPHeaders, HTTPOutputError, ResponseStartLine};
use serde::Serialize;

use crate::application::AppShared;
use crate::cookies::Cookie;
use crate::error::{HttpError, Result};
use crate::request::{Method, Request};
use crate::response::Response;
use crate::routing::PathArgs;

/// The methods a handler can serve (Tornado's `SUPPORTED_METHODS`); others are a 405.
pub const SUPPORTED_METHODS: [&str; 7] =
    ["GET", "HEAD", "POST", "DELETE", "PATCH", "PUT", "OPTIONS"];

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
    /// Implement it as an `async fn`.
    ///
    /// Declared as returning a future so that the default is [`Proceed`], a future with
    /// nothing in it: a default `async fn` would store its two arguments into its future and
    /// load them back at once (wider than stored: the CPU stalls), for every request.
    fn prepare(&mut self, cx: &mut Context<'_>) -> impl Future<Output = Result> {
        let _ = cx;
        Proceed
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

    /// The client went away while the response was being sent (a flush failed).
    fn on_connection_close(&mut self) {}

    /// Writes the body of an error response; status and reason are already set and the body
    /// is empty. The default writes Tornado's page,
    /// `<html><title>CODE: REASON</title><body>CODE: REASON</body></html>`.
    fn write_error(&mut self, cx: &mut Context<'_>, status: u16, error: &HttpError) {
        if cx.app.settings.debug {
            crate::debug::write_debug_page(cx.response, status, error.log_message.as_deref());
            return;
        }
        let reason = cx.response.reason().to_owned();
        crate::error::write_default_error_page(&mut cx.response.body, status, &reason);
    }

    /// Ends the request with an error page for `status` (Tornado's `send_error`): discards
    /// what was written, sets the status, calls [`write_error`](Self::write_error), finishes.
    fn send_error(&mut self, cx: &mut Context<'_>, status: u16) {
        send_error(self, cx, &HttpError::new(status));
    }
}

/// The default [`RequestHandler::prepare`]: ready at once with `Ok(())`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Proceed;

impl Future for Proceed {
    type Output = Result;

    fn poll(self: Pin<&mut Self>, _: &mut std::task::Context<'_>) -> Poll<Result> {
        Poll::Ready(Ok(()))
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

/// Awaits the handler's method for a [`Method`]: a macro rather than an `async fn`, so that
/// the method's future is awaited in the caller's own state machine (one layer less to
/// start, poll and drop per request).
macro_rules! call_method {
    ($handler:expr, $cx:expr, $method:expr) => {
        match $method {
            Method::Get => $handler.get($cx).await,
            Method::Head => $handler.head($cx).await,
            Method::Post => $handler.post($cx).await,
            Method::Delete => $handler.delete($cx).await,
            Method::Patch => $handler.patch($cx).await,
            Method::Put => $handler.put($cx).await,
            Method::Options => $handler.options($cx).await,
        }
    };
}
pub(crate) use call_method;

/// Tornado's `_execute`: the method check, XSRF, `prepare`, the method, error handling,
/// auto-finish, `on_finish`. Takes the handler by value so that the route's boxed future is
/// this one (no wrapper around it); the steps up to the method are a labelled block, not a
/// nested `async fn` (one state machine fewer per request).
#[allow(clippy::manual_async_fn)] // on purpose: see the comment inside
pub(crate) fn execute<'a, 'c, H: RequestHandler>(
    mut handler: H,
    cx: &'a mut Context<'c>,
) -> impl Future<Output = ()> + use<'a, 'c, H> {
    // An `async` block, not an `async fn`: an `async fn` first moves its arguments from where
    // the caller put them to its own slots, and that copy loads them wider than they were
    // just stored (a stall, every request); the block uses them where they are.
    async move {
        let handler = &mut handler;
        let result: Result = 'dispatch: {
            let Some(method) = cx.request.supported_method() else {
                break 'dispatch Err(HttpError::new(405));
            };
            if let Err(e) = crate::xsrf::check_request(handler, cx) {
                break 'dispatch Err(e);
            }
            if let Err(e) = handler.prepare(cx).await {
                break 'dispatch Err(e);
            }
            if cx.response.finished {
                break 'dispatch Ok(());
            }
            call_method!(handler, cx, method)
        };
        if let Err(e) = result {
            log_error(cx, &e);
            // An error after `finish` is only logged (Tornado's `_handle_request_exception`).
            if !cx.response.finished {
                send_error(handler, cx, &e);
            }
        }
        cx.response.finished = true;
        if cx.response.connection_lost {
            handler.on_connection_close();
        }
        handler.on_finish(cx);
    }
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

/// The connection, as far as a flush needs it: object-safe so that [`Context`] has one
/// lifetime. Each call boxes its future; only `flush` uses it (the final response is written
/// by the application with the concrete connection, no box).
pub(crate) trait Sink {
    fn send_head<'a>(
        &'a mut self,
        line: ResponseStartLine<'a>,
        headers: &'a HTTPHeaders<'a>,
        chunk: Option<&'a [u8]>,
    ) -> Pin<Box<dyn Future<Output = std::result::Result<(), HTTPOutputError>> + 'a>>;

    fn send<'a>(
        &'a mut self,
        chunk: &'a [u8],
    ) -> Pin<Box<dyn Future<Output = std::result::Result<(), HTTPOutputError>> + 'a>>;

    /// `len` bytes of `file` from `offset` as body (`sendfile(2)` below; see `static_files`).
    fn send_file<'a>(
        &'a mut self,
        file: &'a std::fs::File,
        offset: u64,
        len: u64,
    ) -> Pin<Box<dyn Future<Output = std::result::Result<(), HTTPOutputError>> + 'a>>;

    /// The body limit of this request (a streaming handler's `prepare` may change it).
    fn set_max_body_size(&mut self, n: u64);

    /// Sends the buffered output now (http1 otherwise sends it at the end of the batch).
    fn send_now(
        &mut self,
    ) -> Pin<Box<dyn Future<Output = std::result::Result<(), HTTPOutputError>> + '_>>;
}

impl Sink for http1::HTTP1Connection<'_> {
    fn send_head<'a>(
        &'a mut self,
        line: ResponseStartLine<'a>,
        headers: &'a HTTPHeaders<'a>,
        chunk: Option<&'a [u8]>,
    ) -> Pin<Box<dyn Future<Output = std::result::Result<(), HTTPOutputError>> + 'a>> {
        Box::pin(self.write_headers(line, headers, chunk))
    }

    fn send<'a>(
        &'a mut self,
        chunk: &'a [u8],
    ) -> Pin<Box<dyn Future<Output = std::result::Result<(), HTTPOutputError>> + 'a>> {
        Box::pin(self.write(chunk))
    }

    fn send_file<'a>(
        &'a mut self,
        file: &'a std::fs::File,
        offset: u64,
        len: u64,
    ) -> Pin<Box<dyn Future<Output = std::result::Result<(), HTTPOutputError>> + 'a>> {
        Box::pin(self.write_file(file, offset, len))
    }

    fn set_max_body_size(&mut self, n: u64) {
        http1::HTTP1Connection::set_max_body_size(self, n);
    }

    fn send_now(
        &mut self,
    ) -> Pin<Box<dyn Future<Output = std::result::Result<(), HTTPOutputError>> + '_>> {
        Box::pin(async move { self.stream().flush().await.map_err(HTTPOutputError::Stream) })
    }
}

/// A handler's view of one request: read the [`Request`], build the response.
pub struct Context<'a> {
    pub(crate) request: &'a Request,
    pub(crate) response: &'a mut Response,
    pub(crate) path_args: &'a PathArgs,
    pub(crate) app: &'a AppShared,
    pub(crate) sink: &'a mut (dyn Sink + 'a),
}

impl<'a> Context<'a> {
    // ---- input ----

    /// The request.
    pub fn request(&self) -> &'a Request {
        self.request
    }

    /// The path arguments the route's groups captured.
    pub fn path_args(&self) -> &'a PathArgs {
        self.path_args
    }

    /// Positional path argument `i` (decoded).
    pub fn path_arg(&self, i: usize) -> Option<&'a str> {
        self.path_args.get(i)
    }

    /// Named path argument `name` (decoded).
    pub fn path_kwarg(&self, name: &str) -> Option<&'a str> {
        self.path_args.get_named(name)
    }

    /// The last value of argument `name` from the query or the body, whitespace-trimmed
    /// (Tornado's `get_argument`); `default` if absent; absent with no default is a 400
    /// `Missing argument NAME`; a value that is not UTF-8 is a 400.
    pub fn get_argument(&self, name: &str, default: Option<&'a str>) -> Result<&'a str> {
        let body = self.request.body_arguments().get(name)?;
        let found = match body {
            Some(v) => Some(v),
            None => self.request.query_arguments().get(name)?,
        };
        found_or_default(found, default, name)
    }

    /// Every value of argument `name`, query first then body, trimmed.
    pub fn get_arguments(&self, name: &str) -> Result<Vec<&'a str>> {
        let r = self.request;
        r.query_arguments()
            .get_all(name)
            .chain(r.body_arguments().get_all(name))
            .map(|v| v.map(str::trim))
            .collect()
    }

    /// Like [`get_argument`](Self::get_argument), from the query string only.
    pub fn get_query_argument(&self, name: &str, default: Option<&'a str>) -> Result<&'a str> {
        found_or_default(self.request.query_arguments().get(name)?, default, name)
    }

    /// Every value of `name` from the query string, trimmed.
    pub fn get_query_arguments(&self, name: &str) -> Result<Vec<&'a str>> {
        self.request
            .query_arguments()
            .get_all(name)
            .map(|v| v.map(str::trim))
            .collect()
    }

    /// Like [`get_argument`](Self::get_argument), from the body only.
    pub fn get_body_argument(&self, name: &str, default: Option<&'a str>) -> Result<&'a str> {
        found_or_default(self.request.body_arguments().get(name)?, default, name)
    }

    /// Every value of `name` from the body, trimmed.
    pub fn get_body_arguments(&self, name: &str) -> Result<Vec<&'a str>> {
        self.request
            .body_arguments()
            .get_all(name)
            .map(|v| v.map(str::trim))
            .collect()
    }

    /// The value of cookie `name` from the request.
    pub fn get_cookie(&self, name: &str) -> Option<&'a str> {
        self.request.cookie(name)
    }

    /// The path of the route named `name` with `args` (Tornado's `reverse_url`).
    pub fn reverse_url(&self, name: &str, args: &[&str]) -> Result<String> {
        self.app.router.reverse_url(name, args)
    }

    /// The application's settings.
    pub fn settings(&self) -> &'a crate::application::Settings {
        &self.app.settings
    }

    // ---- output ----

    /// The response so far.
    pub fn response(&self) -> &Response {
        self.response
    }

    /// The status code so far.
    pub fn status(&self) -> u16 {
        self.response.status()
    }

    /// Sets the status and optionally a custom reason phrase (Tornado's `set_status`).
    pub fn set_status(&mut self, status: u16, reason: Option<&str>) -> Result {
        self.response.set_status(status, reason)
    }

    /// Replaces header `name` (a 500 error for a bad name or a value with CR, LF or other
    /// control characters: never header injection). The value is text, bytes, an integer, a
    /// `SystemTime` (an HTTP date) or `format_args!(..)`: see [`HeaderValue`](crate::HeaderValue).
    pub fn set_header(&mut self, name: &str, value: impl crate::HeaderValue) -> Result {
        self.response.headers_mut().set(name, value)
    }

    /// Adds a header line, keeping existing ones of that name.
    pub fn add_header(&mut self, name: &str, value: impl crate::HeaderValue) -> Result {
        self.response.headers_mut().add(name, value)
    }

    /// Removes header `name`.
    pub fn clear_header(&mut self, name: &str) {
        self.response.headers_mut().remove(name);
    }

    /// Discards the status, headers and body set so far (Tornado's `clear`).
    pub fn clear(&mut self) {
        self.response.clear();
    }

    /// Appends bytes or text to the body. Ignored (and logged) after `finish`.
    pub fn write(&mut self, chunk: impl AsRef<[u8]>) {
        if self.response.finished {
            log::error!("write() after finish() ignored");
            return;
        }
        self.response.body.extend_from_slice(chunk.as_ref());
    }

    /// Appends `value` as JSON and sets `Content-Type: application/json; charset=UTF-8`.
    /// `</` is written `<\/` so the JSON is safe inside HTML (as Tornado's `json_encode`).
    pub fn write_json<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        if self.response.finished {
            return Err(HttpError::with_log(500, "write_json() after finish()"));
        }
        let body = &mut self.response.body;
        let start = body.len();
        if let Err(e) = serde_json::to_writer(&mut *body, value) {
            body.truncate(start);
            return Err(HttpError::with_log(
                500,
                format!("JSON encoding failed: {e}"),
            ));
        }
        if memchr::memmem::find(&body[start..], b"</").is_some() {
            let json = body.split_off(start);
            for (i, &b) in json.iter().enumerate() {
                body.push(b);
                if b == b'<' && json.get(i + 1) == Some(&b'/') {
                    body.push(b'\\');
                }
            }
        }
        self.set_header("Content-Type", "application/json; charset=UTF-8")
    }

    /// Sends what is written so far: the status line and headers the first time (then the
    /// response is chunked on HTTP/1.1, close-delimited on HTTP/1.0), the body bytes.
    /// Resolves once they are handed to the kernel (a client that does not read holds it
    /// here). An error means the client went away.
    pub async fn flush(&mut self) -> Result {
        crate::gzip::transform_flush(self.app, self.request, self.response);
        let response = &mut *self.response;
        if response.aborted {
            return Err(HttpError::with_log(500, "flush() on a closed connection"));
        }
        let sent = if !response.headers_written {
            response.headers_written = true;
            let no_body = crate::error::status_has_no_body(response.status());
            if no_body {
                response.body.clear();
            }
            let (line, headers, body) = response.head();
            self.sink
                .send_head(line, &headers, (!no_body).then_some(body))
                .await
        } else if response.body.is_empty() {
            return Ok(());
        } else {
            self.sink.send(&response.body).await
        };
        response.body.clear();
        // Out to the client now, not with the rest of the response (a stream, a progress page).
        let sent = match sent {
            Ok(()) => self.sink.send_now().await,
            e => e,
        };
        sent.map_err(|e| {
            response.aborted = true;
            response.connection_lost = true;
            HttpError::with_log(500, format!("flush failed: {e}"))
        })
    }

    /// Ends the response (Tornado's `finish`); it is sent when the handler method returns.
    /// Further writes are ignored.
    pub fn finish(&mut self) {
        self.response.finished = true;
    }

    /// Whether `finish` was called.
    pub fn finished(&self) -> bool {
        self.response.finished
    }

    /// Redirects to `url` (301 if `permanent`, else 302) and finishes.
    pub fn redirect(&mut self, url: &str, permanent: bool) -> Result {
        if self.response.headers_written {
            return Err(HttpError::with_log(
                500,
                "cannot redirect after headers have been written",
            ));
        }
        self.set_status(if permanent { 301 } else { 302 }, None)?;
        self.set_header("Location", url)?;
        self.finish();
        Ok(())
    }

    /// Sets cookie `name` to `value` with `Path=/` (Tornado's `set_cookie` defaults).
    pub fn set_cookie(&mut self, name: &str, value: &str) -> Result {
        self.set_cookie_with(&Cookie::new(name, value))
    }

    /// Adds a `Set-Cookie` header for `cookie`, validated (a 500 error if invalid).
    pub fn set_cookie_with(&mut self, cookie: &Cookie<'_>) -> Result {
        self.response.headers_mut().add_cookie(cookie)
    }

    /// Deletes cookie `name` (at `Path=/`; use [`Cookie::removal`] for another path/domain).
    pub fn clear_cookie(&mut self, name: &str) -> Result {
        self.set_cookie_with(&Cookie::removal(name))
    }
}

fn found_or_default<'a>(
    found: Option<&'a str>,
    default: Option<&'a str>,
    name: &str,
) -> Result<&'a str> {
    match found {
        Some(v) => Ok(v.trim()),
        None => default.ok_or_else(|| {
            HttpError::bad_request(format!("Missing argument {name}"))
                .reason(format!("Missing argument {name}"))
        }),
    }
}
