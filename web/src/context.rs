//! `Context`: a handler's view of one request (the request machinery half of Tornado's
//! `RequestHandler`): the [`Request`] to read, the [`Response`] to build, the path arguments,
//! the settings, and the connection to flush through.
//!
//! Input accessors (`get_argument`, `get_cookie`, ...), output methods (`write`,
//! `set_header`, `flush`, `redirect`, cookies and signed cookies) live here; XSRF tokens,
//! static URLs and streaming bodies add theirs in `xsrf.rs`, `static_files.rs` and
//! `streaming.rs`. `State` holds the buffers a `Context` borrows, pooled by the
//! application across requests.

use std::future::Future;
use std::pin::Pin;

use http1::{HTTPOutputError, HeaderBlock, ResponseStartLine};
use serde::Serialize;

use crate::cookies::Cookie;
use crate::error::{HttpError, Result};
use crate::request::Request;
use crate::response::Response;
use crate::routing::{PathArgs, ReverseUrl};
use crate::settings::Settings;
use crate::signed_cookies::{
    create_signed_value, decode_signed_value, now_timestamp, CookieSecret, DEFAULT_EXPIRES_DAYS,
    DEFAULT_MAX_AGE_DAYS,
};

/// The buffers of one request, reused across requests through the application's pool.
#[derive(Default)]
pub(crate) struct State {
    pub(crate) request: Request,
    pub(crate) response: Response,
    pub(crate) path_args: PathArgs,
    /// What `get_current_user` answered for this request (see `login.rs`).
    pub(crate) current_user: Option<String>,
}

impl State {
    /// The handler's view of this request, answering through `sink`.
    pub(crate) fn context<'a>(
        &'a mut self,
        settings: &'a Settings,
        router: &'a dyn ReverseUrl,
        sink: &'a mut (dyn Sink + 'a),
    ) -> Context<'a> {
        Context {
            request: &self.request,
            response: &mut self.response,
            path_args: &self.path_args,
            settings,
            router,
            sink,
            current_user: &mut self.current_user,
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
        headers: &'a HeaderBlock,
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

    /// Hands the stream over once the `101` response is sent (WebSocket; see
    /// [`http1::detach`]).
    fn detach(&mut self, run: http1::Detached);

    /// Sends the buffered output now (http1 otherwise sends it at the end of the batch).
    fn send_now(
        &mut self,
    ) -> Pin<Box<dyn Future<Output = std::result::Result<(), HTTPOutputError>> + '_>>;

    /// The connection, for what it knows of the client leaving ([`Context::closed`]).
    fn connection(&self) -> &http1::HTTP1Connection<'_>;
}

impl Sink for http1::HTTP1Connection<'_> {
    fn send_head<'a>(
        &'a mut self,
        line: ResponseStartLine<'a>,
        headers: &'a HeaderBlock,
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

    fn detach(&mut self, run: http1::Detached) {
        http1::HTTP1Connection::detach(self, run);
    }

    fn send_now(
        &mut self,
    ) -> Pin<Box<dyn Future<Output = std::result::Result<(), HTTPOutputError>> + '_>> {
        Box::pin(async move { self.stream().flush().await.map_err(HTTPOutputError::Stream) })
    }

    fn connection(&self) -> &http1::HTTP1Connection<'_> {
        self
    }
}

/// A handler's view of one request: read the [`Request`], build the response.
pub struct Context<'a> {
    pub(crate) request: &'a Request,
    pub(crate) response: &'a mut Response,
    pub(crate) path_args: &'a PathArgs,
    pub(crate) settings: &'a Settings,
    pub(crate) router: &'a dyn ReverseUrl,
    pub(crate) sink: &'a mut (dyn Sink + 'a),
    /// The user `get_current_user` found (see `login.rs`).
    pub(crate) current_user: &'a mut Option<String>,
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
        self.router.reverse_url(name, args)
    }

    /// The application's settings.
    pub fn settings(&self) -> &'a Settings {
        self.settings
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
        crate::compress::transform_flush(self.settings, self.request, self.response);
        if self.client_left() {
            // Not an error for the handler: it may still finish (its output is dropped).
            self.response.aborted = true;
            self.response.connection_lost = true;
            return Ok(());
        }
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
                .send_head(line, headers, (!no_body).then_some(body))
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

    /// A future that resolves when the client has left (its connection closed): race it
    /// ([`reactor::race`]) against what the handler waits for, so that a long poll ends when
    /// its client goes. It borrows nothing of the `Context`. (http1's
    /// [`HTTP1Connection::closed`](http1::HTTP1Connection::closed), which watches the stream.)
    ///
    /// While the handler waits, the server watches the connection: a client's FIN or reset
    /// closes it at once (a FIN counts as leaving: without writing, a half-close cannot be
    /// told from a close; Tornado and nginx do the same). The handler then runs on; what it
    /// writes is dropped, [`RequestHandler::on_connection_close`](crate::RequestHandler::on_connection_close)
    /// is called once its method returns, and the access log shows `499` (nginx's "client
    /// closed request") instead of the status it set.
    ///
    /// ```no_run
    /// use reactor::{race, Condition, Either};
    /// use web::{Context, RequestHandler, Result};
    ///
    /// struct LongPoll;
    /// impl RequestHandler for LongPoll {
    ///     async fn get(&mut self, cx: &mut Context<'_>) -> Result {
    ///         let news = cx.state::<Condition>()?;
    ///         // Wait for news, unless the client leaves first (Tornado's demo cancels the
    ///         // wait in `on_connection_close`).
    ///         if let Either::Right(()) = race(news.wait(), cx.closed()).await {
    ///             return Ok(()); // nobody to answer; the wait has left the condition
    ///         }
    ///         cx.write("news");
    ///         Ok(())
    ///     }
    /// }
    /// ```
    pub fn closed(&self) -> impl Future<Output = ()> + 'static {
        self.sink.connection().closed()
    }

    /// Whether the client has left (see [`closed`](Self::closed)).
    pub fn client_left(&self) -> bool {
        self.sink.connection().is_closed()
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

impl Context<'_> {
    // ---- signed cookies (see `crate::signed_cookies`) ----

    fn cookie_secret(&self) -> Result<&CookieSecret> {
        self.settings().cookie_secret.as_ref().ok_or_else(|| {
            HttpError::with_log(
                500,
                "the cookie_secret setting is needed for signed cookies",
            )
        })
    }

    /// Sets cookie `name` to `value`, signed with the `cookie_secret` setting, expiring in 30
    /// days (Tornado's `set_signed_cookie`). A 500 error without a secret.
    pub fn set_signed_cookie(&mut self, name: &str, value: impl AsRef<[u8]>) -> Result {
        let signed =
            create_signed_value(self.cookie_secret()?, name, value.as_ref(), now_timestamp());
        self.set_cookie_with(&Cookie::new(name, &signed).expires_days(DEFAULT_EXPIRES_DAYS))
    }

    /// Like [`set_signed_cookie`](Self::set_signed_cookie) with the cookie's attributes
    /// (`cookie`'s name is used, its value replaced by the signed value). It expires in 30
    /// days unless `cookie` sets `Expires` itself (as Tornado's `expires_days=30`).
    pub fn set_signed_cookie_with(
        &mut self,
        cookie: Cookie<'_>,
        value: impl AsRef<[u8]>,
    ) -> Result {
        let name = cookie.name().to_owned();
        let signed = create_signed_value(
            self.cookie_secret()?,
            &name,
            value.as_ref(),
            now_timestamp(),
        );
        let cookie = if cookie.has_expires() {
            cookie
        } else {
            cookie.expires_days(DEFAULT_EXPIRES_DAYS)
        };
        self.set_cookie_with(&cookie.with_value(&signed))
    }

    /// The verified value of signed cookie `name` if it is at most 31 days old (Tornado's
    /// `get_signed_cookie`); `None` if absent, tampered with, expired, not UTF-8, or without a
    /// `cookie_secret` setting.
    pub fn get_signed_cookie(&self, name: &str) -> Option<String> {
        self.get_signed_cookie_max_age(name, DEFAULT_MAX_AGE_DAYS)
    }

    /// [`get_signed_cookie`](Self::get_signed_cookie) with a maximum age in days.
    pub fn get_signed_cookie_max_age(&self, name: &str, max_age_days: f64) -> Option<String> {
        let secret = self.cookie_secret().ok()?;
        let raw = self.get_cookie(name)?;
        let value = decode_signed_value(secret, name, raw, max_age_days, now_timestamp())?;
        String::from_utf8(value).ok()
    }
}

impl<'a> Context<'a> {
    // ---- arguments, optional or required at a glance (see `crate::arguments`) ----

    /// The last value of argument `name` (body, else query), trimmed; `None` if absent
    /// (Tornado's `get_argument(name, None)`); a 400 error if it is not UTF-8.
    pub fn argument(&self, name: &str) -> Result<Option<&'a str>> {
        let body = self.request.body_arguments().get(name)?;
        let found = match body {
            Some(v) => Some(v),
            None => self.request.query_arguments().get(name)?,
        };
        Ok(found.map(str::trim))
    }

    /// The last value of argument `name`, trimmed; a 400 `Missing argument NAME` if absent
    /// (Tornado's `get_argument(name)`).
    pub fn required_argument(&self, name: &str) -> Result<&'a str> {
        self.argument(name)?.ok_or_else(|| {
            HttpError::bad_request(format!("Missing argument {name}"))
                .reason(format!("Missing argument {name}"))
        })
    }

    /// The last value of argument `name`, trimmed, or `default` if absent (Tornado's
    /// `get_argument(name, default)`).
    pub fn argument_or(&self, name: &str, default: &'a str) -> Result<&'a str> {
        Ok(self.argument(name)?.unwrap_or(default))
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
