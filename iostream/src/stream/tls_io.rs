//! The TLS half of [`IOStream`]: starting TLS on a stream, what it agreed on, and the glue
//! between the stream's buffers, its registration and the rustls session of `tls.rs`.
//!
//! `stream.rs` calls in here at its few transport points (a read that needs bytes, a flush,
//! `try_fill`) when the stream has a session; the plain path stays as it was. How the read
//! path and the flush path work is told in `tls.rs`. One thing is particular to this glue:
//! while the handshake runs, both a read and a flush may need to read *and* write the fd, and
//! the registration keeps one waker per direction, so a task can take over the other's wake-up.
//! Whoever makes progress therefore wakes the other side (the reader, the flushers), and each
//! looks again.

use std::cell::RefCell;
use std::io;
use std::task::{Context, Poll};

use super::IOStream;
use crate::error::Result;
use crate::tls::TlsSession;
use crate::tls_config::{cannot_start_tls, TlsAcceptor, TlsConnector};

impl IOStream {
    /// Makes this stream the server side of a TLS connection with `acceptor`'s current config
    /// ([`TcpServer::with_tls`](crate::TcpServer::with_tls) does this for every connection it
    /// accepts). The handshake happens inside the first read or flush; see `tls.rs`.
    ///
    /// Fails if the stream is closed, already TLS, or has bytes buffered either way.
    pub fn start_tls_server(&self, acceptor: &TlsAcceptor) -> Result<()> {
        let conn = acceptor.new_connection()?;
        self.start_tls(rustls::Connection::Server(conn))
    }

    /// Makes this stream the client side of a TLS connection to `server_name` (sent as SNI,
    /// and the name the server's certificate must carry). The handshake happens inside the
    /// first flush or read, or [`handshake`](Self::handshake);
    /// [`TcpClient::connect_tls`](crate::TcpClient::connect_tls) does all of it.
    pub fn start_tls_client(&self, connector: &TlsConnector, server_name: &str) -> Result<()> {
        let conn = connector.new_connection(server_name)?;
        self.start_tls(rustls::Connection::Client(conn))
    }

    fn start_tls(&self, conn: rustls::Connection) -> Result<()> {
        self.check_open()?;
        if !self.inner.read_buf.borrow().is_empty() || self.pending_write_bytes() > 0 {
            return Err(cannot_start_tls("cannot start TLS with bytes buffered"));
        }
        self.inner
            .tls
            .set(Box::new(RefCell::new(TlsSession::new(conn))))
            .map_err(|_| cannot_start_tls("the stream is already TLS"))
    }

    /// Completes the TLS handshake now (and sends what is queued); a plain stream has nothing
    /// to do. A failed handshake closes the stream with the reason as its error.
    pub async fn handshake(&self) -> Result<()> {
        if self.inner.tls.get().is_none() {
            return self.check_open();
        }
        self.flush().await
    }

    /// Whether this is a TLS stream whose handshake has not completed (also after it failed):
    /// lets the layer above tell a failed handshake (scanner noise, usually logged quietly)
    /// from a failure later on.
    pub fn is_tls_handshaking(&self) -> bool {
        self.inner
            .tls
            .get()
            .is_some_and(|tls| tls.borrow().is_handshaking())
    }

    /// Whether this is a TLS stream.
    pub fn is_tls(&self) -> bool {
        self.inner.tls.get().is_some()
    }

    /// The ALPN protocol agreed on in the TLS handshake (`b"http/1.1"`), once it is done.
    pub fn alpn_protocol(&self) -> Option<Vec<u8>> {
        let tls = self.inner.tls.get()?.borrow();
        tls.alpn_protocol().map(<[u8]>::to_vec)
    }

    /// On a TLS server stream, the name the client asked for (SNI), once the hello is read.
    pub fn tls_server_name(&self) -> Option<String> {
        let tls = self.inner.tls.get()?.borrow();
        tls.server_name().map(str::to_owned)
    }

    /// The TLS version agreed on, once the handshake has got that far.
    pub fn tls_version(&self) -> Option<rustls::ProtocolVersion> {
        self.inner.tls.get()?.borrow().protocol_version()
    }

    /// The TLS read path (see `tls.rs`): one attempt to add plaintext to the read buffer;
    /// `Ok(0)` is the end of the stream.
    pub(super) fn poll_tls_read(
        &self,
        cx: &mut Context<'_>,
        tls: &RefCell<TlsSession>,
    ) -> Poll<io::Result<usize>> {
        let inner = &*self.inner;
        let reg = inner.reg.borrow();
        let reg = reg.as_ref().expect("an open stream is registered");
        loop {
            if tls.borrow().wants_write() {
                // What reading produced (a handshake flight, an alert, a key update) goes out
                // before reading on.
                let sent = std::task::ready!(reg.poll_write_with(cx, || {
                    tls.borrow_mut().write_tls(inner.raw_fd, inner.is_socket)
                }));
                if sent? == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                // A flush waiting for the handshake may now go on.
                self.wake_writers(Some(cx.waker()));
                continue;
            }
            let n = tls
                .borrow_mut()
                .take_plaintext(&mut inner.read_buf.borrow_mut())?;
            if n > 0 {
                return Poll::Ready(Ok(n));
            }
            if tls.borrow().peer_closed() {
                return Poll::Ready(Ok(0));
            }
            let handshaking = tls.borrow().is_handshaking();
            let read = std::task::ready!(reg.poll_read_with(cx, || {
                tls.borrow_mut().read_tls(inner.raw_fd, inner.is_socket)
            }));
            match read? {
                (0, _) if handshaking => return Poll::Ready(Err(closed_in_handshake())),
                (0, _) => return Poll::Ready(Ok(0)),
                (_, short) => {
                    if short {
                        // Drained, as on the plain path: the next record is a new edge.
                        reg.clear_readable();
                    }
                    if handshaking {
                        self.wake_writers(Some(cx.waker()));
                    }
                }
            }
        }
    }

    /// The TLS flush path (see `tls.rs`): until `target` plaintext bytes have been sealed and
    /// their records sent, and the handshake is over.
    pub(super) fn poll_tls_flush(
        &self,
        cx: &mut Context<'_>,
        tls: &RefCell<TlsSession>,
        target: u64,
        waiting: &mut bool,
    ) -> Poll<Result<()>> {
        loop {
            if self.closed() {
                return Poll::Ready(Err(self.closed_error()));
            }
            match self.tls_flush_step(cx, tls, target) {
                Poll::Ready(Ok(true)) => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(false)) => self.wake_writers(Some(cx.waker())),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(self.fail(e))),
                Poll::Pending => {
                    *waiting = true;
                    let mut waiters = self.inner.write_waiters.borrow_mut();
                    if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
                        waiters.push(cx.waker().clone());
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    /// One step of the TLS flush: send records, or read the peer's handshake, or seal the next
    /// piece of the write queue. `Ready(Ok(true))` when the flush is complete.
    fn tls_flush_step(
        &self,
        cx: &mut Context<'_>,
        tls: &RefCell<TlsSession>,
        target: u64,
    ) -> Poll<io::Result<bool>> {
        let inner = &*self.inner;
        let reg = inner.reg.borrow();
        let reg = reg.as_ref().expect("an open stream is registered");
        if tls.borrow().wants_write() {
            let sent = std::task::ready!(reg.poll_write_with(cx, || {
                tls.borrow_mut().write_tls(inner.raw_fd, inner.is_socket)
            }))?;
            if sent == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            if tls.borrow().is_handshaking() {
                self.wake_reader(cx);
            }
            return Poll::Ready(Ok(false));
        }
        if tls.borrow().is_handshaking() {
            // The handshake waits for the peer: read its answer here (a client that writes
            // first has no read going); what plaintext comes along lands in the read buffer.
            let (n, short) = std::task::ready!(reg.poll_read_with(cx, || {
                tls.borrow_mut().read_tls(inner.raw_fd, inner.is_socket)
            }))?;
            if n == 0 {
                return Poll::Ready(Err(closed_in_handshake()));
            }
            if short {
                reg.clear_readable();
            }
            tls.borrow_mut()
                .take_plaintext(&mut inner.read_buf.borrow_mut())?;
            // A read waiting meanwhile may have lost its wake-up to us: let it look again.
            self.wake_reader(cx);
            return Poll::Ready(Ok(false));
        }
        if inner.written.get() >= target {
            return Poll::Ready(Ok(true));
        }
        let sealed = tls
            .borrow_mut()
            .encrypt(&mut inner.write_buf.borrow_mut())?;
        inner.written.set(inner.written.get() + sealed as u64);
        // Nothing sealed means nothing queued: every byte up to `target` is out.
        Poll::Ready(Ok(sealed == 0))
    }

    /// `try_fill` on a TLS stream: the plaintext rustls holds, else at most one `read(2)` of
    /// records and the plaintext they bring.
    pub(super) fn try_fill_tls(&self, tls: &RefCell<TlsSession>) -> Result<usize> {
        let inner = &*self.inner;
        let take = || {
            tls.borrow_mut()
                .take_plaintext(&mut inner.read_buf.borrow_mut())
        };
        let mut added = take().map_err(|e| self.fail(e))?;
        if added == 0 && !tls.borrow().peer_closed() {
            let read = {
                let reg = inner.reg.borrow();
                let reg = reg.as_ref().expect("an open stream is registered");
                if !reg.is_readable() {
                    return Ok(0);
                }
                let read = tls.borrow_mut().read_tls(inner.raw_fd, inner.is_socket);
                match &read {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        reg.clear_readable();
                        return Ok(0);
                    }
                    Ok((_, true)) => reg.clear_readable(),
                    _ => {}
                }
                read
            };
            match read {
                Ok((0, _)) => return self.after_read(Ok(0)),
                Ok(_) => {}
                Err(e) => return self.after_read(Err(e)),
            }
            if tls.borrow().wants_write() {
                // One attempt; the next flush sends what the socket did not take.
                let sent = tls.borrow_mut().write_tls(inner.raw_fd, inner.is_socket);
                match sent {
                    Err(e) if e.kind() != io::ErrorKind::WouldBlock => return Err(self.fail(e)),
                    _ => {}
                }
            }
            added = take().map_err(|e| self.fail(e))?;
        }
        if added == 0 && !tls.borrow().peer_closed() {
            return Ok(0);
        }
        self.after_read(Ok(added))
    }

    /// Wakes the task waiting in a read, unless it is the one running now (`cx`).
    fn wake_reader(&self, cx: &Context<'_>) {
        let reader = self.inner.read_waker.borrow();
        if let Some(w) = reader.as_ref().filter(|w| !w.will_wake(cx.waker())) {
            w.wake_by_ref();
        }
    }
}

/// The error of a TCP connection that ended in the middle of the TLS handshake.
fn closed_in_handshake() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "TLS handshake failed: the peer closed the connection (is it TLS?)",
    )
}
