//! Tasks: one allocation each, a waker that is `Send + Sync`, and the `JoinHandle`.
//!
//! # The task cell
//!
//! `spawn` allocates one `Arc<Task<F>>`. It holds the future, later its output, the waker of
//! whoever awaits the `JoinHandle`, and two atomics. Every `Waker` for the task is a clone of
//! that `Arc` (through `std::task::Wake`), so waking allocates nothing.
//!
//! ```text
//!            spawn                 poll -> Ready            JoinHandle::poll
//!   (new) ─────────────> Running ─────────────────> Finished ─────────────────> Consumed
//!                           │  abort / reactor dropped                              ▲
//!                           └───────────────────────────────────────────────────────┘
//! ```
//!
//! # Threads
//!
//! A task belongs to the loop thread that spawned it, and its future need not be `Send`.
//! The `Waker` must be `Send + Sync` all the same, so the cell is declared so, under one rule:
//! **only the owner thread touches the future, the output and the join waker**. Another thread
//! can reach a task only through a `Waker`, and the wake path touches only the `scheduled` flag
//! and the `Arc<Shared>` remote queue, into which it moves the `Arc`; the loop thread drains that
//! queue and runs the task itself. The executor's task table holds an `Arc` to every
//! unfinished task, and the (non-`Send`) `JoinHandle` holds one until it has taken or dropped
//! the output, so when a foreign thread drops the last `Arc`, the future and the output are
//! already gone: nothing `!Send` is dropped off its thread.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::reactor::{schedule, Shared};

/// Why a task gave no output.
pub enum JoinError {
    /// The task was aborted, or its reactor was dropped before it finished.
    Cancelled,
    /// The task panicked; the payload is the panic's.
    Panicked(Box<dyn Any + Send + 'static>),
}

impl JoinError {
    /// Whether the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self, JoinError::Panicked(_))
    }

    /// Whether the task was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, JoinError::Cancelled)
    }

    /// The panic message, when the payload is a string.
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            JoinError::Panicked(p) => panic_message(p.as_ref()),
            JoinError::Cancelled => None,
        }
    }
}

/// The text of a panic payload, when it is a `&str` or a `String`.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Cancelled => f.write_str("JoinError::Cancelled"),
            JoinError::Panicked(_) => {
                write!(f, "JoinError::Panicked({:?})", self.panic_message())
            }
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Cancelled => f.write_str("task was cancelled"),
            JoinError::Panicked(_) => match self.panic_message() {
                Some(m) => write!(f, "task panicked: {m}"),
                None => f.write_str("task panicked"),
            },
        }
    }
}

impl std::error::Error for JoinError {}

/// The executor's view of a task: run it, or drop its future.
pub(crate) trait Runnable: Send + Sync {
    /// Polls the future once (owner thread only). Returns `true` when the task is done and
    /// can leave the task table.
    fn run(self: Arc<Self>) -> bool;
    /// Drops the future without polling it (owner thread only): the reactor is going away.
    fn cancel(&self);
    /// The task's slot in the executor's table.
    fn key(&self) -> usize;
    /// The reactor state the task belongs to.
    fn shared(&self) -> &Arc<Shared>;
}

/// The `JoinHandle`'s view of a task.
trait Join<T> {
    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>>;
    fn abort(self: Arc<Self>);
    fn detach(&self);
    fn is_finished(&self) -> bool;
}

enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

pub(crate) struct Task<F: Future> {
    shared: Arc<Shared>,
    /// Set while the task sits in a run queue, so repeated wakes queue it once.
    scheduled: AtomicBool,
    /// Set by `abort`; the executor drops the future at its next run.
    aborted: AtomicBool,
    key: AtomicUsize,
    // Owner-thread-only fields (see the module doc):
    stage: RefCell<Stage<F>>,
    join_waker: RefCell<Option<Waker>>,
    detached: Cell<bool>,
}

// SAFETY: see the module documentation. The `RefCell`/`Cell` fields and the future are only
// accessed from `Runnable::run` / `Runnable::cancel` (called by the executor on the owner
// thread) and from `JoinHandle` (which is `!Send`, so it stays on the owner thread). Foreign
// threads only reach `scheduled`, `shared` (both thread-safe) and the `Arc` refcount, and can
// only drop the last reference after the owner thread has dropped the future and the output.
unsafe impl<F: Future> Send for Task<F> {}
// SAFETY: as for `Send`: shared references on other threads only touch the atomics and `shared`.
unsafe impl<F: Future> Sync for Task<F> {}

impl<F: Future + 'static> Task<F> {
    /// Allocates the task cell (the task's one allocation) for slot `key`.
    pub(crate) fn new(future: F, shared: Arc<Shared>, key: usize) -> Arc<Task<F>> {
        Arc::new(Task {
            shared,
            scheduled: AtomicBool::new(true),
            aborted: AtomicBool::new(false),
            key: AtomicUsize::new(key),
            stage: RefCell::new(Stage::Running(future)),
            join_waker: RefCell::new(None),
            detached: Cell::new(false),
        })
    }

    fn complete(&self, result: Result<F::Output, JoinError>) {
        *self.stage.borrow_mut() = if self.detached.get() {
            Stage::Consumed
        } else {
            Stage::Finished(result)
        };
        if let Some(w) = self.join_waker.borrow_mut().take() {
            w.wake();
        }
    }
}

impl<F: Future + 'static> Runnable for Task<F> {
    fn run(self: Arc<Self>) -> bool {
        self.scheduled.store(false, Ordering::Release);
        let mut stage = match self.stage.try_borrow_mut() {
            Ok(stage) => stage,
            Err(_) => return false,
        };
        let Stage::Running(future) = &mut *stage else {
            return true;
        };
        if self.aborted.load(Ordering::Acquire) {
            let old = std::mem::replace(&mut *stage, Stage::Consumed);
            drop(stage);
            drop_quietly(old);
            self.complete(Err(JoinError::Cancelled));
            return true;
        }
        // A waker that borrows this `Arc` instead of owning a count: no refcount traffic per
        // poll (its clones own one).
        // SAFETY: the pointer comes from a live `Arc<Self>` that outlives the poll, and the
        // `ManuallyDrop` keeps the borrowed count from being released.
        let waker = std::mem::ManuallyDrop::new(unsafe {
            Waker::from_raw(std::task::RawWaker::new(
                Arc::as_ptr(&self).cast(),
                &Self::VTABLE,
            ))
        });
        let mut cx = Context::from_waker(&waker);
        // SAFETY: the future lives inside the `Arc` allocation and is never moved out while it
        // is `Running`: it is only dropped in place (replaced by another stage) once it is done.
        let pinned = unsafe { Pin::new_unchecked(future) };
        let result = match catch_unwind(AssertUnwindSafe(|| pinned.poll(&mut cx))) {
            Ok(Poll::Pending) => return false,
            Ok(Poll::Ready(output)) => Ok(output),
            Err(payload) => Err(JoinError::Panicked(payload)),
        };
        let old = std::mem::replace(&mut *stage, Stage::Consumed);
        drop(stage);
        drop_quietly(old);
        self.complete(result);
        true
    }

    fn cancel(&self) {
        let Ok(mut stage) = self.stage.try_borrow_mut() else {
            return;
        };
        if let Stage::Running(_) = &*stage {
            let old = std::mem::replace(&mut *stage, Stage::Consumed);
            drop(stage);
            drop_quietly(old);
            self.complete(Err(JoinError::Cancelled));
        }
    }

    fn key(&self) -> usize {
        self.key.load(Ordering::Relaxed)
    }

    fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

/// Drops a finished future; a panic in its destructor is caught and logged.
fn drop_quietly<T>(value: T) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) {
        crate::reactor::log_panic("a task's destructor", payload.as_ref());
    }
}

/// The waker vtable behind the borrowed waker of [`Runnable::run`]: the same operations as
/// `std::task::Wake` on an `Arc<Task<F>>`, taking the data pointer as `Arc::into_raw` would
/// give it. Clones own a count; the borrowed original never drops one.
impl<F: Future + 'static> Task<F> {
    const VTABLE: std::task::RawWakerVTable = std::task::RawWakerVTable::new(
        Self::clone_raw,
        Self::wake_raw,
        Self::wake_by_ref_raw,
        Self::drop_raw,
    );

    /// # Safety
    /// `p` comes from `Arc::as_ptr` of a live `Arc<Self>` (the borrowed waker) or from a clone.
    unsafe fn clone_raw(p: *const ()) -> std::task::RawWaker {
        // SAFETY: `p` points into a live `Arc<Self>`; the new count belongs to the clone.
        unsafe { Arc::increment_strong_count(p.cast::<Self>()) };
        std::task::RawWaker::new(p, &Self::VTABLE)
    }

    /// # Safety
    /// Called on an owned waker (a clone), which holds one count.
    unsafe fn wake_raw(p: *const ()) {
        // SAFETY: an owned waker holds one strong count, which this consumes.
        Wake::wake(unsafe { Arc::from_raw(p.cast::<Self>()) });
    }

    /// # Safety
    /// `p` points into a live `Arc<Self>`.
    unsafe fn wake_by_ref_raw(p: *const ()) {
        // SAFETY: borrows the count without releasing it (`ManuallyDrop`).
        let task = std::mem::ManuallyDrop::new(unsafe { Arc::from_raw(p.cast::<Self>()) });
        Wake::wake_by_ref(&*task);
    }

    /// # Safety
    /// Called on an owned waker (a clone), which holds one count.
    unsafe fn drop_raw(p: *const ()) {
        // SAFETY: an owned waker holds one strong count, which this releases.
        drop(unsafe { Arc::from_raw(p.cast::<Self>()) });
    }
}

impl<F: Future + 'static> Wake for Task<F> {
    fn wake(self: Arc<Self>) {
        if !self.scheduled.swap(true, Ordering::AcqRel) {
            schedule(self);
        }
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.scheduled.swap(true, Ordering::AcqRel) {
            schedule(self.clone());
        }
    }
}

impl<F: Future + 'static> Join<F::Output> for Task<F> {
    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<F::Output, JoinError>> {
        let mut stage = self.stage.borrow_mut();
        match std::mem::replace(&mut *stage, Stage::Consumed) {
            Stage::Finished(result) => Poll::Ready(result),
            Stage::Consumed => Poll::Ready(Err(JoinError::Cancelled)),
            running @ Stage::Running(_) => {
                *stage = running;
                let mut slot = self.join_waker.borrow_mut();
                match &mut *slot {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => *slot = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
        }
    }

    fn abort(self: Arc<Self>) {
        if self.is_finished() {
            return;
        }
        self.aborted.store(true, Ordering::Release);
        Wake::wake(self);
    }

    fn detach(&self) {
        self.detached.set(true);
        if let Ok(mut stage) = self.stage.try_borrow_mut() {
            if let Stage::Finished(_) = &*stage {
                let old = std::mem::replace(&mut *stage, Stage::Consumed);
                drop(stage);
                drop_quietly(old);
            }
        }
    }

    fn is_finished(&self) -> bool {
        !matches!(&*self.stage.borrow(), Stage::Running(_))
    }
}

/// An owned permission to await a spawned task's output (Tornado's `Future` from
/// `spawn_callback`/`add_future`). Dropping it detaches the task, which runs on.
///
/// ```
/// let reactor = reactor::Reactor::new().unwrap();
/// let answer = reactor.block_on(async {
///     reactor::spawn(async { 6 * 7 }).await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
pub struct JoinHandle<T> {
    task: Arc<dyn JoinTask<T>>,
    _not_send: PhantomData<*const ()>,
}

/// `Join` plus the ability to abort through an `Arc`.
trait JoinTask<T>: Join<T> {
    fn abort_arc(self: Arc<Self>);
}

impl<T, J: Join<T>> JoinTask<T> for J {
    fn abort_arc(self: Arc<Self>) {
        Join::abort(self)
    }
}

impl<T> JoinHandle<T> {
    pub(crate) fn new<F>(task: Arc<Task<F>>) -> JoinHandle<T>
    where
        F: Future<Output = T> + 'static,
    {
        JoinHandle {
            task,
            _not_send: PhantomData,
        }
    }

    /// Cancels the task: its future is dropped at the reactor's next turn, and awaiting this
    /// handle gives `JoinError::Cancelled`. Does nothing if the task already finished.
    pub fn abort(&self) {
        self.task.clone().abort_arc();
    }

    /// Whether the task has finished (with output, panic or cancellation).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.task.poll_join(cx)
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        self.task.detach();
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}
