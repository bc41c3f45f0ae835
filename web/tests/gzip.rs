//! `compress_response` over real loopback sockets: which responses are gzipped, `Vary`,
//! `Content-Length` of the compressed body, streaming with `flush()` (each flush decodable on
//! its own), static files, and a round trip through `curl --compressed` when curl is
//! installed (flate2 decodes otherwise, and always in addition).

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::time::Duration;

use common::{Client, Response};
use web::{url, Application, Context, RequestHandler, Result, Settings, StaticFileHandler};

fn text_body() -> String {
    (0..200)
        .map(|i| format!("line {i}: the quick brown fox\n"))
        .collect()
}

/// `/text` (6 KiB text/plain), `/small` (100 bytes), `/png` (2 KiB image/png), `/json`,
/// `/svg`, `/encoded` (already has a Content-Encoding), `/nocontent` (204).
#[derive(Default)]
struct Bodies;

impl RequestHandler for Bodies {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        match cx.request().path() {
            "/text" => {
                cx.set_header("Content-Type", "text/plain; charset=UTF-8")?;
                cx.write(text_body());
            }
            "/small" => {
                cx.set_header("Content-Type", "text/plain")?;
                cx.write("x".repeat(100));
            }
            "/png" => {
                cx.set_header("Content-Type", "image/png")?;
                cx.write(vec![7u8; 2048]);
            }
            "/json" => {
                let v: Vec<_> = (0..300)
                    .map(|i| serde_json::json!({"id": i, "name": "item"}))
                    .collect();
                cx.write_json(&v)?;
            }
            "/svg" => {
                cx.set_header("Content-Type", "image/svg+xml")?;
                cx.set_header("Vary", "Cookie")?;
                cx.write("<svg>".repeat(400));
            }
            "/encoded" => {
                cx.set_header("Content-Type", "text/plain")?;
                cx.set_header("Content-Encoding", "br")?;
                cx.write(vec![b'b'; 4096]);
            }
            _ => {
                cx.set_status(204, None)?;
            }
        }
        Ok(())
    }
}

/// Writes a piece, flushes, waits, writes another, flushes, then a last one.
#[derive(Default)]
struct Stream;

const PIECE_A: &str = "first piece, sent with flush; ";
const PIECE_B: &str = "second piece after a pause; ";
const PIECE_C: &str = "and the end.";

impl RequestHandler for Stream {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        cx.set_header("Content-Type", "text/plain")?;
        cx.write(PIECE_A);
        cx.flush().await?;
        reactor::sleep(Duration::from_millis(100)).await;
        cx.write(PIECE_B);
        cx.flush().await?;
        cx.write(PIECE_C);
        Ok(())
    }
}

fn static_root() -> &'static std::path::Path {
    static ROOT: OnceLock<std::path::PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        // A fixed folder under Cargo's per-target temp dir, rebuilt by each run.
        let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("web-gzip-static");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("page.html"), text_body().repeat(10)).unwrap();
        std::fs::write(dir.join("app.js"), "var x = 1;\n".repeat(20_000)).unwrap();
        std::fs::write(dir.join("huge.txt"), "y".repeat(3 << 20)).unwrap();
        dir
    })
}

fn addr() -> SocketAddr {
    static A: OnceLock<SocketAddr> = OnceLock::new();
    let root = static_root().to_owned();
    *A.get_or_init(|| {
        common::serve(move || {
            let settings = Settings {
                compress_response: true,
                ..Settings::default()
            };
            let mut routes = vec![url::<Stream>("/stream")];
            for p in [
                "/text",
                "/small",
                "/png",
                "/json",
                "/svg",
                "/encoded",
                "/nocontent",
            ] {
                routes.push(url::<Bodies>(p));
            }
            routes.push(StaticFileHandler::new(root).route("/static/(.*)"));
            Application::with_settings(routes, settings)
        })
    })
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn get_gzip(path: &str) -> Response {
    Client::connect(addr()).request("GET", path, "Accept-Encoding: gzip, deflate\r\n", b"")
}

#[test]
fn text_is_compressed_for_clients_that_accept_it() {
    let r = get_gzip("/text");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Encoding"), Some("gzip"));
    assert_eq!(r.header("Vary"), Some("Accept-Encoding"));
    assert_eq!(
        r.header("Content-Length").unwrap(),
        r.body.len().to_string()
    );
    assert!(
        r.body.len() < text_body().len() / 4,
        "{} bytes",
        r.body.len()
    );
    assert_eq!(gunzip(&r.body), text_body().as_bytes());
    // Without Accept-Encoding (or refusing gzip): identity, still Vary.
    for extra in [
        "",
        "Accept-Encoding: identity\r\n",
        "Accept-Encoding: gzip;q=0\r\n",
    ] {
        let r = Client::connect(addr()).request("GET", "/text", extra, b"");
        assert_eq!(r.header("Content-Encoding"), None, "{extra}");
        assert_eq!(r.header("Vary"), Some("Accept-Encoding"));
        assert_eq!(r.body, text_body().as_bytes());
    }
}

#[test]
fn what_is_not_compressed() {
    for path in ["/small", "/png"] {
        let r = get_gzip(path);
        assert_eq!(r.status, 200);
        assert_eq!(r.header("Content-Encoding"), None, "{path}");
        assert_eq!(r.header("Vary"), Some("Accept-Encoding"));
    }
    let r = get_gzip("/encoded");
    assert_eq!(r.header("Content-Encoding"), Some("br"));
    assert_eq!(r.body, vec![b'b'; 4096]);
    let r = get_gzip("/nocontent");
    assert_eq!(r.status, 204);
    assert_eq!(r.header("Content-Encoding"), None);
}

#[test]
fn json_and_svg() {
    let r = get_gzip("/json");
    assert_eq!(r.header("Content-Encoding"), Some("gzip"));
    let v: serde_json::Value = serde_json::from_slice(&gunzip(&r.body)).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 300);
    let r = get_gzip("/svg");
    assert_eq!(r.header("Content-Encoding"), Some("gzip"));
    assert_eq!(r.header("Vary"), Some("Cookie, Accept-Encoding"));
    assert_eq!(gunzip(&r.body), "<svg>".repeat(400).as_bytes());
}

#[test]
fn flushed_responses_are_compressed_as_they_go() {
    let mut s = TcpStream::connect(addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /stream HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n")
        .unwrap();
    let mut c = Client::from_stream(s);
    let r = c.read_response(false);
    assert!(r.chunked);
    assert_eq!(r.header("Content-Encoding"), Some("gzip"));
    assert_eq!(r.header("Content-Length"), None);
    assert_eq!(
        gunzip(&r.body),
        format!("{PIECE_A}{PIECE_B}{PIECE_C}").as_bytes()
    );

    // The first flush alone decodes to the first piece (a gzip sync flush ends each).
    let mut s = TcpStream::connect(addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /stream HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n")
        .unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    // Read until the head and the first chunk (size line, data, CRLF) are in.
    let first = loop {
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0);
        buf.extend_from_slice(&chunk[..n]);
        let Some(h) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let rest = &buf[h + 4..];
        let Some(l) = rest.windows(2).position(|w| w == b"\r\n") else {
            continue;
        };
        let size = usize::from_str_radix(std::str::from_utf8(&rest[..l]).unwrap(), 16).unwrap();
        if rest.len() >= l + 2 + size {
            break rest[l + 2..l + 2 + size].to_vec();
        }
    };
    let mut partial = flate2::write::GzDecoder::new(Vec::new());
    partial.write_all(&first).unwrap();
    partial.flush().unwrap();
    assert_eq!(partial.get_ref().as_slice(), PIECE_A.as_bytes());
}

#[test]
fn static_files_compress_when_small_enough() {
    let r = get_gzip("/static/page.html");
    assert_eq!(r.header("Content-Encoding"), Some("gzip"));
    assert_eq!(gunzip(&r.body), text_body().repeat(10).as_bytes());
    let r = get_gzip("/static/app.js");
    assert_eq!(r.header("Content-Encoding"), Some("gzip"));
    assert_eq!(gunzip(&r.body).len(), 11 * 20_000);
    // Over 1 MiB: sent as it is, with sendfile.
    let r = get_gzip("/static/huge.txt");
    assert_eq!(r.header("Content-Encoding"), None);
    assert_eq!(r.body.len(), 3 << 20);
    // A range is never compressed.
    let r = Client::connect(addr()).request(
        "GET",
        "/static/page.html",
        "Accept-Encoding: gzip\r\nRange: bytes=0-2047\r\n",
        b"",
    );
    assert_eq!(
        (r.status, r.header("Content-Encoding"), r.body.len()),
        (206, None, 2048)
    );
}

#[test]
fn round_trip_with_curl() {
    let curl = std::path::Path::new("/usr/bin/curl");
    if !curl.exists() {
        eprintln!("curl not installed: round trip checked with flate2 only");
        return;
    }
    for (path, expected) in [
        ("/text", text_body()),
        ("/stream", format!("{PIECE_A}{PIECE_B}{PIECE_C}")),
        ("/static/page.html", text_body().repeat(10)),
    ] {
        let out = std::process::Command::new(curl)
            .args(["-s", "--compressed", "-D", "-", "--max-time", "10"])
            .arg(format!("http://{}{path}", addr()))
            .output()
            .unwrap();
        assert!(out.status.success(), "curl {path}: {:?}", out);
        let text = String::from_utf8(out.stdout).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(
            head.to_ascii_lowercase().contains("content-encoding: gzip"),
            "{path}: {head}"
        );
        assert_eq!(body, expected, "{path}");
    }
}
