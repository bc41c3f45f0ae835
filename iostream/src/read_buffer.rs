//! [`ReadBuffer`]: the bytes read from the fd and not yet consumed, in one reusable `Vec`.
//!
//! The storage is a `Vec<u8>` whose length is the initialised capacity; the live bytes are
//! `buf[start..end]`. Consuming moves `start`; when it catches up with `end` both go back to 0,
//! so a keep-alive connection reads every request into the same bytes with no allocation and no
//! copy. New storage is zero-filled once, when the buffer grows, so there is no `unsafe`
//! `set_len` anywhere.
//!
//! # Where a `read(2)` lands
//! * The buffer already has room (at least one read chunk free): straight into it.
//! * The buffer is empty and small (the idle case, after [`release_if_idle`](ReadBuffer::release_if_idle)
//!   gave its memory back to [`crate::buffer_pool`]): into a per-thread scratch chunk, and the
//!   bytes that came are copied into a small buffer (a pooled one when there is one). A request of a few hundred bytes thus costs a copy of a few hundred
//!   bytes, and an idle stream holds no 64 KiB chunk.
//! * Otherwise (a partial message is buffered and more is needed): the buffer grows (doubling) so
//!   that a full chunk fits, and the read goes straight into it.

use std::cell::RefCell;
use std::io;
use std::os::fd::RawFd;

use crate::sys;

/// Smallest allocation for the buffer; keeps growth steps few for small messages.
const MIN_ALLOC: usize = 512;

thread_local! {
    /// One read chunk per thread for reads into an empty, small buffer (see the module doc).
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The unconsumed bytes read from a stream.
#[derive(Default)]
pub(crate) struct ReadBuffer {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl ReadBuffer {
    /// The unconsumed bytes.
    pub(crate) fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// The unconsumed bytes, to change in place (a WebSocket payload is unmasked where it
    /// lies).
    pub(crate) fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.start..self.end]
    }

    /// How many bytes are buffered.
    pub(crate) fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether nothing is buffered.
    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Bytes of memory the buffer holds.
    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Drops `n` bytes from the front (clamped to what is buffered).
    pub(crate) fn consume(&mut self, n: usize) {
        self.start += n.min(self.len());
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Removes the first `n` bytes and returns them as an owned `Vec`.
    pub(crate) fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.len());
        let out = self.buf[self.start..self.start + n].to_vec();
        self.consume(n);
        out
    }

    /// Copies the first `out.len()` bytes (at most) into `out` and consumes them.
    pub(crate) fn take_into(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.len());
        out[..n].copy_from_slice(&self.buf[self.start..self.start + n]);
        self.consume(n);
        n
    }

    /// Appends `bytes` at the end.
    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        self.make_room(bytes.len());
        self.buf[self.end..self.end + bytes.len()].copy_from_slice(bytes);
        self.end += bytes.len();
    }

    /// Makes `buf[end..]` at least `n` bytes long: first by moving the live bytes to the front,
    /// then by growing (at least doubling, so appends are amortised O(1)).
    fn make_room(&mut self, n: usize) {
        if self.buf.len() - self.end >= n {
            return;
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if self.buf.len() - self.end >= n {
                return;
            }
        }
        if self.buf.capacity() == 0 {
            // Back from idle: a pooled buffer (already initialised over its length).
            self.buf = crate::buffer_pool::take(crate::buffer_pool::Kind::Read);
            if self.buf.len() >= n {
                return;
            }
        }
        let want = (self.end + n).max(self.buf.len() * 2).max(MIN_ALLOC);
        self.buf.resize(want, 0);
    }

    /// One `read(2)` of at most `chunk` bytes from `fd` into the buffer (see the module doc for
    /// where it lands). `Ok(0)` is end of file.
    pub(crate) fn read_from(&mut self, fd: RawFd, chunk: usize) -> io::Result<usize> {
        self.read_with(chunk, |buf| {
            let n = sys::read(fd, buf)?;
            reactor::trace_step!("iostream", "read(2)", n);
            Ok(n)
        })
    }

    /// Lets `read` fill at most `chunk` bytes at the end of the buffer (where they land is the
    /// same as for [`read_from`](Self::read_from)) and keeps the bytes it reports: the one step
    /// behind a plain `read(2)` and TLS (plaintext from rustls).
    #[inline]
    pub(crate) fn read_with(
        &mut self,
        chunk: usize,
        read: impl FnOnce(&mut [u8]) -> io::Result<usize>,
    ) -> io::Result<usize> {
        let chunk = chunk.max(1);
        if self.buf.len() - self.end < chunk {
            return SCRATCH.with(|scratch| {
                let mut scratch = scratch.borrow_mut();
                if scratch.len() < chunk {
                    scratch.resize(chunk, 0);
                }
                let n = read(&mut scratch[..chunk])?;
                self.extend(&scratch[..n]);
                Ok(n)
            });
        }
        self.make_room(chunk);
        let n = read(&mut self.buf[self.end..self.end + chunk])?;
        self.end += n;
        Ok(n)
    }

    /// When nothing is buffered, gives the memory back: to the per-thread pool if it is
    /// small ([`IDLE_KEEP`](crate::IDLE_KEEP) bytes at most), else freed.
    pub(crate) fn release_if_idle(&mut self) {
        if self.is_empty() && self.buf.capacity() > 0 {
            crate::buffer_pool::give(
                crate::buffer_pool::Kind::Read,
                std::mem::take(&mut self.buf),
            );
            self.start = 0;
            self.end = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consume_resets_to_front_and_reuses_capacity() {
        let mut b = ReadBuffer::default();
        b.extend(b"hello world");
        let cap = b.capacity();
        assert_eq!(b.take(6), b"hello ");
        assert_eq!(b.data(), b"world");
        b.consume(5);
        assert!(b.is_empty());
        b.extend(b"again");
        assert_eq!(b.data(), b"again");
        assert_eq!(b.capacity(), cap);
    }

    #[test]
    fn make_room_compacts_before_growing() {
        let mut b = ReadBuffer::default();
        b.extend(&[1u8; 500]);
        b.consume(400);
        let cap = b.capacity();
        b.extend(&[2u8; 300]);
        assert_eq!(b.capacity(), cap);
        assert_eq!(b.len(), 400);
        assert_eq!(&b.data()[..100], &[1u8; 100][..]);
    }

    #[test]
    fn released_only_when_empty_and_reused_from_the_pool() {
        let mut b = ReadBuffer::default();
        b.extend(&[0u8; 10_000]);
        b.release_if_idle();
        assert_eq!(b.len(), 10_000);
        b.consume(10_000);
        b.release_if_idle();
        assert_eq!(b.capacity(), 0, "a large buffer is freed");
        b.extend(b"small");
        let small = b.capacity();
        b.consume(5);
        b.release_if_idle();
        assert_eq!(b.capacity(), 0, "a small one goes to the pool");
        b.extend(b"again");
        assert_eq!(b.capacity(), small, "and comes back from it");
        assert_eq!(b.data(), b"again");
    }
}
