//! Graceful shutdown of the demo: SIGTERM (or SIGINT) in the middle of 100 slow requests
//! (`/sleep?ms=1000`) stops accepting, lets every in-flight request finish, closes idle
//! keep-alive connections, and the process exits 0.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use tests::{Client, Server};

const DEMO: &str = env!("CARGO_BIN_EXE_demo");

#[test]
fn sigterm_mid_100_slow_requests_all_complete_and_exit_0() {
    tests::raise_nofile(1024);
    let mut server = Server::start(DEMO, &[]);
    let addr = server.addr;

    // Idle keep-alive connections: each served one request, now waiting for the next.
    let mut idle: Vec<Client> = (0..20)
        .map(|_| {
            let mut c = Client::connect(addr).unwrap();
            assert_eq!(c.get("/").unwrap().status, 200);
            c
        })
        .collect();

    // 100 slow requests in flight.
    let started = Instant::now();
    let workers: Vec<_> = (0..100)
        .map(|_| {
            let mut c = Client::connect(addr).unwrap();
            c.send(b"GET /sleep?ms=1000 HTTP/1.1\r\nHost: t\r\n\r\n")
                .unwrap();
            std::thread::spawn(move || c.read_response())
        })
        .collect();
    // Let the server read them all, then SIGTERM while they sleep.
    std::thread::sleep(Duration::from_millis(150));
    server.signal(libc::SIGTERM);
    let signalled = started.elapsed();
    // The signal must land while every request is still sleeping.
    assert!(
        signalled < Duration::from_millis(900),
        "too slow to start: {signalled:?}"
    );

    // New connections are refused (the listener is closed) soon after the signal.
    std::thread::sleep(Duration::from_millis(100));
    let refused = TcpStream::connect_timeout(&addr, Duration::from_millis(500));
    assert!(refused.is_err(), "still accepting after SIGTERM");

    let mut ok = 0;
    for w in workers {
        let r = w.join().unwrap().expect("in-flight request lost");
        assert_eq!((r.status, r.text()), (200, "slept 1000"));
        ok += 1;
    }
    assert_eq!(ok, 100);

    // Idle keep-alive connections were closed by the server.
    for c in &mut idle {
        assert!(
            c.closed_within(Duration::from_secs(2)),
            "idle connection left open"
        );
    }
    let status = server
        .wait_exit(Duration::from_secs(5))
        .unwrap_or_else(|| panic!("demo did not exit; stderr:\n{}", server.stderr()));
    assert!(
        status.success(),
        "exit status {status}; stderr:\n{}",
        server.stderr()
    );
    let took = started.elapsed();
    assert!(took < Duration::from_secs(4), "shutdown took {took:?}");
    tests::report(&format!(
        "graceful shutdown: SIGTERM {:.0} ms into 100 x /sleep?ms=1000 -> 100/100 completed, 20 idle keep-alive closed, exit 0 {:.0} ms after the first request",
        signalled.as_secs_f64() * 1e3,
        took.as_secs_f64() * 1e3
    ));
}

#[test]
fn sigint_with_only_idle_connections_exits_at_once() {
    let mut server = Server::start(DEMO, &[]);
    let mut idle: Vec<Client> = (0..10)
        .map(|_| {
            let mut c = Client::connect(server.addr).unwrap();
            assert_eq!(c.get("/").unwrap().status, 200);
            c
        })
        .collect();
    // One connection that never sent a request counts as idle too.
    let _silent = TcpStream::connect(server.addr).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let t = Instant::now();
    server.signal(libc::SIGINT);
    let status = server
        .wait_exit(Duration::from_secs(3))
        .expect("demo did not exit");
    assert!(
        status.success(),
        "exit status {status}; stderr:\n{}",
        server.stderr()
    );
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "took {:?}",
        t.elapsed()
    );
    for c in &mut idle {
        assert!(c.closed_within(Duration::from_secs(1)));
    }
}

#[test]
fn shutdown_deadline_exits_1_when_a_request_outlives_it() {
    let mut server = Server::start(DEMO, &["--shutdown-timeout", "0.3"]);
    let mut c = Client::connect(server.addr).unwrap();
    c.send(b"GET /sleep?ms=3000 HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let t = Instant::now();
    server.signal(libc::SIGTERM);
    let status = server
        .wait_exit(Duration::from_secs(3))
        .expect("demo did not exit");
    assert_eq!(status.code(), Some(1), "stderr:\n{}", server.stderr());
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "took {:?}",
        t.elapsed()
    );
}
