//! After warm-up, keep-alive requests whose delegate waits before answering (its `finish`
//! returns `Pending` once, so the connection watches its fd for the client leaving meanwhile:
//! `IOStream::watch_close`) make 0 heap allocations, as the hello path does (`alloc.rs`).
//!
//! Its own test binary, because it installs a counting global allocator.

use http1::*;
use std::io::{Read, Write};
use std::time::Duration;

#[global_allocator]
static GLOBAL: testkit::alloc::Counting = testkit::alloc::Counting;

/// A hello delegate that waits one loop turn (as a long poll would, shortly) before answering.
struct WaitingHello;
struct WaitingMessage;

static HEADERS: HeaderBlock =
    HeaderBlock::from_lines("Content-Type: text/plain\r\nContent-Length: 13\r\n");

impl HTTPServerConnectionDelegate for WaitingHello {
    type Message = WaitingMessage;
    fn start_request(&self, _: &ConnectionContext) -> WaitingMessage {
        WaitingMessage
    }
}

thread_local! {
    static WAITED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

impl HTTPMessageDelegate for WaitingMessage {
    async fn headers_received(&mut self, _: &RequestHead<'_>, _: &mut HTTP1Connection<'_>) {}
    async fn finish(&mut self, conn: &mut HTTP1Connection<'_>) {
        reactor::yield_now().await;
        WAITED.with(|w| w.set(w.get() + 1));
        let _ = conn
            .write_response(ResponseStartLine::OK, &HEADERS, b"Hello, World!")
            .await;
    }
}

#[test]
fn keep_alive_requests_whose_delegate_waits_allocate_nothing() {
    let (tx, rx) = std::sync::mpsc::channel();
    let (wtx, wrx) = std::sync::mpsc::channel();
    let server = std::thread::spawn(move || {
        let reactor = reactor::Reactor::new().unwrap();
        let (server, port) = reactor.block_on(async {
            let server = HTTPServer::new(WaitingHello, HTTP1ConnectionParameters::default());
            let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
            (server, port)
        });
        tx.send((port, reactor.remote())).unwrap();
        reactor.run();
        server.stop();
        wtx.send(WAITED.with(|w| w.get())).unwrap();
    });
    let (port, remote) = rx.recv().unwrap();

    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    const REQUEST: &[u8] = b"GET /wait HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let mut buf = [0u8; 512];
    s.write_all(REQUEST).unwrap();
    let mut len = 0;
    while !buf[..len].ends_with(b"Hello, World!") {
        len += s.read(&mut buf[len..]).unwrap();
    }
    let response_len = len;
    let mut one_request = |buf: &mut [u8; 512]| {
        s.write_all(REQUEST).unwrap();
        s.read_exact(&mut buf[..response_len]).unwrap();
    };
    // Warm up past a Date tick, as alloc.rs does.
    let warm_up = std::time::Instant::now();
    while warm_up.elapsed() < Duration::from_millis(1200) {
        for _ in 0..100 {
            one_request(&mut buf);
        }
    }
    let before = testkit::alloc::allocations();
    let requests = 5_000;
    for _ in 0..requests {
        one_request(&mut buf);
    }
    let allocations = testkit::alloc::allocations() - before;
    assert!(buf[..response_len].ends_with(b"\r\n\r\nHello, World!"));
    println!("allocations during {requests} waiting keep-alive requests: {allocations}");
    assert_eq!(allocations, 0, "heap allocations with the watch running");
    remote.stop();
    server.join().unwrap();
    assert!(wrx.recv().unwrap() >= requests, "the delegate did not wait");
}
