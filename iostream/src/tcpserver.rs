//! [`TcpServer`]: accepts connections on listening sockets and hands each one, as an
//! [`IOStream`], to a [`StreamHandler`] (Tornado's `TCPServer`).
//!
//! Each listening socket gets one task on the reactor. The task accepts with `accept4`
//! (non-blocking, close-on-exec) until `EAGAIN`, but at most
//! [`max_accepts_per_turn`](TcpServer::set_max_accepts_per_turn) (128) connections before it
//! yields to the loop, so a connection storm cannot starve established connections.
//!
//! Errors of `accept` never end the server:
//! * `ECONNABORTED`, `EPROTO` (and `EPERM`, a firewall's veto): the connection is gone; skip it.
//! * `EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM` (out of fds or memory): accepting **pauses** on a
//!   reactor timer ([`set_accept_pause`](TcpServer::set_accept_pause), 100 ms) and then tries
//!   again: never a busy loop (with edge-triggered readiness the pending connection would not
//!   even be reported again), never a crash. One line goes to stderr when such an episode
//!   starts, and one when accepting works again.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use reactor::{JoinHandle, Registration};

use crate::netutil::{bind_sockets, Address};
use crate::stream::IOStream;
use crate::sys;
use crate::tls_config::TlsAcceptor;

/// What a [`TcpServer`] does with each accepted connection (Tornado's `handle_stream`).
///
/// It runs on the loop and should return quickly: spawn a task for the connection's work.
/// Any `Fn(IOStream, Address) + 'static` closure is a `StreamHandler`.
pub trait StreamHandler: 'static {
    /// Takes over a newly accepted connection.
    fn handle_stream(&self, stream: IOStream, address: Address);
}

impl<F: Fn(IOStream, Address) + 'static> StreamHandler for F {
    fn handle_stream(&self, stream: IOStream, address: Address) {
        self(stream, address)
    }
}

/// Default number of connections accepted per listener before yielding to the loop.
pub const DEFAULT_MAX_ACCEPTS_PER_TURN: usize = 128;
/// Default pause of accepting after `EMFILE`/`ENFILE`.
pub const DEFAULT_ACCEPT_PAUSE: Duration = Duration::from_millis(100);
/// Backlog used by [`TcpServer::listen`].
pub const DEFAULT_BACKLOG: i32 = 1024;

/// A server that accepts TCP (and Unix-domain) connections on the current reactor.
///
/// Dropping the `TcpServer` does not stop it (as in Tornado): call [`stop`](Self::stop).
///
/// ```
/// use iostream::{Address, IOStream, TcpClient, TcpServer};
/// use reactor::Reactor;
///
/// Reactor::new().unwrap().block_on(async {
///     let server = TcpServer::new(|stream: IOStream, _addr: Address| {
///         reactor::spawn(async move {
///             while let Ok(line) = stream.read_until(b"\n", None).await {
///                 if stream.write(&line).await.is_err() {
///                     break;
///                 }
///             }
///         });
///     });
///     let addrs = server.listen(0, Some("127.0.0.1")).unwrap();
///     let client = TcpClient::connect("127.0.0.1", addrs[0].port(), None).await.unwrap();
///     client.write(b"hello\n").await.unwrap();
///     assert_eq!(client.read_until(b"\n", None).await.unwrap(), b"hello\n");
///     server.stop();
/// });
/// ```
pub struct TcpServer {
    inner: Rc<ServerInner>,
}

struct ServerInner {
    handler: Rc<dyn StreamHandler>,
    /// Every accepted stream starts TLS with this acceptor's current config.
    tls: Option<TlsAcceptor>,
    tasks: RefCell<Vec<JoinHandle<()>>>,
    max_accepts_per_turn: Cell<usize>,
    accept_pause: Cell<Duration>,
    accepted: Cell<u64>,
    paused: Cell<bool>,
    pause_episodes: Cell<u64>,
}

/// A listening socket of either kind.
enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener, PathBuf),
}

impl Listener {
    fn fd(&self) -> i32 {
        match self {
            Listener::Tcp(l) => l.as_raw_fd(),
            Listener::Unix(l, _) => l.as_raw_fd(),
        }
    }

    fn accept(&self) -> io::Result<(OwnedFd, Address)> {
        let (fd, addr) = sys::accept(self.fd())?;
        let address = match (self, addr) {
            (Listener::Unix(_, path), _) => Address::Unix(path.clone()),
            (Listener::Tcp(_), Some(a)) => Address::Inet(a),
            (Listener::Tcp(_), None) => Address::Inet(SocketAddr::from(([0, 0, 0, 0], 0))),
        };
        Ok((fd, address))
    }
}

/// How an `accept` error is handled.
enum AcceptError {
    /// The connection vanished before we took it: go on.
    Skip,
    /// Out of a resource: pause accepting for a while.
    Pause,
}

fn classify(e: &io::Error) -> AcceptError {
    match e.raw_os_error() {
        Some(libc::ECONNABORTED) | Some(libc::EPROTO) | Some(libc::EPERM) | Some(libc::EINTR) => {
            AcceptError::Skip
        }
        _ => AcceptError::Pause,
    }
}

impl TcpServer {
    /// A server that hands connections to `handler`.
    pub fn new(handler: impl StreamHandler) -> TcpServer {
        TcpServer::from_rc(Rc::new(handler))
    }

    /// A server sharing an `Rc<dyn StreamHandler>`.
    pub fn from_rc(handler: Rc<dyn StreamHandler>) -> TcpServer {
        TcpServer::build(handler, None)
    }

    /// A server whose connections are all TLS (Tornado's `ssl_options`): each accepted
    /// stream is a TLS stream with `tls`'s config as it is at that moment (so
    /// [`TlsAcceptor::reload`] applies to the next connections). The handshake happens inside
    /// the stream's first read (or flush), so whatever deadline the handler puts on its first
    /// read covers it; a failed handshake is that read's error.
    pub fn with_tls(handler: impl StreamHandler, tls: TlsAcceptor) -> TcpServer {
        TcpServer::build(Rc::new(handler), Some(tls))
    }

    /// [`with_tls`](Self::with_tls) sharing an `Rc<dyn StreamHandler>`.
    pub fn from_rc_with_tls(handler: Rc<dyn StreamHandler>, tls: TlsAcceptor) -> TcpServer {
        TcpServer::build(handler, Some(tls))
    }

    fn build(handler: Rc<dyn StreamHandler>, tls: Option<TlsAcceptor>) -> TcpServer {
        TcpServer {
            inner: Rc::new(ServerInner {
                handler,
                tls,
                tasks: RefCell::new(Vec::new()),
                max_accepts_per_turn: Cell::new(DEFAULT_MAX_ACCEPTS_PER_TURN),
                accept_pause: Cell::new(DEFAULT_ACCEPT_PAUSE),
                accepted: Cell::new(0),
                paused: Cell::new(false),
                pause_episodes: Cell::new(0),
            }),
        }
    }

    /// Binds `port` on `address` ([`bind_sockets`]) and starts accepting; returns the bound
    /// addresses (with the real port when `port` is 0).
    pub fn listen(&self, port: u16, address: Option<&str>) -> io::Result<Vec<SocketAddr>> {
        let listeners = bind_sockets(port, address, DEFAULT_BACKLOG, false)?;
        let addrs = listeners
            .iter()
            .map(TcpListener::local_addr)
            .collect::<io::Result<Vec<_>>>()?;
        self.add_sockets(listeners)?;
        Ok(addrs)
    }

    /// Starts accepting on already-bound listening sockets (made non-blocking here).
    pub fn add_sockets(&self, listeners: Vec<TcpListener>) -> io::Result<()> {
        for l in listeners {
            l.set_nonblocking(true)?;
            self.add_listener(Listener::Tcp(l))?;
        }
        Ok(())
    }

    /// Starts accepting on a listening Unix-domain socket (from
    /// [`bind_unix_socket`](crate::bind_unix_socket)); `path` is reported as the
    /// [`Address`] of its connections.
    pub fn add_unix_socket(
        &self,
        listener: UnixListener,
        path: impl Into<PathBuf>,
    ) -> io::Result<()> {
        listener.set_nonblocking(true)?;
        self.add_listener(Listener::Unix(listener, path.into()))
    }

    fn add_listener(&self, listener: Listener) -> io::Result<()> {
        let reg = Registration::new(listener.fd())?;
        let task = reactor::spawn(accept_loop(self.inner.clone(), listener, reg));
        self.inner.tasks.borrow_mut().push(task);
        Ok(())
    }

    /// Stops accepting and closes the listening sockets; streams already accepted go on.
    pub fn stop(&self) {
        for t in self.inner.tasks.borrow_mut().drain(..) {
            t.abort();
        }
    }

    /// Sets how many connections one listener accepts before yielding to the loop (default 128).
    pub fn set_max_accepts_per_turn(&self, n: usize) {
        self.inner.max_accepts_per_turn.set(n.max(1));
    }

    /// Sets how long accepting pauses after running out of fds or memory (default 100 ms).
    pub fn set_accept_pause(&self, d: Duration) {
        self.inner.accept_pause.set(d);
    }

    /// The TLS acceptor, for a TLS server.
    pub fn tls(&self) -> Option<&TlsAcceptor> {
        self.inner.tls.as_ref()
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> u64 {
        self.inner.accepted.get()
    }

    /// Whether accepting is paused now (out of fds or memory).
    pub fn is_paused(&self) -> bool {
        self.inner.paused.get()
    }

    /// How many pause episodes (runs of `EMFILE`/`ENFILE`/...) there have been.
    pub fn pause_episodes(&self) -> u64 {
        self.inner.pause_episodes.get()
    }
}

impl std::fmt::Debug for TcpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpServer")
            .field("listeners", &self.inner.tasks.borrow().len())
            .field("accepted", &self.inner.accepted.get())
            .field("paused", &self.inner.paused.get())
            .finish()
    }
}

/// The accept task of one listening socket (see the module doc).
async fn accept_loop(server: Rc<ServerInner>, listener: Listener, reg: Registration) {
    // Fields drop in order: deregister, then close the listening socket.
    let acceptor = Acceptor { reg, listener };
    let (reg, listener) = (&acceptor.reg, &acceptor.listener);
    let mut this_turn = 0usize;
    loop {
        let result = poll_fn(|cx| match reg.poll_read_with(cx, || listener.accept()) {
            Poll::Pending => {
                this_turn = 0; // we go back to the loop: a new turn starts
                Poll::Pending
            }
            ready => ready,
        })
        .await;
        match result {
            Ok((fd, address)) => {
                if server.paused.replace(false) {
                    eprintln!("iostream: accepting again on fd {}", listener.fd());
                }
                server.accepted.set(server.accepted.get() + 1);
                let stream = IOStream::from_nonblocking(fd, true).and_then(|s| {
                    if let Some(tls) = &server.tls {
                        s.start_tls_server(tls)?;
                    }
                    Ok(s)
                });
                match stream {
                    Ok(stream) => {
                        let handler = &server.handler;
                        if catch_unwind(AssertUnwindSafe(|| handler.handle_stream(stream, address)))
                            .is_err()
                        {
                            eprintln!("iostream: handle_stream panicked; connection dropped");
                        }
                    }
                    Err(e) => eprintln!("iostream: cannot register accepted connection: {e}"),
                }
                this_turn += 1;
                if this_turn >= server.max_accepts_per_turn.get() {
                    this_turn = 0;
                    reactor::yield_now().await;
                }
            }
            Err(e) => match classify(&e) {
                AcceptError::Skip => {}
                AcceptError::Pause => {
                    if !server.paused.replace(true) {
                        server.pause_episodes.set(server.pause_episodes.get() + 1);
                        eprintln!(
                            "iostream: accept on fd {} failed: {e}; pausing accepts for {:?} at a time",
                            listener.fd(),
                            server.accept_pause.get()
                        );
                    }
                    reactor::sleep(server.accept_pause.get()).await;
                }
            },
        }
    }
}

/// A listening socket and its registration; the registration is dropped first.
struct Acceptor {
    reg: Registration,
    listener: Listener,
}
