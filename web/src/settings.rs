//! `Settings`: the application's configuration (the subset of Tornado's `Application`
//! settings that applies here), read by handlers through
//! [`Context::settings`](crate::Context::settings).
//!
//! ```
//! let settings = web::Settings { compress_response: true, ..web::Settings::default() };
//! let app = web::Application::with_settings(vec![], settings);
//! assert!(app.settings().compress_response && app.settings().etag);
//! ```

use http1::HTTP1ConnectionParameters;

use crate::app_data::AppData;
use crate::error::HttpError;
use crate::error_page::ErrorPage;
use crate::signed_cookies::CookieSecret;

/// An application-wide error page (the [`Settings::write_error`] setting): the page for a
/// status, its error (whose log message may be shown in `debug` mode) and the `debug` setting.
pub type WriteError = fn(status: u16, error: &HttpError, debug: bool) -> ErrorPage;

/// Application settings (the subset of Tornado's that applies here).
#[derive(Debug)]
pub struct Settings {
    /// Add an `Etag` to 200 responses to GET/HEAD and answer 304 on a matching
    /// `If-None-Match` (Tornado's `compute_etag`/`check_etag_header`). Default on.
    pub etag: bool,
    /// Connection parameters used by [`Application::listen`](crate::Application::listen).
    pub http: HTTP1ConnectionParameters,
    /// Error pages show the panic message or the error's log message (Tornado's `debug`,
    /// for development only: it shows internals to the client). Default off.
    pub debug: bool,
    /// Gzip text, JSON, JavaScript, XML and SVG responses over 1 KiB for clients that accept
    /// it (Tornado's `compress_response`; see [`crate::gzip`]). Default off.
    pub compress_response: bool,
    /// The keys of signed cookies (Tornado's `cookie_secret`; see [`crate::signed_cookies`]).
    pub cookie_secret: Option<CookieSecret>,
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

    // ---- for applications: templates, login, errors, state ----
    /// The folder templates are loaded from (Tornado's `template_path`; see
    /// [`crate::template`]). Without it, `render` is a 500 error.
    pub template_path: Option<std::path::PathBuf>,
    /// Where [`authenticated`](crate::RequestHandler::authenticated) handlers send a GET or
    /// HEAD without a user (Tornado's `login_url`), with `?next=<uri>`.
    pub login_url: Option<String>,
    /// The error page of every handler that does not override
    /// [`write_error`](crate::RequestHandler::write_error) (a JSON API writes its error body
    /// once, here). `None`: Tornado's HTML page.
    pub write_error: Option<WriteError>,
    /// What the application keeps for its handlers (its state, the named routes and the
    /// template cache): filled in by [`Application`](crate::Application); leave it default.
    pub app_data: AppData,
    /// The largest WebSocket message accepted, after decompression (Tornado's
    /// `websocket_max_message_size`, 10 MiB); a larger one closes the connection with 1009.
    pub websocket_max_message_size: usize,
    /// Send a ping on every WebSocket connection this often (Tornado's
    /// `websocket_ping_interval`); `None` (the default): no pings.
    pub websocket_ping_interval: Option<std::time::Duration>,
    /// Close a WebSocket connection whose pong does not come this long after a ping
    /// (Tornado's `websocket_ping_timeout`); `None`: the ping interval.
    pub websocket_ping_timeout: Option<std::time::Duration>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            etag: true,
            http: HTTP1ConnectionParameters::default(),
            debug: false,
            compress_response: false,
            cookie_secret: None,
            xsrf_cookies: false,
            cross_origin_protection: false,
            trusted_origins: Vec::new(),
            static_path: None,
            static_url_prefix: "/static/".to_owned(),
            template_path: None,
            login_url: None,
            write_error: None,
            app_data: AppData::default(),
            websocket_max_message_size: crate::websocket::DEFAULT_MAX_MESSAGE_SIZE,
            websocket_ping_interval: None,
            websocket_ping_timeout: None,
        }
    }
}
