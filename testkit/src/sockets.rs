//! Small helpers for the tests about connections that come and go: a client socket whose close
//! sends RST instead of FIN, small socket buffers (so that a slow reader holds writes back), this process's count of open fds (to see that a server released
//! its sockets) and its fd limit raised (for tests of thousands of connections), and a bounded
//! wait for a condition.
//!
//! ```
//! use std::time::Duration;
//! let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
//! let before = testkit::sockets::open_fds();
//! let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
//! testkit::sockets::reset_on_close(&client);
//! assert_eq!(testkit::sockets::open_fds(), before + 1);
//! drop(client); // an RST, not a FIN
//! let waited = testkit::sockets::within(Duration::from_secs(1), || testkit::sockets::open_fds() == before);
//! assert!(waited.is_some());
//! ```

use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// Sets `SO_LINGER` to 0 on `stream`: from then on its close sends RST (a client that is
/// reset rather than one that says goodbye).
///
/// # Panics
/// If the kernel refuses the option (never, for a TCP socket).
pub fn reset_on_close(stream: &TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the fd is open for the borrow's duration, and the option's value is a
    // `libc::linger` passed with its own size, as `setsockopt` requires for SO_LINGER.
    let r = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(
        r,
        0,
        "setsockopt(SO_LINGER): {}",
        std::io::Error::last_os_error()
    );
}

/// Sets `SO_SNDBUF` on `socket` to `bytes` (the kernel doubles it, and stops tuning it): a
/// send buffer that fills after a few KiB, so that a peer that reads slowly holds a server's
/// writes in user space. The sockets a listener accepts inherit it.
pub fn set_send_buffer(socket: &impl AsRawFd, bytes: usize) {
    set_int_option(socket, libc::SO_SNDBUF, bytes);
}

/// Sets `SO_RCVBUF` on `socket` to `bytes` (the kernel doubles it, and stops tuning it).
pub fn set_receive_buffer(socket: &impl AsRawFd, bytes: usize) {
    set_int_option(socket, libc::SO_RCVBUF, bytes);
}

/// Sets the `SOL_SOCKET` option `name` to the `int` `value`.
///
/// # Panics
/// If the kernel refuses it.
fn set_int_option(socket: &impl AsRawFd, name: libc::c_int, value: usize) {
    let value = libc::c_int::try_from(value).expect("an int");
    // SAFETY: the fd is open for the borrow's duration, and the option's value is a
    // `c_int` passed with its own size, as `setsockopt` requires for integer options.
    let r = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            name,
            &value as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(r, 0, "setsockopt: {}", std::io::Error::last_os_error());
}

/// How many file descriptors this process has open now (Linux: `/proc/self/fd`).
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
}

/// Checks `f` every 5 ms until it holds, for at most `limit`: how long that took, or `None`
/// if it never held.
pub fn within(limit: Duration, mut f: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    f().then(|| start.elapsed())
}

/// Raises this process's soft `RLIMIT_NOFILE` to `want` if the hard limit allows (to the hard
/// limit otherwise), and returns the soft limit now in force: a test of thousands of
/// connections checks it and says "skipped" (or fails) when it is too low.
pub fn raise_nofile(want: u64) -> u64 {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `r` is a valid, writable rlimit.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) }, 0);
    if r.rlim_cur < want as libc::rlim_t {
        r.rlim_cur = (want as libc::rlim_t).min(r.rlim_max);
        // SAFETY: `r` is a valid rlimit with rlim_cur <= rlim_max.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &r) }, 0);
    }
    r.rlim_cur
}
