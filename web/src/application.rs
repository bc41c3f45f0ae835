//! `Application` (Tornado's `web.Application`): the routes, the settings and the pool of
//! request buffers that every connection of the application shares. How a request runs
//! through it is in `dispatch.rs` (the `http1` delegate).

use std::cell::RefCell;
use std::rc::Rc;

use http1::HTTPServer;
use iostream::{TlsAcceptor, TlsServerConfig};

use crate::context::State;
use crate::error::HttpError;
use crate::routing::{Router, UrlSpec};
use crate::settings::Settings;
use crate::target::HandlerTarget;

/// What every request of the application shares.
pub(crate) struct AppShared {
    pub(crate) router: Router<HandlerTarget>,
    /// Some route streams its body: only then is the request routed at the head.
    pub(crate) streaming: bool,
    pub(crate) settings: Settings,
    /// The handler for paths no route matches (Tornado's `default_handler_class`).
    pub(crate) default_handler: Option<HandlerTarget>,
    /// Request states to reuse (LIFO: the most recently used buffers are the warmest). Boxed
    /// so that a message, which lives inside the connection's task, holds only a pointer.
    #[allow(clippy::vec_box)]
    pub(crate) pool: RefCell<Vec<Box<State>>>,
}

/// Pooled states kept at most (more concurrent requests than this allocate fresh ones).
const POOL_MAX: usize = 1024;
/// A state whose buffers grew past this is dropped rather than pooled (a big upload must not
/// pin its memory forever).
const POOL_MAX_STATE_BYTES: usize = 256 * 1024;

impl AppShared {
    /// A request state from the pool (or a fresh one), its response reset.
    pub(crate) fn take_state(&self) -> Box<State> {
        let mut state = self.pool.borrow_mut().pop().unwrap_or_default();
        state.response.reset();
        state.current_user = None;
        state
    }

    /// Gives a request's state back to the pool, unless the pool is full or its buffers grew
    /// too large.
    pub(crate) fn return_state(&self, state: Box<State>) {
        let bytes = state.request.retained_bytes() + state.response.retained_bytes();
        let mut pool = self.pool.borrow_mut();
        if bytes <= POOL_MAX_STATE_BYTES && pool.len() < POOL_MAX {
            pool.push(state);
        }
    }
}

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
pub struct Application(pub(crate) Rc<AppShared>);

impl Application {
    /// An application with `routes` (for any host) and default settings.
    pub fn new(routes: Vec<UrlSpec<HandlerTarget>>) -> Application {
        Application::with_settings(routes, Settings::default())
    }

    /// An application with `routes` and `settings`.
    /// With the `static_path` setting, a route `{static_url_prefix}(.*)` serving that folder
    /// comes after `routes` (Tornado's `static_path`; see [`StaticFileHandler`](crate::StaticFileHandler)).
    pub fn with_settings(
        mut routes: Vec<UrlSpec<HandlerTarget>>,
        mut settings: Settings,
    ) -> Application {
        if let Some(root) = &settings.static_path {
            let pattern = format!("{}(.*)", regex::escape(&settings.static_url_prefix));
            routes.push(crate::static_files::StaticFileHandler::new(root.clone()).route(&pattern));
        }
        let streaming = routes.iter().any(|r| r.target().0.streams());
        let router = Router::new(routes);
        settings.app_data.routes = std::sync::Arc::new(router.named_routes());
        Application(Rc::new(AppShared {
            streaming,
            router,
            settings,
            default_handler: None,
            pool: RefCell::new(Vec::new()),
        }))
    }

    /// The shared part, to change before the application is shared (cloned or serving).
    pub(crate) fn shared_mut(&mut self, what: &str) -> &mut AppShared {
        match Rc::get_mut(&mut self.0) {
            Some(shared) => shared,
            None => panic!("{what} must be called before the application is shared"),
        }
    }

    /// Adds routes for hosts matching `host_pattern`, tried before the any-host routes
    /// (Tornado's `add_handlers`). Only before the application is shared (cloned or serving).
    pub fn add_handlers(&mut self, host_pattern: &str, routes: Vec<UrlSpec<HandlerTarget>>) {
        let shared = self.shared_mut("add_handlers");
        shared.streaming |= routes.iter().any(|r| r.target().0.streams());
        shared.router.add_handlers(host_pattern, routes);
        shared.settings.app_data.routes = std::sync::Arc::new(shared.router.named_routes());
    }

    /// Sets the handler for paths no route matches (Tornado's `default_handler_class`);
    /// without one they answer 404 with the default error page. Only before the application
    /// is shared (cloned or serving).
    ///
    /// ```
    /// #[derive(Default)]
    /// struct NotFound;
    /// impl web::RequestHandler for NotFound {}
    /// let mut app = web::Application::new(vec![]);
    /// app.set_default_handler(web::HandlerTarget::new(NotFound::default));
    /// ```
    pub fn set_default_handler(&mut self, target: HandlerTarget) {
        let shared = self.shared_mut("set_default_handler");
        shared.default_handler = Some(target);
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

    /// Serves the application over HTTPS on `port` (all interfaces; `address` to pick one):
    /// Tornado's `listen(port, ssl_options=...)`. The certificate chain and key are read from
    /// `tls`'s PEM files now (an unreadable or mismatched pair is an error here, before
    /// listening); requests report `protocol == "https"`. To renew the certificates without a
    /// restart, call `server.tls().unwrap().reload()` (e.g. on SIGHUP): new connections get
    /// the new ones at once, open connections keep theirs.
    ///
    /// ```no_run
    /// let app = web::Application::new(vec![]);
    /// let tls = iostream::TlsServerConfig::new("cert.pem", "key.pem");
    /// let server = app.listen_tls(8443, None, tls).unwrap();
    /// reactor::Reactor::current().run();
    /// # drop(server);
    /// ```
    pub fn listen_tls(
        &self,
        port: u16,
        address: Option<&str>,
        tls: TlsServerConfig,
    ) -> std::io::Result<HTTPServer> {
        let server = self.https_server(TlsAcceptor::new(tls)?);
        server.listen(port, address)?;
        Ok(server)
    }

    /// An HTTPS server for the application with the settings' connection parameters, not yet
    /// listening (for [`serve_workers`](crate::serve_workers)-style setups that add sockets).
    pub fn https_server(&self, tls: TlsAcceptor) -> HTTPServer {
        HTTPServer::with_tls(self.clone(), self.0.settings.http.clone(), tls)
    }
}
