//! The poll loop (Tornado's `IOLoop`): one file that tells the reactor's whole story.
//!
//! A [`Reactor`] owns, for one thread:
//! - the **handlers**: a `Slab` of callbacks keyed by token. The token given to the kernel is
//!   the slab key in the low 32 bits and the slot's generation in the high 32, so an event
//!   still in flight for a removed handler never reaches the next handler in that slot;
//! - the **timers** ([`crate::timer`]): deadlines in a heap;
//! - the **callbacks** queued with [`Reactor::add_callback`], and a [`Shared`] queue that
//!   other threads feed through [`Remote`];
//! - the **executor**: a table of spawned tasks and the run queue of those woken.
//!
//! One turn of the loop ([`Inner::turn`]):
//! 1. wait in `epoll_wait`/`kevent`, for no time if work is ready, else until the next timer;
//! 2. dispatch each event to its handler (a callback, or the readiness flags of a
//!    [`Registration`](crate::Registration), which wake the task waiting on them);
//! 3. take what other threads queued; wake the tasks that yielded last turn;
//! 4. fire the timers that are due;
//! 5. run the callbacks queued before this step (those added now wait for the next turn);
//! 6. run a bounded batch of woken tasks, so that a busy task cannot starve I/O.
//!
//! A panic in a handler, timer or callback is caught, logged to stderr, and the loop goes on;
//! a panic in a task is caught and handed to its `JoinHandle`.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::io;
use std::os::fd::RawFd;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use slab::Slab;

use crate::interest::{Interest, Ready};
use crate::registration::Source;
pub(crate) use crate::remote::Shared;
use crate::remote::{Remote, RemoteQueue};
use crate::sys::{Events, Mode, Poller, WAKER_TOKEN};
use crate::task::{panic_message, JoinHandle, Runnable, Task};
use crate::timer::{TimerAction, TimerKey, Timers};

/// Most tasks polled in one turn before the loop polls for I/O again.
const TASK_BUDGET: usize = 256;
/// Events taken from the kernel per wait.
const EVENTS_PER_WAIT: usize = 1024;

thread_local! {
    /// The reactor `Reactor::current()` returns on this thread.
    static CURRENT: CurrentSlot = const { CurrentSlot(RefCell::new(None)) };
}

/// The thread's current reactor. When the thread exits, the reactor's tasks are dropped
/// first: a task that holds a `Reactor` handle would otherwise keep the reactor alive forever.
struct CurrentSlot(RefCell<Option<Reactor>>);

impl Drop for CurrentSlot {
    fn drop(&mut self) {
        if let Some(reactor) = self.0.borrow_mut().take() {
            reactor.inner.shutdown();
        }
    }
}

/// Identifies a handler added with [`Reactor::add_handler`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HandlerId {
    key: u32,
    generation: u32,
}

impl HandlerId {
    fn token(self) -> u64 {
        (u64::from(self.generation) << 32) | u64::from(self.key)
    }

    fn from_token(token: u64) -> HandlerId {
        HandlerId {
            key: token as u32,
            generation: (token >> 32) as u32,
        }
    }
}

/// What sits in a handler slot.
pub(crate) enum Handler {
    /// A user callback (`add_handler`), taken out of the slot while it runs.
    Callback(Option<Box<dyn FnMut(Ready)>>),
    /// The readiness flags of a `Registration`.
    Source(Rc<Source>),
}

struct Slot {
    fd: RawFd,
    generation: u32,
    mode: Mode,
    handler: Handler,
}

/// The loop's state; `Reactor` is a cheap `Rc` handle to it.
pub(crate) struct Inner {
    pub(crate) shared: Arc<Shared>,
    handlers: RefCell<Slab<Slot>>,
    next_generation: Cell<u32>,
    timers: RefCell<Timers>,
    due: RefCell<Vec<TimerAction>>,
    callbacks: RefCell<Vec<Box<dyn FnOnce()>>>,
    spare_callbacks: RefCell<Vec<Box<dyn FnOnce()>>>,
    remote_spare: RefCell<RemoteQueue>,
    run_queue: RefCell<VecDeque<Arc<dyn Runnable>>>,
    deferred: RefCell<Vec<Waker>>,
    tasks: RefCell<Slab<Arc<dyn Runnable>>>,
    events: RefCell<Events>,
    running: Cell<bool>,
    stopped: Cell<bool>,
}

/// A single-threaded event loop: epoll/kqueue, timers, callbacks and an executor.
///
/// `Reactor` is a handle (`Clone` shares the same loop) and is not `Send`; [`Remote`] is its
/// thread-safe counterpart.
///
/// ```
/// use std::time::Duration;
/// let reactor = reactor::Reactor::new().unwrap();
/// let out = reactor.block_on(async {
///     reactor::sleep(Duration::from_millis(1)).await;
///     "done"
/// });
/// assert_eq!(out, "done");
/// ```
#[derive(Clone)]
pub struct Reactor {
    pub(crate) inner: Rc<Inner>,
}

impl fmt::Debug for Reactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reactor")
            .field("handlers", &self.inner.handlers.borrow().len())
            .field("timers", &self.inner.timers.borrow().len())
            .field("tasks", &self.inner.tasks.borrow().len())
            .finish()
    }
}

impl Reactor {
    /// Creates a reactor (an epoll or kqueue instance and its waker).
    ///
    /// It becomes the thread's [`Reactor::current`] while `run` or `block_on` runs it.
    pub fn new() -> io::Result<Reactor> {
        let shared = Arc::new(Shared::new(Poller::new()?));
        Ok(Reactor {
            inner: Rc::new(Inner {
                shared,
                handlers: RefCell::new(Slab::new()),
                next_generation: Cell::new(0),
                timers: RefCell::new(Timers::default()),
                due: RefCell::new(Vec::new()),
                callbacks: RefCell::new(Vec::new()),
                spare_callbacks: RefCell::new(Vec::new()),
                remote_spare: RefCell::new(RemoteQueue::default()),
                run_queue: RefCell::new(VecDeque::new()),
                deferred: RefCell::new(Vec::new()),
                tasks: RefCell::new(Slab::new()),
                events: RefCell::new(Events::with_capacity(EVENTS_PER_WAIT)),
                running: Cell::new(false),
                stopped: Cell::new(false),
            }),
        })
    }

    /// This thread's reactor: the one running here, or else one made on first use and kept for
    /// the thread's life (Tornado's `IOLoop.current()`).
    ///
    /// # Panics
    /// If the thread has no reactor and the kernel refuses to create one (out of fds).
    pub fn current() -> Reactor {
        CURRENT.with(|slot| {
            slot.0
                .borrow_mut()
                .get_or_insert_with(|| Reactor::new().expect("cannot create a reactor"))
                .clone()
        })
    }

    /// The current reactor, if this thread has one (without creating one).
    pub(crate) fn try_current() -> Option<Reactor> {
        CURRENT
            .try_with(|slot| slot.0.try_borrow().ok().and_then(|r| r.clone()))
            .ok()
            .flatten()
    }

    pub(crate) fn downgrade(&self) -> Weak<Inner> {
        Rc::downgrade(&self.inner)
    }

    /// A thread-safe handle that can queue callbacks and stop this loop from any thread.
    pub fn remote(&self) -> Remote {
        Remote {
            shared: self.inner.shared.clone(),
        }
    }

    /// Runs the loop until [`Reactor::stop`] (or [`Remote::stop`]). If `stop` was called
    /// while the loop was not running, `run` returns at once (Tornado's rule: "the next call to
    /// start() will return immediately").
    ///
    /// # Panics
    /// If this reactor is already running (`run` and `block_on` do not nest).
    pub fn run(&self) {
        let _running = self.enter();
        while !self.inner.stopped.get() {
            self.inner.turn(true);
        }
        self.inner.stopped.set(false);
    }

    /// Makes `run` return after the current turn.
    pub fn stop(&self) {
        self.inner.stopped.set(true);
    }

    /// Runs the loop until `future` completes and returns its output (Tornado's `run_sync`).
    /// The future need not be `'static`. A panic in it propagates to the caller.
    ///
    /// # Panics
    /// If this reactor is already running.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _running = self.enter();
        let main = Arc::new(MainWaker {
            woken: AtomicBool::new(true),
            shared: self.inner.shared.clone(),
            thread: thread::current().id(),
        });
        let waker = Waker::from(main.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        loop {
            if main.woken.swap(false, Ordering::AcqRel) {
                if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                    self.inner.stopped.set(false);
                    return output;
                }
            }
            let block = !main.woken.load(Ordering::Acquire);
            self.inner.turn(block);
        }
    }

    /// Spawns a task on this reactor. The future need not be `Send`.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
    {
        let mut tasks = self.inner.tasks.borrow_mut();
        let entry = tasks.vacant_entry();
        let task = Task::new(future, self.inner.shared.clone(), entry.key());
        entry.insert(task.clone());
        drop(tasks);
        self.inner.run_queue.borrow_mut().push_back(task.clone());
        JoinHandle::new(task)
    }

    /// Runs `f` on the next turn of the loop (same thread; use [`Remote`] from others).
    pub fn add_callback(&self, f: impl FnOnce() + 'static) {
        self.inner.callbacks.borrow_mut().push(Box::new(f));
    }

    /// Runs `f` once `delay` has passed.
    pub fn call_later(&self, delay: Duration, f: impl FnOnce() + 'static) -> Timeout {
        self.call_at(Instant::now() + delay, f)
    }

    /// Runs `f` at `deadline` (or at the next turn, if it has passed).
    pub fn call_at(&self, deadline: Instant, f: impl FnOnce() + 'static) -> Timeout {
        let key = self
            .inner
            .timers
            .borrow_mut()
            .insert(deadline, TimerAction::Callback(Box::new(f)));
        Timeout {
            key,
            reactor: self.downgrade(),
        }
    }

    /// Cancels a timer (Tornado's `remove_timeout`); the same as [`Timeout::cancel`].
    pub fn remove_timeout(&self, timeout: &Timeout) {
        self.inner.timers.borrow_mut().cancel(timeout.key);
    }

    pub(crate) fn insert_timer(&self, deadline: Instant, action: TimerAction) -> TimerKey {
        self.inner.timers.borrow_mut().insert(deadline, action)
    }

    /// Calls `handler` on this thread each time `fd` is ready for `interest` (level-triggered,
    /// as Tornado's `add_handler`). The fd stays owned by the caller, who must
    /// [`remove_handler`](Reactor::remove_handler) it before closing it.
    ///
    /// ```
    /// use std::io::Write;
    /// use std::os::fd::AsRawFd;
    /// use reactor::{Interest, Reactor};
    ///
    /// let reactor = Reactor::new().unwrap();
    /// let (mut a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    /// a.write_all(b"x").unwrap();
    /// let r = reactor.clone();
    /// let id = reactor
    ///     .add_handler(b.as_raw_fd(), Interest::READABLE, move |ready| {
    ///         assert!(ready.is_readable());
    ///         r.stop();
    ///     })
    ///     .unwrap();
    /// reactor.run();
    /// reactor.remove_handler(id).unwrap();
    /// ```
    pub fn add_handler(
        &self,
        fd: RawFd,
        interest: Interest,
        handler: impl FnMut(Ready) + 'static,
    ) -> io::Result<HandlerId> {
        self.inner.add_slot(
            fd,
            interest,
            Mode::Level,
            Handler::Callback(Some(Box::new(handler))),
        )
    }

    /// Changes the readiness a handler is called for.
    pub fn update_handler(&self, id: HandlerId, interest: Interest) -> io::Result<()> {
        let handlers = self.inner.handlers.borrow();
        let slot = handlers
            .get(id.key as usize)
            .filter(|s| s.generation == id.generation)
            .ok_or_else(stale_handler)?;
        self.inner
            .shared
            .poller
            .modify(slot.fd, id.token(), interest, slot.mode)
    }

    /// Stops calling a handler and deregisters its fd from the poller; call it before closing
    /// the fd. Events already taken from the kernel for it are dropped, never delivered.
    pub fn remove_handler(&self, id: HandlerId) -> io::Result<()> {
        self.inner.remove_slot(id)
    }

    pub(crate) fn add_source(
        &self,
        fd: RawFd,
        interest: Interest,
        source: Rc<Source>,
    ) -> io::Result<HandlerId> {
        self.inner
            .add_slot(fd, interest, Mode::Edge, Handler::Source(source))
    }

    /// Marks this reactor as running on this thread and current for the duration.
    fn enter(&self) -> EnterGuard {
        assert!(
            !self.inner.running.replace(true),
            "this reactor is already running (run/block_on do not nest)"
        );
        let previous = CURRENT.with(|slot| slot.0.borrow_mut().replace(self.clone()));
        EnterGuard {
            reactor: self.clone(),
            previous,
        }
    }

    /// Wakes the given wakers after the next poll for I/O (`yield_now`).
    pub(crate) fn defer(&self, waker: &Waker) {
        self.inner.deferred.borrow_mut().push(waker.clone());
    }
}

fn stale_handler() -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, "no such handler (already removed)")
}

/// Restores the thread's previous current reactor when `run`/`block_on` ends, also on panic.
struct EnterGuard {
    reactor: Reactor,
    previous: Option<Reactor>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        self.reactor.inner.running.set(false);
        let previous = self.previous.take();
        let _ = CURRENT.try_with(|slot| *slot.0.borrow_mut() = previous);
    }
}

/// The waker of `block_on`'s future: a flag, plus a poller wake-up when set from another
/// thread.
struct MainWaker {
    woken: AtomicBool,
    shared: Arc<Shared>,
    thread: ThreadId,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.woken.swap(true, Ordering::AcqRel) && thread::current().id() != self.thread {
            self.shared.notify();
        }
    }
}

/// A pending timer from `call_later` / `call_at`. Dropping it does not cancel the timer.
#[derive(Debug)]
pub struct Timeout {
    key: TimerKey,
    reactor: Weak<Inner>,
}

impl Timeout {
    /// Cancels the timer (Tornado's `remove_timeout`). Returns whether it was still pending.
    pub fn cancel(&self) -> bool {
        self.reactor
            .upgrade()
            .is_some_and(|inner| inner.timers.borrow_mut().cancel(self.key))
    }
}

/// Queues a woken task: on the owner thread straight onto the run queue, from anywhere else
/// through the remote queue (which wakes the poller).
pub(crate) fn schedule(task: Arc<dyn Runnable>) {
    let mut task = Some(task);
    let _ = CURRENT.try_with(|slot| {
        let Ok(current) = slot.0.try_borrow() else {
            return;
        };
        let Some(inner) = current.as_ref().map(|r| &r.inner) else {
            return;
        };
        let local = task
            .as_ref()
            .is_some_and(|t| Arc::ptr_eq(&inner.shared, t.shared()));
        if local {
            if let Ok(mut queue) = inner.run_queue.try_borrow_mut() {
                queue.extend(task.take());
            }
        }
    });
    if let Some(task) = task {
        let shared = task.shared().clone();
        shared.push_task(task);
    }
}

/// Reports a caught panic on stderr (the reactor depends on nothing but libc and slab, so it
/// has no logging facade; the layers above log through `log`).
pub(crate) fn log_panic(what: &str, payload: &(dyn std::any::Any + Send)) {
    let msg = panic_message(payload).unwrap_or("(non-string payload)");
    eprintln!("reactor: panic in {what}: {msg}");
}

/// Runs `f`, catching and logging a panic.
fn run_guarded(what: &str, f: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
        log_panic(what, payload.as_ref());
    }
}

impl Inner {
    pub(crate) fn timers(&self) -> &RefCell<Timers> {
        &self.timers
    }

    /// One turn of the loop; `block` allows waiting for I/O when nothing else is ready.
    fn turn(&self, block: bool) {
        let timeout = if !block || self.has_ready_work() {
            Some(Duration::ZERO)
        } else {
            self.timers
                .borrow_mut()
                .next_deadline()
                .map(|deadline| deadline.saturating_duration_since(Instant::now()))
        };

        // 1-2. Wait (blocking only if no other thread pushed work since the last drain: see
        // `remote.rs`), then dispatch each event to its handler.
        let sleeps = timeout != Some(Duration::ZERO) && self.shared.prepare_to_sleep();
        let timeout = if sleeps {
            timeout
        } else {
            Some(Duration::ZERO)
        };
        let mut events =
            std::mem::replace(&mut *self.events.borrow_mut(), Events::with_capacity(0));
        if let Err(e) = self.shared.poller.wait(&mut events, timeout) {
            // Only EBADF/EFAULT/EINVAL remain, all bugs; say so and keep the loop turning.
            eprintln!("reactor: poll failed: {e}");
        }
        if sleeps {
            self.shared.awake();
        }
        let mut i = 0;
        while let Some((token, ready)) = events.get(i) {
            i += 1;
            crate::trace_step!("reactor", "epoll_wait returned", token as u32);
            if token == WAKER_TOKEN {
                self.shared.poller.drain_wake();
            } else {
                self.dispatch(HandlerId::from_token(token), ready);
            }
        }
        *self.events.borrow_mut() = events;

        // 3. Work from other threads, and the tasks that yielded last turn.
        if self.shared.take_stop() {
            self.stopped.set(true);
        }
        let mut remote = std::mem::take(&mut *self.remote_spare.borrow_mut());
        if self.shared.drain(&mut remote) {
            self.callbacks
                .borrow_mut()
                .extend(remote.callbacks.drain(..).map(|f| f as Box<dyn FnOnce()>));
            self.run_queue.borrow_mut().extend(remote.tasks.drain(..));
        }
        *self.remote_spare.borrow_mut() = remote;
        let mut deferred = std::mem::take(&mut *self.deferred.borrow_mut());
        for waker in deferred.drain(..) {
            waker.wake();
        }
        *self.deferred.borrow_mut() = deferred; // empty, keeping its capacity

        // 4. Timers that are due now (those added while they fire wait for the next turn).
        let mut due = std::mem::take(&mut *self.due.borrow_mut());
        if self.timers.borrow().len() > 0 {
            self.timers.borrow_mut().take_due(Instant::now(), &mut due);
        }
        for action in due.drain(..) {
            match action {
                TimerAction::Callback(f) => run_guarded("a timer callback", f),
                TimerAction::Wake(waker) => waker.wake(),
            }
        }
        *self.due.borrow_mut() = due;

        // 5. Callbacks queued before now; those they add run next turn.
        let mut batch = std::mem::take(&mut *self.spare_callbacks.borrow_mut());
        std::mem::swap(&mut batch, &mut *self.callbacks.borrow_mut());
        for f in batch.drain(..) {
            run_guarded("a callback", f);
        }
        *self.spare_callbacks.borrow_mut() = batch;

        // 6. A bounded batch of woken tasks.
        for _ in 0..TASK_BUDGET {
            let Some(task) = self.run_queue.borrow_mut().pop_front() else {
                break;
            };
            let key = task.key();
            crate::trace_step!("reactor", "task polled", key);
            if task.run() {
                self.tasks.borrow_mut().try_remove(key);
            }
        }
    }

    fn has_ready_work(&self) -> bool {
        self.stopped.get()
            || !self.callbacks.borrow().is_empty()
            || !self.run_queue.borrow().is_empty()
            || !self.deferred.borrow().is_empty()
    }

    /// Hands one event to its handler, unless the token is stale.
    fn dispatch(&self, id: HandlerId, ready: Ready) {
        let mut handlers = self.handlers.borrow_mut();
        let Some(slot) = handlers
            .get_mut(id.key as usize)
            .filter(|s| s.generation == id.generation)
        else {
            return; // removed since the kernel queued the event
        };
        match &mut slot.handler {
            Handler::Source(source) => {
                let source = source.clone();
                drop(handlers);
                source.dispatch(ready);
            }
            Handler::Callback(callback) => {
                // Take the callback out so that it may add or remove handlers, itself included.
                let Some(mut callback) = callback.take() else {
                    return;
                };
                drop(handlers);
                run_guarded("an fd handler", || callback(ready));
                let mut handlers = self.handlers.borrow_mut();
                if let Some(slot) = handlers
                    .get_mut(id.key as usize)
                    .filter(|s| s.generation == id.generation)
                {
                    if let Handler::Callback(empty @ None) = &mut slot.handler {
                        *empty = Some(callback);
                    }
                }
            }
        }
    }

    fn add_slot(
        &self,
        fd: RawFd,
        interest: Interest,
        mode: Mode,
        handler: Handler,
    ) -> io::Result<HandlerId> {
        let generation = self.next_generation.get();
        // The generation half never reaches u32::MAX, so no token equals WAKER_TOKEN.
        self.next_generation.set(if generation == u32::MAX - 1 {
            0
        } else {
            generation + 1
        });
        let mut handlers = self.handlers.borrow_mut();
        let entry = handlers.vacant_entry();
        let key = u32::try_from(entry.key())
            .map_err(|_| io::Error::new(io::ErrorKind::OutOfMemory, "too many handlers"))?;
        let id = HandlerId { key, generation };
        self.shared
            .poller
            .register(fd, id.token(), interest, mode)?;
        entry.insert(Slot {
            fd,
            generation,
            mode,
            handler,
        });
        Ok(id)
    }

    pub(crate) fn remove_slot(&self, id: HandlerId) -> io::Result<()> {
        let slot = {
            let mut handlers = self.handlers.borrow_mut();
            match handlers.get(id.key as usize) {
                Some(s) if s.generation == id.generation => handlers.remove(id.key as usize),
                _ => return Err(stale_handler()),
            }
        };
        // Dropped after the borrow ends: a callback's captures may call back into the reactor.
        let result = self.shared.poller.deregister(slot.fd);
        drop(slot);
        result
    }

    /// Drops every task's future, then everything else the loop holds. Breaks the cycles that
    /// a task holding a `Reactor` handle would otherwise make.
    fn shutdown(&self) {
        let tasks: Vec<_> = self.tasks.borrow_mut().drain().collect();
        for task in &tasks {
            task.cancel();
        }
        drop(tasks);
        // Each is taken out, and its borrow ended, before it is dropped: destructors may call
        // back into the reactor (a dropped timer callback that owns a `Sleep` cancels its
        // timer). `take_out` returns the value, so the `RefMut` is gone when `drop` runs.
        drop(take_out(&self.run_queue));
        drop(take_out(&self.deferred));
        drop(take_out(&self.timers));
        drop(take_out(&self.callbacks));
        drop(take_out(&self.handlers));
    }
}

/// Takes the value out of `cell`, leaving the default, with the borrow ended on return.
fn take_out<T: Default>(cell: &RefCell<T>) -> T {
    std::mem::take(&mut *cell.borrow_mut())
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shutdown();
    }
}
