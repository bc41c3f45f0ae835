//! Time for tasks, on the reactor's timers: [`sleep`], [`timeout`], [`yield_now`],
//! [`interval`] and [`PeriodicCallback`] (Tornado's `gen.sleep`, `gen.with_timeout`,
//! `gen.moment` and `PeriodicCallback`).
//!
//! A sleeping task costs one timer entry holding its `Waker`: no allocation per sleep.

use std::cell::RefCell;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::reactor::{Inner, Reactor, Timeout};
use crate::timer::{TimerAction, TimerKey};

/// Waits until `duration` has passed.
///
/// ```
/// use std::time::{Duration, Instant};
/// let start = Instant::now();
/// reactor::Reactor::new().unwrap().block_on(reactor::sleep(Duration::from_millis(5)));
/// assert!(start.elapsed() >= Duration::from_millis(5));
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(Instant::now() + duration)
}

/// Waits until `deadline`.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        timer: None,
    }
}

/// The future of [`sleep`] / [`sleep_until`]; it registers its timer on first poll, with the
/// reactor current then, and cancels it when dropped early.
pub struct Sleep {
    deadline: Instant,
    timer: Option<(TimerKey, Weak<Inner>)>,
}

impl Sleep {
    /// When the sleep ends.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Moves the deadline (re-arming the timer at the next poll).
    pub fn reset(&mut self, deadline: Instant) {
        self.cancel_timer();
        self.deadline = deadline;
    }

    fn cancel_timer(&mut self) {
        if let Some((key, reactor)) = self.timer.take() {
            if let Some(inner) = reactor.upgrade() {
                inner_timers(&inner).borrow_mut().cancel(key);
            }
        }
    }
}

fn inner_timers(inner: &Rc<Inner>) -> &RefCell<crate::timer::Timers> {
    inner.timers()
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            self.timer = None; // fired (or about to): nothing left to cancel
            return Poll::Ready(());
        }
        match &self.timer {
            Some((key, reactor)) => {
                if let Some(inner) = reactor.upgrade() {
                    inner_timers(&inner)
                        .borrow_mut()
                        .update_waker(*key, cx.waker());
                }
            }
            None => {
                let reactor = Reactor::current();
                let key =
                    reactor.insert_timer(self.deadline, TimerAction::Wake(cx.waker().clone()));
                self.timer = Some((key, reactor.downgrade()));
            }
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel_timer();
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .finish()
    }
}

/// The error of [`timeout`]: the deadline passed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

/// Runs `future` but gives up after `duration` (Tornado's `gen.with_timeout`); the future is
/// dropped if the deadline wins.
///
/// ```
/// use std::time::Duration;
/// let r = reactor::Reactor::new().unwrap().block_on(reactor::timeout(
///     Duration::from_millis(1),
///     std::future::pending::<()>(),
/// ));
/// assert!(r.is_err());
/// ```
pub async fn timeout<F: Future>(duration: Duration, future: F) -> Result<F::Output, Elapsed> {
    // Not `race(future, sleep(..))`: that moves `future` into a second future, whose state
    // holds it again, and callers wrap whole requests (http1's client overflowed its test
    // thread's stack in a debug build).
    let mut future = pin!(future);
    let mut deadline = sleep(duration);
    poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match Pin::new(&mut deadline).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// Gives the loop one turn: other tasks, callbacks and I/O run before this task goes on
/// (Tornado's `gen.moment`).
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future of [`yield_now`].
#[derive(Debug)]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        match Reactor::try_current() {
            Some(reactor) => reactor.defer(cx.waker()),
            None => cx.waker().wake_by_ref(),
        }
        Poll::Pending
    }
}

/// The next deadline of a periodic schedule that skips missed ticks (Tornado's
/// `PeriodicCallback._update_next`): the first `next + k * period` after `now`.
fn next_tick(next: Instant, period: Duration, now: Instant) -> Instant {
    if next > now {
        return next;
    }
    let behind = now.duration_since(next).as_nanos();
    let period_ns = period.as_nanos().max(1);
    let skip = (behind / period_ns + 1).min(u32::MAX as u128) as u32;
    next + period * skip
}

/// A stream of ticks every `period`, starting one period from now; missed ticks are skipped,
/// not bunched up.
///
/// ```
/// use std::time::Duration;
/// reactor::Reactor::new().unwrap().block_on(async {
///     let mut ticks = reactor::interval(Duration::from_millis(1));
///     ticks.tick().await;
///     ticks.tick().await;
/// });
/// ```
pub fn interval(period: Duration) -> Interval {
    assert!(!period.is_zero(), "interval period must be non-zero");
    Interval {
        period,
        sleep: sleep(period),
    }
}

/// The schedule of [`interval`].
#[derive(Debug)]
pub struct Interval {
    period: Duration,
    sleep: Sleep,
}

impl Interval {
    /// Waits for the next tick and returns its scheduled time.
    pub async fn tick(&mut self) -> Instant {
        (&mut self.sleep).await;
        let scheduled = self.sleep.deadline();
        let next = next_tick(scheduled + self.period, self.period, Instant::now());
        self.sleep.reset(next);
        scheduled
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }
}

/// Calls a function every `period` on the current reactor until stopped (Tornado's
/// `PeriodicCallback`). A call that runs long, or a busy loop, skips the ticks it missed.
///
/// ```
/// use std::{cell::Cell, rc::Rc, time::Duration};
/// let reactor = reactor::Reactor::new().unwrap();
/// let count = Rc::new(Cell::new(0));
/// let (c, r) = (count.clone(), reactor.clone());
/// let pc = reactor::PeriodicCallback::new(Duration::from_millis(1), move || {
///     c.set(c.get() + 1);
///     if c.get() == 3 { r.stop() }
/// });
/// pc.start_on(&reactor);
/// reactor.run();
/// pc.stop();
/// assert_eq!(count.get(), 3);
/// ```
pub struct PeriodicCallback {
    state: Rc<RefCell<PeriodicState>>,
}

struct PeriodicState {
    callback: Box<dyn FnMut()>,
    period: Duration,
    next: Instant,
    timeout: Option<Timeout>,
    running: bool,
}

impl PeriodicCallback {
    /// A periodic call of `callback` every `period`; not started.
    pub fn new(period: Duration, callback: impl FnMut() + 'static) -> PeriodicCallback {
        assert!(
            !period.is_zero(),
            "periodic callback period must be non-zero"
        );
        PeriodicCallback {
            state: Rc::new(RefCell::new(PeriodicState {
                callback: Box::new(callback),
                period,
                next: Instant::now(),
                timeout: None,
                running: false,
            })),
        }
    }

    /// Starts calling on [`Reactor::current`], first one period from now.
    pub fn start(&self) {
        self.start_on(&Reactor::current());
    }

    /// Starts calling on `reactor`, first one period from now.
    pub fn start_on(&self, reactor: &Reactor) {
        let mut state = self.state.borrow_mut();
        if state.running {
            return;
        }
        state.running = true;
        state.next = Instant::now() + state.period;
        drop(state);
        schedule_periodic(&self.state, reactor);
    }

    /// Stops; a call in progress finishes, no more are made.
    pub fn stop(&self) {
        let mut state = self.state.borrow_mut();
        state.running = false;
        if let Some(t) = state.timeout.take() {
            t.cancel();
        }
    }

    /// Whether it is started.
    pub fn is_running(&self) -> bool {
        self.state.borrow().running
    }
}

impl Drop for PeriodicCallback {
    fn drop(&mut self) {
        self.stop();
    }
}

impl fmt::Debug for PeriodicCallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("PeriodicCallback")
            .field("period", &state.period)
            .field("running", &state.running)
            .finish()
    }
}

fn schedule_periodic(state: &Rc<RefCell<PeriodicState>>, reactor: &Reactor) {
    let weak = Rc::downgrade(state);
    let r = reactor.clone();
    let deadline = state.borrow().next;
    let timeout = reactor.call_at(deadline, move || {
        let Some(state) = weak.upgrade() else { return };
        if !state.borrow().running {
            return;
        }
        // Run the callback without holding the borrow, so it may stop() us.
        let mut callback = std::mem::replace(&mut state.borrow_mut().callback, Box::new(|| {}));
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(&mut callback));
        state.borrow_mut().callback = callback;
        if let Err(payload) = result {
            crate::reactor::log_panic("a periodic callback", payload.as_ref());
        }
        let mut s = state.borrow_mut();
        if !s.running {
            return;
        }
        s.next = next_tick(s.next + s.period, s.period, Instant::now());
        drop(s);
        schedule_periodic(&state, &r);
    });
    state.borrow_mut().timeout = Some(timeout);
}

#[cfg(test)]
mod tests {
    use super::next_tick;
    use std::time::{Duration, Instant};

    #[test]
    fn next_tick_skips_missed_ticks() {
        let t0 = Instant::now();
        let p = Duration::from_millis(10);
        assert_eq!(next_tick(t0 + p, p, t0), t0 + p);
        // 35 ms late: ticks at 10, 20, 30 were missed; the next is 40.
        assert_eq!(
            next_tick(t0 + p, p, t0 + Duration::from_millis(35)),
            t0 + 4 * p
        );
        // Exactly on a tick counts as missed (it is not in the future).
        assert_eq!(next_tick(t0 + p, p, t0 + p), t0 + 2 * p);
    }
}
