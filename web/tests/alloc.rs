//! Heap allocations per keep-alive request through the whole stack (reactor, iostream, http1,
//! web) on `GET /` of the demo: a counting global allocator that counts only on the server's
//! thread. The budget is 2 per request.

#[allow(dead_code)]
#[path = "../examples/demo.rs"]
mod demo;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;

#[global_allocator]
static GLOBAL: testkit::alloc::Counting = testkit::alloc::Counting;

/// Sends one request and reads its response into `buf` without allocating; returns the
/// response length.
fn round_trip(s: &mut TcpStream, req: &[u8], buf: &mut [u8]) -> usize {
    s.write_all(req).unwrap();
    let mut len = 0;
    loop {
        let n = s.read(&mut buf[len..]).unwrap();
        assert!(n > 0, "server closed");
        len += n;
        if let Some(end) = buf[..len].windows(4).position(|w| w == b"\r\n\r\n") {
            if len >= end + 4 + 13 {
                return len;
            }
        }
    }
}

#[test]
fn at_most_two_allocations_per_keep_alive_request() {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let app = web::Application::new(demo::routes());
        let server = http1::HTTPServer::new(app, http1::HTTP1ConnectionParameters::default());
        server.add_sockets(vec![listener]).unwrap();
        tx.send(addr).unwrap();
        testkit::alloc::count_this_thread();
        reactor::Reactor::current().run();
    });
    let addr = rx.recv().unwrap();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    let req = b"GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: alloc-test\r\nAccept: */*\r\n\r\n";
    let mut buf = [0u8; 4096];

    // Warm up: buffers, pools and caches reach their working size.
    for _ in 0..2_000 {
        round_trip(&mut s, req, &mut buf);
    }
    let n = round_trip(&mut s, req, &mut buf);
    let text = std::str::from_utf8(&buf[..n]).unwrap();
    assert!(
        text.starts_with("HTTP/1.1 200 OK\r\n") && text.ends_with("Hello, World!"),
        "{text}"
    );

    const N: u64 = 10_000;
    let before = testkit::alloc::counted_allocations();
    for _ in 0..N {
        round_trip(&mut s, req, &mut buf);
    }
    let total = testkit::alloc::counted_allocations() - before;
    let per_request = total as f64 / N as f64;
    println!("allocations per keep-alive request: {per_request:.3} ({total} in {N})");
    assert!(per_request <= 2.0, "{per_request} allocations per request");
}
