//! [`Queue`], [`LifoQueue`] and [`PriorityQueue`]: bounded queues between tasks (Tornado's
//! `queues.Queue`, `LifoQueue` and `PriorityQueue`).
//!
//! The three share one core, generic over how items are stored (a `VecDeque`, a `Vec`, a
//! `BinaryHeap`), and differ only in which item `get` takes.
//!
//! # Fairness without lost wakeups
//!
//! Two [`WaitList`]s hold the tasks waiting in `get` (queue empty) and in `put` (queue
//! full). When an item arrives and a getter is waiting, the item is *reserved* for that
//! getter (`items_reserved`), so that a `get_nowait` from another task cannot take it first;
//! likewise a slot freed by a `get` is reserved for the first waiting putter
//! (`slots_reserved`). Hence, at all times:
//!
//! - `len <= maxsize - slots_reserved` (the bound is never exceeded, counting promised slots);
//! - a getter waits only while every item is reserved, a putter only while every free slot is;
//! - a waiter dropped after its reservation, before it could use it, hands the reservation to
//!   the next waiter of its kind (or back to the queue), so no wakeup is lost.

use std::cell::RefCell;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;

use super::event::Event;
use super::waiters::{wake, WaitList};
use crate::time::Elapsed;

/// How a queue keeps its items.
trait Store: Default {
    type Item;
    fn push(&mut self, item: Self::Item);
    fn pop(&mut self) -> Option<Self::Item>;
    fn len(&self) -> usize;
}

/// First in, first out.
struct Fifo<T>(VecDeque<T>);
/// Last in, first out.
struct Lifo<T>(Vec<T>);
/// Smallest first (a min-heap over `Ord`).
struct Priority<T>(BinaryHeap<std::cmp::Reverse<T>>);

impl<T> Default for Fifo<T> {
    fn default() -> Self {
        Fifo(VecDeque::new())
    }
}
impl<T> Default for Lifo<T> {
    fn default() -> Self {
        Lifo(Vec::new())
    }
}
impl<T: Ord> Default for Priority<T> {
    fn default() -> Self {
        Priority(BinaryHeap::new())
    }
}

impl<T> Store for Fifo<T> {
    type Item = T;
    fn push(&mut self, item: T) {
        self.0.push_back(item)
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}
impl<T> Store for Lifo<T> {
    type Item = T;
    fn push(&mut self, item: T) {
        self.0.push(item)
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}
impl<T: Ord> Store for Priority<T> {
    type Item = T;
    fn push(&mut self, item: T) {
        self.0.push(std::cmp::Reverse(item))
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop().map(|r| r.0)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// The state the handles of one queue share.
struct Shared<S> {
    core: RefCell<Core<S>>,
    /// Set while no task is unfinished (Tornado's `_finished`): `join` waits on it.
    finished: Event,
}

struct Core<S> {
    items: S,
    /// 0 means unbounded.
    maxsize: usize,
    getters: WaitList,
    items_reserved: usize,
    putters: WaitList,
    slots_reserved: usize,
    unfinished: usize,
}

type Wakeup = Option<Option<Waker>>;

impl<S> Core<S> {
    fn new(maxsize: usize, items: S) -> Core<S> {
        Core {
            items,
            maxsize,
            getters: WaitList::new(),
            items_reserved: 0,
            putters: WaitList::new(),
            slots_reserved: 0,
            unfinished: 0,
        }
    }

    /// Reserves the next item for the first waiting getter, if any.
    fn hand_item_to_getter(&mut self) -> Wakeup {
        let waker = self.getters.notify_one();
        if waker.is_some() {
            self.items_reserved += 1;
        }
        waker
    }

    /// Reserves a free slot for the first waiting putter, if any.
    fn hand_slot_to_putter(&mut self) -> Wakeup {
        let waker = self.putters.notify_one();
        if waker.is_some() {
            self.slots_reserved += 1;
        }
        waker
    }

    /// A getter that was handed an item was dropped: the item goes to the next getter.
    fn item_unclaimed(&mut self) -> Wakeup {
        self.items_reserved -= 1;
        self.hand_item_to_getter()
    }

    /// A putter that was handed a slot was dropped: the slot goes to the next putter.
    fn slot_unclaimed(&mut self) -> Wakeup {
        self.slots_reserved -= 1;
        self.hand_slot_to_putter()
    }
}

impl<S: Store> Core<S> {
    fn free_slots(&self) -> usize {
        if self.maxsize == 0 {
            usize::MAX
        } else {
            // Never below zero (see the module doc); saturating all the same.
            self.maxsize
                .saturating_sub(self.items.len() + self.slots_reserved)
        }
    }

    fn available_items(&self) -> usize {
        self.items.len() - self.items_reserved
    }

    /// Stores an item; reserves it for a waiting getter, if any.
    fn push_item(&mut self, item: S::Item) -> Wakeup {
        self.items.push(item);
        self.unfinished += 1;
        self.hand_item_to_getter()
    }

    /// Takes an item; the slot it frees goes to a waiting putter, if any.
    fn pop_item(&mut self) -> (S::Item, Wakeup) {
        let item = self.items.pop().expect("an available item");
        let waker = if self.putters.has_waiters() && self.free_slots() > 0 {
            self.hand_slot_to_putter()
        } else {
            None
        };
        (item, waker)
    }
}

/// Which of a queue's wait lists a waiter is in.
#[derive(Clone, Copy)]
enum Side {
    Get,
    Put,
}

/// A task's place in a wait list; leaving it on drop passes on a reservation it was given.
struct Waiter<S> {
    shared: Rc<Shared<S>>,
    side: Side,
    key: Option<usize>,
}

impl<S> Drop for Waiter<S> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let waker = {
            let mut core = self.shared.core.borrow_mut();
            let (notified, old) = match self.side {
                Side::Get => core.getters.cancel(key),
                Side::Put => core.putters.cancel(key),
            };
            let next = match (notified, self.side) {
                (false, _) => None,
                (true, Side::Get) => core.item_unclaimed(),
                (true, Side::Put) => core.slot_unclaimed(),
            };
            drop(core);
            drop(old);
            next
        };
        wake(waker);
    }
}

async fn put<S: Store>(shared: &Rc<Shared<S>>, item: S::Item) {
    let mut waiter = Waiter {
        shared: shared.clone(),
        side: Side::Put,
        key: None,
    };
    let mut item = Some(item);
    poll_fn(|cx| {
        let mut core = shared.core.borrow_mut();
        match waiter.key {
            None if core.free_slots() > 0 => {}
            None => {
                waiter.key = Some(core.putters.push(cx.waker()));
                return Poll::Pending;
            }
            Some(key) => {
                if core.putters.poll(key, cx.waker()).is_pending() {
                    return Poll::Pending;
                }
                waiter.key = None;
                core.slots_reserved -= 1; // ours now
            }
        }
        let waker = core.push_item(item.take().expect("put polled after completion"));
        drop(core);
        shared.finished.clear();
        wake(waker);
        Poll::Ready(())
    })
    .await
}

fn put_nowait<S: Store>(shared: &Shared<S>, item: S::Item) -> Result<(), QueueFull<S::Item>> {
    let mut core = shared.core.borrow_mut();
    if core.free_slots() == 0 {
        return Err(QueueFull(item));
    }
    let waker = core.push_item(item);
    drop(core);
    shared.finished.clear();
    wake(waker);
    Ok(())
}

async fn get<S: Store>(shared: &Rc<Shared<S>>) -> S::Item {
    let mut waiter = Waiter {
        shared: shared.clone(),
        side: Side::Get,
        key: None,
    };
    poll_fn(|cx| {
        let mut core = shared.core.borrow_mut();
        match waiter.key {
            None if core.available_items() > 0 => {}
            None => {
                waiter.key = Some(core.getters.push(cx.waker()));
                return Poll::Pending;
            }
            Some(key) => {
                if core.getters.poll(key, cx.waker()).is_pending() {
                    return Poll::Pending;
                }
                waiter.key = None;
                core.items_reserved -= 1; // ours now
            }
        }
        let (item, waker) = core.pop_item();
        drop(core);
        wake(waker);
        Poll::Ready(item)
    })
    .await
}

fn get_nowait<S: Store>(shared: &Shared<S>) -> Result<S::Item, QueueEmpty> {
    let mut core = shared.core.borrow_mut();
    if core.available_items() == 0 {
        return Err(QueueEmpty(()));
    }
    let (item, waker) = core.pop_item();
    drop(core);
    wake(waker);
    Ok(item)
}

fn task_done<S>(shared: &Shared<S>) -> Result<(), TaskDoneError> {
    let mut core = shared.core.borrow_mut();
    if core.unfinished == 0 {
        return Err(TaskDoneError(()));
    }
    core.unfinished -= 1;
    let all_done = core.unfinished == 0;
    drop(core);
    if all_done {
        shared.finished.set();
    }
    Ok(())
}

macro_rules! queue_type {
    (
        $(#[$meta:meta])*
        $name:ident, $store:ident, [$($bound:tt)*]
    ) => {
        $(#[$meta])*
        pub struct $name<T> {
            shared: Rc<Shared<$store<T>>>,
        }

        impl<T> Clone for $name<T> {
            fn clone(&self) -> Self {
                $name {
                    shared: self.shared.clone(),
                }
            }
        }

        impl<T $($bound)*> $name<T> {
            /// A queue holding at most `maxsize` items; `0` means unbounded (Tornado's rule).
            pub fn new(maxsize: usize) -> Self {
                let finished = Event::new();
                finished.set();
                $name {
                    shared: Rc::new(Shared {
                        core: RefCell::new(Core::new(maxsize, $store::default())),
                        finished,
                    }),
                }
            }

            /// A queue without a bound: `put` never waits.
            pub fn unbounded() -> Self {
                Self::new(0)
            }

            /// Puts an item in, waiting while the queue is full. Putters are served in FIFO
            /// order; dropping the future before it completes drops the item, not the place
            /// of another putter.
            pub async fn put(&self, item: T) {
                put(&self.shared, item).await
            }

            /// Puts an item in, waiting at most `timeout` for room; on `Err(Elapsed)` the
            /// item was dropped, not queued.
            pub async fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), Elapsed> {
                crate::time::timeout(timeout, self.put(item)).await
            }

            /// Puts an item in if there is room now; else gives it back in [`QueueFull`].
            pub fn put_nowait(&self, item: T) -> Result<(), QueueFull<T>> {
                put_nowait(&self.shared, item)
            }

            /// Takes an item out, waiting while the queue is empty. Getters are served in
            /// FIFO order.
            pub async fn get(&self) -> T {
                get(&self.shared).await
            }

            /// Takes an item out, waiting at most `timeout` for one.
            pub async fn get_timeout(&self, timeout: Duration) -> Result<T, Elapsed> {
                crate::time::timeout(timeout, self.get()).await
            }

            /// Takes an item out if one is there (and not promised to a waiting getter).
            pub fn get_nowait(&self) -> Result<T, QueueEmpty> {
                get_nowait(&self.shared)
            }
        }

        impl<T> $name<T> {
            /// Marks one item taken with `get` as processed (Tornado's `task_done`); when
            /// every item put has been marked so, [`join`](Self::join) returns. Fails if
            /// called more often than items were put.
            pub fn task_done(&self) -> Result<(), TaskDoneError> {
                task_done(&self.shared)
            }

            /// Waits until every item put has been marked with [`task_done`](Self::task_done).
            pub async fn join(&self) {
                self.shared.finished.wait().await
            }

            /// Like [`join`](Self::join), waiting at most `timeout`.
            pub async fn join_timeout(&self, timeout: Duration) -> Result<(), Elapsed> {
                self.shared.finished.wait_timeout(timeout).await
            }

            /// The number of items in the queue (Tornado's `qsize`).
            #[doc(alias = "qsize")]
            pub fn len(&self) -> usize {
                self.shared.core.borrow().items.0.len()
            }

            /// Whether the queue holds no items.
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// Whether the queue holds `maxsize` items (never, when unbounded).
            pub fn is_full(&self) -> bool {
                let core = self.shared.core.borrow();
                core.maxsize > 0 && core.items.0.len() >= core.maxsize
            }

            /// The bound given to `new` (`0`: unbounded).
            pub fn maxsize(&self) -> usize {
                self.shared.core.borrow().maxsize
            }

            /// The number of tasks waiting in `get` (the queue being empty).
            pub fn getters(&self) -> usize {
                self.shared.core.borrow().getters.waiting()
            }

            /// The number of tasks waiting in `put` (the queue being full).
            pub fn putters(&self) -> usize {
                self.shared.core.borrow().putters.waiting()
            }

            /// The number of items put but not yet marked with `task_done`.
            pub fn unfinished_tasks(&self) -> usize {
                self.shared.core.borrow().unfinished
            }
        }

        impl<T> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let core = self.shared.core.borrow();
                f.debug_struct(stringify!($name))
                    .field("len", &core.items.0.len())
                    .field("maxsize", &core.maxsize)
                    .field("getters", &core.getters.waiting())
                    .field("putters", &core.putters.waiting())
                    .field("unfinished", &core.unfinished)
                    .finish()
            }
        }
    };
}

queue_type! {
    /// A bounded FIFO queue between tasks (Tornado's `queues.Queue`).
    ///
    /// [`put`](Queue::put) waits while the queue is full — the backpressure that keeps a fast
    /// producer from running ahead of a slow consumer — and [`get`](Queue::get) waits while
    /// it is empty. Waiting tasks are served in FIFO order; one that gives up (dropped, timed
    /// out) leaves no trace. [`task_done`](Queue::task_done) and [`join`](Queue::join) let a
    /// producer wait until the consumers have processed everything.
    ///
    /// `Queue` is a handle: clones share one queue. It belongs to one loop's thread.
    ///
    /// ```
    /// use reactor::sync::Queue;
    ///
    /// reactor::Reactor::new().unwrap().block_on(async {
    ///     let q = Queue::new(2);
    ///     let consumer = {
    ///         let q = q.clone();
    ///         reactor::spawn(async move {
    ///             let mut got = Vec::new();
    ///             while let Some(n) = q.get().await {
    ///                 got.push(n);
    ///                 q.task_done().unwrap();
    ///             }
    ///             q.task_done().unwrap(); // for the `None` that ended the loop
    ///             got
    ///         })
    ///     };
    ///     for n in 0..5 {
    ///         q.put(Some(n)).await; // waits while two items are queued
    ///         assert!(q.len() <= 2);
    ///     }
    ///     q.put(None).await;
    ///     q.join().await;
    ///     assert_eq!(consumer.await.unwrap(), vec![0, 1, 2, 3, 4]);
    /// });
    /// ```
    Queue, Fifo, []
}

queue_type! {
    /// A bounded queue that gives out the most recently put item first (Tornado's
    /// `queues.LifoQueue`); otherwise the same as [`Queue`].
    ///
    /// ```
    /// use reactor::sync::LifoQueue;
    ///
    /// let q = LifoQueue::new(3);
    /// for n in [1, 2, 3] {
    ///     q.put_nowait(n).unwrap();
    /// }
    /// assert!(q.put_nowait(4).is_err()); // full
    /// let order: Vec<_> = (0..3).map(|_| q.get_nowait().unwrap()).collect();
    /// assert_eq!(order, [3, 2, 1]);
    /// ```
    LifoQueue, Lifo, []
}

queue_type! {
    /// A bounded queue that gives out the smallest item first (Tornado's
    /// `queues.PriorityQueue`); otherwise the same as [`Queue`]. Use tuples such as
    /// `(priority, item)` to order items by a priority.
    ///
    /// ```
    /// use reactor::sync::PriorityQueue;
    ///
    /// reactor::Reactor::new().unwrap().block_on(async {
    ///     let q = PriorityQueue::new(0);
    ///     q.put((2, "medium")).await;
    ///     q.put((0, "high")).await;
    ///     q.put((9, "low")).await;
    ///     assert_eq!(q.get().await, (0, "high"));
    ///     assert_eq!(q.get().await, (2, "medium"));
    ///     assert_eq!(q.get().await, (9, "low"));
    /// });
    /// ```
    PriorityQueue, Priority, [: Ord]
}

/// The error of `put_nowait` on a full queue; it gives the item back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct QueueFull<T>(pub T);

impl<T> fmt::Debug for QueueFull<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueFull(..)")
    }
}

impl<T> fmt::Display for QueueFull<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue is full")
    }
}

impl<T> std::error::Error for QueueFull<T> {}

/// The error of `get_nowait` when no item is available.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueEmpty(());

impl fmt::Display for QueueEmpty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue is empty")
    }
}

impl std::error::Error for QueueEmpty {}

/// The error of `task_done` called more times than items were put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskDoneError(());

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called too many times")
    }
}

impl std::error::Error for TaskDoneError {}
