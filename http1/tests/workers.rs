//! `http1::workers`: N threads, each with its own reactor, server and `SO_REUSEPORT` listener
//! on one port; shutdown drains them all.

use http1::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Answers `/` with the serving thread's name; `/sleep` after 300 ms on the reactor's timer.
struct App;
struct Msg {
    path: String,
}

impl HTTPServerConnectionDelegate for App {
    type Message = Msg;
    fn start_request(&self, _: &ConnectionContext) -> Msg {
        Msg {
            path: String::new(),
        }
    }
}

impl HTTPMessageDelegate for Msg {
    async fn headers_received(&mut self, head: &RequestHead<'_>, _: &mut HTTP1Connection<'_>) {
        self.path = head.path.to_owned();
    }
    async fn finish(&mut self, conn: &mut HTTP1Connection<'_>) {
        if self.path == "/sleep" {
            reactor::sleep(Duration::from_millis(300)).await;
        }
        let body = thread::current().name().unwrap_or("?").to_owned();
        let len = body.len().to_string();
        let mut headers = HeaderBlock::new();
        headers.push("Content-Type", "text/plain").unwrap();
        headers.push("Content-Length", len.as_str()).unwrap();
        let _ = conn
            .write_headers(ResponseStartLine::OK, &headers, Some(body.as_bytes()))
            .await;
        let _ = conn.finish().await;
    }
}

/// Starts `n` workers on a thread named `runner`; returns the address, a handle, and the
/// runner's join handle (with `run`'s result).
fn start(
    n: usize,
) -> (
    SocketAddr,
    WorkersHandle,
    thread::JoinHandle<std::io::Result<WorkersExit>>,
) {
    let (tx, rx) = mpsc::channel();
    let runner = thread::Builder::new()
        .name("runner".into())
        .spawn(move || {
            let workers = http1::workers(n)
                .signals(&[])
                .shutdown_timeout(Duration::from_secs(5))
                .listen(0, Some("127.0.0.1"))
                .unwrap();
            tx.send((workers.local_addrs()[0], workers.handle()))
                .unwrap();
            workers.run(|_| HTTPServer::new(App, HTTP1ConnectionParameters::default()))
        })
        .unwrap();
    let (addr, handle) = rx.recv().unwrap();
    (addr, handle, runner)
}

/// Sends `GET path` on a new connection (`Connection: close`); returns the body.
fn get(addr: SocketAddr, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    read_body(&mut s)
}

fn read_body(s: &mut TcpStream) -> String {
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200 "), "{out:?}");
    out.split_once("\r\n\r\n").unwrap().1.to_owned()
}

#[test]
fn two_workers_share_one_port_and_the_kernel_spreads_connections() {
    let (addr, handle, runner) = start(2);
    let mut seen = std::collections::BTreeMap::new();
    for _ in 0..64 {
        *seen.entry(get(addr, "/")).or_insert(0) += 1;
    }
    handle.shutdown();
    let exit = runner.join().unwrap().unwrap();
    assert!(exit.drained && exit.signal.is_none(), "{exit:?}");
    // 64 connections from distinct source ports all hashed to one socket: 2^-63.
    let names: Vec<_> = seen.keys().cloned().collect();
    assert_eq!(names, ["worker-0", "worker-1"], "{seen:?}");
    // The listeners are closed: the port no longer accepts.
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn shutdown_drains_the_requests_in_flight_on_every_worker() {
    let (addr, handle, runner) = start(2);
    let mut conns: Vec<TcpStream> = (0..16)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            s.write_all(b"GET /sleep HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            s
        })
        .collect();
    // An idle keep-alive connection too: it is closed at the drain, not waited for.
    let idle = TcpStream::connect(addr).unwrap();
    thread::sleep(Duration::from_millis(100));
    let t0 = Instant::now();
    handle.shutdown();
    let mut workers = std::collections::BTreeSet::new();
    for s in &mut conns {
        // Served to the end, with `Connection: close` (draining) or closed after it.
        workers.insert(read_body(s));
    }
    let exit = runner.join().unwrap().unwrap();
    assert!(exit.drained, "{exit:?}");
    assert_eq!(exit.open_at_shutdown, 17, "{exit:?}");
    assert_eq!(workers.len(), 2, "both workers had requests in flight");
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    drop(idle);
}

#[test]
fn one_worker_runs_in_the_callers_thread() {
    let (addr, handle, runner) = start(1);
    assert_eq!(get(addr, "/"), "runner");
    handle.shutdown();
    let exit = runner.join().unwrap().unwrap();
    assert!(exit.drained, "{exit:?}");
}

#[test]
fn a_worker_that_fails_to_start_is_an_error_and_the_others_stop() {
    let workers = http1::workers(3)
        .signals(&[])
        .listen(0, Some("127.0.0.1"))
        .unwrap();
    let addr = workers.local_addrs()[0];
    let t0 = Instant::now();
    let err = workers
        .run(|w| {
            if w.index == 2 {
                panic!("no database for worker {}", w.index);
            }
            HTTPServer::new(App, HTTP1ConnectionParameters::default())
        })
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("worker 2 panicked: no database for worker 2"),
        "{err}"
    );
    assert!(t0.elapsed() < Duration::from_secs(2));
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn a_taken_port_is_an_error_before_any_thread_starts() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let err = http1::workers(2)
        .listen(port, Some("127.0.0.1"))
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse, "{err}");
}
