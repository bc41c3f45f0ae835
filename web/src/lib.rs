//! Tornado's web layer in Rust: an [`Application`] routes each request to a fresh
//! [`RequestHandler`], which reads arguments and cookies through its [`Context`] and writes a
//! response; errors become status pages. This crate never touches sockets or the poller: it
//! implements `http1`'s delegate traits.
//!
//! ```no_run
//! use web::{url, Application, Context, RequestHandler, Result};
//!
//! #[derive(Default)]
//! struct MainHandler;
//!
//! impl RequestHandler for MainHandler {
//!     async fn get(&mut self, cx: &mut Context<'_>) -> Result {
//!         let name = cx.get_argument("name", Some("World"))?;
//!         cx.write(format!("Hello, {name}!"));
//!         Ok(())
//!     }
//! }
//!
//! let app = Application::new(vec![url::<MainHandler>("/")]);
//! let _server = app.listen(8888).expect("listen");
//! reactor::Reactor::current().run();
//! ```
//!
//! One module per concern, as in Tornado:
//! - [`application`]: `Application`, settings, the `http1` delegate, the access log;
//! - [`handler`]: `RequestHandler` and its `Context` (input accessors, output methods);
//! - [`request`] and [`response`]: the request as read, the response as built;
//! - [`routing`]: `UrlSpec` patterns, host groups, `reverse_url`;
//! - [`arguments`] and [`multipart`]: query, form and multipart bodies, with Tornado's bounds;
//! - [`cookies`]: `Cookie` header parsing and validated `Set-Cookie` values;
//! - [`etag`]: automatic `Etag` and `If-None-Match`;
//! - [`escape`]: percent-decoding and HTML escaping;
//! - [`error`]: `HttpError`, reason phrases and the default error page.
//! - [`static_files`]: `StaticFileHandler` (ranges, conditional requests, `sendfile`),
//!   `send_file`, `static_url`;
//! - [`redirect`]: `RedirectHandler` and `ErrorHandler`;
//! - [`streaming`] and [`stream_multipart`]: request bodies handed over piece by piece, and a
//!   `multipart/form-data` parser that works on them in constant memory;
//! - [`signed_cookies`] and [`xsrf`]: HMAC-signed cookies, XSRF tokens, cross-origin checks;
//! - [`gzip`]: `compress_response`; the `debug` setting's error pages live in `debug.rs`.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod application;
pub mod arguments;
pub mod cookies;
mod debug;
pub mod error;
pub mod escape;
pub mod etag;
pub mod gzip;
pub mod handler;
pub mod multipart;
pub mod redirect;
pub mod request;
pub mod response;
pub mod routing;
pub mod signed_cookies;
pub mod static_files;
pub mod stream_multipart;
pub mod streaming;
pub mod xsrf;

pub use application::{url, url_with, Application, HandlerTarget, Settings};
pub use arguments::Arguments;
pub use cookies::{Cookie, SameSite};
pub use error::{reason_phrase, HttpError, Result};
pub use handler::{Context, RequestHandler};
pub use http1::HTTP1ConnectionParameters;
pub use multipart::HttpFile;
pub use redirect::{ErrorHandler, RedirectHandler};
pub use request::Request;
pub use response::Response;
pub use routing::{Router, UrlSpec};
pub use signed_cookies::CookieSecret;
pub use static_files::StaticFileHandler;
