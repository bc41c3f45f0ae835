//! `reactor::sync`: Event, Lock, Semaphore, BoundedSemaphore, Condition and the queues —
//! semantics, FIFO fairness, timeouts, and cancellation (a dropped waiter leaves no ghost, and
//! a wakeup handed to a waiter that is dropped before it saw it goes to the next one).
//!
//! Where the exact interleaving matters, the futures are polled by hand with a counting
//! waker, so the tests are deterministic; time only enters through generous timeouts.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use reactor::sync::{
    BoundedSemaphore, Condition, Event, LifoQueue, Lock, PriorityQueue, Queue, Semaphore,
};
use reactor::Reactor;

/// A waker that counts its wakes.
#[derive(Default)]
struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A future polled by hand with its own counting waker.
struct Probe<F: Future> {
    future: Pin<Box<F>>,
    counter: Arc<Counter>,
    waker: Waker,
}

impl<F: Future> Probe<F> {
    fn new(future: F) -> Probe<F> {
        let counter = Arc::new(Counter::default());
        Probe {
            future: Box::pin(future),
            waker: Waker::from(counter.clone()),
            counter,
        }
    }

    fn poll(&mut self) -> Poll<F::Output> {
        self.future
            .as_mut()
            .poll(&mut Context::from_waker(&self.waker))
    }

    fn wakes(&self) -> usize {
        self.counter.0.load(Ordering::SeqCst)
    }
}

fn run<F: Future>(f: F) -> F::Output {
    Reactor::new().unwrap().block_on(f)
}

const LONG: Duration = Duration::from_secs(10);
const SHORT: Duration = Duration::from_millis(20);

// ---------------------------------------------------------------------------------------
// Event

#[test]
fn event_set_wakes_every_waiter_and_clear_rearms_it() {
    run(async {
        let event = Event::new();
        assert!(!event.is_set());
        let woken = Rc::new(Cell::new(0));
        let tasks: Vec<_> = (0..5)
            .map(|_| {
                let (e, w) = (event.clone(), woken.clone());
                reactor::spawn(async move {
                    e.wait().await;
                    w.set(w.get() + 1);
                })
            })
            .collect();
        reactor::yield_now().await;
        assert_eq!(event.waiters(), 5);
        assert_eq!(woken.get(), 0);
        event.set();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(woken.get(), 5);
        // Set: waits return at once.
        event.wait().await;
        assert!(event.wait_timeout(SHORT).await.is_ok());
        // Cleared: they wait again.
        event.clear();
        assert!(!event.is_set());
        assert!(event.wait_timeout(SHORT).await.is_err());
        assert_eq!(event.waiters(), 0, "the timed-out waiter left no ghost");
    });
}

#[test]
fn event_waiter_woken_by_set_returns_even_if_cleared_before_it_runs() {
    let event = Event::new();
    let mut a = Probe::new(event.wait());
    assert!(a.poll().is_pending());
    event.set();
    event.clear();
    assert_eq!(a.wakes(), 1);
    assert!(a.poll().is_ready());
    // A waiter that arrives after the clear waits.
    let mut b = Probe::new(event.wait());
    assert!(b.poll().is_pending());
    drop(b);
    assert_eq!(event.waiters(), 0);
}

#[test]
fn event_dropped_waiter_is_not_woken() {
    let event = Event::new();
    let mut a = Probe::new(event.wait());
    let mut b = Probe::new(event.wait());
    assert!(a.poll().is_pending() && b.poll().is_pending());
    let a_counter = a.counter.clone();
    drop(a);
    event.set();
    assert_eq!(a_counter.0.load(Ordering::SeqCst), 0);
    assert_eq!(b.wakes(), 1);
    assert!(b.poll().is_ready());
}

// ---------------------------------------------------------------------------------------
// Lock

#[test]
fn lock_is_exclusive_and_fifo() {
    run(async {
        let lock = Lock::new();
        let order = Rc::new(RefCell::new(Vec::new()));
        let inside = Rc::new(Cell::new(false));
        let first = lock.acquire().await;
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let (lock, order, inside) = (lock.clone(), order.clone(), inside.clone());
                reactor::spawn(async move {
                    let _g = lock.acquire().await;
                    assert!(!inside.replace(true), "two tasks inside the lock");
                    order.borrow_mut().push(i);
                    reactor::yield_now().await;
                    inside.set(false);
                })
            })
            .collect();
        reactor::yield_now().await;
        assert_eq!(lock.waiters(), 10);
        assert!(lock.is_locked());
        drop(first);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.borrow(), (0..10).collect::<Vec<_>>());
        assert!(!lock.is_locked());
        assert_eq!(lock.waiters(), 0);
    });
}

#[test]
fn lock_is_handed_over_no_barging() {
    let lock = Lock::new();
    let held = lock.try_acquire().expect("free");
    assert!(lock.try_acquire().is_none());
    let mut waiter = Probe::new(lock.acquire());
    assert!(waiter.poll().is_pending());
    drop(held);
    // The lock went to the waiter, not back to the pool: a newcomer cannot take it.
    assert!(lock.is_locked());
    assert!(lock.try_acquire().is_none());
    assert_eq!(waiter.wakes(), 1);
    let Poll::Ready(guard) = waiter.poll() else {
        panic!("the waiter should own the lock")
    };
    drop(guard);
    assert!(!lock.is_locked());
    assert!(lock.try_acquire().is_some());
}

#[test]
fn lock_timeout_and_cancelled_waiters_leave_no_ghost() {
    run(async {
        let lock = Lock::new();
        let held = lock.acquire().await;
        assert!(lock.acquire_timeout(SHORT).await.is_err());
        assert_eq!(lock.waiters(), 0);
        // An aborted waiting task also leaves.
        let l = lock.clone();
        let aborted = reactor::spawn(async move {
            let _g = l.acquire().await;
            unreachable!("aborted before it got the lock");
        });
        let l = lock.clone();
        let patient = reactor::spawn(async move {
            let _g = l.acquire().await;
            "got it"
        });
        reactor::yield_now().await;
        assert_eq!(lock.waiters(), 2);
        aborted.abort();
        assert!(aborted.await.unwrap_err().is_cancelled());
        assert_eq!(lock.waiters(), 1);
        drop(held);
        assert_eq!(
            reactor::timeout(LONG, patient).await.unwrap().unwrap(),
            "got it"
        );
        assert!(!lock.is_locked());
    });
}

#[test]
fn lock_handed_to_a_waiter_dropped_before_it_ran_goes_to_the_next() {
    let lock = Lock::new();
    let held = lock.try_acquire().unwrap();
    let mut a = Probe::new(lock.acquire());
    let mut b = Probe::new(lock.acquire());
    let mut c = Probe::new(lock.acquire());
    assert!(a.poll().is_pending() && b.poll().is_pending() && c.poll().is_pending());
    drop(held); // a is handed the lock...
    assert_eq!((a.wakes(), b.wakes(), c.wakes()), (1, 0, 0));
    drop(a); // ...but is dropped before it ran: b gets it
    assert_eq!((b.wakes(), c.wakes()), (1, 0));
    let Poll::Ready(g) = b.poll() else {
        panic!("b should own the lock")
    };
    assert!(c.poll().is_pending());
    drop(g);
    assert_eq!(c.wakes(), 1);
    assert!(c.poll().is_ready());
}

// ---------------------------------------------------------------------------------------
// Semaphore / BoundedSemaphore

#[test]
fn semaphore_bounds_concurrency() {
    run(async {
        let sem = Semaphore::new(3);
        let running = Rc::new(Cell::new(0));
        let peak = Rc::new(Cell::new(0));
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let (sem, running, peak) = (sem.clone(), running.clone(), peak.clone());
                reactor::spawn(async move {
                    let _p = sem.acquire().await;
                    running.set(running.get() + 1);
                    peak.set(peak.get().max(running.get()));
                    if i % 2 == 0 {
                        reactor::sleep(Duration::from_millis(1)).await;
                    } else {
                        reactor::yield_now().await;
                    }
                    running.set(running.get() - 1);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(peak.get(), 3);
        assert_eq!(sem.available_permits(), 3);
        assert_eq!(sem.waiters(), 0);
    });
}

#[test]
fn semaphore_serves_waiters_in_fifo_order() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let mut probes: Vec<_> = (0..4).map(|_| Probe::new(sem.acquire())).collect();
    for p in &mut probes {
        assert!(p.poll().is_pending());
    }
    let mut guard = Some(held);
    for i in 0..4 {
        drop(guard.take());
        for (j, p) in probes.iter().enumerate() {
            assert_eq!(
                p.wakes(),
                usize::from(j <= i),
                "only waiters up to {i} woken"
            );
        }
        match probes[i].poll() {
            Poll::Ready(g) => guard = Some(g),
            Poll::Pending => panic!("waiter {i} should hold the permit"),
        }
        for p in &mut probes[i + 1..] {
            assert!(p.poll().is_pending());
        }
    }
    drop(guard);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn semaphore_timeout_and_cancellation_leave_no_ghost() {
    run(async {
        let sem = Semaphore::new(0);
        assert!(sem.acquire_timeout(SHORT).await.is_err());
        assert_eq!(sem.waiters(), 0);
        // Ten waiters that give up, then one that waits: the release goes to it.
        for _ in 0..10 {
            assert!(sem.acquire_timeout(Duration::from_millis(1)).await.is_err());
        }
        let s = sem.clone();
        let patient = reactor::spawn(async move { s.acquire().await.forget() });
        reactor::yield_now().await;
        assert_eq!(sem.waiters(), 1);
        sem.release();
        reactor::timeout(LONG, patient).await.unwrap().unwrap();
        assert_eq!(sem.available_permits(), 0, "the permit was taken, not lost");
        sem.release();
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn semaphore_permit_handed_to_a_dropped_waiter_is_passed_on_or_returned() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let mut a = Probe::new(sem.acquire());
    let mut b = Probe::new(sem.acquire());
    assert!(a.poll().is_pending() && b.poll().is_pending());
    drop(held);
    drop(a);
    assert_eq!(b.wakes(), 1);
    let Poll::Ready(g) = b.poll() else {
        panic!("b should hold the permit")
    };
    drop(g);
    // With nobody left, a permit handed to a dropped waiter returns to the pool.
    let held = sem.try_acquire().unwrap();
    let mut c = Probe::new(sem.acquire());
    assert!(c.poll().is_pending());
    drop(held);
    assert_eq!(sem.available_permits(), 0);
    drop(c);
    assert_eq!(sem.available_permits(), 1);
    assert_eq!(sem.waiters(), 0);
}

#[test]
fn semaphore_release_raises_the_count_and_bounded_refuses() {
    let sem = Semaphore::new(1);
    sem.release();
    assert_eq!(
        sem.available_permits(),
        2,
        "an unbounded semaphore may grow"
    );

    let bounded = BoundedSemaphore::new(2);
    let e = bounded.release().unwrap_err();
    assert_eq!(e.to_string(), "semaphore released too many times");
    assert_eq!(bounded.available_permits(), 2);
    bounded.try_acquire().unwrap().forget();
    bounded.try_acquire().unwrap().forget();
    assert!(bounded.try_acquire().is_none());
    bounded.release().unwrap();
    bounded.release().unwrap();
    assert!(bounded.release().is_err());
    assert_eq!(bounded.available_permits(), 2);
    // A guard gives its permit back on drop; a release then is one too many.
    let g = bounded.try_acquire().unwrap();
    drop(g);
    assert!(bounded.release().is_err());
}

#[test]
fn bounded_semaphore_hands_a_release_to_a_waiter() {
    run(async {
        let sem = BoundedSemaphore::new(1);
        sem.acquire().await.forget();
        let s = sem.clone();
        let waiter = reactor::spawn(async move {
            let _g = s.acquire().await;
        });
        reactor::yield_now().await;
        assert_eq!(sem.waiters(), 1);
        sem.release().unwrap();
        reactor::timeout(LONG, waiter).await.unwrap().unwrap();
        assert_eq!(sem.available_permits(), 1);
        assert!(sem.acquire_timeout(SHORT).await.is_ok());
    });
}

// ---------------------------------------------------------------------------------------
// Condition

#[test]
fn condition_notify_n_wakes_the_first_n_in_order() {
    let cond = Condition::new();
    let mut w: Vec<_> = (0..5).map(|_| Probe::new(cond.wait())).collect();
    for p in &mut w {
        assert!(p.poll().is_pending());
    }
    assert_eq!(cond.waiters(), 5);
    assert_eq!(cond.notify(1), 1);
    assert!(w[0].poll().is_ready());
    assert!(w[1].poll().is_pending());
    assert_eq!(cond.notify(2), 2);
    assert!(w[1].poll().is_ready() && w[2].poll().is_ready());
    assert!(w[3].poll().is_pending());
    assert_eq!(cond.notify_all(), 2);
    assert!(w[3].poll().is_ready() && w[4].poll().is_ready());
    let wakes: Vec<_> = w.iter().map(Probe::wakes).collect();
    assert_eq!(wakes, [1, 1, 1, 1, 1]);
    // Notifications are not stored.
    assert_eq!(cond.notify(3), 0);
    let mut late = Probe::new(cond.wait());
    assert!(late.poll().is_pending());
}

#[test]
fn condition_dropped_waiter_gets_no_notification_and_a_lost_one_is_passed_on() {
    let cond = Condition::new();
    let mut a = Probe::new(cond.wait());
    let mut b = Probe::new(cond.wait());
    let mut c = Probe::new(cond.wait());
    assert!(a.poll().is_pending() && b.poll().is_pending() && c.poll().is_pending());
    // a gives up before any notify: the notify goes to b.
    let a_counter = a.counter.clone();
    drop(a);
    assert_eq!(cond.notify(1), 1);
    assert_eq!(a_counter.0.load(Ordering::SeqCst), 0);
    assert_eq!((b.wakes(), c.wakes()), (1, 0));
    // b is dropped after being notified, before it saw it: c gets it instead.
    drop(b);
    assert_eq!(c.wakes(), 1);
    assert!(c.poll().is_ready());
    assert_eq!(cond.waiters(), 0);
}

#[test]
fn condition_wait_timeout_and_the_predicate_loop() {
    run(async {
        let cond = Condition::new();
        assert!(!cond.wait_timeout(SHORT).await);
        assert_eq!(cond.waiters(), 0);

        let value = Rc::new(Cell::new(0));
        let (c, v) = (cond.clone(), value.clone());
        let waiter = reactor::spawn(async move {
            while v.get() < 3 {
                assert!(c.wait_timeout(LONG).await, "notified, not timed out");
            }
            v.get()
        });
        for _ in 0..3 {
            reactor::yield_now().await;
            value.set(value.get() + 1);
            cond.notify_all();
        }
        assert_eq!(reactor::timeout(LONG, waiter).await.unwrap().unwrap(), 3);
    });
}

// ---------------------------------------------------------------------------------------
// Queues

#[test]
fn queue_orders_fifo_lifo_priority() {
    let fifo = Queue::new(0);
    let lifo = LifoQueue::new(0);
    let prio = PriorityQueue::new(0);
    for n in [3, 1, 2] {
        fifo.put_nowait(n).unwrap();
        lifo.put_nowait(n).unwrap();
        prio.put_nowait(n).unwrap();
    }
    let drain = |f: &dyn Fn() -> Option<i32>| std::iter::from_fn(f).collect::<Vec<_>>();
    assert_eq!(drain(&|| fifo.get_nowait().ok()), [3, 1, 2]);
    assert_eq!(drain(&|| lifo.get_nowait().ok()), [2, 1, 3]);
    assert_eq!(drain(&|| prio.get_nowait().ok()), [1, 2, 3]);
}

#[test]
fn queue_nowait_errors_and_bounds() {
    let q = Queue::new(2);
    assert_eq!(q.maxsize(), 2);
    assert!(q.is_empty() && !q.is_full());
    assert!(q.get_nowait().is_err());
    q.put_nowait("a").unwrap();
    q.put_nowait("b").unwrap();
    assert!(q.is_full());
    let full = q.put_nowait("c").unwrap_err();
    assert_eq!(full.0, "c", "the item comes back");
    assert_eq!(q.len(), 2);
    assert_eq!(q.get_nowait().unwrap(), "a");
    q.put_nowait("c").unwrap();

    let unbounded = Queue::unbounded();
    for n in 0..10_000 {
        unbounded.put_nowait(n).unwrap();
    }
    assert!(!unbounded.is_full());
    assert_eq!(unbounded.len(), 10_000);
}

#[test]
fn queue_getters_and_putters_are_served_fifo() {
    run(async {
        let q = Queue::new(1);
        let got = Rc::new(RefCell::new(Vec::new()));
        let getters: Vec<_> = (0..3)
            .map(|i| {
                let (q, got) = (q.clone(), got.clone());
                reactor::spawn(async move {
                    let item = q.get().await;
                    got.borrow_mut().push((i, item));
                })
            })
            .collect();
        reactor::yield_now().await;
        assert_eq!(q.getters(), 3);
        for item in ["x", "y", "z"] {
            q.put(item).await;
        }
        for g in getters {
            g.await.unwrap();
        }
        assert_eq!(*got.borrow(), [(0, "x"), (1, "y"), (2, "z")]);

        // Putters on a full queue, in order.
        q.put_nowait("first").unwrap();
        let putters: Vec<_> = (0..3)
            .map(|i| {
                let q = q.clone();
                reactor::spawn(async move { q.put(format!("p{i}").leak() as &str).await })
            })
            .collect();
        reactor::yield_now().await;
        assert_eq!(q.putters(), 3);
        let mut out = Vec::new();
        for _ in 0..4 {
            out.push(q.get().await);
            assert!(q.len() <= 1);
        }
        for p in putters {
            p.await.unwrap();
        }
        assert_eq!(out, ["first", "p0", "p1", "p2"]);
    });
}

#[test]
fn queue_item_reserved_for_a_waiting_getter_and_passed_on_if_it_is_dropped() {
    let q = Queue::new(0);
    let mut g1 = Probe::new(q.get());
    let mut g2 = Probe::new(q.get());
    assert!(g1.poll().is_pending() && g2.poll().is_pending());
    q.put_nowait(7).unwrap();
    assert_eq!((g1.wakes(), g2.wakes()), (1, 0));
    // The item is promised to g1: a newcomer cannot take it.
    assert!(q.get_nowait().is_err());
    assert_eq!(q.len(), 1);
    drop(g1); // dropped before it took the item: g2 gets it
    assert_eq!(g2.wakes(), 1);
    assert_eq!(g2.poll(), Poll::Ready(7));
    assert!(q.is_empty());
    assert_eq!(q.getters(), 0);
    // With no getter left, an item promised to a dropped one goes back to the queue.
    let mut g3 = Probe::new(q.get());
    assert!(g3.poll().is_pending());
    q.put_nowait(8).unwrap();
    drop(g3);
    assert_eq!(q.get_nowait().unwrap(), 8);
}

#[test]
fn queue_slot_reserved_for_a_waiting_putter_and_passed_on_if_it_is_dropped() {
    let q = Queue::new(1);
    q.put_nowait('a').unwrap();
    let mut p1 = Probe::new(q.put('b'));
    let mut p2 = Probe::new(q.put('c'));
    assert!(p1.poll().is_pending() && p2.poll().is_pending());
    assert_eq!(q.putters(), 2);
    assert_eq!(q.get_nowait().unwrap(), 'a');
    assert_eq!((p1.wakes(), p2.wakes()), (1, 0));
    // The freed slot is promised to p1: a newcomer cannot fill it.
    assert!(q.put_nowait('x').is_err());
    drop(p1); // its item 'b' is dropped with it; the slot goes to p2
    assert_eq!(p2.wakes(), 1);
    assert!(p2.poll().is_ready());
    assert_eq!(q.len(), 1);
    assert_eq!(q.get_nowait().unwrap(), 'c');
    assert_eq!(q.putters(), 0);
}

#[test]
fn queue_timeouts_leave_no_ghost() {
    run(async {
        let q = Queue::new(1);
        assert!(q.get_timeout(SHORT).await.is_err());
        assert_eq!(q.getters(), 0);
        q.put_nowait(1).unwrap();
        assert!(q.put_timeout(2, SHORT).await.is_err());
        assert_eq!(q.putters(), 0);
        assert_eq!(q.len(), 1, "the timed-out put queued nothing");
        assert_eq!(q.get_timeout(SHORT).await, Ok(1));
        // After a getter timed out, the next item waits in the queue for whoever comes.
        assert!(q.get_timeout(Duration::from_millis(1)).await.is_err());
        q.put(3).await;
        assert_eq!(q.len(), 1);
        assert_eq!(q.get().await, 3);
    });
}

#[test]
fn queue_task_done_and_join() {
    run(async {
        let q: Queue<u32> = Queue::new(0);
        // Nothing put: join returns at once; task_done is an error.
        q.join().await;
        assert!(q.task_done().is_err());
        for n in 0..5 {
            q.put(n).await;
        }
        assert_eq!(q.unfinished_tasks(), 5);
        assert!(q.join_timeout(SHORT).await.is_err());
        let processed = Rc::new(Cell::new(0));
        let (q2, p) = (q.clone(), processed.clone());
        reactor::spawn(async move {
            loop {
                let n = q2.get().await;
                reactor::sleep(Duration::from_millis(1)).await;
                p.set(p.get() + n);
                q2.task_done().unwrap();
            }
        });
        reactor::timeout(LONG, q.join()).await.unwrap();
        assert_eq!(processed.get(), 10);
        assert_eq!(q.unfinished_tasks(), 0);
        assert!(q.task_done().is_err());
    });
}

#[test]
fn producer_consumer_pipeline_with_backpressure() {
    const N: usize = 500;
    const BOUND: usize = 4;
    run(async {
        let stage1: Queue<usize> = Queue::new(BOUND);
        let stage2: Queue<usize> = Queue::new(BOUND);
        let max_len = Rc::new(Cell::new(0));
        let consumed = Rc::new(Cell::new(0));
        let track = {
            let (s1, s2, max_len) = (stage1.clone(), stage2.clone(), max_len.clone());
            move || max_len.set(max_len.get().max(s1.len()).max(s2.len()))
        };

        // Producer: as fast as it can; put must hold it back.
        let producer = {
            let (q, consumed, track) = (stage1.clone(), consumed.clone(), track.clone());
            reactor::spawn(async move {
                let mut most_ahead = 0;
                for n in 0..N {
                    q.put(n).await;
                    track();
                    most_ahead = most_ahead.max(n + 1 - consumed.get());
                }
                most_ahead
            })
        };
        // Middle stage: doubles, passing items on through a second bounded queue.
        let middle = {
            let (input, output, track) = (stage1.clone(), stage2.clone(), track.clone());
            reactor::spawn(async move {
                for _ in 0..N {
                    let n = input.get().await;
                    output.put(n * 2).await;
                    input.task_done().unwrap();
                    track();
                }
            })
        };
        // Consumer: slow (a timer or a loop turn per item).
        let consumer = {
            let (q, consumed, track) = (stage2.clone(), consumed.clone(), track.clone());
            reactor::spawn(async move {
                let mut got = Vec::with_capacity(N);
                for i in 0..N {
                    got.push(q.get().await);
                    track();
                    consumed.set(consumed.get() + 1);
                    q.task_done().unwrap();
                    if i % 50 == 0 {
                        reactor::sleep(Duration::from_millis(1)).await;
                    } else {
                        reactor::yield_now().await;
                    }
                }
                got
            })
        };

        let most_ahead = reactor::timeout(LONG, producer).await.unwrap().unwrap();
        reactor::timeout(LONG, middle).await.unwrap().unwrap();
        let got = reactor::timeout(LONG, consumer).await.unwrap().unwrap();
        reactor::timeout(LONG, stage1.join()).await.unwrap();
        reactor::timeout(LONG, stage2.join()).await.unwrap();

        assert_eq!(got, (0..N).map(|n| n * 2).collect::<Vec<_>>());
        assert!(max_len.get() <= BOUND, "a queue exceeded its bound");
        assert_eq!(max_len.get(), BOUND, "the queues did fill up");
        // Backpressure: the producer never ran further ahead of the consumer than the two
        // queues, the middle stage's item in hand and its pending put can hold.
        assert!(
            most_ahead <= 2 * BOUND + 2,
            "producer ran {most_ahead} items ahead"
        );
    });
}

#[test]
fn many_waiters_timing_out_at_once_leave_the_lists_empty() {
    run(async {
        let lock = Lock::new();
        let cond = Condition::new();
        let event = Event::new();
        let q: Queue<u8> = Queue::new(1);
        q.put_nowait(0).unwrap();
        let held = lock.acquire().await;
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let (lock, cond, event, q) = (lock.clone(), cond.clone(), event.clone(), q.clone());
                reactor::spawn(async move {
                    let d = Duration::from_millis(1 + (i % 7) as u64);
                    match i % 4 {
                        0 => assert!(lock.acquire_timeout(d).await.is_err()),
                        1 => assert!(!cond.wait_timeout(d).await),
                        2 => assert!(event.wait_timeout(d).await.is_err()),
                        _ => assert!(q.put_timeout(1, d).await.is_err()),
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(
            (lock.waiters(), cond.waiters(), event.waiters(), q.putters()),
            (0, 0, 0, 0)
        );
        drop(held);
        assert!(lock.try_acquire().is_some());
        assert_eq!(q.len(), 1);
    });
}
