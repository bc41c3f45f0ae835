//! `Application` (Tornado's `web.Application` and `_HandlerDelegate`): the routes and settings,
//! and the `http1` delegate that turns each request into a handler run and a response.
//!
//! Per request: `start_request` takes a `State` (request, response and path-argument
//! buffers) from the application's pool; `headers_received` copies the head into it;
//! `data_received` appends the body; `finish` parses form bodies, routes, builds the handler
//! with its route's factory, runs it (a panic becomes a 500), finalizes the response (Etag and
//! 304, Content-Length) and writes it through the connection, then logs the access line. The
//! state goes back to the pool when the message is dropped. On a keep-alive connection the one
//! allocation per request is the boxed handler future.

use std::any::Any;
use std::cell::RefCell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll};

use http1::{
    ConnectionContext, HTTP1Connection, HTTP1ConnectionParameters, HTTPMessageDelegate, HTTPServer,
    HTTPServerConnectionDelegate, RequestHead,
};
use log::Level;

use crate::error::{status_has_no_body, HttpError};
use crate::handler::{execute, Context, DisplayIp, RequestHandler};
use crate::request::{Method, Request};
use crate::response::Response;
use crate::routing::{PathArgs, Router, UrlSpec};

/// A route's target: the factory that builds a fresh handler for each request.
pub struct HandlerTarget(Box<dyn Route>);

impl std::fmt::Debug for HandlerTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HandlerTarget")
    }
}

impl HandlerTarget {
    /// A target building each handler with `factory` (its captures are the route's
    /// initialization arguments, Tornado's `initialize(**kwargs)`).
    pub fn new<H: RequestHandler, F: Fn() -> H + 'static>(factory: F) -> HandlerTarget {
        HandlerTarget(Box::new(Factory(factory)))
    }
}

/// A route to handler `H`, built with `H::default()` for each request.
///
/// ```
/// #[derive(Default)]
/// struct Home;
/// impl web::RequestHandler for Home {}
/// let app = web::Application::new(vec![web::url::<Home>("/").name("home")]);
/// assert_eq!(app.reverse_url("home", &[]).unwrap(), "/");
/// ```
pub fn url<H: RequestHandler + Default>(pattern: &str) -> UrlSpec<HandlerTarget> {
    UrlSpec::new(pattern, HandlerTarget::new(H::default))
}

/// A route whose handlers are built by `factory`.
pub fn url_with<H: RequestHandler, F: Fn() -> H + 'static>(
    pattern: &str,
    factory: F,
) -> UrlSpec<HandlerTarget> {
    UrlSpec::new(pattern, HandlerTarget::new(factory))
}

/// What runs a request: object-safe, so routes to different handler types share one router.
trait Route {
    fn serve<'a>(&'a self, cx: &'a mut Context<'_>) -> Pin<Box<dyn Future<Output = ()> + 'a>>;

    /// Whether the handler streams its body ([`RequestHandler::STREAM_REQUEST_BODY`]).
    fn streams(&self) -> bool;

    /// A fresh handler for a streamed body (see [`crate::streaming`]).
    fn start_stream(&self) -> Box<dyn crate::streaming::StreamedHandler>;
}

struct Factory<F>(F);

impl<H: RequestHandler, F: Fn() -> H> Route for Factory<F> {
    fn serve<'a>(&'a self, cx: &'a mut Context<'_>) -> Pin<Box<dyn Future<Output = ()> + 'a>> {
        Box::pin(execute((self.0)(), cx))
    }

    fn streams(&self) -> bool {
        H::STREAM_REQUEST_BODY
    }

    fn start_stream(&self) -> Box<dyn crate::streaming::StreamedHandler> {
        crate::streaming::boxed((self.0)())
    }
}

/// Tornado's `ErrorHandler`: answers every method with one error (404 for unmatched paths).
struct ErrorHandler(HttpError);

impl RequestHandler for ErrorHandler {
    async fn prepare(&mut self, _cx: &mut Context<'_>) -> crate::Result {
        Err(self.0.clone())
    }
}

/// Application settings (the subset of Tornado's that applies here).
#[derive(Debug)]
pub struct Settings {
    /// Add an `Etag` to 200 responses to GET/HEAD and answer 304 on a matching
    /// `If-None-Match` (Tornado's `compute_etag`/`check_etag_header`). Default on.
    pub etag: bool,
    /// The handler for paths no route matches (Tornado's `default_handler_class`); `None`
    /// answers 404 with the default error page.
    pub default_handler: Option<HandlerTarget>,
    /// Connection parameters used by [`Application::listen`].
    pub http: HTTP1ConnectionParameters,
    /// Error pages show the panic message or the error's log message (Tornado's `debug`,
    /// for development only: it shows internals to the client). Default off.
    pub debug: bool,
    /// Gzip text, JSON, JavaScript, XML and SVG responses over 1 KiB for clients that accept
    /// it (Tornado's `compress_response`; see [`crate::gzip`]). Default off.
    pub compress_response: bool,
    /// The keys of signed cookies (Tornado's `cookie_secret`; see [`crate::signed_cookies`]).
    pub cookie_secret: Option<crate::signed_cookies::CookieSecret>,
    /// Check an `_xsrf` token on every POST, PUT, PATCH and DELETE (Tornado's
    /// `xsrf_cookies`; see [`crate::xsrf`]). Default off.
    pub xsrf_cookies: bool,
    /// Refuse cross-origin unsafe requests from browsers by `Sec-Fetch-Site` / `Origin`
    /// (see [`crate::xsrf::check_cross_origin`]). Default off.
    pub cross_origin_protection: bool,
    /// Origins (`scheme://host[:port]`) allowed through `cross_origin_protection`.
    pub trusted_origins: Vec<String>,
    /// The folder `static_url` versions files in (Tornado's `static_path`).
    pub static_path: Option<std::path::PathBuf>,
    /// The URL prefix of `static_url` (Tornado's `static_url_prefix`), default `/static/`.
    pub static_url_prefix: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            etag: true,
            default_handler: None,
            http: HTTP1ConnectionParameters::default(),
            debug: false,
            compress_response: false,
            cookie_secret: None,
            xsrf_cookies: false,
            cross_origin_protection: false,
            trusted_origins: Vec::new(),
            static_path: None,
            static_url_prefix: "/static/".to_owned(),
        }
    }
}

/// What every request of the application shares.
pub(crate) struct AppShared {
    pub(crate) router: Router<HandlerTarget>,
    /// Some route streams its body: only then is the request routed at the head.
    streaming: bool,
    pub(crate) settings: Settings,
    /// Request states to reuse (LIFO: the most recently used buffers are the warmest). Boxed
    /// so that a message, which lives inside the connection's task, holds only a pointer.
    #[allow(clippy::vec_box)]
    pool: RefCell<Vec<Box<State>>>,
}

/// Pooled states kept at most (more concurrent requests than this allocate fresh ones).
const POOL_MAX: usize = 1024;
/// A state whose buffers grew past this is dropped rather than pooled (a big upload must not
/// pin its memory forever).
const POOL_MAX_STATE_BYTES: usize = 256 * 1024;

/// A collection of routes and settings; the `http1` server's delegate. Cheap to clone.
///
/// ```no_run
/// #[derive(Default)]
/// struct Hello;
/// impl web::RequestHandler for Hello {
///     async fn get(&mut self, cx: &mut web::Context<'_>) -> web::Result {
///         cx.write("Hello, World!");
///         Ok(())
///     }
/// }
/// let app = web::Application::new(vec![web::url::<Hello>("/")]);
/// let _server = app.listen(8888).unwrap();
/// reactor::Reactor::current().run();
/// ```
#[derive(Clone)]
pub struct Application(Rc<AppShared>);

impl Application {
    /// An application with `routes` (for any host) and default settings.
    pub fn new(routes: Vec<UrlSpec<HandlerTarget>>) -> Application {
        Application::with_settings(routes, Settings::default())
    }

    /// An application with `routes` and `settings`.
    pub fn with_settings(routes: Vec<UrlSpec<HandlerTarget>>, settings: Settings) -> Application {
        let streaming = routes.iter().any(|r| r.target().0.streams());
        Application(Rc::new(AppShared {
            streaming,
            router: Router::new(routes),
            settings,
            pool: RefCell::new(Vec::new()),
        }))
    }

    /// Adds routes for hosts matching `host_pattern`, tried before the any-host routes
    /// (Tornado's `add_handlers`). Only before the application is shared (cloned or serving).
    pub fn add_handlers(&mut self, host_pattern: &str, routes: Vec<UrlSpec<HandlerTarget>>) {
        match Rc::get_mut(&mut self.0) {
            Some(shared) => {
                shared.streaming |= routes.iter().any(|r| r.target().0.streams());
                shared.router.add_handlers(host_pattern, routes)
            }
            None => panic!("add_handlers must be called before the application is shared"),
        }
    }

    /// The path of the route named `name` with `args` in its groups.
    pub fn reverse_url(&self, name: &str, args: &[&str]) -> Result<String, HttpError> {
        self.0.router.reverse_url(name, args)
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    /// Serves the application on `port` (all interfaces) with the settings' connection
    /// parameters, on the current reactor (Tornado's `Application.listen`). Keep the returned
    /// server alive; run the reactor.
    pub fn listen(&self, port: u16) -> std::io::Result<HTTPServer> {
        self.listen_on(port, None)
    }

    /// [`listen`](Self::listen) on a given address.
    pub fn listen_on(&self, port: u16, address: Option<&str>) -> std::io::Result<HTTPServer> {
        let server = HTTPServer::new(self.clone(), self.0.settings.http.clone());
        server.listen(port, address)?;
        Ok(server)
    }
}

/// The buffers of one request, reused across requests through the pool.
#[derive(Default)]
pub(crate) struct State {
    pub(crate) request: Request,
    pub(crate) response: Response,
    pub(crate) path_args: PathArgs,
}

impl State {
    /// The handler's view of this request, answering through `conn`.
    pub(crate) fn context<'a>(
        &'a mut self,
        app: &'a AppShared,
        conn: &'a mut HTTP1Connection<'_>,
    ) -> Context<'a> {
        Context {
            request: &self.request,
            response: &mut self.response,
            path_args: &self.path_args,
            app,
            sink: conn,
        }
    }
}

impl HTTPServerConnectionDelegate for Application {
    type Message = WebMessage;

    fn start_request(&self, ctx: &ConnectionContext) -> WebMessage {
        let mut state = self.0.pool.borrow_mut().pop().unwrap_or_default();
        state.response.reset();
        state.request.connection_id = ctx.id;
        WebMessage {
            app: self.0.clone(),
            state: Some(state),
            error: None,
            stream: None,
        }
    }
}

/// One request's delegate (Tornado's `_HandlerDelegate`).
pub struct WebMessage {
    app: Rc<AppShared>,
    /// Always `Some` until dropped (taken back to the pool then).
    state: Option<Box<State>>,
    /// An error found before the handler could run (the query had too many arguments); boxed
    /// so that the rare case does not size every connection's future.
    error: Option<Box<HttpError>>,
    /// The handler of a streamed body, built at the head.
    stream: Option<Box<dyn crate::streaming::StreamedHandler>>,
}

impl Drop for WebMessage {
    fn drop(&mut self) {
        if let Some(state) = self.state.take() {
            let bytes = state.request.retained_bytes() + state.response.retained_bytes();
            let mut pool = self.app.pool.borrow_mut();
            if bytes <= POOL_MAX_STATE_BYTES && pool.len() < POOL_MAX {
                pool.push(state);
            }
        }
    }
}

impl WebMessage {
    fn state(&mut self) -> &mut State {
        self.state.get_or_insert_with(Box::default)
    }
}

impl HTTPMessageDelegate for WebMessage {
    // Not an `async fn`: see `finish`.
    #[allow(clippy::manual_async_fn)]
    fn headers_received(
        &mut self,
        head: &RequestHead<'_>,
        conn: &mut HTTP1Connection<'_>,
    ) -> impl Future<Output = ()> {
        async move {
            if let Err(e) = self.state().request.load_head(head) {
                self.error = Some(Box::new(e));
            } else if self.app.streaming && head.framing != http1::BodyFraming::None {
                // Only a request with a body can stream it: others take the ordinary path.
                let app = self.app.clone();
                let state = self.state.get_or_insert_with(Box::default);
                // Boxed, here and below: the streaming path's futures are large and rare, and
                // inline they would size every connection's future (its idle memory) for it.
                self.stream = Box::pin(crate::streaming::headers_received(&app, state, conn)).await;
            }
        }
    }

    async fn data_received(&mut self, chunk: &[u8], conn: &mut HTTP1Connection<'_>) {
        if let Some(stream) = &mut self.stream {
            let state = self.state.get_or_insert_with(Box::default);
            Box::pin(crate::streaming::data_received(
                &self.app,
                state,
                &mut **stream,
                chunk,
                conn,
            ))
            .await;
            return;
        }
        self.state().request.push_body(chunk);
    }

    fn on_connection_close(&mut self) {
        if let Some(stream) = &mut self.stream {
            stream.on_connection_close();
        }
    }

    // Not an `async fn`: see `crate::handler::execute` (the arguments are used where they
    // are, not first moved into the future's own slots, a copy that stalls).
    #[allow(clippy::manual_async_fn)]
    fn finish(&mut self, conn: &mut HTTP1Connection<'_>) -> impl Future<Output = ()> {
        async move {
            // The fields apart: the app is borrowed alongside the state (no `Rc` clone).
            let WebMessage {
                app,
                state,
                error,
                stream,
            } = self;
            let app = &**app;
            let state = &mut **state.get_or_insert_with(Box::default);
            if let Some(mut stream) = stream.take() {
                Box::pin(crate::streaming::finish(app, state, &mut *stream, conn)).await;
                return;
            }
            let mut error = error.take();
            if error.is_none() {
                error = state.request.parse_body().err().map(Box::new);
            }
            // Route, then run the handler (or the error handler), catching panics: inline rather
            // than an `async fn` of its own, one state machine fewer per request. In a block of its
            // own, so that the route and the handler's outcome are not kept across the write (they
            // would grow every connection's future).
            {
                let route = find_route(app, &state.request, &mut state.path_args, error);
                reactor::trace_step!("web", "route matched");
                let mut cx = state.context(app, conn);
                let panicked = CatchUnwind(route.get().serve(&mut cx)).await.err();
                reactor::trace_step!("web", "handler ran (prepare, get, on_finish)");
                if let Some(payload) = panicked {
                    panic_response(
                        app,
                        &state.request,
                        &mut state.response,
                        "handler",
                        &*payload,
                    );
                }
            }
            write_response(app, state, conn).await;
            log_request(&state.request, &state.response);
        }
    }
}

/// The streaming handler for this request's route, if its route streams (path arguments
/// filled); `None` for other routes, unmatched paths and routing errors (handled at `finish`).
pub(crate) fn find_streaming(
    app: &AppShared,
    state: &mut State,
) -> Option<Box<dyn crate::streaming::StreamedHandler>> {
    let State {
        request, path_args, ..
    } = state;
    let target = app
        .router
        .find_with(|| request.host(), request.path(), path_args)
        .ok()??;
    target.0.streams().then(|| target.0.start_stream())
}

/// The route that answers: the matched one, or (boxed: the rare case stays out of the
/// request's future) an `ErrorHandler` for an earlier error, a routing error or a 404.
enum Chosen<'a> {
    Matched(&'a dyn Route),
    Error(Box<dyn Route>),
}

impl Chosen<'_> {
    fn get(&self) -> &dyn Route {
        match self {
            Chosen::Matched(r) => *r,
            Chosen::Error(r) => &**r,
        }
    }
}

fn find_route<'a>(
    app: &'a AppShared,
    request: &Request,
    path_args: &mut PathArgs,
    error: Option<Box<HttpError>>,
) -> Chosen<'a> {
    let target = match error {
        Some(e) => Err(*e),
        None => app
            .router
            .find_with(|| request.host(), request.path(), path_args)
            .and_then(|t| {
                t.or(app.settings.default_handler.as_ref())
                    .ok_or_else(|| HttpError::new(404))
            }),
    };
    match target {
        Ok(t) => Chosen::Matched(&*t.0),
        Err(e) => Chosen::Error(Box::new(Factory(move || ErrorHandler(e.clone())))),
    }
}

/// A handler (`what`: "handler", "streaming handler") panicked: logs it, then answers 500 (its
/// message on the page with the `debug` setting), or aborts the response if the headers were
/// already sent.
pub(crate) fn panic_response(
    app: &AppShared,
    request: &Request,
    response: &mut Response,
    what: &str,
    payload: &(dyn Any + Send),
) {
    log::error!(
        target: "web::general",
        "Uncaught panic in {what}, {} {} ({}): {}",
        request.method(),
        request.uri(),
        DisplayIp(request.remote_ip()),
        panic_message(payload)
    );
    if response.headers_written {
        response.aborted = true;
    } else {
        response.clear();
        let _ = response.set_status(500, None);
        if app.settings.debug {
            let message = format!("panic: {}", panic_message(payload));
            crate::debug::write_debug_page(response, 500, Some(&message));
        } else {
            crate::error::write_default_error_page(
                &mut response.body,
                500,
                "Internal Server Error",
            );
        }
    }
    response.finished = true;
}

/// Etag/304 and Content-Length, then the status line, headers and body to the connection.
#[allow(clippy::manual_async_fn)] // on purpose: see the comment inside
pub(crate) fn write_response<'a, 's>(
    app: &'a AppShared,
    state: &'a mut State,
    conn: &'a mut HTTP1Connection<'s>,
) -> impl Future<Output = ()> + use<'a, 's> {
    // An `async` block, not an `async fn`: see `crate::handler::execute`.
    async move {
        let State {
            request, response, ..
        } = state;
        if response.aborted {
            conn.set_close_after();
            return;
        }
        let result = if response.headers_written {
            crate::gzip::transform_last(response);
            let mut r = Ok(());
            if !response.body.is_empty() {
                r = conn.write(&response.body).await;
            }
            match r {
                Ok(()) => conn.finish().await,
                e => e,
            }
        } else {
            finalize(app, request, response);
            let no_body = status_has_no_body(response.status());
            // The head's parts live only in this branch, as long as the write: that keeps them out
            // of the connection future's largest state. One call writes the whole response.
            let (line, headers, body) = response.head();
            let body = if no_body { &[][..] } else { body };
            conn.write_response(line, &headers, body).await
        };
        if let Err(e) = result {
            log::debug!(target: "web::general", "response not completed: {e}");
            conn.set_close_after();
        }
    }
}

/// Tornado's `finish` bookkeeping before the headers go out: the automatic Etag and 304, no
/// body or representation headers on 1xx/204/304, Content-Length otherwise (unless set).
fn finalize(app: &AppShared, request: &Request, response: &mut Response) {
    // The header list knows whether the two this function may add are set.
    let has_etag = response.headers().has_etag();
    let mut has_length = response.headers().has_content_length();
    let get_or_head = matches!(request.supported_method(), Some(Method::Get | Method::Head));
    if app.settings.etag && !has_etag && response.status() == 200 && get_or_head {
        let hash = crate::etag::etag_hash(&response.body);
        response.headers_mut().push_etag(hash);
        // The tag's text is made only for a request that has one to compare.
        let matched = request
            .headers()
            .get_all("If-None-Match")
            .any(|v| crate::etag::etag_matches(v, crate::etag::Etag::from_hash(hash).as_str()));
        if matched {
            response.body.clear();
            let _ = response.set_status(304, None);
        }
    }
    if crate::gzip::transform_final(app, request, response) {
        has_length = false;
    }
    if status_has_no_body(response.status()) {
        if !response.body.is_empty() {
            log::warn!(target: "web::general", "body dropped: a {} response has none", response.status());
            response.body.clear();
        }
        let headers = response.headers_mut();
        for h in [
            "Content-Encoding",
            "Content-Language",
            "Content-Type",
            "Content-Length",
        ] {
            headers.remove(h);
        }
    } else if !has_length && request.supported_method() == Some(Method::Head) {
        // The length of the body a GET would get (http1 sends none for HEAD). For other
        // methods `HTTP1Connection::write_response` frames the whole body by its length.
        let len = response.body.len() as u64;
        response.headers_mut().push_content_length(len);
    }
}

/// Tornado's `log_request`: one line per request on target `web::access`; info below 400,
/// warning below 500, error from 500.
pub(crate) fn log_request(request: &Request, response: &Response) {
    let status = response.status();
    let level = match status {
        0..=399 => Level::Info,
        400..=499 => Level::Warn,
        _ => Level::Error,
    };
    log::log!(
        target: "web::access",
        level,
        "{} {} {} ({}) {:.2}ms",
        status,
        request.method(),
        request.uri(),
        DisplayIp(request.remote_ip()),
        request.request_time().as_secs_f64() * 1000.0
    );
}

pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "(non-string panic payload)"
    }
}

/// Polls a future, turning a panic inside it into `Err(payload)`.
pub(crate) struct CatchUnwind<F>(pub(crate) F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}
