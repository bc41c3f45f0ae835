//! Unix signals as events on the loop (Tornado's `add_callback_from_signal`, done right).
//!
//! [`Signals`] installs a handler for the signals it is given; the handler only records the
//! signal and writes a byte to a self-pipe, and the loop reads the pipe like any fd. Signals
//! are process-wide: let one task (usually on the main thread) listen, and tell other loops
//! through their [`Remote`](crate::Remote) handles.

use std::future::poll_fn;
use std::io;
use std::task::{Context, Poll};

use crate::registration::Registration;
use crate::sys::signal;

/// Signal numbers, re-exported so callers need no `libc` for the common ones.
pub use libc::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};

/// A listener for a set of signals on the current reactor.
///
/// ```no_run
/// reactor::Reactor::current().block_on(async {
///     let mut signals = reactor::Signals::new(&[reactor::SIGINT, reactor::SIGTERM]).unwrap();
///     let signal = signals.recv().await.unwrap();
///     println!("got signal {signal}, shutting down");
/// });
/// ```
pub struct Signals {
    wanted: Vec<libc::c_int>,
    pipe: Registration,
    pending: Vec<libc::c_int>,
}

impl Signals {
    /// Installs handlers for `signals` and registers the self-pipe with the current reactor.
    /// From now on those signals no longer take their default action (terminating the
    /// process, for SIGINT and SIGTERM): they are delivered here.
    pub fn new(signals: &[libc::c_int]) -> io::Result<Signals> {
        let fd = signal::pipe_read_fd()?;
        for &s in signals {
            signal::install(s)?;
        }
        Ok(Signals {
            wanted: signals.to_vec(),
            pipe: Registration::new(fd)?,
            pending: Vec::new(),
        })
    }

    /// Waits for the next of the signals and returns its number. Signals of one kind that
    /// arrive while nobody waits are coalesced into one delivery.
    pub async fn recv(&mut self) -> io::Result<libc::c_int> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The polling form of [`Signals::recv`].
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<libc::c_int>> {
        loop {
            if let Some(s) = self.pending.pop() {
                return Poll::Ready(Ok(s));
            }
            for &s in self.wanted.iter().rev() {
                if signal::take_pending(s) > 0 {
                    self.pending.push(s);
                }
            }
            if !self.pending.is_empty() {
                continue;
            }
            match self.pipe.poll_readable(cx) {
                Poll::Ready(Ok(())) => {
                    signal::drain_pipe(self.pipe.fd());
                    // Drained to EAGAIN: wait for the next byte. Recheck the counters first, a
                    // signal may have landed between the check above and the drain.
                    self.pipe.clear_readable();
                    if self.wanted.iter().any(|&s| signal::peek_pending(s)) {
                        continue;
                    }
                    if let Poll::Ready(r) = self.pipe.poll_readable(cx) {
                        r?;
                        continue;
                    }
                    return Poll::Pending;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl std::fmt::Debug for Signals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signals")
            .field("signals", &self.wanted)
            .finish()
    }
}
