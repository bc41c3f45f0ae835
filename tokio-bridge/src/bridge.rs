//! [`Bridge`]: a tokio runtime on helper threads, for the futures of tokio-only crates.
//!
//! The runtime is tokio's multi-thread runtime with `n` worker threads (one by default), its
//! I/O and timer drivers on: what a tokio-based client (a database driver, an HTTP or gRPC
//! client, a message queue) expects around it. [`Bridge::run`] spawns a future there and
//! gives our loop a [`Bridged`] future for its output; [`Bridge::spawn`] leaves a future
//! running there on its own (a driver's connection task).
//!
//! The bridge is a cheap handle (an `Arc` inside): clone it into handlers, keep it in the
//! application's state, send it to other threads. When the last handle goes, the runtime
//! shuts down without waiting ([`tokio::runtime::Runtime::shutdown_background`]: no thread,
//! not even a runtime thread, is ever blocked by the drop); futures still running there are
//! dropped and their [`Bridged`] futures end with [`BridgeError::Cancelled`].

use std::future::Future;
use std::io;
use std::sync::Arc;

use tokio::runtime::{Handle, Runtime};

use crate::bridged::Bridged;
use crate::here::RunHere;

/// A tokio runtime on helper threads whose futures are awaited on our loop.
///
/// ```
/// use std::time::Duration;
///
/// let bridge = tokio_bridge::Bridge::new().unwrap();
/// reactor::Reactor::new().unwrap().block_on(async {
///     // tokio's timer, which only works inside a tokio runtime, awaited on our loop:
///     let slept = bridge
///         .run(async {
///             tokio::time::sleep(Duration::from_millis(5)).await;
///             "slept on tokio"
///         })
///         .await
///         .unwrap();
///     assert_eq!(slept, "slept on tokio");
/// });
/// ```
#[derive(Clone, Debug)]
pub struct Bridge {
    runtime: Arc<Owned>,
}

/// The runtime, shut down in the background when the last [`Bridge`] goes.
#[derive(Debug)]
struct Owned(Option<Runtime>);

impl Drop for Owned {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

impl Bridge {
    /// A bridge whose runtime has one worker thread: enough for I/O-bound clients, whose
    /// work between two events is small (measured: `benches/README.md`, "tokio-postgres
    /// from our loop").
    pub fn new() -> io::Result<Bridge> {
        Bridge::with_threads(1)
    }

    /// A bridge whose runtime has `threads` worker threads (at least one), named
    /// `tokio-bridge`.
    pub fn with_threads(threads: usize) -> io::Result<Bridge> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name("tokio-bridge")
            .enable_all()
            .build()?;
        Ok(Bridge {
            runtime: Arc::new(Owned(Some(runtime))),
        })
    }

    /// Runs `future` on the tokio runtime, starting now, and returns a future for its output
    /// to await on our loop (or anywhere). Dropping that future aborts the tokio task.
    ///
    /// `future` must be `Send` (it runs on a runtime thread): build the tokio-side values
    /// inside it or move `Send` ones (an `Arc` of a client) into it. Wrap calls that make a
    /// tokio value at once in an `async` block: `bridge.run(tokio::time::sleep(d))` calls
    /// `sleep` here, outside the runtime, and tokio panics ("no reactor running");
    /// `bridge.run(async move { tokio::time::sleep(d).await })` makes it there.
    pub fn run<F>(&self, future: F) -> Bridged<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Bridged::new(self.handle().spawn(future))
    }

    /// Polls `future` here, on the task that awaits the returned future (our loop), with the
    /// runtime's context entered around each poll: the runtime's threads drive only its I/O
    /// and timers, and wake our task when something is ready. `future` need not be `Send`.
    ///
    /// Cheaper than [`run`](Self::run) per call (one thread hop per event, not two, and no
    /// task spawned: measured in `benches/README.md`), at the price of the future's CPU on our
    /// loop. For a driver with a connection task (`tokio-postgres`), run that task here too
    /// (`reactor::spawn(bridge.run_here(connection))`): if it ran on the runtime, each query
    /// would hop to it and back, as with `run`.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let bridge = tokio_bridge::Bridge::new().unwrap();
    /// reactor::Reactor::new().unwrap().block_on(async {
    ///     let local = std::rc::Rc::new(5); // not Send: fine here
    ///     let n = bridge
    ///         .run_here(async move {
    ///             tokio::time::sleep(Duration::from_millis(5)).await; // tokio's timer
    ///             *local + 1
    ///         })
    ///         .await;
    ///     assert_eq!(n, 6);
    /// });
    /// ```
    pub fn run_here<F: Future>(&self, future: F) -> RunHere<F> {
        RunHere::new(self.handle().clone(), future)
    }

    /// Runs `future` on the tokio runtime on its own, for as long as the runtime lives
    /// (nothing waits for it; its output is dropped): a driver's connection task, say.
    pub fn spawn<F>(&self, future: F)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        drop(self.handle().spawn(future));
    }

    /// The runtime's handle, for what needs one directly (`handle().enter()` to build a tokio
    /// value outside a runtime task, `spawn_blocking`, ...).
    pub fn handle(&self) -> &Handle {
        self.runtime
            .0
            .as_ref()
            .expect("the runtime lives as long as a Bridge")
            .handle()
    }
}
