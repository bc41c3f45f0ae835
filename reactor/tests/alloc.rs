//! Allocation counts: one allocation per spawned task; waking on the loop thread allocates
//! nothing; a sleep allocates nothing. (Its own test binary: the global allocator counts.)

use std::time::Duration;

#[global_allocator]
static GLOBAL: testkit::alloc::Counting = testkit::alloc::Counting;

fn count<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = testkit::alloc::allocations();
    let r = f();
    (r, (testkit::alloc::allocations() - before) as usize)
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
        let before = testkit::alloc::allocations();
        h.await.unwrap();
        assert_eq!(
            testkit::alloc::allocations() - before,
            0,
            "same-thread wakes and sleeps allocate nothing"
        );
    });
}
