//! [`channel`]: values sent from any thread, received by a task on the loop.
//!
//! Programs that feed work in from outside — a thread reading stdin, a synchronous library's
//! callback, a worker pool — send through a [`Sender`] (`Send + Clone`); a task on the loop
//! awaits [`Receiver::recv`]. The queue is unbounded and sits under a mutex; a send that finds
//! the receiver waiting wakes its task, whose waker, from another thread, goes through the
//! loop's remote queue and wakes the poller (as [`Remote::add_callback`](crate::Remote)
//! does). `recv` returns `None` once every sender is gone and the queue is empty.

use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

struct Chan<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    queue: VecDeque<T>,
    /// The receiving task, while it waits.
    waker: Option<Waker>,
    senders: usize,
    receiver_alive: bool,
}

impl<T> Chan<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // No user code runs under this lock (values are moved, never dropped, under it).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Creates a channel: a [`Sender`] for any thread, a [`Receiver`] for a task on the loop.
///
/// ```
/// let reactor = reactor::Reactor::new().unwrap();
/// let (tx, mut rx) = reactor::channel();
/// let workers: Vec<_> = (0..3)
///     .map(|i| {
///         let tx = tx.clone();
///         std::thread::spawn(move || tx.send(i * 10).unwrap())
///     })
///     .collect();
/// drop(tx); // recv returns None once the clones are gone too
/// let mut got = reactor.block_on(async {
///     let mut got = Vec::new();
///     while let Some(v) = rx.recv().await {
///         got.push(v);
///     }
///     got
/// });
/// for w in workers {
///     w.join().unwrap();
/// }
/// got.sort();
/// assert_eq!(got, [0, 10, 20]);
/// ```
pub fn channel<T: Send>() -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(Chan {
        state: Mutex::new(State {
            queue: VecDeque::new(),
            waker: None,
            senders: 1,
            receiver_alive: true,
        }),
    });
    (Sender { chan: chan.clone() }, Receiver { chan })
}

/// The sending half of a [`channel`]: `Send + Clone`, usable from any thread.
///
/// ```
/// let (tx, rx) = reactor::channel();
/// assert!(tx.send(1).is_ok());
/// drop(rx);
/// assert!(tx.is_closed());
/// assert_eq!(tx.send(2).unwrap_err().0, 2); // the value comes back
/// ```
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Sender<T> {
    /// Queues `value` for the receiver and wakes it. Fails, giving the value back, if the
    /// receiver was dropped. Never blocks (the channel is unbounded).
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        let mut state = self.chan.lock();
        if !state.receiver_alive {
            return Err(SendError(value));
        }
        state.queue.push_back(value);
        let waker = state.waker.take();
        drop(state);
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Whether the receiver was dropped (every `send` would fail).
    pub fn is_closed(&self) -> bool {
        !self.chan.lock().receiver_alive
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.lock().senders += 1;
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut state = self.chan.lock();
        state.senders -= 1;
        let waker = if state.senders == 0 {
            state.waker.take() // the receiver must learn that no more values will come
        } else {
            None
        };
        drop(state);
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

/// The receiving half of a [`channel`], for a task on the loop.
///
/// ```
/// use reactor::TryRecvError;
///
/// let (tx, mut rx) = reactor::channel();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// std::thread::spawn(move || tx.send("from a thread").unwrap());
/// let got = reactor::Reactor::new().unwrap().block_on(rx.recv());
/// assert_eq!(got, Some("from a thread"));
/// assert_eq!(reactor::Reactor::new().unwrap().block_on(rx.recv()), None); // tx is gone
/// ```
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Receiver<T> {
    /// Waits for the next value; `None` once every [`Sender`] is dropped and every value sent
    /// before has been received.
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next value (the poll form of [`recv`](Receiver::recv), for hand-written
    /// futures).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut state = self.chan.lock();
        if let Some(value) = state.queue.pop_front() {
            return Poll::Ready(Some(value));
        }
        if state.senders == 0 {
            return Poll::Ready(None);
        }
        match &mut state.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Takes the next value if one is there.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut state = self.chan.lock();
        match state.queue.pop_front() {
            Some(value) => Ok(value),
            None if state.senders == 0 => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut state = self.chan.lock();
        state.receiver_alive = false;
        let queued = std::mem::take(&mut state.queue);
        let waker = state.waker.take();
        drop(state);
        drop((queued, waker)); // outside the lock: a value's destructor may do anything
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}

/// The error of [`Sender::send`]: the receiver is gone; the value is given back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sending on a channel whose receiver is gone")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// The error of [`Receiver::try_recv`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// No value now; senders remain.
    Empty,
    /// No value, and every sender is gone.
    Disconnected,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryRecvError::Empty => "channel is empty",
            TryRecvError::Disconnected => "channel is empty and every sender is gone",
        })
    }
}

impl std::error::Error for TryRecvError {}
