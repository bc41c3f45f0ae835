//! [`Bridged`]: the future, on our loop, of a future running on the bridge's runtime.
//!
//! It wraps tokio's `JoinHandle`, which is runtime-agnostic to poll: polled on our loop, it
//! keeps our task's `Waker`; when the tokio task completes, a runtime thread wakes that
//! `Waker`, and since it is woken off its loop's thread the wake-up goes through our
//! reactor's remote queue and its eventfd (`reactor/src/remote.rs`), so the task is polled
//! again on our loop, where it takes the output. No extra channel, no extra allocation.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::task::JoinHandle;

/// The output of [`Bridge::run`](crate::Bridge::run), awaited on our loop. Dropping it
/// aborts the tokio task (the future running there is dropped at its next `.await`).
#[must_use = "dropping a Bridged aborts its tokio task"]
pub struct Bridged<T> {
    handle: Option<JoinHandle<T>>,
}

impl<T> Bridged<T> {
    pub(crate) fn new(handle: JoinHandle<T>) -> Bridged<T> {
        Bridged {
            handle: Some(handle),
        }
    }

    /// Whether the tokio task has finished (its output is waiting).
    pub fn is_finished(&self) -> bool {
        self.handle.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Lets the tokio task run on without anyone awaiting it (dropping aborts it instead).
    pub fn detach(mut self) {
        self.handle.take();
    }
}

impl<T> Future for Bridged<T> {
    type Output = Result<T, BridgeError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let handle = self
            .handle
            .as_mut()
            .expect("a Bridged future is not polled after it completed");
        let result = std::task::ready!(Pin::new(handle).poll(cx));
        self.handle = None;
        Poll::Ready(result.map_err(|e| match e.try_into_panic() {
            Ok(payload) => BridgeError::Panicked(payload),
            Err(_) => BridgeError::Cancelled,
        }))
    }
}

impl<T> Drop for Bridged<T> {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.abort();
        }
    }
}

impl<T> fmt::Debug for Bridged<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bridged")
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// Why a [`Bridged`] future has no output.
///
/// ```
/// let bridge = tokio_bridge::Bridge::new().unwrap();
/// let reactor = reactor::Reactor::new().unwrap();
/// let err = reactor
///     .block_on(bridge.run(async { panic!("bad row") }))
///     .unwrap_err();
/// assert!(err.is_panic());
/// assert_eq!(err.to_string(), "bridged future panicked: bad row");
/// ```
pub enum BridgeError {
    /// The future panicked on the runtime; the payload is the panic's.
    Panicked(Box<dyn Any + Send + 'static>),
    /// The runtime dropped the future before it finished: every [`Bridge`](crate::Bridge)
    /// handle was dropped (the runtime shut down).
    Cancelled,
}

impl BridgeError {
    /// Whether the future panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self, BridgeError::Panicked(_))
    }

    /// The panic message, when the payload is a string.
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            BridgeError::Panicked(p) => p
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| p.downcast_ref::<String>().map(String::as_str)),
            BridgeError::Cancelled => None,
        }
    }
}

impl fmt::Debug for BridgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BridgeError::Panicked(_) => {
                write!(f, "BridgeError::Panicked({:?})", self.panic_message())
            }
            BridgeError::Cancelled => f.write_str("BridgeError::Cancelled"),
        }
    }
}

impl fmt::Display for BridgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self, self.panic_message()) {
            (BridgeError::Panicked(_), Some(m)) => write!(f, "bridged future panicked: {m}"),
            (BridgeError::Panicked(_), None) => f.write_str("bridged future panicked"),
            (BridgeError::Cancelled, _) => {
                f.write_str("bridged future cancelled: the tokio runtime shut down")
            }
        }
    }
}

impl std::error::Error for BridgeError {}
