//! The blog's queries on PostgreSQL (`--db postgres://... --db-driver sync`): [`Queries`] for
//! a [`Connection`] (a client of rust-postgres's blocking `postgres` crate, run on a helper
//! thread, and the statements prepared on it), and [`create_tables`], run once at start-up.
//! The SQL ([`sql`]), the rows' mapping and the error mapping are shared with the
//! tokio-postgres store (`postgres_tokio.rs`).

use std::collections::HashMap;

use postgres::types::ToSql;
use postgres::{Client, Row, Statement};

use super::db::{Author, DbError, DbResult, Entry, EntryText, Queries};

/// The tables, created if missing (Tornado's `schema.sql`).
pub const SCHEMA: &str = include_str!("schema.sql");

/// The blog's SQL on PostgreSQL, one statement per query of [`Queries`].
pub mod sql {
    /// Every column of `entries`, in [`entry`](super::entry)'s order, then `$rest`.
    macro_rules! entries {
        ($rest:literal) => {
            concat!(
                "SELECT id, author_id, slug, title, markdown, html, published, updated ",
                "FROM entries",
                $rest
            )
        };
    }

    /// The author with id `$1`.
    pub const AUTHOR_BY_ID: &str =
        "SELECT id, email, name, hashed_password FROM authors WHERE id = $1";
    /// The author with email `$1`.
    pub const AUTHOR_BY_EMAIL: &str =
        "SELECT id, email, name, hashed_password FROM authors WHERE email = $1";
    /// A row if any author exists.
    pub const ANY_AUTHOR: &str = "SELECT 1 FROM authors LIMIT 1";
    /// Inserts an author (`$1` email, `$2` name, `$3` hash); returns its id.
    pub const CREATE_AUTHOR: &str =
        "INSERT INTO authors (email, name, hashed_password) VALUES ($1, $2, $3) RETURNING id";
    /// The `$1` newest entries.
    pub const RECENT_ENTRIES: &str = entries!(" ORDER BY published DESC, id DESC LIMIT $1");
    /// Every entry, newest first.
    pub const ALL_ENTRIES: &str = entries!(" ORDER BY published DESC, id DESC");
    /// The entry at slug `$1`.
    pub const ENTRY_BY_SLUG: &str = entries!(" WHERE slug = $1");
    /// The entry with id `$1`.
    pub const ENTRY_BY_ID: &str = entries!(" WHERE id = $1");
    /// Inserts an entry published now (`$1` author, `$2` title, `$3` slug, `$4` markdown,
    /// `$5` html).
    pub const CREATE_ENTRY: &str = "INSERT INTO entries (author_id, title, slug, markdown, \
        html, published, updated) VALUES ($1, $2, $3, $4, $5, LOCALTIMESTAMP, LOCALTIMESTAMP)";
    /// Replaces entry `$4`'s title, markdown and html. (Tornado's demo leaves `updated` as it
    /// was, so its feed never shows an edit; here it moves.)
    pub const UPDATE_ENTRY: &str = "UPDATE entries SET title = $1, markdown = $2, html = $3, \
        updated = LOCALTIMESTAMP WHERE id = $4";
}

/// The arguments of a query.
pub type Args<'a> = &'a [&'a (dyn ToSql + Sync)];

/// A connection, and the statements prepared on it: each query is parsed once per connection,
/// then only bound and executed, one round trip instead of two (`Client::query` with a string
/// prepares it every time). With them, `GET /` costs about a third less CPU (benches/blog.sh).
pub struct Connection {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl Connection {
    /// Wraps a new client.
    pub fn new(client: Client) -> Connection {
        Connection {
            client,
            statements: HashMap::new(),
        }
    }

    /// Whether the connection broke (it is then dropped from the pool).
    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// The rows of `sql` (prepared on first use).
    fn query(&mut self, sql: &str, args: Args<'_>) -> DbResult<Vec<Row>> {
        let statement = self.prepared(sql)?;
        self.client.query(&statement, args).map_err(error)
    }

    /// Runs `sql` (prepared on first use).
    fn execute(&mut self, sql: &str, args: Args<'_>) -> DbResult<()> {
        let statement = self.prepared(sql)?;
        self.client
            .execute(&statement, args)
            .map(drop)
            .map_err(error)
    }

    fn prepared(&mut self, sql: &str) -> DbResult<Statement> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql).map_err(error)?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

/// Creates the tables if missing (Tornado's `maybe_create_tables`). Under an advisory lock, so
/// that two blogs starting at once on one database do not race to create them.
pub fn create_tables(conn: &mut Connection) -> DbResult<()> {
    let mut tx = conn.client.transaction().map_err(error)?;
    tx.execute("SELECT pg_advisory_xact_lock(20090901)", &[])
        .map_err(error)?;
    tx.batch_execute(SCHEMA).map_err(error)?;
    tx.commit().map_err(error)
}

/// A broken connection or an unreachable server is `Unavailable`; an error the server answered
/// (bad SQL, a constraint) is `Failed`. (`postgres::Error` is tokio-postgres's error: both
/// stores map it here.)
pub fn error(e: postgres::Error) -> DbError {
    if e.as_db_error().is_some() && !e.is_closed() {
        DbError::Failed(e.to_string())
    } else {
        DbError::Unavailable(e.to_string())
    }
}

pub fn author(row: &Row) -> Author {
    Author {
        id: row.get::<_, i32>(0).into(),
        email: row.get(1),
        name: row.get(2),
        hashed_password: row.get(3),
    }
}

pub fn entry(row: &Row) -> Entry {
    Entry {
        id: row.get::<_, i32>(0).into(),
        author_id: row.get::<_, i32>(1).into(),
        slug: row.get(2),
        title: row.get(3),
        markdown: row.get(4),
        html: row.get(5),
        published: row.get(6),
        updated: row.get(7),
    }
}

/// An id as the `SERIAL` (int4) column holds it; larger ids exist nowhere.
pub fn serial(id: i64) -> Option<i32> {
    i32::try_from(id).ok()
}

/// An author id for `entries.author_id`, else a failed query.
pub fn author_serial(author_id: i64) -> DbResult<i32> {
    serial(author_id).ok_or_else(|| DbError::Failed(format!("no author {author_id}")))
}

/// The id an `INSERT ... RETURNING id` returned.
pub fn inserted_id(rows: &[Row]) -> DbResult<i64> {
    let row = rows
        .first()
        .ok_or(DbError::Failed("INSERT returned no id".into()))?;
    Ok(row.get::<_, i32>(0).into())
}

/// The entries a query selects.
fn entries(conn: &mut Connection, sql: &str, args: Args<'_>) -> DbResult<Vec<Entry>> {
    Ok(conn.query(sql, args)?.iter().map(entry).collect())
}

impl Queries for Connection {
    fn author_by_id(&mut self, id: i64) -> DbResult<Option<Author>> {
        let Some(id) = serial(id) else {
            return Ok(None);
        };
        Ok(self.query(sql::AUTHOR_BY_ID, &[&id])?.first().map(author))
    }

    fn author_by_email(&mut self, email: &str) -> DbResult<Option<Author>> {
        Ok(self
            .query(sql::AUTHOR_BY_EMAIL, &[&email])?
            .first()
            .map(author))
    }

    fn any_author_exists(&mut self) -> DbResult<bool> {
        Ok(!self.query(sql::ANY_AUTHOR, &[])?.is_empty())
    }

    fn create_author(&mut self, email: &str, name: &str, hashed_password: &str) -> DbResult<i64> {
        let rows = self.query(sql::CREATE_AUTHOR, &[&email, &name, &hashed_password])?;
        inserted_id(&rows)
    }

    fn recent_entries(&mut self, limit: i64) -> DbResult<Vec<Entry>> {
        entries(self, sql::RECENT_ENTRIES, &[&limit])
    }

    fn all_entries(&mut self) -> DbResult<Vec<Entry>> {
        entries(self, sql::ALL_ENTRIES, &[])
    }

    fn entry_by_slug(&mut self, slug: &str) -> DbResult<Option<Entry>> {
        Ok(entries(self, sql::ENTRY_BY_SLUG, &[&slug])?.pop())
    }

    fn entry_by_id(&mut self, id: i64) -> DbResult<Option<Entry>> {
        let Some(id) = serial(id) else {
            return Ok(None);
        };
        Ok(entries(self, sql::ENTRY_BY_ID, &[&id])?.pop())
    }

    fn create_entry(&mut self, author_id: i64, slug: &str, text: &EntryText) -> DbResult<()> {
        let author_id = author_serial(author_id)?;
        let args: Args<'_> = &[&author_id, &text.title, &slug, &text.markdown, &text.html];
        self.execute(sql::CREATE_ENTRY, args)
    }

    fn update_entry(&mut self, id: i64, text: &EntryText) -> DbResult<()> {
        let Some(id) = serial(id) else {
            return Ok(());
        };
        self.execute(
            sql::UPDATE_ENTRY,
            &[&text.title, &text.markdown, &text.html, &id],
        )
    }
}
