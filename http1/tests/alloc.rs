//! After warm-up, 10,000 keep-alive requests on one connection through the hello delegate
//! make 0 heap allocations (server and client together: the whole process is counted), and
//! so do 200 batches of 64 pipelined requests.
//!
//! Its own test binary, because it installs a counting global allocator.

use http1::*;
use std::io::{Read, Write};
use std::time::Duration;

#[global_allocator]
static GLOBAL: testkit::alloc::Counting = testkit::alloc::Counting;

/// The `hello` example's delegate.
struct Hello;
struct HelloMessage;

static HEADERS: HeaderBlock =
    HeaderBlock::from_lines("Content-Type: text/plain\r\nContent-Length: 13\r\n");

impl HTTPServerConnectionDelegate for Hello {
    type Message = HelloMessage;
    fn start_request(&self, _: &ConnectionContext) -> HelloMessage {
        HelloMessage
    }
}

impl HTTPMessageDelegate for HelloMessage {
    async fn headers_received(&mut self, _: &RequestHead<'_>, _: &mut HTTP1Connection<'_>) {}
    async fn finish(&mut self, conn: &mut HTTP1Connection<'_>) {
        let _ = conn
            .write_response(ResponseStartLine::OK, &HEADERS, b"Hello, World!")
            .await;
    }
}

#[test]
fn ten_thousand_keep_alive_requests_allocate_nothing() {
    let (tx, rx) = std::sync::mpsc::channel();
    let server = std::thread::spawn(move || {
        let reactor = reactor::Reactor::new().unwrap();
        let (server, port) = reactor.block_on(async {
            let server = HTTPServer::new(Hello, HTTP1ConnectionParameters::default());
            let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
            (server, port)
        });
        tx.send((port, reactor.remote())).unwrap();
        reactor.run();
        server.stop();
    });
    let (port, remote) = rx.recv().unwrap();

    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    const REQUEST: &[u8] = b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\nUser-Agent: alloc-test\r\nAccept: */*\r\n\r\n";
    let mut buf = [0u8; 512];
    // The first response tells the (constant) response length: the Date has a fixed width.
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
    // Warm up for more than a second, so that one-time growth (buffers, the timer table, the
    // Date ticker's first tick) is behind us.
    let warm_up = std::time::Instant::now();
    while warm_up.elapsed() < Duration::from_millis(1500) {
        for _ in 0..100 {
            one_request(&mut buf);
        }
    }
    assert!(buf[..response_len].starts_with(b"HTTP/1.1 200 OK\r\n"));

    // At least 10,000 requests, and at least 1.1 s so that a Date tick falls inside.
    let before = testkit::alloc::allocations();
    let window = std::time::Instant::now();
    let mut requests = 0;
    while requests < 10_000 || window.elapsed() < Duration::from_millis(1100) {
        one_request(&mut buf);
        requests += 1;
    }
    let allocations = testkit::alloc::allocations() - before;
    assert!(buf[..response_len].ends_with(b"\r\n\r\nHello, World!"));
    println!("allocations during {requests} keep-alive requests: {allocations}");
    assert_eq!(allocations, 0, "heap allocations on the keep-alive path");

    // Pipelined batches of 64: ~6 KiB of requests and ~7 KiB of responses per batch, more than
    // a small pooled buffer. The buffers the batches grew to come back after every wait, so
    // the batches allocate nothing either (reallocations counted).
    let batch: Vec<u8> = REQUEST.repeat(64);
    let mut responses = vec![0u8; 64 * response_len];
    for _ in 0..50 {
        s.write_all(&batch).unwrap();
        s.read_exact(&mut responses).unwrap();
    }
    let before = testkit::alloc::allocations();
    for _ in 0..200 {
        s.write_all(&batch).unwrap();
        s.read_exact(&mut responses).unwrap();
    }
    let allocations = testkit::alloc::allocations() - before;
    assert!(responses.ends_with(b"\r\n\r\nHello, World!"));

    remote.stop();
    server.join().unwrap();
    println!("allocations during 200 batches of 64 pipelined requests: {allocations}");
    assert_eq!(allocations, 0, "heap allocations on the pipelined path");
}
