//! The client against our own server (`HTTPServer` with a small delegate), through the test
//! helpers of `http1::client::testing`: methods and bodies, chunked responses, streaming and
//! header callbacks, body producers, `Expect: 100-continue`, gzip, redirects, pool reuse,
//! `fetch_blocking`.

use http1::client::testing::{run_test, TestServer};
use http1::client::{BodyWriter, ClientError, HTTPClient, HTTPRequest};
use http1::*;
use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;

#[derive(Default)]
struct App {
    connections: Rc<RefCell<HashSet<u64>>>,
    bodies_received: Rc<RefCell<usize>>,
}

struct Msg {
    conn_id: u64,
    method: String,
    path: String,
    body: Vec<u8>,
    answered: bool,
    bodies_received: Rc<RefCell<usize>>,
}

impl HTTPServerConnectionDelegate for App {
    type Message = Msg;
    fn start_request(&self, ctx: &ConnectionContext) -> Msg {
        self.connections.borrow_mut().insert(ctx.id);
        Msg {
            conn_id: ctx.id,
            method: String::new(),
            path: String::new(),
            body: Vec::new(),
            answered: false,
            bodies_received: self.bodies_received.clone(),
        }
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

async fn respond(conn: &mut HTTP1Connection<'_>, code: u16, headers: &HeaderBlock, body: &[u8]) {
    let line = ResponseStartLine {
        code,
        reason: http1::response::reason_phrase(code),
    };
    let mut h = headers.clone();
    if !h.contains("Content-Length") && code != 204 && code != 304 {
        h.push("Content-Length", body.len().to_string()).unwrap();
    }
    conn.write_headers(line, &h, Some(body)).await.unwrap();
    conn.finish().await.unwrap();
}

impl HTTPMessageDelegate for Msg {
    async fn headers_received(&mut self, head: &RequestHead<'_>, conn: &mut HTTP1Connection<'_>) {
        self.method = head.method.to_owned();
        self.path = head.path.to_owned();
        if self.path == "/reject" {
            self.answered = true;
            respond(conn, 413, &HeaderBlock::new(), b"too big").await;
        }
    }

    async fn data_received(&mut self, chunk: &[u8], _: &mut HTTP1Connection<'_>) {
        *self.bodies_received.borrow_mut() += 1;
        self.body.extend_from_slice(chunk);
    }

    async fn finish(&mut self, conn: &mut HTTP1Connection<'_>) {
        if self.answered {
            return;
        }
        let mut h = HeaderBlock::new();
        match self.path.as_str() {
            "/echo" => {
                h.push("X-Method", self.method.clone()).unwrap();
                let body = std::mem::take(&mut self.body);
                respond(conn, 200, &h, &body).await;
            }
            "/conn" => respond(conn, 200, &h, self.conn_id.to_string().as_bytes()).await,
            "/chunked" => {
                // No Content-Length: the server sends it chunked.
                conn.write_headers(ResponseStartLine::OK, &h, Some(b"one "))
                    .await
                    .unwrap();
                conn.write(b"two ").await.unwrap();
                conn.write(b"three").await.unwrap();
                conn.finish().await.unwrap();
            }
            "/gzip" => {
                h.push("Content-Encoding", "gzip").unwrap();
                respond(conn, 200, &h, &gzip(b"compressed hello")).await;
            }
            "/204" => respond(conn, 204, &h, b"").await,
            "/redirect" => {
                h.push("Location", "/echo").unwrap();
                respond(conn, 302, &h, b"").await;
            }
            _ => respond(conn, 404, &h, b"not found").await,
        }
    }
}

#[test]
fn methods_and_bodies() {
    run_test(async {
        let server = TestServer::start(App::default()).unwrap();
        let r = server.fetch("/echo").await.unwrap();
        assert_eq!(
            (r.code, r.headers.get("X-Method"), r.body.len()),
            (200, Some("GET"), 0)
        );
        let r = server
            .fetch_request(HTTPRequest::new("/echo").method("POST").body("hello"))
            .await
            .unwrap();
        assert_eq!(
            (r.headers.get("X-Method"), r.text().as_ref()),
            (Some("POST"), "hello")
        );
        let big = vec![b'z'; 300_000];
        let r = server
            .fetch_request(HTTPRequest::new("/echo").method("PUT").body(big.clone()))
            .await
            .unwrap();
        assert_eq!(r.body, big);
        let r = server
            .fetch_request(HTTPRequest::new("/echo").method("HEAD"))
            .await
            .unwrap();
        assert_eq!((r.code, r.body.len()), (200, 0));
        let r = server.fetch("/204").await.unwrap();
        assert_eq!((r.code, r.body.len()), (204, 0));
        let r = server.fetch("/missing").await.unwrap();
        assert_eq!((r.code, r.text().as_ref()), (404, "not found"));
        let r = server.fetch("/redirect").await.unwrap();
        assert_eq!((r.code, r.redirects), (200, 1));
        assert_eq!(r.effective_url, server.url("/echo"));
        let r = server.fetch("/gzip").await.unwrap();
        assert_eq!(r.text(), "compressed hello");
        assert_eq!(
            server.client().connections_opened(),
            1,
            "every response above left the connection reusable"
        );
        server.shutdown().await;
    });
}

#[test]
fn one_connection_for_100_requests() {
    let app = App::default();
    let connections = app.connections.clone();
    run_test(async {
        let server = TestServer::start(app).unwrap();
        let mut ids = HashSet::new();
        for _ in 0..100 {
            ids.insert(server.fetch("/conn").await.unwrap().text().into_owned());
        }
        assert_eq!(ids.len(), 1);
        assert_eq!(server.client().connections_opened(), 1);
        server.shutdown().await;
    });
    assert_eq!(
        connections.borrow().len(),
        1,
        "the server saw one connection"
    );
}

#[test]
fn chunked_response_with_streaming_and_header_callbacks() {
    run_test(async {
        let server = TestServer::start(App::default()).unwrap();
        let pieces = Rc::new(RefCell::new(Vec::<Vec<u8>>::new()));
        let head = Rc::new(RefCell::new(None));
        let (p, h) = (pieces.clone(), head.clone());
        let r = server
            .fetch_request(
                HTTPRequest::new("/chunked")
                    .streaming_callback(move |piece| p.borrow_mut().push(piece.to_vec()))
                    .header_callback(move |head| {
                        *h.borrow_mut() = Some((
                            head.code,
                            head.headers.get("Transfer-Encoding").map(str::to_owned),
                        ))
                    }),
            )
            .await
            .unwrap();
        assert!(r.body.is_empty(), "streamed, not collected");
        assert_eq!(pieces.borrow().concat(), b"one two three");
        assert_eq!(*head.borrow(), Some((200, Some("chunked".to_owned()))));
        let r = server.fetch("/chunked").await.unwrap();
        assert_eq!(r.text(), "one two three");
        assert_eq!(server.client().connections_opened(), 1);
        server.shutdown().await;
    });
}

#[test]
fn body_producers_stream_the_request() {
    run_test(async {
        let server = TestServer::start(App::default()).unwrap();
        let producer = |w: BodyWriter| async move {
            for i in 0..5 {
                w.write(format!("piece{i};").as_bytes()).await?;
            }
            Ok(())
        };
        let r = server
            .fetch_request(
                HTTPRequest::new("/echo")
                    .method("POST")
                    .body_producer(producer),
            )
            .await
            .unwrap();
        assert_eq!(r.text(), "piece0;piece1;piece2;piece3;piece4;");
        // With a declared Content-Length instead of chunked.
        let r = server
            .fetch_request(
                HTTPRequest::new("/echo")
                    .method("POST")
                    .header("Content-Length", "35")
                    .body_producer(producer),
            )
            .await
            .unwrap();
        assert_eq!(r.text(), "piece0;piece1;piece2;piece3;piece4;");
        // A producer that breaks its declared length is an error, not a hung request.
        let e = server
            .fetch_request(
                HTTPRequest::new("/echo")
                    .method("POST")
                    .header("Content-Length", "100")
                    .body_producer(producer),
            )
            .await
            .unwrap_err();
        assert!(matches!(e, ClientError::InvalidRequest(_)), "{e:?}");
        server.shutdown().await;
    });
}

#[test]
fn expect_100_continue() {
    let app = App::default();
    let bodies = app.bodies_received.clone();
    run_test(async {
        let server = TestServer::start(app).unwrap();
        let r = server
            .fetch_request(
                HTTPRequest::new("/echo")
                    .method("PUT")
                    .body("sent after 100")
                    .expect_100_continue(true),
            )
            .await
            .unwrap();
        assert_eq!(r.text(), "sent after 100");
        let received = *bodies.borrow();
        // The server refuses in headers_received: no 100, the body is never sent.
        let r = server
            .fetch_request(
                HTTPRequest::new("/reject")
                    .method("PUT")
                    .body(vec![b'x'; 100_000])
                    .expect_100_continue(true),
            )
            .await
            .unwrap();
        assert_eq!((r.code, r.text().as_ref()), (413, "too big"));
        assert_eq!(
            *bodies.borrow(),
            received,
            "no body byte reached the server"
        );
        assert!(
            r.timing.total < http1::client::EXPECT_CONTINUE_WAIT,
            "answered without waiting"
        );
        server.shutdown().await;
    });
}

#[test]
fn shut_down_server_refuses() {
    run_test(async {
        let server = TestServer::start(App::default()).unwrap();
        let url = server.url("/echo");
        assert_eq!(server.fetch("/echo").await.unwrap().code, 200);
        server.shutdown().await;
        let e = HTTPClient::new().fetch(url).await.unwrap_err();
        assert!(matches!(e, ClientError::ConnectionRefused { .. }), "{e:?}");
    });
}

#[test]
fn fetch_blocking_runs_its_own_reactor() {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        reactor::Reactor::new().unwrap().block_on(async move {
            let server = HTTPServer::new(App::default(), HTTP1ConnectionParameters::default());
            let addr = server.listen(0, Some("127.0.0.1")).unwrap()[0];
            tx.send(addr.port()).unwrap();
            std::future::pending::<()>().await
        })
    });
    let port = rx.recv().unwrap();
    let r = http1::client::fetch_blocking(format!("http://127.0.0.1:{port}/echo")).unwrap();
    assert_eq!((r.code, r.headers.get("X-Method")), (200, Some("GET")));
    let client = http1::client::BlockingHTTPClient::new().unwrap();
    for _ in 0..3 {
        let r = client
            .fetch(
                HTTPRequest::new(format!("http://127.0.0.1:{port}/echo"))
                    .method("POST")
                    .body("b"),
            )
            .unwrap();
        assert_eq!(r.text(), "b");
    }
    let e = http1::client::fetch_blocking(format!("http://127.0.0.1:{port}/missing")).unwrap_err();
    assert_eq!(e.code(), Some(404));
}
