//! Timers: add and cancel one timer among 0 or 1,000,000 live ones, and fire 10,000 timers
//! that share a deadline, next to tokio's timer wheel and async-io's `Timer`.
//!
//! Run: `cargo bench -p benches --bench timer`.

mod common;

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Context;
use std::time::{Duration, Instant};

use common::Clock;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use reactor::Reactor;

/// Polls a future once, with a waker that does nothing (registers a timer, nothing more).
fn poll_once<F: Future>(f: Pin<&mut F>, cx: &mut Context<'_>) {
    assert!(f.poll(cx).is_pending(), "a far timer fired");
}

/// The deadline of the `i`-th of `n` live timers: spread over a second, an hour from now, in
/// a scrambled order (so that a heap sees them arrive unsorted).
fn spread(base: Instant, i: usize, n: usize) -> Instant {
    let slot = (i as u64).wrapping_mul(7919) % n.max(1) as u64;
    base + Duration::from_micros(slot)
}

/// Add one timer and cancel it. The benchmark timer's deadline sits in the middle of the live
/// ones. Each timer future is polled once, which is when ours, tokio's and async-io's
/// register with their timer tables, then dropped, which cancels it.
fn insert_cancel(c: &mut Criterion<Clock>) {
    let mut g = c.benchmark_group("timer/insert_cancel");
    let waker = common::noop_waker();
    let mut cx = Context::from_waker(&waker);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    for live in [0, common::size(1_000_000, 10_000)] {
        let base = Instant::now() + Duration::from_secs(3600);
        let mid = base + Duration::from_micros(live as u64 / 2);

        // Ours: Tornado's call_later/remove_timeout, and a polled-then-dropped `sleep`.
        let r = Reactor::current();
        let timers: Vec<_> = (0..live)
            .map(|i| r.call_at(spread(base, i, live), || {}))
            .collect();
        g.bench_function(BenchmarkId::new("ours_call_at", live), |b| {
            b.iter(|| r.call_at(mid, || {}).cancel())
        });
        g.bench_function(BenchmarkId::new("ours_sleep", live), |b| {
            b.iter(|| poll_once(std::pin::pin!(reactor::sleep_until(mid)), &mut cx))
        });
        for t in &timers {
            t.cancel();
        }
        drop(timers);

        // tokio: `sleep_until` polled once (that registers it in the wheel), then dropped.
        let guard = rt.enter();
        let deadline = tokio::time::Instant::from_std(mid);
        let sleeps: Vec<_> = (0..live)
            .map(|i| {
                let mut s = Box::pin(tokio::time::sleep_until(tokio::time::Instant::from_std(
                    spread(base, i, live),
                )));
                poll_once(s.as_mut(), &mut cx);
                s
            })
            .collect();
        g.bench_function(BenchmarkId::new("tokio", live), |b| {
            b.iter(|| poll_once(std::pin::pin!(tokio::time::sleep_until(deadline)), &mut cx))
        });
        drop(sleeps);
        drop(guard);

        // async-io: `Timer::at` polled once, then dropped.
        let timers: Vec<_> = (0..live)
            .map(|i| {
                let mut t = async_io::Timer::at(spread(base, i, live));
                poll_once(Pin::new(&mut t), &mut cx);
                t
            })
            .collect();
        g.bench_function(BenchmarkId::new("async_io", live), |b| {
            b.iter(|| {
                let mut t = async_io::Timer::at(mid);
                poll_once(Pin::new(&mut t), &mut cx);
            })
        });
        drop(timers);
    }
    g.finish();
}

const FIRE: usize = 10_000;

/// How long before the shared deadline the timers are set, in microseconds: long enough to
/// spawn and register them all, short enough not to dominate the run time. It starts at 2 ms
/// and doubles whenever registering took longer (a busy machine); that round is run again.
static LEAD_US: AtomicU64 = AtomicU64::new(2000);

fn lead() -> Duration {
    Duration::from_micros(LEAD_US.load(Ordering::Relaxed))
}

/// Whether the timers were all registered before `deadline`; if not, lengthens the lead.
fn registered_in_time(deadline: Instant) -> bool {
    if Instant::now() < deadline {
        return true;
    }
    LEAD_US
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |us| Some(us * 2))
        .ok();
    false
}

/// Waits on the OS clock until `deadline` has passed by `margin` (tokio rounds deadlines up to
/// the next millisecond), without involving the loop: the timers are due when the clock starts.
fn sleep_past(deadline: Instant, margin: Duration) {
    let until = deadline + margin;
    let now = Instant::now();
    if until > now {
        std::thread::sleep(until - now);
    }
}

/// 10,000 tasks sleeping until one deadline: the clock runs from the deadline's passing (all
/// timers registered) until every task has finished.
fn fire_ours_tasks(r: &Reactor, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let measured = r.block_on(async {
            let deadline = Instant::now() + lead();
            let started = Rc::new(Cell::new(0));
            let handles: Vec<_> = (0..FIRE)
                .map(|_| {
                    let started = started.clone();
                    reactor::spawn(async move {
                        started.set(started.get() + 1);
                        reactor::sleep_until(deadline).await;
                    })
                })
                .collect();
            while started.get() < FIRE {
                reactor::yield_now().await;
            }
            let in_time = registered_in_time(deadline);
            sleep_past(deadline, Duration::from_micros(1500));
            let start = Clock::now();
            for h in handles {
                h.await.unwrap();
            }
            in_time.then(|| Clock::now() - start)
        });
        if let Some(t) = measured {
            total += t;
            done += 1;
        }
    }
    total
}

/// 10,000 `call_at` callbacks with one deadline: the timer table alone, without tasks.
fn fire_ours_callbacks(r: &Reactor, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let deadline = Instant::now() + lead();
        let fired = Rc::new(Cell::new(0));
        for _ in 0..FIRE {
            let (fired, r2) = (fired.clone(), r.clone());
            r.call_at(deadline, move || {
                fired.set(fired.get() + 1);
                if fired.get() == FIRE {
                    r2.stop();
                }
            });
        }
        let in_time = registered_in_time(deadline);
        sleep_past(deadline, Duration::from_micros(1500));
        let start = Clock::now();
        r.run();
        if in_time {
            total += Clock::now() - start;
            done += 1;
        }
        assert_eq!(fired.get(), FIRE);
    }
    total
}

fn fire_tokio(rt: &tokio::runtime::Runtime, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let measured = rt.block_on(async {
            let deadline = Instant::now() + lead();
            let started = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let handles: Vec<_> = (0..FIRE)
                .map(|_| {
                    let started = started.clone();
                    tokio::spawn(async move {
                        started.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep_until(deadline.into()).await;
                    })
                })
                .collect();
            while started.load(Ordering::Relaxed) < FIRE {
                tokio::task::yield_now().await;
            }
            let in_time = registered_in_time(deadline);
            sleep_past(deadline, Duration::from_micros(1500));
            let start = Clock::now();
            for h in handles {
                h.await.unwrap();
            }
            in_time.then(|| Clock::now() - start)
        });
        if let Some(t) = measured {
            total += t;
            done += 1;
        }
    }
    total
}

fn fire_10k(c: &mut Criterion<Clock>) {
    let mut g = c.benchmark_group("timer/fire_10k");
    // Each iteration also spawns 10,000 tasks and waits for the deadline, outside the clock.
    g.sample_size(10)
        .measurement_time(Duration::from_millis(300));
    let r = Reactor::new().unwrap();
    g.bench_function("ours", |b| b.iter_custom(|n| fire_ours_tasks(&r, n)));
    g.bench_function("ours_call_at", |b| {
        b.iter_custom(|n| fire_ours_callbacks(&r, n))
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    g.bench_function("tokio", |b| b.iter_custom(|n| fire_tokio(&rt, n)));
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = insert_cancel, fire_10k
}
criterion_main!(benches);
