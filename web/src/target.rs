//! `HandlerTarget`, `url` and `url_with`: what a route points at, the factory that builds a
//! fresh [`RequestHandler`] for each request (Tornado's handler class and its `initialize`
//! arguments).
//!
//! ```
//! struct Greeter { greeting: &'static str }
//! impl web::RequestHandler for Greeter {}
//! let route = web::url_with("/hello", || Greeter { greeting: "Hello" });
//! assert_eq!(route.pattern(), "/hello");
//! ```

use std::future::Future;
use std::pin::Pin;

use crate::context::Context;
use crate::error::HttpError;
use crate::handler::{execute, RequestHandler};
use crate::routing::UrlSpec;
use crate::streaming::StreamedHandler;

/// A route's target: the factory that builds a fresh handler for each request.
pub struct HandlerTarget(pub(crate) Box<dyn Route>);

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
pub(crate) trait Route {
    /// Builds the handler and runs it (`prepare`, the method, `on_finish`); `body_error`, a
    /// body that could not be parsed, is answered through the handler's `write_error`.
    fn serve<'a>(
        &'a self,
        cx: &'a mut Context<'_>,
        body_error: Option<Box<HttpError>>,
    ) -> Pin<Box<dyn Future<Output = ()> + 'a>>;

    /// Whether the handler streams its body ([`RequestHandler::STREAM_REQUEST_BODY`]).
    fn streams(&self) -> bool;

    /// A fresh handler for a streamed body (see [`crate::streaming`]).
    fn start_stream(&self) -> Box<dyn StreamedHandler>;
}

struct Factory<F>(F);

impl<H: RequestHandler, F: Fn() -> H> Route for Factory<F> {
    fn serve<'a>(
        &'a self,
        cx: &'a mut Context<'_>,
        body_error: Option<Box<HttpError>>,
    ) -> Pin<Box<dyn Future<Output = ()> + 'a>> {
        Box::pin(execute((self.0)(), cx, body_error))
    }

    fn streams(&self) -> bool {
        H::STREAM_REQUEST_BODY
    }

    fn start_stream(&self) -> Box<dyn StreamedHandler> {
        crate::streaming::boxed((self.0)())
    }
}
