//! An [`Application`] on several threads: Tornado's `server.start(n)` (one process per core on
//! a shared socket), done with threads and `SO_REUSEPORT` by [`http1::workers`](mod@http1::workers).
//!
//! An `Application` is `!Send` (its handlers may hold `Rc`s), so it is not moved to the
//! workers: each worker builds its own with the factory passed to [`serve_workers`]. Whatever
//! the workers should share (a cache, a connection pool, counters) is captured by the factory
//! as an `Arc`.
//!
//! ```no_run
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use std::sync::Arc;
//! use web::{url_with, Application, Context, RequestHandler, Result};
//!
//! struct Hits(Arc<AtomicU64>);
//! impl RequestHandler for Hits {
//!     async fn get(&mut self, cx: &mut Context<'_>) -> Result {
//!         let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
//!         cx.write(format!("hit {n}"));
//!         Ok(())
//!     }
//! }
//!
//! let hits = Arc::new(AtomicU64::new(0)); // shared by every worker
//! let workers = web::workers(0).listen(8888, None).unwrap(); // 0: one per core
//! let exit = web::serve_workers(workers, |_worker| {
//!     let hits = hits.clone();
//!     Application::new(vec![url_with("/", move || Hits(hits.clone()))])
//! })
//! .unwrap(); // returns after SIGINT/SIGTERM, once every worker has drained
//! std::process::exit(if exit.drained { 0 } else { 1 });
//! ```

use std::cell::RefCell;
use std::io;
use std::sync::{Arc, Mutex};

pub use http1::workers::{workers, WorkerInfo, Workers, WorkersExit, WorkersHandle};
use http1::HTTPServer;
use iostream::{TlsAcceptor, TlsServerConfig};
use reactor::{Reactor, Remote};

use crate::application::Application;

/// Runs `workers` (see [`http1::Workers::run`]), each serving the application `factory`
/// builds on its thread, with that application's connection parameters (`settings.http`).
/// Blocks until a signal or a [`WorkersHandle::shutdown`], then until every worker drained.
pub fn serve_workers<F>(workers: Workers, factory: F) -> io::Result<WorkersExit>
where
    F: Fn(WorkerInfo) -> Application + Sync,
{
    workers.run(|worker| {
        let app = factory(worker);
        let params = app.settings().http.clone();
        HTTPServer::new(app, params)
    })
}

/// [`serve_workers`] over HTTPS: every worker serves its application with the certificate
/// chain and key of `tls` (Tornado's `ssl_options`), and SIGHUP re-reads those files in every
/// worker (through [`Workers::on_sighup`]). A reload applies at once to new connections; open
/// connections keep the certificate they started with (nginx, by contrast, needs
/// `nginx -s reload`, which starts new worker processes). Files that cannot be read, or a key
/// that does not match, leave the current certificates in place and log an error.
///
/// Errors: the files cannot be loaded at start (before any worker runs), or any error of
/// [`serve_workers`].
///
/// ```no_run
/// let workers = web::workers(1).listen(8443, None).unwrap();
/// let tls = web::TlsServerConfig::new("cert.pem", "key.pem");
/// let exit = web::serve_workers_tls(workers, tls, |_| web::Application::new(vec![])).unwrap();
/// ```
pub fn serve_workers_tls<F>(
    workers: Workers,
    tls: TlsServerConfig,
    factory: F,
) -> io::Result<WorkersExit>
where
    F: Fn(WorkerInfo) -> Application + Sync,
{
    tls.load()?;
    // The loops of the workers, each holding its acceptor in `ACCEPTORS`.
    let loops: Arc<Mutex<Vec<Remote>>> = Arc::default();
    let on_hup = loops.clone();
    let exit = workers
        .on_sighup(move || {
            for worker in on_hup.lock().unwrap().iter() {
                worker.add_callback(reload_this_thread);
            }
        })
        .run(|worker| {
            let app = factory(worker);
            let acceptor = TlsAcceptor::new(tls.clone())
                .unwrap_or_else(|e| panic!("worker {}: TLS files: {e}", worker.index));
            ACCEPTORS.with(|a| a.borrow_mut().push(acceptor.clone()));
            loops.lock().unwrap().push(Reactor::current().remote());
            app.https_server(acceptor)
        });
    // A single worker ran on this thread: forget its acceptor.
    ACCEPTORS.with(|a| a.borrow_mut().clear());
    exit
}

thread_local! {
    /// The TLS acceptors of the servers on this thread, for SIGHUP reloads.
    static ACCEPTORS: RefCell<Vec<TlsAcceptor>> = const { RefCell::new(Vec::new()) };
}

/// Re-reads the certificate files of this thread's acceptors.
fn reload_this_thread() {
    ACCEPTORS.with(|acceptors| {
        for acceptor in acceptors.borrow().iter() {
            match acceptor.reload() {
                Ok(()) => log::info!("TLS certificates reloaded: {acceptor:?}"),
                Err(e) => log::error!("TLS reload failed, keeping the current certificates: {e}"),
            }
        }
    });
}
