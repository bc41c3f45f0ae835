//! Tornado's blog demo (`demos/blog/blog.py`), ported: the same routes, form fields, templates
//! and cookie, `xsrf_cookies` on, passwords hashed with bcrypt on a helper thread, entries
//! written in Markdown, stored in SQLite (the default) or PostgreSQL.
//!
//! `cargo run --release -p web --example blog -- --port 8888 [--db URL] [--db-pool N]
//! [--db-driver sync|tokio] [--cookie-secret S] [--debug]`, then open `http://localhost:8888/`:
//! the first visit asks for the author's account (`/auth/create`), then for the first post.
//! `--db` is `sqlite:PATH` (default `sqlite:blog.db`, in the working directory) or
//! `postgres://user:pass@host:port/db` (`--db-pool`: at most N connections, default 4;
//! `--db-driver`: `tokio`, the default, is tokio-postgres on the loop through the tokio bridge,
//! `sync` the blocking `postgres` crate on helper threads); the tables are created if missing. Processes that share a database and a `--cookie-secret` serve
//! one site (see `docs/deploying.md`).
//!
//! - `GET /`: the 5 newest entries (or a redirect to `/compose` while there are none);
//! - `GET /archive`: every entry; `GET /feed`: the 10 newest as an Atom feed;
//! - `GET /entry/<slug>`: one entry (404 if there is none);
//! - `GET|POST /compose` (logged in; `title`, `markdown`, `id` to edit): write or edit an
//!   entry; a new entry's slug comes from its title (`slug.rs`), made unique with `-2`;
//! - `GET|POST /auth/create` (`email`, `name`, `password`): the author's account, only while
//!   there is none (then 400);
//! - `GET|POST /auth/login` (`email`, `password`), `GET /auth/logout`: the signed cookie
//!   `blogdemo_user` holds the author's id; `next` says where to go after (a local path).
//!
//! The data (`db.rs`) is read on helper threads (`reactor::run_in_executor`) or, with the tokio
//! driver, by `async fn`s on the loop (`postgres_tokio.rs`); a database that is down answers
//! 503 (a failed query 500) and the blog recovers when it is back.

mod db;
mod options;
mod pool;
mod postgres;
mod postgres_tokio;
mod slug;
mod sqlite;
mod view;

use minijinja::{context, Value};
use web::{url, Application, Context, HttpError, RequestHandler, Result, Settings};

use db::EntryText;
pub use db::{Db, Driver};
use view::{atom_date, entry_value, entry_values};

/// The cookie that holds the logged-in author's id (signed).
const USER_COOKIE: &str = "blogdemo_user";

/// The application's state: the store and the blog's own settings.
pub struct Blog {
    /// Where the authors and entries are.
    pub db: Db,
    /// Tornado's `blog_title` setting: the page title, the feed's title and author.
    pub title: String,
    /// The bcrypt cost of new password hashes (Tornado's `bcrypt.gensalt()`: 12).
    pub bcrypt_cost: u32,
}

impl Blog {
    /// A blog on `db` with Tornado's settings.
    pub fn new(db: Db) -> Blog {
        Blog {
            db,
            title: "Tornado Blog".to_owned(),
            bcrypt_cost: bcrypt::DEFAULT_COST,
        }
    }
}

/// The blog's state (a 500 if the application has none).
fn blog<'a>(cx: &Context<'a>) -> Result<&'a Blog> {
    cx.state::<Blog>()
}

/// Tornado's `BaseHandler.prepare`: the author whose id the signed cookie holds, if it is one.
/// (Tornado answers 500 for the id of an author who no longer exists; here that is nobody.)
async fn current_author(cx: &mut Context<'_>) -> Result<Option<String>> {
    let Some(id) = cx.get_signed_cookie(USER_COOKIE) else {
        return Ok(None);
    };
    let Ok(id) = id.parse::<i64>() else {
        return Ok(None);
    };
    let author = blog(cx)?.db.author_by_id(id).await?;
    Ok(author.map(|a| a.id.to_string()))
}

/// Renders `name` with `values` and the blog's title (`blog_title`, Tornado's
/// `handler.settings["blog_title"]`).
fn render(cx: &mut Context<'_>, name: &str, values: Value) -> Result {
    let title = blog(cx)?.title.clone();
    cx.render(name, context! { blog_title => title, ..values })
}

/// Goes to the `next` argument (default `/`): a local path only, else 400 (an open redirect,
/// CWE-601, as Tornado's `redirect_to_next` refuses).
fn redirect_to_next(cx: &mut Context<'_>) -> Result {
    let next = cx.argument_or("next", "/")?;
    if next.starts_with("//") || !next.starts_with('/') {
        return Err(HttpError::bad_request(format!(
            "next={next} is not a local path"
        )));
    }
    cx.redirect(next, false)
}

/// An `id` argument: a number, else 400.
fn parse_id(id: &str) -> Result<i64> {
    id.parse()
        .map_err(|_| HttpError::bad_request(format!("id={id} is not a number")))
}

/// `GET /`: the 5 newest entries.
#[derive(Default)]
struct HomeHandler;

impl RequestHandler for HomeHandler {
    async fn get_current_user(&mut self, cx: &mut Context<'_>) -> Result<Option<String>> {
        current_author(cx).await
    }

    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let entries = blog(cx)?.db.recent_entries(5).await?;
        if entries.is_empty() {
            return cx.redirect("/compose", false);
        }
        render(
            cx,
            "home.html",
            context! { entries => entry_values(entries) },
        )
    }
}

/// `GET /entry/<slug>`: one entry.
#[derive(Default)]
struct EntryHandler;

impl RequestHandler for EntryHandler {
    async fn get_current_user(&mut self, cx: &mut Context<'_>) -> Result<Option<String>> {
        current_author(cx).await
    }

    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let slug = cx.path_arg(0).unwrap_or_default();
        let entry = blog(cx)?.db.entry_by_slug(slug).await?;
        let entry = entry.ok_or_else(|| HttpError::new(404))?;
        render(cx, "entry.html", context! { entry => entry_value(entry) })
    }
}

/// `GET /archive`: every entry, titles and dates.
#[derive(Default)]
struct ArchiveHandler;

impl RequestHandler for ArchiveHandler {
    async fn get_current_user(&mut self, cx: &mut Context<'_>) -> Result<Option<String>> {
        current_author(cx).await
    }

    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let entries = blog(cx)?.db.all_entries().await?;
        render(
            cx,
            "archive.html",
            context! { entries => entry_values(entries) },
        )
    }
}

/// `GET /feed`: the 10 newest entries as an Atom feed.
#[derive(Default)]
struct FeedHandler;

impl RequestHandler for FeedHandler {
    async fn get_current_user(&mut self, cx: &mut Context<'_>) -> Result<Option<String>> {
        current_author(cx).await
    }

    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let entries = blog(cx)?.db.recent_entries(10).await?;
        let updated = match entries.iter().map(|e| e.updated).max() {
            Some(newest) => newest,
            None => chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now()).naive_utc(),
        };
        cx.set_header("Content-Type", "application/atom+xml")?;
        let values = context! {
            entries => entry_values(entries),
            updated => atom_date(updated),
        };
        render(cx, "feed.xml", values)
    }
}

/// `GET /compose` (`?id=` to edit) and `POST /compose` (`title`, `markdown`, `id`): write or
/// edit an entry. Logged-in authors only.
#[derive(Default)]
struct ComposeHandler;

impl RequestHandler for ComposeHandler {
    async fn get_current_user(&mut self, cx: &mut Context<'_>) -> Result<Option<String>> {
        current_author(cx).await
    }

    fn authenticated(&self, _method: &str) -> bool {
        true
    }

    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let entry = match cx.argument("id")? {
            Some(id) => {
                let found = blog(cx)?.db.entry_by_id(parse_id(id)?).await?;
                Some(entry_value(found.ok_or_else(|| HttpError::new(404))?))
            }
            None => None,
        };
        render(cx, "compose.html", context! { entry => entry })
    }

    async fn post(&mut self, cx: &mut Context<'_>) -> Result {
        let id = cx.argument("id")?.map(parse_id).transpose()?;
        let title = cx.required_argument("title")?;
        let markdown = cx.required_argument("markdown")?;
        let text = EntryText {
            title: title.to_owned(),
            markdown: markdown.to_owned(),
            html: markdown_to_html(markdown),
        };
        let db = &blog(cx)?.db;
        let slug = match id {
            Some(id) => {
                let entry = db.entry_by_id(id).await?;
                let entry = entry.ok_or_else(|| HttpError::new(404))?;
                db.update_entry(id, text).await?;
                entry.slug
            }
            None => {
                let mut slug = slug::slugify(title);
                while db.entry_by_slug(&slug).await?.is_some() {
                    slug.push_str("-2");
                }
                let author = cx.current_user().and_then(|id| id.parse().ok());
                let author = author.ok_or_else(|| HttpError::new(403))?;
                db.create_entry(author, &slug, text).await?;
                slug
            }
        };
        cx.redirect(&format!("/entry/{slug}"), false)
    }
}

/// Markdown to HTML (Tornado's demo: `markdown.markdown(text)`).
fn markdown_to_html(text: &str) -> String {
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new(text));
    html
}

/// `GET|POST /auth/create`: the author's account, while there is none.
#[derive(Default)]
struct AuthCreateHandler;

impl RequestHandler for AuthCreateHandler {
    async fn get_current_user(&mut self, cx: &mut Context<'_>) -> Result<Option<String>> {
        current_author(cx).await
    }

    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        render(cx, "create_author.html", context! {})
    }

    async fn post(&mut self, cx: &mut Context<'_>) -> Result {
        let blog = blog(cx)?;
        if blog.db.any_author_exists().await? {
            return Err(HttpError::bad_request("author already created"));
        }
        let password = cx.required_argument("password")?.to_owned();
        let email = cx.required_argument("email")?;
        let name = cx.required_argument("name")?;
        let cost = blog.bcrypt_cost;
        let hashed = reactor::run_in_executor(move || bcrypt::hash(password, cost)).await?;
        let hashed = hashed.map_err(HttpError::internal)?;
        let id = blog.db.create_author(email, name, &hashed).await?;
        cx.set_signed_cookie(USER_COOKIE, id.to_string())?;
        redirect_to_next(cx)
    }
}

/// `GET|POST /auth/login`: the login form; its errors are shown in it.
#[derive(Default)]
struct AuthLoginHandler;

impl RequestHandler for AuthLoginHandler {
    async fn get_current_user(&mut self, cx: &mut Context<'_>) -> Result<Option<String>> {
        current_author(cx).await
    }

    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        // With no author yet, there is nobody to log in as: make the account first.
        if !blog(cx)?.db.any_author_exists().await? {
            return cx.redirect("/auth/create", false);
        }
        render(cx, "login.html", context! { error => () })
    }

    async fn post(&mut self, cx: &mut Context<'_>) -> Result {
        let email = cx.required_argument("email")?;
        let Some(author) = blog(cx)?.db.author_by_email(email).await? else {
            return render(cx, "login.html", context! { error => "email not found" });
        };
        let password = cx.required_argument("password")?.to_owned();
        let hashed = author.hashed_password;
        let matches = reactor::run_in_executor(move || bcrypt::verify(password, &hashed)).await?;
        if matches.map_err(HttpError::internal)? {
            cx.set_signed_cookie(USER_COOKIE, author.id.to_string())?;
            redirect_to_next(cx)
        } else {
            render(cx, "login.html", context! { error => "incorrect password" })
        }
    }
}

/// `GET /auth/logout`: forgets the author.
#[derive(Default)]
struct AuthLogoutHandler;

impl RequestHandler for AuthLogoutHandler {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        cx.clear_cookie(USER_COOKIE)?;
        redirect_to_next(cx)
    }
}

/// The blog application on `blog`'s store, signing cookies with `cookie_secret`.
pub fn make_app(blog: Blog, cookie_secret: &str, debug: bool) -> Application {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/blog");
    let settings = Settings {
        cookie_secret: Some(web::CookieSecret::new(cookie_secret)),
        template_path: Some(format!("{dir}/templates").into()),
        static_path: Some(format!("{dir}/static").into()),
        xsrf_cookies: true,
        login_url: Some("/auth/login".to_owned()),
        debug,
        ..Settings::default()
    };
    let routes = vec![
        url::<HomeHandler>("/"),
        url::<ArchiveHandler>("/archive"),
        url::<FeedHandler>("/feed"),
        url::<EntryHandler>("/entry/([^/]+)"),
        url::<ComposeHandler>("/compose"),
        url::<AuthCreateHandler>("/auth/create"),
        url::<AuthLoginHandler>("/auth/login"),
        url::<AuthLogoutHandler>("/auth/logout"),
    ];
    Application::with_settings(routes, settings).with_state(blog)
}

#[allow(dead_code)] // the tests include this file and call `run`
fn main() -> std::io::Result<()> {
    run(std::env::args().skip(1))
}

/// The program: parses the command line (`args`, without the program's name), opens the
/// store, serves until killed.
pub fn run(args: impl IntoIterator<Item = String>) -> std::io::Result<()> {
    let env = env_logger::Env::default().default_filter_or("info");
    env_logger::Builder::from_env(env).init();
    let options = options::parse(args).unwrap_or_else(|why| {
        eprintln!("usage: blog [--port N] [--db sqlite:PATH|postgres://user:pass@host:port/db] [--db-pool N] [--db-driver sync|tokio] [--cookie-secret S] [--debug] ({why})");
        std::process::exit(2);
    });
    let db = Db::open(&options.db, options.db_pool, options.db_driver).unwrap_or_else(|e| {
        eprintln!("blog: {e}");
        std::process::exit(1);
    });
    let secret = match options.cookie_secret {
        Some(secret) => secret,
        None => options::random_secret()?,
    };
    let app = make_app(Blog::new(db), &secret, options.debug);
    let _server = app.listen(options.port)?;
    log::info!("blog demo on http://localhost:{}/", options.port);
    reactor::Reactor::current().run();
    Ok(())
}
