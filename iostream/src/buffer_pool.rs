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

use std::cell::RefCell;

/// At most this many buffers of each kind are kept per thread (with buffers of at most
/// [`IDLE_KEEP_WRITE`](crate::IDLE_KEEP_WRITE) bytes: 256 KiB for writes, a quarter of that
/// for reads).
const MAX_BUFFERS: usize = 64;

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

thread_local! {
    static READ: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
    static WRITE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

fn pool(kind: Kind) -> &'static std::thread::LocalKey<RefCell<Vec<Vec<u8>>>> {
    match kind {
        Kind::Read => &READ,
        Kind::Write => &WRITE,
    }
}

/// A pooled buffer if there is one (see [`give`] for its length), else a new empty `Vec`
/// (which allocates nothing until it is written to).
pub(crate) fn take(kind: Kind) -> Vec<u8> {
    pool(kind)
        .try_with(|p| p.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Keeps `buf` for reuse if it holds memory, no more than its kind's
/// [`IDLE_KEEP`](crate::IDLE_KEEP) / [`IDLE_KEEP_WRITE`](crate::IDLE_KEEP_WRITE) bytes, and the
/// pool has room; frees it otherwise.
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
        if pool.len() < MAX_BUFFERS {
            pool.push(buf);
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
    }
}
