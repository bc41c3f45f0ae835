//! Test harness: a server on its own thread and reactor, a test delegate with routes that
//! exercise each rule, and a raw-bytes client reading with `testkit`'s response parser.
#![allow(dead_code)]

use http1::*;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the server side observed.
#[derive(Default)]
pub struct Stats {
    pub started: AtomicUsize,
    pub finished: AtomicUsize,
    pub connection_closes: AtomicUsize,
    pub server_closes: AtomicUsize,
    pub max_chunk: AtomicUsize,
    pub max_buffer_capacity: AtomicUsize,
    pub max_pending_write: AtomicUsize,
    pub body_bytes: AtomicUsize,
}

fn record_max(a: &AtomicUsize, v: usize) {
    a.fetch_max(v, Relaxed);
}

pub struct TestApp {
    pub stats: Arc<Stats>,
}

pub struct TestMsg {
    stats: Arc<Stats>,
    summary: String,
    path: String,
    query: String,
    body: Vec<u8>,
    body_len: usize,
    chunks: usize,
}

impl HTTPServerConnectionDelegate for TestApp {
    type Message = TestMsg;
    fn start_request(&self, _ctx: &ConnectionContext) -> TestMsg {
        self.stats.started.fetch_add(1, Relaxed);
        TestMsg {
            stats: self.stats.clone(),
            summary: String::new(),
            path: String::new(),
            query: String::new(),
            body: Vec::new(),
            body_len: 0,
            chunks: 0,
        }
    }
    fn on_close(&self, _ctx: &ConnectionContext) {
        self.stats.server_closes.fetch_add(1, Relaxed);
    }
}

fn observe(stats: &Stats, conn: &HTTP1Connection<'_>) {
    record_max(&stats.max_buffer_capacity, conn.stream().buffer_capacity());
    record_max(
        &stats.max_pending_write,
        conn.stream().pending_write_bytes(),
    );
}

impl HTTPMessageDelegate for TestMsg {
    async fn headers_received(&mut self, head: &RequestHead<'_>, conn: &mut HTTP1Connection<'_>) {
        self.path = head.path.to_owned();
        self.query = head.query.to_owned();
        self.summary = format!(
            "{} {} q={} host={} ip={} proto={} v={} xcce={}",
            head.method,
            head.path,
            head.query,
            head.host,
            head.remote_ip.map(|i| i.to_string()).unwrap_or_default(),
            head.protocol,
            head.version,
            head.headers
                .get("X-Consumed-Content-Encoding")
                .unwrap_or("-"),
        );
        match head.path {
            "/early" => {
                let h = HeaderBlock::from_lines("Content-Length: 6\r\n");
                let _ = conn
                    .write_headers(
                        ResponseStartLine {
                            code: 401,
                            reason: "",
                        },
                        &h,
                        Some(b"denied"),
                    )
                    .await;
                let _ = conn.finish().await;
            }
            "/limit" => conn.set_max_body_size(10),
            _ => {}
        }
    }

    async fn data_received(&mut self, chunk: &[u8], conn: &mut HTTP1Connection<'_>) {
        self.chunks += 1;
        self.body_len += chunk.len();
        self.stats.body_bytes.fetch_add(chunk.len(), Relaxed);
        record_max(&self.stats.max_chunk, chunk.len());
        observe(&self.stats, conn);
        if self.path == "/echo" {
            self.body.extend_from_slice(chunk);
        }
    }

    async fn finish(&mut self, conn: &mut HTTP1Connection<'_>) {
        observe(&self.stats, conn);
        let ok = ResponseStartLine::OK;
        match self.path.as_str() {
            "/early" => {}
            "/echo" => {
                let len = self.body.len().to_string();
                let mut h = HeaderBlock::new();
                h.push("Content-Length", len).unwrap();
                let _ = conn.write_headers(ok, &h, Some(&self.body)).await;
                let _ = conn.finish().await;
            }
            "/chunked" => {
                let _ = conn
                    .write_headers(ok, &HeaderBlock::new(), Some(b"one,"))
                    .await;
                let _ = conn.write(b"two,").await;
                let _ = conn.write(b"three").await;
                let _ = conn.finish().await;
            }
            "/big" => {
                let arg = |k: &str| {
                    self.query
                        .split('&')
                        .find_map(|kv| kv.strip_prefix(k)?.strip_prefix('=')?.parse::<usize>().ok())
                };
                let n = arg("n").unwrap_or(1 << 20);
                let piece_len = arg("p").unwrap_or(16 * 1024);
                let mut h = HeaderBlock::new();
                h.push("Content-Length", n.to_string()).unwrap();
                let _ = conn.write_headers(ok, &h, None).await;
                let piece = vec![b'x'; piece_len];
                let mut left = n;
                while left > 0 {
                    let k = left.min(piece.len());
                    if conn.write(&piece[..k]).await.is_err() {
                        return;
                    }
                    observe(&self.stats, conn);
                    left -= k;
                }
                let _ = conn.finish().await;
            }
            "/large" => {
                // Chunked, with pieces above LARGE_WRITE (sent without copying).
                let _ = conn
                    .write_headers(ok, &HeaderBlock::new(), Some(b"start:"))
                    .await;
                for i in 0..3u8 {
                    let piece = vec![b'a' + i; 100_000];
                    if conn.write(&piece).await.is_err() {
                        return;
                    }
                }
                let _ = conn.write(b":end").await;
                let _ = conn.finish().await;
            }
            "/nocontent" => {
                let _ = conn
                    .write_headers(
                        ResponseStartLine {
                            code: 204,
                            reason: "",
                        },
                        &HeaderBlock::new(),
                        None,
                    )
                    .await;
                let _ = conn.finish().await;
            }
            "/wrong-length" => {
                let h = HeaderBlock::from_lines("Content-Length: 10\r\n");
                let _ = conn.write_headers(ok, &h, Some(b"short")).await;
                let _ = conn.finish().await;
            }
            "/too-much" => {
                let h = HeaderBlock::from_lines("Content-Length: 2\r\n");
                let r = conn.write_headers(ok, &h, Some(b"abc")).await;
                assert!(matches!(
                    r,
                    Err(HTTPOutputError::TooMuchData { declared: 2 })
                ));
                let _ = conn.finish().await;
            }
            "/whole" => {
                // Length known: Content-Length added by write_response.
                let h = HeaderBlock::from_lines("Content-Type: text/plain\r\n");
                let _ = conn.write_response(ok, &h, b"all of it").await;
            }
            "/whole-declared" => {
                let h = HeaderBlock::from_lines("Content-Length: 10\r\n");
                let r = conn.write_response(ok, &h, b"short").await;
                assert!(matches!(r, Err(HTTPOutputError::TooLittleData { .. })));
            }
            "/nothing" => {}
            "/slow" => {
                reactor::sleep(Duration::from_millis(50)).await;
                self.respond_summary(conn).await;
            }
            _ => self.respond_summary(conn).await,
        }
        self.stats.finished.fetch_add(1, Relaxed);
    }

    fn on_connection_close(&mut self) {
        self.stats.connection_closes.fetch_add(1, Relaxed);
    }
}

impl TestMsg {
    async fn respond_summary(&mut self, conn: &mut HTTP1Connection<'_>) {
        let body = format!(
            "{} len={} chunks={}",
            self.summary, self.body_len, self.chunks
        );
        let mut h = HeaderBlock::new();
        h.push("Content-Length", body.len().to_string()).unwrap();
        h.push("Content-Type", "text/plain").unwrap();
        let _ = conn
            .write_headers(ResponseStartLine::OK, &h, Some(body.as_bytes()))
            .await;
        let _ = conn.finish().await;
    }
}

/// A server on its own thread; stopped when dropped.
pub struct TestServer {
    pub port: u16,
    pub stats: Arc<Stats>,
    remote: reactor::Remote,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.remote.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub fn start(params: HTTP1ConnectionParameters) -> TestServer {
    let stats = Arc::new(Stats::default());
    let s = stats.clone();
    start_with(params, move || TestApp { stats: s }, stats)
}

pub fn start_with<D: HTTPServerConnectionDelegate>(
    params: HTTP1ConnectionParameters,
    make: impl FnOnce() -> D + Send + 'static,
    stats: Arc<Stats>,
) -> TestServer {
    spawn_server(params, make, stats, None)
}

/// [`start`] on `listener` (one whose socket options the test set).
pub fn start_on(listener: std::net::TcpListener, params: HTTP1ConnectionParameters) -> TestServer {
    let stats = Arc::new(Stats::default());
    let s = stats.clone();
    spawn_server(params, move || TestApp { stats: s }, stats, Some(listener))
}

fn spawn_server<D: HTTPServerConnectionDelegate>(
    params: HTTP1ConnectionParameters,
    make: impl FnOnce() -> D + Send + 'static,
    stats: Arc<Stats>,
    listener: Option<std::net::TcpListener>,
) -> TestServer {
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let reactor = reactor::Reactor::new().unwrap();
        let server = reactor.block_on(async {
            let server = HTTPServer::new(make(), params);
            let port = match listener {
                Some(listener) => {
                    let port = listener.local_addr().unwrap().port();
                    server.add_sockets(vec![listener]).unwrap();
                    port
                }
                None => server.listen(0, Some("127.0.0.1")).unwrap()[0].port(),
            };
            (server, port)
        });
        tx.send((server.1, reactor.remote())).unwrap();
        reactor.run();
        server.0.stop();
    });
    let (port, remote) = rx.recv().unwrap();
    TestServer {
        port,
        stats,
        remote,
        thread: Some(thread),
    }
}

pub fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

pub use testkit::Response;

/// Parses one response from the front of `buf` (`testkit::parse_response`, panicking on a
/// malformed one): Some((response, length)) if complete. `eof`: the connection is closed
/// (close-delimited bodies end there). `head_request`: no body.
pub fn parse_response(buf: &[u8], eof: bool, head_request: bool) -> Option<(Response, usize)> {
    testkit::parse_response(buf, eof, head_request).unwrap_or_else(|why| {
        panic!(
            "malformed response ({why}): {:?}",
            String::from_utf8_lossy(buf)
        )
    })
}

/// Reads until `n` responses are complete (or EOF); returns them and whether EOF was seen.
pub fn read_responses(s: &mut TcpStream, n: usize, head_request: bool) -> (Vec<Response>, bool) {
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let mut eof = false;
    let mut chunk = [0u8; 65536];
    loop {
        while let Some((r, len)) = parse_response(&buf, eof, head_request) {
            out.push(r);
            buf.drain(..len);
            if out.len() == n {
                return (out, eof);
            }
        }
        if eof {
            assert!(
                buf.is_empty(),
                "trailing bytes: {:?}",
                String::from_utf8_lossy(&buf)
            );
            return (out, true);
        }
        match s.read(&mut chunk) {
            Ok(0) => eof = true,
            Ok(k) => buf.extend_from_slice(&chunk[..k]),
            Err(e) => panic!("read failed: {e} after {} responses", out.len()),
        }
    }
}

/// Reads everything until the server closes.
pub fn read_to_close(s: &mut TcpStream) -> (Vec<Response>, bool) {
    read_responses(s, usize::MAX, false)
}

/// Sends `raw` on a fresh connection and reads all responses until the server closes.
pub fn exchange(port: u16, raw: &[u8]) -> Vec<Response> {
    let mut s = connect(port);
    s.write_all(raw).unwrap();
    let (r, eof) = read_to_close(&mut s);
    assert!(eof);
    r
}

/// Sends `raw` on a fresh connection and returns every byte until the server closes, as text:
/// for output the response parser would refuse (a body cut short before the close).
pub fn raw_exchange(port: u16, raw: &[u8]) -> String {
    let mut s = connect(port);
    s.write_all(raw).unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    String::from_utf8_lossy(&all).into_owned()
}

/// True if the server closes the connection within `within`.
pub fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).unwrap();
    let mut b = [0u8; 1024];
    let start = Instant::now();
    loop {
        match s.read(&mut b) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return start.elapsed() < within,
        }
    }
}

pub fn shutdown_write(s: &TcpStream) {
    let _ = s.shutdown(Shutdown::Write);
}
