//! `HTTPServer`: a [`TcpServer`] whose `handle_stream` makes an [`HTTP1ServerConnection`] and
//! calls `start_serving(delegate)` (Tornado's `httpserver.HTTPServer`).
//!
//! With a [`TlsAcceptor`] ([`HTTPServer::with_tls`], Tornado's `ssl_options`) every accepted
//! stream is a TLS stream; nothing else changes for the connection above it. The handshake
//! runs inside the first read, so the header timeout covers it (a silent client is cut like
//! a slow plain one); plain HTTP sent to the TLS port is answered 400 by the stream itself;
//! requests report `protocol == "https"`. [`TlsAcceptor::reload`] (through
//! [`HTTPServer::tls`]) swaps the certificates for new connections at once, while open
//! connections keep theirs (nginx needs `nginx -s reload`, which starts new workers).

use crate::delegate::HTTPServerConnectionDelegate;
use crate::params::HTTP1ConnectionParameters;
use crate::server_connection::HTTP1ServerConnection;
use crate::shutdown::Drain;
use iostream::{Address, IOStream, StreamHandler, TcpServer, TlsAcceptor};
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::rc::Rc;
use std::time::Duration;

/// An HTTP/1.1 server on the current reactor.
///
/// ```no_run
/// use http1::*;
/// # struct App;
/// # struct Msg;
/// # impl HTTPServerConnectionDelegate for App {
/// #     type Message = Msg;
/// #     fn start_request(&self, _: &ConnectionContext) -> Msg { Msg }
/// # }
/// # impl HTTPMessageDelegate for Msg {
/// #     async fn headers_received(&mut self, _: &RequestHead<'_>, _: &mut HTTP1Connection<'_>) {}
/// #     async fn finish(&mut self, _: &mut HTTP1Connection<'_>) {}
/// # }
/// let reactor = reactor::Reactor::new().unwrap();
/// reactor.block_on(async {
///     let server = HTTPServer::new(App, HTTP1ConnectionParameters::default());
///     server.listen(8888, Some("127.0.0.1")).unwrap();
///     std::future::pending::<()>().await;
/// });
/// ```
pub struct HTTPServer {
    tcp: TcpServer,
    drain: Rc<Drain>,
}

struct Handler<D> {
    delegate: Rc<D>,
    params: Rc<HTTP1ConnectionParameters>,
    drain: Rc<Drain>,
}

impl<D: HTTPServerConnectionDelegate> StreamHandler for Handler<D> {
    fn handle_stream(&self, stream: IOStream, address: Address) {
        // Responses leave in one write per batch: don't let Nagle hold the next batch back.
        let _ = stream.set_nodelay(true);
        let mut conn = HTTP1ServerConnection::new(stream, self.params.clone(), address);
        conn.set_drain(&self.drain);
        conn.start_serving(self.delegate.clone());
    }
}

impl HTTPServer {
    /// A server handing every request to `delegate`.
    pub fn new<D: HTTPServerConnectionDelegate>(
        delegate: D,
        params: HTTP1ConnectionParameters,
    ) -> HTTPServer {
        HTTPServer::from_rc(Rc::new(delegate), Rc::new(params))
    }

    /// A server speaking HTTPS: every connection is a TLS stream with `tls`'s config as it is
    /// when the connection is accepted; requests report `protocol == "https"` (unless
    /// `xheaders` says otherwise).
    ///
    /// ```no_run
    /// use http1::*;
    /// use iostream::{TlsAcceptor, TlsServerConfig};
    /// # struct App;
    /// # struct Msg;
    /// # impl HTTPServerConnectionDelegate for App {
    /// #     type Message = Msg;
    /// #     fn start_request(&self, _: &ConnectionContext) -> Msg { Msg }
    /// # }
    /// # impl HTTPMessageDelegate for Msg {
    /// #     async fn headers_received(&mut self, _: &RequestHead<'_>, _: &mut HTTP1Connection<'_>) {}
    /// #     async fn finish(&mut self, _: &mut HTTP1Connection<'_>) {}
    /// # }
    /// reactor::Reactor::new().unwrap().block_on(async {
    ///     let tls = TlsAcceptor::new(TlsServerConfig::new("cert.pem", "key.pem")).unwrap();
    ///     let server = HTTPServer::with_tls(App, HTTP1ConnectionParameters::default(), tls);
    ///     server.listen(8443, None).unwrap();
    ///     // Later, on SIGHUP: renewed certificates for the next connections.
    ///     server.tls().unwrap().reload().unwrap();
    /// });
    /// ```
    pub fn with_tls<D: HTTPServerConnectionDelegate>(
        delegate: D,
        params: HTTP1ConnectionParameters,
        tls: TlsAcceptor,
    ) -> HTTPServer {
        HTTPServer::from_rc_with_tls(Rc::new(delegate), Rc::new(params), tls)
    }

    /// Like [`new`](Self::new), sharing a delegate and parameters already behind `Rc`s.
    pub fn from_rc<D: HTTPServerConnectionDelegate>(
        delegate: Rc<D>,
        params: Rc<HTTP1ConnectionParameters>,
    ) -> HTTPServer {
        HTTPServer::build(delegate, params, None)
    }

    /// [`with_tls`](Self::with_tls) sharing a delegate and parameters already behind `Rc`s.
    pub fn from_rc_with_tls<D: HTTPServerConnectionDelegate>(
        delegate: Rc<D>,
        params: Rc<HTTP1ConnectionParameters>,
        tls: TlsAcceptor,
    ) -> HTTPServer {
        HTTPServer::build(delegate, params, Some(tls))
    }

    /// The server, speaking HTTPS when `tls` is given (its requests then report `https`).
    fn build<D: HTTPServerConnectionDelegate>(
        delegate: Rc<D>,
        params: Rc<HTTP1ConnectionParameters>,
        tls: Option<TlsAcceptor>,
    ) -> HTTPServer {
        let drain = Rc::new(Drain::default());
        let params = match &tls {
            Some(_) if params.protocol != "https" => Rc::new(HTTP1ConnectionParameters {
                protocol: "https",
                ..(*params).clone()
            }),
            _ => params,
        };
        let handler = Handler {
            delegate,
            params,
            drain: drain.clone(),
        };
        let tcp = match tls {
            Some(tls) => TcpServer::with_tls(handler, tls),
            None => TcpServer::new(handler),
        };
        HTTPServer { tcp, drain }
    }

    /// Binds and listens on `port` (0: any free port); returns the bound addresses.
    pub fn listen(&self, port: u16, address: Option<&str>) -> io::Result<Vec<SocketAddr>> {
        self.tcp.listen(port, address)
    }

    /// Serves on already-bound listening sockets (see `iostream::bind_sockets`).
    pub fn add_sockets(&self, listeners: Vec<TcpListener>) -> io::Result<()> {
        self.tcp.add_sockets(listeners)
    }

    /// Stops accepting connections (open connections finish their requests).
    pub fn stop(&self) {
        self.tcp.stop()
    }

    /// Graceful shutdown: stops accepting, closes the idle keep-alive connections (and those
    /// still waiting for their first request), and lets the requests being served finish;
    /// a connection closes after its current response. Resolves to `true` once every
    /// connection is closed, or to `false` if some are still open after `timeout` (they are
    /// left as they are: exiting the process closes them).
    ///
    /// ```no_run
    /// # use http1::*;
    /// # fn app() -> HTTPServer { unimplemented!() }
    /// reactor::Reactor::current().block_on(async {
    ///     let server = app();
    ///     let mut signals = reactor::Signals::new(&[reactor::SIGINT, reactor::SIGTERM]).unwrap();
    ///     signals.recv().await.unwrap();
    ///     let drained = server.shutdown(std::time::Duration::from_secs(10)).await;
    ///     std::process::exit(if drained { 0 } else { 1 });
    /// });
    /// ```
    pub async fn shutdown(&self, timeout: Duration) -> bool {
        self.tcp.stop();
        self.drain.start();
        reactor::timeout(timeout, self.drain.finished())
            .await
            .is_ok()
    }

    /// Open connections (accepted and not yet closed).
    pub fn connection_count(&self) -> usize {
        self.drain.active()
    }

    /// The TLS acceptor of an HTTPS server (to [`reload`](TlsAcceptor::reload) its
    /// certificates), `None` for plain HTTP.
    pub fn tls(&self) -> Option<&TlsAcceptor> {
        self.tcp.tls()
    }

    /// The underlying TCP server.
    pub fn tcp_server(&self) -> &TcpServer {
        &self.tcp
    }
}
