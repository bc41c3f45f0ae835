//! Graceful shutdown: the bookkeeping an [`HTTPServer`](crate::HTTPServer) keeps on its
//! connections so that [`HTTPServer::shutdown`](crate::HTTPServer::shutdown) can stop accepting,
//! close the idle keep-alive connections, let in-flight requests finish, and tell when the
//! last connection is gone (Tornado's `HTTPServer.close_all_connections`, without cutting
//! requests that are being served).
//!
//! Each connection holds a [`DrainGuard`] while it lives. A connection waiting for the first
//! byte of its next request is *idle*: it leaves its waker in its slot, and starting the drain
//! wakes it so that it closes. A connection in the middle of a request is not disturbed; once
//! draining, its next response says `Connection: close` (if a next request was already sent).

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Poll, Waker};

/// The connections of one server and whether it is draining.
#[derive(Default)]
pub(crate) struct Drain {
    draining: Cell<bool>,
    /// Open connections (guards alive).
    active: Cell<usize>,
    /// One slot per open connection: the waker of its idle wait, if it is waiting.
    idle: RefCell<Vec<Option<Waker>>>,
    free: RefCell<Vec<usize>>,
    /// The task waiting in [`Drain::finished`].
    done: RefCell<Option<Waker>>,
}

impl Drain {
    /// Registers a new connection.
    pub(crate) fn enter(self: &Rc<Self>) -> DrainGuard {
        self.active.set(self.active.get() + 1);
        let slot = match self.free.borrow_mut().pop() {
            Some(slot) => slot,
            None => {
                let mut idle = self.idle.borrow_mut();
                idle.push(None);
                idle.len() - 1
            }
        };
        DrainGuard {
            drain: self.clone(),
            slot,
        }
    }

    /// Open connections.
    pub(crate) fn active(&self) -> usize {
        self.active.get()
    }

    /// Starts draining: every idle connection is woken and closes.
    pub(crate) fn start(&self) {
        self.draining.set(true);
        let wakers: Vec<Waker> = self
            .idle
            .borrow_mut()
            .iter_mut()
            .filter_map(Option::take)
            .collect();
        for w in wakers {
            w.wake();
        }
    }

    /// Resolves when no connection is open.
    pub(crate) async fn finished(&self) {
        poll_fn(|cx| {
            if self.active.get() == 0 {
                return Poll::Ready(());
            }
            *self.done.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}

/// A connection's registration with its server's [`Drain`]; dropping it unregisters.
pub(crate) struct DrainGuard {
    drain: Rc<Drain>,
    slot: usize,
}

impl DrainGuard {
    /// Whether the server is shutting down.
    pub(crate) fn draining(&self) -> bool {
        self.drain.draining.get()
    }

    /// Runs `wait` (the wait for the next request's first byte) unless and until the server
    /// starts draining: `None` then. Polled once first, so bytes already there are served.
    /// The waker stays in the slot afterwards (no clone per request; a stale one only causes
    /// a spurious wake when the drain starts).
    ///
    /// The wait comes pinned by the caller: taken by value, it would be stored twice in this
    /// future (as the argument and as the pinned local), on every idle connection.
    pub(crate) async fn idle_wait<T, F: Future<Output = T>>(
        &self,
        mut wait: Pin<&mut F>,
    ) -> Option<T> {
        poll_fn(|cx| {
            if let Poll::Ready(r) = wait.as_mut().poll(cx) {
                return Poll::Ready(Some(r));
            }
            if self.draining() {
                return Poll::Ready(None);
            }
            let mut idle = self.drain.idle.borrow_mut();
            let slot = &mut idle[self.slot];
            if !slot.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *slot = Some(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }
}

impl Drop for DrainGuard {
    fn drop(&mut self) {
        let d = &self.drain;
        d.idle.borrow_mut()[self.slot] = None;
        d.free.borrow_mut().push(self.slot);
        d.active.set(d.active.get() - 1);
        if d.active.get() == 0 {
            if let Some(w) = d.done.borrow_mut().take() {
                w.wake();
            }
        }
    }
}
