//! Coordination between tasks on one loop (Tornado's `tornado.locks` and `tornado.queues`).
//!
//! | Tornado | here |
//! |---|---|
//! | `locks.Event` | [`Event`]: `set`, `clear`, `is_set`, `wait`, `wait_timeout` |
//! | `locks.Lock` | [`Lock`]: `acquire` gives a [`LockGuard`] that releases on drop |
//! | `locks.Semaphore`, `BoundedSemaphore` | [`Semaphore`], [`BoundedSemaphore`]: `acquire`, `release` |
//! | `locks.Condition` | [`Condition`]: `wait`, `wait_timeout`, `notify(n)`, `notify_all` |
//! | `queues.Queue`, `LifoQueue`, `PriorityQueue` | [`Queue`], [`LifoQueue`], [`PriorityQueue`] |
//!
//! These are single-threaded, like the loop they serve: each is a cheap `Rc` handle (clone it
//! into the tasks that share it) and is not `Send`. To feed a loop from other threads, use
//! [`channel`](crate::channel); to run blocking code off the loop, use
//! [`run_in_executor`](crate::run_in_executor).
//!
//! All of them share a few rules:
//!
//! - **FIFO**: tasks waiting for the same thing are served in the order they started waiting.
//!   A lock, a permit, an item or a free queue slot is handed directly to the first waiter, so
//!   a task arriving later cannot overtake it.
//! - **Cancellation leaves no ghost**: every wait is a future; dropping it (a
//!   [`timeout`](crate::timeout), an aborted task, a `select`-like combinator) removes the
//!   waiter at once. A wakeup never goes to a dropped waiter, and is never lost: if a waiter
//!   is dropped after being woken but before it ran, what it was handed goes to the next one.
//! - **Timeouts**: each wait has a `*_timeout` form returning [`Elapsed`](crate::Elapsed)
//!   (or `false`, for [`Condition::wait_timeout`]); it is [`timeout`](crate::timeout) around
//!   the plain wait, which composes the same way with any other future.
//! - **Allocation-light**: a waiter is a slot in a `Slab` linked into a FIFO list; waiting
//!   allocates nothing once the slab has grown to the peak number of waiters.

mod condition;
mod event;
mod lock;
mod queue;
mod semaphore;
mod waiters;

pub use condition::{Condition, ConditionWait};
pub use event::{Event, EventWait};
pub use lock::{Lock, LockGuard};
pub use queue::{LifoQueue, PriorityQueue, Queue, QueueEmpty, QueueFull, TaskDoneError};
pub use semaphore::{BoundedSemaphore, ReleaseError, Semaphore, SemaphoreGuard};
