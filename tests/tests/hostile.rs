//! Broken and hostile clients against the demo: slow uploads, disconnects mid-body and
//! mid-response, reset after a request, half-close after the request. After each, the server
//! is alive and serves a well-behaved request.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tests::{Client, Server};

const DEMO: &str = env!("CARGO_BIN_EXE_demo");

fn still_serves(server: &mut Server) {
    server.assert_alive();
    let r = tests::get(server.addr, "/").expect("a well-behaved request after the attack");
    assert_eq!((r.status, r.text()), (200, "Hello, World!"));
}

#[test]
fn upload_pausing_longer_than_the_body_timeout_is_cut() {
    let mut server = Server::start(DEMO, &["--body-timeout", "0.5"]);
    let mut c = Client::connect(server.addr).unwrap();
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nab")
        .unwrap();
    let t = Instant::now();
    assert!(
        c.closed_within(Duration::from_secs(3)),
        "slow upload not cut"
    );
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_millis(2000),
        "{took:?}"
    );
    still_serves(&mut server);
}

/// A client trickling its body one byte every 200 ms, with a 1 s body timeout: each gap is
/// well under the timeout, but `body_timeout` is for the entire body (Tornado's rule), so the
/// upload is cut about a second in, long before its 4 s are up.
#[test]
fn upload_trickle_with_gaps_under_the_body_timeout_is_cut() {
    let mut server = Server::start(DEMO, &["--body-timeout", "1"]);
    let mut c = Client::connect(server.addr).unwrap();
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 20\r\n\r\n")
        .unwrap();
    let t = Instant::now();
    let mut cut_after = None;
    for _ in 0..20 {
        if c.send(b"x").is_err() || c.closed_within(Duration::from_millis(200)) {
            cut_after = Some(t.elapsed());
            break;
        }
    }
    let cut_after = cut_after.expect("a trickle slower than the body timeout in all is cut");
    assert!(
        cut_after >= Duration::from_millis(800) && cut_after < Duration::from_millis(2500),
        "{cut_after:?}"
    );
    tests::report(&format!(
        "slow upload trickle (1 B / 200 ms, body timeout 1 s): cut after {:.1} s",
        cut_after.as_secs_f64()
    ));
    still_serves(&mut server);
}

#[test]
fn disconnect_mid_body() {
    let mut server = Server::start(DEMO, &[]);
    let chunk = vec![b'x'; 64 * 1024];
    for i in 0..30 {
        let mut s = TcpStream::connect(server.addr).unwrap();
        if i % 2 == 0 {
            s.write_all(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n")
                .unwrap();
            for _ in 0..4 {
                s.write_all(&chunk).unwrap();
            }
        } else {
            s.write_all(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
                .unwrap();
            s.write_all(b"10000\r\n").unwrap();
            s.write_all(&chunk).unwrap();
            s.write_all(b"\r\n8000\r\nabc").unwrap();
        }
        drop(s);
    }
    still_serves(&mut server);
}

#[test]
fn disconnect_mid_response() {
    let mut server = Server::start(DEMO, &[]);
    let body = vec![b'y'; 4 << 20];
    for _ in 0..10 {
        let mut c = Client::connect(server.addr).unwrap();
        let writer = {
            let mut s = c.stream.try_clone().unwrap();
            let req = tests::request_bytes("POST", "/echo", &body);
            std::thread::spawn(move || {
                let _ = s.write_all(&req);
            })
        };
        // Read a little of the 4 MiB echo, then hang up with the rest unread (a reset).
        let mut first = [0u8; 16 * 1024];
        let mut got = 0;
        while got < first.len() {
            match c.stream.read(&mut first[got..]) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
        drop(c);
        let _ = writer.join();
    }
    still_serves(&mut server);
    // A big response to a client that reads it all still works afterwards.
    let mut c = Client::connect(server.addr).unwrap();
    let r = c.request("POST", "/echo", &body).unwrap();
    assert_eq!(r.body.len(), body.len());
}

#[test]
fn reset_after_a_request() {
    let mut server = Server::start(DEMO, &[]);
    for _ in 0..20 {
        let mut s = TcpStream::connect(server.addr).unwrap();
        // The first response lands in our receive buffer unread, so closing sends RST while
        // the server is in the middle of the slow second request.
        s.write_all(
            b"GET / HTTP/1.1\r\nHost: t\r\n\r\nGET /sleep?ms=100 HTTP/1.1\r\nHost: t\r\n\r\n",
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(20));
        drop(s);
    }
    std::thread::sleep(Duration::from_millis(200));
    still_serves(&mut server);
}

#[test]
fn half_close_after_the_request_still_gets_the_response() {
    let mut server = Server::start(DEMO, &[]);
    for (method, target, body, expect) in [
        ("GET", "/", &b""[..], &b"Hello, World!"[..]),
        ("POST", "/echo", b"half-closed body", b"half-closed body"),
    ] {
        let mut c = Client::connect(server.addr).unwrap();
        c.send(&tests::request_bytes(method, target, body)).unwrap();
        c.shutdown_write().unwrap();
        let r = c
            .read_response()
            .unwrap_or_else(|e| panic!("{method} {target} after half-close: {e}"));
        assert_eq!((r.status, r.body.as_slice()), (200, expect));
        // Then the server closes its side too.
        assert!(c.closed_within(Duration::from_secs(2)));
    }
    still_serves(&mut server);
}

/// Issue 18: a FIN while a handler waits counts as the client leaving (a server cannot tell a
/// half-close from a close without writing; Tornado and nginx do the same): the server closes
/// at once instead of answering (this row used to expect `slept 100`).
#[test]
fn half_close_while_the_handler_waits_counts_as_leaving() {
    let mut server = Server::start(DEMO, &[]);
    let mut c = Client::connect(server.addr).unwrap();
    c.send(&tests::request_bytes("GET", "/sleep?ms=5000", b""))
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    c.shutdown_write().unwrap();
    let t = std::time::Instant::now();
    assert!(c.closed_within(Duration::from_secs(2)));
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    still_serves(&mut server);
}
