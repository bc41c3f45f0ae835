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
//! * [`Bridge::run_here`] polls a future (`Send` or not) on our loop with the runtime's
//!   context entered ([`RunHere`], `here.rs`): the runtime's thread only drives its sockets and
//!   timers. Cheaper per call for I/O-bound clients; see below.
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
//! # `async-compat`'s way, on the bridge's runtime
//!
//! `async-compat` (smol's answer) polls a tokio future on *our* thread, inside the context of
//! a tokio runtime of its own (a global current-thread runtime on a thread it starts), which
//! drives the sockets and timers. [`Bridge::run`] instead runs the future on the runtime's
//! thread. Measured side by side (`cargo run --release -p benches --example pg_bridge`: the
//! blog's 10-row query, `tokio-postgres`, 4 connections, PostgreSQL 15 on loopback; CPU of the
//! whole process per query; medians of 3 rounds on the 2-core development VM, preliminary):
//!
//! | way | 4 in flight | 16 in flight |
//! |---|---|---|
//! | directly on a tokio runtime (the reference) | 12.0 µs | 8.3 µs |
//! | [`Bridge::run`]: on the runtime's thread | 20.9 µs, 69 % of its queries/s | 13.0 µs, 68 % |
//! | [`Bridge::run_here`]: polled on our loop | 16.7 µs, 71 % | 8.5 µs, 97 % |
//! | `async_compat::Compat` on our loop | 20.7 µs, 67 % | 9.3 µs, 85 % |
//! | sync `postgres` on `reactor::run_in_executor` | 24.4 µs, 71 % | 21.1 µs, 53 % |
//!
//! `run` pays two thread hops per call: the spawn wakes a runtime thread, and the output wakes
//! our loop. Polled on our loop (the driver's connection task too), a query's socket write
//! happens here, and only the readiness of its answer comes from the runtime thread: one hop,
//! and with several queries in flight one wake-up serves many. So the bridge offers both:
//! * [`Bridge::run_here`] is `async-compat`'s way, built on the bridge's own runtime (about
//!   forty lines, `here.rs`) rather than on the crate: one runtime in the process instead of
//!   two, no second set of threads, no dependency for what the bridge already has. Use it for
//!   I/O-bound clients (a database driver); its future need not be `Send`.
//! * [`Bridge::run`] keeps the future's CPU off our loop, and works from any thread: use it for
//!   CPU-heavy futures, or `Send` work that should not share the loop's thread.
//!
//! At one query in flight per connection each answer still wakes two threads (tokio's I/O
//! thread, then our loop through the eventfd) where tokio alone wakes one: the price of keeping
//! tokio's driver off our loop, which bounds the rate by the round trip's latency. Since the
//! reactor skips the eventfd write while its loop is awake (`reactor/src/remote.rs`),
//! `run_here` costs 2-5 µs less CPU per query and measured 82-86 % of tokio's rate at 4 in
//! flight, 95-103 % at 16 (a re-run on a busy machine, preliminary). Figures and their noise:
//! `benches/README.md`, "tokio-postgres from our loop". The blog demo's `--db-driver tokio`
//! (`web/examples/blog/postgres_tokio.rs`) is this way, and its default.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod bridge;
mod bridged;
mod here;

pub use crate::bridge::Bridge;
pub use crate::bridged::{BridgeError, Bridged};
pub use crate::here::RunHere;
