//! The `futures-io` traits of `IOStream` and `BufStream` over socket pairs (plain) and a TLS
//! connection: buffered bytes first, `0` at the end, writes queued up to the limit and
//! `Pending` when it is full, flush, close as a half-close, `AsyncBufRead` lines.

use std::future::poll_fn;
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use futures_io::AsyncWrite;
use futures_util::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, StreamExt};
use iostream::TlsServerConfig;
use iostream::{BufStream, IOStream, TcpClient, TcpServer, TlsAcceptor, TlsConnector};
use reactor::Reactor;

fn pair() -> (IOStream, IOStream) {
    let (a, b) = UnixStream::pair().unwrap();
    (
        IOStream::new(a.into()).unwrap(),
        IOStream::new(b.into()).unwrap(),
    )
}

#[test]
fn read_returns_buffered_bytes_first_then_zero_at_the_end() {
    Reactor::new().unwrap().block_on(async {
        let (a, mut b) = pair();
        a.write(b"hello world").await.unwrap();
        assert_eq!(b.read_until(b" ", None).await.unwrap(), b"hello ");
        // "world" is in b's read buffer: the trait hands it out before reading.
        let mut three = [0u8; 3];
        assert_eq!(b.read(&mut three).await.unwrap(), 3);
        assert_eq!(&three, b"wor");
        let mut rest = [0u8; 64];
        assert_eq!(b.read(&mut rest).await.unwrap(), 2);
        assert_eq!(&rest[..2], b"ld");
        a.write(b"!").await.unwrap();
        a.close();
        assert_eq!(b.read(&mut rest).await.unwrap(), 1);
        assert_eq!(b.read(&mut rest).await.unwrap(), 0, "end of stream");
        assert_eq!(b.read(&mut rest).await.unwrap(), 0, "and it stays ended");
    });
}

#[test]
fn a_reset_is_an_error_not_an_end() {
    Reactor::new().unwrap().block_on(async {
        // SO_LINGER 0 makes the server's close an RST.
        let server = TcpServer::new(|s: IOStream, _| {
            s.set_linger(Some(0)).unwrap();
            s.close();
        });
        let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
        let mut c = TcpClient::connect("127.0.0.1", port, None).await.unwrap();
        let mut buf = [0u8; 16];
        let err = c.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset, "{err}");
    });
}

#[test]
fn a_read_while_another_is_outstanding_is_refused() {
    Reactor::new().unwrap().block_on(async {
        let (_a, b) = pair();
        let reader = {
            let b = b.clone();
            reactor::spawn(async move { b.read_until(b"\n", None).await })
        };
        reactor::sleep(Duration::from_millis(10)).await;
        let mut buf = [0u8; 4];
        let err = b.clone().read(&mut buf).await.unwrap_err();
        assert!(err.to_string().contains("already pending"), "{err}");
        b.close();
        assert!(reader.await.unwrap().is_err());
    });
}

#[test]
fn write_queues_and_flush_sends() {
    Reactor::new().unwrap().block_on(async {
        let (mut a, b) = pair();
        assert_eq!(AsyncWriteExt::write(&mut a, b"queued").await.unwrap(), 6);
        assert_eq!(a.pending_write_bytes(), 6, "poll_write only queues");
        assert_eq!(b.try_fill().unwrap(), 0, "nothing sent before the flush");
        AsyncWriteExt::flush(&mut a).await.unwrap();
        assert_eq!(a.pending_write_bytes(), 0);
        assert_eq!(b.read_bytes(6, false).await.unwrap(), b"queued");
    });
}

#[test]
fn write_is_pending_when_the_queue_is_full_and_resumes_when_the_peer_reads() {
    Reactor::new().unwrap().block_on(async {
        let (a, b) = pair();
        a.set_max_write_buffer_size(1000);
        // A write larger than the room left is taken in part.
        let mut w = a.clone();
        assert_eq!(
            AsyncWriteExt::write(&mut w, &[1u8; 1500]).await.unwrap(),
            1000
        );
        // Fill the socket too: poll until a write is Pending (the queue full, the kernel's
        // buffer full), with a bound so a bug cannot loop forever.
        let mut queued = 1000usize;
        let mut pending = false;
        for _ in 0..100_000 {
            let r = poll_fn(|cx| Poll::Ready(Pin::new(&mut w).poll_write(cx, &[2u8; 1000]))).await;
            match r {
                Poll::Ready(n) => queued += n.unwrap(),
                Poll::Pending => {
                    pending = true;
                    break;
                }
            }
        }
        assert!(pending, "the write never waited after {queued} bytes");
        assert_eq!(
            a.pending_write_bytes(),
            1000,
            "the queue stays within its limit"
        );
        // The peer reads everything; the waiting writer is woken and finishes.
        let writer = {
            let mut w = a.clone();
            reactor::spawn(async move {
                w.write_all(&[3u8; 5000]).await.unwrap();
                AsyncWriteExt::close(&mut w).await.unwrap();
            })
        };
        let all = b.read_until_close().await.unwrap();
        writer.await.unwrap();
        assert_eq!(all.len(), queued + 5000);
        assert!(all[queued..].iter().all(|&x| x == 3));
    });
}

#[test]
fn a_large_copy_through_the_traits_arrives_intact() {
    Reactor::new().unwrap().block_on(async {
        let (a, b) = pair();
        a.set_max_write_buffer_size(64 * 1024);
        let data: Vec<u8> = (0..4 << 20).map(|i| (i % 251) as u8).collect();
        let writer = {
            let (mut a, data) = (a.clone(), data.clone());
            reactor::spawn(async move {
                for piece in data.chunks(10_000) {
                    a.write_all(piece).await.unwrap();
                }
                AsyncWriteExt::close(&mut a).await.unwrap();
            })
        };
        let mut got = Vec::new();
        b.clone().read_to_end(&mut got).await.unwrap();
        writer.await.unwrap();
        assert!(got == data, "4 MiB came back changed ({} bytes)", got.len());
    });
}

#[test]
fn close_is_a_half_close() {
    Reactor::new().unwrap().block_on(async {
        let (mut a, b) = pair();
        a.write_all(b"bye").await.unwrap();
        AsyncWriteExt::close(&mut a).await.unwrap();
        assert_eq!(b.read_until_close().await.unwrap(), b"bye");
        // The closing side can still read what the other side sends after that.
        let (c, mut d) = pair();
        AsyncWriteExt::close(&mut d).await.unwrap();
        c.write(b"still here").await.unwrap();
        c.close();
        let mut buf = Vec::new();
        d.read_to_end(&mut buf).await.unwrap();
        assert_eq!(buf, b"still here");
    });
}

#[test]
fn buf_stream_lends_lines_and_gives_back_the_rest() {
    Reactor::new().unwrap().block_on(async {
        let (a, b) = pair();
        a.write(b"one\ntwo\nthr").await.unwrap();
        let mut lines = BufStream::new(b).lines();
        assert_eq!(lines.next().await.unwrap().unwrap(), "one");
        assert_eq!(lines.next().await.unwrap().unwrap(), "two");
        a.write(b"ee\nfour").await.unwrap();
        a.close();
        assert_eq!(lines.next().await.unwrap().unwrap(), "three");
        assert_eq!(lines.next().await.unwrap().unwrap(), "four");
        assert!(lines.next().await.is_none());

        // into_inner: what was not consumed goes back in front of the stream's buffer.
        let (a, b) = pair();
        a.write(b"head\nbody").await.unwrap();
        let mut buf = BufStream::new(b);
        let mut line = String::new();
        buf.read_line(&mut line).await.unwrap();
        assert_eq!(line, "head\n");
        assert_eq!(buf.buffer(), b"body");
        a.write(b" more").await.unwrap();
        let b = buf.into_inner();
        b.fill(9).await.unwrap();
        assert_eq!(&*b.buffered(), b"body more");
    });
}

#[test]
fn tls_streams_read_write_and_close_through_the_traits() {
    let Some(c) = testkit::certs::make() else {
        return;
    };
    let connector = TlsConnector::with_ca_file(c.ca()).unwrap();
    let (cert, key) = c.localhost();
    Reactor::new().unwrap().block_on(async {
        let acceptor = TlsAcceptor::new(TlsServerConfig::new(cert, key)).unwrap();
        // An echo server written with the traits, line by line, until the client's end.
        let server = TcpServer::with_tls(
            |s: IOStream, _| {
                reactor::spawn(async move {
                    let mut w = s.clone();
                    let mut lines = BufStream::new(s).lines();
                    while let Some(Ok(line)) = lines.next().await {
                        w.write_all(format!("echo {line}\n").as_bytes())
                            .await
                            .unwrap();
                        AsyncWriteExt::flush(&mut w).await.unwrap();
                    }
                    // The client's end closed the stream (Tornado's rule): closing again is Ok.
                    AsyncWriteExt::close(&mut w).await.unwrap();
                });
            },
            acceptor,
        );
        let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
        let mut client = TcpClient::connect_tls("localhost", port, &connector, None)
            .await
            .unwrap();
        client.write_all(b"one\ntwo\n").await.unwrap();
        AsyncWriteExt::flush(&mut client).await.unwrap();
        assert_eq!(client.read_until(b"\n", None).await.unwrap(), b"echo one\n");
        // close_notify and the half-close: the server's lines end and it closes; the client
        // still reads what came before that.
        AsyncWriteExt::close(&mut client).await.unwrap();
        let mut rest = String::new();
        client.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "echo two\n");
    });
}
