//! `watch_close` and `until_closed`: a stream that nobody reads notices its peer leaving (FIN,
//! RST, TLS `close_notify`), releases its fd at once and runs the close callback, while
//! bytes that arrive meanwhile stay buffered, up to the bound.

use std::cell::Cell;
use std::future::Future;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::rc::Rc;
use std::time::{Duration, Instant};
use testkit::sockets::reset_on_close;

use iostream::{IOStream, TcpClient, TcpServer, TlsAcceptor, TlsConnector, TlsServerConfig};
use reactor::Reactor;
use testkit::certs;

fn run<F: Future>(f: F) -> F::Output {
    Reactor::new().unwrap().block_on(f)
}

/// A connected TCP pair: our side (to wrap in an `IOStream` inside the reactor) and the
/// peer's blocking socket.
fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let peer = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (ours, _) = listener.accept().unwrap();
    (ours, peer)
}

/// Whether `fd` is an open fd of this process.
fn fd_open(fd: i32) -> bool {
    std::path::Path::new(&format!("/proc/self/fd/{fd}")).exists()
}

/// Runs `watch_close` on `stream` against `leave` (run after 20 ms on another thread);
/// returns how long the close took to notice, and whether the close callback ran.
fn watch_departure(
    ours: TcpStream,
    leave: impl FnOnce() + Send + 'static,
) -> (Duration, bool, Option<i32>) {
    run(async move {
        let stream = IOStream::from_tcp(ours).unwrap();
        let called = Rc::new(Cell::new(false));
        let c = called.clone();
        stream.set_close_callback(move || c.set(true));
        let fd = stream.fd();
        assert!(fd_open(fd));
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            leave();
        });
        let started = Instant::now();
        let watched = reactor::timeout(Duration::from_secs(5), stream.watch_close(4096)).await;
        let took = started.elapsed();
        assert!(watched.is_ok(), "the departure was not noticed");
        assert!(stream.closed());
        assert!(
            !fd_open(fd) || cfg!(not(target_os = "linux")),
            "fd still open"
        );
        t.join().unwrap();
        let error = stream.error().and_then(|e| e.raw_os_error());
        (took, called.get(), error)
    })
}

#[test]
fn a_fin_closes_the_stream_at_once() {
    let (ours, peer) = tcp_pair();
    let (took, called, error) = watch_departure(ours, move || drop(peer));
    assert!(called, "close callback did not run");
    assert_eq!(error, None);
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[test]
fn a_reset_closes_the_stream_with_its_error() {
    let (ours, peer) = tcp_pair();
    let (took, called, error) = watch_departure(ours, move || {
        reset_on_close(&peer);
        drop(peer);
    });
    assert!(called);
    assert_eq!(error, Some(libc::ECONNRESET));
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[test]
fn bytes_arriving_during_the_watch_stay_buffered_and_are_read_next() {
    let (ours, mut peer) = tcp_pair();
    run(async move {
        let stream = IOStream::from_tcp(ours).unwrap();
        peer.write_all(b"GET /next HTTP/1.1\r\n\r\n").unwrap();
        // The peer is alive: the watch keeps watching.
        let watched = reactor::timeout(Duration::from_millis(50), stream.watch_close(4096)).await;
        assert!(watched.is_err());
        assert!(!stream.closed());
        assert_eq!(&*stream.buffered(), b"GET /next HTTP/1.1\r\n\r\n");
        // The watch gave the read slot back: the next read gets those bytes first.
        peer.write_all(b"tail").unwrap();
        let head = stream.read_until(b"\r\n\r\n", None).await.unwrap();
        assert_eq!(head, b"GET /next HTTP/1.1\r\n\r\n");
        assert_eq!(stream.read_bytes(4, false).await.unwrap(), b"tail");
        // Bytes then a FIN: both seen, the bytes kept.
        peer.write_all(b"last words").unwrap();
        drop(peer);
        reactor::timeout(Duration::from_secs(5), stream.watch_close(4096))
            .await
            .unwrap();
        assert!(stream.closed());
        assert_eq!(&*stream.buffered(), b"last words");
    });
}

#[test]
fn the_watch_stops_reading_at_its_bound() {
    let (ours, peer) = tcp_pair();
    let (started, sending) = std::sync::mpsc::channel();
    let sender = std::thread::spawn(move || {
        let mut peer = peer;
        // Far more than the bound: the kernel's buffers fill and this blocks, then fails when
        // the test ends and closes our side.
        peer.write_all(&[b'x'; 16 << 10]).unwrap();
        started.send(()).unwrap();
        let _ = peer.write_all(&vec![b'x'; 8 << 20]);
    });
    // The watch starts with more than its bound already sent (a loaded machine may be slow
    // to run the sender).
    sending.recv().unwrap();
    run(async {
        let stream = IOStream::from_tcp(ours).unwrap();
        stream.set_read_chunk_size(1024);
        let watched = reactor::timeout(Duration::from_millis(200), stream.watch_close(4096)).await;
        assert!(watched.is_err(), "a sending peer is not leaving");
        let n = stream.buffered().len();
        assert!((4096..4096 + 1024).contains(&n), "buffered {n}");
        assert!(!stream.closed());
        stream.close();
    });
    sender.join().unwrap();
}

#[test]
fn until_closed_resolves_when_another_task_closes_the_stream() {
    let (ours, _peer) = tcp_pair();
    run(async move {
        let stream = IOStream::from_tcp(ours).unwrap();
        let closed = stream.until_closed();
        let s = stream.clone();
        reactor::spawn(async move {
            reactor::sleep(Duration::from_millis(10)).await;
            s.close();
        });
        reactor::timeout(Duration::from_secs(5), closed)
            .await
            .unwrap();
        // Already closed: at once.
        stream.until_closed().await;
    });
}

#[test]
fn until_closed_wakes_a_task_waiting_while_another_watches() {
    let (ours, peer) = tcp_pair();
    run(async move {
        let stream = IOStream::from_tcp(ours).unwrap();
        let waiter = reactor::spawn(stream.until_closed());
        let watcher = {
            let s = stream.clone();
            reactor::spawn(async move { s.watch_close(4096).await })
        };
        reactor::sleep(Duration::from_millis(10)).await;
        drop(peer);
        reactor::timeout(Duration::from_secs(5), waiter)
            .await
            .unwrap()
            .unwrap();
        watcher.await.unwrap();
    });
}

#[test]
fn a_tls_peer_leaving_is_noticed_through_its_records() {
    let Some(c) = certs::make() else { return };
    let connector = TlsConnector::with_ca_file(c.ca()).unwrap();
    let (cert, key) = c.localhost();
    run(async {
        let acceptor = TlsAcceptor::new(TlsServerConfig::new(cert, key)).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let server = TcpServer::with_tls(
            move |s: IOStream, _| {
                let tx = tx.clone();
                reactor::spawn(async move {
                    assert!(s.fill(5).await.unwrap() >= 5);
                    s.watch_close(4096).await;
                    tx.send(s.buffered().to_vec()).unwrap();
                });
            },
            acceptor,
        );
        let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
        let timeout = Some(Duration::from_secs(10));
        let client = TcpClient::connect_tls("localhost", port, &connector, timeout)
            .await
            .unwrap();
        client.write(b"firstpipelined").await.unwrap();
        reactor::sleep(Duration::from_millis(30)).await;
        assert!(rx.try_recv().is_err(), "the server stopped watching early");
        // Our close sends `close_notify`, then FIN.
        client.close();
        let deadline = Instant::now() + Duration::from_secs(5);
        let kept = loop {
            if let Ok(kept) = rx.try_recv() {
                break kept;
            }
            assert!(Instant::now() < deadline, "close_notify was not noticed");
            reactor::sleep(Duration::from_millis(5)).await;
        };
        assert_eq!(kept, b"firstpipelined");
    });
}
