//! `run_in_executor` (the blocking pool) and `channel` (other threads into the loop).
//!
//! The pool is process-wide, so the tests that use it run one at a time (`serial()`); none
//! asserts tight timing: bounds are generous, for busy CI machines.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use reactor::{BlockingPool, PeriodicCallback, Reactor, TryRecvError};

const LONG: Duration = Duration::from_secs(20);

/// The pool's configuration and thread count are global: one test at a time touches them.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Waits (blocking, off any loop) until `cond` holds, or panics after `LONG`.
fn eventually(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + LONG;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn results_come_back_from_the_pool() {
    let _serial = serial();
    let reactor = Reactor::new().unwrap();
    let loop_thread = thread::current().id();
    let results = reactor.block_on(async move {
        let jobs: Vec<_> = (0..32u64)
            .map(|i| {
                reactor::run_in_executor(move || {
                    assert_ne!(thread::current().id(), loop_thread, "ran on the loop");
                    assert_eq!(thread::current().name(), Some("reactor-blocking"));
                    thread::sleep(Duration::from_millis(i % 3));
                    i * i
                })
            })
            .collect();
        let mut out = Vec::new();
        for job in jobs {
            out.push(reactor::timeout(LONG, job).await.unwrap().unwrap());
        }
        out
    });
    assert_eq!(results, (0..32u64).map(|i| i * i).collect::<Vec<_>>());
    assert!(BlockingPool::threads() <= BlockingPool::max_threads());
}

#[test]
fn the_loop_stays_responsive_while_8_jobs_block() {
    let _serial = serial();
    let reactor = Reactor::new().unwrap();
    let ticks = Rc::new(RefCell::new(Vec::<Instant>::new()));
    let t = ticks.clone();
    let periodic = PeriodicCallback::new(Duration::from_millis(10), move || {
        t.borrow_mut().push(Instant::now())
    });
    periodic.start_on(&reactor);
    let (start, end) = reactor.block_on(async {
        reactor::sleep(Duration::from_millis(30)).await; // the ticks are under way
        let start = Instant::now();
        let jobs: Vec<_> = (0..8)
            .map(|i| {
                reactor::spawn(async move {
                    reactor::run_in_executor(move || {
                        thread::sleep(Duration::from_millis(200));
                        i
                    })
                    .await
                    .unwrap()
                })
            })
            .collect();
        let mut sum = 0;
        for job in jobs {
            sum += reactor::timeout(LONG, job).await.unwrap().unwrap();
        }
        assert_eq!(sum, 28);
        (start, Instant::now())
    });
    periodic.stop();
    assert!(end - start >= Duration::from_millis(200));
    let ticks = ticks.borrow();
    let during: Vec<Instant> = ticks
        .iter()
        .copied()
        .filter(|&t| t >= start && t <= end)
        .collect();
    // A blocked loop would show no tick for 200 ms (or 1.6 s, jobs run one by one on it).
    // Ticks are due every 10 ms: ask for a handful, and no gap near the job's length.
    assert!(
        during.len() >= 5,
        "only {} ticks while jobs ran",
        during.len()
    );
    let mut points = vec![start];
    points.extend(&during);
    points.push(end);
    let max_gap = points.windows(2).map(|w| w[1] - w[0]).max().unwrap();
    assert!(
        max_gap < Duration::from_millis(150),
        "the loop stalled for {max_gap:?} while jobs ran"
    );
}

#[test]
fn a_panic_in_a_job_arrives_as_an_error_and_the_pool_lives_on() {
    let _serial = serial();
    let reactor = Reactor::new().unwrap();
    reactor.block_on(async {
        let err = reactor::run_in_executor(|| -> u8 { panic!("job exploded") })
            .await
            .unwrap_err();
        assert!(err.is_panic());
        assert_eq!(err.panic_message(), Some("job exploded"));
        assert_eq!(err.to_string(), "blocking job panicked: job exploded");
        let err = reactor::run_in_executor(|| -> u8 { std::panic::panic_any(42u32) })
            .await
            .unwrap_err();
        assert!(err.is_panic() && err.panic_message().is_none());
        // The threads survived: more jobs run.
        let ok: Vec<_> = (0..8)
            .map(|i| reactor::run_in_executor(move || i))
            .collect();
        for (i, job) in ok.into_iter().enumerate() {
            assert_eq!(job.await.unwrap(), i);
        }
    });
}

#[test]
fn dropping_the_future_breaks_nothing() {
    let _serial = serial();
    /// Records on which thread it is dropped.
    struct Witness(Arc<Mutex<Option<thread::ThreadId>>>);
    impl Drop for Witness {
        fn drop(&mut self) {
            *self.0.lock().unwrap() = Some(thread::current().id());
        }
    }

    let reactor = Reactor::new().unwrap();
    let ran = Arc::new(AtomicBool::new(false));
    let dropped_on = Arc::new(Mutex::new(None));
    let (r, d) = (ran.clone(), dropped_on.clone());
    reactor.block_on(async move {
        let job = reactor::run_in_executor(move || {
            thread::sleep(Duration::from_millis(50));
            r.store(true, Ordering::SeqCst);
            Witness(d)
        });
        // Give up on it at once (a timeout, here), while it runs.
        assert!(reactor::timeout(Duration::from_millis(1), job)
            .await
            .is_err());
        // Aborting a task that awaits a job is the same.
        let task = reactor::spawn(async {
            reactor::run_in_executor(|| thread::sleep(Duration::from_millis(20))).await
        });
        reactor::yield_now().await;
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        // A job whose future is dropped right after submitting it.
        let queued = reactor::run_in_executor(|| 1);
        drop(queued);
    });
    eventually("the abandoned job to finish", || {
        dropped_on.lock().unwrap().is_some()
    });
    assert!(ran.load(Ordering::SeqCst));
    assert_ne!(
        dropped_on.lock().unwrap().unwrap(),
        thread::current().id(),
        "the abandoned result is dropped on the helper thread"
    );
    // The loop and the pool still work.
    assert_eq!(
        reactor
            .block_on(reactor::run_in_executor(|| "fine"))
            .unwrap(),
        "fine"
    );
}

#[test]
fn a_job_outliving_its_reactor_is_harmless() {
    let _serial = serial();
    let finished = Arc::new(AtomicBool::new(false));
    {
        let reactor = Reactor::new().unwrap();
        let f = finished.clone();
        reactor.block_on(async move {
            reactor::spawn(async move {
                reactor::run_in_executor(move || {
                    thread::sleep(Duration::from_millis(50));
                    f.store(true, Ordering::SeqCst);
                })
                .await
                .unwrap();
            });
            reactor::yield_now().await;
        });
    } // the reactor, its task and the future are gone while the job runs
    eventually("the orphaned job", || finished.load(Ordering::SeqCst));
    thread::sleep(Duration::from_millis(20)); // it has completed into a dropped slot
}

#[test]
fn the_pool_is_bounded_and_idle_threads_exit() {
    let _serial = serial();
    let (max, keep_alive) = (BlockingPool::max_threads(), BlockingPool::keep_alive());
    BlockingPool::set_max_threads(3);
    BlockingPool::set_keep_alive(Duration::from_millis(50));
    // Threads left by earlier tests above the new limit exit as soon as they are idle.
    eventually("surplus threads to exit", || BlockingPool::threads() <= 3);

    let reactor = Reactor::new().unwrap();
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let done = reactor.block_on(async {
        let jobs: Vec<_> = (0..12)
            .map(|_| {
                let (running, peak) = (running.clone(), peak.clone());
                reactor::run_in_executor(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(10));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        assert!(BlockingPool::threads() <= 3);
        let mut done = 0;
        for job in jobs {
            reactor::timeout(LONG, job).await.unwrap().unwrap();
            done += 1;
        }
        done
    });
    assert_eq!(done, 12);
    assert!(peak.load(Ordering::SeqCst) <= 3, "more than 3 jobs at once");
    assert!(BlockingPool::threads() <= 3);
    eventually("idle threads to exit", || BlockingPool::threads() == 0);
    assert_eq!(BlockingPool::queued(), 0);

    // Started again lazily.
    assert_eq!(reactor.block_on(reactor::run_in_executor(|| 5)).unwrap(), 5);
    BlockingPool::set_max_threads(max);
    BlockingPool::set_keep_alive(keep_alive);
    assert_eq!(BlockingPool::max_threads(), max);
}

// ---------------------------------------------------------------------------------------
// channel

#[test]
fn channel_delivers_from_four_threads() {
    const PER_THREAD: u32 = 2_000;
    let reactor = Reactor::new().unwrap();
    let (tx, mut rx) = reactor::channel::<(u32, u32)>();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let tx = tx.clone();
            thread::spawn(move || {
                for i in 0..PER_THREAD {
                    tx.send((t, i)).unwrap();
                    if i % 256 == 0 {
                        thread::yield_now();
                    }
                }
            })
        })
        .collect();
    drop(tx);
    let received = reactor.block_on(async {
        let mut next = [0u32; 4];
        let mut count = 0;
        while let Some((t, i)) = reactor::timeout(LONG, rx.recv()).await.unwrap() {
            assert_eq!(i, next[t as usize], "thread {t}'s values out of order");
            next[t as usize] += 1;
            count += 1;
        }
        assert_eq!(next, [PER_THREAD; 4]);
        count
    });
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(received, 4 * PER_THREAD);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn channel_wakes_a_loop_blocked_in_the_poller() {
    let reactor = Reactor::new().unwrap();
    let (tx, mut rx) = reactor::channel();
    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_millis(30)); // the loop is asleep in epoll_wait by now
        tx.send("hello").unwrap();
        thread::sleep(Duration::from_millis(30));
        tx.send("again").unwrap();
    });
    let got = reactor.block_on(async {
        // Received from a spawned task, not block_on's own future.
        reactor::spawn(async move {
            let mut got = Vec::new();
            while let Some(v) = rx.recv().await {
                got.push(v);
            }
            got
        })
        .await
        .unwrap()
    });
    sender.join().unwrap();
    assert_eq!(got, ["hello", "again"]);
}

#[test]
fn channel_errors() {
    let (tx, mut rx) = reactor::channel::<String>();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send("a".into()).unwrap();
    let tx2 = tx.clone();
    drop(tx);
    assert_eq!(rx.try_recv().unwrap(), "a");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "tx2 is alive");
    assert!(!tx2.is_closed());
    drop(rx);
    assert!(tx2.is_closed());
    let err = tx2.send("back".into()).unwrap_err();
    assert_eq!(err.0, "back");
}
