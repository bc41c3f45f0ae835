//! What every bench file shares: criterion's settings, the test-mode switch, a no-op waker,
//! socket pairs, and a helper thread that spins waiting for work.
#![allow(dead_code)] // each bench file uses a different part of this module

use std::io;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};
use std::thread::JoinHandle;
use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::Criterion;

/// Whether criterion measures (`cargo bench` passes `--bench`) rather than smoke-tests
/// (`cargo test --benches`, `cargo test --workspace`: each benchmark runs once).
pub fn measuring() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// `full` when measuring, `smoke` in test mode (debug build, run once): keeps the smoke run to
/// seconds where a benchmark needs a large setup (a million timers).
pub fn size(full: usize, smoke: usize) -> usize {
    if measuring() {
        full
    } else {
        smoke
    }
}

/// Short runs: the whole suite takes a few minutes on two cores. Command-line flags
/// (`--measurement-time`, `--sample-size`, ...) still override these.
pub fn criterion() -> Criterion<Clock> {
    Criterion::default()
        .with_measurement(Clock::from_env())
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1000))
        .sample_size(20)
        .nresamples(10_000)
        .configure_from_args()
}

/// What the benchmarks time: by default the **CPU time of the benchmarking thread** (user +
/// system, `CLOCK_THREAD_CPUTIME_ID`), or wall-clock time with `BENCH_CLOCK=wall`.
///
/// Every benchmark here but the cross-thread wakes runs on one thread (client and server
/// included), so its CPU time is its whole cost, and unlike wall time it does not grow when
/// another process takes the core: on a shared two-core machine it is the figure that holds
/// from run to run (the project's figure of merit is CPU per request, too). Waiting in
/// `epoll_wait` for a timer is not counted, which is what a timer benchmark wants. In the
/// cross-thread benchmarks (`reactor/wake_remote`, `exec/remote_wake_1000`) it is the loop
/// thread's CPU per wake; their latency needs `BENCH_CLOCK=wall` and a quiet machine.
pub struct Clock {
    cpu: bool,
    wall: WallTime,
}

impl Clock {
    pub fn from_env() -> Clock {
        Clock {
            cpu: cpu_clock(),
            wall: WallTime,
        }
    }

    /// A reading of this clock (only differences mean anything), for `iter_custom`.
    pub fn now() -> Duration {
        if cpu_clock() {
            thread_cpu_time()
        } else {
            wall_now()
        }
    }
}

/// Whether [`Clock`] reads CPU time (`BENCH_CLOCK` is not `wall`).
fn cpu_clock() -> bool {
    static CPU: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *CPU.get_or_init(|| std::env::var("BENCH_CLOCK").map_or(true, |v| v != "wall"))
}

/// Wall-clock time since the first call.
pub fn wall_now() -> Duration {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

/// The CPU time this thread has used.
pub fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through the pointer, which points to a live one.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

impl Measurement for Clock {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        if self.cpu {
            thread_cpu_time()
        } else {
            wall_now()
        }
    }
    fn end(&self, start: Duration) -> Duration {
        self.start().saturating_sub(start)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        self.wall.formatter()
    }
}

/// A waker that does nothing, for polling a future once by hand.
pub fn noop_waker() -> Waker {
    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    Waker::from(Arc::new(Noop))
}

/// A connected pair of non-blocking Unix stream sockets.
pub fn socketpair() -> io::Result<(UnixStream, UnixStream)> {
    let (a, b) = UnixStream::pair()?;
    a.set_nonblocking(true)?;
    b.set_nonblocking(true)?;
    Ok((a, b))
}

/// A thread that spins until asked to act, then runs `act` once per request: the other side
/// of the cross-thread wake benchmarks. Spinning (not a condvar) keeps the measured path to
/// the one under test: the wake and the loop's response to it.
pub struct Spinner {
    requests: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Spinner {
    pub fn start(mut act: impl FnMut() + Send + 'static) -> Spinner {
        let requests = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut done = 0;
            while !s.load(Ordering::Acquire) {
                if r.load(Ordering::Acquire) > done {
                    done += 1;
                    act();
                } else {
                    std::hint::spin_loop();
                }
            }
        });
        Spinner {
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// Asks for one more `act`.
    pub fn request(&self) {
        self.requests.fetch_add(1, Ordering::Release);
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
