//! The thread-safe side of a reactor: [`Remote`] and the queue other threads feed.
//!
//! Other threads never touch the loop's state. They push a callback (or a woken task) onto a
//! locked queue and wake the poller, at most once per loop turn: the `notified` flag is set by
//! the first push after the loop last drained the queue, and only that push writes to the
//! eventfd (or triggers the `EVFILT_USER` event).

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::sys::Poller;
use crate::task::Runnable;

/// Work queued for the loop by other threads.
#[derive(Default)]
pub(crate) struct RemoteQueue {
    pub(crate) callbacks: Vec<Box<dyn FnOnce() + Send>>,
    pub(crate) tasks: Vec<Arc<dyn Runnable>>,
}

/// State shared between the loop thread and every [`Remote`] and `Waker`.
///
/// It owns the poller, so the poller's fds stay open for as long as any thread could still
/// try to wake it (closing them earlier would let a late wake-up write to a reused fd number).
pub(crate) struct Shared {
    pub(crate) poller: Poller,
    queue: Mutex<RemoteQueue>,
    notified: AtomicBool,
    stop: AtomicBool,
}

impl Shared {
    pub(crate) fn new(poller: Poller) -> Shared {
        Shared {
            poller,
            queue: Mutex::new(RemoteQueue::default()),
            notified: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, RemoteQueue> {
        // No user code runs under this lock, so a poisoned lock still holds a sound queue.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes the poller unless a wake-up is already pending for this turn.
    pub(crate) fn notify(&self) {
        if !self.notified.swap(true, Ordering::AcqRel) {
            self.poller.wake();
        }
    }

    pub(crate) fn push_callback(&self, f: Box<dyn FnOnce() + Send>) {
        self.lock().callbacks.push(f);
        self.notify();
    }

    pub(crate) fn push_task(&self, task: Arc<dyn Runnable>) {
        self.lock().tasks.push(task);
        self.notify();
    }

    pub(crate) fn request_stop(&self) {
        self.stop.store(true, Ordering::Release);
        self.notify();
    }

    /// Whether a remote `stop` arrived since the last call.
    pub(crate) fn take_stop(&self) -> bool {
        self.stop.swap(false, Ordering::AcqRel)
    }

    /// Called by the loop each turn: if anything was pushed since the last drain, swaps the
    /// queue with `into` (whose vectors are empty and keep their capacity for reuse).
    pub(crate) fn drain(&self, into: &mut RemoteQueue) -> bool {
        if !self.notified.swap(false, Ordering::AcqRel) {
            return false;
        }
        std::mem::swap(&mut *self.lock(), into);
        true
    }
}

/// A handle to a reactor that works from any thread (Tornado's thread-safe `add_callback`).
///
/// ```
/// let reactor = reactor::Reactor::new().unwrap();
/// let remote = reactor.remote();
/// std::thread::spawn(move || {
///     let r = remote.clone();
///     remote.add_callback(move || r.stop());
/// });
/// reactor.run(); // returns once the callback from the other thread has stopped it
/// ```
#[derive(Clone)]
pub struct Remote {
    pub(crate) shared: Arc<Shared>,
}

impl Remote {
    /// Runs `f` on the loop's thread at its next turn, waking the loop if it is blocked.
    pub fn add_callback(&self, f: impl FnOnce() + Send + 'static) {
        self.shared.push_callback(Box::new(f));
    }

    /// Makes the loop's `run()` return after its current turn.
    pub fn stop(&self) {
        self.shared.request_stop();
    }
}

impl fmt::Debug for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Remote").finish_non_exhaustive()
    }
}
