//! The `trace` feature across the four layers: one request leaves its whole path in the trace,
//! in order, from the poll that saw it to the `send(2)` of its response.
//! (`cargo test -p web --features trace --test trace`; without the feature there is nothing
//! to test.)
#![cfg(feature = "trace")]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use web::{url, Application, Context, RequestHandler, Result};

#[derive(Default)]
struct Hello;

impl RequestHandler for Hello {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        cx.write("Hello");
        Ok(())
    }
}

#[test]
fn one_request_is_traced_through_every_layer() {
    let reactor = reactor::Reactor::new().unwrap();
    let app = Application::new(vec![url::<Hello>("/")]);
    let (steps, response) = reactor.block_on(async {
        let server = http1::HTTPServer::new(app, web::HTTP1ConnectionParameters::default());
        let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
        let client = std::thread::spawn(move || {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            // Let the connection's task wait for the request (EAGAIN) first.
            std::thread::sleep(Duration::from_millis(50));
            s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut response = String::new();
            s.read_to_string(&mut response).unwrap();
            response
        });
        while !client.is_finished() {
            reactor::sleep(Duration::from_millis(5)).await;
        }
        (reactor::trace::take(), client.join().unwrap())
    });
    assert!(response.ends_with("\r\n\r\nHello"), "{response}");

    let path = [
        ("reactor", "epoll_wait returned"),
        ("reactor", "handler woke the reading task"),
        ("reactor", "task polled"),
        ("iostream", "read(2)"),
        ("http1", "head parsed"),
        ("web", "route matched"),
        ("web", "handler ran (prepare, get, on_finish)"),
        ("http1", "response head buffered"),
        ("http1", "response done"),
        ("iostream", "send(2) called"),
        ("iostream", "send(2) returned"),
    ];
    // The path, in order, within the steps (other tasks' steps may come in between).
    let mut found = steps.iter().map(|s| (s.layer, s.step));
    for want in path {
        assert!(
            found.any(|got| got == want),
            "{want:?} missing (in this order) from {:#?}",
            steps.iter().map(|s| (s.layer, s.step)).collect::<Vec<_>>()
        );
    }
    assert!(steps.windows(2).all(|w| w[0].at <= w[1].at));
}
