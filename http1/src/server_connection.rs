//! `HTTP1ServerConnection`: the request loop of one accepted connection (Tornado's
//! `HTTP1ServerConnection._server_request_loop`).
//!
//! For each request a fresh [`HTTP1Connection`] reads one message and drives the delegate that
//! `start_request` returned; then the loop goes on (keep-alive) or the connection closes.
//! Pipelined requests already in the read buffer are answered in order without waiting, and
//! their responses leave in one write when the buffer runs dry (or when more than
//! `max_write_buffer` bytes are waiting: then the loop stops reading until they are sent).
//!
//! Handing over: when a delegate answered `101 Switching Protocols` and claimed the stream
//! ([`HTTP1Connection::detach`]), the loop ends: the `101` is sent, the idle timer dropped,
//! and the new owner serves the stream until its future completes (see [`crate::detach`]).
//!
//! Closing: after an error response, or when request bytes are left unread, the close is a
//! *lingering close* (as nginx does): flush, shut down the write side, read and drop input for
//! at most `linger_timeout` / `linger_max_bytes` or until the client closes, then close. A bare
//! `close()` with unread input would make the kernel send RST, and the client could lose the
//! response it was owed.

use crate::connection::{fill_within, flush, HTTP1Connection, IdleTimer, Outcome};
use crate::delegate::{ConnectionContext, HTTPServerConnectionDelegate};
use crate::detach::Detached;
use crate::params::HTTP1ConnectionParameters;
use crate::shutdown::{Drain, DrainGuard};
use iostream::{Address, IOStream};
use std::cell::Cell;
use std::pin::pin;
use std::rc::Rc;
use std::time::Instant;

thread_local! {
    static NEXT_ID: Cell<u64> = const { Cell::new(1) };
}

/// One server-side HTTP/1.1 connection.
pub struct HTTP1ServerConnection {
    stream: IOStream,
    params: Rc<HTTP1ConnectionParameters>,
    ctx: ConnectionContext,
    accepted_at: Instant,
    /// Registration with the server's graceful shutdown (none when served on its own).
    drain: Option<DrainGuard>,
}

impl HTTP1ServerConnection {
    /// Wraps an accepted stream; the header timeout of the first request counts from now.
    pub fn new(
        stream: IOStream,
        params: Rc<HTTP1ConnectionParameters>,
        address: Address,
    ) -> HTTP1ServerConnection {
        let id = NEXT_ID.with(|n| n.replace(n.get() + 1));
        HTTP1ServerConnection {
            stream,
            params,
            ctx: ConnectionContext { address, id },
            accepted_at: Instant::now(),
            drain: None,
        }
    }

    /// Counts this connection in its server's graceful shutdown (see [`crate::shutdown`]).
    pub(crate) fn set_drain(&mut self, drain: &Rc<Drain>) {
        self.drain = Some(drain.enter());
    }

    /// The connection's address and id.
    pub fn context(&self) -> &ConnectionContext {
        &self.ctx
    }

    /// Spawns [`serve`](Self::serve) on the current reactor (one allocation per connection).
    pub fn start_serving<D: HTTPServerConnectionDelegate>(
        self,
        delegate: Rc<D>,
    ) -> reactor::JoinHandle<()> {
        reactor::spawn(async move { self.serve(&*delegate).await })
    }

    /// Serves requests until the connection closes, then calls `delegate.on_close`.
    ///
    /// Takes `&self` so that the task's future holds the connection once (an `async fn`
    /// taking `self` keeps it both as its argument and as a local: on every idle connection).
    pub async fn serve<D: HTTPServerConnectionDelegate>(&self, delegate: &D) {
        crate::date::start_ticker();
        let params = &*self.params;
        let peer_ip = self.ctx.address.ip();
        let mut deadline = params.header_timeout.map(|t| self.accepted_at + t);
        let mut idle = IdleTimer::new(params.idle_connection_timeout);
        let mut detached = None;
        let outcome = loop {
            if let Some(guard) = &self.drain {
                // Wait for the next request here, where a graceful shutdown can end the wait.
                if let Err(outcome) = self.wait_for_request(guard, deadline, &mut idle).await {
                    break outcome;
                }
            }
            let mut conn = HTTP1Connection::new(&self.stream, params);
            if self.drain.as_ref().is_some_and(DrainGuard::draining) {
                conn.set_close_after();
            }
            let ctx = &self.ctx;
            let start = || delegate.start_request(ctx);
            match conn
                .read_message(start, deadline, peer_ip.as_ref(), &mut idle)
                .await
            {
                Outcome::KeepAlive => deadline = None,
                Outcome::Detach => {
                    detached = conn.take_detached();
                    break Outcome::Detach;
                }
                other => break other,
            }
        };
        if let Some(run) = detached {
            drop(idle);
            self.run_detached(run).await;
        } else {
            self.close(outcome == Outcome::Linger).await;
        }
        if self.stream.is_tls_handshaking() {
            log_failed_handshake(&self.stream, &self.ctx);
        }
        delegate.on_close(&self.ctx);
    }

    /// After a `101`: sends it, then lets the stream's new owner (see [`crate::detach`]) serve
    /// the stream with no HTTP timer running; closes it when the owner is done.
    async fn run_detached(&self, run: Detached) {
        let stream = &self.stream;
        if flush(stream, self.params.idle_connection_timeout)
            .await
            .is_ok()
        {
            run(stream).await;
        }
        stream.close();
    }

    /// With an empty read buffer: sends the responses still pending, then waits for the first
    /// byte of the next request (the header deadline for the first request, else the idle
    /// timer), as `read_message` would. `Err(Close)` when that fails or the server drains.
    async fn wait_for_request(
        &self,
        guard: &DrainGuard,
        deadline: Option<Instant>,
        idle: &mut IdleTimer,
    ) -> Result<(), Outcome> {
        let stream = &self.stream;
        let params = &*self.params;
        if !stream.buffered().is_empty() {
            return Ok(());
        }
        if stream.pending_write_bytes() > 0
            && flush(stream, params.idle_connection_timeout).await.is_err()
        {
            return Err(Outcome::Close);
        }
        let filled = match deadline {
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                guard
                    .idle_wait(pin!(fill_within(stream, 1, Some(left))))
                    .await
            }
            None => guard.idle_wait(pin!(idle.fill(stream, 1))).await,
        };
        match filled {
            Some(Ok(_)) => Ok(()),
            Some(Err(_)) | None => Err(Outcome::Close),
        }
    }

    /// Sends what is pending and closes; lingering if asked or if unread input is found.
    async fn close(&self, linger: bool) {
        let stream = &self.stream;
        let params = &*self.params;
        if stream.closed() {
            return;
        }
        // `linger_timeout` bounds all of it: the flush, the shutdown and the drain.
        let started = Instant::now();
        let left = || params.linger_timeout.saturating_sub(started.elapsed());
        // The answer goes out first: the probe for unread input below may read the client's
        // FIN (a half-close after its last request), which closes the stream.
        if flush(stream, Some(params.linger_timeout)).await.is_err() {
            stream.close();
            return;
        }
        let unread = !stream.buffered().is_empty() || stream.try_fill().is_ok_and(|n| n > 0);
        if !(linger || unread) {
            stream.close();
            return;
        }
        // Lingering close: shutdown(SHUT_WR), then drain.
        let shut = reactor::timeout(left(), stream.shutdown_write()).await;
        if matches!(shut, Ok(Ok(()))) {
            let mut drained = 0usize;
            loop {
                let n = stream.buffered().len();
                stream.consume(n);
                drained += n;
                let left = left();
                if drained > params.linger_max_bytes || left.is_zero() {
                    break;
                }
                if fill_within(stream, 1, Some(left)).await.is_err() {
                    break; // EOF from the client (or timeout): done
                }
            }
        }
        stream.close();
    }
}

/// A TLS handshake that never completed (plain HTTP to the TLS port, a scanner, a client that
/// said nothing before the header timeout, a certificate the client refused): logged once per
/// connection, at debug level under the target `http1::tls`, since on a public port such
/// connections are common noise (Tornado #2504 logged each as an error).
fn log_failed_handshake(stream: &IOStream, ctx: &ConnectionContext) {
    let peer = &ctx.address;
    match stream.error() {
        Some(e) => log::debug!(target: "http1::tls", "TLS handshake with {peer} failed: {e}"),
        None => log::debug!(target: "http1::tls", "TLS handshake with {peer} did not complete"),
    }
}
