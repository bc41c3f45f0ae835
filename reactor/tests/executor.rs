//! The executor: spawn, join, abort, panics, wakers across threads, sleep/timeout/yield,
//! readiness through `Registration`.

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use reactor::{JoinError, Reactor, Registration};

#[test]
fn block_on_returns_the_value() {
    let reactor = Reactor::new().unwrap();
    assert_eq!(reactor.block_on(async { 7 }), 7);
    // Non-'static futures are fine.
    let local = String::from("borrowed");
    assert_eq!(reactor.block_on(async { local.len() }), 8);
}

#[test]
fn spawned_tasks_run_and_join() {
    let reactor = Reactor::new().unwrap();
    let total = reactor.block_on(async {
        let handles: Vec<_> = (0..100)
            .map(|i| {
                reactor::spawn(async move {
                    reactor::yield_now().await;
                    i
                })
            })
            .collect();
        let mut total = 0;
        for h in handles {
            total += h.await.unwrap();
        }
        total
    });
    assert_eq!(total, 4950);
}

#[test]
fn non_send_futures_can_be_spawned() {
    let reactor = Reactor::new().unwrap();
    let shared = Rc::new(Cell::new(0));
    let s = shared.clone();
    reactor.block_on(async move {
        reactor::spawn(async move { s.set(5) }).await.unwrap();
    });
    assert_eq!(shared.get(), 5);
}

#[test]
fn a_panicking_task_reports_through_its_handle_and_the_loop_lives() {
    let reactor = Reactor::new().unwrap();
    reactor.block_on(async {
        let bad = reactor::spawn(async {
            reactor::yield_now().await;
            panic!("task boom");
        });
        let good = reactor::spawn(async { 1 });
        let err = bad.await.unwrap_err();
        assert!(err.is_panic());
        assert_eq!(err.panic_message(), Some("task boom"));
        assert_eq!(good.await.unwrap(), 1);
    });
    // A detached panicking task does not take the loop down either.
    reactor.block_on(async {
        drop(reactor::spawn(async { panic!("detached boom") }));
        reactor::sleep(Duration::from_millis(2)).await;
    });
}

#[test]
fn abort_cancels_and_drops_the_future() {
    struct SetOnDrop(Rc<Cell<bool>>);
    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let reactor = Reactor::new().unwrap();
    let dropped = Rc::new(Cell::new(false));
    let d = dropped.clone();
    reactor.block_on(async move {
        let guard = SetOnDrop(d);
        let h = reactor::spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
        reactor::yield_now().await;
        h.abort();
        assert!(matches!(h.await, Err(JoinError::Cancelled)));
    });
    assert!(dropped.get());
}

#[test]
fn dropping_a_handle_detaches_the_task() {
    let reactor = Reactor::new().unwrap();
    let ran = Rc::new(Cell::new(false));
    let r = ran.clone();
    reactor.block_on(async move {
        drop(reactor::spawn(async move {
            reactor::sleep(Duration::from_millis(2)).await;
            r.set(true);
        }));
        reactor::sleep(Duration::from_millis(10)).await;
    });
    assert!(ran.get());
}

/// A future that hands its waker to the test and completes once woken.
struct WaitForWake {
    waker_out: Option<mpsc::Sender<Waker>>,
    woken: Arc<Mutex<bool>>,
}

impl Future for WaitForWake {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if *self.woken.lock().unwrap() {
            return Poll::Ready(());
        }
        if let Some(tx) = self.waker_out.take() {
            tx.send(cx.waker().clone()).unwrap();
        }
        Poll::Pending
    }
}

#[test]
fn a_waker_sent_to_another_thread_wakes_the_task() {
    let reactor = Reactor::new().unwrap();
    let (tx, rx) = mpsc::channel::<Waker>();
    let woken = Arc::new(Mutex::new(false));
    let w = woken.clone();
    let helper = std::thread::spawn(move || {
        let waker = rx.recv().unwrap();
        std::thread::sleep(Duration::from_millis(10));
        *w.lock().unwrap() = true;
        waker.wake_by_ref();
        waker.wake(); // twice is fine
    });
    let done = reactor.block_on(async {
        reactor::spawn(WaitForWake {
            waker_out: Some(tx),
            woken,
        })
        .await
    });
    assert!(done.is_ok());
    helper.join().unwrap();
}

#[test]
fn a_waker_woken_after_its_task_finished_is_harmless() {
    let reactor = Reactor::new().unwrap();
    let saved: Rc<RefCell<Option<Waker>>> = Rc::new(RefCell::new(None));
    let s = saved.clone();
    reactor.block_on(async move {
        reactor::spawn(poll_fn(move |cx| {
            *s.borrow_mut() = Some(cx.waker().clone());
            Poll::Ready(())
        }))
        .await
        .unwrap();
    });
    let waker = saved.borrow_mut().take().unwrap();
    waker.wake_by_ref(); // on the loop thread
    let w2 = waker.clone();
    std::thread::spawn(move || w2.wake()).join().unwrap(); // and from another
    reactor.block_on(reactor::sleep(Duration::from_millis(2)));
    drop(waker);
}

#[test]
fn a_task_waker_outliving_the_reactor_is_sound() {
    let saved: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
    {
        let reactor = Reactor::new().unwrap();
        let s = saved.clone();
        reactor.block_on(async move {
            drop(reactor::spawn(poll_fn(move |cx| {
                *s.lock().unwrap() = Some(cx.waker().clone());
                Poll::<()>::Pending
            })));
            reactor::yield_now().await;
        });
    }
    let waker = saved.lock().unwrap().take().unwrap();
    std::thread::spawn(move || {
        waker.wake_by_ref();
        drop(waker);
    })
    .join()
    .unwrap();
}

#[test]
fn sleep_timeout_and_yield() {
    let reactor = Reactor::new().unwrap();
    reactor.block_on(async {
        let start = Instant::now();
        reactor::sleep(Duration::from_millis(20)).await;
        assert!(start.elapsed() >= Duration::from_millis(20));

        let quick = reactor::timeout(Duration::from_secs(5), async { 3 }).await;
        assert_eq!(quick, Ok(3));
        let slow = reactor::timeout(
            Duration::from_millis(5),
            reactor::sleep(Duration::from_secs(5)),
        )
        .await;
        assert!(slow.is_err());

        // yield_now lets another task run in between.
        let flag = Rc::new(Cell::new(false));
        let f = flag.clone();
        let h = reactor::spawn(async move { f.set(true) });
        reactor::yield_now().await;
        assert!(flag.get());
        h.await.unwrap();
    });
}

#[test]
fn a_busy_task_does_not_starve_timers() {
    let reactor = Reactor::new().unwrap();
    reactor.block_on(async {
        let fired = Rc::new(Cell::new(false));
        let f = fired.clone();
        Reactor::current().call_later(Duration::from_millis(5), move || f.set(true));
        let spins = reactor::spawn(async move {
            let mut spins = 0u64;
            while !fired.get() {
                reactor::yield_now().await;
                spins += 1;
            }
            spins
        });
        assert!(spins.await.unwrap() > 0);
    });
}

fn nonblocking_pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    (a, b)
}

async fn read_some(reg: &Registration, sock: &UnixStream, buf: &mut [u8]) -> usize {
    poll_fn(|cx| reg.poll_read_with(cx, || (&*sock).read(buf)))
        .await
        .unwrap()
}

async fn write_all(reg: &Registration, sock: &UnixStream, mut data: &[u8]) {
    while !data.is_empty() {
        let n = poll_fn(|cx| reg.poll_write_with(cx, || (&*sock).write(data)))
            .await
            .unwrap();
        data = &data[n..];
    }
}

#[test]
fn pingpong_100k_through_tasks() {
    const ROUNDS: usize = 100_000;
    let reactor = Reactor::new().unwrap();
    let (a, b) = nonblocking_pair();
    let rounds = reactor.block_on(async move {
        let echo = reactor::spawn(async move {
            let reg = Registration::new(b.as_raw_fd()).unwrap();
            let mut buf = [0u8; 64];
            loop {
                let n = read_some(&reg, &b, &mut buf).await;
                if n == 0 {
                    return;
                }
                write_all(&reg, &b, &buf[..n]).await;
            }
        });
        let reg = Registration::new(a.as_raw_fd()).unwrap();
        let mut buf = [0u8; 64];
        let mut rounds = 0;
        while rounds < ROUNDS {
            write_all(&reg, &a, b"ping").await;
            let mut got = 0;
            while got < 4 {
                got += read_some(&reg, &a, &mut buf).await;
            }
            rounds += 1;
        }
        drop(reg);
        drop(a); // echo sees EOF and ends
        echo.await.unwrap();
        rounds
    });
    assert_eq!(rounds, ROUNDS);
}

#[test]
fn registration_sees_hangup() {
    let reactor = Reactor::new().unwrap();
    let (a, b) = nonblocking_pair();
    reactor.block_on(async move {
        let reg = Registration::new(a.as_raw_fd()).unwrap();
        let mut buf = [0u8; 8];
        let reader = async { read_some(&reg, &a, &mut buf).await };
        let closer = async {
            reactor::sleep(Duration::from_millis(5)).await;
            drop(b);
        };
        let (n, ()) = join2(reader, closer).await;
        assert_eq!(n, 0, "EOF after the peer closed");
    });
}

/// Polls two futures to completion (a tiny join, to keep the reactor's tests dependency-free).
async fn join2<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    let (mut ra, mut rb) = (None, None);
    poll_fn(|cx| {
        if ra.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                rb = Some(v);
            }
        }
        if ra.is_some() && rb.is_some() {
            Poll::Ready((ra.take().unwrap(), rb.take().unwrap()))
        } else {
            Poll::Pending
        }
    })
    .await
}
