//! A blocking client over one TCP connection: raw bytes out, responses in, one at a time and
//! exactly as framed, with whatever the server sent beyond them kept for the next read.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::response::{parse_response, Response};

/// How long a read or write may block before the test gives up on the server.
const TIMEOUT: Duration = Duration::from_secs(10);

/// One client connection and the bytes received but not yet read as a response.
pub struct Client {
    /// The socket (for tests that write or read around the client).
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    /// Connects to `addr` (within 5 s) with 10 s read and write timeouts and `TCP_NODELAY`.
    pub fn connect(addr: SocketAddr) -> io::Result<Client> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        stream.set_read_timeout(Some(TIMEOUT))?;
        stream.set_write_timeout(Some(TIMEOUT))?;
        stream.set_nodelay(true)?;
        Ok(Client::from_stream(stream))
    }

    /// A client over an already-connected stream; a read timeout already set is kept, else
    /// it is 10 s.
    pub fn from_stream(stream: TcpStream) -> Client {
        if stream.read_timeout().ok().flatten().is_none() {
            stream
                .set_read_timeout(Some(TIMEOUT))
                .expect("set_read_timeout");
        }
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    /// Sends raw bytes.
    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Sends `method target` with `body` ([`request_bytes`]) and reads the response.
    pub fn request(&mut self, method: &str, target: &str, body: &[u8]) -> io::Result<Response> {
        self.send(&request_bytes(method, target, body))?;
        self.read_response()
    }

    /// `GET target`.
    pub fn get(&mut self, target: &str) -> io::Result<Response> {
        self.request("GET", target, b"")
    }

    /// Half-closes the sending side.
    pub fn shutdown_write(&self) -> io::Result<()> {
        self.stream.shutdown(Shutdown::Write)
    }

    /// Reads the final response to a request that is not HEAD, skipping any interim 1xx
    /// (`100 Continue`) before it.
    pub fn read_response(&mut self) -> io::Result<Response> {
        loop {
            let response = self.read_next(false)?;
            if response.status / 100 != 1 {
                return Ok(response);
            }
        }
    }

    /// Reads the next response as framed, an interim 1xx included; `head_request`: it answers
    /// a HEAD request, so it has no body. A close before it is complete, a reset or a timeout
    /// is an error; so is a malformed response (`InvalidData`).
    pub fn read_next(&mut self, head_request: bool) -> io::Result<Response> {
        let mut eof = false;
        loop {
            match parse_response(&self.buf, eof, head_request) {
                Ok(Some((response, used))) => {
                    self.buf.drain(..used);
                    return Ok(response);
                }
                Ok(None) if eof => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "server closed mid-response: {:?}",
                            String::from_utf8_lossy(&self.buf)
                        ),
                    ))
                }
                Ok(None) => eof = self.fill()? == 0,
                Err(why) => return Err(io::Error::new(io::ErrorKind::InvalidData, why)),
            }
        }
    }

    /// Everything until the server closes the connection (a reset counts as the close).
    pub fn read_to_close(&mut self) -> io::Result<Vec<u8>> {
        loop {
            match self.fill() {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => break,
                Err(e) => return Err(e),
            }
        }
        Ok(std::mem::take(&mut self.buf))
    }

    /// Bytes already received and not consumed by a response.
    pub fn leftover(&self) -> &[u8] {
        &self.buf
    }

    /// Waits up to `wait` for one read and returns what is buffered then, taking it (for
    /// "nothing more was sent" checks).
    pub fn extra_bytes(&mut self, wait: Duration) -> Vec<u8> {
        self.stream
            .set_read_timeout(Some(wait))
            .expect("set_read_timeout");
        let mut chunk = [0u8; 1024];
        if let Ok(n) = self.stream.read(&mut chunk) {
            self.buf.extend_from_slice(&chunk[..n]);
        }
        self.stream
            .set_read_timeout(Some(TIMEOUT))
            .expect("set_read_timeout");
        std::mem::take(&mut self.buf)
    }

    /// Waits up to `limit` for the server to close the connection: `true` on EOF or reset,
    /// `false` if still open (bytes that arrive meanwhile are kept).
    pub fn closed_within(&mut self, limit: Duration) -> bool {
        let _ = self.stream.set_read_timeout(Some(limit));
        let end = Instant::now() + limit;
        loop {
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) => return true,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if e.kind() == io::ErrorKind::WouldBlock
                        || e.kind() == io::ErrorKind::TimedOut =>
                {
                    return false
                }
                Err(_) => return true,
            }
            if Instant::now() >= end {
                return false;
            }
        }
    }

    /// One `read` into the buffer: the number of bytes read, 0 at EOF.
    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 16384];
        let n = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }
}

/// The bytes of an HTTP/1.1 request with `Host: test` and a Content-Length body (no
/// Content-Length for a GET without a body).
pub fn request_bytes(method: &str, target: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {target} HTTP/1.1\r\nHost: test\r\n").into_bytes();
    if !body.is_empty() || method != "GET" {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread::JoinHandle;

    /// A one-connection server: reads `expect` bytes, writes `reply` in pieces, then closes
    /// (or, with `linger`, keeps the connection open for that long first). Returns what it read.
    fn serve(
        expect: usize,
        reply: &'static [&'static [u8]],
        linger: Duration,
    ) -> (SocketAddr, JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut got = vec![0u8; expect];
            s.read_exact(&mut got).unwrap();
            for piece in reply {
                s.write_all(piece).unwrap();
                std::thread::sleep(Duration::from_millis(5));
            }
            std::thread::sleep(linger);
            got
        });
        (addr, server)
    }

    #[test]
    fn request_bytes_frame_the_body() {
        assert_eq!(
            request_bytes("GET", "/", b""),
            b"GET / HTTP/1.1\r\nHost: test\r\n\r\n"
        );
        assert_eq!(
            request_bytes("POST", "/p?q=1", b"ab"),
            b"POST /p?q=1 HTTP/1.1\r\nHost: test\r\nContent-Length: 2\r\n\r\nab"
        );
        assert_eq!(
            request_bytes("DELETE", "/x", b""),
            b"DELETE /x HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\n\r\n"
        );
    }

    #[test]
    fn pipelined_responses_in_pieces_are_read_one_at_a_time() {
        let request = request_bytes("POST", "/", b"body");
        let (addr, server) = serve(
            request.len(),
            &[
                b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Le",
                b"ngth: 2\r\n\r\nokHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab",
                b"c\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n",
                b"HTTP/1.0 200 OK\r\n\r\nto the close",
            ],
            Duration::ZERO,
        );
        let mut c = Client::connect(addr).unwrap();
        let first = c.request("POST", "/", b"body").unwrap();
        assert_eq!((first.status, first.text()), (200, "ok"));
        let second = c.read_response().unwrap();
        assert_eq!((second.text(), second.chunked), ("abc", true));
        let head = c.read_next(true).unwrap();
        assert_eq!((head.status, head.body.len()), (200, 0));
        let last = c.read_next(false).unwrap();
        assert_eq!(
            (last.version.as_str(), last.text()),
            ("HTTP/1.0", "to the close")
        );
        assert_eq!(server.join().unwrap(), request);
    }

    #[test]
    fn extra_bytes_returns_what_follows_a_response() {
        let (addr, _server) = serve(
            0,
            &[b"HTTP/1.1 204 No Content\r\n\r\n", b"extra"],
            Duration::from_millis(100),
        );
        let mut c = Client::connect(addr).unwrap();
        assert_eq!(c.read_response().unwrap().status, 204);
        assert_eq!(c.extra_bytes(Duration::from_secs(5)), b"extra");
        assert!(c.leftover().is_empty());
    }

    #[test]
    fn read_next_returns_an_interim_response() {
        let (addr, _server) = serve(
            0,
            &[b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"],
            Duration::ZERO,
        );
        let mut c = Client::connect(addr).unwrap();
        assert_eq!(c.read_next(false).unwrap().status, 100);
        assert_eq!(c.read_next(false).unwrap().status, 204);
    }

    #[test]
    fn a_close_mid_response_and_a_malformed_response_are_errors() {
        let (addr, _server) = serve(
            0,
            &[b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"],
            Duration::ZERO,
        );
        let mut c = Client::connect(addr).unwrap();
        let e = c.read_response().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "{e}");

        let (addr, _server) = serve(0, &[b"HTTP/1.1 200 OK\r\nbad\r\n\r\n"], Duration::ZERO);
        let e = Client::connect(addr).unwrap().read_response().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{e}");
    }

    #[test]
    fn read_to_close_and_leftover() {
        const WIRE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxGARBAGE";
        let (addr, _server) = serve(0, &[WIRE], Duration::ZERO);
        let mut c = Client::connect(addr).unwrap();
        while c.leftover().len() < WIRE.len() {
            assert!(c.fill().unwrap() > 0);
        }
        assert_eq!(c.read_response().unwrap().text(), "x");
        assert_eq!(c.leftover(), b"GARBAGE");
        assert_eq!(c.read_to_close().unwrap(), b"GARBAGE");
        assert!(c.leftover().is_empty());
    }

    #[test]
    fn closed_within_tells_an_open_connection_from_a_closed_one() {
        // The server closes only when told (no race with the first check, however loaded
        // the machine is).
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (close, closing) = std::sync::mpsc::channel::<()>();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.write_all(b"early").unwrap();
            let _ = closing.recv();
        });
        let mut c = Client::connect(addr).unwrap();
        assert!(!c.closed_within(Duration::from_millis(200)));
        assert_eq!(c.leftover(), b"early");
        close.send(()).unwrap();
        assert!(c.closed_within(Duration::from_secs(5)));
        server.join().unwrap();
    }

    #[test]
    fn from_stream_keeps_a_read_timeout_already_set() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stream = TcpStream::connect(addr).unwrap();
        let short = Some(Duration::from_millis(300));
        stream.set_read_timeout(short).unwrap();
        assert_eq!(
            Client::from_stream(stream).stream.read_timeout().unwrap(),
            short
        );
        let c = Client::from_stream(TcpStream::connect(addr).unwrap());
        assert_eq!(c.stream.read_timeout().unwrap(), Some(TIMEOUT));
    }
}
