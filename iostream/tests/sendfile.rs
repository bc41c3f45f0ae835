//! `IOStream::sendfile` over real sockets: offsets and lengths, ordering after queued bytes,
//! a file larger than the socket buffers to a slow reader, a file shorter than asked, a
//! closed peer.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use iostream::{IOStream, StreamError};
use reactor::Reactor;

fn temp_file(data: &[u8]) -> File {
    let path = std::env::temp_dir().join(format!(
        "iostream-sendfile-{}-{}",
        std::process::id(),
        data.len()
    ));
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    f.write_all(data).unwrap();
    f
}

fn bytes(len: usize) -> Vec<u8> {
    (0..len as u64).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[test]
fn ranges_in_order_after_queued_bytes() {
    let data = bytes(100_000);
    let file = temp_file(&data);
    let (a, b) = UnixStream::pair().unwrap();
    Reactor::new().unwrap().block_on(async {
        let a = IOStream::new(a.into()).unwrap();
        let b = IOStream::new(b.into()).unwrap();
        a.write_buffer().extend_from_slice(b"head:");
        a.sendfile(&file, 10, 20).await.unwrap();
        a.write(b":mid:").await.unwrap();
        a.sendfile(&file, 99_990, 10).await.unwrap();
        a.sendfile(&file, 0, 0).await.unwrap();
        let mut want = b"head:".to_vec();
        want.extend_from_slice(&data[10..30]);
        want.extend_from_slice(b":mid:");
        want.extend_from_slice(&data[99_990..]);
        assert_eq!(b.read_bytes(want.len(), false).await.unwrap(), want);
    });
}

#[test]
fn a_big_file_to_a_slow_tcp_reader() {
    const LEN: usize = 24 << 20;
    let data = bytes(LEN);
    let file = temp_file(&data);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let reader = std::thread::spawn(move || {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let mut got = Vec::with_capacity(LEN);
        let mut buf = [0u8; 64 * 1024];
        std::thread::sleep(Duration::from_millis(50)); // let the sender fill the buffers
        loop {
            let n = s.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        got
    });
    let (conn, _) = listener.accept().unwrap();
    Reactor::new().unwrap().block_on(async {
        let s = IOStream::from_tcp(conn).unwrap();
        s.sendfile(&file, 0, LEN as u64).await.unwrap();
        assert!(
            s.buffer_capacity() < 64 * 1024,
            "no user-space copy of the file"
        );
        s.close();
    });
    let got = reader.join().unwrap();
    assert_eq!(got.len(), LEN);
    assert!(got == data, "bytes differ");
}

#[test]
fn a_short_file_is_an_error_and_a_closed_peer_too() {
    let file = temp_file(b"only ten!!");
    let (a, b) = UnixStream::pair().unwrap();
    Reactor::new().unwrap().block_on(async {
        let a = IOStream::new(a.into()).unwrap();
        let e = a.sendfile(&file, 5, 100).await.unwrap_err();
        match e {
            StreamError::Io(e) => assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof),
            other => panic!("{other:?}"),
        }
        assert!(!a.closed(), "the caller decides");
        drop(b);
        let big = temp_file(&bytes(4 << 20));
        assert!(a.sendfile(&big, 0, 4 << 20).await.is_err());
    });
}
