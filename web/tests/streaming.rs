//! Streamed request bodies over real loopback sockets: a 100 MiB multipart upload to the
//! demo's `POST /upload` parsed in constant memory (a counting allocator in this test binary
//! measures the process's peak heap), flow control (a slow `data_received` stops the client),
//! per-request body limits, early answers from `prepare`, and errors in the middle of a body.

mod common;

#[allow(dead_code)]
#[path = "../examples/demo.rs"]
mod demo;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::Client;
use web::{url, Application, Context, HttpError, RequestHandler, Result};

#[global_allocator]
static GLOBAL: testkit::alloc::Counting = testkit::alloc::Counting;

/// Set by `slow_data_received_pauses_the_client` once its client has been held back.
static SLOW_RELEASE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Counts a streamed body; its first piece waits until the test releases it (at most 20 s):
/// a consumer that stays slow for as long as the test needs, however slowly the client runs.
#[derive(Default)]
struct Slow {
    bytes: u64,
    pieces: u64,
}

impl RequestHandler for Slow {
    const STREAM_REQUEST_BODY: bool = true;

    async fn prepare(&mut self, cx: &mut Context<'_>) -> Result {
        cx.set_max_body_size(1 << 30);
        Ok(())
    }

    async fn data_received(&mut self, _cx: &mut Context<'_>, chunk: &[u8]) -> Result {
        if self.pieces == 0 {
            let deadline = Instant::now() + Duration::from_secs(20);
            while !SLOW_RELEASE.load(Ordering::Acquire) && Instant::now() < deadline {
                reactor::sleep(Duration::from_millis(10)).await;
            }
        }
        self.pieces += 1;
        self.bytes += chunk.len() as u64;
        Ok(())
    }

    async fn post(&mut self, cx: &mut Context<'_>) -> Result {
        cx.write(format!("{} bytes in {} pieces", self.bytes, self.pieces));
        Ok(())
    }
}

/// Limits its body to 1,000 bytes; `?deny=1` answers 401 from `prepare`; a body containing
/// `boom` is a 400 from `data_received`.
#[derive(Default)]
struct Guarded {
    bytes: usize,
}

impl RequestHandler for Guarded {
    const STREAM_REQUEST_BODY: bool = true;

    async fn prepare(&mut self, cx: &mut Context<'_>) -> Result {
        cx.set_max_body_size(1000);
        if cx.get_query_argument("deny", Some(""))? == "1" {
            return Err(HttpError::new(401));
        }
        Ok(())
    }

    async fn data_received(&mut self, _cx: &mut Context<'_>, chunk: &[u8]) -> Result {
        if chunk.windows(4).any(|w| w == b"boom") {
            return Err(HttpError::bad_request("boom in the body"));
        }
        self.bytes += chunk.len();
        Ok(())
    }

    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        cx.write(format!("get, body {}", cx.request().body().len()));
        Ok(())
    }

    async fn post(&mut self, cx: &mut Context<'_>) -> Result {
        cx.write(format!(
            "got {} (buffered {})",
            self.bytes,
            cx.request().body().len()
        ));
        Ok(())
    }
}

fn addr() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        common::serve(|| {
            let mut routes = demo::routes();
            routes.push(url::<Slow>("/slow"));
            routes.push(url::<Guarded>("/guarded"));
            Application::new(routes)
        })
    })
}

const BOUNDARY: &str = "----streaming-test-boundary-7MA4YWxkTrZu0gW";

/// Sends a multipart body of the given (name, filename, size) parts, generated on the fly in
/// 64 KiB pieces (the client never holds the body). Returns the response body and the bytes
/// sent.
fn upload(parts: &[(&str, Option<&str>, u64)], chunked: bool) -> (u16, serde_json::Value, u64) {
    let mut heads = Vec::new();
    let mut total = 0u64;
    for (i, (name, filename, size)) in parts.iter().enumerate() {
        let mut h = String::new();
        if i > 0 {
            h.push_str("\r\n");
        }
        h.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\""
        ));
        if let Some(f) = filename {
            h.push_str(&format!(
                "; filename=\"{f}\"\r\nContent-Type: application/octet-stream"
            ));
        }
        h.push_str("\r\n\r\n");
        total += h.len() as u64 + size;
        heads.push(h);
    }
    let tail = format!("\r\n--{BOUNDARY}--\r\n");
    total += tail.len() as u64;

    let mut s = TcpStream::connect(addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let framing = if chunked {
        "Transfer-Encoding: chunked".to_owned()
    } else {
        format!("Content-Length: {total}")
    };
    write!(
        s,
        "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n{framing}\r\n\r\n"
    )
    .unwrap();
    let send = |s: &mut TcpStream, data: &[u8]| {
        if chunked {
            write!(s, "{:x}\r\n", data.len()).unwrap();
            s.write_all(data).unwrap();
            s.write_all(b"\r\n").unwrap();
        } else {
            s.write_all(data).unwrap();
        }
    };
    // Content that contains near-boundaries, to keep the parser honest.
    let mut piece = vec![b'x'; 64 * 1024];
    let fake = format!("\r\n--{}", &BOUNDARY[..BOUNDARY.len() - 1]);
    piece[1000..1000 + fake.len()].copy_from_slice(fake.as_bytes());
    for ((_, _, size), head) in parts.iter().zip(&heads) {
        send(&mut s, head.as_bytes());
        let mut left = *size;
        while left > 0 {
            let n = left.min(piece.len() as u64) as usize;
            send(&mut s, &piece[..n]);
            left -= n as u64;
        }
    }
    send(&mut s, tail.as_bytes());
    if chunked {
        s.write_all(b"0\r\n\r\n").unwrap();
    }
    let mut c = Client::from_stream(s);
    let r = c.read_response(false);
    let json = serde_json::from_slice(&r.body).unwrap_or(serde_json::Value::Null);
    (r.status, json, total)
}

#[test]
fn a_100_mib_multipart_upload_in_constant_memory() {
    let _ = addr();
    testkit::alloc::reset_peak();
    let baseline = testkit::alloc::peak_bytes() as usize;
    let started = Instant::now();
    let parts = [
        ("title", None, 11),
        ("file", Some("big.bin"), 100 * 1024 * 1024),
        ("second", Some("small.txt"), 70_000),
    ];
    let (status, json, total) = upload(&parts, false);
    let peak = (testkit::alloc::peak_bytes() as usize).saturating_sub(baseline);
    eprintln!(
        "100 MiB multipart upload: {:?}, peak heap growth {} KiB (client and server)",
        started.elapsed(),
        peak / 1024
    );
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["total_bytes"], total);
    let got = json["parts"].as_array().unwrap();
    assert_eq!(got.len(), 3);
    for (g, (name, filename, size)) in got.iter().zip(parts) {
        assert_eq!(g["name"], name);
        assert_eq!(g["filename"], serde_json::json!(filename));
        assert_eq!(g["size"], size);
    }
    assert!(
        peak < 2 * 1024 * 1024,
        "peak heap growth {peak} bytes for a 100 MiB upload"
    );
}

#[test]
fn chunked_upload_and_malformed_bodies() {
    let (status, json, _) = upload(&[("a", None, 5), ("f", Some("x.bin"), 200_000)], true);
    assert_eq!(status, 200);
    assert_eq!(json["parts"][1]["size"], 200_000);
    // No closing boundary: 400 at the end.
    let mut c = Client::connect(addr());
    let body = format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nxx");
    let r = c.request(
        "POST",
        "/upload",
        &format!("Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"),
        body.as_bytes(),
    );
    assert_eq!(r.status, 400);
    // Not multipart at all: 400 from prepare.
    let r =
        Client::connect(addr()).request("POST", "/upload", "Content-Type: text/plain\r\n", b"hi");
    assert_eq!(r.status, 400);
}

#[test]
fn slow_data_received_pauses_the_client() {
    let _ = addr();
    let mut s = TcpStream::connect(addr()).unwrap();
    let total: usize = 48 * 1024 * 1024;
    write!(
        s,
        "POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: {total}\r\n\r\n"
    )
    .unwrap();
    s.set_write_timeout(Some(Duration::from_millis(150)))
        .unwrap();
    let piece = vec![b'z'; 256 * 1024];
    let mut sent = 0;
    let mut blocked_at = None;
    while sent < total {
        let n = (total - sent).min(piece.len());
        match s.write(&piece[..n]) {
            Ok(k) => sent += k,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                blocked_at.get_or_insert(sent);
                SLOW_RELEASE.store(true, Ordering::Release);
                s.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
            }
            Err(e) => panic!("{e}"),
        }
    }
    let blocked_at = blocked_at.expect("the client was never held back");
    eprintln!("client held back after {} KiB of 48 MiB", blocked_at / 1024);
    assert!(blocked_at < total / 2);
    let mut c = Client::from_stream(s);
    let r = c.read_response(false);
    assert_eq!(r.status, 200);
    assert!(
        r.text().starts_with(&format!("{total} bytes in ")),
        "{}",
        r.text()
    );
}

#[test]
fn per_request_body_limit() {
    let mut c = Client::connect(addr());
    let r = c.request("POST", "/guarded", "", &[b'a'; 1000]);
    assert_eq!((r.status, r.text()), (200, "got 1000 (buffered 0)"));
    // Over the handler's limit: 413, declared up front...
    let r = Client::connect(addr()).request("POST", "/guarded", "", &[b'a'; 1001]);
    assert_eq!(r.status, 413);
    // ...or discovered while reading a chunked body.
    let mut c = Client::connect(addr());
    c.send(b"POST /guarded HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for _ in 0..3 {
        c.send(b"200\r\n");
        c.send(&[b'b'; 0x200]);
        c.send(b"\r\n");
    }
    c.send(b"0\r\n\r\n");
    assert_eq!(c.read_response(false).status, 413);
    // The demo's upload accepts more than the connection default (100 MiB) was tested above.
}

#[test]
fn prepare_answers_before_the_body() {
    let mut c = Client::connect(addr());
    // The head alone is answered; the body is never read (and not waited for).
    c.send(b"POST /guarded?deny=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n");
    let r = c.read_response(false);
    assert_eq!(r.status, 401);
    // With Expect: 100-continue, no 100 is sent either.
    let mut c = Client::connect(addr());
    c.send(b"POST /guarded?deny=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\nExpect: 100-continue\r\n\r\n");
    let r = c.read_response(false);
    assert_eq!(r.status, 401);
}

#[test]
fn errors_in_the_middle_of_the_body() {
    let mut c = Client::connect(addr());
    let mut body = vec![b'a'; 900];
    body[500..504].copy_from_slice(b"boom");
    let r = c.request("POST", "/guarded", "", &body);
    assert_eq!(r.status, 400);
    // The connection goes on.
    let r = c.request("POST", "/guarded", "", b"fine");
    assert_eq!((r.status, r.text()), (200, "got 4 (buffered 0)"));
    // A request without a body takes the ordinary path.
    assert_eq!(c.get("/guarded").text(), "get, body 0");
}

#[test]
fn the_demo_serves_its_own_folder() {
    let mut c = Client::connect(addr());
    let r = c.get("/static/demo.rs");
    assert_eq!(r.status, 200);
    let own = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo.rs")).unwrap();
    assert_eq!(r.body, own);
    assert_eq!(c.get("/static/../Cargo.toml").status, 403);
    assert_eq!(c.get("/static/nope.rs").status, 404);
}
