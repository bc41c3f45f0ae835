//! Tornado's web layer in Rust: an [`Application`] routes each request to a fresh
//! [`RequestHandler`], which reads arguments and cookies through its [`Context`] and writes a
//! response; errors become status pages. This crate never touches sockets or the poller: it
//! implements `http1`'s delegate traits.
//!
//! The top layer of the stack (`reactor` → `iostream` → `http1` → `web`): [`Application`] is
//! the `http1` delegate of every connection; for each request it routes, builds the handler
//! and runs `prepare`, the method and `on_finish` (step 7 of the request walk-through in
//! `ARCHITECTURE.md`, repository root), then hands the response back to `http1`. The full
//! tour of the features: `cargo run -p web --example demo`; one request traced through the
//! four layers: `cargo run -p web --example trace --features trace`.
//!
//! In a program, `app.listen(8888)?` then `reactor::Reactor::current().run()`; here the
//! server takes a free port and a client thread asks it once:
//!
//! ```
//! use std::io::{Read, Write};
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
//! let server = http1::HTTPServer::new(app, web::HTTP1ConnectionParameters::default());
//! let port = server.listen(0, Some("127.0.0.1")).expect("listen")[0].port();
//!
//! let reactor = reactor::Reactor::current();
//! let remote = reactor.remote();
//! let client = std::thread::spawn(move || {
//!     let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
//!     s.write_all(b"GET /?name=Tornado HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
//!         .unwrap();
//!     let mut response = String::new();
//!     s.read_to_string(&mut response).unwrap();
//!     remote.stop(); // the loop serves on this thread until then
//!     response
//! });
//! reactor.run();
//! let response = client.join().unwrap();
//! assert!(response.starts_with("HTTP/1.1 200 OK\r\n"));
//! assert!(response.ends_with("\r\n\r\nHello, Tornado!"));
//! ```
//!
//! One module per concern, as in Tornado:
//! - [`application`]: `Application` (routes, settings, `listen`); [`settings`]: `Settings`;
//!   [`target`]: `url`, `url_with` and `HandlerTarget`, what a route builds;
//! - [`handler`]: `RequestHandler` and `execute` (Tornado's `_execute`);
//! - [`context`]: `Context`, a handler's view of its request (input accessors, output methods);
//! - [`request`] and [`response`]: the request as read, the response as built;
//! - [`routing`]: `UrlSpec` patterns, host groups, `reverse_url`;
//! - [`arguments`] and [`multipart`]: query, form and multipart bodies, with Tornado's bounds;
//! - [`cookies`]: `Cookie` header parsing and validated `Set-Cookie` values;
//! - [`etag`]: automatic `Etag` and `If-None-Match`;
//! - [`escape`]: percent-decoding and HTML escaping;
//! - [`error`]: `HttpError` and reason phrases; [`error_page`]: the default error page and
//!   the `debug` setting's;
//! - [`static_files`]: `StaticFileHandler` (ranges, conditional requests, `sendfile`),
//!   `send_file`, `static_url`;
//! - [`redirect`]: `RedirectHandler` and `ErrorHandler`;
//! - [`streaming`] and [`stream_multipart`]: request bodies handed over piece by piece, and a
//!   `multipart/form-data` parser that works on them in constant memory;
//! - [`signed_cookies`] and [`xsrf`]: HMAC-signed cookies, XSRF tokens, cross-origin checks;
//! - [`template`]: `render` and `render_string` through minijinja, Tornado's namespace (the
//!   environment and cache, shared with WebSockets' `render_string`, in `app_templates.rs`);
//!   [`login`]: `current_user` and `authenticated`; [`app_state`]: `Application::with_state`
//!   and `Context::state`;
//! - [`workers`](mod@workers): the application on one thread per core, sharing a port;
//! - [`gzip`]: `compress_response` (applied to responses in `compress.rs`);
//! - the request engine, on top of all these: `dispatch.rs` is the `http1` delegate
//!   ([`WebMessage`]), `output.rs` writes the response and the access log.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod app_data;
pub mod app_state;
mod app_templates;
pub mod application;
pub mod arguments;
mod compress;
pub mod context;
pub mod cookies;
mod dispatch;
pub mod error;
pub mod error_page;
pub mod escape;
pub mod etag;
pub mod gzip;
pub mod handler;
pub mod header_value;
pub mod login;
pub mod multipart;
mod output;
pub mod redirect;
pub mod request;
pub mod response;
pub mod routing;
pub mod settings;
pub mod signed_cookies;
pub mod static_files;
pub mod stream_multipart;
pub mod streaming;
pub mod target;
pub mod template;
pub mod websocket;
pub mod workers;
pub mod xsrf;

pub use app_data::AppData;
pub use application::Application;
pub use arguments::Arguments;
pub use context::Context;
pub use cookies::{Cookie, SameSite};
pub use dispatch::WebMessage;
pub use error::{reason_phrase, HttpError, Result};
pub use error_page::ErrorPage;
pub use handler::RequestHandler;
pub use header_value::HeaderValue;
pub use http1::HTTP1ConnectionParameters;
/// The TLS config types of [`Application::listen_tls`] (from `iostream`).
pub use iostream::{TlsAcceptor, TlsServerConfig};
pub use multipart::HttpFile;
pub use redirect::{ErrorHandler, RedirectHandler};
pub use request::Request;
pub use response::Response;
pub use routing::{Router, UrlSpec};
pub use settings::{Settings, WriteError};
pub use signed_cookies::CookieSecret;
pub use static_files::StaticFileHandler;
pub use target::{url, url_with, HandlerTarget};
pub use workers::{
    serve_workers, serve_workers_tls, workers, WorkerInfo, Workers, WorkersExit, WorkersHandle,
};
