//! Heap allocations per keep-alive request through the whole stack (reactor, iostream, http1,
//! web) on `GET /` of the demo: a counting global allocator that counts only on the server's
//! thread. The budget is 2 per request.

#[allow(dead_code)]
#[path = "../examples/demo.rs"]
mod demo;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

/// Counts allocations made on threads that opted in.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COUNT_HERE: Cell<bool> = const { Cell::new(false) };
}

fn note() {
    if COUNT_HERE.try_with(|c| c.get()).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract is System's; the counting touches only an atomic and a const-initialized
// thread-local `Cell` (no allocation, no reentrancy).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: forwarded unchanged; the caller upholds `alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: forwarded unchanged; `ptr` was allocated by `System` through this allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `ptr` was allocated by `System` through this allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

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
        COUNT_HERE.with(|c| c.set(true));
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
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..N {
        round_trip(&mut s, req, &mut buf);
    }
    let total = ALLOCATIONS.load(Ordering::Relaxed) - before;
    let per_request = total as f64 / N as f64;
    println!("allocations per keep-alive request: {per_request:.3} ({total} in {N})");
    assert!(per_request <= 2.0, "{per_request} allocations per request");
}
