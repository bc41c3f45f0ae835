//! Listening sockets (Tornado's `netutil`): [`bind_sockets`] for TCP over IPv4 and IPv6,
//! [`bind_unix_socket`] for Unix-domain sockets, and the [`Address`] a connection came from.

use std::fs;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

use crate::sys;

/// Where an accepted connection came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// A TCP peer.
    Inet(SocketAddr),
    /// A connection on a Unix-domain socket; the path is the listening socket's (Unix-domain
    /// peers are usually unnamed).
    Unix(PathBuf),
}

impl Address {
    /// The peer's IP address, for a TCP peer.
    pub fn ip(&self) -> Option<std::net::IpAddr> {
        match self {
            Address::Inet(a) => Some(a.ip()),
            Address::Unix(_) => None,
        }
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Address::Inet(a) => write!(f, "{a}"),
            Address::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

/// Creates listening sockets bound to `port` on `address` (Tornado's `bind_sockets`).
///
/// * `address` `None` (or `""`) listens on every interface, IPv4 (`0.0.0.0`) and IPv6 (`::`,
///   with `IPV6_V6ONLY` so both can share the port); a host without IPv6 just gets the IPv4
///   socket. Otherwise `address` is an IP literal or a name, resolved (blocking, as at
///   start-up) to one socket per address.
/// * `port` 0 picks an ephemeral port, the same for every returned socket; read it back with
///   `local_addr()`.
/// * `SO_REUSEADDR` is always set; `SO_REUSEPORT` when `reuse_port`.
///
/// The sockets are non-blocking and close-on-exec.
///
/// ```
/// let listeners = iostream::bind_sockets(0, Some("127.0.0.1"), 128, false).unwrap();
/// let addr = listeners[0].local_addr().unwrap();
/// assert!(addr.port() != 0);
/// std::net::TcpStream::connect(addr).unwrap();
/// ```
pub fn bind_sockets(
    port: u16,
    address: Option<&str>,
    backlog: i32,
    reuse_port: bool,
) -> io::Result<Vec<TcpListener>> {
    let wildcard = matches!(address, None | Some(""));
    let addrs: Vec<SocketAddr> = if wildcard {
        vec![
            SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), port),
            SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), port),
        ]
    } else {
        let host = address.unwrap_or_default();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let mut v: Vec<SocketAddr> = Vec::new();
        for a in (host, port).to_socket_addrs()? {
            if !v.contains(&a) {
                v.push(a);
            }
        }
        v
    };
    let mut listeners = Vec::new();
    let mut bound_port = port;
    for mut addr in addrs {
        if port == 0 && bound_port != 0 {
            addr.set_port(bound_port);
        }
        match bind_one(&addr, backlog, reuse_port) {
            Ok(l) => {
                if bound_port == 0 {
                    bound_port = l.local_addr()?.port();
                }
                listeners.push(l);
            }
            // No IPv6 on this host: the IPv4 wildcard socket is enough.
            Err(e) if wildcard && addr.is_ipv6() && is_no_ipv6(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(listeners)
}

fn is_no_ipv6(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EAFNOSUPPORT) | Some(libc::EADDRNOTAVAIL) | Some(libc::EPROTONOSUPPORT)
    )
}

fn bind_one(addr: &SocketAddr, backlog: i32, reuse_port: bool) -> io::Result<TcpListener> {
    let domain = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    let fd = sys::socket(domain, libc::SOCK_STREAM)?;
    let raw = fd.as_raw_fd();
    sys::setsockopt_int(raw, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    if reuse_port {
        sys::setsockopt_int(raw, libc::SOL_SOCKET, libc::SO_REUSEPORT, 1)?;
    }
    if addr.is_ipv6() {
        sys::setsockopt_int(raw, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, 1)?;
    }
    sys::bind(raw, addr).map_err(|e| io::Error::new(e.kind(), format!("bind {addr}: {e}")))?;
    sys::listen(raw, backlog)?;
    Ok(TcpListener::from(fd))
}

/// Creates a listening Unix-domain socket at `path` with permissions `mode` (Tornado's
/// `bind_unix_socket`). A stale socket file at `path` is removed first; any other file there
/// is an error. The listener is non-blocking.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("iostream-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("sock");
/// let l = iostream::bind_unix_socket(&path, 0o600, 128).unwrap();
/// std::os::unix::net::UnixStream::connect(&path).unwrap();
/// # drop(l); std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn bind_unix_socket(path: &Path, mode: u32, backlog: i32) -> io::Result<UnixListener> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => fs::remove_file(path)?,
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a socket", path.display()),
            ))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = UnixListener::bind(path)?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
    sys::listen(listener.as_raw_fd(), backlog)?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}
