//! The blog's queries on SQLite (the default store): [`Queries`] for a `rusqlite` connection,
//! and [`open`], which makes the file and its tables on the first run.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::db::{Author, DbError, DbResult, Entry, EntryText, Queries};

/// The tables, created if missing.
const SCHEMA: &str = include_str!("schema.sqlite.sql");

/// Every column of `entries`, in [`entry`]'s order.
const ENTRY: &str =
    "SELECT id, author_id, slug, title, markdown, html, published, updated FROM entries";

/// Opens (or creates) the database file at `path` and creates the tables if missing.
pub fn open(path: &str) -> DbResult<Connection> {
    let conn = Connection::open(path).map_err(|e| DbError::Unavailable(format!("{path}: {e}")))?;
    // Wait for another process's write instead of failing at once (two blogs on one file).
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(failed)?;
    conn.execute_batch(SCHEMA).map_err(failed)?;
    Ok(conn)
}

fn failed(e: rusqlite::Error) -> DbError {
    DbError::Failed(e.to_string())
}

fn author(row: &Row<'_>) -> rusqlite::Result<Author> {
    Ok(Author {
        id: row.get(0)?,
        email: row.get(1)?,
        name: row.get(2)?,
        hashed_password: row.get(3)?,
    })
}

fn entry(row: &Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        id: row.get(0)?,
        author_id: row.get(1)?,
        slug: row.get(2)?,
        title: row.get(3)?,
        markdown: row.get(4)?,
        html: row.get(5)?,
        published: row.get(6)?,
        updated: row.get(7)?,
    })
}

/// The entries a query selects.
fn entries(conn: &Connection, sql: &str, args: impl rusqlite::Params) -> DbResult<Vec<Entry>> {
    let mut statement = conn.prepare_cached(sql).map_err(failed)?;
    let rows = statement.query_map(args, entry).map_err(failed)?;
    rows.collect::<Result<_, _>>().map_err(failed)
}

impl Queries for Connection {
    fn author_by_id(&mut self, id: i64) -> DbResult<Option<Author>> {
        let sql = "SELECT id, email, name, hashed_password FROM authors WHERE id = ?1";
        self.query_row(sql, [id], author).optional().map_err(failed)
    }

    fn author_by_email(&mut self, email: &str) -> DbResult<Option<Author>> {
        let sql = "SELECT id, email, name, hashed_password FROM authors WHERE email = ?1";
        self.query_row(sql, [email], author)
            .optional()
            .map_err(failed)
    }

    fn any_author_exists(&mut self) -> DbResult<bool> {
        let one = self.query_row("SELECT 1 FROM authors LIMIT 1", [], |_| Ok(()));
        Ok(one.optional().map_err(failed)?.is_some())
    }

    fn create_author(&mut self, email: &str, name: &str, hashed_password: &str) -> DbResult<i64> {
        let sql = "INSERT INTO authors (email, name, hashed_password) VALUES (?1, ?2, ?3) \
                   RETURNING id";
        self.query_row(sql, [email, name, hashed_password], |row| row.get(0))
            .map_err(failed)
    }

    fn recent_entries(&mut self, limit: i64) -> DbResult<Vec<Entry>> {
        let sql = format!("{ENTRY} ORDER BY published DESC, id DESC LIMIT ?1");
        entries(self, &sql, [limit])
    }

    fn all_entries(&mut self) -> DbResult<Vec<Entry>> {
        entries(
            self,
            &format!("{ENTRY} ORDER BY published DESC, id DESC"),
            [],
        )
    }

    fn entry_by_slug(&mut self, slug: &str) -> DbResult<Option<Entry>> {
        let sql = format!("{ENTRY} WHERE slug = ?1");
        Ok(entries(self, &sql, [slug])?.pop())
    }

    fn entry_by_id(&mut self, id: i64) -> DbResult<Option<Entry>> {
        Ok(entries(self, &format!("{ENTRY} WHERE id = ?1"), [id])?.pop())
    }

    fn create_entry(&mut self, author_id: i64, slug: &str, text: &EntryText) -> DbResult<()> {
        let sql =
            "INSERT INTO entries (author_id, title, slug, markdown, html, published, updated) \
                   VALUES (?1, ?2, ?3, ?4, ?5, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)";
        let args = params![author_id, text.title, slug, text.markdown, text.html];
        self.execute(sql, args).map(drop).map_err(failed)
    }

    fn update_entry(&mut self, id: i64, text: &EntryText) -> DbResult<()> {
        // Tornado's demo leaves `updated` as it was, so its feed never shows an edit; here it moves.
        let sql = "UPDATE entries SET title = ?1, markdown = ?2, html = ?3, \
                   updated = CURRENT_TIMESTAMP WHERE id = ?4";
        let args = params![text.title, text.markdown, text.html, id];
        self.execute(sql, args).map(drop).map_err(failed)
    }
}
