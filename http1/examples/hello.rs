//! `Hello, World!` at the http1 layer alone: every request gets `200`, `text/plain`,
//! `Hello, World!`. The benchmark server of `../shared/peers/run.sh`.
//!
//! ```text
//! cargo run --release -p http1 --example hello -- --port 8888 [--address 127.0.0.1]
//! ```

use http1::{
    ConnectionContext, HTTP1Connection, HTTP1ConnectionParameters, HTTPMessageDelegate, HTTPServer,
    HTTPServerConnectionDelegate, HeaderBlock, RequestHead, ResponseStartLine,
};

/// The server delegate: one `HelloMessage` per request (a zero-sized value).
struct Hello;

/// The message delegate: ignores the request, answers at `finish`.
struct HelloMessage;

/// The response's fixed headers in wire form, checked at compile time: one copy per response.
static HEADERS: HeaderBlock =
    HeaderBlock::from_lines("Content-Type: text/plain\r\nContent-Length: 13\r\n");

impl HTTPServerConnectionDelegate for Hello {
    type Message = HelloMessage;

    fn start_request(&self, _ctx: &ConnectionContext) -> HelloMessage {
        HelloMessage
    }
}

impl HTTPMessageDelegate for HelloMessage {
    async fn headers_received(&mut self, _head: &RequestHead<'_>, _conn: &mut HTTP1Connection<'_>) {
    }

    async fn finish(&mut self, conn: &mut HTTP1Connection<'_>) {
        let _ = conn
            .write_response(ResponseStartLine::OK, &HEADERS, b"Hello, World!")
            .await;
    }
}

fn main() {
    let mut port: u16 = 8888;
    let mut address: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => port = args.next().and_then(|p| p.parse().ok()).expect("--port N"),
            "--address" => address = args.next(),
            other => match other.parse() {
                Ok(p) => port = p, // a bare port number, as run.sh may append it
                Err(_) => {
                    eprintln!("usage: hello [--port N] [--address ADDR]");
                    std::process::exit(2);
                }
            },
        }
    }
    let reactor = reactor::Reactor::new().expect("reactor");
    reactor.block_on(async {
        let server = HTTPServer::new(Hello, HTTP1ConnectionParameters::default());
        let addrs = server.listen(port, address.as_deref()).expect("listen");
        eprintln!("hello: listening on {addrs:?}");
        std::future::pending::<()>().await
    });
}
