//! `reactor::race`: the first of two futures wins, `a` before `b` when both are ready, the
//! loser is dropped at once (a condition wait leaves the waiter set), and a wake from either
//! side polls both again.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use reactor::{race, Condition, Either, Event, Reactor};

/// Sets its flag when dropped.
struct DropFlag(Rc<Cell<bool>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

#[test]
fn the_first_to_finish_wins_and_a_goes_first_on_a_tie() {
    let reactor = Reactor::current();
    assert_eq!(
        reactor.block_on(race(async { 1 }, async { 2 })),
        Either::Left(1)
    );
    let b_first = reactor.block_on(race(
        reactor::sleep(Duration::from_secs(10)),
        reactor::sleep(Duration::from_millis(1)),
    ));
    assert_eq!(b_first, Either::Right(()));
    let a_first = reactor.block_on(race(
        reactor::sleep(Duration::from_millis(1)),
        reactor::sleep(Duration::from_secs(10)),
    ));
    assert_eq!(a_first, Either::Left(()));
}

#[test]
fn on_a_tie_b_is_not_polled() {
    let reactor = Reactor::current();
    let polled_b = Rc::new(Cell::new(false));
    let flag = polled_b.clone();
    let winner = reactor.block_on(race(async { "a" }, async move {
        flag.set(true);
        "b"
    }));
    assert_eq!(winner, Either::Left("a"));
    assert!(!polled_b.get());
}

#[test]
fn the_loser_is_dropped_when_race_returns() {
    let reactor = Reactor::current();
    let dropped = Rc::new(Cell::new(false));
    let guard = DropFlag(dropped.clone());
    let news = Rc::new(Condition::new());
    let (cond, seen) = (news.clone(), dropped.clone());
    reactor.block_on(async move {
        let loser = async move {
            let _guard = guard;
            cond.wait().await;
        };
        let winner = async {
            // Both have been polled once: the condition has its waiter.
            reactor::yield_now().await;
            assert_eq!(news.waiters(), 1);
            assert!(!seen.get());
        };
        assert_eq!(race(loser, winner).await, Either::Right(()));
        assert_eq!(
            news.waiters(),
            0,
            "the losing wait left the condition at once"
        );
    });
    assert!(dropped.get());
}

#[test]
fn a_wake_of_either_side_is_seen() {
    let reactor = Reactor::current();
    let (left, right) = (Rc::new(Event::new()), Rc::new(Event::new()));
    let started = Instant::now();
    let set_later = |event: Rc<Event>| {
        reactor::spawn(async move {
            reactor::sleep(Duration::from_millis(5)).await;
            event.set();
        })
    };
    set_later(right.clone());
    let first = reactor.block_on(race(left.wait(), right.wait()));
    assert_eq!(first, Either::Right(()));
    right.clear();
    set_later(left.clone());
    let first = reactor.block_on(race(left.wait(), right.wait()));
    assert_eq!(first, Either::Left(()));
    assert!(started.elapsed() < Duration::from_secs(5));
}
