//! [`TlsSession`]: rustls's connection state machine driven over a non-blocking fd, the
//! transport of a TLS [`IOStream`](crate::IOStream) (Tornado's `SSLIOStream`).
//!
//! A TLS stream is the same `IOStream` type as a plain one: same read buffer, same write queue,
//! same registration, same methods. What changes is the step that moves bytes between those
//! buffers and the fd; `stream.rs` (through `stream/tls_io.rs`) asks this module for it
//! whenever the stream has a session.
//! The session itself knows nothing of the reactor: every method here is one non-blocking
//! attempt that returns `WouldBlock` like the syscall under it, and `stream.rs` turns
//! `WouldBlock` into waiting on the registration, as it does for a plain fd.
//!
//! # The read path
//! 1. Whatever rustls has to say first goes out (handshake flights, alerts, a `KeyUpdate`
//!    answer): a read can produce bytes to write, and they are written before reading on.
//! 2. Plaintext rustls has already decrypted moves into the stream's read buffer
//!    ([`take_plaintext`](TlsSession::take_plaintext)), where `read_until`, `buffered`,
//!    `consume` and the rest find it as they would find plain bytes.
//! 3. Otherwise one `read(2)` of ciphertext goes into rustls ([`read_tls`](TlsSession::read_tls)),
//!    which then decrypts what it holds (`process_new_packets`); back to 1. A short read
//!    drained the socket, so the readiness flag is cleared as on the plain path.
//!
//! # The flush path
//! Plaintext queued in the write buffer is handed to rustls's writer in pieces
//! ([`encrypt`](TlsSession::encrypt)), which seals it into records; the records go out with
//! `write_tls` (one `writev` per attempt). A piece is only handed over once the ciphertext of
//! the previous one has left, and rustls's own buffers are capped at [`TLS_BUFFER_LIMIT`]:
//! a peer that never reads fills the socket, then that cap, then the stream's write buffer
//! (whose limit the caller chose), and memory stops growing there. While the handshake is not
//! finished the flush also reads (the handshake needs the peer's answers), so a stream that
//! writes first (a client, or a server that greets) handshakes inside its first flush; one
//! that reads first handshakes inside its first read, which is what puts the handshake under
//! the header timeout of the layer above.
//!
//! # What falls back
//! `sendfile(2)` cannot encrypt: under TLS [`IOStream::sendfile`](crate::IOStream::sendfile)
//! reads the file in pieces and writes them through the session. Everything else behaves as on
//! a plain fd.
//!
//! # Closing and failing
//! A close sends `close_notify` when the socket takes it at once (never waits for it);
//! `shutdown_write` sends it and waits for it to leave, then shuts the socket's write side.
//! A handshake that fails becomes one error, the one that closes the stream:
//! "TLS handshake failed: ..." with rustls's reason, or "not TLS: ..." when the peer's first
//! byte cannot start a TLS record. A server that receives plain text (an `http://` request
//! sent to the TLS port) answers `HTTP/1.1 400 Bad Request` with `Connection: close` first, as
//! nginx does, so the client sees why; it never waits for more bytes that would not help.

use std::io::{self, IoSlice, Read, Write};
use std::os::fd::RawFd;

use rustls::Connection;

use crate::read_buffer::ReadBuffer;
use crate::sys;
use crate::write_buffer::WriteBuffer;

/// The most bytes rustls may hold unsent (ciphertext, or plaintext waiting for the end of the
/// handshake) per connection: 64 KiB, four full records.
pub const TLS_BUFFER_LIMIT: usize = 64 * 1024;

/// How much plaintext one move from rustls to the read buffer asks for: one record's worth.
const PLAINTEXT_CHUNK: usize = 16 * 1024;

/// The first byte of a TLS handshake record (content type 22).
const HANDSHAKE_RECORD: u8 = 0x16;
/// The first byte of a TLS alert record (content type 21).
const ALERT_RECORD: u8 = 0x15;

/// What a server sends back to a peer that spoke plain HTTP to its TLS port.
const PLAIN_HTTP_ANSWER: &[u8] = b"HTTP/1.1 400 Bad Request\r\n\
Connection: close\r\n\
Content-Type: text/plain\r\n\
Content-Length: 47\r\n\
\r\n\
The plain HTTP request was sent to HTTPS port.\n";

/// One TLS connection over one fd; see the module doc.
pub(crate) struct TlsSession {
    conn: Connection,
    /// The first byte the peer sent (`None` until it sent one): a TLS peer starts with a
    /// handshake record (or an alert), anything else is not TLS.
    first_byte: Option<u8>,
    /// The peer sent `close_notify`: no plaintext will follow.
    peer_closed: bool,
}

/// The fd as `io::Read` / `io::Write` for rustls, remembering whether the last read was short.
struct Fd {
    fd: RawFd,
    is_socket: bool,
    short_read: bool,
}

impl Read for Fd {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = sys::read(self.fd, buf)?;
        reactor::trace_step!("iostream", "read(2) of TLS records", n);
        self.short_read = n < buf.len();
        Ok(n)
    }
}

impl Write for Fd {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_vectored(&[IoSlice::new(buf)])
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let n = sys::write_vectored(self.fd, bufs, self.is_socket)?;
        reactor::trace_step!("iostream", "send(2) of TLS records", n);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl TlsSession {
    /// A session over `conn` (a fresh client or server connection), with its buffers capped.
    pub(crate) fn new(mut conn: Connection) -> TlsSession {
        conn.set_buffer_limit(Some(TLS_BUFFER_LIMIT));
        TlsSession {
            conn,
            first_byte: None,
            peer_closed: false,
        }
    }

    /// Whether the handshake is still going on.
    pub(crate) fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    /// Whether rustls holds ciphertext to send (handshake, alerts, sealed records).
    pub(crate) fn wants_write(&self) -> bool {
        self.conn.wants_write()
    }

    /// The ALPN protocol agreed on, once the handshake is done.
    pub(crate) fn alpn_protocol(&self) -> Option<&[u8]> {
        self.conn.alpn_protocol()
    }

    /// The server name the client asked for (SNI), on the server side.
    pub(crate) fn server_name(&self) -> Option<&str> {
        match &self.conn {
            Connection::Server(s) => s.server_name(),
            Connection::Client(_) => None,
        }
    }

    /// The negotiated protocol version (`"TLSv1.3"`, `"TLSv1.2"`), once known.
    pub(crate) fn protocol_version(&self) -> Option<rustls::ProtocolVersion> {
        self.conn.protocol_version()
    }

    /// One `read(2)` of ciphertext into rustls, then decrypts what it holds. Returns the
    /// bytes read (0: the peer closed the TCP connection) and whether the read was short
    /// (the socket is drained). Errors: the syscall's, or the TLS failure (see
    /// [`failure`](Self::failure)) after best-effort sending of rustls's alert.
    pub(crate) fn read_tls(&mut self, fd: RawFd, is_socket: bool) -> io::Result<(usize, bool)> {
        let handshaking = self.conn.is_handshaking();
        self.read_tls_inner(fd, is_socket)
            .map_err(|e| in_handshake(handshaking, e))
    }

    fn read_tls_inner(&mut self, fd: RawFd, is_socket: bool) -> io::Result<(usize, bool)> {
        let mut io = Fd {
            fd,
            is_socket,
            short_read: false,
        };
        if self.first_byte.is_none() {
            // The first byte decides "TLS or not" before rustls sees anything: read exactly
            // one byte, so that plain text is refused at once, whatever its length.
            let mut one = [0u8; 1];
            if io.read(&mut one)? == 0 {
                return Ok((0, true));
            }
            self.first_byte = Some(one[0]);
            if !matches!(one[0], HANDSHAKE_RECORD | ALERT_RECORD) {
                return Err(self.not_tls(&mut io));
            }
            self.conn.read_tls(&mut &one[..])?;
        }
        let n = self.conn.read_tls(&mut io)?;
        match self.conn.process_new_packets() {
            Ok(state) => self.peer_closed = state.peer_has_closed(),
            Err(e) => return Err(self.failure(e, &mut io)),
        }
        Ok((n, io.short_read))
    }

    /// Moves the plaintext rustls has decrypted into `buf`; returns how many bytes (0: none
    /// yet, or the peer sent `close_notify`, see [`peer_closed`](Self::peer_closed)).
    pub(crate) fn take_plaintext(&mut self, buf: &mut ReadBuffer) -> io::Result<usize> {
        let mut total = 0;
        loop {
            let n = match buf.read_with(PLAINTEXT_CHUNK, |b| self.conn.reader().read(b)) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
                // The TCP connection ended without `close_notify`: an end of file like any
                // other (HTTP's own framing tells a truncated message from a whole one).
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => 0,
                Err(e) => return Err(e),
            };
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    /// Whether the peer has ended its side (`close_notify`): no plaintext will follow.
    pub(crate) fn peer_closed(&self) -> bool {
        self.peer_closed
    }

    /// One `writev` of the ciphertext rustls holds; the bytes written.
    pub(crate) fn write_tls(&mut self, fd: RawFd, is_socket: bool) -> io::Result<usize> {
        let mut io = Fd {
            fd,
            is_socket,
            short_read: false,
        };
        let handshaking = self.conn.is_handshaking();
        self.conn
            .write_tls(&mut io)
            .map_err(|e| in_handshake(handshaking, e))
    }

    /// Hands queued plaintext from `buf` to rustls (sealed into records at once after the
    /// handshake, kept until it ends before); the bytes taken, at most what rustls's
    /// [`TLS_BUFFER_LIMIT`] leaves room for.
    pub(crate) fn encrypt(&mut self, buf: &mut WriteBuffer) -> io::Result<usize> {
        buf.write_with(|slices| self.conn.writer().write_vectored(slices))
    }

    /// Queues `close_notify` and makes one attempt to send what rustls holds (a close never
    /// waits for the peer). Nothing is sent before the handshake is done (a peer that never
    /// spoke TLS gets no TLS alert).
    pub(crate) fn close_notify(&mut self, fd: RawFd, is_socket: bool) {
        if self.conn.is_handshaking() {
            return;
        }
        self.conn.send_close_notify();
        let _ = self.write_tls(fd, is_socket);
    }

    /// Queues `close_notify` (sent by the next flush).
    pub(crate) fn queue_close_notify(&mut self) {
        self.conn.send_close_notify();
    }

    /// The error for a peer whose first byte cannot start a TLS record; a server answers
    /// plain text with a plain `400` first.
    fn not_tls(&mut self, io: &mut Fd) -> io::Error {
        let server = matches!(self.conn, Connection::Server(_));
        if server && self.first_byte.is_some_and(|b| b.is_ascii_alphabetic()) {
            let _ = io.write(PLAIN_HTTP_ANSWER);
            // Read what the request already brought, so that the close is a FIN after the
            // answer and not a reset that could destroy it (bounded: 64 KiB, no waiting).
            let _ = sys::shutdown_write(io.fd);
            let mut sink = [0u8; 4096];
            for _ in 0..16 {
                if !matches!(io.read(&mut sink), Ok(n) if n > 0) {
                    break;
                }
            }
            return io::Error::new(
                io::ErrorKind::InvalidData,
                "not TLS: plain HTTP request sent to the TLS port (answered 400)",
            );
        }
        let who = if server { "client" } else { "server" };
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "not TLS: the {who}'s first byte {:#04x} does not start a TLS record",
                self.first_byte.unwrap_or(0)
            ),
        )
    }

    /// The error for a TLS failure; rustls's alert for the peer is sent if the socket takes it.
    fn failure(&mut self, e: rustls::Error, io: &mut Fd) -> io::Error {
        let _ = self.conn.write_tls(io);
        let what = if self.conn.is_handshaking() {
            "TLS handshake failed"
        } else {
            "TLS error"
        };
        io::Error::new(io::ErrorKind::InvalidData, format!("{what}: {e}"))
    }
}

/// An OS error during the handshake (a reset, typically: the peer does not speak TLS) says so.
fn in_handshake(handshaking: bool, e: io::Error) -> io::Error {
    let ours = e.kind() == io::ErrorKind::InvalidData;
    let waits = matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    );
    if !handshaking || ours || waits {
        return e;
    }
    io::Error::new(
        e.kind(),
        format!("TLS handshake failed: {e} (is the peer TLS?)"),
    )
}
