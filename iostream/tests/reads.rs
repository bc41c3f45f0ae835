//! Reads over real sockets: every read method with the data split at every byte boundary,
//! delimiters spanning reads, `max_bytes`, reads after the peer closed, one read at a time.

use std::future::Future;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::Duration;

use iostream::{IOStream, StreamError};
use reactor::Reactor;

const MSG: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY";
const HEAD_END: usize = 27; // just past "\r\n\r\n"

fn run<F: Future>(f: F) -> F::Output {
    Reactor::new().unwrap().block_on(f)
}

fn pair() -> (IOStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    (IOStream::from_unix(a).unwrap(), b)
}

/// A stream that has read `first` in one read (so the rest arrives in a later read), with
/// `rest` written after it and, if `close`, the peer closed.
fn split_stream(first: &[u8], rest: &[u8], close: bool) -> (IOStream, Option<UnixStream>) {
    let (s, mut peer) = pair();
    peer.write_all(first).unwrap();
    let n = s.try_fill().unwrap();
    assert_eq!(n, first.len());
    peer.write_all(rest).unwrap();
    if close {
        drop(peer);
        (s, None)
    } else {
        (s, Some(peer))
    }
}

#[derive(Debug, Clone, Copy)]
enum Method {
    ReadUntil,
    ReadUntilRegex,
    ReadBytes,
    ReadBytesPartial,
    ReadUntilClose,
    ReadInto,
    ReadIntoPartial,
    FillUntil,
    Fill,
}

const METHODS: [Method; 9] = [
    Method::ReadUntil,
    Method::ReadUntilRegex,
    Method::ReadBytes,
    Method::ReadBytesPartial,
    Method::ReadUntilClose,
    Method::ReadInto,
    Method::ReadIntoPartial,
    Method::FillUntil,
    Method::Fill,
];

/// Runs `method` on `s` and returns what it read (for the partial ones: everything, in a loop).
async fn read_with(method: Method, s: &IOStream) -> Vec<u8> {
    let re = regex::bytes::Regex::new(r"\r\n\r\n").unwrap();
    match method {
        Method::ReadUntil => s.read_until(b"\r\n\r\n", None).await.unwrap(),
        Method::ReadUntilRegex => s.read_until_regex(&re, None).await.unwrap(),
        Method::ReadBytes => s.read_bytes(MSG.len(), false).await.unwrap(),
        Method::ReadBytesPartial => {
            let mut out = Vec::new();
            while out.len() < MSG.len() {
                let got = s.read_bytes(MSG.len() - out.len(), true).await.unwrap();
                assert!(!got.is_empty());
                out.extend_from_slice(&got);
            }
            out
        }
        Method::ReadUntilClose => s.read_until_close().await.unwrap(),
        Method::ReadInto => {
            let mut buf = vec![0u8; MSG.len()];
            assert_eq!(s.read_into(&mut buf, false).await.unwrap(), MSG.len());
            buf
        }
        Method::ReadIntoPartial => {
            let mut buf = vec![0u8; MSG.len()];
            let mut filled = 0;
            while filled < MSG.len() {
                let n = s.read_into(&mut buf[filled..], true).await.unwrap();
                assert!(n > 0);
                filled += n;
            }
            buf
        }
        Method::FillUntil => {
            let end = s.fill_until(b"\r\n\r\n", 1024).await.unwrap();
            let head = s.buffered()[..end].to_vec();
            s.consume(end);
            head
        }
        Method::Fill => {
            let n = s.fill(MSG.len()).await.unwrap();
            assert_eq!(n, MSG.len());
            let all = s.buffered().to_vec();
            s.consume(n);
            all
        }
    }
}

fn expected(method: Method) -> &'static [u8] {
    match method {
        Method::ReadUntil | Method::ReadUntilRegex | Method::FillUntil => &MSG[..HEAD_END],
        _ => MSG,
    }
}

#[test]
fn every_read_method_at_every_split() {
    run(async {
        for method in METHODS {
            for i in 0..=MSG.len() {
                let close = matches!(method, Method::ReadUntilClose);
                let (s, _peer) = split_stream(&MSG[..i], &MSG[i..], close);
                let got = read_with(method, &s).await;
                assert_eq!(got, expected(method), "{method:?} split at {i}");
                if matches!(method, Method::ReadUntil | Method::ReadUntilRegex) {
                    // What follows the delimiter stays buffered for the next read.
                    let rest = s.read_bytes(4, false).await.unwrap();
                    assert_eq!(rest, b"BODY", "{method:?} split at {i}");
                }
            }
        }
    });
}

/// Writes `data` one byte per loop turn while the stream is reading.
fn trickle(peer: UnixStream, data: Vec<u8>) -> reactor::JoinHandle<()> {
    reactor::spawn(async move {
        let mut peer = peer;
        for b in data {
            peer.write_all(&[b]).unwrap();
            reactor::yield_now().await;
        }
    })
}

#[test]
fn delimiters_spanning_reads_one_byte_at_a_time() {
    run(async {
        for method in METHODS {
            if matches!(method, Method::ReadUntilClose) {
                continue;
            }
            let (s, peer) = pair();
            let writer = trickle(peer, MSG.to_vec());
            let got = read_with(method, &s).await;
            assert_eq!(got, expected(method), "{method:?}");
            writer.await.unwrap();
        }
    });
}

#[test]
fn long_head_arriving_byte_by_byte_is_found() {
    // 64 KiB without the delimiter, one byte per read: each byte is searched once.
    run(async {
        let (s, peer) = pair();
        let mut data = vec![b'a'; 64 * 1024];
        data.extend_from_slice(b"\r\n\r\ntail");
        let len = data.len();
        let writer = trickle(peer, data);
        let head = s.read_until(b"\r\n\r\n", None).await.unwrap();
        assert_eq!(head.len(), len - 4);
        writer.await.unwrap();
        assert_eq!(s.read_bytes(4, false).await.unwrap(), b"tail");
    });
}

#[test]
fn max_bytes_exceeded_is_unsatisfiable_and_closes() {
    run(async {
        // No delimiter within max_bytes.
        let (s, mut peer) = pair();
        peer.write_all(b"0123456789abcdef").unwrap();
        match s.read_until(b"\r\n", Some(8)).await {
            Err(StreamError::Unsatisfiable { max_bytes: 8 }) => {}
            other => panic!("expected Unsatisfiable, got {other:?}"),
        }
        assert!(s.closed());

        // The delimiter is there but ends past max_bytes.
        let (s, mut peer) = pair();
        peer.write_all(b"0123456789\r\n").unwrap();
        assert!(matches!(
            s.read_until(b"\r\n", Some(11)).await,
            Err(StreamError::Unsatisfiable { .. })
        ));
        assert!(s.closed());

        // Ending exactly at max_bytes is fine.
        let (s, mut peer) = pair();
        peer.write_all(b"0123456789\r\n").unwrap();
        assert_eq!(
            s.read_until(b"\r\n", Some(12)).await.unwrap(),
            b"0123456789\r\n"
        );

        // The same for fill_until and the regex read; the data arrives in pieces.
        let (s, peer) = pair();
        let w = trickle(peer, b"xxxxxxxxxxxxxxxxxxxx".to_vec());
        assert!(matches!(
            s.fill_until(b"\n", 10).await,
            Err(StreamError::Unsatisfiable { max_bytes: 10 })
        ));
        assert!(s.closed());
        let _ = w.await;

        let (s, mut peer) = pair();
        peer.write_all(b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").unwrap();
        let re = regex::bytes::Regex::new("b+").unwrap();
        assert!(matches!(
            s.read_until_regex(&re, Some(16)).await,
            Err(StreamError::Unsatisfiable { .. })
        ));
        assert!(s.closed());
    });
}

#[test]
fn max_buffer_size_exceeded_is_buffer_full() {
    run(async {
        let (s, mut peer) = pair();
        s.set_max_buffer_size(1000);
        peer.write_all(&[b'z'; 4000]).unwrap();
        assert!(matches!(
            s.read_until(b"\n", None).await,
            Err(StreamError::BufferFull)
        ));
        assert!(s.closed());
    });
}

#[test]
fn reads_after_peer_closed_deliver_buffered_bytes_first() {
    run(async {
        let (s, mut peer) = pair();
        peer.write_all(b"line one\r\nline two\r\npartial").unwrap();
        drop(peer);
        assert_eq!(s.read_until(b"\r\n", None).await.unwrap(), b"line one\r\n");
        assert_eq!(s.read_until(b"\r\n", None).await.unwrap(), b"line two\r\n");
        // No delimiter any more: Closed (a clean EOF, so no OS error)...
        match s.read_until(b"\r\n", None).await {
            Err(StreamError::Closed { source: None }) => {}
            other => panic!("expected Closed, got {other:?}"),
        }
        assert!(s.closed());
        // ...but the bytes are still there.
        assert_eq!(&*s.buffered(), b"partial");
        assert!(matches!(
            s.read_bytes(100, false).await,
            Err(StreamError::Closed { .. })
        ));
        assert_eq!(s.read_bytes(3, false).await.unwrap(), b"par");
        assert_eq!(s.read_bytes(100, true).await.unwrap(), b"tial");
        assert_eq!(s.read_until_close().await.unwrap(), b"");

        // read_into: a non-partial read cut short puts the bytes back.
        let (s, mut peer) = pair();
        peer.write_all(b"abc").unwrap();
        drop(peer);
        let mut buf = [0u8; 10];
        assert!(matches!(
            s.read_into(&mut buf, false).await,
            Err(StreamError::Closed { .. })
        ));
        assert_eq!(s.read_until_close().await.unwrap(), b"abc");

        // read_until_close gathers everything up to the EOF.
        let (s, mut peer) = pair();
        let writer = reactor::spawn(async move {
            for i in 0..100u8 {
                peer.write_all(&[i; 100]).unwrap();
                reactor::yield_now().await;
            }
        });
        let all = s.read_until_close().await.unwrap();
        writer.await.unwrap();
        assert_eq!(all.len(), 10_000);
        assert!(all
            .chunks(100)
            .enumerate()
            .all(|(i, c)| c.iter().all(|&b| b == i as u8)));
    });
}

#[test]
fn one_read_at_a_time() {
    run(async {
        let (s, mut peer) = pair();
        let s = Rc::new(s);
        let first = {
            let s = s.clone();
            reactor::spawn(async move { s.read_until(b"\n", None).await })
        };
        reactor::yield_now().await; // let the first read start and wait
        assert!(matches!(
            s.read_bytes(1, false).await,
            Err(StreamError::ReadPending)
        ));
        assert!(matches!(s.fill(1).await, Err(StreamError::ReadPending)));
        assert!(matches!(s.try_fill(), Err(StreamError::ReadPending)));
        peer.write_all(b"hello\n").unwrap();
        assert_eq!(first.await.unwrap().unwrap(), b"hello\n");

        // A read whose future is dropped frees the slot.
        let r = reactor::timeout(Duration::from_millis(10), s.read_until(b"\n", None)).await;
        assert!(r.is_err());
        peer.write_all(b"again\n").unwrap();
        assert_eq!(s.read_until(b"\n", None).await.unwrap(), b"again\n");
    });
}

#[test]
fn close_wakes_a_pending_read_and_runs_the_close_callback() {
    run(async {
        let (s, _peer) = pair();
        let called = Rc::new(std::cell::Cell::new(false));
        let c = called.clone();
        s.set_close_callback(move || c.set(true));
        let reader = {
            let s = s.clone();
            reactor::spawn(async move { s.read_bytes(10, false).await })
        };
        reactor::yield_now().await;
        s.close();
        assert!(called.get());
        assert!(matches!(
            reader.await.unwrap(),
            Err(StreamError::Closed { source: None })
        ));
        assert!(s.closed());
        assert!(s.error().is_none());
        assert!(matches!(
            s.write(b"x").await,
            Err(StreamError::Closed { .. })
        ));
    });
}

#[test]
fn keep_alive_reads_reuse_the_buffer() {
    // Many small requests on one stream: the read buffer's capacity stays small and constant.
    run(async {
        let (s, mut peer) = pair();
        for i in 0..200 {
            let req = format!("GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n");
            peer.write_all(req.as_bytes()).unwrap();
            let end = s.fill_until(b"\r\n\r\n", 8192).await.unwrap();
            assert_eq!(&s.buffered()[..end], req.as_bytes());
            s.consume(end);
        }
        assert!(
            s.buffer_capacity() <= iostream::IDLE_KEEP,
            "{}",
            s.buffer_capacity()
        );
    });
}

/// A short read clears the readiness flag (no `read` that returns `EAGAIN` per request), so
/// the EOF that came in the same event as the data must still be seen, not slept through.
#[test]
fn data_and_fin_in_one_event_are_both_seen_after_a_short_read() {
    // The streams register with `Reactor::current()`, so that is the loop to run.
    // Data and FIN already there before the first read (no event dispatched yet).
    let (s, mut peer) = pair();
    peer.write_all(MSG).unwrap();
    drop(peer);
    let got = Reactor::current().block_on(async {
        reactor::timeout(Duration::from_secs(5), async {
            let head = s.read_until(b"\r\n\r\n", None).await.unwrap();
            (head, s.read_until_close().await.unwrap())
        })
        .await
    });
    let (head, rest) = got.expect("the EOF was slept through");
    assert_eq!(head, &MSG[..HEAD_END]);
    assert_eq!(rest, &MSG[HEAD_END..]);

    // Data and FIN arriving together while the stream waits (one event: IN | RDHUP).
    let (s, peer) = pair();
    let got = Reactor::current().block_on(async {
        let writer = reactor::spawn(async move {
            reactor::sleep(Duration::from_millis(5)).await;
            let mut peer = peer;
            peer.write_all(MSG).unwrap();
            drop(peer);
        });
        let out = reactor::timeout(Duration::from_secs(5), async {
            let head = s.read_until(b"\r\n\r\n", None).await.unwrap();
            (head, s.read_until_close().await.unwrap())
        })
        .await;
        writer.await.unwrap();
        out
    });
    let (head, rest) = got.expect("the EOF was slept through");
    assert_eq!(head, &MSG[..HEAD_END]);
    assert_eq!(rest, &MSG[HEAD_END..]);
}
