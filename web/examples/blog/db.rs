//! The blog's data: its two records ([`Author`], [`Entry`]), the queries it runs ([`Queries`],
//! Tornado's `query`/`queryone`/`execute` calls in `blog.py`) and [`Db`], the store they run
//! on: SQLite (the default, a file in the working directory) or PostgreSQL, through one of two
//! drivers ([`Driver`], `--db-driver`).
//!
//! The blocking drivers (SQLite's, and the `postgres` crate: `--db-driver sync`) run every
//! query on a helper thread through `reactor::run_in_executor` and the loop awaits its answer:
//! a slow query holds a helper thread, never the loop, and other requests go on. Each of those
//! stores implements [`Queries`] for its connection type (`sqlite.rs`, `postgres.rs`);
//! [`Db::run`] gets a connection (the one SQLite connection, or one from the PostgreSQL
//! [`Pool`]) on the helper thread and runs the query.
//!
//! The async driver (`tokio-postgres` through the tokio bridge, `--db-driver tokio`:
//! `postgres_tokio.rs`) needs no helper thread: its queries are `async fn`s awaited on the
//! loop, where a slow one waits without holding anything. Each query method below matches on
//! `self`: that driver's query for [`Db::PostgresTokio`], [`Db::run`] for the blocking ones.
//!
//! Errors are [`DbError`]s: `Unavailable` (the database cannot be reached or the connection
//! broke: a 503) or `Failed` (the query itself failed: a 500); both are logged, neither stops
//! the server. A broken PostgreSQL connection is dropped from the pool and replaced by a new
//! one at the next query, so the blog recovers when the server comes back.

use std::rc::Rc;
use std::sync::{Arc, Mutex};

use chrono::NaiveDateTime;
use web::HttpError;

use super::pool::Pool;
use super::postgres_tokio::TokioStore;

/// An author (a row of `authors`).
#[derive(Debug, Clone)]
pub struct Author {
    /// The primary key, kept in the `blogdemo_user` cookie.
    pub id: i64,
    /// The login name.
    pub email: String,
    /// The name shown.
    pub name: String,
    /// The bcrypt hash of the password.
    pub hashed_password: String,
}

/// A blog entry (a row of `entries`).
#[derive(Debug, Clone)]
pub struct Entry {
    /// The primary key (`/compose?id=`).
    pub id: i64,
    /// Who wrote it.
    pub author_id: i64,
    /// Its unique URL name (`/entry/<slug>`).
    pub slug: String,
    /// The title.
    pub title: String,
    /// The text as written.
    pub markdown: String,
    /// The text as HTML.
    pub html: String,
    /// When it was first published (UTC).
    pub published: NaiveDateTime,
    /// When it was last changed (UTC).
    pub updated: NaiveDateTime,
}

/// A new entry or the new text of an existing one.
#[derive(Debug, Clone)]
pub struct EntryText {
    /// The title.
    pub title: String,
    /// The text as written.
    pub markdown: String,
    /// The text as HTML.
    pub html: String,
}

/// Why a query has no answer.
#[derive(Debug)]
pub enum DbError {
    /// The database cannot be reached, or the connection broke (a 503).
    Unavailable(String),
    /// The query failed (a 500).
    Failed(String),
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbError::Unavailable(why) => write!(f, "database unavailable: {why}"),
            DbError::Failed(why) => write!(f, "database error: {why}"),
        }
    }
}

impl From<DbError> for HttpError {
    /// 503 for an unreachable database, 500 for a failed query; the cause goes to the log.
    fn from(e: DbError) -> HttpError {
        let status = match e {
            DbError::Unavailable(_) => 503,
            DbError::Failed(_) => 500,
        };
        HttpError::with_log(status, e.to_string())
    }
}

impl From<reactor::BlockingError> for DbError {
    fn from(e: reactor::BlockingError) -> DbError {
        DbError::Failed(format!("query task: {e}"))
    }
}

/// What a query returns.
pub type DbResult<T> = Result<T, DbError>;

/// The blog's queries on one blocking connection (one implementation per store).
pub trait Queries {
    /// `SELECT * FROM authors WHERE id = ?`.
    fn author_by_id(&mut self, id: i64) -> DbResult<Option<Author>>;
    /// `SELECT * FROM authors WHERE email = ?`.
    fn author_by_email(&mut self, email: &str) -> DbResult<Option<Author>>;
    /// `SELECT * FROM authors LIMIT 1`, as a yes or no.
    fn any_author_exists(&mut self) -> DbResult<bool>;
    /// Inserts an author; returns its id.
    fn create_author(&mut self, email: &str, name: &str, hashed_password: &str) -> DbResult<i64>;
    /// The `limit` newest entries, newest first.
    fn recent_entries(&mut self, limit: i64) -> DbResult<Vec<Entry>>;
    /// Every entry, newest first.
    fn all_entries(&mut self) -> DbResult<Vec<Entry>>;
    /// The entry at `slug`.
    fn entry_by_slug(&mut self, slug: &str) -> DbResult<Option<Entry>>;
    /// The entry with `id`.
    fn entry_by_id(&mut self, id: i64) -> DbResult<Option<Entry>>;
    /// Inserts an entry published now.
    fn create_entry(&mut self, author_id: i64, slug: &str, text: &EntryText) -> DbResult<()>;
    /// Replaces an entry's title and text (its slug and dates stay).
    fn update_entry(&mut self, id: i64, text: &EntryText) -> DbResult<()>;
}

/// Which PostgreSQL driver runs the queries (`--db-driver`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// The blocking `postgres` crate on helper threads (`reactor::run_in_executor`).
    Sync,
    /// `tokio-postgres`, polled on our loop through the tokio bridge (`Bridge::run_here`).
    Tokio,
}

impl Driver {
    /// The default: the one that costs less CPU per request (benches/README.md, "Blog on
    /// PostgreSQL").
    pub const DEFAULT: Driver = Driver::Tokio;
}

impl std::str::FromStr for Driver {
    type Err = String;

    fn from_str(name: &str) -> Result<Driver, String> {
        match name {
            "sync" => Ok(Driver::Sync),
            "tokio" => Ok(Driver::Tokio),
            other => Err(format!("--db-driver {other}: expected sync or tokio")),
        }
    }
}

/// The store: where the queries run.
#[derive(Clone)]
pub enum Db {
    /// One SQLite connection (SQLite writes one at a time anyway).
    Sqlite(Arc<Mutex<rusqlite::Connection>>),
    /// A pool of PostgreSQL connections of the blocking driver.
    Postgres(Arc<Pool>),
    /// PostgreSQL connections of tokio-postgres, on this thread's loop.
    PostgresTokio(Rc<TokioStore>),
}

impl Db {
    /// Opens the store named by `url` and creates its tables if missing: `sqlite:PATH` or
    /// `postgres://user:pass@host:port/db` (with at most `pool_size` connections of `driver`).
    /// Call it on the thread whose loop will serve the blog (the tokio store lives there).
    pub fn open(url: &str, pool_size: usize, driver: Driver) -> DbResult<Db> {
        if let Some(path) = url.strip_prefix("sqlite:") {
            let conn = super::sqlite::open(path)?;
            Ok(Db::Sqlite(Arc::new(Mutex::new(conn))))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            if driver == Driver::Tokio {
                return Ok(Db::PostgresTokio(Rc::new(TokioStore::open(
                    url, pool_size,
                )?)));
            }
            let pool = Pool::new(url, pool_size)?;
            pool.with_client(super::postgres::create_tables)?;
            Ok(Db::Postgres(Arc::new(pool)))
        } else {
            Err(DbError::Failed(format!(
                "--db {url}: expected sqlite:PATH or postgres://user:pass@host:port/db"
            )))
        }
    }

    /// Runs `query` on a connection of a blocking store, on a helper thread.
    async fn run<T, Q>(&self, query: Q) -> DbResult<T>
    where
        T: Send + 'static,
        Q: FnOnce(&mut dyn Queries) -> DbResult<T> + Send + 'static,
    {
        match self {
            Db::Sqlite(conn) => {
                let conn = Arc::clone(conn);
                reactor::run_in_executor(move || {
                    // A panic under the lock leaves a sound connection (no transaction spans calls).
                    let mut conn = conn.lock().unwrap_or_else(|e| e.into_inner());
                    query(&mut *conn)
                })
                .await?
            }
            Db::Postgres(pool) => {
                let pool = Arc::clone(pool);
                reactor::run_in_executor(move || pool.with_client(|client| query(client))).await?
            }
            Db::PostgresTokio(_) => {
                unreachable!("each query method awaits the tokio store's own query")
            }
        }
    }

    /// The author with `id`.
    pub async fn author_by_id(&self, id: i64) -> DbResult<Option<Author>> {
        match self {
            Db::PostgresTokio(store) => store.author_by_id(id).await,
            _ => self.run(move |q| q.author_by_id(id)).await,
        }
    }

    /// The author whose login is `email`.
    pub async fn author_by_email(&self, email: &str) -> DbResult<Option<Author>> {
        if let Db::PostgresTokio(store) = self {
            return store.author_by_email(email).await;
        }
        let email = email.to_owned();
        self.run(move |q| q.author_by_email(&email)).await
    }

    /// Whether an author exists (the blog has one).
    pub async fn any_author_exists(&self) -> DbResult<bool> {
        match self {
            Db::PostgresTokio(store) => store.any_author_exists().await,
            _ => self.run(|q| q.any_author_exists()).await,
        }
    }

    /// Creates an author; returns the id.
    pub async fn create_author(&self, email: &str, name: &str, hashed: &str) -> DbResult<i64> {
        if let Db::PostgresTokio(store) = self {
            return store.create_author(email, name, hashed).await;
        }
        let (email, name, hashed) = (email.to_owned(), name.to_owned(), hashed.to_owned());
        self.run(move |q| q.create_author(&email, &name, &hashed))
            .await
    }

    /// The `limit` newest entries.
    pub async fn recent_entries(&self, limit: i64) -> DbResult<Vec<Entry>> {
        match self {
            Db::PostgresTokio(store) => store.recent_entries(limit).await,
            _ => self.run(move |q| q.recent_entries(limit)).await,
        }
    }

    /// Every entry, newest first.
    pub async fn all_entries(&self) -> DbResult<Vec<Entry>> {
        match self {
            Db::PostgresTokio(store) => store.all_entries().await,
            _ => self.run(|q| q.all_entries()).await,
        }
    }

    /// The entry at `slug`.
    pub async fn entry_by_slug(&self, slug: &str) -> DbResult<Option<Entry>> {
        if let Db::PostgresTokio(store) = self {
            return store.entry_by_slug(slug).await;
        }
        let slug = slug.to_owned();
        self.run(move |q| q.entry_by_slug(&slug)).await
    }

    /// The entry with `id`.
    pub async fn entry_by_id(&self, id: i64) -> DbResult<Option<Entry>> {
        match self {
            Db::PostgresTokio(store) => store.entry_by_id(id).await,
            _ => self.run(move |q| q.entry_by_id(id)).await,
        }
    }

    /// Publishes a new entry at `slug`.
    pub async fn create_entry(&self, author_id: i64, slug: &str, text: EntryText) -> DbResult<()> {
        if let Db::PostgresTokio(store) = self {
            return store.create_entry(author_id, slug, &text).await;
        }
        let slug = slug.to_owned();
        self.run(move |q| q.create_entry(author_id, &slug, &text))
            .await
    }

    /// Replaces the text of entry `id`.
    pub async fn update_entry(&self, id: i64, text: EntryText) -> DbResult<()> {
        match self {
            Db::PostgresTokio(store) => store.update_entry(id, &text).await,
            _ => self.run(move |q| q.update_entry(id, &text)).await,
        }
    }
}
