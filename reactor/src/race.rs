//! `race`: wait for the first of two futures (Tornado users write
//! `asyncio.wait(..., return_when=FIRST_COMPLETED)` or `gen.with_timeout`), so that a handler
//! waiting for two things — news or its client leaving, a reply or a shutdown — need not
//! write a `poll_fn` by hand.
//!
//! The loser is dropped when `race` returns, which cancels it: the locks, conditions and
//! queues of [`sync`](crate::sync) are cancel-safe (a dropped waiter leaves no ghost), so a
//! race against one of their waits leaves nothing behind.
//!
//! ```
//! use std::time::Duration;
//! use reactor::{race, Condition, Either, Reactor};
//!
//! let reactor = Reactor::new().unwrap();
//! let news = Condition::new();
//! let first = reactor.block_on(race(news.wait(), reactor::sleep(Duration::from_millis(1))));
//! assert!(matches!(first, Either::Right(())));
//! assert_eq!(news.waiters(), 0); // the losing wait was dropped, and left the condition
//! ```

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

/// Which of the two futures given to [`race`] finished first, with its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Either<A, B> {
    /// The first future (`a`) finished first.
    Left(A),
    /// The second future (`b`) finished first.
    Right(B),
}

/// Runs `a` and `b` together on this task and returns the output of the first to finish;
/// the other is dropped (cancelled).
///
/// **Poll order:** each time the task is woken, `a` is polled first, then `b`. If both are
/// ready in the same poll, `a` wins, and `b` is not polled. Put the future whose result must
/// not be lost first (a message taken from a queue), the cancellation second.
///
/// ```
/// use reactor::{race, Either, Reactor};
///
/// let reactor = Reactor::new().unwrap();
/// let both_ready = reactor.block_on(race(async { 1 }, async { "two" }));
/// assert_eq!(both_ready, Either::Left(1));
/// let second = reactor.block_on(race(std::future::pending::<u8>(), async { "two" }));
/// assert_eq!(second, Either::Right("two"));
/// ```
pub async fn race<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let (mut a, mut b) = (pin!(a), pin!(b));
    poll_fn(|cx| {
        if let Poll::Ready(output) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(output));
        }
        b.as_mut().poll(cx).map(Either::Right)
    })
    .await
}
