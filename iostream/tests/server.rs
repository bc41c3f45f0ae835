//! TcpServer and TcpClient over loopback: many concurrent streams, refused and timed-out
//! connects, name resolution off the loop, Unix-domain sockets, stop.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io::{ErrorKind, Read, Write};
use std::rc::Rc;
use std::time::{Duration, Instant};

use iostream::{
    bind_sockets, bind_unix_socket, Address, IOStream, StreamError, TcpClient, TcpServer,
};
use reactor::Reactor;

fn run<F: Future>(f: F) -> F::Output {
    Reactor::new().unwrap().block_on(f)
}

/// An echo server: each line back as it came.
fn echo_server() -> TcpServer {
    TcpServer::new(|stream: IOStream, _addr: Address| {
        reactor::spawn(async move {
            while let Ok(line) = stream.read_until(b"\n", Some(1 << 20)).await {
                if stream.write(&line).await.is_err() {
                    break;
                }
            }
        });
    })
}

#[test]
fn a_thousand_concurrent_streams_on_one_loop() {
    run(async {
        let server = echo_server();
        let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
        let mut clients = Vec::new();
        for i in 0..1000 {
            clients.push(reactor::spawn(async move {
                let s = TcpClient::connect("127.0.0.1", port, Some(Duration::from_secs(30)))
                    .await
                    .unwrap();
                let line = format!("client {i} says {}\n", "x".repeat(i % 100));
                // Two round trips each, so all streams are open at the same time.
                for _ in 0..2 {
                    s.write(line.as_bytes()).await.unwrap();
                    assert_eq!(s.read_until(b"\n", None).await.unwrap(), line.as_bytes());
                    reactor::yield_now().await;
                }
                s
            }));
        }
        let mut open = Vec::new();
        for c in clients {
            open.push(c.await.unwrap());
        }
        assert_eq!(open.len(), 1000);
        assert_eq!(server.accepted(), 1000);
        server.stop();
    });
}

#[test]
fn connect_to_a_closed_port_is_refused_clearly() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    run(async move {
        let err = TcpClient::connect("127.0.0.1", port, Some(Duration::from_secs(5)))
            .await
            .unwrap_err();
        match &err {
            StreamError::Io(e) => {
                assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
                assert!(e.to_string().contains(&format!("127.0.0.1:{port}")), "{e}");
            }
            other => panic!("expected Io(ConnectionRefused), got {other:?}"),
        }
    });
}

#[test]
fn connect_timeout_fires() {
    // A listener with backlog 0 that never accepts: once its accept queue is full, Linux drops
    // further SYNs, so the next connect hangs until our timeout. Loopback only.
    let listeners = bind_sockets(0, Some("127.0.0.1"), 0, false).unwrap();
    let port = listeners[0].local_addr().unwrap().port();
    run(async move {
        let mut held = Vec::new();
        for _ in 0..16 {
            let started = Instant::now();
            match TcpClient::connect("127.0.0.1", port, Some(Duration::from_millis(200))).await {
                Ok(s) => held.push(s),
                Err(StreamError::Io(e)) if e.kind() == ErrorKind::TimedOut => {
                    assert!(started.elapsed() >= Duration::from_millis(200));
                    assert!(e.to_string().contains("timed out"), "{e}");
                    return;
                }
                Err(e) => panic!("unexpected error {e:?}"),
            }
        }
        panic!("no connect timed out against a full backlog");
    });
    drop(listeners);
}

#[test]
fn a_hostname_resolves_without_blocking_other_tasks() {
    run(async {
        let server = echo_server();
        let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
        let ticks = Rc::new(Cell::new(0u64));
        let ticker = {
            let ticks = ticks.clone();
            reactor::spawn(async move {
                loop {
                    ticks.set(ticks.get() + 1);
                    reactor::yield_now().await;
                }
            })
        };
        reactor::yield_now().await;
        // A blocking resolver would finish inside one poll, with the ticker frozen.
        let before = ticks.get();
        let addrs = iostream::resolve("localhost", port).await.unwrap();
        assert!(ticks.get() > before, "the loop did not run while resolving");
        assert!(addrs
            .iter()
            .all(|a| a.ip().is_loopback() && a.port() == port));
        // And connect by name works (trying ::1 first is fine: every address is tried in order).
        let s = TcpClient::connect("localhost", port, Some(Duration::from_secs(10)))
            .await
            .unwrap();
        s.write(b"by name\n").await.unwrap();
        assert_eq!(s.read_until(b"\n", None).await.unwrap(), b"by name\n");
        ticker.abort();
        // An unknown name is an error, not a hang.
        let err = TcpClient::connect("no-such-host.invalid", port, Some(Duration::from_secs(30)))
            .await
            .unwrap_err();
        assert!(matches!(err, StreamError::Io(_)), "{err:?}");
    });
}

#[test]
fn unix_socket_server() {
    let dir = std::env::temp_dir().join(format!("iostream-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("echo.sock");
    run(async {
        let listener = bind_unix_socket(&path, 0o600, 128).unwrap();
        let seen = Rc::new(RefCell::new(None));
        let seen2 = seen.clone();
        let server = TcpServer::new(move |stream: IOStream, addr: Address| {
            *seen2.borrow_mut() = Some(addr);
            reactor::spawn(async move {
                let line = stream.read_until(b"\n", None).await.unwrap();
                stream.write(&line).await.unwrap();
            });
        });
        server.add_unix_socket(listener, &path).unwrap();
        let client =
            IOStream::from_unix(std::os::unix::net::UnixStream::connect(&path).unwrap()).unwrap();
        client.write(b"over unix\n").await.unwrap();
        assert_eq!(
            client.read_until(b"\n", None).await.unwrap(),
            b"over unix\n"
        );
        assert_eq!(*seen.borrow(), Some(Address::Unix(path.clone())));
        server.stop();
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn stop_closes_the_listeners_but_not_the_streams() {
    run(async {
        let server = echo_server();
        let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
        let s = TcpClient::connect("127.0.0.1", port, None).await.unwrap();
        s.write(b"one\n").await.unwrap();
        assert_eq!(s.read_until(b"\n", None).await.unwrap(), b"one\n");
        server.stop();
        reactor::yield_now().await;
        reactor::yield_now().await;
        let err = TcpClient::connect("127.0.0.1", port, None)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StreamError::Io(e) if e.kind() == ErrorKind::ConnectionRefused),
            "{err:?}"
        );
        s.write(b"two\n").await.unwrap();
        assert_eq!(s.read_until(b"\n", None).await.unwrap(), b"two\n");
    });
}

#[test]
fn bind_sockets_wildcard_and_shared_ephemeral_port() {
    let listeners = bind_sockets(0, None, 128, false).unwrap();
    assert!(!listeners.is_empty());
    let port = listeners[0].local_addr().unwrap().port();
    assert!(listeners
        .iter()
        .all(|l| l.local_addr().unwrap().port() == port));
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.write_all(b"x").unwrap();
    let v4 = listeners
        .iter()
        .find(|l| l.local_addr().unwrap().is_ipv4())
        .unwrap();
    v4.set_nonblocking(false).unwrap();
    let (mut conn, _) = v4.accept().unwrap();
    let mut b = [0u8; 1];
    conn.read_exact(&mut b).unwrap();
    assert_eq!(&b, b"x");
}

#[test]
fn accepts_are_capped_per_loop_turn() {
    run(async {
        let ticks = Rc::new(Cell::new(0u64));
        let seen_at: Rc<RefCell<Vec<u64>>> = Rc::default();
        let server = {
            let (ticks, seen_at) = (ticks.clone(), seen_at.clone());
            TcpServer::new(move |_s: IOStream, _a: Address| seen_at.borrow_mut().push(ticks.get()))
        };
        server.set_max_accepts_per_turn(2);
        let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
        // Twenty connections wait in the backlog before the accept task first runs.
        let clients: Vec<std::net::TcpStream> = (0..20)
            .map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).unwrap())
            .collect();
        let ticker = {
            let ticks = ticks.clone();
            reactor::spawn(async move {
                loop {
                    ticks.set(ticks.get() + 1);
                    reactor::yield_now().await;
                }
            })
        };
        while seen_at.borrow().len() < 20 {
            reactor::yield_now().await;
        }
        ticker.abort();
        // Never more than two accepts without the other task getting a turn.
        let seen = seen_at.borrow();
        for t in seen.iter() {
            assert!(seen.iter().filter(|x| *x == t).count() <= 2, "{seen:?}");
        }
        drop(clients);
        server.stop();
    });
}

#[test]
fn set_nodelay_and_peer_addr() {
    run(async {
        let server = echo_server();
        let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
        let s = TcpClient::connect("127.0.0.1", port, None).await.unwrap();
        s.set_nodelay(true).unwrap();
        assert_eq!(s.peer_addr().unwrap(), ([127, 0, 0, 1], port).into());
        server.stop();
    });
}
