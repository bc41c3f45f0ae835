//! The demo server's routes over real loopback sockets (raw requests, framed responses).

mod common;

#[allow(dead_code)]
#[path = "../examples/demo.rs"]
mod demo;

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use common::{Client, JsonBody};

fn addr() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| common::serve(|| web::Application::new(demo::routes())))
}

fn client() -> Client {
    Client::connect(addr())
}

#[test]
fn hello_get_post_head() {
    let mut c = client();
    let r = c.get("/");
    assert_eq!((r.status, r.reason.as_str()), (200, "OK"));
    assert_eq!(r.text(), "Hello, World!");
    assert_eq!(r.header("Content-Type"), Some("text/plain"));
    assert_eq!(r.header("Content-Length"), Some("13"));
    assert!(r.header("Date").is_some());
    let r = c.request("POST", "/", "", b"ignored");
    assert_eq!(r.text(), "Hello, World!");
    let r = c.request("HEAD", "/", "", b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Length"), Some("13"));
    // Nothing follows the HEAD response: the next response starts right away.
    let r = c.get("/");
    assert_eq!(r.text(), "Hello, World!");
    assert!(c.leftover().is_empty());
}

#[test]
fn head_never_gets_a_body() {
    for target in ["/", "/flush", "/nope"] {
        let mut c = client();
        let r = c.request("HEAD", target, "", b"");
        assert!(r.body.is_empty());
        assert!(
            c.extra_bytes(Duration::from_millis(100)).is_empty(),
            "HEAD {target} sent body bytes"
        );
        // The connection is still in sync.
        assert_eq!(c.get("/").text(), "Hello, World!");
    }
}

#[test]
fn not_found_and_method_not_allowed() {
    let mut c = client();
    let r = c.get("/nope");
    assert_eq!(r.status, 404);
    assert_eq!(
        r.text(),
        "<html><title>404: Not Found</title><body>404: Not Found</body></html>"
    );
    assert_eq!(r.header("Content-Type"), Some("text/html; charset=UTF-8"));
    // Anchored at both ends.
    assert_eq!(c.get("/echo/").status, 404);
    assert_eq!(c.get("//").status, 404);
    // Methods a route does not implement, and methods outside the supported set.
    for (method, target) in [
        ("DELETE", "/"),
        ("PUT", "/"),
        ("PATCH", "/"),
        ("OPTIONS", "/"),
        ("POST", "/path/x"),
        ("DELETE", "/echo"),
        ("PUT", "/args"),
        ("POST", "/flush"),
        ("BREW", "/"),
        ("PROPFIND", "/echo"),
    ] {
        let r = c.request(method, target, "", b"");
        assert_eq!(r.status, 405, "{method} {target}");
        assert_eq!(
            r.text(),
            "<html><title>405: Method Not Allowed</title><body>405: Method Not Allowed</body></html>"
        );
    }
    // The connection survives error responses.
    assert_eq!(c.get("/").status, 200);
}

#[test]
fn echo() {
    let mut c = client();
    let body: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    let r = c.request("POST", "/echo", "", &body);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, body);
    assert_eq!(
        c.request("PUT", "/echo", "", b"put body").text(),
        "put body"
    );
    assert_eq!(c.get("/echo").text(), "");
    // A chunked request body.
    c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
    assert_eq!(c.read_response(false).text(), "abcde");
}

#[test]
fn args_query_and_body_merged_sorted() {
    let mut c = client();
    let r = c.request(
        "POST",
        "/args?b=2&a=1&a=%C3%A9&plus=a+b&pct=a%2Bb&empty=&bare",
        "Content-Type: application/x-www-form-urlencoded\r\n",
        b"a=body&z=last&b=%20x",
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("Content-Type"),
        Some("application/json; charset=UTF-8")
    );
    assert_eq!(
        r.text(),
        r#"{"a":["1","é","body"],"b":["2"," x"],"bare":[""],"empty":[""],"pct":["a+b"],"plus":["a b"],"z":["last"]}"#
    );
    // A body that is not a form is not parsed.
    let r = c.request("POST", "/args?q=1", "Content-Type: text/plain\r\n", b"a=1");
    assert_eq!(r.json(), serde_json::json!({"q": ["1"]}));
    // Invalid UTF-8 after decoding is a 400, in the query or the body.
    assert_eq!(c.get("/args?a=%FF").status, 400);
    assert_eq!(c.get("/args?%C3=1").status, 400);
    let r = c.request(
        "POST",
        "/args",
        "Content-Type: application/x-www-form-urlencoded\r\n",
        b"a=%E2%82",
    );
    assert_eq!(r.status, 400);
    // Malformed escapes stay as they are.
    assert_eq!(
        c.get("/args?a=%ZZ&b=%4").json(),
        serde_json::json!({"a": ["%ZZ"], "b": ["%4"]})
    );
}

#[test]
fn args_bounds() {
    let mut c = client();
    let ok = "a=1&".repeat(1000);
    let r = c.get(&format!("/args?{ok}"));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["a"].as_array().unwrap().len(), 1000);
    let too_many = "a=1&".repeat(1001);
    assert_eq!(c.get(&format!("/args?{too_many}")).status, 400);
    let r = c.request(
        "POST",
        "/args",
        "Content-Type: application/x-www-form-urlencoded\r\n",
        too_many.as_bytes(),
    );
    assert_eq!(r.status, 400);
}

fn multipart(parts: usize) -> Vec<u8> {
    let mut body = Vec::new();
    for i in 0..parts {
        body.extend_from_slice(
            format!("--BOUND\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\nv{i}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(b"--BOUND--\r\n");
    body
}

#[test]
fn multipart_fields_and_bounds() {
    let mut c = client();
    let ctype = "Content-Type: multipart/form-data; boundary=BOUND\r\n";
    let r = c.request("POST", "/args", ctype, &multipart(2));
    assert_eq!(r.json(), serde_json::json!({"f0": ["v0"], "f1": ["v1"]}));
    assert_eq!(
        c.request("POST", "/args", ctype, &multipart(100)).status,
        200
    );
    assert_eq!(
        c.request("POST", "/args", ctype, &multipart(101)).status,
        400
    );
    // No final boundary; no boundary parameter.
    let mut cut = multipart(1);
    cut.truncate(cut.len() - 11);
    assert_eq!(c.request("POST", "/args", ctype, &cut).status, 400);
    let r = c.request(
        "POST",
        "/args",
        "Content-Type: multipart/form-data\r\n",
        &multipart(1),
    );
    assert_eq!(r.status, 400);
}

#[test]
fn path_groups_decoded_plus_kept() {
    let mut c = client();
    let r = c.get("/path/a%2Fb+c%20d/%E2%82%AC");
    assert_eq!(
        r.json(),
        serde_json::json!({"path": "/path/a%2Fb+c%20d/%E2%82%AC", "arg": "a/b+c d/€"})
    );
    assert_eq!(c.get("/path/").json()["arg"], "");
    // Not UTF-8 once decoded: 400.
    assert_eq!(c.get("/path/%FF").status, 400);
    // The query is not part of the path.
    assert_eq!(c.get("/path/x?y=1").json()["arg"], "x");
}

#[test]
fn status_route() {
    let mut c = client();
    for code in [200u16, 201, 299, 301, 404, 418, 500, 503, 599] {
        let r = c.get(&format!("/status/{code}"));
        assert_eq!(r.status, code);
        assert_eq!(r.text(), format!("status {code}"));
    }
    for code in [204u16, 304] {
        let r = c.get(&format!("/status/{code}"));
        assert_eq!(r.status, code);
        assert!(r.header("Content-Length").is_none());
        assert!(c.extra_bytes(Duration::from_millis(50)).is_empty());
    }
    assert_eq!(c.get("/status/99").status, 400);
    assert_eq!(c.get("/status/abc").status, 404);
    assert_eq!(c.get("/").status, 200);
}

#[test]
fn flush_is_chunked_on_http11() {
    let mut c = client();
    let r = c.get("/flush");
    assert_eq!(r.status, 200);
    assert!(r.chunked);
    assert!(r.header("Content-Length").is_none());
    assert_eq!(r.text(), "Hello world");
    // Keep-alive survives.
    assert_eq!(c.get("/").text(), "Hello, World!");
}

#[test]
fn flush_is_close_delimited_on_http10() {
    let mut c = client();
    c.send(b"GET /flush HTTP/1.0\r\n\r\n");
    let r = c.read_response(false);
    assert_eq!(r.status, 200);
    assert!(!r.chunked);
    assert!(r.header("Transfer-Encoding").is_none());
    assert!(r.header("Content-Length").is_none());
    assert_eq!(r.text(), "Hello world");
    // HTTP/1.0 keep-alive with a flushed body still cannot be length-framed: closed.
    let mut c = client();
    c.send(b"GET /flush HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_eq!(c.read_response(false).text(), "Hello world");
    // A non-flushed response on 1.0 is Content-Length framed.
    let mut c = client();
    c.send(b"GET / HTTP/1.0\r\n\r\n");
    let r = c.read_response(false);
    assert_eq!(r.header("Content-Length"), Some("13"));
}

#[test]
fn sleep_waits_on_the_timer() {
    let mut c = client();
    let start = std::time::Instant::now();
    let r = c.get("/sleep?ms=120");
    assert_eq!(r.text(), "slept 120");
    assert!(start.elapsed() >= Duration::from_millis(120));
    // Other connections are served meanwhile: a request sent while the sleeper sleeps is
    // answered before the sleeper is.
    let slow = std::thread::spawn(|| client().get("/sleep?ms=1500").text().to_string());
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(client().get("/").status, 200);
    assert!(!slow.is_finished(), "the sleeper answered first");
    assert_eq!(slow.join().unwrap(), "slept 1500");
    assert_eq!(c.get("/sleep?ms=x").status, 400);
}

#[test]
fn blocking_work_runs_on_the_pool_while_the_loop_serves() {
    let mut c = client();
    let r = c.get("/blocking?ms=50");
    assert_eq!(r.text(), "blocked 50");
    // Four slow blocking requests at once; "/" is still answered at once meanwhile (were the
    // sleep on the loop thread, it would wait behind all of them).
    let slow: Vec<_> = (0..4)
        .map(|_| std::thread::spawn(|| client().get("/blocking?ms=400").text().to_string()))
        .collect();
    std::thread::sleep(Duration::from_millis(50));
    let t = std::time::Instant::now();
    assert_eq!(client().get("/").status, 200);
    assert!(
        t.elapsed() < Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    for s in slow {
        assert_eq!(s.join().unwrap(), "blocked 400");
    }
    assert_eq!(c.get("/blocking?ms=x").status, 400);
}

#[test]
fn panic_is_a_500_and_the_server_goes_on() {
    let mut c = client();
    let r = c.get("/panic");
    assert_eq!(r.status, 500);
    assert_eq!(
        r.text(),
        "<html><title>500: Internal Server Error</title><body>500: Internal Server Error</body></html>"
    );
    // Another connection works, and so does this one.
    assert_eq!(client().get("/").text(), "Hello, World!");
    assert_eq!(c.get("/").text(), "Hello, World!");
}

#[test]
fn etag_and_304() {
    let mut c = client();
    let r = c.get("/");
    let etag = r.header("Etag").unwrap().to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"'));
    for inm in [
        etag.clone(),
        format!("W/{etag}"),
        "*".into(),
        format!("\"x\", {etag}"),
    ] {
        let r = c.request("GET", "/", &format!("If-None-Match: {inm}\r\n"), b"");
        assert_eq!(r.status, 304, "{inm}");
        assert_eq!(r.header("Etag"), Some(etag.as_str()));
        assert!(r.header("Content-Length").is_none());
        assert!(r.header("Content-Type").is_none());
    }
    let r = c.request("GET", "/", "If-None-Match: \"other\"\r\n", b"");
    assert_eq!(r.status, 200);
    // HEAD gets the same tag; POST none.
    assert_eq!(
        c.request("HEAD", "/", "", b"").header("Etag"),
        Some(etag.as_str())
    );
    assert!(c.request("POST", "/", "", b"").header("Etag").is_none());
    // Flushed responses and errors have none.
    assert!(c.get("/flush").header("Etag").is_none());
    assert!(c.get("/nope").header("Etag").is_none());
    assert_eq!(c.get("/").status, 200);
}
