//! `HTTP1Connection::detach`: after a `101 Switching Protocols` the request loop hands the
//! stream over. Bytes the client sent right behind its request are kept for the new owner,
//! the HTTP header and idle timers no longer apply, the server's `on_close` runs when the
//! owner is done, and a `detach` without a `101` changes nothing.

mod common;
use common::*;
use http1::*;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

/// Answers `101` to `Upgrade: echo` (`200` with `Upgrade: fake`, detaching anyway) and then
/// echoes every byte until the client sends `q`.
struct Upgrader {
    closed: Arc<AtomicUsize>,
}
struct UpgradeMessage {
    upgrade: Option<String>,
}

impl HTTPServerConnectionDelegate for Upgrader {
    type Message = UpgradeMessage;
    fn start_request(&self, _: &ConnectionContext) -> UpgradeMessage {
        UpgradeMessage { upgrade: None }
    }
    fn on_close(&self, _: &ConnectionContext) {
        self.closed.fetch_add(1, SeqCst);
    }
}

fn echo() -> Detached {
    Box::new(|stream| {
        Box::pin(async move {
            while let Ok(n) = stream.fill(1).await {
                let bytes = stream.buffered().to_vec();
                stream.consume(n);
                if bytes.contains(&b'q') || stream.write(&bytes).await.is_err() {
                    break;
                }
            }
        })
    })
}

impl HTTPMessageDelegate for UpgradeMessage {
    async fn headers_received(&mut self, head: &RequestHead<'_>, _: &mut HTTP1Connection<'_>) {
        self.upgrade = head.headers.get("Upgrade").map(str::to_owned);
    }
    async fn finish(&mut self, conn: &mut HTTP1Connection<'_>) {
        static SWITCH: HeaderBlock =
            HeaderBlock::from_lines("Upgrade: echo\r\nConnection: Upgrade\r\n");
        static PLAIN: HeaderBlock = HeaderBlock::from_lines("");
        if self.upgrade.as_deref() == Some("echo") {
            let line = ResponseStartLine {
                code: 101,
                reason: "Switching Protocols",
            };
            conn.write_headers(line, &SWITCH, None).await.unwrap();
            conn.finish().await.unwrap();
        } else {
            conn.write_response(ResponseStartLine::OK, &PLAIN, b"plain")
                .await
                .unwrap();
        }
        conn.detach(echo());
    }
}

fn server(params: HTTP1ConnectionParameters) -> (TestServer, Arc<AtomicUsize>) {
    let closed = Arc::new(AtomicUsize::new(0));
    let c = closed.clone();
    let server = start_with(
        params,
        move || Upgrader { closed: c },
        Arc::new(Stats::default()),
    );
    (server, closed)
}

fn read_until(s: &mut TcpStream, want: &[u8]) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.windows(want.len()).any(|w| w == want) {
        let n = s.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "closed before {want:?}; got {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    got
}

use std::net::TcpStream;

#[test]
fn early_bytes_are_kept_and_http_timers_stop() {
    let params = HTTP1ConnectionParameters {
        header_timeout: Some(Duration::from_millis(200)),
        idle_connection_timeout: Some(Duration::from_millis(200)),
        ..Default::default()
    };
    let (server, closed) = server(params);
    let mut s = connect(server.port);
    // The request and the new protocol's first bytes in one write.
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nearly")
        .unwrap();
    let got = read_until(&mut s, b"early");
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{text}"
    );
    assert!(
        !text.contains("Content-Length") && !text.contains("chunked"),
        "{text}"
    );
    // Past both HTTP timers, the stream is still served.
    std::thread::sleep(Duration::from_millis(600));
    s.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let got = read_until(&mut s, b"GET / HTTP/1.1\r\n\r\n");
    assert_eq!(got, b"GET / HTTP/1.1\r\n\r\n", "bytes, not HTTP");
    assert_eq!(closed.load(SeqCst), 0);
    s.write_all(b"q").unwrap();
    assert!(closed_within(&mut s, Duration::from_secs(5)));
    for _ in 0..100 {
        if closed.load(SeqCst) == 1 {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("on_close did not run after the new owner finished");
}

#[test]
fn detach_without_101_keeps_http() {
    let (server, _) = server(HTTP1ConnectionParameters::default());
    let responses = exchange(
        server.port,
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: fake\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(responses.len(), 2);
    assert!(responses.iter().all(|r| r.status == 200));
}
