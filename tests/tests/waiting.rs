//! 10,000 connections whose handlers wait (`GET /sleep?ms=600000` on the demo, which ends
//! early when its client leaves), on one server thread (`memserver`): the heap per waiting
//! request, then all the clients leave (FIN) and the server releases every fd and the heap
//! within seconds, not when the handlers' 10 minutes are up. Also reported: allocations per
//! keep-alive request whose handler waits (web's boxed handler future, the query and the
//! body string; the watch itself allocates nothing: `http1/tests/alloc_waiting.rs`).

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use testkit::sockets::within;

use tests::{Client, Server};

const MEMSERVER: &str = env!("CARGO_BIN_EXE_memserver");
const CONNS: usize = 10_000;

fn server_fds(server: &Server) -> usize {
    std::fs::read_dir(format!("/proc/{}/fd", server.pid()))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Opens `CONNS` connections, each sending a request whose handler waits 10 minutes.
fn open_waiting(addr: SocketAddr) -> Vec<TcpStream> {
    let threads = 4;
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            std::thread::spawn(move || {
                (0..CONNS / threads)
                    .map(|_| {
                        let mut s = TcpStream::connect(addr).unwrap();
                        s.write_all(b"GET /sleep?ms=600000 HTTP/1.1\r\nHost: l\r\n\r\n")
                            .unwrap();
                        s
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect()
}

#[test]
fn ten_thousand_waiting_connections_released_when_their_clients_leave() {
    let limit = tests::raise_nofile(CONNS as u64 + 1024);
    assert!(
        limit >= CONNS as u64 + 100,
        "RLIMIT_NOFILE hard limit too low: {limit}"
    );
    let mut server = Server::start(MEMSERVER, &[]);
    let addr = server.addr;

    // Keep-alive requests whose handler waits a timer turn: the watch starts every time.
    let mut c = Client::connect(addr).unwrap();
    for _ in 0..50 {
        assert_eq!(c.get("/sleep?ms=1").unwrap().status, 200);
    }
    let a0 = server.heap().allocs;
    let n = 500;
    for _ in 0..n {
        assert_eq!(c.get("/sleep?ms=1").unwrap().status, 200);
    }
    // The `/heap` request itself is counted too: subtract one request's worth, at most.
    let per_request = (server.heap().allocs - a0) as f64 / n as f64;
    drop(c);

    std::thread::sleep(Duration::from_millis(300));
    let fds_before = server_fds(&server);
    let before = server.heap();
    let conns = open_waiting(addr);
    let all_waiting = within(Duration::from_secs(20), || {
        server_fds(&server) >= fds_before + CONNS
    });
    assert!(all_waiting.is_some(), "not all connections were accepted");
    std::thread::sleep(Duration::from_millis(500));
    let during = server.heap();
    server.assert_alive();
    let heap_per = (during.live - before.live) as f64 / CONNS as f64;

    let t = Instant::now();
    drop(conns);
    let released = within(Duration::from_secs(10), || {
        server_fds(&server) <= fds_before
    });
    let took = t.elapsed();
    assert!(
        released.is_some(),
        "{} server fds still open 10 s after their clients left ({fds_before} before)",
        server_fds(&server)
    );
    std::thread::sleep(Duration::from_millis(300));
    let after = server.heap();
    server.assert_alive();
    // Still serving.
    assert_eq!(tests::get(addr, "/sleep?ms=1").unwrap().status, 200);

    tests::report(&format!(
        "waiting: {CONNS} connections waiting in a handler (GET /sleep?ms=600000): server heap \
         {heap_per:.0} B/request ({} -> {} B); all clients left (FIN): every fd released in \
         {:.2} s, heap back to {} B; keep-alive requests whose handler waits: {per_request:.2} \
         allocations/request",
        before.live,
        during.live,
        took.as_secs_f64(),
        after.live,
    ));
    // The handlers ended with their clients: nothing of them stays (a waiting request holds
    // ~3.7 KiB; what stays is the high-water capacity of tables, as in `idle.rs`).
    assert!(
        after.live - before.live < (CONNS as i64) * 1024,
        "heap {} -> {} B after the clients left",
        before.live,
        after.live
    );
}
