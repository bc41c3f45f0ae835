//! A thread's current reactor is shut down when the thread exits (`CurrentSlot`'s destructor).
//! What it drops then may call back into the reactor: here a pending `call_later` callback
//! owns a `Sleep` whose timer is registered, and dropping the `Sleep` cancels that timer.
//! That must not find the timer list still borrowed by the shutdown (a "RefCell already
//! borrowed" panic in a thread-local destructor aborts the whole process).

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use reactor::Reactor;

struct NoWake;

impl Wake for NoWake {
    fn wake(self: Arc<Self>) {}
}

#[test]
fn a_callback_owning_a_sleep_is_dropped_cleanly_at_thread_exit() {
    let outcome = std::thread::spawn(|| {
        let reactor = Reactor::current();
        let waker = Waker::from(Arc::new(NoWake));
        let mut sleep = Box::pin(reactor::sleep(Duration::from_secs(60)));
        // One poll registers the sleep's timer with the current reactor.
        assert!(sleep
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        reactor.call_later(Duration::from_secs(60), move || drop(sleep));
        // A second pending timer whose callback owns a `Sleep` that is dropped first.
        let mut other = pin!(reactor::sleep(Duration::from_secs(30)));
        assert!(other
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
    })
    .join();
    assert!(outcome.is_ok(), "the thread's reactor shut down cleanly");
}
