//! The timer table: deadlines in a min-heap, entries in a slab, cancellation by handle.
//!
//! A timer is an entry in a `Slab` (its action) plus a `(deadline, seq, key)` triple in a
//! binary heap. `seq` grows with every insertion, so timers with the same deadline fire in the
//! order they were added, and a handle (`key` + `seq`) never matches a later timer that reuses
//! the slot. Cancelling removes the entry at once and leaves the heap triple behind as a
//! tombstone, skipped when it reaches the top; when tombstones outnumber live timers the heap is
//! rebuilt without them (Tornado's `_cancellations` rule), so insert-then-cancel churn keeps
//! the heap bounded.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::task::Waker;
use std::time::Instant;

use slab::Slab;

/// What happens when a timer fires.
pub(crate) enum TimerAction {
    /// A callback from `call_later` / `call_at`.
    Callback(Box<dyn FnOnce()>),
    /// The waker of a task sleeping on this deadline (no allocation per sleep).
    Wake(Waker),
}

/// Names one timer: the slab key plus the sequence number it was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey {
    key: usize,
    seq: u64,
}

struct Entry {
    seq: u64,
    action: TimerAction,
}

/// The reactor's timers.
#[derive(Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(Instant, u64, usize)>>,
    entries: Slab<Entry>,
    next_seq: u64,
    tombstones: usize,
}

impl Timers {
    /// Adds a timer firing at `deadline`.
    pub(crate) fn insert(&mut self, deadline: Instant, action: TimerAction) -> TimerKey {
        let seq = self.next_seq;
        self.next_seq += 1;
        let key = self.entries.insert(Entry { seq, action });
        self.heap.push(Reverse((deadline, seq, key)));
        TimerKey { key, seq }
    }

    /// Cancels a timer; returns whether it was still pending.
    pub(crate) fn cancel(&mut self, timer: TimerKey) -> bool {
        if !self.is_live(timer.key, timer.seq) {
            return false;
        }
        self.entries.remove(timer.key);
        self.tombstones += 1;
        if self.tombstones > 512 && self.tombstones > self.heap.len() / 2 {
            let entries = &self.entries;
            self.heap
                .retain(|Reverse((_, seq, key))| entries.get(*key).is_some_and(|e| e.seq == *seq));
            self.tombstones = 0;
        }
        true
    }

    /// Replaces the waker of a pending `Wake` timer if it would wake a different task.
    pub(crate) fn update_waker(&mut self, timer: TimerKey, waker: &Waker) {
        if let Some(entry) = self.entries.get_mut(timer.key) {
            if entry.seq == timer.seq {
                if let TimerAction::Wake(w) = &mut entry.action {
                    if !w.will_wake(waker) {
                        w.clone_from(waker);
                    }
                }
            }
        }
    }

    /// The earliest pending deadline.
    pub(crate) fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(Reverse((deadline, seq, key))) = self.heap.peek().copied() {
            if self.is_live(key, seq) {
                return Some(deadline);
            }
            self.heap.pop();
            self.tombstones = self.tombstones.saturating_sub(1);
        }
        None
    }

    /// Moves the actions of every timer due at `now` into `due`, in firing order.
    pub(crate) fn take_due(&mut self, now: Instant, due: &mut Vec<TimerAction>) {
        while let Some(Reverse((deadline, seq, key))) = self.heap.peek().copied() {
            if deadline > now {
                break;
            }
            self.heap.pop();
            if self.is_live(key, seq) {
                due.push(self.entries.remove(key).action);
            } else {
                self.tombstones = self.tombstones.saturating_sub(1);
            }
        }
    }

    /// Number of pending timers.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    fn is_live(&self, key: usize, seq: u64) -> bool {
        self.entries.get(key).is_some_and(|e| e.seq == seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::time::Duration;

    fn fire(due: Vec<TimerAction>) {
        for action in due {
            match action {
                TimerAction::Callback(f) => f(),
                TimerAction::Wake(w) => w.wake(),
            }
        }
    }

    #[test]
    fn same_deadline_fires_in_insertion_order() {
        let mut timers = Timers::default();
        let log = Rc::new(RefCell::new(Vec::new()));
        let t0 = Instant::now();
        for i in 0..10 {
            let log = log.clone();
            timers.insert(
                t0,
                TimerAction::Callback(Box::new(move || log.borrow_mut().push(i))),
            );
        }
        let mut due = Vec::new();
        timers.take_due(t0, &mut due);
        fire(due);
        assert_eq!(*log.borrow(), (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn cancelled_handles_do_not_match_reused_slots() {
        let mut timers = Timers::default();
        let t0 = Instant::now();
        let a = timers.insert(t0, TimerAction::Callback(Box::new(|| {})));
        assert!(timers.cancel(a));
        let b = timers.insert(t0, TimerAction::Callback(Box::new(|| {})));
        assert!(!timers.cancel(a), "stale handle cancelled a new timer");
        assert_eq!(timers.len(), 1);
        assert!(timers.cancel(b));
    }

    #[test]
    fn tombstones_are_compacted() {
        let mut timers = Timers::default();
        let far = Instant::now() + Duration::from_secs(3600);
        for _ in 0..10_000 {
            let t = timers.insert(far, TimerAction::Callback(Box::new(|| {})));
            timers.cancel(t);
        }
        assert!(
            timers.heap.len() <= 1100,
            "heap kept {} tombstones",
            timers.heap.len()
        );
        assert_eq!(timers.next_deadline(), None);
    }
}
