//! [`Semaphore`] and [`BoundedSemaphore`] (Tornado's `locks.Semaphore` and
//! `locks.BoundedSemaphore`); [`Lock`](super::Lock) is built on the same core.
//!
//! Permits are handed over directly: `release` with tasks waiting gives the permit to the
//! first of them instead of returning it to the pool, so a task that has been waiting cannot
//! be overtaken by one that arrives later. A waiter that is dropped after being handed a
//! permit, before it could see it, gives the permit back (to the next waiter, if any).

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::waiters::{wake, WaitList};
use crate::time::Elapsed;

/// The state a semaphore's handles and guards share.
pub(crate) struct Core {
    permits: usize,
    waiters: WaitList,
}

pub(crate) type Shared = Rc<RefCell<Core>>;

pub(crate) fn new_core(permits: usize) -> Shared {
    Rc::new(RefCell::new(Core {
        permits,
        waiters: WaitList::new(),
    }))
}

pub(crate) fn available(core: &Shared) -> usize {
    core.borrow().permits
}

pub(crate) fn waiting(core: &Shared) -> usize {
    core.borrow().waiters.waiting()
}

/// Takes a permit if one is free and nobody is queued ahead.
pub(crate) fn try_take(core: &Shared) -> bool {
    let mut c = core.borrow_mut();
    if c.permits > 0 && !c.waiters.has_waiters() {
        c.permits -= 1;
        true
    } else {
        false
    }
}

/// Returns a permit: to the first waiter if there is one, else to the pool.
pub(crate) fn release_permit(core: &Shared) {
    let waker = {
        let mut c = core.borrow_mut();
        let waker = c.waiters.notify_one();
        if waker.is_none() {
            c.permits += 1;
        }
        waker
    };
    wake(waker);
}

/// Waits for one permit (the raw future behind every `acquire`).
pub(crate) struct Acquire {
    core: Shared,
    key: Option<usize>,
    done: bool,
}

impl Acquire {
    pub(crate) fn new(core: Shared) -> Acquire {
        Acquire {
            core,
            key: None,
            done: false,
        }
    }
}

impl Future for Acquire {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(());
        }
        let mut c = this.core.borrow_mut();
        let ready = match this.key {
            Some(key) => c.waiters.poll(key, cx.waker()),
            None if c.permits > 0 && !c.waiters.has_waiters() => {
                c.permits -= 1;
                Poll::Ready(())
            }
            None => {
                this.key = Some(c.waiters.push(cx.waker()));
                Poll::Pending
            }
        };
        if ready.is_ready() {
            this.key = None;
            this.done = true;
        }
        ready
    }
}

impl Drop for Acquire {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let (notified, waker) = self.core.borrow_mut().waiters.cancel(key);
            drop(waker);
            if notified {
                // We were handed a permit we will never use: pass it on.
                release_permit(&self.core);
            }
        }
    }
}

/// A counter of permits that tasks acquire and release (Tornado's `locks.Semaphore`).
///
/// [`acquire`](Semaphore::acquire) takes a permit, waiting while none is free; the returned
/// [`SemaphoreGuard`] gives it back when dropped. Waiters are served in FIFO order, and a
/// waiter that gives up (dropped, timed out) leaves no trace.
///
/// `Semaphore` is a handle: clones share the same permits. It belongs to one loop's thread.
///
/// ```
/// use std::{cell::Cell, rc::Rc, time::Duration};
/// use reactor::sync::Semaphore;
///
/// reactor::Reactor::new().unwrap().block_on(async {
///     let sem = Semaphore::new(2);
///     let (running, peak) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
///     let workers: Vec<_> = (0..6)
///         .map(|_| {
///             let (sem, running, peak) = (sem.clone(), running.clone(), peak.clone());
///             reactor::spawn(async move {
///                 let _permit = sem.acquire().await;
///                 running.set(running.get() + 1);
///                 peak.set(peak.get().max(running.get()));
///                 reactor::sleep(Duration::from_millis(1)).await;
///                 running.set(running.get() - 1);
///             })
///         })
///         .collect();
///     for w in workers {
///         w.await.unwrap();
///     }
///     assert_eq!(peak.get(), 2);
///     assert_eq!(sem.available_permits(), 2);
/// });
/// ```
#[derive(Clone)]
pub struct Semaphore {
    core: Shared,
}

impl Semaphore {
    /// A semaphore with `permits` free permits.
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            core: new_core(permits),
        }
    }

    /// Waits for a permit; the guard releases it when dropped.
    pub async fn acquire(&self) -> SemaphoreGuard {
        Acquire::new(self.core.clone()).await;
        SemaphoreGuard::new(self.core.clone())
    }

    /// Waits for a permit for at most `timeout`; `Err(Elapsed)` if none came in time (and
    /// then no permit is held).
    ///
    /// ```
    /// use std::time::Duration;
    /// use reactor::sync::Semaphore;
    ///
    /// reactor::Reactor::new().unwrap().block_on(async {
    ///     let sem = Semaphore::new(1);
    ///     let held = sem.acquire().await;
    ///     assert!(sem.acquire_timeout(Duration::from_millis(5)).await.is_err());
    ///     drop(held);
    ///     assert!(sem.acquire_timeout(Duration::from_millis(5)).await.is_ok());
    /// });
    /// ```
    pub async fn acquire_timeout(&self, timeout: Duration) -> Result<SemaphoreGuard, Elapsed> {
        crate::time::timeout(timeout, self.acquire()).await
    }

    /// Takes a permit if one is free now and no task is waiting ahead.
    pub fn try_acquire(&self) -> Option<SemaphoreGuard> {
        try_take(&self.core).then(|| SemaphoreGuard::new(self.core.clone()))
    }

    /// Adds a permit (Tornado's `release`), for a permit kept with
    /// [`SemaphoreGuard::forget`]; it goes to the first waiter, if any.
    ///
    /// ```
    /// use reactor::sync::Semaphore;
    ///
    /// reactor::Reactor::new().unwrap().block_on(async {
    ///     let sem = Semaphore::new(1);
    ///     sem.acquire().await.forget(); // acquired, Tornado style
    ///     assert_eq!(sem.available_permits(), 0);
    ///     sem.release();
    ///     assert_eq!(sem.available_permits(), 1);
    /// });
    /// ```
    pub fn release(&self) {
        release_permit(&self.core);
    }

    /// The number of free permits (Tornado's `_value`).
    pub fn available_permits(&self) -> usize {
        available(&self.core)
    }

    /// The number of tasks waiting for a permit.
    pub fn waiters(&self) -> usize {
        waiting(&self.core)
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("permits", &self.available_permits())
            .field("waiters", &self.waiters())
            .finish()
    }
}

/// A permit from a [`Semaphore`] or [`BoundedSemaphore`]; dropping it releases the permit.
///
/// ```
/// let sem = reactor::sync::Semaphore::new(1);
/// let permit = sem.try_acquire().unwrap();
/// assert!(sem.try_acquire().is_none());
/// drop(permit);
/// assert!(sem.try_acquire().is_some());
/// ```
#[must_use = "dropping the guard releases the permit at once"]
pub struct SemaphoreGuard {
    core: Option<Shared>,
}

impl SemaphoreGuard {
    fn new(core: Shared) -> SemaphoreGuard {
        SemaphoreGuard { core: Some(core) }
    }

    /// Keeps the permit acquired without releasing it on drop; give it back later with
    /// [`Semaphore::release`] or [`BoundedSemaphore::release`] (the Tornado way: `acquire()`
    /// ... `release()`).
    pub fn forget(mut self) {
        self.core = None;
    }
}

impl Drop for SemaphoreGuard {
    fn drop(&mut self) {
        if let Some(core) = self.core.take() {
            release_permit(&core);
        }
    }
}

impl fmt::Debug for SemaphoreGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphoreGuard").finish_non_exhaustive()
    }
}

/// A [`Semaphore`] that refuses to be released above its initial value (Tornado's
/// `locks.BoundedSemaphore`): an extra [`release`](BoundedSemaphore::release) is a bug in the
/// caller, reported as [`ReleaseError`] instead of silently raising the limit.
///
/// ```
/// use reactor::sync::BoundedSemaphore;
///
/// reactor::Reactor::new().unwrap().block_on(async {
///     let sem = BoundedSemaphore::new(1);
///     sem.acquire().await.forget();
///     assert!(sem.release().is_ok());
///     assert!(sem.release().is_err()); // one release too many
///     assert_eq!(sem.available_permits(), 1);
/// });
/// ```
#[derive(Clone)]
pub struct BoundedSemaphore {
    core: Shared,
    bound: usize,
}

impl BoundedSemaphore {
    /// A semaphore with `permits` free permits, which is also its upper bound.
    pub fn new(permits: usize) -> BoundedSemaphore {
        BoundedSemaphore {
            core: new_core(permits),
            bound: permits,
        }
    }

    /// Waits for a permit; the guard releases it when dropped.
    pub async fn acquire(&self) -> SemaphoreGuard {
        Acquire::new(self.core.clone()).await;
        SemaphoreGuard::new(self.core.clone())
    }

    /// Waits for a permit for at most `timeout`; `Err(Elapsed)` if none came in time.
    pub async fn acquire_timeout(&self, timeout: Duration) -> Result<SemaphoreGuard, Elapsed> {
        crate::time::timeout(timeout, self.acquire()).await
    }

    /// Takes a permit if one is free now and no task is waiting ahead.
    pub fn try_acquire(&self) -> Option<SemaphoreGuard> {
        try_take(&self.core).then(|| SemaphoreGuard::new(self.core.clone()))
    }

    /// Gives back a permit kept with [`SemaphoreGuard::forget`]. Fails, changing nothing, if
    /// every permit is already free.
    pub fn release(&self) -> Result<(), ReleaseError> {
        if available(&self.core) >= self.bound {
            return Err(ReleaseError(()));
        }
        release_permit(&self.core);
        Ok(())
    }

    /// The number of free permits.
    pub fn available_permits(&self) -> usize {
        available(&self.core)
    }

    /// The number of tasks waiting for a permit.
    pub fn waiters(&self) -> usize {
        waiting(&self.core)
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("permits", &self.available_permits())
            .field("bound", &self.bound)
            .field("waiters", &self.waiters())
            .finish()
    }
}

/// The error of [`BoundedSemaphore::release`]: released more often than acquired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleaseError(());

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore released too many times")
    }
}

impl std::error::Error for ReleaseError {}
