//! The blog's queries on PostgreSQL through `tokio-postgres` (`--db postgres://...
//! --db-driver tokio`): a [`TokioStore`] of `--db-pool` connections, each driven on our loop
//! through the tokio bridge (`Bridge::run_here`, `async-compat`'s way), and the statements
//! prepared on each.
//!
//! The driver needs a tokio runtime around its socket and timers: the bridge's runtime thread
//! drives those, and wakes our loop when an answer is readable. Everything else runs here, on
//! the loop's thread: the connection's task (`reactor::spawn`, polled with the runtime
//! entered) and the queries, which hand their messages to it through the driver's channel. A
//! query is an ordinary `async fn` awaited by the handler: no helper thread, no lock, no copy
//! of the rows across threads. tokio-postgres pipelines the queries given to one connection,
//! so the pool does not lend a connection to one caller at a time: each query goes to the
//! connection with the fewest queries in flight (an idle one if there is one), so that a slow
//! query (a lock, a long scan) delays only what is queued behind it on its own connection.
//!
//! Faults are those of the blocking store (`postgres.rs`, whose SQL, row mapping and error
//! mapping this file shares): an unreachable server is a 503, a failed query a 500; a
//! connection whose server went away is closed, and the next query through its slot connects
//! a new one, so the blog recovers when the server is back.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use tokio_bridge::Bridge;
use tokio_postgres::{Client, Config, NoTls, Row, Statement};

use super::db::{Author, DbError, DbResult, Entry, EntryText};
use super::postgres::{
    author, author_serial, entry, error, inserted_id, serial, sql, Args, SCHEMA,
};

/// How long a new connection may take before the query is answered 503.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// One connection and the statements prepared on it (each parsed once per connection).
struct Connection {
    client: Client,
    statements: RefCell<HashMap<&'static str, Statement>>,
}

impl Connection {
    /// `sql`'s statement on this connection, prepared on first use.
    async fn prepared(&self, sql: &'static str) -> DbResult<Statement> {
        if let Some(statement) = self.statements.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql).await.map_err(error)?;
        self.statements.borrow_mut().insert(sql, statement.clone());
        Ok(statement)
    }
}

/// A place for one connection in the store.
#[derive(Default)]
struct Slot {
    /// Its connection, once opened (replaced when closed).
    connection: RefCell<Option<Rc<Connection>>>,
    /// Queries sent through it and not yet answered (or connecting).
    in_flight: Cell<usize>,
}

/// A query counted in its slot's `in_flight` while it lives.
struct InFlight<'a>(&'a Cell<usize>);

impl<'a> InFlight<'a> {
    fn new(count: &'a Cell<usize>) -> InFlight<'a> {
        count.set(count.get() + 1);
        InFlight(count)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

/// PostgreSQL through tokio-postgres on our loop: `size` connections (slots), opened when
/// first needed; each query goes to the slot with the fewest queries in flight (the search
/// starts after the last slot chosen, so idle ones take turns); a closed connection is
/// replaced at its slot's next use.
pub struct TokioStore {
    bridge: Bridge,
    config: Config,
    slots: Vec<Slot>,
    /// The slot chosen last.
    last: Cell<usize>,
}

impl TokioStore {
    /// Opens a store for `url` (`postgres://user:pass@host:port/db`) of `size` connections (at
    /// least one), on a new bridge (a tokio runtime on one helper thread), and creates the
    /// tables if missing. Blocks the calling thread (the loop's, before it runs) until then.
    pub fn open(url: &str, size: usize) -> DbResult<TokioStore> {
        let mut config: Config = url
            .parse()
            .map_err(|e| DbError::Failed(format!("--db {url}: {e}")))?;
        config
            .connect_timeout(CONNECT_TIMEOUT)
            .options("-c TimeZone=UTC");
        let bridge = Bridge::new().map_err(|e| DbError::Failed(format!("tokio runtime: {e}")))?;
        let store = TokioStore {
            bridge,
            config,
            slots: (0..size.max(1)).map(|_| Slot::default()).collect(),
            last: Cell::new(0),
        };
        reactor::Reactor::current().block_on(store.create_tables())?;
        Ok(store)
    }

    /// Creates the tables if missing, under the advisory lock of `create_tables` in
    /// `postgres.rs` (two blogs starting at once on one database); the connection stays in
    /// the first slot.
    async fn create_tables(&self) -> DbResult<()> {
        let mut client = self.connect().await?;
        let tx = client.transaction().await.map_err(error)?;
        tx.execute("SELECT pg_advisory_xact_lock(20090901)", &[])
            .await
            .map_err(error)?;
        tx.batch_execute(SCHEMA).await.map_err(error)?;
        tx.commit().await.map_err(error)?;
        *self.slots[0].connection.borrow_mut() = Some(Rc::new(Connection {
            client,
            statements: RefCell::default(),
        }));
        Ok(())
    }

    /// A new connection, its task spawned on our loop (polled with the runtime entered, so its
    /// socket is tokio's); the task ends when the client is dropped or the connection breaks.
    async fn connect(&self) -> DbResult<Client> {
        let connecting = self.bridge.run_here(self.config.connect(NoTls));
        let (client, connection) = connecting
            .await
            .map_err(|e| DbError::Unavailable(e.to_string()))?;
        let connection = self.bridge.run_here(connection);
        drop(reactor::spawn(async move {
            if let Err(e) = connection.await {
                log::warn!("PostgreSQL connection closed: {e}");
            }
        }));
        Ok(client)
    }

    /// The slot with the fewest queries in flight, searching from the one after the last
    /// chosen.
    fn least_busy(&self) -> &Slot {
        let n = self.slots.len();
        let start = self.last.get() + 1;
        let chosen = (start..start + n)
            .map(|i| i % n)
            .min_by_key(|&i| self.slots[i].in_flight.get())
            .unwrap_or(0);
        self.last.set(chosen);
        &self.slots[chosen]
    }

    /// `slot`'s connection, connecting it if it has none or its connection closed.
    async fn connection(&self, slot: &Slot) -> DbResult<Rc<Connection>> {
        let open = slot.connection.borrow().clone();
        if let Some(connection) = open.filter(|c| !c.client.is_closed()) {
            return Ok(connection);
        }
        let connection = Rc::new(Connection {
            client: self.connect().await?,
            statements: RefCell::default(),
        });
        *slot.connection.borrow_mut() = Some(Rc::clone(&connection));
        Ok(connection)
    }

    /// The rows of `sql` on the least busy connection.
    async fn query(&self, sql: &'static str, args: Args<'_>) -> DbResult<Vec<Row>> {
        let slot = self.least_busy();
        let _in_flight = InFlight::new(&slot.in_flight);
        let connection = self.connection(slot).await?;
        let statement = connection.prepared(sql).await?;
        connection
            .client
            .query(&statement, args)
            .await
            .map_err(error)
    }

    /// Runs `sql` on the least busy connection.
    async fn execute(&self, sql: &'static str, args: Args<'_>) -> DbResult<()> {
        let slot = self.least_busy();
        let _in_flight = InFlight::new(&slot.in_flight);
        let connection = self.connection(slot).await?;
        let statement = connection.prepared(sql).await?;
        connection
            .client
            .execute(&statement, args)
            .await
            .map(drop)
            .map_err(error)
    }

    /// The entries `sql` selects.
    async fn entries(&self, sql: &'static str, args: Args<'_>) -> DbResult<Vec<Entry>> {
        Ok(self.query(sql, args).await?.iter().map(entry).collect())
    }

    /// The author with `id`.
    pub async fn author_by_id(&self, id: i64) -> DbResult<Option<Author>> {
        let Some(id) = serial(id) else {
            return Ok(None);
        };
        Ok(self
            .query(sql::AUTHOR_BY_ID, &[&id])
            .await?
            .first()
            .map(author))
    }

    /// The author whose login is `email`.
    pub async fn author_by_email(&self, email: &str) -> DbResult<Option<Author>> {
        let rows = self.query(sql::AUTHOR_BY_EMAIL, &[&email]).await?;
        Ok(rows.first().map(author))
    }

    /// Whether an author exists.
    pub async fn any_author_exists(&self) -> DbResult<bool> {
        Ok(!self.query(sql::ANY_AUTHOR, &[]).await?.is_empty())
    }

    /// Inserts an author; returns its id.
    pub async fn create_author(&self, email: &str, name: &str, hashed: &str) -> DbResult<i64> {
        let rows = self
            .query(sql::CREATE_AUTHOR, &[&email, &name, &hashed])
            .await?;
        inserted_id(&rows)
    }

    /// The `limit` newest entries, newest first.
    pub async fn recent_entries(&self, limit: i64) -> DbResult<Vec<Entry>> {
        self.entries(sql::RECENT_ENTRIES, &[&limit]).await
    }

    /// Every entry, newest first.
    pub async fn all_entries(&self) -> DbResult<Vec<Entry>> {
        self.entries(sql::ALL_ENTRIES, &[]).await
    }

    /// The entry at `slug`.
    pub async fn entry_by_slug(&self, slug: &str) -> DbResult<Option<Entry>> {
        Ok(self.entries(sql::ENTRY_BY_SLUG, &[&slug]).await?.pop())
    }

    /// The entry with `id`.
    pub async fn entry_by_id(&self, id: i64) -> DbResult<Option<Entry>> {
        let Some(id) = serial(id) else {
            return Ok(None);
        };
        Ok(self.entries(sql::ENTRY_BY_ID, &[&id]).await?.pop())
    }

    /// Inserts an entry published now.
    pub async fn create_entry(&self, author_id: i64, slug: &str, text: &EntryText) -> DbResult<()> {
        let author_id = author_serial(author_id)?;
        let args: Args<'_> = &[&author_id, &text.title, &slug, &text.markdown, &text.html];
        self.execute(sql::CREATE_ENTRY, args).await
    }

    /// Replaces an entry's title and text.
    pub async fn update_entry(&self, id: i64, text: &EntryText) -> DbResult<()> {
        let Some(id) = serial(id) else {
            return Ok(());
        };
        let args: Args<'_> = &[&text.title, &text.markdown, &text.html, &id];
        self.execute(sql::UPDATE_ENTRY, args).await
    }
}
