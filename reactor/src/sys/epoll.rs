//! Linux backend: a thin, commented wrapper over `epoll(7)` and `eventfd(2)`. Nothing else.
//!
//! The poller owns two descriptors: the epoll instance and an eventfd registered in it under
//! [`WAKER_TOKEN`], which other threads write to wake a blocked `epoll_wait`.

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

use super::{cvt, timeout_ms, Mode, WAKER_TOKEN};
use crate::interest::{Interest, Ready};

/// An epoll instance plus its eventfd waker.
#[derive(Debug)]
pub(crate) struct Poller {
    epfd: RawFd,
    eventfd: RawFd,
}

impl Poller {
    /// Creates the epoll instance and registers the eventfd waker in it (level-triggered, so a
    /// wake-up is reported until [`Poller::drain_wake`] reads it).
    pub(crate) fn new() -> io::Result<Poller> {
        // SAFETY: plain syscalls with flag arguments only; the fds they return are owned here.
        let epfd = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: as above.
        let eventfd = match cvt(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) })
        {
            Ok(fd) => fd,
            Err(e) => {
                // SAFETY: `epfd` was just returned by epoll_create1 and is owned by nobody else.
                unsafe { libc::close(epfd) };
                return Err(e);
            }
        };
        let poller = Poller { epfd, eventfd };
        poller.ctl(
            libc::EPOLL_CTL_ADD,
            eventfd,
            (libc::EPOLLIN | libc::EPOLLET) as u32,
            WAKER_TOKEN,
        )?;
        Ok(poller)
    }

    /// Starts watching `fd` for `interest`, reporting `token` with each event.
    pub(crate) fn register(
        &self,
        fd: RawFd,
        token: u64,
        interest: Interest,
        mode: Mode,
    ) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, flags(interest, mode), token)
    }

    /// Changes the interest of an fd already registered.
    pub(crate) fn modify(
        &self,
        fd: RawFd,
        token: u64,
        interest: Interest,
        mode: Mode,
    ) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, flags(interest, mode), token)
    }

    /// Stops watching `fd`. Must come before `close(fd)`: epoll tracks the open file
    /// description, not the number, so a duplicated descriptor would keep reporting.
    pub(crate) fn deregister(&self, fd: RawFd) -> io::Result<()> {
        // SAFETY: EPOLL_CTL_DEL ignores the event argument; a null pointer is allowed since 2.6.9.
        cvt(unsafe { libc::epoll_ctl(self.epfd, libc::EPOLL_CTL_DEL, fd, std::ptr::null_mut()) })
            .map(drop)
    }

    /// Waits for events, at most `timeout` (`None` = until one arrives). A signal that
    /// interrupts the wait (`EINTR`) is reported as zero events, never as an error.
    pub(crate) fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        events.len = 0;
        let cap = events.buf.capacity() as libc::c_int;
        // SAFETY: `buf` has room for `cap` events; the kernel writes at most that many and
        // returns how many it wrote, which is the only prefix we read.
        let n = unsafe {
            libc::epoll_wait(self.epfd, events.buf.as_mut_ptr(), cap, timeout_ms(timeout))
        };
        if n == -1 {
            let err = io::Error::last_os_error();
            return if err.kind() == io::ErrorKind::Interrupted {
                Ok(())
            } else {
                Err(err)
            };
        }
        events.len = n as usize;
        Ok(())
    }

    /// Wakes a blocked [`Poller::wait`] from any thread.
    pub(crate) fn wake(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to the eventfd this poller owns.
        let n = unsafe { libc::write(self.eventfd, (&one as *const u64).cast(), 8) };
        if n == -1 {
            // EAGAIN: the counter is full (after 2^64 wakes); reset it and write again.
            let mut count: u64 = 0;
            // SAFETY: reads at most 8 bytes into a live u64.
            unsafe { libc::read(self.eventfd, (&mut count as *mut u64).cast(), 8) };
            // SAFETY: as above.
            unsafe { libc::write(self.eventfd, (&one as *const u64).cast(), 8) };
        }
    }

    /// Edge-triggered: each write is one event; nothing to drain.
    pub(crate) fn drain_wake(&self) {}

    fn ctl(&self, op: libc::c_int, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event { events, u64: token };
        // SAFETY: `ev` is a valid epoll_event that lives across the call.
        cvt(unsafe { libc::epoll_ctl(self.epfd, op, fd, &mut ev) }).map(drop)
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        // SAFETY: both fds were opened by `new` and are closed exactly once, here.
        unsafe {
            libc::close(self.eventfd);
            libc::close(self.epfd);
        }
    }
}

fn flags(interest: Interest, mode: Mode) -> u32 {
    let mut f = 0;
    if interest.is_readable() {
        f |= libc::EPOLLIN | libc::EPOLLRDHUP;
    }
    if interest.is_writable() {
        f |= libc::EPOLLOUT;
    }
    if mode == Mode::Edge {
        f |= libc::EPOLLET;
    }
    f as u32
}

/// A reusable buffer of events filled by [`Poller::wait`].
pub(crate) struct Events {
    buf: Vec<libc::epoll_event>,
    len: usize,
}

impl Events {
    /// Room for `capacity` events per wait.
    pub(crate) fn with_capacity(capacity: usize) -> Events {
        Events {
            buf: Vec::with_capacity(capacity),
            len: 0,
        }
    }

    /// The `i`-th event of the last wait as `(token, readiness)`.
    pub(crate) fn get(&self, i: usize) -> Option<(u64, Ready)> {
        if i >= self.len {
            return None;
        }
        // SAFETY: the kernel initialised the first `len` entries in the last `wait`.
        let ev = unsafe { *self.buf.as_ptr().add(i) };
        let bits = ev.events as libc::c_int;
        let mut ready = Ready::EMPTY;
        if bits & (libc::EPOLLIN | libc::EPOLLPRI) != 0 {
            ready = ready | Ready::READABLE;
        }
        if bits & libc::EPOLLOUT != 0 {
            ready = ready | Ready::WRITABLE;
        }
        if bits & libc::EPOLLERR != 0 {
            ready = ready | Ready::ERROR;
        }
        if bits & (libc::EPOLLHUP | libc::EPOLLRDHUP) != 0 {
            ready = ready | Ready::HANGUP;
        }
        Some((ev.u64, ready))
    }
}
