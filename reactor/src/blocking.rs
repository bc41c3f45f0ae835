//! [`run_in_executor`]: blocking work on a pool of helper threads, awaited on the loop
//! (Tornado's `IOLoop.run_in_executor`).
//!
//! A handler that blocks — a slow syscall, a CPU-bound computation, a synchronous library —
//! stalls every connection on the loop. `run_in_executor(f)` moves `f` to a helper thread and
//! gives the loop a future for its result, so the loop goes on serving while `f` runs.
//!
//! # The pool
//!
//! One process-wide pool ([`BlockingPool`]), started lazily: a job queue under a mutex, and
//! at most [`BlockingPool::max_threads`] threads (8 unless configured) taking jobs from it. A
//! thread is started when a job arrives and no idle thread can take it; a thread idle for
//! [`BlockingPool::keep_alive`] (10 s unless configured) exits. Jobs beyond the thread limit
//! wait in the queue, in order.
//!
//! So a job must not block waiting for another job of the same pool: with every thread
//! taken by such waiters, the jobs they wait for sit in the queue behind them and nothing
//! moves (a deadlock, as with any bounded pool, Python's `ThreadPoolExecutor` included). Jobs
//! that depend on each other belong on the loop, awaiting one `run_in_executor` after another.
//!
//! # The way back
//!
//! Each job shares a small slot with its [`Blocking`] future: the result, and the waker of
//! the task awaiting it. The helper thread stores the result and wakes that waker; a task's
//! waker, woken off its loop's thread, goes through the loop's remote queue — the queue that
//! [`Remote::add_callback`](crate::Remote::add_callback) feeds — and wakes the poller, so the
//! task is polled on its own loop, which takes the result. A panic in the job is caught on the
//! helper thread and arrives as [`BlockingError::Panicked`]. Dropping the future abandons the
//! result: the job still runs to the end (a thread cannot be interrupted), and its result is
//! dropped on the helper thread.

use std::any::Any;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use crate::task::panic_message;

type Job = Box<dyn FnOnce() + Send>;

const DEFAULT_MAX_THREADS: usize = 8;
const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// The process-wide pool.
static POOL: Pool = Pool {
    state: Mutex::new(PoolState {
        queue: VecDeque::new(),
        threads: 0,
        idle: 0,
        max_threads: DEFAULT_MAX_THREADS,
        keep_alive: DEFAULT_KEEP_ALIVE,
    }),
    work: Condvar::new(),
};

struct Pool {
    state: Mutex<PoolState>,
    /// Signalled when a job is queued (or the configuration changes).
    work: Condvar,
}

struct PoolState {
    queue: VecDeque<Job>,
    /// Threads alive, busy or idle.
    threads: usize,
    /// Threads waiting for a job (some may have been signalled already).
    idle: usize,
    max_threads: usize,
    keep_alive: Duration,
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // No user code runs under this lock, so a poisoned lock still holds a sound state.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn submit(&'static self, job: Job) {
        let mut state = self.lock();
        state.queue.push_back(job);
        if state.idle > 0 {
            self.work.notify_one();
        }
        // Start a thread unless the idle ones (signalled or not) cover the queued jobs.
        if state.queue.len() <= state.idle || state.threads >= state.max_threads {
            return;
        }
        state.threads += 1;
        drop(state);
        let spawned = thread::Builder::new()
            .name("reactor-blocking".into())
            .spawn(move || self.worker());
        if let Err(e) = spawned {
            let mut state = self.lock();
            state.threads -= 1;
            if state.threads == 0 {
                // Nobody will ever run these: drop them, which fails their futures (NotRun).
                let orphans = std::mem::take(&mut state.queue);
                drop(state);
                eprintln!("reactor: cannot start a blocking-pool thread: {e}");
                drop(orphans);
            }
        }
    }

    /// A helper thread: runs queued jobs; exits after `keep_alive` without one.
    fn worker(&self) {
        let mut state = self.lock();
        loop {
            if state.threads > state.max_threads {
                break; // the limit was lowered
            }
            if let Some(job) = state.queue.pop_front() {
                drop(state);
                // The job catches the closure's panic itself; this catches one from dropping
                // an abandoned result, so that the thread and its count stay right.
                if let Err(payload) = catch_unwind(AssertUnwindSafe(job)) {
                    crate::reactor::log_panic("a blocking job's destructor", payload.as_ref());
                }
                state = self.lock();
                continue;
            }
            state.idle += 1;
            let keep_alive = state.keep_alive;
            let (guard, wait) = self
                .work
                .wait_timeout(state, keep_alive)
                .unwrap_or_else(|e| e.into_inner());
            state = guard;
            state.idle -= 1;
            if wait.timed_out() && state.queue.is_empty() {
                break;
            }
        }
        state.threads -= 1;
    }
}

/// The process-wide pool behind [`run_in_executor`]: its limits and its size.
///
/// ```
/// use std::time::Duration;
/// use reactor::BlockingPool;
///
/// BlockingPool::set_max_threads(16);
/// BlockingPool::set_keep_alive(Duration::from_secs(30));
/// assert_eq!(BlockingPool::max_threads(), 16);
/// assert!(BlockingPool::threads() <= 16);
/// ```
#[derive(Debug)]
pub struct BlockingPool {
    _private: (),
}

impl BlockingPool {
    /// Sets the most helper threads alive at once (at least 1; 8 by default). Lowering it
    /// lets surplus threads exit after their current job.
    pub fn set_max_threads(max: usize) {
        POOL.lock().max_threads = max.max(1);
        POOL.work.notify_all();
    }

    /// The most helper threads alive at once.
    pub fn max_threads() -> usize {
        POOL.lock().max_threads
    }

    /// Sets how long a helper thread waits for a job before it exits (10 s by default).
    pub fn set_keep_alive(keep_alive: Duration) {
        POOL.lock().keep_alive = keep_alive;
    }

    /// How long a helper thread waits for a job before it exits.
    pub fn keep_alive() -> Duration {
        POOL.lock().keep_alive
    }

    /// The helper threads alive now, busy or idle.
    pub fn threads() -> usize {
        POOL.lock().threads
    }

    /// The jobs queued and not yet started.
    pub fn queued() -> usize {
        POOL.lock().queue.len()
    }
}

/// What a job and its future share.
struct Slot<T> {
    result: Option<Result<T, BlockingError>>,
    waker: Option<Waker>,
    /// The future was dropped: nobody wants the result.
    abandoned: bool,
}

type SharedSlot<T> = Arc<Mutex<Slot<T>>>;

fn lock<T>(slot: &SharedSlot<T>) -> MutexGuard<'_, Slot<T>> {
    slot.lock().unwrap_or_else(|e| e.into_inner())
}

/// The job's end of the slot. Dropped without a result (the job never ran), it reports
/// [`BlockingError::NotRun`].
struct Completer<T> {
    slot: Option<SharedSlot<T>>,
}

impl<T> Completer<T> {
    fn complete(mut self, result: Result<T, BlockingError>) {
        if let Some(slot) = self.slot.take() {
            deliver(&slot, result);
        }
    }
}

impl<T> Drop for Completer<T> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            deliver(&slot, Err(BlockingError::NotRun));
        }
    }
}

fn deliver<T>(slot: &SharedSlot<T>, result: Result<T, BlockingError>) {
    let mut s = lock(slot);
    if s.abandoned {
        drop(s);
        drop(result); // here, outside the lock
        return;
    }
    s.result = Some(result);
    let waker = s.waker.take();
    drop(s);
    if let Some(w) = waker {
        w.wake();
    }
}

/// Runs the blocking closure `f` on the helper-thread pool and returns a future for its
/// result (Tornado's `IOLoop.run_in_executor`).
///
/// The loop keeps serving other tasks while `f` runs. A panic in `f` is caught and returned
/// as [`BlockingError::Panicked`]. Dropping the future does not stop `f` (threads cannot be
/// interrupted); its result is then dropped on the helper thread. The pool is shared by the
/// whole process and bounded (see [`BlockingPool`]); when every thread is busy, jobs wait in
/// order.
///
/// ```
/// use std::time::Duration;
///
/// let reactor = reactor::Reactor::new().unwrap();
/// let sum = reactor.block_on(async {
///     let job = reactor::run_in_executor(|| {
///         std::thread::sleep(Duration::from_millis(10)); // would stall the loop
///         (1..=10).sum::<u32>()
///     });
///     job.await.unwrap()
/// });
/// assert_eq!(sum, 55);
///
/// let err = reactor
///     .block_on(reactor::run_in_executor(|| -> u32 { panic!("bad input") }))
///     .unwrap_err();
/// assert!(err.is_panic());
/// assert_eq!(err.panic_message(), Some("bad input"));
/// ```
pub fn run_in_executor<F, T>(f: F) -> Blocking<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let slot = Arc::new(Mutex::new(Slot {
        result: None,
        waker: None,
        abandoned: false,
    }));
    let completer = Completer {
        slot: Some(slot.clone()),
    };
    POOL.submit(Box::new(move || {
        let result = catch_unwind(AssertUnwindSafe(f)).map_err(BlockingError::Panicked);
        completer.complete(result);
    }));
    Blocking { slot }
}

/// The future of [`run_in_executor`]: the closure's result, or why there is none.
///
/// ```
/// use std::time::Duration;
///
/// reactor::Reactor::new().unwrap().block_on(async {
///     let job = reactor::run_in_executor(|| std::thread::sleep(Duration::from_secs(1)));
///     // Not waiting that long: the job runs on, its result is dropped when it ends.
///     assert!(reactor::timeout(Duration::from_millis(1), job).await.is_err());
/// });
/// ```
#[must_use = "the result is lost unless awaited (the closure runs regardless)"]
pub struct Blocking<T> {
    slot: SharedSlot<T>,
}

impl<T> Blocking<T> {
    /// Whether the closure has finished (its result is waiting to be taken).
    pub fn is_finished(&self) -> bool {
        lock(&self.slot).result.is_some()
    }
}

impl<T> Future for Blocking<T> {
    type Output = Result<T, BlockingError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut s = lock(&self.slot);
        if let Some(result) = s.result.take() {
            return Poll::Ready(result);
        }
        match &mut s.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> Drop for Blocking<T> {
    fn drop(&mut self) {
        let mut s = lock(&self.slot);
        s.abandoned = true;
        let waker = s.waker.take();
        let result = s.result.take();
        drop(s);
        drop((waker, result));
    }
}

impl<T> fmt::Debug for Blocking<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Blocking")
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// Why [`run_in_executor`] gave no result.
///
/// ```
/// let reactor = reactor::Reactor::new().unwrap();
/// let err = reactor
///     .block_on(reactor::run_in_executor(|| -> () { panic!("disk on fire") }))
///     .unwrap_err();
/// assert!(err.is_panic());
/// assert_eq!(err.to_string(), "blocking job panicked: disk on fire");
/// ```
pub enum BlockingError {
    /// The closure panicked; the payload is the panic's.
    Panicked(Box<dyn Any + Send + 'static>),
    /// The closure never ran: the pool could not start a thread.
    NotRun,
}

impl BlockingError {
    /// Whether the closure panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self, BlockingError::Panicked(_))
    }

    /// The panic message, when the payload is a string.
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            BlockingError::Panicked(p) => panic_message(p.as_ref()),
            BlockingError::NotRun => None,
        }
    }

    /// Resumes the panic on this thread (for callers that want the panic, not an error);
    /// for [`BlockingError::NotRun`], panics with this error's message.
    pub fn resume_unwind(self) -> ! {
        match self {
            BlockingError::Panicked(p) => std::panic::resume_unwind(p),
            e @ BlockingError::NotRun => panic!("{e}"),
        }
    }
}

impl fmt::Debug for BlockingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlockingError::Panicked(_) => {
                write!(f, "BlockingError::Panicked({:?})", self.panic_message())
            }
            BlockingError::NotRun => f.write_str("BlockingError::NotRun"),
        }
    }
}

impl fmt::Display for BlockingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlockingError::Panicked(_) => match self.panic_message() {
                Some(m) => write!(f, "blocking job panicked: {m}"),
                None => f.write_str("blocking job panicked"),
            },
            BlockingError::NotRun => {
                f.write_str("blocking job never ran: no pool thread could be started")
            }
        }
    }
}

impl std::error::Error for BlockingError {}
