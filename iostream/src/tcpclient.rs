//! [`TcpClient`]: opens TCP connections (Tornado's `TCPClient`).
//!
//! 1. **Resolve.** An IP literal (`127.0.0.1`, `::1`, `[::1]`) is used as it is. A name is
//!    resolved with the system resolver (`getaddrinfo`, which blocks) on a helper thread; the
//!    answer comes back to the loop through [`reactor::Remote::add_callback`], as Tornado's
//!    `DefaultExecutorResolver` does, so other tasks keep running meanwhile.
//! 2. **Connect.** Every resolved address is tried in order with a non-blocking `connect`;
//!    the first that succeeds wins. When all fail, the error names the last address tried and
//!    keeps the OS error's kind (`ConnectionRefused`, ...).
//! 3. **Timeout.** The optional timeout covers resolving and every attempt; when it fires the
//!    error is `TimedOut`.

use std::future::poll_fn;
use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use reactor::Reactor;

use crate::error::{Result, StreamError};
use crate::stream::IOStream;
use crate::sys;

/// Opens TCP connections; see the module doc.
///
/// ```
/// use iostream::TcpClient;
/// use reactor::Reactor;
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let port = listener.local_addr().unwrap().port();
/// Reactor::new().unwrap().block_on(async {
///     let stream = TcpClient::connect("127.0.0.1", port, None).await.unwrap();
///     assert_eq!(stream.peer_addr().unwrap().port(), port);
/// });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct TcpClient;

impl TcpClient {
    /// Connects to `host:port`, giving up after `timeout` (if any).
    ///
    /// Errors are [`StreamError::Io`]: `TimedOut` for the timeout, the resolver's error for an
    /// unknown name, and otherwise the last connect error (e.g. `ConnectionRefused`), with the
    /// address in its message.
    pub async fn connect(host: &str, port: u16, timeout: Option<Duration>) -> Result<IOStream> {
        with_timeout(host, port, timeout, connect_host(host, port)).await
    }

    /// Connects to `host:port` and completes a TLS handshake with `tls`'s config, verifying
    /// that the server's certificate is valid for `host` (also sent as SNI); `timeout` covers
    /// resolving, connecting and the handshake.
    ///
    /// Besides [`connect`](Self::connect)'s errors: a failed handshake (an untrusted or
    /// expired certificate, a wrong name, a peer that does not speak TLS) is
    /// [`StreamError::Closed`] whose source says why ("TLS handshake failed: ...",
    /// "not TLS: ...").
    pub async fn connect_tls(
        host: &str,
        port: u16,
        tls: &crate::TlsConnector,
        timeout: Option<Duration>,
    ) -> Result<IOStream> {
        let attempt = async {
            let stream = connect_host(host, port).await?;
            stream.start_tls_client(tls, host)?;
            stream.handshake().await?;
            Ok(stream)
        };
        with_timeout(host, port, timeout, attempt).await
    }
}

/// Runs `attempt` under `timeout`; running out is a `TimedOut` error naming `host:port`.
async fn with_timeout(
    host: &str,
    port: u16,
    timeout: Option<Duration>,
    attempt: impl std::future::Future<Output = Result<IOStream>>,
) -> Result<IOStream> {
    match timeout {
        None => attempt.await,
        Some(d) => match reactor::timeout(d, attempt).await {
            Ok(r) => r,
            Err(_) => Err(StreamError::Io(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("connect to {host}:{port} timed out after {d:?}"),
            ))),
        },
    }
}

async fn connect_host(host: &str, port: u16) -> Result<IOStream> {
    let addrs = resolve(host, port).await.map_err(|e| {
        StreamError::Io(io::Error::new(
            e.kind(),
            format!("cannot resolve {host}: {e}"),
        ))
    })?;
    let mut last = None;
    for addr in addrs {
        match connect_addr(addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) => {
                last = Some(io::Error::new(
                    e.kind(),
                    format!("connect to {addr} ({host}:{port}): {e}"),
                ))
            }
        }
    }
    Err(StreamError::Io(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("{host} resolved to no address"),
        )
    })))
}

/// The addresses of `host`: parsed if it is an IP literal, else resolved on a helper thread.
pub(crate) async fn resolve(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    let literal = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = literal.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }

    struct Slot {
        result: Option<io::Result<Vec<SocketAddr>>>,
        waker: Option<Waker>,
    }
    let slot = Arc::new(Mutex::new(Slot {
        result: None,
        waker: None,
    }));
    let remote = Reactor::current().remote();
    let (thread_slot, name) = (slot.clone(), host.to_owned());
    std::thread::Builder::new()
        .name("iostream-resolver".into())
        .spawn(move || {
            let result = (name.as_str(), port)
                .to_socket_addrs()
                .map(Iterator::collect);
            // Back on the loop thread: store the answer and wake the connecting task.
            remote.add_callback(move || {
                let waker = {
                    let mut s = thread_slot.lock().unwrap_or_else(|p| p.into_inner());
                    s.result = Some(result);
                    s.waker.take()
                };
                if let Some(w) = waker {
                    w.wake();
                }
            });
        })?;
    poll_fn(|cx| {
        let mut s = slot.lock().unwrap_or_else(|p| p.into_inner());
        match s.result.take() {
            Some(r) => Poll::Ready(r),
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    })
    .await
}

/// One non-blocking connect to `addr`.
async fn connect_addr(addr: SocketAddr) -> io::Result<IOStream> {
    let domain = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    let fd = sys::socket(domain, libc::SOCK_STREAM)?;
    match sys::connect(fd.as_raw_fd(), &addr) {
        Ok(()) => {}
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EINPROGRESS) | Some(libc::EALREADY) | Some(libc::EAGAIN)
            ) => {}
        Err(e) => return Err(e),
    }
    let stream = IOStream::from_nonblocking(fd, true)?;
    stream.wait_connected().await?;
    Ok(stream)
}
