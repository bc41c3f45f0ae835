//! `futures-io`'s [`AsyncRead`] and [`AsyncWrite`] for [`IOStream`] (plain and TLS), and
//! [`AsyncBufRead`] for [`BufStream`], behind the crate's `futures-io` feature: the traits
//! most of the async ecosystem outside tokio speaks (WebSocket and database clients, codecs,
//! `futures::io::copy`, ...).
//!
//! The traits are a thin poll-level face on the stream's own buffers, nothing beside them:
//! * **reads** hand out the read buffer's bytes first (what an earlier `read_until` left is
//!   not lost), then read more exactly as every other read does (`poll_read_more`: inline
//!   first, the reactor on `EAGAIN`, TLS decrypted into the buffer); `Ok(0)` is the end of the
//!   stream, and a stream that ended with an error (a reset) returns that error;
//! * **writes** append to the write queue, up to `max_write_buffer_size`: when the queue is
//!   full, `poll_write` sends all of it and is `Pending` until that is done;
//!   `poll_flush` sends everything queued (TLS: sealed into records); `poll_close` flushes,
//!   then shuts the writing side down (`shutdown(SHUT_WR)`, after `close_notify` on TLS), so
//!   the peer reads its end while this side can still read.
//!
//! `AsyncBufRead` lends out bytes (`poll_fill_buf` returns a slice that outlives the call),
//! which the read buffer cannot do: it sits in a `RefCell` shared by every clone of the
//! stream. [`BufStream`] therefore owns the chunk it lends: it moves what the read buffer
//! holds into its own `Vec` when the previous chunk is used up (one copy), and gives back
//! what is left when it is unwrapped.
//!
//! Like the stream's other reads, a poll-level read is the stream's one read: do not poll it
//! while an `async` read (`read_until`, ...) on a clone is outstanding (that is refused with
//! [`StreamError::ReadPending`] as an `io::Error`) or from two tasks at once.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use ::futures_io::{AsyncBufRead, AsyncRead, AsyncWrite};

use super::IOStream;
use crate::error::StreamError;
use crate::sys;

impl IOStream {
    /// Waits until the read buffer holds at least one byte: `Ok(true)`, or `Ok(false)` at
    /// the end of the stream (also once the stream was closed without an error).
    fn poll_buffered(&self, cx: &mut Context<'_>) -> Poll<io::Result<bool>> {
        if self.inner.reading.get() {
            return Poll::Ready(Err(StreamError::ReadPending.into()));
        }
        loop {
            if !self.inner.read_buf.borrow().is_empty() {
                return Poll::Ready(Ok(true));
            }
            match ready!(self.poll_read_more(cx)) {
                Ok(_) => {}
                Err(StreamError::Closed { source: None }) => return Poll::Ready(Ok(false)),
                Err(e) => return Poll::Ready(Err(e.into())),
            }
        }
    }

    /// Sends everything queued now; `Ready(Ok)` once it is all out.
    fn poll_flush_queued(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let target = self.inner.written.get() + self.pending_write_bytes() as u64;
        // A poll-level flush has no future whose drop hands the wait on (`Flush::drop`): its
        // caller polls again until it is done, as the trait asks.
        let mut waiting = false;
        IOStream::poll_flush(self, cx, target, &mut waiting).map_err(io::Error::from)
    }

    /// Appends as much of `data` as the write queue has room for (driving the queue out
    /// first when it is full); the bytes taken.
    fn poll_queue(&self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        self.check_open_io()?;
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let max = self.inner.max_write_buffer_size.get();
        if self.pending_write_bytes() >= max {
            ready!(self.poll_flush_queued(cx))?;
        }
        let room = max.saturating_sub(self.pending_write_bytes());
        if room == 0 {
            // Only a limit of 0 gets here: the queue is empty and still has no room.
            return Poll::Ready(Err(StreamError::BufferFull.into()));
        }
        let n = room.min(data.len());
        self.write_buffer().extend_from_slice(&data[..n]);
        Poll::Ready(Ok(n))
    }

    /// Flushes, then shuts the writing side down (`close_notify` first on TLS). A stream that
    /// is already closed without an error is closed: `Ok`.
    fn poll_shutdown(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_flush_queued(cx))?;
        if self.closed() {
            return Poll::Ready(match self.error() {
                None => Ok(()),
                Some(_) => Err(self.closed_error().into()),
            });
        }
        if let Some(tls) = self.inner.tls.get() {
            // Queuing it again on a later poll queues nothing more (rustls sends one).
            tls.borrow_mut().queue_close_notify();
            ready!(self.poll_flush_queued(cx))?;
        }
        Poll::Ready(sys::shutdown_write(self.inner.raw_fd))
    }
}

impl AsyncRead for IOStream {
    /// Copies buffered bytes into `buf`, reading more only when none are buffered; `Ok(0)` at
    /// the end of the stream.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() || !ready!(self.poll_buffered(cx))? {
            return Poll::Ready(Ok(0));
        }
        Poll::Ready(Ok(self.inner.read_buf.borrow_mut().take_into(buf)))
    }
}

impl AsyncWrite for IOStream {
    /// Queues `buf` (no syscall), at most up to the write queue's limit; `Pending` while the
    /// queue is full and the socket takes nothing.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_queue(cx, buf)
    }

    /// Sends everything queued (one `sendmsg`/`writev` per attempt; TLS: sealed into records).
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush_queued(cx)
    }

    /// Flushes, then shuts down the writing side: the peer reads its end of the stream, and
    /// this side can still read. TLS sends `close_notify` first.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_shutdown(cx)
    }
}

/// An [`IOStream`] that lends its buffered bytes: [`AsyncBufRead`] (and [`AsyncRead`],
/// [`AsyncWrite`]) for code that wants `read_line`, `lines`, or its own `fill_buf`/`consume`
/// parsing. Available with the `futures-io` feature.
///
/// It takes the read buffer's bytes into a chunk of its own when the previous one is used up
/// (the stream's buffer sits in a `RefCell` shared by its clones, so it cannot lend them);
/// [`into_inner`](Self::into_inner) puts back what was not consumed, in front of anything the
/// stream has buffered since. Writes go straight to the stream.
///
/// ```
/// use std::os::unix::net::UnixStream;
/// use futures_util::{AsyncBufReadExt, AsyncWriteExt};
/// use iostream::{BufStream, IOStream};
///
/// let (a, b) = UnixStream::pair().unwrap();
/// reactor::Reactor::new().unwrap().block_on(async {
///     let mut a = IOStream::new(a.into()).unwrap();
///     let mut b = BufStream::new(IOStream::new(b.into()).unwrap());
///     a.write_all(b"first line\nsecond").await.unwrap();
///     AsyncWriteExt::close(&mut a).await.unwrap(); // flush, then shut down the writing side
///     let mut line = String::new();
///     b.read_line(&mut line).await.unwrap();
///     assert_eq!(line, "first line\n");
///     let rest = b.into_inner();
///     assert_eq!(rest.read_until_close().await.unwrap(), b"second");
/// });
/// ```
#[derive(Debug)]
pub struct BufStream {
    stream: IOStream,
    chunk: Vec<u8>,
    pos: usize,
}

impl BufStream {
    /// Wraps `stream`; what it has buffered is read first.
    pub fn new(stream: IOStream) -> BufStream {
        BufStream {
            stream,
            chunk: Vec::new(),
            pos: 0,
        }
    }

    /// The stream (its own reads do not see the bytes lent out here).
    pub fn get_ref(&self) -> &IOStream {
        &self.stream
    }

    /// The bytes taken from the stream and not consumed yet.
    pub fn buffer(&self) -> &[u8] {
        &self.chunk[self.pos..]
    }

    /// Returns the stream, its read buffer starting with the bytes not consumed here.
    pub fn into_inner(self) -> IOStream {
        let rest = &self.chunk[self.pos..];
        if !rest.is_empty() {
            let mut buf = self.stream.inner.read_buf.borrow_mut();
            let len = buf.len();
            let newer = buf.take(len);
            buf.extend(rest);
            buf.extend(&newer);
        }
        self.stream
    }
}

impl From<IOStream> for BufStream {
    fn from(stream: IOStream) -> BufStream {
        BufStream::new(stream)
    }
}

impl AsyncBufRead for BufStream {
    /// The unconsumed bytes of the current chunk; when it is used up, everything the stream
    /// has buffered (reading when it has nothing). Empty at the end of the stream.
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        if this.pos == this.chunk.len() {
            this.chunk.clear();
            this.pos = 0;
            if ready!(this.stream.poll_buffered(cx))? {
                let mut buf = this.stream.inner.read_buf.borrow_mut();
                this.chunk.extend_from_slice(buf.data());
                buf.consume(this.chunk.len());
            }
        }
        Poll::Ready(Ok(&this.chunk[this.pos..]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.get_mut();
        this.pos = (this.pos + amt).min(this.chunk.len());
    }
}

impl AsyncRead for BufStream {
    /// The current chunk's bytes first, then the stream's.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let rest = &this.chunk[this.pos..];
        if rest.is_empty() {
            return Pin::new(&mut this.stream).poll_read(cx, buf);
        }
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        this.pos += n;
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for BufStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_queue(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream.poll_flush_queued(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream.poll_shutdown(cx)
    }
}
