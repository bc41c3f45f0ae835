//! The FIFO list of waiting tasks shared by every primitive in [`crate::sync`].
//!
//! Each waiter is a node in a `Slab`, keyed by index; the nodes that are still waiting are
//! threaded into a doubly linked list (`prev`/`next` are slab keys), so that
//!
//! - [`WaitList::push`] appends at the tail, and a notify pops from the head: FIFO;
//! - a waiter whose future is dropped (timed out, aborted) unlinks itself in O(1) and frees
//!   its slot: no ghost is left behind for a later notify to land on;
//! - the only allocation is the slab growing to the largest number of simultaneous waiters.
//!
//! A notified waiter leaves the list but keeps its slot, marked `Notified`, until its future
//! observes the wakeup ([`WaitList::poll`]) or is dropped ([`WaitList::cancel`], which reports
//! that it had been notified, so that the primitive can pass the wakeup — a permit, a lock, a
//! queue slot — on to the next waiter instead of losing it).
//!
//! Methods hand back the `Waker` they take out instead of waking or dropping it, so that the
//! primitive does so after releasing its `RefCell` borrow: waking or dropping a waker runs
//! foreign code, which might come back to the same primitive.

use std::task::{Poll, Waker};

use slab::Slab;

/// One waiter's slot.
enum State {
    /// In the list, with the waker of its last poll.
    Waiting {
        waker: Option<Waker>,
        prev: Option<usize>,
        next: Option<usize>,
    },
    /// Taken off the list by a notify; the future has not seen it yet.
    Notified,
}

/// A FIFO list of waiters (see the module documentation).
#[derive(Default)]
pub(crate) struct WaitList {
    nodes: Slab<State>,
    head: Option<usize>,
    tail: Option<usize>,
    /// Waiters in the list (not counting notified ones).
    waiting: usize,
}

impl WaitList {
    pub(crate) fn new() -> WaitList {
        WaitList::default()
    }

    /// Whether some waiter is still waiting (not yet notified).
    pub(crate) fn has_waiters(&self) -> bool {
        self.waiting > 0
    }

    /// How many waiters are still waiting.
    pub(crate) fn waiting(&self) -> usize {
        self.waiting
    }

    /// Appends a waiter at the tail; returns its key.
    pub(crate) fn push(&mut self, waker: &Waker) -> usize {
        let key = self.nodes.insert(State::Waiting {
            waker: Some(waker.clone()),
            prev: self.tail,
            next: None,
        });
        match self.tail {
            Some(tail) => self.set_next(tail, Some(key)),
            None => self.head = Some(key),
        }
        self.tail = Some(key);
        self.waiting += 1;
        key
    }

    /// Polls waiter `key`: `Ready` (and the slot is freed) once it has been notified; else
    /// remembers `waker` and stays `Pending`.
    pub(crate) fn poll(&mut self, key: usize, waker: &Waker) -> Poll<()> {
        match self.nodes.get_mut(key) {
            Some(State::Notified) => {
                self.nodes.remove(key);
                Poll::Ready(())
            }
            Some(State::Waiting { waker: slot, .. }) => {
                match slot {
                    Some(w) if w.will_wake(waker) => {}
                    _ => *slot = Some(waker.clone()),
                }
                Poll::Pending
            }
            // Not ours: a primitive polled with a key it no longer owns. Treat as notified.
            None => Poll::Ready(()),
        }
    }

    /// Removes waiter `key` (its future is being dropped). Returns whether it had been
    /// notified without observing it — the caller must then pass the wakeup on — and the
    /// waker it held, to drop outside any borrow.
    pub(crate) fn cancel(&mut self, key: usize) -> (bool, Option<Waker>) {
        match self.nodes.try_remove(key) {
            Some(State::Notified) => (true, None),
            Some(State::Waiting { waker, prev, next }) => {
                self.unlink(prev, next);
                (false, waker)
            }
            None => (false, None),
        }
    }

    /// Notifies the waiter at the head: it leaves the list, marked notified. Returns its waker
    /// (to wake once the caller's borrow is released), or `None` if nobody was waiting.
    ///
    /// The outer `Option` says whether a waiter was notified; the inner one is its waker, which
    /// is `None` only if it was never polled with one.
    pub(crate) fn notify_one(&mut self) -> Option<Option<Waker>> {
        let key = self.head?;
        let state = std::mem::replace(&mut self.nodes[key], State::Notified);
        let State::Waiting { waker, prev, next } = state else {
            unreachable!("a notified waiter is never in the list");
        };
        self.unlink(prev, next);
        Some(waker)
    }

    fn set_next(&mut self, key: usize, to: Option<usize>) {
        if let State::Waiting { next, .. } = &mut self.nodes[key] {
            *next = to;
        }
    }

    fn set_prev(&mut self, key: usize, to: Option<usize>) {
        if let State::Waiting { prev, .. } = &mut self.nodes[key] {
            *prev = to;
        }
    }

    /// Joins a removed node's neighbours to each other.
    fn unlink(&mut self, prev: Option<usize>, next: Option<usize>) {
        match prev {
            Some(p) => self.set_next(p, next),
            None => self.head = next,
        }
        match next {
            Some(n) => self.set_prev(n, prev),
            None => self.tail = prev,
        }
        self.waiting -= 1;
    }
}

/// Wakes the waker a [`WaitList`] method handed back (call it after the borrow is released).
pub(crate) fn wake(waker: Option<Option<Waker>>) {
    if let Some(Some(w)) = waker {
        w.wake();
    }
}

#[cfg(test)]
mod tests {
    use super::{State, WaitList};
    use std::sync::Arc;
    use std::task::{Poll, Wake, Waker};

    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }

    /// The keys still waiting, head to tail.
    fn order(list: &WaitList) -> Vec<usize> {
        let mut keys = Vec::new();
        let mut cur = list.head;
        while let Some(k) = cur {
            keys.push(k);
            cur = match &list.nodes[k] {
                State::Waiting { next, .. } => *next,
                State::Notified => unreachable!("notified node in the list"),
            };
        }
        keys
    }

    #[test]
    fn fifo_with_removal_in_the_middle_and_slot_reuse() {
        let waker = Waker::from(Arc::new(Noop));
        let mut list = WaitList::new();
        let a = list.push(&waker);
        let b = list.push(&waker);
        let c = list.push(&waker);
        assert_eq!(order(&list), vec![a, b, c]);
        // b gives up: it leaves no ghost, and its reused slot goes to the tail.
        assert!(!list.cancel(b).0);
        assert_eq!(order(&list), vec![a, c]);
        let d = list.push(&waker);
        assert_eq!(d, b, "the slab reuses the freed slot");
        assert_eq!(order(&list), vec![a, c, d]);
        assert_eq!(list.waiting(), 3);

        // Notify the head: it leaves the list and sees the wakeup once.
        assert!(list.notify_one().is_some());
        assert_eq!(order(&list), vec![c, d]);
        assert_eq!(list.poll(a, &waker), Poll::Ready(()));
        // Notify c, which is dropped before it looks: the caller learns it must pass it on.
        assert!(list.notify_one().is_some());
        assert!(list.cancel(c).0);
        assert_eq!(order(&list), vec![d]);
        assert_eq!(list.poll(d, &waker), Poll::Pending);
        assert!(!list.cancel(d).0);
        assert!(!list.has_waiters());
        assert!(list.notify_one().is_none());
        assert!(list.nodes.is_empty());
        assert_eq!((list.head, list.tail), (None, None));
    }

    #[test]
    fn removing_head_and_tail_keeps_the_links() {
        let waker = Waker::from(Arc::new(Noop));
        let mut list = WaitList::new();
        let keys: Vec<usize> = (0..5).map(|_| list.push(&waker)).collect();
        list.cancel(keys[0]);
        list.cancel(keys[4]);
        assert_eq!(order(&list), vec![keys[1], keys[2], keys[3]]);
        assert_eq!(list.tail, Some(keys[3]));
        list.cancel(keys[2]);
        assert_eq!(order(&list), vec![keys[1], keys[3]]);
        let e = list.push(&waker);
        assert_eq!(order(&list), vec![keys[1], keys[3], e]);
    }
}
