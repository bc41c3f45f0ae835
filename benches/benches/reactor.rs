//! The poll loop: one idle turn, a wake from another thread, and a 64-byte ping-pong over a
//! socket pair, each next to mio (the bare poller) and, for the ping-pong, tokio.
//!
//! Run: `cargo bench -p benches --bench reactor`.

mod common;

use std::cell::Cell;
use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use common::Clock;
use criterion::{criterion_group, criterion_main, Criterion};
use reactor::{Interest, Reactor, Registration};

const MSG: [u8; 64] = [b'x'; 64];

/// One loop turn with nothing ready: a queued callback makes the turn's `epoll_wait` return at
/// once (zero timeout), and it stops the loop, so `run` takes exactly one turn. (`stop` before
/// `run` would take none: `run` checks the flag before its first turn.)
fn turn_idle(c: &mut Criterion<Clock>) {
    let mut g = c.benchmark_group("reactor/turn_idle");
    let r = Reactor::new().unwrap();
    g.bench_function("ours", |b| {
        b.iter(|| {
            r.add_callback(|| Reactor::current().stop());
            r.run();
        })
    });
    let mut poll = mio::Poll::new().unwrap();
    let mut events = mio::Events::with_capacity(1024);
    g.bench_function("mio", |b| {
        b.iter(|| poll.poll(&mut events, Some(Duration::ZERO)).unwrap())
    });
    g.finish();
}

/// Another thread wakes the blocked loop, which then runs the callback. The other thread
/// spins waiting for the request, so the figure is the wake path itself: ours queues a
/// callback (`Remote::add_callback`: lock, push, eventfd write), mio writes its eventfd
/// `Waker`. With the default CPU clock this is the loop thread's CPU per wake (its cost:
/// leaving and re-entering `epoll_wait`, draining the wake, running the callback); with
/// `BENCH_CLOCK=wall` it is the latency, which on a busy two-core machine is mostly
/// scheduler noise.
fn wake_remote(c: &mut Criterion<Clock>) {
    let mut g = c.benchmark_group("reactor/wake_remote");
    let r = Reactor::new().unwrap();
    let remote = r.remote();
    let spinner = common::Spinner::start(move || {
        remote.add_callback(|| Reactor::current().stop());
    });
    g.bench_function("ours", |b| {
        b.iter_custom(|iters| {
            let start = Clock::now();
            for _ in 0..iters {
                spinner.request();
                r.run();
            }
            Clock::now() - start
        })
    });
    drop(spinner);

    let mut poll = mio::Poll::new().unwrap();
    let mut events = mio::Events::with_capacity(1024);
    let waker = Arc::new(mio::Waker::new(poll.registry(), mio::Token(7)).unwrap());
    let w = waker.clone();
    let spinner = common::Spinner::start(move || w.wake().unwrap());
    g.bench_function("mio", |b| {
        b.iter_custom(|iters| {
            let start = Clock::now();
            for _ in 0..iters {
                spinner.request();
                'wait: loop {
                    poll.poll(&mut events, None).unwrap();
                    for ev in events.iter() {
                        if ev.token() == mio::Token(7) {
                            break 'wait;
                        }
                    }
                }
            }
            Clock::now() - start
        })
    });
    drop(spinner);
    g.finish();
}

/// Reads what is there into `buf`: `Ok(0)` at EOF, `WouldBlock` when empty.
fn read_some(mut s: &UnixStream, buf: &mut [u8]) -> io::Result<usize> {
    s.read(buf)
}

/// One read through a `Registration`; a short read clears the readiness flag (the socket is
/// drained), as `iostream` and tokio do, so that the next read waits for an event instead of
/// making a `read` that returns `EAGAIN`.
async fn read_registered(reg: &Registration, s: &UnixStream, buf: &mut [u8]) -> usize {
    let n = poll_fn(|cx| reg.poll_read_with(cx, || read_some(s, buf)))
        .await
        .unwrap();
    if n > 0 && n < buf.len() {
        reg.clear_readable();
    }
    n
}

/// `iters` round trips of 64 bytes, A -> B -> A, with Tornado-style level-triggered
/// `add_handler` callbacks: B echoes, A counts and sends the next ping.
fn pingpong_ours_handler(iters: u64) -> Duration {
    let r = Reactor::new().unwrap();
    let (a, b) = common::socketpair().unwrap();
    let (a, b) = (Rc::new(a), Rc::new(b));
    let b2 = b.clone();
    let mut buf = vec![0u8; 4096];
    let hb = r
        .add_handler(b.as_raw_fd(), Interest::READABLE, move |_| {
            if let Ok(n @ 1..) = read_some(&b2, &mut buf) {
                (&*b2).write_all(&buf[..n]).unwrap();
            }
        })
        .unwrap();
    let count = Rc::new(Cell::new(0u64));
    let (a2, c2, r2) = (a.clone(), count.clone(), r.clone());
    let mut buf = vec![0u8; 4096];
    let ha = r
        .add_handler(a.as_raw_fd(), Interest::READABLE, move |_| {
            if let Ok(1..) = read_some(&a2, &mut buf) {
                c2.set(c2.get() + 1);
                if c2.get() == iters {
                    r2.stop();
                } else {
                    (&*a2).write_all(&MSG).unwrap();
                }
            }
        })
        .unwrap();
    let start = Clock::now();
    (&*a).write_all(&MSG).unwrap();
    r.run();
    let elapsed = Clock::now() - start;
    assert_eq!(count.get(), iters);
    r.remove_handler(ha).unwrap();
    r.remove_handler(hb).unwrap();
    elapsed
}

/// The same ping-pong between two spawned tasks awaiting edge-triggered `Registration`s: the
/// path `iostream` is built on (register once, readiness flag cleared on `EAGAIN`).
fn pingpong_ours_task(iters: u64) -> Duration {
    let r = Reactor::new().unwrap();
    let (a, b) = common::socketpair().unwrap();
    r.block_on(async move {
        let pong = reactor::spawn(async move {
            let reg = Registration::new(b.as_raw_fd()).unwrap();
            let mut buf = [0u8; 4096];
            loop {
                let n = read_registered(&reg, &b, &mut buf).await;
                if n == 0 {
                    break;
                }
                poll_fn(|cx| reg.poll_write_with(cx, || (&b).write(&buf[..n])))
                    .await
                    .unwrap();
            }
            drop(reg);
        });
        let ping = reactor::spawn(async move {
            let reg = Registration::new(a.as_raw_fd()).unwrap();
            let mut buf = [0u8; 4096];
            let start = Clock::now();
            for _ in 0..iters {
                poll_fn(|cx| reg.poll_write_with(cx, || (&a).write(&MSG)))
                    .await
                    .unwrap();
                let mut got = 0;
                while got < MSG.len() {
                    got += read_registered(&reg, &a, &mut buf).await;
                }
            }
            Clock::now() - start
        });
        let elapsed = ping.await.unwrap(); // `a` is closed: pong reads EOF and ends
        pong.await.unwrap();
        elapsed
    })
}

/// The same ping-pong as a bare mio loop: edge-triggered, a short read counts as drained (as
/// tokio does), so each side costs one `read`, one `write` and its share of `epoll_wait`.
fn pingpong_mio(iters: u64) -> Duration {
    let (a, b) = common::socketpair().unwrap();
    let mut a = mio::net::UnixStream::from_std(a);
    let mut b = mio::net::UnixStream::from_std(b);
    let mut poll = mio::Poll::new().unwrap();
    let mut events = mio::Events::with_capacity(1024);
    poll.registry()
        .register(&mut a, mio::Token(0), mio::Interest::READABLE)
        .unwrap();
    poll.registry()
        .register(&mut b, mio::Token(1), mio::Interest::READABLE)
        .unwrap();
    let mut buf = [0u8; 4096];
    let start = Clock::now();
    for _ in 0..iters {
        a.write_all(&MSG).unwrap();
        let mut got = 0;
        while got < MSG.len() {
            poll.poll(&mut events, None).unwrap();
            for ev in events.iter() {
                let s = if ev.token() == mio::Token(1) {
                    &mut b
                } else {
                    &mut a
                };
                loop {
                    match s.read(&mut buf) {
                        Ok(n) if n > 0 => {
                            if ev.token() == mio::Token(1) {
                                s.write_all(&buf[..n]).unwrap();
                            } else {
                                got += n;
                            }
                            if n < buf.len() {
                                break; // short read: the socket is drained
                            }
                        }
                        Err(e) if e.kind() != io::ErrorKind::WouldBlock => panic!("{e}"),
                        _ => break,
                    }
                }
            }
        }
    }
    Clock::now() - start
}

/// The same ping-pong between two spawned tasks on tokio's current_thread runtime.
fn pingpong_tokio(rt: &tokio::runtime::Runtime, iters: u64) -> Duration {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (a, b) = common::socketpair().unwrap();
    rt.block_on(async move {
        let mut a = tokio::net::UnixStream::from_std(a).unwrap();
        let mut b = tokio::net::UnixStream::from_std(b).unwrap();
        let pong = tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            loop {
                let n = b.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                b.write_all(&buf[..n]).await.unwrap();
            }
        });
        let ping = tokio::spawn(async move {
            let mut buf = [0u8; 64];
            let start = Clock::now();
            for _ in 0..iters {
                a.write_all(&MSG).await.unwrap();
                a.read_exact(&mut buf).await.unwrap();
            }
            Clock::now() - start
        });
        let elapsed = ping.await.unwrap();
        pong.await.unwrap();
        elapsed
    })
}

fn pingpong_64b(c: &mut Criterion<Clock>) {
    let mut g = c.benchmark_group("reactor/pingpong_64b");
    g.bench_function("ours_handler", |b| b.iter_custom(pingpong_ours_handler));
    g.bench_function("ours_task", |b| b.iter_custom(pingpong_ours_task));
    g.bench_function("mio", |b| b.iter_custom(pingpong_mio));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    g.bench_function("tokio", |b| b.iter_custom(|n| pingpong_tokio(&rt, n)));
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = turn_idle, wake_remote, pingpong_64b
}
criterion_main!(benches);
