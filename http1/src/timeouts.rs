//! Time limits on a connection's stream operations: a fill or a flush within a limit
//! ([`within`], which arms no timer when the operation completes at once), and the keep-alive
//! [`IdleTimer`], one reactor timer per connection rather than one per request. A limit that
//! runs out closes the stream.

use iostream::{IOStream, StreamError};
use std::future::{poll_fn, Future};
use std::io;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

/// `stream.fill(min)` within `limit` (none: no limit). A timeout closes the stream. No timer
/// is armed when the bytes are already there.
pub(crate) async fn fill_within(
    stream: &IOStream,
    min: usize,
    limit: Option<Duration>,
) -> Result<usize, StreamError> {
    within(stream, pin!(stream.fill(min)), || limit).await
}

/// `stream.flush()` within `limit`. A timeout closes the stream. No timer is armed when the
/// bytes go out at once.
pub(crate) async fn flush(stream: &IOStream, limit: Option<Duration>) -> Result<(), StreamError> {
    within(stream, pin!(stream.flush()), || limit).await
}

/// Runs a stream operation within the time `limit` gives (asked only if the operation has to
/// wait): polled once first, so that an operation that completes at once costs no timer (and
/// no clock read). A timeout closes the stream.
pub(crate) async fn within<T, F>(
    stream: &IOStream,
    mut op: Pin<&mut F>,
    limit: impl FnOnce() -> Option<Duration>,
) -> Result<T, StreamError>
where
    F: Future<Output = Result<T, StreamError>>,
{
    let mut limit = Some(limit);
    let mut timer = None;
    poll_fn(|cx| {
        if let Poll::Ready(r) = op.as_mut().poll(cx) {
            return Poll::Ready(r);
        }
        if let Some(limit) = limit.take() {
            timer = limit().map(reactor::sleep);
        }
        if let Some(sleep) = &mut timer {
            if Pin::new(sleep).poll(cx).is_ready() {
                stream.close();
                return Poll::Ready(Err(timed_out()));
            }
        }
        Poll::Pending
    })
    .await
}

/// The keep-alive idle timer of a connection: one reactor timer that lives across requests,
/// instead of one armed and cancelled per request.
///
/// It is armed for `idle_connection_timeout`; when it fires while the connection waits for a
/// request, the connection is closed if no request came since it was armed, else it is
/// re-armed. So an idle connection is closed after between one and two periods. The timer
/// wakes the task through a small flag waker, so a wait only looks at the timer (and reads
/// the clock) after it fired: a busy connection pays no timer work and no clock read per
/// request.
pub struct IdleTimer {
    period: Option<Duration>,
    sleep: Option<reactor::Sleep>,
    flag: Option<(Arc<TimerFlag>, Waker)>,
    task: Option<Waker>,
    activity: bool,
}

/// The waker the idle timer's `Sleep` is registered with: notes that it fired, then wakes the
/// connection's task.
#[derive(Default)]
struct TimerFlag {
    fired: AtomicBool,
    task: Mutex<Option<Waker>>,
}

impl Wake for TimerFlag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.fired.store(true, Ordering::Release);
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(task) = task.as_ref() {
            task.wake_by_ref();
        }
    }
}

impl IdleTimer {
    /// A timer for `period` (`None`: keep-alive connections may idle forever).
    pub fn new(period: Option<Duration>) -> IdleTimer {
        IdleTimer {
            period,
            sleep: None,
            flag: None,
            task: None,
            activity: false,
        }
    }

    /// Waits until `min` bytes are buffered; fails (closing the stream) when idle too long.
    pub(crate) async fn fill(
        &mut self,
        stream: &IOStream,
        min: usize,
    ) -> Result<usize, StreamError> {
        let Some(period) = self.period else {
            return stream.fill(min).await;
        };
        let mut fill = pin!(stream.fill(min));
        poll_fn(|cx| {
            if let Poll::Ready(r) = fill.as_mut().poll(cx) {
                self.activity = true;
                return Poll::Ready(r);
            }
            // One allocation per connection: the flag waker.
            let (flag, flag_waker) = self.flag.get_or_insert_with(|| {
                let flag = Arc::new(TimerFlag::default());
                let waker = Waker::from(flag.clone());
                (flag, waker)
            });
            if !self.task.as_ref().is_some_and(|t| t.will_wake(cx.waker())) {
                *flag.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(cx.waker().clone());
                self.task = Some(cx.waker().clone());
            }
            let sleep = match &mut self.sleep {
                Some(sleep) => {
                    if !flag.fired.swap(false, Ordering::AcqRel) {
                        return Poll::Pending; // armed, not fired: nothing to look at
                    }
                    sleep
                }
                None => self.sleep.insert(reactor::sleep(period)),
            };
            let mut timer_cx = Context::from_waker(flag_waker);
            loop {
                if Pin::new(&mut *sleep).poll(&mut timer_cx).is_pending() {
                    return Poll::Pending;
                }
                if !std::mem::take(&mut self.activity) {
                    stream.close();
                    return Poll::Ready(Err(timed_out()));
                }
                sleep.reset(Instant::now() + period);
            }
        })
        .await
    }
}

pub(crate) fn timed_out() -> StreamError {
    StreamError::Closed {
        source: Some(io::Error::from(io::ErrorKind::TimedOut)),
    }
}
