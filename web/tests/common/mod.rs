//! Test support: a server on a loopback port in its own thread (own reactor), and a raw-socket
//! HTTP/1.x client that reads one response at a time exactly as framed (`testkit`'s, with
//! requests to `Host: localhost` and a panic where it would return an error).
#![allow(dead_code)]

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

pub use testkit::Response;

/// `Response::json`: the body parsed as JSON (panics if it is not).
pub trait JsonBody {
    /// The body as a JSON value.
    fn json(&self) -> serde_json::Value;
}

impl JsonBody for Response {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A raw client connection: `testkit::Client`, panicking on errors.
pub struct Client(testkit::Client);

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        Client(testkit::Client::connect(addr).unwrap())
    }

    /// A client over an already-connected stream (its read timeout is kept if set).
    pub fn from_stream(stream: TcpStream) -> Client {
        Client(testkit::Client::from_stream(stream))
    }

    pub fn send(&mut self, raw: &[u8]) {
        self.0.send(raw).unwrap();
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

    /// Reads one response (an interim 1xx included); `head_request` means no body whatever the
    /// headers say.
    pub fn read_response(&mut self, head_request: bool) -> Response {
        self.0.read_next(head_request).unwrap()
    }

    /// Everything until the server closes the connection.
    pub fn read_to_close(&mut self) -> Vec<u8> {
        self.0.read_to_close().unwrap()
    }

    /// Bytes already received and not consumed by a response.
    pub fn leftover(&self) -> &[u8] {
        self.0.leftover()
    }

    /// Waits briefly and returns any bytes that arrive (for "nothing more was sent" checks).
    pub fn extra_bytes(&mut self, wait: Duration) -> Vec<u8> {
        self.0.extra_bytes(wait)
    }
}
