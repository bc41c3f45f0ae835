//! A real tokio-only client through the bridge: `tokio-postgres` against a real PostgreSQL
//! server (a throwaway cluster from `testkit::postgres`), from `web` handlers on our loop:
//! create a table, insert, select, with the queries on the runtime (`Bridge::run`) and polled
//! on our loop (`Bridge::run_here`); a slow query does not stall the other requests; the
//! server going away makes the handlers answer 503 at once (errors, not hangs or panics) while
//! the rest of the application serves on.
//!
//! Prints "skipped: PostgreSQL missing (...)" and passes when no server can be started.

use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http1::client::{HTTPClient, HTTPRequest};
use http1::HTTPServer;
use reactor::Reactor;
use tokio_bridge::Bridge;
use tokio_postgres::{Client, NoTls};
use web::{url, Application, Context, HttpError, RequestHandler, Result};

/// The application's state: the bridge and two clients (each pipelines queries): one whose
/// queries and connection task run on the runtime (`Bridge::run`), one polled on our loop
/// (`Bridge::run_here`).
struct Db {
    bridge: Bridge,
    client: Arc<Client>,
    here: Rc<Client>,
}

impl Db {
    /// Runs `query(client)` on the runtime; a driver error is a 503, a lost task a 500.
    async fn with<T, F, Fut>(&self, query: F) -> Result<T>
    where
        F: FnOnce(Arc<Client>) -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, tokio_postgres::Error>>
            + Send
            + 'static,
        T: Send + 'static,
    {
        self.bridge
            .run(query(self.client.clone()))
            .await
            .map_err(HttpError::internal)?
            .map_err(|e| HttpError::with_log(503, format!("database: {e}")))
    }
}

/// `POST /setup`: creates the table.
#[derive(Default)]
struct Setup;

impl RequestHandler for Setup {
    async fn post(&mut self, cx: &mut Context<'_>) -> Result {
        let db = cx.state::<Db>()?;
        db.with(|c| async move {
            c.batch_execute(
                "CREATE TABLE IF NOT EXISTS entries (id SERIAL PRIMARY KEY, title TEXT NOT NULL)",
            )
            .await
        })
        .await?;
        cx.write("ok");
        Ok(())
    }
}

/// `GET /entries`: the titles, newest first; `POST /entries?title=...`: adds one.
#[derive(Default)]
struct Entries;

impl RequestHandler for Entries {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let db = cx.state::<Db>()?;
        let rows = db
            .with(|c| async move {
                c.query(
                    "SELECT id, title FROM entries ORDER BY id DESC LIMIT 10",
                    &[],
                )
                .await
            })
            .await?;
        for row in rows {
            let (id, title): (i32, String) = (row.get(0), row.get(1));
            cx.write(format!("{id} {title}\n"));
        }
        Ok(())
    }

    async fn post(&mut self, cx: &mut Context<'_>) -> Result {
        let title = cx.get_argument("title", None)?.to_string();
        let db = cx.state::<Db>()?;
        let id: i32 = db
            .with(|c| async move {
                let row = c
                    .query_one(
                        "INSERT INTO entries (title) VALUES ($1) RETURNING id",
                        &[&title],
                    )
                    .await?;
                Ok(row.get(0))
            })
            .await?;
        cx.write(id.to_string());
        Ok(())
    }
}

/// `GET /here`: the same select as `GET /entries`, polled on our loop (`run_here`).
#[derive(Default)]
struct Here;

impl RequestHandler for Here {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let db = cx.state::<Db>()?;
        let rows = db
            .bridge
            .run_here(db.here.query(
                "SELECT id, title FROM entries ORDER BY id DESC LIMIT 10",
                &[],
            ))
            .await
            .map_err(|e| HttpError::with_log(503, format!("database: {e}")))?;
        for row in rows {
            let (id, title): (i32, String) = (row.get(0), row.get(1));
            cx.write(format!("{id} {title}\n"));
        }
        Ok(())
    }
}

/// `GET /slow`: a query that takes half a second on the server.
#[derive(Default)]
struct Slow;

impl RequestHandler for Slow {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let db = cx.state::<Db>()?;
        db.with(|c| async move { c.batch_execute("SELECT pg_sleep(0.5)").await })
            .await?;
        cx.write("slept");
        Ok(())
    }
}

/// `GET /health`: no database.
#[derive(Default)]
struct Health;

impl RequestHandler for Health {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        cx.write("alive");
        Ok(())
    }
}

async fn fetch(port: u16, method: &str, path: &str) -> (u16, String) {
    let req = HTTPRequest::new(format!("http://127.0.0.1:{port}{path}"))
        .method(method.to_string())
        .raise_error(false);
    let req = if method == "POST" { req.body("") } else { req };
    let response = HTTPClient::new().fetch(req).await.unwrap();
    (response.code, response.text().into_owned())
}

#[test]
fn tokio_postgres_from_web_handlers_through_the_bridge() {
    let Some(pg) = testkit::postgres::Postgres::start() else {
        return;
    };
    let bridge = Bridge::new().unwrap();
    let pg_url = pg.url();
    Reactor::new().unwrap().block_on(async {
        // Connect on the runtime; the driver's connection task stays there.
        let client = bridge
            .run(async move {
                let (client, connection) = tokio_postgres::connect(&pg_url, NoTls).await?;
                tokio::spawn(connection);
                Ok::<_, tokio_postgres::Error>(client)
            })
            .await
            .unwrap()
            .expect("connect to the throwaway cluster");
        // The other client: connected, and its connection task run, on our loop.
        let (here, connection) = bridge
            .run_here(tokio_postgres::connect(&pg.url(), NoTls))
            .await
            .expect("connect on our loop");
        reactor::spawn(bridge.run_here(connection));
        let app = Application::new(vec![
            url::<Setup>("/setup"),
            url::<Entries>("/entries"),
            url::<Here>("/here"),
            url::<Slow>("/slow"),
            url::<Health>("/health"),
        ])
        .with_state(Db {
            bridge: bridge.clone(),
            client: Arc::new(client),
            here: Rc::new(here),
        });
        let server = HTTPServer::new(app, Default::default());
        let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();

        assert_eq!(fetch(port, "POST", "/setup").await, (200, "ok".into()));
        for i in 1..=12 {
            let (code, id) = fetch(port, "POST", &format!("/entries?title=entry+{i}")).await;
            assert_eq!((code, id), (200, i.to_string()));
        }
        let (code, body) = fetch(port, "GET", "/entries").await;
        assert_eq!(code, 200);
        let expected: String = (3..=12).rev().map(|i| format!("{i} entry {i}\n")).collect();
        assert_eq!(body, expected, "the 10 newest, newest first");
        assert_eq!(fetch(port, "GET", "/here").await, (200, expected));

        // A slow query does not stall the loop: other requests, database ones included
        // (tokio-postgres pipelines them on the same connection), answer meanwhile.
        let started = Instant::now();
        let slow = reactor::spawn(fetch(port, "GET", "/slow"));
        reactor::sleep(Duration::from_millis(50)).await;
        assert_eq!(fetch(port, "GET", "/health").await.0, 200);
        let health_at = started.elapsed();
        assert_eq!(slow.await.unwrap(), (200, "slept".into()));
        assert!(
            health_at < Duration::from_millis(400),
            "/health waited for the slow query ({health_at:?})"
        );

        // The database goes away: the handlers answer 503 (not a hang, not a panic), and
        // the application goes on serving.
        pg.stop();
        let down = reactor::timeout(Duration::from_secs(10), fetch(port, "GET", "/entries"))
            .await
            .expect("a request to a stopped database hung");
        assert_eq!(down.0, 503, "{down:?}");
        let again = reactor::timeout(
            Duration::from_secs(10),
            fetch(port, "POST", "/entries?title=x"),
        )
        .await
        .expect("a second request hung");
        assert_eq!(again.0, 503, "{again:?}");
        let here = reactor::timeout(Duration::from_secs(10), fetch(port, "GET", "/here"))
            .await
            .expect("a request polled on our loop hung");
        assert_eq!(here.0, 503, "{here:?}");
        assert_eq!(fetch(port, "GET", "/health").await, (200, "alive".into()));
    });
}
