//! [`IOStream`]: buffered async reads and writes on a non-blocking fd (Tornado's `IOStream`).
//!
//! # Life of a stream
//! The fd is registered with the reactor once, in [`IOStream::new`], edge-triggered for both
//! directions ([`reactor::Registration`]), and stays registered until the stream closes: no
//! `epoll_ctl` per read or per request.
//!
//! # Reading
//! Every read (`read_until`, `fill_until`, `read_bytes`, ...) is the same loop:
//! 1. look at the buffered bytes: if they satisfy the read, it completes at once, with no
//!    syscall and no trip through the reactor;
//! 2. otherwise `read(2)` one chunk (`read_chunk_size`, 64 KiB) straight away, while the
//!    registration's readiness flag is set ("reads are tried inline first");
//! 3. only when `read(2)` says `EAGAIN` does the flag get cleared and the task wait for the next
//!    readable event.
//!
//! **Edge-triggered readiness and short reads.** With `EPOLLET` the kernel reports readiness
//! once per change, so the flag may only be cleared when the socket is known to be drained:
//! on `EAGAIN`, or after a *short* read (fewer bytes than the chunk asked for), since a
//! stream socket hands over everything it holds. Any byte that arrives later is a new edge and
//! sets the flag again. A FIN that arrived together with the data is not lost: once the
//! reactor has seen a hang-up, `Registration::clear_readable` leaves the flag set, so the EOF
//! is read. A keep-alive request therefore costs one `read` that brings the request, and no
//! `read` that returns `EAGAIN` — what a level-triggered raw epoll loop costs.
//!
//! Only one read may be outstanding at a time: a second one fails with
//! [`StreamError::ReadPending`] (a guard resets the flag when a read completes or its future
//! is dropped). Delimiter searches remember how far they have looked, so bytes arriving one at a
//! time are searched once each (linear, not quadratic).
//!
//! # Writing
//! Writes go into the [`WriteBuffer`] queue and are flushed with one `sendmsg`/`writev` per
//! attempt. [`IOStream::write`] first tries to send the caller's slice directly when nothing is
//! queued (no copy at all in the common case) and queues only what the socket did not take.
//! Several tasks may wait on the same stream's flush: each waits for the bytes queued up to its
//! own call, and whoever makes progress wakes the others.
//!
//! # Closing
//! End of file, a read or write error, [`StreamError::Unsatisfiable`], an over-full read buffer
//! or [`IOStream::close`] close the stream: the registration is dropped (`EPOLL_CTL_DEL`), then
//! the fd is closed, every waiting read and write is woken and fails with
//! [`StreamError::Closed`] carrying the OS error, and the close callback runs. Bytes already
//! read stay buffered and are still delivered to reads they satisfy (`read_until_close`,
//! `read_bytes(n, true)`, `read_until` whose delimiter arrived, ...).
//!
//! **Noticing a peer that leaves while nobody reads.** A server whose handler waits (a long
//! poll) reads nothing meanwhile, so a client's FIN or RST would sit unnoticed in CLOSE-WAIT.
//! [`IOStream::watch_close`] is the read to run then (Tornado's `_maybe_add_error_listener`):
//! it buffers what arrives up to a bound (pipelined bytes stay for the next read) and closes
//! the stream at EOF or on an error; [`IOStream::until_closed`] lets any task wait for that.
//!
//! # TLS
//! A TLS stream is this same type with a rustls session beside the fd
//! ([`start_tls_server`](IOStream::start_tls_server), what
//! [`TcpServer::with_tls`](crate::TcpServer::with_tls) does for each connection, or
//! [`start_tls_client`](IOStream::start_tls_client)). The buffers, the registration, the
//! waiting and every method above stay as they are; only the step that moves bytes between
//! the buffers and the fd goes through the session: reads decrypt into the read buffer, flushes
//! seal the write queue into records (`tls.rs` tells both paths; the glue to this file is
//! `stream/tls_io.rs`). A plain stream pays one
//! pointer for this and one test of it per read and flush.
//!
//! # Memory
//! When a read has to wait (`EAGAIN`) with nothing buffered, the stream is idle and gives its
//! buffers back: a read buffer of at most [`IDLE_KEEP`] bytes and a write buffer of at most
//! [`IDLE_KEEP_WRITE`] go to a per-thread pool (`buffer_pool.rs`) that the next busy stream
//! takes from, larger ones are freed. An idle stream thus holds no buffer, and a keep-alive
//! request still allocates nothing (the pool is bounded by bytes, so a stream gets back the
//! buffer its batches grew to). Requests larger than `IDLE_KEEP` cost one allocation each (the
//! buffer is freed while idle). Measured (`tests/memory.rs`, 10,000 idle echo
//! connections waiting in `read_until`): see that test's report for the heap per stream,
//! everything included (this state, the reactor's slot, the waiting task and its future).

use std::cell::{Cell, OnceCell, Ref, RefCell, RefMut};
use std::future::{poll_fn, Future};
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use memchr::memmem;
use reactor::Registration;

use crate::error::{copy_io_error, Result, StreamError};
use crate::read_buffer::ReadBuffer;
use crate::sys;
use crate::tls::TlsSession;
use crate::write_buffer::WriteBuffer;

#[cfg(feature = "futures-io")]
pub(crate) mod futures_io;
mod tls_io;

/// Default limit of the read buffer (Tornado's `max_buffer_size`): 100 MiB.
pub const DEFAULT_MAX_BUFFER_SIZE: usize = 100 * 1024 * 1024;
/// Default limit of the write queue: 100 MiB.
pub const DEFAULT_MAX_WRITE_BUFFER_SIZE: usize = 100 * 1024 * 1024;
/// Default size of one `read(2)` (Tornado's `read_chunk_size`): 64 KiB.
pub const DEFAULT_READ_CHUNK_SIZE: usize = 64 * 1024;
/// The piece size of [`IOStream::sendfile`] where `sendfile(2)` is not available: 64 KiB.
pub const SENDFILE_FALLBACK_CHUNK: usize = 64 * 1024;

/// The file behind a `sendfile` ended early.
fn short_file() -> StreamError {
    StreamError::Io(io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "file shorter than the range to send",
    ))
}

/// `sendfile(2)` errors that mean "not for this pair of fds" (try plain reads and writes).
fn sendfile_refused(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::Unsupported
        || matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOSYS))
}

/// Read buffers of an idle stream larger than this many bytes are freed; smaller ones go to
/// the per-thread pool for the next busy stream (which holds 256 KiB of each kind at most).
pub const IDLE_KEEP: usize = 64 * 1024;
/// Write buffers of an idle stream larger than this many bytes are freed; smaller ones are
/// pooled, as read buffers are ([`IDLE_KEEP`]).
pub const IDLE_KEEP_WRITE: usize = 64 * 1024;

/// A buffered, non-blocking stream over a socket or any other pollable fd.
///
/// `IOStream` is a cheap handle (an `Rc` inside): clone it to give another task the same
/// stream (for example one task reading while others write). It is `!Send`: it belongs to the
/// reactor thread that created it.
///
/// ```
/// use std::os::unix::net::UnixStream;
/// use iostream::IOStream;
/// use reactor::Reactor;
///
/// let (a, b) = UnixStream::pair().unwrap();
/// Reactor::new().unwrap().block_on(async {
///     let a = IOStream::new(a.into()).unwrap();
///     let b = IOStream::new(b.into()).unwrap();
///     a.write(b"GET / HTTP/1.1\r\n\r\nrest").await.unwrap();
///     let head = b.read_until(b"\r\n\r\n", None).await.unwrap();
///     assert_eq!(head, b"GET / HTTP/1.1\r\n\r\n");
///     assert_eq!(&*b.buffered(), b"rest");
/// });
/// ```
#[derive(Clone)]
pub struct IOStream {
    inner: Rc<Inner>,
}

/// The shared state of a stream. Field order matters for `Drop`: the registration goes before
/// the fd (deregister, then close).
struct Inner {
    reg: RefCell<Option<Registration>>,
    fd: RefCell<Option<OwnedFd>>,
    raw_fd: RawFd,
    is_socket: bool,
    read_buf: RefCell<ReadBuffer>,
    write_buf: RefCell<WriteBuffer>,
    /// Bytes sent over the stream's life; a flush waits until it reaches its target.
    written: Cell<u64>,
    reading: Cell<bool>,
    closed: Cell<bool>,
    error: OnceCell<io::Error>,
    read_waker: RefCell<Option<Waker>>,
    /// Tasks waiting on a flush, or for the close (`until_closed`): all woken at the close.
    write_waiters: RefCell<Vec<Waker>>,
    close_callback: RefCell<Option<Box<dyn FnOnce()>>>,
    max_buffer_size: Cell<usize>,
    max_write_buffer_size: Cell<usize>,
    read_chunk_size: Cell<usize>,
    /// The TLS session, for a TLS stream (`tls.rs`); boxed, so that a plain stream pays one
    /// pointer for it, and every plain path one test of it.
    tls: OnceCell<Box<RefCell<TlsSession>>>,
}

/// Marks the stream's one read as outstanding; resets it when the read ends or is dropped.
struct ReadGuard<'a>(&'a Inner);

impl Drop for ReadGuard<'_> {
    fn drop(&mut self) {
        self.0.reading.set(false);
        self.0.read_waker.borrow_mut().take();
    }
}

impl IOStream {
    /// Wraps `fd`: sets `O_NONBLOCK` and registers it with [`reactor::Reactor::current`].
    ///
    /// Create a stream on the thread, and inside the reactor (`block_on` / `run`), that will
    /// drive it: its readiness events go to the reactor it was registered with.
    pub fn new(fd: OwnedFd) -> io::Result<IOStream> {
        sys::set_nonblocking(fd.as_raw_fd())?;
        let is_socket = sys::is_socket(fd.as_raw_fd());
        IOStream::from_nonblocking(fd, is_socket)
    }

    /// Wraps a connected `TcpStream`.
    pub fn from_tcp(s: TcpStream) -> io::Result<IOStream> {
        s.set_nonblocking(true)?;
        IOStream::from_nonblocking(s.into(), true)
    }

    /// Wraps a connected `UnixStream`.
    pub fn from_unix(s: std::os::unix::net::UnixStream) -> io::Result<IOStream> {
        s.set_nonblocking(true)?;
        IOStream::from_nonblocking(s.into(), true)
    }

    /// Wraps an fd that is already non-blocking (accepted with `SOCK_NONBLOCK`).
    pub(crate) fn from_nonblocking(fd: OwnedFd, is_socket: bool) -> io::Result<IOStream> {
        let raw_fd = fd.as_raw_fd();
        if is_socket {
            sys::no_sigpipe(raw_fd)?;
        }
        let reg = Registration::new(raw_fd)?;
        Ok(IOStream {
            inner: Rc::new(Inner {
                reg: RefCell::new(Some(reg)),
                fd: RefCell::new(Some(fd)),
                raw_fd,
                is_socket,
                read_buf: RefCell::new(ReadBuffer::default()),
                write_buf: RefCell::new(WriteBuffer::default()),
                written: Cell::new(0),
                reading: Cell::new(false),
                closed: Cell::new(false),
                error: OnceCell::new(),
                read_waker: RefCell::new(None),
                write_waiters: RefCell::new(Vec::new()),
                close_callback: RefCell::new(None),
                max_buffer_size: Cell::new(DEFAULT_MAX_BUFFER_SIZE),
                max_write_buffer_size: Cell::new(DEFAULT_MAX_WRITE_BUFFER_SIZE),
                read_chunk_size: Cell::new(DEFAULT_READ_CHUNK_SIZE),
                tls: OnceCell::new(),
            }),
        })
    }

    /// Sets the read buffer limit (default 100 MiB); exceeding it is
    /// [`StreamError::BufferFull`] and closes the stream.
    pub fn set_max_buffer_size(&self, n: usize) {
        self.inner.max_buffer_size.set(n.max(1));
    }

    /// Sets the write queue limit (default 100 MiB); a write that would exceed it fails with
    /// [`StreamError::BufferFull`] and queues nothing.
    pub fn set_max_write_buffer_size(&self, n: usize) {
        self.inner.max_write_buffer_size.set(n);
    }

    /// Sets the most bytes one `read(2)` asks for (default 64 KiB).
    pub fn set_read_chunk_size(&self, n: usize) {
        self.inner.read_chunk_size.set(n.max(1));
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm).
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        sys::setsockopt_int(
            self.inner.raw_fd,
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            on as libc::c_int,
        )
    }

    /// Sets `SO_LINGER`: `Some(0)` makes [`close`](Self::close) reset the connection (RST)
    /// instead of a graceful FIN; `None` restores the default.
    pub fn set_linger(&self, secs: Option<u32>) -> io::Result<()> {
        sys::set_linger(
            self.inner.raw_fd,
            secs.map(|s| s.min(i32::MAX as u32) as i32),
        )
    }

    /// The fd (still the same number after [`close`](Self::close), but then no longer open).
    pub fn fd(&self) -> RawFd {
        self.inner.raw_fd
    }

    /// The peer's IP address and port (an error for a Unix-domain socket).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.check_open_io()?;
        sys::peer_addr(self.inner.raw_fd)?
            .ok_or_else(|| io::Error::new(io::ErrorKind::Unsupported, "not an IP socket"))
    }

    /// Bytes of heap memory held by the stream's buffers (for measurements and tests).
    pub fn buffer_capacity(&self) -> usize {
        self.inner.read_buf.borrow().capacity() + self.inner.write_buf.borrow().capacity()
    }

    // ------------------------------------------------------------------ reads (Tornado)

    /// Reads up to and including `delimiter`.
    ///
    /// With `max_bytes`, fails with [`StreamError::Unsatisfiable`] (and closes the stream) when
    /// more than `max_bytes` arrive without the delimiter, or the delimiter ends past
    /// `max_bytes`.
    pub async fn read_until(&self, delimiter: &[u8], max_bytes: Option<usize>) -> Result<Vec<u8>> {
        let _guard = self.start_read()?;
        let end = self
            .fill_until_inner(delimiter, max_bytes.unwrap_or(usize::MAX))
            .await?;
        Ok(self.inner.read_buf.borrow_mut().take(end))
    }

    /// Reads up to and including the first match of `re`.
    ///
    /// The whole buffer is searched again after each new chunk (a regex match may start
    /// anywhere), so prefer [`read_until`](Self::read_until) for fixed delimiters.
    pub async fn read_until_regex(
        &self,
        re: &regex::bytes::Regex,
        max_bytes: Option<usize>,
    ) -> Result<Vec<u8>> {
        let _guard = self.start_read()?;
        let max = max_bytes.unwrap_or(usize::MAX);
        loop {
            let found = {
                let buf = self.inner.read_buf.borrow();
                match re.find(buf.data()) {
                    Some(m) => Some(m.end()),
                    None if buf.len() > max => Some(usize::MAX),
                    None => None,
                }
            };
            match found {
                Some(end) if end > max => return Err(self.unsatisfiable(max)),
                Some(end) => return Ok(self.inner.read_buf.borrow_mut().take(end)),
                None => {}
            }
            poll_fn(|cx| self.poll_read_more(cx)).await?;
        }
    }

    /// Reads `n` bytes; with `partial`, returns as soon as at least one byte is available (at
    /// most `n`).
    pub async fn read_bytes(&self, n: usize, partial: bool) -> Result<Vec<u8>> {
        let _guard = self.start_read()?;
        loop {
            let len = self.inner.read_buf.borrow().len();
            if len >= n || (partial && len > 0) {
                return Ok(self.inner.read_buf.borrow_mut().take(n));
            }
            poll_fn(|cx| self.poll_read_more(cx)).await?;
        }
    }

    /// Reads until the peer closes, and returns everything (also when the stream ended with
    /// an error such as a reset: what arrived is not lost).
    pub async fn read_until_close(&self) -> Result<Vec<u8>> {
        let _guard = self.start_read()?;
        loop {
            match poll_fn(|cx| self.poll_read_more(cx)).await {
                Ok(_) => {}
                Err(StreamError::Closed { .. }) => {
                    let mut buf = self.inner.read_buf.borrow_mut();
                    let len = buf.len();
                    return Ok(buf.take(len));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Fills `buf`; with `partial`, returns as soon as at least one byte was placed.
    ///
    /// Buffered bytes are copied first; the rest is read straight into `buf`. If the stream
    /// closes before a non-partial read is complete, the bytes gathered so far are put back
    /// into the read buffer (see [`buffered`](Self::buffered)) and `Closed` is returned.
    pub async fn read_into(&self, buf: &mut [u8], partial: bool) -> Result<usize> {
        let _guard = self.start_read()?;
        let mut filled = self.inner.read_buf.borrow_mut().take_into(buf);
        while filled < buf.len() && !(partial && filled > 0) {
            let rest = &mut buf[filled..];
            let read = if self.inner.tls.get().is_some() {
                // Plaintext comes out of rustls: through the read buffer.
                match poll_fn(|cx| self.poll_read_more(cx)).await {
                    Ok(_) => Ok(self.inner.read_buf.borrow_mut().take_into(rest)),
                    Err(e) => Err(e),
                }
            } else {
                poll_fn(|cx| self.poll_read_direct(cx, rest)).await
            };
            match read {
                Ok(n) => filled += n,
                Err(e) => {
                    // Nothing that arrived is lost: hand it back to the buffer.
                    self.inner.read_buf.borrow_mut().extend(&buf[..filled]);
                    return Err(e);
                }
            }
        }
        Ok(filled)
    }

    // ------------------------------------------------------------------ reads (zero-copy)

    /// Waits until the buffered bytes contain `delimiter`, and returns the offset just past it
    /// in [`buffered`](Self::buffered). Nothing is consumed; nothing is allocated.
    ///
    /// Fails with [`StreamError::Unsatisfiable`] (closing the stream) when more than
    /// `max_bytes` are buffered without the delimiter, or it ends past `max_bytes`.
    pub async fn fill_until(&self, delimiter: &[u8], max_bytes: usize) -> Result<usize> {
        let _guard = self.start_read()?;
        self.fill_until_inner(delimiter, max_bytes).await
    }

    /// Waits until at least `min` bytes are buffered, and returns how many are. Fails with
    /// `Closed` if the stream ends first (what did arrive stays in [`buffered`](Self::buffered)).
    pub async fn fill(&self, min: usize) -> Result<usize> {
        let _guard = self.start_read()?;
        loop {
            let len = self.inner.read_buf.borrow().len();
            if len >= min {
                return Ok(len);
            }
            poll_fn(|cx| self.poll_read_more(cx)).await?;
        }
    }

    /// The unconsumed bytes of the read buffer.
    ///
    /// Drop the `Ref` before the next read or [`consume`](Self::consume).
    pub fn buffered(&self) -> Ref<'_, [u8]> {
        Ref::map(self.inner.read_buf.borrow(), ReadBuffer::data)
    }

    /// The unconsumed bytes of the read buffer, to change in place before consuming them
    /// (a WebSocket connection unmasks payloads where they lie instead of copying them out).
    ///
    /// Drop the `RefMut` before the next read, [`buffered`](Self::buffered) or
    /// [`consume`](Self::consume).
    ///
    /// ```
    /// use std::os::unix::net::UnixStream;
    /// use iostream::IOStream;
    ///
    /// let (a, b) = UnixStream::pair().unwrap();
    /// reactor::Reactor::new().unwrap().block_on(async {
    ///     let a = IOStream::new(a.into()).unwrap();
    ///     let b = IOStream::new(b.into()).unwrap();
    ///     a.write(b"abc").await.unwrap();
    ///     b.fill(3).await.unwrap();
    ///     b.buffered_mut().make_ascii_uppercase();
    ///     assert_eq!(&*b.buffered(), b"ABC");
    /// });
    /// ```
    pub fn buffered_mut(&self) -> RefMut<'_, [u8]> {
        RefMut::map(self.inner.read_buf.borrow_mut(), ReadBuffer::data_mut)
    }

    /// Watches for the peer leaving while nobody reads (Tornado's `_maybe_add_error_listener`):
    /// resolves when the stream has closed.
    ///
    /// This is a read, holding the stream's one read slot while it waits (if another read is
    /// outstanding, that read will notice the close: this waits until the stream closes
    /// without reading). It reads what arrives into the read buffer, where it stays for the
    /// next read (pipelined bytes are never lost), until at least `max_buffered` bytes are
    /// buffered (one `read(2)` may bring up to `read_chunk_size` more); then it stops reading:
    /// the peer is alive and sending. End of file, a reset or any read error closes the stream
    /// at once (deregister, close the fd, run the close callback), and the future resolves.
    /// On a TLS stream the records that arrive are processed, so a `close_notify` counts as the
    /// peer leaving too.
    ///
    /// Costs nothing while the socket is drained: the readiness flag is clear, so the watch
    /// waits for the next event without a syscall.
    ///
    /// ```
    /// use std::os::unix::net::UnixStream;
    /// use iostream::IOStream;
    ///
    /// let (a, b) = UnixStream::pair().unwrap();
    /// reactor::Reactor::new().unwrap().block_on(async {
    ///     let a = IOStream::new(a.into()).unwrap();
    ///     let b = IOStream::new(b.into()).unwrap();
    ///     a.write(b"pipelined").await.unwrap();
    ///     a.close();
    ///     b.watch_close(1024).await;
    ///     assert!(b.closed());
    ///     assert_eq!(&*b.buffered(), b"pipelined");
    /// });
    /// ```
    pub async fn watch_close(&self, max_buffered: usize) {
        let Ok(_guard) = self.start_read() else {
            return self.until_closed().await;
        };
        while self.inner.read_buf.borrow().len() < max_buffered {
            if poll_fn(|cx| self.poll_read_more(cx)).await.is_err() {
                return;
            }
        }
        // Full: the peer is sending, not leaving. Wait for a close from elsewhere.
        poll_fn(|cx| {
            if self.closed() {
                return Poll::Ready(());
            }
            store_waker(&self.inner.read_waker, cx);
            Poll::Pending
        })
        .await
    }

    /// A future that resolves once the stream is closed (by either side, for any reason);
    /// it holds a handle to the stream, not a borrow, so it can be `select`ed on next to work
    /// that uses the stream. It only waits: something else must read or watch the stream
    /// (see [`watch_close`](Self::watch_close)) for a peer's departure to be seen.
    pub fn until_closed(&self) -> impl Future<Output = ()> + 'static {
        let stream = self.clone();
        poll_fn(move |cx| {
            if stream.closed() {
                return Poll::Ready(());
            }
            // The flush waiters are all woken at the close (and on write progress: then this
            // just registers again).
            let mut waiters = stream.inner.write_waiters.borrow_mut();
            if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
                waiters.push(cx.waker().clone());
            }
            Poll::Pending
        })
    }

    /// Drops `n` bytes (at most what is buffered) from the front of the read buffer.
    pub fn consume(&self, n: usize) {
        self.inner.read_buf.borrow_mut().consume(n);
    }

    /// One non-blocking `read(2)` if the fd may be readable; returns the bytes added (0 if
    /// it would block or the readiness flag is clear). End of file or an error closes the
    /// stream and returns `Closed`.
    pub fn try_fill(&self) -> Result<usize> {
        if self.inner.reading.get() {
            return Err(StreamError::ReadPending);
        }
        self.check_open()?;
        if let Some(tls) = self.inner.tls.get() {
            return self.try_fill_tls(tls);
        }
        let result = {
            let reg = self.inner.reg.borrow();
            let reg = reg.as_ref().expect("an open stream is registered");
            if !reg.is_readable() {
                return Ok(0);
            }
            let r = self
                .inner
                .read_buf
                .borrow_mut()
                .read_from(self.inner.raw_fd, self.inner.read_chunk_size.get());
            if matches!(&r, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
                reg.clear_readable();
                return Ok(0);
            }
            r
        };
        self.after_read(result)
    }

    /// The read loop of `read_until` and `fill_until`; see the module doc.
    async fn fill_until_inner(&self, delimiter: &[u8], max_bytes: usize) -> Result<usize> {
        let finder = memmem::Finder::new(delimiter);
        // Bytes at the front of the buffer already searched: a match can only start in the
        // last `delimiter.len() - 1` of them, so the search resumes there (linear overall).
        let mut searched = 0usize;
        loop {
            let found = {
                let buf = self.inner.read_buf.borrow();
                let data = buf.data();
                let from = search_start(searched, delimiter.len());
                match finder.find(&data[from..]) {
                    Some(i) => Some(from + i + delimiter.len()),
                    None if data.len() > max_bytes => Some(usize::MAX),
                    None => {
                        searched = data.len();
                        None
                    }
                }
            };
            match found {
                Some(end) if end > max_bytes => return Err(self.unsatisfiable(max_bytes)),
                Some(end) => return Ok(end),
                None => {}
            }
            poll_fn(|cx| self.poll_read_more(cx)).await?;
        }
    }

    /// Claims the stream's single read slot.
    fn start_read(&self) -> Result<ReadGuard<'_>> {
        if self.inner.reading.replace(true) {
            return Err(StreamError::ReadPending);
        }
        Ok(ReadGuard(&self.inner))
    }

    /// Closes the stream for an unsatisfiable read (Tornado's rule) and returns the error.
    fn unsatisfiable(&self, max_bytes: usize) -> StreamError {
        self.close();
        StreamError::Unsatisfiable { max_bytes }
    }

    /// One attempt to bring more bytes into the read buffer: `Ready(Ok(n))` with `n > 0`, or
    /// `Pending` (the fd is drained; the task is woken by the next readable event or by a
    /// close), or `Ready(Err)` when the stream is or becomes closed.
    fn poll_read_more(&self, cx: &mut Context<'_>) -> Poll<Result<usize>> {
        let inner = &*self.inner;
        if inner.closed.get() {
            return Poll::Ready(Err(self.closed_error()));
        }
        if let Some(tls) = inner.tls.get() {
            return match self.poll_tls_read(cx, tls) {
                Poll::Pending => {
                    self.release_idle_buffers(); // waiting for input: idle buffers go back
                    store_waker(&inner.read_waker, cx);
                    Poll::Pending
                }
                Poll::Ready(r) => Poll::Ready(self.after_read(r)),
            };
        }
        let chunk = inner.read_chunk_size.get();
        let result = {
            let reg = inner.reg.borrow();
            let reg = reg.as_ref().expect("an open stream is registered");
            let result = reg.poll_read_with(cx, || {
                inner.read_buf.borrow_mut().read_from(inner.raw_fd, chunk)
            });
            if matches!(result, Poll::Ready(Ok(n)) if n > 0 && n < chunk) {
                // A short read drained the socket: the next byte will come with a new edge.
                // (After a hang-up the reactor keeps the flag set, so the EOF is still read.)
                reg.clear_readable();
            }
            result
        };
        match result {
            Poll::Pending => {
                self.release_idle_buffers(); // waiting for input: idle buffers go back
                store_waker(&inner.read_waker, cx);
                Poll::Pending
            }
            Poll::Ready(r) => Poll::Ready(self.after_read(r)),
        }
    }

    /// Like `poll_read_more`, but reads into the caller's slice (for `read_into`).
    fn poll_read_direct(&self, cx: &mut Context<'_>, out: &mut [u8]) -> Poll<Result<usize>> {
        let inner = &*self.inner;
        if inner.closed.get() {
            return Poll::Ready(Err(self.closed_error()));
        }
        let result = {
            let reg = inner.reg.borrow();
            let reg = reg.as_ref().expect("an open stream is registered");
            reg.poll_read_with(cx, || sys::read(inner.raw_fd, out))
        };
        match result {
            Poll::Pending => {
                store_waker(&inner.read_waker, cx);
                Poll::Pending
            }
            Poll::Ready(Ok(0)) => {
                self.close_with(None);
                Poll::Ready(Err(StreamError::Closed { source: None }))
            }
            Poll::Ready(Ok(n)) => Poll::Ready(Ok(n)),
            Poll::Ready(Err(e)) => Poll::Ready(Err(self.fail(e))),
        }
    }

    /// Interprets the result of one `read(2)` into the buffer: EOF and errors close.
    fn after_read(&self, r: io::Result<usize>) -> Result<usize> {
        match r {
            Ok(0) => {
                self.close_with(None);
                Err(StreamError::Closed { source: None })
            }
            Ok(n) => {
                if self.inner.read_buf.borrow().len() > self.inner.max_buffer_size.get() {
                    self.close();
                    return Err(StreamError::BufferFull);
                }
                Ok(n)
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Gives the read and write buffers back if they hold nothing (see "Memory" in the module
    /// doc): what a read that has to wait does. For an owner whose flush ends after its read
    /// began waiting (a WebSocket connection answers, then flushes, while its reader waits),
    /// so that an idle stream holds no buffer either way. A buffer borrowed right now is left
    /// alone.
    ///
    /// ```
    /// use std::os::unix::net::UnixStream;
    /// use iostream::IOStream;
    ///
    /// let (a, b) = UnixStream::pair().unwrap();
    /// reactor::Reactor::new().unwrap().block_on(async {
    ///     let a = IOStream::new(a.into()).unwrap();
    ///     let b = IOStream::new(b.into()).unwrap();
    ///     a.write(b"hi").await.unwrap();
    ///     b.fill(2).await.unwrap();
    ///     b.release_idle_buffers();
    ///     assert!(b.buffer_capacity() > 0, "two bytes are still buffered");
    ///     b.consume(2);
    ///     b.release_idle_buffers();
    ///     assert_eq!(b.buffer_capacity(), 0);
    /// });
    /// ```
    pub fn release_idle_buffers(&self) {
        if let Ok(mut r) = self.inner.read_buf.try_borrow_mut() {
            r.release_if_idle();
        }
        if let Ok(mut w) = self.inner.write_buf.try_borrow_mut() {
            w.release_if_idle();
        }
    }

    // ------------------------------------------------------------------ writes

    /// Sends `data`, resolving when it (and everything queued before it) has been written.
    ///
    /// When nothing is queued the bytes are sent straight from `data`; only what the socket
    /// does not take at once is copied into the queue. Fails with
    /// [`StreamError::BufferFull`] (queuing nothing) if the queue would exceed
    /// `max_write_buffer_size`.
    pub async fn write(&self, data: &[u8]) -> Result<()> {
        self.check_open()?;
        let pending = self.pending_write_bytes();
        if pending.saturating_add(data.len()) > self.inner.max_write_buffer_size.get() {
            return Err(StreamError::BufferFull);
        }
        let mut sent = 0;
        if pending == 0 && !data.is_empty() && self.inner.tls.get().is_none() {
            sent = poll_fn(|cx| Poll::Ready(self.try_write_direct(cx, data))).await?;
        }
        if sent < data.len() {
            self.inner
                .write_buf
                .borrow_mut()
                .tail_mut()
                .extend_from_slice(&data[sent..]);
        }
        self.flush().await
    }

    /// The tail of the write queue, to append bytes to (no syscall; call
    /// [`flush`](Self::flush) after). It holds exactly the tail's unsent bytes; only append.
    ///
    /// Drop the `RefMut` before awaiting anything on this stream.
    #[inline]
    pub fn write_buffer(&self) -> RefMut<'_, Vec<u8>> {
        RefMut::map(self.inner.write_buf.borrow_mut(), WriteBuffer::tail_mut)
    }

    /// Queues an owned buffer, sent later by [`flush`](Self::flush) without being copied.
    pub fn write_owned(&self, data: Vec<u8>) -> Result<()> {
        self.check_open()?;
        if self.pending_write_bytes().saturating_add(data.len())
            > self.inner.max_write_buffer_size.get()
        {
            return Err(StreamError::BufferFull);
        }
        self.inner.write_buf.borrow_mut().push_owned(data);
        Ok(())
    }

    /// Writes everything queued so far; resolves when it has all been sent (one
    /// `sendmsg`/`writev` per attempt).
    pub fn flush(&self) -> impl Future<Output = Result<()>> + '_ {
        Flush {
            stream: self,
            target: self.inner.written.get() + self.pending_write_bytes() as u64,
            waiting: false,
        }
    }

    /// Sends `len` bytes of `file` starting at `offset`, after everything queued before it;
    /// resolves when every byte has been handed to the kernel.
    ///
    /// On Linux this is `sendfile(2)`: the file's pages go to the socket inside the kernel and
    /// never through a user-space buffer. Where `sendfile` is not available (other systems, or
    /// an fd pair it refuses) the file is read with `pread` in pieces of
    /// [`SENDFILE_FALLBACK_CHUNK`] bytes, each written before the next is read: never the whole
    /// file in memory. A file shorter than `offset + len` is an [`io::ErrorKind::UnexpectedEof`]
    /// error ([`StreamError::Io`]; the stream stays open, the caller decides).
    ///
    /// ```
    /// use std::io::Write;
    /// use std::os::unix::net::UnixStream;
    /// use iostream::IOStream;
    ///
    /// let mut file = tempfile_in_target();
    /// file.write_all(b"hello, sendfile").unwrap();
    /// let (a, b) = UnixStream::pair().unwrap();
    /// reactor::Reactor::new().unwrap().block_on(async {
    ///     let a = IOStream::new(a.into()).unwrap();
    ///     let b = IOStream::new(b.into()).unwrap();
    ///     a.write_buffer().extend_from_slice(b"> ");
    ///     a.sendfile(&file, 7, 8).await.unwrap();
    ///     assert_eq!(b.read_bytes(10, false).await.unwrap(), b"> sendfile");
    /// });
    /// # fn tempfile_in_target() -> std::fs::File {
    /// #     let path = std::env::temp_dir().join(format!("iostream-sendfile-doc-{}", std::process::id()));
    /// #     let f = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&path).unwrap();
    /// #     let _ = std::fs::remove_file(&path);
    /// #     f
    /// # }
    /// ```
    pub async fn sendfile(&self, file: &std::fs::File, offset: u64, len: u64) -> Result<()> {
        self.flush().await?;
        let end = offset
            .checked_add(len)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "offset + len overflows"))?;
        if self.inner.tls.get().is_some() {
            // The kernel cannot encrypt: the file goes through rustls in pieces.
            return self.send_file_in_pieces(file, offset, end).await;
        }
        let file_fd = file.as_raw_fd();
        let mut off = offset;
        while off < end {
            // At most 1 GiB per call (the kernel caps one call near 2 GiB anyway).
            let count = (end - off).min(1 << 30) as usize;
            let sent = poll_fn(|cx| {
                if self.closed() {
                    return Poll::Ready(Err(None));
                }
                let reg = self.inner.reg.borrow();
                let Some(reg) = reg.as_ref() else {
                    return Poll::Ready(Err(None));
                };
                reg.poll_write_with(cx, || {
                    sys::sendfile(self.inner.raw_fd, file_fd, &mut off, count)
                })
                .map_err(Some)
            })
            .await;
            match sent {
                Ok(0) => return Err(short_file()),
                Ok(_) => {}
                Err(None) => return Err(self.closed_error()),
                Err(Some(e)) if off == offset && sendfile_refused(&e) => {
                    return self.send_file_in_pieces(file, off, end).await;
                }
                Err(Some(e)) => return Err(self.fail(e)),
            }
        }
        Ok(())
    }

    /// The portable path of [`sendfile`](Self::sendfile): `pread` a bounded piece, write it,
    /// repeat.
    async fn send_file_in_pieces(
        &self,
        file: &std::fs::File,
        mut off: u64,
        end: u64,
    ) -> Result<()> {
        use std::os::unix::fs::FileExt;
        let mut buf = vec![0u8; (end - off).min(SENDFILE_FALLBACK_CHUNK as u64) as usize];
        while off < end {
            let want = (end - off).min(buf.len() as u64) as usize;
            let n = file
                .read_at(&mut buf[..want], off)
                .map_err(StreamError::Io)?;
            if n == 0 {
                return Err(short_file());
            }
            self.write(&buf[..n]).await?;
            off += n as u64;
        }
        Ok(())
    }

    /// Bytes queued and not yet sent.
    pub fn pending_write_bytes(&self) -> usize {
        self.inner.write_buf.borrow().pending()
    }

    /// One inline attempt to send `data` without queuing it; the bytes sent (0 if it would
    /// block).
    fn try_write_direct(&self, cx: &mut Context<'_>, data: &[u8]) -> Result<usize> {
        let inner = &*self.inner;
        let result = {
            let reg = inner.reg.borrow();
            let reg = reg.as_ref().expect("an open stream is registered");
            let slice = [io::IoSlice::new(data)];
            reg.poll_write_with(cx, || {
                sys::write_vectored(inner.raw_fd, &slice, inner.is_socket)
            })
        };
        match result {
            Poll::Pending => Ok(0),
            Poll::Ready(Ok(n)) => {
                reactor::trace_step!("iostream", "send(2) returned, unbuffered", n);
                inner.written.set(inner.written.get() + n as u64);
                Ok(n)
            }
            Poll::Ready(Err(e)) => Err(self.fail(e)),
        }
    }

    /// Drives the flush of everything up to `target` (bytes written over the stream's life).
    fn poll_flush(
        &self,
        cx: &mut Context<'_>,
        target: u64,
        waiting: &mut bool,
    ) -> Poll<Result<()>> {
        let inner = &*self.inner;
        if let Some(tls) = inner.tls.get() {
            return self.poll_tls_flush(cx, tls, target, waiting);
        }
        loop {
            if inner.written.get() >= target {
                return Poll::Ready(Ok(()));
            }
            if inner.closed.get() {
                return Poll::Ready(Err(self.closed_error()));
            }
            let result = {
                let reg = inner.reg.borrow();
                let reg = reg.as_ref().expect("an open stream is registered");
                reg.poll_write_with(cx, || {
                    inner
                        .write_buf
                        .borrow_mut()
                        .write_to(inner.raw_fd, inner.is_socket)
                })
            };
            match result {
                Poll::Ready(Ok(0)) => {
                    let e = io::Error::new(io::ErrorKind::WriteZero, "write returned 0");
                    return Poll::Ready(Err(self.fail(e)));
                }
                Poll::Ready(Ok(n)) => {
                    inner.written.set(inner.written.get() + n as u64);
                    self.wake_writers(Some(cx.waker()));
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(self.fail(e))),
                Poll::Pending => {
                    *waiting = true;
                    let mut waiters = inner.write_waiters.borrow_mut();
                    if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
                        waiters.push(cx.waker().clone());
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    /// Wakes every task waiting on a flush (but `except`), so each re-checks its target and one
    /// of them takes over waiting for writability.
    fn wake_writers(&self, except: Option<&Waker>) {
        let mut woken = {
            let mut waiters = self.inner.write_waiters.borrow_mut();
            if waiters.is_empty() {
                return;
            }
            std::mem::take(&mut *waiters)
        };
        for w in woken.drain(..) {
            if except.is_some_and(|e| w.will_wake(e)) {
                continue;
            }
            w.wake();
        }
        // Give the (now empty) vector's capacity back for the next waiters.
        let mut waiters = self.inner.write_waiters.borrow_mut();
        if waiters.is_empty() {
            *waiters = woken;
        }
    }

    // ------------------------------------------------------------------ closing

    /// Closes the stream now: deregisters and closes the fd, fails every waiting read and
    /// write with `Closed`, and runs the close callback. Unsent bytes are dropped; buffered
    /// read bytes stay readable. Closing twice does nothing.
    pub fn close(&self) {
        self.close_with(None);
    }

    /// Flushes, then shuts down the writing side (`shutdown(SHUT_WR)`): the peer reads EOF
    /// while this side can still read (Tornado's lingering close).
    ///
    /// A TLS stream sends `close_notify` first (the peer's TLS reads end cleanly).
    pub async fn shutdown_write(&self) -> Result<()> {
        self.flush().await?;
        self.check_open()?;
        if let Some(tls) = self.inner.tls.get() {
            tls.borrow_mut().queue_close_notify();
            self.flush().await?;
        }
        sys::shutdown_write(self.inner.raw_fd).map_err(StreamError::Io)
    }

    /// Whether the stream is closed.
    pub fn closed(&self) -> bool {
        self.inner.closed.get()
    }

    /// The OS error that closed the stream, if one did.
    pub fn error(&self) -> Option<&io::Error> {
        self.inner.error.get()
    }

    /// Sets the function run once when the stream closes (at once if it is already closed).
    pub fn set_close_callback(&self, f: impl FnOnce() + 'static) {
        if self.closed() {
            f();
        } else {
            *self.inner.close_callback.borrow_mut() = Some(Box::new(f));
        }
    }

    /// Closes with `error` and returns the `Closed` error carrying it.
    fn fail(&self, error: io::Error) -> StreamError {
        let err = StreamError::Closed {
            source: Some(copy_io_error(&error)),
        };
        self.close_with(Some(error));
        err
    }

    fn close_with(&self, error: Option<io::Error>) {
        let inner = &*self.inner;
        if inner.closed.replace(true) {
            return;
        }
        if let Some(e) = error {
            let _ = inner.error.set(e);
        }
        if let (None, Some(tls)) = (inner.error.get(), inner.tls.get()) {
            if let Ok(mut tls) = tls.try_borrow_mut() {
                tls.close_notify(inner.raw_fd, inner.is_socket);
            }
        }
        // Deregister, then close; unsent bytes can no longer go anywhere.
        drop(inner.reg.borrow_mut().take());
        drop(inner.fd.borrow_mut().take());
        if let Ok(mut w) = inner.write_buf.try_borrow_mut() {
            *w = WriteBuffer::default();
        }
        let reader = inner.read_waker.borrow_mut().take();
        if let Some(w) = reader {
            w.wake();
        }
        self.wake_writers(None);
        let callback = inner.close_callback.borrow_mut().take();
        if let Some(f) = callback {
            f();
        }
    }

    fn closed_error(&self) -> StreamError {
        StreamError::closed(self.inner.error.get())
    }

    fn check_open(&self) -> Result<()> {
        if self.closed() {
            Err(self.closed_error())
        } else {
            Ok(())
        }
    }

    fn check_open_io(&self) -> io::Result<()> {
        self.check_open().map_err(io::Error::from)
    }

    /// Waits for a non-blocking `connect` on this stream's socket to finish (for `TcpClient`).
    pub(crate) async fn wait_connected(&self) -> io::Result<()> {
        let fd = self.inner.raw_fd;
        poll_fn(|cx| {
            let reg = self.inner.reg.borrow();
            let reg = reg.as_ref().expect("an open stream is registered");
            reg.poll_write_with(cx, || {
                let err = sys::getsockopt_int(fd, libc::SOL_SOCKET, libc::SO_ERROR)?;
                if err != 0 {
                    return Err(io::Error::from_raw_os_error(err));
                }
                match sys::peer_addr(fd) {
                    Ok(_) => Ok(()),
                    Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => {
                        Err(io::ErrorKind::WouldBlock.into())
                    }
                    Err(e) => Err(e),
                }
            })
        })
        .await
    }
}

impl std::fmt::Debug for IOStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IOStream")
            .field("fd", &self.inner.raw_fd)
            .field("closed", &self.inner.closed.get())
            .field("buffered", &self.inner.read_buf.borrow().len())
            .field("pending_write", &self.inner.write_buf.borrow().pending())
            .field("tls", &self.is_tls())
            .finish()
    }
}

/// Where a delimiter search resumes when `searched` bytes were already searched without a
/// match: only the last `delimiter_len - 1` of them can start a match that new bytes complete.
fn search_start(searched: usize, delimiter_len: usize) -> usize {
    searched.saturating_sub(delimiter_len.saturating_sub(1))
}

fn store_waker(slot: &RefCell<Option<Waker>>, cx: &Context<'_>) {
    let mut slot = slot.borrow_mut();
    match &*slot {
        Some(w) if w.will_wake(cx.waker()) => {}
        _ => *slot = Some(cx.waker().clone()),
    }
}

/// The future of [`IOStream::flush`]: waits until the stream has written `target` bytes.
struct Flush<'a> {
    stream: &'a IOStream,
    target: u64,
    /// Whether this future left its waker with the stream (then dropping it early must hand
    /// the wait over to another writer).
    waiting: bool,
}

impl Future for Flush<'_> {
    type Output = Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let this = self.get_mut();
        let r = this.stream.poll_flush(cx, this.target, &mut this.waiting);
        if r.is_ready() {
            this.waiting = false;
        }
        r
    }
}

impl Drop for Flush<'_> {
    fn drop(&mut self) {
        if self.waiting {
            // We may have been the one the reactor would wake on writability.
            self.stream.wake_writers(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::search_start;

    #[test]
    fn byte_by_byte_search_is_linear() {
        // Bytes looked at when a 1 MiB head arrives one byte per read, with a 4-byte delimiter:
        // at most 4 per arrival (a quadratic rescan would be ~5 * 10^11).
        let (n, delim) = (1usize << 20, 4);
        let mut searched = 0;
        let mut looked_at = 0u64;
        for len in 1..=n {
            looked_at += (len - search_start(searched, delim)) as u64;
            searched = len;
        }
        assert!(looked_at <= (delim * n) as u64, "{looked_at}");
    }
}
