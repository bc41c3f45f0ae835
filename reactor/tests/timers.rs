//! Timers: order, cancellation, scale, periodic callbacks skipping missed ticks.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use reactor::{PeriodicCallback, Reactor};

#[test]
fn timers_fire_in_deadline_then_insertion_order() {
    let reactor = Reactor::new().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let t0 = Instant::now() + Duration::from_millis(5);
    let plan = [(3, 'a'), (1, 'b'), (3, 'c'), (2, 'd'), (1, 'e')];
    for (ms, name) in plan {
        let l = log.clone();
        reactor.call_at(t0 + Duration::from_millis(ms), move || {
            l.borrow_mut().push(name)
        });
    }
    let r = reactor.clone();
    reactor.call_at(t0 + Duration::from_millis(10), move || r.stop());
    reactor.run();
    assert_eq!(*log.borrow(), vec!['b', 'e', 'd', 'a', 'c']);
}

#[test]
fn cancel_before_and_after_firing() {
    let reactor = Reactor::new().unwrap();
    let fired = Rc::new(Cell::new(0));
    let f = fired.clone();
    let early = reactor.call_later(Duration::from_millis(1), move || f.set(f.get() + 1));
    let f = fired.clone();
    let cancelled = reactor.call_later(Duration::from_millis(1), move || f.set(f.get() + 100));
    assert!(cancelled.cancel());
    reactor.remove_timeout(&cancelled); // a second cancel is harmless
    let r = reactor.clone();
    reactor.call_later(Duration::from_millis(10), move || r.stop());
    reactor.run();
    assert_eq!(fired.get(), 1);
    assert!(
        !early.cancel(),
        "cancelling a fired timer reports that it was not pending"
    );
}

#[test]
fn a_hundred_thousand_timers() {
    const N: usize = 100_000;
    let reactor = Reactor::new().unwrap();
    let fired = Rc::new(Cell::new(0usize));
    let last = Rc::new(Cell::new(Instant::now()));
    let start = Instant::now();
    let mut handles = Vec::new();
    for i in 0..N {
        let (f, l) = (fired.clone(), last.clone());
        let deadline = start + Duration::from_micros((i % 1000) as u64 * 20);
        handles.push(reactor.call_at(deadline, move || {
            // Deadlines never run backwards.
            assert!(deadline >= l.get() || deadline == l.get());
            l.set(deadline);
            f.set(f.get() + 1);
        }));
    }
    // Cancel every tenth one.
    for h in handles.iter().step_by(10) {
        assert!(h.cancel());
    }
    let r = reactor.clone();
    reactor.call_at(start + Duration::from_millis(40), move || r.stop());
    reactor.run();
    assert_eq!(fired.get(), N - N / 10);
}

#[test]
fn periodic_callback_skips_missed_ticks() {
    let reactor = Reactor::new().unwrap();
    let ticks = Rc::new(RefCell::new(Vec::new()));
    let t = ticks.clone();
    let pc = PeriodicCallback::new(Duration::from_millis(10), move || {
        t.borrow_mut().push(Instant::now());
        if t.borrow().len() == 1 {
            // Block the loop for 5 periods: those ticks are missed, not bunched up.
            std::thread::sleep(Duration::from_millis(55));
        }
    });
    pc.start_on(&reactor);
    let r = reactor.clone();
    reactor.call_later(Duration::from_millis(100), move || r.stop());
    reactor.run();
    pc.stop();
    let ticks = ticks.borrow();
    // 100 ms at 10 ms with 5 periods blocked: calls at about 10, 70, 80, 90 ms. Catching up
    // on the missed ticks instead would make about 9.
    assert!(
        ticks.len() >= 2 && ticks.len() <= 6,
        "{} ticks",
        ticks.len()
    );
    // The callback ran long; the next call waits for it to return (and is on the grid).
    assert!(
        ticks[1] - ticks[0] >= Duration::from_millis(55),
        "{:?}",
        ticks[1] - ticks[0]
    );
    assert!(!pc.is_running());
}

#[test]
fn interval_skips_missed_ticks_too() {
    const PERIOD: Duration = Duration::from_millis(10);
    // Ticks are scheduled instants on the grid `first + k * PERIOD`.
    let on_grid = |first: Instant, t: Instant| {
        let (since, period) = ((t - first).as_nanos(), PERIOD.as_nanos());
        since / period * period == since
    };
    let reactor = Reactor::new().unwrap();
    reactor.block_on(async {
        let mut ticks = reactor::interval(PERIOD);
        let first = ticks.tick().await;
        let after_first = Instant::now();
        // Block the loop through at least three ticks.
        std::thread::sleep(PERIOD * 3 + PERIOD / 2);
        let woke = Instant::now();
        // The overdue tick fires once, at once: it is the first one after the previous tick
        // returned (on a loaded machine that may itself have been late, and skipped some).
        let overdue = ticks.tick().await;
        assert!(
            on_grid(first, overdue) && overdue > first,
            "{:?}",
            overdue - first
        );
        assert!(overdue <= after_first + PERIOD, "{:?}", overdue - first);
        // The missed ones after it are skipped: the next scheduled tick is on the grid after
        // the loop woke, not one period after the overdue one.
        let next = ticks.tick().await;
        assert!(on_grid(first, next), "{:?}", next - first);
        assert!(next > woke, "{:?} before the wake", woke - next);
        assert!(next - overdue >= PERIOD * 3, "{:?}", next - overdue);
        assert!(Instant::now() >= next);
    });
}
