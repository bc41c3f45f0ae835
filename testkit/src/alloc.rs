//! A counting global allocator for the tests that assert on heap use: allocations per request,
//! per message or per task, and live or peak heap bytes per connection.
//!
//! A test binary installs it with
//!
//! ```ignore
//! #[global_allocator]
//! static GLOBAL: testkit::alloc::Counting = testkit::alloc::Counting;
//! ```
//!
//! (one test file is one binary, so the allocator counts only that file's tests) and then reads
//! the counter that fits its question:
//!
//! - [`allocations`]: every allocation and reallocation in the process;
//! - [`thread_allocations`]: those made by the calling thread;
//! - [`counted_allocations`]: those made by threads that called [`count_this_thread`] (a
//!   server thread, say, read from the client's thread), and [`counted_live_bytes`] and
//!   [`counted_blocks`], the heap those threads hold (what each idle connection keeps);
//! - [`live_bytes`], and [`peak_bytes`] since [`reset_peak`]: heap bytes in use.
//!
//! Every counter is an atomic or a const-initialised thread-local `Cell`, so counting neither
//! allocates nor re-enters the allocator. The counters only grow between readings: a test takes
//! a reading before and after the work it measures and subtracts.
//!
//! ```
//! use testkit::alloc::{thread_allocations, live_bytes};
//! // Without the allocator installed the counters stay at zero; with it, this counts one.
//! let before = thread_allocations();
//! let v: Vec<u8> = Vec::with_capacity(64);
//! assert!(thread_allocations() - before <= 1 && live_bytes() >= 0);
//! drop(v);
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, AtomicU64, Ordering::Relaxed};

/// The counting allocator: forwards every call to [`System`] and counts around it.
pub struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static COUNTED: AtomicU64 = AtomicU64::new(0);
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
static COUNTED_LIVE: AtomicIsize = AtomicIsize::new(0);
/// Live blocks of opted-in threads by size, in 16-byte classes (the last for all larger).
static COUNTED_BLOCKS: [AtomicIsize; 257] = [const { AtomicIsize::new(0) }; 257];

thread_local! {
    static THREAD: Cell<u64> = const { Cell::new(0) };
    static OPTED_IN: Cell<bool> = const { Cell::new(false) };
}

/// Allocations (and reallocations) made in the whole process so far.
pub fn allocations() -> u64 {
    ALLOCATIONS.load(Relaxed)
}

/// Allocations (and reallocations) made by the calling thread so far.
pub fn thread_allocations() -> u64 {
    THREAD.with(Cell::get)
}

/// From now on, the calling thread's allocations also count in [`counted_allocations`].
pub fn count_this_thread() {
    OPTED_IN.with(|on| on.set(true));
}

/// Allocations made so far by the threads that called [`count_this_thread`].
pub fn counted_allocations() -> u64 {
    COUNTED.load(Relaxed)
}

/// Heap bytes allocated and not yet freed by the threads that called [`count_this_thread`]
/// (an allocation one of them frees counts too, whichever thread made it).
pub fn counted_live_bytes() -> isize {
    COUNTED_LIVE.load(Relaxed)
}

/// The blocks live by the same count as [`counted_live_bytes`], by size: element `i` counts
/// blocks of `16 * (i - 1) + 1 ..= 16 * i` bytes, the last element all larger ones. Compare two
/// readings to see which allocations each of N connections holds.
pub fn counted_blocks() -> Vec<isize> {
    COUNTED_BLOCKS.iter().map(|b| b.load(Relaxed)).collect()
}

/// Heap bytes allocated and not yet freed, process-wide.
pub fn live_bytes() -> isize {
    LIVE.load(Relaxed)
}

/// The most [`live_bytes`] has been since the last [`reset_peak`] (or the start).
pub fn peak_bytes() -> isize {
    PEAK.load(Relaxed)
}

/// Starts a new peak from the bytes live now.
pub fn reset_peak() {
    PEAK.store(LIVE.load(Relaxed), Relaxed);
}

/// Counts one allocation or reallocation: `freed` and `allocated` are the sizes of the block
/// that goes and the one that comes (a reallocation has both).
fn note(freed: Option<usize>, allocated: Option<usize>) {
    let delta = allocated.unwrap_or(0) as isize - freed.unwrap_or(0) as isize;
    if allocated.is_some() {
        ALLOCATIONS.fetch_add(1, Relaxed);
        // `try_with`: a thread's locals may already be gone while it frees its last allocations.
        let _ = THREAD.try_with(|n| n.set(n.get() + 1));
    }
    let now = LIVE.fetch_add(delta, Relaxed) + delta;
    PEAK.fetch_max(now, Relaxed);
    if OPTED_IN.try_with(Cell::get).unwrap_or(false) {
        if allocated.is_some() {
            COUNTED.fetch_add(1, Relaxed);
        }
        COUNTED_LIVE.fetch_add(delta, Relaxed);
        if let Some(size) = freed {
            COUNTED_BLOCKS[size_class(size)].fetch_sub(1, Relaxed);
        }
        if let Some(size) = allocated {
            COUNTED_BLOCKS[size_class(size)].fetch_add(1, Relaxed);
        }
    }
}

fn size_class(size: usize) -> usize {
    size.div_ceil(16).min(256)
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract is exactly `System`'s; the counting touches only atomics and
// const-initialised thread-local `Cell`s (no allocation, no re-entry).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(None, Some(layout.size()));
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(None, Some(layout.size()));
        // SAFETY: forwarded unchanged; the caller upholds `alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(Some(layout.size()), Some(new_size));
        // SAFETY: forwarded unchanged; `ptr` was allocated by `System` through this allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(Some(layout.size()), None);
        // SAFETY: forwarded unchanged; `ptr` was allocated by `System` through this allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}
