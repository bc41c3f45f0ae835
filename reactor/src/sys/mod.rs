//! The syscall boundary: one small `Poller` API over epoll (Linux) and kqueue (macOS, BSD).
//!
//! Everything `unsafe` in the poll loop lives under this module. The rest of the crate sees
//! only [`Poller`], [`Events`] and the [`Mode`] a file descriptor is registered in.

#[cfg(any(target_os = "linux", target_os = "android"))]
mod epoll;
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) use epoll::{Events, Poller};

#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
))]
mod kqueue;
#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
))]
pub(crate) use kqueue::{Events, Poller};

pub(crate) mod signal;

/// The token the poller reports for its own cross-thread waker. Handler tokens never take this
/// value: their generation half never reaches `u32::MAX`.
pub(crate) const WAKER_TOKEN: u64 = u64::MAX;

/// How readiness is reported for a file descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Reported on every wait while the fd is ready (Tornado's `add_handler`).
    Level,
    /// Reported once per change (`EPOLLET` / `EV_CLEAR`): the owner keeps a readiness flag and
    /// clears it only when a syscall returns `EAGAIN`.
    Edge,
}

/// Turns a libc return value of `-1` into the thread's `errno` as an `io::Error`.
pub(crate) fn cvt(res: libc::c_int) -> std::io::Result<libc::c_int> {
    if res == -1 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(res)
    }
}

/// Converts a wait timeout to whole milliseconds, rounded up so that a timer is never woken
/// early (which would make the loop spin until the deadline), capped at `i32::MAX`.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn timeout_ms(timeout: Option<std::time::Duration>) -> libc::c_int {
    match timeout {
        None => -1,
        Some(d) => {
            let ms = d.as_nanos().div_ceil(1_000_000);
            ms.min(i32::MAX as u128) as libc::c_int
        }
    }
}
