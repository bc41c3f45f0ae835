//! The client over `https://`, and `HTTPServer::with_tls`: our client against our server
//! (keep-alive over one TLS connection, `protocol == "https"` seen by the delegate, a 100 kB
//! body, the pool keeping `http` and `https` apart), against Python's `http.server` wrapped in
//! `ssl`; and the clear errors: an unknown CA, a certificate for another name, a server that
//! does not speak TLS, a CA file that cannot be read.
//!
//! Certificates are made by the `openssl` CLI (`testkit::certs`); Python's test is skipped
//! with "skipped: python3 missing" where it is not installed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

use http1::client::testing::run_test;
use http1::client::{ClientError, HTTPClient, HTTPRequest};
use http1::*;
use iostream::{TlsAcceptor, TlsConnector, TlsServerConfig};

/// Answers `<protocol> <method> <path> <body length>`.
struct Echo;
struct EchoMessage {
    line: String,
    body: usize,
}

impl HTTPServerConnectionDelegate for Echo {
    type Message = EchoMessage;
    fn start_request(&self, _: &ConnectionContext) -> EchoMessage {
        EchoMessage {
            line: String::new(),
            body: 0,
        }
    }
}

impl HTTPMessageDelegate for EchoMessage {
    async fn headers_received(&mut self, head: &RequestHead<'_>, _: &mut HTTP1Connection<'_>) {
        self.line = format!("{} {} {}", head.protocol, head.method, head.path);
    }
    async fn data_received(&mut self, chunk: &[u8], _: &mut HTTP1Connection<'_>) {
        self.body += chunk.len();
    }
    async fn finish(&mut self, conn: &mut HTTP1Connection<'_>) {
        let body = format!("{} {}", self.line, self.body);
        let _ = conn
            .write_headers(
                ResponseStartLine::OK,
                &HeaderBlock::new(),
                Some(body.as_bytes()),
            )
            .await;
        let _ = conn.finish().await;
    }
}

/// Our HTTPS server with `cert`/`key` on 127.0.0.1; its port.
fn https_server(cert: &std::path::Path, key: &std::path::Path) -> (HTTPServer, u16) {
    let tls = TlsAcceptor::new(TlsServerConfig::new(cert, key)).unwrap();
    let server = HTTPServer::with_tls(Echo, HTTP1ConnectionParameters::default(), tls);
    let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
    (server, port)
}

#[test]
fn our_client_and_server_over_tls_keep_alive() {
    let Some(certs) = testkit::certs::make() else {
        return;
    };
    let (cert, key) = certs.localhost();
    run_test(async {
        let (server, port) = https_server(&cert, &key);
        assert!(server.tls().is_some());
        let client = HTTPClient::new().with_tls(TlsConnector::with_ca_file(certs.ca()).unwrap());
        let url = format!("https://localhost:{port}/a");
        let r = client.fetch(url.as_str()).await.unwrap();
        assert_eq!(r.text(), "https GET /a 0");
        let r = client
            .fetch(
                HTTPRequest::new(url.as_str())
                    .method("POST")
                    .body(vec![b'z'; 100_000]),
            )
            .await
            .unwrap();
        assert_eq!(r.text(), "https POST /a 100000");
        // By IP address too (the certificate names 127.0.0.1): another pool key, another
        // connection; then both reused.
        let r = client
            .fetch(format!("https://127.0.0.1:{port}/b"))
            .await
            .unwrap();
        assert_eq!(r.text(), "https GET /b 0");
        assert_eq!(client.connections_opened(), 2, "keep-alive over TLS");
        assert_eq!(client.idle_connections(), 2);
        // Plain http:// to the TLS port is its own pool entry, and the server answers it 400.
        let e = client
            .fetch(format!("http://127.0.0.1:{port}/"))
            .await
            .unwrap_err();
        assert!(matches!(e, ClientError::Http { code: 400, .. }), "{e:?}");
        assert_eq!(client.connections_opened(), 3);
    });
}

#[test]
fn untrusted_certificate_wrong_name_and_not_tls_are_clear_errors() {
    let Some(certs) = testkit::certs::make() else {
        return;
    };
    let (cert, key) = certs.localhost();
    let (second_cert, second_key) = certs.second();
    run_test(async {
        let (_server, port) = https_server(&cert, &key);
        // A CA that did not sign the server's certificate.
        let other_ca = HTTPClient::new().with_tls(TlsConnector::with_ca_file(certs.ca2()).unwrap());
        let e = other_ca
            .fetch(format!("https://localhost:{port}/"))
            .await
            .unwrap_err();
        assert!(matches!(e, ClientError::Tls { .. }), "{e:?}");
        assert!(e.to_string().contains("TLS handshake failed"), "{e}");
        assert!(e.to_string().contains("UnknownIssuer"), "{e}");
        // The built-in roots do not know the test CA either.
        let e = HTTPClient::new()
            .fetch(format!("https://localhost:{port}/"))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("UnknownIssuer"), "{e}");

        // A certificate (trusted) for another name.
        let (_second, second_port) = https_server(&second_cert, &second_key);
        let client = HTTPClient::new().with_tls(TlsConnector::with_ca_file(certs.ca()).unwrap());
        let e = client
            .fetch(format!("https://localhost:{second_port}/"))
            .await
            .unwrap_err();
        assert!(matches!(e, ClientError::Tls { .. }), "{e:?}");
        assert!(e.to_string().contains("not valid for name"), "{e}");
        assert!(
            e.to_string().contains(&format!("localhost:{second_port}")),
            "{e}"
        );
    });

    // A plain HTTP server on the other end: answers the hello with a 400 and closes.
    let plain = TcpListener::bind("127.0.0.1:0").unwrap();
    let plain_port = plain.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut s, _) = plain.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf);
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    });
    run_test(async {
        let e = HTTPClient::new()
            .fetch(
                HTTPRequest::new(format!("https://127.0.0.1:{plain_port}/"))
                    .connect_timeout(Some(Duration::from_secs(3))),
            )
            .await
            .unwrap_err();
        assert!(matches!(e, ClientError::Tls { .. }), "{e:?}");
        assert!(e.to_string().contains("not TLS"), "{e}");
    });
    // A CA file that cannot be read is an error when the connector is made.
    assert!(TlsConnector::with_ca_file(certs.path("missing.pem")).is_err());
}

/// Python's `http.server` behind `ssl`, on a free port it prints.
const PYTHON_SERVER: &str = r#"
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = ("python saw " + self.path).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
"#;

#[test]
fn our_client_against_python_https_server() {
    let Some(certs) = testkit::certs::make() else {
        return;
    };
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("skipped: python3 missing");
        return;
    }
    let (cert, key) = certs.localhost();
    let mut python = Command::new("python3")
        .args(["-c", PYTHON_SERVER])
        .arg(&cert)
        .arg(&key)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(python.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line.trim().parse().expect("python printed its port");
    let result = std::panic::catch_unwind(|| {
        run_test(async {
            let client =
                HTTPClient::new().with_tls(TlsConnector::with_ca_file(certs.ca()).unwrap());
            for path in ["/one", "/two"] {
                let r = client
                    .fetch(format!("https://localhost:{port}{path}"))
                    .await
                    .unwrap();
                assert_eq!(r.text(), format!("python saw {path}"));
            }
            assert_eq!(client.connections_opened(), 1, "keep-alive with Python");
        })
    });
    let _ = python.kill();
    let _ = python.wait();
    result.unwrap();
}
