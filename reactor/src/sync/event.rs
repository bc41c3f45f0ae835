//! [`Event`]: a flag that tasks can wait for (Tornado's `locks.Event`).

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::waiters::{wake, WaitList};
use crate::time::Elapsed;

/// A flag that tasks can wait for (Tornado's `locks.Event`).
///
/// It starts clear. [`set`](Event::set) raises it and wakes every waiter; while it is set,
/// [`wait`](Event::wait) returns at once; [`clear`](Event::clear) lowers it again. A waiter
/// that was woken by `set` returns even if the flag is cleared before it runs.
///
/// `Event` is a handle: clones share one flag. It belongs to one loop's thread.
///
/// ```
/// use reactor::sync::Event;
///
/// reactor::Reactor::new().unwrap().block_on(async {
///     let event = Event::new();
///     let e = event.clone();
///     let waiter = reactor::spawn(async move {
///         e.wait().await;
///         "woken"
///     });
///     reactor::yield_now().await; // the waiter is now waiting
///     assert!(!waiter.is_finished());
///     event.set();
///     assert_eq!(waiter.await.unwrap(), "woken");
///     assert!(event.is_set());
/// });
/// ```
#[derive(Clone, Default)]
pub struct Event {
    state: Rc<RefCell<State>>,
}

#[derive(Default)]
struct State {
    set: bool,
    waiters: WaitList,
}

impl Event {
    /// A new event, clear.
    pub fn new() -> Event {
        Event::default()
    }

    /// Whether the flag is set.
    pub fn is_set(&self) -> bool {
        self.state.borrow().set
    }

    /// Sets the flag and wakes every task waiting for it.
    pub fn set(&self) {
        let count = {
            let mut state = self.state.borrow_mut();
            state.set = true;
            state.waiters.waiting()
        };
        // One at a time, waking outside the borrow; only those waiting now are notified.
        for _ in 0..count {
            let waker = self.state.borrow_mut().waiters.notify_one();
            wake(waker);
        }
    }

    /// Clears the flag: later calls to [`wait`](Event::wait) wait for the next `set`.
    pub fn clear(&self) {
        self.state.borrow_mut().set = false;
    }

    /// Waits until the flag is set (returns at once if it is).
    pub fn wait(&self) -> EventWait {
        EventWait {
            state: self.state.clone(),
            key: None,
        }
    }

    /// The number of tasks waiting for the flag.
    pub fn waiters(&self) -> usize {
        self.state.borrow().waiters.waiting()
    }

    /// Waits until the flag is set, or until `timeout` has passed (then `Err(Elapsed)`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use reactor::sync::Event;
    ///
    /// reactor::Reactor::new().unwrap().block_on(async {
    ///     let event = Event::new();
    ///     assert!(event.wait_timeout(Duration::from_millis(5)).await.is_err());
    ///     event.set();
    ///     assert!(event.wait_timeout(Duration::from_millis(5)).await.is_ok());
    /// });
    /// ```
    pub async fn wait_timeout(&self, timeout: Duration) -> Result<(), Elapsed> {
        crate::time::timeout(timeout, self.wait()).await
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("Event")
            .field("set", &state.set)
            .field("waiters", &state.waiters.waiting())
            .finish()
    }
}

/// The future of [`Event::wait`]. Dropping it before it completes removes it from the
/// event's waiters.
#[must_use = "futures do nothing unless awaited"]
pub struct EventWait {
    state: Rc<RefCell<State>>,
    key: Option<usize>,
}

impl Future for EventWait {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let mut state = this.state.borrow_mut();
        match this.key {
            Some(key) => {
                let ready = state.waiters.poll(key, cx.waker());
                if ready.is_ready() {
                    this.key = None;
                }
                ready
            }
            None if state.set => Poll::Ready(()),
            None => {
                this.key = Some(state.waiters.push(cx.waker()));
                Poll::Pending
            }
        }
    }
}

impl Drop for EventWait {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // A wakeup from `set` reaches every waiter, so there is nothing to pass on.
            let (_, waker) = self.state.borrow_mut().waiters.cancel(key);
            drop(waker);
        }
    }
}

impl fmt::Debug for EventWait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventWait")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}
