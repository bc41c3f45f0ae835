//! The executor: spawning, self-wakes (`yield_now`) and wakes from another thread, each next
//! to tokio's current_thread runtime (and async-executor where it has the same operation).
//!
//! Run: `cargo bench -p benches --bench exec`.

mod common;

use std::future::{poll_fn, Future};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

use common::Clock;
use criterion::{criterion_group, criterion_main, Criterion};
use reactor::Reactor;

const N: usize = 1000;

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Spawn 1,000 no-op tasks and await them all.
fn spawn_1000(c: &mut Criterion<Clock>) {
    let mut g = c.benchmark_group("exec/spawn_1000");
    let r = Reactor::new().unwrap();
    g.bench_function("ours", |b| {
        b.iter(|| {
            r.block_on(async {
                let handles: Vec<_> = (0..N).map(|_| reactor::spawn(async {})).collect();
                for h in handles {
                    h.await.unwrap();
                }
            })
        })
    });
    let rt = tokio_rt();
    let local = tokio::task::LocalSet::new();
    g.bench_function("tokio_local", |b| {
        b.iter(|| {
            local.block_on(&rt, async {
                let handles: Vec<_> = (0..N).map(|_| tokio::task::spawn_local(async {})).collect();
                for h in handles {
                    h.await.unwrap();
                }
            })
        })
    });
    let ex = async_executor::LocalExecutor::new();
    g.bench_function("async_executor", |b| {
        b.iter(|| {
            futures_lite::future::block_on(ex.run(async {
                let handles: Vec<_> = (0..N).map(|_| ex.spawn(async {})).collect();
                for h in handles {
                    h.await;
                }
            }))
        })
    });
    g.finish();
}

/// One spawned task yielding 1,000 times. Ours and tokio's `yield_now` both let the loop poll
/// for I/O (a zero-timeout `epoll_wait`) before the task runs again; futures-lite's on
/// async-executor only reschedules the task, with no I/O poll: shown for scale.
fn yield_1000(c: &mut Criterion<Clock>) {
    let mut g = c.benchmark_group("exec/yield_1000");
    let r = Reactor::new().unwrap();
    g.bench_function("ours", |b| {
        b.iter(|| {
            r.block_on(r.spawn(async {
                for _ in 0..N {
                    reactor::yield_now().await;
                }
            }))
            .unwrap()
        })
    });
    let rt = tokio_rt();
    g.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(rt.spawn(async {
                for _ in 0..N {
                    tokio::task::yield_now().await;
                }
            }))
            .unwrap()
        })
    });
    let ex = async_executor::LocalExecutor::new();
    g.bench_function("async_executor_no_io", |b| {
        b.iter(|| {
            futures_lite::future::block_on(ex.run(ex.spawn(async {
                for _ in 0..N {
                    futures_lite::future::yield_now().await;
                }
            })))
        })
    });
    g.finish();
}

/// A waker handed to another thread, which wakes it as soon as it sees it.
struct Handoff {
    slot: Mutex<Option<Waker>>,
    armed: AtomicBool,
    wakes: AtomicU64,
    stop: AtomicBool,
}

impl Handoff {
    /// Starts the waking thread (it spins, so the figure is the wake path, not a futex).
    fn start() -> (Arc<Handoff>, std::thread::JoinHandle<()>) {
        let h = Arc::new(Handoff {
            slot: Mutex::new(None),
            armed: AtomicBool::new(false),
            wakes: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        });
        let h2 = h.clone();
        let thread = std::thread::spawn(move || {
            while !h2.stop.load(Ordering::Acquire) {
                // Load before swapping: a spinning swap would own the cache line the loop
                // thread writes to arm the next wake.
                if h2.armed.load(Ordering::Acquire) && h2.armed.swap(false, Ordering::AcqRel) {
                    let waker = h2.slot.lock().unwrap().take();
                    h2.wakes.fetch_add(1, Ordering::AcqRel);
                    if let Some(w) = waker {
                        w.wake();
                    }
                } else {
                    std::hint::spin_loop();
                }
            }
        });
        (h, thread)
    }

    /// Waits until the other thread has woken this task once more.
    fn wait(self: &Arc<Self>) -> impl Future<Output = ()> + '_ {
        let target = self.wakes.load(Ordering::Acquire) + 1;
        poll_fn(move |cx| {
            if self.wakes.load(Ordering::Acquire) >= target {
                return Poll::Ready(());
            }
            *self.slot.lock().unwrap() = Some(cx.waker().clone());
            self.armed.store(true, Ordering::Release);
            Poll::Pending
        })
    }

    fn stop(&self, thread: std::thread::JoinHandle<()>) {
        self.stop.store(true, Ordering::Release);
        thread.join().unwrap();
    }
}

/// A task woken 1,000 times from another thread, the loop blocked in `epoll_wait` between.
/// As `reactor/wake_remote`: the loop thread's CPU by default, the latency with
/// `BENCH_CLOCK=wall`.
fn remote_wake_1000(c: &mut Criterion<Clock>) {
    let mut g = c.benchmark_group("exec/remote_wake_1000");
    let r = Reactor::new().unwrap();
    let (h, thread) = Handoff::start();
    g.bench_function("ours", |b| {
        b.iter_custom(|iters| {
            let h = h.clone();
            let start = Clock::now();
            r.block_on(r.spawn(async move {
                for _ in 0..iters as usize * N {
                    h.wait().await;
                }
            }))
            .unwrap();
            Clock::now() - start
        })
    });
    let rt = tokio_rt();
    g.bench_function("tokio", |b| {
        b.iter_custom(|iters| {
            let h = h.clone();
            let start = Clock::now();
            rt.block_on(rt.spawn(async move {
                for _ in 0..iters as usize * N {
                    h.wait().await;
                }
            }))
            .unwrap();
            Clock::now() - start
        })
    });
    h.stop(thread);
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = spawn_1000, yield_1000, remote_wake_1000
}
criterion_main!(benches);
