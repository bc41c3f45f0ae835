//! The demo with `--workers 2`: both worker threads serve the one port, and SIGTERM drains
//! every worker (in-flight requests finish on both, idle connections close, exit 0).

use std::collections::BTreeSet;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tests::{Client, Server};

const DEMO: &str = env!("CARGO_BIN_EXE_demo");

fn worker_of(c: &mut Client) -> String {
    let r = c.get("/whoami").unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    v["worker"].as_str().unwrap().to_owned()
}

#[test]
fn sigterm_drains_every_worker() {
    tests::raise_nofile(1024);
    let mut server = Server::start(DEMO, &["--workers", "2"]);
    let addr = server.addr;

    // Idle keep-alive connections, on both workers (the kernel spreads them by hash).
    let mut idle: Vec<Client> = (0..32).map(|_| Client::connect(addr).unwrap()).collect();
    let seen: BTreeSet<String> = idle.iter_mut().map(worker_of).collect();
    assert_eq!(
        seen.iter().map(String::as_str).collect::<Vec<_>>(),
        ["worker-0", "worker-1"]
    );

    // Slow requests in flight on both workers.
    let started = Instant::now();
    let slow: Vec<_> = (0..40)
        .map(|_| {
            let mut c = Client::connect(addr).unwrap();
            c.send(b"GET /sleep?ms=800 HTTP/1.1\r\nHost: t\r\n\r\n")
                .unwrap();
            std::thread::spawn(move || c.read_response())
        })
        .collect();
    std::thread::sleep(Duration::from_millis(150));
    server.signal(libc::SIGTERM);

    std::thread::sleep(Duration::from_millis(100));
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err(),
        "a worker still accepts after SIGTERM"
    );
    for w in slow {
        let r = w.join().unwrap().expect("in-flight request lost");
        assert_eq!((r.status, r.text()), (200, "slept 800"));
    }
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
    assert!(took < Duration::from_secs(3), "shutdown took {took:?}");
    let stderr = server.stderr();
    assert!(stderr.contains("(2 workers)"), "{stderr}");
    assert!(
        stderr.contains("72 connections were open at shutdown"),
        "{stderr}"
    );
}

#[test]
fn healthz_says_ok() {
    let server = Server::start(DEMO, &["--workers", "2"]);
    let mut c = Client::connect(server.addr).unwrap();
    let r = c.get("/healthz").unwrap();
    assert_eq!((r.status, r.text()), (200, r#"{"status":"ok"}"#));
    assert_eq!(r.header("Cache-Control"), Some("no-store"));
}

#[test]
fn healthz_says_draining_once_the_shutdown_began() {
    let mut server = Server::start(DEMO, &["--workers", "2"]);
    let mut c = Client::connect(server.addr).unwrap();
    // A slow request with a readiness check pipelined behind it: the check is answered during
    // the drain.
    c.send(
        b"GET /sleep?ms=500 HTTP/1.1\r\nHost: t\r\n\r\nGET /healthz HTTP/1.1\r\nHost: t\r\n\r\n",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(150));
    server.signal(libc::SIGTERM);
    let slow = c.read_response().unwrap();
    assert_eq!((slow.status, slow.text()), (200, "slept 500"));
    let health = c.read_response().unwrap();
    assert_eq!(
        (health.status, health.text()),
        (503, r#"{"status":"draining"}"#)
    );
    let status = server
        .wait_exit(Duration::from_secs(5))
        .expect("demo did not exit");
    assert!(status.success(), "{status}; stderr:\n{}", server.stderr());
}
