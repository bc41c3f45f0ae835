//! The glue for the layers above: an fd registered once, whose readiness a task can await.
//!
//! A [`Registration`] puts its fd in the poller edge-triggered (`EPOLLET` / `EV_CLEAR`) for
//! both directions, once for its whole life: no `epoll_ctl` per read or per request. The kernel
//! reports each change of readiness once, so the registration keeps a readiness flag per
//! direction, set by the poller's events and **cleared only when a syscall returns `EAGAIN`**.
//! While a flag is set, `poll_readable` / `poll_writable` answer at once and the caller makes
//! the syscall; when it would block, the caller clears the flag and the task's waker is stored,
//! to be woken by the next event. Both flags start set, so the first attempt is a syscall, not
//! a wait.
//!
//! The loop is single-threaded, so clearing a flag after `EAGAIN` cannot race with the event
//! that sets it again: events are only dispatched when the task has returned to the loop.
//!
//! Once the poller has reported a hang-up or an error, reads can never block again (they
//! return the EOF or the error), so the read flag then stays set for good: `clear_readable`
//! does nothing. That lets a caller clear the flag after a *short* read (fewer bytes than it
//! asked for: the socket was drained at that moment, and any later arrival is a new edge)
//! without the risk of sleeping through a FIN that came in the same event as the data.

use std::cell::Cell;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::RawFd;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use crate::interest::{Interest, Ready};
use crate::reactor::{HandlerId, Inner, Reactor};

/// Readiness state of one registered fd, shared between the slab slot and the `Registration`.
pub(crate) struct Source {
    readable: Cell<bool>,
    writable: Cell<bool>,
    /// Set for good by a hang-up or error: reads cannot block any more.
    read_closed: Cell<bool>,
    read_waker: Cell<Option<Waker>>,
    write_waker: Cell<Option<Waker>>,
}

impl Source {
    /// Records an event from the poller and wakes whoever waits on that direction. A hang-up
    /// or an error makes both directions "ready", so the next syscall sees the EOF or error.
    pub(crate) fn dispatch(&self, ready: Ready) {
        let fail = ready.is_error() || ready.is_hangup();
        if fail {
            self.read_closed.set(true);
        }
        if ready.is_readable() || fail {
            self.readable.set(true);
            if let Some(w) = self.read_waker.take() {
                crate::trace_step!("reactor", "handler woke the reading task");
                w.wake();
            }
        }
        if ready.is_writable() || fail {
            self.writable.set(true);
            if let Some(w) = self.write_waker.take() {
                crate::trace_step!("reactor", "handler woke the writing task");
                w.wake();
            }
        }
    }
}

fn store_waker(slot: &Cell<Option<Waker>>, cx: &Context<'_>) {
    let waker = match slot.take() {
        Some(w) if w.will_wake(cx.waker()) => w,
        _ => cx.waker().clone(),
    };
    slot.set(Some(waker));
}

/// An fd registered with the current reactor for edge-triggered readiness, once for its life.
///
/// Dropping it removes the fd from the poller; it never closes the fd, which stays the
/// caller's (drop the `Registration` first, then close the fd).
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::fd::AsRawFd;
/// use std::os::unix::net::UnixStream;
/// use reactor::{Reactor, Registration};
///
/// let (mut a, mut b) = UnixStream::pair().unwrap();
/// b.set_nonblocking(true).unwrap();
/// Reactor::new().unwrap().block_on(async {
///     let reg = Registration::new(b.as_raw_fd()).unwrap();
///     a.write_all(b"ping").unwrap();
///     let mut buf = [0u8; 4];
///     let n = std::future::poll_fn(|cx| reg.poll_read_with(cx, || (&b).read(&mut buf))).await.unwrap();
///     assert_eq!(&buf[..n], b"ping");
/// });
/// ```
pub struct Registration {
    fd: RawFd,
    id: HandlerId,
    source: Rc<Source>,
    reactor: Weak<Inner>,
}

impl Registration {
    /// Registers `fd` (which should be non-blocking) with [`Reactor::current`].
    pub fn new(fd: RawFd) -> io::Result<Registration> {
        Registration::with_reactor(&Reactor::current(), fd)
    }

    /// Registers `fd` with the given reactor.
    pub fn with_reactor(reactor: &Reactor, fd: RawFd) -> io::Result<Registration> {
        let source = Rc::new(Source {
            readable: Cell::new(true),
            writable: Cell::new(true),
            read_closed: Cell::new(false),
            read_waker: Cell::new(None),
            write_waker: Cell::new(None),
        });
        let id = reactor.add_source(fd, Interest::BOTH, source.clone())?;
        Ok(Registration {
            fd,
            id,
            source,
            reactor: reactor.downgrade(),
        })
    }

    /// The registered fd.
    pub fn fd(&self) -> RawFd {
        self.fd
    }

    /// Ready while the read flag is set; otherwise stores the task's waker and waits.
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.source.readable.get() {
            return Poll::Ready(Ok(()));
        }
        store_waker(&self.source.read_waker, cx);
        Poll::Pending
    }

    /// Ready while the write flag is set; otherwise stores the task's waker and waits.
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.source.writable.get() {
            return Poll::Ready(Ok(()));
        }
        store_waker(&self.source.write_waker, cx);
        Poll::Pending
    }

    /// Clears the read flag; call it when a read returned `EAGAIN`, or read fewer bytes than
    /// asked for from a stream socket. Does nothing once a hang-up or error was reported (a
    /// read can no longer block then).
    pub fn clear_readable(&self) {
        if !self.source.read_closed.get() {
            self.source.readable.set(false);
        }
    }

    /// Whether the poller has reported a hang-up or an error on this fd.
    pub fn is_read_closed(&self) -> bool {
        self.source.read_closed.get()
    }

    /// Clears the write flag; call it when a write returned `EAGAIN`.
    pub fn clear_writable(&self) {
        self.source.writable.set(false);
    }

    /// Whether the read flag is set (a read may not block).
    pub fn is_readable(&self) -> bool {
        self.source.readable.get()
    }

    /// Whether the write flag is set (a write may not block).
    pub fn is_writable(&self) -> bool {
        self.source.writable.get()
    }

    /// Waits until the fd may be read.
    pub async fn readable(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_readable(cx)).await
    }

    /// Waits until the fd may be written.
    pub async fn writable(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_writable(cx)).await
    }

    /// Runs the read syscall `f` while the fd is readable. On `WouldBlock` the flag is cleared
    /// and the task waits for the next read event; any other result is returned.
    pub fn poll_read_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            if let Err(e) = std::task::ready!(self.poll_readable(cx)) {
                return Poll::Ready(Err(e));
            }
            match f() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_readable(),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => return Poll::Ready(result),
            }
        }
    }

    /// Runs the write syscall `f` while the fd is writable. On `WouldBlock` the flag is cleared
    /// and the task waits for the next write event; any other result is returned.
    pub fn poll_write_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            if let Err(e) = std::task::ready!(self.poll_writable(cx)) {
                return Poll::Ready(Err(e));
            }
            match f() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_writable(),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => return Poll::Ready(result),
            }
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // The reactor may be gone already (it drops its tasks, and with them registrations,
        // when it shuts down); then there is nothing to deregister from.
        if let Some(inner) = self.reactor.upgrade() {
            let _ = inner.remove_slot(self.id);
        }
    }
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("fd", &self.fd)
            .field("readable", &self.source.readable.get())
            .field("writable", &self.source.writable.get())
            .finish()
    }
}
