//! [`RunHere`]: a tokio future polled on our loop, inside the bridge's runtime context
//! (`async-compat`'s way, on the bridge's own runtime).
//!
//! Around each poll (and the drop) of the future the runtime's context is entered
//! ([`tokio::runtime::Handle::enter`]), so what the future makes (a `TcpStream`, a `sleep`)
//! registers with the runtime's I/O driver and timer, which a runtime thread drives. The
//! future's own work — a driver's protocol encoding and parsing, its socket writes — runs
//! here, on our loop; only readiness comes from the runtime thread, as a wake-up of our task
//! through the reactor's remote queue. That is one thread hop per event where
//! [`Bridge::run`](crate::Bridge::run) takes two (the spawn onto the runtime, and the output
//! back), and the future need not be `Send`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::runtime::Handle;

/// The future of [`Bridge::run_here`](crate::Bridge::run_here): `F`, polled on the task
/// that awaits it, with the bridge's runtime entered.
#[must_use = "futures do nothing unless polled"]
pub struct RunHere<F> {
    handle: Handle,
    /// Boxed so that `RunHere` is `Unpin` whatever `F` is (no pin projection, no `unsafe`);
    /// `None` once dropped inside the runtime's context.
    future: Option<Pin<Box<F>>>,
}

impl<F: Future> RunHere<F> {
    pub(crate) fn new(handle: Handle, future: F) -> RunHere<F> {
        RunHere {
            handle,
            future: Some(Box::pin(future)),
        }
    }
}

impl<F: Future> Future for RunHere<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        let _entered = this.handle.enter();
        let future = this
            .future
            .as_mut()
            .expect("a RunHere future is not polled after it completed");
        let output = std::task::ready!(future.as_mut().poll(cx));
        this.future = None;
        Poll::Ready(output)
    }
}

impl<F> Drop for RunHere<F> {
    fn drop(&mut self) {
        // What the future holds (sockets, timers) deregisters inside the context it was
        // made in.
        if let Some(future) = self.future.take() {
            let _entered = self.handle.enter();
            drop(future);
        }
    }
}

impl<F> std::fmt::Debug for RunHere<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunHere")
            .field("finished", &self.future.is_none())
            .finish()
    }
}
