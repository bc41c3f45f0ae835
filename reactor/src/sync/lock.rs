//! [`Lock`]: mutual exclusion between tasks (Tornado's `locks.Lock`).

use std::fmt;
use std::time::Duration;

use super::semaphore::{self, Acquire, Shared};
use crate::time::Elapsed;

/// A lock for tasks (Tornado's `locks.Lock`), held through an RAII [`LockGuard`].
///
/// [`acquire`](Lock::acquire) waits while another task holds the lock; dropping the guard
/// releases it, to the task that has waited longest (FIFO, handed over directly). A task
/// that gives up waiting (its future dropped or timed out) leaves no trace. It guards no data
/// of its own: it orders tasks around something they share, such as a connection or a file.
///
/// `Lock` is a handle: clones share one lock. It belongs to one loop's thread.
///
/// ```
/// use std::{cell::RefCell, rc::Rc, time::Duration};
/// use reactor::sync::Lock;
///
/// reactor::Reactor::new().unwrap().block_on(async {
///     let lock = Lock::new();
///     let log = Rc::new(RefCell::new(Vec::new()));
///     let tasks: Vec<_> = (0..3)
///         .map(|i| {
///             let (lock, log) = (lock.clone(), log.clone());
///             reactor::spawn(async move {
///                 let _guard = lock.acquire().await;
///                 log.borrow_mut().push(("in", i));
///                 reactor::sleep(Duration::from_millis(1)).await; // others must wait
///                 log.borrow_mut().push(("out", i));
///             })
///         })
///         .collect();
///     for t in tasks {
///         t.await.unwrap();
///     }
///     let expected: Vec<_> = (0..3).flat_map(|i| [("in", i), ("out", i)]).collect();
///     assert_eq!(*log.borrow(), expected);
/// });
/// ```
#[derive(Clone)]
pub struct Lock {
    core: Shared,
}

impl Default for Lock {
    fn default() -> Lock {
        Lock::new()
    }
}

impl Lock {
    /// A new lock, not held.
    pub fn new() -> Lock {
        Lock {
            core: semaphore::new_core(1),
        }
    }

    /// Waits until the lock is free and takes it; dropping the guard releases it.
    pub async fn acquire(&self) -> LockGuard {
        Acquire::new(self.core.clone()).await;
        LockGuard {
            core: self.core.clone(),
        }
    }

    /// Waits at most `timeout` for the lock; `Err(Elapsed)` if it stayed held that long.
    ///
    /// ```
    /// use std::time::Duration;
    /// use reactor::sync::Lock;
    ///
    /// reactor::Reactor::new().unwrap().block_on(async {
    ///     let lock = Lock::new();
    ///     let guard = lock.acquire().await;
    ///     assert!(lock.acquire_timeout(Duration::from_millis(5)).await.is_err());
    ///     drop(guard);
    ///     assert!(lock.acquire_timeout(Duration::from_millis(5)).await.is_ok());
    /// });
    /// ```
    pub async fn acquire_timeout(&self, timeout: Duration) -> Result<LockGuard, Elapsed> {
        crate::time::timeout(timeout, self.acquire()).await
    }

    /// Takes the lock if it is free now and no task is waiting for it.
    pub fn try_acquire(&self) -> Option<LockGuard> {
        semaphore::try_take(&self.core).then(|| LockGuard {
            core: self.core.clone(),
        })
    }

    /// Whether some task holds the lock (or has just been handed it).
    pub fn is_locked(&self) -> bool {
        semaphore::available(&self.core) == 0
    }

    /// The number of tasks waiting for the lock.
    pub fn waiters(&self) -> usize {
        semaphore::waiting(&self.core)
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("locked", &self.is_locked())
            .field("waiters", &self.waiters())
            .finish()
    }
}

/// Proof that the task holds a [`Lock`]; dropping it releases the lock.
///
/// ```
/// let lock = reactor::sync::Lock::new();
/// let guard = lock.try_acquire().unwrap();
/// assert!(lock.is_locked());
/// drop(guard);
/// assert!(!lock.is_locked());
/// ```
#[must_use = "dropping the guard releases the lock at once"]
pub struct LockGuard {
    core: Shared,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        semaphore::release_permit(&self.core);
    }
}

impl fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard").finish_non_exhaustive()
    }
}
