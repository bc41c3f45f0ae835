//! Test support: a server on a loopback port in its own thread (own reactor), and a raw-socket
//! HTTP/1.x client that reads one response at a time exactly as framed.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use http1::{HTTP1ConnectionParameters, HTTPServer};
use web::Application;

/// Starts `make_app()` on 127.0.0.1 in a new thread; returns its address. The thread runs
/// until the test process exits.
pub fn serve(make_app: impl FnOnce() -> Application + Send + 'static) -> SocketAddr {
    serve_with(make_app, HTTP1ConnectionParameters::default())
}

/// [`serve`] with connection parameters.
pub fn serve_with(
    make_app: impl FnOnce() -> Application + Send + 'static,
    params: HTTP1ConnectionParameters,
) -> SocketAddr {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let app = make_app();
        let server = HTTPServer::new(app, params);
        server.add_sockets(vec![listener]).unwrap();
        tx.send(addr).unwrap();
        reactor::Reactor::current().run();
    });
    rx.recv().unwrap()
}

/// One parsed response.
#[derive(Debug)]
pub struct Response {
    pub version: String,
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body came chunked.
    pub chunked: bool,
    /// The raw bytes of the head.
    pub head: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A raw client connection.
pub struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.set_nodelay(true).unwrap();
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    /// A client over an already-connected stream (its read timeout is kept if set).
    pub fn from_stream(stream: TcpStream) -> Client {
        if stream.read_timeout().ok().flatten().is_none() {
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
        }
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send(&mut self, raw: &[u8]) {
        self.stream.write_all(raw).unwrap();
    }

    /// Sends `METHOD target HTTP/1.1` with a Host header, `extra` header lines and `body`.
    pub fn request(&mut self, method: &str, target: &str, extra: &str, body: &[u8]) -> Response {
        let mut raw = format!("{method} {target} HTTP/1.1\r\nHost: localhost\r\n{extra}");
        if !body.is_empty() || method == "POST" || method == "PUT" {
            raw.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        raw.push_str("\r\n");
        let mut bytes = raw.into_bytes();
        bytes.extend_from_slice(body);
        self.send(&bytes);
        self.read_response(method == "HEAD")
    }

    pub fn get(&mut self, target: &str) -> Response {
        self.request("GET", target, "", b"")
    }

    fn fill(&mut self) -> usize {
        let mut chunk = [0u8; 8192];
        match self.stream.read(&mut chunk) {
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                n
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => 0,
            Err(e) => panic!("read failed: {e}"),
        }
    }

    fn read_line(&mut self) -> String {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8(self.buf[..i].to_vec()).unwrap();
                self.buf.drain(..i + 2);
                return line;
            }
            assert!(
                self.fill() > 0,
                "connection closed mid-line: {:?}",
                String::from_utf8_lossy(&self.buf)
            );
        }
    }

    fn read_exact_bytes(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            assert!(self.fill() > 0, "connection closed mid-body");
        }
        self.buf.drain(..n).collect()
    }

    /// Reads one response; `head_request` means no body whatever the headers say.
    pub fn read_response(&mut self, head_request: bool) -> Response {
        let status_line = self.read_line();
        let mut head = status_line.clone() + "\r\n";
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap().to_string();
        let status: u16 = parts.next().unwrap().parse().unwrap();
        let reason = parts.next().unwrap_or("").to_string();
        let mut headers = Vec::new();
        loop {
            let line = self.read_line();
            head.push_str(&line);
            head.push_str("\r\n");
            if line.is_empty() {
                break;
            }
            let (n, v) = line.split_once(':').expect("header line");
            headers.push((n.to_string(), v.trim().to_string()));
        }
        let mut r = Response {
            version,
            status,
            reason,
            headers,
            body: Vec::new(),
            chunked: false,
            head,
        };
        if head_request || (100..200).contains(&status) || status == 204 || status == 304 {
            return r;
        }
        if r.header("Transfer-Encoding").is_some() {
            r.chunked = true;
            loop {
                let size = usize::from_str_radix(self.read_line().trim(), 16).unwrap();
                if size == 0 {
                    assert_eq!(self.read_line(), "");
                    break;
                }
                let data = self.read_exact_bytes(size);
                r.body.extend_from_slice(&data);
                assert_eq!(self.read_line(), "");
            }
        } else if let Some(len) = r.header("Content-Length") {
            let len: usize = len.parse().unwrap();
            r.body = self.read_exact_bytes(len);
        } else {
            while self.fill() > 0 {}
            r.body = std::mem::take(&mut self.buf);
        }
        r
    }

    /// True if the server closed the connection (reads EOF) within `wait`, with no more bytes.
    pub fn closed_within(&mut self, wait: Duration) -> bool {
        self.stream.set_read_timeout(Some(wait)).unwrap();
        let mut b = [0u8; 1];
        let r = matches!(self.stream.read(&mut b), Ok(0) | Err(_)) && self.buf.is_empty();
        self.stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        r
    }

    /// Everything until the server closes the connection.
    pub fn read_to_close(&mut self) -> Vec<u8> {
        while self.fill() > 0 {}
        std::mem::take(&mut self.buf)
    }

    /// Bytes already received and not consumed by a response.
    pub fn leftover(&self) -> &[u8] {
        &self.buf
    }

    /// Waits briefly and returns any bytes that arrive (for "nothing more was sent" checks).
    pub fn extra_bytes(&mut self, wait: Duration) -> Vec<u8> {
        self.stream.set_read_timeout(Some(wait)).unwrap();
        let mut b = [0u8; 1024];
        if let Ok(n) = self.stream.read(&mut b) {
            self.buf.extend_from_slice(&b[..n]);
        }
        self.stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        std::mem::take(&mut self.buf)
    }
}
