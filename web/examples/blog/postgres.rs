//! The blog's queries on PostgreSQL (`--db postgres://...`): [`Queries`] for a [`Connection`]
//! (a client of rust-postgres's blocking `postgres` crate, run on a helper thread, and the
//! statements prepared on it), and [`create_tables`], run once at start-up.

use std::collections::HashMap;

use postgres::types::ToSql;
use postgres::{Client, Row, Statement};

use super::db::{Author, DbError, DbResult, Entry, EntryText, Queries};

/// The tables, created if missing (Tornado's `schema.sql`).
const SCHEMA: &str = include_str!("schema.sql");

/// Every column of `entries`, in [`entry`]'s order.
const ENTRY: &str =
    "SELECT id, author_id, slug, title, markdown, html, published, updated FROM entries";

/// The arguments of a query.
type Args<'a> = &'a [&'a (dyn ToSql + Sync)];

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
/// (bad SQL, a constraint) is `Failed`.
pub fn error(e: postgres::Error) -> DbError {
    if e.as_db_error().is_some() && !e.is_closed() {
        DbError::Failed(e.to_string())
    } else {
        DbError::Unavailable(e.to_string())
    }
}

fn author(row: &Row) -> Author {
    Author {
        id: row.get::<_, i32>(0).into(),
        email: row.get(1),
        name: row.get(2),
        hashed_password: row.get(3),
    }
}

fn entry(row: &Row) -> Entry {
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
fn serial(id: i64) -> Option<i32> {
    i32::try_from(id).ok()
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
        let sql = "SELECT id, email, name, hashed_password FROM authors WHERE id = $1";
        Ok(self.query(sql, &[&id])?.first().map(author))
    }

    fn author_by_email(&mut self, email: &str) -> DbResult<Option<Author>> {
        let sql = "SELECT id, email, name, hashed_password FROM authors WHERE email = $1";
        Ok(self.query(sql, &[&email])?.first().map(author))
    }

    fn any_author_exists(&mut self) -> DbResult<bool> {
        Ok(!self.query("SELECT 1 FROM authors LIMIT 1", &[])?.is_empty())
    }

    fn create_author(&mut self, email: &str, name: &str, hashed_password: &str) -> DbResult<i64> {
        let sql = "INSERT INTO authors (email, name, hashed_password) VALUES ($1, $2, $3) \
                   RETURNING id";
        let rows = self.query(sql, &[&email, &name, &hashed_password])?;
        let row = rows
            .first()
            .ok_or(DbError::Failed("INSERT returned no id".into()))?;
        Ok(row.get::<_, i32>(0).into())
    }

    fn recent_entries(&mut self, limit: i64) -> DbResult<Vec<Entry>> {
        let sql = format!("{ENTRY} ORDER BY published DESC, id DESC LIMIT $1");
        entries(self, &sql, &[&limit])
    }

    fn all_entries(&mut self) -> DbResult<Vec<Entry>> {
        let sql = format!("{ENTRY} ORDER BY published DESC, id DESC");
        entries(self, &sql, &[])
    }

    fn entry_by_slug(&mut self, slug: &str) -> DbResult<Option<Entry>> {
        Ok(entries(self, &format!("{ENTRY} WHERE slug = $1"), &[&slug])?.pop())
    }

    fn entry_by_id(&mut self, id: i64) -> DbResult<Option<Entry>> {
        let Some(id) = serial(id) else {
            return Ok(None);
        };
        Ok(entries(self, &format!("{ENTRY} WHERE id = $1"), &[&id])?.pop())
    }

    fn create_entry(&mut self, author_id: i64, slug: &str, text: &EntryText) -> DbResult<()> {
        let author_id =
            serial(author_id).ok_or_else(|| DbError::Failed(format!("no author {author_id}")))?;
        let sql = "INSERT INTO entries (author_id, title, slug, markdown, html, published, \
                   updated) VALUES ($1, $2, $3, $4, $5, LOCALTIMESTAMP, LOCALTIMESTAMP)";
        self.execute(
            sql,
            &[&author_id, &text.title, &slug, &text.markdown, &text.html],
        )
    }

    fn update_entry(&mut self, id: i64, text: &EntryText) -> DbResult<()> {
        let Some(id) = serial(id) else {
            return Ok(());
        };
        // Tornado's demo leaves `updated` as it was, so its feed never shows an edit; here it moves.
        let sql = "UPDATE entries SET title = $1, markdown = $2, html = $3, \
                   updated = LOCALTIMESTAMP WHERE id = $4";
        self.execute(sql, &[&text.title, &text.markdown, &text.html, &id])
    }
}
