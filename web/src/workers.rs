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

use std::io;

pub use http1::workers::{workers, WorkerInfo, Workers, WorkersExit, WorkersHandle};
use http1::HTTPServer;

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
