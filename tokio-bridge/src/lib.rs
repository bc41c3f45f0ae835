//! Tokio-only crates from handlers on our loop: a tokio runtime on helper threads, its
//! futures awaited on the [`reactor`].
//!
//! Much of the async ecosystem (database drivers such as `tokio-postgres`, HTTP and gRPC
//! clients, message queues) only runs inside a tokio runtime: it registers its sockets with
//! tokio's I/O driver and its timers with tokio's clock. Our loop is not tokio, and `reactor`
//! stays on `libc` + `slab`; this crate sits beside `iostream`, `http1` and `web`, above
//! `reactor`, and applications use it when they need such a crate:
//!
//! * [`Bridge`] (`bridge.rs`) owns a tokio runtime on helper threads (one by default).
//! * [`Bridge::run`] spawns a `Send` future there and returns a [`Bridged`] future
//!   (`bridged.rs`) to await on our loop: the output comes back through tokio's `JoinHandle`,
//!   whose wake-up reaches our loop through the reactor's thread-safe waker (the remote queue
//!   and its eventfd). A panic there is a [`BridgeError::Panicked`] here; dropping the
//!   `Bridged` future aborts the tokio task; [`Bridge::spawn`] runs a future there on its own
//!   (a driver's connection task).
//!
//! A handler that queries PostgreSQL with `tokio-postgres`; the client is `Send + Sync`, so an
//! `Arc` of it goes into each bridged future (`tests/postgres.rs` runs this against a real
//! server):
//!
//! ```no_run
//! use std::sync::Arc;
//! use tokio_bridge::Bridge;
//! use web::{Context, HttpError, RequestHandler, Result};
//!
//! struct Db {
//!     bridge: Bridge,
//!     client: Arc<tokio_postgres::Client>,
//! }
//!
//! #[derive(Default)]
//! struct Titles;
//!
//! impl RequestHandler for Titles {
//!     async fn get(&mut self, cx: &mut Context<'_>) -> Result {
//!         let db = cx.state::<Db>()?;
//!         let client = db.client.clone();
//!         let rows = db
//!             .bridge
//!             .run(async move { client.query("SELECT title FROM entries", &[]).await })
//!             .await
//!             .map_err(HttpError::internal)? // the task panicked or was cancelled: 500
//!             .map_err(|e| HttpError::with_log(503, e.to_string()))?; // the database failed
//!         for row in rows {
//!             cx.write(row.get::<_, String>(0) + "\n");
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let bridge = Bridge::new().unwrap();
//! let client = reactor::Reactor::current()
//!     .block_on(bridge.run(async {
//!         let (client, connection) =
//!             tokio_postgres::connect("host=127.0.0.1 user=postgres", tokio_postgres::NoTls).await?;
//!         tokio::spawn(connection); // the driver's connection task, on the runtime
//!         Ok::<_, tokio_postgres::Error>(client)
//!     }))
//!     .unwrap()
//!     .unwrap();
//! let app = web::Application::new(vec![web::url::<Titles>("/")])
//!     .with_state(Db { bridge, client: Arc::new(client) });
//! let _server = app.listen(8888).unwrap();
//! reactor::Reactor::current().run();
//! ```
//!
//! # Why not `async-compat`
//!
//! `async-compat` (smol's answer) polls the tokio future on *our* thread, inside a tokio
//! context it enters around each poll, with a tokio runtime on a thread of its own driving the
//! sockets and timers. Its advantages are real: the future need not be `Send` and there is no
//! task spawn per call. We run the future on the runtime's thread instead, for three reasons:
//! * **Wake-ups cross threads either way.** Under `async-compat` the socket of the driver is
//!   registered with tokio's I/O driver on the other thread, so every readiness event wakes
//!   our task from there, through the same remote queue and eventfd as a `Bridged` future's
//!   completion: no wake-up is saved, only moved.
//! * **The loop does less.** On the runtime thread, the driver's work (protocol encoding and
//!   parsing, its connection task) costs the loop nothing: the loop polls a `JoinHandle` and
//!   takes the output. Under `async-compat` that CPU is the loop's, between requests.
//! * **No surprises from tokio's thread-locals.** A driver that `tokio::spawn`s (as
//!   `tokio-postgres` users do with the connection) or uses `block_in_place` needs a real
//!   runtime task; on the runtime thread it is one. Under `async-compat` a `tokio::spawn`
//!   lands on the compat runtime, a different thread from the future that spawned it.
//!
//! Measured side by side (`cargo run --release -p benches --bin pg_bridge`, PostgreSQL 15 on
//! loopback, 10-row query, 4 connections): see `benches/README.md`, "tokio-postgres through
//! the bridge".
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod bridge;
mod bridged;

pub use crate::bridge::Bridge;
pub use crate::bridged::{BridgeError, Bridged};
