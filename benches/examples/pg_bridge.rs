//! The bridge's overhead, measured: one PostgreSQL query, the blog's front page
//! (`SELECT id, title FROM entries ORDER BY id DESC LIMIT 10` on a table of 10 rows), issued
//! five ways from one process against the same server, side by side, round after round:
//!
//! * `run`: `tokio-postgres` through `tokio_bridge::Bridge::run` from tasks on our loop (the
//!   query and the driver's connection task on the bridge's runtime thread);
//! * `run_here`: `tokio-postgres` polled on our loop through `Bridge::run_here` (the query and
//!   the connection task on our loop, the bridge's runtime driving the sockets);
//! * `tokio`: `tokio-postgres` directly on a tokio runtime (multi-thread, one worker: the
//!   bridge's runtime, without the hop from and back to our loop) — the reference;
//! * `executor`: the sync `postgres` crate through `reactor::run_in_executor` (one pool thread
//!   per connection);
//! * `compat`: `tokio-postgres` polled on our loop through `async_compat::Compat`.
//!
//! Each way gets a pool of 4 connections, each with the query prepared once, and keeps
//! `CONC` queries in flight (each task awaits one query, then issues the next) for `SECS`
//! seconds. Reported per way: queries per second, and this process's CPU time (user + system,
//! every thread: our loop, the runtime's workers, the pool's threads) per query. The server's
//! CPU is not in it (its processes are not ours); it does the same work whichever way asks.
//!
//! ```sh
//! cargo run --release -p benches --example pg_bridge             # 2 s per row, 3 rounds
//! cargo run --release -p benches --example pg_bridge -- 1 1      # SECS ROUNDS: a smoke run
//! PG_URL=postgres://user@host:port/db cargo run ... -- 2 3       # an existing server
//! ```
//! Without `PG_URL` it starts a throwaway cluster (`testkit::postgres`), or says
//! "skipped: PostgreSQL missing".

use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_compat::Compat;
use reactor::Reactor;
use tokio_bridge::Bridge;

/// The blog's front-page query.
const SQL: &str = "SELECT id, title FROM entries ORDER BY id DESC LIMIT 10";
/// Connections per way.
const POOL: usize = 4;
/// Queries in flight.
const CONCURRENCY: [usize; 2] = [4, 16];

/// One row of the query, decoded as a handler would.
type Entry = (i32, String);

/// What one way did in its window.
#[derive(Clone, Copy)]
struct Sample {
    queries: u64,
    wall: Duration,
    cpu: Duration,
}

impl Sample {
    fn qps(&self) -> f64 {
        self.queries as f64 / self.wall.as_secs_f64()
    }

    fn cpu_per_query_us(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.queries.max(1) as f64
    }
}

/// This process's CPU time so far (user + system, all threads).
fn process_cpu() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::uninit();
    // SAFETY: getrusage writes a whole `rusage` into the pointer it is given, which points at
    // enough space for one; RUSAGE_SELF is always valid, so it cannot fail.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Times a window: from `start` to `stop`, wall and CPU.
struct Meter {
    wall: Instant,
    cpu: Duration,
}

impl Meter {
    fn start() -> Meter {
        Meter {
            wall: Instant::now(),
            cpu: process_cpu(),
        }
    }

    fn stop(self, queries: u64) -> Sample {
        Sample {
            queries,
            wall: self.wall.elapsed(),
            cpu: process_cpu() - self.cpu,
        }
    }
}

/// Keeps `conc` queries in flight on our loop for `window`: task `k` awaits `query(k)` (the
/// rows it returned, 10 each) and issues the next until the window ends.
async fn measure_on_our_loop<F, Q>(conc: usize, window: Duration, query: F) -> Sample
where
    F: Fn(usize) -> Q + 'static,
    Q: std::future::Future<Output = Vec<Entry>> + 'static,
{
    let query = Rc::new(query);
    let meter = Meter::start();
    let deadline = Instant::now() + window;
    let tasks: Vec<_> = (0..conc)
        .map(|k| {
            let query = query.clone();
            reactor::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    assert_eq!(query(k).await.len(), 10);
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut queries = 0;
    for t in tasks {
        queries += t.await.unwrap();
    }
    meter.stop(queries)
}

/// The query on a tokio-postgres connection, rows decoded.
async fn entries(client: &tokio_postgres::Client, stmt: &tokio_postgres::Statement) -> Vec<Entry> {
    let rows = client.query(stmt, &[]).await.expect("query");
    rows.iter().map(|r| (r.get(0), r.get(1))).collect()
}

/// A tokio-postgres connection with the query prepared; its connection task is spawned on
/// the current tokio runtime.
async fn tokio_connection(url: String) -> Arc<(tokio_postgres::Client, tokio_postgres::Statement)> {
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    let stmt = client.prepare(SQL).await.expect("prepare");
    Arc::new((client, stmt))
}

/// `run`: tasks on our loop, each query a `Bridge::run`.
fn via_bridge(url: &str, conc: usize, window: Duration) -> Sample {
    let bridge = Bridge::new().unwrap();
    Reactor::new().unwrap().block_on(async {
        let mut pool = Vec::new();
        for _ in 0..POOL {
            pool.push(bridge.run(tokio_connection(url.to_owned())).await.unwrap());
        }
        measure_on_our_loop(conc, window, move |k| {
            let (conn, bridge) = (pool[k % POOL].clone(), bridge.clone());
            async move {
                let rows = bridge.run(async move { entries(&conn.0, &conn.1).await });
                rows.await.unwrap()
            }
        })
        .await
    })
}

/// `tokio`: the same tasks as tokio tasks on a runtime like the bridge's.
fn on_tokio(url: &str, conc: usize, window: Duration) -> Sample {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut pool = Vec::new();
        for _ in 0..POOL {
            pool.push(tokio_connection(url.to_owned()).await);
        }
        let meter = Meter::start();
        let deadline = Instant::now() + window;
        let tasks: Vec<_> = (0..conc)
            .map(|k| {
                let conn = pool[k % POOL].clone();
                tokio::spawn(async move {
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        assert_eq!(entries(&conn.0, &conn.1).await.len(), 10);
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        let mut queries = 0;
        for t in tasks {
            queries += t.await.unwrap();
        }
        meter.stop(queries)
    })
}

/// `executor`: the sync driver on `run_in_executor`, one pool thread per connection.
fn via_executor(url: &str, conc: usize, window: Duration) -> Sample {
    reactor::BlockingPool::set_max_threads(POOL);
    let mut conns = Vec::new();
    for _ in 0..POOL {
        let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
        let stmt = client.prepare(SQL).expect("prepare");
        conns.push((client, stmt));
    }
    // As many connections as pool threads: a job always finds one free.
    let pool = Arc::new(Mutex::new(conns));
    Reactor::new().unwrap().block_on(async {
        measure_on_our_loop(conc, window, move |_| {
            let pool = pool.clone();
            async move {
                reactor::run_in_executor(move || {
                    let (mut client, stmt) = pool.lock().unwrap().pop().unwrap();
                    let rows: Vec<Entry> = client
                        .query(&stmt, &[])
                        .expect("query")
                        .iter()
                        .map(|r| (r.get(0), r.get(1)))
                        .collect();
                    pool.lock().unwrap().push((client, stmt));
                    rows
                })
                .await
                .unwrap()
            }
        })
        .await
    })
}

/// `compat`: tokio-postgres polled on our loop inside `Compat` (its connection task too).
fn via_compat(url: &str, conc: usize, window: Duration) -> Sample {
    Reactor::new().unwrap().block_on(async {
        let mut pool = Vec::new();
        for _ in 0..POOL {
            let (client, connection) =
                Compat::new(tokio_postgres::connect(url, tokio_postgres::NoTls))
                    .await
                    .expect("connect");
            reactor::spawn(Compat::new(connection));
            let stmt = Compat::new(client.prepare(SQL)).await.expect("prepare");
            pool.push(Rc::new((client, stmt)));
        }
        measure_on_our_loop(conc, window, move |k| {
            let conn = pool[k % POOL].clone();
            async move { Compat::new(entries(&conn.0, &conn.1)).await }
        })
        .await
    })
}

/// `here`: tokio-postgres polled on our loop with `Bridge::run_here` (its connection task
/// too), the bridge's runtime driving the sockets.
fn via_run_here(url: &str, conc: usize, window: Duration) -> Sample {
    let bridge = Bridge::new().unwrap();
    Reactor::new().unwrap().block_on(async {
        let mut pool = Vec::new();
        for _ in 0..POOL {
            let (client, connection) = bridge
                .run_here(tokio_postgres::connect(url, tokio_postgres::NoTls))
                .await
                .expect("connect");
            reactor::spawn(bridge.run_here(connection));
            let stmt = bridge.run_here(client.prepare(SQL)).await.expect("prepare");
            pool.push(Rc::new((client, stmt)));
        }
        measure_on_our_loop(conc, window, move |k| {
            let (conn, bridge) = (pool[k % POOL].clone(), bridge.clone());
            async move { bridge.run_here(entries(&conn.0, &conn.1)).await }
        })
        .await
    })
}

/// One way of issuing the queries: `(url, queries in flight, window)`.
type Way = fn(&str, usize, Duration) -> Sample;

/// The ways, in the order each round runs them.
const WAYS: [(&str, Way); 5] = [
    ("run", via_bridge),
    ("run_here", via_run_here),
    ("tokio", on_tokio),
    ("executor", via_executor),
    ("compat", via_compat),
];

/// Makes the table and its 10 rows.
fn prepare_data(url: &str) {
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    client
        .batch_execute(
            "DROP TABLE IF EXISTS entries;
             CREATE TABLE entries (id SERIAL PRIMARY KEY, title TEXT NOT NULL);
             INSERT INTO entries (title) SELECT 'Entry number ' || n FROM generate_series(1, 10) n;",
        )
        .expect("create the table");
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let secs: f64 = args.next().map_or(2.0, |s| s.parse().expect("SECS"));
    let rounds: usize = args.next().map_or(3, |s| s.parse().expect("ROUNDS"));
    let window = Duration::from_secs_f64(secs);

    let mut _cluster = None;
    let url = match std::env::var("PG_URL") {
        Ok(url) => url,
        Err(_) => match testkit::postgres::Postgres::start() {
            Some(pg) => {
                let url = pg.url();
                _cluster = Some(pg);
                url
            }
            None => return, // "skipped: PostgreSQL missing (...)" printed
        },
    };
    prepare_data(&url);
    println!(
        "{SQL}\n10 rows, {POOL} connections per way, {secs} s per row, {rounds} round(s); \
         CPU = this process, all threads\n"
    );
    for conc in CONCURRENCY {
        let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); WAYS.len()];
        for round in 1..=rounds {
            for (i, &(name, way)) in WAYS.iter().enumerate() {
                let url = url.clone();
                // Each way on a fresh thread: its own loop or runtime, nothing left behind.
                let s = std::thread::spawn(move || way(&url, conc, window))
                    .join()
                    .unwrap();
                println!(
                    "  round {round}  {conc:>2} in flight  {name:<9} {:>8.0} queries/s  {:>6.1} µs CPU/query",
                    s.qps(),
                    s.cpu_per_query_us()
                );
                samples[i].push(s);
            }
        }
        let reference = median(samples[2].iter().map(Sample::qps).collect());
        println!("\n{conc} in flight, median of {rounds}:");
        println!("  way        queries/s   vs tokio   µs CPU/query");
        for (i, (name, _)) in WAYS.iter().enumerate() {
            let qps = median(samples[i].iter().map(Sample::qps).collect());
            let cpu = median(samples[i].iter().map(Sample::cpu_per_query_us).collect());
            println!(
                "  {name:<9} {qps:>10.0}   {:>7.0} %   {cpu:>8.1}",
                100.0 * qps / reference
            );
        }
        println!();
    }
}
