//! Writes over real sockets: a large transfer to a slow reader with bounded memory, the write
//! limit, ordering of queued buffers, several writers, and a reset peer.

use std::future::Future;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::rc::Rc;

use iostream::{IOStream, StreamError, TcpClient};
use reactor::Reactor;

fn run<F: Future>(f: F) -> F::Output {
    Reactor::new().unwrap().block_on(f)
}

/// FNV-1a, 64 bit.
fn fnv(hash: &mut u64, data: &[u8]) {
    for &b in data {
        *hash ^= b as u64;
        *hash = hash.wrapping_mul(0x100000001b3);
    }
}

/// Deterministic pseudo-random bytes (xorshift).
fn pattern(len: usize, seed: &mut u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            *seed as u8
        })
        .collect()
}

#[test]
fn sixteen_mib_to_a_slow_reader_arrives_intact_with_bounded_memory() {
    const TOTAL: usize = 16 << 20;
    const LIMIT: usize = 256 << 10;
    const CHUNK: usize = 64 << 10;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // The slow reader: a thread reading 1000 bytes at a time.
    let reader = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut hash = 0xcbf29ce484222325u64;
        let mut buf = [0u8; 1000];
        let mut got = 0;
        loop {
            let n = conn.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            fnv(&mut hash, &buf[..n]);
            got += n;
        }
        (got, hash)
    });
    let (sent_hash, max_pending, max_capacity) = run(async move {
        let s = TcpClient::connect("127.0.0.1", port, None).await.unwrap();
        s.set_max_write_buffer_size(LIMIT);
        // A single write over the limit is refused, and nothing is queued.
        assert!(matches!(
            s.write(&vec![0u8; LIMIT + 1]).await,
            Err(StreamError::BufferFull)
        ));
        assert_eq!(s.pending_write_bytes(), 0);
        let mut seed = 0x9e3779b97f4a7c15u64;
        let mut hash = 0xcbf29ce484222325u64;
        let (mut max_pending, mut max_capacity) = (0, 0);
        let mut sent = 0;
        while sent < TOTAL {
            let chunk = pattern(CHUNK, &mut seed);
            fnv(&mut hash, &chunk);
            s.write(&chunk).await.unwrap();
            sent += CHUNK;
            max_pending = max_pending.max(s.pending_write_bytes());
            max_capacity = max_capacity.max(s.buffer_capacity());
        }
        s.close();
        (hash, max_pending, max_capacity)
    });
    let (got, got_hash) = reader.join().unwrap();
    assert_eq!(got, TOTAL);
    assert_eq!(got_hash, sent_hash);
    assert!(max_pending <= LIMIT);
    // The buffers never held much more than one chunk (the write limit bounds the queue).
    assert!(max_capacity <= LIMIT + CHUNK, "{max_capacity}");
}

#[test]
fn concurrent_writers_queue_in_order_and_all_resolve() {
    run(async {
        let (a, b) = UnixStream::pair().unwrap();
        let w = IOStream::from_unix(a).unwrap();
        let r = IOStream::from_unix(b).unwrap();
        let mut tasks = Vec::new();
        for i in 0..8u8 {
            let w = w.clone();
            tasks.push(reactor::spawn(
                async move { w.write(&vec![i; 300_000]).await },
            ));
        }
        let reader = {
            let r = r.clone();
            reactor::spawn(async move { r.read_bytes(8 * 300_000, false).await })
        };
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let data = reader.await.unwrap().unwrap();
        // Each writer's bytes are contiguous (writes are not interleaved).
        let mut seen = Vec::new();
        for c in data.chunks(300_000) {
            assert!(c.iter().all(|&x| x == c[0]));
            seen.push(c[0]);
        }
        seen.sort();
        assert_eq!(seen, (0..8).collect::<Vec<u8>>());
    });
}

#[test]
fn write_buffer_and_owned_buffers_keep_their_order() {
    run(async {
        let (a, b) = UnixStream::pair().unwrap();
        let w = IOStream::from_unix(a).unwrap();
        let r = IOStream::from_unix(b).unwrap();
        w.write_buffer().extend_from_slice(b"HTTP/1.1 200 OK\r\n");
        w.write_owned(b"Content-Length: 5\r\n\r\n".to_vec())
            .unwrap();
        w.write_buffer().extend_from_slice(b"hello");
        w.write_owned(Vec::new()).unwrap();
        w.write_owned(b"|tail".to_vec()).unwrap();
        assert_eq!(w.pending_write_bytes(), 17 + 21 + 5 + 5);
        w.flush().await.unwrap();
        assert_eq!(w.pending_write_bytes(), 0);
        w.close();
        assert_eq!(
            r.read_until_close().await.unwrap(),
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello|tail"
        );
    });
}

#[test]
fn peer_reset_mid_write_gives_closed_with_the_os_error() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    run(async move {
        let client = TcpClient::connect("127.0.0.1", port, None).await.unwrap();
        let (server_side, _) = listener.accept().unwrap();
        let server_side = IOStream::from_tcp(server_side).unwrap();
        // The peer never reads: a 32 MiB write cannot complete.
        let writer = {
            let client = client.clone();
            reactor::spawn(async move { client.write(&vec![7u8; 32 << 20]).await })
        };
        let reader = {
            let client = client.clone();
            reactor::spawn(async move { client.read_bytes(1, false).await })
        };
        while client.pending_write_bytes() == 0 {
            reactor::yield_now().await;
        }
        // Reset: SO_LINGER 0, then close, sends a RST.
        server_side.set_linger(Some(0)).unwrap();
        server_side.close();
        let is_reset = |e: &std::io::Error| {
            matches!(
                e.kind(),
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
            )
        };
        match writer.await.unwrap() {
            Err(StreamError::Closed { source: Some(e) }) => assert!(is_reset(&e), "{e:?}"),
            other => panic!("expected Closed with an OS error, got {other:?}"),
        }
        match reader.await.unwrap() {
            Err(StreamError::Closed { source: Some(e) }) => assert!(is_reset(&e), "{e:?}"),
            other => panic!("expected Closed with an OS error, got {other:?}"),
        }
        assert!(client.closed());
        assert!(is_reset(client.error().unwrap()));
    });
}

#[test]
fn shutdown_write_sends_eof_but_keeps_reading() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let s = TcpClient::connect("127.0.0.1", port, None).await.unwrap();
        let (peer, _) = listener.accept().unwrap();
        let peer = IOStream::from_tcp(peer).unwrap();
        s.write_buffer().extend_from_slice(b"bye");
        s.shutdown_write().await.unwrap();
        assert_eq!(peer.read_until_close().await.unwrap_or_default(), b"bye");
        let _ = TcpStream::connect(("127.0.0.1", port)); // the listener is still fine
        assert!(!s.closed());
    });
}

#[test]
fn keep_alive_writes_reuse_the_buffer() {
    run(async {
        let (a, b) = UnixStream::pair().unwrap();
        let w = IOStream::from_unix(a).unwrap();
        let r = IOStream::from_unix(b).unwrap();
        let rc = Rc::new(());
        for i in 0..100 {
            let _keep = rc.clone();
            let resp = format!("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{:02}", i % 100);
            w.write_buffer().extend_from_slice(resp.as_bytes());
            w.flush().await.unwrap();
            let got = r.read_bytes(resp.len(), false).await.unwrap();
            assert_eq!(got, resp.as_bytes());
        }
        assert!(w.buffer_capacity() <= 1024, "{}", w.buffer_capacity());
    });
}

#[test]
fn reset_after_data_delivers_the_data_then_the_error() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    run(async move {
        let client = TcpClient::connect("127.0.0.1", port, None).await.unwrap();
        let (peer, _) = listener.accept().unwrap();
        let peer = IOStream::from_tcp(peer).unwrap();
        peer.write(b"last words").await.unwrap();
        peer.set_linger(Some(0)).unwrap();
        peer.close(); // RST after the data
        match client.read_until(b"\n", None).await {
            Err(StreamError::Closed { source: Some(e) }) => {
                assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e:?}")
            }
            other => panic!("expected Closed(ECONNRESET), got {other:?}"),
        }
        // Nothing that arrived is lost.
        assert_eq!(&*client.buffered(), b"last words");
        assert_eq!(client.read_until_close().await.unwrap(), b"last words");
    });
}
