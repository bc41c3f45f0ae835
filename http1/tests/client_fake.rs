//! The client against raw-socket fake servers: framing (Content-Length, chunked with
//! trailers, close-delimited, HEAD/204/304), 1xx, redirects, pooled connections the server
//! closed, each timeout, malformed and smuggling-style responses, limits, gzip.

mod client_support;

use client_support::{fake, fixed, fixed_close, run, send, Next};
use http1::client::{ClientError, HTTPClient, HTTPRequest, Phase, TimeoutKind};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

#[test]
fn one_connection_for_100_sequential_requests() {
    let server = fixed(OK);
    run(async {
        let client = HTTPClient::new();
        for i in 0..100 {
            let r = client.fetch(server.url(&format!("/{i}"))).await.unwrap();
            assert_eq!((r.code, &r.body[..]), (200, &b"ok"[..]));
            assert_eq!(r.reused_connection, i > 0);
        }
        assert_eq!(client.connections_opened(), 1);
    });
    assert_eq!(server.accepts(), 1, "one TCP connection accepted");
    let seen = server.seen();
    assert_eq!(seen.len(), 100);
    assert_eq!(seen[99].request_line(), "GET /99 HTTP/1.1");
    assert_eq!(
        seen[0].header("Host").unwrap(),
        format!("127.0.0.1:{}", server.port)
    );
}

#[test]
fn chunked_body_with_trailers() {
    let server = fixed(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
          5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: yes\r\nX-Other: 1\r\n\r\n",
    );
    run(async {
        let client = HTTPClient::new();
        for _ in 0..2 {
            let r = client.fetch(server.url("/")).await.unwrap();
            assert_eq!(r.text(), "hello world");
        }
    });
    assert_eq!(
        server.accepts(),
        1,
        "the trailers were consumed: the connection is reused"
    );
}

#[test]
fn informational_responses_are_skipped() {
    let server = fixed(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n\
          HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    );
    run(async {
        let r = HTTPClient::new().fetch(server.url("/")).await.unwrap();
        assert_eq!((r.code, r.text().as_ref()), (200, "ok"));
        assert!(!r.headers.contains("Link"));
    });
}

#[test]
fn head_204_304_have_no_body() {
    let server = fake(|s, req, _| {
        let line = req.request_line().to_owned();
        let resp: &[u8] = if line.starts_with("HEAD") {
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
        } else if line.contains("/204") {
            b"HTTP/1.1 204 No Content\r\n\r\n"
        } else if line.contains("/304") {
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n"
        } else {
            OK
        };
        send(s, resp);
        Next::KeepOpen
    });
    run(async {
        let client = HTTPClient::new();
        let r = client
            .fetch(HTTPRequest::new(server.url("/")).method("HEAD"))
            .await
            .unwrap();
        assert_eq!((r.code, r.body.len()), (200, 0));
        assert_eq!(r.headers.get("Content-Length"), Some("100"));
        assert_eq!(
            client.fetch(server.url("/after")).await.unwrap().text(),
            "ok"
        );
        let r = client.fetch(server.url("/204")).await.unwrap();
        assert_eq!((r.code, r.body.len()), (204, 0));
        assert_eq!(
            client.fetch(server.url("/after")).await.unwrap().text(),
            "ok"
        );
        let r = client
            .fetch(HTTPRequest::new(server.url("/304")).raise_error(false))
            .await
            .unwrap();
        assert_eq!((r.code, r.body.len()), (304, 0));
        assert_eq!(
            client.fetch(server.url("/after")).await.unwrap().text(),
            "ok"
        );
    });
    assert_eq!(server.accepts(), 1);
}

#[test]
fn close_delimited_body() {
    let server = fixed_close(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end");
    run(async {
        let client = HTTPClient::new();
        for _ in 0..2 {
            assert_eq!(
                client.fetch(server.url("/")).await.unwrap().text(),
                "until the end"
            );
        }
    });
    assert_eq!(
        server.accepts(),
        2,
        "a close-delimited response ends its connection"
    );
}

/// Redirect routes: `/rel` → `next` (relative), `/next` → body with the method and body
/// seen, `/303`, `/307`, `/loop`, `/cross` → the other server.
fn redirect_server(other_port: Option<u16>) -> client_support::Fake {
    fake(move |s, req, _| {
        let line = req.request_line().to_owned();
        let path = line.split(' ').nth(1).unwrap_or("").to_owned();
        let redirect = |code: &str, to: &str| {
            format!("HTTP/1.1 {code}\r\nLocation: {to}\r\nContent-Length: 4\r\n\r\nmove")
        };
        let resp = match path.as_str() {
            "/a/rel" => redirect("302 Found", "next?x=1"),
            "/303" => redirect("303 See Other", "/a/next"),
            "/302" => redirect("302 Found", "/a/next"),
            "/307" => redirect("307 Temporary Redirect", "/a/next"),
            "/loop" => redirect("302 Found", "/loop"),
            "/same" => redirect("302 Found", "/a/next"),
            "/cross" => redirect(
                "302 Found",
                &format!("http://127.0.0.1:{}/a/next", other_port.unwrap()),
            ),
            _ => {
                let method = line.split(' ').next().unwrap_or("");
                let body = format!("{method} {}", String::from_utf8_lossy(&req.body));
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
            }
        };
        send(s, resp.as_bytes());
        Next::KeepOpen
    })
}

#[test]
fn redirects_are_followed() {
    let server = redirect_server(None);
    run(async {
        let client = HTTPClient::new();
        let headers_seen = Rc::new(RefCell::new(Vec::new()));
        let h = headers_seen.clone();
        let r = client
            .fetch(
                HTTPRequest::new(server.url("/a/rel"))
                    .header_callback(move |head| h.borrow_mut().push(head.code)),
            )
            .await
            .unwrap();
        assert_eq!((r.code, r.text().as_ref(), r.redirects), (200, "GET ", 1));
        assert_eq!(r.effective_url, server.url("/a/next?x=1"));
        assert_eq!(r.request_url, server.url("/a/rel"));
        assert_eq!(
            *headers_seen.borrow(),
            [200],
            "only the final head is reported"
        );

        // 303 and 302-after-POST become GET without body; 307 keeps both.
        for (path, expect) in [("/303", "GET "), ("/302", "GET "), ("/307", "POST data")] {
            let r = client
                .fetch(
                    HTTPRequest::new(server.url(path))
                        .method("POST")
                        .body("data"),
                )
                .await
                .unwrap();
            assert_eq!(r.text(), expect, "{path}");
        }

        // Limits.
        let e = client
            .fetch(HTTPRequest::new(server.url("/loop")).max_redirects(3))
            .await
            .unwrap_err();
        assert!(
            matches!(e, ClientError::TooManyRedirects { max: 3, .. }),
            "{e}"
        );
        assert_eq!(e.code(), Some(302));
        let e = client
            .fetch(HTTPRequest::new(server.url("/loop")).follow_redirects(false))
            .await
            .unwrap_err();
        assert!(matches!(e, ClientError::Http { code: 302, .. }), "{e}");
        let r = client
            .fetch(
                HTTPRequest::new(server.url("/loop"))
                    .follow_redirects(false)
                    .raise_error(false),
            )
            .await
            .unwrap();
        assert_eq!((r.code, r.headers.get("Location")), (302, Some("/loop")));
    });
    let loops = server
        .seen()
        .iter()
        .filter(|s| s.request_line().contains("/loop"))
        .count();
    assert_eq!(
        loops,
        4 + 1 + 1,
        "3 redirects followed, then two single fetches"
    );
    assert_eq!(
        server.accepts(),
        1,
        "redirect bodies are drained: one connection throughout"
    );
}

#[test]
fn credentials_are_dropped_when_the_origin_changes() {
    let other = redirect_server(None);
    let server = redirect_server(Some(other.port));
    run(async {
        let client = HTTPClient::new();
        let request = |path: &str| {
            HTTPRequest::new(server.url(path))
                .header("Authorization", "Bearer secret")
                .header("Cookie", "session=1")
                .header("X-Keep", "kept")
        };
        client.fetch(request("/same")).await.unwrap();
        client.fetch(request("/cross")).await.unwrap();
    });
    let same = server.seen();
    let landed = &same[1];
    assert!(landed.request_line().contains("/a/next"));
    assert_eq!(
        landed.header("Authorization").as_deref(),
        Some("Bearer secret")
    );
    assert_eq!(landed.header("Cookie").as_deref(), Some("session=1"));
    let cross = other.seen();
    assert_eq!(cross.len(), 1);
    assert_eq!(cross[0].header("Authorization"), None);
    assert_eq!(cross[0].header("Cookie"), None);
    assert_eq!(cross[0].header("X-Keep").as_deref(), Some("kept"));
    assert_eq!(
        cross[0].header("Host").unwrap(),
        format!("127.0.0.1:{}", other.port)
    );
}

#[test]
fn a_pooled_connection_the_server_closed_is_not_reused() {
    // The server answers with a keep-alive response, then closes the connection.
    let server = fixed_close(OK);
    run(async {
        let client = HTTPClient::new();
        client.fetch(server.url("/1")).await.unwrap();
        assert_eq!(client.idle_connections(), 1);
        reactor::sleep(Duration::from_millis(100)).await;
        // A POST is never retried: it succeeds only because the closed connection was
        // detected before it was used.
        let r = client
            .fetch(HTTPRequest::new(server.url("/2")).method("POST").body("x"))
            .await
            .unwrap();
        assert!(!r.reused_connection);
        // No pause: detected, or (if the FIN has not been seen yet) retried once.
        for i in 3..6 {
            client.fetch(server.url(&format!("/{i}"))).await.unwrap();
        }
        assert_eq!(client.connections_opened(), 5);
    });
    assert_eq!(server.accepts(), 5);
    assert_eq!(server.seen().len(), 5);
}

#[test]
fn connect_timeout_with_a_full_backlog() {
    // Backlog 0: one connection fills the accept queue; later SYNs are dropped.
    let listener = iostream::bind_sockets(0, Some("127.0.0.1"), 0, false)
        .unwrap()
        .remove(0);
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    while let Ok(s) = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)) {
        fillers.push(s);
        assert!(fillers.len() < 64, "the backlog never filled");
    }
    run(async {
        let t = Instant::now();
        let e = HTTPClient::new()
            .fetch(
                HTTPRequest::new(format!("http://{addr}/"))
                    .connect_timeout(Some(Duration::from_millis(150))),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                ClientError::Timeout {
                    kind: TimeoutKind::Connect,
                    phase: Phase::Connecting,
                    ..
                }
            ),
            "{e}"
        );
        assert!(t.elapsed() < Duration::from_secs(1));
        assert!(e.to_string().contains("connect timeout"), "{e}");
    });
    drop(listener);
}

#[test]
fn request_timeout_while_waiting_and_while_reading() {
    let server = fake(|s, req, _| {
        if req.request_line().contains("/body") {
            send(s, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
        }
        std::thread::sleep(Duration::from_millis(1500));
        Next::Close
    });
    run(async {
        let client = HTTPClient::with_limits(1, Duration::from_secs(60));
        let timed = |path: &str| {
            HTTPRequest::new(server.url(path)).request_timeout(Some(Duration::from_millis(150)))
        };
        let e = client.fetch(timed("/head")).await.unwrap_err();
        assert!(
            matches!(
                e,
                ClientError::Timeout {
                    kind: TimeoutKind::Request,
                    phase: Phase::AwaitingResponse,
                    ..
                }
            ),
            "{e}"
        );
        let e = client.fetch(timed("/body")).await.unwrap_err();
        assert!(
            matches!(
                e,
                ClientError::Timeout {
                    kind: TimeoutKind::Request,
                    phase: Phase::ReadingBody,
                    ..
                }
            ),
            "{e}"
        );
        // With max_clients = 1, a request behind a stalled one times out in the queue.
        let first = reactor::spawn({
            let client = client.clone();
            let url = server.url("/head");
            async move {
                client
                    .fetch(HTTPRequest::new(url).request_timeout(Some(Duration::from_millis(400))))
                    .await
            }
        });
        reactor::yield_now().await;
        let e = client.fetch(timed("/queued")).await.unwrap_err();
        assert!(
            matches!(
                e,
                ClientError::Timeout {
                    phase: Phase::Queued,
                    ..
                }
            ),
            "{e}"
        );
        assert!(first.await.unwrap().is_err());
    });
}

fn expect_protocol_error(response: &'static [u8], what: &str) -> client_support::Fake {
    let server = fixed(response);
    run(async {
        let e = HTTPClient::new().fetch(server.url("/")).await.unwrap_err();
        assert!(matches!(e, ClientError::Protocol(_)), "{what}: {e:?}");
    });
    server
}

#[test]
fn ambiguous_or_malformed_responses_are_errors() {
    for (response, what) in [
        (
            &b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                [..],
            "CL + TE",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
            "differing CL",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "negative CL",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n",
            "CL with space",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
            "bad chunk size",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n\r\n",
            "empty chunk size",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-2\r\nab\r\n0\r\n\r\n",
            "signed chunk size",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nab\r\n0\r\n\r\n",
            "bare LF chunk line",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
            "chunk longer than its size",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            "unsupported coding",
        ),
        (
            b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "TE on 1.0",
        ),
        (b"HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n", "obs-fold"),
        (b"HTTP/1.1 200 OK\r\nX : a\r\n\r\n", "space before colon"),
        (b"HTTP/2 200\r\n\r\n", "version"),
        (b"SSH-2.0-OpenSSH\r\n\r\n", "not HTTP"),
        (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", "101"),
    ] {
        expect_protocol_error(response, what);
    }
}

#[test]
fn overflowing_chunk_size_is_refused() {
    let server =
        fixed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n");
    run(async {
        let e = HTTPClient::new().fetch(server.url("/")).await.unwrap_err();
        assert!(
            matches!(
                e,
                ClientError::Protocol(_) | ClientError::BodyTooLarge { .. }
            ),
            "{e:?}"
        );
    });
}

#[test]
fn a_smuggled_second_response_is_never_read() {
    // CL + TE: a reader trusting Content-Length would see "0\r\n\r\n" as the body and the
    // rest as the next response. We refuse the response and drop the connection.
    let server = fixed(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n\
          HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled",
    );
    run(async {
        let client = HTTPClient::new();
        for _ in 0..2 {
            let e = client.fetch(server.url("/")).await.unwrap_err();
            assert!(matches!(e, ClientError::Protocol(_)), "{e:?}");
        }
        assert_eq!(client.idle_connections(), 0);
    });
    assert_eq!(server.accepts(), 2);

    // Extra bytes after a complete response: the connection is not reused.
    let server = fixed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled");
    run(async {
        let client = HTTPClient::new();
        for _ in 0..2 {
            assert_eq!(client.fetch(server.url("/")).await.unwrap().text(), "ok");
        }
    });
    assert_eq!(server.accepts(), 2);
}

#[test]
fn limits() {
    let big_head = fake(|s, _, _| {
        let mut r = b"HTTP/1.1 200 OK\r\nX-Big: ".to_vec();
        r.extend(std::iter::repeat_n(b'a', 4000));
        r.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
        send(s, &r);
        Next::KeepOpen
    });
    let big_cl = fixed(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
    let big_chunked = fake(|s, _, _| {
        send(s, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        for _ in 0..10 {
            send(s, b"40\r\n");
            send(s, &[b'x'; 64]);
            send(s, b"\r\n");
        }
        send(s, b"0\r\n\r\n");
        Next::KeepOpen
    });
    let big_close = fake(|s, _, _| {
        send(s, b"HTTP/1.1 200 OK\r\n\r\n");
        send(s, &[b'x'; 1000]);
        Next::Close
    });
    run(async {
        let client = HTTPClient::new();
        let e = client
            .fetch(HTTPRequest::new(big_head.url("/")).max_header_size(1024))
            .await
            .unwrap_err();
        assert!(
            matches!(e, ClientError::HeadTooLarge { limit: 1024 }),
            "{e:?}"
        );
        assert!(
            client.fetch(big_head.url("/")).await.is_ok(),
            "fits the default"
        );
        for url in [big_cl.url("/"), big_chunked.url("/"), big_close.url("/")] {
            let e = client
                .fetch(HTTPRequest::new(url.clone()).max_body_size(100))
                .await
                .unwrap_err();
            assert!(
                matches!(e, ClientError::BodyTooLarge { limit: 100 }),
                "{url}: {e:?}"
            );
        }
    });
}

#[test]
fn closed_connections_say_when() {
    let truncated = fixed_close(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    let silent = fake(|_, _, _| Next::Close);
    run(async {
        let client = HTTPClient::new();
        let e = client.fetch(truncated.url("/")).await.unwrap_err();
        assert!(
            matches!(
                e,
                ClientError::ConnectionClosed {
                    phase: Phase::ReadingBody,
                    ..
                }
            ),
            "{e:?}"
        );
        let e = client.fetch(silent.url("/")).await.unwrap_err();
        assert!(
            matches!(
                e,
                ClientError::ConnectionClosed {
                    phase: Phase::AwaitingResponse,
                    ..
                }
            ),
            "{e:?}"
        );
    });
}

#[test]
fn connect_errors_say_what_happened() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    run(async {
        let client = HTTPClient::new();
        let e = client
            .fetch(format!("http://127.0.0.1:{port}/"))
            .await
            .unwrap_err();
        assert!(matches!(e, ClientError::ConnectionRefused { .. }), "{e:?}");
        let e = client
            .fetch("http://no-such-host.invalid/")
            .await
            .unwrap_err();
        assert!(matches!(e, ClientError::Dns { .. }), "{e:?}");
        let e = client.fetch("ftp://127.0.0.1/").await.unwrap_err();
        assert!(matches!(e, ClientError::UnsupportedScheme { .. }), "{e:?}");
        let e = client.fetch("not a url").await.unwrap_err();
        assert!(matches!(e, ClientError::InvalidUrl { .. }), "{e:?}");
        let e = client
            .fetch(
                HTTPRequest::new(format!("http://127.0.0.1:{port}/"))
                    .header("X", "a\r\nInjected: 1"),
            )
            .await
            .unwrap_err();
        assert!(matches!(e, ClientError::InvalidRequest(_)), "{e:?}");
    });
}

#[test]
fn status_errors_and_raise_error() {
    let server = fixed(b"HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope");
    run(async {
        let client = HTTPClient::new();
        let e = client.fetch(server.url("/")).await.unwrap_err();
        assert_eq!(e.code(), Some(404));
        assert_eq!(e.response().unwrap().text(), "nope");
        assert_eq!(e.to_string(), "HTTP 404: Not Found");
        let r = client
            .fetch(HTTPRequest::new(server.url("/")).raise_error(false))
            .await
            .unwrap();
        assert_eq!((r.code, r.reason.as_str()), (404, "Not Found"));
    });
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn gzip_responses_are_decompressed_within_the_limit() {
    let small = Arc::new(gzip(&b"hello gzip ".repeat(100)));
    let bomb = Arc::new(gzip(&vec![0u8; 1 << 20]));
    let server = fake(move |s, req, _| {
        let body = if req.request_line().contains("bomb") {
            &bomb
        } else {
            &small
        };
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        send(s, head.as_bytes());
        send(s, body);
        Next::KeepOpen
    });
    run(async {
        let client = HTTPClient::new();
        let r = client.fetch(server.url("/")).await.unwrap();
        assert_eq!(r.body, b"hello gzip ".repeat(100));
        assert_eq!(r.headers.get("Content-Encoding"), None);
        assert_eq!(r.headers.get("X-Consumed-Content-Encoding"), Some("gzip"));
        let r = client
            .fetch(HTTPRequest::new(server.url("/")).decompress_response(false))
            .await
            .unwrap();
        assert_eq!(r.body[..2], [0x1f, 0x8b]);
        let e = client
            .fetch(HTTPRequest::new(server.url("/bomb")).max_body_size(100_000))
            .await
            .unwrap_err();
        assert!(
            matches!(e, ClientError::BodyTooLarge { limit: 100_000 }),
            "{e:?}"
        );
    });
    let seen = server.seen();
    assert_eq!(seen[0].header("Accept-Encoding").as_deref(), Some("gzip"));
    assert_eq!(seen[1].header("Accept-Encoding"), None);
}

#[test]
fn max_clients_queue_is_fifo() {
    let active = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (a, p) = (active.clone(), peak.clone());
    let server = fake(move |s, _, _| {
        let now = a.fetch_add(1, Ordering::SeqCst) + 1;
        p.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(20));
        a.fetch_sub(1, Ordering::SeqCst);
        send(s, OK);
        Next::KeepOpen
    });
    run(async {
        for max in [1, 2] {
            let client = HTTPClient::with_limits(max, Duration::from_secs(60));
            let tasks: Vec<_> = (0..6)
                .map(|i| {
                    let (client, url) = (client.clone(), server.url(&format!("/{max}/{i}")));
                    reactor::spawn(async move { client.fetch(url).await })
                })
                .collect();
            for t in tasks {
                assert_eq!(t.await.unwrap().unwrap().code, 200);
            }
            assert_eq!(client.connections_opened(), max as u64);
        }
    });
    assert_eq!(peak.load(Ordering::SeqCst), 2);
    let order: Vec<String> = server
        .seen()
        .iter()
        .map(|s| s.request_line().split(' ').nth(1).unwrap().to_owned())
        .filter(|p| p.starts_with("/1/"))
        .collect();
    assert_eq!(order, ["/1/0", "/1/1", "/1/2", "/1/3", "/1/4", "/1/5"]);
}

#[test]
fn expect_100_continue_waits_for_the_server() {
    let server = fake(|s, req, _| {
        let body = format!("got {}", String::from_utf8_lossy(&req.body));
        send(
            s,
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
        Next::KeepOpen
    });
    run(async {
        let r = HTTPClient::new()
            .fetch(
                HTTPRequest::new(server.url("/"))
                    .method("PUT")
                    .body("payload")
                    .expect_100_continue(true),
            )
            .await
            .unwrap();
        assert_eq!(r.text(), "got payload");
    });
    assert_eq!(
        server.seen()[0].header("Expect").as_deref(),
        Some("100-continue")
    );
}
