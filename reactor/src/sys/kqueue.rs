//! macOS / BSD backend: a thin, commented wrapper over `kqueue(2)` / `kevent(2)`. Nothing else.
//!
//! Read and write interest are two filters (`EVFILT_READ`, `EVFILT_WRITE`) on the same fd,
//! each reported as its own event. Other threads wake a blocked `kevent` through an
//! `EVFILT_USER` event on the queue itself, reported under [`WAKER_TOKEN`].

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

use super::{cvt, Mode, WAKER_TOKEN};
use crate::interest::{Interest, Ready};

/// A kqueue instance; its `EVFILT_USER` event is the cross-thread waker.
#[derive(Debug)]
pub(crate) struct Poller {
    kq: RawFd,
}

/// The ident of the `EVFILT_USER` waker event.
const WAKER_IDENT: libc::uintptr_t = 0;

fn kevent(
    ident: libc::uintptr_t,
    filter: i16,
    flags: u16,
    fflags: u32,
    token: u64,
) -> libc::kevent {
    // SAFETY: kevent is a plain C struct for which all-zero bytes are a valid value (it has
    // extension fields on some systems that must be zero).
    let mut ev: libc::kevent = unsafe { std::mem::zeroed() };
    ev.ident = ident;
    ev.filter = filter as _;
    ev.flags = flags as _;
    ev.fflags = fflags as _;
    ev.udata = token as usize as _;
    ev
}

impl Poller {
    /// Creates the queue and adds its `EVFILT_USER` waker (`EV_CLEAR`: a trigger is reported
    /// once, then resets by itself).
    pub(crate) fn new() -> io::Result<Poller> {
        // SAFETY: a plain syscall without arguments; the fd it returns is owned here.
        let kq = cvt(unsafe { libc::kqueue() })?;
        let poller = Poller { kq };
        // SAFETY: sets close-on-exec on the fd we just opened.
        cvt(unsafe { libc::fcntl(kq, libc::F_SETFD, libc::FD_CLOEXEC) })?;
        let ev = kevent(
            WAKER_IDENT,
            libc::EVFILT_USER as i16,
            (libc::EV_ADD | libc::EV_CLEAR) as u16,
            0,
            WAKER_TOKEN,
        );
        poller.apply(&ev, false)?;
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
        self.modify(fd, token, interest, mode)
    }

    /// Sets the interest of `fd`: adds the wanted filters, deletes the others.
    pub(crate) fn modify(
        &self,
        fd: RawFd,
        token: u64,
        interest: Interest,
        mode: Mode,
    ) -> io::Result<()> {
        let clear = if mode == Mode::Edge {
            libc::EV_CLEAR
        } else {
            0
        };
        for (filter, wanted) in [
            (libc::EVFILT_READ, interest.is_readable()),
            (libc::EVFILT_WRITE, interest.is_writable()),
        ] {
            let flags = if wanted {
                libc::EV_ADD | libc::EV_ENABLE | clear
            } else {
                libc::EV_DELETE
            };
            let ev = kevent(fd as libc::uintptr_t, filter as i16, flags as u16, 0, token);
            self.apply(&ev, !wanted)?;
        }
        Ok(())
    }

    /// Stops watching `fd`. Must come before `close(fd)`.
    pub(crate) fn deregister(&self, fd: RawFd) -> io::Result<()> {
        self.modify(fd, 0, Interest::NONE, Mode::Level)
    }

    /// Waits for events, at most `timeout` (`None` = until one arrives). `EINTR` is zero
    /// events, never an error.
    pub(crate) fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        events.len = 0;
        let ts = timeout.map(|d| libc::timespec {
            tv_sec: d.as_secs().min(i32::MAX as u64) as libc::time_t,
            tv_nsec: d.subsec_nanos() as libc::c_long,
        });
        let ts_ptr = ts
            .as_ref()
            .map_or(std::ptr::null(), |t| t as *const libc::timespec);
        let cap = events.buf.capacity() as libc::c_int;
        // SAFETY: no changes are passed; `buf` has room for `cap` events, the kernel writes at
        // most that many and returns the count, the only prefix we read; `ts_ptr` is null or
        // points at a live timespec.
        let n = unsafe {
            libc::kevent(
                self.kq,
                std::ptr::null(),
                0,
                events.buf.as_mut_ptr(),
                cap,
                ts_ptr,
            )
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
        let ev = kevent(
            WAKER_IDENT,
            libc::EVFILT_USER as i16,
            0,
            libc::NOTE_TRIGGER,
            WAKER_TOKEN,
        );
        let _ = self.apply(&ev, false);
    }

    /// Nothing to consume: the `EV_CLEAR` user event resets itself when reported.
    pub(crate) fn drain_wake(&self) {}

    /// Submits one change. With `ignore_missing`, deleting a filter that was never added
    /// (`ENOENT`) is not an error.
    fn apply(&self, change: &libc::kevent, ignore_missing: bool) -> io::Result<()> {
        // SAFETY: one valid change from a live reference, no event list, no timeout.
        let res = unsafe {
            libc::kevent(
                self.kq,
                change,
                1,
                std::ptr::null_mut(),
                0,
                std::ptr::null(),
            )
        };
        match cvt(res) {
            Err(e) if ignore_missing && e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
            other => other.map(drop),
        }
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        // SAFETY: the queue was opened by `new` and is closed exactly once, here.
        unsafe { libc::close(self.kq) };
    }
}

/// A reusable buffer of events filled by [`Poller::wait`].
pub(crate) struct Events {
    buf: Vec<libc::kevent>,
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
        let ev = unsafe { &*self.buf.as_ptr().add(i) };
        let read = ev.filter as i32 == libc::EVFILT_READ as i32;
        let mut ready = match ev.filter as i32 {
            _ if read => Ready::READABLE,
            f if f == libc::EVFILT_WRITE as i32 => Ready::WRITABLE,
            _ => Ready::EMPTY,
        };
        // EV_EOF on the read filter: the peer shut down its writing side (a hang-up for us).
        // On the write filter it means the peer stopped reading: writes will fail with EPIPE,
        // which the writer sees as an error; reads may still block, so it is no hang-up.
        if read && ev.flags as u32 & libc::EV_EOF as u32 != 0 {
            ready = ready | Ready::HANGUP;
        }
        if ev.flags as u32 & libc::EV_ERROR as u32 != 0 {
            ready = ready | Ready::ERROR;
        }
        Some((ev.udata as usize as u64, ready))
    }
}
