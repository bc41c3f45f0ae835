//! Thread-per-core workers (Tornado's `fork_processes` + `reuse_port`, with threads): one
//! [`HTTPServer`] per thread, each on its own [`Reactor`](reactor::Reactor) and its own
//! listening socket, all bound to the same port with `SO_REUSEPORT` so that the kernel spreads
//! the incoming connections over them.
//!
//! ```text
//!                 caller's thread: binds, waits for SIGINT/SIGTERM, joins
//!                    │ command channel (wakes the worker's loop through its Remote queue)
//!        ┌───────────┼───────────┐
//!    worker-0     worker-1     worker-N-1      each: Reactor + HTTPServer + listener
//!        └───────────┴───────────┘
//!        listeners on one port, SO_REUSEPORT: the kernel picks one per connection
//! ```
//!
//! Nothing is shared between workers on the request path: each thread builds its own server
//! (and, above it, its own application) with the factory passed to [`Workers::run`], so
//! handlers may hold `Rc`s and `RefCell`s. State meant to be shared is the caller's choice of
//! `Arc` captured by the factory.
//!
//! Shutdown covers every worker: the signals are received once, on the caller's thread; each
//! worker is sent the drain deadline and runs [`HTTPServer::shutdown`] on its own loop (stop
//! accepting, close idle keep-alive connections, finish the requests in flight); the caller
//! joins them all and [`Workers::run`] returns. A [`WorkersHandle`] does the same from code (a
//! test, an admin endpoint).
//!
//! With one worker there is no thread and no `SO_REUSEPORT`: the server runs on the caller's
//! own reactor, exactly as `HTTPServer::listen` + a signal wait would.
//!
//! ```no_run
//! use http1::*;
//! # struct App;
//! # struct Msg;
//! # impl HTTPServerConnectionDelegate for App {
//! #     type Message = Msg;
//! #     fn start_request(&self, _: &ConnectionContext) -> Msg { Msg }
//! # }
//! # impl HTTPMessageDelegate for Msg {
//! #     async fn headers_received(&mut self, _: &RequestHead<'_>, _: &mut HTTP1Connection<'_>) {}
//! #     async fn finish(&mut self, _: &mut HTTP1Connection<'_>) {}
//! # }
//! let workers = http1::workers(0) // one per core
//!     .shutdown_timeout(std::time::Duration::from_secs(10))
//!     .listen(8888, None)
//!     .unwrap();
//! eprintln!("{} workers on {:?}", workers.count(), workers.local_addrs());
//! // Blocks until SIGINT or SIGTERM, then drains every worker and joins them.
//! let exit = workers
//!     .run(|_worker| HTTPServer::new(App, HTTP1ConnectionParameters::default()))
//!     .unwrap();
//! std::process::exit(if exit.drained { 0 } else { 1 });
//! ```

use std::any::Any;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::task::Poll;
use std::thread;
use std::time::Duration;

use crate::server::HTTPServer;

/// Which worker a factory call builds (passed to the factory of [`Workers::run`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerInfo {
    /// This worker's number, `0..count`.
    pub index: usize,
    /// How many workers there are.
    pub count: usize,
}

/// How [`Workers::run`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkersExit {
    /// The signal that started the shutdown; `None` if it was [`WorkersHandle::shutdown`].
    pub signal: Option<i32>,
    /// Connections open over all workers when the drain began.
    pub open_at_shutdown: usize,
    /// Whether every worker closed all its connections within the shutdown timeout.
    pub drained: bool,
}

/// What the caller's thread hears from workers and handles.
enum Event {
    /// A worker built its server and accepts.
    Ready,
    /// A worker's thread ended (normally only after a shutdown; else it failed or panicked).
    Exited(usize),
    /// [`WorkersHandle::shutdown`].
    Shutdown,
}

/// Why the caller's thread stopped waiting.
enum Cause {
    Signal(i32),
    Requested,
    WorkerExited(usize),
}

/// A pool of server threads sharing a port. Made by [`workers`]; configured, then
/// [`listen`](Workers::listen)ed and [`run`](Workers::run).
pub struct Workers {
    count: usize,
    backlog: i32,
    shutdown_timeout: Duration,
    signals: Vec<i32>,
    /// One set of listening sockets per worker.
    sockets: Vec<Vec<TcpListener>>,
    addrs: Vec<SocketAddr>,
    on_shutdown: Option<Box<dyn FnOnce(Option<i32>)>>,
    /// Called on each SIGHUP (which then does not shut down).
    on_sighup: Option<Box<dyn Fn()>>,
    events_tx: reactor::Sender<Event>,
    events_rx: reactor::Receiver<Event>,
}

/// `n` workers (0: one per core, from [`std::thread::available_parallelism`]), with the
/// defaults: shutdown on SIGINT or SIGTERM, a 10 s drain, a listen backlog of
/// [`iostream::DEFAULT_BACKLOG`].
///
/// ```
/// let w = http1::workers(3);
/// assert_eq!(w.count(), 3);
/// assert!(http1::workers(0).count() >= 1);
/// ```
pub fn workers(n: usize) -> Workers {
    let count = match n {
        0 => thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let (events_tx, events_rx) = reactor::channel();
    Workers {
        count,
        backlog: iostream::DEFAULT_BACKLOG,
        shutdown_timeout: Duration::from_secs(10),
        signals: vec![reactor::SIGINT, reactor::SIGTERM],
        sockets: (0..count).map(|_| Vec::new()).collect(),
        addrs: Vec::new(),
        on_shutdown: None,
        on_sighup: None,
        events_tx,
        events_rx,
    }
}

impl Workers {
    /// How many workers will run.
    pub fn count(&self) -> usize {
        self.count
    }

    /// How long each worker may drain its connections at shutdown (default 10 s).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Workers {
        self.shutdown_timeout = timeout;
        self
    }

    /// The signals that start the shutdown (default SIGINT and SIGTERM; none: only a
    /// [`WorkersHandle`] stops the workers). They are received on the thread that calls
    /// [`run`](Self::run), and from then on no longer terminate the process.
    pub fn signals(mut self, signals: &[i32]) -> Workers {
        self.signals = signals.to_vec();
        self
    }

    /// The listen backlog of the sockets bound by later [`listen`](Self::listen) calls.
    pub fn backlog(mut self, backlog: i32) -> Workers {
        self.backlog = backlog;
        self
    }

    /// Called on the caller's thread when the shutdown starts, with the signal if there was
    /// one (to log it: the drain may take up to the shutdown timeout).
    pub fn on_shutdown(mut self, f: impl FnOnce(Option<i32>) + 'static) -> Workers {
        self.on_shutdown = Some(Box::new(f));
        self
    }

    /// Called on the caller's thread at each SIGHUP, which from then on neither stops the
    /// workers nor the process: the conventional "reload your configuration" signal (e.g.
    /// re-read TLS certificates; see `web::serve_workers_tls`). To act on each worker, send
    /// it a callback through its loop's [`Remote`](reactor::Remote).
    ///
    /// ```no_run
    /// # use http1::*;
    /// # fn app() -> HTTPServer { unimplemented!() }
    /// let exit = http1::workers(2)
    ///     .on_sighup(|| eprintln!("SIGHUP: reloading"))
    ///     .listen(8080, None)
    ///     .unwrap()
    ///     .run(|_| app());
    /// ```
    pub fn on_sighup(mut self, f: impl Fn() + 'static) -> Workers {
        self.on_sighup = Some(Box::new(f));
        self
    }

    /// Binds `port` on `address` (as [`iostream::bind_sockets`]: `None` is every interface)
    /// once per worker, with `SO_REUSEPORT` when there is more than one worker. Port 0 picks a
    /// free port, the same for every worker. May be called again for more ports.
    ///
    /// Binding happens here, on the caller's thread, so that a taken port is an error before
    /// any thread starts. The sockets listen at once: connections that arrive before the
    /// workers accept wait in the backlog.
    ///
    /// ```
    /// let w = http1::workers(2).listen(0, Some("127.0.0.1")).unwrap();
    /// assert_eq!(w.local_addrs().len(), 1);
    /// assert_ne!(w.local_addrs()[0].port(), 0);
    /// ```
    pub fn listen(mut self, port: u16, address: Option<&str>) -> io::Result<Workers> {
        let reuse_port = self.count > 1;
        let first = iostream::bind_sockets(port, address, self.backlog, reuse_port)?;
        let addrs = first
            .iter()
            .map(TcpListener::local_addr)
            .collect::<io::Result<Vec<_>>>()?;
        let port = addrs.first().map_or(port, SocketAddr::port);
        let mut sets = vec![first];
        for _ in 1..self.count {
            sets.push(iostream::bind_sockets(
                port,
                address,
                self.backlog,
                reuse_port,
            )?);
        }
        for (worker, set) in self.sockets.iter_mut().zip(sets) {
            worker.extend(set);
        }
        self.addrs.extend(addrs);
        Ok(self)
    }

    /// The addresses bound so far (one entry per address, whatever the number of workers).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// A handle that stops the workers from any thread, as a signal would.
    pub fn handle(&self) -> WorkersHandle {
        WorkersHandle {
            events: self.events_tx.clone(),
        }
    }

    /// Runs the workers until a signal (or [`WorkersHandle::shutdown`]), then drains them all
    /// and joins them.
    ///
    /// `factory` builds each worker's server, on that worker's thread and inside its running
    /// reactor (so it may spawn tasks and use `Rc`s); the sockets bound by
    /// [`listen`](Self::listen) are then added to it. It is shared by reference between the
    /// threads, hence `Sync`; it need not be `'static`.
    ///
    /// Errors: the signal handlers cannot be installed; a worker's thread cannot be spawned;
    /// a worker fails to start (its factory panics, its sockets cannot be registered) — the
    /// others are then stopped at once; or a worker stops while serving (a panic outside any
    /// handler) — the others are then drained. In every case all threads are joined first.
    pub fn run<F>(self, factory: F) -> io::Result<WorkersExit>
    where
        F: Fn(WorkerInfo) -> HTTPServer + Sync,
    {
        let Workers {
            count,
            shutdown_timeout,
            mut signals,
            sockets,
            on_shutdown,
            on_sighup,
            events_tx,
            mut events_rx,
            ..
        } = self;
        if on_sighup.is_some() && !signals.contains(&reactor::SIGHUP) {
            signals.push(reactor::SIGHUP);
        }
        let on_sighup = on_sighup.as_deref();
        let reactor = reactor::Reactor::current();
        // Installed before any worker runs, so that a signal during start-up is not lost.
        let mut signals = match signals.is_empty() {
            true => None,
            false => Some(reactor.block_on(async { reactor::Signals::new(&signals) })?),
        };
        if count == 1 {
            // In the caller's thread: today's single-loop server.
            let listeners = sockets.into_iter().next().unwrap_or_default();
            drop(events_tx);
            return reactor.block_on(async {
                let server = factory(WorkerInfo { index: 0, count });
                server.add_sockets(listeners)?;
                let cause = wait_for_stop(signals.as_mut(), on_sighup, &mut events_rx, 0).await?;
                let signal = match cause {
                    Cause::Signal(s) => Some(s),
                    _ => None,
                };
                if let Some(f) = on_shutdown {
                    f(signal);
                }
                let open_at_shutdown = server.connection_count();
                let drained = server.shutdown(shutdown_timeout).await;
                Ok(WorkersExit {
                    signal,
                    open_at_shutdown,
                    drained,
                })
            });
        }

        thread::scope(|scope| {
            let mut workers = Vec::with_capacity(count);
            let mut spawn_error = None;
            for (index, listeners) in sockets.into_iter().enumerate() {
                let (tx, rx) = reactor::channel::<Duration>();
                let events = events_tx.clone();
                let info = WorkerInfo { index, count };
                let factory = &factory;
                let spawned = thread::Builder::new()
                    .name(format!("worker-{index}"))
                    .spawn_scoped(scope, move || {
                        let exited = ExitNotice { events, index };
                        worker_main(info, listeners, factory, rx, &exited.events)
                    });
                match spawned {
                    Ok(join) => workers.push((tx, join)),
                    Err(e) => {
                        spawn_error = Some(e);
                        break;
                    }
                }
            }
            drop(events_tx);

            let cause = match spawn_error {
                Some(e) => Err(e),
                None => reactor.block_on(wait_for_stop(
                    signals.as_mut(),
                    on_sighup,
                    &mut events_rx,
                    workers.len(),
                )),
            };
            let signal = match &cause {
                Ok(Cause::Signal(s)) => Some(*s),
                _ => None,
            };
            // A failed start stops the others at once; anything else drains them.
            let timeout = match &cause {
                Ok(_) => shutdown_timeout,
                Err(_) => Duration::ZERO,
            };
            if matches!(cause, Ok(Cause::Signal(_) | Cause::Requested)) {
                if let Some(f) = on_shutdown {
                    f(signal);
                }
            }
            for (tx, _) in &workers {
                let _ = tx.send(timeout);
            }
            let mut exit = WorkersExit {
                signal,
                open_at_shutdown: 0,
                drained: true,
            };
            let mut failure: Option<io::Error> = None;
            for (index, (_, join)) in workers.into_iter().enumerate() {
                match join.join() {
                    Ok(Ok(report)) => {
                        exit.open_at_shutdown += report.open_at_shutdown;
                        exit.drained &= report.drained;
                    }
                    Ok(Err(e)) => {
                        failure.get_or_insert_with(|| {
                            io::Error::new(e.kind(), format!("worker {index}: {e}"))
                        });
                    }
                    Err(panic) => {
                        failure.get_or_insert_with(|| {
                            io::Error::other(format!(
                                "worker {index} panicked: {}",
                                panic_message(&*panic)
                            ))
                        });
                    }
                }
            }
            match cause {
                Err(e) => Err(failure.unwrap_or(e)),
                Ok(Cause::WorkerExited(i)) => Err(failure.unwrap_or_else(|| {
                    io::Error::other(format!("worker {i} stopped before the shutdown"))
                })),
                Ok(_) => match failure {
                    Some(e) => Err(e),
                    None => Ok(exit),
                },
            }
        })
    }
}

impl fmt::Debug for Workers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Workers")
            .field("count", &self.count)
            .field("addrs", &self.addrs)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("signals", &self.signals)
            .finish_non_exhaustive()
    }
}

/// Stops running [`Workers`] from any thread (`Send + Sync + Clone`).
///
/// ```
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
/// let workers = http1::workers(2).signals(&[]).listen(0, Some("127.0.0.1")).unwrap();
/// let handle = workers.handle();
/// std::thread::spawn(move || handle.shutdown());
/// let exit = workers
///     .run(|_| HTTPServer::new(App, HTTP1ConnectionParameters::default()))
///     .unwrap();
/// assert!(exit.drained && exit.signal.is_none());
/// ```
#[derive(Clone)]
pub struct WorkersHandle {
    events: reactor::Sender<Event>,
}

impl WorkersHandle {
    /// Starts the graceful shutdown of every worker (as SIGTERM would); [`Workers::run`]
    /// returns once they are drained. Does nothing once the workers are gone.
    pub fn shutdown(&self) {
        let _ = self.events.send(Event::Shutdown);
    }
}

impl fmt::Debug for WorkersHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkersHandle").finish_non_exhaustive()
    }
}

/// One worker's account of its shutdown.
struct WorkerReport {
    open_at_shutdown: usize,
    drained: bool,
}

/// Sends [`Event::Exited`] when a worker's thread ends, however it ends (a panic included).
struct ExitNotice {
    events: reactor::Sender<Event>,
    index: usize,
}

impl Drop for ExitNotice {
    fn drop(&mut self) {
        let _ = self.events.send(Event::Exited(self.index));
    }
}

/// A worker thread: its own reactor, its own server, until told the drain deadline.
fn worker_main<F>(
    info: WorkerInfo,
    listeners: Vec<TcpListener>,
    factory: &F,
    mut shutdown: reactor::Receiver<Duration>,
    events: &reactor::Sender<Event>,
) -> io::Result<WorkerReport>
where
    F: Fn(WorkerInfo) -> HTTPServer + Sync,
{
    let reactor = reactor::Reactor::new()?;
    reactor.block_on(async {
        let server = factory(info);
        server.add_sockets(listeners)?;
        let _ = events.send(Event::Ready);
        // `None`: the caller's thread is gone without a word; stop at once.
        let timeout = shutdown.recv().await.unwrap_or(Duration::ZERO);
        let open_at_shutdown = server.connection_count();
        let drained = server.shutdown(timeout).await;
        Ok(WorkerReport {
            open_at_shutdown,
            drained,
        })
    })
}

/// Waits on the caller's thread for a signal, a handle's shutdown, or a worker's exit.
/// `workers` threads are expected to report `Ready` first; an exit before the shutdown is a
/// failure either way.
async fn wait_for_stop(
    mut signals: Option<&mut reactor::Signals>,
    on_sighup: Option<&dyn Fn()>,
    events: &mut reactor::Receiver<Event>,
    workers: usize,
) -> io::Result<Cause> {
    let mut ready = 0;
    // The events close only when every worker and handle is gone; signals may still come.
    let mut events_open = true;
    loop {
        let next = poll_fn(|cx| {
            if let Some(s) = signals.as_deref_mut() {
                if let Poll::Ready(r) = s.poll_recv(cx) {
                    return Poll::Ready(Err(r));
                }
            }
            match events_open {
                true => events.poll_recv(cx).map(Ok),
                false => Poll::Pending,
            }
        })
        .await;
        match next {
            Err(Ok(reactor::SIGHUP)) if on_sighup.is_some() => {
                if let Some(f) = on_sighup {
                    f();
                }
            }
            Err(signal) => return Ok(Cause::Signal(signal?)),
            Ok(Some(Event::Shutdown)) => return Ok(Cause::Requested),
            Ok(Some(Event::Ready)) => ready += 1,
            Ok(Some(Event::Exited(i))) if ready < workers => {
                return Err(io::Error::other(format!("worker {i} failed to start")))
            }
            Ok(Some(Event::Exited(i))) => return Ok(Cause::WorkerExited(i)),
            // Nothing but a signal can stop the server now (with no signals: nothing does).
            Ok(None) => events_open = false,
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "(not a string)"
    }
}
