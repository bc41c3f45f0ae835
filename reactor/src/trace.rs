//! The request trace (the `trace` cargo feature): each layer records the steps of a request, with
//! the time, into a ring kept per thread.
//!
//! The calls sit where each step happens, one line each, written with the
//! [`trace_step!`](crate::trace_step) macro:
//!
//! | layer | step | where | detail |
//! |---|---|---|---|
//! | `reactor` | `epoll_wait returned` | `Inner::turn`, once per event | the handler's slab key |
//! | `reactor` | `handler woke the reading task` (or `writing`) | `Source::dispatch` | |
//! | `reactor` | `task polled` | `Inner::turn`, step 6 | the task's key |
//! | `iostream` | `read(2)` | `ReadBuffer::read_from` | bytes read |
//! | `http1` | `head parsed` | `HTTP1Connection::read_message` | head length |
//! | `web` | `route matched`, `handler ran (...)` | `WebMessage::finish` | |
//! | `http1` | `response head buffered` | `HTTP1Connection::write_headers` / `write_response` | bytes |
//! | `http1` | `response done` | `HTTP1Connection::finish` / `write_response` | bytes pending |
//! | `iostream` | `send(2) called` / `returned` | `WriteBuffer::write_to` | bytes |
//! | `iostream` | `sendmsg(2) called` / `returned` | `WriteBuffer::write_to` (several buffers) | bytes |
//! | `iostream` | `send(2) returned, unbuffered` | `IOStream::write` (from the caller's slice) | bytes |
//!
//! Without the feature the macro expands to nothing: no code, no thread-local, no clock read.
//! With it, a step costs one `Instant::now()` and a push into a bounded ring (allocated once per
//! thread; past [`CAPACITY`] steps the oldest are dropped), on the thread that runs the loop;
//! [`take`] hands them over.
//!
//! ```
//! reactor::trace::take(); // start from an empty trace
//! reactor::trace_step!("example", "first step");
//! reactor::trace_step!("example", "second step", 42usize);
//! let steps = reactor::trace::take();
//! assert_eq!(steps.len(), 2);
//! assert_eq!(steps[1].detail, Some(42));
//! assert!(steps[1].at >= steps[0].at);
//! ```

use std::cell::RefCell;
use std::collections::VecDeque;
use std::time::Instant;

/// Most steps kept per thread; older steps are dropped first.
pub const CAPACITY: usize = 4096;

/// One recorded step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// The crate that recorded it: `"reactor"`, `"iostream"`, `"http1"` or `"web"`.
    pub layer: &'static str,
    /// What happened (`"read(2)"`, `"head parsed"`, ...).
    pub step: &'static str,
    /// When.
    pub at: Instant,
    /// A number that goes with the step (bytes read or written, a slab key), if any.
    pub detail: Option<u64>,
}

thread_local! {
    static RING: RefCell<VecDeque<Step>> = const { RefCell::new(VecDeque::new()) };
}

/// Records a step now, on this thread. Use [`trace_step!`](crate::trace_step), which compiles
/// to nothing without the `trace` feature.
pub fn record(layer: &'static str, step: &'static str, detail: Option<u64>) {
    let at = Instant::now();
    let _ = RING.try_with(|ring| {
        let mut ring = ring.borrow_mut();
        if ring.len() == CAPACITY {
            ring.pop_front();
        } else if ring.capacity() == 0 {
            ring.reserve_exact(CAPACITY); // the ring's one allocation, at the thread's first step
        }
        ring.push_back(Step {
            layer,
            step,
            at,
            detail,
        });
    });
}

/// Takes this thread's recorded steps, oldest first, leaving the trace empty.
pub fn take() -> Vec<Step> {
    RING.try_with(|ring| ring.borrow_mut().drain(..).collect())
        .unwrap_or_default()
}
