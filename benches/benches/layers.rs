//! One keep-alive request taken apart: the end-to-end figure (`GET /` through `web`, client
//! and server on one thread over loopback TCP) and, in the same run, the pieces it is made of,
//! each measured on its own, so that `benches/README.md` can set them side by side and check
//! that they add up ("Where the time of one request goes").
//!
//! The rows (per request unless said):
//! - `e2e_web`: the figure to explain (`e2e::ours` with `web`'s `Application`, as
//!   `web/e2e_keepalive/ours_web`);
//! - `syscalls`: the kernel floor: the same request and the web app's exact response
//!   (captured at start-up) over a loopback TCP pair with blocking sockets, 2 sends and 2
//!   reads, no poll loop (`e2e::raw_with`);
//! - `wake/task` minus `wake/send_read`: what it costs that a side waits in the reactor
//!   rather than in a blocking `read` (×2 per request: the server wakes, the client wakes):
//!   the send notifying the receiver's epoll set, the turn's `epoll_wait` returning the one
//!   ready socket, the dispatch to its `Registration`, the task woken and polled;
//!   `send_read` is the same one-byte send and read with no poller watching;
//! - `pipelined_16/{web,http1,raw}`, per batch of 16: where the syscalls are shared by 16
//!   requests, the user-space work of the layers shows: the bare `http1` delegate (iostream
//!   buffering, head parsing, the connection loop, the response head) minus the same bytes
//!   over blocking sockets, less its two wakes; `web` minus `http1` (routing, the handler,
//!   the response building);
//! - `parse_head`: our head parser on the request, a part of the above, for detail.
//!
//! Run: `cargo bench -p benches --bench layers`.

mod common;
mod e2e;

use std::hint::black_box;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::Duration;

use common::Clock;
use criterion::{criterion_group, criterion_main, Criterion};
use http1::parse::parse_request_head;
use http1::{HTTP1ConnectionParameters, HTTPServer};
use iostream::IOStream;
use reactor::{Reactor, Registration};

/// The exact bytes `e2e::web_app()` answers `e2e::REQUEST` with (its `Date` is of the moment; the
/// length, which is what the kernel sees, does not change).
fn web_response(r: &Reactor) -> Vec<u8> {
    r.block_on(async {
        let server = HTTPServer::new(e2e::web_app(), HTTP1ConnectionParameters::default());
        let addr = server.listen(0, Some("127.0.0.1")).unwrap()[0];
        let stream = IOStream::from_tcp(std::net::TcpStream::connect(addr).unwrap()).unwrap();
        stream.write(e2e::REQUEST).await.unwrap();
        let response = loop {
            let (have, len) = {
                let buf = stream.buffered();
                (buf.len(), e2e::response_len(&buf))
            };
            if let Some(len) = len {
                break stream.buffered()[..len].to_vec();
            }
            stream.fill(have + 1).await.unwrap();
        };
        server.stop();
        response
    })
}

/// A connected loopback TCP pair `(sender, receiver)`, Nagle off as in the e2e rows, the
/// receiver non-blocking.
fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let tx = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (rx, _) = listener.accept().unwrap();
    tx.set_nodelay(true).unwrap();
    rx.set_nodelay(true).unwrap();
    rx.set_nonblocking(true).unwrap();
    (tx, rx)
}

/// `iters` wake-ups of a spawned task by the reactor, the path every read of `iostream` waits
/// on: the task clears its `Registration`'s read flag (as a short read does), sends one byte
/// to the registered socket and waits; the send notifies the epoll set, the loop's turn
/// (`epoll_wait` returns the one ready socket) dispatches to the registration, which wakes the
/// task; polled again, it reads the byte.
fn wake_task(r: &Reactor, iters: u64) -> Duration {
    r.block_on(async move {
        reactor::spawn(async move {
            let (mut tx, rx) = tcp_pair();
            let reg = Registration::new(rx.as_raw_fd()).unwrap();
            let mut buf = [0u8; 64];
            let start = Clock::now();
            for _ in 0..iters {
                reg.clear_readable();
                tx.write_all(b"x").unwrap();
                reg.readable().await.unwrap();
                assert_eq!((&rx).read(&mut buf).unwrap(), 1);
            }
            let elapsed = Clock::now() - start;
            drop(reg);
            elapsed
        })
        .await
        .unwrap()
    })
}

/// The same send and read of one byte with no poller watching: subtracted from [`wake_task`].
fn send_read(iters: u64) -> Duration {
    let (mut tx, rx) = tcp_pair();
    let mut buf = [0u8; 64];
    let start = Clock::now();
    for _ in 0..iters {
        tx.write_all(b"x").unwrap();
        assert_eq!((&rx).read(&mut buf).unwrap(), 1);
    }
    Clock::now() - start
}

/// The group: the end-to-end row first, then its pieces, one process, one sitting.
fn layers(c: &mut Criterion<Clock>) {
    let mut g = c.benchmark_group("layers");
    // Rows are subtracted from one another: 3 s each (not 1 s) to steady the differences.
    g.measurement_time(Duration::from_secs(3));
    let r = Reactor::new().unwrap();
    let response = web_response(&r);
    assert!(response.starts_with(b"HTTP/1.1 200 OK\r\n"));

    g.bench_function("e2e_web", |b| {
        b.iter_custom(|n| e2e::ours(&r, e2e::web_app(), 1, n))
    });
    g.bench_function("syscalls", |b| {
        b.iter_custom(|n| e2e::raw_with(&response, 1, n))
    });
    g.bench_function("wake/task", |b| b.iter_custom(|n| wake_task(&r, n)));
    g.bench_function("wake/send_read", |b| b.iter_custom(send_read));
    g.bench_function("pipelined_16/web", |b| {
        b.iter_custom(|n| e2e::ours(&r, e2e::web_app(), 16, n))
    });
    g.bench_function("pipelined_16/http1", |b| {
        b.iter_custom(|n| e2e::ours(&r, e2e::Hello, 16, n))
    });
    g.bench_function("pipelined_16/raw", |b| {
        b.iter_custom(|n| e2e::raw_with(&response, 16, n))
    });
    let params = HTTP1ConnectionParameters::default();
    g.bench_function("parse_head", |b| {
        b.iter(|| {
            let (head, len) = parse_request_head(black_box(e2e::REQUEST), &params)
                .unwrap()
                .unwrap();
            black_box(&head);
            len
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = layers
}
criterion_main!(benches);
