//! `StaticFileHandler` over real loopback sockets: traversal attempts, ranges, conditional
//! requests, HEAD, directories, versioned URLs, and a 64 MiB file sent with `sendfile`
//! compared byte for byte while the process's heap stays bounded (a counting allocator).

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use common::Client;
use web::{url_with, Application, Context, RequestHandler, Settings, StaticFileHandler};

#[global_allocator]
static GLOBAL: testkit::alloc::Counting = testkit::alloc::Counting;

const SECRET: &[u8] = b"TOP-SECRET-OUTSIDE-THE-ROOT";
const DATA_LEN: usize = 200_000;
const BIG_LEN: u64 = 64 * 1024 * 1024;

fn pattern(i: u64) -> u8 {
    (i.wrapping_mul(2_654_435_761) >> 13) as u8
}

struct Fixture {
    addr: SocketAddr,
    root: PathBuf,
}

/// `static_url` for the versioned-URL test.
#[derive(Default)]
struct UrlFor;

impl RequestHandler for UrlFor {
    async fn get(&mut self, cx: &mut Context<'_>) -> web::Result {
        let path = cx.get_argument("path", None)?.to_owned();
        let url = cx.static_url(&path);
        cx.write(url);
        Ok(())
    }
}

/// `send_file` without a Content-Length: 1,000 bytes from offset 5 of data.bin, between two
/// written pieces.
#[derive(Default)]
struct SendPart;

impl RequestHandler for SendPart {
    async fn get(&mut self, cx: &mut Context<'_>) -> web::Result {
        let file = std::fs::File::open(fixture_root().join("data.bin")).unwrap();
        cx.set_header("Content-Type", "application/octet-stream")?;
        cx.write("<");
        cx.send_file(&file, 5, 1000).await?;
        cx.write(">");
        Ok(())
    }
}

fn fixture_root() -> &'static PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        // One fixed folder under Cargo's per-target temp dir, rebuilt by each run: the 64 MiB
        // file is never left behind more than once.
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("web-static-files");
        let _ = std::fs::remove_dir_all(&base);
        base.join("root")
    })
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let root = fixture_root().clone();
        let base = root.parent().unwrap();
        let outside = base.join("outside");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret.txt"), SECRET).unwrap();
        std::fs::write(root.join("hello.txt"), b"Hello, static world!\n").unwrap();
        std::fs::write(root.join("sub/index.html"), b"<h1>index</h1>").unwrap();
        let data: Vec<u8> = (0..DATA_LEN as u64).map(pattern).collect();
        std::fs::write(root.join("data.bin"), &data).unwrap();
        std::os::unix::fs::symlink(outside.join("secret.txt"), root.join("link")).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("linkdir")).unwrap();
        std::os::unix::fs::symlink(root.join("hello.txt"), root.join("alias.txt")).unwrap();
        // The 64 MiB file, written in 1 MiB pieces.
        let big = std::fs::File::create(root.join("big.bin")).unwrap();
        let mut piece = vec![0u8; 1 << 20];
        for m in 0..(BIG_LEN >> 20) {
            for (i, b) in piece.iter_mut().enumerate() {
                *b = pattern((m << 20) + i as u64);
            }
            big.write_all_at(&piece, m << 20).unwrap();
        }
        drop(piece);
        let r = root.clone();
        let addr = common::serve(move || {
            let settings = Settings {
                static_path: Some(r.clone()),
                ..Settings::default()
            };
            Application::with_settings(
                vec![
                    StaticFileHandler::new(&r)
                        .default_filename("index.html")
                        .route("/static/(.*)"),
                    StaticFileHandler::new(&r).route("/nodefault/(.*)"),
                    url_with("/url", || UrlFor),
                    url_with("/part", || SendPart),
                ],
                settings,
            )
        });
        Fixture { addr, root }
    })
}

fn client() -> Client {
    Client::connect(fixture().addr)
}

fn data() -> Vec<u8> {
    std::fs::read(fixture().root.join("data.bin")).unwrap()
}

#[test]
fn traversal_never_leaves_the_root() {
    let attempts = [
        "/static/../outside/secret.txt",
        "/static/%2e%2e/outside/secret.txt",
        "/static/%2E%2E/outside/secret.txt",
        "/static/.%2e/outside/secret.txt",
        "/static/..%2foutside%2fsecret.txt",
        "/static/..%2Foutside/secret.txt",
        "/static/%2e%2e%2foutside%2fsecret.txt",
        "/static/sub/../../outside/secret.txt",
        "/static/sub/%2e%2e/%2e%2e/outside/secret.txt",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/static/..%5coutside%5csecret.txt",
        "/static/%252e%252e/outside/secret.txt",
        "/static/link",
        "/static/linkdir/secret.txt",
        "/static/hello.txt%00.png",
        "/static/./../outside/secret.txt",
        "/nodefault/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    ];
    let mut c = client();
    for target in attempts {
        let r = c.get(target);
        assert!(
            matches!(r.status, 400 | 403 | 404),
            "{target}: {} {}",
            r.status,
            r.text()
        );
        assert!(
            !r.body.windows(SECRET.len()).any(|w| w == SECRET) && !r.text().contains("root:"),
            "{target} leaked"
        );
    }
    // Symlinks out of the root are forbidden, not merely missing.
    assert_eq!(c.get("/static/link").status, 403);
    assert_eq!(c.get("/static/linkdir/secret.txt").status, 403);
    assert_eq!(c.get("/static/%2e%2e/outside/secret.txt").status, 403);
    // A symlink that stays inside is fine.
    let r = c.get("/static/alias.txt");
    assert_eq!((r.status, r.text()), (200, "Hello, static world!\n"));
}

#[test]
fn content_types_and_missing_files() {
    let mut c = client();
    let r = c.get("/static/hello.txt");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some("text/plain"));
    assert_eq!(r.header("Accept-Ranges"), Some("bytes"));
    assert!(r.header("Etag").is_some() && r.header("Last-Modified").is_some());
    assert_eq!(
        c.get("/static/data.bin").header("Content-Type"),
        Some("application/octet-stream")
    );
    assert_eq!(
        c.get("/static/sub/index.html").header("Content-Type"),
        Some("text/html")
    );
    assert_eq!(c.get("/static/missing.txt").status, 404);
    assert_eq!(c.get("/static/sub/missing/").status, 404);
}

#[test]
fn directories() {
    let mut c = client();
    let r = c.get("/static/sub?x=1");
    assert_eq!(r.status, 301);
    assert_eq!(r.header("Location"), Some("/static/sub/?x=1"));
    let r = c.get("/static/sub/");
    assert_eq!((r.status, r.text()), (200, "<h1>index</h1>"));
    assert_eq!(c.get("/nodefault/sub/").status, 403);
}

#[test]
fn whole_file_over_sendfile() {
    let mut c = client();
    let r = c.get("/static/data.bin");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Length"), Some("200000"));
    assert!(!r.chunked);
    assert_eq!(r.body, data());
    // The connection stays usable after a sendfile body.
    assert_eq!(c.get("/static/hello.txt").text(), "Hello, static world!\n");
}

#[test]
fn ranges() {
    let data = data();
    let mut c = client();
    let cases: [(&str, usize, usize); 6] = [
        ("bytes=0-99", 0, 100),                          // first
        ("bytes=1000-1999", 1000, 2000),                 // middle
        ("bytes=-500", DATA_LEN - 500, DATA_LEN),        // suffix
        ("bytes=100000-", 100_000, DATA_LEN),            // open-ended (sendfile: > 64 KiB)
        ("bytes=199999-300000", DATA_LEN - 1, DATA_LEN), // past the end: clamped
        ("bytes=-300000", 0, DATA_LEN),                  // suffix longer than the file
    ];
    for (range, start, end) in cases {
        let r = c.request(
            "GET",
            "/static/data.bin",
            &format!("Range: {range}\r\n"),
            b"",
        );
        assert_eq!(r.status, 206, "{range}");
        assert_eq!(
            r.header("Content-Range").unwrap(),
            format!("bytes {start}-{}/{DATA_LEN}", end - 1),
            "{range}"
        );
        assert_eq!(
            r.header("Content-Length").unwrap(),
            (end - start).to_string()
        );
        assert_eq!(r.body, &data[start..end], "{range}");
    }
    for range in ["bytes=200000-", "bytes=999999-1000000", "bytes=-0"] {
        let r = c.request(
            "GET",
            "/static/data.bin",
            &format!("Range: {range}\r\n"),
            b"",
        );
        assert_eq!(r.status, 416, "{range}");
        assert_eq!(r.header("Content-Range"), Some("bytes */200000"));
        assert!(r.body.is_empty());
    }
    // Several ranges, another unit, garbage: the whole file.
    for range in ["bytes=0-1,5-6", "items=0-5", "bytes=abc"] {
        let r = c.request(
            "GET",
            "/static/data.bin",
            &format!("Range: {range}\r\n"),
            b"",
        );
        assert_eq!((r.status, r.body.len()), (200, DATA_LEN), "{range}");
    }
    // If-Range: the range only while the validator matches.
    let etag = c.get("/static/data.bin").header("Etag").unwrap().to_owned();
    let r = c.request(
        "GET",
        "/static/data.bin",
        &format!("Range: bytes=0-9\r\nIf-Range: {etag}\r\n"),
        b"",
    );
    assert_eq!((r.status, r.body.len()), (206, 10));
    let r = c.request(
        "GET",
        "/static/data.bin",
        "Range: bytes=0-9\r\nIf-Range: \"stale\"\r\n",
        b"",
    );
    assert_eq!((r.status, r.body.len()), (200, DATA_LEN));
    // HEAD of a range: headers only.
    let r = c.request("HEAD", "/static/data.bin", "Range: bytes=10-19\r\n", b"");
    assert_eq!((r.status, r.header("Content-Length")), (206, Some("10")));
    assert_eq!(
        c.get("/static/hello.txt").status,
        200,
        "nothing stray after HEAD"
    );
}

#[test]
fn conditional_requests() {
    let mut c = client();
    let r = c.get("/static/data.bin");
    let etag = r.header("Etag").unwrap().to_owned();
    let last_modified = r.header("Last-Modified").unwrap().to_owned();
    let get = |c: &mut Client, extra: String| c.request("GET", "/static/data.bin", &extra, b"");
    let r = get(&mut c, format!("If-None-Match: {etag}\r\n"));
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty() && r.header("Content-Length").is_none());
    assert_eq!(r.header("Etag"), Some(etag.as_str()));
    assert_eq!(
        get(&mut c, format!("If-None-Match: W/{etag}\r\n")).status,
        304
    );
    assert_eq!(
        get(&mut c, format!("If-None-Match: \"x\", {etag}\r\n")).status,
        304
    );
    assert_eq!(get(&mut c, "If-None-Match: *\r\n".into()).status, 304);
    assert_eq!(
        get(&mut c, "If-None-Match: \"other\"\r\n".into()).status,
        200
    );
    assert_eq!(
        get(&mut c, format!("If-Modified-Since: {last_modified}\r\n")).status,
        304
    );
    let r = get(
        &mut c,
        "If-Modified-Since: Thu, 01 Jan 1998 00:00:00 GMT\r\n".into(),
    );
    assert_eq!((r.status, r.body.len()), (200, DATA_LEN));
    // If-None-Match decides when both are present.
    let r = get(
        &mut c,
        format!("If-None-Match: \"other\"\r\nIf-Modified-Since: {last_modified}\r\n"),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        get(&mut c, "If-Modified-Since: garbage\r\n".into()).status,
        200
    );
}

#[test]
fn head_has_headers_and_no_body() {
    let mut c = client();
    let r = c.request("HEAD", "/static/data.bin", "", b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Length"), Some("200000"));
    assert!(r.header("Etag").is_some());
    assert!(
        c.extra_bytes(Duration::from_millis(100)).is_empty(),
        "no body after HEAD"
    );
    let r = c.request("HEAD", "/static/big.bin", "", b"");
    assert_eq!(
        r.header("Content-Length"),
        Some(BIG_LEN.to_string().as_str())
    );
    assert!(
        c.extra_bytes(Duration::from_millis(100)).is_empty(),
        "no body after HEAD"
    );
    assert_eq!(c.get("/static/hello.txt").status, 200);
}

#[test]
fn versioned_urls_are_cached_long() {
    let mut c = client();
    let url = c.get("/url?path=hello.txt").text().to_owned();
    let v = url.strip_prefix("/static/hello.txt?v=").expect(&url);
    assert_eq!(v.len(), 16);
    assert!(v.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(c.get("/url?path=hello.txt").text(), url, "stable (cached)");
    assert_eq!(c.get("/url?path=nope.txt").text(), "/static/nope.txt");
    let r = c.get(&url);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Cache-Control"), Some("max-age=31536000, public"));
    let expires = httpdate::parse_http_date(r.header("Expires").unwrap()).unwrap();
    let ahead = expires
        .duration_since(std::time::SystemTime::now())
        .unwrap();
    assert!(ahead > Duration::from_secs(364 * 86_400));
    assert!(c.get("/static/hello.txt").header("Cache-Control").is_none());
}

/// Reads a response head from `s`; returns (status, headers) and any body bytes read past it.
fn read_head(s: &mut TcpStream) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8(buf[..i].to_vec()).unwrap();
            let rest = buf[i + 4..].to_vec();
            let mut lines = head.split("\r\n");
            let status = lines
                .next()
                .unwrap()
                .split(' ')
                .nth(1)
                .unwrap()
                .parse()
                .unwrap();
            let headers = lines
                .map(|l| {
                    let (n, v) = l.split_once(':').unwrap();
                    (n.to_ascii_lowercase(), v.trim().to_owned())
                })
                .collect();
            return (status, headers, rest);
        }
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0);
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[test]
fn a_64_mib_file_over_sendfile_in_bounded_memory() {
    let f = fixture();
    let file = std::fs::File::open(f.root.join("big.bin")).unwrap();
    let mut s = TcpStream::connect(f.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    testkit::alloc::reset_peak();
    let baseline = testkit::alloc::peak_bytes() as usize;
    s.write_all(b"GET /static/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (status, headers, first) = read_head(&mut s);
    assert_eq!(status, 200);
    let get = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("content-length"), Some(BIG_LEN.to_string().as_str()));
    assert_eq!(get("transfer-encoding"), None);
    // Compare as it arrives, in 256 KiB pieces: the client holds no more than that.
    let mut got = 0u64;
    let mut expected = vec![0u8; 256 * 1024];
    let mut buf = vec![0u8; 256 * 1024];
    let mut check = |data: &[u8], got: &mut u64| {
        let exp = &mut expected[..data.len()];
        file.read_exact_at(exp, *got).unwrap();
        assert!(exp == data, "bytes differ near offset {got}");
        *got += data.len() as u64;
    };
    check(&first, &mut got);
    while got < BIG_LEN {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "closed after {got} bytes");
        check(&buf[..n], &mut got);
    }
    assert_eq!(got, BIG_LEN);
    let peak = (testkit::alloc::peak_bytes() as usize).saturating_sub(baseline);
    eprintln!(
        "64 MiB over sendfile: peak heap growth {} KiB (client buffers included)",
        peak / 1024
    );
    assert!(peak < 4 * 1024 * 1024, "peak heap growth {peak} bytes");
    // Same connection, next request.
    s.write_all(b"GET /static/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (status, _, _) = read_head(&mut s);
    assert_eq!(status, 200);
}

#[test]
fn send_file_framing_without_a_length() {
    let data = data();
    let mut want = b"<".to_vec();
    want.extend_from_slice(&data[5..1005]);
    want.push(b'>');
    // HTTP/1.1: chunked, keep-alive.
    let mut c = client();
    let r = c.get("/part");
    assert!(r.chunked);
    assert_eq!(r.body, want);
    assert_eq!(c.get("/static/hello.txt").status, 200);
    // HTTP/1.0: close-delimited.
    let mut c = client();
    c.send(b"GET /part HTTP/1.0\r\n\r\n");
    let r = c.read_response(false);
    assert!(!r.chunked && r.header("Content-Length").is_none());
    assert_eq!(r.body, want);
}
