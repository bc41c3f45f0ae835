//! The keep-alive pool: per `(scheme, host, port)`, at most `max_clients` requests in flight,
//! a FIFO queue behind them, and the idle connections they left open.
//!
//! * **Queue.** Each host has a [`reactor::Semaphore`] of `max_clients` permits. Its permits
//!   are handed over in arrival order, so requests queued behind a busy host start in FIFO
//!   order (Tornado's `simple_httpclient` queue, per host).
//! * **Reuse.** A finished exchange whose connection may carry another request puts it back
//!   on the host's idle list; the next request takes the most recently used one.
//! * **Staleness.** Before reuse, a connection is checked: closed, buffered unsolicited bytes,
//!   or a pending end of file / reset (one non-blocking read when the reactor saw it readable)
//!   all discard it. A connection idle longer than `idle_timeout` is discarded too. A server
//!   may still close in the instant between that check and the request; the fetch then
//!   retries once on a new connection when no response byte had arrived and the method is
//!   idempotent (see `fetch.rs`).

use super::connection::ClientConnection;
use reactor::sync::SemaphoreGuard;
use reactor::Semaphore;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

/// The pool's key: scheme, host, port.
pub(crate) type Key = (String, String, u16);

/// One host's share of the pool.
pub(crate) struct HostPool {
    slots: Semaphore,
    idle: RefCell<Vec<ClientConnection>>,
}

/// All hosts.
pub(crate) struct Pool {
    hosts: RefCell<HashMap<Key, Rc<HostPool>>>,
    max_clients: usize,
    idle_timeout: Duration,
    max_idle_per_host: usize,
    opened: Cell<u64>,
}

impl Pool {
    pub(crate) fn new(max_clients: usize, idle_timeout: Duration) -> Pool {
        let max_clients = max_clients.max(1);
        Pool {
            hosts: RefCell::new(HashMap::new()),
            max_clients,
            idle_timeout,
            max_idle_per_host: max_clients,
            opened: Cell::new(0),
        }
    }

    /// The host's pool (created on first use).
    pub(crate) fn host(&self, key: &Key) -> Rc<HostPool> {
        self.hosts
            .borrow_mut()
            .entry(key.clone())
            .or_insert_with(|| {
                Rc::new(HostPool {
                    slots: Semaphore::new(self.max_clients),
                    idle: RefCell::new(Vec::new()),
                })
            })
            .clone()
    }

    /// Counts a new connection.
    pub(crate) fn note_opened(&self) {
        self.opened.set(self.opened.get() + 1);
    }

    /// Connections opened over the pool's life.
    pub(crate) fn opened(&self) -> u64 {
        self.opened.get()
    }

    /// Idle connections held, all hosts.
    pub(crate) fn idle_count(&self) -> usize {
        self.hosts
            .borrow()
            .values()
            .map(|h| h.idle.borrow().len())
            .sum()
    }

    /// Closes every idle connection.
    pub(crate) fn clear(&self) {
        for h in self.hosts.borrow().values() {
            for c in h.idle.borrow_mut().drain(..) {
                c.stream().close();
            }
        }
    }

    /// A live idle connection of `host`, if any (stale ones are closed and dropped).
    pub(crate) fn take_idle(&self, host: &HostPool) -> Option<ClientConnection> {
        loop {
            let conn = host.idle.borrow_mut().pop()?;
            if conn.idle_since.elapsed() <= self.idle_timeout && conn.is_alive() {
                return Some(conn);
            }
            conn.stream().close();
        }
    }

    /// Gives a connection that may carry another request back to `host`.
    pub(crate) fn put_idle(&self, host: &HostPool, mut conn: ClientConnection) {
        let mut idle = host.idle.borrow_mut();
        if idle.len() >= self.max_idle_per_host || conn.stream().closed() {
            conn.stream().close();
            return;
        }
        conn.idle_since = std::time::Instant::now();
        idle.push(conn);
    }
}

impl HostPool {
    /// Waits (FIFO) for one of the host's `max_clients` slots.
    pub(crate) async fn acquire(&self) -> SemaphoreGuard {
        self.slots.acquire().await
    }
}
