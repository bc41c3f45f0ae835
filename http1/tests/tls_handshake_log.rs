//! A TLS handshake that fails is logged once per connection, at debug level (target
//! `http1::tls`): plain HTTP sent to the TLS port and a client that refuses the certificate
//! each make one such line; a connection whose handshake succeeds makes none.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Duration;

use http1::client::testing::run_test;
use http1::client::HTTPClient;
use http1::*;
use iostream::{TlsAcceptor, TlsConnector, TlsServerConfig};

/// Every record logged under `http1::tls`: (level, message).
static RECORDS: Mutex<Vec<(log::Level, String)>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, meta: &log::Metadata<'_>) -> bool {
        meta.target() == "http1::tls"
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let line = record.args().to_string();
            RECORDS.lock().unwrap().push((record.level(), line));
        }
    }
    fn flush(&self) {}
}

struct Hello;
struct HelloMessage;

impl HTTPServerConnectionDelegate for Hello {
    type Message = HelloMessage;
    fn start_request(&self, _: &ConnectionContext) -> HelloMessage {
        HelloMessage
    }
}

impl HTTPMessageDelegate for HelloMessage {
    async fn headers_received(&mut self, _: &RequestHead<'_>, _: &mut HTTP1Connection<'_>) {}

    async fn finish(&mut self, conn: &mut HTTP1Connection<'_>) {
        let _ = conn
            .write_response(ResponseStartLine::OK, &HeaderBlock::new(), b"hello")
            .await;
    }
}

/// Waits until `n` records are logged (the server logs when the connection ends).
fn records_after(n: usize) -> Vec<(log::Level, String)> {
    for _ in 0..200 {
        let records = RECORDS.lock().unwrap().clone();
        if records.len() >= n {
            return records;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    RECORDS.lock().unwrap().clone()
}

#[test]
fn failed_handshakes_are_logged_once_at_debug_level() {
    let Some(certs) = testkit::certs::make() else {
        return;
    };
    log::set_logger(&Capture).unwrap();
    log::set_max_level(log::LevelFilter::Debug);
    let (cert, key) = certs.localhost();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        reactor::Reactor::current().block_on(async move {
            let tls = TlsAcceptor::new(TlsServerConfig::new(&cert, &key)).unwrap();
            let server = HTTPServer::with_tls(Hello, HTTP1ConnectionParameters::default(), tls);
            let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
            tx.send(port).unwrap();
            std::future::pending::<()>().await;
        })
    });
    let port = rx.recv().unwrap();

    // A good handshake and a request: nothing logged.
    let ca = certs.ca();
    run_test(async move {
        let client = HTTPClient::new().with_tls(TlsConnector::with_ca_file(ca).unwrap());
        let r = client
            .fetch(format!("https://localhost:{port}/").as_str())
            .await
            .unwrap();
        assert_eq!(r.text(), "hello");
    });
    std::thread::sleep(Duration::from_millis(200));
    assert!(RECORDS.lock().unwrap().is_empty(), "{:?}", RECORDS.lock());

    // Plain HTTP to the TLS port: answered 400, one debug line.
    let mut plain = TcpStream::connect(("127.0.0.1", port)).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    let _ = plain.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer:?}");
    let records = records_after(1);
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].0, log::Level::Debug);
    assert!(
        records[0].1.starts_with("TLS handshake with 127.0.0.1:"),
        "{records:?}"
    );

    // A client that does not trust the certificate: one more line, still debug.
    run_test(async move {
        let client = HTTPClient::new(); // the public roots: the test CA is unknown
        let err = client
            .fetch(format!("https://localhost:{port}/").as_str())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("TLS"), "{err}");
    });
    let records = records_after(2);
    assert_eq!(records.len(), 2, "{records:?}");
    assert!(records.iter().all(|(level, _)| *level == log::Level::Debug));
}
