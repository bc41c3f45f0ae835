//! The few raw syscalls this crate makes, each a thin wrapper that turns `-1`/`errno` into
//! `io::Error` and retries `EINTR`.
//!
//! This is the only module with `unsafe`: every block is a single syscall (or the taking of
//! ownership of the fd a syscall just returned), with a `// SAFETY:` note saying why the
//! pointers and lengths handed to the kernel are valid. Everything above this file works with
//! slices, `OwnedFd` and `SocketAddr`.

use std::io::{self, IoSlice};
use std::mem::{self, MaybeUninit};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// Runs `f` until it returns something other than `-1`/`EINTR`.
fn cvt_retry<T: PartialEq + From<i8> + Copy>(mut f: impl FnMut() -> T) -> io::Result<T> {
    loop {
        let r = f();
        if r != T::from(-1) {
            return Ok(r);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// `read(2)` into `buf`; `Ok(0)` is end of file.
pub fn read(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is a valid, writable slice of `buf.len()` bytes for the whole call.
    cvt_retry(|| unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) }).map(|n| n as usize)
}

/// `send(2)` flags: no `SIGPIPE` on a reset peer where the platform has the flag.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
const SEND_FLAGS: libc::c_int = 0;

/// Gathers `bufs` into one `sendmsg(2)` (a socket) or `writev(2)` (anything else).
///
/// `sendmsg` with `MSG_NOSIGNAL` is used for sockets so that writing to a reset peer is an
/// `EPIPE` error, not a process-killing `SIGPIPE`.
pub fn write_vectored(fd: RawFd, bufs: &[IoSlice<'_>], is_socket: bool) -> io::Result<usize> {
    let iovcnt = bufs.len().min(MAX_IOV);
    if is_socket && iovcnt == 1 {
        // One buffer (the common case: a batch of responses): plain send(2), which skips
        // sendmsg's copy-in of the header and iovec array.
        let buf = &bufs[0];
        // SAFETY: `buf` is a live slice for the duration of the call; the kernel only reads it.
        return cvt_retry(|| unsafe {
            libc::send(fd, buf.as_ptr().cast(), buf.len(), SEND_FLAGS) as isize
        })
        .map(|n| n as usize);
    }
    if is_socket {
        // SAFETY: a zeroed msghdr is a valid "no address, no control data" header.
        let mut msg: libc::msghdr = unsafe { mem::zeroed() };
        // `IoSlice` is documented to be ABI-compatible with `struct iovec` on Unix.
        msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
        msg.msg_iovlen = iovcnt as _;
        // SAFETY: `msg` points at `iovcnt` live iovecs borrowed from `bufs`, which outlive the call;
        // the kernel only reads them.
        cvt_retry(|| unsafe { libc::sendmsg(fd, &msg, SEND_FLAGS) }).map(|n| n as usize)
    } else {
        // SAFETY: as above: `bufs` is `iovcnt` valid iovecs for the duration of the call.
        cvt_retry(|| unsafe { libc::writev(fd, bufs.as_ptr().cast(), iovcnt as libc::c_int) })
            .map(|n| n as usize)
    }
}

/// `sendfile(2)`: copies up to `count` bytes of `file` starting at `*offset` to `out` inside the
/// kernel (no copy through user space), advancing `*offset` by the bytes sent. `Ok(0)` means
/// the file ended before `*offset`. Linux only; elsewhere `Unsupported` (the caller then reads
/// and writes in bounded pieces).
///
/// Unlike `sendmsg`, `sendfile` takes no `MSG_NOSIGNAL`: writing to a reset peer raises
/// `SIGPIPE`, which Rust programs ignore (the standard runtime sets it to `SIG_IGN` before
/// `main`), so it arrives as an `EPIPE` error; a host that restores the default must ignore
/// it too.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn sendfile(out: RawFd, file: RawFd, offset: &mut u64, count: usize) -> io::Result<usize> {
    let mut off = libc::off_t::try_from(*offset)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "file offset too large"))?;
    // SAFETY: `off` is a live off_t the kernel reads and updates; both fds are integers the
    // kernel checks (a closed or wrong fd is an EBADF/EINVAL error, not UB).
    let n = cvt_retry(|| unsafe { libc::sendfile(out, file, &mut off, count) })? as usize;
    *offset = off as u64;
    Ok(n)
}

/// `sendfile(2)` is only used on Linux: see the Linux version.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn sendfile(_out: RawFd, _file: RawFd, _offset: &mut u64, _count: usize) -> io::Result<usize> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// Makes writes to a reset socket fail with `EPIPE` instead of raising `SIGPIPE`: Apple's
/// platforms have no `MSG_NOSIGNAL`, but a per-socket `SO_NOSIGPIPE`. Elsewhere a no-op.
pub fn no_sigpipe(fd: RawFd) -> io::Result<()> {
    #[cfg(any(target_os = "macos", target_os = "ios"))]
    {
        setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_NOSIGPIPE, 1)
    }
    #[cfg(not(any(target_os = "macos", target_os = "ios")))]
    {
        let _ = fd;
        Ok(())
    }
}

/// The most buffers handed to one `writev` (Linux's `UIO_MAXIOV` is 1024; 64 is plenty).
pub const MAX_IOV: usize = 64;

/// `shutdown(2)` of the writing side.
pub fn shutdown_write(fd: RawFd) -> io::Result<()> {
    // SAFETY: plain integer arguments.
    cvt_retry(|| unsafe { libc::shutdown(fd, libc::SHUT_WR) }).map(drop)
}

/// `setsockopt(2)` with an `int` value.
pub fn setsockopt_int(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: `value` is a live c_int and we pass its exact size.
    cvt_retry(|| unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// `getsockopt(2)` of an `int` value.
pub fn getsockopt_int(fd: RawFd, level: libc::c_int, name: libc::c_int) -> io::Result<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` and `len` are live and `len` is the size of `value`.
    cvt_retry(|| unsafe {
        libc::getsockopt(
            fd,
            level,
            name,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    })?;
    Ok(value)
}

/// `SO_LINGER` with the given timeout (`Some(0)` makes `close` send a RST).
pub fn set_linger(fd: RawFd, secs: Option<i32>) -> io::Result<()> {
    let l = libc::linger {
        l_onoff: secs.is_some() as libc::c_int,
        l_linger: secs.unwrap_or(0),
    };
    // SAFETY: `l` is a live `struct linger` and we pass its exact size.
    cvt_retry(|| unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&l as *const libc::linger).cast(),
            mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// Sets `O_NONBLOCK` (and leaves the other status flags alone).
pub fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl with integer arguments on an fd we own.
    let flags = cvt_retry(|| unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    if flags & libc::O_NONBLOCK == 0 {
        // SAFETY: as above.
        cvt_retry(|| unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) })?;
    }
    Ok(())
}

/// Whether `fd` is a socket (decides `sendmsg` versus `writev`).
pub fn is_socket(fd: RawFd) -> bool {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `st` is a writable `struct stat`; fstat fills it on success.
    let r = unsafe { libc::fstat(fd, st.as_mut_ptr()) };
    if r != 0 {
        return false;
    }
    // SAFETY: fstat returned 0, so it initialised `st`.
    let st = unsafe { st.assume_init() };
    st.st_mode & libc::S_IFMT == libc::S_IFSOCK
}

/// `socket(2)`: a new non-blocking, close-on-exec socket.
pub fn socket(domain: libc::c_int, ty: libc::c_int) -> io::Result<OwnedFd> {
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    {
        // SAFETY: plain integer arguments.
        let fd = cvt_retry(|| unsafe {
            libc::socket(domain, ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0)
        })?;
        // SAFETY: `socket` just returned this fd; nothing else owns it.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
    {
        // SAFETY: plain integer arguments.
        let fd = cvt_retry(|| unsafe { libc::socket(domain, ty, 0) })?;
        // SAFETY: `socket` just returned this fd; nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        set_cloexec_nonblocking(&fd)?;
        Ok(fd)
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
fn set_cloexec_nonblocking(fd: &OwnedFd) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let raw = fd.as_raw_fd();
    // SAFETY: fcntl with integer arguments on an fd we own.
    cvt_retry(|| unsafe { libc::fcntl(raw, libc::F_SETFD, libc::FD_CLOEXEC) })?;
    set_nonblocking(raw)
}

/// `bind(2)` to an IP address.
pub fn bind(fd: RawFd, addr: &SocketAddr) -> io::Result<()> {
    let (storage, len) = sockaddr_from(addr);
    // SAFETY: `storage` holds a valid sockaddr of `len` bytes.
    cvt_retry(|| unsafe { libc::bind(fd, (&storage as *const libc::sockaddr_storage).cast(), len) })
        .map(drop)
}

/// `listen(2)`.
pub fn listen(fd: RawFd, backlog: i32) -> io::Result<()> {
    // SAFETY: plain integer arguments.
    cvt_retry(|| unsafe { libc::listen(fd, backlog) }).map(drop)
}

/// `connect(2)`; on a non-blocking socket `EINPROGRESS` comes back as an error.
pub fn connect(fd: RawFd, addr: &SocketAddr) -> io::Result<()> {
    let (storage, len) = sockaddr_from(addr);
    // SAFETY: `storage` holds a valid sockaddr of `len` bytes. (EINTR is retried; a retried
    // connect reports EALREADY/EINPROGRESS, which the caller treats as "in progress".)
    cvt_retry(|| unsafe {
        libc::connect(fd, (&storage as *const libc::sockaddr_storage).cast(), len)
    })
    .map(drop)
}

/// `accept4(2)` (or `accept` + `fcntl`): a non-blocking, close-on-exec connection and the
/// peer's address, raw (`None` for an unnamed Unix-domain peer or an unknown family).
pub fn accept(fd: RawFd) -> io::Result<(OwnedFd, Option<SocketAddr>)> {
    // SAFETY: a zeroed sockaddr_storage is valid (family AF_UNSPEC).
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let mut len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    let ptr = (&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr>();
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    let conn = {
        // SAFETY: `ptr`/`len` describe a writable sockaddr_storage.
        let raw = cvt_retry(|| unsafe {
            libc::accept4(fd, ptr, &mut len, libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC)
        })?;
        // SAFETY: `accept4` just returned this fd; nothing else owns it.
        unsafe { OwnedFd::from_raw_fd(raw) }
    };
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
    let conn = {
        // SAFETY: `ptr`/`len` describe a writable sockaddr_storage.
        let raw = cvt_retry(|| unsafe { libc::accept(fd, ptr, &mut len) })?;
        // SAFETY: `accept` just returned this fd; nothing else owns it.
        let conn = unsafe { OwnedFd::from_raw_fd(raw) };
        set_cloexec_nonblocking(&conn)?;
        conn
    };
    Ok((conn, sockaddr_to(&storage)))
}

/// `getpeername(2)` as a `SocketAddr` (`None` for a Unix-domain socket).
pub fn peer_addr(fd: RawFd) -> io::Result<Option<SocketAddr>> {
    // SAFETY: a zeroed sockaddr_storage is valid.
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let mut len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `storage`/`len` describe a writable sockaddr_storage.
    cvt_retry(|| unsafe {
        libc::getpeername(
            fd,
            (&mut storage as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    })?;
    Ok(sockaddr_to(&storage))
}

/// A `SocketAddr` as a `sockaddr_storage` and its length.
fn sockaddr_from(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: a zeroed sockaddr_storage is valid.
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
            let sin = unsafe {
                &mut *(&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in>()
            };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = a.port().to_be();
            sin.sin_addr = libc::in_addr {
                s_addr: u32::from_ne_bytes(a.ip().octets()),
            };
            mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
            let sin6 = unsafe {
                &mut *(&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
            };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_addr = libc::in6_addr {
                s6_addr: a.ip().octets(),
            };
            sin6.sin6_flowinfo = a.flowinfo();
            sin6.sin6_scope_id = a.scope_id();
            mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

/// A `sockaddr_storage` filled by the kernel as a `SocketAddr` (IPv4/IPv6 only).
fn sockaddr_to(storage: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match storage.ss_family as libc::c_int {
        libc::AF_INET => {
            // SAFETY: the family says the kernel wrote a sockaddr_in here.
            let sin =
                unsafe { &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the kernel wrote a sockaddr_in6 here.
            let sin6 = unsafe {
                &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
            };
            let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}
