//! Allocation counts: one allocation per spawned task; waking on the loop thread allocates
//! nothing; a sleep allocates nothing. (Its own test binary: the global allocator counts.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static COUNTING: AtomicBool = AtomicBool::new(false);

// SAFETY: forwards every call to the system allocator unchanged; it only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn count<R>(f: impl FnOnce() -> R) -> (R, usize) {
    ALLOCS.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    let r = f();
    COUNTING.store(false, Ordering::SeqCst);
    (r, ALLOCS.load(Ordering::SeqCst))
}

// One test function: the counter is global, and tests in one binary run on parallel threads.
#[test]
fn allocations_per_task_wake_and_sleep() {
    let reactor = reactor::Reactor::new().unwrap();
    reactor.block_on(async {
        let mut handles = Vec::with_capacity(1000);
        // Warm up: grow the task table, run queue and deferred list to their working size.
        for round in 0..2 {
            for _ in 0..1000 {
                handles.push(reactor::spawn(async { reactor::yield_now().await }));
            }
            for h in handles.drain(..) {
                h.await.unwrap();
            }
            reactor::sleep(Duration::from_millis(1)).await;
            let _ = round;
        }

        let ((), spawns) = count(|| {
            for _ in 0..1000 {
                handles.push(reactor::spawn(async { reactor::yield_now().await }));
            }
        });
        for h in handles.drain(..) {
            h.await.unwrap();
        }
        assert_eq!(spawns, 1000, "one allocation per spawned task");

        let h = reactor::spawn(async {
            // Wait for the measurement to start, then wake ourselves 10,000 times.
            reactor::sleep(Duration::from_millis(1)).await;
            for _ in 0..10_000 {
                reactor::yield_now().await;
            }
            for _ in 0..100 {
                reactor::sleep(Duration::from_micros(10)).await;
            }
        });
        ALLOCS.store(0, Ordering::SeqCst);
        COUNTING.store(true, Ordering::SeqCst);
        h.await.unwrap();
        COUNTING.store(false, Ordering::SeqCst);
        assert_eq!(
            ALLOCS.load(Ordering::SeqCst),
            0,
            "same-thread wakes and sleeps allocate nothing"
        );
    });
}
