//! A small pool of PostgreSQL connections (Tornado's demo uses aiopg's): at most `size`
//! clients, kept in a `Mutex<Vec<Client>>`, and a condition variable that a caller waits on
//! while all of them are in use. A helper thread takes a client, runs its query and gives it
//! back; a client whose connection broke (the server restarted, the network failed) is dropped
//! instead, and the next caller connects a new one, so the blog recovers once the server is
//! back.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use postgres::{Config, NoTls};

use super::db::{DbError, DbResult};
use super::postgres::Connection;

/// How long a new connection may take before the query is answered 503.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections to one PostgreSQL database, at most `size` open at once.
pub struct Pool {
    config: Config,
    size: usize,
    state: Mutex<State>,
    /// Signalled when a client is given back or a slot frees up.
    returned: Condvar,
}

struct State {
    /// Open clients not in use.
    idle: Vec<Connection>,
    /// Clients open (idle, in use, or being connected).
    open: usize,
}

impl Pool {
    /// A pool for `url` (`postgres://user:pass@host:port/db`) of at most `size` connections
    /// (at least one), none opened yet. Sessions run in UTC, the time zone of the blog's dates.
    pub fn new(url: &str, size: usize) -> DbResult<Pool> {
        let mut config: Config = url
            .parse()
            .map_err(|e| DbError::Failed(format!("--db {url}: {e}")))?;
        config
            .connect_timeout(CONNECT_TIMEOUT)
            .options("-c TimeZone=UTC");
        Ok(Pool {
            config,
            size: size.max(1),
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
            }),
            returned: Condvar::new(),
        })
    }

    /// Runs `f` on a client (blocking: call it on a helper thread), waiting for one if all are
    /// in use; the client goes back to the pool afterwards unless its connection broke.
    pub fn with_client<T>(&self, f: impl FnOnce(&mut Connection) -> DbResult<T>) -> DbResult<T> {
        let mut client = self.take()?;
        let result = f(&mut client);
        self.give_back(client);
        result
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics under this lock; a poisoned one still holds a sound state.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An idle client, else a new one if fewer than `size` are open, else waits.
    fn take(&self) -> DbResult<Connection> {
        let mut state = self.lock();
        loop {
            if let Some(client) = state.idle.pop() {
                if client.is_closed() {
                    state.open -= 1;
                    continue;
                }
                return Ok(client);
            }
            if state.open < self.size {
                state.open += 1;
                drop(state);
                return self.connect();
            }
            state = self.returned.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Opens a new connection in a slot already counted; frees the slot if that fails.
    fn connect(&self) -> DbResult<Connection> {
        let client = self.config.connect(NoTls).map_err(|e| {
            self.lock().open -= 1;
            self.returned.notify_one();
            DbError::Unavailable(e.to_string())
        })?;
        Ok(Connection::new(client))
    }

    /// Puts `client` back, or drops it if its connection is closed.
    fn give_back(&self, client: Connection) {
        let mut state = self.lock();
        if client.is_closed() {
            state.open -= 1;
        } else {
            state.idle.push(client);
        }
        drop(state);
        self.returned.notify_one();
    }
}
