//! The in-process end-to-end harness of the `http1` and `web` benches: a server and a client
//! on one thread, over loopback TCP, `iters` batches of `depth` requests (1 = plain
//! keep-alive, 16 = pipelined as wrk's `pipeline.lua` sends them).
//!
//! - ours: any `http1` server delegate (the `hello` example's, or `web`'s `Application`) on our
//!   reactor, and a client on an [`IOStream`] of the same reactor;
//! - hyper 1.x on tokio's current_thread runtime (a `LocalSet`, as `shared/peers` runs it),
//!   with a client on a tokio `TcpStream`;
//! - raw: blocking sockets and no loop at all: the client writes, the server reads and counts
//!   request terminators, writes canned responses, the client reads: the syscall floor.
//!
//! Every client parses its responses the same way ([`response_len`], with `httparse`). The
//! servers of "ours" are here too, so every bench serves the same ones: [`Hello`] (the `hello`
//! example's delegate) and [`web_app`] (the demo's `/` through `web`).
#![allow(dead_code)] // the benches use different parts

use std::io::{Read, Write};
use std::time::Duration;

use crate::common::Clock;

use http1::{HTTP1ConnectionParameters, HTTPServer, HTTPServerConnectionDelegate};
use iostream::IOStream;
use reactor::Reactor;

/// The `hello` example's delegate: `200`, `text/plain`, `Hello, World!`, its headers in wire
/// form as the example has them.
pub struct Hello;

/// [`Hello`]'s message delegate.
pub struct HelloMessage;

static HEADERS: http1::HeaderBlock =
    http1::HeaderBlock::from_lines("Content-Type: text/plain\r\nContent-Length: 13\r\n");

impl HTTPServerConnectionDelegate for Hello {
    type Message = HelloMessage;
    fn start_request(&self, _ctx: &http1::ConnectionContext) -> HelloMessage {
        HelloMessage
    }
}

impl http1::HTTPMessageDelegate for HelloMessage {
    async fn headers_received(
        &mut self,
        _: &http1::RequestHead<'_>,
        _: &mut http1::HTTP1Connection<'_>,
    ) {
    }

    async fn finish(&mut self, conn: &mut http1::HTTP1Connection<'_>) {
        let _ = conn
            .write_response(http1::ResponseStartLine::OK, &HEADERS, b"Hello, World!")
            .await;
    }
}

/// The demo's `/` handler.
#[derive(Default)]
pub struct WebHello;

impl web::RequestHandler for WebHello {
    async fn get(&mut self, cx: &mut web::Context<'_>) -> web::Result {
        cx.set_header("Content-Type", "text/plain")?;
        cx.write("Hello, World!");
        Ok(())
    }
}

/// The application of the `web` rows: [`WebHello`] at `/`.
pub fn web_app() -> web::Application {
    web::Application::new(vec![web::url::<WebHello>("/")])
}

/// What `wrk` sends.
pub const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";

/// The raw server's canned answer: the same bytes our `hello` example sends.
const RAW_RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\
Date: Fri, 27 Nov 2026 05:00:00 GMT\r\n\r\nHello, World!";

/// The length of the first complete response at the start of `buf`, if there is one.
pub fn response_len(buf: &[u8]) -> Option<usize> {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut res = httparse::Response::new(&mut headers);
    let head = match res.parse(buf).expect("a valid response") {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => return None,
    };
    let body = res
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .map(|h| {
            std::str::from_utf8(h.value)
                .unwrap()
                .parse::<usize>()
                .unwrap()
        })
        .unwrap_or(0);
    (buf.len() >= head + body).then_some(head + body)
}

/// Ours: `delegate` served by an `HTTPServer` on `r`, the client an `IOStream` on `r`.
pub fn ours<D: HTTPServerConnectionDelegate>(
    r: &Reactor,
    delegate: D,
    depth: usize,
    iters: u64,
) -> Duration {
    r.block_on(async move {
        let server = HTTPServer::new(delegate, HTTP1ConnectionParameters::default());
        let addr = server.listen(0, Some("127.0.0.1")).unwrap()[0];
        let client = reactor::spawn(async move {
            let s = std::net::TcpStream::connect(addr).unwrap();
            s.set_nodelay(true).unwrap();
            let stream = IOStream::from_tcp(s).unwrap();
            let batch = REQUEST.repeat(depth);
            let start = Clock::now();
            for _ in 0..iters {
                stream.write(&batch).await.unwrap();
                for _ in 0..depth {
                    loop {
                        let (have, len) = {
                            let buf = stream.buffered();
                            (buf.len(), response_len(&buf))
                        };
                        if let Some(len) = len {
                            stream.consume(len);
                            break;
                        }
                        stream.fill(have + 1).await.unwrap();
                    }
                }
            }
            Clock::now() - start
        });
        let elapsed = client.await.unwrap();
        server.stop();
        elapsed
    })
}

async fn hello(
    _: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<http_body_util::Full<hyper::body::Bytes>>, std::convert::Infallible> {
    Ok(hyper::Response::builder()
        .header("Content-Type", "text/plain")
        .body(http_body_util::Full::new(hyper::body::Bytes::from_static(
            b"Hello, World!",
        )))
        .unwrap())
}

/// hyper: `shared/peers`' `hyper_hello` (without its `Server` header, so that the bytes match
/// ours), the client on a tokio `TcpStream`.
pub fn hyper(rt: &tokio::runtime::Runtime, depth: usize, iters: u64) -> Duration {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let local = tokio::task::LocalSet::new();
    local.block_on(rt, async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::task::spawn_local(async move {
            let (stream, _) = listener.accept().await.unwrap();
            stream.set_nodelay(true).unwrap();
            let _ = hyper::server::conn::http1::Builder::new()
                .pipeline_flush(true)
                .serve_connection(
                    hyper_util::rt::TokioIo::new(stream),
                    hyper::service::service_fn(hello),
                )
                .await;
        });
        let client = tokio::task::spawn_local(async move {
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            s.set_nodelay(true).unwrap();
            let batch = REQUEST.repeat(depth);
            let mut buf = Vec::with_capacity(64 * 1024);
            let start = Clock::now();
            for _ in 0..iters {
                s.write_all(&batch).await.unwrap();
                let (mut pos, mut left) = (0, depth);
                while left > 0 {
                    if let Some(len) = response_len(&buf[pos..]) {
                        pos += len;
                        left -= 1;
                    } else {
                        assert!(s.read_buf(&mut buf).await.unwrap() > 0, "server closed");
                    }
                }
                buf.drain(..pos);
            }
            Clock::now() - start
        });
        let elapsed = client.await.unwrap();
        server.await.unwrap();
        elapsed
    })
}

/// The floor: blocking sockets, no loop, no parsing on the server side.
pub fn raw(depth: usize, iters: u64) -> Duration {
    raw_with(RAW_RESPONSE, depth, iters)
}

/// [`raw`] answering each request with `response` (for example the exact bytes another
/// server sends, to compare with it byte for byte).
pub fn raw_with(response: &[u8], depth: usize, iters: u64) -> Duration {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    client.set_nodelay(true).unwrap();
    server.set_nodelay(true).unwrap();
    let batch = REQUEST.repeat(depth);
    let answers = response.repeat(depth);
    let (mut sbuf, mut cbuf) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    let terminator = memchr::memmem::Finder::new(b"\r\n\r\n");
    let start = Clock::now();
    for _ in 0..iters {
        client.write_all(&batch).unwrap();
        let (mut n, mut seen) = (0, 0);
        while seen < depth {
            n += server.read(&mut sbuf[n..]).unwrap();
            seen = terminator.find_iter(&sbuf[..n]).count();
        }
        server.write_all(&answers).unwrap();
        let (mut m, mut pos, mut left) = (0, 0, depth);
        while left > 0 {
            if let Some(len) = response_len(&cbuf[pos..m]) {
                pos += len;
                left -= 1;
            } else {
                m += client.read(&mut cbuf[m..]).unwrap();
            }
        }
    }
    Clock::now() - start
}
