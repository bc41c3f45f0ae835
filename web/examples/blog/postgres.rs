//! The blog's queries on PostgreSQL (`--db postgres://...`): [`Queries`] for a `postgres`
//! client (the blocking client of rust-postgres, run on a helper thread), and
//! [`create_tables`], run once at start-up.

use postgres::{Client, Row};

use super::db::{Author, DbError, DbResult, Entry, EntryText, Queries};

/// The tables, created if missing (Tornado's `schema.sql`).
const SCHEMA: &str = include_str!("schema.sql");

/// Every column of `entries`, in [`entry`]'s order.
const ENTRY: &str =
    "SELECT id, author_id, slug, title, markdown, html, published, updated FROM entries";

/// Creates the tables if missing (Tornado's `maybe_create_tables`). Under an advisory lock, so
/// that two blogs starting at once on one database do not race to create them.
pub fn create_tables(client: &mut Client) -> DbResult<()> {
    let mut tx = client.transaction().map_err(error)?;
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
fn entries(
    client: &mut Client,
    sql: &str,
    args: &[&(dyn postgres::types::ToSql + Sync)],
) -> DbResult<Vec<Entry>> {
    let rows = client.query(sql, args).map_err(error)?;
    Ok(rows.iter().map(entry).collect())
}

impl Queries for Client {
    fn author_by_id(&mut self, id: i64) -> DbResult<Option<Author>> {
        let Some(id) = serial(id) else {
            return Ok(None);
        };
        let sql = "SELECT id, email, name, hashed_password FROM authors WHERE id = $1";
        let row = self.query_opt(sql, &[&id]).map_err(error)?;
        Ok(row.as_ref().map(author))
    }

    fn author_by_email(&mut self, email: &str) -> DbResult<Option<Author>> {
        let sql = "SELECT id, email, name, hashed_password FROM authors WHERE email = $1";
        let row = self.query_opt(sql, &[&email]).map_err(error)?;
        Ok(row.as_ref().map(author))
    }

    fn any_author_exists(&mut self) -> DbResult<bool> {
        let row = self
            .query_opt("SELECT 1 FROM authors LIMIT 1", &[])
            .map_err(error)?;
        Ok(row.is_some())
    }

    fn create_author(&mut self, email: &str, name: &str, hashed_password: &str) -> DbResult<i64> {
        let sql = "INSERT INTO authors (email, name, hashed_password) VALUES ($1, $2, $3) \
                   RETURNING id";
        let row = self
            .query_one(sql, &[&email, &name, &hashed_password])
            .map_err(error)?;
        Ok(row.get::<_, i32>(0).into())
    }

    fn recent_entries(&mut self, limit: i64) -> DbResult<Vec<Entry>> {
        let sql = format!("{ENTRY} ORDER BY published DESC, id DESC LIMIT $1");
        entries(self, &sql, &[&limit])
    }

    fn all_entries(&mut self) -> DbResult<Vec<Entry>> {
        entries(
            self,
            &format!("{ENTRY} ORDER BY published DESC, id DESC"),
            &[],
        )
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
        let sql =
            "INSERT INTO entries (author_id, title, slug, markdown, html, published, updated) \
                   VALUES ($1, $2, $3, $4, $5, LOCALTIMESTAMP, LOCALTIMESTAMP)";
        let args: [&(dyn postgres::types::ToSql + Sync); 5] =
            [&author_id, &text.title, &slug, &text.markdown, &text.html];
        self.execute(sql, &args).map(drop).map_err(error)
    }

    fn update_entry(&mut self, id: i64, text: &EntryText) -> DbResult<()> {
        let Some(id) = serial(id) else { return Ok(()) };
        // Tornado's demo leaves `updated` as it was, so its feed never shows an edit; here it moves.
        let sql = "UPDATE entries SET title = $1, markdown = $2, html = $3, \
                   updated = LOCALTIMESTAMP WHERE id = $4";
        self.execute(sql, &[&text.title, &text.markdown, &text.html, &id])
            .map(drop)
            .map_err(error)
    }
}
