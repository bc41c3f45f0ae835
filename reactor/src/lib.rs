//! # reactor — Tornado's `IOLoop`, in Rust
//!
//! The bottom layer of the stack (`reactor` → `iostream` → `http1` → `web`): a single-threaded
//! event loop over epoll (Linux) or kqueue (macOS, BSD), and a small executor driven by it.
//!
//! - **Poll loop** ([`Reactor`]): `add_handler(fd, interest, callback)` keeps callbacks in a
//!   `slab`, keyed by a token that carries a generation, so a stale event never reaches a new
//!   handler; `run`, `stop`, `block_on` (Tornado's `run_sync`).
//! - **Timers**: [`Reactor::call_later`], [`Reactor::call_at`] returning a cancellable
//!   [`Timeout`]; [`PeriodicCallback`] and [`interval`], which skip missed ticks.
//! - **Callbacks**: [`Reactor::add_callback`] on the loop's thread, and [`Remote`], a
//!   `Send + Sync` handle whose `add_callback` and `stop` work from any thread.
//! - **Executor**: [`spawn`] for `'static` futures that need not be `Send`, [`JoinHandle`],
//!   [`sleep`], [`timeout`], [`yield_now`], [`race`] (the first of two futures). One
//!   allocation per task; a same-thread wake allocates nothing; a wake from another thread
//!   goes through the remote queue.
//! - **Readiness** ([`Registration`]): an fd registered once, edge-triggered, whose readiness
//!   tasks await — the glue the `iostream` layer is built on.
//! - **Coordination** ([`sync`]): Tornado's locks and queues for tasks on one loop — [`Event`],
//!   [`Lock`], [`Semaphore`], [`BoundedSemaphore`], [`Condition`], [`Queue`] (with LIFO and
//!   priority variants) — fair (FIFO), and cancel-safe: a dropped waiter leaves no ghost.
//! - **Blocking work** ([`run_in_executor`]): runs a blocking closure on a bounded pool of
//!   helper threads and awaits its result on the loop, which keeps serving meanwhile; a panic
//!   comes back as a [`BlockingError`]. **Other threads** feed the loop through a [`channel`].
//!
//! ```
//! use std::time::Duration;
//! use reactor::Reactor;
//!
//! let reactor = Reactor::new().unwrap();
//! let sum = reactor.block_on(async {
//!     let a = reactor::spawn(async { 20 });
//!     let b = reactor::spawn(async {
//!         reactor::sleep(Duration::from_millis(1)).await;
//!         22
//!     });
//!     a.await.unwrap() + b.await.unwrap()
//! });
//! assert_eq!(sum, 42);
//! ```
//!
//! **Signals** ([`Signals`]): SIGINT/SIGTERM and friends arrive as events on the loop through a
//! self-pipe, for graceful shutdown.
//!
//! `unsafe` code is confined to `sys/` (the syscalls) and `task.rs` (the task cell behind the
//! `Send + Sync` waker); each block carries a `SAFETY` comment.
//!
//! ## Its place in the stack
//!
//! Everything above reaches the kernel's readiness through this crate alone: `iostream`
//! registers each socket once as a [`Registration`] and awaits its readiness in tasks spawned
//! here; `http1` and `web` only see those tasks. One turn of the loop (`Inner::turn` in
//! `reactor.rs`, the file to read first) waits in `epoll_wait`, hands each event to its slot in
//! the handler slab, which wakes the waiting task, then runs timers, callbacks and a bounded
//! batch of tasks: steps 1 to 4 of the request walk-through in `ARCHITECTURE.md` at the
//! repository root. The same loop with plain callbacks instead of tasks, as Tornado's
//! `add_handler` works: `cargo run -p reactor --example echo_callbacks`.
//!
//! ## Tracing a request
//!
//! With the `trace` feature, each layer marks the steps of a request with [`trace_step!`]
//! (poll returned, task woken, task polled, bytes read, head parsed, route matched, response
//! written), recorded with the time in a per-thread ring that `trace::take` hands over;
//! `cargo run --release -p web --example trace --features trace` prints one request's path.
//! Without the feature the macro expands to nothing.

#![deny(missing_docs)]

mod blocking;
mod channel;
mod interest;
mod race;
mod reactor;
mod registration;
mod remote;
mod signal;
mod sys;
mod task;
mod time;
mod timer;

pub mod sync;
#[cfg(feature = "trace")]
pub mod trace;

/// Records one step of a request in this thread's trace, with the time:
/// `trace_step!(layer, step)` or `trace_step!(layer, step, detail)` (a number, such as bytes
/// read). With the `trace` feature off, as here, it expands to nothing (see
/// [Tracing a request](crate#tracing-a-request)).
#[cfg(not(feature = "trace"))]
#[macro_export]
macro_rules! trace_step {
    ($($ignored:tt)*) => {};
}

/// Records one step of a request in this thread's [`trace`](crate::trace), with the time:
/// `trace_step!(layer, step)` or `trace_step!(layer, step, detail)` (a number, such as bytes
/// read). With the `trace` feature off it expands to nothing.
#[cfg(feature = "trace")]
#[macro_export]
macro_rules! trace_step {
    ($layer:expr, $step:expr $(,)?) => {
        $crate::trace::record($layer, $step, None)
    };
    ($layer:expr, $step:expr, $detail:expr $(,)?) => {
        $crate::trace::record($layer, $step, u64::try_from($detail).ok())
    };
}

pub use crate::blocking::{run_in_executor, Blocking, BlockingError, BlockingPool};
pub use crate::channel::{channel, Receiver, SendError, Sender, TryRecvError};
pub use crate::interest::{Interest, Ready};
pub use crate::race::{race, Either};
pub use crate::reactor::{HandlerId, Reactor, Timeout};
pub use crate::registration::Registration;
pub use crate::remote::Remote;
pub use crate::signal::{Signals, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};
pub use crate::task::{JoinError, JoinHandle};
pub use crate::time::{
    interval, sleep, sleep_until, timeout, yield_now, Elapsed, Interval, PeriodicCallback, Sleep,
    YieldNow,
};
pub use sync::{BoundedSemaphore, Condition, Event, Lock, Queue, Semaphore};

use std::future::Future;

/// Spawns a task on [`Reactor::current`] (Tornado's `spawn_callback` for coroutines).
///
/// The future need not be `Send`; it runs on this thread. Dropping the returned handle
/// detaches the task; a panic inside it is caught and returned by the handle.
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
{
    Reactor::current().spawn(future)
}
