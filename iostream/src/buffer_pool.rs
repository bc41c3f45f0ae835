//! A per-thread pool of small byte buffers: the ones idle streams give back, taken again by
//! streams that get busy.
//!
//! An idle keep-alive connection would otherwise keep its read and write buffers for its whole
//! idle life, a few hundred bytes each, times every idle connection. With the pool it keeps
//! none: when a stream waits for input with nothing buffered it hands its small buffers here,
//! and its next read or write takes one back. On one loop thread the streams that are busy at
//! the same moment are few, so a handful of pooled buffers serve them all and a keep-alive
//! request still allocates nothing.
//!
//! Read and write buffers are pooled apart ([`Kind`]): they settle at different sizes (a
//! request head against a batch of responses), and a write buffer that came back as a small
//! read buffer would grow again on every batch.
//!
//! The pool is bounded by bytes ([`MAX_POOLED_BYTES`], 256 KiB per kind and thread) and by count
//! ([`MAX_BUFFERS`]), not by a small size per buffer: a connection whose batches need 8 KiB
//! gets its 8 KiB buffer back after each wait. (A per-buffer limit of a few KiB made such a
//! connection free its buffer at every wait and regrow it, one `realloc` per doubling, on
//! every batch.) Only buffers above [`IDLE_KEEP`](crate::IDLE_KEEP) /
//! [`IDLE_KEEP_WRITE`](crate::IDLE_KEEP_WRITE) (64 KiB) are freed at once.

use std::cell::RefCell;

/// At most this many buffers of each kind are kept per thread.
const MAX_BUFFERS: usize = 64;

/// At most this many bytes of buffers (their capacity) of each kind are kept per thread.
const MAX_POOLED_BYTES: usize = 256 * 1024;

/// Which pool a buffer belongs to.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    Read,
    Write,
}

impl Kind {
    /// The largest buffer of this kind that is pooled; larger ones are freed.
    fn max_pooled(self) -> usize {
        match self {
            Kind::Read => crate::IDLE_KEEP,
            Kind::Write => crate::IDLE_KEEP_WRITE,
        }
    }
}

/// The buffers of one kind, and the bytes they hold.
struct Pool {
    buffers: Vec<Vec<u8>>,
    bytes: usize,
}

thread_local! {
    static READ: RefCell<Pool> = const { RefCell::new(Pool { buffers: Vec::new(), bytes: 0 }) };
    static WRITE: RefCell<Pool> = const { RefCell::new(Pool { buffers: Vec::new(), bytes: 0 }) };
}

fn pool(kind: Kind) -> &'static std::thread::LocalKey<RefCell<Pool>> {
    match kind {
        Kind::Read => &READ,
        Kind::Write => &WRITE,
    }
}

/// A pooled buffer if there is one (see [`give`] for its length), else a new empty `Vec`
/// (which allocates nothing until it is written to).
pub(crate) fn take(kind: Kind) -> Vec<u8> {
    pool(kind)
        .try_with(|p| {
            let mut pool = p.borrow_mut();
            let buf = pool.buffers.pop()?;
            pool.bytes -= buf.capacity();
            Some(buf)
        })
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Keeps `buf` for reuse if it holds memory, no more than its kind's
/// [`IDLE_KEEP`](crate::IDLE_KEEP) / [`IDLE_KEEP_WRITE`](crate::IDLE_KEEP_WRITE) bytes, and the
/// pool has room for it (count and bytes); frees it otherwise.
///
/// A write buffer comes back emptied; a read buffer keeps its length (its bytes are
/// initialised, stale and never read: `ReadBuffer` tracks its live range), so taking it back
/// costs no zero-fill.
pub(crate) fn give(kind: Kind, mut buf: Vec<u8>) {
    if buf.capacity() == 0 || buf.capacity() > kind.max_pooled() {
        return;
    }
    if let Kind::Write = kind {
        buf.clear();
    }
    // During thread teardown the pool may be gone: the buffer is simply freed then.
    let _ = pool(kind).try_with(|p| {
        let mut pool = p.borrow_mut();
        if pool.buffers.len() < MAX_BUFFERS && pool.bytes + buf.capacity() <= MAX_POOLED_BYTES {
            pool.bytes += buf.capacity();
            pool.buffers.push(buf);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_buffers_come_back_large_ones_are_freed() {
        let mut a = Vec::with_capacity(100);
        a.extend_from_slice(b"old bytes");
        let ptr = a.as_ptr();
        give(Kind::Read, a);
        let b = take(Kind::Read);
        assert_eq!(
            (b.as_ptr(), b.len()),
            (ptr, 9),
            "the same memory, as it was"
        );
        give(Kind::Read, Vec::with_capacity(crate::IDLE_KEEP + 1));
        give(Kind::Read, Vec::new());
        assert_eq!(
            take(Kind::Read).capacity(),
            0,
            "nothing pooled: a fresh empty Vec"
        );
        give(Kind::Write, b"abc".to_vec());
        assert_eq!(take(Kind::Read).capacity(), 0, "the kinds are apart");
        assert!(
            take(Kind::Write).is_empty(),
            "a write buffer comes back emptied"
        );
    }

    #[test]
    fn the_pool_is_bounded() {
        for _ in 0..MAX_BUFFERS + 10 {
            give(Kind::Write, Vec::with_capacity(16));
        }
        let kept = std::iter::from_fn(|| Some(take(Kind::Write)))
            .take_while(|b| b.capacity() > 0)
            .count();
        assert_eq!(kept, MAX_BUFFERS);
        // ... and by bytes: buffers of 64 KiB fill the budget long before the count.
        for _ in 0..MAX_BUFFERS {
            give(Kind::Read, Vec::with_capacity(crate::IDLE_KEEP));
        }
        let kept = std::iter::from_fn(|| Some(take(Kind::Read)))
            .take_while(|b| b.capacity() > 0)
            .count();
        assert_eq!(kept, MAX_POOLED_BYTES / crate::IDLE_KEEP);
        assert_eq!(READ.with(|p| p.borrow().bytes), 0, "the byte count follows");
    }

    #[test]
    fn a_batch_larger_than_a_few_kib_keeps_its_buffer() {
        // A write buffer that grew to 8 KiB comes back as it was (the same memory).
        let mut big = Vec::with_capacity(8192);
        big.extend_from_slice(&[b'x'; 5000]);
        let ptr = big.as_ptr();
        give(Kind::Write, big);
        let again = take(Kind::Write);
        assert_eq!(
            (again.as_ptr(), again.capacity(), again.len()),
            (ptr, 8192, 0)
        );
    }
}
