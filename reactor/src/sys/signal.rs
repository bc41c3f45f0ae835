//! Signals into the loop: a process-wide self-pipe written by an async-signal-safe handler.
//!
//! The handler does the only things a signal handler may do: bump an atomic counter for the
//! signal and `write(2)` one byte to a non-blocking pipe (saving and restoring `errno`). The
//! loop side registers the pipe's read end like any fd and reads the counters back. This is
//! Tornado's `add_callback_from_signal`, done with nothing but atomics and a pipe.

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::Mutex;

use super::cvt;

/// Signal numbers handled: 1..=64 covers every standard and real-time signal we accept.
pub(crate) const MAX_SIGNAL: usize = 64;

/// Pending deliveries per signal number, bumped by the handler.
static PENDING: [AtomicUsize; MAX_SIGNAL + 1] = [const { AtomicUsize::new(0) }; MAX_SIGNAL + 1];
/// The pipe's write end, read by the handler (-1 until the pipe exists).
static WRITE_FD: AtomicI32 = AtomicI32::new(-1);
/// The pipe's read end (-1 until the pipe exists).
static READ_FD: AtomicI32 = AtomicI32::new(-1);
/// Serialises set-up (pipe creation, handler installation).
static SETUP: Mutex<()> = Mutex::new(());

extern "C" fn on_signal(signal: libc::c_int) {
    // Only async-signal-safe operations: atomics, errno save/restore, write(2).
    let errno = errno_location();
    // SAFETY: errno_location returns this thread's errno slot, valid for the thread's life.
    let saved = unsafe { *errno };
    if let Some(counter) = PENDING.get(signal as usize) {
        counter.fetch_add(1, Ordering::SeqCst);
    }
    let fd = WRITE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        let byte = signal as u8;
        // SAFETY: writes one byte from a live local to the pipe; a full pipe (EAGAIN) is fine,
        // the counter already recorded the signal and the loop has a wake-up pending.
        unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
    }
    // SAFETY: as above.
    unsafe { *errno = saved };
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn errno_location() -> *mut libc::c_int {
    // SAFETY: no preconditions; returns the calling thread's errno slot.
    unsafe { libc::__errno_location() }
}

#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "dragonfly"
))]
fn errno_location() -> *mut libc::c_int {
    // SAFETY: no preconditions; returns the calling thread's errno slot.
    unsafe { libc::__error() }
}

#[cfg(any(target_os = "netbsd", target_os = "openbsd"))]
fn errno_location() -> *mut libc::c_int {
    // SAFETY: no preconditions; returns the calling thread's errno slot.
    unsafe { libc::__errno() }
}

/// Creates the self-pipe once and returns its read end (non-blocking, close-on-exec).
pub(crate) fn pipe_read_fd() -> io::Result<RawFd> {
    let _guard = SETUP.lock().unwrap_or_else(|e| e.into_inner());
    let fd = READ_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        return Ok(fd);
    }
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two fds pipe(2) writes.
    cvt(unsafe { libc::pipe(fds.as_mut_ptr()) })?;
    for fd in fds {
        // SAFETY: plain fcntl calls on the fds we just created.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFL);
            libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        }
    }
    WRITE_FD.store(fds[1], Ordering::SeqCst);
    READ_FD.store(fds[0], Ordering::SeqCst);
    Ok(fds[0])
}

/// Installs the handler for `signal` (with `SA_RESTART`, so other blocking calls are not
/// interrupted).
pub(crate) fn install(signal: libc::c_int) -> io::Result<()> {
    if signal <= 0 || signal as usize > MAX_SIGNAL {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "signal number out of range",
        ));
    }
    let _guard = SETUP.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: a zeroed sigaction is valid; we set the handler (an `extern "C" fn(c_int)`, the
    // plain sa_handler form), an empty mask and SA_RESTART, and pass pointers to live values.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        cvt(libc::sigaction(signal, &action, std::ptr::null_mut()))?;
    }
    Ok(())
}

/// Takes the pending count of `signal` (0 if none arrived since the last take).
pub(crate) fn take_pending(signal: libc::c_int) -> usize {
    PENDING
        .get(signal as usize)
        .map_or(0, |c| c.swap(0, Ordering::SeqCst))
}

/// Empties the pipe (the counters, not the bytes, say which signals arrived).
pub(crate) fn drain_pipe(fd: RawFd) {
    let mut buf = [0u8; 64];
    // SAFETY: reads into a live local buffer of the given length; stops on EAGAIN or EOF.
    while unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
}

/// Whether `signal` has a delivery pending (without taking it).
pub(crate) fn peek_pending(signal: libc::c_int) -> bool {
    PENDING
        .get(signal as usize)
        .is_some_and(|c| c.load(Ordering::SeqCst) > 0)
}
