//! [`WriteBuffer`]: the bytes queued for sending, as owned buffers that go out with one
//! `writev`/`sendmsg` per attempt.
//!
//! Two kinds of bytes are queued, in order:
//! * `queue`: owned `Vec`s handed over whole ([`IOStream::write_owned`](crate::IOStream::write_owned)),
//!   sent from where they lie, never copied;
//! * `tail`: one growable `Vec` after them, which small writes are appended to
//!   ([`IOStream::write_buffer`](crate::IOStream::write_buffer), and the part of
//!   [`IOStream::write`](crate::IOStream::write) that did not go out at once). Its capacity is
//!   reused for the next batch, so a keep-alive connection writes its responses without
//!   allocating.
//!
//! When an owned buffer is queued while the tail holds bytes, the tail joins the queue first
//! (order is kept) and a recycled `Vec` becomes the new tail.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::os::fd::RawFd;

use crate::sys;

/// Sent buffers larger than this are freed rather than kept for reuse as the tail.
const RECYCLE_MAX: usize = 64 * 1024;

/// The unsent bytes of a stream.
#[derive(Default)]
pub(crate) struct WriteBuffer {
    /// Owned buffers, sent before `tail`; the front one is sent from `head_pos` on.
    queue: VecDeque<Vec<u8>>,
    head_pos: usize,
    /// Unsent bytes in `queue` (from `head_pos` on).
    queue_bytes: usize,
    /// Bytes appended after the queue; sent from `tail_pos` on. `tail_pos > 0` only while the
    /// queue is empty.
    tail: Vec<u8>,
    tail_pos: usize,
    /// A sent buffer kept to become the next tail.
    spare: Option<Vec<u8>>,
}

impl WriteBuffer {
    /// Unsent bytes.
    pub(crate) fn pending(&self) -> usize {
        self.queue_bytes + self.tail.len() - self.tail_pos
    }

    /// Bytes of memory held.
    pub(crate) fn capacity(&self) -> usize {
        self.queue.iter().map(Vec::capacity).sum::<usize>()
            + self.tail.capacity()
            + self.spare.as_ref().map_or(0, Vec::capacity)
    }

    /// The tail `Vec`, holding exactly its unsent bytes, for appending.
    #[inline]
    pub(crate) fn tail_mut(&mut self) -> &mut Vec<u8> {
        if self.tail.capacity() == 0 {
            self.refill_tail();
        }
        if self.tail_pos > 0 {
            self.tail.drain(..self.tail_pos);
            self.tail_pos = 0;
        }
        &mut self.tail
    }

    /// Back from idle: a pooled buffer for the tail, if there is one.
    #[cold]
    fn refill_tail(&mut self) {
        self.tail = crate::buffer_pool::take(crate::buffer_pool::Kind::Write);
    }

    /// Queues an owned buffer after everything already queued.
    pub(crate) fn push_owned(&mut self, data: Vec<u8>) {
        if data.is_empty() {
            return;
        }
        if self.tail.len() > self.tail_pos {
            let fresh = self.spare.take().unwrap_or_default();
            let tail = std::mem::replace(&mut self.tail, fresh);
            if self.queue.is_empty() {
                self.head_pos = self.tail_pos;
            }
            self.queue_bytes += tail.len() - self.tail_pos;
            self.tail_pos = 0;
            self.queue.push_back(tail);
        } else {
            self.tail.clear();
            self.tail_pos = 0;
        }
        if self.queue.is_empty() {
            self.head_pos = 0;
        }
        self.queue_bytes += data.len();
        self.queue.push_back(data);
    }

    /// One `sendmsg`/`writev` of as much of the queue as fits in one call; returns the bytes
    /// sent and drops them from the buffer.
    pub(crate) fn write_to(&mut self, fd: RawFd, is_socket: bool) -> io::Result<usize> {
        self.write_with(|slices| {
            reactor::trace_step!(
                "iostream",
                "send(2) called",
                slices.iter().map(|s| s.len()).sum::<usize>()
            );
            let n = sys::write_vectored(fd, slices, is_socket)?;
            reactor::trace_step!("iostream", "send(2) returned", n);
            Ok(n)
        })
    }

    /// Hands the queued bytes (up to [`sys::MAX_IOV`] slices) to `write`, which returns how
    /// many it took, and drops those from the buffer: the one step behind [`write_to`]
    /// (a plain fd) and TLS (rustls's writer).
    ///
    /// [`write_to`]: Self::write_to
    #[inline]
    pub(crate) fn write_with(
        &mut self,
        write: impl FnOnce(&[IoSlice<'_>]) -> io::Result<usize>,
    ) -> io::Result<usize> {
        if self.queue.is_empty() {
            // The common case (http1's batched responses): one buffer, no iovec array.
            if self.tail.len() == self.tail_pos {
                return Ok(0);
            }
            let n = write(&[IoSlice::new(&self.tail[self.tail_pos..])])?;
            self.advance(n);
            return Ok(n);
        }
        let mut slices = [IoSlice::new(&[]); sys::MAX_IOV];
        let mut count = 0;
        for (i, buf) in self.queue.iter().enumerate() {
            if count == sys::MAX_IOV {
                break;
            }
            let from = if i == 0 { self.head_pos } else { 0 };
            slices[count] = IoSlice::new(&buf[from..]);
            count += 1;
        }
        if count < sys::MAX_IOV && self.tail.len() > self.tail_pos {
            slices[count] = IoSlice::new(&self.tail[self.tail_pos..]);
            count += 1;
        }
        if count == 0 {
            return Ok(0);
        }
        let n = write(&slices[..count])?;
        self.advance(n);
        Ok(n)
    }

    /// Drops `n` sent bytes from the front.
    fn advance(&mut self, mut n: usize) {
        while n > 0 {
            let Some(front) = self.queue.front() else {
                break;
            };
            let left = front.len() - self.head_pos;
            if n < left {
                self.head_pos += n;
                self.queue_bytes -= n;
                return;
            }
            n -= left;
            self.queue_bytes -= left;
            self.head_pos = 0;
            let mut sent = self.queue.pop_front().expect("front exists");
            if self.spare.is_none() && sent.capacity() <= RECYCLE_MAX {
                sent.clear();
                self.spare = Some(sent);
            }
        }
        if n == 0 {
            return;
        }
        self.tail_pos += n;
        debug_assert!(self.tail_pos <= self.tail.len());
        if self.tail_pos == self.tail.len() {
            self.tail.clear();
            self.tail_pos = 0;
        } else if self.tail_pos >= self.tail.len() / 2 {
            // Keep the sent prefix from growing without bound under a steady writer.
            self.tail.drain(..self.tail_pos);
            self.tail_pos = 0;
        }
    }

    /// When nothing is queued, gives the memory back: buffers of at most
    /// [`IDLE_KEEP_WRITE`](crate::IDLE_KEEP_WRITE) bytes to the per-thread pool, larger ones
    /// freed.
    ///
    /// Only what holds memory is touched: the tail and the spare go to the pool, and the
    /// (empty) queue's own array is freed if it has one.
    pub(crate) fn release_if_idle(&mut self) {
        if self.pending() > 0 {
            return;
        }
        if self.tail.capacity() > 0 {
            self.tail_pos = 0;
            crate::buffer_pool::give(
                crate::buffer_pool::Kind::Write,
                std::mem::take(&mut self.tail),
            );
        }
        if let Some(spare) = self.spare.take() {
            crate::buffer_pool::give(crate::buffer_pool::Kind::Write, spare);
        }
        if self.queue.capacity() > 0 {
            self.queue = VecDeque::new();
            self.head_pos = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_kept_across_tail_and_owned() {
        let mut w = WriteBuffer::default();
        w.tail_mut().extend_from_slice(b"A");
        w.push_owned(b"B".to_vec());
        w.tail_mut().extend_from_slice(b"C");
        w.push_owned(b"D".to_vec());
        w.tail_mut().extend_from_slice(b"E");
        assert_eq!(w.pending(), 5);
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        use std::os::fd::AsRawFd;
        let n = w.write_to(a.as_raw_fd(), true).unwrap();
        assert_eq!(n, 5);
        assert_eq!(w.pending(), 0);
        let mut out = [0u8; 5];
        use std::io::Read;
        (&b).read_exact(&mut out).unwrap();
        assert_eq!(&out, b"ABCDE");
    }

    #[test]
    fn advance_partial() {
        let mut w = WriteBuffer::default();
        w.push_owned(b"hello".to_vec());
        w.tail_mut().extend_from_slice(b"world");
        w.advance(3);
        assert_eq!(w.pending(), 7);
        w.advance(4);
        assert_eq!(w.pending(), 3);
        assert_eq!(w.tail_mut().as_slice(), b"rld");
        w.advance(3);
        assert_eq!(w.pending(), 0);
    }
}
