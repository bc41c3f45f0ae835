//! [`Condition`]: tasks wait until another notifies them (Tornado's `locks.Condition`).

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::waiters::{wake, WaitList};

/// A condition variable for tasks (Tornado's `locks.Condition`).
///
/// [`wait`](Condition::wait) waits for a [`notify`](Condition::notify) that comes after it;
/// notifications are not stored: with nobody waiting, `notify` does nothing. Waiters are woken
/// in FIFO order. A waiter that gives up (dropped, timed out) leaves no trace; one that is
/// dropped after being notified, before it could see it, passes the notification on to the
/// next waiter, so that `notify(n)` always reaches `n` waiters if there are that many.
///
/// No lock is involved: tasks on one loop are not preempted, so a task checks its predicate
/// and calls `wait` without any other task running in between.
///
/// `Condition` is a handle: clones share the same waiters. It belongs to one loop's thread.
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// use reactor::sync::Condition;
///
/// reactor::Reactor::new().unwrap().block_on(async {
///     let cond = Condition::new();
///     let ready = Rc::new(Cell::new(false));
///     let (c, r) = (cond.clone(), ready.clone());
///     let waiter = reactor::spawn(async move {
///         while !r.get() {
///             c.wait().await;
///         }
///         "done"
///     });
///     reactor::yield_now().await;
///     ready.set(true);
///     cond.notify_all();
///     assert_eq!(waiter.await.unwrap(), "done");
/// });
/// ```
#[derive(Clone, Default)]
pub struct Condition {
    waiters: Rc<RefCell<WaitList>>,
}

impl Condition {
    /// A new condition with no waiters.
    pub fn new() -> Condition {
        Condition::default()
    }

    /// Waits for the next notification.
    pub fn wait(&self) -> ConditionWait {
        ConditionWait {
            waiters: self.waiters.clone(),
            key: None,
            done: false,
        }
    }

    /// Waits for the next notification for at most `timeout`. Returns `true` if notified,
    /// `false` if the time ran out (Tornado's `wait(timeout)`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use reactor::sync::Condition;
    ///
    /// reactor::Reactor::new().unwrap().block_on(async {
    ///     let cond = Condition::new();
    ///     assert!(!cond.wait_timeout(Duration::from_millis(5)).await);
    ///     assert_eq!(cond.waiters(), 0); // the timed-out waiter left no trace
    /// });
    /// ```
    pub async fn wait_timeout(&self, timeout: Duration) -> bool {
        crate::time::timeout(timeout, self.wait()).await.is_ok()
    }

    /// Wakes up to `n` waiters, the longest-waiting first. Returns how many were woken.
    pub fn notify(&self, n: usize) -> usize {
        let mut woken = 0;
        while woken < n {
            let waker = self.waiters.borrow_mut().notify_one();
            if waker.is_none() {
                break;
            }
            wake(waker);
            woken += 1;
        }
        woken
    }

    /// Wakes every task waiting now. Returns how many were woken.
    pub fn notify_all(&self) -> usize {
        let n = self.waiters.borrow().waiting();
        self.notify(n)
    }

    /// The number of tasks waiting.
    pub fn waiters(&self) -> usize {
        self.waiters.borrow().waiting()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("waiters", &self.waiters())
            .finish()
    }
}

/// The future of [`Condition::wait`]. Dropping it removes it from the waiters (passing on a
/// notification it received but did not see).
#[must_use = "futures do nothing unless awaited"]
pub struct ConditionWait {
    waiters: Rc<RefCell<WaitList>>,
    key: Option<usize>,
    done: bool,
}

impl Future for ConditionWait {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(());
        }
        let mut waiters = this.waiters.borrow_mut();
        match this.key {
            None => {
                this.key = Some(waiters.push(cx.waker()));
                Poll::Pending
            }
            Some(key) => {
                let ready = waiters.poll(key, cx.waker());
                if ready.is_ready() {
                    this.key = None;
                    this.done = true;
                }
                ready
            }
        }
    }
}

impl Drop for ConditionWait {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let (notified, waker) = self.waiters.borrow_mut().cancel(key);
            drop(waker);
            if notified {
                let next = self.waiters.borrow_mut().notify_one();
                wake(next);
            }
        }
    }
}

impl fmt::Debug for ConditionWait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionWait")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}
