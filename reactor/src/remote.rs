//! The thread-safe side of a reactor: [`Remote`] and the queue other threads feed.
//!
//! Other threads never touch the loop's state. They push a callback (or a woken task) onto a
//! locked queue and wake the poller, at most once per loop turn, and only if the loop sleeps:
//! the `notified` flag is set by the first push after the loop last drained the queue, and only
//! that push writes to the eventfd (or triggers the `EVFILT_USER` event), and only when the
//! `sleeping` flag says the loop is in (or about to enter) a blocking wait. An awake loop needs
//! no wake-up: before it sleeps it sets `sleeping`, then looks at `notified`, and does not
//! block if a push came first (the two flags are a store-then-load pair on each side, all
//! `SeqCst`, so at least one side sees the other: the pusher writes, or the loop stays awake).
//! With a tokio runtime thread waking tasks on the loop (`tokio-bridge`), each answer that
//! arrives while the loop is busy then costs no `write(2)` on that thread and no extra
//! `epoll_wait` return on the loop.

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
    /// Something was pushed (or a stop requested) since the loop last drained.
    notified: AtomicBool,
    /// The loop is in, or about to enter, a blocking `Poller::wait`.
    sleeping: AtomicBool,
    stop: AtomicBool,
}

impl Shared {
    pub(crate) fn new(poller: Poller) -> Shared {
        Shared {
            poller,
            queue: Mutex::new(RemoteQueue::default()),
            notified: AtomicBool::new(false),
            sleeping: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, RemoteQueue> {
        // No user code runs under this lock, so a poisoned lock still holds a sound queue.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes the poller if the loop sleeps, unless a wake-up is already pending for this turn.
    pub(crate) fn notify(&self) {
        if !self.notified.swap(true, Ordering::SeqCst) && self.sleeping.load(Ordering::SeqCst) {
            self.poller.wake();
        }
    }

    /// Called by the loop before a blocking wait: whether it may block, i.e. nothing was
    /// pushed since the last drain. If so, it is now `sleeping` (pushes write to the
    /// eventfd) until [`awake`](Self::awake).
    pub(crate) fn prepare_to_sleep(&self) -> bool {
        self.sleeping.store(true, Ordering::SeqCst);
        if self.notified.load(Ordering::SeqCst) {
            self.sleeping.store(false, Ordering::SeqCst);
            return false;
        }
        true
    }

    /// Called by the loop when its wait returns: pushes no longer need to wake it.
    pub(crate) fn awake(&self) {
        self.sleeping.store(false, Ordering::SeqCst);
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
        if !self.notified.swap(false, Ordering::SeqCst) {
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::{RemoteQueue, Shared};
    use crate::sys::{Events, Poller, WAKER_TOKEN};

    /// Whether the poller reports a wake-up within `timeout`.
    fn woken(shared: &Shared, timeout: Duration) -> bool {
        let mut events = Events::with_capacity(4);
        shared.poller.wait(&mut events, Some(timeout)).unwrap();
        let mut i = 0;
        while let Some((token, _)) = events.get(i) {
            i += 1;
            if token == WAKER_TOKEN {
                return true;
            }
        }
        false
    }

    #[test]
    fn an_awake_loop_is_not_woken_a_sleeping_one_is() {
        let shared = Shared::new(Poller::new().unwrap());
        let mut queue = RemoteQueue::default();

        // Awake: a push writes nothing, but the loop may not sleep before it drains.
        shared.push_callback(Box::new(|| {}));
        assert!(!woken(&shared, Duration::ZERO), "no eventfd write");
        assert!(!shared.prepare_to_sleep(), "a push is pending");
        assert!(shared.drain(&mut queue));
        assert_eq!(queue.callbacks.len(), 1);
        queue.callbacks.clear();

        // Asleep: the first push of the turn writes, the next one does not.
        assert!(shared.prepare_to_sleep());
        shared.push_callback(Box::new(|| {}));
        shared.push_callback(Box::new(|| {}));
        assert!(woken(&shared, Duration::ZERO), "one eventfd write");
        assert!(!woken(&shared, Duration::ZERO), "only one");
        shared.awake();
        assert!(shared.drain(&mut queue));
        assert_eq!(queue.callbacks.len(), 2);
    }

    #[test]
    fn pushes_from_other_threads_are_never_lost() {
        // A loop that sleeps whenever it may, against threads that push while it goes to
        // sleep: every push is drained, none waits for the timeout.
        let shared = Arc::new(Shared::new(Poller::new().unwrap()));
        let (threads, pushes) = (3, 2000);
        let pushers: Vec<_> = (0..threads)
            .map(|_| {
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || {
                    for i in 0..pushes {
                        shared.push_callback(Box::new(|| {}));
                        if i % 64 == 0 {
                            std::thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        let mut queue = RemoteQueue::default();
        let mut drained = 0;
        while drained < threads * pushes {
            if shared.prepare_to_sleep() {
                // A lost wake-up would block here for the whole timeout: fail instead.
                let started = std::time::Instant::now();
                let woke = woken(&shared, Duration::from_secs(5));
                shared.awake();
                if !woke {
                    assert!(started.elapsed() < Duration::from_secs(5), "a lost wake-up");
                }
            }
            if shared.drain(&mut queue) {
                drained += queue.callbacks.len();
                queue.callbacks.clear();
            }
        }
        for p in pushers {
            p.join().unwrap();
        }
        assert_eq!(drained, threads * pushes);
    }
}
