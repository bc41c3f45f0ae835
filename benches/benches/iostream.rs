//! The stream layer: finding the end of a request head when its bytes arrive in N-byte
//! pieces, and 1 MiB through the write buffer, next to tokio's `BufReader` and `write_all`.
//!
//! Run: `cargo bench -p benches --bench iostream`.

mod common;

use std::io::Write;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use common::Clock;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use iostream::IOStream;
use reactor::Reactor;

/// A browser-like request head: 368 bytes, 9 lines.
const HEAD: &[u8] = b"GET /plaintext?page=1 HTTP/1.1\r\n\
Host: localhost:8080\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br\r\n\
Connection: keep-alive\r\n\
Cookie: session=0123456789abcdef0123456789abcdef; theme=dark\r\n\
\r\n";

/// Bytes waiting to be read on `fd` (`FIONREAD`).
fn unread(fd: RawFd) -> usize {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one c_int through the pointer, which points to a live c_int.
    let rc = unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) };
    assert_eq!(rc, 0, "FIONREAD failed");
    n as usize
}

/// Sends `iters` heads in `piece`-byte writes, each written only once the reader has taken
/// the one before (so a piece really is what one read finds), yielding to the loop between.
async fn feed<Y: std::future::Future<Output = ()>>(
    w: UnixStream,
    reader_fd: RawFd,
    piece: usize,
    iters: u64,
    yield_now: impl Fn() -> Y,
) {
    for _ in 0..iters {
        for chunk in HEAD.chunks(piece) {
            while unread(reader_fd) > 0 {
                yield_now().await;
            }
            (&w).write_all(chunk).unwrap();
            yield_now().await;
        }
    }
}

/// Ours, Tornado's API: `read_until(b"\r\n\r\n")`, which returns the head as a new `Vec`.
fn read_until_ours(r: &Reactor, piece: usize, iters: u64) -> Duration {
    let (w, rd) = common::socketpair().unwrap();
    let fd = rd.as_raw_fd();
    r.block_on(async move {
        let stream = IOStream::from_unix(rd).unwrap();
        let writer = reactor::spawn(feed(w, fd, piece, iters, reactor::yield_now));
        let reader = reactor::spawn(async move {
            let start = Clock::now();
            for _ in 0..iters {
                let head = stream.read_until(b"\r\n\r\n", Some(65536)).await.unwrap();
                assert_eq!(head.len(), HEAD.len());
            }
            Clock::now() - start
        });
        writer.await.unwrap();
        reader.await.unwrap()
    })
}

/// Ours, the zero-copy path `http1` uses: `fill_until` then `consume`, nothing allocated.
fn fill_until_ours(r: &Reactor, piece: usize, iters: u64) -> Duration {
    let (w, rd) = common::socketpair().unwrap();
    let fd = rd.as_raw_fd();
    r.block_on(async move {
        let stream = IOStream::from_unix(rd).unwrap();
        let writer = reactor::spawn(feed(w, fd, piece, iters, reactor::yield_now));
        let reader = reactor::spawn(async move {
            let start = Clock::now();
            for _ in 0..iters {
                let end = stream.fill_until(b"\r\n\r\n", 65536).await.unwrap();
                assert_eq!(end, HEAD.len());
                stream.consume(end);
            }
            Clock::now() - start
        });
        writer.await.unwrap();
        reader.await.unwrap()
    })
}

/// tokio: `BufReader::read_until(b'\n')` line by line until the empty line, into one reused
/// `Vec` (tokio has no multi-byte delimiter).
fn read_until_tokio(rt: &tokio::runtime::Runtime, piece: usize, iters: u64) -> Duration {
    use tokio::io::AsyncBufReadExt;
    let (w, rd) = common::socketpair().unwrap();
    let fd = rd.as_raw_fd();
    rt.block_on(async move {
        let rd = tokio::net::UnixStream::from_std(rd).unwrap();
        let mut rd = tokio::io::BufReader::new(rd);
        let writer = tokio::spawn(feed(w, fd, piece, iters, tokio::task::yield_now));
        let reader = tokio::spawn(async move {
            let mut head = Vec::new();
            let start = Clock::now();
            for _ in 0..iters {
                head.clear();
                loop {
                    let line = head.len();
                    rd.read_until(b'\n', &mut head).await.unwrap();
                    if &head[line..] == b"\r\n" {
                        break;
                    }
                }
                assert_eq!(head.len(), HEAD.len());
            }
            Clock::now() - start
        });
        writer.await.unwrap();
        reader.await.unwrap()
    })
}

fn read_until_head(c: &mut Criterion<Clock>) {
    let mut g = c.benchmark_group("iostream/read_until_head");
    let r = Reactor::new().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    for piece in [1, 64, 1460] {
        g.bench_function(BenchmarkId::new("ours_read_until", piece), |b| {
            b.iter_custom(|n| read_until_ours(&r, piece, n))
        });
        g.bench_function(BenchmarkId::new("ours_fill_until", piece), |b| {
            b.iter_custom(|n| fill_until_ours(&r, piece, n))
        });
        g.bench_function(BenchmarkId::new("tokio", piece), |b| {
            b.iter_custom(|n| read_until_tokio(&rt, piece, n))
        });
    }
    g.finish();
}

const MIB: usize = 1 << 20;

/// 1 MiB written by one task and read by another over a socket pair (default buffer sizes),
/// `iters` times. (In every bench here, the tasks are spawned: `block_on` only waits for them,
/// so that each runtime runs them through its ordinary task path.)
fn write_ours(r: &Reactor, iters: u64) -> Duration {
    let (a, b) = common::socketpair().unwrap();
    r.block_on(async move {
        let w = IOStream::from_unix(a).unwrap();
        let rd = IOStream::from_unix(b).unwrap();
        let data = vec![7u8; MIB];
        let reader = reactor::spawn(async move {
            let mut buf = vec![0u8; MIB];
            for _ in 0..iters {
                rd.read_into(&mut buf, false).await.unwrap();
            }
        });
        let writer = reactor::spawn(async move {
            let start = Clock::now();
            for _ in 0..iters {
                w.write(&data).await.unwrap();
            }
            start
        });
        let start = writer.await.unwrap();
        reader.await.unwrap();
        Clock::now() - start
    })
}

fn write_tokio(rt: &tokio::runtime::Runtime, iters: u64) -> Duration {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (a, b) = common::socketpair().unwrap();
    rt.block_on(async move {
        let mut w = tokio::net::UnixStream::from_std(a).unwrap();
        let mut rd = tokio::net::UnixStream::from_std(b).unwrap();
        let data = vec![7u8; MIB];
        let reader = tokio::spawn(async move {
            let mut buf = vec![0u8; MIB];
            for _ in 0..iters {
                rd.read_exact(&mut buf).await.unwrap();
            }
        });
        let writer = tokio::spawn(async move {
            let start = Clock::now();
            for _ in 0..iters {
                w.write_all(&data).await.unwrap();
            }
            start
        });
        let start = writer.await.unwrap();
        reader.await.unwrap();
        Clock::now() - start
    })
}

fn write_1mib(c: &mut Criterion<Clock>) {
    let mut g = c.benchmark_group("iostream/write_1mib");
    g.throughput(Throughput::Bytes(MIB as u64));
    let r = Reactor::new().unwrap();
    g.bench_function("ours", |b| b.iter_custom(|n| write_ours(&r, n)));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    g.bench_function("tokio", |b| b.iter_custom(|n| write_tokio(&rt, n)));
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = read_until_head, write_1mib
}
criterion_main!(benches);
